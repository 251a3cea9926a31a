//! `alignmap analyze`, and the cohort run it shares with `validate` and `compare`: images and
//! human matrix in, matched by name, through the network and the AIS engine.

use std::path::{Path, PathBuf};
use std::time::Instant;

use alignmap::ablation::{self, AisScores, EngineOptions};
use alignmap::device::ComputeDevice;
use alignmap::error::{Error, Result};
use alignmap::extract::Extracted;
use alignmap::model::{ModelName, Network};
use alignmap::report;
use alignmap::similarity::{self, Direction};

use crate::{
    DeviceArg, create_dir, default_weights, list_folder, load_network, open_device, prepare_images,
    progress_bar, run_network, write_extracted,
};

/// What every command that scores a cohort needs.
#[derive(clap::Args, Clone)]
pub struct CohortArgs {
    /// Folder of PNG/JPEG images (sorted file names give the row order of every output).
    #[arg(long)]
    pub images: PathBuf,
    /// Human matrix: CSV/TSV/TXT, NPY, NPZ (see --key) or JSON.
    #[arg(long)]
    pub similarity: PathBuf,
    /// The array in an NPZ, or the category in a names file such as Peterson's fnames.json.
    #[arg(long)]
    pub key: Option<String>,
    /// Row/column names of the matrix: JSON list, fnames.json ({category: {"fnames": [...]}}), or one per line.
    #[arg(long)]
    pub names: Option<PathBuf>,
    /// The matrix holds dissimilarities (an RDM); converted with S = −D.
    #[arg(long)]
    pub dissimilarity: bool,
    #[arg(long, default_value_t = 4)]
    pub batch: usize,
    /// Device memory for one chunk of ablations, in MiB.
    #[arg(long, default_value_t = 256)]
    pub chunk_mib: usize,
    #[command(flatten)]
    pub device: DeviceArg,
}

/// Which network scores the cohort.
#[derive(clap::Args)]
pub struct NetworkArgs {
    /// Weights: safetensors (VGG-16 with torchvision or timm keys, EfficientNet-Lite0/1/2; f32/f16/bf16)
    /// or a PyTorch .pth. Default: the bundled EfficientNet-Lite0 (models/build.sh).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// vgg16, efficientnet-lite0, efficientnet-lite1 or efficientnet-lite2; checked against the
    /// weights file's keys.
    #[arg(long)]
    pub model: Option<ModelName>,
}

#[derive(clap::Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub network: NetworkArgs,
    #[command(flatten)]
    pub cohort: CohortArgs,
    /// Output folder (created when missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write a results zip the page opens without computing (as `alignmap pack`).
    #[arg(long)]
    pub zip: Option<PathBuf>,
    #[command(flatten)]
    pub pack: crate::pack::PackOptions,
}

/// A scored cohort.
pub struct CohortRun {
    pub names: Vec<String>,
    /// The human similarity in image order, `n × n`.
    pub human: Vec<f64>,
    pub warnings: Vec<String>,
    pub matching: Vec<String>,
    pub device: ComputeDevice,
    pub model: Network,
    pub weights: PathBuf,
    pub extracted: Extracted,
    pub scores: AisScores,
    pub timings: serde_json::Map<String, serde_json::Value>,
}

/// Reads and matches the cohort, runs the network and the engine (keeping the Gram matrices
/// when cross-validation follows).
pub fn run_cohort(
    args: &CohortArgs,
    weights: Option<&Path>,
    model: Option<ModelName>,
    keep_grams: bool,
) -> Result<CohortRun> {
    let mut timings = serde_json::Map::new();
    let mut stage = Instant::now();
    let mut lap = |name: &str, timings: &mut serde_json::Map<String, serde_json::Value>| {
        timings.insert(name.to_string(), serde_json::json!(stage.elapsed().as_secs_f64()));
        stage = Instant::now();
    };
    let weights = default_weights(weights.map(Path::to_path_buf))?;
    let (paths, names) = list_folder(&args.images)?;
    let direction =
        if args.dissimilarity { Direction::Dissimilarity } else { Direction::Similarity };
    let matrix = similarity::load_matrix(
        &args.similarity,
        args.names.as_deref(),
        args.key.as_deref(),
        direction,
    )?;
    for warning in &matrix.warnings {
        eprintln!("alignmap: warning: {warning}");
    }
    let matched = similarity::match_to_images(&matrix, &names)?;
    for line in &matched.report {
        eprintln!("alignmap: {line}");
    }

    let device = open_device(args.device.device)?;
    let model = load_network(&weights, model, &device)?;
    lap("load_weights_seconds", &mut timings);
    let prepared = prepare_images(&paths, &names, model.normalization())?;
    lap("decode_seconds", &mut timings);
    let extracted = run_network(&model, &prepared, &device, args.batch)?;
    lap("network_seconds", &mut timings);

    let channels = model.channels();
    let inputs = extracted.inputs_tensor(channels, &device.device);
    let bar = progress_bar(channels, "ablation");
    let scores = pollster::block_on(ablation::alignment_importance(
        &model,
        inputs,
        &matched.similarity,
        &engine_options(args, keep_grams),
        &mut |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    ))?;
    bar.finish_and_clear();
    lap("ablation_seconds", &mut timings);
    Ok(CohortRun {
        names,
        human: matched.similarity,
        warnings: matrix.warnings,
        matching: matched.report,
        device,
        model,
        weights,
        extracted,
        scores,
        timings,
    })
}

