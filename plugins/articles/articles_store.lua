-- articles_store: the articles' tables (sql/001_articles.sql): items,
-- revisions, the record of steps, and the search index. Every write that
-- belongs with another runs in one park.db.transaction.
local park = require("park")
local content = require("park.content")
local cjson = require("cjson")
local text = require("articles_text")
local sanitize = require("articles_sanitize")
local policy = require("articles_policy")

local db = park.db
local store = {}

local check, decode = content.check, content.decode
store.decode = decode

local function json(v)
  return cjson.encode(v)
end

-- Integers come back from SQLite as integers; JSON ones as floats.
local function int(v)
  return v and math.tointeger(v) or v
end

---------------------------------------------------------------------------
-- Reading
---------------------------------------------------------------------------

local ITEM = [[SELECT id, column_path, status, live_rev, pub_at, expires_at, repealed_at,
  repealed_reason, withdrawn_at, withdrawn_by, withdrawn_reason, created_by, created_at
  FROM articles_items]]

function store.item(id)
  return check(db.first(ITEM .. " WHERE id = ?", id))
end

function store.revision(id)
  local r = check(db.first("SELECT * FROM articles_revisions WHERE id = ?", id))
  if r then
    r.related = decode(r.related, {})
    r.files = decode(r.files, {})
    r.chain = decode(r.chain, {})
    r.findings = decode(r.findings, {})
  end
  return r
end

-- The newest revision of an item (the one an editor works on).
function store.latest(item_id)
  local r = check(db.first("SELECT id FROM articles_revisions WHERE item_id = ?"
    .. " ORDER BY number DESC LIMIT 1", item_id))
  return r and store.revision(r.id)
end

function store.revisions(item_id)
  return check(db.query("SELECT id, number, title, state, created_by, created_at, updated_at"
    .. " FROM articles_revisions WHERE item_id = ? ORDER BY number DESC", item_id))
end

function store.steps(revision_id)
  return check(db.query("SELECT step, decision, login, name, at, comment FROM articles_steps"
    .. " WHERE revision_id = ? ORDER BY id", revision_id))
end

