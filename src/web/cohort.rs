//! The cohort in the worker: the human matrix, the images, and how they match, checked before
//! anything runs.

use serde::Serialize;
#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

use super::{Js, MatrixEntry, with};
use crate::cohort;
use crate::error::{Error, Result};
use crate::pipeline;
use crate::similarity::{self, Direction, MatrixOptions, NamesSource};
use crate::summary::MatrixSource;

/// One array of an `.npz` file.
#[derive(Serialize)]
pub struct NpzArray {
    pub key: String,
    pub shape: Vec<u64>,
    /// A 2-D n×n array of numbers (booleans included, as the reader takes them): a candidate.
    pub square: bool,
}

/// The arrays of an `.npz` file, for the key chooser, in the archive's order (numpy.savez's
/// argument order, not the zip index's hash order).
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn npz_arrays(bytes: &[u8], file_name: String) -> Result<Js<Vec<NpzArray>>> {
    let arrays = similarity::npz::arrays(&file_name, bytes)?;
    Ok(Js(arrays
        .into_iter()
        .map(|(key, shape, square)| NpzArray {
            key,
            shape: shape.into_iter().map(|d| d as u64).collect(),
            square,
        })
        .collect()))
}

#[derive(Serialize)]
pub struct MatrixInfo {
    pub n: usize,
    pub names: Option<Vec<String>>,
    pub warnings: Vec<String>,
}

/// Reads, validates and keeps the human matrix (similarity orientation). `key`: the NPZ array,
/// JSON member or names-file category; `names_bytes`/`names_file_name`: an optional names file;
/// `dissimilarity`: the file holds an RDM (S = −D). Throws with the library's message (wrong
/// shape, NaN with its row and column, …).
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn read_matrix(
    bytes: &[u8],
    file_name: String,
    key: Option<String>,
    names_bytes: Option<Vec<u8>>,
    names_file_name: Option<String>,
    dissimilarity: bool,
) -> Result<Js<MatrixInfo>> {
    let key = key.filter(|k| !k.trim().is_empty());
    let names = names_bytes.map(|bytes| NamesSource::File {
        name: names_file_name.clone().unwrap_or_else(|| "names file".into()),
        bytes,
    });
    let direction = if dissimilarity { Direction::Dissimilarity } else { Direction::Similarity };
    let options = MatrixOptions { key: key.clone(), direction, names };
    with(|s| {
        s.matrix = None;
        s.results = None;
    });
    let matrix = similarity::parse_matrix(&file_name, bytes, &options)?;
    let info =
        MatrixInfo { n: matrix.n, names: matrix.names.clone(), warnings: matrix.warnings.clone() };
    let source = MatrixSource {
        file: file_name,
        key,
        names: names_file_name.filter(|_| options.names.is_some()),
        direction,
    };
    with(|s| s.matrix = Some(MatrixEntry { matrix, source }));
    Ok(Js(info))
}

/// Forgets the human matrix.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn clear_matrix() {
    with(|s| {
        s.matrix = None;
        s.results = None;
    });
}

#[derive(Serialize)]
pub struct ImageInfo {
    pub name: String,
    pub width: u32,
    pub height: u32,
}

/// Decodes an image (PNG or JPEG; EXIF orientation applied) and keeps it under its file name.
/// Throws with the library's message for a file that is not an image (the cohort is unchanged
/// then). A second file of the same name replaces the first.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn add_image(name: String, bytes: &[u8]) -> Result<Js<ImageInfo>> {
    let image = cohort::decode(&name, bytes)?;
    let info = ImageInfo { name: name.clone(), width: image.width(), height: image.height() };
    with(|s| {
        s.images.insert(name, image);
        s.results = None;
    });
    Ok(Js(info))
}

/// Forgets one image; true when it was there.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn remove_image(name: String) -> bool {
    with(|s| {
        s.results = None;
        s.images.remove(&name).is_some()
    })
}

/// Forgets every image.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn clear_images() {
    with(|s| {
        s.images.clear();
        s.results = None;
    });
}

/// The images' names in row order (sorted, as the command line orders a folder).
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn image_names() -> Vec<String> {
    with(|s| s.images.keys().cloned().collect())
}

/// One image and the matrix row it pairs with.
#[derive(Serialize)]
pub struct TableRow {
    pub image: String,
    /// Counting from 1; `None` when no row pairs with the image.
    pub row: Option<usize>,
    /// The row's name in the matrix, when it has names.
    pub name: Option<String>,
}

/// How the matrix's rows match the images, before running.
#[derive(Serialize)]
pub struct MatchingReport {
    /// Nothing stops the analysis.
    pub ok: bool,
    pub images: usize,
    pub rows: Option<usize>,
    pub report: Vec<String>,
    /// Everything that stops the analysis (no images, too few, no matrix, the matching error).
    pub problems: Vec<String>,
    pub warnings: Vec<String>,
    /// One entry per image: the library's pairing, the one the analysis uses.
    pub table: Vec<TableRow>,
}

