-- lua/pages/portal/disclosures.lua: the disclosure list and detail of both
-- columns.  The controller is a module (disclosures_page.lua), loaded once
-- per worker; this file only calls it (docs/portal.md).

return require("pages.portal.disclosures_page").main()
