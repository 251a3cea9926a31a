//! Networks split at the ablation layer: trunk (image → feature maps A), head (A → embedding),
//! classifier (embedding → logits).
//!
//! The engine sees every network through one view of its head: the *ablation inputs* are rows
//! `[n, channels, positions]` whose zeroing is exactly the removal of a feature map (VGG-16: the
//! per-channel pooled 7×7 blocks; EfficientNet-Lite: the maps themselves), and the head's first
//! layer is linear in them, so removing channel k subtracts a known term from its
//! pre-activation `[n, out, positions']`, from which the rest of the head is applied.

pub mod blocked_linear;
mod conv_host;
pub mod efficientnet;
pub mod vgg16;

use burn::prelude::*;

pub use efficientnet::EfficientNetLite;
pub use vgg16::{Vgg16, Vgg16Spec};

use crate::cohort::Normalization;
use crate::error::{Error, Result};
use crate::weights::TensorMap;

/// The networks alignmap knows, by the names users give them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelName {
    Vgg16,
    EfficientNetLite0,
    EfficientNetLite1,
    EfficientNetLite2,
}

impl std::str::FromStr for ModelName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let name = s.to_ascii_lowercase().replace('_', "-");
        let lite = name.strip_prefix("efficientnet-").or_else(|| name.strip_prefix("effnet-"));
        match (name.as_str(), lite) {
            ("vgg16" | "vgg-16", _) => Ok(Self::Vgg16),
            (_, Some("lite0")) => Ok(Self::EfficientNetLite0),
            (_, Some("lite1")) => Ok(Self::EfficientNetLite1),
            (_, Some("lite2")) => Ok(Self::EfficientNetLite2),
            _ => Err(Error::Invalid(format!(
                "unknown model '{s}': expected vgg16, efficientnet-lite0, efficientnet-lite1 \
                 or efficientnet-lite2"
            ))),
        }
    }
}

impl From<efficientnet::Variant> for ModelName {
    fn from(variant: efficientnet::Variant) -> Self {
        match variant {
            efficientnet::Variant::Lite0 => Self::EfficientNetLite0,
            efficientnet::Variant::Lite1 => Self::EfficientNetLite1,
            efficientnet::Variant::Lite2 => Self::EfficientNetLite2,
        }
    }
}

impl ModelName {
    pub fn label(self) -> &'static str {
        match self {
            Self::Vgg16 => "vgg16",
            Self::EfficientNetLite0 => "efficientnet-lite0",
            Self::EfficientNetLite1 => "efficientnet-lite1",
            Self::EfficientNetLite2 => "efficientnet-lite2",
        }
    }

    /// Which network a weights file holds, from its keys (and, among the EfficientNet-Lite
    /// variants, its shapes).
    pub fn detect(weights: &TensorMap) -> Result<Self> {
        if weights.contains("features.0.weight") {
            Ok(Self::Vgg16)
        } else if efficientnet::is_raw_state_dict(weights) || efficientnet::is_folded(weights) {
            efficientnet::Variant::detect(weights).map(Self::from)
        } else {
            let keys: Vec<&str> = weights.keys().take(5).collect();
            Err(Error::weights(
                weights.source(),
                format!(
                    "neither VGG-16 nor EfficientNet-Lite weights (first keys: {})",
                    keys.join(", ")
                ),
            ))
        }
    }
}

/// What [`Network::embedding_change`] needs of the full head pass: the pre-activations at which
/// each activation's change is taken (the embeddings themselves come from
/// [`Network::full_pass`]).
#[derive(Clone, Debug)]
pub struct HeadPass {
    /// The head's first pre-activation `[n, out, positions']`.
    pub pre: Tensor<3>,
    /// VGG-16: fc7's pre-activation `[n, hidden]`.
    inner: Option<Tensor<2>>,
    /// EfficientNet-Lite on the CPU backend: what its fused change kernel reads.
    host: Option<efficientnet::HostPass>,
}

impl HeadPass {
    /// The pass of images `range` alone.
    pub fn images(&self, range: std::ops::Range<usize>) -> HeadPass {
        HeadPass {
            pre: self.pre.clone().narrow(0, range.start, range.len()),
            inner: self.inner.clone().map(|t| t.narrow(0, range.start, range.len())),
            host: self.host.as_ref().map(|h| h.images(range)),
        }
    }
}

