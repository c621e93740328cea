#!/usr/bin/env bash
# Builds the checkpoint web app's generated files into checkpoint-web/ (ignored by git):
#   pkg/     the verifier — checkpass compiled to WebAssembly (checkpoint-web/wasm) and
#            wasm-bindgen's ES module for it (--target web);
#   vendor/  zxing-wasm's reader (zxing-cpp compiled to WebAssembly), copied from
#            checkpoint-web/node_modules (npm ci, from its package-lock.json) — hosted with the
#            app, never fetched from a CDN. Skipped with --wasm-only.
# Needs the wasm32-unknown-unknown target and wasm-bindgen-cli at the version of the
# wasm-bindgen crate in Cargo.lock (scripts/install-deps.sh installs both). Uses
# CARGO_TARGET_DIR when set. Prints the sizes of the WebAssembly (raw and gzip).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
app="$root/checkpoint-web"
wasm_only=false
[ "${1:-}" = "--wasm-only" ] && wasm_only=true

want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$root/Cargo.lock")
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$have" != "$want" ]; then
  echo "wasm-bindgen ${have:-is not installed}; Cargo.lock needs $want (scripts/install-deps.sh)" >&2
  exit 1
fi

target="${CARGO_TARGET_DIR:-$root/target}"
(cd "$root" && cargo build --quiet -p checkpoint-wasm --target wasm32-unknown-unknown --release)
wasm="$target/wasm32-unknown-unknown/release/checkpoint_wasm.wasm"
# Into a fresh directory, then in place: a server or a test never sees half a package.
tmp="$app/.pkg.tmp"
rm -rf "$tmp"
wasm-bindgen --target web --no-typescript --out-dir "$tmp" "$wasm"
rm -rf "$app/pkg"
mv "$tmp" "$app/pkg"
raw=$(stat -c %s "$app/pkg/checkpoint_wasm_bg.wasm")
gz=$(gzip -9 -c "$app/pkg/checkpoint_wasm_bg.wasm" | wc -c)
echo "checkpoint-web/pkg/checkpoint_wasm_bg.wasm: $raw bytes, $gz gzip -9"

if ! $wasm_only; then
  stamp="$app/node_modules/.installed-from-lock"
  if ! cmp -s "$app/package-lock.json" "$stamp"; then
    (cd "$app" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$app/package-lock.json" "$stamp"
  fi
  rm -rf "$app/vendor"
  mkdir -p "$app/vendor/zxing"
  cp "$app/node_modules/zxing-wasm/dist/reader/index.js" "$app/vendor/zxing/reader.js"
  cp "$app/node_modules/zxing-wasm/dist/reader/zxing_reader.wasm" "$app/vendor/zxing/"
  cp "$app/node_modules/zxing-wasm/LICENSE" "$app/vendor/zxing/LICENSE" 2>/dev/null || true
fi
