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
//! the device besides the model (see [`chunk_channels`]); kc is chosen so this stays under
//! [`EngineOptions::chunk_bytes`].

use burn::prelude::*;

use crate::error::{Error, Result};
use crate::extract::read_f32;
use crate::model::Network;
use crate::scores::{self, Baseline};

#[derive(Clone, Copy, Debug)]
pub struct EngineOptions {
    /// Device memory for one chunk of ablations, in bytes.
    pub chunk_bytes: usize,
    /// Keep every channel's Gram matrix of the all-ablated cohort ([`AisScores::grams`]): the
    /// training AIS of any subset of images, without recomputation (cross-validation).
    pub keep_grams: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self { chunk_bytes: 256 << 20, keep_grams: false }
    }
}

/// The model similarities behind dataset AIS: Pearson correlations between the embeddings of
/// every pair of images, with all channels and with each channel removed from every image.
#[derive(Clone, Debug)]
pub struct ChannelGrams {
    /// `n × n`: Z with all channels.
    pub full: Vec<f64>,
    /// `channels × n × n`: Z with channel k removed (equal to `full` for skipped channels).
    pub ablated: Vec<f32>,
}

impl ChannelGrams {
    /// Channel k's `n × n` matrix.
    pub fn channel(&self, k: usize, n: usize) -> &[f32] {
        &self.ablated[k * n * n..(k + 1) * n * n]
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
}

/// Rows scaled to zero mean and unit length, so that products are Pearson correlations.
pub(crate) fn standardize<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let centred = x.clone() - x.mean_dim(D - 1);
    let norm = centred.clone().powi_scalar(2).sum_dim(D - 1).sqrt();
    centred / norm
}

/// Fills the scores of a chunk of channels from their ablated embeddings.
struct Scorer<'a> {
    human: &'a [f64],
    human_upper: Vec<f64>,
    n: usize,
    full: Tensor<2>,
    scores: AisScores,
    nonzero: Vec<bool>,
}

impl<'a> Scorer<'a> {
    /// `full`: the cohort's embeddings `[n, embedding]`; `inputs_host`: the ablation inputs
    /// `[n, channels, positions]`.
    async fn new(
        full: Tensor<2>,
        inputs_host: &[f32],
        channels: usize,
        human: &'a [f64],
        keep_grams: bool,
    ) -> Result<Self> {
        let n = full.dims()[0];
        if human.len() != n * n {
            return Err(Error::Invalid(format!(
                "the human matrix is {} values, expected {n}×{n}",
                human.len()
            )));
        }
        let full = standardize(full);
        let z: Vec<f64> = read_f32(full.clone().matmul(full.clone().transpose()))
            .await?
            .into_iter()
            .map(f64::from)
            .collect();
        let baseline = scores::baseline(&z, human, n);
        let positions = inputs_host.len() / (n * channels);
        let nonzero: Vec<bool> =
            inputs_host.chunks_exact(positions).map(|p| p.iter().any(|&v| v != 0.0)).collect();
        let zero_pairs = nonzero.iter().filter(|&&nz| !nz).count();
        let grams = keep_grams.then(|| {
            let single: Vec<f32> = z.iter().map(|&v| v as f32).collect();
            ChannelGrams { ablated: single.repeat(channels), full: z.clone() }
        });
        Ok(Self {
            human,
            human_upper: scores::upper(human, n),
            n,
            full,
            scores: AisScores {
                n,
                channels,
                baseline,
                image: vec![0.0; n * channels],
                dataset_r: vec![0.0; channels],
                dataset_r2: vec![0.0; channels],
                zero_pairs,
                skipped_channels: 0,
                grams,
            },
            nonzero,
        })
    }

    fn is_active(&self, k: usize) -> bool {
        (0..self.n).any(|i| self.nonzero[i * self.scores.channels + k])
    }

