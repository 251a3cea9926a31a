"""Independent numpy/scipy reference for alignmap's saliency metrics and relative risk.

Writes `metrics.json` next to this script: for a few real NUS images (fixations from
../shared/data/nus-fixations/fixations.json; the photos themselves are not needed) and two
saliency maps given by exact formulas, the expected AUC-Judd, NSS, CC and the relative-risk
counts. `tests/saliency_nus.rs` rebuilds the same maps in Rust and compares to 1e-6.

Maps (row-major, height x width, float32):
- `cone`: integers 1..255, 255 - (255 * r2) // (w^2 + h^2) with r2 = (2x + 1 - w)^2 + (2y + 1 - h)^2
  (many ties: exercises the tie rules of AUC-Judd and of the percentile masks);
- `chance`: alignmap's `baseline::chance(w, h, 7)`: splitmix64 from seed 7, (z >> 11) / 2^53 as f32.

Definitions (as in src/saliency/metrics.rs and risk.rs, written independently here):
fixation pixel = (floor(x + 0.5) - 1, floor(y + 0.5) - 1) of the 1-based NUS coordinates, outside
ones dropped, binary map; density = scipy.ndimage.gaussian_filter(map, sigma, mode='constant',
truncate=4) with sigma = max(w, h) / 30; AUC-Judd over the distinct fixated values; NSS with the
n - 1 standard deviation; CC = np.corrcoef; masks = map > np.percentile(map, 100 - p).

Run: python3 make_golden.py   (numpy, scipy; deterministic)
"""
import json
import pathlib

import numpy as np
from scipy import ndimage

HERE = pathlib.Path(__file__).resolve().parent
DATA = HERE.parents[2] / ".." / "shared" / "data" / "nus-fixations"
IMAGES = ["001.jpg", "024.jpg", "047.jpg", "078.jpg"]
M64 = (1 << 64) - 1


def cone(w, h):
    y, x = np.mgrid[0:h, 0:w].astype(np.int64)
    r2 = (2 * x + 1 - w) ** 2 + (2 * y + 1 - h) ** 2
    return (255 - (255 * r2) // (w * w + h * h)).astype(np.float32)


def chance(w, h, seed):
    out = np.empty(w * h, dtype=np.float32)
    state = seed
    for i in range(w * h):
        state = (state + 0x9E3779B97F4A7C15) & M64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        z ^= z >> 31
        out[i] = np.float32(np.float64(z >> 11) / 2.0**53)
    return out.reshape(h, w)


def fixation_map(v):
    w, h = v["width"], v["height"]
    f = np.zeros((h, w), bool)
    for subject in v["subjects"]:
        for x, y, *_ in subject:
            c, r = int(np.floor(x + 0.5)) - 1, int(np.floor(y + 0.5)) - 1
            if 0 <= c < w and 0 <= r < h:
                f[r, c] = True
    return f


def auc_judd(s, f):
    s = s.astype(np.float64).ravel()
    f = f.ravel()
    fixated, other = np.sort(s[f]), np.sort(s[~f])
    tp, fp = [0.0], [0.0]
    for t in np.unique(fixated)[::-1]:
        tp.append((fixated.size - np.searchsorted(fixated, t, "left")) / fixated.size)
        fp.append((other.size - np.searchsorted(other, t, "left")) / other.size)
    tp.append(1.0)
    fp.append(1.0)
    return float(np.trapezoid(tp, fp))


def nss(s, f):
    s = s.astype(np.float64)
    return float(((s - s.mean()) / s.std(ddof=1))[f].mean())


def cc(s, density):
    return float(np.corrcoef(s.astype(np.float64).ravel(), density.ravel())[0, 1])


def risk(sal, ais):
    out = []
    for p in (5, 10, 15):
        s = sal.astype(np.float64) > np.percentile(sal.astype(np.float64), 100 - p)
        c = ais.astype(np.float64) > np.percentile(ais.astype(np.float64), 100 - p)
        tp, fn, fp, tn = (int(v) for v in ((s & c).sum(), (s & ~c).sum(), (~s & c).sum(), (~s & ~c).sum()))
        rr = (tp / (tp + fn)) / (fp / (fp + tn)) if tp + fn and fp else None
        out.append({"percent": p, "tp": tp, "fn": fn, "fp": fp, "tn": tn, "rr": rr})
    return out


def main():
    images = json.load(open(DATA / "fixations.json"))["images"]
    result = {"chance_seed": 7, "images": []}
    for name in IMAGES:
        v = images[name]
        w, h = v["width"], v["height"]
        f = fixation_map(v)
        sigma = max(w, h) / 30
        density = ndimage.gaussian_filter(f.astype(np.float64), sigma, mode="constant", truncate=4.0)
        maps = {"cone": cone(w, h), "chance": chance(w, h, 7)}
        result["images"].append({
            "image": name, "width": w, "height": h, "fixated_pixels": int(f.sum()), "sigma": sigma,
            "density_sum": float(density.sum()),
            "metrics": {k: {"auc_judd": auc_judd(m, f), "nss": nss(m, f), "cc": cc(m, density)} for k, m in maps.items()},
            "risk_cone_vs_chance": risk(maps["cone"], maps["chance"]),
            "risk_chance_vs_cone": risk(maps["chance"], maps["cone"]),
        })
    (HERE / "metrics.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
