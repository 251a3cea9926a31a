//! The one-sample two-sided Kolmogorov–Smirnov distribution, P(D_n > x), as `scipy.stats.kstwo.sf`:
//! the p-value `ks_2samp` uses for large samples. Same algorithm choice (Simard & L'Ecuyer 2011,
//! as in SciPy's `_ksstats.py`): Ruben–Gambino closed forms at the ends, Durbin's matrix
//! (Marsaglia–Tsang–Wang), Pomeranz's recursion, the Pelz–Good series, and twice the one-sided
//! Smirnov tail (Birnbaum–Tingey sum, computed here in log space instead of double-double).

const SCALE: f64 = 3.402_823_669_209_385e38; // 2^128
const SCALE_EXPONENT: i32 = 128;
/// cephes' MINLOG, ln(2^-1022): exp of anything below is 0 in f64.
const MIN_LOG: f64 = -708.396_418_532_264_1;
const PI2: f64 = std::f64::consts::PI * std::f64::consts::PI;

/// P(D_n > x) for the two-sided one-sample statistic D_n = sup |F_n − F| of n observations
/// (`scipy.stats.kstwo.sf(x, n)`). NaN for n = 0 or NaN x.
pub fn kstwo_sf(n: u64, x: f64) -> f64 {
    if n == 0 || x.is_nan() {
        return f64::NAN;
    }
    if x >= 1.0 {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    let nf = n as f64;
    let t = nf * x;
    if t <= 1.0 {
        if t <= 0.5 {
            return 1.0;
        }
        let cdf = if n <= 140 {
            (1..=n).map(|i| i as f64 * (1.0 / nf) * (2.0 * t - 1.0)).product::<f64>()
        } else {
            (log_factorial_over_power(nf) + nf * (2.0 * t - 1.0).ln()).exp()
        };
        return clip(1.0 - cdf);
    }
    if t >= nf - 1.0 {
        return clip(2.0 * (1.0 - x).powf(nf));
    }
    if x >= 0.5 {
        return clip(2.0 * smirnov_sf(n, x));
    }
    let nx2 = t * x;
    if n <= 140 {
        if nx2 <= 0.754693 {
            return clip(1.0 - durbin_cdf(n, x));
        }
        if nx2 <= 4.0 {
            return clip(1.0 - pomeranz_cdf(n, x));
        }
        return clip(2.0 * smirnov_sf(n, x));
    }
    if nx2 >= 370.0 {
        return 0.0;
    }
    if nx2 >= 2.2 {
        return clip(2.0 * smirnov_sf(n, x));
    }
    let cdf = if n <= 100_000 && nf * x.powf(1.5) <= 1.4 {
        durbin_cdf(n, x)
    } else {
        pelz_good_cdf(nf, x)
    };
    clip(1.0 - cdf)
}

fn clip(p: f64) -> f64 {
    p.clamp(0.0, 1.0)
}

/// ln(n! / n^n) by Stirling's series with n·ln(n) taken out.
fn log_factorial_over_power(n: f64) -> f64 {
    // B_2j / (2j(2j − 1)) for j = 8..1, highest power first.
    const STIRLING: [f64; 8] = [
        -0.029550653594771242,
        0.00641025641025641,
        -0.0019175269175269176,
        0.0008417508417508417,
        -0.0005952380952380953,
        0.0007936507936507937,
        -0.002777777777777778,
        0.08333333333333333,
    ];
    let rn = 1.0 / n;
    let poly = STIRLING.iter().fold(0.0, |acc, c| acc * (rn / n) + c);
    n.ln() / 2.0 - n + (2.0 * std::f64::consts::PI).ln() / 2.0 + rn * poly
}

/// P(D_n ≤ d) by Durbin's matrix method (Marsaglia, Tsang & Wang 2003): a power of an m×m matrix,
/// m = 2⌈nd⌉ − 1, rescaled by 2^128 to stay in range.
fn durbin_cdf(n: u64, d: f64) -> f64 {
    let nf = n as f64;
    let nd = nf * d;
    if d >= 1.0 {
        return 1.0;
    }
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;
    let mut v: Vec<f64> = (1..=m).map(|j| 1.0 - h.powi(j as i32)).collect();
    let mut w = vec![0.0; m];
    let mut fac = 1.0;
    for j in 1..=m {
        w[j - 1] = fac;
        fac /= j as f64;
        v[j - 1] *= fac;
    }
    let tt = (2.0 * h - 1.0).max(0.0).powi(m as i32) - 2.0 * h.powi(m as i32);
    v[m - 1] = (1.0 + tt) * fac;

    let mut hm = vec![0.0; m * m];
    for i in 1..m {
        for r in i - 1..m {
            hm[r * m + i] = w[r - (i - 1)];
        }
    }
    for r in 0..m {
        hm[r * m] = v[r];
        hm[(m - 1) * m + r] = v[m - 1 - r];
    }

    let mut power: Vec<f64> =
        (0..m * m).map(|i| if i % (m + 1) == 0 { 1.0 } else { 0.0 }).collect();
    let (mut nn, mut exponent, mut h_exponent) = (n, 0i32, 0i32);
    while nn > 0 {
        if nn % 2 == 1 {
            power = matmul(&power, &hm, m);
            exponent += h_exponent;
        }
        hm = matmul(&hm, &hm, m);
        h_exponent *= 2;
        if hm[(k - 1) * m + k - 1].abs() > SCALE {
            hm.iter_mut().for_each(|x| *x /= SCALE);
            h_exponent += SCALE_EXPONENT;
        }
        nn /= 2;
    }
    let mut p = power[(k - 1) * m + k - 1];
    for i in 1..=n {
        p = i as f64 * p / nf;
        if p.abs() < 1.0 / SCALE {
            p *= SCALE;
            exponent -= SCALE_EXPONENT;
        }
    }
    clip(ldexp(p, exponent))
}

fn matmul(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    let mut out = vec![0.0; m * m];
    for i in 0..m {
        for l in 0..m {
            let ail = a[i * m + l];
            if ail != 0.0 {
                for j in 0..m {
                    out[i * m + j] += ail * b[l * m + j];
                }
            }
        }
    }
    out
}

fn ldexp(x: f64, exponent: i32) -> f64 {
    // Two steps so that 2^exponent itself never over- or underflows.
    let half = exponent / 2;
    x * 2f64.powi(half) * 2f64.powi(exponent - half)
}

/// P(D_n ≤ x) by Pomeranz's (1974) recursion, for n ≤ 140: rows of Poisson-like convolutions.
fn pomeranz_cdf(n: u64, x: f64) -> f64 {
    let n = n as i64;
    let nf = n as f64;
    let t = nf * x;
    let ll = t.floor() as i64;
    let f = t - ll as f64;
    let g = f.min(1.0 - f);
    let ceilf = i64::from(f > 0.0);
    let roundf = i64::from(f > 0.5);
    let npwrs = (2 * (ll + 1)) as usize;
    let powers = |step: f64| {
        let mut p = vec![1.0; npwrs];
        for m in 1..npwrs {
            p[m] = p[m - 1] * step / m as f64;
        }
        p
    };
    let gpower = powers(g / nf);
    let twogpower = powers(2.0 * g / nf);
    let onem2gpower = powers((1.0 - 2.0 * g) / nf);

    let mut v0 = vec![0.0; npwrs];
    let mut v1 = vec![0.0; npwrs];
    v1[0] = 1.0;
    let (mut v0s, mut v1s) = (0i64, 0i64);
    let mut exponent = 0i32;
    let mut j1 = pomeranz_bounds(0, n, ll, ceilf, roundf).0;
    for i in 1..2 * n + 2 {
        let k1 = j1;
        std::mem::swap(&mut v0, &mut v1);
        std::mem::swap(&mut v0s, &mut v1s);
        v1.fill(0.0);
        let (next_j1, j2) = pomeranz_bounds(i, n, ll, ceilf, roundf);
        j1 = next_j1;
        let pwrs = if i == 1 || i == 2 * n + 1 {
            &gpower
        } else if i % 2 == 1 {
            &twogpower
        } else {
            &onem2gpower
        };
        let ln2 = j2 - k1 + 1;
        if ln2 > 0 {
            let start = (k1 - v0s) as usize;
            let row = &v0[start.min(npwrs)..(start + ln2 as usize).min(npwrs)];
            let conv = convolve(row, &pwrs[..(ln2 as usize).min(npwrs)]);
            let from = ((j1 - k1) as usize).min(conv.len());
            let to = (from + (j2 - j1 + 1) as usize).min(conv.len());
            v1[..to - from].copy_from_slice(&conv[from..to]);
            let max = v1.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
            if 0.0 < max && max < 1.0 / SCALE {
                v1.iter_mut().for_each(|x| *x *= SCALE);
                exponent -= SCALE_EXPONENT;
            }
            v1s = v0s + j1 - k1;
        }
    }
    let mut ans = v1[(n - v1s) as usize];
    for m in 1..=n {
        if ans.abs() > SCALE {
            ans /= SCALE;
            exponent += SCALE_EXPONENT;
        }
        ans *= m as f64;
    }
    clip(ldexp(ans, exponent))
}

/// The first and last non-zero entries of row i in Pomeranz's recursion.
fn pomeranz_bounds(i: i64, n: i64, ll: i64, ceilf: i64, roundf: i64) -> (i64, i64) {
    let (j1, j2) = if i == 0 {
        (-ll - ceilf - 1, ll + ceilf - 1)
    } else {
        let (half, odd) = ((i + 1) / 2, (i + 1) % 2);
        if odd == 0 {
            if half == n + 1 {
                (n - ll - ceilf - 1, n + ll + ceilf - 1)
            } else {
                (half - 1 - ll - roundf - 1, half + ll - 1 + ceilf - 1)
            }
        } else {
            (half - 1 - ll - 1, half + ll + roundf - 1)
        }
    };
    ((j1 + 2).max(0), j2.min(n))
}

/// The full discrete convolution (`np.convolve(a, b)`).
fn convolve(a: &[f64], b: &[f64]) -> Vec<f64> {
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    let mut out = vec![0.0; a.len() + b.len() - 1];
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            out[i + j] += x * y;
        }
    }
    out
}

