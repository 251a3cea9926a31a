// The first screen: an example in one click (examples.js), published results opened without
// computing (published.js), and the view in the address (share.js): readView and applyView.
import { PRESETS, formatBytes } from './models.js';
import { example as findExample, exampleFiles } from './examples.js';
import { fetchResults, fileNameOf, ResultsError } from './published.js';
import { state, timings } from './state.js';
import { el, checkValue } from './dom.js';
import { call } from './engine.js';
import { show, showError, seconds } from './util.js';
import { viewChanged } from './address.js';
import { loadModel } from './network.js';
import { addImages, clearImages, matrixChanged } from './cohort.js';
import { analyze } from './run.js';
import { renderResults } from './results.js';
import { displayChanged, openViewer } from './gallery.js';
import { showCrossValidation } from './cross-validation.js';

// A click before the engine has started (or while the bundled network loads) waits for it.
let engineStarted;
const engine = new Promise((resolve) => { engineStarted = resolve; });

/** The engine has started: the ways in that wait for it go on. */
export function engineReady() {
  engineStarted();
}

function startProgress(done, total) {
  const box = el.startProgress;
  const bar = box.querySelector('progress');
  box.hidden = !total;
  bar.max = Math.max(1, total);
  bar.value = done;
}

async function tryExample(id) {
  if (state.running) return;
  showError(el.startError, '');
  const status = el.startStatus;
  const button = el.tryExample;
  button.disabled = true;
  const t0 = performance.now();
  try {
    await engine;
    if (state.modelLoading) await state.modelLoading;
    const ex = await findExample(id);
    el.exampleChoice.value = id;
    show(status, `Fetching the example: ${ex.files.length} images and their human dissimilarities…`, 'loading');
    const files = await exampleFiles(ex, (done, total) => startProgress(done, total));
    startProgress(0, 0);
    if (!state.model || state.model.name !== PRESETS.bundled.url) {
      show(status, 'Loading the bundled network (EfficientNet-Lite0)…', 'loading');
      await loadModel({ auto: true });
      if (!state.model || state.model.name !== PRESETS.bundled.url) throw new Error(`the bundled network did not load: ${el.modelError.textContent}`);
    }
    // Through the cohort section, as a visitor's own files: it shows what the example consists of.
    await clearImages();
    el.namesFile.value = '';
    checkValue('direction', ex.direction);
    const transfer = new DataTransfer();
    transfer.items.add(files.matrix);
    el.matrixFile.files = transfer.files;
    await matrixChanged();
    await addImages(files.images);
    if (!state.check || !state.check.ok) throw new Error(`the example's files do not fit together: ${el.checks.textContent}`);
    state.cohortOrigin = { kind: 'example', id, example: ex, categories: files.categories, labels: files.labels };
    show(status, `Running the example on the bundled network: ${ex.files.length} images…`, 'running');
    el.runSection.scrollIntoView({ block: 'start' });
    await analyze();
    if (!state.results || state.results.origin.kind !== 'example') {
      throw new Error(el.runError.hidden ? 'the analysis did not finish' : el.runError.textContent);
    }
    timings.exampleMs = performance.now() - t0;
    show(status, `${ex.title}: done in ${seconds(timings.exampleMs)}; the heatmaps are below.`, 'done');
    viewChanged();
  } catch (err) {
    if (err.message === 'cancelled') return;
    showError(el.startError, `The example could not run: ${err.message}`);
    show(status, '', 'error');
  } finally {
    startProgress(0, 0);
    button.disabled = false;
  }
}

