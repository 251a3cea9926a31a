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
//! The curves run on the device in chunks of m: the head's first layer is linear in the
//! channels, so keeping the top m gives the pre-activation `pre(0) + Σ_{j<m} term(order[j])`, a
//! cumulative sum of the same removal terms the engine subtracts.

use burn::prelude::*;

use crate::ablation::{AisScores, ChannelGrams, EngineOptions};
use crate::correlation;
use crate::error::{Error, Result};
use crate::extract::read_f32;
use crate::model::Network;
use crate::scores::pearson;

/// One train/test split of the images.
#[derive(Clone, Debug, PartialEq)]
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

/// Per m of `order`'s prefixes, every image's embedding with only those channels kept, as the
/// cohort's correlation matrix (f64, from the device's f32 embeddings); `visit(m, z)` sees each
/// `n × n` matrix.
async fn prefix_correlations(
    net: &Network,
    inputs: &Tensor<3>,
    order: &[usize],
    options: &EngineOptions,
    visit: &mut dyn FnMut(usize, &[f64]),
) -> Result<()> {
    let [n, _, _] = inputs.dims();
    let mut prefix = net.head_pre(inputs.zeros_like());
    let [_, out, positions] = prefix.dims();
    let dim = net.embedding_size();
    let kc = crate::ablation::chunk_channels(options, n, out * positions, dim);
    let mut m = 0;
    for chunk in order.chunks(kc) {
        let cumulative =
            net.removal(inputs, chunk).cumsum(0) + prefix.clone().unsqueeze_dim::<4>(0);
        prefix = cumulative.clone().narrow(0, chunk.len() - 1, 1).squeeze_dim::<3>(0);
        let embeddings = net.embed_from_pre(cumulative.reshape([chunk.len() * n, out, positions]));
        for cohort in read_f32(embeddings).await?.chunks_exact(n * dim) {
            m += 1;
            visit(m, &correlation::correlation_matrix(cohort, dim));
        }
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
    let n = inputs.dims()[0];
    let mut curves = Curves::default();
    prefix_correlations(net, inputs, order, options, &mut |_, z| {
        curves.train_r.push(two_oi(z, human, n, &fold.train));
        curves.test_r.push(two_oi(z, human, n, &fold.test));
    })
    .await?;
    Ok(curves)
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

/// Runs the protocol over `folds`. `scores` must come from the engine with
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
    let grams = scores.grams.as_ref().ok_or_else(|| {
        Error::Invalid(
            "cross-validation needs the engine's Gram matrices (EngineOptions::keep_grams)".into(),
        )
    })?;
    let (n, channels) = (scores.n, scores.channels);
    let mut results = Vec::with_capacity(folds.len());
    for fold in folds {
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
        let curves = selection_curves(net, inputs, &order, human, fold, options).await?;
        let best_m = best_m(&curves.train_r).ok_or_else(|| {
            Error::Invalid(format!(
                "fold {} of seed {}: every training 2OI is undefined (constant similarities)",
                fold.index + 1,
                fold.seed
            ))
        })?;
        results.push(FoldResult { fold: fold.clone(), training_ais, order, curves, best_m });
        progress(results.len(), folds.len());
    }
    Ok(results)
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
