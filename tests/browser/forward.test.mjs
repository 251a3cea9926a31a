// The wasm package in headless Chromium against the native command-line tool: the same
// VGG-16-shaped network with generated weights, on the same generated image, must give the same
// embedding and logits on WebGPU (SwiftShader where there is no GPU), on the wasm CPU backend,
// and natively on the CPU. The page itself is tested by app.test.mjs.
//
// Needs www/pkg (scripts/build-wasm.sh) and the native binary: ALIGNMAP_BIN, else
// $CARGO_TARGET_DIR/debug/alignmap (default target dir ~/.cache/alignmap-target).
// ALIGNMAP_FULL_BROWSER=1 adds a full VGG-16 run on WebGPU, for the timings in the notes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  startServer, launchBrowser, assertNoProblems, screenshot, wwwDir, BLANK_PAGE,
} from './harness.mjs';

const targetDir = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache', 'alignmap-target');
const BIN = process.env.ALIGNMAP_BIN || path.join(targetDir, 'debug', 'alignmap');
const PKG = path.join(wwwDir, 'pkg', 'alignmap.js');

const CASE = { spec: 'tiny', seed: 7, imageSeed: 3, height: 224, width: 224 };
const TINY_LENGTHS = { embedding: 64, logits: 10 };

let server;
let browser;
let native;

function runNative({ spec, seed, imageSeed, height, width }) {
  const args = [
    'synthetic-forward', '--spec', spec, '--seed', String(seed), '--image-seed', String(imageSeed),
    '--size', `${height}x${width}`, '--device', 'cpu',
  ];
  const stdout = execFileSync(BIN, args, { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  const text = stdout.trim();
  try {
    return JSON.parse(text);
  } catch {
    // Tolerate lines before the JSON object: take the last line that is one.
    const line = text.split('\n').reverse().find((l) => l.trimStart().startsWith('{'));
    if (!line) throw new Error(`no JSON object in the output of ${BIN} ${args.join(' ')}:\n${text}`);
    return JSON.parse(line);
  }
}

/** Loads the wasm package in a fresh page, starts `device` and runs one forward pass. */
async function forwardInPage(device, c) {
  const page = await browser.newPage();
  await page.goto(server.url + BLANK_PAGE);
  const got = await page.evaluate(async ({ device, c }) => {
    const m = await import('./pkg/alignmap.js');
    await m.default();
    const t0 = performance.now();
    const adapter = await m.init_device(device);
    const initMillis = performance.now() - t0;
    const t1 = performance.now();
    const r = await m.synthetic_forward(c.spec, c.seed, c.imageSeed, c.height, c.width);
    const callMillis = performance.now() - t1;
    return {
      adapter,
      initMillis,
      callMillis,
      isFloat32: r.embedding instanceof Float32Array && r.logits instanceof Float32Array,
      embedding: Array.from(r.embedding),
      logits: Array.from(r.logits),
      millis: r.millis,
    };
  }, { device, c });
  return { page, got };
}

function maxAbs(xs) {
  return xs.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
}

function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// Tolerance: max |browser − native| ≤ 1e-4 · max(1, max |native|), per output (embedding,
// logits). Both sides compute in f32; only the order of summation differs between backends.
function assertClose(name, got, want) {
  assert.equal(got.length, want.length, `${name}: length ${got.length}, native ${want.length}`);
  for (const [i, v] of got.entries()) assert.ok(Number.isFinite(v), `${name}[${i}] = ${v}`);
  const tol = 1e-4 * Math.max(1, maxAbs(want));
  const diff = maxAbsDiff(got, want);
  console.log(`${name}: max |Δ| = ${diff.toExponential(2)} (tolerance ${tol.toExponential(2)}, max |native| = ${maxAbs(want).toPrecision(4)})`);
  assert.ok(diff <= tol, `${name}: max |browser − native| = ${diff} > ${tol}`);
}

before(async () => {
  if (!fs.existsSync(PKG)) {
    throw new Error(`${PKG} not found: build it with scripts/build-wasm.sh`);
  }
  if (!fs.existsSync(BIN)) {
    throw new Error(`native binary ${BIN} not found: cargo build --bin alignmap, or set ALIGNMAP_BIN`);
  }
  const t0 = performance.now();
  native = runNative(CASE);
  console.log(`native cpu (${path.relative(process.cwd(), BIN)}): forward ${Number(native.millis).toFixed(1)} ms, ` +
    `process ${(performance.now() - t0).toFixed(0)} ms`);
  assert.equal(native.embedding.length, TINY_LENGTHS.embedding, 'native embedding length');
  assert.equal(native.logits.length, TINY_LENGTHS.logits, 'native logits length');
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

for (const device of ['webgpu', 'cpu']) {
  test(`tiny forward in the browser on ${device} equals the native CPU result`, { timeout: 300_000 }, async () => {
    const { page, got } = await forwardInPage(device, CASE);
    try {
      console.log(`${device}: adapter "${got.adapter}"; init_device ${got.initMillis.toFixed(0)} ms; ` +
        `forward ${got.millis.toFixed(1)} ms (call ${got.callMillis.toFixed(0)} ms, with weight generation)`);
      await screenshot(page, `forward-${device}`);
      assertNoProblems(page);
      assert.equal(typeof got.adapter, 'string');
      assert.ok(got.adapter.trim().length > 0, 'init_device gave an empty adapter description');
      assert.ok(got.isFloat32, 'embedding and logits must be Float32Arrays');
      assert.equal(typeof got.millis, 'number');
      assert.ok(got.millis >= 0, `millis = ${got.millis}`);
      assert.equal(got.embedding.length, TINY_LENGTHS.embedding, 'embedding length');
      assert.equal(got.logits.length, TINY_LENGTHS.logits, 'logits length');
      assertClose(`${device} embedding`, got.embedding, native.embedding);
      assertClose(`${device} logits`, got.logits, native.logits);
    } finally {
      await page.close();
    }
  });
}

test('full VGG-16 (generated weights) at 224×224 on WebGPU', {
  skip: process.env.ALIGNMAP_FULL_BROWSER === '1' ? false : 'set ALIGNMAP_FULL_BROWSER=1 to run (slow)',
  timeout: 3_600_000,
}, async () => {
  const c = { ...CASE, spec: 'vgg16' };
  const { page, got } = await forwardInPage('webgpu', c);
  try {
    console.log(`vgg16 webgpu: adapter "${got.adapter}"; forward ${got.millis.toFixed(0)} ms ` +
      `(call with weight generation ${got.callMillis.toFixed(0)} ms); ` +
      `embedding ${got.embedding.length}, logits ${got.logits.length}`);
    assertNoProblems(page);
    assert.equal(got.embedding.length, 4096);
    assert.equal(got.logits.length, 1000);
    for (const v of got.logits) assert.ok(Number.isFinite(v));
  } finally {
    await page.close();
  }
});
