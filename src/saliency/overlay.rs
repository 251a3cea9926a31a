//! The authors' figure of Aim 3: on the image, the edges of the thresholded saliency map (orange)
//! and AIS heatmap (blue) at the three levels, and the three relative risks printed at the top
//! left in green (`overlay_prediction_ground_truth` in the authors' `viz_heatmap.py`).

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use image::{Rgb, RgbImage};

use super::risk::{self, LEVELS, LevelRisk};
use crate::error::{Error, Result};

/// Edge colours, in drawing order: saliency then AIS at 5 %, 10 % and 15 % (later ones are drawn
/// over earlier ones), the authors' six.
pub const COLOURS: [[u8; 3]; 6] =
    [[230, 115, 0], [0, 0, 255], [255, 153, 51], [0, 102, 255], [255, 204, 153], [51, 153, 255]];
/// The RR text colour.
pub const TEXT_COLOUR: [u8; 3] = [0, 255, 0];

/// Pillow's `ImageFilter.FIND_EDGES` on a binary mask: inside the image, a mask pixel with at
/// least one non-mask pixel among its 8 neighbours. Pillow's 3×3 filters copy the outermost rows
/// and columns unfiltered, so on the image's frame every mask pixel is an edge.
pub fn edges(mask: &[bool], width: usize, height: usize) -> Vec<bool> {
    let at = |x: usize, y: usize| mask[y * width + x];
    (0..height)
        .flat_map(|y| (0..width).map(move |x| (x, y)))
        .map(|(x, y)| {
            if !at(x, y) || x == 0 || y == 0 || x + 1 == width || y + 1 == height {
                return at(x, y);
            }
            (y - 1..=y + 1).any(|v| (x - 1..=x + 1).any(|u| !at(u, v)))
        })
        .collect()
}

/// The text the authors print: each RR rounded half-to-even to 2 decimals, written as Python's
/// `str` writes a float (`2.0`, `4.57`), separated by spaces; an undefined RR reads `n/a`.
pub fn rr_label(risks: &[LevelRisk]) -> String {
    let one = |r: &LevelRisk| match r.rr {
        Some(v) => {
            let s = format!("{}", (v * 100.0).round_ties_even() / 100.0);
            if s.contains(['.', 'e', 'i', 'N']) { s } else { s + ".0" }
        }
        None => "n/a".into(),
    };
    risks.iter().map(one).collect::<Vec<_>>().join(" ")
}

/// Draws the contours and the RR text on a copy of `image`; `saliency` and `ais_heat` are
/// row-major at the image's resolution. Returns the picture and the relative risks.
pub fn contour_overlay(
    image: &RgbImage,
    saliency: &[f32],
    ais_heat: &[f32],
) -> Result<(RgbImage, Vec<LevelRisk>)> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let risks = risk::relative_risks(saliency, ais_heat, w, h)?;
    let mut out = image.clone();
    let mut colours = COLOURS.iter();
    for percent in LEVELS {
        for map in [saliency, ais_heat] {
            let colour = Rgb(*colours.next().expect("two colours per level"));
            let edge = edges(&risk::top_mask(map, percent)?, w, h);
            for (i, _) in edge.iter().enumerate().filter(|(_, e)| **e) {
                out.put_pixel((i % w) as u32, (i / w) as u32, colour);
            }
        }
    }
    draw_text(&mut out, &rr_label(&risks), (w / 10) as f32)?;
    Ok((out, risks))
}

