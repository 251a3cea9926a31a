"""An independent NumPy reference for src/judgments (docs/judgments.md).

    python3 judgments.py                    # writes cases.json and expected.json next to this file
    python3 judgments.py --trials FILE [--include A,B]   # the page's raw trials → the result (JSON)

From participants' trials (the page's raw-trials JSON: {"images": [...], "participants":
[{"id", "trials": [...]}]}) it computes what src/judgments/group.rs does, written the NumPy way:

- arrangement: distances in arena units; several finished trials combined as Kriegeskorte &
  Mur (2012): weights d^2, plain-mean start scaled to unit root sum of squares, then iterate
  (scale each trial to the estimate's RSS over its pairs, evidence-weighted nanmean, unit RSS)
  until the summed squared change < 1e-8; back to arena units (RMS of all on-screen distances);
- ratings: mean rating per pair (repeats included);
- orientation: all ratings -> similarity (diagonal 7); all arrangements -> dissimilarity; both ->
  dissimilarity with ratings as (7 - r) / 6;
- mean over the complete participants;
- split-half: halves of floor(P/2) and ceil(P/2); every split when there are at most 1000
  (itertools.combinations; for even P the first participant always in the first half), else
  1000 splits s = 0..999 taking the first floor(P/2) of RandomState(s).permutation(P); Pearson r
  of the halves' mean upper triangles, averaged; Spearman-Brown 2r/(1+r);
- agreement: Pearson r with the mean, and with the mean of the others.
"""
import argparse
import itertools
import json
import math
import os

import numpy as np

MAX_SPLITS = 1000


def upper_index(n):
    return np.triu_indices(n, 1)


def distances(pos):
    pos = np.asarray(pos, dtype=np.float64)
    diff = pos[:, None, :] - pos[None, :, :]
    d = np.sqrt((diff ** 2).sum(-1))
    return d[upper_index(len(pos))]


