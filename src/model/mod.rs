//! Networks split at the ablation layer: trunk (image → feature maps A), head (A → embedding),
//! classifier (embedding → logits).
//!
//! The engine sees every network through one view of its head: the *ablation inputs* are rows
//! `[n, channels, positions]` whose zeroing is exactly the removal of a feature map (VGG-16: the
//! per-channel pooled 7×7 blocks; EfficientNet-Lite0: the maps themselves), and the head's first
//! layer is linear in them, so removing channel k subtracts a known term from its
//! pre-activation `[n, out, positions']`, from which the rest of the head is applied.

pub mod blocked_linear;
pub mod efficientnet;
pub mod vgg16;

use burn::prelude::*;

pub use efficientnet::EfficientNetLite0;
pub use vgg16::{Vgg16, Vgg16Spec};

use crate::cohort::Normalization;
use crate::error::{Error, Result};
use crate::weights::TensorMap;

/// The networks alignmap knows, by the names users give them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelName {
    Vgg16,
    EfficientNetLite0,
}

impl std::str::FromStr for ModelName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "vgg16" | "vgg-16" => Ok(Self::Vgg16),
            "efficientnet-lite0" | "efficientnet_lite0" | "effnet-lite0" => {
                Ok(Self::EfficientNetLite0)
            }
            other => Err(Error::Invalid(format!(
                "unknown model '{other}': expected vgg16 or efficientnet-lite0"
            ))),
        }
    }
}

impl ModelName {
    pub fn label(self) -> &'static str {
        match self {
            Self::Vgg16 => "vgg16",
            Self::EfficientNetLite0 => "efficientnet-lite0",
        }
    }

    /// Which network a weights file holds, from its keys.
    pub fn detect(weights: &TensorMap) -> Result<Self> {
        if weights.contains("features.0.weight") {
            Ok(Self::Vgg16)
        } else if efficientnet::is_raw_state_dict(weights) || efficientnet::is_folded(weights) {
            Ok(Self::EfficientNetLite0)
        } else {
            let keys: Vec<&str> = weights.keys().take(5).collect();
            Err(Error::weights(
                weights.source(),
                format!(
                    "neither VGG-16 nor EfficientNet-Lite0 weights (first keys: {})",
                    keys.join(", ")
                ),
            ))
        }
    }
}

/// A loaded network.
#[derive(Debug, Clone)]
pub enum Network {
    Vgg16(Vgg16),
    EfficientNetLite0(EfficientNetLite0),
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
            ModelName::EfficientNetLite0 => {
                Self::EfficientNetLite0(EfficientNetLite0::from_weights(weights, device)?)
            }
        })
    }

    pub fn name(&self) -> ModelName {
        match self {
            Self::Vgg16(_) => ModelName::Vgg16,
            Self::EfficientNetLite0(_) => ModelName::EfficientNetLite0,
        }
    }

    /// The preprocessing the weights were trained with.
    pub fn normalization(&self) -> Normalization {
        match self {
            Self::Vgg16(_) => Normalization::IMAGENET,
            Self::EfficientNetLite0(_) => Normalization::SYMMETRIC,
        }
    }

    /// Feature maps at the ablation layer.
    pub fn channels(&self) -> usize {
        match self {
            Self::Vgg16(m) => m.spec.channels(),
            Self::EfficientNetLite0(_) => efficientnet::CHANNELS,
        }
    }

    pub fn embedding_size(&self) -> usize {
        match self {
            Self::Vgg16(m) => m.spec.hidden,
            Self::EfficientNetLite0(_) => efficientnet::EMBEDDING,
        }
    }

    pub fn classes(&self) -> usize {
        match self {
            Self::Vgg16(m) => m.spec.classes,
            Self::EfficientNetLite0(m) => m.classifier.bias.dims()[0],
        }
    }

    /// Rejects inputs too small for the network's downsampling.
    pub fn check_input(&self, height: usize, width: usize) -> Result<()> {
        let min = match self {
            Self::Vgg16(_) => vgg16::MIN_SIDE,
            Self::EfficientNetLite0(_) => 32,
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
            Self::EfficientNetLite0(m) => m.trunk(x),
        }
    }

    /// `[n, channels, positions]` rows whose zeroing removes a feature map exactly.
    pub fn ablation_inputs(&self, maps: Tensor<4>) -> Tensor<3> {
        match self {
            Self::Vgg16(m) => m.head.pool(maps),
            Self::EfficientNetLite0(_) => {
                let [n, c, h, w] = maps.dims();
                maps.reshape([n, c, h * w])
            }
        }
    }

    /// The head's first layer, linear in the ablation inputs: `[n, out, positions']`.
    pub fn head_pre(&self, inputs: Tensor<3>) -> Tensor<3> {
        match self {
            Self::Vgg16(m) => m.head.fc6_pre(inputs).unsqueeze_dim(2),
            Self::EfficientNetLite0(m) => m.head_pre(inputs),
        }
    }

    /// The rest of the head: `[m, out, positions']` → embeddings `[m, embedding]`.
    pub fn embed_from_pre(&self, pre: Tensor<3>) -> Tensor<2> {
        match self {
            Self::Vgg16(m) => m.head.from_fc6_pre(pre.squeeze_dim(2)),
            Self::EfficientNetLite0(_) => EfficientNetLite0::embed_from_pre(pre),
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
            Self::EfficientNetLite0(m) => {
                let w = m.head_weight.clone().select(1, index).transpose(); // [kc, 1280]
                let [kc, embedding] = w.dims();
                w.reshape([kc, 1, embedding, 1]) * rows.unsqueeze_dim::<4>(2)
            }
        }
    }

    pub fn classify(&self, embeddings: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Vgg16(m) => m.classifier.forward(embeddings),
            Self::EfficientNetLite0(m) => m.classifier.forward(embeddings),
        }
    }

    /// The whole head on feature maps (the naive path's unit of work).
    pub fn head(&self, maps: Tensor<4>) -> Tensor<2> {
        self.embed_from_pre(self.head_pre(self.ablation_inputs(maps)))
    }
}
