//! End-to-end tests of the similarity module: every format through `parse_matrix`, the error
//! paths, name matching, a small fuzz, and (when `../shared/data` exists) the real data sets.

use std::path::{Path, PathBuf};

use super::*;

fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/similarity").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("fixture {}: {e}", p.display()))
}

/// `../shared/data`, or None (with a message) when this checkout has no shared data.
fn shared_data() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if p.is_dir() {
        Some(p)
    } else {
        println!("skipped: {} is absent (real-data tests need the shared data sets)", p.display());
        None
    }
}

fn opts(direction: Direction) -> MatrixOptions {
    MatrixOptions { key: None, direction, names: None }
}

fn keyed(key: &str, direction: Direction) -> MatrixOptions {
    MatrixOptions { key: Some(key.to_string()), direction, names: None }
}

fn sim(file: &str, bytes: &[u8]) -> Result<HumanMatrix, SimilarityError> {
    parse_matrix(file, bytes, &opts(Direction::Similarity))
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A valid 4×4 similarity, as rows.
const S4: [[f64; 4]; 4] =
    [[1.0, 0.2, 0.3, 0.4], [0.2, 1.0, 0.5, 0.6], [0.3, 0.5, 1.0, 0.7], [0.4, 0.6, 0.7, 1.0]];

fn s4_flat() -> Vec<f64> {
    S4.iter().flatten().copied().collect()
}

fn s4_rows(sep: &str) -> Vec<String> {
    S4.iter().map(|r| r.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(sep)).collect()
}

#[test]
fn csv_plain_header_names_and_both() {
    let body = s4_rows(",").join("\n");
    let h = sim("m.csv", body.as_bytes()).unwrap();
    assert_eq!((h.n, h.names.clone()), (4, None));
    assert_eq!(h.values, s4_flat());
    assert!(h.warnings.is_empty(), "{:?}", h.warnings);

    let with_header = format!("a.png,b.png,c.png,d.png\n{body}\n");
    let h = sim("m.CSV", with_header.as_bytes()).unwrap();
    assert_eq!(h.names.unwrap(), ["a.png", "b.png", "c.png", "d.png"]);

    let rows = s4_rows(",");
    let both = format!(
        "\u{FEFF}\"\",\"a, 1.png\",b.png,c.png,d.png\r\n\"a, 1.png\",{}\r\nb.png,{}\r\nc.png,{}\r\nd.png,{}\r\n",
        rows[0], rows[1], rows[2], rows[3]
    );
    let h = sim("m.csv", both.as_bytes()).unwrap();
    assert_eq!(h.names.unwrap(), ["a, 1.png", "b.png", "c.png", "d.png"]);
    assert_eq!(h.values, s4_flat());

    let names_only = format!("a,{}\nb,{}\nc,{}\nd,{}", rows[0], rows[1], rows[2], rows[3]);
    assert_eq!(sim("m.csv", names_only.as_bytes()).unwrap().names.unwrap(), ["a", "b", "c", "d"]);
}

#[test]
fn tsv_and_txt() {
    let tsv = format!("x\ty\tz\tw\n{}\n", s4_rows("\t").join("\n"));
    let h = sim("m.tsv", tsv.as_bytes()).unwrap();
    assert_eq!(h.names.unwrap(), ["x", "y", "z", "w"]);
    let txt = s4_rows("   ").join("\n");
    assert_eq!(sim("m.txt", txt.as_bytes()).unwrap().values, s4_flat());
    let txt = s4_rows(", ").join("\r\n");
    assert_eq!(sim("m.txt", txt.as_bytes()).unwrap().values, s4_flat());
}

#[test]
fn unknown_extension_is_sniffed() {
    let json = serde_json::to_string(&S4).unwrap();
    assert_eq!(sim("matrix", json.as_bytes()).unwrap().values, s4_flat());
    assert_eq!(sim("matrix.dat", s4_rows(" ").join("\n").as_bytes()).unwrap().values, s4_flat());
    let npy_bytes = npy::encode(
        "<f8",
        false,
        &[4, 4],
        &s4_flat().iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>(),
    );
    assert_eq!(sim("matrix.bin", &npy_bytes).unwrap().values, s4_flat());
    // a known extension with other binary content: the content wins, with a warning
    let h = sim("matrix.csv", &npy_bytes).unwrap();
    assert_eq!(h.values, s4_flat());
    assert!(h.warnings[0].contains("despite the extension"), "{:?}", h.warnings);
    let h = sim("rdm5.npy", &fixture("rdm5.npz")).unwrap();
    assert_eq!(h.n, 5);
}

#[test]
fn json_forms() {
    let json = serde_json::to_string(&S4).unwrap();
    assert_eq!(sim("m.json", json.as_bytes()).unwrap().values, s4_flat());
    let d: Vec<Vec<f64>> = S4.iter().map(|r| r.iter().map(|v| 1.0 - v).collect()).collect();
    let obj = serde_json::json!({"names": ["a", "b", "c", "d"], "rdm": d}).to_string();
    let h = parse_matrix("m.json", obj.as_bytes(), &opts(Direction::Dissimilarity)).unwrap();
    assert_eq!(h.names.unwrap(), ["a", "b", "c", "d"]);
    assert!(h.warnings.is_empty(), "{:?}", h.warnings);
    assert!((h.values[1] + 0.8).abs() < 1e-12);
    // "rdm" read as a similarity: warned by the key and by the diagonal
    let h = sim("m.json", obj.as_bytes()).unwrap();
    assert!(h.warnings.iter().any(|w| w.contains("stored under \"rdm\"")), "{:?}", h.warnings);
    assert!(h.warnings.iter().any(|w| w.contains("diagonal is the smallest")), "{:?}", h.warnings);
}

#[test]
fn npy_numbers_and_orders() {
    let h = sim("s.npy", &fixture("sim5_f32_fortran.npy")).unwrap();
    assert_eq!(h.n, 5);
    assert!(
        (h.values[1] - 0.8).abs() < 1e-6 && (h.values[3 * 5 + 4] - 0.65).abs() < 1e-6,
        "{:?}",
        h.values
    );
    let a = npy::read_matrix("a.npy", &fixture("arange23_fortran_be.npy")).unwrap();
    assert_eq!(a.values, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let e = sim("a.npy", &fixture("arange23_fortran_be.npy")).unwrap_err();
    assert!(matches!(e, SimilarityError::NotSquare { rows: 2, cols: 3, .. }), "{e}");
    let cube = npy::encode("<f8", false, &[2, 4, 4], &[0u8; 256]);
    let e = sim("c.npy", &cube).unwrap_err().to_string();
    assert!(e.contains("3-D") && e.contains("np.mean"), "{e}");
}

#[test]
fn npz_selection_names_and_direction() {
    let bytes = fixture("rdm5.npz");
    let h = parse_matrix("rdm5.npz", &bytes, &opts(Direction::Dissimilarity)).unwrap();
    assert_eq!(h.n, 5);
    assert_eq!(h.names.as_deref().unwrap(), ["e.png", "a.png", "d.png", "b.png", "c.png"]);
    assert!((h.values[1] + 0.2).abs() < 1e-12, "S = -D");
    assert_eq!(h.warnings.len(), 1, "{:?}", h.warnings);
    assert!(h.warnings[0].contains("the only 2-D square array"), "{:?}", h.warnings);

    let e = parse_matrix("rdm5.npz", &bytes, &keyed("rdms", Direction::Dissimilarity))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("rdm5.npz: ") && e.contains("3-D (3×5×5)") && e.contains("rdm (5×5)"),
        "{e}"
    );
    let e = parse_matrix("rdm5.npz", &bytes, &keyed("rdmz", Direction::Dissimilarity))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no array named 'rdmz'")
            && e.contains("rdm (5×5), rdms (3×5×5), image_files (5, strings)"),
        "{e}"
    );
    let e = parse_matrix("rdm5.npz", &bytes, &keyed("image_files", Direction::Dissimilarity))
        .unwrap_err()
        .to_string();
    assert!(e.contains("holds strings"), "{e}");

    let two = fixture("two_square.npz");
    let e = sim("two.npz", &two).unwrap_err().to_string();
    assert!(
        e.contains("2 2-D square arrays") && e.contains("ints (5×5)") && e.contains("halfs (5×5)"),
        "{e}"
    );
    let ints = parse_matrix("two.npz", &two, &keyed("ints", Direction::Similarity)).unwrap();
    let halfs = parse_matrix("two.npz", &two, &keyed("halfs", Direction::Similarity)).unwrap();
    for (a, b) in ints.values.iter().zip(&halfs.values) {
        assert!((a / 100.0 - b).abs() < 0.0101, "{a} vs {b}");
    }
    assert_eq!(ints.values[1], 80.0);
}

