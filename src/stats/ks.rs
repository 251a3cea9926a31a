//! The two-sample Kolmogorov–Smirnov test, two-sided, as `scipy.stats.ks_2samp(a, b)` with its
//! default method='auto' (SciPy 1.17, `_stats_py.py`). Hand-written because no Rust crate offers
//! the exact two-sample null distribution.
//!
//! SciPy's rule: when both samples have at most 10 000 values, the exact p-value (Hodges 1958:
//! lattice paths; equal sizes by the closed-form alternating sum `_compute_prob_outside_square`,
//! unequal sizes by Viehmann's (2021) stable recursion `_compute_outer_prob_inside_method`); if
//! that gives no probability in [0, 1], or a sample is larger, the asymptotic p-value
//! `kstwo.sf(D, round(n1·n2/(n1 + n2)))`.

use crate::error::{Error, Result};

use super::kolmogorov::kstwo_sf;

/// 'auto' computes the exact p-value when neither sample is larger than this (SciPy's MAX_AUTO_N).
const MAX_EXACT_N: usize = 10_000;

/// How a [`KsTest`] p-value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KsMethod {
    /// The exact distribution of the two-sample statistic.
    Exact,
    /// The one-sample distribution of D at the effective size n1·n2/(n1 + n2).
    Asymptotic,
}

/// A two-sided two-sample Kolmogorov–Smirnov test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KsTest {
    /// D = max |F_a − F_b| over the pooled values (on the exact path, rounded to a multiple of
    /// 1/lcm(n1, n2) as SciPy does).
    pub statistic: f64,
    /// P(D ≥ observed) under H0: both samples come from one continuous distribution.
    pub p_value: f64,
    /// Which computation gave `p_value`.
    pub method: KsMethod,
}

/// Two-sided two-sample KS test of `a` against `b`; ties are allowed, NaN and empty samples are
/// errors.
pub fn ks_2samp(a: &[f64], b: &[f64]) -> Result<KsTest> {
    for (name, x) in [("first", a), ("second", b)] {
        if x.is_empty() {
            return Err(Error::Invalid(format!(
                "Kolmogorov–Smirnov test: the {name} sample is empty"
            )));
        }
        if x.iter().any(|v| v.is_nan()) {
            return Err(Error::Invalid(format!(
                "Kolmogorov–Smirnov test: the {name} sample holds NaN"
            )));
        }
    }
    let mut d = statistic(a, b);
    let (n1, n2) = (a.len() as u64, b.len() as u64);
    if a.len().max(b.len()) <= MAX_EXACT_N {
        let (rounded, p) = exact_p(n1, n2, d);
        if let Some(p) = p {
            return Ok(KsTest { statistic: rounded, p_value: p, method: KsMethod::Exact });
        }
        // SciPy keeps the rounded D when the exact attempt fails.
        d = rounded;
    }
    let (m, n) = (n1.max(n2) as f64, n1.min(n2) as f64);
    let en = (m * n / (m + n)).round_ties_even() as u64;
    Ok(KsTest { statistic: d, p_value: kstwo_sf(en, d), method: KsMethod::Asymptotic })
}

/// max(max(F_a − F_b), max(F_b − F_a)) with both empirical CDFs right-continuous.
fn statistic(a: &[f64], b: &[f64]) -> f64 {
    let sorted = |x: &[f64]| {
        let mut x = x.to_vec();
        x.sort_by(f64::total_cmp);
        x
    };
    let (a, b) = (sorted(a), sorted(b));
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0, 0);
    let (mut max_diff, mut min_diff) = (0.0f64, 0.0f64);
    while i < a.len() || j < b.len() {
        let value = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        while i < a.len() && a[i] <= value {
            i += 1;
        }
        while j < b.len() && b[j] <= value {
            j += 1;
        }
        let diff = i as f64 / n1 - j as f64 / n2;
        max_diff = max_diff.max(diff);
        min_diff = min_diff.min(diff);
    }
    max_diff.max(-min_diff)
}

