//! The analysis and what the page reads from it: scores, heatmap overlays and saliency contours
//! as RGBA pixels, the summary (the command line's summary.json), cross-validation.

use burn::prelude::{Tensor, TensorData};
use serde::{Deserialize, Serialize, Serializer};
#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

use super::{Js, finite, memory::chunk_bytes, with};
use crate::ablation::{AisScores, EngineOptions};
use crate::error::{Error, Result};
use crate::heatmap::{self, Colormap, Heatmap, OverlayStyle, Rgb};
use crate::pipeline::{self, Stage};
use crate::saliency::{self, SaliencyModel, import, overlay as contours, risk};
use crate::selection;
use crate::summary::{AnalysisSummary, CrossValidation, HumanSummary, ModelSummary};

/// Device memory for one chunk of ablations: 128 MiB, the WebGPU storage-binding minimum that
/// every adapter gives (the command line's default is 256 MiB).
pub(crate) const CHUNK_BYTES: usize = 128 << 20;

/// One finished analysis: run here, or opened from a results zip (`published.rs`).
pub(crate) struct Analysis {
    pub names: Vec<String>,
    pub scores: AisScores,
    /// Per image, at feature-map resolution; `None`: no positive AIS.
    pub heatmaps: Vec<Option<Heatmap>>,
    /// summary.json as the analysis wrote it (or as the opened file holds it).
    pub summary: serde_json::Value,
    /// What cross-validation needs; absent for opened results.
    pub compute: Option<Compute>,
    /// The pictures of opened results (a run draws on the session's images).
    pub pictures: Option<Vec<image::RgbImage>>,
    /// Where opened results came from, and their manifest.
    pub opened: Option<(String, crate::results_zip::Manifest)>,
    /// The last cross-validation, run here or stored in the opened file (when it is in this
    /// version's format; otherwise it stays in `summary` only).
    pub cross_validation: Option<CrossValidation>,
    /// `n × classes` logits of a run here (empty for opened results, which do not hold them).
    pub logits: Vec<f32>,
    pub classes: usize,
    /// The last saliency comparison over every image made here (an opened file's stays in
    /// `summary`).
    pub saliency: Option<SaliencyReport>,
}

impl Analysis {
    /// An analysis with nothing beside its scores, heatmaps and summary.
    pub(crate) fn new(
        names: Vec<String>,
        scores: AisScores,
        heatmaps: Vec<Option<Heatmap>>,
        summary: serde_json::Value,
    ) -> Analysis {
        Analysis {
            names,
            scores,
            heatmaps,
            summary,
            compute: None,
            pictures: None,
            opened: None,
            cross_validation: None,
            saliency: None,
            logits: Vec::new(),
            classes: 0,
        }
    }
}

/// What cross-validation needs besides the scores (with their Gram matrices): the network, the
/// ablation inputs `[n, channels, positions]` on the host, the human matrix in image order.
pub(crate) struct Compute {
    pub net: crate::model::Network,
    pub inputs: Vec<f32>,
    pub human: Vec<f64>,
}

/// Image `index` of the analysis as drawn: the opened zip's picture, or the session's image.
pub(crate) fn picture<'a>(
    a: &'a Analysis,
    s: &'a super::Session,
    index: usize,
) -> Result<&'a image::RgbImage> {
    let name = a.names.get(index).ok_or_else(|| {
        Error::Invalid(format!("no image {index}: the analysis has {}", a.names.len()))
    })?;
    match &a.pictures {
        Some(pictures) => Ok(&pictures[index]),
        None => s
            .images
            .get(name)
            .ok_or_else(|| Error::Invalid(format!("{name}: no longer in the cohort"))),
    }
}

/// How the gallery draws its thumbnails: the page's display settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ThumbnailStyle {
    /// jet, viridis or magma.
    pub colormap: String,
    /// The image's share of the blend (the paper's 0.6).
    pub image_weight: f64,
    /// The image alone, without its heatmap.
    pub original: bool,
    /// The picture's longer side at most (0: full size).
    pub max_side: u32,
}

impl Default for ThumbnailStyle {
    /// The page's defaults: jet at 40 % opacity, 256-pixel thumbnails.
    fn default() -> Self {
        Self { colormap: "jet".into(), image_weight: 0.6, original: false, max_side: 256 }
    }
}

