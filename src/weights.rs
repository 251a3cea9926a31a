//! Weight files: safetensors (f32, f16, bf16, f64) from bytes or a file, natively also PyTorch
//! checkpoints (`.pth`, zip or legacy pickle). A weights file is untrusted input: sizes and
//! offsets are validated by the parsers before anything is allocated, and every problem is an
//! error naming the file and the tensor.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// A tensor ready to write: name, shape, little-endian bytes.
type EncodedTensor = (String, Vec<usize>, Vec<u8>);

/// Storage precision of a written safetensors file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoredDtype {
    F32,
    F16,
    BF16,
}

impl std::str::FromStr for StoredDtype {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "f32" | "float32" => Ok(Self::F32),
            "f16" | "float16" | "half" => Ok(Self::F16),
            "bf16" | "bfloat16" => Ok(Self::BF16),
            other => {
                Err(Error::Invalid(format!("unknown dtype '{other}': expected f32, f16 or bf16")))
            }
        }
    }
}

/// One tensor of a weights file, widened to f32.
#[derive(Clone, Debug)]
pub struct NamedTensor {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// The tensors of one weights file by key, consumed by a model loader with [`TensorMap::take`].
#[derive(Debug)]
pub struct TensorMap {
    source: String,
    tensors: BTreeMap<String, NamedTensor>,
}

/// Prefixes that wrappers add around a state dict (`torch.save({'state_dict': …})`,
/// `nn.DataParallel`); stripped so that the model's own key names remain.
const WRAPPER_PREFIXES: [&str; 3] = ["state_dict.", "model.", "module."];

fn strip_wrappers(mut key: &str) -> &str {
    while let Some(rest) = WRAPPER_PREFIXES.iter().find_map(|p| key.strip_prefix(p)) {
        key = rest;
    }
    key
}

fn widen(source: &str, key: &str, bytes: &[u8], dtype: &str) -> Result<Vec<f32>> {
    let chunked = |size: usize| {
        if !bytes.len().is_multiple_of(size) {
            return Err(Error::weights(
                source,
                format!(
                    "tensor '{key}': {} bytes is not a whole number of {dtype} values",
                    bytes.len()
                ),
            ));
        }
        Ok(bytes.chunks_exact(size))
    };
    Ok(match dtype {
        "f32" => chunked(4)?.map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect(),
        "f64" => chunked(8)?.map(|b| f64::from_le_bytes(b.try_into().unwrap()) as f32).collect(),
        "f16" => {
            chunked(2)?.map(|b| half::f16::from_le_bytes(b.try_into().unwrap()).to_f32()).collect()
        }
        "bf16" => {
            chunked(2)?.map(|b| half::bf16::from_le_bytes(b.try_into().unwrap()).to_f32()).collect()
        }
        other => {
            return Err(Error::weights(
                source,
                format!(
                    "tensor '{key}' is stored as {other}; expected a floating-point type (f32, f16, bf16 or f64)"
                ),
            ));
        }
    })
}

impl TensorMap {
    /// Reads a safetensors file held in memory (the browser hands over bytes).
    pub fn from_safetensors(source: &str, bytes: &[u8]) -> Result<Self> {
        let parsed = safetensors::SafeTensors::deserialize(bytes).map_err(|e| {
            Error::weights(source, format!("not a valid safetensors file ({e}); expected an 8-byte little-endian header length, then a JSON header of that length, then the tensor data (a truncated download or a file of another format?)"))
        })?;
        let mut tensors = BTreeMap::new();
        for (key, view) in parsed.tensors() {
            use safetensors::Dtype;
            let dtype = match view.dtype() {
                Dtype::F32 => "f32",
                Dtype::F64 => "f64",
                Dtype::F16 => "f16",
                Dtype::BF16 => "bf16",
                other => {
                    return Err(Error::weights(
                        source,
                        format!(
                            "tensor '{key}' is stored as {other:?}; expected a floating-point type"
                        ),
                    ));
                }
            };
            let values = widen(source, &key, view.data(), dtype)?;
            insert(
                &mut tensors,
                source,
                &key,
                NamedTensor { shape: view.shape().to_vec(), values },
            )?;
        }
        Ok(Self { source: source.to_string(), tensors })
    }

