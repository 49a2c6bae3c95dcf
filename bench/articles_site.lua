-- The articles benchmark's site: one column of articles, and site search;
-- the front page and the site-wide search over the index (portal).
return {
  units = { { code = "invest", name = "招商局" } },
  columns = {
    { path = "/", title = "首页", kind = "static", unit = "center", plugin = "portal" },
    { path = "/ss", title = "全站检索", kind = "static", unit = "center", plugin = "portal",
      config = { page = "search" } },
    { path = "/gxcy/tzgg", title = "通知公告", kind = "notice", unit = "invest",
      plugin = "articles" },
    { path = "/search", title = "全站检索", kind = "static", unit = "center",
      plugin = "articles", config = { scope = "site" } },
  },
}
