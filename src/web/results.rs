//! The analysis and what the page reads from it: scores as typed arrays, heatmap overlays and
//! saliency contours as RGBA pixels, a summary in the shape of the command line's summary.json.

use js_sys::{Array, Float64Array, Function, Uint8ClampedArray};
use wasm_bindgen::prelude::*;

use super::{js_error, object, opt_f64, strings, with};
use crate::ablation::{self, AisScores, EngineOptions};
use crate::cohort::{self, Prepared};
use crate::extract;
use crate::heatmap::{self, Colormap, Heatmap, OverlayStyle, Rgb};
use crate::saliency::{self, SaliencyModel, import, overlay as contours, risk};
use crate::{selection, stats};
use burn::prelude::{Tensor, TensorData};

/// Device memory for one chunk of ablations: 128 MiB, the WebGPU storage-binding minimum that
/// every adapter gives (the command line's default is 256 MiB).
const CHUNK_BYTES: usize = 128 << 20;

/// One finished analysis: run here, or opened from a results zip (`published.rs`).
pub(crate) struct Analysis {
    pub names: Vec<String>,
    pub scores: AisScores,
    /// Per image, at feature-map resolution; `None`: no positive AIS.
    pub heatmaps: Vec<Option<Heatmap>>,
    pub summary: serde_json::Value,
    /// What cross-validation needs; absent for opened results.
    pub compute: Option<Compute>,
    /// The pictures of opened results (a run draws on the session's images).
    pub pictures: Option<Vec<image::RgbImage>>,
    /// Where opened results came from, and their manifest.
    pub opened: Option<(String, crate::results_zip::Manifest)>,
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
) -> Result<&'a image::RgbImage, JsError> {
    let name = a.names.get(index).ok_or_else(|| {
        JsError::new(&format!("no image {index}: the analysis has {}", a.names.len()))
    })?;
    match &a.pictures {
        Some(pictures) => Ok(&pictures[index]),
        None => s
            .images
            .get(name)
            .ok_or_else(|| JsError::new(&format!("{name}: no longer in the cohort"))),
    }
}

fn call_progress(progress: &Function, stage: &str, done: usize, total: usize) {
    // A failing progress callback must not stop the analysis.
    let _ = progress.call3(
        &JsValue::NULL,
        &JsValue::from_str(stage),
        &JsValue::from_f64(done as f64),
        &JsValue::from_f64(total as f64),
    );
}

