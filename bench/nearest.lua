-- wrk script for GET /api/nearest: random points (from a file of "lon lat" lines, drawn by
-- bench/load.py --tool wrk over the county's bounding box, kept inside the outline) and a random
-- mode of walk / motorbike / car per request. Counts statuses per thread and prints them at the end.
--   wrk -t2 -c8 -d20s --latency -s bench/nearest.lua http://127.0.0.1:PORT -- points.txt [seed]
local pts = {}
local modes = {"walk", "motorbike", "car"}
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do
    local lon, lat = line:match("^(%S+)%s+(%S+)$")
    if lon then pts[#pts + 1] = lon .. "&lat=" .. lat end
  end
  f:close()
  math.randomseed((tonumber(args[2]) or 8) * 1000 + id)
  status_2xx, status_4xx, status_5xx, status_other = 0, 0, 0, 0
end

function request()
  local p = pts[math.random(#pts)]
  local m = modes[math.random(3)]
  return wrk.format("GET", "/api/nearest?lon=" .. p .. "&mode=" .. m)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then status_2xx = status_2xx + 1
  elseif status >= 400 and status < 500 then status_4xx = status_4xx + 1
  elseif status >= 500 then status_5xx = status_5xx + 1
  else status_other = status_other + 1 end
end

function done(summary, latency, requests)
  local c = {0, 0, 0, 0}
  for _, t in ipairs(threads) do
    c[1] = c[1] + t:get("status_2xx")
    c[2] = c[2] + t:get("status_4xx")
    c[3] = c[3] + t:get("status_5xx")
    c[4] = c[4] + t:get("status_other")
  end
  io.write(string.format(
    "WRKJSON {\"requests\": %d, \"seconds\": %.3f, \"rps\": %.1f, \"p50_ms\": %.2f, " ..
    "\"p90_ms\": %.2f, \"p99_ms\": %.2f, \"max_ms\": %.2f, \"status_2xx\": %d, \"status_4xx\": %d, " ..
    "\"status_5xx\": %d, \"status_other\": %d, \"socket_errors\": %d}\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, c[1], c[2], c[3], c[4],
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
