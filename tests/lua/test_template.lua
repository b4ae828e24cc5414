-- tests/lua/test_template.lua: unit tests of dgj.template (lua/dgj/
-- template.lua) under the plain `luajit` CLI; prints TAP.  Run by
-- tests/lua/template.t as: luajit tests/lua/test_template.lua

local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.path = here .. "/../../lua/?.lua;" .. here .. "/?.lua;"
               .. package.path

local t = require "tap"
local template = require "dgj.template"
local cjson = require "cjson"


local globals_before = {}
for k in pairs(_G) do
    globals_before[k] = true
end


local function sh_quote(s)
    return "'" .. s:gsub("'", "'\\''") .. "'"
end


-- a scratch templates directory, removed at the end
local scratch = os.tmpname()
os.remove(scratch)
assert(os.execute("mkdir -m 700 " .. sh_quote(scratch)) == 0)

local default_root = template.root()


local function write(name, text)
    local fh = assert(io.open(scratch .. "/" .. name, "wb"))
    fh:write(text)
    fh:close()
end


local function render(src, ctx)
    return template.render_string(src, ctx, "case.html")
end


t.plan(60)


-- escaping, one character at a time

t.is(render("{{ v }}", { v = "a&b" }), "a&amp;b", "escape-1.1: & is escaped")
t.is(render("{{ v }}", { v = "<" }), "&lt;", "escape-1.2: < is escaped")
t.is(render("{{ v }}", { v = ">" }), "&gt;", "escape-1.3: > is escaped")
t.is(render("{{ v }}", { v = '"' }), "&quot;", 'escape-1.4: " is escaped')
t.is(render("{{ v }}", { v = "'" }), "&#39;", "escape-1.5: ' is escaped")
t.is(render("{{ v }}", { v = "a/b" }), "a/b",
     "escape-1.6: / is left as it is (documented choice)")
t.is(render("{{ v }}", { v = "&amp;" }), "&amp;amp;",
     "escape-1.7: an entity is escaped again, not trusted")
t.is(render("{{ v }}", { v = "民生大莞家 東莞" }), "民生大莞家 東莞",
     "escape-1.8: UTF-8 text passes unchanged")
t.is(render('<a title="{{ v }}">', { v = '"><script>x</script>' }),
     '<a title="&quot;&gt;&lt;script&gt;x&lt;/script&gt;">',
     "escape-1.9: a value cannot leave a quoted attribute")
t.is(template.escape("<&>\"'"), "&lt;&amp;&gt;&quot;&#39;",
     "escape-1.10: escape() is exported for controllers")

-- the per-process table of escaped values: the same answers the second
-- time, for long values it does not keep, and after it was emptied
do
    local hostile = '<b title="x">&\'</b>'
    local want = "&lt;b title=&quot;x&quot;&gt;&amp;&#39;&lt;/b&gt;"
    local long = string.rep("<&>", 200)
    local ok = render("{{ v }}", { v = hostile }) == want
               and render("{{ v }}|{{ v }}", { v = hostile })
                   == want .. "|" .. want
               and render("{{ v }}", { v = long })
                   == string.rep("&lt;&amp;&gt;", 200)
               and render("{{ v }}", { v = long })
                   == string.rep("&lt;&amp;&gt;", 200)

    for i = 1, 5000 do
        local v = "<" .. i .. ">"
        if template.escape(v) ~= "&lt;" .. i .. "&gt;"
           or template.escape(v) ~= "&lt;" .. i .. "&gt;"
        then
            ok = false
        end
    end

    t.ok(ok and render("{{ v }}", { v = hostile }) == want,
         "escape-1.11: values escaped again come out the same, short or "
         .. "long, before and after the table of escaped values fills")
end

-- a context may name a builtin: its own value comes first
t.is(render("{{ type }}|{% for _, x in ipairs(xs) do %}{{ x }}{% end %}",
            { type = "<t>", xs = { 1, 2 } }),
     "&lt;t&gt;|12", "escape-1.12: a context's own name before a builtin")

