-- guides_seed: the demo's items. Soon after every start and reload (the
-- job "seed", run once in one worker) each column bound to guides whose
-- config says demo = true and that has no items at all gets the bundled
-- demo items (demo/items.lua) as published items, with their blank forms
-- made as small PDFs (demo/pdf.lua) and kept with park.files.put. A column
-- with any item, published or not, is left alone, so the seed runs any
-- number of times and loads once.
local park = require("park")
local config = require("guides_config")
local fields = require("guides_fields")
local store = require("guides_store")

local seed = {}

local function form_pdf(title, g)
  local pdf = require("demo.pdf")
  return pdf.make(title, { "事项名称：" .. g.name, "（演示用空白表格，内容为示例）", "",
    "申请人（单位）：________________________", "联系电话：________________________",
    "申请事项说明：", "", "", "申请人签字（盖章）：____________  日期：____年__月__日" })
end

-- Keep a demo form's bytes; its id. Inside the transaction put runs inline,
-- holding up the worker while it writes and syncs: a few small files, once.
local function put(data, kept)
  local id, err = park.files.put(data)
  if not id then error("a demo form cannot be kept: " .. tostring(err), 0) end
  kept[#kept + 1] = id
  return id
end

--- Load the demo items into `col` if it has none; returns how many.
function seed.load(col, now)
  local items = require("demo.items")
  local kept = {} -- the forms put, removed again if the load fails
  local ok, n = pcall(store.transaction, function()
    if store.count(col) > 0 then return 0 end
    for _, d in ipairs(items) do
      local g = fields.normal(d)
      g.bad_numbers = nil
      local id = store.create(col, g, "demo", now)
      for i, m in ipairs(d.materials) do
        for _, kind in ipairs({ "blank", "sample" }) do
          local title = m[kind .. "_form"]
          if title then
            local data = form_pdf(title, g)
            g.materials[i][kind] = store.add_file(id, put(data, kept), title .. ".pdf", "pdf",
              #data, "demo", now)
          end
        end
      end
      store.save(store.item(id), g, "demo", now)
      store.publish_now(store.latest(id), "demo", now)
    end
    park.audit("seed", "guides:" .. col, nil, { items = #items, published = true })
    return #items
  end)
  if not ok then
    for _, id in ipairs(kept) do park.files.remove(id) end
    error(n, 0)
  end
  return n
end

--- Every demo column (config demo = true) that is empty gets the demo items.
function seed.run(now)
  local total = 0
  for _, c in ipairs(park.site.columns()) do
    if c.plugin == "guides" and c.served and config.of(c.path).demo then
      local n = seed.load(c.path, now or park.now())
      if n > 0 then park.log.info(("guides: %d demo item(s) loaded into %s"):format(n, c.path)) end
      total = total + n
    end
  end
  return total
end

return seed
