// alignmap's page: loads the wasm package (www/pkg, built by scripts/build-wasm.sh), picks a
// device (WebGPU, else the CPU) and runs a forward pass on request. No framework, no network.
//
// ?device=cpu or ?device=webgpu in the address forces a device.

const $ = (id) => document.getElementById(id);
const statusLine = $('status');
const form = $('forward-form');
const runButton = $('run');
const specSelect = $('spec');
const result = $('result');
const errorLine = $('error');

const WEIGHT_SEED = 7;
const IMAGE_SEED = 3;
const SIZE = 224;

let wasm = null;
let adapter = null;

function setStatus(text, state) {
  statusLine.textContent = text;
  statusLine.dataset.state = state;
}

function showError(message) {
  errorLine.textContent = message;
  errorLine.hidden = false;
}

function formatValues(values, count = 6) {
  const shown = Array.from(values.slice(0, count), (v) => v.toPrecision(4));
  const more = values.length > count ? ', …' : '';
  return `${values.length} values: ${shown.join(', ')}${more}`;
}

async function chooseDevice() {
  const forced = new URLSearchParams(location.search).get('device');
  if (forced === 'cpu' || forced === 'webgpu') {
    return wasm.init_device(forced);
  }
  if ('gpu' in navigator) {
    try {
      return await wasm.init_device('webgpu');
    } catch (err) {
      const cpu = await wasm.init_device('cpu');
      return `${cpu} (WebGPU did not start: ${err.message ?? err})`;
    }
  }
  const cpu = await wasm.init_device('cpu');
  return `${cpu} (this browser has no WebGPU)`;
}

async function start() {
  try {
    wasm = await import('./pkg/alignmap.js');
    await wasm.default();
  } catch (err) {
    setStatus('The WebAssembly module did not load.', 'error');
    showError(`Loading ./pkg/alignmap.js failed: ${err.message ?? err}. ` +
      'Build it with scripts/build-wasm.sh.');
    return;
  }
  setStatus('Starting the device…', 'loading');
  try {
    adapter = await chooseDevice();
  } catch (err) {
    setStatus('No device could be started.', 'error');
    showError(err.message ?? String(err));
    return;
  }
  setStatus(`Device: ${adapter}`, 'ready');
  runButton.disabled = false;
}

async function runForward(event) {
  event.preventDefault();
  if (!wasm || !adapter || runButton.disabled) return;
  const spec = specSelect.value;
  runButton.disabled = true;
  specSelect.disabled = true;
  errorLine.hidden = true;
  result.dataset.state = 'running';
  const label = spec === 'tiny' ? 'the tiny network' : 'VGG-16';
  setStatus(`Running ${label}… (device: ${adapter})`, 'running');
  // Let the status paint before the wasm call takes the main thread.
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  try {
    const r = await wasm.synthetic_forward(spec, WEIGHT_SEED, IMAGE_SEED, SIZE, SIZE);
    $('result-time').textContent =
      `${r.millis.toFixed(1)} ms for the forward pass of ${label} (${SIZE} × ${SIZE})`;
    $('result-embedding').textContent = formatValues(r.embedding);
    $('result-logits').textContent = formatValues(r.logits);
    $('result-adapter').textContent = adapter;
    result.hidden = false;
    result.dataset.state = 'done';
    result.dataset.spec = spec;
    result.dataset.embeddingLength = String(r.embedding.length);
    result.dataset.logitsLength = String(r.logits.length);
    setStatus(`Device: ${adapter}`, 'ready');
  } catch (err) {
    result.dataset.state = 'error';
    setStatus(`Device: ${adapter}`, 'ready');
    showError(`The forward pass failed: ${err.message ?? err}`);
  } finally {
    runButton.disabled = false;
    specSelect.disabled = false;
  }
}

form.addEventListener('submit', runForward);
start();
