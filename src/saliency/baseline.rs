//! Image-blind baselines for the saliency metrics: a centre prior and chance.

use super::SaliencyMap;

/// The centre prior's standard deviation as a fraction of the image's width (horizontally) and
/// height (vertically). Chosen with the models on the first 50 NUS images (docs/saliency.md);
/// the ranking of pixels, and so AUC-Judd, is the same for every fraction.
pub const CENTRE_SIGMA_FRACTION: f64 = 0.2;

/// An anisotropic Gaussian at the image centre, `exp(−½((x − w/2)² / σx² + (y − h/2)² / σy²))`
/// at pixel centres (`x + 0.5`, `y + 0.5`), σx = 0.2·w, σy = 0.2·h; min-max normalised.
pub fn centre_bias(width: usize, height: usize) -> SaliencyMap {
    let axis = |n: usize| -> Vec<f64> {
        let sigma = CENTRE_SIGMA_FRACTION * n as f64;
        (0..n).map(|i| (i as f64 + 0.5 - n as f64 / 2.0) / sigma).map(|d| d * d).collect()
    };
    let (xs, ys) = (axis(width), axis(height));
    let values =
        ys.iter().flat_map(|dy| xs.iter().map(move |dx| (-0.5 * (dx + dy)).exp())).collect();
    SaliencyMap::normalised(width, height, values)
}

/// Chance: independent uniform values in [0, 1) from splitmix64 seeded with `seed`. Expected
/// scores: AUC-Judd 0.5, NSS 0, CC 0.
pub fn chance(width: usize, height: usize, seed: u64) -> SaliencyMap {
    let mut state = seed;
    let values = (0..width * height)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 11) as f64 / (1u64 << 53) as f64) as f32
        })
        .collect();
    SaliencyMap { width, height, values }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centre_bias_peaks_at_the_centre_and_is_symmetric() {
        let m = centre_bias(5, 3);
        assert_eq!(m.values[5 + 2], 1.0);
        assert_eq!(m.values[0], 0.0);
        assert_eq!(m.values[0], m.values[14]);
        assert_eq!(m.values[1], m.values[3]);
        assert!(m.values[5 + 1] < 1.0 && m.values[5 + 1] > m.values[1]);
    }

    #[test]
    fn chance_is_uniform_and_reproducible() {
        let a = chance(100, 100, 7);
        assert_eq!(a, chance(100, 100, 7));
        assert_ne!(a, chance(100, 100, 8));
        assert!(a.values.iter().all(|&v| (0.0..1.0).contains(&v)));
        let mean = a.values.iter().map(|&v| v as f64).sum::<f64>() / 1e4;
        assert!((mean - 0.5).abs() < 0.01, "mean {mean}");
    }
}
