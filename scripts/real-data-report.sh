#!/usr/bin/env bash
# Regenerates docs/real-data.md: EfficientNet-Lite0 (the bundled f16 weights) on the real human
# data of ../shared/data, next to the same network with its weights shuffled as a control.
# Usage: bash scripts/real-data-report.sh [ALIGNMAP_BINARY]   (needs ../shared/data and models/build.sh done)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/alignmap-target}
bin=${1:-$CARGO_TARGET_DIR/debug/alignmap}
data=../shared/data
[[ -d $data ]] || { echo "real-data-report: $data is absent" >&2; exit 1; }
weights=models/efficientnet-lite0-f16.safetensors
[[ -f $weights ]] || bash models/build.sh "$bin"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" shuffle "$weights" "$work/shuffled.safetensors" --seed 0

run() { # name weights out extra-args...
    local weights=$1 out=$2
    shift 2
    "$bin" analyze --weights "$weights" --out "$out" --device cpu "$@" 2>"$out.log" || { cat "$out.log" >&2; exit 1; }
}
peterson=(--images "$data/peterson/images/animals" --similarity "$data/peterson/hsim_peterson.npz" --key animals --names "$data/peterson/fnames.json")
k92=(--images "$data/kriegeskorte92/images" --similarity "$data/kriegeskorte92/behav_rdms_92.npz" --key mean_rdm --dissimilarity)
run "$weights" "$work/peterson" "${peterson[@]}"
run "$work/shuffled.safetensors" "$work/peterson-shuffled" "${peterson[@]}"
run "$weights" "$work/k92" "${k92[@]}"
run "$work/shuffled.safetensors" "$work/k92-shuffled" "${k92[@]}"

python3 - "$work" > docs/real-data.md <<'PY'
import csv, json, sys
work = sys.argv[1]
def summary(name):
    return json.load(open(f"{work}/{name}/summary.json"))
print("# Real-data results: EfficientNet-Lite0\n")
print("Regenerate with `bash scripts/real-data-report.sh` (bundled f16 weights, CPU). The control is the")
print("same network with every weight tensor's values permuted (`alignmap shuffle --seed 0`).\n")
print("| cohort | human matrix | n | trained r | trained r² | shuffled r | shuffled r² |")
print("|---|---|---|---|---|---|---|")
for name, label, matrix in [("peterson", "Peterson animals", "similarity (`animals`)"), ("k92", "Kriegeskorte 92", "−mean RDM (`mean_rdm`, dissimilarity)")]:
    t, s = summary(name), summary(name + "-shuffled")
    print(f"| {label} | {matrix} | {t['n_images']} | {t['baseline']['r']:.4f} | {t['baseline']['r2']:.4f} | {s['baseline']['r']:.4f} | {s['baseline']['r2']:.4f} |")
print("\nReference values (independent numpy implementation, f32 weights; `tests/golden/efficientnet/`):")
print("Peterson r = 0.6733, Kriegeskorte r = 0.5486, shuffled r < 0.13.\n")
print("## Per-image AIS, Peterson animals (first four images)\n")
print("The heatmap of an image weights its 320 feature maps by max(AIS, 0), normalised to sum 1.")
print("EfficientNet-Lite0's maps are signed (no activation after the last block): a heatmap is")
print("clipped at 0 before display.\n")
rows = list(csv.reader(open(f"{work}/peterson/ais_image.csv")))
base = {b["image"]: b["r"] for b in summary("peterson")["baseline"]["per_image"]}
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
t = summary("peterson")["timings"]
print(f"\nTimings (Peterson, CPU): network {t['network_seconds']:.1f} s, ablation {t['ablation_seconds']:.1f} s.")
PY
echo "real-data-report: wrote docs/real-data.md"
