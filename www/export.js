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
    const cats = categoriesOf(r);
    const o = r.origin || {};
    const title = o.kind === 'example' ? `Example: ${o.example.title} (Kriegeskorte 92), ${r.summary.model?.name || ''}` : null;
    // summary.json (with the saliency comparison and the cross-validation the engine has kept)
    // is written by the crate, as `alignmap analyze` writes it.
    const bytes = await call('exportResults', {
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
