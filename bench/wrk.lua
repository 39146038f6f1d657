-- wrk script of the govbus load harness, run by `benchload run -generator wrk`.
--
-- Arguments after "--": PATH_PREFIX PATH_SUFFIX LO HI [HEADER ...]
-- Each request is GET PATH_PREFIX .. id .. PATH_SUFFIX, with an id drawn
-- uniformly from LO..HI, and every "Name: value" HEADER. Every answer
-- outside 200-299 is counted. done() prints one line, starting with
-- "benchload-wrk", that benchload parses.

local threads = {}   -- in the main state: every thread, for done()
local nthreads = 0

non2xx = 0           -- per thread; read by done() through thread:get
first_bad = ""

local prefix, suffix, lo, span = "/", "", 0, 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("thread_no", nthreads)
  table.insert(threads, thread)
end

function init(args)
  prefix = args[1] or "/"
  suffix = args[2] or ""
  lo = tonumber(args[3]) or 0
  span = (tonumber(args[4]) or lo) - lo + 1
  for i = 5, #args do
    local name, value = string.match(args[i], "^%s*([^:]+):%s*(.-)%s*$")
    if name then
      wrk.headers[name] = value
    end
  end
  math.randomseed(os.time() + 7919 * (thread_no or 0))
end

function request()
  local path = prefix
  if span > 0 then
    path = prefix .. string.format("%d", lo + math.random(0, span - 1)) .. suffix
  end
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_bad == "" then
      local kind = headers["X-Road-Error"]
      first_bad = tostring(status)
      if kind then
        first_bad = first_bad .. " (X-Road-Error: " .. kind .. ")"
      end
      first_bad = first_bad .. ": " .. string.gsub(string.sub(body or "", 1, 200), "%s+", " ")
    end
  end
end

function done(summary, latency, requests)
  local bad, first = 0, ""
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non2xx") or 0)
    local f = t:get("first_bad")
    if first == "" and f and f ~= "" then
      first = f
    end
  end
  local e = summary.errors
  io.write(string.format(
    "benchload-wrk requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d p50_us=%d p99_us=%d first_bad=%s\n",
    summary.requests, summary.duration, bad, e.connect, e.read, e.write, e.timeout,
    math.floor(latency:percentile(50)), math.floor(latency:percentile(99)), first))
end
