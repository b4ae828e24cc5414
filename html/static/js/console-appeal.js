/*
 * console-appeal.js: one appeal in the staff console (/console/appeals/…).
 * The action forms are sent by console.js (data-api, data-version); this
 * script adds:
 * - a conflict (409 stale_version or invalid_state: someone acted first)
 *   shown plainly at the top with a reload button; the typed text is kept
 *   across the reload (dgjConsole.keepForms);
 * - the "show full contact" button: POST …/reveal (recorded on the
 *   appeal's timeline and in the audit log), then the full name, phone
 *   and ID number in place of the masks;
 * - an action whose form came back with kept text opens by itself.
 */
(function () {
    "use strict";

    var CONFLICTS = { stale_version: true, invalid_state: true };

    function onFailed(ev) {
        var r = ev.detail, err = r.body && r.body.error;
        var box = document.querySelector("[data-conflict]");
        if (!box || r.status !== 409 || !err || !CONFLICTS[err.code]) {
            return;
        }
        var msg = box.querySelector("[data-conflict-text]");
        msg.textContent = dgjConsole.messages[err.code];
        box.hidden = false;
        box.querySelector("[data-reload]").focus();
    }

    function reload() {
        dgjConsole.keepForms();
        location.reload();
    }

    function reveal(button) {
        var out = document.querySelector("[data-reveal-message]");
        button.disabled = true;
        dgjConsole.api("POST", button.dataset.reveal, {}).then(function (r) {
            var who = r.body && r.body.submitter;
            if (r.status !== 200 || !who) {
                button.disabled = false;
                if (out) {
                    var err = r.body && r.body.error;
                    out.textContent = err && dgjConsole.messages[err.code]
                        ? dgjConsole.messages[err.code]
                        : "未能显示联系方式（HTTP " + r.status + "）。";
                    out.hidden = false;
                }
                return;
            }
            ["name", "phone", "id_number"].forEach(function (k) {
                var dd = document.querySelector('[data-field="' + k + '"]');
                if (dd) {
                    dd.textContent = who[k] || "";
                }
            });
            button.hidden = true;
        });
    }

    document.addEventListener("DOMContentLoaded", function () {
        var forms = document.querySelectorAll("form[data-api]");
        for (var i = 0; i < forms.length; i++) {
            forms[i].addEventListener("dgj:failed", onFailed);
            /* text kept from before a sign-in or a reload: show it */
            var fields = forms[i].querySelectorAll("textarea, input[type=text], input:not([type])");
            for (var j = 0; j < fields.length; j++) {
                if (fields[j].value !== fields[j].defaultValue) {
                    var d = forms[i].closest("details");
                    if (d) {
                        d.open = true;
                    }
                }
            }
        }
        var again = document.querySelector("[data-reload]");
        if (again) {
            again.addEventListener("click", reload);
        }
        var b = document.querySelector("[data-reveal]");
        if (b) {
            b.addEventListener("click", function () { reveal(b); });
        }
    });
}());
