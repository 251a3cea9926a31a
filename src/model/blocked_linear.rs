//! A fully connected layer whose input features come in per-channel groups and whose weight is
//! stored in row blocks small enough for any WebGPU adapter, or whole in the CPU's memory.
//!
//! WebGPU guarantees only 128 MiB per storage binding, and VGG-16's fc6 weight is 411 MB in f32,
//! so on a GPU the transposed weight `[in, out]` is kept as blocks of whole channels (`in =
//! channels · positions`). On the CPU backend it is one host array that our kernels read in
//! place (Burn's tensors there cannot be borrowed, only copied out). Either way the rows of
//! channel k are the rank-49 update that removing k subtracts from the pre-activation.

use std::sync::Arc;

use burn::prelude::*;

/// Largest weight block, in bytes: WebGPU's guaranteed `maxStorageBufferBindingSize`.
pub const MAX_BLOCK_BYTES: usize = 128 << 20;

#[derive(Debug, Clone)]
pub struct BlockedLinear {
    weight: Weight,
    pub bias: Tensor<1>,
    pub channels: usize,
    pub positions: usize,
}

/// Where the transposed weight `[channels · positions, out]` lives.
#[derive(Clone)]
enum Weight {
    /// On a GPU: row blocks of `channels_per_block` whole channels each (the last may hold
    /// fewer).
    Blocks { blocks: Vec<Tensor<2>>, channels_per_block: usize },
    /// On the CPU backend: the whole weight, row-major.
    Host(Arc<Vec<f32>>),
}

/// The sizes only: a network's Debug should not print millions of weights.
impl std::fmt::Debug for Weight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Blocks { blocks, channels_per_block } => f
                .debug_struct("Blocks")
                .field("shapes", &blocks.iter().map(|b| b.dims()).collect::<Vec<_>>())
                .field("channels_per_block", channels_per_block)
                .finish(),
            Self::Host(weight) => write!(f, "Host({} values)", weight.len()),
        }
    }
}

impl BlockedLinear {
    /// `weight` is PyTorch's `[out, channels · positions]`, row-major.
    pub fn new(
        weight: &[f32],
        bias: Vec<f32>,
        channels: usize,
        positions: usize,
        device: &Device,
    ) -> Self {
        let max_channels = MAX_BLOCK_BYTES / (positions * bias.len() * 4).max(1);
        let host = *device == Device::flex();
        Self::with_blocks(
            weight,
            bias,
            channels,
            positions,
            (!host).then_some(max_channels),
            device,
        )
    }

    /// As [`BlockedLinear::new`], in blocks of at most `max_channels` channels, or on the host
    /// with `None`.
    fn with_blocks(
        weight: &[f32],
        bias: Vec<f32>,
        channels: usize,
        positions: usize,
        max_channels: Option<usize>,
        device: &Device,
    ) -> Self {
        let inputs = channels * positions;
        let out = bias.len();
        assert_eq!(weight.len(), out * inputs, "weight shape checked by the loader");
        let transposed = crate::host::transpose(weight, out, inputs);
        let weight = match max_channels {
            None => Weight::Host(Arc::new(transposed)),
            Some(max_channels) => {
                let block_count = channels.div_ceil(max_channels.clamp(1, channels));
                let channels_per_block = channels.div_ceil(block_count);
                let blocks = (0..channels)
                    .step_by(channels_per_block)
                    .map(|c0| {
                        let c1 = (c0 + channels_per_block).min(channels);
                        let rows = (c1 - c0) * positions;
                        let slice = transposed[c0 * positions * out..c1 * positions * out].to_vec();
                        Tensor::<2>::from_data(TensorData::new(slice, [rows, out]), device)
                    })
                    .collect();
                Weight::Blocks { blocks, channels_per_block }
            }
        };
        Self {
            weight,
            bias: Tensor::from_data(TensorData::new(bias, [out]), device),
            channels,
            positions,
        }
    }

    pub fn out_features(&self) -> usize {
        self.bias.dims()[0]
    }

    /// The rows of the given channels, `[channels.len(), positions, out]`, in the order given
    /// (gathered block by block, then put back in that order: selection visits channels by
    /// rank, not by index).
    fn channel_rows(
        &self,
        blocks: &[Tensor<2>],
        per_block: usize,
        channels: &[usize],
    ) -> Tensor<3> {
        let out = self.out_features();
        let device = self.bias.device();
        let block_of = |k: usize| k / per_block;
        // Where each requested channel lands in the block-by-block gather.
        let mut gathered: Vec<usize> = (0..channels.len()).collect();
        gathered.sort_by_key(|&j| block_of(channels[j]));
        let mut position = vec![0i64; channels.len()];
        gathered.iter().enumerate().for_each(|(at, &j)| position[j] = at as i64);
        let parts: Vec<Tensor<3>> = blocks
            .iter()
            .enumerate()
            .filter_map(|(b, block)| {
                let first = b * per_block;
                let count = block.dims()[0] / self.positions;
                let local: Vec<i64> = channels
                    .iter()
                    .filter(|&&k| k >= first && k < first + count)
                    .map(|&k| (k - first) as i64)
                    .collect();
                (!local.is_empty()).then(|| {
                    let index = Tensor::<1, Int>::from_data(
                        TensorData::new(local.clone(), [local.len()]),
                        &device,
                    );
                    block.clone().reshape([count, self.positions, out]).select(0, index)
                })
            })
            .collect();
        let rows = Tensor::cat(parts, 0);
        if gathered.windows(2).all(|w| w[0] < w[1]) {
            return rows;
        }
        let index =
            Tensor::<1, Int>::from_data(TensorData::new(position, [channels.len()]), &device);
        rows.select(0, index)
    }

