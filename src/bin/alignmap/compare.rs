//! `alignmap compare`: Aim 2's two-model analyses on one cohort (descriptive statistics of AIS,
//! Kolmogorov–Smirnov tests, heatmap Match and its correlation with maxEntropy), and
//! `alignmap cross-category`: how dataset AIS agree across cohorts.

use std::path::{Path, PathBuf};

use alignmap::cohort;
use alignmap::error::{Error, Result};
use alignmap::figures::{self, Series};
use alignmap::heatmap::{self, Heatmap};
use alignmap::model::ModelName;
use alignmap::model_comparison;
use alignmap::report::csv_field;
use alignmap::scores::pearson;
use alignmap::summary::log10_mean_ais;

use crate::analyze::{self, CohortArgs, CohortRun};
use crate::create_dir;
use crate::results::read_npy;

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

/// One network's side of the comparison.
fn scored<'a>(
    run: &'a CohortRun,
    label: &'a str,
    heatmaps: &'a [Option<Heatmap>],
    weights: &'a str,
) -> model_comparison::Scored<'a> {
    model_comparison::Scored {
        label,
        model: run.model.name().label(),
        weights,
        scores: &run.scores,
        heatmaps,
        logits: &run.extracted.logits,
        classes: run.extracted.classes,
    }
}

/// Each image's width and height, read from the folder.
fn image_sizes(images: &Path, names: &[String]) -> Result<Vec<(usize, usize)>> {
    names
        .iter()
        .map(|name| {
            let path = images.join(name);
            let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let image = cohort::decode(name, &bytes)?;
            Ok((image.width() as usize, image.height() as usize))
        })
        .collect()
}

pub fn compare(args: &CompareArgs) -> Result<()> {
    if args.a == args.b {
        eprintln!(
            "alignmap: warning: --a and --b are the same file; every comparison will be trivial"
        );
    }
    let (label_a, label_b) = (label(&args.label_a, &args.a), label(&args.label_b, &args.b));
    let a = analyze::run_cohort(&args.cohort, Some(&args.a), args.model_a, false)?;
    analyze::write_analysis(&args.out.join("a"), &a)?;
    let b = analyze::run_cohort(&args.cohort, Some(&args.b), args.model_b, false)?;
    analyze::write_analysis(&args.out.join("b"), &b)?;

    let (heat_a, heat_b) = (
        heatmap::cohort_heatmaps(&a.scores, &a.extracted.maps)?,
        heatmap::cohort_heatmaps(&b.scores, &b.extracted.maps)?,
    );
    let weights = (a.weights.display().to_string(), b.weights.display().to_string());
    let report = model_comparison::compare(
        &a.names,
        &image_sizes(&args.cohort.images, &a.names)?,
        &scored(&a, &label_a, &heat_a, &weights.0),
        &scored(&b, &label_b, &heat_b, &weights.1),
        a.human_summary.clone(),
    )?;

    let out = &args.out;
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
        &series(log10_mean_ais(&a.scores), log10_mean_ais(&b.scores)),
        40,
        "log10 mean AIS per feature map",
    )?;
    figures::histograms(
        &figures_dir.join("ais_mad_per_image"),
        &series(report.a.mad_per_image.clone(), report.b.mad_per_image.clone()),
        40,
        "mean absolute deviation of each image's AIS",
    )?;
    figures::histograms(
        &figures_dir.join("match"),
        &[Series {
            label: format!("{label_a} vs {label_b}"),
            values: report.matching.per_image.clone(),
        }],
        20,
        "heatmap Match (Pearson r)",
    )?;
    // compare.json and compare_images.csv: the files the page's results zip holds under compare/.
    for (file, bytes) in report.files()? {
        let path = out.join(file);
        std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
    }
    let m = &report.matching;
    eprintln!(
        "alignmap: Match median {:.3} (mean {:.3} ± {:.3}); KS on mean AIS per feature map: {}; on per-image MAD: {}; wrote compare.json to {}",
        m.median,
        m.mean,
        m.sd,
        report.ks_mean_ais_per_feature_map.line(),
        report.ks_mad_per_image.line(),
        out.display()
    );
    Ok(())
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
