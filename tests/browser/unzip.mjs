// Reading zip archives in the tests (node only): stored and deflated members, as the crate's
// results zip (src/results_zip.rs) and numpy's .npz write them. Returns { name → Uint8Array }.
import zlib from 'node:zlib';

export function unzip(bytes) {
  const buf = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let end = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === 0x06054b50) { end = i; break; }
  }
  if (end < 0) throw new Error('not a zip archive (no end-of-directory record)');
  const count = view.getUint16(end + 10, true);
  let p = view.getUint32(end + 16, true);
  const out = {};
  const decoder = new TextDecoder();
  for (let k = 0; k < count; k++) {
    if (view.getUint32(p, true) !== 0x02014b50) throw new Error('zip: a broken central directory');
    const method = view.getUint16(p + 10, true);
    const compressed = view.getUint32(p + 20, true);
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    const localOffset = view.getUint32(p + 42, true);
    const name = decoder.decode(buf.subarray(p + 46, p + 46 + nameLength));
    const start = localOffset + 30 + view.getUint16(localOffset + 26, true) + view.getUint16(localOffset + 28, true);
    const data = buf.subarray(start, start + compressed);
    if (method === 0) out[name] = data;
    else if (method === 8) out[name] = new Uint8Array(zlib.inflateRawSync(data));
    else throw new Error(`zip: ${name} uses compression method ${method}`);
    p += 46 + nameLength + extraLength + commentLength;
  }
  return out;
}
