/* Unit tests of core/lua/pattern.c: the host's string.find, string.match,
 * string.gmatch and string.gsub against the stock ones of the Lua they are
 * linked with, on generated cases (every pattern feature, malformed
 * patterns, odd init and replacement arguments) and on hand-written ones;
 * and the step budget stopping a pattern that backtracks without end.
 *
 * The state is a plain luaL_newstate with the standard libraries: `stock`
 * is its string table, `mine` a copy with the four functions replaced. The
 * comparisons run in Lua (PATTERN_COMMON below), called through a local
 * named f, so that even "bad argument #1 to 'f'" reads the same for both;
 * every error message is compared whole. A generated case that would
 * backtrack too long for a unit test is seen by the budget on our side and
 * skipped (counted in the report). PATTERN_SEED and PATTERN_ROUNDS change
 * the generated run:
 *
 *   PATTERN_SEED=7 PATTERN_ROUNDS=40000 build/tests/unit/test_unit pattern_differential
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/internal.h"
#include "unit.h"

/* The bill function: counts units, refuses past bill_limit. */
static uint64_t bill_units, bill_limit = UINT64_MAX;

static bool bill(lua_State *L, uint64_t units)
{
    (void)L;
    bill_units += units;
    return bill_units <= bill_limit;
}

/* budget(n): refuse bills past n more units; budget(): refuse none. */
static int l_budget(lua_State *L)
{
    bill_limit =
        lua_isnoneornil(L, 1) ? UINT64_MAX : bill_units + (uint64_t)luaL_checkinteger(L, 1);
    return 0;
}

static lua_State *pattern_state(void)
{
    lua_State *L = luaL_newstate();
    CHECK(L != NULL);
    luaL_openlibs(L);
    lua_getglobal(L, "string");
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, -3)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_settable(L, -4);
    }
    lua__pattern_open(L, -1, bill);
    lua_setglobal(L, "mine");
    lua_setglobal(L, "stock");
    lua_register(L, "budget", l_budget);
    bill_units = 0;
    bill_limit = UINT64_MAX;
    return L;
}

/* The comparison, shared by the generated and the hand-written cases:
 * `check(name, args)` runs stock[name] and mine[name] on the packed args
 * and records a difference in results, error-ness or error message. A
 * gsub replacement given as {fn = k} is made a function per side that
 * logs its arguments (compared too) and answers per k; gmatch runs its
 * iterator to the end (at most 60 rounds). */
