//! Saliency (docs/METHOD.md, Aim 3): built-in saliency models, the MIT/Tübingen benchmark metrics
//! against human eye fixations, imported maps (TranSalNet's post-processing), and the relative
//! risk between a saliency map and an AIS heatmap with its contour overlay.
//!
//! Every map here is row-major `[height][width]` at the image's resolution.

pub mod baseline;
#[cfg(not(target_family = "wasm"))]
pub mod evaluate;
pub mod fixations;
mod gauss;
pub mod import;
pub mod metrics;
pub mod overlay;
pub mod risk;
pub mod spectral;

use std::fmt;
use std::str::FromStr;

use image::RgbImage;

#[cfg(not(target_family = "wasm"))]
pub use evaluate::{evaluate, evaluate_nus};

/// A saliency map at an image's resolution, values in [0, 1].
#[derive(Clone, Debug, PartialEq)]
pub struct SaliencyMap {
    pub width: usize,
    pub height: usize,
    /// Row-major, `width × height` values.
    pub values: Vec<f32>,
}

impl SaliencyMap {
    /// Min-max normalisation to [0, 1]; a constant (or non-finite) map becomes all zeros.
    pub(crate) fn normalised(width: usize, height: usize, values: Vec<f64>) -> Self {
        let (lo, hi) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let range = hi - lo;
        let values = if range > 0.0 && range.is_finite() {
            values.iter().map(|&v| ((v - lo) / range) as f32).collect()
        } else {
            vec![0.0; values.len()]
        };
        Self { width, height, values }
    }

    /// The map as an 8-bit grayscale image (`round(255 · v)`).
    pub fn to_gray8(&self) -> image::GrayImage {
        let pixels =
            self.values.iter().map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8).collect();
        image::GrayImage::from_raw(self.width as u32, self.height as u32, pixels)
            .expect("a map holds width × height values")
    }
}

/// The built-in saliency models. None needs a download.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SaliencyModel {
    /// Hou & Zhang (2007) spectral residual at 64 px wide, as published.
    SpectralResidual,
    /// The mean of spectral residual maps at 32, 64 and 128 px wide.
    MultiScale,
    /// `MultiScale` times the centre prior of [`baseline::centre_bias`]: the best of the built-in
    /// models on the NUS fixations (docs/saliency.md), hence the default.
    #[default]
    MultiScaleCentre,
    /// The centre prior alone: an image-blind baseline.
    CentreBias,
}

impl SaliencyModel {
    pub const ALL: [SaliencyModel; 4] =
        [Self::SpectralResidual, Self::MultiScale, Self::MultiScaleCentre, Self::CentreBias];

    /// The name accepted by [`FromStr`] and printed in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::SpectralResidual => "spectral-residual",
            Self::MultiScale => "multiscale",
            Self::MultiScaleCentre => "multiscale-centre",
            Self::CentreBias => "centre-bias",
        }
    }

    /// The model's saliency map of an image, at the image's resolution.
    pub fn compute(self, image: &RgbImage) -> SaliencyMap {
        match self {
            Self::SpectralResidual => spectral::spectral_residual(image),
            Self::MultiScale => spectral::multiscale(image),
            Self::MultiScaleCentre => spectral::multiscale_centre(image),
            Self::CentreBias => {
                baseline::centre_bias(image.width() as usize, image.height() as usize)
            }
        }
    }
}

impl fmt::Display for SaliencyModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SaliencyModel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|m| m.name() == s.trim().to_ascii_lowercase()).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|m| m.name()).collect();
            format!("unknown saliency model {s:?}: expected one of {}", names.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_round_trip() {
        for m in SaliencyModel::ALL {
            assert_eq!(m.name().parse::<SaliencyModel>(), Ok(m));
        }
        assert!("tranSalNet".parse::<SaliencyModel>().unwrap_err().contains("multiscale-centre"));
        assert_eq!(SaliencyModel::default(), SaliencyModel::MultiScaleCentre);
    }

    #[test]
    fn normalisation_spans_zero_to_one_and_flattens_constants() {
        let m = SaliencyMap::normalised(3, 1, vec![2.0, 4.0, 3.0]);
        assert_eq!(m.values, vec![0.0, 1.0, 0.5]);
        assert_eq!(SaliencyMap::normalised(2, 1, vec![5.0, 5.0]).values, vec![0.0, 0.0]);
        assert_eq!(m.to_gray8().as_raw(), &vec![0, 255, 128]);
    }
}
