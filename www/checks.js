// "Before running" (step 2): what the engine says about the network, the images and the matrix
// together, with the table of how the matrix rows match the images; and the run button, which
// the controls that change the cohort follow while the engine runs.
import { state } from './state.js';
import { el, radios } from './dom.js';
import { call } from './engine.js';

// The similarity judgments of www/judge/ (mounted by app.js): told when the images change, and
// asked to refresh with the run button.
export let judgments = null;

export function attachJudgments(panel) {
  judgments = panel;
}

export async function refreshCheck() {
  let check;
  try {
    check = await call('check');
  } catch (err) {
    return;
  }
  state.check = check;
  const list = el.checks;
  list.textContent = '';
  const item = (kind, text) => {
    const li = document.createElement('li');
    li.className = kind;
    const mark = document.createElement('span');
    mark.className = 'mark';
    mark.setAttribute('aria-hidden', 'true');
    mark.textContent = kind === 'ok' ? '✓' : kind === 'bad' ? '✗' : '!';
    const label = document.createElement('span');
    label.className = 'visually-hidden';
    label.textContent = kind === 'ok' ? 'Fine: ' : kind === 'bad' ? 'Problem: ' : 'Note: ';
    li.append(mark, label, document.createTextNode(text));
    list.append(li);
  };
  if (!state.model) item('bad', 'no network loaded yet');
  else item('ok', `network: ${state.model.info.model} (${state.model.info.channels} feature maps)`);
  if (state.imageErrors.some((e) => !e.warning)) item('warn', `${state.imageErrors.filter((e) => !e.warning).length} file(s) could not be read as images (listed above); they are left out`);
  if (state.matrix && !state.matrix.info && el.matrixError.textContent) item('bad', `the matrix: ${el.matrixError.textContent}`);
  for (const p of check.problems) {
    if (p === 'no human similarity matrix yet' && state.matrix && !state.matrix.info) continue;
    item('bad', p);
  }
  for (const w of check.warnings) item('warn', w);
  for (const r of check.report) item('ok', r);
  if (check.ok) item('ok', `ready: ${check.images} images and a ${check.rows} × ${check.rows} matrix`);
  list.dataset.ok = String(check.ok);

  const details = el.matchingDetails;
  const body = el.matchingTable.tBodies[0];
  body.textContent = '';
  details.hidden = !check.table.length || check.rows === null;
  check.table.forEach((row, i) => {
    const tr = document.createElement('tr');
    if (row.row === null) tr.className = 'bad';
    for (const text of [String(i + 1), row.image, row.row === null ? 'none' : String(row.row), row.name === null ? (row.row === null ? '—' : '(unnamed)') : row.name]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    body.append(tr);
  });
  updateRunButton();
}

const BUSY_CONTROLS = [el.loadModel, el.imageFiles, el.imageFolder, el.clearImages, el.matrixFile, el.matrixKey, el.namesFile,
  el.saliencyRun, el.saliencyFiles, el.export, el.cvRun];

export function updateRunButton() {
  judgments?.refresh();
  const ready = !!(state.model && state.check && state.check.ok && !state.running);
  el.analyze.disabled = !ready;
  // While the engine runs, the cohort cannot change under it.
  for (const control of BUSY_CONTROLS) {
    if (state.running) {
      if (!control.disabled) { control.disabled = true; control.dataset.busy = 'true'; }
    } else if (control.dataset.busy) {
      control.disabled = false;
      delete control.dataset.busy;
    }
  }
  for (const radio of radios.direction) radio.disabled = state.running;
  el.dropZone.dataset.busy = String(state.running);
}
