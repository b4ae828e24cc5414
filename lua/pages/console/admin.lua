-- lua/pages/console/admin.lua: the system admin's pages (系统管理,
-- location ~ ^/console/admin; nginx lets only sysadmin reach them).  Owns
-- the views: overview, users (search, keyset pages, create with the
-- initial password and TOTP secret shown once, enable/disable, roles and
-- department), departments (create, rename, deactivate), categories (the
-- dispatch catalogue: default department; handling time as a new
-- deadline rule version), rules (every version, a new one from a date),
-- calendar (holidays and swapped working days of a year).  Reads through
-- /_api/; every change is a form that console.js sends to /api/v1/admin/
-- from the browser, so the API's own checks (separation of duties,
-- validation) are the ones the page shows.  docs/console-admin.md.

local page = require "dgj.page"
local console = require "dgj.console"


local ngx = ngx
local os = os
local math = math
local table = table
local type = type
local ipairs = ipairs
local tostring = tostring
local tonumber = tonumber
local match = string.match
local sort = table.sort


local VIEWS = {
    { name = "", label = "概览" },
    { name = "users", label = "用户" },
    { name = "departments", label = "部门" },
    { name = "categories", label = "诉求分类与派单" },
    { name = "rules", label = "办理时限规则" },
    { name = "calendar", label = "节假日日历" },
}

local STAGES = {
    { value = "intake", label = "受理" },
    { value = "sign", label = "签收" },
    { value = "handle", label = "办理" },
    { value = "review", label = "审核" },
    { value = "rating", label = "评价" },
    { value = "rehandle", label = "重办" },
    { value = "assist", label = "协办" },
}

local STAGE_LABEL = {}
for _, s in ipairs(STAGES) do
    STAGE_LABEL[s.value] = s.label
end

local TYPES = {
    { value = "", label = "任意类型" },
    { value = "consultation", label = "咨询" },
    { value = "help", label = "求助" },
    { value = "complaint", label = "投诉" },
    { value = "report", label = "举报" },
    { value = "suggestion", label = "建议" },
    { value = "praise", label = "表扬" },
}

local TYPE_LABEL = {}
for _, t in ipairs(TYPES) do
    TYPE_LABEL[t.value] = t.label
end

local UNIT_LABEL = {
    working_days = "个工作日", hours = "小时", calendar_days = "个自然日",
}

local RULE_STATUS = {
    in_force = "生效中", scheduled = "待生效", superseded = "已被取代",
}

local DEPT_KINDS = {
    { value = "city", label = "市直部门" },
    { value = "town", label = "镇街" },
    { value = "other", label = "其他" },
}

local PAGE_SIZE = 50


local function text(v)
    if v == nil or type(v) == "userdata" then
        return ""
    end

    return tostring(v)
end


local function failed(status)
    if status == 401 or status == 403 then
        return page.error(403)
    end

    if status == 404 then
        return page.error(404)
    end

    return page.error(503)
end


local function nav(view)
    local items = {}

    for i, v in ipairs(VIEWS) do
        items[i] = { href = v.name == "" and "/console/admin"
                            or "/console/admin/" .. v.name,
                     label = v.label, current = v.name == view }
    end

    return items
end


-- the departments as select options, active ones only
local function dept_options(list, selected)
    local out = {}

    for _, d in ipairs(list or {}) do
        if d.active == 1 or d.active == true then
            out[#out + 1] = { value = text(d.id), label = text(d.name),
                              selected = text(d.id) == text(selected) }
        end
    end

    return out
end


local function get(path, args)
    local data, _, status = page.api(path, args and { args = args })
    if data == nil then
        return nil, status
    end

    return data
end


local function overview(ctx)
    local res = page.api_multi({
        { "/_api/overview", nil },
        { "/_api/admin/users", { args = { limit = 1, status = "disabled" } } },
        { "/_api/admin/deadline-rules", nil },
    })

    if res[1].data == nil then
        return failed(res[1].status)
    end

    local o = res[1].data
    ctx.departments = text(o.departments)
    ctx.categories = type(o.categories) == "table"
                     and text(o.categories.leaves) or ""

    local years = {}
    for i, y in ipairs(type(o.calendar) == "table" and o.calendar or {}) do
        years[i] = { year = text(y.year), provisional = y.provisional == true }
    end

    ctx.years = years

    local scheduled = 0
    local rules = res[3].data
    for _, r in ipairs(rules and rules.items or {}) do
        if r.status == "scheduled" then
            scheduled = scheduled + 1
        end
    end

    ctx.scheduled = scheduled
    ctx.today = rules and text(rules.today) or ""
end


