//! VGG-16's trunk on the CPU backend as direct GEMMs over padded feature maps.
//!
//! Burn's CPU convolution copies every layer's input to channels-last on one thread, builds an
//! im2col matrix tile by tile and scatters each product back, which held the trunk to about a
//! third of what `gemm` reaches here. A 3×3 convolution with stride 1 and a one-pixel zero
//! border is instead nine products that read the input where it lies: with each image's maps
//! stored as `[channels, h + 2, w + 2]` planes, kernel tap (ky, kx) multiplies the weights
//! `W[:, :, ky, kx]` (`[out, in]`, read in place at stride 9) by the planes shifted by
//! `(ky − 1)(w + 2) + kx − 1` values, and the nine products accumulate into the output over the
//! padded grid's rows `1..=h`, border columns included. Those two columns collect values from
//! the neighbouring rows; the ReLU pass writes zeros there, which is the next layer's border.

/// One image's maps with a zero border of one pixel: plane c holds `(h + 2) · (w + 2)` values
/// from `1 + c · plane`; one more value before the first plane and after the last keeps the
/// shifted reads of the border columns inside the buffer.
struct Padded {
    values: Vec<f32>,
    channels: usize,
    h: usize,
    w: usize,
}

impl Padded {
    fn zeros(channels: usize, h: usize, w: usize) -> Self {
        Self { values: vec![0.0; channels * (h + 2) * (w + 2) + 2], channels, h, w }
    }

    fn plane(&self) -> usize {
        (self.h + 2) * (self.w + 2)
    }

    /// Index of interior value (c, y, x).
    fn at(&self, c: usize, y: usize, x: usize) -> usize {
        1 + c * self.plane() + (y + 1) * (self.w + 2) + x + 1
    }

    fn from_maps(maps: &[f32], channels: usize, h: usize, w: usize) -> Self {
        let mut padded = Self::zeros(channels, h, w);
        for c in 0..channels {
            for y in 0..h {
                let start = padded.at(c, y, 0);
                padded.values[start..start + w]
                    .copy_from_slice(&maps[(c * h + y) * w..(c * h + y + 1) * w]);
            }
        }
        padded
    }

    fn interior(&self) -> Vec<f32> {
        let mut maps = Vec::with_capacity(self.channels * self.h * self.w);
        for c in 0..self.channels {
            for y in 0..self.h {
                let start = self.at(c, y, 0);
                maps.extend_from_slice(&self.values[start..start + self.w]);
            }
        }
        maps
    }

    /// 2×2 max-pool with stride 2 (odd sides floor, as Burn's and PyTorch's).
    fn max_pool(&self) -> Self {
        let (h, w) = (self.h / 2, self.w / 2);
        let mut pooled = Self::zeros(self.channels, h, w);
        for c in 0..self.channels {
            for y in 0..h {
                for x in 0..w {
                    let top = self.at(c, 2 * y, 2 * x);
                    let bottom = self.at(c, 2 * y + 1, 2 * x);
                    let v = &self.values;
                    let at = pooled.at(c, y, x);
                    pooled.values[at] = v[top].max(v[top + 1]).max(v[bottom]).max(v[bottom + 1]);
                }
            }
        }
        pooled
    }
}

/// A 3×3 convolution (stride 1, padding 1) in the CPU's memory: PyTorch's `[out, in, 3, 3]`.
pub struct HostConv {
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

/// The sizes only: a network's Debug should not print millions of weights.
impl std::fmt::Debug for HostConv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let outputs = self.bias.len();
        let inputs = self.weight.len() / (9 * outputs.max(1));
        write!(f, "HostConv [{outputs}, {inputs}, 3, 3]")
    }
}

impl HostConv {
    /// `relu(conv(input) + bias)`, with the output's border zero.
    fn forward_relu(&self, input: &Padded, parallelism: gemm::Parallelism) -> Padded {
        let (inputs, outputs) = (input.channels, self.bias.len());
        assert_eq!(self.weight.len(), outputs * inputs * 9, "a [{outputs}, {inputs}, 3, 3] weight");
        let (h, w, row) = (input.h, input.w, input.w + 2);
        let span = h * row;
        let mut acc = vec![0.0f32; outputs * span];
        for tap in 0..9 {
            let (ky, kx) = (tap / 3, tap % 3);
            // Output j (padded position row + j, stored at 1 + row + j) reads the input at
            // padded position row + j + (ky − 1)·row + kx − 1, stored at j + ky·row + kx.
            let first = ky * row + kx;
            // SAFETY: acc is outputs×span (strides 1, span). The weight is read as outputs×inputs
            // at strides (9·inputs, 9) from `tap`, inside its outputs·inputs·9 values. The input
            // is read as inputs×span at strides (plane, 1) from `first`: the last value read is
            // (inputs − 1)·plane + first + span − 1 ≤ inputs·plane + 1, the buffer's last index.
            unsafe {
                gemm::gemm(
                    outputs,
                    span,
                    inputs,
                    acc.as_mut_ptr(),
                    1,
                    span as isize,
                    tap > 0,
                    self.weight.as_ptr().add(tap),
                    9,
                    (9 * inputs) as isize,
                    input.values.as_ptr().add(first),
                    1,
                    input.plane() as isize,
                    1.0,
                    1.0,
                    false,
                    false,
                    false,
                    parallelism,
                );
            }
        }
        let mut output = Padded::zeros(outputs, h, w);
        for (c, (sums, &b)) in acc.chunks_exact(span).zip(&self.bias).enumerate() {
            for y in 0..h {
                let start = output.at(c, y, 0);
                let sums = &sums[y * row + 1..y * row + 1 + w];
                output.values[start..start + w]
                    .iter_mut()
                    .zip(sums)
                    .for_each(|(o, &s)| *o = (s + b).max(0.0));
            }
        }
        output
    }
}

/// VGG-16's trunk on `images` `[n, 3, h, w]` row-major: each conv + ReLU, a max-pool after the
/// layers in `pool_after`; returns the last layer's maps `[n, channels, h', w']` and their side.
pub fn trunk(
    convs: &[HostConv],
    pool_after: &[usize],
    images: &[f32],
    n: usize,
    (h, w): (usize, usize),
) -> (Vec<f32>, (usize, usize)) {
    let per_image = images.len() / n.max(1);
    let indices: Vec<usize> = (0..n).collect();
    // One image per core natively; a lone image spreads its products instead.
    let parallelism = if n > 1 { gemm::Parallelism::None } else { crate::host::gemm_parallelism() };
    let maps = crate::host::map_items(&indices, |&i| {
        let mut x = Padded::from_maps(&images[i * per_image..(i + 1) * per_image], 3, h, w);
        for (layer, conv) in convs.iter().enumerate() {
            x = conv.forward_relu(&x, parallelism);
            if pool_after.contains(&layer) {
                x = x.max_pool();
            }
        }
        (x.interior(), (x.h, x.w))
    });
    let side = maps.first().map_or((0, 0), |m| m.1);
    (maps.into_iter().flat_map(|m| m.0).collect(), side)
}