/// One image of a running analysis as soon as its scores are final: what its gallery card shows.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamedImage {
    pub index: usize,
    pub name: String,
    /// The cohort's size.
    pub n: usize,
    /// Its per-image 2OI with every feature map (`null` when undefined).
    pub baseline: Option<f64>,
    /// Its per-image AIS, one per feature map.
    pub ais: Vec<f64>,
    /// Its thumbnail as `style` asked.
    pub picture: Picture,
}

/// Runs the whole analysis on the cohort as it stands, through [`pipeline::score_cohort`]
/// (`batch`: images per forward pass, 0: 4 as the command line; `clock`: seconds). Keeps the
/// results in the session and returns summary.json.
pub async fn analyze(
    progress: &mut dyn FnMut(Stage, usize, usize),
    batch: u32,
    clock: &dyn Fn() -> f64,
) -> Result<serde_json::Value> {
    analyze_with_cards(progress, None, batch, clock).await
}

/// [`analyze`], and each image's gallery card, drawn as the style says, to its listener as soon
/// as the image's scores are final.
pub async fn analyze_with_cards(
    progress: &mut dyn FnMut(Stage, usize, usize),
    cards: Option<(&ThumbnailStyle, &mut dyn FnMut(StreamedImage))>,
    batch: u32,
    clock: &dyn Fn() -> f64,
) -> Result<serde_json::Value> {
    let blend = match &cards {
        Some((style, _)) => (!style.original).then_some(OverlayStyle {
            colormap: style.colormap.parse()?,
            image_weight: style.image_weight,
        }),
        None => None,
    };
    with(|s| s.results = None);
    let analysis = match cards {
        None => run_cohort(None, progress, &mut |_, _, _| {}, batch, clock).await?,
        Some((style, on_card)) => {
            let mut card = |name: &str, n: usize, scored: &pipeline::ScoredImage| {
                let Some(image) = with(|s| s.images.get(name).cloned()) else { return };
                let image = crate::results_zip::display_copy(&image, style.max_side)
                    .unwrap_or_else(|| Rgb::from(image));
                // A card that cannot be drawn now is drawn with the others at the end.
                let Ok(picture) = drawn(&image, scored.heatmap, blend) else { return };
                on_card(StreamedImage {
                    index: scored.index,
                    name: name.to_string(),
                    n,
                    baseline: finite(scored.baseline),
                    ais: scored.ais.to_vec(),
                    picture,
                })
            };
            run_cohort(None, progress, &mut card, batch, clock).await?
        }
    };
    let answer = analysis.summary.clone();
    with(|s| s.results = Some(analysis));
    Ok(answer)
}

/// The session's cohort and human matrix through a network: the session's own (`None`; its
/// Gram matrices kept for cross-validation) or another one (`Some`, e.g. the second network of a
/// comparison). Returns the analysis without keeping it.
pub(crate) async fn run_cohort(
    other: Option<super::ModelEntry>,
    progress: &mut dyn FnMut(Stage, usize, usize),
    image: &mut dyn FnMut(&str, usize, &pipeline::ScoredImage),
    batch: u32,
    clock: &dyn Fn() -> f64,
) -> Result<Analysis> {
    let t_start = clock();
    let keep_grams = other.is_none();
    let run = CohortRun::of_session(other)?;
    let names = &run.names;
    let scored = pipeline::score_cohort(
        &run.net,
        &run.device.device,
        names.len(),
        &mut |i| run.image(i),
        &run.matched.similarity,
        &run.options(batch, keep_grams, None),
        pipeline::Hooks {
            progress,
            image: &mut |scored| image(&names[scored.index], names.len(), &scored),
            cancelled: &|| false,
            clock,
        },
    )
    .await?;
    let mut timings = scored.timings;
    timings.insert("total_seconds".into(), clock() - t_start);
    run.finish(scored.extracted, scored.scores, scored.heatmaps, timings, keep_grams)
}

