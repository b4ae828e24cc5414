-- lua/pages/console/account.lua: controller of "my account" (location =
-- /console/account, any signed-in member of staff).  Who I am (GET
-- /api/v1/auth/me), the password change with the policy spelled out (the
-- API's policy codes are shown as the rule they break, console.js), and
-- the replacement of the second factor (TOTP enrolment,
-- html/static/js/console-account.js).  docs/console.md.

local page = require "dgj.page"
local console = require "dgj.console"


local ngx = ngx
local os = os
local type = type
local tostring = tostring
local tonumber = tonumber
local gmatch = string.gmatch


local ROLE_LABELS = {
    intake = "受理员", handler = "承办人", reviewer = "审核员",
    supervisor = "督办员", project_manager = "项目管理员",
    analyst = "分析员", ops = "运维", sysadmin = "系统管理员",
    secadmin = "安全管理员", auditor = "审计管理员",
}


local function text(v)
    if v == nil or type(v) == "userdata" then
        return ""
    end

    return tostring(v)
end


local function main()
    local roles = console.roles()

    if not console.is_staff(roles) then
        return page.error(403)
    end

    local me, err, status = page.api("/_api/auth/me")
    if me == nil then
        ngx.log(ngx.INFO, "dgj console: me: ", err)
        return page.error(status == 401 and 403 or 503)
    end

    local labels = {}
    for r in gmatch(text(me.roles), "[^,]+") do
        labels[#labels + 1] = ROLE_LABELS[r] or r
    end

    local changed = tonumber(me.password_changed)

    ngx.header["Cache-Control"] = "no-store"

    return page.render("console/account.html", {
        page_title = "我的账号 - 民生大莞家",
        console_nav = console.nav("account", roles),
        styles = { "/static/css/console.css" },
        scripts = { "/static/js/console.js",
                    "/static/js/console-account.js" },
        username = text(me.username),
        display_name = text(me.display_name),
        department = text(me.department),
        phone = text(me.phone),
        roles = table.concat(labels, "、"),
        level = me.auth_level == 2 and "密码 + 动态码" or "仅密码",
        totp = me.totp == true,
        password_changed = changed
            and os.date("!%Y-%m-%d %H:%M", changed + 8 * 3600) or "",
    })
end


return main()
