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
    // Typed arrays made here: serde-wasm-bindgen builds a JS array of 320 numbers one element at
    // a time, which took 140 ms a card.
    let mut send = |card: super::StreamedImage| {
        let card = CardJs {
            index: card.index,
            name: card.name,
            n: card.n,
            baseline: card.baseline,
            ais: js_sys::Float64Array::from(card.ais.as_slice()),
            picture: PictureJs {
                width: card.picture.width,
                height: card.picture.height,
                rgba: js_sys::Uint8Array::from(card.picture.rgba.0.as_slice()),
                defined: card.picture.defined,
                note: card.picture.note,
            },
        };
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

/// The byte arrays of a JS array of `Uint8Array`s.
fn byte_arrays(array: &js_sys::Array, what: &str) -> Result<Vec<Vec<u8>>> {
    array
        .iter()
        .map(|v| {
            v.dyn_into::<js_sys::Uint8Array>().map(|a| a.to_vec()).map_err(|_| {
                crate::error::Error::Invalid(format!("{what}: expected an array of Uint8Array"))
            })
        })
        .collect()
}

/// A pooled analysis, step 1 (every worker): images `start..end` through the network;
/// `progress` and `batch` as in [`analyze`]. Resolves to the part's bytes.
#[wasm_bindgen]
pub async fn pool_extract(start: u32, end: u32, batch: u32, progress: Function) -> Result<Vec<u8>> {
    let report = &mut |stage: crate::pipeline::Stage, done, total| {
        report(&progress, stage.name(), done, total)
    };
    super::pool::pool_extract(start, end, batch, report).await
}

/// A pooled analysis, step 2 (the primary): every worker's part, in any order. Returns the
/// cohort's ablation inputs for `pool_set_inputs` on the others.
#[wasm_bindgen]
pub fn pool_join(parts: js_sys::Array) -> Result<Vec<u8>> {
    super::pool::pool_join(byte_arrays(&parts, "pool_join")?)
}

/// A pooled analysis, step 3 (every worker): feature maps `start..end` scored; `progress` as in
/// [`analyze`]. Resolves to the share's bytes.
#[wasm_bindgen]
pub async fn pool_score(start: u32, end: u32, progress: Function) -> Result<Vec<u8>> {
    let report = &mut |stage: crate::pipeline::Stage, done, total| {
        report(&progress, stage.name(), done, total)
    };
    super::pool::pool_score(start, end, report).await
}

/// A pooled analysis, step 4 (the primary): every worker's share merged and the analysis kept,
/// `timings` (`{ name_seconds: seconds }`) in its summary. Returns summary.json's object.
#[wasm_bindgen]
pub fn pool_finish(shares: js_sys::Array, timings: JsValue) -> Result<Js<serde_json::Value>> {
    let timings = serde_wasm_bindgen::from_value(timings).map_err(|e| {
        crate::error::Error::Invalid(format!(
            "pool_finish: timings must map names to seconds ({e})"
        ))
    })?;
    Ok(Js(super::pool::pool_finish(byte_arrays(&shares, "pool_finish")?, timings)?))
}

/// `folds`-fold cross-validation with the given shuffle seeds (empty: the paper's);
/// `progress("folds", done, total)` hears each fold. Resolves to summary.json's
/// `cross_validation` (snake_case, as `alignmap validate` writes its statistics), parsed from
/// that JSON as an opened results zip's is (an undefined r is `null`): its curves hold
/// thousands of numbers, which serde-wasm-bindgen would cross one at a time (1.3 s for 5 folds
/// of 320 feature maps).
#[wasm_bindgen]
pub async fn cross_validate(folds: u32, seeds: Vec<u32>, progress: Function) -> Result<JsValue> {
    let cv: CrossValidation = super::results::cross_validate(
        folds,
        seeds,
        &mut |done, total| report(&progress, "folds", done, total),
        &seconds,
    )
    .await?;
    cross_validation_js(&cv, "cross_validate")
}

fn cross_validation_js(cv: &CrossValidation, call: &str) -> Result<JsValue> {
    let invalid = |what: String| crate::error::Error::Invalid(format!("{call}: {what}"));
    let text = serde_json::to_string(cv).map_err(|e| invalid(e.to_string()))?;
    js_sys::JSON::parse(&text).map_err(|_| invalid("its summary is not JSON".into()))
}

/// A pooled cross-validation, step 1 (the primary): the folds ranked and split between
/// `workers`; one plan (JSON text) per worker for `pool_cv_curves`.
#[wasm_bindgen]
pub fn pool_cv_plan(folds: u32, seeds: Vec<u32>, workers: u32) -> Result<Vec<String>> {
    super::pool::pool_cv_plan(folds, seeds, workers, seconds())
}

/// A pooled cross-validation, step 2 (every worker): one plan's curves;
/// `progress("folds", done, total)` hears its folds. Resolves to their bytes.
#[wasm_bindgen]
pub async fn pool_cv_curves(plan: String, progress: Function) -> Result<Vec<u8>> {
    let report = &mut |done, total| report(&progress, "folds", done, total);
    super::pool::pool_cv_curves(&plan, report).await
}

/// A pooled cross-validation, step 3 (the primary): every worker's curves in the order of the
/// plans, kept; resolves to what [`cross_validate`] resolves to.
#[wasm_bindgen]
pub fn pool_cv_finish(parts: js_sys::Array) -> Result<JsValue> {
    let cv = super::pool::pool_cv_finish(byte_arrays(&parts, "pool_cv_finish")?, seconds())?;
    cross_validation_js(&cv, "pool_cv_finish")
}

/// [`super::StreamedImage`] with its arrays as typed arrays.
#[derive(serde::Serialize)]
struct CardJs {
    index: usize,
    name: String,
    n: usize,
    baseline: Option<f64>,
    #[serde(with = "serde_wasm_bindgen::preserve")]
    ais: js_sys::Float64Array,
    picture: PictureJs,
}

/// [`super::Picture`] with its pixels as a `Uint8Array`.
#[derive(serde::Serialize)]
struct PictureJs {
    width: usize,
    height: usize,
    #[serde(with = "serde_wasm_bindgen::preserve")]
    rgba: js_sys::Uint8Array,
    defined: bool,
    note: &'static str,
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
