//! The results zip: one file that holds what a view of an analysis needs — the images (or
//! display-size copies), each image's heatmap, the scores and the summary — so that the page can
//! show it again without the network or the human matrix ("Open results"). One format, written
//! by the page's export and by `alignmap pack` / `alignmap analyze --zip`, read by the page.
//!
//! Layout (format `alignmap-results`, version 1):
//!
//! | entry | content |
//! |---|---|
//! | `alignmap-results.json` | the manifest: format, version, images (file, sizes, heatmap entry), display options, categories |
//! | `images.txt`, `ais_image.npy`, `ais_image.csv`, `ais_dataset.npy`, `ais_dataset_r2.npy`, `ais_dataset.csv`, `summary.json` | as `alignmap analyze` writes them |
//! | `images/<file>` | the image as analysed, or a copy whose longer side is at most `max_side` (PNG) |
//! | `heatmaps/<image name>.npy` | the image's heatmap at feature-map resolution (f32, `h × w`), absent for an image with no positive AIS |
//! | `overlays/<stem>.png` | optional: the heatmap drawn over the stored image (for a file browser; the page redraws from the heatmaps) |
//! | `compare/…` | optional: a comparison of this analysis (side A) with another network's (Aim 2), laid out as `alignmap compare`'s folder: `compare.json`, `compare_images.csv`, `a/` and `b/` ([`crate::model_comparison`]) |
//!
//! Reading checks every part and names the zip and the entry in each error; entries larger than
//! [`MAX_ENTRY_BYTES`] are refused before they are inflated.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use image::RgbImage;
// The zip crate as npyz re-exports it: the one its .npz support builds (0.6, with deflate on
// both targets, pure Rust), so results zips add no crate to the build.
use npyz::zip;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::heatmap::{self, Heatmap, OverlayStyle, Rgb};
use crate::report::{self, ScoreTables, npy_f32_bytes};

/// The manifest's `format`.
pub const FORMAT: &str = "alignmap-results";
/// The newest manifest version this crate writes and reads.
pub const VERSION: u32 = 1;
/// The manifest's entry name.
pub const MANIFEST: &str = "alignmap-results.json";
/// No entry of a results zip may inflate to more than this (a guard against zip bombs).
pub const MAX_ENTRY_BYTES: u64 = 512 << 20;
/// The default longer side of the display copies (`alignmap pack --max-side`).
pub const DEFAULT_MAX_SIDE: u32 = 512;

/// How a heatmap is defined, as the manifest states it.
pub const HEATMAP_DEFINITION: &str = "per image: w = max(AIS, 0) normalised to sum 1, heat = Σ_k w_k·|A_k| \
     (feature-map magnitudes; equal to the authors' Σ_k w_k·A_k for non-negative maps such as VGG-16's); \
     drawn resized to the image (OpenCV bilinear), divided by its maximum, squared, colour-mapped";

/// One image of the manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManifestImage {
    /// The image's file name in the cohort (a row of `images.txt`).
    pub name: String,
    /// The entry holding the stored picture.
    pub file: String,
    pub width: u32,
    pub height: u32,
    /// The size the image was analysed at (before any display copy).
    pub original_width: u32,
    pub original_height: u32,
    /// The heatmap entry; `None` when the image has no positive AIS.
    pub heatmap: Option<String>,
    /// Why there is no heatmap, when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_heatmap: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlay: Option<String>,
}

/// `alignmap-results.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub made_by: String,
    pub n_images: usize,
    pub feature_maps: usize,
    pub heatmap_definition: String,
    /// The longer side of the stored pictures, when they are display copies (0: as analysed).
    pub max_side: u32,
    pub images: Vec<ManifestImage>,
    /// The overlay PNGs' colour map and image weight, when the zip holds overlays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlays: Option<OverlayInfo>,
    /// A title for the view (e.g. "VGG-16 ImageNet on animals").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Image name → category, where the cohort has categories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<BTreeMap<String, String>>,
    /// Category id → label for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_labels: Option<BTreeMap<String, String>>,
    /// The comparison's report (`compare/compare.json`), when the zip holds one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<String>,
}

