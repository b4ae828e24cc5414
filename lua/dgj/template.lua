-- dgj.template: the HTML template engine of the Lua pages.  Owns the
-- template syntax, the compiler (template text -> Lua function), the
-- per-process cache of compiled templates and HTML escaping.  LuaJIT 2.1
-- (its string.buffer) and no ngx API, so the plain `luajit` CLI runs it in
-- the unit tests.
--
-- Syntax
--
--   {{ expr }}        value of the Lua expression, HTML-escaped
--   {{! expr }}       value of the Lua expression, raw (explicit and rare:
--                     only for HTML this engine produced, e.g. a layout's
--                     {{! content }}; every use is reviewed)
--   {% statement %}   Lua statement(s): if/elseif/else/end, for, local ...
--   {( "name.html" )}          include another template with the same context
--   {( "name.html", expr )}    include another template with context `expr`
--   {# comment #}     dropped
--
--   A line holding only a {% %} or {# #} tag (and blanks) leaves no trace in
--   the output: neither its indentation nor its newline.
--
--   Indentation is not sent: the blanks that begin a line of template text
--   are dropped (a fifth of the console's inbox page).  Values are never
--   touched.  So template text must not rely on them: no <pre> or
--   <textarea> whose own text in the template spans lines.
--
-- Values: nil, and JSON null as decoded by cjson (a light userdata), render
-- as the empty string; strings as they are; numbers and booleans through
-- tostring(); a table without __tostring is a bug and raises an error that
-- names the template and the line.
--
-- Escaping: & < > " ' become &amp; &lt; &gt; &quot; &#39;.  That is enough
-- for element content and for attribute values in double or single quotes,
-- the only two places where templates put {{ }}.  '/' is not escaped: it
-- cannot end an element or leave a quoted attribute, and escaping it only
-- makes URLs unreadable in the source.  Never put {{ }} in an unquoted
-- attribute, in <script> or <style>, or in a URL attribute whose scheme the
-- value could choose (href="{{ x }}" with x from a user): build such URLs in
-- the controller from known parts.
--
-- Names used by a template are looked up in its context table first, then
-- in a small set of builtins (ipairs, pairs, tostring, string, table, math,
-- ...).  Assigning to a name that is not `local` raises an error: templates
-- create no globals.  Indexing a nil value (`{{ a.b }}` with `a` nil) is a
-- runtime error like in Lua; only the final value may be nil.  Templates
-- only format what the controller gives them: they must not call anything
-- that yields (no ngx.* API), see run().
--
-- Templates are loaded from the "templates" directory next to this module's
-- "dgj" directory (lua/templates/), found from this file's own path.
-- Compiled templates (Lua functions) are cached per process; with
-- `lua_code_cache on` a changed template needs a reload of nginx.
--
-- Errors are returned as nil, err.  A compile error reads
-- "home.html:12: 'end' expected (to close 'if' at line 7) near '<eof>'";
-- template line numbers equal the generated Lua line numbers, so runtime
-- errors name the template line too.

local _M = { _VERSION = "0.1.0" }


local type = type
local error = error
local pcall = pcall
local tostring = tostring
local setfenv = setfenv
local getfenv = getfenv
local loadstring = loadstring
local getmetatable = getmetatable
local setmetatable = setmetatable
local io_open = io.open
local concat = table.concat
local buffer = require "string.buffer"
local byte = string.byte
local find = string.find
local gsub = string.gsub
local match = string.match
local sub = string.sub
local format = string.format
local rep = string.rep
local select = select


-- nested includes deeper than this are taken for a recursive include
local MAX_DEPTH = 16

local ESCAPES = {
    ["&"] = "&amp;",
    ["<"] = "&lt;",
    [">"] = "&gt;",
    ['"'] = "&quot;",
    ["'"] = "&#39;",
}

-- the closing delimiter of each tag, by the character after "{"
local CLOSERS = {
    ["{"] = "}}",
    ["%"] = "%}",
    ["("] = ")}",
    ["#"] = "#}",
}

-- what a template may call besides its context; os only for dates
local BUILTINS = {
    ipairs = ipairs,
    pairs = pairs,
    next = next,
    select = select,
    tostring = tostring,
    tonumber = tonumber,
    type = type,
    unpack = unpack,
    string = string,
    table = table,
    math = math,
    os = { date = os.date, time = os.time },
}

-- generated code uses these local names; templates must not shadow them.
-- The output goes into a LuaJIT string buffer (_dgj_b), which an include
-- writes into too: no table of pieces, no string per include.
local PRELUDE = "local _dgj_e, _dgj_r, _dgj_i, _dgj_b = ... "
local PUT = "_dgj_b:put("


-- name -> compiled template (a Lua function, see run())
local cache = {}

-- current include depth; rendering never yields, so one counter suffices
local depth = 0

-- the output buffer of each depth at which a rendering starts, kept for
-- the next one (reset, not freed); one that held a very large page is
-- let go so the worker does not keep its memory
local buffers = {}
local BUFFER_KEEP = 1024 * 1024

-- the buffer an include writes into: the rendering's under way
local current_buf


local function default_root()
    local src = debug.getinfo(1, "S").source
    local prefix = match(src, "^@(.-)dgj[/\\]template%.lua$")

    if prefix == nil then
        return "templates/"
    end

    return prefix .. "templates/"
end


local root = default_root()


-- Escaped text by value, per process, for the short values pages repeat
-- (names, states, dates, links): one table lookup instead of five
-- searches.  It also keeps the row loops of long lists (the console's 50
-- rows) small enough for LuaJIT to compile: with the searches inlined for
-- every value the trace ran out of spill slots and the rows were
-- interpreted.  Emptied when full; long values are not kept.
local ESCAPED_MAX = 2048
local ESCAPED_LEN = 256
local escaped, escaped_n = {}, 0


local function to_text(v, esc)
    local t = type(v)

    if t == "string" then
        if not esc then
            return v
        end

        local e = escaped[v]
        if e then
            return e
        end

        -- five plain searches: LuaJIT compiles them, not a pattern's
        -- character class, and most values have nothing to escape
        e = v
        if find(v, "<", 1, true) or find(v, ">", 1, true)
           or find(v, "&", 1, true) or find(v, '"', 1, true)
           or find(v, "'", 1, true)
        then
            e = gsub(v, "[&<>\"']", ESCAPES)
        end

        if #v <= ESCAPED_LEN then
            if escaped_n >= ESCAPED_MAX then
                escaped, escaped_n = {}, 0
            end

            escaped[v] = e
            escaped_n = escaped_n + 1
        end

        return e
    end

    if v == nil or t == "userdata" then
        return ""
    end

    if t == "number" or t == "boolean" then
        return tostring(v)
    end

    if t == "table" then
        local mt = getmetatable(v)
        if mt and mt.__tostring then
            return to_text(tostring(v), esc)
        end
    end

    return nil
end


-- The two output functions of compiled templates.  Not tail calls, so that
-- error level 2 is the template line that asked for the value.

local function escape(v)
    local s = to_text(v, true)
    if s == nil then
        error("cannot render a " .. type(v) .. " value", 2)
    end

    return s
end


local function raw(v)
    local s = to_text(v, false)
    if s == nil then
        error("cannot render a " .. type(v) .. " value", 2)
    end

    return s
end


-- Returns the HTML-escaped text of v ("" for nil and JSON null); raises an
-- error for a value that has no text (a plain table, a function).
_M.escape = escape


local function line_of(src, pos)
    local _, n = gsub(sub(src, 1, pos - 1), "\n", "")
    return n + 1
end


-- Is the tag at s..e alone on its line?  Returns the position where the
-- line starts and the position after its newline (or after the end).
local function standalone(src, pos, s, e)
    local ls = s

    while ls > pos do
        local c = byte(src, ls - 1)
        if c == 10 then
            break
        end

        if c ~= 32 and c ~= 9 then
            return nil
        end

        ls = ls - 1
    end

    if ls == pos and pos > 1 and byte(src, pos - 1) ~= 10 then
        -- another tag ends on this line, right before the blanks
        return nil
    end

    local _, te = find(src, "^[ \t]*\n", e + 1)
    if te then
        return ls, te + 1
    end

    _, te = find(src, "^[ \t]*$", e + 1)
    if te then
        return ls, te + 1
    end

    return nil
end


-- Translates template text into Lua source.  Every newline of the template
-- yields exactly one newline of the Lua source, at the same place, so Lua's
-- error line numbers are template line numbers.
local function translate(src, name)
    local out = { PRELUDE }
    local pos = 1
    local n = 1

    local function text(s)
        -- the chunk starts at pos: at a line's start, its blanks go too
        if pos == 1 or byte(src, pos - 1) == 10 then
            s = gsub(s, "^[ \t]+", "")
        end

        s = gsub(s, "\n[ \t]+", "\n")

        if s ~= "" then
            -- %q writes a newline as backslash + newline: the count is kept
            n = n + 1
            out[n] = PUT .. format("%q", s) .. ") "
        end
    end

    local function emit(s)
        n = n + 1
        out[n] = s
    end

    while true do
        local s, e, kind = find(src, "{([{%%(#])", pos)
        if s == nil then
            text(sub(src, pos))
            break
        end

        local closer = CLOSERS[kind]
        local cs, ce = find(src, closer, e + 1, true)
        if cs == nil then
            return nil, format("%s:%d: unclosed {%s (no %s)", name,
                               line_of(src, s), kind, closer)
        end

        local body = sub(src, e + 1, cs - 1)
        local nl = select(2, gsub(body, "\n", ""))
        local next_pos = ce + 1
        local trimmed = false

        if kind == "%" or kind == "#" then
            local ls, after = standalone(src, pos, s, ce)
            if ls then
                text(sub(src, pos, ls - 1))
                next_pos = after
                trimmed = after - 1 <= #src and byte(src, after - 1) == 10
            else
                text(sub(src, pos, s - 1))
            end

        else
            text(sub(src, pos, s - 1))
        end

        if kind == "{" then
            local fn = "_dgj_e("
            if sub(body, 1, 1) == "!" then
                fn = "_dgj_r("
                body = sub(body, 2)
            end

            if find(body, "^%s*$") then
                return nil, format("%s:%d: empty {{ }}", name, line_of(src, s))
            end

            emit(PUT .. fn .. body .. ")) ")

        elseif kind == "%" then
            emit(body .. " ")

        elseif kind == "(" then
            if find(body, "^%s*$") then
                return nil, format("%s:%d: empty {( )}", name, line_of(src, s))
            end

            emit("_dgj_i(" .. body .. ") ")

        else
            emit(rep("\n", nl))
        end

        if trimmed then
            -- the newline dropped from the output stays in the code
            emit("\n")
        end

        pos = next_pos
    end


    return concat(out)
end


-- Compiles template text.  Returns the compiled template (not cached) or
-- nil, "name:line: message".
function _M.compile_string(src, name)
    name = name or "(string)"

    if type(src) ~= "string" then
        return nil, name .. ": template source is not a string"
    end

    src = gsub(src, "\r\n", "\n")

    local code, err = translate(src, name)
    if code == nil then
        return nil, err
    end

    local fn
    fn, err = loadstring(code, "=" .. name)
    if fn == nil then
        return nil, err
    end

    return fn
end


local function valid_name(name)
    return type(name) == "string"
           and find(name, "^[%w_][%w_%-%./]*$") ~= nil
           and find(name, "..", 1, true) == nil
end


-- Returns the compiled template `name` (a file under the templates
-- directory), compiling and caching it on first use; or nil, err.
function _M.compile(name)
    local fn = cache[name]
    if fn then
        return fn
    end

    if not valid_name(name) then
        return nil, "invalid template name: " .. tostring(name)
    end

    local fh, err = io_open(root .. name, "rb")
    if fh == nil then
        return nil, name .. ": cannot open: " .. tostring(err)
    end

    local src = fh:read("*a")
    fh:close()

    if src == nil then
        return nil, name .. ": cannot read"
    end

    fn, err = _M.compile_string(src, name)
    if fn == nil then
        return nil, err
    end

    cache[name] = fn

    return fn
end


-- The environment of a rendering: its context first, then the builtins.
-- No closure is made per rendering (LuaJIT cannot compile the creation of
-- one, and a trace through every page would stop there): the builtins the
-- context does not name are copied in, and the rest is read from the
-- context through a plain __index table.
local BUILTIN_NAMES = {}
for k in pairs(BUILTINS) do
    BUILTIN_NAMES[#BUILTIN_NAMES + 1] = k
end

local function no_globals(_, k)
    error("assignment to undeclared variable '" .. tostring(k)
          .. "' (use local)", 2)
end

local function env_of(ctx)
    local env = {}

    for i = 1, #BUILTIN_NAMES do
        local k = BUILTIN_NAMES[i]
        if ctx[k] == nil then
            env[k] = BUILTINS[k]
        end
    end

    return setmetatable(env, { __index = ctx, __newindex = no_globals })
end


-- the context of the rendering under way, for {( "name" )} without one
local current


local run_into


-- {( name )}: renders into the buffer of the rendering under way
local function include(iname, ictx)
    local fn, err = _M.compile(iname)

    if fn ~= nil then
        err = run_into(fn, iname, ictx == nil and current or ictx,
                       current_buf)
    end

    if err ~= nil then
        error(err, 0)
    end
end


-- Runs compiled template fn with ctx, its output going into buf.  Returns
-- nil, or the error.
run_into = function(fn, name, ctx, buf)
    if ctx == nil then
        ctx = {}

    elseif type(ctx) ~= "table" then
        return name .. ": context is a " .. type(ctx) .. ", not a table"
    end

    if depth >= MAX_DEPTH then
        return name .. ": includes nested more than " .. MAX_DEPTH
               .. " deep (recursive include?)"
    end

    -- The environment is set for this call and restored after it, so a
    -- template that includes itself gets back its own.  Rendering never
    -- yields, so no other request can run the function in between.
    local saved = getfenv(fn)
    local outer, outer_buf = current, current_buf
    setfenv(fn, env_of(ctx))
    current, current_buf = ctx, buf

    depth = depth + 1
    local ok, err = pcall(fn, escape, raw, include, buf)
    depth = depth - 1

    current, current_buf = outer, outer_buf
    setfenv(fn, saved)

    if not ok then
        return tostring(err)
    end

    return nil
end


-- Runs fn into the kept buffer of this depth; returns the HTML or nil, err.
local function run(fn, name, ctx)
    local d = depth + 1
    local buf = buffers[d]

    if buf == nil then
        buf = buffer.new()
        buffers[d] = buf
    end

    local err = run_into(fn, name, ctx, buf)
    local html = err == nil and buf:tostring() or nil

    if #buf > BUFFER_KEEP then
        buffers[d] = nil
    else
        buf:reset()
    end

    if err ~= nil then
        return nil, err
    end

    return html
end


-- Renders template `name` with context table `ctx`.  Returns the HTML (a
-- string owned by the caller) or nil, err.
function _M.render(name, ctx)
    local fn, err = _M.compile(name)
    if fn == nil then
        return nil, err
    end

    return run(fn, name, ctx)
end


-- Renders template text (compiled each call, not cached); for tests and
-- one-off strings.  Returns the HTML or nil, err.
function _M.render_string(src, ctx, name)
    name = name or "(string)"

    local fn, err = _M.compile_string(src, name)
    if fn == nil then
        return nil, err
    end

    return run(fn, name, ctx)
end


-- Points the engine at another templates directory (tests only) and
-- empties the cache.
function _M.set_root(dir)
    if sub(dir, -1) ~= "/" then
        dir = dir .. "/"
    end

    root = dir
    cache = {}
end


-- Returns the templates directory in use.
function _M.root()
    return root
end


-- Empties the cache of compiled templates.
function _M.clear_cache()
    cache = {}
end


return _M
