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
//! The small layers take a few images' planes side by side in one product (the border rows
//! between two images are computed and dropped), the large ones an image at a time.

/// The maps of one or more images with a zero border of one pixel: channel c's plane for image
/// m holds `(h + 2) · (w + 2)` values from `1 + (c · images + m) · plane` (a channel's planes
/// side by side, so that one product covers every image); one more value before the first plane
/// and after the last keeps the shifted reads of the border columns inside the buffer.
struct Padded {
    values: Vec<f32>,
    channels: usize,
    images: usize,
    h: usize,
    w: usize,
}

impl Padded {
    fn zeros(channels: usize, images: usize, h: usize, w: usize) -> Self {
        let values = vec![0.0; channels * images * (h + 2) * (w + 2) + 2];
        Self { values, channels, images, h, w }
    }

    fn plane(&self) -> usize {
        (self.h + 2) * (self.w + 2)
    }

    /// Index of image m's interior value (c, y, x).
    fn at(&self, c: usize, m: usize, y: usize, x: usize) -> usize {
        1 + (c * self.images + m) * self.plane() + (y + 1) * (self.w + 2) + x + 1
    }

    /// One image's `[channels, h, w]` maps.
    fn from_maps(maps: &[f32], channels: usize, h: usize, w: usize) -> Self {
        let mut padded = Self::zeros(channels, 1, h, w);
        for c in 0..channels {
            for y in 0..h {
                let start = padded.at(c, 0, y, 0);
                padded.values[start..start + w]
                    .copy_from_slice(&maps[(c * h + y) * w..(c * h + y + 1) * w]);
            }
        }
        padded
    }

    /// The images of `parts` (one each, of the same shape) side by side.
    fn join(parts: Vec<Padded>) -> Self {
        if parts.len() == 1 {
            return parts.into_iter().next().expect("one part");
        }
        let (channels, h, w) = (parts[0].channels, parts[0].h, parts[0].w);
        let mut joined = Self::zeros(channels, parts.len(), h, w);
        let plane = joined.plane();
        for c in 0..channels {
            for (m, part) in parts.iter().enumerate() {
                let to = 1 + (c * parts.len() + m) * plane;
                joined.values[to..to + plane]
                    .copy_from_slice(&part.values[1 + c * plane..1 + (c + 1) * plane]);
            }
        }
        joined
    }

    /// The interior, `[images, channels, h, w]`.
    fn interior(&self) -> Vec<f32> {
        let mut maps = Vec::with_capacity(self.images * self.channels * self.h * self.w);
        for m in 0..self.images {
            for c in 0..self.channels {
                for y in 0..self.h {
                    let start = self.at(c, m, y, 0);
                    maps.extend_from_slice(&self.values[start..start + self.w]);
                }
            }
        }
        maps
    }

