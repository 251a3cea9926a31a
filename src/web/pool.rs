//! One analysis over a pool of workers, each its own WebAssembly instance with the same network,
//! matrix and images (wasm threads would need a rebuilt standard library). Every worker runs the
//! network over its share of the images (`pool_extract`); the primary joins the parts in image
//! order (`pool_join`) and hands the cohort's ablation inputs to the others (`pool_set_inputs`);
//! every worker scores its share of the feature maps (`pool_score`); the primary merges the
//! shares, draws the heatmaps and keeps the analysis as `analyze` does (`pool_finish`). The
//! shares cross as bytes (`crate::shares`), so the merged scores are those of one worker within
//! the engine's schedules' rounding (`tests/browser/pool.test.mjs`).
//!
//! A cross-validation of a pooled analysis is shared by folds: the primary ranks every fold's
//! feature maps by training AIS (`pool_cv_plan`), every worker draws the selection curves of its
//! folds (`pool_cv_curves`, the same computation as on one worker, so the same numbers), and the
//! primary keeps the whole (`pool_cv_finish`).

use std::cell::RefCell;
use std::collections::BTreeMap;

use burn::prelude::{Tensor, TensorData};
#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

use super::results::{self, CohortRun, RankedFolds};
use super::with;
use crate::ablation::{self, Event};
use crate::error::{Error, Result};
use crate::extract::Extracted;
use crate::pipeline::{self, Stage};
use crate::selection::RankedFold;
use crate::shares::{CohortInputs, CurvesShare, ExtractedPart, ScoresShare, split};
use crate::summary::CrossValidation;

/// What a worker holds between the steps of a pooled analysis.
enum Pooled {
    /// The primary: the cohort's joined network outputs.
    Joined(Extracted),
    /// Another worker: the cohort's ablation inputs.
    Inputs(CohortInputs),
}

thread_local! {
    static POOLED: RefCell<Option<Pooled>> = const { RefCell::new(None) };
    /// The primary's cross-validation between `pool_cv_plan` and `pool_cv_finish`, with when it
    /// began.
    static PENDING_CV: RefCell<Option<(RankedFolds, f64)>> = const { RefCell::new(None) };
}

/// How a pool of `workers` splits the session's analysis: each worker's images (for
/// `pool_extract`) and feature maps (for `pool_score`), as `[start, end)` pairs. Fewer workers
/// than asked when the cohort has fewer images or the network fewer feature maps.
#[derive(serde::Serialize)]
pub struct PoolPlan {
    pub images: Vec<(usize, usize)>,
    pub channels: Vec<(usize, usize)>,
}

#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn pool_plan(workers: u32) -> Result<super::Js<PoolPlan>> {
    let run = CohortRun::of_session(None)?;
    let workers = (workers as usize).min(run.names.len()).min(run.net.channels()).max(1);
    let pairs = |total| split(total, workers).into_iter().map(|r| (r.start, r.end)).collect();
    Ok(super::Js(PoolPlan { images: pairs(run.names.len()), channels: pairs(run.net.channels()) }))
}

/// Step 1, on every worker: images `start..end` of the session's cohort (in row order) through
/// its network, `batch` per forward pass; `progress` hears the decode and network stages of the
/// share. Answers the part as bytes for `pool_join`.
pub async fn pool_extract(
    start: u32,
    end: u32,
    batch: u32,
    progress: &mut dyn FnMut(Stage, usize, usize),
) -> Result<Vec<u8>> {
    let run = CohortRun::of_session(None)?;
    let range = start as usize..end as usize;
    if range.is_empty() || range.end > run.names.len() {
        return Err(Error::Invalid(format!(
            "images {range:?}: the cohort has {} images",
            run.names.len()
        )));
    }
    let options = run.options(batch, true, None);
    let (extracted, _) = pipeline::extract_cohort(
        &run.net,
        &run.device.device,
        range.len(),
        &mut |i| run.image(range.start + i),
        options.batch,
        &mut pipeline::Hooks { progress, image: &mut |_| {}, cancelled: &|| false, clock: &|| 0.0 },
    )
    .await?;
    ExtractedPart { range, extracted }.to_bytes()
}

