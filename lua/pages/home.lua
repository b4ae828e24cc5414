-- lua/pages/home.lua: the home page of the portal (location = /).  The
-- controller is a module (lua/pages/portal/home_page.lua), loaded once per
-- worker: this file only calls it, so a cached home page costs no
-- per-request closures or tables (docs/portal.md).

return require("pages.portal.home_page").main("portal")
