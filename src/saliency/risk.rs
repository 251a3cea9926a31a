//! Relative risk between a saliency map and an AIS heatmap (docs/METHOD.md, Aim 3), as the authors'
//! `overlay_prediction_ground_truth` computes it, and its per-cohort summary.
//!
//! At each level p, Sal = pixels of the saliency map strictly above its (100 − p)th percentile
//! and CR = the same for the AIS heatmap, both at the image's resolution. With the counts of
//! `sklearn.metrics.confusion_matrix(Sal, CR)` (rows = saliency, columns = AIS): tp = Sal ∧ CR,
//! fn = Sal ∧ ¬CR, fp = ¬Sal ∧ CR, tn = ¬Sal ∧ ¬CR, and
//! `RR = P(CR | Sal) / P(CR | ¬Sal) = (tp / (tp + fn)) / (fp / (fp + tn))`.
//! Where that has a zero denominator the authors' code gives inf or NaN (or fails in
//! `confusion_matrix`); here the value is `None` with the reason.

use serde::Serialize;

use crate::error::{Error, Result};

/// The top-p percent levels of the paper.
pub const LEVELS: [u32; 3] = [5, 10, 15];

/// `np.percentile(values, q)` with NumPy's default (linear) interpolation, computed in f64 on
/// the f32 values (NumPy on a float64 array), including NumPy's two-sided `_lerp`.
pub fn percentile(values: &[f32], q: f64) -> Result<f64> {
    if values.is_empty() {
        return Err(Error::Invalid("percentile of an empty map".into()));
    }
    if values.iter().any(|v| !v.is_finite()) {
        return Err(Error::Invalid("the map holds non-finite values".into()));
    }
    let mut sorted: Vec<f64> = values.iter().map(|&v| v as f64).collect();
    let index = q / 100.0 * (sorted.len() - 1) as f64;
    let lo = (index.floor() as usize).min(sorted.len() - 1);
    let (_, &mut a, upper) = sorted.select_nth_unstable_by(lo, f64::total_cmp);
    let b = upper.iter().copied().min_by(f64::total_cmp).unwrap_or(a);
    let t = index - lo as f64;
    let diff = b - a;
    Ok(if t >= 0.5 { b - diff * (1.0 - t) } else { a + diff * t })
}

/// The pixels strictly above the map's (100 − p)th percentile.
pub fn top_mask(map: &[f32], percent: u32) -> Result<Vec<bool>> {
    let threshold = percentile(map, 100.0 - percent as f64)?;
    Ok(map.iter().map(|&v| v as f64 > threshold).collect())
}

/// Confusion counts of Sal (rows) against CR (columns).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Sal ∧ CR.
    pub tp: u64,
    /// Sal ∧ ¬CR.
    pub r#fn: u64,
    /// ¬Sal ∧ CR.
    pub fp: u64,
    /// ¬Sal ∧ ¬CR.
    pub tn: u64,
}

impl Counts {
    /// Counts two masks of the same size.
    pub fn from_masks(sal: &[bool], cr: &[bool]) -> Self {
        let mut c = Counts::default();
        for (&s, &r) in sal.iter().zip(cr) {
            match (s, r) {
                (true, true) => c.tp += 1,
                (true, false) => c.r#fn += 1,
                (false, true) => c.fp += 1,
                (false, false) => c.tn += 1,
            }
        }
        c
    }

    /// `P(CR | Sal) / P(CR | ¬Sal)`, or why it is undefined.
    pub fn relative_risk(&self) -> std::result::Result<f64, &'static str> {
        if self.tp + self.r#fn == 0 {
            return Err(
                "no salient pixel: the saliency map has nothing strictly above its percentile (flat at the top)",
            );
        }
        if self.fp + self.tn == 0 {
            return Err("every pixel is salient: P(CR | ¬Sal) has no pixels");
        }
        if self.tp + self.fp == 0 {
            return Err(
                "no CR pixel: the AIS heatmap has nothing strictly above its percentile (flat at the top)",
            );
        }
        if self.fp == 0 {
            return Err("every CR pixel is salient: P(CR | ¬Sal) = 0");
        }
        Ok((self.tp as f64 / (self.tp + self.r#fn) as f64)
            / (self.fp as f64 / (self.fp + self.tn) as f64))
    }
}

/// The relative risk of one image at one level.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LevelRisk {
    /// p in "top p percent".
    pub percent: u32,
    #[serde(flatten)]
    pub counts: Counts,
    /// `None` when undefined.
    pub rr: Option<f64>,
    /// Why `rr` is undefined.
    pub undefined: Option<&'static str>,
}

/// The relative risk at each of [`LEVELS`] between a saliency map and an AIS heatmap, both
/// row-major at the image's resolution (`width × height` values).
pub fn relative_risks(
    saliency: &[f32],
    ais_heat: &[f32],
    width: usize,
    height: usize,
) -> Result<Vec<LevelRisk>> {
    for (what, map) in [("saliency map", saliency), ("AIS heatmap", ais_heat)] {
        if map.len() != width * height {
            return Err(Error::Invalid(format!(
                "the {what} has {} values, expected {width} × {height} = {}",
                map.len(),
                width * height
            )));
        }
    }
    LEVELS
        .iter()
        .map(|&percent| {
            let counts =
                Counts::from_masks(&top_mask(saliency, percent)?, &top_mask(ais_heat, percent)?);
            let rr = counts.relative_risk();
            Ok(LevelRisk { percent, counts, rr: rr.ok(), undefined: rr.err() })
        })
        .collect()
}

