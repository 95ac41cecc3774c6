#!/usr/bin/env bash
# Benchmark (issue 27): photo decoding, maskgate (libjpeg-turbo 3.1 through TurboJPEG, then the
# Pillow policy's conversion and EXIF turn) against Pillow 13's own
# `ImageOps.exif_transpose(Image.open(f)).convert("RGB")` (libjpeg-turbo 3.2), on the JPEG
# decode-vector corpus plus FASSEG photos written the ways phones and pipelines write JPEG.
# Both sides read the files from memory, one thread, 5 passes a round; 3 rounds, the ratio
# printed for each (Pillow's time / maskgate's: above 1 is maskgate faster).
# Usage: bash bench/decode_vs_pillow.sh   (after bash scripts/setup.sh and setup_parity.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
shared="$(cd "${MASKGATE_SHARED:-../shared}" && pwd)"
work=bench/.work/decode
rm -rf "$work"
mkdir -p "$work"
py=vendor/parity-mp/bin/python
"$py" tools/decode_vectors.py "$work/vectors" "$shared/data/fasseg/V2/Test_RGB/1.bmp" 2>/dev/null
"$py" tools/decode_vectors.py --encodings "$work/phone" "$shared"/data/fasseg/V2/Test_RGB/{1,2,3,4,5,6}.bmp
# Every JPEG both sides decode (the truncated ones are refused by both, so left out).
find "$work/vectors/corpus" "$work/phone" -name '*.jpg' ! -name '*truncated*' | sort >"$work/files"
echo "$(wc -l <"$work/files") JPEG files, $(cat $(cat "$work/files") | wc -c) bytes"
cargo build --release -q -p maskgate --features bench --example decode_bench
rounds=5
for round in 1 2 3; do
  # shellcheck disable=SC2046
  mg=$(target/release/examples/decode_bench "$rounds" $(cat "$work/files"))
  pil=$("$py" - "$rounds" "$work/files" <<'PY'
import io, json, sys, time
from PIL import Image, ImageOps
rounds, files = int(sys.argv[1]), open(sys.argv[2]).read().split()
data = [open(f, "rb").read() for f in files]
start = time.perf_counter()
pixels = 0
for _ in range(rounds):
    for b in data:
        with Image.open(io.BytesIO(b)) as im:
            rgb = ImageOps.exif_transpose(im).convert("RGB")
            pixels += rgb.size[0] * rgb.size[1]
print(json.dumps({"seconds": time.perf_counter() - start, "files": len(data) * rounds, "pixels": pixels}))
PY
)
  python3 - "$mg" "$pil" "$round" <<'PY'
import json, sys
mg, pil, rnd = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
# Work happened, and the same work: every file decoded to as many pixels on both sides.
assert mg["files"] == pil["files"] > 0 and mg["pixels"] == pil["pixels"] > 0, (mg, pil)
print(f"round {rnd}: {mg['files']} decodes, {mg['pixels'] / 1e6:.1f} Mpx: maskgate {mg['seconds']:.3f} s, "
      f"Pillow {pil['seconds']:.3f} s: {pil['seconds'] / mg['seconds']:.2f}x")
PY
done