    /// Reads a PyTorch checkpoint (`torch.save` of a state dict, zip or legacy format).
    #[cfg(not(target_family = "wasm"))]
    pub fn from_pytorch(path: &std::path::Path) -> Result<Self> {
        use pytorch_reader::DType;
        let source = path.display().to_string();
        let reader = pytorch_reader::PytorchReader::new(path).map_err(|e| {
            Error::weights(&source, format!("not a readable PyTorch checkpoint: {e}"))
        })?;
        let mut tensors = BTreeMap::new();
        for (key, tensor) in reader.into_tensors() {
            let dtype = match tensor.dtype() {
                DType::F32 => "f32",
                DType::F64 => "f64",
                DType::F16 => "f16",
                DType::BF16 => "bf16",
                // Integer buffers (e.g. BatchNorm's num_batches_tracked) carry no weights.
                _ => continue,
            };
            let bytes = tensor.read().map_err(|e| Error::weights(&source, e.to_string()))?;
            let values = widen(&source, &key, &bytes, dtype)?;
            insert(
                &mut tensors,
                &source,
                &key,
                NamedTensor { shape: tensor.shape().to_vec(), values },
            )?;
        }
        Ok(Self { source, tensors })
    }

    /// Reads a weights file: safetensors when its name ends in `.safetensors` or its content
    /// looks so, PyTorch otherwise.
    #[cfg(not(target_family = "wasm"))]
    pub fn from_file(path: &std::path::Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let named = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("safetensors"));
        if named || looks_like_safetensors(&bytes) {
            Self::from_safetensors(&path.display().to_string(), &bytes)
        } else {
            drop(bytes);
            Self::from_pytorch(path)
        }
    }

    /// Builds a map from tensors already in memory (generated networks, tests).
    pub fn from_tensors(
        source: &str,
        tensors: impl IntoIterator<Item = (String, NamedTensor)>,
    ) -> Result<Self> {
        let mut map = BTreeMap::new();
        for (key, tensor) in tensors {
            if tensor.shape.iter().product::<usize>() != tensor.values.len() {
                return Err(Error::weights(
                    source,
                    format!(
                        "tensor '{key}': shape {:?} does not hold {} values",
                        tensor.shape,
                        tensor.values.len()
                    ),
                ));
            }
            insert(&mut map, source, &key, tensor)?;
        }
        Ok(Self { source: source.to_string(), tensors: map })
    }

    /// Adds or replaces a tensor.
    pub fn insert(&mut self, key: &str, tensor: NamedTensor) {
        self.tensors.insert(key.to_string(), tensor);
    }

