-- hello: the smallest plugin; answers GET /hello. A starting point to copy.
local plugin = {
  name = "hello",
  version = "1.0.0",
  description = "Answers GET /hello with a plain greeting",
}

local function hello(_req)
  return 200, "Hello, World!", { ["Content-Type"] = "text/plain; charset=utf-8" }
end

plugin.routes = {
  { "GET", "/hello", hello },
}

return plugin
