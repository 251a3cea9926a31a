// Step 3, the analysis: runs it in the engine with progress per stage, or cancels it (which
// restarts the engine with the network, the matrix and the images).
import { state, timings } from './state.js';
import { el } from './dom.js';
import { call, onProgress } from './engine.js';
import { show, showError, seconds } from './util.js';
import { updateRunButton } from './checks.js';
import { restoreWorker } from './network.js';
import { renderResults } from './results.js';

const STAGE_UNITS = { decode: 'images', network: 'images', ablation: 'feature maps' };
// Images through the network at once; 1 after the visitor asks for less memory.
let batch = 4;
// Set in this tab's session storage while an analysis runs, so that the page opened by a reload
// can say what was lost.
const RUNNING_KEY = 'alignmap-running';

function remember(images) {
  try {
    if (images) sessionStorage.setItem(RUNNING_KEY, String(images));
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
  state.running = true;
  remember(state.images.size);
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
  show(el.runStatus, 'Running…', 'running');
  onProgress((m) => {
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
    const elapsed = now - started[m.stage];
    const bar = li.querySelector('progress');
    bar.max = Math.max(1, m.total);
    bar.value = m.done;
    li.dataset.status = m.done >= m.total ? 'done' : 'running';
    let text = `${m.done} of ${m.total} ${STAGE_UNITS[m.stage]} · ${seconds(elapsed)}`;
    if (m.done > 0 && m.done < m.total) text += ` · about ${seconds((elapsed / m.done) * (m.total - m.done))} left`;
    li.querySelector('.stage-text').textContent = text;
    show(el.runStatus, `Running: ${li.querySelector('.stage-name').textContent.toLowerCase()}… (${seconds(now - t0)} so far)`, 'running');
  });
  try {
    const r = await call('analyze', { batch });
    timings.analysisMs = performance.now() - t0;
    state.results = { ...r, names: r.info.names, n: r.info.n, channels: r.info.channels, origin: state.cohortOrigin || { kind: 'run' } };
    for (const li of el.stages.querySelectorAll('li')) {
      li.dataset.status = 'done';
      li.querySelector('progress').value = li.querySelector('progress').max;
    }
    show(el.runStatus, `Done in ${seconds(timings.analysisMs)}.`, 'done');
    el.cvResults.hidden = true;
    show(el.cvStatus, '');
    await renderResults(t0);
  } catch (err) {
    if (err.message === 'cancelled') return;
    if (err.lost) {
      await engineLost(err.message);
      return;
    }
    show(el.runStatus, 'The analysis failed.', 'error');
    showError(el.runError, err.message);
  } finally {
    state.running = false;
    remember(0);
    el.cancel.hidden = true;
    updateRunButton();
  }
}

/**
 * The engine died in the middle of a run (a trap, out of memory): say so, keep what the page
 * holds (the images, the matrix and the network go back into a fresh engine; the results of an
 * earlier run stay on screen) and offer to run again with less memory.
 */
async function engineLost(message) {
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
    return;
  }
  show(el.runStatus, 'Stopped. The engine has restarted; nothing you added was lost.', 'error');
  el.runAgainCpu.hidden = cpu;
  el.runAgainSmaller.hidden = batch === 1;
  el.runRecover.hidden = false;
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
  let interrupted = null;
  try {
    interrupted = sessionStorage.getItem(RUNNING_KEY);
  } catch {
    // no session storage
  }
  if (interrupted) {
    remember(0);
    show(el.runStatus, `The page was reloaded while an analysis of ${interrupted} images was running: that run and its progress were lost. ` +
      'This page does not keep image and matrix files across a reload: add them again and run. ' +
      'Downloaded networks stay in this browser\'s storage, and similarity judgments collected here are kept.', 'cancelled');
  }
  el.analyze.addEventListener('click', analyze);
  el.cancel.addEventListener('click', cancel);
  el.runAgainCpu.addEventListener('click', runAgainOnCpu);
  el.runAgainSmaller.addEventListener('click', () => {
    batch = 1;
    analyze();
  });
}
