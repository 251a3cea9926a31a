//! VGG-16 (torchvision layout), split at conv5_3 after its ReLU.
//!
//! trunk: 13 conv3×3 + ReLU with 4 max-pools → A ∈ R^{512×h×w} (14×14 at 224×224);
//! head: max-pool 2×2 → adaptive average pool 7×7 → fc6 → ReLU → fc7 → ReLU → embedding (4096);
//! classifier: fc8 → logits (1000 for ImageNet, 565 for Ecoset: taken from the weights).

use std::sync::Arc;

use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::module::{adaptive_avg_pool2d, conv2d, max_pool2d};
use burn::tensor::ops::{ConvOptions, MaxPoolOptions};

use super::blocked_linear::BlockedLinear;
use super::conv_host::{self, HostConv};
use crate::error::{Error, Result};
use crate::synthetic;
use crate::weights::{NamedTensor, TensorMap};

/// Indices of the convolutions in torchvision's `features` sequence.
const CONV_KEYS: [usize; 13] = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28];
/// A max-pool follows these convolutions inside the trunk (the fifth pool is in the head).
const POOL_AFTER: [usize; 4] = [1, 3, 6, 9];
/// The adaptive pool's output side: fc6 sees `channels · 7 · 7` inputs.
const POOLED_SIDE: usize = 7;
pub const POSITIONS: usize = POOLED_SIDE * POOLED_SIDE;
/// Smallest input side that survives the five pools.
pub const MIN_SIDE: usize = 32;

/// Widths of a VGG-16-shaped network. Real VGG-16 is [`Vgg16Spec::full`]; smaller widths with
/// the same topology make fast tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vgg16Spec {
    pub widths: [usize; 13],
    pub hidden: usize,
    pub classes: usize,
}

/// "tiny" or "vgg16" (1000 classes): the generated networks of the benchmarks and diagnostics.
impl std::str::FromStr for Vgg16Spec {
    type Err = Error;

    fn from_str(spec: &str) -> Result<Self> {
        match spec {
            "tiny" => Ok(Vgg16Spec::tiny()),
            "vgg16" => Ok(Vgg16Spec::full(1000)),
            other => Err(Error::Invalid(format!("unknown spec '{other}': expected tiny or vgg16"))),
        }
    }
}

impl Vgg16Spec {
    pub fn full(classes: usize) -> Self {
        Self {
            widths: [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512],
            hidden: 4096,
            classes,
        }
    }

    /// VGG-16's topology at 1/16 of its widths: for tests.
    pub fn tiny() -> Self {
        Self { widths: [4, 4, 8, 8, 16, 16, 16, 32, 32, 32, 32, 32, 32], hidden: 64, classes: 10 }
    }

    /// Feature maps at the ablation layer.
    pub fn channels(&self) -> usize {
        self.widths[12]
    }

    /// `(key, shape, fan_in)` of every tensor, in torchvision order.
    pub fn torchvision_tensors(&self) -> Vec<(String, Vec<usize>, usize)> {
        let mut out = Vec::new();
        let mut inputs = 3;
        for (&key, &width) in CONV_KEYS.iter().zip(&self.widths) {
            out.push((format!("features.{key}.weight"), vec![width, inputs, 3, 3], inputs * 9));
            out.push((format!("features.{key}.bias"), vec![width], inputs * 9));
            inputs = width;
        }
        let linear = [
            (0, self.channels() * POSITIONS, self.hidden),
            (3, self.hidden, self.hidden),
            (6, self.hidden, self.classes),
        ];
        for (key, fan_in, out_features) in linear {
            out.push((format!("classifier.{key}.weight"), vec![out_features, fan_in], fan_in));
            out.push((format!("classifier.{key}.bias"), vec![out_features], fan_in));
        }
        out
    }

