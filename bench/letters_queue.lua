-- wrk script for bench/letters: the staff loading the manage queue, each
-- connection pausing about LETTERS_STAFF_PAUSE_MS before each load (half
-- to one and a half times it; 0: no pause). The cookie comes with -H.
-- wrk runs LuaJIT: Lua 5.1 syntax here; wrk's hooks are globals.
-- luacheck: globals init delay pause
function init()
  pause = tonumber(os.getenv("LETTERS_STAFF_PAUSE_MS") or "0")
end

function delay()
  if pause > 0 then
    return math.random(math.floor(pause / 2), math.floor(pause * 3 / 2))
  end
  return 0
end
