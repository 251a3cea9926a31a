// The page end to end in headless Chromium: load it (bundled EfficientNet-Lite0), upload a real
// cohort (the first 24 Peterson animal images with their rows of hsim_peterson.npz, key
// `animals`, names in the layout of fnames.json), run it, download the export zip and compare its
// scores with the command line's `alignmap analyze` on the same input; check that heatmaps are
// drawn, that bad uploads show clear errors, and that the page is keyboard operable. Then the same
// flow with WebGPU unavailable (the CPU backend in wasm). Screenshots in tests/browser/artifacts/.
//
// Needs www/pkg (scripts/build-wasm.sh), www/models (models/build.sh), ../shared/data (skipped
// with a message when absent) and, for the comparison, the native binary (ALIGNMAP_BIN, else
// $CARGO_TARGET_DIR/debug/alignmap; the comparison is skipped with a message without it). Under
// CI (`CI` set) a missing input is a failure, not a skip.
//
// Tolerance: the page (WebGPU through SwiftShader, or the wasm CPU backend) and the command line
// (native CPU) both compute in f32 and differ only in the order of summation; scores are
// differences of correlations. Each exported AIS value must satisfy
// |page − cli| ≤ 1e-4 · max(1, |cli|) (at most 1e-4 in absolute terms for these scores, whose
// magnitude is ≤ 0.1); the measured maximum differences are printed.
//
// ALIGNMAP_BROWSER_BENCH=1 adds the timings of the closing note: 24 and 92 images (Kriegeskorte),
// time to the first heatmap and to the whole cohort, peak memory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  startServer, launchBrowser, assertNoProblems, screenshot, wwwDir, artifactsDir, CHROMIUM_ARGS_NO_WEBGPU, sampleMemory, skipOrFail,
} from './harness.mjs';
import { petersonCohort, kriegeskorteCohort, hasPeterson, npyFile, sharedData } from './cohort.mjs';
import { unzipSync } from 'fflate';
import { dump } from 'npyjs';

const run = promisify(execFile);
const targetDir = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache', 'alignmap-target');
const BIN = process.env.ALIGNMAP_BIN || path.join(targetDir, 'debug', 'alignmap');
const PKG = path.join(wwwDir, 'pkg', 'alignmap.js');
const WEIGHTS = path.join(wwwDir, 'models', 'efficientnet-lite0-f16.safetensors');
const COUNT = 24;
// WebGPU in headless Chromium without a GPU is SwiftShader, about 30× slower than the wasm CPU
// backend (5.5 min for 24 images on the 2-core build machine): the default run checks WebGPU on
// the smallest cohort (4 images); ALIGNMAP_FULL_BROWSER=1 runs it on the 24.
const WEBGPU_COUNT = process.env.ALIGNMAP_FULL_BROWSER === '1' ? COUNT : 4;
const RELATIVE_TOLERANCE = 1e-4;

const missing = [
  !fs.existsSync(PKG) && `${PKG} (build it with scripts/build-wasm.sh)`,
  !fs.existsSync(WEIGHTS) && `${WEIGHTS} (build it with models/build.sh)`,
].filter(Boolean);
const skipAll = skipOrFail(missing.length && `missing ${missing.join(', ')}`);
const skipData = skipAll || skipOrFail(!hasPeterson() && `the real data are absent (${sharedData}/peterson): skipping the end-to-end cohort tests`);
const haveBin = !skipOrFail(!fs.existsSync(BIN) && `${BIN} not found (cargo build --bin alignmap, or set ALIGNMAP_BIN): the comparisons with the command line are skipped`);

let server;
let tmp;
let cohort; // the 24 images
const cohorts = {}; // count → { cohort, cli: Promise of the command line's outputs or null }

async function runCli(c, out) {
  const args = ['analyze', '--weights', WEIGHTS, '--images', c.imagesDir, '--similarity', c.npz, '--key', 'animals',
    '--names', c.names, '--out', out, '--device', 'cpu'];
  const t0 = performance.now();
  await run(BIN, args, { maxBuffer: 64 << 20 });
  const seconds = (performance.now() - t0) / 1000;
  const read = (f) => npyFile(fs.readFileSync(path.join(out, f)));
  return {
    seconds,
    image: read('ais_image.npy'),
    dataset: read('ais_dataset.npy'),
    datasetR2: read('ais_dataset_r2.npy'),
    images: fs.readFileSync(path.join(out, 'images.txt'), 'utf8'),
    summary: JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')),
    csv: fs.readFileSync(path.join(out, 'ais_image.csv'), 'utf8'),
  };
}

