//! Aim 1's validation (docs/METHOD.md): sequential selection of feature maps by dataset AIS, under
//! cross-validation over images, as the authors' code does it.
//!
//! Per fold, the training images' dataset AIS (`r² − r_k²`, the code's choice) come from the
//! engine's per-channel Gram matrices restricted to the training images: no recomputation. The
//! channels are ranked by it, and for m = 1..C the cohort's embeddings are recomputed with only
//! the top m channels kept (the others zeroed in every image); the 2OI of the training and of the
//! test images gives two curves. S* is the m with the highest training r² (the first, as
//! `np.nanargmax`); "Full" is the test 2OI at m = C and "Retained" at S*.
//!
//! The curves run in chunks of m: the head's first layer is linear in the channels, so keeping
//! the top m gives the pre-activation `pre(0) + Σ_{j<m} term(order[j])`, a cumulative sum of
//! the same removal terms the engine subtracts (EfficientNet-Lite on the CPU: one fused loop per
//! image, [`HostHead::cumulative_embeddings`]). The embeddings' correlations are f64.

use burn::prelude::*;

use crate::ablation::{AisScores, ChannelGrams, EngineOptions};
use crate::correlation;
use crate::error::{Error, Result};
use crate::extract::read_f32;
use crate::model::Network;
use crate::model::efficientnet::HostHead;
use crate::scores::pearson;

/// One train/test split of the images.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Fold {
    /// The shuffle's seed.
    pub seed: u32,
    /// 0-based fold number within the seed.
    pub index: usize,
    /// Test images, in the shuffle's order.
    pub test: Vec<usize>,
    /// The other images, ascending.
    pub train: Vec<usize>,
}

/// The authors' protocol: for each seed, the images shuffled as NumPy does and cut into `k` folds.
pub fn make_folds(n: usize, k: usize, seeds: &[u32]) -> Result<Vec<Fold>> {
    let mut out = Vec::with_capacity(k * seeds.len());
    for &seed in seeds {
        for (index, test) in crate::folds::folds(n, k, seed)?.into_iter().enumerate() {
            let mut in_test = vec![false; n];
            test.iter().for_each(|&i| in_test[i] = true);
            let train = (0..n).filter(|&i| !in_test[i]).collect();
            out.push(Fold { seed, index, test, train });
        }
    }
    Ok(out)
}

/// The 2OI (Pearson r) of a model similarity and the human one, over the pairs of `subset`.
pub fn two_oi<T: Copy + Into<f64>>(model: &[T], human: &[f64], n: usize, subset: &[usize]) -> f64 {
    let pairs = subset.len() * subset.len().saturating_sub(1) / 2;
    let (mut a, mut b) = (Vec::with_capacity(pairs), Vec::with_capacity(pairs));
    for (x, &i) in subset.iter().enumerate() {
        for &j in &subset[x + 1..] {
            a.push(model[i * n + j].into());
            b.push(human[i * n + j]);
        }
    }
    pearson(&a, &b)
}

/// Dataset AIS of every channel over the training images: `r² − r_k²`.
pub fn training_ais(
    grams: &ChannelGrams,
    human: &[f64],
    n: usize,
    channels: usize,
    train: &[usize],
) -> Vec<f64> {
    let r2 = two_oi(&grams.full, human, n, train).powi(2);
    (0..channels).map(|k| r2 - two_oi(&grams.channel(k, n), human, n, train).powi(2)).collect()
}

/// Channels by score, highest first; ties keep channel order, NaN scores come last.
pub fn ranking(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| {
        let key = |k: usize| if scores[k].is_nan() { f64::NEG_INFINITY } else { scores[k] };
        key(b).total_cmp(&key(a)).then(scores[a].is_nan().cmp(&scores[b].is_nan()))
    });
    order
}

/// 2OI (r) with the top m channels kept, index m − 1.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Curves {
    pub train_r: Vec<f64>,
    pub test_r: Vec<f64>,
}

