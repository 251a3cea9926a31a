//! One cohort through a network: preprocessing, feature maps and embeddings, then the Alignment
//! Importance Scores. `alignmap analyze`, `validate`, `compare` and the page all run a cohort
//! through [`score_cohort`]; they differ only in where the images come from and what they write.

use std::collections::BTreeMap;

use burn::prelude::Device;

use crate::ablation::{self, AisScores, EngineOptions, Event};
use crate::cohort::{Prepared, preprocess};
use crate::error::{Error, Result};
use crate::extract::{self, Extracted};
use crate::heatmap::Heatmap;
use crate::model::Network;
use crate::similarity::{self, HumanMatrix, Matched};

/// Fewer images give too few image pairs for a second-order correlation to mean anything.
pub const MIN_IMAGES: usize = 4;

/// A step of [`score_cohort`], as progress reports name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Resizing and normalising each image for the network.
    Decode,
    /// Feature maps and embeddings, image by image.
    Network,
    /// The AIS engine, feature map by feature map.
    Ablation,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Decode => "decode",
            Stage::Network => "network",
            Stage::Ablation => "ablation",
        }
    }
}

/// How a caller hears about, and stops, a run.
pub struct Hooks<'a> {
    /// `(stage, done, total)` after each step; the ablation counts images.
    pub progress: &'a mut dyn FnMut(Stage, usize, usize),
    /// Each image as soon as its scores are final, while the ablation runs (see
    /// [`ablation::Event::Image`]).
    pub image: &'a mut dyn FnMut(ScoredImage),
    /// Asked between images and between stages; `true` stops the run with [`Error::Cancelled`].
    pub cancelled: &'a dyn Fn() -> bool,
    /// Seconds on any monotonic clock (the timings are differences).
    pub clock: &'a dyn Fn() -> f64,
}

#[derive(Clone, Debug)]
pub struct Options {
    /// Images per forward pass.
    pub batch: usize,
    pub engine: EngineOptions,
}

/// One image whose per-image AIS are final.
pub struct ScoredImage<'a> {
    pub index: usize,
    /// Its per-image 2OI with every feature map.
    pub baseline: f64,
    /// Its per-image AIS, one per feature map.
    pub ais: &'a [f64],
    /// Its heatmap; `None` when no AIS is positive.
    pub heatmap: Option<&'a Heatmap>,
}

/// A scored cohort.
pub struct CohortScores {
    pub extracted: Extracted,
    pub scores: AisScores,
    /// Per image (`None`: no positive AIS), as [`crate::heatmap::cohort_heatmaps`] makes them.
    pub heatmaps: Vec<Option<Heatmap>>,
    /// `decode_seconds`, `network_seconds`, `ablation_seconds`.
    pub timings: BTreeMap<String, f64>,
}

/// The cohort's size checked, then the human matrix in image order (the library's one matcher).
pub fn match_cohort(matrix: &HumanMatrix, image_names: &[String]) -> Result<Matched> {
    check_size(image_names.len())?;
    Ok(similarity::match_to_images(matrix, image_names)?)
}

/// An error unless a cohort of `n` images can be scored.
pub fn check_size(n: usize) -> Result<()> {
    if n < MIN_IMAGES {
        return Err(Error::Invalid(format!("{n} image(s): alignment needs at least {MIN_IMAGES}")));
    }
    Ok(())
}