before(async () => {
  if (skipAll) return;
  server = await startServer();
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'alignmap-app-'));
  if (!skipData) {
    for (const count of new Set([COUNT, WEBGPU_COUNT])) {
      const c = await petersonCohort(path.join(tmp, `p${count}`), count);
      // The command line runs meanwhile (its result is awaited where it is compared).
      const cli = haveBin ? runCli(c, path.join(tmp, `cli${count}`)) : Promise.resolve(null);
      cli.catch(() => {});
      cohorts[count] = { cohort: c, cli };
      if (count === COUNT) {
        // The command line's cross-validation on the same cohort, 3 folds × seed 111 (as the page's test below).
        const out = path.join(tmp, `validate${count}`);
        const args = ['validate', '--weights', WEIGHTS, '--images', c.imagesDir, '--similarity', c.npz, '--key', 'animals',
          '--names', c.names, '--folds', '3', '--seeds', '111', '--out', out, '--device', 'cpu'];
        cohorts[count].validate = haveBin
          ? cli.then(() => run(BIN, args, { maxBuffer: 64 << 20 })).then(() => JSON.parse(fs.readFileSync(path.join(out, 'validation.json'), 'utf8')), (err) => ({ error: String(err.stderr || err.message).trim().split('\n').pop() }))
          : Promise.resolve(null);
        cohorts[count].validate.catch(() => {});
      }
    }
    cohort = cohorts[COUNT].cohort;
  }
});

after(async () => {
  await server?.close();
  if (tmp) await fsp.rm(tmp, { recursive: true, force: true }).catch(() => {});
});

async function openApp(browser, query = '') {
  const page = await browser.newPage();
  await page.goto(`${server.url}/${query}`);
  await page.waitForFunction(() => document.body.dataset.ready === 'true' || document.querySelector('#device-status')?.dataset.state === 'error'
    || !document.querySelector('#model-error')?.hidden, null, { timeout: 120_000 });
  const ready = await page.evaluate(() => document.body.dataset.ready);
  if (ready !== 'true') {
    await screenshot(page, 'app-not-ready');
    throw new Error(`the page did not get ready: ${await page.textContent('#device-status')} ${await page.textContent('#model-error')}`);
  }
  return page;
}

async function uploadCohort(page, c) {
  await page.setInputFiles('#image-files', c.imageFiles);
  await page.waitForFunction((n) => window.alignmap.state.images.size === n && /ready/.test(document.querySelector('#image-status').textContent), c.count);
  await page.setInputFiles('#names-file', c.names);
  await page.setInputFiles('#matrix-file', c.npz);
  await page.waitForSelector('#key-field:not([hidden])');
  const options = await page.$$eval('#matrix-key option', (os) => os.map((o) => ({ value: o.value, disabled: o.disabled })));
  assert.deepEqual(options.map((o) => o.value), ['', 'animals', 'fruits'], 'the key chooser lists the arrays, asking for a choice');
  await page.selectOption('#matrix-key', 'animals');
  await page.waitForFunction(() => /rows named by fnames\.json/.test(document.querySelector('#matrix-status').textContent));
  await page.waitForFunction(() => document.querySelector('#checks').dataset.ok === 'true');
}

/** Runs the analysis; resolves to the page's timings. */
async function analyze(page, timeout = 600_000) {
  await page.click('#analyze');
  await page.waitForFunction(() => document.body.dataset.results === 'ready' || !document.querySelector('#run-error').hidden, null, { timeout, polling: 500 });
  const error = await page.$eval('#run-error', (e) => (e.hidden ? '' : e.textContent));
  assert.equal(error, '', `the analysis failed: ${error}`);
  return page.evaluate(() => ({ ...window.alignmap.timings }));
}

async function exportZip(page, name) {
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), page.click('#export')]);
  assert.equal(download.suggestedFilename(), 'alignmap-results.zip');
  const file = path.join(tmp, `${name}.zip`);
  await download.saveAs(file);
  return unzipSync(await fsp.readFile(file));
}

/** Statistics of a canvas's pixels: distinct colours (up to 4096) and the luminance spread. */
async function canvasStats(page, selector) {
  return page.$eval(selector, (canvas) => {
    const { width, height } = canvas;
    const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
    const colours = new Set();
    let sum = 0;
    let sum2 = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (colours.size < 4096) colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
      const y = 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
      sum += y;
      sum2 += y * y;
    }
    const n = data.length / 4;
    return { width, height, colours: colours.size, sd: Math.sqrt(Math.max(0, sum2 / n - (sum / n) ** 2)) };
  });
}

