-- dgj.console_ref: the reference data the console pages show beside their
-- appeals (districts, the category catalogue, departments, the holiday
-- calendar), read through /_api/ and kept per nginx worker for TTL
-- seconds, so that a page of 50 appeals costs one API call, not four; and
-- the working days left before a deadline on that calendar.

local page = require "dgj.page"


local _M = { _VERSION = "0.1.0" }


local ngx = ngx
local os = os
local type = type
local ipairs = ipairs
local tonumber = tonumber
local setmetatable = setmetatable
local math = math
local match = string.match
local sub = string.sub
local byte = string.byte


-- reference data changes rarely (an admin edit); a minute is fresh enough
local TTL = 60

local cache = {}


-- the decoded API reply of path, from the cache or the API; nil on failure
local function get(path)
    local now = ngx.now()
    local c = cache[path]

    if c and c.expires > now then
        return c.data
    end

    local data = page.api(path)
    if data == nil then
        -- an old copy beats none while the API is away
        return c and c.data
    end

    cache[path] = { data = data, expires = now + TTL }

    return data
end


-- shaped lists, built once per reply of the API (weak keys: a new reply,
-- a new list), so that a page does not rebuild them per request
local shaped = setmetatable({}, { __mode = "k" })

local function shape_once(path, build)
    local d = get(path)
    if d == nil then
        return {}
    end

    local s = shaped[d]
    if s == nil then
        s = build(d)
        shaped[d] = s
    end

    return s
end


