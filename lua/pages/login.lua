-- lua/pages/login.lua: controller of the staff sign-in page (location =
-- /login, dgj_auth optional).  A signed-in staff member is sent on at
-- once: to ?next= when it is a path of this site (dgj.console.local_next),
-- else to the first console section of their roles (dgj.console.home).
-- Everyone else gets the form: user name, password and the one-time code;
-- html/static/js/console-login.js posts it to /api/v1/auth/login and, on
-- success, reloads this page, which then sends the browser on.  A password
-- that must change first gets the change form (POST /api/v1/auth/password
-- with user name and code, no session).  docs/console.md.

local page = require "dgj.page"
local console = require "dgj.console"


local ngx = ngx


local function main()
    local q = ngx.req.get_uri_args(16)
    local next = console.local_next(q.next)
    local roles = console.roles()

    -- the auth module verified the token (optional): staff go on
    if ngx.var.dgj_auth_status == "OK" and console.is_staff(roles) then
        return ngx.redirect(next or console.home(roles), 302)
    end

    local here = "/login"
    if next then
        here = "/login?" .. ngx.encode_args({ next = next })
    end

    ngx.header["Cache-Control"] = "no-store"

    return page.render("console/login.html", {
        page_title = "工作人员登录 - 民生大莞家",
        styles = { "/static/css/console.css" },
        scripts = { "/static/js/console.js", "/static/js/console-login.js" },
        here = here,
        next = next,
        signed_out = q.signed_out == "1",
        changed = q.changed == "1",
        not_staff = ngx.var.dgj_auth_status == "OK",
    })
end


return main()