    /// The sizes the memory of a run depends on ([`crate::memory::Footprint`]).
    pub fn footprint(&self) -> crate::memory::Footprint {
        let parameters =
            self.torchvision_tensors().iter().map(|(_, s, _)| s.iter().product::<usize>()).sum();
        // Each convolution holds its input twice (the CPU backend's channels-last copy) and its
        // output; each pool its input and output; at 1/d² of the input's pixels after the pools.
        let (mut peak, mut inputs, mut scale) = (0.0f64, 3.0, 1.0);
        for (i, &width) in self.widths.iter().enumerate() {
            let width = width as f64;
            peak = peak.max((2.0 * inputs + width) * scale);
            if POOL_AFTER.contains(&i) {
                peak = peak.max(width * scale * 1.25);
                scale /= 4.0;
            }
            inputs = width;
        }
        crate::memory::Footprint {
            parameters,
            input_side: 224,
            peak_per_pixel: peak,
            channels: self.channels(),
            map_stride: 16,
            map_rounds_up: false,
            pooled_positions: Some(POSITIONS),
            head_out: self.hidden,
            embedding: self.hidden,
            host_f64_bytes: 8 * self.hidden * self.hidden,
            // As `Network::block_images`: a few images share each pass over fc6's weight.
            block_images: 4,
        }
    }

    /// Reads the widths from a weights file, in either key layout.
    pub fn from_weights(weights: &TensorMap) -> Result<Self> {
        let layout = Layout::detect(weights)?;
        let mut widths = [0; 13];
        for (i, key) in CONV_KEYS.iter().enumerate() {
            let name = format!("features.{key}.weight");
            widths[i] = match weights.shape(&name) {
                Some([out, _, 3, 3]) => *out,
                Some(other) => {
                    return Err(Error::weights(
                        weights.source(),
                        format!("tensor '{name}' has shape {other:?}, expected [out, in, 3, 3]"),
                    ));
                }
                None => {
                    return Err(Error::weights(
                        weights.source(),
                        format!("missing tensor '{name}': not a VGG-16 weights file"),
                    ));
                }
            };
        }
        let dim0 = |key: &str| weights.shape(key).and_then(|s| s.first().copied());
        let missing =
            |key: &str| Error::weights(weights.source(), format!("missing tensor '{key}'"));
        let hidden = dim0(layout.fc6()).ok_or_else(|| missing(layout.fc6()))?;
        let classes = dim0(layout.fc8()).ok_or_else(|| missing(layout.fc8()))?;
        Ok(Self { widths, hidden, classes })
    }
}

/// The two key layouts of published VGG-16 weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `classifier.{0,3,6}`: torchvision, Ecoset.
    Torchvision,
    /// `pre_logits.fc1` (4096×512×7×7), `pre_logits.fc2` (4096×4096×1×1), `head.fc`: timm.
    Timm,
}

impl Layout {
    fn detect(weights: &TensorMap) -> Result<Self> {
        match (weights.contains("classifier.0.weight"), weights.contains("pre_logits.fc1.weight")) {
            (true, false) => Ok(Self::Torchvision),
            (false, true) => Ok(Self::Timm),
            (true, true) => Err(Error::weights(
                weights.source(),
                "holds both torchvision ('classifier.0.weight') and timm ('pre_logits.fc1.weight') keys",
            )),
            (false, false) => Err(Error::weights(
                weights.source(),
                "not a VGG-16 weights file: neither 'classifier.0.weight' (torchvision) nor 'pre_logits.fc1.weight' (timm) is present",
            )),
        }
    }

    fn fc6(self) -> &'static str {
        match self {
            Self::Torchvision => "classifier.0.weight",
            Self::Timm => "pre_logits.fc1.weight",
        }
    }

    fn fc8(self) -> &'static str {
        match self {
            Self::Torchvision => "classifier.6.weight",
            Self::Timm => "head.fc.weight",
        }
    }

    fn linear_prefixes(self) -> [&'static str; 3] {
        match self {
            Self::Torchvision => ["classifier.0", "classifier.3", "classifier.6"],
            Self::Timm => ["pre_logits.fc1", "pre_logits.fc2", "head.fc"],
        }
    }
}