-- Steps of every revision of an item, newest first (the item's history).
function store.history(item_id)
  return check(db.query([[SELECT s.step, s.decision, s.login, s.name, s.at, s.comment,
    r.number FROM articles_steps s JOIN articles_revisions r ON r.id = s.revision_id
    WHERE r.item_id = ? ORDER BY s.id DESC]], item_id))
end

-- A page of a column's live articles, newest first, from the keyset cursor
-- (pub_at, id) of the last one shown: n + 1 rows tell whether more follow.
function store.page(column, before_at, before_id, n)
  local sql = [[SELECT i.id, i.pub_at, i.expires_at, i.repealed_at, r.title, r.summary,
    r.source FROM articles_items i JOIN articles_revisions r ON r.id = i.live_rev
    WHERE i.status = 'live']]
  local args = {}
  if column then
    sql = sql .. " AND i.column_path = ?"
    args[#args + 1] = column
  end
  if before_at then
    sql = sql .. " AND (i.pub_at, i.id) < (?, ?)"
    args[#args + 1] = before_at
    args[#args + 1] = before_id
  end
  args[#args + 1] = n + 1
  return check(db.query(sql .. " ORDER BY i.pub_at DESC, i.id DESC LIMIT ?",
    table.unpack(args)))
end

-- The live articles of the column published just before and just after
-- the one at (pub_at, id): 上一篇 and 下一篇, or nil at either end.
function store.neighbours(column, pub_at, id)
  local sql = [[SELECT i.id, r.title FROM articles_items i JOIN articles_revisions r
    ON r.id = i.live_rev WHERE i.status = 'live' AND i.column_path = ?1 AND ]]
  local before = check(db.first(sql .. "(i.pub_at, i.id) < (?2, ?3)"
    .. " ORDER BY i.pub_at DESC, i.id DESC LIMIT 1", column, pub_at, id))
  local after = check(db.first(sql .. "(i.pub_at, i.id) > (?2, ?3)"
    .. " ORDER BY i.pub_at, i.id LIMIT 1", column, pub_at, id))
  return before, after
end

-- The 索引号 of an item, or nil.
function store.index_no(item_id)
  local r = check(db.first("SELECT index_no FROM articles_index_numbers WHERE item_id = ?",
    item_id))
  return r and r.index_no
end

-- 信息公开目录: the live documents of a column (or, with no column, every
-- numbered one of the site), newest first by keyset pages, filtered by
-- f = { topic =, from =, to = (publication times), unit =, column_unit =
-- (the unit of a column's documents published before it had numbers) }.
local CATALOG_FROM = [[ FROM articles_items i JOIN articles_revisions r ON r.id = i.live_rev
  LEFT JOIN articles_index_numbers n ON n.item_id = i.id
  WHERE i.status = 'live' AND (?1 IS NULL OR i.column_path = ?1)
  AND (?1 IS NOT NULL OR n.index_no IS NOT NULL) AND (?2 IS NULL OR r.topic = ?2)
  AND (?3 IS NULL OR i.pub_at >= ?3) AND (?4 IS NULL OR i.pub_at < ?4)
  AND (?5 IS NULL OR coalesce(n.unit, ?6) = ?5)]]

local function catalog_args(column, f)
  return column, f.topic, f.from, f.to, f.unit, f.column_unit
end

function store.catalog(column, f, before_at, before_id, n)
  return check(db.query([[SELECT i.id, i.column_path, i.pub_at, i.expires_at, i.repealed_at,
    r.title, r.doc_no, r.topic, r.pub_date, n.index_no, coalesce(n.unit, ?6) AS unit]]
    .. CATALOG_FROM .. [[ AND (?7 IS NULL OR (i.pub_at, i.id) < (?7, ?8))
    ORDER BY i.pub_at DESC, i.id DESC LIMIT ?9]], column, f.topic, f.from, f.to, f.unit,
    f.column_unit, before_at, before_id, n + 1))
end

-- How many documents each topic, year (of publication, in the site's zone:
-- `offset` seconds east of UTC) and unit has, under the filters of f (the
-- caller leaves out the facet's own filter).
function store.catalog_topics(column, f)
  return check(db.query("SELECT r.topic AS value, count(*) AS n" .. CATALOG_FROM
    .. " GROUP BY r.topic", catalog_args(column, f)))
end

function store.catalog_years(column, f, offset)
  return check(db.query("SELECT CAST(strftime('%Y', i.pub_at + ?7, 'unixepoch') AS INTEGER)"
    .. " AS value, count(*) AS n" .. CATALOG_FROM .. " GROUP BY value ORDER BY value DESC",
    column, f.topic, f.from, f.to, f.unit, f.column_unit, offset))
end

function store.catalog_units(column, f)
  return check(db.query("SELECT coalesce(n.unit, ?6) AS value, count(*) AS n" .. CATALOG_FROM
    .. " GROUP BY value ORDER BY value", catalog_args(column, f)))
end

-- Live, unexpired articles for feeds and the sitemap (n newest).
function store.recent(column, now, n)
  return check(db.query([[SELECT i.id, i.column_path, i.pub_at, r.title, r.summary, r.body,
    r.author_unit, r.updated_at FROM articles_items i JOIN articles_revisions r
    ON r.id = i.live_rev WHERE i.status = 'live' AND (?1 IS NULL OR i.column_path = ?1)
    AND (i.expires_at IS NULL OR i.expires_at > ?2) AND i.repealed_at IS NULL
    ORDER BY i.pub_at DESC, i.id DESC LIMIT ?3]], column, now, n))
end

-- Site search: live articles matching an FTS5 expression, newest (by id)
-- first, after the cursor `before` (an id), with filters.
function store.search(match, column, from, to, before, n)
  return check(db.query([[SELECT i.id, i.column_path, i.pub_at, i.repealed_at, i.expires_at,
    r.title, r.summary, r.body_text FROM articles_search s JOIN articles_items i ON i.id = s.rowid
    JOIN articles_revisions r ON r.id = i.live_rev
    WHERE articles_search MATCH ?1 AND i.status = 'live'
    AND (?2 IS NULL OR i.column_path = ?2) AND (?3 IS NULL OR i.pub_at >= ?3)
    AND (?4 IS NULL OR i.pub_at < ?4) AND (?5 IS NULL OR s.rowid < ?5)
    ORDER BY s.rowid DESC LIMIT ?6]], match, column, from, to, before, n + 1))
end

-- Items of a column for its editors: every state, the request's page of
-- `pager` (park.page, by id).
function store.manage_page(req, pager)
  return pager:query(req, [[SELECT i.id, i.status, i.pub_at, i.repealed_at, r.id AS rev,
    r.number, r.title, r.state, r.step, r.chain, r.updated_at FROM articles_items i
    JOIN articles_revisions r ON r.item_id = i.id AND r.number =
      (SELECT max(number) FROM articles_revisions WHERE item_id = i.id)
    WHERE i.column_path = ?]], req.column)
end

-- Revisions waiting in review anywhere (the queue filters by permission).
function store.waiting()
  return check(db.query([[SELECT r.id, r.item_id, r.number, r.title, r.chain, r.step,
    r.waiting_since, r.overdue_at, r.created_by, i.column_path FROM articles_revisions r
    JOIN articles_items i ON i.id = r.item_id WHERE r.state = 'review'
    AND r.scheduled_at IS NULL ORDER BY r.waiting_since]]))
end

-- Returned revisions of one author (they wait for their editor).
function store.returned(login)
  return check(db.query([[SELECT r.id, r.item_id, r.number, r.title, r.updated_at,
    i.column_path FROM articles_revisions r JOIN articles_items i ON i.id = r.item_id
    WHERE r.state = 'returned' AND r.created_by = ? ORDER BY r.updated_at]], login))
end

-- Titles of live items by id, for "related articles" links.
function store.titles(ids)
  local out = {}
  for _, id in ipairs(ids) do
    local r = check(db.first([[SELECT i.id, i.column_path, r.title FROM articles_items i
      JOIN articles_revisions r ON r.id = i.live_rev WHERE i.id = ? AND i.status = 'live']],
      int(id)))
    if r then out[#out + 1] = r end
  end
  return out
end

---------------------------------------------------------------------------
-- Writing
---------------------------------------------------------------------------

-- The revision's columns from the form's fields, then `...`, as one list
-- of statement parameters (nil kept: the list has an explicit n).
local function revision_fields(f, ...)
  local extra = table.pack(...)
  local v = { f.title, f.summary or "", f.body or "", sanitize.text(f.body or ""),
              f.source or "", f.author_unit or "", f.pub_date, f.expires_at,
              json(f.related or {}), json(f.files or {}) }
  for i = 1, extra.n do v[10 + i] = extra[i] end
  return table.unpack(v, 1, 10 + extra.n)
end

-- The revision's later columns: 定时发布 and a policy document's attributes
-- (文号, 主题分类, 有效性; empty where the form has none).
local SET_MORE = "UPDATE articles_revisions SET publish_at = ?, doc_no = ?, topic = ?,"
  .. " validity = ? WHERE id = ?"
local function set_more(f, id)
  check(db.exec(SET_MORE, f.publish_at, f.doc_no or "", f.topic or "", f.validity or "", id))
end

-- A new item with its first revision (a draft). Returns the item's id.
function store.create(column, login, now, f)
  return check(db.transaction(function()
    check(db.exec("INSERT INTO articles_items (column_path, created_by, created_at)"
      .. " VALUES (?, ?, ?)", column, login, now))
    local item = check(db.first("SELECT last_insert_rowid() AS id")).id
    check(db.exec([[INSERT INTO articles_revisions (item_id, number, title, summary, body,
      body_text, source, author_unit, pub_date, expires_at, related, files, created_by,
      created_at, updated_at) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)]], item,
      revision_fields(f, login, now, now)))
    set_more(f, check(db.first("SELECT last_insert_rowid() AS id")).id)
    return item
  end))
end

-- Save an editor's changes: into the newest revision when it is a draft
-- or was returned, else (it is published or in review) into a new one.
function store.save(item_id, login, now, f)
  return check(db.transaction(function()
    local latest = store.latest(item_id)
    if latest.state == "draft" or latest.state == "returned" then
      check(db.exec([[UPDATE articles_revisions SET title = ?, summary = ?, body = ?,
        body_text = ?, source = ?, author_unit = ?, pub_date = ?, expires_at = ?, related = ?,
        files = ?,
        state = 'draft', updated_at = ? WHERE id = ?]], revision_fields(f, now, latest.id)))
      set_more(f, latest.id)
      return latest.id
    end
    if latest.state == "review" then
      error("this revision is in review: it changes only when it is sent back", 0)
    end
    check(db.exec([[INSERT INTO articles_revisions (item_id, number, title, summary, body,
      body_text, source, author_unit, pub_date, expires_at, related, files, created_by,
      created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)]], item_id,
      latest.number + 1, revision_fields(f, login, now, now)))
    local id = check(db.first("SELECT last_insert_rowid() AS id")).id
    set_more(f, id)
    return id
  end))
end

-- What residents see has changed: their pages' caches go stale.
local function bump()
  check(db.exec("UPDATE articles_meta SET value = value + 1 WHERE key = 'version'"))
end

local function record(rev_id, step, decision, who, now, comment)
  check(db.exec("INSERT INTO articles_steps (revision_id, step, decision, login, name, at,"
    .. " comment) VALUES (?, ?, ?, ?, ?, ?, ?)", rev_id, step, decision, who.login,
    who.name or "", now, comment or ""))
end

-- Into review at the chain's first step.
function store.submit(rev, chain, findings, who, now)
  check(db.transaction(function()
    check(db.exec([[UPDATE articles_revisions SET state = 'review', chain = ?, step = 1,
      waiting_since = ?, overdue_at = NULL, findings = ?, updated_at = ? WHERE id = ?
      AND state IN ('draft', 'returned')]], json(chain), now, json(findings), now, rev.id))
    record(rev.id, "editor", "submit", who, now)
  end))
end

-- The item in the site-wide index (park.items): its publication time is
-- the server's, stamped the first time; the date the editor gave is its
-- 成文日期 there.
-- A policy column's document also gives its 索引号, 文号, 主题分类 and
-- 有效性 (the one residents see now: articles_policy.validity).
local KINDS = { news = "news", notice = "notice", policy = "policy" }
local function index(item, rev, now)
  local col = park.site.column(item.column_path)
  local attrs = {}
  if rev.pub_date then attrs.written_on = os.date("%Y-%m-%d", rev.pub_date) end
  local numbered = db.first("SELECT index_no FROM articles_index_numbers WHERE item_id = ?",
    item.id)
  if policy.column(col) or numbered then
    attrs.index_no = numbered and numbered.index_no or nil
    attrs.validity = policy.validity(item, rev, now)
    if (rev.doc_no or "") ~= "" then attrs.doc_no = rev.doc_no end
    if (rev.topic or "") ~= "" then attrs.topic = rev.topic end
  elseif item.repealed_at then
    attrs.validity = "已废止"
  end
  park.items.publish({ key = tostring(item.id), column = item.column_path,
    kind = KINDS[col and col.kind] or "news", title = rev.title, summary = rev.summary,
    url = item.column_path:gsub("/$", "") .. "/" .. item.id, text = rev.body_text,
    attrs = next(attrs) and attrs or nil })
end

-- The item's 索引号, given the first time it goes public in a policy
-- column: the next serial of the column's unit in this year. The serial
-- only grows and the number is kept for good (withdrawn, or deleted).
local function number(item, col, now)
  if db.first("SELECT 1 AS x FROM articles_index_numbers WHERE item_id = ?", item.id) then
    return
  end
  local unit, year = col.unit, math.tointeger(tonumber(os.date("%Y", now)))
  local serial = check(db.first([[INSERT INTO articles_index_serials (unit, year, last)
    VALUES (?, ?, 1) ON CONFLICT (unit, year) DO UPDATE SET last = last + 1
    RETURNING last]], unit, year)).last
  check(db.exec([[INSERT INTO articles_index_numbers (index_no, item_id, unit, year, serial,
    column_path, assigned_at) VALUES (?, ?, ?, ?, ?, ?, ?)]],
    policy.index_no(unit, year, serial), item.id, unit, year, serial, item.column_path, now))
end

-- Make rev the item's live text: the revision before it is superseded, the
-- search index gets the new text; a policy column's document gets its
-- 索引号, and its expiry is scheduled to be told to the site's index.
local function publish(rev, who, now)
  local item = store.item(rev.item_id)
  -- 发布时间: the moment it first went public, stamped here, never typed
  -- (rev.pub_date is the document's 成文日期, shown as such).
  local pub_at = item.pub_at or now
  local before = item.live_rev and db.first("SELECT pub_date FROM articles_revisions"
    .. " WHERE id = ?", item.live_rev)
  if before and before.pub_date ~= rev.pub_date then
    -- A date of a live item changes only through review, on record.
    local function day(t) return t and os.date("%Y-%m-%d", t) or nil end
    park.audit("written_on", "articles:" .. item.id, { written_on = day(before.pub_date) },
      { written_on = day(rev.pub_date), revision = rev.id })
  end
  check(db.exec("UPDATE articles_revisions SET state = 'superseded', updated_at = ?"
    .. " WHERE item_id = ? AND state = 'published'", now, rev.item_id))
  check(db.exec("UPDATE articles_revisions SET state = 'published', step = 0,"
    .. " waiting_since = NULL, overdue_at = NULL, updated_at = ? WHERE id = ?", now, rev.id))
  check(db.exec("UPDATE articles_items SET status = 'live', live_rev = ?, pub_at = ?,"
    .. " expires_at = ? WHERE id = ?", rev.id, pub_at, rev.expires_at, rev.item_id))
  check(db.exec("DELETE FROM articles_search WHERE rowid = ?", rev.item_id))
  check(db.exec("INSERT INTO articles_search (rowid, tokens) VALUES (?, ?)", rev.item_id,
    text.tokens(rev.title .. "\n" .. rev.summary .. "\n" .. rev.body_text)))
  local col = park.site.column(item.column_path)
  if policy.column(col) then number(item, col, now) end
  item = store.item(rev.item_id)
  index(item, rev, now)
  if item.expires_at and item.expires_at > now then
    park.sched.at(item.expires_at, "expire", { item = item.id }, "item:" .. item.id)
  end
  record(rev.id, "publish", "publish", who, now)
  bump()
end

-- A step approves: the next step waits, or, after the last, it is published
-- (or, when a later time was asked for, waits for it: scheduled). Returns
-- "published", "scheduled" or false.
function store.approve(rev, step_name, who, now, comment)
  return check(db.transaction(function()
    record(rev.id, step_name, "approve", who, now, comment)
    if rev.step >= #rev.chain and rev.publish_at and rev.publish_at > now then
      -- Past the chain's last step: no reviewer's any more, in no queue.
      check(db.exec("UPDATE articles_revisions SET step = step + 1, waiting_since = NULL,"
        .. " overdue_at = NULL, scheduled_at = ?, updated_at = ? WHERE id = ?", now, now, rev.id))
      park.sched.at(rev.publish_at, "publish", { rev = rev.id }, "rev:" .. rev.id)
      return "scheduled"
    end
    if rev.step >= #rev.chain then
      publish(rev, who, now)
      return "published"
    end
    check(db.exec("UPDATE articles_revisions SET step = step + 1, waiting_since = ?,"
      .. " overdue_at = NULL, updated_at = ? WHERE id = ?", now, now, rev.id))
    return false
  end))
end

-- A scheduled revision's time has come (the job "publish"): public now,
-- stamped now. Nothing happens to one no longer waiting.
function store.publish_scheduled(rev_id, now)
  check(db.transaction(function()
    local rev = store.revision(rev_id)
    if rev and rev.state == "review" and rev.scheduled_at then
      publish(rev, { login = "scheduler", name = "定时发布" }, now)
    end
  end))
end

-- A step sends the revision back to its editor with a reason.
function store.send_back(rev, step_name, who, now, reason)
  check(db.transaction(function()
    record(rev.id, step_name, "return", who, now, reason)
    check(db.exec("UPDATE articles_revisions SET state = 'returned', step = 0,"
      .. " waiting_since = NULL, overdue_at = NULL, updated_at = ? WHERE id = ?", now, rev.id))
  end))
end

-- Take a live article off the site; the reason stays on record.
function store.withdraw(item, who, now, reason)
  check(db.transaction(function()
    check(db.exec("UPDATE articles_items SET status = 'withdrawn', withdrawn_at = ?,"
      .. " withdrawn_by = ?, withdrawn_reason = ? WHERE id = ?", now, who.login, reason, item.id))
    check(db.exec("DELETE FROM articles_search WHERE rowid = ?", item.id))
    park.items.withdraw(tostring(item.id))
    record(item.live_rev, "withdraw", "withdraw", who, now, reason)
    bump()
  end))
end

-- Mark a live policy repealed (废止): it stays readable, marked.
function store.repeal(item, who, now, reason)
  check(db.transaction(function()
    check(db.exec("UPDATE articles_items SET repealed_at = ?, repealed_reason = ? WHERE id = ?",
      now, reason, item.id))
    local live = db.first("SELECT title, summary, body_text, pub_date, doc_no, topic, validity"
      .. " FROM articles_revisions WHERE id = ?", item.live_rev)
    if live then index(store.item(item.id), live, now) end
    record(item.live_rev, "repeal", "repeal", who, now, reason)
    bump()
  end))
end

-- A live article's expiry has come (the job "expire"): the site's index
-- hears its 有效性 (已失效), and residents' pages are made again.
function store.expire(item_id, now)
  check(db.transaction(function()
    local item = store.item(item_id)
    if not item or item.status ~= "live" or not item.expires_at or item.expires_at > now then
      return
    end
    index(item, store.revision(item.live_rev), now)
    bump()
  end))
end

-- Flag the reviews waiting since before `limit_of(column)`; returns them.
function store.flag_overdue(now, is_overdue)
  local flagged = {}
  for _, r in ipairs(store.waiting()) do
    if not r.overdue_at and is_overdue(r) then
      check(db.exec("UPDATE articles_revisions SET overdue_at = ? WHERE id = ?", now, r.id))
      flagged[#flagged + 1] = r
    end
  end
  return flagged
end

return store
