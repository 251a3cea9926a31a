//! The calls that guard the page against faults (wasm only): a lost WebGPU device, and runs or
//! downloads larger than the browser's memory (the plain Rust is in `memory.rs`).

use std::cell::RefCell;

use js_sys::Function;
use wasm_bindgen::prelude::*;

use super::Js;
use super::memory::{self, BrowserMemory, NetworkPreflight, RunPlan};
use crate::error::{Error, Result};

thread_local! {
    /// The page's `lost(message)`: wgpu's device-lost callback must be `Send`, so it finds the
    /// JS function here instead of holding it.
    static ON_LOST: RefCell<Option<Function>> = const { RefCell::new(None) };
}

/// Calls `lost(message)` once the session's WebGPU device is lost (`GPUDevice.lost`: the GPU
/// was reset or removed, its driver failed, or the device was destroyed), after which every
/// computation on it fails. Returns false when the session computes on the CPU (nothing to
/// watch).
#[wasm_bindgen]
pub fn watch_device(lost: Function) -> bool {
    let Some(gpu) = crate::device::web_gpu() else { return false };
    ON_LOST.with(|f| *f.borrow_mut() = Some(lost));
    gpu.set_device_lost_callback(|reason, message| {
        let words = format!("{reason:?}: {}", message.trim_end_matches('.'));
        ON_LOST.with(|f| {
            if let Some(f) = f.borrow().as_ref() {
                let _ = f.call1(&JsValue::NULL, &JsValue::from_str(&words));
            }
        });
    });
    true
}

/// Destroys the session's WebGPU device (`GPUDevice.destroy()`), as when the GPU is lost: for
/// the tests of the page's fallback to the CPU. Returns false when there is none.
#[wasm_bindgen]
pub fn destroy_device() -> bool {
    crate::device::web_gpu().map(|gpu| gpu.destroy()).is_some()
}

/// `memory` (what the page read from the browser) with the WebGPU device's buffer limits.
fn browser_memory(memory: JsValue) -> Result<BrowserMemory> {
    let mut m: BrowserMemory = if memory.is_undefined() || memory.is_null() {
        BrowserMemory::default()
    } else {
        serde_wasm_bindgen::from_value(memory)
            .map_err(|e| Error::Invalid(format!("the browser's memory figures: {e}")))?
    };
    let on_gpu = super::current_device().is_ok_and(|d| !d.description.starts_with("cpu"));
    if let Some(gpu) = crate::device::web_gpu().filter(|_| on_gpu) {
        let limits = gpu.limits();
        m.max_storage_binding = Some(limits.max_storage_buffer_binding_size as f64);
        m.max_buffer_size = Some(limits.max_buffer_size as f64);
    }
    Ok(m)
}

/// The memory plan of a run of the session's cohort, `batch` images per forward pass (0: 4):
/// `memory` is `{ deviceMemoryGib, jsHeapLimit }` as the browser tells (any may be missing).
/// The plan's chunk holds for the runs that follow ([`memory::chunk_bytes`]).
#[wasm_bindgen]
pub fn plan_run(memory: JsValue, batch: u32) -> Result<Js<RunPlan>> {
    Ok(Js(memory::plan_session(batch, &browser_memory(memory)?)?))
}

/// Before VGG-16 is downloaded (`download` bytes): whether this machine can run it on the
/// session's cohort, roughly how long it takes (scaled from a forward pass of the tiny generated
/// VGG-16 timed here, the faster of two) and what to choose instead. `memory` as for
/// [`plan_run`], with `storageFree` (quota less usage).
#[wasm_bindgen]
pub async fn vgg16_preflight(download: f64, memory: JsValue) -> Result<Js<NetworkPreflight>> {
    let memory = browser_memory(memory)?;
    let now = || js_sys::Date::now();
    let mut tiny: Option<f64> = None;
    for seed in 0..2 {
        let f = super::synthetic_forward("tiny", 7, seed, 224, 224, &now).await?;
        tiny = Some(tiny.map_or(f.millis, |t| t.min(f.millis)));
    }
    Ok(Js(memory::vgg16_preflight_session(download, &memory, tiny)))
}
