// The address that holds a view (www/share.js): parsing, formatting, defaults left out, other
// parameters kept, bad values ignored. Plain node, no browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseView, formatView, DEFAULT_VIEW, sameView } from '../../www/share.js';

test('a view survives the address: formatted, then parsed', () => {
  const view = { ...DEFAULT_VIEW, results: 'results/vgg16 animals.zip', cmap: 'magma', opacity: 65, show: 'original', image: 'n01 cat.png', view: 'saliency', saliency: 'spectral-residual' };
  const search = formatView(view);
  assert.match(search, /^\?results=results%2Fvgg16\+animals\.zip&cmap=magma&opacity=65&show=original&image=n01\+cat\.png&view=saliency&saliency=spectral-residual$/);
  assert.ok(sameView(parseView(search), view));
});

test('defaults are left out, the device is kept, results win over an example', () => {
  assert.equal(formatView({ ...DEFAULT_VIEW }), '');
  assert.equal(formatView({ ...DEFAULT_VIEW, example: 'kriegeskorte24' }, '?device=cpu&cmap=viridis'), '?device=cpu&example=kriegeskorte24');
  assert.equal(formatView({ ...DEFAULT_VIEW, example: 'kriegeskorte24', results: 'r.zip' }), '?results=r.zip');
  // view=saliency only means something with an open image.
  assert.equal(formatView({ ...DEFAULT_VIEW, view: 'saliency' }), '');
});

test('bad values fall back to the defaults', () => {
  const view = parseView('?cmap=hot&opacity=abc&show=both&view=x&example=../../etc&saliency=%3Cscript%3E');
  assert.ok(sameView(view, DEFAULT_VIEW), JSON.stringify(view));
  assert.equal(parseView('?opacity=250').opacity, 100);
  assert.equal(parseView('?opacity=33').opacity, 35);
});
