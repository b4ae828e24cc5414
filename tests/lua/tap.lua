-- tests/lua/tap.lua: a minimal TAP producer for the pure-Lua unit tests
-- (run under the plain `luajit` CLI by tests/lua/*.t).  Owns the plan, the
-- numbering and the exit status.

local _M = {}


local type = type
local io_write = io.write
local tostring = tostring
local gsub = string.gsub
local format = string.format


local planned = 0
local n = 0
local failed = 0


local function comment(s)
    io_write((gsub("# " .. tostring(s), "\n", "\n# ")), "\n")
end


-- Declares the number of tests.
function _M.plan(count)
    planned = count
    io_write("1..", count, "\n")
end


-- One test: passes when cond is true; diag is printed on failure.
function _M.ok(cond, name, diag)
    n = n + 1

    if cond then
        io_write("ok ", n, " - ", name, "\n")
        return true
    end

    failed = failed + 1
    io_write("not ok ", n, " - ", name, "\n")

    if diag ~= nil then
        comment(diag)
    end

    return false
end


-- One test: passes when got == want (compared as values).
function _M.is(got, want, name)
    return _M.ok(got == want, name,
                 format("got:      %s\nexpected: %s", tostring(got),
                        tostring(want)))
end


-- One test: passes when the string got contains the plain string part.
function _M.like(got, part, name)
    local ok = type(got) == "string" and got:find(part, 1, true) ~= nil
    return _M.ok(ok, name, format("got:      %s\nexpected to contain: %s",
                                  tostring(got), tostring(part)))
end


-- Ends the run: exit status 0 only if every planned test ran and passed.
function _M.done()
    if n ~= planned then
        comment(format("planned %d tests but ran %d", planned, n))
    end

    os.exit((failed == 0 and n == planned) and 0 or 1)
end


return _M
