//! The paper's figures, drawn with plotters and written twice: `<stem>.svg` and `<stem>.png`.
//! Plain data in, files out. Text uses the embedded DejaVu Sans, so no system fonts are needed.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{Error, Result};

/// One group of Figure 1 (a category or a model): Full and Retained test alignment.
#[derive(Debug, Clone, PartialEq)]
pub struct BarGroup {
    /// Shown under the pair of bars.
    pub label: String,
    /// Mean test 2OI with all feature maps.
    pub full_mean: f64,
    /// Half-length of the Full error bar (e.g. the Loftus–Masson standard error).
    pub full_se: f64,
    /// Mean test 2OI with the selected feature maps S*.
    pub retained_mean: f64,
    /// Half-length of the Retained error bar.
    pub retained_se: f64,
    /// Mean |S*|, printed above the Retained bar.
    pub set_size_mean: f64,
}

/// The sequential-selection curves of one fold: 2OI with the top m feature maps, m = 1..M.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectionCurve {
    /// The fold, e.g. "seed 111, fold 0".
    pub label: String,
    /// Training 2OI for m = 1..M (NaN where undefined).
    pub train: Vec<f64>,
    /// Test 2OI for m = 1..M, same length as `train`.
    pub test: Vec<f64>,
    /// |S*|: the m (1-based) with the highest training 2OI.
    pub best_m: usize,
}

/// One sample of a histogram figure (e.g. one model's per-image AIS spread).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Shown in the legend.
    pub label: String,
    /// The values; NaN values are skipped and counted in the legend.
    pub values: Vec<f64>,
}

const SIZE: (u32, u32) = (960, 600);
const FONT: &str = "sans-serif";
const FULL_COLOR: RGBColor = RGBColor(166, 206, 227);
const RETAINED_COLOR: RGBColor = RGBColor(31, 120, 180);
const TRAIN_COLOR: RGBColor = RGBColor(230, 120, 0);
const TEST_COLOR: RGBColor = RGBColor(0, 100, 180);
/// Okabe–Ito colours, distinguishable with colour-vision deficiencies.
const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
];

/// Figure 1: per group, a Full and a Retained bar (mean ± error bar) with the mean |S*| above the
/// Retained bar.
pub fn full_vs_retained(stem: &Path, groups: &[BarGroup], y_label: &str) -> Result<()> {
    if groups.is_empty() {
        return Err(invalid(stem, "no groups to draw"));
    }
    for g in groups {
        let values = [g.full_mean, g.full_se, g.retained_mean, g.retained_se, g.set_size_mean];
        if values.iter().any(|v| !v.is_finite()) || g.full_se < 0.0 || g.retained_se < 0.0 {
            return Err(invalid(
                stem,
                &format!("group {:?} has a non-finite value or a negative error bar", g.label),
            ));
        }
    }
    write_figure(stem, &BarsFigure { groups, y_label })
}

/// The sequential-selection curves: per fold, train and test 2OI against m (faint), their means
/// over folds (bold), and a marker at each fold's S* on both curves.
pub fn selection_curves(stem: &Path, curves: &[SelectionCurve], y_label: &str) -> Result<()> {
    let Some(first) = curves.first() else {
        return Err(invalid(stem, "no curves to draw"));
    };
    let m = first.train.len();
    for c in curves {
        if c.train.len() != m || c.test.len() != m || m == 0 {
            return Err(invalid(
                stem,
                &format!("curve {:?}: train and test must both have {m} > 0 values", c.label),
            ));
        }
        if !(1..=m).contains(&c.best_m) {
            return Err(invalid(
                stem,
                &format!("curve {:?}: S* = {} is outside 1..={m}", c.label, c.best_m),
            ));
        }
    }
    if curves.iter().flat_map(|c| c.train.iter().chain(&c.test)).all(|v| !v.is_finite()) {
        return Err(invalid(stem, "every curve value is NaN"));
    }
    write_figure(stem, &CurvesFigure { curves, y_label })
}

