//! The browser's entry points (wasm-bindgen), meant to be called from one Web Worker
//! (`www/worker.js`). Thin: each call parses its arguments, runs library functions and hands back
//! plain JS values; errors become JS `Error`s with the library's message.
//!
//! The worker holds one session: a device, a network, a human matrix, the decoded images
//! (originals kept for the overlays) and the last analysis. Calls are expected one at a time
//! (the worker queues them); no state is borrowed across an `await`.
//!
//! - [`init_device`], [`device_info`]: WebGPU or the CPU backend.
//! - [`load_model`]: safetensors bytes → `{ model, classes, channels, embedding, sha256 }`.
//! - [`npz_arrays`], [`read_matrix`], [`add_image`], [`check_matching`]: the cohort, and every
//!   problem with it before anything runs.
//! - [`analyze`]: decode → network → ablation, with progress; then the getters of `results.rs`
//!   (scores as typed arrays, overlays as RGBA, saliency contours with relative risks).

mod cohort;
mod judgments;
mod published;
mod results;

use std::cell::RefCell;
use std::collections::BTreeMap;

use js_sys::{Array, Float32Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::cohort::{self as images, Normalization};
use crate::device::{self, ComputeDevice, DeviceChoice};
use crate::extract;
use crate::model::{ModelName, Network, Vgg16, Vgg16Spec};
use crate::similarity::HumanMatrix;
use crate::weights::TensorMap;

pub use cohort::*;
pub use judgments::*;
pub use published::*;
pub use results::*;

/// A matrix as read, with what the summary needs to name it.
pub(crate) struct MatrixEntry {
    pub matrix: HumanMatrix,
    pub file: String,
    pub key: Option<String>,
    pub names_file: Option<String>,
    pub dissimilarity: bool,
}

/// The loaded network and what the summary says about its weights.
pub(crate) struct ModelEntry {
    pub net: Network,
    pub source: String,
    pub sha256: String,
}

/// Everything the worker keeps between calls.
#[derive(Default)]
pub(crate) struct Session {
    pub device: Option<ComputeDevice>,
    pub model: Option<ModelEntry>,
    pub matrix: Option<MatrixEntry>,
    /// Decoded images by file name; a BTreeMap keeps them in the CLI's order (sorted names).
    pub images: BTreeMap<String, image::RgbImage>,
    /// Imported saliency maps by image file stem.
    pub saliency: BTreeMap<String, crate::saliency::import::StoredMap>,
    pub results: Option<results::Analysis>,
}

thread_local! {
    pub(crate) static SESSION: RefCell<Session> = RefCell::new(Session::default());
}

pub(crate) fn with<R>(f: impl FnOnce(&mut Session) -> R) -> R {
    SESSION.with(|s| f(&mut s.borrow_mut()))
}

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

pub(crate) fn js_error(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// A plain JS object from key/value pairs.
pub(crate) fn object(pairs: &[(&str, JsValue)]) -> Result<JsValue, JsError> {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), v)
            .map_err(|_| JsError::new("cannot build the result object"))?;
    }
    Ok(o.into())
}

pub(crate) fn strings(items: impl IntoIterator<Item = impl AsRef<str>>) -> JsValue {
    items.into_iter().map(|s| JsValue::from_str(s.as_ref())).collect::<Array>().into()
}

pub(crate) fn opt_f64(v: Option<f64>) -> JsValue {
    v.filter(|x| x.is_finite()).map(JsValue::from_f64).unwrap_or(JsValue::NULL)
}

fn current_device() -> Result<ComputeDevice, JsError> {
    with(|s| s.device.clone()).ok_or_else(|| JsError::new("call init_device first"))
}

/// Sets up 'webgpu' or 'cpu' and returns a description of the adapter.
#[wasm_bindgen]
pub async fn init_device(backend: String) -> Result<String, JsError> {
    let choice: DeviceChoice = backend.parse().map_err(js_error)?;
    let device = device::select_web(choice).await.map_err(js_error)?;
    let description = if device.is_software && choice != DeviceChoice::Cpu {
        format!("{} — a software fallback, expect slow runs", device.description)
    } else {
        device.description.clone()
    };
    with(|s| {
        // Tensors live on a device: a network loaded for another one is gone.
        s.model = None;
        s.results = None;
        s.device = Some(device);
    });
    Ok(description)
}

/// `{ description, software, cpu }` of the current device.
#[wasm_bindgen]
pub fn device_info() -> Result<JsValue, JsError> {
    let d = current_device()?;
    let cpu = d.description.starts_with("cpu");
    object(&[
        ("description", d.description.as_str().into()),
        ("software", d.is_software.into()),
        ("cpu", cpu.into()),
    ])
}

/// Loads a network from safetensors bytes (f32, f16 or bf16; VGG-16 with torchvision or timm
/// keys, EfficientNet-Lite0). `source` names the file in messages; `requested` ('vgg16',
/// 'efficientnet-lite0' or empty) must agree with the file. Resolves to
/// `{ model, classes, channels, embedding, sha256 }`.
#[wasm_bindgen]
pub fn load_model(
    bytes: Vec<u8>,
    source: String,
    requested: Option<String>,
) -> Result<JsValue, JsError> {
    use sha2::Digest;
    let device = current_device()?;
    let requested: Option<ModelName> = requested
        .filter(|r| !r.trim().is_empty())
        .map(|r| r.parse())
        .transpose()
        .map_err(js_error)?;
    let sha256: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    let map = TensorMap::from_safetensors(&source, &bytes).map_err(js_error)?;
    drop(bytes);
    // Free the old network before building the new one (VGG-16 is half a gigabyte).
    with(|s| {
        s.model = None;
        s.results = None;
    });
    let net = Network::from_weights(map, requested, &device.device).map_err(js_error)?;
    let info = object(&[
        ("model", net.name().label().into()),
        ("classes", (net.classes() as u32).into()),
        ("channels", (net.channels() as u32).into()),
        ("embedding", (net.embedding_size() as u32).into()),
        ("sha256", sha256.as_str().into()),
    ])?;
    with(|s| s.model = Some(ModelEntry { net, source, sha256 }));
    Ok(info)
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// One forward pass of a VGG-16-shaped network with generated weights on a generated image;
/// resolves to `{ embedding, logits, millis }` (millis: the forward pass alone). A diagnostic
/// that the browser tests compare with the native tool.
#[wasm_bindgen]
pub async fn synthetic_forward(
    spec: String,
    seed: u32,
    image_seed: u32,
    height: u32,
    width: u32,
) -> Result<JsValue, JsError> {
    let device = current_device()?;
    let spec = match spec.as_str() {
        "tiny" => Vgg16Spec::tiny(),
        "vgg16" => Vgg16Spec::full(1000),
        other => {
            return Err(JsError::new(&format!("unknown spec '{other}': expected tiny or vgg16")));
        }
    };
    let model = Network::Vgg16(Vgg16::synthetic(&spec, seed.into(), &device.device));
    model.check_input(height as usize, width as usize).map_err(js_error)?;
    let image = crate::synthetic::image(height, width, image_seed.into());
    let prepared = images::preprocess(&image, height.min(width) as usize, Normalization::IMAGENET);
    let start = now_ms();
    let out =
        extract::extract(&model, std::slice::from_ref(&prepared), &device.device, 1, &mut |_| {})
            .await
            .map_err(js_error)?;
    let millis = now_ms() - start;
    object(&[
        ("embedding", Float32Array::from(out.embeddings.as_slice()).into()),
        ("logits", Float32Array::from(out.logits.as_slice()).into()),
        ("millis", JsValue::from_f64(millis)),
    ])
}
