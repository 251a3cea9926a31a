//! The vector loops of our own host kernels (EfficientNet-Lite's fused head on the CPU backend),
//! on every core and with the widest SIMD instructions the CPU has.
//!
//! The crate is compiled for baseline x86-64 (SSE2), so natively each loop is a `pulp` kernel
//! (as `gemm`'s are): its body is compiled again for AVX-512 and for AVX2 with FMA, and the
//! best the CPU has is picked at run time. The body must be inlined into pulp's dispatch for
//! that, hence one small struct per loop with an `#[inline(always)]` body: a closure's body is
//! not inlined there (measured: it ran on SSE registers). In wasm the module is built with
//! simd128 and the loops run as they are. Work is spread over rayon's pool natively (the one
//! Burn's CPU backend runs); wasm has one thread per worker.

#[cfg(not(target_family = "wasm"))]
use pulp::{Arch, Simd, WithSimd};

/// Runs a kernel compiled for the best instruction set of this CPU.
macro_rules! dispatch {
    ($kernel:expr) => {{
        #[cfg(not(target_family = "wasm"))]
        {
            Arch::new().dispatch($kernel)
        }
        #[cfg(target_family = "wasm")]
        {
            $kernel.body()
        }
    }};
}

/// Implements `WithSimd` (natively) for a kernel with an `#[inline(always)] fn body(self)`.
macro_rules! kernel {
    ($name:ident) => {
        #[cfg(not(target_family = "wasm"))]
        impl WithSimd for $name<'_> {
            type Output = ();

            #[inline(always)]
            fn with_simd<S: Simd>(self, _simd: S) {
                self.body()
            }
        }
    };
}

/// Outputs per tile of [`prefix_clamped_means`]: its weights and accumulators stay in
/// registers (AVX-512: two each; wasm's 128-bit lanes: eight, measured faster than four).
pub const PREFIX_TILE: usize = 32;

/// Row-major sums `[positions, out]` in the layout [`prefix_clamped_means`] works in: tile by
/// tile of [`PREFIX_TILE`] outputs, each tile's sums at every position together (`[tiles,
/// positions, PREFIX_TILE]`, the last tile padded with zeros).
pub fn prefix_tiles(sums: &[f32], out: usize) -> Vec<f32> {
    let positions = sums.len() / out.max(1);
    let mut tiled = Vec::with_capacity(out.div_ceil(PREFIX_TILE) * PREFIX_TILE * positions);
    for t0 in (0..out).step_by(PREFIX_TILE) {
        let width = PREFIX_TILE.min(out - t0);
        for row in sums.chunks_exact(out) {
            tiled.extend_from_slice(&row[t0..t0 + width]);
            tiled.resize(tiled.len() + PREFIX_TILE - width, 0.0);
        }
    }
    tiled
}

/// For each step s in turn, over the positions of `sums` (laid out by [`prefix_tiles`]):
/// `sums[p] += maps[s][p] · columns[s]`, then `rows[s] = scale · Σ_p clamp(sums[p], lo, hi)`
/// (`rows`: `[steps, out]`). The result equals that loop's, sum for sum; it runs tile by tile of
/// outputs so that a tile's sums over every position stay in L1 through all the steps, instead
/// of a pass over the whole `sums` per step. A tile's sums are contiguous: read in the sums'
/// row-major layout, a tile was a strided gather of one cache line per position (40 % slower
/// in wasm when the sums came from memory).
pub fn prefix_clamped_means(
    sums: &mut [f32],
    maps: &[&[f32]],
    columns: &[&[f32]],
    rows: &mut [f32],
    lo: f32,
    hi: f32,
    scale: f32,
) {
    dispatch!(PrefixClampedMeans { sums, maps, columns, rows, lo, hi, scale })
}

struct PrefixClampedMeans<'a> {
    sums: &'a mut [f32],
    maps: &'a [&'a [f32]],
    columns: &'a [&'a [f32]],
    rows: &'a mut [f32],
    lo: f32,
    hi: f32,
    scale: f32,
}
kernel!(PrefixClampedMeans);

