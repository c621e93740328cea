-- wrk's done(): prints the run in one line and writes its counts and its latency quantiles
-- (0.1 % steps, in µs) to the file $BENCH_OUT, which scripts/bench-web.sh reads (and merges
-- with another run's when two wrk processes ran at once).
function done(summary, latency, requests)
  local e = summary.errors
  local socket = e.connect + e.read + e.write + e.timeout
  local f = assert(io.open(os.getenv("BENCH_OUT"), "w"))
  f:write(string.format("requests %d\nduration_us %d\nstatus_errors %d\nsocket_errors %d\nmax_us %d\n",
    summary.requests, summary.duration, e.status, socket, latency.max))
  for k = 1, 1000 do
    f:write(string.format("q %d %d\n", k, latency:percentile(k / 10)))
  end
  f:close()
  io.write(string.format(
    "  %.0f req/s, p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms; non-2xx/3xx %d, socket errors %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1e3,
    latency:percentile(95) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3, e.status, socket))
end