/// A dense layer `x · Wᵀ + b` with its weight stored transposed (`[in, out]`, row-major: an
/// input's weights are one contiguous row, see [`embedding_change_host`]).
#[derive(Debug, Clone)]
pub struct Dense {
    weight: DenseWeight,
    pub bias: Tensor<1>,
}

/// Where a [`Dense`] weight lives.
#[derive(Clone)]
enum DenseWeight {
    /// On a GPU (boxed: a tensor's handle is some 500 bytes).
    Tensor(Box<Tensor<2>>),
    /// On the CPU backend: a host array our kernels read in place (Burn's tensors there can
    /// only be copied out).
    Host(Arc<Vec<f32>>),
}

/// The sizes only: a network's Debug should not print millions of weights.
impl std::fmt::Debug for DenseWeight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Tensor(t) => write!(f, "Tensor({:?})", t.dims()),
            Self::Host(w) => write!(f, "Host({} values)", w.len()),
        }
    }
}

impl Dense {
    /// `weight`: PyTorch's `[out, in]`, row-major.
    pub fn new(weight: &[f32], bias: Vec<f32>, device: &Device) -> Self {
        let out = bias.len();
        let inputs = weight.len() / out;
        let transposed = crate::host::transpose(weight, out, inputs);
        let weight = if *device == Device::flex() {
            DenseWeight::Host(Arc::new(transposed))
        } else {
            let tensor = Tensor::from_data(TensorData::new(transposed, [inputs, out]), device);
            DenseWeight::Tensor(Box::new(tensor))
        };
        Self { weight, bias: Tensor::from_data(TensorData::new(bias, [out]), device) }
    }

    /// Weights and biases.
    pub fn parameters(&self) -> usize {
        let weight = match &self.weight {
            DenseWeight::Tensor(w) => w.dims().iter().product(),
            DenseWeight::Host(w) => w.len(),
        };
        weight + self.bias.dims()[0]
    }

    /// On the CPU backend, the weight `[in, out]` in place.
    pub fn host_weight(&self) -> Option<&[f32]> {
        match &self.weight {
            DenseWeight::Host(w) => Some(w),
            DenseWeight::Tensor(_) => None,
        }
    }

    /// The weight `[in, out]`, row-major: in place on the CPU backend, read back from a GPU.
    pub async fn weight_values(&self) -> crate::error::Result<std::borrow::Cow<'_, [f32]>> {
        match &self.weight {
            DenseWeight::Host(w) => Ok(std::borrow::Cow::Borrowed(w)),
            DenseWeight::Tensor(t) => {
                Ok(crate::extract::read_f32(t.as_ref().clone()).await?.into())
            }
        }
    }

    /// `x · Wᵀ`, without the bias.
    pub fn product(&self, x: Tensor<2>) -> Tensor<2> {
        match &self.weight {
            DenseWeight::Tensor(w) => x.matmul(w.as_ref().clone()),
            DenseWeight::Host(w) => {
                use crate::correlation::{Operand, matmul};
                let [n, inputs] = x.dims();
                let out = w.len() / inputs.max(1);
                let x: Vec<f32> = x.into_data().try_into_vec().expect("f32 inputs");
                let y = matmul(Operand::Rows(&x), Operand::Rows(w), n, inputs, out);
                Tensor::from_data(TensorData::new(y, [n, out]), &Device::flex())
            }
        }
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.product(x) + self.bias.clone().unsqueeze_dim(0)
    }
}

#[derive(Debug, Clone)]
pub struct Conv3x3 {
    pub weight: Tensor<4>,
    pub bias: Tensor<1>,
}

/// Image → conv5_3 after ReLU.
#[derive(Debug, Clone)]
pub struct Vgg16Trunk {
    convs: Convs,
}

/// Where the convolutions live.
#[derive(Debug, Clone)]
enum Convs {
    /// Burn's tensors, for its convolutions (GPUs).
    Tensors(Vec<Conv3x3>),
    /// The CPU backend: host arrays that `conv_host` reads in place (Burn's tensors there can
    /// only be copied out, 58 MB per pass).
    Host(Arc<Vec<HostConv>>),
}

