// The "Similarity judgments" section: participants of the loaded cohort (kept apart by a name
// or code, listed, deletable), the two tasks (arrangement, pairwise ratings), and the matrix of
// one participant or the mean over the chosen ones with its reliability, which goes to the
// analysis in one click or downloads as CSV, with the raw trials as JSON.
//
// The numbers (RDMs, the combination of arrangements, ratings → similarities, the mean,
// split-half reliability, agreement) come from the crate through the worker; this file only
// collects, stores and shows.

import * as store from './store.js';
import { fingerprint, sortNames, thumbnail, thumbUrls } from './cohort.js';
import { arrangementTask } from './arena.js';
import { ratingTask } from './rating.js';
import { download, trialsJson, analyzeCommand } from './files.js';
import { mountTeach } from './teach.js';

const MAX_SUGGESTED = 60;
const RATINGS_ABOVE = 20;
const SECONDS_PER_RATING = 3.5;

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function pairs(n) {
  return (n * (n - 1)) / 2;
}

function repeatsFor(n) {
  // As the crate's ratings::repeats_for: 5 % of the pairs, 3 … 10.
  return Math.min(pairs(n), Math.min(10, Math.max(3, Math.round(pairs(n) * 0.05))));
}

function minutes(seconds) {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds / 10) * 10)} s`;
  return `${Math.round(seconds / 60)} min`;
}

function r3(x) {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(3);
}

/**
 * Mounts the section. `api`: { section, call(op, args), images() (the loaded Files, sorted),
 * useMatrix(file, dissimilarity), analyze(), modelReady(), running(), results() }.
 * Returns { imagesChanged() } for the page to call when its images change.
 */
export function mountJudgments(api) {
  const section = api.section;
  const ui = {};
  let cur = null; // { fingerprint, names, sizes, loaded, thumbs: { name: Blob }, urls }
  let people = [];
  const excluded = new Set();
  let summary = null;
  let task = null; // the open task: { participant, view }
  let storageProblem = null;

  section.append(
    el('h2', { id: 'judge-heading' }, el('span', { class: 'step', text: '2b' }), ' Similarity judgments (no matrix? make one)'),
    el('p', { class: 'hint', text: 'Each participant arranges the loaded images in a circle or rates every pair; the mean over the participants ' +
      'becomes the human matrix of the analysis. Every move and every rating is saved in this browser as it is made (IndexedDB), ' +
      'with small thumbnails of the images, so a reload, a closed tab or a crash resumes where it stopped. ' +
      'Participants are kept apart by a name or code; nothing else about them is stored, and nothing leaves this machine.' }),
  );
  ui.status = el('p', { class: 'status', id: 'judge-status', role: 'status', 'aria-live': 'polite', text: 'Add images (step 2) to collect judgments about them.' });
  ui.storage = el('p', { class: 'warning', id: 'judge-storage', hidden: true });
  ui.stored = el('div', { id: 'judge-stored' });
  section.append(ui.status, ui.storage, ui.stored);

  // New participant.
  ui.code = el('input', { type: 'text', id: 'judge-code', maxlength: '40', autocomplete: 'off', spellcheck: 'false', placeholder: 'e.g. P01 or a first name', 'aria-describedby': 'judge-code-hint' });
  ui.taskArr = el('input', { type: 'radio', name: 'judge-task', value: 'arrangement', id: 'judge-task-arrangement', checked: true });
  ui.taskRat = el('input', { type: 'radio', name: 'judge-task', value: 'rating', id: 'judge-task-rating' });
  ui.estimate = el('p', { class: 'hint', id: 'judge-estimate', 'aria-live': 'polite' });
  ui.start = el('button', { type: 'submit', id: 'judge-start', text: 'Start' });
  ui.formError = el('p', { class: 'error', id: 'judge-form-error', role: 'alert', hidden: true });
  ui.form = el('form', { id: 'judge-new', class: 'judge-new', 'aria-labelledby': 'judge-new-heading' },
    el('h3', { id: 'judge-new-heading', text: 'A new participant' }),
    el('div', { class: 'field' }, el('label', { for: 'judge-code', text: 'Name or code' }), ui.code,
      el('span', { class: 'hint', id: 'judge-code-hint', text: 'Only this; no other personal data. Unique within these images.' })),
    el('fieldset', { class: 'inline' }, el('legend', { text: 'Task' }),
      el('label', {}, ui.taskArr, ' arrangement (drag the images in a circle)'),
      el('label', {}, ui.taskRat, ' pairwise ratings (1–7)')),
    ui.estimate,
    el('div', { class: 'row' }, ui.start),
    ui.formError);
  section.append(ui.form);

  // Participants.
  ui.table = el('table', { id: 'judge-participants' });
  ui.table.innerHTML = '<caption>Participants of these images</caption><thead><tr><th scope="col">In the mean</th><th scope="col">Participant</th>' +
    '<th scope="col">Task</th><th scope="col">Progress</th><th scope="col">Consistency</th><th scope="col">r with the mean</th>' +
    '<th scope="col">r with the others</th><th scope="col">Actions</th></tr></thead><tbody></tbody>';
  ui.tableWrap = el('div', { class: 'table-wrap', hidden: true }, ui.table);
  section.append(ui.tableWrap);

  // The matrix.
  ui.summary = el('dl', { class: 'summary', id: 'judge-summary' });
  ui.summaryNote = el('p', { class: 'status', id: 'judge-summary-note', 'aria-live': 'polite' });
  ui.use = el('button', { type: 'button', id: 'judge-use', text: 'Use this matrix for the analysis' });
  ui.csv = el('button', { type: 'button', id: 'judge-csv', class: 'secondary', text: 'Download the matrix (CSV)' });
  ui.json = el('button', { type: 'button', id: 'judge-json', class: 'secondary', text: 'Download the raw trials (JSON)' });
  ui.command = el('p', { class: 'hint', id: 'judge-command' });
  ui.matrix = el('div', { id: 'judge-matrix', hidden: true },
    el('h3', { text: 'The matrix' }), ui.summary, ui.summaryNote, el('div', { class: 'row' }, ui.use, ui.csv, ui.json), ui.command);
  section.append(ui.matrix);

  const teach = mountTeach({ ...api, section, selected: () => summary, request: (ids) => request(ids), canAnalyse: () => !!(cur && cur.loaded) });

  // The task dialog.
  ui.dialog = el('dialog', { id: 'judge-task', class: 'judge-dialog', 'aria-labelledby': 'judge-task-title' });
  ui.taskTitle = el('h2', { id: 'judge-task-title' });
  ui.pause = el('button', { type: 'button', class: 'secondary', id: 'judge-pause', title: 'Pause: everything so far is saved' },
    'Pause', el('span', { class: 'judge-wide', text: ' (everything is saved)' }));
  ui.taskBody = el('div', { class: 'judge-task-body' });
  ui.live = el('p', { class: 'visually-hidden', 'aria-live': 'polite', id: 'judge-live' });
  ui.dialog.append(el('div', { class: 'dialog-head' }, ui.taskTitle, ui.pause), ui.taskBody, ui.live);
  document.body.append(ui.dialog);
  const announce = (text) => { ui.live.textContent = text; };

  // ------------------------------------------------------------------ cohort

  async function imagesChanged() {
    const files = api.images();
    if (files.length < 4) {
      if (cur && cur.loaded) setCohort(null);
      else render();
      return;
    }
    const fp = fingerprint(files.map((f) => ({ name: f.name, size: f.size })));
    if (cur && cur.fingerprint === fp) {
      if (!cur.loaded) { cur.loaded = true; cur.files = new Map(files.map((f) => [f.name, f])); render(); }
      return;
    }
    const stored = await store.cohort(fp).catch(() => null);
    setCohort({
      fingerprint: fp,
      names: sortNames(files.map((f) => f.name)),
      sizes: sortNames(files.map((f) => f.name)).map((n) => files.find((f) => f.name === n).size),
      files: new Map(files.map((f) => [f.name, f])),
      loaded: true,
      thumbs: stored ? stored.thumbs : null,
    });
  }

  async function setCohort(c) {
    if (task) closeTask();
    if (cur && cur.urls) cur.urls.revoke();
    cur = c;
    if (cur && cur.thumbs) cur.urls = thumbUrls(cur.thumbs);
    summary = null;
    excluded.clear();
    await reload();
  }

  async function ensureThumbs() {
    if (cur.thumbs && cur.names.every((n) => cur.thumbs[n])) return;
    const thumbs = { ...(cur.thumbs || {}) };
    let k = 0;
    for (const name of cur.names) {
      if (!thumbs[name]) {
        show(`Preparing thumbnails: ${++k} of ${cur.names.length}…`);
        thumbs[name] = await thumbnail(cur.files.get(name));
      }
    }
    cur.thumbs = thumbs;
    if (cur.urls) cur.urls.revoke();
    cur.urls = thumbUrls(thumbs);
    await store.saveCohort({ fingerprint: cur.fingerprint, images: cur.names, sizes: cur.sizes, thumbs });
  }

  let pending = 0;
  async function reload() {
    pending++;
    try {
      await reloadNow();
    } finally {
      pending--;
    }
  }

  async function reloadNow() {
    try {
      people = cur ? await store.participants(cur.fingerprint) : [];
      storageProblem = null;
    } catch (err) {
      storageProblem = err.message;
      people = people || [];
    }
    await summarize();
    await renderStored();
    render();
  }

  function show(text) {
    ui.status.textContent = text;
  }

  // ------------------------------------------------------------------ the matrix

  function request(ids) {
    return {
      images: cur.names,
      participants: people.map((p) => ({ id: p.id, trials: p.trials })),
      include: ids || [],
    };
  }

  // Every participant who has judged every pair is in the mean unless unticked (excluded).
  async function summarize() {
    summary = null;
    ui.summaryNote.textContent = '';
    if (!cur || !people.length) return;
    const ask = async (ids) => JSON.parse(await api.call('judgmentsSummarize', { request: JSON.stringify(request(ids)) }));
    try {
      summary = await ask([]);
      const chosen = summary.included.filter((id) => !excluded.has(id));
      if (chosen.length && chosen.length !== summary.included.length) summary = await ask(chosen);
    } catch (err) {
      if (err.message === 'cancelled') return;
      // Nobody has finished yet (or a stored trial is unreadable): the table shows the progress.
      ui.summaryNote.textContent = err.message;
    }
  }

  function progressOf(p) {
    const s = summary && summary.participants.find((q) => q.id === p.id);
    if (p.task === 'rating') {
      const total = (p.schedule || []).length;
      return { text: `${p.trials.length} of ${total} ratings`, done: total > 0 && p.trials.length >= total, s };
    }
    const finished = p.trials.filter((t) => t.done).length;
    const open = p.trials.find((t) => !t.done);
    const placed = open ? open.positions.filter(Boolean).length : 0;
    const text = open ? `arrangement ${open.trial}: ${placed} of ${open.images.length} placed` : `${finished} arrangement${finished === 1 ? '' : 's'} done`;
    return { text, done: finished > 0, s };
  }

  function render() {
    ui.storage.hidden = !storageProblem;
    if (storageProblem) ui.storage.textContent = `Judgments cannot be saved in this browser (${storageProblem}); they would be lost on reload.`;
    const n = cur ? cur.names.length : 0;
    ui.form.hidden = !cur;
    if (!cur) {
      show('Add at least 4 images (step 2) to collect judgments about them, or resume stored judgments below.');
    } else {
      const how = cur.loaded ? 'the images loaded above' : 'stored thumbnails (add the same image files above to analyse)';
      show(`${n} images (${how}); ${people.length} participant${people.length === 1 ? '' : 's'} stored for them.` +
        (n > MAX_SUGGESTED ? ` The tasks are made for up to about ${MAX_SUGGESTED} images; more make the thumbnails small and the ratings long.` : ''));
      updateEstimate();
    }
    // Participants (rebuilt: keep the keyboard focus on the same control).
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.focus : null;
    const body = ui.table.tBodies[0];
    body.textContent = '';
    ui.tableWrap.hidden = !people.length;
    for (const p of people) {
      const { text, done, s } = progressOf(p);
      const complete = s ? s.complete : false;
      const box = el('input', { type: 'checkbox', 'aria-label': `include ${p.id} in the mean`, disabled: !complete, 'data-focus': `include:${p.id}` });
      box.checked = !!(s && s.included);
      box.addEventListener('change', async () => {
        if (box.checked) excluded.delete(p.id); else excluded.add(p.id);
        await summarize();
        render();
      });
      const c = s && s.consistency;
      const consistency = p.task === 'rating'
        ? (c ? `${c.repeated} repeats: mean |Δ| ${c.mean_abs_difference.toFixed(2)}, ${Math.round(100 * c.within_one)} % within 1` : '—')
        : (s && s.trials > 1 ? `${s.trials} trials combined (${s.iterations} iterations${s.converged ? '' : ', not converged'})` : '—');
      // Nothing left to do: a rater who rated every pair, an arranger with no open arrangement.
      const finished = p.task === 'rating' ? done : !p.trials.some((t) => !t.done);
      const cont = el('button', { type: 'button', class: 'secondary', text: finished ? 'Done' : 'Continue', disabled: finished, 'aria-label': finished ? `${p.id} has finished` : `continue ${p.id}'s ${p.task}`, 'data-focus': `continue:${p.id}` });
      cont.addEventListener('click', () => openTask(p));
      const more = p.task === 'arrangement' && done && !p.trials.some((t) => !t.done)
        ? el('button', { type: 'button', class: 'secondary', text: 'Refine (subset)', title: 'Another arrangement of the images with the least evidence so far', 'aria-label': `another arrangement of a subset for ${p.id}` })
        : null;
      more?.addEventListener('click', () => refine(p));
      const del = el('button', { type: 'button', class: 'secondary danger', text: 'Delete', 'aria-label': `delete ${p.id} and their judgments` });
      del.addEventListener('click', () => removeParticipant(p));
      const tr = el('tr', { 'data-participant': p.id },
        el('td', {}, box),
        el('th', { scope: 'row', text: p.id }),
        el('td', { text: p.task === 'rating' ? 'ratings' : 'arrangement' }),
        el('td', { class: 'numbers', text }),
        el('td', { text: consistency }),
        el('td', { class: 'numbers', text: s && s.included ? r3(s.agreement) : '—' }),
        el('td', { class: 'numbers', text: s && s.included ? r3(s.agreement_others) : '—' }),
        el('td', { class: 'actions' }, cont, more, del));
      body.append(tr);
    }
    if (focused) body.querySelector(`[data-focus="${CSS.escape(focused)}"]`)?.focus();
    renderMatrix();
    teach.render();
  }

  function renderMatrix() {
    const s = summary;
    ui.matrix.hidden = !s;
    if (!s) return;
    const dl = ui.summary;
    dl.textContent = '';
    const add = (term, value) => dl.append(el('dt', { text: term }), el('dd', { text: value }));
    add(s.included.length === 1 ? 'Participant' : 'Participants', s.included.length === 1 ? s.included[0] : `${s.included.length}: ${s.included.join(', ')} (mean)`);
    add('Values', s.label);
    if (s.reliability) {
      const r = s.reliability;
      add('Split-half reliability', `${r3(r.spearman_brown)} (Spearman–Brown corrected; mean Pearson r between the halves ${r3(r.r)} over ` +
        `${r.method === 'all' ? `all ${r.splits} splits` : `${r.splits} random splits`}${r.undefined_splits ? `, ${r.undefined_splits} undefined` : ''})`);
    } else {
      add('Split-half reliability', s.reliability_note || '—');
    }
    ui.use.disabled = !cur.loaded || api.running();
    ui.use.title = cur.loaded ? '' : 'Add the same image files in step 2 first';
    ui.command.textContent = `On the command line: ${analyzeCommand(s.orientation)}`;
    ui.matrix.dataset.orientation = s.orientation;
  }

  function matrixFile(s = summary) {
    return new File([s.csv], 'judgments-matrix.csv', { type: 'text/csv' });
  }

  ui.use.addEventListener('click', async () => {
    if (!summary || !cur.loaded) return;
    await api.useMatrix(matrixFile(), summary.orientation === 'dissimilarity');
    ui.summaryNote.textContent = `The matrix of ${summary.included.join(', ')} is the human matrix now (step 2); run the analysis in step 3.`;
  });
  ui.csv.addEventListener('click', () => summary && download('judgments-matrix.csv', summary.csv, 'text/csv'));
  ui.json.addEventListener('click', () => cur && download('judgments-trials.json', trialsJson(cur, people), 'application/json'));

  // ------------------------------------------------------------------ participants and tasks

  function chosenTask() {
    return ui.taskRat.checked ? 'rating' : 'arrangement';
  }

  function updateEstimate() {
    if (!cur) return;
    const n = cur.names.length;
    if (chosenTask() === 'rating') {
      const total = pairs(n) + repeatsFor(n);
      ui.estimate.textContent = `${n} images make ${pairs(n)} pairs (n(n−1)/2), each rated once in random order, plus ${repeatsFor(n)} shown ` +
        `again to measure consistency: ${total} ratings, about ${minutes(total * SECONDS_PER_RATING)} at ${SECONDS_PER_RATING} s a rating.` +
        (n > RATINGS_ABOVE ? ` Above about ${RATINGS_ABOVE} images the arrangement is much quicker.` : '');
      ui.estimate.dataset.warn = String(n > RATINGS_ABOVE);
    } else {
      ui.estimate.textContent = `One arrangement of all ${n} images in a circle (a few minutes); afterwards, further arrangements of ` +
        'subsets refine the pairs placed closest together.';
      ui.estimate.dataset.warn = 'false';
    }
  }
  ui.taskArr.addEventListener('change', updateEstimate);
  ui.taskRat.addEventListener('change', updateEstimate);

  ui.form.addEventListener('submit', async (e) => {
    e.preventDefault();
    ui.formError.hidden = true;
    const id = ui.code.value.trim();
    const problem = !id ? 'Enter a name or code for the participant.'
      : /[/\\]/.test(id) ? 'A code cannot contain / or \\.'
        : people.some((p) => p.id === id) ? `There is already a participant "${id}" for these images: choose Continue in the list, or another code.`
          : null;
    if (problem) {
      ui.formError.textContent = problem;
      ui.formError.hidden = false;
      ui.code.focus();
      return;
    }
    ui.start.disabled = true;
    try {
      if (cur.loaded) await ensureThumbs();
      const kind = chosenTask();
      const p = { fingerprint: cur.fingerprint, id, task: kind, created: Date.now(), trials: [] };
      if (kind === 'rating') {
        const seed = crypto.getRandomValues(new Uint32Array(1))[0];
        const schedule = JSON.parse(await api.call('judgmentsSchedule', { n: cur.names.length, seed }));
        p.seed = seed;
        p.schedule = schedule.map((s) => ({ a: cur.names[s.a], b: cur.names[s.b], repeat: s.repeat }));
      } else {
        p.trials.push({ kind: 'arrangement', trial: 1, images: [...cur.names], positions: cur.names.map(() => null), done: false, started: Date.now(), time: Date.now() });
      }
      await store.saveParticipant(p);
      ui.code.value = '';
      await reload();
      openTask(people.find((q) => q.id === id));
    } catch (err) {
      ui.formError.textContent = `Not started: ${err.message}`;
      ui.formError.hidden = false;
    } finally {
      ui.start.disabled = false;
    }
  });

  async function removeParticipant(p) {
    if (!confirm(`Delete participant "${p.id}" and all of their ${p.trials.length} judgment record(s)? This cannot be undone.`)) return;
    await store.deleteParticipant(p.fingerprint, p.id);
    excluded.delete(p.id);
    await reload();
    show(`Deleted ${p.id}.`);
  }

  async function refine(p) {
    const size = Math.max(3, Math.min(cur.names.length, Math.ceil(cur.names.length / 2)));
    const req = { images: cur.names, participants: [{ id: p.id, trials: p.trials }], include: [] };
    const subset = JSON.parse(await api.call('judgmentsNextSubset', { request: JSON.stringify(req), size }));
    const trial = p.trials.reduce((m, t) => Math.max(m, t.trial), 0) + 1;
    p.trials.push({ kind: 'arrangement', trial, images: subset, positions: subset.map(() => null), done: false, started: Date.now(), time: Date.now() });
    await store.saveParticipant(p);
    await reload();
    openTask(people.find((q) => q.id === p.id));
  }

  async function save(p) {
    try {
      await store.saveParticipant(p);
      storageProblem = null;
    } catch (err) {
      storageProblem = err.message;
      ui.storage.hidden = false;
      ui.storage.textContent = `Not saved: ${err.message}`;
      throw err;
    }
  }

  function closeTask() {
    if (!task) return;
    task.view.destroy();
    task = null;
    if (ui.dialog.open) ui.dialog.close();
  }

  function openTask(p) {
    if (!p || !cur || !cur.urls) {
      show('The thumbnails of these images are not stored: add the image files above to continue.');
      return;
    }
    closeTask();
    ui.taskBody.textContent = '';
    const urls = (name) => cur.urls.get(name);
    if (p.task === 'arrangement') {
      const open = p.trials.find((t) => !t.done);
      if (!open) {
        show(`${p.id}'s arrangement is done; “Refine (subset)” adds another arrangement of a subset.`);
        return;
      }
      ui.taskTitle.textContent = `${p.id}: arrangement ${open.trial}${open.trial > 1 ? ` (a subset of ${open.images.length})` : ''}`;
      // Open first: the arena measures the room it has.
      if (!ui.dialog.open) ui.dialog.showModal();
      const view = arrangementTask(ui.taskBody, {
        names: open.images,
        urls,
        positions: open.positions,
        announce,
        onChange: (positions) => {
          open.positions = positions;
          open.time = Date.now();
          save(p).catch(() => {});
        },
        onDone: async (positions) => {
          open.positions = positions;
          open.done = true;
          open.time = Date.now();
          await save(p);
          closeTask();
          await reload();
          show(`${p.id}'s arrangement ${open.trial} is saved.`);
          document.querySelector(`#judge-participants tr[data-participant="${CSS.escape(p.id)}"] button`)?.focus();
        },
      });
      task = { participant: p, view };
    } else {
      const schedule = p.schedule || [];
      ui.taskTitle.textContent = `${p.id}: pairwise ratings`;
      if (!ui.dialog.open) ui.dialog.showModal();
      const view = ratingTask(ui.taskBody, {
        schedule,
        urls,
        given: p.trials.map((t) => ({ rating: t.rating, ms: t.ms })),
        announce,
        onRate: async (k, rating, ms) => {
          const s = schedule[k];
          p.trials = p.trials.slice(0, k);
          p.trials.push({ kind: 'rating', trial: k + 1, a: s.a, b: s.b, rating, repeat: !!s.repeat, time: Date.now(), ms: Math.round(ms) });
          await save(p);
        },
        onUndo: async () => {
          p.trials.pop();
          await save(p);
        },
        onFinish: async () => {
          closeTask();
          await reload();
          show(`${p.id} rated all ${schedule.length} pairs.`);
        },
      });
      task = { participant: p, view };
    }
  }

  ui.pause.addEventListener('click', () => ui.dialog.close());
  ui.dialog.addEventListener('close', async () => {
    if (task) {
      task.view.destroy();
      task = null;
      await reload();
      show('Paused: every judgment so far is saved; “Continue” in the list resumes.');
    }
  });

  // ------------------------------------------------------------------ stored cohorts

  async function renderStored() {
    ui.stored.textContent = '';
    let list;
    try {
      list = await store.cohorts();
    } catch (err) {
      storageProblem = err.message;
      return;
    }
    const others = list.filter((c) => !cur || c.fingerprint !== cur.fingerprint);
    if (!others.length) return;
    const ul = el('ul', { class: 'judge-stored-list' });
    for (const c of others) {
      const resume = el('button', { type: 'button', class: 'secondary', text: 'Resume with the stored thumbnails' });
      resume.addEventListener('click', () => setCohort({ fingerprint: c.fingerprint, names: c.images, sizes: c.sizes, loaded: false, thumbs: c.thumbs }));
      const del = el('button', { type: 'button', class: 'secondary danger', text: 'Delete' });
      del.addEventListener('click', async () => {
        if (!confirm(`Delete the stored judgments of ${c.participantCount} participant(s) about these ${c.images.length} images?`)) return;
        await store.deleteCohort(c.fingerprint);
        await renderStored();
      });
      const when = new Date(c.lastUsed).toLocaleString();
      ul.append(el('li', {}, `${c.images.length} images (${c.images.slice(0, 3).join(', ')}${c.images.length > 3 ? ', …' : ''}), ` +
        `${c.participantCount} participant(s), last used ${when}. `, resume, ' ', del));
    }
    ui.stored.append(el('h3', { text: 'Judgments stored for other images' }),
      el('p', { class: 'hint', text: 'Resuming shows the stored thumbnails, so tasks continue without the files; to analyse, add the same image files (same names and sizes) in step 2 and the judgments attach to them.' }),
      ul);
  }

  store.open().catch((err) => { storageProblem = err.message; render(); });
  reload();
  window.alignmap = Object.assign(window.alignmap || {}, { judgments: { current: () => cur, people: () => people, summary: () => summary, task: () => task, idle: () => pending === 0 } });
  return {
    imagesChanged: () => imagesChanged().catch((err) => show(`Judgments: ${err.message}`)),
    // Buttons that depend on the page (a network, a run in progress).
    refresh: () => {
      renderMatrix();
      teach.render();
    },
  };
}
