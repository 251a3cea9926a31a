"""Independent numpy/PIL reference for alignmap: preprocessing and VGG-16.

Forward pass in float64 (inputs and weights are float32, promoted once).
Layout follows torchvision's vgg16: features[0..30) then the classifier.
"""
import struct
import zlib

import numpy as np
from PIL import Image, ImageOps

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
CONV_INDICES = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
POOL_AFTER = {1, 3, 6, 9}  # 0-based conv numbers followed by max-pool (features 4, 9, 16, 23)


# ----------------------------------------------------------------- layers
def conv3x3(x, w, b):
    """x [C,H,W] float64, w [O,C,3,3], b [O]; stride 1, zero padding 1 (cross-correlation)."""
    c, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(1, 2))  # [C,H,W,3,3]
    cols = np.ascontiguousarray(win.transpose(0, 3, 4, 1, 2)).reshape(c * 9, h * wd)
    wm = np.asarray(w, dtype=np.float64).reshape(w.shape[0], c * 9)
    out = wm @ cols + np.asarray(b, dtype=np.float64)[:, None]
    return out.reshape(w.shape[0], h, wd)


def relu(x):
    return np.maximum(x, 0.0)


def maxpool2(x):
    """2x2 stride 2, floor mode (odd trailing row/column dropped)."""
    c, h, w = x.shape
    h2, w2 = h // 2, w // 2
    return x[:, :h2 * 2, :w2 * 2].reshape(c, h2, 2, w2, 2).max(axis=(2, 4))


def adaptive_bounds(n_in, n_out):
    """PyTorch adaptive pooling windows: [floor(i*in/out), ceil((i+1)*in/out))."""
    return [((i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)) for i in range(n_out)]


def adaptive_avgpool(x, out_hw=(7, 7)):
    c, h, w = x.shape
    oh, ow = out_hw
    out = np.empty((c, oh, ow), dtype=np.float64)
    for i, (y0, y1) in enumerate(adaptive_bounds(h, oh)):
        for j, (x0, x1) in enumerate(adaptive_bounds(w, ow)):
            out[:, i, j] = x[:, y0:y1, x0:x1].mean(axis=(1, 2))
    return out


def linear(x, w, b):
    return np.asarray(w, dtype=np.float64) @ x + np.asarray(b, dtype=np.float64)


# ----------------------------------------------------------------- network
def trunk(weights, x):
    """features[0..30): output after the ReLU of conv5_3 (no final pool). x [3,H,W]."""
    h = np.asarray(x, dtype=np.float64)
    for n, idx in enumerate(CONV_INDICES):
        h = relu(conv3x3(h, weights[f"features.{idx}.weight"], weights[f"features.{idx}.bias"]))
        if n in POOL_AFTER:
            h = maxpool2(h)
    return h


def pooled(a):
    """Head's parameter-free part: max-pool 2x2 then adaptive avg-pool to 7x7 -> [C,7,7]."""
    return adaptive_avgpool(maxpool2(a), (7, 7))


def head(weights, a):
    """Trunk output [C,h,w] -> (embedding after fc7+ReLU, logits)."""
    v = pooled(a).reshape(-1)  # channel-major: c*49 + y*7 + x
    h = relu(linear(v, weights["classifier.0.weight"], weights["classifier.0.bias"]))
    e = relu(linear(h, weights["classifier.3.weight"], weights["classifier.3.bias"]))
    logits = linear(e, weights["classifier.6.weight"], weights["classifier.6.bias"])
    return e, logits


def forward(weights, x):
    a = trunk(weights, x)
    e, logits = head(weights, a)
    return a, e, logits


# ----------------------------------------------------------------- PNG 16-bit
def _chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def write_png_rgb16(path, arr):
    """arr uint16 [H,W,3] -> 16-bit RGB PNG, every row with filter 2 (Up)."""
    arr = np.asarray(arr, dtype=np.uint16)
    h, w, _ = arr.shape
    raw = arr.astype(">u2").view(np.uint8).reshape(h, w * 6)
    prev = np.zeros(w * 6, dtype=np.uint8)
    rows = []
    for y in range(h):
        rows.append(b"\x02" + (raw[y] - prev).astype(np.uint8).tobytes())
        prev = raw[y]
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + _chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def read_png_rgb16(path):
    """Minimal reader for non-interlaced 16-bit RGB PNG (all five filters) -> uint16 [H,W,3]."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        tag = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]
        if tag == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert (depth, ctype, interlace) == (16, 2, 0)
        elif tag == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    bpp, stride = 6, w * 6
    out = np.zeros((h, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int64)
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int64)
        cur = np.zeros(stride, dtype=np.int64)
        for i in range(stride):
            a = cur[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ft == 0:
                p = 0
            elif ft == 1:
                p = a
            elif ft == 2:
                p = b
            elif ft == 3:
                p = (a + b) // 2
            else:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                p = a if (pa <= pb and pa <= pc) else (b if pb <= pc else c)
            cur[i] = (line[i] + p) & 0xFF
        out[y] = cur
        prev = cur
    return out.view(">u2").reshape(h, w, 3).astype(np.uint16)


def rgb16_to_rgb8(v):
    """round(v / 257) (no ties are possible), as (v + 128) // 257."""
    return ((np.asarray(v, dtype=np.uint32) + 128) // 257).astype(np.uint8)


# ----------------------------------------------------------------- preprocessing
def load_rgb(path):
    """The authors' Image.open(p).convert('RGB'), after EXIF orientation.

    16-bit RGB PNG (which PIL would truncate to the high byte) is read by
    read_png_rgb16 and converted with round(v/257) instead.
    """
    with open(path, "rb") as f:
        head_bytes = f.read(26)
    if head_bytes[:8] == b"\x89PNG\r\n\x1a\n" and head_bytes[24] == 16 and head_bytes[25] == 2:
        return Image.fromarray(rgb16_to_rgb8(read_png_rgb16(path)), "RGB")
    img = Image.open(path)
    img = ImageOps.exif_transpose(img)
    return img.convert("RGB")


def resize_shorter(img, size=224):
    """torchvision 0.14 Resize(224) on a PIL image (bilinear, PIL antialias)."""
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    if short == size:
        return img
    new_long = int(size * long / short)
    new_w, new_h = (size, new_long) if w <= h else (new_long, size)
    return img.resize((new_w, new_h), Image.BILINEAR)


def normalise(rgb8):
    """uint8 [H,W,3] -> float32 [3,H,W], torchvision ToTensor + Normalize, all in float32."""
    x = np.asarray(rgb8).transpose(2, 0, 1).astype(np.float32) / np.float32(255)
    mean = np.array(MEAN, dtype=np.float32)[:, None, None]
    std = np.array(STD, dtype=np.float32)[:, None, None]
    return ((x - mean) / std).astype(np.float32)


def preprocess(path):
    """-> (resized uint8 [H,W,3], float32 CHW tensor)."""
    img = resize_shorter(load_rgb(path))
    rgb8 = np.asarray(img, dtype=np.uint8)
    return rgb8, normalise(rgb8)


# ----------------------------------------------------------------- statistics
def pearson(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a = a - a.mean()
    b = b - b.mean()
    return float(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)))


def upper(m):
    i, j = np.triu_indices(m.shape[0], k=1)
    return m[i, j]
