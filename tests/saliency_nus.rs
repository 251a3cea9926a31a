//! Saliency on real human eye fixations (NUS, `../shared/data/nus-fixations`): the metrics
//! against an independent numpy reference (`tests/golden/saliency/`), and every built-in model,
//! the centre-bias baseline and chance on the 100 images. Both skip without the data. Also the
//! `alignmap saliency` command on generated images and a hand-made `analyze` output.

mod common;

use std::path::Path;

use alignmap::saliency::{SaliencyModel, baseline, evaluate_nus, fixations, metrics, risk};
use serde_json::Value;

/// The reference's `cone` map: 255 − (255 · r2) // (w² + h²), r2 = (2x + 1 − w)² + (2y + 1 − h)².
fn cone(w: usize, h: usize) -> Vec<f32> {
    let (wi, hi) = (w as i64, h as i64);
    (0..hi)
        .flat_map(|y| (0..wi).map(move |x| (x, y)))
        .map(|(x, y)| {
            (255 - 255 * ((2 * x + 1 - wi).pow(2) + (2 * y + 1 - hi).pow(2)) / (wi * wi + hi * hi))
                as f32
        })
        .collect()
}

fn close(a: f64, b: &Value, tol: f64, what: &str) {
    let b = b.as_f64().unwrap_or_else(|| panic!("{what}: no number in the golden file"));
    assert!((a - b).abs() <= tol, "{what}: {a} vs numpy {b}");
}

