//! The hot path: exact "remove one feature map" ablations and their Alignment Importance Scores.
//!
//! The head's first layer is linear in the ablation inputs (see [`crate::model`]), so removing
//! channel k of image i subtracts an exactly known term from that image's pre-activation
//! (VGG-16: `P[i,k] · W6[k-block]`, a rank-49 update of fc6; EfficientNet-Lite0:
//! `W_head[:,k] ⊗ A[i,k]`). Per chunk of channels, for every image at once: subtract the terms
//! from the full pre-activation, run the rest of the head in one batch, standardise the ablated
//! embeddings, and read back two small products: correlations of each ablated image with the
//! others' full embeddings (per-image AIS) and the per-channel Gram matrices of the all-ablated
//! cohort (dataset AIS). Channels whose inputs are zero in every image are skipped (their AIS are
//! exactly 0), and an image whose inputs for a channel are all zero gets exactly 0 for it.
//!
//! Memory: a chunk of kc channels holds about `kc·n·(2·out·positions' + 2·embedding)` f32 on
//! the device besides the model (see `chunk_channels`); kc is chosen so this stays under
//! [`EngineOptions::chunk_bytes`].

use burn::prelude::*;

use crate::correlation;
use crate::error::{Error, Result};
use crate::extract::read_f32;
use crate::model::Network;
use crate::scores::{self, Baseline};

#[derive(Clone, Copy, Debug)]
pub struct EngineOptions {
    /// Device memory for one chunk of ablations, in bytes.
    pub chunk_bytes: usize,
    /// Memory the image-by-image schedule may keep for the dataset AIS (every scored channel's
    /// embedding changes in f32 and their `n + 1` products in f64,
    /// `4·channels·n·embedding + 8·channels·n·(n + 1)` bytes); a cohort that needs more
    /// runs channel by channel over all images at once, and its per-image AIS arrive together
    /// at the end.
    pub store_bytes: usize,
    /// Keep every channel's Gram matrix of the all-ablated cohort ([`AisScores::grams`]): the
    /// training AIS of any subset of images, without recomputation (cross-validation).
    pub keep_grams: bool,
    /// Score only the channels `start..end` (one worker's share; [`AisScores::merge`] joins the
    /// shares); `None`: every channel.
    pub channel_range: Option<(usize, usize)>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            chunk_bytes: 256 << 20,
            store_bytes: 1 << 30,
            keep_grams: false,
            channel_range: None,
        }
    }
}

/// What the engine tells its caller while it runs.
#[derive(Debug)]
pub enum Event<'a> {
    /// Image `index`'s per-image AIS are final: one per channel (0 outside the scored range and
    /// for channels whose inputs are zero).
    /// `baseline`: its per-image 2OI with every feature map (the scores are this minus the
    /// 2OI with one removed).
    Image { index: usize, baseline: f64, ais: &'a [f64] },
    /// `done` of `total` (image, feature map) ablations are scored.
    Progress { done: usize, total: usize },
}

/// The model similarities behind dataset AIS: Pearson correlations between the embeddings of
/// every pair of images, with all channels and with each channel removed from every image.
#[derive(Clone, Debug)]
pub struct ChannelGrams {
    /// `n × n`: Z with all channels.
    pub full: Vec<f64>,
    /// `channels × n × n`: how Z changes when channel k is removed from every image (0 for
    /// skipped channels). Kept as the change, in f32, so that `full + change` keeps the f64
    /// accuracy of both at half the memory.
    pub change: Vec<f32>,
}

impl ChannelGrams {
    /// Channel k's `n × n` matrix: Z with channel k removed.
    pub fn channel(&self, k: usize, n: usize) -> Vec<f64> {
        let change = &self.change[k * n * n..(k + 1) * n * n];
        self.full.iter().zip(change).map(|(&z, &d)| z + f64::from(d)).collect()
    }
}

