// The heatmaps of the results (step 4): the display controls (colour map, opacity, original),
// the gallery of thumbnails with their categories, and the enlarged view of one image with its
// top feature maps and, on request, its saliency contours. The engine draws the pixels.
import { state, timings } from './state.js';
import { el, checkedValue, radios } from './dom.js';
import { call } from './engine.js';
import { bars } from './charts.js';
import { fmt, putPixels, nextFrame, topFeatures, categoriesOf } from './util.js';
import { viewChanged } from './address.js';

const THUMB_SIDE = 256;
const VIEWER_SIDE = 720;

export async function drawLegend() {
  const rgba = await call('colormapStrip', { colormap: state.display.colormap });
  putPixels(el.legend, { width: 256, height: 1, rgba });
}

export function renderGallery() {
  const r = state.results;
  const gallery = el.gallery;
  gallery.textContent = '';
  const cats = categoriesOf(r);
  const order = cats ? Array.from(new Set(r.names.map((n) => cats.categories[n]).filter(Boolean))) : [];
  const legend = el.categoryLegend;
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
    const top = topFeatures(r, i, 3).map((d) => `fm${d.k} ${d.value.toFixed(3)}`).join(', ');
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

/** Draws every thumbnail; with t0 (the run's start) it records the time to the first and to the last. */
export async function drawGallery(t0) {
  const generation = ++drawGeneration;
  const buttons = Array.from(el.gallery.querySelectorAll('.thumb'));
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
  el.gallery.dataset.drawn = String(generation);
}

export function displayChanged(event) {
  state.display.colormap = el.colormap.value;
  state.display.opacity = Number(el.opacity.value);
  state.display.original = checkedValue('show') === 'original';
  el.opacityValue.textContent = `${state.display.opacity} %`;
  // A change adds an entry to the history; dragging the opacity slider adds one when released.
  if (event && event.type !== 'input') viewChanged();
  if (!state.results) return;
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
