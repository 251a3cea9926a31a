//! Per-image heatmaps from Alignment Importance Scores and their display (docs/METHOD.md, "Aim 2").
//!
//! A heatmap is the AIS-weighted sum of the magnitudes of an image's feature maps:
//! `w = max(AIS, 0)` normalised to sum 1 (NaN scores count as not positive),
//! `heat = Σ_k w_k · |A_k|`. It shows where the feature maps with high AIS are active. For
//! non-negative maps (VGG-16's, after ReLU) `|A_k| = A_k`, so this is the authors' definition
//! `Σ_k w_k · A_k` exactly. Signed maps (EfficientNet-Lite0's last block has no activation)
//! would otherwise cancel: a map active at −3 counts as much as one at +3, where the plain sum
//! can be negative everywhere although the image has positive AIS, and show nothing. An image
//! with no positive AIS has no heatmap ([`Heatmap::from_scores`] says `None`); nothing is
//! divided by zero. A feature map whose pooled block is zero gets AIS exactly 0, so a positive
//! AIS comes with a map that is non-zero somewhere, and the heatmap has something to show.
//!
//! Display follows the authors' `overlay_mask`: resize to the image with OpenCV's bilinear rule,
//! clip at 0 (a no-op for these non-negative heatmaps), divide by the maximum, square, look the
//! value up in a matplotlib colour map (256 colours) and blend `0.6·image + 0.4·colour`,
//! truncating to 8 bits as NumPy's `astype(uint8)` does.

mod grid;
mod tables;

pub use grid::grid;

use crate::error::{Error, Result};
use crate::resample::resize_linear_f32;

/// A single-channel map, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Heatmap {
    pub width: usize,
    pub height: usize,
    pub values: Vec<f32>,
}

/// The AIS weights of one image: positive scores normalised to sum 1; `None` when no score is
/// positive.
pub fn weights(ais: &[f64]) -> Option<Vec<f64>> {
    let clipped: Vec<f64> = ais.iter().map(|&a| if a > 0.0 { a } else { 0.0 }).collect();
    let total: f64 = clipped.iter().sum();
    (total > 0.0).then(|| clipped.iter().map(|w| w / total).collect())
}

impl Heatmap {
    /// The heatmap of one image from its AIS row (`channels` values) and its feature maps
    /// (`[channels, h, w]` row-major): `Σ_k w_k · |A_k|` (module docs). `Ok(None)`: no positive
    /// AIS, so no heatmap.
    pub fn from_scores(ais: &[f64], maps: &[f32], shape: [usize; 3]) -> Result<Option<Heatmap>> {
        let [channels, height, width] = shape;
        if ais.len() != channels || maps.len() != channels * height * width {
            return Err(Error::Invalid(format!(
                "heatmap: {} scores and {} feature-map values do not fit feature maps of shape {channels}×{height}×{width}",
                ais.len(),
                maps.len()
            )));
        }
        let Some(w) = weights(ais) else { return Ok(None) };
        let mut sum = vec![0.0f64; height * width];
        for (map, &wk) in maps.chunks_exact(height * width).zip(&w) {
            if wk != 0.0 {
                for (s, &a) in sum.iter_mut().zip(map) {
                    *s += wk * (a as f64).abs();
                }
            }
        }
        Ok(Some(Heatmap { width, height, values: sum.into_iter().map(|v| v as f32).collect() }))
    }

    /// Resized to `width × height` as `cv2.resize` does (bilinear, half-pixel centres).
    pub fn resized(&self, width: usize, height: usize) -> Heatmap {
        Heatmap {
            width,
            height,
            values: resize_linear_f32(&self.values, self.width, self.height, width, height),
        }
    }

    /// Display intensities in [0, 1]: clipped at 0, divided by the maximum, squared. `None` when
    /// nothing is positive (a map of zeros has nothing to show).
    pub fn intensities(&self) -> Option<Vec<f64>> {
        let max = self.values.iter().fold(0.0f32, |m, &v| if v > m { v } else { m }) as f64;
        (max > 0.0)
            .then(|| self.values.iter().map(|&v| (v.max(0.0) as f64 / max).powi(2)).collect())
    }
}

/// Every image's heatmap from a cohort's scores and feature maps (as [`Heatmap::from_scores`];
/// `maps[i]`: image `i`'s `[channels, h, w]` values and shape).
pub fn cohort_heatmaps(
    scores: &crate::ablation::AisScores,
    maps: &[(Vec<f32>, [usize; 3])],
) -> Result<Vec<Option<Heatmap>>> {
    let c = scores.channels;
    maps.iter()
        .enumerate()
        .map(|(i, (m, shape))| Heatmap::from_scores(&scores.image[i * c..(i + 1) * c], m, *shape))
        .collect()
}

