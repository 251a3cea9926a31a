// Export (step 4): one results zip, written by the engine (src/results_zip.rs): the score files
// of `alignmap analyze`, the overlays in the colour map and opacity shown, and what "Open results"
// needs to show the view again (the images, each heatmap, the manifest).
import { formatBytes } from './models.js';
import { state, timings } from './state.js';
import { el } from './dom.js';
import { call } from './engine.js';
import { show, seconds, categoriesOf } from './util.js';

async function exportZip() {
  const r = state.results;
  if (!r) return;
  const button = el.export;
  button.disabled = true;
  const t0 = performance.now();
  show(el.exportStatus, 'Writing the zip…');
  try {
    const { colormap, opacity } = state.display;
    const summary = JSON.parse(r.summaryText);
    const without = Array.from(el.gallery.querySelectorAll('.thumb[data-heatmap="none"]'), (b) => r.names[Number(b.dataset.index)]);
    summary.overlays = { colormap, image_weight: 1 - opacity / 100, folder: 'overlays/', without_heatmap: without };
    summary.made_by = 'alignmap in the browser (www/)';
    if (state.saliency) summary.saliency = { source: state.saliency.source, summary: state.saliency.summary, images: state.saliency.images };
    if (state.crossValidation) {
      const cv = state.crossValidation;
      const plain = (c) => ({ full: { mean: c.full.mean, sd: c.full.sd, per_fold: Array.from(c.full.perFold) }, retained: { mean: c.retained.mean, sd: c.retained.sd, per_fold: Array.from(c.retained.perFold) }, loftus_masson_se: c.se, paired_t_test_retained_vs_full: c.test });
      summary.cross_validation = {
        folds: cv.folds.length / cv.seeds.length, seeds: cv.seeds, r: plain(cv.r), r2: plain(cv.r2),
        set_size: { mean: cv.setSize.mean, sd: cv.setSize.sd, per_fold: cv.folds.map((f) => f.setSize) },
        // The selection curves (2OI r with the top m feature maps kept), so that "Open results" draws them again.
        curves: cv.folds.map((f) => ({ seed: f.seed, fold: f.fold, set_size: f.setSize, train_r: Array.from(f.trainCurve), test_r: Array.from(f.testCurve) })),
      };
    } else if (r.storedCrossValidation) {
      summary.cross_validation = r.storedCrossValidation;
    }
    const cats = categoriesOf(r);
    const o = r.origin || {};
    const title = o.kind === 'example' ? `Example: ${o.example.title} (Kriegeskorte 92), ${summary.model?.name || ''}` : null;
    const bytes = await call('exportResults', {
      summary: JSON.stringify(summary),
      colormap,
      imageWeight: 1 - opacity / 100,
      maxSide: Number(el.exportImages.value),
      overlays: true,
      categories: cats ? JSON.stringify(cats) : null,
      title,
    });
    const blob = new Blob([bytes], { type: 'application/zip' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = 'alignmap-results.zip';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    timings.exportMs = performance.now() - t0;
    show(el.exportStatus, `alignmap-results.zip: ${formatBytes(blob.size)}, in ${seconds(timings.exportMs)}. “Open results” shows it again without computing.`);
  } catch (err) {
    show(el.exportStatus, `The export failed: ${err.message}`);
  } finally {
    button.disabled = false;
  }
}

export function wireExport() {
  el.export.addEventListener('click', exportZip);
}
