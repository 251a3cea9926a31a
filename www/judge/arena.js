// The arrangement task: thumbnails around a circular arena; the participant drags them in so
// that similar images lie close together (Kriegeskorte & Mur 2012, single arrangement; further
// trials show subsets). Positions are kept in arena units: centre (0, 0), diameter 1, so an
// image is in the arena when its centre is within 0.5 of the centre. Pointer (mouse, pen,
// touch) and keyboard: Tab to an image, the arrow keys move it (Shift: five times faster),
// Delete takes it out again.

const KEY_STEP = 0.01;

/**
 * Free places for `count` thumbnails of side `t` on a `w × h` stage around a circle of diameter
 * `d` centred at (cx, cy): the cells of a grid that do not touch the circle. Null when too few.
 */
function slotsAround(g, t, count) {
  const { w, h, cx, cy, d } = g;
  const step = t + 4;
  const cols = Math.floor(w / step);
  const rows = Math.floor(h / step);
  const padX = (w - cols * step) / 2;
  const padY = (h - rows * step) / 2;
  const r = d / 2 + 3;
  const out = [];
  for (let gy = 0; gy < rows; gy++) {
    for (let gx = 0; gx < cols; gx++) {
      const x0 = padX + gx * step;
      const y0 = padY + gy * step;
      // Nearest point of the cell to the centre: outside the circle means a free cell.
      const nx = Math.max(x0, Math.min(cx, x0 + step));
      const ny = Math.max(y0, Math.min(cy, y0 + step));
      if (Math.hypot(nx - cx, ny - cy) > r) {
        const x = x0 + step / 2;
        const y = y0 + step / 2;
        out.push({ x, y, angle: (Math.atan2(x - cx, -(y - cy)) + 2 * Math.PI) % (2 * Math.PI), dist: Math.hypot(x - cx, y - cy) });
      }
    }
  }
  // Clockwise from the top, the inner ring first.
  out.sort((a, b) => Math.round(a.dist / step) - Math.round(b.dist / step) || a.angle - b.angle);
  return out.length >= count ? out : null;
}

/**
 * Mounts the task in `container`. Options: names (the images of this trial), urls (name →
 * thumbnail URL), positions (same order; [x, y] in arena units or null), onChange(positions)
 * after every move (the caller saves it), onDone(), announce(text).
 * Returns { destroy(), layout(), positions(), geometry() }.
 */
