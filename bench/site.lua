-- The benchmark site: benchkit at the root, behind thirty other columns, so
-- that routing does the work it does on a real park's site.
local columns = {
  { path = "/", title = "基准", kind = "static", unit = "center", plugin = "benchkit" },
}
for i = 1, 30 do
  columns[#columns + 1] = { path = ("/col%02d"):format(i), title = ("栏目%02d"):format(i),
                            kind = "static", unit = "center", plugin = "hello" }
end
return { columns = columns }
