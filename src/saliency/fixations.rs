//! Human eye fixations: the NUS data set's JSON, the binary fixation map and the fixation
//! density map that the metrics compare saliency maps with.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::gauss;
use crate::error::{Error, Result};

/// Fixations of all subjects on one image, pooled.
#[derive(Clone, Debug, PartialEq)]
pub struct Fixations {
    pub width: usize,
    pub height: usize,
    /// `[x, y]` in pixels of the image file, 1-based as NUS stores them (pixel (1, 1) is the
    /// top-left one and its centre).
    pub points: Vec<[f64; 2]>,
}

/// The density map's Gaussian σ as a fraction of the image's longer side: 1/30, about one degree
/// of visual angle when the image spans 30° (the MIT benchmark's setup, 1° ≈ 35 px on a 1024 px
/// wide image). NUS does not give its viewing geometry, and its images come in 22 sizes, so σ
/// follows the image rather than a fixed pixel count: 8.5 px on a 256 × 256 image.
pub const DENSITY_SIGMA_FRACTION: f64 = 1.0 / 30.0;

/// The density map's σ in pixels for an image.
pub fn density_sigma(width: usize, height: usize) -> f64 {
    DENSITY_SIGMA_FRACTION * width.max(height) as f64
}

impl Fixations {
    /// The 0-based pixel (column, row) of each fixation: `round(x) − 1` (halves up), `None` when
    /// it falls outside the image.
    fn pixels(&self) -> impl Iterator<Item = Option<(usize, usize)>> + '_ {
        self.points.iter().map(|&[x, y]| {
            let (c, r) = ((x + 0.5).floor() - 1.0, (y + 0.5).floor() - 1.0);
            (c >= 0.0 && r >= 0.0 && c < self.width as f64 && r < self.height as f64)
                .then_some((c as usize, r as usize))
        })
    }

    /// The binary fixation map (row-major): true where at least one fixation landed. Fixations
    /// outside the image are ignored; several on one pixel count once, as in the MIT benchmark.
    pub fn map(&self) -> Vec<bool> {
        let mut map = vec![false; self.width * self.height];
        for (c, r) in self.pixels().flatten() {
            map[r * self.width + c] = true;
        }
        map
    }

    /// How many fixations fall outside the image.
    pub fn outside(&self) -> usize {
        self.pixels().filter(Option::is_none).count()
    }
}

/// The fixation density map: the binary fixation map convolved with a Gaussian of σ pixels,
/// zero outside the image (`scipy.ndimage.gaussian_filter(map, σ, mode='constant')`, kernel
/// truncated at 4σ). Summed one fixated pixel at a time, since fixations are sparse.
pub fn density(fixated: &[bool], width: usize, height: usize, sigma: f64) -> Vec<f64> {
    let k = gauss::kernel(sigma);
    let r = (k.len() / 2) as i64;
    let mut out = vec![0.0; width * height];
    for (i, _) in fixated.iter().enumerate().filter(|(_, f)| **f) {
        let (c, row) = ((i % width) as i64, (i / width) as i64);
        let (x0, x1) = ((c - r).max(0), (c + r).min(width as i64 - 1));
        for y in (row - r).max(0)..=(row + r).min(height as i64 - 1) {
            let wy = k[(y - row + r) as usize];
            let line = &mut out[y as usize * width..(y as usize + 1) * width];
            for x in x0..=x1 {
                line[x as usize] += wy * k[(x - c + r) as usize];
            }
        }
    }
    out
}

#[derive(Deserialize)]
struct NusFile {
    images: BTreeMap<String, NusImage>,
}

#[derive(Deserialize)]
struct NusImage {
    width: usize,
    height: usize,
    /// Per subject, per fixation: `[x, y, onset_s, duration_s]`.
    subjects: Vec<Vec<Vec<f64>>>,
}

/// Reads the NUS `fixations.json` (`{"images": {file: {"width", "height", "subjects": [[[x, y,
/// onset_s, duration_s], …] per subject]}}}`); `name` labels errors. Keys are image file names.
pub fn parse_nus(name: &str, bytes: &[u8]) -> Result<BTreeMap<String, Fixations>> {
    let file: NusFile = serde_json::from_slice(bytes)
        .map_err(|e| Error::Invalid(format!("{name}: not a NUS fixations file ({{\"images\": {{file: {{\"width\", \"height\", \"subjects\"}}}}}}): {e}")))?;
    file.images
        .into_iter()
        .map(|(image, v)| {
            if v.width == 0 || v.height == 0 {
                return Err(Error::Invalid(format!("{name}: {image}: width and height must be positive")));
            }
            let points = v
                .subjects
                .iter()
                .flatten()
                .map(|f| match f[..] {
                    [x, y, ..] => Ok([x, y]),
                    _ => Err(Error::Invalid(format!("{name}: {image}: a fixation has {} value(s), expected [x, y, onset_s, duration_s]", f.len()))),
                })
                .collect::<Result<_>>()?;
            Ok((image, Fixations { width: v.width, height: v.height, points }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_based_coordinates_round_to_pixels_and_outside_ones_are_dropped() {
        let f = Fixations {
            width: 3,
            height: 2,
            points: vec![[1.0, 1.0], [0.6, 1.4], [3.49, 2.2], [3.5, 1.0], [2.0, 0.4], [2.0, 2.0]],
        };
        // (1,1)→(0,0); (0.6,1.4)→(0,0) again; (3.49,2.2)→(2,1); (3.5,1)→column 3: outside;
        // (2,0.4)→row −1: outside; (2,2)→(1,1).
        assert_eq!(f.map(), vec![true, false, false, false, true, true]);
        assert_eq!(f.outside(), 2);
    }

    #[test]
    fn density_is_the_zero_padded_gaussian_filter() {
        // One row, σ = 1 (radius 4), one fixation at column 1: column x gets k[x − 1 + 4] · k[4]
        // (the vertical pass sees only the centre weight), and 0 beyond the radius.
        let fixated = [false, true, false, false, false, false, false];
        let d = density(&fixated, 7, 1, 1.0);
        let k = gauss::kernel(1.0);
        for (x, v) in d.iter().enumerate() {
            let j = x as i64 - 1 + 4;
            let expected = if j <= 8 { k[j as usize] * k[4] } else { 0.0 };
            assert!((v - expected).abs() < 1e-15, "column {x}");
        }
    }

    #[test]
    fn parses_the_nus_layout_and_names_bad_input() {
        let text = br#"{"format": "x, y, onset, duration", "images": {"a.jpg": {"width": 4, "height": 3, "subjects": [[[1.5, 2.0, 0.1, 0.2]], [[4.0, 3.0, 0.3, 0.1], [9.0, 1.0, 0.5, 0.2]]]}}}"#;
        let all = parse_nus("fixations.json", text).unwrap();
        assert_eq!(all["a.jpg"].points, vec![[1.5, 2.0], [4.0, 3.0], [9.0, 1.0]]);
        assert_eq!(all["a.jpg"].outside(), 1);
        let short = br#"{"images": {"b.jpg": {"width": 4, "height": 3, "subjects": [[[1.5]]]}}}"#;
        let e = parse_nus("f.json", short).unwrap_err().to_string();
        assert!(e.contains("f.json: b.jpg") && e.contains("1 value"), "{e}");
        assert!(
            parse_nus("f.json", b"[]")
                .unwrap_err()
                .to_string()
                .starts_with("f.json: not a NUS fixations file")
        );
    }
}
