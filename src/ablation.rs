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
}

/// Fills the scores of a chunk of channels from the changes of the embeddings.
///
/// With `c_i` image i's centred full embedding (norm `s_i`, unit `u_i`, all f64 on the host) and
/// `d_i` a change of its embedding (f32, from the device), the ablated embedding centred is
/// `c_i + d_i − mean(d_i)`, so every correlation the scores need is an f64 combination of Z and
/// of three small f32 products of the changes: `d_i · u_j` (against every full embedding),
/// `Σ d_i`, and `d_i · d_j` (per channel). Their f32 rounding is relative to the changes, which
/// are small, instead of to the embeddings, whose near-equal correlations cancel.
struct Scorer<'a> {
    human: &'a [f64],
    human_upper: Vec<f64>,
    n: usize,
    dim: usize,
    /// The full Z (`n × n`) and the norms of the centred full embeddings, f64.
    z: Vec<f64>,
    norms: Vec<f64>,
    /// `[n + 1, dim]` on the device: the unit full embeddings and a row of ones.
    basis: Tensor<2>,
    scores: AisScores,
    nonzero: Vec<bool>,
}

impl<'a> Scorer<'a> {
    /// `full`: the cohort's embeddings `n × dim` in f64 ([`Network::embeddings_f64`]);
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
        let mut basis: Vec<f32> = unit.iter().map(|&v| v as f32).collect();
        basis.resize((n + 1) * dim, 1.0);
        let basis = Tensor::<2>::from_data(TensorData::new(basis, [n + 1, dim]), device);
        let baseline = scores::baseline(&z, human, n);
        let positions = inputs_host.len() / (n * channels);
        let nonzero: Vec<bool> =
            inputs_host.chunks_exact(positions).map(|p| p.iter().any(|&v| v != 0.0)).collect();
        let zero_pairs = nonzero.iter().filter(|&&nz| !nz).count();
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

    /// `change`: `[kc, n, embedding]`, row (j, i) = how image i's embedding changes when channel
    /// `chunk[j]` is removed.
    async fn score(&mut self, chunk: &[usize], change: Tensor<3>) -> Result<()> {
        let (n, c, dim) = (self.n, self.scores.channels, self.dim);
        let kc = chunk.len();
        let versus_full =
            read_f32(change.clone().reshape([kc * n, dim]).matmul(self.basis.clone().transpose()))
                .await?;
        let products = read_f32(change.clone().matmul(change.swap_dims(1, 2))).await?;
        let (z, s) = (&self.z, &self.norms);
        for (j, &k) in chunk.iter().enumerate() {
            // For this channel: towards(i, u) = d_i · u_u, sum(i) = Σ d_i, and the centred
            // changes' products centred(i, u) = d_i · d_u − Σ d_i · Σ d_u / dim.
            let towards = |i: usize, u: usize| f64::from(versus_full[(j * n + i) * (n + 1) + u]);
            let sum = |i: usize| f64::from(versus_full[(j * n + i) * (n + 1) + n]);
            let centred = |i: usize, u: usize| {
                f64::from(products[(j * n + i) * n + u]) - sum(i) * sum(u) / dim as f64
            };
            let norm: Vec<f64> = (0..n)
                .map(|i| (s[i] * s[i] + 2.0 * s[i] * towards(i, i) + centred(i, i)).sqrt())
                .collect();
            for t in 0..n {
                if !self.nonzero[t * c + k] {
                    continue;
                }
                let row: Vec<f64> = (0..n)
                    .filter(|&u| u != t)
                    .map(|u| (s[t] * z[t * n + u] + towards(t, u)) / norm[t])
                    .collect();
                let r_tk = scores::pearson(&row, &scores::row_without_diagonal(self.human, n, t));
                self.scores.image[t * c + k] = self.scores.baseline.per_image[t] - r_tk;
            }
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

/// Channels per chunk so that a chunk's tensors fit `chunk_bytes`: per channel, the removal
/// terms and the temporaries of their activation change (`4·n·out·positions'`), the embedding
/// changes and their temporaries (`4·n·embedding`) and the read-backs (`2·n·n`).
pub(crate) fn chunk_channels(
    options: &EngineOptions,
    n: usize,
    pre_size: usize,
    embedding: usize,
) -> usize {
    let per_channel = 4 * n * (4 * pre_size + 4 * embedding + 2 * n);
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
    let pass = net.head_pass(inputs.clone());
    let [_, out, positions] = pass.pre.dims();
    let (dim, device) = (net.embedding_size(), inputs.device());
    let kc = chunk_channels(options, n, out * positions, dim);
    let full = net.embeddings_f64(&inputs, &inputs_host, kc).await?;
    let mut scorer =
        Scorer::new(&full, dim, &device, &inputs_host, channels, human, options.keep_grams)?;
    let active: Vec<usize> = (0..channels).filter(|&k| scorer.is_active(k)).collect();
    scorer.scores.skipped_channels = channels - active.len();
    let mut done = 0;
    for chunk in active.chunks(kc) {
        let change = net.embedding_change(&pass, net.removal(&inputs, chunk));
        scorer.score(chunk, change).await?;
        done += chunk.len();
        progress(done, active.len());
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
    let [_, out, positions] = pre.dims();
    let kc = chunk_channels(&EngineOptions::default(), n, out * positions, dim);
    let full_f64 = net.embeddings_f64(&inputs, &inputs_host, kc).await?;
    let mut scorer = Scorer::new(&full_f64, dim, &device, &inputs_host, channels, human, false)?;
    let full = net.embed_from_pre(pre);
    let total = only.len();
    for k in only {
        let mut keep = vec![1.0f32; channels];
        keep[k] = 0.0;
        let mask = Tensor::<1>::from_data(TensorData::new(keep, [channels]), &device)
            .reshape([1, channels, 1, 1]);
        let change = net.head(maps.clone() * mask) - full.clone();
        let embedding = change.dims()[1];
        scorer.score(&[k], change.reshape([1, n, embedding])).await?;
        progress(k + 1, total);
    }
    Ok(scorer.scores)
}
