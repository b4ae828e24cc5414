-- lua/pages/portal/submit.lua: the submission page of both columns
-- (/submit, /wx/submit).  GET shows the form; POST checks the CSRF token,
-- the anti-automation question and the fields, submits through
-- /_api/appeals, attaches the images with the new query code and shows
-- the receipt (tracking number and query code, this once, no-store).  Any
-- problem shows the form again with every typed value kept and the reason
-- next to the field; a backend outage answers 503 "try again shortly",
-- typed text kept.  docs/portal.md.

local page = require "dgj.page"
local form = require "dgj.form"
local portal = require "dgj.portal"


local ngx = ngx
local type = type
local ipairs = ipairs
local match = string.match
local sub = string.sub
local byte = string.byte
local lower = string.lower

local FIELDS = { "category_code", "district_code", "address", "title",
                 "content", "name", "phone" }

local MAX_FILES = 5
local MAX_FILE_BYTES = 5 * 1024 * 1024

-- what each API error code says, and next to which field
local API_ERRORS = {
    unknown_category = { "category_code", "请选择一个有效的诉求分类。" },
    category_not_leaf = { "category_code", "请选择具体的小类。" },
    category_inactive = { "category_code", "该分类已停用，请选择其他分类。" },
    unknown_district = { "district_code", "请选择所在镇街。" },
    invalid_phone = { "phone", "请填写正确的手机号码或带区号的固定电话。" },
    invalid_id_number = { "phone", "身份证号码不正确。" },
}

-- the API's text checks name the field first: "\"title\" must be ..."
local FIELD_MESSAGES = {
    title = "标题应为 4 到 100 个字，且不含控制字符。",
    content = "诉求内容应为 10 到 4000 个字。",
    address = "地址最多 200 个字。",
    name = "姓名最多 50 个字。",
    phone = "请填写正确的手机号码或带区号的固定电话。",
    category_code = "请选择诉求分类。",
    district_code = "请选择所在镇街。",
}


-- Image type from the first bytes; the API checks again.
local function image_type(data)
    local a, b, c, d = byte(data, 1, 4)

    if a == 0xFF and b == 0xD8 and c == 0xFF then
        return "jpeg"
    end

    if a == 0x89 and b == 0x50 and c == 0x4E and d == 0x47 then
        return "png"
    end

    if sub(data, 1, 4) == "RIFF" and sub(data, 9, 12) == "WEBP" then
        return "webp"
    end

    return nil
end


local function values_from(args)
    local vals = {}

    for _, k in ipairs(FIELDS) do
        vals[k] = form.trim(args[k])
    end

    -- the content keeps its inner line breaks
    vals.content = type(args.content) == "string"
                   and match(args.content, "^%s*(.-)%s*$") or ""
    vals.anonymous = args.anonymous == "1"
    vals.publish_consent = args.publish_consent == "1"

    return vals
end


local function check(vals, files, cat)
    local e = form.errors()

    if vals.category_code == "" then
        e:add("category_code", "请选择诉求分类。")
    elseif cat and cat.leaves[vals.category_code] == nil then
        e:add("category_code", "请选择一个有效的诉求分类。")
    end

    if vals.district_code == "" then
        e:add("district_code", "请选择所在镇街。")
    elseif cat and cat.district_names[vals.district_code] == nil then
        e:add("district_code", "请选择所在镇街。")
    end

    if form.ulen(vals.address) > 200 then
        e:add("address", FIELD_MESSAGES.address)
    end

    local n = form.ulen(vals.title)
    if n < 4 or n > 100 then
        e:add("title", n == 0 and "请填写标题。" or FIELD_MESSAGES.title)
    end

    n = form.ulen(vals.content)
    if n < 10 or n > 4000 then
        e:add("content", n == 0 and "请填写诉求内容。" or FIELD_MESSAGES.content)
    end

    if form.ulen(vals.name) > 50 then
        e:add("name", FIELD_MESSAGES.name)
    end

    if vals.phone == "" then
        e:add("phone", "请填写联系电话，方便承办部门联系您。")
    elseif not match(vals.phone, "^[%d%s%-%+]+$") then
        e:add("phone", FIELD_MESSAGES.phone)
    end

    if #files > MAX_FILES then
        e:add("images", "最多上传 5 张图片。")
    end

    for _, f in ipairs(files) do
        if #f.data > MAX_FILE_BYTES then
            e:add("images", "每张图片不能超过 5 MB。")
        elseif image_type(f.data) == nil then
            e:add("images", "只能上传 JPG、PNG 或 WebP 格式的图片。")
        end
    end

    return e
end


local function show_form(v, vals, errors, status, notice)
    local cat, stale = portal.catalogue()
    if cat == nil then
        -- no catalogue at all: nothing to pick from
        return page.error(503)
    end

    return page.render("portal/submit.html", portal.ctx(v, {
        page_title = "提出诉求 - 民生大莞家",
        share_desc = "在线提出民生诉求，获得诉求编号和查询码，随时查询办理进度。",
        nav = "submit",
        stale = stale,
        cat = cat,
        vals = vals,
        errors = errors or form.errors(),
        notice = notice,
        csrf = form.csrf_token("submit"),
        challenge = form.challenge(),
        cache_control = "no-store",
    }), status or 200)
