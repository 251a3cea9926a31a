// The heatmaps of the results (step 4): the display controls (colour map, opacity, original),
// the gallery of thumbnails with their categories, and the enlarged view of one image with its
// top feature maps and, on request, its saliency contours. The engine draws the pixels.
import { state, timings } from './state.js';
import { el, checkedValue, radios } from './dom.js';
import { call } from './engine.js';
import { bars } from './charts.js';
import { fmt, putPixels, nextFrame, topFeatures, topOfRow, categoriesOf, categoryLabel } from './util.js';
import { viewChanged } from './address.js';

const THUMB_SIDE = 256;
const VIEWER_SIDE = 720;

export async function drawLegend() {
  const rgba = await call('colormapStrip', { colormap: state.display.colormap });
  putPixels(el.legend, { width: 256, height: 1, rgba });
}

/** What a thumbnail's picture was drawn with: a card drawn with another style is redrawn. */
function displayKey() {
  const { colormap, opacity, original } = state.display;
  return `${colormap} ${opacity} ${original}`;
}

/** The style of the thumbnails, as the engine's overlay takes it. */
export function thumbnailStyle() {
  const { colormap, opacity, original } = state.display;
  return { colormap, imageWeight: 1 - opacity / 100, original, maxSide: THUMB_SIDE };
}

/** The category legend of `cats` over `names`; answers the categories in their order. */
function renderCategoryLegend(cats, names) {
  const order = cats ? Array.from(new Set(names.map((n) => cats.categories[n]).filter(Boolean))) : [];
  const legend = el.categoryLegend;
  legend.textContent = '';
  legend.hidden = !order.length;
  for (const [k, id] of order.entries()) {
    const li = document.createElement('li');
    li.dataset.category = String(k % 8);
    li.textContent = `${categoryLabel(cats, id)} (${names.filter((n) => cats.categories[n] === id).length})`;
    legend.append(li);
  }
  return order;
}

/**
 * The card of image `i` (`name`): its thumbnail (drawn later), its image baseline `base` and
 * `top` feature maps, its category chip (`cats`, `order` as renderCategoryLegend answers).
 */
function card(name, i, { base, top }, cats, order) {
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
  const tops = top.map((d) => `fm${d.k} ${d.value.toFixed(3)}`).join(', ');
  meta.textContent = `r = ${fmt(base, 3)} · top: ${tops || 'none'}`;
  button.setAttribute('aria-label', `${name}: image baseline r = ${fmt(base, 3)}; top feature maps ${tops || 'none'}. Enlarge.`);
  const why = document.createElement('span');
  why.className = 'why';
  why.hidden = true;
  button.append(canvas, title, meta, why);
  const category = cats && cats.categories[name];
  if (category) {
    li.dataset.category = String(order.indexOf(category) % 8);
    const chip = document.createElement('span');
    chip.className = 'chip';
    chip.textContent = categoryLabel(cats, category);
    title.after(chip);
    button.setAttribute('aria-label', `${button.getAttribute('aria-label').replace(/ Enlarge\.$/, '')} Category: ${chip.textContent}. Enlarge.`);
  }
  button.addEventListener('click', () => openViewer(i));
  li.append(button);
  return li;
}

/** Puts `picture` (an overlay from the engine) on `button`'s thumbnail, drawn with `key`. */
function drawThumb(button, picture, key) {
  putPixels(button.querySelector('canvas'), picture);
  button.dataset.heatmap = picture.defined ? 'yes' : 'none';
  button.dataset.drawnWith = key;
  button.title = picture.note || '';
  const why = button.querySelector('.why');
  why.textContent = picture.defined ? '' : `No heatmap: ${picture.note}.`;
  why.hidden = picture.defined;
}

// The cards of the analysis running: its streamed pictures by image, and its categories so far.
let stream = null;

