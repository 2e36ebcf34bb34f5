-- One request shape for every thread: method, cookie and form body from the environment.
--   BENCH_METHOD (GET/POST), BENCH_COOKIE, BENCH_BODY, BENCH_DELAY_MS (fixed-rate runs)
wrk.method = os.getenv("BENCH_METHOD") or "GET"
local cookie = os.getenv("BENCH_COOKIE")
if cookie and cookie ~= "" then
  wrk.headers["Cookie"] = cookie
end
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if pause then
  function delay()
    return pause
  end
end

-- Threads are numbered in the main state (setup), so each can start at its own place.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

-- BENCH_COOKIES_FILE: one Cookie header per line, taken in turn (many users, each
-- request another one's). The requests are formatted once, in `init`, so a request
-- costs wrk a table lookup, as the one-cookie runs cost it nothing.
local cookies_file = os.getenv("BENCH_COOKIES_FILE")
if cookies_file and cookies_file ~= "" then
  local requests, turn = {}, 1
  function init(args)
    for line in io.lines(cookies_file) do
      wrk.headers["Cookie"] = line
      table.insert(requests, wrk.format())
    end
    turn = ((id or 1) - 1) * math.floor(#requests / 2) % #requests + 1
  end
  function request()
    local next_request = requests[turn]
    turn = turn % #requests + 1
    return next_request
  end
end

-- BENCH_EXPECT: a text every answer must contain (the signed-in address, say). Each
-- answer without it is counted, and wrk prints "Unexpected bodies: N" at the end, so a
-- run that stopped measuring what it claims (a cookie that no longer signs in answers
-- 200 "signed out" faster) fails instead of flattering a ratio. Set on both sides of a
-- ratio, so the check costs each side the same client time.
local expect = os.getenv("BENCH_EXPECT")
if expect and expect ~= "" then
  unexpected = 0
  function response(status, headers, body)
    if not string.find(body, expect, 1, true) then
      unexpected = unexpected + 1
    end
  end
  function done(summary, latency, requests)
    local total = 0
    for _, thread in ipairs(threads) do
      total = total + (thread:get("unexpected") or 0)
    end
    io.write(string.format("Unexpected bodies: %d\n", total))
  end
end
