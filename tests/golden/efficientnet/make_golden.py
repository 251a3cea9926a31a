"""Run the EfficientNet-Lite checks on the real data and write the small goldens.

    cd tests/golden/efficientnet && python3 make_golden.py [--variant lite0|lite1|lite2] [--pth PATH]
        [--data ../../../../shared/data]

Lite0 (the default) writes the effnet_* files; Lite1 and Lite2 write effnet_<variant>_golden.npz
and effnet_<variant>_real_data.json (see README.md).
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
SHA256 = {"lite0": "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
          "lite1": "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850",
          "lite2": "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d"}
AIS_COHORT = 12  # the first Peterson animals (sorted names), with the matching block of H


def fetch(variant):
    script = os.path.join(HERE, "..", "..", "..", "models", "fetch-efficientnet-lite.sh")
    return subprocess.check_output(["bash", script, variant], text=True).strip().splitlines()[-1]


def peterson(data):
    pdir = os.path.join(os.path.abspath(data), "peterson")
    fn = json.load(open(os.path.join(pdir, "fnames.json")))["animals"]["fnames"]
    assert fn == sorted(fn) == sorted(os.listdir(os.path.join(pdir, "images", "animals")))
    H = np.load(os.path.join(pdir, "hsim_peterson.npz"))["animals"]
    return [os.path.join(pdir, "images", "animals", f) for f in fn], fn, H


def kriegeskorte(data):
    kdir = os.path.join(os.path.abspath(data), "kriegeskorte92")
    kz = np.load(os.path.join(kdir, "behav_rdms_92.npz"), allow_pickle=True)
    return [os.path.join(kdir, str(s)) for s in kz["image_files"]], -kz["mean_rdm"]


def image_ais(w, maps, H):
    """Per-image and dataset AIS by direct ablation, float64 (docs/ENGINE.md): image t's AIS for
    channel k is base_t - r_tk, r_tk the Pearson correlation over j != t between
    corr(e_t with channel k zeroed, e_j) and H[t, j]; dataset AIS r - r_k with channel k zeroed in
    every image. maps NHWC float64."""
    n, channels = maps.shape[0], maps.shape[-1]

    def standardize(e):
        c = e - e.mean(axis=1, keepdims=True)
        return c / np.sqrt((c * c).sum(axis=1, keepdims=True))

    u = standardize(R.head(w, maps)[0])
    others = [[j for j in range(n) if j != t] for t in range(n)]
    z = u @ u.T
    base = np.array([R.pearson(z[t, others[t]], H[t, others[t]]) for t in range(n)])
    r = R.pearson(R.upper(z), R.upper(H))
    ais, dataset_r = np.zeros((n, channels)), np.zeros(channels)
    for k in range(channels):
        ablated = maps.copy()
        ablated[..., k] = 0.0
        ua = standardize(R.head(w, ablated)[0])
        versus_full = ua @ u.T
        ais[:, k] = [base[t] - R.pearson(versus_full[t, others[t]], H[t, others[t]]) for t in range(n)]
        dataset_r[k] = r - R.pearson(R.upper(ua @ ua.T), R.upper(H))
    return base, ais, dataset_r


def scaled_variant(variant, pth, data, batch):
    """Lite1 / Lite2 at their training resolution: the three golden images, the Peterson animals
    (top-1, 2OI r, embeddings and AIS of a small cohort) and Kriegeskorte 92 (2OI r)."""
    side = R.input_side(variant)
    w = R.load_weights(pth)
    R.check_shapes(w, variant)
    t0 = time.time()
    arrays, inputs_sha = {}, {}
    for stem in GOLDEN_IMAGES:
        x = R.preprocess(os.path.join(HERE, "..", "images", stem + ".png"), side)
        maps, e, l = R.forward(w, x[None], variant=variant)
        inputs_sha[stem] = {"shape": list(x.shape), "sha256": hashlib.sha256(x.tobytes()).hexdigest()}
        arrays[f"embedding_{stem}"] = e[0].astype(np.float32)
        arrays[f"logits_{stem}"] = l[0].astype(np.float32)
        if stem == "square_224":
            arrays[f"maps_{stem}"] = maps[0].astype(np.float32)
        print(f"{variant} {stem}: input {x.shape} maps {maps.shape[1:]} top5 {np.argsort(-l[0])[:5].tolist()}", flush=True)

    paths, fn, H = peterson(data)
    X = np.stack([R.preprocess(p, side) for p in paths])
    maps, E, L = [], [], []
    for i in range(0, len(X), batch):
        a = R.trunk(w, X[i:i + batch], variant)
        e, l = R.head(w, a)
        if i < AIS_COHORT:
            maps.append(a)
        E.append(e)
        L.append(l)
    E, L = np.concatenate(E), np.concatenate(L)
    maps = np.concatenate(maps)[:AIS_COHORT]
    r_p = R.two_oi_r(E, H)
    top = np.argsort(-L, axis=1)
    margin = L[np.arange(len(L)), top[:, 0]] - L[np.arange(len(L)), top[:, 1]]
    print(f"{variant} Peterson animals: r = {r_p:.6f}; top-1 in 0..397: {(top[:, 0] <= 397).sum()}/{len(fn)} ({time.time()-t0:.0f}s)", flush=True)

    n = AIS_COHORT
    base, ais, dataset_r = image_ais(w, maps, H[:n, :n])
    arrays["cohort_embeddings"] = E[:n].astype(np.float32)
    arrays["cohort_baseline_per_image"] = base
    arrays["cohort_image_ais"] = ais
    arrays["cohort_dataset_r"] = dataset_r
    print(f"{variant} AIS cohort ({n} images, maps {maps.shape[1:]}): |image AIS| up to {np.abs(ais).max():.3g}, "
          f"|dataset AIS| up to {np.abs(dataset_r).max():.3g} ({time.time()-t0:.0f}s)", flush=True)

    kpaths, HK = kriegeskorte(data)
    _, EK, _ = R.forward(w, np.stack([R.preprocess(p, side) for p in kpaths]), batch, variant)
    r_k = R.two_oi_r(EK, HK)
    print(f"{variant} Kriegeskorte 92: r = {r_k:.6f} ({time.time()-t0:.0f}s)", flush=True)

    save_npz(os.path.join(HERE, f"effnet_{variant}_golden.npz"), arrays)
    res = {
        "variant": variant, "pth": os.path.basename(pth), "pth_sha256": SHA256[variant], "input_side": side,
        "preprocess": f"PIL convert('RGB'); shorter side -> {side} BILINEAR (long = int({side}*long/short); none if already {side}); f32 (v/255 - 0.5)/0.5; no crop",
        "golden_inputs": inputs_sha,
        "peterson_animals": {"n": len(fn), "r": r_p, "top1_in_0_397": int((top[:, 0] <= 397).sum()),
                             "top1": {f: int(top[i, 0]) for i, f in enumerate(fn)},
                             "top1_margin": {f: float(margin[i]) for i, f in enumerate(fn)}},
        "ais_cohort": {"images": fn[:n], "H": "hsim_peterson.npz['animals'][:n, :n]", "maps_shape": [maps.shape[3], maps.shape[1], maps.shape[2]]},
        "kriegeskorte92": {"n": len(kpaths), "H": "-mean_rdm", "r": r_k},
    }
    with open(os.path.join(HERE, f"effnet_{variant}_real_data.json"), "w") as f:
        json.dump(res, f, indent=1)
    assert (top[:, 0] <= 397).mean() >= 0.95, res["peterson_animals"]["top1_in_0_397"]


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
    ap.add_argument("--variant", default="lite0", choices=sorted(R.VARIANTS))
    args = ap.parse_args()
    pth = args.pth or fetch(args.variant)
    with open(pth, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    assert sha == SHA256[args.variant], sha
    if args.variant != "lite0":
        return scaled_variant(args.variant, pth, args.data, args.batch)
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
    paths, fn, H = peterson(args.data)
    X = np.stack([R.preprocess(p) for p in paths])
    _, E, L = R.forward(w, X, args.batch)
    r_p = R.two_oi_r(E, H)
    top1 = L.argmax(1)
    print(f"Peterson animals: r = {r_p:.6f}  r2 = {r_p**2:.6f}; top-1 in 0..397: {(top1 <= 397).sum()}/120 ({time.time()-t0:.0f}s)", flush=True)

    kf, HK = kriegeskorte(args.data)
    XK = np.stack([R.preprocess(p) for p in kf])
    _, EK, _ = R.forward(w, XK, args.batch)
    r_k = R.two_oi_r(EK, HK)
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
