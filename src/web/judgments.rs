//! The similarity judgments collected in the page (`crate::judgments`, `docs/judgments.md`):
//! JSON in, JSON out. The page stores the trials; these calls compute.

use std::cell::RefCell;
use std::collections::BTreeMap;

#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

use super::kept::{Store, keep};
use crate::error::{Error, Result};
use crate::judgments::{self, arrangement, group, ratings};
use crate::pipeline::MIN_IMAGES;

/// The rating schedule of one participant over `n` images: JSON `[{ a, b, repeat }]` (cohort
/// indices), every pair once in random order (from `seed`) plus a few repeats.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn judgments_schedule(n: u32, seed: u32) -> Result<String> {
    if (n as usize) < MIN_IMAGES {
        return Err(Error::Invalid(format!(
            "{n} image(s): the ratings need at least {MIN_IMAGES}"
        )));
    }
    json(&ratings::schedule(n as usize, seed))
}

/// Every participant's matrix, the mean over the chosen ones, split-half reliability and
/// agreement: `request` is `{ images, participants, include }` (JSON), the answer a
/// `GroupResult` (JSON; NaN as null).
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn judgments_summarize(request: String) -> Result<String> {
    let request: group::Request = serde_json::from_str(&request)
        .map_err(|e| Error::Invalid(format!("the stored judgments cannot be read: {e}")))?;
    let result = group::summarize(&request)?;
    json(&result)
}

/// The next subset for a participant's further arrangement (`request` as for
/// [`judgments_summarize`], one participant): JSON list of image names, `size` of them.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn judgments_next_subset(request: String, size: u32) -> Result<String> {
    let request: group::Request = serde_json::from_str(&request)
        .map_err(|e| Error::Invalid(format!("the stored judgments cannot be read: {e}")))?;
    let n = request.images.len();
    let p = request
        .participants
        .first()
        .ok_or_else(|| Error::Invalid("no participant to choose a subset for".into()))?;
    let placed = p
        .trials
        .iter()
        .filter_map(|t| match t {
            judgments::Trial::Arrangement(a) if a.done => Some(a),
            _ => None,
        })
        .map(|a| {
            let images = a
                .images
                .iter()
                .map(|name| {
                    request.images.iter().position(|x| x == name).ok_or_else(|| {
                        Error::Invalid(format!("image '{name}' is not in the cohort"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let positions = a
                .positions
                .iter()
                .map(|q| {
                    q.ok_or_else(|| {
                        Error::Invalid("a finished arrangement has an unplaced image".into())
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(arrangement::Placed { images, positions })
        })
        .collect::<Result<Vec<_>>>()?;
    let evidence = if placed.is_empty() {
        vec![f64::NAN; judgments::pairs(n)]
    } else {
        arrangement::combine(&placed, n)?.evidence
    };
    let subset = arrangement::next_subset(&evidence, n, size as usize);
    json(&subset.iter().map(|&i| &request.images[i]).collect::<Vec<_>>())
}

thread_local! {
    /// Analyses kept under a participant's code, for the heatmap Match between participants.
    static KEPT: Store = const { RefCell::new(BTreeMap::new()) };
}

/// Keeps the heatmaps of the last analysis under `label` (replacing one of that label);
/// returns how many images have a heatmap.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn judgments_keep_heatmaps(label: String) -> Result<u32> {
    let kept = keep(&KEPT, label)?;
    Ok(kept.heatmaps.iter().filter(|h| h.is_some()).count() as u32)
}

/// Forgets every kept analysis.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn judgments_clear_heatmaps() {
    KEPT.with(|k| k.borrow_mut().clear());
}

/// The heatmap Match between every two kept analyses: JSON `{ labels, images, pairs: [{ a, b,
/// perImage, median }], median }` (perImage: NaN as null; median over images with a Match; the
/// overall median over the pairs' medians).
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn judgments_heatmap_agreement() -> Result<String> {
    KEPT.with(|k| {
        let kept = k.borrow();
        let labels: Vec<&String> = kept.keys().collect();
        if labels.len() < 2 {
            return Err(Error::Invalid("the heatmap Match needs the analyses of two participants".into()));
        }
        let first = &kept[labels[0]];
        let mut pairs = Vec::new();
        let mut medians = Vec::new();
        for (x, a) in labels.iter().enumerate() {
            for b in &labels[x + 1..] {
                let (ka, kb) = (&kept[*a], &kept[*b]);
                if ka.names != kb.names {
                    return Err(Error::Invalid(format!(
                        "the analyses of '{a}' and '{b}' are of different images"
                    )));
                }
                let per_image = group::heatmap_matches(&ka.heatmaps, &kb.heatmaps, &ka.sizes)
                    ?;
                let median = crate::stats::median(&per_image);
                medians.push(median);
                pairs.push(serde_json::json!({
                    "a": a, "b": b,
                    "perImage": per_image.iter().map(|v| v.is_finite().then_some(*v)).collect::<Vec<_>>(),
                    "median": median.is_finite().then_some(median),
                }));
            }
        }
        let overall = crate::stats::median(&medians);
        json(&serde_json::json!({
            "labels": labels,
            "images": first.names,
            "pairs": pairs,
            "median": overall.is_finite().then_some(overall),
        }))
    })
}

/// JSON text for the page (NaN as null).
fn json(value: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Invalid(format!("cannot write JSON: {e}")))
}
