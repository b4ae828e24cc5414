-- lua/pages/console/appeal.lua: controller of one appeal in the staff
-- console (location /console/appeals/DG...; nginx lets intake, handler,
-- reviewer and supervisor in).  Shows every field of GET
-- /api/v1/appeals/{no} (the submitter masked; the full contact is the
-- recorded POST .../reveal, html/static/js/console-appeal.js), assist
-- tasks, attachments and the full timeline with internal notes, and one
-- form per action this caller may take now.  Which actions: the state
-- machine table (GET /api/v1/workflow/transitions: state, role, scope),
-- confirmed by the API's own `actions` for this caller (it also knows
-- whether an extension is pending or an assist task open).  Each form
-- posts to POST /api/v1/appeals/{no}/actions/{action} with the version
-- the page was rendered from.  docs/console.md.

local page = require "dgj.page"
local console = require "dgj.console"
local ref = require "dgj.console_ref"


local ngx = ngx
local type = type
local ipairs = ipairs
local tostring = tostring
local tonumber = tonumber
local match = string.match


local ROLE_LABELS = {
    intake = "受理员", handler = "承办人", reviewer = "审核员",
    supervisor = "督办员", citizen = "市民", organisation = "社会组织",
    system = "系统", ops = "运维", anonymous = "诉求人",
}

local PUBLISH_LABELS = {
    none = "未决定", published = "已公示", withheld = "不公示",
}

local CHANNEL_LABELS = {
    portal = "门户网站", wechat = "微信", app = "莞家政务",
    hotline = "12345 热线", govplatform = "政务服务平台",
}

local TYPE_LABELS = {
    consultation = "咨询", help = "求助", complaint = "投诉", report = "举报",
    suggestion = "建议", praise = "表扬",
}

local OUTCOME_LABELS = {
    resolved = "已解决", answered = "已答复（未能解决）",
    not_ours = "非本单位职责", cannot_handle = "无法办理",
    not_accepted = "不予受理", duplicate = "重复诉求",
    unresolved = "未解决",
}

local REASON_LABELS = {
    out_of_scope = "不属于受理范围",
    legal_procedure = "应通过法定途径解决",
    insufficient_info = "信息不全，无法办理",
    abusive = "恶意或不文明诉求",
    duplicate = "重复诉求",
    not_our_duty = "不属于本单位职责",
    wrong_district = "不属于本辖区",
    other_level = "属于其他层级事权",
}

local function options(codes, labels)
    local out = {}
    for i, c in ipairs(codes) do
        out[i] = { value = c, label = labels[c] }
    end

    return out
end

local REJECT_REASONS = options({ "out_of_scope", "legal_procedure",
    "insufficient_info", "abusive", "duplicate" }, REASON_LABELS)
local RETURN_REASONS = options({ "not_our_duty", "wrong_district",
    "other_level", "insufficient_info", "legal_procedure" }, REASON_LABELS)
local REPLY_OUTCOMES = options({ "resolved", "answered", "not_ours",
    "cannot_handle" }, OUTCOME_LABELS)
local DIRECT_OUTCOMES = options({ "answered", "resolved" }, OUTCOME_LABELS)

local TASK_STATES = { open = "协办中", replied = "已回复",
                      cancelled = "已取消" }


-- A form's fields.  kind: text, textarea, select, multi (select
-- multiple), int, bool; `source` names a list filled per request
-- (departments, leaves, districts, tasks); `optional` fields are left out
-- of the body when blank.
local COMMENT = { name = "comment", label = "说明", kind = "textarea",
                  optional = true, max = 2000 }
local COMMENT_REQ = { name = "comment", label = "说明（必填）",
                      kind = "textarea", max = 2000 }

