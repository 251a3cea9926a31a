//! The alignmap command-line tool: a thin shell over the library.

use std::path::{Path, PathBuf};
use std::time::Instant;

use alignmap::cohort::{self, Normalization};
use alignmap::device::{self, ComputeDevice, DeviceChoice};
use alignmap::error::{Error, Result};
use alignmap::extract::{self, Extracted};
use alignmap::model::{ModelName, Network, Vgg16, Vgg16Spec};
use alignmap::pipeline::{self, Stage};
use alignmap::report;
use alignmap::weights::{StoredDtype, TensorMap};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

mod analyze;
mod bench;
mod compare;
mod maps;
mod pack;
mod results;
mod saliency_cmd;
mod serve;
mod validate;

#[derive(Parser)]
#[command(
    name = "alignmap",
    version,
    about = "Alignment Importance Scores: which feature maps of a vision network carry its alignment with human similarity judgments"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct DeviceArg {
    /// Where to compute: wgpu (GPU through Vulkan/Metal/DX12), cpu, or auto (wgpu when a hardware
    /// adapter exists, else cpu).
    #[arg(long, default_value = "auto")]
    device: DeviceChoice,
}

#[derive(Subcommand)]
enum Command {
    /// Run the network over a folder of images: embeddings, last-conv feature maps and logits.
    Embed {
        /// Weights: safetensors (VGG-16 with torchvision or timm keys, EfficientNet-Lite0/1/2; f32/f16/bf16)
        /// or a PyTorch .pth. Default: the bundled EfficientNet-Lite0 (models/build.sh).
        #[arg(long)]
        weights: Option<PathBuf>,
        /// vgg16, efficientnet-lite0, efficientnet-lite1 or efficientnet-lite2; checked against the
        /// weights file's keys.
        #[arg(long)]
        model: Option<ModelName>,
        /// Folder of PNG/JPEG images; the sorted file names give the row order of every output.
        #[arg(long)]
        images: PathBuf,
        /// Output folder (created when missing).
        #[arg(long)]
        out: PathBuf,
        /// Images per forward pass.
        #[arg(long, default_value_t = 4)]
        batch: usize,
        #[command(flatten)]
        device: DeviceArg,
    },
    /// Alignment Importance Scores: per image (n × feature maps) and for the cohort, with the 2OI baseline.
    Analyze(analyze::AnalyzeArgs),
    /// Aim 1's validation: feature selection by dataset AIS under cross-validation over images
    /// (5 folds × 8 shuffles by default), Full vs Retained test 2OI with paired t-tests, tables and figures.
    Validate(validate::ValidateArgs),
    /// Heatmaps from an analyze folder drawn over their images (PNG per image), heatmaps.npy and a grid figure.
    Maps(maps::MapsArgs),
    /// An analyze folder and its images as one results zip that the page opens without computing
    /// (index.html?results=URL): images or display copies, heatmaps, scores, summary.
    Pack(pack::PackArgs),
    /// Two models on one cohort: AIS statistics, Kolmogorov–Smirnov tests, heatmap Match vs maxEntropy.
    Compare(compare::CompareArgs),
    /// Pearson correlations between the dataset AIS of several cohorts (analyze folders) of one network.
    CrossCategory(compare::CrossCategoryArgs),
    /// Convert weights (.pth or safetensors) to a safetensors file a browser can fetch.
    Convert {
        input: PathBuf,
        output: PathBuf,
        /// Storage precision: f32, f16 or bf16.
        #[arg(long, default_value = "f32")]
        dtype: StoredDtype,
    },
    /// Generated VGG-16 weights (torchvision keys, the generator of the tests and benchmarks) as
    /// a safetensors file: full size by default, 277 MB (264 MiB) in f16, for runs of the page and of
    /// analyze without downloading real weights.
    SyntheticWeights {
        /// The safetensors file to write.
        #[arg(long)]
        out: PathBuf,
        /// vgg16 (full size, 1000 classes) or tiny (1/16 of its widths).
        #[arg(long, default_value = "vgg16")]
        spec: String,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Storage precision: f32, f16 or bf16.
        #[arg(long, default_value = "f16")]
        dtype: StoredDtype,
    },
    /// A control network: every weight tensor's values randomly permuted (safetensors out).
    Shuffle {
        input: PathBuf,
        output: PathBuf,
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Diagnostic: one forward pass of a VGG-16-shaped network with generated weights on a
    /// generated image; prints the embedding and logits as JSON (the browser test compares).
    SyntheticForward {
        /// tiny (VGG-16 at 1/16 width) or vgg16 (full size).
        #[arg(long, default_value = "tiny")]
        spec: String,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        #[arg(long, default_value_t = 3)]
        image_seed: u64,
        /// HEIGHTxWIDTH of the generated input.
        #[arg(long, default_value = "224x224")]
        size: String,
        /// Repeat the forward this many times and report the fastest.
        #[arg(long, default_value_t = 1)]
        repeat: usize,
        #[command(flatten)]
        device: DeviceArg,
    },
    /// Benchmark: the AIS engine against the naive path (a full head pass per ablated channel)
    /// and, with --numpy-anchor, NumPy's exact fast ablation, on full-size VGG-16 with generated
    /// weights (or --weights) and generated images; prints times and their ratios.
    Bench(bench::BenchArgs),
    /// Benchmark: the cross-validation protocol (training AIS from Gram matrices, cumulative
    /// selection curves) against the naive method (a full head pass per fold and kept-set size),
    /// on full-size VGG-16 with generated weights and images; times a few folds and scales.
    BenchValidate(bench::BenchValidateArgs),
    /// Serve the browser app (a folder of static files) on localhost.
    Serve {
        #[arg(long, default_value = "www")]
        dir: PathBuf,
        #[arg(long, default_value_t = 8080)]
        port: u16,
    },
    /// Saliency maps (built-in or imported), their relative risk against AIS heatmaps with
    /// contour overlays, and the built-in models' scores against human eye fixations.
    Saliency(saliency_cmd::SaliencyArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Embed { weights, model, images, out, batch, device } => default_weights(weights)
            .and_then(|weights| embed(&weights, model, &images, &out, batch, device.device)),
        Command::Analyze(args) => analyze::analyze(&args),
        Command::Validate(args) => validate::validate(&args),
        Command::Maps(args) => maps::maps(&args),
        Command::Pack(args) => pack::pack(&args),
        Command::Compare(args) => compare::compare(&args),
        Command::CrossCategory(args) => compare::cross_category(&args),
        Command::Convert { input, output, dtype } => convert(&input, &output, dtype),
        Command::Shuffle { input, output, seed } => shuffle(&input, &output, seed),
        Command::SyntheticWeights { out, spec, seed, dtype } => {
            synthetic_weights(&out, &spec, seed, dtype)
        }
        Command::SyntheticForward { spec, seed, image_seed, size, repeat, device } => {
            synthetic_forward(&spec, seed, image_seed, &size, repeat, device.device)
        }
        Command::Bench(args) => bench::bench(&args),
        Command::BenchValidate(args) => bench::bench_validate(&args),
        Command::Serve { dir, port } => serve::serve(&dir, port),
        Command::Saliency(args) => saliency_cmd::run(args),
    };
    if let Err(e) = result {
        eprintln!("alignmap: error: {e}");
        std::process::exit(1);
    }
}

/// The bundled EfficientNet-Lite0 when no weights are given.
fn default_weights(given: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path);
    }
    let path =
        std::env::var_os("ALIGNMAP_DEFAULT_WEIGHTS").map(PathBuf::from).unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("models/efficientnet-lite0-f16.safetensors")
        });
    if !path.is_file() {
        return Err(Error::Invalid(format!(
            "no --weights given and the bundled EfficientNet-Lite0 ({}) is not built yet: run `bash models/build.sh <path to alignmap>` or `bash scripts/serve.sh`",
            path.display()
        )));
    }
    eprintln!("alignmap: using the bundled EfficientNet-Lite0 ({})", path.display());
    Ok(path)
}

