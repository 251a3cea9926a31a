//! The browser's entry points, meant to be called from one Web Worker (`www/worker.js`; the
//! functions are listed in `docs/js-api.md`). Plain Rust that compiles and is tested natively:
//! each exported function carries `#[cfg_attr(target_family = "wasm", wasm_bindgen)]` and
//! returns plain values — numbers, strings, `Vec<f64>` (a `Float64Array` in JS), or [`Js`]
//! around a serde value, which JS receives as a plain object (serde-wasm-bindgen). Errors are the
//! library's [`Error`], a JS `Error` with its message. The few calls that take a JS callback or
//! need the browser's WebGPU are in `bindings.rs`, compiled for wasm only.
//!
//! The worker holds one `Session`: a device, a network, a human matrix, the decoded images
//! (originals kept for the overlays) and the last analysis. Calls are expected one at a time
//! (the worker queues them); no state is borrowed across an `await`.

mod cohort;
mod compare;
mod judgments;
mod kept;
mod memory;
mod pool;
mod published;
mod results;

#[cfg(target_family = "wasm")]
mod bindings;
#[cfg(target_family = "wasm")]
mod guard;

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde::Serialize;
#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

use crate::cohort::{self as images, Normalization};
use crate::device::{ComputeDevice, DeviceChoice};
use crate::error::{Error, Result};
use crate::extract;
use crate::model::{ModelName, Network, Vgg16, Vgg16Spec};
use crate::similarity::HumanMatrix;
use crate::summary::MatrixSource;
use crate::weights::TensorMap;

pub use cohort::*;
pub use compare::*;
pub use judgments::*;
pub use memory::*;
pub use pool::*;
pub use published::*;
pub use results::*;

/// A value that JS receives as a plain object (through serde-wasm-bindgen, maps as objects);
/// natively, just the value.
#[derive(Debug)]
pub struct Js<T>(pub T);

#[cfg(target_family = "wasm")]
mod js_abi {
    use wasm_bindgen::convert::IntoWasmAbi;
    use wasm_bindgen::describe::WasmDescribe;
    use wasm_bindgen::prelude::*;

    use super::Js;
    use crate::error::Error;

    impl<T: serde::Serialize> WasmDescribe for Js<T> {
        fn describe() {
            JsValue::describe()
        }
    }

    impl<T: serde::Serialize> IntoWasmAbi for Js<T> {
        type Abi = <JsValue as IntoWasmAbi>::Abi;

        fn into_abi(self) -> Self::Abi {
            to_js(&self.0).into_abi()
        }
    }

    /// A serde value as JS: maps become plain objects, `None` becomes `null`.
    pub fn to_js(value: &impl serde::Serialize) -> JsValue {
        let serializer = serde_wasm_bindgen::Serializer::new()
            .serialize_maps_as_objects(true)
            .serialize_missing_as_null(true);
        value.serialize(&serializer).unwrap_or_else(|e| JsError::new(&e.to_string()).into())
    }

    /// For async exports, whose results are converted with `Into<JsValue>`.
    impl<T: serde::Serialize> From<Js<T>> for JsValue {
        fn from(value: Js<T>) -> JsValue {
            to_js(&value.0)
        }
    }

    impl From<Error> for JsValue {
        fn from(e: Error) -> JsValue {
            JsError::new(&e.to_string()).into()
        }
    }
}

/// A matrix as read, with what the summary needs to name it.
pub(crate) struct MatrixEntry {
    pub matrix: HumanMatrix,
    pub source: MatrixSource,
}

/// The loaded network and what the summary says about its weights.
#[derive(Clone)]
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

/// `x` when finite, else `None` (`null` in JS).
pub(crate) fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Sets up 'webgpu' (in the browser; natively, wgpu), 'cpu' or 'auto', and returns a
/// description of the adapter. A network loaded for another device is gone.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub async fn init_device(backend: String) -> Result<String> {
    let choice: DeviceChoice = backend.parse()?;
    #[cfg(target_family = "wasm")]
    let device = crate::device::select_web(choice).await?;
    #[cfg(not(target_family = "wasm"))]
    let device = crate::device::select(choice)?;
    Ok(set_device(device, choice != DeviceChoice::Cpu))
}

pub(crate) fn current_device() -> Result<ComputeDevice> {
    with(|s| s.device.clone()).ok_or_else(|| Error::Invalid("call init_device first".into()))
}

/// Makes `device` the session's; a network loaded for another device is gone (tensors live on
/// a device). Returns the description the page shows.
fn set_device(device: ComputeDevice, asked_for_gpu: bool) -> String {
    let description = if device.is_software && asked_for_gpu {
        format!("{} — a software fallback, expect slow runs", device.description)
    } else {
        device.description.clone()
    };
    let old = with(|s| {
        s.model = None;
        s.results = None;
        s.device.replace(device)
    });
    // What the dropped network held on the old device goes back to it (wgpu keeps it otherwise).
    if let Some(old) = old {
        crate::device::release_unused(&old.device);
    }
    description
}

#[derive(Serialize)]
pub struct DeviceInfo {
    pub description: String,
    pub software: bool,
    pub cpu: bool,
}

/// The current device.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn device_info() -> Result<Js<DeviceInfo>> {
    let d = current_device()?;
    Ok(Js(DeviceInfo {
        cpu: d.description.starts_with("cpu"),
        description: d.description,
        software: d.is_software,
    }))
}

