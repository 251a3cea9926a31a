// VGG-16 through the page (issue 17, point 5). Generated full-size VGG-16 weights (`alignmap
// synthetic-weights`, torchvision keys, f16 safetensors: 264 MB) served by a second local server
// with CORS, loaded in the page as a "URL" network; 8 images of the shipped Kriegeskorte example
// with their 8×8 block of its RDM, analysed on the wasm CPU backend and on WebGPU (forced:
// SwiftShader here); each export's scores are compared with `alignmap analyze` of the native
// binary on the same weights, images and matrix, and the time and the peak browser memory (the
// PSS of all the browser's processes, as leaks.test.mjs measures it, and the WebAssembly memory)
// are printed.
//
// Slow on the 2-core build machine (tens of minutes, most of it SwiftShader), so it is skipped
// unless ALIGNMAP_VGG_PAGE=1; CI does not run it. ALIGNMAP_VGG_PAGE_BACKENDS=cpu (or webgpu)
// runs one backend only.
//
// Tolerance: the page and the command line compute in f32 and differ in the order of summation
// (wasm: one thread, SIMD128; natively: rayon and AVX); each AIS must satisfy
// |page − cli| ≤ 1e-4 · max(1, |cli|), as tests/browser/app.test.mjs asks of the bundled network.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';
import { startServer, launchBrowser, assertNoProblems, wwwDir, skipOrFail, sampleMemory, BLANK_PAGE } from './harness.mjs';
import { npyFile } from './cohort.mjs';

const run = promisify(execFile);
const targetDir = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache', 'alignmap-target');
const BIN = process.env.ALIGNMAP_BIN || path.join(targetDir, 'debug', 'alignmap');
const PKG = path.join(wwwDir, 'pkg', 'alignmap.js');
const EXAMPLES = path.join(wwwDir, 'examples');
const COUNT = 8;
const RELATIVE_TOLERANCE = 1e-4;
const BACKENDS = (process.env.ALIGNMAP_VGG_PAGE_BACKENDS || 'cpu,webgpu').split(',');

const enabled = process.env.ALIGNMAP_VGG_PAGE === '1';
const missing = [
  !fs.existsSync(PKG) && `${PKG} (build it with scripts/build-wasm.sh)`,
  !fs.existsSync(BIN) && `${BIN} (cargo build --bin alignmap, or set ALIGNMAP_BIN)`,
].filter(Boolean);
const skip = enabled ? skipOrFail(missing.length && `missing ${missing.join(', ')}`)
  : 'set ALIGNMAP_VGG_PAGE=1 to run (full-size VGG-16 in the page: tens of minutes on 2 cores)';

let server;
let weightsServer;
let tmp;
let cohort;
let cli;