/// Step 2, on the primary: the parts of every worker joined in image order and kept. Answers the
/// cohort's ablation inputs as bytes for the other workers (`pool_set_inputs`).
pub fn pool_join(parts: Vec<Vec<u8>>) -> Result<Vec<u8>> {
    let run = CohortRun::of_session(None)?;
    let parts = parts.iter().map(|p| ExtractedPart::from_bytes(p)).collect::<Result<_>>()?;
    let joined = ExtractedPart::join(parts, run.names.len())?;
    let inputs = CohortInputs {
        n: joined.len(),
        channels: run.net.channels(),
        values: joined.inputs.clone(),
    };
    with(|s| s.results = None);
    POOLED.with(|p| *p.borrow_mut() = Some(Pooled::Joined(joined)));
    inputs.to_bytes()
}

/// Step 2, on every other worker: the cohort's ablation inputs from `pool_join`.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn pool_set_inputs(bytes: &[u8]) -> Result<()> {
    let inputs = CohortInputs::from_bytes(bytes)?;
    POOLED.with(|p| *p.borrow_mut() = Some(Pooled::Inputs(inputs)));
    Ok(())
}

/// Step 3, on every worker: the scores of feature maps `start..end` (with their Gram matrices,
/// for cross-validation); `progress` hears the ablation in images. Answers the share as bytes
/// for `pool_finish`.
pub async fn pool_score(
    start: u32,
    end: u32,
    progress: &mut dyn FnMut(Stage, usize, usize),
) -> Result<Vec<u8>> {
    let run = CohortRun::of_session(None)?;
    let n = run.names.len();
    let channels = run.net.channels();
    let values = pooled_inputs(n, channels)?;
    let range = (start as usize, end as usize);
    let options = run.options(0, true, Some(range));
    let positions = values.len() / (n * channels);
    let inputs =
        Tensor::from_data(TensorData::new(values, [n, channels, positions]), &run.device.device);
    let scores = ablation::alignment_importance(
        &run.net,
        inputs,
        &run.matched.similarity,
        &options.engine,
        &mut |event| {
            if let Event::Progress { done, total } = event {
                progress(Stage::Ablation, done * n / total.max(1), n)
            }
            Ok(())
        },
    )
    .await?;
    ScoresShare { range: range.0..range.1, scores }.to_bytes()
}

/// Step 4, on the primary: every worker's share merged, the heatmaps drawn, the analysis kept as
/// `analyze` keeps it, with `timings` (seconds, as the page measured them) in its summary.
/// Answers summary.json.
pub fn pool_finish(
    shares: Vec<Vec<u8>>,
    timings: BTreeMap<String, f64>,
) -> Result<serde_json::Value> {
    let run = CohortRun::of_session(None)?;
    let shares = shares.iter().map(|s| ScoresShare::from_bytes(s)).collect::<Result<_>>()?;
    let scores = ScoresShare::merge(shares)?;
    let extracted = match POOLED.with(|p| p.borrow_mut().take()) {
        Some(Pooled::Joined(e)) => e,
        _ => return Err(Error::Invalid("no joined network outputs: call pool_join first".into())),
    };
    if (scores.n, scores.channels) != (run.names.len(), run.net.channels()) {
        return Err(Error::Invalid("the shares are of another cohort or network".into()));
    }
    let heatmaps = crate::heatmap::cohort_heatmaps(&scores, &extracted.maps)?;
    let analysis = run.finish(extracted, scores, heatmaps, timings, true)?;
    let summary = analysis.summary.clone();
    with(|s| s.results = Some(analysis));
    Ok(summary)
}

/// What a worker of the pool scores with: the session's network and matched human matrix, the
/// pooled ablation inputs and the number of feature maps.
pub(crate) fn pooled_cohort() -> Result<(crate::model::Network, Vec<f32>, Vec<f64>, usize)> {
    let run = CohortRun::of_session(None)?;
    let (n, channels) = (run.names.len(), run.net.channels());
    let values = pooled_inputs(n, channels)?;
    Ok((run.net.clone(), values, run.matched.similarity.clone(), channels))
}

