"""Self-checks of the reference (run: python3 verify_reference.py; needs the goldens made).

1. conv3x3 against scipy.signal.correlate;  2. adaptive average pooling against
the floor/ceil definition on non-multiple sizes;  3. floor-mode max-pool;
4. an explicit numpy re-implementation of PIL's 8-bit BILINEAR resize (the spec the
Rust side has to follow) against PIL on every test image and some extra sizes;
5. the naive AIS goldens against the rank-49 identity of docs/METHOD.md;
6. the 16-bit PNG reader against PIL's own (high-byte) decoding;  7. the generator
against pure-Python big-int arithmetic.
"""
import math
import os

import numpy as np
from PIL import Image
from scipy.signal import correlate

import reference as ref
import synthetic as syn

HERE = os.path.dirname(os.path.abspath(__file__))
IMG = os.path.join(HERE, "images")


def check_conv():
    rng = np.random.default_rng(0)
    for (c, h, w, o) in [(5, 9, 11, 4), (3, 1, 1, 2), (2, 2, 7, 3)]:
        x = rng.standard_normal((c, h, w))
        k = rng.standard_normal((o, c, 3, 3))
        b = rng.standard_normal(o)
        y = ref.conv3x3(x, k, b)
        want = np.stack([sum(correlate(np.pad(x[ci], 1), k[oi, ci], mode="valid") for ci in range(c)) + b[oi]
                         for oi in range(o)])
        assert np.abs(y - want).max() < 1e-12, (c, h, w)
    print("conv3x3 == scipy.signal.correlate: ok")


def check_pools():
    rng = np.random.default_rng(1)
    for (h, w) in [(9, 13), (18, 14), (7, 7), (3, 5), (14, 9)]:
        a = rng.standard_normal((2, h, w))
        p = ref.adaptive_avgpool(a, (7, 7))
        want = np.zeros_like(p)
        for i in range(7):
            for j in range(7):
                y0, y1 = math.floor(i * h / 7), math.ceil((i + 1) * h / 7)
                x0, x1 = math.floor(j * w / 7), math.ceil((j + 1) * w / 7)
                want[:, i, j] = a[:, y0:y1, x0:x1].mean(axis=(1, 2))
        assert np.abs(p - want).max() < 1e-15
    a = rng.standard_normal((2, 5, 7))
    m = ref.maxpool2(a)
    assert m.shape == (2, 2, 3) and m[1, 1, 2] == a[1, 2:4, 4:6].max()
    print("adaptive avg pool (9x13, 18x14, 3x5, 14x9 -> 7x7) and floor max-pool: ok")


# ---------------------------------------------------------------- PIL BILINEAR, explicitly
PRECISION_BITS = 32 - 8 - 2


def pil_coeffs(in_size, out_size):
    """Pillow's precompute_coeffs + normalize_coeffs_8bpc for the triangle filter (support 1)."""
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = 1.0 * filterscale
    rows = []
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)          # C cast: truncation
        xmax = min(int(center + support + 0.5), in_size) - xmin
        ws = []
        for x in range(xmax):
            t = abs((x + xmin - center + 0.5) / filterscale)
            ws.append(1.0 - t if t < 1.0 else 0.0)
        ww = sum(ws)                                          # sequential float64 sum
        ws = [w / ww for w in ws] if ww != 0.0 else ws
        ks = [int(-0.5 + w * (1 << PRECISION_BITS)) if w < 0 else int(0.5 + w * (1 << PRECISION_BITS)) for w in ws]
        rows.append((xmin, ks))
    return rows


def pil_pass(a, coeffs, axis):
    """One 8-bit pass along axis (0 = rows/vertical, 1 = columns/horizontal) of a [H,W,C] uint8."""
    a = np.moveaxis(a.astype(np.int64), axis, 0)
    out = np.empty((len(coeffs),) + a.shape[1:], dtype=np.int64)
    for i, (xmin, ks) in enumerate(coeffs):
        ss = np.full(a.shape[1:], 1 << (PRECISION_BITS - 1), dtype=np.int64)
        for x, k in enumerate(ks):
            ss += a[xmin + x] * k
        out[i] = np.clip(ss >> PRECISION_BITS, 0, 255)      # clip8 (arithmetic shift; <=0 -> 0)
    return np.moveaxis(out, 0, axis).astype(np.uint8)


def pil_bilinear(rgb8, new_w, new_h, order="pillow13"):
    """PIL's Image.resize(BILINEAR) on 8-bit data: two separable passes, the first one's
    result rounded and clipped to uint8.

    order="h": horizontal pass first (Pillow's classic Resample.c, e.g. the authors' era).
    order="pillow13": the installed Pillow 13 runs the vertical pass first exactly when
    new_h < h and 2*(w - new_w) < (h - new_h) (found empirically: 1,900+ random size pairs,
    no exception); otherwise horizontal first.
    """
    h, w, _ = rgb8.shape
    vfirst = order == "pillow13" and new_w != w and new_h < h and 2 * (w - new_w) < (h - new_h)
    out = rgb8
    if vfirst:
        out = pil_pass(out, pil_coeffs(h, new_h), 0)
        return pil_pass(out, pil_coeffs(w, new_w), 1)
    if new_w != w:
        out = pil_pass(out, pil_coeffs(w, new_w), 1)        # horizontal first, rounded to uint8
    if new_h != h:
        out = pil_pass(out, pil_coeffs(h, new_h), 0)
    return out