-- the tables of a list (nil: none), each cut to the named fields
local function pick(list, a, b, c)
    local out = {}

    if type(list) == "table" then
        for _, it in ipairs(list) do
            local o = { [a] = it[a], [b] = it[b] }
            if c then
                o[c] = it[c]
            end
            out[#out + 1] = o
        end
    end

    return out
end


-- The lists' shapes, built once per reply read (shape_once): named
-- functions, not closures made at each call (LuaJIT does not compile the
-- creation of a closure, and these run on every console page).
local function districts_of(d)
    return pick(d.items, "code", "name")
end


local function categories_of(d)
    local out = {}

    if type(d.items) == "table" then
        for _, t in ipairs(d.items) do
            out[#out + 1] = { code = t.code, name = t.name,
                              leaves = pick(t.children, "code", "name") }
        end
    end

    return out
end


local function departments_of(d)
    return pick(d.items, "id", "name", "kind")
end


-- { { code, name } } of the districts, municipal level first
function _M.districts()
    return shape_once("/_api/districts", districts_of)
end


-- { { code, name, leaves = { { code, name } } } } of the catalogue
function _M.categories()
    return shape_once("/_api/categories", categories_of)
end


-- { { id, name, kind } } of the departments
function _M.departments()
    return shape_once("/_api/departments", departments_of)
end


local LISTS = { "/_api/districts", "/_api/categories", "/_api/departments" }


-- the same lists' version: changes when any of them was read anew
function _M.version()
    local v = 0
    for _, path in ipairs(LISTS) do
        local c = cache[path]
        v = v + (c and c.expires or 0)
    end

    return v
end


local function transitions_of(d)
    local out = {}

    if type(d.transitions) == "table" then
        for _, t in ipairs(d.transitions) do
            local from = {}
            if type(t.from) == "table" then
                for _, st in ipairs(t.from) do
                    from[st] = true
                end
            end
            out[t.action] = { action = t.action, title = t.title,
                              from = from,
                              roles = type(t.roles) == "table"
                                      and t.roles or {},
                              scope = t.scope }
        end
    end

    return out
end


-- the state machine table (GET /api/v1/workflow/transitions), by action:
-- { action = { title, from = { state = true }, roles = { ... }, scope } }
function _M.transitions()
    return shape_once("/_api/workflow/transitions", transitions_of)
end


-- noon (local) of "YYYY-MM-DD", so that adding days never crosses a date
local function noon(s)
    local y, m, d = match(s or "", "^(%d%d%d%d)%-(%d%d)%-(%d%d)")
    if y == nil then
        return nil
    end

    return os.time({ year = tonumber(y), month = tonumber(m),
                     day = tonumber(d), hour = 12 })
end


-- the calendar's exceptions of year, by noon: { [t] = "holiday" ... };
-- built once per reply of the API (weak keys: a new reply, a new map)
local by_noon = setmetatable({}, { __mode = "k" })

local function exceptions(year)
    local d = get("/_api/calendar/" .. year)
    if d == nil or type(d.days) ~= "table" then
        return {}
    end

    local m = by_noon[d]
    if m then
        return m
    end

    m = {}
    for _, day in ipairs(d.days) do
        local t = type(day.date) == "string" and noon(day.date)
        if t then
            m[t] = day.kind
        end
    end

    by_noon[d] = m

    return m
end


-- today's Beijing date (UTC+8 all year), formatted once a second
local today_at, today_s = 0, nil

local function beijing_today()
    local now = ngx.time()

    if now ~= today_at then
        today_at = now
        today_s = os.date("!%Y-%m-%d", now + 8 * 3600)
    end

    return today_s
end


-- working days already counted, per worker, for today: day -> n (a new
-- table when the day changes: no key to build per row)
local left_today, left_cache = nil, {}


-- Working days from today to the date of `due_at` ("YYYY-MM-DD ..."):
-- today (Beijing) not counted, the due day counted, as docs/workflow.md
-- counts them.  Negative when the due day has passed: how many working
-- days late.  nil without a deadline.  Counted once per worker and day
-- pair: a page of 50 appeals shares a few due days.
function _M.working_days_left(due_at)
    if type(due_at) ~= "string" then
        return nil
    end

    -- byte checks, not a pattern: LuaJIT compiles them (once per row)
    if #due_at < 10 or byte(due_at, 5) ~= 45 or byte(due_at, 8) ~= 45 then
        return nil
    end

    local day = sub(due_at, 1, 10)

    local today = beijing_today()

    if today ~= left_today then
        left_today, left_cache = today, {}
    end

    local n = left_cache[day]

    if n then
        return n
    end

    local from, to, sign = noon(today), noon(day), 1

    if to < from then
        from, to, sign = to, from, -1
    end

    -- the calendars of the years the count crosses (at most 6)
    local maps = {}
    local y1, y2 = tonumber(sub(today, 1, 4)), tonumber(sub(day, 1, 4))
    if y1 > y2 then
        y1, y2 = y2, y1
    end

    for y = math.max(y1, y2 - 5), y2 do
        maps[#maps + 1] = exceptions(y)
    end

    n = 0

    -- 1 Sunday .. 7 Saturday, then by arithmetic: no os.date per day
    local wday = os.date("*t", from).wday
    local t = from

    while t < to do
        t = t + 86400
        wday = wday % 7 + 1

        local kind
        for i = 1, #maps do
            kind = kind or maps[i][t]
        end

        if kind == "workday"
           or (kind ~= "holiday" and wday ~= 1 and wday ~= 7)
        then
            n = n + 1
        end
    end

    n = n * sign

    -- at most one entry a calendar day: bounded by the dates stored
    left_cache[day] = n

    return n
end


local BADGE_LABELS = { green = "正常", yellow = "黄牌", red = "红牌" }


-- badges made, by warn and then days left (false without): shared by the
-- rows that have the same, never changed after they are made
local badges = {}
local badges_n = 0
local BADGES_MAX = 4096


-- The badge of a deadline: { class, label, text } for warn ("green",
-- "yellow", "red" from the API) and the working days left.  The same
-- table for the same pair: read it, do not change it.
function _M.badge(warn, left)
    if warn == nil or type(warn) ~= "string" then
        return nil
    end

    local by_left = badges[warn]
    local b = by_left and by_left[left or false]

    if b then
        return b
    end

    local text

    if warn == "red" then
        if left ~= nil and left < 0 then
            text = "逾期 " .. (-left) .. " 个工作日"
        else
            text = "已逾期"
        end

    elseif left == nil then
        text = ""

    elseif left <= 0 then
        text = "今日到期"

    else
        text = "剩余 " .. left .. " 个工作日"
    end

    b = { class = warn, label = BADGE_LABELS[warn] or "", text = text }

    if badges_n >= BADGES_MAX then
        badges, badges_n = {}, 0
    end

    by_left = badges[warn]
    if by_left == nil then
        by_left = {}
        badges[warn] = by_left
    end

    by_left[left or false] = b
    badges_n = badges_n + 1

    return b
end


return _M