async function openResultsFrom({ url = null, file = null }) {
  if (state.running) return;
  showError(el.startError, '');
  const status = el.startStatus;
  const t0 = performance.now();
  try {
    await engine;
    let blob = file;
    const name = file ? file.name : fileNameOf(url);
    if (!file) {
      show(status, `Fetching ${url}…`, 'loading');
      blob = await fetchResults(new URL(url, location.href).href, {
        onProgress: ({ received, total }) => {
          startProgress(received, total);
          show(status, `Fetching ${name}: ${formatBytes(received)}${total ? ` of ${formatBytes(total)}` : ''}…`, 'loading');
        },
      });
      startProgress(0, 0);
    }
    show(status, `Reading ${name} (${formatBytes(blob.size)})…`, 'loading');
    const r = await call('openResults', { blob, name });
    const origin = { kind: 'results', url, file: name, manifest: r.opened.manifest, openMs: performance.now() - t0 };
    state.results = { ...r, names: r.info.names, n: r.info.n, channels: r.info.channels, origin, storedCrossValidation: r.summary.cross_validation || null };
    el.cvResults.hidden = true;
    el.saliencyResults.textContent = '';
    show(el.saliencyStatus, '');
    await renderResults(t0);
    if (state.results.storedCrossValidation) {
      showCrossValidation(state.results.storedCrossValidation);
      show(el.cvStatus, 'The cross-validation this file holds (computed when it was made).');
    } else {
      show(el.cvStatus, 'This file holds no cross-validation: it needs the network and the human matrix (analyse the cohort here, or use alignmap validate).');
    }
    timings.openResultsMs = performance.now() - t0;
    show(status, `Opened ${name}: ${state.results.n} images, in ${seconds(timings.openResultsMs)}, nothing computed.` +
      (url ? '' : ' (A file from this computer cannot be shared by a link: publish it and link to ?results=its address.)'), 'done');
    viewChanged();
    el.results.scrollIntoView({ block: 'start' });
  } catch (err) {
    startProgress(0, 0);
    const message = err instanceof ResultsError ? err.message : `${err.message}`;
    showError(el.startError, `The results could not be opened: ${message}`);
    show(status, '', 'error');
  }
}

/** The view on screen, for the address. */
export function readView() {
  const r = state.results;
  const o = r && !el.results.hidden ? r.origin : null;
  const source = el.saliencySource;
  const open = el.viewer.open && r && state.viewer.index >= 0;
  return {
    example: o && o.kind === 'example' ? o.id : null,
    results: o && o.kind === 'results' ? o.url : null,
    cmap: state.display.colormap,
    opacity: state.display.opacity,
    show: state.display.original ? 'original' : 'overlay',
    image: open ? r.names[state.viewer.index] : null,
    view: open && state.viewer.mode === 'saliency' ? 'saliency' : 'heatmap',
    saliency: source.value && source.options.length && source.value !== source.options[0].value ? source.value : null,
  };
}

/** Shows a view from the address: its data (example or results), display, open image. */
export async function applyView(view) {
  const o = state.results ? state.results.origin : null;
  if (view.results && !(o && o.kind === 'results' && o.url === view.results)) {
    await openResultsFrom({ url: view.results });
  } else if (!view.results && view.example && !(o && o.kind === 'example' && o.id === view.example)) {
    await tryExample(view.example);
  } else if (state.results && o && o.kind !== 'run') {
    // Back to a view without data (the landing): the results are put away, not forgotten.
    el.results.hidden = !(view.example || view.results);
  }
  el.colormap.value = view.cmap;
  el.opacity.value = String(view.opacity);
  checkValue('show', view.show);
  displayChanged();
  const source = el.saliencySource;
  if (view.saliency && Array.from(source.options).some((x) => x.value === view.saliency)) source.value = view.saliency;
  else if (source.options.length) source.value = source.options[0].value;
  const index = view.image && state.results && !el.results.hidden ? state.results.names.indexOf(view.image) : -1;
  if (index >= 0) await openViewer(index, view.view);
  else if (el.viewer.open) el.viewer.close();
}

export function wireLanding() {
  el.tryExample.addEventListener('click', () => tryExample(el.exampleChoice.value));
  el.resultsFile.addEventListener('change', (e) => {
    const file = e.target.files[0];
    e.target.value = '';
    if (file) openResultsFrom({ file });
  });
  el.resultsUrlForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const url = el.resultsUrl.value.trim();
    if (url) openResultsFrom({ url });
  });
  // Their own cohort will use the bundled network unless they choose another: load it now.
  el.ownCohort.addEventListener('click', () => {
    if (!state.model && state.worker) loadModel({ auto: true });
  });
}
