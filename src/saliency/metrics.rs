//! Saliency metrics as the MIT/Tübingen saliency benchmark defines them (Bylinskii et al.,
//! "What do different evaluation metrics tell us about saliency models?", 2019), computed in
//! f64. The fixation map is binary (several fixations on one pixel count once).
//!
//! - **AUC-Judd**: the thresholds are the distinct saliency values at fixated pixels. At
//!   threshold t the true-positive rate is the share of fixated pixels with saliency ≥ t and the
//!   false-positive rate the share of non-fixated pixels with saliency ≥ t; the curve runs from
//!   (0, 0) through these points to (1, 1) and its trapezoidal area is the score. Without ties
//!   this is the benchmark's `AUC_Judd.m`. That code breaks ties with random jitter; here tied
//!   pixels cross a threshold together, so the score is deterministic (and can differ slightly
//!   from a jittered one on maps with many ties, such as 8-bit PNGs).
//! - **NSS**: the map standardised with its mean and its sample standard deviation (n − 1, as
//!   MATLAB's `std` in the benchmark's `NSS.m`), averaged over the fixated pixels.
//! - **CC**: Pearson's r between the saliency map and the fixation density map
//!   ([`super::fixations::density`]).

use serde::Serialize;

use crate::error::{Error, Result};

/// The three scores of one saliency map on one image.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Scores {
    pub auc_judd: f64,
    pub nss: f64,
    pub cc: f64,
}

/// AUC-Judd, NSS and CC of `saliency` given the binary fixation map and the fixation density map
/// of the same size.
pub fn score(saliency: &[f32], fixated: &[bool], density: &[f64]) -> Result<Scores> {
    Ok(Scores {
        auc_judd: auc_judd(saliency, fixated)?,
        nss: nss(saliency, fixated)?,
        cc: cc(saliency, density)?,
    })
}

fn check(saliency: &[f32], other: usize) -> Result<()> {
    if saliency.len() != other {
        return Err(Error::Invalid(format!(
            "the saliency map has {} pixels but the fixation map {other}",
            saliency.len()
        )));
    }
    if saliency.iter().any(|v| !v.is_finite()) {
        return Err(Error::Invalid("the saliency map holds non-finite values".into()));
    }
    Ok(())
}

/// Fixated and non-fixated pixel counts, both required to be positive.
fn counts(fixated: &[bool]) -> Result<(usize, usize)> {
    let n_fix = fixated.iter().filter(|&&f| f).count();
    match (n_fix, fixated.len() - n_fix) {
        (0, _) => Err(Error::Invalid("no fixation falls inside the image".into())),
        (_, 0) => Err(Error::Invalid("every pixel is fixated: nothing to tell apart".into())),
        counts => Ok(counts),
    }
}

/// AUC-Judd (see the module documentation).
pub fn auc_judd(saliency: &[f32], fixated: &[bool]) -> Result<f64> {
    check(saliency, fixated.len())?;
    let (n_fix, n_other) = counts(fixated)?;
    let mut order: Vec<(f32, bool)> =
        saliency.iter().copied().zip(fixated.iter().copied()).collect();
    order.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    let (mut tp, mut fp) = (0usize, 0usize);
    let (mut area, mut last) = (0.0, (0.0, 0.0));
    let mut rest = &order[..];
    while let Some(&(value, _)) = rest.first() {
        let group = rest.iter().take_while(|(v, _)| *v == value).count();
        let hits = rest[..group].iter().filter(|(_, f)| *f).count();
        tp += hits;
        fp += group - hits;
        rest = &rest[group..];
        if hits > 0 {
            let point = (fp as f64 / n_other as f64, tp as f64 / n_fix as f64);
            area += (point.0 - last.0) * (point.1 + last.1) / 2.0;
            last = point;
        }
    }
    Ok(area + (1.0 - last.0) * (1.0 + last.1) / 2.0)
}

/// NSS (see the module documentation).
pub fn nss(saliency: &[f32], fixated: &[bool]) -> Result<f64> {
    check(saliency, fixated.len())?;
    let (n_fix, _) = counts(fixated)?;
    let values: Vec<f64> = saliency.iter().map(|&v| v as f64).collect();
    let (mean, sd) = mean_sd(&values);
    if sd == 0.0 {
        return Err(Error::Invalid("NSS is undefined for a constant saliency map".into()));
    }
    Ok(values.iter().zip(fixated).filter(|(_, f)| **f).map(|(v, _)| (v - mean) / sd).sum::<f64>()
        / n_fix as f64)
}

