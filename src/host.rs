//! The vector loops of our own host kernels (the f64 full pass, EfficientNet-Lite's fused head on
//! the CPU backend), on every core and with the widest SIMD instructions the CPU has.
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

/// `y += a · x` in f64, with f32 `x`: each product is exact before it is summed.
pub fn axpy_f64(y: &mut [f64], a: f64, x: &[f32]) {
    dispatch!(AxpyF64 { y, a, x })
}

struct AxpyF64<'a> {
    y: &'a mut [f64],
    a: f64,
    x: &'a [f32],
}
kernel!(AxpyF64);

impl AxpyF64<'_> {
    #[inline(always)]
    fn body(self) {
        for (y, &x) in self.y.iter_mut().zip(self.x) {
            *y += self.a * f64::from(x);
        }
    }
}

/// `sum += a · w`, then `acc += clamp(sum, lo, hi)`, in one pass.
pub fn axpy_add_clamped(sum: &mut [f32], a: f32, w: &[f32], acc: &mut [f32], lo: f32, hi: f32) {
    dispatch!(AxpyAddClamped { sum, a, w, acc, lo, hi })
}

struct AxpyAddClamped<'a> {
    sum: &'a mut [f32],
    a: f32,
    w: &'a [f32],
    acc: &'a mut [f32],
    lo: f32,
    hi: f32,
}
kernel!(AxpyAddClamped);

impl AxpyAddClamped<'_> {
    #[inline(always)]
    fn body(self) {
        let n = self.sum.len();
        let (w, acc) = (&self.w[..n], &mut self.acc[..n]);
        for o in 0..n {
            self.sum[o] += self.a * w[o];
            acc[o] += clamp(self.sum[o], self.lo, self.hi);
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
    fn kernels_compute_what_they_say_at_any_length() {
        for n in [0, 1, 7, 16, 33, 1280] {
            let x: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin() * 8.0).collect();
            let w: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let mut y = vec![0.25f64; n];
            axpy_f64(&mut y, 3.0, &x);
            assert!(y.iter().zip(&x).all(|(y, x)| *y == 0.25 + 3.0 * f64::from(*x)));
            let (mut sum, mut acc) = (x.clone(), vec![1.0f32; n]);
            axpy_add_clamped(&mut sum, 0.5, &w, &mut acc, 0.0, 6.0);
            for o in 0..n {
                assert_eq!(sum[o], x[o] + 0.5 * w[o]);
                assert_eq!(acc[o], 1.0 + sum[o].clamp(0.0, 6.0));
            }
            let lo: Vec<f32> = (0..n).map(|i| -((i % 3) as f32)).collect();
            let hi: Vec<f32> = lo.iter().map(|l| l + 6.0).collect();
            let mut acc = vec![0.0f32; n];
            add_clamped_shifted(&mut acc, &x, 2.0, &w, &lo, &hi);
            for o in 0..n {
                assert_eq!(acc[o], (x[o] - 2.0 * w[o]).clamp(lo[o], hi[o]));
            }
        }
    }
}
