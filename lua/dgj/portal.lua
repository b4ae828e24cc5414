-- dgj.portal: what the public pages (the 12345 column under / and the
-- WeChat column under /wx/) share: which column a request is in, the
-- cached public data (figures, catalogue, districts, disclosures) and
-- its shaping for the templates.  Controllers in lua/pages/portal/.

local page = require "dgj.page"
local cache = require "dgj.cache"


local _M = { _VERSION = "0.1.0" }


local ngx = ngx
local type = type
local ipairs = ipairs
local tonumber = tonumber
local sub = string.sub
local find = string.find
local byte = string.byte
local gsub = string.gsub
local tostring = tostring

-- seconds public data stays fresh; stale copies are served on errors
_M.TTL = 10

local TYPE_LABELS = {
    consultation = "咨询",
    help = "求助",
    complaint = "投诉",
    report = "举报",
    suggestion = "建议",
    praise = "表扬",
}

_M.RATINGS = {
    { value = 1, label = "非常满意" },
    { value = 2, label = "满意" },
    { value = 3, label = "基本满意" },
    { value = 4, label = "不满意" },
    { value = 5, label = "非常不满意" },
}

_M.OUTCOMES = {
    resolved = "已解决",
    answered_unresolved = "已答复，未解决",
    not_ours = "不属本单位职责",
    not_accepted = "不予受理",
    duplicate = "重复诉求",
    cannot_handle = "无法办理",
}


-- the two columns; shared, never modified
local WX = {
    name = "wx",
    wx = true,
    base = "/wx",
    home = "/wx/",
    channel = "wechat",
    layout = "wx/layout.html",
}

local PORTAL = {
    name = "portal",
    wx = false,
    base = "",
    home = "/",
    channel = "portal",
    layout = "layout.html",
    styles = { "/static/css/portal.css" },
}


-- A column by name ("portal", "wx").
function _M.column(name)
    return name == "wx" and WX or PORTAL
end


-- The column of this request: the portal (/...) or WeChat (/wx/...).
function _M.variant()
    local uri = ngx.var.uri

    if sub(uri, 1, 4) == "/wx/" or uri == "/wx" then
        return WX
    end

    return PORTAL
end


-- A ctx for page.render with the column's layout, styles and script.
function _M.ctx(v, t)
    t.v = v
    t.layout = v.layout
    t.styles = t.styles or v.styles
    t.scripts = { "/static/js/portal.js" }
    t.share_title = t.share_title or t.page_title
    return t
end


local function api_loader(path, opts)
    return function()
        local data, err, status = page.api(path, opts)
        if data == nil then
            return nil, (err or "?") .. " (" .. (status or 0) .. ")"
        end

        return data
    end
end


