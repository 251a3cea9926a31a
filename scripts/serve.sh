#!/usr/bin/env bash
# Builds the page and the native tool, then serves www/ on localhost (PORT, default 8080).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/alignmap-target}

bash scripts/setup.sh
bash scripts/build-wasm.sh
# The dev profile (dependencies optimised) shares its build with scripts/test.sh; serving static
# files and converting the bundled model need nothing faster.
cargo build --bin alignmap
bin="$CARGO_TARGET_DIR/debug/alignmap"
bash models/build.sh "$bin"
exec "$bin" serve --dir www --port "${PORT:-8080}"