/// P(D_n ≤ x) by the Pelz–Good (1976) series, for large n.
fn pelz_good_cdf(n: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let z = n.sqrt() * x;
    let (z2, z3, z4, z6) = (z * z, z.powi(3), z.powi(4), z.powi(6));
    let qlog = -PI2 / 8.0 / z2;
    if qlog < -708.0 {
        return 0.0;
    }
    let q = qlog.exp();
    let (pi4, pi6) = (PI2 * PI2, PI2 * PI2 * PI2);
    let (k1a, k1b) = (-z2, PI2 / 4.0);
    let k2a = 6.0 * z6 + 2.0 * z4;
    let k2b = (2.0 * z4 - 5.0 * z2) * PI2 / 4.0;
    let k2c = pi4 * (1.0 - 2.0 * z2) / 16.0;
    let k3d = pi6 * (5.0 - 30.0 * z2) / 64.0;
    let k3c = pi4 * (-60.0 * z2 + 212.0 * z4) / 16.0;
    let k3b = PI2 * (135.0 * z4 - 96.0 * z6) / 4.0;
    let k3a = -30.0 * z6 - 90.0 * z.powi(8);

    // Horner scheme over odd m = 2k − 1 of c_m q^(m²).
    let maxk = (16.0 * z / std::f64::consts::PI).ceil() as i64;
    let mut sums = [0.0; 4];
    for k in (1..=maxk).rev() {
        let m2 = ((2 * k - 1) * (2 * k - 1)) as f64;
        let qpower = q.powf(8.0 * k as f64);
        let coeffs = [
            1.0,
            k1a + k1b * m2,
            k2a + k2b * m2 + k2c * m2 * m2,
            k3a + k3b * m2 + k3c * m2 * m2 + k3d * m2 * m2 * m2,
        ];
        for (s, c) in sums.iter_mut().zip(coeffs) {
            *s = *s * qpower + c;
        }
    }
    let sqrt2pi = (2.0 * std::f64::consts::PI).sqrt();
    let denominators = [z, 6.0 * z4, 72.0 * z.powi(7), 6480.0 * z.powi(10)];
    for (s, d) in sums.iter_mut().zip(denominators) {
        *s = *s * q * sqrt2pi / d;
    }
    // The terms over all integers k of K2 and K3.
    let q = (-PI2 / 2.0 / z2).exp();
    let (mut k2extra, mut k3extra) = (0.0, 0.0);
    let sqrt3z = 3f64.sqrt() * z;
    for k in (1..=maxk).rev() {
        let k2 = (k * k) as f64;
        let term = k2 * q.powf(k2);
        let kpi = std::f64::consts::PI * k as f64;
        k2extra += term;
        k3extra += (sqrt3z + kpi) * (sqrt3z - kpi) * term;
    }
    sums[2] += k2extra * PI2 * sqrt2pi / (-36.0 * z3);
    sums[3] += k3extra * PI2 * sqrt2pi / (216.0 * z6);
    sums.iter().enumerate().map(|(i, s)| s / n.powf(i as f64 / 2.0)).sum()
}

