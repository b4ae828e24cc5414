-- lua/pages/console/board.lua: the supervision board (督办看板, location
-- ~ ^/console/board; nginx lets supervisor and analyst reach it).  Owns
-- two views: /console/board (warned and overdue open appeals by lead
-- department with the urge and supervise forms, and the department
-- assessment of a period) and /console/board/appeals (the appeals behind
-- one figure).  Reads through /_api/board*; the urge and supervise forms
-- post to /api/v1/appeals/{no}/actions/* from the browser (console.js),
-- shown to supervisors only (analysts read).  docs/console-admin.md.

local page = require "dgj.page"
local console = require "dgj.console"


local ngx = ngx
local type = type
local ipairs = ipairs
local tostring = tostring
local tonumber = tonumber
local match = string.match
local format = string.format
local floor = math.floor


local METRICS = {
    signed = "按时签收率：期内签收",
    signed_late = "超时签收",
    sign_overdue = "至今未签收且已超时",
    replied = "按时办结率：期内答复",
    replied_late = "超时答复",
    handling_overdue = "办理中且已超时",
    returned = "退回",
    received = "期内收到的派单",
    rated = "期内评价",
    dissatisfied = "不满意评价",
}

local WARN_LABELS = { yellow = "黄牌", red = "红牌" }


local function text(v)
    if v == nil or type(v) == "userdata" then
        return ""
    end

    return tostring(v)
end


-- "0.8765" -> "87.7%", null -> "—"
local function pct(v)
    if type(v) ~= "number" then
        return "—"
    end

    return format("%.1f%%", floor(v * 1000 + 0.5) / 10)
end


local function date_arg(v)
    if type(v) == "string" and match(v, "^%d%d%d%d%-%d%d%-%d%d$") then
        return v
    end

    return nil
end


local function inbox_url(dept, overdue)
    return "/console?" .. ngx.encode_args({ box = "supervisor",
                                            department = dept,
                                            overdue = overdue })
end


local function drill_url(dept, metric, from, to)
    return "/console/board/appeals?" .. ngx.encode_args({
        department = dept, metric = metric, from = from, to = to })
end


local function failed(status)
    if status == 401 or status == 403 then
        return page.error(403)
    end

    return page.error(503)
end


-- one figure cell: the shown value and the link to its appeals
local function fig(value, dept, metric, period)
    return { value = value,
             href = drill_url(dept, metric, period.from, period.to) }
end


local function shape_dept(d, period)
    local id = text(d.department_id)

    return {
        id = id,
        name = text(d.department_name),
        sign_rate = fig(pct(d.sign_rate), id, "signed_late", period),
        signed = fig(text(d.signed), id, "signed", period),
        sign_overdue = fig(text(d.sign_overdue), id, "sign_overdue", period),
        completion_rate = fig(pct(d.completion_rate), id, "replied_late",
                              period),
        replied = fig(text(d.replied), id, "replied", period),
        handling_overdue = fig(text(d.handling_overdue), id,
                               "handling_overdue", period),
        handling_days = fig(type(d.handling_days) == "number"
                            and format("%.2f", d.handling_days) or "—",
                            id, "replied", period),
        return_rate = fig(pct(d.return_rate), id, "returned", period),
        returned = fig(text(d.returned), id, "returned", period),
        received = fig(text(d.received), id, "received", period),
        satisfaction = fig(pct(d.satisfaction), id, "dissatisfied", period),
        rated = fig(text(d.rated), id, "rated", period),
    }
end


local function shape_item(a)
    return {
        tracking_no = text(a.tracking_no),
        href = "/console/appeals/" .. text(a.tracking_no),
        title = text(a.title),
        state_title = text(a.state_title),
        department_id = text(a.department_id),
        department_name = a.department_name ~= nil
                          and type(a.department_name) ~= "userdata"
                          and text(a.department_name) or "受理中心（未派单）",
        due_at = text(a.due_at),
        warn = a.warn == "red" and "red" or "yellow",
        warn_label = WARN_LABELS[a.warn] or "黄牌",
        urge_count = tonumber(a.urge_count) or 0,
        supervised = a.supervised == 1 or a.supervised == true,
        version = text(a.version),
        priority = text(a.priority),
    }
end


local function board(q, ctx, roles)
    local period_args = { from = date_arg(q.from), to = date_arg(q.to) }

    local res = page.api_multi({
        { "/_api/board", nil },
        { "/_api/board/assessment", { args = period_args } },
    })

    local b, a = res[1], res[2]

    if b.data == nil then
        return failed(b.status)
    end

    -- the board stands without the assessment (a slow or refused period)
    if a.data == nil and (a.status == 401 or a.status == 403) then
        return failed(a.status)
    end

    -- warned and overdue, grouped by department in the API's order
    local groups, by_id = {}, {}
    local total_yellow, total_red = 0, 0

    for _, d in ipairs(type(b.data.departments) == "table"
                       and b.data.departments or {}) do
        local id = text(d.department_id)
        local g = {
            id = id,
            name = d.department_name ~= nil
                   and type(d.department_name) ~= "userdata"
                   and text(d.department_name) or "受理中心（未派单）",
            yellow = tonumber(d.yellow) or 0,
            red = tonumber(d.red) or 0,
            items = {},
        }

        if id ~= "" then
            g.warned_url = inbox_url(id, "warned")
            g.overdue_url = inbox_url(id, "true")
        end

        total_yellow = total_yellow + g.yellow
        total_red = total_red + g.red
        groups[#groups + 1] = g
        by_id[id] = g
    end

    local shown = 0
    for _, item in ipairs(type(b.data.items) == "table"
                          and b.data.items or {}) do
        local s = shape_item(item)
        local g = by_id[s.department_id]
        if g then
            g.items[#g.items + 1] = s
            shown = shown + 1
        end
    end

    ctx.groups = groups
    ctx.total_yellow = total_yellow
    ctx.total_red = total_red
    ctx.shown = shown
    ctx.limit = text(b.data.limit)
    ctx.now = text(b.data.now)
    ctx.can_act = console.has_role(roles, "supervisor")

    if a.data == nil then
        ctx.period_error = a.status == 400
            and "统计时段不正确：开始日期不能晚于结束日期，且时段不超过 92 天。"
            or "考核统计暂时无法完成，请稍后刷新或缩短统计时段。"
        ctx.from = period_args.from or ""
        ctx.to = period_args.to or ""
        ctx.depts = {}
        return
    end

    local period = { from = text(a.data.from), to = text(a.data.to) }
    local depts = {}

    for i, d in ipairs(type(a.data.departments) == "table"
                       and a.data.departments or {}) do
        depts[i] = shape_dept(d, period)
    end

    ctx.from = period.from
    ctx.to = period.to
    ctx.depts = depts
end


local function drill(q, ctx)
    local metric = q.metric
    if type(metric) ~= "string" or METRICS[metric] == nil then
        return page.error(404)
    end

    local dept = tonumber(q.department)
    if dept == nil or dept < 1 or dept ~= floor(dept) then
        return page.error(404)
    end

    local data, err, status = page.api("/_api/board/appeals", {
        args = { department = dept, metric = metric,
                 from = date_arg(q.from), to = date_arg(q.to) },
    })

    if data == nil then
        if status == 400 then
            return page.error(400)
        end

        return failed(status)
    end

    local items = {}
    for i, a in ipairs(type(data.items) == "table" and data.items or {}) do
        items[i] = {
            tracking_no = text(a.tracking_no),
            href = "/console/appeals/" .. text(a.tracking_no),
            title = text(a.title),
            state_title = text(a.state_title),
            department_name = text(a.department_name),
            at = text(a.at),
            due_at = text(a.due_at),
        }
    end

    ctx.metric_label = METRICS[metric]
    ctx.items = items
    ctx.count = text(data.count)
    ctx.limit = text(data.limit)
    ctx.from = text(data.from)
    ctx.to = text(data.to)
    ctx.back_url = "/console/board?" .. ngx.encode_args({
        from = data.from, to = data.to })
    ctx.err = err
end


local function main()
    local roles = console.roles()

    -- nginx refused every other role already; checked again so that a
    -- configuration slip shows nothing
    if not console.has_any(roles, { "supervisor", "analyst" }) then
        return page.error(403)
    end

    local q = ngx.req.get_uri_args(16)
    local ctx = {
        page_title = "督办看板 - 民生大莞家",
        console_nav = console.nav("board", roles),
        styles = { "/static/css/console-admin.css" },
        scripts = { "/static/js/console.js", "/static/js/console-admin.js" },
    }

    if ngx.var.uri == "/console/board/appeals" then
        drill(q, ctx)
        ctx.page_title = "考核明细 - 民生大莞家"
        return page.render("console/board_appeals.html", ctx)
    end

    board(q, ctx, roles)

    return page.render("console/board.html", ctx)
end


return main()
