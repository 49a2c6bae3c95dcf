-- guides_forms: the blank forms (空表) and filled samples (样表) of an item's
-- materials. An upload is checked for its size (config file_max_mb) and its
-- type: the extension must be one of TYPES and the file's first bytes
-- (park.files.read) must be that type's (a renamed program is refused).
-- Uploads are kept with park.files.keep, the demo's forms with
-- park.files.put; every form is downloaded from <column>/files/<id> through
-- park.files.send, with its Content-Type and the Chinese name. Also the
-- Content-Disposition of the exports (RFC 5987 filename*) and the reading
-- of an uploaded file to import.
local park = require("park")

local forms = {}

-- Extension -> the content type sent and the magic the file starts with.
local PDF, OLE, ZIP = "%PDF-", "\208\207\17\224\161\177\26\225", "PK\3\4"
forms.TYPES = {
  pdf = { type = "application/pdf", magic = { PDF } },
  doc = { type = "application/msword", magic = { OLE } },
  xls = { type = "application/vnd.ms-excel", magic = { OLE } },
  docx = { type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
           magic = { ZIP } },
  xlsx = { type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           magic = { ZIP } },
  ofd = { type = "application/ofd", magic = { ZIP } },
  jpg = { type = "image/jpeg", magic = { "\255\216\255" } },
  jpeg = { type = "image/jpeg", magic = { "\255\216\255" } },
  png = { type = "image/png", magic = { "\137PNG\r\n\26\n" } },
}
forms.ALLOWED = "pdf、doc、docx、xls、xlsx、ofd、jpg、png"

function forms.extension(name)
  return ((name or ""):match("%.([%w]+)$") or ""):lower()
end

--- The type of bytes `head` (the file's start) named `name`: the
-- extension when the bytes are of it, else nil and why (in Chinese).
function forms.sniff(name, head)
  local ext = forms.extension(name)
  local t = forms.TYPES[ext]
  if not t then return nil, ("文件类型不允许（允许：%s）"):format(forms.ALLOWED) end
  for _, m in ipairs(t.magic) do
    if head and head:sub(1, #m) == m then return ext end
  end
  return nil, ("文件内容不是 %s 文件"):format(ext)
end

--- The names of an upload kept safe: the last component of what the
-- browser sent, without control characters, at most 100 characters.
function forms.clean_name(name)
  name = (name or ""):match("([^/\\]*)$"):gsub("[%c\"]", "")
  if utf8.len(name) and utf8.len(name) > 100 then
    name = name:sub(1, utf8.offset(name, 90) - 1) .. "." .. forms.extension(name)
  end
  return name
end

--- The bytes of `up`, an entry of req.files, at most `max_mb` MB (default
-- 8): the string, or nil and why (Chinese) when the file is larger.
function forms.read(up, max_mb)
  max_mb = max_mb or 8
  local data, err, code = park.files.read(up, max_mb * 1024 * 1024)
  if data then return data end
  if code == "TOOBIG" then
    return nil, ("“%s”超过 %d MB"):format(forms.clean_name(up.filename), max_mb)
  end
  error("an upload cannot be read: " .. tostring(err), 0)
end

--- Check the upload in form field `field` (nil when none was chosen):
-- returns { up =, ext =, name = } or false and the reason (Chinese).
function forms.check_upload(req, field, max_mb)
  local up = req.files and req.files[field] and req.files[field][1]
  if not up or (up.filename == "" and up.size == 0) then return nil end
  local data, too_big = forms.read(up, max_mb)
  if not data then return false, too_big end
  if data == "" then return false, ("“%s”是空文件"):format(forms.clean_name(up.filename)) end
  local ext, why = forms.sniff(up.filename, data:sub(1, 16))
  if not ext then return false, ("“%s”：%s"):format(forms.clean_name(up.filename), why) end
  return { up = up, ext = ext, name = forms.clean_name(up.filename) }
end

--- Content-Disposition for a download named `name` (RFC 6266 / 5987):
-- an ASCII fallback and the UTF-8 name percent-encoded.
function forms.disposition(name, inline)
  local plain = name:gsub("[^%w%.%-_ ]", "_")
  local encoded = name:gsub("[^%w%.%-_~]", function(c) return ("%%%02X"):format(c:byte()) end)
  return ('%s; filename="%s"; filename*=UTF-8\'\'%s'):format(inline and "inline" or "attachment",
    plain, encoded)
end

--- Answer the request with the form `f` (a guides_files row).
function forms.send(f)
  local t = forms.TYPES[f.type] or { type = "application/octet-stream" }
  return park.files.send(f.file_id, { name = f.name, type = t.type })
end

return forms
