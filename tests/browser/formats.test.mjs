// The files the crate writes for the page and the command line (src/report.rs,
// src/results_zip.rs), read by others' readers: the results zip of `alignmap analyze --zip` opens
// with fflate and with Python's zipfile (every CRC checked), names in UTF-8; its score files are
// those analyze wrote, byte for byte (CSVs and summary.json included); every .npy has a header
// NumPy reads; CSV numbers are printed as Rust prints an f64 (shortest round-trip digits, never
// an exponent) and are the values of the .npy; and a saliency map stored in Fortran order is read
// as its C-order copy (`alignmap saliency`, the reader the page's imported maps go through). The
// page's own export is compared with the command line in app.test.mjs and first-minute.test.mjs.
//
// Needs the native binary (ALIGNMAP_BIN, else $CARGO_TARGET_DIR/debug/alignmap) and the bundled
// weights (www/models, built by models/build.sh). The images are six of the example that ships
// with the page, two of them renamed so that a name is not ASCII and one holds a comma.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';
import { dump, parse } from 'npyjs';
import { wwwDir } from './harness.mjs';
import { npyFile } from './cohort.mjs';

const run = promisify(execFile);
const targetDir = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache', 'alignmap-target');
const BIN = process.env.ALIGNMAP_BIN || path.join(targetDir, 'debug', 'alignmap');
const WEIGHTS = path.join(wwwDir, 'models', 'efficientnet-lite0-f16.safetensors');
const EXAMPLE = path.join(wwwDir, 'examples', 'kriegeskorte92');
const missing = [
  !fs.existsSync(BIN) && `${BIN} (cargo build --bin alignmap, or set ALIGNMAP_BIN)`,
  !fs.existsSync(WEIGHTS) && `${WEIGHTS} (build it with models/build.sh)`,
].filter(Boolean);
const skip = missing.length ? `missing ${missing.join(', ')}` : false;

// Example image → its name in the cohort.
const RENAMED = { '002.png': 'ü-002.png', '014.png': 'a,b.png', '026.png': '026.png', '038.png': '038.png', '051.png': '051.png', '074.png': '074.png' };
const SCORE_FILES = ['images.txt', 'ais_image.npy', 'ais_image.csv', 'ais_dataset.npy', 'ais_dataset_r2.npy', 'ais_dataset.csv'];

let tmp;
let out; // the analyze output folder
let zipFile;
let names; // the cohort's names in row order

