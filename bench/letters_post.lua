-- wrk script for bench/letters: every request is a new letter (a nonce
-- and a title of its own) posted to <column>/write with the one CSRF
-- cookie and token the harness fetched. Each acknowledgement (200 with a
-- receipt) carries the letter's 查询码; done() writes "code title" lines to
-- LETTERS_RECEIPTS and prints how many were and were not acknowledged.
-- LETTERS_THINK_MS: a writer's pause before each letter (0: none), about
-- that long (half to one and a half times). LETTERS_RUN: a letter that
-- starts this run's nonces and titles.
-- wrk runs LuaJIT: Lua 5.1 syntax here; wrk's hooks and a thread's state
-- are globals.
-- luacheck: globals wrk setup init request delay response done
-- luacheck: globals cookie csrf think run n ok other receipts id statuses
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  threads[#threads + 1] = thread
end

function init()
  cookie = os.getenv("LETTERS_COOKIE")
  csrf = os.getenv("LETTERS_CSRF")
  think = tonumber(os.getenv("LETTERS_THINK_MS") or "0")
  run = os.getenv("LETTERS_RUN") or "a"
  n, ok, other, receipts, statuses = 0, 0, 0, {}, {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Cookie"] = cookie
end

-- 张三, 13812345678, the body: 创新大道路灯不亮，夜间出行不便，请尽快维修。
local FIELDS = "&name=%E5%BC%A0%E4%B8%89&contact=13812345678&publish=1"
  .. "&body=%E5%88%9B%E6%96%B0%E5%A4%A7%E9%81%93%E8%B7%AF%E7%81%AF%E4%B8%8D%E4%BA%AE%EF%BC%8C"
  .. "%E5%A4%9C%E9%97%B4%E5%87%BA%E8%A1%8C%E4%B8%8D%E4%BE%BF%EF%BC%8C%E8%AF%B7%E5%B0%BD%E5%BF%AB"
  .. "%E7%BB%B4%E4%BF%AE%E3%80%82"

function request()
  n = n + 1
  local key = string.format("%s%03d%012d", run, id, n) -- 16 characters: a park.form nonce
  wrk.body = "_csrf=" .. csrf .. "&_nonce=" .. key .. "&title=bench-" .. key .. FIELDS
  return wrk.format()
end

function delay()
  if think > 0 then
    return math.random(math.floor(think / 2), math.floor(think * 3 / 2))
  end
  return 0
end

function response(status, _, body)
  local code = status == 200 and body:match('id="query%-code">(%d+)<')
  local title = code and body:match("<dt>标题</dt><dd>(bench%-[%w]+)</dd>")
  if code and title then
    ok = ok + 1
    receipts[#receipts + 1] = code .. " " .. title
  else
    other = other + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done()
  local a, b, why = 0, 0, {}
  local f = assert(io.open(os.getenv("LETTERS_RECEIPTS"), "w"))
  for _, t in ipairs(threads) do
    a, b = a + t:get("ok"), b + t:get("other")
    for status, count in pairs(t:get("statuses")) do
      why[#why + 1] = string.format("%d: %d", status, count)
    end
    local r = t:get("receipts")
    if #r > 0 then f:write(table.concat(r, "\n"), "\n") end
  end
  f:close()
  io.write(string.format("acknowledged %d other %d\n", a, b))
  if #why > 0 then io.write("other answers by status: ", table.concat(why, ", "), "\n") end
end
