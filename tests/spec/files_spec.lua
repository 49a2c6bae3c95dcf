-- park.files: a plugin keeps uploaded attachments outside the web root and
-- serves them back, through real uploads and downloads.
local testing = require("park.testing")
local cjson = require("cjson")

local BOUNDARY = "----parkhostFiles7e1c9"

-- A multipart body of files: each { field, filename, content type, bytes }.
local function multipart(files)
  local parts = {}
  for _, f in ipairs(files) do
    parts[#parts + 1] = "--" .. BOUNDARY .. "\r\n"
      .. 'Content-Disposition: form-data; name="' .. f[1] .. '"; filename="' .. f[2] .. '"\r\n'
      .. "Content-Type: " .. f[3] .. "\r\n\r\n" .. f[4] .. "\r\n"
  end
  parts[#parts + 1] = "--" .. BOUNDARY .. "--\r\n"
  return { ["Content-Type"] = "multipart/form-data; boundary=" .. BOUNDARY }, table.concat(parts)
end

local function url_encode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- n bytes of every value, NUL and CR LF included, the same on every run.
local function binary(n)
  local t = {}
  local x = 12345
  for i = 1, n do
    x = (x * 1103515245 + 12345) % 2147483648
    t[i] = string.char(x >> 16 & 255)
  end
  return table.concat(t)
end

local function sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return (out:gsub("%s+$", ""))
end

local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

describe("park.files: a plugin's kept files", function()
  local site, files_dir

  local function upload(path, list)
    local headers, body = multipart(list)
    local res = site:request("POST", path, headers, body)
    assert.are.equal(200, res.status, res.body)
    return cjson.decode(res.body).kept
  end

  local function keep(content, filename)
    return upload("/filekit/up", { { "doc", filename or "a.bin", "application/octet-stream",
                                     content } })[1].id
  end

  setup(function()
    files_dir = os.tmpname()
    os.remove(files_dir)
    files_dir = files_dir .. "/files" -- its parent is missing too: made on demand
    site = testing.start_site({
      plugins = { "tests/fixtures/plugins" },
      bindings = { { column = "/filekit", plugin = "filekit" },
                   { column = "/filekit2", plugin = "filekit2" } },
      args = { "--max-body-bytes", tostring(8 * 1024 * 1024), "--files-dir", files_dir },
    })
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
    os.execute("rm -rf '" .. files_dir:match("^(.*)/files$") .. "'")
  end)

  describe("keep", function()
    it("keeps each upload under a new id, in the plugin's own folder, private", function()
      local kept = upload("/filekit/up", {
        { "a", "one.txt", "text/plain", "first" },
        { "b", "two.txt", "text/plain", "second" },
      })
      assert.are.equal(2, #kept)
      for _, k in ipairs(kept) do
        assert.matches("^[%w_-]+$", k.id)
        assert.are.equal(22, #k.id)
        local path = files_dir .. "/filekit/" .. k.id
        assert.is_true(exists(path), path)
        assert.are.equal("600", sh("stat -c %a '" .. path .. "'"))
      end
      assert.are_not.equal(kept[1].id, kept[2].id)
      assert.are.equal("700", sh("stat -c %a '" .. files_dir .. "/filekit'"))
      assert.are.equal("700", sh("stat -c %a '" .. files_dir .. "'"))
    end)

    it("leaves no temporary upload behind once the request is over", function()
      local kept = upload("/filekit/up", { { "doc", "a.txt", "text/plain", "temporary" } })
      assert.truthy(kept[1].id)
      -- Removed as the request ends, just after its answer has left.
      testing.eventually(function()
        return not exists(kept[1].upload) and sh("ls -A '" .. site.dir .. "/uploads'") == ""
      end, 5, "the upload outlived its request")
      assert.are.equal("temporary", site:request("GET", "/filekit/f/" .. kept[1].id).body)
    end)

    it("keeps from a coroutine of the plugin too, where it cannot wait", function()
      local kept = upload("/filekit/up-co",
        { { "doc", "c.txt", "text/plain", "from a coroutine" } })
      assert.are.equal("from a coroutine", site:request("GET", "/filekit/f/" .. kept[1].id).body)
    end)

    it("refuses what is not an upload of this request with INVALID", function()
      local count = "ls -A '" .. files_dir .. "/filekit' 2>/dev/null | wc -l"
      local before = sh(count)
      local headers, body = multipart({ { "doc", "a.txt", "text/plain", "real" } })
      local res = site:request("POST", "/filekit/forge", headers, body)
      assert.are.equal(200, res.status, res.body)
      local out = cjson.decode(res.body)
      assert.are.same({ "INVALID", "INVALID", "INVALID" }, out.codes)
      assert.matches("not an upload of this request", out.errors[1])
      assert.are.equal(before, sh(count), "something was kept")
    end)
  end)

  it("keeps a plugin's files within plugin-files-mb: keep and put past it get LIMIT", function()
    local small = testing.start_site({ plugins = { "tests/fixtures/plugins" },
      bindings = { { column = "/filekit", plugin = "filekit" } },
      args = { "--plugin-files-mb", "1", "--max-body-bytes", tostring(2 * 1024 * 1024) } })
    finally(function() small:stop() end)
    local headers, body = multipart({ { "doc", "a.bin", "application/octet-stream",
                                        binary(600 * 1024) } })
    local first = cjson.decode(small:request("POST", "/filekit/up", headers, body).body).kept[1]
    assert.truthy(first.id, first.err)
    local second = cjson.decode(small:request("POST", "/filekit/up", headers, body).body).kept[1]
    assert.are.equal("LIMIT", second.code)
    assert.matches("plugin%-files%-mb %(1 MiB%)", second.err)
    local put = small:request("POST", "/filekit/put", { ["Content-Type"] = "text/plain" },
      binary(600 * 1024))
    assert.falsy(cjson.decode(put.body).id, "put past the quota kept a file")
    -- Below it, a small one still fits.
    put = small:request("POST", "/filekit/put", { ["Content-Type"] = "text/plain" }, "small")
    assert.truthy(cjson.decode(put.body).id)
  end)

  describe("read and put", function()
    local function sha(data)
      local f = assert(io.open(files_dir .. "/../sha-in", "wb"))
      f:write(data)
      f:close()
      return sh("sha256sum '" .. files_dir .. "/../sha-in' | cut -d' ' -f1")
    end

    it("reads an upload of this request whole, within a bound", function()
      local content = binary(200000) .. "\0end"
      local headers, body = multipart({ { "doc", "a.pdf", "application/pdf", content } })
      local got = cjson.decode(site:request("POST", "/filekit/read", headers, body).body)
      assert.are.equal(#content, got.len)
      assert.are.equal(sha(content), got.sha)
      got = cjson.decode(site:request("POST", "/filekit/read?max=1000", headers, body).body)
      assert.are.equal("TOOBIG", got.code)
      assert.matches("the file is 200004 bytes, more than the 1000 asked for", got.err)
      got = cjson.decode(site:request("POST", "/filekit/read-forged", headers, body).body)
      assert.are.equal("INVALID", got.code)
    end)

    it("reads a kept file by its id; an unknown id is nil", function()
      local content = binary(5000)
      local id = keep(content)
      local got = cjson.decode(site:request("GET", "/filekit/read/" .. id).body)
      assert.are.equal(sha(content), got.sha)
      got = cjson.decode(site:request("GET", "/filekit/read/" .. ("A"):rep(22)).body)
      assert.is_true(got.missing)
      got = cjson.decode(site:request("GET", "/filekit/read/..%2F..%2Fetc%2Fpasswd").body)
      assert.is_true(got.missing)
    end)

    it("keeps bytes the plugin made, durable and private, from a handler or a job", function()
      local content = binary(40000) .. "\0"
      for _, route in ipairs({ "/filekit/put", "/filekit/put-co" }) do
        local res = site:request("POST", route, { ["Content-Type"] = "application/octet-stream" },
          content)
        local id = cjson.decode(res.body).id
        assert.matches("^[%w_-]+$", id)
        assert.are.equal(22, #id)
        assert.are.equal("600", sh("stat -c %a '" .. files_dir .. "/filekit/" .. id .. "'"))
        local back = site:request("GET", "/filekit/f/" .. id)
        assert.is_true(back.body == content, "the bytes differ")
      end
      local log = site:wait_log_match("filekit made [%w_-]+")
      local id = log:match("filekit made ([%w_-]+)")
      assert.are.equal("made by a job\n", site:request("GET", "/filekit/f/" .. id).body)
    end)
  end)

  describe("send", function()
    it("sends the kept bytes back unchanged, NUL bytes and all", function()
      local content = binary(70000) .. "\0\r\n--" .. BOUNDARY:sub(1, 8) .. "\0"
      local id = keep(content)
      local res = site:request("GET", "/filekit/f/" .. id)
      assert.are.equal(200, res.status)
      assert.are.equal(#content, #res.body)
      assert.is_true(content == res.body, "the bytes differ")
      assert.are.equal(tostring(#content), res.headers["content-length"])
    end)

    it("sends a 3 MiB file whole", function()
      local content = binary(3 * 1024 * 1024 + 7)
      local id = keep(content, "big.pdf")
      local res = site:request("GET", "/filekit/f/" .. id)
      assert.are.equal(200, res.status)
      assert.are.equal(#content, #res.body)
      assert.is_true(content == res.body, "the bytes differ")
    end)

    it("names the download in UTF-8, with an ASCII fallback, and types it by its name", function()
      local id = keep("%PDF-1.4 fake", "x.bin")
      local res = site:request("GET", "/filekit/f/" .. id .. "?name=" .. url_encode("通知.pdf"))
      assert.are.equal(200, res.status)
      assert.are.equal([[attachment; filename="__.pdf"; filename*=UTF-8''%E9%80%9A%E7%9F%A5.pdf]],
        res.headers["content-disposition"])
      assert.are.equal("application/pdf", res.headers["content-type"])
      assert.are.equal("nosniff", res.headers["x-content-type-options"])
      assert.are.equal("13", res.headers["content-length"])
      assert.truthy(res.headers["etag"])
      assert.truthy(res.headers["last-modified"])
      assert.are.equal("private, no-cache", res.headers["cache-control"])
    end)

    it("types by extension only what a browser will not run; opts.type and inline", function()
      local id = keep("<script>alert(1)</script>")
      local function get(q) return site:request("GET", "/filekit/f/" .. id .. q) end
      assert.are.equal("application/octet-stream", get("?name=page.html").headers["content-type"])
      assert.are.equal("application/octet-stream", get("").headers["content-type"])
      assert.are.equal("attachment", get("").headers["content-disposition"])
      assert.are.equal("image/png", get("?name=A.PNG").headers["content-type"])
      local res = get("?name=a%20b%22c.png&inline=1")
      assert.are.equal([[inline; filename="a b_c.png"; filename*=UTF-8''a%20b%22c.png]],
        res.headers["content-disposition"])
      assert.are.equal("text/plain; charset=utf-8",
        get("?type=" .. url_encode("text/plain; charset=utf-8")).headers["content-type"])
    end)

    it("answers 304 to a matching If-None-Match, and HEAD with the headers only", function()
      local id = keep("cached bytes")
      local first = site:request("GET", "/filekit/f/" .. id)
      local etag = first.headers["etag"]
      local again = site:request("GET", "/filekit/f/" .. id, { ["If-None-Match"] = etag })
      assert.are.equal(304, again.status)
      assert.are.equal("", again.body)
      assert.are.equal(etag, again.headers["etag"])
      local other = site:request("GET", "/filekit/f/" .. id, { ["If-None-Match"] = '"nope"' })
      assert.are.equal(200, other.status)
      local head = site:request("HEAD", "/filekit/f/" .. id .. "?name=a.txt")
      assert.are.equal(200, head.status)
      assert.are.equal(tostring(#"cached bytes"), head.headers["content-length"])
      assert.are.equal("text/plain; charset=utf-8", head.headers["content-type"])
      assert.are.equal(etag, head.headers["etag"])
    end)

    it("sends headers set through res along, in place of its own", function()
      local id = keep("abc")
      local res = site:request("GET", "/filekit/cached/" .. id)
      assert.are.equal(200, res.status)
      assert.are.equal("public, max-age=60", res.headers["cache-control"])
      assert.matches("^seen=1", res.headers["set-cookie"])
      assert.are.equal("abc", res.body)
    end)

    it("answers 404 to unknown and malformed ids without leaving the plugin's folder", function()
      local id = keep("mine")
      -- A well-formed id that names a file outside the plugin's folder.
      local outside = "AAAAAAAAAAAAAAAAAAAAAA"
      local f = assert(io.open(files_dir .. "/" .. outside, "w"))
      f:write("outside")
      f:close()
      for _, bad in ipairs({ "BBBBBBBBBBBBBBBBBBBBBB", "..", "%2e%2e", "..%2F" .. outside,
                             "%2E%2E%2Ffilekit%2F" .. id, "..%2F..%2Fetc%2Fpasswd",
                             id .. "A", id:sub(1, 21), id:sub(1, 21) .. ".", "%00" .. id }) do
        local res = site:request("GET", "/filekit/f/" .. bad)
        assert.are.equal(404, res.status, bad)
        assert.is_nil(res.headers["content-disposition"], bad)
        assert.are.same({ info = false },
          cjson.decode(site:request("GET", "/filekit/info/" .. bad).body), bad)
        assert.are.same({ removed = true },
          cjson.decode(site:request("POST", "/filekit/rm/" .. bad).body), bad)
      end
      assert.is_true(exists(files_dir .. "/" .. outside))
      assert.are.equal("mine", site:request("GET", "/filekit/f/" .. id).body)
    end)
  end)

  describe("one answer per request", function()
    local id
    before_each(function() id = keep("only once") end)

    it("ignores what the handler returns after send", function()
      local res = site:request("GET", "/filekit/then-string/" .. id)
      assert.are.equal(200, res.status)
      assert.are.equal("only once", res.body)
    end)

    it("refuses a second send, and finishes req and res", function()
      local twice = site:request("GET", "/filekit/twice/" .. id)
      assert.are.equal("only once", twice.body)
      -- The log cannot name the request any more: it was answered.
      site:wait_log_match("%(route GET /twice/:id%): [^\n]*the request has been answered already")
      local req = site:request("GET", "/filekit/then-req/" .. id)
      assert.are.equal("only once", req.body)
      site:wait_log_match("%(route GET /then%-req/:id%): [^\n]*attempt to use a finished request")
      assert.are.equal(200, site:request("GET", "/filekit/f/" .. id).status)
    end)

    it("lets the handler go on and finish normally after send", function()
      local res = site:request("GET", "/filekit/then-sleep/" .. id)
      assert.are.equal("only once", res.body)
      site:wait_log_match("plugin filekit: after send: 200")
    end)

    it("is refused where the handler cannot wait", function()
      local res = site:request("GET", "/filekit/in-coroutine/" .. id)
      assert.are.equal(500, res.status)
      site:wait_log_match("must be called from the handler itself")
    end)
  end)

  describe("info and remove", function()
    it("tell the size and time, and remove for good (twice is no error)", function()
      local id = keep("twelve bytes")
      local info = cjson.decode(site:request("GET", "/filekit/info/" .. id).body).info
      assert.are.equal(12, info.size)
      assert.is_true(math.abs(info.modified - os.time()) < 60)
      local rm = site:request("POST", "/filekit/rm/" .. id)
      assert.are.same({ removed = true }, cjson.decode(rm.body))
      assert.is_false(exists(files_dir .. "/filekit/" .. id))
      assert.are.equal(404, site:request("GET", "/filekit/f/" .. id).status)
      assert.are.same({ info = false },
        cjson.decode(site:request("GET", "/filekit/info/" .. id).body))
      assert.are.same({ removed = true },
        cjson.decode(site:request("POST", "/filekit/rm/" .. id).body))
    end)
  end)

  describe("another plugin", function()
    it("can neither read nor remove them", function()
      local id = keep("filekit's own")
      assert.are.equal(404, site:request("GET", "/filekit2/f/" .. id).status)
      assert.are.same({ info = false },
        cjson.decode(site:request("GET", "/filekit2/info/" .. id).body))
      for _, name in ipairs({ id, "..%2Ffilekit%2F" .. id }) do
        assert.are.same({ removed = true },
          cjson.decode(site:request("POST", "/filekit2/rm/" .. name).body))
        assert.are.equal(404, site:request("GET", "/filekit2/f/" .. name).status)
      end
      assert.are.equal("filekit's own", site:request("GET", "/filekit/f/" .. id).body)
    end)
  end)

  describe("a crash", function()
    it("keeps what keep returned", function()
      local content = binary(200000)
      local id = keep(content, "kept.pdf")
      site:kill()
      site:restart()
      local res = site:request("GET", "/filekit/f/" .. id .. "?name=kept.pdf")
      assert.are.equal(200, res.status)
      assert.is_true(content == res.body, "the kept file changed across the crash")
    end)
  end)
end)