local function users(q, ctx)
    local args = { limit = PAGE_SIZE, kind = "staff" }

    if type(q.q) == "string" and q.q ~= "" and #q.q <= 64 then
        args.q = q.q
    end

    if q.status == "active" or q.status == "disabled" then
        args.status = q.status
    end

    if type(q.after) == "string" and match(q.after, "^%d+$") then
        args.after = q.after
    end

    local res = page.api_multi({
        { "/_api/admin/users", { args = args } },
        { "/_api/admin/roles", nil },
        { "/_api/admin/departments", nil },
    })

    for i = 1, 3 do
        if res[i].data == nil then
            if i == 1 and res[i].status == 400 then
                ctx.input_error = "查询条件不正确。"
                res[i].data = { users = {} }
            else
                return failed(res[i].status)
            end
        end
    end

    local roles = {}
    local duty = {}
    for _, r in ipairs(res[2].data.roles or {}) do
        if r.kind == "staff" then
            roles[#roles + 1] = { name = text(r.name), title = text(r.title),
                                  duty = type(r.duty) == "string" }
            duty[text(r.name)] = type(r.duty) == "string"
        end
    end

    local depts = res[3].data.departments or {}

    local list = {}
    for i, u in ipairs(res[1].data.users or {}) do
        local has = {}
        for name in text(u.roles):gmatch("[^,]+") do
            has[name] = true
        end

        local checks = {}
        for j, r in ipairs(roles) do
            checks[j] = { name = r.name, title = r.title, duty = r.duty,
                          checked = has[r.name] == true }
        end

        list[i] = {
            id = text(u.id),
            username = text(u.username),
            display_name = text(u.display_name),
            department = text(u.department),
            status = text(u.status),
            active = u.status == "active",
            roles = checks,
            totp = u.totp == true,
            locked = type(u.locked_until) == "string",
            created_at = text(u.created_at),
            dept_options = dept_options(depts, u.department_id),
        }
    end

    ctx.users = list
    ctx.roles = roles
    ctx.dept_options = dept_options(depts, nil)
    ctx.q = args.q or ""
    ctx.status = args.status or ""
    ctx.paged = args.after ~= nil
    ctx.first_url = "/console/admin/users?" .. ngx.encode_args({
        q = args.q, status = args.status })

    local nxt = res[1].data.next_after
    if type(nxt) == "number" then
        ctx.next_url = "/console/admin/users?" .. ngx.encode_args({
            q = args.q, status = args.status, after = nxt })
    end
end


local function departments(ctx)
    local res = page.api_multi({
        { "/_api/admin/departments", nil },
        { "/_api/districts", nil },
    })

    if res[1].data == nil then
        return failed(res[1].status)
    end

    local names = {}
    local districts = {}
    for i, d in ipairs(res[2].data and res[2].data.items or {}) do
        names[text(d.id)] = text(d.name)
        districts[i] = { value = text(d.id), label = text(d.name) }
    end

    local list = {}
    for i, d in ipairs(res[1].data.departments or {}) do
        list[i] = {
            id = text(d.id), code = text(d.code), name = text(d.name),
            kind = text(d.kind), district = names[text(d.district_id)] or "",
            active = d.active == 1 or d.active == true,
        }
    end

    ctx.depts = list
    ctx.kinds = DEPT_KINDS
    ctx.districts = districts
end


local function categories(ctx)
    local res = page.api_multi({
        { "/_api/categories", nil },
        { "/_api/admin/departments", nil },
        { "/_api/admin/deadline-rules", { args = { stage = "handle" } } },
    })

    for i = 1, 3 do
        if res[i].data == nil then
            return failed(res[i].status)
        end
    end

    -- the handle rule in force and any scheduled one, by category id
    local in_force, scheduled = {}, {}
    for _, r in ipairs(res[3].data.items or {}) do
        local cid = text(r.category_id)
        if cid ~= "" and (r.priority == nil
                          or type(r.priority) == "userdata")
        then
            local shown = text(r.amount) .. (UNIT_LABEL[r.unit] or "")
            if r.status == "in_force" and in_force[cid] == nil then
                in_force[cid] = shown
            elseif r.status == "scheduled" then
                scheduled[cid] = shown .. "（" .. text(r.effective_from)
                                 .. " 起）"
            end
        end
    end

    local depts = res[2].data.departments or {}
    local topics = {}

    for i, t in ipairs(res[1].data.items or {}) do
        local leaves = {}
        for j, c in ipairs(t.children or {}) do
            local id = text(c.id)
            local dd = type(c.default_department) == "table"
                       and c.default_department or {}
            leaves[j] = {
                id = id, code = text(c.code), name = text(c.name),
                type_label = TYPE_LABEL[text(c.appeal_type)] or "",
                handling_days = text(c.handling_days),
                rule = in_force[id],
                scheduled = scheduled[id],
                department = text(dd.name),
                dept_options = dept_options(depts, dd.id),
            }
        end

        topics[i] = { code = text(t.code), name = text(t.name),
                      leaves = leaves }
    end

    ctx.topics = topics
    ctx.today = text(res[3].data.today)
