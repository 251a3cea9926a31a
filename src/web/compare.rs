//! Aim 2 in the page: two networks on the same cohort. The page keeps each finished analysis
//! under a label (`compare_keep`), then asks for the report (`compare_report`: the numbers of
//! `alignmap compare`'s compare.json, from `crate::model_comparison`) and for either network's
//! overlays (`compare_overlay`).

use std::cell::RefCell;
use std::collections::BTreeMap;

#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

use super::kept::{Kept, Store, keep};
use super::results::Picture;
use super::{Js, with};
use crate::error::{Error, Result};
use crate::heatmap::{self, Colormap, OverlayStyle, Rgb};
use crate::model_comparison::{self, CompareReport, Scored};

thread_local! {
    /// Analyses kept for the comparison of networks, by label.
    static SIDES: Store = const { RefCell::new(BTreeMap::new()) };
}

/// Keeps the current analysis as one side of the comparison, under `label` (e.g. the network's
/// name); returns the labels kept so far.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn compare_keep(label: String) -> Result<Vec<String>> {
    keep(&SIDES, label)?;
    Ok(SIDES.with(|k| k.borrow().keys().cloned().collect()))
}

/// Forgets the kept sides.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn compare_clear() {
    SIDES.with(|k| k.borrow_mut().clear());
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
/// each image's MAD, as `alignmap compare` writes compare.json.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn compare_report(a: String, b: String) -> Result<Js<CompareReport>> {
    let (ka, kb) = (side(&a)?, side(&b)?);
    if ka.names != kb.names {
        return Err(Error::Invalid(format!(
            "'{a}' and '{b}' are analyses of different images: compare two networks on one cohort"
        )));
    }
    for (label, k) in [(&a, &ka), (&b, &kb)] {
        if k.logits.is_empty() {
            return Err(Error::Invalid(format!(
                "'{label}' was opened from a results zip, which holds no logits: maxEntropy needs the network's outputs (run the analysis here)"
            )));
        }
    }
    let human = ka.human.clone().ok_or_else(|| {
        Error::Invalid(format!("'{a}': its summary does not say where the human matrix came from"))
    })?;
    Ok(Js(model_comparison::compare(
        &ka.names,
        &ka.sizes,
        &scored(&a, &ka),
        &scored(&b, &kb),
        human,
    )?))
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
    let image = with(|s| s.images.get(name).cloned())
        .ok_or_else(|| Error::Invalid(format!("{name}: no longer in the cohort")))?;
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
}
