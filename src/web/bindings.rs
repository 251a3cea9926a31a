//! The calls that take a JS progress callback or need the JS clock. Each converts
//! its arguments and calls the plain Rust of the sibling modules.

use js_sys::{Float32Array, Function};
use wasm_bindgen::prelude::*;

use super::Js;
use crate::error::Result;
use crate::summary::CrossValidation;

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

fn seconds() -> f64 {
    js_sys::Date::now() / 1e3
}

/// Calls `progress(stage, done, total)`; a failing callback must not stop the work.
fn report(progress: &Function, stage: &str, done: usize, total: usize) {
    let _ = progress.call3(
        &JsValue::NULL,
        &JsValue::from_str(stage),
        &JsValue::from_f64(done as f64),
        &JsValue::from_f64(total as f64),
    );
}

/// Runs the whole analysis on the cohort as it stands: decode (preprocessing), network (feature
/// maps, embeddings), ablation (AIS); `progress(stage, done, total)` hears each step; `batch`:
/// images per forward pass (0: 4, as the command line). With `on_image` and `style` (the
/// gallery's `{ colormap, imageWeight, original, maxSide }`), `on_image(card)` hears each image
/// as soon as its scores are final: `{ index, name, n, baseline, ais, picture }`. Resolves to
/// summary.json's object.
#[wasm_bindgen]
pub async fn analyze(
    progress: Function,
    batch: u32,
    on_image: Option<Function>,
    style: JsValue,
) -> Result<Js<serde_json::Value>> {
    let style: super::results::ThumbnailStyle = if style.is_undefined() || style.is_null() {
        super::results::ThumbnailStyle::default()
    } else {
        serde_wasm_bindgen::from_value(style)
            .map_err(|e| crate::error::Error::Invalid(format!("analyze: the style {e}")))?
    };
    let mut send = |card| {
        let _ = on_image.as_ref().map(|f| f.call1(&JsValue::NULL, &JsValue::from(Js(card))));
    };
    let cards = on_image.is_some().then_some((&style, &mut send as &mut dyn FnMut(_)));
    let summary = super::results::analyze_with_cards(
        &mut |stage, done, total| report(&progress, stage.name(), done, total),
        cards,
        batch,
        &seconds,
    )
    .await?;
    Ok(Js(summary))
}

/// Runs the cohort through the comparison's second network (`compare_load_network`) and keeps
/// the analysis as the side `label`; `progress` and `batch` as in [`analyze`]. Resolves to that
/// analysis's summary.json object.
#[wasm_bindgen]
pub async fn compare_analyze(
    label: String,
    progress: Function,
    batch: u32,
) -> Result<Js<serde_json::Value>> {
    let summary = super::compare::compare_analyze(
        label,
        &mut |stage, done, total| report(&progress, stage.name(), done, total),
        batch,
        &seconds,
    )
    .await?;
    Ok(Js(summary))
}

/// `folds`-fold cross-validation with the given shuffle seeds (empty: the paper's);
/// `progress("folds", done, total)` hears each fold. Resolves to summary.json's
/// `cross_validation` (snake_case, as `alignmap validate` writes its statistics).
#[wasm_bindgen]
pub async fn cross_validate(
    folds: u32,
    seeds: Vec<u32>,
    progress: Function,
) -> Result<Js<CrossValidation>> {
    let cv = super::results::cross_validate(
        folds,
        seeds,
        &mut |done, total| report(&progress, "folds", done, total),
        &seconds,
    )
    .await?;
    Ok(Js(cv))
}

/// [`super::Forward`] with its vectors as `Float32Array`s.
#[derive(serde::Serialize)]
pub struct ForwardJs {
    #[serde(with = "serde_wasm_bindgen::preserve")]
    embedding: Float32Array,
    #[serde(with = "serde_wasm_bindgen::preserve")]
    logits: Float32Array,
    millis: f64,
}

/// One forward pass of a VGG-16-shaped network with generated weights on a generated image;
/// resolves to `{ embedding, logits, millis }` (millis: the forward pass alone).
#[wasm_bindgen]
pub async fn synthetic_forward(
    spec: String,
    seed: u32,
    image_seed: u32,
    height: u32,
    width: u32,
) -> Result<Js<ForwardJs>> {
    let now = || js_sys::Date::now();
    let f = super::synthetic_forward(&spec, seed, image_seed, height, width, &now).await?;
    Ok(Js(ForwardJs {
        embedding: Float32Array::from(f.embedding.as_slice()),
        logits: Float32Array::from(f.logits.as_slice()),
        millis: f.millis,
    }))
}