impl Vgg16Trunk {
    /// From `(weight [out, in, 3, 3], bias)` pairs, on `device`.
    fn new(convs: Vec<(Vec<f32>, Vec<f32>)>, device: &Device) -> Self {
        if *device == Device::flex() {
            let convs = convs.into_iter().map(|(weight, bias)| HostConv { weight, bias });
            return Self { convs: Convs::Host(Arc::new(convs.collect())) };
        }
        Self::with_tensors(convs, device)
    }

    fn with_tensors(convs: Vec<(Vec<f32>, Vec<f32>)>, device: &Device) -> Self {
        let convs = convs
            .into_iter()
            .map(|(weight, bias)| {
                let out = bias.len();
                let inputs = weight.len() / (9 * out.max(1));
                Conv3x3 {
                    weight: Tensor::from_data(TensorData::new(weight, [out, inputs, 3, 3]), device),
                    bias: Tensor::from_data(TensorData::new(bias, [out]), device),
                }
            })
            .collect();
        Self { convs: Convs::Tensors(convs) }
    }

    /// `x`: `[n, 3, H, W]` normalised → `[n, channels, H/16, W/16]`. On the CPU backend the
    /// convolutions run as direct GEMMs (`src/model/conv_host.rs`), elsewhere as Burn's.
    pub fn forward(&self, mut x: Tensor<4>) -> Tensor<4> {
        let convs = match &self.convs {
            Convs::Host(convs) => return Self::forward_host(convs, x),
            Convs::Tensors(convs) => convs,
        };
        for (i, conv) in convs.iter().enumerate() {
            x = relu(conv2d(
                x,
                conv.weight.clone(),
                Some(conv.bias.clone()),
                ConvOptions::new([1, 1], [1, 1], [1, 1], 1),
            ));
            if POOL_AFTER.contains(&i) {
                x = max_pool2d(x, MaxPoolOptions::new([2, 2]));
            }
        }
        x
    }

    fn forward_host(convs: &[HostConv], x: Tensor<4>) -> Tensor<4> {
        let [n, _, h, w] = x.dims();
        let channels = convs.last().map_or(3, |c| c.bias.len());
        let images: Vec<f32> = x.into_data().try_into_vec().expect("f32 images");
        let (maps, (h, w)) = conv_host::trunk(convs, &POOL_AFTER, &images, n, (h, w));
        Tensor::from_data(TensorData::new(maps, [n, channels, h, w]), &Device::flex())
    }
}

/// conv5_3 → embedding.
#[derive(Debug, Clone)]
pub struct Vgg16Head {
    pub fc6: BlockedLinear,
    pub fc7: Dense,
}

impl Vgg16Head {
    /// The per-channel pooled inputs of fc6: `[n, channels, 7·7]`. Zeroing channel k of A zeroes
    /// exactly row k here, because both pools act per channel.
    pub fn pool(&self, a: Tensor<4>) -> Tensor<3> {
        let [n, c, _, _] = a.dims();
        let pooled = adaptive_avg_pool2d(
            max_pool2d(a, MaxPoolOptions::new([2, 2])),
            [POOLED_SIDE, POOLED_SIDE],
        );
        pooled.reshape([n, c, POSITIONS])
    }

    /// fc6's pre-activation from pooled inputs.
    pub fn fc6_pre(&self, pooled: Tensor<3>) -> Tensor<2> {
        let [n, c, p] = pooled.dims();
        self.fc6.forward(pooled.reshape([n, c * p]))
    }

    /// Everything after fc6's pre-activation: ReLU → fc7 → ReLU.
    pub fn from_fc6_pre(&self, pre: Tensor<2>) -> Tensor<2> {
        relu(self.fc7.forward(relu(pre)))
    }

    pub fn forward(&self, a: Tensor<4>) -> Tensor<2> {
        self.from_fc6_pre(self.fc6_pre(self.pool(a)))
    }
}

