-- lua/pages/console/logout.lua: signing out (location = /logout,
-- dgj_auth on).  GET shows one button; the page's script posts it to
-- POST /api/v1/auth/logout with the X-CSRF-Token header.  A POST here does
-- the same for a client without that script: nginx has already refused it
-- without the right X-CSRF-Token (403 csrf_failed, nothing cleared), so
-- another site cannot sign a browser out; the API's cookie clearing is
-- passed on and the browser goes to /login.  docs/console.md.

local page = require "dgj.page"
local console = require "dgj.console"


local ngx = ngx


local function main()
    if ngx.req.get_method() == "POST" then
        local data, err, status, header = page.api("/_api/auth/logout", {
            method = ngx.HTTP_POST, body = "{}",
        })

        if data == nil then
            ngx.log(ngx.INFO, "dgj logout: ", err)
            return page.error(status == 403 and 403 or 503)
        end

        if header and header["Set-Cookie"] then
            ngx.header["Set-Cookie"] = header["Set-Cookie"]
        end

        return ngx.redirect("/login?signed_out=1", 303)
    end

    return page.render("console/logout.html", {
        page_title = "退出登录 - 民生大莞家",
        console_nav = console.nav("logout"),
        styles = { "/static/css/console.css" },
        scripts = { "/static/js/console.js" },
    })
end


return main()
