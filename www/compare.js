// Step 5, two networks compared (the paper's Aim 2). The analysis on screen is side A; side B is a
// second network run on the same cohort in the engine, beside the first (a bundled
// EfficientNet-Lite, network A with its weights shuffled as `alignmap shuffle` does, VGG-16, a URL
// or a file), or a results zip of the same images. The engine computes every number
// (src/web/compare.rs, the library's model_comparison, as `alignmap compare`); this module shows
// them: each image's two heatmaps side by side (and enlarged), Match per image with its histogram
// and median, Match against maxEntropy with Pearson r and p, the KS tests, each network's MAD of
// AIS. The results zip of step 4 then holds the comparison under compare/.
import { PRESETS, cached, download, store, formatBytes } from './models.js';
import { state, timings } from './state.js';
import { el } from './dom.js';
import { call, onProgress } from './engine.js';
import { show, showError, seconds, fmt, putPixels, nextFrame, categoriesOf, categoryLabel } from './util.js';
import { histogram, scatter } from './charts.js';
import { confirmDownload } from './network.js';
import { updateRunButton } from './checks.js';

const THUMB_SIDE = 200;
const VIEWER_SIDE = 560;
// The seed of the shuffled control: `alignmap shuffle … --seed 0` makes the same network.
const SHUFFLE_SEED = 0;
const NETWORK_NAMES = {
  vgg16: 'VGG-16',
  'efficientnet-lite0': 'EfficientNet-Lite0',
  'efficientnet-lite1': 'EfficientNet-Lite1',
  'efficientnet-lite2': 'EfficientNet-Lite2',
};
const STAGES = { decode: 'preprocessing the images', network: 'the network', ablation: 'the ablation' };
const STAGE_UNITS = { decode: 'images', network: 'images', ablation: 'feature maps' };

let busy = false;
let seenResults = null;
let order = [];
let viewerAt = -1;
let drawGeneration = 0;

function networkName(model) {
  return NETWORK_NAMES[model] || model || 'a network';
}

function opened() {
  return state.results?.origin?.kind === 'results';
}

/** Side A: the analysis on screen. */
function sideA() {
  const r = state.results;
  const s = r.summary;
  const name = networkName(s.model?.name);
  if (opened()) {
    const o = r.origin;
    return { label: o.manifest.title || name, detail: `${name}, ${r.channels} feature maps; opened from ${o.url || o.file}` };
  }
  const info = state.model?.info;
  const size = info?.input_side ? `images at ${info.input_side} px, ` : '';
  return { label: name, detail: `${name}: ${size}${r.channels} feature maps; weights ${s.model?.weights || 'not recorded'}` };
}

function shuffledLabel() {
  return `${sideA().label}, weights shuffled (seed ${SHUFFLE_SEED})`;
}

/** One line on what the chosen network B is. */
function choiceNote(choice) {
  switch (choice) {
    case 'shuffled':
      return `Every weight tensor of network A with its values permuted (seed ${SHUFFLE_SEED}), made here from the weights already loaded, ` +
        `as “alignmap shuffle --seed ${SHUFFLE_SEED}” makes it: the same architecture and value distributions, nothing learned. ` +
        'A teaching comparison: what the heatmaps of a network that learned nothing look like.';
    case 'url':
    case 'file':
      return 'Any weights the network section reads: VGG-16 or EfficientNet-Lite0/1/2 in safetensors (f32, f16 or bf16), ' +
        'e.g. the Ecoset VGG-16 converted with “alignmap convert”.';
    case 'zip':
      return 'A results zip of the same images (from “alignmap analyze --zip”, “alignmap pack” or this page’s download). ' +
        'Results zips hold no network outputs: maxEntropy and its correlation with Match are then unavailable.';
    default:
      return PRESETS[choice].note;
  }
}

