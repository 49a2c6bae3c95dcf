-- The articles benchmark's site: one column of articles, and site search;
-- the front page, the site-wide search over the index and the site-wide
-- feeds and sitemap (portal); benchkit's writer, which publishes and
-- withdraws an item of the index in turn.
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
    { path = "/feeds", title = "信息订阅", kind = "static", unit = "center", plugin = "portal",
      config = { page = "feeds", site_url = "https://www.example.gov.cn" } },
    { path = "/bk", title = "基准", kind = "news", unit = "center", plugin = "benchkit" },
  },
}
