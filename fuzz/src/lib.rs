//! The bodies of the fuzz targets (`fuzz_targets/<name>.rs` calls `<name>` here), one per parser
//! of user input, each calling the function the command line or the page calls. An `Err` is
//! fine; a panic (including the checks here on what a successful parse returns), a hang or
//! unbounded memory is a bug.
//!
//! tests/fuzz.rs includes this file too, so that `cargo test` replays the committed crash inputs
//! (fuzz/regressions) without nightly or cargo-fuzz.

use std::path::PathBuf;

use alignmap::cohort::{MAX_SIDE, Normalization, decode, preprocess};
use alignmap::device::ComputeDevice;
use alignmap::model::Network;
use alignmap::results_zip::OpenedResults;
use alignmap::saliency::fixations::parse_nus;
use alignmap::saliency::import::{decode_map, transalnet_postprocess};
use alignmap::similarity::{Direction, MatrixOptions, NamesSource, parse_matrix};
use alignmap::weights::TensorMap;

/// The archives' targets (`.npz`, results zips, `.pth`) take either the archive's bytes as they
/// are or, when the input starts with `=== `, its entries as text: `=== <name>\n<bytes>`, each
/// entry's bytes running to the next `\n=== `. Those become a zip (stored, CRCs right), so that
/// the fuzzer mutates what is inside the archive, which a zip's checksums would otherwise refuse.
pub fn archive(data: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    use std::io::Write;
    let Some(mut rest) = data.strip_prefix(b"=== ") else { return data.into() };
    let mut zip = npyz::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = npyz::zip::write::FileOptions::default()
        .compression_method(npyz::zip::CompressionMethod::Stored);
    loop {
        let line = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let name = String::from_utf8_lossy(&rest[..line]).into_owned();
        rest = rest.get(line + 1..).unwrap_or_default();
        let end = rest.windows(5).position(|w| w == b"\n=== ").unwrap_or(rest.len());
        // Names the zip writer refuses (a repeated one) leave the entry out.
        if zip.start_file(name, stored).is_ok() {
            zip.write_all(&rest[..end]).expect("writing to memory");
        }
        match rest.get(end + 5..) {
            Some(next) => rest = next,
            None => break,
        }
    }
    zip.finish().expect("writing to memory").into_inner().into()
}

/// A target's body: one input, a panic for a bug.
pub type Target = fn(&[u8]);

/// Every target by name, as `fuzz/Cargo.toml` names its binaries.
pub const TARGETS: [(&str, Target); 11] = [
    ("matrix_text", matrix_text),
    ("matrix_json", matrix_json),
    ("matrix_npy", matrix_npy),
    ("matrix_npz", matrix_npz),
    ("names_file", names_file),
    ("weights_safetensors", weights_safetensors),
    ("weights_pth", weights_pth),
    ("image_decode", image_decode),
    ("saliency_map", saliency_map),
    ("results_zip", results_zip),
    ("fixations_nus", fixations_nus),
];

/// A matrix read with `options`, checked for what validation promises.
fn matrix(file: &str, data: &[u8], options: &MatrixOptions) {
    if let Ok(m) = parse_matrix(file, data, options) {
        assert_eq!(m.values.len(), m.n * m.n, "{file}: n×n values");
        assert!(m.n >= 4, "{file}: at least 4 rows");
        assert!(m.values.iter().all(|v| v.is_finite()), "{file}: finite values");
        assert!(m.names.as_ref().is_none_or(|n| n.len() == m.n), "{file}: one name per row");
    }
}

fn keyed(key: Option<&str>) -> MatrixOptions {
    MatrixOptions { key: key.map(str::to_string), ..Default::default() }
}

/// Text tables (CSV, TSV, TXT/DAT with the separator sniffed, no extension) through
/// `similarity::parse_matrix`, as `alignmap analyze --similarity` and the page's `read_matrix`.
pub fn matrix_text(data: &[u8]) {
    for (file, direction) in [
        ("matrix.csv", Direction::Similarity),
        ("matrix.tsv", Direction::Dissimilarity),
        ("matrix.txt", Direction::Similarity),
        ("matrix", Direction::Dissimilarity),
    ] {
        matrix(file, data, &MatrixOptions { direction, ..Default::default() });
    }
}

/// JSON matrices (`[[...]]`, `{"names", "matrix"}`, a member by key), without and with a key.
pub fn matrix_json(data: &[u8]) {
    matrix("matrix.json", data, &keyed(None));
    matrix("matrix.json", data, &keyed(Some("rdm")));
}

/// `.npy` matrices (any dtype, byte order and memory order).
pub fn matrix_npy(data: &[u8]) {
    matrix("matrix.npy", data, &keyed(None));
}

/// `.npz` archives: the page's array list (`web::npz_arrays`), then the matrix without a key and
/// with one.
pub fn matrix_npz(data: &[u8]) {
    let data = &archive(data)[..];
    let _ = alignmap::web::npz_arrays(data, "matrix.npz".into());
    matrix("matrix.npz", data, &keyed(None));
    matrix("matrix.npz", data, &keyed(Some("rdm")));
}