/// P(D+_n > x), the one-sided Smirnov tail, by the Birnbaum–Tingey sum
/// x · Σ_{v=0}^{⌊n(1−x)⌋} C(n,v) (1 − x − v/n)^(n−v) (x + v/n)^(v−1), all terms positive.
/// Used here only for x well above 1/n (where the two-sided tail is twice this one).
fn smirnov_sf(n: u64, x: f64) -> f64 {
    if !(0.0..=1.0).contains(&x) {
        return f64::NAN;
    }
    if n == 1 {
        return 1.0 - x;
    }
    if x == 0.0 {
        return 1.0;
    }
    if x == 1.0 {
        return 0.0;
    }
    let nf = n as f64;
    let nx = nf * x;
    let nx_floor = nx.floor();
    let alpha = nx - nx_floor;
    if nx_floor == 0.0 || (nx_floor == 1.0 && alpha == 0.0) {
        return 1.0 - x * (1.0 + x).powf(nf - 1.0);
    }
    if -2.0 * nf * x * x < MIN_LOG {
        return 0.0;
    }
    if nx_floor >= nf - 1.0 {
        return (1.0 - x).powf(nf);
    }
    if n > 1_000_000 {
        // cephes' approximation for very large n: p ≈ exp(−(6nx + 1)² / 18n).
        let logp = -(6.0 * nx + 1.0).powi(2) / 18.0 / nf;
        return if logp < -std::f64::consts::LN_2 { logp.exp() } else { 1.0 + logp.exp_m1() };
    }
    // The terms with 1 − x − v/n > 0: v < n − n·x, so v ≤ n − ⌊n·x⌋ − 1 whether or not n·x is whole.
    let last = n - nx_floor as u64 - 1;
    let mut log_binomial = 0.0;
    let mut sum = 0.0;
    for v in 0..=last {
        if v > 0 {
            log_binomial += ((n - v + 1) as f64 / v as f64).ln();
        }
        let (vf, rest) = (v as f64, (n - v) as f64);
        let low = (rest - nx) / nf; // 1 − x − v/n
        let high = (vf + nx) / nf; // x + v/n
        let log_term = log_binomial + rest * low.ln() + (vf - 1.0) * high.ln();
        sum += log_term.exp();
    }
    clip(x * sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_forms_at_the_ends() {
        // n = 1: D_1 = max(U, 1 − U), so P(D_1 > x) = 2(1 − x) for x ≥ 1/2.
        assert!((kstwo_sf(1, 0.7) - 0.6).abs() < 1e-15);
        assert!((kstwo_sf(10, 0.95) - 2.0 * 0.05f64.powi(10)).abs() < 1e-25);
        assert_eq!(kstwo_sf(5, 0.05), 1.0);
        assert_eq!(kstwo_sf(5, 1.0), 0.0);
        assert!(kstwo_sf(0, 0.3).is_nan());
        assert_eq!(SCALE, 2f64.powi(128));
    }

    #[test]
    fn methods_agree_where_their_ranges_meet() {
        // Durbin's matrix and Pomeranz's recursion are both exact: they must agree anywhere.
        for (n, x) in [(20, 0.15), (50, 0.2), (100, 0.1), (7, 0.3)] {
            let (a, b) = (durbin_cdf(n, x), pomeranz_cdf(n, x));
            assert!((a - b).abs() < 1e-12, "n={n} x={x}: {a} vs {b}");
        }
        // Pelz–Good is an asymptotic series: close to Durbin for large n.
        let (a, b) = (durbin_cdf(5000, 0.01), pelz_good_cdf(5000.0, 0.01));
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }

    #[test]
    fn smirnov_tail_by_hand() {
        // n = 2, x = 0.6: only v = 0 contributes: x · (1 − x)^2 / x = 0.16.
        assert!((smirnov_sf(2, 0.6) - 0.16).abs() < 1e-15);
        // n = 3, x = 0.4: v = 0 and 1: (0.6)^3 + 0.4·3·(1 − 0.4 − 1/3)^2 = 0.216 + 1.2·(4/15)^2.
        let want = 0.216 + 1.2 * (4.0f64 / 15.0).powi(2);
        assert!((smirnov_sf(3, 0.4) - want).abs() < 1e-15);
    }
}