/// SciPy's `_attempt_exact_2kssamp` (two-sided): D rounded to h/lcm and the exact p-value, or
/// None when the computation leaves [0, 1].
fn exact_p(n1: u64, n2: u64, d: f64) -> (f64, Option<f64>) {
    let g = gcd(n1, n2);
    let lcm = (n1 / g) * n2;
    let h = (d * lcm as f64).round_ties_even() as u64;
    let d = h as f64 / lcm as f64;
    if h == 0 {
        return (d, Some(1.0));
    }
    let p = if n1 == n2 { prob_outside_square(n1, h) } else { prob_outside_band(n1, n2, g, h) };
    (d, (0.0..=1.0).contains(&p).then_some(p))
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// P(D_{n,n} ≥ h/n) = 2 Σ_k (−1)^(k+1) C(2n, n − kh) / C(2n, n), evaluated Horner-like with each
/// binomial ratio as a product of h factors (SciPy's `_compute_prob_outside_square`).
fn prob_outside_square(n: u64, h: u64) -> f64 {
    let (n, h) = (n as i64, h as i64);
    let mut p = 0.0;
    for k in (0..=n / h).rev() {
        let mut p1 = 1.0;
        for j in 0..h {
            p1 = (n - k * h - j) as f64 * p1 / (n + k * h + j + 1) as f64;
        }
        p = p1 * (1.0 - p);
    }
    2.0 * p
}

/// The share of lattice paths from (0, 0) to (m, n) that leave the band |x/m − y/n| < h/lcm(m, n),
/// i.e. P(D ≥ h/lcm) for unequal sizes, by Viehmann's recursion for 1 − p over one sliding
/// column (SciPy's `_compute_outer_prob_inside_method`).
fn prob_outside_band(m: u64, n: u64, g: u64, h: u64) -> f64 {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (m, n, g, h) = (m as i64, n as i64, g as i64, h as i64);
    let (mg, ng) = (m / g, n / g);
    let mut minj = 0i64;
    let mut maxj = ((h + mg - 1) / mg).min(n + 1);
    let mut curlen = maxj - minj;
    let len = (2 * maxj + 2).min(n + 1) as usize;
    let mut column = vec![1.0f64; len];
    column[minj as usize..maxj as usize].fill(0.0);
    for i in 1..=m {
        let (lastminj, lastlen) = (minj, curlen);
        minj = ((ng * i - h).div_euclid(mg) + 1).clamp(0, n);
        maxj = ((ng * i + h + mg - 1) / mg).min(n + 1);
        if maxj <= minj {
            return 1.0;
        }
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        for jj in 0..maxj - minj {
            let j = jj + minj;
            val = (column[(jj + minj - lastminj) as usize] * i as f64 + val * j as f64)
                / (i + j) as f64;
            column[jj as usize] = val;
        }
        curlen = maxj - minj;
        if lastlen > curlen {
            let from = (maxj - minj) as usize;
            let to = (from + (lastlen - curlen) as usize).min(len);
            column[from..to].fill(1.0);
        }
    }
    column[(maxj - minj - 1) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistic_by_hand_with_ties() {
        // F_a − F_b after each pooled value: 1 → 1/2 − 0, 2 → 1 − 1/3, 3 → 1 − 1.
        assert!((statistic(&[1.0, 2.0], &[2.0, 3.0, 3.0]) - 2.0 / 3.0).abs() < 1e-15);
        assert_eq!(statistic(&[1.0, 2.0, 3.0], &[3.0, 1.0, 2.0]), 0.0);
        assert_eq!(statistic(&[0.0, 1.0], &[5.0, 6.0, 7.0]), 1.0);
        assert_eq!(statistic(&[5.0, 6.0, 7.0], &[0.0, 1.0]), 1.0);
    }

    #[test]
    fn exact_p_by_counting_paths() {
        // n1 = n2 = 2, D = 1: of the C(4, 2) = 6 orderings, 2 put one sample entirely first.
        assert!((prob_outside_square(2, 2) - 2.0 / 6.0).abs() < 1e-15);
        // n1 = 1, n2 = 2, D = 1 (h = lcm = 2): the single value first or last, 2 of 3 orderings.
        assert!((prob_outside_band(1, 2, 1, 2) - 2.0 / 3.0).abs() < 1e-15);
        let r = ks_2samp(&[0.0, 1.0], &[5.0, 6.0, 7.0]).unwrap();
        // 2 of the C(5, 2) = 10 orderings separate the samples completely.
        assert_eq!(r.method, KsMethod::Exact);
        assert!((r.p_value - 0.2).abs() < 1e-15);
    }

    #[test]
    fn identical_samples_have_p_one() {
        let x = [0.3, 0.1, 0.2];
        assert_eq!(
            ks_2samp(&x, &x).unwrap(),
            KsTest { statistic: 0.0, p_value: 1.0, method: KsMethod::Exact }
        );
    }

    #[test]
    fn bad_samples_are_errors() {
        assert!(ks_2samp(&[], &[1.0]).is_err());
        assert!(ks_2samp(&[1.0, f64::NAN], &[1.0]).is_err());
    }
}
