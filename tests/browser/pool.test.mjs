// Every core in the browser (issue 17, point 2) in headless Chromium: the shipped 24-image
// example (bundled EfficientNet-Lite0, wasm CPU backend) analysed by one worker and by a pool of
// two (the network split by images, the ablation by feature maps, merged in the engine): the
// scores agree within 1e-6 (the engine's image schedules round their f32 products differently,
// tests/engine.rs), the two exports hold the same files and the same numbers, cross-validation
// of the pooled analysis shared by the two workers equals the engine's worker's alone, and
// nothing errs. Prints the time of each, with the network and
// ablation stages; ALIGNMAP_POOL_92=1 also times the 92-image example and the paper's protocol
// on it (5 folds × 8 shuffles).
//
// Needs www/pkg (scripts/build-wasm.sh) and www/models (models/build.sh).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { unzipSync } from 'fflate';
import { startServer, launchBrowser, assertNoProblems, screenshot, skipWithoutPage } from './harness.mjs';

const skip = skipWithoutPage();
const TOLERANCE = 1e-6;

let server;
before(async () => {
  if (!skip) server = await startServer();
});
after(async () => {
  await server?.close();
});

async function waitResults(page) {
  await page.waitForFunction(() => (document.body.dataset.results === 'ready' && document.querySelector('#gallery').dataset.drawn)
    || !document.querySelector('#start-error').hidden || !document.querySelector('#run-error').hidden, null, { timeout: 900_000, polling: 250 });
  const errors = await page.evaluate(() => ['#start-error', '#run-error'].map((s) => document.querySelector(s)).filter((e) => !e.hidden).map((e) => e.textContent));
  assert.deepEqual(errors, [], 'no error is shown');
}

/** The analysis on screen: its scores, timings and export. */
async function analysis(page) {
  const r = await page.evaluate(() => {
    const x = window.alignmap.state.results;
    return {
      image: Array.from(x.image), dataset: Array.from(x.dataset), perImage: Array.from(x.info.baseline.perImage),
      baseline: x.summary.baseline.r, stages: x.summary.timings, ms: window.alignmap.timings.analysisMs,
      workers: window.alignmap.timings.workers, status: document.querySelector('#run-status').textContent,
    };
  });
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  r.files = unzipSync(fs.readFileSync(await download.path()));
  return r;
}

function maxDiff(a, b) {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

const csvValues = (bytes) => new TextDecoder().decode(bytes).trim().split('\n').slice(1).flatMap((l) => l.split(',').slice(1).map(Number));

async function compareOneAndTwo(example, { seeds }) {
  const browser = await launchBrowser({ viewport: { width: 1366, height: 768 } });
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/?device=cpu&workers=1&example=${example}`);
    await waitResults(page);
    // Timed on the second run of each: the first run of a WebAssembly module in a worker is
    // partly in V8's baseline tier.
    const again = async (workers) => {
      await page.selectOption('#workers', workers);
      const before = await page.evaluate(() => window.alignmap.timings.analysisMs);
      await page.click('#analyze');
      await page.waitForFunction((ms) => !window.alignmap.state.running && window.alignmap.timings.analysisMs !== ms, before, { timeout: 900_000, polling: 100 });
      await waitResults(page);
      return analysis(page);
    };
    const cold = await analysis(page);
    const one = await again('1');
    assert.equal(one.workers, 1);
    const twoCold = await again('2');
    const two = await again('2');
    console.log(`pool, ${example}: first runs: 1 worker ${(cold.ms / 1000).toFixed(2)} s, 2 workers ${(twoCold.ms / 1000).toFixed(2)} s`);
    assert.equal(two.workers, 2);
    assert.match(two.status, /on 2 workers/);
    assert.ok(maxDiff(twoCold.image, two.image) === 0, 'a pool of two gives the same scores each time');
    const stage = (r) => `${(r.ms / 1000).toFixed(2)} s (network ${r.stages.network_seconds.toFixed(2)} s, ablation ${r.stages.ablation_seconds.toFixed(2)} s)`;
    console.log(`pool, ${example} (${one.image.length / one.dataset.length} images): 1 worker ${stage(one)}; 2 workers ${stage(two)}` +
      `, of which ${twoCold.stages.workers_start_seconds.toFixed(2)} s starting the second worker on the first pooled run and ${two.stages.workers_start_seconds.toFixed(2)} s on the next; ` +
      `speed-up ${(one.ms / two.ms).toFixed(2)}×`);

    const d = { image: maxDiff(one.image, two.image), dataset: maxDiff(one.dataset, two.dataset), perImage: maxDiff(one.perImage, two.perImage) };
    console.log(`pool, ${example}: max |1 worker − 2 workers|: per-image AIS ${d.image.toExponential(2)}, dataset AIS ${d.dataset.toExponential(2)}, image baselines ${d.perImage.toExponential(2)}`);
    assert.ok(d.image <= TOLERANCE && d.dataset <= TOLERANCE && d.perImage <= TOLERANCE, JSON.stringify(d));
    assert.ok(Math.abs(one.baseline - two.baseline) <= TOLERANCE);
    assert.deepEqual(Object.keys(two.files).sort(), Object.keys(one.files).sort(), 'the same files in both exports');
    for (const f of ['ais_image.csv', 'ais_dataset.csv']) {
      assert.ok(maxDiff(csvValues(one.files[f]), csvValues(two.files[f])) <= TOLERANCE, f);
    }
    const summary = (r) => JSON.parse(new TextDecoder().decode(r.files['summary.json']));
    const [s1, s2] = [summary(one), summary(two)];
    for (const key of ['n_images', 'feature_maps', 'model', 'human']) assert.deepEqual(s2[key], s1[key], key);

    if (seeds) {
      // On the pooled analysis the two workers share the folds; then the engine's worker alone
      // cross-validates the same analysis: the same curves, bit for bit.
      await page.selectOption('#cv-folds', '5');
      await page.selectOption('#cv-seeds', seeds);
      const crossValidate = async () => {
        await page.evaluate(() => { document.querySelector('#cv-status').textContent = ''; });
        await page.click('#cv-run');
        await page.waitForFunction(() => !window.alignmap.state.running && /Done in|failed|stopped/.test(document.querySelector('#cv-status').textContent), null, { timeout: 600_000, polling: 100 });
        const status = await page.textContent('#cv-status');
        const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
        const files = unzipSync(fs.readFileSync(await download.path()));
        return { status, cv: JSON.parse(new TextDecoder().decode(files['summary.json'])).cross_validation };
      };
      const pooled = await crossValidate();
      assert.match(pooled.status, /^Done in .* on 2 workers\.$/);
      assert.match(await page.$eval('#cv-summary', (e) => e.textContent), /Test r², all feature maps \(Full\)0\.\d+/);
      await page.evaluate(() => { window.alignmap.state.results.pooled = false; });
      const alone = await crossValidate();
      assert.doesNotMatch(alone.status, /workers/);
      console.log(`pool, ${example}: cross-validation (${pooled.cv.folds} folds × ${pooled.cv.seeds.length} shuffles) on 2 workers ${pooled.cv.seconds.toFixed(2)} s, on the engine's worker alone ${alone.cv.seconds.toFixed(2)} s`);
      assert.equal(pooled.cv.curves.length, 5 * Number(seeds));
      console.log(`pool, ${example}: cross-validation on 2 workers / the analysis on 2 workers: ${(pooled.cv.seconds / (two.ms / 1000)).toFixed(2)}×`);
      assert.deepEqual({ ...pooled.cv, seconds: 0 }, { ...alone.cv, seconds: 0 }, 'the same cross-validation on one worker and on two');
    }
    await page.locator('#run-section').scrollIntoViewIfNeeded();
    await screenshot(page, `pool-${example}`);
    assertNoProblems(page);
  } finally {
    await browser.close();
  }
}

