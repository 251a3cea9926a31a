//! How much memory a run needs, before it starts: the network's weights, the images, the trunk's
//! activations, the feature maps, the engine's chunk, the changes its image-by-image schedule
//! keeps and the scores ([`memory_estimate`]). The command line prints it; the page compares it
//! with what the browser gives and adapts or refuses the run (`web::plan_run`).

use burn::prelude::Tensor;

use crate::ablation::{EngineOptions, schedule_bytes};
use crate::model::efficientnet::{EMBEDDING, FoldedConv};
use crate::model::{Network, Vgg16Spec};

/// The sizes of a network that the memory of a run depends on: from a loaded network
/// ([`Footprint::of`]) or, for VGG-16, from its widths alone ([`Vgg16Spec::footprint`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Footprint {
    /// Weights, as loaded (one f32 each).
    pub parameters: usize,
    /// The side the shorter image side is resized to.
    pub input_side: usize,
    /// Floats alive at once in the trunk's busiest layer, per input pixel: its input, the CPU
    /// backend's channels-last copy of it, and its output.
    pub peak_per_pixel: f64,
    /// Feature maps at the ablation layer.
    pub channels: usize,
    /// The input side over the feature maps' side: VGG-16 16 (rounded down at each pool),
    /// EfficientNet-Lite 32 (rounded up at each stride).
    pub map_stride: usize,
    pub map_rounds_up: bool,
    /// VGG-16 pools every feature map to 7×7 before its head (`Some(49)`); EfficientNet-Lite's
    /// head reads every position of the maps (`None`).
    pub pooled_positions: Option<usize>,
    /// Width of the head's first layer (`out`).
    pub head_out: usize,
    pub embedding: usize,
    /// Bytes the head's host passes hold besides their inputs (VGG-16: fc7's weight, in f32
    /// through the CPU engine's run and in f64 through selection's curves).
    pub host_f64_bytes: usize,
    /// Images per block of the engine's image-by-image schedule ([`Network::block_images`]).
    pub block_images: usize,
}

fn elements<const D: usize>(t: &Tensor<D>) -> usize {
    t.dims().iter().product()
}

impl Footprint {
    /// The footprint of a loaded network (EfficientNet-Lite: read from its tensors).
    pub fn of(net: &Network) -> Footprint {
        let m = match net {
            Network::Vgg16(m) => return m.spec.footprint(),
            Network::EfficientNetLite(m) => m,
        };
        let conv = |c: &FoldedConv| elements(&c.weight) + elements(&c.bias);
        let mut parameters = conv(&m.stem)
            + elements(&m.head_weight)
            + elements(&m.head_bias)
            + m.classifier.parameters();
        // Per input pixel: a convolution's input twice (the CPU backend's channels-last copy)
        // and its output, at 1/d² of the input's pixels after strides d.
        let [stem, inputs, _, _] = m.stem.weight.dims();
        let mut scale = 1.0 / (m.stem.stride * m.stem.stride) as f64;
        let mut peak = 2.0 * inputs as f64 + stem as f64 * scale;
        let mut step = |c: &FoldedConv, scale: &mut f64| {
            let [outputs, per_group, _, _] = c.weight.dims();
            let inputs = if c.groups > 1 { outputs } else { per_group };
            let after = *scale / (c.stride * c.stride) as f64;
            peak = peak.max(2.0 * inputs as f64 * *scale + outputs as f64 * after);
            *scale = after;
        };
        for block in &m.blocks {
            if let Some(expand) = &block.expand {
                parameters += conv(expand);
                step(expand, &mut scale);
            }
            parameters += conv(&block.depthwise) + conv(&block.project);
            step(&block.depthwise, &mut scale);
            step(&block.project, &mut scale);
        }
        let channels = m.variant.channels();
        Footprint {
            parameters,
            input_side: m.variant.input_side(),
            peak_per_pixel: peak,
            channels,
            map_stride: 32,
            map_rounds_up: true,
            pooled_positions: None,
            head_out: EMBEDDING,
            embedding: EMBEDDING,
            host_f64_bytes: 8 * EMBEDDING * channels,
            block_images: net.block_images(),
        }
    }

    /// The feature maps' `(height, width)` for a preprocessed input of `height × width`.
    pub fn map_size(&self, height: usize, width: usize) -> (usize, usize) {
        let side = |s: usize| {
            if self.map_rounds_up { s.div_ceil(self.map_stride) } else { s / self.map_stride }
        };
        (side(height), side(width))
    }

