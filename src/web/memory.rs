//! Before a run, the memory it needs ([`crate::memory::memory_estimate`]) against what the
//! browser gives: the run goes ahead, goes ahead with fewer images per forward pass and smaller
//! ablation chunks, or is refused with what to choose instead ([`memory_plan`], [`plan_session`]; the
//! page calls `plan_run`). Before VGG-16 is downloaded, whether this machine can run it and
//! roughly how long it takes ([`vgg16_preflight`]). What the page does with them:
//! docs/faults.md.

use super::with;
use crate::ablation::EngineOptions;
use crate::error::{Error, Result};
use crate::memory::{self, Footprint, MemoryEstimate, format_bytes as bytes, memory_estimate};
use serde::{Deserialize, Serialize};

/// A wasm32 module addresses at most 4 GiB.
pub const WASM32_MEMORY: u64 = 4 << 30;

/// The cohort assumed before any image is added: the small example's 24 images of 175×175.
const ASSUMED_IMAGES: (usize, usize, usize) = (24, 175, 175);

/// What the browser tells about memory; any of it may be unknown (JS: `undefined`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BrowserMemory {
    /// `navigator.deviceMemory`: GiB of RAM, rounded down to a power of two and capped at 8
    /// (Chromium, Edge; Firefox and Safari do not tell).
    pub device_memory_gib: Option<f64>,
    /// `performance.memory.jsHeapSizeLimit` (Chromium): the JavaScript heap's limit. WebAssembly
    /// memory and array buffers live outside that heap, so it bounds nothing here; it is shown.
    pub js_heap_limit: Option<f64>,
    /// The WebGPU device's `maxStorageBufferBindingSize` (the worker fills it in from the device).
    pub max_storage_binding: Option<f64>,
    /// The WebGPU device's `maxBufferSize`.
    pub max_buffer_size: Option<f64>,
    /// `navigator.storage.estimate()`: quota less usage, for a download to be kept.
    pub storage_free: Option<f64>,
}

/// Where a run computes, for the memory it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// On a GPU (WebGPU): the network and the large tensors are in GPU memory, not in the
    /// WebAssembly memory.
    pub gpu: bool,
    /// In a wasm32 module (the browser): the host part is bounded by [`WASM32_MEMORY`].
    pub wasm32: bool,
}

/// The first bound a run of `e` breaks: `(needed, available, the bound in words)`.
fn shortfall(e: &MemoryEstimate, target: Target, memory: &BrowserMemory) -> Option<Check> {
    checks(e, target, memory).into_iter().find(|c| c.needed > c.available)
}

/// One bound on a run's memory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub needed: u64,
    pub available: u64,
    /// What sets `available`, in words.
    pub limit: String,
}

fn checks(e: &MemoryEstimate, target: Target, memory: &BrowserMemory) -> Vec<Check> {
    let mut out = Vec::new();
    if target.wasm32 {
        out.push(Check {
            needed: if target.gpu { e.host() } else { e.total() },
            available: WASM32_MEMORY,
            limit: "the 4 GiB a WebAssembly module can address".into(),
        });
    }
    if let Some(gib) = memory.device_memory_gib.filter(|g| g.is_finite() && *g > 0.0) {
        // The browser, the system and other tabs need the rest.
        out.push(Check {
            needed: e.total(),
            available: (gib * f64::from(1u32 << 30) / 2.0) as u64,
            limit: format!("half the {} of memory this device reports", gigabytes_gib(gib)),
        });
    }
    out
}

/// How many runs of `e`, one per worker, fit half the device's memory (the bound of [`checks`]).
fn workers_held(e: &MemoryEstimate, memory: &BrowserMemory) -> u32 {
    match memory.device_memory_gib.filter(|g| g.is_finite() && *g > 0.0) {
        Some(gib) => {
            let available = gib * f64::from(1u32 << 30) / 2.0;
            (available / e.total().max(1) as f64).floor().clamp(1.0, f64::from(u32::MAX)) as u32
        }
        None => u32::MAX,
    }
}

