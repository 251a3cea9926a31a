//! Finished analyses kept under a label, to compare them: two networks on one cohort (Aim 2,
//! `compare.rs`) or the analyses of two participants' judgments (`judgments.rs`).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::thread::LocalKey;

use super::results::{Analysis, picture};
use super::{Session, with};
use crate::ablation::AisScores;
use crate::error::{Error, Result};
use crate::heatmap::Heatmap;
use crate::summary::HumanSummary;

/// One finished analysis, as comparisons need it.
#[derive(Clone)]
pub(crate) struct Kept {
    pub names: Vec<String>,
    pub heatmaps: Vec<Option<Heatmap>>,
    /// Each image's width and height as analysed, where heatmaps are matched.
    pub sizes: Vec<(usize, usize)>,
    /// The pictures of an analysis opened from a results zip (a run draws on the session's
    /// images).
    pub pictures: Option<Vec<image::RgbImage>>,
    pub scores: AisScores,
    /// `n × classes` (empty for opened results).
    pub logits: Vec<f32>,
    pub classes: usize,
    /// The network's name and weights, as summary.json names them.
    pub model: String,
    pub weights: String,
    pub human: Option<HumanSummary>,
    /// summary.json of the analysis.
    pub summary: serde_json::Value,
}

impl Kept {
    /// The session's current analysis.
    pub fn current() -> Result<Kept> {
        with(|s| {
            let a = s
                .results
                .as_ref()
                .ok_or_else(|| Error::Invalid("run the analysis first".into()))?;
            Kept::of(a, s)
        })
    }

    /// `a`, run with the session's images or opened from a results zip.
    pub fn of(a: &Analysis, s: &Session) -> Result<Kept> {
        // Opened results may hold display copies: the sizes analysed are in the manifest.
        let sizes = match &a.opened {
            Some((_, manifest)) => manifest
                .images
                .iter()
                .map(|i| (i.original_width as usize, i.original_height as usize))
                .collect(),
            None => (0..a.names.len())
                .map(|i| picture(a, s, i).map(|im| (im.width() as usize, im.height() as usize)))
                .collect::<Result<Vec<_>>>()?,
        };
        let text = |key: &str| a.summary["model"][key].as_str().unwrap_or("").to_string();
        Ok(Kept {
            names: a.names.clone(),
            heatmaps: a.heatmaps.clone(),
            sizes,
            pictures: a.pictures.clone(),
            scores: AisScores { grams: None, ..a.scores.clone() },
            logits: a.logits.clone(),
            classes: a.classes,
            model: text("name"),
            weights: text("weights"),
            human: serde_json::from_value(a.summary["human"].clone()).ok(),
            summary: a.summary.clone(),
        })
    }
}

/// Kept analyses by label.
pub(crate) type Store = RefCell<BTreeMap<String, Kept>>;

/// Keeps the current analysis under `label` in `store` (replacing one of that label).
pub(crate) fn keep(store: &'static LocalKey<Store>, label: String) -> Result<Kept> {
    let kept = Kept::current()?;
    store.with(|k| k.borrow_mut().insert(label, kept.clone()));
    Ok(kept)
}
