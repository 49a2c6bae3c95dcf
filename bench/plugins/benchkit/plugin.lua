-- benchkit: the benchmark's endpoints, the same work as nginx's Lua handlers.
local park = require("park")

local plugin = {
  name = "benchkit",
  version = "1.0.0",
  description = "The endpoints bench/run measures",
}

plugin.routes = {
  { "GET", "/plaintext", function() return park.text("Hello, World!") end },
  { "GET", "/json", function() return park.json({ message = "Hello, World!" }) end },
}

return plugin