function compare(name, got, want) {
  assert.deepEqual(got.shape, want.shape, `${name}: shape`);
  let maxDiff = 0;
  let maxAbs = 0;
  let worst = 0;
  for (let i = 0; i < want.values.length; i++) {
    const [g, w] = [got.values[i], want.values[i]];
    if (Number.isNaN(w)) {
      assert.ok(Number.isNaN(g), `${name}[${i}]: page ${g}, cli NaN`);
      continue;
    }
    const d = Math.abs(g - w);
    maxDiff = Math.max(maxDiff, d);
    maxAbs = Math.max(maxAbs, Math.abs(w));
    worst = Math.max(worst, d / Math.max(1, Math.abs(w)));
  }
  console.log(`${name}: max |page − cli| = ${maxDiff.toExponential(2)} (max |cli| = ${maxAbs.toExponential(2)}; tolerance ${RELATIVE_TOLERANCE}·max(1, |cli|))`);
  assert.ok(worst <= RELATIVE_TOLERANCE, `${name}: max |page − cli| / max(1, |cli|) = ${worst} > ${RELATIVE_TOLERANCE}`);
  return maxDiff;
}

/** Every key path of a JSON value ('.a.b[].c'), sorted, array elements' keys merged. */
function keyPaths(value, prefix = '', out = new Set()) {
  if (Array.isArray(value)) value.forEach((v) => keyPaths(v, `${prefix}[]`, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.add(`${prefix}.${k}`);
      keyPaths(v, `${prefix}.${k}`, out);
    }
  }
  return [...out].sort();
}

async function checkExport(files, label, count) {
  for (const f of ['images.txt', 'ais_image.npy', 'ais_image.csv', 'ais_dataset.npy', 'ais_dataset_r2.npy', 'ais_dataset.csv', 'summary.json']) {
    assert.ok(files[f], `${label}: the zip holds ${f}`);
  }
  const overlays = Object.keys(files).filter((f) => f.startsWith('overlays/') && f.endsWith('.png'));
  assert.ok(overlays.length > 0, `${label}: the zip holds overlays`);
  for (const f of overlays) assert.deepEqual(Array.from(files[f].subarray(0, 8)), [137, 80, 78, 71, 13, 10, 26, 10], `${f} is a PNG`);
  const summary = JSON.parse(new TextDecoder().decode(files['summary.json']));
  const image = npyFile(files['ais_image.npy']);
  assert.deepEqual(image.shape, [count, summary.feature_maps]);
  const want = await cohorts[count].cli;
  if (!want) {
    console.log(`${label}: SKIPPED the comparison with the command line: ${BIN} not found (cargo build --bin alignmap, or set ALIGNMAP_BIN)`);
    return summary;
  }
  console.log(`${label}: command line took ${want.seconds.toFixed(1)} s`);
  assert.equal(new TextDecoder().decode(files['images.txt']), want.images, 'images.txt equals the command line\'s');
  compare(`${label} ais_image`, image, want.image);
  compare(`${label} ais_dataset`, npyFile(files['ais_dataset.npy']), want.dataset);
  compare(`${label} ais_dataset_r2`, npyFile(files['ais_dataset_r2.npy']), want.datasetR2);
  const dr = Math.abs(summary.baseline.r - want.summary.baseline.r);
  console.log(`${label} baseline r: page ${summary.baseline.r.toFixed(6)}, cli ${want.summary.baseline.r.toFixed(6)}`);
  assert.ok(dr <= RELATIVE_TOLERANCE, `baseline r differs by ${dr}`);
  const csvHeader = new TextDecoder().decode(files['ais_image.csv']).split('\n')[0];
  assert.equal(csvHeader, want.csv.split('\n')[0], 'ais_image.csv has the command line\'s header');
  assert.equal(summary.n_images, want.summary.n_images);
  assert.equal(summary.model.weights_sha256, want.summary.model.weights_sha256, 'the same weights file');
  // Every key of the command line's summary.json, and no other (the page adds only what it ran
  // besides: the saliency comparison and the cross-validation).
  const pageOnly = new Set(['.saliency', '.cross_validation']);
  const keys = (value) => keyPaths(value).filter((k) => !k.startsWith('.timings.') && ![...pageOnly].some((p) => k.startsWith(p)));
  assert.deepEqual(keys(summary), keys(want.summary), 'summary.json has the command line\'s keys');
  assert.deepEqual(summary.ais, want.summary.ais, 'summary.json ais block');
  assert.deepEqual(summary.human.matching, want.summary.human.matching, 'summary.json human.matching');
  const cliFiles = ['images.txt', 'ais_image.npy', 'ais_image.csv', 'ais_dataset.npy', 'ais_dataset_r2.npy', 'ais_dataset.csv', 'summary.json'];
  const missing = cliFiles.filter((f) => !files[f]);
  assert.deepEqual(missing, [], 'the zip holds every score file of alignmap analyze');
  if (summary.cross_validation) {
    const cv = summary.cross_validation;
    assert.equal(cv.set_size.per_fold.length, 3);
    const v = await cohorts[count].validate;
    if (!v || v.error) {
      skipOrFail(`${label}: no comparison with alignmap validate: ${v ? v.error : 'no binary'}`);
      console.log(`${label}: SKIPPED the comparison with alignmap validate: ${v ? v.error : 'no binary'}`);
    } else {
      const rows = [['full', cv.r2.full.per_fold, v.r2.full.per_fold], ['retained', cv.r2.retained.per_fold, v.r2.retained.per_fold]];
      for (const [name, page, cliValues] of rows) {
        const d = Math.max(...page.map((x, i) => Math.abs(x - cliValues[i])));
        console.log(`${label} cross-validation test r² ${name}: max |page − cli| = ${d.toExponential(2)} (page ${page.map((x) => x.toFixed(4)).join(' ')})`);
        assert.ok(d <= RELATIVE_TOLERANCE, `cross-validation ${name} differs from alignmap validate by ${d}`);
      }
      for (const metric of ['r', 'r2']) {
        assert.deepEqual(keyPaths(cv[metric]), keyPaths(v[metric]), `cross_validation.${metric} has the keys of validation.json's ${metric}`);
      }
      console.log(`${label} cross-validation |S*|: page ${cv.set_size.per_fold.join(' ')}, cli ${v.set_size.per_fold.join(' ')}`);
      assert.deepEqual(cv.set_size.per_fold, v.set_size.per_fold, '|S*| per fold equals alignmap validate\'s');
    }
  }
  return summary;
}

