//! `alignmap compare`: Aim 2's two-model analyses on one cohort (descriptive statistics of AIS,
//! Kolmogorov–Smirnov tests, heatmap Match and its correlation with maxEntropy), and
//! `alignmap cross-category`: how dataset AIS agree across cohorts.

use std::path::{Path, PathBuf};

use alignmap::cohort;
use alignmap::error::{Error, Result};
use alignmap::figures::{self, Series};
use alignmap::heatmap::{self, Heatmap};
use alignmap::model::ModelName;
use alignmap::report;
use alignmap::scores::pearson;
use alignmap::stats::{self, KsTest};

use crate::analyze::{self, CohortArgs, CohortRun, csv_field};
use crate::create_dir;
use crate::results::read_npy;
use crate::validate::{log10_mean_ais, mad_per_image};

#[derive(clap::Args)]
pub struct CompareArgs {
    /// Weights of model A (e.g. ImageNet VGG-16).
    #[arg(long)]
    pub a: PathBuf,
    /// Weights of model B (e.g. Ecoset VGG-16).
    #[arg(long)]
    pub b: PathBuf,
    #[arg(long)]
    pub model_a: Option<ModelName>,
    #[arg(long)]
    pub model_b: Option<ModelName>,
    /// Names in tables and figures (default: the weights files' stems).
    #[arg(long)]
    pub label_a: Option<String>,
    #[arg(long)]
    pub label_b: Option<String>,
    #[command(flatten)]
    pub cohort: CohortArgs,
    /// Output folder: a/ and b/ hold each model's analyze outputs.
    #[arg(long)]
    pub out: PathBuf,
}

fn label(given: &Option<String>, weights: &Path) -> String {
    given.clone().unwrap_or_else(|| {
        weights
            .file_stem()
            .map_or_else(|| weights.display().to_string(), |s| s.to_string_lossy().into_owned())
    })
}

/// Per image, the Pearson correlation of the two models' heatmaps at the image's resolution
/// (NaN when either model has no heatmap for it).
fn match_scores(images: &Path, a: &CohortRun, b: &CohortRun) -> Result<Vec<f64>> {
    let heat = |run: &CohortRun, i: usize| -> Result<Option<Heatmap>> {
        let (maps, shape) = &run.extracted.maps[i];
        let c = run.scores.channels;
        Heatmap::from_scores(&run.scores.image[i * c..(i + 1) * c], maps, *shape)
    };
    a.names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let path = images.join(name);
            let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let image = cohort::decode(name, &bytes)?;
            let (w, h) = (image.width() as usize, image.height() as usize);
            Ok(match (heat(a, i)?, heat(b, i)?) {
                (Some(x), Some(y)) => heatmap::match_score(&x, &y, w, h),
                _ => f64::NAN,
            })
        })
        .collect()
}

fn entropies(run: &CohortRun) -> Vec<f64> {
    run.extracted.logits.chunks_exact(run.extracted.classes).map(stats::softmax_entropy).collect()
}

fn mean_ais_per_feature_map(run: &CohortRun) -> Vec<f64> {
    let (n, c) = (run.scores.n, run.scores.channels);
    (0..c).map(|k| (0..n).map(|i| run.scores.image[i * c + k]).sum::<f64>() / n as f64).collect()
}

fn ks_json(test: &Result<KsTest>) -> serde_json::Value {
    match test {
        Ok(t) => {
            serde_json::json!({ "statistic": t.statistic, "p_value": t.p_value, "method": format!("{:?}", t.method) })
        }
        Err(e) => serde_json::json!({ "undefined": e.to_string() }),
    }
}

fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 { v[m] } else { (v[m - 1] + v[m]) / 2.0 }
}