/// Alignment Importance Scores of one cohort.
#[derive(Clone, Debug)]
pub struct AisScores {
    pub n: usize,
    pub channels: usize,
    pub baseline: Baseline,
    /// Per-image AIS, `n × channels` row-major: `base_t − r_tk` (negatives kept).
    pub image: Vec<f64>,
    /// Dataset AIS with r (the paper's ρ): `r − r_k`.
    pub dataset_r: Vec<f64>,
    /// Dataset AIS with r² (the authors' code): `r² − r_k²`.
    pub dataset_r2: Vec<f64>,
    /// (image, channel) pairs whose pooled values are all zero: AIS exactly 0, not computed.
    pub zero_pairs: usize,
    /// Channels zero in every image: skipped entirely.
    pub skipped_channels: usize,
    /// Present when [`EngineOptions::keep_grams`] asked for them.
    pub grams: Option<ChannelGrams>,
}

impl AisScores {
    /// Scores and baselines that are NaN: an embedding or a human row is constant.
    pub fn undefined(&self) -> usize {
        self.image
            .iter()
            .chain(&self.dataset_r)
            .chain(&self.baseline.per_image)
            .filter(|v| !v.is_finite())
            .count()
    }

    /// One cohort's scores from the shares of a split run ([`EngineOptions::channel_range`]):
    /// each channel's values from the share that scored it. The shares must cover every
    /// channel once, over the same images and human matrix.
    pub fn merge(shares: Vec<(std::ops::Range<usize>, AisScores)>) -> Result<AisScores> {
        let mut shares = shares.into_iter();
        let (first_range, mut merged) =
            shares.next().ok_or_else(|| Error::Invalid("no shares to merge".into()))?;
        let (n, channels) = (merged.n, merged.channels);
        let mut covered = vec![false; channels];
        let mut mark = |range: &std::ops::Range<usize>| -> Result<()> {
            for k in range.clone() {
                if k >= channels || std::mem::replace(&mut covered[k], true) {
                    return Err(Error::Invalid(format!(
                        "shares overlap or exceed the {channels} channels at channel {k}"
                    )));
                }
            }
            Ok(())
        };
        mark(&first_range)?;
        for (range, share) in shares {
            // Bit for bit: an undefined baseline (NaN, a constant human row) is one in every
            // share, and NaN != NaN.
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            if (share.n, share.channels) != (n, channels)
                || bits(&share.baseline.per_image) != bits(&merged.baseline.per_image)
            {
                return Err(Error::Invalid("shares of different cohorts".into()));
            }
            mark(&range)?;
            for t in 0..n {
                let row = t * channels;
                merged.image[row + range.start..row + range.end]
                    .copy_from_slice(&share.image[row + range.start..row + range.end]);
            }
            merged.dataset_r[range.clone()].copy_from_slice(&share.dataset_r[range.clone()]);
            merged.dataset_r2[range.clone()].copy_from_slice(&share.dataset_r2[range.clone()]);
            merged.zero_pairs += share.zero_pairs;
            merged.skipped_channels += share.skipped_channels;
            match (&mut merged.grams, &share.grams) {
                (Some(kept), Some(theirs)) => {
                    let cells = n * n;
                    kept.change[range.start * cells..range.end * cells]
                        .copy_from_slice(&theirs.change[range.start * cells..range.end * cells]);
                }
                (None, None) => {}
                _ => return Err(Error::Invalid("some shares kept Gram matrices, some not".into())),
            }
        }
        if let Some(k) = covered.iter().position(|&c| !c) {
            return Err(Error::Invalid(format!("no share scored channel {k}")));
        }
        Ok(merged)
    }
}