/// What [`memory_plan`] decided.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunPlan {
    /// "fits", "adapted" (fewer images per forward pass, smaller chunks) or "refused".
    pub verdict: &'static str,
    /// The estimate with the settings the run uses (refused: the smallest settings).
    pub estimate: MemoryEstimate,
    pub needed: u64,
    /// Every bound checked (the WebAssembly memory, the device's memory).
    pub checks: Vec<Check>,
    /// Images per forward pass and the engine's chunk, in bytes, to run with.
    pub batch: u32,
    pub chunk_bytes: u32,
    /// How many workers, each holding this estimate, the device's memory holds (the page's pool
    /// of workers; at least 1, `u32::MAX` when the browser does not tell its memory).
    pub workers: u32,
    /// In plain words; empty when the run simply fits.
    pub message: String,
}

/// Plans a run of images of `sizes` (decoded `(height, width)`) through `footprint`, asked for
/// with `batch` images per forward pass and chunks of `chunk_bytes`: as asked when its estimate
/// fits what `memory` and `target` allow; else with one image per pass and chunks halved down to
/// one feature map until it fits ("adapted"); else "refused", with what would fit instead.
pub fn memory_plan(
    footprint: &Footprint,
    sizes: &[(usize, usize)],
    batch: usize,
    chunk_bytes: usize,
    target: Target,
    memory: &BrowserMemory,
) -> RunPlan {
    let mut chunk_bytes = chunk_bytes;
    if target.gpu {
        // No tensor of a chunk may be larger than one storage binding.
        if let Some(binding) = memory.max_storage_binding.filter(|b| b.is_finite() && *b > 0.0) {
            chunk_bytes = chunk_bytes.min(binding as usize);
        }
    }
    let estimate = |batch: usize, chunk_bytes: usize| {
        memory_estimate(footprint, sizes, batch, &engine(chunk_bytes))
    };
    let mut tries = vec![(batch.max(1), chunk_bytes)];
    let smallest_chunk = estimate(1, 1).chunk as usize;
    let mut c = chunk_bytes;
    loop {
        tries.push((1, c));
        if c <= smallest_chunk {
            break;
        }
        c = (c / 2).max(smallest_chunk);
    }
    let result = |verdict, (batch, chunk): (usize, usize), e: MemoryEstimate, message| RunPlan {
        verdict,
        needed: e.total(),
        checks: checks(&e, target, memory),
        estimate: e,
        batch: batch as u32,
        chunk_bytes: chunk.min(u32::MAX as usize) as u32,
        workers: workers_held(&e, memory),
        message,
    };
    let asked = estimate(tries[0].0, tries[0].1);
    let Some(first) = shortfall(&asked, target, memory) else {
        return result("fits", tries[0], asked, String::new());
    };
    for &(b, c) in &tries[1..] {
        let e = estimate(b, c);
        if shortfall(&e, target, memory).is_none() {
            let message = format!(
                "This run needs about {} as asked ({} images per forward pass), more than {} ({}). \
                 It runs with less memory instead, about {}: one image at a time{}. Slower, \
                 same results.",
                bytes(first.needed),
                tries[0].0,
                bytes(first.available),
                first.limit,
                bytes(e.total()),
                if e.chunk < asked.chunk { " and smaller ablation chunks" } else { "" },
            );
            return result("adapted", (b, c), e, message);
        }
    }
    let least = *tries.last().expect("at least one try");
    let e = estimate(least.0, least.1);
    let short = shortfall(&e, target, memory).expect("the smallest settings did not fit");
    let mut instead = Vec::new();
    let fewer = (1..sizes.len()).rev().find(|&k| {
        shortfall(&estimate_prefix(footprint, &sizes[..k], (1, 1)), target, memory).is_none()
    });
    match fewer {
        Some(k) if k >= crate::pipeline::MIN_IMAGES => {
            instead.push(format!("fewer images (about {k} of the {} fit)", sizes.len()))
        }
        _ => instead.push("fewer images".into()),
    }
    if footprint.parameters > 20_000_000 {
        instead.push(format!(
            "a smaller network: the bundled EfficientNet-Lite0 has {:.1} million weights, this \
             one {:.0} million",
            LITE0_PARAMETERS as f64 / 1e6,
            footprint.parameters as f64 / 1e6
        ));
    }
    if !target.gpu && short.limit.starts_with("the 4 GiB") && e.host() < WASM32_MEMORY {
        instead.push(format!(
            "WebGPU on a GPU, which keeps the network and its tensors out of the WebAssembly \
             memory (about {} would stay in it)",
            bytes(e.host())
        ));
    }
    instead.push("the command line (alignmap analyze) on a computer with more memory".into());
    let message = format!(
        "This run needs about {}, even one image at a time with the smallest ablation chunks, \
         more than {} ({}). Choose instead: {}.",
        bytes(short.needed),
        bytes(short.available),
        short.limit,
        instead.join("; ")
    );
    result("refused", least, e, message)
}

