#!/usr/bin/env bash
# Regenerates docs/real-data.md: EfficientNet-Lite0 (the bundled f16 weights) on the real human
# data of ../shared/data, next to the same network with its weights shuffled as a control, and
# the paper's Aim 2 (`alignmap compare`): Lite0 against Lite2 and against its shuffled control.
# Usage: bash scripts/real-data-report.sh [ALIGNMAP_BINARY]   (needs ../shared/data and models/build.sh done)
# The figures in the doc were made with the release binary under `nice -n 19` on 2 cores:
#   cargo build --release && nice -n 19 bash scripts/real-data-report.sh "$CARGO_TARGET_DIR/release/alignmap"
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/alignmap-target}
bin=${1:-$CARGO_TARGET_DIR/debug/alignmap}
data=../shared/data
[[ -d $data ]] || { echo "real-data-report: $data is absent" >&2; exit 1; }
lite0=models/efficientnet-lite0-f16.safetensors
lite2=models/efficientnet-lite2-f16.safetensors
[[ -f $lite0 && -f $lite2 ]] || bash models/build.sh "$bin"
work=${ALIGNMAP_REPORT_DIR:-$(mktemp -d)}
[[ -n ${ALIGNMAP_REPORT_DIR:-} ]] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
shuffled=$work/efficientnet-lite0-shuffled.safetensors
"$bin" shuffle "$lite0" "$shuffled" --seed 0

peterson=(--images "$data/peterson/images/animals" --similarity "$data/peterson/hsim_peterson.npz" --key animals --names "$data/peterson/fnames.json")
k92=(--images "$data/kriegeskorte92/images" --similarity "$data/kriegeskorte92/behav_rdms_92.npz" --key mean_rdm --dissimilarity)
compare() { # out label-b weights-b cohort-args...
    local out=$1 label=$2 weights=$3
    shift 3
    local t0=$SECONDS
    "$bin" compare --a "$lite0" --b "$weights" --label-a EfficientNet-Lite0 --label-b "$label" \
        --out "$work/$out" --device cpu "$@" 2>"$work/$out.log" || { cat "$work/$out.log" >&2; exit 1; }
    echo "$((SECONDS - t0))" >"$work/$out.seconds"
    echo "real-data-report: $out in $((SECONDS - t0)) s" >&2
}
compare peterson-shuffled "Lite0 shuffled" "$shuffled" "${peterson[@]}"
compare peterson-lite2 EfficientNet-Lite2 "$lite2" "${peterson[@]}"
compare k92-shuffled "Lite0 shuffled" "$shuffled" "${k92[@]}"
compare k92-lite2 EfficientNet-Lite2 "$lite2" "${k92[@]}"

python3 - "$work" > docs/real-data.md <<'PY'
import csv, json, math, statistics, sys
work = sys.argv[1]
def load(path):
    return json.load(open(f"{work}/{path}"))
def summary(run, side):
    return load(f"{run}/{side}/summary.json")
print("# Real-data results: EfficientNet-Lite0, Lite2 and a shuffled control\n")
print("Regenerate with `bash scripts/real-data-report.sh` (bundled f16 weights, CPU; the figures below")
print("were made with the release binary under `nice -n 19`). The control is the same network with every")
print("weight tensor's values permuted (`alignmap shuffle --seed 0`). Data: `../shared/data` (Peterson")
print("animals, 120 images, similarities; Kriegeskorte 92, the mean of 16 people's dissimilarities).\n")
print("| cohort | human matrix | n | Lite0 r | Lite0 r² | Lite0 shuffled r | Lite0 shuffled r² | Lite2 r | Lite2 r² |")
print("|---|---|---|---|---|---|---|---|---|")
cohorts = [("peterson", "Peterson animals", "similarity (`animals`)"), ("k92", "Kriegeskorte 92", "−mean RDM (`mean_rdm`, dissimilarity)")]
for name, label, matrix in cohorts:
    t, s, l2 = summary(f"{name}-shuffled", "a"), summary(f"{name}-shuffled", "b"), summary(f"{name}-lite2", "b")
    print(f"| {label} | {matrix} | {t['n_images']} | {t['baseline']['r']:.4f} | {t['baseline']['r2']:.4f} | {s['baseline']['r']:.4f} | {s['baseline']['r2']:.4f} | {l2['baseline']['r']:.4f} | {l2['baseline']['r2']:.4f} |")
