// The pairwise-rating task: two images side by side, "How similar are they?" on a 1–7 scale
// (1 = very different, 7 = very similar), with the keys 1–7 or the buttons; a progress bar and
// an estimate of the time left (the median time of the last ratings × the ratings left).

const LABELS = { 1: 'very different', 4: 'in between', 7: 'very similar' };

function clock(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 10) return 'a few seconds';
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  if (!v.length) return NaN;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

/**
 * Mounts the task. Options: schedule ([{ a, b, repeat }] by name), urls (name → thumbnail URL),
 * given (ratings so far, in schedule order: [{ rating, ms }]), onRate(k, rating, ms) after each
 * rating (the caller saves it; a rejected promise is shown), onUndo() (drops the last one),
 * onFinish(). Returns { destroy(), rate(value) }.
 */
export function ratingTask(container, { schedule, urls, given, onRate, onUndo, onFinish, announce = () => {} }) {
  const durations = given.map((g) => g.ms).filter((ms) => Number.isFinite(ms));
  let k = given.length;
  let shownAt = performance.now();
  let busy = false;

  const root = document.createElement('div');
  root.className = 'rating-task';
  root.innerHTML = `
    <div class="rating-progress">
      <progress max="1" value="0" aria-label="Ratings done"></progress>
      <span class="rating-text numbers" aria-live="polite"></span>
    </div>
    <p class="rating-question" id="rating-question">How similar are these two images?</p>
    <div class="rating-pair">
      <figure><img alt=""><figcaption></figcaption></figure>
      <figure><img alt=""><figcaption></figcaption></figure>
    </div>
    <div class="rating-scale" role="group" aria-labelledby="rating-question"></div>
    <div class="rating-ends" aria-hidden="true"><span>1 = very different</span><span>7 = very similar</span></div>
    <div class="row rating-foot">
      <button type="button" class="secondary rating-undo">Back: change the last rating</button>
      <span class="hint">Keys 1–7 rate; Backspace goes back.</span>
    </div>`;
  const scale = root.querySelector('.rating-scale');
  for (let v = 1; v <= 7; v++) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'rating-value';
    b.dataset.value = String(v);
    b.innerHTML = `<span class="rating-number">${v}</span>${LABELS[v] ? `<span class="rating-label">${LABELS[v]}</span>` : ''}`;
    b.setAttribute('aria-label', `${v}${LABELS[v] ? `, ${LABELS[v]}` : ''}`);
    b.setAttribute('aria-keyshortcuts', String(v));
    b.addEventListener('click', () => rate(v));
    scale.append(b);
  }
  const bar = root.querySelector('progress');
  const text = root.querySelector('.rating-text');
  const imgs = root.querySelectorAll('.rating-pair img');
  const caps = root.querySelectorAll('.rating-pair figcaption');
  const undo = root.querySelector('.rating-undo');
  container.append(root);

  function show() {
    const total = schedule.length;
    bar.max = total;
    bar.value = k;
    if (k >= total) {
      text.textContent = `All ${total} ratings done.`;
      onFinish();
      return;
    }
    const pair = schedule[k];
    for (const [n, name] of [[0, pair.a], [1, pair.b]]) {
      imgs[n].src = urls(name) || '';
      imgs[n].alt = name;
      caps[n].textContent = name;
    }
    const recent = durations.slice(-15);
    const left = total - k;
    const estimate = recent.length >= 3 ? ` · about ${clock(median(recent) * left)} left` : '';
    text.textContent = `Pair ${k + 1} of ${total}${estimate}`;
    root.dataset.pair = String(k);
    undo.disabled = k === 0;
    shownAt = performance.now();
  }

  async function rate(value) {
    if (busy || k >= schedule.length) return;
    busy = true;
    const ms = performance.now() - shownAt;
    const button = scale.querySelector(`[data-value="${value}"]`);
    for (const b of scale.querySelectorAll('[data-chosen]')) delete b.dataset.chosen;
    button.dataset.chosen = 'true';
    try {
      await onRate(k, value, ms);
      durations.push(ms);
      k++;
      announce(`Rated ${value}.`);
    } catch (err) {
      announce(`Not saved: ${err.message}`);
      text.textContent = `Not saved: ${err.message}`;
    } finally {
      setTimeout(() => { delete button.dataset.chosen; }, 120);
      busy = false;
    }
    show();
  }

  async function back() {
    if (busy || k === 0) return;
    busy = true;
    try {
      await onUndo();
      k--;
      durations.pop();
      announce('Back to the previous pair.');
    } finally {
      busy = false;
    }
    show();
  }
  undo.addEventListener('click', back);

  function onKey(e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (/^[1-7]$/.test(e.key)) {
      e.preventDefault();
      rate(Number(e.key));
    } else if (e.key === 'Backspace') {
      e.preventDefault();
      back();
    }
  }
  document.addEventListener('keydown', onKey);
  show();
  scale.querySelector('[data-value="4"]').focus({ preventScroll: true });

  return {
    rate,
    destroy() {
      document.removeEventListener('keydown', onKey);
      root.remove();
    },
  };
}
