//! The statistics of Aims 1 and 2, in f64, each matching what the authors' analysis code gets from
//! NumPy/SciPy: the paired t-test of Full vs Retained, the standard errors of its error bars
//! (Loftus–Masson, as the paper says, and the authors' own), Pearson's test, the two-sample
//! Kolmogorov–Smirnov test ([`ks_2samp`]), the per-image mean absolute deviation and the entropy
//! of a softmax.
//!
//! Inputs that make a statistic undefined (too few values, a constant sample, NaN) are errors,
//! not NaN results as SciPy gives (with at most a warning); only [`softmax_entropy`] returns NaN.

mod kolmogorov;
mod ks;

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::error::{Error, Result};

pub use kolmogorov::kstwo_sf;
pub use ks::{KsMethod, KsTest, ks_2samp};

/// A paired (related-samples) t-test of `a` against `b`, as `scipy.stats.ttest_rel(a, b)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedTTest {
    /// mean(a − b) / (sd(a − b) / √n), with the sample sd (ddof 1).
    pub t: f64,
    /// Degrees of freedom, n − 1.
    pub df: f64,
    /// mean(a − b).
    pub mean_difference: f64,
    /// H1: mean(a − b) ≠ 0 (the paper's test).
    pub p_two_sided: f64,
    /// H1: mean(a − b) > 0 (the authors' code: Retained greater than Full).
    pub p_greater: f64,
    /// H1: mean(a − b) < 0.
    pub p_less: f64,
}

/// Paired t-test of `a` against `b` (same length, at least 2 pairs, all values finite).
///
/// Errors when every difference a − b is the same value, zero included: the t statistic is then
/// undefined (SciPy returns NaN for all-zero differences and ±inf for a constant non-zero one).
pub fn paired_t_test(a: &[f64], b: &[f64]) -> Result<PairedTTest> {
    check_pairs("paired t-test", a, b)?;
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    if d.iter().all(|&v| v == d[0]) {
        return Err(Error::Invalid(format!(
            "paired t-test: every difference a − b equals {}, so the t statistic is undefined",
            d[0]
        )));
    }
    let n = d.len() as f64;
    let mean = mean(&d);
    let var = d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let t = mean / (var / n).sqrt();
    let dist = student_t(n - 1.0)?;
    Ok(PairedTTest {
        t,
        df: n - 1.0,
        mean_difference: mean,
        p_two_sided: 2.0 * dist.sf(t.abs()),
        p_greater: dist.sf(t),
        p_less: dist.cdf(t),
    })
}

/// Pearson's r and its two-sided p-value, as `scipy.stats.pearsonr(a, b)`: under H0 r follows a
/// Beta(n/2 − 1, n/2 − 1) on [−1, 1], i.e. t = r·√((n − 2)/(1 − r²)) has n − 2 degrees of freedom.
/// With n = 2, r is ±1 and p is 1 (SciPy's convention). Errors on a constant input.
pub fn pearson_test(a: &[f64], b: &[f64]) -> Result<(f64, f64)> {
    check_pairs("Pearson correlation", a, b)?;
    for (name, x) in [("first", a), ("second", b)] {
        if x.iter().all(|&v| v == x[0]) {
            return Err(Error::Invalid(format!(
                "Pearson correlation: the {name} input is constant, so r is undefined"
            )));
        }
    }
    let r = crate::scores::pearson(a, b).clamp(-1.0, 1.0);
    let n = a.len() as f64;
    if a.len() == 2 {
        return Ok((r.round(), 1.0));
    }
    // 1 − r² = (1 − r)(1 + r) keeps precision near |r| = 1.
    let t = r.abs() * ((n - 2.0) / ((1.0 - r.abs()) * (1.0 + r.abs()))).sqrt();
    Ok((r, 2.0 * student_t(n - 2.0)?.sf(t)))
}