local FIELDS = {
    accept = { COMMENT },
    reject = {
        { name = "reason_code", label = "不予受理原因", kind = "select",
          options = REJECT_REASONS },
        { name = "comment", label = "告知诉求人的理由（必填）",
          kind = "textarea", max = 2000 },
    },
    merge = {
        { name = "into", label = "并入的诉求编号", kind = "text",
          pattern = "DG[0-9]{14}" },
        COMMENT,
    },
    reclassify = {
        { name = "category_code", label = "分类", kind = "select",
          source = "leaves", optional = true },
        { name = "district_code", label = "镇街", kind = "select",
          source = "districts", optional = true },
        COMMENT,
    },
    direct_answer = {
        { name = "reply", label = "答复内容", kind = "textarea", max = 4000 },
        { name = "outcome", label = "办理结果", kind = "select",
          options = DIRECT_OUTCOMES },
        COMMENT,
    },
    dispatch = {
        { name = "department_id", label = "承办部门（留空：按派单目录）",
          kind = "select", source = "departments", optional = true,
          int = true },
        { name = "assist_department_ids", label = "协办部门（可多选）",
          kind = "multi", source = "departments", optional = true },
        COMMENT,
    },
    sign = { COMMENT },
    ["return"] = {
        { name = "reason_code", label = "退回原因", kind = "select",
          options = RETURN_REASONS },
        { name = "legal_basis", label = "依据（职责目录或法规条款，必填）",
          kind = "textarea", max = 1000 },
        COMMENT,
    },
    assist_request = {
        { name = "department_ids", label = "协办部门（可多选）",
          kind = "multi", source = "departments" },
        COMMENT,
    },
    extension_request = {
        { name = "days", label = "延期天数（工作日，1–30）", kind = "int",
          min = 1, max = 30 },
        COMMENT_REQ,
    },
    reply = {
        { name = "reply", label = "答复内容", kind = "textarea", max = 4000 },
        { name = "outcome", label = "办理结果", kind = "select",
          options = REPLY_OUTCOMES },
        { name = "outcome_owner", label = "责任单位（非本单位职责时必填）",
          kind = "text", optional = true },
        COMMENT,
    },
    assist_reply = {
        { name = "task_id", label = "协办任务", kind = "select",
          source = "tasks", int = true },
        { name = "reply", label = "协办意见", kind = "textarea", max = 4000 },
    },
    redispatch = {
        { name = "department_id", label = "承办部门", kind = "select",
          source = "departments", int = true },
        { name = "comment", label = "说明（派回同一部门时必填）",
          kind = "textarea", optional = true, max = 2000 },
    },
    refuse_return = { COMMENT_REQ },
    extension_approve = { COMMENT },
    extension_refuse = { COMMENT_REQ },
    approve = { COMMENT },
    send_back = {
        { name = "comment", label = "需要部门改进的地方（必填）",
          kind = "textarea", max = 2000 },
    },
    publish = {
        { name = "publish", label = "公示（取消勾选：不公示）", kind = "bool" },
        { name = "public_title", label = "公示标题（已去除个人信息）",
          kind = "text", optional = true, from = "title" },
        { name = "public_content", label = "公示内容（已去除个人信息）",
          kind = "textarea", optional = true, from = "content" },
    },
    uphold = { COMMENT_REQ },
    dismiss = { COMMENT_REQ },
    urge = { COMMENT_REQ },
    supervise = { COMMENT_REQ },
    note = {
        { name = "comment", label = "内部备注（仅工作人员可见）",
          kind = "textarea", max = 2000 },
    },
}


local function text(v)
    if v == nil or type(v) == "userdata" then
        return ""
    end

    if v == true then
        return "是"
    end

    if v == false then
        return "否"
    end

    return tostring(v)
end


local function has_role(roles, list)
    for _, r in ipairs(list) do
        if console.has_role(roles, r) then
            return true
        end
    end

    return false
end