/// The cohort's ablation inputs this worker holds for a pooled analysis of `n` images and
/// `channels` feature maps.
fn pooled_inputs(n: usize, channels: usize) -> Result<Vec<f32>> {
    POOLED.with(|p| match &*p.borrow() {
        Some(Pooled::Joined(e)) => Ok(e.inputs.clone()),
        Some(Pooled::Inputs(i)) if (i.n, i.channels) == (n, channels) => Ok(i.values.clone()),
        Some(Pooled::Inputs(i)) => Err(Error::Invalid(format!(
            "the pooled inputs hold {} images × {} feature maps; the session has {n} × {channels}",
            i.n, i.channels
        ))),
        None => Err(Error::Invalid("no pooled analysis: call pool_join first".into())),
    })
}

/// Cross-validation step 1, on the primary: the folds of the session's analysis ranked by
/// training AIS (as `cross_validate` ranks them) and split between `workers`: one plan per
/// worker, as JSON text for `pool_cv_curves`. `now` is the page's clock, in seconds.
pub fn pool_cv_plan(folds: u32, seeds: Vec<u32>, workers: u32, now: f64) -> Result<Vec<String>> {
    let plan = results::rank_folds(folds, seeds)?;
    let parts = split(plan.ranked.len(), (workers as usize).clamp(1, plan.ranked.len()));
    let texts = parts
        .into_iter()
        .map(|range| serde_json::to_string(&plan.ranked[range]))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::Invalid(format!("pool_cv_plan: {e}")))?;
    PENDING_CV.with(|p| *p.borrow_mut() = Some((plan, now)));
    Ok(texts)
}

/// Cross-validation step 2, on every worker: the selection curves of one plan's folds;
/// `progress` hears (folds done, the plan's folds). Answers them as bytes for `pool_cv_finish`.
pub async fn pool_cv_curves(plan: &str, progress: &mut dyn FnMut(usize, usize)) -> Result<Vec<u8>> {
    let ranked: Vec<RankedFold> = serde_json::from_str(plan)
        .map_err(|e| Error::Invalid(format!("pool_cv_curves: not a plan of pool_cv_plan ({e})")))?;
    let curves = results::session_curves(&ranked, progress).await?;
    CurvesShare { curves }.to_bytes()
}

/// Cross-validation step 3, on the primary: every worker's curves, in the order of the plans,
/// kept with the analysis as `cross_validate` keeps them. `now`: the page's clock, in seconds.
pub fn pool_cv_finish(parts: Vec<Vec<u8>>, now: f64) -> Result<CrossValidation> {
    let (plan, started) = PENDING_CV.with(|p| p.borrow_mut().take()).ok_or_else(|| {
        Error::Invalid("no pooled cross-validation: call pool_cv_plan first".into())
    })?;
    let mut curves = Vec::with_capacity(plan.ranked.len());
    for part in &parts {
        curves.extend(CurvesShare::from_bytes(part)?.curves);
    }
    results::keep_cross_validation(plan, curves, now - started)
}

#[cfg(test)]
mod tests {
    use super::super::results::{self, tests::cohort};
    use super::*;

