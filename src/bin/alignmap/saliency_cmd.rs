//! `alignmap saliency`: saliency maps of a folder of images (a built-in model, or imported maps
//! such as TranSalNet's), their relative risk against the AIS heatmaps of an `alignmap analyze`
//! output with the authors' contour overlays, and the built-in models' scores against human
//! eye fixations.

use std::path::{Path, PathBuf};

use alignmap::cohort;
use alignmap::error::{Error, Result};
use alignmap::report;
use alignmap::saliency::risk::{self, LevelRisk};
use alignmap::saliency::{SaliencyModel, evaluate, import, overlay};

use crate::create_dir;
use crate::results::AnalysisResults;
use alignmap::file_names::stem;

#[derive(clap::Args)]
pub struct SaliencyArgs {
    /// Folder of PNG/JPEG images.
    #[arg(long)]
    images: PathBuf,
    /// Output folder (created when missing): saliency/<image stem>.png (8-bit grayscale at the
    /// image's size) for a built-in model; with --results also rr.csv, rr.json, contours/.
    #[arg(long)]
    out: PathBuf,
    /// Built-in model: multiscale-centre (best on the NUS fixations), multiscale,
    /// spectral-residual (Hou & Zhang 2007) or centre-bias.
    #[arg(long, default_value_t = SaliencyModel::default())]
    model: SaliencyModel,
    /// Imported saliency maps instead of a built-in model: <image stem>.png (grayscale, 8 or
    /// 16 bit) or .npy (2-D f32/f64/u8), any size, fitted to each image as TranSalNet's
    /// postprocess_img does. Needs --results.
    #[arg(long, requires = "results")]
    saliency: Option<PathBuf>,
    /// An `alignmap analyze` output folder: relative risk (top 5/10/15 %) of each image's AIS
    /// heatmap against its saliency map, written to rr.csv and rr.json, and contour overlays.
    #[arg(long)]
    results: Option<PathBuf>,
    /// Human fixations (the NUS fixations.json format) for these images: scores every built-in
    /// model and chance (AUC-Judd, NSS, CC) and writes metrics.json.
    #[arg(long)]
    fixations: Option<PathBuf>,
}

pub fn run(args: SaliencyArgs) -> Result<()> {
    let (paths, skipped) = cohort::list_images(&args.images)?;
    if !skipped.is_empty() {
        eprintln!(
            "alignmap: skipping {} file(s) that are not PNG/JPEG: {}",
            skipped.len(),
            skipped.join(", ")
        );
    }
    let names: Vec<String> = paths
        .iter()
        .map(|p| p.file_name().expect("listed files have names").to_string_lossy().into_owned())
        .collect();
    let imported = args.saliency.as_deref().map(|dir| import::load_dir(dir, &names)).transpose()?;
    let results = args.results.as_deref().map(AnalysisResults::load).transpose()?;
    if let Some(results) = &results {
        let missing: Vec<&str> =
            names.iter().filter(|n| results.index_of(n).is_none()).map(String::as_str).collect();
        if !missing.is_empty() {
            return Err(Error::Invalid(format!(
                "{}: {} image(s) have no AIS in this analyze output: {}",
                results.dir.join("images.txt").display(),
                missing.len(),
                missing.join(", ")
            )));
        }
    }
    let source = match &args.saliency {
        Some(dir) => format!("imported maps from {}", dir.display()),
        None => format!("built-in model {}", args.model),
    };
    create_dir(&args.out)?;
    if imported.is_none() {
        create_dir(&args.out.join("saliency"))?;
    }
    if results.is_some() {
        create_dir(&args.out.join("contours"))?;
    }

    let mut risks: Vec<(String, Vec<LevelRisk>)> = Vec::new();
    let mut without_heatmap = Vec::new();
    for (i, (path, name)) in paths.iter().zip(&names).enumerate() {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let image = cohort::decode(name, &bytes)?;
        let (w, h) = (image.width() as usize, image.height() as usize);
        let saliency = match &imported {
            Some(maps) => import::transalnet_postprocess(&maps[i], w, h),
            None => {
                let map = args.model.compute(&image);
                let file = args.out.join("saliency").join(format!("{}.png", stem(name)));
                map.to_gray8().save(&file).map_err(|e| {
                    image_error(file.display().to_string(), format!("cannot write: {e}"))
                })?;
                map.values
            }
        };
        let Some(results) = &results else { continue };
        let row = results.index_of(name).expect("checked above");
        let Some(heat) = results.heatmap(row)? else {
            without_heatmap.push(name.clone());
            continue;
        };
        let heat = heat.resized(w, h);
        let (picture, levels) = overlay::contour_overlay(&image, &saliency, &heat.values)
            .map_err(|e| image_error(name, e.to_string()))?;
        let file = args.out.join("contours").join(format!("{}.png", stem(name)));
        picture
            .save(&file)
            .map_err(|e| image_error(file.display().to_string(), format!("cannot write: {e}")))?;
        risks.push((name.clone(), levels));
    }
    if imported.is_none() {
        eprintln!(
            "alignmap: wrote {} saliency maps ({}) to {}",
            names.len(),
            args.model,
            args.out.join("saliency").display()
        );
    }
    if results.is_some() {
        write_risks(&args.out, &source, &risks, &without_heatmap)?;
    }
    if let Some(fixations) = &args.fixations {
        score_against(&args.images, fixations, &args.out)?;
    }
    Ok(())
}

