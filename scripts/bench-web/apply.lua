-- POST /apply in the applicant's session ($BENCH_COOKIE, $BENCH_CSRF), as the browser sends the
-- form (multipart/form-data, the route picked stop by stop, the test report file $BENCH_REPORT):
-- every request a new, valid application (issuer/src/validate.rs) with a plate of its own. wrk thread t of this
-- process uses plates 鲁X00001, 鲁X00002, … with X the letter number $BENCH_PLATE_BASE + t of
-- LETTERS, which has no K (the seeded applications' plates are 鲁K…) and no I or O (plates
-- skip them), so no two requests of a whole benchmark share a plate and none overlaps a stored
-- application's window.
local LETTERS = "ABCDEFGHJLMNPQRSTUVWXYZ"
local DISTRICTS = { "371002", "371003", "371082", "371083", "371071", "371072", "371073" }
local ROUTES = { { "C201", "C101" }, { "C108", "C107", "C103", "C101" }, { "C105", "C106" },
  { "C202", "C103" } }
local BOUNDARY = "----bench-web-4f1c9a7e2b"
local TYPES = { "运输人", "发货人", "收货人" }

wrk.method = "POST"
wrk.path = "/apply"
wrk.headers["Cookie"] = "issuer_session=" .. os.getenv("BENCH_COOKIE")
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. BOUNDARY
local f = assert(io.open(os.getenv("BENCH_REPORT"), "rb"))
local REPORT = f:read("*a")
f:close()

local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local csrf = os.getenv("BENCH_CSRF")
local base = tonumber(os.getenv("BENCH_PLATE_BASE") or "0")
local letter

function init(args)
  local i = base + tid + 1
  assert(i <= #LETTERS, "BENCH_PLATE_BASE + threads exceeds the plate letters")
  letter = LETTERS:sub(i, i)
end


-- GB 11643: 17 digits and the check character.
local W = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 }
local CHECK = { "1", "0", "X", "9", "8", "7", "6", "5", "4", "3", "2" }
local function id_number(n)
  local first17 = string.format("3710021985%02d%02d%03d", 1 + n % 12, 1 + n % 28, n % 1000)
  local sum = 0
  for i = 1, 17 do sum = sum + (first17:byte(i) - 48) * W[i] end
  return first17 .. CHECK[sum % 11 + 1]
end

local n = 0
function request()
  n = n + 1
  assert(n < 100000, "out of plates for this thread")
  -- Travel on 15–16 March 2022, tested the day before: after the simulated clock's
  -- 12 March (ISSUER_NOW), within the policy's 48-hour test age and window.
  local fields = {
    { "csrf", csrf },
    { "applicant_type", TYPES[n % #TYPES + 1] },
    { "district", DISTRICTS[n % #DISTRICTS + 1] },
    { "plate", string.format("鲁%s%05d", letter, n) },
    { "trailer", "" },
    { "driver_name", "压测驾驶员" .. n },
    { "driver_id", id_number(n) },
    { "mobile", string.format("15%d%08d", (base + tid) % 10, n) },
    { "occupants", "1" },
    { "category", "工业原材料" },
    { "cargo", "钢材" },
    { "origin", "环翠区张村镇工业园" },
    { "destination", "文登区米山镇仓储中心" },
    { "start", "2022-03-15T08:00" },
    { "end", "2022-03-16T20:00" },
    { "test_sampled_at", "2022-03-14T06:00" },
    { "test_result", "阴性" },
  }
  for i, stop in ipairs(ROUTES[n % #ROUTES + 1]) do
    fields[#fields + 1] = { "route" .. i, stop }
  end
  local parts = {}
  for i, kv in ipairs(fields) do
    parts[i] = "--" .. BOUNDARY .. "\r\nContent-Disposition: form-data; name=\"" .. kv[1] ..
      "\"\r\n\r\n" .. kv[2] .. "\r\n"
  end
  parts[#parts + 1] = "--" .. BOUNDARY ..
    "\r\nContent-Disposition: form-data; name=\"report\"; filename=\"report.png\"\r\n" ..
    "Content-Type: image/png\r\n\r\n" .. REPORT .. "\r\n--" .. BOUNDARY .. "--\r\n"
  return wrk.format(nil, nil, nil, table.concat(parts))
end

dofile(os.getenv("BENCH_LUA") .. "/report.lua")
