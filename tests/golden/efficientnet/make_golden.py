"""Run the EfficientNet-Lite0 checks on the real data and write the small goldens.

    cd tests/golden/efficientnet && python3 make_golden.py [--pth PATH] [--data ../../../../shared/data]
"""
import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import time
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reference as R  # noqa: E402

GOLDEN_IMAGES = ["square_224", "rgba_300", "gray_200x260"]


def save_npz(path, arrays):
    """np.savez_compressed equivalent with fixed zip timestamps (byte-identical reruns)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for key, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue(), compresslevel=9)


def write_weight_checks(pth):
    """Per key: shape, stored stride, float64 sum of the float32 values, first 3 and last value in
    logical C order (after honouring strides), first 3 as float32 bit patterns (exact)."""
    import torch_legacy
    sd, info, _ = torch_legacy.load(pth, return_info=True)
    out = {}
    for k, m in info.items():
        v = np.asarray(sd[k])
        flat = v.reshape(-1)
        e = {"shape": list(m["shape"]), "stride": list(m["stride"]), "contiguous": m["contiguous"],
             "dtype": str(v.dtype)}
        if v.dtype == np.float32:
            e.update(sum=float(flat.astype(np.float64).sum()), first3=[float(t) for t in flat[:3]],
                     first3_bits=[int(t) for t in flat[:3].view(np.uint32)], last=float(flat[-1]))
        else:
            e.update(value=int(flat[0]) if flat.size else None)
        out[k] = e
    with open(os.path.join(HERE, "effnet_weight_checks.json"), "w") as f:
        json.dump(out, f, indent=0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pth", default=None)
    ap.add_argument("--data", default=os.path.join(HERE, "..", "..", "..", "..", "shared", "data"))
    ap.add_argument("--batch", type=int, default=16)
    args = ap.parse_args()
    pth = args.pth or subprocess.check_output(["bash", os.path.join(HERE, "..", "..", "..", "models", "fetch-efficientnet-lite0.sh")], text=True).strip().splitlines()[-1]
    with open(pth, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    assert sha.startswith("57934424"), sha
    w = R.load_weights(pth)
    write_weight_checks(pth)
    t0 = time.time()

    # --- small goldens from tests/golden/images
    inputs = {}
    for stem in GOLDEN_IMAGES:
        x = R.preprocess(os.path.join(HERE, "..", "images", stem + ".png"))
        maps, e, l = R.forward(w, x[None])
        inputs[f"effnet_input_{stem}"] = x
        np.save(os.path.join(HERE, f"effnet_maps_{stem}.npy"), maps[0].astype(np.float32))
        np.save(os.path.join(HERE, f"effnet_embedding_{stem}.npy"), e[0].astype(np.float32))
        np.save(os.path.join(HERE, f"effnet_logits_{stem}.npy"), l[0].astype(np.float32))
        print(f"{stem}: input {x.shape} maps {maps.shape[1:]} top5 {np.argsort(-l[0])[:5].tolist()}", flush=True)
    save_npz(os.path.join(HERE, "effnet_inputs.npz"), inputs)  # 2 MB raw -> ~260 kB deflated

    # --- real data
    data = os.path.abspath(args.data)
    pdir = os.path.join(data, "peterson")
    fn = json.load(open(os.path.join(pdir, "fnames.json")))["animals"]["fnames"]
    assert fn == sorted(fn) == sorted(os.listdir(os.path.join(pdir, "images", "animals")))
    H = np.load(os.path.join(pdir, "hsim_peterson.npz"))["animals"]
    X = np.stack([R.preprocess(os.path.join(pdir, "images", "animals", f)) for f in fn])
    _, E, L = R.forward(w, X, args.batch)
    r_p = R.two_oi_r(E, H)
    top1 = L.argmax(1)
    print(f"Peterson animals: r = {r_p:.6f}  r2 = {r_p**2:.6f}; top-1 in 0..397: {(top1 <= 397).sum()}/120 ({time.time()-t0:.0f}s)", flush=True)

    kdir = os.path.join(data, "kriegeskorte92")
    kz = np.load(os.path.join(kdir, "behav_rdms_92.npz"), allow_pickle=True)
    kf = [str(s) for s in kz["image_files"]]
    XK = np.stack([R.preprocess(os.path.join(kdir, f)) for f in kf])
    _, EK, _ = R.forward(w, XK, args.batch)
    r_k = R.two_oi_r(EK, -kz["mean_rdm"])
    print(f"Kriegeskorte 92: r = {r_k:.6f}  r2 = {r_k**2:.6f} ({time.time()-t0:.0f}s)", flush=True)

    ws = R.shuffled_weights(w, 0)
    _, ES, _ = R.forward(ws, X, args.batch)
    r_s = R.two_oi_r(ES, H)
    print(f"shuffled weights (default_rng(0)), Peterson: r = {r_s:.6f} ({time.time()-t0:.0f}s)", flush=True)

    res = {
        "pth": os.path.basename(pth), "pth_sha256": sha,
        "preprocess": "PIL convert('RGB'); shorter side -> 224 BILINEAR (long = int(224*long/short); none if already 224); f32 (v/255 - 0.5)/0.5; no crop",
        "embedding": "1280-d global average pool after conv_head+BN+ReLU6",
        "peterson_animals": {"n": len(fn), "r": r_p, "r2": r_p ** 2,
                             "top1_in_0_397": int((top1 <= 397).sum()),
                             "top5_first10": {fn[i]: np.argsort(-L[i])[:5].tolist() for i in range(10)}},
        "kriegeskorte92": {"n": len(kf), "H": "-mean_rdm", "r": r_k, "r2": r_k ** 2},
        "shuffled_control": {"rng": "np.random.default_rng(0); keys in file order excluding num_batches_tracked; "
                                    "each tensor v -> rng.permutation(v.ravel()).reshape(v.shape) on the logical (C-order) layout",
                             "peterson_r": r_s},
    }
    with open(os.path.join(HERE, "effnet_real_data.json"), "w") as f:
        json.dump(res, f, indent=1)
    assert abs(r_p - 0.673) < 0.005 and abs(r_k - 0.549) < 0.005 and r_s < 0.13 and (top1 <= 397).all(), res


if __name__ == "__main__":
    main()