/// What every fold's curves start from, computed once per cohort: on the CPU backend, host
/// loops instead of the tensor path.
struct Cohort {
    /// EfficientNet-Lite: the fused head ([`HostHead::cumulative_embeddings`]).
    lite: Option<HostHead>,
    /// VGG-16: fc6's bias and fc7 in f64 (see [`Vgg16F64`]).
    vgg: Option<Vgg16F64>,
}

impl Cohort {
    async fn new(net: &Network, inputs: &Tensor<3>) -> Result<Self> {
        let on_cpu = inputs.device() == Device::flex();
        let (mut lite, mut vgg) = (None, None);
        match net {
            Network::EfficientNetLite(_) if on_cpu => {
                lite = net.host_head(&read_f32(inputs.clone()).await?, inputs.dims()[2]).await?;
            }
            Network::Vgg16(m) if on_cpu => {
                let f64s = |v: Vec<f32>| v.into_iter().map(f64::from).collect::<Vec<f64>>();
                vgg = Some(Vgg16F64 {
                    bias6: f64s(read_f32(m.head.fc6.bias.clone()).await?),
                    weight7: m
                        .head
                        .fc7
                        .weight_values()
                        .await?
                        .iter()
                        .map(|&v| f64::from(v))
                        .collect(),
                    bias7: f64s(read_f32(m.head.fc7.bias.clone()).await?),
                });
            }
            _ => {}
        }
        Ok(Self { lite, vgg })
    }
}

/// VGG-16's head after fc6's per-channel terms, in f64 on the host: the kept channels' terms
/// (f32 products, from the device) summed in f64, then ReLU, fc7 and ReLU in f64. The cohorts
/// whose similarities are nearly equal need it: with f32 sums and an f32 fc7 the curves of an
/// ill-conditioned cohort were 9.3e-7 from float64 (docs/ENGINE.md, "Accuracy"). It costs fc7
/// in f64, about twice the f32 product on the CPU.
struct Vgg16F64 {
    bias6: Vec<f64>,
    /// `[4096, 4096]`, input-major (Burn's layout).
    weight7: Vec<f64>,
    bias7: Vec<f64>,
}

impl Vgg16F64 {
    /// Every image's fc6 pre-activation with no channel kept: `[n, 4096]`.
    fn start(&self, n: usize) -> Vec<f64> {
        self.bias6.repeat(n)
    }

    /// For each channel's `terms` `[kc, n, 4096]` in turn, added to `pre`: the embeddings with
    /// the channels kept so far, `[kc, n, 4096]`.
    fn cumulative_embeddings(&self, pre: &mut [f64], terms: &[f32]) -> Vec<f64> {
        let (hidden, cells) = (self.bias7.len(), pre.len());
        let mut hidden6 = Vec::with_capacity(terms.len());
        for step in terms.chunks_exact(cells) {
            pre.iter_mut().zip(step).for_each(|(p, &t)| *p += f64::from(t));
            hidden6.extend(pre.iter().map(|v| v.max(0.0)));
        }
        let rows = hidden6.len() / self.bias6.len();
        let mut e = correlation::matmul(
            correlation::Operand::Rows(&hidden6),
            correlation::Operand::Rows(&self.weight7),
            rows,
            self.bias6.len(),
            hidden,
        );
        for row in e.chunks_exact_mut(hidden) {
            row.iter_mut().zip(&self.bias7).for_each(|(v, b)| *v = (*v + b).max(0.0));
        }
        e
    }
}

/// Prefixes per chunk on the fused EfficientNet-Lite path: its embeddings take 4 bytes a value
/// (f32, correlated where they lie); more than 16 prefixes gain nothing.
fn host_prefixes(options: &EngineOptions, n: usize, dim: usize) -> usize {
    (options.chunk_bytes / (4 * n * dim).max(1)).clamp(1, 16)
}

/// A chunk of kept-set sizes' embeddings: `steps × n` rows of `dim` values.
struct PrefixRows<'a, T> {
    values: &'a [T],
    steps: usize,
    n: usize,
    dim: usize,
    /// `[n, steps, dim]` (EfficientNet-Lite's fused head) instead of `[steps, n, dim]`.
    image_major: bool,
}