    /// What removing each channel of `channels` subtracts from the layer's output: `rows`
    /// `[kc, n, positions]` (channel `channels[j]`'s inputs in row j) times that channel's
    /// weight rows, `[kc, n, out]`. On the host, one kernel per channel reads its rows in
    /// place ([`crate::host::rank_terms`]). In blocks, runs of consecutive channels multiply a
    /// block's rows in place; only channels out of ascending order gather them (a gather
    /// copies the weights, 411 MB for all of VGG-16's fc6).
    pub fn channel_terms(&self, rows: Tensor<3>, channels: &[usize]) -> Tensor<3> {
        let (out, positions) = (self.out_features(), self.positions);
        let [kc, n, _] = rows.dims();
        let (blocks, per_block) = match &self.weight {
            Weight::Host(weight) => {
                let rows: Vec<f32> = rows.into_data().try_into_vec().expect("f32 inputs");
                let mut terms = vec![0.0f32; kc * n * out];
                let items = terms.chunks_exact_mut(n * out).zip(channels).collect();
                crate::host::for_each_item(items, |j, (terms, &k)| {
                    let weight = &weight[k * positions * out..][..positions * out];
                    crate::host::rank_terms(
                        &rows[j * n * positions..][..n * positions],
                        weight,
                        positions,
                        terms,
                    );
                });
                return Tensor::from_data(TensorData::new(terms, [kc, n, out]), &Device::flex());
            }
            Weight::Blocks { blocks, channels_per_block } => (blocks, *channels_per_block),
        };
        let ascending = channels.windows(2).all(|w| w[0] < w[1]);
        if !ascending {
            return rows.matmul(self.channel_rows(blocks, per_block, channels));
        }
        let mut parts = Vec::new();
        let mut j = 0;
        while j < channels.len() {
            let b = channels[j] / per_block;
            let first = b * per_block;
            let run = 1 + channels[j..]
                .windows(2)
                .take_while(|w| w[1] == w[0] + 1 && w[1] / per_block == b)
                .count();
            let count = blocks[b].dims()[0] / positions;
            let weights = blocks[b].clone().reshape([count, positions, out]).narrow(
                0,
                channels[j] - first,
                run,
            );
            parts.push(rows.clone().narrow(0, j, run).matmul(weights));
            j += run;
        }
        if parts.len() == 1 {
            return parts.pop().expect("one part");
        }
        Tensor::cat(parts, 0)
    }

    /// The layer in f64 on the host, from f32 inputs `[n, channels · positions]` row-major and
    /// the f32 weights: `[n, out]`, exact up to f64's rounding. Blocks are read back a slice of
    /// rows at a time (one small buffer, reused, instead of a fresh 128 MB read-back each).
    pub async fn forward_f64(&self, inputs: &[f32]) -> crate::error::Result<Vec<f64>> {
        const SLICE_ROWS: usize = 512;
        let out = self.out_features();
        let width = self.channels * self.positions;
        let n = inputs.len() / width;
        let bias = crate::extract::read_f32(self.bias.clone()).await?;
        let mut result: Vec<f64> = (0..n * out).map(|j| f64::from(bias[j % out])).collect();
        let mut add = |x: &[f32], weight: &[f32], first: usize, rows: usize| {
            let x: Vec<f32> =
                x.chunks_exact(width).flat_map(|row| &row[first..first + rows]).copied().collect();
            let part = crate::correlation::matmul_f32_weights(&x, weight, n, rows, out);
            result.iter_mut().zip(&part).for_each(|(r, p)| *r += p);
        };
        match &self.weight {
            Weight::Host(weight) => add(inputs, weight, 0, width),
            Weight::Blocks { blocks, .. } => {
                let mut first = 0;
                for block in blocks {
                    let block_rows = block.dims()[0];
                    for r0 in (0..block_rows).step_by(SLICE_ROWS) {
                        let rows = SLICE_ROWS.min(block_rows - r0);
                        let weight =
                            crate::extract::read_f32(block.clone().narrow(0, r0, rows)).await?;
                        add(inputs, &weight, first, rows);
                        first += rows;
                    }
                }
            }
        }
        Ok(result)
    }

