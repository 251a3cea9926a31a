"""Regenerate every golden file under tests/golden/ (deterministic, idempotent).

    cd tests/golden && python3 make_golden.py          # everything (~1 min, ~1 GB RAM)
    python3 make_golden.py --skip-full                  # everything but the FULL-size net
"""
import io
import json
import os
import sys
import zipfile

import numpy as np

import make_images
import reference as ref
import synthetic as syn

HERE = os.path.dirname(os.path.abspath(__file__))
STEMS = ["rgba_300", "gray_200x260", "rgb16_240x320", "photo_exif6", "square_224"]
FILES = {"rgba_300": "rgba_300.png", "gray_200x260": "gray_200x260.png",
         "rgb16_240x320": "rgb16_240x320.png", "photo_exif6": "photo_exif6.jpg",
         "square_224": "square_224.png"}
SEED = 7


def save(name, arr, dtype=np.float32):
    np.save(os.path.join(HERE, name), np.ascontiguousarray(np.asarray(arr, dtype=dtype)))


def save_npz(name, arrays):
    """np.savez_compressed equivalent with fixed zip timestamps (byte-identical reruns)."""
    with zipfile.ZipFile(os.path.join(HERE, name), "w", zipfile.ZIP_DEFLATED) as zf:
        for key, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue(), compresslevel=9)


def save_json(name, obj):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def weight_checks(weights):
    out = {}
    for k, v in weights.items():
        flat = v.reshape(-1)
        out[k] = {
            "shape": list(v.shape),
            "sum": float(np.sum(flat, dtype=np.float64)),
            "first3": [float(x) for x in flat[:3]],
            "first3_bits": [int(x) for x in flat[:3].view(np.uint32)],
            "last": float(flat[-1]),
        }
    return out


def images_and_tiny(tiny):
    make_images.make_all()
    pre = {}
    for stem in STEMS:
        path = os.path.join(make_images.IMAGES, FILES[stem])
        rgb8, x = ref.preprocess(path)
        save(f"resized_{stem}.npy", rgb8, np.uint8)
        pre[f"preprocess_{stem}"] = x
        a, e, logits = ref.forward(tiny, x)
        save(f"tiny_trunk_{stem}.npy", a)
        save(f"tiny_embedding_{stem}.npy", e)
        save(f"tiny_logits_{stem}.npy", logits)
        print(f"{stem}: input {x.shape} trunk {a.shape} emb[:3] {e[:3]}")
    # float32 CHW inputs, one compressed archive (5 x ~0.7 MB raw would break the size budget)
    for old in [f"preprocess_{s}.npy" for s in STEMS]:
        if os.path.exists(os.path.join(HERE, old)):
            os.remove(os.path.join(HERE, old))
    save_npz("preprocess.npz", pre)
    # the JPEG's decoded (PIL/libjpeg) pixels after exif_transpose, before any resize
    dec = np.asarray(ref.load_rgb(os.path.join(make_images.IMAGES, FILES["photo_exif6"])), dtype=np.uint8)
    save("decoded_photo_exif6.npy", dec, np.uint8)
    # the 16-bit PNG's raw samples are not stored (the PNG itself is the source); its 8-bit view is resized_*


def full_net():
    w = syn.vgg16_weights(syn.FULL, SEED)
    save_json("full_weight_checks.json", weight_checks(w))
    img = syn.synthetic_image(224, 224, 3)
    x = ref.normalise(img)
    a, e, logits = ref.forward(w, x)
    save("full_trunk.npy", a)
    save("full_embedding.npy", e)
    save("full_logits.npy", logits)
    print("full: trunk", a.shape, "emb[:3]", e[:3], "logits[:3]", logits[:3])


def ais(tiny):
    n = 8
    imgs = [syn.blocky_image(224, 224, 100 + k, 16) for k in range(n)]
    rng = np.random.default_rng(5)
    m = rng.uniform(0.0, 1.0, size=(n, n))
    H = (m + m.T) / 2.0
    np.fill_diagonal(H, 1.0)
    A = [ref.trunk(tiny, ref.normalise(im)) for im in imgs]      # float64 [C,14,14]
    C = A[0].shape[0]
    E = np.stack([ref.head(tiny, a)[0] for a in A])               # n x hidden, float64

    Z = np.corrcoef(E)
    r = ref.pearson(ref.upper(Z), ref.upper(H))

    def row_r(t, e_t):
        """pearson(corr(e_t, e_j) for j != t, H[t, j != t]); the same code for baseline and ablation."""
        others = [j for j in range(n) if j != t]
        z = [ref.pearson(e_t, E[j]) for j in others]
        return ref.pearson(z, H[t, others])

    base = [row_r(t, E[t]) for t in range(n)]
    ais_img = np.zeros((n, C))
    zero_pooled = []
    for t in range(n):
        pooled = ref.pooled(A[t])
        for k in range(C):
            if not pooled[k].any():
                zero_pooled.append((t, k))
            a = A[t].copy()
            a[k] = 0.0
            e_tk = ref.head(tiny, a)[0]                            # full head pass, no tricks
            ais_img[t, k] = base[t] - row_r(t, e_tk)

    ais_r2 = np.zeros(C)
    ais_r = np.zeros(C)
    for k in range(C):
        Ek = []
        for t in range(n):
            a = A[t].copy()
            a[k] = 0.0
            Ek.append(ref.head(tiny, a)[0])
        rk = ref.pearson(ref.upper(np.corrcoef(np.stack(Ek))), ref.upper(H))
        ais_r2[k] = r * r - rk * rk
        ais_r[k] = r - rk

    for (t, k) in zero_pooled:
        assert ais_img[t, k] == 0.0, (t, k, ais_img[t, k])
    dead_everywhere = [k for k in range(C) if all((t, k) in zero_pooled for t in range(n))]
    for k in dead_everywhere:
        assert ais_r2[k] == 0.0 and ais_r[k] == 0.0

    save("ais_H.npy", H, np.float64)
    save("ais_embeddings.npy", E)
    save("ais_image.npy", ais_img, np.float64)
    save("ais_dataset.npy", ais_r2, np.float64)
    save("ais_dataset_r.npy", ais_r, np.float64)
    save_json("ais_baseline.json", {
        "r": r, "r2": r * r, "per_image": base,
        "zero_pooled_channels": [[t, k] for (t, k) in zero_pooled],
        "dead_in_every_image": dead_everywhere,
    })
    print(f"ais: r={r:.6f} zero-pooled (image, channel) pairs: {len(zero_pooled)}, dead everywhere: {dead_everywhere}")


def checks():
    """Small extra checks for the Rust generator: synthetic images and TINY weights."""
    out = {"synthetic_image": {}}
    for h, w, s in [(224, 224, 3)] + [(224, 224, 100 + k) for k in range(8)] + [(5, 7, 0)]:
        im = syn.synthetic_image(h, w, s)
        out["synthetic_image"][f"{h}x{w}_seed{s}"] = {
            "sum": int(im.sum(dtype=np.int64)), "first8": [int(v) for v in im.reshape(-1)[:8]]}
    out["tiny_weights_seed7"] = weight_checks(syn.vgg16_weights(syn.TINY, SEED))
    save_json("synthetic_checks.json", out)


def main():
    assert syn._scalar_check()
    tiny = syn.vgg16_weights(syn.TINY, SEED)
    checks()
    images_and_tiny(tiny)
    ais(tiny)
    if "--skip-full" not in sys.argv:
        full_net()


if __name__ == "__main__":
    main()
