//! Deterministic generated weights and images, identical to `tests/golden/synthetic.py`.
//!
//! Tests, benchmarks and the browser self-check need VGG-16-shaped networks whose real weights
//! (528 MB) cannot be shipped; both sides generate the same values from a seed with SplitMix64.

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
const STREAM: u64 = 0xD1B5_4A32_D192_ED03;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The `j`-th output (0-based) of the SplitMix64 stream that starts at `s0`.
fn splitmix(s0: u64, j: u64) -> u64 {
    mix(s0.wrapping_add((j + 1).wrapping_mul(GOLDEN)))
}

/// Values of tensor number `index` of a generated network: uniform in `[-scale, scale)`.
pub fn tensor_values(seed: u64, index: u64, len: usize, scale: f64) -> Vec<f32> {
    let s0 = seed.wrapping_mul(GOLDEN).wrapping_add(index.wrapping_mul(STREAM));
    (0..len as u64)
        .map(|j| {
            let u = (splitmix(s0, j) >> 40) as f64 / (1u64 << 24) as f64;
            ((2.0 * u - 1.0) * scale) as f32
        })
        .collect()
}

/// A generated RGB image, row-major `[height, width, 3]` bytes. The stream starts at a hash of
/// the seed, so nearby seeds give unrelated images.
pub fn image_bytes(height: usize, width: usize, seed: u64) -> Vec<u8> {
    let s0 = mix(seed ^ STREAM);
    (0..(height * width * 3) as u64).map(|j| (splitmix(s0, j) >> 56) as u8).collect()
}

/// A generated RGB image.
pub fn image(height: u32, width: u32, seed: u64) -> image::RgbImage {
    image::RgbImage::from_raw(width, height, image_bytes(height as usize, width as usize, seed))
        .expect("buffer has height·width·3 bytes")
}

/// [`image()`] at `1/block` of the size with each pixel repeated over a `block × block` square:
/// large structures, so that a network tells such images apart (pixel noise it cannot).
pub fn blocky_image(height: u32, width: u32, seed: u64, block: u32) -> image::RgbImage {
    let small = image(height.div_ceil(block), width.div_ceil(block), seed);
    image::RgbImage::from_fn(width, height, |x, y| *small.get_pixel(x / block, y / block))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_matches_the_reference_sequence() {
        // SplitMix64 seeded with 0: first outputs from the reference C implementation.
        assert_eq!(splitmix(0, 0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(splitmix(0, 1), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn values_stay_in_range_and_differ_between_tensors() {
        let a = tensor_values(7, 0, 1000, 0.5);
        let b = tensor_values(7, 1, 1000, 0.5);
        assert!(a.iter().all(|v| (-0.5..0.5).contains(v)));
        assert_ne!(a, b);
        let mean = a.iter().map(|&v| v as f64).sum::<f64>() / a.len() as f64;
        assert!(mean.abs() < 0.05, "mean {mean}");
    }
}
