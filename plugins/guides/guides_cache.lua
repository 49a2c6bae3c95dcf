-- guides_cache: residents' pages kept per worker, served again until what
-- they show changes. A page is stamped with the guides' version
-- (guides_meta, bumped by every publishing and withdrawal), the ratings'
-- version (bumped by every rating, moderation and answer: an item page shows
-- them; both read at most once a second, see cache.stamp) and the site
-- model's generation (the navigation, the units' names);
-- 关怀版 pages are kept apart. An item page's rating form carries the
-- browser's own CSRF token: the page is kept with a marker in its place, and
-- each answer puts this browser's token there (guides_public).
local park = require("park")
local layout = require("park.layout")

local cache = { max = 1000, ttl = 300 }
local entries, count = {}, 0

-- The versions are read at most once a second per worker (a query on every
-- kept page was a third of its cost): this worker's own changes forget the
-- read at once (cache.forget), another worker's are seen within a second.
local memo, memo_at = nil, nil

function cache.stamp()
  local now = park.now()
  if memo and memo_at == now then return memo .. ":" .. park.site.generation() end
  local row = park.db.first("SELECT (SELECT value FROM guides_meta WHERE key = 'version') AS v,"
    .. " (SELECT value FROM guides_meta WHERE key = 'ratings') AS r")
  memo, memo_at = ("%d:%d"):format(row and row.v or 0, row and row.r or 0), now
  return memo .. ":" .. park.site.generation()
end

--- What residents see changed here (a publication, a rating): read the
-- versions again at the next page.
function cache.forget()
  memo = nil
end

function cache.key(req)
  return req.column .. " " .. req.target .. (layout.care(req) and " care" or "")
end

--- The entry kept for key with this stamp, or nil.
function cache.get(key, stamp, now)
  local e = entries[key]
  if e and e.stamp == stamp and now - e.at < cache.ttl then return e end
end

--- Keep `e` (a table: body =, or parts =) for key.
function cache.put(key, stamp, now, e)
  if not entries[key] then
    if count >= cache.max then entries, count = {}, 0 end -- bounded: start again
    count = count + 1
  end
  e.stamp, e.at = stamp, now
  entries[key] = e
end

--- A GET handler whose 200 pages are kept: handler(req) returns status,
-- body, content type.
function cache.wrap(handler)
  return function(req)
    if not req.config.page_cache or #req.target > 512 then return handler(req) end
    local key, now, stamp = cache.key(req), park.now(), cache.stamp()
    local e = cache.get(key, stamp, now)
    if e then return 200, e.body, e.ctype end
    local status, body, ctype = handler(req)
    if status == 200 and type(body) == "string" then
      cache.put(key, stamp, now, { body = body, ctype = ctype })
    end
    return status, body, ctype
  end
end

return cache
