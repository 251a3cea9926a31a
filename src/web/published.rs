//! Results that open without computing, and the results zip the page exports: both through
//! `crate::results_zip`, the one format that `alignmap pack` and `alignmap analyze --zip` write.
//!
//! After [`open_results`] the session's analysis is the file's: the getters of `results.rs`
//! (`result_info`, `ais_image`, `overlay`, `saliency_overlay`, …) answer from it exactly as after
//! a run, with no network loaded; only cross-validation, which needs the network and the human
//! matrix, is refused.

use std::collections::BTreeMap;

use serde::Serialize;
#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

use super::results::{Analysis, picture};
use super::{Js, with};
use crate::ablation::AisScores;
use crate::error::{Error, Result};
use crate::heatmap::{Colormap, OverlayStyle};
use crate::results_zip::{Manifest, OpenedResults, ZipContents, ZipImage, ZipOptions};
use crate::scores::Baseline;

#[derive(Serialize)]
pub struct Opened {
    /// summary.json.
    pub summary: serde_json::Value,
    /// alignmap-results.json, with the title, categories and display size.
    pub manifest: Manifest,
    pub file: String,
}

/// Opens a results zip (`file_name` names it in errors) and makes it the session's analysis.
/// Throws with a message naming the file and the entry for anything that is not a results zip.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn open_results(bytes: &[u8], file_name: String) -> Result<Js<Opened>> {
    let (analysis, answer) = read_results(bytes, file_name)?;
    with(|s| s.results = Some(analysis));
    Ok(Js(answer))
}

/// A results zip read as an analysis (not kept), and what `open_results` answers.
pub(crate) fn read_results(bytes: &[u8], file_name: String) -> Result<(Analysis, Opened)> {
    let opened = OpenedResults::from_zip(&file_name, bytes)?;
    let ais = &opened.summary["ais"];
    let count = |key: &str| ais[key].as_u64().unwrap_or(0) as usize;
    let cross_validation =
        opened.summary.get("cross_validation").and_then(|v| serde_json::from_value(v.clone()).ok());
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
    let OpenedResults { manifest, names, summary, heatmaps, images, .. } = opened;
    let answer =
        Opened { summary: summary.clone(), manifest: manifest.clone(), file: file_name.clone() };
    let analysis = Analysis {
        pictures: Some(images),
        opened: Some((file_name, manifest)),
        cross_validation,
        ..Analysis::new(names, scores, heatmaps, summary)
    };
    Ok((analysis, answer))
}

#[derive(Serialize)]
pub struct Origin {
    /// The analysis was opened from a file (not run here).
    pub opened: bool,
    pub file: Option<String>,
}

/// Where the current analysis came from.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn results_origin() -> Result<Js<Origin>> {
    with(|s| {
        let a = s.results.as_ref().ok_or_else(|| Error::Invalid("no analysis yet".into()))?;
        Ok(Js(Origin { opened: a.opened.is_some(), file: a.opened.as_ref().map(|o| o.0.clone()) }))
    })
}

/// summary.json of the export: the analysis's, with the saliency comparison and the
/// cross-validation when the page made them (or the opened file had them).
fn export_summary(a: &Analysis) -> Result<serde_json::Value> {
    let mut summary = a.summary.clone();
    let object = summary
        .as_object_mut()
        .ok_or_else(|| Error::Invalid("summary.json is not a JSON object".into()))?;
    if let Some(cv) = &a.cross_validation {
        object.insert("cross_validation".into(), to_json(cv)?);
    }
    if let Some(saliency) = &a.saliency {
        object.insert("saliency".into(), to_json(saliency)?);
    }
    Ok(summary)
}

fn to_json(value: &impl Serialize) -> Result<serde_json::Value> {
    serde_json::to_value(value)
        .map_err(|e| Error::Invalid(format!("cannot write summary.json: {e}")))
}

