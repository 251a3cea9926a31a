//! One analysis split between workers that each hold the network and the cohort (the page's pool
//! of workers, each its own WebAssembly instance): the network's outputs for a range of images,
//! joined in image order, and the scores of a range of feature maps, merged with
//! [`AisScores::merge`]; and for a cross-validation, the selection curves of a range of folds. A
//! share crosses between workers as safetensors bytes, so its values
//! arrive exactly as computed (f32 and f64) and a share read back has its header checked.

use std::collections::HashMap;
use std::ops::Range;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::ablation::{AisScores, ChannelGrams};
use crate::error::{Error, Result};
use crate::extract::Extracted;
use crate::scores::Baseline;
use crate::selection::Curves;

/// Images `range` of a cohort through the network: their part of its [`Extracted`].
pub struct ExtractedPart {
    pub range: Range<usize>,
    pub extracted: Extracted,
}

/// The scores of feature maps `range` (the others 0), as [`AisScores::merge`] takes them.
pub struct ScoresShare {
    pub range: Range<usize>,
    pub scores: AisScores,
}

/// Named arrays and scalars on their way into a safetensors file.
#[derive(Default)]
struct Writer {
    arrays: Vec<(String, Dtype, Vec<usize>, Vec<u8>)>,
    scalars: HashMap<String, String>,
}

impl Writer {
    fn f32s(&mut self, name: &str, shape: Vec<usize>, values: &[f32]) {
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.arrays.push((name.into(), Dtype::F32, shape, bytes));
    }

    fn f64s(&mut self, name: &str, shape: Vec<usize>, values: &[f64]) {
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.arrays.push((name.into(), Dtype::F64, shape, bytes));
    }

    /// `value` as text that reads back to the same bits (Rust's shortest round trip).
    fn scalar(&mut self, name: &str, value: impl std::fmt::Debug) {
        self.scalars.insert(name.into(), format!("{value:?}"));
    }

    fn finish(self, what: &str) -> Result<Vec<u8>> {
        let views = self
            .arrays
            .iter()
            .map(|(name, dtype, shape, bytes)| {
                TensorView::new(*dtype, shape.clone(), bytes).map(|view| (name.clone(), view))
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::Invalid(format!("{what}: cannot be written ({e})")))?;
        safetensors::tensor::serialize(views, Some(self.scalars))
            .map_err(|e| Error::Invalid(format!("{what}: cannot be written ({e})")))
    }
}

/// A safetensors file of a share, read back with every array's type and size checked.
struct Reader<'a> {
    what: &'static str,
    file: SafeTensors<'a>,
    scalars: HashMap<String, String>,
}

impl<'a> Reader<'a> {
    fn new(what: &'static str, bytes: &'a [u8]) -> Result<Self> {
        let bad = |e: safetensors::SafeTensorError| {
            Error::Invalid(format!("{what}: not a share this version wrote ({e})"))
        };
        let (_, metadata) = SafeTensors::read_metadata(bytes).map_err(bad)?;
        let scalars = metadata.metadata().clone().unwrap_or_default();
        Ok(Self { what, file: SafeTensors::deserialize(bytes).map_err(bad)?, scalars })
    }

    fn invalid(&self, what: String) -> Error {
        Error::Invalid(format!("{}: {what}", self.what))
    }

    fn scalar<T: std::str::FromStr>(&self, name: &str) -> Result<T> {
        self.scalars
            .get(name)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| self.invalid(format!("no readable {name}")))
    }

    fn array(&self, name: &str, dtype: Dtype, len: usize) -> Result<(Vec<usize>, &'a [u8])> {
        let view = self.file.tensor(name).map_err(|_| self.invalid(format!("no array {name}")))?;
        let count: usize = view.shape().iter().product();
        if view.dtype() != dtype || (len != usize::MAX && count != len) {
            return Err(self.invalid(format!(
                "{name} is {:?} {:?}; expected {len} values of {dtype:?}",
                view.dtype(),
                view.shape()
            )));
        }
        Ok((view.shape().to_vec(), view.data()))
    }

    /// Array `name` of `len` values (`usize::MAX`: any length), with its shape.
    fn f32s(&self, name: &str, len: usize) -> Result<(Vec<usize>, Vec<f32>)> {
        let (shape, data) = self.array(name, Dtype::F32, len)?;
        let values = data.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap()));
        Ok((shape, values.collect()))
    }

    fn f64s(&self, name: &str, len: usize) -> Result<Vec<f64>> {
        let (_, data) = self.array(name, Dtype::F64, len)?;
        Ok(data.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect())
    }
}