test('bad uploads show clear errors and nothing runs', { skip: skipData, timeout: 300_000 }, async () => {
  const browser = await launchBrowser({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await openApp(browser);
    const text = await page.textContent('body');
    assert.match(text, /your images never leave this machine/i);
    assert.match(await page.textContent('#model-status'), /EfficientNet-Lite0 loaded/);
    // With only a software WebGPU adapter (SwiftShader here), "automatic" takes the faster CPU backend and says why.
    const device = await page.textContent('#device-status');
    const warning = await page.textContent('#device-warning');
    console.log(`automatic device: ${device} — ${warning}`);
    if (/swiftshader|software/i.test(warning)) assert.match(device, /^Device: cpu/);

    // A file that claims to be a PNG but is text, and a file that is not an image at all.
    await page.setInputFiles('#image-files', [
      { name: 'not-an-image.png', mimeType: 'image/png', buffer: Buffer.from('hello, I am text') },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('notes') },
      ...cohort.imageFiles.slice(0, 6).map((f) => ({ name: path.basename(f), mimeType: 'image/png', buffer: fs.readFileSync(f) })),
    ]);
    await page.waitForFunction(() => /not-an-image\.png/.test(document.querySelector('#image-errors').textContent));
    const imageErrors = await page.textContent('#image-errors');
    console.log(`image errors: ${imageErrors}`);
    assert.match(imageErrors, /not-an-image\.png: not an image format alignmap can read/);
    assert.match(imageErrors, /Skipped 1 file.*notes\.txt/);
    assert.match(await page.textContent('#image-status'), /^6 images ready/);

    // A matrix that is not square.
    await page.setInputFiles('#matrix-file', { name: 'wide.csv', mimeType: 'text/csv', buffer: Buffer.from('0.1,0.2,0.3,0.4,0.5,0.6\n0.5,0.6,0.7,0.8,0.9,0.1\n0.9,0.1,0.2,0.3,0.4,0.5\n0.2,0.3,0.4,0.5,0.6,0.7\n') });
    await page.waitForSelector('#matrix-error:not([hidden])');
    const notSquare = await page.textContent('#matrix-error');
    console.log(`not square: ${notSquare}`);
    assert.match(notSquare, /wide\.csv: the matrix has 4 rows and 6 columns; expected a square matrix/);
    assert.equal(await page.$eval('#analyze', (b) => b.disabled), true);

    // A square matrix of the wrong size for the cohort (5 rows, 6 images, no names).
    const five = Array.from({ length: 5 }, (_, i) => Array.from({ length: 5 }, (_, j) => (i === j ? 1 : 0.1 * ((i + j) % 4))).join(',')).join('\n');
    await page.setInputFiles('#matrix-file', { name: 'five.csv', mimeType: 'text/csv', buffer: Buffer.from(five) });
    await page.waitForFunction(() => /5 rows, but there are 6 images/.test(document.querySelector('#checks').textContent));
    console.log(`wrong size: ${(await page.textContent('#checks')).replace(/\s+/g, ' ')}`);
    assert.equal(await page.$eval('#analyze', (b) => b.disabled), true);

    // A NaN in row 3, column 5.
    const nan = Array.from({ length: 6 }, (_, i) => Array.from({ length: 6 }, (_, j) => ((i === 2 && j === 4) || (i === 4 && j === 2) ? 'NaN' : i === j ? 1 : 0.5)).join(',')).join('\n');
    await page.setInputFiles('#matrix-file', { name: 'nan.csv', mimeType: 'text/csv', buffer: Buffer.from(nan) });
    await page.waitForFunction(() => /nan\.csv: row 3, column 5/.test(document.querySelector('#matrix-error').textContent));
    const nanError = await page.textContent('#matrix-error');
    console.log(`NaN: ${nanError}`);
    assert.match(nanError, /row 3, column 5 \(counting from 1\) is NaN; expected a finite number in every cell/);
    assert.equal(await page.$eval('#analyze', (b) => b.disabled), true);

    // The full 120-row matrix with 6 images: every unmatched name is reported before running.
    await page.setInputFiles('#names-file', path.join(sharedData, 'peterson', 'fnames.json'));
    await page.setInputFiles('#matrix-file', path.join(sharedData, 'peterson', 'hsim_peterson.npz'));
    await page.waitForSelector('#key-field:not([hidden])');
    await page.selectOption('#matrix-key', 'animals');
    await page.waitForFunction(() => /114 of 120 matrix names have no image/.test(document.querySelector('#checks').textContent));
    assert.equal(await page.$eval('#analyze', (b) => b.disabled), true);
    await screenshot(page, 'app-bad-uploads');

    // A wrong network: a file that is not safetensors.
    await page.check('input[name="model"][value="file"]');
    await page.setInputFiles('#model-file', { name: 'cat.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('not weights at all') });
    await page.click('#load-model');
    await page.waitForSelector('#model-error:not([hidden])');
    const weightsError = await page.textContent('#model-error');
    console.log(`bad weights: ${weightsError}`);
    assert.match(weightsError, /cat\.safetensors: not a valid safetensors file/);
    assert.match(await page.textContent('#model-status'), /EfficientNet-Lite0 loaded/, 'the bundled network stays loaded');

    // A 404 for a URL on this server.
    await page.check('input[name="model"][value="url"]');
    await page.fill('#model-url', `${server.url}/models/no-such-file.safetensors`);
    await page.click('#load-model');
    await page.waitForFunction(() => /404/.test(document.querySelector('#model-error').textContent));
    console.log(`404: ${await page.textContent('#model-error')}`);
    // The browser logs the 404 itself; that one is expected.
    page.problems = page.problems.filter((p) => !/status of 404/.test(p));
    assertNoProblems(page);
  } finally {
    await browser.close();
  }
});

test('network weights: stored for the next visit, VGG-16 confirmed before downloading, wrong network and CORS failures explained', { skip: skipAll, timeout: 300_000 }, async () => {
  const browser = await launchBrowser({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await openApp(browser);
    assert.match(await page.textContent('#model-status'), /downloaded, 8\.\d MiB; stored in this browser/);
    // The next visit needs no network: the bundled file's address now fails, and it still loads.
    await page.route('**/models/efficientnet-lite0-f16.safetensors', (route) => route.abort('failed'));
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 120_000 });
    assert.match(await page.textContent('#model-status'), /EfficientNet-Lite0 loaded from this page \(stored in this browser/);

    // VGG-16: a warning before the 528 MiB download. The hub is replaced here by a route that
    // serves the EfficientNet file, so the download "succeeds" and the wrong network is reported.
    const effnet = fs.readFileSync(WEIGHTS);
    let hubRequests = 0;
    await page.route('https://huggingface.co/**', (route) => {
      hubRequests++;
      route.fulfill({ status: 200, body: effnet, headers: { 'content-type': 'application/octet-stream', 'access-control-allow-origin': '*' } });
    });
    await page.check('input[name="model"][value="vgg16"]');
    await page.click('#load-model');
    await page.waitForSelector('#confirm[open]');
    assert.match(await page.textContent('#confirm-text'), /528 MiB/);
    await page.screenshot({ path: path.join(artifactsDir, 'app-vgg16-confirm.png') });
    await page.keyboard.press('Escape');
    await page.waitForSelector('#confirm:not([open])', { state: 'attached' });
    assert.equal(hubRequests, 0, 'nothing is downloaded without consent');
    await page.click('#load-model');
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-yes');
    await page.waitForSelector('#model-error:not([hidden])', { timeout: 120_000 });
    const wrong = await page.textContent('#model-error');
    console.log(`wrong network: ${wrong}`);
    assert.match(wrong, /holds efficientnet-lite0 weights, but the choice vgg16 was asked for/);
    assert.match(await page.textContent('#download-text'), /8\.\d MiB of 8\.\d MiB \(100 %\)/);
    assert.equal(hubRequests, 1);
    const stored = await page.evaluate(async () => (await (await caches.open('alignmap-weights-v1')).keys()).map((r) => r.url));
    assert.ok(!stored.some((u) => u.includes('huggingface')), `a wrong file is not stored: ${stored}`);

    // A server that refuses cross-origin downloads (or no network at all).
    await page.route('https://example.org/**', (route) => route.abort('failed'));
    await page.check('input[name="model"][value="url"]');
    await page.fill('#model-url', 'https://example.org/ecoset-vgg16-f16.safetensors');
    await page.click('#load-model');
    await page.waitForFunction(() => /CORS/.test(document.querySelector('#model-error').textContent));
    console.log(`CORS: ${await page.textContent('#model-error')}`);
    assert.match(await page.textContent('#model-status'), /EfficientNet-Lite0 loaded/, 'the loaded network stays');
    page.problems = page.problems.filter((p) => !/ERR_FAILED|Failed to load resource/.test(p));
    assertNoProblems(page);
  } finally {
    await browser.close();
  }
});

async function endToEnd(browser, label, query, count, options = {}) {
  const { cohort: c } = cohorts[count];
  // No network traffic but this server's files (the page, the wasm, the bundled weights).
  const requests = [];
  const record = (r) => requests.push(r.url());
  browser.context.on('request', record);
  const page = await openApp(browser, query);
  const device = await page.textContent('#device-status');
  console.log(`${label}: ${device}`);
  await uploadCohort(page, c);
  const rows = await page.$$eval('#matching-table tbody tr', (trs) => trs.map((tr) => Array.from(tr.cells, (c) => c.textContent)));
  assert.equal(rows.length, count);
  assert.deepEqual(rows[0].slice(1), [path.basename(c.imageFiles[0]), '1', path.basename(c.imageFiles[0])]);
  await screenshot(page, `app-${label}-ready`);

  if (options.cancelFirst) {
    // Cancel mid-run: the worker is terminated and restarted with the network, matrix and images.
    await page.click('#analyze');
    await page.waitForFunction(() => document.querySelector('#stages li[data-stage="network"]').dataset.status === 'running'
      || document.querySelector('#stages li[data-stage="decode"]').dataset.status === 'done');
    await page.click('#cancel');
    await page.waitForFunction(() => document.querySelector('#run-status').textContent === 'Cancelled.', null, { timeout: 120_000 });
    await page.waitForFunction(() => document.querySelector('#checks').dataset.ok === 'true' && !document.querySelector('#analyze').disabled);
    console.log(`${label}: cancelled and restarted: ${await page.textContent('#model-status')}`);
  }

  // Keyboard: the run button is reachable and starts the analysis with Enter.
  await page.focus('#analyze');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'analyze');
  const memory = sampleMemory(browser.userDataDir);
  const t0 = Date.now();
  const [timings] = await Promise.all([
    (async () => {
      await page.waitForFunction(() => document.body.dataset.results === 'ready' || !document.querySelector('#run-error').hidden, null, { timeout: 600_000, polling: 500 });
      const error = await page.$eval('#run-error', (e) => (e.hidden ? '' : e.textContent));
      assert.equal(error, '', `the analysis failed: ${error}`);
      return page.evaluate(() => ({ ...window.alignmap.timings }));
    })(),
    page.keyboard.press('Enter'),
  ]);
  const { peakBytes } = memory.stop();
  const wasmBytes = await page.evaluate(() => window.alignmap.wasmMemory());
  console.log(`${label}: analysis ${(timings.analysisMs / 1000).toFixed(1)} s, first heatmap ${(timings.firstHeatmapMs / 1000).toFixed(1)} s, ` +
    `all ${count} heatmaps ${(timings.allHeatmapsMs / 1000).toFixed(1)} s after the click (wall ${((Date.now() - t0) / 1000).toFixed(1)} s); ` +
    `browser PSS peak ${(peakBytes / 2 ** 20).toFixed(0)} MiB, wasm memory ${(wasmBytes / 2 ** 20).toFixed(0)} MiB`);
  await page.waitForFunction(() => document.querySelector('#gallery').dataset.drawn);
  await screenshot(page, `app-${label}-results`);

  // Heatmaps are drawn: the thumbnails have pixels, and the overlay differs from the original.
  const thumbs = await page.$$eval('#gallery .thumb', (bs) => bs.map((b) => b.dataset.heatmap));
  assert.equal(thumbs.length, count);
  assert.ok(thumbs.filter((t) => t === 'yes').length >= Math.ceil(count / 2), `heatmaps: ${thumbs.join(' ')}`);
  const first = await canvasStats(page, '#gallery .thumb[data-heatmap="yes"] canvas');
  console.log(`${label}: first thumbnail ${first.width}×${first.height}, ${first.colours} colours, luminance sd ${first.sd.toFixed(1)}`);
  assert.ok(first.width > 100 && first.colours > 500 && first.sd > 10, 'the heatmap canvas is not blank');
  assert.ok((await canvasStats(page, '#hist')).colours > 2, 'the histogram is drawn');
  assert.ok((await canvasStats(page, '#spread')).colours > 2, 'the spread chart is drawn');

  // Enlarge from the keyboard, close with Escape; focus returns to the thumbnail.
  await page.focus('#gallery .thumb[data-index="0"]');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#viewer[open]');
  await page.waitForFunction(() => document.querySelector('#viewer-canvas').width > 1);
  await screenshot(page, `app-${label}-viewer`);
  await page.keyboard.press('Escape');
  await page.waitForSelector('#viewer:not([open])', { state: 'attached' });
  assert.equal(await page.evaluate(() => document.activeElement.dataset.index), '0');

  if (options.saliency) {
    // Built-in saliency against the heatmaps: relative risks at 5/10/15 %, contours in the viewer.
    await page.click('#saliency-run');
    await page.waitForSelector('#saliency-results table', { timeout: 120_000 });
    const rr = await page.$$eval('#saliency-results tbody tr', (trs) => trs.map((tr) => Array.from(tr.cells, (c) => c.textContent)));
    console.log(`${label}: relative risks (built-in saliency): ${rr.map((r) => r.join(' ')).join('; ')}`);
    assert.equal(rr.length, 3);
    assert.ok(rr.every((r) => Number.isFinite(Number(r[1]))), 'mean RR at every level');
    await page.click('#gallery .thumb[data-index="0"]');
    await page.waitForSelector('#viewer[open]');
    await page.click('#viewer-saliency');
    await page.waitForFunction(() => /RR/.test(document.querySelector('#viewer-rr').textContent));
    console.log(`${label}: ${await page.textContent('#viewer-rr')}`);
    await page.screenshot({ path: path.join(artifactsDir, `app-${label}-saliency.png`) });
    await page.click('#viewer-close');
    // An imported saliency map (2-D NPY) for the first image; the others are reported missing.
    const [h, w] = [300, 300];
    const map = Array.from({ length: h * w }, (_, i) => Math.exp(-(((i % w) - 150) ** 2 + (Math.floor(i / w) - 120) ** 2) / 3000));
    await page.setInputFiles('#saliency-files', { name: `${path.basename(cohorts[count].cohort.imageFiles[0], '.png')}.npy`, mimeType: 'application/octet-stream', buffer: Buffer.from(dump(Float32Array.from(map), [h, w])) });
    await page.waitForFunction(() => /Imported 1 saliency map/.test(document.querySelector('#saliency-status').textContent));
    assert.equal(await page.$eval('#saliency-source', (s) => s.value), 'imported');
    await page.click('#saliency-run');
    await page.waitForFunction(() => /Saliency: imported/.test(document.querySelector('#saliency-status').textContent));
    const left = await page.textContent('#saliency-results');
    assert.match(left, /Left out: .*no imported saliency map named/);
  }

  if (options.crossValidation) {
    // Aim 1 on request: 3 folds × 1 shuffle here (the paper: 5 × 8), with its chart.
    await page.selectOption('#cv-folds', '3');
    await page.click('#cv-run');
    await page.waitForSelector('#cv-results:not([hidden])', { timeout: 300_000 });
    const cv = await page.$eval('#cv-summary', (d) => d.textContent);
    console.log(`${label}: cross-validation: ${cv.replace(/\s+/g, ' ')} (${await page.textContent('#cv-status')})`);
    assert.match(cv, /Test r², all feature maps \(Full\)0\.\d+ ± 0\.\d+ \(mean ± sd over 3 folds\)/);
    assert.ok((await canvasStats(page, '#cv-chart')).colours > 2, 'the selection curves are drawn');
    await page.locator('#cv-results').screenshot({ path: path.join(artifactsDir, `app-${label}-cross-validation.png`) });
  }

  const files = await exportZip(page, label);
  const summary = await checkExport(files, label, count);
  assertNoProblems(page);
  browser.context.off('request', record);
  const elsewhere = requests.filter((u) => !u.startsWith(server.url) && !u.startsWith('blob:') && !u.startsWith('data:'));
  assert.deepEqual(elsewhere, [], 'no request leaves this server');
  console.log(`${label}: ${requests.length} requests, all to ${server.url}`);
  await page.close();
  return { timings, summary, peakBytes, wasmBytes };
}

test(`WebGPU (forced; SwiftShader here): ${WEBGPU_COUNT} Peterson animals end to end; the export equals the command line`, { skip: skipData, timeout: 900_000 }, async () => {
  const browser = await launchBrowser({ viewport: { width: 1280, height: 800 } });
  try {
    const { summary } = await endToEnd(browser, 'webgpu', '?device=webgpu', WEBGPU_COUNT);
    assert.match(summary.device, /wgpu|webgpu/i, `device: ${summary.device}`);
  } finally {
    await browser.close();
  }
});

test(`without WebGPU: ${COUNT} Peterson animals on the CPU backend in wasm; the export equals the command line`, { skip: skipData, timeout: 900_000 }, async () => {
  const browser = await launchBrowser({ args: CHROMIUM_ARGS_NO_WEBGPU, viewport: { width: 1280, height: 800 } });
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/__blank.html`);
    console.log(`navigator.gpu without the flag: ${await page.evaluate(async () => ('gpu' in navigator ? String(await navigator.gpu.requestAdapter()) : 'missing'))}`);
    await page.close();
    const { summary } = await endToEnd(browser, 'cpu', '', COUNT, { saliency: true, cancelFirst: true, crossValidation: true });
    assert.match(summary.device, /^cpu/, `device: ${summary.device}`);
  } finally {
    await browser.close();
  }
});

// The figures of the closing note: time to the first heatmap and to the whole cohort, peak memory,
// for 24 Peterson animals and the 92 Kriegeskorte images. ALIGNMAP_BROWSER_BENCH=1: the automatic
// device (the CPU backend where WebGPU is only SwiftShader); =webgpu: forced WebGPU (slow without
// a GPU); =all: both.
const bench = process.env.ALIGNMAP_BROWSER_BENCH;
const benchDevices = { 1: ['auto'], auto: ['auto'], webgpu: ['webgpu'], all: ['auto', 'webgpu'] }[bench] || ['auto'];
for (const device of benchDevices) {
  test(`timings (${device}): 24 and 92 images with the bundled network`, {
    skip: skipData || (bench ? false : 'set ALIGNMAP_BROWSER_BENCH=1 (or webgpu, all) for the timings of the closing note (slow)'),
    timeout: 3_600_000,
  }, async () => {
    const k92 = kriegeskorteCohort();
    const cases = [{ label: '24 Peterson animals', cohort }, ...(k92 ? [{ label: '92 Kriegeskorte images', cohort: { ...k92, count: k92.imageFiles.length }, rdm: true }] : [])];
    for (const c of cases) {
      const browser = await launchBrowser({ viewport: { width: 1280, height: 800 } });
      try {
        const page = await openApp(browser, device === 'webgpu' ? '?device=webgpu' : '');
        if (c.rdm) {
          await page.setInputFiles('#image-files', c.cohort.imageFiles);
          await page.waitForFunction((n) => window.alignmap.state.images.size === n && /ready/.test(document.querySelector('#image-status').textContent), c.cohort.count);
          await page.check('input[name="direction"][value="dissimilarity"]');
          await page.setInputFiles('#matrix-file', c.cohort.npz);
          await page.waitForFunction(() => document.querySelector('#checks').dataset.ok === 'true', null, { timeout: 60_000 });
        } else {
          await uploadCohort(page, c.cohort);
        }
        const memory = sampleMemory(browser.userDataDir);
        const timings = await analyze(page, 3_000_000);
        const { peakBytes } = memory.stop();
        const wasmBytes = await page.evaluate(() => window.alignmap.wasmMemory());
        const summary = await page.evaluate(() => window.alignmap.state.results.summary);
        console.log(`BENCH ${device} ${c.label}: ${await page.textContent('#device-status')}`);
        console.log(`BENCH ${device} ${c.label}: analysis ${(timings.analysisMs / 1000).toFixed(1)} s ` +
          `(network ${summary.timings.network_seconds.toFixed(1)} s, ablation ${summary.timings.ablation_seconds.toFixed(1)} s); ` +
          `first heatmap ${(timings.firstHeatmapMs / 1000).toFixed(1)} s and all ${c.cohort.count} heatmaps ${(timings.allHeatmapsMs / 1000).toFixed(1)} s after the click; ` +
          `baseline r = ${summary.baseline.r.toFixed(4)}; browser PSS peak ${(peakBytes / 2 ** 20).toFixed(0)} MiB; wasm memory ${(wasmBytes / 2 ** 20).toFixed(0)} MiB`);
        await screenshot(page, `bench-${device}-${c.cohort.count}`);
        await page.close();
      } finally {
        await browser.close();
      }
    }
  });
}
