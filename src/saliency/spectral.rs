//! Spectral residual saliency (Hou & Zhang 2007, "Saliency detection: a spectral residual
//! approach") and the project's two variants, multi-scale and multi-scale times a centre prior.
//!
//! The published recipe, followed here: grayscale, downsample to 64 px wide (aspect kept), log
//! amplitude spectrum minus its 3×3 local mean (edges replicated, as the authors' `imfilter(…,
//! 'replicate')`), inverse FFT with the original phase, squared magnitude, Gaussian blur (σ =
//! 2.5 px at 64 px wide, the authors' `fspecial('gaussian', [10 10], 2.5)`), resize to the image.

use image::RgbImage;
use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

use super::{SaliencyMap, baseline, gauss};
use crate::resample;

/// Working width of the published method.
pub const WIDTH: usize = 64;
/// Working widths of the multi-scale variant.
pub const SCALES: [usize; 3] = [32, 64, 128];
/// Blur σ in pixels at 64 px wide; scaled with the working width, so it is the same fraction of
/// the image at every scale.
const BLUR_SIGMA_AT_64: f64 = 2.5;

/// The published spectral residual map at [`WIDTH`].
pub fn spectral_residual(image: &RgbImage) -> SaliencyMap {
    at_image_size(image, WIDTH)
}

/// The mean of the min-max normalised spectral residual maps at the [`SCALES`].
pub fn multiscale(image: &RgbImage) -> SaliencyMap {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let mut sum = vec![0.0f64; w * h];
    for scale in SCALES {
        for (s, v) in sum.iter_mut().zip(at_image_size(image, scale).values) {
            *s += v as f64;
        }
    }
    SaliencyMap::normalised(w, h, sum)
}

/// [`multiscale`] times [`baseline::centre_bias`], min-max normalised.
pub fn multiscale_centre(image: &RgbImage) -> SaliencyMap {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let centre = baseline::centre_bias(w, h);
    let product = multiscale(image)
        .values
        .iter()
        .zip(&centre.values)
        .map(|(&s, &c)| s as f64 * c as f64)
        .collect();
    SaliencyMap::normalised(w, h, product)
}

/// The residual map at `work_width`, resized to the image (OpenCV-style linear) and normalised.
fn at_image_size(image: &RgbImage, work_width: usize) -> SaliencyMap {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let (small, sw, sh) = residual(image, work_width);
    let small: Vec<f32> = small.iter().map(|&v| v as f32).collect();
    let full = resample::resize_linear_f32(&small, sw, sh, w, h);
    SaliencyMap::normalised(w, h, full.into_iter().map(f64::from).collect())
}

/// The blurred squared residual at `work_width` × the matching height: `(values, width, height)`.
fn residual(image: &RgbImage, work_width: usize) -> (Vec<f64>, usize, usize) {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let sh = ((h as f64 * work_width as f64 / w as f64).round() as usize).max(1);
    let sw = work_width;
    let small = resample::resize_rgb8(image.as_raw(), w, h, sw, sh);
    let mut spectrum: Vec<Complex<f64>> = small
        .chunks_exact(3)
        .map(|p| Complex::new(0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64, 0.0))
        .collect();
    fft2(&mut spectrum, sw, sh, false);
    // A zero amplitude (flat synthetic images) would make the log −∞; floor it instead.
    let log_amplitude: Vec<f64> = spectrum.iter().map(|c| c.norm().max(1e-12).ln()).collect();
    let local_mean = box3_replicate(&log_amplitude, sw, sh);
    for ((c, &l), &m) in spectrum.iter_mut().zip(&log_amplitude).zip(&local_mean) {
        *c = Complex::from_polar((l - m).exp(), c.arg());
    }
    fft2(&mut spectrum, sw, sh, true);
    // The inverse transform is unnormalised; the map is min-max normalised later, so no 1/(w·h).
    let squared: Vec<f64> = spectrum.iter().map(|c| c.norm_sqr()).collect();
    let sigma = BLUR_SIGMA_AT_64 * work_width as f64 / WIDTH as f64;
    (gauss::blur_nearest(&squared, sw, sh, sigma), sw, sh)
}

/// In-place 2-D FFT of a row-major `[height][width]` buffer: rows, then columns.
fn fft2(data: &mut [Complex<f64>], width: usize, height: usize, inverse: bool) {
    let mut planner = FftPlanner::new();
    let mut plan =
        |n| if inverse { planner.plan_fft_inverse(n) } else { planner.plan_fft_forward(n) };
    plan(width).process(data);
    let mut columns: Vec<Complex<f64>> = (0..width)
        .flat_map(|x| (0..height).map(move |y| (x, y)))
        .map(|(x, y)| data[y * width + x])
        .collect();
    plan(height).process(&mut columns);
    for x in 0..width {
        for y in 0..height {
            data[y * width + x] = columns[x * height + y];
        }
    }
}

