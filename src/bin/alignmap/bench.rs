//! `alignmap bench` and `alignmap bench-validate`: the hot paths against the straightforward
//! method, on full-size VGG-16 with generated weights and images.

use std::time::Instant;

use alignmap::ablation::{self, EngineOptions};
use alignmap::burn::prelude::{Tensor, TensorData};
use alignmap::cohort::{self, Normalization, Prepared};
use alignmap::device::{ComputeDevice, DeviceChoice};
use alignmap::error::{Error, Result};
use alignmap::extract::{self, Extracted, read_f32};
use alignmap::model::{Network, Vgg16};
use alignmap::selection;

use crate::{DeviceArg, open_device};

/// A generated cohort of `n` images with a fixed human similarity.
fn generated_cohort(n: usize) -> Result<(Vec<Prepared>, Vec<f64>)> {
    alignmap::pipeline::check_size(n).map_err(|e| Error::Invalid(format!("--n {n}: {e}")))?;
    let images = (0..n as u64)
        .map(|k| {
            cohort::preprocess(
                &alignmap::synthetic::image(224, 224, 1000 + 7919 * k),
                224,
                Normalization::IMAGENET,
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

fn setup(spec: &str, choice: DeviceChoice) -> Result<(ComputeDevice, Network)> {
    let spec: alignmap::model::Vgg16Spec = spec.parse()?;
    let device = open_device(choice)?;
    let model = Network::Vgg16(Vgg16::synthetic(&spec, 7, &device.device));
    Ok((device, model))
}

fn all_maps(extracted: &Extracted, device: &ComputeDevice) -> Tensor<4> {
    let [c, h, w] = extracted.uniform_map_shape().expect("generated images share one size");
    let maps: Vec<f32> = extracted.maps.iter().flat_map(|(m, _)| m.iter().copied()).collect();
    Tensor::<4>::from_data(TensorData::new(maps, [extracted.len(), c, h, w]), &device.device)
}

pub fn bench(
    sizes: &[usize],
    naive_channels: Option<usize>,
    spec: &str,
    choice: DeviceChoice,
) -> Result<()> {
    let (device, model) = setup(spec, choice)?;
    let channels = model.channels();
    for &n in sizes {
        let (images, human) = generated_cohort(n)?;
        let start = Instant::now();
        let extracted =
            pollster::block_on(extract::extract(&model, &images, &device.device, 8, &mut |_| {}))?;
        let trunk_s = start.elapsed().as_secs_f64();
        let inputs = extracted.inputs_tensor(channels, &device.device);
        let start = Instant::now();
        let fast = pollster::block_on(ablation::alignment_importance(
            &model,
            inputs,
            &human,
            &EngineOptions::default(),
            &mut |_, _| {},
        ))?;
        let engine_s = start.elapsed().as_secs_f64();
        let sample = naive_channels.unwrap_or(channels).clamp(1, channels);
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
        println!(
            "n = {n:>4}: engine {engine_s:8.2} s | naive {naive_s:8.2} s{} | ratio {:6.1}x | trunk {trunk_s:.2} s | zero pairs {} | device {}",
            if sample < channels {
                format!(" (timed on {sample} of {channels} channels, scaled)")
            } else {
                String::new()
            },
            naive_s / engine_s,
            fast.zero_pairs,
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
    /// tiny or vgg16.
    #[arg(long, default_value = "vgg16")]
    spec: String,
    #[command(flatten)]
    device: DeviceArg,
}

/// Times the whole protocol: the engine once (with the Gram matrices), then per fold the
/// training AIS and the selection curves; the naive method runs the head once per (fold, m).
pub fn bench_validate(args: &BenchValidateArgs) -> Result<()> {
    let (device, model) = setup(&args.spec, args.device.device)?;
    let channels = model.channels();
    let (images, human) = generated_cohort(args.n)?;
    let extracted =
        pollster::block_on(extract::extract(&model, &images, &device.device, 8, &mut |_| {}))?;
    let inputs = extracted.inputs_tensor(channels, &device.device);
    let options = EngineOptions { keep_grams: true, ..Default::default() };
    let start = Instant::now();
    let scores = pollster::block_on(ablation::alignment_importance(
        &model,
        inputs.clone(),
        &human,
        &options,
        &mut |_, _| {},
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
    println!(
        "n = {}: protocol of {} folds × {channels} kept-set sizes: {protocol_s:.1} s (engine with Gram matrices {engine_s:.1} s + {per_fold_s:.2} s per fold, timed on {timed}) | naive {naive_s:.1} s (timed on {steps} head passes, scaled) | ratio {:.1}x | device {}",
        args.n,
        args.protocol_folds,
        naive_s / protocol_s,
        device.description
    );
    Ok(())
}