/**
 * An image of the running analysis, scored (`card` from the engine: index, name, n, baseline,
 * ais, picture): its card joins the gallery at once, not clickable until the analysis ends. The
 * first shows the results section with the gallery alone; with t0 (the run's start) it records
 * the time to the first heatmap on screen.
 */
export async function streamImage(scored, t0) {
  if (!stream) {
    const origin = state.cohortOrigin || { kind: 'run' };
    stream = { pictures: new Map(), key: displayKey(), cats: categoriesOf({ origin }), order: [] };
    el.gallery.textContent = '';
    el.categoryLegend.hidden = true;
    el.viewAbout.hidden = true;
    el.results.dataset.streaming = 'yes';
    el.results.hidden = false;
    // The engine let go of the previous analysis when this one began.
    state.results = null;
  }
  const { cats, order } = stream;
  const category = cats && cats.categories[scored.name];
  // Images arrive in order, so a category's place among those seen so far is its final one.
  if (category && !order.includes(category)) order.push(category);
  const li = card(scored.name, scored.index, { base: scored.baseline, top: topOfRow(scored.ais, 3) }, cats, order);
  const button = li.querySelector('.thumb');
  button.disabled = true;
  drawThumb(button, scored.picture, stream.key);
  stream.pictures.set(scored.index, scored.picture);
  el.gallery.append(li);
  el.resultsLive.hidden = false;
  el.resultsLive.textContent = `${scored.index + 1} of ${scored.n} images scored: each image's heatmap appears as soon as its scores are final; the summary and the cohort's charts follow when all are.`;
  if (t0 !== undefined && timings.firstHeatmapMs === undefined) {
    await nextFrame();
    timings.firstHeatmapMs = performance.now() - t0;
    timings.firstHeatmapSinceOpenMs = performance.now();
  }
}

/**
 * The run that streamed its images ended: `completed` when its results follow (renderResults
 * takes over the streamed pictures), else the cards scored so far stay with a line saying so.
 */
export function endStream(completed) {
  if (!stream) return;
  delete el.results.dataset.streaming;
  if (completed) {
    el.resultsLive.hidden = true;
    return;
  }
  el.resultsLive.textContent = `The analysis stopped after ${stream.pictures.size} images: their heatmaps are above; run it again for the summary, the charts and the rest.`;
  stream = null;
}

export function renderGallery() {
  const r = state.results;
  el.gallery.textContent = '';
  const cats = categoriesOf(r);
  const order = renderCategoryLegend(cats, r.names);
  // The pictures an analysis streamed while it ran are drawn at once (drawGallery skips them).
  const streamed = stream;
  stream = null;
  r.names.forEach((name, i) => {
    const li = card(name, i, { base: r.info.baseline.perImage[i], top: topFeatures(r, i, 3) }, cats, order);
    const picture = streamed && streamed.pictures.get(i);
    if (picture) drawThumb(li.querySelector('.thumb'), picture, streamed.key);
    el.gallery.append(li);
  });
}

let drawGeneration = 0;

/**
 * Draws every thumbnail not drawn yet in the current display style; with t0 (the run's start)
 * it records the time to the first and to the last.
 */
export async function drawGallery(t0) {
  const generation = ++drawGeneration;
  const key = displayKey();
  const buttons = Array.from(el.gallery.querySelectorAll('.thumb')).filter((b) => b.dataset.drawnWith !== key);
  for (const button of buttons) {
    if (generation !== drawGeneration || !state.results) return;
    const index = Number(button.dataset.index);
    const picture = await call('overlay', { index, ...thumbnailStyle() });
    if (generation !== drawGeneration) return;
    drawThumb(button, picture, key);
    if (t0 !== undefined && timings.firstHeatmapMs === undefined) {
      await nextFrame();
      timings.firstHeatmapMs = performance.now() - t0;
      // Since the page was opened (performance.now() counts from the navigation).
      timings.firstHeatmapSinceOpenMs = performance.now();
    }
  }
  if (t0 !== undefined) timings.allHeatmapsMs = performance.now() - t0;
  el.gallery.dataset.drawn = String(generation);
}

