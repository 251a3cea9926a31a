//! The alignmap command-line tool: a thin shell over the library.

use std::path::{Path, PathBuf};
use std::time::Instant;

use alignmap::cohort::{self, Normalization, Prepared};
use alignmap::device::{self, ComputeDevice, DeviceChoice};
use alignmap::error::{Error, Result};
use alignmap::extract::{self, Extracted};
use alignmap::model::{ModelName, Network, Vgg16, Vgg16Spec};
use alignmap::report;
use alignmap::weights::{StoredDtype, TensorMap};
use alignmap::burn::prelude::{Tensor, TensorData};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

mod serve;

#[derive(Parser)]
#[command(name = "alignmap", version, about = "Alignment Importance Scores: which feature maps of a vision network carry its alignment with human similarity judgments")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
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
        /// Weights: safetensors (VGG-16 with torchvision or timm keys, EfficientNet-Lite0; f32/f16/bf16)
        /// or a PyTorch .pth. Default: the bundled EfficientNet-Lite0 (models/build.sh).
        #[arg(long)]
        weights: Option<PathBuf>,
        /// vgg16 or efficientnet-lite0; checked against the weights file's keys.
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
    Analyze {
        /// Weights: safetensors (VGG-16 with torchvision or timm keys, EfficientNet-Lite0; f32/f16/bf16)
        /// or a PyTorch .pth. Default: the bundled EfficientNet-Lite0 (models/build.sh).
        #[arg(long)]
        weights: Option<PathBuf>,
        /// vgg16 or efficientnet-lite0; checked against the weights file's keys.
        #[arg(long)]
        model: Option<ModelName>,
        /// Folder of PNG/JPEG images (sorted file names give the row order of every output).
        #[arg(long)]
        images: PathBuf,
        /// Human matrix: CSV/TSV/TXT, NPY, NPZ (see --key) or JSON.
        #[arg(long)]
        similarity: PathBuf,
        /// The array in an NPZ, or the category in a names file such as Peterson's fnames.json.
        #[arg(long)]
        key: Option<String>,
        /// Row/column names of the matrix: JSON list, fnames.json ({category: {"fnames": [...]}}), or one per line.
        #[arg(long)]
        names: Option<PathBuf>,
        /// The matrix holds dissimilarities (an RDM); converted with S = −D.
        #[arg(long)]
        dissimilarity: bool,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 4)]
        batch: usize,
        /// Device memory for one chunk of ablations, in MiB.
        #[arg(long, default_value_t = 256)]
        chunk_mib: usize,
        #[command(flatten)]
        device: DeviceArg,
    },
    /// Convert weights (.pth or safetensors) to a safetensors file a browser can fetch.
    Convert {
        input: PathBuf,
        output: PathBuf,
        /// Storage precision: f32, f16 or bf16.
        #[arg(long, default_value = "f32")]
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
    /// on full-size VGG-16 with generated weights and images; prints times and their ratio.
    Bench {
        /// Cohort sizes to time.
        #[arg(long, num_args = 1.., default_values_t = [24, 120])]
        n: Vec<usize>,
        /// Time the naive path on this many channels and scale to all (each channel is the same work).
        #[arg(long)]
        naive_channels: Option<usize>,
        /// tiny or vgg16.
        #[arg(long, default_value = "vgg16")]
        spec: String,
        #[command(flatten)]
        device: DeviceArg,
    },
    /// Serve the browser app (a folder of static files) on localhost.
    Serve {
        #[arg(long, default_value = "www")]
        dir: PathBuf,
        #[arg(long, default_value_t = 8080)]
        port: u16,
    },
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Embed { weights, model, images, out, batch, device } => default_weights(weights).and_then(|weights| embed(&weights, model, &images, &out, batch, device.device)),
        Command::Analyze { weights, model, images, similarity, key, names, dissimilarity, out, batch, chunk_mib, device } => default_weights(weights).and_then(|weights| analyze(&AnalyzeArgs {
            weights,
            model,
            images,
            similarity,
            key,
            names,
            dissimilarity,
            out,
            batch,
            chunk_mib,
            device: device.device,
        })),
        Command::Convert { input, output, dtype } => convert(&input, &output, dtype),
        Command::Shuffle { input, output, seed } => shuffle(&input, &output, seed),
        Command::SyntheticForward { spec, seed, image_seed, size, repeat, device } => synthetic_forward(&spec, seed, image_seed, &size, repeat, device.device),
        Command::Bench { n, naive_channels, spec, device } => bench(&n, naive_channels, &spec, device.device),
        Command::Serve { dir, port } => serve::serve(&dir, port),
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
    let path = std::env::var_os("ALIGNMAP_DEFAULT_WEIGHTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("models/efficientnet-lite0-f16.safetensors"));
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
    bar.set_style(ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} {elapsed_precise} (eta {eta})").expect("valid template").progress_chars("=> "));
    bar.set_prefix(stage.to_string());
    bar
}

fn open_device(choice: DeviceChoice) -> Result<ComputeDevice> {
    let device = device::select(choice)?;
    eprintln!("alignmap: device: {}", device.description);
    Ok(device)
}

fn load_network(path: &Path, requested: Option<ModelName>, device: &ComputeDevice) -> Result<Network> {
    let start = Instant::now();
    let net = Network::from_weights(TensorMap::from_file(path)?, requested, &device.device)?;
    eprintln!("alignmap: loaded {} ({} classes) from {} in {:.1} s", net.name().label(), net.classes(), path.display(), start.elapsed().as_secs_f64());
    Ok(net)
}

/// The image files of a folder in sorted order, and their names.
fn list_folder(dir: &Path) -> Result<(Vec<PathBuf>, Vec<String>)> {
    let (paths, skipped) = cohort::list_images(dir)?;
    if !skipped.is_empty() {
        eprintln!("alignmap: skipping {} file(s) that are not PNG/JPEG: {}", skipped.len(), skipped.join(", "));
    }
    let names = paths.iter().map(|p| p.file_name().expect("listed files have names").to_string_lossy().into_owned()).collect();
    Ok((paths, names))
}

/// Decodes and preprocesses images for a network.
fn prepare_images(paths: &[PathBuf], names: &[String], norm: Normalization) -> Result<Vec<Prepared>> {
    let bar = progress_bar(paths.len(), "decode");
    let mut prepared = Vec::with_capacity(paths.len());
    for (path, name) in paths.iter().zip(names) {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        prepared.push(cohort::preprocess(&cohort::decode(name, &bytes)?, 224, norm));
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(prepared)
}

fn run_network(model: &Network, prepared: &[Prepared], device: &ComputeDevice, batch: usize) -> Result<Extracted> {
    let bar = progress_bar(prepared.len(), "network");
    let out = pollster::block_on(extract::extract(model, prepared, &device.device, batch, &mut |done| bar.set_position(done as u64)))?;
    bar.finish_and_clear();
    Ok(out)
}

fn create_dir(out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))
}