impl ExtractedPart {
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let e = &self.extracted;
        let n = e.len();
        let mut w = Writer::default();
        w.scalar("start", self.range.start);
        w.scalar("end", self.range.end);
        w.scalar("hidden", e.hidden);
        w.scalar("classes", e.classes);
        w.f32s("inputs", vec![e.inputs.len()], &e.inputs);
        w.f32s("embeddings", vec![n, e.hidden], &e.embeddings);
        w.f32s("logits", vec![n, e.classes], &e.logits);
        for (i, (maps, shape)) in e.maps.iter().enumerate() {
            w.f32s(&format!("maps.{i}"), shape.to_vec(), maps);
        }
        w.finish("a part of the network's outputs")
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let r = Reader::new("a part of the network's outputs", bytes)?;
        let range: Range<usize> = r.scalar("start")?..r.scalar("end")?;
        let (n, hidden, classes): (usize, usize, usize) =
            (range.len(), r.scalar("hidden")?, r.scalar("classes")?);
        let maps = (0..n)
            .map(|i| {
                let (shape, values) = r.f32s(&format!("maps.{i}"), usize::MAX)?;
                let shape: [usize; 3] = shape
                    .try_into()
                    .map_err(|_| r.invalid(format!("maps.{i} is not [channels, h, w]")))?;
                Ok((values, shape))
            })
            .collect::<Result<_>>()?;
        let extracted = Extracted {
            maps,
            inputs: r.f32s("inputs", usize::MAX)?.1,
            embeddings: r.f32s("embeddings", n * hidden)?.1,
            hidden,
            logits: r.f32s("logits", n * classes)?.1,
            classes,
        };
        Ok(Self { range, extracted })
    }

    /// The parts of one cohort of `n` images joined in image order; an error unless they cover
    /// `0..n` once.
    pub fn join(mut parts: Vec<ExtractedPart>, n: usize) -> Result<Extracted> {
        parts.sort_by_key(|p| p.range.start);
        let mut next = 0;
        let mut joined = Extracted::default();
        for part in parts {
            let e = part.extracted;
            if part.range.start != next || e.len() != part.range.len() {
                return Err(Error::Invalid(format!(
                    "the parts of the network's outputs do not cover images 0..{n} once (image {next} expected, part {:?} of {} images)",
                    part.range,
                    e.len()
                )));
            }
            if next > 0 && (e.hidden, e.classes) != (joined.hidden, joined.classes) {
                return Err(Error::Invalid("the parts come from different networks".into()));
            }
            next = part.range.end;
            (joined.hidden, joined.classes) = (e.hidden, e.classes);
            joined.maps.extend(e.maps);
            joined.inputs.extend(e.inputs);
            joined.embeddings.extend(e.embeddings);
            joined.logits.extend(e.logits);
        }
        if next != n {
            return Err(Error::Invalid(format!(
                "the parts of the network's outputs cover images 0..{next} of {n}"
            )));
        }
        Ok(joined)
    }
}