/// Fills the scores from the changes of the embeddings.
///
/// With `c_i` image i's centred full embedding (norm `s_i`, unit `u_i`, all f64 on the host) and
/// `d_i` a change of its embedding (f32, from the device), the ablated embedding centred is
/// `c_i + d_i − mean(d_i)`, so every correlation the scores need is an f64 combination of Z and
/// of three small f32 products of the changes: `d_i · u_j` (against every full embedding),
/// `Σ d_i`, and `d_i · d_j` (per channel). Their f32 rounding is relative to the changes, which
/// are small, instead of to the embeddings, whose near-equal correlations cancel.
///
/// Per-image AIS need only image t's own products (`d_t · u_j`, `Σ d_t`, `d_t · d_t`), so they
/// are final as soon as t's changes are known ([`Scorer::score_images`]); the dataset AIS of a
/// channel need `d_i · d_j` over every pair ([`Scorer::score_grams`]).
struct Scorer<'a> {
    human: &'a [f64],
    human_upper: Vec<f64>,
    n: usize,
    dim: usize,
    /// The full Z (`n × n`) and the norms of the centred full embeddings, f64.
    z: Vec<f64>,
    norms: Vec<f64>,
    /// `[n + 2, dim]` on the device: each unit full embedding minus their mean, the mean, and a
    /// row of ones (see [`Scorer::score_images`]).
    basis: Tensor<2>,
    scores: AisScores,
    nonzero: Vec<bool>,
    /// Per (channel, image): `d_i · u_j` for every j, then `Σ d_i` (`n + 1` values), kept from
    /// [`Scorer::score_images`] until the channel's Gram matrix is scored.
    versus: std::collections::HashMap<(usize, usize), Vec<f64>>,
    /// Per (channel, image): `d_i · d_i`.
    squares: Vec<f32>,
}

impl<'a> Scorer<'a> {
    /// `full`: the cohort's embeddings `n × dim` in f64 ([`Network::full_pass`]);
    /// `inputs_host`: the ablation inputs `[n, channels, positions]`.
    fn new(
        full: &[f64],
        dim: usize,
        device: &Device,
        inputs_host: &[f32],
        channels: usize,
        human: &'a [f64],
        keep_grams: bool,
    ) -> Result<Self> {
        let n = full.len() / dim;
        if human.len() != n * n {
            return Err(Error::Invalid(format!(
                "the human matrix is {} values, expected {n}×{n}",
                human.len()
            )));
        }
        let (unit, norms) = correlation::standardize_rows(full, dim);
        let z = correlation::gram(&unit, dim);
        let mean: Vec<f64> =
            (0..dim).map(|d| (0..n).map(|i| unit[i * dim + d]).sum::<f64>() / n as f64).collect();
        let mut basis: Vec<f32> =
            unit.iter().enumerate().map(|(j, &v)| (v - mean[j % dim]) as f32).collect();
        basis.extend(mean.iter().map(|&v| v as f32));
        basis.resize((n + 2) * dim, 1.0);
        let basis = Tensor::<2>::from_data(TensorData::new(basis, [n + 2, dim]), device);
        let baseline = scores::baseline(&z, human, n);
        let positions = inputs_host.len() / (n * channels);
        let nonzero: Vec<bool> =
            inputs_host.chunks_exact(positions).map(|p| p.iter().any(|&v| v != 0.0)).collect();
        let grams = keep_grams
            .then(|| ChannelGrams { change: vec![0.0; channels * n * n], full: z.clone() });
        Ok(Self {
            human,
            human_upper: scores::upper(human, n),
            n,
            dim,
            z,
            norms,
            basis,
            scores: AisScores {
                n,
                channels,
                baseline,
                image: vec![0.0; n * channels],
                dataset_r: vec![0.0; channels],
                dataset_r2: vec![0.0; channels],
                zero_pairs: 0,
                skipped_channels: 0,
                grams,
            },
            nonzero,
            versus: Default::default(),
            squares: vec![0.0; channels * n],
        })
    }

    /// (image, channel) pairs among `channels` whose inputs are all zero.
    fn zero_pairs(&self, channels: std::ops::Range<usize>) -> usize {
        let c = self.scores.channels;
        (0..self.n).map(|t| channels.clone().filter(|&k| !self.nonzero[t * c + k]).count()).sum()
    }

    fn is_active(&self, k: usize) -> bool {
        (0..self.n).any(|i| self.nonzero[i * self.scores.channels + k])
    }

    /// The norm of image i's centred ablated embedding, from its own products.
    fn ablated_norm(&self, k: usize, i: usize, versus: &[f64]) -> f64 {
        let (n, s) = (self.n, self.norms[i]);
        let sum = versus[n];
        let centred = f64::from(self.squares[k * n + i]) - sum * sum / self.dim as f64;
        (s * s + 2.0 * s * versus[i] + centred).sqrt()
    }

