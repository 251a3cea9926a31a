//! Aim 2: two networks on one cohort. Per image, the Match of their heatmaps and the larger of
//! their softmax entropies (maxEntropy); per network, the distributions of mean AIS per feature
//! map and of each image's mean absolute deviation of AIS, compared by two-sample
//! Kolmogorov–Smirnov tests. `alignmap compare` writes [`CompareReport`] as `compare.json`; the
//! page shows the same values and its results zip holds the same files ([`CompareReport::files`],
//! [`side_files`]) under `compare/`.

use serde::Serialize;

use crate::ablation::AisScores;
use crate::error::{Error, Result};
use crate::heatmap::{self, Heatmap};
use crate::stats::{self, KsTest};
use crate::summary::{self, HumanSummary};

/// One network's analysis of the cohort.
pub struct Scored<'a> {
    pub label: &'a str,
    pub model: &'a str,
    pub weights: &'a str,
    pub scores: &'a AisScores,
    /// Per image; `None`: no positive AIS.
    pub heatmaps: &'a [Option<Heatmap>],
    /// `n × classes`, row-major; empty when the network's outputs are not at hand (an analysis
    /// opened from a results zip), which leaves the entropies and maxEntropy undefined.
    pub logits: &'a [f32],
    pub classes: usize,
}

/// Why maxEntropy is undefined for an analysis without logits.
pub const NO_LOGITS: &str = "no logits: the analysis was opened from a results zip, which holds no network outputs, so the entropies and maxEntropy are undefined";

#[derive(Clone, Debug, Serialize)]
pub struct Baseline {
    pub r: f64,
    pub r2: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct NetworkSummary {
    pub label: String,
    pub model: String,
    pub weights: String,
    pub baseline: Baseline,
    pub mean_ais_per_feature_map: Vec<f64>,
    pub mad_per_image: Vec<f64>,
    /// Per image, the softmax entropy of the logits (natural log); NaN (null) without logits.
    pub entropy_per_image: Vec<f64>,
}

/// A two-sample KS test, or why there is none.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Ks {
    Test { statistic: f64, p_value: f64, method: String },
    Undefined { undefined: String },
}

impl Ks {
    fn of(test: Result<KsTest>) -> Ks {
        match test {
            Ok(t) => Ks::Test {
                statistic: t.statistic,
                p_value: t.p_value,
                method: format!("{:?}", t.method),
            },
            Err(e) => Ks::Undefined { undefined: e.to_string() },
        }
    }

