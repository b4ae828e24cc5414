-- lua/pages/audit.lua: controller of the auditor's console (location =
-- /audit; nginx lets only the auditor role reach it).  Owns the three
-- views: search (filters, results newest first, keyset pages, the CSV
-- link), live (the latest records and bursts of refusals, kept fresh by
-- html/static/js/audit-live.js) and verify (one button: the chain
-- verifier over a time range).  Reads only through /_api/audit/ and names
-- what it did for the audit log as the API named it (X-Dgj-Action), so
-- reading the log from this page is in the log too.  docs/audit.md.

local page = require "dgj.page"


local ngx = ngx
local os = os
local type = type
local pairs = pairs
local ipairs = ipairs
local tostring = tostring
local tonumber = tonumber
local find = string.find
local match = string.match


local VIEWS = {
    { name = "search", label = "日志检索" },
    { name = "live", label = "实时监测" },
    { name = "verify", label = "完整性校验" },
}

-- what a flag means to the auditor (dgj_audit_flags.c)
local FLAG_LABELS = {
    scanner = "扫描器",
    tool = "脚本工具",
    sqli = "SQL注入",
    xss = "XSS",
    traversal = "路径穿越",
    burst = "连续拒绝",
}

local OUTCOMES = {
    { value = "", label = "全部" },
    { value = "allowed", label = "放行" },
    { value = "denied", label = "拒绝（401/403/429）" },
    { value = "client_error", label = "其他客户端错误（4xx）" },
    { value = "server_error", label = "服务端错误（5xx）" },
}

-- the search filters the page passes on, in the order of the form
local FILTERS = {
    "from", "to", "user_id", "ip", "path", "status", "action", "outcome",
    "auth",
}

-- what a refused query means, by the API's error code
local INPUT_ERRORS = {
    invalid_time = "时间格式不正确，请按“年-月-日 时:分”填写。",
    invalid_range = "开始时间须早于结束时间，且跨度不超过 366 天。",
    range_too_large = "该时间段内的记录过多，请缩短时间段后分段校验。",
}

local PAGE_SIZE = 50

-- longest filter value passed on; the API checks each one again
local MAX_ARG = 256


-- 1 when the comma-separated roles list holds role
local function has_role(roles, role)
    return type(roles) == "string"
           and find("," .. roles .. ",", "," .. role .. ",", 1, true) ~= nil
end


-- the filters of the query string: non-empty strings, bounded
local function filters_of(q)
    local f = {}

    for _, k in ipairs(FILTERS) do
        local v = q[k]
        if type(v) == "string" and v ~= "" and #v <= MAX_ARG then
            f[k] = v
        end
    end

    return f
end


local function copy(t)
    local c = {}
    for k, v in pairs(t) do
        c[k] = v
    end

    return c
end


-- "2026-11-30T21:15:12.345+08:00" -> "2026-11-30 21:15:12.345"
local function show_time(s)
    if type(s) ~= "string" then
        return ""
    end

    local d, t = match(s, "^(%d%d%d%d%-%d%d%-%d%d)T([%d:%.]+)")
    if d == nil then
        return s
    end

    return d .. " " .. t
end


-- the value of a datetime-local input: "2026-11-30T21:15[:05]"
local function input_time(s)
    if type(s) ~= "string" then
        return ""
    end

    local d, t = match(s, "^(%d%d%d%d%-%d%d%-%d%d)[T ](%d%d:%d%d:?%d?%d?)")
    if d then
        return d .. "T" .. t
    end

    d = match(s, "^(%d%d%d%d%-%d%d%-%d%d)$")

    return d and (d .. "T00:00") or s
end


local function text(v)
    if v == nil or type(v) == "userdata" then
        return ""
    end

    return tostring(v)
end


