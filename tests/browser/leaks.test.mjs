// No leaks (issue 15, point 4): the bundled network on the 24-image example, analysed 10 times in
// one page; the browser's memory (the PSS of all its processes, as the timing test measures it)
// after the last run stays within 10 % of that after the first, and so does the WebAssembly
// memory. About 90 s on the 2-core build machine without a GPU (wasm CPU backend).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, launchBrowser, assertNoProblems, wwwDir, skipOrFail, sampleMemory } from './harness.mjs';

const PKG = path.join(wwwDir, 'pkg', 'alignmap.js');
const WEIGHTS = path.join(wwwDir, 'models', 'efficientnet-lite0-f16.safetensors');
const RUNS = 10;
const missing = [
  !fs.existsSync(PKG) && `${PKG} (build it with scripts/build-wasm.sh)`,
  !fs.existsSync(WEIGHTS) && `${WEIGHTS} (build it with models/build.sh)`,
].filter(Boolean);
const skip = skipOrFail(missing.length && `missing ${missing.join(', ')}`);

async function waitResults(page) {
  await page.waitForFunction(() => !window.alignmap.state.running && ((document.body.dataset.results === 'ready'
    && document.querySelector('#gallery').dataset.drawn) || !document.querySelector('#run-error').hidden
    || !document.querySelector('#start-error').hidden), null, { timeout: 600_000, polling: 250 });
  assert.equal(await page.$eval('#run-error', (e) => (e.hidden ? '' : e.textContent)), '', 'no run error');
}

const mib = (b) => (b / 2 ** 20).toFixed(1);

test(`${RUNS} analyses of the 24-image example in one page do not leak`, { skip, timeout: 1_200_000 }, async () => {
  const server = await startServer();
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/?example=kriegeskorte24`);
    const pss = [];
    const wasm = [];
    for (let run = 1; run <= RUNS; run++) {
      const t0 = Date.now();
      if (run > 1) await page.click('#analyze');
      await waitResults(page);
      await page.waitForTimeout(1000);
      pss.push(sampleMemory(browser.userDataDir, 1e9).stop().peakBytes);
      wasm.push(await page.evaluate(() => window.alignmap.wasmMemory()));
      console.log(`run ${run}: ${((Date.now() - t0) / 1000).toFixed(1)} s; browser PSS ${mib(pss.at(-1))} MiB; wasm memory ${mib(wasm.at(-1))} MiB`);
    }
    const ratio = pss.at(-1) / pss[0];
    console.log(`PSS after run 1 ${mib(pss[0])} MiB, after run ${RUNS} ${mib(pss.at(-1))} MiB (×${ratio.toFixed(3)}); ` +
      `wasm memory ${mib(wasm[0])} → ${mib(wasm.at(-1))} MiB`);
    assert.ok(pss[0] > 0, 'PSS was measured (Linux /proc)');
    assert.ok(ratio <= 1.1, `the browser's memory grew by more than 10 % over ${RUNS} runs: ${pss.map(mib).join(', ')} MiB`);
    assert.ok(wasm.at(-1) <= wasm[0] * 1.1, `the WebAssembly memory grew by more than 10 %: ${wasm.map(mib).join(', ')} MiB`);
    assertNoProblems(page);
  } finally {
    await browser.close();
    await server.close();
  }
});
