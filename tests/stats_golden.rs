//! Statistics and folds against NumPy/SciPy: tests/golden/stats/stats_golden.json, written by
//! tests/golden/stats/make_stats_golden.py (inputs are stored with the outputs).

mod common;

use alignmap::folds::{PAPER_SEEDS, folds};
use alignmap::stats::{self, KsMethod};
use serde_json::Value;

/// p-values: absolute.
const P_TOLERANCE: f64 = 1e-11;
/// t, r, D and the other statistics: relative.
const STAT_TOLERANCE: f64 = 1e-12;

fn golden() -> Value {
    common::read_json(&common::golden("stats/stats_golden.json"))
}

fn cases<'a>(g: &'a Value, key: &str) -> &'a [Value] {
    g[key].as_array().unwrap_or_else(|| panic!("{key} missing"))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("{v} is not a number"))
}

fn fs(v: &Value) -> Vec<f64> {
    v.as_array().unwrap_or_else(|| panic!("not an array")).iter().map(f).collect()
}

fn name(case: &Value) -> &str {
    case["name"].as_str().unwrap_or("?")
}

fn assert_rel(what: &str, got: f64, want: f64) {
    let err = (got - want).abs() / want.abs().max(1e-300);
    assert!(
        got == want || err <= STAT_TOLERANCE,
        "{what}: got {got:e}, want {want:e} (relative error {err:e})"
    );
}

fn assert_p(what: &str, got: f64, want: f64) {
    assert!((got - want).abs() <= P_TOLERANCE, "{what}: got {got:e}, want {want:e}");
    // Tiny p-values also to a few digits, not just "close to 0".
    if want > 0.0 && want < 1e-3 {
        assert!((got / want - 1.0).abs() < 1e-9, "{what}: got {got:e}, want {want:e} (relative)");
    }
}

/// x_i = offset + scale · (((i + 1) · alpha) mod 1), i = 0..n−1, as the generator script.
fn weyl(spec: &Value) -> Vec<f64> {
    let (n, alpha, scale, offset) =
        (spec["n"].as_u64().unwrap(), f(&spec["alpha"]), f(&spec["scale"]), f(&spec["offset"]));
    (0..n).map(|i| offset + scale * (((i + 1) as f64 * alpha) % 1.0)).collect()
}

#[test]
fn folds_equal_numpy_shuffles() {
    let g = golden();
    let all = cases(&g, "folds");
    for case in all {
        let (n, k, seed) = (
            case["n"].as_u64().unwrap() as usize,
            case["k"].as_u64().unwrap() as usize,
            case["seed"].as_u64().unwrap() as u32,
        );
        let want: Vec<Vec<usize>> = case["folds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|fold| {
                fold.as_array().unwrap().iter().map(|i| i.as_u64().unwrap() as usize).collect()
            })
            .collect();
        assert_eq!(folds(n, k, seed).unwrap(), want, "n={n} k={k} seed={seed}");
    }
    for seed in PAPER_SEEDS {
        assert!(
            all.iter().any(|c| c["n"] == 120 && c["seed"] == seed),
            "paper seed {seed} covered"
        );
    }
}

#[test]
fn paired_t_tests_equal_scipy_ttest_rel() {
    let g = golden();
    for case in cases(&g, "ttest_rel") {
        let r = stats::paired_t_test(&fs(&case["a"]), &fs(&case["b"])).unwrap();
        let n = name(case);
        assert_rel(&format!("{n}: t"), r.t, f(&case["t"]));
        assert_eq!(r.df, f(&case["df"]), "{n}: df");
        assert_rel(
            &format!("{n}: mean difference"),
            r.mean_difference,
            f(&case["mean_difference"]),
        );
        let se = stats::uncentered_paired_se(&fs(&case["a"]), &fs(&case["b"])).unwrap();
        assert_rel(&format!("{n}: uncentered standard error"), se, f(&case["uncentered_se"]));
        assert_p(&format!("{n}: two-sided p"), r.p_two_sided, f(&case["p_two_sided"]));
        assert_p(&format!("{n}: greater p"), r.p_greater, f(&case["p_greater"]));
        assert_p(&format!("{n}: less p"), r.p_less, f(&case["p_less"]));
    }
}

