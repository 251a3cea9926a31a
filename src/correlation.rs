//! Correlations between embeddings, in f64 on the host.
//!
//! Scores are differences of nearly equal correlations, so the model similarities behind them are
//! formed here in f64 from the device's f32 embeddings (or from f32 products of small embedding
//! *changes*, see [`crate::ablation`]), never from f32 means, norms and products of nearly equal
//! vectors, which lose two to three digits to cancellation (docs/ENGINE.md, "Accuracy").

use crate::host::{Strided, gemm_into, gemm_parallelism};

/// Rows of an `n × dim` matrix centred and scaled to unit length, with the norms of the centred
/// rows: `(unit rows, norms)`. A constant row has norm 0 and unit row NaN (its correlations are
/// undefined).
pub fn standardize_rows<T: Copy + Into<f64>>(rows: &[T], dim: usize) -> (Vec<f64>, Vec<f64>) {
    standardize(rows.chunks_exact(dim), dim)
}

/// [`standardize_rows`] of rows given one by one (a subset of a matrix's, without a copy).
fn standardize<'a, T: Copy + Into<f64> + 'a>(
    rows: impl ExactSizeIterator<Item = &'a [T]>,
    dim: usize,
) -> (Vec<f64>, Vec<f64>) {
    let mut unit = Vec::with_capacity(rows.len() * dim);
    let mut norms = Vec::with_capacity(rows.len());
    for row in rows {
        let start = unit.len();
        unit.extend(row.iter().map(|&v| v.into()));
        let centred = &mut unit[start..];
        let mean = lane_sum(centred) / dim as f64;
        centred.iter_mut().for_each(|v| *v -= mean);
        let norm = lane_sum_of_squares(centred).sqrt();
        centred.iter_mut().for_each(|v| *v /= norm);
        norms.push(norm);
    }
    (unit, norms)
}

/// Partial sums in [`lane_sum`]: eight chains of additions instead of one, whose latency bound
/// the rows' standardisation (a tenth of a selection fold).
const LANES: usize = 8;

/// `Σ values`, summed in `LANES` partial sums (element i into sum i mod 8) added in a fixed
/// order at the end: the same result on every machine and SIMD width.
fn lane_sum(values: &[f64]) -> f64 {
    lane_sum_by(values, |v| v)
}

/// `Σ values²`, in the order of [`lane_sum`].
fn lane_sum_of_squares(values: &[f64]) -> f64 {
    lane_sum_by(values, |v| v * v)
}

#[inline(always)]
fn lane_sum_by(values: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut parts = [0.0f64; LANES];
    let chunks = values.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (part, &v) in parts.iter_mut().zip(chunk) {
            *part += f(v);
        }
    }
    for (part, &v) in parts.iter_mut().zip(tail) {
        *part += f(v);
    }
    ((parts[0] + parts[4]) + (parts[2] + parts[6]))
        + ((parts[1] + parts[5]) + (parts[3] + parts[7]))
}

/// A row-major `m × k` matrix, or the transpose of a row-major `k × m` one.
#[derive(Clone, Copy)]
pub enum Operand<'a, T = f64> {
    Rows(&'a [T]),
    Transposed(&'a [T]),
}

/// `lhs · rhs` (`m × k` times `k × n`, f64 or f32), row-major `m × n`.
pub fn matmul<T: Copy + From<f32> + 'static>(
    lhs: Operand<T>,
    rhs: Operand<T>,
    m: usize,
    k: usize,
    n: usize,
) -> Vec<T> {
    // An operand that is `rows × cols` logically.
    let view = |op: Operand<T>, rows: usize, cols: usize| match op {
        Operand::Rows(v) => {
            assert_eq!(v.len(), rows * cols, "a {rows}×{cols} operand");
            Strided { first: v.as_ptr(), column_stride: 1, row_stride: cols as isize }
        }
        Operand::Transposed(v) => {
            assert_eq!(v.len(), rows * cols, "a {rows}×{cols} operand");
            Strided { first: v.as_ptr(), column_stride: rows as isize, row_stride: 1 }
        }
    };
    let (lhs, rhs) = (view(lhs, m, k), view(rhs, k, n));
    let mut out = vec![T::from(0.0); m * n];
    if m == 0 || n == 0 || k == 0 {
        return out;
    }
    // SAFETY: dst is m×n (strides n, 1); `view` checked that each operand's slice holds exactly
    // its logical extent at the strides given; nothing aliases dst.
    unsafe {
        gemm_into([m, n, k], out.as_mut_ptr(), n as isize, false, lhs, rhs, gemm_parallelism());
    }
    out
}

