#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the build needs, if they are missing: cmake and a C++
# compiler (zxing-cpp's bundled C++ library), libclang (camera bindings), ALSA headers (sound),
# pkg-config, and poppler-utils (tests read the pass PDF with an independent reader). Does
# nothing when all are present.
set -euo pipefail
need=()
for pkg in pkg-config cmake g++ libclang-dev libasound2-dev poppler-utils; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
[ "${#need[@]}" -eq 0 ] && exit 0
echo "installing: ${need[*]}"
sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
$sudo_cmd apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${need[@]}"
