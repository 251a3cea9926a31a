#!/usr/bin/env bash
# The landing screen's picture, www/examples/preview.png: heatmaps of eight images of the
# 24-image example (two per row of categories) on the bundled EfficientNet-Lite0, drawn by
# `alignmap analyze` + `alignmap maps --grid` (the same heatmaps the page draws for the example).
#   bash scripts/make-preview.sh [ALIGNMAP_BINARY]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/alignmap-target}
bin=${1:-$CARGO_TARGET_DIR/debug/alignmap}
[[ -x "$bin" ]] || { echo "make-preview: $bin not found (cargo build --bin alignmap)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/images"
for f in $(node -p "require('./www/examples/examples.json').examples[0].files.join(' ')"); do
    cp "www/examples/kriegeskorte92/images/$f" "$tmp/images/"
done
"$bin" analyze --images "$tmp/images" --similarity www/examples/kriegeskorte24/rdm.csv \
    --dissimilarity --out "$tmp/out" --device cpu
# One of each category, then two more: faces, bodies, animals, natural and artificial objects.
"$bin" maps --results "$tmp/out" --images "$tmp/images" --out "$tmp/maps" --columns 4 --tile 160 \
    --grid 014.png 041.png 002.png 026.png 051.png 063.png 074.png 085.png
cp "$tmp/maps/grid.png" www/examples/preview.png
echo "make-preview: wrote www/examples/preview.png ($(stat -c %s www/examples/preview.png) bytes)"
