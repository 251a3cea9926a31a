//! The fuzz targets without nightly (docs/fuzzing.md): every input under fuzz/regressions (what
//! the fuzzer once crashed on, and hostile files found by hand) goes through the same target
//! bodies as `cargo fuzz run` (fuzz/src/lib.rs, included here), and must come out without a
//! panic; the inputs behind fixed bugs are also checked for their message. The ignored
//! `write_seed_corpora` writes the small generated files the corpora started from.

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod targets;

use std::path::{Path, PathBuf};

use alignmap::heatmap::Heatmap;
use alignmap::model::{Vgg16, Vgg16Spec};
use alignmap::report::{ScoreTables, npy_f32_bytes};
use alignmap::results_zip::{ZipContents, ZipImage, ZipOptions};
use alignmap::weights::{NamedTensor, StoredDtype, TensorMap};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `dir`, sorted; none when it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

#[test]
fn every_committed_crash_input_is_refused_without_a_panic() {
    let mut failed = Vec::new();
    let mut count = 0;
    for (name, target) in targets::TARGETS {
        for path in files(&fuzz_dir().join("regressions").join(name)) {
            let data = std::fs::read(&path).unwrap();
            count += 1;
            if std::panic::catch_unwind(|| target(&data)).is_err() {
                failed.push(path.display().to_string());
            }
        }
    }
    eprintln!("{count} regression inputs replayed");
    assert!(failed.is_empty(), "panicked on: {}", failed.join(", "));
}

/// A committed crash input of `target`, by the start of its file name.
fn regression(target: &str, prefix: &str) -> Vec<u8> {
    let dir = fuzz_dir().join("regressions").join(target);
    let path = files(&dir)
        .into_iter()
        .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(prefix)));
    std::fs::read(path.unwrap_or_else(|| panic!("no {prefix}* in {}", dir.display()))).unwrap()
}

#[test]
fn a_names_npy_whose_header_nests_40_deep_is_refused_at_once() {
    // npyz's header parser took hours over it (libFuzzer: timeout); now refused before parsing.
    use alignmap::similarity::{MatrixOptions, NamesSource, parse_matrix};
    let names = NamesSource::File {
        name: "names.npy".into(),
        bytes: regression("names_file", "timeout-d500d36a"),
    };
    let options = MatrixOptions { names: Some(names), ..Default::default() };
    let start = std::time::Instant::now();
    let e = parse_matrix("m.csv", b"1,0,0,0\n0,1,0,0\n0,0,1,0\n0,0,0,1\n", &options).unwrap_err();
    assert!(start.elapsed().as_secs_f64() < 1.0);
    assert!(e.to_string().starts_with("names.npy: has a .npy header whose brackets nest"), "{e}");
}

// --- the corpora's seeds --------------------------------------------------------------------

/// A `.npy` file: `descr` (e.g. `<f8`), C order, the data's bytes as given.
fn npy(descr: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = if shape.len() == 1 { format!("{},", dims[0]) } else { dims.join(", ") };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({shape}), }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

fn f64_bytes(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// A 5×5 dissimilarity matrix (zero diagonal, symmetric).
fn rdm5() -> Vec<f64> {
    (0..25).map(|k| ((k / 5) as f64 - (k % 5) as f64).abs() * 0.25).collect()
}

/// An archive as the archive targets' text form (fuzz/src/lib.rs, `archive`).
fn entries(list: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, (name, bytes)) in list.iter().enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        out.extend(format!("=== {name}\n").as_bytes());
        out.extend(*bytes);
    }
    out
}

fn png(image: image::DynamicImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn jpeg(image: &image::RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80).encode_image(image).unwrap();
    out
}

