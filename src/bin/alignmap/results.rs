//! Reading back an `alignmap analyze` output folder (for `maps`, `saliency` and
//! `cross-category`), with errors that name the file and what was expected.

use std::path::{Path, PathBuf};

use alignmap::error::{Error, Result};
use alignmap::heatmap::{Colormap, Heatmap, OverlayStyle};
use alignmap::report;

/// The parts of an analyze folder the map commands use.
/// An `alignmap analyze` output folder and the images it analysed.
#[derive(clap::Args, Clone)]
pub struct FolderArgs {
    /// An `alignmap analyze` (or `validate`) output folder.
    #[arg(long)]
    pub results: PathBuf,
    /// The folder of the analysed images.
    #[arg(long)]
    pub images: PathBuf,
}

/// How overlays are drawn.
#[derive(clap::Args, Clone)]
pub struct OverlayArgs {
    /// Colour map of the overlays: jet (the paper's), viridis or magma.
    #[arg(long, default_value = "jet")]
    pub colormap: Colormap,
    /// The image's share of each overlay pixel (the paper: 0.6).
    #[arg(long, default_value_t = 0.6)]
    pub image_weight: f64,
}

impl OverlayArgs {
    pub fn style(&self) -> OverlayStyle {
        OverlayStyle { colormap: self.colormap, image_weight: self.image_weight }
    }
}

pub struct AnalysisResults {
    pub dir: PathBuf,
    /// Image file names, in row order.
    pub names: Vec<String>,
    pub channels: usize,
    /// Per-image AIS, `n × channels`.
    pub ais_image: Vec<f64>,
    /// Per image: feature maps `[channels, h, w]` and their shape.
    pub maps: Vec<(Vec<f32>, [usize; 3])>,
}

fn invalid(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("{}: {what}", path.display()))
}

/// An `.npy` array as f32 values and its shape.
pub fn read_npy(path: &Path) -> Result<(Vec<f32>, Vec<usize>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    report::read_npy_f32(&path.display().to_string(), &bytes)
}

/// A score table of the folder at full precision (the `.npy` arrays are float32), checked
/// against its array.
pub fn exact_table(
    dir: &Path,
    file: &str,
    rows: &[String],
    as_f32: &[f32],
    columns: usize,
) -> Result<Vec<f64>> {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    report::read_score_csv(&path.display().to_string(), &text, rows, as_f32, columns)
}

impl AnalysisResults {
    pub fn load(dir: &Path) -> Result<AnalysisResults> {
        let names_path = dir.join("images.txt");
        let text = std::fs::read_to_string(&names_path).map_err(|e| Error::io(&names_path, e))?;
        let names: Vec<String> =
            text.lines().filter(|l| !l.is_empty()).map(str::to_string).collect();
        let n = names.len();
        let ais_path = dir.join("ais_image.npy");
        let (ais, shape) = read_npy(&ais_path)?;
        let [rows, channels] = shape[..] else {
            return Err(invalid(
                &ais_path,
                format!("expected a 2-D array (images × feature maps), got shape {shape:?}"),
            ));
        };
        if rows != n {
            return Err(invalid(
                &ais_path,
                format!("{rows} rows, but images.txt names {n} images"),
            ));
        }
        let maps = read_maps(dir, &names, channels)?;
        let ais_image = exact_table(dir, "ais_image.csv", &names, &ais, channels)?;
        Ok(AnalysisResults { dir: dir.to_path_buf(), names, channels, ais_image, maps })
    }

    /// Image i's heatmap at feature-map resolution; `None`: no positive AIS.
    pub fn heatmap(&self, i: usize) -> Result<Option<Heatmap>> {
        let (maps, shape) = &self.maps[i];
        Heatmap::from_scores(
            &self.ais_image[i * self.channels..(i + 1) * self.channels],
            maps,
            *shape,
        )
    }

    /// The row of an image by file name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

/// `last_conv.npy` (`[n, channels, h, w]`), or `last_conv/<name>.npy` per image.
fn read_maps(dir: &Path, names: &[String], channels: usize) -> Result<Vec<(Vec<f32>, [usize; 3])>> {
    let all = dir.join("last_conv.npy");
    let per_image =
        |values: Vec<f32>, shape: &[usize], path: &Path| -> Result<(Vec<f32>, [usize; 3])> {
            match *shape {
                [c, h, w] if c == channels => Ok((values, [c, h, w])),
                _ => Err(invalid(
                    path,
                    format!("expected feature maps of shape [{channels}, h, w], got {shape:?}"),
                )),
            }
        };
    if all.is_file() {
        let (values, shape) = read_npy(&all)?;
        let [n, c, h, w] = shape[..] else {
            return Err(invalid(
                &all,
                format!("expected [images, feature maps, h, w], got {shape:?}"),
            ));
        };
        if n != names.len() {
            return Err(invalid(&all, format!("{n} images, but images.txt names {}", names.len())));
        }
        return values
            .chunks_exact(c * h * w)
            .map(|chunk| per_image(chunk.to_vec(), &[c, h, w], &all))
            .collect();
    }
    names
        .iter()
        .map(|name| {
            let path = dir.join("last_conv").join(format!("{name}.npy"));
            if !path.is_file() {
                return Err(invalid(dir, format!("neither last_conv.npy nor last_conv/{name}.npy exists: is this an `alignmap analyze` output folder?")));
            }
            let (values, shape) = read_npy(&path)?;
            per_image(values, &shape, &path)
        })
        .collect()
}
