//! What `summary.json` and `validation.json` say, as typed values: the command line and the page
//! build them with the same functions and write them with serde, so the two files agree key for
//! key and number for number.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ablation::AisScores;
use crate::error::Result;
use crate::selection::FoldResult;
use crate::similarity::Direction;
use crate::stats;

/// Where the human matrix came from (as the user named it) and how it met the images.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct HumanSummary {
    pub file: String,
    pub key: Option<String>,
    pub names: Option<String>,
    pub direction: String,
    pub warnings: Vec<String>,
    pub matching: Vec<String>,
}

impl HumanSummary {
    pub fn new(source: &MatrixSource, warnings: &[String], matching: &[String]) -> HumanSummary {
        HumanSummary {
            file: source.file.clone(),
            key: source.key.clone(),
            names: source.names.clone(),
            direction: match source.direction {
                Direction::Dissimilarity => "dissimilarity (S = −D)",
                Direction::Similarity => "similarity",
            }
            .to_string(),
            warnings: warnings.to_vec(),
            matching: matching.to_vec(),
        }
    }
}

/// The human matrix's file, array key, names file and orientation, as given.
#[derive(Clone, Debug)]
pub struct MatrixSource {
    pub file: String,
    pub key: Option<String>,
    pub names: Option<String>,
    pub direction: Direction,
}

/// The network and its weights.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ModelSummary {
    pub name: String,
    pub classes: usize,
    pub weights: String,
    pub weights_sha256: String,
}

/// One image's 2OI baseline.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ImageBaseline {
    pub image: String,
    pub r: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BaselineSummary {
    pub r: f64,
    pub r2: f64,
    pub per_image: Vec<ImageBaseline>,
}

/// What each score file holds, and the counts a reader should know about.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AisFiles {
    #[serde(rename = "ais_dataset.npy")]
    pub dataset: String,
    #[serde(rename = "ais_dataset_r2.npy")]
    pub dataset_r2: String,
    #[serde(rename = "ais_image.npy")]
    pub image: String,
    pub zero_image_channel_pairs: usize,
    pub undefined_scores: usize,
    pub channels_zero_in_every_image: usize,
}

/// `summary.json` of `alignmap analyze` and of the page's export.
#[derive(Clone, Debug, Serialize)]
pub struct AnalysisSummary {
    pub alignmap_version: String,
    pub n_images: usize,
    pub feature_maps: usize,
    pub baseline: BaselineSummary,
    pub ais: AisFiles,
    pub model: ModelSummary,
    pub human: HumanSummary,
    pub device: String,
    /// Seconds per stage (`decode_seconds`, `network_seconds`, …).
    pub timings: BTreeMap<String, f64>,
}

impl AnalysisSummary {
    pub fn new(
        names: &[String],
        scores: &AisScores,
        model: ModelSummary,
        human: HumanSummary,
        device: &str,
        timings: BTreeMap<String, f64>,
    ) -> AnalysisSummary {
        AnalysisSummary {
            alignmap_version: env!("CARGO_PKG_VERSION").to_string(),
            n_images: scores.n,
            feature_maps: scores.channels,
            baseline: BaselineSummary {
                r: scores.baseline.r,
                r2: scores.baseline.r2,
                per_image: names
                    .iter()
                    .zip(&scores.baseline.per_image)
                    .map(|(image, &r)| ImageBaseline { image: image.clone(), r })
                    .collect(),
            },
            ais: AisFiles {
                dataset: "r − r_k (the paper's ρ)".into(),
                dataset_r2: "r² − r_k² (the authors' code)".into(),
                image: "base_t − r_tk, rows in images.txt order".into(),
                zero_image_channel_pairs: scores.zero_pairs,
                undefined_scores: scores.undefined(),
                channels_zero_in_every_image: scores.skipped_channels,
            },
            model,
            human,
            device: device.to_string(),
            timings,
        }
    }
}

/// Mean and spread of one condition over the folds.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Condition {
    pub mean: f64,
    pub sd: f64,
    pub per_fold: Vec<f64>,
}