#[test]
fn pickled_names_are_refused_unless_a_names_file_is_given() {
    let bytes = fixture("pickled_names.npz");
    let e = sim("p.npz", &bytes).unwrap_err().to_string();
    assert!(e.starts_with("p.npz (array 'names'): ") && e.contains("pickle"), "{e}");
    let names = NamesSource::File { name: "n.txt".into(), bytes: b"a\nb\nc\nd\ne\n".to_vec() };
    let h = parse_matrix(
        "p.npz",
        &bytes,
        &MatrixOptions { key: None, direction: Direction::Similarity, names: Some(names) },
    )
    .unwrap();
    assert_eq!(h.names.unwrap(), ["a", "b", "c", "d", "e"]);
    assert!(h.warnings.iter().any(|w| w.contains("ignored the names")), "{:?}", h.warnings);
}

#[test]
fn names_files() {
    let body = s4_rows(",").join("\n");
    let with = |name: &str, bytes: &[u8], key: Option<&str>| MatrixOptions {
        key: key.map(str::to_string),
        direction: Direction::Similarity,
        names: Some(NamesSource::File { name: name.into(), bytes: bytes.to_vec() }),
    };
    let h = parse_matrix(
        "m.csv",
        body.as_bytes(),
        &with("n.json", br#"["x/a.png","b.png","c.png","d.png"]"#, None),
    )
    .unwrap();
    assert_eq!(h.names.unwrap(), ["a.png", "b.png", "c.png", "d.png"]);
    let peterson =
        br#"{"cats": {"fnames": ["1","2","3","4"]}, "dogs": {"fnames": ["5","6","7","8"]}}"#;
    let h = parse_matrix("m.csv", body.as_bytes(), &with("fnames.json", peterson, Some("dogs")))
        .unwrap();
    assert_eq!(h.names.unwrap(), ["5", "6", "7", "8"]);
    assert!(h.warnings.iter().any(|w| w.contains("key 'dogs' was ignored")), "{:?}", h.warnings);
    let e = parse_matrix("m.csv", body.as_bytes(), &with("fnames.json", peterson, Some("cows")))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("fnames.json: no category named 'cows'") && e.contains("cats, dogs"),
        "{e}"
    );
    let e = parse_matrix("m.csv", body.as_bytes(), &with("n.txt", b"a\nb\nc\n", None))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("n.txt: holds 3 names but the matrix m.csv is 4×4"), "{e}");
    let e = parse_matrix("m.csv", body.as_bytes(), &with("n.txt", b"a\nb\nc\na\n", None))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("n.txt: the name 'a' appears twice, at rows 1 and 4"), "{e}");
    // a names file overrides the header, with a warning when they differ
    let header = format!("p,q,r,s\n{body}");
    let h =
        parse_matrix("m.csv", header.as_bytes(), &with("n.txt", b"a\nb\nc\nd\n", None)).unwrap();
    assert_eq!(h.names.unwrap(), ["a", "b", "c", "d"]);
    assert!(h.warnings.iter().any(|w| w.contains("differ")), "{:?}", h.warnings);
}