static const char PATTERN_COMMON[] =
    "local stock, mine = stock, mine\n"
    "local pack, unpack, fmt = table.pack, table.unpack, string.format\n"
    "local diffs, ncases, errors, skipped = {}, 0, {}, 0\n"
    "local function show(v)\n"
    "  if type(v) == 'string' then return fmt('%q', v):gsub('\\\\\\n', '\\\\n') end\n"
    "  if type(v) == 'table' then\n"
    "    if v.fn then return '<fn ' .. v.fn .. '>' end\n"
    "    local t = {} for k, x in pairs(v) do t[#t + 1] = tostring(k) .. '=' .. show(x) end\n"
    "    return '{' .. table.concat(t, ',') .. '}'\n"
    "  end\n"
    "  return tostring(v) .. (math.type(v) == 'float' and 'f' or '')\n"
    "end\n"
    "local function showp(t)\n"
    "  local o = {} for i = 1, t.n do o[i] = show(t[i]) end return table.concat(o, ', ')\n"
    "end\n"
    "local function same(a, b)\n"
    "  if type(a) ~= type(b) or math.type(a) ~= math.type(b) then return false end\n"
    "  if type(a) ~= 'table' then return a == b end\n"
    "  if a.n ~= b.n or #a ~= #b then return false end\n"
    "  for i = 1, math.max(a.n or 0, #a) do if not same(a[i], b[i]) then return false end end\n"
    "  return true\n"
    "end\n"
    "local function replacer(k, log)\n"
    "  return function(...)\n"
    "    local a = pack(...) log[#log + 1] = a\n"
    "    if k == 1 then return (...) end\n"
    "    if k == 2 then return false end\n"
    "    if k == 3 then return nil end\n"
    "    if k == 4 then return a.n * 10 + 0.5 end\n"
    "    if k == 5 then return #log % 3 == 0 and {} or '<' .. tostring(a[a.n]) .. '>' end\n"
    "    if k == 6 then return #log end\n"
    "    return '[' .. table.concat((function() local t = {} for i = 1, a.n do\n"
    "      t[i] = tostring(a[i]) end return t end)(), '|') .. ']'\n"
    "  end\n"
    "end\n"
    "local function run(lib, name, args)\n"
    "  local f = lib[name]\n"
    "  local log = {}\n"
    "  if name == 'gsub' and type(args[3]) == 'table' and args[3].fn then\n"
    "    args = pack(unpack(args, 1, args.n)) args[3] = replacer(args[3].fn, log)\n"
    "  end\n"
    "  if name == 'gmatch' then\n"
    "    return pack(pcall(function()\n"
    "      local it = f(unpack(args, 1, args.n))\n"
    "      local out = {}\n"
    "      for _ = 1, 60 do\n"
    "        local r = pack(it()) out[#out + 1] = r\n"
    "        if r[1] == nil then break end\n"
    "      end\n"
    "      return out\n"
    "    end)), log\n"
    "  end\n"
    "  return pack(pcall(function() local r = pack(f(unpack(args, 1, args.n))) return r end)), "
    "log\n"
    "end\n"
    "local function check(name, args)\n"
    /* Mine first, within a budget: a case that backtracks too long for
     * a unit test is skipped (stock has no budget). */
    "  budget(250000)\n"
    "  local b, lb = run(mine, name, args)\n"
    "  budget()\n"
    "  if not b[1] and tostring(b[2]):find('instruction budget exceeded', 1, true) then\n"
    "    skipped = skipped + 1\n"
    "    return\n"
    "  end\n"
    "  ncases = ncases + 1\n"
    "  local a, la = run(stock, name, args)\n"
    "  if not a[1] then\n"
    "    local m = tostring(a[2]):gsub('#%d', '#n'):gsub(' %(.*', '')\n"
    "    errors[m] = (errors[m] or 0) + 1\n"
    "  end\n"
    "  if not same(a, b) or not same(la, lb) then\n"
    "    local function res(r, log)\n"
    "      local s = tostring(r[1]) .. ' '\n"
    "      if r[1] and name == 'gmatch' then\n"
    "        local o = {} for i, x in ipairs(r[2]) do o[i] = '(' .. showp(x) .. ')' end\n"
    "        s = s .. table.concat(o, ' ')\n"
    "      elseif r[1] then s = s .. showp(r[2]) else s = s .. show(r[2]) end\n"
    "      if #log > 0 then\n"
    "        local o = {} for i, x in ipairs(log) do o[i] = '(' .. showp(x) .. ')' end\n"
    "        s = s .. ' calls ' .. table.concat(o, ' ')\n"
    "      end\n"
    "      return s\n"
    "    end\n"
    "    diffs[#diffs + 1] = fmt('%s(%s):\\n  stock: %s\\n  mine:  %s', name, showp(args),\n"
    "                            res(a, la), res(b, lb))\n"
    "  end\n"
    "end\n"
    "local function report(min)\n"
    "  if #diffs > 0 then\n"
    "    return #diffs .. ' of ' .. ncases .. ' cases differ:\\n' ..\n"
    "      table.concat(diffs, '\\n', 1, math.min(#diffs, 12))\n"
    "  end\n"
    "  if ncases < min then return 'only ' .. ncases .. ' cases' end\n"
    "  local t, nerr = {}, 0\n"
    "  for m, n in pairs(errors) do t[#t + 1] = fmt('  %6d  %s', n, m) nerr = nerr + n end\n"
    "  table.sort(t)\n"
    "  io.stdout:write(ncases, ' cases, no difference (', skipped, ' skipped); ', nerr,\n"
    "                  ' raised:\\n',\n"
    "                  table.concat(t, '\\n'), '\\n')\n"
    "end\n";

/* Run PATTERN_COMMON then chunk with the given arguments (strings or integers, "s" or "i" in
 * sig); it returns nil on success or a message, which fails the test. */
