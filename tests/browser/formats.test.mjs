// The page's file writers, in node: the store-only zip (read back by Python's zipfile when
// python3 is here), the NPY writer (read back by the page's reader and by numpy when here), and
// numbers printed as the command line prints them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { zipParts, unzipStored, crc32 } from '../../www/zip.js';
import { npyFloat32, readNpy, rustFloat, scoreCsv } from '../../www/npy.js';

function python(code, ...args) {
  try {
    return execFileSync('python3', ['-c', code, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    if (err.code === 'ENOENT') return null;
    throw err;
  }
}

test('crc32 is zlib\'s', () => {
  const bytes = new TextEncoder().encode('The quick brown fox jumps over the lazy dog');
  assert.equal(crc32(bytes), 0x414fa339);
  if (zlib.crc32) assert.equal(crc32(bytes), zlib.crc32(bytes));
});

test('zip round trip, and Python reads it', () => {
  const entries = [
    { name: 'a.txt', data: 'hello\n' },
    { name: 'dir/ü.bin', data: new Uint8Array([0, 1, 2, 255]) },
    { name: 'empty', data: '' },
  ];
  const bytes = Buffer.concat(zipParts(entries));
  const back = unzipStored(new Uint8Array(bytes));
  assert.equal(new TextDecoder().decode(back['a.txt']), 'hello\n');
  assert.deepEqual(Array.from(back['dir/ü.bin']), [0, 1, 2, 255]);
  assert.equal(back.empty.length, 0);
  assert.throws(() => zipParts([{ name: 'x', data: '' }, { name: 'x', data: '' }]), /twice/);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'alignmap-zip-')), 't.zip');
  fs.writeFileSync(file, bytes);
  const out = python('import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(sorted(z.namelist()))', file);
  if (out !== null) assert.equal(out.trim(), "['a.txt', 'dir/ü.bin', 'empty']");
});

test('npy float32: header as NumPy writes it, values rounded to f32', () => {
  const bytes = npyFloat32([2, 3], [1, 2.5, -3, 0.1, Number.NaN, 1e-8]);
  assert.equal((10 + new DataView(bytes.buffer).getUint16(8, true)) % 64, 0);
  const back = readNpy(bytes);
  assert.deepEqual(back.shape, [2, 3]);
  assert.equal(back.values[3], Math.fround(0.1));
  assert.ok(Number.isNaN(back.values[4]));
  assert.deepEqual(readNpy(npyFloat32([3], [1, 2, 3])).shape, [3]);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'alignmap-npy-')), 'a.npy');
  fs.writeFileSync(file, bytes);
  const out = python('import sys\ntry:\n import numpy as np\nexcept ImportError:\n print("skip"); sys.exit()\na = np.load(sys.argv[1]); print(a.dtype, a.shape, a[0, 1])', file);
  if (out !== null && out.trim() !== 'skip') assert.equal(out.trim(), 'float32 (2, 3) 2.5');
});

test('numbers are printed as Rust prints an f64', () => {
  const cases = [[0, '0'], [1, '1'], [-2.5, '-2.5'], [0.1, '0.1'], [1.5e-7, '0.00000015'], [-1.234e-10, '-0.0000000001234'],
    [1e21, '1000000000000000000000'], [1.5e22, '15000000000000000000000'], [Number.NaN, 'NaN'], [Infinity, 'inf'], [-Infinity, '-inf']];
  for (const [x, want] of cases) assert.equal(rustFloat(x), want, String(x));
  assert.equal(scoreCsv(['a,b', 'c'], [1, 0.5, -1e-7, 2], 2), 'image,fm0,fm1\n"a,b",1,0.5\nc,-0.0000001,2\n');
});

test('npy in Fortran order is read back in C order', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alignmap-npy-'));
  const file = path.join(dir, 'f.npy');
  const out = python('import sys\ntry:\n import numpy as np\nexcept ImportError:\n print("skip"); sys.exit()\nnp.save(sys.argv[1], np.asfortranarray(np.arange(24, dtype=np.float64).reshape(2, 3, 4)))', file);
  if (out === null || out.trim() === 'skip') return;
  const back = readNpy(new Uint8Array(fs.readFileSync(file)));
  assert.deepEqual(back.shape, [2, 3, 4]);
  assert.deepEqual(Array.from(back.values), Array.from({ length: 24 }, (_, i) => i));
});
