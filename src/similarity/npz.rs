//! `.npz` archives: list the arrays with their shapes, pick the matrix by key (or the only 2-D
//! square array), and pick up a names array stored beside it.

use std::io::{Cursor, Read};

use super::RawMatrix;
use super::error::SimilarityError;
use super::npy::{self, Header};

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
    header: Result<Header, SimilarityError>,
}

impl Member {
    fn describe(&self) -> String {
        match &self.header {
            Ok(h) if h.is_string() => {
                format!("{} ({}, strings)", self.key, npy::shape_text(&h.shape))
            }
            Ok(h) => format!("{} ({})", self.key, npy::shape_text(&h.shape)),
            Err(_) => format!("{} (unreadable)", self.key),
        }
    }

    fn is_square_matrix(&self) -> bool {
        matches!(&self.header, Ok(h) if h.is_numeric() && h.shape.len() == 2 && h.shape[0] == h.shape[1])
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
    let mut archive = open(file, bytes)?;
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
        Some(k) => members.iter().find(|m| m.key == k).ok_or_else(|| {
            let keys = members.iter().map(|m| m.key.as_str());
            SimilarityError::missing_key(file, "array", k, keys, available())
        })?,
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
    let header = chosen.header.clone()?;
    let subject = format!("the array '{}'", chosen.key);
    let (rows, cols) = npy::check_matrix(file, &subject, &header, Some(square().as_str()))?;
    let values = read_member(file, &mut archive, &chosen.zip_name, &label, npy::numbers)?;

    let names = find_names(file, &mut archive, &members, key, rows);
    Ok((RawMatrix { rows, cols, values, names: None, warnings }, names))
}

fn open<'a>(file: &str, bytes: &'a [u8]) -> Result<Archive<'a>, SimilarityError> {
    npyz::npz::NpzArchive::new(Cursor::new(bytes)).map_err(|e| {
        SimilarityError::format(file, format!("is not a readable .npz (zip) archive: {e}"))
    })
}

/// The arrays of an archive, in its order (numpy.savez's arguments'), for a key chooser: each
/// array's key, its shape (empty when its header is unreadable) and whether it is a 2-D square
/// array of numbers. Headers are read as [`parse_npz`] reads them.
pub(crate) fn arrays(
    file: &str,
    bytes: &[u8],
) -> Result<Vec<(String, Vec<usize>, bool)>, SimilarityError> {
    let members = list_members(file, &mut open(file, bytes)?)?;
    Ok(members
        .into_iter()
        .map(|m| {
            let square = m.is_square_matrix();
            (m.key, m.header.map(|h| h.shape).unwrap_or_default(), square)
        })
        .collect())
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
        let header = m.header.clone()?;
        if header.shape.len() != 1 || header.shape[0] != n {
            continue;
        }
        if header.is_object() || header.is_string() {
            let label = format!("{file} (array '{}')", m.key);
            let names = read_member(file, archive, &m.zip_name, &label, npy::strings)?;
            return Ok(Some((m.key.clone(), names)));
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
        let header = npy::read_header(&label, &mut (&mut entry).take(MAX_MEMBER));
        members.push(Member { key, zip_name, header });
    }
    Ok(members)
}

/// Reads one member completely and decodes its data with `decode` (numbers or strings).
fn read_member<T>(
    file: &str,
    archive: &mut Archive,
    zip_name: &str,
    label: &str,
    decode: fn(&str, &Header, &[u8]) -> Result<T, SimilarityError>,
) -> Result<T, SimilarityError> {
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
    let (header, data) = npy::split(label, &buf)?;
    decode(label, &header, data)
}