/// Writes `images.txt`, `embeddings.npy`, `last_conv.npy` (or one array per image in
/// `last_conv/` when the images had different sizes) and `logits.npy`.
fn write_extracted(out: &Path, names: &[String], x: &Extracted) -> Result<()> {
    let n = names.len();
    report::write_lines(&out.join("images.txt"), names)?;
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
            eprintln!("alignmap: images differ in size, so their feature maps differ too: one file per image in {}", dir.display());
            for (name, (map, shape)) in names.iter().zip(&x.maps) {
                report::write_npy_f32(&dir.join(format!("{name}.npy")), shape, map)?;
            }
            Ok(())
        }
    }
}

fn embed(weights: &Path, requested: Option<ModelName>, images: &Path, out: &Path, batch: usize, choice: DeviceChoice) -> Result<()> {
    let (paths, names) = list_folder(images)?;
    let device = open_device(choice)?;
    let model = load_network(weights, requested, &device)?;
    let prepared = prepare_images(&paths, &names, model.normalization())?;
    let start = Instant::now();
    let extracted = run_network(&model, &prepared, &device, batch)?;
    eprintln!("alignmap: {} images through {} in {:.2} s", names.len(), model.name().label(), start.elapsed().as_secs_f64());
    create_dir(out)?;
    write_extracted(out, &names, &extracted)?;
    eprintln!("alignmap: wrote images.txt, embeddings.npy, last_conv, logits.npy to {}", out.display());
    Ok(())
}

