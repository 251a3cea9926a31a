// Test inputs made from the real data in ../shared/data (never copied into the repository): a
// cohort of the first N Peterson animal images, and their rows and columns of hsim_peterson.npz
// as a smaller .npz (same keys) with a names file in the layout of fnames.json. Also the
// Kriegeskorte 92 set. Every helper returns null when the data are absent.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { dump, parse } from 'npyjs';
import { reshape } from 'npyjs/reshape';
import { repoRoot } from './harness.mjs';

export const sharedData = process.env.ALIGNMAP_SHARED_DATA || path.resolve(repoRoot, '..', 'shared', 'data');
export const peterson = path.join(sharedData, 'peterson');
export const kriegeskorte = path.join(sharedData, 'kriegeskorte92');

export function hasPeterson() {
  return ['hsim_peterson.npz', 'fnames.json', 'images/animals'].every((p) => fs.existsSync(path.join(peterson, p)));
}

export function hasKriegeskorte() {
  return ['behav_rdms_92.npz', 'images'].every((p) => fs.existsSync(path.join(kriegeskorte, p)));
}

/** A little-endian float64 .npy of `values` (C order) with `shape`. */
export function npyFloat64(shape, values) {
  return new Uint8Array(dump(Float64Array.from(values), shape));
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
  const npz = unzipSync(await fsp.readFile(path.join(peterson, 'hsim_peterson.npz')));
  const entries = {};
  const names = {};
  for (const key of ['animals', 'fruits']) {
    const { shape, values } = npyFile(npz[`${key}.npy`]);
    const n = shape[0];
    const list = fnames[key].fnames;
    // animals: the rows of the chosen images; fruits: its first `count` rows (a decoy array).
    const rows = key === 'animals' ? chosen.map((f) => list.indexOf(f)) : Array.from({ length: count }, (_, i) => i);
    if (rows.some((r) => r < 0)) throw new Error(`an image has no row in fnames.json[${key}]`);
    entries[`${key}.npy`] = npyFloat64([count, count], subMatrix(values, n, rows));
    names[key] = { fnames: rows.map((r) => list[r]) };
  }
  const npzPath = path.join(dir, 'hsim.npz');
  // Stored, not deflated: as numpy.savez writes an .npz.
  await fsp.writeFile(npzPath, zipSync(entries, { level: 0 }));
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

/**
 * Reads an .npy (exported, written by the command line, or an array of the shared data) as
 * { shape, values } with the values in C order, whatever order the file stores.
 */
export function npyFile(bytes) {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const { data, shape, fortranOrder } = parse(u8.buffer.slice(u8.byteOffset, u8.byteOffset + u8.byteLength));
  if (!fortranOrder || shape.length < 2) return { shape, values: data };
  return { shape, values: data.constructor.from(reshape(data, shape, true).flat(Infinity)) };
}