pub fn compare(args: &CompareArgs) -> Result<()> {
    if args.a == args.b {
        eprintln!(
            "alignmap: warning: --a and --b are the same file; every comparison will be trivial"
        );
    }
    let (label_a, label_b) = (label(&args.label_a, &args.a), label(&args.label_b, &args.b));
    let a = analyze::run_cohort(&args.cohort, Some(&args.a), args.model_a, false)?;
    analyze::write_analysis(&args.out.join("a"), &args.cohort, &a)?;
    let b = analyze::run_cohort(&args.cohort, Some(&args.b), args.model_b, false)?;
    analyze::write_analysis(&args.out.join("b"), &args.cohort, &b)?;

    let (mean_a, mean_b) = (mean_ais_per_feature_map(&a), mean_ais_per_feature_map(&b));
    let (mad_a, mad_b) = (mad_per_image(&a)?, mad_per_image(&b)?);
    let ks_mean = stats::ks_2samp(&mean_a, &mean_b);
    let ks_mad = stats::ks_2samp(&mad_a, &mad_b);
    let matches = match_scores(&args.cohort.images, &a, &b)?;
    let (ent_a, ent_b) = (entropies(&a), entropies(&b));
    let max_entropy: Vec<f64> = ent_a.iter().zip(&ent_b).map(|(x, y)| x.max(*y)).collect();
    let defined: Vec<usize> = (0..matches.len()).filter(|&i| matches[i].is_finite()).collect();
    let pick = |v: &[f64]| defined.iter().map(|&i| v[i]).collect::<Vec<_>>();
    let match_vs_entropy = stats::pearson_test(&pick(&matches), &pick(&max_entropy));
    let (match_mean, match_sd) =
        stats::mean_and_sd(&pick(&matches)).unwrap_or((f64::NAN, f64::NAN));

    let out = &args.out;
    let mut table = String::from("image,match,entropy_a,entropy_b,max_entropy,mad_a,mad_b\n");
    for (i, name) in a.names.iter().enumerate() {
        table.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            csv_field(name),
            matches[i],
            ent_a[i],
            ent_b[i],
            max_entropy[i],
            mad_a[i],
            mad_b[i]
        ));
    }
    std::fs::write(out.join("compare_images.csv"), table)
        .map_err(|e| Error::io(out.join("compare_images.csv"), e))?;
    let figures_dir = out.join("figures");
    create_dir(&figures_dir)?;
    let series = |va: Vec<f64>, vb: Vec<f64>| {
        [
            Series { label: label_a.clone(), values: va },
            Series { label: label_b.clone(), values: vb },
        ]
    };
    figures::histograms(
        &figures_dir.join("ais_mean_per_feature_map"),
        &series(log10_mean_ais(&a), log10_mean_ais(&b)),
        40,
        "log10 mean AIS per feature map",
    )?;
    figures::histograms(
        &figures_dir.join("ais_mad_per_image"),
        &series(mad_a.clone(), mad_b.clone()),
        40,
        "mean absolute deviation of each image's AIS",
    )?;
    figures::histograms(
        &figures_dir.join("match"),
        &[Series { label: format!("{label_a} vs {label_b}"), values: matches.clone() }],
        20,
        "heatmap Match (Pearson r)",
    )?;

    let model_json = |run: &CohortRun, label: &str, mean: &[f64], mad: &[f64]| {
        serde_json::json!({
            "label": label,
            "model": run.model.name().label(),
            "weights": run.weights.display().to_string(),
            "baseline": { "r": run.scores.baseline.r, "r2": run.scores.baseline.r2 },
            "mean_ais_per_feature_map": mean,
            "mad_per_image": mad,
        })
    };
    let json = serde_json::json!({
        "alignmap_version": env!("CARGO_PKG_VERSION"),
        "images": a.names,
        "a": model_json(&a, &label_a, &mean_a, &mad_a),
        "b": model_json(&b, &label_b, &mean_b, &mad_b),
        "ks_mean_ais_per_feature_map": ks_json(&ks_mean),
        "ks_mad_per_image": ks_json(&ks_mad),
        "match": {
            "definition": "per image: Pearson r between the two models' heatmaps, both resized to the image (OpenCV bilinear)",
            "per_image": matches,
            "median": median(&matches),
            "mean": match_mean,
            "sd": match_sd,
            "images_without_match": matches.len() - defined.len(),
        },
        "max_entropy": {
            "definition": "per image: the larger of the two models' softmax entropies (natural log)",
            "per_image": max_entropy,
            "pearson_with_match": match match_vs_entropy { Ok((r, p)) => serde_json::json!({"r": r, "p_two_sided": p}), Err(e) => serde_json::json!({"undefined": e.to_string()}) },
        },
        "human": analyze::human_json(&args.cohort, &a),
    });
    report::write_json(&out.join("compare.json"), &json)?;
    eprintln!(
        "alignmap: Match median {:.3} (mean {match_mean:.3} ± {match_sd:.3}); KS on mean AIS per feature map: {}; on per-image MAD: {}; wrote compare.json to {}",
        median(&matches),
        ks_line(&ks_mean),
        ks_line(&ks_mad),
        out.display()
    );
    Ok(())
}

fn ks_line(test: &Result<KsTest>) -> String {
    match test {
        Ok(t) => format!("D = {:.3}, p = {:.3e}", t.statistic, t.p_value),
        Err(e) => format!("undefined ({e})"),
    }
}

#[derive(clap::Args)]
pub struct CrossCategoryArgs {
    /// analyze (or validate) output folders, one per cohort (category); at least two.
    #[arg(required = true, num_args = 2..)]
    pub results: Vec<PathBuf>,
    /// Which dataset AIS: r (the paper's ρ) or r2 (the authors' code).
    #[arg(long, default_value = "r")]
    pub metric: String,
    /// CSV file to write (the table is also printed).
    #[arg(long)]
    pub out: PathBuf,
}

/// The table of Pearson correlations between the cohorts' dataset AIS vectors.
pub fn cross_category(args: &CrossCategoryArgs) -> Result<()> {
    let file = match args.metric.as_str() {
        "r" => "ais_dataset.npy",
        "r2" => "ais_dataset_r2.npy",
        other => return Err(Error::Invalid(format!("--metric '{other}': expected r or r2"))),
    };
    let mut vectors = Vec::new();
    for dir in &args.results {
        let (values, shape) = read_npy(&dir.join(file))?;
        if shape.len() != 1 {
            return Err(Error::Invalid(format!(
                "{}: expected one value per feature map, got shape {shape:?}",
                dir.join(file).display()
            )));
        }
        vectors.push(values.into_iter().map(f64::from).collect::<Vec<f64>>());
    }
    let channels = vectors[0].len();
    if let Some(i) = vectors.iter().position(|v| v.len() != channels) {
        return Err(Error::Invalid(format!(
            "{} has {} feature maps but {} has {channels}: compare cohorts of one network",
            args.results[i].display(),
            vectors[i].len(),
            args.results[0].display()
        )));
    }
    let labels: Vec<String> = args
        .results
        .iter()
        .map(|d| {
            d.file_name()
                .map_or_else(|| d.display().to_string(), |s| s.to_string_lossy().into_owned())
        })
        .collect();
    let mut text = String::from("cohort");
    labels.iter().for_each(|l| text.push_str(&format!(",{}", csv_field(l))));
    text.push('\n');
    for (i, a) in vectors.iter().enumerate() {
        text.push_str(&csv_field(&labels[i]));
        for b in &vectors {
            text.push_str(&format!(",{}", pearson(a, b)));
        }
        text.push('\n');
    }
    std::fs::write(&args.out, &text).map_err(|e| Error::io(&args.out, e))?;
    print!("{text}");
    Ok(())
}
