-- dgj.page: what every Lua page controller shares.  Owns the calls to the
-- internal /_api/ locations (subrequests to the FastCGI workers), the
-- mapping of their failures, the page layout, the response headers of HTML
-- pages and the friendly error page.  Controllers never talk to MariaDB.

local cjson = require "cjson.safe"
local template = require "dgj.template"
local gzip = require "dgj.gzip"


local _M = { _VERSION = "0.1.0" }


local ngx = ngx
local type = type
local ipairs = ipairs
local tostring = tostring
local setmetatable = setmetatable
local find = string.find
local sub = string.sub
local capture = ngx.location.capture
local capture_multi = ngx.location.capture_multi


local LAYOUT = "layout.html"

local API_PREFIX = "/_api/"

-- only our own origin, no inline script or style, no framing
local CSP = "default-src 'self'; object-src 'none'; base-uri 'self'; "
    .. "form-action 'self'; frame-ancestors 'none'"

-- what a citizen reads for each status; never server detail
local MESSAGES = {
    [400] = {
        title = "请求有误",
        detail = "您提交的内容格式不正确，请返回检查后重试。",
    },
    [403] = {
        title = "无权访问",
        detail = "您没有访问此页面的权限。",
    },
    [404] = {
        title = "页面不存在",
        detail = "您要找的页面不存在或已被移除，请从首页重新进入。",
    },
    [429] = {
        title = "操作太频繁",
        detail = "您的操作太频繁了，请稍等一分钟再试。",
    },
    [500] = {
        title = "系统出了点问题",
        detail = "服务器处理您的请求时出错，我们已经记录下来，请稍后再试。",
    },
    [503] = {
        title = "服务暂时不可用",
        detail = "平台正在维护或访问量较大，请稍后刷新重试。"
                 .. "如有紧急诉求，请拨打 12345 政务服务便民热线。",
    },
}

MESSAGES[502] = MESSAGES[503]
MESSAGES[504] = MESSAGES[503]

-- seconds a client should wait before retrying a 503
local RETRY_AFTER = 30

-- a private instance, so no other module's cjson settings leak in
local json = cjson.new()