/// `lhs · weights` with f64 accumulation, for a few rows against large f32 weights (a cohort's
/// full head pass): `lhs` `n × k` (f32 or f64), `weights` `k × m` row-major f32, result `n × m`.
/// The weights are read once, as f32, and widened to f64 a panel at a time (exactly) for an f64
/// product: `gemm` has no f32-times-f64 product, and converting VGG-16's whole fc6 to f64 for it
/// moved 0.8 GB per analysis; a panel stays in cache.
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
    const PANEL: usize = 256;
    let lhs: Vec<f64> = lhs.iter().map(|&v| v.into()).collect();
    let tile = |c0: usize| -> Vec<f64> {
        let width = TILE.min(m - c0);
        let mut acc = vec![0.0f64; n * width];
        let mut panel = vec![0.0f64; PANEL * width];
        for j0 in (0..k).step_by(PANEL) {
            let depth = PANEL.min(k - j0);
            for (j, row) in panel.chunks_exact_mut(width).take(depth).enumerate() {
                let w = &weights[(j0 + j) * m + c0..][..width];
                row.iter_mut().zip(w).for_each(|(p, &w)| *p = f64::from(w));
            }
            // SAFETY: acc is n×width (strides 1, width); lhs + j0 is read as n×depth at row
            // stride k, inside lhs's n×k; panel holds depth×width at row stride width; nothing
            // aliases acc.
            unsafe {
                gemm_into(
                    [n, width, depth],
                    acc.as_mut_ptr(),
                    width as isize,
                    j0 > 0,
                    Strided {
                        first: lhs.as_ptr().add(j0),
                        column_stride: 1,
                        row_stride: k as isize,
                    },
                    Strided { first: panel.as_ptr(), column_stride: 1, row_stride: width as isize },
                    gemm::Parallelism::None,
                );
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

/// `rows · rowsᵀ` of an `n × dim` row-major f64 matrix: `n × n`, row-major. Only the blocks on
/// and below the diagonal are multiplied and the rest mirrored: at 74 rows (a fold's training
/// images of 92) 63 % of the products of one full `gemm`, and an exactly symmetric result.
pub fn gram(rows: &[f64], dim: usize) -> Vec<f64> {
    let n = rows.len() / dim.max(1);
    let mut out = vec![0.0; n * n];
    if dim > 0 {
        lower_gram(rows, dim, 0..n, &mut out);
    }
    for i in 0..n {
        for j in i + 1..n {
            out[i * n + j] = out[j * n + i];
        }
    }
    out
}

/// Rows `range`'s block of [`gram`] and the blocks below it down to the diagonal, into `out`
/// (`n × n`): halves of the range recursively, each half's rows against the earlier half's in
/// one product, until a block is small enough that splitting it gains less than `gemm` loses
/// on smaller products.
fn lower_gram(rows: &[f64], dim: usize, range: std::ops::Range<usize>, out: &mut [f64]) {
    const WHOLE: usize = 32;
    let (start, len) = (range.start, range.len());
    if len <= WHOLE {
        rows_product_into(rows, dim, start..range.end, start..range.end, out);
        return;
    }
    let mid = start + len / 2;
    lower_gram(rows, dim, start..mid, out);
    lower_gram(rows, dim, mid..range.end, out);
    rows_product_into(rows, dim, mid..range.end, start..mid, out);
}

/// `rows[a] · rows[b]ᵀ` into `out`'s block at (a.start, b.start), `out` being `n × n`.
fn rows_product_into(
    rows: &[f64],
    dim: usize,
    a: std::ops::Range<usize>,
    b: std::ops::Range<usize>,
    out: &mut [f64],
) {
    let n = rows.len() / dim;
    assert!(a.end <= n && b.end <= n && out.len() == n * n, "blocks inside an {n}×{n} Gram");
    // SAFETY: dst starts at (a.start, b.start) of the n×n `out` and spans a.len() rows (stride
    // n) of b.len() columns, inside `out` by the assert; lhs reads rows a (row stride dim,
    // column stride 1) and rhs the transpose of rows b (row stride 1, column stride dim), both
    // inside `rows`; nothing aliases dst.
    unsafe {
        gemm_into(
            [a.len(), b.len(), dim],
            out.as_mut_ptr().add(a.start * n + b.start),
            n as isize,
            false,
            Strided {
                first: rows.as_ptr().add(a.start * dim),
                column_stride: 1,
                row_stride: dim as isize,
            },
            Strided {
                first: rows.as_ptr().add(b.start * dim),
                column_stride: dim as isize,
                row_stride: 1,
            },
            gemm_parallelism(),
        );
    }
}

/// Pearson correlations between `n` rows of `dim` values (a matrix's rows, or some of them),
/// `n × n` in f64.
pub fn correlation_matrix<'a, T: Copy + Into<f64> + 'a>(
    rows: impl ExactSizeIterator<Item = &'a [T]>,
    dim: usize,
) -> Vec<f64> {
    gram(&standardize(rows, dim).0, dim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gram_equals_the_plain_triple_loop() {
        for (n, dim) in [(5, 7), (17, 3), (74, 9)] {
            gram_equals_the_plain_triple_loop_at(n, dim);
        }
    }

    fn gram_equals_the_plain_triple_loop_at(n: usize, dim: usize) {
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
    fn lane_sums_add_every_value_once() {
        for len in [0, 1, 7, 8, 9, 23, 1280] {
            let values: Vec<f64> = (0..len).map(|i| (i % 13) as f64 - 5.0).collect();
            let want: f64 = values.iter().sum();
            let squares: f64 = values.iter().map(|v| v * v).sum();
            assert_eq!(lane_sum(&values), want, "{len}");
            assert_eq!(lane_sum_of_squares(&values), squares, "{len}");
        }
        // the fixed order: 1e16 and −1e16 meet in lane 0 before the 1 of lane 1 is added (element
        // by element, 1e16 + 1 would lose the 1)
        let mut values = vec![0.0; 16];
        (values[0], values[1], values[8]) = (1e16, 1.0, -1e16);
        assert_eq!(lane_sum(&values), 1.0);
        assert_eq!(values.iter().sum::<f64>(), 0.0);
    }

    #[test]
    fn correlations_of_hand_computed_rows() {
        // [1,2,3] and [2,4,6] correlate 1, [3,2,1] −1; a constant row is undefined.
        let rows = [1.0, 2.0, 3.0, 2.0, 4.0, 6.0, 3.0, 2.0, 1.0, 5.0, 5.0, 5.0];
        let z = correlation_matrix(rows.chunks_exact(3), 3);
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
        let z = correlation_matrix(rows.chunks_exact(dim), dim);
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