/// Figure 3: histograms of several samples over shared bins, overlaid, with a legend that says how
/// many values each has and how many NaN were skipped.
pub fn histograms(stem: &Path, series: &[Series], bins: usize, x_label: &str) -> Result<()> {
    if series.is_empty() || bins == 0 {
        return Err(invalid(stem, "needs at least one series and one bin"));
    }
    if series.iter().flat_map(|s| &s.values).any(|v| v.is_infinite()) {
        return Err(invalid(stem, "a value is infinite"));
    }
    let finite = || series.iter().flat_map(|s| &s.values).filter(|v| !v.is_nan());
    let (lo, hi) =
        finite().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return Err(invalid(stem, "every value is NaN"));
    }
    // One value everywhere: give the single bin some width.
    let (lo, hi) = if lo == hi {
        (lo - 0.5 * lo.abs().max(1e-12), hi + 0.5 * hi.abs().max(1e-12))
    } else {
        (lo, hi)
    };
    let width = (hi - lo) / bins as f64;
    let counts = series.iter().map(|s| histogram_counts(&s.values, lo, width, bins)).collect();
    write_figure(stem, &HistogramFigure { series, counts, lo, width, x_label })
}

/// Counts of the non-NaN values in `bins` bins of `width` from `lo`; the last bin is closed on the
/// right, as np.histogram's.
fn histogram_counts(values: &[f64], lo: f64, width: f64, bins: usize) -> Vec<usize> {
    let mut counts = vec![0usize; bins];
    for v in values.iter().filter(|v| !v.is_nan()) {
        counts[(((v - lo) / width) as usize).min(bins - 1)] += 1;
    }
    counts
}

/// A figure that can draw itself on any plotters backend.
trait Figure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static;
}

type Drawn = std::result::Result<(), Box<dyn std::error::Error>>;

fn write_figure(stem: &Path, figure: &impl Figure) -> Result<()> {
    register_font().map_err(|e| invalid(stem, &e))?;
    let svg_path = with_extension(stem, "svg");
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        figure
            .draw(&root)
            .and_then(|()| Ok(root.present()?))
            .map_err(|e| invalid(&svg_path, &e.to_string()))?;
    }
    std::fs::write(&svg_path, svg).map_err(|e| Error::io(&svg_path, e))?;

    let png_path = with_extension(stem, "png");
    let (w, h) = SIZE;
    let mut pixels = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area();
        figure
            .draw(&root)
            .and_then(|()| Ok(root.present()?))
            .map_err(|e| invalid(&png_path, &e.to_string()))?;
    }
    let image = image::RgbImage::from_raw(w, h, pixels)
        .ok_or_else(|| invalid(&png_path, "pixel buffer of the wrong size"))?;
    image.save_with_format(&png_path, image::ImageFormat::Png).map_err(|e| match e {
        image::ImageError::IoError(io) => Error::io(&png_path, io),
        other => invalid(&png_path, &other.to_string()),
    })
}

/// Registers DejaVu Sans as plotters' "sans-serif" once per process.
fn register_font() -> std::result::Result<(), String> {
    static REGISTERED: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
                .map_err(|_| "the embedded DejaVu Sans font could not be loaded".to_string())
        })
        .clone()
}

fn with_extension(stem: &Path, extension: &str) -> PathBuf {
    let mut name = stem.as_os_str().to_owned();
    name.push(".");
    name.push(extension);
    PathBuf::from(name)
}

fn invalid(path: &Path, message: &str) -> Error {
    Error::Invalid(format!("{}: {message}", path.display()))
}

fn text(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&BLACK)
}

