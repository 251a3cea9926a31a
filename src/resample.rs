//! Antialiased bilinear resizing of 8-bit RGB images, bit-exact with Pillow's `Image.resize(…,
//! BILINEAR)`, which is what the published analysis ran (torchvision's `Resize` on PIL images).
//!
//! Written by hand because exactness is the point: general resizing crates use their own
//! rounding and fixed-point layouts, and a one-level difference in a pixel changes the network's
//! outputs in the 4th decimal. This follows Pillow's `Resample.c`: separable passes
//! (horizontal, then vertical), triangle filter widened by the scale factor, coefficients
//! normalised in f64 and rounded to 22-bit fixed point, each pass rounded and clipped to u8.

const PRECISION_BITS: u32 = 32 - 8 - 2;

/// Per output pixel: first input index and fixed-point weights.
struct Coefficients {
    start: Vec<usize>,
    weights: Vec<Vec<i32>>,
}

fn coefficients(in_size: usize, out_size: usize) -> Coefficients {
    let scale = in_size as f64 / out_size as f64;
    let filter_scale = scale.max(1.0);
    let support = filter_scale; // the bilinear filter's support is 1
    let mut start = Vec::with_capacity(out_size);
    let mut weights = Vec::with_capacity(out_size);
    for xx in 0..out_size {
        let center = (xx as f64 + 0.5) * scale;
        let xmin = ((center - support + 0.5) as i64).max(0) as usize; // truncation, as in C
        let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
        let raw: Vec<f64> = (xmin..xmax)
            .map(|x| {
                let t = ((x as f64 - center + 0.5) / filter_scale).abs();
                if t < 1.0 { 1.0 - t } else { 0.0 }
            })
            .collect();
        let total: f64 = raw.iter().sum();
        let fixed = raw
            .iter()
            .map(|&w| {
                let w = if total != 0.0 { w / total } else { w };
                let scaled = w * (1u32 << PRECISION_BITS) as f64;
                (if scaled < 0.0 { scaled - 0.5 } else { scaled + 0.5 }) as i32
            })
            .collect();
        start.push(xmin);
        weights.push(fixed);
    }
    Coefficients { start, weights }
}

fn clip8(acc: i64) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// Resizes an interleaved RGB image (`[height][width][3]` bytes).
pub fn resize_rgb8(
    pixels: &[u8],
    width: usize,
    height: usize,
    out_width: usize,
    out_height: usize,
) -> Vec<u8> {
    assert_eq!(pixels.len(), width * height * 3, "pixel buffer matches its size");
    let half = 1i64 << (PRECISION_BITS - 1);
    // Horizontal pass (skipped when the width is unchanged, as Pillow does).
    let horizontal = if out_width != width {
        let c = coefficients(width, out_width);
        let mut out = vec![0u8; height * out_width * 3];
        for y in 0..height {
            let row = &pixels[y * width * 3..(y + 1) * width * 3];
            for xx in 0..out_width {
                for ch in 0..3 {
                    let acc = c.weights[xx].iter().enumerate().fold(half, |acc, (k, &w)| {
                        acc + row[(c.start[xx] + k) * 3 + ch] as i64 * w as i64
                    });
                    out[(y * out_width + xx) * 3 + ch] = clip8(acc);
                }
            }
        }
        out
    } else {
        pixels.to_vec()
    };
    if out_height == height {
        return horizontal;
    }
    let c = coefficients(height, out_height);
    let mut out = vec![0u8; out_height * out_width * 3];
    for yy in 0..out_height {
        for x in 0..out_width * 3 {
            let acc = c.weights[yy].iter().enumerate().fold(half, |acc, (k, &w)| {
                acc + horizontal[(c.start[yy] + k) * out_width * 3 + x] as i64 * w as i64
            });
            out[yy * out_width * 3 + x] = clip8(acc);
        }
    }
    out
}

/// torchvision's `Resize(side)`: the shorter side becomes `side`, the longer one
/// `int(side · long / short)` (truncated).
pub fn shorter_side_to(width: usize, height: usize, side: usize) -> (usize, usize) {
    if width <= height {
        (side, (side as f64 * height as f64 / width as f64) as usize)
    } else {
        ((side as f64 * width as f64 / height as f64) as usize, side)
    }
}