/// Runs the whole analysis on the cohort as it stands: decode (preprocessing), network (feature
/// maps, embeddings), ablation (AIS). `progress(stage, done, total)` hears each step; `batch`:
/// images per forward pass (0: 4, as the command line). Resolves to the summary object (as
/// `summary_json`).
#[wasm_bindgen]
pub async fn analyze(progress: Function, batch: u32) -> Result<JsValue, JsError> {
    let t_start = js_sys::Date::now();
    let (device, net, model_source, sha256, names, matched, human) =
        with(|s| -> Result<_, JsError> {
            s.results = None;
            let device = s.device.clone().ok_or_else(|| JsError::new("call init_device first"))?;
            let model = s.model.as_ref().ok_or_else(|| JsError::new("no network loaded yet"))?;
            let (names, matched) = super::cohort::matched_similarity(s)?;
            let m = s.matrix.as_ref().expect("matched_similarity checked the matrix");
            let human = serde_json::json!({
                "file": m.file,
                "key": m.key,
                "names": m.names_file,
                "direction": if m.dissimilarity { "dissimilarity (S = −D)" } else { "similarity" },
                "warnings": m.matrix.warnings,
                "matching": matched.report,
            });
            Ok((
                device,
                model.net.clone(),
                model.source.clone(),
                model.sha256.clone(),
                names,
                matched,
                human,
            ))
        })?;
    let n = names.len();

    // decode: the originals are decoded already; this is the network's preprocessing
    let mut lap = js_sys::Date::now();
    let mut timings = serde_json::Map::new();
    let mut prepared: Vec<Prepared> = Vec::with_capacity(n);
    for (i, name) in names.iter().enumerate() {
        let p = with(|s| {
            s.images.get(name).map(|img| cohort::preprocess(img, 224, net.normalization()))
        });
        prepared.push(p.ok_or_else(|| {
            JsError::new(&format!("{name}: the image was removed during the analysis"))
        })?);
        call_progress(&progress, "decode", i + 1, n);
    }
    let mut tick = |name: &str, timings: &mut serde_json::Map<String, serde_json::Value>| {
        let now = js_sys::Date::now();
        timings.insert(name.into(), serde_json::json!((now - lap) / 1e3));
        lap = now;
    };
    tick("decode_seconds", &mut timings);

    call_progress(&progress, "network", 0, n);
    let batch = if batch == 0 { 4 } else { batch as usize };
    let extracted = extract::extract(&net, &prepared, &device.device, batch, &mut |done| {
        call_progress(&progress, "network", done, n)
    })
    .await
    .map_err(js_error)?;
    drop(prepared);
    tick("network_seconds", &mut timings);

    let channels = net.channels();
    let inputs = extracted.inputs_tensor(channels, &device.device);
    // The per-channel Gram matrices are kept for cross-validation (channels·n² floats).
    let options = EngineOptions { chunk_bytes: CHUNK_BYTES, keep_grams: true };
    call_progress(&progress, "ablation", 0, channels);
    let scores = ablation::alignment_importance(
        &net,
        inputs,
        &matched.similarity,
        &options,
        &mut |done, total| call_progress(&progress, "ablation", done, total),
    )
    .await
    .map_err(js_error)?;
    tick("ablation_seconds", &mut timings);
    timings
        .insert("total_seconds".into(), serde_json::json!((js_sys::Date::now() - t_start) / 1e3));

    let mut summary = crate::report::scores_summary(&names, &scores);
    summary.insert(
        "model".into(),
        serde_json::json!({
            "name": net.name().label(),
            "classes": net.classes(),
            "weights": model_source,
            "weights_sha256": sha256,
        }),
    );
    summary.insert("human".into(), human);
    summary.insert("device".into(), serde_json::json!(device.description));
    summary.insert("timings".into(), serde_json::Value::Object(timings));
    let summary = serde_json::Value::Object(summary);
    let text = summary.to_string();
    let inputs_host = extracted.inputs;
    let c = scores.channels;
    let heatmaps = extracted
        .maps
        .iter()
        .enumerate()
        .map(|(i, (maps, shape))| {
            Heatmap::from_scores(&scores.image[i * c..(i + 1) * c], maps, *shape)
        })
        .collect::<crate::Result<Vec<_>>>()
        .map_err(js_error)?;
    with(|s| {
        s.results = Some(Analysis {
            names,
            scores,
            heatmaps,
            summary,
            compute: Some(Compute { net, inputs: inputs_host, human: matched.similarity }),
            pictures: None,
            opened: None,
        })
    });
    js_sys::JSON::parse(&text).map_err(|_| JsError::new("cannot build the summary"))
}

fn with_results<R>(
    f: impl FnOnce(&Analysis, &super::Session) -> Result<R, JsError>,
) -> Result<R, JsError> {
    with(|s| {
        let a =
            s.results.as_ref().ok_or_else(|| JsError::new("no analysis yet: run analyze first"))?;
        f(a, s)
    })
}

/// The summary of the last analysis, as the command line's summary.json (a JSON string).
#[wasm_bindgen]
pub fn summary_json() -> Result<String, JsError> {
    with_results(|a, _| serde_json::to_string_pretty(&a.summary).map_err(js_error))
}

/// `{ names, n, channels, baseline: { r, r2, perImage }, zeroPairs, skippedChannels }`.
#[wasm_bindgen]
pub fn result_info() -> Result<JsValue, JsError> {
    with_results(|a, _| {
        let b = &a.scores.baseline;
        object(&[
            ("names", strings(&a.names)),
            ("n", (a.scores.n as u32).into()),
            ("channels", (a.scores.channels as u32).into()),
            (
                "baseline",
                object(&[
                    ("r", opt_f64(Some(b.r))),
                    ("r2", opt_f64(Some(b.r2))),
                    ("perImage", Float64Array::from(b.per_image.as_slice()).into()),
                ])?,
            ),
            ("zeroPairs", (a.scores.zero_pairs as u32).into()),
            ("skippedChannels", (a.scores.skipped_channels as u32).into()),
        ])
    })
}

