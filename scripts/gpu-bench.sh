#!/usr/bin/env bash
# The GPU measurement of issue 17, as one prepared run on a machine with an NVIDIA GPU (native
# wgpu on Vulkan) and PyTorch: full-size VGG-16 at n = 120, the trunk, the engine and the 40-fold
# protocol, beside the PyTorch anchor in the same run; then, if headless Chromium starts with
# WebGPU on that GPU, the page's time for the 24-image example.
#
# Usage: bash scripts/gpu-bench.sh [GPU_ANCHOR] [OUT_DIR]
#   GPU_ANCHOR: shared/bench/gpu_anchor_pytorch.py (copy it into the checkout when shared/ does
#               not travel with it); skipped when absent.
#   OUT_DIR:    where the logs go (default: gpu-bench-out).
# Needs: cargo (the build), a Vulkan loader and the NVIDIA ICD (libvulkan1; the device README of
# this workplace says how to bring it), python3 with torch and torchvision for the anchor.
# Prints one JSON-ish line per measurement and writes everything to OUT_DIR/gpu-bench.log.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
anchor=${1:-../shared/bench/gpu_anchor_pytorch.py}
out=${2:-gpu-bench-out}
mkdir -p "$out"
log="$out/gpu-bench.log"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/alignmap-target}
say() { printf '%s\n' "$*" | tee -a "$log"; }

say "== $(date -u +%FT%TZ) $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null)"
start=$SECONDS
cargo build --release --bin alignmap 2>&1 | tail -3 | tee -a "$log" || exit 1
say "build: $((SECONDS - start)) s"
bin="$CARGO_TARGET_DIR/release/alignmap"

run() { say "\$ $*"; "$@" 2>&1 | tee -a "$log"; }

# PyTorch first and last, so that clocks and other tenants show in both.
if [[ -f "$anchor" ]]; then
    run python3 "$anchor"
    run python3 "$anchor" tf32
else
    say "no PyTorch anchor at $anchor: skipped"
fi
run "$bin" bench --n 24 120 --naive-channels 8 --device wgpu
run "$bin" bench-validate --n 120 --timed-folds 4 --naive-steps 4 --device wgpu
if [[ -f "$anchor" ]]; then
    run python3 "$anchor"
fi

# The page on the GPU's WebGPU, where Chromium and the browser tests' packages are present.
if command -v chromium >/dev/null && [[ -d tests/browser/node_modules && -f www/pkg/alignmap_bg.wasm ]]; then
    ALIGNMAP_BIN="$bin" run node --test tests/browser/first-minute.test.mjs
else
    say "page on WebGPU: skipped (needs chromium, tests/browser/node_modules and a built www/pkg)"
fi
say "total: $((SECONDS - start)) s"