fn image_error(name: impl Into<String>, message: impl Into<String>) -> Error {
    Error::Image { name: name.into(), message: message.into() }
}

/// `rr.csv` (one row per image and level, with the confusion counts), `rr.json` (the same plus
/// the per-level summary) and a summary on stderr.
fn write_risks(
    out: &Path,
    source: &str,
    risks: &[(String, Vec<LevelRisk>)],
    without_heatmap: &[String],
) -> Result<()> {
    let mut csv = String::from("image,percent,tp,fn,fp,tn,rr,undefined\n");
    for (name, levels) in risks {
        for l in levels {
            let c = l.counts;
            let rr = l.rr.map(|v| v.to_string()).unwrap_or_default();
            let field = |s: &str| {
                if s.contains([',', '"', '\n']) {
                    format!("\"{}\"", s.replace('"', "\"\""))
                } else {
                    s.to_string()
                }
            };
            csv.push_str(&format!(
                "{},{},{},{},{},{},{rr},{}\n",
                field(name),
                l.percent,
                c.tp,
                c.r#fn,
                c.fp,
                c.tn,
                field(l.undefined.unwrap_or(""))
            ));
        }
    }
    let path = out.join("rr.csv");
    std::fs::write(&path, csv).map_err(|e| Error::io(&path, e))?;
    let per_image: Vec<Vec<LevelRisk>> = risks.iter().map(|(_, l)| l.clone()).collect();
    let summary = risk::summarise(&per_image);
    let json = serde_json::json!({
        "saliency": source,
        "definition": "Sal / CR = pixels strictly above the (100 − p)th percentile (NumPy linear) of the saliency map / AIS heatmap at image resolution; RR = (tp / (tp + fn)) / (fp / (fp + tn)); rr null when undefined, with the reason",
        "summary": summary,
        "images_without_heatmap": without_heatmap,
        "per_image": risks.iter().map(|(name, levels)| serde_json::json!({"image": name, "levels": levels})).collect::<Vec<_>>(),
    });
    report::write_json(&out.join("rr.json"), &json)?;
    if !without_heatmap.is_empty() {
        eprintln!(
            "alignmap: warning: {} image(s) have no positive AIS, hence no heatmap and no RR: {}",
            without_heatmap.len(),
            without_heatmap.join(", ")
        );
    }
    for s in &summary {
        match (s.mean, s.sd) {
            (Some(m), Some(sd)) => eprintln!(
                "alignmap: RR top {:>2} %: {m:.2} ± {sd:.2} (n = {}, undefined: {})",
                s.percent, s.n, s.n_undefined
            ),
            _ => eprintln!(
                "alignmap: RR top {:>2} %: undefined for all {} image(s)",
                s.percent, s.n_undefined
            ),
        }
    }
    eprintln!("alignmap: wrote rr.csv, rr.json and contours/ to {}", out.display());
    Ok(())
}

/// Scores the built-in models and chance against the fixations; writes `metrics.json`.
fn score_against(images: &Path, fixations: &Path, out: &Path) -> Result<()> {
    let evaluation = evaluate::evaluate(images, fixations, &mut |done| {
        eprint!("\ralignmap: scoring against fixations: {done} images")
    })?;
    eprintln!();
    let value = serde_json::to_value(&evaluation)
        .map_err(|e| Error::Invalid(format!("metrics.json: {e}")))?;
    report::write_json(&out.join("metrics.json"), &value)?;
    eprintln!("alignmap: {} images, mean ± sd over images:", evaluation.n_images);
    for m in &evaluation.models {
        eprintln!(
            "  {:<18} AUC-Judd {:.3} ± {:.3}  NSS {:.3} ± {:.3}  CC {:.3} ± {:.3}",
            m.model, m.auc_judd.mean, m.auc_judd.sd, m.nss.mean, m.nss.sd, m.cc.mean, m.cc.sd
        );
    }
    eprintln!("alignmap: wrote {}", out.join("metrics.json").display());
    Ok(())
}