/// CC (see the module documentation).
pub fn cc(saliency: &[f32], density: &[f64]) -> Result<f64> {
    check(saliency, density.len())?;
    let values: Vec<f64> = saliency.iter().map(|&v| v as f64).collect();
    let (ms, md) = (mean(&values), mean(density));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in values.iter().zip(density) {
        let (dx, dy) = (x - ms, y - md);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx == 0.0 || syy == 0.0 {
        return Err(Error::Invalid(
            "CC is undefined when the saliency map or the fixation density is constant".into(),
        ));
    }
    Ok(sxy / (sxx * syy).sqrt())
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Mean and sample standard deviation (n − 1).
fn mean_sd(values: &[f64]) -> (f64, f64) {
    let m = mean(values);
    let ss: f64 = values.iter().map(|v| (v - m) * (v - m)).sum();
    (m, (ss / (values.len() as f64 - 1.0)).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::saliency::baseline;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn auc_judd_by_hand() {
        // Fixated 0.9 and 0.7 among 0.8, 0.6, 0.5, 0.4: points (0, ½) at 0.9 and (¼, 1) at 0.7;
        // area 0 + ¼·(½ + 1)/2 + ¾·1 = 0.9375.
        let s = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
        assert!(close(auc_judd(&s, &[true, false, true, false, false, false]).unwrap(), 0.9375));
        // Ties: values [1, 1, .5, .5, 0], fixated the first of each pair: (⅓, ½) at 1, (⅔, 1) at
        // .5; area ⅓·¼ + ⅓·¾ + ⅓ = ⅔ (a fixated and a non-fixated pixel tied count alike).
        let s = [1.0, 1.0, 0.5, 0.5, 0.0];
        assert!(close(auc_judd(&s, &[true, false, true, false, false]).unwrap(), 2.0 / 3.0));
        // Fixations on the two lowest of five: (1, ½) then (1, 1): area ¼.
        assert!(close(
            auc_judd(&[5.0, 4.0, 3.0, 2.0, 1.0], &[false, false, false, true, true]).unwrap(),
            0.25
        ));
        // Fixations on the highest values: 1.
        assert!(close(
            auc_judd(&[5.0, 4.0, 3.0, 2.0, 1.0], &[true, true, false, false, false]).unwrap(),
            1.0
        ));
        // A constant map: one threshold, (1, 1): ½.
        assert!(close(auc_judd(&[0.3; 4], &[true, false, false, false]).unwrap(), 0.5));
    }

    #[test]
    fn nss_by_hand() {
        // mean 2.5, sample sd √(5/3) = 1.2909944…, fixated value 4: 1.5 / 1.2909944 = 1.1618950.
        assert!(close(
            nss(&[1.0, 2.0, 3.0, 4.0], &[false, false, false, true]).unwrap(),
            1.5 / (5.0f64 / 3.0).sqrt()
        ));
        // Fixated 1 and 4: (−1.5 + 1.5) / 2 / sd = 0.
        assert!(close(nss(&[1.0, 2.0, 3.0, 4.0], &[true, false, false, true]).unwrap(), 0.0));
    }

    #[test]
    fn cc_by_hand() {
        let s = [1.0, 2.0, 3.0, 4.0];
        assert!(close(cc(&s, &[2.0, 4.0, 6.0, 8.0]).unwrap(), 1.0));
        assert!(close(cc(&s, &[4.0, 3.0, 2.0, 1.0]).unwrap(), -1.0));
        // Centred [−1.5, −.5, .5, 1.5] and [−1.5, .5, −.5, 1.5]: Σxy = 4, Σx² = Σy² = 5: 0.8.
        assert!(close(cc(&s, &[1.0, 3.0, 2.0, 4.0]).unwrap(), 0.8));
    }

    #[test]
    fn undefined_cases_are_errors_not_nan() {
        let s = [0.1f32, 0.2, 0.3];
        assert!(auc_judd(&s, &[false; 3]).unwrap_err().to_string().contains("no fixation"));
        assert!(auc_judd(&s, &[true; 3]).unwrap_err().to_string().contains("every pixel"));
        assert!(
            nss(&[0.5; 3], &[true, false, false]).unwrap_err().to_string().contains("constant")
        );
        assert!(cc(&s, &[1.0; 3]).unwrap_err().to_string().contains("constant"));
        assert!(cc(&s, &[1.0; 4]).unwrap_err().to_string().contains("3 pixels"));
        assert!(
            nss(&[f32::NAN, 0.0, 1.0], &[true, false, false])
                .unwrap_err()
                .to_string()
                .contains("non-finite")
        );
    }

    #[test]
    fn chance_scores_near_their_expected_values() {
        let (w, h) = (300, 200);
        let noise = baseline::chance(w, h, 1);
        let fixated: Vec<bool> =
            baseline::chance(w, h, 2).values.iter().map(|&v| v < 0.01).collect();
        let density = super::super::fixations::density(&fixated, w, h, 5.0);
        let s = score(&noise.values, &fixated, &density).unwrap();
        assert!(
            (s.auc_judd - 0.5).abs() < 0.02 && s.nss.abs() < 0.05 && s.cc.abs() < 0.02,
            "{s:?}"
        );
    }
}