#[test]
fn pearson_equals_scipy_pearsonr() {
    let g = golden();
    for case in cases(&g, "pearsonr") {
        let (r, p) = stats::pearson_test(&fs(&case["a"]), &fs(&case["b"])).unwrap();
        let n = name(case);
        assert_rel(&format!("{n}: r"), r, f(&case["r"]));
        assert_p(&format!("{n}: p"), p, f(&case["p"]));
    }
}

#[test]
fn ks_2samp_equals_scipy_on_both_paths() {
    let g = golden();
    let (mut exact, mut asymptotic) = (0, 0);
    for case in cases(&g, "ks_2samp") {
        let (a, b) = if case.get("weyl_a").is_some() {
            (weyl(&case["weyl_a"]), weyl(&case["weyl_b"]))
        } else {
            (fs(&case["a"]), fs(&case["b"]))
        };
        let r = stats::ks_2samp(&a, &b).unwrap();
        let n = name(case);
        let method = if case["method"] == "exact" { KsMethod::Exact } else { KsMethod::Asymptotic };
        assert_eq!(r.method, method, "{n}: method");
        assert_rel(&format!("{n}: D"), r.statistic, f(&case["statistic"]));
        assert_p(&format!("{n}: p"), r.p_value, f(&case["p"]));
        match method {
            KsMethod::Exact => exact += 1,
            KsMethod::Asymptotic => asymptotic += 1,
        }
    }
    assert!(exact >= 5 && asymptotic >= 5, "{exact} exact and {asymptotic} asymptotic cases");
}

#[test]
fn kstwo_sf_equals_scipy_in_every_regime() {
    let g = golden();
    for case in cases(&g, "kstwo_sf") {
        let (n, x) = (case["n"].as_u64().unwrap(), f(&case["x"]));
        assert_p(&format!("kstwo.sf({x}, {n})"), stats::kstwo_sf(n, x), f(&case["sf"]));
    }
}

#[test]
fn loftus_masson_equals_the_anova_formula() {
    let g = golden();
    for case in cases(&g, "loftus_masson") {
        let conditions: Vec<Vec<f64>> =
            case["conditions"].as_array().unwrap().iter().map(fs).collect();
        let refs: Vec<&[f64]> = conditions.iter().map(Vec::as_slice).collect();
        assert_rel(name(case), stats::loftus_masson_se(&refs).unwrap(), f(&case["se"]));
    }
}

#[test]
fn entropy_and_descriptive_statistics_equal_numpy() {
    let g = golden();
    for case in cases(&g, "softmax_entropy") {
        let logits: Vec<f32> = fs(&case["logits"]).into_iter().map(|v| v as f32).collect();
        let (got, want) = (stats::softmax_entropy(&logits), f(&case["entropy"]));
        // Entropies near 0 (a peaked softmax) compare absolutely.
        assert!(
            (got - want).abs() <= STAT_TOLERANCE * want.abs().max(1e-3),
            "{}: {got:e} vs {want:e}",
            name(case)
        );
    }
    for case in cases(&g, "descriptive") {
        let x = fs(&case["values"]);
        let (mean, sd) = stats::mean_and_sd(&x).unwrap();
        let n = name(case);
        assert_rel(&format!("{n}: mean"), mean, f(&case["mean"]));
        assert_rel(&format!("{n}: sd"), sd, f(&case["sd"]));
        assert_rel(
            &format!("{n}: MAD"),
            stats::mean_absolute_deviation(&x).unwrap(),
            f(&case["mad"]),
        );
    }
}
