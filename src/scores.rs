//! Second-order isomorphism (2OI) and the host-side arithmetic of Alignment Importance Scores,
//! in f64 (docs/METHOD.md, "Similarity and second-order isomorphism" and "Aim 2").

/// Pearson correlation of two equally long samples; NaN when either is constant.
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "samples of equal length");
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    sab / (saa * sbb).sqrt()
}

/// The strictly-upper-triangle entries of an `n × n` row-major matrix, row by row.
pub fn upper(m: &[f64], n: usize) -> Vec<f64> {
    (0..n).flat_map(|i| ((i + 1)..n).map(move |j| m[i * n + j])).collect()
}

/// Row `t` of an `n × n` matrix without its diagonal entry.
pub fn row_without_diagonal(m: &[f64], n: usize, t: usize) -> Vec<f64> {
    (0..n).filter(|&j| j != t).map(|j| m[t * n + j]).collect()
}

/// The baseline alignment of a model similarity Z with a human similarity H.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Baseline {
    /// pearson(upper(Z), upper(H)): the paper's ρ.
    pub r: f64,
    /// r², as the authors' code reports it.
    pub r2: f64,
    /// Per image t: pearson(Z[t, j≠t], H[t, j≠t]).
    pub per_image: Vec<f64>,
}

pub fn baseline(z: &[f64], human: &[f64], n: usize) -> Baseline {
    let r = pearson(&upper(z, n), &upper(human, n));
    let per_image = (0..n)
        .map(|t| pearson(&row_without_diagonal(z, n, t), &row_without_diagonal(human, n, t)))
        .collect();
    Baseline { r, r2: r * r, per_image }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pearson_of_hand_computed_cases() {
        assert!((pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]) - 1.0).abs() < 1e-15);
        assert!((pearson(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-15);
        // x = [1,2,3,4], y = [1,3,2,4]: Σdx·dy = 4, Σdx² = Σdy² = 5, so r = 0.8.
        assert!((pearson(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0]) - 0.8).abs() < 1e-15);
        assert!(pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).is_nan());
    }

    #[test]
    fn upper_and_rows_pick_the_right_entries() {
        let m: Vec<f64> = (0..9).map(|v| v as f64).collect();
        assert_eq!(upper(&m, 3), vec![1.0, 2.0, 5.0]);
        assert_eq!(row_without_diagonal(&m, 3, 1), vec![3.0, 5.0]);
    }
}
