-- tests/lua/test_audit_templates.lua: the auditor's console templates
-- (lua/templates/audit.html and partials/audit_records.html) rendered with
-- records whose every field is what an attacker could have sent: each
-- value comes out escaped, in element text and in attributes alike, and
-- the templates hold no raw output.  Prints TAP; run by
-- tests/lua/audit_templates.t under the plain `luajit` CLI.

local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = here .. "/../../lua/?.lua;" .. here .. "/?.lua;"
               .. package.path

local t = require "tap"
local template = require "dgj.template"


-- closes every context an unescaped value could break out of
local EVIL = [[<x y="1" z='2'>&amp;]]
local ESCAPED = "&lt;x y=&quot;1&quot; z=&#39;2&#39;&gt;&amp;amp;"


local function count(s, part)
    local n, from = 0, 1

    while true do
        local i = s:find(part, from, true)
        if i == nil then
            return n
        end

        n = n + 1
        from = i + #part
    end
end


local function record(n)
    return {
        id = EVIL, time = EVIL, user = EVIL, roles = EVIL, ip = EVIL,
        method = EVIL, path = EVIL, status = EVIL, status_class = "ok",
        auth = EVIL, limit = EVIL, action = EVIL, object = EVIL, ms = EVIL,
        ua = EVIL, chain = EVIL, seq = tostring(n),
        flags = { { name = "sqli", label = EVIL } },
    }
end


local function read(name)
    local fh = assert(io.open(here .. "/../../lua/templates/" .. name, "rb"))
    local s = fh:read("*a")
    fh:close()
    return s
end


t.plan(12)

for _, name in ipairs({ "audit.html", "partials/audit_records.html" }) do
    t.ok(not read(name):find("{{!", 1, true),
         "audit-tpl-1: " .. name .. " has no raw {{! }} output")
end

-- search view: the form echoes filters, the table shows one record
local html, err = template.render("audit.html", {
    view = "search",
    input_error = EVIL,
    filters = { user_id = EVIL, ip = EVIL, path = EVIL, status = EVIL,
                action = EVIL, outcome = EVIL },
    outcomes = { { value = EVIL, label = EVIL } },
    from_value = EVIL, to_value = EVIL,
    range_from = EVIL, range_to = EVIL,
    export_url = EVIL, next_url = EVIL, first_url = EVIL, paged = true,
    records = { record(1) },
    flag_labels = {},
})

t.ok(html ~= nil, "audit-tpl-2.1: the search view renders", err)
html = html or ""
t.is(count(html, "<x"), 0, "audit-tpl-2.2: no value comes out as markup")
t.ok(count(html, ESCAPED) >= 30,
     "audit-tpl-2.3: every value is there, escaped (" .. count(html, ESCAPED)
     .. " times)")
t.like(html, 'href="' .. ESCAPED .. '"',
       "audit-tpl-2.4: a link stays inside its quoted attribute")
t.like(html, 'title="' .. ESCAPED .. '"',
       "audit-tpl-2.5: the user agent stays inside its title attribute")

-- live view: bursts, cursor
html, err = template.render("audit.html", {
    view = "live",
    records = { record(1), record(2) },
    bursts = { { ip = EVIL, refusals = EVIL, s401 = EVIL, s403 = EVIL,
                 s429 = EVIL, first = EVIL, last = EVIL } },
    cursor = EVIL, now = EVIL,
    flag_labels = { scanner = EVIL, tool = EVIL, sqli = EVIL, xss = EVIL,
                    traversal = EVIL, burst = EVIL },
})

t.ok(html ~= nil, "audit-tpl-3.1: the live view renders", err)
html = html or ""
t.is(count(html, "<x"), 0, "audit-tpl-3.2: no value comes out as markup")
t.like(html, 'data-cursor="' .. ESCAPED .. '"',
       "audit-tpl-3.3: the cursor stays inside its attribute")

-- verify view: a failed verification names the record
html, err = template.render("audit.html", {
    view = "verify", from_value = EVIL, to_value = EVIL,
    result = { ok = false, records = EVIL, from = EVIL, to = EVIL,
               chains = { { chain = EVIL, first_seq = EVIL,
                            last_seq = EVIL, lines = EVIL,
                            anchored = false, from_checkpoint = EVIL } },
               bad = { chain = EVIL, seq = EVIL, reason = EVIL,
                       time = EVIL, request_id = EVIL } },
})

t.ok(html ~= nil, "audit-tpl-4.1: the verify view renders", err)
html = html or ""
t.ok(count(html, "<x") == 0 and count(html, ESCAPED) >= 12,
     "audit-tpl-4.2: the report's values are escaped")

t.done()
