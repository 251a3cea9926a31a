//! `alignmap validate`: Aim 1's cross-validated feature selection with the paper's statistics,
//! tables and figures.

use std::path::{Path, PathBuf};
use std::time::Instant;

use alignmap::error::{Error, Result};
use alignmap::figures::{self, BarGroup, SelectionCurve, Series};
use alignmap::folds::PAPER_SEEDS;
use alignmap::report;
use alignmap::selection::{self, FoldResult};
use alignmap::summary::{Validation, log10_mean_ais, mad_per_image};

use crate::analyze::{self, CohortArgs, CohortRun, NetworkArgs};
use crate::{create_dir, progress_bar};

#[derive(clap::Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub network: NetworkArgs,
    #[command(flatten)]
    pub cohort: CohortArgs,
    /// Folds over images.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Shuffle seeds (NumPy's legacy MT19937, as the authors' code), space- or comma-separated.
    /// Default: 111 222 … 888.
    #[arg(long, num_args = 1.., value_delimiter = ',')]
    pub seeds: Option<Vec<u32>>,
    /// Name of the cohort in figures and tables (default: the images folder's name).
    #[arg(long)]
    pub label: Option<String>,
    /// Output folder (created when missing); the analyze outputs are written there too.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn validate(args: &ValidateArgs) -> Result<()> {
    let seeds = args.seeds.clone().unwrap_or_else(|| PAPER_SEEDS.to_vec());
    let run = analyze::run_cohort(
        &args.cohort,
        args.network.weights.as_deref(),
        args.network.model,
        true,
    )?;
    let n = run.names.len();
    let folds = selection::make_folds(n, args.folds, &seeds)?;
    let inputs = run.extracted.inputs_tensor(run.model.channels(), &run.device.device);
    let bar = progress_bar(folds.len(), "folds");
    let start = Instant::now();
    let options = analyze::engine_options(&args.cohort, false);
    let results = pollster::block_on(selection::cross_validate(
        &run.model,
        &inputs,
        &run.scores,
        &run.human,
        &folds,
        &options,
        &mut |done, _| bar.set_position(done as u64),
    ))?;
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    eprintln!(
        "alignmap: {} folds × {} feature maps in {seconds:.1} s",
        folds.len(),
        run.model.channels()
    );

    let out = &args.out;
    analyze::write_analysis(out, &run)?;
    let label = args.label.clone().unwrap_or_else(|| {
        args.cohort
            .images
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "cohort".into())
    });
    let summary = Validation::of(&results)?;
    write_folds_json(&out.join("folds.json"), &run.names, &results)?;
    write_fold_table(&out.join("validation_folds.csv"), &results)?;
    write_curves(&out.join("selection_curves.csv"), &results)?;
    write_training_ais(&out.join("training_ais.csv"), &results)?;
    write_figures(out, &label, &run, &results, &summary)?;
    let json = serde_json::json!({
        "alignmap_version": env!("CARGO_PKG_VERSION"),
        "label": label,
        "model": run.model.name().label(),
        "weights": run.weights.display().to_string(),
        "n_images": n,
        "feature_maps": run.model.channels(),
        "protocol": {
            "folds": args.folds,
            "seeds": seeds,
            "split": "images (as the authors' code; the paper's text says 80% of the entries of H)",
            "training_ais": "r² − r_k² over the training images' sub-matrix (the authors' code)",
            "selection": "S* = first m with the highest training r² (np.nanargmax); Full = test 2OI with every feature map",
        },
        "baseline": { "r": run.scores.baseline.r, "r2": run.scores.baseline.r2 },
        "r2": summary.r2,
        "r": summary.r,
        "set_size": summary.set_size,
        "human": run.human_summary,
        "device": run.device.description,
        "seconds": { "cross_validation": seconds, "analysis": run.timings },
    });
    report::write_json(&out.join("validation.json"), &json)?;
    let (full, kept, se) = (&summary.r2.full, &summary.r2.retained, summary.r2.loftus_masson_se);
    eprintln!(
        "alignmap: test r² Full {:.4} ± {se:.4} → Retained {:.4} ± {se:.4} (Loftus–Masson SE), mean |S*| {:.1}; {}",
        full.mean,
        kept.mean,
        summary.set_size.mean,
        summary.r2.test_line()
    );
    eprintln!(
        "alignmap: wrote validation.json, folds.json, tables and figures to {}",
        out.display()
    );
    Ok(())
}

