// The page survives faults (issue 15, point 3): the analysis engine (the WebAssembly module in its
// worker) dies in the middle of a run — a trap, as a panic or an allocation that fails out of
// memory ends in wasm, injected by serving a package whose analyze() traps after its first
// progress; or an uncaught error in the worker — and the page says so in plain words, keeps the
// images, the matrix and the network, restarts the engine and runs again when asked. A lost WebGPU
// device (GPUDevice.destroy() in the middle of a run, through the worker's test hook) restarts
// the engine on the CPU and the analysis runs again there, with the CPU backend's numbers. A
// reload in the middle of a run says what was lost, puts the inputs back (kept in IndexedDB while
// the run lasts) and runs it again.
// Screenshots of the message go to /tmp/shots/ (1366×768 and 390×844).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { startServer, launchBrowser, assertNoProblems, wwwDir, skipWithoutPage } from './harness.mjs';

const PKG = path.join(wwwDir, 'pkg', 'alignmap.js');
const SHOTS = '/tmp/shots';
const skip = skipWithoutPage();

const ANALYZE = 'export function analyze(progress, batch, on_image, style) {\n';
// What a Rust panic or a failed allocation looks like from JavaScript: a RuntimeError thrown
// out of the module, here after the first progress message.
const TRAPPED = 'export function analyze(progress, batch, on_image, style) {\n    progress("decode", 0, 24);\n' +
  '    throw new WebAssembly.RuntimeError("unreachable");';

let server;
before(async () => {
  if (!skip) server = await startServer();
});
after(async () => {
  await server?.close();
});

async function shots(page, name, selector = '#run-section') {
  await fsp.mkdir(SHOTS, { recursive: true });
  for (const [w, h] of [[1366, 768], [390, 844]]) {
    await page.setViewportSize({ width: w, height: h });
    await page.locator(selector).scrollIntoViewIfNeeded();
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
    // One worker: the trap is in analyze(), which a pool of workers does not call.
    await page.goto(`${server.url}/?workers=1&example=kriegeskorte24`);

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

test('a reload in the middle of an analysis says what was lost, puts its inputs back and runs it again', { skip, timeout: 600_000 }, async () => {
  const browser = await launchBrowser({ viewport: { width: 1366, height: 768 } });
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/?example=kriegeskorte24`);
    // Reloaded once the run has kept its inputs in IndexedDB (a reload before that says they
    // could not be kept, which is right, but not what this test is about).
    await page.waitForFunction(() => window.alignmap?.state.running && JSON.parse(sessionStorage.getItem('alignmap-running') || '{}').kept === null,
      null, { timeout: 300_000, polling: 20 });
    // The same tab reloaded at the plain address (the example's address would run it again).
    await page.evaluate(() => history.replaceState(null, '', '/'));
    await page.reload();
    await page.waitForFunction(() => /reloaded/.test(document.querySelector('#run-status').textContent), null, { timeout: 120_000 });
    console.log(`reload: ${await page.textContent('#run-status')}`);
    await page.waitForFunction(() => /putting them back|runs again/.test(document.querySelector('#run-status').textContent), null, { timeout: 120_000 });
    assert.match(await page.textContent('#run-status'), /^The page was reloaded while an analysis of 24 images was running: that run and its progress were lost\. Its images, similarity matrix and network were kept in this browser while it ran: putting them back and starting it again…$|^The page was reloaded in the middle of this analysis/);
    await waitResults(page);
    const status = await page.textContent('#run-status');
    console.log(`reload: ${status}`);
    assert.match(status, /^The page was reloaded in the middle of this analysis: it runs again with the same images, matrix and network\. Done in /);
    assert.deepEqual(await page.evaluate(() => [window.alignmap.state.images.size, window.alignmap.state.matrix.file.name,
      window.alignmap.state.matrix.dissimilarity]), [24, 'kriegeskorte24-rdm.csv', true]);
    assert.equal(await page.$$eval('#gallery .thumb', (t) => t.length), 24);
    await shots(page, 'fault-reload');
    // The kept inputs are gone once the run has ended.
    const kept = await page.evaluate(() => new Promise((resolve, reject) => {
      const open = indexedDB.open('alignmap-interrupted', 1);
      open.onsuccess = () => {
        const get = open.result.transaction('inputs').objectStore('inputs').count();
        get.onsuccess = () => { resolve(get.result); open.result.close(); };
        get.onerror = () => reject(get.error);
      };
      open.onerror = () => reject(open.error);
    }));
    assert.equal(kept, 0, 'nothing is kept after the run');
    // Said once: the next reload is a plain start.
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 120_000 });
    assert.doesNotMatch(await page.textContent('#run-status'), /reloaded/);
    assertNoProblems(page);
  } finally {
    await browser.close();
  }
});

/** The example's scores as the page holds them after a run. */
async function scores(page) {
  return page.evaluate(() => {
    const r = window.alignmap.state.results;
    return { names: r.names, image: Array.from(r.image), dataset: Array.from(r.dataset) };
  });
}

function maxAbsDiff(a, b) {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    assert.ok(Number.isFinite(a[i]) && Number.isFinite(b[i]), `value ${i}: ${a[i]} vs ${b[i]}`);
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
  }
  return worst;
}

test('a lost WebGPU device: the analysis goes on on the CPU and gives the CPU\'s numbers', { skip, timeout: 1_200_000 }, async () => {
  const browser = await launchBrowser({ viewport: { width: 1366, height: 768 } });
  try {
    // The reference: the same example on the CPU backend.
    const cpu = await browser.newPage();
    await cpu.goto(`${server.url}/?example=kriegeskorte24&device=cpu`);
    await waitResults(cpu);
    const want = await scores(cpu);
    await cpu.close();

    // WebGPU forced (SwiftShader here, which the page would otherwise pass over for the CPU).
    const page = await browser.newPage();
    await page.goto(`${server.url}/?example=kriegeskorte24&device=webgpu`);
    await page.waitForFunction(() => window.alignmap?.state.running && window.alignmap.state.device && !window.alignmap.state.device.cpu
      && document.querySelector('#stages li[data-stage="network"]').dataset.status === 'running', null, { timeout: 300_000, polling: 100 });
    // The test's stand-in for a GPU reset: GPUDevice.destroy() on the device Burn computes on,
    // in the middle of the network stage.
    await page.evaluate(() => window.alignmap.state.worker.postMessage({ op: 'destroyDevice' }));
    await waitResults(page);
    const status = await page.textContent('#run-status');
    const warning = await page.textContent('#device-warning');
    console.log(`device lost: status "${status}"; device section "${warning}"`);
    assert.match(status, /^The GPU was lost, so this analysis runs again on the CPU\. Done in /);
    assert.match(warning, /The GPU stopped working in the middle of the analysis \(WebGPU lost the device: Destroyed: Device was destroyed\)\. /);
    assert.match(warning, /now computes on the CPU .*your network, images, matrix and results were kept/);
    assert.deepEqual(await page.evaluate(() => [window.alignmap.state.device.cpu, document.querySelector('#device-choice').value]), [true, 'cpu']);
    const got = await scores(page);
    assert.deepEqual(got.names, want.names);
    const diff = Math.max(maxAbsDiff(got.image, want.image), maxAbsDiff(got.dataset, want.dataset));
    console.log(`device lost: max |after − CPU run| = ${diff}`);
    assert.equal(diff, 0, 'the run after the fallback is the CPU backend\'s, number for number');
    await shots(page, 'fault-device-lost');
    await shots(page, 'fault-device-lost-network', '#network-section');
    assertNoProblems(page);
  } finally {
    await browser.close();
  }
});