/// Axis range [min, max] of the values, padded by `pad` of its span (and including 0 if `zero`).
fn padded_range(values: impl Iterator<Item = f64>, zero: bool, pad: f64) -> (f64, f64) {
    let (mut lo, mut hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
    if zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    if lo == hi {
        return (lo - 1.0, hi + 1.0);
    }
    let span = hi - lo;
    (
        if zero && lo == 0.0 { 0.0 } else { lo - pad * span },
        if zero && hi == 0.0 { 0.0 } else { hi + pad * span },
    )
}

/// `color` blended with white (share `amount` of the colour), opaque.
fn tint(color: RGBColor, amount: f64) -> RGBColor {
    let mix = |c: u8| (c as f64 * amount + 255.0 * (1.0 - amount)).round() as u8;
    RGBColor(mix(color.0), mix(color.1), mix(color.2))
}

/// A tick label for an axis spanning lo..hi: fixed-point with just enough decimals for moderate
/// magnitudes, otherwise short scientific notation ("1.5e-4").
fn tick_label(v: f64, lo: f64, hi: f64) -> String {
    let magnitude = lo.abs().max(hi.abs());
    if v == 0.0 {
        return "0".into();
    }
    if (1e-2..1e5).contains(&magnitude) {
        let decimals = (-((hi - lo) / 10.0).log10()).ceil().clamp(0.0, 6.0) as usize;
        return format!("{v:.decimals$}");
    }
    let text = format!("{v:.2e}");
    match text.split_once('e') {
        Some((mantissa, exponent)) if mantissa.contains('.') => {
            format!("{}e{exponent}", mantissa.trim_end_matches('0').trim_end_matches('.'))
        }
        _ => text,
    }
}

/// "385" for set sizes: whole numbers without decimals, others with one.
fn format_count(v: f64) -> String {
    if (v - v.round()).abs() < 0.05 { format!("{}", v.round()) } else { format!("{v:.1}") }
}

struct BarsFigure<'a> {
    groups: &'a [BarGroup],
    y_label: &'a str,
}

impl Figure for BarsFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let tops = self.groups.iter().flat_map(|g| {
            [
                g.full_mean + g.full_se,
                g.retained_mean + g.retained_se,
                g.full_mean - g.full_se,
                g.retained_mean - g.retained_se,
            ]
        });
        // Head room above the bars for the |S*| numbers and the legend.
        let (y_lo, y_hi) = padded_range(tops, true, 0.28);
        let n = self.groups.len() as f64;
        let mut chart = ChartBuilder::on(root)
            .margin(20)
            .x_label_area_size(44)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0..n, y_lo..y_hi)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .max_light_lines(0)
            .bold_line_style(BLACK.mix(0.12))
            .y_desc(self.y_label)
            .axis_desc_style(text(20))
            .y_label_style(text(16))
            .draw()?;

        let (half_gap, bar) = (0.04, 0.34);
        let full_x = |i: usize| i as f64 + 0.5 - half_gap - bar / 2.0;
        let retained_x = |i: usize| i as f64 + 0.5 + half_gap + bar / 2.0;
        let rect = |x: f64, y: f64, color: RGBColor| {
            Rectangle::new([(x - bar / 2.0, 0.0), (x + bar / 2.0, y)], color.filled())
        };
        let outline = |x: f64, y: f64| {
            Rectangle::new(
                [(x - bar / 2.0, 0.0), (x + bar / 2.0, y)],
                BLACK.mix(0.6).stroke_width(1),
            )
        };
        let legend_box = |color: RGBColor| {
            move |(x, y): (i32, i32)| Rectangle::new([(x, y - 7), (x + 18, y + 7)], color.filled())
        };
        chart
            .draw_series(
                self.groups
                    .iter()
                    .enumerate()
                    .map(|(i, g)| rect(full_x(i), g.full_mean, FULL_COLOR)),
            )?
            .label("Full (all feature maps)")
            .legend(legend_box(FULL_COLOR));
        chart
            .draw_series(
                self.groups
                    .iter()
                    .enumerate()
                    .map(|(i, g)| rect(retained_x(i), g.retained_mean, RETAINED_COLOR)),
            )?
            .label("Retained (S*; mean |S*| above the bar)")
            .legend(legend_box(RETAINED_COLOR));
        chart.draw_series(self.groups.iter().enumerate().flat_map(|(i, g)| {
            [outline(full_x(i), g.full_mean), outline(retained_x(i), g.retained_mean)]
        }))?;

        let cap = bar / 5.0;
        let error_bar = |x: f64, mean: f64, se: f64| {
            let style = BLACK.stroke_width(2);
            [
                PathElement::new(vec![(x, mean - se), (x, mean + se)], style),
                PathElement::new(vec![(x - cap, mean - se), (x + cap, mean - se)], style),
                PathElement::new(vec![(x - cap, mean + se), (x + cap, mean + se)], style),
            ]
        };
        chart.draw_series(self.groups.iter().enumerate().flat_map(|(i, g)| {
            error_bar(full_x(i), g.full_mean, g.full_se).into_iter().chain(error_bar(
                retained_x(i),
                g.retained_mean,
                g.retained_se,
            ))
        }))?;

        let above = text(16).color(&RETAINED_COLOR).pos(Pos::new(HPos::Center, VPos::Bottom));
        chart.draw_series(self.groups.iter().enumerate().map(|(i, g)| {
            let top = (g.retained_mean + g.retained_se).max(g.retained_mean).max(0.0);
            EmptyElement::at((retained_x(i), top))
                + Text::new(format_count(g.set_size_mean), (0, -4), above.clone())
        }))?;

        let below = text(18).pos(Pos::new(HPos::Center, VPos::Top));
        for (i, g) in self.groups.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(i as f64 + 0.5, y_lo));
            root.draw(&Text::new(g.label.clone(), (x, y + 10), below.clone()))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(text(16))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .draw()?;
        Ok(())
    }
}