    /// `ablated`: `[kc, n, hidden]`, row (j, i) = image i's embedding with channel `chunk[j]` removed.
    async fn score(&mut self, chunk: &[usize], ablated: Tensor<3>) -> Result<()> {
        let (n, c) = (self.n, self.scores.channels);
        let [kc, _, hidden] = ablated.dims();
        let ablated = standardize(ablated);
        let versus_full = read_f32(
            ablated.clone().reshape([kc * n, hidden]).matmul(self.full.clone().transpose()),
        )
        .await?;
        let grams = read_f32(ablated.clone().matmul(ablated.swap_dims(1, 2))).await?;
        for (j, &k) in chunk.iter().enumerate() {
            for t in 0..n {
                if !self.nonzero[t * c + k] {
                    continue;
                }
                let row: Vec<f64> = (0..n)
                    .filter(|&u| u != t)
                    .map(|u| versus_full[(j * n + t) * n + u] as f64)
                    .collect();
                let r_tk = scores::pearson(&row, &scores::row_without_diagonal(self.human, n, t));
                self.scores.image[t * c + k] = self.scores.baseline.per_image[t] - r_tk;
            }
            let gram_f32 = &grams[j * n * n..(j + 1) * n * n];
            if let Some(kept) = &mut self.scores.grams {
                kept.ablated[k * n * n..(k + 1) * n * n].copy_from_slice(gram_f32);
            }
            let gram: Vec<f64> = gram_f32.iter().map(|&v| v as f64).collect();
            let r_k = scores::pearson(&scores::upper(&gram, n), &self.human_upper);
            self.scores.dataset_r[k] = self.scores.baseline.r - r_k;
            self.scores.dataset_r2[k] = self.scores.baseline.r2 - r_k * r_k;
        }
        Ok(())
    }
}

/// Channels per chunk so that a chunk's tensors fit `chunk_bytes`: per channel, the removal
/// terms and the ablated pre-activations (`n·out·positions'` each), the ablated and standardised
/// embeddings (`n·embedding` each) and the read-backs (`2·n·n`).
pub(crate) fn chunk_channels(
    options: &EngineOptions,
    n: usize,
    pre_size: usize,
    embedding: usize,
) -> usize {
    let per_channel = 4 * n * (2 * pre_size + 2 * embedding + 2 * n);
    (options.chunk_bytes / per_channel).max(1)
}

/// Per-image and dataset AIS with the exact ablation.
///
/// `inputs`: the network's ablation inputs `[n, channels, positions]` (see
/// [`Network::ablation_inputs`]); `human`: the human similarity, `n × n` row-major, image order.
pub async fn alignment_importance(
    net: &Network,
    inputs: Tensor<3>,
    human: &[f64],
    options: &EngineOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<AisScores> {
    let [n, channels, _] = inputs.dims();
    let inputs_host = read_f32(inputs.clone()).await?;
    let pre = net.head_pre(inputs.clone());
    let [_, out, positions] = pre.dims();
    let mut scorer = Scorer::new(
        net.embed_from_pre(pre.clone()),
        &inputs_host,
        channels,
        human,
        options.keep_grams,
    )
    .await?;
    let active: Vec<usize> = (0..channels).filter(|&k| scorer.is_active(k)).collect();
    scorer.scores.skipped_channels = channels - active.len();
    let kc = chunk_channels(options, n, out * positions, net.embedding_size());
    let mut done = 0;
    for chunk in active.chunks(kc) {
        let ablated_pre = pre.clone().unsqueeze_dim::<4>(0) - net.removal(&inputs, chunk);
        let embeddings = net.embed_from_pre(ablated_pre.reshape([chunk.len() * n, out, positions]));
        let embedding = embeddings.dims()[1];
        scorer.score(chunk, embeddings.reshape([chunk.len(), n, embedding])).await?;
        done += chunk.len();
        progress(done, active.len());
    }
    Ok(scorer.scores)
}

/// The straightforward method, for tests and benchmarks only: for every channel, zero it in
/// the feature maps of every image and run the whole head again. Scores come from the same
/// arithmetic as the engine, so any difference is the ablation's. Only the channels in `only`
/// are ablated (benchmarks time a sample); the others keep score 0.
pub async fn alignment_importance_naive(
    net: &Network,
    maps: Tensor<4>,
    human: &[f64],
    only: std::ops::Range<usize>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<AisScores> {
    let [n, channels, _, _] = maps.dims();
    let device = maps.device();
    let inputs_host = read_f32(net.ablation_inputs(maps.clone())).await?;
    let mut scorer =
        Scorer::new(net.head(maps.clone()), &inputs_host, channels, human, false).await?;
    let total = only.len();
    for k in only {
        let mut keep = vec![1.0f32; channels];
        keep[k] = 0.0;
        let mask = Tensor::<1>::from_data(TensorData::new(keep, [channels]), &device)
            .reshape([1, channels, 1, 1]);
        let ablated = net.head(maps.clone() * mask);
        let embedding = ablated.dims()[1];
        scorer.score(&[k], ablated.reshape([1, n, embedding])).await?;
        progress(k + 1, total);
    }
    Ok(scorer.scores)
}
