//! Writing results: NPY arrays, name lists, JSON.

use std::io::Write;
use std::path::Path;

use npyz::WriterBuilder;

use crate::ablation::AisScores;
use crate::error::{Error, Result};

/// Writes a little-endian f32 array with the given shape as `.npy`.
pub fn write_npy_f32(path: &Path, shape: &[usize], values: &[f32]) -> Result<()> {
    assert_eq!(shape.iter().product::<usize>(), values.len(), "shape holds the values");
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&shape)
        .writer(std::io::BufWriter::new(file))
        .begin_nd()
        .map_err(|e| Error::io(path, e))?;
    writer.extend(values.iter().copied()).map_err(|e| Error::io(path, e))?;
    writer.finish().map_err(|e| Error::io(path, e))
}

/// Writes one line per name.
pub fn write_lines(path: &Path, lines: &[String]) -> Result<()> {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

/// Writes pretty JSON.
pub fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    let mut file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    serde_json::to_writer_pretty(&mut file, value).map_err(|e| Error::io(path, e.into()))?;
    file.write_all(b"\n").map_err(|e| Error::io(path, e))
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
        if name.contains([',', '"', '\n']) {
            let _ = write!(text, "\"{}\"", name.replace('"', "\"\""));
        } else {
            text.push_str(name);
        }
        for v in row {
            let _ = write!(text, ",{v}");
        }
        text.push('\n');
    }
    text
}

/// The part of `summary.json` that describes the scores (the CLI's and the page's export share
/// it): counts, the 2OI baseline with its per-image values, and what each score file holds.
pub fn scores_summary(
    names: &[String],
    scores: &AisScores,
) -> serde_json::Map<String, serde_json::Value> {
    let value = serde_json::json!({
        "alignmap_version": env!("CARGO_PKG_VERSION"),
        "n_images": scores.n,
        "feature_maps": scores.channels,
        "baseline": {
            "r": scores.baseline.r,
            "r2": scores.baseline.r2,
            "per_image": names.iter().zip(&scores.baseline.per_image).map(|(name, r)| serde_json::json!({"image": name, "r": r})).collect::<Vec<_>>(),
        },
        "ais": {
            "ais_dataset.npy": "r − r_k (the paper's ρ)",
            "ais_dataset_r2.npy": "r² − r_k² (the authors' code)",
            "ais_image.npy": "base_t − r_tk, rows in images.txt order",
            "zero_image_channel_pairs": scores.zero_pairs,
            "undefined_scores": scores.undefined(),
            "channels_zero_in_every_image": scores.skipped_channels,
        },
    });
    match value {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("built as an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