/// The heatmap Match of the paper (Aim 2): the Pearson correlation of two heatmaps of the same
/// image, both resized to the image's `width × height` ([`Heatmap::resized`]). NaN when either
/// is constant there. Used by `alignmap compare` (two networks) and by the page's judgments
/// (two participants' analyses).
pub fn match_score(a: &Heatmap, b: &Heatmap, width: usize, height: usize) -> f64 {
    let f64s =
        |m: &Heatmap| m.resized(width, height).values.iter().map(|&v| v as f64).collect::<Vec<_>>();
    crate::scores::pearson(&f64s(a), &f64s(b))
}

/// A matplotlib colour map with 256 colours.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Colormap {
    /// The paper's.
    #[default]
    Jet,
    Viridis,
    Magma,
}

impl Colormap {
    pub const ALL: [Colormap; 3] = [Colormap::Jet, Colormap::Viridis, Colormap::Magma];

    pub fn name(self) -> &'static str {
        match self {
            Colormap::Jet => "jet",
            Colormap::Viridis => "viridis",
            Colormap::Magma => "magma",
        }
    }

    fn table(self) -> &'static [[u8; 3]; 256] {
        match self {
            Colormap::Jet => &tables::JET,
            Colormap::Viridis => &tables::VIRIDIS,
            Colormap::Magma => &tables::MAGMA,
        }
    }

    /// The colour of `x` in [0, 1] as matplotlib picks it: entry `floor(256·x)`, 1 → the last.
    pub fn colour(self, x: f64) -> [u8; 3] {
        let index = (x * 256.0).clamp(0.0, 255.0) as usize;
        self.table()[index]
    }
}

impl std::str::FromStr for Colormap {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Colormap::ALL.into_iter().find(|c| c.name().eq_ignore_ascii_case(s)).ok_or_else(|| {
            Error::Invalid(format!("unknown colour map '{s}': expected jet, viridis or magma"))
        })
    }
}

/// How a heatmap is drawn over its image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OverlayStyle {
    pub colormap: Colormap,
    /// The image's share of each pixel; the colour gets the rest (the paper: 0.6).
    pub image_weight: f64,
}

impl Default for OverlayStyle {
    fn default() -> Self {
        Self { colormap: Colormap::Jet, image_weight: 0.6 }
    }
}

/// An interleaved RGB image (`[height][width][3]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Rgb {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

/// The colour layer alone: each pixel's colour-map colour (RGB, the heatmap's size).
pub fn colour_layer(heat: &Heatmap, colormap: Colormap) -> Option<Rgb> {
    let intensities = heat.intensities()?;
    let pixels = intensities.iter().flat_map(|&x| colormap.colour(x)).collect();
    Some(Rgb { width: heat.width, height: heat.height, pixels })
}

/// The heatmap resized to the image and blended over it. `Ok(None)`: the map has nothing
/// positive to show.
pub fn overlay(image: &Rgb, heat: &Heatmap, style: OverlayStyle) -> Result<Option<Rgb>> {
    if image.pixels.len() != image.width * image.height * 3 {
        return Err(Error::Invalid(format!(
            "overlay: {} bytes are not a {}×{} RGB image",
            image.pixels.len(),
            image.width,
            image.height
        )));
    }
    if !(0.0..=1.0).contains(&style.image_weight) {
        return Err(Error::Invalid(format!(
            "overlay: the image weight must be in [0, 1], got {}",
            style.image_weight
        )));
    }
    let resized = heat.resized(image.width, image.height);
    let Some(colours) = colour_layer(&resized, style.colormap) else { return Ok(None) };
    let (a, b) = (style.image_weight, 1.0 - style.image_weight);
    let pixels = image
        .pixels
        .iter()
        .zip(&colours.pixels)
        .map(|(&p, &c)| (a * p as f64 + b * c as f64) as u8)
        .collect();
    Ok(Some(Rgb { width: image.width, height: image.height, pixels }))
}