#[test]
fn validation_through_parse_matrix() {
    let mut rows = s4_rows(",");
    rows[1] = "0.2,1,0.5,NaN".into();
    let e = sim("m.csv", rows.join("\n").as_bytes()).unwrap_err().to_string();
    assert_eq!(
        e,
        "m.csv: row 2, column 4 (counting from 1) is NaN; expected a finite number in every cell"
    );

    let mut rows = s4_rows(",");
    rows[0] = "1,0.9,0.3,0.4".into();
    let e = sim("m.csv", rows.join("\n").as_bytes()).unwrap_err().to_string();
    assert!(
        e.starts_with(
            "m.csv: the matrix is not symmetric: row 1, column 2 is 0.9 but row 2, column 1 is 0.2"
        ),
        "{e}"
    );

    let mut rows = s4_rows(",");
    rows[0] = "1,0.205,0.3,0.4".into();
    let h = sim("m.csv", rows.join("\n").as_bytes()).unwrap();
    assert!((h.values[1] - 0.2025).abs() < 1e-12 && (h.values[4] - 0.2025).abs() < 1e-12);
    assert!(
        h.warnings[0].contains("slightly asymmetric") && h.warnings[0].contains("row 1, column 2"),
        "{:?}",
        h.warnings
    );

    let e = sim("m.csv", b"1,0.5,0.2\n0.5,1,0.3\n0.2,0.3,1\n").unwrap_err().to_string();
    assert!(e.contains("needs at least 4 images"), "{e}");
    let e = sim("m.csv", b"1,2,3,4,5\n1,2,3,4,5\n1,2,3,4,5\n1,2,3,4,5\n").unwrap_err().to_string();
    assert!(e.contains("4 rows and 5 columns"), "{e}");
    let body = s4_rows(",");
    let bad = format!(",a,b,c,d\na,{}\nb,{}\nx,{}\nd,{}\n", body[0], body[1], body[2], body[3]);
    let e = sim("m.csv", bad.as_bytes()).unwrap_err().to_string();
    assert!(
        e.contains("disagree at position 3")
            && e.contains("'c' in the header, 'x' in the first column"),
        "{e}"
    );
    let dup = format!("a,b,c,a\n{}", body.join("\n"));
    let e = sim("m.csv", dup.as_bytes()).unwrap_err().to_string();
    assert!(e.contains("'a' appears twice"), "{e}");
}