fn write_text(path: &Path, text: String) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

/// `{"<seed>": [[test image names of fold 1], …]}`.
fn write_folds_json(path: &Path, names: &[String], results: &[FoldResult]) -> Result<()> {
    let mut seeds = serde_json::Map::new();
    for result in results {
        let folds =
            seeds.entry(result.fold.seed.to_string()).or_insert_with(|| serde_json::json!([]));
        let test: Vec<&String> = result.fold.test.iter().map(|&i| &names[i]).collect();
        folds.as_array_mut().expect("created as an array").push(serde_json::json!(test));
    }
    report::write_json(path, &serde_json::Value::Object(seeds))
}

fn write_fold_table(path: &Path, results: &[FoldResult]) -> Result<()> {
    let mut text = String::from(
        "seed,fold,n_train,n_test,set_size,full_train_r,retained_train_r,full_test_r,retained_test_r,full_test_r2,retained_test_r2\n",
    );
    for f in results {
        let (full, kept) = (f.full_test_r(), f.retained_test_r());
        text.push_str(&format!(
            "{},{},{},{},{},{},{},{full},{kept},{},{}\n",
            f.fold.seed,
            f.fold.index + 1,
            f.fold.train.len(),
            f.fold.test.len(),
            f.best_m,
            f.full_train_r(),
            f.retained_train_r(),
            full * full,
            kept * kept
        ));
    }
    write_text(path, text)
}

fn write_curves(path: &Path, results: &[FoldResult]) -> Result<()> {
    let mut text = String::from("seed,fold,m,added_feature_map,train_r,test_r,train_r2,test_r2\n");
    for f in results {
        for (m, (train, test)) in f.curves.train_r.iter().zip(&f.curves.test_r).enumerate() {
            text.push_str(&format!(
                "{},{},{},{},{train},{test},{},{}\n",
                f.fold.seed,
                f.fold.index + 1,
                m + 1,
                f.order[m],
                train * train,
                test * test
            ));
        }
    }
    write_text(path, text)
}

fn write_training_ais(path: &Path, results: &[FoldResult]) -> Result<()> {
    let channels = results.first().map_or(0, |f| f.training_ais.len());
    let mut text = String::from("seed,fold");
    (0..channels).for_each(|k| text.push_str(&format!(",fm{k}")));
    text.push('\n');
    for f in results {
        text.push_str(&format!("{},{}", f.fold.seed, f.fold.index + 1));
        f.training_ais.iter().for_each(|v| text.push_str(&format!(",{v}")));
        text.push('\n');
    }
    write_text(path, text)
}

/// Figure 1 (Full vs Retained, r²), the selection curves (r²) and Figure 3's histograms.
fn write_figures(
    out: &Path,
    label: &str,
    run: &CohortRun,
    results: &[FoldResult],
    summary: &Validation,
) -> Result<()> {
    let dir = out.join("figures");
    create_dir(&dir)?;
    let group = BarGroup {
        label: label.to_string(),
        full_mean: summary.r2.full.mean,
        full_se: summary.r2.loftus_masson_se,
        retained_mean: summary.r2.retained.mean,
        retained_se: summary.r2.loftus_masson_se,
        set_size_mean: summary.set_size.mean,
    };
    figures::full_vs_retained(&dir.join("full_vs_retained"), &[group], "test 2OI (r²)")?;
    let squared = |v: &[f64]| v.iter().map(|r| r * r).collect();
    let curves: Vec<SelectionCurve> = results
        .iter()
        .map(|f| SelectionCurve {
            label: format!("seed {}, fold {}", f.fold.seed, f.fold.index + 1),
            train: squared(&f.curves.train_r),
            test: squared(&f.curves.test_r),
            best_m: f.best_m,
        })
        .collect();
    figures::selection_curves(&dir.join("selection_curves"), &curves, "2OI (r²)")?;
    let model = run.model.name().label();
    figures::histograms(
        &dir.join("ais_mean_per_feature_map"),
        &[Series { label: model.to_string(), values: log10_mean_ais(&run.scores) }],
        40,
        "log10 mean AIS per feature map",
    )?;
    figures::histograms(
        &dir.join("ais_mad_per_image"),
        &[Series { label: model.to_string(), values: mad_per_image(&run.scores)? }],
        40,
        "mean absolute deviation of each image's AIS",
    )
}
