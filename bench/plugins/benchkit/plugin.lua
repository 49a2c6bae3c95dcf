-- benchkit: the benchmark's endpoints, the same work as nginx's Lua handlers.
local park = require("park")

local plugin = {
  name = "benchkit",
  version = "1.0.0",
  description = "The endpoints bench/run measures",
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
}

return plugin
