// The module worker that owns the WebAssembly module: the page never freezes, whatever the
// backend does. Messages in: { id, op, args }; out: { id, ok, result | error } and, while an
// analysis runs, { type: 'progress', stage, done, total }. Calls run one at a time, in order.
import init, * as wasm from './pkg/alignmap.js';

let queue = Promise.resolve();
let wasmExports = null;
// The WebGPU device is watched for its loss (start).
let watchingDevice = false;

const ops = {
  async start({ device = 'auto' } = {}) {
    wasmExports = await init();
    let reason = null;
    let description;
    const hasGpu = typeof navigator !== 'undefined' && 'gpu' in navigator && navigator.gpu;
    if (device === 'cpu') {
      description = await wasm.init_device('cpu');
      reason = 'the CPU backend was chosen';
    } else if (!hasGpu) {
      if (device === 'webgpu') throw new Error('this browser offers no WebGPU (navigator.gpu is missing)');
      description = await wasm.init_device('cpu');
      reason = 'this browser offers no WebGPU';
    } else if (!(await navigator.gpu.requestAdapter().catch(() => null))) {
      if (device === 'webgpu') throw new Error('this browser offers WebGPU but no adapter: no supported GPU, or WebGPU is turned off');
      description = await wasm.init_device('cpu');
      reason = 'this browser offers WebGPU but no adapter (no supported GPU, or WebGPU is turned off)';
    } else {
      try {
        description = await wasm.init_device('webgpu');
      } catch (err) {
        if (device === 'webgpu') throw err;
        description = await wasm.init_device('cpu');
        reason = `WebGPU did not start: ${err.message || err}`;
      }
    }
    const info = wasm.device_info();
    if (!info.cpu) {
      // The browser's own words for the adapter, where wgpu's are hidden (e.g. SwiftShader).
      try {
        const adapter = await navigator.gpu.requestAdapter();
        const a = adapter && (adapter.info || {});
        const words = [a.vendor, a.architecture, a.description].filter(Boolean).join(' ');
        if (words && /adapter name hidden/.test(description)) description = description.replace('adapter name hidden', words);
        if (adapter && (a.isFallbackAdapter || adapter.isFallbackAdapter)) info.software = true;
      } catch {
        // keep the library's description
      }
    }
    if (device === 'auto' && !info.cpu && info.software) {
      // A software WebGPU adapter (SwiftShader, lavapipe) is far slower than the CPU backend in
      // wasm (measured: 30× on EfficientNet-Lite0), as the command line's --device auto decides.
      const software = description.replace(/ — a software fallback.*$/, '');
      const cpu = await wasm.init_device('cpu');
      return { ...wasm.device_info(), description: cpu, reason: `the only WebGPU adapter, ${software}, is a software fallback, slower than the CPU backend`, webgpuSoftware: software };
    }
    // A lost device (a GPU reset, a driver failure, GPUDevice.destroy()) is told to the page,
    // which restarts the engine on the CPU (engine.js, run.js).
    watchingDevice = wasm.watch_device((message) => post({ type: 'device-lost', message }));
    return { ...info, description, reason };
  },

  async loadModel({ blob, name, requested }) {
    const bytes = new Uint8Array(await blob.arrayBuffer());
    return wasm.load_model(bytes, name, requested || undefined);
  },

  async npzArrays({ file }) {
    return wasm.npz_arrays(new Uint8Array(await file.arrayBuffer()), file.name);
  },

  async readMatrix({ file, key, namesFile, dissimilarity }) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const names = namesFile ? new Uint8Array(await namesFile.arrayBuffer()) : undefined;
    return wasm.read_matrix(bytes, file.name, key || undefined, names, namesFile ? namesFile.name : undefined, !!dissimilarity);
  },

  // Bytes of WebAssembly memory (it only grows: this is the peak so far).
  memory() {
    return wasmExports && wasmExports.memory ? wasmExports.memory.buffer.byteLength : 0;
  },

  clearMatrix() {
    wasm.clear_matrix();
    return null;
  },

  async addImages({ files }, post) {
    const added = [];
    const errors = [];
    for (let i = 0; i < files.length; i++) {
      const file = files[i];
      try {
        added.push(wasm.add_image(file.name, new Uint8Array(await file.arrayBuffer())));
      } catch (err) {
        errors.push({ name: file.name, message: err.message || String(err) });
      }
      post({ type: 'progress', stage: 'load', done: i + 1, total: files.length });
    }
    return { added, errors };
  },

  removeImage({ name }) {
    return wasm.remove_image(name);
  },

  clearImages() {
    wasm.clear_images();
    return null;
  },

  check() {
    return wasm.check_matching();
  },

  // With `style` (the gallery's display), each image's card is posted as { type: 'image', card }
  // as soon as its scores are final.
  async analyze({ batch = 4, style } = {}, post) {
    const onImage = style && ((card) => {
      card.picture.rgba = clamped(card.picture.rgba);
      post({ type: 'image', card }, [card.ais.buffer, card.picture.rgba.buffer]);
    });
    const summary = await wasm.analyze((stage, done, total) => post({ type: 'progress', stage, done, total }), batch, onImage, style);
    return scores({ summary });
  },

  // A pooled analysis (pool.js; src/web/pool.rs): the steps each worker runs, bytes in and out.
  poolPlan({ workers }) {
    return wasm.pool_plan(workers);
  },

  async poolExtract({ start, end, batch = 4 }, post) {
    const bytes = await wasm.pool_extract(start, end, batch, (stage, done, total) => post({ type: 'progress', stage, done, total }));
    return { result: bytes, transfer: [bytes.buffer] };
  },

  poolJoin({ parts }) {
    const bytes = wasm.pool_join(parts);
    return { result: bytes, transfer: [bytes.buffer] };
  },

  poolSetInputs({ bytes }) {
    wasm.pool_set_inputs(bytes);
    return null;
  },

  async poolScore({ start, end }, post) {
    const bytes = await wasm.pool_score(start, end, (stage, done, total) => post({ type: 'progress', stage, done, total }));
    return { result: bytes, transfer: [bytes.buffer] };
  },

  poolFinish({ shares, timings }) {
    return scores({ summary: wasm.pool_finish(shares, timings) });
  },

  // A pooled cross-validation: the primary ranks and splits the folds, every worker draws the
  // curves of its folds, the primary keeps the whole.
  poolCvPlan({ folds, seeds, workers }) {
    return wasm.pool_cv_plan(folds, new Uint32Array(seeds), workers);
  },

  async poolCvCurves({ plan }, post) {
    const bytes = await wasm.pool_cv_curves(plan, (stage, done, total) => post({ type: 'progress', stage, done, total }));
    return { result: bytes, transfer: [bytes.buffer] };
  },

  poolCvFinish({ parts }) {
    return wasm.pool_cv_finish(parts);
  },

  // Before a run: its memory estimate against what the browser tells (src/web/memory.rs); the
  // engine's chunk of the plan holds for the runs that follow.
  planRun({ memory, batch = 4 }) {
    return wasm.plan_run(memory, batch);
  },

  // Before the VGG-16 download: can this machine run it, roughly how long, what instead.
  vgg16Preflight({ download, memory }) {
    return wasm.vgg16_preflight(download, memory);
  },

  // Published results: a results zip read by the crate; afterwards the getters answer as after a run.
  async openResults({ blob, name }) {
    const opened = wasm.open_results(new Uint8Array(await blob.arrayBuffer()), name);
    return scores({ opened, summary: opened.summary });
  },

  // The crate writes the whole zip, summary.json included (with the saliency comparison and the
  // cross-validation it has kept), in the command line's format.
  exportResults({ colormap, imageWeight, maxSide = 0, overlays = true, categories = null, title = null }) {
    const bytes = wasm.results_zip(colormap, imageWeight, maxSide, overlays, categories || undefined, title || undefined);
    return { result: bytes, transfer: [bytes.buffer] };
  },

  // The comparison of two networks (src/web/compare.rs): the current analysis kept as side A, a
  // second network loaded beside the first (or the first shuffled) and run on the same cohort, or
  // a second results zip, as side B.
  compareKeep({ label }) {
    return wasm.compare_keep(label);
  },

  async compareLoadNetwork({ blob, name, requested, shuffleSeed = null }) {
    const bytes = new Uint8Array(await blob.arrayBuffer());
    return wasm.compare_load_network(bytes, name, requested || undefined, shuffleSeed === null ? undefined : shuffleSeed);
  },

  async compareAnalyze({ label, batch = 4 }, post) {
    return wasm.compare_analyze(label, (stage, done, total) => post({ type: 'progress', stage, done, total }), batch);
  },

  async compareOpenResults({ blob, name, label }) {
    return wasm.compare_open_results(new Uint8Array(await blob.arrayBuffer()), name, label);
  },

  compareReport({ a, b }) {
    return wasm.compare_report(a, b);
  },

  compareOverlay({ label, index, colormap, imageWeight, maxSide = 0 }) {
    return picture(wasm.compare_overlay(label, index, colormap, imageWeight, maxSide));
  },

  compareClear() {
    wasm.compare_clear();
    return null;
  },

  async crossValidate({ folds = 5, seeds = [] }, post) {
    return wasm.cross_validate(folds, new Uint32Array(seeds), (stage, done, total) => post({ type: 'progress', stage, done, total }));
  },

  overlay({ index, colormap, imageWeight, original, maxSide = 0 }) {
    return picture(wasm.overlay(index, colormap, imageWeight, !!original, maxSide));
  },

  colormapStrip({ colormap }) {
    const rgba = clamped(wasm.colormap_strip(colormap));
    return { result: rgba, transfer: [rgba.buffer] };
  },

  paperSeeds() {
    return Array.from(wasm.paper_seeds());
  },

  // Similarity judgments (src/web/judgments.rs, www/judge/): JSON strings in and out.
  judgmentsSchedule({ n, seed }) {
    return wasm.judgments_schedule(n, seed);
  },

  judgmentsSummarize({ request }) {
    return wasm.judgments_summarize(request);
  },

  judgmentsNextSubset({ request, size }) {
    return wasm.judgments_next_subset(request, size);
  },

  judgmentsKeepHeatmaps({ label }) {
    return wasm.judgments_keep_heatmaps(label);
  },

  judgmentsClearHeatmaps() {
    wasm.judgments_clear_heatmaps();
    return null;
  },

  judgmentsHeatmapAgreement() {
    return wasm.judgments_heatmap_agreement();
  },

  saliencyModels() {
    return wasm.saliency_models();
  },

  async importSaliency({ files }) {
    const added = [];
    const errors = [];
    for (const file of files) {
      try {
        added.push(wasm.import_saliency(file.name, new Uint8Array(await file.arrayBuffer())));
      } catch (err) {
        errors.push({ name: file.name, message: err.message || String(err) });
      }
    }
    return { added, errors };
  },

  clearSaliency() {
    wasm.clear_saliency();
    return null;
  },

  saliencyOverlay({ index, source }) {
    return picture(wasm.saliency_overlay(index, source));
  },

  saliencySummary({ source }) {
    return wasm.saliency_summary(source);
  },
};

