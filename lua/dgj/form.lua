-- dgj.form: HTML forms of the public pages.  Owns reading a form body
-- (urlencoded or multipart with files), the CSRF scheme of forms that
-- anonymous visitors send too, the anti-automation question, and the
-- field-error list the templates show next to each field.
--
-- CSRF: a signed double submit.  A visitor gets a random cookie dgj_pf
-- (HttpOnly, SameSite=Lax) once; every form carries a hidden token
-- "<time>.<hmac(key, cookie | form | time)>".  A POST passes when the
-- cookie is there, the token's MAC matches it and the token is at most
-- TOKEN_FOR seconds old.  Another site can neither read the cookie nor
-- make the MAC; a form left open too long is shown again, typed text kept.
--
-- Anti-automation: a sum of two small numbers asked in words, answered by
-- typing the number.  The answer is not in the page: the form carries
-- "<time>.<a>.<b>.<hmac(key, cookie | a | b | time)>" and the server
-- checks the typed sum against it.  No outside service, no JavaScript,
-- screen readers read it.  A hidden honeypot field ("website") that people
-- leave empty catches the plainest bots.  The limit module (6 submissions
-- a minute per address) bounds the rest.  docs/portal.md.
--
-- The key is random, made once in the nginx master at start and reload
-- (lua/init.lua calls init_key()), so every worker shares it; a reload
-- expires the forms open at that moment (they are shown again, kept).

local _M = { _VERSION = "0.1.0" }


local ngx = ngx
local type = type
local tostring = tostring
local tonumber = tonumber
local find = string.find
local sub = string.sub
local match = string.match
local lower = string.lower
local gsub = string.gsub
local floor = math.floor
local hmac = ngx.hmac_sha1
local b64 = ngx.encode_base64

local COOKIE = "dgj_pf"

-- seconds a form's token and question stay valid
local TOKEN_FOR = 2 * 3600

local key


-- Reads 32 random bytes for the key; run once in init_by_lua.
function _M.init_key()
    local f = io.open("/dev/urandom", "rb")
    if f == nil then
        error("dgj form: cannot read /dev/urandom", 0)
    end

    key = f:read(32)
    f:close()

    if key == nil or #key ~= 32 then
        error("dgj form: short read from /dev/urandom", 0)
    end
end


local function mac(s)
    local m = b64(hmac(key, s))
    -- URL- and cookie-safe
    m = gsub(m, "[+/=]", { ["+"] = "-", ["/"] = "_", ["="] = "" })
    return m
end


local function equal(a, b)
    if type(a) ~= "string" or type(b) ~= "string" or #a ~= #b then
        return false
    end

    local diff = 0
    for i = 1, #a do
        if sub(a, i, i) ~= sub(b, i, i) then
            diff = diff + 1
        end
    end

    return diff == 0
end


-- The visitor's form cookie; made (and set on the response) when missing.
-- Kept in ngx.ctx so that several forms on one page share it.
local function get_visitor()
    local ctx = ngx.ctx
    if ctx.dgj_pf then
        return ctx.dgj_pf
    end

    local v = ngx.var.cookie_dgj_pf

    if v and #v >= 16 and #v <= 64 and not find(v, "[^%w_%-]") then
        ctx.dgj_pf = v
        return v
    end

    local f = io.open("/dev/urandom", "rb")
    local raw = f and f:read(18) or (tostring(ngx.now()) .. ngx.var.request_id)
    if f then
        f:close()
    end

    v = sub(gsub(b64(raw), "[+/=]", { ["+"] = "-", ["/"] = "_", ["="] = "" }),
            1, 24)

    local secure = ngx.var.https == "on" and "; Secure" or ""
    ngx.header["Set-Cookie"] = COOKIE .. "=" .. v
        .. "; Path=/; HttpOnly; SameSite=Lax" .. secure

    ctx.dgj_pf = v

    return v
end


-- The hidden CSRF token for form `name` ("submit", "follow", "rate").
function _M.csrf_token(name)
    local t = tostring(floor(ngx.time()))
    return t .. "." .. mac(get_visitor() .. "|" .. name .. "|" .. t)
end


-- Does the POSTed token (args._csrf) fit this visitor and form `name`?
function _M.csrf_ok(args, name)
    local v = ngx.var.cookie_dgj_pf
    local tok = args and args._csrf

    if type(v) ~= "string" or type(tok) ~= "string" then
        return false
    end

    local t, m = match(tok, "^(%d+)%.([%w_%-]+)$")
    t = tonumber(t)

    if t == nil or ngx.time() - t > TOKEN_FOR or t - ngx.time() > 60 then
        return false
    end

    return equal(m, mac(v .. "|" .. name .. "|" .. tostring(t)))
end


local NUMBERS = { "一", "二", "三", "四", "五", "六", "七", "八", "九" }

