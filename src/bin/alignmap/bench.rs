//! `alignmap bench` and `alignmap bench-validate`: the hot paths against the straightforward
//! method, on full-size VGG-16 with generated weights and images.

use std::time::Instant;

use std::path::{Path, PathBuf};

use alignmap::ablation::{self, EngineOptions, Event};
use alignmap::burn::prelude::{Tensor, TensorData};
use alignmap::cohort::{self, Prepared};
use alignmap::device::ComputeDevice;
use alignmap::error::{Error, Result};
use alignmap::extract::{self, Extracted, read_f32};
use alignmap::model::{Network, Vgg16};
use alignmap::selection;

use crate::{DeviceArg, load_network, open_device};

/// A generated cohort of `n` images with a fixed human similarity, prepared for `net`.
fn generated_cohort(net: &Network, n: usize) -> Result<(Vec<Prepared>, Vec<f64>)> {
    alignmap::pipeline::check_size(n).map_err(|e| Error::Invalid(format!("--n {n}: {e}")))?;
    let images = (0..n as u64)
        .map(|k| {
            cohort::preprocess(
                &alignmap::synthetic::image(224, 224, 1000 + 7919 * k),
                net.input_side(),
                net.normalization(),
            )
        })
        .collect();
    let human = (0..n * n)
        .map(|i| {
            let (a, b) = (i / n, i % n);
            if a == b { 1.0 } else { ((a * b + a + b) % 17) as f64 / 17.0 }
        })
        .collect();
    Ok((images, human))
}

/// The network a benchmark runs: a weights file, or generated VGG-16 weights of `spec`.
#[derive(clap::Args)]
pub struct NetworkArgs {
    /// Generated VGG-16 weights: tiny or vgg16 (full size).
    #[arg(long, default_value = "vgg16")]
    spec: String,
    /// A weights file instead (e.g. the bundled models/efficientnet-lite0-f16.safetensors).
    #[arg(long)]
    weights: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceArg,
}

fn setup(args: &NetworkArgs) -> Result<(ComputeDevice, Network)> {
    let device = open_device(args.device.device)?;
    let model = match &args.weights {
        Some(path) => load_network(path, None, &device)?,
        None => Network::Vgg16(Vgg16::synthetic(&args.spec.parse()?, 7, &device.device)),
    };
    Ok((device, model))
}

fn all_maps(extracted: &Extracted, device: &ComputeDevice) -> Tensor<4> {
    let [c, h, w] = extracted.uniform_map_shape().expect("generated images share one size");
    let maps: Vec<f32> = extracted.maps.iter().flat_map(|(m, _)| m.iter().copied()).collect();
    Tensor::<4>::from_data(TensorData::new(maps, [extracted.len(), c, h, w]), &device.device)
}

/// The engine on `inputs`: its scores, its time, and the time to its first per-image result.
fn time_engine(
    model: &Network,
    inputs: Tensor<3>,
    human: &[f64],
    options: &EngineOptions,
) -> Result<(ablation::AisScores, f64, f64)> {
    let start = Instant::now();
    let mut first = None;
    let scores = pollster::block_on(ablation::alignment_importance(
        model,
        inputs,
        human,
        options,
        &mut |e| {
            if matches!(e, Event::Image { .. }) && first.is_none() {
                first = Some(start.elapsed().as_secs_f64());
            }
            Ok(())
        },
    ))?;
    let total = start.elapsed().as_secs_f64();
    Ok((scores, total, first.unwrap_or(total)))
}