/// What an analysis of the session's cohort runs on: its device, a network (the session's or
/// another), the images in row order with their human matrix, and what the summary says of them.
pub(crate) struct CohortRun {
    pub device: crate::device::ComputeDevice,
    pub net: crate::model::Network,
    pub model: ModelSummary,
    pub names: Vec<String>,
    pub matched: crate::similarity::Matched,
    pub human: HumanSummary,
}

impl CohortRun {
    /// The session's cohort and human matrix, through its network (`None`) or `other`.
    pub(crate) fn of_session(other: Option<super::ModelEntry>) -> Result<CohortRun> {
        with(|s| {
            let device =
                s.device.clone().ok_or_else(|| Error::Invalid("call init_device first".into()))?;
            let m = match &other {
                Some(m) => m,
                None => s
                    .model
                    .as_ref()
                    .ok_or_else(|| Error::Invalid("no network loaded yet".into()))?,
            };
            let (names, matched) = super::cohort::matched_similarity(s)?;
            let entry = s.matrix.as_ref().expect("matched_similarity checked the matrix");
            let human = HumanSummary::new(&entry.source, &entry.matrix.warnings, &matched.report);
            let model = ModelSummary {
                name: m.net.name().label().to_string(),
                classes: m.net.classes(),
                weights: m.source.clone(),
                weights_sha256: m.sha256.clone(),
            };
            Ok(CohortRun { device, net: m.net.clone(), model, names, matched, human })
        })
    }

    /// Image `i` of the cohort, decoded.
    pub(crate) fn image(&self, i: usize) -> Result<image::RgbImage> {
        let name = &self.names[i];
        with(|s| s.images.get(name).cloned()).ok_or_else(|| {
            Error::Invalid(format!("{name}: the image was removed during the analysis"))
        })
    }

    /// The page's options: `batch` images per forward pass (0: 4, as the command line), its
    /// chunk, the Gram matrices kept for cross-validation (channels·n² floats) when asked.
    pub(crate) fn options(
        &self,
        batch: u32,
        keep_grams: bool,
        channel_range: Option<(usize, usize)>,
    ) -> pipeline::Options {
        pipeline::Options {
            batch: if batch == 0 { 4 } else { batch as usize },
            engine: EngineOptions {
                chunk_bytes: chunk_bytes(),
                keep_grams,
                channel_range,
                ..Default::default()
            },
        }
    }

    /// The analysis of the network's outputs and their scores, with its summary.
    pub(crate) fn finish(
        self,
        extracted: crate::extract::Extracted,
        scores: AisScores,
        heatmaps: Vec<Option<Heatmap>>,
        timings: std::collections::BTreeMap<String, f64>,
        keep_grams: bool,
    ) -> Result<Analysis> {
        let summary = AnalysisSummary::new(
            &self.names,
            &scores,
            self.model,
            self.human,
            &self.device.description,
            timings,
        );
        let summary = serde_json::to_value(&summary)
            .map_err(|e| Error::Invalid(format!("cannot build the summary: {e}")))?;
        Ok(Analysis {
            compute: keep_grams.then(|| Compute {
                net: self.net,
                inputs: extracted.inputs,
                human: self.matched.similarity,
            }),
            logits: extracted.logits,
            classes: extracted.classes,
            ..Analysis::new(self.names, scores, heatmaps, summary)
        })
    }
}

pub(crate) fn with_results<R>(
    f: impl FnOnce(&Analysis, &super::Session) -> Result<R>,
) -> Result<R> {
    with(|s| {
        let a = s
            .results
            .as_ref()
            .ok_or_else(|| Error::Invalid("no analysis yet: run analyze first".into()))?;
        f(a, s)
    })
}

/// The summary of the last analysis, as the command line's summary.json (a JSON string).
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn summary_json() -> Result<String> {
    with_results(|a, _| crate::report::json_text(&a.summary))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BaselineInfo {
    pub r: Option<f64>,
    pub r2: Option<f64>,
    pub per_image: Vec<Option<f64>>,
}

/// What the page shows of the last analysis besides the score arrays.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultInfo {
    pub names: Vec<String>,
    pub n: usize,
    pub channels: usize,
    pub baseline: BaselineInfo,
    pub zero_pairs: usize,
    pub skipped_channels: usize,
}