/// `jpeg` with an EXIF block saying orientation 6 (rotate 90° clockwise) after its SOI.
fn with_exif_orientation(jpeg: &[u8]) -> Vec<u8> {
    let mut tiff = b"II*\x00\x08\x00\x00\x00\x01\x00".to_vec();
    tiff.extend([0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\x00\x00".to_vec();
    app1.extend(tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(((app1.len() + 2) as u16).to_be_bytes());
    out.extend(app1);
    out.extend(&jpeg[2..]);
    out
}

/// Tensors of shape [1] under `keys`, plus `extra`, as safetensors in `dtype`.
fn keyed_weights(keys: &[String], extra: &[(&str, Vec<usize>)], dtype: StoredDtype) -> Vec<u8> {
    let one = |shape: Vec<usize>| {
        let n = shape.iter().product();
        NamedTensor { shape, values: (0..n).map(|i| i as f32 * 0.01).collect() }
    };
    let tensors = keys
        .iter()
        .map(|k| (k.clone(), one(vec![1])))
        .chain(extra.iter().map(|(k, s)| (k.to_string(), one(s.clone()))));
    TensorMap::from_tensors("seed", tensors).unwrap().to_safetensors(dtype).unwrap()
}

/// A results zip of four small images, two feature maps, heatmaps on three of them.
fn results_zip() -> Vec<u8> {
    let names: Vec<String> = ["a.png", "b.png", "c.jpg", "d.png"].map(String::from).to_vec();
    let images: Vec<image::RgbImage> =
        (0..4).map(|i| alignmap::synthetic::image(6 + i, 8, i.into())).collect();
    let heatmaps: Vec<Option<Heatmap>> = (0..4)
        .map(|i| {
            (i != 1).then(|| Heatmap {
                width: 2,
                height: 2,
                values: vec![0.5, 0.25, 0.0, i as f32],
            })
        })
        .collect();
    let image: Vec<f64> = (0..8).map(|k| k as f64 * 0.125 - 0.5).collect();
    let (dataset_r, dataset_r2) = (vec![0.25, -0.125], vec![0.5, 0.0625]);
    let summary = serde_json::json!({
        "baseline": { "r": 0.5, "r2": 0.25, "per_image": names.iter().map(|n| serde_json::json!({"image": n, "r": 0.1})).collect::<Vec<_>>() },
        "ais": { "zero_image_channel_pairs": 1, "channels_zero_in_every_image": 0 },
    });
    let contents = ZipContents {
        names: &names,
        scores: ScoreTables {
            channels: 2,
            image: &image,
            dataset_r: &dataset_r,
            dataset_r2: &dataset_r2,
        },
        summary: &summary,
        heatmaps: &heatmaps,
        images: images.iter().map(|image| ZipImage { image, file_bytes: None }).collect(),
        made_by: "seed",
        title: Some("seed".into()),
        categories: None,
        category_labels: None,
        comparison: Vec::new(),
    };
    contents.to_zip(&ZipOptions { max_side: 0, overlays: None }).unwrap()
}

/// The entries of a zip, in its order.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut zip = npyz::zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut entry = zip.by_index(i).unwrap();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            (entry.name().to_string(), data)
        })
        .collect()
}

fn as_entries(zip: &[u8]) -> Vec<u8> {
    let list = unzip(zip);
    let refs: Vec<(&str, &[u8])> = list.iter().map(|(n, b)| (n.as_str(), &b[..])).collect();
    entries(&refs)
}

/// A minimal PyTorch zip checkpoint (`torch.save` of `{key: tensor}`, protocol 2), entries only:
/// `archive/data.pkl` rebuilding two float tensors from `archive/data/0` and `archive/data/1`.
fn pth_entries() -> Vec<(String, Vec<u8>)> {
    fn string(out: &mut Vec<u8>, s: &str) {
        out.push(b'X');
        out.extend((s.len() as u32).to_le_bytes());
        out.extend(s.as_bytes());
    }
    fn global(out: &mut Vec<u8>, module: &str, name: &str) {
        out.push(b'c');
        out.extend(format!("{module}\n{name}\n").as_bytes());
    }
    let tensors: [(&str, &[usize], &[f32]); 2] =
        [("features.0.weight", &[2, 1], &[0.5, -1.0]), ("features.0.bias", &[2], &[0.25, 2.0])];
    let mut pkl = vec![0x80, 2, b'}', b'('];
    for (i, (key, shape, _)) in tensors.iter().enumerate() {
        string(&mut pkl, key);
        global(&mut pkl, "torch._utils", "_rebuild_tensor_v2");
        pkl.push(b'('); // args
        pkl.push(b'('); // persistent id tuple
        string(&mut pkl, "storage");
        global(&mut pkl, "torch", "FloatStorage");
        string(&mut pkl, &i.to_string());
        string(&mut pkl, "cpu");
        pkl.extend([b'K', shape.iter().product::<usize>() as u8, b't', b'Q']);
        pkl.extend([b'K', 0]); // offset
        pkl.push(b'(');
        shape.iter().for_each(|&d| pkl.extend([b'K', d as u8]));
        pkl.push(b't');
        pkl.push(b'(');
        let mut stride = 1;
        let strides: Vec<usize> = shape
            .iter()
            .rev()
            .map(|&d| {
                let s = stride;
                stride *= d;
                s
            })
            .collect();
        strides.iter().rev().for_each(|&s| pkl.extend([b'K', s as u8]));
        pkl.push(b't');
        pkl.push(0x89); // requires_grad False
        global(&mut pkl, "collections", "OrderedDict");
        pkl.extend([b')', b'R', b't', b'R']);
    }
    pkl.extend([b'u', b'.']);
    let mut out = vec![("archive/data.pkl".to_string(), pkl)];
    for (i, (_, _, values)) in tensors.iter().enumerate() {
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        out.push((format!("archive/data/{i}"), data));
    }
    out.push(("archive/version".into(), b"3\n".to_vec()));
    out.push(("archive/byteorder".into(), b"little".to_vec()));
    out
}

