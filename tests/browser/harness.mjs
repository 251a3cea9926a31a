// Shared pieces of the browser tests: a static file server over www/ on 127.0.0.1, and Debian's
// headless Chromium driven by playwright-core (never a browser downloaded by a test tool).
import http from 'node:http';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
export const wwwDir = path.join(repoRoot, 'www');
export const artifactsDir = path.join(here, 'artifacts');

export const CHROMIUM = process.env.ALIGNMAP_CHROMIUM || '/usr/bin/chromium';
// The flags that give WebGPU without a GPU (SwiftShader) on the build machines.
// playwright-core adds --headless and --no-sandbox itself too; repeating them is harmless.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--enable-unsafe-webgpu',
];

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * A reason to skip a test whose inputs this checkout lacks (the built www/pkg, the bundled
 * weights in www/models, the native binary, ../shared/data), or false when there is none. Under
 * CI (`CI` set), which has every input, the reason is a failure instead: the same rule as
 * `skip_or_fail` in tests/common/mod.rs.
 */
export function skipOrFail(reason) {
  if (reason && process.env.CI !== undefined) throw new Error(`CI has every input, but ${reason}`);
  return reason || false;
}

/**
 * The reason to skip a test of the page (skipOrFail's): false when the built package (www/pkg)
 * and the bundled network (www/models) are there.
 */
export function skipWithoutPage() {
  const pkg = path.join(wwwDir, 'pkg', 'alignmap.js');
  const weights = path.join(wwwDir, 'models', 'efficientnet-lite0-f16.safetensors');
  const missing = [
    !fs.existsSync(pkg) && `${pkg} (build it with scripts/build-wasm.sh)`,
    !fs.existsSync(weights) && `${weights} (build it with models/build.sh)`,
  ].filter(Boolean);
  return skipOrFail(missing.length && `missing ${missing.join(', ')}`);
}

// A blank page at the root of www/, so that `import('./pkg/alignmap.js')` resolves from it
// without the app's own start-up code running.
export const BLANK_PAGE = '/__blank.html';
const BLANK_HTML =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>blank</title>' +
  '<link rel="icon" href="data:,"></head><body></body></html>';

/** Serves `root` on 127.0.0.1 at a free port. Resolves to { url, close() }. */
export async function startServer(root = wwwDir) {
  const rootAbs = path.resolve(root);
  const server = http.createServer(async (req, res) => {
    try {
      const { pathname } = new URL(req.url, 'http://localhost');
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405).end();
        return;
      }
      if (pathname === BLANK_PAGE) {
        res.writeHead(200, { 'content-type': CONTENT_TYPES['.html'], 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : BLANK_HTML);
        return;
      }
      let file = path.join(rootAbs, decodeURIComponent(pathname));
      if (file !== rootAbs && !file.startsWith(rootAbs + path.sep)) {
        res.writeHead(403).end();
        return;
      }
      let stat = await fsp.stat(file).catch(() => null);
      if (stat?.isDirectory()) {
        file = path.join(file, 'index.html');
        stat = await fsp.stat(file).catch(() => null);
      }
      if (!stat?.isFile()) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      const type = CONTENT_TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream';
      res.writeHead(200, {
        'content-type': type,
        'content-length': stat.size,
        'cache-control': 'no-store',
      });
      if (req.method === 'HEAD') res.end();
      else fs.createReadStream(file).pipe(res);
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** The flags without WebGPU: Chromium as a browser without WebGPU (Firefox, Safari) behaves. */
export const CHROMIUM_ARGS_NO_WEBGPU = [
  ...CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu'),
  '--disable-features=WebGPU,Vulkan',
  '--disable-webgpu',
];

/**
 * Launches Chromium with a fresh temporary user-data-dir. Resolves to
 * { context, userDataDir, newPage(), close() }; newPage() records page errors and console errors
 * on page.problems, which assertNoProblems() checks. Options: args (default CHROMIUM_ARGS),
 * viewport (default 1100×800), hasTouch (a touch screen, for phone-sized checks), acceptDownloads.
 */
export async function launchBrowser({ args = CHROMIUM_ARGS, viewport = { width: 1100, height: 800 }, hasTouch = false } = {}) {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: run scripts/setup.sh (it installs Debian's chromium)`);
  }
  const userDataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'alignmap-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args,
    viewport,
    hasTouch,
    acceptDownloads: true,
  });
  // The persistent context opens with one about:blank page; close it so only ours are left.
  for (const p of context.pages()) await p.close();
  return {
    context,
    userDataDir,
    async newPage() {
      const page = await context.newPage();
      page.problems = [];
      page.on('pageerror', (err) => page.problems.push(`page error: ${err.stack || err.message}`));
      page.on('console', (msg) => {
        const line = `console.${msg.type()}: ${msg.text()}`;
        if (process.env.ALIGNMAP_BROWSER_VERBOSE) console.log(`  [page] ${line}`);
        if (msg.type() === 'error') page.problems.push(line);
      });
      page.on('crash', () => page.problems.push('page crashed'));
      return page;
    },
    async close() {
      await context.close().catch(() => {});
      await fsp.rm(userDataDir, { recursive: true, force: true }).catch(() => {});
    },
  };
}

/** Throws when the page had a page error or a console error. */
export function assertNoProblems(page) {
  if (page.problems.length) {
    throw new Error(`the page reported problems:\n  ${page.problems.join('\n  ')}`);
  }
}

/** Saves a full-page screenshot to tests/browser/artifacts/NAME.png; returns its path. */
export async function screenshot(page, name) {
  await fsp.mkdir(artifactsDir, { recursive: true });
  const file = path.join(artifactsDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** The pids of the Chromium started with `userDataDir` and all its descendants (Linux /proc). */
function browserPids(userDataDir) {
  const parent = new Map();
  const roots = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(userDataDir)) roots.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  const rootSet = new Set(roots);
  const out = [];
  for (const pid of parent.keys()) {
    for (let p = pid, depth = 0; p > 1 && depth < 64; p = parent.get(p), depth++) {
      if (rootSet.has(p)) { out.push(pid); break; }
    }
  }
  return out;
}

/** Proportional set size of a process in bytes (shared pages split among their users), or 0. */
function pss(pid) {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Samples the memory of the browser launched with `userDataDir` every `everyMs` (the sum of
 * the PSS of its processes). `stop()` returns { peakBytes, samples }. Linux only; elsewhere the
 * peak stays 0.
 */
export function sampleMemory(userDataDir, everyMs = 250) {
  let peakBytes = 0;
  let samples = 0;
  const tick = () => {
    if (!fs.existsSync('/proc/self/smaps_rollup')) return;
    const total = browserPids(userDataDir).reduce((s, pid) => s + pss(pid), 0);
    peakBytes = Math.max(peakBytes, total);
    samples++;
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    stop() {
      clearInterval(timer);
      tick();
      return { peakBytes, samples };
    },
  };
}
