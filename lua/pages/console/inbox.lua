-- lua/pages/console/inbox.lua: the staff inbox (location = /console).  The
-- controller is a module (lua/pages/console/inbox_page.lua), loaded once per
-- worker, so that what it keeps per worker survives the request.

return require("pages.console.inbox_page").main()
