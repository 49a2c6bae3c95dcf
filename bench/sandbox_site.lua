-- The site bench/sandbox serves from both binaries: benchkit at the root
-- (/plaintext, as bench/run measures it), a column of articles with the
-- plugin's page cache (/gxcy/tzgg), the same articles in a column without
-- it (/gxcy/fresh: every request renders the page through the templates),
-- and site search, also without the page cache (every request queries and
-- renders). bench/sandbox seeds /gxcy/tzgg with bench/articles_seed.lua and
-- copies its articles to /gxcy/fresh.
return {
  units = { { code = "invest", name = "招商局" } },
  columns = {
    { path = "/", title = "基准", kind = "static", unit = "center", plugin = "benchkit" },
    { path = "/gxcy/tzgg", title = "通知公告", kind = "notice", unit = "invest",
      plugin = "articles" },
    { path = "/gxcy/fresh", title = "最新通知", kind = "notice", unit = "invest",
      plugin = "articles", config = { page_cache = false } },
    { path = "/search", title = "全站检索", kind = "static", unit = "center",
      plugin = "articles", config = { scope = "site", page_cache = false } },
  },
}
