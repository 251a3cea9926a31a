// Step 3, the analysis: plans its memory (refused or adapted when the browser cannot give what
// it needs), runs it in the engine with progress per stage, or cancels it (which restarts the
// engine with the network, the matrix and the images). An engine that dies (a trap, out of
// memory) or whose WebGPU device is lost is restarted the same way: after a lost device on the
// CPU, and the analysis that was running runs again there.
import { state, timings } from './state.js';
import { el } from './dom.js';
import { call, onProgress, onImage, onLost } from './engine.js';
import { browserMemory } from './memory.js';
import { keepInputs, forgetInputs, takeInputs, restoreInputs } from './interrupted.js';
import { show, showError, seconds } from './util.js';
import { updateRunButton } from './checks.js';
import { restoreWorker } from './network.js';
import { renderResults } from './results.js';
import { streamImage, endStream, thumbnailStyle } from './gallery.js';
import { poolSize, runPooled, stopPool } from './pool.js';

const STAGE_UNITS = { decode: 'images', network: 'images', ablation: 'images' };
// Images through the network at once; 1 after the visitor asks for less memory.
let batch = 4;
// Said with the run's progress after the GPU was lost and the analysis went on on the CPU.
let statusNote = '';
// Set in this tab's session storage while an analysis runs, so that the page opened by a reload
// can say what was lost: { images, kept } (kept: null, or why the inputs were not kept).
const RUNNING_KEY = 'alignmap-running';
// What the session storage said at start-up: an analysis the reload interrupted, or null.
let interrupted = null;

function remember(run) {
  try {
    if (run) sessionStorage.setItem(RUNNING_KEY, JSON.stringify(run));
    else sessionStorage.removeItem(RUNNING_KEY);
  } catch {
    // no session storage (a sandboxed frame): nothing to say after a reload
  }
}

function resetStages() {
  for (const li of el.stages.querySelectorAll('li')) {
    li.dataset.status = 'waiting';
    li.querySelector('progress').value = 0;
    li.querySelector('.stage-text').textContent = 'waiting';
  }
}

export async function analyze() {
  if (state.running) return;
  // runOnce answers true when the engine restarted on the CPU after a lost GPU: run again there.
  while (await runOnce());
  statusNote = '';
}

/**
 * The engine's memory plan for this run (src/web/memory.rs): its estimate against what the
 * browser tells. Refused: says why and what to choose instead, and answers null. Adapted: says
 * so, and the run goes ahead with the plan's images per pass (the engine keeps its chunk).
 */
async function planMemory() {
  const plan = await call('planRun', { memory: await browserMemory(), batch });
  el.runMemory.hidden = !plan.message;
  el.runMemory.textContent = plan.verdict === 'refused' ? '' : plan.message;
  el.runMemory.dataset.verdict = plan.verdict;
  if (plan.verdict !== 'refused') return plan;
  el.runMemory.hidden = true;
  el.stages.hidden = true;
  show(el.runStatus, 'Not started: this analysis needs more memory than this browser can give.', 'error');
  showError(el.runError, plan.message);
  if (state.results) el.results.hidden = false;
  return null;
}