/// 3×3 mean with edges replicated.
fn box3_replicate(map: &[f64], width: usize, height: usize) -> Vec<f64> {
    let at = |x: i64, y: i64| {
        map[y.clamp(0, height as i64 - 1) as usize * width + x.clamp(0, width as i64 - 1) as usize]
    };
    (0..height as i64)
        .flat_map(|y| (0..width as i64).map(move |x| (x, y)))
        .map(|(x, y)| {
            (-1..=1)
                .flat_map(|dy| (-1..=1).map(move |dx| (dx, dy)))
                .map(|(dx, dy)| at(x + dx, y + dy))
                .sum::<f64>()
                / 9.0
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vertical sinusoidal stripes (a regular texture the method suppresses) with one dark disc
    /// of radius 20 centred at `centre`.
    fn disc_on_stripes(w: u32, h: u32, centre: (i64, i64)) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let (dx, dy) = (x as i64 - centre.0, y as i64 - centre.1);
            let v = if dx * dx + dy * dy < 400 {
                40
            } else {
                (150.0 + 40.0 * (x as f64 * std::f64::consts::TAU / 16.0).sin()) as u8
            };
            image::Rgb([v, v, v])
        })
    }

    #[test]
    fn the_odd_object_out_is_the_most_salient() {
        for (cx, cy) in [(60, 130), (190, 60)] {
            let image = disc_on_stripes(256, 192, (cx, cy));
            for map in [spectral_residual(&image), multiscale(&image)] {
                assert_eq!((map.width, map.height, map.values.len()), (256, 192, 256 * 192));
                assert!(map.values.iter().all(|v| (0.0..=1.0).contains(v)));
                let i = map
                    .values
                    .iter()
                    .enumerate()
                    .fold(0, |best, (i, &v)| if v > map.values[best] { i } else { best });
                let (x, y) = ((i % 256) as i64, (i / 256) as i64);
                assert!(
                    (x - cx).abs() < 30 && (y - cy).abs() < 30,
                    "disc at ({cx}, {cy}), peak at ({x}, {y})"
                );
                let mean = |pixels: &mut dyn Iterator<Item = usize>| {
                    let v: Vec<f32> = pixels.map(|i| map.values[i]).collect();
                    v.iter().sum::<f32>() / v.len() as f32
                };
                let near = mean(&mut (0..256 * 192).filter(|i| {
                    ((i % 256) as i64 - cx).abs() < 30 && ((i / 256) as i64 - cy).abs() < 30
                }));
                assert!(near > 4.0 * mean(&mut (0..256 * 192)), "around the disc {near}");
            }
        }
    }

    #[test]
    fn flat_and_tiny_images_give_finite_maps() {
        for image in [
            RgbImage::from_pixel(50, 30, image::Rgb([90, 90, 90])),
            RgbImage::from_pixel(1, 1, image::Rgb([3, 2, 1])),
            RgbImage::from_pixel(300, 2, image::Rgb([0, 0, 0])),
        ] {
            for map in [spectral_residual(&image), multiscale_centre(&image)] {
                assert_eq!(map.values.len(), (image.width() * image.height()) as usize);
                assert!(map.values.iter().all(|v| (0.0..=1.0).contains(v)));
            }
        }
    }

    #[test]
    fn fft2_round_trips() {
        let original: Vec<Complex<f64>> =
            (0..12).map(|i| Complex::new(i as f64, (i * i % 5) as f64)).collect();
        let mut data = original.clone();
        fft2(&mut data, 4, 3, false);
        assert!((data[0].re - 66.0).abs() < 1e-9, "the DC term is the sum");
        fft2(&mut data, 4, 3, true);
        for (a, b) in data.iter().zip(&original) {
            assert!((a / 12.0 - b).norm() < 1e-9);
        }
    }

    #[test]
    fn box3_replicates_edges() {
        // [[0, 9], [0, 0]] replicated to 4×4 around each pixel: the top-left 3×3 window holds
        // 0,0,9 / 0,0,9 / 0,0,0 → 2.
        let out = box3_replicate(&[0.0, 9.0, 0.0, 0.0], 2, 2);
        assert!(
            (out[0] - 2.0).abs() < 1e-12
                && (out[1] - 4.0).abs() < 1e-12
                && (out[2] - 1.0).abs() < 1e-12
        );
    }
}
