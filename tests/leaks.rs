//! No leaks natively (issue 15, point 4; the page's half is tests/browser/leaks.test.mjs): the
//! same analysis ten times in one process keeps the memory it holds (its live heap, counted by
//! the allocator) within 10 % of what it held after the first, and a network dropped from a wgpu device leaves no device memory behind.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use alignmap::ablation::EngineOptions;
use alignmap::burn::prelude::Device;
use alignmap::cohort::{self, Normalization};
use alignmap::model::{Network, Vgg16, Vgg16Spec};
use alignmap::pipeline::{self, Hooks, Options};
use alignmap::similarity::{self, Direction};
use alignmap::weights::{StoredDtype, TensorMap};

/// The tests of this file one at a time: the wgpu one's memory (lavapipe's is the process's)
/// must not land between two readings of the other.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The system allocator, counting the bytes this process holds allocated at any moment.
struct Counting;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call goes to the system allocator unchanged; only the count is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Resident memory of this process in bytes (VmRSS of /proc/self/status), after glibc's
/// `malloc_trim` has given free heap pages back; None off Linux. Reported beside the live heap,
/// not asserted on: glibc keeps freed blocks of its per-thread arenas for reuse, so the resident
/// size after a run moves with which rayon thread freed what (measured on one build: 34, 34, 58,
/// 34, 81, 34 … MiB while the live heap stayed at 4 MiB after every run).
fn resident_bytes() -> Option<u64> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the system.
    unsafe {
        libc::malloc_trim(0);
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib << 10)
}

/// The bundled network's weights (EfficientNet-Lite0 from the model cache) or, without the
/// cache on a user's clone, the tiny generated VGG-16 written as safetensors into `dir`.
fn weights_file(dir: &Path) -> PathBuf {
    common::efficientnet_checkpoint().unwrap_or_else(|| {
        let path = dir.join("tiny-vgg16.safetensors");
        let bytes =
            Vgg16::synthetic_weights(&Vgg16Spec::tiny(), 5).to_safetensors(StoredDtype::F32);
        std::fs::write(&path, bytes.unwrap()).unwrap();
        path
    })
}

/// One analysis as `alignmap analyze` runs it: the weights read and built into a network, the
/// 24 images decoded from their bytes, the pipeline; everything dropped before returning.
/// Returns the number of feature maps scored.
fn analysis(weights: &Path, images: &[Vec<u8>], names: &[String], human: &[f64]) -> usize {
    let device = Device::flex();
    let net = Network::from_weights(TensorMap::from_file(weights).unwrap(), None, &device).unwrap();
    let options = Options { batch: 8, engine: EngineOptions::default() };
    let run = pollster::block_on(pipeline::score_cohort(
        &net,
        &device,
        images.len(),
        &mut |i| cohort::decode(&names[i], &images[i]),
        human,
        &options,
        Hooks {
            progress: &mut |_, _, _| {},
            image: &mut |_| {},
            cancelled: &|| false,
            clock: &|| 0.0,
        },
    ))
    .unwrap();
    assert_eq!(run.scores.image.len(), names.len() * run.scores.channels);
    assert!(run.scores.baseline.r.is_finite());
    run.scores.channels
}

#[test]
fn ten_analyses_in_one_process_keep_their_live_memory_within_10_percent() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let (folder, names) = common::example_cohort(dir.path());
    assert_eq!(names.len(), 24);
    let images: Vec<Vec<u8>> =
        names.iter().map(|f| std::fs::read(folder.join(f)).unwrap()).collect();
    let rdm = Path::new(env!("CARGO_MANIFEST_DIR")).join("www/examples/kriegeskorte24/rdm.csv");
    let matrix = similarity::load_matrix(&rdm, None, None, Direction::Dissimilarity).unwrap();
    let human = pipeline::match_cohort(&matrix, &names).unwrap().similarity;
    let weights = weights_file(dir.path());

    let start = (LIVE_BYTES.load(Ordering::Relaxed), resident_bytes());
    let (mut live, mut resident) = (Vec::new(), Vec::new());
    let clock = std::time::Instant::now();
    for _ in 0..10 {
        let channels = analysis(&weights, &images, &names, &human);
        assert!(channels > 0);
        live.push(LIVE_BYTES.load(Ordering::Relaxed));
        resident.extend(resident_bytes());
    }
    let mib = |b: usize| format!("{:.1}", b as f64 / (1 << 20) as f64);
    let list = |v: &[usize]| v.iter().map(|&b| mib(b)).collect::<Vec<_>>().join(", ");
    let resident: Vec<usize> = resident.into_iter().map(|b| b as usize).collect();
    eprintln!(
        "{}: live heap {} MiB at the start, then after each analysis: {} MiB; resident {} MiB \
         at the start, then {} MiB ({:.1} s)",
        weights.display(),
        mib(start.0),
        list(&live),
        start.1.map_or("?".into(), |b| mib(b as usize)),
        list(&resident),
        clock.elapsed().as_secs_f64()
    );
    let (first, last) = (live[0], live[9]);
    assert!(
        last as f64 <= first as f64 * 1.10,
        "the live heap grew from {} MiB after the first analysis to {} MiB after the tenth",
        mib(first),
        mib(last)
    );
}