/// The cohort, the 2OI baselines and the engine's counts of the last analysis.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn result_info() -> Result<Js<ResultInfo>> {
    with_results(|a, _| {
        let b = &a.scores.baseline;
        Ok(Js(ResultInfo {
            names: a.names.clone(),
            n: a.scores.n,
            channels: a.scores.channels,
            baseline: BaselineInfo {
                r: finite(b.r),
                r2: finite(b.r2),
                per_image: b.per_image.iter().map(|&r| finite(r)).collect(),
            },
            zero_pairs: a.scores.zero_pairs,
            skipped_channels: a.scores.skipped_channels,
        }))
    })
}

/// Per-image AIS, `n × channels` row-major (`base_t − r_tk`), rows in `names` order.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn ais_image() -> Result<Vec<f64>> {
    with_results(|a, _| Ok(a.scores.image.clone()))
}

/// Dataset AIS with r (`r − r_k`, the paper's ρ), one per feature map.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn ais_dataset() -> Result<Vec<f64>> {
    with_results(|a, _| Ok(a.scores.dataset_r.clone()))
}

/// Dataset AIS with r² (`r² − r_k²`, the authors' code), one per feature map.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn ais_dataset_r2() -> Result<Vec<f64>> {
    with_results(|a, _| Ok(a.scores.dataset_r2.clone()))
}

/// RGBA bytes, which JS receives as a `Uint8Array`.
pub struct Rgba(pub Vec<u8>);

impl Serialize for Rgba {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl From<&Rgb> for Rgba {
    fn from(rgb: &Rgb) -> Self {
        Rgba(rgb.pixels.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect())
    }
}

/// A picture for a canvas.
#[derive(Serialize)]
pub struct Picture {
    pub width: usize,
    pub height: usize,
    pub rgba: Rgba,
    /// False when there is no heatmap to draw (the picture is the image alone), with `note`
    /// saying why.
    pub defined: bool,
    pub note: &'static str,
}

impl Picture {
    pub(crate) fn of(rgb: &Rgb) -> Picture {
        Picture { width: rgb.width, height: rgb.height, rgba: rgb.into(), defined: true, note: "" }
    }
}

/// The image at `index` of the analysis, shrunk (Pillow's bilinear) so that its longer side is
/// at most `max_side` (0: full size).
fn original(a: &Analysis, s: &super::Session, index: usize, max_side: u32) -> Result<Rgb> {
    let image = picture(a, s, index)?;
    Ok(crate::results_zip::display_copy(image, max_side)
        .unwrap_or_else(|| Rgb::from(image.clone())))
}

fn heatmap_of(a: &Analysis, index: usize) -> Result<Option<Heatmap>> {
    a.heatmaps.get(index).cloned().ok_or_else(|| {
        Error::Invalid(format!("no image {index}: the analysis has {}", a.names.len()))
    })
}

/// The heatmap of image `index` blended over it (`colormap`: jet, viridis or magma;
/// `image_weight`: the image's share, the paper's 0.6), or the image alone when `show_original`.
/// `max_side` > 0 shrinks the picture first (thumbnails).
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn overlay(
    index: u32,
    colormap: String,
    image_weight: f64,
    show_original: bool,
    max_side: u32,
) -> Result<Js<Picture>> {
    let colormap: Colormap = colormap.parse()?;
    with_results(|a, s| {
        let image = original(a, s, index as usize, max_side)?;
        let heat = heatmap_of(a, index as usize)?;
        let style = (!show_original).then_some(OverlayStyle { colormap, image_weight });
        Ok(Js(drawn(&image, heat.as_ref(), style)?))
    })
}

/// `heat` blended over `image` as `style` says, or the image alone (`style` None, or no heatmap
/// to draw: the note says why).
fn drawn(image: &Rgb, heat: Option<&Heatmap>, style: Option<OverlayStyle>) -> Result<Picture> {
    let drawn = match (heat, style) {
        (Some(h), Some(style)) => heatmap::overlay(image, h, style)?,
        _ => None,
    };
    let defined = heat.is_some_and(|h| h.intensities().is_some());
    let note = match (heat, defined) {
        (None, _) => {
            "no feature map has a positive AIS for this image: removing any one of them does not lower its alignment with the human judgments, so there is nothing to draw"
        }
        (Some(_), false) => {
            "the feature maps with positive AIS are zero everywhere on this image, so there is nothing to draw"
        }
        _ => "",
    };
    Ok(Picture { defined, note, ..Picture::of(drawn.as_ref().unwrap_or(image)) })
}

/// The colour map's 256 colours as RGBA (a legend): 1024 bytes.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn colormap_strip(colormap: String) -> Result<Vec<u8>> {
    let colormap: Colormap = colormap.parse()?;
    let pixels: Vec<u8> =
        (0..256).flat_map(|i| colormap.colour((i as f64 + 0.5) / 256.0)).collect();
    Ok(Rgba::from(&Rgb { width: 256, height: 1, pixels }).0)
}

