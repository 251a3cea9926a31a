//! The browser's entry points (wasm-bindgen). Thin: each call parses its arguments, runs library
//! functions and hands back plain JS values; errors become JS `Error`s with the library's message.

use std::cell::RefCell;

use js_sys::{Float32Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::cohort::{self, Normalization};
use crate::device::{self, ComputeDevice, DeviceChoice};
use crate::extract;
use crate::model::{Network, Vgg16, Vgg16Spec};

thread_local! {
    static DEVICE: RefCell<Option<ComputeDevice>> = const { RefCell::new(None) };
}

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

fn js_error(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

fn current_device() -> Result<ComputeDevice, JsError> {
    DEVICE.with(|d| d.borrow().clone()).ok_or_else(|| JsError::new("call init_device first"))
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
    DEVICE.with(|d| *d.borrow_mut() = Some(device));
    Ok(description)
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// One forward pass of a VGG-16-shaped network with generated weights on a generated image;
/// resolves to `{ embedding, logits, millis }` (millis: the forward pass alone).
#[wasm_bindgen]
pub async fn synthetic_forward(spec: String, seed: u32, image_seed: u32, height: u32, width: u32) -> Result<JsValue, JsError> {
    let device = current_device()?;
    let spec = match spec.as_str() {
        "tiny" => Vgg16Spec::tiny(),
        "vgg16" => Vgg16Spec::full(1000),
        other => return Err(JsError::new(&format!("unknown spec '{other}': expected tiny or vgg16"))),
    };
    let model = Network::Vgg16(Vgg16::synthetic(&spec, seed.into(), &device.device));
    model.check_input(height as usize, width as usize).map_err(js_error)?;
    let image = crate::synthetic::image(height, width, image_seed.into());
    let prepared = cohort::preprocess(&image, height.min(width) as usize, Normalization::IMAGENET);
    let start = now_ms();
    let out = extract::extract(&model, std::slice::from_ref(&prepared), &device.device, 1, &mut |_| {}).await.map_err(js_error)?;
    let millis = now_ms() - start;
    let result = Object::new();
    let set = |k: &str, v: JsValue| Reflect::set(&result, &JsValue::from_str(k), &v).map(|_| ()).map_err(|_| JsError::new("cannot build the result object"));
    set("embedding", Float32Array::from(out.embeddings.as_slice()).into())?;
    set("logits", Float32Array::from(out.logits.as_slice()).into())?;
    set("millis", JsValue::from_f64(millis))?;
    Ok(result.into())
}
