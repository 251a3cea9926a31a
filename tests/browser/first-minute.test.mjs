// The first minute (issue 11) in headless Chromium: the landing screen at 1366×768 and 390×844
// (screenshots kept in tests/browser/artifacts/), "Try an example" (the shipped 24-image
// Kriegeskorte example on the bundled network, scores equal to `alignmap analyze` on the same
// files, heatmaps drawn, categories shown), results zips made by the command line opened without
// computing (from a file, and with ?results= from a copy of www/ published on another static
// server, as the README says), and links that share a view (restored in a fresh browser; the back
// button moves between views).
//
// Needs www/pkg (scripts/build-wasm.sh), www/models (models/build.sh) and the native binary
// (ALIGNMAP_BIN, else $CARGO_TARGET_DIR/debug/alignmap). Nothing here needs ../shared/data: the
// example ships with the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startServer, launchBrowser, assertNoProblems, screenshot, wwwDir, artifactsDir, skipOrFail } from './harness.mjs';
import { unzipSync } from 'fflate';
import { npyFile } from './cohort.mjs';

const run = promisify(execFile);
const targetDir = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache', 'alignmap-target');
const BIN = process.env.ALIGNMAP_BIN || path.join(targetDir, 'debug', 'alignmap');
const PKG = path.join(wwwDir, 'pkg', 'alignmap.js');
const WEIGHTS = path.join(wwwDir, 'models', 'efficientnet-lite0-f16.safetensors');
const EXAMPLES = path.join(wwwDir, 'examples');
const manifest = JSON.parse(fs.readFileSync(path.join(EXAMPLES, 'examples.json'), 'utf8'));
const small = manifest.examples.find((e) => e.id === 'kriegeskorte24');
const whole = manifest.examples.find((e) => e.id === 'kriegeskorte92');
// Page (wasm, f32) against the command line (native, f32): the same tolerance as app.test.mjs.
const TOLERANCE = 1e-4;

const missing = [
  !fs.existsSync(PKG) && `${PKG} (build it with scripts/build-wasm.sh)`,
  !fs.existsSync(WEIGHTS) && `${WEIGHTS} (build it with models/build.sh)`,
  !fs.existsSync(BIN) && `${BIN} (cargo build --bin alignmap, or set ALIGNMAP_BIN)`,
].filter(Boolean);
const skip = skipOrFail(missing.length && `missing ${missing.join(', ')}`);

let server;
let tmp;
let cli; // Promise of { small: { out, zip }, whole: { out, zip } }

