//! Writing results: NPY arrays, name lists, JSON.

use std::path::Path;

use npyz::WriterBuilder;

use crate::error::{Error, Result};

/// A little-endian f32 `.npy` in memory.
pub fn npy_f32_bytes(shape: &[usize], values: &[f32]) -> Result<Vec<u8>> {
    if shape.iter().product::<usize>() != values.len() {
        return Err(Error::Invalid(format!(
            "npy: shape {shape:?} holds {} values, given {}",
            shape.iter().product::<usize>(),
            values.len()
        )));
    }
    let mut out = Vec::new();
    let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let io = |e: std::io::Error| Error::Invalid(format!("npy: {e}"));
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&shape)
        .writer(&mut out)
        .begin_nd()
        .map_err(io)?;
    writer.extend(values.iter().copied()).map_err(io)?;
    writer.finish().map_err(io)?;
    Ok(out)
}

/// Writes a little-endian f32 array with the given shape as `.npy`.
pub fn write_npy_f32(path: &Path, shape: &[usize], values: &[f32]) -> Result<()> {
    let bytes = npy_f32_bytes(shape, values).map_err(|e| match e {
        Error::Invalid(m) => Error::Invalid(format!("{}: {m}", path.display())),
        other => other,
    })?;
    std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

/// An `.npy` array read back (`file` names it in errors) as f32 values, in C order, and its
/// shape: the readers of `crate::similarity` check the header and the data's size before
/// anything is allocated, so a hostile header is an error, not an allocation.
pub fn read_npy_f32(file: &str, bytes: &[u8]) -> Result<(Vec<f32>, Vec<usize>)> {
    use crate::similarity::npy;
    let (header, data) = npy::split(file, bytes)?;
    let values = npy::numbers(file, &header, data)?;
    Ok((values.into_iter().map(|v| v as f32).collect(), header.shape))
}

/// One line per name, each ending in a newline.
pub fn lines_text(lines: &[String]) -> String {
    lines.iter().flat_map(|l| [l.as_str(), "\n"]).collect()
}

/// Writes [`lines_text`].
pub fn write_lines(path: &Path, lines: &[String]) -> Result<()> {
    std::fs::write(path, lines_text(lines)).map_err(|e| Error::io(path, e))
}

/// The files of an analysis that hold its scores, by file name: `images.txt`, `ais_image.npy`
/// and `.csv`, `ais_dataset.npy`, `ais_dataset_r2.npy`, `ais_dataset.csv` and `summary.json`.
/// `alignmap analyze` writes them to its folder and the results zip (the page's export included)
/// stores them, so both hold the same bytes.
pub fn score_files(
    names: &[String],
    scores: &ScoreTables<'_>,
    summary: &impl serde::Serialize,
) -> Result<Vec<(&'static str, Vec<u8>)>> {
    let (n, channels) = (names.len(), scores.channels);
    let f32s = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
    let both: Vec<f64> = scores.dataset_r.iter().chain(scores.dataset_r2).copied().collect();
    let columns = ["ais_r".to_string(), "ais_r2".to_string()];
    let contents = [
        lines_text(names).into_bytes(),
        npy_f32_bytes(&[n, channels], &f32s(scores.image))?,
        score_csv(names, scores.image, channels).into_bytes(),
        npy_f32_bytes(&[channels], &f32s(scores.dataset_r))?,
        npy_f32_bytes(&[channels], &f32s(scores.dataset_r2))?,
        score_csv(&columns, &both, channels).into_bytes(),
        json_text(summary)?.into_bytes(),
    ];
    Ok(SCORE_FILES.into_iter().zip(contents).collect())
}

/// The file names of [`score_files`], in its order.
pub const SCORE_FILES: [&str; 7] = [
    "images.txt",
    "ais_image.npy",
    "ais_image.csv",
    "ais_dataset.npy",
    "ais_dataset_r2.npy",
    "ais_dataset.csv",
    "summary.json",
];

/// Reads back a [`score_csv`] table at full precision: rows named `rows`, `columns` values each,
/// every one equal to `as_f32` (the table's float32 `.npy` array) once rounded to float32.
/// `file` names the table in errors.
pub fn read_score_csv(
    file: &str,
    text: &str,
    rows: &[String],
    as_f32: &[f32],
    columns: usize,
) -> Result<Vec<f64>> {
    let invalid = |what: String| Error::Invalid(format!("{file}: {what}"));
    if as_f32.len() != rows.len() * columns {
        return Err(invalid(format!(
            "its array holds {} values; expected {} rows × {columns}",
            as_f32.len(),
            rows.len()
        )));
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let mut values = Vec::with_capacity(rows.len() * columns);
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| invalid(e.to_string()))?;
        let expected = rows.get(i).map(String::as_str);
        if record.len() != columns + 1 || record.get(0) != expected {
            return Err(invalid(format!(
                "row {}: expected {} followed by {columns} numbers",
                i + 2,
                expected.unwrap_or("no further row")
            )));
        }
        for (k, cell) in record.iter().skip(1).enumerate() {
            let v: f64 = cell
                .parse()
                .map_err(|_| invalid(format!("row {}, fm{k}: '{cell}' is not a number", i + 2)))?;
            let array = as_f32[values.len()];
            if (v as f32).to_bits() != array.to_bits() && !(v.is_nan() && array.is_nan()) {
                return Err(invalid(format!(
                    "row {}, fm{k}: {v} disagrees with the .npy array's {array}",
                    i + 2
                )));
            }
            values.push(v);
        }
    }
    if values.len() != as_f32.len() {
        return Err(invalid(format!("expected {} rows", rows.len())));
    }
    Ok(values)
}