/// The folder of a comparison in a results zip.
pub const COMPARISON_DIR: &str = "compare";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OverlayInfo {
    pub colormap: String,
    pub image_weight: f64,
}

/// One image to write: the decoded picture as analysed and, optionally, its file's bytes (kept
/// as they are when no display copy is made, so a JPEG stays a JPEG).
pub struct ZipImage<'a> {
    pub image: &'a RgbImage,
    pub file_bytes: Option<&'a [u8]>,
}

/// Everything a results zip is written from.
pub struct ZipContents<'a> {
    pub names: &'a [String],
    pub scores: ScoreTables<'a>,
    /// `summary.json` (with the baseline's per-image values).
    pub summary: &'a serde_json::Value,
    /// Per image, at feature-map resolution.
    pub heatmaps: &'a [Option<Heatmap>],
    pub images: Vec<ZipImage<'a>>,
    pub made_by: &'a str,
    pub title: Option<String>,
    pub categories: Option<BTreeMap<String, String>>,
    pub category_labels: Option<BTreeMap<String, String>>,
    /// A comparison with another network (Aim 2): its files by path inside `compare/`, as
    /// `alignmap compare` writes its folder (`compare.json`, `compare_images.csv`, `a/…`, `b/…`);
    /// empty for none.
    pub comparison: Vec<(String, Vec<u8>)>,
}

/// How to write it.
#[derive(Clone, Copy, Debug)]
pub struct ZipOptions {
    /// Longer side of the stored pictures; 0 keeps them as analysed.
    pub max_side: u32,
    /// Overlay PNGs with this style, or none.
    pub overlays: Option<OverlayStyle>,
}

impl Default for ZipOptions {
    fn default() -> Self {
        ZipOptions { max_side: DEFAULT_MAX_SIDE, overlays: Some(OverlayStyle::default()) }
    }
}

/// PNG bytes of an RGB picture.
pub fn png_bytes(rgb: &Rgb) -> Result<Vec<u8>> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            &rgb.pixels,
            rgb.width as u32,
            rgb.height as u32,
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| Error::Invalid(format!("cannot encode a PNG: {e}")))?;
    Ok(out)
}

/// The picture shrunk (Pillow's bilinear, as the page's thumbnails) so that its longer side is at
/// most `max_side`; unchanged when it is smaller or `max_side` is 0.
pub fn display_copy(image: &RgbImage, max_side: u32) -> Option<Rgb> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let longer = w.max(h);
    let max = max_side as usize;
    if max == 0 || longer <= max {
        return None;
    }
    let (nw, nh) = ((w * max / longer).max(1), (h * max / longer).max(1));
    Some(Rgb {
        width: nw,
        height: nh,
        pixels: crate::resample::resize_rgb8(image.as_raw(), w, h, nw, nh),
    })
}