/// Draws `text` in DejaVu Sans at `size` pixels per em with its ascender line at the top edge
/// (Pillow's default anchor "la" at (0, 0)), blending [`TEXT_COLOUR`] by glyph coverage.
fn draw_text(image: &mut RgbImage, text: &str, size: f32) -> Result<()> {
    let font = FontRef::try_from_slice(dejavu::sans::regular())
        .map_err(|e| Error::Invalid(format!("the embedded DejaVu Sans font: {e}")))?;
    let Some(units_per_em) = font.units_per_em() else {
        return Err(Error::Invalid("the embedded DejaVu Sans font has no units per em".into()));
    };
    if size < 1.0 {
        return Ok(());
    }
    let scale = PxScale::from(size * font.height_unscaled() / units_per_em);
    let scaled = font.as_scaled(scale);
    let mut caret = point(0.0, scaled.ascent());
    let mut previous = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(prev) = previous {
            caret.x += scaled.kern(prev, id);
        }
        previous = Some(id);
        let glyph = id.with_scale_and_position(scale, caret);
        caret.x += scaled.h_advance(id);
        let Some(outlined) = font.outline_glyph(glyph) else { continue };
        let bounds = outlined.px_bounds();
        outlined.draw(|x, y, coverage| {
            let (px, py) = (bounds.min.x as i64 + x as i64, bounds.min.y as i64 + y as i64);
            if px < 0 || py < 0 || px >= image.width() as i64 || py >= image.height() as i64 {
                return;
            }
            let pixel = image.get_pixel_mut(px as u32, py as u32);
            let a = coverage.clamp(0.0, 1.0);
            for (p, ink) in pixel.0.iter_mut().zip(TEXT_COLOUR) {
                *p = (*p as f32 + (ink as f32 - *p as f32) * a).round() as u8;
            }
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::saliency::risk::Counts;

    #[test]
    fn edges_match_pillow_find_edges() {
        // Pillow 13: Image.fromarray(m).filter(ImageFilter.FIND_EDGES) with m = a 3×4 block at
        // the top left and one pixel at (5, 4) in a 7 × 6 mask: the block's inside (1, 1), (2, 1)
        // drops out; the block's top row and left column stay (frame rule).
        let (w, h) = (7, 6);
        let mut m = vec![false; w * h];
        for y in 0..3 {
            for x in 0..4 {
                m[y * w + x] = true;
            }
        }
        m[4 * w + 5] = true;
        let mut expected = m.clone();
        expected[w + 1] = false;
        expected[w + 2] = false;
        assert_eq!(edges(&m, w, h), expected);
        // A full mask keeps only its frame.
        let full = edges(&[true; 20], 5, 4);
        assert_eq!(full.iter().filter(|&&e| !e).count(), 6);
    }

    #[test]
    fn label_writes_floats_as_python_does() {
        let level = |rr| LevelRisk { percent: 5, counts: Counts::default(), rr, undefined: None };
        assert_eq!(
            rr_label(&[level(Some(13.0749)), level(Some(2.0)), level(None)]),
            "13.07 2.0 n/a"
        );
        assert_eq!(rr_label(&[level(Some(4.565)), level(Some(0.125))]), "4.57 0.12");
    }

    #[test]
    fn overlay_draws_contours_and_green_text() {
        let (w, h) = (120usize, 80usize);
        let image = RgbImage::from_pixel(w as u32, h as u32, Rgb([128, 128, 128]));
        // Saliency rises to the right, AIS downwards: the masks are vertical and horizontal bands.
        let sal: Vec<f32> = (0..w * h).map(|i| (i % w) as f32).collect();
        let ais: Vec<f32> = (0..w * h).map(|i| (i / w) as f32 + (i % w) as f32 * 1e-3).collect();
        let (out, risks) = contour_overlay(&image, &sal, &ais).unwrap();
        assert_eq!(risks.len(), 3);
        // Saliency = x: Sal at 5/10/15 % is the columns x ≥ 114/108/102, so column 119 (the
        // frame) is an edge at every level, last drawn in the 15 % saliency colour; AIS ≈ y:
        // the bottom row is an edge of every AIS mask, last drawn in the 15 % AIS colour.
        let column_has = |x: u32, c: [u8; 3]| (20..h as u32).any(|y| out.get_pixel(x, y).0 == c);
        assert!(
            column_has(119, COLOURS[4])
                && column_has(114, COLOURS[0])
                && column_has(108, COLOURS[2])
        );
        assert!((0..w as u32).all(|x| out.get_pixel(x, h as u32 - 1).0 == COLOURS[5]));
        let is_text = |p: &Rgb<u8>| p.0[1] > 200 && p.0[0] < 100 && p.0[2] < 100;
        let text_rows: Vec<u32> =
            out.enumerate_pixels().filter(|(_, _, p)| is_text(p)).map(|(_, y, _)| y).collect();
        assert!(text_rows.len() > 20, "the RR text is drawn ({} green pixels)", text_rows.len());
        assert!(text_rows.iter().all(|&y| y < 16), "12 px text stays in the top rows");
    }
}