#[test]
fn infinite_values_are_called_infinite() {
    let mut rows = s4_rows(",");
    rows[2] = "0.3,0.5,1,1e999".into();
    let e = sim("m.csv", rows.join("\n").as_bytes()).unwrap_err().to_string();
    assert_eq!(
        e,
        "m.csv: row 3, column 4 (counting from 1) is infinite (inf); expected a finite number in every cell"
    );
    let json =
        "[[1, 0.2, 0.3, 0.4], [0.2, 1, 0.5, -Infinity], [0.3, 0.5, 1, 0.7], [0.4, 0.6, 0.7, 1]]";
    let e = sim("m.json", json.as_bytes()).unwrap_err().to_string();
    assert!(e.starts_with("m.json: row 2, column 4 (counting from 1) is infinite (-inf)"), "{e}");
}

#[test]
fn dissimilarity_conversion() {
    let d: Vec<String> = S4
        .iter()
        .map(|r| r.iter().map(|v| (1.0 - v).to_string()).collect::<Vec<_>>().join(","))
        .collect();
    let h =
        parse_matrix("d.csv", d.join("\n").as_bytes(), &opts(Direction::Dissimilarity)).unwrap();
    assert!(h.warnings.is_empty(), "{:?}", h.warnings);
    for (got, s) in h.values.iter().zip(s4_flat()) {
        assert!((got - (s - 1.0)).abs() < 1e-12, "S = -D");
    }
    let h = sim("d.csv", d.join("\n").as_bytes()).unwrap();
    assert!(h.warnings.iter().any(|w| w.contains("pass --dissimilarity")), "{:?}", h.warnings);
}

#[test]
fn permuted_csv_is_matched_into_image_order() {
    // the file lists the images in the order c, a, d, b
    let order = ["c.png", "a.png", "d.png", "b.png"];
    let m = |i: usize, j: usize| {
        if i == j { 1.0 } else { 0.1 * (i + j) as f64 + 0.01 * (i * j) as f64 }
    };
    let mut csv = format!(",{}\n", order.join(","));
    for (r, name) in order.iter().enumerate() {
        let file_i = name.as_bytes()[0] - b'a';
        let row: Vec<String> = order
            .iter()
            .map(|o| m(file_i as usize, (o.as_bytes()[0] - b'a') as usize).to_string())
            .collect();
        csv.push_str(&format!("{name},{}\n", row.join(",")));
        let _ = r;
    }
    let h = sim("perm.csv", csv.as_bytes()).unwrap();
    let images = strings(&["a.png", "b.png", "c.png", "d.png"]);
    let matched = match_to_images(&h, &images).unwrap();
    for a in 0..4 {
        for b in 0..4 {
            assert!(
                (matched.similarity[a * 4 + b] - m(a, b)).abs() < 1e-12,
                "image pair ({a},{b})"
            );
        }
    }
    assert_eq!(matched.report[0], "matched 4 rows to images by name");
}