struct CurvesFigure<'a> {
    curves: &'a [SelectionCurve],
    y_label: &'a str,
}

impl CurvesFigure<'_> {
    /// The per-m mean over folds of the finite values (NaN where none is).
    fn mean(&self, pick: impl Fn(&SelectionCurve) -> &[f64]) -> Vec<f64> {
        let m = self.curves[0].train.len();
        (0..m)
            .map(|i| {
                let (sum, count) = self
                    .curves
                    .iter()
                    .map(|c| pick(c)[i])
                    .filter(|v| v.is_finite())
                    .fold((0.0, 0), |(s, n), v| (s + v, n + 1));
                if count == 0 { f64::NAN } else { sum / count as f64 }
            })
            .collect()
    }
}

/// The runs of finite values of a curve over m = 1.., as separate polylines (NaN breaks a line).
fn finite_runs(values: &[f64]) -> Vec<Vec<(f64, f64)>> {
    let mut runs = Vec::new();
    let mut current = Vec::new();
    for (i, &v) in values.iter().enumerate() {
        if v.is_finite() {
            current.push(((i + 1) as f64, v));
        } else if !current.is_empty() {
            runs.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

impl Figure for CurvesFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let m = self.curves[0].train.len();
        let (y_lo, y_hi) = padded_range(
            self.curves.iter().flat_map(|c| c.train.iter().chain(&c.test).copied()),
            false,
            0.06,
        );
        let mut chart = ChartBuilder::on(root)
            .margin(20)
            .x_label_area_size(56)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0..(m as f64 + 1.0), y_lo..y_hi)?;
        chart
            .configure_mesh()
            .max_light_lines(0)
            .bold_line_style(BLACK.mix(0.12))
            .x_desc("m (feature maps kept, in descending AIS order)")
            .y_desc(self.y_label)
            .axis_desc_style(text(20))
            .label_style(text(16))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .draw()?;

        for (pick, color) in [(0, TRAIN_COLOR), (1, TEST_COLOR)] {
            for c in self.curves {
                let values = if pick == 0 { &c.train } else { &c.test };
                chart.draw_series(
                    finite_runs(values)
                        .into_iter()
                        .map(|run| PathElement::new(run, tint(color, 0.35).stroke_width(1))),
                )?;
            }
        }
        let folds = self.curves.len();
        for (name, mean, color) in [
            ("train", self.mean(|c| &c.train), TRAIN_COLOR),
            ("test", self.mean(|c| &c.test), TEST_COLOR),
        ] {
            chart
                .draw_series(
                    finite_runs(&mean)
                        .into_iter()
                        .map(|run| PathElement::new(run, color.stroke_width(3))),
                )?
                .label(format!("{name}, mean of {folds} folds (faint: each fold)"))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
                });
        }
        let marker = |x: f64, y: f64, color: RGBColor| {
            Circle::new((x, y), 5, ShapeStyle::from(&color).filled())
        };
        let at = |values: &[f64], best: usize| values[best - 1];
        chart
            .draw_series(
                self.curves
                    .iter()
                    .filter(|c| at(&c.train, c.best_m).is_finite())
                    .map(|c| marker(c.best_m as f64, at(&c.train, c.best_m), TRAIN_COLOR)),
            )?
            .label("S* of each fold (on train and test)")
            .legend(|(x, y)| Circle::new((x + 10, y), 5, BLACK.filled()));
        chart.draw_series(
            self.curves
                .iter()
                .filter(|c| at(&c.test, c.best_m).is_finite())
                .map(|c| marker(c.best_m as f64, at(&c.test, c.best_m), TEST_COLOR)),
        )?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font(text(16))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .draw()?;
        Ok(())
    }
}

