"""Golden values for alignmap's statistics and fold assignment (tests/stats_golden.rs).

Regenerate (deterministic, byte-identical reruns; < 5 s; numpy 2.x, scipy >= 1.11):

    cd tests/golden/stats && python3 make_stats_golden.py

Writes stats_golden.json next to this file:
- folds: NumPy's legacy `np.random.seed(s); idx = np.arange(n); np.random.shuffle(idx)`, split as
  the authors do (`idx.reshape(k, -1)`) or, when k does not divide n, as `np.array_split(idx, k)`.
- ttest_rel (three alternatives), pearsonr, ks_2samp (method='auto', two-sided), kstwo.sf,
  a Loftus-Masson standard error from the two-way ANOVA sums of squares, scipy.stats.entropy of
  a softmax, the authors' mean absolute deviation and np.mean / np.std (ddof 0).
Inputs are stored with the outputs. The largest KS samples are instead given by a Weyl sequence
that the test regenerates: x_i = offset + scale * (((i + 1) * alpha) % 1.0), i = 0..n-1.
"""
import json
import math
import os
import warnings

import numpy as np
import scipy
from scipy import special, stats

HERE = os.path.dirname(os.path.abspath(__file__))
PAPER_SEEDS = [111, 222, 333, 444, 555, 666, 777, 888]
MAX_AUTO_N = 10000  # scipy.stats.ks_2samp: 'auto' tries the exact p-value up to this size