/** Serves `dir` with CORS (another origin than the page, as a model host would be). */
async function corsServer(dir) {
  const s = http.createServer(async (req, res) => {
    const file = path.join(dir, decodeURIComponent(new URL(req.url, 'http://x').pathname));
    const stat = await fsp.stat(file).catch(() => null);
    if (!file.startsWith(dir + path.sep) || !stat?.isFile()) {
      res.writeHead(404, { 'access-control-allow-origin': '*' }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': stat.size, 'access-control-allow-origin': '*' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${s.address().port}`, close: () => new Promise((r) => { s.closeAllConnections(); s.close(r); }) };
}

/** The first `COUNT` images of the 24-image example and their block of its RDM, as a CSV. */
async function makeCohort(dir) {
  const examples = JSON.parse(await fsp.readFile(path.join(EXAMPLES, 'examples.json'), 'utf8'));
  const ex = examples.examples.find((e) => e.id === 'kriegeskorte24');
  const files = ex.files.slice(0, COUNT);
  const imagesDir = path.join(dir, 'images');
  await fsp.mkdir(imagesDir, { recursive: true });
  for (const f of files) await fsp.copyFile(path.join(EXAMPLES, ex.images, f), path.join(imagesDir, f));
  const rows = (await fsp.readFile(path.join(EXAMPLES, ex.matrix), 'utf8')).trim().split(/\r?\n/).map((l) => l.split(','));
  const names = rows[0];
  const at = files.map((f) => names.indexOf(f));
  assert.ok(at.every((i) => i >= 0), 'every image has a row');
  const csv = [files.join(','), ...at.map((i) => at.map((j) => rows[i + 1][j]).join(','))].join('\n') + '\n';
  const matrix = path.join(dir, 'rdm8.csv');
  await fsp.writeFile(matrix, csv);
  return { imagesDir, imageFiles: files.map((f) => path.join(imagesDir, f)), matrix };
}

before(async () => {
  if (skip) return;
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'alignmap-vgg16-page-'));
  const weights = path.join(tmp, 'weights', 'vgg16-synthetic-f16.safetensors');
  await fsp.mkdir(path.dirname(weights));
  await run(BIN, ['synthetic-weights', '--out', weights, '--dtype', 'f16', '--seed', '7']);
  console.log(`weights: ${(fs.statSync(weights).size / 1e6).toFixed(1)} MB`);
  cohort = await makeCohort(tmp);
  const out = path.join(tmp, 'cli');
  const t0 = performance.now();
  await run('nice', ['-n', '19', BIN, 'analyze', '--weights', weights, '--images', cohort.imagesDir, '--similarity', cohort.matrix,
    '--dissimilarity', '--out', out, '--device', 'cpu'], { maxBuffer: 64 << 20 });
  const read = (f) => npyFile(fs.readFileSync(path.join(out, f)));
  cli = { seconds: (performance.now() - t0) / 1000, image: read('ais_image.npy'), dataset: read('ais_dataset.npy'), datasetR2: read('ais_dataset_r2.npy') };
  console.log(`command line (native CPU, debug build): ${cli.seconds.toFixed(1)} s`);
  server = await startServer();
  weightsServer = await corsServer(path.dirname(weights));
});

after(async () => {
  await server?.close();
  await weightsServer?.close();
  if (tmp) await fsp.rm(tmp, { recursive: true, force: true }).catch(() => {});
});

function compare(name, got, want) {
  assert.deepEqual(got.shape, want.shape, `${name}: shape`);
  let maxDiff = 0;
  let worst = 0;
  for (let i = 0; i < want.values.length; i++) {
    const [g, w] = [got.values[i], want.values[i]];
    assert.ok(Number.isFinite(g) && Number.isFinite(w), `${name}[${i}]: page ${g}, cli ${w}`);
    maxDiff = Math.max(maxDiff, Math.abs(g - w));
    worst = Math.max(worst, Math.abs(g - w) / Math.max(1, Math.abs(w)));
  }
  console.log(`  ${name}: max |page − cli| = ${maxDiff.toExponential(2)}`);
  assert.ok(worst <= RELATIVE_TOLERANCE, `${name}: max |page − cli| / max(1, |cli|) = ${worst} > ${RELATIVE_TOLERANCE}`);
}

const mb = (b) => `${(b / 1e6).toFixed(0)} MB`;

/**
 * The fastest of three forward passes of the tiny generated VGG-16 at 224×224 on `backend`, in
 * ms: the unit of the page's time estimates (src/web/memory.rs, VGG16_PER_TINY_*).
 */
async function tinyForwardMs(browser, backend) {
  const page = await browser.newPage();
  await page.goto(server.url + BLANK_PAGE);
  const ms = await page.evaluate(async (backend) => {
    const m = await import('./pkg/alignmap.js');
    await m.default();
    await m.init_device(backend);
    let best = Infinity;
    for (let seed = 0; seed < 3; seed++) best = Math.min(best, (await m.synthetic_forward('tiny', 7, seed, 224, 224)).millis);
    return best;
  }, backend);
  await page.close();
  return ms;
}

for (const backend of BACKENDS) {
  test(`VGG-16 (generated, f16 from a URL) on ${COUNT} images in the page, ${backend}: the export equals the command line`, { skip, timeout: 7_200_000 }, async () => {
    const browser = await launchBrowser({ viewport: { width: 1366, height: 768 } });
    const tiny = await tinyForwardMs(browser, backend);
    const memory = sampleMemory(browser.userDataDir, 500);
    try {
      const page = await browser.newPage();
      await page.goto(`${server.url}/?device=${backend}`);
      await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 300_000 });
      const device = await page.evaluate(() => window.alignmap.state.device.description);
      await page.check('input[name="model"][value="url"]');
      await page.fill('#model-url', `${weightsServer.url}/vgg16-synthetic-f16.safetensors`);
      let t0 = Date.now();
      await page.click('#load-model');
      await page.waitForFunction(() => /^VGG-16 loaded/.test(document.querySelector('#model-status').textContent)
        || !document.querySelector('#model-error').hidden, null, { timeout: 1_800_000, polling: 500 });
      assert.equal(await page.$eval('#model-error', (e) => (e.hidden ? '' : e.textContent)), '');
      const loadSeconds = (Date.now() - t0) / 1000;
      await page.setInputFiles('#image-files', cohort.imageFiles);
      await page.waitForFunction((n) => window.alignmap.state.images.size === n, COUNT);
      await page.check('input[name="direction"][value="dissimilarity"]');
      await page.setInputFiles('#matrix-file', cohort.matrix);
      await page.waitForFunction(() => document.querySelector('#checks').dataset.ok === 'true', null, { timeout: 60_000 });
      t0 = Date.now();
      await page.click('#analyze');
      await page.waitForFunction(() => !window.alignmap.state.running && (document.body.dataset.results === 'ready'
        || !document.querySelector('#run-error').hidden), null, { timeout: 7_000_000, polling: 1000 });
      assert.equal(await page.$eval('#run-error', (e) => (e.hidden ? '' : e.textContent)), '', 'the analysis finished');
      const runSeconds = (Date.now() - t0) / 1000;
      const wasm = await page.evaluate(() => window.alignmap.wasmMemory());
      const timings = await page.evaluate(() => window.alignmap.state.results.summary.timings);
      const plan = await page.textContent('#run-memory');
      const { peakBytes } = memory.stop();
      console.log(`${backend} (${device}): loading the weights ${loadSeconds.toFixed(1)} s; analysis ${runSeconds.toFixed(1)} s ` +
        `(${Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}); ` +
        `peak browser PSS ${mb(peakBytes)}; WebAssembly memory ${mb(wasm)}${plan ? `; memory plan: ${plan}` : ''}; ` +
        `tiny forward ${tiny.toFixed(1)} ms, so seconds per image / tiny seconds = ${(runSeconds / COUNT / (tiny / 1000)).toFixed(0)}`);
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 300_000 }), page.click('#export')]);
      const zip = unzipSync(await fsp.readFile(await download.path()));
      compare('ais_image', npyFile(zip['ais_image.npy']), cli.image);
      compare('ais_dataset', npyFile(zip['ais_dataset.npy']), cli.dataset);
      compare('ais_dataset_r2', npyFile(zip['ais_dataset_r2.npy']), cli.datasetR2);
      assertNoProblems(page);
    } finally {
      memory.stop();
      await browser.close();
    }
  });
}