impl PrefixClampedMeans<'_> {
    #[inline(always)]
    fn body(self) {
        const TILE: usize = PREFIX_TILE;
        let Some(out) = self.columns.first().map(|c| c.len()) else {
            return;
        };
        let tiles = out.div_ceil(TILE);
        let positions = self.sums.len() / (tiles * TILE);
        for (tile, tile_sums) in self.sums.chunks_exact_mut(positions * TILE).enumerate() {
            let (t0, tile_sums) = (tile * TILE, tile_sums.as_chunks_mut::<TILE>().0);
            let width = TILE.min(out - t0);
            for (step, (maps, column)) in self.maps.iter().zip(self.columns).enumerate() {
                let mut w = [0.0f32; TILE];
                w[..width].copy_from_slice(&column[t0..t0 + width]);
                let mut acc = [0.0f32; TILE];
                for (local, &a) in tile_sums.iter_mut().zip(&maps[..positions]) {
                    for o in 0..TILE {
                        local[o] += a * w[o];
                        acc[o] += clamp(local[o], self.lo, self.hi);
                    }
                }
                let row = &mut self.rows[step * out + t0..][..width];
                row.iter_mut().zip(&acc).for_each(|(r, &v)| *r = v * self.scale);
            }
        }
    }
}

/// A channel's removal terms (`BlockedLinear::channel_terms`): `terms[i] = Σ_p rows[i][p] ·
/// weight[p]`, with `rows` `[images, positions]`, `weight` `[positions, out]` and `terms`
/// `[images, out]`, each sum in the order of p. Tile by tile of outputs and four images at a
/// time, so that each weight value loaded serves four sums held in registers (as one small
/// product per channel, `gemm` packed the weight for every call and ran at 13 GFLOP/s).
pub fn rank_terms(rows: &[f32], weight: &[f32], positions: usize, terms: &mut [f32]) {
    dispatch!(RankTerms { rows, weight, positions, terms })
}

struct RankTerms<'a> {
    rows: &'a [f32],
    weight: &'a [f32],
    positions: usize,
    terms: &'a mut [f32],
}
kernel!(RankTerms);

impl RankTerms<'_> {
    #[inline(always)]
    fn body(self) {
        // Outputs per tile: four images' accumulators in registers (AVX-512: two vectors each;
        // wasm's 128-bit lanes: four).
        #[cfg(not(target_family = "wasm"))]
        const TILE: usize = 32;
        #[cfg(target_family = "wasm")]
        const TILE: usize = 16;
        // Weight rows read together: few enough streams for the prefetchers.
        const ROWS: usize = 8;
        let positions = self.positions;
        let out = self.weight.len() / positions.max(1);
        let images = self.rows.len() / positions.max(1);
        assert_eq!(self.terms.len(), images * out, "[{images}, {out}] terms");
        let whole = out - out % TILE;
        for i0 in (0..images).step_by(4) {
            let group = 4.min(images - i0);
            // The group's inputs by position, zero for images past the last.
            let mut a = vec![[0.0f32; 4]; positions];
            for (g, row) in
                self.rows[i0 * positions..][..group * positions].chunks_exact(positions).enumerate()
            {
                row.iter().zip(a.iter_mut()).for_each(|(&v, a)| a[g] = v);
            }
            let terms = &mut self.terms[i0 * out..][..group * out];
            for p0 in (0..positions).step_by(ROWS) {
                for t0 in (0..whole).step_by(TILE) {
                    let (mut acc0, mut acc1, mut acc2, mut acc3) =
                        ([0.0f32; TILE], [0.0f32; TILE], [0.0f32; TILE], [0.0f32; TILE]);
                    if p0 > 0 {
                        let at = |g: usize| -> [f32; TILE] {
                            if g < group {
                                terms[g * out + t0..][..TILE].try_into().expect("a tile")
                            } else {
                                [0.0; TILE]
                            }
                        };
                        (acc0, acc1, acc2, acc3) = (at(0), at(1), at(2), at(3));
                    }
                    for (p, &[s0, s1, s2, s3]) in a.iter().enumerate().skip(p0).take(ROWS) {
                        let w = &self.weight[p * out + t0..][..TILE];
                        for o in 0..TILE {
                            acc0[o] += s0 * w[o];
                            acc1[o] += s1 * w[o];
                            acc2[o] += s2 * w[o];
                            acc3[o] += s3 * w[o];
                        }
                    }
                    for (g, acc) in [acc0, acc1, acc2, acc3].iter().enumerate().take(group) {
                        terms[g * out + t0..][..TILE].copy_from_slice(acc);
                    }
                }
            }
            for o in whole..out {
                for (g, terms) in terms.chunks_exact_mut(out).enumerate() {
                    terms[o] =
                        (0..positions).fold(0.0, |t, p| t + a[p][g] * self.weight[p * out + o]);
                }
            }
        }
    }
}

