//! Human similarity / dissimilarity matrices: read them from CSV, TSV, TXT, JSON, NPY or NPZ
//! bytes, validate them, turn them into similarity orientation, and match their rows to images.
//!
//! Works on bytes ([`parse_matrix`]) so that the browser build can use it; [`load_matrix`] is
//! the native convenience that reads files first.

mod error;
mod json;
mod matching;
mod names;
pub(crate) mod npy;
pub(crate) mod npz;
mod text;
mod validate;

use serde::{Deserialize, Serialize};

pub use error::SimilarityError;
pub use matching::{Pairing, match_to_images, pair_images};

/// Whether larger values of the given matrix mean "more similar" or "more different".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Larger = more similar (e.g. Peterson et al.'s ratings).
    #[default]
    Similarity,
    /// Larger = more different (an RDM); converted with S = −D.
    Dissimilarity,
}

/// How to read a matrix: which array/member (`key`), its direction, and an optional names file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatrixOptions {
    /// NPZ array, JSON member or names-file category to use (e.g. `animals`, `mean_rdm`).
    pub key: Option<String>,
    /// Direction of the values in the file.
    pub direction: Direction,
    /// A separate file naming the rows, overriding names stored with the matrix.
    pub names: Option<NamesSource>,
}

/// Where row names come from, when not stored with the matrix.
#[derive(Debug, Clone, PartialEq)]
pub enum NamesSource {
    /// A names file's name (for messages and format detection) and bytes: a JSON list of
    /// strings, Peterson's `{category: {"fnames": [...]}}` (category = the key), a 1-D string
    /// `.npy`, or plain text with one name per line.
    File { name: String, bytes: Vec<u8> },
}

/// A validated human matrix in similarity orientation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HumanMatrix {
    /// Number of images (rows = columns), at least 4.
    pub n: usize,
    /// n·n values, row-major, symmetric, similarity orientation (a dissimilarity D becomes −D).
    pub values: Vec<f64>,
    /// Row names (file names, directories removed), unique, when the input had them.
    pub names: Option<Vec<String>>,
    /// Things the user should know (symmetrised, direction looks wrong, key ignored …).
    pub warnings: Vec<String>,
}

/// A human matrix reordered to match a list of images.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Matched {
    /// n·n similarity values, row-major, rows and columns in the order of the images given.
    pub similarity: Vec<f64>,
    /// Per image, the row of the matrix (as read, counting from 0) that holds its judgments.
    pub rows: Vec<usize>,
    /// One line per notable thing, e.g. "matched 120 rows to images by name".
    pub report: Vec<String>,
}

/// What a reader produces before validation: any shape, names not yet checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawMatrix {
    pub rows: usize,
    pub cols: usize,
    /// rows·cols values, row-major, as stored in the file.
    pub values: Vec<f64>,
    pub names: Option<Vec<String>>,
    pub warnings: Vec<String>,
}

/// The file formats understood.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Text(text::TextKind),
    Json,
    Npy,
    Npz,
}

impl Format {
    fn label(self) -> &'static str {
        match self {
            Format::Text(_) => "text table",
            Format::Json => "JSON",
            Format::Npy => ".npy",
            Format::Npz => ".npz",
        }
    }
}

/// Picks the format from the extension (case-insensitive), letting unmistakable binary content
/// (the .npy signature, a zip header) win, and sniffing text when the extension is unknown.
fn detect(file: &str, bytes: &[u8], warnings: &mut Vec<String>) -> Format {
    let ext = std::path::Path::new(file)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let by_ext = match ext.as_deref() {
        Some("csv") => Some(Format::Text(text::TextKind::Csv)),
        Some("tsv" | "tab") => Some(Format::Text(text::TextKind::Tsv)),
        Some("txt" | "dat") => Some(Format::Text(text::TextKind::Auto)),
        Some("json") => Some(Format::Json),
        Some("npy") => Some(Format::Npy),
        Some("npz") => Some(Format::Npz),
        _ => None,
    };
    let by_magic = if bytes.starts_with(npy::MAGIC) {
        Some(Format::Npy)
    } else if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        Some(Format::Npz)
    } else {
        None
    };
    match (by_ext, by_magic) {
        (Some(e), Some(m)) if e != m => {
            warnings.push(format!(
                "{file}: the content is a {} file despite the extension; read it as {}",
                m.label(),
                m.label()
            ));
            m
        }
        (Some(e), _) => e,
        (None, Some(m)) => m,
        (None, None) => {
            let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
            match body.iter().find(|b| !b.is_ascii_whitespace()) {
                Some(b'[' | b'{') => Format::Json,
                _ => Format::Text(text::TextKind::Auto),
            }
        }
    }
}