impl ScoresShare {
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let s = &self.scores;
        let mut w = Writer::default();
        w.scalar("start", self.range.start);
        w.scalar("end", self.range.end);
        w.scalar("n", s.n);
        w.scalar("channels", s.channels);
        w.scalar("baseline_r", s.baseline.r);
        w.scalar("baseline_r2", s.baseline.r2);
        w.scalar("zero_pairs", s.zero_pairs);
        w.scalar("skipped_channels", s.skipped_channels);
        w.f64s("baseline.per_image", vec![s.n], &s.baseline.per_image);
        w.f64s("image", vec![s.n, s.channels], &s.image);
        w.f64s("dataset_r", vec![s.channels], &s.dataset_r);
        w.f64s("dataset_r2", vec![s.channels], &s.dataset_r2);
        if let Some(g) = &s.grams {
            w.f64s("grams.full", vec![s.n, s.n], &g.full);
            w.f32s("grams.change", vec![s.channels, s.n, s.n], &g.change);
        }
        w.finish("a share of the scores")
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let r = Reader::new("a share of the scores", bytes)?;
        let (n, channels): (usize, usize) = (r.scalar("n")?, r.scalar("channels")?);
        let range: Range<usize> = r.scalar("start")?..r.scalar("end")?;
        if range.end > channels || range.start >= range.end {
            return Err(r.invalid(format!("feature maps {range:?} of {channels}")));
        }
        let grams = match r.file.tensor("grams.full") {
            Ok(_) => Some(ChannelGrams {
                full: r.f64s("grams.full", n * n)?,
                change: r.f32s("grams.change", channels * n * n)?.1,
            }),
            Err(_) => None,
        };
        let scores = AisScores {
            n,
            channels,
            baseline: Baseline {
                r: r.scalar("baseline_r")?,
                r2: r.scalar("baseline_r2")?,
                per_image: r.f64s("baseline.per_image", n)?,
            },
            image: r.f64s("image", n * channels)?,
            dataset_r: r.f64s("dataset_r", channels)?,
            dataset_r2: r.f64s("dataset_r2", channels)?,
            zero_pairs: r.scalar("zero_pairs")?,
            skipped_channels: r.scalar("skipped_channels")?,
            grams,
        };
        Ok(Self { range, scores })
    }

    /// The shares of every feature map merged ([`AisScores::merge`]).
    pub fn merge(shares: Vec<ScoresShare>) -> Result<AisScores> {
        AisScores::merge(shares.into_iter().map(|s| (s.range, s.scores)).collect())
    }
}

/// `0..total` in `parts` consecutive ranges as equal as can be (the first ones one longer).
pub fn split(total: usize, parts: usize) -> Vec<Range<usize>> {
    let parts = parts.clamp(1, total.max(1));
    let (size, extra) = (total / parts, total % parts);
    let mut start = 0;
    (0..parts)
        .map(|j| {
            let end = start + size + usize::from(j < extra);
            let range = start..end;
            start = end;
            range
        })
        .collect()
}

/// A cohort's ablation inputs `[n, channels, positions]`, for the workers that score a share of
/// its feature maps.
pub struct CohortInputs {
    pub n: usize,
    pub channels: usize,
    pub values: Vec<f32>,
}

impl CohortInputs {
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut w = Writer::default();
        w.scalar("n", self.n);
        w.scalar("channels", self.channels);
        w.f32s("inputs", vec![self.values.len()], &self.values);
        w.finish("the cohort's ablation inputs")
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let r = Reader::new("the cohort's ablation inputs", bytes)?;
        let (n, channels): (usize, usize) = (r.scalar("n")?, r.scalar("channels")?);
        let values = r.f32s("inputs", usize::MAX)?.1;
        if n == 0 || channels == 0 || values.len() % (n * channels) != 0 {
            return Err(r.invalid(format!(
                "{} values are not {n} images × {channels} feature maps × positions",
                values.len()
            )));
        }
        Ok(Self { n, channels, values })
    }
}

/// The selection curves of a worker's folds of a cross-validation, in the order it was given
/// them.
pub struct CurvesShare {
    pub curves: Vec<Curves>,
}

