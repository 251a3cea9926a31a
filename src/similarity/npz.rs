//! `.npz` archives: list the arrays with their shapes, pick the matrix by key (or the only 2-D
//! square array), and pick up a names array stored beside it.

use std::io::{Cursor, Read};

use super::RawMatrix;
use super::error::SimilarityError;
use super::npy::{self, Data, Header};

/// Members larger than this (uncompressed) are refused: 1 GiB holds a float64 matrix of
/// 11,585 images, far beyond any human similarity data set.
const MAX_MEMBER: u64 = 1 << 30;

/// Arrays that may hold one name per row, in the order they are tried (after `{key}_names`).
pub(crate) const NAME_KEYS: [&str; 3] = ["names", "fnames", "image_files"];

/// The outcome of looking for a names array: its key and the names, none, or why it is unusable.
pub(crate) type StoredNames = Result<Option<(String, Vec<String>)>, SimilarityError>;

/// One array of the archive.
struct Member {
    /// The key (zip member name without `.npy`).
    key: String,
    /// The zip member name.
    zip_name: String,
    /// Its header, or why it could not be read.
    header: Result<Header, String>,
}

impl Member {
    fn describe(&self) -> String {
        match &self.header {
            Ok(h) if h.dtype.is_string() => {
                format!("{} ({}, strings)", self.key, npy::shape_text(&h.shape))
            }
            Ok(h) => format!("{} ({})", self.key, npy::shape_text(&h.shape)),
            Err(_) => format!("{} (unreadable)", self.key),
        }
    }

    fn is_square_matrix(&self) -> bool {
        matches!(&self.header, Ok(h) if h.dtype.is_numeric() && h.shape.len() == 2 && h.shape[0] == h.shape[1])
    }
}

type Archive<'a> = npyz::npz::NpzArchive<Cursor<&'a [u8]>>;

/// Reads the matrix (and names, when stored beside it) from an `.npz` archive.
///
/// Returns the matrix and, separately, the outcome of looking for a names array, so that the
/// caller can ignore a broken names array when a names file is given.
pub(crate) fn parse_npz(
    file: &str,
    bytes: &[u8],
    key: Option<&str>,
) -> Result<(RawMatrix, StoredNames), SimilarityError> {
    let mut archive: Archive = npyz::npz::NpzArchive::new(Cursor::new(bytes)).map_err(|e| {
        SimilarityError::format(file, format!("is not a readable .npz (zip) archive: {e}"))
    })?;
    let members = list_members(file, &mut archive)?;
    if members.is_empty() {
        return Err(SimilarityError::format(
            file,
            "holds no arrays (.npy members); expected an archive written by numpy.savez",
        ));
    }
    let available = || members.iter().map(Member::describe).collect::<Vec<_>>().join(", ");
    let square = || {
        let v: Vec<String> =
            members.iter().filter(|m| m.is_square_matrix()).map(Member::describe).collect();
        if v.is_empty() { "none".to_string() } else { v.join(", ") }
    };

    let mut warnings = Vec::new();
    let chosen = match key {
        Some(k) => {
            members.iter().find(|m| m.key == k).ok_or_else(|| SimilarityError::MissingKey {
                file: file.to_string(),
                what: "array".into(),
                key: k.to_string(),
                hint: suggestion(k, members.iter().map(|m| m.key.as_str())),
                available: available(),
            })?
        }
        None => {
            let candidates: Vec<&Member> =
                members.iter().filter(|m| m.is_square_matrix()).collect();
            match candidates.as_slice() {
                [only] => {
                    if members.len() > 1 {
                        warnings.push(format!("{file}: no key given; used the array '{}', the only 2-D square array in the file", only.key));
                    }
                    *only
                }
                [] => {
                    return Err(SimilarityError::KeyRequired {
                        file: file.to_string(),
                        message: "holds no 2-D square array; expected one n×n matrix (choose an array with --key, or average per-subject matrices first)".into(),
                        available: available(),
                    });
                }
                _ => {
                    return Err(SimilarityError::KeyRequired {
                        file: file.to_string(),
                        message: format!(
                            "holds {} 2-D square arrays; choose one with --key",
                            candidates.len()
                        ),
                        available: available(),
                    });
                }
            }
        }
    };

    let label = format!("{file} (array '{}')", chosen.key);
    let header = chosen.header.clone().map_err(|why| SimilarityError::format(&label, why))?;
    if !header.dtype.is_numeric() {
        return Err(SimilarityError::WrongShape {
            file: file.to_string(),
            message: format!(
                "the array '{}' holds {}; expected numbers. 2-D square arrays in the file: {}",
                chosen.key,
                if header.dtype.is_string() {
                    "strings".to_string()
                } else {
                    format!("{:?}", header.dtype)
                },
                square()
            ),
        });
    }
    match header.shape.len() {
        2 => {}
        3 => {
            return Err(SimilarityError::WrongShape {
                file: file.to_string(),
                message: format!(
                    "the array '{}' is 3-D ({}), for example one matrix per subject; expected a 2-D square matrix. Choose a 2-D key ({}), or average the matrices first (e.g. np.mean(x, axis=0))",
                    chosen.key,
                    npy::shape_text(&header.shape),
                    square()
                ),
            });
        }
        d => {
            return Err(SimilarityError::WrongShape {
                file: file.to_string(),
                message: format!(
                    "the array '{}' is {}-D ({}); expected a 2-D square matrix. 2-D square arrays in the file: {}",
                    chosen.key,
                    d,
                    npy::shape_text(&header.shape),
                    square()
                ),
            });
        }
    }
    let array = read_member(file, &mut archive, &chosen.zip_name, &label)?;
    let Data::Numbers(values) = array.data else {
        return Err(SimilarityError::format(&label, "holds strings; expected numbers"));
    };
    let (rows, cols) = (array.header.shape[0], array.header.shape[1]);

    let names = find_names(file, &mut archive, &members, key, rows);
    Ok((RawMatrix { rows, cols, values, names: None, warnings }, names))
}

