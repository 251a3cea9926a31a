#!/usr/bin/env bash
# Builds the browser package www/pkg/ (alignmap.js + alignmap_bg.wasm, alignmap.d.ts, package.json):
#   wasm-pack build --target web (cargo for wasm32-unknown-unknown with profile "wasm", then the
#   wasm-bindgen CLI on PATH) -> wasm-opt -Oz. Offline: `--mode no-install` makes wasm-pack use the
#   wasm-bindgen that scripts/setup.sh installed (the version in Cargo.lock) and download nothing;
#   its own wasm-opt step is off (--no-opt), ours runs below. No .gitignore in www/pkg
#   (--no-gitignore): the repository ignores www/pkg already, and a `*` there would keep the
#   package out of a published copy of www/ that is committed to git (GitHub Pages).
# wasm-opt is the npm package binaryen of tests/browser (scripts/setup.sh installs it); Debian's
# wasm-opt (binaryen 108) produces a module that fails to load, so it is never used.
# Set ALIGNMAP_WASM_OPT=0 to skip the optimisation, ALIGNMAP_WASM_OPT_LEVEL to change it (default
# -Oz; measured on the 2-core build machine with the wasm profile of Cargo.toml: -Oz ~5 min,
# 26.7 MB -> 14.0 MB raw, 4.2 MB gzipped; older figures for an all-"s" profile: 22.8 MB -> 10.4 MB raw, 3.9 -> 2.7 MB
# gzipped; -O1 ~1.5 min, 13.9 MB raw, 2.6 MB gzipped).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
say() { printf 'build-wasm: %s\n' "$*"; }
fmt() { awk -v b="$1" 'BEGIN { printf "%.1f MB (%d bytes)", b / 1e6, b }'; }
die() { printf 'build-wasm: error: %s\n' "$*" >&2; exit 1; }

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/alignmap-target}
out_dir=www/pkg

command -v wasm-pack >/dev/null || die "wasm-pack not found: run scripts/setup.sh"
command -v wasm-bindgen >/dev/null || die "wasm-bindgen not found: run scripts/setup.sh"
start=$SECONDS
say "$(wasm-pack --version) build --target web --profile wasm (target dir $CARGO_TARGET_DIR)"
rm -rf "$out_dir"
wasm-pack build --target web --mode no-install --no-opt --no-gitignore --profile wasm \
    --out-dir "$out_dir" .
wasm="$out_dir/alignmap_bg.wasm"
for f in "$out_dir/alignmap.js" "$wasm" "$out_dir/package.json"; do
    [[ -f "$f" ]] || die "wasm-pack did not produce $f"
done
say "wasm-pack took $((SECONDS - start)) s"

# Features the module may use (rustc's wasm32 defaults as of 1.82+): binaryen must accept them to
# read it, and must not lower them away. Chromium >= 113 (WebGPU) supports all of them.
wasm_opt_features=(
    --enable-bulk-memory
    --enable-nontrapping-float-to-int
    --enable-sign-ext
    --enable-mutable-globals
    --enable-multivalue
    --enable-reference-types
)
wasm_opt=tests/browser/node_modules/.bin/wasm-opt
if [[ "${ALIGNMAP_WASM_OPT:-1}" == 0 ]]; then
    say "wasm-opt skipped (ALIGNMAP_WASM_OPT=0)"
elif [[ ! -x "$wasm_opt" ]]; then
    die "$wasm_opt not found: run scripts/setup.sh (npm package binaryen of tests/browser)"
else
    t=$SECONDS
    level=${ALIGNMAP_WASM_OPT_LEVEL:--Oz}
    say "$("$wasm_opt" --version) $level ($(fmt "$(stat -c %s "$wasm")") before)"
    tmp="$wasm.opt"
    if "$wasm_opt" "$level" "${wasm_opt_features[@]}" -o "$tmp" "$wasm"; then
        # The optimised module must still validate and load: WebAssembly.compile it in node.
        if node -e '
            const fs = require("fs");
            WebAssembly.compile(fs.readFileSync(process.argv[1]))
              .then(() => process.exit(0))
              .catch((e) => { console.error(String(e)); process.exit(1); });' "$tmp"; then
            mv "$tmp" "$wasm"
            say "wasm-opt took $((SECONDS - t)) s"
        else
            rm -f "$tmp"
            say "WARNING: the wasm-opt output does not compile; keeping the unoptimised module"
        fi
    else
        rm -f "$tmp"
        say "WARNING: wasm-opt failed; keeping the unoptimised module"
    fi
fi

raw_size=$(stat -c %s "$wasm")
gz_size=$(gzip -9 -c "$wasm" | wc -c)
say "$wasm: $(fmt "$raw_size") raw, $(fmt "$gz_size") gzipped"
say "done in $((SECONDS - start)) s"
