//! Images in: decoding (PNG, JPEG with EXIF orientation, alpha, grayscale, 16-bit), the
//! network's preprocessing, and the cohort's names and row order.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbImage};

use crate::error::{Error, Result};
use crate::resample;

/// Largest accepted image side; larger files are refused before decoding.
pub const MAX_SIDE: u32 = 16_384;
/// Largest decoder allocation for one image.
pub const MAX_DECODE_BYTES: u64 = 512 << 20;
/// File extensions treated as images when a folder is listed.
pub const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// How pixel values become network inputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Normalization {
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

impl Normalization {
    /// ImageNet statistics, as torchvision's VGG-16 was trained.
    pub const IMAGENET: Self = Self { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
    /// `(x − 0.5) / 0.5`, as EfficientNet-Lite was trained (TensorFlow's `(255x − 127) / 128`).
    pub const SYMMETRIC: Self = Self { mean: [0.5; 3], std: [0.5; 3] };
}

/// A preprocessed image: `[3, height, width]` floats.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub chw: Vec<f32>,
    pub height: usize,
    pub width: usize,
}

/// Decodes an image file's bytes to 8-bit RGB with its EXIF orientation applied. Alpha is
/// dropped without compositing and 16-bit channels are rounded to 8 bits, as Pillow's
/// `convert('RGB')` does.
pub fn decode(name: &str, bytes: &[u8]) -> Result<RgbImage> {
    let bad = |m: String| Error::image(name, m);
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| bad(format!("cannot read: {e}")))?;
    if reader.format().is_none() {
        return Err(bad("not an image format alignmap can read (expected PNG or JPEG)".into()));
    }
    let limit = format!("at most {MAX_SIDE} per side and {} MiB decoded", MAX_DECODE_BYTES >> 20);
    // The decoder's own limits can refuse a huge header before its size is checked here (the
    // page's wasm32 build does, as a bare "Memory limit exceeded"): said plainly instead.
    let mut decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::Limits(_) => {
            bad(format!("its header declares more pixels than can be decoded safely ({limit})"))
        }
        e => bad(format!("not a decodable image: {e}")),
    })?;
    let (w, h) = decoder.dimensions();
    if w > MAX_SIDE || h > MAX_SIDE || u64::from(w) * u64::from(h) * 8 > MAX_DECODE_BYTES {
        return Err(bad(format!("{w}×{h} pixels is too large to decode safely ({limit})")));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    decoder.set_limits(limits).map_err(|e| bad(format!("too large to decode safely: {e}")))?;
    let orientation =
        decoder.orientation().map_err(|e| bad(format!("unreadable EXIF data: {e}")))?;
    let mut image = DynamicImage::from_decoder(decoder)
        .map_err(|e| bad(format!("not a decodable image: {e}")))?;
    image.apply_orientation(orientation);
    if image.width() == 0 || image.height() == 0 {
        return Err(bad("image has no pixels".into()));
    }
    Ok(image.to_rgb8())
}

/// Resizes so the shorter side is `side` (Pillow-exact bilinear, antialiased, aspect kept, no
/// crop), scales to [0, 1] and normalises.
pub fn preprocess(image: &RgbImage, side: usize, norm: Normalization) -> Prepared {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let (out_w, out_h) = resample::shorter_side_to(w, h, side);
    let pixels = resample::resize_rgb8(image.as_raw(), w, h, out_w, out_h);
    let plane = out_w * out_h;
    let mut chw = vec![0.0f32; 3 * plane];
    for (i, px) in pixels.chunks_exact(3).enumerate() {
        for c in 0..3 {
            chw[c * plane + i] = (px[c] as f32 / 255.0 - norm.mean[c]) / norm.std[c];
        }
    }
    Prepared { chw, height: out_h, width: out_w }
}

