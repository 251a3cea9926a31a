// Hostile files through the page (issue 15, point 5): as images, as a similarity matrix and as
// network weights, each is refused with a message on the page that names the file, and nothing
// else happens — no page error, no console error, and the engine still answers afterwards.
// The files are made here and are small on disk (the zip bomb is a deflated run of zeros).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { startServer, launchBrowser, assertNoProblems, wwwDir, skipOrFail } from './harness.mjs';

const PKG = path.join(wwwDir, 'pkg', 'alignmap.js');
const WEIGHTS = path.join(wwwDir, 'models', 'efficientnet-lite0-f16.safetensors');
const SHOTS = '/tmp/shots';
const EXAMPLE_IMAGES = path.join(wwwDir, 'examples', 'kriegeskorte92', 'images');
const missing = [
  !fs.existsSync(PKG) && `${PKG} (build it with scripts/build-wasm.sh)`,
  !fs.existsSync(WEIGHTS) && `${WEIGHTS} (build it with models/build.sh)`,
].filter(Boolean);
const skip = skipOrFail(missing.length && `missing ${missing.join(', ')}`);

let server;
before(async () => {
  if (!skip) server = await startServer();
});
after(async () => {
  await server?.close();
});

function u32be(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function pngChunk(type, data) {
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  return Buffer.concat([u32be(data.length), td, u32be(zlib.crc32(td))]);
}

/** A valid PNG signature and IHDR claiming width × height (8-bit RGB), one tiny IDAT, IEND. */
function pngClaiming(width, height) {
  const ihdr = Buffer.concat([u32be(width), u32be(height), Buffer.from([8, 2, 0, 0, 0])]);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(Buffer.alloc(64))), pngChunk('IEND', Buffer.alloc(0))]);
}

function npyHeader(descr, shape) {
  let h = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
  h += ' '.repeat(63 - ((10 + h.length) % 64)) + '\n';
  const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
  pre.writeUInt16LE(h.length, 8);
  return Buffer.concat([pre, Buffer.from(h, 'latin1')]);
}

/**
 * An .npz holding one member, `H.npy`: a float64 matrix of side `n` whose data are zeros,
 * deflated (a 1 GiB member is about a megabyte). The sizes in the zip are honest; 11586² × 8 bytes
 * is just over the 1 GiB an .npz member may inflate to (src/similarity/npz.rs).
 */
async function npzBomb(n) {
  const header = npyHeader('<f8', [n, n]);
  const total = header.length + n * n * 8;
  const zeros = Buffer.alloc(64 << 20);
  let crc = zlib.crc32(header);
  const z = zlib.createDeflateRaw({ level: 9 });
  const chunks = [];
  z.on('data', (c) => chunks.push(c));
  const done = new Promise((resolve, reject) => z.on('end', resolve).on('error', reject));
  z.write(header);
  for (let left = n * n * 8; left > 0;) {
    const piece = zeros.subarray(0, Math.min(left, zeros.length));
    crc = zlib.crc32(piece, crc);
    if (!z.write(piece)) await new Promise((resolve) => z.once('drain', resolve));
    left -= piece.length;
  }
  z.end();
  await done;
  const data = Buffer.concat(chunks);
  const name = Buffer.from('H.npy');
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(total, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(total, 24);
  central.writeUInt16LE(name.length, 28);
  const cdOffset = local.length + name.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + name.length, 12);
  end.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([local, name, data, central, name, end]);
}

function safetensors(headerLength, header, data = Buffer.alloc(0)) {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(headerLength);
  return Buffer.concat([len, header, data]);
}

function randomBytes(n, seed) {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

const file = (name, buffer, mimeType = 'application/octet-stream') => ({ name, buffer, mimeType });

// What the page must say about each (the crate's messages, as the command line gives them).
const EXPECTED = {
  'huge.png': /huge\.png: its header declares more pixels than can be decoded safely \(at most 16384 per side and 512 MiB decoded\)/,
  'truncated.png': /truncated\.png: not a decodable image: unexpected end of file/,
  'random.png': /random\.png: not an image format alignmap can read \(expected PNG or JPEG\)/,
  'overflow.npy': /overflow\.npy: declares an impossible shape/,
  'bomb.npz': /bomb\.npz \(array 'H'\): is 1073883296 bytes uncompressed; expected at most 1073741824/,
  'wide.csv': /wide\.csv: the matrix has 1 rows and 2000000 columns; expected a square matrix/,
  'deep.json': /deep\.json: is not valid JSON: recursion limit exceeded/,
  'huge-header.safetensors': /huge-header\.safetensors: not a valid safetensors file \(header too large\)/,
  'past-end.safetensors': /past-end\.safetensors: not a valid safetensors file \(incomplete metadata, file not fully covered\)/,
  'random.safetensors': /random\.safetensors: not a valid safetensors file/,
};

async function shots(page, name, selector) {
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const [width, height] of [[1366, 768], [390, 844]]) {
    await page.setViewportSize({ width, height });
    await page.locator(selector).scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, `${name}-${width}x${height}.png`) });
  }
  await page.setViewportSize({ width: 1100, height: 800 });
}

