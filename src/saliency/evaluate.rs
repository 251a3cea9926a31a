//! Scoring saliency models against human fixations (native only: it reads a folder): every
//! built-in model, the centre-bias baseline among them, and chance, on each image of a fixation
//! file such as the NUS data set's.

use std::path::Path;

use serde::Serialize;

use super::fixations::{self, Fixations};
use super::metrics::{self, Scores};
use super::{SaliencyModel, baseline};
use crate::cohort;
use crate::error::{Error, Result};

/// The name chance goes by in an [`Evaluation`].
pub const CHANCE: &str = "chance";

/// Mean and population standard deviation (n, as `np.std`) over images.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct MeanSd {
    pub mean: f64,
    pub sd: f64,
}

impl MeanSd {
    fn of(values: impl Iterator<Item = f64> + Clone) -> Self {
        let n = values.clone().count() as f64;
        let mean = values.clone().sum::<f64>() / n;
        let sd = (values.map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
        Self { mean, sd }
    }
}

/// One image's scores.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ImageScores {
    pub image: String,
    #[serde(flatten)]
    pub scores: Scores,
}

/// One model over all images.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelEvaluation {
    /// A [`SaliencyModel`] name or [`CHANCE`].
    pub model: String,
    pub auc_judd: MeanSd,
    pub nss: MeanSd,
    pub cc: MeanSd,
    pub per_image: Vec<ImageScores>,
}

/// Every model on every image of a fixation file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evaluation {
    pub n_images: usize,
    /// The density map's σ as a fraction of each image's longer side.
    pub density_sigma_fraction: f64,
    /// Fixations outside their image, ignored.
    pub fixations_outside: usize,
    pub models: Vec<ModelEvaluation>,
}

/// The NUS data set's layout: `dir/stimuli/` and `dir/fixations.json`.
pub fn evaluate_nus(dir: &Path) -> Result<Evaluation> {
    evaluate(&dir.join("stimuli"), &dir.join("fixations.json"), &mut |_| {})
}

/// Scores [`SaliencyModel::ALL`] and chance (seeded with the image's index) on every image of
/// `fixations_json` (NUS format, see [`fixations::parse_nus`]), read from `images_dir` by file
/// name. `progress` is told how many images are done.
pub fn evaluate(
    images_dir: &Path,
    fixations_json: &Path,
    progress: &mut dyn FnMut(usize),
) -> Result<Evaluation> {
    let bytes = std::fs::read(fixations_json).map_err(|e| Error::io(fixations_json, e))?;
    let all = fixations::parse_nus(&fixations_json.display().to_string(), &bytes)?;
    let missing: Vec<&str> =
        all.keys().filter(|name| !images_dir.join(name).is_file()).map(String::as_str).collect();
    if !missing.is_empty() {
        return Err(Error::Invalid(format!(
            "{}: {} image(s) of {} are missing: {}",
            images_dir.display(),
            missing.len(),
            fixations_json.display(),
            missing.join(", ")
        )));
    }
    let names: Vec<String> = std::iter::once(CHANCE)
        .chain(SaliencyModel::ALL.iter().map(|m| m.name()))
        .map(String::from)
        .collect();
    let mut per_model: Vec<Vec<ImageScores>> = vec![Vec::new(); names.len()];
    for (index, (name, fix)) in all.iter().enumerate() {
        let scores = score_image(images_dir, name, fix, index as u64)?;
        for (list, scores) in per_model.iter_mut().zip(scores) {
            list.push(ImageScores { image: name.clone(), scores });
        }
        progress(index + 1);
    }
    let mut models: Vec<ModelEvaluation> = names
        .into_iter()
        .zip(per_model)
        .map(|(model, per_image)| ModelEvaluation {
            model,
            auc_judd: MeanSd::of(per_image.iter().map(|s| s.scores.auc_judd)),
            nss: MeanSd::of(per_image.iter().map(|s| s.scores.nss)),
            cc: MeanSd::of(per_image.iter().map(|s| s.scores.cc)),
            per_image,
        })
        .collect();
    models.rotate_left(1); // chance last
    Ok(Evaluation {
        n_images: all.len(),
        density_sigma_fraction: fixations::DENSITY_SIGMA_FRACTION,
        fixations_outside: all.values().map(Fixations::outside).sum(),
        models,
    })
}

/// Chance's scores, then each of [`SaliencyModel::ALL`]'s, on one image.
fn score_image(images_dir: &Path, name: &str, fix: &Fixations, seed: u64) -> Result<Vec<Scores>> {
    let path = images_dir.join(name);
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let image = cohort::decode(name, &bytes)?;
    let (w, h) = (image.width() as usize, image.height() as usize);
    if (w, h) != (fix.width, fix.height) {
        return Err(Error::image(
            name,
            format!("the image is {w}×{h} but its fixations are for {}×{}", fix.width, fix.height),
        ));
    }
    let fixated = fix.map();
    let density = fixations::density(&fixated, w, h, fixations::density_sigma(w, h));
    let score = |values: &[f32]| {
        metrics::score(values, &fixated, &density).map_err(|e| Error::image(name, e.to_string()))
    };
    let mut scores = vec![score(&baseline::chance(w, h, seed).values)?];
    for model in SaliencyModel::ALL {
        scores.push(
            score(&model.compute(&image).values)
                .map_err(|e| Error::Invalid(format!("{model}: {e}")))?,
        );
    }
    Ok(scores)
}
