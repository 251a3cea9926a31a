// What the browser tells about memory, for the engine's plans (src/web/memory.rs): before a run
// (run.js) and before the VGG-16 download (network.js). Chromium and Edge tell
// navigator.deviceMemory (GiB, rounded down to a power of two, at most 8) and
// performance.memory.jsHeapSizeLimit; Firefox and Safari tell neither, and then only the 4 GiB a
// WebAssembly module can address bounds the plan. The WebGPU device's limits are read in the
// worker.

/** `{ deviceMemoryGib, jsHeapLimit, storageFree }`, each undefined where the browser is silent. */
export async function browserMemory({ storage = false } = {}) {
  const out = {};
  if (typeof navigator !== 'undefined' && Number.isFinite(navigator.deviceMemory)) out.deviceMemoryGib = navigator.deviceMemory;
  const heap = typeof performance !== 'undefined' && performance.memory && performance.memory.jsHeapSizeLimit;
  if (Number.isFinite(heap)) out.jsHeapLimit = heap;
  if (storage && navigator.storage && navigator.storage.estimate) {
    try {
      const { quota, usage } = await navigator.storage.estimate();
      if (Number.isFinite(quota)) out.storageFree = Math.max(0, quota - (usage || 0));
    } catch {
      // no storage estimate (an opaque origin)
    }
  }
  return out;
}
