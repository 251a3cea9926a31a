//! The AIS engine: equal to the naive path (a full head pass per ablated channel) on CPU and
//! wgpu, and to the independent numpy reference (tests/golden, `ais_*`).

mod common;

use alignmap::ablation::EngineOptions;
use alignmap::burn::prelude::*;
use common::*;

/// The naive path and the engine compute in f32 on the same device.
const ENGINE_VS_NAIVE: f64 = 1e-5;
/// f32 pipeline vs the f64 reference; per-image correlations have only 7 points here.
const ENGINE_VS_REFERENCE: f64 = 1e-4;

/// A symmetric similarity with unit diagonal from a fixed formula.
fn generated_human(n: usize) -> Vec<f64> {
    unit_diagonal(n, |a, b| {
        (((a * b * 7 + a + b) % 23) as f64 / 23.0 + ((a + b) as f64).sin() * 0.1).clamp(0.0, 1.0)
    })
}

/// (image, channel) pairs whose pooled values are all zero, from the reference.
fn zero_pairs() -> Vec<(usize, usize)> {
    read_json(&golden("ais_baseline.json"))["zero_pooled_channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_u64().unwrap() as usize, p[1].as_u64().unwrap() as usize))
        .collect()
}

/// 24 images: the per-image correlations then have 23 points, as in a small real cohort.
fn engine_equals_naive_on(device: &Device) {
    let (model, maps) = tiny_vgg_cohort(11, 24, 500, device);
    let human = generated_human(24);
    // A small chunk budget forces several chunks.
    let options = EngineOptions { chunk_bytes: 64 << 10, ..Default::default() };
    let fast = engine_scores(&model, model.ablation_inputs(maps.clone()), &human, &options);
    let naive = naive_scores(&model, maps, &human, 0..32);
    assert_eq!((fast.n, fast.channels), (24, 32));
    let d_image = max_abs_diff(&fast.image, &naive.image);
    let d_r = max_abs_diff(&fast.dataset_r, &naive.dataset_r);
    let d_r2 = max_abs_diff(&fast.dataset_r2, &naive.dataset_r2);
    eprintln!("engine vs naive: per-image {d_image:.1e}, dataset r {d_r:.1e}, r² {d_r2:.1e}");
    assert!(d_image <= ENGINE_VS_NAIVE && d_r <= ENGINE_VS_NAIVE && d_r2 <= ENGINE_VS_NAIVE);
    assert_eq!(fast.zero_pairs, naive.zero_pairs);
    eprintln!("{} (image, channel) pairs with all-zero pooled values", fast.zero_pairs);
    assert!(fast.image.iter().any(|&v| v.abs() > 1e-3), "scores are not all zero");
}

#[test]
fn engine_equals_naive_on_cpu() {
    engine_equals_naive_on(&Device::flex());
}

#[test]
fn engine_equals_naive_on_wgpu() {
    if let Some(device) = wgpu_device() {
        engine_equals_naive_on(&device);
    }
}

#[test]
fn engine_matches_the_numpy_reference() {
    let device = Device::flex();
    // The cohort of the numpy reference (tests/golden/README.md).
    let (model, maps) = tiny_vgg_cohort(7, 8, 100, &device);
    let human = read_npy_f64("ais_H.npy").1;
    let s = engine_scores(&model, model.ablation_inputs(maps), &human, &EngineOptions::default());
    let baseline = read_json(&golden("ais_baseline.json"));
    assert!((s.baseline.r - baseline["r"].as_f64().unwrap()).abs() < ENGINE_VS_REFERENCE);
    assert!((s.baseline.r2 - baseline["r2"].as_f64().unwrap()).abs() < ENGINE_VS_REFERENCE);
    let per_image: Vec<f64> =
        baseline["per_image"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert!(max_abs_diff(&s.baseline.per_image, &per_image) < ENGINE_VS_REFERENCE);
    let (_, image) = read_npy_f64("ais_image.npy");
    let (_, dataset_r2) = read_npy_f64("ais_dataset.npy");
    let (_, dataset_r) = read_npy_f64("ais_dataset_r.npy");
    let d = [
        max_abs_diff(&s.image, &image),
        max_abs_diff(&s.dataset_r, &dataset_r),
        max_abs_diff(&s.dataset_r2, &dataset_r2),
    ];
    eprintln!("engine vs numpy: per-image {:.1e}, dataset r {:.1e}, r² {:.1e}", d[0], d[1], d[2]);
    assert!(d.iter().all(|&x| x < ENGINE_VS_REFERENCE), "{d:?}");
    // Exact zeros where the reference has them: pooled values all zero.
    for (t, k) in zero_pairs() {
        assert_eq!(s.image[t * 32 + k], 0.0, "image {t}, channel {k}");
    }
}

/// The image-by-image schedule, the one-block schedule (changes too large to keep) and two
/// shares of the channels merged give the same scores; images are heard in order, each once,
/// with its final row.
#[test]
fn schedules_and_merged_shares_agree_and_images_arrive_in_order() {
    use alignmap::ablation::{self, AisScores, Event};
    let device = Device::flex();
    let (model, maps) = tiny_vgg_cohort(11, 12, 700, &device);
    let inputs = model.ablation_inputs(maps);
    let human = generated_human(12);
    let run = |options: &EngineOptions, heard: &mut Vec<(usize, f64, Vec<f64>)>| -> AisScores {
        pollster::block_on(ablation::alignment_importance(
            &model,
            inputs.clone(),
            &human,
            options,
            &mut |event| {
                if let Event::Image { index, baseline, ais } = event {
                    heard.push((index, baseline, ais.to_vec()));
                }
                Ok(())
            },
        ))
        .unwrap()
    };
    let streamed_options =
        EngineOptions { chunk_bytes: 64 << 10, keep_grams: true, ..Default::default() };
    let mut heard = Vec::new();
    let streamed = run(&streamed_options, &mut heard);
    assert_eq!(heard.iter().map(|h| h.0).collect::<Vec<_>>(), (0..12).collect::<Vec<_>>());
    for (t, baseline, row) in &heard {
        assert_eq!(row[..], streamed.image[t * 32..(t + 1) * 32]);
        assert_eq!(baseline.to_bits(), streamed.baseline.per_image[*t].to_bits());
    }
    let one_block = run(&EngineOptions { store_bytes: 0, ..streamed_options }, &mut Vec::new());
    let shares: Vec<_> = [(0, 13), (13, 32)]
        .into_iter()
        .map(|(a, b)| {
            let options = EngineOptions { channel_range: Some((a, b)), ..streamed_options };
            (a..b, run(&options, &mut Vec::new()))
        })
        .collect();
    let merged = AisScores::merge(shares).unwrap();
    // Other batch sizes round the f32 products differently (measured: 8e-8): both schedules stay
    // within tests/accuracy.rs's 1e-6 of float64.
    for other in [&one_block, &merged] {
        assert!(max_abs_diff(&streamed.image, &other.image) < 1e-6);
        assert!(max_abs_diff(&streamed.dataset_r, &other.dataset_r) < 1e-6);
        assert!(max_abs_diff(&streamed.dataset_r2, &other.dataset_r2) < 1e-6);
        let (a, b) = (streamed.grams.as_ref().unwrap(), other.grams.as_ref().unwrap());
        assert!(max_abs_diff(&a.change, &b.change) < 1e-6);
        assert_eq!(
            (streamed.zero_pairs, streamed.skipped_channels),
            (other.zero_pairs, other.skipped_channels)
        );
    }
    assert!(streamed.image.iter().any(|&v| v.abs() > 1e-3), "scores are not all zero");
    // Shares that leave a channel out, or overlap, are refused.
    let part = |a: usize, b: usize| {
        let options = EngineOptions { channel_range: Some((a, b)), ..streamed_options };
        (a..b, run(&options, &mut Vec::new()))
    };
    assert!(AisScores::merge(vec![part(0, 13)]).is_err());
    assert!(AisScores::merge(vec![part(0, 13), part(10, 32)]).is_err());
}