fn progress_bar(len: usize, stage: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>10} [{bar:30}] {pos}/{len} {elapsed_precise} (eta {eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(stage.to_string());
    bar
}

fn open_device(choice: DeviceChoice) -> Result<ComputeDevice> {
    let device = device::select(choice)?;
    eprintln!("alignmap: device: {}", device.description);
    Ok(device)
}

fn load_network(
    path: &Path,
    requested: Option<ModelName>,
    device: &ComputeDevice,
) -> Result<Network> {
    let start = Instant::now();
    let net = Network::from_weights(TensorMap::from_file(path)?, requested, &device.device)?;
    eprintln!(
        "alignmap: loaded {} ({} classes) from {} in {:.1} s",
        net.name().label(),
        net.classes(),
        path.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(net)
}

/// The image files of a folder in sorted order, and their names.
fn list_folder(dir: &Path) -> Result<(Vec<PathBuf>, Vec<String>)> {
    let (paths, skipped) = cohort::list_images(dir)?;
    if !skipped.is_empty() {
        eprintln!(
            "alignmap: skipping {} file(s) that are not PNG/JPEG: {}",
            skipped.len(),
            skipped.join(", ")
        );
    }
    let names = paths
        .iter()
        .map(|p| p.file_name().expect("listed files have names").to_string_lossy().into_owned())
        .collect();
    Ok((paths, names))
}

/// One progress bar per stage of the pipeline.
#[derive(Default)]
pub(crate) struct Bars(std::cell::RefCell<Option<(Stage, indicatif::ProgressBar)>>);

impl Bars {
    pub(crate) fn show(&self, stage: Stage, done: usize, total: usize) {
        let mut current = self.0.borrow_mut();
        if current.as_ref().is_none_or(|(s, _)| *s != stage) {
            if let Some((_, bar)) = current.take() {
                bar.finish_and_clear();
            }
            *current = Some((stage, progress_bar(total, stage.name())));
        }
        let (_, bar) = current.as_ref().expect("set above");
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    }

    pub(crate) fn finish(&self) {
        if let Some((_, bar)) = self.0.borrow_mut().take() {
            bar.finish_and_clear();
        }
    }
}

fn create_dir(out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))
}