/// Loftus & Masson's (1994) within-subject standard error for J conditions measured on the same n
/// subjects (here: the 40 Full/Retained folds): √(MS_subject×condition / n), where MS is the
/// subject × condition interaction mean square of the two-way ANOVA without replication,
/// Σ(x_cs − x̄_c − x̄_s + x̄)² / ((n − 1)(J − 1)). One value serves every condition's error bar.
/// For J = 2 it equals sd(a − b) / √(2n). This is what the paper says; the authors' own figure
/// used [`uncentered_paired_se`].
pub fn loftus_masson_se(conditions: &[&[f64]]) -> Result<f64> {
    let j = conditions.len();
    if j < 2 {
        return Err(Error::Invalid(format!(
            "Loftus–Masson standard error: needs at least 2 conditions, got {j}"
        )));
    }
    let n = conditions[0].len();
    if n < 2 {
        return Err(Error::Invalid(format!(
            "Loftus–Masson standard error: needs at least 2 subjects, got {n}"
        )));
    }
    if let Some((c, x)) = conditions.iter().enumerate().find(|(_, x)| x.len() != n) {
        return Err(Error::Invalid(format!(
            "Loftus–Masson standard error: condition {c} has {} values, condition 0 has {n}",
            x.len()
        )));
    }
    check_finite("Loftus–Masson standard error", conditions.iter().flat_map(|x| x.iter()))?;
    let condition_means: Vec<f64> = conditions.iter().map(|x| mean(x)).collect();
    let subject_means: Vec<f64> =
        (0..n).map(|s| conditions.iter().map(|x| x[s]).sum::<f64>() / j as f64).collect();
    let grand = mean(&condition_means);
    let ss: f64 = conditions
        .iter()
        .zip(&condition_means)
        .flat_map(|(x, mc)| {
            x.iter().zip(&subject_means).map(move |(v, ms)| (v - mc - ms + grand).powi(2))
        })
        .sum();
    let ms = ss / ((n - 1) * (j - 1)) as f64;
    Ok((ms / n as f64).sqrt())
}

/// The error bar of the authors' Full vs Retained figure (their poster's numbers fit it, not
/// Loftus–Masson): √(Σ(a − b)² / (n(n − 1))) over the n paired folds, the same for both bars.
/// The differences are not centred, so it is at least |mean(a − b)| / √(n − 1); for comparison,
/// the Loftus–Masson value for two conditions is √(Σ(d − d̄)² / (2n(n − 1))).
pub fn uncentered_paired_se(a: &[f64], b: &[f64]) -> Result<f64> {
    check_pairs("uncentered paired standard error", a, b)?;
    let n = a.len() as f64;
    let sum_sq: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
    Ok((sum_sq / (n * (n - 1.0))).sqrt())
}

/// The mean absolute deviation around the mean, mean(|x − mean(x)|): the authors' per-image
/// spread of the 512 AIS values (`np.mean(np.abs(x - np.mean(x)))`). Errors on an empty or
/// non-finite input.
pub fn mean_absolute_deviation(values: &[f64]) -> Result<f64> {
    check_sample("mean absolute deviation", values)?;
    let m = mean(values);
    Ok(values.iter().map(|v| (v - m).abs()).sum::<f64>() / values.len() as f64)
}

/// The median of the finite values (NaN when there are none).
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 { v[m] } else { (v[m - 1] + v[m]) / 2.0 }
}

/// The mean and the population standard deviation (ddof 0, `np.std`, as the authors report the
/// fold means ± sd). Errors on an empty or non-finite input.
pub fn mean_and_sd(values: &[f64]) -> Result<(f64, f64)> {
    check_sample("mean and standard deviation", values)?;
    let m = mean(values);
    let var = values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / values.len() as f64;
    Ok((m, var.sqrt()))
}

