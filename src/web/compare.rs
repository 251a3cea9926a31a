//! Aim 2 in the page: two networks on the same cohort. The page keeps the current analysis as
//! one side (`compare_keep`), loads a second network beside the session's own
//! (`compare_load_network`: a file, or the loaded weights shuffled as `alignmap shuffle` does)
//! and runs the same cohort through it (`compare_analyze`), or opens a second results zip
//! (`compare_open_results`); then asks for the report (`compare_report`: the numbers of
//! `alignmap compare`'s compare.json, from `crate::model_comparison`) and for either side's
//! overlays (`compare_overlay`). The last report goes into the page's results zip of its side A
//! under `compare/` (`comparison_files`), as `alignmap compare` writes its folder.

use std::cell::RefCell;
use std::collections::BTreeMap;

#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

use super::kept::{Kept, Store, keep};
use super::published::Opened;
use super::results::{Analysis, Picture};
use super::{Js, ModelEntry, ModelInfo, with};
use crate::error::{Error, Result};
use crate::heatmap::{self, Colormap, OverlayStyle, Rgb};
use crate::model_comparison::{self, CompareReport, Scored};
use crate::pipeline::Stage;

thread_local! {
    /// Analyses kept for the comparison of networks, by label.
    static SIDES: Store = const { RefCell::new(BTreeMap::new()) };
    /// The second network, loaded beside the session's own.
    static NETWORK: RefCell<Option<ModelEntry>> = const { RefCell::new(None) };
    /// The last report and the labels of its two sides, for the results zip.
    static REPORT: RefCell<Option<(CompareReport, String, String)>> = const { RefCell::new(None) };
}

/// Keeps the current analysis as one side of the comparison, under `label` (e.g. the network's
/// name); returns the labels kept so far.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn compare_keep(label: String) -> Result<Vec<String>> {
    keep(&SIDES, label)?;
    Ok(labels())
}

fn labels() -> Vec<String> {
    SIDES.with(|k| k.borrow().keys().cloned().collect())
}

/// Forgets the kept sides, the last report and the second network.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn compare_clear() {
    SIDES.with(|k| k.borrow_mut().clear());
    REPORT.with(|r| r.borrow_mut().take());
    NETWORK.with(|n| n.borrow_mut().take());
}

/// Loads the second network of a comparison from safetensors bytes (as `load_model`), beside the
/// session's own, which stays. `shuffle_seed`: permute every tensor's values first, as `alignmap
/// shuffle --seed` does (a control network: shapes and value distributions kept, learned
/// structure gone); its sha256 is then that of the file the command writes.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn compare_load_network(
    bytes: Vec<u8>,
    source: String,
    requested: Option<String>,
    shuffle_seed: Option<u32>,
) -> Result<Js<ModelInfo>> {
    super::current_device()?;
    let weights = super::read_weights(bytes, &source, requested, shuffle_seed.map(u64::from))?;
    NETWORK.with(|n| n.borrow_mut().take());
    let (entry, info) = super::build_network(weights)?;
    NETWORK.with(|n| *n.borrow_mut() = Some(entry));
    Ok(Js(info))
}

/// Runs the session's cohort and human matrix through the second network (`compare_load_network`)
/// as `analyze` does, and keeps the analysis under `label`; the session's own analysis and
/// network stay. Returns that analysis's summary.json.
pub async fn compare_analyze(
    label: String,
    progress: &mut dyn FnMut(Stage, usize, usize),
    batch: u32,
    clock: &dyn Fn() -> f64,
) -> Result<serde_json::Value> {
    let network = NETWORK.with(|n| n.borrow().clone()).ok_or_else(|| {
        Error::Invalid("no second network loaded: call compare_load_network first".into())
    })?;
    let analysis =
        super::results::run_cohort(Some(network), progress, &mut |_, _, _| {}, batch, clock)
            .await?;
    let kept = with(|s| Kept::of(&analysis, s))?;
    SIDES.with(|k| k.borrow_mut().insert(label, kept));
    Ok(analysis.summary)
}