/** The scores of the analysis just run or opened, moved (not copied) to the page. */
function scores(result) {
  const image = wasm.ais_image();
  const dataset = wasm.ais_dataset();
  const datasetR2 = wasm.ais_dataset_r2();
  return {
    result: { ...result, info: wasm.result_info(), image, dataset, datasetR2 },
    transfer: [image.buffer, dataset.buffer, datasetR2.buffer],
  };
}

/** RGBA bytes as canvas ImageData wants them. */
function clamped(bytes) {
  return new Uint8ClampedArray(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** A picture from the crate ({ width, height, rgba, … }), its pixels moved to the page. */
function picture(r) {
  r.rgba = clamped(r.rgba);
  return { result: r, transfer: [r.rgba.buffer] };
}

function post(message, transfer) {
  self.postMessage(message, transfer || []);
}

async function handle({ id, op, args }) {
  try {
    if (!ops[op]) throw new Error(`unknown operation ${op}`);
    const out = await ops[op](args || {}, post);
    const packed = out && typeof out === 'object' && 'result' in out && 'transfer' in out ? out : { result: out, transfer: [] };
    post({ id, ok: true, result: packed.result }, packed.transfer);
  } catch (err) {
    const error = (err && err.message) || String(err);
    // On WebGPU a failed read-back ("device: …") can be the first sign of a lost device, whose
    // `lost` promise settles a moment later: wait that moment, so that the page hears of the loss
    // (and restarts the engine on the CPU) rather than of a failed call.
    if (watchingDevice && /^device:/.test(error)) await new Promise((resolve) => setTimeout(resolve, 1000));
    // A trap (unreachable after a panic, out of memory) leaves the module unusable: the page
    // restarts the worker.
    post({ id, ok: false, error, fatal: err instanceof WebAssembly.RuntimeError });
  }
}

self.onmessage = (event) => {
  // A test's stand-in for a lost GPU: destroys the WebGPU device at once, even in the middle of
  // an analysis (not queued behind it).
  if (event.data && event.data.op === 'destroyDevice') {
    wasm.destroy_device();
    return;
  }
  queue = queue.then(() => handle(event.data));
};