impl From<image::RgbImage> for Rgb {
    fn from(image: image::RgbImage) -> Self {
        Rgb {
            width: image.width() as usize,
            height: image.height() as usize,
            pixels: image.into_raw(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Jet's LUT entry i by matplotlib's piecewise-linear segments, evaluated independently of
    /// the generated table.
    fn jet_formula(i: usize) -> [u8; 3] {
        let x = i as f64 / 255.0;
        let segment = |points: &[(f64, f64)]| -> f64 {
            let k = points.iter().position(|&(p, _)| p >= x).unwrap_or(points.len() - 1).max(1);
            let ((x0, y0), (x1, y1)) = (points[k - 1], points[k]);
            y0 + (x - x0) / (x1 - x0) * (y1 - y0)
        };
        let r = segment(&[(0.0, 0.0), (0.35, 0.0), (0.66, 1.0), (0.89, 1.0), (1.0, 0.5)]);
        let g = segment(&[
            (0.0, 0.0),
            (0.125, 0.0),
            (0.375, 1.0),
            (0.64, 1.0),
            (0.91, 0.0),
            (1.0, 0.0),
        ]);
        let b = segment(&[(0.0, 0.5), (0.11, 1.0), (0.34, 1.0), (0.65, 0.0), (1.0, 0.0)]);
        [(255.0 * r) as u8, (255.0 * g) as u8, (255.0 * b) as u8]
    }

    #[test]
    fn jet_table_follows_the_segments() {
        let mut off = 0;
        for i in 0..256 {
            let (table, formula) = (tables::JET[i], jet_formula(i));
            for c in 0..3 {
                let d = (table[c] as i32 - formula[c] as i32).abs();
                assert!(d <= 1, "entry {i}: table {table:?} vs formula {formula:?}");
                off += d;
            }
        }
        // Only float rounding at exact integers may differ.
        assert!(off <= 8, "{off} channel levels differ");
        assert_eq!(Colormap::Jet.colour(0.0), [0, 0, 127]);
        assert_eq!(Colormap::Jet.colour(1.0), [127, 0, 0]);
        // matplotlib: viridis(0) = (0.267004, 0.004874, 0.329415), magma(1) = (0.987053, 0.991438, 0.749504).
        assert_eq!(Colormap::Viridis.colour(0.0), [68, 1, 84]);
        assert_eq!(Colormap::Magma.colour(1.0), [251, 252, 191]);
    }

    #[test]
    fn colour_index_rule_is_matplotlibs() {
        // floor(256·x): 1/256 − ε is still entry 0, 1/256 is entry 1, 0.999 is entry 255.
        assert_eq!(Colormap::Jet.colour(1.0 / 256.0 - 1e-9), tables::JET[0]);
        assert_eq!(Colormap::Jet.colour(1.0 / 256.0), tables::JET[1]);
        assert_eq!(Colormap::Jet.colour(0.999), tables::JET[255]);
        assert_eq!("Viridis".parse::<Colormap>().unwrap(), Colormap::Viridis);
        assert!(
            "hot"
                .parse::<Colormap>()
                .unwrap_err()
                .to_string()
                .contains("expected jet, viridis or magma")
        );
    }

    #[test]
    fn weights_clip_negatives_and_refuse_all_non_positive() {
        assert_eq!(weights(&[1.0, -2.0, 3.0, f64::NAN]).unwrap(), vec![0.25, 0.0, 0.75, 0.0]);
        assert_eq!(weights(&[0.0, -1.0]), None);
        assert_eq!(weights(&[f64::NAN]), None);
    }

    #[test]
    fn heatmap_is_the_weighted_sum_of_maps() {
        // Two 2×2 maps, AIS (3, 1) → weights (0.75, 0.25).
        let maps = [1.0, 2.0, 3.0, 4.0, 10.0, 0.0, 0.0, 10.0];
        let heat = Heatmap::from_scores(&[3.0, 1.0], &maps, [2, 2, 2]).unwrap().unwrap();
        assert_eq!(heat.values, vec![3.25, 1.5, 2.25, 5.5]);
        assert_eq!(Heatmap::from_scores(&[-3.0, 0.0], &maps, [2, 2, 2]).unwrap(), None);
        // Signed maps count by magnitude: with the plain sum, 0.75·(−1, −2, −3, −4) +
        // 0.25·(1, 0, 0, 1) would be negative everywhere and show nothing.
        let signed = [-1.0, -2.0, -3.0, -4.0, 1.0, 0.0, 0.0, 1.0];
        let heat = Heatmap::from_scores(&[3.0, 1.0], &signed, [2, 2, 2]).unwrap().unwrap();
        assert_eq!(heat.values, vec![1.0, 1.5, 2.25, 3.25]);
        assert_eq!(heat.intensities().unwrap()[3], 1.0);
        assert!(
            Heatmap::from_scores(&[1.0], &maps, [2, 2, 2])
                .unwrap_err()
                .to_string()
                .contains("2×2×2")
        );
    }

    #[test]
    fn overlay_blends_and_truncates_like_numpy() {
        // A 1×2 map (0, 2) on a 1×2 image: intensities (0, 1) → jet[0] = (0,0,127), jet[255] = (127,0,0).
        let heat = Heatmap { width: 2, height: 1, values: vec![-1.0, 2.0] };
        let image = Rgb { width: 2, height: 1, pixels: vec![100, 101, 255, 0, 9, 3] };
        let out = overlay(&image, &heat, OverlayStyle::default()).unwrap().unwrap();
        // 0.6·100 + 0.4·0 = 60; 0.6·101 = 60.6 → 60; 0.6·255 + 0.4·127 = 203.8 → 203;
        // 0.6·0 + 0.4·127 = 50.8 → 50; 0.6·9 = 5.4 → 5; 0.6·3 = 1.8 → 1.
        assert_eq!(out.pixels, vec![60, 60, 203, 50, 5, 1]);
        let zeros = Heatmap { width: 2, height: 1, values: vec![0.0, -1.0] };
        assert_eq!(overlay(&image, &zeros, OverlayStyle::default()).unwrap(), None);
    }

    #[test]
    fn intensities_square_the_normalised_map() {
        let heat = Heatmap { width: 3, height: 1, values: vec![1.0, 2.0, -5.0] };
        assert_eq!(heat.intensities().unwrap(), vec![0.25, 1.0, 0.0]);
    }
}