/// Per-image AIS, `n × channels` row-major (`base_t − r_tk`), rows in `names` order.
#[wasm_bindgen]
pub fn ais_image() -> Result<Float64Array, JsError> {
    with_results(|a, _| Ok(Float64Array::from(a.scores.image.as_slice())))
}

/// Dataset AIS with r (`r − r_k`, the paper's ρ), one per feature map.
#[wasm_bindgen]
pub fn ais_dataset() -> Result<Float64Array, JsError> {
    with_results(|a, _| Ok(Float64Array::from(a.scores.dataset_r.as_slice())))
}

/// Dataset AIS with r² (`r² − r_k²`, the authors' code), one per feature map.
#[wasm_bindgen]
pub fn ais_dataset_r2() -> Result<Float64Array, JsError> {
    with_results(|a, _| Ok(Float64Array::from(a.scores.dataset_r2.as_slice())))
}

/// The image at `index` of the analysis, shrunk (Pillow's bilinear) so that its longer side is
/// at most `max_side` (0: full size).
fn original(a: &Analysis, s: &super::Session, index: usize, max_side: u32) -> Result<Rgb, JsError> {
    let image = picture(a, s, index)?;
    Ok(crate::results_zip::display_copy(image, max_side)
        .unwrap_or_else(|| Rgb::from(image.clone())))
}

fn rgba(rgb: &Rgb) -> Uint8ClampedArray {
    let mut out = Vec::with_capacity(rgb.width * rgb.height * 4);
    for px in rgb.pixels.chunks_exact(3) {
        out.extend_from_slice(px);
        out.push(255);
    }
    Uint8ClampedArray::from(out.as_slice())
}

fn heatmap_of(a: &Analysis, index: usize) -> Result<Option<Heatmap>, JsError> {
    a.heatmaps.get(index).cloned().ok_or_else(|| {
        JsError::new(&format!("no image {index}: the analysis has {}", a.names.len()))
    })
}

/// The heatmap of image `index` blended over it (`colormap`: jet, viridis or magma;
/// `image_weight`: the image's share, the paper's 0.6), or the image alone when `show_original`.
/// `max_side` > 0 shrinks the picture first (thumbnails). Resolves to `{ width, height, rgba,
/// defined, note }`: `defined` is false (and the picture is the image alone) when the image has
/// no positive AIS, so no heatmap.
#[wasm_bindgen]
pub fn overlay(
    index: u32,
    colormap: String,
    image_weight: f64,
    show_original: bool,
    max_side: u32,
) -> Result<JsValue, JsError> {
    let colormap: Colormap = colormap.parse().map_err(js_error)?;
    with_results(|a, s| {
        let image = original(a, s, index as usize, max_side)?;
        let heat = heatmap_of(a, index as usize)?;
        let drawn = match (&heat, show_original) {
            (Some(h), false) => {
                heatmap::overlay(&image, h, OverlayStyle { colormap, image_weight })
                    .map_err(js_error)?
            }
            _ => None,
        };
        let defined = match &heat {
            Some(h) => h.intensities().is_some(),
            None => false,
        };
        let note = match (&heat, defined) {
            (None, _) => {
                "no feature map has a positive AIS for this image: removing any one of them does not lower its alignment with the human judgments, so there is nothing to draw"
            }
            (Some(_), false) => {
                "the feature maps with positive AIS are zero everywhere on this image, so there is nothing to draw"
            }
            _ => "",
        };
        let picture = drawn.as_ref().unwrap_or(&image);
        object(&[
            ("width", (picture.width as u32).into()),
            ("height", (picture.height as u32).into()),
            ("rgba", rgba(picture).into()),
            ("defined", defined.into()),
            ("note", note.into()),
        ])
    })
}

