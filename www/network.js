// Step 1, the network: the device the engine computes on, and the network weights (bundled,
// VGG-16 from the hub after asking, a URL or a file), downloaded with progress and kept in the
// browser's storage (models.js).
import { PRESETS, cached, download, store, DownloadError, formatBytes, listCached, clearCache, cacheAvailable } from './models.js';
import { state, timings } from './state.js';
import { el, checkedValue, radios } from './dom.js';
import { call, startWorker, stopWorker } from './engine.js';
import { show, showError, seconds } from './util.js';
import { refreshCheck } from './checks.js';
import { readMatrix, sortedNames } from './cohort.js';
import { browserMemory } from './memory.js';

// ---------------------------------------------------------------- device

export async function startDevice() {
  show(el.deviceStatus, 'Starting the WebAssembly module and the device…', 'loading');
  startWorker();
  try {
    state.device = await call('start', { device: state.deviceChoice });
  } catch (err) {
    show(el.deviceStatus, `The analysis engine did not start: ${err.message}. ` +
      'Use a recent Chrome, Edge, Firefox or Safari; if this page was opened from a file, serve it with `alignmap serve`.', 'error');
    throw err;
  }
  const d = state.device;
  show(el.deviceStatus, `Device: ${d.description}`, d.cpu ? 'cpu' : d.software ? 'software' : 'ready');
  const warning = el.deviceWarning;
  if (d.cpu && d.webgpuSoftware) {
    warning.textContent = `WebGPU here is only a software fallback (${d.webgpuSoftware}, no GPU), which is slower than ` +
      'the CPU backend: the analysis runs on the CPU in WebAssembly, one worker per core. Expect a fraction of a ' +
      'second per image with the bundled network and seconds per image with VGG-16.';
    warning.hidden = false;
  } else if (d.cpu) {
    warning.textContent = `No WebGPU here (${d.reason}). The analysis runs on the CPU in WebAssembly, one worker per core: ` +
      'expect a fraction of a second per image with the bundled network and seconds per image with VGG-16. ' +
      'Chrome or Edge with WebGPU on a GPU is much faster.';
    warning.hidden = false;
  } else if (d.software) {
    warning.textContent = 'This WebGPU adapter is a software fallback (no GPU is used): results are exact but slow.';
    warning.hidden = false;
  } else {
    warning.hidden = true;
  }
  document.body.dataset.device = d.cpu ? 'cpu' : 'webgpu';
  el.deviceChoice.value = state.deviceChoice;
}

/** After a cancel: a fresh worker that gets back the network, the matrix and the images. */
export async function restoreWorker() {
  stopWorker();
  await startDevice();
  if (state.model) {
    show(el.modelStatus, 'Reloading the network…', 'loading');
    state.model.info = await call('loadModel', { blob: state.model.blob, name: state.model.name, requested: state.model.requested });
    showModelStatus();
  }
  if (state.matrix) await readMatrix({ quiet: true });
  if (state.images.size) await call('addImages', { files: sortedNames().map((n) => state.images.get(n)) });
  await refreshCheck();
}

// ---------------------------------------------------------------- network weights

let downloadAbort = null;

export function updateModelFields() {
  const choice = checkedValue('model');
  el.urlField.hidden = choice !== 'url';
  el.fileField.hidden = choice !== 'file';
}