test('one worker and a pool of two give the same analysis and export', { skip, timeout: 1_200_000 }, async () => {
  await compareOneAndTwo('kriegeskorte24', { seeds: '1' });
});

test('a worker of the pool that dies mid-run: the page says so, keeps everything and runs again on one worker', { skip, timeout: 900_000 }, async () => {
  const browser = await launchBrowser({ viewport: { width: 1366, height: 768 } });
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/?device=cpu&workers=2&example=kriegeskorte24`);
    await waitResults(page);
    await page.click('#analyze');
    await page.waitForFunction(() => window.alignmap.state.running && window.alignmap.state.pool.length === 1, null, { timeout: 120_000, polling: 20 });
    await page.evaluate(() => window.alignmap.state.pool[0].worker.dispatchEvent(new ErrorEvent('error', { message: 'Uncaught RangeError: Array buffer allocation failed' })));
    await page.waitForFunction(() => !window.alignmap.state.running && !document.querySelector('#run-error').hidden, null, { timeout: 120_000 });
    const error = await page.textContent('#run-error');
    console.log(`pool: a dead worker: "${error}"`);
    assert.match(error, /^A worker of the pool stopped \(Uncaught RangeError: Array buffer allocation failed\)\. Your images, similarity matrix and network are kept; the analysis now uses one worker: run it again\.$/);
    assert.equal(await page.$eval('#workers', (s) => s.value), '1');
    assert.equal(await page.evaluate(() => window.alignmap.state.pool.length), 0, 'the pool was ended');
    const before = await page.evaluate(() => window.alignmap.timings.analysisMs);
    await page.click('#analyze');
    await page.waitForFunction((ms) => !window.alignmap.state.running && window.alignmap.timings.analysisMs !== ms, before, { timeout: 600_000, polling: 100 });
    await waitResults(page);
    assert.equal(await page.evaluate(() => window.alignmap.timings.workers), 1);
    assert.equal(await page.$$eval('#gallery .thumb', (t) => t.length), 24);
    assertNoProblems(page);
  } finally {
    await browser.close();
  }
});

test('the 92-image example and the paper protocol on one worker and on two (ALIGNMAP_POOL_92=1)', { skip: skip || (!process.env.ALIGNMAP_POOL_92 && 'set ALIGNMAP_POOL_92=1 to time it'), timeout: 1_800_000 }, async () => {
  await compareOneAndTwo('kriegeskorte92', { seeds: '8' });
});