def check_resize():
    files = ["rgba_300.png", "gray_200x260.png", "rgb16_240x320.png", "photo_exif6.jpg", "square_224.png"]
    for f in files:
        img = ref.load_rgb(os.path.join(IMG, f))
        got = np.asarray(ref.resize_shorter(img))
        src = np.asarray(img)
        # the goldens' sizes are ones where both pass orders agree with PIL
        assert np.array_equal(pil_bilinear(src, got.shape[1], got.shape[0], "h"), got), f
        assert np.array_equal(pil_bilinear(src, got.shape[1], got.shape[0]), got), f
        for (nw, nh) in [(111, 97), (500, 413), (224, 224), (300, 100), (150, 100)]:
            assert np.array_equal(pil_bilinear(src, nw, nh), np.asarray(img.resize((nw, nh), Image.BILINEAR))), (f, nw, nh)
        stem = f.rsplit(".", 1)[0]
        assert np.array_equal(np.load(os.path.join(HERE, f"resized_{stem}.npy")), got)
        pre = np.load(os.path.join(HERE, "preprocess.npz"))[f"preprocess_{stem}"]
        assert np.array_equal(pre, ref.normalise(got))
        x64 = (got.transpose(2, 0, 1) / 255.0 - np.array(ref.MEAN)[:, None, None]) / np.array(ref.STD)[:, None, None]
        assert np.abs(pre - x64).max() < 1e-6
    print("numpy PIL-bilinear == PIL on all test images (+5 extra sizes each); goldens match: ok")


def check_ais():
    tiny = syn.vgg16_weights(syn.TINY, 7)
    n = 8
    H = np.load(os.path.join(HERE, "ais_H.npy"))
    A = [ref.trunk(tiny, ref.normalise(syn.synthetic_image(224, 224, 100 + k))) for k in range(n)]
    W6, b6 = tiny["classifier.0.weight"].astype(np.float64), tiny["classifier.0.bias"].astype(np.float64)
    W7, b7 = tiny["classifier.3.weight"].astype(np.float64), tiny["classifier.3.bias"].astype(np.float64)
    P = [ref.pooled(a).reshape(-1) for a in A]
    pre6 = [W6 @ p + b6 for p in P]
    E = np.stack([ref.relu(W7 @ ref.relu(q) + b7) for q in pre6])
    C = A[0].shape[0]

    def emb_without(t, k):
        q = pre6[t] - W6[:, k * 49:(k + 1) * 49] @ P[t][k * 49:(k + 1) * 49]
        return ref.relu(W7 @ ref.relu(q) + b7)

    def row(t, e):
        o = [j for j in range(n) if j != t]
        return ref.pearson([ref.pearson(e, E[j]) for j in o], H[t, o])

    ais_img = np.array([[row(t, E[t]) - row(t, emb_without(t, k)) for k in range(C)] for t in range(n)])
    r = ref.pearson(ref.upper(np.corrcoef(E)), ref.upper(H))
    rk = np.array([ref.pearson(ref.upper(np.corrcoef(np.stack([emb_without(t, k) for t in range(n)]))), ref.upper(H))
                   for k in range(C)])
    g_img = np.load(os.path.join(HERE, "ais_image.npy"))
    g_r2 = np.load(os.path.join(HERE, "ais_dataset.npy"))
    g_r = np.load(os.path.join(HERE, "ais_dataset_r.npy"))
    assert np.abs(ais_img - g_img).max() < 1e-12
    assert np.abs((r * r - rk * rk) - g_r2).max() < 1e-12
    assert np.abs((r - rk) - g_r).max() < 1e-12
    assert np.abs(E - np.load(os.path.join(HERE, "ais_embeddings.npy"))).max() < 1e-5
    print(f"AIS: naive goldens == rank-49 identity (max diff {np.abs(ais_img - g_img).max():.1e}): ok")


def check_png16():
    path = os.path.join(IMG, "rgb16_240x320.png")
    v = ref.read_png_rgb16(path)
    pil = np.asarray(Image.open(path))                      # PIL keeps only the high byte
    assert np.array_equal(pil, (v >> 8).astype(np.uint8))
    v8 = ref.rgb16_to_rgb8(v)
    assert np.array_equal(v8, np.round(v / 257.0).astype(np.uint8))
    print(f"16-bit PNG reader == PIL high byte; round(v/257) differs from v>>8 on {np.mean(v8 != (v >> 8)):.0%} of samples: ok")


if __name__ == "__main__":
    assert syn._scalar_check()
    print("splitmix64 stream == big-int arithmetic: ok")
    check_conv()
    check_pools()
    check_png16()
    check_resize()
    check_ais()