/// `act(x + delta) − act(x)` for `act = clamp(·, 0, hi)` (ReLU without `hi`, ReLU6 with 6),
/// accurate relative to the change rather than to `x`: with `a = act(x)` it equals
/// `clamp((x − a) + delta, −a, hi − a)`, where `x − a` is exactly 0 inside the linear range and
/// small (or irrelevant) outside it. Same-shaped tensors.
pub fn activation_change<const D: usize>(
    x: Tensor<D>,
    delta: Tensor<D>,
    hi: Option<f32>,
) -> Tensor<D> {
    let active = match hi {
        Some(hi) => x.clone().clamp(0.0, hi),
        None => x.clone().clamp_min(0.0),
    };
    let change = (x - active.clone() + delta).max_pair(active.clone().neg());
    match hi {
        Some(hi) => change.min_pair(active.neg() + hi),
        None => change,
    }
}

/// [`activation_change`] for ReLU on the CPU backend, as one pass over the values instead of
/// a temporary tensor per step (the same f32 operations, so the same values, up to the sign of
/// a zero): `base` `[n, …]` (one image's values per row) and `sign · delta` `[kc, n, …]`, the
/// changes of every image under each of kc removals.
fn relu_change_host<const D: usize, const E: usize>(
    base: Tensor<D>,
    delta: Tensor<E>,
    sign: f32,
) -> Vec<f32> {
    let base: Vec<f32> = base.into_data().try_into_vec().expect("an f32 tensor");
    let mut change: Vec<f32> = delta.into_data().try_into_vec().expect("an f32 tensor");
    let rows = change.chunks_exact_mut(base.len());
    crate::host::for_each_item(rows.collect(), |_, row| {
        row.iter_mut().zip(&base).for_each(|(d, &x)| *d = relu_change(x, sign * *d));
    });
    change
}

/// ReLU's change when `x` moves by `delta`, as [`activation_change`] computes it.
#[inline(always)]
fn relu_change(x: f32, delta: f32) -> f32 {
    let active = x.max(0.0);
    ((x - active) + delta).max(-active)
}

/// A loaded network.
// One network per session, moved rarely: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Network {
    Vgg16(Vgg16),
    EfficientNetLite(EfficientNetLite),
}

impl Network {
    /// Builds the network a weights file holds; `requested` must agree with the file when given.
    pub fn from_weights(
        weights: TensorMap,
        requested: Option<ModelName>,
        device: &Device,
    ) -> Result<Self> {
        let found = ModelName::detect(&weights)?;
        if let Some(requested) = requested.filter(|&r| r != found) {
            return Err(Error::weights(
                weights.source(),
                format!(
                    "holds {} weights, but --model {} was asked for",
                    found.label(),
                    requested.label()
                ),
            ));
        }
        Ok(match found {
            ModelName::Vgg16 => Self::Vgg16(Vgg16::from_weights(weights, device)?),
            ModelName::EfficientNetLite0
            | ModelName::EfficientNetLite1
            | ModelName::EfficientNetLite2 => {
                Self::EfficientNetLite(EfficientNetLite::from_weights(weights, device)?)
            }
        })
    }

    pub fn name(&self) -> ModelName {
        match self {
            Self::Vgg16(_) => ModelName::Vgg16,
            Self::EfficientNetLite(m) => m.variant.into(),
        }
    }

    /// The side the shorter image side is resized to: the size the network was trained at.
    pub fn input_side(&self) -> usize {
        match self {
            Self::Vgg16(_) => 224,
            Self::EfficientNetLite(m) => m.variant.input_side(),
        }
    }

    /// The preprocessing the weights were trained with.
    pub fn normalization(&self) -> Normalization {
        match self {
            Self::Vgg16(_) => Normalization::IMAGENET,
            Self::EfficientNetLite(_) => Normalization::SYMMETRIC,
        }
    }

    /// Feature maps at the ablation layer.
    pub fn channels(&self) -> usize {
        match self {
            Self::Vgg16(m) => m.spec.channels(),
            Self::EfficientNetLite(m) => m.variant.channels(),
        }
    }

    pub fn embedding_size(&self) -> usize {
        match self {
            Self::Vgg16(m) => m.spec.hidden,
            Self::EfficientNetLite(_) => efficientnet::EMBEDDING,
        }
    }

    pub fn classes(&self) -> usize {
        match self {
            Self::Vgg16(m) => m.spec.classes,
            Self::EfficientNetLite(m) => m.classifier.bias.dims()[0],
        }
    }

