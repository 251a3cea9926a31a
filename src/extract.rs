//! Running a network over a cohort: feature maps, embeddings and logits per image, in the
//! cohort's order, batching images of the same size.

use burn::prelude::*;

use crate::cohort::Prepared;
use crate::error::{Error, Result};
use crate::model::Network;

/// Everything the network says about a cohort, on the host.
#[derive(Clone, Debug, Default)]
pub struct Extracted {
    /// Per image: the feature maps A, `[channels, h, w]` row-major, and their shape.
    pub maps: Vec<(Vec<f32>, [usize; 3])>,
    /// `n × channels × positions`: the network's ablation inputs (the engine's input; see
    /// [`Network::ablation_inputs`]).
    pub inputs: Vec<f32>,
    /// `n × hidden`, row-major.
    pub embeddings: Vec<f32>,
    pub hidden: usize,
    /// `n × classes`, row-major.
    pub logits: Vec<f32>,
    pub classes: usize,
}

impl Extracted {
    pub fn len(&self) -> usize {
        self.maps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.maps.is_empty()
    }

    /// The ablation inputs back on a device, `[n, channels, positions]`.
    pub fn inputs_tensor(&self, channels: usize, device: &Device) -> Tensor<3> {
        let n = self.len();
        Tensor::from_data(
            TensorData::new(self.inputs.clone(), [n, channels, self.inputs.len() / (n * channels)]),
            device,
        )
    }

    /// The shared `[channels, h, w]` of every image's maps, when all inputs had one size.
    pub fn uniform_map_shape(&self) -> Option<[usize; 3]> {
        let first = self.maps.first()?.1;
        self.maps.iter().all(|(_, s)| *s == first).then_some(first)
    }
}

/// Reads a tensor back to the host (asynchronously: the browser cannot block).
pub async fn read_f32<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>> {
    let data = tensor
        .into_data_async()
        .await
        .map_err(|e| Error::Device(format!("reading results back failed: {e:?}")))?;
    data.try_into_vec::<f32>().map_err(|e| Error::Device(format!("unexpected result type: {e:?}")))
}

/// Stacks same-sized prepared images into one `[n, 3, h, w]` input.
pub fn input_batch(images: &[&Prepared], device: &Device) -> Tensor<4> {
    let (h, w) = (images[0].height, images[0].width);
    let mut values = Vec::with_capacity(images.len() * 3 * h * w);
    for image in images {
        values.extend_from_slice(&image.chw);
    }
    Tensor::from_data(TensorData::new(values, [images.len(), 3, h, w]), device)
}

/// Runs the network on every image, `batch` same-sized images at a time; `progress` hears the
/// number of images done.
pub async fn extract(
    net: &Network,
    images: &[Prepared],
    device: &Device,
    batch: usize,
    progress: &mut dyn FnMut(usize),
) -> Result<Extracted> {
    let mut out =
        Extracted { hidden: net.embedding_size(), classes: net.classes(), ..Default::default() };
    let mut start = 0;
    while start < images.len() {
        let size = (images[start].height, images[start].width);
        net.check_input(size.0, size.1)?;
        let mut end = start + 1;
        while end < images.len()
            && end - start < batch.max(1)
            && (images[end].height, images[end].width) == size
        {
            end += 1;
        }
        let group: Vec<&Prepared> = images[start..end].iter().collect();
        let a = net.trunk(input_batch(&group, device));
        let [n, c, h, w] = a.dims();
        let inputs = net.ablation_inputs(a.clone());
        let e = net.embed_from_pre(net.head_pre(inputs.clone()));
        let logits = net.classify(e.clone());
        out.inputs.extend(read_f32(inputs).await?);
        let maps = read_f32(a).await?;
        for chunk in maps.chunks_exact(c * h * w) {
            out.maps.push((chunk.to_vec(), [c, h, w]));
        }
        debug_assert_eq!(out.maps.len(), start + n);
        out.embeddings.extend(read_f32(e).await?);
        out.logits.extend(read_f32(logits).await?);
        start = end;
        progress(end);
    }
    Ok(out)
}
