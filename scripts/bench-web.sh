#!/usr/bin/env bash
# Benchmark (minutes; not part of the test suite): the web service under load on PostgreSQL.
#
#   scripts/bench-web.sh                      # 100,000 applications, 50 clients, 30 s a run
#   ROWS=20000 DURATION=10s scripts/bench-web.sh
#
# What it does:
# - builds the release issuer and the gen_applications example;
# - starts a throwaway PostgreSQL cluster in a temporary directory (as the `postgres` user when
#   run as root; Unix socket only; default settings, so fsync is on), removed at the end;
# - `issuer init` on it, imports ROWS generated applications (an xlsx over the 7 districts, the
#   ordinary `issuer import`), then moves them the way a store in use looks, oldest first:
#   70 % approved, 2 % rejected, 18 % forwarded (the city's queue), 10 % submitted (the
#   districts' queues);
# - adds a city reviewer, a district liaison of 371002 and an applicant, and signs each in with
#   curl (the login form's CSRF token, then the session cookie);
# - with one `issuer serve` process, then with two on the same database (two ports), runs wrk
#   for DURATION with CONNECTIONS connections against (a) the city's queue page, (b) the
#   liaison's queue page, (c) POST /apply, each request a new valid application with a small
#   test report (a REPORT_KB KiB PNG: the service's work, not the transfer of a photo). With two
#   processes, two wrk run at once, each with half the connections against one process; their
#   requests per second are summed and their latency distributions merged (weighted by
#   requests) before the percentiles are read.
#
# Prints a Markdown table: requests/s, p50/p95/p99/max latency, responses that were not 2xx/3xx,
# and socket errors (connect, read, write, timeout). Run it on a quiet machine; the server
# processes, PostgreSQL and wrk share the machine's cores.
set -euo pipefail
rows=${ROWS:-100000}
duration=${DURATION:-30s}
connections=${CONNECTIONS:-50}
pool=${POOL:-8} # issuer serve --connections: store connections per server process
report_kb=${REPORT_KB:-8}
here=$(cd "$(dirname "$0")/.." && pwd)
lua=$here/scripts/bench-web
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is not installed" >&2; exit 1; }