    /// Per-image AIS of `images` for the channels of `chunk`, from `change` `[kc, b, dim]`, row
    /// (j, i) = how image `images.start + i`'s embedding changes when channel `chunk[j]` is
    /// removed. With `keep`, the products stay for [`Scorer::score_grams`].
    ///
    /// The unit full embeddings of a cohort are nearly parallel, and per-image AIS depend on how
    /// `d · u_j` varies over j: so the device multiplies d by each `u_j − ū` and by `ū`, whose
    /// f32 rounding is relative to the small deviations, and `d · u_j` is their f64 sum (on an
    /// ill-conditioned VGG-16 cohort this takes the per-image AIS from 5.9e-7 to ~2e-7 of
    /// float64).
    async fn score_images(
        &mut self,
        chunk: &[usize],
        images: std::ops::Range<usize>,
        change: Tensor<3>,
        keep: bool,
    ) -> Result<()> {
        let (n, c, dim) = (self.n, self.scores.channels, self.dim);
        let (kc, b) = (chunk.len(), images.len());
        let raw =
            read_f32(change.clone().reshape([kc * b, dim]).matmul(self.basis.clone().transpose()))
                .await?;
        let squares = read_f32((change.clone() * change).sum_dim(2)).await?;
        let human = self.human;
        for (j, &k) in chunk.iter().enumerate() {
            for (bi, t) in images.clone().enumerate() {
                let raw = &raw[(j * b + bi) * (n + 2)..(j * b + bi + 1) * (n + 2)];
                let along_mean = f64::from(raw[n]);
                let row: Vec<f64> = raw[..n]
                    .iter()
                    .map(|&v| f64::from(v) + along_mean)
                    .chain([f64::from(raw[n + 1])])
                    .collect();
                let row = row.as_slice();
                self.squares[k * n + t] = squares[j * b + bi];
                if self.nonzero[t * c + k] {
                    let norm = self.ablated_norm(k, t, row);
                    let (s, z) = (self.norms[t], &self.z);
                    let similarities: Vec<f64> = (0..n)
                        .filter(|&u| u != t)
                        .map(|u| (s * z[t * n + u] + row[u]) / norm)
                        .collect();
                    let r_tk =
                        scores::pearson(&similarities, &scores::row_without_diagonal(human, n, t));
                    self.scores.image[t * c + k] = self.scores.baseline.per_image[t] - r_tk;
                }
                if keep {
                    self.versus.insert((k, t), row.to_vec());
                }
            }
        }
        Ok(())
    }

    /// Dataset AIS of the channels of `chunk`, from their changes over every image `[kc, n,
    /// dim]`, after [`Scorer::score_images`] kept their products.
    async fn score_grams(&mut self, chunk: &[usize], change: Tensor<3>) -> Result<()> {
        let n = self.n;
        let products = read_f32(change.clone().matmul(change.swap_dims(1, 2))).await?;
        let (z, s, dim) = (&self.z, &self.norms, self.dim as f64);
        for (j, &k) in chunk.iter().enumerate() {
            let versus: Vec<Vec<f64>> = (0..n)
                .map(|i| {
                    self.versus.remove(&(k, i)).ok_or_else(|| {
                        Error::Invalid(format!("channel {k}, image {i}: not scored"))
                    })
                })
                .collect::<Result<_>>()?;
            // towards(i, u) = d_i · u_u, sum(i) = Σ d_i, and the centred changes' products
            // centred(i, u) = d_i · d_u − Σ d_i · Σ d_u / dim (the diagonal as the norms had it).
            let towards = |i: usize, u: usize| versus[i][u];
            let sum = |i: usize| versus[i][n];
            let centred = |i: usize, u: usize| {
                let product =
                    if i == u { self.squares[k * n + i] } else { products[(j * n + i) * n + u] };
                f64::from(product) - sum(i) * sum(u) / dim
            };
            let norm: Vec<f64> = (0..n).map(|i| self.ablated_norm(k, i, &versus[i])).collect();
            let mut ablated = vec![0.0f64; n * n];
            for i in 0..n {
                for u in 0..n {
                    let product = s[i] * s[u] * z[i * n + u]
                        + s[i] * towards(u, i)
                        + s[u] * towards(i, u)
                        + centred(i, u);
                    ablated[i * n + u] = product / (norm[i] * norm[u]);
                }
            }
            if let Some(kept) = &mut self.scores.grams {
                let slot = &mut kept.change[k * n * n..(k + 1) * n * n];
                for ((out, &abl), &full) in slot.iter_mut().zip(&ablated).zip(z) {
                    *out = (abl - full) as f32;
                }
            }
            let r_k = scores::pearson(&scores::upper(&ablated, n), &self.human_upper);
            self.scores.dataset_r[k] = self.scores.baseline.r - r_k;
            self.scores.dataset_r2[k] = self.scores.baseline.r2 - r_k * r_k;
        }
        Ok(())
    }
}

