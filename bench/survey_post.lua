-- wrk script: every request is a new participant answering the ten
-- questions (a browser token and a form nonce of its own), with the one
-- CSRF cookie and token the harness fetched. Each acknowledgement (200)
-- carries its receipt number, the answer's id; done() writes them all to
-- SURVEY_RECEIPTS and prints how many were and were not acknowledged.
-- SURVEY_THINK_MS: a participant's pause before each answer (0: none).
-- wrk runs LuaJIT: Lua 5.1 syntax here.
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  threads[#threads + 1] = thread
end

function init()
  cookie = os.getenv("SURVEY_COOKIE")
  csrf = os.getenv("SURVEY_CSRF")
  think = tonumber(os.getenv("SURVEY_THINK_MS") or "0")
  run = os.getenv("SURVEY_RUN") or "a"
  n, ok, other, receipts = 0, 0, 0, {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

local ANSWERS = "&q1=2&q2=1&q2=3&q3=4&q4=5&q5=1&q6.1=2&q6.2=1&q6.3=3&q7.1=1&q7.2=2&q8=1"
  .. "&q9=%E7%AA%97%E5%8F%A3%E6%9C%8D%E5%8A%A1%E5%BE%88%E5%A5%BD"

function request()
  n = n + 1
  local token = string.format("%s%02d%019d", run, id, n)
  wrk.headers["Cookie"] = cookie .. "; ph_survey=" .. token
  wrk.body = "_csrf=" .. csrf .. "&nonce=" .. token .. ANSWERS
  return wrk.format()
end

function delay()
  if think > 0 then
    return math.random(math.floor(think / 2), math.floor(think * 3 / 2))
  end
  return 0
end

function response(status, _, body)
  local receipt = status == 200 and body:match('class="receipt">(%d+)<')
  if receipt then
    ok = ok + 1
    receipts[#receipts + 1] = receipt
  else
    other = other + 1
  end
end

function done()
  local a, b = 0, 0
  local f = assert(io.open(os.getenv("SURVEY_RECEIPTS"), "w"))
  for _, t in ipairs(threads) do
    a, b = a + t:get("ok"), b + t:get("other")
    f:write(table.concat(t:get("receipts"), "\n"), "\n")
  end
  f:close()
  io.write(string.format("acknowledged %d other %d\n", a, b))
end
