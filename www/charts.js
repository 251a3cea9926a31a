// Small charts on canvas: a histogram, a per-image spread (box plots), bars, lines and a scatter. Sharp on high-density
// screens, colours from the page's CSS variables, and a text alternative for screen readers
// (set by the caller on the canvas's aria-label).

function setup(canvas, cssWidth, cssHeight) {
  const ratio = Math.max(1, Math.min(3, (typeof devicePixelRatio === 'number' && devicePixelRatio) || 1));
  canvas.width = Math.round(cssWidth * ratio);
  canvas.height = Math.round(cssHeight * ratio);
  canvas.style.width = `${cssWidth}px`;
  canvas.style.height = `${cssHeight}px`;
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return ctx;
}

function colours(canvas) {
  const style = getComputedStyle(canvas);
  const get = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
  return {
    fg: get('--fg', '#1b1f24'),
    muted: get('--muted', '#57606a'),
    line: get('--line', '#d6d9dc'),
    accent: get('--accent', '#1f5fbf'),
    warm: get('--warm', '#c2410c'),
    panel: get('--panel', '#ffffff'),
  };
}

/** Round, readable tick values covering [lo, hi]. */
export function ticks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const step0 = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0) || 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function label(v) {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e4 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(3)));
}

function axes(ctx, c, box, xTicks, yTicks, xScale, yScale, xTitle, yTitle) {
  ctx.strokeStyle = c.line;
  ctx.fillStyle = c.muted;
  ctx.lineWidth = 1;
  ctx.font = '12px system-ui, sans-serif';
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const t of yTicks) {
    const y = Math.round(yScale(t)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(box.left, y);
    ctx.lineTo(box.right, y);
    ctx.stroke();
    ctx.fillText(label(t), box.left - 6, y);
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const t of xTicks) {
    const x = xScale(t);
    ctx.fillText(typeof t === 'number' ? label(t) : String(t), x, box.bottom + 6);
  }
  ctx.fillStyle = c.fg;
  ctx.fillText(xTitle, (box.left + box.right) / 2, box.bottom + 24);
  ctx.save();
  ctx.translate(14, (box.top + box.bottom) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'middle';
  ctx.fillText(yTitle, 0, 0);
  ctx.restore();
}

/**
 * A histogram of `values` (non-finite values left out) with `bins` bins; a dashed line at 0 and,
 * when `marker` is a number, a solid line there labelled `markerLabel` (e.g. the median).
 * Returns a one-line text description.
 */
export function histogram(canvas, values, { width = 560, height = 260, bins = 40, xTitle = 'value', yTitle = 'feature maps', marker = null, markerLabel = '' } = {}) {
  const ctx = setup(canvas, width, height);
  const c = colours(canvas);
  const finite = Array.from(values).filter(Number.isFinite);
  ctx.clearRect(0, 0, width, height);
  if (!finite.length) return 'no finite values';
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (lo === hi) { lo -= 0.5; hi += 0.5; }
  const counts = new Array(bins).fill(0);
  for (const v of finite) counts[Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins))]++;
  const top = Math.max(...counts);
  const box = { left: 56, right: width - 12, top: 12, bottom: height - 44 };
  const xScale = (v) => box.left + ((v - lo) / (hi - lo)) * (box.right - box.left);
  const yScale = (v) => box.bottom - (v / top) * (box.bottom - box.top);
  axes(ctx, c, box, ticks(lo, hi, 6), ticks(0, top, 4).filter((t) => Number.isInteger(t)), xScale, yScale, xTitle, yTitle);
  ctx.fillStyle = c.accent;
  const w = (box.right - box.left) / bins;
  counts.forEach((n, i) => {
    if (!n) return;
    const y = yScale(n);
    ctx.fillRect(box.left + i * w + 0.5, y, Math.max(1, w - 1), box.bottom - y);
  });
  if (lo < 0 && hi > 0) {
    ctx.strokeStyle = c.warm;
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(Math.round(xScale(0)) + 0.5, box.top);
    ctx.lineTo(Math.round(xScale(0)) + 0.5, box.bottom);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  if (Number.isFinite(marker)) markLine(ctx, c, box, xScale(marker), markerLabel);
  const positive = finite.filter((v) => v > 0).length;
  return `${finite.length} values from ${label(lo)} to ${label(hi)}; ${positive} positive`;
}

/** A vertical line at x across the box, with its label at the top. */
function markLine(ctx, c, box, x, text) {
  const at = Math.round(x) + 0.5;
  ctx.strokeStyle = c.fg;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.moveTo(at, box.top);
  ctx.lineTo(at, box.bottom);
  ctx.stroke();
  ctx.lineWidth = 1;
  if (!text) return;
  ctx.fillStyle = c.fg;
  ctx.font = '12px system-ui, sans-serif';
  ctx.textBaseline = 'top';
  ctx.textAlign = at > (box.left + box.right) / 2 ? 'right' : 'left';
  ctx.fillText(text, at + (ctx.textAlign === 'right' ? -4 : 4), box.top);
}