    /// 2×2 max-pool with stride 2 (odd sides floor, as Burn's and PyTorch's).
    fn max_pool(&self) -> Self {
        let (h, w) = (self.h / 2, self.w / 2);
        let mut pooled = Self::zeros(self.channels, self.images, h, w);
        for c in 0..self.channels {
            for m in 0..self.images {
                for y in 0..h {
                    for x in 0..w {
                        let top = self.at(c, m, 2 * y, 2 * x);
                        let bottom = self.at(c, m, 2 * y + 1, 2 * x);
                        let v = &self.values;
                        let at = pooled.at(c, m, y, x);
                        pooled.values[at] =
                            v[top].max(v[top + 1]).max(v[bottom]).max(v[bottom + 1]);
                    }
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
        let (h, w, row, plane) = (input.h, input.w, input.w + 2, input.plane());
        // From the first image's row 1 to the last image's row h; the rows between two images
        // (a border each) are computed and dropped.
        let span = (input.images - 1) * plane + h * row;
        let stride = input.images * plane;
        let mut acc = vec![0.0f32; outputs * span];
        for tap in 0..9 {
            let (ky, kx) = (tap / 3, tap % 3);
            // Output j (padded position row + j, stored at 1 + row + j) reads the input at
            // padded position row + j + (ky − 1)·row + kx − 1, stored at j + ky·row + kx.
            let first = ky * row + kx;
            // SAFETY: acc is outputs×span (strides 1, span). The weight is read as outputs×inputs
            // at strides (9·inputs, 9) from `tap`, inside its outputs·inputs·9 values. The input
            // is read as inputs×span at strides (stride, 1) from `first`: the last value read is
            // (inputs − 1)·stride + first + span − 1 ≤ inputs·stride + 1, the buffer's last index.
            unsafe {
                crate::host::gemm_into(
                    [outputs, span, inputs],
                    acc.as_mut_ptr(),
                    span as isize,
                    tap > 0,
                    crate::host::Strided {
                        first: self.weight.as_ptr().add(tap),
                        column_stride: 9,
                        row_stride: (9 * inputs) as isize,
                    },
                    crate::host::Strided {
                        first: input.values.as_ptr().add(first),
                        column_stride: 1,
                        row_stride: stride as isize,
                    },
                    parallelism,
                );
            }
        }
        let mut output = Padded::zeros(outputs, input.images, h, w);
        for (c, (sums, &b)) in acc.chunks_exact(span).zip(&self.bias).enumerate() {
            for m in 0..input.images {
                for y in 0..h {
                    let start = output.at(c, m, y, 0);
                    let sums = &sums[m * plane + y * row + 1..][..w];
                    output.values[start..start + w]
                        .iter_mut()
                        .zip(sums)
                        .for_each(|(o, &s)| *o = (s + b).max(0.0));
                }
            }
        }
        output
    }
}

/// Images per core whose maps go through the small layers together: one product over the
/// planes of several images is wider, and `gemm` runs a 512 × 512 × 224 product (a 14×14 layer,
/// one image) at 76 GFLOP/s on a core here, a 512 × 512 × 896 one at 131.
const GROUP: usize = 4;
/// Layers whose input planes have at most this many pixels run on the group's images together
/// (VGG-16 at 224×224: the 28×28 and 14×14 layers); the larger ones an image at a time, which
/// keeps their buffers (up to 40 MB an image) to one image per core.
const JOINED_PIXELS: usize = 32 * 32;

/// VGG-16's trunk on `images` `[n, 3, h, w]` row-major: each conv + ReLU, a max-pool after the
/// layers in `pool_after`; returns the last layer's maps `[n, channels, h', w']` and their side.
pub fn trunk(
    convs: &[HostConv],
    pool_after: &[usize],
    images: &[f32],
    n: usize,
    (h, w): (usize, usize),
) -> (Vec<f32>, (usize, usize)) {
    if n == 0 {
        return (Vec::new(), (0, 0));
    }
    let per_image = images.len() / n;
    // Consecutive groups of images, at least one per core; one group alone spreads its
    // products over the cores instead.
    let groups = crate::host::threads().max(n.div_ceil(GROUP)).min(n);
    let bounds: Vec<(usize, usize)> =
        (0..groups).map(|g| (g * n / groups, (g + 1) * n / groups)).collect();
    let parallelism =
        if groups > 1 { gemm::Parallelism::None } else { crate::host::gemm_parallelism() };
    let layer = |x: Padded, i: usize| {
        let x = convs[i].forward_relu(&x, parallelism);
        if pool_after.contains(&i) { x.max_pool() } else { x }
    };
    // The layers before the first whose input planes are small run an image at a time.
    let (mut side, mut large) = ((h, w), 0);
    while large < convs.len() && side.0 * side.1 > JOINED_PIXELS {
        if pool_after.contains(&large) {
            side = (side.0 / 2, side.1 / 2);
        }
        large += 1;
    }
    let maps = crate::host::map_items(&bounds, |&(start, end)| {
        let parts = (start..end)
            .map(|i| {
                let x = Padded::from_maps(&images[i * per_image..(i + 1) * per_image], 3, h, w);
                (0..large).fold(x, layer)
            })
            .collect();
        let x = (large..convs.len()).fold(Padded::join(parts), layer);
        (x.interior(), (x.h, x.w))
    });
    let side = maps[0].1;
    (maps.into_iter().flat_map(|m| m.0).collect(), side)
}