export function displayChanged(event) {
  state.display.colormap = el.colormap.value;
  state.display.opacity = Number(el.opacity.value);
  state.display.original = checkedValue('show') === 'original';
  el.opacityValue.textContent = `${state.display.opacity} %`;
  // A change adds an entry to the history; dragging the opacity slider adds one when released.
  if (event && event.type !== 'input') viewChanged();
  // While an analysis streams its cards they keep their style; its end redraws them in this one.
  if (!state.results || stream) return;
  drawLegend();
  drawGallery();
  if (el.viewer.open && state.viewer.mode === 'heatmap') drawViewer();
}

// ---------------------------------------------------------------- the enlarged view

async function drawViewer() {
  const i = state.viewer.index;
  const r = state.results;
  if (!r || i < 0) return;
  const canvas = el.viewerCanvas;
  const note = el.viewerNote;
  el.viewerTitle.textContent = `${r.names[i]} (${i + 1} of ${r.n})`;
  el.viewerBaseline.textContent = `Image baseline r = ${fmt(r.info.baseline.perImage[i])}: its row of the network's similarities against the human row.`;
  bars(el.viewerBars, topFeatures(r, i, 10).map((d) => ({ label: `fm${d.k}`, value: d.value })), { width: 320 });
  el.viewerRr.textContent = '';
  el.viewerSaliency.textContent = state.viewer.mode === 'saliency' ? 'Heatmap' : 'Saliency contours';
  try {
    if (state.viewer.mode === 'saliency') {
      const picture = await call('saliencyOverlay', { index: i, source: el.saliencySource.value });
      putPixels(canvas, picture);
      const rr = picture.risks.map((l) => `top ${l.percent} %: RR ${l.rr === null ? `undefined (${l.undefined})` : l.rr.toFixed(2)}`).join('; ');
      el.viewerRr.textContent = `Saliency (${el.saliencySource.value}, orange) against AIS (blue). ${rr}`;
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

export function openViewer(index, mode = 'heatmap') {
  state.viewer.index = index;
  state.viewer.mode = mode;
  const dialog = el.viewer;
  if (!dialog.open) dialog.showModal();
  el.viewerClose.focus();
  viewChanged();
  return drawViewer();
}

function stepViewer(delta) {
  const n = state.results ? state.results.n : 0;
  if (!n) return;
  state.viewer.index = (state.viewer.index + delta + n) % n;
  viewChanged({ replace: true });
  drawViewer();
}

export function wireGallery() {
  el.colormap.addEventListener('change', displayChanged);
  // The opacity slider redraws while it moves ('input') and enters the history when released.
  el.opacity.addEventListener('input', displayChanged);
  el.opacity.addEventListener('change', displayChanged);
  for (const radio of radios.show) radio.addEventListener('change', displayChanged);

  const viewer = el.viewer;
  el.viewerClose.addEventListener('click', () => viewer.close());
  el.viewerPrev.addEventListener('click', () => stepViewer(-1));
  el.viewerNext.addEventListener('click', () => stepViewer(1));
  el.viewerSaliency.addEventListener('click', () => {
    state.viewer.mode = state.viewer.mode === 'saliency' ? 'heatmap' : 'saliency';
    viewChanged();
    drawViewer();
  });
  viewer.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowLeft') stepViewer(-1);
    if (e.key === 'ArrowRight') stepViewer(1);
  });
  viewer.addEventListener('close', () => {
    const button = el.gallery.querySelector(`.thumb[data-index="${state.viewer.index}"]`);
    if (button) button.focus();
    state.viewer.index = -1;
    state.viewer.mode = 'heatmap';
    viewChanged();
  });
  // A click on the backdrop closes the dialog.
  viewer.addEventListener('click', (e) => { if (e.target === viewer) viewer.close(); });
}