    /// Within `tolerance`, everywhere (a NaN anywhere fails).
    fn close(a: &[f64], b: &[f64], tolerance: f64) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tolerance)
    }

    #[test]
    fn two_workers_give_one_workers_analysis() {
        cohort();
        let plan = pool_plan(4).unwrap().0;
        assert_eq!(plan.images, [(0, 2), (2, 4), (4, 5), (5, 6)]);
        assert_eq!(plan.channels.len(), 4);
        assert_eq!(pool_plan(10).unwrap().0.images.len(), 6, "one image per worker at most");
        let summary = pollster::block_on(results::analyze(&mut |_, _, _| {}, 2, &|| 0.0)).unwrap();
        let one = results::ais_image().unwrap();
        let one_dataset = results::ais_dataset().unwrap();
        let one_picture = results::overlay(4, "jet".into(), 0.6, false, 0).unwrap().0;
        let c = summary["feature_maps"].as_u64().unwrap() as u32;

        // Two "workers" in turn on this one session: images 0..4 and 4..6 through the network,
        // then the first third of the feature maps scored by the primary and the rest by the
        // other worker, which holds only the inputs.
        let parts: Vec<Vec<u8>> = [(0, 4), (4, 6)]
            .into_iter()
            .map(|(a, b)| pollster::block_on(pool_extract(a, b, 2, &mut |_, _, _| {})).unwrap())
            .collect();
        let inputs = pool_join(parts.clone()).unwrap();
        assert!(results::result_info().is_err(), "the pooled analysis replaces the last one");
        let first = pollster::block_on(pool_score(0, c / 3, &mut |_, _, _| {})).unwrap();
        pool_set_inputs(&inputs).unwrap();
        let mut heard = 0;
        let rest = pollster::block_on(pool_score(c / 3, c, &mut |_, done, n| heard = done.max(n)))
            .unwrap();
        assert_eq!(heard, 6, "the ablation's progress counts the cohort's images");
        assert!(pool_finish(vec![first.clone(), rest.clone()], BTreeMap::new()).is_err());
        pool_join(parts).unwrap();
        let timings = BTreeMap::from([("total_seconds".into(), 1.5)]);
        let pooled = pool_finish(vec![rest, first], timings).unwrap();
        assert_eq!(pooled["timings"]["total_seconds"], 1.5);
        for key in ["n_images", "feature_maps", "baseline", "model", "human"] {
            assert_eq!(pooled[key], summary[key], "{key}");
        }
        assert!(close(&one, &results::ais_image().unwrap(), 1e-6));
        assert!(close(&one_dataset, &results::ais_dataset().unwrap(), 1e-6));
        let picture = results::overlay(4, "jet".into(), 0.6, false, 0).unwrap().0;
        assert_eq!((picture.width, picture.height), (one_picture.width, one_picture.height));
        // Cross-validation runs on the pooled analysis (its Gram matrices were kept), on one
        // worker, and shared by folds between two: the same curves, bit for bit.
        let cv =
            pollster::block_on(results::cross_validate(2, vec![111, 7], &mut |_, _| {}, &|| 0.0))
                .unwrap();
        assert_eq!(cv.curves.len(), 4);
        let plans = pool_cv_plan(2, vec![111, 7], 2, 10.0).unwrap();
        assert_eq!(plans.len(), 2);
        let mut heard = Vec::new();
        let first =
            pollster::block_on(pool_cv_curves(&plans[0], &mut |d, t| heard.push((d, t)))).unwrap();
        assert_eq!(heard, [(1, 2), (2, 2)], "progress counts the plan's folds");
        // the other worker holds no analysis, only the pooled inputs
        let analysis = with(|s| s.results.take());
        pool_set_inputs(&inputs).unwrap();
        let second = pollster::block_on(pool_cv_curves(&plans[1], &mut |_, _| {})).unwrap();
        assert!(pollster::block_on(pool_cv_curves("[{", &mut |_, _| {})).is_err());
        let mut stray: Vec<RankedFold> = serde_json::from_str(&plans[1]).unwrap();
        stray[0].fold.test[0] = 6;
        let stray = serde_json::to_string(&stray).unwrap();
        let e = pollster::block_on(pool_cv_curves(&stray, &mut |_, _| {})).unwrap_err();
        assert!(e.to_string().contains("image 6 of a cohort of 6"), "{e}");
        with(|s| s.results = analysis);
        assert!(pool_cv_finish(vec![first.clone()], 12.5).is_err(), "a part is missing");
        pool_cv_plan(2, vec![111, 7], 2, 10.0).unwrap();
        let pooled_cv = pool_cv_finish(vec![first, second], 12.5).unwrap();
        assert_eq!(pooled_cv.seconds, 2.5);
        assert_eq!(CrossValidation { seconds: cv.seconds, ..pooled_cv.clone() }, cv);
        let bits = |c: &CrossValidation| {
            c.curves
                .iter()
                .flat_map(|f| f.train_r.iter().chain(&f.test_r))
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&pooled_cv), bits(&cv));
        assert!(pool_cv_finish(Vec::new(), 0.0).is_err(), "no plan pending");

        // Shares that leave feature maps out, and images past the cohort, are refused.
        let whole = vec![pollster::block_on(pool_extract(0, 6, 2, &mut |_, _, _| {})).unwrap()];
        pool_join(whole).unwrap();
        let half = vec![pollster::block_on(pool_score(0, c / 2, &mut |_, _, _| {})).unwrap()];
        assert!(pool_finish(half, BTreeMap::new()).is_err());
        assert!(pollster::block_on(pool_extract(5, 9, 2, &mut |_, _, _| {})).is_err());
    }
}
