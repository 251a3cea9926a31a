//! The cohort in the worker: the human matrix, the images, and how they match, checked before
//! anything runs.

use std::io::Cursor;

use js_sys::Array;
use wasm_bindgen::prelude::*;

use super::{MatrixEntry, js_error, object, strings, with};
use crate::cohort;
use crate::similarity::{self, Direction, MatrixOptions, NamesSource};

/// The arrays of an `.npz` file, for the key chooser: `[{ key, shape, square }]` (`square`: a
/// 2-D n×n array of numbers, i.e. a candidate matrix). Throws when the bytes are not a zip.
#[wasm_bindgen]
pub fn npz_arrays(bytes: &[u8], file_name: String) -> Result<JsValue, JsError> {
    let mut archive = npyz::npz::NpzArchive::new(Cursor::new(bytes)).map_err(|e| {
        JsError::new(&format!("{file_name}: is not a readable .npz (zip) archive: {e}"))
    })?;
    // In the archive's order (numpy.savez's argument order), not the zip index's hash order.
    let names: Vec<String> = {
        let zip = archive.zip_archive();
        (0..zip.len())
            .filter_map(|i| {
                zip.by_index(i).ok().and_then(|e| {
                    npyz::npz::array_name_from_file_name(e.name()).map(str::to_string)
                })
            })
            .collect()
    };
    let out = Array::new();
    for key in names {
        let (shape, numeric) = match archive.by_name(&key) {
            Ok(Some(npy)) => {
                let numeric = matches!(npy.dtype(), npyz::DType::Plain(t) if matches!(t.type_char(), npyz::TypeChar::Float | npyz::TypeChar::Int | npyz::TypeChar::Uint));
                (npy.shape().to_vec(), numeric)
            }
            _ => (Vec::new(), false),
        };
        let square = numeric && shape.len() == 2 && shape[0] == shape[1];
        let shape_js: Array = shape.iter().map(|&d| JsValue::from_f64(d as f64)).collect();
        out.push(&object(&[
            ("key", key.as_str().into()),
            ("shape", shape_js.into()),
            ("square", square.into()),
        ])?);
    }
    Ok(out.into())
}

/// Reads, validates and keeps the human matrix (similarity orientation). `key`: the NPZ array,
/// JSON member or names-file category; `names_bytes`/`names_file_name`: an optional names file;
/// `dissimilarity`: the file holds an RDM (S = −D). Resolves to `{ n, names, warnings }`;
/// throws with the library's message (wrong shape, NaN with its row and column, …).
#[wasm_bindgen]
pub fn read_matrix(
    bytes: &[u8],
    file_name: String,
    key: Option<String>,
    names_bytes: Option<Vec<u8>>,
    names_file_name: Option<String>,
    dissimilarity: bool,
) -> Result<JsValue, JsError> {
    let key = key.filter(|k| !k.trim().is_empty());
    let names = names_bytes.map(|bytes| NamesSource::File {
        name: names_file_name.clone().unwrap_or_else(|| "names file".into()),
        bytes,
    });
    let options = MatrixOptions {
        key: key.clone(),
        direction: if dissimilarity { Direction::Dissimilarity } else { Direction::Similarity },
        names,
    };
    with(|s| {
        s.matrix = None;
        s.results = None;
    });
    let matrix = similarity::parse_matrix(&file_name, bytes, &options).map_err(js_error)?;
    let info = object(&[
        ("n", (matrix.n as u32).into()),
        ("names", matrix.names.as_ref().map(strings).unwrap_or(JsValue::NULL)),
        ("warnings", strings(&matrix.warnings)),
    ])?;
    with(|s| {
        s.matrix = Some(MatrixEntry {
            matrix,
            file: file_name,
            key,
            names_file: names_file_name.filter(|_| options.names.is_some()),
            dissimilarity,
        })
    });
    Ok(info)
}

/// Forgets the human matrix.
#[wasm_bindgen]
pub fn clear_matrix() {
    with(|s| {
        s.matrix = None;
        s.results = None;
    });
}

/// Decodes an image (PNG or JPEG; EXIF orientation applied) and keeps it under its file name.
/// Resolves to `{ name, width, height }`; throws with the library's message for a file that is
/// not an image (the cohort is unchanged then). A second file of the same name replaces the
/// first.
#[wasm_bindgen]
pub fn add_image(name: String, bytes: &[u8]) -> Result<JsValue, JsError> {
    let image = cohort::decode(&name, bytes).map_err(js_error)?;
    let info = object(&[
        ("name", name.as_str().into()),
        ("width", image.width().into()),
        ("height", image.height().into()),
    ])?;
    with(|s| {
        s.images.insert(name, image);
        s.results = None;
    });
    Ok(info)
}

