//! The page's export is the command line's format: the same cohort through the web entry points
//! (`alignmap::web`, natively, as the worker calls them) and through `alignmap analyze` gives a
//! results zip whose score files are byte for byte the folder's, and whose summary.json has the
//! same keys with the same values, apart from what names the run (paths, timings).

mod common;

use std::io::Read;
use std::path::Path;
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

#[test]
fn the_pages_export_holds_the_command_lines_files_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let rdm = Path::new(env!("CARGO_MANIFEST_DIR")).join("www/examples/kriegeskorte24/rdm.csv");
    let (images, files) = common::example_cohort(dir.path());
    let weights = dir.path().join("tiny-5.safetensors");
    let weight_bytes =
        Vgg16::synthetic_weights(&Vgg16Spec::tiny(), 5).to_safetensors(StoredDtype::F32).unwrap();
    std::fs::write(&weights, &weight_bytes).unwrap();

    let out = dir.path().join("cli");
    let path = |p: &Path| p.to_str().unwrap().to_string();
    let run = Command::new(env!("CARGO_BIN_EXE_alignmap"))
        .args(["analyze", "--weights", &path(&weights), "--images", &path(&images)])
        .args(["--similarity", &path(&rdm), "--dissimilarity", "--out", &path(&out)])
        .args(["--device", "cpu"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));

    pollster::block_on(web::init_device("cpu".into())).unwrap();
    web::load_model(weight_bytes, "tiny-5.safetensors".into(), None).unwrap();
    for f in &files {
        web::add_image(f.clone(), &std::fs::read(images.join(f)).unwrap()).unwrap();
    }
    let matrix = std::fs::read(&rdm).unwrap();
    web::read_matrix(&matrix, "rdm.csv".into(), None, None, None, true).unwrap();
    assert!(web::check_matching().0.ok);
    pollster::block_on(web::analyze(&mut |_, _, _| {}, 4, &|| 0.0)).unwrap();
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
