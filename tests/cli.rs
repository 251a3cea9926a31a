//! The command-line tool end to end: `embed`, `analyze` (on the real Peterson animals when
//! ../shared/data is present) and `convert`, with generated VGG-16-shaped weights.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use alignmap::model::{Vgg16, Vgg16Spec};
use alignmap::weights::StoredDtype;
use common::*;

/// Appended to the commands that compute.
const CPU: &[&str] = &["--device", "cpu"];

fn alignmap(args: &[&str]) -> std::process::Output {
    let out =
        Command::new(env!("CARGO_BIN_EXE_alignmap")).args(args).output().expect("the binary runs");
    eprintln!("alignmap {}:\n{}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    out
}

fn arg(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// The tiny generated VGG-16 of `seed`, written as f32 safetensors in `dir`.
fn tiny_weights(dir: &Path, seed: u64) -> String {
    let path = dir.join(format!("tiny-{seed}.safetensors"));
    std::fs::write(
        &path,
        Vgg16::synthetic_weights(&Vgg16Spec::tiny(), seed)
            .to_safetensors(StoredDtype::F32)
            .unwrap(),
    )
    .unwrap();
    path.display().to_string()
}

fn npy_shape(path: &Path) -> Vec<usize> {
    npy_at::<f32>(path).0
}

/// The 120 Peterson animals of ../shared/data (images, matrix, row names).
struct Animals {
    images: PathBuf,
    matrix: PathBuf,
    names: PathBuf,
}

impl Animals {
    fn find() -> Option<Self> {
        let peterson = shared_data("peterson")?;
        Some(Animals {
            images: peterson.join("images/animals"),
            matrix: peterson.join("hsim_peterson.npz"),
            names: peterson.join("fnames.json"),
        })
    }

    /// `--images`, `--similarity`, `--key` and `--names`.
    fn args(&self) -> [&str; 8] {
        let (images, matrix, names) = (arg(&self.images), arg(&self.matrix), arg(&self.names));
        ["--images", images, "--similarity", matrix, "--key", "animals", "--names", names]
    }
}

#[test]
fn embed_writes_every_output_in_sorted_order() {
    let dir = tempfile::tempdir().unwrap();
    let weights = tiny_weights(dir.path(), 7);
    let out = dir.path().join("out");
    let images = golden("images");
    let embed = ["embed", "--weights", &weights, "--images", arg(&images), "--out", arg(&out)];
    let run = alignmap(&[&embed[..], CPU].concat());
    assert!(run.status.success());
    let names = std::fs::read_to_string(out.join("images.txt")).unwrap();
    let names: Vec<&str> = names.lines().collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_eq!(names.len(), 5);
    assert_eq!(npy_shape(&out.join("embeddings.npy")), vec![5, 64]);
    assert_eq!(npy_shape(&out.join("logits.npy")), vec![5, 10]);
    // The test images differ in size, so the maps come one file per image.
    assert_eq!(npy_shape(&out.join("last_conv").join("gray_200x260.png.npy")), vec![32, 18, 14]);
}

#[test]
fn bad_inputs_are_errors_that_name_them() {
    let dir = tempfile::tempdir().unwrap();
    let weights = tiny_weights(dir.path(), 7);
    let (images, out) = (dir.path().join("images"), dir.path().join("o"));
    std::fs::create_dir(&images).unwrap();
    std::fs::write(images.join("broken.png"), b"not a png").unwrap();
    let embed = |weights: &str, images: &Path| {
        let args = ["embed", "--weights", weights, "--images", arg(images), "--out", arg(&out)];
        alignmap(&[&args[..], CPU].concat())
    };
    let run = embed(&weights, &images);
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("broken.png"));

    let truncated = dir.path().join("cut.safetensors");
    std::fs::write(&truncated, &std::fs::read(&weights).unwrap()[..1000]).unwrap();
    let run = embed(arg(&truncated), &golden("images"));
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("cut.safetensors"));
}