static void run_lua(lua_State *L, const char *chunk, const char *name, const char *sig, ...)
{
    lua_pushstring(L, PATTERN_COMMON);
    lua_pushstring(L, chunk);
    lua_concat(L, 2);
    size_t len;
    const char *code = lua_tolstring(L, -1, &len);
    if (luaL_loadbuffer(L, code, len, name) != LUA_OK)
        u_fail(__FILE__, __LINE__, "%s", lua_tostring(L, -1));
    lua_remove(L, -2);
    va_list ap;
    va_start(ap, sig);
    int n = 0;
    for (const char *c = sig; *c; c++, n++) {
        if (*c == 's')
            lua_pushstring(L, va_arg(ap, const char *));
        else
            lua_pushinteger(L, va_arg(ap, long long));
    }
    va_end(ap);
    if (lua_pcall(L, n, 1, 0) != LUA_OK) u_fail(__FILE__, __LINE__, "%s", lua_tostring(L, -1));
    if (!lua_isnil(L, -1)) u_fail(__FILE__, __LINE__, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
}

/* Generated cases: small alphabets, patterns built from every kind of item
 * (and from raw special characters, for malformed ones), odd init values,
 * every kind of replacement. Deep and long patterns for "pattern too
 * complex" and "too many captures". */
static const char PATTERN_DIFF[] =
    "local seed, rounds = ...\n"
    "math.randomseed(seed)\n"
    "local R = math.random\n"
    "local function pick(t) return t[R(#t)] end\n"
    "local alphabets = {'ab', 'abc', 'aab ', 'a.b%', '()[]', 'xy\\0z', 'aA1 _', '{}<>/=',\n"
    "  '\\228\\184\\173\\233\\128\\160a', 'a\\n\\t b', '-+*?^$', 'abAB09.,;', 'ab]^-%'}\n"
    "local function char(al) local k = R(#al) return al:sub(k, k) end\n"
    "local function subject(al, max)\n"
    "  local t = {} for i = 1, R(0, max) do t[i] = char(al) end return table.concat(t)\n"
    "end\n"
    "local classes = {'%a', '%c', '%d', '%g', '%l', '%p', '%s', '%u', '%w', '%x', '%z', '%A',\n"
    "  '%C', '%D', '%G', '%L', '%P', '%S', '%U', '%W', '%X', '%Z', '%%', '%.', '%]', '%-',\n"
    "  '%(', '%$', '%^', '%q', '%[', '%\\0'}\n"
    "local function set(al)\n"
    "  local t = {'['}\n"
    "  if R(3) == 1 then t[#t + 1] = '^' end\n"
    "  if R(8) == 1 then t[#t + 1] = ']' end\n"
    "  for _ = 1, R(0, 4) do\n"
    "    local k = R(5)\n"
    "    if k == 1 then t[#t + 1] = pick(classes)\n"
    "    elseif k == 2 then t[#t + 1] = char(al) .. '-' .. char(al)\n"
    "    elseif k == 3 and R(4) == 1 then t[#t + 1] = pick({'%', '-', ']', '^', '[', '%]'})\n"
    "    else t[#t + 1] = char(al) end\n"
    "  end\n"
    "  if R(10) == 1 then t[#t + 1] = '-' end\n"
    "  if R(25) ~= 1 then t[#t + 1] = ']' end\n"
    "  return table.concat(t)\n"
    "end\n"
    "local function single(al)\n"
    "  local k = R(10)\n"
    "  if k <= 4 then return char(al) end\n"
    "  if k <= 5 then return '.' end\n"
    "  if k <= 7 then return pick(classes) end\n"
    "  return set(al)\n"
    "end\n"
    "local seq\n"
    "local function item(al, depth)\n"
    "  local k = R(100)\n"
    "  if k <= 55 then\n"
    "    local s = single(al)\n"
    "    if R(5) <= 2 then s = s .. pick({'*', '+', '-', '?'}) end\n"
    "    return s\n"
    "  end\n"
    "  if k <= 66 then\n"
    "    if depth > 2 then return char(al) end\n"
    "    return '(' .. seq(al, depth + 1, 3) .. (R(15) == 1 and '' or ')')\n"
    "  end\n"
    "  if k <= 69 then return '()' end\n"
    "  if k <= 74 then return '%' .. R(0, 4) end\n"
    "  if k <= 79 then return '%b' .. char(al) .. (R(10) == 1 and '' or char(al)) end\n"
    "  if k <= 85 then return '%f' .. (R(8) == 1 and single(al) or set(al)) end\n"
    "  if k <= 88 then return '$' end\n"
    "  if k <= 90 then return '^' end\n"
    "  return pick({'(', ')', '%', '[', ']', '^', '$', '*', '+', '-', '?', '.', '%b', '%f'})\n"
    "end\n"
    "function seq(al, depth, max)\n"
    "  local t = {} for i = 1, R(0, max) do t[i] = item(al, depth) end return table.concat(t)\n"
    "end\n"
    "local function pattern(al, max)\n"
    "  if R(30) == 1 then return subject('^$*+?.([%-])ab', 8) end\n"
    "  return (R(5) == 1 and '^' or '') .. seq(al, 0, max) .. (R(6) == 1 and '$' or '')\n"
    "end\n"
    "local function init(s)\n"
    "  local k = R(12)\n"
    "  if k <= 4 then return nil end\n"
    "  if k <= 9 then return R(-#s - 3, #s + 3) end\n"
    "  return pick({0, math.maxinteger, math.mininteger, 2.0, -1.0, '2', 1.5, {}})\n"
    "end\n"
    "local function repl(al, s)\n"
    "  local k = R(10)\n"
    "  if k <= 4 then\n"
    "    local t = {} for i = 1, R(0, 4) do\n"
    "      t[i] = pick({'x', '%0', '%1', '%2', '%3', '%%', '%', '%x', char(al), '-', '%9'})\n"
    "    end\n"
    "    return table.concat(t)\n"
    "  end\n"
    "  if k == 5 then return pick({17, 2.5, -0.0}) end\n"
    "  if k <= 7 then\n"
    "    local t = {}\n"
    "    for _ = 1, R(0, 4) do\n"
    "      t[subject(al, 2)] = pick({'T', 4, false, true, 1.25, {}})\n"
    "    end\n"
    "    t[R(1, 4)] = 'P'\n"
    "    return t\n"
    "  end\n"
    "  if k <= 9 then return {fn = R(1, 7)} end\n"
    "  return pick({nil, true, {}})\n"
    "end\n"
    "for _ = 1, rounds do\n"
    "  local al = pick(alphabets)\n"
    "  local long = R(3) == 1\n"
    "  local s = subject(al, long and 50 or 12)\n"
    "  local p = pattern(al, long and 4 or 6)\n"
    "  if long and R(2) == 1 then p = single(al) .. pick({'', '+', '*', '-'}) .. p end\n"
    "  if R(20) == 1 then s = tonumber(subject('0123456789', 4)) or 7 end\n"
    "  local i = init(tostring(s))\n"
    "  check('find', pack(s, p, i, pick({nil, true, false, 0})))\n"
    "  check('match', pack(s, p, i))\n"
    "  check('gmatch', pack(s, p, i))\n"
    "  local n = R(6) == 1 and pick({0, 1, 2, -1, 1.0, 2.5, math.maxinteger}) or nil\n"
    "  check('gsub', pack(s, p, repl(al, s), n))\n"
    "end\n"
    /* Nesting: just under, at and over the limit of nested calls. */
    "for _ = 1, rounds // 40 do\n"
    "  local s = ('a'):rep(R(150, 260))\n"
    "  local unit = pick({'a?', 'a-', '(a?)', 'a*', '%a?', '[ab]-', 'a?()', '(a-)', '(a)'})\n"
    "  local p = unit:rep(R(80, 230))\n"
    "  check('find', pack(s, p))\n"
    "  check('match', pack(s, p, R(1, 3)))\n"
    "  check('gsub', pack(s, p, '%0'))\n"
    "  check('gmatch', pack(s, p))\n"
    "end\n"
    /* Long subjects over two or three letters: the skipping of starts and
     * of repetition lengths at work. */
    "local tiny = {'ab', 'ab ', 'a\\n', 'xy(', '<a>'}\n"
    "for _ = 1, rounds // 4 do\n"
    "  local al = pick(tiny)\n"
    "  local s = subject(al, 200)\n"
    "  local p = (R(2) == 1 and single(al) .. pick({'', '+'}) or '') .. seq(al, 0, 4)\n"
    "  check('find', pack(s, p, R(-5, 5)))\n"
    "  check('gmatch', pack(s, p))\n"
    "  check('gsub', pack(s, p, repl(al, s)))\n"
    "end\n"
    "return report(rounds * 4)\n";

void test_pattern_differential(void)
{
    lua_State *L = pattern_state();
    const char *env = getenv("PATTERN_SEED");
    long long seed = env ? atoll(env) : 20261128;
    long long rounds = getenv("PATTERN_ROUNDS") ? atoll(getenv("PATTERN_ROUNDS")) : 6000;
    run_lua(L, PATTERN_DIFF, "=pattern_diff", "ii", seed, rounds);
    CHECK(bill_units > 0);
    lua_close(L);
}

/* Hand-written cases: the manual's examples and the corners of the rules,
 * each compared with stock Lua and some also with the answer written out. */
static const char PATTERN_EDGES[] =
    "local function eq(name, args, ...)\n"
    "  check(name, args)\n"
    "  local want = pack(...)\n"
    "  local got = pack(mine[name](unpack(args, 1, args.n)))\n"
    "  if not same(got, want) then\n"
    "    diffs[#diffs + 1] = fmt('%s(%s) = %s, expected %s', name, showp(args), showp(got),\n"
    "                            showp(want))\n"
    "  end\n"
    "end\n"
    "local function err(name, args, msg)\n"
    "  check(name, args)\n"
    "  local f = mine[name]\n"
    "  local ok, e = pcall(function() local r = f(unpack(args, 1, args.n)) return r end)\n"
    "  if ok or not tostring(e):find(msg, 1, true) then\n"
    "    diffs[#diffs + 1] = fmt('%s(%s) raised %s, expected %s', name, showp(args), show(e),\n"
    "                            msg)\n"
    "  end\n"
    "end\n"
    /* The manual's examples. */
    "eq('gsub', pack('hello world', '(%w+)', '%1 %1'), 'hello hello world world', 2)\n"
    "eq('gsub', pack('hello world', '%w+', '%0 %0', 1), 'hello hello world', 1)\n"
    "eq('gsub', pack('hello world from Lua', '(%w+)%s*(%w+)', '%2 %1'),\n"
    "   'world hello Lua from', 2)\n"
    "eq('gsub', pack('$name-$version.tar.gz', '%$(%w+)', {name = 'lua', version = '5.4'}),\n"
    "   'lua-5.4.tar.gz', 2)\n"
    "eq('gsub', pack('abc', '%w', '%1'), 'abc', 3)\n"
    "eq('gsub', pack('abc', '', '-'), '-a-b-c-', 4)\n"
    "eq('gsub', pack('hello world', 'o', {o = false}), 'hello world', 2)\n"
    "eq('gsub', pack('abc', '%w', {a = 1, b = 2.0}), '12.0c', 3)\n"
    "eq('gsub', pack(12345, '4', 'x'), '123x5', 1)\n"
    "eq('gsub', pack(12345, '9', 'x'), '12345', 0)\n"
    "eq('gsub', pack('abc', '()', '%1'), '1a2b3c4', 4)\n"
    "eq('gsub', pack('abc', 'b*', '-'), '-a-c-', 3)\n"
    "eq('gsub', pack('a,b,,c', ',*', '|'), '|a|b|c|', 4)\n"
    "eq('gsub', pack('THE (quick) fox', '%f[%a]%a+', '_'), '_ (_) _', 3)\n"
    "eq('gsub', pack('x = 1, y = 2', '(%w+)%s*=%s*(%w+)', '%2=%1'), '1=x, 2=y', 2)\n"
    "eq('gsub', pack('abc', '^a', 'A'), 'Abc', 1)\n"
    "eq('gsub', pack('aaa', '^a', 'A'), 'Aaa', 1)\n"
    "eq('gsub', pack('abc', 'a', '%%'), '%bc', 1)\n"
    "eq('gsub', pack('abc', '.', 'x', 0), 'abc', 0)\n"
    "eq('gsub', pack('abc', '.', 'x', -1), 'abc', 0)\n"
    "eq('gsub', pack('(a(b)c)', '%b()', 'B'), 'B', 1)\n"
    "eq('gsub', pack('abc', 'x*$', '!'), 'abc!', 1)\n"
    "eq('find', pack('hello', 'l'), 3, 3)\n"
    "eq('find', pack('hello', 'l', 4), 4, 4)\n"
    "eq('find', pack('hello', 'l', -1), nil)\n"
    "eq('find', pack('hello', 'l', -2), 4, 4)\n"
    "eq('find', pack('hello', '', 10), nil)\n"
    "eq('find', pack('hello', '', 6), 6, 5)\n"
    "eq('find', pack('hello', '', -100), 1, 0)\n"
    "eq('find', pack('a.b', '.', 1, true), 2, 2)\n"
    "eq('find', pack('a+b', '+', 1, 1), 2, 2)\n"
    "eq('find', pack('a\\0b', '\\0b'), 2, 3)\n"
    "eq('find', pack('a\\0b', '%z'), 2, 2)\n"
    "eq('find', pack('key = value', '(%w+) = (%w+)'), 1, 11, 'key', 'value')\n"
    "eq('find', pack('abc', '()b()'), 2, 2, 2, 3)\n"
    "eq('find', pack('THE (quick) fox', '%f[%a]%a+', 5), 6, 10)\n"
    "eq('find', pack('abcabc', '(abc)%1'), 1, 6, 'abc')\n"
    "eq('find', pack('x', '[]]'), nil)\n"
    "eq('find', pack(']', '[]]'), 1, 1)\n"
    "eq('find', pack('^', '[^]^]'), nil)\n"
    "eq('find', pack('-', '[a-]'), 1, 1)\n"
    "eq('find', pack('b', '[%a-z]'), 1, 1)\n"
    "eq('find', pack('a$b', 'a$b'), 1, 3)\n"
    /* Sets whose end and elements are read by different rules. */
    "for _, p in ipairs({'[]]', '[^]]', '[]-a]', '[a-%]]', '[a-%%]]', '[%]]', '[a-]', '[-a]',\n"
    "                    '[%a-z]', '[a-%]', '[%', '[^', '[]', '[%w_%-%.]', '[^%s%p]', '[%Z]',\n"
    "                    '[a-cx-z0-2]', '[^a-cx-z0-2%d]', '[z-a]', '[%a%d%s%p%c]', '[%A%D%S%W]',\n"
    "                    '[^%A%D%S%L_]', '[]%A%D%S%W]', '[]%A%D%Sx-z]'}) do\n"
    "  for _, s in ipairs({']', 'a]', '%', '-', 'b', '^', 'z]', '\\0', 'x1 .', ('ab]%-'):rep(9)}) "
    "do\n"
    "    check('find', pack(s, p))\n"
    "    check('gsub', pack(s, p .. '+', '<%0>'))\n"
    "    check('gsub', pack(s, '%f' .. p, '|'))\n"
    "  end\n"
    "end\n"
    "eq('find', pack('a^b', 'a^b'), 1, 3)\n"
    "eq('match', pack('  trim me  ', '^%s*(.-)%s*$'), 'trim me')\n"
    "eq('match', pack('hello', '.-'), '')\n"
    "eq('match', pack('hello', '(h)(e)'), 'h', 'e')\n"
    "eq('match', pack('2024-01-15', '(%d+)-(%d+)-(%d+)'), '2024', '01', '15')\n"
    "eq('match', pack('hello', 'l+', -2), 'l')\n"
    "eq('match', pack('\\228\\184\\173\\230\\150\\135',\n"
    "   '[\\228-\\233][\\128-\\191][\\128-\\191]'), '\\228\\184\\173')\n"
    "eq('match', pack('[[x]]', '%[%[(.-)%]%]'), 'x')\n"
    /* gmatch, and its 5.4 init. */
    "check('gmatch', pack('hello world from Lua', '%a+'))\n"
    "check('gmatch', pack('from=world, to=Lua', '(%w+)=(%w+)'))\n"
    "check('gmatch', pack('abc', ''))\n"
    "check('gmatch', pack('abc', '', 3))\n"
    "check('gmatch', pack('abc', '', 5))\n"
    "check('gmatch', pack('abc', '', -1))\n"
    "check('gmatch', pack('abc', 'b*'))\n"
    "check('gmatch', pack('^a^a', '^a'))\n"
    "check('gmatch', pack('hello world', '%a+', 4))\n"
    "check('gmatch', pack('abc', '()'))\n"
    "check('gmatch', pack('a,b,,c', '([^,]*)'))\n"
    "do\n"
    "  local it = mine.gmatch('ab', '.')\n"
    "  local r = {it(), it(), it(), it()}\n"
    "  if r[1] ~= 'a' or r[2] ~= 'b' or r[3] ~= nil or r[4] ~= nil then\n"
    "    diffs[#diffs + 1] = 'gmatch iterator past its end'\n"
    "  end\n"
    "end\n"
    /* Errors, with the manual's messages. */
    "err('find', pack('a', '%'), \"malformed pattern (ends with '%')\")\n"
    "err('find', pack('a', 'a%'), \"malformed pattern (ends with '%')\")\n"
    "eq('find', pack('b', 'a%'), nil)\n"
    "err('find', pack('a', '[a'), \"malformed pattern (missing ']')\")\n"
    "err('find', pack('a', '[a%]'), \"malformed pattern (missing ']')\")\n"
    "err('find', pack('a', '[]'), \"malformed pattern (missing ']')\")\n"
    "err('find', pack('', '[^'), \"malformed pattern (missing ']')\")\n"
    "err('find', pack('a', '%f'), \"missing '[' after '%f' in pattern\")\n"
    "err('find', pack('a', '%fa'), \"missing '[' after '%f' in pattern\")\n"
    "err('find', pack('a', '%b'), \"malformed pattern (missing arguments to '%b')\")\n"
    "err('find', pack('a', '%ba'), \"malformed pattern (missing arguments to '%b')\")\n"
    "err('find', pack('a', '%1'), 'invalid capture index %1')\n"
    "err('find', pack('a', '(%1)'), 'invalid capture index %1')\n"
    "err('find', pack('a', '%0'), 'invalid capture index %0')\n"
    "eq('find', pack('a', 'a)'), nil)\n"
    "err('match', pack('a', 'a)'), 'invalid pattern capture')\n"
    "err('find', pack('a', '(a'), 'unfinished capture')\n"
    "err('match', pack('a', '(a'), 'unfinished capture')\n"
    "err('find', pack('a', ('()'):rep(33)), 'too many captures')\n"
    "eq('find', pack('a', ('()'):rep(32)), 1, 0, unpack((function() local t = {}\n"
    "   for i = 1, 32 do t[i] = 1 end return t end)()))\n"
    "err('find', pack(('a'):rep(300), ('a?'):rep(200)), 'pattern too complex')\n"
    "eq('find', pack(('a'):rep(300), ('a?'):rep(199)), 1, 199)\n"
    "err('find', pack(('a'):rep(300), ('a?'):rep(200) .. '.'), 'pattern too complex')\n"
    "eq('find', pack(('a'):rep(300), ('a?'):rep(199) .. '.'), 1, 200)\n"
    "err('gsub', pack('a', 'a', '%'), \"invalid use of '%' in replacement string\")\n"
    "err('gsub', pack('a', 'a', '%x'), \"invalid use of '%' in replacement string\")\n"
    "err('gsub', pack('a', 'a', '%2'), 'invalid capture index %2')\n"
    "err('gsub', pack('a', '(a)', '%2'), 'invalid capture index %2')\n"
    "err('gsub', pack('a', 'a', {a = {}}), 'invalid replacement value (a table)')\n"
    "err('gsub', pack('a', 'a', function() return true end),\n"
    "    'invalid replacement value (a boolean)')\n"
    "eq('gsub', pack('a', '(a', 'x'), 'x', 1)\n"
    "err('gsub', pack('a', '(a', '%1'), 'unfinished capture')\n"
    "err('gsub', pack('a', 'a'), \"bad argument #3 to 'f' (string/function/table expected\")\n"
    "err('gsub', pack('a', 'a', nil, 'x'), \"bad argument #4 to 'f'\")\n"
    "err('find', pack(nil, 'a'), \"bad argument #1 to 'f' (string expected, got nil)\")\n"
    "err('find', pack('a', {}), \"bad argument #2 to 'f' (string expected, got table)\")\n"
    "err('find', pack('a', 'a', 1.5), \"bad argument #3 to 'f' (number has no integer\")\n"
    "err('gmatch', pack('a', 'a', {}), \"bad argument #3 to 'f' (number expected, got table)\")\n"
    /* A replacement function that fails, and one that uses patterns itself. */
    "err('gsub', pack('abc', '%w', function() error('boom', 0) end), 'boom')\n"
    "eq('gsub', pack('a b', '%w', function(c) return (mine.gsub(c, '.', '<%0>')) end),\n"
    "   '<a> <b>', 2)\n"
    /* Long subjects, past the tables the matcher builds to skip ahead. */
    "local page = ('<p class=\"x\">Hello {{ name }} and {{user.id}}</p>\\n'):rep(40)\n"
    "check('gsub', pack(page, '{{%s*(.-)%s*}}', {name = 'N'}))\n"
    "check('gsub', pack(page, '<[^>]*>', ''))\n"
    "check('gmatch', pack(page, '[%w_]+'))\n"
    "check('find', pack(page, '%f[%w]%w+%s*}}', 30))\n"
    "check('match', pack(('  x  '):rep(30), '^%s*(.-)%s*$'))\n"
    "check('match', pack(('ab '):rep(30) .. 'c', '^(.-)%s*(c)$'))\n"
    "check('match', pack(('ab '):rep(30) .. 'c', '^(.*)%s+(.-)()$'))\n"
    "check('match', pack(('x'):rep(40) .. 'yy', '(x*)(y)%1'))\n"
    "check('match', pack(('a'):rep(30) .. 'b', '(a-)(a+)b$'))\n"
    "check('match', pack(('ab'):rep(30), '(.-)b%f[%z]'))\n"
    "check('gsub', pack(('a '):rep(40), 'a?%s+', '.'))\n"
    "check('gsub', pack(('ab'):rep(40) .. 'x', '[ab]-x', '.'))\n"
    "check('gsub', pack(('\\228\\184\\173a'):rep(50), '[\\228-\\233][\\128-\\191][\\128-\\191]',\n"
    "      'Z'))\n"
    "return report(500)\n";

void test_pattern_edge_cases(void)
{
    lua_State *L = pattern_state();
    run_lua(L, PATTERN_EDGES, "=pattern_edges", "");
    lua_close(L);
}

/* The pattern that hangs stock Lua stops with the budget's error, after
 * about as many units as allowed, and keeps failing when caught. */
static const char PATTERN_BUDGET[] =
    "local limit = ...\n"
    "local s = ('a'):rep(30000)\n"
    "local ok, e = pcall(mine.find, s, '.-.-.-.-.-.-b')\n"
    "if ok or e ~= 'instruction budget exceeded (pattern)' then\n"
    "  return 'first call: ' .. tostring(ok) .. ' ' .. tostring(e)\n"
    "end\n"
    "for _, f in ipairs({'find', 'match', 'gmatch', 'gsub'}) do\n"
    "  ok, e = pcall(function()\n"
    "    local r = mine[f](s, '.-.-.-.-.-.-b', f == 'gsub' and '' or nil)\n"
    "    if f == 'gmatch' then r() end\n"
    "  end)\n"
    "  if ok or not tostring(e):find('instruction budget exceeded (pattern)', 1, true) then\n"
    "    return f .. ' after the budget: ' .. tostring(ok) .. ' ' .. tostring(e)\n"
    "  end\n"
    "end\n";

void test_pattern_budget(void)
{
    lua_State *L = pattern_state();
    bill_limit = 2000000;
    run_lua(L, PATTERN_BUDGET, "=pattern_budget", "i", (long long)bill_limit);
    /* Five refusals, each at the first bill past the limit: a bill is
     * 1024 steps, or one scan of the 30000-byte subject. */
    CHECK_INT(bill_units, >, bill_limit);
    CHECK_INT(bill_units, <=, bill_limit + 5 * (30000 + 1024) / 4);
    lua_close(L);
}

/* Units billed follow the work: linear work is billed linearly, within a
 * unit per PATTERN_STEPS_PER_BILL steps; small calls carry their steps
 * over instead of losing them. */
static uint64_t billed(lua_State *L, const char *code)
{
    uint64_t before = bill_units;
    if (luaL_dostring(L, code) != LUA_OK) u_fail(__FILE__, __LINE__, "%s", lua_tostring(L, -1));
    return bill_units - before;
}

void test_pattern_billing(void)
{
    lua_State *L = pattern_state();
    CHECK(luaL_dostring(L, "big = ('x'):rep(1000000) .. 'needle'") == LUA_OK);
    /* A plain search of 1 MB: about 1 MB / 4 units. */
    uint64_t u = billed(L, "assert(mine.find(big, 'needle', 1, true) == 1000001)");
    CHECK_INT(u, >=, 1000000 / 4 - 256);
    CHECK_INT(u, <=, 1000010 / 4 + 256);
    /* The same by pattern, and a scan that fails everywhere. */
    u = billed(L, "assert(mine.find(big, 'n%a+') == 1000001)");
    CHECK_INT(u, >=, 1000000 / 4 - 256);
    CHECK_INT(u, <=, 4 * 1000000);
    u = billed(L, "assert(not mine.find(big, '%d'))");
    CHECK_INT(u, >=, 1000000 / 4 - 256);
    CHECK_INT(u, <=, 4 * 1000000);
    /* gsub pays for what it writes. */
    u = billed(L, "assert(#mine.gsub(big, 'x', 'yy') == 2000006)");
    CHECK_INT(u, >=, 2000000 / 4);
    /* A thousand small calls add up. */
    u = billed(L, "for i = 1, 1000 do mine.match('hello world', '(%w+) (%w+)') end");
    CHECK_INT(u, >=, 1000 * 3 / 4);
    /* Quadratic work is billed quadratically. */
    u = billed(L, "assert(not mine.find(('a'):rep(2000), '.-b'))");
    CHECK_INT(u, >=, 2000 * 2000 / 2 / 4);
    lua_close(L);
}
