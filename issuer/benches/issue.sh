#!/usr/bin/env bash
# Benchmark of the issuer (not a timed test): import of a 10,000-row xlsx, then
# `issue --all` over 10,000 approved applications with every file written, and again with
# PNG only (qr.png + pass.png; qr.txt and sms.txt are always written).
#
#   bash issuer/benches/issue.sh [ROWS] [WORKDIR]
#
# Builds the release binary and the generator example, works in WORKDIR (default: a new
# temporary directory, removed at the end) and prints the rates that the commands report.
set -euo pipefail
rows=${1:-10000}
work=${2:-$(mktemp -d)}
mkdir -p "$work"
here=$(cd "$(dirname "$0")/../.." && pwd)
cargo build --release -q -p issuer --bin issuer --example gen_applications --manifest-path "$here/Cargo.toml"
target=$(cargo metadata --format-version 1 --no-deps --manifest-path "$here/Cargo.toml" | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
bin=$target/release/issuer
export ISSUER_PASSPHRASE="bench passphrase" ISSUER_OPERATOR=bench
# The generated applications travel on 12–14 March 2022 with their tests taken the day before:
# at 13 March 09:00 every one of them can be issued (a pass is never signed before its test,
# nor after its window).
export ISSUER_NOW="2022-03-13T09:00:00+08:00"
samples=$here/samples/weihai

"$target/release/examples/gen_applications" "$rows" "$work/apps.xlsx"
echo "xlsx: $(du -h "$work/apps.xlsx" | cut -f1), $rows rows"

run() { # name, extra issue args
  local data=$work/$1; shift
  rm -rf "$data"
  "$bin" --data "$data" init --districts "$samples/districts.csv" --checkpoints "$samples/checkpoints.csv" >/dev/null
  local t0 t1
  t0=$(date +%s.%N)
  "$bin" --data "$data" import "$work/apps.xlsx" | tail -1
  t1=$(date +%s.%N)
  echo "import: $(awk -v n="$rows" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }') rows/s (wall, process included)"
  "$bin" --data "$data" forward --all >/dev/null
  "$bin" --data "$data" approve --all >/dev/null
  t0=$(date +%s.%N)
  "$bin" --data "$data" issue --all "$@" | tail -1
  t1=$(date +%s.%N)
  echo "issue --all $*: $(awk -v n="$rows" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }') passes/s (wall, process included)"
  du -sh "$data/passes" | cut -f1 | sed 's/^/passes on disk: /'
}

echo "== all files"; run all
echo "== PNG only"; run png --formats png
if [ -z "${2:-}" ]; then rm -rf "$work"; fi
