-- demo/pdf: a minimal valid PDF (one A4 page of text in the standard
-- Chinese font STSong-Light, not embedded) for the demo's blank forms. A
-- plugin reads no files but its modules, so the demo's forms are made
-- here rather than shipped as bytes: each is about 1.5 KB.
local pdf = {}

-- UTF-8 text as the hex of its UTF-16BE code units (UniGB-UCS2-H).
local function hex(s)
  local out = {}
  for _, c in utf8.codes(s) do
    if c > 0xFFFF then c = 0x3F end
    out[#out + 1] = ("%04X"):format(c)
  end
  return "<" .. table.concat(out) .. ">"
end

--- The bytes of a PDF with `title` and `lines` of text.
function pdf.make(title, lines)
  local ops = { "BT", "/F1 20 Tf", "72 770 Td", hex(title) .. " Tj", "/F1 12 Tf", "0 -20 TL" }
  ops[#ops + 1] = "T*"
  for _, l in ipairs(lines or {}) do
    ops[#ops + 1] = "T*"
    ops[#ops + 1] = hex(l) .. " Tj"
  end
  ops[#ops + 1] = "ET"
  local stream = table.concat(ops, "\n")
  local objects = {
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >>"
      .. " /Contents 5 0 R >>",
    "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H"
      .. " /DescendantFonts [6 0 R] >>",
    ("<< /Length %d >>\nstream\n%s\nendstream"):format(#stream, stream),
    "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo"
      .. " << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 7 0 R >>",
    "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880]"
      .. " /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
  }
  local parts, offsets = { "%PDF-1.4\n" }, {}
  local size = #parts[1]
  for i, o in ipairs(objects) do
    offsets[i] = size
    local text = ("%d 0 obj\n%s\nendobj\n"):format(i, o)
    parts[#parts + 1] = text
    size = size + #text
  end
  local xref = { "xref", ("0 %d"):format(#objects + 1), "0000000000 65535 f \n" }
  local body = table.concat(xref, "\n", 1, 2) .. "\n" .. xref[3]
  for _, off in ipairs(offsets) do body = body .. ("%010d 00000 n \n"):format(off) end
  parts[#parts + 1] = body
  parts[#parts + 1] = ("trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"):format(
    #objects + 1, size)
  return table.concat(parts)
end

return pdf