-- raw output and values

t.is(render("{{! v }}", { v = "<b>&</b>" }), "<b>&</b>",
     "raw-2.1: {{! }} writes the value unescaped")
t.is(render("[{{ v }}][{{! v }}]", {}), "[][]",
     "raw-2.2: nil renders as empty, escaped and raw")
t.is(render("[{{ v }}]", { v = cjson.null }), "[]",
     "raw-2.3: JSON null renders as empty")
t.is(render("{{ n }} {{ f }} {{ b }} {{ c }}",
            { n = 28, f = 1.5, b = true, c = false }),
     "28 1.5 true false", "raw-2.4: numbers and booleans render as text")
t.is(render("{{ v }}", { v = setmetatable({}, {
         __tostring = function() return "<x>" end }) }),
     "&lt;x&gt;", "raw-2.5: a table with __tostring is rendered, escaped")

local out, err = render("ok\n{{ v }}", { v = {} })
t.ok(out == nil and err == "case.html:2: cannot render a table value",
     "raw-2.6: a plain table is an error naming template and line", err)

-- loops and conditionals

t.is(render("{% for i, x in ipairs(xs) do %}<{{ i }}:{{ x }}>{% end %}",
            { xs = { "a", "<", "c" } }),
     "<1:a><2:&lt;><3:c>", "flow-3.1: for over ipairs, values escaped")
t.is(render("{% for i, x in ipairs(xs) do %}x{% end %}", { xs = {} }), "",
     "flow-3.2: a loop over an empty list writes nothing")

local cond = "{% if n > 1 then %}many{% elseif n == 1 then %}one"
    .. "{% else %}none{% end %}"
t.is(render(cond, { n = 5 }), "many", "flow-3.3: if branch")
t.is(render(cond, { n = 1 }), "one", "flow-3.4: elseif branch")
t.is(render(cond, { n = 0 }), "none", "flow-3.5: else branch")
t.is(render("{% if missing then %}yes{% else %}no{% end %}", {}), "no",
     "flow-3.6: a missing value is false in a condition")
t.is(render("{% local s = 0 %}{% for _, x in ipairs(xs) do "
            .. "s = s + x end %}{{ s }}", { xs = { 1, 2, 3 } }),
     "6", "flow-3.7: locals and several statements in one tag")

t.is(render("<ul>\n  {% for _, x in ipairs(xs) do %}\n  <li>{{ x }}</li>\n"
            .. "  {% end %}\n</ul>\n", { xs = { "a", "b" } }),
     "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n",
     "flow-3.8: a line holding only a {% %} tag leaves no blank line")
t.is(render("  <p>\n\t  <b>{{ a }}</b>  {{ b }}\n    {{ c }} x\n</p>",
            { a = "  lead", b = "two\n   lines", c = " c " }),
     "<p>\n<b>  lead</b>  two\n   lines\n c  x\n</p>",
     "flow-3.12: the blanks that begin a template line are not sent;"
     .. " values and blanks within a line are kept")
t.is(render("a{# note #}b\n{# line\ncomment #}\nc", {}), "ab\nc",
     "flow-3.9: comments are dropped, alone on a line with the line")
t.is(render("a {% if true then %}b{% end %} c\n", {}), "a b c\n",
     "flow-3.10: inline tags keep the text around them")
t.is(render("x\r\n{% if true then %}\r\ny\r\n{% end %}\r\n", {}), "x\ny\n",
     "flow-3.11: CRLF templates render with LF")

-- includes

write("item.html", "<li>{{ name }}</li>")
write("list.html", "<ul>{% for _, it in ipairs(items) do %}"
      .. '{( "item.html", it )}{% end %}</ul>')
write("frame.html", '[{( "inner.html" )}]')
write("inner.html", "{{ who }}")
write("self.html", '{( "self.html" )}')
write("broken_inc.html", '{( "nope.html" )}')

template.set_root(scratch)