def combine(trials, n):
    """trials: list of (indices, positions). Returns the upper triangle (NaN where missing)."""
    m = n * (n - 1) // 2
    iu = upper_index(n)
    rows = []
    for idx, pos in trials:
        full = np.full((n, n), np.nan)
        d = np.zeros((len(idx), len(idx)))
        d[upper_index(len(idx))] = distances(pos)
        d = d + d.T
        full[np.ix_(idx, idx)] = d
        rows.append(full[iu])
    d = np.array(rows)
    if len(trials) == 1:
        return d[0]
    w = d ** 2

    def unit(v):
        return v / np.sqrt(np.nansum(v ** 2))

    def nanmean_w(values, weights):
        defined = ~np.isnan(values)
        wsum = np.where(defined, weights, 0).sum(0)
        num = np.where(defined, values * weights, 0).sum(0)
        count = defined.sum(0)
        plain = np.where(defined, values, 0).sum(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(wsum > 0, num / wsum, plain / count)
        out[count == 0] = np.nan
        return out

    est = unit(nanmean_w(d, np.ones_like(d)))
    norms = np.sqrt(np.nansum(d ** 2, axis=1))
    for _ in range(1000):
        target = np.sqrt(np.nansum(np.where(np.isnan(d), np.nan, est[None, :]) ** 2, axis=1))
        aligned = d / norms[:, None] * target[:, None]
        nxt = unit(nanmean_w(aligned, w))
        change = np.nansum((nxt - est) ** 2)
        est = nxt
        if change < 1e-8:
            break
    target_rms = np.sqrt(np.nanmean(d ** 2))
    rms = np.sqrt(np.nanmean(est ** 2))
    return est * (target_rms / rms)


def participant_upper(p, images):
    n = len(images)
    at = {name: i for i, name in enumerate(images)}
    kinds = {t["kind"] for t in p["trials"]}
    assert len(kinds) == 1, p["id"]
    kind = kinds.pop()
    if kind == "arrangement":
        done = [([at[x] for x in t["images"]], t["positions"]) for t in p["trials"] if t.get("done")]
        if not done:
            return kind, np.full(n * (n - 1) // 2, np.nan)
        return kind, combine(done, n)
    total = np.zeros((n, n))
    count = np.zeros((n, n))
    for t in p["trials"]:
        i, j = at[t["a"]], at[t["b"]]
        for a, b in ((i, j), (j, i)):
            total[a, b] += t["rating"]
            count[a, b] += 1
    with np.errstate(invalid="ignore"):
        mean = total / count
    return kind, mean[upper_index(n)]


def pearson(a, b):
    return float(np.corrcoef(a, b)[0, 1])


def splits(p):
    h = p // 2
    if p % 2 == 0:
        combos = [(0,) + c for c in itertools.combinations(range(1, p), h - 1)]
    else:
        combos = list(itertools.combinations(range(p), h))
    if len(combos) <= MAX_SPLITS:
        return combos, "all"
    return [tuple(np.random.RandomState(s).permutation(p)[:h]) for s in range(MAX_SPLITS)], "random"


def summarize(data, include=None):
    images = data["images"]
    n = len(images)
    own = [participant_upper(p, images) for p in data["participants"]]
    complete = [bool(np.all(np.isfinite(u))) for _, u in own]
    ids = [p["id"] for p in data["participants"]]
    chosen = [k for k in range(len(ids)) if (ids[k] in include if include else complete[k])]
    kinds = {own[k][0] for k in chosen}
    if kinds == {"rating"}:
        orientation, diagonal = "similarity", 7.0
        conv = [u for _, u in own]
    else:
        orientation, diagonal = "dissimilarity", 0.0
        conv = [(7.0 - u) / 6.0 if kind == "rating" else u for kind, u in own]
    rows = np.array([conv[k] for k in chosen])
    mean = rows.mean(0)
    matrix = np.full((n, n), diagonal)
    iu = upper_index(n)
    matrix[iu] = mean
    matrix.T[iu] = mean
    out = {
        "images": images,
        "included": [ids[k] for k in chosen],
        "orientation": orientation,
        "matrix": matrix.reshape(-1).tolist(),
        "agreement": {},
        "agreement_others": {},
    }
    for pos, k in enumerate(chosen):
        out["agreement"][ids[k]] = pearson(conv[k], mean)
        others = np.delete(rows, pos, axis=0)
        out["agreement_others"][ids[k]] = pearson(conv[k], others.mean(0)) if len(others) else None
    p = len(chosen)
    if p >= 2:
        combos, method = splits(p)
        rs = []
        for first in combos:
            a = rows[list(first)].mean(0)
            b = rows[[i for i in range(p) if i not in first]].mean(0)
            r = pearson(a, b)
            if math.isfinite(r):
                rs.append(r)
        r = float(np.mean(rs))
        out["reliability"] = {"method": method, "splits": len(combos), "r": r, "spearman_brown": 2 * r / (1 + r)}
    else:
        out["reliability"] = None
    return out


def make_cases():
    """Synthetic trials: deterministic, no real data."""
    rng = np.random.RandomState(2024)
    images = [f"img{i:02d}.png" for i in range(7)]
    n = len(images)
    truth = rng.uniform(-0.35, 0.35, size=(n, 2))

    def rater(pid, noise):
        trials = []
        order = [(i, j) for i in range(n) for j in range(i + 1, n)]
        for k in rng.permutation(len(order)):
            i, j = order[k]
            d = np.linalg.norm(truth[i] - truth[j])
            r = int(np.clip(np.round(7 - 6 * d / 0.9 + rng.normal(0, noise)), 1, 7))
            trials.append({"kind": "rating", "trial": len(trials) + 1, "a": images[j], "b": images[i], "rating": r})
        for k in range(3):
            t = dict(trials[k])
            t["rating"] = int(np.clip(t["rating"] + rng.randint(-1, 2), 1, 7))
            t["repeat"] = True
            t["trial"] = len(trials) + 1
            trials.append(t)
        return {"id": pid, "trials": trials}

    def arranger(pid, subsets):
        trials = []
        for s, ids in enumerate(subsets):
            zoom = rng.uniform(0.8, 1.4)
            pos = truth[ids] * zoom + rng.normal(0, 0.03, size=(len(ids), 2))
            trials.append({"kind": "arrangement", "trial": s + 1, "images": [images[i] for i in ids],
                           "positions": pos.tolist(), "done": True})
        return {"id": pid, "trials": trials}

    ratings = {"images": images, "participants": [rater("R1", 0.5), rater("R2", 0.8), rater("R3", 1.2)]}
    arrangements = {"images": images, "participants": [
        arranger("A1", [list(range(n))]),
        arranger("A2", [list(range(n)), [0, 1, 2, 3], [2, 4, 5, 6]]),
        arranger("A3", [list(range(n)), [1, 3, 5]]),
    ]}
    mixed = {"images": images, "participants": [arrangements["participants"][1], ratings["participants"][0]]}
    many = {"images": images, "participants": [rater(f"M{k:02d}", 1.0) for k in range(14)]}
    return {"ratings": ratings, "arrangements": arrangements, "mixed": mixed, "many": many}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", help="the page's raw-trials JSON")
    parser.add_argument("--include", help="comma-separated participant codes (default: every complete one)")
    args = parser.parse_args()
    if args.trials:
        with open(args.trials) as f:
            data = json.load(f)
        include = args.include.split(",") if args.include else None
        print(json.dumps(summarize(data, include)))
        return
    here = os.path.dirname(os.path.abspath(__file__))
    cases = make_cases()
    with open(os.path.join(here, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")
    expected = {name: summarize(data) for name, data in cases.items()}
    with open(os.path.join(here, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
