// What the page holds, shared by its modules: one object (window.alignmap.state for the tests),
// and the timings the tests read (window.alignmap.timings).

const forcedDevice = new URLSearchParams(location.search).get('device');

export const state = {
  worker: null,
  pool: [], // the pool's other workers (pool.js)
  device: null,
  // ?device=cpu or ?device=webgpu in the address forces a device.
  deviceChoice: ['auto', 'webgpu', 'cpu'].includes(forcedDevice) ? forcedDevice : 'auto',
  model: null, // { blob, name, requested, label, info, origin }
  modelLoading: null, // the first load of the bundled network, which an example waits for
  images: new Map(), // name → File (sorted when shown)
  imageErrors: [], // { name, message }
  skipped: [],
  matrix: null, // { file, key, namesFile, dissimilarity, info, arrays }
  check: null,
  running: false,
  results: null,
  display: { colormap: 'jet', opacity: 40, original: false },
  importedSaliency: 0, // how many saliency maps were imported
  viewer: { index: -1, mode: 'heatmap' },
  // Where the cohort came from when it is an example (cleared when a visitor changes it), and
  // what the results on screen are: { kind: 'example' | 'results' | 'run', … }.
  cohortOrigin: null,
  // The comparison of two networks on screen (compare.js): { a, b, report, … } or null.
  comparison: null,
};

// Figures the tests (and the curious) can read.
export const timings = {};