test('hostile images, matrices and weights each get a message on the page, and the engine still answers', { skip, timeout: 600_000 }, async () => {
  const good = fs.readFileSync(path.join(EXAMPLE_IMAGES, fs.readdirSync(EXAMPLE_IMAGES).find((f) => f.endsWith('.png'))));
  const images = [
    file('huge.png', pngClaiming(60000, 60000), 'image/png'),
    file('truncated.png', good.subarray(0, Math.floor(good.length / 2)), 'image/png'),
    file('random.png', randomBytes(4096, 1), 'image/png'),
  ];
  const deepJson = '['.repeat(200_000) + ']'.repeat(200_000);
  const matrices = [
    file('overflow.npy', Buffer.concat([npyHeader('<f8', [4294967296, 4294967296]), Buffer.alloc(64)])),
    file('bomb.npz', await npzBomb(11586), 'application/zip'),
    file('wide.csv', Buffer.from('0,'.repeat(1_999_999) + '0\n'), 'text/csv'),
    file('deep.json', Buffer.from(deepJson), 'application/json'),
  ];
  const headerPastEnd = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [1000], data_offsets: [0, 4000] } }));
  const weights = [
    file('huge-header.safetensors', safetensors(1n << 62n, Buffer.from('{}'))),
    file('past-end.safetensors', safetensors(BigInt(headerPastEnd.length), headerPastEnd, Buffer.alloc(16))),
    file('random.safetensors', randomBytes(4096, 2)),
  ];
  for (const f of [...images, ...matrices, ...weights]) console.log(`${f.name}: ${f.buffer.length} bytes`);

  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 180_000 });
    const answers = async () => {
      assert.ok(await page.evaluate(() => window.alignmap.wasmMemory()) > 0, 'the engine answers');
    };

    await page.setInputFiles('#image-files', images);
    await page.waitForFunction((names) => names.every((n) => document.querySelector('#image-errors').textContent.includes(`${n}:`)),
      images.map((f) => f.name), { timeout: 120_000 });
    const imageErrors = await page.$$eval('#image-errors li', (lis) => lis.map((li) => li.textContent));
    for (const line of imageErrors) console.log(`image: ${line}`);
    for (const f of images) {
      const line = imageErrors.find((l) => l.includes(`${f.name}:`));
      assert.match(line, EXPECTED[f.name]);
    }
    await shots(page, 'hostile-images', '#image-errors');
    await answers();

    for (const f of matrices) {
      await page.setInputFiles('#matrix-file', f);
      await page.waitForFunction((name) => !document.querySelector('#matrix-error').hidden
        && document.querySelector('#matrix-error').textContent.includes(name), f.name, { timeout: 120_000 });
      const message = await page.textContent('#matrix-error');
      console.log(`matrix: ${message}`);
      assert.match(message, EXPECTED[f.name]);
      if (f.name === 'bomb.npz') await shots(page, 'hostile-matrix', '#matrix-error');
      await answers();
    }

    await page.check('input[name="model"][value="file"]');
    for (const f of weights) {
      await page.setInputFiles('#model-file', f);
      await page.click('#load-model');
      await page.waitForFunction((name) => !document.querySelector('#model-error').hidden
        && document.querySelector('#model-error').textContent.includes(name), f.name, { timeout: 120_000 });
      const message = await page.textContent('#model-error');
      console.log(`weights: ${message}`);
      assert.match(message, EXPECTED[f.name]);
      if (f.name === 'past-end.safetensors') await shots(page, 'hostile-weights', '#model-error');
      await answers();
    }
    assertNoProblems(page);
  } finally {
    await browser.close();
  }
});