-- Builds the arguments of ngx.location.capture for an API call.
local function capture_args(path, opts)
    if type(path) ~= "string" or sub(path, 1, #API_PREFIX) ~= API_PREFIX
       or find(path, "..", 1, true)
    then
        return nil, "not an API path: " .. tostring(path)
    end

    local args = { method = ngx.HTTP_GET }

    if opts then
        args.method = opts.method or ngx.HTTP_GET
        args.args = opts.args

        local body = opts.body
        if type(body) == "table" then
            local err
            body, err = json.encode(body)
            if body == nil then
                return nil, "cannot encode request body: " .. tostring(err)
            end
        end

        args.body = body
    end

    return args
end


-- Turns one subrequest result into data or nil, err, status.
local function decode(path, res)
    local status = res and res.status or 0
    local body = res and res.body or ""

    if status == 0 then
        ngx.log(ngx.ERR, "dgj page: api ", path, ": no response")
        return nil, "no response", 502
    end

    if status >= 200 and status < 300 then
        if res.truncated then
            ngx.log(ngx.ERR, "dgj page: api ", path, ": truncated body")
            return nil, "truncated body", 502
        end

        local data, err = json.decode(body)
        if type(data) ~= "table" then
            ngx.log(ngx.ERR, "dgj page: api ", path, ": undecodable body: ",
                    err or "not an object")
            return nil, "undecodable body", 502
        end

        return data, nil, status
    end

    -- the API's error reply names a code; nginx's own 502 page does not
    local code = "http_" .. status
    local e = json.decode(body)
    if type(e) == "table" and type(e.error) == "table"
       and type(e.error.code) == "string"
    then
        code = e.error.code
    end

    ngx.log(status >= 500 and ngx.ERR or ngx.INFO,
            "dgj page: api ", path, ": ", status, " ", code)

    return nil, code, status
end


-- Calls one internal API location ("/_api/overview") and decodes its JSON.
-- opts (optional): method (ngx.HTTP_*), args (table or string), body
-- (string, or a table sent as JSON).
-- Returns the decoded object (owned by the caller) and the status; or nil,
-- err, status where status is the API's (503 db_unavailable, 404 ...), 502
-- when the FastCGI pool is down or the body is not a JSON object, and 500
-- for a bad path.  err is for the log, never for the citizen.  A fourth
-- value is the API's response headers (a table, or nil), for a page that
-- passes on what the API named (X-Dgj-Action, docs/audit.md).
function _M.api(path, opts)
    local args, err = capture_args(path, opts)
    if args == nil then
        return nil, err, 500
    end

    local res = capture(path, args)
    local data, derr, status = decode(path, res)

    return data, derr, status, res and res.header
end


-- Calls several API locations in parallel.  calls is a list of
-- { path, opts }.  Returns a list of { data = ..., err = ..., status = ... }
-- in the same order, one per call, each as _M.api() would give it.
function _M.api_multi(calls)
    local list = {}
    local out = {}

    for i, call in ipairs(calls) do
        local args, err = capture_args(call[1], call[2])
        if args == nil then
            for j = 1, #calls do
                out[j] = { err = err, status = 500 }
            end

            return out
        end

        list[i] = { call[1], args }
    end

    if #list == 0 then
        return out
    end

    local res = { capture_multi(list) }

    for i, call in ipairs(list) do
        local data, err, status = decode(call[1], res[i])
        out[i] = { data = data, err = err, status = status }
    end

    return out
end


local function send(status, html, cache_control, encoding)
    if ngx.headers_sent then
        ngx.log(ngx.ERR, "dgj page: headers already sent, page dropped")
        return ngx.exit(ngx.OK)
    end

    local h = ngx.header

    ngx.status = status
    h["Content-Type"] = "text/html; charset=utf-8"
    h["Content-Length"] = #html
    h["Cache-Control"] = cache_control
    -- X-Content-Type-Options comes from nginx.conf, for every response
    h["Content-Security-Policy"] = CSP
    h["Referrer-Policy"] = "same-origin"
    h["X-Frame-Options"] = "DENY"

    if encoding then
        -- a kept page, sent as is or compressed: caches must tell apart
        h["Vary"] = "Accept-Encoding"

        if encoding == "gzip" then
            h["Content-Encoding"] = "gzip"
        end
    end

    if status == 503 or status == 429 then
        h["Retry-After"] = status == 503 and RETRY_AFTER or 60
    end

    ngx.print(html)

    return ngx.exit(ngx.OK)
end


-- Renders page template `name` inside the layout (ctx.layout, default
-- layout.html; the WeChat column has its own).  The layout sees ctx plus
-- `page_template` (name), which it includes where the page goes.  Returns
-- the HTML or nil, err.
local function render_page(name, ctx)
    -- the page is rendered in place, into the layout's output: no string
    -- of the page alone is made
    local lctx = setmetatable({ page_template = name }, { __index = ctx })

    return template.render(ctx.layout or LAYOUT, lctx)
end


-- Last resort when even the error template fails: a page with no template.
local function fallback_html(m, request_id)
    local esc = template.escape

    return "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head>"
        .. "<meta charset=\"utf-8\">"
        .. "<title>" .. esc(m.title) .. " - 民生大莞家</title>"
        .. "<link rel=\"stylesheet\" href=\"/static/css/site.css\"></head>"
        .. "<body><main class=\"error-page\"><h1>" .. esc(m.title) .. "</h1>"
        .. "<p>" .. esc(m.detail) .. "</p>"
        .. "<p>请求编号：<code>" .. esc(request_id) .. "</code></p>"
        .. "<p><a href=\"/\">返回首页</a></p></main></body></html>\n"
end


-- Sends a friendly Chinese error page with HTTP `status` (default 500) and
-- the request id for the citizen to quote.  title and detail are optional
-- plain text (escaped); when omitted, the text for the status is used.
-- Never pass server detail (SQL, errors) here: log it instead.
-- Ends the request.
function _M.error(status, title, detail)
    status = status or 500

    local m = MESSAGES[status] or MESSAGES[status >= 500 and 500 or 400]
    local request_id = ngx.var.request_id

    local ctx = {
        status = status,
        title = title or m.title,
        detail = detail or m.detail,
        request_id = request_id,
        page_title = (title or m.title) .. " - 民生大莞家",
    }

    local html, err = render_page("error.html", ctx)
    if html == nil then
        ngx.log(ngx.ERR, "dgj page: error page: ", err)
        html = fallback_html(ctx, request_id)
    end

    return send(status, html, "no-store")
end


-- Renders page template `name` inside the layout and returns the HTML, or
-- nil, err; for a page that keeps what it rendered (dgj.cache) and sends
-- it with send_html().
_M.render_html = render_page


-- Sends HTML made by render_html() with `status` (default 200) and the
-- headers of every page.  cache_control defaults to "no-cache".  Ends the
-- request.
function _M.send_html(html, status, cache_control)
    return send(status or 200, html, cache_control or "no-cache")
end


-- Sends a page kept by its controller: `kept` is { html = ..., gz = ... }
-- (gz: the same HTML through dgj.gzip, or nil), the gzip copy to a client
-- that accepts it, with Vary: Accept-Encoding either way.  The status is
-- 200 and cache_control as for send_html().  Ends the request.
function _M.send_kept(kept, cache_control)
    if kept.gz and gzip.accepted(ngx.var.http_accept_encoding) then
        return send(200, kept.gz, cache_control or "no-cache", "gzip")
    end

    return send(200, kept.html, cache_control or "no-cache", "identity")
end


-- Returns { html = html, gz = its gzip stream or nil } for send_kept();
-- a page that cannot be compressed is kept and sent as it is.
function _M.keep(html)
    local gz, err = gzip.compress(html)
    if gz == nil then
        ngx.log(ngx.WARN, "dgj page: gzip: ", err)
    end

    return { html = html, gz = gz }
end


-- Renders page template `name` with ctx (ctx.page_title is the <title>)
-- inside the layout and sends it with `status` (default 200), the HTML
-- content type and the security headers.  A template failure is logged and
-- answered with the 500 error page.  Ends the request.
-- ctx.cache_control replaces "no-cache" (a page showing a query code
-- sends "no-store").
function _M.render(name, ctx, status)
    ctx = ctx or {}

    local html, err = render_page(name, ctx)
    if html == nil then
        ngx.log(ngx.ERR, "dgj page: render ", name, ": ", err)
        return _M.error(500)
    end

    return send(status or 200, html, ctx.cache_control or "no-cache")
end


return _M
