-- GET of the URL given to wrk (a queue page) in the session $BENCH_COOKIE.
wrk.headers["Cookie"] = "issuer_session=" .. os.getenv("BENCH_COOKIE")
dofile(os.getenv("BENCH_LUA") .. "/report.lua")