def floats(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def short(a):
    """Rounded to 6 significant digits, to keep the JSON small; references use the rounded values."""
    return np.array([float(f"{v:.6g}") for v in np.asarray(a, dtype=np.float64).ravel()])


def folds_case(n, k, seed):
    np.random.seed(seed)
    idx = np.arange(n)
    np.random.shuffle(idx)
    chunks = idx.reshape(k, -1) if n % k == 0 else np.array_split(idx, k)
    return {"n": n, "k": k, "seed": seed, "folds": [[int(i) for i in c] for c in chunks]}


def folds_cases():
    cases = [folds_case(120, 5, s) for s in PAPER_SEEDS]
    cases += [folds_case(92, 5, s) for s in PAPER_SEEDS]
    cases += [folds_case(n, k, s) for n, k, s in
              [(10, 3, 0), (7, 7, 1), (2, 2, 5), (1000, 10, 4294967295), (300, 4, 123456789)]]
    return cases


def ttest_case(name, a, b):
    a, b = short(a), short(b)
    out = {"name": name, "a": floats(a), "b": floats(b)}
    for alt in ["two-sided", "greater", "less"]:
        r = stats.ttest_rel(a, b, alternative=alt)
        out["t"], out["df"] = float(r.statistic), float(r.df)
        out["p_" + alt.replace("-", "_")] = float(r.pvalue)
    d = np.asarray(a) - np.asarray(b)
    out["mean_difference"] = float(np.mean(d))
    # The authors' error bar (predict_hsj.analyze_cv_2, commented out): uncentered differences.
    out["uncentered_se"] = float(np.sqrt(np.sum(d ** 2) / (len(d) * (len(d) - 1))))
    return out


def ttest_cases(rng):
    full = rng.normal(0.40, 0.05, 40)
    cases = [ttest_case("cv_40_pairs", full + rng.normal(0.05, 0.03, 40), full)]
    cases.append(ttest_case("n5", rng.normal(0, 1, 5), rng.normal(0.3, 1, 5)))
    cases.append(ttest_case("n2", [1.0, 2.0], [0.5, 2.7]))
    x = rng.normal(0, 1, 30)
    cases.append(ttest_case("huge_effect", x + 3.0 + rng.normal(0, 0.2, 30), x))
    cases.append(ttest_case("negative_n1000", rng.normal(0, 1, 1000), rng.normal(0.08, 1, 1000)))
    return cases


def pearson_case(name, a, b):
    a, b = short(a), short(b)
    r = stats.pearsonr(a, b)
    return {"name": name, "a": floats(a), "b": floats(b), "r": float(r.statistic), "p": float(r.pvalue)}


def pearson_cases(rng):
    cases = []
    for name, n, rho in [("n120_weak", 120, 0.2), ("n512", 512, 0.3), ("n7140_tiny", 7140, 0.02),
                         ("n50_strong", 50, 0.95), ("n40_negative", 40, -0.6), ("n3", 3, 0.5)]:
        x = rng.normal(0, 1, n)
        y = rho * x + math.sqrt(1 - rho * rho) * rng.normal(0, 1, n)
        cases.append(pearson_case(name, x, y))
    cases.append(pearson_case("n2", [0.0, 1.0], [3.0, 2.0]))
    return cases


def weyl(spec):
    n, alpha, scale, offset = spec["n"], spec["alpha"], spec["scale"], spec["offset"]
    return np.array([offset + scale * (((i + 1) * alpha) % 1.0) for i in range(n)])


def ks_case(name, a=None, b=None, weyl_a=None, weyl_b=None):
    out = {"name": name}
    if weyl_a is not None:
        out["weyl_a"], out["weyl_b"] = weyl_a, weyl_b
        a, b = weyl(weyl_a), weyl(weyl_b)
    else:
        a, b = short(a), short(b)
        out["a"], out["b"] = floats(a), floats(b)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an exact attempt that falls back would warn
        r = stats.ks_2samp(a, b)
    out["statistic"], out["p"] = float(r.statistic), float(r.pvalue)
    out["method"] = "exact" if max(len(a), len(b)) <= MAX_AUTO_N else "asymptotic"
    return out


def ks_cases(rng):
    cases = [
        ks_case("equal_512", rng.normal(0, 1, 512), rng.normal(0.15, 1, 512)),
        ks_case("equal_120_mad_like", rng.gamma(2.0, 1e-4, 120), rng.gamma(2.4, 1e-4, 120)),
        ks_case("unequal_320_512", rng.normal(0, 1, 320), rng.normal(0.1, 1.1, 512)),
        ks_case("small_7_9", rng.uniform(0, 1, 7), rng.uniform(0.2, 1.2, 9)),
        ks_case("separated_7_9", np.arange(7.0), np.arange(10.0, 19.0)),
        ks_case("ties_100_80", rng.integers(0, 6, 100).astype(float), rng.integers(0, 7, 80).astype(float)),
        ks_case("identical_50", *(2 * [rng.normal(0, 1, 50)])),
        ks_case("equal_2000", rng.normal(0, 1, 2000), rng.normal(0.05, 1, 2000)),
    ]

    def w(n, alpha, offset=0.0):
        return {"n": n, "alpha": alpha, "scale": 1.0, "offset": offset}

    g1, g2 = (math.sqrt(5) - 1) / 2, math.sqrt(2) - 1
    for name, wa, wb in [
        ("exact_weyl_10000_3000", w(10000, g1), w(3000, g2, 0.02)),
        ("asymp_pelz_good", w(12000, g1), w(11000, g2, 0.012)),
        ("asymp_smirnov", w(12000, g1), w(11000, g2, 0.03)),
        ("asymp_durbin", w(12000, g1), w(11000, g2, 0.0035)),
        ("asymp_en60_durbin", w(20000, g1), w(60, g2, 0.1)),
        ("asymp_en60_pomeranz", w(20000, g1), w(60, g2, 0.2)),
        ("asymp_en60_smirnov", w(20000, g1), w(60, g2, 0.35)),
        ("asymp_separated", w(12000, g1), w(12000, g2, 2.0)),
    ]:
        cases.append(ks_case(name, weyl_a=wa, weyl_b=wb))
    return cases


def kstwo_cases():
    grid = [(5, 0.05), (5, 0.15), (200, 0.004), (10, 0.95), (10, 0.6), (50, 0.1), (50, 0.2),
            (50, 0.35), (100, 0.08), (140, 0.15), (1000, 0.03), (1000, 0.01), (1000, 0.06),
            (5000, 0.3), (200000, 0.002), (2000000, 0.0015), (6000, 0.0005), (1, 0.7)]
    return [{"n": n, "x": x, "sf": float(stats.kstwo.sf(x, n))} for n, x in grid]


def loftus_masson_anova(data):
    """data: J conditions x n subjects. sqrt(MS_subject x condition / n) from the ANOVA table."""
    data = np.asarray(data, dtype=np.float64)
    j, n = data.shape
    grand = data.mean()
    ss_total = ((data - grand) ** 2).sum()
    ss_conditions = n * ((data.mean(axis=1) - grand) ** 2).sum()
    ss_subjects = j * ((data.mean(axis=0) - grand) ** 2).sum()
    ss_interaction = ss_total - ss_conditions - ss_subjects
    return math.sqrt(ss_interaction / ((n - 1) * (j - 1)) / n)


def loftus_masson_cases(rng, cv_case):
    cases = [{"name": "full_vs_retained_40", "conditions": [cv_case["a"], cv_case["b"]]}]
    for name, j, n in [("j3_n12", 3, 12), ("j5_n6", 5, 6)]:
        subject = rng.normal(0, 1, n)
        cases.append({"name": name, "conditions": [floats(short(subject + 0.2 * c + rng.normal(0, 0.3, n)))
                                                   for c in range(j)]})
    for c in cases:
        c["se"] = loftus_masson_anova(c["conditions"])
    return cases


def entropy_cases(rng):
    cases = []
    logits = [rng.normal(0, 1, 10), 5 * rng.normal(0, 1, 1000), np.zeros(1000),
              np.concatenate([[60.0], np.zeros(9)]), rng.normal(0, 1, 565) * 8 + 100]
    for name, z in zip(["n10", "n1000_wide", "uniform_1000", "peaked", "n565_offset"], logits):
        z = np.asarray(z, dtype=np.float32)
        p = special.softmax(z.astype(np.float64))
        cases.append({"name": name, "logits": floats(z), "entropy": float(stats.entropy(p))})
    return cases


def descriptive_cases(rng):
    cases = []
    for name, x in [("normal_512", rng.normal(1e-4, 3e-4, 512)), ("n1", np.array([2.5])),
                    ("skewed_120", rng.exponential(1.0, 120) - 0.3)]:
        x = short(x)
        cases.append({"name": name, "values": floats(x), "mean": float(np.mean(x)), "sd": float(np.std(x)),
                      "mad": float(np.mean(np.abs(x - np.mean(x))))})
    return cases


def main():
    rng = np.random.default_rng(20240612)
    ttests = ttest_cases(rng)
    golden = {
        "generator": {"script": "make_stats_golden.py", "numpy": np.__version__, "scipy": scipy.__version__},
        "folds": folds_cases(),
        "ttest_rel": ttests,
        "pearsonr": pearson_cases(rng),
        "ks_2samp": ks_cases(rng),
        "kstwo_sf": kstwo_cases(),
        "loftus_masson": loftus_masson_cases(rng, ttests[0]),
        "softmax_entropy": entropy_cases(rng),
        "descriptive": descriptive_cases(rng),
    }
    with open(os.path.join(HERE, "stats_golden.json"), "w") as f:
        json.dump(golden, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
