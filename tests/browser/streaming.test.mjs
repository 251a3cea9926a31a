// Results as they come (issue 17, point 3) in headless Chromium: during the analysis of the
// shipped 24-image example (bundled EfficientNet-Lite0, wasm CPU backend), each image's card joins
// the gallery as soon as its scores are final, in image order and before the analysis ends; the
// summary and the charts come last; the streamed pictures are the gallery's own (a redraw in the
// same style gives the same pixels); a run cancelled in its middle keeps the cards it scored and
// says so. Prints the time from the end of the network pass to the first heatmap on screen.
// Screenshots of the gallery filling in: tests/browser/artifacts/streaming-*.png.
//
// Needs www/pkg (scripts/build-wasm.sh) and www/models (models/build.sh).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, assertNoProblems, screenshot, skipWithoutPage } from './harness.mjs';

const skip = skipWithoutPage();

let server;
before(async () => {
  if (!skip) server = await startServer();
});
after(async () => {
  await server?.close();
});

// Installed before the page's own scripts: every card added to the gallery, with the time, the
// results section's state and its first pixels, in window.__cards.
function watchCards() {
  window.__cards = [];
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        const thumb = node.nodeType === 1 && node.querySelector && node.querySelector('.thumb');
        if (!thumb || !thumb.closest('#gallery')) continue;
        window.__cards.push({
          index: Number(thumb.dataset.index),
          at: performance.now(),
          streaming: document.querySelector('#results').dataset.streaming === 'yes',
          ready: document.body.dataset.results === 'ready',
          disabled: thumb.disabled,
          pixels: thumb.querySelector('canvas').toDataURL(),
          summaryShown: document.querySelector('#summary').offsetParent !== null,
        });
      }
    }
  }).observe(document, { childList: true, subtree: true });
}

async function waitResults(page) {
  await page.waitForFunction(() => (document.body.dataset.results === 'ready' && document.querySelector('#gallery').dataset.drawn)
    || !document.querySelector('#start-error').hidden || !document.querySelector('#run-error').hidden, null, { timeout: 600_000, polling: 250 });
  const errors = await page.evaluate(() => ['#start-error', '#run-error'].map((s) => document.querySelector(s)).filter((e) => !e.hidden).map((e) => e.textContent));
  assert.deepEqual(errors, [], 'no error is shown');
}

const firstPixels = (page, i) => page.$eval(`#gallery .thumb[data-index="${i}"] canvas`, (c) => c.toDataURL());

test('each image\'s heatmap appears as soon as it is scored, in order, before the summary; a cancelled run keeps the cards it scored', { skip, timeout: 1_200_000 }, async () => {
  const browser = await launchBrowser({ viewport: { width: 1366, height: 768 } });
  try {
    const page = await browser.newPage();
    await page.addInitScript(watchCards);
    await page.goto(`${server.url}/?device=cpu&workers=1&example=kriegeskorte24`);
    // The gallery filling in, on screen, at both sizes.
    await page.waitForFunction(() => window.__cards.filter((c) => c.streaming).length >= 3, null, { timeout: 600_000, polling: 50 });
    await page.locator('#gallery').scrollIntoViewIfNeeded();
    await screenshot(page, 'streaming-1366x768');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('#results-live').scrollIntoViewIfNeeded();
    await screenshot(page, 'streaming-390x844');
    await page.setViewportSize({ width: 1366, height: 768 });
    await waitResults(page);

    const { cards, timings } = await page.evaluate(() => ({ cards: window.__cards, timings: { ...window.alignmap.timings } }));
    const streamed = cards.filter((c) => c.streaming);
    const n = await page.$$eval('#gallery .thumb', (b) => b.length);
    assert.equal(n, 24);
    assert.deepEqual(streamed.map((c) => c.index), Array.from({ length: n }, (_, i) => i), 'every image streamed once, in order');
    assert.ok(streamed.every((c) => !c.ready && !c.summaryShown), 'the cards come before the results are ready, without the summary');
    assert.ok(streamed.every((c) => c.disabled), 'a streamed card opens nothing until the analysis ends');
    assert.ok(streamed.every((c) => c.pixels.length > 200), 'each streamed card is drawn as it arrives');
    const firstCardAt = streamed[0].at;
    const lastCardAt = streamed[n - 1].at;
    const final = cards.filter((c) => !c.streaming);
    assert.ok(final.length >= n && final.every((c) => c.at > lastCardAt), 'the finished gallery replaces the streamed one after the last image');
    assert.ok(Number.isFinite(timings.networkDoneMs) && timings.firstHeatmapMs > timings.networkDoneMs, JSON.stringify(timings));
    assert.ok(timings.firstHeatmapMs < timings.analysisMs, `the first heatmap (${timings.firstHeatmapMs} ms) is on screen before the analysis ends (${timings.analysisMs} ms)`);
    console.log(`streaming (24 images, wasm CPU): network pass done ${(timings.networkDoneMs / 1000).toFixed(2)} s after the click, ` +
      `first heatmap on screen ${((timings.firstHeatmapMs - timings.networkDoneMs) / 1000).toFixed(2)} s after it, ` +
      `last card ${((lastCardAt - firstCardAt) / 1000).toFixed(2)} s after the first, analysis done at ${(timings.analysisMs / 1000).toFixed(2)} s`);

    // The finished gallery kept the streamed pictures, and they are what the gallery draws: a
    // redraw in another style and back gives the same pixels.
    const enabled = await page.$$eval('#gallery .thumb', (b) => b.every((x) => !x.disabled));
    assert.ok(enabled, 'the finished cards open the enlarged view');
    for (const i of [0, 11, 23]) assert.equal(await firstPixels(page, i), streamed[i].pixels, `card ${i} kept its streamed picture`);
    await page.selectOption('#colormap', 'viridis');
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#gallery .thumb')).every((b) => b.dataset.drawnWith?.startsWith('viridis')), null, { timeout: 120_000 });
    await page.selectOption('#colormap', 'jet');
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#gallery .thumb')).every((b) => b.dataset.drawnWith?.startsWith('jet')), null, { timeout: 120_000 });
    for (const i of [0, 11, 23]) assert.equal(await firstPixels(page, i), streamed[i].pixels, `card ${i} redrawn is the streamed picture`);

    // A run cancelled after a few images: their cards stay, the page says what happened.
    await page.evaluate(() => { window.__cards = []; });
    await page.click('#analyze');
    await page.waitForFunction(() => window.__cards.filter((c) => c.streaming).length >= 2, null, { timeout: 600_000, polling: 50 });
    await page.click('#cancel');
    await page.waitForFunction(() => !document.querySelector('#analyze').disabled && !document.querySelector('#results').dataset.streaming, null, { timeout: 120_000 });
    const live = await page.textContent('#results-live');
    const kept = await page.$$eval('#gallery .thumb', (b) => b.length);
    assert.match(live, new RegExp(`stopped after ${kept} images`), live);
    assert.ok(kept >= 2 && kept < 24, `${kept} cards kept`);
    assert.ok(await page.isVisible('#results-live'));
    assertNoProblems(page);
  } finally {
    await browser.close();
  }
});
