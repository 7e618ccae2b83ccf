-- wrk script for bench/api.py: one request kind per run (CALLQA_BENCH_MODE = claim | detail), the API keys of
-- several supervisors taken in turn, and a one-line JSON summary printed at the end.
local keys = {}
for key in string.gmatch(os.getenv("CALLQA_BENCH_KEYS") or "", "[^,]+") do
  keys[#keys + 1] = key
end
local mode = os.getenv("CALLQA_BENCH_MODE") or "claim"
local max_id = tonumber(os.getenv("CALLQA_BENCH_MAX_ID") or "1")
-- Mean pause of each connection between an answer and its next request (0: back to back), drawn uniformly from
-- [0, 2 × mean] so that the connections do not march in step.
local think_ms = tonumber(os.getenv("CALLQA_BENCH_THINK_MS") or "0")
local sent = 0

function setup(thread)
  math.randomseed(os.time() + tostring(thread):len())
end

if think_ms > 0 then
  function delay()
    return math.random(0, 2 * think_ms)
  end
end

function request()
  sent = sent + 1
  local headers = { ["X-API-Key"] = keys[(sent % #keys) + 1] }
  if mode == "claim" then
    return wrk.format("POST", "/api/queue/claim", headers)
  end
  return wrk.format("GET", "/api/calls/" .. math.random(1, max_id), headers)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, ' ..
    '"socket_errors": %d, "bad_status": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    errors.connect + errors.read + errors.write + errors.timeout, errors.status))
end
