//! `alignmap maps`: per-image AIS heatmaps drawn over their images, and a grid of chosen ones.

use std::path::{Path, PathBuf};

use alignmap::cohort;
use alignmap::error::{Error, Result};
use alignmap::file_names::stem;
use alignmap::heatmap::{self, Rgb};
use alignmap::report;

use crate::create_dir;
use crate::results::{AnalysisResults, FolderArgs, OverlayArgs};

#[derive(clap::Args)]
pub struct MapsArgs {
    #[command(flatten)]
    pub folder: FolderArgs,
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub overlay: OverlayArgs,
    /// Images (file names) for the grid figure, space- or comma-separated; default: the first 12.
    #[arg(long, num_args = 1.., value_delimiter = ',')]
    pub grid: Option<Vec<String>>,
    /// Grid columns.
    #[arg(long, default_value_t = 4)]
    pub columns: usize,
    /// Side of a grid tile in pixels.
    #[arg(long, default_value_t = 224)]
    pub tile: usize,
}

/// Writes `overlays/<stem>.png` per image, `heatmaps.npy` (`n × h × w`, NaN rows for images
/// without a map; when all maps share one size), `grid.png` and `maps.json`.
pub fn maps(args: &MapsArgs) -> Result<()> {
    let results = AnalysisResults::load(&args.folder.results)?;
    let style = args.overlay.style();
    let overlays = args.out.join("overlays");
    create_dir(&overlays)?;
    let mut drawn: Vec<Option<Rgb>> = Vec::with_capacity(results.names.len());
    let mut heatmaps = Vec::with_capacity(results.names.len());
    let mut without = Vec::new();
    for (i, name) in results.names.iter().enumerate() {
        let path = args.folder.images.join(name);
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let image = Rgb::from(cohort::decode(name, &bytes)?);
        let heat = results.heatmap(i)?;
        let overlay = match &heat {
            Some(heat) => heatmap::overlay(&image, heat, style)?,
            None => None,
        };
        match &overlay {
            Some(rgb) => write_png(&overlays.join(format!("{}.png", stem(name))), rgb)?,
            None => without.push(name.clone()),
        }
        heatmaps.push(heat);
        drawn.push(overlay);
    }
    if !without.is_empty() {
        eprintln!(
            "alignmap: {} image(s) have nothing to draw (no positive AIS, or a heatmap with no positive value, which signed feature maps can give): {}",
            without.len(),
            without.join(", ")
        );
    }
    write_heatmaps(&args.out.join("heatmaps.npy"), &results, &heatmaps)?;
    let chosen = grid_choice(args, &results, &drawn)?;
    let tiles: Vec<Rgb> = chosen.iter().filter_map(|&i| drawn[i].clone()).collect();
    if !tiles.is_empty() {
        write_png(&args.out.join("grid.png"), &heatmap::grid(&tiles, args.columns, args.tile)?)?;
    }
    report::write_json(
        &args.out.join("maps.json"),
        &serde_json::json!({
            "results": results.dir.display().to_string(),
            "colormap": args.overlay.colormap.name(),
            "image_weight": args.overlay.image_weight,
            "display": "heatmap resized to the image (OpenCV bilinear), clipped at 0, divided by its max, squared, colour-mapped, blended",
            "images_without_map": without,
            "images_without_map_means": "no positive AIS (no heatmap), or a heatmap with no positive value (nothing to show after clipping at 0)",
            "grid": chosen.iter().map(|&i| &results.names[i]).collect::<Vec<_>>(),
        }),
    )?;
    eprintln!(
        "alignmap: wrote {} overlays, heatmaps.npy and grid.png to {}",
        results.names.len() - without.len(),
        args.out.display()
    );
    Ok(())
}

pub fn write_png(path: &Path, rgb: &Rgb) -> Result<()> {
    let image = image::RgbImage::from_raw(rgb.width as u32, rgb.height as u32, rgb.pixels.clone())
        .ok_or_else(|| {
            Error::Invalid(format!("{}: pixel buffer does not match its size", path.display()))
        })?;
    image
        .save(path)
        .map_err(|e| Error::Invalid(format!("{}: cannot write PNG ({e})", path.display())))
}

fn grid_choice(
    args: &MapsArgs,
    results: &AnalysisResults,
    drawn: &[Option<Rgb>],
) -> Result<Vec<usize>> {
    match &args.grid {
        Some(names) => names
            .iter()
            .map(|name| {
                let i = results.index_of(name).ok_or_else(|| Error::Invalid(format!("--grid: '{name}' is not an image of {}", results.dir.join("images.txt").display())))?;
                if drawn[i].is_none() {
                    return Err(Error::Invalid(format!("--grid: '{name}' has nothing to draw (no positive AIS or no positive heatmap value)")));
                }
                Ok(i)
            })
            .collect(),
        None => Ok((0..drawn.len()).filter(|&i| drawn[i].is_some()).take(12).collect()),
    }
}

fn write_heatmaps(
    path: &Path,
    results: &AnalysisResults,
    heatmaps: &[Option<heatmap::Heatmap>],
) -> Result<()> {
    let shapes: Vec<[usize; 3]> = results.maps.iter().map(|(_, s)| *s).collect();
    if shapes.windows(2).any(|w| w[0] != w[1]) {
        return Ok(()); // maps of different sizes: the overlays are the output
    }
    let [_, h, w] = shapes[0];
    let values: Vec<f32> = heatmaps
        .iter()
        .flat_map(|heat| heat.as_ref().map_or_else(|| vec![f32::NAN; h * w], |m| m.values.clone()))
        .collect();
    report::write_npy_f32(path, &[heatmaps.len(), h, w], &values)
}