end


local function upload(no, code, files)
    local failed = {}

    if #files == 0 then
        return failed
    end

    ngx.req.set_header("X-Query-Code", code)

    for i, f in ipairs(files) do
        ngx.req.set_header("X-File-Name", ngx.escape_uri(f.filename))

        local res, err, status = page.api("/_api/appeals/" .. no
                                          .. "/attachments",
                                          { method = ngx.HTTP_POST,
                                            body = f.data })
        if res == nil then
            ngx.log(ngx.WARN, "dgj submit: attachment ", i, " of ", no, ": ",
                    err, " ", status)
            failed[#failed + 1] = f.filename
        end
    end

    ngx.req.clear_header("X-Query-Code")
    ngx.req.clear_header("X-File-Name")

    return failed
end


local function post(v)
    local args, files = form.read()
    if args == nil then
        return page.error(400)
    end

    local vals = values_from(args)

    if portal.limited() then
        local e = form.errors()
        e:add("form", "提交太频繁，请一分钟后再试（您填写的内容已保留）。")
        return show_form(v, vals, e, 429)
    end

    if not form.csrf_ok(args, "submit") then
        local e = form.errors()
        e:add("form", "页面已过期或来源不明，请核对后再次提交（您填写的内容已保留）。")
        return show_form(v, vals, e, 403)
    end

    local cat = portal.catalogue()
    local e = check(vals, files, cat)

    -- the honeypot: people never see "website"; a filled one is a bot
    if not form.challenge_ok(args) or (args.website or "") ~= "" then
        e:add("captcha", "验证答案不正确，请重新计算后填写。")
    end

    if e:any() then
        if #files > 0 then
            e:add("images", "出于安全原因，请重新选择要上传的图片。")
        end

        return show_form(v, vals, e, 400)
    end

    -- a resent form (double click, reload) gets the first appeal back
    ngx.req.set_header("Idempotency-Key",
                       ngx.md5(ngx.var.cookie_dgj_pf .. "|" .. args._csrf))

    local res, err, status = page.api("/_api/appeals", {
        method = ngx.HTTP_POST,
        body = {
            channel = v.channel,
            category_code = vals.category_code,
            district_code = vals.district_code,
            address = vals.address ~= "" and vals.address or nil,
            title = vals.title,
            content = vals.content,
            name = vals.name ~= "" and vals.name or nil,
            phone = vals.phone,
            anonymous = vals.anonymous,
            publish_consent = vals.publish_consent,
        },
    })

    ngx.req.clear_header("Idempotency-Key")

    if res == nil then
        if status == 400 or status == 409 then
            local m = API_ERRORS[err]
            local field = m and m[1]

            e:add(field or "form", m and m[2] or "提交的内容有误，请检查后重试。")
            return show_form(v, vals, e, 400)
        end

        if status == 429 then
            e:add("form", "提交太频繁，请一分钟后再试（您填写的内容已保留）。")
            return show_form(v, vals, e, 429)
        end

        e:add("form", "系统繁忙，请稍后再试。您填写的内容已保留，可直接再次提交。")
        return show_form(v, vals, e, 503)
    end

    if type(res.query_code) ~= "string" then
        -- replay of an old key without its code: say so, never guess
        ngx.log(ngx.WARN, "dgj submit: no query code for ", res.tracking_no)
    end

    local failed = {}
    if type(res.query_code) == "string" then
        failed = upload(res.tracking_no, res.query_code, files)
    end

    return page.render("portal/receipt.html", portal.ctx(v, {
        page_title = "提交成功 - 民生大莞家",
        nav = "submit",
        r = {
            tracking_no = res.tracking_no,
            query_code = type(res.query_code) == "string" and res.query_code
                         or nil,
            state_title = res.state_title,
            due_at = portal.minute(res.due_at),
            title = vals.title,
            category = cat and cat.leaves[vals.category_code]
                       and cat.leaves[vals.category_code].name or "",
            district = cat and cat.district_names[vals.district_code] or "",
            images = #files - #failed,
            failed = failed,
        },
        cache_control = "no-store",
    }))
end


local function main()
    local v = portal.variant()
    local method = ngx.req.get_method()

    if method == "POST" then
        return post(v)
    end

    if method ~= "GET" and method ~= "HEAD" then
        ngx.header["Allow"] = "GET, HEAD, POST"
        return ngx.exit(405)
    end

    if portal.limited() then
        return page.error(429)
    end

    local q = ngx.req.get_uri_args(10)
    local vals = { category_code = type(q.category) == "string" and q.category
                                   or "" }

    return show_form(v, vals)
end


return main()