/// `acc += clamp(shift − a · w, lo, hi)`, elementwise.
pub fn add_clamped_shifted(
    acc: &mut [f32],
    shift: &[f32],
    a: f32,
    w: &[f32],
    lo: &[f32],
    hi: &[f32],
) {
    dispatch!(AddClampedShifted { acc, shift, a, w, lo, hi })
}

struct AddClampedShifted<'a> {
    acc: &'a mut [f32],
    shift: &'a [f32],
    a: f32,
    w: &'a [f32],
    lo: &'a [f32],
    hi: &'a [f32],
}
kernel!(AddClampedShifted);

impl AddClampedShifted<'_> {
    #[inline(always)]
    fn body(self) {
        let n = self.acc.len();
        let (shift, w, lo, hi) = (&self.shift[..n], &self.w[..n], &self.lo[..n], &self.hi[..n]);
        for o in 0..n {
            self.acc[o] += clamp(shift[o] - self.a * w[o], lo[o], hi[o]);
        }
    }
}

/// `clamp(v, lo, hi)` written as two selects, which vectorise to min/max (`f32::clamp` asserts
/// and handles NaN apart, which does not).
#[inline(always)]
fn clamp(v: f32, lo: f32, hi: f32) -> f32 {
    let v = if v > lo { v } else { lo };
    if v < hi { v } else { hi }
}

/// `f(index, item)` for every item, on every core natively.
pub fn for_each_item<T: Send>(items: Vec<T>, f: impl Fn(usize, T) + Sync + Send) {
    #[cfg(not(target_family = "wasm"))]
    {
        use rayon::prelude::*;
        items.into_par_iter().enumerate().for_each(|(j, item)| f(j, item));
    }
    #[cfg(target_family = "wasm")]
    items.into_iter().enumerate().for_each(|(j, item)| f(j, item));
}

/// Row-major `[rows, cols]` → `[cols, rows]`, in cache-sized tiles.
pub fn transpose(m: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    const TILE: usize = 64;
    let mut out = vec![0.0; m.len()];
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            for r in r0..(r0 + TILE).min(rows) {
                for c in c0..(c0 + TILE).min(cols) {
                    out[c * rows + r] = m[r * cols + c];
                }
            }
        }
    }
    out
}

/// A matrix operand of [`gemm_into`]: its first value and its column and row strides.
#[derive(Clone, Copy)]
pub struct Strided<T> {
    pub first: *const T,
    pub column_stride: isize,
    pub row_stride: isize,
}

/// `dst = lhs · rhs`, or `dst += lhs · rhs` when `accumulate` (`[m, n, k]`: `m × k` times
/// `k × n`), with `dst` row-major at row stride `dst_row_stride`: the one shape of `gemm` call
/// the crate makes.
///
/// # Safety
/// `dst` must hold `m` rows of `n` values at `dst_row_stride`, `lhs` and `rhs` their `m × k` and
/// `k × n` values at their strides, and nothing may alias `dst`.
pub unsafe fn gemm_into<T: Copy + From<f32> + 'static>(
    [m, n, k]: [usize; 3],
    dst: *mut T,
    dst_row_stride: isize,
    accumulate: bool,
    lhs: Strided<T>,
    rhs: Strided<T>,
    parallelism: gemm::Parallelism,
) {
    // SAFETY: the caller's.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            dst_row_stride,
            accumulate,
            lhs.first,
            lhs.column_stride,
            lhs.row_stride,
            rhs.first,
            rhs.column_stride,
            rhs.row_stride,
            T::from(1.0),
            T::from(1.0),
            false,
            false,
            false,
            parallelism,
        )
    }
}