    /// Where the tensors came from, for messages.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn contains(&self, key: &str) -> bool {
        self.tensors.contains_key(key)
    }

    pub fn shape(&self, key: &str) -> Option<&[usize]> {
        self.tensors.get(key).map(|t| t.shape.as_slice())
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    /// Removes a tensor whose shape must be `expected`; `stored` lists shapes that hold the
    /// same values in the same order under another layout (timm's `fc1` as 4096×512×7×7).
    pub fn take(&mut self, key: &str, expected: &[usize], stored: &[&[usize]]) -> Result<Vec<f32>> {
        let Some(tensor) = self.tensors.remove(key) else {
            return Err(Error::weights(
                &self.source,
                format!("missing tensor '{key}' (expected shape {expected:?})"),
            ));
        };
        if tensor.shape != expected && !stored.contains(&tensor.shape.as_slice()) {
            let message =
                format!("tensor '{key}' has shape {:?}, expected {expected:?}", tensor.shape);
            self.tensors.insert(key.to_string(), tensor);
            return Err(Error::weights(&self.source, message));
        }
        Ok(tensor.values)
    }

    /// Fails when tensors are left that the model did not use.
    pub fn finish(self, model: &str) -> Result<()> {
        if self.tensors.is_empty() {
            return Ok(());
        }
        let extra: Vec<String> =
            self.tensors.iter().take(8).map(|(k, t)| format!("'{k}' {:?}", t.shape)).collect();
        Err(Error::weights(
            &self.source,
            format!(
                "{} tensor(s) that are not part of {model}: {}{}",
                self.tensors.len(),
                extra.join(", "),
                if self.tensors.len() > 8 { ", …" } else { "" }
            ),
        ))
    }

    /// A control network: every tensor's values randomly permuted within the tensor (shapes,
    /// value distributions and key names kept; all learned structure destroyed).
    pub fn shuffled(mut self, seed: u64) -> Self {
        for (index, tensor) in self.tensors.values_mut().enumerate() {
            let draws =
                crate::synthetic::tensor_values(seed, index as u64, tensor.values.len(), 1.0);
            // Fisher–Yates with the generator's uniform draws in [-1, 1).
            for i in (1..tensor.values.len()).rev() {
                let u = (draws[i] as f64 + 1.0) / 2.0;
                let j = ((u * (i + 1) as f64) as usize).min(i);
                tensor.values.swap(i, j);
            }
        }
        self.source = format!("{} (shuffled, seed {seed})", self.source);
        self
    }

    /// Writes the tensors as a safetensors file in the given precision.
    pub fn to_safetensors(&self, dtype: StoredDtype) -> Result<Vec<u8>> {
        let (st_dtype, encoded): (safetensors::Dtype, Vec<EncodedTensor>) = match dtype {
            StoredDtype::F32 => {
                (safetensors::Dtype::F32, self.encode(|v| v.to_le_bytes().to_vec()))
            }
            StoredDtype::F16 => (
                safetensors::Dtype::F16,
                self.encode(|v| half::f16::from_f32(v).to_le_bytes().to_vec()),
            ),
            StoredDtype::BF16 => (
                safetensors::Dtype::BF16,
                self.encode(|v| half::bf16::from_f32(v).to_le_bytes().to_vec()),
            ),
        };
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = encoded
            .iter()
            .map(|(k, shape, bytes)| {
                let view = safetensors::tensor::TensorView::new(st_dtype, shape.clone(), bytes)
                    .map_err(|e| Error::weights(&self.source, format!("tensor '{k}': {e}")))?;
                Ok((k.clone(), view))
            })
            .collect::<Result<_>>()?;
        safetensors::serialize(views, None).map_err(|e| Error::weights(&self.source, e.to_string()))
    }

    fn encode(&self, one: impl Fn(f32) -> Vec<u8>) -> Vec<(String, Vec<usize>, Vec<u8>)> {
        self.tensors
            .iter()
            .map(|(k, t)| {
                (k.clone(), t.shape.clone(), t.values.iter().flat_map(|&v| one(v)).collect())
            })
            .collect()
    }
}

fn insert(
    map: &mut BTreeMap<String, NamedTensor>,
    source: &str,
    key: &str,
    tensor: NamedTensor,
) -> Result<()> {
    let key = strip_wrappers(key);
    if map.insert(key.to_string(), tensor).is_some() {
        return Err(Error::weights(
            source,
            format!("tensor '{key}' appears twice (after removing wrapper prefixes)"),
        ));
    }
    Ok(())
}

