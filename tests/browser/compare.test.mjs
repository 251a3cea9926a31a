// Aim 2 in the page (issue 13): step 5 compares two networks on the 24-image Kriegeskorte example
// that ships with the page. Bundled EfficientNet-Lite0 (side A, the example's run) against the
// bundled Lite2 (side B, run beside it in the engine), then against Lite0 with its weights
// shuffled in the page (the teaching control); every number of the page's report is compared with
// `alignmap compare` run by the native binary on the same files (and `alignmap shuffle --seed 0`
// for the control), the export holds the comparison as the command's folder, the page reports no
// errors, and screenshots at 1366×768 and 390×844 are kept in tests/browser/artifacts/.
//
// Needs www/pkg (scripts/build-wasm.sh), www/models with Lite0 and Lite2 (models/build.sh) and
// the native binary (ALIGNMAP_BIN, else $CARGO_TARGET_DIR/debug/alignmap). Nothing here needs
// ../shared/data: the example ships with the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';
import { startServer, launchBrowser, assertNoProblems, screenshot, wwwDir, artifactsDir, skipOrFail } from './harness.mjs';

const run = promisify(execFile);
const targetDir = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache', 'alignmap-target');
const BIN = process.env.ALIGNMAP_BIN || path.join(targetDir, 'debug', 'alignmap');
const PKG = path.join(wwwDir, 'pkg', 'alignmap.js');
const LITE0 = path.join(wwwDir, 'models', 'efficientnet-lite0-f16.safetensors');
const LITE2 = path.join(wwwDir, 'models', 'efficientnet-lite2-f16.safetensors');
const EXAMPLES = path.join(wwwDir, 'examples');
const small = JSON.parse(fs.readFileSync(path.join(EXAMPLES, 'examples.json'), 'utf8')).examples.find((e) => e.id === 'kriegeskorte24');
// Page (wasm, f32) against the command line (native, f32), as first-minute.test.mjs compares the
// scores: |page − cli| ≤ 1e-4 · max(1, |cli|) for every continuous value (Match, entropies, MAD,
// mean AIS, Pearson r and p, KS p); the counts (images without Match) are equal, and so are the
// KS statistics D (a multiple of 1/n: a tie moved by rounding would show here).
const TOLERANCE = 1e-4;

const missing = [
  !fs.existsSync(PKG) && `${PKG} (build it with scripts/build-wasm.sh)`,
  !fs.existsSync(LITE0) && `${LITE0} (build it with models/build.sh)`,
  !fs.existsSync(LITE2) && `${LITE2} (build it with models/build.sh)`,
  !fs.existsSync(BIN) && `${BIN} (cargo build --bin alignmap, or set ALIGNMAP_BIN)`,
].filter(Boolean);
const skip = skipOrFail(missing.length && `missing ${missing.join(', ')}`);

let server;
let tmp;
let cli; // Promise of { lite2: { dir, report }, shuffled: { dir, report } }