impl CurvesShare {
    const WHAT: &str = "a worker's selection curves";

    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let points = self.curves.first().map_or(0, |c| c.train_r.len());
        if self.curves.iter().any(|c| c.train_r.len() != points || c.test_r.len() != points) {
            return Err(Error::Invalid(format!("{}: curves of unequal lengths", Self::WHAT)));
        }
        let shape = vec![self.curves.len(), points];
        let flat = |f: fn(&Curves) -> &Vec<f64>| {
            self.curves.iter().flat_map(|c| f(c).iter().copied()).collect::<Vec<f64>>()
        };
        let mut w = Writer::default();
        w.scalar("folds", self.curves.len());
        w.scalar("points", points);
        w.f64s("train_r", shape.clone(), &flat(|c| &c.train_r));
        w.f64s("test_r", shape, &flat(|c| &c.test_r));
        w.finish(Self::WHAT)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let r = Reader::new(Self::WHAT, bytes)?;
        let (folds, points): (usize, usize) = (r.scalar("folds")?, r.scalar("points")?);
        let len = folds
            .checked_mul(points)
            .ok_or_else(|| r.invalid(format!("{folds} folds × {points} points")))?;
        let (train, test) = (r.f64s("train_r", len)?, r.f64s("test_r", len)?);
        let curves = (0..folds)
            .map(|f| Curves {
                train_r: train[f * points..(f + 1) * points].to_vec(),
                test_r: test[f * points..(f + 1) * points].to_vec(),
            })
            .collect();
        Ok(Self { curves })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(n: usize, channels: usize, range: Range<usize>, grams: bool) -> AisScores {
        let value = |i: usize| (i as f64 * 0.37).sin() / 3.0;
        let mut image = vec![0.0; n * channels];
        let (mut dataset_r, mut dataset_r2) = (vec![0.0; channels], vec![0.0; channels]);
        for k in range.clone() {
            (0..n).for_each(|t| image[t * channels + k] = value(t * channels + k));
            (dataset_r[k], dataset_r2[k]) = (value(k + 1000), value(k + 2000));
        }
        image[0] = f64::NAN;
        AisScores {
            n,
            channels,
            baseline: Baseline {
                r: 0.1 + 0.2,
                r2: f64::NAN,
                // An image whose human row is constant: its baseline is undefined in every
                // share, and the shares still merge.
                per_image: (0..n)
                    .map(|t| if t == 1 { f64::NAN } else { value(t + 3000) })
                    .collect(),
            },
            image,
            dataset_r,
            dataset_r2,
            zero_pairs: 3,
            skipped_channels: 1,
            grams: grams.then(|| ChannelGrams {
                full: (0..n * n).map(value).collect(),
                change: (0..channels * n * n)
                    .map(|i| if range.contains(&(i / (n * n))) { value(i) as f32 } else { 0.0 })
                    .collect(),
            }),
        }
    }

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    #[test]
    fn a_share_of_the_scores_reads_back_bit_for_bit_and_shares_merge_into_the_whole() {
        for grams in [true, false] {
            let share = ScoresShare { range: 2..5, scores: scores(4, 7, 2..5, grams) };
            let back = ScoresShare::from_bytes(&share.to_bytes().unwrap()).unwrap();
            let (a, b) = (&share.scores, &back.scores);
            assert_eq!(back.range, 2..5);
            assert_eq!((b.n, b.channels, b.zero_pairs, b.skipped_channels), (4, 7, 3, 1));
            assert_eq!(bits(&a.image), bits(&b.image));
            assert_eq!(bits(&a.dataset_r), bits(&b.dataset_r));
            assert_eq!(bits(&a.dataset_r2), bits(&b.dataset_r2));
            assert_eq!(bits(&a.baseline.per_image), bits(&b.baseline.per_image));
            assert_eq!(a.baseline.r.to_bits(), b.baseline.r.to_bits());
            assert!(b.baseline.r2.is_nan());
            assert_eq!(
                a.grams.as_ref().map(|g| bits(&g.full)),
                b.grams.as_ref().map(|g| bits(&g.full))
            );
            assert_eq!(
                a.grams.as_ref().map(|g| g.change.clone()),
                b.grams.as_ref().map(|g| g.change.clone())
            );
        }
        let shares = [0..2, 2..5, 5..7]
            .map(|r| ScoresShare { range: r.clone(), scores: scores(4, 7, r, true) });
        let whole = scores(4, 7, 0..7, true);
        let merged = ScoresShare::merge(shares.into_iter().collect()).unwrap();
        assert_eq!(bits(&merged.image), bits(&whole.image));
        assert_eq!(bits(&merged.dataset_r), bits(&whole.dataset_r));
        assert_eq!(merged.grams.unwrap().change, whole.grams.unwrap().change);
        assert_eq!((merged.zero_pairs, merged.skipped_channels), (9, 3));
    }

