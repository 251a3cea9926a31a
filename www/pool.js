// A pool of workers for the analysis on the CPU (issue 17.2): wasm threads would need a rebuilt
// standard library, so each worker is its own WebAssembly instance with the same network, matrix
// and images. The engine (src/web/pool.rs) says how to split the work; every worker runs the
// network over its images, the engine's worker joins the parts and hands the cohort's ablation
// inputs to the others, every worker scores its feature maps, and the engine's worker merges the
// shares and keeps the analysis. This module only moves the bytes between them. The other
// workers stay while the inputs stay the same, and are ended when they change.
import { state } from './state.js';
import { el } from './dom.js';
import { call, onProgress, startHelper } from './engine.js';
import { sortedNames } from './cohort.js';

// The other workers are state.pool ({ worker, call, stop } each), for the tests too; what they
// were given, to compare with what the engine holds now; who hears their progress (worker
// number from 1, message).
let given = null;
let heard = () => {};

/** The inputs the workers must share, by identity: a new file or network restarts them. */
function inputs() {
  const m = state.matrix;
  const names = sortedNames();
  return [state.model?.blob, state.model?.requested, m?.file, m?.key, m?.namesFile, m?.dissimilarity, names.join('\n'),
    ...names.map((n) => state.images.get(n))];
}

// Each worker holds its own module, network and images, so their number is capped (measured
// here on two cores only).
const MOST_WORKERS = 8;

/**
 * How many workers the next analysis uses: the visitor's choice (#workers), or as many as the
 * browser has cores (at most eight); at most as many as the memory plan holds (`plan.workers`).
 * One on WebGPU, whose work is on the GPU already.
 */
export function poolSize(plan) {
  if (!state.device || !state.device.cpu) return 1;
  const choice = el.workers.value;
  const wanted = choice === 'auto' ? Math.min(navigator.hardwareConcurrency || 1, MOST_WORKERS) : Number(choice);
  return Math.max(1, Math.min(wanted, plan.workers || 1));
}

export function stopPool() {
  for (const h of state.pool) h.stop();
  state.pool = [];
  given = null;
}

function sameInputs(now = inputs()) {
  return !!given && now.length === given.length && now.every((v, i) => v === given[i]);
}

/** `count` other workers with the session's network, matrix and images on the CPU. */
async function ensureHelpers(count) {
  const now = inputs();
  if (!sameInputs(now) || state.pool.length !== count) stopPool();
  const fresh = [];
  while (state.pool.length + fresh.length < count) {
    const j = state.pool.length + fresh.length + 1;
    fresh.push(startHelper((m) => heard(j, m)));
  }
  const m = state.matrix;
  try {
    await Promise.all(fresh.map(async (h) => {
      await h.call('start', { device: 'cpu' });
      await h.call('loadModel', { blob: state.model.blob, name: state.model.name, requested: state.model.requested });
      await h.call('readMatrix', { file: m.file, key: m.key, namesFile: m.namesFile, dissimilarity: m.dissimilarity });
      await h.call('addImages', { files: sortedNames().map((n) => state.images.get(n)) });
    }));
  } catch (err) {
    for (const h of fresh) h.stop();
    throw Object.assign(new Error(`a worker of the pool did not start (${err.message})`), { poolLost: true });
  }
  state.pool.push(...fresh);
  given = now;
  return state.pool;
}

/**
 * The analysis on `size` workers, `batch` images per forward pass; `report(m)` hears the
 * progress of the whole as the engine's single worker reports it ({ stage, done, total }: the
 * images through the network summed over the workers, the ablation as far as the slowest).
 * Resolves to what `call('analyze')` resolves to.
 */
export async function runPooled(size, batch, report) {
  const latest = new Map();
  let count = size;
  const progress = (worker, m) => {
    latest.set(`${worker} ${m.stage}`, m);
    const of = Array.from(latest.entries()).filter(([k]) => k.endsWith(` ${m.stage}`)).map(([, v]) => v);
    const sum = (f) => of.reduce((s, v) => s + f(v), 0);
    report(m.stage === 'ablation'
      ? { stage: m.stage, done: of.length < count ? 0 : Math.min(...of.map((v) => v.done)), total: m.total }
      : { stage: m.stage, done: sum((v) => v.done), total: sum((v) => v.total) });
  };
  onProgress((m) => progress(0, m));
  heard = progress;
  const t0 = performance.now();
  const plan = await call('poolPlan', { workers: size });
  count = plan.images.length;
  const workers = [{ call }, ...(await ensureHelpers(plan.images.length - 1))];
  const started = performance.now();
  const parts = await Promise.all(workers.map((w, j) => w.call('poolExtract', { start: plan.images[j][0], end: plan.images[j][1], batch })));
  const network = performance.now();
  const inputs = await call('poolJoin', { parts });
  await Promise.all(workers.slice(1).map((w) => w.call('poolSetInputs', { bytes: inputs })));
  const shares = await Promise.all(workers.map((w, j) => w.call('poolScore', { start: plan.channels[j][0], end: plan.channels[j][1] })));
  const done = performance.now();
  const timings = {
    workers_start_seconds: (started - t0) / 1000,
    network_seconds: (network - started) / 1000,
    ablation_seconds: (done - network) / 1000,
    total_seconds: (done - t0) / 1000,
  };
  return call('poolFinish', { shares, timings });
}

/** Whether the workers of the pool still hold the ablation inputs of `results`, a pooled run's. */
export function poolHolds(results) {
  return !!results?.pooled && state.pool.length > 0 && sameInputs();
}

/**
 * Cross-validation shared by folds between the engine's worker and the pool's (`poolHolds`):
 * the engine ranks every fold's feature maps and keeps the whole, each worker draws the curves
 * of its folds. `report(m)` hears { stage: 'folds', done, total } summed over the workers.
 * Resolves to what `call('crossValidate')` resolves to, the same numbers.
 */
export async function crossValidatePooled(folds, seeds, report) {
  const workers = [{ call }, ...state.pool];
  const plans = await call('poolCvPlan', { folds, seeds, workers: workers.length });
  const done = plans.map(() => 0);
  const progress = (j, m) => {
    if (m.stage !== 'folds') return;
    done[j] = m.done;
    report({ stage: 'folds', done: done.reduce((a, b) => a + b, 0), total: folds * seeds.length });
  };
  onProgress((m) => progress(0, m));
  heard = progress;
  const parts = await Promise.all(plans.map((plan, j) => workers[j].call('poolCvCurves', { plan })));
  return call('poolCvFinish', { parts });
}