t.is(template.render("list.html", { items = { { name = "a" },
                                              { name = "<b>" } } }),
     "<ul><li>a</li><li>&lt;b&gt;</li></ul>",
     "include-4.1: include with its own context")
t.is(template.render("frame.html", { who = "莞" }), "[莞]",
     "include-4.2: include without a context shares the caller's")

out, err = template.render("broken_inc.html", {})
t.ok(out == nil and err:find("nope.html", 1, true) ~= nil,
     "include-4.3: a missing include is an error naming it", err)

out, err = template.render("self.html", {})
t.ok(out == nil and err:find("recursive include", 1, true) ~= nil,
     "include-4.4: a recursive include stops with an error", err)

t.is(render('{( "item.html", { name = "x" } )}', {}), "<li>x</li>",
     "include-4.5: render_string templates include files too")

-- output buffers: one per rendering, kept for the next
t.is(render("a{{! inner() }}b", { inner = function()
         return template.render("frame.html", { who = "<i>" })
     end }), "a[&lt;i&gt;]b",
     "include-4.6: a value rendered by another rendering under way keeps"
     .. " its own output")
write("half.html", 'kept{( "broken_inc.html" )}')
out = template.render("half.html", {})
t.is(tostring(out) .. " " .. template.render("frame.html", { who = "x" }),
     "nil [x]",
     "include-4.7: the output of a failed rendering does not reach the next")
local big = string.rep("莞", 400000)
out = template.render("frame.html", { who = big })
t.ok(out == "[" .. big .. "]"
     and template.render("frame.html", { who = "y" }) == "[y]",
     "include-4.8: a page larger than the kept buffer renders whole, and"
     .. " the next one too")

-- errors name the template and the line

write("bad_if.html", "<p>\n{% if x then %}\n<b>\n")
out, err = template.render("bad_if.html", {})
t.ok(out == nil and err:find("^bad_if%.html:%d+:") ~= nil
     and err:find("'if' at line 2", 1, true) ~= nil,
     "error-5.1: a missing end names the template and the if's line", err)

write("bad_expr.html", "a\nb\n{{ 1 + }}\n")
out, err = template.render("bad_expr.html", {})
t.ok(out == nil and err:find("^bad_expr%.html:3:") ~= nil,
     "error-5.2: a bad expression names its line", err)

out, err = render("a\n\nb {{ x\n", {})
t.is(err, "case.html:3: unclosed {{ (no }})",
     "error-5.3: an unclosed tag names its line")

out, err = render("a\n{# x #}\n{% for _, x in ipairs(xs) do %}\n\n{{ x.y.z }}\n"
                  .. "{% end %}", { xs = { {} } })
t.ok(out == nil and err:find("^case%.html:5:") ~= nil,
     "error-5.4: a runtime error names the template line", err)

out, err = render("{% y = 1 %}", {})
t.ok(out == nil and err:find("undeclared variable 'y'", 1, true) ~= nil,
     "error-5.5: assigning a global is an error", err)

out, err = render("{{ }}", {})
t.is(err, "case.html:1: empty {{ }}", "error-5.6: an empty {{ }} is an error")

out, err = render("x", "not a table")
t.ok(out == nil and err ~= nil, "error-5.7: a context that is not a table",
     err)

out, err = template.render("../etc/passwd", {})
t.ok(out == nil and err:find("invalid template name", 1, true) ~= nil,
     "error-5.8: names with .. are refused", err)

out, err = template.render("/etc/passwd", {})
t.ok(out == nil and err:find("invalid template name", 1, true) ~= nil,
     "error-5.9: absolute names are refused", err)

out, err = template.render("absent.html", {})
t.ok(out == nil and err:find("^absent%.html: cannot open") ~= nil,
     "error-5.10: a missing template is nil, err", err)

-- the cache

write("cached.html", "one {{ v }}")
local f1 = template.compile("cached.html")
local f2 = template.compile("cached.html")
t.ok(f1 ~= nil and f1 == f2,
     "cache-6.1: compiling twice gives the same function")

