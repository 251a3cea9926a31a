// alignmap's page: the entry point, which wires the modules of the page's sections together.
// The WebAssembly module lives in a module worker (engine.js, worker.js), so the page never
// freezes; the modules only move files to the worker, show what it says, and put the RGBA pixels
// it returns on canvases. No framework, no build step, ES2020.
//
//   state.js, dom.js, engine.js, util.js, address.js   what they all share
//   landing.js   the first screen (examples, opening results, the view in the address)
//   network.js   1 device and network weights     cohort.js, checks.js   2 images, matrix, checks
//   run.js       3 the analysis                   results.js, gallery.js  4 summary, charts, heatmaps, viewer
//   saliency.js, cross-validation.js, export.js   the rest of 4
//   compare.js   5 two networks compared (Aim 2)
//
// ?device=cpu or ?device=webgpu in the address forces a device (state.js). The rest of the
// address holds the view (share.js): ?example=…, ?results=URL, colour map, opacity, the open image.

import { mountJudgments } from './judge/panel.js';
import { linkView, parseView } from './share.js';
import { state, timings } from './state.js';
import { el } from './dom.js';
import { call } from './engine.js';
import { showError } from './util.js';
import { setLink } from './address.js';
import { startDevice, restoreWorker, loadModel, updateModelFields, wireNetwork } from './network.js';
import { sortedNames, useMatrixFile, wireCohort } from './cohort.js';
import { attachJudgments, judgments, refreshCheck } from './checks.js';
import { analyze, cancel, wireRun, resumeInterrupted } from './run.js';
import { wireGallery } from './gallery.js';
import { wireSaliency } from './saliency.js';
import { wireCrossValidation } from './cross-validation.js';
import { wireExport } from './export.js';
import { wireCompare } from './compare.js';
import { engineReady, readView, applyView, wireLanding } from './landing.js';

window.alignmap = { state, timings, wasmMemory: () => call('memory') };

const link = linkView({ read: readView, apply: applyView });
setLink(link);

function wire() {
  wireNetwork();
  // Another device: the engine restarts on it (a run is cancelled first).
  el.deviceChoice.addEventListener('change', async () => {
    if (state.running) await cancel();
    state.deviceChoice = el.deviceChoice.value;
    state.results = null;
    el.results.hidden = true;
    try {
      await restoreWorker();
    } catch (err) {
      showError(el.modelError, err.message);
    }
  });
  wireCohort();
  wireRun();
  wireGallery();
  wireSaliency();
  wireExport();
  wireCrossValidation();
  wireCompare();
  wireLanding();
  updateModelFields();
}

async function main() {
  wire();
  try {
    await startDevice();
  } catch {
    return;
  }
  document.body.dataset.ready = 'engine';
  attachJudgments(mountJudgments({
    section: el.judgeSection,
    call,
    images: () => sortedNames().map((n) => state.images.get(n)),
    useMatrix: useMatrixFile,
    analyze,
    modelReady: () => !!state.model,
    running: () => state.running,
    results: () => state.results,
  }));
  judgments.imagesChanged();
  await refreshCheck();
  engineReady();
  const view = parseView(location.search);
  // Published results need no network: it is loaded only when it will be used.
  if (!view.results) {
    state.modelLoading = loadModel({ auto: true });
    await state.modelLoading;
    state.modelLoading = null;
  }
  document.body.dataset.ready = 'true';
  // A reload in the middle of an analysis: its inputs back, and the analysis again (run.js).
  if (!view.example && !view.results) resumeInterrupted();
  await link.suspend(() => applyView(view));
  document.body.dataset.view = 'applied';
}

main();
