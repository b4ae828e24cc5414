-- lua/pages/console/security.lua: the security admin's page (安全管理,
-- location = /console/security; nginx lets only secadmin reach it).  Owns
-- one view in three parts: the password and session policy (one form,
-- all or nothing), bans (in force and lifted; ban an address, a block or
-- an account; lift one) and the limiter's state (nginx's counters per
-- rule and zone, through /api/v1/security/limits).  Reads through
-- /_api/security/; changes go from the browser to /api/v1/security/
-- (console.js).  docs/console-admin.md.

local page = require "dgj.page"
local console = require "dgj.console"


local ngx = ngx
local type = type
local ipairs = ipairs
local pairs = pairs
local tostring = tostring
local tonumber = tonumber
local sort = table.sort


-- what each policy setting means, in the order of the form
local POLICY = {
    { name = "password_max_age_days", label = "密码有效期", unit = "天" },
    { name = "password_history", label = "不得重复使用最近几次的密码",
      unit = "次" },
    { name = "lockout_threshold", label = "连续登录失败锁定阈值", unit = "次" },
    { name = "lockout_minutes", label = "锁定时长", unit = "分钟" },
    { name = "staff_idle_seconds", label = "工作人员空闲超时", unit = "秒" },
    { name = "staff_absolute_seconds", label = "工作人员会话最长时长",
      unit = "秒" },
    { name = "staff_token_seconds", label = "工作人员访问令牌有效期",
      unit = "秒" },
    { name = "public_idle_seconds", label = "公众空闲超时", unit = "秒" },
    { name = "public_absolute_seconds", label = "公众会话最长时长",
      unit = "秒" },
    { name = "public_token_seconds", label = "公众访问令牌有效期",
      unit = "秒" },
}

local BAN_KINDS = { ip = "IP 地址", cidr = "网段", user = "账号" }

local RESULTS = { "passed", "delayed", "rejected", "banned", "dry_run" }


local function text(v)
    if v == nil or type(v) == "userdata" then
        return ""
    end

    return tostring(v)
end


local function policy(data)
    local by_name = {}
    for _, p in ipairs(type(data) == "table" and data.policy or {}) do
        by_name[text(p.name)] = p
    end

    local out = {}
    for _, f in ipairs(POLICY) do
        local p = by_name[f.name]
        if p then
            out[#out + 1] = {
                name = f.name, label = f.label, unit = f.unit,
                value = text(p.value), min = text(p.min_value),
                max = text(p.max_value), updated_at = text(p.updated_at),
            }
        end
    end

    return out
end


local function bans(data)
    local out = {}

    for i, b in ipairs(type(data) == "table" and data.bans or {}) do
        out[i] = {
            id = text(b.id),
            kind = BAN_KINDS[b.kind] or text(b.kind),
            value = text(b.value),
            reason = text(b.reason),
            expires_at = text(b.expires_at),
            created_by = text(b.created_by),
            lifted_at = text(b.lifted_at),
            active = b.active == true or b.active == 1,
        }
    end

    return out
end


-- the Prometheus samples as a table per rule and one per zone
local function limits(data)
    local rules, zones, totals = {}, {}, {}
    local rule_at, zone_at = {}, {}

    for _, s in ipairs(type(data) == "table" and data.samples or {}) do
        local l = type(s.labels) == "table" and s.labels or {}
        local name = text(s.name)
        local value = text(s.value)

        if name == "dgj_limit_requests_total" then
            local key = text(l.zone) .. "\0" .. text(l.rule)
            local r = rule_at[key]
            if r == nil then
                r = { zone = text(l.zone), rule = text(l.rule) }
                rule_at[key] = r
                rules[#rules + 1] = r
            end
            r[text(l.result)] = value

        elseif name:find("^dgj_limit_zone_") then
            local z = zone_at[text(l.zone)]
            if z == nil then
                z = { zone = text(l.zone) }
                zone_at[text(l.zone)] = z
                zones[#zones + 1] = z
            end

            local what = name:sub(#"dgj_limit_zone_" + 1)
            if what == "bytes" then
                what = "bytes_" .. text(l.kind)
            end
            z[what] = value

        elseif name == "dgj_limit_bans" then
            totals["bans_" .. text(l.kind)] = value

        else
            totals[name:gsub("^dgj_limit_", "")] = value
        end
    end

    sort(rules, function (a, b)
        return (tonumber(a.rejected) or 0) > (tonumber(b.rejected) or 0)
    end)

    for _, r in ipairs(rules) do
        for _, k in ipairs(RESULTS) do
            r[k] = r[k] or "0"
        end
    end

    return rules, zones, totals
end


local function main()
    local roles = console.roles()

    -- nginx refused every other role already (dgj_auth_require secadmin)
    if not console.has_role(roles, "secadmin") then
        return page.error(403)
    end

    local q = ngx.req.get_uri_args(8)
    local all = q.all == "1"

    local res = page.api_multi({
        { "/_api/security/policy", nil },
        { "/_api/security/bans", { args = { all = all and 1 or nil,
                                            limit = 200 } } },
        { "/_api/security/limits", nil },
    })

    for i = 1, 2 do
        if res[i].data == nil then
            local s = res[i].status
            return page.error((s == 401 or s == 403) and 403 or 503)
        end
    end

    local rules, zones, totals = limits(res[3].data)
    local total = {}
    for k, v in pairs(totals) do
        total[k] = v
    end

    return page.render("console/security.html", {
        page_title = "安全管理 - 民生大莞家",
        console_nav = console.nav("security", roles),
        styles = { "/static/css/console-admin.css" },
        scripts = { "/static/js/console.js", "/static/js/console-admin.js" },
        policy = policy(res[1].data),
        bans = bans(res[2].data),
        all = all,
        limits_ok = res[3].data ~= nil,
        rules = rules,
        zones = zones,
        totals = total,
    })
end


return main()
