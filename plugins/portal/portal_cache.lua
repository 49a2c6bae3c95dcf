-- portal_cache: the portal's pages kept per worker (a worker's memory is
-- its own: docs/plugin-api.md, "Several workers"), served again while
-- nothing they show has changed.
--
-- A page is kept under its target and the 关怀版 mode (park.layout.care:
-- the `care` cookie). Only a target without a query string is kept: the
-- layout's 关怀版 switch links back to the target, so `/?x=1` is a page of
-- its own, and `/?x=1`, `/?x=2` ... must not push the front page out.
-- Each page is stamped with
--   park.items.version()     every publication and withdrawal of any item,
--                            by any worker, job or command, and
--   park.site.generation()   the column tree, the configs, the site settings,
-- and made again once it is older than the binding's `cache_seconds` (what
-- depends on the clock: the 互动参与 block when a survey closes, the
-- popular queries of the empty search page). A logged-in staff user
-- (park.auth.user(), who sees the staff bar) is never served a kept page
-- nor makes one. Bounded: MAX_ENTRIES pages and MAX_BYTES in all per
-- worker; a page larger than MAX_ENTRY_BYTES is not kept.
local park = require("park")
local layout = require("park.layout")

local cache = { MAX_ENTRIES = 256, MAX_BYTES = 16 * 1024 * 1024, MAX_ENTRY_BYTES = 6 * 1024 * 1024 }

local entries, count, bytes = {}, 0, 0

-- The stamp of what a page shows now: the index's version and the site's
-- generation, or nil when the index cannot say (a host without
-- park.items.version: nothing is kept then, rather than a front page that
-- misses a publication for cache_seconds).
function cache.stamp()
  local version = park.items.version
  if not version then return nil end
  return version(), park.site.generation()
end

local function drop(key)
  local e = entries[key]
  if e then
    entries[key], count, bytes = nil, count - 1, bytes - #e.body
  end
end

-- Room for `size` more bytes and one more page: stale pages go first, then
-- any, until it fits.
local function make_room(size, version, generation, now, ttl)
  if count < cache.MAX_ENTRIES and bytes + size <= cache.MAX_BYTES then return end
  local keys = {}
  for k in pairs(entries) do keys[#keys + 1] = k end
  for _, k in ipairs(keys) do
    local e = entries[k]
    if e.version ~= version or e.generation ~= generation or now - e.at >= ttl then drop(k) end
  end
  for _, k in ipairs(keys) do
    if count < cache.MAX_ENTRIES and bytes + size <= cache.MAX_BYTES then return end
    drop(k)
  end
end

-- The key of req's page in the cache, or nil when it is not to be kept.
-- `extra` (optional) is more of what the page depends on (a feed's host).
function cache.key(req, extra)
  if req.config.cache_seconds == 0 or req.target ~= req.path or #req.path > 256 then
    return nil
  end
  if park.auth.user() then return nil end
  return (layout.care(req) and "care " or "- ") .. req.path .. (extra and " " .. extra or "")
end

-- The answer of `make(req)` for a GET, kept when it is a page (a string,
-- sent as 200) or a 200 with a body and a Content-Type (a feed). `extra`
-- as for cache.key.
function cache.serve(req, make, extra)
  local key = cache.key(req, extra)
  if not key then return make(req) end
  local version, generation = cache.stamp()
  if not version then return make(req) end
  local now, ttl = park.now(), req.config.cache_seconds
  local e = entries[key]
  if e and e.version == version and e.generation == generation and now - e.at < ttl then
    if e.ctype then return 200, e.body, e.ctype end
    return e.body
  end
  local a, b, c = make(req)
  local body, ctype
  if type(a) == "string" then
    body = a
  elseif a == 200 and type(b) == "string" and type(c) == "string" then
    body, ctype = b, c
  end
  if body and #body <= cache.MAX_ENTRY_BYTES then
    drop(key)
    make_room(#body, version, generation, now, ttl)
    entries[key] = { version = version, generation = generation, at = now, body = body,
                     ctype = ctype }
    count, bytes = count + 1, bytes + #body
  end
  return a, b, c
end

-- What the cache holds in this worker (for specs and the log).
function cache.size()
  return count, bytes
end

return cache
