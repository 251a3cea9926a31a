// The results on screen (step 4), from a run, an example or an opened results zip: what they
// are, the summary, the gallery, the cohort's charts.
import { state, timings } from './state.js';
import { el } from './dom.js';
import { histogram, spread, bars } from './charts.js';
import { fmt, seconds, definitions } from './util.js';
import { renderGallery, drawLegend, drawGallery } from './gallery.js';
import { fillSaliencySources } from './saliency.js';

function renderSummary() {
  const r = state.results;
  const s = r.summary;
  const add = definitions(el.summary);
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
  const box = el.viewAbout;
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

function renderCharts() {
  const r = state.results;
  const width = Math.min(560, Math.max(300, el.results.clientWidth / 2 - 40));
  const hist = el.hist;
  const described = histogram(hist, r.dataset, { width, xTitle: 'dataset AIS (r − r_k)', yTitle: 'feature maps' });
  hist.setAttribute('role', 'img');
  hist.setAttribute('aria-label', `Histogram of dataset AIS: ${described}.`);
  const stats = spread(el.spread, r.image, r.n, r.channels, { width, xTitle: 'image (row order)', yTitle: 'AIS' });
  const madMean = stats.filter(Boolean).reduce((s, v) => s + v.mad, 0) / Math.max(1, stats.filter(Boolean).length);
  el.spread.setAttribute('role', 'img');
  el.spread.setAttribute('aria-label', `Per-image spread of AIS over ${r.channels} feature maps for ${r.n} images; mean absolute deviation ${madMean.toExponential(2)} on average.`);
  const top = Array.from(r.dataset, (value, k) => ({ value, label: `fm${k}` }))
    .filter((d) => Number.isFinite(d.value)).sort((a, b) => b.value - a.value).slice(0, 15);
  bars(el.topDataset, top, { width: Math.min(520, width) });
  el.topDataset.setAttribute('role', 'img');
  el.topDataset.setAttribute('aria-label', `Top feature maps by dataset AIS: ${top.slice(0, 5).map((d) => `${d.label} ${d.value.toFixed(4)}`).join(', ')}`);
}

/** Shows state.results; with t0 (the run's start) the gallery records its timings. */
export async function renderResults(t0) {
  delete document.body.dataset.results;
  delete el.gallery.dataset.drawn;
  el.results.hidden = false;
  const opened = state.results.origin && state.results.origin.kind === 'results';
  el.cvRun.disabled = opened;
  el.cvRun.title = opened ? 'Opened results hold no network: cross-validation needs the network and the human matrix.' : '';
  renderSummary();
  renderGallery();
  await drawLegend();
  renderCharts();
  await fillSaliencySources();
  await drawGallery(t0);
  document.body.dataset.results = 'ready';
}
