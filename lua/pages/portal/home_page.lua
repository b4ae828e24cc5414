-- lua/pages/portal/home_page.lua: controller of the home page of both columns
-- (location = / and = /wx/).  Owns what the home page shows: the
-- overview, the districts and the category catalogue, and the latest
-- disclosures, all through dgj.cache (fresh for portal.TTL seconds, old
-- copies served with a notice while the backend is down), shaped for
-- templates/home.html.  The rendered page is kept per worker while its
-- data is fresh.  It answers 503 with the error page only when there is
-- no copy at all (never a page with empty figures).

local page = require "dgj.page"
local cache = require "dgj.cache"
local portal = require "dgj.portal"


local ngx = ngx
local type = type
local ipairs = ipairs
local tonumber = tonumber
local match = string.match
local os_date = os.date
local os_time = os.time


local TYPE_LABELS = {
    consultation = "咨询",
    help = "求助",
    complaint = "投诉",
    report = "举报",
    suggestion = "建议",
    praise = "表扬",
}

local WEEKDAYS = { "日", "一", "二", "三", "四", "五", "六" }


local function loader(path, opts)
    return function()
        local data, err, status = page.api(path, opts)
        if data == nil then
            return nil, (err or "?") .. " (" .. (status or 0) .. ")"
        end

        return data
    end
end


-- n / d as a percentage with one decimal, or nil without a denominator.
local function pct(n, d)
    if type(n) ~= "number" or type(d) ~= "number" or d <= 0 then
        return nil
    end

    return math.floor(n * 1000 / d + 0.5) / 10
end


-- A count from the API: a non-negative integer, or nil.
local function count(v)
    if type(v) == "number" and v >= 0 and v % 1 == 0 then
        return v
    end

    return nil
end


-- JSON true or 1 (the API may pass a TINYINT through).
local function truthy(v)
    return v == true or v == 1
end