    #[test]
    fn parts_of_the_network_outputs_join_in_image_order_and_gaps_are_refused() {
        let part = |range: Range<usize>| {
            let n = range.len();
            let maps = range.clone().map(|i| (vec![i as f32; 2 * 3 * 4], [2, 3, 4])).collect();
            let extracted = Extracted {
                maps,
                inputs: range.clone().flat_map(|i| vec![i as f32 + 0.5; 2 * 5]).collect(),
                embeddings: range.clone().flat_map(|i| vec![-(i as f32); 6]).collect(),
                hidden: 6,
                logits: vec![0.25; n * 3],
                classes: 3,
            };
            ExtractedPart { range, extracted }
        };
        let read = |p: ExtractedPart| ExtractedPart::from_bytes(&p.to_bytes().unwrap()).unwrap();
        let joined = ExtractedPart::join(vec![read(part(3..5)), read(part(0..3))], 5).unwrap();
        let whole = part(0..5).extracted;
        assert_eq!(joined.maps, whole.maps);
        assert_eq!(joined.inputs, whole.inputs);
        assert_eq!(joined.embeddings, whole.embeddings);
        assert_eq!((joined.hidden, joined.classes, joined.logits.len()), (6, 3, 15));
        let gap = ExtractedPart::join(vec![part(0..2), part(3..5)], 5).unwrap_err();
        assert!(gap.to_string().contains("image 2 expected"), "{gap}");
        let short = ExtractedPart::join(vec![part(0..2)], 5).unwrap_err();
        assert!(short.to_string().contains("cover images 0..2 of 5"), "{short}");
        assert!(ExtractedPart::from_bytes(b"not a share").is_err());
        let inputs = CohortInputs { n: 2, channels: 3, values: vec![1.5; 12] };
        let back = CohortInputs::from_bytes(&inputs.to_bytes().unwrap()).unwrap();
        assert_eq!((back.n, back.channels, back.values), (2, 3, vec![1.5; 12]));
        let odd = CohortInputs { n: 2, channels: 3, values: vec![1.0; 7] };
        assert!(CohortInputs::from_bytes(&odd.to_bytes().unwrap()).is_err());
    }

    #[test]
    fn selection_curves_read_back_bit_for_bit() {
        let curves = vec![
            Curves { train_r: vec![0.5, f64::NAN, -0.25], test_r: vec![1e-300, 0.1, 0.2] },
            Curves { train_r: vec![0.75, 0.8, 0.9], test_r: vec![f64::NAN, -1.0, 1.0] },
        ];
        let back =
            CurvesShare::from_bytes(&CurvesShare { curves: curves.clone() }.to_bytes().unwrap())
                .unwrap()
                .curves;
        assert_eq!(back.len(), 2);
        for (a, b) in curves.iter().zip(&back) {
            assert_eq!(bits(&a.train_r), bits(&b.train_r));
            assert_eq!(bits(&a.test_r), bits(&b.test_r));
        }
        let empty = CurvesShare { curves: Vec::new() }.to_bytes().unwrap();
        assert!(CurvesShare::from_bytes(&empty).unwrap().curves.is_empty());
        let ragged = Curves { train_r: vec![0.5], test_r: vec![0.5, 0.6] };
        assert!(CurvesShare { curves: vec![ragged] }.to_bytes().is_err());
        assert!(CurvesShare::from_bytes(b"not a share").is_err());
    }

    #[test]
    fn split_covers_the_range_once_in_near_equal_parts() {
        assert_eq!(split(10, 3), vec![0..4, 4..7, 7..10]);
        assert_eq!(split(2, 4), vec![0..1, 1..2]);
        assert_eq!(split(5, 1), vec![0..5]);
        assert_eq!(split(5, 0), vec![0..5]);
    }
}