export function arrangementTask(container, { names, urls, positions, onChange, onDone, announce = () => {} }) {
  const pos = names.map((_, i) => (positions && positions[i] ? [...positions[i]] : null));
  const root = document.createElement('div');
  root.className = 'arena-task';
  const help = document.createElement('p');
  help.className = 'hint arena-help';
  help.id = `arena-help-${Math.random().toString(36).slice(2)}`;
  help.textContent = 'Drag each image into the circle so that similar images lie close together and different images far apart; ' +
    'use the whole circle. Keyboard: Tab to an image, then the arrow keys move it (hold Shift to move faster); Delete takes it out again.';
  const stage = document.createElement('div');
  stage.className = 'arena-stage';
  stage.setAttribute('role', 'group');
  stage.setAttribute('aria-label', 'Arrangement arena');
  stage.setAttribute('aria-describedby', help.id);
  const circle = document.createElement('div');
  circle.className = 'arena-circle';
  circle.setAttribute('aria-hidden', 'true');
  stage.append(circle);
  const foot = document.createElement('div');
  foot.className = 'row arena-foot';
  const count = document.createElement('span');
  count.className = 'arena-count numbers';
  count.setAttribute('aria-live', 'polite');
  const done = document.createElement('button');
  done.type = 'button';
  done.className = 'arena-done';
  done.textContent = 'Done: save this arrangement';
  foot.append(count, done);
  root.append(help, stage, foot);
  container.append(root);

  let geo = null; // { w, h, cx, cy, d, t, slots }
  let z = 1;
  const items = names.map((name, i) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'arena-item';
    b.dataset.name = name;
    b.dataset.index = String(i);
    b.title = name;
    const img = document.createElement('img');
    img.src = urls(name) || '';
    img.alt = '';
    img.draggable = false;
    b.append(img);
    stage.append(b);
    return b;
  });

  function inside(p) {
    return p && Math.hypot(p[0], p[1]) <= 0.5 + 1e-12;
  }

  function place(i) {
    const b = items[i];
    const p = pos[i];
    let x;
    let y;
    if (p) {
      x = geo.cx + p[0] * geo.d;
      y = geo.cy + p[1] * geo.d;
    } else {
      ({ x, y } = geo.slots[i]);
    }
    b.style.left = `${x - geo.t / 2}px`;
    b.style.top = `${y - geo.t / 2}px`;
    b.dataset.placed = p ? 'true' : 'false';
    b.setAttribute('aria-label', p ? `${names[i]}, in the arena` : `${names[i]}, not placed yet: drag it or use the arrow keys to move it into the circle`);
  }

  function refreshCount() {
    const placed = pos.filter(inside).length;
    count.textContent = `${placed} of ${names.length} images in the arena`;
    done.disabled = placed !== names.length;
    done.title = done.disabled ? 'Place every image in the circle first' : '';
  }

  // Landscape: a square stage, the images waiting in the ring and corners around the circle.
  // Portrait (phones): the circle as wide as the screen, the images waiting below it (and in its
  // corners), so thumbnails stay large enough to see and to grab.
  function geometry(t) {
    const width = Math.max(240, container.clientWidth || 600);
    const height = Math.max(240, window.innerHeight - 210);
    if (height > width * 1.15) {
      const w = Math.floor(Math.min(width, 720));
      const d = w - 2 * 6;
      const base = { w, cx: w / 2, cy: d / 2 + 6, d };
      for (let h = d + 12; h <= d + 12 + 8 * (t + 4); h += t + 4) {
        const slots = slotsAround({ ...base, h }, t, names.length);
        if (slots) return { ...base, h, t, slots };
      }
      return null;
    }
    const s = Math.floor(Math.min(width, height, 960));
    const d = s - 2 * (t + 8);
    const g = { w: s, h: s, cx: s / 2, cy: s / 2, d };
    const slots = slotsAround(g, t, names.length);
    return slots ? { ...g, t, slots } : null;
  }

  function layout() {
    const width = Math.max(240, container.clientWidth || 600);
    let t = Math.round(Math.min(96, Math.max(40, Math.min(width, window.innerHeight) / 9)));
    let g = null;
    for (; t >= 20 && !g; t -= 2) g = geometry(t);
    if (!g) {
      // More images than fit around: the rest wait in rows along the bottom edge.
      t = 20;
      const s = Math.floor(Math.min(width, Math.max(240, window.innerHeight - 210), 960));
      const d = s - 2 * (t + 8);
      const rows = Math.ceil(names.length / Math.floor(s / (t + 4)));
      g = { w: s, h: s + rows * (t + 4), cx: s / 2, cy: s / 2, d, t, slots: [] };
      while (g.slots.length < names.length) {
        const k = g.slots.length;
        const per = Math.floor(s / (t + 4));
        g.slots.push({ x: (t + 4) * (k % per) + t / 2 + 2, y: s + (t + 4) * Math.floor(k / per) + t / 2 + 2 });
      }
    }
    geo = g;
    stage.style.width = `${g.w}px`;
    stage.style.height = `${g.h}px`;
    stage.style.setProperty('--thumb', `${g.t}px`);
    circle.style.width = `${g.d}px`;
    circle.style.height = `${g.d}px`;
    circle.style.left = `${g.cx - g.d / 2}px`;
    circle.style.top = `${g.cy - g.d / 2}px`;
    items.forEach((_, i) => place(i));
    refreshCount();
  }

  function commit(i, p, how) {
    const wasInside = inside(pos[i]);
    pos[i] = p;
    place(i);
    refreshCount();
    if (inside(p) !== wasInside) {
      announce(`${names[i]} ${inside(p) ? 'placed in the arena' : 'taken out'}; ${pos.filter(inside).length} of ${names.length} placed.`);
    }
    onChange(pos.map((q) => (q ? [q[0], q[1]] : null)), { index: i, how });
  }

  // Pointer: the grab offset is kept, so an image does not jump under the finger.
  let drag = null;
  function arenaPoint(clientX, clientY) {
    const rect = stage.getBoundingClientRect();
    return [(clientX - rect.left - geo.cx) / geo.d, (clientY - rect.top - geo.cy) / geo.d];
  }
  function onDown(e) {
    const b = e.target.closest('.arena-item');
    if (!b || (e.pointerType === 'mouse' && e.button !== 0)) return;
    e.preventDefault();
    const i = Number(b.dataset.index);
    const rect = b.getBoundingClientRect();
    drag = { i, id: e.pointerId, dx: e.clientX - (rect.left + rect.width / 2), dy: e.clientY - (rect.top + rect.height / 2), moved: false };
    b.setPointerCapture?.(e.pointerId);
    b.style.zIndex = String(++z);
    b.dataset.dragging = 'true';
    b.focus({ preventScroll: true });
  }
  function onMove(e) {
    if (!drag || e.pointerId !== drag.id) return;
    e.preventDefault();
    drag.moved = true;
    const rect = stage.getBoundingClientRect();
    const half = geo.t / 2;
    const x = Math.max(half, Math.min(geo.w - half, e.clientX - drag.dx - rect.left));
    const y = Math.max(half, Math.min(geo.h - half, e.clientY - drag.dy - rect.top));
    const b = items[drag.i];
    b.style.left = `${x - half}px`;
    b.style.top = `${y - half}px`;
  }
  function onUp(e) {
    if (!drag || e.pointerId !== drag.id) return;
    const { i, dx, dy, moved } = drag;
    drag = null;
    delete items[i].dataset.dragging;
    if (!moved || e.type === 'pointercancel') {
      place(i);
      return;
    }
    const [x, y] = arenaPoint(e.clientX - dx, e.clientY - dy);
    const r = Math.hypot(x, y);
    const reach = 0.5 + geo.t / 2 / geo.d;
    // Overlapping the circle counts as in (pulled to its edge); further out takes it out.
    let p = null;
    if (r <= 0.5) p = [x, y];
    else if (r <= reach) p = [(x / r) * 0.5, (y / r) * 0.5];
    commit(i, p, 'pointer');
  }
  function onKey(e) {
    const b = e.target.closest('.arena-item');
    if (!b) return;
    const i = Number(b.dataset.index);
    const arrows = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (e.key in arrows) {
      e.preventDefault();
      const [ux, uy] = arrows[e.key];
      const step = KEY_STEP * (e.shiftKey ? 5 : 1);
      let p;
      if (!pos[i]) {
        // Into the circle first, at the edge nearest to where it waits.
        const { x, y } = geo.slots[i];
        const vx = x - geo.cx;
        const vy = y - geo.cy;
        const len = Math.hypot(vx, vy) || 1;
        p = [(vx / len) * 0.45, (vy / len) * 0.45];
      } else {
        p = [pos[i][0] + ux * step, pos[i][1] + uy * step];
        const r = Math.hypot(p[0], p[1]);
        if (r > 0.5) p = [(p[0] / r) * 0.5, (p[1] / r) * 0.5];
      }
      b.style.zIndex = String(++z);
      commit(i, p, 'keyboard');
    } else if ((e.key === 'Delete' || e.key === 'Backspace') && pos[i]) {
      e.preventDefault();
      commit(i, null, 'keyboard');
    }
  }
  stage.addEventListener('pointerdown', onDown);
  stage.addEventListener('pointermove', onMove);
  stage.addEventListener('pointerup', onUp);
  stage.addEventListener('pointercancel', onUp);
  stage.addEventListener('keydown', onKey);
  done.addEventListener('click', () => onDone(pos.map((q) => (q ? [q[0], q[1]] : null))));

  // Re-layout when the width available changes (rotation, a resized window); deferred a frame so
  // the observer never sees its own change.
  let lastWidth = container.clientWidth;
  const observer = typeof ResizeObserver !== 'undefined'
    ? new ResizeObserver(() => {
      if (container.clientWidth === lastWidth) return;
      lastWidth = container.clientWidth;
      requestAnimationFrame(() => geo && layout());
    })
    : null;
  observer?.observe(container);
  layout();

  return {
    layout,
    positions: () => pos.map((q) => (q ? [q[0], q[1]] : null)),
    geometry: () => {
      const rect = stage.getBoundingClientRect();
      // The circle's centre in client pixels, its diameter, the stage's size, the thumbnails'.
      return { centreX: rect.left + geo.cx, centreY: rect.top + geo.cy, width: geo.w, height: geo.h, diameter: geo.d, thumb: geo.t };
    },
    destroy() {
      observer?.disconnect();
      root.remove();
    },
  };
}