/// The colour map's 256 colours as RGBA (a legend): `Uint8ClampedArray` of 1024 bytes.
#[wasm_bindgen]
pub fn colormap_strip(colormap: String) -> Result<Uint8ClampedArray, JsError> {
    let colormap: Colormap = colormap.parse().map_err(js_error)?;
    let pixels: Vec<u8> =
        (0..256).flat_map(|i| colormap.colour((i as f64 + 0.5) / 256.0)).collect();
    Ok(rgba(&Rgb { width: 256, height: 1, pixels }))
}

/// The built-in saliency models' names (the first is the default).
#[wasm_bindgen]
pub fn saliency_models() -> JsValue {
    let mut all: Vec<&str> = vec![SaliencyModel::default().name()];
    all.extend(
        SaliencyModel::ALL
            .iter()
            .map(|m| m.name())
            .filter(|n| *n != SaliencyModel::default().name()),
    );
    strings(all)
}

/// Keeps a saliency map made elsewhere (grayscale PNG or 2-D NPY, any size) for the image with
/// the same file stem. Resolves to `{ name, stem, width, height }`; throws with the library's
/// message.
#[wasm_bindgen]
pub fn import_saliency(name: String, bytes: &[u8]) -> Result<JsValue, JsError> {
    let map = import::decode_map(&name, bytes).map_err(js_error)?;
    let stem = stem(&name).to_string();
    let info = object(&[
        ("name", name.as_str().into()),
        ("stem", stem.as_str().into()),
        ("width", (map.width as u32).into()),
        ("height", (map.height as u32).into()),
    ])?;
    with(|s| s.saliency.insert(stem, map));
    Ok(info)
}

/// Forgets the imported saliency maps.
#[wasm_bindgen]
pub fn clear_saliency() {
    with(|s| s.saliency.clear());
}

fn stem(name: &str) -> &str {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    match base.rfind('.') {
        Some(i) if i > 0 => &base[..i],
        _ => base,
    }
}

