// alignmap's page. The WebAssembly module lives in a module worker (worker.js), so the page never
// freezes; this file only moves files to the worker, shows what it says, and puts the RGBA pixels
// it returns on canvases. No framework, no build step, ES2020.
//
// ?device=cpu or ?device=webgpu in the address forces a device. The rest of the address holds
// the view (share.js): ?example=…, ?results=URL, colour map, opacity, the open image.

import { PRESETS, cached, download, store, DownloadError, formatBytes, listCached, clearCache, cacheAvailable } from './models.js';
import { histogram, spread, bars, lines } from './charts.js';
import { mountJudgments } from './judge/panel.js';
import { example as findExample, exampleFiles } from './examples.js';
import { fetchResults, fileNameOf, ResultsError } from './published.js';
import { linkView, parseView } from './share.js';

const $ = (id) => document.getElementById(id);
const IMAGE_EXT = /\.(png|jpe?g)$/i;
const THUMB_SIDE = 256;
const VIEWER_SIDE = 720;

const state = {
  worker: null,
  device: null,
  deviceChoice: ['auto', 'webgpu', 'cpu'].includes(new URLSearchParams(location.search).get('device')) ? new URLSearchParams(location.search).get('device') : 'auto',
  model: null, // { blob, name, requested, label, info, origin }
  images: new Map(), // name → File (sorted when shown)
  imageErrors: [], // { name, message }
  skipped: [],
  matrix: null, // { file, key, namesFile, dissimilarity, info, arrays }
  namesFile: null,
  check: null,
  running: false,
  results: null,
  display: { colormap: 'jet', opacity: 40, original: false },
  saliency: null,
  viewer: { index: -1, mode: 'heatmap' },
  // Where the cohort came from when it is an example (cleared when a visitor changes it), and
  // what the results on screen are: { kind: 'example' | 'results' | 'run', … }.
  cohortOrigin: null,
};

// Figures the tests (and the curious) can read: window.alignmap.timings.
const timings = {};
window.alignmap = { state, timings, wasmMemory: () => call('memory') };

// ---------------------------------------------------------------- worker

let nextId = 1;
const pending = new Map();
let onProgress = () => {};

function startWorker() {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = (event) => {
    const m = event.data;
    if (m && m.type === 'progress') {
      onProgress(m);
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
    const message = event.message || 'the worker failed to start (does this browser support module workers?)';
    for (const p of pending.values()) p.reject(new Error(message));
    pending.clear();
  };
  state.worker = worker;
  return worker;
}

function call(op, args = {}) {
  const worker = state.worker;
  return new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, op, args });
  });
}

function stopWorker() {
  if (state.worker) state.worker.terminate();
  for (const p of pending.values()) p.reject(new Error('cancelled'));
  pending.clear();
  state.worker = null;
}

// ---------------------------------------------------------------- small helpers

function show(el, text, stateName) {
  el.textContent = text;
  if (stateName !== undefined) el.dataset.state = stateName;
}

function showError(el, message) {
  el.textContent = message || '';
  el.hidden = !message;
}

function fmt(x, digits = 4) {
  return Number.isFinite(x) ? x.toFixed(digits) : 'undefined';
}