/// How the embedding changes under kc removals, on the host: fc7 on the changes of fc6's
/// activations, then ReLU's change at fc7's pre-activation. `weight7`: fc7's `[hidden, out]`
/// row-major; `inner`: fc7's pre-activation of the full pass, `[n, out]`; `hidden_change`:
/// `[kc, n, hidden]` (row (j, i): image i under removal j). Returns `[kc, n, out]`.
///
/// A removal moves few of an image's inactive fc6 units (ReLU's zeros stay zero unless the
/// removal lifts the unit above 0): with generated weights about 40 % of an image's 4096 units
/// are moved by none of 490 removals, with a real network's sparser fc6 more. So per image,
/// only the units some removal moves (fc7's rows for them gathered, a panel at a time so that
/// the copy stays in cache) and the removals that move any unit enter the product; what is left
/// out multiplies exact zeros. A removal that moves nothing changes nothing.
pub fn embedding_change_host(
    weight7: &[f32],
    inner: &[f32],
    hidden_change: &[f32],
    kc: usize,
    n: usize,
) -> Vec<f32> {
    /// fc7 rows per gathered panel: 4 MB, within a core's L2 cache.
    const PANEL: usize = 256;
    let out = inner.len() / n.max(1);
    let hidden = weight7.len() / out.max(1);
    assert_eq!(hidden_change.len(), kc * n * hidden, "[{kc}, {n}, {hidden}] changes");
    // Images in groups, one per core, each with its own buffers; a lone image spreads its
    // product over the cores instead.
    let groups = crate::host::threads().min(n).max(1);
    let parallelism =
        if groups > 1 { gemm::Parallelism::None } else { crate::host::gemm_parallelism() };
    let group_indices: Vec<usize> = (0..groups).collect();
    let products = crate::host::map_items(&group_indices, |&g| {
        let (mut lhs, mut panel) = (Vec::new(), Vec::new());
        let mut done = Vec::new();
        for i in (g..n).step_by(groups) {
            let row = |j: usize| &hidden_change[(j * n + i) * hidden..][..hidden];
            let mut moved = vec![false; hidden];
            let removals: Vec<usize> = (0..kc)
                .filter(|&j| {
                    let mut any = false;
                    for (m, &v) in moved.iter_mut().zip(row(j)) {
                        *m |= v != 0.0;
                        any |= v != 0.0;
                    }
                    any
                })
                .collect();
            let units: Vec<usize> = (0..hidden).filter(|&u| moved[u]).collect();
            let (m, k) = (removals.len(), units.len());
            lhs.clear();
            for &j in &removals {
                let from = row(j);
                lhs.extend(units.iter().map(|&u| from[u]));
            }
            let mut product = vec![0.0f32; m * out];
            for (p, part) in units.chunks(PANEL).enumerate() {
                panel.clear();
                part.iter().for_each(|&u| panel.extend_from_slice(&weight7[u * out..][..out]));
                // SAFETY: product is m×out (strides 1, out); lhs from column p·PANEL is read as
                // m×part.len() (1, k) inside its m×k values; panel is part.len()×out (1, out);
                // nothing aliases product.
                unsafe {
                    crate::host::gemm_into(
                        [m, out, part.len()],
                        product.as_mut_ptr(),
                        out as isize,
                        p > 0,
                        crate::host::Strided {
                            first: lhs.as_ptr().add(p * PANEL),
                            column_stride: 1,
                            row_stride: k as isize,
                        },
                        crate::host::Strided {
                            first: panel.as_ptr(),
                            column_stride: 1,
                            row_stride: out as isize,
                        },
                        parallelism,
                    );
                }
            }
            done.push((i, removals, product));
        }
        done
    });
    // Where removal j's product row of image i is, if it moved anything.
    let mut found: Vec<Option<(usize, usize)>> = vec![None; kc * n];
    for (at, (i, removals, _)) in products.iter().flatten().enumerate() {
        for (r, &j) in removals.iter().enumerate() {
            found[j * n + i] = Some((at, r));
        }
    }
    let products: Vec<&[f32]> = products.iter().flatten().map(|(_, _, p)| p.as_slice()).collect();
    let mut change = vec![0.0f32; kc * n * out];
    let rows = change.chunks_exact_mut(out).zip(&found).enumerate().collect();
    crate::host::for_each_item(rows, |_, (r, (row, at))| {
        if let Some((at, j)) = *at {
            let (i, product) = (r % n, &products[at][j * out..][..out]);
            let base = &inner[i * out..][..out];
            row.iter_mut()
                .zip(base)
                .zip(product)
                .for_each(|((c, &x), &d)| *c = super::relu_change(x, d));
        }
    });
    change
}