impl<'a, T> PrefixRows<'a, T> {
    fn new(values: &'a [T], n: usize, dim: usize, image_major: bool) -> Self {
        let steps = values.len() / (n * dim).max(1);
        Self { values, steps, n, dim, image_major }
    }

    /// Image `image`'s embedding with the chunk's `step`-th kept-set.
    fn row(&self, step: usize, image: usize) -> &'a [T] {
        let at = if self.image_major { image * self.steps + step } else { step * self.n + image };
        &self.values[at * self.dim..][..self.dim]
    }
}

/// The embeddings [`prefix_embeddings`] hands on, as the path made them (no copy to convert).
enum PrefixChunk<'a> {
    F32(PrefixRows<'a, f32>),
    F64(PrefixRows<'a, f64>),
}

/// For `order`'s prefixes in chunks, every image's embedding with only the prefix's channels
/// kept: `visit` sees each chunk, the shortest prefix first.
async fn prefix_embeddings(
    net: &Network,
    inputs: &Tensor<3>,
    cohort: &Cohort,
    order: &[usize],
    options: &EngineOptions,
    visit: &mut dyn FnMut(PrefixChunk),
) -> Result<()> {
    let [n, _, positions] = inputs.dims();
    let dim = net.embedding_size();
    if let Some(lite) = &cohort.lite {
        let mut sums = lite.bias_sums();
        for chunk in order.chunks(host_prefixes(options, n, dim)) {
            let embeddings = lite.cumulative_embeddings(&mut sums, chunk);
            visit(PrefixChunk::F32(PrefixRows::new(&embeddings, n, dim, true)));
        }
        return Ok(());
    }
    let (out, pre_positions) = net.pre_shape(positions);
    let kc = crate::ablation::chunk_channels(options, n, out * pre_positions, dim);
    if let Some(vgg) = &cohort.vgg {
        let mut pre = vgg.start(n);
        for chunk in order.chunks(kc) {
            let terms = read_f32(net.removal(inputs, chunk)).await?;
            let embeddings = vgg.cumulative_embeddings(&mut pre, &terms);
            visit(PrefixChunk::F64(PrefixRows::new(&embeddings, n, dim, false)));
        }
        return Ok(());
    }
    let mut prefix = net.head_pre(inputs.zeros_like());
    for chunk in order.chunks(kc) {
        let cumulative =
            net.removal(inputs, chunk).cumsum(0) + prefix.clone().unsqueeze_dim::<4>(0);
        prefix = cumulative.clone().narrow(0, chunk.len() - 1, 1).squeeze_dim::<3>(0);
        let embeddings =
            read_f32(net.embed_from_pre(cumulative.reshape([chunk.len() * n, out, pre_positions])))
                .await?;
        visit(PrefixChunk::F32(PrefixRows::new(&embeddings, n, dim, false)));
    }
    Ok(())
}

/// The training and test curves of one fold for a channel order.
pub async fn selection_curves(
    net: &Network,
    inputs: &Tensor<3>,
    order: &[usize],
    human: &[f64],
    fold: &Fold,
    options: &EngineOptions,
) -> Result<Curves> {
    let cohort = Cohort::new(net, inputs).await?;
    fold_curves(net, inputs, &cohort, order, human, fold, options).await
}

async fn fold_curves(
    net: &Network,
    inputs: &Tensor<3>,
    cohort: &Cohort,
    order: &[usize],
    human: &[f64],
    fold: &Fold,
    options: &EngineOptions,
) -> Result<Curves> {
    let mut curves = Curves::default();
    prefix_embeddings(net, inputs, cohort, order, options, &mut |chunk| {
        let points = match chunk {
            PrefixChunk::F32(rows) => fold_points(&rows, human, fold),
            PrefixChunk::F64(rows) => fold_points(&rows, human, fold),
        };
        for (train, test) in points {
            curves.train_r.push(train);
            curves.test_r.push(test);
        }
    })
    .await?;
    Ok(curves)
}

/// The (training, test) 2OI of each kept-set size of a chunk, in parallel.
fn fold_points<T: Copy + Into<f64> + Sync>(
    rows: &PrefixRows<T>,
    human: &[f64],
    fold: &Fold,
) -> Vec<(f64, f64)> {
    let steps: Vec<usize> = (0..rows.steps).collect();
    crate::host::map_items(&steps, |&step| {
        let r = |subset: &[usize]| {
            let embeddings = subset.iter().map(|&i| rows.row(step, i));
            subset_two_oi(embeddings, rows.dim, human, rows.n, subset)
        };
        (r(&fold.train), r(&fold.test))
    })
}

/// The 2OI (Pearson r) over the pairs of `subset`, from the subset's embeddings (`dim` values
/// each) in the cohort of `n`: only the subset's model similarities are formed (a fold's
/// training and test images need 68 % of the cohort's pairs at 5 folds).
fn subset_two_oi<'a, T: Copy + Into<f64> + 'a>(
    embeddings: impl ExactSizeIterator<Item = &'a [T]>,
    dim: usize,
    human: &[f64],
    n: usize,
    subset: &[usize],
) -> f64 {
    let z = correlation::correlation_matrix(embeddings, dim);
    let s = subset.len();
    let (mut a, mut b) = (Vec::with_capacity(s * s / 2), Vec::with_capacity(s * s / 2));
    for (x, &i) in subset.iter().enumerate() {
        for (y, &j) in subset.iter().enumerate().skip(x + 1) {
            a.push(z[x * s + y]);
            b.push(human[i * n + j]);
        }
    }
    pearson(&a, &b)
}

/// One fold's outcome.
#[derive(Clone, Debug)]
pub struct FoldResult {
    pub fold: Fold,
    /// Training dataset AIS (`r² − r_k²`) per channel.
    pub training_ais: Vec<f64>,
    /// Channels by training AIS, highest first.
    pub order: Vec<usize>,
    pub curves: Curves,
    /// |S*|: the number of channels with the highest training r².
    pub best_m: usize,
}

impl FoldResult {
    /// Test 2OI (r) with every channel.
    pub fn full_test_r(&self) -> f64 {
        *self.curves.test_r.last().expect("a curve has one point per channel")
    }

    /// Test 2OI (r) with the S* channels.
    pub fn retained_test_r(&self) -> f64 {
        self.curves.test_r[self.best_m - 1]
    }

    pub fn full_train_r(&self) -> f64 {
        *self.curves.train_r.last().expect("a curve has one point per channel")
    }

    pub fn retained_train_r(&self) -> f64 {
        self.curves.train_r[self.best_m - 1]
    }
}

/// The m (1-based) with the highest r², the first one on ties; `None` when every value is NaN.
pub fn best_m(train_r: &[f64]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, r) in train_r.iter().enumerate() {
        let r2 = r * r;
        if !r2.is_nan() && best.is_none_or(|(_, b)| r2 > b) {
            best = Some((i + 1, r2));
        }
    }
    best.map(|(m, _)| m)
}