/// A safetensors file starts with a little-endian u64 header length and a JSON object.
pub fn looks_like_safetensors(bytes: &[u8]) -> bool {
    bytes.len() > 9 && bytes[8] == b'{'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TensorMap {
        TensorMap::from_tensors(
            "sample",
            [
                (
                    "module.a".to_string(),
                    NamedTensor {
                        shape: vec![2, 3],
                        values: vec![0.5, -1.0, 2.0, 3.25, 0.0, 1e-3],
                    },
                ),
                ("b".to_string(), NamedTensor { shape: vec![1], values: vec![7.0] }),
            ],
        )
        .unwrap()
    }

    #[test]
    fn round_trips_through_every_stored_dtype() {
        for dtype in [StoredDtype::F32, StoredDtype::F16, StoredDtype::BF16] {
            let bytes = sample().to_safetensors(dtype).unwrap();
            let mut back = TensorMap::from_safetensors("x", &bytes).unwrap();
            let a = back.take("a", &[2, 3], &[]).unwrap();
            let tol = match dtype {
                StoredDtype::F32 => 0.0,
                StoredDtype::F16 => 1e-3,
                StoredDtype::BF16 => 1e-2,
            };
            for (x, y) in a.iter().zip([0.5, -1.0, 2.0, 3.25, 0.0, 1e-3]) {
                assert!((x - y).abs() <= tol * y.abs().max(1.0), "{dtype:?}: {x} vs {y}");
            }
            assert_eq!(back.take("b", &[1], &[]).unwrap(), vec![7.0]);
            back.finish("test").unwrap();
        }
    }

    #[test]
    fn shuffling_permutes_values_within_each_tensor() {
        let mut shuffled = sample().shuffled(3);
        let mut a = shuffled.take("a", &[2, 3], &[]).unwrap();
        assert_ne!(a, vec![0.5, -1.0, 2.0, 3.25, 0.0, 1e-3]);
        a.sort_by(f32::total_cmp);
        assert_eq!(a, vec![-1.0, 0.0, 1e-3, 0.5, 2.0, 3.25]);
    }

    #[test]
    fn shape_and_key_errors_name_the_key_and_both_shapes() {
        let mut map = sample();
        let e = map.take("a", &[3, 2], &[]).unwrap_err().to_string();
        assert!(e.contains("'a'") && e.contains("[2, 3]") && e.contains("[3, 2]"), "{e}");
        let e = map.take("c", &[4], &[]).unwrap_err().to_string();
        assert!(e.contains("missing tensor 'c'") && e.contains("[4]"), "{e}");
        let e = map.finish("net").unwrap_err().to_string();
        assert!(e.contains("'a'") && e.contains("'b'") && e.contains("not part of net"), "{e}");
    }

    #[test]
    fn truncated_and_hostile_files_are_errors() {
        let bytes = sample().to_safetensors(StoredDtype::F32).unwrap();
        for cut in [0, 5, 9, bytes.len() / 2, bytes.len() - 1] {
            assert!(TensorMap::from_safetensors("cut", &bytes[..cut]).is_err(), "cut at {cut}");
        }
        // A header that claims 2^60 bytes must be refused without allocating it.
        let mut hostile = (1u64 << 60).to_le_bytes().to_vec();
        hostile.extend_from_slice(b"{}");
        let e = TensorMap::from_safetensors("hostile", &hostile).unwrap_err().to_string();
        assert!(e.starts_with("hostile:"), "{e}");
        // A header whose tensor claims more data than the file holds.
        let header =
            br#"{"w":{"dtype":"F32","shape":[100000000000],"data_offsets":[0,400000000000]}}"#;
        let mut lying = (header.len() as u64).to_le_bytes().to_vec();
        lying.extend_from_slice(header);
        assert!(TensorMap::from_safetensors("lying", &lying).is_err());
    }

    #[test]
    #[cfg(not(target_family = "wasm"))]
    fn a_broken_safetensors_file_gets_a_safetensors_message() {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in
            [("empty.safetensors", &b""[..]), ("text.SafeTensors", b"not json at all")]
        {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let e = TensorMap::from_file(&path).unwrap_err().to_string();
            assert!(e.starts_with(&path.display().to_string()), "{e}");
            assert!(
                e.contains("not a valid safetensors file")
                    && e.contains("8-byte little-endian header length")
                    && e.contains("JSON header")
                    && !e.contains("PyTorch"),
                "{e}"
            );
        }
    }

    #[test]
    fn integer_tensors_are_refused_with_their_key() {
        let header = br#"{"idx":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#;
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header);
        bytes.extend_from_slice(&[0; 8]);
        let e = TensorMap::from_safetensors("ints", &bytes).unwrap_err().to_string();
        assert!(e.contains("'idx'") && e.contains("I64"), "{e}");
    }
}