/// Looks for `{key}_names`, `{key}_fnames`, `names`, `fnames`, `image_files`: a 1-D string array
/// of `n` names. Wrong-length arrays are skipped; an unreadable (e.g. pickled) one is an error.
fn find_names(
    file: &str,
    archive: &mut Archive,
    members: &[Member],
    key: Option<&str>,
    n: usize,
) -> StoredNames {
    let mut keys: Vec<String> = Vec::new();
    if let Some(k) = key {
        keys.push(format!("{k}_names"));
        keys.push(format!("{k}_fnames"));
    }
    keys.extend(NAME_KEYS.iter().map(|s| s.to_string()));
    for k in keys {
        let Some(m) = members.iter().find(|m| m.key == k) else {
            continue;
        };
        let label = format!("{file} (array '{}')", m.key);
        let header = m.header.clone().map_err(|why| SimilarityError::format(&label, why))?;
        if header.shape.len() != 1 || header.shape[0] != n {
            continue;
        }
        if matches!(header.dtype, npy::Dtype::Object) || header.dtype.is_string() {
            let array = read_member(file, archive, &m.zip_name, &label)?;
            if let Data::Strings(names) = array.data {
                return Ok(Some((m.key.clone(), names)));
            }
        }
    }
    Ok(None)
}

/// Lists the `.npy` members and reads each header.
fn list_members(file: &str, archive: &mut Archive) -> Result<Vec<Member>, SimilarityError> {
    let zip = archive.zip_archive();
    let mut members = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| {
            SimilarityError::format(
                file,
                format!("member {} of the archive cannot be read: {e}", i + 1),
            )
        })?;
        let zip_name = entry.name().to_string();
        let Some(key) = npyz::npz::array_name_from_file_name(&zip_name).map(str::to_string) else {
            continue;
        };
        let label = format!("{file} (array '{key}')");
        let header =
            npy::read_header(&label, &mut (&mut entry).take(MAX_MEMBER)).map_err(|e| e.to_string());
        members.push(Member { key, zip_name, header });
    }
    Ok(members)
}

/// Reads one member completely and decodes it.
fn read_member(
    file: &str,
    archive: &mut Archive,
    zip_name: &str,
    label: &str,
) -> Result<npy::Array, SimilarityError> {
    let zip = archive.zip_archive();
    let entry = zip.by_name(zip_name).map_err(|e| {
        SimilarityError::format(file, format!("the member '{zip_name}' cannot be read: {e}"))
    })?;
    let declared = entry.size();
    if declared > MAX_MEMBER {
        return Err(SimilarityError::format(
            label,
            format!("is {declared} bytes uncompressed; expected at most {MAX_MEMBER}"),
        ));
    }
    let mut buf = Vec::with_capacity(usize::try_from(declared).unwrap_or(0).min(1 << 24));
    entry
        .take(MAX_MEMBER)
        .read_to_end(&mut buf)
        .map_err(|e| SimilarityError::format(label, format!("cannot be decompressed: {e}")))?;
    npy::read_npy(label, &buf)
}

/// " (did you mean 'animals'?)" when a key differs only in case or by a prefix.
pub(crate) fn suggestion<'a>(key: &str, keys: impl Iterator<Item = &'a str>) -> String {
    let lower = key.to_lowercase();
    for k in keys {
        let kl = k.to_lowercase();
        if kl == lower || (!lower.is_empty() && (kl.starts_with(&lower) || lower.starts_with(&kl)))
        {
            return format!(" (did you mean '{k}'?)");
        }
    }
    String::new()
}
