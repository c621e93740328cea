#!/usr/bin/env bash
# Benchmark (not a timed test): `issue --all` on PostgreSQL with one issuing process, then with
# two at once on the same database, over ROWS approved applications (PNG sheets and QR).
#
#   bash issuer/benches/issue-postgres.sh [ROWS=4000]
#
# Starts a throwaway PostgreSQL cluster of its own (as the `postgres` user when run as root,
# Unix socket only, default fsync), removed at the end, and prints passes per second.
set -euo pipefail
rows=${1:-4000}
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/issue-pg-XXXXXX)
bin_dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg=()
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$work"; as_pg=(runuser -u postgres --); fi
"${as_pg[@]}" "$bin_dir/initdb" -A trust -U postgres -E UTF8 --locale=C -D "$work/pg" >/dev/null
"${as_pg[@]}" "$bin_dir/pg_ctl" -w -D "$work/pg" -l "$work/pg.log" \
  -o "-k $work -c listen_addresses= -c max_connections=50" start >/dev/null
trap '"${as_pg[@]}" "$bin_dir/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null; rm -rf "$work"' EXIT

cargo build --release -q -p issuer --bin issuer --example gen_applications --manifest-path "$here/Cargo.toml"
target=$(cargo metadata --format-version 1 --no-deps --manifest-path "$here/Cargo.toml" | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
bin=$target/release/issuer
export ISSUER_PASSPHRASE="bench passphrase" ISSUER_OPERATOR=bench
# The generated applications travel on 12–14 March 2022 with their tests taken the day before:
# at 13 March 09:00 every one of them can be issued (a pass is never signed before its test,
# nor after its window).
export ISSUER_NOW="2022-03-13T09:00:00+08:00"
samples=$here/samples/weihai
"$target/release/examples/gen_applications" "$rows" "$work/apps.xlsx" >/dev/null

setup() { # name → an approved store in database NAME, data dir $work/NAME
  "$bin_dir/createdb" -h "$work" -U postgres "$1"
  export ISSUER_DB="postgresql:///$1?host=$work&user=postgres"
  "$bin" --data "$work/$1" init --districts "$samples/districts.csv" --checkpoints "$samples/checkpoints.csv" >/dev/null
  "$bin" --data "$work/$1" import "$work/apps.xlsx" >/dev/null
  "$bin" --data "$work/$1" forward --all >/dev/null
  "$bin" --data "$work/$1" approve --all >/dev/null
}
rate() { awk -v n="$rows" -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", n / (b - a) }'; }

setup one
t0=$(date +%s.%N)
"$bin" --data "$work/one" issue --all --formats png >/dev/null
t1=$(date +%s.%N)
echo "one process:   $(rate "$t0" "$t1") passes/s"

setup two
t0=$(date +%s.%N)
"$bin" --data "$work/two" issue --all --formats png --json > "$work/a.json" &
a=$!
"$bin" --data "$work/two" issue --all --formats png --json > "$work/b.json" &
b=$!
wait $a; wait $b
t1=$(date +%s.%N)
count() { python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["passes"]))' "$1"; }
echo "two processes: $(rate "$t0" "$t1") passes/s together ($(count "$work/a.json") + $(count "$work/b.json") passes)"
issued=$("$bin" --data "$work/two" list --status issued --json | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
echo "issued in the store: $issued of $rows"
