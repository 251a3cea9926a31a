"""Reference heatmaps and overlays for tests/heatmap_golden.rs, computed the authors' way
(viz_heatmap.py: np.average of the feature maps weighted by the clipped AIS, cv2.resize to the
image, / max, ** 2, matplotlib's colour map, 0.6·image + 0.4·colour, astype(uint8)).

Rerun: pip install numpy opencv-python-headless matplotlib
       python3 tests/golden/heatmap/make_heatmap_golden.py   (writes the .npy files beside it)
"""
from pathlib import Path

import cv2
import numpy as np
from matplotlib import colormaps

here = Path(__file__).parent
rng = np.random.default_rng(2024)
channels, h, w = 12, 7, 7
maps = np.abs(rng.normal(size=(channels, h, w))).astype(np.float32)
maps[3] = 0.0  # a silent feature map
ais = rng.normal(scale=0.01, size=channels)
image = rng.integers(0, 256, size=(37, 53, 3), dtype=np.uint8)

weights = np.clip(ais, 0, None)
heat = np.average(maps, weights=weights / weights.sum(), axis=0).astype(np.float32)
resized = cv2.resize(heat, (image.shape[1], image.shape[0]))
display = np.clip(resized, 0, None) / resized.max()
outputs = {}
for name in ["jet", "viridis", "magma"]:
    colour = (255 * colormaps[name](display ** 2)[:, :, :3]).astype(np.uint8)
    outputs[name] = (0.6 * image + 0.4 * colour).astype(np.uint8)

np.save(here / "maps.npy", maps)
np.save(here / "ais.npy", ais)
np.save(here / "image.npy", image)
np.save(here / "heatmap.npy", heat)
np.save(here / "resized.npy", resized)
for name, out in outputs.items():
    np.save(here / f"overlay_{name}.npy", out)
print("heatmap range", heat.min(), heat.max(), "resized", resized.shape)
