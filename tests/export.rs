//! The page's export is the command line's format: the same cohort through the web entry points
//! (`alignmap::web`, natively, as the worker calls them) and through `alignmap analyze` gives a
//! results zip whose score files are byte for byte the folder's, and whose summary.json has the
//! same keys with the same values, apart from what names the run (paths, timings); and the page's
//! comparison of two networks (Aim 2: the loaded network and its shuffled control) is `alignmap
//! compare`'s, number for number, its export holding the command's folder under `compare/`.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use alignmap::model::{Vgg16, Vgg16Spec};
use alignmap::web;
use alignmap::weights::StoredDtype;

/// Every key path of a JSON value (`a.b[].c`), with array elements' keys merged.
fn key_paths(value: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let path = format!("{prefix}.{k}");
                out.push(path.clone());
                key_paths(v, &path, out);
            }
        }
        serde_json::Value::Array(items) => {
            items.iter().for_each(|v| key_paths(v, &format!("{prefix}[]"), out))
        }
        _ => {}
    }
    out.sort();
    out.dedup();
}

/// The 24-image example and the tiny generated VGG-16 of seed 5 (written to `weights`), in a
/// temporary folder.
struct Example {
    dir: tempfile::TempDir,
    rdm: PathBuf,
    images: PathBuf,
    files: Vec<String>,
    weights: PathBuf,
    weight_bytes: Vec<u8>,
}

impl Example {
    fn new() -> Example {
        let dir = tempfile::tempdir().unwrap();
        let rdm = Path::new(env!("CARGO_MANIFEST_DIR")).join("www/examples/kriegeskorte24/rdm.csv");
        let (images, files) = common::example_cohort(dir.path());
        let weights = dir.path().join("tiny-5.safetensors");
        let weight_bytes = Vgg16::synthetic_weights(&Vgg16Spec::tiny(), 5)
            .to_safetensors(StoredDtype::F32)
            .unwrap();
        std::fs::write(&weights, &weight_bytes).unwrap();
        Example { dir, rdm, images, files, weights, weight_bytes }
    }

    /// Runs the command line; fails with its messages.
    fn alignmap(&self, args: &[&Path]) {
        let run = Command::new(env!("CARGO_BIN_EXE_alignmap")).args(args).output().unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    }

    /// The cohort options of `analyze` and `compare`, on the CPU.
    fn cohort_args(&self) -> Vec<&Path> {
        let arg = |s: &'static str| Path::new(s);
        let args: Vec<&Path> = vec![
            arg("--images"),
            &self.images,
            arg("--similarity"),
            &self.rdm,
            arg("--dissimilarity"),
            arg("--device"),
            arg("cpu"),
        ];
        args
    }

    /// The page's session (the web entry points, natively): the network, the images and the
    /// matrix, analysed.
    fn page(&self) {
        pollster::block_on(web::init_device("cpu".into())).unwrap();
        web::load_model(self.weight_bytes.clone(), "tiny-5.safetensors".into(), None).unwrap();
        for f in &self.files {
            web::add_image(f.clone(), &std::fs::read(self.images.join(f)).unwrap()).unwrap();
        }
        let matrix = std::fs::read(&self.rdm).unwrap();
        web::read_matrix(&matrix, "rdm.csv".into(), None, None, None, true).unwrap();
        assert!(web::check_matching().0.ok);
        pollster::block_on(web::analyze(&mut |_, _, _| {}, 4, &|| 0.0)).unwrap();
    }
}

#[test]
fn the_pages_export_holds_the_command_lines_files_byte_for_byte() {
    let ex = Example::new();
    let out = ex.dir.path().join("cli");
    let mut args: Vec<&Path> = vec![Path::new("analyze"), Path::new("--weights"), &ex.weights];
    args.extend(ex.cohort_args());
    args.extend([Path::new("--out"), &out]);
    ex.alignmap(&args);

    ex.page();
    let zip = web::results_zip("jet".into(), 0.6, 0, true, None, None).unwrap();
    let mut zip = npyz::zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut entry = |name: &str| {
        let mut bytes = Vec::new();
        zip.by_name(name)
            .unwrap_or_else(|e| panic!("the export has no {name}: {e}"))
            .read_to_end(&mut bytes)
            .unwrap();
        bytes
    };
    let (score_files, json) = alignmap::report::SCORE_FILES.split_at(6);
    assert_eq!(json, ["summary.json"]);
    for file in score_files {
        let cli = std::fs::read(out.join(file)).unwrap();
        assert!(entry(file) == cli, "{file} differs from the command line's");
    }

    let page: serde_json::Value = serde_json::from_slice(&entry("summary.json")).unwrap();
    let cli = common::read_json(&out.join("summary.json"));
    let (mut page_keys, mut cli_keys) = (Vec::new(), Vec::new());
    key_paths(&page, "", &mut page_keys);
    key_paths(&cli, "", &mut cli_keys);
    let timing = |k: &String| k.starts_with(".timings.");
    page_keys.retain(|k| !timing(k));
    cli_keys.retain(|k| !timing(k));
    assert_eq!(page_keys, cli_keys, "summary.json has the command line's keys");
    for key in ["alignmap_version", "n_images", "feature_maps", "baseline", "ais", "device"] {
        assert_eq!(page[key], cli[key], "summary.json {key}");
    }
    assert_eq!(page["model"]["weights_sha256"], cli["model"]["weights_sha256"]);
    assert_eq!(page["human"]["matching"], cli["human"]["matching"]);
    assert_eq!(page["human"]["direction"], cli["human"]["direction"]);
}