/** Which choices fit the analysis on screen; the rest are disabled with a reason in their title. */
function updateChoices() {
  const isOpened = opened();
  for (const option of el.compareChoice.options) {
    const v = option.value;
    let why = '';
    if (isOpened && v !== 'zip') why = 'these results were opened from a file, without the images and the human matrix in the engine: run the analysis here to compare networks';
    else if (v === 'shuffled' && !state.model) why = 'no network is loaded';
    else if (PRESETS[v] && state.model && !isOpened && state.model.name === PRESETS[v].url) why = 'this is network A';
    option.disabled = !!why;
    option.title = why;
    if (v === 'shuffled') option.textContent = `A random network: ${state.results ? sideA().label : 'network A'} with its weights shuffled (no download)`;
  }
  if (el.compareChoice.selectedOptions[0]?.disabled) {
    const first = Array.from(el.compareChoice.options).find((o) => !o.disabled);
    if (first) el.compareChoice.value = first.value;
  }
  choiceChanged();
}

function choiceChanged() {
  const choice = el.compareChoice.value;
  el.compareUrlField.hidden = choice !== 'url';
  el.compareFileField.hidden = choice !== 'file';
  el.compareZipField.hidden = choice !== 'zip';
  el.compareNote.textContent = choiceNote(choice);
}

function renderSides() {
  el.compareSides.textContent = '';
  if (!state.results) return;
  const dt = document.createElement('dt');
  dt.textContent = 'Network A';
  const dd = document.createElement('dd');
  dd.textContent = sideA().detail;
  el.compareSides.append(dt, dd);
}

/** New results on screen: the section shows, any earlier comparison is gone (the engine forgot it too). */
function resultsChanged() {
  const visible = !el.results.hidden && !!state.results;
  el.compareSection.hidden = !visible;
  if (!visible || state.results === seenResults) return;
  seenResults = state.results;
  state.comparison = null;
  // The engine's kept sides and second network are of the results that were on screen.
  call('compareClear').catch(() => {});
  el.compareResults.hidden = true;
  el.compareGallery.textContent = '';
  showError(el.compareError, '');
  show(el.compareStatus, '');
  delete document.body.dataset.compare;
  renderSides();
  updateChoices();
}

// ---------------------------------------------------------------- running

function progress(done, total, text) {
  el.compareProgress.hidden = false;
  const bar = el.compareProgress.querySelector('progress');
  if (total) {
    bar.max = Math.max(1, total);
    bar.value = done;
  } else {
    bar.removeAttribute('value');
  }
  el.compareText.textContent = text;
}

