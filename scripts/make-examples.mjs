#!/usr/bin/env node
// Builds www/examples/ (the examples that ship with the page) from the Kriegeskorte 92-image set
// as the rsatoolbox demos distribute it (../shared/data/kriegeskorte92/, MIT licence). The one
// shared data set that may ship with the product; nothing else is copied.
//
//   node scripts/make-examples.mjs [SOURCE_DIR]      (default ../shared/data/kriegeskorte92)
//
// Writes, under www/examples/:
//   examples.json                 what the page offers: title, source, task, files of each example
//   LICENSE_rsatoolbox_MIT.txt    the licence that allows shipping the set
//   kriegeskorte92/images/        the 92 images (175×175 PNG), unchanged
//   kriegeskorte92/rdm.csv        the human RDM: the mean over the 16 subjects (mean_rdm), a
//                                 header row of image names, shortest round-trip decimals
//   kriegeskorte92/categories.json  image → category (human body, human face, animal body,
//                                 animal face, natural object, artificial object)
//   kriegeskorte24/rdm.csv        the 24-image subset's rows and columns of the same RDM
// The 24: four images of each of the six categories, evenly spaced through each category in file
// order (positions ⌊(j + ½)·size/4⌋, j = 0…3), so that every kind of stimulus is there.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The zip and NPY readers are npm packages of tests/browser (scripts/setup.sh installs them).
const require = createRequire(path.join(root, 'tests', 'browser', 'package.json'));
const { unzipSync } = require('fflate');
const { parse } = require('npyjs');
const { reshape } = require('npyjs/reshape');
const source = path.resolve(process.argv[2] || path.join(root, '..', 'shared', 'data', 'kriegeskorte92'));
const out = path.join(root, 'www', 'examples');

function die(message) {
  console.error(`make-examples: ${message}`);
  process.exit(1);
}

const npzPath = path.join(source, 'behav_rdms_92.npz');
if (!fs.existsSync(npzPath)) die(`${npzPath} not found: expected the Kriegeskorte 92 set (behav_rdms_92.npz, images/, LICENSE_rsatoolbox_MIT.txt)`);
const npz = unzipSync(fs.readFileSync(npzPath));
for (const key of ['mean_rdm.npy', 'rdms.npy', 'image_files.npy', 'image_category.npy', 'category_vectors.npy', 'category_labels.npy']) {
  if (!npz[key]) die(`${npzPath}: no array ${key}`);
}