/// The entry `name` of a zip's bytes.
fn zip_entry(zip: &[u8], name: &str) -> Vec<u8> {
    let mut archive = npyz::zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut bytes = Vec::new();
    archive
        .by_name(name)
        .unwrap_or_else(|e| panic!("the export has no {name}: {e}"))
        .read_to_end(&mut bytes)
        .unwrap();
    bytes
}

#[test]
fn the_pages_comparison_with_its_shuffled_control_is_alignmap_compare() {
    let ex = Example::new();
    let shuffled = ex.dir.path().join("shuffled.safetensors");
    let out = ex.dir.path().join("cmp");
    let arg = Path::new;
    ex.alignmap(&[arg("shuffle"), &ex.weights, &shuffled, arg("--seed"), arg("0")]);
    let mut args: Vec<&Path> = vec![arg("compare"), arg("--a"), &ex.weights, arg("--b"), &shuffled];
    args.extend(ex.cohort_args());
    args.extend([arg("--out"), &out]);
    ex.alignmap(&args);

    // The page: the example through the network, kept as side A; the same weights shuffled in
    // the engine, run beside it, as side B.
    ex.page();
    web::compare_keep("A".into()).unwrap();
    web::compare_load_network(ex.weight_bytes.clone(), "tiny-5.safetensors".into(), None, Some(0))
        .unwrap();
    pollster::block_on(web::compare_analyze("B".into(), &mut |_, _, _| {}, 4, &|| 0.0)).unwrap();
    let report = web::compare_report("A".into(), "B".into()).unwrap().0;

    // Every number of compare.json is the command line's (the same code on the same backend).
    let page = serde_json::to_value(&report).unwrap();
    let cli = common::read_json(&out.join("compare.json"));
    for key in ["images", "match", "max_entropy", "ks_mean_ais_per_feature_map", "ks_mad_per_image"]
    {
        assert_eq!(page[key], cli[key], "compare.json {key}");
    }
    for side in ["a", "b"] {
        for key in ["model", "baseline", "mean_ais_per_feature_map", "mad_per_image"] {
            assert_eq!(page[side][key], cli[side][key], "compare.json {side}.{key}");
        }
        assert_eq!(page[side]["entropy_per_image"], cli[side]["entropy_per_image"]);
    }
    assert_eq!(page["human"]["matching"], cli["human"]["matching"]);

    // The export holds it as the command's folder: compare_images.csv and each side's score
    // files and logits byte for byte; b/ names the shuffled file by its sha256.
    let zip = web::results_zip("jet".into(), 0.6, 0, false, None, None).unwrap();
    assert_eq!(
        zip_entry(&zip, "compare/compare_images.csv"),
        std::fs::read(out.join("compare_images.csv")).unwrap()
    );
    for side in ["a", "b"] {
        for file in alignmap::report::SCORE_FILES.iter().filter(|f| **f != "summary.json") {
            assert!(
                zip_entry(&zip, &format!("compare/{side}/{file}"))
                    == std::fs::read(out.join(side).join(file)).unwrap(),
                "compare/{side}/{file} differs from the command line's"
            );
        }
        assert!(
            zip_entry(&zip, &format!("compare/{side}/logits.npy"))
                == std::fs::read(out.join(side).join("logits.npy")).unwrap(),
            "{side}/logits.npy"
        );
    }
    let b: serde_json::Value =
        serde_json::from_slice(&zip_entry(&zip, "compare/b/summary.json")).unwrap();
    let cli_b = common::read_json(&out.join("b").join("summary.json"));
    assert_eq!(b["model"]["weights_sha256"], cli_b["model"]["weights_sha256"]);
    assert_eq!(b["baseline"], cli_b["baseline"]);
}