/// What `python3 ANCHOR n` (shared/bench/cpu_anchor.py: the same exact fast ablation of VGG-16's
/// head in NumPy) prints as its time, in seconds.
fn numpy_anchor(anchor: &Path, n: usize) -> Result<f64> {
    let out = std::process::Command::new("python3")
        .arg(anchor)
        .arg(n.to_string())
        .output()
        .map_err(|e| Error::io(anchor, e))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line: serde_json::Value = serde_json::from_str(text.trim()).map_err(|e| {
        Error::Invalid(format!(
            "{}: expected one JSON line with numpy_exact_fast_s, got {:?} ({e}); stderr: {}",
            anchor.display(),
            text.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    })?;
    line["numpy_exact_fast_s"].as_f64().ok_or_else(|| {
        Error::Invalid(format!("{}: no numpy_exact_fast_s in {line}", anchor.display()))
    })
}

/// Multiply-adds of a VGG-16-shaped trunk on a `side × side` image (the 13 3×3 convolutions).
fn vgg_trunk_macs(widths: &[usize; 13], side: usize) -> f64 {
    let mut macs = 0.0;
    let (mut cin, mut s) = (3, side);
    for (layer, &cout) in widths.iter().enumerate() {
        macs += (s * s * cin * cout * 9) as f64;
        cin = cout;
        if [1, 3, 6, 9].contains(&layer) {
            s /= 2;
        }
    }
    macs
}

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Cohort sizes to time, space- or comma-separated.
    #[arg(long, num_args = 1.., value_delimiter = ',', default_values_t = [24, 120])]
    n: Vec<usize>,
    /// Time the naive path on this many channels and scale to all (each channel is the same work).
    #[arg(long)]
    naive_channels: Option<usize>,
    /// shared/bench/cpu_anchor.py: runs it for each n in the same invocation and prints the
    /// engine's time as a ratio of NumPy's (VGG-16's head; the trunk excluded in both).
    #[arg(long)]
    numpy_anchor: Option<PathBuf>,
    #[command(flatten)]
    network: NetworkArgs,
}

pub fn bench(args: &BenchArgs) -> Result<()> {
    let (device, model) = setup(&args.network)?;
    let channels = model.channels();
    for &n in &args.n {
        let (images, human) = generated_cohort(&model, n)?;
        let start = Instant::now();
        let extracted =
            pollster::block_on(extract::extract(&model, &images, &device.device, 8, &mut |_| {}))?;
        let trunk_s = start.elapsed().as_secs_f64();
        let inputs = extracted.inputs_tensor(channels, &device.device);
        let (fast, engine_s, first_s) =
            time_engine(&model, inputs, &human, &EngineOptions::default())?;
        let sample = args.naive_channels.unwrap_or(channels).clamp(1, channels);
        let maps = all_maps(&extracted, &device);
        // The naive path's setup (the full pass) once, its per-channel head passes scaled.
        let naive = |only: std::ops::Range<usize>| -> Result<f64> {
            let start = Instant::now();
            pollster::block_on(ablation::alignment_importance_naive(
                &model,
                maps.clone(),
                &human,
                only,
                &mut |_, _| {},
            ))?;
            Ok(start.elapsed().as_secs_f64())
        };
        let setup_s = naive(0..0)?;
        let naive_s = setup_s + (naive(0..sample)? - setup_s) * channels as f64 / sample as f64;
        let mut line = format!(
            "n = {n:>4}: engine {engine_s:8.2} s (first image {first_s:.2} s) | naive {naive_s:8.2} s{} | naive/engine {:6.1}x",
            if sample < channels {
                format!(" (timed on {sample} of {channels} channels, scaled)")
            } else {
                String::new()
            },
            naive_s / engine_s,
        );
        if let Network::Vgg16(vgg) = &model {
            let hidden = vgg.spec.hidden as f64;
            let fc7_gflop = 2.0 * (n * channels) as f64 * hidden * hidden / 1e9;
            let trunk_gflop = 2.0 * n as f64 * vgg_trunk_macs(&vgg.spec.widths, 224) / 1e9;
            line += &format!(
                " | fc7 {:.0} GFLOP/s | trunk {trunk_s:.2} s, {:.0} GFLOP/s",
                fc7_gflop / engine_s,
                trunk_gflop / trunk_s
            );
        } else {
            line += &format!(" | trunk {trunk_s:.2} s");
        }
        if let Some(anchor) = &args.numpy_anchor {
            let numpy_s = numpy_anchor(anchor, n)?;
            line += &format!(" | NumPy {numpy_s:.2} s, engine/NumPy {:.2}", engine_s / numpy_s);
        }
        println!(
            "{line} | zero pairs {} | {} on {}",
            fast.zero_pairs,
            model.name().label(),
            device.description
        );
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct BenchValidateArgs {
    #[arg(long, default_value_t = 120)]
    n: usize,
    /// Folds of the protocol (5 folds × 8 seeds: 40).
    #[arg(long, default_value_t = 40)]
    protocol_folds: usize,
    /// Folds actually timed; the protocol's time is scaled from them.
    #[arg(long, default_value_t = 1)]
    timed_folds: usize,
    /// Kept-set sizes m timed for the naive method (a full head pass each), scaled to all.
    #[arg(long, default_value_t = 4)]
    naive_steps: usize,
    #[command(flatten)]
    network: NetworkArgs,
}

/// Times the whole protocol: the engine once (with the Gram matrices), then per fold the
/// training AIS and the selection curves; the naive method runs the head once per (fold, m).
pub fn bench_validate(args: &BenchValidateArgs) -> Result<()> {
    let (device, model) = setup(&args.network)?;
    let channels = model.channels();
    let (images, human) = generated_cohort(&model, args.n)?;
    let start = Instant::now();
    let extracted =
        pollster::block_on(extract::extract(&model, &images, &device.device, 8, &mut |_| {}))?;
    let trunk_s = start.elapsed().as_secs_f64();
    let inputs = extracted.inputs_tensor(channels, &device.device);
    let options = EngineOptions { keep_grams: true, ..Default::default() };
    let start = Instant::now();
    let scores = pollster::block_on(ablation::alignment_importance(
        &model,
        inputs.clone(),
        &human,
        &options,
        &mut |_| Ok(()),
    ))?;
    let engine_s = start.elapsed().as_secs_f64();
    let folds = selection::make_folds(args.n, 5, &alignmap::folds::PAPER_SEEDS)?;
    let timed = args.timed_folds.clamp(1, folds.len());
    let start = Instant::now();
    let results = pollster::block_on(selection::cross_validate(
        &model,
        &inputs,
        &scores,
        &human,
        &folds[..timed],
        &EngineOptions::default(),
        &mut |_, _| {},
    ))?;
    let per_fold_s = start.elapsed().as_secs_f64() / timed as f64;
    let protocol_s = engine_s + per_fold_s * args.protocol_folds as f64;

    // The naive method: zero the unkept channels in every image's maps and run the whole head.
    let maps = all_maps(&extracted, &device);
    let steps = args.naive_steps.clamp(1, channels);
    let order = &results[0].order;
    let start = Instant::now();
    for step in 0..steps {
        let m = 1 + step * (channels - 1) / steps.max(2).saturating_sub(1).max(1);
        let mut keep = vec![0.0f32; channels];
        order[..m.min(channels)].iter().for_each(|&k| keep[k] = 1.0);
        let mask = Tensor::<1>::from_data(TensorData::new(keep, [channels]), &device.device)
            .reshape([1, channels, 1, 1]);
        pollster::block_on(read_f32(model.head(maps.clone() * mask)))?;
    }
    let naive_s =
        start.elapsed().as_secs_f64() / steps as f64 * (channels * args.protocol_folds) as f64;
    let analysis_s = trunk_s + engine_s;
    println!(
        "n = {}: protocol of {} folds × {channels} kept-set sizes: {protocol_s:.1} s (engine with Gram matrices {engine_s:.1} s + {per_fold_s:.2} s per fold, timed on {timed}) | one analysis {analysis_s:.1} s (network {trunk_s:.1} s + engine), protocol/analysis {:.1}x, protocol/engine {:.1}x | naive {naive_s:.1} s (timed on {steps} head passes, scaled), naive/protocol {:.1}x | {} on {}",
        args.n,
        args.protocol_folds,
        protocol_s / analysis_s,
        protocol_s / engine_s,
        naive_s / protocol_s,
        model.name().label(),
        device.description
    );
    Ok(())
}
