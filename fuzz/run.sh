#!/usr/bin/env bash
# Builds the fuzz targets (fuzz/Cargo.toml, docs/fuzzing.md) and runs each for a few seconds,
# after replaying its committed corpus and crash inputs: the `fuzz` stage of scripts/test.sh.
# Needs nightly and cargo-fuzz (scripts/setup.sh installs both).
# Usage: bash fuzz/run.sh [SECONDS_PER_TARGET [TARGET ...]]   (default: 5 s, every target)
# New inputs found go to a temporary folder, not into the committed corpus; a crash leaves its
# input in fuzz/artifacts/<target>/ and fails the script.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
seconds=${1:-5}
shift || true
# No sanitizer by default: it cuts the cold build by a third (docs/fuzzing.md), and these short
# runs replay and smoke-test; the long runs use AddressSanitizer (ALIGNMAP_FUZZ_SANITIZER=address),
# whose allocator also reports a single oversized allocation. One target folder per sanitizer.
sanitizer=${ALIGNMAP_FUZZ_SANITIZER:-none}
target_dir=${ALIGNMAP_FUZZ_TARGET_DIR:-$HOME/.cache/alignmap-fuzz-target}/$sanitizer
cargo +nightly fuzz build -s "$sanitizer" --target-dir "$target_dir"
mapfile -t targets < <(if (($#)); then printf '%s\n' "$@"; else cargo +nightly fuzz list; fi)
bin=$target_dir/x86_64-unknown-linux-gnu/release
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for t in "${targets[@]}"; do
    mkdir -p "$scratch/$t" "artifacts/$t"
    dirs=("$scratch/$t")
    for d in "corpus/$t" "regressions/$t"; do [[ -d "$d" ]] && dirs+=("$d"); done
    start=$SECONDS
    # -detect_leaks=0: Burn's device and kernel caches live for the process by design.
    ASAN_OPTIONS=detect_odr_violation=0 "$bin/$t" "${dirs[@]}" \
        -artifact_prefix="artifacts/$t/" -max_total_time="$seconds" -rss_limit_mb=2048 \
        -timeout=10 -detect_leaks=0 -print_final_stats=1 2>"$scratch/$t.log" || {
        tail -40 "$scratch/$t.log" >&2
        echo "fuzz: $t FAILED; the input is in fuzz/artifacts/$t/" >&2
        exit 1
    }
    runs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$scratch/$t.log")
    printf 'fuzz: %-20s %8s runs in %3d s, corpus %s + regressions %s inputs\n' "$t" "$runs" \
        $((SECONDS - start)) "$(find "corpus/$t" -type f 2>/dev/null | wc -l)" \
        "$(find "regressions/$t" -type f 2>/dev/null | wc -l)"
done
