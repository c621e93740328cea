#!/usr/bin/env bash
# Builds the Windows zip (scripts/build-windows.sh) and tests verifier.exe under Wine
# (verifier/tests/windows_wine.rs): the command line against the Linux binary (same verdicts,
# exit statuses and text; Chinese file and folder names; the default data directory) and the
# checkpoint window opening under Xvfb with no camera.
#   --no-build        test the exe already built
#   --screenshot      also save the window to docs/images/verifier-windows-wine.png
# The Wine prefix lives in the target directory ($CARGO_TARGET_DIR or target/), never in the
# repository, and is made on first use (about 20 s). Debian 12's Wine 8 lacks
# bcryptprimitives.dll, which Rust programs need on Windows 10 and later; a stand-in built from
# scripts/wine/bcryptprimitives.c is put in the prefix (never in the zip). Needs wine64, xvfb,
# x11-utils, imagemagick and mingw-w64 (scripts/install-deps.sh). Prints the times taken.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build=true
shot=""
for arg in "$@"; do
  case "$arg" in
    --no-build) build=false ;;
    --screenshot) shot="$root/docs/images/verifier-windows-wine.png" ;;
    *) echo "usage: $0 [--no-build] [--screenshot]" >&2; exit 2 ;;
  esac
done
target="${CARGO_TARGET_DIR:-$root/target}"
start=$(date +%s)
if $build; then
  "$root/scripts/build-windows.sh"
fi
built=$(date +%s)

wine=""
for w in wine64 wine /usr/lib/wine/wine64; do
  if command -v "$w" >/dev/null 2>&1; then wine=$(command -v "$w"); break; fi
done
[ -n "$wine" ] || { echo "Wine is missing: apt-get install wine64 (scripts/install-deps.sh)" >&2; exit 1; }
wineserver=$(dirname "$wine")/wineserver
[ -x "$wineserver" ] || wineserver=$(command -v wineserver || echo /usr/lib/wine/wineserver)

export WINE="$wine"
export WINEPREFIX="$target/wine-prefix"
export WINEDEBUG=-all
export VERIFIER_WINDOWS_EXE="$target/x86_64-pc-windows-gnu/release/verifier.exe"
# Wine turns the UTF-8 command line and paths into Windows' UTF-16 by the locale.
export LANG=C.UTF-8 LC_ALL=C.UTF-8
# An X display for every Wine process, from the first: Wine's desktop process, started with the
# session, must have a display or no program of that session can open a window.
display=""
for n in $(seq 90 130); do
  if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then display=":$n"; break; fi
done
[ -n "$display" ] || { echo "no free X display number" >&2; exit 1; }
Xvfb "$display" -screen 0 1400x900x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap '"$wineserver" -k 2>/dev/null || true; kill "$xvfb" 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X${display#:}" ] && break; sleep 0.1; done
export DISPLAY="$display"
# A Wine session left over from an interrupted run may have no display: end it.
"$wineserver" -k 2>/dev/null || true
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  echo "making the Wine prefix $WINEPREFIX"
  mkdir -p "$WINEPREFIX"
  "$wine" wineboot --init >/dev/null 2>&1
  "$wineserver" -w
fi
shim="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
if [ ! -f "$shim" ] || [ "$root/scripts/wine/bcryptprimitives.c" -nt "$shim" ]; then
  x86_64-w64-mingw32-gcc -O2 -shared -s -o "$shim" \
    "$root/scripts/wine/bcryptprimitives.c" "$root/scripts/wine/bcryptprimitives.def" -ladvapi32
fi
# One Wine server for all the runs (each verifier.exe then starts in well under a second).
"$wineserver" -p
# Wine's own background processes (services.exe and friends) start now, with no pipe of ours.
"$wine" wineboot </dev/null >/dev/null 2>&1
[ -n "$shot" ] && export VERIFIER_WINE_SCREENSHOT="$shot"

(cd "$root" && cargo test --quiet -p verifier --test windows_wine -- --ignored --test-threads=1)
done=$(date +%s)
echo "Windows build $((built - start)) s, Wine tests $((done - built)) s"