    /// `x`: `[n, channels · positions]` → `[n, out]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let [n, width] = x.dims();
        let out = self.out_features();
        let blocks = match &self.weight {
            Weight::Host(weight) => {
                use crate::correlation::{Operand, matmul};
                let x: Vec<f32> = x.into_data().try_into_vec().expect("f32 inputs");
                let y = matmul(Operand::Rows(&x), Operand::Rows(weight), n, width, out);
                let y = Tensor::<2>::from_data(TensorData::new(y, [n, out]), &Device::flex());
                return y + self.bias.clone().unsqueeze_dim(0);
            }
            Weight::Blocks { blocks, .. } => blocks,
        };
        let mut total: Option<Tensor<2>> = None;
        let mut first = 0;
        for block in blocks {
            let rows = block.dims()[0];
            let part = x.clone().slice([0..n, first..first + rows]).matmul(block.clone());
            first += rows;
            total = Some(match total {
                Some(t) => t + part,
                None => part,
            });
        }
        total.expect("at least one block") + self.bias.clone().unsqueeze_dim(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_blocked_layers_compute_the_plain_product() {
        let device = Device::flex();
        // 37 outputs cross a tile of the host kernel, 6 images a group of four, 10 positions
        // its eight weight rows at a time.
        let (channels, positions, out, n) = (5, 10, 37, 6);
        let inputs = channels * positions;
        let weight: Vec<f32> =
            (0..out * inputs).map(|v| ((v * 7 % 11) as f32 - 5.0) / 3.0).collect();
        let bias: Vec<f32> = (0..out).map(|o| (o as f32 * 0.3).sin()).collect();
        let x: Vec<f32> = (0..n * inputs).map(|v| (v as f32 * 0.37).sin()).collect();
        let host = BlockedLinear::new(&weight, bias.clone(), channels, positions, &device);
        assert!(matches!(host.weight, Weight::Host(_)), "the CPU backend keeps it on the host");
        // Several blocks, as VGG-16's fc6 gets on a real adapter.
        let blocked = BlockedLinear::with_blocks(
            &weight,
            bias.clone(),
            channels,
            positions,
            Some(2),
            &device,
        );
        let Weight::Blocks { blocks, channels_per_block } = &blocked.weight else {
            panic!("blocks asked for");
        };
        assert_eq!((blocks.len(), *channels_per_block), (3, 2));
        // Rows of channels asked for out of order, across blocks, come back in that order.
        let order = [4, 1, 0, 3];
        let rows: Vec<f32> = blocked
            .channel_rows(blocks, *channels_per_block, &order)
            .into_data()
            .try_to_vec()
            .unwrap();
        for (j, &k) in order.iter().enumerate() {
            for p in 0..positions {
                for o in 0..out {
                    let want = weight[o * inputs + k * positions + p];
                    assert_eq!(rows[(j * positions + p) * out + o], want, "channel {k}");
                }
            }
        }
        // Removal terms: in place for ascending runs, gathered otherwise, and on the host.
        for chunk in [vec![0, 1, 2, 4], vec![0, 2, 3], vec![1], vec![3, 0, 4]] {
            let kc = chunk.len();
            let rows: Vec<f32> = (0..kc * n * positions).map(|v| (v as f32 * 0.53).cos()).collect();
            let tensor =
                Tensor::<3>::from_data(TensorData::new(rows.clone(), [kc, n, positions]), &device);
            for layer in [&host, &blocked] {
                let got: Vec<f32> =
                    layer.channel_terms(tensor.clone(), &chunk).into_data().try_to_vec().unwrap();
                assert_eq!(got.len(), kc * n * out);
                for (j, &k) in chunk.iter().enumerate() {
                    for i in 0..n {
                        for o in 0..out {
                            let want: f32 = (0..positions)
                                .map(|p| {
                                    rows[(j * n + i) * positions + p]
                                        * weight[o * inputs + k * positions + p]
                                })
                                .sum();
                            let got = got[(j * n + i) * out + o];
                            assert!(
                                (got - want).abs() < 1e-5,
                                "chunk {chunk:?}, {j} {i} {o}: {got} vs {want}"
                            );
                        }
                    }
                }
            }
        }
        for layer in [&host, &blocked] {
            let exact = pollster::block_on(layer.forward_f64(&x)).unwrap();
            let got =
                layer.forward(Tensor::from_data(TensorData::new(x.clone(), [n, inputs]), &device));
            let got: Vec<f32> = got.into_data().try_to_vec().unwrap();
            for i in 0..n {
                for o in 0..out {
                    let want: f64 = f64::from(bias[o])
                        + (0..inputs)
                            .map(|j| {
                                f64::from(x[i * inputs + j]) * f64::from(weight[o * inputs + j])
                            })
                            .sum::<f64>();
                    let got = got[i * out + o];
                    assert!((f64::from(got) - want).abs() < 1e-5, "{i},{o}: {got} vs {want}");
                    assert!((exact[i * out + o] - want).abs() < 1e-12, "{i},{o}: f64");
                }
            }
        }
    }
}
