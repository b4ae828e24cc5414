/*
 * console-account.js: "my account" (/console/account).  The forms are
 * sent by console.js; this script shows the new TOTP secret that
 * POST /api/v1/auth/totp/enrol answers (once) and opens the confirm form.
 */
(function () {
    "use strict";

    document.addEventListener("DOMContentLoaded", function () {
        var enrol = document.getElementById("totp-enrol");
        if (!enrol) {
            return;
        }
        enrol.addEventListener("dgj:done", function (ev) {
            ev.preventDefault();
            var b = ev.detail.body || {};
            var box = document.querySelector("[data-totp-secret]");
            box.querySelector("[data-totp-value]").textContent = b.totp_secret || "";
            box.querySelector("[data-totp-uri]").textContent = b.totp_uri || "";
            box.hidden = false;
            var confirm = document.getElementById("totp-confirm");
            confirm.hidden = false;
            confirm.elements.code.focus();
        });
    });
}());
