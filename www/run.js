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
  updateRunButton();
  showError(el.runError, '');
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
    const r = await call('analyze', { batch: 4 });
    timings.analysisMs = performance.now() - t0;
    state.results = { ...r, names: r.info.names, n: r.info.n, channels: r.info.channels, origin: state.cohortOrigin || { kind: 'run' } };
    for (const li of el.stages.querySelectorAll('li')) {
      li.dataset.status = 'done';
      li.querySelector('progress').value = li.querySelector('progress').max;
    }
    show(el.runStatus, `Done in ${seconds(timings.analysisMs)}.`, 'done');
    state.saliency = null;
    state.crossValidation = null;
    el.cvResults.hidden = true;
    show(el.cvStatus, '');
    await renderResults(t0);
  } catch (err) {
    if (err.message === 'cancelled') return;
    show(el.runStatus, 'The analysis failed.', 'error');
    showError(el.runError, err.message);
  } finally {
    state.running = false;
    el.cancel.hidden = true;
    updateRunButton();
  }
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
  el.analyze.addEventListener('click', analyze);
  el.cancel.addEventListener('click', cancel);
}
