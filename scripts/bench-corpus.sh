#!/usr/bin/env bash
# Corpus benchmark of the verifier's QR decoding, with zbar and zxing-cpp on the same images in
# the same run. Installs what it needs (Debian: cmake, libzbar0; Python packages in a venv under
# target/), then prints the tables of verifier/benches/corpus.rs. Everything runs on one core
# (taskset -c 0) so the figures match a one-core budget.
#
# Usage: scripts/bench-corpus.sh [--quick]     (--quick: one timing run per image instead of 3)
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3
[[ "${1:-}" == "--quick" ]] && runs=1

need_apt=()
command -v cmake >/dev/null || need_apt+=(cmake)
ldconfig -p | grep -q 'libzbar\.so\.0' || need_apt+=(libzbar0)
if ((${#need_apt[@]})); then
    sudo_cmd=""; [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq "${need_apt[@]}"
fi

out=target/bench-corpus
mkdir -p "$out"
venv="$out/venv"
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/pip" install -q zxing-cpp pyzbar pillow numpy

zbar_version=$(dpkg-query -W -f='${Version}' libzbar0 2>/dev/null | cut -d- -f1 || true)
pin=(); command -v taskset >/dev/null && pin=(taskset -c 0)

echo "Timing zxing-cpp and zbar (Python) on the corpus..." >&2
ZBAR_VERSION="$zbar_version" "${pin[@]}" "$venv/bin/python" scripts/bench-corpus.py \
    verifier/testdata/corpus "$out/external.tsv" "$runs"

cargo bench --no-run -p verifier --bench corpus >&2
quick=(); [[ $runs == 1 ]] && quick=(--quick)
"${pin[@]}" cargo bench -q -p verifier --bench corpus -- --external "$PWD/$out/external.tsv" "${quick[@]}" \
    | tee "$out/report.md"
echo "Report written to $out/report.md" >&2
