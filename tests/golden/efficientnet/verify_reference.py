"""Self-checks of reference.py and the numbers quoted in README.md (~1 min, 1 core).

    python3 verify_reference.py [--pth PATH]
"""
import argparse
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reference as R  # noqa: E402
import torch_legacy  # noqa: E402

STEMS = ["square_224", "rgba_300", "gray_200x260"]


def naive_conv(x, w, s, groups):
    """x [C,H,W], w [O, C/groups, k, k]; TF SAME padding computed independently here."""
    c, h, wd = x.shape
    o, cg, k, _ = w.shape
    oh, ow = -(-h // s), -(-wd // s)
    th, tw = max((oh - 1) * s + k - h, 0), max((ow - 1) * s + k - wd, 0)
    xp = np.zeros((c, h + th, wd + tw))
    xp[:, th // 2:th // 2 + h, tw // 2:tw // 2 + wd] = x
    out = np.zeros((o, oh, ow))
    og = o // groups
    for oc in range(o):
        g = oc // og
        for i in range(oh):
            for j in range(ow):
                out[oc, i, j] = np.sum(xp[g * cg:(g + 1) * cg, i * s:i * s + k, j * s:j * s + k] * w[oc])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pth", default=None)
    args = ap.parse_args()
    rng = np.random.default_rng(1)

    # 1. stem (full conv, im2col) and depthwise vs naive loops, odd/even sizes, stride 1/2, k 3/5
    worst = 0.0
    for (h, wd) in [(9, 9), (10, 7), (8, 12), (11, 6)]:
        x = rng.normal(size=(3, h, wd))
        wt = rng.normal(size=(5, 3, 3, 3))
        got = R.conv_stem(x.transpose(1, 2, 0)[None], wt, 2)[0].transpose(2, 0, 1)
        worst = max(worst, np.abs(got - naive_conv(x, wt, 2, 1)).max())
        for k in (3, 5):
            for s in (1, 2):
                x = rng.normal(size=(4, h, wd))
                wt = rng.normal(size=(4, 1, k, k))
                got = R.depthwise(x.transpose(1, 2, 0)[None], wt, s)[0].transpose(2, 0, 1)
                worst = max(worst, np.abs(got - naive_conv(x, wt, s, 4)).max())
    print(f"conv_stem / depthwise vs naive loops: max |diff| = {worst:.2e}")
    assert worst < 1e-12

    # 2. padding table
    for (h, wd) in [(224, 224), (291, 224)]:
        rows = []
        hh, ww = R.same_pad(h, 3, 2)[0], R.same_pad(wd, 3, 2)[0]
        rows.append(f"stem k3 s2 {h}x{wd}->{hh}x{ww} pad_h{R.same_pad(h, 3, 2)[1]} pad_w{R.same_pad(wd, 3, 2)[1]}")
        for b, sp in enumerate(R.BLOCKS):
            k, s = sp["kernel"], sp["stride"]
            (oh, ph), (ow, pw) = R.same_pad(hh, k, s), R.same_pad(ww, k, s)
            rows.append(f"block{b} k{k} s{s} {hh}x{ww}->{oh}x{ow} pad_h{ph} pad_w{pw}")
            hh, ww = oh, ow
        print(f"padding at {h}x{wd}:\n  " + "\n  ".join(rows))

    # 3. preprocessing agrees with the parent reference's resize (tests/golden/resized_<stem>.npy)
    for stem in STEMS:
        x = R.preprocess(os.path.join(HERE, "..", "images", stem + ".png"))
        parent = os.path.join(HERE, "..", f"resized_{stem}.npy")
        if os.path.exists(parent):
            v = np.load(parent).transpose(2, 0, 1).astype(np.float32) / np.float32(255)
            assert np.array_equal(x, (v - np.float32(0.5)) / np.float32(0.5)), stem
        assert np.array_equal(x, np.load(os.path.join(HERE, "effnet_inputs.npz"))[f"effnet_input_{stem}"])
    print("preprocess: equals (parent resized_<stem>.npy / 255 - 0.5) / 0.5 and effnet_inputs.npz bit for bit")

    # 4. weights: strided read vs naive contiguous misread
    pth = args.pth or subprocess.check_output(["bash", os.path.join(HERE, "..", "..", "..", "models", "fetch-efficientnet-lite.sh"), "lite0"], text=True).strip().splitlines()[-1]
    sd, info, _ = torch_legacy.load(pth, return_info=True)
    w = {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}
    nonc = [k for k, m in info.items() if not m["contiguous"]]
    print(f"{len(info)} tensors, {len(nonc)} non-contiguous (every conv weight and _fc.weight)")
    assert all(k.endswith(".weight") and ("conv" in k or k == "_fc.weight") for k in nonc)
    assert all((w[k] >= 0).all() for k in w if k.endswith("running_var"))
    zv = {k: int((w[k] == 0).sum()) for k in w if k.endswith("running_var") and (w[k] == 0).any()}
    print(f"running_var exactly 0 in {sum(zv.values())} channels of {len(zv)} BN layers (dead channels; eps 1e-3 keeps them finite)")
    X = np.stack([R.preprocess(os.path.join(HERE, "..", "images", s + ".png")) for s in STEMS[:2]])
    M, E, L = R.forward(w, X)
    for i, s in enumerate(STEMS[:2]):
        assert np.abs(L[i] - np.load(os.path.join(HERE, f"effnet_logits_{s}.npy"))).max() < 1e-4
    misread = dict(w)
    for k in nonc:  # reading the raw storage as if it were C-contiguous (ignoring strides)
        st = np.empty(int(np.prod(info[k]["shape"])), np.float32)
        np.lib.stride_tricks.as_strided(st, shape=info[k]["shape"],
                                        strides=[4 * d for d in info[k]["stride"]])[...] = w[k]
        misread[k] = st.reshape(info[k]["shape"])
    _, _, Lm = R.forward(misread, X)
    print(f"top-5 with strides honoured: {[np.argsort(-l)[:5].tolist() for l in L]}; "
          f"ignoring strides: {[np.argsort(-l)[:5].tolist() for l in Lm]}")

    # 5. sensitivity: eps 1e-5, symmetric padding, folded BN, float32 compute
    def rel(a, b):
        return float(np.abs(a - b).max() / np.abs(b).max())

    R.BN_EPS = 1e-5
    M5, E5, L5 = R.forward(w, X)
    R.BN_EPS = 1e-3
    print(f"eps 1e-5 instead of 1e-3: max rel diff maps {rel(M5, M):.2e}, logits {rel(L5, L):.2e}")
    orig = R.same_pad
    R.same_pad = lambda n, k, s: ((n + 2 * (k // 2) - k) // s + 1, (k // 2, k // 2))
    Ms, Es, Ls = R.forward(w, X)
    R.same_pad = orig
    print(f"symmetric padding k//2: max rel diff maps {rel(Ms, M):.2e}, logits {rel(Ls, L):.2e}")

    folded = dict(w)
    orig_bn = R.bn

    def bn_folded_after(x, ww, prefix):  # x already conv output; emulate folding: conv(W*s) + (b - m*s)
        sc = ww[prefix + ".weight"].astype(np.float64) / np.sqrt(ww[prefix + ".running_var"].astype(np.float64) + 1e-3)
        return x * sc + (ww[prefix + ".bias"].astype(np.float64) - ww[prefix + ".running_mean"].astype(np.float64) * sc)
    R.bn = bn_folded_after
    Mf, Ef, Lf = R.forward(folded, X)
    R.bn = orig_bn
    print(f"BN as one scale/shift (x*s + (b - m*s)) in f64: max rel diff maps {rel(Mf, M):.2e}, logits {rel(Lf, L):.2e}")

    R.F = np.float32
    w32 = {k: v.astype(np.float32) for k, v in w.items()}
    M32, E32, L32 = R.forward(w32, X)
    R.F = np.float64
    assert M32.dtype == np.float32
    print(f"float32 compute vs float64: max rel diff maps {rel(M32, M):.2e}, embedding {rel(E32, E):.2e}, "
          f"logits {rel(L32, L):.2e}; max abs maps {np.abs(M32 - M).max():.2e}, logits {np.abs(L32 - L).max():.2e}")
    print("OK")


if __name__ == "__main__":
    main()