-- The actions of the machine table this caller may take on a now.
local function allowed(a, roles, dept, transitions)
    local api = {}
    if type(a.actions) == "table" then
        for _, x in ipairs(a.actions) do
            if type(x) == "table" and type(x.action) == "string" then
                api[x.action] = true
            end
        end
    end

    local open_task = false
    if type(a.tasks) == "table" then
        for _, t in ipairs(a.tasks) do
            if t.state == "open" and tonumber(t.department_id) == dept then
                open_task = true
            end
        end
    end

    local out = {}

    for _, name in ipairs(transitions.order) do
        local t = transitions.by[name]
        local ok = t.from[a.state] and has_role(roles, t.roles)

        if ok then
            if t.scope == "lead_department" then
                ok = dept ~= 0 and tonumber(a.lead_department_id) == dept

            elseif t.scope == "assist_department" then
                ok = open_task

            elseif t.scope ~= "role" and t.scope ~= "viewer" then
                ok = false
            end
        end

        -- the API knows the rest (a pending extension, open tasks)
        if ok and api[name] then
            out[#out + 1] = t
        end
    end

    return out
end


local function sources(a, dept)
    local deps, leaves = {}, {}

    for i, d in ipairs(ref.departments()) do
        deps[i] = { value = tostring(d.id), label = d.name }
    end

    for _, t in ipairs(ref.categories()) do
        for _, l in ipairs(t.leaves) do
            leaves[#leaves + 1] = { value = l.code,
                                    label = t.name .. " / " .. l.name }
        end
    end

    local districts = {}
    for i, d in ipairs(ref.districts()) do
        districts[i] = { value = d.code, label = d.name }
    end

    local tasks = {}
    if type(a.tasks) == "table" then
        for _, t in ipairs(a.tasks) do
            if t.state == "open" and tonumber(t.department_id) == dept then
                tasks[#tasks + 1] = { value = text(t.id),
                    label = "#" .. text(t.id) .. " " .. text(t.request_note) }
            end
        end
    end

    return { departments = deps, leaves = leaves, districts = districts,
             tasks = tasks }
end


-- where the browser goes after an action: the page again, except where
-- the caller's part is over (an assisting department's task is answered:
-- back to its inbox)
local NEXT = { assist_reply = "/console" }


local function forms(a, list, src)
    local out = {}

    for i, t in ipairs(list) do
        local fields = {}

        for j, f in ipairs(FIELDS[t.action] or { COMMENT }) do
            fields[j] = {
                id = t.action .. "-" .. f.name,
                name = f.kind == "multi" and (f.name .. "[]") or f.name,
                label = f.label,
                kind = f.kind,
                optional = f.optional,
                int = f.int or f.kind == "int" or (f.kind == "multi"
                      and f.source == "departments"),
                max = f.max,
                min = f.min,
                pattern = f.pattern,
                options = f.options or (f.source and src[f.source]) or {},
                value = f.from and text(a[f.from]) or "",
                checked = f.kind == "bool",
            }
        end

        out[i] = {
            action = t.action,
            title = t.title,
            api = "/api/v1/appeals/" .. a.tracking_no .. "/actions/"
                  .. t.action,
            fields = fields,
            next = NEXT[t.action] or "reload",
        }
    end

    return out
end