#[test]
fn metrics_match_the_numpy_reference_on_real_fixations() {
    let Some(dir) = common::shared_data("nus-fixations") else { return };
    let golden: Value =
        serde_json::from_slice(&std::fs::read(common::golden("saliency/metrics.json")).unwrap())
            .unwrap();
    let all =
        fixations::parse_nus("fixations.json", &std::fs::read(dir.join("fixations.json")).unwrap())
            .unwrap();
    let seed = golden["chance_seed"].as_u64().unwrap();
    for g in golden["images"].as_array().unwrap() {
        let name = g["image"].as_str().unwrap();
        let (w, h) =
            (g["width"].as_u64().unwrap() as usize, g["height"].as_u64().unwrap() as usize);
        let fix = &all[name];
        assert_eq!((fix.width, fix.height), (w, h));
        let fixated = fix.map();
        assert_eq!(
            fixated.iter().filter(|&&f| f).count() as u64,
            g["fixated_pixels"].as_u64().unwrap(),
            "{name}: fixated pixels"
        );
        let sigma = fixations::density_sigma(w, h);
        close(sigma, &g["sigma"], 1e-12, &format!("{name}: σ"));
        let density = fixations::density(&fixated, w, h, sigma);
        close(density.iter().sum(), &g["density_sum"], 1e-9, &format!("{name}: density mass"));
        let maps = [("cone", cone(w, h)), ("chance", baseline::chance(w, h, seed).values)];
        for (key, map) in &maps {
            let s = metrics::score(map, &fixated, &density).unwrap();
            let e = &g["metrics"][key];
            eprintln!("{name} {key}: AUC-Judd {:.6} NSS {:.6} CC {:.6}", s.auc_judd, s.nss, s.cc);
            close(s.auc_judd, &e["auc_judd"], 1e-6, &format!("{name} {key} AUC-Judd"));
            close(s.nss, &e["nss"], 1e-6, &format!("{name} {key} NSS"));
            close(s.cc, &e["cc"], 1e-6, &format!("{name} {key} CC"));
        }
        for (key, sal, ais) in [
            ("risk_cone_vs_chance", &maps[0].1, &maps[1].1),
            ("risk_chance_vs_cone", &maps[1].1, &maps[0].1),
        ] {
            for (level, e) in
                risk::relative_risks(sal, ais, w, h).unwrap().iter().zip(g[key].as_array().unwrap())
            {
                let c = level.counts;
                let what = format!("{name} {key} top {} %", level.percent);
                assert_eq!(
                    [c.tp, c.r#fn, c.fp, c.tn],
                    ["tp", "fn", "fp", "tn"].map(|k| e[k].as_u64().unwrap()),
                    "{what}: counts"
                );
                match level.rr {
                    Some(rr) => close(rr, &e["rr"], 1e-9, &what),
                    None => {
                        assert!(e["rr"].is_null(), "{what}: undefined here, {} in numpy", e["rr"])
                    }
                }
            }
        }
    }
}

#[test]
fn nus_evaluation_puts_the_default_model_clearly_above_chance_and_the_centre_prior() {
    let Some(dir) = common::shared_data("nus-fixations") else { return };
    let start = std::time::Instant::now();
    let e = evaluate_nus(&dir).unwrap();
    eprintln!(
        "NUS, {} images, σ = longer side × {:.4}, {} fixations outside, {:.0} s",
        e.n_images,
        e.density_sigma_fraction,
        e.fixations_outside,
        start.elapsed().as_secs_f64()
    );
    eprintln!("{:<18} {:>15} {:>15} {:>15}", "model", "AUC-Judd", "NSS", "CC");
    for m in &e.models {
        eprintln!(
            "{:<18} {:>7.3} ± {:.3} {:>7.3} ± {:.3} {:>7.3} ± {:.3}",
            m.model, m.auc_judd.mean, m.auc_judd.sd, m.nss.mean, m.nss.sd, m.cc.mean, m.cc.sd
        );
    }
    assert_eq!(e.n_images, 100);
    let get = |name: &str| {
        e.models.iter().find(|m| m.model == name).unwrap_or_else(|| panic!("{name} scored"))
    };
    let best = get(SaliencyModel::default().name());
    let (plain, centre, chance) =
        (get("spectral-residual"), get("centre-bias"), get(alignmap::saliency::evaluate::CHANCE));
    assert!(
        best.auc_judd.mean > 0.78 && best.nss.mean > 1.0 && best.cc.mean > 0.45,
        "the default model on NUS"
    );
    for other in [plain, centre, get("multiscale")] {
        assert!(
            best.auc_judd.mean > other.auc_judd.mean
                && best.nss.mean > other.nss.mean
                && best.cc.mean > other.cc.mean,
            "the default beats {}",
            other.model
        );
    }
    assert!(
        plain.auc_judd.mean > 0.65 && plain.nss.mean > 0.4 && plain.cc.mean > 0.15,
        "plain spectral residual is well above chance"
    );
    assert!(
        (chance.auc_judd.mean - 0.5).abs() < 0.02
            && chance.nss.mean.abs() < 0.05
            && chance.cc.mean.abs() < 0.01,
        "chance scores as chance"
    );
}

fn write_npy(path: &Path, shape: &[u64], values: &[f32]) {
    use npyz::WriterBuilder;
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(shape)
        .writer(std::fs::File::create(path).unwrap())
        .begin_nd()
        .unwrap();
    w.extend(values.iter().copied()).unwrap();
    w.finish().unwrap();
}

#[test]
fn saliency_command_writes_maps_risks_and_contours() {
    let dir = tempfile::tempdir().unwrap();
    let (images, results, out) =
        (dir.path().join("images"), dir.path().join("results"), dir.path().join("out"));
    std::fs::create_dir_all(&images).unwrap();
    std::fs::create_dir_all(&results).unwrap();
    let names = ["a.png", "b.png"];
    for (k, name) in names.iter().enumerate() {
        alignmap::synthetic::image(90, 120, k as u64).save(images.join(name)).unwrap();
    }
    // An analyze output with 2 feature maps of 3 × 4: map 0 bright at the top left, map 1 at the
    // bottom right; image a weights map 0, image b has no positive AIS (no heatmap).
    std::fs::write(results.join("images.txt"), "a.png\nb.png\n").unwrap();
    let ais = [0.5, -0.1, 0.0, -0.2];
    write_npy(&results.join("ais_image.npy"), &[2, 2], &ais.map(|v| v as f32));
    let rows = names.map(String::from);
    std::fs::write(results.join("ais_image.csv"), alignmap::report::score_csv(&rows, &ais, 2))
        .unwrap();
    let mut maps = vec![0.0f32; 2 * 2 * 12];
    for i in 0..2 {
        maps[i * 24] = 1.0;
        maps[i * 24 + 12 + 11] = 1.0;
    }
    write_npy(&results.join("last_conv.npy"), &[2, 2, 3, 4], &maps);
    let run = |extra: &[&str]| {
        let mut args =
            vec!["saliency", "--images", images.to_str().unwrap(), "--out", out.to_str().unwrap()];
        args.extend(extra);
        std::process::Command::new(env!("CARGO_BIN_EXE_alignmap")).args(&args).output().unwrap()
    };
    let output = run(&["--results", results.to_str().unwrap()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no positive AIS") && stderr.contains("b.png"), "{stderr}");
    for name in ["a", "b"] {
        let map = image::open(out.join(format!("saliency/{name}.png"))).unwrap();
        assert_eq!((map.width(), map.height(), map.color()), (120, 90, image::ColorType::L8));
    }
    let contour = image::open(out.join("contours/a.png")).unwrap().to_rgb8();
    assert_eq!(contour.dimensions(), (120, 90));
    assert!(!out.join("contours/b.png").exists());
    let rr: Value = serde_json::from_slice(&std::fs::read(out.join("rr.json")).unwrap()).unwrap();
    assert_eq!(rr["images_without_heatmap"], serde_json::json!(["b.png"]));
    assert_eq!(rr["summary"].as_array().unwrap().len(), 3);
    let level = &rr["per_image"][0]["levels"][0];
    assert_eq!(
        ["tp", "fn", "fp", "tn"].map(|k| level[k].as_u64().unwrap()).iter().sum::<u64>(),
        120 * 90
    );
    let csv = std::fs::read_to_string(out.join("rr.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 3, "a header and one row per level of image a:\n{csv}");
    assert!(csv.starts_with("image,percent,tp,fn,fp,tn,rr,undefined\na.png,5,"));

    // Imported maps: one missing is an error that names it.
    let imported = dir.path().join("imported");
    std::fs::create_dir_all(&imported).unwrap();
    write_npy(&imported.join("a.npy"), &[4, 5], &(0..20).map(|v| v as f32).collect::<Vec<_>>());
    let output =
        run(&["--results", results.to_str().unwrap(), "--saliency", imported.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("for 1 of 2 image(s): b.png"), "{stderr}");
    write_npy(
        &imported.join("b.npy"),
        &[4, 5],
        &(0..20).rev().map(|v| v as f32).collect::<Vec<_>>(),
    );
    let output =
        run(&["--results", results.to_str().unwrap(), "--saliency", imported.to_str().unwrap()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let rr: Value = serde_json::from_slice(&std::fs::read(out.join("rr.json")).unwrap()).unwrap();
    assert!(rr["saliency"].as_str().unwrap().starts_with("imported maps"));
}
