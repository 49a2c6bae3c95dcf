-- benchkit: the benchmark's endpoints, the same work as nginx's Lua handlers.
local park = require("park")

local plugin = {
  name = "benchkit",
  version = "1.0.0",
  description = "The endpoints bench/run and bench/notify measure",
  -- wrk posts without a browser's cookie: a load generator, not a form.
  csrf = false,
}

plugin.routes = {
  { "GET", "/plaintext", function() return park.text("Hello, World!") end },
  { "GET", "/json", function() return park.json({ message = "Hello, World!" }) end },
  -- park.db: a one-row read by primary key, and a one-row insert (its own
  -- commit, synchronous=FULL) answered only once it is durable.
  { "GET", "/db/read", function()
    return park.json(park.db.first("SELECT id, body FROM benchkit_rows WHERE id = ?", 1))
  end },
  { "POST", "/db/write", function(req)
    local _, id = park.db.exec("INSERT INTO benchkit_rows (body) VALUES (?)", req.body)
    return park.text(tostring(id), 201)
  end },
  -- park.notify's latency (bench/notify): a watcher's stream starts, so that
  -- its head tells the client the handler is already waiting, then one
  -- event when a notify of the key wakes it (on this worker or another), or
  -- "timeout" after 10 s; the notify answers with how many waiters of this
  -- worker it woke.
  { "GET", "/wait/:key", function(req, res)
    res:sse()
    local woken = park.wait(req.params.key, 10000)
    res:event({ data = woken and "woken" or "timeout" })
  end },
  { "POST", "/notify/:key", function(req)
    return park.text(tostring(park.notify(req.params.key)))
  end },
  -- A writer for bench/articles: one item of the site-wide index published
  -- and withdrawn in turn, so that park.items.version() moves (and every
  -- page the portal keeps is made again).
  { "POST", "/items/toggle", function(req)
    if park.items.withdraw("writer") then return park.text("withdrawn") end
    park.items.publish({ key = "writer", kind = "news", title = "基准测试：写入的信息",
                         url = req.column .. "/writer", summary = "一条发布又撤回的信息" })
    return park.text("published")
  end },
}

return plugin
