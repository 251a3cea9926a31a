"""Synthetic test images for alignmap's golden tests (deterministic)."""
import os

import numpy as np
from PIL import Image, ImageDraw

from reference import write_png_rgb16

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGES = os.path.join(HERE, "images")


def base_rgb(w, h, seed, noise=6):
    """Smooth float RGB field in [0, 255] with a noisy patch: [h, w, 3] float64."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255 * x / (w - 1)
    g = 255 * y / (h - 1)
    b = 127.5 + 110 * np.sin(2 * np.pi * (x / 37.0 + y / 53.0))
    img = np.stack([r, g, b], axis=-1)
    # fine stripes so resampling filters matter
    img[: h // 4, :, :] += 40 * ((x[: h // 4] // 2) % 2)[..., None]
    # a noisy rectangle
    y0, y1, x0, x1 = h // 2, h // 2 + h // 5, w // 6, w // 6 + w // 4
    img[y0:y1, x0:x1] += rng.uniform(-noise * 8, noise * 8, size=(y1 - y0, x1 - x0, 3))
    return np.clip(img, 0, 255)


def draw_shapes(img, w, h):
    d = ImageDraw.Draw(img)
    d.ellipse([w * 0.55, h * 0.1, w * 0.9, h * 0.45], fill=(250, 30, 20) if img.mode != "L" else 240)
    d.rectangle([w * 0.1, h * 0.75, w * 0.35, h * 0.92], fill=(10, 200, 40) if img.mode != "L" else 20)
    # an asymmetric "F"-like glyph so orientation errors show up
    col = (255, 255, 0) if img.mode != "L" else 255
    d.rectangle([w * 0.6, h * 0.55, w * 0.65, h * 0.9], fill=col)
    d.rectangle([w * 0.6, h * 0.55, w * 0.85, h * 0.6], fill=col)
    d.rectangle([w * 0.6, h * 0.7, w * 0.78, h * 0.74], fill=col)
    d.line([0, h - 1, w - 1, 0], fill=(0, 0, 0) if img.mode != "L" else 0, width=3)
    return img


def make_rgba_300(path):
    w = h = 300
    rgb = np.round(base_rgb(w, h, 1)).astype(np.uint8)
    img = draw_shapes(Image.fromarray(rgb, "RGB"), w, h)
    y, x = np.mgrid[0:h, 0:w]
    alpha = np.clip(255 * (x + y) / (w + h - 2) * 1.5 - 40, 0, 255).astype(np.uint8)  # 0 (top-left) .. 255
    rgba = np.dstack([np.asarray(img), alpha])
    Image.fromarray(rgba, "RGBA").save(path, optimize=True)


def make_gray(path):
    w, h = 200, 260
    rgb = base_rgb(w, h, 2)
    gray = np.round(0.3 * rgb[..., 0] + 0.5 * rgb[..., 1] + 0.2 * rgb[..., 2]).astype(np.uint8)
    img = draw_shapes(Image.fromarray(gray, "L"), w, h)
    img.save(path, optimize=True)


def make_rgb16(path):
    w, h = 320, 240
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 65535 * x / (w - 1)
    g = 65535 * (0.5 + 0.45 * np.cos(2 * np.pi * y / 97.0))
    b = 65535 * ((x + 2 * y) % 160) / 159
    img = np.stack([r, g, b], axis=-1)
    img[100:150, 40:120] = [60000, 3000, 30000]          # flat patch
    img[20:60, 200:300] += rng.uniform(-3000, 3000, size=(40, 100, 3))  # noisy patch
    img[:, 150:152] = 0                                   # thin dark line
    v = np.clip(np.round(img), 0, 65535).astype(np.uint16)
    write_png_rgb16(path, v)
    return v


def make_exif6(path):
    # displayed (upright) content 224 wide x 300 high; stored rotated 90 deg CCW (300 x 224)
    w, h = 224, 300
    rgb = np.round(base_rgb(w, h, 4, noise=2)).astype(np.uint8)
    upright = draw_shapes(Image.fromarray(rgb, "RGB"), w, h)
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # CCW; Orientation 6 = rotate CW to display
    assert stored.size == (300, 224)
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(path, quality=92, subsampling=0, exif=exif.tobytes())


def make_square(path):
    w = h = 224
    rgb = np.round(base_rgb(w, h, 5)).astype(np.uint8)
    img = draw_shapes(Image.fromarray(rgb, "RGB"), w, h)
    img.save(path, optimize=True)


def make_all():
    os.makedirs(IMAGES, exist_ok=True)
    make_rgba_300(os.path.join(IMAGES, "rgba_300.png"))
    make_gray(os.path.join(IMAGES, "gray_200x260.png"))
    make_rgb16(os.path.join(IMAGES, "rgb16_240x320.png"))
    make_exif6(os.path.join(IMAGES, "photo_exif6.jpg"))
    make_square(os.path.join(IMAGES, "square_224.png"))


if __name__ == "__main__":
    make_all()