-- "2026-11-30" -> "2026年11月30日", "星期一"; nil for anything else.
local function format_date(s)
    if type(s) ~= "string" then
        return nil
    end

    local y, m, d = match(s, "^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
    if y == nil then
        return nil
    end

    y, m, d = tonumber(y), tonumber(m), tonumber(d)

    -- noon: no DST edge can move the day
    local t = os_time({ year = y, month = m, day = d, hour = 12 })
    local wday = os_date("*t", t).wday

    return y .. "年" .. m .. "月" .. d .. "日", "星期" .. WEEKDAYS[wday]
end


local function build_overview(ov)
    local d = type(ov.districts) == "table" and ov.districts or {}
    local c = type(ov.categories) == "table" and ov.categories or {}
    local today = type(ov.today) == "table" and ov.today or {}

    local v = {
        subdistricts = count(d.subdistricts),
        towns = count(d.towns),
        departments = count(ov.departments),
        categories_top = count(c.top),
        categories_leaves = count(c.leaves),
        working_day = truthy(today.working_day),
        date_iso = today.date,
        calendar = {},
    }

    v.date, v.weekday = format_date(today.date)

    if v.subdistricts == nil or v.towns == nil or v.departments == nil
       or v.categories_top == nil or v.categories_leaves == nil
       or v.date == nil or type(ov.calendar) ~= "table"
    then
        return nil, "overview: missing or malformed field"
    end

    for i, y in ipairs(ov.calendar) do
        if type(y) ~= "table" or count(y.year) == nil then
            return nil, "overview: malformed calendar year"
        end

        v.calendar[i] = { year = y.year, provisional = truthy(y.provisional) }
    end

    return v
end


local function build_districts(res)
    if type(res.items) ~= "table" then
        return nil, "districts: no items"
    end

    local subdistricts, towns = {}, {}

    for _, it in ipairs(res.items) do
        if type(it) ~= "table" or type(it.name) ~= "string" then
            return nil, "districts: malformed item"
        end

        local row = { code = it.code, name = it.name }

        if it.kind == "subdistrict" then
            subdistricts[#subdistricts + 1] = row

        elseif it.kind == "town" then
            towns[#towns + 1] = row
        end
    end

    return { subdistricts = subdistricts, towns = towns }
end


local function build_categories(res)
    if type(res.items) ~= "table" then
        return nil, "categories: no items"
    end

    local topics = {}

    for i, top in ipairs(res.items) do
        if type(top) ~= "table" or type(top.name) ~= "string" then
            return nil, "categories: malformed topic"
        end

        local leaves = {}

        if type(top.children) == "table" then
            for j, leaf in ipairs(top.children) do
                if type(leaf) ~= "table" or type(leaf.name) ~= "string" then
                    return nil, "categories: malformed leaf"
                end

                leaves[j] = {
                    code = leaf.code,
                    name = leaf.name,
                    type = leaf.appeal_type,
                    type_label = TYPE_LABELS[leaf.appeal_type],
                    days = count(leaf.handling_days),
                    public = leaf.is_public == nil or truthy(leaf.is_public),
                }
            end
        end

        topics[i] = { code = top.code, name = top.name, leaves = leaves }
    end

    return topics
end


-- The latest published appeals for the home page (the first page of the
-- disclosures, cached like the rest).
local function build_latest(res)
    local out = {}

    for i, it in ipairs(type(res.items) == "table" and res.items or {}) do
        if i > 5 then
            break
        end

        if type(it) == "table" and type(it.public_title) == "string" then
            out[#out + 1] = {
                tracking_no = it.tracking_no,
                title = it.public_title,
                category = portal.str(it.category_name),
                district = portal.str(it.district_name),
                published_on = type(it.published_at) == "string"
                               and it.published_at:sub(1, 10) or "",
                rating_title = portal.str(it.rating_title),
            }
        end
    end

    return out
end


local function render(v)
    local ov, s1 = cache.get("overview", portal.TTL,
                             loader("/_api/overview"))
    local dists, s2 = cache.get("districts", portal.TTL,
                                loader("/_api/districts"))
    local cats, s3 = cache.get("categories", portal.TTL,
                               loader("/_api/categories"))

    if ov == nil or dists == nil or cats == nil then
        -- neither fresh nor old data: nothing honest to show
        return nil, "no data", 503
    end

    local overview, districts, topics, err

    overview, err = build_overview(ov)
    if overview then
        districts, err = build_districts(dists)
    end

    if districts then
        topics, err = build_categories(cats)
    end

    if topics == nil then
        return nil, err, 503
    end

    local month
    if type(ov.month) == "table" then
        local m = ov.month
        month = {
            appeals = count(m.appeals) or 0,
            closure_rate = pct(m.closed, m.appeals),
            satisfaction_rate = pct(m.satisfied, m.rated),
        }
    end

    -- the latest disclosures are a bonus: the page stands without them
    local latest
    local dres, s4 = cache.get("disclosures:home", portal.TTL,
                               loader("/_api/disclosures",
                                      { args = { limit = 5 } }))
    if dres then
        latest = build_latest(dres)
    end

    local stale = s1 or s2 or s3 or s4 or false

    return page.render_html("home.html", portal.ctx(v, {
        page_title = v.wx and "民生大莞家 · 微信服务"
                     or "民生大莞家 - 东莞市民生诉求服务平台",
        share_desc = "东莞市民生诉求服务平台：提出诉求、查询进度、查看公开答复。",
        nav = "home",
        base = v.base,
        wx = v.wx,
        stale = stale,
        overview = overview,
        month = month,
        latest = latest,
        districts = districts,
        topics = topics,
    })), nil, 200, stale
end


-- column: "portal" or "wx" from the page file of the location (no
-- variable lookup on the hot path); nil reads it from the URI
local function main(column)
    local v = column and portal.column(column) or portal.variant()
    local key = "home:" .. v.name

    -- the rendered page, per worker, as long as its data is fresh, with
    -- its gzip copy for the browsers that take it (nearly all)
    local kept = cache.get_local(key)
    if kept then
        return page.send_kept(kept)
    end

    local html, err, status = render(v)

    if html == nil then
        ngx.log(ngx.ERR, "dgj home: ", err)
        return page.error(status or 503)
    end

    local until_t = math.min(cache.fresh_until("overview"),
                             cache.fresh_until("districts"),
                             cache.fresh_until("categories"))
    kept = page.keep(portal.compact(html))
    cache.set_local(key, kept, until_t)

    return page.send_kept(kept)
end


return { main = main }
