-- articles_cache: residents' pages kept per worker, served again until
-- anything residents see changes. A page is stamped with the articles'
-- version (articles_meta, bumped by every publishing, withdrawal and
-- repeal) and the site model's generation (the navigation); a page older
-- than `ttl` seconds is made again too, so that an article passing its
-- expiry is marked within a minute.
local park = require("park")
local layout = require("park.layout")

local cache = { max = 500, ttl = 60 }
local entries, count = {}, 0

-- The stamp of what residents see now: one small read.
function cache.stamp()
  local row = park.db.first("SELECT value FROM articles_meta WHERE key = 'version'")
  return ("%d:%d"):format(row and row.value or 0, park.site.generation())
end

-- The answer kept for key with this stamp, not older than ttl, or nil.
function cache.get(key, stamp, now)
  local e = entries[key]
  if e and e.stamp == stamp and now - e.at < cache.ttl then return e end
end

function cache.put(key, stamp, now, body, ctype)
  if not entries[key] then
    if count >= cache.max then
      entries, count = {}, 0 -- simple and bounded: start again
    end
    count = count + 1
  end
  entries[key] = { stamp = stamp, at = now, body = body, ctype = ctype }
end

-- A GET handler whose 200 answers are kept: `handler(req)` returns
-- status, body, content type.
function cache.wrap(handler)
  return function(req)
    if not req.config.page_cache or #req.target > 512 then return handler(req) end
    -- 关怀版 pages (the cookie `care`) are kept apart from the others.
    local key = req.column .. " " .. req.target .. (layout.care(req) and " care" or "")
    local now, stamp = park.now(), cache.stamp()
    local e = cache.get(key, stamp, now)
    if e then return 200, e.body, e.ctype end
    local status, body, ctype = handler(req)
    if status == 200 and type(body) == "string" then cache.put(key, stamp, now, body, ctype) end
    return status, body, ctype
  end
end

return cache