impl Condition {
    fn of(per_fold: Vec<f64>) -> Result<Condition> {
        let (mean, sd) = stats::mean_and_sd(&per_fold)?;
        Ok(Condition { mean, sd, per_fold })
    }
}

/// The paired t-test of Retained against Full, or why there is none (every difference equal,
/// e.g. when S* kept every map).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum RetainedVsFull {
    Test { t: f64, df: f64, mean_difference: f64, p_two_sided: f64, p_greater: f64, p_less: f64 },
    Undefined { undefined: String },
}

/// Full vs Retained test 2OI over the folds, in one metric (r or r²).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Comparison {
    pub full: Condition,
    pub retained: Condition,
    /// Loftus–Masson standard error (one for both conditions).
    pub loftus_masson_se: f64,
    /// √(Σ(Retained − Full)² / (n(n − 1))): the formula in the authors' code.
    pub authors_code_se: f64,
    pub paired_t_test_retained_vs_full: RetainedVsFull,
}

impl Comparison {
    pub fn of(full: Vec<f64>, retained: Vec<f64>) -> Result<Comparison> {
        let loftus_masson_se = stats::loftus_masson_se(&[&full, &retained])?;
        let authors_code_se = stats::uncentered_paired_se(&retained, &full)?;
        let paired_t_test_retained_vs_full = match stats::paired_t_test(&retained, &full) {
            Ok(t) => RetainedVsFull::Test {
                t: t.t,
                df: t.df,
                mean_difference: t.mean_difference,
                p_two_sided: t.p_two_sided,
                p_greater: t.p_greater,
                p_less: t.p_less,
            },
            Err(why) => RetainedVsFull::Undefined { undefined: why.to_string() },
        };
        Ok(Comparison {
            full: Condition::of(full)?,
            retained: Condition::of(retained)?,
            loftus_masson_se,
            authors_code_se,
            paired_t_test_retained_vs_full,
        })
    }

    /// The test in one line, as the command line prints it.
    pub fn test_line(&self) -> String {
        match &self.paired_t_test_retained_vs_full {
            RetainedVsFull::Test { t, df, p_two_sided, p_greater, .. } => format!(
                "paired t({df}) = {t:.3}, p = {p_two_sided:.3e} two-sided, {p_greater:.3e} one-sided (Retained > Full)"
            ),
            RetainedVsFull::Undefined { undefined } => format!("no t-test: {undefined}"),
        }
    }
}

/// |S*| over the folds.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SetSize {
    pub mean: f64,
    pub sd: f64,
    pub per_fold: Vec<usize>,
}

/// Aim 1's validation over every fold: Full vs Retained in r and r², and |S*|.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Validation {
    pub r: Comparison,
    pub r2: Comparison,
    pub set_size: SetSize,
}

impl Validation {
    pub fn of(results: &[FoldResult]) -> Result<Validation> {
        let full: Vec<f64> = results.iter().map(FoldResult::full_test_r).collect();
        let retained: Vec<f64> = results.iter().map(FoldResult::retained_test_r).collect();
        let squared = |v: &[f64]| v.iter().map(|r| r * r).collect::<Vec<_>>();
        let per_fold: Vec<usize> = results.iter().map(|f| f.best_m).collect();
        let (mean, sd) =
            stats::mean_and_sd(&per_fold.iter().map(|&m| m as f64).collect::<Vec<_>>())?;
        Ok(Validation {
            r2: Comparison::of(squared(&full), squared(&retained))?,
            r: Comparison::of(full, retained)?,
            set_size: SetSize { mean, sd, per_fold },
        })
    }
}

/// One fold's selection curves: 2OI r with the top m feature maps kept, m = 1…channels.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FoldCurves {
    pub seed: u32,
    /// Counting from 1.
    pub fold: usize,
    pub n_train: usize,
    pub n_test: usize,
    pub set_size: usize,
    pub train_r: Vec<f64>,
    pub test_r: Vec<f64>,
}