    /// Rejects inputs too small for the network's downsampling.
    pub fn check_input(&self, height: usize, width: usize) -> Result<()> {
        let min = match self {
            Self::Vgg16(_) => vgg16::MIN_SIDE,
            Self::EfficientNetLite(_) => 32,
        };
        if height.min(width) < min {
            return Err(Error::Invalid(format!(
                "an input of {height}×{width} is too small for {}: each side needs at least {min} pixels",
                self.name().label()
            )));
        }
        Ok(())
    }

    /// Image `[n, 3, H, W]` → feature maps A `[n, channels, h, w]`.
    pub fn trunk(&self, x: Tensor<4>) -> Tensor<4> {
        match self {
            Self::Vgg16(m) => m.trunk.forward(x),
            Self::EfficientNetLite(m) => m.trunk(x),
        }
    }

    /// `[n, channels, positions]` rows whose zeroing removes a feature map exactly.
    pub fn ablation_inputs(&self, maps: Tensor<4>) -> Tensor<3> {
        match self {
            Self::Vgg16(m) => m.head.pool(maps),
            Self::EfficientNetLite(_) => {
                let [n, c, h, w] = maps.dims();
                maps.reshape([n, c, h * w])
            }
        }
    }

    /// The head's first layer, linear in the ablation inputs: `[n, out, positions']`.
    pub fn head_pre(&self, inputs: Tensor<3>) -> Tensor<3> {
        match self {
            Self::Vgg16(m) => m.head.fc6_pre(inputs).unsqueeze_dim(2),
            Self::EfficientNetLite(m) => m.head_pre(inputs),
        }
    }

    /// The rest of the head: `[m, out, positions']` → embeddings `[m, embedding]`.
    pub fn embed_from_pre(&self, pre: Tensor<3>) -> Tensor<2> {
        match self {
            Self::Vgg16(m) => m.head.from_fc6_pre(pre.squeeze_dim(2)),
            Self::EfficientNetLite(_) => EfficientNetLite::embed_from_pre(pre),
        }
    }

    /// The shape `(out, positions')` of the head's first pre-activation for ablation inputs of
    /// `positions` positions (VGG-16: fc6's outputs, one position).
    pub fn pre_shape(&self, positions: usize) -> (usize, usize) {
        match self {
            Self::Vgg16(m) => (m.spec.hidden, 1),
            Self::EfficientNetLite(_) => (efficientnet::EMBEDDING, positions),
        }
    }

    /// The full head pass in f64 on the host, from the f32 ablation inputs and weights: the
    /// embeddings `[n, embedding]` the scores' correlations start from, and the pre-activations
    /// [`Network::embedding_change`] takes its activation changes at. VGG-16 runs fc6 and fc7
    /// in f64 (fc6 one weight block at a time); EfficientNet-Lite its 1×1 head convolution.
    /// The pre-activations go to the device rounded once to f32: where a removal flips a unit's
    /// sign, its change is minus the pre-activation itself, so an f32 pass (25088-long sums for
    /// fc6) would put errors of the pre-activation's scale into changes that are otherwise
    /// exact to their own scale (docs/ENGINE.md, "Accuracy").
    pub async fn full_pass(
        &self,
        inputs: &Tensor<3>,
        inputs_host: &[f32],
    ) -> Result<(Vec<f64>, HeadPass)> {
        use crate::correlation::{Operand, matmul};
        use crate::extract::read_f32;
        let f64s = |v: Vec<f32>| v.into_iter().map(f64::from).collect::<Vec<f64>>();
        let device = inputs.device();
        let upload = |values: &[f64], shape: Vec<usize>| {
            let values: Vec<f32> = values.iter().map(|&v| v as f32).collect();
            TensorData::new(values, shape)
        };
        let [n, channels, positions] = inputs.dims();
        match self {
            Self::Vgg16(m) => {
                let pre = m.head.fc6.forward_f64(inputs_host).await?;
                let out = m.head.fc6.out_features();
                let hidden6: Vec<f64> = pre.iter().map(|v| v.max(0.0)).collect();
                let w7 = m.head.fc7.weight_values().await?;
                let bias7 = f64s(read_f32(m.head.fc7.bias.clone()).await?);
                let hidden = bias7.len();
                let mut inner =
                    crate::correlation::matmul_f32_weights(&hidden6, &w7, n, out, hidden);
                for row in inner.chunks_exact_mut(hidden) {
                    row.iter_mut().zip(&bias7).for_each(|(v, b)| *v += b);
                }
                let embeddings = inner.iter().map(|v| v.max(0.0)).collect();
                let pass = HeadPass {
                    pre: Tensor::from_data(upload(&pre, vec![n, out, 1]), &device),
                    inner: Some(Tensor::from_data(upload(&inner, vec![n, hidden]), &device)),
                    host: None,
                };
                Ok((embeddings, pass))
            }
            Self::EfficientNetLite(m) => {
                let w = f64s(read_f32(m.head_weight.clone()).await?);
                let bias = f64s(read_f32(m.head_bias.clone()).await?);
                let out = bias.len();
                let mut pre = Vec::with_capacity(n * out * positions);
                for maps in inputs_host.chunks_exact(channels * positions) {
                    let maps = f64s(maps.to_vec());
                    let image =
                        matmul(Operand::Rows(&w), Operand::Rows(&maps), out, channels, positions);
                    pre.extend(
                        image
                            .chunks_exact(positions)
                            .zip(&bias)
                            .flat_map(|(row, b)| row.iter().map(move |v| v + b)),
                    );
                }
                let embeddings = pre
                    .chunks_exact(positions)
                    .map(|row| {
                        row.iter().map(|v| v.clamp(0.0, 6.0)).sum::<f64>() / positions as f64
                    })
                    .collect();
                let pre: Vec<f32> = pre.iter().map(|&v| v as f32).collect();
                let host = self
                    .host_head(inputs_host, positions)
                    .await?
                    .map(|head| efficientnet::HostPass::new(head, &pre));
                let pre = Tensor::from_data(TensorData::new(pre, [n, out, positions]), &device);
                let pass = HeadPass { pre, inner: None, host };
                Ok((embeddings, pass))
            }
        }
    }