/** Asks before a large download (the #confirm dialog); resolves to true or false. */
export function confirmDownload(text) {
  const dialog = el.confirm;
  el.confirmText.textContent = text;
  return new Promise((resolve) => {
    const done = (answer) => {
      el.confirmYes.onclick = null;
      el.confirmNo.onclick = null;
      dialog.onclose = null;
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    el.confirmYes.onclick = () => done(true);
    el.confirmNo.onclick = () => done(false);
    dialog.onclose = () => done(false);
    dialog.showModal();
    el.confirmNo.focus();
  });
}

/**
 * Before the VGG-16 download: the engine's preflight (src/web/memory.rs) says whether this
 * computer can run it (memory, from what the browser tells), roughly how long its analysis takes
 * here, whether the download can be kept, and what to choose instead; the visitor decides.
 */
async function confirmVgg16() {
  show(el.modelStatus, 'Checking whether this computer can run VGG-16…', 'loading');
  let words;
  let fits = true;
  try {
    const p = await call('vgg16Preflight', { download: PRESETS.vgg16.bytes, memory: await browserMemory({ storage: true }) });
    ({ message: words, fits } = p);
  } catch (err) {
    words = `(This computer's memory could not be checked: ${err.message}.) The analysis with VGG-16 needs a few GB of memory.`;
  }
  el.confirm.dataset.fits = String(fits);
  el.confirmYes.textContent = fits ? 'Download' : 'Download anyway';
  try {
    return await confirmDownload(`${PRESETS.vgg16.note}\n${words}\nDownload it now? On a slow connection this takes several minutes.`);
  } finally {
    el.confirmYes.textContent = 'Download';
  }
}

function showModelStatus() {
  const m = state.model;
  const i = m.info;
  const names = { vgg16: 'VGG-16', 'efficientnet-lite0': 'EfficientNet-Lite0', 'efficientnet-lite1': 'EfficientNet-Lite1', 'efficientnet-lite2': 'EfficientNet-Lite2' };
  show(el.modelStatus, `${names[i.model] || i.model} loaded from ${m.label} (${m.origin}): ${i.channels} feature maps, ` +
    `${i.embedding}-d embedding, ${i.classes} classes.`, 'ready');
  document.body.dataset.model = i.model;
}

export async function loadModel({ auto = false } = {}) {
  const choice = auto ? 'bundled' : checkedValue('model');
  showError(el.modelError, '');
  let blob;
  let name;
  let label;
  let origin;
  let requested = '';
  let downloadedFrom = null;
  const button = el.loadModel;
  button.disabled = true;
  try {
    if (choice === 'file') {
      const file = el.modelFile.files[0];
      if (!file) throw new Error('Choose a .safetensors file first.');
      blob = file;
      name = file.name;
      label = file.name;
      origin = `a file on this computer, ${formatBytes(file.size)}`;
    } else {
      let url;
      if (choice === 'url') {
        url = el.modelUrl.value.trim();
        if (!/^https?:\/\//i.test(url)) throw new Error('Enter the weights file\'s address, starting with https://');
      } else {
        url = PRESETS[choice].url;
        requested = PRESETS[choice].model;
      }
      name = url;
      label = choice === 'bundled' ? 'this page' : new URL(url, location.href).host;
      show(el.modelStatus, 'Looking in this browser\'s storage…', 'loading');
      blob = await cached(url);
      if (blob) {
        origin = `stored in this browser, ${formatBytes(blob.size)}`;
      } else {
        if (choice === 'vgg16' && !(await confirmVgg16())) {
          if (state.model) showModelStatus();
          else show(el.modelStatus, 'No network loaded yet.', 'none');
          return;
        }
        blob = await fetchWithProgress(url);
        downloadedFrom = url;
        origin = `downloaded, ${formatBytes(blob.size)}`;
        if (auto) el.download.hidden = true;
      }
    }
    show(el.modelStatus, `Reading the weights (${formatBytes(blob.size)})…`, 'loading');
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
    el.results.hidden = true;
    showModelStatus();
    refreshStorage();
  } catch (err) {
    let message = err.message.replace('--model', 'the choice');
    if (!(err instanceof DownloadError) && /neither VGG-16 nor EfficientNet/.test(err.message)) {
      message += ' — alignmap reads VGG-16 and EfficientNet-Lite0, Lite1 and Lite2 weights only.';
    } else if (/was asked for/.test(err.message)) {
      message += ' Choose the option that matches the file, or another file.';
    }
    showError(el.modelError, message);
    show(el.modelStatus, state.model ? 'The previous network stays loaded.' : 'No network loaded.', state.model ? 'ready' : 'error');
    if (state.model) showModelStatus();
  } finally {
    button.disabled = false;
    await refreshCheck();
  }
}

async function fetchWithProgress(url) {
  const bar = el.downloadProgress;
  const text = el.downloadText;
  el.download.hidden = false;
  el.cancelDownload.hidden = false;
  downloadAbort = new AbortController();
  const t0 = performance.now();
  show(el.modelStatus, `Downloading ${url}…`, 'loading');
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
    el.cancelDownload.hidden = true;
    downloadAbort = null;
  }
}

async function refreshStorage() {
  const list = el.storageList;
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

export function wireNetwork() {
  for (const radio of radios.model) radio.addEventListener('change', updateModelFields);
  el.loadModel.addEventListener('click', () => loadModel());
  el.cancelDownload.addEventListener('click', () => downloadAbort && downloadAbort.abort());
  el.clearStorage.addEventListener('click', async () => {
    await clearCache();
    refreshStorage();
  });
  el.storage.addEventListener('toggle', refreshStorage);
}
