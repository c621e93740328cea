#!/usr/bin/env bash
# Cross-builds the checkpoint program for Windows (x86-64) with Debian's mingw-w64 and packs
# dist/verifier-windows-x86_64.zip (ignored by git):
#   verifier-windows-x86_64/verifier.exe    the window and the command line in one exe, with
#                                           zxing-cpp's C++, the Media Foundation camera
#                                           backend, the CJK font and the sounds inside
#   verifier-windows-x86_64/README-zh.txt   使用说明 (verifier/windows/README-zh.txt, written
#                                           out with a byte-order mark and CRLF for Notepad)
#   verifier-windows-x86_64/licenses/       the font's licence (SIL OFL)
# The linker and compilers for the target are set in .cargo/config.toml. Fails if the exe
# needs any DLL that Windows itself does not have (libstdc++, libgcc, winpthread must be linked
# in). Needs the x86_64-pc-windows-gnu Rust target and mingw-w64 (scripts/install-deps.sh).
# Uses CARGO_TARGET_DIR when set. Prints the exe's path and size and the build time.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
triple=x86_64-pc-windows-gnu
target="${CARGO_TARGET_DIR:-$root/target}"
exe="$target/$triple/release/verifier.exe"

if ! rustup target list --installed 2>/dev/null | grep -qx "$triple"; then
  echo "the Rust target $triple is missing: rustup target add $triple (scripts/install-deps.sh)" >&2
  exit 1
fi
for tool in x86_64-w64-mingw32-gcc-posix x86_64-w64-mingw32-g++-posix x86_64-w64-mingw32-objdump; do
  command -v "$tool" >/dev/null || {
    echo "$tool is missing: apt-get install mingw-w64 (scripts/install-deps.sh)" >&2
    exit 1
  }
done

start=$(date +%s)
(cd "$root" && cargo build --quiet --release --locked --target "$triple" -p verifier --bin verifier)
echo "built $exe ($(($(stat -c %s "$exe") / 1024 / 1024)) MB) in $(($(date +%s) - start)) s"

# Only Windows' own DLLs: a dependency on a mingw runtime DLL would stop the exe on a laptop.
dlls=$(x86_64-w64-mingw32-objdump -p "$exe" | awk '/DLL Name:/ { print $3 }' | sort -fu)
foreign=$(echo "$dlls" | grep -iE '^(libstdc\+\+|libgcc|libwinpthread|libssp|zlib|libzxing)' || true)
if [ -n "$foreign" ]; then
  echo "verifier.exe needs DLLs that Windows does not have:" >&2
  echo "$foreign" >&2
  exit 1
fi

# The zip, built in a fresh folder and moved into place.
name=verifier-windows-x86_64
stage="$target/$triple/zip-stage"
rm -rf "$stage"
mkdir -p "$stage/$name/licenses" "$root/dist"
cp "$exe" "$stage/$name/verifier.exe"
# Notepad on older Windows wants CRLF and a byte-order mark to read UTF-8.
{
  printf '\xef\xbb\xbf'
  sed 's/$/\r/' "$root/verifier/windows/README-zh.txt"
} >"$stage/$name/README-zh.txt"
sed 's/$/\r/' "$root/assets/fonts/OFL.txt" >"$stage/$name/licenses/NotoSansCJK-OFL.txt"
zip="$root/dist/$name.zip"
# Deflated (the exe shrinks to about a third); python's zipfile marks the names UTF-8.
(cd "$stage" && python3 - "$zip.tmp" "$name" <<'PY'
import os, sys, zipfile
out, top = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for folder, _, files in sorted(os.walk(top)):
        for f in sorted(files):
            z.write(os.path.join(folder, f))
PY
)
mv "$zip.tmp" "$zip"
rm -rf "$stage"
echo "wrote $zip ($(($(stat -c %s "$zip") / 1024 / 1024)) MB)"
