// Published results: a results zip (the page's export, `alignmap pack`, `alignmap analyze --zip`)
// fetched from a URL with progress, or chosen on this computer. The zip is read in the worker by
// the crate (src/results_zip.rs); this file only gets its bytes.

import { readChunks } from './util.js';

export class ResultsError extends Error {}

/** A results zip from `url` as a Blob; onProgress({ received, total }). */
export async function fetchResults(url, { onProgress = () => {}, signal } = {}) {
  let response;
  try {
    response = await fetch(url, { signal });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ResultsError(`${url}: could not be fetched (${err.message}). A results zip on another site must be served with CORS ` +
      '(Access-Control-Allow-Origin); one beside this page needs nothing.');
  }
  if (!response.ok) throw new ResultsError(`${url}: HTTP ${response.status}${response.status === 404 ? ' (no such file on the server)' : ''}`);
  const total = Number(response.headers.get('content-length')) || 0;
  if (!response.body) return response.blob();
  const chunks = await readChunks(response, (received) => onProgress({ received, total }));
  return new Blob(chunks, { type: 'application/zip' });
}

/** The name a URL's file goes by in messages. */
export function fileNameOf(url) {
  try {
    const path = new URL(url, location.href).pathname;
    return decodeURIComponent(path.split('/').pop() || url);
  } catch {
    return url;
  }
}