/**
 * Points (xs[i], ys[i]) where both are finite, with the least-squares line through them.
 * Returns the number of points drawn.
 */
export function scatter(canvas, xs, ys, { width = 560, height = 260, xTitle = 'x', yTitle = 'y' } = {}) {
  const ctx = setup(canvas, width, height);
  const c = colours(canvas);
  ctx.clearRect(0, 0, width, height);
  const points = Array.from(xs, (x, i) => [x, ys[i]]).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (!points.length) return 0;
  const range = (values) => {
    let lo = Math.min(...values);
    let hi = Math.max(...values);
    if (lo === hi) { lo -= 0.5; hi += 0.5; }
    const pad = (hi - lo) * 0.05;
    return [lo - pad, hi + pad];
  };
  const [xLo, xHi] = range(points.map((p) => p[0]));
  const [yLo, yHi] = range(points.map((p) => p[1]));
  const box = { left: 56, right: width - 12, top: 12, bottom: height - 44 };
  const xScale = (v) => box.left + ((v - xLo) / (xHi - xLo)) * (box.right - box.left);
  const yScale = (v) => box.bottom - ((v - yLo) / (yHi - yLo)) * (box.bottom - box.top);
  axes(ctx, c, box, ticks(xLo, xHi, 6), ticks(yLo, yHi, 5), xScale, yScale, xTitle, yTitle);
  const n = points.length;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const sxx = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  if (n > 2 && sxx > 0) {
    const slope = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0) / sxx;
    ctx.strokeStyle = c.warm;
    ctx.setLineDash([5, 3]);
    ctx.beginPath();
    ctx.moveTo(xScale(xLo), yScale(my + slope * (xLo - mx)));
    ctx.lineTo(xScale(xHi), yScale(my + slope * (xHi - mx)));
    ctx.stroke();
    ctx.setLineDash([]);
  }
  ctx.fillStyle = c.accent;
  for (const [x, y] of points) {
    ctx.beginPath();
    ctx.arc(xScale(x), yScale(y), 3.5, 0, 2 * Math.PI);
    ctx.fill();
  }
  return n;
}

function quantile(sorted, q) {
  const i = q * (sorted.length - 1);
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
}

/**
 * One box plot per row of `matrix` (rows × columns, row-major): whiskers min–max, box between
 * the quartiles, the median line. Returns the per-row statistics
 * [{ min, q1, median, q3, max, mad }] (mad: mean absolute deviation from the mean).
 */
export function spread(canvas, matrix, rows, columns, { width = 560, height = 260, xTitle = 'image', yTitle = 'AIS', highlight = -1 } = {}) {
  const ctx = setup(canvas, width, height);
  const c = colours(canvas);
  ctx.clearRect(0, 0, width, height);
  const stats = [];
  for (let r = 0; r < rows; r++) {
    const row = Array.from(matrix.subarray(r * columns, (r + 1) * columns)).filter(Number.isFinite).sort((a, b) => a - b);
    if (!row.length) { stats.push(null); continue; }
    const mean = row.reduce((s, v) => s + v, 0) / row.length;
    const mad = row.reduce((s, v) => s + Math.abs(v - mean), 0) / row.length;
    stats.push({ min: row[0], q1: quantile(row, 0.25), median: quantile(row, 0.5), q3: quantile(row, 0.75), max: row[row.length - 1], mad });
  }
  const valid = stats.filter(Boolean);
  if (!valid.length) return stats;
  let lo = Math.min(...valid.map((s) => s.min));
  let hi = Math.max(...valid.map((s) => s.max));
  if (lo === hi) { lo -= 0.5; hi += 0.5; }
  const box = { left: 56, right: width - 12, top: 12, bottom: height - 44 };
  const slot = (box.right - box.left) / rows;
  const xScale = (i) => box.left + (i + 0.5) * slot;
  const yScale = (v) => box.bottom - ((v - lo) / (hi - lo)) * (box.bottom - box.top);
  const every = Math.max(1, Math.ceil(rows / 12));
  const xTicks = [];
  for (let i = 0; i < rows; i += every) xTicks.push(i);
  axes(ctx, c, box, xTicks.map((i) => i + 1), ticks(lo, hi, 5), (t) => xScale(t - 1), yScale, xTitle, yTitle);
  stats.forEach((s, i) => {
    if (!s) return;
    const x = xScale(i);
    const half = Math.max(1, Math.min(8, slot * 0.35));
    ctx.strokeStyle = i === highlight ? c.warm : c.muted;
    ctx.beginPath();
    ctx.moveTo(x, yScale(s.min));
    ctx.lineTo(x, yScale(s.max));
    ctx.stroke();
    ctx.fillStyle = i === highlight ? c.warm : c.accent;
    const top = yScale(s.q3);
    ctx.fillRect(x - half, top, 2 * half, Math.max(1, yScale(s.q1) - top));
    ctx.strokeStyle = c.panel;
    ctx.beginPath();
    ctx.moveTo(x - half, yScale(s.median));
    ctx.lineTo(x + half, yScale(s.median));
    ctx.stroke();
  });
  if (lo < 0 && hi > 0) {
    ctx.strokeStyle = c.warm;
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(box.left, Math.round(yScale(0)) + 0.5);
    ctx.lineTo(box.right, Math.round(yScale(0)) + 0.5);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  return stats;
}

/** Horizontal bars for labelled values (top feature maps); negative values drawn leftwards. */
export function bars(canvas, items, { width = 360, rowHeight = 20, valueLabel = (v) => label(v) } = {}) {
  const height = items.length * rowHeight + 8;
  const ctx = setup(canvas, width, height);
  const c = colours(canvas);
  ctx.clearRect(0, 0, width, height);
  const finite = items.map((d) => d.value).filter(Number.isFinite);
  const max = Math.max(1e-12, ...finite.map(Math.abs));
  const left = 64;
  const right = width - 72;
  const zero = finite.some((v) => v < 0) ? (left + right) / 2 : left;
  const scale = (right - zero) / max;
  ctx.font = '12px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  items.forEach((d, i) => {
    const y = 4 + i * rowHeight + rowHeight / 2;
    ctx.fillStyle = c.fg;
    ctx.textAlign = 'right';
    ctx.fillText(d.label, left - 8, y);
    if (Number.isFinite(d.value)) {
      ctx.fillStyle = d.value >= 0 ? c.accent : c.warm;
      const w = d.value * scale;
      ctx.fillRect(Math.min(zero, zero + w), y - rowHeight * 0.32, Math.max(1, Math.abs(w)), rowHeight * 0.64);
    }
    ctx.fillStyle = c.muted;
    ctx.textAlign = 'left';
    ctx.fillText(Number.isFinite(d.value) ? valueLabel(d.value) : 'undefined', right + 6, y);
  });
}

