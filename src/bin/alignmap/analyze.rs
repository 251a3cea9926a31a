//! `alignmap analyze`, and the cohort run it shares with `validate` and `compare`: images and
//! human matrix in, matched by name, through the network and the AIS engine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use alignmap::ablation::{AisScores, EngineOptions};
use alignmap::cohort;
use alignmap::device::ComputeDevice;
use alignmap::error::{Error, Result};
use alignmap::extract::Extracted;
use alignmap::model::{ModelName, Network};
use alignmap::pipeline;
use alignmap::report;
use alignmap::similarity::{self, Direction};
use alignmap::summary::{AnalysisSummary, HumanSummary, MatrixSource, ModelSummary};

use crate::{
    DeviceArg, create_dir, default_weights, list_folder, load_network, open_device, write_extracted,
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
    pub human_summary: HumanSummary,
    pub device: ComputeDevice,
    pub model: Network,
    pub weights: PathBuf,
    pub extracted: Extracted,
    pub scores: AisScores,
    pub timings: BTreeMap<String, f64>,
}

/// Reads and matches the cohort, runs the network and the engine (keeping the Gram matrices
/// when cross-validation follows).
pub fn run_cohort(
    args: &CohortArgs,
    weights: Option<&Path>,
    model: Option<ModelName>,
    keep_grams: bool,
) -> Result<CohortRun> {
    let clock = Instant::now();
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
    let matched = pipeline::match_cohort(&matrix, &names)?;
    for line in &matched.report {
        eprintln!("alignmap: {line}");
    }
    let source = MatrixSource {
        file: args.similarity.display().to_string(),
        key: args.key.clone(),
        names: args.names.as_ref().map(|p| p.display().to_string()),
        direction,
    };
    let human_summary = HumanSummary::new(&source, &matrix.warnings, &matched.report);

    let device = open_device(args.device.device)?;
    let model = load_network(&weights, model, &device)?;
    let load_seconds = clock.elapsed().as_secs_f64();
    print_memory(&model, &paths, args, keep_grams);
    let bars = crate::Bars::default();
    let run = pollster::block_on(pipeline::score_cohort(
        &model,
        &device.device,
        names.len(),
        &mut |i| {
            let bytes = std::fs::read(&paths[i]).map_err(|e| Error::io(&paths[i], e))?;
            cohort::decode(&names[i], &bytes)
        },
        &matched.similarity,
        &pipeline::Options { batch: args.batch, engine: engine_options(args, keep_grams) },
        pipeline::Hooks {
            progress: &mut |stage, done, total| bars.show(stage, done, total),
            image: &mut |_| {},
            cancelled: &|| false,
            clock: &|| clock.elapsed().as_secs_f64(),
        },
    ))?;
    bars.finish();
    let mut timings = run.timings;
    timings.insert("load_weights_seconds".into(), load_seconds);
    Ok(CohortRun {
        names,
        human: matched.similarity,
        human_summary,
        device,
        model,
        weights,
        extracted: run.extracted,
        scores: run.scores,
        timings,
    })
}

/// The memory the run needs, estimated from the image files' headers (the page plans its runs
/// with the same estimate).
fn print_memory(model: &Network, paths: &[PathBuf], args: &CohortArgs, keep_grams: bool) {
    let sizes: Vec<(usize, usize)> = paths
        .iter()
        .filter_map(|p| image::image_dimensions(p).ok())
        .map(|(w, h)| (h as usize, w as usize))
        .collect();
    let footprint = alignmap::memory::Footprint::of(model);
    let options = engine_options(args, keep_grams);
    let estimate = alignmap::memory::memory_estimate(&footprint, &sizes, args.batch, &options);
    eprintln!("alignmap: memory: {estimate}");
}

pub fn engine_options(args: &CohortArgs, keep_grams: bool) -> EngineOptions {
    EngineOptions { chunk_bytes: args.chunk_mib.max(1) << 20, keep_grams, ..Default::default() }
}

pub fn analyze(args: &AnalyzeArgs) -> Result<()> {
    let run = run_cohort(&args.cohort, args.network.weights.as_deref(), args.network.model, false)?;
    write_analysis(&args.out, &run)?;
    match &args.zip {
        Some(zip) => crate::pack::pack_folder(&args.out, &args.cohort.images, zip, &args.pack),
        None => Ok(()),
    }
}

/// Writes everything `analyze` promises (README, "Outputs").
pub fn write_analysis(out: &Path, run: &CohortRun) -> Result<()> {
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
    let mut timings = run.timings.clone();
    timings.insert("write_seconds".into(), start.elapsed().as_secs_f64());
    let model_summary = ModelSummary {
        name: model.name().label().to_string(),
        classes: model.classes(),
        weights: run.weights.display().to_string(),
        weights_sha256: sha256_file(&run.weights)?,
    };
    let summary = AnalysisSummary::new(
        names,
        scores,
        model_summary,
        run.human_summary.clone(),
        &run.device.description,
        timings,
    );
    for (file, bytes) in report::score_files(names, &scores.into(), &summary)? {
        let path = out.join(file);
        std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
    }
    eprintln!(
        "alignmap: baseline 2OI r = {:.4} (r² = {:.4}); wrote scores for {n} images × {channels} feature maps to {}",
        scores.baseline.r,
        scores.baseline.r2,
        out.display()
    );
    Ok(())
}

fn sha256_file(path: &Path) -> Result<String> {
    use sha2::Digest;
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = sha2::Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| Error::io(path, e))?;
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}
