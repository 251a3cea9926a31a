// Teaching with the judgments: run the analysis once per participant (their own matrix) and
// once for the class's mean, keep each run's heatmaps in the worker, and show how much the
// heatmaps agree: the heatmap Match of the paper (Pearson correlation of two heatmaps at the
// image's resolution, the crate's heatmap::match_score), median over the images, for every two
// participants and for each participant against the class.

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

const CLASS = 'class mean';

function r2(x) {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(2);
}

/** Mounts the block; `api` as the panel's plus selected() (the current summary) and request(ids). */
export function mountTeach(api) {
  const ui = {};
  ui.run = el('button', { type: 'button', id: 'judge-teach-run', text: 'Analyse each participant and compare their heatmaps' });
  ui.status = el('p', { class: 'status', id: 'judge-teach-status', role: 'status', 'aria-live': 'polite' });
  ui.results = el('div', { id: 'judge-teach-results' });
  ui.box = el('div', { id: 'judge-teach', hidden: true },
    el('h3', { text: 'Whose comparisons does the network explain the same way?' }),
    el('p', { class: 'hint', text: 'Runs the analysis with each chosen participant\'s own matrix, then with the class\'s mean (shown in step 4 ' +
      'afterwards), and compares the heatmaps: the heatmap Match of the paper, the Pearson correlation of two heatmaps of the same ' +
      'image at its resolution; the table gives the median over the images. Each run takes as long as one analysis.' }),
    el('div', { class: 'row' }, ui.run), ui.status, ui.results);
  api.section.append(ui.box);
  let running = false;

  function render() {
    const s = api.selected();
    const enough = s && s.included.length >= 2;
    ui.box.hidden = !enough;
    ui.run.disabled = running || !api.modelReady() || api.running() || !(s && api.canAnalyse());
    ui.run.title = !api.modelReady() ? 'Load a network first (step 1)' : !api.canAnalyse() ? 'Add the image files in step 2 first' : '';
  }

  async function runOne(label, ids) {
    const result = JSON.parse(await api.call('judgmentsSummarize', { request: JSON.stringify(api.request(ids)) }));
    await api.useMatrix(new File([result.csv], `judgments-${label === CLASS ? 'class' : label}.csv`, { type: 'text/csv' }), result.orientation === 'dissimilarity');
    await api.analyze();
    if (!api.results()) throw new Error(`the analysis of ${label} did not finish`);
    await api.call('judgmentsKeepHeatmaps', { label });
    return result;
  }

  function table(agreement) {
    const labels = agreement.labels;
    const match = new Map();
    for (const p of agreement.pairs) {
      match.set(`${p.a}\n${p.b}`, p.median);
      match.set(`${p.b}\n${p.a}`, p.median);
    }
    const t = el('table', { id: 'judge-match-table' });
    t.append(el('caption', { text: 'Median heatmap Match over the images (1 = the same heatmaps)' }));
    const head = el('tr', {}, el('th', { scope: 'col', text: '' }));
    for (const b of labels) head.append(el('th', { scope: 'col', text: b }));
    t.append(el('thead', {}, head));
    const body = el('tbody');
    for (const a of labels) {
      const tr = el('tr', {}, el('th', { scope: 'row', text: a }));
      for (const b of labels) {
        const v = a === b ? 1 : match.get(`${a}\n${b}`);
        tr.append(el('td', { class: 'numbers', text: a === b ? '1.00' : r2(v), 'data-match': a === b ? '' : String(v) }));
      }
      body.append(tr);
    }
    t.append(body);
    return t;
  }

  ui.run.addEventListener('click', async () => {
    const s = api.selected();
    if (!s || s.included.length < 2 || running) return;
    running = true;
    render();
    ui.results.textContent = '';
    const ids = [...s.included];
    const t0 = performance.now();
    try {
      await api.call('judgmentsClearHeatmaps');
      for (let k = 0; k < ids.length; k++) {
        ui.status.textContent = `Analysing participant ${k + 1} of ${ids.length} (${ids[k]})…`;
        await runOne(ids[k], [ids[k]]);
      }
      ui.status.textContent = 'Analysing the class\'s mean…';
      await runOne(CLASS, ids);
      const agreement = JSON.parse(await api.call('judgmentsHeatmapAgreement'));
      const between = agreement.pairs.filter((p) => p.a !== CLASS && p.b !== CLASS).map((p) => p.median).filter(Number.isFinite).sort((a, b) => a - b);
      const mid = between.length ? (between.length % 2 ? between[(between.length - 1) / 2] : (between[between.length / 2 - 1] + between[between.length / 2]) / 2) : NaN;
      ui.results.append(el('div', { class: 'table-wrap' }, table(agreement)));
      ui.results.dataset.median = String(mid);
      ui.status.textContent = `Done in ${Math.round((performance.now() - t0) / 1000)} s: between participants the median heatmap Match is ${r2(mid)}. ` +
        'Step 4 shows the class\'s results.';
    } catch (err) {
      ui.status.textContent = `Stopped: ${err.message}`;
    } finally {
      running = false;
      render();
    }
  });

  return { render };
}
