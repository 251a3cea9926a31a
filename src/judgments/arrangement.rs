//! Arrangements in a circular arena: dissimilarity = Euclidean distance, in units of the arena's
//! diameter. One arrangement of every image is the single-arrangement method; several trials on
//! subsets are combined as Kriegeskorte & Mur (2012, Frontiers in Psychology 3:245, "Inverse MDS:
//! inferring dissimilarity structure from multiple item arrangements") do:
//!
//! 1. Each finished trial t gives on-screen distances `d_t` for the pairs of its images
//!    (missing for the other pairs).
//! 2. Evidence weights `w_t = d_t²`, fixed: a pair placed far apart carries more evidence
//!    relative to the placement error than a pair placed close together.
//! 3. First estimate: the plain mean over the trials that hold each pair, scaled to unit root
//!    sum of squares (RSS).
//! 4. Iterate: scale each trial's distances so that their RSS (equivalently their RMS) equals the
//!    current estimate's over the same pairs; the new estimate is the evidence-weighted mean
//!    `Σ_t w_t · d̂_t / Σ_t w_t` of the scaled distances `d̂_t`, scaled to unit RSS.
//! 5. Stop when the squared change of the unit-RSS estimate, summed over pairs, is below
//!    [`TOLERANCE`] (1e-8, as the RSA toolbox), at most [`MAX_ITERATIONS`] times.
//! 6. The estimate is put back in arena units: multiplied so that its RMS equals the RMS of all
//!    the trials' on-screen distances. A single trial gives its distances unchanged.
//!
//! A pair that every trial placed at distance 0 has zero weight; its estimate is 0.

use super::{pair_index, pairs};
use crate::error::{Error, Result};

/// Convergence: squared change of the unit-RSS estimate, summed over pairs.
pub const TOLERANCE: f64 = 1e-8;
pub const MAX_ITERATIONS: usize = 1000;

/// The upper-triangle distances of points (row-major pairs, `pairs(len)` values).
pub fn distances(positions: &[[f64; 2]]) -> Vec<f64> {
    let n = positions.len();
    let mut out = Vec::with_capacity(pairs(n));
    for i in 0..n {
        for j in (i + 1)..n {
            let (dx, dy) = (positions[i][0] - positions[j][0], positions[i][1] - positions[j][1]);
            out.push(dx.hypot(dy));
        }
    }
    out
}

/// One finished trial in cohort indices: which images and where.
#[derive(Clone, Debug)]
pub struct Placed {
    pub images: Vec<usize>,
    pub positions: Vec<[f64; 2]>,
}

/// The combined estimate over the cohort's pairs (NaN for pairs no trial holds).
#[derive(Clone, Debug)]
pub struct Combined {
    pub upper: Vec<f64>,
    pub iterations: usize,
    pub converged: bool,
    /// Σ_t w_t per pair: how much evidence each pair has (NaN where none).
    pub evidence: Vec<f64>,
}

/// The trial's distances spread over the cohort's `n` images (NaN where the trial has no pair).
fn spread(trial: &Placed, n: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; pairs(n)];
    let d = distances(&trial.positions);
    let k = trial.images.len();
    for a in 0..k {
        for b in (a + 1)..k {
            out[pair_index(n, trial.images[a], trial.images[b])] = d[pair_index(k, a, b)];
        }
    }
    out
}

fn rss(v: &[f64]) -> f64 {
    v.iter().filter(|x| !x.is_nan()).map(|x| x * x).sum::<f64>().sqrt()
}

fn unit(v: &mut [f64]) {
    let s = rss(v);
    if s > 0.0 {
        for x in v.iter_mut() {
            *x /= s;
        }
    }
}