#[test]
fn a_network_dropped_from_a_wgpu_device_leaves_no_device_memory_behind() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(device) = common::wgpu_device() else { return };
    let usage = || device.memory_pool_usage().expect("the wgpu backend reports its memory");
    let images = common::blocky_inputs(2, 0, 16, Normalization::IMAGENET);
    let weights = || Vgg16::synthetic_weights(&Vgg16Spec::tiny(), 5);
    let values: usize = {
        let map = weights();
        map.keys().map(|k| map.shape(k).unwrap().iter().product::<usize>()).sum()
    };
    let weight_bytes = 4 * values as u64;
    // A network loaded, run over two images, dropped, and the device asked to give back what
    // nothing holds, as the library does when it unloads one. Returns the usage while loaded.
    let cycle = || {
        let net = Network::from_weights(weights(), None, &device).unwrap();
        let refs: Vec<_> = images.iter().collect();
        let out = net.trunk(alignmap::extract::input_batch(&refs, &device));
        let _ = out.into_data();
        let loaded = usage();
        drop(net);
        alignmap::device::release_unused(&device);
        loaded
    };
    cycle(); // compiles the kernels and sets up the pools
    let base = usage();
    eprintln!("device memory before: {base:?}");
    for k in 0..4 {
        let loaded = cycle();
        let after = usage();
        eprintln!("cycle {k}: loaded {loaded:?}, after {after:?}");
        assert!(
            loaded.bytes_in_use >= base.bytes_in_use + weight_bytes,
            "the network's {weight_bytes} bytes of weights were not on the device: {loaded:?}"
        );
        assert_eq!(after.bytes_in_use, base.bytes_in_use, "cycle {k}: bytes still in use");
        assert!(
            after.bytes_reserved <= base.bytes_reserved,
            "cycle {k}: {} bytes reserved after dropping the network, {} before",
            after.bytes_reserved,
            base.bytes_reserved
        );
    }

    // The page's worker: a network loaded, replaced by another, then the device switched to the
    // CPU, which unloads it (web::load_model and web::init_device call release_unused).
    let bytes = weights().to_safetensors(StoredDtype::F16).unwrap();
    pollster::block_on(alignmap::web::init_device("wgpu".into())).unwrap();
    alignmap::web::load_model(bytes.clone(), "tiny.safetensors".into(), None).unwrap();
    let first = usage();
    alignmap::web::load_model(bytes, "tiny.safetensors".into(), None).unwrap();
    let second = usage();
    pollster::block_on(alignmap::web::init_device("cpu".into())).unwrap();
    let unloaded = usage();
    eprintln!("page: loaded {first:?}, reloaded {second:?}, unloaded {unloaded:?}");
    assert!(first.bytes_in_use >= base.bytes_in_use + weight_bytes, "{first:?}");
    assert_eq!(second.bytes_in_use, first.bytes_in_use, "the replaced network stayed");
    assert!(second.bytes_reserved <= first.bytes_reserved, "{second:?} after {first:?}");
    assert_eq!(unloaded.bytes_in_use, base.bytes_in_use, "the unloaded network stayed");
    assert!(unloaded.bytes_reserved <= base.bytes_reserved, "{unloaded:?}");
}