/**
 * Lines over x = 1…length (selection curves): series [{ label, values, dashed }] drawn in the
 * accent and warm colours, an optional vertical marker at x = `marker` labelled `markerLabel`.
 */
export function lines(canvas, series, { width = 560, height = 260, xTitle = 'x', yTitle = 'y', marker = null, markerLabel = '' } = {}) {
  const ctx = setup(canvas, width, height);
  const c = colours(canvas);
  ctx.clearRect(0, 0, width, height);
  const all = series.flatMap((s) => Array.from(s.values)).filter(Number.isFinite);
  if (!all.length) return;
  const length = Math.max(...series.map((s) => s.values.length));
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (lo === hi) { lo -= 0.5; hi += 0.5; }
  const box = { left: 56, right: width - 12, top: 24, bottom: height - 44 };
  const xScale = (x) => box.left + ((x - 1) / Math.max(1, length - 1)) * (box.right - box.left);
  const yScale = (v) => box.bottom - ((v - lo) / (hi - lo)) * (box.bottom - box.top);
  axes(ctx, c, box, ticks(1, length, 6).filter((t) => t >= 1), ticks(lo, hi, 5), xScale, yScale, xTitle, yTitle);
  const palette = [c.accent, c.warm, c.muted];
  series.forEach((s, k) => {
    ctx.strokeStyle = palette[k % palette.length];
    ctx.lineWidth = 1.5;
    ctx.setLineDash(s.dashed ? [5, 3] : []);
    ctx.beginPath();
    let started = false;
    Array.from(s.values).forEach((v, i) => {
      if (!Number.isFinite(v)) { started = false; return; }
      if (started) ctx.lineTo(xScale(i + 1), yScale(v));
      else ctx.moveTo(xScale(i + 1), yScale(v));
      started = true;
    });
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = palette[k % palette.length];
    ctx.font = '12px system-ui, sans-serif';
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    ctx.fillRect(box.left + 8 + k * 150, 8, 14, 3);
    ctx.fillStyle = c.fg;
    ctx.fillText(s.label, box.left + 26 + k * 150, 10);
  });
  ctx.lineWidth = 1;
  if (marker !== null && Number.isFinite(marker)) {
    const x = Math.round(xScale(marker)) + 0.5;
    ctx.strokeStyle = c.fg;
    ctx.setLineDash([2, 3]);
    ctx.beginPath();
    ctx.moveTo(x, box.top);
    ctx.lineTo(x, box.bottom);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = c.fg;
    ctx.textAlign = x > (box.left + box.right) / 2 ? 'right' : 'left';
    ctx.fillText(markerLabel, x + (ctx.textAlign === 'right' ? -4 : 4), box.top + 8);
  }
}