/// VGG-16 split at the ablation layer.
#[derive(Debug, Clone)]
pub struct Vgg16 {
    pub spec: Vgg16Spec,
    pub layout: Layout,
    pub trunk: Vgg16Trunk,
    pub head: Vgg16Head,
    pub classifier: Dense,
}

impl Vgg16 {
    /// Builds the network from a weights file's tensors; every tensor must be used.
    pub fn from_weights(mut weights: TensorMap, device: &Device) -> Result<Self> {
        let layout = Layout::detect(&weights)?;
        let spec = Vgg16Spec::from_weights(&weights)?;
        let expected = spec.torchvision_tensors();
        let mut take =
            |i: usize, key: &str, stored: &[&[usize]]| weights.take(key, &expected[i].1, stored);

        let mut convs = Vec::with_capacity(13);
        for (i, key) in CONV_KEYS.iter().enumerate() {
            let weight = take(2 * i, &format!("features.{key}.weight"), &[])?;
            let bias = take(2 * i + 1, &format!("features.{key}.bias"), &[])?;
            convs.push((weight, bias));
        }
        // timm stores fc1 as a 7×7 convolution and fc2 as a 1×1 one: the same values in the same order.
        let [fc6, fc7, fc8] = layout.linear_prefixes();
        let (c, h) = (spec.channels(), spec.hidden);
        let fc6_w = take(26, &format!("{fc6}.weight"), &[&[h, c, POOLED_SIDE, POOLED_SIDE]])?;
        let fc6_b = take(27, &format!("{fc6}.bias"), &[])?;
        let fc7_w = take(28, &format!("{fc7}.weight"), &[&[h, h, 1, 1]])?;
        let fc7_b = take(29, &format!("{fc7}.bias"), &[])?;
        let fc8_w = take(30, &format!("{fc8}.weight"), &[])?;
        let fc8_b = take(31, &format!("{fc8}.bias"), &[])?;
        weights.finish("VGG-16")?;
        Ok(Self {
            layout,
            trunk: Vgg16Trunk::new(convs, device),
            head: Vgg16Head {
                fc6: BlockedLinear::new(&fc6_w, fc6_b, c, POSITIONS, device),
                fc7: Dense::new(&fc7_w, fc7_b, device),
            },
            classifier: Dense::new(&fc8_w, fc8_b, device),
            spec,
        })
    }

    /// The tensors of a generated network (see [`crate::synthetic`]), torchvision keys.
    pub fn synthetic_weights(spec: &Vgg16Spec, seed: u64) -> TensorMap {
        let tensors = spec.torchvision_tensors().into_iter().enumerate().map(
            |(index, (key, shape, fan_in))| {
                let scale = if key.ends_with(".bias") { 0.1 } else { (6.0 / fan_in as f64).sqrt() };
                let values =
                    synthetic::tensor_values(seed, index as u64, shape.iter().product(), scale);
                (key, NamedTensor { shape, values })
            },
        );
        TensorMap::from_tensors(&format!("generated VGG-16 (seed {seed})"), tensors)
            .expect("shapes match values")
    }

    pub fn synthetic(spec: &Vgg16Spec, seed: u64, device: &Device) -> Self {
        Self::from_weights(Self::synthetic_weights(spec, seed), device)
            .expect("generated weights fit their own spec")
    }