async function runOnce() {
  state.running = true;
  remember({ images: state.images.size, kept: 'the page was reloaded before they were stored' });
  updateRunButton();
  showError(el.runError, '');
  el.runRecover.hidden = true;
  el.results.hidden = true;
  el.stages.hidden = false;
  el.cancel.hidden = false;
  resetStages();
  const started = {};
  const t0 = performance.now();
  delete timings.firstHeatmapMs;
  delete timings.allHeatmapsMs;
  delete timings.networkDoneMs;
  show(el.runStatus, `${statusNote}Running…`, 'running');
  const report = (m) => {
    const li = el.stages.querySelector(`li[data-stage="${m.stage}"]`);
    if (!li) return;
    const now = performance.now();
    for (const other of el.stages.querySelectorAll('li')) {
      if (other === li) break;
      if (other.dataset.status !== 'done') {
        other.dataset.status = 'done';
        other.querySelector('progress').value = other.querySelector('progress').max;
        other.querySelector('.stage-text').textContent = 'done';
      }
    }
    if (!(m.stage in started)) started[m.stage] = now;
    if (m.stage === 'network' && m.done >= m.total && timings.networkDoneMs === undefined) timings.networkDoneMs = now - t0;
    const elapsed = now - started[m.stage];
    const bar = li.querySelector('progress');
    bar.max = Math.max(1, m.total);
    bar.value = m.done;
    li.dataset.status = m.done >= m.total ? 'done' : 'running';
    let text = `${m.done} of ${m.total} ${STAGE_UNITS[m.stage]} · ${seconds(elapsed)}`;
    if (m.done > 0 && m.done < m.total) text += ` · about ${seconds((elapsed / m.done) * (m.total - m.done))} left`;
    li.querySelector('.stage-text').textContent = text;
    show(el.runStatus, `${statusNote}Running: ${li.querySelector('.stage-name').textContent.toLowerCase()}… (${seconds(now - t0)} so far)`, 'running');
  };
  onProgress(report);
  let again = false;
  try {
    // The inputs are kept in this browser while the run lasts, for a reload in its middle.
    remember({ images: state.images.size, kept: await keepInputs() });
    // The engine was lost meanwhile: its restart says what happened.
    if (restarting) return (again = await restarting);
    const plan = await planMemory();
    if (!plan) return false;
    // One worker streams each image's heatmap as it is scored; a pool (pool.js) shows them at
    // the end.
    const workers = poolSize(plan);
    onImage((card) => streamImage(card, t0));
    const r = workers > 1
      ? await runPooled(workers, plan.batch, report)
      : await call('analyze', { batch: plan.batch, style: thumbnailStyle() });
    timings.analysisMs = performance.now() - t0;
    timings.workers = workers;
    endStream(true);
    state.results = { ...r, names: r.info.names, n: r.info.n, channels: r.info.channels, origin: state.cohortOrigin || { kind: 'run' }, pooled: workers > 1 };
    for (const li of el.stages.querySelectorAll('li')) {
      li.dataset.status = 'done';
      li.querySelector('progress').value = li.querySelector('progress').max;
    }
    show(el.runStatus, `${statusNote}Done in ${seconds(timings.analysisMs)}${workers > 1 ? ` on ${workers} workers` : ''}.`, 'done');
    el.cvResults.hidden = true;
    show(el.cvStatus, '');
    await renderResults(t0);
  } catch (err) {
    if (err.message === 'cancelled') return false;
    if (err.poolLost) {
      // The engine itself is fine: the next run uses it alone.
      stopPool();
      el.workers.value = '1';
      show(el.runStatus, 'The analysis stopped.', 'error');
      showError(el.runError, `${err.message[0].toUpperCase()}${err.message.slice(1)}. Your images, similarity matrix and network are kept; ` +
        'the analysis now uses one worker: run it again.');
      return false;
    }
    if (err.lost) {
      // engine.js told recover() already; wait for the restart it is making.
      again = await recover(err);
      return again;
    }
    show(el.runStatus, 'The analysis failed.', 'error');
    showError(el.runError, err.message);
  } finally {
    endStream(false);
    onImage(() => {});
    state.running = false;
    remember(null);
    forgetInputs();
    el.cancel.hidden = true;
    updateRunButton();
  }
  return again;
}

// The restart of a lost engine in progress, which every caller that lost it waits for.
let restarting = null;

/** Restarts a lost engine once (see `restart`); answers whether to run the analysis again. */
function recover(info) {
  if (!restarting) restarting = restart(info).finally(() => { restarting = null; });
  return restarting;
}

/**
 * The engine is gone (engine.js): say so, keep what the page holds (the images, the matrix and
 * the network go back into a fresh engine; the results of an earlier run stay on screen). A lost
 * WebGPU device: the engine restarts on the CPU and an analysis that was running runs again
 * there (answers true). A crash in the middle of a run (a trap, out of memory): offer to run
 * again with less memory.
 */
async function restart({ message, deviceLost }) {
  // The pool's other workers hold a share of the lost engine's run.
  stopPool();
  // An engine that never started has nothing to restore: startDevice says what happened.
  if (!state.device) return false;
  if (deviceLost) return gpuLost(message);
  if (!state.running) {
    // Nothing was running: restart quietly, as after a cancel.
    try {
      await restoreWorker();
    } catch (err) {
      showError(el.runError, `The analysis engine stopped (${message}) and did not restart: ${err.message}. Reload the page.`);
    }
    return false;
  }
  show(el.runStatus, 'The analysis stopped: the analysis engine crashed. Restarting it…', 'error');
  const words = /unreachable|memory|alloc|out of bounds/i.test(message) ? ', most often because it ran out of memory' : '';
  const cpu = !!state.device?.cpu;
  const again = cpu && batch === 1 ? 'Run it again.' : `Run again${cpu ? '' : ' on the CPU'}${cpu || batch === 1 ? '' : ' or'}${batch === 1 ? '' : ' one image at a time'} (less memory).`;
  showError(el.runError, `The analysis engine crashed in the middle of the analysis${words} (${message}). ` +
    `Your images, similarity matrix and network are kept. ${again}`);
  for (const li of el.stages.querySelectorAll('li[data-status="running"], li[data-status="waiting"]')) {
    li.dataset.status = 'waiting';
    li.querySelector('.stage-text').textContent = 'stopped';
  }
  if (state.results) el.results.hidden = false;
  try {
    await restoreWorker();
  } catch (err) {
    showError(el.runError, `The analysis engine crashed (${message}) and did not restart: ${err.message}. ` +
      'Reload the page; the images and the matrix will have to be added again.');
    return false;
  }
  show(el.runStatus, 'Stopped. The engine has restarted; nothing you added was lost.', 'error');
  el.runAgainCpu.hidden = cpu;
  el.runAgainSmaller.hidden = batch === 1;
  el.runRecover.hidden = false;
  return false;
}