/// Writes `embeddings.npy`, `last_conv.npy` (or one array per image in `last_conv/` when the
/// images had different sizes) and `logits.npy` (`images.txt`, their row order, is the caller's).
fn write_extracted(out: &Path, names: &[String], x: &Extracted) -> Result<()> {
    let n = names.len();
    report::write_npy_f32(&out.join("embeddings.npy"), &[n, x.hidden], &x.embeddings)?;
    report::write_npy_f32(&out.join("logits.npy"), &[n, x.classes], &x.logits)?;
    match x.uniform_map_shape() {
        Some([c, h, w]) => {
            let all: Vec<f32> = x.maps.iter().flat_map(|(m, _)| m.iter().copied()).collect();
            report::write_npy_f32(&out.join("last_conv.npy"), &[n, c, h, w], &all)
        }
        None => {
            let dir = out.join("last_conv");
            create_dir(&dir)?;
            eprintln!(
                "alignmap: images differ in size, so their feature maps differ too: one file per image in {}",
                dir.display()
            );
            for (name, (map, shape)) in names.iter().zip(&x.maps) {
                report::write_npy_f32(&dir.join(format!("{name}.npy")), shape, map)?;
            }
            Ok(())
        }
    }
}

fn embed(
    weights: &Path,
    requested: Option<ModelName>,
    images: &Path,
    out: &Path,
    batch: usize,
    choice: DeviceChoice,
) -> Result<()> {
    let (paths, names) = list_folder(images)?;
    let device = open_device(choice)?;
    let model = load_network(weights, requested, &device)?;
    let clock = Instant::now();
    let bars = Bars::default();
    let (extracted, timings) = pollster::block_on(pipeline::extract_cohort(
        &model,
        &device.device,
        names.len(),
        &mut |i| {
            let bytes = std::fs::read(&paths[i]).map_err(|e| Error::io(&paths[i], e))?;
            cohort::decode(&names[i], &bytes)
        },
        batch,
        &mut pipeline::Hooks {
            progress: &mut |stage, done, total| bars.show(stage, done, total),
            image: &mut |_| {},
            cancelled: &|| false,
            clock: &|| clock.elapsed().as_secs_f64(),
        },
    ))?;
    bars.finish();
    eprintln!(
        "alignmap: {} images through {} in {:.2} s",
        names.len(),
        model.name().label(),
        timings["network_seconds"]
    );
    create_dir(out)?;
    report::write_lines(&out.join("images.txt"), &names)?;
    write_extracted(out, &names, &extracted)?;
    eprintln!(
        "alignmap: wrote images.txt, embeddings.npy, last_conv, logits.npy to {}",
        out.display()
    );
    Ok(())
}