/// The score arrays [`score_files`] writes (as [`crate::ablation::AisScores`] holds them, or as
/// read back from a results zip).
pub struct ScoreTables<'a> {
    pub channels: usize,
    /// `n × channels`, row-major.
    pub image: &'a [f64],
    pub dataset_r: &'a [f64],
    pub dataset_r2: &'a [f64],
}

impl<'a> From<&'a crate::ablation::AisScores> for ScoreTables<'a> {
    fn from(s: &'a crate::ablation::AisScores) -> Self {
        ScoreTables {
            channels: s.channels,
            image: &s.image,
            dataset_r: &s.dataset_r,
            dataset_r2: &s.dataset_r2,
        }
    }
}

/// Writes [`json_text`].
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    std::fs::write(path, json_text(value)?).map_err(|e| Error::io(path, e))
}

/// Pretty JSON with a final newline and keys in sorted order, whether it came from a struct or
/// from a file read back: every JSON file alignmap writes, on disk or in a zip.
pub fn json_text(value: &impl serde::Serialize) -> Result<String> {
    let error = |e: serde_json::Error| Error::Invalid(format!("cannot write JSON: {e}"));
    let sorted = serde_json::to_value(value).map_err(error)?;
    let mut text = serde_json::to_string_pretty(&sorted).map_err(error)?;
    text.push('\n');
    Ok(text)
}

/// A CSV field, quoted when it needs to be.
pub fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

/// A score table as CSV text: header `image,fm0,fm1,…`, one row per name (quoted when it needs
/// to be), numbers as Rust prints an f64 (shortest round-trip digits). `ais_image.csv` and
/// `ais_dataset.csv` of `analyze`, the results zip and the page's export.
pub fn score_csv(row_names: &[String], values: &[f64], columns: usize) -> String {
    use std::fmt::Write as _;
    let mut text = String::from("image");
    for k in 0..columns {
        let _ = write!(text, ",fm{k}");
    }
    text.push('\n');
    for (name, row) in row_names.iter().zip(values.chunks_exact(columns.max(1))) {
        text.push_str(&csv_field(name));
        for v in row {
            let _ = write!(text, ",{v}");
        }
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_tables_read_back_exactly_and_disagreement_is_an_error() {
        let names = vec!["a,b.png".to_string(), "c.png".to_string()];
        let values = [0.1 + 0.2, -1e-300, f64::NAN, 1.0 / 3.0];
        let text = score_csv(&names, &values, 2);
        let f32s: Vec<f32> = values.iter().map(|&v| v as f32).collect();
        let back = read_score_csv("t.csv", &text, &names, &f32s, 2).unwrap();
        assert_eq!(back[0].to_bits(), values[0].to_bits());
        assert_eq!(back[1].to_bits(), values[1].to_bits());
        assert!(back[2].is_nan());
        let mut wrong = f32s.clone();
        wrong[3] = 0.5;
        let e = read_score_csv("t.csv", &text, &names, &wrong, 2).unwrap_err().to_string();
        assert!(e.contains("t.csv: row 3, fm1") && e.contains("disagrees"), "{e}");
        let e = read_score_csv("t.csv", &text, &names[..1], &f32s[..2], 2).unwrap_err();
        assert!(e.to_string().contains("row 3"), "{e}");
        assert!(read_score_csv("t.csv", &text, &names, &f32s[..3], 2).is_err());
    }

    #[test]
    fn npy_round_trips_shape_and_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.npy");
        write_npy_f32(&path, &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.5, -6.0]).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
        assert_eq!(npy.shape(), &[2, 3]);
        assert_eq!(npy.into_vec::<f32>().unwrap(), vec![1.0, 2.0, 3.0, 4.0, 5.5, -6.0]);
    }

    #[test]
    fn a_shape_that_does_not_hold_the_values_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.npy");
        let e = write_npy_f32(&path, &[2, 3], &[1.0; 5]).unwrap_err().to_string();
        assert!(
            e.contains("b.npy") && e.contains("[2, 3]") && e.contains("6") && e.contains("5"),
            "{e}"
        );
        assert!(!path.exists(), "nothing is written");
    }
}