/// Combines finished trials over a cohort of `n` images (see the module's steps).
pub fn combine(trials: &[Placed], n: usize) -> Result<Combined> {
    if trials.is_empty() {
        return Err(Error::Invalid("no finished arrangement to combine".into()));
    }
    let m = pairs(n);
    let d: Vec<Vec<f64>> = trials.iter().map(|t| spread(t, n)).collect();
    for (t, dt) in d.iter().enumerate() {
        if rss(dt) == 0.0 {
            return Err(Error::Invalid(format!(
                "arrangement {}: every image is at the same place, so it says nothing about dissimilarities",
                t + 1
            )));
        }
    }
    let weights: Vec<Vec<f64>> = d.iter().map(|dt| dt.iter().map(|x| x * x).collect()).collect();
    let mut evidence = vec![f64::NAN; m];
    for wt in &weights {
        for (e, &w) in evidence.iter_mut().zip(wt) {
            if !w.is_nan() {
                *e = if e.is_nan() { w } else { *e + w };
            }
        }
    }
    if trials.len() == 1 {
        return Ok(Combined { upper: d[0].clone(), iterations: 0, converged: true, evidence });
    }
    // Plain mean over the trials holding each pair, then unit RSS.
    let mean = |values: &[Vec<f64>], w: Option<&[Vec<f64>]>| -> Vec<f64> {
        (0..m)
            .map(|p| {
                let (mut sum, mut total, mut count, mut plain) = (0.0, 0.0, 0usize, 0.0);
                for (t, v) in values.iter().enumerate() {
                    let x = v[p];
                    if x.is_nan() {
                        continue;
                    }
                    let wt = w.map_or(1.0, |w| w[t][p]);
                    sum += wt * x;
                    total += wt;
                    plain += x;
                    count += 1;
                }
                if count == 0 {
                    f64::NAN
                } else if total > 0.0 {
                    sum / total
                } else {
                    // Every trial put this pair at distance 0: no evidence, and 0 is the answer.
                    plain / count as f64
                }
            })
            .collect()
    };
    let mut estimate = mean(&d, None);
    unit(&mut estimate);
    let norms: Vec<f64> = d.iter().map(|dt| rss(dt)).collect();
    let (mut iterations, mut converged) = (0, false);
    while iterations < MAX_ITERATIONS {
        iterations += 1;
        let aligned: Vec<Vec<f64>> = d
            .iter()
            .zip(&norms)
            .map(|(dt, &norm)| {
                let target = dt
                    .iter()
                    .zip(&estimate)
                    .filter(|(x, _)| !x.is_nan())
                    .map(|(_, e)| e * e)
                    .sum::<f64>()
                    .sqrt();
                dt.iter().map(|x| x / norm * target).collect()
            })
            .collect();
        let mut next = mean(&aligned, Some(&weights));
        unit(&mut next);
        let change: f64 = next
            .iter()
            .zip(&estimate)
            .filter(|(a, _)| !a.is_nan())
            .map(|(a, b)| (a - b) * (a - b))
            .sum();
        estimate = next;
        if change < TOLERANCE {
            converged = true;
            break;
        }
    }
    // Back to arena units: the RMS of every on-screen distance of every trial.
    let (sum_sq, count) = d
        .iter()
        .flatten()
        .filter(|x| !x.is_nan())
        .fold((0.0, 0usize), |(s, c), x| (s + x * x, c + 1));
    let target_rms = (sum_sq / count as f64).sqrt();
    let defined = estimate.iter().filter(|x| !x.is_nan()).count();
    let rms = rss(&estimate) / (defined as f64).sqrt();
    if rms > 0.0 {
        for x in estimate.iter_mut() {
            *x *= target_rms / rms;
        }
    }
    Ok(Combined { upper: estimate, iterations, converged, evidence })
}