/// The built-in saliency models' names (the first is the default).
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn saliency_models() -> Vec<String> {
    let default = SaliencyModel::default().name();
    std::iter::once(default)
        .chain(SaliencyModel::ALL.iter().map(|m| m.name()).filter(|n| *n != default))
        .map(str::to_string)
        .collect()
}

#[derive(Serialize)]
pub struct SaliencyInfo {
    pub name: String,
    pub stem: String,
    pub width: usize,
    pub height: usize,
}

/// Keeps a saliency map made elsewhere (grayscale PNG or 2-D NPY, any size) for the image with
/// the same file stem.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn import_saliency(name: String, bytes: &[u8]) -> Result<Js<SaliencyInfo>> {
    let map = import::decode_map(&name, bytes)?;
    let stem = crate::file_names::stem(&name).to_string();
    let info = SaliencyInfo { name, stem: stem.clone(), width: map.width, height: map.height };
    with(|s| s.saliency.insert(stem, map));
    Ok(Js(info))
}

/// Forgets the imported saliency maps.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn clear_saliency() {
    with(|s| s.saliency.clear());
}

/// The saliency map of image `name` at its full size: imported (`source` = "imported", matched
/// by file stem, brought to the image as TranSalNet's post-processing does) or a built-in model.
fn saliency_of(
    s: &super::Session,
    name: &str,
    image: &image::RgbImage,
    source: &str,
) -> std::result::Result<Vec<f32>, String> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    if source == "imported" {
        let stem = crate::file_names::stem(name);
        let map = s.saliency.get(stem).ok_or_else(|| {
            format!("{name}: no imported saliency map named {stem}.png or {stem}.npy")
        })?;
        return Ok(import::transalnet_postprocess(map, w, h));
    }
    let model: SaliencyModel = source.parse()?;
    Ok(model.compute(image).values)
}

/// The AIS heatmap at the image's size as displayed (clipped at 0, over its maximum, squared).
fn ais_at_image(heat: &Heatmap, width: usize, height: usize) -> Option<Vec<f32>> {
    heat.resized(width, height).intensities().map(|v| v.into_iter().map(|x| x as f32).collect())
}

/// The paper's Figure 4 for one image: contours and the three relative risks.
#[derive(Serialize)]
pub struct SaliencyPicture {
    #[serde(flatten)]
    pub picture: Picture,
    pub risks: Vec<risk::LevelRisk>,
    pub label: String,
}

/// The paper's Figure 4 for image `index`: on the image, the contours of the saliency map
/// (orange) and of the AIS heatmap (blue) at the top 5/10/15 %, the three relative risks printed
/// at the top left. `source`: "imported" or a built-in model (see `saliency_models`). Throws
/// when the image has no heatmap.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn saliency_overlay(index: u32, source: String) -> Result<Js<SaliencyPicture>> {
    with_results(|a, s| {
        let i = index as usize;
        let image = picture(a, s, i)?;
        let name = &a.names[i];
        let (w, h) = (image.width() as usize, image.height() as usize);
        let heat = heatmap_of(a, i)?.ok_or_else(|| {
            Error::Invalid(format!(
                "{name}: no positive AIS, so no heatmap to compare with saliency"
            ))
        })?;
        let ais = ais_at_image(&heat, w, h)
            .ok_or_else(|| Error::Invalid(format!("{name}: the heatmap is zero everywhere")))?;
        let sal = saliency_of(s, name, image, &source).map_err(Error::Invalid)?;
        let (drawn, risks) = contours::contour_overlay(image, &sal, &ais)?;
        let label = contours::rr_label(&risks);
        Ok(Js(SaliencyPicture { picture: Picture::of(&drawn.into()), risks, label }))
    })
}