struct HistogramFigure<'a> {
    series: &'a [Series],
    counts: Vec<Vec<usize>>,
    lo: f64,
    width: f64,
    x_label: &'a str,
}

impl Figure for HistogramFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let bins = self.counts[0].len();
        let hi = self.lo + self.width * bins as f64;
        let top = self.counts.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
        let mut chart = ChartBuilder::on(root)
            .margin(20)
            .x_label_area_size(56)
            .y_label_area_size(80)
            .build_cartesian_2d(self.lo..hi, 0.0..top * 1.15)?;
        chart
            .configure_mesh()
            .max_light_lines(0)
            .bold_line_style(BLACK.mix(0.12))
            .x_desc(self.x_label)
            .y_desc("Count")
            .axis_desc_style(text(20))
            .label_style(text(16))
            .x_label_formatter(&|v| tick_label(*v, self.lo, hi))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()?;

        for (k, (s, counts)) in self.series.iter().zip(&self.counts).enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let edge = |b: usize| self.lo + self.width * b as f64;
            chart.draw_series(counts.iter().enumerate().map(|(b, &c)| {
                Rectangle::new([(edge(b), 0.0), (edge(b + 1), c as f64)], color.mix(0.3).filled())
            }))?;
            // The outline as one step line, so overlapping series stay readable.
            let mut step = vec![(edge(0), 0.0)];
            for (b, &c) in counts.iter().enumerate() {
                step.extend([(edge(b), c as f64), (edge(b + 1), c as f64)]);
            }
            step.push((edge(bins), 0.0));
            let skipped = s.values.iter().filter(|v| v.is_nan()).count();
            let kept = s.values.len() - skipped;
            let label = if skipped > 0 {
                format!("{} (n = {kept}; {skipped} NaN skipped)", s.label)
            } else {
                format!("{} (n = {kept})", s.label)
            };
            chart
                .draw_series(std::iter::once(PathElement::new(step, color.stroke_width(2))))?
                .label(label)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 7), (x + 18, y + 7)], color.mix(0.5).filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(text(16))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .draw()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PNG decodes to the figure size and has at least `min_share` of non-white pixels.
    fn check_png(path: &Path, min_share: f64) {
        let image = image::open(path).unwrap().to_rgb8();
        assert_eq!(image.dimensions(), SIZE);
        let inked = image.pixels().filter(|p| p.0 != [255, 255, 255]).count();
        assert!(
            inked as f64 > min_share * image.pixels().len() as f64,
            "{}: only {inked} non-white pixels",
            path.display()
        );
    }

    fn check_svg(path: &Path, labels: &[&str]) {
        let svg = std::fs::read_to_string(path).unwrap();
        assert!(svg.starts_with("<svg"), "{}", path.display());
        for label in labels {
            assert!(svg.contains(label), "{} lacks {label:?}", path.display());
        }
    }

    #[test]
    fn full_vs_retained_writes_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("fig1");
        let group = |label: &str, f: f64, r: f64, s: f64| BarGroup {
            label: label.into(),
            full_mean: f,
            full_se: 0.014,
            retained_mean: r,
            retained_se: 0.014,
            set_size_mean: s,
        };
        let groups = [
            group("Animals", 0.55, 0.62, 385.0),
            group("Fruits", 0.28, 0.35, 322.4),
            group("Vegetables", 0.32, 0.32, 252.0),
        ];
        full_vs_retained(&stem, &groups, "Test alignment (Pearson r²)").unwrap();
        check_png(&dir.path().join("fig1.png"), 0.05);
        check_svg(
            &dir.path().join("fig1.svg"),
            &["Animals", "Vegetables", "385", "322.4", "Test alignment", "Retained"],
        );
        assert!(full_vs_retained(&stem, &[], "y").is_err());
        let mut bad = groups[0].clone();
        bad.full_mean = f64::NAN;
        assert!(full_vs_retained(&stem, &[bad], "y").is_err());
    }

    #[test]
    fn selection_curves_write_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("curves");
        let curve = |k: usize| {
            let peak = 300.0 + 40.0 * k as f64;
            let train: Vec<f64> = (1..=512)
                .map(|m| 0.6 - ((m as f64 - peak) / 400.0).powi(2) + 0.01 * k as f64)
                .collect();
            let mut test: Vec<f64> = train.iter().map(|v| v - 0.08).collect();
            test[0] = f64::NAN;
            SelectionCurve { label: format!("fold {k}"), train, test, best_m: peak as usize }
        };
        let curves: Vec<_> = (0..5).map(curve).collect();
        selection_curves(&stem, &curves, "2OI (r²)").unwrap();
        check_png(&dir.path().join("curves.png"), 0.02);
        check_svg(
            &dir.path().join("curves.svg"),
            &["2OI (r²)", "mean of 5 folds", "S* of each fold"],
        );
        let mut bad = curves[0].clone();
        bad.best_m = 0;
        assert!(selection_curves(&stem, &[bad], "y").is_err());
    }

    #[test]
    fn histograms_write_both_files_and_count_nan() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("hist");
        // Bell-shaped: the mean of four low-discrepancy sequences.
        let values = |shift: f64| {
            let golden = [0.618_034, 0.414_214, 0.732_051, 0.236_068];
            (1..=120)
                .map(|i| {
                    1e-4 * (1.0
                        + shift
                        + golden.iter().map(|g| (i as f64 * g) % 1.0).sum::<f64>() / 2.0)
                })
                .collect::<Vec<f64>>()
        };
        let mut imagenet = values(0.0);
        imagenet[3] = f64::NAN;
        let series = [
            Series { label: "Ecoset".into(), values: values(0.4) },
            Series { label: "ImageNet".into(), values: imagenet },
        ];
        histograms(&stem, &series, 12, "Mean absolute deviation of an image's AIS").unwrap();
        check_png(&dir.path().join("hist.png"), 0.05);
        check_svg(
            &dir.path().join("hist.svg"),
            &["Ecoset (n = 120)", "ImageNet (n = 119; 1 NaN skipped)", "Mean absolute deviation"],
        );
        let all_nan = [Series { label: "x".into(), values: vec![f64::NAN] }];
        assert!(histograms(&stem, &all_nan, 10, "x").is_err());
        // A single repeated value still draws.
        histograms(&stem, &[Series { label: "flat".into(), values: vec![0.25; 4] }], 5, "x")
            .unwrap();
    }

    #[test]
    fn histogram_bins_match_numpy() {
        // np.histogram([0, 1, 2, 3, 4], bins=2) → [2, 3]: the last bin is closed; NaN is skipped.
        assert_eq!(histogram_counts(&[0.0, 1.0, 2.0, 3.0, 4.0, f64::NAN], 0.0, 2.0, 2), [2, 3]);
        assert_eq!(
            finite_runs(&[1.0, f64::NAN, 2.0, 3.0]),
            [vec![(1.0, 1.0)], vec![(3.0, 2.0), (4.0, 3.0)]]
        );
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(tick_label(1.5e-4, 1e-4, 3.4e-4), "1.5e-4");
        assert_eq!(tick_label(2e-4, 1e-4, 3.4e-4), "2e-4");
        assert_eq!(tick_label(0.25, 0.0, 0.7), "0.25");
        assert_eq!(tick_label(0.3, 0.0, 0.7), "0.30");
        assert_eq!(tick_label(120.0, 0.0, 500.0), "120");
    }
}