/// The results zip of the current analysis (run here or opened), built by the crate from the
/// same writers as `alignmap analyze`: `max_side` > 0 stores display copies whose longer side is
/// at most that (0: the images as analysed, as PNG); `overlays` adds overlay PNGs drawn with
/// `colormap` and `image_weight`; `categories_json` (`{ "categories": {image: id}, "labels":
/// {id: label} }`) and `title` go into the manifest (kept from an opened file when absent). The
/// last comparison of this analysis with another network (`compare_report`) goes under
/// `compare/`, as `alignmap compare` writes its folder.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn results_zip(
    colormap: String,
    image_weight: f64,
    max_side: u32,
    overlays: bool,
    categories_json: Option<String>,
    title: Option<String>,
) -> Result<Vec<u8>> {
    let colormap: Colormap = colormap.parse()?;
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
        .map_err(|e| Error::Invalid(format!("categories: expected {{categories, labels}}: {e}")))?;
    super::results::with_results(|a, s| {
        let summary = export_summary(a)?;
        let images = (0..a.names.len())
            .map(|i| picture(a, s, i).map(|image| ZipImage { image, file_bytes: None }))
            .collect::<Result<Vec<_>>>()?;
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
            scores: (&a.scores).into(),
            summary: &summary,
            heatmaps: &a.heatmaps,
            images,
            made_by: "alignmap in the browser (www/)",
            title: title.or_else(|| from_file.and_then(|m| m.title.clone())),
            categories,
            category_labels,
            comparison: super::compare::comparison_files(a)?,
        };
        let options = ZipOptions {
            max_side,
            overlays: overlays.then_some(OverlayStyle { colormap, image_weight }),
        };
        contents.to_zip(&options)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(mut v: Vec<String>) -> Vec<String> {
        v.sort();
        v
    }

    #[test]
    fn the_export_opens_again_with_its_cross_validation_and_the_command_lines_files() {
        super::super::results::tests::cohort();
        pollster::block_on(super::super::results::analyze(&mut |_, _, _| {}, 2, &|| 0.0)).unwrap();
        pollster::block_on(super::super::results::cross_validate(
            2,
            vec![222],
            &mut |_, _| {},
            &|| 0.0,
        ))
        .unwrap();
        let bytes = results_zip("jet".into(), 0.6, 0, true, None, Some("t".into())).unwrap();

        let mut zip = npyz::zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
        let files: Vec<String> = zip.file_names().map(str::to_string).collect();
        for f in crate::report::SCORE_FILES {
            assert!(files.iter().any(|x| x == f), "{f} in {files:?}");
        }
        let mut text = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("summary.json").unwrap(), &mut text)
            .unwrap();
        let summary: serde_json::Value = serde_json::from_str(&text).unwrap();
        let r2 = &summary["cross_validation"]["r2"];
        for key in ["loftus_masson_se", "authors_code_se", "paired_t_test_retained_vs_full"] {
            assert!(r2.get(key).is_some(), "{key}: {r2}");
        }

        let opened = open_results(&bytes, "x.zip".into()).unwrap().0;
        assert_eq!(opened.manifest.title.as_deref(), Some("t"));
        let cv = with(|s| s.results.as_ref().unwrap().cross_validation.clone()).unwrap();
        assert_eq!(cv.seeds, [222]);
        assert!(results_origin().unwrap().0.opened);
        let again = results_zip("jet".into(), 0.6, 0, true, None, None).unwrap();
        let mut again = npyz::zip::ZipArchive::new(std::io::Cursor::new(&again)).unwrap();
        let again_files: Vec<String> = again.file_names().map(str::to_string).collect();
        assert_eq!(sorted(again_files), sorted(files.clone()));
        let read = |zip: &mut npyz::zip::ZipArchive<_>, name: &str| {
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut zip.by_name(name).unwrap(), &mut out).unwrap();
            out
        };
        let differ: Vec<&String> =
            files.iter().filter(|f| read(&mut zip, f) != read(&mut again, f)).collect();
        assert!(differ.is_empty(), "an opened export exports other bytes in {differ:?}");
    }
}