    /// Runs the whole network: `(feature maps, embedding, logits)`.
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<4>, Tensor<2>, Tensor<2>) {
        let a = self.trunk.forward(x);
        let e = self.head.forward(a.clone());
        let logits = self.classifier.forward(e.clone());
        (a, e, logits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_embedding_change_equals_the_dense_tensor_path() {
        let device = Device::flex();
        // More moved units than one gathered panel holds (about 400 of 600).
        let (hidden, out) = (600, 45);
        let value = |i: usize, f: f32| (i as f32 * f).sin();
        let weight: Vec<f32> = (0..hidden * out).map(|i| value(i, 0.37) * 0.3).collect();
        let w = Tensor::<2>::from_data(TensorData::new(weight.clone(), [hidden, out]), &device);
        // One image alone (its product spread over the cores), then several.
        for (kc, n) in [(5, 1), (6, 3)] {
            let inner: Vec<f32> = (0..n * out).map(|i| value(i, 0.91)).collect();
            // Units no removal moves in some image, removals that move nothing, exact zeros.
            let changes: Vec<f32> = (0..kc * n * hidden)
                .map(|i| {
                    let (j, rest) = (i / (n * hidden), i % (n * hidden));
                    let (image, unit) = (rest / hidden, rest % hidden);
                    let still = (unit + image) % 3 == 0 || j == 2 || i % 11 == 0;
                    if still { 0.0 } else { value(i, 0.53) }
                })
                .collect();
            let got = embedding_change_host(&weight, &inner, &changes, kc, n);
            let product =
                Tensor::<3>::from_data(TensorData::new(changes, [kc, n, hidden]), &device)
                    .matmul(w.clone().unsqueeze_dim::<3>(0));
            let base = Tensor::<2>::from_data(TensorData::new(inner, [n, out]), &device);
            let want: Vec<f32> = crate::model::activation_change(
                base.unsqueeze_dim::<3>(0).expand([kc, n, out]),
                product,
                None,
            )
            .into_data()
            .try_into_vec()
            .unwrap();
            assert_eq!(got.len(), want.len());
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!((g - w).abs() <= 1e-5, "kc {kc}, n {n}, value {i}: {g} vs {w}");
            }
            let moved = got.iter().filter(|&&v| v != 0.0).count();
            assert!(moved > 0 && moved < got.len(), "some outputs change, some do not");
            assert!(got[2 * n * out..3 * n * out].iter().all(|&v| v == 0.0), "removal 2: none");
        }
    }

    #[test]
    fn the_host_trunk_computes_what_burns_convolutions_do() {
        let device = Device::flex();
        let spec = Vgg16Spec::tiny();
        let (mut weights, shapes) =
            (Vgg16::synthetic_weights(&spec, 3), spec.torchvision_tensors());
        let mut take = |i: usize| weights.take(&shapes[i].0, &shapes[i].1, &[]).unwrap();
        let convs: Vec<(Vec<f32>, Vec<f32>)> =
            (0..CONV_KEYS.len()).map(|i| (take(2 * i), take(2 * i + 1))).collect();
        let host = Vgg16Trunk::new(convs.clone(), &device);
        assert!(matches!(host.convs, Convs::Host(_)), "the CPU backend keeps them on the host");
        let burn = Vgg16Trunk::with_tensors(convs, &device);
        // Odd sides: every pool floors, and the border columns meet the next row. One image
        // alone, one per group, and groups whose small layers take several images at once.
        let (h, w) = (37, 45);
        for n in [1, 2, 5] {
            let values: Vec<f32> = (0..n * 3 * h * w).map(|i| (i as f32 * 0.013).sin()).collect();
            let x = Tensor::<4>::from_data(TensorData::new(values, [n, 3, h, w]), &device);
            let got = host.forward(x.clone());
            let want = burn.forward(x);
            assert_eq!(got.dims(), want.dims());
            let got: Vec<f32> = got.into_data().try_into_vec().unwrap();
            let want: Vec<f32> = want.into_data().try_into_vec().unwrap();
            let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            assert!(scale > 0.0 && want.contains(&0.0), "ReLU active and inactive");
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!((g - w).abs() <= 1e-5 * scale, "{n} images, value {i}: {g} vs {w}");
            }
        }
    }
}
