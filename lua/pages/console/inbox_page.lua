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
local new_table = require "table.new"
local lrucache = require "resty.lrucache"


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


-- the flags of the rows that have none (most): one table, never changed
local NO_FLAGS = {}
local FLAG_ASSIST = { class = "assist", label = "协办" }
local FLAG_SIGN = { class = "sign", label = "待签收" }
local FLAG_SUPERVISED = { class = "supervised", label = "督办" }
local FLAG_URGENT = { class = "urgent", label = "紧急" }


local function add_flag(flags, flag)
    if flags == NO_FLAGS then
        flags = {}
    end

    flags[#flags + 1] = flag

    return flags
end


-- One row of the API's ?shape=cells reply into `it`: its values are
-- c[b + ix[name]] (a name the reply lacks reads as nil).
local function shape(c, b, ix, it)
    local left = ref.working_days_left(c[b + ix.due_at])
    local flags = NO_FLAGS

    if c[b + ix.part] == "assist" then
        flags = add_flag(flags, FLAG_ASSIST)
    end

    if c[b + ix.to_sign] == true then
        flags = add_flag(flags, FLAG_SIGN)
    end

    local ext = c[b + ix.pending_extension_days]
    if type(ext) == "number" then
        flags = add_flag(flags, { class = "extension",
                                  label = "申请延期 " .. ext .. " 个工作日" })
    end

    if c[b + ix.supervised] == true then
        flags = add_flag(flags, FLAG_SUPERVISED)
    end

    local urged = c[b + ix.urge_count]
    if type(urged) == "number" and urged > 0 then
        flags = add_flag(flags, { class = "urged",
                                  label = "催办 " .. urged .. " 次" })
    end

    if c[b + ix.priority] == "urgent" then
        flags = add_flag(flags, FLAG_URGENT)
    end

    local no = text(c[b + ix.tracking_no])
    local channel = c[b + ix.channel]

    it.tracking_no = no
    -- the template links a checked tracking number only (DG + 14 digits)
    it.linked = portal.is_tracking_no(no)
    it.title = text(c[b + ix.title])
    it.category = text(c[b + ix.category_name])
    it.district = text(c[b + ix.district_name])
    it.channel = CHANNEL_LABELS[channel] or text(channel)
    it.state = text(c[b + ix.state])
    it.state_title = text(c[b + ix.state_title])
    it.department = text(c[b + ix.lead_department_name])
    it.submitted = short_time(c[b + ix.submitted_at])
    it.due = short_time(c[b + ix.due_at])
    it.badge = ref.badge(c[b + ix.warn], left)
    it.flags = flags

    return it
end


-- The rows of a reply for the template: rows.n of them, and rows:at(i)
-- shapes row i into the one table it returns, which the template reads
-- before it asks for the next.  No table a row: a page of 50 made 50
-- tables of 14 fields only to read each once.
local Rows = {}
Rows.__index = Rows


function Rows:at(i)
    return shape(self.cells, (i - 1) * self.width, self.ix, self.row)
end


local function rows_of(cells, fields)
    local ix = {}
    for i, name in ipairs(fields) do
        ix[name] = i
    end

    local width = #fields

    return setmetatable({
        cells = cells,
        width = width,
        ix = ix,
        n = math.floor(#cells / width),
        row = new_table(0, 14),
    }, Rows)
end


local NO_ROWS = setmetatable({ n = 0 }, Rows)


-- The page around its rows, per worker, by the caller's roles, the box,
-- the filters and the reference data: navigation, box and state tabs
-- (their links), the filter form's HTML.  Most requests are the same few
-- boxes without filters, so all of it is made once.  Shared: never
-- changed after it is made.  nil, err when the form does not render.
local frames = assert(lrucache.new(500))

-- the fields of a frame a page's context takes
local FRAME_FIELDS = {
    "page_title", "console_nav", "styles", "scripts", "box", "box_label",
    "boxes", "filters", "tabs", "first_url", "filters_html",
}


local function frame_of(roles, boxes, box, f)
    -- before the key: a list past its time is fetched again here
    local districts, categories = ref.districts(), ref.categories()
    local departments = (box == "intake" or box == "supervisor")
                        and ref.departments() or nil

    local key = roles .. "|" .. box .. "|" .. ngx.encode_args(f) .. "|"
                .. ref.version()
    local fr = frames:get(key)

    if fr then
        return fr
    end

    local labels = BOX_STATE_LABELS[box] or {}
    local base = copy(f, { box = box })
    base.state = nil

    -- the state tabs; the page puts each one's count (key) beside it
    local tabs = { {
        key = "total",
        label = "全部",
        href = url(base),
        current = f.state == nil,
    } }

    local states = {}

    for _, st in ipairs(BOX_STATES[box]) do
        local label = labels[st] or STATE_LABELS[st]

        tabs[#tabs + 1] = {
            key = st,
            label = label,
            href = url(copy(base, { state = st })),
            current = f.state == st,
        }
        states[#states + 1] = { value = st, label = label }
    end

    fr = {
        page_title = "工作台 - 民生大莞家",
        console_nav = console.nav("inbox", roles),
        styles = { "/static/css/console.css" },
        scripts = { "/static/js/console.js" },
        box = box,
        box_label = "工作台",
        filters = f,
        tabs = tabs,
        first_url = url(copy(f, { box = box })),
    }

    -- the boxes of a member of staff with several roles: a tab each
    if #boxes > 1 then
        fr.boxes = {}
        for _, b in ipairs(boxes) do
            fr.boxes[#fr.boxes + 1] = {
                label = b.label,
                href = "/console?box=" .. b.box,
                current = b.box == box,
            }
        end
    end

    for _, b in ipairs(boxes) do
        if b.box == box then
            fr.box_label = b.label .. "工作箱"
        end
    end

    local html, err = template.render("console/inbox_filters.html", {
        box = box,
        filters = f,
        states = states,
        channels = CHANNELS,
        districts = districts,
        categories = categories,
        departments = departments,
    })

    if html == nil then
        return nil, err
    end

    fr.filters_html = html
    frames:set(key, fr)

    return fr
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
    -- the rows' values in one array under one list of names: half the
    -- JSON of objects, and one array for the decoder to grow, not 50
    local args = copy(f, { box = box, limit = PAGE_SIZE,
                           fields = ROW_FIELDS, shape = "cells" })
    local paged = type(q.cursor) == "string" and q.cursor ~= ""
                  and #q.cursor <= 128

    if paged then
        args.cursor = q.cursor
    end

    local data, err, status = page.api("/_api/inbox", { args = args })

    -- the audit log's action and object (docs/audit.md)
    ngx.header["X-Dgj-Action"] = "appeal.inbox"
    ngx.header["X-Dgj-Object"] = box

    local fr, ferr = frame_of(roles, boxes, box, f)
    if fr == nil then
        ngx.log(ngx.ERR, "dgj console: inbox filters: ", ferr)
        return page.error(500)
    end

    local ctx = new_table(0, 20)
    for i = 1, #FRAME_FIELDS do
        local k = FRAME_FIELDS[i]
        ctx[k] = fr[k]
    end

    ctx.paged = paged
    ctx.rows = NO_ROWS

    if data == nil then
        if status == 400 then
            ctx.input_error = INPUT_ERRORS[err] or "筛选条件不正确。"

        elseif status == 401 or status == 403 then
            return page.error(403)

        else
            return page.error(503)
        end
    end


    if data and type(data.cells) == "table" and type(data.fields) == "table"
       and #data.fields > 0
    then
        ctx.rows = rows_of(data.cells, data.fields)
    end

    if data and type(data.next) == "string" then
        ctx.next_url = url(copy(f, { box = box, cursor = data.next }))
    end

    -- each tab's count, on the first page only
    ctx.counts = data and type(data.counts) == "table" and data.counts
                 or nil

    return page.render("console/inbox.html", ctx)
end


return { main = main }
