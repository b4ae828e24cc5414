-- lua/pages/console/inbox_page.lua: controller of the staff inbox (location
-- = /console, through lua/pages/console/inbox.lua; nginx lets intake,
-- handler, reviewer and supervisor in).  One box per role (GET
-- /api/v1/inbox?box=): intake (new, returned, extension requests), handler
-- (to sign, in hand, assist tasks), reviewer (replies to review,
-- dissatisfaction reviews), supervisor (warned and overdue).  The filters
-- are passed on as the API names them; the API checks them again.  Keyset
-- pages by the API's cursor; counts per state on the first page;
-- deadline badges in working days (dgj.console_ref).  docs/console.md.
--
-- A module, loaded once per worker: its tables and the cache of filter
-- forms live as long as the worker (a content_by_lua_file chunk runs
-- anew on every request, and its top-level locals with it).

local page = require "dgj.page"
local template = require "dgj.template"
local console = require "dgj.console"
local portal = require "dgj.portal"
local ref = require "dgj.console_ref"


local ngx = ngx
local type = type
local pairs = pairs
local ipairs = ipairs
local tostring = tostring
local byte = string.byte
local sub = string.sub


local PAGE_SIZE = 50

-- the fields of a row that the page shows (?fields=): the other columns
-- would only cost JSON to write and to read
local ROW_FIELDS = table.concat({
    "tracking_no", "title", "category_name", "district_name", "channel",
    "priority", "state", "state_title", "lead_department_name", "due_at",
    "warn", "submitted_at", "pending_extension_days", "supervised",
    "urge_count", "part", "to_sign",
}, ",")

-- longest filter value passed on; the API checks each one again
local MAX_ARG = 64

local FILTERS = {
    "state", "category", "district", "channel", "overdue", "from", "to",
    "department",
}

-- the states each box holds, in the order of the tabs
local BOX_STATES = {
    intake = { "submitted", "accepted", "returned", "handling" },
    handler = { "dispatched", "reopened", "handling" },
    reviewer = { "replied", "dissatisfied" },
    supervisor = { "submitted", "accepted", "dispatched", "handling",
                   "returned", "replied", "dissatisfied", "reopened" },
}

-- what each state means in a box, where the box gives it a special sense
local STATE_LABELS = {
    submitted = "待受理",
    accepted = "已受理待派单",
    dispatched = "待签收",
    handling = "办理中",
    returned = "退回待审",
    replied = "答复待审核",
    dissatisfied = "不满意甄别",
    reopened = "重办待签收",
}

local BOX_STATE_LABELS = {
    intake = { handling = "延期申请" },
}

local CHANNELS = {
    { value = "portal", label = "门户网站" },
    { value = "wechat", label = "微信" },
    { value = "app", label = "莞家政务" },
    { value = "hotline", label = "12345 热线" },
    { value = "govplatform", label = "政务服务平台" },
}

local CHANNEL_LABELS = {}
for _, c in ipairs(CHANNELS) do
    CHANNEL_LABELS[c.value] = c.label
end

-- what a refused filter means, by the API's error code
local INPUT_ERRORS = {
    unknown_state = "状态不正确。",
    state_not_in_box = "该状态不属于此工作箱。",
    unknown_code = "分类或镇街代码不正确。",
    invalid_cursor = "翻页链接已失效，请回到第一页。",
    invalid_field = "筛选条件格式不正确（日期请按“年-月-日”填写）。",
    department_filter_forbidden = "此工作箱不能按部门筛选。",
}


-- the filter form's HTML per worker, by box, filters and reference data:
-- most requests are the same few boxes without filters
local FORMS_MAX = 500
local forms = {}
local forms_n = 0


local function filters_html(ctx)
    local key = ctx.box .. "|" .. ngx.encode_args(ctx.filters) .. "|"
                .. ref.version()
    local html = forms[key]

    if html then
        return html
    end

    local err
    html, err = template.render("console/inbox_filters.html", ctx)
    if html == nil then
        return nil, err
    end

    if forms_n >= FORMS_MAX then
        forms, forms_n = {}, 0
    end

    forms[key] = html
    forms_n = forms_n + 1

    return html
end


local function text(v)
    if v == nil or type(v) == "userdata" then
        return ""
    end

    return tostring(v)
end


-- "2026-11-30 09:12:45" -> "11-30 09:12".  Byte checks, not a pattern:
-- LuaJIT compiles them, and this runs twice for each of the 50 rows.
local function short_time(s)
    if type(s) ~= "string" then
        return ""
    end

    if #s >= 16 and byte(s, 5) == 45 and byte(s, 8) == 45
       and byte(s, 11) == 32 and byte(s, 14) == 58
    then
        return sub(s, 6, 16)
    end

    return s
end


local function filters_of(q, box)
    local f = {}

    for _, k in ipairs(FILTERS) do
        local v = q[k]
        if type(v) == "string" and v ~= "" and #v <= MAX_ARG then
            f[k] = v
        end
    end

    if f.department and box ~= "intake" and box ~= "supervisor" then
        f.department = nil
    end

    return f
end


local function url(args)
    local e = ngx.encode_args(args)

    return e == "" and "/console" or ("/console?" .. e)
end


local function copy(t, extra)
    local c = {}
    for k, v in pairs(t) do
        c[k] = v
    end
    for k, v in pairs(extra or {}) do
        c[k] = v
    end

    return c
end