impl ZipContents<'_> {
    fn check(&self) -> Result<usize> {
        let n = self.names.len();
        let bad = |what: String| Err(Error::Invalid(format!("results zip: {what}")));
        if n == 0 {
            return bad("no images".into());
        }
        let s = &self.scores;
        if s.image.len() != n * s.channels {
            return bad(format!(
                "{} per-image scores for {n} images × {} feature maps",
                s.image.len(),
                s.channels
            ));
        }
        if s.dataset_r.len() != s.channels || s.dataset_r2.len() != s.channels {
            return bad(format!("dataset scores do not have {} values", s.channels));
        }
        if self.heatmaps.len() != n || self.images.len() != n {
            return bad(format!(
                "{} heatmaps and {} images for {n} names",
                self.heatmaps.len(),
                self.images.len()
            ));
        }
        Ok(n)
    }

    /// The zip's bytes.
    pub fn to_zip(&self, options: &ZipOptions) -> Result<Vec<u8>> {
        let n = self.check()?;
        let channels = self.scores.channels;
        let zip_error = |e: zip::result::ZipError| Error::Invalid(format!("results zip: {e}"));
        let io_error = |e: std::io::Error| Error::Invalid(format!("results zip: {e}"));
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        // A fixed date: the same inputs give the same bytes.
        let base = zip::write::FileOptions::default().last_modified_time(zip::DateTime::default());
        let deflated = base.compression_method(zip::CompressionMethod::Deflated);
        let stored = base.compression_method(zip::CompressionMethod::Stored);
        let mut put = |name: &str, bytes: &[u8], compress: bool| -> Result<()> {
            zip.start_file(name, if compress { deflated } else { stored }).map_err(zip_error)?;
            zip.write_all(bytes).map_err(io_error)
        };

        for (name, bytes) in report::score_files(self.names, &self.scores, self.summary)? {
            put(name, &bytes, true)?;
        }
        for (name, bytes) in &self.comparison {
            put(&format!("{COMPARISON_DIR}/{name}"), bytes, true)?;
        }
        let comparison = self
            .comparison
            .iter()
            .any(|(name, _)| name == "compare.json")
            .then(|| format!("{COMPARISON_DIR}/compare.json"));

        let mut images = Vec::with_capacity(n);
        let mut used = std::collections::BTreeSet::new();
        for (i, name) in self.names.iter().enumerate() {
            let source = &self.images[i];
            let copy = display_copy(source.image, options.max_side);
            let original = (source.image.width(), source.image.height());
            let (file, bytes, picture) = match (&copy, source.file_bytes) {
                (None, Some(bytes)) => (format!("images/{name}"), bytes.to_vec(), None),
                _ => {
                    let rgb = copy.clone().unwrap_or_else(|| Rgb::from(source.image.clone()));
                    let file = if name.to_ascii_lowercase().ends_with(".png") {
                        format!("images/{name}")
                    } else {
                        format!("images/{name}.png")
                    };
                    (file, png_bytes(&rgb)?, Some(rgb))
                }
            };
            if !used.insert(file.clone()) {
                return Err(Error::Invalid(format!(
                    "results zip: two images would be stored as {file}; expected unique names"
                )));
            }
            // Already compressed formats are stored as they are.
            put(&file, &bytes, false)?;
            let (width, height) =
                picture.as_ref().map(|p| (p.width as u32, p.height as u32)).unwrap_or(original);
            let mut entry = ManifestImage {
                name: name.clone(),
                file,
                width,
                height,
                original_width: original.0,
                original_height: original.1,
                heatmap: None,
                no_heatmap: None,
                overlay: None,
            };
            match &self.heatmaps[i] {
                Some(heat) => {
                    let path = format!("heatmaps/{name}.npy");
                    put(&path, &npy_f32_bytes(&[heat.height, heat.width], &heat.values)?, true)?;
                    entry.heatmap = Some(path);
                    if let Some(style) = options.overlays {
                        let rgb = picture.unwrap_or_else(|| Rgb::from(source.image.clone()));
                        if let Some(drawn) = heatmap::overlay(&rgb, heat, style)? {
                            // As `alignmap maps` names them; the full name where two stems meet.
                            let mut path =
                                format!("overlays/{}.png", crate::file_names::stem(name));
                            if !used.insert(path.clone()) {
                                path = format!("overlays/{name}.png");
                                used.insert(path.clone());
                            }
                            put(&path, &png_bytes(&drawn)?, false)?;
                            entry.overlay = Some(path);
                        }
                    }
                }
                None => {
                    entry.no_heatmap = Some(
                        "no feature map has a positive AIS for this image: removing any one of them does not lower its alignment with the human judgments".into(),
                    );
                }
            }
            images.push(entry);
        }
        let manifest = Manifest {
            format: FORMAT.into(),
            version: VERSION,
            made_by: self.made_by.into(),
            n_images: n,
            feature_maps: channels,
            heatmap_definition: HEATMAP_DEFINITION.into(),
            max_side: options.max_side,
            images,
            overlays: options.overlays.map(|s| OverlayInfo {
                colormap: s.colormap.name().into(),
                image_weight: s.image_weight,
            }),
            title: self.title.clone(),
            categories: self.categories.clone(),
            category_labels: self.category_labels.clone(),
            comparison,
        };
        put(MANIFEST, report::json_text(&manifest)?.as_bytes(), true)?;
        let cursor = zip.finish().map_err(zip_error)?;
        Ok(cursor.into_inner())
    }
}

