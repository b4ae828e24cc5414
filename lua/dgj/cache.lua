-- dgj.cache: the public pages' cache of API data, with stale-if-error.
-- Owns the lua_shared_dict "dgj_portal" (conf/nginx.conf.in) and a small
-- per-worker copy in front of it.  Only public data goes here (figures,
-- catalogue, districts, disclosures): nothing that depends on who asks.
--
-- An entry is fresh for `ttl` seconds.  After that the next request
-- reloads it (one request per key and worker at a time: a short lock in
-- the shared dict keeps the others on the old value).  When the reload
-- fails (MariaDB or the FastCGI pool down) the old value is served, marked
-- stale, for up to STALE_FOR seconds; the page then says its figures may
-- be a little old.  docs/portal.md tells the whole story.

local cjson = require "cjson.safe"
local lrucache = require "resty.lrucache"


local _M = { _VERSION = "0.1.0" }


local ngx = ngx
local type = type
local concat = table.concat
local now = ngx.now

-- a value is kept this long after it stopped being fresh
local STALE_FOR = 86400

-- one reload at a time per key: the lock outlives a slow API call
local LOCK_FOR = 5

-- after a failed reload, wait this long before trying again: an outage
-- costs one subrequest per key every few seconds, not one per request
local RETRY_AFTER = 3

local json = cjson.new()

-- key -> { value, fresh_until, stale }: decoded copies, per worker
local local_copy = {}


local function dict()
    return ngx.shared.dgj_portal
end


-- Returns the value of `key` and whether it is stale, loading it with
-- loader() (returns a JSON-encodable table, or nil, err) when it is
-- missing or no longer fresh.  Returns nil, err when there is neither a
-- fresh nor an old value.  The value is shared: callers do not modify it.
function _M.get(key, ttl, loader)
    local t = now()
    local l = local_copy[key]

    if l and l.fresh_until > t then
        return l.value, l.stale
    end

    local d = dict()
    if d == nil then
        -- no shared dict configured: a plain call, no cache
        local v, err = loader()
        return v, err and nil or false, err
    end

    -- another worker may have reloaded it
    local raw, flags = d:get(key)
    local entry = raw and json.decode(raw)

    if type(entry) == "table" and entry.fresh_until > t then
        local_copy[key] = { value = entry.value,
                            fresh_until = entry.fresh_until,
                            stale = entry.stale or false }
        return entry.value, entry.stale or false
    end

    local got_lock = d:add("lock:" .. key, true, LOCK_FOR)

    if not got_lock and type(entry) == "table" then
        -- someone is reloading: the old value for now
        return entry.value, entry.stale or false
    end

    local v, err = loader()

    if v ~= nil then
        local e = { value = v, fresh_until = t + ttl, stale = false }
        local enc = json.encode(e)

        if enc then
            local ok, serr = d:set(key, enc, ttl + STALE_FOR)
            if not ok then
                ngx.log(ngx.WARN, "dgj cache: ", key, ": ", serr)
            end
        end

        local_copy[key] = e
        d:delete("lock:" .. key)

        return v, false
    end

    if type(entry) ~= "table" then
        d:delete("lock:" .. key)
        return nil, nil, err
    end

    -- stale-if-error: keep the old value, marked, and retry in a while
    ngx.log(ngx.WARN, "dgj cache: ", key, ": serving stale copy (", err, ")")

    entry.fresh_until = t + RETRY_AFTER
    entry.stale = true

    local enc = json.encode(entry)
    if enc then
        d:set(key, enc, RETRY_AFTER + STALE_FOR)
    end

    local_copy[key] = { value = entry.value, fresh_until = entry.fresh_until,
                        stale = true }
    d:delete("lock:" .. key)

    return entry.value, true
end


-- A per-worker copy of something made from cached values (a rendered
-- page), valid until `until_t`; the least recently used go first, so
-- disclosure pages for many filters cannot fill the worker's memory.
-- get_local returns it or nil.
local RENDERED_ITEMS = 2000

local rendered = assert(lrucache.new(RENDERED_ITEMS))

function _M.get_local(key)
    return (rendered:get(key))
end


function _M.set_local(key, value, until_t)
    local ttl = until_t - now()

    if ttl > 0 then
        rendered:set(key, value, ttl)
    end
end


-- How long the per-worker copy of `key` stays fresh (its fresh_until), for
-- set_local.  Returns now() when unknown.
function _M.fresh_until(key)
    local l = local_copy[key]
    return l and l.fresh_until or now()
end


-- A cache key from a name and a list of strings (query values).
function _M.key(name, parts)
    return name .. ":" .. concat(parts, "\31")
end


-- Drops every entry (tests and operators: docs/portal.md).
function _M.flush()
    local_copy = {}
    rendered:flush_all()

    local d = dict()
    if d then
        d:flush_all()
    end
end


return _M
