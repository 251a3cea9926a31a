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
    assert!(max_rel_diff(&heat.values, &expected) < 1e-6, "heatmap differs from np.average");
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
