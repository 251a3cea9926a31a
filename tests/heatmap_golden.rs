//! Heatmaps and overlays against the authors' pipeline run in NumPy, OpenCV and matplotlib
//! (tests/golden/heatmap/make_heatmap_golden.py).

mod common;

use alignmap::heatmap::{Colormap, Heatmap, OverlayStyle, Rgb, overlay};
use common::*;

fn golden_heatmap() -> Heatmap {
    let (shape, maps) = read_npy_f32("heatmap/maps.npy");
    let (_, ais) = read_npy_f64("heatmap/ais.npy");
    Heatmap::from_scores(&ais, &maps, [shape[0], shape[1], shape[2]])
        .unwrap()
        .expect("some AIS are positive")
}

#[test]
fn heatmap_and_resize_equal_numpy_and_opencv() {
    let heat = golden_heatmap();
    let (_, expected) = read_npy_f32("heatmap/heatmap.npy");
    let d = max_rel_diff(&heat.values, &expected);
    eprintln!("heatmap vs np.average: {d:.1e}");
    assert!(d < 1e-6, "heatmap differs from np.average by {d:e}");
    let (shape, resized) = read_npy_f32("heatmap/resized.npy");
    let ours = heat.resized(shape[1], shape[0]);
    let d = max_rel_diff(&ours.values, &resized);
    eprintln!("resize vs cv2.resize: {d:.1e}");
    assert!(d < 1e-5, "resize differs from cv2.resize by {d:e}");
}

#[test]
fn overlays_equal_the_authors_overlay_mask() {
    let heat = golden_heatmap();
    let (shape, pixels) = read_npy_u8("heatmap/image.npy");
    let image = Rgb { width: shape[1], height: shape[0], pixels };
    for colormap in Colormap::ALL {
        let (_, expected) = read_npy_u8(&format!("heatmap/overlay_{}.npy", colormap.name()));
        let ours =
            overlay(&image, &heat, OverlayStyle { colormap, image_weight: 0.6 }).unwrap().unwrap();
        let differing = ours.pixels.iter().zip(&expected).filter(|(a, b)| a != b).count();
        let worst = ours
            .pixels
            .iter()
            .zip(&expected)
            .map(|(&a, &b)| (a as i32 - b as i32).abs())
            .max()
            .unwrap();
        eprintln!(
            "{}: {differing} of {} channel values differ, by at most {worst}",
            colormap.name(),
            expected.len()
        );
        // f32 vs the reference's float arithmetic can move a value across a colour-table step.
        assert!(
            differing * 200 <= expected.len() && worst <= 12,
            "{}: {differing} values differ, worst {worst}",
            colormap.name()
        );
    }
}

#[test]
fn the_comparison_helpers_never_let_a_nan_pass() {
    let (nan, one) = ([1.0f32, f32::NAN], [1.0f32, 1.0]);
    assert_eq!(max_abs_diff(&nan, &one), f64::INFINITY);
    assert_eq!(max_abs_diff(&one, &nan), f64::INFINITY);
    assert_eq!(max_rel_diff(&nan, &one), f64::INFINITY);
    assert_eq!(max_rel_diff(&one, &nan), f64::INFINITY);
    // An undefined score on both sides is the same answer.
    assert_eq!(max_abs_diff(&nan, &nan), 0.0);
    assert_eq!(max_abs_diff(&[0.0f64], &[0.0f64, 1.0]), f64::INFINITY, "lengths differ");
    let caught = std::panic::catch_unwind(|| assert_close("NaN", &nan, &one, 1e3));
    assert!(caught.is_err(), "assert_close fails on a NaN");
    let caught = std::panic::catch_unwind(|| argmax(&[0.0, f32::NAN, -1.0]));
    assert!(caught.is_err(), "argmax fails on a NaN");
    assert_eq!(argmax(&[0.0, 2.0, 2.0, -1.0]), 1, "the first largest");
}
