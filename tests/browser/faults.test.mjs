// The page survives faults (issue 15, point 3): the analysis engine (the WebAssembly module in its
// worker) dies in the middle of a run — a trap, as a panic or an allocation that fails out of
// memory ends in wasm, injected by serving a package whose analyze() traps after its first
// progress; or an uncaught error in the worker — and the page says so in plain words, keeps the
// images, the matrix and the network, restarts the engine and runs again when asked.
// Screenshots of the message go to /tmp/shots/ (1366×768 and 390×844).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { startServer, launchBrowser, assertNoProblems, wwwDir, skipOrFail } from './harness.mjs';

const PKG = path.join(wwwDir, 'pkg', 'alignmap.js');
const WEIGHTS = path.join(wwwDir, 'models', 'efficientnet-lite0-f16.safetensors');
const SHOTS = '/tmp/shots';
const missing = [
  !fs.existsSync(PKG) && `${PKG} (build it with scripts/build-wasm.sh)`,
  !fs.existsSync(WEIGHTS) && `${WEIGHTS} (build it with models/build.sh)`,
].filter(Boolean);
const skip = skipOrFail(missing.length && `missing ${missing.join(', ')}`);

const ANALYZE = 'export function analyze(progress, batch) {\n    const ret = wasm.analyze(progress, batch);';
// What a Rust panic or a failed allocation looks like from JavaScript: a RuntimeError thrown
// out of the module, here after the first progress message.
const TRAPPED = 'export function analyze(progress, batch) {\n    progress("decode", 0, 24);\n' +
  '    throw new WebAssembly.RuntimeError("unreachable");';

let server;
before(async () => {
  if (!skip) server = await startServer();
});
after(async () => {
  await server?.close();
});

async function shots(page, name) {
  await fsp.mkdir(SHOTS, { recursive: true });
  for (const [w, h] of [[1366, 768], [390, 844]]) {
    await page.setViewportSize({ width: w, height: h });
    await page.locator('#run-section').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, `${name}-${w}x${h}.png`) });
  }
  await page.setViewportSize({ width: 1366, height: 768 });
}

async function waitCrashMessage(page) {
  await page.waitForFunction(() => !document.querySelector('#run-recover').hidden
    || /did not restart/.test(document.querySelector('#run-error').textContent), null, { timeout: 300_000, polling: 200 });
  return {
    status: await page.textContent('#run-status'),
    error: await page.textContent('#run-error'),
    images: await page.evaluate(() => window.alignmap.state.images.size),
    matrix: await page.evaluate(() => !!window.alignmap.state.matrix),
    model: await page.evaluate(() => !!window.alignmap.state.model),
    analyzeEnabled: await page.evaluate(() => !document.querySelector('#analyze').disabled),
  };
}

async function waitResults(page) {
  await page.waitForFunction(() => (document.body.dataset.results === 'ready' && document.querySelector('#gallery').dataset.drawn)
    || (!document.querySelector('#run-error').hidden && document.querySelector('#run-error').textContent), null, { timeout: 600_000, polling: 250 });
  assert.equal(await page.$eval('#run-error', (e) => (e.hidden ? '' : e.textContent)), '', 'no error after running again');
}

test('a worker that traps or fails mid-run leaves the page usable, with its inputs, and runs again', { skip, timeout: 1_500_000 }, async () => {
  const browser = await launchBrowser({ viewport: { width: 1366, height: 768 } });
  try {
    const page = await browser.newPage();
    let served = 0;
    await page.route('**/pkg/alignmap.js', async (route) => {
      const text = await fsp.readFile(PKG, 'utf8');
      assert.ok(text.includes(ANALYZE), 'the package still has the analyze() wrapper this test replaces');
      served++;
      // The first worker gets the trapping package; the restarted one the real one.
      await route.fulfill({ body: served === 1 ? text.replace(ANALYZE, TRAPPED) : text, contentType: 'text/javascript' });
    });
    await page.goto(`${server.url}/?example=kriegeskorte24`);

    // 1. A trap in the module.
    const trap = await waitCrashMessage(page);
    console.log(`trap: status "${trap.status}"; message "${trap.error}"`);
    assert.match(trap.status, /Stopped\. The engine has restarted; nothing you added was lost/, trap.status);
    assert.match(trap.error, /Run again one image at a time \(less memory\)\.$/);
    assert.match(trap.error, /crashed in the middle of the analysis, most often because it ran out of memory/);
    assert.match(trap.error, /images, similarity matrix and network are kept/);
    assert.deepEqual([trap.images, trap.matrix, trap.model, trap.analyzeEnabled], [24, true, true, true], 'inputs kept, Analyse usable');
    assert.equal(await page.isVisible('#run-again-smaller'), true);
    assert.equal(served, 2, 'a fresh worker was started');
    await shots(page, 'fault-trap');
    await page.click('#run-again-smaller');
    await waitResults(page);
    assert.equal(await page.$$eval('#gallery .thumb', (t) => t.length), 24);

    // 2. An uncaught error in the worker while the analysis runs: the finished results of the
    // first run stay on screen.
    await page.click('#analyze');
    await page.waitForFunction(() => window.alignmap.state.running);
    await page.evaluate(() => window.alignmap.state.worker.dispatchEvent(new ErrorEvent('error', { message: 'Uncaught RangeError: Array buffer allocation failed' })));
    const uncaught = await waitCrashMessage(page);
    console.log(`uncaught error: status "${uncaught.status}"; message "${uncaught.error}"`);
    assert.match(uncaught.error, /most often because it ran out of memory \(Uncaught RangeError: Array buffer allocation failed\)/);
    assert.deepEqual([uncaught.images, uncaught.matrix, uncaught.model, uncaught.analyzeEnabled], [24, true, true, true]);
    assert.equal(await page.isVisible('#results'), true, 'the earlier results stay on screen');
    assert.equal(await page.isVisible('#run-again-smaller'), false, 'already one image at a time');
    assert.match(uncaught.error, /Run it again\.$/);
    assert.deepEqual(await page.$$eval('#stages .stage-text', (s) => s.map((e) => e.textContent)).then((t) => t.slice(1)), ['stopped', 'stopped']);
    await shots(page, 'fault-uncaught');
    // The restarted engine answers: the analysis runs again.
    await page.click('#analyze');
    await waitResults(page);
    assertNoProblems(page);
  } finally {
    await browser.close();
  }
});

test('a reload in the middle of an analysis says what was lost', { skip, timeout: 600_000 }, async () => {
  const browser = await launchBrowser({ viewport: { width: 1366, height: 768 } });
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/?example=kriegeskorte24`);
    await page.waitForFunction(() => window.alignmap?.state.running, null, { timeout: 300_000, polling: 100 });
    // The same tab reloaded at the plain address (the example's address would run it again).
    await page.evaluate(() => history.replaceState(null, '', '/'));
    await page.reload();
    await page.waitForFunction(() => /reloaded/.test(document.querySelector('#run-status').textContent), null, { timeout: 120_000 });
    const status = await page.textContent('#run-status');
    console.log(`reload: ${status}`);
    assert.match(status, /reloaded while an analysis of 24 images was running: that run and its progress were lost/);
    assert.match(status, /does not keep image and matrix files across a reload: add them again/);
    await shots(page, 'fault-reload');
    // Said once: the next reload is a plain start.
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 120_000 });
    assert.doesNotMatch(await page.textContent('#run-status'), /reloaded/);
    assertNoProblems(page);
  } finally {
    await browser.close();
  }
});