async function analyze(files, matrix, out, extra = []) {
  const images = path.join(out, '..', `${path.basename(out)}-images`);
  await fsp.mkdir(images, { recursive: true });
  for (const f of files) await fsp.copyFile(path.join(EXAMPLES, 'kriegeskorte92', 'images', f), path.join(images, f));
  const zip = `${out}.zip`;
  const t0 = performance.now();
  await run(BIN, ['analyze', '--weights', WEIGHTS, '--images', images, '--similarity', path.join(EXAMPLES, matrix), '--dissimilarity',
    '--out', out, '--device', 'cpu', '--zip', zip, ...extra], { maxBuffer: 64 << 20 });
  console.log(`alignmap analyze --zip on ${files.length} images: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const read = (f) => npyFile(fs.readFileSync(path.join(out, f)));
  return {
    out,
    zip,
    image: read('ais_image.npy'),
    dataset: read('ais_dataset.npy'),
    summary: JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')),
  };
}

before(async () => {
  if (skip) return;
  server = await startServer();
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'alignmap-first-'));
  // One after the other (2 cores): the small example's scores first.
  cli = (async () => {
    const s = await analyze(small.files, small.matrix, path.join(tmp, 'k24'));
    const w = await analyze(whole.files, whole.matrix, path.join(tmp, 'k92'),
      ['--categories', path.join(EXAMPLES, 'kriegeskorte92', 'categories.json'), '--title', 'EfficientNet-Lite0 on the Kriegeskorte 92 images']);
    return { small: s, whole: w };
  })();
  cli.catch(() => {});
});

after(async () => {
  await server?.close();
  if (tmp) await fsp.rm(tmp, { recursive: true, force: true }).catch(() => {});
});

async function waitReady(page) {
  try {
    await page.waitForFunction(() => document.body.dataset.view === 'applied' || document.querySelector('#device-status')?.dataset.state === 'error',
      null, { timeout: 180_000 });
  } catch (err) {
    await screenshot(page, 'first-minute-not-ready');
    const status = await page.evaluate(() => ['#device-status', '#model-status', '#start-status', '#start-error'].map((s) => document.querySelector(s).textContent).join(' | '));
    throw new Error(`${err.message}; the page says: ${status}; problems: ${page.problems.join('; ')}`);
  }
  assert.notEqual(await page.$eval('#device-status', (e) => e.dataset.state), 'error', await page.textContent('#device-status'));
}

async function waitResults(page, timeout = 900_000) {
  await page.waitForFunction(() => (document.body.dataset.results === 'ready' && document.querySelector('#gallery').dataset.drawn)
    || !document.querySelector('#start-error').hidden || !document.querySelector('#run-error').hidden, null, { timeout, polling: 250 });
  const errors = await page.evaluate(() => ['#start-error', '#run-error'].map((s) => document.querySelector(s)).filter((e) => !e.hidden).map((e) => e.textContent));
  assert.deepEqual(errors, [], 'no error is shown');
}

function maxDiff(got, want) {
  assert.equal(got.length, want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
  return worst;
}

/** What each gallery card shows. */
function cards(page) {
  return page.$$eval('#gallery .thumb', (bs) => bs.map((b) => ({
    name: b.querySelector('.name').textContent,
    meta: b.querySelector('.meta').textContent,
    heatmap: b.dataset.heatmap,
    why: b.querySelector('.why').textContent,
    chip: b.querySelector('.chip')?.textContent || null,
    width: b.querySelector('canvas').width,
  })));
}

/** The card text the page derives from one image's scores (app.js renderGallery). */
function expectedMeta(row, baseline) {
  const top = Array.from(row, (value, k) => ({ k, value })).filter((d) => Number.isFinite(d.value))
    .sort((a, b) => b.value - a.value).slice(0, 3).map((d) => `fm${d.k} ${d.value.toFixed(3)}`).join(', ');
  return `r = ${Number.isFinite(baseline) ? baseline.toFixed(3) : 'undefined'} · top: ${top || 'none'}`;
}

test('the landing screen shows what the tool does and the three ways in, at 1366×768 and 390×844', { skip, timeout: 300_000 }, async () => {
  for (const viewport of [{ width: 1366, height: 768 }, { width: 390, height: 844 }]) {
    const browser = await launchBrowser({ viewport });
    try {
      const page = await browser.newPage();
      await page.goto(`${server.url}/`);
      await waitReady(page);
      await page.waitForFunction(() => document.querySelector('#start-picture').complete && document.querySelector('#start-picture').naturalWidth > 0);
      const boxes = await page.evaluate(() => Object.fromEntries(['#try-example', '#own-cohort', '#results-file-label', '#start-picture', '#start-heading']
        .map((s) => { const r = document.querySelector(s).getBoundingClientRect(); return [s, { top: r.top, bottom: r.bottom, left: r.left, right: r.right }]; })));
      for (const [selector, box] of Object.entries(boxes)) {
        const fully = selector !== '#start-picture';
        assert.ok(box.top >= 0 && (fully ? box.bottom : box.top + 80) <= viewport.height && box.right <= viewport.width + 1,
          `${selector} is on the first screen at ${viewport.width}×${viewport.height}: ${JSON.stringify(box)}`);
      }
      assert.match(await page.textContent('#model-status'), /EfficientNet-Lite0 loaded/, 'the bundled network is loaded without a click');
      assert.equal(await page.$eval('#explain', (d) => d.open), false, 'the explanation waits for those who look for it');
      const file = path.join(artifactsDir, `landing-${viewport.width}x${viewport.height}.png`);
      await fsp.mkdir(artifactsDir, { recursive: true });
      await page.screenshot({ path: file });
      console.log(`landing ${viewport.width}×${viewport.height}: ${file}`);
      assertNoProblems(page);
    } finally {
      await browser.close();
    }
  }
});

test('"Try an example" runs in one click, draws heatmaps with categories, and its scores equal alignmap analyze', { skip, timeout: 1_200_000 }, async () => {
  const browser = await launchBrowser({ viewport: { width: 1366, height: 768 } });
  try {
    const page = await browser.newPage();
    const t0 = Date.now();
    await page.goto(`${server.url}/`);
    await waitReady(page);
    await page.click('#try-example');
    await waitResults(page);
    const timings = await page.evaluate(() => ({ ...window.alignmap.timings }));
    console.log(`example (${small.files.length} images): first heatmap ${(timings.firstHeatmapSinceOpenMs / 1000).toFixed(1)} s after opening the page ` +
      `(the analysis ${(timings.analysisMs / 1000).toFixed(1)} s; the whole example ${(timings.exampleMs / 1000).toFixed(1)} s after the click; wall ${((Date.now() - t0) / 1000).toFixed(1)} s); ` +
      `${await page.textContent('#device-status')}`);
    assert.match(page.url(), /[?&]example=kriegeskorte24\b/, 'the address names the example');
    assert.match(await page.textContent('#view-about'), /Example: 24 objects, faces and bodies/);
    const summary = await page.textContent('#summary');
    assert.match(summary, /Human task.*arranged the images on a screen by similarity/);
    assert.match(summary, /Source.*Kriegeskorte et al\. \(2008\)/);
    assert.equal(await page.$eval('input[name="direction"]:checked', (r) => r.value), 'dissimilarity', 'the example is an RDM');
    assert.equal(await page.$$eval('#category-legend li', (li) => li.length), 6, 'six categories');
    const shown = await cards(page);
    assert.deepEqual(shown.map((c) => c.name), small.files);
    assert.ok(shown.every((c) => c.chip && c.width > 1), 'every card is drawn and names its category');
    await screenshot(page, 'example-results');

    // The same files on the command line.
    const want = (await cli).small;
    const r = await page.evaluate(() => {
      const x = window.alignmap.state.results;
      return { image: Array.from(x.image), dataset: Array.from(x.dataset), baseline: x.summary.baseline.r, perImage: Array.from(x.info.baseline.perImage) };
    });
    const d = maxDiff(r.image, want.image.values);
    console.log(`example: max |page − cli| / max(1, |cli|): per-image AIS ${d.toExponential(2)}, dataset AIS ${maxDiff(r.dataset, want.dataset.values).toExponential(2)}; ` +
      `baseline r page ${r.baseline.toFixed(6)}, cli ${want.summary.baseline.r.toFixed(6)}`);
    assert.ok(d <= TOLERANCE, `per-image AIS differ by ${d}`);
    assert.ok(maxDiff(r.dataset, want.dataset.values) <= TOLERANCE);
    assert.ok(Math.abs(r.baseline - want.summary.baseline.r) <= TOLERANCE);

    // Signed maps (EfficientNet-Lite0): an image has a heatmap exactly when it has a positive AIS.
    const channels = want.image.shape[1];
    shown.forEach((c, i) => {
      const positive = r.image.slice(i * channels, (i + 1) * channels).some((v) => v > 0);
      assert.equal(c.heatmap, positive ? 'yes' : 'none', `${c.name}: heatmap ${c.heatmap}, positive AIS ${positive}`);
      if (!positive) assert.match(c.why, /no feature map has a positive AIS/);
    });
    console.log(`example: ${shown.filter((c) => c.heatmap === 'yes').length} of ${shown.length} images have a heatmap`);

    // The page's export is a results zip that the page opens again, with the categories.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    const exported = path.join(tmp, 'exported.zip');
    await download.saveAs(exported);
    const files = unzipSync(fs.readFileSync(exported));
    for (const f of ['alignmap-results.json', 'images.txt', 'ais_image.npy', 'ais_image.csv', 'summary.json', `heatmaps/${small.files[0]}.npy`, `images/${small.files[0]}`]) {
      assert.ok(files[f], `the export holds ${f}`);
    }
    const m = JSON.parse(new TextDecoder().decode(files['alignmap-results.json']));
    assert.equal(m.categories['002.png'], 'human-body');
    const page2 = await browser.newPage();
    await page2.goto(`${server.url}/`);
    await waitReady(page2);
    await page2.setInputFiles('#results-file', exported);
    await waitResults(page2);
    assert.deepEqual((await cards(page2)).map((c) => [c.name, c.meta, c.heatmap, c.chip]), shown.map((c) => [c.name, c.meta, c.heatmap, c.chip]),
      'the exported zip shows the same cards');
    assertNoProblems(page);
    assertNoProblems(page2);
  } finally {
    await browser.close();
  }
});

test('on a phone (390×844) the example\'s results fit the screen: nothing runs past its right edge', { skip, timeout: 900_000 }, async () => {
  const browser = await launchBrowser({ viewport: { width: 390, height: 844 } });
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/?example=kriegeskorte24`);
    await waitResults(page);
    const wide = await page.evaluate(() => {
      const vw = document.documentElement.clientWidth;
      return Array.from(document.querySelectorAll('body *'))
        .filter((e) => e.offsetParent !== null && e.getBoundingClientRect().right > vw + 0.5)
        .map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''} (right edge ${Math.round(e.getBoundingClientRect().right)} px)`);
    });
    assert.deepEqual(wide, [], `elements wider than the 390-px screen: ${wide.join(', ')}`);
    await screenshot(page, 'example-results-phone');
    assertNoProblems(page);
  } finally {
    await browser.close();
  }
});

test('a results zip from alignmap analyze --zip opens without computing and shows every image with the values of the files', { skip, timeout: 900_000 }, async () => {
  const want = (await cli).whole;
  const browser = await launchBrowser({ viewport: { width: 1366, height: 768 } });
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    await waitReady(page);
    const t0 = Date.now();
    await page.setInputFiles('#results-file', want.zip);
    await waitResults(page, 120_000);
    console.log(`opened ${path.basename(want.zip)} (${(fs.statSync(want.zip).size / 1e6).toFixed(1)} MB, ${whole.files.length} images) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const shown = await cards(page);
    assert.deepEqual(shown.map((c) => c.name), whole.files);
    const channels = want.image.shape[1];
    const perImage = want.summary.baseline.per_image.map((x) => x.r);
    shown.forEach((c, i) => {
      const row = want.image.values.slice(i * channels, (i + 1) * channels);
      assert.equal(c.meta, expectedMeta(row, perImage[i]), `${c.name}: the card shows the file's values`);
      assert.ok(c.width > 1, `${c.name} is drawn`);
      assert.equal(c.heatmap, row.some((v) => v > 0) ? 'yes' : 'none');
    });
    const r = await page.evaluate(() => ({ image: Array.from(window.alignmap.state.results.image), perImage: Array.from(window.alignmap.state.results.info.baseline.perImage) }));
    // The zip's full-precision table (ais_image.csv), which rounds to its float32 array.
    const csv = fs.readFileSync(path.join(want.out, 'ais_image.csv'), 'utf8').trim().split('\n').slice(1)
      .flatMap((line) => line.split(',').slice(1).map(Number));
    assert.deepEqual(r.image, csv, 'per-image AIS: exactly the values of ais_image.csv');
    assert.deepEqual(r.image.map(Math.fround), Array.from(want.image.values), 'per-image AIS: ais_image.npy once rounded to float32');
    // summary.json is text: the crate reads it with serde_json, whose default float parsing may be
    // one unit in the last place off (JSON.parse rounds correctly), so these agree to 1e-15.
    assert.ok(r.perImage.every((v, i) => Math.abs(v - perImage[i]) <= 1e-15 * Math.max(1, Math.abs(perImage[i]))), 'image baselines: those of summary.json');
    assert.match(await page.textContent('#view-about'), /Published results: EfficientNet-Lite0 on the Kriegeskorte 92 images/);
    assert.equal(await page.$$eval('#category-legend li', (li) => li.length), 6);
    assert.match(await page.textContent('#cv-status'), /holds no cross-validation/);
    assert.equal(await page.$eval('#cv-run', (b) => b.disabled), true);
    // Histograms, viewer and saliency work as after a run.
    for (const id of ['#hist', '#spread']) assert.ok(await page.$eval(id, (c) => c.width > 100), `${id} is drawn`);
    await page.click('#gallery .thumb[data-index="3"]');
    await page.waitForFunction(() => document.querySelector('#viewer-title').textContent.startsWith('004.png'));
    await page.click('#viewer-close');
    await page.click('#saliency-run');
    await page.waitForFunction(() => /images in/.test(document.querySelector('#saliency-status').textContent), null, { timeout: 300_000 });
    await screenshot(page, 'opened-results');
    assertNoProblems(page);
  } finally {
    await browser.close();
  }
});

