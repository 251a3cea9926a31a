#!/usr/bin/env bash
# Installs what building and testing alignmap needs, and only what is missing:
#   - the wasm32-unknown-unknown rustup target
#   - wasm-bindgen-cli at exactly the version of the wasm-bindgen crate in Cargo.lock
#   - wasm-pack 0.15 (scripts/build-wasm.sh runs it offline, with the wasm-bindgen-cli above)
#   - Debian packages: chromium (headless browser tests), mesa-vulkan-drivers (native wgpu on lavapipe)
#   - the npm packages of tests/browser/ (playwright-core, binaryen's wasm-opt), from its package-lock.json
#   - the nightly toolchain and cargo-fuzz (the fuzz stage: fuzz/, docs/fuzzing.md)
# Idempotent: when everything is present it only checks, in about a second.
# Never downloads a browser through npm: playwright-core drives Debian's /usr/bin/chromium.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
start=$SECONDS
say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# --- Rust target -------------------------------------------------------------------------------
command -v rustup >/dev/null || die "rustup not found (the Rust toolchain is installed by rustup)"
if rustup target list --installed | grep -qx 'wasm32-unknown-unknown'; then
    say "rust target wasm32-unknown-unknown: present"
else
    say "installing rust target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
fi

# --- wasm-bindgen-cli, same version as the wasm-bindgen crate in Cargo.lock ---------------------
[[ -f Cargo.lock ]] || die "Cargo.lock not found: run 'cargo generate-lockfile' first"
wb_version=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/^version = "|"$/, ""); print; exit }' Cargo.lock)
[[ -n "$wb_version" ]] || die "no wasm-bindgen package in Cargo.lock"
have_wb=""
if command -v wasm-bindgen >/dev/null; then
    have_wb=$(wasm-bindgen --version | awk '{ print $2 }')
fi
if [[ "$have_wb" == "$wb_version" ]]; then
    say "wasm-bindgen-cli $wb_version: present"
else
    say "installing wasm-bindgen-cli $wb_version (found: ${have_wb:-none}); this compiles for a few minutes"
    # Not --locked: the CLI's own lock file fails to build with this toolchain.
    cargo install wasm-bindgen-cli --version "$wb_version" --force
    have_wb=$(wasm-bindgen --version | awk '{ print $2 }')
    [[ "$have_wb" == "$wb_version" ]] ||
        die "wasm-bindgen on PATH is $have_wb, wanted $wb_version (is ~/.cargo/bin first on PATH?)"
fi

# --- wasm-pack ---------------------------------------------------------------------------------
have_wp=""
if command -v wasm-pack >/dev/null; then
    have_wp=$(wasm-pack --version | awk '{ print $2 }')
fi
if [[ "$have_wp" == 0.15.* ]]; then
    say "wasm-pack $have_wp: present"
else
    say "installing wasm-pack 0.15 (found: ${have_wp:-none}); this compiles for a few minutes"
    cargo install wasm-pack --version '~0.15' --locked --force
    have_wp=$(wasm-pack --version | awk '{ print $2 }')
    [[ "$have_wp" == 0.15.* ]] ||
        die "wasm-pack on PATH is $have_wp, wanted 0.15.x (is ~/.cargo/bin first on PATH?)"
fi

# --- Debian packages ---------------------------------------------------------------------------
apt_packages=(chromium mesa-vulkan-drivers)
missing=()
for pkg in "${apt_packages[@]}"; do
    if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        say "debian package $pkg: present"
    else
        missing+=("$pkg")
    fi
done
if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]]; then
        sudo=()
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo=(sudo)
    else
        die "missing Debian packages: ${missing[*]}; install them as root: apt-get install ${missing[*]}"
    fi
    say "installing debian packages: ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}"
fi
[[ -x /usr/bin/chromium ]] || die "/usr/bin/chromium missing after installing the chromium package"

# --- npm packages of tests/browser -------------------------------------------------------------
command -v node >/dev/null || die "node not found (Node.js >= 18 is needed for the browser tests)"
command -v npm >/dev/null || die "npm not found"
node_major=$(node -p 'process.versions.node.split(".")[0]')
((node_major >= 18)) || die "Node.js $(node --version) is too old: node:test needs >= 18"
lock=tests/browser/package-lock.json
stamp=tests/browser/node_modules/.alignmap-lock.sha256
lock_sum=$(sha256sum "$lock" | awk '{ print $1 }')
if [[ -f "$stamp" && "$(cat "$stamp")" == "$lock_sum" ]]; then
    say "npm packages of tests/browser: present"
else
    say "installing npm packages of tests/browser (npm ci)"
    # PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: belt and braces; playwright-core downloads nothing by itself.
    (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
    printf '%s\n' "$lock_sum" >"$stamp"
fi

# --- nightly and cargo-fuzz (fuzz/run.sh) --------------------------------------------------------
if rustup toolchain list | grep -q '^nightly-'; then
    say "rust toolchain nightly: present"
else
    say "installing the rust nightly toolchain (cargo fuzz needs it)"
    rustup toolchain install nightly --profile minimal
fi
if command -v cargo-fuzz >/dev/null; then
    say "cargo-fuzz $(cargo-fuzz --version | awk '{ print $2 }'): present"
else
    say "installing cargo-fuzz; this compiles for a minute or two"
    cargo install cargo-fuzz --locked
fi

say "done in $((SECONDS - start)) s"
