// Network weights: the presets, downloads with progress, and the browser's Cache API so that the
// next visit needs no network. Nothing else is ever fetched from another site.

import { readChunks } from './util.js';

export const CACHE_NAME = 'alignmap-weights-v1';

export const PRESETS = {
  bundled: {
    label: 'EfficientNet-Lite0 (bundled, ImageNet)',
    url: 'models/efficientnet-lite0-f16.safetensors',
    model: 'efficientnet-lite0',
    bytes: 9.3e6,
    note: 'Ships with this page (9 MB, f16, Apache-2.0).',
  },
  // Lite1 and Lite2 ship in the same way (models/build.sh), each used at the input size it was
  // trained at: 240 and 260 px (Lite0: 224).
  lite1: {
    label: 'EfficientNet-Lite1 (bundled, ImageNet, 240 px)',
    url: 'models/efficientnet-lite1-f16.safetensors',
    model: 'efficientnet-lite1',
    bytes: 10.8e6,
    note: 'Ships with this page (11 MB, f16, Apache-2.0); images at 240 px, the size it was trained at.',
  },
  lite2: {
    label: 'EfficientNet-Lite2 (bundled, ImageNet, 260 px)',
    url: 'models/efficientnet-lite2-f16.safetensors',
    model: 'efficientnet-lite2',
    bytes: 12.1e6,
    note: 'Ships with this page (12 MB, f16, Apache-2.0); images at 260 px, the size it was trained at.',
  },
  vgg16: {
    label: 'VGG-16, ImageNet (the paper’s network)',
    url: 'https://huggingface.co/timm/vgg16.tv_in1k/resolve/main/model.safetensors',
    model: 'vgg16',
    bytes: 553e6,
    note: 'timm’s vgg16.tv_in1k (torchvision’s weights) from huggingface.co: a 528 MiB download, stored in this browser afterwards.',
  },
};

export function formatBytes(n) {
  if (!Number.isFinite(n)) return '?';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

export function cacheAvailable() {
  return typeof caches !== 'undefined' && (typeof isSecureContext === 'undefined' || isSecureContext);
}

/** The absolute URL a preset or a user's URL resolves to. */
export function absolute(url) {
  return new URL(url, location.href).href;
}

/** A stored copy of `url`, as a Blob, or null. */
export async function cached(url) {
  if (!cacheAvailable()) return null;
  try {
    const cache = await caches.open(CACHE_NAME);
    const hit = await cache.match(absolute(url));
    return hit ? await hit.blob() : null;
  } catch {
    return null;
  }
}

/** Every stored file: [{ url, bytes }]. */
export async function listCached() {
  if (!cacheAvailable()) return [];
  const cache = await caches.open(CACHE_NAME);
  const out = [];
  for (const request of await cache.keys()) {
    const response = await cache.match(request);
    const length = Number(response?.headers.get('content-length'));
    out.push({ url: request.url, bytes: Number.isFinite(length) && length > 0 ? length : (await response.blob()).size });
  }
  return out;
}

export async function removeCached(url) {
  if (!cacheAvailable()) return false;
  const cache = await caches.open(CACHE_NAME);
  return cache.delete(url === undefined ? url : absolute(url));
}

export async function clearCache() {
  if (!cacheAvailable()) return false;
  return caches.delete(CACHE_NAME);
}

/** An error with a message for people, and a `kind` for the page: cors, http, network, aborted, storage. */
export class DownloadError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

function httpMessage(status, statusText, url) {
  const host = new URL(url).host;
  if (status === 404) return `${url}: HTTP 404 Not Found — there is no file at this address. Check the URL (a Hugging Face file URL contains /resolve/, not /blob/).`;
  if (status === 401 || status === 403) return `${url}: HTTP ${status} ${statusText} — ${host} refuses the download without a login (a gated or private model?). Download it yourself and choose it as a file on this computer.`;
  if (status >= 500) return `${url}: HTTP ${status} ${statusText} — ${host} has a problem right now; try again later.`;
  return `${url}: HTTP ${status} ${statusText}`;
}

/**
 * Downloads `url` with progress. `onProgress({ received, total })` (total null when the server
 * does not say). Resolves to a Blob; `store` keeps it for the next visit.
 */
export async function download(url, { onProgress = () => {}, signal } = {}) {
  const href = absolute(url);
  const sameOrigin = new URL(href).origin === location.origin;
  let response;
  try {
    response = await fetch(href, { signal, mode: 'cors', credentials: 'omit', cache: 'no-store' });
  } catch (err) {
    if (err && err.name === 'AbortError') throw new DownloadError('aborted', 'The download was cancelled.');
    const host = new URL(href).host;
    throw new DownloadError(sameOrigin ? 'network' : 'cors', sameOrigin
      ? `Could not load ${href}: ${err.message || err}. Is the server still running?`
      : `Could not download from ${host}: the request was blocked or the network is unreachable. ` +
        `Either the server does not allow downloads from other web pages (CORS), or this computer is offline. ` +
        `Download the file with your browser instead and choose it under “A safetensors file on this computer”.`);
  }
  if (!response.ok) throw new DownloadError('http', httpMessage(response.status, response.statusText, href));
  const type = response.headers.get('content-type') || '';
  if (type.startsWith('text/html')) {
    throw new DownloadError('http', `${href}: the server sent a web page (${type}), not a weights file. Use the file's direct download URL (on Hugging Face: …/resolve/main/model.safetensors).`);
  }
  const lengthHeader = Number(response.headers.get('content-length'));
  const total = Number.isFinite(lengthHeader) && lengthHeader > 0 ? lengthHeader : null;
  let chunks;
  let received = 0;
  const report = (bytes) => {
    received = bytes;
    onProgress({ received, total });
  };
  report(0);
  if (response.body && response.body.getReader) {
    try {
      chunks = await readChunks(response, report);
    } catch (err) {
      if (err && err.name === 'AbortError') throw new DownloadError('aborted', 'The download was cancelled.');
      throw new DownloadError('network', `The download from ${new URL(href).host} broke off after ${formatBytes(received)}: ${err.message || err}`);
    }
  } else {
    const buffer = await response.arrayBuffer();
    chunks = [new Uint8Array(buffer)];
    report(buffer.byteLength);
  }
  if (total !== null && received !== total) {
    throw new DownloadError('network', `The download stopped at ${formatBytes(received)} of ${formatBytes(total)}; try again.`);
  }
  return new Blob(chunks, { type: 'application/octet-stream' });
}

/**
 * Stores a downloaded file under its URL (after it loaded: a wrong file is not kept). Resolves
 * to null, or to why it could not be stored.
 */
export async function store(url, blob) {
  if (!cacheAvailable()) {
    return 'this page is not in a secure context (https or localhost), so the browser offers no storage; it will be downloaded again next time';
  }
  try {
    const cache = await caches.open(CACHE_NAME);
    await cache.put(absolute(url), new Response(blob, {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size), 'x-alignmap-stored': new Date().toISOString() },
    }));
    return null;
  } catch (err) {
    return err && err.name === 'QuotaExceededError'
      ? 'this browser has no room left to store it (quota); it will be downloaded again next time'
      : `it could not be stored (${err.message || err}); it will be downloaded again next time`;
  }
}