test('published beside a copy of the page: ?results= opens it with no network weights, and a shared link restores the view', { skip, timeout: 900_000 }, async () => {
  const want = (await cli).whole;
  // The README's recipe: the page's files (www/ without models/) and the zip, on a static server.
  const site = path.join(tmp, 'site');
  const models = path.join(wwwDir, 'models');
  await fsp.cp(wwwDir, site, { recursive: true, filter: (src) => src !== models && !src.startsWith(models + path.sep) });
  await fsp.mkdir(path.join(site, 'results'), { recursive: true });
  await fsp.copyFile(want.zip, path.join(site, 'results', 'k92.zip'));
  const host = await startServer(site);
  const browser = await launchBrowser({ viewport: { width: 1366, height: 768 } });
  let shared;
  try {
    const page = await browser.newPage();
    const requests = [];
    page.on('request', (req) => requests.push(new URL(req.url()).pathname));
    const t0 = Date.now();
    await page.goto(`${host.url}/?results=results/k92.zip`);
    await waitReady(page);
    await waitResults(page, 120_000);
    console.log(`?results=: ${whole.files.length} images shown ${((Date.now() - t0) / 1000).toFixed(1)} s after opening the page`);
    assert.equal(await page.evaluate(() => window.alignmap.state.model), null, 'no network is loaded');
    assert.ok(!requests.some((p) => p.includes('/models/')), `no weights requested: ${requests.filter((p) => p.includes('models'))}`);
    assert.equal((await cards(page)).length, whole.files.length);

    // Change the view: colour map, opacity, an open image in saliency view.
    await page.selectOption('#colormap', 'viridis');
    await page.$eval('#opacity', (el) => { el.value = '60'; el.dispatchEvent(new Event('input')); el.dispatchEvent(new Event('change')); });
    await page.click('#gallery .thumb[data-index="12"]');
    await page.waitForSelector('#viewer[open]');
    await page.click('#viewer-saliency');
    await page.waitForFunction(() => /RR/.test(document.querySelector('#viewer-rr').textContent), null, { timeout: 120_000 });
    shared = page.url();
    console.log(`shared link: ${shared.replace(host.url, '')}`);
    const q = new URL(shared).searchParams;
    assert.deepEqual([q.get('results'), q.get('cmap'), q.get('opacity'), q.get('image'), q.get('view')], ['results/k92.zip', 'viridis', '60', '013.png', 'saliency']);
    await page.screenshot({ path: path.join(artifactsDir, 'shared-view.png') });

    // The back button moves between views: saliency → heatmap → closed → opacity 40.
    await page.goBack();
    await page.waitForFunction(() => document.querySelector('#viewer-saliency').textContent === 'Saliency contours');
    assert.equal(await page.$eval('#viewer', (d) => d.open), true);
    await page.goBack();
    await page.waitForFunction(() => !document.querySelector('#viewer').open);
    await page.goBack();
    await page.waitForFunction(() => document.querySelector('#opacity').value === '40');
    assert.equal(await page.$eval('#colormap', (s) => s.value), 'viridis');
    await page.goForward();
    await page.waitForFunction(() => document.querySelector('#opacity').value === '60');
    assertNoProblems(page);
  } finally {
    await browser.close();
  }
  // Another machine: a fresh browser opens the link and sees the same view.
  const other = await launchBrowser({ viewport: { width: 1366, height: 768 } });
  try {
    const page = await other.newPage();
    await page.goto(shared);
    await waitReady(page);
    await page.waitForSelector('#viewer[open]', { timeout: 120_000 });
    await page.waitForFunction(() => /RR/.test(document.querySelector('#viewer-rr').textContent), null, { timeout: 120_000 });
    assert.equal(await page.$eval('#colormap', (s) => s.value), 'viridis');
    assert.equal(await page.$eval('#opacity', (s) => s.value), '60');
    assert.match(await page.textContent('#viewer-title'), /^013\.png \(13 of 92\)/);
    assert.equal(await page.textContent('#viewer-saliency'), 'Heatmap', 'the saliency view is open');
    assert.equal(page.url(), shared, 'the address is the shared one');
    assertNoProblems(page);
  } finally {
    await other.close();
    await host.close();
  }
});