/// Runs `n` images through `net` and scores them against `human` (`n × n`, image order).
/// `image(i)` gives image `i` decoded; it is preprocessed here for the network.
pub async fn score_cohort(
    net: &Network,
    device: &Device,
    n: usize,
    image: &mut dyn FnMut(usize) -> Result<image::RgbImage>,
    human: &[f64],
    options: &Options,
    mut hooks: Hooks<'_>,
) -> Result<CohortScores> {
    check_size(n)?;
    if human.len() != n * n {
        return Err(Error::Invalid(format!(
            "the human matrix holds {} values for {n} images; expected {}",
            human.len(),
            n * n
        )));
    }
    let (extracted, mut timings) =
        extract_cohort(net, device, n, image, options.batch, &mut hooks).await?;
    hooks.stop()?;
    let channels = net.channels();
    (hooks.progress)(Stage::Ablation, 0, n);
    let start = (hooks.clock)();
    let inputs = extracted.inputs_tensor(channels, device);
    let mut heatmaps = vec![None; n];
    let scores =
        ablation::alignment_importance(net, inputs, human, &options.engine, &mut |event| {
            match event {
                Event::Image { index, baseline, ais } => {
                    let (maps, shape) = &extracted.maps[index];
                    heatmaps[index] = Heatmap::from_scores(ais, maps, *shape)?;
                    (hooks.image)(ScoredImage {
                        index,
                        baseline,
                        ais,
                        heatmap: heatmaps[index].as_ref(),
                    })
                }
                Event::Progress { done, total } => {
                    (hooks.progress)(Stage::Ablation, done * n / total.max(1), n)
                }
            }
            hooks.stop()
        })
        .await?;
    timings.insert("ablation_seconds".into(), (hooks.clock)() - start);
    Ok(CohortScores { extracted, scores, heatmaps, timings })
}

/// The first two stages of [`score_cohort`], alone (`alignmap embed`): `n` images through `net`
/// (`batch` per forward pass), with `decode_seconds` and `network_seconds`.
pub async fn extract_cohort(
    net: &Network,
    device: &Device,
    n: usize,
    image: &mut dyn FnMut(usize) -> Result<image::RgbImage>,
    batch: usize,
    hooks: &mut Hooks<'_>,
) -> Result<(Extracted, BTreeMap<String, f64>)> {
    let mut timings = BTreeMap::new();
    let start = (hooks.clock)();
    let mut prepared: Vec<Prepared> = Vec::with_capacity(n);
    for i in 0..n {
        hooks.stop()?;
        prepared.push(preprocess(&image(i)?, net.input_side(), net.normalization()));
        (hooks.progress)(Stage::Decode, i + 1, n);
    }
    let decoded = (hooks.clock)();
    timings.insert("decode_seconds".into(), decoded - start);

    hooks.stop()?;
    (hooks.progress)(Stage::Network, 0, n);
    let extracted = extract::extract(net, &prepared, device, batch.max(1), &mut |done| {
        (hooks.progress)(Stage::Network, done, n)
    })
    .await?;
    timings.insert("network_seconds".into(), (hooks.clock)() - decoded);
    Ok((extracted, timings))
}

