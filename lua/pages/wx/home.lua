-- lua/pages/wx/home.lua: the home page of the WeChat column (location =
-- /wx/), the same controller as / (lua/pages/portal/home_page.lua) in the
-- WeChat layout (docs/portal.md).

return require("pages.portal.home_page").main("wx")