-- A new question: { text = "三加五等于多少？", token = "..." }.
function _M.challenge()
    local a = math.random(1, 9)
    local b = math.random(1, 9)
    local t = tostring(floor(ngx.time()))

    return {
        text = NUMBERS[a] .. "加" .. NUMBERS[b] .. "等于多少？",
        token = t .. "." .. a .. "." .. b .. "."
            .. mac(get_visitor() .. "|cap|" .. a .. "|" .. b .. "|" .. t),
    }
end


-- Checks args._cap (the question's token) and args.captcha (the answer).
function _M.challenge_ok(args)
    local v = ngx.var.cookie_dgj_pf
    local tok = args and args._cap
    local answer = args and tonumber(args.captcha or "")

    if type(v) ~= "string" or type(tok) ~= "string" or answer == nil then
        return false
    end

    local t, a, b, m = match(tok, "^(%d+)%.(%d)%.(%d)%.([%w_%-]+)$")
    t = tonumber(t)

    if t == nil or ngx.time() - t > TOKEN_FOR then
        return false
    end

    if not equal(m, mac(v .. "|cap|" .. a .. "|" .. b .. "|" .. t)) then
        return false
    end

    return answer == tonumber(a) + tonumber(b)
end


-- Parses a multipart/form-data body held in memory.  Returns args
-- (name -> text of the last part with that name) and files (a list of
-- { field, filename, type, data } with a non-empty filename).
local function multipart(body, boundary)
    local args, files = {}, {}
    local delim = "--" .. boundary
    local pos = find(body, delim, 1, true)

    if pos == nil then
        return nil, "no boundary in the body"
    end

    pos = pos + #delim

    while true do
        if sub(body, pos, pos + 1) == "--" then
            break
        end

        -- skip the CRLF after the delimiter
        local hs = find(body, "\r\n", pos, true)
        if hs == nil then
            return nil, "truncated part"
        end

        local he = find(body, "\r\n\r\n", hs, true)
        if he == nil then
            return nil, "truncated part headers"
        end

        local headers = sub(body, hs + 2, he - 1)
        local next_pos = find(body, "\r\n" .. delim, he + 4, true)
        if next_pos == nil then
            return nil, "unterminated part"
        end

        local data = sub(body, he + 4, next_pos - 1)
        local disp = match(headers, "[Cc]ontent%-[Dd]isposition:([^\r\n]*)")
                     or ""
        local name = match(disp, ';%s*name="([^"]*)"')
        local filename = match(disp, ';%s*filename="([^"]*)"')
        local ctype = match(headers, "[Cc]ontent%-[Tt]ype:%s*([^\r\n;]*)")

        if name then
            if filename then
                if filename ~= "" and #data > 0 then
                    files[#files + 1] = { field = name, filename = filename,
                                          type = ctype and lower(ctype),
                                          data = data }
                end
            else
                args[name] = data
            end
        end

        pos = next_pos + 2 + #delim
    end

    return args, files
end


-- Reads the request's form body.  Returns args (name -> string; a name
-- sent twice keeps the last value) and files (a list, see multipart),
-- or nil, err for a body that cannot be read.
function _M.read()
    ngx.req.read_body()

    local ctype = ngx.var.content_type or ""
    local boundary = match(ctype, "^multipart/form%-data;.*boundary=\"?([^\";]+)")

    if boundary == nil then
        local args, err = ngx.req.get_post_args(100)
        if args == nil then
            return nil, err
        end

        for k, v in pairs(args) do
            if type(v) == "table" then
                args[k] = v[#v]
            elseif type(v) ~= "string" then
                args[k] = ""
            end
        end

        return args, {}
    end

    local body = ngx.req.get_body_data()

    if body == nil then
        local path = ngx.req.get_body_file()
        local f = path and io.open(path, "rb")
        if f == nil then
            return {}, {}
        end

        body = f:read("*a")
        f:close()
    end

    return multipart(body, boundary)
end


-- Field errors: a table name -> message, with the order kept for the
-- summary at the top of the form.
local Errors = {}
Errors.__index = Errors


function _M.errors()
    return setmetatable({ list = {}, by = {} }, Errors)
end


function Errors:add(field, message)
    if self.by[field] == nil then
        self.by[field] = message
        self.list[#self.list + 1] = { field = field, message = message }
    end
end


function Errors:any()
    return #self.list > 0
end


-- Trims blanks (ASCII and the ideographic space) at both ends.
function _M.trim(s)
    if type(s) ~= "string" then
        return ""
    end

    s = gsub(s, "^[%s\227\128\128]+", "")
    s = gsub(s, "[%s]+$", "")
    return (gsub(s, "\227\128\128$", ""))
end


-- Length in characters of a UTF-8 string.
function _M.ulen(s)
    local _, n = gsub(s or "", "[^\128-\191]", "")
    return n
end


return _M
