// Memory before a run (issue 15, point 3) and before the VGG-16 download (issue 17, point 5): the
// page asks the engine for its estimate (src/web/memory.rs) and compares it with what the browser
// tells. Here the browser is made to tell less than it has (navigator.deviceMemory = 0.25 GB,
// the smallest value a browser reports), so that the 24-image example runs with less memory
// (one image at a time, smaller ablation chunks) and the 92-image one is refused with what to
// choose instead; and the VGG-16 preset says whether this machine can run it, roughly how long it
// takes and what instead, before anything is downloaded. Screenshots go to /tmp/shots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { startServer, launchBrowser, assertNoProblems, skipWithoutPage } from './harness.mjs';

const SHOTS = '/tmp/shots';
const skip = skipWithoutPage();

let server;
before(async () => {
  if (!skip) server = await startServer();
});
after(async () => {
  await server?.close();
});

/** A browser whose pages (not its workers) report `gib` of device memory. */
async function launchWithDeviceMemory(gib) {
  const browser = await launchBrowser({ viewport: { width: 1366, height: 768 } });
  if (gib !== undefined) {
    await browser.context.addInitScript((value) => {
      Object.defineProperty(Navigator.prototype, 'deviceMemory', { configurable: true, get: () => value });
    }, gib);
  }
  return browser;
}

async function shots(page, name, selector) {
  await fsp.mkdir(SHOTS, { recursive: true });
  for (const [w, h] of [[1366, 768], [390, 844]]) {
    await page.setViewportSize({ width: w, height: h });
    if (selector) await page.locator(selector).scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, `${name}-${w}x${h}.png`) });
  }
  await page.setViewportSize({ width: 1366, height: 768 });
}

/** Waits for the end of a run: results, or a message in #run-error. */
async function waitRunEnd(page) {
  await page.waitForFunction(() => !window.alignmap?.state.running && ((document.body.dataset.results === 'ready'
    && document.querySelector('#gallery').dataset.drawn) || !document.querySelector('#run-error').hidden),
  null, { timeout: 600_000, polling: 250 });
}

test('a run larger than the memory the browser reports runs with less memory, or is refused with what to choose instead', { skip, timeout: 1_200_000 }, async () => {
  const browser = await launchWithDeviceMemory(0.25);
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/?example=kriegeskorte24&device=cpu`);
    await waitRunEnd(page);
    assert.equal(await page.$eval('#run-error', (e) => (e.hidden ? '' : e.textContent)), '', 'the adapted run finished');
    const adapted = await page.textContent('#run-memory');
    console.log(`24 images, deviceMemory 0.25: ${adapted}`);
    assert.equal(await page.isVisible('#run-memory'), true);
    assert.match(adapted, /^This run needs about \d+ MB as asked \(4 images per forward pass\), more than 134 MB \(half the 0\.25 GB of memory this device reports\)\./);
    assert.match(adapted, /one image at a time and smaller ablation chunks\. Slower, same results\.$/);
    assert.equal(await page.$$eval('#gallery .thumb', (t) => t.length), 24);
    await shots(page, 'memory-adapted', '#run-section');

    // The whole set: even the smallest settings need more than half of 0.25 GB.
    await page.goto(`${server.url}/?example=kriegeskorte92&device=cpu`);
    await waitRunEnd(page);
    const status = await page.textContent('#run-status');
    const refused = await page.textContent('#run-error');
    console.log(`92 images, deviceMemory 0.25: ${status} ${refused}`);
    assert.equal(status, 'Not started: this analysis needs more memory than this browser can give.');
    assert.match(refused, /^This run needs about \d+ MB, even one image at a time with the smallest ablation chunks, more than 134 MB \(half the 0\.25 GB of memory this device reports\)\. Choose instead: fewer images \(about \d+ of the 92 fit\);/);
    assert.match(refused, /the command line \(alignmap analyze\) on a computer with more memory\.$/);
    assert.equal(await page.isVisible('#run-memory'), false);
    assert.equal(await page.isVisible('#stages'), false, 'nothing ran');
    assert.deepEqual(await page.evaluate(() => [window.alignmap.state.images.size, !!window.alignmap.state.matrix,
      !document.querySelector('#analyze').disabled]), [92, true, true], 'the inputs stay, the button too');
    // The engine still answers.
    assert.ok(await page.evaluate(() => window.alignmap.wasmMemory()) > 0);
    await shots(page, 'memory-refused', '#run-section');
    assertNoProblems(page);
  } finally {
    await browser.close();
  }
});

for (const [gib, verdict] of [[undefined, 'can'], [0.25, 'cannot']]) {
  test(`VGG-16 preset: a preflight before any download (device memory ${gib ?? 'as the browser reports'})`, { skip, timeout: 600_000 }, async () => {
    const browser = await launchWithDeviceMemory(gib);
    try {
      const page = await browser.newPage();
      let hubRequests = 0;
      await page.route('https://huggingface.co/**', (route) => {
        hubRequests++;
        route.abort('failed');
      });
      await page.goto(`${server.url}/?device=cpu`);
      await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 120_000 });
      await page.check('input[name="model"][value="vgg16"]');
      await page.click('#load-model');
      await page.waitForSelector('#confirm[open]', { timeout: 120_000 });
      const text = await page.textContent('#confirm-text');
      console.log(`VGG-16 preflight (${gib ?? 'reported'} GB): ${text}`);
      if (verdict === 'can') {
        assert.match(text, /This computer can run VGG-16: loading it and analysing 24 images needs about \d\.\d GB of the \d\.\d GB the browser can give\./);
        assert.equal(await page.textContent('#confirm-yes'), 'Download');
      } else {
        assert.match(text, /This computer probably cannot run VGG-16: loading it and analysing 24 images needs about \d\.\d GB, more than 134 MB \(half the 0\.25 GB of memory this device reports\)\./);
        assert.equal(await page.textContent('#confirm-yes'), 'Download anyway');
      }
      assert.match(text, /The analysis of 24 images would take roughly \d+ (s|min|h) to \d+(\.\d)? (s|min|h) here on the CPU \(WebAssembly, one worker per core\), after the download\./);
      assert.match(text, /The browser has room to keep the download for next time\.|will not be kept/);
      assert.match(text, /Instead: the bundled EfficientNet-Lite0 \(no download, about \d+ (s|min) per image here\), or fewer images\./);
      assert.equal(hubRequests, 0, 'nothing is downloaded before the visitor confirms');
      await shots(page, `vgg16-preflight-${verdict}`);
      await page.click('#confirm-no');
      await page.waitForSelector('#confirm:not([open])', { state: 'attached' });
      assert.equal(hubRequests, 0, 'nor after "Not now"');
      assert.match(await page.textContent('#model-status'), /EfficientNet-Lite0 loaded/, 'the loaded network stays');
      assertNoProblems(page);
    } finally {
      await browser.close();
    }
  });
}