fn zip_of(list: &[(String, Vec<u8>)]) -> Vec<u8> {
    let refs: Vec<(&str, &[u8])> = list.iter().map(|(n, b)| (n.as_str(), &b[..])).collect();
    targets::archive(&entries(&refs)).into_owned()
}

/// The seeds of each target: small files of every kind the reader takes, made by the crate's own
/// writers (or by hand where the crate writes none), plus the small fixtures of tests/.
fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture = |rel: &str| std::fs::read(root.join(rel)).unwrap();
    let mut out: Vec<(&'static str, String, Vec<u8>)> = Vec::new();
    let mut add = |target: &'static str, name: &str, bytes: Vec<u8>| {
        out.push((target, name.to_string(), bytes))
    };

    // text tables
    let rdm = rdm5();
    let rows = |sep: &str| -> String {
        (0..5)
            .map(|i| {
                (0..5).map(|j| rdm[i * 5 + j].to_string()).collect::<Vec<_>>().join(sep) + "\n"
            })
            .collect()
    };
    let names = ["cat.png", "dog.png", "owl.jpg", "fox.png", "hen.png"];
    add("matrix_text", "plain.csv", rows(",").into_bytes());
    add("matrix_text", "plain.tsv", rows("\t").into_bytes());
    add("matrix_text", "spaces.txt", rows("  ").into_bytes());
    let headed: String = format!(",{}\n", names.join(","))
        + &rows(",").lines().zip(names).map(|(l, n)| format!("\"{n}\",{l}\n")).collect::<String>();
    add("matrix_text", "header_and_names.csv", headed.clone().into_bytes());
    add(
        "matrix_text",
        "bom_crlf.csv",
        [&b"\xEF\xBB\xBF"[..], headed.replace('\n', "\r\n").as_bytes()].concat(),
    );
    add("matrix_text", "nan_semicolon.csv", rows(";").replace("0.5", "NaN").into_bytes());
    add("matrix_text", "kriegeskorte24_rdm.csv", fixture("www/examples/kriegeskorte24/rdm.csv"));

    // JSON
    let nested: Vec<Vec<f64>> = rdm.chunks(5).map(<[f64]>::to_vec).collect();
    add("matrix_json", "list.json", serde_json::to_vec(&nested).unwrap());
    add(
        "matrix_json",
        "named.json",
        serde_json::to_vec(&serde_json::json!({"names": names, "matrix": nested})).unwrap(),
    );
    add(
        "matrix_json",
        "keyed.json",
        serde_json::to_vec(
            &serde_json::json!({"rdm": {"names": names, "dissimilarity": nested}, "other": [[1]]}),
        )
        .unwrap(),
    );
    add("matrix_json", "nonfinite.json", b"[[0, NaN, 1, 2], [NaN, 0, Infinity, 1e999], [1, Infinity, 0, -Infinity], [2, 1e999, -Infinity, 0]]".to_vec());

    // NPY
    for f in ["arange23_fortran_be.npy", "sim5_f32_fortran.npy"] {
        add("matrix_npy", f, fixture(&format!("tests/fixtures/similarity/{f}")));
    }
    let rdm32: Vec<f32> = rdm.iter().map(|&v| v as f32).collect();
    add("matrix_npy", "f32.npy", npy_f32_bytes(&[5, 5], &rdm32).unwrap());
    add("matrix_npy", "f64.npy", npy("<f8", &[5, 5], &f64_bytes(&rdm)));
    add(
        "matrix_npy",
        "i2_be.npy",
        npy(">i2", &[4, 4], &(0..16u16).flat_map(|v| v.to_be_bytes()).collect::<Vec<_>>()),
    );
    add(
        "matrix_npy",
        "bool.npy",
        npy("|b1", &[4, 4], &[1, 0, 0, 1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 0, 0, 1]),
    );

    for f in ["ais.npy", "heatmap.npy", "maps.npy"] {
        add("matrix_npy", &format!("golden_{f}"), fixture(&format!("tests/golden/heatmap/{f}")));
        add("saliency_map", &format!("golden_{f}"), fixture(&format!("tests/golden/heatmap/{f}")));
    }

    // NPZ
    for f in ["two_square.npz", "rdm5.npz", "pickled_names.npz"] {
        let bytes = fixture(&format!("tests/fixtures/similarity/{f}"));
        add("matrix_npz", &format!("{f}.entries"), as_entries(&bytes));
        add("matrix_npz", f, bytes);
    }
    let utf32 = |s: &[&str], width: usize| -> Vec<u8> {
        s.iter()
            .flat_map(|n| {
                let mut chars: Vec<u32> = n.chars().map(u32::from).collect();
                chars.resize(width, 0);
                chars.into_iter().flat_map(u32::to_le_bytes)
            })
            .collect()
    };
    let names_npy = npy("<U7", &[5], &utf32(&names, 7));
    add(
        "matrix_npz",
        "rdm_and_names.entries",
        entries(&[("rdm.npy", &npy("<f8", &[5, 5], &f64_bytes(&rdm))), ("names.npy", &names_npy)]),
    );

    // names files
    add("names_file", "list.json", br#"["a.png", "b.png", "c.png", "d.png"]"#.to_vec());
    add("names_file", "peterson.json", br#"{"animals": {"fnames": ["a.png", "b.png", "c.png", "d.png"]}, "fruits": {"fnames": ["e.png"]}}"#.to_vec());
    add("names_file", "lines.txt", b"a.png\r\nimages/b.png\n\n c.png \nd.png\n".to_vec());
    add("names_file", "strings.npy", npy("<U7", &[4], &utf32(&names[..4], 7)));
    add(
        "names_file",
        "bytes.npy",
        npy(
            "|S7",
            &[4],
            &names[..4].iter().flat_map(|n| format!("{n:\0<7}").into_bytes()).collect::<Vec<_>>(),
        ),
    );

    // weights: the tiny VGG's keys (torchvision) with one value each, in every dtype; the
    // EfficientNet-Lite0 keys, folded and raw, with the head's input width that tells it apart
    let vgg = Vgg16::synthetic_weights(&Vgg16Spec::tiny(), 1);
    let vgg_keys: Vec<String> = vgg.keys().map(String::from).collect();
    for (dtype, label) in
        [(StoredDtype::F32, "f32"), (StoredDtype::F16, "f16"), (StoredDtype::BF16, "bf16")]
    {
        add(
            "weights_safetensors",
            &format!("vgg_keys_{label}.safetensors"),
            keyed_weights(&vgg_keys, &[], dtype),
        );
    }
    let folded: Vec<String> = ["stem.weight".to_string(), "fc.weight".into()]
        .into_iter()
        .chain((0..16).map(|i| format!("blocks.{i}.project.weight")))
        .collect();
    add(
        "weights_safetensors",
        "efficientnet_folded.safetensors",
        keyed_weights(&folded, &[("head.weight", vec![1, 320])], StoredDtype::F16),
    );
    let raw: Vec<String> = ["_conv_stem.weight".to_string(), "_bn0.weight".into()]
        .into_iter()
        .chain((0..16).map(|i| format!("_blocks.{i}._project_conv.weight")))
        .collect();
    add(
        "weights_safetensors",
        "efficientnet_raw.safetensors",
        keyed_weights(&raw, &[("_conv_head.weight", vec![1, 320])], StoredDtype::F16),
    );
    let pth = pth_entries();
    let refs: Vec<(&str, &[u8])> = pth.iter().map(|(n, b)| (n.as_str(), &b[..])).collect();
    add("weights_pth", "two_tensors.entries", entries(&refs));
    add("weights_pth", "two_tensors.pth", zip_of(&pth));
    add(
        "weights_pth",
        "legacy_magic.pth",
        [&[0x80, 2, 0x8a, 0x0a][..], b"l\xfc\x9cF\xf9 j\xa8P\x19."].concat(),
    );
    add(
        "weights_pth",
        "vgg_keys.safetensors",
        keyed_weights(&vgg_keys[..2], &[], StoredDtype::F32),
    );

    // images: PNG in every colour type the decoder turns into RGB, JPEG, JPEG with EXIF
    let rgb = alignmap::synthetic::image(7, 9, 3);
    let dynamic = image::DynamicImage::ImageRgb8(rgb.clone());
    add("image_decode", "rgb8.png", png(dynamic.clone()));
    add("image_decode", "gray8.png", png(image::DynamicImage::ImageLuma8(dynamic.to_luma8())));
    add("image_decode", "rgba8.png", png(image::DynamicImage::ImageRgba8(dynamic.to_rgba8())));
    add("image_decode", "rgb16.png", png(image::DynamicImage::ImageRgb16(dynamic.to_rgb16())));
    add(
        "image_decode",
        "gray_alpha16.png",
        png(image::DynamicImage::ImageLumaA16(dynamic.to_luma_alpha16())),
    );
    add("image_decode", "photo.jpg", jpeg(&rgb));
    add("image_decode", "exif6.jpg", with_exif_orientation(&jpeg(&rgb)));
    add("image_decode", "gray.jpg", {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new(&mut out).encode_image(&dynamic.to_luma8()).unwrap();
        out
    });

    // saliency maps: grayscale PNG 8/16 bit, NPY f32/f64/u8
    add("saliency_map", "gray8.png", png(image::DynamicImage::ImageLuma8(dynamic.to_luma8())));
    add("saliency_map", "gray16.png", png(image::DynamicImage::ImageLuma16(dynamic.to_luma16())));
    add("saliency_map", "rgb8.png", png(dynamic.clone()));
    add(
        "saliency_map",
        "f32.npy",
        npy_f32_bytes(&[3, 4], &[0.0, 0.5, 1.0, 0.25, 2.0, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
            .unwrap(),
    );
    add(
        "saliency_map",
        "f64.npy",
        npy("<f8", &[2, 3], &f64_bytes(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0])),
    );
    add("saliency_map", "u8.npy", npy("|u1", &[2, 2], &[0, 64, 128, 255]));

    // results zips: as written, and as entries
    let zip = results_zip();
    add("results_zip", "four_images.entries", as_entries(&zip));
    add("results_zip", "four_images.zip", zip);

    // NUS fixations
    add("fixations_nus", "two_images.json", br#"{"images": {"a.jpg": {"width": 8, "height": 6, "subjects": [[[1, 1, 0.1, 0.2], [8.4, 6.5, 0.3, 0.1]], [[0.4, 3, 0, 0]]]}, "b.jpg": {"width": 3, "height": 3, "subjects": []}}}"#.to_vec());
    out
}

/// Writes the seeds into fuzz/corpus/<target>/seed-<name>; `cargo fuzz cmin` then keeps what
/// adds coverage. Run: cargo test --test fuzz -- --ignored write_seed_corpora
#[test]
#[ignore]
fn write_seed_corpora() {
    for (target, name, bytes) in seeds() {
        let dir = fuzz_dir().join("corpus").join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
    }
}

#[test]
fn the_seeds_reach_the_parsers_success_paths() {
    // Seeds that parse show the corpora start past the format checks (a seed generator that
    // broke would leave the fuzzer at the first byte).
    use alignmap::similarity::{MatrixOptions, parse_matrix};
    let seeds = seeds();
    let find = |target: &str, name: &str| {
        &seeds.iter().find(|(t, n, _)| *t == target && n == name).unwrap().2
    };
    let opts = MatrixOptions::default();
    assert_eq!(
        parse_matrix("m.csv", find("matrix_text", "header_and_names.csv"), &opts).unwrap().n,
        5
    );
    assert_eq!(parse_matrix("m.json", find("matrix_json", "named.json"), &opts).unwrap().n, 5);
    assert_eq!(parse_matrix("m.npy", find("matrix_npy", "f64.npy"), &opts).unwrap().n, 5);
    let npz = targets::archive(find("matrix_npz", "rdm_and_names.entries"));
    let m = parse_matrix("m.npz", &npz, &opts).unwrap();
    assert_eq!(m.names.unwrap()[4], "hen.png");
    assert_eq!(
        alignmap::cohort::decode("x.jpg", find("image_decode", "exif6.jpg")).unwrap().dimensions(),
        (7, 9)
    );
    assert!(alignmap::saliency::import::decode_map("m", find("saliency_map", "u8.npy")).is_ok());
    let opened = alignmap::results_zip::OpenedResults::from_zip(
        "r.zip",
        &targets::archive(find("results_zip", "four_images.entries")),
    )
    .unwrap();
    assert_eq!(opened.names.len(), 4);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.pth");
    std::fs::write(&path, targets::archive(find("weights_pth", "two_tensors.entries"))).unwrap();
    let map = TensorMap::from_file(&path).unwrap();
    assert_eq!(map.shape("features.0.weight"), Some(&[2, 1][..]));
    assert!(
        TensorMap::from_safetensors("w", find("weights_safetensors", "vgg_keys_bf16.safetensors"))
            .is_ok()
    );
    assert_eq!(
        alignmap::saliency::fixations::parse_nus("f", find("fixations_nus", "two_images.json"))
            .unwrap()
            .len(),
        2
    );
}