    /// `(positions, positions')`: the ablation inputs' positions per channel and the head's
    /// first pre-activation's, for feature maps of `map` size.
    pub fn positions(&self, map: (usize, usize)) -> (usize, usize) {
        match self.pooled_positions {
            Some(pooled) => (pooled, 1),
            None => (map.0 * map.1, map.0 * map.1),
        }
    }
}

/// VGG-16 as published (1000 classes), for plans made before its weights are downloaded.
pub fn vgg16() -> Footprint {
    Vgg16Spec::full(1000).footprint()
}

/// What one run needs in memory, by part, in bytes ([`memory_estimate`]). With the CPU
/// backend all of it is in one memory (the WebAssembly memory in the browser); on a GPU the
/// network, the activations, the chunk, the kept changes (not their products) and a copy of the
/// ablation inputs are in GPU memory and the rest on the host ([`MemoryEstimate::host`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MemoryEstimate {
    /// The network's weights as loaded (f32).
    pub network: u64,
    /// The decoded images (RGB, kept for the overlays) and their preprocessed f32 inputs.
    pub images: u64,
    /// The trunk's busiest layer for one batch of the largest images.
    pub activations: u64,
    /// The feature maps kept for the heatmaps, and the ablation inputs on the host and on the
    /// device.
    pub feature_maps: u64,
    /// One chunk of the engine's ablations ([`EngineOptions::chunk_bytes`], at least one
    /// feature map over a block of images; the kept changes are gathered over every image at the
    /// end of the image-by-image schedule within the same budget, at least one feature map).
    pub chunk: u64,
    /// What the engine's image-by-image schedule keeps for the dataset AIS until its end: every
    /// scored channel's embedding changes over the cohort (f32, `4·channels·n·embedding`) and
    /// their products with the full embeddings (f64 on the host, `8·channels·n·(n + 1)`); 0 when
    /// the cohort runs as one block of every image (one block would hold every image, or
    /// this sum exceeds [`EngineOptions::store_bytes`]).
    pub kept_changes: u64,
    /// The part of `kept_changes` on the host (the products), for [`MemoryEstimate::host`];
    /// not a part of its own, so not sent to the page.
    #[serde(skip)]
    pub kept_on_host: u64,
    /// The scores, the Gram matrices kept for cross-validation and the f64 full pass.
    pub scores: u64,
}

impl MemoryEstimate {
    pub fn total(&self) -> u64 {
        self.network
            + self.images
            + self.activations
            + self.feature_maps
            + self.chunk
            + self.kept_changes
            + self.scores
    }

    /// What stays on the host when the network runs on a GPU: the images, the host's copy of
    /// the feature maps (half of them, as counted here), the kept changes' products and the
    /// scores.
    pub fn host(&self) -> u64 {
        self.images + self.feature_maps.div_ceil(2) + self.kept_on_host + self.scores
    }
}

/// "1.2 GB", "350 MB", "80 kB": decimal units, as browsers show download sizes.
pub fn format_bytes(n: u64) -> String {
    let n = n as f64;
    if n >= 1e9 {
        format!("{:.1} GB", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.0} MB", n / 1e6)
    } else {
        format!("{:.0} kB", n / 1e3)
    }
}

impl std::fmt::Display for MemoryEstimate {
    /// "about 1.3 GB (network 553 MB, images 12 MB, …)".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "about {} (network {}, images {}, activations {}, feature maps {}, ablation chunk {}, \
             kept changes {}, scores {})",
            format_bytes(self.total()),
            format_bytes(self.network),
            format_bytes(self.images),
            format_bytes(self.activations),
            format_bytes(self.feature_maps),
            format_bytes(self.chunk),
            format_bytes(self.kept_changes),
            format_bytes(self.scores)
        )
    }
}

