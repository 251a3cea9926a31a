// The analysis engine: the WebAssembly module lives in a module worker (worker.js), so the page
// never freezes. call(op, args) asks it for something and resolves to its answer; its progress
// messages go to the one listener set by onProgress (the task running), the images an analysis
// scores to the one set by onImage.
import { state } from './state.js';

let nextId = 1;
const pending = new Map();
let progressListener = () => {};
let imageListener = () => {};
let lostListener = () => {};

export function onProgress(listener) {
  progressListener = listener;
}

/** `listener(card)` hears each image of a running analysis as soon as it is scored (run.js). */
export function onImage(listener) {
  imageListener = listener;
}

/**
 * `listener({ message, deviceLost })` hears that the engine is gone (see `lose`), after every
 * call waiting for it was refused; it restarts the engine (run.js).
 */
export function onLost(listener) {
  lostListener = listener;
}

export function startWorker() {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = (event) => {
    const m = event.data;
    if (m && m.type === 'progress') {
      progressListener(m);
      return;
    }
    if (m && m.type === 'image') {
      imageListener(m.card);
      return;
    }
    if (m && m.type === 'device-lost') {
      if (state.worker === worker) lose(m.message, { deviceLost: true });
      return;
    }
    if (m.fatal) {
      if (state.worker === worker) lose(m.error);
      return;
    }
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(m.error));
  };
  worker.onerror = (event) => {
    event.preventDefault();
    if (state.worker === worker) lose(event.message || 'the worker failed to start (does this browser support module workers?)');
  };
  state.worker = worker;
  return worker;
}

export function call(op, args = {}) {
  const worker = state.worker;
  if (!worker) return Promise.reject(Object.assign(new Error('the analysis engine is not running'), { lost: true }));
  return new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, op, args });
  });
}

export function stopWorker() {
  if (state.worker) state.worker.terminate();
  for (const p of pending.values()) p.reject(new Error('cancelled'));
  pending.clear();
  state.worker = null;
}

/**
 * The engine is gone: a trap in the WebAssembly module (out of memory, a panic), after which the
 * module is unusable, an uncaught error in the worker, or a lost WebGPU device (`deviceLost`:
 * the GPU was reset or removed, or its driver failed; the worker says so). The worker is ended,
 * every call waiting is refused with `lost` (and `deviceLost`) set, and the listener of `onLost`
 * restarts the engine (run.js).
 */
function lose(message, { deviceLost = false } = {}) {
  if (state.worker) state.worker.terminate();
  state.worker = null;
  for (const p of pending.values()) p.reject(Object.assign(new Error(message), { lost: true, deviceLost }));
  pending.clear();
  lostListener({ message, deviceLost });
}
