// Test inputs made from the real data in ../shared/data (never copied into the repository): a
// cohort of the first N Peterson animal images, and their rows and columns of hsim_peterson.npz
// as a smaller .npz (same keys) with a names file in the layout of fnames.json. Also the
// Kriegeskorte 92 set. Every helper returns null when the data are absent.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { repoRoot } from './harness.mjs';
import { zipParts, unzipStored } from '../../www/zip.js';
import { readNpy } from '../../www/npy.js';

export const sharedData = process.env.ALIGNMAP_SHARED_DATA || path.resolve(repoRoot, '..', 'shared', 'data');
export const peterson = path.join(sharedData, 'peterson');
export const kriegeskorte = path.join(sharedData, 'kriegeskorte92');

export function hasPeterson() {
  return ['hsim_peterson.npz', 'fnames.json', 'images/animals'].every((p) => fs.existsSync(path.join(peterson, p)));
}

export function hasKriegeskorte() {
  return ['behav_rdms_92.npz', 'images'].every((p) => fs.existsSync(path.join(kriegeskorte, p)));
}

/** A little-endian float64 .npy (NumPy 1.0 header). */
export function npyFloat64(shape, values) {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': ${dims}, }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const bytes = new Uint8Array(10 + header.length + 8 * values.length);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) bytes[10 + i] = header.charCodeAt(i);
  const data = new DataView(bytes.buffer, 10 + header.length);
  values.forEach((v, i) => data.setFloat64(8 * i, v, true));
  return bytes;
}

function subMatrix(values, n, rows) {
  const out = [];
  for (const a of rows) for (const b of rows) out.push(values[a * n + b]);
  return out;
}

/**
 * Writes into `dir`: images/ (the first `count` sorted animal images), hsim.npz (keys animals and
 * fruits, their count×count sub-matrices) and fnames.json ({animals: {fnames}, fruits: {fnames}}).
 * Returns { imagesDir, imageFiles, npz, names, count } or null without the data.
 */
export async function petersonCohort(dir, count) {
  if (!hasPeterson()) return null;
  const fnames = JSON.parse(await fsp.readFile(path.join(peterson, 'fnames.json'), 'utf8'));
  const all = (await fsp.readdir(path.join(peterson, 'images', 'animals'))).filter((f) => f.endsWith('.png')).sort();
  const chosen = all.slice(0, count);
  const imagesDir = path.join(dir, 'images');
  await fsp.mkdir(imagesDir, { recursive: true });
  for (const f of chosen) await fsp.copyFile(path.join(peterson, 'images', 'animals', f), path.join(imagesDir, f));
  const npz = unzipStored(new Uint8Array(await fsp.readFile(path.join(peterson, 'hsim_peterson.npz'))));
  const entries = [];
  const names = {};
  for (const key of ['animals', 'fruits']) {
    const { shape, values } = readNpy(npz[`${key}.npy`]);
    const n = shape[0];
    const list = fnames[key].fnames;
    // animals: the rows of the chosen images; fruits: its first `count` rows (a decoy array).
    const rows = key === 'animals' ? chosen.map((f) => list.indexOf(f)) : Array.from({ length: count }, (_, i) => i);
    if (rows.some((r) => r < 0)) throw new Error(`an image has no row in fnames.json[${key}]`);
    entries.push({ name: `${key}.npy`, data: npyFloat64([count, count], subMatrix(values, n, rows)) });
    names[key] = { fnames: rows.map((r) => list[r]) };
  }
  const npzPath = path.join(dir, 'hsim.npz');
  await fsp.writeFile(npzPath, Buffer.concat(zipParts(entries)));
  const namesPath = path.join(dir, 'fnames.json');
  await fsp.writeFile(namesPath, JSON.stringify(names));
  return { imagesDir, imageFiles: chosen.map((f) => path.join(imagesDir, f)), npz: npzPath, names: namesPath, count };
}

/** The Kriegeskorte 92 cohort: { imageFiles, npz, key: 'mean_rdm' } or null. */
export function kriegeskorteCohort() {
  if (!hasKriegeskorte()) return null;
  const dir = path.join(kriegeskorte, 'images');
  const imageFiles = fs.readdirSync(dir).filter((f) => f.endsWith('.png')).sort().map((f) => path.join(dir, f));
  return { imagesDir: dir, imageFiles, npz: path.join(kriegeskorte, 'behav_rdms_92.npz'), key: 'mean_rdm' };
}

/** Reads an exported or CLI .npy as { shape, values }. */
export function npyFile(bytes) {
  return readNpy(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
}