/// One image's relative risks, or why it has none.
#[derive(Clone, Debug, Serialize)]
pub struct ImageRisks {
    pub image: String,
    pub risks: Option<Vec<risk::LevelRisk>>,
    pub error: Option<String>,
}

/// The saliency comparison over every image, as the results zip stores it (`saliency` in
/// summary.json).
#[derive(Clone, Debug, Serialize)]
pub struct SaliencyReport {
    pub source: String,
    pub summary: Vec<risk::LevelSummary>,
    pub images: Vec<ImageRisks>,
}

/// Relative risks of every image (`source` as in `saliency_overlay`) and their mean ± sd per
/// level; kept for the export.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn saliency_summary(source: String) -> Result<Js<SaliencyReport>> {
    let report = with_results(|a, s| {
        let images: Vec<ImageRisks> = a
            .names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let result = (|| -> std::result::Result<Vec<risk::LevelRisk>, String> {
                    let image = picture(a, s, i).map_err(|_| "no longer in the cohort")?;
                    let (w, h) = (image.width() as usize, image.height() as usize);
                    let heat = heatmap_of(a, i)
                        .map_err(|_| "no heatmap".to_string())?
                        .ok_or("no positive AIS, so no heatmap")?;
                    let ais = ais_at_image(&heat, w, h).ok_or("the heatmap is zero everywhere")?;
                    let sal = saliency_of(s, name, image, &source)?;
                    risk::relative_risks(&sal, &ais, w, h).map_err(|e| e.to_string())
                })();
                let (risks, error) = match result {
                    Ok(r) => (Some(r), None),
                    Err(e) => (None, Some(e)),
                };
                ImageRisks { image: name.clone(), risks, error }
            })
            .collect();
        let all: Vec<Vec<risk::LevelRisk>> =
            images.iter().filter_map(|i| i.risks.clone()).collect();
        Ok(SaliencyReport { source: source.clone(), summary: risk::summarise(&all), images })
    })?;
    with(|s| {
        if let Some(a) = s.results.as_mut() {
            a.saliency = Some(report.clone());
        }
    });
    Ok(Js(report))
}

/// The saliency map alone of image `index` as a grayscale picture (for a preview).
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn saliency_map(index: u32, source: String) -> Result<Js<Picture>> {
    with_results(|a, s| {
        let i = index as usize;
        let image = picture(a, s, i)?;
        let values = saliency_of(s, &a.names[i], image, &source).map_err(Error::Invalid)?;
        let gray = saliency::SaliencyMap {
            width: image.width() as usize,
            height: image.height() as usize,
            values,
        }
        .to_gray8();
        let pixels: Vec<u8> = gray.as_raw().iter().flat_map(|&g| [g, g, g]).collect();
        let rgb = Rgb { width: gray.width() as usize, height: gray.height() as usize, pixels };
        Ok(Js(Picture::of(&rgb)))
    })
}

/// The shuffle seeds of the paper's protocol (the default of `cross_validate`).
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn paper_seeds() -> Vec<u32> {
    crate::folds::PAPER_SEEDS.to_vec()
}

/// Aim 1's validation on request: `folds`-fold cross-validation over images for each shuffle
/// seed (empty: the paper's, see [`paper_seeds`]), sequential selection by training dataset AIS,
/// as `alignmap validate` reports it. `progress(done, total)` hears each fold. Kept for the
/// export. A pool of workers shares the same steps ([`super::pool::pool_cv_plan`]).
pub async fn cross_validate(
    folds: u32,
    seeds: Vec<u32>,
    progress: &mut dyn FnMut(usize, usize),
    clock: &dyn Fn() -> f64,
) -> Result<CrossValidation> {
    let t0 = clock();
    let plan = rank_folds(folds, seeds)?;
    progress(0, plan.ranked.len());
    let curves = session_curves(&plan.ranked, progress).await?;
    keep_cross_validation(plan, curves, clock() - t0)
}

