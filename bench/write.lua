-- wrk: merge-patch random students with a new birth_place (no If-Match: the server
-- retries a lost race itself), ids from BENCH_IDS, token from BENCH_TOKEN.
local ids = {}
for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
local auth = "Bearer " .. os.getenv("BENCH_TOKEN")
local n = 0
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 1000)
request = function()
  n = n + 1
  local id = ids[math.random(#ids)]
  local body = '{"birth_place":"w' .. n .. '-' .. math.random(1000000000) .. '"}'
  return wrk.format("PATCH", "/api/v1/students/" .. id,
    {["Authorization"] = auth, ["Content-Type"] = "application/merge-patch+json"}, body)
end