/// The page's engine options with chunks of `chunk_bytes` (the Gram matrices are kept for the
/// cross-validation).
fn engine(chunk_bytes: usize) -> EngineOptions {
    let keep_grams = EngineOptions { keep_grams: true, ..Default::default() };
    EngineOptions { chunk_bytes, ..keep_grams }
}

fn estimate_prefix(
    footprint: &Footprint,
    sizes: &[(usize, usize)],
    (batch, chunk_bytes): (usize, usize),
) -> MemoryEstimate {
    memory_estimate(footprint, sizes, batch, &engine(chunk_bytes))
}

/// `navigator.deviceMemory` in words ("0.25 GB", "8 GB or more": Chromium caps it at 8).
fn gigabytes_gib(gib: f64) -> String {
    if gib >= 8.0 { "8 GB or more".into() } else { format!("{gib} GB") }
}

thread_local! {
    /// The engine's chunk for this session's runs, in bytes: the last plan's (0: none yet).
    static CHUNK_BYTES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The engine's chunk for the session's runs and cross-validations: the last [`plan_session`]'s,
/// else the page's default (`results::CHUNK_BYTES`).
pub(crate) fn chunk_bytes() -> usize {
    match CHUNK_BYTES.with(|c| c.get()) {
        0 => super::results::CHUNK_BYTES,
        planned => planned,
    }
}

/// The plan for a run of the session's cohort through its network on its device, `batch` images
/// per forward pass (0: 4) and the page's chunk: the run asks for it first, and the engine's
/// chunk of the plan holds for the session's runs until the next plan (`chunk_bytes`).
pub fn plan_session(batch: u32, memory: &BrowserMemory) -> Result<RunPlan> {
    let (footprint, sizes, gpu) = with(|s| -> Result<_> {
        let model =
            s.model.as_ref().ok_or_else(|| Error::Invalid("no network loaded yet".into()))?;
        let device =
            s.device.as_ref().ok_or_else(|| Error::Invalid("call init_device first".into()))?;
        let sizes: Vec<(usize, usize)> =
            s.images.values().map(|i| (i.height() as usize, i.width() as usize)).collect();
        Ok((Footprint::of(&model.net), sizes, !device.description.starts_with("cpu")))
    })?;
    let batch = if batch == 0 { 4 } else { batch as usize };
    let target = Target { gpu, wasm32: cfg!(target_family = "wasm") };
    let plan = memory_plan(&footprint, &sizes, batch, super::results::CHUNK_BYTES, target, memory);
    CHUNK_BYTES.with(|c| c.set(plan.chunk_bytes as usize));
    Ok(plan)
}

/// Seconds per image of an analysis (the forward pass and the ablation of a small cohort) over
/// the seconds of one forward pass of the tiny generated VGG-16 (`synthetic_forward("tiny")` at
/// 224×224) on the same backend, measured in the page on the 2-core build machine
/// (tests/browser/vgg16-page.test.mjs; docs/faults.md, "VGG-16 in the page"): VGG-16 on 8 images,
/// 15 s on the wasm CPU backend against a 16 ms tiny forward (118; 203 before the trunk's direct
/// convolutions and the computing crates at opt-level 3), 2084 s on WebGPU through
/// SwiftShader against 1518 ms (172); the bundled EfficientNet-Lite0 on the 24-image example,
/// about 0.37 s per image on the CPU backend (16). On a hardware GPU the tiny forward is mostly
/// dispatch overhead, so the estimate there errs long.
const VGG16_PER_TINY_CPU: f64 = 120.0;
const VGG16_PER_TINY_GPU: f64 = 170.0;
const LITE0_PER_TINY: f64 = 16.0;
/// The bundled EfficientNet-Lite0's weights (BatchNorm folded).
const LITE0_PARAMETERS: usize = 4_640_000;

/// Whether this machine can run VGG-16, before its weights are downloaded.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPreflight {
    /// False when loading it or analysing the cohort needs more memory than the browser gives.
    pub fits: bool,
    /// Memory to load the network and to analyse the cohort (or the assumed one), the larger.
    pub needed: u64,
    pub checks: Vec<Check>,
    /// The images the figures are for: the cohort's, or 24 when it has fewer than 4.
    pub images: usize,
    /// Roughly how long the analysis of `images` takes here: `[low, high]` seconds.
    pub seconds: Option<[f64; 2]>,
    /// False when the browser's storage has no room to keep the download.
    pub storable: Option<bool>,
    /// In plain words: whether it runs, how long, memory, storage, what to choose instead.
    pub message: String,
}