print("\nReference values (independent numpy implementation, f32 weights; `tests/golden/efficientnet/`):")
print("Peterson r = 0.6733, Kriegeskorte r = 0.5486, shuffled r < 0.13.\n")

print("## Aim 2: two networks compared\n")
print("`alignmap compare` runs both networks on the cohort and compares them (`docs/VALIDATION.md`):")
print("**Match** per image is the Pearson r of the two heatmaps at the image's size; **maxEntropy** the")
print("larger of the two softmax entropies (nats); the **KS** tests compare the two networks'")
print("distributions of mean AIS per feature map and of each image's mean absolute deviation (MAD) of")
print("AIS. EfficientNet-Lite0 sees the images at 224 px, Lite2 at 260 px (the sizes they were trained")
print("at); the shuffled control is Lite0's architecture at 224 px. The page's step 5 shows the same")
print("numbers (`tests/browser/compare.test.mjs` checks them against this command).\n")
def q(values, p):
    v = sorted(values)
    i = p * (len(v) - 1)
    lo, hi = math.floor(i), math.ceil(i)
    return v[lo] + (v[hi] - v[lo]) * (i - lo)
def ks(t):
    return f"undefined ({t['undefined']})" if "undefined" in t else f"{t['statistic']:.3f} ({t['p_value']:.2g})"
def corr(c):
    return ("undefined", "") if "undefined" in c else (f"{c['r']:.3f}", f"{c['p_two_sided']:.2g}")