    /// As the command line prints it.
    pub fn line(&self) -> String {
        match self {
            Ks::Test { statistic, p_value, .. } => format!("D = {statistic:.3}, p = {p_value:.3e}"),
            Ks::Undefined { undefined } => format!("undefined ({undefined})"),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct MatchSummary {
    pub definition: &'static str,
    /// NaN (null in JSON) where either network has no heatmap.
    pub per_image: Vec<f64>,
    pub median: f64,
    pub mean: f64,
    pub sd: f64,
    pub images_without_match: usize,
}

/// Pearson r with its two-sided p, or why there is none.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Correlation {
    Test { r: f64, p_two_sided: f64 },
    Undefined { undefined: String },
}

#[derive(Clone, Debug, Serialize)]
pub struct EntropySummary {
    pub definition: &'static str,
    pub per_image: Vec<f64>,
    pub pearson_with_match: Correlation,
}

/// `compare.json`.
#[derive(Clone, Debug, Serialize)]
pub struct CompareReport {
    pub alignmap_version: &'static str,
    pub images: Vec<String>,
    pub a: NetworkSummary,
    pub b: NetworkSummary,
    pub ks_mean_ais_per_feature_map: Ks,
    pub ks_mad_per_image: Ks,
    #[serde(rename = "match")]
    pub matching: MatchSummary,
    pub max_entropy: EntropySummary,
    pub human: HumanSummary,
}

fn summarize(side: &Scored<'_>, n: usize) -> Result<NetworkSummary> {
    let logits_fit =
        side.logits.is_empty() || side.classes > 0 && side.logits.len() == n * side.classes;
    if side.scores.n != n || side.heatmaps.len() != n || !logits_fit {
        return Err(Error::Invalid(format!(
            "{}: scores, heatmaps and logits for {n} images expected",
            side.label
        )));
    }
    let entropy_per_image = if side.logits.is_empty() {
        vec![f64::NAN; n]
    } else {
        side.logits.chunks_exact(side.classes).map(stats::softmax_entropy).collect()
    };
    Ok(NetworkSummary {
        label: side.label.to_string(),
        model: side.model.to_string(),
        weights: side.weights.to_string(),
        baseline: Baseline { r: side.scores.baseline.r, r2: side.scores.baseline.r2 },
        mean_ais_per_feature_map: summary::mean_ais_per_feature_map(side.scores),
        mad_per_image: summary::mad_per_image(side.scores)?,
        entropy_per_image,
    })
}

/// Compares two networks' analyses of the same images (`sizes[i]`: image `i`'s width and height,
/// at which the heatmaps are matched).
pub fn compare(
    names: &[String],
    sizes: &[(usize, usize)],
    a: &Scored<'_>,
    b: &Scored<'_>,
    human: HumanSummary,
) -> Result<CompareReport> {
    let n = names.len();
    if sizes.len() != n {
        return Err(Error::Invalid(format!("{} image sizes for {n} images", sizes.len())));
    }
    let (sa, sb) = (summarize(a, n)?, summarize(b, n)?);
    let matches: Vec<f64> = (0..n)
        .map(|i| match (&a.heatmaps[i], &b.heatmaps[i]) {
            (Some(x), Some(y)) => heatmap::match_score(x, y, sizes[i].0, sizes[i].1),
            _ => f64::NAN,
        })
        .collect();
    // Undefined (NaN) where either entropy is (`f64::max` would return the other).
    let max_entropy: Vec<f64> = sa
        .entropy_per_image
        .iter()
        .zip(&sb.entropy_per_image)
        .map(|(x, y)| if x.is_nan() || y.is_nan() { f64::NAN } else { x.max(*y) })
        .collect();
    let defined: Vec<usize> = (0..n).filter(|&i| matches[i].is_finite()).collect();
    let pick = |v: &[f64]| defined.iter().map(|&i| v[i]).collect::<Vec<_>>();
    let pearson_with_match = if a.logits.is_empty() || b.logits.is_empty() {
        Correlation::Undefined { undefined: NO_LOGITS.into() }
    } else {
        match stats::pearson_test(&pick(&matches), &pick(&max_entropy)) {
            Ok((r, p_two_sided)) => Correlation::Test { r, p_two_sided },
            Err(e) => Correlation::Undefined { undefined: e.to_string() },
        }
    };
    let (mean, sd) = stats::mean_and_sd(&pick(&matches)).unwrap_or((f64::NAN, f64::NAN));
    Ok(CompareReport {
        alignmap_version: env!("CARGO_PKG_VERSION"),
        images: names.to_vec(),
        ks_mean_ais_per_feature_map: Ks::of(stats::ks_2samp(
            &sa.mean_ais_per_feature_map,
            &sb.mean_ais_per_feature_map,
        )),
        ks_mad_per_image: Ks::of(stats::ks_2samp(&sa.mad_per_image, &sb.mad_per_image)),
        matching: MatchSummary {
            definition: "per image: Pearson r between the two models' heatmaps, both resized to the image (OpenCV bilinear)",
            median: stats::median(&matches),
            mean,
            sd,
            images_without_match: n - defined.len(),
            per_image: matches,
        },
        max_entropy: EntropySummary {
            definition: "per image: the larger of the two models' softmax entropies (natural log)",
            per_image: max_entropy,
            pearson_with_match,
        },
        a: sa,
        b: sb,
        human,
    })
}

impl CompareReport {
    /// `compare_images.csv`: per image, Match, both entropies, maxEntropy and both MADs.
    pub fn images_csv(&self) -> String {
        let mut text = String::from("image,match,entropy_a,entropy_b,max_entropy,mad_a,mad_b\n");
        for (i, name) in self.images.iter().enumerate() {
            text.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                crate::report::csv_field(name),
                self.matching.per_image[i],
                self.a.entropy_per_image[i],
                self.b.entropy_per_image[i],
                self.max_entropy.per_image[i],
                self.a.mad_per_image[i],
                self.b.mad_per_image[i]
            ));
        }
        text
    }

    /// `compare.json` and `compare_images.csv`, as `alignmap compare` writes them to its folder
    /// (its figures, drawn natively, aside).
    pub fn files(&self) -> Result<Vec<(&'static str, Vec<u8>)>> {
        Ok(vec![
            ("compare.json", crate::report::json_text(self)?.into_bytes()),
            ("compare_images.csv", self.images_csv().into_bytes()),
        ])
    }
}