/// The next subset to arrange, a simplified "lift the weakest" (Kriegeskorte & Mur choose the
/// subset that most raises the weakest evidence within a time budget): start from the pair with
/// the least evidence (no evidence counts as 0; ties: the lowest indices), then add, one at a
/// time, the image whose pairs with the subset have the least summed evidence, up to `size`.
pub fn next_subset(evidence: &[f64], n: usize, size: usize) -> Vec<usize> {
    let size = size.clamp(2.min(n), n);
    if n < 2 {
        return (0..n).collect();
    }
    let e = |i: usize, j: usize| {
        let v = evidence[pair_index(n, i, j)];
        if v.is_nan() { 0.0 } else { v }
    };
    let (mut best, mut low) = ((0, 1), f64::INFINITY);
    for i in 0..n {
        for j in (i + 1)..n {
            if e(i, j) < low {
                low = e(i, j);
                best = (i, j);
            }
        }
    }
    let mut chosen = vec![best.0, best.1];
    while chosen.len() < size {
        let next = (0..n)
            .filter(|k| !chosen.contains(k))
            .map(|k| (k, chosen.iter().map(|&c| e(k, c)).sum::<f64>()))
            .fold((usize::MAX, f64::INFINITY), |acc, (k, s)| if s < acc.1 { (k, s) } else { acc });
        chosen.push(next.0);
    }
    chosen.sort_unstable();
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placed(images: &[usize], positions: &[[f64; 2]]) -> Placed {
        Placed { images: images.to_vec(), positions: positions.to_vec() }
    }

    #[test]
    fn distances_are_euclidean_in_arena_units() {
        let d = distances(&[[0.0, 0.0], [0.3, 0.4], [-0.5, 0.0]]);
        assert_eq!(d.len(), 3);
        assert!((d[0] - 0.5).abs() < 1e-15);
        assert!((d[1] - 0.5).abs() < 1e-15);
        assert!((d[2] - (0.8f64.powi(2) + 0.4f64.powi(2)).sqrt()).abs() < 1e-15);
    }

    #[test]
    fn one_trial_gives_its_distances_unchanged() {
        let p = [[0.1, 0.2], [-0.3, 0.05], [0.2, -0.4], [0.0, 0.0]];
        let c = combine(&[placed(&[0, 1, 2, 3], &p)], 4).unwrap();
        assert_eq!(c.upper, distances(&p));
        assert_eq!(c.iterations, 0);
    }

    #[test]
    fn subsets_of_one_configuration_recover_it_up_to_scale() {
        // Points of a true configuration; each trial shows a subset at its own zoom (the
        // participant uses the whole arena for whatever subset is shown).
        let truth = [[0.0, 0.0], [0.4, 0.1], [-0.2, 0.3], [0.1, -0.35], [-0.3, -0.2], [0.25, 0.3]];
        let zoomed = |ids: &[usize], zoom: f64| {
            let pos: Vec<[f64; 2]> =
                ids.iter().map(|&i| [truth[i][0] * zoom, truth[i][1] * zoom]).collect();
            placed(ids, &pos)
        };
        let trials =
            [zoomed(&[0, 1, 2, 3, 4, 5], 1.0), zoomed(&[0, 1, 2], 2.0), zoomed(&[3, 4, 5], 1.5)];
        let c = combine(&trials, 6).unwrap();
        assert!(c.converged, "did not converge in {} iterations", c.iterations);
        let want = distances(&truth);
        let ratio = c.upper[0] / want[0];
        assert!(ratio.is_finite() && ratio > 0.0);
        // The stopping rule (squared change below 1e-8) leaves the ratios within 0.1 % here
        // (NumPy's run of the same steps gives the same numbers).
        for (got, w) in c.upper.iter().zip(&want) {
            assert!((got / ratio - w).abs() < 2e-3 * w, "{got} vs {w} (ratio {ratio})");
        }
        assert!(c.iterations > 1);
    }

    #[test]
    fn evidence_weights_favour_the_trial_that_spread_the_pair_out() {
        // Two trials of the same three images: in the first, images 0 and 1 are close
        // (little evidence), in the second far apart. The pair's estimate leans to the second.
        let a = placed(&[0, 1, 2], &[[0.0, 0.0], [0.05, 0.0], [0.0, 0.4]]);
        let b = placed(&[0, 1, 2], &[[0.0, 0.0], [0.4, 0.0], [0.0, 0.4]]);
        let c = combine(&[a, b], 3).unwrap();
        let ratio_01_02 = c.upper[0] / c.upper[1];
        // Unweighted the ratio would sit near the middle of 0.125 and 1.
        assert!(ratio_01_02 > 0.75, "ratio {ratio_01_02}");
        assert!(c.upper.iter().all(|x| x.is_finite()));
    }

    #[test]
    fn missing_pairs_stay_missing_and_bad_trials_are_refused() {
        let c = combine(
            &[
                placed(&[0, 1], &[[0.0, 0.0], [0.2, 0.0]]),
                placed(&[1, 2], &[[0.0, 0.0], [0.3, 0.0]]),
            ],
            4,
        )
        .unwrap();
        assert!(c.upper[pair_index(4, 0, 2)].is_nan());
        assert!(c.upper[pair_index(4, 0, 1)].is_finite());
        let err = combine(&[placed(&[0, 1], &[[0.1, 0.1], [0.1, 0.1]])], 2).unwrap_err();
        assert!(err.to_string().contains("same place"), "{err}");
        assert!(combine(&[], 3).is_err());
    }

    #[test]
    fn the_next_subset_starts_from_the_weakest_pair() {
        let trials = [placed(&[0, 1, 2, 3], &[[0.0, 0.0], [0.01, 0.0], [0.4, 0.0], [-0.4, 0.0]])];
        let c = combine(&trials, 5).unwrap();
        // Image 4 has no evidence at all: it is in the subset, with the closest pair 0–1.
        let s = next_subset(&c.evidence, 5, 3);
        assert_eq!(s.len(), 3);
        assert!(s.contains(&4), "{s:?}");
        assert_eq!(next_subset(&c.evidence, 5, 99).len(), 5);
    }
}