/// A results zip as read back.
#[derive(Clone, Debug)]
pub struct OpenedResults {
    pub manifest: Manifest,
    pub names: Vec<String>,
    pub channels: usize,
    pub ais_image: Vec<f64>,
    pub dataset_r: Vec<f64>,
    pub dataset_r2: Vec<f64>,
    /// 2OI baselines from `summary.json`: the cohort's r and r², per image r (rows of `names`).
    pub baseline_r: f64,
    pub baseline_r2: f64,
    pub baseline_per_image: Vec<f64>,
    pub summary: serde_json::Value,
    pub heatmaps: Vec<Option<Heatmap>>,
    /// The stored pictures, decoded.
    pub images: Vec<RgbImage>,
}

struct Reader<'a> {
    file: &'a str,
    zip: zip::ZipArchive<Cursor<&'a [u8]>>,
}

impl Reader<'_> {
    fn invalid(&self, what: impl std::fmt::Display) -> Error {
        Error::Invalid(format!("{}: {what}", self.file))
    }

    fn bytes(&mut self, name: &str) -> Result<Vec<u8>> {
        let file = self.file;
        let mut entry = match self.zip.by_name(name) {
            Ok(e) => e,
            Err(zip::result::ZipError::FileNotFound) => {
                return Err(Error::Invalid(format!(
                    "{file}: has no {name}; expected a results zip as the page's export or `alignmap pack` writes it"
                )));
            }
            Err(e) => return Err(Error::Invalid(format!("{file}: {name}: {e}"))),
        };
        if entry.size() > MAX_ENTRY_BYTES {
            return Err(Error::Invalid(format!(
                "{file}: {name} would inflate to {} bytes; expected at most {MAX_ENTRY_BYTES}",
                entry.size()
            )));
        }
        let mut out = Vec::with_capacity(entry.size() as usize);
        entry
            .read_to_end(&mut out)
            .map_err(|e| Error::Invalid(format!("{file}: {name}: cannot be read ({e})")))?;
        Ok(out)
    }

    /// A score table at full precision, checked against its float32 array
    /// ([`report::read_score_csv`]).
    fn exact(
        &mut self,
        name: &str,
        rows: &[String],
        as_f32: &[f32],
        columns: usize,
    ) -> Result<Vec<f64>> {
        let text = self.text(name)?;
        report::read_score_csv(&format!("{}: {name}", self.file), &text, rows, as_f32, columns)
    }

    fn text(&mut self, name: &str) -> Result<String> {
        let bytes = self.bytes(name)?;
        String::from_utf8(bytes).map_err(|_| self.invalid(format!("{name} is not UTF-8 text")))
    }

    fn npy(&mut self, name: &str) -> Result<(Vec<f32>, Vec<usize>)> {
        let bytes = self.bytes(name)?;
        report::read_npy_f32(&format!("{}: {name}", self.file), &bytes)
    }
}