/// The entries of one side's analysis in a comparison's folder (`a/` or `b/`), as `alignmap
/// compare` writes them there: the score files of `analyze` ([`crate::report::score_files`]) and,
/// when the logits are at hand, `logits.npy` (`n × classes`, f32).
pub fn side_files(
    names: &[String],
    scores: &crate::report::ScoreTables<'_>,
    summary: &impl Serialize,
    logits: &[f32],
    classes: usize,
) -> Result<Vec<(&'static str, Vec<u8>)>> {
    let mut files = crate::report::score_files(names, scores, summary)?;
    if !logits.is_empty() {
        files.push(("logits.npy", crate::report::npy_f32_bytes(&[names.len(), classes], logits)?));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scores::Baseline as ScoreBaseline;

    fn human() -> HumanSummary {
        HumanSummary {
            file: "h.csv".into(),
            key: None,
            names: None,
            direction: "similarity".into(),
            warnings: vec![],
            matching: vec![],
        }
    }

    fn scores(image: Vec<f64>, n: usize, channels: usize) -> AisScores {
        AisScores {
            n,
            channels,
            baseline: ScoreBaseline { r: 0.5, r2: 0.25, per_image: vec![0.5; n] },
            image,
            dataset_r: vec![0.0; channels],
            dataset_r2: vec![0.0; channels],
            zero_pairs: 0,
            skipped_channels: 0,
            grams: None,
        }
    }

    #[test]
    fn identical_networks_match_perfectly_and_a_missing_heatmap_is_counted() {
        let (n, c) = (4, 3);
        let image: Vec<f64> = (0..n * c).map(|k| (k % 5) as f64 * 0.1 - 0.1).collect();
        let s = scores(image, n, c);
        let heat = |i: usize| Heatmap {
            width: 2,
            height: 2,
            values: vec![i as f32, 1.0, 2.0 + i as f32, 0.5],
        };
        let mut maps: Vec<Option<Heatmap>> = (0..n).map(|i| Some(heat(i))).collect();
        let logits: Vec<f32> = (0..n * 5).map(|k| (k % 7) as f32).collect();
        let a = Scored {
            label: "a",
            model: "m",
            weights: "w",
            scores: &s,
            heatmaps: &maps.clone(),
            logits: &logits,
            classes: 5,
        };
        maps[2] = None;
        let b = Scored { label: "b", heatmaps: &maps, ..a };
        let names: Vec<String> = (0..n).map(|i| format!("{i}.png")).collect();
        let human = human();
        let r = compare(&names, &[(8, 8); 4], &a, &b, human).unwrap();
        assert_eq!(r.matching.images_without_match, 1);
        assert!(r.matching.per_image[2].is_nan());
        for i in [0, 1, 3] {
            assert!((r.matching.per_image[i] - 1.0).abs() < 1e-12, "{:?}", r.matching.per_image);
        }
        assert!((r.matching.median - 1.0).abs() < 1e-12);
        match r.ks_mad_per_image {
            Ks::Test { statistic, .. } => assert_eq!(statistic, 0.0),
            other => panic!("{other:?}"),
        }
        let json = serde_json::to_value(&r).unwrap();
        assert!(json["match"]["per_image"][2].is_null());
        assert_eq!(r.images_csv().lines().count(), n + 1);
    }

    #[test]
    fn a_side_without_logits_has_no_entropies_and_the_files_are_the_commands() {
        let (n, c) = (5, 3);
        let image: Vec<f64> = (0..n * c).map(|k| ((k * 7) % 5) as f64 * 0.1 - 0.15).collect();
        let s = scores(image, n, c);
        let maps: Vec<Option<Heatmap>> = (0..n)
            .map(|i| Some(Heatmap { width: 2, height: 1, values: vec![1.0, 2.0 + i as f32] }))
            .collect();
        let logits: Vec<f32> = (0..n * 4).map(|k| (k % 3) as f32).collect();
        let a = Scored {
            label: "a",
            model: "m",
            weights: "w",
            scores: &s,
            heatmaps: &maps,
            logits: &logits,
            classes: 4,
        };
        // Opened from a results zip: no logits.
        let b = Scored { label: "b", logits: &[], classes: 0, ..a };
        let names: Vec<String> = (0..n).map(|i| format!("{i}.png")).collect();
        let human = human();
        let r = compare(&names, &[(4, 2); 5], &a, &b, human.clone()).unwrap();
        assert!(r.a.entropy_per_image.iter().all(|e| e.is_finite()));
        assert!(r.b.entropy_per_image.iter().all(|e| e.is_nan()));
        assert!(r.max_entropy.per_image.iter().all(|e| e.is_nan()));
        match &r.max_entropy.pearson_with_match {
            Correlation::Undefined { undefined } => assert_eq!(undefined, NO_LOGITS),
            other => panic!("{other:?}"),
        }
        // The Match and the KS tests need no logits.
        assert!(r.matching.per_image.iter().all(|m| (m - 1.0).abs() < 1e-12));
        assert!(matches!(r.ks_mean_ais_per_feature_map, Ks::Test { .. }));
        // Logits of the wrong length are refused, naming the side.
        let short = Scored { label: "short", logits: &logits[..7], ..a };
        let err = compare(&names, &[(4, 2); 5], &a, &short, human).unwrap_err().to_string();
        assert!(err.contains("short: scores, heatmaps and logits for 5 images"), "{err}");

        let files = r.files().unwrap();
        let listed: Vec<&str> = files.iter().map(|(f, _)| *f).collect();
        assert_eq!(listed, ["compare.json", "compare_images.csv"]);
        assert_eq!(files[0].1, crate::report::json_text(&r).unwrap().into_bytes());
        assert_eq!(files[1].1, r.images_csv().into_bytes());
        let summary = serde_json::json!({"n_images": n});
        let side = side_files(&names, &(&s).into(), &summary, &logits, 4).unwrap();
        let listed: Vec<&str> = side.iter().map(|(f, _)| *f).collect();
        let mut expected = crate::report::SCORE_FILES.to_vec();
        expected.push("logits.npy");
        assert_eq!(listed, expected);
        assert_eq!(side.last().unwrap().1, crate::report::npy_f32_bytes(&[n, 4], &logits).unwrap(),);
        let without = side_files(&names, &(&s).into(), &summary, &[], 0).unwrap();
        assert_eq!(without.len(), crate::report::SCORE_FILES.len(), "no logits, no logits.npy");
    }
}
