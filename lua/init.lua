-- lua/init.lua: run once by nginx at configuration load
-- (init_by_lua_file), in the master before the workers fork.  Owns what
-- every worker shares from the start: the Lua modules and the compiled
-- templates.  A template that does not compile stops nginx from starting
-- (a reload keeps the running workers) instead of failing a citizen's
-- request later.  `nginx -t` does not run this file.

require "cjson.safe"

local template = require "dgj.template"

require "dgj.page"
require "dgj.cache"
require "dgj.portal"

-- the forms' CSRF and question key: made here, in the master, so every
-- worker shares it (lua/dgj/form.lua)
require("dgj.form").init_key()


-- every template a page renders; partials included by them too
local TEMPLATES = {
    "layout.html",
    "error.html",
    "home.html",
    "partials/topic.html",
    "wx/layout.html",
    "portal/stale.html",
    "portal/field.html",
    "portal/submit.html",
    "portal/receipt.html",
    "portal/follow.html",
    "portal/disclosures.html",
    "portal/disclosure.html",
    "portal/signin.html",
    "audit.html",
    "partials/audit_records.html",
}


for _, name in ipairs(TEMPLATES) do
    local fn, err = template.compile(name)
    if fn == nil then
        error("dgj init: template " .. err, 0)
    end
end