/** The bytes of network B: { blob, name, requested, shuffleSeed, label, url }. */
async function weightsFor(choice) {
  if (choice === 'shuffled') {
    const m = state.model;
    return { blob: m.blob, name: m.name, requested: m.requested, shuffleSeed: SHUFFLE_SEED, label: shuffledLabel() };
  }
  if (choice === 'file') {
    const file = el.compareFile.files[0];
    if (!file) throw new Error('Choose a .safetensors file for network B first.');
    return { blob: file, name: file.name, requested: '', label: file.name };
  }
  let url;
  let requested = '';
  let label;
  if (choice === 'url') {
    url = el.compareUrl.value.trim();
    if (!/^https?:\/\//i.test(url)) throw new Error('Enter the address of network B’s weights, starting with https://');
    label = decodeURIComponent(new URL(url).pathname.split('/').pop() || url);
  } else {
    url = PRESETS[choice].url;
    requested = PRESETS[choice].model;
    label = networkName(requested);
  }
  let blob = await cached(url);
  let downloaded = false;
  if (!blob) {
    if (choice === 'vgg16' && !(await confirmDownload(`${PRESETS.vgg16.note} Download it now? On a slow connection this takes several minutes; ` +
      'the comparison with VGG-16 also needs a few GB of memory.'))) {
      throw new Error('cancelled');
    }
    const t0 = performance.now();
    blob = await download(url, {
      onProgress: ({ received, total }) => progress(received, total,
        `Downloading network B: ${formatBytes(received)}${total ? ` of ${formatBytes(total)}` : ''} · ${seconds(performance.now() - t0)}`),
    });
    downloaded = true;
  }
  return { blob, name: url, requested, label, url: downloaded ? url : null };
}

function distinct(label, other) {
  return label === other ? `${label} (B)` : label;
}

async function compare() {
  if (busy || state.running || !state.results) return;
  busy = true;
  state.running = true;
  updateRunButton();
  el.compareRun.disabled = true;
  showError(el.compareError, '');
  el.compareResults.hidden = true;
  delete document.body.dataset.compare;
  const status = el.compareStatus;
  const choice = el.compareChoice.value;
  const t0 = performance.now();
  for (const key of ['compareMs', 'compareShownMs', 'compareAllHeatmapsMs', 'compareNetworkMs']) delete timings[key];
  try {
    const a = sideA();
    await call('compareKeep', { label: a.label });
    let b;
    if (choice === 'zip') {
      const file = el.compareZip.files[0];
      if (!file) throw new Error('Choose a results zip for side B first.');
      const label = distinct(file.name, a.label);
      show(status, `Opening ${file.name}…`, 'loading');
      const o = await call('compareOpenResults', { blob: file, name: file.name, label });
      const name = networkName(o.summary.model?.name);
      b = { label, detail: `${name}, ${o.manifest.feature_maps} feature maps; opened from ${file.name}`, name };
    } else {
      show(status, 'Getting network B…', 'loading');
      const w = await weightsFor(choice);
      show(status, `Reading network B (${formatBytes(w.blob.size)}${w.shuffleSeed === undefined ? '' : ', shuffling its weights'})…`, 'loading');
      const info = await call('compareLoadNetwork', { blob: w.blob, name: w.name, requested: w.requested, shuffleSeed: w.shuffleSeed ?? null });
      if (w.url) await store(w.url, w.blob);
      const label = distinct(w.label, a.label);
      const started = {};
      onProgress((m) => {
        const now = performance.now();
        if (!(m.stage in started)) started[m.stage] = now;
        progress(m.done, m.total, `Network B, ${STAGES[m.stage] || m.stage}: ${m.done} of ${m.total} ${STAGE_UNITS[m.stage] || ''} · ${seconds(now - t0)} so far`);
      });
      show(status, `Running the ${state.results.n} images through network B (${label})…`, 'running');
      const tn = performance.now();
      const summary = await call('compareAnalyze', { label, batch: 4 });
      timings.compareNetworkMs = performance.now() - tn;
      b = {
        label,
        name: networkName(info.model),
        info,
        summary,
        detail: `${label}${label.startsWith(networkName(info.model)) ? '' : ` (${networkName(info.model)})`}: ` +
          `images at ${info.input_side} px, ${info.channels} feature maps; weights ${info.source}`,
      };
    }
    const report = await call('compareReport', { a: a.label, b: b.label });
    timings.compareMs = performance.now() - t0;
    state.comparison = { a, b, report, choice };
    renderComparison();
    el.compareResults.hidden = false;
    await nextFrame();
    timings.compareShownMs = performance.now() - t0;
    show(status, `Compared in ${seconds(timings.compareShownMs)}${timings.compareNetworkMs ? ` (network B on the cohort: ${seconds(timings.compareNetworkMs)})` : ''}.`, 'done');
    document.body.dataset.compare = 'ready';
    await drawCompareGallery();
    timings.compareAllHeatmapsMs = performance.now() - t0;
  } catch (err) {
    if (err.message === 'cancelled') {
      show(status, 'Not compared.', 'cancelled');
    } else {
      show(status, 'The comparison failed.', 'error');
      // A lost engine is restarted by run.js (engine.js onLost) with network A, the images and
      // the matrix, without the analysis: it has to run again before a comparison.
      showError(el.compareError, err.lost
        ? `The analysis engine stopped while running network B (${err.message}), most often because it ran out of memory. ` +
          'It restarts with network A, the images and the matrix; run the analysis again to compare.'
        : err.message);
      document.body.dataset.compare = 'error';
    }
  } finally {
    el.compareProgress.hidden = true;
    busy = false;
    state.running = false;
    el.compareRun.disabled = false;
    updateRunButton();
  }
}

// ---------------------------------------------------------------- the report

function mean(values) {
  const finite = values.filter(Number.isFinite);
  return finite.length ? finite.reduce((s, v) => s + v, 0) / finite.length : NaN;
}

function p(value) {
  if (!Number.isFinite(value)) return 'undefined';
  return value < 1e-3 ? value.toExponential(1) : value.toFixed(3);
}

function ks(test) {
  return test.undefined ? `undefined (${test.undefined})` : `D = ${fmt(test.statistic, 3)}, p = ${p(test.p_value)}`;
}

/** Appends a term, its value and a one-line meaning to the comparison's summary. */
function entry(term, value, meaning) {
  const dt = document.createElement('dt');
  dt.textContent = term;
  const dd = document.createElement('dd');
  const v = document.createElement('span');
  v.className = 'value';
  v.textContent = value;
  const m = document.createElement('span');
  m.className = 'meaning';
  m.textContent = meaning;
  dd.append(v, m);
  el.compareSummary.append(dt, dd);
}

function renderComparison() {
  const { a, b, report } = state.comparison;
  const m = report.match;
  const n = report.images.length;
  const withMatch = n - m.images_without_match;
  el.compareSummary.textContent = '';
  entry('Networks', `A: ${a.detail}. B: ${b.detail}.`, 'The two networks compared, the size each sees the images at, and their feature maps.');
  entry('Baseline 2OI', `A: r = ${fmt(report.a.baseline.r, 3)} · B: r = ${fmt(report.b.baseline.r, 3)}`,
    'Each network’s similarities against the human ones, over all pairs of images: how close it is to people at all.');
  entry('Match, median', `${fmt(m.median, 3)} (mean ${fmt(m.mean, 3)} ± ${fmt(m.sd, 3)}, ${withMatch} of ${n} images)`,
    'Per image, the Pearson correlation of the two heatmaps at the image’s size: 1, the same places; 0, unrelated.' +
    (m.images_without_match ? ` ${m.images_without_match} image(s) have no Match: a network has no heatmap there.` : ''));
  const corr = report.max_entropy.pearson_with_match;
  entry('Match vs maxEntropy', corr.undefined ? `undefined: ${corr.undefined}` : `r = ${fmt(corr.r, 3)}, p = ${p(corr.p_two_sided)} (${withMatch} images)`,
    'maxEntropy: per image, the larger of the two networks’ uncertainty about its class (softmax entropy). ' +
    'A negative r: the networks agree less where they are unsure.');
  entry('KS test, mean AIS per feature map', ks(report.ks_mean_ais_per_feature_map),
    'Do the two networks’ feature maps matter equally much? Two-sample Kolmogorov–Smirnov test on each map’s mean AIS; ' +
    'D: the largest gap between the two distributions; a small p: they differ.');
  entry('KS test, MAD per image', ks(report.ks_mad_per_image),
    'The same test on each image’s mean absolute deviation (MAD) of AIS: how unevenly the feature maps matter for an image.');
  entry('MAD of AIS, mean over images', `A: ${fmt(mean(report.a.mad_per_image), 5)} · B: ${fmt(mean(report.b.mad_per_image), 5)}`,
    'Per image, the mean absolute deviation of its AIS over the network’s feature maps, averaged over the images.');

  const width = Math.min(560, Math.max(300, el.compareSection.clientWidth / 2 - 40));
  const described = histogram(el.compareHist, m.per_image, {
    width, bins: 20, xTitle: 'Match (Pearson r of the two heatmaps)', yTitle: 'images',
    marker: m.median, markerLabel: `median ${fmt(m.median, 2)}`,
  });
  el.compareHist.setAttribute('role', 'img');
  el.compareHist.setAttribute('aria-label', `Histogram of Match per image: ${described}; median ${fmt(m.median, 3)}.`);
  const entropy = report.max_entropy.per_image;
  el.compareScatterFigure.hidden = !!corr.undefined && !entropy.some(Number.isFinite);
  if (!el.compareScatterFigure.hidden) {
    const points = scatter(el.compareScatter, entropy, m.per_image, { width, xTitle: 'maxEntropy (nats)', yTitle: 'Match' });
    el.compareScatter.setAttribute('role', 'img');
    el.compareScatter.setAttribute('aria-label', `Match against maxEntropy for ${points} images; Pearson ${corr.undefined ? 'undefined' : `r = ${fmt(corr.r, 3)}, p = ${p(corr.p_two_sided)}`}.`);
  }
  renderCompareGallery();
}

// ---------------------------------------------------------------- side by side

function orderOf(report) {
  const idx = report.images.map((_, i) => i);
  const match = report.match.per_image;
  const key = (i) => (Number.isFinite(match[i]) ? match[i] : Infinity);
  if (el.compareOrder.value === 'low') idx.sort((x, y) => key(x) - key(y) || x - y);
  if (el.compareOrder.value === 'high') idx.sort((x, y) => (Number.isFinite(match[y]) ? match[y] : -Infinity) - (Number.isFinite(match[x]) ? match[x] : -Infinity) || x - y);
  return idx;
}

function numbers(i) {
  const r = state.comparison.report;
  const e = r.max_entropy.per_image[i];
  const parts = [`Match ${fmt(r.match.per_image[i], 3)}`];
  if (Number.isFinite(e)) parts.push(`maxEntropy ${fmt(e, 2)}`);
  return parts.join(' · ');
}

function renderCompareGallery() {
  const { a, b, report } = state.comparison;
  const gallery = el.compareGallery;
  gallery.textContent = '';
  order = orderOf(report);
  const cats = categoriesOf(state.results);
  const ids = cats ? Array.from(new Set(report.images.map((n) => cats.categories[n]).filter(Boolean))) : [];
  for (const i of order) {
    const name = report.images[i];
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'compare-card';
    button.dataset.index = String(i);
    const title = document.createElement('span');
    title.className = 'name';
    title.textContent = name;
    const pair = document.createElement('span');
    pair.className = 'pair';
    for (const side of ['A', 'B']) {
      const half = document.createElement('span');
      half.className = 'half';
      const canvas = document.createElement('canvas');
      canvas.width = 1;
      canvas.height = 1;
      canvas.dataset.side = side;
      canvas.setAttribute('aria-hidden', 'true');
      const tag = document.createElement('span');
      tag.className = 'tag';
      tag.textContent = side;
      half.append(canvas, tag);
      pair.append(half);
    }
    const meta = document.createElement('span');
    meta.className = 'meta numbers';
    meta.textContent = numbers(i);
    button.append(title, pair, meta);
    const category = cats && cats.categories[name];
    if (category) {
      li.dataset.category = String(ids.indexOf(category) % 8);
      const chip = document.createElement('span');
      chip.className = 'chip';
      chip.textContent = categoryLabel(cats, category);
      title.after(chip);
    }
    button.setAttribute('aria-label', `${name}: heatmaps of ${a.label} (A) and ${b.label} (B); ${numbers(i)}. Enlarge.`);
    button.addEventListener('click', () => openCompareViewer(order.indexOf(i)));
    li.append(button);
    gallery.append(li);
  }
}

function overlayArgs(label, index, maxSide) {
  const { colormap, opacity } = state.display;
  return { label, index, colormap, imageWeight: 1 - opacity / 100, maxSide };
}

async function drawCompareGallery() {
  const generation = ++drawGeneration;
  const c = state.comparison;
  if (!c) return;
  for (const button of el.compareGallery.querySelectorAll('.compare-card')) {
    const index = Number(button.dataset.index);
    for (const [side, label] of [['A', c.a.label], ['B', c.b.label]]) {
      const picture = await call('compareOverlay', overlayArgs(label, index, THUMB_SIDE));
      if (generation !== drawGeneration || state.comparison !== c) return;
      putPixels(button.querySelector(`canvas[data-side="${side}"]`), picture);
    }
  }
  el.compareGallery.dataset.drawn = String(generation);
}

// ---------------------------------------------------------------- the enlarged pair

async function drawCompareViewer() {
  const c = state.comparison;
  if (!c || viewerAt < 0) return;
  const i = order[viewerAt];
  const r = c.report;
  el.compareViewerTitle.textContent = `${r.images[i]} (${viewerAt + 1} of ${order.length})`;
  const e = (side) => r[side].entropy_per_image[i];
  const entropies = Number.isFinite(e('a')) ? ` · entropy A ${fmt(e('a'), 2)}, B ${fmt(e('b'), 2)}` : '';
  el.compareViewerNumbers.textContent = `${numbers(i)}${entropies} · MAD of AIS A ${fmt(r.a.mad_per_image[i], 5)}, B ${fmt(r.b.mad_per_image[i], 5)}`;
  el.compareViewerALabel.textContent = `A: ${c.a.label}`;
  el.compareViewerBLabel.textContent = `B: ${c.b.label}`;
  for (const [canvas, label] of [[el.compareViewerA, c.a.label], [el.compareViewerB, c.b.label]]) {
    const picture = await call('compareOverlay', overlayArgs(label, i, VIEWER_SIDE));
    putPixels(canvas, picture);
    canvas.setAttribute('aria-label', `${r.images[i]}: ${picture.defined ? `the heatmap of ${label}` : picture.note}`);
  }
}

function openCompareViewer(at) {
  viewerAt = at;
  if (!el.compareViewer.open) el.compareViewer.showModal();
  el.compareViewerClose.focus();
  return drawCompareViewer();
}

function stepCompareViewer(delta) {
  if (!order.length) return;
  viewerAt = (viewerAt + delta + order.length) % order.length;
  drawCompareViewer();
}

// ---------------------------------------------------------------- wiring

function redraw() {
  if (!state.comparison) return;
  drawCompareGallery();
  if (el.compareViewer.open) drawCompareViewer();
}

export function wireCompare() {
  el.compareChoice.addEventListener('change', choiceChanged);
  el.compareRun.addEventListener('click', compare);
  el.compareOrder.addEventListener('change', () => {
    if (!state.comparison) return;
    renderCompareGallery();
    drawCompareGallery();
  });
  // The colour map and opacity of step 4 apply here too.
  el.colormap.addEventListener('change', redraw);
  el.opacity.addEventListener('change', redraw);
  const viewer = el.compareViewer;
  el.compareViewerClose.addEventListener('click', () => viewer.close());
  el.compareViewerPrev.addEventListener('click', () => stepCompareViewer(-1));
  el.compareViewerNext.addEventListener('click', () => stepCompareViewer(1));
  viewer.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowLeft') stepCompareViewer(-1);
    if (e.key === 'ArrowRight') stepCompareViewer(1);
  });
  viewer.addEventListener('close', () => {
    const i = order[viewerAt];
    el.compareGallery.querySelector(`.compare-card[data-index="${i}"]`)?.focus();
    viewerAt = -1;
  });
  viewer.addEventListener('click', (e) => { if (e.target === viewer) viewer.close(); });
  // The section follows the results on screen (results.js sets data-results when they are drawn;
  // other modules hide #results when they are gone).
  const observer = new MutationObserver(resultsChanged);
  observer.observe(document.body, { attributes: true, attributeFilter: ['data-results'] });
  observer.observe(el.results, { attributes: true, attributeFilter: ['hidden'] });
  choiceChanged();
}
