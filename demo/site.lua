-- The demo park: its units, its column tree, which unit answers for each
-- column (the responsibility table, 责任栏目划分明细) and the plugins bound
-- to the columns. ./scripts/run imports it into a new database; after
-- that the center keeps the site at /admin/ (or edits this file and runs
-- `parkhost site import demo/site.lua`, then `parkhost reload`).
--
-- Article columns (通知公告, 政策文件, 人才政策, 政务动态) run the articles
-- plugin with their review chains; /search is the site-wide search over
-- every plugin's published items (portal), /feeds the site-wide feeds and
-- sitemap of every plugin's items (portal); 民意征集 runs the survey plugin and 在线访谈 the interview
-- plugin; 主任信箱 and 我为政府网站找错 (the footer's 找错 link, errata_url) run
-- the letters plugin; 办事指南 runs the guides plugin, whose bundled demo
-- items (config demo = true) are loaded into it, published, while it has
-- none.
local SITE = "示范高新技术产业开发区"

return {
  -- The center's settings: every page's footer and meta tags (README,
  -- "The site's settings"). The numbers here are the demo's, not real ones.
  settings = {
    name = SITE,
    domain = "www.demo-park.gov.cn",
    id_code = "9999990001",
    organizer = "示范高新技术产业开发区管理委员会",
    icp = "京ICP备00000000号",
    police = "京公网安备 11000000000000号",
    address = "示范市高新区创新大道 1 号园区服务中心",
    phone = "010-00000000",
    email = "web@demo-park.gov.cn",
    errata_url = "/ygzw/zc",
  },
  units = {
    { code = "invest", name = "招商局" },
    { code = "social", name = "社会事务局" },
    { code = "talent", name = "人才办" },
  },
  columns = {
    { path = "/", title = "首页", kind = "static", unit = "center", plugin = "portal",
      config = { site_name = SITE, headline = "/ygzw/zwdt",
                 body = "欢迎访问示范高新技术产业开发区门户网站。" } },

    { path = "/gxcy", title = "高新创业", kind = "section", unit = "invest", plugin = "portal",
      config = { site_name = SITE, page = "section" } },
    { path = "/gxcy/tzgg", title = "通知公告", parent = "/gxcy", kind = "notice",
      unit = "invest", max_stale_days = 14, plugin = "articles",
      config = { site_name = SITE, chain = { "review", "secrecy", "leader" } } },
    { path = "/gxcy/zcwj", title = "政策文件", parent = "/gxcy", kind = "policy",
      unit = "invest", max_stale_days = 30, plugin = "articles",
      config = { site_name = SITE, chain = { "review", "secrecy", "leader", "center" } } },
    { path = "/gxcy/rczc", title = "人才政策", parent = "/gxcy", kind = "policy",
      unit = "talent", max_stale_days = 30, plugin = "articles",
      config = { site_name = SITE, chain = { "review", "leader", "center" } } },

    { path = "/yqsh", title = "园区生活", kind = "section", unit = "social", plugin = "portal",
      config = { site_name = SITE, page = "section" } },
    { path = "/yqsh/bszn", title = "办事指南", parent = "/yqsh", kind = "service",
      unit = "social", max_stale_days = 90, plugin = "guides",
      -- demo: the bundled items of 招商局, 社会事务局 and 人才办 (plugins/guides/demo)
      -- are loaded, published, while the column has none.
      config = { chain = { "review", "leader" }, demo = true } },
    { path = "/yqsh/shfw", title = "生活服务", parent = "/yqsh", kind = "static",
      unit = "social", plugin = "portal",
      config = { site_name = SITE,
                 body = "园区内设有便民服务中心、职工食堂和公共自行车站点。\n\n"
                   .. "便民服务中心工作时间：工作日 9:00—17:00。" } },

    { path = "/ygzw", title = "阳光政务", kind = "section", unit = "center", plugin = "portal",
      config = { site_name = SITE, page = "section" } },
    { path = "/ygzw/zwdt", title = "政务动态", parent = "/ygzw", kind = "news",
      unit = "center", max_stale_days = 14, plugin = "articles",
      config = { site_name = SITE, chain = { "review", "leader" } } },
    { path = "/ygzw/myzj", title = "民意征集", parent = "/ygzw", kind = "interaction",
      unit = "social", max_stale_days = 30, plugin = "survey",
      config = { site_name = SITE, chain = { "review", "leader" } } },
    { path = "/ygzw/zxft", title = "在线访谈", parent = "/ygzw", kind = "interaction",
      unit = "center", max_stale_days = 90, plugin = "interview",
      config = { site_name = SITE, chain = { "review", "leader" } } },
    { path = "/ygzw/zrxx", title = "主任信箱", parent = "/ygzw", kind = "interaction",
      unit = "center", max_stale_days = 14, plugin = "letters",
      config = { type = "主任信箱", chain = { "review", "leader" } } },
    { path = "/ygzw/zc", title = "我为政府网站找错", parent = "/ygzw", kind = "interaction",
      unit = "center", plugin = "letters",
      config = { type = "找错", deadline_days = 3, publish = false, chain = { "review" } } },
    { path = "/search", title = "全站检索", kind = "static", unit = "center",
      plugin = "portal", config = { site_name = SITE, page = "search" } },
    { path = "/feeds", title = "信息订阅", kind = "static", unit = "center",
      plugin = "portal", config = { site_name = SITE, page = "feeds" } },
    { path = "/ygzw/gywm", title = "关于园区", parent = "/ygzw", kind = "static",
      unit = "center", plugin = "portal",
      config = { site_name = SITE,
                 body = "示范高新技术产业开发区是国家级高新技术产业开发区。\n\n"
                   .. "园区服务中心负责本网站的建设与管理，各单位负责其栏目的内容。" } },
  },
}
