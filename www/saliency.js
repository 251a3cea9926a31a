// Saliency (step 4): the heatmaps against a saliency map (built in, or imported PNG/NPY maps),
// as relative risks at the top 5, 10 and 15 % of the pixels; the enlarged view draws the contours.
import { state } from './state.js';
import { el } from './dom.js';
import { call } from './engine.js';
import { show, seconds } from './util.js';
import { viewChanged } from './address.js';

export async function fillSaliencySources() {
  const select = el.saliencySource;
  const current = select.value;
  const models = await call('saliencyModels');
  select.textContent = '';
  for (const m of models) select.append(new Option(`${m}${m === models[0] ? ' (built in, default)' : ' (built in)'}`, m));
  if (state.importedSaliency) select.append(new Option(`imported maps (${state.importedSaliency})`, 'imported'));
  if (current && Array.from(select.options).some((o) => o.value === current)) select.value = current;
}

async function importSaliency(files) {
  const { added, errors } = await call('importSaliency', { files: Array.from(files) });
  state.importedSaliency += added.length;
  await fillSaliencySources();
  if (added.length) el.saliencySource.value = 'imported';
  show(el.saliencyStatus, `Imported ${added.length} saliency map(s).${errors.length ? ` Not imported: ${errors.map((e) => e.message).join('; ')}` : ''}`);
}

async function runSaliency() {
  if (!state.results) return;
  const source = el.saliencySource.value;
  show(el.saliencyStatus, 'Computing saliency and relative risks…');
  const t0 = performance.now();
  try {
    const s = await call('saliencySummary', { source });
    const box = el.saliencyResults;
    box.textContent = '';
    const table = document.createElement('table');
    table.innerHTML = '<caption>Relative risk of AIS pixels among salient pixels (mean ± sd over images)</caption>' +
      '<thead><tr><th scope="col">Level</th><th scope="col">Mean RR</th><th scope="col">sd</th><th scope="col">Images</th><th scope="col">Undefined</th></tr></thead>';
    const body = document.createElement('tbody');
    for (const l of s.summary) {
      const tr = document.createElement('tr');
      for (const text of [`top ${l.percent} %`, l.mean === null ? '—' : l.mean.toFixed(2), l.sd === null ? '—' : l.sd.toFixed(2), String(l.n), String(l.n_undefined)]) {
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
    show(el.saliencyStatus, `Saliency: ${source}; ${s.images.length - failed.length} images in ${seconds(performance.now() - t0)}. Open an image and choose “Saliency contours” to see its contours.`);
  } catch (err) {
    show(el.saliencyStatus, `Saliency failed: ${err.message}`);
  }
}

export function wireSaliency() {
  el.saliencySource.addEventListener('change', () => viewChanged());
  el.saliencyFiles.addEventListener('change', (e) => importSaliency(e.target.files));
  el.saliencyRun.addEventListener('click', runSaliency);
}
