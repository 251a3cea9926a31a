//! Results that open without computing, and the results zip the page exports: both through
//! `crate::results_zip`, the one format that `alignmap pack` and `alignmap analyze --zip` write.
//!
//! After [`open_results`] the session's analysis is the file's: the getters of `results.rs`
//! (`result_info`, `ais_image`, `overlay`, `saliency_overlay`, …) answer from it exactly as after
//! a run, with no network loaded; only cross-validation, which needs the network and the human
//! matrix, is refused.

use std::collections::BTreeMap;

use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;

use super::results::{Analysis, picture};
use super::{js_error, object, with};
use crate::ablation::AisScores;
use crate::heatmap::{Colormap, OverlayStyle};
use crate::results_zip::{OpenedResults, ZipContents, ZipImage, ZipOptions};
use crate::scores::Baseline;

fn to_js(value: &impl serde::Serialize) -> Result<JsValue, JsError> {
    let text = serde_json::to_string(value).map_err(js_error)?;
    js_sys::JSON::parse(&text).map_err(|_| JsError::new("cannot build the result object"))
}

/// Opens a results zip (`file_name` names it in errors) and makes it the session's analysis.
/// Resolves to `{ summary, manifest, file }` (`summary`: summary.json; `manifest`:
/// alignmap-results.json, with the title, categories and display size); throws with a message
/// naming the file and the entry for anything that is not a results zip.
#[wasm_bindgen]
pub fn open_results(bytes: &[u8], file_name: String) -> Result<JsValue, JsError> {
    let opened = OpenedResults::from_zip(&file_name, bytes).map_err(js_error)?;
    let ais = &opened.summary["ais"];
    let count = |key: &str| ais[key].as_u64().unwrap_or(0) as usize;
    let scores = AisScores {
        n: opened.names.len(),
        channels: opened.channels,
        baseline: Baseline {
            r: opened.baseline_r,
            r2: opened.baseline_r2,
            per_image: opened.baseline_per_image.clone(),
        },
        image: opened.ais_image.clone(),
        dataset_r: opened.dataset_r.clone(),
        dataset_r2: opened.dataset_r2.clone(),
        zero_pairs: count("zero_image_channel_pairs"),
        skipped_channels: count("channels_zero_in_every_image"),
        grams: None,
    };
    let result = object(&[
        ("summary", to_js(&opened.summary)?),
        ("manifest", to_js(&opened.manifest)?),
        ("file", file_name.as_str().into()),
    ])?;
    let OpenedResults { manifest, names, summary, heatmaps, images, .. } = opened;
    with(|s| {
        s.results = Some(Analysis {
            names,
            scores,
            heatmaps,
            summary,
            compute: None,
            pictures: Some(images),
            opened: Some((file_name, manifest)),
        })
    });
    Ok(result)
}

/// Where the current analysis came from: `{ opened: false }` after a run here, `{ opened: true,
/// file }` for opened results.
#[wasm_bindgen]
pub fn results_origin() -> Result<JsValue, JsError> {
    with(|s| {
        let a = s.results.as_ref().ok_or_else(|| JsError::new("no analysis yet"))?;
        match &a.opened {
            Some((file, _)) => object(&[("opened", true.into()), ("file", file.as_str().into())]),
            None => object(&[("opened", false.into())]),
        }
    })
}

/// The results zip of the current analysis (run here or opened): `summary_json` is the
/// summary.json to store (the page adds its saliency and cross-validation parts);
/// `max_side` > 0 stores display copies whose longer side is at most that (0: the images as
/// analysed, as PNG); `overlays` adds overlay PNGs drawn with `colormap` and `image_weight`;
/// `categories_json` (`{ "categories": {image: id}, "labels": {id: label} }`) and `title` go
/// into the manifest (kept from an opened file when absent).
#[wasm_bindgen]
pub fn results_zip(
    summary_json: String,
    colormap: String,
    image_weight: f64,
    max_side: u32,
    overlays: bool,
    categories_json: Option<String>,
    title: Option<String>,
) -> Result<Uint8Array, JsError> {
    let colormap: Colormap = colormap.parse().map_err(js_error)?;
    let summary: serde_json::Value = serde_json::from_str(&summary_json)
        .map_err(|e| JsError::new(&format!("the summary to export is not JSON: {e}")))?;
    #[derive(serde::Deserialize)]
    struct Categories {
        categories: BTreeMap<String, String>,
        #[serde(default)]
        labels: Option<BTreeMap<String, String>>,
    }
    let categories: Option<Categories> = categories_json
        .filter(|t| !t.trim().is_empty())
        .map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|e| JsError::new(&format!("categories: expected {{categories, labels}}: {e}")))?;
    with(|s| {
        let a =
            s.results.as_ref().ok_or_else(|| JsError::new("no analysis yet: run analyze first"))?;
        let images = (0..a.names.len())
            .map(|i| picture(a, s, i).map(|image| ZipImage { image, file_bytes: None }))
            .collect::<Result<Vec<_>, JsError>>()?;
        let from_file = a.opened.as_ref().map(|(_, m)| m);
        let (categories, category_labels) = match categories {
            Some(c) => (Some(c.categories), c.labels),
            None => (
                from_file.and_then(|m| m.categories.clone()),
                from_file.and_then(|m| m.category_labels.clone()),
            ),
        };
        let contents = ZipContents {
            names: &a.names,
            channels: a.scores.channels,
            ais_image: &a.scores.image,
            dataset_r: &a.scores.dataset_r,
            dataset_r2: &a.scores.dataset_r2,
            summary: &summary,
            heatmaps: &a.heatmaps,
            images,
            made_by: "alignmap in the browser (www/)",
            title: title.or_else(|| from_file.and_then(|m| m.title.clone())),
            categories,
            category_labels,
        };
        let options = ZipOptions {
            max_side,
            overlays: overlays.then_some(OverlayStyle { colormap, image_weight }),
        };
        let bytes = contents.to_zip(&options).map_err(js_error)?;
        Ok(Uint8Array::from(bytes.as_slice()))
    })
}
