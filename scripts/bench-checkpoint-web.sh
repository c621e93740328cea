#!/usr/bin/env bash
# The checkpoint web app's benchmark, side by side with the native verifier in one run:
#   1. the native QR pipeline on the corpus and on 36 camera-like 1280×720 frames, which it
#      also writes out (cargo bench -p verifier --bench corpus -- --write-frames);
#   2. the native whole check of a QR text (cargo bench -p checkpass --bench verify, criterion);
#   3. in Debian's headless Chromium (checkpoint-web/bench/run.mjs): zxing-wasm (the app's
#      reader), rxing-wasm and the browser's BarcodeDetector where present, on the same images,
#      and the verifier's WebAssembly on a pass the demo issued.
# Everything runs on one core (taskset -c 0). Report: target/bench-checkpoint-web/report.md.
#
# Usage: scripts/bench-checkpoint-web.sh [--quick]   (--quick: one timing run per image)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3
[[ "${1:-}" == "--quick" ]] && runs=1
out=$PWD/target/bench-checkpoint-web
mkdir -p "$out"
pin=(); command -v taskset >/dev/null && pin=(taskset -c 0)

scripts/build-checkpoint-web.sh >&2
stamp=checkpoint-web/bench/node_modules/.installed-from-lock
if ! cmp -s checkpoint-web/bench/package-lock.json "$stamp"; then
  (cd checkpoint-web/bench && npm ci --no-audit --no-fund --loglevel=error)
  cp checkpoint-web/bench/package-lock.json "$stamp"
fi
# The demo's passes, root key and bundle (issued 2022-03-12, checked 2022-03-13 08:00 at C101).
DEMO_OUT="$out/demo" scripts/demo.sh >"$out/demo.log" 2>&1 || { tail -20 "$out/demo.log" >&2; exit 1; }

quick=(); [[ $runs == 1 ]] && quick=(--quick)
cargo bench --no-run -q -p verifier --bench corpus >&2
"${pin[@]}" cargo bench -q -p verifier --bench corpus -- --write-frames "$out/frames" "${quick[@]}" >"$out/native.md"
cargo bench --no-run -q -p checkpass --bench verify >&2
"${pin[@]}" cargo bench -q -p checkpass --bench verify -- '^verify$' >"$out/native-verify.txt" 2>&1
native_verify=$(grep -A1 '^verify ' "$out/native-verify.txt" | grep -o 'time: *\[[^]]*\]' | head -1 || true)

WORKSPACE=$PWD FRAMES="$out/frames" RUNS=$runs ROOT="$out/demo/public-keys/root.pub" \
  BUNDLE="$out/demo/bundle.cose" PASSES="$out/demo/issuer/passes" CHECKPOINT=C101 AT=1647129600 \
  "${pin[@]}" node checkpoint-web/bench/run.mjs >"$out/browser.md"

{
  echo "# The checkpoint web app against the native verifier ($(date -u +%F), $(nproc) cores, one used)"
  echo
  echo "## Native (verifier::decode, zxing-cpp 3 + fallbacks)"
  echo
  cat "$out/native.md"
  echo
  echo "native verify (criterion, checkpass): ${native_verify:-see $out/native-verify.txt}"
  echo
  cat "$out/browser.md"
} >"$out/report.md"
cat "$out/report.md"
