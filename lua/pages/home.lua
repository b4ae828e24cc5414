-- lua/pages/home.lua: controller of the home page (location = /).  Owns
-- what the home page shows: it fetches the overview, the districts and the
-- category catalogue from the API in parallel, shapes them for
-- templates/home.html and answers 503 with the error page when any of the
-- three is missing or malformed (never a page with empty figures).

local page = require "dgj.page"


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


local function main()
    local res = page.api_multi({
        { "/_api/overview" },
        { "/_api/districts" },
        { "/_api/categories" },
    })

    for _, r in ipairs(res) do
        if r.data == nil then
            -- page.api_multi logged which call failed and why
            return page.error(503)
        end
    end

    local overview, districts, topics, err

    overview, err = build_overview(res[1].data)
    if overview then
        districts, err = build_districts(res[2].data)
    end

    if districts then
        topics, err = build_categories(res[3].data)
    end

    if topics == nil then
        ngx.log(ngx.ERR, "dgj home: ", err)
        return page.error(503)
    end

    return page.render("home.html", {
        page_title = "民生大莞家 - 东莞市民生诉求服务平台",
        nav = "home",
        overview = overview,
        districts = districts,
        topics = topics,
    })
end


return main()
