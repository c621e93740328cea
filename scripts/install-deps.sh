#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the build needs, if they are missing: cmake and a C++
# compiler (zxing-cpp's bundled C++ library), libclang (camera bindings), ALSA headers (sound),
# pkg-config, OpenSSL headers (TLS to a PostgreSQL server), poppler-utils (tests read the pass PDF with an independent reader), and the
# PostgreSQL server (the issuer's PostgreSQL tests start a throwaway cluster with its initdb and
# pg_ctl; Debian 12's `postgresql` gives 15). Does nothing when all are present.
set -euo pipefail
need=()
for pkg in pkg-config cmake g++ libclang-dev libasound2-dev libssl-dev poppler-utils; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# Any version's server will do (issuer/tests/common/pg.rs takes the highest), so look for its
# binaries rather than for one package name.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
[ "${#need[@]}" -eq 0 ] && exit 0
echo "installing: ${need[*]}"
sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
$sudo_cmd apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${need[@]}"
