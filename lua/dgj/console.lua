-- dgj.console: what the staff console pages share.  Owns the map of the
-- console (which page each role reaches, in what order) and the reading of
-- the caller's roles from the auth module's variables.  Pages still decide
-- per action; nginx (`dgj_auth_require`) and the workers refuse the rest.

local _M = { _VERSION = "0.1.0" }


local ngx = ngx
local type = type
local ipairs = ipairs
local find = string.find
local sub = string.sub


-- The console's sections.  `roles`: who sees the entry (any of them).
-- Pages in a section pass its `id` as `current`.
local SECTIONS = {
    { id = "inbox", href = "/console", label = "工作台",
      roles = { "intake", "handler", "reviewer", "supervisor" } },
    { id = "board", href = "/console/board", label = "督办看板",
      roles = { "supervisor", "analyst" } },  -- analysts read (考核 KPIs)
    { id = "admin", href = "/console/admin", label = "系统管理",
      roles = { "sysadmin" } },
    { id = "security", href = "/console/security", label = "安全管理",
      roles = { "secadmin" } },
    { id = "audit", href = "/audit", label = "审计日志",
      roles = { "auditor" } },
    { id = "account", href = "/console/account", label = "我的账号",
      roles = nil },  -- every staff member
    { id = "logout", href = "/logout", label = "退出登录",
      roles = nil },
}

-- The inbox boxes (GET /api/v1/inbox?box=), in the order of their tabs:
-- the box a role works from carries that role's name.
local BOXES = {
    { box = "intake", label = "受理" },
    { box = "handler", label = "承办" },
    { box = "reviewer", label = "审核" },
    { box = "supervisor", label = "督办" },
}

-- The roles of staff accounts (docs/security.md "Accounts and roles").
local STAFF = {
    "intake", "handler", "reviewer", "supervisor", "project_manager",
    "analyst", "ops", "sysadmin", "secadmin", "auditor",
}


-- true when the comma-separated role list `roles` holds `role`
function _M.has_role(roles, role)
    return type(roles) == "string"
           and find("," .. roles .. ",", "," .. role .. ",", 1, true) ~= nil
end


-- true when `roles` holds any of the list `wanted`
function _M.has_any(roles, wanted)
    for _, r in ipairs(wanted) do
        if _M.has_role(roles, r) then
            return true
        end
    end

    return false
end


-- true when `roles` holds a staff role: the console is for staff only
function _M.is_staff(roles)
    return _M.has_any(roles or _M.roles(), STAFF)
end


-- The inbox boxes the caller works from: { { box, label } ... }.
function _M.boxes(roles)
    roles = roles or _M.roles()

    local out = {}

    for _, b in ipairs(BOXES) do
        if _M.has_role(roles, b.box) then
            out[#out + 1] = b
        end
    end

    return out
end


-- `next` when it is a path of this site ("/x", not "//host" nor "/\\host",
-- no blank or control character, at most 512 bytes), else nil: the same
-- rule as the API's resume (dgj_accounts_local_next), so ?next= can never
-- send a signed-in browser to another site.
function _M.local_next(next)
    if type(next) ~= "string" or #next > 512 or sub(next, 1, 1) ~= "/" then
        return nil
    end

    local c = sub(next, 2, 2)
    if c == "/" or c == "\\" or find(next, "[%z\1-\32\127\\]") then
        return nil
    end

    return next
end


-- The caller's roles as the auth module verified them ("" when anonymous).
function _M.roles()
    return ngx.var.dgj_roles or ""
end


-- The navigation for the caller: the layout's `console_nav` list.
-- `current` is the id of the section the page belongs to.
function _M.nav(current, roles)
    roles = roles or _M.roles()

    local items = {}

    for _, s in ipairs(SECTIONS) do
        if s.roles == nil or _M.has_any(roles, s.roles) then
            items[#items + 1] = { href = s.href, label = s.label,
                                  current = s.id == current }
        end
    end

    return items
end


-- The first section the caller may open: where /login sends staff.
function _M.home(roles)
    roles = roles or _M.roles()

    for _, s in ipairs(SECTIONS) do
        if s.roles ~= nil and _M.has_any(roles, s.roles) then
            return s.href
        end
    end

    return "/console/account"
end


return _M