/// How the engine walks the (image, channel) ablations.
#[derive(Clone, Debug, PartialEq)]
struct Schedule {
    /// Consecutive image ranges: every scored channel of a block is ablated before the next
    /// block starts, so its per-image AIS are final then.
    blocks: Vec<std::ops::Range<usize>>,
    /// Channels per chunk of work within a block.
    kc: usize,
    /// Channels per chunk of work over every image: the kept changes' Gram products at the end.
    gather: usize,
}

impl Schedule {
    /// Blocks of `block` images (the first one image, for an early first result) when every
    /// scored channel's changes fit `options.store_bytes`; else one block of every image (the
    /// Gram matrices then come chunk by chunk, as the changes do). Chunks fit
    /// `options.chunk_bytes`: per (channel, image) the removal terms and the temporaries of
    /// their activation change (`4·out·positions'`), the embedding changes and their
    /// temporaries (`4·embedding`) and the read-backs (`2·(n + 1)`), in f32; the changes kept
    /// are `4·embedding` f32 bytes per (channel, image) and their `n + 1` f64 products.
    fn new(
        options: &EngineOptions,
        n: usize,
        active: usize,
        pre_size: usize,
        embedding: usize,
        block: usize,
    ) -> Self {
        let ablations = (options.chunk_bytes / per_ablation(n, pre_size, embedding)).max(1);
        let gather = (ablations / n.max(1)).max(1);
        let stored = 4 * active * n * embedding + 8 * active * n * (n + 1);
        let block = block.clamp(1, n.max(1));
        if block >= n || stored > options.store_bytes {
            return Self { blocks: std::iter::once(0..n).collect(), kc: gather, gather };
        }
        let mut blocks: Vec<_> = std::iter::once(0..1).collect();
        let mut start = 1;
        while start < n {
            blocks.push(start..(start + block).min(n));
            start += block;
        }
        Self { blocks, kc: (ablations / block).max(1), gather }
    }

    fn streams(&self) -> bool {
        self.blocks.len() > 1
    }
}

/// Bytes of one (image, channel) ablation in a chunk (see [`Schedule::new`]).
fn per_ablation(n: usize, pre_size: usize, embedding: usize) -> usize {
    4 * (4 * pre_size + 4 * embedding + 2 * (n + 1))
}

/// Channels per chunk for work over all `n` images at once (the selection curves).
pub(crate) fn chunk_channels(
    options: &EngineOptions,
    n: usize,
    pre_size: usize,
    embedding: usize,
) -> usize {
    let options = EngineOptions { store_bytes: 0, ..*options };
    Schedule::new(&options, n, 0, pre_size, embedding, n).kc
}

/// The memory of the engine's schedule, in bytes ([`schedule_bytes`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ScheduleBytes {
    /// One chunk of ablations, as [`EngineOptions::chunk_bytes`] counts them: kc channels over
    /// the largest block of images.
    pub chunk: usize,
    /// What the image-by-image schedule keeps for the dataset AIS until its end (all 0 when the
    /// cohort runs as one block): every block's embedding changes, where the network runs (f32,
    /// `active·n·embedding`);
    pub changes: usize,
    /// per (channel, image), the `n + 1` f64 products `Scorer::versus` keeps, on the host (the
    /// map's own entries, some 40 bytes each, are not counted);
    pub products: usize,
    /// and at its end, the changes of a chunk's worth of channels gathered over every image
    /// for their Gram products (f32, at most `gather·n·embedding`, where the network runs).
    pub gathered: usize,
}

