//! `alignmap pack`: an analyze folder and its images as one results zip that the page opens
//! without computing (`index.html?results=URL`, or "Open results"). `analyze --zip` calls the
//! same function. The format is the library's (`alignmap::results_zip`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use alignmap::cohort;
use alignmap::error::{Error, Result};
use alignmap::report::ScoreTables;
use alignmap::results_zip::{DEFAULT_MAX_SIDE, ZipContents, ZipImage, ZipOptions};

use crate::results::{AnalysisResults, FolderArgs, OverlayArgs, exact_table, read_npy};

#[derive(clap::Args)]
pub struct PackArgs {
    #[command(flatten)]
    pub folder: FolderArgs,
    /// The zip to write (e.g. vgg16-imagenet-animals.zip).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub options: PackOptions,
}

/// What goes into a results zip besides the scores (shared with `analyze --zip`).
#[derive(clap::Args, Clone)]
pub struct PackOptions {
    /// Store display copies whose longer side is at most this many pixels (PNG); 0 stores the
    /// image files as they are. Smaller images are stored as they are.
    #[arg(long, default_value_t = DEFAULT_MAX_SIDE)]
    pub max_side: u32,
    /// Leave out the overlay PNGs (the page draws from the heatmaps; overlays are for people
    /// who unzip the file).
    #[arg(long)]
    pub no_overlays: bool,
    #[command(flatten)]
    pub overlay: OverlayArgs,
    /// A title the page shows (e.g. "VGG-16 ImageNet, Peterson animals").
    #[arg(long)]
    pub title: Option<String>,
    /// A JSON object {image file name: category}; the page groups and colours the gallery by it.
    #[arg(long)]
    pub categories: Option<PathBuf>,
}

pub fn pack(args: &PackArgs) -> Result<()> {
    pack_folder(&args.folder.results, &args.folder.images, &args.out, &args.options)
}

fn read_categories(path: &Path, names: &[String]) -> Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let map: BTreeMap<String, String> = serde_json::from_str(&text).map_err(|e| {
        Error::Invalid(format!(
            "{}: expected a JSON object {{\"image file name\": \"category\"}} ({e})",
            path.display()
        ))
    })?;
    if let Some(name) = names.iter().find(|n| !map.contains_key(*n)) {
        return Err(Error::Invalid(format!(
            "{}: no category for {name}; expected one for every image of images.txt",
            path.display()
        )));
    }
    Ok(map)
}

/// Writes the results zip of the analyze folder `results` (its images in `images`) to `out`.
pub fn pack_folder(results: &Path, images: &Path, out: &Path, options: &PackOptions) -> Result<()> {
    let loaded = AnalysisResults::load(results)?;
    let channels = loaded.channels;
    let dataset = |file: &str| -> Result<Vec<f32>> {
        let path = results.join(file);
        let (values, shape) = read_npy(&path)?;
        if shape != [channels] {
            return Err(Error::Invalid(format!(
                "{}: shape {shape:?}; expected [{channels}] (one per feature map)",
                path.display()
            )));
        }
        Ok(values)
    };
    let both = [dataset("ais_dataset.npy")?, dataset("ais_dataset_r2.npy")?].concat();
    let rows = ["ais_r".to_string(), "ais_r2".to_string()];
    let exact = exact_table(results, "ais_dataset.csv", &rows, &both, channels)?;
    let (dataset_r, dataset_r2) = exact.split_at(channels);
    let summary_path = results.join("summary.json");
    let text = std::fs::read_to_string(&summary_path).map_err(|e| Error::io(&summary_path, e))?;
    let summary: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::Invalid(format!("{}: not JSON ({e})", summary_path.display())))?;
    let mut files = Vec::with_capacity(loaded.names.len());
    let mut decoded = Vec::with_capacity(loaded.names.len());
    let mut heatmaps = Vec::with_capacity(loaded.names.len());
    for (i, name) in loaded.names.iter().enumerate() {
        let path = images.join(name);
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        decoded.push(cohort::decode(name, &bytes)?);
        files.push(bytes);
        heatmaps.push(loaded.heatmap(i)?);
    }
    let categories = options
        .categories
        .as_deref()
        .map(|path| read_categories(path, &loaded.names))
        .transpose()?;
    let contents = ZipContents {
        names: &loaded.names,
        scores: ScoreTables { channels, image: &loaded.ais_image, dataset_r, dataset_r2 },
        summary: &summary,
        heatmaps: &heatmaps,
        images: decoded
            .iter()
            .zip(&files)
            .map(|(image, bytes)| ZipImage { image, file_bytes: Some(bytes.as_slice()) })
            .collect(),
        made_by: concat!("alignmap ", env!("CARGO_PKG_VERSION"), " (command line)"),
        title: options.title.clone(),
        categories,
        category_labels: None,
        comparison: Vec::new(),
    };
    let zip_options = ZipOptions {
        max_side: options.max_side,
        overlays: (!options.no_overlays).then_some(options.overlay.style()),
    };
    let bytes = contents.to_zip(&zip_options)?;
    std::fs::write(out, &bytes).map_err(|e| Error::io(out, e))?;
    eprintln!(
        "alignmap: wrote {} ({} images, {:.1} MB); open it in the page with index.html?results=<its URL>",
        out.display(),
        loaded.names.len(),
        bytes.len() as f64 / 1e6
    );
    Ok(())
}
