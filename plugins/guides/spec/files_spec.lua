-- The forms of a guide's materials (空表, 样表): uploaded with the edit form,
-- downloaded by residents with the same bytes, their type and the Chinese
-- name; refused when the bytes are not of the type the name says, or too
-- large; and listed by the monitor's audit once the file is gone from disk.
package.path = "plugins/guides/spec/?.lua;" .. package.path
local support = require("support")
local testing = require("park.testing")

local C = support.COLUMN
local has = support.has

local PDF = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
local PNG = "\137PNG\r\n\26\n" .. ("\0"):rep(40)

describe("guides: forms", function()
  local site, b, files_dir
  setup(function()
    files_dir = testing.tmpdir()
    site, b = support.start({ file_max_mb = 1, chain = { "review" } })
    -- The server keeps files under --files-dir: restart it with our own.
    site:halt()
    site:restart({ "--files-dir", files_dir, "--max-body-bytes", "4194304" })
    for _, s in ipairs(support.STAFF) do
      b[s[1]] = site:browser():login(s[1], s[1] .. "-password")
    end
  end)
  teardown(function()
    site:stop()
    os.execute("rm -rf '" .. files_dir .. "'")
  end)

  local id
  it("keeps an uploaded blank form and a sample; residents download the same bytes", function()
    id = support.create(b.sed, support.guide("social"), {
      m_blank_1 = { { filename = "生育登记表.pdf", content_type = "application/pdf", data = PDF } },
      m_sample_1 = { { filename = "样表.png", content_type = "image/png", data = PNG } },
    })
    support.act(b.sed, id, "submit")
    support.act(b.srv, id, "decide", { decision = "approve" })
    local page = site:browser():get(C .. "/" .. id)
    local href = page.body:match('<a href="(' .. C .. '/files/%d+)" download>空表下载')
    assert.truthy(href, "a link to the blank form")
    local res = site:browser():get(href)
    assert.equal(200, res.status)
    assert.equal(PDF, res.body)
    assert.equal("application/pdf", res.headers["content-type"])
    assert.truthy(has(res.headers["content-disposition"],
      "filename*=UTF-8''%E7%94%9F%E8%82%B2%E7%99%BB%E8%AE%B0%E8%A1%A8.pdf"))
    local sample = page.body:match('<a href="(' .. C .. '/files/%d+)" download>样表下载')
    res = site:browser():get(sample)
    assert.equal(PNG, res.body)
    assert.equal("image/png", res.headers["content-type"])
  end)

  it("refuses a file whose bytes are not of its type, and one too large", function()
    local res = support.post_guide(b.sed, nil, support.guide("social"), {
      m_blank_1 = { { filename = "表格.pdf", content_type = "application/pdf",
                      data = "MZ\144\0 this is a program" } } })
    assert.equal(422, res.status)
    assert.truthy(has(res.body, "办理材料第 1 项的空表：“表格.pdf”：文件内容不是 pdf 文件"))
    res = support.post_guide(b.sed, nil, support.guide("social"), {
      m_blank_1 = { { filename = "表格.exe", content_type = "application/octet-stream",
                      data = "MZ" } } })
    assert.truthy(has(res.body, "文件类型不允许（允许：pdf、doc、docx、xls、xlsx、ofd、jpg、png）"))
    res = support.post_guide(b.sed, nil, support.guide("social"), {
      m_blank_1 = { { filename = "大表格.pdf", content_type = "application/pdf",
                      data = "%PDF-1.4\n" .. ("x"):rep(1024 * 1024 + 10) } } })
    assert.equal(422, res.status)
    assert.truthy(has(res.body, "“大表格.pdf”超过 1 MB"))
    assert.equal("2", support.sql(site, "SELECT count(*) FROM guides_files"))
  end)

  it("lists a form missing on disk in the monitor's audit", function()
    local audit = b.cwm:get(C .. "/manage/audit?format=json")
    assert.equal(200, audit.status)
    assert.truthy(has(audit.body, '"items":{}') or has(audit.body, '"items":[]'))
    local fid = support.sql(site, "SELECT file_id FROM guides_files WHERE name = '生育登记表.pdf'")
    os.remove(files_dir .. "/guides/" .. fid)
    audit = b.cwm:get(C .. "/manage/audit?format=json")
    assert.truthy(has(audit.body, "办理材料第 1 项的空表“生育登记表.pdf”：文件已丢失，无法下载"))
    local page = b.cwm:get(C .. "/manage/audit")
    assert.truthy(has(page.body, "文件已丢失"))
  end)
end)