/// The memory of the schedule [`alignment_importance`] walks for `active` channels over `n`
/// images, with removal terms of `pre_size` values, embeddings of `embedding` and blocks of
/// `block` images (`Network::block_images`). A cohort that runs as one block of every image
/// (one block would hold every image, or its changes exceed [`EngineOptions::store_bytes`])
/// keeps nothing: its changes go chunk by chunk as they come.
pub(crate) fn schedule_bytes(
    options: &EngineOptions,
    n: usize,
    active: usize,
    pre_size: usize,
    embedding: usize,
    block: usize,
) -> ScheduleBytes {
    let schedule = Schedule::new(options, n, active, pre_size, embedding, block);
    let largest = schedule.blocks.iter().map(|b| b.len()).max().unwrap_or(0);
    let kc = schedule.kc.min(active);
    let chunk = kc * largest * per_ablation(n, pre_size, embedding);
    if !schedule.streams() {
        return ScheduleBytes { chunk, ..Default::default() };
    }
    ScheduleBytes {
        chunk,
        changes: 4 * active * n * embedding,
        products: 8 * active * n * (n + 1),
        gathered: 4 * schedule.gather.min(kc) * n * embedding,
    }
}

/// Per-image and dataset AIS with the exact ablation.
///
/// `inputs`: the network's ablation inputs `[n, channels, positions]` (see
/// [`Network::ablation_inputs`]); `human`: the human similarity, `n × n` row-major, image order.
/// `on` hears each image's final per-image AIS as soon as they are known (image by image when
/// the cohort's changes fit [`EngineOptions::store_bytes`], else all at the end) and the
/// progress; an error it returns (e.g. [`Error::Cancelled`]) stops the run.
pub async fn alignment_importance(
    net: &Network,
    inputs: Tensor<3>,
    human: &[f64],
    options: &EngineOptions,
    on: &mut dyn FnMut(Event) -> Result<()>,
) -> Result<AisScores> {
    let [n, channels, positions] = inputs.dims();
    let (first, end) = options.channel_range.unwrap_or((0, channels));
    if first >= end || end > channels {
        return Err(Error::Invalid(format!(
            "channels {first}..{end}: the network has {channels} feature maps"
        )));
    }
    let inputs_host = read_f32(inputs.clone()).await?;
    let (out, pre_positions) = net.pre_shape(positions);
    let (dim, device) = (net.embedding_size(), inputs.device());
    let (full, pass) = net.full_pass(&inputs, &inputs_host).await?;
    let mut scorer =
        Scorer::new(&full, dim, &device, &inputs_host, channels, human, options.keep_grams)?;
    let scored: Vec<usize> = (first..end).collect();
    let active: Vec<usize> = scored.iter().copied().filter(|&k| scorer.is_active(k)).collect();
    scorer.scores.zero_pairs = scorer.zero_pairs(first..end);
    scorer.scores.skipped_channels = scored.len() - active.len();
    let schedule =
        Schedule::new(options, n, active.len(), out * pre_positions, dim, net.block_images());
    let mut stored: Vec<Vec<Tensor<3>>> = Vec::new();
    let (mut done, total) = (0, n * active.len());
    for images in &schedule.blocks {
        let block_inputs = inputs.clone().narrow(0, images.start, images.len());
        let block_pass = pass.images(images.clone());
        let mut pieces = Vec::new();
        for chunk in active.chunks(schedule.kc) {
            let change = net.embedding_change(&block_pass, &block_inputs, chunk);
            scorer.score_images(chunk, images.clone(), change.clone(), true).await?;
            if schedule.streams() {
                pieces.push(change);
            } else {
                scorer.score_grams(chunk, change).await?;
            }
            done += chunk.len() * images.len();
            on(Event::Progress { done, total })?;
        }
        stored.push(pieces);
        for index in images.clone() {
            on(Event::Image {
                index,
                baseline: scorer.scores.baseline.per_image[index],
                ais: &scorer.scores.image[index * channels..][..channels],
            })?;
        }
    }
    if schedule.streams() {
        // Chunk j's changes of every block, joined over the images a chunk budget at a time;
        // each chunk's are dropped once its products are formed.
        let mut by_chunk: Vec<Vec<Tensor<3>>> =
            vec![Vec::new(); stored.first().map_or(0, Vec::len)];
        for pieces in stored {
            by_chunk.iter_mut().zip(pieces).for_each(|(parts, piece)| parts.push(piece));
        }
        for (chunk, parts) in active.chunks(schedule.kc).zip(by_chunk) {
            let sub = schedule.gather.min(chunk.len());
            for (s, channels) in chunk.chunks(sub).enumerate() {
                let over_images =
                    parts.iter().map(|p| p.clone().narrow(0, s * sub, channels.len())).collect();
                scorer.score_grams(channels, Tensor::cat(over_images, 1)).await?;
            }
        }
    }
    Ok(scorer.scores)
}