/// Whether VGG-16, a download of `download` bytes, can run here on a cohort of `sizes` (fewer
/// than 4: the small example's 24 images of 175×175), and roughly how long its analysis takes,
/// scaled from `tiny_ms`: one forward pass of the tiny generated VGG-16 on this device.
pub fn vgg16_preflight(
    download: u64,
    sizes: &[(usize, usize)],
    target: Target,
    memory: &BrowserMemory,
    tiny_ms: Option<f64>,
) -> NetworkPreflight {
    let assumed = vec![(ASSUMED_IMAGES.1, ASSUMED_IMAGES.2); ASSUMED_IMAGES.0];
    let sizes = if sizes.len() >= crate::pipeline::MIN_IMAGES { sizes } else { &assumed };
    let n = sizes.len();
    let footprint = memory::vgg16();
    let run = memory_plan(&footprint, sizes, 4, super::results::CHUNK_BYTES, target, memory);
    // Loading holds the file's bytes, its tensors in f32 and the network at once, in the
    // WebAssembly memory whatever the device.
    let load =
        MemoryEstimate { network: download + 2 * run.estimate.network, ..Default::default() };
    let load_short = shortfall(&load, Target { gpu: false, ..target }, memory);
    let run_short = (run.verdict == "refused")
        .then(|| shortfall(&run.estimate, target, memory).expect("a refused run has a shortfall"));
    let fits = load_short.is_none() && run_short.is_none();
    let needed = run.needed.max(load.total());
    let tiny = tiny_ms.filter(|t| t.is_finite() && *t > 0.0).map(|ms| ms / 1e3);
    let per_tiny = if target.gpu { VGG16_PER_TINY_GPU } else { VGG16_PER_TINY_CPU };
    let seconds = tiny.map(|t| [t * per_tiny * n as f64 / 2.0, t * per_tiny * n as f64 * 2.0]);
    let storable = memory.storage_free.filter(|f| f.is_finite()).map(|f| f >= download as f64);
    let mut words = Vec::new();
    match load_short.or(run_short) {
        None => words.push(format!(
            "This computer can run VGG-16: loading it and analysing {n} images needs about {}{}.",
            bytes(needed),
            run.checks
                .iter()
                .map(|c| c.available)
                .min()
                .map_or(String::new(), |a| format!(" of the {} the browser can give", bytes(a)))
        )),
        Some(short) => words.push(format!(
            "This computer probably cannot run VGG-16: loading it and analysing {n} images needs \
             about {}, more than {} ({}).",
            bytes(short.needed.max(needed)),
            bytes(short.available),
            short.limit
        )),
    }
    if let Some([low, high]) = seconds {
        words.push(format!(
            "The analysis of {n} images would take roughly {} to {} here{}, after the download.",
            duration(low),
            duration(high),
            if target.gpu {
                " on this WebGPU device"
            } else {
                " on the CPU (WebAssembly, one worker per core)"
            }
        ));
    }
    match storable {
        Some(true) => words.push("The browser has room to keep the download for next time.".into()),
        Some(false) => words.push(format!(
            "The browser's storage has only {} free: the download will not be kept and is \
             needed again on the next visit.",
            bytes(memory.storage_free.unwrap_or(0.0).max(0.0) as u64)
        )),
        None => {}
    }
    words.push(format!(
        "Instead: the bundled EfficientNet-Lite0 (no download, {} per image here), or fewer \
         images.",
        tiny.map_or("seconds".into(), |t| format!("about {}", duration(t * LITE0_PER_TINY)))
    ));
    NetworkPreflight {
        fits,
        needed,
        checks: run.checks,
        images: n,
        seconds,
        storable,
        message: words.join("\n"),
    }
}