/// A fold with its feature maps ranked by training AIS: what its curves need.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RankedFold {
    pub fold: Fold,
    /// Channels by training AIS, highest first.
    pub order: Vec<usize>,
}

/// The protocol's first step: each fold's training AIS (from the engine's Gram matrices,
/// [`EngineOptions::keep_grams`]) and the ranking they give.
pub fn rank_folds(
    scores: &AisScores,
    human: &[f64],
    folds: &[Fold],
) -> Result<Vec<(Vec<f64>, RankedFold)>> {
    let grams = scores.grams.as_ref().ok_or_else(|| {
        Error::Invalid(
            "cross-validation needs the engine's Gram matrices (EngineOptions::keep_grams)".into(),
        )
    })?;
    let (n, channels) = (scores.n, scores.channels);
    folds
        .iter()
        .map(|fold| {
            if fold.test.len() < 3 || fold.train.len() < 3 {
                return Err(Error::Invalid(format!(
                    "fold {} of seed {}: {} test and {} training images; a 2OI needs at least 3 images on each side",
                    fold.index + 1,
                    fold.seed,
                    fold.test.len(),
                    fold.train.len()
                )));
            }
            let training_ais = training_ais(grams, human, n, channels, &fold.train);
            let order = ranking(&training_ais);
            Ok((training_ais, RankedFold { fold: fold.clone(), order }))
        })
        .collect()
}