#[test]
fn convert_to_f16_halves_the_file_and_keeps_the_network() {
    let dir = tempfile::tempdir().unwrap();
    let weights = tiny_weights(dir.path(), 7);
    let half = dir.path().join("half.safetensors");
    assert!(alignmap(&["convert", &weights, arg(&half), "--dtype", "f16"]).status.success());
    let (full, small) =
        (std::fs::metadata(&weights).unwrap().len(), std::fs::metadata(&half).unwrap().len());
    assert!(small * 2 < full + 4096, "{small} vs {full}");
    let map = alignmap::weights::TensorMap::from_file(&half).unwrap();
    assert_eq!(Vgg16Spec::from_weights(&map).unwrap(), Vgg16Spec::tiny());
}

#[test]
fn analyze_runs_on_peterson_animals_with_rows_matched_by_name() {
    let Some(animals) = Animals::find() else { return };
    let dir = tempfile::tempdir().unwrap();
    let weights = tiny_weights(dir.path(), 7);
    let out = dir.path().join("out");
    let analyze = ["analyze", "--weights", &weights, "--out", arg(&out)];
    let run = alignmap(&[&analyze[..], &animals.args(), CPU].concat());
    assert!(run.status.success());
    assert_eq!(npy_shape(&out.join("ais_image.npy")), vec![120, 32]);
    assert_eq!(npy_shape(&out.join("ais_dataset.npy")), vec![32]);
    assert_eq!(npy_shape(&out.join("last_conv.npy")), vec![120, 32, 14, 14]);
    let summary = read_json(&out.join("summary.json"));
    let r = summary["baseline"]["r"].as_f64().unwrap();
    assert!(r.is_finite() && r.abs() <= 1.0);
    assert_eq!(summary["baseline"]["per_image"].as_array().unwrap().len(), 120);
    assert_eq!(summary["model"]["weights_sha256"].as_str().unwrap().len(), 64);
    let csv = std::fs::read_to_string(out.join("ais_image.csv")).unwrap();
    assert_eq!(csv.lines().count(), 121);
    assert!(csv.lines().nth(1).unwrap().starts_with("stim-"));
}

