#!/usr/bin/env bash
# Builds the checkpoint web app into checkpoint-web/dist/ (ignored by git), the folder that
# `issuer serve` serves at /checkpoint/ and that can be copied to any static web server:
#   the app's own files   from checkpoint-web/app/ (sw.js gets the app's version: a hash of
#                         every file, so a new build replaces the phones' cached copy);
#   pkg/                  the verifier: checkpass compiled to WebAssembly
#                         (checkpoint-web/wasm) and wasm-bindgen's ES module (--target web);
#   vendor/zxing/         zxing-wasm's QR reader (zxing-cpp compiled to WebAssembly), from
#                         checkpoint-web/node_modules (npm ci from package-lock.json): hosted
#                         with the app, never fetched from a CDN;
#   checkpoint-offline.html  the whole app in one file, for a checkpoint with no server
#                         (checkpoint-web/single-file.mjs, bundled by esbuild).
# With --wasm-only, only dist/pkg/ (what the Node test of the verifier needs).
# Needs the wasm32-unknown-unknown target and wasm-bindgen-cli at the version of the
# wasm-bindgen crate in Cargo.lock (scripts/install-deps.sh installs both), and npm. Uses
# CARGO_TARGET_DIR when set. Prints the size of the verifier's WebAssembly (raw and gzip).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
web="$root/checkpoint-web"
dist="$web/dist"
wasm_only=false
[ "${1:-}" = "--wasm-only" ] && wasm_only=true

want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$root/Cargo.lock")
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$have" != "$want" ]; then
  echo "wasm-bindgen ${have:-is not installed}; Cargo.lock needs $want (scripts/install-deps.sh)" >&2
  exit 1
fi

target="${CARGO_TARGET_DIR:-$root/target}"
# The wasm-release profile (Cargo.toml): size over speed, measured in docs/BENCHMARKS.md.
(cd "$root" && cargo build --quiet -p checkpoint-wasm --target wasm32-unknown-unknown --profile wasm-release)
# Into a fresh directory, then in place: a server or a test never sees half a package.
tmp="$web/.pkg.tmp"
rm -rf "$tmp"
wasm-bindgen --target web --no-typescript --out-dir "$tmp" \
  "$target/wasm32-unknown-unknown/wasm-release/checkpoint_wasm.wasm"
mkdir -p "$dist"
rm -rf "$dist/pkg"
mv "$tmp" "$dist/pkg"
raw=$(stat -c %s "$dist/pkg/checkpoint_wasm_bg.wasm")
gz=$(gzip -9 -c "$dist/pkg/checkpoint_wasm_bg.wasm" | wc -c)
echo "checkpoint-web/dist/pkg/checkpoint_wasm_bg.wasm: $raw bytes, $gz gzip -9"
$wasm_only && exit 0

stamp="$web/node_modules/.installed-from-lock"
if ! cmp -s "$web/package-lock.json" "$stamp"; then
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$web/package-lock.json" "$stamp"
fi
zx="$web/node_modules/zxing-wasm"
rm -rf "$dist/vendor"
mkdir -p "$dist/vendor/zxing/es/reader" "$dist/vendor/zxing/reader"
cp "$zx/dist/es/reader/index.js" "$dist/vendor/zxing/es/reader/"
cp "$zx/dist/es/share.js" "$dist/vendor/zxing/es/"
cp "$zx/dist/reader/zxing_reader.wasm" "$dist/vendor/zxing/reader/"
cp "$zx/LICENSE" "$dist/vendor/zxing/LICENSE"

for f in "$web/app/"*; do
  [ "$(basename "$f")" = sw.js ] || cp "$f" "$dist/"
done
rm -f "$dist/checkpoint-offline.html"
version=$(cd "$dist" && find . -type f ! -name sw.js -print0 | sort -z | xargs -0 cat |
  cat - "$web/app/sw.js" | sha256sum | cut -c1-16)
sed "s/__APP_VERSION__/$version/" "$web/app/sw.js" >"$dist/sw.js"
echo "checkpoint-web/dist: app version $version"
node "$web/single-file.mjs" "$dist"
