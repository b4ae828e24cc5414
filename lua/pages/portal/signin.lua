-- lua/pages/portal/signin.lua: a citizen's sign-in by SMS code for both
-- columns (/signin, /signin/send, and the same under /wx/), so that the
-- follow page can list "my appeals".  GET shows the phone form; POST
-- /signin/send asks the accounts API for a code (/_api/auth/sms/send) and
-- shows the code form; POST /signin signs in (/_api/auth/sms/login), passes
-- the API's session cookies on and sends the citizen to the follow page.
-- The locations hold the API's own SMS and code budgets (same zones and
-- keys, conf/nginx.conf.in).  The WeChat column also offers WeChat sign-in.
-- docs/portal.md.

local page = require "dgj.page"
local form = require "dgj.form"
local portal = require "dgj.portal"


local ngx = ngx
local type = type
local sub = string.sub
local match = string.match
local gsub = string.gsub


local function show(v, t, status)
    t.page_title = "登录 - 民生大莞家"
    t.share_desc = "用手机验证码登录，查看我提交的诉求。"
    t.nav = "follow"
    t.csrf = form.csrf_token("signin")
    t.errors = t.errors or form.errors()
    t.cache_control = "no-store"

    return page.render("portal/signin.html", portal.ctx(v, t), status)
end


local function phone_of(args)
    -- blanks and dashes as people type them
    return sub(gsub(form.trim(args.phone), "[%s%-]", ""), 1, 20)
end


local function send(v, args)
    local phone = phone_of(args)
    local e = form.errors()

    if not match(phone, "^%+?%d+$") then
        e:add("phone", "请填写正确的手机号码。")
        return show(v, { phone = phone, errors = e }, 400)
    end

    local res, err, status = page.api("/_api/auth/sms/send", {
        method = ngx.HTTP_POST, body = { phone = phone } })

    if res == nil then
        if status == 400 then
            e:add("phone", "请填写正确的手机号码。")
        elseif status == 429 then
            e:add("form", "验证码发送太频繁，请稍后再试。")
        else
            ngx.log(ngx.WARN, "dgj signin: send: ", err, " ", status)
            e:add("form", "验证码暂时无法发送，请稍后再试。")
        end

        return show(v, { phone = phone, errors = e },
                    status == 400 and 400 or (status == 429 and 429 or 503))
    end

    return show(v, { phone = phone, sent = true,
                     masked = type(res.phone) == "string" and res.phone
                              or "" })
end


local function login(v, args)
    local phone = phone_of(args)
    local code = form.trim(args.code)
    local e = form.errors()

    if not match(code, "^%d%d%d%d%d%d$") then
        e:add("code", "请填写短信中的 6 位验证码。")
        return show(v, { phone = phone, sent = true, errors = e }, 400)
    end

    local res, err, status, headers = page.api("/_api/auth/sms/login", {
        method = ngx.HTTP_POST, body = { phone = phone, code = code } })

    if res == nil then
        if status == 401 or status == 400 then
            e:add("code", "验证码不正确或已过期，请重新获取。")
        elseif status == 429 then
            e:add("form", "尝试次数太多，请稍后再试。")
        else
            ngx.log(ngx.WARN, "dgj signin: login: ", err, " ", status)
            e:add("form", "系统繁忙，请稍后再试。")
        end

        return show(v, { phone = phone, sent = true, errors = e },
                    (status == 401 or status == 400) and 400
                    or (status == 429 and 429 or 503))
    end

    -- the session cookies the API set (dgj_at, dgj_rt, dgj_csrf)
    local cookies = headers and headers["Set-Cookie"]
    if cookies then
        ngx.header["Set-Cookie"] = cookies
    end

    return ngx.redirect(v.base .. "/follow", 303)
end


local function main()
    local v = portal.variant()
    local method = ngx.req.get_method()
    local sending = sub(ngx.var.uri, -5) == "/send"

    if method == "GET" or method == "HEAD" then
        if sending then
            return ngx.redirect(v.base .. "/signin", 303)
        end

        if portal.limited() then
            return page.error(429)
        end

        return show(v, {})
    end

    if method ~= "POST" then
        ngx.header["Allow"] = "GET, HEAD, POST"
        return ngx.exit(405)
    end

    local args = form.read()
    if args == nil then
        return page.error(400)
    end

    local e = form.errors()

    if portal.limited() then
        e:add("form", sending and "验证码发送太频繁，请一分钟后再试。"
                      or "尝试次数太多，请一分钟后再试。")
        return show(v, { phone = phone_of(args), sent = not sending,
                         errors = e }, 429)
    end

    if not form.csrf_ok(args, "signin") then
        e:add("form", "页面已过期，请重试。")
        return show(v, { phone = phone_of(args), errors = e }, 403)
    end

    if sending then
        return send(v, args)
    end

    return login(v, args)
end


return main()
