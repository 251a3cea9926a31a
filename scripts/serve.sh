#!/usr/bin/env bash
# Builds the page and the native tool, then serves www/ on localhost (PORT, default 8080).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/alignmap-target}

bash scripts/setup.sh
bash scripts/build-wasm.sh
cargo build --release --bin alignmap
bash models/build.sh "$CARGO_TARGET_DIR/release/alignmap"
exec "$CARGO_TARGET_DIR/release/alignmap" serve --dir www --port "${PORT:-8080}"