/// The memory a run of images of `sizes` (decoded `(height, width)`) needs through a network of
/// `footprint`, `batch` images per forward pass, with the engine's `options`. An estimate of
/// the large buffers, not of the allocator's slack or the backends' caches: the page's VGG-16
/// run measured its WebAssembly memory within the figures of docs/ENGINE.md ("Memory before a
/// run").
pub fn memory_estimate(
    footprint: &Footprint,
    sizes: &[(usize, usize)],
    batch: usize,
    options: &EngineOptions,
) -> MemoryEstimate {
    let f = footprint;
    let n = sizes.len();
    let prepared: Vec<(usize, usize)> = sizes
        .iter()
        .map(|&(h, w)| {
            let (pw, ph) = crate::resample::shorter_side_to(w, h, f.input_side);
            (ph, pw)
        })
        .collect();
    let decoded: usize = sizes.iter().map(|&(h, w)| 3 * h * w).sum();
    let inputs: usize = prepared.iter().map(|&(h, w)| 4 * 3 * h * w).sum();
    let largest = prepared.iter().copied().max_by_key(|&(h, w)| h * w).unwrap_or((0, 0));
    let activations =
        batch.clamp(1, n.max(1)) as f64 * f.peak_per_pixel * (largest.0 * largest.1) as f64 * 4.0;
    let maps: usize = prepared
        .iter()
        .map(|&(h, w)| {
            let (mh, mw) = f.map_size(h, w);
            4 * f.channels * mh * mw
        })
        .sum();
    let (positions, pre_positions) = f.positions(f.map_size(largest.0, largest.1));
    let ablation_inputs = 4 * n * f.channels * positions;
    let pre_size = f.head_out * pre_positions;
    // The engine's schedule for every channel it scores, each taken to be active (nonzero in
    // some image; one zero in every image is skipped, so a cohort just over `store_bytes` with
    // such channels may still run image by image and keep up to about `store_bytes`). Its chunk:
    // per channel and image, the removal terms and the temporaries of their activation change,
    // the embedding changes and theirs, and the read-backs (the engine's chunk budget).
    let scored = options
        .channel_range
        .map_or(f.channels, |(start, end)| end.min(f.channels).saturating_sub(start));
    let schedule = schedule_bytes(options, n, scored, pre_size, f.embedding, f.block_images);
    let grams = if options.keep_grams { 4 * f.channels * n * n } else { 0 };
    // Per-image AIS and their copies for the page; the f64 pre-activations and embeddings.
    let scores =
        grams + 8 * 3 * n * f.channels + 8 * n * (pre_size + f.embedding) + f.host_f64_bytes;
    MemoryEstimate {
        network: 4 * f.parameters as u64,
        images: (decoded + inputs) as u64,
        activations: activations.ceil() as u64,
        feature_maps: (maps + 2 * ablation_inputs) as u64,
        chunk: schedule.chunk.max(schedule.gathered) as u64,
        kept_changes: (schedule.changes + schedule.products) as u64,
        kept_on_host: schedule.products as u64,
        scores: scores as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Vgg16;
    use burn::prelude::Device;

    #[test]
    fn vgg16_has_torchvisions_parameters_and_its_busiest_layer_is_conv1_2() {
        let f = vgg16();
        // torchvision.models.vgg16(): sum(p.numel() for p in m.parameters()).
        assert_eq!(f.parameters, 138_357_544);
        // conv1_2 at full resolution: 64 channels in (twice) and 64 out.
        assert_eq!(f.peak_per_pixel, 192.0);
        assert_eq!(f.map_size(224, 300), (14, 18));
        assert_eq!(f.positions((14, 18)), (49, 1));
    }

    #[test]
    fn a_loaded_networks_footprint_counts_its_tensors() {
        let net = Network::Vgg16(Vgg16::synthetic(&Vgg16Spec::tiny(), 1, &Device::flex()));
        let f = Footprint::of(&net);
        let tensors: usize = Vgg16Spec::tiny()
            .torchvision_tensors()
            .iter()
            .map(|(_, shape, _)| shape.iter().product::<usize>())
            .sum();
        assert_eq!(f.parameters, tensors);
        assert_eq!((f.channels, f.embedding), (32, 64));
        assert_eq!(f.block_images, net.block_images());
    }

    #[test]
    fn the_estimate_follows_the_batch_the_chunk_and_the_gram_matrices() {
        let f = vgg16();
        let sizes = vec![(175, 175); 24];
        let options = EngineOptions { chunk_bytes: 128 << 20, ..Default::default() };
        let e = memory_estimate(&f, &sizes, 4, &options);
        assert_eq!(e.network, 4 * 138_357_544);
        // 175×175 images go to 224×224: 192 floats per pixel for four images.
        assert_eq!(e.activations, 4 * 192 * 224 * 224 * 4);
        assert_eq!(e.images, 24 * (3 * 175 * 175 + 4 * 3 * 224 * 224));
        assert!(e.chunk <= 128 << 20 && e.chunk > 64 << 20, "{}", e.chunk);
        let one = memory_estimate(&f, &sizes, 1, &options);
        assert_eq!(one.activations * 4, e.activations);
        // One ablation of a chunk: fc6's removal terms and their temporaries (4·4096), the
        // embedding changes and theirs (4·4096), the read-backs (2·25), in f32.
        let per_ablation = 4 * (4 * 4096 + 4 * 4096 + 2 * 25);
        let small = EngineOptions { chunk_bytes: 1, ..options };
        let least = memory_estimate(&f, &sizes, 1, &small);
        assert_eq!(least.chunk, 4 * per_ablation, "one feature map over a block of four images");
        let grams = EngineOptions { keep_grams: true, ..options };
        let kept = memory_estimate(&f, &sizes, 4, &grams);
        assert_eq!(kept.scores - e.scores, 4 * 512 * 24 * 24);
        assert_eq!(kept.total() - e.total(), 4 * 512 * 24 * 24);
        assert!(kept.host() < kept.total() - kept.network);
    }

    #[test]
    fn the_estimate_counts_the_changes_the_image_by_image_schedule_keeps() {
        let f = vgg16();
        let (channels, embedding) = (f.channels, f.embedding);
        let options = EngineOptions { chunk_bytes: 128 << 20, ..Default::default() };
        for n in [8, 24, 120] {
            let e = memory_estimate(&f, &vec![(175, 175); n], 4, &options);
            // Every channel's embedding changes in f32 and, per (channel, image), n + 1 f64
            // products with the full embeddings, which stay on the host.
            let products = 8 * channels * n * (n + 1);
            assert_eq!(e.kept_changes, (4 * channels * n * embedding + products) as u64);
            assert_eq!(e.kept_on_host, products as u64);
            assert_eq!(e.total(), {
                let parts = [e.network, e.images, e.activations, e.feature_maps, e.chunk];
                parts.iter().sum::<u64>() + e.kept_changes + e.scores
            });
            assert_eq!(
                e.host(),
                e.images + e.feature_maps.div_ceil(2) + products as u64 + e.scores
            );
            assert!(
                e.to_string().contains(&format!("kept changes {}", format_bytes(e.kept_changes)))
            );
            // The batch and the chunk change how the changes are made, not how many are kept.
            let least = memory_estimate(
                &f,
                &vec![(175, 175); n],
                1,
                &EngineOptions { chunk_bytes: 1, ..options },
            );
            assert_eq!(least.kept_changes, e.kept_changes);
            // Above `store_bytes` the cohort runs as one block of every image, keeping nothing,
            // its chunk then of kc channels over every image.
            let bound = 4 * channels * n * embedding + 8 * channels * n * (n + 1);
            assert_eq!(bound as u64, e.kept_changes, "every kept byte counts against the bound");
            let at = memory_estimate(
                &f,
                &vec![(175, 175); n],
                4,
                &EngineOptions { store_bytes: bound, ..options },
            );
            assert_eq!(at.kept_changes, e.kept_changes, "the bound is inclusive");
            let over = EngineOptions { store_bytes: bound - 1, ..options };
            let o = memory_estimate(&f, &vec![(175, 175); n], 4, &over);
            assert_eq!((o.kept_changes, o.kept_on_host), (0, 0));
            let per_ablation = 4 * (4 * f.head_out + 4 * embedding + 2 * (n + 1));
            let kc = (options.chunk_bytes / per_ablation / n).max(1);
            assert_eq!(o.chunk, (kc * n * per_ablation) as u64);
            assert_eq!(e.total() - o.total() - e.kept_changes, e.chunk - o.chunk);
        }
        // 125 images: 4·512·125·4096 + 8·512·125·126 bytes are more than the default 1 GiB.
        assert!(
            4 * channels * 125 * embedding + 8 * channels * 125 * 126
                > EngineOptions::default().store_bytes
        );
        let e = memory_estimate(&f, &vec![(175, 175); 125], 4, &EngineOptions::default());
        assert_eq!(e.kept_changes, 0);
        // Four images are one block of VGG-16's four: nothing is kept.
        let e = memory_estimate(&f, &[(175, 175); 4], 4, &EngineOptions::default());
        assert_eq!(e.kept_changes, 0);
        // One worker's share keeps its own channels' changes only.
        let share = EngineOptions { channel_range: Some((0, 100)), ..options };
        let e = memory_estimate(&f, &vec![(175, 175); 24], 4, &share);
        assert_eq!(e.kept_changes, (4 * 100 * 24 * embedding + 8 * 100 * 24 * 25) as u64);
    }
}
