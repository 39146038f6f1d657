-- wrk script of the govbus load harness, run by `benchload run -generator wrk`.
--
-- Arguments after "--": PATH LO HI METHOD BODY_FILE [HEADER ...]
-- Each request is METHOD PATH with every "{id}" in PATH replaced by an id
-- drawn uniformly from LO..HI, every "Name: value" HEADER, and, when
-- BODY_FILE is not empty, that file's content as the body, with every
-- "{id}" in it replaced by the same id (wrk.format adds Content-Length).
-- When neither PATH nor the body holds "{id}" (LO 0, HI -1), the request
-- is built once. Every answer outside 200-299 is counted. done() prints
-- one line, starting with "benchload-wrk", that benchload parses.

local threads = {}   -- in the main state: every thread, for done()
local nthreads = 0

non2xx = 0           -- per thread; read by done() through thread:get
first_bad = ""

local path_parts, body_parts = {"/"}, nil
local lo, span = 0, 0
local fixed = nil    -- the request, when nothing varies

-- split cuts s at every "{id}" (plain text, not a pattern): the parts
-- that table.concat(parts, id) joins back with the id.
local function split(s)
  local parts, start = {}, 1
  while true do
    local i, j = string.find(s, "{id}", start, true)
    if not i then
      break
    end
    table.insert(parts, string.sub(s, start, i - 1))
    start = j + 1
  end
  table.insert(parts, string.sub(s, start))
  return parts
end

function setup(thread)
  nthreads = nthreads + 1
  thread:set("thread_no", nthreads)
  table.insert(threads, thread)
end

function init(args)
  path_parts = split(args[1] or "/")
  lo = tonumber(args[2]) or 0
  span = (tonumber(args[3]) or lo) - lo + 1
  wrk.method = args[4] or "GET"
  local file = args[5] or ""
  if file ~= "" then
    local f = assert(io.open(file, "rb"))
    local body = f:read("*a")
    f:close()
    body_parts = split(body)
    wrk.body = body
  end
  for i = 6, #args do
    local name, value = string.match(args[i], "^%s*([^:]+):%s*(.-)%s*$")
    if name then
      wrk.headers[name] = value
    end
  end
  if #path_parts == 1 and (body_parts == nil or #body_parts == 1) then
    wrk.path = path_parts[1]
    fixed = wrk.format()
  elseif span <= 0 then
    error("benchload wrk script: {id} in the path or body, but no id range")
  end
  math.randomseed(os.time() + 7919 * (thread_no or 0))
end

function request()
  if fixed then
    return fixed
  end
  local id = string.format("%d", lo + math.random(0, span - 1))
  local body = nil
  if body_parts then
    body = table.concat(body_parts, id)
  end
  return wrk.format(nil, table.concat(path_parts, id), nil, body)
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