/// The entropy (natural log) of softmax(logits): `scipy.stats.entropy(scipy.special.softmax(z))`,
/// the authors' per-image uncertainty behind maxEntropy. Computed in f64 from the log-softmax
/// (the authors' float32 arrays give the same to about 1e-6). A −∞ logit has probability 0 and
/// adds nothing; an empty input, NaN or +∞ gives NaN.
pub fn softmax_entropy(logits: &[f32]) -> f64 {
    if logits.is_empty() {
        return f64::NAN;
    }
    let max = logits.iter().fold(f64::NEG_INFINITY, |m, &z| m.max(z as f64));
    let sum: f64 = logits.iter().map(|&z| (z as f64 - max).exp()).sum();
    let log_sum = max + sum.ln();
    // 0 − Σ rather than −Σ: a one-hot softmax gives 0, not −0.
    0.0 - logits
        .iter()
        .map(|&z| {
            let log_p = z as f64 - log_sum;
            let p = log_p.exp();
            if p == 0.0 { 0.0 } else { p * log_p }
        })
        .sum::<f64>()
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

fn student_t(df: f64) -> Result<StudentsT> {
    StudentsT::new(0.0, 1.0, df)
        .map_err(|e| Error::Invalid(format!("Student t with {df} degrees of freedom: {e}")))
}

fn check_finite<'a>(what: &str, values: impl IntoIterator<Item = &'a f64>) -> Result<()> {
    match values.into_iter().find(|v| !v.is_finite()) {
        Some(v) => Err(Error::Invalid(format!("{what}: the input holds a non-finite value ({v})"))),
        None => Ok(()),
    }
}

fn check_sample(what: &str, values: &[f64]) -> Result<()> {
    if values.is_empty() {
        return Err(Error::Invalid(format!("{what}: no values")));
    }
    check_finite(what, values)
}

