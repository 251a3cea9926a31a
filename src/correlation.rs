//! Correlations between embeddings, in f64 on the host.
//!
//! Scores are differences of nearly equal correlations, so the model similarities behind them are
//! formed here in f64 from the device's f32 embeddings (or from f32 products of small embedding
//! *changes*, see [`crate::ablation`]), never from f32 means, norms and products of nearly equal
//! vectors, which lose two to three digits to cancellation (docs/ENGINE.md, "Accuracy").

/// Rows of an `n × dim` matrix centred and scaled to unit length, with the norms of the centred
/// rows: `(unit rows, norms)`. A constant row has norm 0 and unit row NaN (its correlations are
/// undefined).
pub fn standardize_rows<T: Copy + Into<f64>>(rows: &[T], dim: usize) -> (Vec<f64>, Vec<f64>) {
    let n = rows.len() / dim;
    let mut unit = Vec::with_capacity(rows.len());
    let mut norms = Vec::with_capacity(n);
    for row in rows.chunks_exact(dim) {
        let mean = row.iter().map(|&v| v.into()).sum::<f64>() / dim as f64;
        let start = unit.len();
        unit.extend(row.iter().map(|&v| v.into() - mean));
        let norm = unit[start..].iter().map(|v| v * v).sum::<f64>().sqrt();
        unit[start..].iter_mut().for_each(|v| *v /= norm);
        norms.push(norm);
    }
    (unit, norms)
}

/// A row-major `m × k` matrix, or the transpose of a row-major `k × m` one.
#[derive(Clone, Copy)]
pub enum Operand<'a> {
    Rows(&'a [f64]),
    Transposed(&'a [f64]),
}

/// `lhs · rhs` in f64 (`m × k` times `k × n`), row-major `m × n`.
pub fn matmul(lhs: Operand, rhs: Operand, m: usize, k: usize, n: usize) -> Vec<f64> {
    // (pointer, column stride, row stride) of an operand that is `rows × cols` logically.
    let view = |op: Operand, rows: usize, cols: usize| match op {
        Operand::Rows(v) => {
            assert_eq!(v.len(), rows * cols, "a {rows}×{cols} operand");
            (v.as_ptr(), 1isize, cols as isize)
        }
        Operand::Transposed(v) => {
            assert_eq!(v.len(), rows * cols, "a {rows}×{cols} operand");
            (v.as_ptr(), rows as isize, 1isize)
        }
    };
    let (lhs, lhs_cs, lhs_rs) = view(lhs, m, k);
    let (rhs, rhs_cs, rhs_rs) = view(rhs, k, n);
    let mut out = vec![0.0f64; m * n];
    if m == 0 || n == 0 || k == 0 {
        return out;
    }
    // SAFETY: dst is m×n (strides n, 1); `view` checked that each operand's slice holds exactly
    // its logical extent at the strides given; nothing aliases dst.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            false,
            lhs,
            lhs_cs,
            lhs_rs,
            rhs,
            rhs_cs,
            rhs_rs,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism(),
        );
    }
    out
}

/// `lhs · weights` with f64 accumulation, for a few rows against large f32 weights (a cohort's
/// full head pass): `lhs` `n × k` (f32 or f64), `weights` `k × m` row-major f32, result `n × m`.
/// Each product of an f32 weight with the f64 input is exact before it is summed; the weights
/// are read once, as f32. (`gemm` has no f32-times-f64 product; converting VGG-16's fc6 to f64
/// for it moved and packed 0.8 GB per analysis.)
pub fn matmul_f32_weights<T: Copy + Into<f64> + Sync>(
    lhs: &[T],
    weights: &[f32],
    n: usize,
    k: usize,
    m: usize,
) -> Vec<f64> {
    assert_eq!(lhs.len(), n * k, "an {n}×{k} left operand");
    assert_eq!(weights.len(), k * m, "a {k}×{m} weight");
    const TILE: usize = 256;
    // Column-major copy of lhs: the inner loop reads one input for every image at a time.
    let mut columns = vec![0.0f64; n * k];
    for i in 0..n {
        for j in 0..k {
            columns[j * n + i] = lhs[i * k + j].into();
        }
    }
    let tile = |c0: usize| -> Vec<f64> {
        let width = TILE.min(m - c0);
        let mut acc = vec![0.0f64; n * width];
        for j in 0..k {
            let w = &weights[j * m + c0..j * m + c0 + width];
            for (i, &x) in columns[j * n..(j + 1) * n].iter().enumerate() {
                if x != 0.0 {
                    crate::host::axpy_f64(&mut acc[i * width..(i + 1) * width], x, w);
                }
            }
        }
        acc
    };
    let starts: Vec<usize> = (0..m).step_by(TILE).collect();
    let tiles = crate::host::map_items(&starts, |&c0| tile(c0));
    let mut out = vec![0.0f64; n * m];
    for (&c0, acc) in starts.iter().zip(&tiles) {
        let width = TILE.min(m - c0);
        for i in 0..n {
            out[i * m + c0..i * m + c0 + width].copy_from_slice(&acc[i * width..(i + 1) * width]);
        }
    }
    out
}