/// Forgets one image; true when it was there.
#[wasm_bindgen]
pub fn remove_image(name: String) -> bool {
    with(|s| {
        s.results = None;
        s.images.remove(&name).is_some()
    })
}

/// Forgets every image.
#[wasm_bindgen]
pub fn clear_images() {
    with(|s| {
        s.images.clear();
        s.results = None;
    });
}

/// The images' names in row order (sorted, as the command line orders a folder).
#[wasm_bindgen]
pub fn image_names() -> JsValue {
    with(|s| strings(s.images.keys()))
}

/// The row of the matrix that an image matches, for the table only (the library's
/// `match_to_images` decides): exact file name, else the same name without extension.
fn row_of(image: &str, names: &[String]) -> Option<usize> {
    let clean = |s: &str| s.trim().rsplit(['/', '\\']).next().unwrap_or("").to_string();
    let stem = |s: &str| match s.rfind('.') {
        Some(i) if i > 0 => s[..i].to_string(),
        _ => s.to_string(),
    };
    let names: Vec<String> = names.iter().map(|n| clean(n)).collect();
    names
        .iter()
        .position(|n| *n == image)
        .or_else(|| names.iter().position(|n| *n == stem(image) || stem(n) == stem(image)))
}

/// How the matrix's rows match the images, before running: `{ ok, images, rows, report,
/// problems, warnings, table }`. Never throws for a mismatch: every problem is listed in
/// `problems` (no images, fewer than 4, no matrix, the library's matching error) and `table`
/// has one entry per image `{ image, row, name }` (row counting from 1, null when unmatched).
#[wasm_bindgen]
pub fn check_matching() -> Result<JsValue, JsError> {
    with(|s| {
        let names: Vec<String> = s.images.keys().cloned().collect();
        let mut problems: Vec<String> = Vec::new();
        let mut report: Vec<String> = Vec::new();
        if names.is_empty() {
            problems.push("no images yet: add the cohort's PNG or JPEG files".into());
        } else if names.len() < 4 {
            problems.push(format!("{} image(s): alignment needs at least 4", names.len()));
        }
        let table = Array::new();
        let (rows, warnings) = match &s.matrix {
            None => {
                problems.push("no human similarity matrix yet".into());
                (JsValue::NULL, JsValue::from(Array::new()))
            }
            Some(entry) => {
                if !names.is_empty() {
                    match similarity::match_to_images(&entry.matrix, &names) {
                        Ok(m) => report = m.report,
                        Err(e) => problems.push(e.to_string()),
                    }
                }
                ((entry.matrix.n as u32).into(), strings(&entry.matrix.warnings))
            }
        };
        let matrix_names = s.matrix.as_ref().and_then(|m| m.matrix.names.clone());
        let n_rows = s.matrix.as_ref().map(|m| m.matrix.n);
        for (i, image) in names.iter().enumerate() {
            let row = match (&matrix_names, n_rows) {
                (Some(list), _) => row_of(image, list),
                (None, Some(n)) if i < n => Some(i),
                _ => None,
            };
            let name = match (&matrix_names, row) {
                (Some(list), Some(r)) => JsValue::from_str(&list[r]),
                _ => JsValue::NULL,
            };
            table.push(&object(&[
                ("image", image.as_str().into()),
                ("row", row.map(|r| JsValue::from_f64((r + 1) as f64)).unwrap_or(JsValue::NULL)),
                ("name", name),
            ])?);
        }
        object(&[
            ("ok", problems.is_empty().into()),
            ("images", (names.len() as u32).into()),
            ("rows", rows),
            ("report", strings(&report)),
            ("problems", strings(&problems)),
            ("warnings", warnings),
            ("table", table.into()),
        ])
    })
}

/// The human matrix in image order, or why not (the library's message).
pub(crate) fn matched_similarity(
    s: &super::Session,
) -> Result<(Vec<String>, similarity::Matched), JsError> {
    let names: Vec<String> = s.images.keys().cloned().collect();
    if names.len() < 4 {
        return Err(JsError::new(&format!("{} image(s): alignment needs at least 4", names.len())));
    }
    let entry = s.matrix.as_ref().ok_or_else(|| JsError::new("no human similarity matrix yet"))?;
    let matched = similarity::match_to_images(&entry.matrix, &names).map_err(js_error)?;
    Ok((names, matched))
}