/// A cross-validation's folds ranked by training AIS, until their curves are in.
pub(crate) struct RankedFolds {
    folds: u32,
    seeds: Vec<u32>,
    training_ais: Vec<Vec<f64>>,
    pub ranked: Vec<selection::RankedFold>,
}

/// The folds of the session's analysis ranked by training AIS (seeds empty: the paper's).
pub(crate) fn rank_folds(folds: u32, seeds: Vec<u32>) -> Result<RankedFolds> {
    let seeds = if seeds.is_empty() { paper_seeds() } else { seeds };
    with(|s| {
        let analysis = s
            .results
            .as_ref()
            .ok_or_else(|| Error::Invalid("no analysis yet: run analyze first".into()))?;
        let compute = computed(analysis)?;
        let split = selection::make_folds(analysis.names.len(), folds as usize, &seeds)?;
        let (training_ais, ranked) =
            selection::rank_folds(&analysis.scores, &compute.human, &split)?.into_iter().unzip();
        Ok(RankedFolds { folds, seeds, training_ais, ranked })
    })
}

fn computed(analysis: &Analysis) -> Result<&Compute> {
    analysis.compute.as_ref().ok_or_else(|| {
        Error::Invalid("these results were opened from a file, without the network and the human matrix: cross-validation needs both (run the analysis here, or see the cross-validation the file holds)".into())
    })
}