async function compareCli(b, out) {
  const images = path.join(tmp, 'images');
  const t0 = performance.now();
  await run(BIN, ['compare', '--a', LITE0, '--b', b, '--images', images, '--similarity', path.join(EXAMPLES, small.matrix), '--dissimilarity',
    '--out', out, '--device', 'cpu'], { maxBuffer: 64 << 20 });
  console.log(`alignmap compare ${path.basename(b)} on ${small.files.length} images: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { dir: out, report: JSON.parse(fs.readFileSync(path.join(out, 'compare.json'), 'utf8')) };
}

before(async () => {
  if (skip) return;
  server = await startServer();
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'alignmap-compare-'));
  await fsp.mkdir(path.join(tmp, 'images'));
  for (const f of small.files) await fsp.copyFile(path.join(EXAMPLES, 'kriegeskorte92', 'images', f), path.join(tmp, 'images', f));
  // One after the other (2 cores), while the page runs.
  cli = (async () => {
    const lite2 = await compareCli(LITE2, path.join(tmp, 'lite2'));
    const shuffledWeights = path.join(tmp, 'lite0-shuffled.safetensors');
    await run(BIN, ['shuffle', LITE0, shuffledWeights, '--seed', '0']);
    const shuffled = await compareCli(shuffledWeights, path.join(tmp, 'shuffled'));
    return { lite2, shuffled };
  })();
  cli.catch(() => {});
});

after(async () => {
  await server?.close();
  if (tmp) await fsp.rm(tmp, { recursive: true, force: true }).catch(() => {});
});

async function waitFor(page, predicate, what, timeout = 900_000) {
  try {
    await page.waitForFunction(predicate, null, { timeout, polling: 250 });
  } catch (err) {
    await screenshot(page, 'compare-timeout');
    const status = await page.evaluate(() => ['#device-status', '#model-status', '#run-status', '#run-error', '#compare-status', '#compare-error']
      .map((s) => `${s}: ${document.querySelector(s).textContent}`).join(' | '));
    throw new Error(`${what}: ${err.message}; the page says: ${status}; problems: ${page.problems.join('; ')}`);
  }
}

/** |got − want| / max(1, |want|), NaN and null (an undefined value) equal only to each other. */
function close(got, want, what) {
  const missingGot = got === null || Number.isNaN(got);
  const missingWant = want === null || Number.isNaN(want);
  assert.equal(missingGot, missingWant, `${what}: page ${got}, command line ${want}`);
  if (missingWant) return 0;
  const d = Math.abs(got - want) / Math.max(1, Math.abs(want));
  assert.ok(d <= TOLERANCE, `${what}: page ${got}, command line ${want} (${d.toExponential(2)})`);
  return d;
}

function closeAll(got, want, what) {
  assert.equal(got.length, want.length, `${what}: length`);
  return got.reduce((worst, g, i) => Math.max(worst, close(g, want[i], `${what}[${i}]`)), 0);
}

/** Compares every number of the page's report with compare.json; returns the worst relative difference. */
function sameReport(page, want) {
  assert.deepEqual(page.images, want.images);
  let worst = 0;
  const keep = (d) => { worst = Math.max(worst, d); };
  keep(closeAll(page.match.per_image, want.match.per_image, 'match.per_image'));
  for (const k of ['median', 'mean', 'sd']) keep(close(page.match[k], want.match[k], `match.${k}`));
  assert.equal(page.match.images_without_match, want.match.images_without_match, 'images without Match');
  keep(closeAll(page.max_entropy.per_image, want.max_entropy.per_image, 'max_entropy.per_image'));
  const pc = page.max_entropy.pearson_with_match;
  const wc = want.max_entropy.pearson_with_match;
  assert.equal('undefined' in pc, 'undefined' in wc, 'Match–maxEntropy correlation defined in both');
  if (!('undefined' in wc)) {
    keep(close(pc.r, wc.r, 'pearson r'));
    keep(close(pc.p_two_sided, wc.p_two_sided, 'pearson p'));
  }
  for (const key of ['ks_mean_ais_per_feature_map', 'ks_mad_per_image']) {
    assert.equal(page[key].statistic, want[key].statistic, `${key}: D`);
    keep(close(page[key].p_value, want[key].p_value, `${key}: p`));
    assert.equal(page[key].method, want[key].method, `${key}: method`);
  }
  for (const side of ['a', 'b']) {
    assert.equal(page[side].model, want[side].model, `${side}.model`);
    keep(close(page[side].baseline.r, want[side].baseline.r, `${side}.baseline.r`));
    for (const k of ['mean_ais_per_feature_map', 'mad_per_image', 'entropy_per_image']) keep(closeAll(page[side][k], want[side][k], `${side}.${k}`));
  }
  return worst;
}

/** Runs step 5 with network B `choice`; resolves to { report, timings }. */
async function compareInPage(page, choice) {
  await page.selectOption('#compare-choice', choice);
  await page.evaluate(() => { delete document.body.dataset.compare; });
  await page.click('#compare-run');
  await waitFor(page, () => document.body.dataset.compare, `the comparison with ${choice}`);
  const error = await page.$eval('#compare-error', (e) => (e.hidden ? '' : e.textContent));
  assert.equal(error, '', 'no error is shown');
  assert.equal(await page.evaluate(() => document.body.dataset.compare), 'ready');
  await waitFor(page, () => document.querySelector('#compare-gallery').dataset.drawn, 'the side-by-side heatmaps');
  return page.evaluate(() => ({ report: window.alignmap.state.comparison.report, timings: { ...window.alignmap.timings } }));
}

test('step 5 compares the example on Lite0 with Lite2 and with Lite0 shuffled, as alignmap compare does; the export holds the comparison', { skip, timeout: 2_400_000 }, async () => {
  const browser = await launchBrowser({ viewport: { width: 1366, height: 768 } });
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/?example=kriegeskorte24`);
    await waitFor(page, () => (document.body.dataset.results === 'ready' && document.querySelector('#gallery').dataset.drawn)
      || !document.querySelector('#start-error').hidden || !document.querySelector('#run-error').hidden, 'the example');
    const errors = await page.evaluate(() => ['#start-error', '#run-error'].map((s) => document.querySelector(s)).filter((e) => !e.hidden).map((e) => e.textContent));
    assert.deepEqual(errors, [], 'the example runs without an error');
    assert.equal(await page.$eval('#compare-section', (s) => s.hidden), false, 'step 5 shows with the results');
    assert.match(await page.textContent('#compare-sides'), /EfficientNet-Lite0: images at 224 px, 320 feature maps/);
    assert.equal(await page.$eval('#compare-choice option[value="bundled"]', (o) => o.disabled), true, 'Lite0 is network A');

    // Lite0 against Lite2, timed from the click to the report on screen (after the command line
    // has finished, so that the two cores are the page's).
    const want = (await cli).lite2;
    const lite2 = await compareInPage(page, 'lite2');
    const t = lite2.timings;
    console.log(`Lite0 vs Lite2 on ${small.files.length} images in the page: report on screen ${(t.compareShownMs / 1000).toFixed(1)} s after the click ` +
      `(Lite2 on the cohort ${(t.compareNetworkMs / 1000).toFixed(1)} s; every pair of heatmaps drawn at ${(t.compareAllHeatmapsMs / 1000).toFixed(1)} s); ` +
      `${await page.textContent('#device-status')}`);
    const sides = await page.textContent('#compare-summary');
    assert.match(sides, /A: EfficientNet-Lite0: images at 224 px, 320 feature maps/);
    assert.match(sides, /B: EfficientNet-Lite2: images at 260 px, 352 feature maps/);
    for (const term of ['Match, median', 'Match vs maxEntropy', 'KS test, mean AIS per feature map', 'KS test, MAD per image', 'MAD of AIS']) {
      assert.ok(sides.includes(term), `the summary shows ${term}`);
    }
    assert.equal(await page.$$eval('#compare-gallery .compare-card', (c) => c.length), small.files.length);
    assert.ok(await page.$$eval('#compare-gallery canvas', (cs) => cs.every((c) => c.width > 1)), 'every heatmap is drawn');
    for (const id of ['#compare-hist', '#compare-scatter']) assert.ok(await page.$eval(id, (c) => c.width > 100), `${id} is drawn`);
    const worst = sameReport(lite2.report, want.report);
    console.log(`Lite0 vs Lite2: Match median page ${lite2.report.match.median.toFixed(4)}, command line ${want.report.match.median.toFixed(4)}; ` +
      `largest |page − cli| / max(1, |cli|) over every number: ${worst.toExponential(2)}`);
    await page.locator('#compare-section').screenshot({ path: path.join(artifactsDir, 'compare-1366x768.png') });

    // The enlarged pair.
    await page.click('#compare-gallery .compare-card >> nth=2');
    await page.waitForSelector('#compare-viewer[open]');
    await waitFor(page, () => document.querySelector('#compare-viewer-b').width > 100, 'the enlarged pair');
    assert.match(await page.textContent('#compare-viewer-title'), new RegExp(`^${small.files[2].replace('.', '\\.')} \\(3 of 24\\)`));
    assert.match(await page.textContent('#compare-viewer-numbers'), /Match -?\d\.\d{3} · maxEntropy \d/);
    await page.screenshot({ path: path.join(artifactsDir, 'compare-viewer-1366x768.png') });
    await page.keyboard.press('ArrowRight');
    await waitFor(page, () => /\(4 of 24\)/.test(document.querySelector('#compare-viewer-title').textContent), 'the next pair');
    await page.click('#compare-viewer-close');

    // The export: the results zip holds the comparison as `alignmap compare` writes its folder.
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), page.click('#export')]);
    const exported = path.join(tmp, 'exported.zip');
    await download.saveAs(exported);
    const files = unzipSync(fs.readFileSync(exported));
    const text = (f) => new TextDecoder().decode(files[f]);
    const inZip = JSON.parse(text('compare/compare.json'));
    assert.equal(sameReport(inZip, want.report) <= TOLERANCE, true);
    assert.deepEqual(inZip.match.per_image.map((v) => (v === null ? NaN : v)), lite2.report.match.per_image, 'the zip holds the report on screen');
    assert.equal(JSON.parse(text('alignmap-results.json')).comparison, 'compare/compare.json');
    const cliFiles = ['compare.json', 'compare_images.csv', ...['a', 'b'].flatMap((s) =>
      ['images.txt', 'ais_image.npy', 'ais_image.csv', 'ais_dataset.npy', 'ais_dataset_r2.npy', 'ais_dataset.csv', 'summary.json', 'logits.npy'].map((f) => `${s}/${f}`))];
    for (const f of cliFiles) {
      assert.ok(files[`compare/${f}`], `the zip holds compare/${f}`);
      assert.ok(fs.existsSync(path.join(want.dir, f)), `alignmap compare wrote ${f}`);
    }
    // compare_images.csv and b/ais_image.csv: the command line's rows, numbers within the tolerance.
    for (const f of ['compare_images.csv', 'b/ais_image.csv']) {
      const rows = (t) => t.trim().split('\n').map((l) => l.split(','));
      const [got, exp] = [rows(text(`compare/${f}`)), rows(fs.readFileSync(path.join(want.dir, f), 'utf8'))];
      assert.deepEqual(got.map((r) => r[0]), exp.map((r) => r[0]), `${f}: rows`);
      assert.deepEqual(got[0], exp[0], `${f}: header`);
      got.slice(1).forEach((r, i) => r.slice(1).forEach((v, k) => close(Number(v), Number(exp[i + 1][k + 1]), `${f} row ${i + 1} column ${k + 1}`)));
    }
    const bSummary = JSON.parse(text('compare/b/summary.json'));
    assert.equal(bSummary.model.weights_sha256, JSON.parse(fs.readFileSync(path.join(want.dir, 'b', 'summary.json'), 'utf8')).model.weights_sha256,
      'b/summary.json names the same Lite2 file');

    // Lite0 against its shuffled control, made in the page without a download.
    const requests = [];
    page.on('request', (req) => requests.push(new URL(req.url()).pathname));
    const shuffled = await compareInPage(page, 'shuffled');
    assert.deepEqual(requests.filter((p) => p.includes('/models/')), [], 'the control needs no download');
    const wantShuffled = (await cli).shuffled;
    const worstShuffled = sameReport(shuffled.report, wantShuffled.report);
    console.log(`Lite0 vs Lite0 shuffled: Match median page ${shuffled.report.match.median.toFixed(4)}, command line ${wantShuffled.report.match.median.toFixed(4)}; ` +
      `${shuffled.report.match.images_without_match} images without Match; largest difference ${worstShuffled.toExponential(2)}; ` +
      `report on screen ${(shuffled.timings.compareShownMs / 1000).toFixed(1)} s after the click`);
    assert.match(await page.textContent('#compare-summary'), /weights shuffled \(seed 0\)/);
    const [download2] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), page.click('#export')]);
    const exported2 = path.join(tmp, 'exported-shuffled.zip');
    await download2.saveAs(exported2);
    const b2 = JSON.parse(new TextDecoder().decode(unzipSync(fs.readFileSync(exported2))['compare/b/summary.json']));
    assert.equal(b2.model.weights_sha256, JSON.parse(fs.readFileSync(path.join(wantShuffled.dir, 'b', 'summary.json'), 'utf8')).model.weights_sha256,
      'the page\'s shuffled network is the file `alignmap shuffle --seed 0` writes, byte for byte');
    await page.locator('#compare-section').screenshot({ path: path.join(artifactsDir, 'compare-shuffled-1366x768.png') });

    // A phone: nothing of step 5 runs past a 390-px screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.selectOption('#compare-order', 'low');
    await waitFor(page, () => document.querySelector('#compare-gallery').dataset.drawn, 'the reordered pairs');
    const wide = await page.evaluate(() => {
      const vw = document.documentElement.clientWidth;
      return Array.from(document.querySelectorAll('#compare-section *'))
        .filter((e) => e.offsetParent !== null && e.getBoundingClientRect().right > vw + 0.5)
        .map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''} (right edge ${Math.round(e.getBoundingClientRect().right)} px)`);
    });
    assert.deepEqual(wide, [], `elements of step 5 wider than the 390-px screen: ${wide.join(', ')}`);
    await page.locator('#compare-section').screenshot({ path: path.join(artifactsDir, 'compare-390x844.png') });
    await page.click('#compare-gallery .compare-card >> nth=0');
    await waitFor(page, () => document.querySelector('#compare-viewer-b').width > 100, 'the enlarged pair on a phone');
    await page.screenshot({ path: path.join(artifactsDir, 'compare-viewer-390x844.png') });
    console.log(`screenshots: ${['compare-1366x768', 'compare-viewer-1366x768', 'compare-shuffled-1366x768', 'compare-390x844', 'compare-viewer-390x844'].map((n) => path.join(artifactsDir, `${n}.png`)).join(', ')}`);
    assertNoProblems(page);
  } finally {
    await browser.close();
  }
});