/// Image files of a folder, sorted by file name: this is the row order of every output.
/// Files with other extensions are returned separately so the caller can say they were skipped.
#[cfg(not(target_family = "wasm"))]
pub fn list_images(dir: &std::path::Path) -> Result<(Vec<std::path::PathBuf>, Vec<String>)> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut images = Vec::new();
    let mut skipped = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if !path.is_file() {
            continue;
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let is_image = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        if is_image && !name.starts_with('.') {
            images.push(path);
        } else {
            skipped.push(name);
        }
    }
    images.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    skipped.sort();
    if images.is_empty() {
        return Err(Error::Invalid(format!("{}: no PNG or JPEG images found", dir.display())));
    }
    Ok((images, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(image: DynamicImage) -> Vec<u8> {
        let mut bytes = Vec::new();
        image.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
        bytes
    }

    #[test]
    fn alpha_is_dropped_and_grayscale_is_replicated() {
        let rgba = image::RgbaImage::from_pixel(3, 2, image::Rgba([10, 20, 30, 0]));
        let rgb = decode("a.png", &png(DynamicImage::ImageRgba8(rgba))).unwrap();
        assert_eq!(rgb.get_pixel(2, 1).0, [10, 20, 30]);
        let gray = image::GrayImage::from_pixel(2, 2, image::Luma([99]));
        assert_eq!(
            decode("g.png", &png(DynamicImage::ImageLuma8(gray))).unwrap().get_pixel(0, 0).0,
            [99, 99, 99]
        );
    }

    #[test]
    fn sixteen_bit_channels_round_to_eight_bits() {
        let img = image::ImageBuffer::<image::Rgb<u16>, _>::from_pixel(
            2,
            2,
            image::Rgb([65535, 257 * 100 + 128, 0]),
        );
        let rgb = decode("d.png", &png(DynamicImage::ImageRgb16(img))).unwrap();
        assert_eq!(rgb.get_pixel(0, 0).0, [255, 100, 0]);
    }

    #[test]
    fn garbage_and_truncated_files_are_errors_naming_the_file() {
        let e = decode("notes.png", b"hello, I am text").unwrap_err().to_string();
        assert!(e.starts_with("notes.png:"), "{e}");
        let bytes =
            png(DynamicImage::ImageRgb8(RgbImage::from_pixel(40, 40, image::Rgb([1, 2, 3]))));
        let e = decode("cut.png", &bytes[..bytes.len() / 2]).unwrap_err().to_string();
        assert!(e.starts_with("cut.png:"), "{e}");
    }

    #[test]
    fn huge_images_are_refused_before_decoding() {
        // A valid PNG claiming 60000×60000 pixels, with almost no data behind it.
        let chunk = |kind: &[u8], data: &[u8]| {
            let mut c = (data.len() as u32).to_be_bytes().to_vec();
            c.extend_from_slice(kind);
            c.extend_from_slice(data);
            c.extend_from_slice(&crc32(&[kind, data].concat()).to_be_bytes());
            c
        };
        let ihdr =
            [&60000u32.to_be_bytes()[..], &60000u32.to_be_bytes()[..], &[8, 2, 0, 0, 0]].concat();
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        bytes.extend(chunk(b"IHDR", &ihdr));
        bytes.extend(chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
        bytes.extend(chunk(b"IEND", &[]));
        let e = decode("huge.png", &bytes).unwrap_err().to_string();
        assert!(e.starts_with("huge.png:") && e.contains("too large"), "{e}");
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    #[test]
    fn preprocessing_normalises_each_channel() {
        let img = RgbImage::from_pixel(224, 224, image::Rgb([255, 0, 128]));
        let p = preprocess(&img, 224, Normalization::IMAGENET);
        assert_eq!((p.height, p.width), (224, 224));
        let plane = 224 * 224;
        assert!((p.chw[0] - (1.0 - 0.485) / 0.229).abs() < 1e-6);
        assert!((p.chw[plane] - (0.0 - 0.456) / 0.224).abs() < 1e-6);
        assert!((p.chw[2 * plane + 5] - (128.0 / 255.0 - 0.406) / 0.225).abs() < 1e-6);
    }
}