fn check_pairs(what: &str, a: &[f64], b: &[f64]) -> Result<()> {
    if a.len() != b.len() {
        return Err(Error::Invalid(format!(
            "{what}: the samples differ in length ({} and {})",
            a.len(),
            b.len()
        )));
    }
    if a.len() < 2 {
        return Err(Error::Invalid(format!("{what}: needs at least 2 pairs, got {}", a.len())));
    }
    check_finite(what, a.iter().chain(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-300)
    }

    #[test]
    fn the_median_skips_nan_and_averages_the_middle_pair() {
        assert_eq!(median(&[3.0, f64::NAN, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[3.0, f64::NAN, 1.0, 2.0, 10.0]), 2.5);
        assert!(median(&[f64::NAN]).is_nan());
    }

    #[test]
    fn paired_t_test_by_hand() {
        // d = (1, 2, 3, 6): mean 3, sample variance 14/3, t = 3 / sqrt(14/12).
        let r = paired_t_test(&[2.0, 4.0, 6.0, 10.0], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert!(close(r.t, 3.0 / (14.0f64 / 12.0).sqrt(), 1e-14));
        assert_eq!((r.df, r.mean_difference), (3.0, 3.0));
        assert!(close(r.p_two_sided, 2.0 * r.p_greater, 1e-14));
        assert!(close(r.p_greater + r.p_less, 1.0, 1e-14));
        // With 1 degree of freedom t is Cauchy: P(T > t) = 1/2 − atan(t)/π.
        let r = paired_t_test(&[3.0, 1.0], &[0.0, 0.0]).unwrap();
        assert!(close(r.t, 2.0, 1e-14));
        assert!(close(r.p_greater, 0.5 - 2.0f64.atan() / std::f64::consts::PI, 1e-12));
    }

    #[test]
    fn paired_t_test_rejects_what_has_no_answer() {
        assert!(paired_t_test(&[1.0, 2.0], &[1.0]).is_err());
        assert!(paired_t_test(&[1.0], &[2.0]).is_err());
        assert!(paired_t_test(&[0.5, 0.7, 0.9], &[0.5, 0.7, 0.9]).is_err(), "identical pairs");
        assert!(paired_t_test(&[1.5, 2.5], &[1.0, 2.0]).is_err(), "constant difference");
        assert!(paired_t_test(&[1.0, f64::NAN], &[0.0, 0.0]).is_err());
    }

    #[test]
    fn pearson_by_hand() {
        // r = 0.8 for these five points; t = 0.8·√(3/0.36) = 4/√3.
        let (r, p) = pearson_test(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 1.0, 4.0, 3.0, 5.0]).unwrap();
        assert!(close(r, 0.8, 1e-14));
        let t = 4.0 / 3.0f64.sqrt();
        assert!(close(p, 2.0 * StudentsT::new(0.0, 1.0, 3.0).unwrap().sf(t), 1e-13));
        // A perfect line, up to rounding; SciPy too gets r = −1 + 2e-16 and p = 1.3e-8 here.
        let (r, p) = pearson_test(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap();
        assert!((r + 1.0).abs() < 1e-15 && p < 1e-7, "r = {r}, p = {p}");
        assert_eq!(pearson_test(&[0.0, 1.0], &[5.0, 7.0]).unwrap(), (1.0, 1.0));
        assert!(pearson_test(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).is_err());
    }

    #[test]
    fn loftus_masson_for_two_conditions_is_the_difference_sd_over_root_2n() {
        let a = [0.61, 0.55, 0.70, 0.48, 0.66];
        let b = [0.52, 0.50, 0.61, 0.47, 0.55];
        let d: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x - y).collect();
        let m = mean(&d);
        let sd = (d.iter().map(|v| (v - m).powi(2)).sum::<f64>() / 4.0).sqrt();
        assert!(close(loftus_masson_se(&[&a, &b]).unwrap(), sd / 10.0f64.sqrt(), 1e-12));
        // Subject offsets alone leave no interaction.
        let c = [1.0, 5.0, 3.0];
        let shifted = [2.0, 6.0, 4.0];
        assert_eq!(loftus_masson_se(&[&c, &shifted]).unwrap(), 0.0);
        assert!(loftus_masson_se(&[&c]).is_err());
        // The uncentered version: d = (0.09, 0.05, 0.09, 0.01, 0.11), Σd² = 0.0309, n(n − 1) = 20.
        assert!(close(uncentered_paired_se(&a, &b).unwrap(), (0.0309f64 / 20.0).sqrt(), 1e-12));
        assert!(loftus_masson_se(&[&c, &a]).is_err());
    }

    #[test]
    fn descriptive_statistics_by_hand() {
        let x = [1.0, 2.0, 3.0, 6.0];
        assert_eq!(mean_absolute_deviation(&x).unwrap(), 1.5);
        let (m, sd) = mean_and_sd(&x).unwrap();
        assert_eq!(m, 3.0);
        assert!(close(sd, 3.5f64.sqrt(), 1e-15));
        assert!(mean_absolute_deviation(&[]).is_err());
    }

    #[test]
    fn softmax_entropy_by_hand() {
        assert!(close(softmax_entropy(&[0.0; 4]), 4.0f64.ln(), 1e-15));
        assert!(close(softmax_entropy(&[7.0; 1000]), 1000.0f64.ln(), 1e-12));
        // p = (1/(1+e), e/(1+e)).
        let p = 1.0 / (1.0 + std::f64::consts::E);
        let h = -(p * p.ln() + (1.0 - p) * (1.0 - p).ln());
        assert!(close(softmax_entropy(&[0.0, 1.0]), h, 1e-14));
        let peaked = softmax_entropy(&[100.0, -100.0]);
        assert!((0.0..1e-80).contains(&peaked), "{peaked}");
        assert_eq!(softmax_entropy(&[0.0, f32::NEG_INFINITY]), 0.0);
        assert!(softmax_entropy(&[]).is_nan());
        assert!(softmax_entropy(&[0.0, f32::INFINITY]).is_nan());
    }
}
