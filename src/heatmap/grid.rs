//! A grid figure of chosen overlays: tiles resized to one size, a few pixels apart.

use super::Rgb;
use crate::error::{Error, Result};
use crate::resample::resize_rgb8;

const GAP: usize = 4;
const BACKGROUND: u8 = 255;

/// Lays `tiles` out in rows of `columns`, each resized (Pillow bilinear) to `side × side`.
pub fn grid(tiles: &[Rgb], columns: usize, side: usize) -> Result<Rgb> {
    if tiles.is_empty() || columns == 0 || side == 0 {
        return Err(Error::Invalid(
            "a grid needs at least one image, one column and a tile size above 0".into(),
        ));
    }
    let columns = columns.min(tiles.len());
    let rows = tiles.len().div_ceil(columns);
    let width = columns * side + (columns + 1) * GAP;
    let height = rows * side + (rows + 1) * GAP;
    let mut pixels = vec![BACKGROUND; width * height * 3];
    for (i, tile) in tiles.iter().enumerate() {
        let resized = resize_rgb8(&tile.pixels, tile.width, tile.height, side, side);
        let (x0, y0) = (GAP + (i % columns) * (side + GAP), GAP + (i / columns) * (side + GAP));
        for (y, row) in resized.chunks_exact(side * 3).enumerate() {
            let start = ((y0 + y) * width + x0) * 3;
            pixels[start..start + side * 3].copy_from_slice(row);
        }
    }
    Ok(Rgb { width, height, pixels })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_land_in_rows_and_columns() {
        let tile = |v: u8| Rgb { width: 2, height: 2, pixels: vec![v; 12] };
        let out = grid(&[tile(10), tile(20), tile(30)], 2, 2).unwrap();
        assert_eq!((out.width, out.height), (2 * 2 + 3 * GAP, 2 * 2 + 3 * GAP));
        let at = |x: usize, y: usize| out.pixels[(y * out.width + x) * 3];
        assert_eq!(at(GAP, GAP), 10);
        assert_eq!(at(2 * GAP + 2, GAP), 20);
        assert_eq!(at(GAP, 2 * GAP + 2), 30);
        assert_eq!(at(2 * GAP + 2, 2 * GAP + 2), BACKGROUND);
        assert!(grid(&[], 2, 2).is_err());
    }
}
