-- The articles benchmark's site: one column of articles, and site search.
return {
  units = { { code = "invest", name = "招商局" } },
  columns = {
    { path = "/gxcy/tzgg", title = "通知公告", kind = "notice", unit = "invest",
      plugin = "articles" },
    { path = "/search", title = "全站检索", kind = "static", unit = "center",
      plugin = "articles", config = { scope = "site" } },
  },
}