end


local function rules(q, ctx)
    local stage = nil
    if type(q.stage) == "string" and STAGE_LABEL[q.stage] then
        stage = q.stage
    end

    local res = page.api_multi({
        { "/_api/admin/deadline-rules", { args = { stage = stage } } },
        { "/_api/categories", nil },
    })

    for i = 1, 2 do
        if res[i].data == nil then
            return failed(res[i].status)
        end
    end

    local list = {}
    for i, r in ipairs(res[1].data.items or {}) do
        local scope = {}
        if type(r.category_name) == "string" then
            scope[#scope + 1] = text(r.category_code) .. " "
                                .. text(r.category_name)
        end

        if type(r.appeal_type) == "string" then
            scope[#scope + 1] = TYPE_LABEL[r.appeal_type] or r.appeal_type
        end

        if r.priority == "urgent" then
            scope[#scope + 1] = "紧急"
        elseif r.priority == "normal" then
            scope[#scope + 1] = "普通"
        end

        list[i] = {
            id = text(r.id),
            stage = STAGE_LABEL[text(r.stage)] or text(r.stage),
            scope = #scope > 0 and table.concat(scope, " · ") or "全部",
            limit = text(r.amount) .. (UNIT_LABEL[r.unit] or ""),
            effective_from = text(r.effective_from),
            note = text(r.note),
            created_by = text(r.created_by),
            status = text(r.status),
            status_label = RULE_STATUS[r.status] or text(r.status),
        }
    end

    local cats = {}
    for _, t in ipairs(res[2].data.items or {}) do
        for _, c in ipairs(t.children or {}) do
            cats[#cats + 1] = { value = text(c.id),
                                label = text(c.code) .. " " .. text(c.name) }
        end
    end

    ctx.rules = list
    ctx.stages = STAGES
    ctx.stage = stage or ""
    ctx.types = TYPES
    ctx.cats = cats
    ctx.today = text(res[1].data.today)
end


local function calendar(q, ctx)
    local this_year = tonumber(os.date("!%Y", ngx.time() + 8 * 3600))
    local year = tonumber(q.year) or this_year

    if year ~= math.floor(year) or year < 2000 or year > 2100 then
        year = this_year
    end

    local data, status = get("/_api/calendar/" .. year)
    local days = {}

    if data == nil and status ~= 404 then
        return failed(status)
    end

    if data then
        for i, d in ipairs(data.days or {}) do
            days[i] = { date = text(d.date), kind = text(d.kind),
                        kind_label = d.kind == "holiday" and "放假"
                                     or "调休上班",
                        name = text(d.name) }
        end

        sort(days, function (a, b) return a.date < b.date end)
    end

    ctx.year = tostring(year)
    ctx.loaded = data ~= nil
    ctx.provisional = data ~= nil and data.provisional == true
    ctx.working_days = data and text(data.working_days) or ""
    ctx.days = days
    ctx.prev_url = "/console/admin/calendar?year=" .. (year - 1)
    ctx.next_url = "/console/admin/calendar?year=" .. (year + 1)
end


local function main()
    local roles = console.roles()

    -- nginx refused every other role already (dgj_auth_require sysadmin)
    if not console.has_role(roles, "sysadmin") then
        return page.error(403)
    end

    local view = match(ngx.var.uri, "^/console/admin/?(%a*)$") or ""
    local q = ngx.req.get_uri_args(16)

    local ctx = {
        view = view,
        admin_nav = nav(view),
        console_nav = console.nav("admin", roles),
        styles = { "/static/css/console-admin.css" },
        scripts = { "/static/js/console.js", "/static/js/console-admin.js" },
    }

    local label = "系统管理"
    for _, v in ipairs(VIEWS) do
        if v.name == view and v.name ~= "" then
            label = v.label .. " - 系统管理"
        end
    end

    ctx.page_title = label .. " - 民生大莞家"

    if view == "users" then
        users(q, ctx)
    elseif view == "departments" then
        departments(ctx)
    elseif view == "categories" then
        categories(ctx)
    elseif view == "rules" then
        rules(q, ctx)
    elseif view == "calendar" then
        calendar(q, ctx)
    elseif view == "" then
        overview(ctx)
    else
        return page.error(404)
    end

    return page.render("console/admin" .. (view ~= "" and "_" .. view or "")
                       .. ".html", ctx)
end


return main()
