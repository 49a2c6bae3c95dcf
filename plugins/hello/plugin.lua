-- hello: the smallest plugin. Bound to a column (see bindings.lua), it
-- answers GET on the column's own path with a plain greeting.
local park = require("park")

local plugin = {
  name = "hello",
  version = "1.0.0",
  description = "Answers GET on its column with a plain greeting",
  config = {
    greeting = { type = "string", default = "Hello, World!", max_length = 200,
                 description = "the text the column answers with" },
  },
}

local function hello(req)
  return park.text(req.config.greeting)
end

plugin.routes = {
  { "GET", "/", hello },
}

return plugin
