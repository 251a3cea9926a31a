//! Saliency maps made elsewhere (TranSalNet, as in the paper, or any other model): grayscale PNG
//! (8 or 16 bit) or 2-D NPY (f32, f64 or u8) of any size, matched to images by file stem and
//! brought to the image's size as the authors' `postprocess_img` (copied from TranSalNet) does.

use std::io::Cursor;

use image::{DynamicImage, ImageReader, Limits};

use crate::cohort::{MAX_DECODE_BYTES, MAX_SIDE};
use crate::error::{Error, Result};
use crate::resample;

/// File extensions of saliency maps, lower case.
pub const MAP_EXTENSIONS: [&str; 2] = ["png", "npy"];

/// A saliency map as stored: any size, values as stored (not rescaled).
#[derive(Clone, Debug, PartialEq)]
pub struct StoredMap {
    pub width: usize,
    pub height: usize,
    /// Row-major.
    pub values: Vec<f32>,
}

/// Reads a saliency map file's bytes: NPY when they start with NumPy's magic, else PNG.
/// `name` labels errors.
pub fn decode_map(name: &str, bytes: &[u8]) -> Result<StoredMap> {
    let map = if bytes.starts_with(b"\x93NUMPY") {
        decode_npy(name, bytes)?
    } else {
        decode_png(name, bytes)?
    };
    if map.width == 0 || map.height == 0 {
        return Err(Error::image(name, "the saliency map has no pixels"));
    }
    if map.values.iter().any(|v| !v.is_finite()) {
        return Err(Error::image(name, "the saliency map holds NaN or infinite values"));
    }
    Ok(map)
}

fn decode_png(name: &str, bytes: &[u8]) -> Result<StoredMap> {
    let bad = |m: String| Error::image(name, m);
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| bad(format!("cannot read: {e}")))?;
    if reader.format() != Some(image::ImageFormat::Png) {
        return Err(bad(
            "not a saliency map alignmap can read (expected a grayscale PNG or a 2-D NPY)".into(),
        ));
    }
    let mut reader = reader;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let (width, height, values) =
        match reader.decode().map_err(|e| bad(format!("not a decodable PNG: {e}")))? {
            DynamicImage::ImageLuma8(g) => {
                (g.width(), g.height(), g.into_raw().into_iter().map(f32::from).collect())
            }
            DynamicImage::ImageLuma16(g) => {
                (g.width(), g.height(), g.into_raw().into_iter().map(f32::from).collect())
            }
            other => {
                return Err(bad(format!(
                    "expected a grayscale PNG (8 or 16 bit, no alpha), found {:?}",
                    other.color()
                )));
            }
        };
    Ok(StoredMap { width: width as usize, height: height as usize, values })
}

fn decode_npy(name: &str, bytes: &[u8]) -> Result<StoredMap> {
    use crate::similarity::npy;
    let bad = |m: String| Error::image(name, m);
    // The similarity readers: header size and nesting checked, then the data's size against the
    // shape, before anything is allocated; Fortran order made C order.
    let (header, data) = npy::split(name, bytes)?;
    let &[height, width] = &header.shape[..] else {
        return Err(bad(format!(
            "expected a 2-D array (height, width), found shape {:?}",
            header.shape
        )));
    };
    if width > MAX_SIDE as usize || height > MAX_SIDE as usize {
        return Err(bad(format!("{width}×{height} is too large (at most {MAX_SIDE} per side)")));
    }
    let descr = header.descr(); // quoted, as numpy writes it: '<f4'
    if !matches!(
        descr.trim_matches('\'').trim_start_matches(['<', '>', '=', '|']),
        "f4" | "f8" | "u1"
    ) {
        return Err(bad(format!("expected float32, float64 or uint8 values, found dtype {descr}")));
    }
    let values = npy::numbers(name, &header, data)?.into_iter().map(|v| v as f32).collect();
    Ok(StoredMap { width, height, values })
}