/// "40 s", "12 min", "2.5 h".
fn duration(seconds: f64) -> String {
    if seconds < 90.0 {
        format!("{:.0} s", seconds.max(1.0))
    } else if seconds < 5400.0 {
        format!("{:.0} min", seconds / 60.0)
    } else {
        format!("{:.1} h", seconds / 3600.0)
    }
}

/// [`vgg16_preflight`] for the session's cohort and device.
pub fn vgg16_preflight_session(
    download: f64,
    memory: &BrowserMemory,
    tiny_ms: Option<f64>,
) -> NetworkPreflight {
    let (sizes, gpu) = with(|s| {
        let sizes: Vec<(usize, usize)> =
            s.images.values().map(|i| (i.height() as usize, i.width() as usize)).collect();
        let gpu = s.device.as_ref().is_some_and(|d| !d.description.starts_with("cpu"));
        (sizes, gpu)
    });
    let target = Target { gpu, wasm32: cfg!(target_family = "wasm") };
    vgg16_preflight(download.max(0.0) as u64, &sizes, target, memory, tiny_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CPU: Target = Target { gpu: false, wasm32: true };
    const CHUNK: usize = 128 << 20;

    fn says(message: &str, words: &str) {
        assert!(message.contains(words), "{message}");
    }

    fn starts(message: &str, words: &str) {
        assert!(message.starts_with(words), "{message}");
    }

    /// 24 images of 175×175, as the small example.
    fn example() -> Vec<(usize, usize)> {
        vec![(175, 175); 24]
    }

    fn device_memory(gib: f64) -> BrowserMemory {
        BrowserMemory { device_memory_gib: Some(gib), ..Default::default() }
    }

    #[test]
    fn a_run_that_fits_runs_as_asked() {
        let p = memory_plan(&memory::vgg16(), &example(), 4, CHUNK, CPU, &BrowserMemory::default());
        assert_eq!((p.verdict, p.batch, p.chunk_bytes), ("fits", 4, CHUNK as u32));
        assert_eq!(p.message, "");
        assert_eq!(p.checks.len(), 1, "only the wasm32 ceiling is known");
        assert_eq!(p.checks[0].available, WASM32_MEMORY);
        assert_eq!(p.needed, p.estimate.total());
        // The 24 images' kept changes: 512 channels' 4096-wide embedding changes in f32 and
        // 24 + 1 f64 products per channel and image; about 1 GB besides them.
        let kept = 4 * 512 * 24 * 4096 + 8 * 512 * 24 * 25;
        assert_eq!(p.estimate.kept_changes, kept);
        let rest = p.needed - kept;
        assert!(rest > 900_000_000 && rest < 1_100_000_000, "{}", p.needed);
        assert_eq!(p.workers, u32::MAX, "no device memory told: the cores decide");
    }

    #[test]
    fn the_pool_of_workers_holds_as_many_runs_as_the_device_memory() {
        let plan = |memory| memory_plan(&memory::vgg16(), &example(), 4, CHUNK, CPU, &memory);
        let one = plan(BrowserMemory::default()).needed;
        assert_eq!(plan(device_memory_for(3 * one + one / 2)).workers, 3);
        assert_eq!(plan(device_memory_for(one)).workers, 1);
        // A run adapted to less memory still has one worker.
        assert_eq!(plan(device_memory_for(one / 2)).workers, 1);
    }

    /// `navigator.deviceMemory` whose half is `bytes`.
    fn device_memory_for(bytes: u64) -> BrowserMemory {
        device_memory(2.0 * bytes as f64 / f64::from(1u32 << 30))
    }

    #[test]
    fn less_device_memory_runs_one_image_at_a_time_then_with_smaller_chunks() {
        let vgg = memory::vgg16();
        let needs = |batch, chunk| memory_estimate(&vgg, &example(), batch, &engine(chunk)).total();
        let (asked, one) = (needs(4, CHUNK), needs(1, CHUNK));
        assert!(one < asked);
        // Half the device's memory between the two: one image at a time is enough.
        let p = memory_plan(&vgg, &example(), 4, CHUNK, CPU, &device_memory_for((one + asked) / 2));
        assert_eq!(
            (p.verdict, p.batch, p.chunk_bytes),
            ("adapted", 1, CHUNK as u32),
            "{}",
            p.message
        );
        assert_eq!(p.needed, one);
        starts(&p.message, &format!("This run needs about {} as asked (4 images", bytes(asked)));
        says(&p.message, "GB of memory this device reports)");
        assert!(p.message.ends_with("one image at a time. Slower, same results."), "{}", p.message);
        // Between one image at a time with a quarter of the chunk and with half of it: the
        // chunk is halved twice.
        let (half, quarter) = (needs(1, CHUNK / 2), needs(1, CHUNK / 4));
        assert!(quarter < half && half < one);
        let memory = device_memory_for((quarter + half) / 2);
        let p = memory_plan(&vgg, &example(), 4, CHUNK, CPU, &memory);
        assert_eq!(
            (p.verdict, p.batch, p.chunk_bytes),
            ("adapted", 1, CHUNK as u32 / 4),
            "{}",
            p.message
        );
        assert_eq!(p.needed, quarter);
        says(&p.message, "one image at a time and smaller ablation chunks");
    }

    #[test]
    fn a_run_that_cannot_fit_is_refused_with_what_would() {
        let vgg = memory::vgg16();
        let p = memory_plan(&vgg, &example(), 4, CHUNK, CPU, &device_memory(0.25));
        assert_eq!(p.verdict, "refused");
        // At the smallest settings the 24 images' changes are still kept.
        assert_eq!(p.estimate.kept_changes, 4 * 512 * 24 * 4096 + 8 * 512 * 24 * 25);
        starts(&p.message, &format!("This run needs about {}, even", bytes(p.estimate.total())));
        says(&p.message, "more than 134 MB (half the 0.25 GB");
        says(&p.message, "the bundled EfficientNet-Lite0 has 4.6 million weights");
        says(&p.message, "the command line (alignmap analyze)");
        // Beyond the 4 GiB of wasm32: 3000 images of a megapixel.
        let many = vec![(1000, 1000); 3000];
        let p = memory_plan(&vgg, &many, 4, CHUNK, CPU, &BrowserMemory::default());
        assert_eq!(p.verdict, "refused");
        says(&p.message, "(the 4 GiB a WebAssembly module can address)");
        let fewer = regex_number(&p.message, "fewer images (about ");
        assert!(fewer > 500 && fewer < 1500, "{}", p.message);
        let e = memory_estimate(&vgg, &many[..fewer], 1, &engine(1));
        assert!(e.total() <= WASM32_MEMORY, "the images said to fit do");
        assert!(!p.message.contains("WebGPU"), "{}", p.message);
        // 700 of them: on a GPU the WebAssembly memory would hold only the images and scores.
        let p = memory_plan(&vgg, &many[..700], 4, CHUNK, CPU, &BrowserMemory::default());
        assert_eq!(p.verdict, "refused");
        says(&p.message, "WebGPU on a GPU, which keeps the network");
    }

    /// The number after `prefix` in `text`.
    fn regex_number(text: &str, prefix: &str) -> usize {
        let rest = &text[text.find(prefix).expect(prefix) + prefix.len()..];
        rest.split(' ').next().unwrap().parse().unwrap()
    }

    #[test]
    fn on_a_gpu_chunks_fit_one_storage_binding_and_the_network_is_off_the_host() {
        let gpu = Target { gpu: true, wasm32: true };
        let memory =
            BrowserMemory { max_storage_binding: Some(64.0 * 1048576.0), ..Default::default() };
        let p = memory_plan(&memory::vgg16(), &example(), 4, CHUNK, gpu, &memory);
        assert_eq!((p.verdict, p.chunk_bytes), ("fits", 64 << 20));
        assert!(p.estimate.chunk <= 64 << 20);
        assert_eq!(p.checks[0].needed, p.estimate.host());
        assert!(p.estimate.host() < p.estimate.total() - p.estimate.network);
        // Of the kept changes, only the f64 products stay in the WebAssembly memory.
        let e = &p.estimate;
        assert_eq!(e.kept_on_host, 8 * 512 * 24 * 25);
        assert_eq!(e.host(), e.images + e.feature_maps.div_ceil(2) + e.kept_on_host + e.scores);
    }

    #[test]
    fn the_vgg16_preflight_says_memory_time_storage_and_what_instead() {
        let memory = BrowserMemory { storage_free: Some(100e6), ..device_memory(8.0) };
        let p = vgg16_preflight(553_000_000, &[], CPU, &memory, Some(20.0));
        assert!(p.fits, "{}", p.message);
        assert_eq!(p.images, 24, "the small example's size when no images are added");
        let [low, high] = p.seconds.unwrap();
        assert_eq!(high, 4.0 * low);
        assert_eq!(low, 0.02 * VGG16_PER_TINY_CPU * 24.0 / 2.0);
        assert_eq!(p.storable, Some(false));
        starts(
            &p.message,
            "This computer can run VGG-16: loading it and analysing 24 images needs about 1.7 \
                 GB of the 4.3 GB the browser can give.",
        );
        says(&p.message, "on the CPU (WebAssembly, one worker per core), after the download");
        says(&p.message, "will not be kept");
        says(&p.message, "Instead: the bundled EfficientNet-Lite0 (no download, about");
        // 1 GiB of memory: loading alone does not fit; without a timing, no time is guessed.
        let p = vgg16_preflight(553_000_000, &example(), CPU, &device_memory(1.0), None);
        assert!(!p.fits);
        starts(
            &p.message,
            "This computer probably cannot run VGG-16: loading it and analysing 24 images needs about 1.7 GB, more than 537 MB",
        );
        assert!(p.seconds.is_none() && !p.message.contains("roughly"));
    }

    #[test]
    fn the_session_plan_sets_the_engines_chunk() {
        crate::web::testing::cpu_session();
        for (name, seed) in [("a.png", 1), ("b.png", 2), ("c.png", 3), ("d.png", 4)] {
            crate::web::add_image(name.into(), &crate::web::testing::png(40, 48, seed)).unwrap();
        }
        let p = plan_session(4, &BrowserMemory::default()).unwrap();
        assert_eq!(p.verdict, "fits");
        assert_eq!(chunk_bytes(), p.chunk_bytes as usize);
        let (w, h) = crate::resample::shorter_side_to(48, 40, 224);
        assert_eq!(p.estimate.images, 4 * (3 * 40 * 48 + 4 * 3 * h * w) as u64);
    }
}