pub fn engine_options(args: &CohortArgs, keep_grams: bool) -> EngineOptions {
    EngineOptions { chunk_bytes: args.chunk_mib.max(1) << 20, keep_grams }
}

pub fn analyze(args: &AnalyzeArgs) -> Result<()> {
    let run = run_cohort(&args.cohort, args.network.weights.as_deref(), args.network.model, false)?;
    write_analysis(&args.out, &args.cohort, &run)?;
    match &args.zip {
        Some(zip) => crate::pack::pack_folder(&args.out, &args.cohort.images, zip, &args.pack),
        None => Ok(()),
    }
}

/// Writes everything `analyze` promises (README, "Outputs").
pub fn write_analysis(out: &Path, cohort: &CohortArgs, run: &CohortRun) -> Result<()> {
    let start = Instant::now();
    let (names, scores, model) = (&run.names, &run.scores, &run.model);
    let (n, channels) = (names.len(), model.channels());
    // A correlation with a constant vector is undefined: say where, rather than write NaN silently.
    let undefined = scores.undefined();
    if undefined > 0 {
        eprintln!(
            "alignmap: warning: {undefined} score(s) are undefined (NaN): an embedding or a human row is constant; see summary.json"
        );
    }
    create_dir(out)?;
    write_extracted(out, names, &run.extracted)?;
    let f32s = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
    report::write_npy_f32(&out.join("ais_image.npy"), &[n, channels], &f32s(&scores.image))?;
    report::write_npy_f32(&out.join("ais_dataset.npy"), &[channels], &f32s(&scores.dataset_r))?;
    report::write_npy_f32(&out.join("ais_dataset_r2.npy"), &[channels], &f32s(&scores.dataset_r2))?;
    write_score_csv(&out.join("ais_image.csv"), names, &scores.image, channels)?;
    let both: Vec<f64> = scores.dataset_r.iter().chain(&scores.dataset_r2).copied().collect();
    write_score_csv(
        &out.join("ais_dataset.csv"),
        &["ais_r".to_string(), "ais_r2".to_string()],
        &both,
        channels,
    )?;
    let mut timings = run.timings.clone();
    timings.insert("write_seconds".into(), serde_json::json!(start.elapsed().as_secs_f64()));

    let mut summary = report::scores_summary(names, scores);
    summary.insert(
        "model".into(),
        serde_json::json!({
            "name": model.name().label(),
            "classes": model.classes(),
            "weights": run.weights.display().to_string(),
            "weights_sha256": sha256_file(&run.weights)?,
        }),
    );
    summary.insert("human".into(), human_json(cohort, run));
    summary.insert("device".into(), serde_json::json!(run.device.description));
    summary.insert("timings".into(), serde_json::Value::Object(timings));
    let summary = serde_json::Value::Object(summary);
    report::write_json(&out.join("summary.json"), &summary)?;
    eprintln!(
        "alignmap: baseline 2OI r = {:.4} (r² = {:.4}); wrote scores for {n} images × {channels} feature maps to {}",
        scores.baseline.r,
        scores.baseline.r2,
        out.display()
    );
    Ok(())
}

/// Where the human matrix came from and how it met the images.
pub fn human_json(cohort: &CohortArgs, run: &CohortRun) -> serde_json::Value {
    serde_json::json!({
        "file": cohort.similarity.display().to_string(),
        "key": cohort.key,
        "names": cohort.names.as_ref().map(|p| p.display().to_string()),
        "direction": if cohort.dissimilarity { "dissimilarity (S = −D)" } else { "similarity" },
        "warnings": run.warnings,
        "matching": run.matching,
    })
}

fn sha256_file(path: &Path) -> Result<String> {
    use sha2::Digest;
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = sha2::Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| Error::io(path, e))?;
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// A score table as CSV: one row per name, one column per feature map.
fn write_score_csv(
    path: &Path,
    row_names: &[String],
    values: &[f64],
    columns: usize,
) -> Result<()> {
    std::fs::write(path, report::score_csv(row_names, values, columns))
        .map_err(|e| Error::io(path, e))
}

/// A CSV field, quoted when it needs to be.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