print("| cohort | A vs B | n | Match median | mean ± sd | quartiles | range | no Match | r(Match, maxEntropy) | p | KS mean AIS per map: D (p) | KS MAD per image: D (p) | mean MAD A / B | time |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
rows = []
for name, label, _ in cohorts:
    for run, versus in [(f"{name}-lite2", "Lite0 vs Lite2"), (f"{name}-shuffled", "Lite0 vs Lite0 shuffled")]:
        r = load(f"{run}/compare.json")
        m = r["match"]
        values = [v for v in m["per_image"] if v is not None]
        rr, p = corr(r["max_entropy"]["pearson_with_match"])
        mad = lambda side: statistics.fmean(r[side]["mad_per_image"])
        seconds = open(f"{work}/{run}.seconds").read().strip()
        print(f"| {label} | {versus} | {len(r['images'])} | {m['median']:.3f} | {m['mean']:.3f} ± {m['sd']:.3f} | {q(values, 0.25):.3f} – {q(values, 0.75):.3f} | {min(values):.3f} – {max(values):.3f} | {m['images_without_match']} | {rr} | {p} | {ks(r['ks_mean_ais_per_feature_map'])} | {ks(r['ks_mad_per_image'])} | {mad('a'):.2e} / {mad('b'):.2e} | {seconds} s |")
        rows.append((label, versus, values))
print("\nThe distribution of Match (images per bin; a Match is at most 1):\n")
print("| cohort | A vs B | < 0 | " + " | ".join(f"{k / 10:.1f} – {(k + 1) / 10:.1f}" for k in range(10)) + " |")
print("|---|---|---|" + "---|" * 10)
for label, versus, values in rows:
    counts = [0] * 11
    for v in values:
        counts[0 if v < 0 else 1 + min(9, int(v * 10))] += 1
    print(f"| {label} | {versus} | " + " | ".join(str(c) for c in counts) + " |")
print("\nTimes: both networks' analyses and the comparison, release binary, `--device cpu`, 2 cores shared")
print("with other builds.\n")
print("The commands (`$lite0`, `$lite2`: `models/efficientnet-lite{0,2}-f16.safetensors`, built by")
print("`models/build.sh`; `$data`: `../shared/data`):\n")
print("```sh")
print("alignmap shuffle $lite0 lite0-shuffled.safetensors --seed 0")
for name, args in [("peterson", "--images $data/peterson/images/animals --similarity $data/peterson/hsim_peterson.npz \\\n    --key animals --names $data/peterson/fnames.json"),
                   ("k92", "--images $data/kriegeskorte92/images --similarity $data/kriegeskorte92/behav_rdms_92.npz \\\n    --key mean_rdm --dissimilarity")]:
    for out, label, weights in [(f"{name}-lite2", "EfficientNet-Lite2", "$lite2"), (f"{name}-shuffled", "'Lite0 shuffled'", "lite0-shuffled.safetensors")]:
        print(f"alignmap compare --a $lite0 --b {weights} --label-a EfficientNet-Lite0 --label-b {label} \\\n    {args} --out {out} --device cpu")
print("```\n")

print("## Per-image AIS, Peterson animals (first four images)\n")
print("The heatmap of an image weights its 320 feature maps by max(AIS, 0), normalised to sum 1.")
print("EfficientNet-Lite0's maps are signed (no activation after the last block): a heatmap is")
print("clipped at 0 before display.\n")
rows = list(csv.reader(open(f"{work}/peterson-shuffled/a/ais_image.csv")))
base = {b["image"]: b["r"] for b in summary("peterson-shuffled", "a")["baseline"]["per_image"]}
print("| image | base_t | maps with AIS > 0 | top 5 maps (AIS) | weight of the top 5 |")
print("|---|---|---|---|---|")
for row in rows[1:5]:
    name, values = row[0], [float(v) for v in row[1:]]
    positive = [max(v, 0.0) for v in values]
    total = sum(positive)
    top = sorted(range(len(values)), key=lambda k: -values[k])[:5]
    share = sum(positive[k] for k in top) / total if total > 0 else float("nan")
    tops = ", ".join(f"{k} ({values[k]:.4f})" for k in top)
    print(f"| {name} | {base[name]:.4f} | {sum(v > 0 for v in values)} | {tops} | {share:.2f} |")
t = summary("peterson-shuffled", "a")["timings"]
print(f"\nTimings (Peterson, Lite0, CPU): network {t['network_seconds']:.1f} s, ablation {t['ablation_seconds']:.1f} s.\n")
PY
cat >>docs/real-data.md <<'MD'
## The paper's figures: VGG-16 on ImageNet against VGG-16 on Ecoset

The paper compares VGG-16 trained on ImageNet with VGG-16 trained on Ecoset (Mehrer, Spoerer,
Jones, Kriegeskorte & Kietzmann 2021, *PNAS* 118(8):e2011417118; https://www.kietzmannlab.org/ecoset/)
and reports a median heatmap Match of 0.82 for animals down to 0.64 for vegetables. The weights are
half a gigabyte each and these build machines cannot download them; with network access:

```sh
# 1. The two networks. ImageNet: timm's vgg16.tv_in1k (torchvision's weights), safetensors.
curl -L -o vgg16-imagenet.safetensors https://huggingface.co/timm/vgg16.tv_in1k/resolve/main/model.safetensors
# Ecoset: the authors' PyTorch state dict (torchvision VGG-16 with a 565-way fc8), on OSF; the
# address thingsvision's VGG16_ecoset loads (ViCCo-Group/thingsvision, custom_models/vgg16_ecoset.py).
curl -L -o vgg16-ecoset.pth https://osf.io/z5uf3/download
# 2. The .pth to safetensors (f32; add --dtype f16 for a file the page fetches, half the size).
alignmap convert vgg16-ecoset.pth vgg16-ecoset.safetensors
# 3. Aim 2 on the Peterson animals (--device auto: a GPU through wgpu when there is one).
alignmap compare --a vgg16-imagenet.safetensors --b vgg16-ecoset.safetensors \
    --label-a ImageNet --label-b Ecoset \
    --images $data/peterson/images/animals --similarity $data/peterson/hsim_peterson.npz \
    --key animals --names $data/peterson/fnames.json --out vgg16-animals --device auto
```

`vgg16-animals/compare.json` then holds `match.median` (the paper: 0.82 for animals). The other
five categories (`--key automobiles|fruits|furniture|various|vegetables`) need their images,
which `../shared/data` does not have (it has the animals only); with them, the same command per
category gives the paper's range down to 0.64 for vegetables. In the page: load VGG-16 (ImageNet)
in step 1, run the cohort, then choose the converted Ecoset file (or its URL) as network B in
step 5. The Ecoset address was found in thingsvision's source and could not be fetched from these
machines; if it moves, the Ecoset page above links the trained networks.
MD
echo "real-data-report: wrote docs/real-data.md"