function seconds(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 90) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function sortedNames() {
  // The command line's order: file names sorted by their bytes (UTF-8), which for these strings
  // is the order of code points.
  return Array.from(state.images.keys()).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function putPixels(canvas, picture) {
  canvas.width = picture.width;
  canvas.height = picture.height;
  const ctx = canvas.getContext('2d');
  ctx.putImageData(new ImageData(picture.rgba, picture.width, picture.height), 0, 0);
}

function nextFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

// ---------------------------------------------------------------- device

async function startDevice() {
  show($('device-status'), 'Starting the WebAssembly module and the device…', 'loading');
  startWorker();
  try {
    state.device = await call('start', { device: state.deviceChoice });
  } catch (err) {
    show($('device-status'), `The analysis engine did not start: ${err.message}. ` +
      'Use a recent Chrome, Edge, Firefox or Safari; if this page was opened from a file, serve it with `alignmap serve`.', 'error');
    throw err;
  }
  const d = state.device;
  show($('device-status'), `Device: ${d.description}`, d.cpu ? 'cpu' : d.software ? 'software' : 'ready');
  const warning = $('device-warning');
  if (d.cpu && d.webgpuSoftware) {
    warning.textContent = `WebGPU here is only a software fallback (${d.webgpuSoftware}, no GPU), which is slower than ` +
      'the CPU backend: the analysis runs on the CPU in WebAssembly, on one core. Expect seconds per image with the ' +
      'bundled network and minutes per image with VGG-16.';
    warning.hidden = false;
  } else if (d.cpu) {
    warning.textContent = `No WebGPU here (${d.reason}). The analysis runs on the CPU in WebAssembly, on one core: ` +
      'expect seconds per image with the bundled network and minutes per image with VGG-16. ' +
      'Chrome or Edge with WebGPU on a GPU is much faster.';
    warning.hidden = false;
  } else if (d.software) {
    warning.textContent = 'This WebGPU adapter is a software fallback (no GPU is used): results are exact but slow.';
    warning.hidden = false;
  } else {
    warning.hidden = true;
  }
  document.body.dataset.device = d.cpu ? 'cpu' : 'webgpu';
  $('device-choice').value = state.deviceChoice;
}

/** After a cancel: a fresh worker that gets back the network, the matrix and the images. */
async function restoreWorker() {
  stopWorker();
  await startDevice();
  if (state.model) {
    show($('model-status'), 'Reloading the network…', 'loading');
    state.model.info = await call('loadModel', { blob: state.model.blob, name: state.model.name, requested: state.model.requested });
    showModelStatus();
  }
  if (state.matrix) await readMatrix({ quiet: true });
  if (state.images.size) await call('addImages', { files: sortedNames().map((n) => state.images.get(n)) });
  await refreshCheck();
}

// ---------------------------------------------------------------- network weights

let downloadAbort = null;

function modelChoice() {
  return document.querySelector('input[name="model"]:checked').value;
}

function updateModelFields() {
  const choice = modelChoice();
  $('url-field').hidden = choice !== 'url';
  $('file-field').hidden = choice !== 'file';
}

function confirmDownload(text) {
  const dialog = $('confirm');
  $('confirm-text').textContent = text;
  return new Promise((resolve) => {
    const done = (answer) => {
      $('confirm-yes').onclick = null;
      $('confirm-no').onclick = null;
      dialog.onclose = null;
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    $('confirm-yes').onclick = () => done(true);
    $('confirm-no').onclick = () => done(false);
    dialog.onclose = () => done(false);
    dialog.showModal();
    $('confirm-no').focus();
  });
}

function showModelStatus() {
  const m = state.model;
  const i = m.info;
  const names = { vgg16: 'VGG-16', 'efficientnet-lite0': 'EfficientNet-Lite0' };
  show($('model-status'), `${names[i.model] || i.model} loaded from ${m.label} (${m.origin}): ${i.channels} feature maps, ` +
    `${i.embedding}-d embedding, ${i.classes} classes.`, 'ready');
  document.body.dataset.model = i.model;
}

async function loadModel({ auto = false } = {}) {
  const choice = auto ? 'bundled' : modelChoice();
  showError($('model-error'), '');
  let blob;
  let name;
  let label;
  let origin;
  let requested = '';
  let downloadedFrom = null;
  const button = $('load-model');
  button.disabled = true;
  try {
    if (choice === 'file') {
      const file = $('model-file').files[0];
      if (!file) throw new Error('Choose a .safetensors file first.');
      blob = file;
      name = file.name;
      label = file.name;
      origin = `a file on this computer, ${formatBytes(file.size)}`;
    } else {
      let url;
      if (choice === 'url') {
        url = $('model-url').value.trim();
        if (!/^https?:\/\//i.test(url)) throw new Error('Enter the weights file\'s address, starting with https://');
      } else {
        url = PRESETS[choice].url;
        requested = PRESETS[choice].model;
      }
      name = url;
      label = choice === 'bundled' ? 'this page' : new URL(url, location.href).host;
      show($('model-status'), 'Looking in this browser\'s storage…', 'loading');
      blob = await cached(url);
      if (blob) {
        origin = `stored in this browser, ${formatBytes(blob.size)}`;
      } else {
        if (choice === 'vgg16') {
          const ok = await confirmDownload(`${PRESETS.vgg16.note} Download it now? On a slow connection this takes several minutes; ` +
            'the analysis with VGG-16 also needs a few GB of memory.');
          if (!ok) {
            show($('model-status'), state.model ? $('model-status').textContent : 'No network loaded yet.', state.model ? 'ready' : 'none');
            return;
          }
        }
        blob = await fetchWithProgress(url);
        downloadedFrom = url;
        origin = `downloaded, ${formatBytes(blob.size)}`;
        if (auto) $('download').hidden = true;
      }
    }
    show($('model-status'), `Reading the weights (${formatBytes(blob.size)})…`, 'loading');
    const t0 = performance.now();
    const info = await call('loadModel', { blob, name, requested });
    timings.loadModelMs = performance.now() - t0;
    if (downloadedFrom) {
      // Kept for the next visit only once it loaded: a wrong file is not stored.
      const storeError = await store(downloadedFrom, blob);
      origin += storeError ? `; not stored: ${storeError}` : '; stored in this browser for the next visit';
    }
    state.model = { blob, name, requested, label, origin, info };
    state.results = null;
    $('results').hidden = true;
    showModelStatus();
    refreshStorage();
  } catch (err) {
    let message = err.message.replace('--model', 'the choice');
    if (!(err instanceof DownloadError) && /neither VGG-16 nor EfficientNet/.test(err.message)) {
      message += ' — alignmap reads VGG-16 and EfficientNet-Lite0 weights only.';
    } else if (/was asked for/.test(err.message)) {
      message += ' Choose the option that matches the file, or another file.';
    }
    showError($('model-error'), message);
    show($('model-status'), state.model ? 'The previous network stays loaded.' : 'No network loaded.', state.model ? 'ready' : 'error');
    if (state.model) showModelStatus();
  } finally {
    button.disabled = false;
    await refreshCheck();
  }
}

async function fetchWithProgress(url) {
  const box = $('download');
  const bar = $('download-progress');
  const text = $('download-text');
  box.hidden = false;
  $('cancel-download').hidden = false;
  downloadAbort = new AbortController();
  const t0 = performance.now();
  show($('model-status'), `Downloading ${url}…`, 'loading');
  try {
    return await download(url, {
      signal: downloadAbort.signal,
      onProgress: ({ received, total }) => {
        const elapsed = (performance.now() - t0) / 1000;
        const rate = elapsed > 0.5 ? received / elapsed : 0;
        if (total) {
          bar.max = total;
          bar.value = received;
          const left = rate > 0 ? ` · about ${seconds(((total - received) / rate) * 1000)} left` : '';
          text.textContent = `${formatBytes(received)} of ${formatBytes(total)} (${Math.floor((100 * received) / total)} %)${left}`;
        } else {
          bar.removeAttribute('value');
          text.textContent = `${formatBytes(received)} (the server did not say how much)`;
        }
      },
    });
  } finally {
    $('cancel-download').hidden = true;
    downloadAbort = null;
  }
}

async function refreshStorage() {
  const list = $('storage-list');
  list.textContent = '';
  if (!cacheAvailable()) {
    const li = document.createElement('li');
    li.textContent = 'This page has no storage here (it needs https or localhost); weights are downloaded on every visit.';
    list.append(li);
    return;
  }
  const items = await listCached().catch(() => []);
  if (!items.length) {
    const li = document.createElement('li');
    li.textContent = 'Nothing stored yet.';
    list.append(li);
  }
  for (const item of items) {
    const li = document.createElement('li');
    li.textContent = `${item.url} — ${formatBytes(item.bytes)}`;
    list.append(li);
  }
}

// ---------------------------------------------------------------- images

function isImageFile(file) {
  return IMAGE_EXT.test(file.name) || file.type === 'image/png' || file.type === 'image/jpeg';
}

async function entriesOf(dataTransfer) {
  // Folders dropped on the page: walk them (webkitGetAsEntry is in Chrome, Edge, Firefox, Safari).
  const items = Array.from(dataTransfer.items || []);
  const entries = items.map((item) => (item.webkitGetAsEntry ? item.webkitGetAsEntry() : null));
  if (!entries.length || entries.some((e) => !e)) return Array.from(dataTransfer.files || []);
  const files = [];
  const walk = async (entry) => {
    if (entry.isFile) {
      files.push(await new Promise((resolve, reject) => entry.file(resolve, reject)));
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (!batch.length) break;
        for (const e of batch) await walk(e);
      }
    }
  };
  for (const e of entries) await walk(e);
  return files;
}

async function addImages(fileList) {
  const files = Array.from(fileList);
  if (!files.length) return;
  state.cohortOrigin = null;
  const fresh = [];
  const notes = [];
  for (const file of files) {
    if (file.name.startsWith('.') || !isImageFile(file)) {
      state.skipped.push(file.name);
      continue;
    }
    if (state.images.has(file.name)) notes.push(file.name);
    state.imageErrors = state.imageErrors.filter((e) => e.name !== file.name);
    state.images.set(file.name, file);
    fresh.push(file);
  }
  state.results = null;
  $('results').hidden = true;
  show($('image-status'), `Reading ${fresh.length} image(s)…`);
  const t0 = performance.now();
  onProgress = (m) => {
    if (m.stage === 'load') show($('image-status'), `Reading images: ${m.done} of ${m.total}…`);
  };
  try {
    const { errors } = await call('addImages', { files: fresh });
    for (const e of errors) {
      state.images.delete(e.name);
      state.imageErrors.push(e);
    }
  } catch (err) {
    state.imageErrors.push({ name: 'images', message: err.message });
  }
  timings.addImagesMs = performance.now() - t0;
  if (notes.length) {
    state.imageErrors.push({ name: notes.join(', '), message: 'a file of this name was added again; the newer one replaced the older (names must be unique: they match the matrix rows)', warning: true });
  }
  renderImages();
  await refreshCheck();
}

async function clearImages() {
  state.cohortOrigin = null;
  state.images.clear();
  state.imageErrors = [];
  state.skipped = [];
  state.results = null;
  $('results').hidden = true;
  await call('clearImages');
  renderImages();
  await refreshCheck();
}

function renderImages() {
  judgments?.imagesChanged();
  const n = state.images.size;
  show($('image-status'), n ? `${n} image${n === 1 ? '' : 's'} ready (decoded here, in this browser).` : 'No images yet.');
  $('clear-images').disabled = n === 0 && !state.imageErrors.length && !state.skipped.length;
  const list = $('image-errors');
  list.textContent = '';
  for (const e of state.imageErrors) {
    const li = document.createElement('li');
    li.className = e.warning ? 'warn' : 'bad';
    li.textContent = e.warning ? `${e.name}: ${e.message}` : `Not added — ${e.message}`;
    list.append(li);
  }
  if (state.skipped.length) {
    const li = document.createElement('li');
    li.className = 'warn';
    const shown = state.skipped.slice(0, 8).join(', ');
    li.textContent = `Skipped ${state.skipped.length} file(s) that are not PNG or JPEG images: ${shown}${state.skipped.length > 8 ? ', …' : ''}`;
    list.append(li);
  }
}

// ---------------------------------------------------------------- matrix

function isNpz(file) {
  return /\.npz$/i.test(file.name);
}

// The similarity judgments of www/judge/ (mounted in main): their matrix becomes the human
// matrix as a CSV file would.
let judgments = null;

async function useMatrixFile(file, dissimilarity) {
  try {
    const dt = new DataTransfer();
    dt.items.add(file);
    $('matrix-file').files = dt.files;
  } catch {
    // older browsers cannot set a file input; the status line names the file anyway
  }
  $('names-file').value = '';
  document.querySelector(`input[name="direction"][value="${dissimilarity ? 'dissimilarity' : 'similarity'}"]`).checked = true;
  state.results = null;
  $('results').hidden = true;
  $('key-field').hidden = true;
  showError($('matrix-error'), '');
  state.matrix = { file, key: '', arrays: null, info: null };
  await readMatrix();
}

async function matrixChanged() {
  const file = $('matrix-file').files[0];
  state.cohortOrigin = null;
  state.results = null;
  $('results').hidden = true;
  showError($('matrix-error'), '');
  if (!file) {
    state.matrix = null;
    await call('clearMatrix');
    show($('matrix-status'), 'No matrix yet.');
    await refreshCheck();
    return;
  }
  state.matrix = { file, key: '', arrays: null, info: null };
  $('key-field').hidden = true;
  if (isNpz(file)) {
    try {
      const arrays = await call('npzArrays', { file });
      state.matrix.arrays = arrays;
      const select = $('matrix-key');
      select.textContent = '';
      const square = arrays.filter((a) => a.square);
      if (square.length !== 1) select.append(new Option('Choose an array…', ''));
      for (const a of arrays) {
        const option = new Option(`${a.key} (${a.shape.join(' × ') || 'unreadable'})${a.square ? '' : ' — not a square matrix'}`, a.key);
        option.disabled = !a.square;
        select.append(option);
      }
      select.value = square.length === 1 ? square[0].key : '';
      state.matrix.key = select.value;
      $('key-field').hidden = false;
    } catch (err) {
      showError($('matrix-error'), err.message);
      state.matrix = null;
      await call('clearMatrix');
      show($('matrix-status'), 'No matrix yet.');
      await refreshCheck();
      return;
    }
  }
  await readMatrix();
}

async function readMatrix({ quiet = false } = {}) {
  const m = state.matrix;
  if (!m) return;
  m.namesFile = $('names-file').files[0] || null;
  m.dissimilarity = document.querySelector('input[name="direction"]:checked').value === 'dissimilarity';
  if (!quiet) showError($('matrix-error'), '');
  if (m.arrays && !m.key) {
    m.info = null;
    await call('clearMatrix');
    show($('matrix-status'), `${m.file.name} holds ${m.arrays.filter((a) => a.square).length} square arrays: choose one.`);
    await refreshCheck();
    return;
  }
  try {
    m.info = await call('readMatrix', { file: m.file, key: m.key, namesFile: m.namesFile, dissimilarity: m.dissimilarity });
    const what = m.dissimilarity ? 'dissimilarity matrix (used as −D)' : 'similarity matrix';
    const names = m.info.names ? `, rows named${m.namesFile ? ` by ${m.namesFile.name}` : ''}` : ', no row names (rows follow the sorted image names)';
    show($('matrix-status'), `${m.info.n} × ${m.info.n} ${what} from ${m.file.name}${m.key ? ` (array ${m.key})` : ''}${names}.`);
  } catch (err) {
    m.info = null;
    show($('matrix-status'), 'The matrix cannot be used:');
    showError($('matrix-error'), err.message);
  }
  if (!quiet) await refreshCheck();
}

// ---------------------------------------------------------------- checks before running

async function refreshCheck() {
  let check;
  try {
    check = await call('check');
  } catch (err) {
    return;
  }
  state.check = check;
  const list = $('checks');
  list.textContent = '';
  const item = (kind, text) => {
    const li = document.createElement('li');
    li.className = kind;
    const mark = document.createElement('span');
    mark.className = 'mark';
    mark.setAttribute('aria-hidden', 'true');
    mark.textContent = kind === 'ok' ? '✓' : kind === 'bad' ? '✗' : '!';
    const label = document.createElement('span');
    label.className = 'visually-hidden';
    label.textContent = kind === 'ok' ? 'Fine: ' : kind === 'bad' ? 'Problem: ' : 'Note: ';
    li.append(mark, label, document.createTextNode(text));
    list.append(li);
  };
  if (!state.model) item('bad', 'no network loaded yet');
  else item('ok', `network: ${state.model.info.model} (${state.model.info.channels} feature maps)`);
  if (state.imageErrors.some((e) => !e.warning)) item('warn', `${state.imageErrors.filter((e) => !e.warning).length} file(s) could not be read as images (listed above); they are left out`);
  if (state.matrix && !state.matrix.info && $('matrix-error').textContent) item('bad', `the matrix: ${$('matrix-error').textContent}`);
  for (const p of check.problems) {
    if (p === 'no human similarity matrix yet' && state.matrix && !state.matrix.info) continue;
    item('bad', p);
  }
  for (const w of check.warnings) item('warn', w);
  for (const r of check.report) item('ok', r);
  if (check.ok) item('ok', `ready: ${check.images} images and a ${check.rows} × ${check.rows} matrix`);
  list.dataset.ok = String(check.ok);

  const details = $('matching-details');
  const body = $('matching-table').tBodies[0];
  body.textContent = '';
  details.hidden = !check.table.length || check.rows === null;
  check.table.forEach((row, i) => {
    const tr = document.createElement('tr');
    if (row.row === null) tr.className = 'bad';
    for (const text of [String(i + 1), row.image, row.row === null ? 'none' : String(row.row), row.name === null ? (row.row === null ? '—' : '(unnamed)') : row.name]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    body.append(tr);
  });
  updateRunButton();
}

const BUSY_CONTROLS = ['load-model', 'image-files', 'image-folder', 'clear-images', 'matrix-file', 'matrix-key', 'names-file', 'saliency-run', 'saliency-files', 'export', 'cv-run'];

function updateRunButton() {
  judgments?.refresh();
  const ready = !!(state.model && state.check && state.check.ok && !state.running);
  $('analyze').disabled = !ready;
  // While the engine runs, the cohort cannot change under it.
  for (const id of BUSY_CONTROLS) {
    const el = $(id);
    if (state.running) {
      if (!el.disabled) { el.disabled = true; el.dataset.busy = 'true'; }
    } else if (el.dataset.busy) {
      el.disabled = false;
      delete el.dataset.busy;
    }
  }
  for (const radio of document.querySelectorAll('input[name="direction"]')) radio.disabled = state.running;
  $('drop-zone').dataset.busy = String(state.running);
}

// ---------------------------------------------------------------- analysis

const STAGE_UNITS = { decode: 'images', network: 'images', ablation: 'feature maps' };

function resetStages() {
  for (const li of document.querySelectorAll('#stages li')) {
    li.dataset.status = 'waiting';
    li.querySelector('progress').value = 0;
    li.querySelector('.stage-text').textContent = 'waiting';
  }
}

async function analyze() {
  if (state.running) return;
  state.running = true;
  updateRunButton();
  showError($('run-error'), '');
  $('results').hidden = true;
  $('stages').hidden = false;
  $('cancel').hidden = false;
  resetStages();
  const started = {};
  const t0 = performance.now();
  delete timings.firstHeatmapMs;
  delete timings.allHeatmapsMs;
  show($('run-status'), 'Running…', 'running');
  onProgress = (m) => {
    const li = document.querySelector(`#stages li[data-stage="${m.stage}"]`);
    if (!li) return;
    const now = performance.now();
    for (const other of document.querySelectorAll('#stages li')) {
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
    show($('run-status'), `Running: ${li.querySelector('.stage-name').textContent.toLowerCase()}… (${seconds(now - t0)} so far)`, 'running');
  };
  try {
    const r = await call('analyze', { batch: 4 });
    timings.analysisMs = performance.now() - t0;
    state.results = { ...r, names: r.info.names, n: r.info.n, channels: r.info.channels, origin: state.cohortOrigin || { kind: 'run' } };
    for (const li of document.querySelectorAll('#stages li')) {
      li.dataset.status = 'done';
      li.querySelector('progress').value = li.querySelector('progress').max;
    }
    show($('run-status'), `Done in ${seconds(timings.analysisMs)}.`, 'done');
    state.saliency = null;
    state.crossValidation = null;
    $('cv-results').hidden = true;
    show($('cv-status'), '');
    await renderResults(t0);
  } catch (err) {
    if (err.message === 'cancelled') return;
    show($('run-status'), 'The analysis failed.', 'error');
    showError($('run-error'), err.message);
  } finally {
    state.running = false;
    $('cancel').hidden = true;
    updateRunButton();
  }
}

async function cancel() {
  if (!state.running) return;
  state.running = false;
  $('cancel').hidden = true;
  show($('run-status'), 'Cancelled. Restarting the engine…', 'cancelled');
  try {
    await restoreWorker();
    show($('run-status'), 'Cancelled.', 'cancelled');
  } catch (err) {
    showError($('run-error'), `The engine did not restart: ${err.message}. Reload the page.`);
  }
  updateRunButton();
}

// ---------------------------------------------------------------- results

function topFeatures(index, count) {
  const { image, channels } = state.results;
  const row = image.subarray(index * channels, (index + 1) * channels);
  return Array.from(row, (value, k) => ({ k, value }))
    .filter((d) => Number.isFinite(d.value))
    .sort((a, b) => b.value - a.value)
    .slice(0, count);
}

function renderSummary() {
  const r = state.results;
  const s = r.summary;
  const dl = $('summary');
  dl.textContent = '';
  const add = (term, value) => {
    const dt = document.createElement('dt');
    dt.textContent = term;
    const dd = document.createElement('dd');
    dd.textContent = value;
    dl.append(dt, dd);
  };
  const positive = Array.from(r.dataset).filter((v) => v > 0).length;
  add('Baseline 2OI', `r = ${fmt(s.baseline.r)} (r² = ${fmt(s.baseline.r2)}): the network's similarities against the human ones, over all ${r.n * (r.n - 1) / 2} pairs`);
  add('Cohort', `${r.n} images × ${r.channels} feature maps of ${s.model.name}`);
  add('Dataset AIS', `${positive} of ${r.channels} feature maps lower the 2OI when removed (AIS > 0)`);
  if (s.ais.undefined_scores) add('Undefined scores', `${s.ais.undefined_scores} (an embedding or a human row is constant)`);
  const t = s.timings || {};
  const o = r.origin || { kind: 'run' };
  if (o.kind === 'results') {
    add('Computed on', `${s.device || 'not recorded'}${Number.isFinite(t.total_seconds) ? `, in ${seconds(1000 * t.total_seconds)}` : ''} (by ${o.manifest.made_by}); opened here in ${seconds(o.openMs)}, nothing computed`);
    if (s.human && s.human.file) add('Human matrix', `${s.human.file}${s.human.key ? ` (${s.human.key})` : ''}, ${s.human.direction}`);
  } else {
    add('Device', s.device);
    add('Time', `${seconds(timings.analysisMs)} (network ${seconds(1000 * t.network_seconds)}, ablation ${seconds(1000 * t.ablation_seconds)})`);
  }
  if (o.kind === 'example') {
    add('Example', `${o.example.title}: ${o.example.summary}`);
    add('Human task', o.example.task);
    add('Source', o.example.source);
  }
  renderAbout();
}

/** One line above the summary: what these results are. */
function renderAbout() {
  const o = state.results.origin || { kind: 'run' };
  const box = $('view-about');
  box.textContent = '';
  if (o.kind === 'run') {
    box.hidden = true;
    return;
  }
  const strong = document.createElement('strong');
  const rest = document.createElement('span');
  if (o.kind === 'example') {
    strong.textContent = `Example: ${o.example.title}. `;
    rest.textContent = `${o.example.files.length} images of the Kriegeskorte 92 set with 16 people’s similarity judgments (their mean dissimilarities), ` +
      'analysed here on the bundled EfficientNet-Lite0. The cohort above shows its files; change them to analyse your own.';
  } else {
    strong.textContent = `Published results${o.manifest.title ? `: ${o.manifest.title}` : ''}. `;
    rest.textContent = `Opened from ${o.url || o.file} without computing (no network weights loaded): ${state.results.n} images × ${state.results.channels} feature maps of ${state.results.summary.model?.name || 'a network'}.`;
  }
  box.append(strong, rest);
  box.hidden = false;
}

/** Categories of the results on screen: { categories: { name → id }, labels: { id → label } } or null. */
function resultCategories() {
  const o = state.results && state.results.origin;
  if (!o) return null;
  if (o.kind === 'example' && o.categories) return { categories: o.categories, labels: o.labels || {} };
  if (o.kind === 'results' && o.manifest.categories) return { categories: o.manifest.categories, labels: o.manifest.category_labels || {} };
  return null;
}

async function drawLegend() {
  const rgba = await call('colormapStrip', { colormap: state.display.colormap });
  putPixels($('legend'), { width: 256, height: 1, rgba });
}

function renderGallery() {
  const r = state.results;
  const gallery = $('gallery');
  gallery.textContent = '';
  const cats = resultCategories();
  const order = cats ? Array.from(new Set(r.names.map((n) => cats.categories[n]).filter(Boolean))) : [];
  const legend = $('category-legend');
  legend.textContent = '';
  legend.hidden = !order.length;
  for (const [k, id] of order.entries()) {
    const li = document.createElement('li');
    li.dataset.category = String(k % 8);
    li.textContent = `${cats.labels[id] || id.replace(/[-_]/g, ' ')} (${r.names.filter((n) => cats.categories[n] === id).length})`;
    legend.append(li);
  }
  r.names.forEach((name, i) => {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'thumb';
    button.dataset.index = String(i);
    const canvas = document.createElement('canvas');
    canvas.width = 1;
    canvas.height = 1;
    canvas.setAttribute('aria-hidden', 'true');
    const title = document.createElement('span');
    title.className = 'name';
    title.textContent = name;
    const meta = document.createElement('span');
    meta.className = 'meta numbers';
    const top = topFeatures(i, 3).map((d) => `fm${d.k} ${d.value.toFixed(3)}`).join(', ');
    const base = r.info.baseline.perImage[i];
    meta.textContent = `r = ${fmt(base, 3)} · top: ${top || 'none'}`;
    button.setAttribute('aria-label', `${name}: image baseline r = ${fmt(base, 3)}; top feature maps ${top || 'none'}. Enlarge.`);
    const why = document.createElement('span');
    why.className = 'why';
    why.hidden = true;
    button.append(canvas, title, meta, why);
    const category = cats && cats.categories[name];
    if (category) {
      li.dataset.category = String(order.indexOf(category) % 8);
      const chip = document.createElement('span');
      chip.className = 'chip';
      chip.textContent = cats.labels[category] || category.replace(/[-_]/g, ' ');
      title.after(chip);
      button.setAttribute('aria-label', `${button.getAttribute('aria-label').replace(/ Enlarge\.$/, '')} Category: ${chip.textContent}. Enlarge.`);
    }
    button.addEventListener('click', () => openViewer(i));
    li.append(button);
    gallery.append(li);
  });
}

let drawGeneration = 0;

async function drawGallery(t0) {
  const generation = ++drawGeneration;
  const buttons = Array.from(document.querySelectorAll('#gallery .thumb'));
  const { colormap, opacity, original } = state.display;
  for (const button of buttons) {
    if (generation !== drawGeneration || !state.results) return;
    const index = Number(button.dataset.index);
    const picture = await call('overlay', { index, colormap, imageWeight: 1 - opacity / 100, original, maxSide: THUMB_SIDE });
    if (generation !== drawGeneration) return;
    putPixels(button.querySelector('canvas'), picture);
    button.dataset.heatmap = picture.defined ? 'yes' : 'none';
    button.title = picture.note || '';
    const why = button.querySelector('.why');
    why.textContent = picture.defined ? '' : `No heatmap: ${picture.note}.`;
    why.hidden = picture.defined;
    if (t0 !== undefined && timings.firstHeatmapMs === undefined) {
      await nextFrame();
      timings.firstHeatmapMs = performance.now() - t0;
      // Since the page was opened (performance.now() counts from the navigation).
      timings.firstHeatmapSinceOpenMs = performance.now();
    }
  }
  if (t0 !== undefined) timings.allHeatmapsMs = performance.now() - t0;
  $('gallery').dataset.drawn = String(generation);
}

function renderCharts() {
  const r = state.results;
  const width = Math.min(560, Math.max(300, $('results').clientWidth / 2 - 40));
  const hist = $('hist');
  const described = histogram(hist, r.dataset, { width, xTitle: 'dataset AIS (r − r_k)', yTitle: 'feature maps' });
  hist.setAttribute('role', 'img');
  hist.setAttribute('aria-label', `Histogram of dataset AIS: ${described}.`);
  const stats = spread($('spread'), r.image, r.n, r.channels, { width, xTitle: 'image (row order)', yTitle: 'AIS' });
  const madMean = stats.filter(Boolean).reduce((s, v) => s + v.mad, 0) / Math.max(1, stats.filter(Boolean).length);
  $('spread').setAttribute('role', 'img');
  $('spread').setAttribute('aria-label', `Per-image spread of AIS over ${r.channels} feature maps for ${r.n} images; mean absolute deviation ${madMean.toExponential(2)} on average.`);
  const top = Array.from(r.dataset, (value, k) => ({ value, label: `fm${k}` }))
    .filter((d) => Number.isFinite(d.value)).sort((a, b) => b.value - a.value).slice(0, 15);
  bars($('top-dataset'), top, { width: Math.min(520, width) });
  $('top-dataset').setAttribute('role', 'img');
  $('top-dataset').setAttribute('aria-label', `Top feature maps by dataset AIS: ${top.slice(0, 5).map((d) => `${d.label} ${d.value.toFixed(4)}`).join(', ')}`);
}

async function renderResults(t0) {
  delete document.body.dataset.results;
  delete $('gallery').dataset.drawn;
  $('results').hidden = false;
  const opened = state.results.origin && state.results.origin.kind === 'results';
  $('cv-run').disabled = opened;
  $('cv-run').title = opened ? 'Opened results hold no network: cross-validation needs the network and the human matrix.' : '';
  renderSummary();
  renderGallery();
  await drawLegend();
  renderCharts();
  await fillSaliencySources();
  await drawGallery(t0);
  document.body.dataset.results = 'ready';
}

function displayChanged(event) {
  state.display.colormap = $('colormap').value;
  state.display.opacity = Number($('opacity').value);
  state.display.original = document.querySelector('input[name="show"]:checked').value === 'original';
  $('opacity-value').textContent = `${state.display.opacity} %`;
  // A change adds an entry to the history; dragging the opacity slider adds one when released.
  if (event && event.type !== 'input') link.update();
  if (!state.results) return;
  drawLegend();
  drawGallery();
  if ($('viewer').open && state.viewer.mode === 'heatmap') drawViewer();
}

// ---------------------------------------------------------------- the enlarged view

async function drawViewer() {
  const i = state.viewer.index;
  const r = state.results;
  if (!r || i < 0) return;
  const canvas = $('viewer-canvas');
  const note = $('viewer-note');
  $('viewer-title').textContent = `${r.names[i]} (${i + 1} of ${r.n})`;
  $('viewer-baseline').textContent = `Image baseline r = ${fmt(r.info.baseline.perImage[i])}: its row of the network's similarities against the human row.`;
  bars($('viewer-bars'), topFeatures(i, 10).map((d) => ({ label: `fm${d.k}`, value: d.value })), { width: 320 });
  $('viewer-rr').textContent = '';
  $('viewer-saliency').textContent = state.viewer.mode === 'saliency' ? 'Heatmap' : 'Saliency contours';
  try {
    if (state.viewer.mode === 'saliency') {
      const picture = await call('saliencyOverlay', { index: i, source: $('saliency-source').value });
      putPixels(canvas, picture);
      const rr = picture.risks.map((l) => `top ${l.percent} %: RR ${l.rr === null ? `undefined (${l.undefined})` : l.rr.toFixed(2)}`).join('; ');
      $('viewer-rr').textContent = `Saliency (${$('saliency-source').value}, orange) against AIS (blue). ${rr}`;
      canvas.setAttribute('aria-label', `${r.names[i]} with saliency and AIS contours; ${rr}`);
      note.hidden = true;
    } else {
      const { colormap, opacity, original } = state.display;
      const picture = await call('overlay', { index: i, colormap, imageWeight: 1 - opacity / 100, original, maxSide: VIEWER_SIDE });
      putPixels(canvas, picture);
      canvas.setAttribute('aria-label', `${r.names[i]}${original ? '' : ' with its AIS heatmap'}`);
      note.textContent = picture.note;
      note.hidden = !picture.note;
    }
  } catch (err) {
    note.textContent = err.message;
    note.hidden = false;
  }
}

function openViewer(index, mode = 'heatmap') {
  state.viewer.index = index;
  state.viewer.mode = mode;
  const dialog = $('viewer');
  if (!dialog.open) dialog.showModal();
  $('viewer-close').focus();
  link.update();
  return drawViewer();
}

function stepViewer(delta) {
  const n = state.results ? state.results.n : 0;
  if (!n) return;
  state.viewer.index = (state.viewer.index + delta + n) % n;
  link.update({ replace: true });
  drawViewer();
}

// ---------------------------------------------------------------- saliency

async function fillSaliencySources() {
  const select = $('saliency-source');
  const current = select.value;
  const models = await call('saliencyModels');
  select.textContent = '';
  for (const m of models) select.append(new Option(`${m}${m === models[0] ? ' (built in, default)' : ' (built in)'}`, m));
  if (state.importedSaliency) select.append(new Option(`imported maps (${state.importedSaliency})`, 'imported'));
  if (current && Array.from(select.options).some((o) => o.value === current)) select.value = current;
}

async function importSaliency(files) {
  const { added, errors } = await call('importSaliency', { files: Array.from(files) });
  state.importedSaliency = (state.importedSaliency || 0) + added.length;
  await fillSaliencySources();
  if (added.length) $('saliency-source').value = 'imported';
  show($('saliency-status'), `Imported ${added.length} saliency map(s).${errors.length ? ` Not imported: ${errors.map((e) => e.message).join('; ')}` : ''}`);
}

async function runSaliency() {
  if (!state.results) return;
  const source = $('saliency-source').value;
  show($('saliency-status'), 'Computing saliency and relative risks…');
  const t0 = performance.now();
  try {
    const s = await call('saliencySummary', { source });
    state.saliency = { source, ...s };
    const box = $('saliency-results');
    box.textContent = '';
    const table = document.createElement('table');
    table.innerHTML = '<caption>Relative risk of AIS pixels among salient pixels (mean ± sd over images)</caption>' +
      '<thead><tr><th scope="col">Level</th><th scope="col">Mean RR</th><th scope="col">sd</th><th scope="col">Images</th><th scope="col">Undefined</th></tr></thead>';
    const body = document.createElement('tbody');
    for (const l of s.summary) {
      const tr = document.createElement('tr');
      for (const text of [`top ${l.percent} %`, l.mean === null ? '—' : l.mean.toFixed(2), l.sd === null ? '—' : l.sd.toFixed(2), String(l.n), String(l.nUndefined)]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      body.append(tr);
    }
    table.append(body);
    box.append(table);
    const failed = s.images.filter((x) => x.error);
    if (failed.length) {
      const p = document.createElement('p');
      p.className = 'warning';
      p.textContent = `Left out: ${failed.slice(0, 5).map((x) => `${x.image} (${x.error})`).join('; ')}${failed.length > 5 ? ' …' : ''}`;
      box.append(p);
    }
    show($('saliency-status'), `Saliency: ${source}; ${s.images.length - failed.length} images in ${seconds(performance.now() - t0)}. Open an image and choose “Saliency contours” to see its contours.`);
  } catch (err) {
    show($('saliency-status'), `Saliency failed: ${err.message}`);
  }
}

// ---------------------------------------------------------------- cross-validation

const PAPER_SEEDS = [111, 222, 333, 444, 555, 666, 777, 888];

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
  const folds = Number($('cv-folds').value);
  const seeds = PAPER_SEEDS.slice(0, Number($('cv-seeds').value));
  state.running = true;
  updateRunButton();
  $('cv-run').disabled = true;
  $('cv-cancel').hidden = false;
  $('cv-progress').hidden = false;
  const bar = $('cv-progress').querySelector('progress');
  const t0 = performance.now();
  show($('cv-status'), `Cross-validating: ${folds} folds × ${seeds.length} shuffle(s)…`);
  onProgress = (m) => {
    if (m.stage !== 'folds') return;
    bar.max = Math.max(1, m.total);
    bar.value = m.done;
    const elapsed = performance.now() - t0;
    $('cv-text').textContent = `${m.done} of ${m.total} folds · ${seconds(elapsed)}` +
      (m.done > 0 && m.done < m.total ? ` · about ${seconds((elapsed / m.done) * (m.total - m.done))} left` : '');
  };
  try {
    const cv = await call('crossValidate', { folds, seeds });
    state.crossValidation = { folds, seeds, ...cv };
    showCrossValidation(cv);
    show($('cv-status'), `Done in ${seconds(performance.now() - t0)}.`, 'done');
  } catch (err) {
    if (err.message !== 'cancelled') show($('cv-status'), `Cross-validation failed: ${err.message}`, 'error');
  } finally {
    state.running = false;
    $('cv-run').disabled = false;
    $('cv-cancel').hidden = true;
    $('cv-progress').hidden = true;
    updateRunButton();
  }
}

/** The summary and curves of a cross-validation: run here, or held by an opened results zip. */
function showCrossValidation(cv) {
  const dl = $('cv-summary');
  dl.textContent = '';
  const add = (term, value) => {
    const dt = document.createElement('dt');
    dt.textContent = term;
    const dd = document.createElement('dd');
    dd.textContent = value;
    dl.append(dt, dd);
  };
  const r2 = cv.r2;
  add('Test r², all feature maps (Full)', `${fmt(r2.full.mean)} ± ${fmt(r2.full.sd)} (mean ± sd over ${r2.full.perFold.length} folds)`);
  add('Test r², S* kept (Retained)', `${fmt(r2.retained.mean)} ± ${fmt(r2.retained.sd)}`);
  add('|S*|', `${cv.setSize.mean.toFixed(1)} ± ${cv.setSize.sd.toFixed(1)} of ${state.results.channels} feature maps`);
  add('Retained vs Full', r2.test.undefined ? `no t-test: ${r2.test.undefined}`
    : `paired t(${r2.test.df}) = ${r2.test.t.toFixed(3)}, p = ${r2.test.pTwoSided.toExponential(2)} two-sided, ${r2.test.pGreater.toExponential(2)} one-sided (Retained > Full)`);
  $('cv-results').hidden = false;
  $('cv-chart').closest('figure').hidden = !cv.folds.length;
  if (!cv.folds.length) return;
  const width = Math.min(720, Math.max(320, $('results').clientWidth - 60));
  lines($('cv-chart'), [
    { label: 'training r²', values: meanCurve(cv.folds, 'trainCurve') },
    { label: 'test r²', values: meanCurve(cv.folds, 'testCurve'), dashed: true },
  ], { width, xTitle: 'feature maps kept (m, by training AIS)', yTitle: 'r²', marker: cv.setSize.mean, markerLabel: `mean |S*| = ${cv.setSize.mean.toFixed(0)}` });
  $('cv-chart').setAttribute('role', 'img');
  $('cv-chart').setAttribute('aria-label', `Selection curves; test r² Full ${fmt(r2.full.mean)}, Retained ${fmt(r2.retained.mean)}`);
}

/** summary.json's cross_validation (as the export writes it) in the shape of the worker's answer. */
function crossValidationFromSummary(c) {
  const back = (x) => ({
    full: { mean: x.full.mean, sd: x.full.sd, perFold: x.full.per_fold },
    retained: { mean: x.retained.mean, sd: x.retained.sd, perFold: x.retained.per_fold },
    se: x.loftus_masson_se,
    test: x.paired_t_test_retained_vs_full || { undefined: 'not recorded' },
  });
  const curves = c.curves || [];
  return {
    folds: curves.map((f) => ({ seed: f.seed, fold: f.fold, setSize: f.set_size, trainCurve: f.train_r, testCurve: f.test_r })),
    r: back(c.r),
    r2: back(c.r2),
    setSize: { mean: c.set_size.mean, sd: c.set_size.sd },
  };
}

async function cancelCrossValidation() {
  $('cv-cancel').hidden = true;
  show($('cv-status'), 'Cancelled; the engine restarts and the analysis must be run again.', 'cancelled');
  state.running = false;
  state.results = null;
  try {
    await restoreWorker();
  } catch (err) {
    showError($('run-error'), `The engine did not restart: ${err.message}. Reload the page.`);
  }
  $('results').hidden = true;
  updateRunButton();
}

// ---------------------------------------------------------------- export

async function exportZip() {
  const r = state.results;
  if (!r) return;
  const button = $('export');
  button.disabled = true;
  const t0 = performance.now();
  show($('export-status'), 'Writing the zip…');
  try {
    const { colormap, opacity } = state.display;
    const summary = JSON.parse(r.summaryText);
    const without = Array.from(document.querySelectorAll('#gallery .thumb[data-heatmap="none"]'), (b) => r.names[Number(b.dataset.index)]);
    summary.overlays = { colormap, image_weight: 1 - opacity / 100, folder: 'overlays/', without_heatmap: without };
    summary.made_by = 'alignmap in the browser (www/)';
    if (state.saliency) summary.saliency = { source: state.saliency.source, summary: state.saliency.summary, images: state.saliency.images };
    if (state.crossValidation) {
      const cv = state.crossValidation;
      const plain = (c) => ({ full: { mean: c.full.mean, sd: c.full.sd, per_fold: Array.from(c.full.perFold) }, retained: { mean: c.retained.mean, sd: c.retained.sd, per_fold: Array.from(c.retained.perFold) }, loftus_masson_se: c.se, paired_t_test_retained_vs_full: c.test });
      summary.cross_validation = {
        folds: cv.folds.length / cv.seeds.length, seeds: cv.seeds, r: plain(cv.r), r2: plain(cv.r2),
        set_size: { mean: cv.setSize.mean, sd: cv.setSize.sd, per_fold: cv.folds.map((f) => f.setSize) },
        // The selection curves (2OI r with the top m feature maps kept), so that "Open results" draws them again.
        curves: cv.folds.map((f) => ({ seed: f.seed, fold: f.fold, set_size: f.setSize, train_r: Array.from(f.trainCurve), test_r: Array.from(f.testCurve) })),
      };
    } else if (r.storedCrossValidation) {
      summary.cross_validation = r.storedCrossValidation;
    }
    const cats = resultCategories();
    const o = r.origin || {};
    const title = o.kind === 'example' ? `Example: ${o.example.title} (Kriegeskorte 92), ${summary.model?.name || ''}` : null;
    const bytes = await call('exportResults', {
      summary: JSON.stringify(summary),
      colormap,
      imageWeight: 1 - opacity / 100,
      maxSide: Number($('export-images').value),
      overlays: true,
      categories: cats ? JSON.stringify(cats) : null,
      title,
    });
    const blob = new Blob([bytes], { type: 'application/zip' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = 'alignmap-results.zip';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    timings.exportMs = performance.now() - t0;
    show($('export-status'), `alignmap-results.zip: ${formatBytes(blob.size)}, in ${seconds(timings.exportMs)}. “Open results” shows it again without computing.`);
  } catch (err) {
    show($('export-status'), `The export failed: ${err.message}`);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- the first minute
// An example in one click (examples.js), published results without computing (published.js),
// and the view in the address (share.js).

// A click before the engine has started (or while the bundled network loads) waits for it.
let engineStarted;
const engine = new Promise((resolve) => { engineStarted = resolve; });

function startProgress(done, total) {
  const box = $('start-progress');
  const bar = box.querySelector('progress');
  box.hidden = !total;
  bar.max = Math.max(1, total);
  bar.value = done;
}

async function tryExample(id) {
  if (state.running) return;
  showError($('start-error'), '');
  const status = $('start-status');
  const button = $('try-example');
  button.disabled = true;
  const t0 = performance.now();
  try {
    await engine;
    if (state.modelLoading) await state.modelLoading;
    const ex = await findExample(id);
    $('example-choice').value = id;
    show(status, `Fetching the example: ${ex.files.length} images and their human dissimilarities…`, 'loading');
    const files = await exampleFiles(ex, (done, total) => startProgress(done, total));
    startProgress(0, 0);
    if (!state.model || state.model.name !== PRESETS.bundled.url) {
      show(status, 'Loading the bundled network (EfficientNet-Lite0)…', 'loading');
      await loadModel({ auto: true });
      if (!state.model || state.model.name !== PRESETS.bundled.url) throw new Error(`the bundled network did not load: ${$('model-error').textContent}`);
    }
    // Through the cohort section, as a visitor's own files: it shows what the example consists of.
    await clearImages();
    $('names-file').value = '';
    document.querySelector(`input[name="direction"][value="${ex.direction}"]`).checked = true;
    const transfer = new DataTransfer();
    transfer.items.add(files.matrix);
    $('matrix-file').files = transfer.files;
    await matrixChanged();
    await addImages(files.images);
    if (!state.check || !state.check.ok) throw new Error(`the example's files do not fit together: ${$('checks').textContent}`);
    state.cohortOrigin = { kind: 'example', id, example: ex, categories: files.categories, labels: files.labels };
    show(status, `Running the example on the bundled network: ${ex.files.length} images…`, 'running');
    $('run-section').scrollIntoView({ block: 'start' });
    await analyze();
    if (!state.results || state.results.origin.kind !== 'example') {
      throw new Error($('run-error').hidden ? 'the analysis did not finish' : $('run-error').textContent);
    }
    timings.exampleMs = performance.now() - t0;
    show(status, `${ex.title}: done in ${seconds(timings.exampleMs)}; the heatmaps are below.`, 'done');
    link.update();
  } catch (err) {
    if (err.message === 'cancelled') return;
    showError($('start-error'), `The example could not run: ${err.message}`);
    show(status, '', 'error');
  } finally {
    startProgress(0, 0);
    button.disabled = false;
  }
}

async function openResultsFrom({ url = null, file = null }) {
  if (state.running) return;
  showError($('start-error'), '');
  const status = $('start-status');
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
    state.saliency = null;
    state.crossValidation = null;
    $('cv-results').hidden = true;
    $('saliency-results').textContent = '';
    show($('saliency-status'), '');
    await renderResults(t0);
    if (state.results.storedCrossValidation) {
      showCrossValidation(crossValidationFromSummary(state.results.storedCrossValidation));
      show($('cv-status'), 'The cross-validation this file holds (computed when it was made).');
    } else {
      show($('cv-status'), 'This file holds no cross-validation: it needs the network and the human matrix (analyse the cohort here, or use alignmap validate).');
    }
    timings.openResultsMs = performance.now() - t0;
    show(status, `Opened ${name}: ${state.results.n} images, in ${seconds(timings.openResultsMs)}, nothing computed.` +
      (url ? '' : ' (A file from this computer cannot be shared by a link: publish it and link to ?results=its address.)'), 'done');
    link.update();
    $('results').scrollIntoView({ block: 'start' });
  } catch (err) {
    startProgress(0, 0);
    const message = err instanceof ResultsError ? err.message : `${err.message}`;
    showError($('start-error'), `The results could not be opened: ${message}`);
    show(status, '', 'error');
  }
}

/** The view on screen, for the address. */
function readView() {
  const r = state.results;
  const o = r && !$('results').hidden ? r.origin : null;
  const source = $('saliency-source');
  const open = $('viewer').open && r && state.viewer.index >= 0;
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
async function applyView(view) {
  const o = state.results ? state.results.origin : null;
  if (view.results && !(o && o.kind === 'results' && o.url === view.results)) {
    await openResultsFrom({ url: view.results });
  } else if (!view.results && view.example && !(o && o.kind === 'example' && o.id === view.example)) {
    await tryExample(view.example);
  } else if (state.results && o && o.kind !== 'run') {
    // Back to a view without data (the landing): the results are put away, not forgotten.
    $('results').hidden = !(view.example || view.results);
  }
  $('colormap').value = view.cmap;
  $('opacity').value = String(view.opacity);
  document.querySelector(`input[name="show"][value="${view.show}"]`).checked = true;
  displayChanged();
  const source = $('saliency-source');
  if (view.saliency && Array.from(source.options).some((x) => x.value === view.saliency)) source.value = view.saliency;
  else if (source.options.length) source.value = source.options[0].value;
  const index = view.image && state.results && !$('results').hidden ? state.results.names.indexOf(view.image) : -1;
  if (index >= 0) await openViewer(index, view.view);
  else if ($('viewer').open) $('viewer').close();
}

const link = linkView({ read: readView, apply: applyView });

// ---------------------------------------------------------------- wiring

function wire() {
  for (const radio of document.querySelectorAll('input[name="model"]')) radio.addEventListener('change', updateModelFields);
  $('load-model').addEventListener('click', () => loadModel());
  $('device-choice').addEventListener('change', async () => {
    if (state.running) await cancel();
    state.deviceChoice = $('device-choice').value;
    state.results = null;
    $('results').hidden = true;
    try {
      await restoreWorker();
    } catch (err) {
      showError($('model-error'), err.message);
    }
  });
  $('cancel-download').addEventListener('click', () => downloadAbort && downloadAbort.abort());
  $('clear-storage').addEventListener('click', async () => {
    await clearCache();
    refreshStorage();
  });
  $('storage').addEventListener('toggle', refreshStorage);

  $('image-files').addEventListener('change', (e) => { addImages(e.target.files); e.target.value = ''; });
  $('image-folder').addEventListener('change', (e) => { addImages(e.target.files); e.target.value = ''; });
  $('clear-images').addEventListener('click', clearImages);
  const zone = $('drop-zone');
  const over = (e) => { e.preventDefault(); zone.dataset.over = 'true'; };
  zone.addEventListener('dragenter', over);
  zone.addEventListener('dragover', over);
  zone.addEventListener('dragleave', () => { delete zone.dataset.over; });
  zone.addEventListener('drop', async (e) => {
    e.preventDefault();
    delete zone.dataset.over;
    if (state.running) return;
    addImages(await entriesOf(e.dataTransfer));
  });
  // Files dropped anywhere else must not make the browser navigate away from the page.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
  zone.addEventListener('keydown', (e) => {
    if (e.target === zone && (e.key === 'Enter' || e.key === ' ')) {
      e.preventDefault();
      $('image-files').click();
    }
  });

  $('matrix-file').addEventListener('change', matrixChanged);
  $('matrix-key').addEventListener('change', () => {
    if (state.matrix) state.matrix.key = $('matrix-key').value;
    state.results = null;
    readMatrix();
  });
  $('names-file').addEventListener('change', () => { state.results = null; readMatrix(); });
  for (const radio of document.querySelectorAll('input[name="direction"]')) radio.addEventListener('change', () => readMatrix());

  $('analyze').addEventListener('click', analyze);
  $('cancel').addEventListener('click', cancel);

  $('colormap').addEventListener('change', displayChanged);
  $('opacity').addEventListener('input', displayChanged);
  for (const radio of document.querySelectorAll('input[name="show"]')) radio.addEventListener('change', displayChanged);

  $('viewer-close').addEventListener('click', () => $('viewer').close());
  $('viewer-prev').addEventListener('click', () => stepViewer(-1));
  $('viewer-next').addEventListener('click', () => stepViewer(1));
  $('viewer-saliency').addEventListener('click', () => {
    state.viewer.mode = state.viewer.mode === 'saliency' ? 'heatmap' : 'saliency';
    link.update();
    drawViewer();
  });
  $('saliency-source').addEventListener('change', () => link.update());
  $('viewer').addEventListener('keydown', (e) => {
    if (e.key === 'ArrowLeft') stepViewer(-1);
    if (e.key === 'ArrowRight') stepViewer(1);
  });
  $('viewer').addEventListener('close', () => {
    const button = document.querySelector(`#gallery .thumb[data-index="${state.viewer.index}"]`);
    if (button) button.focus();
    state.viewer.index = -1;
    state.viewer.mode = 'heatmap';
    link.update();
  });
  // A click on the backdrop closes the dialog.
  $('viewer').addEventListener('click', (e) => { if (e.target === $('viewer')) $('viewer').close(); });

  $('saliency-files').addEventListener('change', (e) => importSaliency(e.target.files));
  $('saliency-run').addEventListener('click', runSaliency);
  $('export').addEventListener('click', exportZip);
  $('cv-run').addEventListener('click', crossValidate);
  $('cv-cancel').addEventListener('click', cancelCrossValidation);

  // The opacity slider redraws while it moves ('input') and enters the history when released.
  $('opacity').addEventListener('change', displayChanged);
  $('try-example').addEventListener('click', () => tryExample($('example-choice').value));
  $('results-file').addEventListener('change', (e) => {
    const file = e.target.files[0];
    e.target.value = '';
    if (file) openResultsFrom({ file });
  });
  $('results-url-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const url = $('results-url').value.trim();
    if (url) openResultsFrom({ url });
  });
  // Their own cohort will use the bundled network unless they choose another: load it now.
  $('own-cohort').addEventListener('click', () => {
    if (!state.model && state.worker) loadModel({ auto: true });
  });
  updateModelFields();
}

async function main() {
  wire();
  try {
    await startDevice();
  } catch {
    return;
  }
  document.body.dataset.ready = 'engine';
  judgments = mountJudgments({
    section: $('judge-section'),
    call,
    images: () => sortedNames().map((n) => state.images.get(n)),
    useMatrix: useMatrixFile,
    analyze,
    modelReady: () => !!state.model,
    running: () => state.running,
    results: () => state.results,
  });
  judgments.imagesChanged();
  await refreshCheck();
  engineStarted();
  const view = parseView(location.search);
  // Published results need no network: it is loaded only when it will be used.
  if (!view.results) {
    state.modelLoading = loadModel({ auto: true });
    await state.modelLoading;
    state.modelLoading = null;
  }
  document.body.dataset.ready = 'true';
  await link.suspend(() => applyView(view));
  document.body.dataset.view = 'applied';
}

main();
