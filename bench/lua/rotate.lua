-- Refresh-token rotation chains: each wrk thread (one connection each) starts from its
-- own refresh token (line N of BENCH_TOKENS) and follows the chain, sending the token
-- the previous answer set. A non-200 breaks the chain and is counted by wrk.
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  local n = 0
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    n = n + 1
    if n == id then
      token = line
    end
  end
  wrk.method = "POST"
end

-- BENCH_DELAY_MS: a pause before each request, for a rate below the maximum (latency
-- measured at a load a server runs at, not at saturation, where it is only queueing).
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if pause then
  function delay()
    return pause
  end
end

function request()
  return wrk.format(nil, "/api/auth/refresh", { ["Cookie"] = "__Secure-refresh=" .. token })
end

function response(status, headers, body)
  local set = headers["Set-Cookie"] or headers["set-cookie"] or ""
  local next = string.match(set, "__Secure%-refresh=([^;]+)")
  if next then
    token = next
  end
end