work=$(mktemp -d /tmp/bench-web-XXXXXX)
chmod 755 "$work"
bin_dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg=()
mkdir "$work/pg"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$work/pg"; as_pg=(runuser -u postgres --); fi
servers=()
cleanup() {
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${servers[@]}"; do wait "$pid" 2>/dev/null || true; done
  "${as_pg[@]}" "$bin_dir/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
"${as_pg[@]}" "$bin_dir/initdb" -A trust -U postgres -E UTF8 --locale=C -D "$work/pg/data" >/dev/null
"${as_pg[@]}" "$bin_dir/pg_ctl" -w -D "$work/pg/data" -l "$work/pg/log" \
  -o "-k $work/pg -c listen_addresses= -c max_connections=100 -c max_wal_size=256MB" start >/dev/null
"$bin_dir/createdb" -h "$work/pg" -U postgres issuer

echo "== build" >&2
cargo build --release -q -p issuer --bin issuer --example gen_applications --manifest-path "$here/Cargo.toml"
target=$(cargo metadata --format-version 1 --no-deps --manifest-path "$here/Cargo.toml" |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
issuer=$target/release/issuer

export ISSUER_DB="postgresql:///issuer?host=$work/pg&user=postgres"
export ISSUER_DATA="$work/data"
export ISSUER_PASSPHRASE="bench passphrase, not for production"
export ISSUER_OPERATOR=bench
# The sample clock (the generated applications travel on 12–14 March 2022): the store's times
# and the submissions' dates agree with it. Sessions use the real clock either way.
export ISSUER_NOW="2022-03-12T19:00:00+08:00"
samples=$here/samples/weihai
quiet() { grep -v 'ISSUER_NOW' >&2 || true; } # the simulated clock's note, once a command

echo "== seed $rows applications" >&2
"$issuer" init --districts "$samples/districts.csv" --checkpoints "$samples/checkpoints.csv" >/dev/null 2> >(quiet)
"$target/release/examples/gen_applications" "$rows" "$work/apps.xlsx" \
  371002,371003,371082,371083,371071,371072,371073 >/dev/null
t0=$(date +%s.%N)
"$issuer" import "$work/apps.xlsx" >/dev/null 2> >(quiet)
t1=$(date +%s.%N)
echo "   import: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s" >&2
ids() { seq -f 'BENCH-%06g' "$1" "$2"; } # the generator's numbers $1..$2
forwarded=$((rows * 90 / 100)) decided=$((rows * 72 / 100)) rejected=$((rows * 2 / 100))
ids 0 $((forwarded - 1)) | xargs "$issuer" forward >/dev/null 2> >(quiet)
ids 0 $((decided - rejected - 1)) | xargs "$issuer" approve >/dev/null 2> >(quiet)
ids $((decided - rejected)) $((decided - 1)) | xargs "$issuer" reject --reason "压测：驳回" >/dev/null 2> >(quiet)
t2=$(date +%s.%N)
echo "   forward, approve, reject: $(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.1f", b - a }') s" >&2
psql=("$bin_dir/psql" -h "$work/pg" -U postgres -d issuer -X -q -A -t)
"${psql[@]}" -c "VACUUM ANALYZE"
echo "   $("${psql[@]}" -F ' ' -c "SELECT string_agg(status || ' ' || n, ', ' ORDER BY status) FROM (SELECT status, count(*) AS n FROM applications GROUP BY status) s")" >&2

# The test report sent with each online application: a grey-noise PNG of about REPORT_KB KiB.
python3 - "$work/report.png" "$report_kb" <<'EOF'
import random, struct, sys, zlib
side = int((int(sys.argv[2]) * 1024) ** 0.5)
rows = b"".join(b"\0" + bytes(random.randrange(256) for _ in range(side)) for _ in range(side))
chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
EOF

export ISSUER_USER_PASSWORD="bench password $$ $(date +%s)"
"$issuer" user add bench-city --role city >/dev/null 2> >(quiet)
"$issuer" user add bench-district --role district --district 371002 >/dev/null 2> >(quiet)
"$issuer" user add bench-carrier --role applicant --organisation "压测物流公司" >/dev/null 2> >(quiet)

# serve PORT...: starts one `issuer serve` per port and waits until each answers.
serve() {
  servers=()
  for port in "$@"; do
    "$issuer" serve --listen "127.0.0.1:$port" --connections "$pool" 2>>"$work/serve-$port.log" &
    servers+=($!)
  done
  for port in "$@"; do
    for _ in $(seq 100); do
      curl -sf -o /dev/null "http://127.0.0.1:$port/login" && continue 2
      sleep 0.1
    done
    echo "issuer serve on port $port did not start:" >&2
    cat "$work/serve-$port.log" >&2
    exit 1
  done
}
stop_servers() {
  for pid in "${servers[@]}"; do kill "$pid"; done
  for pid in "${servers[@]}"; do wait "$pid" || true; done
  servers=()
}

# login NAME PORT: signs in; sets $cookie (the session id) and $csrf (the session's token).
login() {
  local jar=$work/$1.jar url=http://127.0.0.1:$2 token code
  rm -f "$jar"
  token=$(curl -sf -c "$jar" -b "$jar" "$url/login" | grep -o 'name="csrf" value="[0-9a-f]*"' | cut -d'"' -f4)
  code=$(curl -s -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" --data-urlencode "name=$1" \
    --data-urlencode "password=$ISSUER_USER_PASSWORD" --data-urlencode "csrf=$token" "$url/login")
  [ "$code" = 303 ] || { echo "login of $1 answered $code" >&2; exit 1; }
  cookie=$(awk '$6 == "issuer_session" { print $7 }' "$jar")
  csrf=$(curl -sf -b "$jar" "$url/queue" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | cut -d'"' -f4)
  [ -n "$cookie" ] && [ -n "$csrf" ] || { echo "no session for $1" >&2; exit 1; }
}

# summary LABEL ENDPOINT FILE...: one table row from one wrk run or several run at once.
summary() {
  python3 - "$@" <<'EOF'
import bisect, sys
label, endpoint, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
runs = []
for p in paths:
    r = {"q": [0] * 1000}
    for line in open(p):
        f = line.split()
        if f[0] == "q":
            r["q"][int(f[1]) - 1] = int(f[2])
        else:
            r[f[0]] = int(f[1])
    runs.append(r)
n = sum(r["requests"] for r in runs)
rps = sum(r["requests"] / (r["duration_us"] / 1e6) for r in runs)
xs = sorted({x for r in runs for x in r["q"]})
def pct(p):
    # The merged distribution's p-th percentile: each run's quantiles weigh by its requests.
    for r in runs:
        r["q"].sort()
    for x in xs:
        below = sum(r["requests"] * bisect.bisect_right(r["q"], x) / 1000 for r in runs)
        if below >= n * p / 100 - 1e-9:
            return x / 1000
    return xs[-1] / 1000
mx = max(r["max_us"] for r in runs) / 1000
status = sum(r["status_errors"] for r in runs)
socket = sum(r["socket_errors"] for r in runs)
print(f"| {label} | {endpoint} | {n} | {rps:,.0f} | {pct(50):.1f} | {pct(95):.1f} | {pct(99):.1f} | {mx:.1f} | {status} | {socket} |")
EOF
}

# run KEY LABEL URL-PATH SCRIPT USER PORT...: wrk against each port at once, CONNECTIONS split
# between them; prints the table row.
results=()
run() {
  local key=$1 name=$2 path=$3 script=$4 user=$5
  shift 5
  local ports=("$@") n=$# i=0 pids=() outs=() threads=$((2 / $#))
  login "$user" "${ports[0]}"
  for port in "${ports[@]}"; do
    out=$work/$key-$n-$port.out
    BENCH_LUA=$lua BENCH_OUT=$out BENCH_COOKIE=$cookie BENCH_CSRF=$csrf BENCH_REPORT=$work/report.png \
      BENCH_PLATE_BASE=$((plate_base + i * threads)) \
      wrk -t "$threads" -c $((connections / n)) -d "$duration" --timeout 10s \
      -s "$lua/$script" "http://127.0.0.1:$port$path" >"$work/$key-$n-$port.wrk" &
    pids+=($!)
    outs+=("$out")
    i=$((i + 1))
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  plate_base=$((plate_base + 2))
  local row
  row=$(summary "$n process$([ "$n" -gt 1 ] && echo es)" "$name" "${outs[@]}")
  echo "$row" >&2
  results+=("$row")
}
plate_base=0

for ports in "8181" "8181 8182"; do
  # shellcheck disable=SC2086 # one word per port
  set -- $ports
  echo "== $# server process(es), $connections connections, $duration a run" >&2
  serve "$@"
  # Warm-up (not counted): each process opens its pool's connections and plans its queries.
  login bench-city "$1"
  for port in "$@"; do
    BENCH_LUA=$lua BENCH_OUT=$work/warmup BENCH_COOKIE=$cookie \
      wrk -t 1 -c $((connections / $#)) -d 3s -s "$lua/queue.lua" "http://127.0.0.1:$port/queue" >/dev/null
  done
  run city "city queue (GET /queue)" /queue queue.lua bench-city "$@"
  run district "district queue (GET /queue)" /queue queue.lua bench-district "$@"
  run apply "submit (POST /apply)" /apply apply.lua bench-carrier "$@"
  stop_servers
done

echo
echo "$rows applications, $connections connections, $duration a run, pool $pool connections a process, $(nproc) cores"
echo
echo "| server | endpoint | requests | requests/s | p50 ms | p95 ms | p99 ms | max ms | non-2xx/3xx | socket errors |"
echo "|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${results[@]}"
echo
echo "stored: $("${psql[@]}" -c "SELECT count(*) FROM applications") applications ($("${psql[@]}" -c "SELECT count(*) FROM applications WHERE source_file LIKE '网页申请%'") submitted online)"
