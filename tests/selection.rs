//! Sequential selection under cross-validation: the device's cumulative curves equal a naive
//! recomputation (zero the unkept channels in A, run the whole head), training AIS from the
//! kept Gram matrices equal the engine run on the training images alone, and a problem whose
//! best subset is known is solved.

mod common;

use alignmap::ablation::EngineOptions;
use alignmap::burn::prelude::*;
use alignmap::extract::read_f32;
use alignmap::model::{Network, Vgg16, Vgg16Spec};
use alignmap::scores;
use alignmap::selection::{self, Fold};
use common::*;

struct Cohort {
    model: Network,
    maps: Tensor<4>,
}

/// Z (Pearson correlations of embeddings) with only `kept` channels, by a whole head pass.
fn naive_z(c: &Cohort, kept: &[usize]) -> Vec<f64> {
    let [n, channels, _, _] = c.maps.dims();
    let mut mask = vec![0.0f32; channels];
    kept.iter().for_each(|&k| mask[k] = 1.0);
    let mask = Tensor::<1>::from_data(TensorData::new(mask, [channels]), &c.maps.device())
        .reshape([1, channels, 1, 1]);
    let e = pollster::block_on(read_f32(c.model.head(c.maps.clone() * mask))).unwrap();
    let hidden = e.len() / n;
    let rows: Vec<Vec<f64>> =
        e.chunks_exact(hidden).map(|r| r.iter().map(|&v| v as f64).collect()).collect();
    (0..n * n).map(|ij| scores::pearson(&rows[ij / n], &rows[ij % n])).collect()
}

fn generated_human(n: usize) -> Vec<f64> {
    unit_diagonal(n, |a, b| ((a * b * 5 + a + b) % 19) as f64 / 19.0 + ((a + b) as f64).cos() * 0.2)
}

/// Every channel's scores (with `options`), then the cross-validation on `folds`.
fn scores_and_folds(
    c: &Cohort,
    human: &[f64],
    folds: &[Fold],
    options: &EngineOptions,
) -> Vec<selection::FoldResult> {
    let inputs = c.model.ablation_inputs(c.maps.clone());
    let scores = engine_scores(&c.model, inputs.clone(), human, options);
    pollster::block_on(selection::cross_validate(
        &c.model,
        &inputs,
        &scores,
        human,
        folds,
        options,
        &mut |_, _| {},
    ))
    .unwrap()
}

#[test]
fn curves_equal_a_naive_recomputation_and_training_ais_the_engine_on_the_training_images() {
    let device = Device::flex();
    let n = 30;
    let (model, maps) = tiny_vgg_cohort(5, n as u64, 300, &device);
    let c = Cohort { model, maps };
    let human = generated_human(n);
    let inputs = c.model.ablation_inputs(c.maps.clone());
    let options = EngineOptions { chunk_bytes: 256 << 10, keep_grams: true, ..Default::default() };
    let folds = selection::make_folds(n, 5, &[111]).unwrap();
    let results = scores_and_folds(&c, &human, &folds[..2], &options);
    let channels = c.model.channels();
    let mut worst: f64 = 0.0;
    for result in &results {
        let fold = &result.fold;
        assert_eq!(result.curves.train_r.len(), channels);
        for m in [1, 2, 5, 11, 20, channels] {
            let z = naive_z(&c, &result.order[..m]);
            let (train, test) = (
                selection::two_oi(&z, &human, n, &fold.train),
                selection::two_oi(&z, &human, n, &fold.test),
            );
            let curves = [result.curves.train_r[m - 1], result.curves.test_r[m - 1]];
            worst = worst.max(max_abs_diff(&[train, test], &curves));
        }
        // Training AIS from sub-matrices equal the engine run on the training cohort alone.
        let t = fold.train.len();
        let sub_human: Vec<f64> =
            (0..t * t).map(|ij| human[fold.train[ij / t] * n + fold.train[ij % t]]).collect();
        let index = Tensor::<1, Int>::from_data(
            TensorData::new(fold.train.iter().map(|&i| i as i64).collect::<Vec<_>>(), [t]),
            &device,
        );
        let train_inputs = inputs.clone().select(0, index);
        let alone = engine_scores(&c.model, train_inputs, &sub_human, &EngineOptions::default());
        let d = max_abs_diff(&alone.dataset_r2, &result.training_ais);
        assert!(d < 1e-5, "training AIS differ from the engine on the training images by {d:e}");
        let max = result.training_ais.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(result.training_ais[result.order[0]], max);
        assert!(result.best_m >= 1 && result.best_m <= channels);
    }
    eprintln!("cumulative curves vs naive: max |Δr| = {worst:.2e}");
    assert!(worst < 1e-4, "curves differ from the naive recomputation by {worst:e}");
}

#[test]
fn a_known_best_subset_is_found() {
    // Feature maps of random values, the channels of S five times stronger than the others; the
    // human similarity is the model's own Z with only S kept. Every other channel only adds
    // misalignment (negative AIS) while each channel of S carries much of it, so S leads the
    // ranking and the best training 2OI is reached with exactly S (r = 1).
    let device = Device::flex();
    let n = 30;
    let model = Network::Vgg16(Vgg16::synthetic(&Vgg16Spec::tiny(), 5, &device));
    let channels = model.channels();
    let subset = [3usize, 9, 17, 26];
    let mut values: Vec<f32> =
        alignmap::synthetic::tensor_values(11, 0, n * channels * 14 * 14, 1.0)
            .into_iter()
            .map(f32::abs)
            .collect();
    for (i, map) in values.chunks_exact_mut(14 * 14).enumerate() {
        if subset.contains(&(i % channels)) {
            map.iter_mut().for_each(|v| *v *= 5.0);
        }
    }
    let c = Cohort {
        maps: Tensor::from_data(TensorData::new(values, [n, channels, 14, 14]), &device),
        model,
    };
    let human = naive_z(&c, &subset);
    let options = EngineOptions { keep_grams: true, ..Default::default() };
    let fold = Fold { seed: 0, index: 0, test: (0..10).collect(), train: (10..n).collect() };
    let results = scores_and_folds(&c, &human, std::slice::from_ref(&fold), &options);
    let result = &results[0];
    let mut top: Vec<usize> = result.order[..subset.len()].to_vec();
    top.sort();
    eprintln!(
        "order {:?}, S* = {}, train r at |S| = {}",
        &result.order[..8],
        result.best_m,
        result.curves.train_r[subset.len() - 1]
    );
    assert_eq!(top, subset, "the channels of S lead the ranking");
    assert_eq!(result.best_m, subset.len());
    assert!((result.retained_test_r() - 1.0).abs() < 1e-5 && result.full_test_r() < 0.999);
}
