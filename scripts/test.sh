#!/usr/bin/env bash
# The test command: set-up, formatting and lints, native tests, the wasm package, then the browser
# tests in headless Chromium against the native binary. Stops at the first failure; prints
# per-stage times at the end.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/alignmap-target}

timings=()
print_timings() {
    local rc=$?
    if ((${#timings[@]})); then
        printf '\ntest.sh stage times:\n'
        printf '  %s\n' "${timings[@]}"
    fi
    ((rc == 0)) || printf 'test.sh: FAILED (exit %d)\n' "$rc" >&2
}
trap print_timings EXIT

stage() {
    local name=$1
    shift
    printf '\n=== %s: %s\n' "$name" "$*"
    local t=$SECONDS rc=0
    "$@" || rc=$?
    timings+=("$(printf '%-14s %5d s%s' "$name" $((SECONDS - t)) "$( ((rc == 0)) || printf '  FAILED (exit %d)' "$rc")")")
    return "$rc"
}

# The page's scripts and the browser tests must parse: a stray quote in a test's name once took a
# whole browser test file down. (`node --check` on a .js file skips ES module syntax errors;
# read as a module from stdin, it does not.)
check_js() {
    local f
    for f in www/*.js tests/browser/*.mjs; do
        node --input-type=module --check <"$f" || {
            echo "lint: $f does not parse" >&2
            return 1
        }
    done
}

# The scripts parse (check_js); clippy natively (every target) and for wasm32 (the library as
# build-wasm compiles it), and the docs' intra-doc links. Chained with &&: errexit does not
# apply inside `stage`.
lint() {
    check_js &&
        cargo clippy --all-targets -- -D warnings &&
        cargo clippy --target wasm32-unknown-unknown --lib --profile wasm -- -D warnings &&
        RUSTDOCFLAGS="-D rustdoc::broken_intra_doc_links" cargo doc --no-deps --lib
}

stage setup bash scripts/setup.sh
stage fmt cargo fmt --check
stage lint lint
stage models bash models/fetch-efficientnet-lite.sh
stage cargo-test cargo test --all-targets
# Every parser of user input under libFuzzer: the committed corpora and crash inputs replayed,
# then 5 s of fuzzing per target (fuzz/run.sh, docs/fuzzing.md; its own instrumented build).
stage fuzz bash fuzz/run.sh 5
stage cargo-build cargo build --bin alignmap
# The page loads the bundled network from www/models (the browser tests skip without it).
stage bundled-model bash models/build.sh "$CARGO_TARGET_DIR/debug/alignmap"
# The served package is optimised with wasm-opt -Oz (5 min on 2 cores); the tests check the same
# code unoptimised.
stage build-wasm env ALIGNMAP_WASM_OPT=0 bash scripts/build-wasm.sh
stage browser env ALIGNMAP_BIN="$CARGO_TARGET_DIR/debug/alignmap" node --test tests/browser/