t.is(template.render("cached.html", { v = 1 }), "one 1",
     "cache-6.2: first render")
write("cached.html", "two {{ v }}")
t.is(template.render("cached.html", { v = 2 }), "one 2",
     "cache-6.3: a changed file is not reread: the compiled one is reused")
template.clear_cache()
t.is(template.render("cached.html", { v = 3 }), "two 3",
     "cache-6.4: clear_cache() makes the next render read the file")

write("fixme.html", "{% if x then %}")
out = template.render("fixme.html", {})
write("fixme.html", "fixed")
t.is(template.render("fixme.html", {}), "fixed",
     "cache-6.5: a template that failed to compile is not cached")

-- the real templates of the site

template.set_root(default_root)

t.ok(default_root:find("lua/templates/$") ~= nil
     and io.open(default_root .. "layout.html") ~= nil,
     "site-7.1: templates are found next to the module, no config",
     default_root)

local all_ok, errs = true, {}
for _, name in ipairs({ "layout.html", "error.html", "home.html",
                        "partials/topic.html" })
do
    local fn, e = template.compile(name)
    if fn == nil then
        all_ok = false
        errs[#errs + 1] = e
    end
end
t.ok(all_ok, "site-7.2: every site template compiles",
     table.concat(errs, "\n"))

local home_ctx = {
    overview = {
        subdistricts = 4, towns = 28, departments = 57,
        categories_top = 2, categories_leaves = 3,
        date = "2026年11月30日", weekday = "星期一", date_iso = "2026-11-30",
        working_day = true,
        calendar = { { year = 2026, provisional = false },
                     { year = 2027, provisional = true } },
    },
    districts = {
        subdistricts = { { code = "s1", name = "莞城街道" } },
        towns = { { code = "t1", name = "虎门镇" }, { code = "t2",
                  name = "<长安镇>" } },
    },
    topics = {
        { code = "01", name = "城乡建设", leaves = {
            { code = "0101", name = "违法建设", type = "report",
              type_label = "举报", days = 15, public = false },
            { code = "0102", name = "市容", type = "complaint",
              type_label = "投诉", days = nil, public = true } } },
        { code = "02", name = "交通", leaves = {} },
    },
}

local html
html, err = template.render("home.html", home_ctx)
t.ok(html ~= nil
     and html:find('data-testid="figure-towns">28<', 1, true) ~= nil
     and html:find("&lt;长安镇&gt;", 1, true) ~= nil
     and html:find("不公开", 1, true) ~= nil,
     "site-7.3: home.html renders figures, escaped names, private leaves",
     err)
t.ok(html ~= nil and not html:find("{{", 1, true)
     and not html:find("{%", 1, true) and not html:find("{(", 1, true),
     "site-7.4: no template marker leaks into the page")

html, err = template.render("layout.html", { page_title = "T<", nav = "home",
                                             content = "<p>body</p>" })
t.ok(html ~= nil and html:find("^<!DOCTYPE html>\n") ~= nil
     and html:find("<title>T&lt;</title>", 1, true) ~= nil
     and html:find("<p>body</p>", 1, true) ~= nil
     and html:find('lang="zh-CN"', 1, true) ~= nil,
     "site-7.5: layout starts with the doctype, escapes the title, "
     .. "keeps the content", err)

html, err = template.render("error.html", {
    status = 503, title = "服务暂时不可用", detail = "稍后",
    request_id = "abc123",
})
t.ok(html ~= nil and html:find("abc123", 1, true) ~= nil
     and html:find("503", 1, true) ~= nil,
     "site-7.6: error page shows the status and the request id", err)

-- hygiene

local leaked = {}
for k in pairs(_G) do
    if not globals_before[k] then
        leaked[#leaked + 1] = tostring(k)
    end
end
t.ok(#leaked == 0, "hygiene-8.1: rendering created no global",
     table.concat(leaked, ", "))

os.execute("rm -rf " .. sh_quote(scratch))

t.done()
