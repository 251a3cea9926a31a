// The analysis engine: the WebAssembly module lives in a module worker (worker.js), so the page
// never freezes. call(op, args) asks it for something and resolves to its answer; its progress
// messages go to the one listener set by onProgress (the task running), the images an analysis
// scores to the one set by onImage. The pool's other workers (pool.js) are started with
// startHelper: each its own worker and module, asked the same way.
import { state } from './state.js';

let nextId = 1;
let engine = null;
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

/**
 * A worker running worker.js, and the calls waiting for its answers: `call(op, args)`, and
 * `refuse(error)` for every call still waiting and every later one. Its progress messages go to `progress`, the
 * images it scores to `image`, and `lost(message, { deviceLost })` hears that it is gone (a
 * trap, an uncaught error, a lost WebGPU device).
 */
function connect(worker, { progress, image, lost }) {
  const pending = new Map();
  worker.onmessage = (event) => {
    const m = event.data;
    if (m && m.type === 'progress') return progress(m);
    if (m && m.type === 'image') return image(m.card);
    if (m && m.type === 'device-lost') return lost(m.message, { deviceLost: true });
    if (m.fatal) return lost(m.error, { deviceLost: false });
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(m.error));
  };
  worker.onerror = (event) => {
    event.preventDefault();
    lost(event.message || 'the worker failed to start (does this browser support module workers?)', { deviceLost: false });
  };
  let refused = null;
  return {
    worker,
    call(op, args = {}) {
      // A worker that is gone answers nothing: every later call is refused at once.
      if (refused) return Promise.reject(refused);
      return new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, op, args });
      });
    },
    refuse(error) {
      refused = error;
      for (const p of pending.values()) p.reject(error);
      pending.clear();
    },
  };
}

function newWorker() {
  return new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
}

export function startWorker() {
  const worker = newWorker();
  engine = connect(worker, {
    progress: (m) => progressListener(m),
    image: (card) => imageListener(card),
    lost: (message, how) => {
      if (state.worker === worker) lose(message, how);
    },
  });
  state.worker = worker;
  return worker;
}

export function call(op, args = {}) {
  if (!state.worker || !engine) return Promise.reject(Object.assign(new Error('the analysis engine is not running'), { lost: true }));
  return engine.call(op, args);
}

export function stopWorker() {
  if (state.worker) state.worker.terminate();
  engine?.refuse(new Error('cancelled'));
  engine = null;
  state.worker = null;
}

/**
 * Another worker of the pool: `{ worker, call, stop }`, its progress to `progress(m)`. When it is gone
 * its waiting calls are refused with `poolLost` set (the engine itself is fine).
 */
export function startHelper(progress) {
  const worker = newWorker();
  let helper = null;
  helper = connect(worker, {
    progress,
    image: () => {},
    lost: (message, { deviceLost }) => {
      worker.terminate();
      helper.refuse(Object.assign(new Error(`a worker of the pool stopped (${message})`), { poolLost: true, deviceLost }));
    },
  });
  return {
    worker,
    call: helper.call,
    stop() {
      worker.terminate();
      helper.refuse(new Error('cancelled'));
    },
  };
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
  engine?.refuse(Object.assign(new Error(message), { lost: true, deviceLost }));
  engine = null;
  lostListener({ message, deviceLost });
}