/// `gemm` on every core natively (rayon's pool), on the worker's one thread in wasm.
pub fn gemm_parallelism() -> gemm::Parallelism {
    #[cfg(not(target_family = "wasm"))]
    return gemm::Parallelism::Rayon(0);
    #[cfg(target_family = "wasm")]
    gemm::Parallelism::None
}

/// The threads [`map_items`] and [`for_each_item`] spread their items over: rayon's natively,
/// one in wasm (a worker).
pub fn threads() -> usize {
    #[cfg(not(target_family = "wasm"))]
    return rayon::current_num_threads();
    #[cfg(target_family = "wasm")]
    1
}

/// `f(item)` for every item, collected in order, on every core natively.
pub fn map_items<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    #[cfg(not(target_family = "wasm"))]
    {
        use rayon::prelude::*;
        items.par_iter().map(f).collect()
    }
    #[cfg(target_family = "wasm")]
    items.iter().map(f).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_moves_every_element() {
        let m: Vec<f32> = (0..6 * 130).map(|v| v as f32).collect();
        let t = transpose(&m, 6, 130);
        for r in 0..6 {
            for c in 0..130 {
                assert_eq!(t[c * 6 + r], m[r * 130 + c]);
            }
        }
    }

    #[test]
    fn kernels_compute_what_they_say_at_any_length() {
        for n in [0, 1, 7, 16, 33, 1280] {
            let x: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin() * 8.0).collect();
            let w: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let lo: Vec<f32> = (0..n).map(|i| -((i % 3) as f32)).collect();
            let hi: Vec<f32> = lo.iter().map(|l| l + 6.0).collect();
            let mut acc = vec![0.0f32; n];
            add_clamped_shifted(&mut acc, &x, 2.0, &w, &lo, &hi);
            for o in 0..n {
                assert_eq!(acc[o], (x[o] - 2.0 * w[o]).clamp(lo[o], hi[o]));
            }
        }
    }

    #[test]
    fn prefix_clamped_means_equals_the_plain_loop() {
        // widths around the tile, several positions and steps, sums that cross both bounds
        for (out, positions, steps) in [(1, 1, 1), (7, 3, 2), (33, 5, 4), (1280, 49, 3)] {
            let value = |i: usize, f: f32| ((i as f32 * f).sin() * 4.0) + 1.0;
            let start: Vec<f32> = (0..positions * out).map(|i| value(i, 0.37)).collect();
            let maps: Vec<Vec<f32>> = (0..steps)
                .map(|s| (0..positions).map(|p| value(p + 11 * s, 0.7)).collect())
                .collect();
            let columns: Vec<Vec<f32>> =
                (0..steps).map(|s| (0..out).map(|o| value(o + 5 * s, 0.13)).collect()).collect();
            let (mut want_sums, mut want_rows) = (start.clone(), vec![0.0f32; steps * out]);
            for s in 0..steps {
                for p in 0..positions {
                    for o in 0..out {
                        want_sums[p * out + o] += maps[s][p] * columns[s][o];
                        want_rows[s * out + o] += want_sums[p * out + o].clamp(0.0, 6.0);
                    }
                }
                want_rows[s * out..(s + 1) * out].iter_mut().for_each(|v| *v *= 0.5);
            }
            let (mut sums, mut rows) = (prefix_tiles(&start, out), vec![f32::NAN; steps * out]);
            let maps: Vec<&[f32]> = maps.iter().map(Vec::as_slice).collect();
            let columns: Vec<&[f32]> = columns.iter().map(Vec::as_slice).collect();
            prefix_clamped_means(&mut sums, &maps, &columns, &mut rows, 0.0, 6.0, 0.5);
            assert_eq!(sums, prefix_tiles(&want_sums, out), "{out}×{positions}×{steps}");
            assert_eq!(rows, want_rows, "{out}×{positions}×{steps}");
            assert!(
                want_rows.iter().any(|&v| v > 0.0)
                    && want_rows.iter().any(|&v| v < 6.0 * 0.5 * positions as f32)
            );
        }
    }
}
