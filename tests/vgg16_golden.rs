//! VGG-16 against the independent numpy/Pillow reference in tests/golden (see its README):
//! decoding and preprocessing bit for bit, the trunk, embedding and logits of generated
//! networks within stated tolerances, both key layouts, f16 storage, and CPU vs wgpu.

mod common;

use alignmap::burn::prelude::*;
use alignmap::cohort::{self, Normalization};
use alignmap::model::{Vgg16, Vgg16Spec};
use alignmap::weights::{NamedTensor, StoredDtype, TensorMap};
use common::*;

const STEMS: [&str; 5] = ["rgba_300", "gray_200x260", "rgb16_240x320", "photo_exif6", "square_224"];
/// f32 on our side, f64 in the reference: relative to the output's largest magnitude.
const FORWARD_TOLERANCE: f64 = 1e-4;

fn reference_input(stem: &str) -> (Vec<usize>, Vec<f32>) {
    let mut archive = npyz::npz::NpzArchive::open(golden("preprocess.npz")).unwrap();
    let npy = archive.by_name(&format!("preprocess_{stem}")).unwrap().unwrap();
    let shape = npy.shape().iter().map(|&d| d as usize).collect();
    (shape, npy.into_vec::<f32>().unwrap())
}

fn decode_golden_image(stem: &str) -> image::RgbImage {
    let file = std::fs::read_dir(golden("images"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_stem().unwrap() == stem)
        .unwrap();
    cohort::decode(stem, &std::fs::read(&file).unwrap()).unwrap()
}

#[test]
fn decoding_and_resizing_match_pillow_exactly() {
    for stem in STEMS {
        let image = decode_golden_image(stem);
        let (shape, want) = read_npy_u8(&format!("resized_{stem}.npy"));
        if stem == "photo_exif6" {
            // JPEG decoders may differ by a level or two; orientation must be right.
            let (dshape, decoded) = read_npy_u8("decoded_photo_exif6.npy");
            assert_eq!(
                (image.height() as usize, image.width() as usize),
                (dshape[0], dshape[1]),
                "EXIF orientation applied"
            );
            let mean_diff = image
                .as_raw()
                .iter()
                .zip(&decoded)
                .map(|(a, b)| (*a as f64 - *b as f64).abs())
                .sum::<f64>()
                / decoded.len() as f64;
            assert!(mean_diff < 1.5, "JPEG decode differs by {mean_diff} levels on average");
            continue;
        }
        let (w, h) = (image.width() as usize, image.height() as usize);
        let (ow, oh) = alignmap::resample::shorter_side_to(w, h, 224);
        assert_eq!((oh, ow), (shape[0], shape[1]), "{stem}: resized size");
        let got = alignmap::resample::resize_rgb8(image.as_raw(), w, h, ow, oh);
        let differing = got.iter().zip(&want).filter(|(a, b)| a != b).count();
        assert_eq!(differing, 0, "{stem}: {differing} of {} bytes differ from Pillow", want.len());
    }
}

#[test]
fn preprocessing_matches_torchvision_bit_for_bit() {
    for stem in STEMS {
        let image = if stem == "photo_exif6" {
            // Feed the reference's own JPEG decode, so only our resize/normalise is tested.
            let (s, px) = read_npy_u8("decoded_photo_exif6.npy");
            image::RgbImage::from_raw(s[1] as u32, s[0] as u32, px).unwrap()
        } else {
            decode_golden_image(stem)
        };
        let got = cohort::preprocess(&image, 224, Normalization::IMAGENET);
        let (shape, want) = reference_input(stem);
        assert_eq!(vec![3, got.height, got.width], shape, "{stem}");
        assert_eq!(max_rel_diff(&got.chw, &want), 0.0, "{stem}");
    }
}

fn forward_host(
    model: &Vgg16,
    chw: Vec<f32>,
    h: usize,
    w: usize,
    device: &Device,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let (a, e, l) = model.forward(tensor4(chw, [1, 3, h, w], device));
    (
        a.into_data().try_to_vec().unwrap(),
        e.into_data().try_to_vec().unwrap(),
        l.into_data().try_to_vec().unwrap(),
    )
}

#[test]
fn tiny_network_matches_the_reference_on_every_image() {
    let device = Device::flex();
    let model = Vgg16::synthetic(&Vgg16Spec::tiny(), 7, &device);
    for stem in STEMS {
        let (shape, input) = reference_input(stem);
        let (a, e, l) = forward_host(&model, input, shape[1], shape[2], &device);
        let (ts, trunk) = read_npy_f32(&format!("tiny_trunk_{stem}.npy"));
        assert_eq!(a.len(), ts.iter().product::<usize>(), "{stem}: trunk shape {ts:?}");
        assert!(
            max_rel_diff(&a, &trunk) < FORWARD_TOLERANCE,
            "{stem}: trunk {}",
            max_rel_diff(&a, &trunk)
        );
        let d = max_rel_diff(&e, &read_npy_f32(&format!("tiny_embedding_{stem}.npy")).1);
        assert!(d < FORWARD_TOLERANCE, "{stem}: embedding {d}");
        let d = max_rel_diff(&l, &read_npy_f32(&format!("tiny_logits_{stem}.npy")).1);
        assert!(d < FORWARD_TOLERANCE, "{stem}: logits {d}");
    }
}

#[test]
fn generated_weights_equal_the_reference_generator() {
    let checks = read_json(&golden("full_weight_checks.json"));
    let spec = Vgg16Spec::full(1000);
    for (index, (key, shape, fan_in)) in spec.torchvision_tensors().into_iter().enumerate() {
        let check = &checks[&key];
        assert_eq!(check["shape"].as_array().unwrap().len(), shape.len(), "{key}");
        let scale = if key.ends_with(".bias") { 0.1 } else { (6.0 / fan_in as f64).sqrt() };
        let values =
            alignmap::synthetic::tensor_values(7, index as u64, shape.iter().product(), scale);
        let bits: Vec<u64> = values[..3].iter().map(|v| v.to_bits() as u64).collect();
        let want: Vec<u64> =
            check["first3_bits"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        assert_eq!(bits, want, "{key}: first values");
        let sum: f64 = values.iter().map(|&v| v as f64).sum();
        let want_sum = check["sum"].as_f64().unwrap();
        assert!(
            (sum - want_sum).abs() <= 1e-6 * want_sum.abs().max(1.0),
            "{key}: sum {sum} vs {want_sum}"
        );
    }
}

#[test]
fn full_size_vgg16_matches_the_reference() {
    let device = Device::flex();
    let model = Vgg16::synthetic(&Vgg16Spec::full(1000), 7, &device);
    let image = alignmap::synthetic::image(224, 224, 3);
    let input = cohort::preprocess(&image, 224, Normalization::IMAGENET);
    let (a, e, l) = forward_host(&model, input.chw, 224, 224, &device);
    for (name, got) in [("full_trunk.npy", &a), ("full_embedding.npy", &e), ("full_logits.npy", &l)]
    {
        let d = max_rel_diff(got, &read_npy_f32(name).1);
        assert!(d < FORWARD_TOLERANCE, "{name}: {d}");
        eprintln!("{name}: max relative difference {d:.2e}");
    }
}

/// The tiny network's tensors under timm's key names and shapes.
fn timm_layout(map: TensorMap) -> TensorMap {
    let spec = Vgg16Spec::tiny();
    let mut map = map;
    let tensors: Vec<(String, NamedTensor)> = spec
        .torchvision_tensors()
        .into_iter()
        .map(|(key, shape, _)| {
            let values = map.take(&key, &shape, &[]).unwrap();
            let (key, shape) = match key.as_str() {
                "classifier.0.weight" => {
                    ("pre_logits.fc1.weight".to_string(), vec![spec.hidden, spec.channels(), 7, 7])
                }
                "classifier.0.bias" => ("pre_logits.fc1.bias".to_string(), shape),
                "classifier.3.weight" => {
                    ("pre_logits.fc2.weight".to_string(), vec![spec.hidden, spec.hidden, 1, 1])
                }
                "classifier.3.bias" => ("pre_logits.fc2.bias".to_string(), shape),
                "classifier.6.weight" => ("head.fc.weight".to_string(), shape),
                "classifier.6.bias" => ("head.fc.bias".to_string(), shape),
                _ => (key, shape),
            };
            (key, NamedTensor { shape, values })
        })
        .collect();
    TensorMap::from_tensors("timm", tensors).unwrap()
}

#[test]
fn key_layouts_agree_and_f16_storage_stays_close() {
    let device = Device::flex();
    let spec = Vgg16Spec::tiny();
    let (shape, input) = reference_input("rgba_300");
    let run = |map: TensorMap| {
        forward_host(
            &Vgg16::from_weights(map, &device).unwrap(),
            input.clone(),
            shape[1],
            shape[2],
            &device,
        )
    };
    let torchvision_bytes =
        Vgg16::synthetic_weights(&spec, 7).to_safetensors(StoredDtype::F32).unwrap();
    let timm_bytes =
        timm_layout(Vgg16::synthetic_weights(&spec, 7)).to_safetensors(StoredDtype::F32).unwrap();
    let a = run(TensorMap::from_safetensors("tv", &torchvision_bytes).unwrap());
    let b = run(TensorMap::from_safetensors("timm", &timm_bytes).unwrap());
    assert_eq!(a, b, "torchvision and timm layouts give identical outputs");
    let f16 = run(TensorMap::from_safetensors(
        "f16",
        &Vgg16::synthetic_weights(&spec, 7).to_safetensors(StoredDtype::F16).unwrap(),
    )
    .unwrap());
    let d = max_rel_diff(&f16.1, &a.1);
    assert!(d < 2e-2 && d > 0.0, "f16 weights change the embedding by {d}");
}

#[test]
fn wrong_weights_are_clear_errors() {
    let device = Device::flex();
    let mut wrong_shape = Vgg16::synthetic_weights(&Vgg16Spec::tiny(), 7);
    wrong_shape.insert("features.28.bias", NamedTensor { shape: vec![31], values: vec![0.0; 31] });
    let e = Vgg16::from_weights(wrong_shape, &device).unwrap_err().to_string();
    assert!(e.contains("features.28.bias") && e.contains("[31]") && e.contains("[32]"), "{e}");

    let mut extra = Vgg16::synthetic_weights(&Vgg16Spec::tiny(), 7);
    extra.insert("aux.weight", NamedTensor { shape: vec![2], values: vec![0.0, 1.0] });
    let e = Vgg16::from_weights(extra, &device).unwrap_err().to_string();
    assert!(e.contains("aux.weight") && e.contains("not part of VGG-16"), "{e}");

    let mut missing = Vgg16::synthetic_weights(&Vgg16Spec::tiny(), 7);
    missing.take("classifier.3.bias", &[64], &[]).unwrap();
    let e = Vgg16::from_weights(missing, &device).unwrap_err().to_string();
    assert!(e.contains("missing tensor 'classifier.3.bias'") && e.contains("[64]"), "{e}");
}

#[test]
fn cpu_and_wgpu_agree() {
    let Some(gpu) = wgpu_device() else { return };
    let cpu = Device::flex();
    let (shape, input) = reference_input("gray_200x260");
    let on = |device: &Device| {
        forward_host(
            &Vgg16::synthetic(&Vgg16Spec::tiny(), 7, device),
            input.clone(),
            shape[1],
            shape[2],
            device,
        )
    };
    let (a, b) = (on(&cpu), on(&gpu));
    for (name, x, y) in [("trunk", &a.0, &b.0), ("embedding", &a.1, &b.1), ("logits", &a.2, &b.2)] {
        let d = max_rel_diff(y, x);
        assert!(d < FORWARD_TOLERANCE, "{name}: cpu vs wgpu {d}");
    }
}

/// A zip-format PyTorch checkpoint (as torch >= 1.6 writes, e.g. the Ecoset VGG-16), wrapped as
/// a DataParallel training checkpoint with a transposed (strided) fc6: made without torch by
/// tests/fixtures/pth/make_zip_pth.py from the same generated weights.
#[test]
fn zip_pytorch_checkpoint_loads_as_the_same_network() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pth/tiny_vgg16_zip.pth");
    let mut from_pth = TensorMap::from_file(&path).unwrap();
    let mut generated = Vgg16::synthetic_weights(&Vgg16Spec::tiny(), 7);
    for (key, shape, _) in Vgg16Spec::tiny().torchvision_tensors() {
        assert_eq!(
            from_pth.take(&key, &shape, &[]).unwrap(),
            generated.take(&key, &shape, &[]).unwrap(),
            "{key}"
        );
    }
    from_pth.finish("VGG-16").unwrap();
    let net = Vgg16::from_weights(TensorMap::from_file(&path).unwrap(), &Device::flex()).unwrap();
    assert_eq!(net.spec, Vgg16Spec::tiny());
}
