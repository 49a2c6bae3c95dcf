/* park.calendar: working days by the park's calendar, for deadlines counted
 * the way the rules count them (letters answered within N working days). */
#include "calendar/calendar.h"
#include "park/park.h"

static int64_t cal__date(lua_State *L, int idx)
{
    const char *s = luaL_checkstring(L, idx);
    int64_t day;
    if (calendar_parse(s, &day))
        luaL_argerror(L, idx, lua_pushfstring(L, "'%s' is not a date YYYY-MM-DD", s));
    return day;
}

static int cal__failed(lua_State *L)
{
    lua_pushnil(L);
    lua_pushliteral(L, "the calendar cannot be read");
    lua_pushliteral(L, "ERROR");
    return 3;
}

/* park.calendar.is_working_day("2026-10-01") -> false */
static int l_cal_is_working(lua_State *L)
{
    bool w;
    if (calendar_is_working(park__store(L, lua_plugin_of(L), "park.calendar"), cal__date(L, 1), &w))
        return cal__failed(L);
    lua_pushboolean(L, w);
    return 1;
}

/* park.calendar.add_working_days("2026-09-30", 5) -> "2026-10-12" */
static int l_cal_add(lua_State *L)
{
    int64_t day = cal__date(L, 1), out;
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_argcheck(L, n >= -3660 && n <= 3660, 2, "at most 3660 working days");
    if (calendar_add_working(park__store(L, lua_plugin_of(L), "park.calendar"), day, n, &out))
        return cal__failed(L);
    char s[CALENDAR_DATE_MAX];
    calendar_format(out, s);
    lua_pushstring(L, s);
    return 1;
}

/* park.calendar.working_days_between(a, b): working days after a, up to b. */
static int l_cal_between(lua_State *L)
{
    int64_t a = cal__date(L, 1), b = cal__date(L, 2), n;
    int rc = calendar_working_between(park__store(L, lua_plugin_of(L), "park.calendar"), a, b, &n);
    if (rc == PH_EINVAL) return luaL_error(L, "park.calendar: the dates are over 100 years apart");
    if (rc) return cal__failed(L);
    lua_pushinteger(L, n);
    return 1;
}

void park_open_calendar(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"is_working_day", l_cal_is_working},
        {"add_working_days", l_cal_add},
        {"working_days_between", l_cal_between},
        {NULL, NULL},
    };
    lua_newtable(L);
    luaL_setfuncs(L, fns, 0);
    lua_setfield(L, -2, "calendar");
}
