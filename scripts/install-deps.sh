#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the build needs, if they are missing: cmake and a C++
# compiler (zxing-cpp's bundled C++ library), libclang (camera bindings), ALSA headers (sound),
# pkg-config, OpenSSL headers (TLS to a PostgreSQL server), poppler-utils (tests read the pass
# PDF with an independent reader), and the PostgreSQL server (the issuer's PostgreSQL tests
# start a throwaway cluster with its initdb and pg_ctl; Debian 12's `postgresql` gives 15).
# For the browser test (issuer/tests/browser.rs): Debian's Chromium, a CJK font (so pages and
# screenshots show Chinese), Node.js and npm (only when `node` is missing), and
# tests/browser/node_modules from its package-lock.json (`npm ci`, again when the lock file
# changed). Python's pycose for the independent check of the test vectors. For the checkpoint
# web app (checkpoint-web/, scripts/build-checkpoint-web.sh): the wasm32-unknown-unknown target
# and wasm-bindgen-cli at exactly the version of the wasm-bindgen crate in Cargo.lock (the CLI
# and the crate must match). For the Windows build and its Wine test (scripts/build-windows.sh,
# scripts/test-windows.sh): the x86_64-pc-windows-gnu target, mingw-w64, wine64, and Xvfb,
# x11-utils (xwininfo) and ImageMagick (import) to open and photograph the window. Does
# nothing, and says nothing, when all are present.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
need=()
for pkg in pkg-config cmake g++ libclang-dev libasound2-dev libssl-dev poppler-utils \
  chromium fonts-noto-cjk mingw-w64 wine64 xvfb xauth x11-utils imagemagick libgl1-mesa-dri; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# Any version's server will do (issuer/tests/common/pg.rs takes the highest), so look for its
# binaries rather than for one package name.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
# Any Node.js with npm will do (a newer one from elsewhere too); Debian's only if there is none.
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing: ${need[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${need[@]}"
fi

# The browser test's JavaScript (playwright-core only: it drives the Chromium above and
# downloads no browser of its own). A stamp of the lock file it was installed from tells
# whether node_modules is stale.
browser="$root/tests/browser"
stamp="$browser/node_modules/.installed-from-lock"
if ! cmp -s "$browser/package-lock.json" "$stamp"; then
  echo "npm ci in tests/browser"
  (cd "$browser" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  cp "$browser/package-lock.json" "$stamp"
fi

# The test vectors read by an independent implementation (scripts/check-vectors.py, run by
# shared/tests/vectors.rs): Python's pycose and friends, at the versions pinned beside it.
if ! python3 -c "import pycose, base45, cbor2" >/dev/null 2>&1; then
  echo "pip install -r scripts/requirements-vectors.txt"
  python3 -m pip install -q --disable-pip-version-check -r "$root/scripts/requirements-vectors.txt"
fi

# The checkpoint web app: Rust's WebAssembly target and the matching wasm-bindgen CLI.
if command -v rustup >/dev/null 2>&1 &&
  ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
# The Windows build: Rust's standard library for the mingw target.
if command -v rustup >/dev/null 2>&1 &&
  ! rustup target list --installed | grep -qx x86_64-pc-windows-gnu; then
  echo "rustup target add x86_64-pc-windows-gnu"
  rustup target add x86_64-pc-windows-gnu
fi
bindgen=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$root/Cargo.lock")
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }')" != "$bindgen" ]; then
  echo "cargo install wasm-bindgen-cli $bindgen"
  # --locked builds the CLI with the versions it was released with. A registry mirror that
  # lacks one of them (it happens with partial mirrors) gets the newest compatible ones.
  cargo install --quiet --locked wasm-bindgen-cli --version "$bindgen" ||
    cargo install --quiet wasm-bindgen-cli --version "$bindgen"
fi
