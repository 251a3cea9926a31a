// NPY files (NumPy's format, version 1.0) and CSV text, as the command line writes them:
// little-endian float32 arrays, and numbers printed as Rust's `Display` prints an f64 (shortest
// round-trip digits, never an exponent). Works in browsers and in node.

/** The bytes of a little-endian float32 .npy holding `values` (any array of numbers) with `shape`. */
export function npyFloat32(shape, values) {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== values.length) throw new Error(`npy: shape (${shape.join(', ')}) holds ${count} values, got ${values.length}`);
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${dims}, }`;
  // magic (6) + version (2) + header length (2) + header + '\n', padded with spaces to 64 bytes.
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const bytes = new Uint8Array(10 + header.length + 4 * count);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) bytes[10 + i] = header.charCodeAt(i);
  const data = new DataView(bytes.buffer, 10 + header.length);
  for (let i = 0; i < count; i++) data.setFloat32(4 * i, values[i], true);
  return bytes;
}

/** Reads a .npy of float32/float64 (little-endian, C or Fortran order): { shape, values: Float64Array } in C order. */
export function readNpy(bytes) {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (!magic.every((b, i) => bytes[i] === b)) throw new Error('not an .npy file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '';
  const fortran = /'fortran_order':\s*True/.test(header);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLength;
  const values = new Float64Array(count);
  if (descr === '<f4') for (let i = 0; i < count; i++) values[i] = view.getFloat32(dataStart + 4 * i, true);
  else if (descr === '<f8') for (let i = 0; i < count; i++) values[i] = view.getFloat64(dataStart + 8 * i, true);
  else throw new Error(`npy: dtype ${descr} is not supported here`);
  return { shape, values: fortran && shape.length > 1 ? cOrder(values, shape) : values };
}

/** Values stored in Fortran (column-major) order, rearranged into C (row-major) order. */
function cOrder(values, shape) {
  const out = new Float64Array(values.length);
  const index = new Array(shape.length).fill(0);
  for (let c = 0; c < values.length; c++) {
    // c counts in row-major order; its column-major position uses the reversed strides.
    let f = 0;
    let stride = 1;
    for (let d = 0; d < shape.length; d++) {
      f += index[d] * stride;
      stride *= shape[d];
    }
    out[c] = values[f];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

/** An f64 as Rust's `{}` prints it: shortest round-trip digits without an exponent; NaN, inf, -inf. */
export function rustFloat(x) {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Object.is(x, -0)) return '-0';
  const s = String(x);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const [, sign, lead, frac = '', expText] = m;
  const exp = Number(expText);
  const digits = lead + frac;
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const point = 1 + exp;
  return point >= digits.length
    ? sign + digits + '0'.repeat(point - digits.length)
    : `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

function csvField(s) {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A score table as the command line writes it: header `image,fm0,fm1,…`, one row per name. */
export function scoreCsv(rowNames, values, columns) {
  const lines = ['image' + Array.from({ length: columns }, (_, k) => `,fm${k}`).join('')];
  rowNames.forEach((name, r) => {
    let line = csvField(name);
    for (let k = 0; k < columns; k++) line += ',' + rustFloat(values[r * columns + k]);
    lines.push(line);
  });
  return lines.join('\n') + '\n';
}
