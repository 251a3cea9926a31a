// The examples that ship with the page (www/examples/, made by scripts/make-examples.mjs): their
// manifest, and their files as File objects, so that an example goes through exactly the same
// path as a cohort a visitor brings (the cohort section shows what it consists of).

export const EXAMPLES_URL = 'examples/examples.json';

let manifest = null;

/** examples.json, fetched once: { examples: [{ id, title, summary, source, task, direction, images, matrix, files, categories, categoryLabels }] }. */
export async function examples() {
  if (!manifest) {
    const response = await fetch(EXAMPLES_URL);
    if (!response.ok) throw new Error(`${EXAMPLES_URL}: HTTP ${response.status}; the examples are not on this server`);
    manifest = await response.json();
  }
  return manifest.examples;
}

export async function example(id) {
  const all = await examples();
  const found = all.find((e) => e.id === id);
  if (!found) throw new Error(`there is no example "${id}"; the examples are ${all.map((e) => e.id).join(', ')}`);
  return found;
}

async function fetchFile(url, name, type) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new File([await response.blob()], name, { type });
}

/**
 * The example's files: { images: File[], matrix: File, categories: { name → id } | null,
 * labels: { id → label } | null }. onProgress(done, total) hears each image.
 */
export async function exampleFiles(ex, onProgress = () => {}) {
  const base = new URL(EXAMPLES_URL, location.href);
  const at = (path) => new URL(path, base).href;
  const images = [];
  let done = 0;
  // A few at a time: the files are small, the server may be far.
  const queue = ex.files.slice();
  const worker = async () => {
    while (queue.length) {
      const name = queue.shift();
      images.push(await fetchFile(at(ex.images + name), name, 'image/png'));
      onProgress(++done, ex.files.length);
    }
  };
  await Promise.all(Array.from({ length: 6 }, worker));
  images.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const matrixName = ex.matrix.split('/').pop();
  const matrix = await fetchFile(at(ex.matrix), `${ex.id}-${matrixName}`, 'text/csv');
  let categories = null;
  if (ex.categories) {
    const response = await fetch(at(ex.categories));
    if (response.ok) {
      const all = await response.json();
      categories = Object.fromEntries(ex.files.map((f) => [f, all[f]]));
    }
  }
  return { images, matrix, categories, labels: ex.categoryLabels || null };
}
