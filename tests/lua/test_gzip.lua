-- tests/lua/test_gzip.lua: unit tests of dgj.gzip (lua/dgj/gzip.lua)
-- under the plain `luajit` CLI; prints TAP.  Each compressed stream is
-- read back by gzip(1), not by our own code.  Run by tests/lua/gzip.t.

local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = here .. "/../../lua/?.lua;" .. here .. "/?.lua;"
               .. package.path

local t = require "tap"
local gzip = require "dgj.gzip"


-- what `gzip -dc` makes of bytes, or nil when it refuses them
local function gunzip(bytes)
    local path = os.tmpname()
    local fh = assert(io.open(path, "wb"))
    fh:write(bytes)
    fh:close()

    local p = assert(io.popen("gzip -dc < '" .. path .. "' 2>/dev/null; "
                              .. "echo \"#rc=$?\""))
    local out = p:read("*a")
    p:close()
    os.remove(path)

    local body, rc = out:match("^(.*)#rc=(%d+)\n$")
    if rc ~= "0" then
        return nil
    end

    return body
end


t.plan(17)

-- a page: UTF-8, repeated markup, as the home page is
local parts = {}
for i = 1, 400 do
    parts[i] = '<li class="leaf" data-code="' .. (1000 + i)
               .. '">房屋质量与维修 ' .. i .. "</li>\n"
end
local page = "<!DOCTYPE html>\n" .. table.concat(parts)

local gz = gzip.compress(page)
t.ok(type(gz) == "string", "compress-1.1: a page is compressed")
t.is(gz:sub(1, 2), "\31\139", "compress-1.2: with gzip's magic bytes")
t.is(gunzip(gz), page, "compress-1.3: gzip -dc gives the page back, byte"
                       .. " for byte")
t.ok(#gz < #page / 4, "compress-1.4: repeated markup shrinks to under a"
                      .. " quarter")
t.is(gunzip(gzip.compress(page, 1)), page, "compress-1.5: level 1 too")
t.is(gunzip(gzip.compress("")), "", "compress-1.6: the empty string")

-- bytes that do not compress: the bound holds, nothing is cut
local noise = {}
local x = 12345
for i = 1, 20000 do
    x = (x * 1103515245 + 12345) % 2147483648
    noise[i] = string.char(x % 256)
end
noise = table.concat(noise)
t.is(gunzip(gzip.compress(noise)), noise,
     "compress-1.7: 20 000 random bytes come back whole")

local none, err = gzip.compress({})
t.ok(none == nil and err ~= nil, "compress-1.8: a table is refused")

-- Accept-Encoding as browsers and others send it
t.is(gzip.accepted("gzip, deflate, br, zstd"), true,
     "accepted-1.1: Chromium's header")
t.is(gzip.accepted("br,gzip"), true, "accepted-1.2: gzip not first")
t.is(gzip.accepted("GZip"), true, "accepted-1.3: any case")
t.is(gzip.accepted("gzip;q=0.5"), true, "accepted-1.4: a q above 0")
t.is(gzip.accepted("deflate, gzip ; q=0"), false,
     "accepted-1.5: q=0 refuses it")
t.is(gzip.accepted("gzip;q=0.000"), false, "accepted-1.6: so does q=0.000")
t.is(gzip.accepted("x-gzip-like, deflate"), false,
     "accepted-1.7: a longer name containing gzip is not gzip")
t.is(gzip.accepted("*"), false, "accepted-1.8: * is not taken for gzip")
t.is(gzip.accepted(nil), false, "accepted-1.9: no header, no gzip")

t.done()
