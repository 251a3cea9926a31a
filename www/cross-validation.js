// Cross-validation on request (step 4, the paper's Aim 1): feature selection by dataset AIS on
// the training folds, Full against Retained on the test images; or the one an opened results zip
// holds (summary.json's cross_validation, as the export writes it).
import { state } from './state.js';
import { el } from './dom.js';
import { call, onProgress } from './engine.js';
import { lines } from './charts.js';
import { show, showError, fmt, seconds, definitions } from './util.js';
import { updateRunButton } from './checks.js';
import { restoreWorker } from './network.js';
import { crossValidatePooled, poolHolds, stopPool } from './pool.js';


function meanCurve(folds, key) {
  const length = folds[0][key].length;
  const out = new Float64Array(length);
  for (let m = 0; m < length; m++) {
    let sum = 0;
    let count = 0;
    for (const f of folds) {
      const r = f[key][m];
      if (Number.isFinite(r)) { sum += r * r; count++; }
    }
    out[m] = count ? sum / count : NaN;
  }
  return out;
}

async function crossValidate() {
  if (!state.results || state.running) return;
  const folds = Number(el.cvFolds.value);
  // The authors' shuffle seeds, as the crate lists them.
  const seeds = (await call('paperSeeds')).slice(0, Number(el.cvSeeds.value));
  state.running = true;
  updateRunButton();
  el.cvRun.disabled = true;
  el.cvCancel.hidden = false;
  el.cvProgress.hidden = false;
  const bar = el.cvProgress.querySelector('progress');
  const t0 = performance.now();
  // The workers of a pooled analysis share the folds.
  const workers = poolHolds(state.results) ? 1 + state.pool.length : 1;
  show(el.cvStatus, `Cross-validating: ${folds} folds × ${seeds.length} shuffle(s)${workers > 1 ? ` on ${workers} workers` : ''}…`);
  const report = (m) => {
    if (m.stage !== 'folds') return;
    bar.max = Math.max(1, m.total);
    bar.value = m.done;
    const elapsed = performance.now() - t0;
    el.cvText.textContent = `${m.done} of ${m.total} folds · ${seconds(elapsed)}` +
      (m.done > 0 && m.done < m.total ? ` · about ${seconds((elapsed / m.done) * (m.total - m.done))} left` : '');
  };
  onProgress(report);
  try {
    const cv = workers > 1 ? await crossValidatePooled(folds, seeds, report) : await call('crossValidate', { folds, seeds });
    showCrossValidation(cv);
    show(el.cvStatus, `Done in ${seconds(performance.now() - t0)}${workers > 1 ? ` on ${workers} workers` : ''}.`, 'done');
  } catch (err) {
    if (err.poolLost) {
      // The analysis stays with the engine's worker: the next cross-validation runs there.
      stopPool();
      show(el.cvStatus, `Cross-validation stopped: ${err.message}. The analysis is kept; run the cross-validation again (on one worker).`, 'error');
    } else if (err.message !== 'cancelled') show(el.cvStatus, `Cross-validation failed: ${err.message}`, 'error');
  } finally {
    state.running = false;
    el.cvRun.disabled = false;
    el.cvCancel.hidden = true;
    el.cvProgress.hidden = true;
    updateRunButton();
  }
}

/**
 * The summary and curves of a cross-validation: run here, or held by an opened results zip. `cv`
 * is summary.json's cross_validation, as the crate writes it (the statistics of `alignmap
 * validate`).
 */
export function showCrossValidation(cv) {
  const add = definitions(el.cvSummary);
  const r2 = cv.r2;
  const test = r2.paired_t_test_retained_vs_full || { undefined: 'not recorded' };
  const p = (x) => (Number.isFinite(x) ? x.toExponential(2) : '—');
  add('Test r², all feature maps (Full)', `${fmt(r2.full.mean)} ± ${fmt(r2.full.sd)} (mean ± sd over ${r2.full.per_fold.length} folds)`);
  add('Test r², S* kept (Retained)', `${fmt(r2.retained.mean)} ± ${fmt(r2.retained.sd)}`);
  add('|S*|', `${cv.set_size.mean.toFixed(1)} ± ${cv.set_size.sd.toFixed(1)} of ${state.results.channels} feature maps`);
  add('Retained vs Full', test.undefined ? `no t-test: ${test.undefined}`
    : `paired t(${test.df}) = ${test.t.toFixed(3)}, p = ${p(test.p_two_sided)} two-sided, ${p(test.p_greater)} one-sided (Retained > Full)`);
  const curves = cv.curves || [];
  el.cvResults.hidden = false;
  el.cvChart.closest('figure').hidden = !curves.length;
  if (!curves.length) return;
  const width = Math.min(720, Math.max(320, el.results.clientWidth - 60));
  lines(el.cvChart, [
    { label: 'training r²', values: meanCurve(curves, 'train_r') },
    { label: 'test r²', values: meanCurve(curves, 'test_r'), dashed: true },
  ], { width, xTitle: 'feature maps kept (m, by training AIS)', yTitle: 'r²', marker: cv.set_size.mean, markerLabel: `mean |S*| = ${cv.set_size.mean.toFixed(0)}` });
  el.cvChart.setAttribute('role', 'img');
  el.cvChart.setAttribute('aria-label', `Selection curves; test r² Full ${fmt(r2.full.mean)}, Retained ${fmt(r2.retained.mean)}`);
}

async function cancelCrossValidation() {
  el.cvCancel.hidden = true;
  stopPool();
  show(el.cvStatus, 'Cancelled; the engine restarts and the analysis must be run again.', 'cancelled');
  state.running = false;
  state.results = null;
  try {
    await restoreWorker();
  } catch (err) {
    showError(el.runError, `The engine did not restart: ${err.message}. Reload the page.`);
  }
  el.results.hidden = true;
  updateRunButton();
}

export function wireCrossValidation() {
  el.cvRun.addEventListener('click', crossValidate);
  el.cvCancel.addEventListener('click', cancelCrossValidation);
}
