-- wrk: GET random students (ids from BENCH_IDS, token from BENCH_TOKEN).
local ids = {}
for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
local auth = "Bearer " .. os.getenv("BENCH_TOKEN")
local path = os.getenv("BENCH_SUFFIX") or ""
math.randomseed(os.time())
request = function()
  local id = ids[math.random(#ids)]
  return wrk.format("GET", "/api/v1/students/" .. id .. path, {["Authorization"] = auth})
end
