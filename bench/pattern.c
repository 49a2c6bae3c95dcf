/* pattern: the host's pattern functions (core/lua/pattern.c, with their
 * step budget) against stock Lua's, side by side, on what plugins run on
 * every page: the template engine's {{ }} substitution, trims, words,
 * stripping tags, escaping, Chinese text. One line per case: the time of
 * one call with each, and mine / stock (below 1: faster than stock).
 *
 *   bench_pattern [SECONDS_PER_CASE]   (default 0.3; the whole run < 10 s)
 *
 * Each case runs both versions in 25 alternating rounds and keeps the best
 * round of each, so a noisy machine shows in neither. Results are checked
 * equal first. The bill function counts, as the sandbox's does. Like the
 * unit test, it opens the matcher through lua/internal.h.
 */
#include "lua/internal.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t billed;

static bool bench_bill(lua_State *L, uint64_t units)
{
    (void)L;
    billed += units;
    return true;
}

static int l_now(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
    return 1;
}

static const char BENCH[] =
    "local per_case = ...\n"
    "local stock, mine = string, mine\n"
    /* A 20 KB page of the kind the template engine renders. */
    "local rows = {}\n"
    "for i = 1, 120 do\n"
    "  rows[i] = ('<li class=\"item\"><a href=\"{{ base }}/tzgg/%d\">{{title}}</a>'\n"
    "    .. ' <span class=\"date\">{{  date  }}</span> &amp; more text here</li>\\n'):format(i)\n"
    "end\n"
    "local page = ('<html><head><title>{{ site }}</title></head><body><ul>\\n'\n"
    "  .. table.concat(rows) .. '</ul></body></html>\\n')\n"
    "local vars = {base = '/gxcy', title = 'Notice', date = '2026-11-28', site = 'Park'}\n"
    "local words = ('The park service center publishes notices, policy files and the '\n"
    "  .. 'answers of each unit; residents_reply in 3 working days. '):rep(180)\n"
    "local han = ('高新区政务公开网站：关于2026年度高新技术企业认定工作的通知。'):rep(200)\n"
    "local trims = {}\n"
    "for i = 1, 200 do\n"
    "  trims[i] = (' '):rep(i % 3) .. ('field value %d'):format(i):rep(i % 4 + 1) ..\n"
    "    ('\\t '):rep(i % 2)\n"
    "end\n"
    "local cases = {\n"
    "  {'template {{%s*(.-)%s*}} gsub, 20 KB', function(S)\n"
    "    return S.gsub(page, '{{%s*(.-)%s*}}', vars) end},\n"
    "  {'trim ^%s*(.-)%s*$, 200 strings', function(S)\n"
    "    local n = 0\n"
    "    for i = 1, #trims do n = n + #S.match(trims[i], '^%s*(.-)%s*$') end\n"
    "    return n end},\n"
    "  {'words [%w_]+ gmatch, 20 KB', function(S)\n"
    "    local n = 0 for w in S.gmatch(words, '[%w_]+') do n = n + 1 end return n end},\n"
    "  {'tags <[^>]*> gsub, 20 KB', function(S) return S.gsub(page, '<[^>]*>', '') end},\n"
    "  {'escape [<>&\"] gsub table, 20 KB', function(S)\n"
    "    return S.gsub(page, '[<>&\"]', {['<'] = '&lt;', ['>'] = '&gt;', ['&'] = '&amp;',\n"
    "                                     ['\"'] = '&quot;'}) end},\n"
    "  {'han [\\\\228-\\\\233][\\\\128-\\\\191]x2 gmatch, 17 KB', function(S)\n"
    "    local n = 0\n"
    "    for _ in S.gmatch(han, '[\\228-\\233][\\128-\\191][\\128-\\191]') do n = n + 1 end\n"
    "    return n end},\n"
    "  {'han [\\\\228-\\\\233][\\\\128-\\\\191]x2 gsub, 17 KB', function(S)\n"
    "    return S.gsub(han, '[\\228-\\233][\\128-\\191][\\128-\\191]', '*') end},\n"
    "  {'date (%d+)-(%d+)-(%d+) match', function(S)\n"
    "    return S.match('published 2026-11-28 by center', '(%d+)-(%d+)-(%d+)') end},\n"
    "  {'email ^[%w.%-_]+@[%w.%-]+%.%a+$', function(S)\n"
    "    return S.find('li.ming-2026@gxq.example.gov.cn', '^[%w.%-_]+@[%w.%-]+%.%a+$') end},\n"
    "  {'find plain, 20 KB', function(S) return S.find(page, '</body>', 1, true) end},\n"
    "  {'split ([^,]*) gmatch', function(S)\n"
    "    local n = 0 for f in S.gmatch('a,bb,,ccc,dddd,e,ff,ggg', '([^,]*)') do n = n + #f end\n"
    "    return n end},\n"
    "  {'gsub %s+ to one space, 20 KB', function(S) return S.gsub(words, '%s+', ' ') end},\n"
    /* Short subjects, where the cost of a call is what counts. */
    "  {'short: find plain', function(S) return S.find('text/html; charset=utf-8', ';') end},\n"
    "  {'short: key=value ^([%w_]+)=(.*)$', function(S)\n"
    "    return S.match('page_size=20', '^([%w_]+)=(.*)$') end},\n"
    "  {'short: route ^/([^/]+)/?(.*)$', function(S)\n"
    "    return S.match('/tzgg/2026/notice-17', '^/([^/]+)/?(.*)$') end},\n"
    "  {'short: number ^%-?%d+$', function(S) return S.find('-12345', '^%-?%d+$') end},\n"
    "  {'short: escape magic characters', function(S)\n"
    "    return S.gsub('a.b*c(d)', '[%^%$%(%)%%%.%[%]%*%+%-%?]', '%%%0') end},\n"
    "  {'short: gsub & to &amp;', function(S) return S.gsub('R&D & more', '&', '&amp;') end},\n"
    "  {'short: suffix %.(%w+)$', function(S) return S.match('report-2026.final.pdf', '%.(%w+)$') "
    "end},\n"
    "  {'short: gmatch %S+ words', function(S)\n"
    "    local n = 0 for w in S.gmatch('one two three four', '%S+') do n = n + #w end\n"
    "    return n end},\n"
    "}\n"
    "local function time(f, S, reps)\n"
    "  local t0 = now()\n"
    "  for _ = 1, reps do f(S) end\n"
    "  return (now() - t0) / reps\n"
    "end\n"
    "local worst, t_all = 0, now()\n"
    "print(('%-44s %12s %12s %7s'):format('case', 'stock', 'mine', 'ratio'))\n"
    "for _, c in ipairs(cases) do\n"
    "  local name, f = c[1], c[2]\n"
    "  local a, b = table.pack(f(stock)), table.pack(f(mine))\n"
    "  for i = 1, math.max(a.n, b.n) do\n"
    "    assert(a[i] == b[i], name .. ': results differ')\n"
    "  end\n"
    "  local reps, t = 1, 0\n"
    "  repeat reps = reps * 2 t = time(f, stock, reps) * reps until t > per_case / 100\n"
    "  local bs, bm = math.huge, math.huge\n"
    "  for _ = 1, 25 do\n"
    "    bs = math.min(bs, time(f, stock, reps))\n"
    "    bm = math.min(bm, time(f, mine, reps))\n"
    "  end\n"
    "  local r = bm / bs\n"
    "  if r > worst then worst = r end\n"
    "  local function us(x) return ('%10.2fus'):format(x * 1e6) end\n"
    "  print(('%-44s %12s %12s %7.2f'):format(name, us(bs), us(bm), r))\n"
    "end\n"
    "print(('worst ratio %.2f, %.1f s'):format(worst, now() - t_all))\n";

int main(int argc, char **argv)
{
    double per_case = argc > 1 ? atof(argv[1]) : 0.3;
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lua_register(L, "now", l_now);
    /* mine: a copy of the string table with the host's four functions. */
    lua_getglobal(L, "string");
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, -3)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_settable(L, -4);
    }
    lua__pattern_open(L, -1, bench_bill);
    lua_setglobal(L, "mine");
    lua_pop(L, 1);
    if (luaL_loadbuffer(L, BENCH, sizeof BENCH - 1, "=bench_pattern") != LUA_OK) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        return 1;
    }
    lua_pushnumber(L, per_case);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        return 1;
    }
    printf("billed %llu units\n", (unsigned long long)billed);
    lua_close(L);
    return 0;
}