local function shape_catalogue(cats, dists)
    local topics, leaves = {}, {}

    for _, top in ipairs(type(cats.items) == "table" and cats.items or {}) do
        if type(top) == "table" and type(top.name) == "string" then
            local t = { code = top.code, name = top.name, leaves = {} }

            for _, l in ipairs(type(top.children) == "table" and top.children
                               or {}) do
                if type(l) == "table" and type(l.name) == "string" then
                    local leaf = {
                        code = l.code,
                        name = l.name,
                        type = l.appeal_type,
                        type_label = TYPE_LABELS[l.appeal_type],
                        days = tonumber(l.handling_days),
                        public = l.is_public ~= 0 and l.is_public ~= false,
                        topic = top.name,
                    }
                    t.leaves[#t.leaves + 1] = leaf
                    leaves[l.code] = leaf
                end
            end

            topics[#topics + 1] = t
        end
    end

    local groups = {
        { kind = "municipal", label = "市级", items = {} },
        { kind = "subdistrict", label = "街道", items = {} },
        { kind = "town", label = "镇", items = {} },
    }
    local by_code = {}

    for _, it in ipairs(type(dists.items) == "table" and dists.items or {}) do
        if type(it) == "table" and type(it.name) == "string" then
            for _, g in ipairs(groups) do
                if g.kind == it.kind then
                    g.items[#g.items + 1] = { code = it.code, name = it.name }
                    by_code[it.code] = it.name
                end
            end
        end
    end

    return { topics = topics, leaves = leaves, districts = groups,
             district_names = by_code }
end


-- The catalogue and the districts, shaped for the pickers and filters:
-- { topics, leaves (code -> leaf), districts (groups), district_names }.
function _M.catalogue()
    local cats, s1, err = cache.get("categories", _M.TTL,
                                    api_loader("/_api/categories"))
    if cats == nil then
        return nil, nil, err
    end

    local dists, s2, err2 = cache.get("districts", _M.TTL,
                                      api_loader("/_api/districts"))
    if dists == nil then
        return nil, nil, err2
    end

    -- shaped once per fetch, per worker
    local key = "shaped_catalogue"
    local shaped = cache.get_local(key)
    if shaped == nil or shaped.cats ~= cats or shaped.dists ~= dists then
        shaped = { cats = cats, dists = dists,
                   value = shape_catalogue(cats, dists) }
        cache.set_local(key, shaped, ngx.now() + 3600)
    end

    return shaped.value, s1 or s2
end


local function rating_title(n)
    local r = _M.RATINGS[tonumber(n) or 0]
    return r and r.label or nil
end

_M.rating_title = rating_title


local function disclosures_key(q, limit)
    local parts = { tostring(limit or 20) }

    for _, k in ipairs({ "q", "category", "district", "from", "to",
                         "cursor" }) do
        parts[#parts + 1] = q[k] or ""
    end

    return cache.key("disclosures", parts)
end

_M.disclosures_key = disclosures_key


-- The indentation of template lines, dropped from a page kept per worker
-- (a quarter of the home page's bytes).  Only for pages without <pre>,
-- <textarea> or pre-wrap text whose line starts matter.
function _M.compact(html)
    return (gsub(html, "\n[ \t]+", "\n"))
end


-- One page of disclosures for the filters in `q` (a table of strings:
-- q, category, district, from, to, cursor).  Returns { items, next } and
-- the stale flag, or nil, nil, err, status.
function _M.disclosures(q, limit)
    local args = { limit = limit or 20 }

    for _, k in ipairs({ "q", "category", "district", "from", "to",
                         "cursor" }) do
        if q[k] and q[k] ~= "" then
            args[k] = q[k]
        end
    end

    local status
    local res, stale, err = cache.get(disclosures_key(q, args.limit), _M.TTL,
        function()
            local data, e, st = page.api("/_api/disclosures", { args = args })
            status = st
            return data, e
        end)

    if res == nil then
        return nil, nil, err, status
    end

    return res, stale
end


-- One published appeal, or nil, nil, err, status (404 when not public).
function _M.disclosure(no)
    local status
    local res, stale, err = cache.get("disclosure:" .. no, _M.TTL,
        function()
            local data, e, st = page.api("/_api/disclosures/" .. no)
            status = st
            return data, e
        end)

    if res == nil then
        return nil, nil, err, status
    end

    return res, stale
end


-- A non-empty string from the API, else nil: JSON null decodes to a
-- userdata and "" is true in Lua, and templates test `if x then`.
local function str(v)
    if type(v) == "string" and v ~= "" then
        return v
    end

    return nil
end

_M.str = str


-- Is s a tracking number (DG + 14 digits)?  Byte checks, not a pattern:
-- LuaJIT compiles them, and the console's inbox asks for each of its rows.
function _M.is_tracking_no(s)
    if type(s) ~= "string" or #s ~= 16 or byte(s, 1) ~= 68
       or byte(s, 2) ~= 71
    then
        return false
    end

    for i = 3, 16 do
        local c = byte(s, i)
        if c < 48 or c > 57 then
            return false
        end
    end

    return true
end


-- "2026-11-30 09:12:45" -> "2026-11-30 09:12"; nil/null -> nil
function _M.minute(s)
    if type(s) ~= "string" or s == "" then
        return nil
    end

    return sub(s, 1, 16)
end


-- Is this request over the limit module's policy?  The submit and follow
-- locations run the module in dry-run mode so that the page, not the
-- module's JSON, answers: a Chinese page with the typed text kept.
function _M.limited()
    return ngx.var.dgj_limit_status == "DRY_RUN"
end


-- Is the caller signed in (dgj_auth optional put the user in $dgj_user_id)?
function _M.signed_in()
    local id = ngx.var.dgj_user_id
    return id ~= nil and id ~= "" and find(id, "^%d+$") ~= nil
end


return _M
