"""Deterministic synthetic weights and images for alignmap's golden tests.

Everything here is defined by integer splitmix64 arithmetic, so the Rust side
(`alignmap`'s synthetic generator) can reproduce it bit for bit.

Stream for tensor number i (0-based, in VGG16_KEYS order) and element j
(0-based, row-major):
    s0 = (seed * G + i * M) mod 2^64          G = 0x9E3779B97F4A7C15
    s  = (s0 + (j + 1) * G) mod 2^64          M = 0xD1B54A32D192ED03
    z  = s
    z  = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9  mod 2^64
    z  = (z ^ (z >> 27)) * 0x94D049BB133111EB  mod 2^64
    z  =  z ^ (z >> 31)
    u  = (z >> 40) / 2^24                      (float64, exact, in [0, 1))
    value = float32((2*u - 1) * scale)         (computed in float64, rounded once)
scale = sqrt(6 / fan_in) for weights (fan_in = in*3*3 for convs, in-features
for linears; sqrt of the float64 quotient 6.0/fan_in) and 0.1 for biases.

synthetic_image(h, w, seed): s0 = mix(seed XOR M), element j of the
row-major [h, w, 3] array = z >> 56 (same z as above).
"""
from collections import OrderedDict, namedtuple
import math

import numpy as np

G = np.uint64(0x9E3779B97F4A7C15)
M = np.uint64(0xD1B54A32D192ED03)
C1 = np.uint64(0xBF58476D1CE4E5B9)
C2 = np.uint64(0x94D049BB133111EB)
MASK = (1 << 64) - 1

Spec = namedtuple("Spec", "widths hidden classes")
FULL = Spec([64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512], 4096, 1000)
TINY = Spec([4, 4, 8, 8, 16, 16, 16, 32, 32, 32, 32, 32, 32], 64, 10)

CONV_INDICES = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
CHUNK = 1 << 22


def _mix(s):
    """splitmix64 finaliser on a uint64 array (wrapping)."""
    z = s
    z = (z ^ (z >> np.uint64(30))) * C1
    z = (z ^ (z >> np.uint64(27))) * C2
    return z ^ (z >> np.uint64(31))


def _stream(s0, count, start=0):
    """z values for elements start..start+count of the stream with state s0."""
    j1 = np.arange(start + 1, start + count + 1, dtype=np.uint64)  # j + 1
    with np.errstate(over="ignore"):
        s = np.uint64(s0) + j1 * G
        return _mix(s)


def uniform_tensor(s0, shape, scale):
    n = int(np.prod(shape))
    out = np.empty(n, dtype=np.float32)
    for start in range(0, n, CHUNK):
        cnt = min(CHUNK, n - start)
        z = _stream(s0, cnt, start)
        u = (z >> np.uint64(40)).astype(np.float64) / float(1 << 24)
        out[start:start + cnt] = ((2.0 * u - 1.0) * scale).astype(np.float32)
    return out.reshape(shape)


def vgg16_shapes(spec):
    """[(key, shape, fan_in)] in the generator's key order."""
    items = []
    cin = 3
    for idx, cout in zip(CONV_INDICES, spec.widths):
        items.append((f"features.{idx}.weight", (cout, cin, 3, 3), cin * 9))
        items.append((f"features.{idx}.bias", (cout,), None))
        cin = cout
    dims = [(spec.hidden, spec.widths[12] * 49), (spec.hidden, spec.hidden), (spec.classes, spec.hidden)]
    for idx, (o, i) in zip([0, 3, 6], dims):
        items.append((f"classifier.{idx}.weight", (o, i), i))
        items.append((f"classifier.{idx}.bias", (o,), None))
    return items


def tensor_seed(seed, i):
    return (seed * 0x9E3779B97F4A7C15 + i * 0xD1B54A32D192ED03) & MASK


def vgg16_weights(spec, seed):
    out = OrderedDict()
    for i, (key, shape, fan_in) in enumerate(vgg16_shapes(spec)):
        scale = math.sqrt(6.0 / fan_in) if fan_in is not None else 0.1
        out[key] = uniform_tensor(tensor_seed(seed, i), shape, scale)
    return out


def _mix_scalar(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def synthetic_image(height, width, seed):
    # The stream starts at a hash of the seed, so nearby seeds give unrelated images
    # (a plain multiple of the increment would make seed + 1 the same stream shifted by one).
    s0 = _mix_scalar((seed ^ 0xD1B54A32D192ED03) & MASK)
    z = _stream(s0, height * width * 3)
    return (z >> np.uint64(56)).astype(np.uint8).reshape(height, width, 3)


def blocky_image(height, width, seed, block):
    """synthetic_image(ceil(h/block), ceil(w/block), seed) with each pixel repeated over a
    block x block square: large structures, so that a network tells such images apart."""
    small = synthetic_image(-(-height // block), -(-width // block), seed)
    return np.repeat(np.repeat(small, block, axis=0), block, axis=1)[:height, :width]


def _scalar_check():
    """Pure-Python big-int check of the vectorised stream."""
    def pz(s0, j):
        z = (s0 + (j + 1) * 0x9E3779B97F4A7C15) & MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)
    for seed, i in [(7, 0), (7, 25), (0, 3), (123456789, 17)]:
        s0 = tensor_seed(seed, i)
        v = _stream(s0, 5, 1000)
        assert [int(x) for x in v] == [pz(s0, 1000 + k) for k in range(5)]
    return True


if __name__ == "__main__":
    assert _scalar_check()
    print(synthetic_image(2, 2, 3).ravel())
    w = vgg16_weights(TINY, 7)
    for k, v in w.items():
        print(k, v.shape, v.ravel()[:3])