/// Opens a results zip (as `open_results`) and keeps it as a side of the comparison under
/// `label`; the session's analysis stays. Results zips hold no logits: a comparison with such a
/// side has no entropies or maxEntropy (`compare_report` says so).
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn compare_open_results(bytes: &[u8], file_name: String, label: String) -> Result<Js<Opened>> {
    let (analysis, opened) = super::published::read_results(bytes, file_name)?;
    let kept = with(|s| Kept::of(&analysis, s))?;
    SIDES.with(|k| k.borrow_mut().insert(label, kept));
    Ok(Js(opened))
}

fn scored<'a>(label: &'a str, k: &'a Kept) -> Scored<'a> {
    Scored {
        label,
        model: &k.model,
        weights: &k.weights,
        scores: &k.scores,
        heatmaps: &k.heatmaps,
        logits: &k.logits,
        classes: k.classes,
    }
}

fn side(label: &str) -> Result<Kept> {
    SIDES.with(|k| k.borrow().get(label).cloned()).ok_or_else(|| {
        Error::Invalid(format!("no analysis kept as '{label}': run it and keep it first"))
    })
}

/// The comparison of the analyses kept as `a` and `b`: Match per image and its summary,
/// maxEntropy and its correlation with Match, the KS tests on mean AIS per feature map and on
/// each image's MAD, as `alignmap compare` writes compare.json (NaN where undefined: an image
/// without a heatmap has no Match; a side opened from a results zip has no entropies). Kept for
/// `results_zip`.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn compare_report(a: String, b: String) -> Result<Js<CompareReport>> {
    let (ka, kb) = (side(&a)?, side(&b)?);
    if ka.names != kb.names {
        return Err(Error::Invalid(format!(
            "'{a}' ({} images) and '{b}' ({} images) are analyses of different images: compare two networks on one cohort",
            ka.names.len(),
            kb.names.len()
        )));
    }
    let human = ka.human.clone().ok_or_else(|| {
        Error::Invalid(format!("'{a}': its summary does not say where the human matrix came from"))
    })?;
    let report =
        model_comparison::compare(&ka.names, &ka.sizes, &scored(&a, &ka), &scored(&b, &kb), human)?;
    REPORT.with(|r| *r.borrow_mut() = Some((report.clone(), a, b)));
    Ok(Js(report))
}

/// The files of the last comparison, by path inside the results zip's `compare/` (as
/// `alignmap compare` writes its folder: compare.json, compare_images.csv, a/ and b/ with each
/// side's score files and logits), when its side A is `current` (the analysis exported); else
/// none.
pub(crate) fn comparison_files(current: &Analysis) -> Result<Vec<(String, Vec<u8>)>> {
    let Some((report, a, b)) = REPORT.with(|r| r.borrow().clone()) else {
        return Ok(Vec::new());
    };
    let is_a = SIDES.with(|k| {
        k.borrow().get(&a).is_some_and(|k| k.names == current.names && k.summary == current.summary)
    });
    if !is_a {
        return Ok(Vec::new());
    }
    let mut files: Vec<(String, Vec<u8>)> =
        report.files()?.into_iter().map(|(name, bytes)| (name.to_string(), bytes)).collect();
    for (folder, label) in [("a", &a), ("b", &b)] {
        let k = side(label)?;
        for (name, bytes) in model_comparison::side_files(
            &k.names,
            &(&k.scores).into(),
            &k.summary,
            &k.logits,
            k.classes,
        )? {
            files.push((format!("{folder}/{name}"), bytes));
        }
    }
    Ok(files)
}

