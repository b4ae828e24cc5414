-- lua/pages/portal/follow.lua: the follow page of both columns (/follow,
-- /follow/rate, and the same under /wx/).  GET shows the query form (the
-- tracking number may come from the home page's query box) and, for a
-- signed-in citizen, "my appeals".  POST /follow looks the appeal up by
-- tracking number and query code through /_api/appeals/track and shows
-- its state, public timeline, deadlines, reply and, when awaited, the
-- rating form; POST /follow/rate rates it.  A wrong code and an unknown
-- number get the same page.  docs/portal.md.

local page = require "dgj.page"
local form = require "dgj.form"
local portal = require "dgj.portal"


local ngx = ngx
local type = type
local ipairs = ipairs
local tonumber = tonumber
local upper = string.upper
local sub = string.sub

local str = portal.str

local NOT_FOUND = "没有找到与该诉求编号和查询码相符的诉求，请核对后重试。"


local function my_appeals()
    if not portal.signed_in() then
        return nil
    end

    local res = page.api("/_api/appeals/mine", { args = { limit = 20 } })
    if res == nil or type(res.items) ~= "table" then
        return nil
    end

    local out = {}
    for _, it in ipairs(res.items) do
        out[#out + 1] = {
            tracking_no = it.tracking_no,
            title = str(it.title),
            category = str(it.category_name),
            state_title = str(it.state_title),
            submitted_at = portal.minute(it.submitted_at),
            rating_open = it.rating_open == true,
        }
    end

    return out
end


local function shape(a)
    local timeline = {}

    for _, ev in ipairs(type(a.timeline) == "table" and a.timeline or {}) do
        timeline[#timeline + 1] = {
            at = portal.minute(ev.at),
            title = str(ev.title),
            state_title = str(ev.to_state_title),
            department = str(ev.department_name),
            target = str(ev.target_department_name),
            comment = str(ev.comment),
            due = portal.minute(ev.due_at_set),
        }
    end

    return {
        tracking_no = a.tracking_no,
        title = str(a.title),
        category = str(a.category_name),
        district = str(a.district_name),
        state = a.state,
        state_title = str(a.state_title),
        submitted_at = portal.minute(a.submitted_at),
        due_at = portal.minute(a.due_at),
        handle_due_at = portal.minute(a.handle_due_at),
        department = str(a.lead_department_name),
        reply = str(a.reply),
        replied_at = portal.minute(a.replied_at),
        outcome = portal.OUTCOMES[a.outcome],
        rating_title = str(a.rating_title) or portal.rating_title(a.rating),
        resolved = a.resolved,
        rated_at = portal.minute(a.rated_at),
        rating_open = a.rating_open == true,
        timeline = timeline,
    }
end


local function show(v, t)
    t.page_title = t.page_title or "查询办理进度 - 民生大莞家"
    t.share_desc = "凭诉求编号和查询码查询办理进度和答复。"
    t.nav = "follow"
    t.csrf = form.csrf_token("follow")
    t.ratings = portal.RATINGS
    t.cache_control = "no-store"
    t.wechat_login = v.wx and not portal.signed_in()
    t.errors = t.errors or form.errors()
    t.vals = t.vals or {}

    if t.appeal and t.appeal.rating_open then
        t.rate_csrf = form.csrf_token("rate")
    end

    if t.appeal == nil then
        t.mine = my_appeals()
    end

    return page.render("portal/follow.html", portal.ctx(v, t), t.status)
end


-- Tracks (no, code): the appeal or nil, the page's status, a message.
local function track(no, code)
    local res, err, status = page.api("/_api/appeals/track", {
        method = ngx.HTTP_POST,
        body = { tracking_no = no, query_code = code },
    })

    if res then
        return shape(res), 200
    end

    if status == 404 or status == 400 then
        return nil, 404, NOT_FOUND
    end

    if status == 429 then
        return nil, 429, "查询太频繁，请一分钟后再试。"
    end

    ngx.log(ngx.WARN, "dgj follow: track: ", err, " ", status)
    return nil, 503, "系统繁忙，请稍后再试。"
end


local function read_pair(args)
    local no = upper(form.trim(args.tracking_no))
    local code = upper(form.trim(args.query_code))
    return no, code
end


local function post_follow(v)
    local args = form.read()
    if args == nil then
        return page.error(400)
    end

    local no, code = read_pair(args)
    local vals = { tracking_no = no }
    local e = form.errors()

    if not form.csrf_ok(args, "follow") then
        e:add("form", "页面已过期，请再次查询。")
        return show(v, { vals = vals, errors = e, status = 403 })
    end

    if no == "" then
        e:add("tracking_no", "请填写诉求编号。")
    end

    if code == "" then
        e:add("query_code", "请填写查询码。")
    end

    if e:any() then
        return show(v, { vals = vals, errors = e, status = 400 })
    end

    -- a malformed number or code is "not found" like any other miss
    local a, status, msg
    if portal.is_tracking_no(no) and #code == 6 then
        a, status, msg = track(no, code)
    else
        status, msg = 404, NOT_FOUND
    end

    if a == nil then
        e:add("form", msg)
        return show(v, { vals = vals, errors = e, status = status })
    end

    return show(v, { appeal = a, code = code, vals = vals })
end


local function post_rate(v)
    local args = form.read()
    if args == nil then
        return page.error(400)
    end

    local no, code = read_pair(args)
    local e = form.errors()

    if not form.csrf_ok(args, "rate") then
        e:add("form", "页面已过期，请重新查询后再评价。")
        return show(v, { vals = { tracking_no = no }, errors = e,
                         status = 403 })
    end

    local rating = tonumber(args.rating)
    local resolved = args.resolved

    if rating == nil or rating < 1 or rating > 5 or rating % 1 ~= 0 then
        e:add("rating", "请选择满意程度。")
    end

    if resolved ~= "yes" and resolved ~= "no" then
        e:add("resolved", "请选择问题是否已解决。")
    end

    local comment = form.trim(args.comment)
    if form.ulen(comment) > 500 then
        e:add("comment", "评价意见最多 500 个字。")
    end

    local a, status, msg = nil, 404, NOT_FOUND
    if portal.is_tracking_no(no) and #code == 6 then
        a, status, msg = track(no, code)
    end

    if a == nil then
        e:add("form", msg)
        return show(v, { vals = { tracking_no = no }, errors = e,
                         status = status })
    end

    if e:any() then
        return show(v, { appeal = a, code = code, errors = e,
                         rate_vals = { rating = rating, resolved = resolved,
                                       comment = comment },
                         vals = { tracking_no = no }, status = 400 })
    end

    local res, err, st = page.api("/_api/appeals/track/rate", {
        method = ngx.HTTP_POST,
        body = { tracking_no = no, query_code = code, rating = rating,
                 resolved = resolved == "yes",
                 comment = comment ~= "" and comment or nil },
    })

    if res == nil then
        if st == 409 then
            e:add("form", "该诉求当前不能评价（可能已评价或已超过评价期限）。")
        elseif st == 429 then
            e:add("form", "操作太频繁，请一分钟后再试。")
        elseif st and st >= 500 or st == nil then
            ngx.log(ngx.WARN, "dgj follow: rate: ", err, " ", st)
            e:add("form", "系统繁忙，请稍后再试。您的评价已保留，可再次提交。")
        else
            e:add("form", "评价未能提交，请检查后重试。")
        end

        return show(v, { appeal = a, code = code, errors = e,
                         rate_vals = { rating = rating, resolved = resolved,
                                       comment = comment },
                         vals = { tracking_no = no },
                         status = st == 409 and 409 or (st == 429 and 429)
                                  or (st == 400 and 400) or 503 })
    end

    a = track(no, code) or a

    return show(v, { appeal = a, code = code, rated = true,
                     vals = { tracking_no = no } })
end


local function main()
    local v = portal.variant()
    local method = ngx.req.get_method()
    local rate = sub(ngx.var.uri, -5) == "/rate"

    if portal.limited() then
        if method == "POST" then
            local args = form.read() or {}
            local e = form.errors()
            e:add("form", "查询太频繁，请一分钟后再试。")
            return show(v, { vals = { tracking_no = upper(form.trim(
                                          args.tracking_no)) },
                             errors = e, status = 429 })
        end

        return page.error(429)
    end

    if method == "POST" then
        if rate then
            return post_rate(v)
        end

        return post_follow(v)
    end

    if method ~= "GET" and method ~= "HEAD" then
        ngx.header["Allow"] = "GET, HEAD, POST"
        return ngx.exit(405)
    end

    if rate then
        return ngx.redirect(v.base .. "/follow", 303)
    end

    local q = ngx.req.get_uri_args(5)
    local no = type(q.tracking_no) == "string"
               and upper(form.trim(q.tracking_no)) or ""

    return show(v, { vals = { tracking_no = sub(no, 1, 16) } })
end


return main()