    /// How the embedding of every image of `pass` changes when a channel of `chunk` is removed
    /// from it: `[kc, n, embedding]`, the ablated embedding minus the full one, for the ablation
    /// inputs `inputs` `[n, channels, positions]` of those images. Computed from differences
    /// through every layer (the linear ones act on the change alone, the activations by
    /// [`activation_change`]), so the result is accurate relative to the change, not to the
    /// embedding: a small change is not lost to cancellation.
    pub fn embedding_change(
        &self,
        pass: &HeadPass,
        inputs: &Tensor<3>,
        chunk: &[usize],
    ) -> Tensor<3> {
        if let Some(host) = &pass.host {
            let [n, _, _] = inputs.dims();
            let change = host.embedding_change(chunk);
            return Tensor::from_data(
                TensorData::new(change, [chunk.len(), n, efficientnet::EMBEDDING]),
                &inputs.device(),
            );
        }
        self.change_of_removal(pass, self.removal(inputs, chunk))
    }

    /// How the embedding of every image of `pass` changes when each `removal` `[kc, n, out,
    /// positions']` is subtracted from its pre-activation: `[kc, n, embedding]` (the tensor
    /// path of [`Network::embedding_change`]).
    pub fn change_of_removal(&self, pass: &HeadPass, removal: Tensor<4>) -> Tensor<3> {
        let [kc, n, out, positions] = removal.dims();
        let pre = pass.pre.clone().unsqueeze_dim::<4>(0).expand([kc, n, out, positions]);
        match self {
            Self::Vgg16(m) if removal.device() == Device::flex() => {
                let inner = pass.inner.clone().expect("VGG-16's pass keeps fc7's pre-activation");
                let hidden_change = relu_change_host(pass.pre.clone(), removal, -1.0);
                let weight7 = m
                    .head
                    .fc7
                    .host_weight()
                    .expect("on the CPU backend fc7's weight is on the host");
                let inner: Vec<f32> = inner.into_data().try_into_vec().expect("an f32 tensor");
                let change = vgg16::embedding_change_host(weight7, &inner, &hidden_change, kc, n);
                let hidden = inner.len() / n;
                Tensor::from_data(TensorData::new(change, [kc, n, hidden]), &Device::flex())
            }
            Self::Vgg16(m) => {
                let hidden_change = activation_change(pre, removal.neg(), None);
                let inner_change = m.head.fc7.product(hidden_change.reshape([kc * n, out]));
                let hidden = inner_change.dims()[1];
                let inner = pass.inner.clone().expect("VGG-16's pass keeps fc7's pre-activation");
                let inner = inner.unsqueeze_dim::<3>(0).expand([kc, n, hidden]);
                activation_change(inner, inner_change.reshape([kc, n, hidden]), None)
            }
            Self::EfficientNetLite(_) => {
                activation_change(pre, removal.neg(), Some(6.0)).mean_dim(3).squeeze_dim(3)
            }
        }
    }