/// The saliency map of image `index` at its full size: imported (`source` = "imported", matched
/// by file stem, brought to the image as TranSalNet's post-processing does) or a built-in model.
fn saliency_of(
    s: &super::Session,
    name: &str,
    image: &image::RgbImage,
    source: &str,
) -> Result<Vec<f32>, String> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    if source == "imported" {
        let map = s.saliency.get(stem(name)).ok_or_else(|| {
            format!("{name}: no imported saliency map named {0}.png or {0}.npy", stem(name))
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

fn risks_js(risks: &[risk::LevelRisk]) -> Result<JsValue, JsError> {
    let out = Array::new();
    for r in risks {
        out.push(&object(&[
            ("percent", r.percent.into()),
            ("rr", opt_f64(r.rr)),
            ("undefined", r.undefined.map(JsValue::from_str).unwrap_or(JsValue::NULL)),
        ])?);
    }
    Ok(out.into())
}

/// The paper's Figure 4 for image `index`: on the image, the contours of the saliency map
/// (orange) and of the AIS heatmap (blue) at the top 5/10/15 %, the three relative risks printed
/// at the top left. `source`: "imported" or a built-in model (see `saliency_models`). Resolves to
/// `{ width, height, rgba, risks: [{ percent, rr, undefined }], label }`; throws when the image
/// has no heatmap.
#[wasm_bindgen]
pub fn saliency_overlay(index: u32, source: String) -> Result<JsValue, JsError> {
    with_results(|a, s| {
        let i = index as usize;
        let name = a.names.get(i).ok_or_else(|| JsError::new(&format!("no image {i}")))?;
        let image = picture(a, s, i)?;
        let (w, h) = (image.width() as usize, image.height() as usize);
        let heat = heatmap_of(a, i)?.ok_or_else(|| {
            JsError::new(&format!(
                "{name}: no positive AIS, so no heatmap to compare with saliency"
            ))
        })?;
        let ais = ais_at_image(&heat, w, h)
            .ok_or_else(|| JsError::new(&format!("{name}: the heatmap is zero everywhere")))?;
        let sal = saliency_of(s, name, image, &source).map_err(|e| JsError::new(&e))?;
        let (picture, risks) = contours::contour_overlay(image, &sal, &ais).map_err(js_error)?;
        let label = contours::rr_label(&risks);
        let rgb: Rgb = picture.into();
        object(&[
            ("width", (rgb.width as u32).into()),
            ("height", (rgb.height as u32).into()),
            ("rgba", rgba(&rgb).into()),
            ("risks", risks_js(&risks)?),
            ("label", label.as_str().into()),
        ])
    })
}

/// Relative risks of every image (`source` as in `saliency_overlay`) and their mean ± sd per
/// level: `{ images: [{ image, risks | null, error | null }], summary: [{ percent, n,
/// nUndefined, mean, sd }] }`.
#[wasm_bindgen]
pub fn saliency_summary(source: String) -> Result<JsValue, JsError> {
    with_results(|a, s| {
        let images = Array::new();
        let mut all = Vec::new();
        for (i, name) in a.names.iter().enumerate() {
            let result = (|| -> Result<Vec<risk::LevelRisk>, String> {
                let image = picture(a, s, i).map_err(|_| "no longer in the cohort")?;
                let (w, h) = (image.width() as usize, image.height() as usize);
                let heat = heatmap_of(a, i)
                    .map_err(|_| "no heatmap".to_string())?
                    .ok_or("no positive AIS, so no heatmap")?;
                let ais = ais_at_image(&heat, w, h).ok_or("the heatmap is zero everywhere")?;
                let sal = saliency_of(s, name, image, &source)?;
                risk::relative_risks(&sal, &ais, w, h).map_err(|e| e.to_string())
            })();
            let (risks, error) = match &result {
                Ok(r) => (risks_js(r)?, JsValue::NULL),
                Err(e) => (JsValue::NULL, JsValue::from_str(e)),
            };
            if let Ok(r) = result {
                all.push(r);
            }
            images.push(&object(&[
                ("image", name.as_str().into()),
                ("risks", risks),
                ("error", error),
            ])?);
        }
        let summary = Array::new();
        for l in risk::summarise(&all) {
            summary.push(&object(&[
                ("percent", l.percent.into()),
                ("n", (l.n as u32).into()),
                ("nUndefined", (l.n_undefined as u32).into()),
                ("mean", opt_f64(l.mean)),
                ("sd", opt_f64(l.sd)),
            ])?);
        }
        object(&[("images", images.into()), ("summary", summary.into())])
    })
}

/// The saliency map alone of image `index` as a grayscale RGBA picture (for a preview).
#[wasm_bindgen]
pub fn saliency_map(index: u32, source: String) -> Result<JsValue, JsError> {
    with_results(|a, s| {
        let i = index as usize;
        let name = a.names.get(i).ok_or_else(|| JsError::new(&format!("no image {i}")))?;
        let image = picture(a, s, i)?;
        let values = saliency_of(s, name, image, &source).map_err(|e| JsError::new(&e))?;
        let gray = saliency::SaliencyMap {
            width: image.width() as usize,
            height: image.height() as usize,
            values,
        }
        .to_gray8();
        let pixels: Vec<u8> = gray.as_raw().iter().flat_map(|&g| [g, g, g]).collect();
        let rgb = Rgb { width: gray.width() as usize, height: gray.height() as usize, pixels };
        object(&[
            ("width", (rgb.width as u32).into()),
            ("height", (rgb.height as u32).into()),
            ("rgba", rgba(&rgb).into()),
        ])
    })
}

fn condition(values: &[f64]) -> Result<JsValue, JsError> {
    let (mean, sd) = stats::mean_and_sd(values).map_err(js_error)?;
    object(&[
        ("mean", opt_f64(Some(mean))),
        ("sd", opt_f64(Some(sd))),
        ("perFold", Float64Array::from(values).into()),
    ])
}

/// Full against Retained test 2OI over the folds, in r or r²: means ± sd, the Loftus–Masson SE
/// and the paired t-test (Retained vs Full), as `alignmap validate` reports them.
fn comparison(full: &[f64], retained: &[f64]) -> Result<JsValue, JsError> {
    let se = stats::loftus_masson_se(&[full, retained]).ok();
    let test = match stats::paired_t_test(retained, full) {
        Ok(t) => object(&[
            ("t", opt_f64(Some(t.t))),
            ("df", opt_f64(Some(t.df))),
            ("meanDifference", opt_f64(Some(t.mean_difference))),
            ("pTwoSided", opt_f64(Some(t.p_two_sided))),
            ("pGreater", opt_f64(Some(t.p_greater))),
        ])?,
        Err(e) => object(&[("undefined", e.to_string().as_str().into())])?,
    };
    object(&[
        ("full", condition(full)?),
        ("retained", condition(retained)?),
        ("se", opt_f64(se)),
        ("test", test),
    ])
}

/// Aim 1's validation on request: `folds`-fold cross-validation over images for each shuffle
/// seed (the authors': 5 folds, seeds 111 … 888), sequential selection by training dataset AIS.
/// `progress(done, total)` hears each fold. Resolves to `{ folds: [{ seed, fold, nTrain, nTest,
/// setSize, trainCurve, testCurve }], r, r2, setSize: { mean, sd }, seconds }` (curves: 2OI r
/// with the top m feature maps kept, m = 1…channels).
#[wasm_bindgen]
pub async fn cross_validate(
    folds: u32,
    seeds: Vec<u32>,
    progress: Function,
) -> Result<JsValue, JsError> {
    let t0 = js_sys::Date::now();
    // Taken out of the session for the awaits and put back afterwards (no borrow across await).
    let analysis = with(|s| s.results.take())
        .ok_or_else(|| JsError::new("no analysis yet: run analyze first"))?;
    let device = with(|s| s.device.clone()).ok_or_else(|| JsError::new("call init_device first"));
    let outcome = async {
        let device = device?;
        let compute = analysis.compute.as_ref().ok_or_else(|| {
            JsError::new("these results were opened from a file, without the network and the human matrix: cross-validation needs both (run the analysis here, or see the cross-validation the file holds)")
        })?;
        let seeds = if seeds.is_empty() { crate::folds::PAPER_SEEDS.to_vec() } else { seeds };
        let split = selection::make_folds(analysis.names.len(), folds as usize, &seeds)
            .map_err(js_error)?;
        let n = analysis.names.len();
        let channels = analysis.scores.channels;
        let inputs = Tensor::<3>::from_data(
            TensorData::new(
                compute.inputs.clone(),
                [n, channels, compute.inputs.len() / (n * channels)],
            ),
            &device.device,
        );
        let options = EngineOptions { chunk_bytes: CHUNK_BYTES, keep_grams: false };
        call_progress(&progress, "folds", 0, split.len());
        selection::cross_validate(
            &compute.net,
            &inputs,
            &analysis.scores,
            &compute.human,
            &split,
            &options,
            &mut |done, total| call_progress(&progress, "folds", done, total),
        )
        .await
        .map_err(js_error)
    }
    .await;
    with(|s| s.results = Some(analysis));
    let results = outcome?;
    let full: Vec<f64> = results.iter().map(|f| f.full_test_r()).collect();
    let retained: Vec<f64> = results.iter().map(|f| f.retained_test_r()).collect();
    let squared = |v: &[f64]| v.iter().map(|r| r * r).collect::<Vec<f64>>();
    let sizes: Vec<f64> = results.iter().map(|f| f.best_m as f64).collect();
    let (size_mean, size_sd) = stats::mean_and_sd(&sizes).map_err(js_error)?;
    let per_fold = Array::new();
    for f in &results {
        per_fold.push(&object(&[
            ("seed", f.fold.seed.into()),
            ("fold", ((f.fold.index + 1) as u32).into()),
            ("nTrain", (f.fold.train.len() as u32).into()),
            ("nTest", (f.fold.test.len() as u32).into()),
            ("setSize", (f.best_m as u32).into()),
            ("trainCurve", Float64Array::from(f.curves.train_r.as_slice()).into()),
            ("testCurve", Float64Array::from(f.curves.test_r.as_slice()).into()),
        ])?);
    }
    object(&[
        ("folds", per_fold.into()),
        ("r", comparison(&full, &retained)?),
        ("r2", comparison(&squared(&full), &squared(&retained))?),
        ("setSize", object(&[("mean", opt_f64(Some(size_mean))), ("sd", opt_f64(Some(size_sd)))])?),
        ("seconds", JsValue::from_f64((js_sys::Date::now() - t0) / 1e3)),
    ])
}
