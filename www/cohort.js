// Step 2, the cohort: images (files, a folder, or dropped) and the human similarity matrix (a
// file, an array of an .npz, row names, similarities or dissimilarities). The files go to the
// engine, which decodes and reads them.
import { state, timings } from './state.js';
import { el, checkedValue, checkValue, radios } from './dom.js';
import { call, onProgress } from './engine.js';
import { show, showError } from './util.js';
import { judgments, refreshCheck } from './checks.js';

const IMAGE_EXT = /\.(png|jpe?g)$/i;

export function sortedNames() {
  // The command line's order: file names sorted by their bytes (UTF-8), which for these strings
  // is the order of code points.
  return Array.from(state.images.keys()).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
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

export async function addImages(fileList) {
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
  el.results.hidden = true;
  show(el.imageStatus, `Reading ${fresh.length} image(s)…`);
  const t0 = performance.now();
  onProgress((m) => {
    if (m.stage === 'load') show(el.imageStatus, `Reading images: ${m.done} of ${m.total}…`);
  });
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

export async function clearImages() {
  state.cohortOrigin = null;
  state.images.clear();
  state.imageErrors = [];
  state.skipped = [];
  state.results = null;
  el.results.hidden = true;
  await call('clearImages');
  renderImages();
  await refreshCheck();
}

function renderImages() {
  judgments?.imagesChanged();
  const n = state.images.size;
  show(el.imageStatus, n ? `${n} image${n === 1 ? '' : 's'} ready (decoded here, in this browser).` : 'No images yet.');
  el.clearImages.disabled = n === 0 && !state.imageErrors.length && !state.skipped.length;
  const list = el.imageErrors;
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

/** A matrix made elsewhere on the page (the judgments' CSV) becomes the human matrix as a chosen file would. */
export async function useMatrixFile(file, dissimilarity) {
  try {
    const dt = new DataTransfer();
    dt.items.add(file);
    el.matrixFile.files = dt.files;
  } catch {
    // older browsers cannot set a file input; the status line names the file anyway
  }
  el.namesFile.value = '';
  checkValue('direction', dissimilarity ? 'dissimilarity' : 'similarity');
  state.results = null;
  el.results.hidden = true;
  el.keyField.hidden = true;
  showError(el.matrixError, '');
  state.matrix = { file, key: '', arrays: null, info: null };
  await readMatrix();
}

export async function matrixChanged() {
  const file = el.matrixFile.files[0];
  state.cohortOrigin = null;
  state.results = null;
  el.results.hidden = true;
  showError(el.matrixError, '');
  if (!file) {
    state.matrix = null;
    await call('clearMatrix');
    show(el.matrixStatus, 'No matrix yet.');
    await refreshCheck();
    return;
  }
  state.matrix = { file, key: '', arrays: null, info: null };
  el.keyField.hidden = true;
  if (isNpz(file)) {
    try {
      const arrays = await call('npzArrays', { file });
      state.matrix.arrays = arrays;
      const select = el.matrixKey;
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
      el.keyField.hidden = false;
    } catch (err) {
      showError(el.matrixError, err.message);
      state.matrix = null;
      await call('clearMatrix');
      show(el.matrixStatus, 'No matrix yet.');
      await refreshCheck();
      return;
    }
  }
  await readMatrix();
}

export async function readMatrix({ quiet = false } = {}) {
  const m = state.matrix;
  if (!m) return;
  m.namesFile = el.namesFile.files[0] || null;
  m.dissimilarity = checkedValue('direction') === 'dissimilarity';
  if (!quiet) showError(el.matrixError, '');
  if (m.arrays && !m.key) {
    m.info = null;
    await call('clearMatrix');
    show(el.matrixStatus, `${m.file.name} holds ${m.arrays.filter((a) => a.square).length} square arrays: choose one.`);
    await refreshCheck();
    return;
  }
  try {
    m.info = await call('readMatrix', { file: m.file, key: m.key, namesFile: m.namesFile, dissimilarity: m.dissimilarity });
    const what = m.dissimilarity ? 'dissimilarity matrix (used as −D)' : 'similarity matrix';
    const names = m.info.names ? `, rows named${m.namesFile ? ` by ${m.namesFile.name}` : ''}` : ', no row names (rows follow the sorted image names)';
    show(el.matrixStatus, `${m.info.n} × ${m.info.n} ${what} from ${m.file.name}${m.key ? ` (array ${m.key})` : ''}${names}.`);
  } catch (err) {
    m.info = null;
    show(el.matrixStatus, 'The matrix cannot be used:');
    showError(el.matrixError, err.message);
  }
  if (!quiet) await refreshCheck();
}

// ---------------------------------------------------------------- wiring

export function wireCohort() {
  el.imageFiles.addEventListener('change', (e) => { addImages(e.target.files); e.target.value = ''; });
  el.imageFolder.addEventListener('change', (e) => { addImages(e.target.files); e.target.value = ''; });
  el.clearImages.addEventListener('click', clearImages);
  const zone = el.dropZone;
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
      el.imageFiles.click();
    }
  });

  el.matrixFile.addEventListener('change', matrixChanged);
  el.matrixKey.addEventListener('change', () => {
    if (state.matrix) state.matrix.key = el.matrixKey.value;
    state.results = null;
    readMatrix();
  });
  el.namesFile.addEventListener('change', () => { state.results = null; readMatrix(); });
  for (const radio of radios.direction) radio.addEventListener('change', () => readMatrix());
}