/// TranSalNet's `postprocess_img` (the authors' copy): resize with the aspect ratio kept so the
/// map covers the image (OpenCV linear interpolation), then crop the centre. With integer
/// division as in the Python: when `height / map_height > width / map_width` the map becomes
/// `(map_width · height) // map_height` wide and `height` high and loses `(new − width) // 2`
/// columns on the left; otherwise `width` wide and `(map_height · width) // map_width` high.
/// A map already at the image's size is returned unchanged.
///
/// The authors call it with PIL's `image.size`, which is (width, height), where the function
/// expects (rows, columns): for non-square images their saliency map comes out transposed in
/// shape. This follows TranSalNet's own call (rows = height).
pub fn transalnet_postprocess(map: &StoredMap, width: usize, height: usize) -> Vec<f32> {
    let (mw, mh) = (map.width, map.height);
    let rows_rate = height as f64 / mh as f64;
    let cols_rate = width as f64 / mw as f64;
    if rows_rate > cols_rate {
        let new_cols = mw * height / mh;
        let resized = resample::resize_linear_f32(&map.values, mw, mh, new_cols, height);
        let left = (new_cols - width) / 2;
        resized
            .chunks_exact(new_cols)
            .flat_map(|row| row[left..left + width].iter().copied())
            .collect()
    } else {
        let new_rows = mh * width / mw;
        let resized = resample::resize_linear_f32(&map.values, mw, mh, width, new_rows);
        let top = (new_rows - height) / 2;
        resized[top * width..(top + height) * width].to_vec()
    }
}

