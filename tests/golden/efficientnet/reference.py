"""Independent numpy reference for EfficientNet-Lite0, Lite1 and Lite2 (real weights), float64 throughout.

Weights: efficientnet_pytorch key names, read by torch_legacy.load (no torch).
Layout inside the forward pass: NHWC (channels last); public outputs are NCHW / [N, C].
BatchNorm is applied UNFOLDED: (x - running_mean) / sqrt(running_var + 1e-3) * weight + bias,
all in float64 (folding it into the conv is mathematically identical; differences ~1e-15 rel.).
"""
import math

import numpy as np
from PIL import Image

import torch_legacy

BN_EPS = 1e-3
F = np.float64  # compute dtype (verify_reference.py switches it to float32 to measure f32 error)
# Lite0's (repeats, kernel, stride, expand, in, out)
STAGES = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]
# width, depth multipliers and the training resolution (TensorFlow efficientnet_lite_builder.py).
VARIANTS = {"lite0": (1.0, 1.0, 224), "lite1": (1.0, 1.1, 240), "lite2": (1.1, 1.2, 260)}


def round_filters(c, width):
    """TensorFlow efficientnet_builder.round_filters with depth_divisor 8."""
    scaled = c * width
    new = max(8, int(scaled + 4) // 8 * 8)
    return int(new + 8 if new < 0.9 * scaled else new)


def block_specs(variant="lite0"):
    """-> list of dicts (kernel, stride, expand, cin, cout, residual). Lite scaling: the stem (32)
    and head (1280) are not scaled, nor are the first and last stages' repeats."""
    width, depth, _ = VARIANTS[variant]
    out = []
    for i, (reps, k, s, e, cin, cout) in enumerate(STAGES):
        if 0 < i < len(STAGES) - 1:
            reps = int(math.ceil(reps * depth))
        cin, cout = round_filters(cin, width), round_filters(cout, width)
        for r in range(reps):
            bi, bs = (cin, s) if r == 0 else (cout, 1)
            out.append(dict(kernel=k, stride=bs, expand=e, cin=bi, cout=cout, residual=(bs == 1 and bi == cout)))
    return out


BLOCKS = block_specs()
assert len(BLOCKS) == 16


def input_side(variant):
    return VARIANTS[variant][2]


def check_shapes(w, variant):
    """The scaling rule against the checkpoint: every conv's shape, and no block beyond the last."""
    blocks = block_specs(variant)
    assert w["_conv_stem.weight"].shape == (32, 3, 3, 3)
    for b, sp in enumerate(blocks):
        p, hidden = f"_blocks.{b}.", sp["cin"] * sp["expand"]
        if sp["expand"] != 1:
            assert w[p + "_expand_conv.weight"].shape == (hidden, sp["cin"], 1, 1), (variant, b)
        else:
            assert p + "_expand_conv.weight" not in w, (variant, b)
        assert w[p + "_depthwise_conv.weight"].shape == (hidden, 1, sp["kernel"], sp["kernel"]), (variant, b)
        assert w[p + "_project_conv.weight"].shape == (sp["cout"], hidden, 1, 1), (variant, b)
    assert f"_blocks.{len(blocks)}._project_conv.weight" not in w, variant
    assert w["_conv_head.weight"].shape == (1280, blocks[-1]["cout"], 1, 1), variant


# ----------------------------------------------------------------- weights
def load_weights(path):
    sd = torch_legacy.load(path)
    return {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}


def shuffled_weights(w, seed=0):
    """Control: every tensor's values permuted independently (one default_rng(seed), keys in file order)."""
    rng = np.random.default_rng(seed)
    return {k: rng.permutation(v.reshape(-1)).reshape(v.shape) for k, v in w.items()}


# ----------------------------------------------------------------- layers (NHWC, float64)
def same_pad(n_in, k, s):
    """TF 'SAME': out = ceil(in/s); total = max((out-1)*s + k - in, 0); (total//2, total - total//2)."""
    out = -(-n_in // s)
    total = max((out - 1) * s + k - n_in, 0)
    return out, (total // 2, total - total // 2)


def pad_same(x, k, s):
    n, h, w, c = x.shape
    oh, ph = same_pad(h, k, s)
    ow, pw = same_pad(w, k, s)
    return np.pad(x, ((0, 0), ph, pw, (0, 0))), oh, ow


def bn(x, w, prefix):
    scale = w[prefix + ".weight"].astype(F) / np.sqrt(w[prefix + ".running_var"].astype(F) + BN_EPS)
    return (x - w[prefix + ".running_mean"].astype(F)) * scale + w[prefix + ".bias"].astype(F)


def relu6(x):
    return np.clip(x, 0.0, 6.0)


def conv1x1(x, weight):
    """weight [O, I, 1, 1]."""
    return x @ weight[:, :, 0, 0].astype(F).T


def conv_stem(x, weight, s=2):
    """Full k x k conv (im2col over shifted strided slices). weight [O, I, k, k]."""
    o, i, k, _ = weight.shape
    xp, oh, ow = pad_same(x, k, s)
    cols = [xp[:, dy:dy + s * (oh - 1) + 1:s, dx:dx + s * (ow - 1) + 1:s, :] for dy in range(k) for dx in range(k)]
    cols = np.concatenate(cols, axis=-1)  # [N, oh, ow, k*k*I], order (dy, dx, c)
    wm = weight.astype(F).transpose(2, 3, 1, 0).reshape(k * k * i, o)
    return cols @ wm


def depthwise(x, weight, s):
    """weight [C, 1, k, k]; sliding-window sum of k*k shifted strided slices."""
    c, _, k, _ = weight.shape
    xp, oh, ow = pad_same(x, k, s)
    wt = weight[:, 0].astype(F)
    out = np.zeros((x.shape[0], oh, ow, c), dtype=F)
    for dy in range(k):
        for dx in range(k):
            out += xp[:, dy:dy + s * (oh - 1) + 1:s, dx:dx + s * (ow - 1) + 1:s, :] * wt[:, dy, dx]
    return out


# ----------------------------------------------------------------- network
def trunk(w, x, variant="lite0"):
    """x [N, 3, H, W] -> output of the last MBConv block (the ablation layer), NHWC float64."""
    h = np.asarray(x, dtype=F).transpose(0, 2, 3, 1)
    h = relu6(bn(conv_stem(h, w["_conv_stem.weight"]), w, "_bn0"))
    for b, spec in enumerate(block_specs(variant)):
        p = f"_blocks.{b}."
        inp = h
        if spec["expand"] != 1:
            h = relu6(bn(conv1x1(h, w[p + "_expand_conv.weight"]), w, p + "_bn0"))
        h = relu6(bn(depthwise(h, w[p + "_depthwise_conv.weight"], spec["stride"]), w, p + "_bn1"))
        h = bn(conv1x1(h, w[p + "_project_conv.weight"]), w, p + "_bn2")
        if spec["residual"]:
            h = h + inp
    return h


def head(w, a):
    """a NHWC [N, h, w, C] -> (embedding [N, 1280], logits [N, 1000])."""
    h = relu6(bn(conv1x1(a, w["_conv_head.weight"]), w, "_bn1"))
    e = h.mean(axis=(1, 2))
    logits = e @ w["_fc.weight"].astype(F).T + w["_fc.bias"].astype(F)
    return e, logits


def forward(w, x, batch=16, variant="lite0"):
    """x [N, 3, H, W] (same H, W) -> maps [N, C, h, w], embedding [N, 1280], logits [N, 1000]."""
    maps, embs, logits = [], [], []
    for i in range(0, len(x), batch):
        a = trunk(w, x[i:i + batch], variant)
        e, l = head(w, a)
        maps.append(a.transpose(0, 3, 1, 2))
        embs.append(e)
        logits.append(l)
    return np.concatenate(maps), np.concatenate(embs), np.concatenate(logits)


# ----------------------------------------------------------------- preprocessing
def resize_shorter(img, size=224):
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    if short == size:
        return img
    new_long = int(size * long / short)
    return img.resize((size, new_long) if w <= h else (new_long, size), Image.BILINEAR)


def preprocess(path, size=224):
    """PIL convert('RGB') -> shorter side `size` (bilinear) -> float32 [3,H,W]: (v/255 - 0.5) / 0.5, each op in f32."""
    img = resize_shorter(Image.open(path).convert("RGB"), size)
    x = np.asarray(img, dtype=np.uint8).transpose(2, 0, 1).astype(np.float32) / np.float32(255)
    return ((x - np.float32(0.5)) / np.float32(0.5)).astype(np.float32)


# ----------------------------------------------------------------- statistics
def pearson(a, b):
    a = np.asarray(a, np.float64) - np.mean(a)
    b = np.asarray(b, np.float64) - np.mean(b)
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


def upper(m):
    i, j = np.triu_indices(m.shape[0], k=1)
    return m[i, j]


def two_oi_r(emb, H):
    return pearson(upper(np.corrcoef(emb)), upper(H))