/// The page's cross-validation, as its results zip stores it in `summary.json`
/// (`cross_validation`): the protocol, [`Validation`] and every fold's curves.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CrossValidation {
    pub folds: usize,
    pub seeds: Vec<u32>,
    #[serde(flatten)]
    pub validation: Validation,
    pub curves: Vec<FoldCurves>,
    /// Wall-clock seconds of the cross-validation.
    #[serde(default)]
    pub seconds: f64,
}

impl CrossValidation {
    pub fn of(folds: usize, seeds: &[u32], results: &[FoldResult], seconds: f64) -> Result<Self> {
        Ok(CrossValidation {
            folds,
            seeds: seeds.to_vec(),
            validation: Validation::of(results)?,
            curves: results
                .iter()
                .map(|f| FoldCurves {
                    seed: f.fold.seed,
                    fold: f.fold.index + 1,
                    n_train: f.fold.train.len(),
                    n_test: f.fold.test.len(),
                    set_size: f.best_m,
                    train_r: f.curves.train_r.clone(),
                    test_r: f.curves.test_r.clone(),
                })
                .collect(),
            seconds,
        })
    }
}

/// Figure 3a's values: log10 of each feature map's mean AIS over images (NaN where the mean is
/// not positive, which a histogram skips and counts).
pub fn log10_mean_ais(scores: &AisScores) -> Vec<f64> {
    mean_ais_per_feature_map(scores)
        .into_iter()
        .map(|m| if m > 0.0 { m.log10() } else { f64::NAN })
        .collect()
}

/// Each feature map's mean AIS over the images.
pub fn mean_ais_per_feature_map(scores: &AisScores) -> Vec<f64> {
    let (n, c) = (scores.n, scores.channels);
    (0..c).map(|k| (0..n).map(|i| scores.image[i * c + k]).sum::<f64>() / n as f64).collect()
}

/// Figure 3b's values: per image, the mean absolute deviation of its AIS.
pub fn mad_per_image(scores: &AisScores) -> Result<Vec<f64>> {
    scores.image.chunks_exact(scores.channels.max(1)).map(stats::mean_absolute_deviation).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_comparison_has_the_command_lines_keys_and_a_test_or_its_reason() {
        let full = vec![0.30, 0.35, 0.28, 0.40, 0.33];
        let retained = vec![0.36, 0.41, 0.30, 0.47, 0.35];
        let c = Comparison::of(full.clone(), retained.clone()).unwrap();
        let json = serde_json::to_value(&c).unwrap();
        for key in ["full", "retained", "loftus_masson_se", "authors_code_se"] {
            assert!(json.get(key).is_some(), "{key} missing from {json}");
        }
        let test = &json["paired_t_test_retained_vs_full"];
        for key in ["t", "df", "mean_difference", "p_two_sided", "p_greater", "p_less"] {
            assert!(test[key].as_f64().is_some_and(f64::is_finite), "{key}: {test}");
        }
        assert_eq!(json["full"]["per_fold"].as_array().unwrap().len(), 5);
        let back: Comparison = serde_json::from_value(json).unwrap();
        assert_eq!(back, c);

        let same = Comparison::of(full.clone(), full).unwrap();
        assert!(
            matches!(same.paired_t_test_retained_vs_full, RetainedVsFull::Undefined { .. }),
            "{:?}",
            same.paired_t_test_retained_vs_full
        );
        assert!(same.test_line().starts_with("no t-test: "), "{}", same.test_line());
    }

    #[test]
    fn the_human_block_says_the_direction_in_words() {
        let source = MatrixSource {
            file: "rdm.npz".into(),
            key: Some("rdm".into()),
            names: None,
            direction: Direction::Dissimilarity,
        };
        let h = HumanSummary::new(&source, &["w".into()], &["m".into()]);
        assert_eq!(h.direction, "dissimilarity (S = −D)");
        assert_eq!((h.warnings.len(), h.matching.len()), (1, 1));
        assert_eq!(h.key.as_deref(), Some("rdm"));
    }
}