#[test]
fn every_error_names_the_file() {
    let cases: Vec<(&str, Vec<u8>, Option<&str>)> = vec![
        ("e.csv", b"".to_vec(), None),
        ("e.npy", b"\x93NUMPY".to_vec(), None),
        ("e.npz", b"PK\x03\x04junk".to_vec(), None),
        ("e.json", b"{".to_vec(), None),
        ("e.json", b"{\"a\": 1}".to_vec(), Some("b")),
        ("e.txt", b"1 2\n3 x\n".to_vec(), None),
        ("e.npz", fixture("rdm5.npz"), Some("labels")),
        ("e.npz", fixture("rdm5.npz"), Some("nothing")),
        ("e.bin", vec![0xde, 0xad, 0xbe, 0xef], None),
    ];
    for (file, bytes, key) in cases {
        let o = MatrixOptions {
            key: key.map(str::to_string),
            direction: Direction::Similarity,
            names: None,
        };
        let e = parse_matrix(file, &bytes, &o).unwrap_err().to_string();
        assert!(e.starts_with(file), "{file}: {e}");
    }
    let e = parse_matrix("e.npz", &fixture("rdm5.npz"), &keyed("labels", Direction::Similarity))
        .unwrap_err()
        .to_string();
    assert!(e.contains("holds strings") && e.contains("rdm (5×5)"), "{e}");
}

#[test]
fn load_matrix_reads_files() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m.tsv");
    std::fs::write(&m, s4_rows("\t").join("\n")).unwrap();
    let n = dir.path().join("names.txt");
    std::fs::write(&n, "w\nx\ny\nz\n").unwrap();
    let h = load_matrix(&m, Some(&n), None, Direction::Similarity).unwrap();
    assert_eq!(h.names.unwrap(), ["w", "x", "y", "z"]);
    let missing = dir.path().join("nope.csv");
    let e = load_matrix(&missing, None, None, Direction::Similarity).unwrap_err();
    assert!(matches!(&e, SimilarityError::Io { file, .. } if file.ends_with("nope.csv")), "{e}");
}

/// A small deterministic generator for the fuzz test.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn fuzz_never_panics() {
    let exts = ["csv", "tsv", "txt", "json", "npy", "npz", "bin"];
    let names = Some(NamesSource::File {
        name: "n.json".into(),
        bytes: br#"{"a": {"fnames": ["1"]}}"#.to_vec(),
    });
    let o = MatrixOptions { key: Some("a".into()), direction: Direction::Similarity, names: None };
    let o_names = MatrixOptions { names, ..o.clone() };
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);

    // random bytes, with and without a magic prefix
    // SIMILARITY_FUZZ_ROUNDS raises the number of random inputs for a longer run
    let rounds: usize =
        std::env::var("SIMILARITY_FUZZ_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
    for round in 0..rounds {
        let len = (rng.next() % 300) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        match round % 4 {
            1 => bytes = [npy::MAGIC, &[1, 0, 40, 0], &bytes].concat(),
            2 => bytes = [b"PK\x03\x04".as_slice(), &bytes].concat(),
            3 => bytes
                .iter_mut()
                .for_each(|b| *b = b" ,\t\n0123456789.-eNa\"[]{}"[(*b as usize) % 24]),
            _ => {}
        }
        let file = format!("f.{}", exts[round % exts.len()]);
        let _ = parse_matrix(&file, &bytes, &o);
        let _ = parse_matrix(&file, &bytes, &o_names);
        let _ = names::parse_names_file(&file, &bytes, Some("a"));
    }

    // empty files
    for ext in exts {
        assert!(parse_matrix(&format!("f.{ext}"), b"", &o).is_err());
    }

    // every truncation of the binary fixtures is an error; flipped bytes never panic
    for name in ["sim5_f32_fortran.npy", "rdm5.npz", "two_square.npz", "pickled_names.npz"] {
        let full = fixture(name);
        for cut in 0..full.len() {
            assert!(
                parse_matrix(name, &full[..cut], &opts(Direction::Similarity)).is_err(),
                "{name} cut at {cut}"
            );
        }
        for _ in 0..400 {
            let mut b = full.clone();
            for _ in 0..1 + rng.next() % 3 {
                let i = (rng.next() as usize) % b.len();
                b[i] = rng.next() as u8;
            }
            let _ = parse_matrix(name, &b, &o);
            let _ = parse_matrix(name, &b, &opts(Direction::Dissimilarity));
        }
    }
}

