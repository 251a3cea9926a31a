//! Scores to the last decimal: the baselines, per-image and dataset AIS (r and r²), the Gram
//! matrices kept for cross-validation and the selection curves, each within 1e-6 absolute of a
//! float64 reference computed from the same float32 network outputs
//! (tests/golden/accuracy/make_accuracy.py): an ill-conditioned cohort on full-size VGG-16
//! (10 images whose model similarities all lie within 0.930–0.955) and the 92 Kriegeskorte images on EfficientNet-Lite0
//! with its real weights; on the CPU backend, and on wgpu where an adapter exists.

mod common;

use alignmap::ablation::{self, AisScores, EngineOptions};
use alignmap::burn::prelude::*;
use alignmap::model::{Network, Vgg16, Vgg16Spec};
use alignmap::selection::{self, Fold};
use alignmap::weights::TensorMap;
use common::*;

const TOLERANCE: f64 = 1e-6;

struct Golden {
    inputs_shape: [usize; 3],
    inputs: Vec<f32>,
    human: Vec<f64>,
    baseline_r: f64,
    baseline_per_image: Vec<f64>,
    image_ais: Vec<f64>,
    dataset_r: Vec<f64>,
    dataset_r2: Vec<f64>,
    fold: Fold,
    training_ais: Vec<f64>,
    order: Vec<usize>,
    curve_train_r: Vec<f64>,
    curve_test_r: Vec<f64>,
    ablated_z: Option<Vec<f64>>,
}

type Archive = npyz::npz::NpzArchive<std::io::BufReader<std::fs::File>>;

fn array<T: npyz::Deserialize>(npz: &mut Archive, key: &str) -> Option<(Vec<usize>, Vec<T>)> {
    let npy = npz.by_name(key).unwrap()?;
    let shape = npy.shape().iter().map(|&d| d as usize).collect();
    Some((shape, npy.into_vec::<T>().unwrap()))
}

fn load(name: &str) -> Golden {
    let path = golden(&format!("accuracy/{name}"));
    let mut npz = npyz::npz::NpzArchive::open(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut f64s = |key: &str| {
        array::<f64>(&mut npz, key).unwrap_or_else(|| panic!("{name} has no array {key}")).1
    };
    let human = f64s("human");
    let baseline_r = f64s("baseline_r")[0];
    let baseline_per_image = f64s("baseline_per_image");
    let image_ais = f64s("image_ais");
    let dataset_r = f64s("dataset_r");
    let dataset_r2 = f64s("dataset_r2");
    let training_ais = f64s("training_ais");
    let curve_train_r = f64s("curve_train_r");
    let curve_test_r = f64s("curve_test_r");
    let mut indices = |key: &str| -> Vec<usize> {
        let (_, v) = array::<i64>(&mut npz, key).unwrap_or_else(|| panic!("{name}: no {key}"));
        v.into_iter().map(|i| i as usize).collect()
    };
    let (test, train, order) = (indices("test"), indices("train"), indices("order"));
    let (shape, inputs) = array::<f32>(&mut npz, "inputs").expect("inputs");
    let ablated_z = array::<f64>(&mut npz, "ablated_z").map(|(_, v)| v);
    Golden {
        inputs_shape: [shape[0], shape[1], shape[2]],
        inputs,
        human,
        baseline_r,
        baseline_per_image,
        image_ais,
        dataset_r,
        dataset_r2,
        fold: Fold { seed: 111, index: 0, test, train },
        training_ais,
        order,
        curve_train_r,
        curve_test_r,
        ablated_z,
    }
}

fn check(net: &Network, golden: &Golden, device: &Device, folds: usize) {
    let [n, channels, _] = golden.inputs_shape;
    let inputs =
        Tensor::<3>::from_data(TensorData::new(golden.inputs.clone(), golden.inputs_shape), device);
    let options = EngineOptions { keep_grams: true, ..EngineOptions::default() };
    let t = std::time::Instant::now();
    let scores: AisScores = pollster::block_on(ablation::alignment_importance(
        net,
        inputs.clone(),
        &golden.human,
        &options,
        &mut |_| Ok(()),
    ))
    .unwrap();
    eprintln!("engine: {:.2} s for {n} images × {channels} channels", t.elapsed().as_secs_f64());
    assert_close("baseline r", &[scores.baseline.r], &[golden.baseline_r], TOLERANCE);
    assert_close(
        "baseline r²",
        &[scores.baseline.r2],
        &[golden.baseline_r * golden.baseline_r],
        TOLERANCE,
    );
    assert_close(
        "per-image baselines",
        &scores.baseline.per_image,
        &golden.baseline_per_image,
        TOLERANCE,
    );
    assert_close("per-image AIS", &scores.image, &golden.image_ais, TOLERANCE);
    assert_close("dataset AIS (r)", &scores.dataset_r, &golden.dataset_r, TOLERANCE);
    assert_close("dataset AIS (r²)", &scores.dataset_r2, &golden.dataset_r2, TOLERANCE);

    let grams = scores.grams.as_ref().expect("keep_grams");
    if let Some(want) = &golden.ablated_z {
        let got: Vec<f64> = (0..channels).flat_map(|k| grams.channel(k, n)).collect();
        assert_close("kept Z with each channel removed", &got, want, TOLERANCE);
    }
    let folds_made = selection::make_folds(n, folds, &[111]).unwrap();
    assert_eq!(folds_made[0], golden.fold, "NumPy's shuffle gives the reference's first fold");
    let training = selection::training_ais(grams, &golden.human, n, channels, &golden.fold.train);
    assert_close(
        "training AIS from the kept Gram matrices",
        &training,
        &golden.training_ais,
        TOLERANCE,
    );

    let t = std::time::Instant::now();
    let curves = pollster::block_on(selection::selection_curves(
        net,
        &inputs,
        &golden.order,
        &golden.human,
        &golden.fold,
        &options,
    ))
    .unwrap();
    eprintln!("selection curves: {:.2} s", t.elapsed().as_secs_f64());
    assert_close("selection curve, training r", &curves.train_r, &golden.curve_train_r, TOLERANCE);
    assert_close("selection curve, test r", &curves.test_r, &golden.curve_test_r, TOLERANCE);
}

fn vgg_case(device: &Device) {
    let golden = load("vgg_ill_conditioned.npz");
    let net = Network::Vgg16(Vgg16::synthetic(&Vgg16Spec::full(1000), 7, device));
    check(&net, &golden, device, 2);
}

fn effnet_case(file: &str, folds: usize, device: &Device) {
    let Some(pth) = efficientnet_checkpoint() else { return };
    let golden = load(file);
    let net = Network::from_weights(TensorMap::from_file(&pth).unwrap(), None, device).unwrap();
    check(&net, &golden, device, folds);
}

#[test]
fn ill_conditioned_vgg16_cohort_within_1e6_of_float64_on_the_cpu() {
    vgg_case(&alignmap::device::ComputeDevice::cpu().device);
}

#[test]
fn kriegeskorte92_on_efficientnet_within_1e6_of_float64_on_the_cpu() {
    effnet_case("effnet_kriegeskorte92.npz", 5, &alignmap::device::ComputeDevice::cpu().device);
}

/// Every 8th Kriegeskorte image (12): software Vulkan (lavapipe) needs over 13 minutes for all 92.
#[test]
fn kriegeskorte_subset_on_efficientnet_within_1e6_of_float64_on_wgpu() {
    let Some(device) = wgpu_device() else { return };
    effnet_case("effnet_kriegeskorte92_every8.npz", 2, &device);
}