/**
 * The WebGPU device was lost (the GPU was reset or removed, or its driver failed): the engine
 * restarts on the CPU backend with the network, the matrix and the images; an analysis that was
 * running runs again there from its start (answers true).
 */
async function gpuLost(message) {
  const running = state.running;
  state.deviceChoice = 'cpu';
  const words = `The GPU stopped working in the middle of ${running ? 'the analysis' : 'its work'} (WebGPU lost the device: ${message}). `;
  show(el.runStatus, `${words}Switching to the CPU…`, 'error');
  try {
    await restoreWorker();
  } catch (err) {
    showError(el.runError, `${words}The engine did not restart on the CPU: ${err.message}. Reload the page.`);
    return false;
  }
  el.deviceWarning.textContent = `${words}The page now computes on the CPU (WebAssembly), which is slower; ` +
    'your network, images, matrix and results were kept. Choose WebGPU under “Compute on” to try the GPU again.';
  el.deviceWarning.hidden = false;
  show(el.runStatus, running ? `${words}The analysis starts again on the CPU; nothing you added was lost.`
    : `${words}The engine restarted on the CPU; nothing you added was lost.`, running ? 'running' : 'cancelled');
  if (state.results) el.results.hidden = false;
  if (running) statusNote = 'The GPU was lost, so this analysis runs again on the CPU. ';
  return running;
}

/**
 * After a reload in the middle of an analysis (wireRun read the session storage): puts its
 * inputs back from this browser's storage (interrupted.js) and runs it again, or says what was
 * lost and why. Called once the engine and the bundled network are ready.
 */
export async function resumeInterrupted() {
  if (!interrupted) return;
  const run = interrupted;
  interrupted = null;
  const lost = `The page was reloaded while an analysis of ${run.images} images was running: that run and its progress were lost.`;
  const again = 'Downloaded networks stay in this browser\'s storage, and similarity judgments collected here are kept.';
  const record = run.kept ? null : await takeInputs();
  if (!record) {
    show(el.runStatus, `${lost} Its images and matrix could not be kept in this browser (${run.kept || 'they were not found'}): ` +
      `add them again and run. ${again}`, 'cancelled');
    return;
  }
  show(el.runStatus, `${lost} Its images, similarity matrix and network were kept in this browser while it ran: ` +
    'putting them back and starting it again…', 'running');
  try {
    await restoreInputs(record);
  } catch (err) {
    show(el.runStatus, `${lost} Its inputs could not be put back (${err.message}): add them again and run. ${again}`, 'cancelled');
    return;
  }
  if (!state.check || !state.check.ok) {
    show(el.runStatus, `${lost} Its inputs are back, but they do not fit together now: see “Before running”.`, 'cancelled');
    return;
  }
  statusNote = 'The page was reloaded in the middle of this analysis: it runs again with the same images, matrix and network. ';
  await analyze();
}

async function runAgainOnCpu() {
  state.deviceChoice = 'cpu';
  el.deviceChoice.value = 'cpu';
  el.runRecover.hidden = true;
  try {
    await restoreWorker();
  } catch (err) {
    showError(el.runError, `The engine did not start on the CPU: ${err.message}. Reload the page.`);
    return;
  }
  await analyze();
}

export async function cancel() {
  if (!state.running) return;
  state.running = false;
  stopPool();
  el.cancel.hidden = true;
  show(el.runStatus, 'Cancelled. Restarting the engine…', 'cancelled');
  try {
    await restoreWorker();
    show(el.runStatus, 'Cancelled.', 'cancelled');
  } catch (err) {
    showError(el.runError, `The engine did not restart: ${err.message}. Reload the page.`);
  }
  updateRunButton();
}

export function wireRun() {
  try {
    interrupted = sessionStorage.getItem(RUNNING_KEY);
  } catch {
    // no session storage
  }
  if (interrupted) {
    remember(null);
    try {
      interrupted = JSON.parse(interrupted);
    } catch {
      interrupted = { images: '?', kept: 'they were not recorded' };
    }
    show(el.runStatus, `The page was reloaded while an analysis of ${interrupted.images} images was running: that run and its progress were lost.`, 'cancelled');
  }
  // ?workers=1 (or 2, 4) in the address sets the pool's size, as the menu does.
  const workers = new URLSearchParams(location.search).get('workers');
  if (workers && Array.from(el.workers.options).some((o) => o.value === workers)) el.workers.value = workers;
  onLost(recover);
  el.analyze.addEventListener('click', analyze);
  el.cancel.addEventListener('click', cancel);
  el.runAgainCpu.addEventListener('click', runAgainOnCpu);
  el.runAgainSmaller.addEventListener('click', () => {
    batch = 1;
    analyze();
  });
}