impl OpenedResults {
    /// Reads a results zip; `file` names it in errors.
    pub fn from_zip(file: &str, bytes: &[u8]) -> Result<OpenedResults> {
        let zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
            Error::Invalid(format!(
                "{file}: is not a zip archive ({e}); expected a results zip as the page's export or `alignmap pack` writes it"
            ))
        })?;
        let mut r = Reader { file, zip };
        let manifest: Manifest = {
            let text = r.text(MANIFEST)?;
            let value: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| r.invalid(format!("{MANIFEST} is not JSON ({e})")))?;
            if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
                return Err(r.invalid(format!("{MANIFEST} does not say \"format\": \"{FORMAT}\"")));
            }
            let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
            if version == 0 || version > VERSION as u64 {
                return Err(r.invalid(format!(
                    "results format version {version}; this alignmap reads versions 1 to {VERSION} (a newer alignmap wrote it?)"
                )));
            }
            serde_json::from_value(value)
                .map_err(|e| r.invalid(format!("{MANIFEST} is not as expected ({e})")))?
        };
        let names: Vec<String> =
            r.text("images.txt")?.lines().filter(|l| !l.is_empty()).map(str::to_string).collect();
        let n = names.len();
        let listed: Vec<&str> = manifest.images.iter().map(|i| i.name.as_str()).collect();
        if listed != names.iter().map(String::as_str).collect::<Vec<_>>() {
            return Err(r.invalid(format!(
                "{MANIFEST} lists {} images and images.txt {n}, or in another order; expected the same names in the same order",
                listed.len()
            )));
        }
        let (ais, shape) = r.npy("ais_image.npy")?;
        let [rows, channels] = shape[..] else {
            return Err(r.invalid(format!(
                "ais_image.npy has shape {shape:?}; expected images × feature maps"
            )));
        };
        if rows != n {
            return Err(r.invalid(format!(
                "ais_image.npy has {rows} rows but images.txt names {n} images"
            )));
        }
        let mut dataset = |name: &str| -> Result<Vec<f64>> {
            let (values, shape) = r.npy(name)?;
            if shape != [channels] {
                return Err(r.invalid(format!(
                    "{name} has shape {shape:?}; expected [{channels}] (one per feature map)"
                )));
            }
            Ok(values.into_iter().map(f64::from).collect())
        };
        let dataset_r = dataset("ais_dataset.npy")?;
        let dataset_r2 = dataset("ais_dataset_r2.npy")?;
        // The CSV tables hold the scores at full precision (the arrays are float32): read them,
        // checked against the arrays, so that the numbers shown and exported again are exact.
        let ais_image = r.exact("ais_image.csv", &names, &ais, channels)?;
        let rows = ["ais_r".to_string(), "ais_r2".to_string()];
        let both: Vec<f32> = dataset_r.iter().chain(&dataset_r2).map(|&x| x as f32).collect();
        let exact = r.exact("ais_dataset.csv", &rows, &both, channels)?;
        let (dataset_r, dataset_r2) = (exact[..channels].to_vec(), exact[channels..].to_vec());
        let summary: serde_json::Value = serde_json::from_str(&r.text("summary.json")?)
            .map_err(|e| r.invalid(format!("summary.json is not JSON ({e})")))?;
        let baseline = &summary["baseline"];
        let number = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
        let per_image: Vec<f64> = match baseline["per_image"].as_array() {
            Some(rows) if rows.len() == n => rows.iter().map(|row| number(&row["r"])).collect(),
            _ => {
                return Err(
                    r.invalid(format!("summary.json has no baseline.per_image with {n} entries"))
                );
            }
        };
        let mut heatmaps = Vec::with_capacity(n);
        let mut images = Vec::with_capacity(n);
        for entry in &manifest.images {
            heatmaps.push(match &entry.heatmap {
                Some(path) => {
                    let (values, shape) = r.npy(path)?;
                    let [height, width] = shape[..] else {
                        return Err(
                            r.invalid(format!("{path} has shape {shape:?}; expected h × w"))
                        );
                    };
                    Some(Heatmap { width, height, values })
                }
                None => None,
            });
            let bytes = r.bytes(&entry.file)?;
            let image = crate::cohort::decode(&format!("{file}: {}", entry.file), &bytes)?;
            images.push(image);
        }
        Ok(OpenedResults {
            baseline_r: number(&baseline["r"]),
            baseline_r2: number(&baseline["r2"]),
            manifest,
            names,
            channels,
            ais_image,
            dataset_r,
            dataset_r2,
            baseline_per_image: per_image,
            summary,
            heatmaps,
            images,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(w: u32, h: u32, seed: u8) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x as u8).wrapping_mul(seed), (y as u8).wrapping_add(seed), seed])
        })
    }

    fn contents<'a>(
        names: &'a [String],
        images: &'a [RgbImage],
        heatmaps: &'a [Option<Heatmap>],
        summary: &'a serde_json::Value,
        scores: &'a [Vec<f64>; 3],
    ) -> ZipContents<'a> {
        ZipContents {
            names,
            scores: ScoreTables {
                channels: 2,
                image: &scores[0],
                dataset_r: &scores[1],
                dataset_r2: &scores[2],
            },
            summary,
            heatmaps,
            images: images.iter().map(|image| ZipImage { image, file_bytes: None }).collect(),
            made_by: "test",
            title: Some("a title".into()),
            categories: Some(BTreeMap::from([("a.png".into(), "face".into())])),
            category_labels: None,
            comparison: Vec::new(),
        }
    }

    fn fixture() -> (Vec<String>, Vec<RgbImage>, Vec<Option<Heatmap>>, serde_json::Value) {
        let names = vec!["a.png".to_string(), "b.jpg".to_string()];
        let images = vec![picture(40, 20, 3), picture(10, 10, 7)];
        let heat = Heatmap { width: 2, height: 1, values: vec![0.25, 1.5] };
        let summary = serde_json::json!({
            "baseline": { "r": 0.5, "r2": 0.25, "per_image": [{"image": "a.png", "r": 0.1}, {"image": "b.jpg", "r": -0.2}] },
        });
        (names, images, vec![Some(heat), None], summary)
    }

    #[test]
    fn a_results_zip_round_trips() {
        let (names, images, heatmaps, summary) = fixture();
        let scores = [vec![0.5, -0.25, -1.0, -2.0], vec![0.125, -0.5], vec![0.0625, 0.75]];
        let c = contents(&names, &images, &heatmaps, &summary, &scores);
        let options = ZipOptions { max_side: 16, overlays: Some(OverlayStyle::default()) };
        let bytes = c.to_zip(&options).unwrap();
        assert_eq!(bytes, c.to_zip(&options).unwrap(), "the same inputs give the same bytes");
        let opened = OpenedResults::from_zip("r.zip", &bytes).unwrap();
        assert_eq!(opened.names, names);
        assert_eq!(opened.channels, 2);
        assert_eq!(opened.ais_image, scores[0]);
        assert_eq!(opened.dataset_r, scores[1]);
        assert_eq!(opened.dataset_r2, scores[2]);
        assert_eq!(opened.baseline_per_image, vec![0.1, -0.2]);
        assert_eq!(opened.baseline_r, 0.5);
        assert_eq!(opened.heatmaps, heatmaps);
        // The 40×20 image became a 16×8 display copy; the 10×10 one is kept as it is.
        assert_eq!((opened.images[0].width(), opened.images[0].height()), (16, 8));
        assert_eq!(opened.images[1], images[1]);
        let m = &opened.manifest;
        assert_eq!((m.images[0].original_width, m.images[0].width), (40, 16));
        assert_eq!(m.images[0].overlay.as_deref(), Some("overlays/a.png"));
        assert_eq!(m.images[1].heatmap, None);
        assert!(
            m.images[1]
                .no_heatmap
                .as_deref()
                .unwrap()
                .contains("no feature map has a positive AIS")
        );
        assert_eq!(m.title.as_deref(), Some("a title"));
        assert_eq!(m.categories.as_ref().unwrap()["a.png"], "face");
        let mut zip = zip::ZipArchive::new(Cursor::new(&bytes[..])).unwrap();
        let mut csv = String::new();
        zip.by_name("ais_image.csv").unwrap().read_to_string(&mut csv).unwrap();
        assert_eq!(csv, "image,fm0,fm1\na.png,0.5,-0.25\nb.jpg,-1,-2\n");
    }

    #[test]
    fn original_file_bytes_are_kept_when_no_copy_is_made() {
        let (names, images, heatmaps, summary) = fixture();
        let scores = [vec![0.0; 4], vec![0.0; 2], vec![0.0; 2]];
        let png = png_bytes(&Rgb::from(images[1].clone())).unwrap();
        let mut c = contents(&names, &images, &heatmaps, &summary, &scores);
        c.images[1].file_bytes = Some(&png);
        let bytes = c.to_zip(&ZipOptions { max_side: 0, overlays: None }).unwrap();
        let opened = OpenedResults::from_zip("r.zip", &bytes).unwrap();
        assert_eq!(opened.manifest.images[1].file, "images/b.jpg");
        assert_eq!(opened.manifest.images[0].file, "images/a.png");
        let copied = c.to_zip(&ZipOptions { max_side: 4, overlays: None }).unwrap();
        let copied = OpenedResults::from_zip("r.zip", &copied).unwrap();
        assert_eq!(copied.manifest.images[1].file, "images/b.jpg.png");
        assert_eq!(opened.images[0], images[0]);
        assert_eq!(opened.manifest.overlays, None);
    }

    #[test]
    fn bad_zips_are_errors_that_name_the_file_and_the_entry() {
        let err = OpenedResults::from_zip("x.zip", b"not a zip").unwrap_err().to_string();
        assert!(err.starts_with("x.zip: is not a zip archive"), "{err}");

        let mut other = zip::ZipWriter::new(Cursor::new(Vec::new()));
        other.start_file("hello.txt", zip::write::FileOptions::default()).unwrap();
        other.write_all(b"hi").unwrap();
        let other = other.finish().unwrap().into_inner();
        let err = OpenedResults::from_zip("y.zip", &other).unwrap_err().to_string();
        assert!(err.contains("y.zip: has no alignmap-results.json"), "{err}");

        let (names, images, heatmaps, summary) = fixture();
        let scores = [vec![0.0; 4], vec![0.0; 2], vec![0.0; 2]];
        let c = contents(&names, &images, &heatmaps, &summary, &scores);
        let good = c.to_zip(&ZipOptions::default()).unwrap();
        // Rewrite one entry and keep the rest.
        let rewrite = |entry: &str, data: &[u8]| -> Vec<u8> {
            let mut src = zip::ZipArchive::new(Cursor::new(&good[..])).unwrap();
            let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
            for i in 0..src.len() {
                let mut f = src.by_index(i).unwrap();
                let name = f.name().to_string();
                let mut bytes = Vec::new();
                f.read_to_end(&mut bytes).unwrap();
                out.start_file(&name, zip::write::FileOptions::default()).unwrap();
                out.write_all(if name == entry { data } else { &bytes }).unwrap();
            }
            out.finish().unwrap().into_inner()
        };
        let newer = rewrite(MANIFEST, br#"{"format": "alignmap-results", "version": 99}"#);
        let err = OpenedResults::from_zip("z.zip", &newer).unwrap_err().to_string();
        assert!(err.contains("z.zip: results format version 99"), "{err}");
        let short = rewrite("images.txt", b"a.png\n");
        let err = OpenedResults::from_zip("s.zip", &short).unwrap_err().to_string();
        assert!(
            err.contains("s.zip: alignmap-results.json lists 2 images and images.txt 1"),
            "{err}"
        );
        let wrong = rewrite("ais_dataset.npy", &npy_f32_bytes(&[3], &[0.0; 3]).unwrap());
        let err = OpenedResults::from_zip("w.zip", &wrong).unwrap_err().to_string();
        assert!(err.contains("w.zip: ais_dataset.npy has shape [3]; expected [2]"), "{err}");
        let broken = rewrite("images/a.png", b"not a png");
        let err = OpenedResults::from_zip("b.zip", &broken).unwrap_err().to_string();
        assert!(err.contains("b.zip: images/a.png"), "{err}");
    }

    #[test]
    fn inconsistent_contents_are_refused() {
        let (names, images, heatmaps, summary) = fixture();
        let scores = [vec![0.0; 3], vec![0.0; 2], vec![0.0; 2]];
        let c = contents(&names, &images, &heatmaps, &summary, &scores);
        let err = c.to_zip(&ZipOptions::default()).unwrap_err().to_string();
        assert!(err.contains("3 per-image scores for 2 images × 2 feature maps"), "{err}");
    }
}