/// The curves of `ranked` with the network, ablation inputs and human matrix of the session's
/// analysis, or (a worker of a pool) of the pooled inputs it holds.
pub(crate) async fn session_curves(
    ranked: &[selection::RankedFold],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<selection::Curves>> {
    let kept = with(|s| {
        let analysis = s.results.as_ref()?;
        let c = analysis.compute.as_ref()?;
        Some((c.net.clone(), c.inputs.clone(), c.human.clone(), analysis.scores.channels))
    });
    let (net, inputs, human, channels) = match kept {
        Some(kept) => kept,
        None => super::pool::pooled_cohort()?,
    };
    let device = super::current_device()?;
    let n = human.len().isqrt();
    if let Some(bad) =
        ranked.iter().flat_map(|r| r.fold.train.iter().chain(&r.fold.test)).find(|&&i| i >= n)
    {
        return Err(Error::Invalid(format!("folds name image {bad} of a cohort of {n}")));
    }
    let positions = inputs.len() / (n * channels).max(1);
    let inputs =
        Tensor::<3>::from_data(TensorData::new(inputs, [n, channels, positions]), &device.device);
    let options = EngineOptions { chunk_bytes: chunk_bytes(), ..Default::default() };
    selection::ranked_curves(&net, &inputs, ranked, &human, &options, progress).await
}

/// The cross-validation of `plan` with every fold's `curves`, kept with the session's analysis.
pub(crate) fn keep_cross_validation(
    plan: RankedFolds,
    curves: Vec<selection::Curves>,
    seconds: f64,
) -> Result<CrossValidation> {
    if curves.len() != plan.ranked.len() {
        return Err(Error::Invalid(format!(
            "{} folds' curves for {} folds",
            curves.len(),
            plan.ranked.len()
        )));
    }
    let results = plan
        .training_ais
        .into_iter()
        .zip(plan.ranked)
        .zip(curves)
        .map(|((ais, ranked), curves)| selection::fold_result(ais, ranked, curves))
        .collect::<Result<Vec<_>>>()?;
    let report = CrossValidation::of(plan.folds as usize, &plan.seeds, &results, seconds)?;
    with(|s| match s.results.as_mut() {
        Some(analysis) => {
            analysis.cross_validation = Some(report.clone());
            Ok(report)
        }
        None => Err(Error::Invalid("the analysis was replaced during the cross-validation".into())),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::{add_image, read_matrix, testing};
    use super::*;

    /// Six generated images (two folds of three) and a matrix for them, in the session.
    pub(crate) fn cohort() {
        testing::cpu_session();
        let names = ["a.png", "b.png", "c.png", "d.png", "e.png", "f.png"];
        for (i, name) in names.iter().enumerate() {
            add_image(name.to_string(), &testing::png(30, 36, i as u64)).unwrap();
        }
        let mut csv = String::new();
        for i in 0..6 {
            let row: Vec<String> =
                (0..6).map(|j| format!("{}", 1.0 / (1.0 + (i as f64 - j as f64).abs()))).collect();
            csv.push_str(&row.join(","));
            csv.push('\n');
        }
        read_matrix(csv.as_bytes(), "h.csv".into(), None, None, None, false).unwrap();
    }

    #[test]
    fn the_page_analysis_is_the_pipelines_and_its_summary_has_the_command_lines_keys() {
        cohort();
        let mut stages = Vec::new();
        let summary =
            pollster::block_on(analyze(&mut |s, _, _| stages.push(s), 2, &|| 0.0)).unwrap();
        assert!(stages.contains(&Stage::Ablation));
        for key in ["alignmap_version", "n_images", "feature_maps", "baseline", "ais", "model"] {
            assert!(summary.get(key).is_some(), "{key}: {summary}");
        }
        assert_eq!(summary["human"]["file"], "h.csv");
        assert_eq!(summary["human"]["direction"], "similarity");
        let image = ais_image().unwrap();
        let info = result_info().unwrap().0;
        assert_eq!(image.len(), info.n * info.channels);
        assert!(image.iter().all(|v| v.is_finite()));
        assert_eq!(summary_json().unwrap(), crate::report::json_text(&summary).unwrap());

        let picture = overlay(0, "viridis".into(), 0.6, false, 16).unwrap().0;
        assert_eq!(picture.rgba.0.len(), picture.width * picture.height * 4);
        assert!(picture.width <= 16 && picture.height <= 16);
        assert!(overlay(0, "rainbow".into(), 0.6, false, 0).is_err());
        assert_eq!(colormap_strip("jet".into()).unwrap().len(), 1024);

        let cv = pollster::block_on(cross_validate(2, vec![111], &mut |_, _| {}, &|| 0.0)).unwrap();
        assert_eq!((cv.folds, cv.curves.len()), (2, 2));
        assert_eq!(cv.validation.set_size.per_fold.len(), 2);
        assert!(with(|s| s.results.as_ref().unwrap().cross_validation.is_some()));
        assert_eq!(paper_seeds(), [111, 222, 333, 444, 555, 666, 777, 888]);
    }

    #[test]
    fn each_images_card_arrives_in_order_before_the_end_as_the_gallery_draws_it() {
        cohort();
        let style = ThumbnailStyle {
            colormap: "magma".into(),
            image_weight: 0.3,
            original: false,
            max_side: 20,
        };
        let mut cards = Vec::new();
        let mut on_card = |card: StreamedImage| {
            assert!(with(|s| s.results.is_none()), "card {} after the end", card.index);
            cards.push(card);
        };
        pollster::block_on(analyze_with_cards(
            &mut |_, _, _| {},
            Some((&style, &mut on_card)),
            2,
            &|| 0.0,
        ))
        .unwrap();
        let info = result_info().unwrap().0;
        let image = ais_image().unwrap();
        assert_eq!(cards.iter().map(|c| c.index).collect::<Vec<_>>(), (0..6).collect::<Vec<_>>());
        for card in &cards {
            let i = card.index;
            assert_eq!((card.name.as_str(), card.n), (info.names[i].as_str(), 6));
            assert_eq!(card.ais, image[i * info.channels..][..info.channels]);
            let baseline = info.baseline.per_image[i].expect("a defined baseline");
            assert_eq!(card.baseline.map(f64::to_bits), Some(baseline.to_bits()));
            let drawn = overlay(i as u32, "magma".into(), 0.3, false, 20).unwrap().0;
            assert_eq!((card.picture.width, card.picture.height), (drawn.width, drawn.height));
            assert_eq!(card.picture.rgba.0, drawn.rgba.0, "card {i}: not the gallery's picture");
            assert_eq!((card.picture.defined, card.picture.note), (drawn.defined, drawn.note));
        }
        let bad = ThumbnailStyle { colormap: "rainbow".into(), ..style };
        let refused = pollster::block_on(analyze_with_cards(
            &mut |_, _, _| {},
            Some((&bad, &mut |_| {})),
            2,
            &|| 0.0,
        ));
        assert!(refused.unwrap_err().to_string().contains("rainbow"));
    }
}