#[derive(Serialize)]
pub struct ModelInfo {
    pub model: &'static str,
    pub classes: usize,
    pub channels: usize,
    pub embedding: usize,
    /// The side images are resized to: the size the network was trained at (224 for VGG-16 and
    /// EfficientNet-Lite0, 240 for Lite1, 260 for Lite2).
    pub input_side: usize,
    pub sha256: String,
    /// The weights' name as summary.json gives it (a shuffled network says so).
    pub source: String,
}

/// Network weights read from safetensors bytes, not yet built into a network.
pub(crate) struct Weights {
    map: TensorMap,
    requested: Option<ModelName>,
    sha256: String,
}

/// Reads safetensors bytes (`source` names them in messages; `requested`: 'vgg16',
/// 'efficientnet-lite0', … or empty, must agree with the file). With `shuffle`, every tensor's
/// values are permuted as `alignmap shuffle --seed` does ([`TensorMap::shuffled`]), and the
/// sha256 is that of the f32 file that command writes.
pub(crate) fn read_weights(
    bytes: Vec<u8>,
    source: &str,
    requested: Option<String>,
    shuffle: Option<u64>,
) -> Result<Weights> {
    use sha2::Digest;
    let requested: Option<ModelName> =
        requested.filter(|r| !r.trim().is_empty()).map(|r| r.parse()).transpose()?;
    let hex = |bytes: &[u8]| -> String {
        sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
    };
    let mut sha256 = hex(&bytes);
    let mut map = TensorMap::from_safetensors(source, &bytes)?;
    drop(bytes);
    if let Some(seed) = shuffle {
        map = map.shuffled(seed);
        sha256 = hex(&map.to_safetensors(crate::weights::StoredDtype::F32)?);
    }
    Ok(Weights { map, requested, sha256 })
}

/// Builds the network of `weights` on the session's device.
pub(crate) fn build_network(weights: Weights) -> Result<(ModelEntry, ModelInfo)> {
    let device = current_device()?;
    let source = weights.map.source().to_string();
    let net = Network::from_weights(weights.map, weights.requested, &device.device)?;
    let info = ModelInfo {
        model: net.name().label(),
        classes: net.classes(),
        channels: net.channels(),
        embedding: net.embedding_size(),
        input_side: net.input_side(),
        sha256: weights.sha256.clone(),
        source: source.clone(),
    };
    Ok((ModelEntry { net, source, sha256: weights.sha256 }, info))
}

/// Loads a network from safetensors bytes (f32, f16 or bf16; VGG-16 with torchvision or timm
/// keys, EfficientNet-Lite0/1/2). `source` names the file in messages; `requested` ('vgg16',
/// 'efficientnet-lite0', … or empty) must agree with the file.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn load_model(
    bytes: Vec<u8>,
    source: String,
    requested: Option<String>,
) -> Result<Js<ModelInfo>> {
    let device = current_device()?;
    let weights = read_weights(bytes, &source, requested, None)?;
    // Free the old network before building the new one (VGG-16 is half a gigabyte), on the
    // device too: wgpu's pools keep freed buffers reserved until asked.
    with(|s| {
        s.model = None;
        s.results = None;
    });
    crate::device::release_unused(&device.device);
    let (entry, info) = build_network(weights)?;
    with(|s| s.model = Some(entry));
    Ok(Js(info))
}

#[derive(Serialize)]
pub struct Forward {
    pub embedding: Vec<f32>,
    pub logits: Vec<f32>,
    /// The forward pass alone.
    pub millis: f64,
}

/// One forward pass of a VGG-16-shaped network with generated weights on a generated image
/// (`spec`: "tiny" or "vgg16"). A diagnostic that the browser tests compare with the native
/// tool; `now_ms` is the caller's clock.
pub async fn synthetic_forward(
    spec: &str,
    seed: u32,
    image_seed: u32,
    height: u32,
    width: u32,
    now_ms: &dyn Fn() -> f64,
) -> Result<Forward> {
    let device = current_device()?;
    let spec: Vgg16Spec = spec.parse()?;
    let model = Network::Vgg16(Vgg16::synthetic(&spec, seed.into(), &device.device));
    model.check_input(height as usize, width as usize)?;
    let image = crate::synthetic::image(height, width, image_seed.into());
    let prepared = images::preprocess(&image, height.min(width) as usize, Normalization::IMAGENET);
    let start = now_ms();
    let out =
        extract::extract(&model, std::slice::from_ref(&prepared), &device.device, 1, &mut |_| {})
            .await?;
    Ok(Forward { embedding: out.embeddings, logits: out.logits, millis: now_ms() - start })
}

#[cfg(test)]
pub(crate) mod testing {
    //! A session on the CPU with a tiny generated network, as the page would set it up.

    use super::*;

    /// A generated picture as PNG bytes, as a dropped file.
    pub fn png(height: u32, width: u32, seed: u64) -> Vec<u8> {
        let rgb = crate::heatmap::Rgb::from(crate::synthetic::image(height, width, seed));
        crate::results_zip::png_bytes(&rgb).unwrap()
    }

    pub fn cpu_session() {
        with(|s| *s = Session::default());
        set_device(ComputeDevice::cpu(), false);
        let device = current_device().unwrap();
        let net = Network::Vgg16(Vgg16::synthetic(&Vgg16Spec::tiny(), 3, &device.device));
        with(|s| {
            s.model =
                Some(ModelEntry { net, source: "tiny.safetensors".into(), sha256: "0".into() })
        });
    }
}