/// Reads, validates and orients a human matrix from the bytes of a file named `file_name`
/// (the name picks the format and appears in every message).
///
/// Formats: CSV/TSV/TXT (optional header row and names column), JSON (`[[...]]` or
/// `{"names", "matrix"}`), NPY (2-D numeric), NPZ (array chosen by `options.key`, names from a
/// `names`/`fnames`/`image_files` string array). Checks: square, n ≥ 4, finite, symmetric
/// (slightly asymmetric matrices are averaged with their transpose, with a warning), unique
/// names, and a diagonal consistent with `options.direction` (warning). A dissimilarity D is
/// returned as S = −D.
pub fn parse_matrix(
    file_name: &str,
    bytes: &[u8],
    options: &MatrixOptions,
) -> Result<HumanMatrix, SimilarityError> {
    let file = file_name;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(SimilarityError::Empty { file: file.to_string() });
    }
    let key = options.key.as_deref();
    let direction = options.direction;
    let mut warnings = Vec::new();
    let format = detect(file, bytes, &mut warnings);
    let key_ignored = |warnings: &mut Vec<String>| {
        if let Some(k) = key {
            warnings.push(format!(
                "{file}: the key '{k}' was ignored: a {} file holds a single matrix",
                format.label()
            ));
        }
    };
    let (mut raw, stored_names) = match format {
        Format::Text(kind) => {
            key_ignored(&mut warnings);
            (text::parse_table(file, bytes, kind)?, Ok(None))
        }
        Format::Json => {
            (json::parse_json(file, &text::decode(file, bytes)?, key, direction)?, Ok(None))
        }
        Format::Npy => {
            key_ignored(&mut warnings);
            (npy::read_matrix(file, bytes)?, Ok(None))
        }
        Format::Npz => npz::parse_npz(file, bytes, key)?,
    };
    warnings.append(&mut raw.warnings);

    // names: a names file wins over names stored with the matrix
    let mut names_file = file.to_string();
    let stored_names = match stored_names {
        Ok(Some((k, list))) => Ok(Some((format!("{file} (array '{k}')"), list))),
        Ok(None) => Ok(raw.names.take().map(|list| (file.to_string(), list))),
        Err(e) => Err(e),
    };
    match &options.names {
        Some(NamesSource::File { name, bytes }) => {
            let list = names::parse_names_file(name, bytes, key)?;
            match stored_names {
                Ok(Some((from, own))) => {
                    let clean =
                        |v: &[String]| v.iter().map(|s| names::clean_name(s)).collect::<Vec<_>>();
                    if clean(&own) != clean(&list) {
                        warnings.push(format!(
                            "{from}: its row names differ from those in {name}; used {name}"
                        ));
                    }
                }
                Ok(None) => {}
                Err(e) => warnings
                    .push(format!("ignored the names stored with the matrix ({e}); used {name}")),
            }
            raw.names = Some(list);
            names_file = name.clone();
        }
        None => {
            if let Some((from, list)) = stored_names? {
                raw.names = Some(list);
                names_file = from;
            }
        }
    }

    raw.warnings = warnings;
    validate::validate(file, &names_file, raw, direction)
}

/// Native convenience: reads the matrix file (and the names file, if any) and calls
/// [`parse_matrix`]. Messages name the paths as given.
pub fn load_matrix(
    path: &std::path::Path,
    names_path: Option<&std::path::Path>,
    key: Option<&str>,
    direction: Direction,
) -> Result<HumanMatrix, SimilarityError> {
    let read = |p: &std::path::Path| {
        std::fs::read(p).map_err(|e| SimilarityError::Io {
            file: p.display().to_string(),
            message: e.to_string(),
        })
    };
    let bytes = read(path)?;
    let names = match names_path {
        Some(p) => Some(NamesSource::File { name: p.display().to_string(), bytes: read(p)? }),
        None => None,
    };
    let options = MatrixOptions { key: key.map(str::to_string), direction, names };
    parse_matrix(&path.display().to_string(), &bytes, &options)
}

#[cfg(test)]
mod tests;
