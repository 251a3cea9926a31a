// The inputs of the analysis running now, kept in this browser (IndexedDB, which stores files)
// while it runs and deleted when it ends, so that a reload in the middle of it finds them: the
// reloaded page puts the images, the similarity matrix and the network back and starts the
// analysis again (run.js, resumeInterrupted). Nothing is kept once a run has ended, and nothing
// leaves this machine. Where IndexedDB is missing or refuses (a private window in some browsers,
// a full disk), the reloaded page says that the files must be added again.
import { state } from './state.js';
import { el, checkValue } from './dom.js';
import { addImages, matrixChanged, readMatrix, sortedNames } from './cohort.js';
import { loadModel } from './network.js';
import { absolute, cached } from './models.js';

const DB_NAME = 'alignmap-interrupted';
const STORE = 'inputs';
const KEY = 'running';

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error || new Error('IndexedDB request failed'));
  });
}

async function store(mode, fn) {
  if (typeof indexedDB === 'undefined') throw new Error('this browser offers no IndexedDB');
  const open = indexedDB.open(DB_NAME, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE);
  const db = await request(open);
  try {
    const t = db.transaction(STORE, mode);
    const result = await request(fn(t.objectStore(STORE)));
    await new Promise((resolve, reject) => {
      t.oncomplete = resolve;
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error || new Error('IndexedDB transaction aborted (is the disk full?)'));
    });
    return result;
  } finally {
    db.close();
  }
}

/** What the page needs to run the current cohort again, or null when the network came from nowhere it can find again. */
function inputs() {
  const m = state.matrix;
  const model = state.model;
  if (!m || !m.file || !model) return null;
  const network = model.blob instanceof File ? { kind: 'file', file: model.blob } : { kind: 'url', url: model.name };
  return {
    images: sortedNames().map((n) => state.images.get(n)),
    matrix: { file: m.file, key: m.key || '', namesFile: m.namesFile || null, dissimilarity: !!m.dissimilarity },
    network,
  };
}

/** Keeps the inputs of the run starting now; resolves to null, or to why they could not be kept. */
export async function keepInputs() {
  try {
    const record = inputs();
    if (!record) return 'the network or the matrix is not a file this page can keep';
    await store('readwrite', (s) => s.put(record, KEY));
    return null;
  } catch (err) {
    return err.message || String(err);
  }
}

/** Deletes the kept inputs (the run ended). */
export async function forgetInputs() {
  try {
    await store('readwrite', (s) => s.delete(KEY));
  } catch {
    // nothing kept
  }
}

/** The kept inputs, deleted from the store, or null. */
export async function takeInputs() {
  try {
    const record = await store('readonly', (s) => s.get(KEY));
    await forgetInputs();
    return record || null;
  } catch {
    return null;
  }
}

function setFile(input, file) {
  const dt = new DataTransfer();
  if (file) dt.items.add(file);
  input.files = dt.files;
}

/**
 * Puts kept inputs back into the page: the network (a file, or a URL from the browser's storage:
 * nothing is downloaded here), the matrix, the images. Throws when the network cannot be found
 * again.
 */
export async function restoreInputs(record) {
  const { network, matrix } = record;
  if (network.kind === 'file') {
    checkValue('model', 'file');
    setFile(el.modelFile, network.file);
    await loadModel();
  } else if (!state.model || absolute(state.model.name) !== absolute(network.url)) {
    if (!(await cached(network.url))) throw new Error(`the network ${network.url} is not stored in this browser; load it again`);
    checkValue('model', 'url');
    el.modelUrl.value = absolute(network.url);
    await loadModel();
  }
  if (!state.model || (network.kind === 'url' && absolute(state.model.name) !== absolute(network.url))) {
    throw new Error(`the network did not load again: ${el.modelError.textContent}`);
  }
  setFile(el.namesFile, matrix.namesFile);
  checkValue('direction', matrix.dissimilarity ? 'dissimilarity' : 'similarity');
  setFile(el.matrixFile, matrix.file);
  await matrixChanged();
  if (matrix.key && state.matrix) {
    el.matrixKey.value = matrix.key;
    state.matrix.key = matrix.key;
    await readMatrix();
  }
  await addImages(record.images);
}
