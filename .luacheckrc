-- luacheck configuration: plugins and host libraries are Lua 5.4 modules that
-- set no globals; specs run under busted.
std = "lua54"
max_line_length = 100
files["**/spec/**/*_spec.lua"] = { std = "+busted" }
files["tests/spec/**/*.lua"] = { std = "+busted", read_globals = { "PARKHOST_BIN" } }
-- wrk scripts set wrk's hooks as globals.
files["bench/pipeline.lua"] = { globals = { "init", "request" }, read_globals = { "wrk" } }
files["bench/post.lua"] = { globals = { "wrk" } }
files["bench/survey_post.lua"] = {
  globals = { "wrk", "setup", "init", "request", "response", "done",
              "cookie", "csrf", "n", "ok", "other", "id", "think", "receipts", "delay",
              "run" },
}
files["lualib/park/testing.lua"] = { read_globals = { "PARKHOST_BIN" } }
-- tests/fixtures/broken holds plugins that must fail to parse.
exclude_files = { "build*/**", "tests/fixtures/broken/syntax_error/**" }