/// Names files (a JSON list, `{category: {"fnames": [...]}}`, a 1-D string `.npy`, plain text)
/// given with a valid 4×4 matrix, as `--names` and the page's names field pass them.
pub fn names_file(data: &[u8]) {
    const MATRIX: &[u8] = b"1,0.5,0.2,0.1\n0.5,1,0.3,0.2\n0.2,0.3,1,0.4\n0.1,0.2,0.4,1\n";
    for (name, key) in [("names.json", None), ("names.txt", Some("animals"))] {
        let names = Some(NamesSource::File { name: name.into(), bytes: data.to_vec() });
        let options = MatrixOptions { names, ..keyed(key) };
        if let Ok(m) = parse_matrix("matrix.csv", MATRIX, &options) {
            assert_eq!(m.names.map(|n| n.len()), Some(4), "{name}: one name per row");
        }
    }
}

/// A network built from weights on the CPU backend, as the command line and the page do.
fn build(map: TensorMap) {
    let _ = Network::from_weights(map, None, &ComputeDevice::cpu().device);
}

/// safetensors (header and tensors; f32, f16, bf16, f64) through `TensorMap::from_safetensors`
/// and `Network::from_weights`, as the page's `load_model`.
pub fn weights_safetensors(data: &[u8]) {
    if let Ok(map) = TensorMap::from_safetensors("weights.safetensors", data) {
        build(map);
    }
}

/// PyTorch checkpoints (`.pth`, zip or legacy pickle) through `TensorMap::from_file` and
/// `Network::from_weights`, as the command line's `--weights`. The reader takes a path: the input
/// goes to one file per thread in the temp folder.
pub fn weights_pth(data: &[u8]) {
    thread_local! {
        static PATH: PathBuf = std::env::temp_dir().join(format!(
            "alignmap-fuzz-{}-{:?}.pth",
            std::process::id(),
            std::thread::current().id()
        ).replace(['(', ')'], ""));
    }
    PATH.with(|path| {
        std::fs::write(path, archive(data)).expect("the temp folder is writable");
        if let Ok(map) = TensorMap::from_file(path) {
            build(map);
        }
    });
}

/// Images (PNG, JPEG with EXIF orientation, 16-bit, alpha, grayscale) through `cohort::decode`
/// with its size limits, then the network's preprocessing, as the command line and the page's
/// `add_image`.
pub fn image_decode(data: &[u8]) {
    if let Ok(image) = decode("image.png", data) {
        assert!(image.width() >= 1 && image.height() >= 1);
        assert!(image.width() <= MAX_SIDE && image.height() <= MAX_SIDE);
        let prepared = preprocess(&image, 32, Normalization::IMAGENET);
        assert_eq!(prepared.chw.len(), 3 * prepared.height * prepared.width);
    }
}

/// Imported saliency maps (grayscale PNG 8/16 bit, 2-D NPY f32/f64/u8) through
/// `saliency::import::decode_map`, then brought to an image's size, as `alignmap saliency` and
/// the page's `import_saliency`.
pub fn saliency_map(data: &[u8]) {
    if let Ok(map) = decode_map("map.png", data) {
        assert_eq!(map.values.len(), map.width * map.height);
        assert_eq!(transalnet_postprocess(&map, 24, 16).len(), 24 * 16);
    }
}

/// Results zips (the page's export, `alignmap pack`) through `OpenedResults::from_zip`, checked
/// for the sizes the page relies on, then the page's `open_results`.
pub fn results_zip(data: &[u8]) {
    let data = &archive(data)[..];
    let Ok(opened) = OpenedResults::from_zip("results.zip", data) else { return };
    let n = opened.names.len();
    assert_eq!(opened.ais_image.len(), n * opened.channels);
    assert_eq!(opened.dataset_r.len(), opened.channels);
    assert_eq!(opened.dataset_r2.len(), opened.channels);
    assert_eq!(opened.baseline_per_image.len(), n);
    assert_eq!(opened.images.len(), n);
    assert_eq!(opened.heatmaps.len(), n);
    for h in opened.heatmaps.iter().flatten() {
        assert_eq!(h.values.len(), h.width * h.height, "heatmap size");
    }
    let _ = alignmap::web::open_results(data, "results.zip".into());
}

/// NUS fixations JSON through `saliency::fixations::parse_nus`, as `alignmap saliency
/// --fixations`, then what `saliency::evaluate` asks of each image (the fixation map only for
/// sizes an image could have: evaluate checks them against the image first).
pub fn fixations_nus(data: &[u8]) {
    let Ok(images) = parse_nus("fixations.json", data) else { return };
    for f in images.values() {
        assert!(f.outside() <= f.points.len());
        let side = MAX_SIDE as usize / 16;
        if f.width <= side && f.height <= side {
            assert_eq!(f.map().len(), f.width * f.height);
        }
    }
}
