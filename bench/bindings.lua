-- The benchmark site: benchkit at the root, behind thirty other columns, so
-- that routing does the work it does on a real park's site.
local bindings = {}
for i = 1, 30 do
  bindings[#bindings + 1] = { column = ("/col%02d"):format(i), plugin = "hello" }
end
bindings[#bindings + 1] = { column = "/", plugin = "benchkit" }
return bindings
