-- Staff pages speak Chinese only (issue #16): every page of the console
-- (/admin) and every staff page of the content plugins (articles, survey,
-- interview, letters under <column>/manage) is read as a staff member reads it, and
-- no English word, raw key, raw JSON or float where a count is meant may
-- show. A staff member without permission gets a 403 page in the layout
-- that says why, never a blank page.
--
-- What is read of a page: its visible text (without <script> and <style>,
-- with HTML entities decoded), and the attributes a person reads or hears:
-- title, aria-label, placeholder, alt, and the value of a submit button.
-- Addresses are not words: URLs, e-mail addresses and column paths
-- (/gxcy/tzgg, in <code> for the staff who type them) are taken out first.
local testing = require("park.testing")

-- The ASCII words a staff page may show, each for a reason.
local ALLOWED = {
  -- Names of formats and protocols staff know by these names.
  CSV = "导出 CSV：结果的下载格式",
  RSS = "订阅格式", Atom = "订阅格式", JSON = "订阅格式",
  -- Units of size, as written in Chinese text too.
  KB = "附件大小", MB = "附件大小",
  -- The question syntax of the survey editor: the staff type these
  -- keywords into the questions box, so its help must name them.
  single = "题型关键词", multiple = "题型关键词", rating = "题型关键词",
  ranking = "题型关键词", grid = "题型关键词", text = "题型关键词", min = "题型参数",
  max = "题型参数", ["if"] = "条件题关键词",
  -- The file types an upload may have, named by their extensions (the
  -- articles' config lists them one a line for the center to edit).
  jpg = "照片类型", jpeg = "照片类型", png = "照片类型", gif = "图片类型", pdf = "附件类型",
  doc = "附件类型", docx = "附件类型", wps = "附件类型", ofd = "附件类型", xls = "附件类型",
  xlsx = "附件类型", et = "附件类型", ppt = "附件类型", pptx = "附件类型", txt = "附件类型",
  zip = "附件类型", rar = "附件类型",
  -- The calendar file's keywords: the center types them into the import box.
  source = "日历文件关键词", holiday = "日历文件关键词", workday = "日历文件关键词",
  -- 京ICP备…号: the record number's official name, in every page's footer.
  ICP = "备案号",
}

-- Phrases taken out before the check until their owners translate them
-- (none now: keep it so).
local PENDING = {}

-- Unit codes (the demo park's and the center's) are identifiers the
-- center types and sees in the units table; login names are the accounts
-- this spec creates (people see their own login next to their name).
local CODES = { "center", "invest", "social", "talent", "yqb" }

local STAFF = {
  -- login, unit, role, name
  { "zhuren", "center", "admin", "中心管理员" },
  { "zhangbian", "invest", "editor", "张编辑" },
  { "lishen", "invest", "reviewer", "李审核" },
  { "zhaoshen", "invest", "reviewer", "赵审核" },
  { "wangling", "invest", "leader", "王领导" },
  { "wuguan", "invest", "webmaster", "吴网管" },
  { "chenbian", "social", "editor", "陈编辑" },
  { "chenshen", "social", "reviewer", "陈审核" },
  { "chenling", "social", "leader", "陈领导" },
  { "zhoubian", "center", "editor", "周编辑" },
  { "zhoushen", "center", "reviewer", "周审核" },
  { "zhouling", "center", "leader", "周领导" },
}
local ADDED = "xinren" -- the account the center adds through the console

for _, s in ipairs(STAFF) do ALLOWED[s[1]] = "测试创建的登录名" end
-- The system account that ran `parkhost user add` (the audit log names it).
do
  local p = io.popen("id -un 2>/dev/null")
  local me = p and p:read("l")
  if p then p:close() end
  for _, who in pairs({ os.getenv("SUDO_USER") or "", me or "" }) do
    if who ~= "" then ALLOWED[who] = "运行命令行的系统账号" end
  end
end
ALLOWED[ADDED] = "测试创建的登录名"
for _, c in ipairs(CODES) do ALLOWED[c] = "单位代码" end

local function pw(login) return login .. "-password" end

local ENTITIES = { amp = "&", lt = "<", gt = ">", quot = '"', apos = "'", nbsp = " " }

local function decode(s)
  s = s:gsub("&#[xX](%x+);", function(h) return utf8.char(tonumber(h, 16)) end)
  s = s:gsub("&#(%d+);", function(d) return utf8.char(tonumber(d)) end)
  return (s:gsub("&(%a+);", function(n) return ENTITIES[n] or ("&" .. n .. ";") end))
end

-- What a person reads or hears of a page, as one string.
local function readable(html)
  html = html:gsub("<!%-%-.-%-%->", " ")
  for _, t in ipairs({ "script", "style" }) do
    html = html:gsub("<" .. t .. "[^>]*>.-</" .. t .. ">", " ")
  end
  local out = {}
  -- The attributes that are read out or shown.
  for tag in html:gmatch("<(%a[^>]*)>") do
    local name = tag:match("^(%a+)"):lower()
    local submit = (name == "input" and (tag:match('type="(%a+)"') or ""):lower():find("^submit$"))
      or (name == "input" and (tag:match('type="(%a+)"') or ""):lower() == "button")
    for attr, value in tag:gmatch('%s([%w%-]+)="([^"]*)"') do
      attr = attr:lower()
      if attr == "title" or attr == "aria-label" or attr == "placeholder" or attr == "alt"
          or (attr == "value" and submit) then
        out[#out + 1] = decode(value)
      end
    end
  end
  out[#out + 1] = decode((html:gsub("<[^>]*>", " ")))
  local text = table.concat(out, "\n")
  for _, p in ipairs(PENDING) do text = text:gsub(p, " ") end
  -- Addresses are not words.
  text = text:gsub("https?://[%w%-%._~:/%?#%[%]@!%$&'%(%)%*%+,;=%%]+", " ")
  text = text:gsub("[%w%.%-_+]+@[%w%-]+%.[%w%.%-]+", " ")
  text = text:gsub("/[%w%-%._~/]*", " ")
  return text
end

-- The English words and floats of a page, or nil.
local function findings(html)
  local text = readable(html)
  local found, seen = {}, {}
  for word in text:gmatch("%a+") do
    if #word >= 2 and not ALLOWED[word] and not seen[word] then
      seen[word] = true
      found[#found + 1] = word
    end
  end
  -- A whole number printed as a float: "第 7.0 字", "7.0 个".
  for n in text:gmatch("%f[%d.]%d+%.0%f[^%d.]") do
    if not seen[n] then
      seen[n] = true
      found[#found + 1] = n
    end
  end
  if #found > 0 then return found end
end

describe("staff pages", function()
  local site, b
  local pages = {} -- { { label, status, body }, ... } in the order visited

  -- Keep a page to read later; returns the response.
  local function keep(label, res)
    pages[#pages + 1] = { label = label, status = res.status, body = res.body }
    return res
  end

  local function get(who, path, want)
    local res = b[who]:get(path)
    assert.are.equal(want or 200, res.status, who .. " GET " .. path .. "\n" .. res.body)
    return keep(who .. " GET " .. path, res)
  end

  local function post(who, path, fields, want, files)
    local res = b[who]:post(path, fields, nil, files)
    assert.are.equal(want, res.status, who .. " POST " .. path .. "\n" .. res.body)
    if want ~= 303 then keep(who .. " POST " .. path, res) end
    return res
  end

  -- A refusal: a page in the layout with the reason in Chinese.
  local function refused(who, method, path, fields, want)
    local res = method == "GET" and b[who]:get(path) or b[who]:post(path, fields or {})
    want = want or 403
    assert.are.equal(want, res.status, ("%s %s %s\n%s"):format(who, method, path, res.body))
    assert.truthy(res.body:find("<main", 1, true),
      ("%s %s %s: a blank or bare %d page:\n%s"):format(who, method, path, want, res.body))
    local main = res.body:match("<main[^>]*>(.-)</main>") or ""
    local says = main:gsub("<[^>]*>", "")
    assert.truthy(says:find("[\228-\233]"), ("%s %s %s says nothing:\n%s"):format(who, method,
      path, res.body))
    return keep(who .. " " .. method .. " " .. path .. " (" .. want .. ")", res)
  end

  local function id_of(res)
    return assert(tonumber(res.headers.location:match("/manage/(%d+)$")), res.headers.location)
  end

  setup(function()
    site = testing.start_site({ plugins = { "plugins" }, site = "demo/site.lua" })
    b = {}
    for _, s in ipairs(STAFF) do
      site:add_user(s[1], s[2], s[3], s[4], pw(s[1]))
      b[s[1]] = site:browser():login(s[1], pw(s[1]))
    end
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  it("the console's pages, for the center and for a unit's staff", function()
    -- The center's administrator: every section, and forms sent back.
    get("zhuren", "/admin/")
    get("zhuren", "/admin/units")
    post("zhuren", "/admin/units", { code = "Bad Code", name = "坏单位" }, 422)
    post("zhuren", "/admin/units", { code = "yqb", name = "园区办" }, 303)
    get("zhuren", "/admin/columns")
    get("zhuren", "/admin/columns/new")
    get("zhuren", "/admin/columns/new?parent=%2Fgxcy")
    post("zhuren", "/admin/columns", { path = "no-slash", title = "坏栏目", kind = "notice",
                                       unit = "invest", parent = "/gxcy" }, 422)
    post("zhuren", "/admin/columns", { path = "/gxcy/bad", title = "坏栏目", kind = "notice",
                                       unit = "invest", parent = "/gxcy", position = "abc" }, 422)
    post("zhuren", "/admin/columns", { path = "/gxcy/tzgg", title = "重复", kind = "notice",
                                       unit = "invest", parent = "/gxcy" }, 422)
    get("zhuren", "/admin/columns/edit?path=%2Fgxcy%2Ftzgg")
    post("zhuren", "/admin/columns/edit", { path = "/gxcy/tzgg", title = "通知公告",
      kind = "notice", unit = "invest", parent = "/gxcy", position = "", max_stale_days = "99999" },
      422)
    post("zhuren", "/admin/columns/edit", { path = "/gxcy/tzgg", title = "通知公告",
      kind = "notice", unit = "invest", parent = "/gxcy", position = "", max_stale_days = "10" },
      303)
    -- Bindings of each content plugin; a config refused by its schema.
    for _, path in ipairs({ "/gxcy/tzgg", "/ygzw/myzj", "/ygzw/zxft" }) do
      get("zhuren", "/admin/bindings?path=" .. path:gsub("/", "%%2F"))
    end
    local page = get("zhuren", "/admin/bindings?path=%2Fgxcy%2Ftzgg").body
    local form = { path = "/gxcy/tzgg", plugin = "articles", enabled = "1" }
    for name, value in page:gmatch('name="(cfg%.[%w_]+)"[^>]-value="([^"]*)"') do
      form[name] = value
    end
    for name, value in page:gmatch('name="(cfg%.[%w_]+)"[^>]*>\n?([^<]*)</textarea>') do
      form[name] = value
    end
    for name in page:gmatch('<select[^>]-name="(cfg%.[%w_]+)"') do
      local sel = page:match('name="' .. name:gsub("%.", "%%.") .. '".-</select>')
      form[name] = sel:match('<option value="([^"]*)" selected>') or ""
    end
    local good = {}
    for k, v in pairs(form) do good[k] = v end
    form["cfg.review_days"] = "99"
    post("zhuren", "/admin/bindings", form, 422)
    form["cfg.review_days"] = "两天"
    post("zhuren", "/admin/bindings", form, 422)
    good["cfg.forbidden_words"] = "绝密"
    post("zhuren", "/admin/bindings", good, 303)
    -- Users: the list, one added, its page, a refused change.
    get("zhuren", "/admin/users")
    post("zhuren", "/admin/users", { login = ADDED, name = "新人", password = "短",
                                     unit = "invest", role = "editor" }, 422)
    post("zhuren", "/admin/users", { login = "Bad Login", name = "新人",
      password = "xinren-password", unit = "invest", role = "editor" }, 422)
    post("zhuren", "/admin/users", { login = ADDED, name = "新人", password = "xinren-password",
                                     unit = "invest", role = "editor" }, 303)
    get("zhuren", "/admin/users/" .. ADDED)
    post("zhuren", "/admin/users/" .. ADDED, { op = "grant", unit = "invest", role = "admin" }, 422)
    post("zhuren", "/admin/users/" .. ADDED, { op = "passwd", password = "短" }, 422)
    post("zhuren", "/admin/users/" .. ADDED, { op = "grant", unit = "invest", role = "reviewer" },
      303)
    post("zhuren", "/admin/users/" .. ADDED, { op = "revoke", unit = "social", role = "reviewer" },
      422)
    post("zhuren", "/admin/users/" .. ADDED, { op = "disable" }, 303)
    post("zhuren", "/admin/users/zhuren", { op = "disable" }, 422)

    -- The working-day calendar: a day set, a bad one, a file imported and a bad file.
    get("zhuren", "/admin/calendar?year=2026")
    post("zhuren", "/admin/calendar", { day = "2026-10-08", kind = "holiday", name = "测试假日" },
      303)
    post("zhuren", "/admin/calendar", { day = "2026-02-30", kind = "holiday", name = "坏" }, 422)
    post("zhuren", "/admin/calendar/import", { file = "source: 测试通知\n2026-10-09 holiday 假\n" },
      200)
    post("zhuren", "/admin/calendar/import", { file = "2026-10-09 holiday 假\n" }, 422)
    get("zhuren", "/admin/calendar?year=2026")
    get("zhuren", "/admin/settings")
    post("zhuren", "/admin/settings", { name = "示范高新区", id_code = "12" }, 422)
    get("zhuren", "/admin/audit")
    refused("zhuren", "GET", "/admin/users/nobody", nil, 404)

    -- A unit's editor: what is theirs, and a reason for what is not.
    get("zhangbian", "/admin/")
    get("zhangbian", "/admin/columns")
    refused("zhangbian", "GET", "/admin/units")
    refused("zhangbian", "GET", "/admin/users")
    refused("zhangbian", "GET", "/admin/audit")
    refused("zhangbian", "GET", "/admin/columns/new")
    refused("zhangbian", "GET", "/admin/bindings?path=%2Fgxcy%2Ftzgg")
    refused("zhangbian", "POST", "/admin/units", { code = "x", name = "x" })
    -- A unit's webmaster binds its own columns, not another unit's.
    get("wuguan", "/admin/bindings?path=%2Fgxcy%2Ftzgg")
    refused("wuguan", "GET", "/admin/bindings?path=%2Fygzw%2Fmyzj")
  end)

  it("the articles' staff pages", function()
    local col = "/gxcy/tzgg"
    -- Not logged in: to the login and back (a redirect with its Location),
    -- and a post refused with the reason.
    local res = site:request("GET", col .. "/manage")
    assert.are.equal(303, res.status)
    assert.are.equal("/admin/login?next=%2Fgxcy%2Ftzgg%2Fmanage", res.headers.location)
    b.nobody = site:browser()
    b.nobody:get("/admin/login") -- a CSRF token, without a login
    res = refused("nobody", "POST", col .. "/manage/new", { title = "无" })
    assert.truthy(res.body:find("请先登录", 1, true), res.body)
    get("zhangbian", col .. "/manage")
    get("zhangbian", col .. "/manage/new")
    post("zhangbian", col .. "/manage/new", { title = "", body = "<p>正文</p>",
      pub_date = "明天", publish_at = "2020-01-01 09:00", related = "999" }, 422)
    res = post("zhangbian", col .. "/manage/new", { title = "关于企业认定工作的通知",
      summary = "认定安排", body = "<p>各有关企业：现将认定工作及其它事项通知如下。</p>",
      source = "招商局", author_unit = "招商局" }, 303,
      { attachments = { { filename = "通知.pdf", content_type = "application/pdf",
                          data = ("%PDF-1.4\n"):rep(200) } } })
    local id = id_of(res)
    local item = ("%s/manage/%d"):format(col, id)
    get("zhangbian", item)
    get("zhangbian", item .. "/edit")
    post("zhangbian", item .. "/edit", { title = "关于企业认定工作的通知", body = "<p>绝密</p>",
      expires_at = "2026年" }, 422)
    -- Not yet submitted: nobody can review it.
    get("lishen", item)
    refused("lishen", "POST", item .. "/decide", { decision = "approve" })
    get("zhangbian", item)
    post("zhangbian", item .. "/submit", {}, 303)
    refused("zhangbian", "POST", item .. "/submit", {}, 409)
    -- Not the editor's step, nor the leader's; the other unit sees nothing.
    refused("zhangbian", "POST", item .. "/decide", { decision = "approve" })
    refused("wangling", "POST", item .. "/decide", { decision = "approve" })
    refused("chenbian", "GET", col .. "/manage")
    refused("chenbian", "GET", item)
    refused("chenshen", "POST", item .. "/decide", { decision = "approve" })
    refused("chenbian", "GET", col .. "/manage/new")
    -- The reviewer: the word check (其它), the queue, a refusal, approving twice.
    get("lishen", item)
    get("lishen", col .. "/manage/queue")
    refused("lishen", "POST", item .. "/decide", { decision = "return", comment = "" }, 422)
    post("lishen", item .. "/decide", { decision = "approve", comment = "同意" }, 303)
    refused("lishen", "POST", item .. "/decide", { decision = "approve" })
    post("zhaoshen", item .. "/decide", { decision = "approve" }, 303)
    get("wangling", item)
    post("wangling", item .. "/decide", { decision = "approve" }, 303)
    -- Published: its record, a new revision, the comparison, take-down refused.
    get("zhangbian", item)
    get("zhangbian", item .. "/edit")
    post("zhangbian", item .. "/edit", { title = "关于企业认定工作的通知（修订）",
      body = "<p>各有关企业：现将认定工作通知如下。</p>", source = "招商局" }, 303)
    get("zhangbian", item .. "/compare?a=1&b=2")
    refused("zhangbian", "GET", item .. "/compare?a=1&b=9", nil, 404)
    get("wangling", item)
    refused("wangling", "POST", item .. "/withdraw", { reason = "" }, 422)
    refused("zhangbian", "POST", item .. "/withdraw", { reason = "过时" })
    get("zhangbian", col .. "/manage/queue")
    refused("zhangbian", "GET", col .. "/manage/9999", nil, 404)
  end)

  it("the survey's staff pages", function()
    local col = "/ygzw/myzj"
    local now = os.time()
    local function at(t) return os.date("%Y-%m-%d %H:%M", t) end
    get("chenbian", col .. "/manage")
    get("chenbian", col .. "/manage/new")
    post("chenbian", col .. "/manage/new", { title = "", opens_at = "明天",
      closes_at = "", questions = "[single] q1 没有选项" }, 422)
    post("chenbian", col .. "/manage/new", { title = "满意度调查", opens_at = at(now + 3600),
      closes_at = at(now + 7200), questions = "[单项] q1 题目" }, 422)
    local res = post("chenbian", col .. "/manage/new", { title = "园区服务满意度调查",
      purpose = "了解企业评价", opens_at = at(now + 86400), closes_at = at(now + 3 * 86400),
      questions = "[single] q1 您对园区服务满意吗？ *\n- 满意\n- 不满意\n\n"
        .. "[text max=100] q2 其他意见\n" }, 303)
    local item = ("%s/manage/%d"):format(col, id_of(res))
    get("chenbian", item)
    get("chenbian", item .. "/edit")
    post("chenbian", item .. "/edit", { title = "园区服务满意度调查", opens_at = at(now + 86400),
      closes_at = at(now), questions = "[single] q1 题目\n- 是\n- 否\n" }, 422)
    refused("chenshen", "POST", item .. "/decide", { decision = "approve" })
    post("chenbian", item .. "/submit", {}, 303)
    refused("chenbian", "POST", item .. "/decide", { decision = "approve" })
    refused("zhangbian", "GET", col .. "/manage")
    refused("zhangbian", "GET", item)
    get("chenshen", item)
    post("chenshen", item .. "/decide", { decision = "approve" }, 303)
    refused("chenshen", "POST", item .. "/decide", { decision = "approve" })
    get("chenling", item)
    post("chenling", item .. "/decide", { decision = "approve" }, 303)
    get("chenbian", item)
    get("chenling", item)
    refused("chenling", "POST", item .. "/extend", { closes_at = "下周", reason = "" }, 422)
    refused("chenling", "POST", item .. "/outcome", { outcome = "采纳" }, 409)
    refused("chenbian", "GET", item .. "/results")
    refused("chenbian", "POST", item .. "/extend", { closes_at = at(now + 5 * 86400),
                                                     reason = "延期" })
    refused("chenbian", "GET", col .. "/manage/9999", nil, 404)
  end)

  it("the interview's staff pages", function()
    local col = "/ygzw/zxft"
    local function at(t) return os.date("%Y-%m-%d %H:%M", t) end
    get("zhoubian", col .. "/manage")
    get("zhoubian", col .. "/manage/new")
    post("zhoubian", col .. "/manage/new", { title = "", starts_at = "明天上午",
      minutes = "5", guests = "" }, 422)
    local res = post("zhoubian", col .. "/manage/new", { title = "优化营商环境在线访谈",
      topic = "营商环境", unit_name = "园区服务中心", guests = "张主任|服务中心主任",
      host = "王主持", starts_at = at(os.time() + 86400), minutes = "60",
      intro = "欢迎提问。" }, 303)
    local item = ("%s/manage/%d"):format(col, id_of(res))
    get("zhoubian", item)
    get("zhoubian", item .. "/edit")
    post("zhoubian", item .. "/edit", { title = "优化营商环境在线访谈", starts_at = "",
      minutes = "abc", guests = "张主任|服务中心主任" }, 422)
    refused("zhoushen", "POST", item .. "/decide", { decision = "approve" })
    post("zhoubian", item .. "/submit", {}, 303)
    refused("zhoubian", "POST", item .. "/decide", { decision = "approve" })
    refused("zhoubian", "POST", item .. "/live", { op = "start" }, 409)
    refused("zhangbian", "GET", col .. "/manage")
    refused("chenbian", "GET", item)
    get("zhoushen", item)
    post("zhoushen", item .. "/decide", { decision = "approve" }, 303)
    refused("zhoushen", "POST", item .. "/decide", { decision = "approve" })
    post("zhouling", item .. "/decide", { decision = "approve" }, 303)
    get("zhoubian", item)
    refused("zhoubian", "POST", item .. "/edit", { title = "改" }, 409)
    refused("zhoubian", "GET", col .. "/manage/9999", nil, 404)
  end)

  it("the letters' staff pages", function()
    local col = "/ygzw/zrxx"
    get("zhuren", "/admin/bindings?path=%2Fygzw%2Fzrxx")
    get("zhuren", "/admin/bindings?path=%2Fygzw%2Fzc")
    -- Two letters from residents, through the public form.
    local function write(title)
      local r = site:browser()
      local page = r:get(col .. "/write").body
      local res = r:post(col .. "/write", { nonce = page:match('name="nonce" value="([^"]+)"'),
        name = "张三", contact = "13812345678", title = title, body = "请尽快处理这件事情。",
        publish = "1" }, nil, { attachments = { { filename = "照片.pdf",
          content_type = "application/pdf", data = ("%PDF-1.4\n"):rep(20) } } })
      assert.are.equal(200, res.status, res.body)
      return res.body:match('id="query%-code">(%d+)<')
    end
    write("路灯不亮")
    write("班车太少")
    local list = get("zhoubian", col .. "/manage").body
    local ids = {}
    for id in list:gmatch('href="/ygzw/zrxx/manage/(%d+)"') do ids[#ids + 1] = id end
    table.sort(ids)
    local one, two = col .. "/manage/" .. ids[1], col .. "/manage/" .. ids[2]
    -- The dispatcher: a form sent back, then 分办 to 招商局 and 社会事务局.
    get("zhoubian", one)
    post("zhoubian", one .. "/assign", { unit = "" }, 422)
    post("zhoubian", one .. "/assign", { unit = "invest", note = "请招商局办理" }, 303)
    post("zhoubian", two .. "/assign", { unit = "social" }, 303)
    -- 招商局: 受理, 延期 asked and approved, the reply through the chain.
    get("zhangbian", col .. "/manage")
    get("zhangbian", one)
    post("zhangbian", one .. "/accept", {}, 303)
    post("zhangbian", one .. "/extend", { days = "九十", reason = "" }, 422)
    post("zhangbian", one .. "/extend", { days = "3", reason = "需现场勘查" }, 303)
    refused("zhangbian", "POST", one .. "/extension", { decision = "approve" })
    get("wangling", one)
    post("wangling", one .. "/extension", { decision = "approve" }, 303)
    post("zhangbian", one .. "/reply", { body = "", op = "submit" }, 422)
    post("zhangbian", one .. "/reply", { body = "已修复。", op = "save" }, 303)
    get("zhangbian", one)
    post("zhangbian", one .. "/reply", { body = "经查，路灯已修复。", op = "submit" }, 303)
    refused("zhangbian", "POST", one .. "/decide", { decision = "approve" })
    get("lishen", one)
    refused("lishen", "POST", one .. "/decide", { decision = "return", comment = "" }, 422)
    post("lishen", one .. "/decide", { decision = "approve" }, 303)
    get("wangling", one)
    post("wangling", one .. "/decide", { decision = "approve" }, 303)
    get("zhangbian", one)
    -- Another unit's staff: the reason, in words.
    refused("chenbian", "GET", one)
    refused("chenbian", "POST", one .. "/accept", {})
    -- 社会事务局: forms sent back, then 退回 to the center.
    get("chenbian", col .. "/manage")
    get("chenbian", two)
    post("chenbian", two .. "/transfer", { unit = "" }, 422)
    post("chenbian", two .. "/return", { reason = "" }, 422)
    post("chenbian", two .. "/decline", { reason = "duplicate", original = "" }, 422)
    post("chenbian", two .. "/note", { note = "内部备注" }, 303)
    post("chenbian", two .. "/return", { reason = "不属于本单位职责" }, 303)
    get("zhoubian", two)
    -- The warnings and the statistics; an editor may not read the warnings.
    get("wuguan", col .. "/manage/warnings")
    get("zhuren", col .. "/manage/warnings")
    refused("zhangbian", "GET", col .. "/manage/warnings")
    get("zhoubian", col .. "/stats")
    refused("zhoubian", "GET", col .. "/manage/9999", nil, 404)
  end)

  it("the audit log, after all these changes", function()
    get("zhuren", "/admin/audit")
    get("zhuren", "/admin/audit?action=articles.")
    get("zhuren", "/admin/audit?actor=user%3Azhuren")
    local body = pages[#pages - 2].body
    -- Before and after are label: value lines, not a JSON blob.
    assert.falsy(body:find('{&quot;', 1, true), "raw JSON in the audit view")
    assert.falsy(body:find('{"', 1, true), "raw JSON in the audit view")
  end)

  it("shows no English word, raw key or float on any of them", function()
    assert.truthy(#pages > 60, "pages read: " .. #pages)
    local report = {}
    for _, p in ipairs(pages) do
      local found = findings(p.body)
      if found then
        report[#report + 1] = ("%s (%d): %s"):format(p.label, p.status,
          table.concat(found, " "))
      end
    end
    assert.are.equal("", table.concat(report, "\n"))
  end)
end)