-- One row of the API's ?shape=rows reply: r its values, at ix[name]
-- their places (a name the reply lacks reads as nil).
local function shape(r, ix)
    local left = ref.working_days_left(r[ix.due_at])
    local flags = {}

    if r[ix.part] == "assist" then
        flags[#flags + 1] = { class = "assist", label = "协办" }
    end

    if r[ix.to_sign] == true then
        flags[#flags + 1] = { class = "sign", label = "待签收" }
    end

    if type(r[ix.pending_extension_days]) == "number" then
        flags[#flags + 1] = { class = "extension", label = "申请延期 "
            .. r[ix.pending_extension_days] .. " 个工作日" }
    end

    if r[ix.supervised] == true then
        flags[#flags + 1] = { class = "supervised", label = "督办" }
    end

    if type(r[ix.urge_count]) == "number" and r[ix.urge_count] > 0 then
        flags[#flags + 1] = { class = "urged", label = "催办 "
            .. r[ix.urge_count] .. " 次" }
    end

    if r[ix.priority] == "urgent" then
        flags[#flags + 1] = { class = "urgent", label = "紧急" }
    end

    local no = text(r[ix.tracking_no])

    return {
        tracking_no = no,
        -- built from a checked tracking number only (DG + 14 digits)
        href = portal.is_tracking_no(no) and ("/console/appeals/" .. no)
               or nil,
        title = text(r[ix.title]),
        category = text(r[ix.category_name]),
        district = text(r[ix.district_name]),
        channel = CHANNEL_LABELS[r[ix.channel]] or text(r[ix.channel]),
        state = text(r[ix.state]),
        state_title = text(r[ix.state_title]),
        department = text(r[ix.lead_department_name]),
        submitted = short_time(r[ix.submitted_at]),
        due = short_time(r[ix.due_at]),
        badge = ref.badge(r[ix.warn], left),
        flags = flags,
    }
end


local function main()
    local roles = console.roles()
    local boxes = console.boxes(roles)

    -- nginx refused the other roles already; checked again here
    if #boxes == 0 then
        return page.error(403)
    end

    local q = ngx.req.get_uri_args(32)
    local box = boxes[1].box

    for _, b in ipairs(boxes) do
        if q.box == b.box then
            box = b.box
        end
    end

    local f = filters_of(q, box)
    -- the rows as arrays under one list of names: half the JSON to decode
    local args = copy(f, { box = box, limit = PAGE_SIZE,
                           fields = ROW_FIELDS, shape = "rows" })
    local paged = type(q.cursor) == "string" and q.cursor ~= ""
                  and #q.cursor <= 128

    if paged then
        args.cursor = q.cursor
    end

    local data, err, status = page.api("/_api/inbox", { args = args })

    -- the audit log's action and object (docs/audit.md)
    ngx.header["X-Dgj-Action"] = "appeal.inbox"
    ngx.header["X-Dgj-Object"] = box

    local ctx = {
        page_title = "工作台 - 民生大莞家",
        console_nav = console.nav("inbox", roles),
        styles = { "/static/css/console.css" },
        scripts = { "/static/js/console.js" },
        box = box,
        filters = f,
        channels = CHANNELS,
        districts = ref.districts(),
        categories = ref.categories(),
        departments = (box == "intake" or box == "supervisor")
                      and ref.departments() or nil,
        paged = paged,
        first_url = url(copy(f, { box = box })),
        items = {},
    }

    if data == nil then
        if status == 400 then
            ctx.input_error = INPUT_ERRORS[err] or "筛选条件不正确。"

        elseif status == 401 or status == 403 then
            return page.error(403)

        else
            return page.error(503)
        end
    end


    if data and type(data.rows) == "table" and type(data.fields) == "table"
    then
        local ix = {}
        for i, name in ipairs(data.fields) do
            ix[name] = i
        end

        for i, r in ipairs(data.rows) do
            if type(r) == "table" then
                ctx.items[i] = shape(r, ix)
            end
        end
    end

    if data and type(data.next) == "string" then
        ctx.next_url = url(copy(f, { box = box, cursor = data.next }))
    end

    -- the state tabs, each with its count on the first page
    local counts = data and type(data.counts) == "table" and data.counts
    local labels = BOX_STATE_LABELS[box] or {}
    local base = copy(f, { box = box })
    base.state = nil

    local tabs = { {
        label = "全部",
        href = url(base),
        count = counts and text(counts.total) or nil,
        current = f.state == nil,
    } }

    for _, s in ipairs(BOX_STATES[box]) do
        tabs[#tabs + 1] = {
            label = labels[s] or STATE_LABELS[s],
            href = url(copy(base, { state = s })),
            count = counts and text(counts[s] or 0) or nil,
            current = f.state == s,
        }
    end

    ctx.tabs = tabs
    ctx.states = {}
    for _, s in ipairs(BOX_STATES[box]) do
        ctx.states[#ctx.states + 1] = { value = s,
                                        label = labels[s] or STATE_LABELS[s] }
    end

    -- the boxes of a member of staff with several roles: a tab each,
    -- with the current box's total
    if #boxes > 1 then
        ctx.boxes = {}
        for _, b in ipairs(boxes) do
            ctx.boxes[#ctx.boxes + 1] = {
                label = b.label,
                href = "/console?box=" .. b.box,
                current = b.box == box,
                count = b.box == box and counts and text(counts.total) or nil,
            }
        end
    end

    ctx.box_label = "工作台"
    for _, b in ipairs(boxes) do
        if b.box == box then
            ctx.box_label = b.label .. "工作箱"
        end
    end

    local html, ferr = filters_html(ctx)
    if html == nil then
        ngx.log(ngx.ERR, "dgj console: inbox filters: ", ferr)
        return page.error(500)
    end

    ctx.filters_html = html

    return page.render("console/inbox.html", ctx)
end


return { main = main }