local function timeline(list)
    local out = {}

    if type(list) ~= "table" then
        return out
    end

    for i, e in ipairs(list) do
        out[i] = {
            at = text(e.at),
            actor = text(e.actor_name),
            role = ROLE_LABELS[e.actor_role] or text(e.actor_role),
            department = text(e.actor_department_name),
            action = text(e.action),
            title = text(e.action_title),
            to_state = text(e.to_state_title),
            changed = e.from_state ~= e.to_state,
            -- a code without a label (the rating's "resolved", an
            -- extension's marker) says nothing the title does not
            reason = REASON_LABELS[e.reason_code] or "",
            comment = text(e.comment),
            internal = e.visibility == "internal",
            due = text(e.due_at_set),
            target = text(e.target_department_name),
        }
    end

    return out
end


local function main()
    local roles = console.roles()

    if not console.has_any(roles, { "intake", "handler", "reviewer",
                                    "supervisor" })
    then
        return page.error(403)
    end

    local no = match(ngx.var.uri, "^/console/appeals/(DG%d%d%d%d%d%d%d%d%d%d%d%d%d%d)$")
    if no == nil then
        return page.error(404)
    end

    local a, err, status = page.api("/_api/appeals/" .. no)

    -- the audit log's action and object (docs/audit.md)
    ngx.header["X-Dgj-Action"] = "appeal.view"
    ngx.header["X-Dgj-Object"] = no

    if a == nil then
        if status == 404 then
            return page.error(404, "诉求不存在",
                              "没有这个编号的诉求，或它不在您的办理范围内。")
        end

        if status == 401 or status == 403 then
            return page.error(403)
        end

        ngx.log(ngx.ERR, "dgj console: appeal ", no, ": ", err)
        return page.error(503)
    end

    -- the table's order, for a stable order of the forms
    local by = ref.transitions()
    local order = {}
    for _, name in ipairs({ "sign", "accept", "dispatch", "direct_answer",
        "reclassify", "merge", "reject", "redispatch", "refuse_return",
        "extension_approve", "extension_refuse", "assist_reply", "reply",
        "assist_request", "extension_request", "return", "approve",
        "send_back", "publish", "uphold", "dismiss", "urge", "supervise",
        "note" })
    do
        if by[name] then
            order[#order + 1] = name
        end
    end

    local dept = tonumber(ngx.var.dgj_dept) or 0
    local list = allowed(a, roles, dept, { by = by, order = order })
    local src = sources(a, dept)

    local tasks = {}
    if type(a.tasks) == "table" then
        for i, t in ipairs(a.tasks) do
            tasks[i] = {
                id = text(t.id),
                department = text(t.department_name),
                state = TASK_STATES[t.state] or text(t.state),
                note = text(t.request_note),
                due = text(t.due_at),
                reply = text(t.reply),
                replied_at = text(t.replied_at),
            }
        end
    end

    local files = {}
    if type(a.attachments) == "table" then
        for i, f in ipairs(a.attachments) do
            local id = tonumber(f.id)
            files[i] = {
                name = text(f.original_name),
                media_type = text(f.media_type),
                size = text(f.size_bytes),
                -- built from checked parts only
                href = id and ("/api/v1/appeals/" .. no .. "/attachments/"
                               .. id) or nil,
            }
        end
    end

    local sub = type(a.submitter) == "table" and a.submitter or nil
    local can_reveal = sub ~= nil and sub.masked == true
        and (console.has_role(roles, "intake")
             or (console.has_role(roles, "handler") and dept ~= 0
                 and tonumber(a.lead_department_id) == dept
                 and a.is_anonymous ~= true))

    local left = ref.working_days_left(a.due_at)

    return page.render("console/appeal.html", {
        page_title = no .. " - 诉求详情 - 民生大莞家",
        console_nav = console.nav("inbox", roles),
        styles = { "/static/css/console.css" },
        scripts = { "/static/js/console.js", "/static/js/console-appeal.js" },
        no = no,
        a = a,
        t = text,
        version = text(a.version),
        channel = CHANNEL_LABELS[a.channel] or text(a.channel),
        appeal_type = TYPE_LABELS[a.appeal_type] or text(a.appeal_type),
        outcome = OUTCOME_LABELS[a.outcome] or text(a.outcome),
        publish_state = PUBLISH_LABELS[a.publish_state]
                        or text(a.publish_state),
        badge = ref.badge(a.warn, left),
        submitter = sub and {
            name = text(sub.name), phone = text(sub.phone),
            id_number = text(sub.id_number),
        } or nil,
        can_reveal = can_reveal,
        reveal_api = "/api/v1/appeals/" .. no .. "/reveal",
        tasks = tasks,
        files = files,
        timeline = timeline(a.timeline),
        forms = forms(a, list, src),
    })
end


return main()