#[test]
fn peterson_animals_match_the_images() {
    let Some(data) = shared_data() else { return };
    let dir = data.join("peterson");
    let h = load_matrix(
        &dir.join("hsim_peterson.npz"),
        Some(&dir.join("fnames.json")),
        Some("animals"),
        Direction::Similarity,
    )
    .unwrap();
    assert_eq!(h.n, 120);
    assert!(h.warnings.is_empty(), "{:?}", h.warnings);
    assert!((0..120).all(|i| h.values[i * 121] == 1.0), "diagonal 1");
    let mut images: Vec<String> = std::fs::read_dir(dir.join("images/animals"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    images.sort();
    assert_eq!(images.len(), 120);
    let matched = match_to_images(&h, &images).unwrap();
    assert_eq!(matched.report, ["matched 120 rows to images by name"]);
    assert_eq!(matched.similarity, h.values, "fnames are sorted, so the order is unchanged");

    // reversed image list: the matrix follows
    let reversed: Vec<String> = images.iter().rev().cloned().collect();
    let r = match_to_images(&h, &reversed).unwrap();
    assert_eq!(r.similarity[1], h.values[119 * 120 + 118]);

    let bytes = std::fs::read(dir.join("hsim_peterson.npz")).unwrap();
    let e = parse_matrix("hsim_peterson.npz", &bytes, &opts(Direction::Similarity))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("6 2-D square arrays") && e.contains("animals (120×120), automobiles (120×120)"),
        "{e}"
    );
    let e = parse_matrix("hsim_peterson.npz", &bytes, &keyed("animal", Direction::Similarity))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("hsim_peterson.npz: no array named 'animal' (did you mean 'animals'?); the file holds: animals (120×120)"), "{e}");
}

#[test]
fn kriegeskorte_mean_rdm_and_subject_rdms() {
    let Some(data) = shared_data() else { return };
    let path = data.join("kriegeskorte92/behav_rdms_92.npz");
    let h = load_matrix(&path, None, Some("mean_rdm"), Direction::Dissimilarity).unwrap();
    assert_eq!(h.n, 92);
    let want: Vec<String> = (1..=92).map(|i| format!("{i:03}.png")).collect();
    assert_eq!(h.names.as_ref().unwrap(), &want);
    assert!(h.warnings.is_empty(), "{:?}", h.warnings);
    assert!(h.values.iter().all(|v| *v <= 0.0), "S = -D of a non-negative RDM");
    assert!((0..92).all(|i| h.values[i * 93] == 0.0));

    let mut images: Vec<String> = std::fs::read_dir(data.join("kriegeskorte92/images"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    images.sort();
    let matched = match_to_images(&h, &images).unwrap();
    assert_eq!(matched.similarity, h.values);

    let e =
        load_matrix(&path, None, Some("rdms"), Direction::Dissimilarity).unwrap_err().to_string();
    assert!(e.contains("'rdms' is 3-D (16×92×92)") && e.contains("mean_rdm (92×92)"), "{e}");

    // no key: mean_rdm is the only 2-D square array
    let auto = load_matrix(&path, None, None, Direction::Dissimilarity).unwrap();
    assert_eq!(auto.values, h.values);
    assert!(auto.warnings[0].contains("'mean_rdm'"), "{:?}", auto.warnings);
    // read as a similarity: the zero diagonal gives a warning
    let wrong = load_matrix(&path, None, Some("mean_rdm"), Direction::Similarity).unwrap();
    assert!(wrong.warnings.iter().any(|w| w.contains("--dissimilarity")), "{:?}", wrong.warnings);
}