/// Reads the saliency map of each image from `dir`: `<image file stem>.png` or `.npy`. Every
/// image must have exactly one; the error lists all that have none.
#[cfg(not(target_family = "wasm"))]
pub fn load_dir(dir: &std::path::Path, image_names: &[String]) -> Result<Vec<StoredMap>> {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    let mut by_stem: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        let is_map = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| MAP_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        if let (true, true, Some(stem)) = (is_map, path.is_file(), path.file_stem()) {
            by_stem.entry(stem.to_string_lossy().into_owned()).or_default().push(path);
        }
    }
    let stem = |name: &String| {
        Path::new(name)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| name.clone())
    };
    let missing: Vec<&String> =
        image_names.iter().filter(|n| !by_stem.contains_key(&stem(n))).collect();
    if !missing.is_empty() {
        let list: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        return Err(Error::Invalid(format!(
            "{}: no saliency map (<stem>.png or <stem>.npy) for {} of {} image(s): {}",
            dir.display(),
            missing.len(),
            image_names.len(),
            list.join(", ")
        )));
    }
    image_names
        .iter()
        .map(|name| {
            let paths = &by_stem[&stem(name)];
            let [path] = &paths[..] else {
                let found: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                return Err(Error::Invalid(format!(
                    "{name}: more than one saliency map: {}",
                    found.join(", ")
                )));
            };
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            decode_map(&path.display().to_string(), &bytes)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use npyz::WriterBuilder;

    fn npy<T: npyz::AutoSerialize + Copy>(shape: &[u64], values: &[T], fortran: bool) -> Vec<u8> {
        let mut bytes = Vec::new();
        let order = if fortran { npyz::Order::Fortran } else { npyz::Order::C };
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(shape)
            .order(order)
            .writer(&mut bytes)
            .begin_nd()
            .unwrap();
        w.extend(values.iter().copied()).unwrap();
        w.finish().unwrap();
        bytes
    }

    fn png(image: DynamicImage) -> Vec<u8> {
        let mut bytes = Vec::new();
        image.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
        bytes
    }

    #[test]
    fn reads_npy_and_png_maps() {
        let m =
            decode_map("a.npy", &npy(&[2, 3], &[0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0], false)).unwrap();
        assert_eq!(
            (m.width, m.height, m.values.clone()),
            (3, 2, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
        );
        // Fortran order stores columns first: the same matrix.
        assert_eq!(
            decode_map("f.npy", &npy(&[2, 3], &[0.0f64, 3.0, 1.0, 4.0, 2.0, 5.0], true)).unwrap(),
            m
        );
        assert_eq!(
            decode_map("u.npy", &npy(&[1, 2], &[7u8, 255], false)).unwrap().values,
            vec![7.0, 255.0]
        );
        let g16 = image::ImageBuffer::<image::Luma<u16>, _>::from_raw(2, 1, vec![1000u16, 65535])
            .unwrap();
        assert_eq!(
            decode_map("g.png", &png(DynamicImage::ImageLuma16(g16))).unwrap().values,
            vec![1000.0, 65535.0]
        );
        let g8 = image::GrayImage::from_raw(1, 2, vec![3, 4]).unwrap();
        assert_eq!(
            decode_map("g.png", &png(DynamicImage::ImageLuma8(g8))).unwrap(),
            StoredMap { width: 1, height: 2, values: vec![3.0, 4.0] }
        );
    }

    #[test]
    fn refuses_other_maps_with_the_reason() {
        let err = |name: &str, bytes: Vec<u8>| decode_map(name, &bytes).unwrap_err().to_string();
        assert!(
            err("c.npy", npy(&[1, 2, 2], &[0.0f32; 4], false))
                .contains("c.npy: expected a 2-D array")
        );
        assert!(err("i.npy", npy(&[2, 2], &[1i32; 4], false)).contains("found dtype '<i4'"));
        assert!(err("n.npy", npy(&[1, 2], &[f32::NAN, 0.0], false)).contains("NaN"));
        assert!(
            err("rgb.png", png(DynamicImage::new_rgb8(2, 2))).contains("expected a grayscale PNG")
        );
        assert!(
            err("x.jpg", b"not an image".to_vec())
                .contains("expected a grayscale PNG or a 2-D NPY")
        );
    }

    #[test]
    fn postprocess_follows_transalnet() {
        let map = StoredMap { width: 4, height: 3, values: (0..12).map(|v| v as f32).collect() };
        // Same size: unchanged.
        assert_eq!(transalnet_postprocess(&map, 4, 3), map.values);
        // A taller image (8 × 9): rows_rate 3 > cols_rate 2 → resize to (4·9)//3 = 12 wide, 9
        // high, and keep columns 2..10.
        let tall = transalnet_postprocess(&map, 8, 9);
        let resized = resample::resize_linear_f32(&map.values, 4, 3, 12, 9);
        let expected: Vec<f32> = resized.chunks(12).flat_map(|r| r[2..10].to_vec()).collect();
        assert_eq!(tall, expected);
        // A wider image (10 × 5): rows_rate 5/3 < cols_rate 2.5 → 10 wide, (3·10)//4 = 7 high,
        // rows (7 − 5)//2 = 1..6.
        let wide = transalnet_postprocess(&map, 10, 5);
        let resized = resample::resize_linear_f32(&map.values, 4, 3, 10, 7);
        assert_eq!(wide, resized[10..60].to_vec());
        // Odd leftovers floor: 4 × 3 → 5 × 5: rows_rate 5/3 > cols_rate 5/4 → (4·5)//3 = 6 wide,
        // (6 − 5)//2 = 0 columns off the left, one off the right.
        let odd = transalnet_postprocess(&map, 5, 5);
        let resized = resample::resize_linear_f32(&map.values, 4, 3, 6, 5);
        assert_eq!(odd, resized.chunks(6).flat_map(|r| r[..5].to_vec()).collect::<Vec<_>>());
    }

    #[test]
    fn imported_maps_keep_their_orientation_on_non_square_images() {
        // A 6 × 4 map salient in its left half only. Fitted to a wide and to a tall image, the
        // left edge stays salient and the right edge dark on every row: fitting to the
        // transposed size (the authors' script) would give a map of the wrong shape.
        let values = (0..24).map(|i| if i % 6 < 3 { 1.0 } else { 0.0 }).collect();
        let map = StoredMap { width: 6, height: 4, values };
        for (width, height) in [(30, 12), (12, 30)] {
            let fitted = transalnet_postprocess(&map, width, height);
            assert_eq!(fitted.len(), width * height);
            for row in fitted.chunks_exact(width) {
                assert!(row[0] > 0.99, "{width}×{height}: the left edge stays salient");
                assert!(row[width - 1] < 1e-6, "{width}×{height}: the right edge stays dark");
            }
        }
    }

    #[test]
    fn loading_a_folder_lists_every_missing_map() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.npy"), npy(&[1, 2], &[0.0f32, 1.0], false)).unwrap();
        std::fs::write(
            dir.path().join("b.png"),
            png(DynamicImage::ImageLuma8(image::GrayImage::from_raw(1, 1, vec![9]).unwrap())),
        )
        .unwrap();
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let maps = load_dir(dir.path(), &names(&["a.jpg", "b.jpeg"])).unwrap();
        assert_eq!((maps[0].width, maps[1].values.clone()), (2, vec![9.0]));
        let e = load_dir(dir.path(), &names(&["a.jpg", "c.png", "d.png"])).unwrap_err().to_string();
        assert!(e.contains("for 2 of 3 image(s): c.png, d.png"), "{e}");
        std::fs::write(
            dir.path().join("a.png"),
            png(DynamicImage::ImageLuma8(image::GrayImage::from_raw(1, 1, vec![9]).unwrap())),
        )
        .unwrap();
        assert!(
            load_dir(dir.path(), &names(&["a.jpg"]))
                .unwrap_err()
                .to_string()
                .contains("a.jpg: more than one saliency map")
        );
    }
}
