// Links that share a view: what is on screen lives in the address's query, so that a copied link
// reproduces the view on another machine and the browser's back button moves between views.
//
//   ?example=kriegeskorte24      the example that is shown (it runs again on the bundled network)
//   ?results=URL                 published results (a results zip), opened without computing
//   &cmap=viridis                colour map (default jet)
//   &opacity=60                  heatmap opacity in % (default 40)
//   &show=original               the originals instead of the heatmaps
//   &image=005.png               the image open in the enlarged view
//   &view=saliency               that view shows the saliency contours (top 5, 10, 15 %)
//   &saliency=NAME               the saliency map compared (a built-in model; default the first)
//   &device=cpu|webgpu           (kept as it is: the device is the reader's machine's business)
// Defaults are left out, so links stay short. Discrete changes push a history entry; dragging the
// opacity slider replaces the current one.

export const DEFAULT_VIEW = Object.freeze({
  example: null,
  results: null,
  cmap: 'jet',
  opacity: 40,
  show: 'overlay',
  image: null,
  view: 'heatmap',
  saliency: null,
});

const COLORMAPS = ['jet', 'viridis', 'magma'];

/** The view a query string asks for (unknown or malformed values fall back to the defaults). */
export function parseView(search) {
  const q = new URLSearchParams(search);
  const view = { ...DEFAULT_VIEW };
  const example = q.get('example');
  if (example && /^[\w-]{1,64}$/.test(example)) view.example = example;
  const results = q.get('results');
  if (results) view.results = results;
  const cmap = q.get('cmap');
  if (COLORMAPS.includes(cmap)) view.cmap = cmap;
  const opacity = Number(q.get('opacity'));
  if (q.has('opacity') && Number.isFinite(opacity)) view.opacity = Math.min(100, Math.max(0, Math.round(opacity / 5) * 5));
  if (q.get('show') === 'original') view.show = 'original';
  const image = q.get('image');
  if (image) view.image = image;
  if (q.get('view') === 'saliency') view.view = 'saliency';
  const saliency = q.get('saliency');
  if (saliency && /^[\w.-]{1,64}$/.test(saliency)) view.saliency = saliency;
  return view;
}

/** The query string of a view, keeping parameters this module does not own (e.g. device). */
export function formatView(view, base = '') {
  const q = new URLSearchParams(base);
  for (const key of Object.keys(DEFAULT_VIEW)) q.delete(key);
  if (view.results) q.set('results', view.results);
  else if (view.example) q.set('example', view.example);
  if (view.cmap !== DEFAULT_VIEW.cmap) q.set('cmap', view.cmap);
  if (view.opacity !== DEFAULT_VIEW.opacity) q.set('opacity', String(view.opacity));
  if (view.show !== DEFAULT_VIEW.show) q.set('show', view.show);
  if (view.image) {
    q.set('image', view.image);
    if (view.view !== DEFAULT_VIEW.view) q.set('view', view.view);
  }
  if (view.saliency) q.set('saliency', view.saliency);
  const text = q.toString();
  return text ? `?${text}` : '';
}

/** True when two views show the same thing. */
export function sameView(a, b) {
  return Object.keys(DEFAULT_VIEW).every((k) => a[k] === b[k]);
}

/**
 * Keeps the address in step with the view. `read()` returns the view on screen; `apply(view)`
 * shows a view (after back/forward). Returns { update({ replace }), current(), suspend(fn) }.
 */
export function linkView({ read, apply }) {
  let applying = false;
  const write = (replace) => {
    if (applying) return;
    const view = read();
    const search = formatView(view, location.search);
    if (search === location.search) return;
    const url = `${location.pathname}${search}${location.hash}`;
    if (replace) history.replaceState({ alignmap: true }, '', url);
    else history.pushState({ alignmap: true }, '', url);
  };
  window.addEventListener('popstate', async () => {
    applying = true;
    try {
      await apply(parseView(location.search));
    } finally {
      applying = false;
    }
  });
  return {
    update: ({ replace = false } = {}) => write(replace),
    current: () => parseView(location.search),
    /** Runs fn without writing to the address (e.g. while a view from the address is applied). */
    async suspend(fn) {
      const was = applying;
      applying = true;
      try {
        return await fn();
      } finally {
        applying = was;
      }
    },
  };
}
