//! The host loops of our own (the f64 full pass, EfficientNet-Lite's fused head on the CPU
//! backend): on every core and with the widest SIMD instructions the CPU has. Natively, rayon's
//! pool (the one Burn's CPU backend runs) and a run-time choice of AVX-512 or AVX2 with FMA
//! (`pulp`, as `gemm` does: the crate itself is compiled for baseline x86-64, SSE2); in wasm, one
//! thread, with the simd128 the module is built with.

/// Runs `f` compiled for the best instruction set this CPU has.
#[inline(always)]
pub fn with_simd<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(not(target_family = "wasm"))]
    {
        pulp::Arch::new().dispatch(f)
    }
    #[cfg(target_family = "wasm")]
    {
        f()
    }
}

/// `f(index, item)` for every item, on every core natively, each call with [`with_simd`].
pub fn for_each_item<T: Send>(items: Vec<T>, f: impl Fn(usize, T) + Sync + Send) {
    #[cfg(not(target_family = "wasm"))]
    {
        use rayon::prelude::*;
        items.into_par_iter().enumerate().for_each(|(j, item)| with_simd(|| f(j, item)));
    }
    #[cfg(target_family = "wasm")]
    items.into_iter().enumerate().for_each(|(j, item)| f(j, item));
}

/// `f(item)` for every item, collected in order, as [`for_each_item`].
pub fn map_items<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    #[cfg(not(target_family = "wasm"))]
    {
        use rayon::prelude::*;
        items.par_iter().map(|item| with_simd(|| f(item))).collect()
    }
    #[cfg(target_family = "wasm")]
    items.iter().map(f).collect()
}