impl Hooks<'_> {
    fn stop(&self) -> Result<()> {
        if (self.cancelled)() { Err(Error::Cancelled) } else { Ok(()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Vgg16, Vgg16Spec};
    use std::cell::Cell;

    fn cohort(n: usize) -> (Network, Vec<image::RgbImage>, Vec<f64>) {
        let device = Device::flex();
        let net = Network::Vgg16(Vgg16::synthetic(&Vgg16Spec::tiny(), 7, &device));
        let images: Vec<_> = (0..n).map(|i| crate::synthetic::image(40, 48, i as u64)).collect();
        let human: Vec<f64> = (0..n * n)
            .map(|k| {
                let (i, j) = (k / n, k % n);
                if i == j { 1.0 } else { 1.0 / (1.0 + (i as f64 - j as f64).abs()) }
            })
            .collect();
        (net, images, human)
    }

    fn options() -> Options {
        Options { batch: 2, engine: EngineOptions { chunk_bytes: 1 << 20, ..Default::default() } }
    }

    #[test]
    fn the_pipeline_scores_as_the_engine_does_and_reports_every_stage() {
        let (net, images, human) = cohort(5);
        let device = Device::flex();
        let mut heard: Vec<(Stage, usize, usize)> = Vec::new();
        let mut rows: Vec<(usize, Vec<f64>)> = Vec::new();
        let time = Cell::new(0.0);
        let run = pollster::block_on(score_cohort(
            &net,
            &device,
            images.len(),
            &mut |i| Ok(images[i].clone()),
            &human,
            &options(),
            Hooks {
                progress: &mut |s, d, t| heard.push((s, d, t)),
                image: &mut |scored| rows.push((scored.index, scored.ais.to_vec())),
                cancelled: &|| false,
                clock: &|| {
                    time.set(time.get() + 1.0);
                    time.get()
                },
            },
        ))
        .unwrap();

        let prepared: Vec<Prepared> =
            images.iter().map(|i| preprocess(i, net.input_side(), net.normalization())).collect();
        let direct = pollster::block_on(async {
            let x = extract::extract(&net, &prepared, &device, 2, &mut |_| {}).await.unwrap();
            let inputs = x.inputs_tensor(net.channels(), &device);
            ablation::alignment_importance(&net, inputs, &human, &options().engine, &mut |_| Ok(()))
                .await
                .unwrap()
        });
        assert_eq!(run.scores.image, direct.image);
        assert_eq!(run.scores.dataset_r, direct.dataset_r);
        assert!(run.scores.image.iter().all(|v| v.is_finite()));
        assert_eq!(run.timings.len(), 3);
        assert!(run.timings.values().all(|&s| s == 1.0), "{:?}", run.timings);
        for stage in [Stage::Decode, Stage::Network, Stage::Ablation] {
            let last = heard.iter().rev().find(|h| h.0 == stage).expect("stage reported");
            assert_eq!(last.1, last.2, "{stage:?} ends done: {heard:?}");
        }
        // Every image's per-image AIS are heard once, in order, as the final scores hold them.
        let channels = net.channels();
        assert_eq!(
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            (0..images.len()).collect::<Vec<_>>()
        );
        for (i, row) in &rows {
            assert_eq!(row[..], run.scores.image[i * channels..(i + 1) * channels]);
        }
        let heatmaps = crate::heatmap::cohort_heatmaps(&run.scores, &run.extracted.maps).unwrap();
        assert_eq!(run.heatmaps, heatmaps);
        assert!(heatmaps.iter().any(|h| h.is_some()));
    }

    #[test]
    fn a_run_cancelled_after_its_first_image_stops_in_the_ablation() {
        let (net, images, human) = cohort(5);
        let first = Cell::new(false);
        let outcome = pollster::block_on(score_cohort(
            &net,
            &Device::flex(),
            images.len(),
            &mut |i| Ok(images[i].clone()),
            &human,
            &options(),
            Hooks {
                progress: &mut |_, _, _| {},
                image: &mut |_| first.set(true),
                cancelled: &|| first.get(),
                clock: &|| 0.0,
            },
        ));
        assert!(matches!(outcome, Err(Error::Cancelled)), "{:?}", outcome.err());
    }

    #[test]
    fn a_cancelled_run_stops_with_cancelled_and_too_few_images_are_refused() {
        let (net, images, human) = cohort(5);
        let asked = Cell::new(0);
        let outcome = pollster::block_on(score_cohort(
            &net,
            &Device::flex(),
            images.len(),
            &mut |i| Ok(images[i].clone()),
            &human,
            &options(),
            Hooks {
                progress: &mut |_, _, _| {},
                image: &mut |_| {},
                cancelled: &|| {
                    asked.set(asked.get() + 1);
                    asked.get() > 3
                },
                clock: &|| 0.0,
            },
        ));
        assert!(matches!(outcome, Err(Error::Cancelled)), "{:?}", outcome.err());

        let small = pollster::block_on(score_cohort(
            &net,
            &Device::flex(),
            3,
            &mut |i| Ok(images[i].clone()),
            &human[..9],
            &options(),
            Hooks {
                progress: &mut |_, _, _| {},
                image: &mut |_| {},
                cancelled: &|| false,
                clock: &|| 0.0,
            },
        ));
        let message = small.err().expect("3 images are refused").to_string();
        assert!(message.contains("at least 4"), "{message}");
    }
}
