-- guides_audit: the monitor's query. For every item of a column, the
-- problems a resident would meet: a key element missing or wrong in the
-- version residents read (the newest version of an item never published),
-- and a form (空表, 样表) that cannot be downloaded (its record or its file
-- on disk is gone). README.md, "The monitor's query", documents the answer.
local park = require("park")
local fields = require("guides_fields")
local store = require("guides_store")
local roles = require("guides_roles")

local audit = {}

local function form_problem(fid, which, i)
  local f = store.file(fid)
  local label = ("办理材料第 %d 项的%s"):format(i, which)
  if not f then return label .. "：文件记录不存在" end
  if not park.files.info(f.file_id) then return label .. "“" .. f.name .. "”：文件已丢失，无法下载" end
end

--- { column =, checked_at =, checked =, items = { { id =, name =, unit =,
-- unit_name =, published =, url =, version =, problems = { { field =,
-- message = } } } } }: only the items with a problem.
function audit.run(col)
  local out = { column = col, checked_at = os.date("%Y-%m-%d %H:%M", park.now()), checked = 0,
                items = {} }
  local units = roles.codes()
  for _, r in ipairs(store.manage_list(col)) do
    local item = store.item(r.id)
    local v = item.published == 1 and store.live(item) or store.latest(item.id)
    local problems = fields.check(v.data, true, units)
    for i, m in ipairs(v.data.materials) do
      for _, pair in ipairs({ { m.blank, "空表" }, { m.sample, "样表" } }) do
        local why = pair[1] and form_problem(pair[1], pair[2], i)
        if why then problems[#problems + 1] = { field = "materials", message = why } end
      end
    end
    out.checked = out.checked + 1
    if #problems > 0 then
      out.items[#out.items + 1] = { id = item.id, name = item.name, unit = item.unit,
        unit_name = roles.unit_name(item.unit), published = item.published == 1,
        url = col:gsub("/$", "") .. "/" .. item.id, version = v.number, problems = problems }
    end
  end
  return out
end

return audit