#[test]
fn validate_and_maps_run_on_peterson_animals() {
    let Some(animals) = Animals::find() else { return };
    let dir = tempfile::tempdir().unwrap();
    let weights = tiny_weights(dir.path(), 7);
    let out = dir.path().join("validation");
    let images = &animals.images;
    // Lists take commas as well as spaces.
    let validate = ["validate", "--weights", &weights, "--seeds", "111,222", "--out", arg(&out)];
    let run = alignmap(&[&validate[..], &animals.args(), CPU].concat());
    assert!(run.status.success());
    let json = |name: &str| read_json(&out.join(name));
    let validation = json("validation.json");
    let sizes = validation["set_size"]["per_fold"].as_array().unwrap();
    assert_eq!(sizes.len(), 10);
    assert!(sizes.iter().all(|m| (1..=32).contains(&m.as_u64().unwrap())));
    let full = validation["r2"]["full"]["per_fold"].as_array().unwrap();
    assert!(full.iter().all(|v| (0.0..=1.0).contains(&v.as_f64().unwrap())));
    assert!(validation["r2"]["loftus_masson_se"].as_f64().unwrap() >= 0.0);
    // The folds are NumPy's: names of the images at the indices of the committed golden folds.
    let names: Vec<String> = std::fs::read_to_string(out.join("images.txt"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let golden = read_json(&golden("stats/stats_golden.json"));
    let numpy_111 = golden["folds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["n"] == 120 && f["k"] == 5 && f["seed"] == 111)
        .unwrap();
    let expected: Vec<Vec<&str>> = numpy_111["folds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f.as_array()
                .unwrap()
                .iter()
                .map(|i| names[i.as_u64().unwrap() as usize].as_str())
                .collect()
        })
        .collect();
    assert_eq!(json("folds.json")["111"], serde_json::json!(expected));
    let curves = std::fs::read_to_string(out.join("selection_curves.csv")).unwrap();
    assert_eq!(curves.lines().count(), 1 + 10 * 32);
    for figure in
        ["full_vs_retained", "selection_curves", "ais_mean_per_feature_map", "ais_mad_per_image"]
    {
        for ext in ["svg", "png"] {
            let path = out.join("figures").join(format!("{figure}.{ext}"));
            assert!(
                std::fs::metadata(&path).map(|m| m.len() > 1000).unwrap_or(false),
                "{} is missing or empty",
                path.display()
            );
        }
    }

    let maps_dir = dir.path().join("maps");
    let maps = ["maps", "--results", arg(&out), "--images", arg(images), "--out", arg(&maps_dir)];
    let run =
        alignmap(&[&maps[..], &["--grid", &names[0], &names[5], "--colormap", "viridis"]].concat());
    assert!(run.status.success());
    let report = read_json(&maps_dir.join("maps.json"));
    let without = report["images_without_map"].as_array().unwrap().len();
    let overlays = std::fs::read_dir(maps_dir.join("overlays")).unwrap().count();
    assert_eq!(overlays + without, 120);
    assert_eq!(npy_shape(&maps_dir.join("heatmaps.npy")), vec![120, 14, 14]);
    let overlay = image::open(
        maps_dir.join("overlays").join(format!("{}.png", names[0].trim_end_matches(".png"))),
    )
    .unwrap();
    assert_eq!((overlay.width(), overlay.height()), (300, 300));
    assert!(image::open(maps_dir.join("grid.png")).is_ok());
    let bad = alignmap(&[&maps[..], &["--grid", "nope.png"]].concat());
    assert!(
        !bad.status.success()
            && String::from_utf8_lossy(&bad.stderr).contains("'nope.png' is not an image")
    );
}

#[test]
fn compare_and_cross_category_run_on_peterson_animals() {
    let Some(animals) = Animals::find() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (tiny_weights(dir.path(), 7), tiny_weights(dir.path(), 8));
    let out = dir.path().join("compare");
    let compare = |a: &str, b: &str, out: &Path, labels: &[&str]| {
        let args = ["compare", "--a", a, "--b", b, "--out", arg(out)];
        assert!(alignmap(&[&args[..], labels, &animals.args(), CPU].concat()).status.success());
        read_json(&out.join("compare.json"))
    };
    let json = compare(&a, &b, &out, &["--label-a", "seven", "--label-b", "eight"]);
    assert_eq!(json["a"]["label"], "seven");
    assert_eq!(json["a"]["mean_ais_per_feature_map"].as_array().unwrap().len(), 32);
    assert_eq!(json["b"]["mad_per_image"].as_array().unwrap().len(), 120);
    let ks = &json["ks_mad_per_image"];
    assert!(
        (0.0..=1.0).contains(&ks["statistic"].as_f64().unwrap())
            && (0.0..=1.0).contains(&ks["p_value"].as_f64().unwrap())
    );
    let matches = json["match"]["per_image"].as_array().unwrap();
    assert_eq!(matches.len(), 120);
    assert!(matches.iter().filter_map(|m| m.as_f64()).all(|m| (-1.0..=1.0).contains(&m)));
    let r = json["max_entropy"]["pearson_with_match"]["r"].as_f64().unwrap();
    assert!((-1.0..=1.0).contains(&r));
    assert_eq!(
        std::fs::read_to_string(out.join("compare_images.csv")).unwrap().lines().count(),
        121
    );
    // The same network twice: identical heatmaps, so every defined Match is 1.
    let same = dir.path().join("same");
    let json = compare(&a, &a, &same, &[]);
    assert!(
        json["match"]["per_image"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m.as_f64())
            .all(|m| (m - 1.0).abs() < 1e-6)
    );

    let table = dir.path().join("cross.csv");
    let (out_a, out_b, same_a) = (out.join("a"), out.join("b"), same.join("a"));
    let run =
        alignmap(&["cross-category", arg(&out_a), arg(&out_b), arg(&same_a), "--out", arg(&table)]);
    assert!(run.status.success());
    let text = std::fs::read_to_string(&table).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 4);
    // Row a vs itself and vs the identical run are exactly 1.
    assert_eq!(rows[1][1].parse::<f64>().unwrap(), 1.0);
    assert!((rows[1][3].parse::<f64>().unwrap() - 1.0).abs() < 1e-12);
}

/// The issue's real-data check: one shuffle (5 folds) of the paper's protocol on the Peterson
/// animals with EfficientNet-Lite0 (the bundled network, here from its f32 checkpoint).
#[test]
fn validate_with_efficientnet_improves_out_of_sample_alignment_on_peterson_animals() {
    let (Some(animals), Some(weights)) = (Animals::find(), efficientnet_checkpoint()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("validation");
    let validate = ["validate", "--weights", arg(&weights), "--seeds", "111", "--out", arg(&out)];
    let run = alignmap(&[&validate[..], &animals.args(), CPU].concat());
    assert!(run.status.success());
    let v = read_json(&out.join("validation.json"));
    let (full, kept) =
        (v["r2"]["full"]["mean"].as_f64().unwrap(), v["r2"]["retained"]["mean"].as_f64().unwrap());
    let t = &v["r2"]["paired_t_test_retained_vs_full"];
    eprintln!(
        "Full {full:.4} → Retained {kept:.4}, t = {}, p = {}, |S*| = {}",
        t["t"], t["p_two_sided"], v["set_size"]["mean"]
    );
    // The baseline 2OI of the whole cohort is the reference's (docs/real-data.md).
    assert!((v["baseline"]["r"].as_f64().unwrap() - 0.673).abs() < 1e-3);
    assert!(
        kept > full && t["p_two_sided"].as_f64().unwrap() < 0.05,
        "selection does not improve the test 2OI"
    );
    let sizes = v["set_size"]["per_fold"].as_array().unwrap();
    assert!(
        sizes.iter().all(|m| (1..320).contains(&m.as_u64().unwrap())),
        "S* keeps fewer maps than all 320"
    );
}

fn npy_f32(path: &Path) -> Vec<f32> {
    npy_at(path).1
}

/// The numbers of a score CSV (header and the name column left out; names without commas).
fn csv_numbers(path: &Path) -> Vec<f64> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .flat_map(|line| {
            line.split(',').skip(1).map(|v| v.parse::<f64>().unwrap()).collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn analyze_zip_and_pack_write_a_results_zip_that_reads_back_exactly() {
    use alignmap::results_zip::OpenedResults;
    let dir = tempfile::tempdir().unwrap();
    let weights = tiny_weights(dir.path(), 7);
    let (images, files) = example_cohort(dir.path());
    let rdm = Path::new(env!("CARGO_MANIFEST_DIR")).join("www/examples/kriegeskorte24/rdm.csv");
    let categories =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("www/examples/kriegeskorte92/categories.json");
    let out = dir.path().join("out");
    let zip = dir.path().join("k24.zip");
    let analyze = ["analyze", "--weights", &weights, "--images", arg(&images), "--out", arg(&out)];
    let title = ["--title", "tiny VGG on the example"];
    let options = [
        "--similarity",
        arg(&rdm),
        "--dissimilarity",
        "--zip",
        arg(&zip),
        "--categories",
        arg(&categories),
    ];
    let run = alignmap(&[&analyze[..], &options, &title, CPU].concat());
    assert!(run.status.success());
    let opened = OpenedResults::from_zip("k24.zip", &std::fs::read(&zip).unwrap()).unwrap();
    assert_eq!(opened.names, files);
    // The scores read back are the folder's CSV numbers (f64), and those of its f32 arrays.
    let as_f32 = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
    assert_eq!(opened.ais_image, csv_numbers(&out.join("ais_image.csv")));
    let dataset = csv_numbers(&out.join("ais_dataset.csv"));
    assert_eq!([opened.dataset_r.clone(), opened.dataset_r2.clone()].concat(), dataset);
    assert_eq!(as_f32(&opened.ais_image), npy_f32(&out.join("ais_image.npy")));
    assert_eq!(as_f32(&opened.dataset_r), npy_f32(&out.join("ais_dataset.npy")));
    assert_eq!(as_f32(&opened.dataset_r2), npy_f32(&out.join("ais_dataset_r2.npy")));
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(opened.summary, summary);
    let per_image: Vec<f64> = summary["baseline"]["per_image"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["r"].as_f64().unwrap())
        .collect();
    assert_eq!(opened.baseline_per_image, per_image);
    // Each heatmap is the library's heatmap of the folder's scores and feature maps.
    let maps = npy_f32(&out.join("last_conv.npy"));
    let shape = npy_shape(&out.join("last_conv.npy"));
    let (c, h, w) = (shape[1] as usize, shape[2] as usize, shape[3] as usize);
    for (i, heat) in opened.heatmaps.iter().enumerate() {
        let want = alignmap::heatmap::Heatmap::from_scores(
            &opened.ais_image[i * c..(i + 1) * c],
            &maps[i * c * h * w..(i + 1) * c * h * w],
            [c, h, w],
        )
        .unwrap();
        assert_eq!(heat, &want, "{}", files[i]);
    }
    let m = &opened.manifest;
    assert_eq!(m.title.as_deref(), Some("tiny VGG on the example"));
    assert_eq!(m.categories.as_ref().unwrap()["002.png"], "human-body");
    // 175×175 images are below the default 512: stored as they are, byte for byte.
    assert_eq!(m.images[0].file, "images/002.png");
    assert_eq!(std::fs::read(images.join("002.png")).unwrap(), {
        let mut z = npyz::zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut z.by_name("images/002.png").unwrap(), &mut bytes).unwrap();
        bytes
    });
    assert!(m.images.iter().all(|i| i.heatmap.is_some() == i.overlay.is_some()));

    // pack: display copies, no overlays; the scores are the same.
    let small = dir.path().join("small.zip");
    let pack = |results: &Path, options: &[&str]| {
        let args =
            ["pack", "--results", arg(results), "--images", arg(&images), "--out", arg(&small)];
        alignmap(&[&args[..], options].concat())
    };
    let run = pack(&out, &["--max-side", "64", "--no-overlays"]);
    assert!(run.status.success());
    let packed = OpenedResults::from_zip("small.zip", &std::fs::read(&small).unwrap()).unwrap();
    assert_eq!(packed.ais_image, opened.ais_image);
    assert_eq!((packed.images[0].width(), packed.images[0].height()), (64, 64));
    assert!(packed.manifest.images.iter().all(|i| i.overlay.is_none()));

    // Not an analyze folder, and categories that miss an image: errors that name the file.
    let run = pack(&images, &[]);
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("images.txt"));
    let partial = dir.path().join("partial.json");
    std::fs::write(&partial, r#"{"002.png": "face"}"#).unwrap();
    let run = pack(&out, &["--categories", arg(&partial)]);
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("partial.json: no category for 005.png"), "{stderr}");
}

#[test]
fn an_empty_safetensors_file_gets_a_safetensors_message() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.safetensors");
    std::fs::write(&empty, b"").unwrap();
    let (images, out) = (golden("images"), dir.path().join("o"));
    let args = ["embed", "--weights", arg(&empty), "--images", arg(&images), "--out", arg(&out)];
    let run = alignmap(&[&args[..], CPU].concat());
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("empty.safetensors: not a valid safetensors file")
            && stderr.contains("8-byte little-endian header length, then a JSON header")
            && !stderr.contains("PyTorch"),
        "{stderr}"
    );
}