-- one record as the templates show it; every value a plain string
local function shape(r)
    local flags = {}

    if type(r.flags) == "table" then
        for _, name in ipairs(r.flags) do
            if FLAG_LABELS[name] then
                flags[#flags + 1] = { name = name, label = FLAG_LABELS[name] }
            end
        end
    end

    local status = tonumber(r.status) or 0
    local class = "ok"

    if status == 401 or status == 403 or status == 429 then
        class = "denied"

    elseif status >= 500 then
        class = "error"

    elseif status >= 400 then
        class = "client-error"
    end

    return {
        id = text(r.id),
        time = show_time(r.time),
        user = r.user_id ~= nil and type(r.user_id) ~= "userdata"
               and text(r.user_id) or "匿名",
        roles = text(r.roles),
        ip = text(r.ip),
        method = text(r.method),
        path = text(r.path),
        status = text(r.status),
        status_class = class,
        auth = text(r.auth),
        limit = text(r.limit),
        action = text(r.action),
        object = text(r.object),
        ms = text(r.ms),
        ua = text(r.ua),
        chain = text(r.chain),
        seq = text(r.seq),
        flags = flags,
    }
end


local function shape_all(list, newest_first)
    local out = {}

    if type(list) ~= "table" then
        return nil
    end

    local n = #list
    for i = 1, n do
        local r = newest_first and list[n + 1 - i] or list[i]
        if type(r) ~= "table" then
            return nil
        end

        out[i] = shape(r)
    end

    return out
end


-- passes on what the API named for the audit log, or names it here
local function name_action(header, action, object)
    local h = ngx.header

    h["X-Dgj-Action"] = header and header["X-Dgj-Action"] or action
    h["X-Dgj-Object"] = header and header["X-Dgj-Object"] or object
end


-- nil, or the page for an API failure (400: a message on the form)
local function failed(err, status)
    if status == 400 then
        return INPUT_ERRORS[err] or "查询条件格式不正确，请检查后重试。"
    end

    if status == 401 or status == 403 then
        return page.error(403)
    end

    return page.error(503)
end


local function nav(view)
    local items = {}

    for i, v in ipairs(VIEWS) do
        items[i] = { href = "/audit?view=" .. v.name, label = v.label,
                     current = v.name == view }
    end

    return items
end


local function search(q, ctx)
    local f = filters_of(q)
    local args = copy(f)

    args.limit = PAGE_SIZE
    if type(q.cursor) == "string" and #q.cursor <= 64 then
        args.cursor = q.cursor
    end

    local data, err, status, header = page.api("/_api/audit/records",
                                               { args = args })

    name_action(header, "audit.search", nil)

    ctx.filters = f
    ctx.outcomes = OUTCOMES
    ctx.from_value = input_time(f.from or (data and data.from))
    ctx.to_value = input_time(f.to or (data and data.to))
    ctx.export_url = "/api/v1/audit/export?" .. ngx.encode_args(f)

    if data == nil then
        ctx.input_error = failed(err, status)
        ctx.records = {}
        return
    end

    ctx.records = shape_all(data.records, false)
    if ctx.records == nil then
        ngx.log(ngx.ERR, "dgj audit: records: malformed reply")
        return page.error(503)
    end

    ctx.range_from = show_time(data.from)
    ctx.range_to = show_time(data.to)
    ctx.paged = args.cursor ~= nil
    ctx.first_url = "/audit?" .. ngx.encode_args(f)

    if type(data.next_cursor) == "string" then
        local n = copy(f)
        n.cursor = data.next_cursor
        ctx.next_url = "/audit?" .. ngx.encode_args(n)
    end
end


local function live(ctx)
    local data, err, status, header = page.api("/_api/audit/live",
                                               { args = { limit = 100 } })

    name_action(header, "audit.live", nil)

    if data == nil then
        failed(err, status)
        return page.error(503)
    end

    ctx.records = shape_all(data.records, true)
    if ctx.records == nil or type(data.bursts) ~= "table" then
        ngx.log(ngx.ERR, "dgj audit: live: malformed reply")
        return page.error(503)
    end

    local bursts = {}
    for i, b in ipairs(data.bursts) do
        local s = type(b.by_status) == "table" and b.by_status or {}
        bursts[i] = {
            ip = text(b.ip),
            refusals = text(b.refusals),
            s401 = text(s["401"]),
            s403 = text(s["403"]),
            s429 = text(s["429"]),
            first = show_time(b.first),
            last = show_time(b.last),
        }
    end

    ctx.bursts = bursts
    ctx.cursor = text(data.cursor)
    ctx.now = show_time(data.now)
    ctx.scripts = { "/static/js/audit-live.js" }
end


-- the last hour by default: what a drill looks at
local function default_range()
    local now = ngx.time() + 8 * 3600

    return os.date("!%Y-%m-%dT%H:%M", now - 3600),
           os.date("!%Y-%m-%dT%H:%M", now + 60)
end


local function verify(q, ctx)
    local from, to = default_range()

    if type(q.from) == "string" and q.from ~= "" and #q.from <= 40 then
        from = q.from
    end

    if type(q.to) == "string" and q.to ~= "" and #q.to <= 40 then
        to = q.to
    end

    ctx.from_value = input_time(from)
    ctx.to_value = input_time(to)

    if q.run ~= "1" then
        name_action(nil, "audit.console", "verify")
        return
    end

    -- a GET: nginx gives a subrequest its main request's method anyway
    local data, err, status, header = page.api("/_api/audit/verify", {
        args = { from = from, to = to },
    })

    name_action(header, "audit.verify", nil)

    if data == nil then
        ctx.input_error = failed(err, status)
        return
    end

    local chains = {}
    if type(data.chains) == "table" then
        for i, c in ipairs(data.chains) do
            chains[i] = {
                chain = text(c.chain),
                first_seq = text(c.first_seq),
                last_seq = text(c.last_seq),
                lines = text(c.lines),
                anchored = c.anchored == true,
                from_checkpoint = type(c.from_checkpoint) == "number"
                                  and text(c.from_checkpoint) or nil,
            }
        end
    end

    local bad = nil
    if type(data.first_bad) == "table" then
        local b = data.first_bad
        bad = {
            chain = text(b.chain),
            seq = text(b.seq),
            reason = text(b.reason),
            time = show_time(b.time),
            request_id = text(b.request_id),
        }
    end

    ctx.result = {
        ok = data.ok == true,
        records = text(data.records),
        from = show_time(data.from),
        to = show_time(data.to),
        chains = chains,
        bad = bad,
    }
end


local function main()
    -- nginx refused every other role already (dgj_auth_require auditor);
    -- checked again so that a configuration slip shows nothing
    if not has_role(ngx.var.dgj_roles, "auditor") then
        return page.error(403)
    end

    local q = ngx.req.get_uri_args(32)
    local view = q.view

    if view ~= "live" and view ~= "verify" then
        view = "search"
    end

    local ctx = {
        page_title = "审计日志 - 民生大莞家",
        view = view,
        console_nav = nav(view),
        styles = { "/static/css/audit.css" },
        flag_labels = FLAG_LABELS,
    }

    if view == "search" then
        search(q, ctx)

    elseif view == "live" then
        live(ctx)

    else
        verify(q, ctx)
    end

    return page.render("audit.html", ctx)
end


return main()