/// `rows · rowsᵀ` of an `n × dim` row-major f64 matrix: `n × n`, row-major.
pub fn gram(rows: &[f64], dim: usize) -> Vec<f64> {
    let n = rows.len() / dim.max(1);
    matmul(Operand::Rows(rows), Operand::Transposed(rows), n, dim, n)
}

#[cfg(not(target_family = "wasm"))]
fn parallelism() -> gemm::Parallelism {
    gemm::Parallelism::Rayon(0)
}

#[cfg(target_family = "wasm")]
fn parallelism() -> gemm::Parallelism {
    gemm::Parallelism::None
}

/// Pearson correlations between the rows of an `n × dim` matrix, `n × n` in f64.
pub fn correlation_matrix<T: Copy + Into<f64>>(rows: &[T], dim: usize) -> Vec<f64> {
    let (unit, _) = standardize_rows(rows, dim);
    gram(&unit, dim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gram_equals_the_plain_triple_loop() {
        let (n, dim) = (5, 7);
        let rows: Vec<f64> = (0..n * dim).map(|v| ((v * 37 % 11) as f64) - 4.5).collect();
        let g = gram(&rows, dim);
        for i in 0..n {
            for j in 0..n {
                let want: f64 = (0..dim).map(|e| rows[i * dim + e] * rows[j * dim + e]).sum();
                assert!(
                    (g[i * n + j] - want).abs() < 1e-12,
                    "({i},{j}): {} vs {want}",
                    g[i * n + j]
                );
            }
        }
    }

    #[test]
    fn correlations_of_hand_computed_rows() {
        // [1,2,3] and [2,4,6] correlate 1, [3,2,1] −1; a constant row is undefined.
        let z =
            correlation_matrix(&[1.0, 2.0, 3.0, 2.0, 4.0, 6.0, 3.0, 2.0, 1.0, 5.0, 5.0, 5.0], 3);
        assert!((z[1] - 1.0).abs() < 1e-15 && (z[2] + 1.0).abs() < 1e-15);
        assert!((z[0] - 1.0).abs() < 1e-15);
        assert!(z[3].is_nan() && z[15].is_nan());
    }

    #[test]
    fn nearly_parallel_rows_keep_their_differences() {
        // Rows that differ by 1e-4 of their size: f64 centring keeps 1 − r to ~1e-15.
        let dim = 4096;
        let base: Vec<f32> = (0..dim).map(|e| 1.0 + ((e * 7919 % 1000) as f32) / 1000.0).collect();
        let other: Vec<f32> = base
            .iter()
            .enumerate()
            .map(|(e, &v)| v + if e % 2 == 0 { 1e-4 } else { 0.0 })
            .collect();
        let rows: Vec<f32> = base.iter().chain(&other).copied().collect();
        let z = correlation_matrix(&rows, dim);
        let (unit, _) = standardize_rows(&rows, dim);
        let direct: f64 = (0..dim).map(|e| (unit[e] - unit[dim + e]).powi(2)).sum::<f64>() / 2.0;
        assert!(((1.0 - z[1]) - direct).abs() < 1e-13, "{} vs {direct}", 1.0 - z[1]);
    }

    #[test]
    fn matmul_reads_rows_and_transposes() {
        // a = [[1,2,3],[4,5,6]] (2×3), b = [[1,0],[0,1],[1,1]] (3×2): a·b = [[4,5],[10,11]].
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        assert_eq!(
            matmul(Operand::Rows(&a), Operand::Rows(&b), 2, 3, 2),
            vec![4.0, 5.0, 10.0, 11.0]
        );
        // bᵀ stored as its own rows (2×3): [[1,0,1],[0,1,1]].
        let bt = [1.0, 0.0, 1.0, 0.0, 1.0, 1.0];
        assert_eq!(
            matmul(Operand::Rows(&a), Operand::Transposed(&bt), 2, 3, 2),
            vec![4.0, 5.0, 10.0, 11.0]
        );
    }

    #[test]
    fn f32_weights_accumulate_in_f64_as_the_f64_product() {
        // 3 rows, k = 5, m = 300 (two column tiles, the second partial), zeros in the input.
        let (n, k, m) = (3, 5, 300);
        let lhs: Vec<f32> =
            (0..n * k).map(|v| if v % 4 == 0 { 0.0 } else { v as f32 * 0.3 - 1.0 }).collect();
        let w: Vec<f32> = (0..k * m).map(|v| ((v * 37 % 101) as f32 - 50.0) / 7.0).collect();
        let got = matmul_f32_weights(&lhs, &w, n, k, m);
        let lhs64: Vec<f64> = lhs.iter().map(|&v| f64::from(v)).collect();
        let w64: Vec<f64> = w.iter().map(|&v| f64::from(v)).collect();
        let want = matmul(Operand::Rows(&lhs64), Operand::Rows(&w64), n, k, m);
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-12 * w.abs().max(1.0), "{g} vs {w}");
        }
    }
}