/// Reads weights to be written out again, with EfficientNet-Lite0's BatchNorm folded (the form
/// the model loads from safetensors).
fn read_for_writing(input: &Path) -> Result<TensorMap> {
    let map = TensorMap::from_file(input)?;
    let raw = alignmap::model::efficientnet::is_raw_state_dict(&map);
    let map = alignmap::model::efficientnet::fold_if_raw(map)?;
    if raw {
        eprintln!("alignmap: folded EfficientNet-Lite0's BatchNorm layers into its convolutions");
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
    eprintln!("alignmap: wrote {} ({:.1} MB, {dtype:?}, {} tensors)", output.display(), bytes.len() as f64 / 1e6, map.keys().count());
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

fn parse_size(size: &str) -> Result<(usize, usize)> {
    let bad = || Error::Invalid(format!("--size '{size}': expected HEIGHTxWIDTH, e.g. 224x224"));
    let (h, w) = size.split_once(['x', 'X']).ok_or_else(bad)?;
    Ok((h.trim().parse().map_err(|_| bad())?, w.trim().parse().map_err(|_| bad())?))
}

fn parse_spec(spec: &str) -> Result<Vgg16Spec> {
    match spec {
        "tiny" => Ok(Vgg16Spec::tiny()),
        "vgg16" => Ok(Vgg16Spec::full(1000)),
        other => Err(Error::Invalid(format!("unknown spec '{other}': expected tiny or vgg16"))),
    }
}

fn synthetic_forward(spec: &str, seed: u64, image_seed: u64, size: &str, repeat: usize, choice: DeviceChoice) -> Result<()> {
    let spec = parse_spec(spec)?;
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
        result = pollster::block_on(extract::extract(&model, std::slice::from_ref(&prepared), &device.device, 1, &mut |_| {}))?;
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

struct AnalyzeArgs {
    weights: PathBuf,
    model: Option<ModelName>,
    images: PathBuf,
    similarity: PathBuf,
    key: Option<String>,
    names: Option<PathBuf>,
    dissimilarity: bool,
    out: PathBuf,
    batch: usize,
    chunk_mib: usize,
    device: DeviceChoice,
}

fn sha256_file(path: &Path) -> Result<String> {
    use sha2::Digest;
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = sha2::Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| Error::io(path, e))?;
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// A score table as CSV: one row per name, one column per feature map.
fn write_score_csv(path: &Path, row_names: &[String], values: &[f64], columns: usize) -> Result<()> {
    let mut text = String::from("image");
    for k in 0..columns {
        text.push_str(&format!(",fm{k}"));
    }
    text.push('\n');
    for (name, row) in row_names.iter().zip(values.chunks_exact(columns)) {
        text.push_str(&csv_field(name));
        for v in row {
            text.push_str(&format!(",{v}"));
        }
        text.push('\n');
    }
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

fn analyze(args: &AnalyzeArgs) -> Result<()> {
    use alignmap::ablation::{self, EngineOptions};
    use alignmap::similarity::{self, Direction};
    let mut timings = serde_json::Map::new();
    let mut stage = Instant::now();
    let mut lap = |name: &str, timings: &mut serde_json::Map<String, serde_json::Value>| {
        timings.insert(name.to_string(), serde_json::json!(stage.elapsed().as_secs_f64()));
        stage = Instant::now();
    };

    let (paths, names) = list_folder(&args.images)?;
    let direction = if args.dissimilarity { Direction::Dissimilarity } else { Direction::Similarity };
    let matrix = similarity::load_matrix(&args.similarity, args.names.as_deref(), args.key.as_deref(), direction)?;
    for warning in &matrix.warnings {
        eprintln!("alignmap: warning: {warning}");
    }
    let matched = similarity::match_to_images(&matrix, &names)?;
    for line in &matched.report {
        eprintln!("alignmap: {line}");
    }

    let device = open_device(args.device)?;
    let model = load_network(&args.weights, args.model, &device)?;
    lap("load_weights_seconds", &mut timings);
    let prepared = prepare_images(&paths, &names, model.normalization())?;
    lap("decode_seconds", &mut timings);
    let extracted = run_network(&model, &prepared, &device, args.batch)?;
    lap("network_seconds", &mut timings);

    let n = names.len();
    let channels = model.channels();
    let inputs = extracted.inputs_tensor(channels, &device.device);
    let bar = progress_bar(channels, "ablation");
    let options = EngineOptions { chunk_bytes: args.chunk_mib.max(1) << 20 };
    let scores = pollster::block_on(ablation::alignment_importance(&model, inputs, &matched.similarity, &options, &mut |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    }))?;
    bar.finish_and_clear();
    lap("ablation_seconds", &mut timings);
    // A correlation with a constant vector is undefined: say where, rather than write NaN silently.
    let undefined = scores.image.iter().chain(&scores.dataset_r).chain(&scores.baseline.per_image).filter(|v| !v.is_finite()).count();
    if undefined > 0 {
        eprintln!("alignmap: warning: {undefined} score(s) are undefined (NaN): an embedding or a human row is constant; see summary.json");
    }

    let out = &args.out;
    create_dir(out)?;
    write_extracted(out, &names, &extracted)?;
    let f32s = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
    report::write_npy_f32(&out.join("ais_image.npy"), &[n, channels], &f32s(&scores.image))?;
    report::write_npy_f32(&out.join("ais_dataset.npy"), &[channels], &f32s(&scores.dataset_r))?;
    report::write_npy_f32(&out.join("ais_dataset_r2.npy"), &[channels], &f32s(&scores.dataset_r2))?;
    write_score_csv(&out.join("ais_image.csv"), &names, &scores.image, channels)?;
    let both: Vec<f64> = scores.dataset_r.iter().chain(&scores.dataset_r2).copied().collect();
    write_score_csv(&out.join("ais_dataset.csv"), &["ais_r".to_string(), "ais_r2".to_string()], &both, channels)?;
    lap("write_seconds", &mut timings);

    let summary = serde_json::json!({
        "alignmap_version": env!("CARGO_PKG_VERSION"),
        "n_images": n,
        "feature_maps": channels,
        "baseline": {
            "r": scores.baseline.r,
            "r2": scores.baseline.r2,
            "per_image": names.iter().zip(&scores.baseline.per_image).map(|(name, r)| serde_json::json!({"image": name, "r": r})).collect::<Vec<_>>(),
        },
        "ais": {
            "ais_dataset.npy": "r − r_k (the paper's ρ)",
            "ais_dataset_r2.npy": "r² − r_k² (the authors' code)",
            "ais_image.npy": "base_t − r_tk, rows in images.txt order",
            "zero_image_channel_pairs": scores.zero_pairs,
            "undefined_scores": undefined,
            "channels_zero_in_every_image": scores.skipped_channels,
        },
        "model": {
            "name": model.name().label(),
            "classes": model.classes(),
            "weights": args.weights.display().to_string(),
            "weights_sha256": sha256_file(&args.weights)?,
        },
        "human": {
            "file": args.similarity.display().to_string(),
            "key": args.key,
            "names": args.names.as_ref().map(|p| p.display().to_string()),
            "direction": if args.dissimilarity { "dissimilarity (S = −D)" } else { "similarity" },
            "warnings": matrix.warnings,
            "matching": matched.report,
        },
        "device": device.description,
        "timings": timings,
    });
    report::write_json(&out.join("summary.json"), &summary)?;
    eprintln!(
        "alignmap: baseline 2OI r = {:.4} (r² = {:.4}); wrote scores for {n} images × {channels} feature maps to {}",
        scores.baseline.r,
        scores.baseline.r2,
        out.display()
    );
    Ok(())
}

fn bench(sizes: &[usize], naive_channels: Option<usize>, spec: &str, choice: DeviceChoice) -> Result<()> {
    use alignmap::ablation::{self, EngineOptions};
    let spec = parse_spec(spec)?;
    let device = open_device(choice)?;
    let model = Network::Vgg16(Vgg16::synthetic(&spec, 7, &device.device));
    let channels = spec.channels();
    for &n in sizes {
        if n < 4 {
            return Err(Error::Invalid(format!("--n {n}: a cohort needs at least 4 images")));
        }
        let images: Vec<Prepared> = (0..n as u64).map(|k| cohort::preprocess(&alignmap::synthetic::image(224, 224, 1000 + 7919 * k), 224, Normalization::IMAGENET)).collect();
        let human: Vec<f64> = (0..n * n).map(|i| { let (a, b) = (i / n, i % n); if a == b { 1.0 } else { ((a * b + a + b) % 17) as f64 / 17.0 } }).collect();
        let start = Instant::now();
        let extracted = pollster::block_on(extract::extract(&model, &images, &device.device, 8, &mut |_| {}))?;
        let trunk_s = start.elapsed().as_secs_f64();
        let inputs = extracted.inputs_tensor(channels, &device.device);
        let start = Instant::now();
        let fast = pollster::block_on(ablation::alignment_importance(&model, inputs, &human, &EngineOptions::default(), &mut |_, _| {}))?;
        let engine_s = start.elapsed().as_secs_f64();
        let [c, h, w] = extracted.uniform_map_shape().expect("generated images share one size");
        let maps: Vec<f32> = extracted.maps.iter().flat_map(|(m, _)| m.iter().copied()).collect();
        let sample = naive_channels.unwrap_or(channels).clamp(1, channels);
        let maps = Tensor::<4>::from_data(TensorData::new(maps, [n, c, h, w]), &device.device);
        let start = Instant::now();
        pollster::block_on(ablation::alignment_importance_naive(&model, maps, &human, 0..sample, &mut |_, _| {}))?;
        let naive_s = start.elapsed().as_secs_f64() * channels as f64 / sample as f64;
        println!(
            "n = {n:>4}: engine {engine_s:8.2} s | naive {naive_s:8.2} s{} | ratio {:6.1}x | trunk {trunk_s:.2} s | zero pairs {} | device {}",
            if sample < channels { format!(" (timed on {sample} of {channels} channels, scaled)") } else { String::new() },
            naive_s / engine_s,
            fast.zero_pairs,
            device.description
        );
    }
    Ok(())
}
