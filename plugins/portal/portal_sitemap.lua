-- portal_sitemap: the site's sitemap cut into files of at most 50,000 URLs
-- (sitemaps.org), one per month of publication ("2026-11"), or, for a
-- month that may hold more, one per day ("2026-11-05"), listed by a
-- sitemap index. A month's file never changes once the month is over, so a
-- crawler fetches the old ones again only when their items change.
--
-- How many items a month may hold is known without counting them: an
-- item's id is given when it is first published, after every id the index
-- holds, and so is its publication time; the items of a month are among
-- the ids after the newest item of the month before, up to the month's
-- newest. Finding the months takes one small read each (the newest item
-- before a time), whatever the number of items.
local park = require("park")

local sitemap = { MAX = 50000, BATCH = 100, YIELD_EVERY = 2000 }

local function midnight(y, m, d)
  return os.time({ year = y, month = m, day = d, hour = 0, min = 0, sec = 0 })
end

local function month_start(t)
  local d = os.date("*t", t)
  return midnight(d.year, d.month, 1)
end

local function day_start(t)
  local d = os.date("*t", t)
  return midnight(d.year, d.month, d.day)
end

-- The newest item published before `t` (and not before `since`), or nil.
local function newest_before(t, since)
  return park.items.latest({ ["until"] = t, since = since, limit = 1 })[1]
end

-- The names of the sitemap files, newest first: "2026-11", or the days of
-- a month that may hold more than MAX items.
function sitemap.files()
  local out = {}
  local top = park.items.latest({ limit = 1 })[1]
  while top do
    local ms = month_start(top.published_at)
    local prev = newest_before(ms)
    if top.id - (prev and prev.id or 0) <= sitemap.MAX then
      out[#out + 1] = os.date("%Y-%m", top.published_at)
    else
      local d = top
      while d do
        out[#out + 1] = os.date("%Y-%m-%d", d.published_at)
        d = newest_before(day_start(d.published_at), ms)
      end
    end
    top = prev
  end
  return out
end

-- The publication times a file's name covers, [since, until), or nil for a
-- name that is no month or day.
function sitemap.window(name)
  local y, m, d = name:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  if not y then y, m = name:match("^(%d%d%d%d)%-(%d%d)$") end
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  if not y or y < 1970 or m < 1 or m > 12 or (d and (d < 1 or d > 31)) then return nil end
  local since = midnight(y, m, d or 1)
  if os.date(d and "%Y-%m-%d" or "%Y-%m", since) ~= name then return nil end -- 2026-02-30
  return since, d and midnight(y, m, d + 1) or midnight(y, m + 1, 1)
end

-- Calls fn(item) for each item published in [since, until), newest first,
-- at most MAX of them; returns how many, and whether some were left out.
-- Waits a moment every YIELD_EVERY items, so that a long walk neither holds
-- the server (plugin-max-hold-ms) nor runs out of its instruction budget.
function sitemap.walk(since, until_, fn)
  local n, before = 0, nil
  while true do
    -- After the first page the cursor is below `until` already: given both,
    -- SQLite walks down from `until` to the cursor on every page.
    local batch = park.items.latest({ since = since, ["until"] = not before and until_ or nil,
                                      before = before, limit = sitemap.BATCH })
    for _, it in ipairs(batch) do
      if n == sitemap.MAX then return n, true end
      n = n + 1
      fn(it)
    end
    if #batch < sitemap.BATCH then return n, false end
    before = batch[#batch].id
    if n % sitemap.YIELD_EVERY == 0 then park.sleep(0) end
  end
end

return sitemap
