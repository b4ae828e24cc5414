/*
 * console-login.js: the sign-in page (/login).  The forms themselves are
 * sent by console.js (data-api, data-auth="none"); this script only swaps
 * to the change-password form when the API answers
 * password_change_required, carrying the user name over.
 */
(function () {
    "use strict";

    document.addEventListener("DOMContentLoaded", function () {
        var login = document.getElementById("login-form");
        var change = document.getElementById("change-form");
        if (!login || !change) {
            return;
        }
        login.addEventListener("dgj:failed", function (ev) {
            var err = ev.detail.body && ev.detail.body.error;
            if (!err || err.code !== "password_change_required") {
                return;
            }
            change.elements.username.value = login.elements.username.value;
            change.hidden = false;
            change.elements.old_password.focus();
        });
    });
}());