function python(code, ...args) {
  try {
    return execFileSync('python3', ['-c', code, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    if (err.code === 'ENOENT') return null;
    throw err;
  }
}

before(async () => {
  if (skip) return;
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'alignmap-formats-'));
  const images = path.join(tmp, 'images');
  await fsp.mkdir(images);
  for (const [from, to] of Object.entries(RENAMED)) await fsp.copyFile(path.join(EXAMPLE, 'images', from), path.join(images, to));
  // The example's RDM restricted to these images, rows in the order of the sorted new names; no
  // header row, so rows follow the sorted file names.
  const [header, ...rows] = fs.readFileSync(path.join(EXAMPLE, 'rdm.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
  const byNew = Object.fromEntries(Object.entries(RENAMED).map(([from, to]) => [to, header.indexOf(from)]));
  names = Object.keys(byNew).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const csv = names.map((a) => names.map((b) => rows[byNew[a]][byNew[b]]).join(',')).join('\n') + '\n';
  await fsp.writeFile(path.join(tmp, 'rdm.csv'), csv);
  out = path.join(tmp, 'out');
  zipFile = path.join(tmp, 'results.zip');
  await run(BIN, ['analyze', '--weights', WEIGHTS, '--images', images, '--similarity', path.join(tmp, 'rdm.csv'), '--dissimilarity',
    '--out', out, '--device', 'cpu', '--zip', zipFile], { maxBuffer: 64 << 20 });
});

after(async () => {
  if (tmp) await fsp.rm(tmp, { recursive: true, force: true }).catch(() => {});
});

test('the results zip opens with fflate and with Python\'s zipfile (every CRC right), with UTF-8 names', { skip }, () => {
  const files = unzipSync(fs.readFileSync(zipFile));
  for (const name of names) assert.ok(files[`images/${name}`], `the zip holds images/${name}: ${Object.keys(files).join(', ')}`);
  for (const f of [...SCORE_FILES, 'summary.json', 'alignmap-results.json']) assert.ok(files[f], `the zip holds ${f}`);
  const listed = python('import json, sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None, z.testzip()\nprint(json.dumps(sorted(z.namelist())))', zipFile);
  if (listed === null) console.log('python3 not found: the zip is read by fflate only');
  else assert.deepEqual(JSON.parse(listed), Object.keys(files).sort(), 'Python reads the same names (UTF-8 flagged)');
});

test('the score files in the zip are those analyze wrote, byte for byte (the CSVs at full f64 precision too)', { skip }, () => {
  const files = unzipSync(fs.readFileSync(zipFile));
  for (const f of [...SCORE_FILES, 'summary.json']) {
    assert.ok(Buffer.from(files[f]).equals(fs.readFileSync(path.join(out, f))), `${f} in the zip equals ${f} in --out`);
  }
  assert.equal(new TextDecoder().decode(files['images.txt']), `${names.join('\n')}\n`, 'images.txt: the sorted file names');
});

/** The header of an .npy: { major, minor, text, total } (total: the bytes before the data). */
function npyHeader(bytes, file) {
  assert.deepEqual(Array.from(bytes.subarray(0, 6)), [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59], `${file}: the NPY magic`);
  const length = bytes[8] | (bytes[9] << 8);
  return { major: bytes[6], minor: bytes[7], text: new TextDecoder('latin1').decode(bytes.subarray(10, 10 + length)), total: 10 + length };
}

test('every .npy has a header NumPy reads: version 1.0, little-endian f32, C order, the data aligned to 64 bytes', { skip }, () => {
  const files = unzipSync(fs.readFileSync(zipFile));
  const channels = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')).feature_maps;
  const expected = { 'ais_image.npy': [names.length, channels], 'ais_dataset.npy': [channels], 'ais_dataset_r2.npy': [channels] };
  const heatmaps = Object.keys(files).filter((f) => f.startsWith('heatmaps/'));
  assert.ok(heatmaps.length > 0, 'the zip holds heatmaps');
  const npys = [...Object.keys(expected).map((f) => [f, fs.readFileSync(path.join(out, f))]), ...heatmaps.map((f) => [f, files[f]])];
  for (const [file, bytes] of npys) {
    const h = npyHeader(bytes, file);
    assert.deepEqual([h.major, h.minor], [1, 0], `${file}: version`);
    assert.equal(h.total % 64, 0, `${file}: the data start at a multiple of 64 bytes`);
    // A Python tuple: (320,) or (320, ) or (6, 320) or (6, 320, ).
    assert.match(h.text, /^\{'descr': '<f4', 'fortran_order': False, 'shape': (\((\d+, ?)+\)|\(\d+(, \d+)+\)), \} *\n$/, `${file}: ${JSON.stringify(h.text)}`);
    const a = npyFile(bytes);
    if (expected[file]) assert.deepEqual(a.shape, expected[file], `${file}: shape`);
    else assert.equal(a.shape.length, 2, `${file}: a heatmap is 2-D`);
    assert.ok(a.values instanceof Float32Array && a.values.length === a.shape.reduce((x, y) => x * y, 1), `${file}: f32 values of its shape`);
  }
  const numpy = python('import sys\ntry:\n import numpy as np\nexcept ImportError:\n print("skip"); sys.exit()\nfor f in sys.argv[1:]:\n a = np.load(f)\n print(a.dtype, a.shape)',
    ...Object.keys(expected).map((f) => path.join(out, f)));
  if (numpy === null || numpy.trim() === 'skip') console.log('numpy not found: the headers are checked as text only');
  else assert.deepEqual(numpy.trim().split('\n'), Object.values(expected).map((s) => `float32 (${s.join(', ')}${s.length === 1 ? ',' : ''})`));
});

/** The significant digits of a decimal (any notation): '0.00015' and '1.5e-4' both give '15'. */
function digits(text) {
  return text.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
}

/** Splits one CSV line (fields quoted as the crate quotes them). */
function csvFields(line) {
  const fields = [];
  const re = /("(?:[^"]|"")*"|[^,]*)(,|$)/g;
  for (let m = re.exec(line); m && m.index < line.length; m = re.exec(line)) {
    fields.push(m[1].startsWith('"') ? m[1].slice(1, -1).replace(/""/g, '"') : m[1]);
    if (!m[2]) break;
  }
  return fields;
}

test('CSV numbers are printed as Rust prints an f64 (shortest round-trip digits, no exponent) and are the .npy values', { skip }, () => {
  const text = fs.readFileSync(path.join(out, 'ais_image.csv'), 'utf8');
  const lines = text.split('\n');
  assert.equal(lines.pop(), '', 'the file ends with a newline');
  const values = npyFile(fs.readFileSync(path.join(out, 'ais_image.npy')));
  const channels = values.shape[1];
  assert.equal(lines[0], `image${Array.from({ length: channels }, (_, k) => `,fm${k}`).join('')}`);
  assert.ok(lines.some((l) => l.startsWith('"a,b.png",')), 'a name with a comma is quoted');
  let checked = 0;
  lines.slice(1).forEach((line, r) => {
    const [name, ...numbers] = csvFields(line);
    assert.equal(name, names[r], `row ${r + 1}: the image of images.txt`);
    assert.equal(numbers.length, channels, `row ${r + 1}: one number per feature map`);
    numbers.forEach((field, k) => {
      const want = values.values[r * channels + k];
      if (Number.isNaN(want)) {
        assert.equal(field, 'NaN', `row ${r + 1}, fm${k}: NaN`);
        return;
      }
      assert.match(field, /^-?\d+(\.\d+)?$/, `row ${r + 1}, fm${k}: ${field} without an exponent`);
      assert.equal(Math.fround(Number(field)), want, `row ${r + 1}, fm${k}: ${field} is the .npy's ${want}`);
      assert.equal(digits(field), digits(String(Number(field))), `row ${r + 1}, fm${k}: ${field} has the shortest round-trip digits`);
      checked++;
    });
  });
  assert.ok(checked > 0);
  console.log(`ais_image.csv: ${checked} numbers checked, e.g. ${lines[1].split(',').slice(1, 4).join(' ')}`);
});

/** A 2-D f64 .npy of `values` (C order, rows × cols), stored in Fortran order when `fortran`. */
function npyMatrix(rows, cols, values, { fortran = false, flagOnly = false } = {}) {
  const stored = fortran && !flagOnly ? Float64Array.from({ length: rows * cols }, (_, i) => values[(i % rows) * cols + Math.floor(i / rows)]) : Float64Array.from(values);
  const bytes = new Uint8Array(dump(stored, [rows, cols]));
  if (!fortran) return bytes;
  // npyjs writes C order only: set the header's flag (the same length with a space after True).
  const header = npyHeader(bytes, 'npyjs');
  const at = header.text.indexOf('False');
  assert.ok(at > 0, `npyjs header ${header.text}`);
  bytes.set(new TextEncoder().encode('True '), 10 + at);
  assert.equal(parse(bytes.buffer).fortranOrder, true);
  return bytes;
}

test('a saliency map stored in Fortran order is read as its C-order copy (alignmap saliency)', { skip }, async () => {
  const [rows, cols] = [30, 50];
  // An off-centre blob in the upper right: reading the bytes in the wrong order moves it.
  const map = Float64Array.from({ length: rows * cols }, (_, i) => Math.exp(-(((i % cols) - 40) ** 2 + (Math.floor(i / cols) - 6) ** 2) / 40));
  const rr = {};
  for (const [label, options] of [['c', {}], ['fortran', { fortran: true }], ['flag-only', { fortran: true, flagOnly: true }]]) {
    const maps = path.join(tmp, `maps-${label}`);
    await fsp.mkdir(maps);
    for (const name of names) await fsp.writeFile(path.join(maps, `${name.replace(/\.png$/, '')}.npy`), npyMatrix(rows, cols, map, options));
    const sal = path.join(tmp, `saliency-${label}`);
    await run(BIN, ['saliency', '--images', path.join(tmp, 'images'), '--results', out, '--saliency', maps, '--out', sal], { maxBuffer: 64 << 20 });
    rr[label] = fs.readFileSync(path.join(sal, 'rr.csv'), 'utf8');
  }
  console.log(`rr.csv (C order):\n${rr.c.split('\n').slice(0, 4).join('\n')}`);
  assert.equal(rr.fortran, rr.c, 'the Fortran-order maps give the relative risks of the C-order ones');
  assert.notEqual(rr['flag-only'], rr.c, 'the test can tell: the C-order bytes read as Fortran order are another map');
});