/// Source index and weight of the next one, per output coordinate, as OpenCV's `INTER_LINEAR`
/// computes them: half-pixel centres, no antialiasing, edges replicated.
fn linear_taps(in_size: usize, out_size: usize) -> Vec<(usize, usize, f32)> {
    let scale = in_size as f64 / out_size as f64;
    (0..out_size)
        .map(|d| {
            let f = ((d as f64 + 0.5) * scale - 0.5) as f32;
            let s = f.floor();
            let (mut s, mut frac) = (s as i64, f - s);
            if s < 0 {
                (s, frac) = (0, 0.0);
            }
            if s >= in_size as i64 - 1 {
                (s, frac) = (in_size as i64 - 1, 0.0);
            }
            let s = s as usize;
            (s, (s + 1).min(in_size - 1), frac)
        })
        .collect()
}

/// Resizes a single-channel float map (`[height][width]`) the way `cv2.resize(map, (width',
/// height'))` does for float32 (`INTER_LINEAR`): the published code draws heatmaps and
/// post-processes saliency maps with it.
pub fn resize_linear_f32(
    map: &[f32],
    width: usize,
    height: usize,
    out_width: usize,
    out_height: usize,
) -> Vec<f32> {
    assert_eq!(map.len(), width * height, "map buffer matches its size");
    let (xs, ys) = (linear_taps(width, out_width), linear_taps(height, out_height));
    let rows: Vec<Vec<f32>> = (0..height)
        .map(|y| {
            let row = &map[y * width..(y + 1) * width];
            xs.iter().map(|&(a, b, f)| row[a] * (1.0 - f) + row[b] * f).collect()
        })
        .collect();
    let mut out = Vec::with_capacity(out_width * out_height);
    for &(a, b, f) in &ys {
        out.extend(rows[a].iter().zip(&rows[b]).map(|(&p, &q)| p * (1.0 - f) + q * f));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_size_is_the_identity() {
        let px: Vec<u8> = (0..4 * 5 * 3).map(|v| (v * 13 % 256) as u8).collect();
        assert_eq!(resize_rgb8(&px, 4, 5, 4, 5), px);
    }

    #[test]
    fn halving_matches_pillow() {
        // Pillow: Image.frombytes('RGB', (4, 1), bytes([0,0,0, 100,100,100, 200,200,200, 50,50,50]))
        //   .resize((2, 1), Image.BILINEAR) → [(71,71,71), (121,121,121)]
        let px = [0, 0, 0, 100, 100, 100, 200, 200, 200, 50, 50, 50];
        assert_eq!(resize_rgb8(&px, 4, 1, 2, 1), vec![71, 71, 71, 121, 121, 121]);
    }

    #[test]
    fn constant_images_stay_constant() {
        let px = vec![77u8; 300 * 200 * 3];
        assert!(resize_rgb8(&px, 300, 200, 336, 224).iter().all(|&v| v == 77));
        assert!(resize_rgb8(&px, 300, 200, 33, 22).iter().all(|&v| v == 77));
    }

    #[test]
    fn shorter_side_rule_truncates_like_torchvision() {
        assert_eq!(shorter_side_to(500, 500, 224), (224, 224));
        assert_eq!(shorter_side_to(200, 260, 224), (224, 291));
        assert_eq!(shorter_side_to(320, 240, 224), (298, 224));
    }

    #[test]
    fn linear_resize_matches_opencv() {
        // cv2.resize(np.array([[0, 10], [20, 30]], np.float32), (4, 4)):
        // rows [0, 2.5, 7.5, 10], [5, 7.5, 12.5, 15], [15, 17.5, 22.5, 25], [20, 22.5, 27.5, 30]
        let out = resize_linear_f32(&[0.0, 10.0, 20.0, 30.0], 2, 2, 4, 4);
        let expected = [
            0.0, 2.5, 7.5, 10.0, 5.0, 7.5, 12.5, 15.0, 15.0, 17.5, 22.5, 25.0, 20.0, 22.5, 27.5,
            30.0,
        ];
        assert_eq!(out, expected);
        // Downscaling samples between pixels without antialiasing: cv2.resize(np.arange(4,
        // dtype=np.float32)[None], (2, 1)) → [0.5, 2.5].
        assert_eq!(resize_linear_f32(&[0.0, 1.0, 2.0, 3.0], 4, 1, 2, 1), vec![0.5, 2.5]);
        assert_eq!(resize_linear_f32(&[1.0, 2.0, 3.0], 3, 1, 3, 1), vec![1.0, 2.0, 3.0]);
    }
}