/// Reads weights to be written out again, with EfficientNet-Lite's BatchNorm folded (the form
/// the model loads from safetensors).
fn read_for_writing(input: &Path) -> Result<TensorMap> {
    let map = TensorMap::from_file(input)?;
    let raw = alignmap::model::efficientnet::is_raw_state_dict(&map);
    let map = alignmap::model::efficientnet::fold_if_raw(map)?;
    if raw {
        eprintln!("alignmap: folded EfficientNet-Lite's BatchNorm layers into its convolutions");
    }
    Ok(map)
}

fn convert(input: &Path, output: &Path, dtype: StoredDtype) -> Result<()> {
    if input == output {
        return Err(Error::Invalid("convert: the output must not overwrite the input".into()));
    }
    let map = read_for_writing(input)?;
    let model = ModelName::detect(&map)?;
    let bytes = map.to_safetensors(dtype)?;
    eprintln!("alignmap: {} weights", model.label());
    std::fs::write(output, &bytes).map_err(|e| Error::io(output, e))?;
    eprintln!(
        "alignmap: wrote {} ({:.1} MB, {dtype:?}, {} tensors)",
        output.display(),
        bytes.len() as f64 / 1e6,
        map.keys().count()
    );
    Ok(())
}

fn shuffle(input: &Path, output: &Path, seed: u64) -> Result<()> {
    if input == output {
        return Err(Error::Invalid("shuffle: the output must not overwrite the input".into()));
    }
    let map = read_for_writing(input)?;
    let bytes = map.shuffled(seed).to_safetensors(StoredDtype::F32)?;
    std::fs::write(output, &bytes).map_err(|e| Error::io(output, e))?;
    eprintln!("alignmap: wrote {} (every tensor's values permuted, seed {seed})", output.display());
    Ok(())
}

fn synthetic_weights(out: &Path, spec: &str, seed: u64, dtype: StoredDtype) -> Result<()> {
    let spec: Vgg16Spec = spec.parse()?;
    let bytes = Vgg16::synthetic_weights(&spec, seed).to_safetensors(dtype)?;
    std::fs::write(out, &bytes).map_err(|e| Error::io(out, e))?;
    eprintln!(
        "alignmap: wrote {} (generated VGG-16, seed {seed}, {:.1} MB, {dtype:?})",
        out.display(),
        bytes.len() as f64 / 1e6
    );
    Ok(())
}

fn parse_size(size: &str) -> Result<(usize, usize)> {
    let bad = || Error::Invalid(format!("--size '{size}': expected HEIGHTxWIDTH, e.g. 224x224"));
    let (h, w) = size.split_once(['x', 'X']).ok_or_else(bad)?;
    Ok((h.trim().parse().map_err(|_| bad())?, w.trim().parse().map_err(|_| bad())?))
}

fn synthetic_forward(
    spec: &str,
    seed: u64,
    image_seed: u64,
    size: &str,
    repeat: usize,
    choice: DeviceChoice,
) -> Result<()> {
    let spec: Vgg16Spec = spec.parse()?;
    let (h, w) = parse_size(size)?;
    let device = open_device(choice)?;
    let model = Network::Vgg16(Vgg16::synthetic(&spec, seed, &device.device));
    model.check_input(h, w)?;
    let image = alignmap::synthetic::image(h as u32, w as u32, image_seed);
    let prepared = cohort::preprocess(&image, h.min(w), Normalization::IMAGENET);
    let mut best = f64::INFINITY;
    let mut result = Extracted::default();
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        result = pollster::block_on(extract::extract(
            &model,
            std::slice::from_ref(&prepared),
            &device.device,
            1,
            &mut |_| {},
        ))?;
        best = best.min(start.elapsed().as_secs_f64() * 1e3);
    }
    let json = serde_json::json!({
        "device": device.description,
        "embedding": result.embeddings,
        "logits": result.logits,
        "millis": best,
    });
    println!("{json}");
    Ok(())
}