    /// EfficientNet-Lite's head as fused CPU loops over the ablation inputs `inputs_host`
    /// `[n, channels, positions]`, when the network is one and its tensors live on the CPU
    /// backend; `None` otherwise (the tensor path serves).
    pub async fn host_head(
        &self,
        inputs_host: &[f32],
        positions: usize,
    ) -> Result<Option<efficientnet::HostHead>> {
        use crate::extract::read_f32;
        match self {
            Self::EfficientNetLite(m) if m.head_weight.device() == Device::flex() => {
                let weight = read_f32(m.head_weight.clone()).await?;
                let bias = read_f32(m.head_bias.clone()).await?;
                Ok(Some(efficientnet::HostHead::new(inputs_host, &weight, &bias, positions)))
            }
            _ => Ok(None),
        }
    }

    /// Images per block of the engine's image-by-image schedule: VGG-16 streams fc6's 411 MB
    /// weight once per block, so a few images share each pass; EfficientNet-Lite's removal terms
    /// read one column of its head, so every image is a block of its own.
    pub fn block_images(&self) -> usize {
        match self {
            Self::Vgg16(_) => 4,
            Self::EfficientNetLite(_) => 1,
        }
    }

    /// What removing each channel of `chunk` subtracts from every image's pre-activation:
    /// `[chunk, n, out, positions']`.
    pub fn removal(&self, inputs: &Tensor<3>, chunk: &[usize]) -> Tensor<4> {
        let device = inputs.device();
        let index = Tensor::<1, Int>::from_data(
            TensorData::new(chunk.iter().map(|&k| k as i64).collect::<Vec<_>>(), [chunk.len()]),
            &device,
        );
        let rows = inputs.clone().select(1, index.clone()).swap_dims(0, 1); // [kc, n, positions]
        match self {
            Self::Vgg16(m) => m.head.fc6.channel_terms(rows, chunk).unsqueeze_dim(3),
            Self::EfficientNetLite(m) => {
                let w = m.head_weight.clone().select(1, index).transpose(); // [kc, 1280]
                let [kc, embedding] = w.dims();
                w.reshape([kc, 1, embedding, 1]) * rows.unsqueeze_dim::<4>(2)
            }
        }
    }

    pub fn classify(&self, embeddings: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Vgg16(m) => m.classifier.forward(embeddings),
            Self::EfficientNetLite(m) => m.classifier.forward(embeddings),
        }
    }

    /// The whole head on feature maps (the naive path's unit of work).
    pub fn head(&self, maps: Tensor<4>) -> Tensor<2> {
        self.embed_from_pre(self.head_pre(self.ablation_inputs(maps)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relu_change_on_the_host_equals_the_tensor_ops() {
        let (kc, n, out) = (3, 4, 37);
        let value = |i: usize, f: f32| (i as f32 * f).sin() * 3.0;
        let base: Vec<f32> = (0..n * out).map(|i| value(i, 0.71)).collect();
        // Changes that cross zero both ways, and exact zeros.
        let delta: Vec<f32> =
            (0..kc * n * out).map(|i| if i % 7 == 0 { 0.0 } else { value(i, 0.29) }).collect();
        let device = Device::flex();
        let base_t = Tensor::<2>::from_data(TensorData::new(base.clone(), [n, out]), &device);
        let delta_t = Tensor::<3>::from_data(TensorData::new(delta.clone(), [kc, n, out]), &device);
        for sign in [1.0f32, -1.0] {
            let got = relu_change_host(base_t.clone(), delta_t.clone(), sign);
            let want: Vec<f32> = activation_change(
                base_t.clone().unsqueeze_dim::<3>(0).expand([kc, n, out]),
                delta_t.clone() * sign,
                None,
            )
            .into_data()
            .try_into_vec()
            .unwrap();
            // Equal values (a zero's sign may differ: `f32::max(0.0, -0.0)` may be either).
            assert_eq!(got.len(), want.len());
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(g == w, "sign {sign}, value {i}: {g} vs {w}");
            }
            let moved = got.iter().filter(|&&v| v != 0.0).count();
            assert!(moved > 0 && moved < got.len(), "some units change, some do not");
        }
    }
}
