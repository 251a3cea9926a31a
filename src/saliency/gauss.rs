//! Gaussian kernels and blurs with scipy.ndimage's conventions, so the numpy references agree.

/// `scipy.ndimage.gaussian_filter`'s 1-D kernel: radius `int(4σ + 0.5)`, weights
/// `exp(−x² / 2σ²)` normalised to sum 1. Index `radius` is the centre.
pub(crate) fn kernel(sigma: f64) -> Vec<f64> {
    let radius = (4.0 * sigma + 0.5) as i64;
    let raw: Vec<f64> =
        (-radius..=radius).map(|x| (-0.5 * (x * x) as f64 / (sigma * sigma)).exp()).collect();
    let total: f64 = raw.iter().sum();
    raw.iter().map(|w| w / total).collect()
}

/// Separable Gaussian blur with edges replicated (scipy's `mode='nearest'`).
pub(crate) fn blur_nearest(map: &[f64], width: usize, height: usize, sigma: f64) -> Vec<f64> {
    let k = kernel(sigma);
    let r = (k.len() / 2) as i64;
    let clamp = |i: i64, n: usize| i.clamp(0, n as i64 - 1) as usize;
    let mut rows = vec![0.0; map.len()];
    for y in 0..height {
        let row = &map[y * width..(y + 1) * width];
        for x in 0..width {
            rows[y * width + x] = k
                .iter()
                .enumerate()
                .map(|(j, w)| w * row[clamp(x as i64 + j as i64 - r, width)])
                .sum();
        }
    }
    let mut out = vec![0.0; map.len()];
    for y in 0..height {
        for x in 0..width {
            out[y * width + x] = k
                .iter()
                .enumerate()
                .map(|(j, w)| w * rows[clamp(y as i64 + j as i64 - r, height) * width + x])
                .sum();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_matches_scipy() {
        // scipy.ndimage._filters._gaussian_kernel1d(1.0, 0, 4): radius 4,
        // [1.33830625e-4, 4.43186162e-3, 5.39911274e-2, 2.41971446e-1, 3.98943469e-1, …].
        let k = kernel(1.0);
        assert_eq!(k.len(), 9);
        assert!(
            (k[4] - 0.398_943_469).abs() < 1e-9
                && (k[3] - 0.241_971_446).abs() < 1e-9
                && (k[0] - 1.338_306_25e-4).abs() < 1e-12
        );
        assert!((k.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn blur_keeps_constants_and_mass_of_interior_impulses() {
        let flat = blur_nearest(&[3.0; 20], 5, 4, 0.8);
        assert!(flat.iter().all(|v| (v - 3.0).abs() < 1e-12));
        let mut impulse = vec![0.0; 15 * 15];
        impulse[7 * 15 + 7] = 1.0;
        let out = blur_nearest(&impulse, 15, 15, 1.0);
        assert!((out.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((out[7 * 15 + 7] - 0.398_943_469f64.powi(2)).abs() < 1e-9);
    }
}