/// The protocol's second step, which a pool of workers may share: each ranked fold's curves;
/// `progress` hears (folds done, folds).
pub async fn ranked_curves(
    net: &Network,
    inputs: &Tensor<3>,
    folds: &[RankedFold],
    human: &[f64],
    options: &EngineOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<Curves>> {
    let cohort = Cohort::new(net, inputs).await?;
    let mut curves = Vec::with_capacity(folds.len());
    for ranked in folds {
        let fold = &ranked.fold;
        curves.push(fold_curves(net, inputs, &cohort, &ranked.order, human, fold, options).await?);
        progress(curves.len(), folds.len());
    }
    Ok(curves)
}

/// The protocol's last step: a ranked fold, its training AIS and its curves as one outcome.
pub fn fold_result(
    training_ais: Vec<f64>,
    ranked: RankedFold,
    curves: Curves,
) -> Result<FoldResult> {
    let RankedFold { fold, order } = ranked;
    if curves.train_r.len() != order.len() || curves.test_r.len() != order.len() {
        return Err(Error::Invalid(format!(
            "fold {} of seed {}: curves of {} points for {} feature maps",
            fold.index + 1,
            fold.seed,
            curves.train_r.len(),
            order.len()
        )));
    }
    let best_m = best_m(&curves.train_r).ok_or_else(|| {
        Error::Invalid(format!(
            "fold {} of seed {}: every training 2OI is undefined (constant similarities)",
            fold.index + 1,
            fold.seed
        ))
    })?;
    Ok(FoldResult { fold, training_ais, order, curves, best_m })
}

/// Runs the protocol over `folds` in one place. `scores` must come from the engine with
/// [`EngineOptions::keep_grams`]; `progress` hears (folds done, folds).
pub async fn cross_validate(
    net: &Network,
    inputs: &Tensor<3>,
    scores: &AisScores,
    human: &[f64],
    folds: &[Fold],
    options: &EngineOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<FoldResult>> {
    let (training_ais, ranked): (Vec<_>, Vec<_>) =
        rank_folds(scores, human, folds)?.into_iter().unzip();
    let curves = ranked_curves(net, inputs, &ranked, human, options, progress).await?;
    training_ais
        .into_iter()
        .zip(ranked)
        .zip(curves)
        .map(|((ais, ranked), curves)| fold_result(ais, ranked, curves))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranking_is_descending_with_stable_ties_and_nan_last() {
        assert_eq!(ranking(&[0.1, f64::NAN, 0.3, 0.1, -0.2]), vec![2, 0, 3, 4, 1]);
    }

    #[test]
    fn best_m_is_the_first_maximum_of_r_squared() {
        assert_eq!(best_m(&[0.1, -0.5, 0.5, 0.2]), Some(2));
        assert_eq!(best_m(&[f64::NAN, 0.3, 0.3]), Some(2));
        assert_eq!(best_m(&[f64::NAN]), None);
    }

    #[test]
    fn two_oi_uses_the_subsets_pairs_only() {
        // 4 images; over subset {0, 2, 3} the pairs are (0,2), (0,3), (2,3).
        let n = 4;
        let mut model = vec![0.0f32; 16];
        let mut human = vec![0.0f64; 16];
        for (i, j, m, h) in
            [(0, 2, 1.0, 2.0), (0, 3, 2.0, 4.0), (2, 3, 3.0, 6.5), (0, 1, 9.0, -9.0)]
        {
            model[i * n + j] = m;
            human[i * n + j] = h;
        }
        let r = two_oi(&model, &human, n, &[0, 2, 3]);
        assert!((r - pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.5])).abs() < 1e-15);
    }
}
