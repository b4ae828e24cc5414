-- lua/pages/portal/disclosures_page.lua: the disclosures (公示) of both columns:
-- the list with keyword, category, town and date filters and paging
-- (/disclosures) and one published appeal (/disclosures/DG...).  Public
-- data through dgj.cache: while the backend is down the pages render from
-- the last copy with a notice.  The API masks and redacts; this page
-- never sees a name or a phone number.  docs/portal.md.

local page = require "dgj.page"
local cache = require "dgj.cache"
local portal = require "dgj.portal"


local ngx = ngx
local type = type
local ipairs = ipairs
local match = string.match
local sub = string.sub


local str = portal.str

local FILTERS = { "q", "category", "district", "from", "to", "cursor" }


local function filters()
    local q = ngx.req.get_uri_args(20)
    local f = {}

    for _, k in ipairs(FILTERS) do
        local s = q[k]
        if type(s) == "table" then
            s = s[#s]
        end

        f[k] = type(s) == "string" and sub(s, 1, 200) or ""
    end

    -- an empty date field is no filter; a malformed one is dropped with a
    -- note instead of the API's 400
    for _, k in ipairs({ "from", "to" }) do
        if f[k] ~= "" and not match(f[k], "^%d%d%d%d%-%d%d%-%d%d$") then
            f[k] = ""
            f.bad_date = true
        end
    end

    return f
end


local function list(v)
    local f = filters()

    -- the rendered page, per worker and filters, while its data is fresh
    local dkey = portal.disclosures_key(f, 20)
    local key = v.name .. ":" .. dkey .. (f.bad_date and ":bad" or "")
    local html = cache.get_local(key)
    if html then
        return page.send_html(html)
    end

    local cat, cstale = portal.catalogue()

    local res, stale, err, status = portal.disclosures(f, 20)

    local note
    if res == nil then
        if status == 400 then
            note = "筛选条件有误，请调整后重试。"
            res = { items = {} }
        else
            ngx.log(ngx.ERR, "dgj disclosures: ", err, " ", status)
            return page.error(503)
        end
    end

    local items = {}
    for _, it in ipairs(type(res.items) == "table" and res.items or {}) do
        items[#items + 1] = {
            tracking_no = it.tracking_no,
            title = str(it.public_title),
            category = str(it.category_name),
            district = str(it.district_name),
            submitted_on = str(it.submitted_on),
            published_on = type(it.published_at) == "string"
                           and sub(it.published_at, 1, 10) or "",
            rating_title = str(it.rating_title),
        }
    end

    -- the next page's link, from known parts only
    local next_href
    if type(res.next) == "string" and res.next ~= "" then
        local args = {}
        for _, k in ipairs(FILTERS) do
            if k ~= "cursor" and f[k] ~= "" then
                args[k] = f[k]
            end
        end
        args.cursor = res.next
        next_href = v.base .. "/disclosures?" .. ngx.encode_args(args)
    end

    local err2
    html, err2 = page.render_html("portal/disclosures.html", portal.ctx(v, {
        page_title = "公开答复 - 民生大莞家",
        share_desc = "东莞市民生诉求的公开答复：诉求、答复和评价，个人信息一律隐去。",
        nav = "disclosures",
        stale = stale or cstale,
        cat = cat,
        f = f,
        items = items,
        next_href = next_href,
        first_href = f.cursor ~= "" and (v.base .. "/disclosures") or nil,
        note = note or (f.bad_date and "日期格式应为 年-月-日，已忽略。"),
    }))

    if html == nil then
        ngx.log(ngx.ERR, "dgj disclosures: render: ", err2)
        return page.error(500)
    end

    html = portal.compact(html)

    if note == nil then
        cache.set_local(key, html, math.min(cache.fresh_until(dkey),
            cache.fresh_until("categories"), cache.fresh_until("districts")))
    end

    return page.send_html(html)
end


local function detail(v, no)
    local d, stale, err, status = portal.disclosure(no)

    if d == nil then
        if status == 404 then
            return page.error(404, "没有这条公开答复",
                              "该诉求未公开或不存在。请从公开答复列表进入。")
        end

        ngx.log(ngx.ERR, "dgj disclosure: ", err, " ", status)
        return page.error(503)
    end

    local title = type(d.public_title) == "string" and d.public_title or ""

    return page.render("portal/disclosure.html", portal.ctx(v, {
        page_title = title .. " - 公开答复 - 民生大莞家",
        share_title = title,
        share_desc = "民生大莞家公开答复：" .. (d.category_name or ""),
        nav = "disclosures",
        stale = stale,
        d = {
            tracking_no = d.tracking_no,
            title = title,
            content = str(d.public_content),
            category = str(d.category_name),
            topic = str(d.topic_name),
            district = str(d.district_name),
            department = str(d.lead_department_name),
            state_title = str(d.state_title),
            submitted_on = str(d.submitted_on),
            reply = str(d.reply),
            replied_on = str(d.replied_on),
            outcome = portal.OUTCOMES[d.outcome],
            published_on = type(d.published_at) == "string"
                           and sub(d.published_at, 1, 10) or "",
            closed_on = str(d.closed_on),
            rating_title = str(d.rating_title),
            resolved = d.resolved,
        },
    }))
end


local function main()
    local v = portal.variant()
    local method = ngx.req.get_method()

    if method ~= "GET" and method ~= "HEAD" then
        ngx.header["Allow"] = "GET, HEAD"
        return ngx.exit(405)
    end

    local no = match(ngx.var.uri, "/disclosures/(DG%d+)$")
    if no then
        return detail(v, no)
    end

    return list(v)
end


return { main = main }