/// How the matrix's rows match the images. Never throws for a mismatch: every problem is listed.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn check_matching() -> Js<MatchingReport> {
    with(|s| {
        let names: Vec<String> = s.images.keys().cloned().collect();
        let mut problems: Vec<String> = Vec::new();
        if names.is_empty() {
            problems.push("no images yet: add the cohort's PNG or JPEG files".into());
        } else if let Err(e) = pipeline::check_size(names.len()) {
            problems.push(e.to_string());
        }
        let Some(entry) = &s.matrix else {
            problems.push("no human similarity matrix yet".into());
            let table = names.iter().map(|i| TableRow { image: i.clone(), row: None, name: None });
            return Js(MatchingReport {
                ok: false,
                images: names.len(),
                rows: None,
                report: Vec::new(),
                problems,
                warnings: Vec::new(),
                table: table.collect(),
            });
        };
        let matrix = &entry.matrix;
        let mut report = Vec::new();
        if !names.is_empty() {
            match similarity::match_to_images(matrix, &names) {
                Ok(m) => report = m.report,
                Err(e) => problems.push(e.to_string()),
            }
        }
        let rows = similarity::pair_images(matrix, &names)
            .map(|p| p.rows)
            .unwrap_or_else(|_| vec![None; names.len()]);
        let table = names
            .iter()
            .zip(rows)
            .map(|(image, row)| TableRow {
                image: image.clone(),
                row: row.map(|r| r + 1),
                name: row.and_then(|r| matrix.names.as_ref().map(|n| n[r].clone())),
            })
            .collect();
        Js(MatchingReport {
            ok: problems.is_empty(),
            images: names.len(),
            rows: Some(matrix.n),
            report,
            problems,
            warnings: matrix.warnings.clone(),
            table,
        })
    })
}

/// The cohort's names and the human matrix in image order, or why not (the library's message).
pub(crate) fn matched_similarity(s: &super::Session) -> Result<(Vec<String>, similarity::Matched)> {
    let names: Vec<String> = s.images.keys().cloned().collect();
    pipeline::check_size(names.len())?;
    let entry =
        s.matrix.as_ref().ok_or_else(|| Error::Invalid("no human similarity matrix yet".into()))?;
    let matched = pipeline::match_cohort(&entry.matrix, &names)?;
    Ok((names, matched))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(seed: u64) -> Vec<u8> {
        super::super::testing::png(20, 24, seed)
    }

    #[test]
    fn the_table_shows_the_pairing_the_analysis_uses_and_every_problem() {
        super::super::testing::cpu_session();
        let empty = check_matching().0;
        assert!(!empty.ok);
        assert_eq!(empty.problems.len(), 2, "{:?}", empty.problems);

        for name in ["b.png", "a.png", "c.png"] {
            add_image(name.into(), &png(name.len() as u64)).unwrap();
        }
        assert_eq!(image_names(), ["a.png", "b.png", "c.png"]);
        let csv = "name,c,a,b\nc,1,0.2,0.3\na,0.2,1,0.4\nb,0.3,0.4,1\n";
        let e = read_matrix(csv.as_bytes(), "h.csv".into(), None, None, None, false);
        let message = e.err().expect("a 3×3 matrix is refused").to_string();
        assert!(message.contains("h.csv"), "{message}");

        add_image("d.png".into(), &png(9)).unwrap();
        let csv =
            "name,c,a,b,zz\nc,1,0.2,0.3,0.1\na,0.2,1,0.4,0.1\nb,0.3,0.4,1,0.1\nzz,0.1,0.1,0.1,1\n";
        let info = read_matrix(csv.as_bytes(), "h.csv".into(), None, None, None, false).unwrap().0;
        assert_eq!(info.n, 4);
        let r = check_matching().0;
        assert!(!r.ok, "d.png has no row");
        let rows: Vec<Option<usize>> = r.table.iter().map(|t| t.row).collect();
        assert_eq!(rows, [Some(2), Some(3), Some(1), None]);
        assert_eq!(r.table[0].name.as_deref(), Some("a"));

        assert!(remove_image("d.png".into()));
        add_image("zz.png".into(), &png(4)).unwrap();
        let r = check_matching().0;
        assert!(r.ok, "{:?}", r.problems);
        let (names, matched) = with(|s| matched_similarity(s)).unwrap();
        assert_eq!(names.len(), 4);
        let table: Vec<usize> = r.table.iter().map(|t| t.row.unwrap() - 1).collect();
        assert_eq!(table, matched.rows, "the table is the analysis's pairing");
        assert!(add_image("x.png".into(), b"not an image").is_err());
        assert_eq!(image_names().len(), 4, "a bad file leaves the cohort as it was");
    }
}
