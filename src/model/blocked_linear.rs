//! A fully connected layer whose input features come in per-channel groups and whose weight is
//! stored in row blocks small enough for any WebGPU adapter.
//!
//! WebGPU guarantees only 128 MiB per storage binding, and VGG-16's fc6 weight is 411 MB in f32,
//! so the transposed weight `[in, out]` is kept as blocks of whole channels (`in = channels ·
//! positions`). The same blocks serve the exact ablation: the rows of channel k are the rank-49
//! update that removing k subtracts from the pre-activation.

use burn::prelude::*;

/// Largest weight block, in bytes: WebGPU's guaranteed `maxStorageBufferBindingSize`.
pub const MAX_BLOCK_BYTES: usize = 128 << 20;

#[derive(Debug, Clone)]
pub struct BlockedLinear {
    /// Transposed weight in row blocks: block b holds rows `[b·channels_per_block·positions, …)`,
    /// each `[block_channels · positions, out]`.
    pub blocks: Vec<Tensor<2>>,
    pub bias: Tensor<1>,
    pub channels: usize,
    pub positions: usize,
    pub channels_per_block: usize,
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
        let inputs = channels * positions;
        let out = bias.len();
        assert_eq!(weight.len(), out * inputs, "weight shape checked by the loader");
        let per_channel_bytes = positions * out * 4;
        let max_channels = (MAX_BLOCK_BYTES / per_channel_bytes).clamp(1, channels);
        let block_count = channels.div_ceil(max_channels);
        let channels_per_block = channels.div_ceil(block_count);
        let transposed = transpose(weight, out, inputs);
        let blocks = (0..channels)
            .step_by(channels_per_block)
            .map(|c0| {
                let c1 = (c0 + channels_per_block).min(channels);
                let rows = (c1 - c0) * positions;
                let slice = transposed[c0 * positions * out..c1 * positions * out].to_vec();
                Tensor::<2>::from_data(TensorData::new(slice, [rows, out]), device)
            })
            .collect();
        Self {
            blocks,
            bias: Tensor::from_data(TensorData::new(bias, [out]), device),
            channels,
            positions,
            channels_per_block,
        }
    }

    /// The rows of the given channels, `[channels.len(), positions, out]`, in the order given
    /// (gathered block by block, then put back in that order: selection visits channels by
    /// rank, not by index).
    pub fn channel_rows(&self, channels: &[usize]) -> Tensor<3> {
        let out = self.out_features();
        let device = self.bias.device();
        let block_of = |k: usize| k / self.channels_per_block;
        // Where each requested channel lands in the block-by-block gather.
        let mut gathered: Vec<usize> = (0..channels.len()).collect();
        gathered.sort_by_key(|&j| block_of(channels[j]));
        let mut position = vec![0i64; channels.len()];
        gathered.iter().enumerate().for_each(|(at, &j)| position[j] = at as i64);
        let parts: Vec<Tensor<3>> = self
            .blocks
            .iter()
            .enumerate()
            .filter_map(|(b, block)| {
                let first = b * self.channels_per_block;
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
    /// weight rows, `[kc, n, out]`. Runs of consecutive channels multiply a block's rows in
    /// place; only channels out of ascending order gather them (a gather copies the weights,
    /// 411 MB for all of VGG-16's fc6).
    pub fn channel_terms(&self, rows: Tensor<3>, channels: &[usize]) -> Tensor<3> {
        let (out, positions) = (self.out_features(), self.positions);
        let ascending = channels.windows(2).all(|w| w[0] < w[1]);
        if !ascending {
            return rows.matmul(self.channel_rows(channels));
        }
        let mut parts = Vec::new();
        let mut j = 0;
        while j < channels.len() {
            let b = channels[j] / self.channels_per_block;
            let first = b * self.channels_per_block;
            let run = 1 + channels[j..]
                .windows(2)
                .take_while(|w| w[1] == w[0] + 1 && w[1] / self.channels_per_block == b)
                .count();
            let count = self.blocks[b].dims()[0] / positions;
            let weights = self.blocks[b].clone().reshape([count, positions, out]).narrow(
                0,
                channels[j] - first,
                run,
            );
            parts.push(rows.clone().narrow(0, j, run).matmul(weights));
            j += run;
        }
        Tensor::cat(parts, 0)
    }

    /// The layer in f64 on the host, from f32 inputs `[n, channels · positions]` row-major and
    /// the f32 weights, a slice of rows at a time (one small buffer, reused, instead of a fresh
    /// 128 MB read-back per block): `[n, out]`, exact up to f64's rounding.
    pub async fn forward_f64(&self, inputs: &[f32]) -> crate::error::Result<Vec<f64>> {
        const SLICE_ROWS: usize = 512;
        let out = self.out_features();
        let width = self.channels * self.positions;
        let n = inputs.len() / width;
        let bias = crate::extract::read_f32(self.bias.clone()).await?;
        let mut result: Vec<f64> = (0..n * out).map(|j| f64::from(bias[j % out])).collect();
        let mut first = 0;
        for block in &self.blocks {
            let block_rows = block.dims()[0];
            for r0 in (0..block_rows).step_by(SLICE_ROWS) {
                let rows = SLICE_ROWS.min(block_rows - r0);
                let weight = crate::extract::read_f32(block.clone().narrow(0, r0, rows)).await?;
                let x: Vec<f32> = inputs
                    .chunks_exact(width)
                    .flat_map(|row| &row[first..first + rows])
                    .copied()
                    .collect();
                let part = crate::correlation::matmul_f32_weights(&x, &weight, n, rows, out);
                result.iter_mut().zip(&part).for_each(|(r, p)| *r += p);
                first += rows;
            }
        }
        Ok(result)
    }

    pub fn out_features(&self) -> usize {
        self.bias.dims()[0]
    }

    /// `x`: `[n, channels · positions]` → `[n, out]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let n = x.dims()[0];
        let rows_per_block = self.channels_per_block * self.positions;
        let mut total: Option<Tensor<2>> = None;
        for (b, block) in self.blocks.iter().enumerate() {
            let rows = block.dims()[0];
            let part = x
                .clone()
                .slice([0..n, b * rows_per_block..b * rows_per_block + rows])
                .matmul(block.clone());
            total = Some(match total {
                Some(t) => t + part,
                None => part,
            });
        }
        total.expect("at least one block") + self.bias.clone().unsqueeze_dim(0)
    }
}

/// Row-major `[rows, cols]` → `[cols, rows]`, in cache-sized tiles.
fn transpose(m: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    const TILE: usize = 64;
    let mut out = vec![0.0; m.len()];
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            for r in r0..(r0 + TILE).min(rows) {
                for c in c0..(c0 + TILE).min(cols) {
                    out[c * rows + r] = m[r * cols + c];
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_moves_every_element() {
        let m: Vec<f32> = (0..6 * 130).map(|v| v as f32).collect();
        let t = transpose(&m, 6, 130);
        for r in 0..6 {
            for c in 0..130 {
                assert_eq!(t[c * 6 + r], m[r * 130 + c]);
            }
        }
    }

    #[test]
    fn blocked_forward_equals_a_plain_product() {
        let device = Device::flex();
        let (channels, positions, out) = (5, 3, 4);
        let weight: Vec<f32> =
            (0..out * channels * positions).map(|v| ((v * 7 % 11) as f32 - 5.0) / 3.0).collect();
        let bias = vec![0.5, -0.25, 1.0, 0.0];
        let x: Vec<f32> = (0..2 * channels * positions).map(|v| (v as f32 * 0.37).sin()).collect();
        let mut layer = BlockedLinear::new(&weight, bias.clone(), channels, positions, &device);
        // Force several blocks, as VGG-16's fc6 gets on a real adapter.
        let full = layer.blocks.remove(0);
        layer.channels_per_block = 2;
        layer.blocks = (0..channels)
            .step_by(2)
            .map(|c0| {
                let c1 = (c0 + 2).min(channels);
                full.clone().slice([c0 * positions..c1 * positions, 0..out])
            })
            .collect();
        // Rows of channels asked for out of order, across blocks, come back in that order.
        let order = [4, 1, 0, 3];
        let rows: Vec<f32> = layer.channel_rows(&order).into_data().try_to_vec().unwrap();
        for (j, &k) in order.iter().enumerate() {
            for p in 0..positions {
                for o in 0..out {
                    let want = weight[o * channels * positions + k * positions + p];
                    assert_eq!(rows[(j * positions + p) * out + o], want, "channel {k}");
                }
            }
        }
        // Removal terms, in place for ascending runs, gathered otherwise: as the gathered rows.
        for chunk in [vec![0, 1, 2, 4], vec![0, 2, 3], vec![1], vec![3, 0, 4]] {
            let kc = chunk.len();
            let rows: Vec<f32> = (0..kc * 2 * positions).map(|v| (v as f32 * 0.53).cos()).collect();
            let rows = Tensor::<3>::from_data(TensorData::new(rows, [kc, 2, positions]), &device);
            let got: Vec<f32> =
                layer.channel_terms(rows.clone(), &chunk).into_data().try_to_vec().unwrap();
            let want: Vec<f32> =
                rows.matmul(layer.channel_rows(&chunk)).into_data().try_to_vec().unwrap();
            assert_eq!(got, want, "chunk {chunk:?}");
        }
        let exact = pollster::block_on(layer.forward_f64(&x)).unwrap();
        let got = layer.forward(Tensor::from_data(
            TensorData::new(x.clone(), [2, channels * positions]),
            &device,
        ));
        let got: Vec<f32> = got.into_data().try_to_vec().unwrap();
        for i in 0..2 {
            for o in 0..out {
                let want: f32 = bias[o]
                    + (0..channels * positions)
                        .map(|j| {
                            x[i * channels * positions + j] * weight[o * channels * positions + j]
                        })
                        .sum::<f32>();
                assert!(
                    (got[i * out + o] - want).abs() < 1e-5,
                    "{i},{o}: {} vs {want}",
                    got[i * out + o]
                );
                assert!((exact[i * out + o] - f64::from(want)).abs() < 1e-5);
            }
        }
    }
}
