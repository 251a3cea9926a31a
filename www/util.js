// Small helpers of the page's modules: status lines, numbers, canvases, the scores on screen, and
// reading a download with progress.

export function show(el, text, stateName) {
  el.textContent = text;
  if (stateName !== undefined) el.dataset.state = stateName;
}

export function showError(el, message) {
  el.textContent = message || '';
  el.hidden = !message;
}

export function fmt(x, digits = 4) {
  return Number.isFinite(x) ? x.toFixed(digits) : 'undefined';
}

export function seconds(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 90) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** Empties a <dl> and returns add(term, value), which appends one term and its value. */
export function definitions(dl) {
  dl.textContent = '';
  return (term, value) => {
    const dt = document.createElement('dt');
    dt.textContent = term;
    const dd = document.createElement('dd');
    dd.textContent = value;
    dl.append(dt, dd);
  };
}

export function putPixels(canvas, picture) {
  canvas.width = picture.width;
  canvas.height = picture.height;
  const ctx = canvas.getContext('2d');
  ctx.putImageData(new ImageData(picture.rgba, picture.width, picture.height), 0, 0);
}

export function nextFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

/** The `count` feature maps with the highest AIS in image `index` of `results`: [{ k, value }]. */
export function topFeatures(results, index, count) {
  const { image, channels } = results;
  return topOfRow(image.subarray(index * channels, (index + 1) * channels), count);
}

/** The `count` feature maps of one image's AIS `row` with the highest scores: [{ k, value }]. */
export function topOfRow(row, count) {
  return Array.from(row, (value, k) => ({ k, value }))
    .filter((d) => Number.isFinite(d.value))
    .sort((a, b) => b.value - a.value)
    .slice(0, count);
}

/** A category's words: its label in `cats`, else its id with dashes and underscores as spaces. */
export function categoryLabel(cats, id) {
  return cats.labels[id] || id.replace(/[-_]/g, ' ');
}

/** Categories of `results`: { categories: { name → id }, labels: { id → label } } or null. */
export function categoriesOf(results) {
  const o = results && results.origin;
  if (!o) return null;
  if (o.kind === 'example' && o.categories) return { categories: o.categories, labels: o.labels || {} };
  if (o.kind === 'results' && o.manifest.categories) return { categories: o.manifest.categories, labels: o.manifest.category_labels || {} };
  return null;
}

/** The body of a fetch response as its chunks; onChunk(received) hears the bytes so far after each. */
export async function readChunks(response, onChunk) {
  const reader = response.body.getReader();
  const chunks = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    onChunk(received);
  }
  return chunks;
}
