// The cohort the judgments belong to: its fingerprint (sorted file names and sizes) and small
// thumbnails, stored with the judgments so that a task resumes after a reload without picking
// the images again (the browser forgets dropped files on reload).

export const THUMB_SIDE = 192;

/** Names sorted as the command line sorts a folder (code points). */
export function sortNames(names) {
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * A fingerprint of a cohort from its sorted file names and sizes: 64-bit FNV-1a over
 * `name\0size\n` lines, as 16 hex digits, with the image count in front ("24-9f…"). Not a
 * security measure; it only tells one set of images from another.
 */
export function fingerprint(entries) {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = (1n << 64n) - 1n;
  const bytes = new TextEncoder().encode(sorted.map((e) => `${e.name}\0${e.size}\n`).join(''));
  for (const b of bytes) {
    h ^= BigInt(b);
    h = (h * prime) & mask;
  }
  return `${sorted.length}-${h.toString(16).padStart(16, '0')}`;
}

/** A JPEG thumbnail (longer side THUMB_SIDE) of an image file, as a Blob. */
export async function thumbnail(file, side = THUMB_SIDE) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
  const w = Math.max(1, Math.round(bitmap.width * scale));
  const h = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, w, h);
  bitmap.close?.();
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the browser could not encode a thumbnail'))), 'image/jpeg', 0.85));
}

/** Object URLs for stored thumbnails; `revoke()` frees them. */
export function thumbUrls(thumbs) {
  const urls = new Map();
  for (const [name, blob] of Object.entries(thumbs || {})) urls.set(name, URL.createObjectURL(blob));
  return { get: (name) => urls.get(name), revoke: () => { for (const u of urls.values()) URL.revokeObjectURL(u); urls.clear(); } };
}
