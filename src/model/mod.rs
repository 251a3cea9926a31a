//! Networks split at the ablation layer: trunk (image → feature maps A), head (A → embedding),
//! classifier (embedding → logits).
//!
//! The engine sees every network through one view of its head: the *ablation inputs* are rows
//! `[n, channels, positions]` whose zeroing is exactly the removal of a feature map (VGG-16: the
//! per-channel pooled 7×7 blocks; EfficientNet-Lite: the maps themselves), and the head's first
//! layer is linear in them, so removing channel k subtracts a known term from its
//! pre-activation `[n, out, positions']`, from which the rest of the head is applied.

pub mod blocked_linear;
pub mod efficientnet;
pub mod vgg16;

use burn::prelude::*;
use burn::tensor::activation::relu;

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
/// [`Network::embeddings_f64`]).
#[derive(Clone, Debug)]
pub struct HeadPass {
    /// The head's first pre-activation `[n, out, positions']`.
    pub pre: Tensor<3>,
    /// VGG-16: fc7's pre-activation `[n, hidden]`.
    inner: Option<Tensor<2>>,
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

    /// The full head pass on the ablation inputs, kept for [`Network::embedding_change`].
    pub fn head_pass(&self, inputs: Tensor<3>) -> HeadPass {
        let pre = self.head_pre(inputs);
        match self {
            Self::Vgg16(m) => {
                let inner = m.head.fc7.forward(relu(pre.clone().squeeze_dim::<2>(2)));
                HeadPass { pre, inner: Some(inner) }
            }
            Self::EfficientNetLite(_) => HeadPass { pre, inner: None },
        }
    }

    /// The full head pass in f64 on the host, from the f32 ablation inputs and weights: the
    /// embeddings `[n, embedding]` the scores' correlations start from. VGG-16 sums fc6's
    /// per-channel terms (49-long f32 products, `kc` channels at a time) in f64 and runs fc7 in
    /// f64; EfficientNet-Lite runs its 1×1 head convolution in f64. The f32 pass would leave
    /// errors of ~1e-6 in the correlations of ill-conditioned cohorts (docs/ENGINE.md, "Accuracy").
    pub async fn embeddings_f64(
        &self,
        inputs: &Tensor<3>,
        inputs_host: &[f32],
        kc: usize,
    ) -> Result<Vec<f64>> {
        use crate::correlation::{Operand, matmul};
        use crate::extract::read_f32;
        let f64s = |v: Vec<f32>| v.into_iter().map(f64::from).collect::<Vec<f64>>();
        let [n, channels, positions] = inputs.dims();
        match self {
            Self::Vgg16(m) => {
                let bias6 = f64s(read_f32(m.head.fc6.bias.clone()).await?);
                let out = bias6.len();
                let mut pre: Vec<f64> = bias6.repeat(n);
                let all: Vec<usize> = (0..channels).collect();
                for chunk in all.chunks(kc.max(1)) {
                    let terms = read_f32(self.removal(inputs, chunk)).await?;
                    for block in terms.chunks_exact(n * out) {
                        pre.iter_mut().zip(block).for_each(|(p, &t)| *p += f64::from(t));
                    }
                }
                pre.iter_mut().for_each(|v| *v = v.max(0.0));
                let w7 = f64s(read_f32(m.head.fc7.weight.clone()).await?);
                let bias7 = f64s(read_f32(m.head.fc7.bias.clone()).await?);
                let hidden = bias7.len();
                let mut e = matmul(Operand::Rows(&pre), Operand::Rows(&w7), n, out, hidden);
                for row in e.chunks_exact_mut(hidden) {
                    row.iter_mut().zip(&bias7).for_each(|(v, b)| *v = (*v + b).max(0.0));
                }
                Ok(e)
            }
            Self::EfficientNetLite(m) => {
                let w = f64s(read_f32(m.head_weight.clone()).await?);
                let bias = f64s(read_f32(m.head_bias.clone()).await?);
                let out = bias.len();
                let mut e = Vec::with_capacity(n * out);
                for maps in inputs_host.chunks_exact(channels * positions) {
                    let maps = f64s(maps.to_vec());
                    let pre =
                        matmul(Operand::Rows(&w), Operand::Rows(&maps), out, channels, positions);
                    e.extend(pre.chunks_exact(positions).zip(&bias).map(|(row, b)| {
                        row.iter().map(|v| (v + b).clamp(0.0, 6.0)).sum::<f64>() / positions as f64
                    }));
                }
                Ok(e)
            }
        }
    }

    /// How every image's embedding changes when the `removal` terms `[kc, n, out, positions']`
    /// are subtracted from its pre-activation: `[kc, n, embedding]`, the ablated embedding minus
    /// the full one. Computed from differences through every layer (the linear ones act on
    /// the change alone, the activations by [`activation_change`]), so the result is accurate
    /// relative to the change, not to the embedding: a small change is not lost to cancellation.
    pub fn embedding_change(&self, pass: &HeadPass, removal: Tensor<4>) -> Tensor<3> {
        let [kc, n, out, positions] = removal.dims();
        let pre = pass.pre.clone().unsqueeze_dim::<4>(0).expand([kc, n, out, positions]);
        match self {
            Self::Vgg16(m) => {
                let hidden_change = activation_change(pre, removal.neg(), None);
                let inner_change =
                    hidden_change.reshape([kc * n, out]).matmul(m.head.fc7.weight.clone());
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
            Self::Vgg16(m) => {
                let w = m.head.fc6.channel_rows(chunk); // [kc, 49, hidden]
                rows.matmul(w).unsqueeze_dim(3)
            }
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