/// Image `index` with the heatmap of the analysis kept as `label` (as `overlay`).
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn compare_overlay(
    label: String,
    index: u32,
    colormap: String,
    image_weight: f64,
    max_side: u32,
) -> Result<Js<Picture>> {
    let colormap: Colormap = colormap.parse()?;
    let k = side(&label)?;
    let i = index as usize;
    let name = k.names.get(i).ok_or_else(|| {
        Error::Invalid(format!("no image {index}: the analysis has {}", k.names.len()))
    })?;
    let image = match &k.pictures {
        Some(pictures) => pictures[i].clone(),
        None => with(|s| s.images.get(name).cloned())
            .ok_or_else(|| Error::Invalid(format!("{name}: no longer in the cohort")))?,
    };
    let image = crate::results_zip::display_copy(&image, max_side)
        .unwrap_or_else(|| Rgb::from(image.clone()));
    let drawn = match &k.heatmaps[i] {
        Some(h) => heatmap::overlay(&image, h, OverlayStyle { colormap, image_weight })?,
        None => None,
    };
    let mut picture = Picture::of(drawn.as_ref().unwrap_or(&image));
    if drawn.is_none() {
        picture.defined = false;
        picture.note = "no heatmap: no feature map has a positive AIS for this image";
    }
    Ok(Js(picture))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_kept_analyses_compare_as_the_library_does_and_a_network_matches_itself() {
        super::super::results::tests::cohort();
        let run = || {
            pollster::block_on(super::super::results::analyze(&mut |_, _, _| {}, 2, &|| 0.0))
                .unwrap()
        };
        run();
        assert!(compare_report("x".into(), "y".into()).is_err(), "nothing kept yet");
        compare_keep("x".into()).unwrap();
        run();
        assert_eq!(compare_keep("y".into()).unwrap(), ["x", "y"]);
        let r = compare_report("x".into(), "y".into()).unwrap().0;
        assert_eq!(r.images.len(), 6);
        for (i, m) in r.matching.per_image.iter().enumerate() {
            assert!(m.is_nan() || (m - 1.0).abs() < 1e-9, "image {i}: the same network: {m}");
        }
        assert_eq!(r.a.label, "x");
        assert_eq!(r.b.label, "y");
        assert!(r.a.entropy_per_image.iter().all(|e| e.is_finite() && *e >= 0.0));
        let p = compare_overlay("y".into(), 1, "jet".into(), 0.6, 0).unwrap().0;
        assert_eq!(p.rgba.0.len(), p.width * p.height * 4);
        compare_clear();
        assert!(compare_overlay("y".into(), 1, "jet".into(), 0.6, 0).is_err());
    }

    #[test]
    fn a_shuffled_second_network_runs_beside_the_first_and_the_export_holds_the_comparison() {
        use crate::model::{Vgg16, Vgg16Spec};
        use crate::weights::{StoredDtype, TensorMap};
        use sha2::Digest;

        super::super::results::tests::cohort();
        pollster::block_on(super::super::results::analyze(&mut |_, _, _| {}, 2, &|| 0.0)).unwrap();
        compare_keep("a".into()).unwrap();
        let bytes = Vgg16::synthetic_weights(&Vgg16Spec::tiny(), 3)
            .to_safetensors(StoredDtype::F32)
            .unwrap();
        let none = pollster::block_on(compare_analyze("b".into(), &mut |_, _, _| {}, 2, &|| 0.0));
        assert!(none.is_err_and(|e| e.to_string().contains("call compare_load_network first")));
        let info = compare_load_network(bytes.clone(), "tiny.safetensors".into(), None, Some(0))
            .unwrap()
            .0;
        // The network `alignmap shuffle tiny.safetensors out.safetensors --seed 0` writes.
        let file = TensorMap::from_safetensors("tiny.safetensors", &bytes)
            .unwrap()
            .shuffled(0)
            .to_safetensors(StoredDtype::F32)
            .unwrap();
        let sha: String = sha2::Sha256::digest(&file).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(info.sha256, sha);
        assert_eq!(info.source, "tiny.safetensors (shuffled, seed 0)");
        assert_eq!(info.input_side, 224);

        let summary =
            pollster::block_on(compare_analyze("b".into(), &mut |_, _, _| {}, 2, &|| 0.0)).unwrap();
        assert_eq!(summary["model"]["weights_sha256"], sha.as_str());
        // The session's own network and analysis stay.
        assert!(with(|s| s.model.as_ref().unwrap().source == "tiny.safetensors"));
        assert_eq!(summary_of_current()["model"]["weights"], "tiny.safetensors");
        let r = compare_report("a".into(), "b".into()).unwrap().0;
        assert_eq!((r.a.label.as_str(), r.b.label.as_str()), ("a", "b"));
        assert!(r.b.entropy_per_image.iter().all(|e| e.is_finite()));
        assert!(
            r.matching.per_image.iter().any(|m| m.is_finite() && (m - 1.0).abs() > 1e-6),
            "a shuffled network draws other heatmaps: {:?}",
            r.matching.per_image
        );

        // The export holds the comparison as `alignmap compare` writes its folder.
        let zip = super::super::results_zip("jet".into(), 0.6, 0, false, None, None).unwrap();
        let mut archive = npyz::zip::ZipArchive::new(std::io::Cursor::new(&zip)).unwrap();
        let mut read = |name: &str| {
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut archive.by_name(name).unwrap(), &mut out).unwrap();
            out
        };
        assert_eq!(
            read("compare/compare.json"),
            crate::report::json_text(&r).unwrap().into_bytes()
        );
        assert_eq!(read("compare/compare_images.csv"), r.images_csv().into_bytes());
        let b_summary: serde_json::Value =
            serde_json::from_slice(&read("compare/b/summary.json")).unwrap();
        assert_eq!(b_summary["model"]["weights_sha256"], sha.as_str());
        for side in ["a", "b"] {
            for f in crate::report::SCORE_FILES.iter().chain(&["logits.npy"]) {
                assert!(!read(&format!("compare/{side}/{f}")).is_empty(), "{side}/{f}");
            }
        }
        let manifest: serde_json::Value =
            serde_json::from_slice(&read(crate::results_zip::MANIFEST)).unwrap();
        assert_eq!(manifest["comparison"], "compare/compare.json");

        // A results zip as side B: no logits, so no maxEntropy; the rest as before.
        compare_open_results(&zip, "a.zip".into(), "zip".into()).unwrap();
        let z = compare_report("a".into(), "zip".into()).unwrap().0;
        assert!(z.b.entropy_per_image.iter().all(|e| e.is_nan()));
        assert!(matches!(
            &z.max_entropy.pearson_with_match,
            model_comparison::Correlation::Undefined { undefined } if undefined == model_comparison::NO_LOGITS
        ));
        for (i, m) in z.matching.per_image.iter().enumerate() {
            assert!(m.is_nan() || (m - 1.0).abs() < 1e-6, "image {i}: the same analysis: {m}");
        }
        let drawn = compare_overlay("zip".into(), 0, "jet".into(), 0.6, 16).unwrap().0;
        assert!(drawn.width <= 16 && drawn.height <= 16);

        // Another analysis (another network) is not side A of the last report: its export holds
        // no comparison.
        let other = Vgg16::synthetic_weights(&Vgg16Spec::tiny(), 4)
            .to_safetensors(StoredDtype::F32)
            .unwrap();
        super::super::load_model(other, "tiny-4.safetensors".into(), None).unwrap();
        pollster::block_on(super::super::results::analyze(&mut |_, _, _| {}, 2, &|| 0.0)).unwrap();
        let zip = super::super::results_zip("jet".into(), 0.6, 0, false, None, None).unwrap();
        let archive = npyz::zip::ZipArchive::new(std::io::Cursor::new(&zip)).unwrap();
        assert!(!archive.file_names().any(|f| f.starts_with("compare/")));
        compare_clear();
        assert!(compare_report("a".into(), "b".into()).is_err());
        assert!(NETWORK.with(|n| n.borrow().is_none()));
    }

    fn summary_of_current() -> serde_json::Value {
        with(|s| s.results.as_ref().unwrap().summary.clone())
    }
}