/** An array of the .npz: { data, shape, dtype } with `data` in C order (flat; nested rows with `rows`). */
function array(key, dtype, { rows = false } = {}) {
  const bytes = npz[`${key}.npy`];
  const a = parse(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  if (!dtype.test(a.dtype)) die(`${npzPath}: ${key} has dtype ${a.dtype}, expected ${dtype.source}`);
  if (!rows && !a.fortranOrder) return a;
  const nested = reshape(a.data, a.shape, a.fortranOrder);
  return { ...a, data: rows ? nested : nested.flat(Infinity) };
}

const files = array('image_files', /^U\d+$/).data.map((f) => path.basename(f));
const kinds = array('image_category', /^U\d+$/).data;
const labels = array('category_labels', /^U\d+$/).data;
const vectors = array('category_vectors', /^u1$/, { rows: true }).data;
const mean = array('mean_rdm', /^f8$/);
const rdms = array('rdms', /^f8$/);
const n = files.length;
if (n !== 92 || mean.shape.join() !== '92,92') die(`expected 92 images and a 92×92 mean RDM, got ${n} and ${mean.shape.join('×')}`);

// mean_rdm is the mean of the 16 subjects' RDMs: check before shipping it as such.
const subjects = rdms.shape[0];
let worst = 0;
for (let i = 0; i < n * n; i++) {
  let s = 0;
  for (let k = 0; k < subjects; k++) s += rdms.data[k * n * n + i];
  worst = Math.max(worst, Math.abs(s / subjects - mean.data[i]));
}
if (worst > 1e-12) die(`mean_rdm differs from the mean of the ${subjects} subjects' RDMs by ${worst}`);

// Six categories from the category vectors: animate/inanimate, human/non-human, body/face,
// natural/artificial object.
const col = (label) => labels.indexOf(label);
const CATEGORY = [
  ['human-body', 'human body', (v) => v[col('human')] && v[col('body')]],
  ['human-face', 'human face', (v) => v[col('human')] && v[col('face')]],
  ['animal-body', 'animal body', (v) => v[col('nonhumani')] && v[col('body')]],
  ['animal-face', 'animal face', (v) => v[col('nonhumani')] && v[col('face')]],
  ['natural', 'natural object', (v) => v[col('natObj')]],
  ['artificial', 'artificial object', (v) => v[col('artiObj')]],
];
const categoryOf = files.map((f, i) => {
  const hits = CATEGORY.filter(([, , test]) => test(vectors[i]));
  if (hits.length !== 1) die(`${f} (${kinds[i]}) falls in ${hits.length} of the six categories`);
  return hits[0][0];
});

// The 24: four per category, evenly spaced within it.
const small = [];
for (const [id] of CATEGORY) {
  const members = files.map((f, i) => i).filter((i) => categoryOf[i] === id);
  for (let j = 0; j < 4; j++) small.push(members[Math.floor(((j + 0.5) * members.length) / 4)]);
}
small.sort((a, b) => a - b);

function csv(rows) {
  const lines = [rows.map((i) => files[i]).join(',')];
  for (const a of rows) lines.push(rows.map((b) => String(mean.data[a * n + b])).join(','));
  return lines.join('\n') + '\n';
}

const all = files.map((_, i) => i);
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(path.join(out, 'kriegeskorte92', 'images'), { recursive: true });
fs.mkdirSync(path.join(out, 'kriegeskorte24'), { recursive: true });
for (const f of files) fs.copyFileSync(path.join(source, 'images', f), path.join(out, 'kriegeskorte92', 'images', f));
fs.copyFileSync(path.join(source, 'LICENSE_rsatoolbox_MIT.txt'), path.join(out, 'LICENSE_rsatoolbox_MIT.txt'));
fs.writeFileSync(path.join(out, 'kriegeskorte92', 'rdm.csv'), csv(all));
fs.writeFileSync(path.join(out, 'kriegeskorte24', 'rdm.csv'), csv(small));
const categories = Object.fromEntries(files.map((f, i) => [f, categoryOf[i]]));
fs.writeFileSync(path.join(out, 'kriegeskorte92', 'categories.json'), JSON.stringify(categories, null, 1) + '\n');

const common = {
  source: 'Kriegeskorte et al. (2008), Neuron 60(6):1126–1141; the human judgments: Mur et al. (2013), Frontiers in Psychology 4:128. As distributed with the rsatoolbox demos (MIT licence, LICENSE_rsatoolbox_MIT.txt).',
  task: 'Sixteen people arranged the images on a screen by similarity (the multi-arrangement method): images that look alike close together. The distances, averaged over the 16, are the human dissimilarities (an RDM).',
  direction: 'dissimilarity',
  images: 'kriegeskorte92/images/',
  categories: 'kriegeskorte92/categories.json',
  categoryLabels: Object.fromEntries(CATEGORY.map(([id, label]) => [id, label])),
};
const manifest = {
  about: 'Examples that ship with the page (made by scripts/make-examples.mjs). Paths are relative to this file.',
  examples: [
    {
      id: 'kriegeskorte24',
      title: '24 objects, faces and bodies',
      summary: 'A 24-image subset of the Kriegeskorte 92 set: four images of each category (human bodies and faces, animal bodies and faces, natural and artificial objects), evenly spaced through each category.',
      ...common,
      matrix: 'kriegeskorte24/rdm.csv',
      files: small.map((i) => files[i]),
    },
    {
      id: 'kriegeskorte92',
      title: 'All 92 images',
      summary: 'The whole Kriegeskorte 92 set: 12 human bodies, 12 human faces, 12 animal bodies, 12 animal faces, 23 natural and 21 artificial objects.',
      ...common,
      matrix: 'kriegeskorte92/rdm.csv',
      files: [...files],
    },
  ],
};
fs.writeFileSync(path.join(out, 'examples.json'), JSON.stringify(manifest, null, 2) + '\n');
const bytes = (dir) => fs.readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile())
  .reduce((s, e) => s + fs.statSync(path.join(e.parentPath ?? e.path, e.name)).size, 0);
console.log(`make-examples: wrote ${out}: ${n} images, the 24 = ${small.map((i) => files[i]).join(' ')}; ${(bytes(out) / 1e6).toFixed(2)} MB`);