/// The straightforward method, for tests and benchmarks only: for every channel, zero it in
/// the feature maps of every image and run the whole head again. Scores come from the same
/// arithmetic as the engine (on the difference of the two embeddings), so any difference is
/// the ablation's. Only the channels in `only` are ablated (benchmarks time a sample); the
/// others keep score 0.
pub async fn alignment_importance_naive(
    net: &Network,
    maps: Tensor<4>,
    human: &[f64],
    only: std::ops::Range<usize>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<AisScores> {
    let [n, channels, _, _] = maps.dims();
    let device = maps.device();
    let inputs = net.ablation_inputs(maps.clone());
    let inputs_host = read_f32(inputs.clone()).await?;
    let dim = net.embedding_size();
    let pre = net.head_pre(inputs.clone());
    let (full_f64, _) = net.full_pass(&inputs, &inputs_host).await?;
    let mut scorer = Scorer::new(&full_f64, dim, &device, &inputs_host, channels, human, false)?;
    scorer.scores.zero_pairs = scorer.zero_pairs(0..channels);
    let full = net.embed_from_pre(pre);
    let total = only.len();
    for k in only {
        let mut keep = vec![1.0f32; channels];
        keep[k] = 0.0;
        let mask = Tensor::<1>::from_data(TensorData::new(keep, [channels]), &device)
            .reshape([1, channels, 1, 1]);
        let change = net.head(maps.clone() * mask) - full.clone();
        let change = change.reshape([1, n, dim]);
        scorer.score_images(&[k], 0..n, change.clone(), true).await?;
        scorer.score_grams(&[k], change).await?;
        progress(k + 1, total);
    }
    Ok(scorer.scores)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(chunk_bytes: usize, store_bytes: usize) -> EngineOptions {
        EngineOptions { chunk_bytes, store_bytes, ..Default::default() }
    }

    #[test]
    fn the_schedule_streams_image_blocks_when_the_changes_fit() {
        // 10 images, blocks of 3 after a first image of its own.
        let s = Schedule::new(&options(1 << 20, 1 << 30), 10, 8, 100, 50, 3);
        assert_eq!(s.blocks, vec![0..1, 1..4, 4..7, 7..10]);
        let per_ablation = 4 * (4 * 100 + 4 * 50 + 2 * 11);
        assert_eq!(s.kc, (1 << 20) / per_ablation / 3);
        assert!(s.streams());
        // The changes (4·8·10·(50 + 11) bytes) do not fit 1 KiB: one block of every image.
        let s = Schedule::new(&options(1 << 20, 1 << 10), 10, 8, 100, 50, 3);
        assert_eq!(s.blocks, vec![0..10]);
        assert_eq!(s.kc, (1 << 20) / per_ablation / 10);
        assert!(!s.streams());
        // A chunk smaller than one ablation still makes progress.
        assert_eq!(Schedule::new(&options(1, 1 << 30), 10, 8, 100, 50, 3).kc, 1);
    }

    /// What `alignment_importance` keeps when it walks `s` over every one of `active` channels:
    /// `(changes, products, gathered)` in bytes, piece by piece as its loops make them.
    fn kept_by_walking(s: &Schedule, n: usize, active: usize, dim: usize) -> [usize; 3] {
        if !s.streams() {
            return [0; 3];
        }
        let channels: Vec<usize> = (0..active).collect();
        let (mut changes, mut products) = (0, 0);
        for images in &s.blocks {
            for chunk in channels.chunks(s.kc) {
                // `pieces`: the chunk's changes `[kc, b, dim]` f32; `versus`: n + 1 f64 each.
                changes += 4 * chunk.len() * images.len() * dim;
                products += 8 * chunk.len() * images.len() * (n + 1);
            }
        }
        let gathered = channels
            .chunks(s.kc)
            .flat_map(|c| c.chunks(s.gather.min(c.len())))
            .map(|c| 4 * c.len() * n * dim)
            .max()
            .unwrap_or(0);
        [changes, products, gathered]
    }

    #[test]
    fn the_memory_estimate_counts_what_the_schedule_keeps() {
        use crate::memory::{Footprint, memory_estimate, vgg16};
        use crate::model::efficientnet::{EMBEDDING, Variant};
        let lite0 = Footprint {
            parameters: 4_631_000,
            input_side: 224,
            peak_per_pixel: 54.0,
            channels: Variant::Lite0.channels(),
            map_stride: 32,
            map_rounds_up: true,
            pooled_positions: None,
            head_out: EMBEDDING,
            embedding: EMBEDDING,
            host_f64_bytes: 8 * EMBEDDING * Variant::Lite0.channels(),
            block_images: 1,
        };
        let (mut streamed, mut one_block) = (0, 0);
        for (f, cohorts) in
            [(vgg16(), [4, 5, 8, 24, 120, 124, 125]), (lite0, [4, 8, 24, 92, 240, 470, 480])]
        {
            let (c, dim) = (f.channels, f.embedding);
            for n in cohorts {
                for engine in [
                    EngineOptions {
                        chunk_bytes: 128 << 20,
                        keep_grams: true,
                        ..Default::default()
                    },
                    EngineOptions::default(),
                    options(1, 1 << 30),
                ] {
                    // 175×175 images go to 224×224: maps of 14×14 (VGG-16) or 7×7.
                    let e = memory_estimate(&f, &vec![(175, 175); n], 4, &engine);
                    let (positions, pre_positions) = f.positions(f.map_size(224, 224));
                    assert!(positions > 0);
                    let pre_size = f.head_out * pre_positions;
                    let s = Schedule::new(&engine, n, c, pre_size, dim, f.block_images);
                    let [changes, products, gathered] = kept_by_walking(&s, n, c, dim);
                    let case = format!("{c} channels, n = {n}, {engine:?}");
                    assert_eq!(e.kept_changes, (changes + products) as u64, "{case}");
                    assert_eq!(e.kept_on_host, products as u64, "{case}");
                    let largest = s.blocks.iter().map(|b| b.len()).max().unwrap();
                    let chunk = s.kc.min(c) * largest * 4 * (4 * pre_size + 4 * dim + 2 * (n + 1));
                    assert_eq!(e.chunk, chunk.max(gathered) as u64, "{case}");
                    // The changes gathered at the end fit the chunk budget (one channel over
                    // every image at least).
                    assert!(gathered <= engine.chunk_bytes.max(4 * n * dim), "{case}");
                    // The closed form: the changes in f32 and the products in f64 while
                    // `4·channels·n·embedding + 8·channels·n·(n + 1)` fits `store_bytes` and
                    // blocks of `block_images` leave more than one block; else nothing.
                    let bound = 4 * c * n * dim + 8 * c * n * (n + 1);
                    if n > f.block_images && bound <= engine.store_bytes {
                        streamed += 1;
                        assert_eq!(changes + products, 4 * c * n * dim + 8 * c * n * (n + 1));
                    } else {
                        one_block += 1;
                        assert_eq!(e.kept_changes, 0, "{case}");
                    }
                }
            }
        }
        // Both schedules were met: VGG-16 at 4 images (one block of four) and at 124 and 125
        // (over 1 GiB), EfficientNet-Lite0 at 470 and 480.
        assert_eq!((streamed, one_block), (3 * 9, 3 * 5), "{streamed} {one_block}");
    }
}