/// Mean ± sd of the defined relative risks of a cohort at one level.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LevelSummary {
    pub percent: u32,
    /// Images with a defined RR (the mean and sd are over these).
    pub n: usize,
    /// Images whose RR is undefined at this level, left out of the mean.
    pub n_undefined: usize,
    pub mean: Option<f64>,
    /// Population standard deviation (n, as `np.std` in the authors' summary).
    pub sd: Option<f64>,
}

/// Per level, over images (each a [`relative_risks`] result).
pub fn summarise(per_image: &[Vec<LevelRisk>]) -> Vec<LevelSummary> {
    LEVELS
        .iter()
        .enumerate()
        .map(|(k, &percent)| {
            let values: Vec<f64> =
                per_image.iter().filter_map(|r| r.get(k).and_then(|l| l.rr)).collect();
            let n = values.len();
            let mean = (n > 0).then(|| values.iter().sum::<f64>() / n as f64);
            let sd = mean
                .map(|m| (values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n as f64).sqrt());
            LevelSummary { percent, n, n_undefined: per_image.len() - n, mean, sd }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_matches_numpy_linear() {
        // np.percentile([3, 1, 4, 1, 5], q) for q = 0, 25, 50, 90, 95, 100 → 1, 1, 3, 4.6, 4.8, 5.
        let v = [3.0, 1.0, 4.0, 1.0, 5.0];
        for (q, expected) in
            [(0.0, 1.0), (25.0, 1.0), (50.0, 3.0), (90.0, 4.6), (95.0, 4.8), (100.0, 5.0)]
        {
            assert!((percentile(&v, q).unwrap() - expected).abs() < 1e-12, "q = {q}");
        }
        // np.percentile(np.arange(20.), 95) = 18.05: strictly above it only 19.
        let ramp: Vec<f32> = (0..20).map(|i| i as f32).collect();
        assert!((percentile(&ramp, 95.0).unwrap() - 18.05).abs() < 1e-12);
        assert_eq!(top_mask(&ramp, 5).unwrap().iter().filter(|&&m| m).count(), 1);
        assert!(percentile(&[], 5.0).is_err() && percentile(&[f32::NAN], 5.0).is_err());
    }

    #[test]
    fn relative_risk_by_hand() {
        // 20 pixels, saliency = 0..19 and AIS = its reverse except pixel 19 is also high:
        // top 5 %: Sal = {19}, CR = {19}: tp 1, fn 0, fp 0 → undefined (P(CR|¬Sal) = 0).
        // top 10 %: Sal = {18, 19}; AIS = [19-i] with pixel 19 set to 30: CR = {0, 19}
        // (values 19 and 30 above the 90th percentile 18.1): tp 1, fn 1, fp 1, tn 17 →
        // (1/2) / (1/18) = 9.
        let sal: Vec<f32> = (0..20).map(|i| i as f32).collect();
        let mut ais: Vec<f32> = (0..20).map(|i| (19 - i) as f32).collect();
        ais[19] = 30.0;
        let r = relative_risks(&sal, &ais, 5, 4).unwrap();
        assert_eq!(r[0].counts, Counts { tp: 1, r#fn: 0, fp: 0, tn: 19 });
        assert_eq!((r[0].rr, r[0].undefined.is_some()), (None, true));
        assert_eq!(r[1].counts, Counts { tp: 1, r#fn: 1, fp: 1, tn: 17 });
        assert!((r[1].rr.unwrap() - 9.0).abs() < 1e-12);
        // top 15 %: percentile 85 = 16.15, Sal = {17, 18, 19}, CR = {0, 1, 19}: tp 1, fn 2, fp 2,
        // tn 15 → (1/3) / (2/17) = 17/6.
        assert_eq!(r[2].counts, Counts { tp: 1, r#fn: 2, fp: 2, tn: 15 });
        assert!((r[2].rr.unwrap() - 17.0 / 6.0).abs() < 1e-12);
        assert!(
            relative_risks(&sal, &ais, 4, 4)
                .unwrap_err()
                .to_string()
                .contains("expected 4 × 4 = 16")
        );
    }

    #[test]
    fn flat_maps_are_undefined_not_infinite() {
        let flat = vec![0.5f32; 16];
        let ramp: Vec<f32> = (0..16).map(|i| i as f32).collect();
        for r in relative_risks(&flat, &ramp, 4, 4).unwrap() {
            assert!(r.rr.is_none() && r.undefined.unwrap().starts_with("no salient"));
        }
        for r in relative_risks(&ramp, &flat, 4, 4).unwrap() {
            assert!(r.rr.is_none() && r.undefined.unwrap().starts_with("no CR"));
        }
    }

    #[test]
    fn summary_leaves_out_and_counts_undefined_images() {
        let level = |rr: Option<f64>| LevelRisk {
            percent: 5,
            counts: Counts::default(),
            rr,
            undefined: None,
        };
        let images =
            vec![vec![level(Some(2.0)); 3], vec![level(Some(4.0)); 3], vec![level(None); 3]];
        let s = summarise(&images);
        assert_eq!(s.len(), 3);
        assert_eq!((s[0].n, s[0].n_undefined, s[0].mean, s[0].sd), (2, 1, Some(3.0), Some(1.0)));
        assert_eq!(
            summarise(&[])[2],
            LevelSummary { percent: 15, n: 0, n_undefined: 0, mean: None, sd: None }
        );
    }
}
