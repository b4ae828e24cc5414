/*
 * console.js: what every staff console page's script shares.
 *
 * - dgjConsole.api(method, path, body): the JSON API with the session
 *   cookie, the X-CSRF-Token header on writes, and one silent refresh
 *   (POST /api/v1/auth/refresh) when the 2-minute access token lapsed.
 *   Resolves to { status, body }; never throws on an HTTP error.
 * - When the session is over (refresh refused), the typed text of every
 *   form on the page is kept in sessionStorage and the browser goes to
 *   /login?next=<this page>; back on the page, the text is put back.
 * - <form data-api="/api/v1/..." data-method="POST"> forms are sent as
 *   JSON by api(); field errors go to [data-error-for="<field>"], the
 *   form's message to [data-form-message]; data-next="reload" or a path
 *   says where to go on success.  Fields named with a "[]" suffix become
 *   lists; data-type="int" on a field sends a number.
 *
 * No inline script anywhere: the page's CSP has no 'unsafe-inline'.
 */
(function () {
    "use strict";

    var KEEP = "dgj.console.kept:";

    function cookie(name) {
        var parts = document.cookie ? document.cookie.split("; ") : [];
        for (var i = 0; i < parts.length; i++) {
            var eq = parts[i].indexOf("=");
            if (parts[i].substring(0, eq) === name) {
                return decodeURIComponent(parts[i].substring(eq + 1));
            }
        }
        return "";
    }

    function send(method, path, body) {
        var opts = { method: method, credentials: "same-origin",
                     headers: { "Accept": "application/json" } };
        if (method !== "GET" && method !== "HEAD") {
            opts.headers["X-CSRF-Token"] = cookie("dgj_csrf");
        }
        if (body !== undefined && body !== null) {
            opts.headers["Content-Type"] = "application/json";
            opts.body = JSON.stringify(body);
        }
        return fetch(path, opts).then(function (res) {
            return res.text().then(function (text) {
                var data = null;
                try { data = text ? JSON.parse(text) : null; } catch (e) {
                    data = null;
                }
                return { status: res.status, body: data };
            });
        }, function () {
            return { status: 0, body: { error: { code: "network",
                message: "网络连接失败，请检查网络后重试。" } } };
        });
    }

    /* every form's typed text, keyed by the form's id or position */
    function keepForms() {
        var kept = {};
        var forms = document.querySelectorAll("form");
        for (var i = 0; i < forms.length; i++) {
            var f = forms[i], values = {};
            for (var j = 0; j < f.elements.length; j++) {
                var el = f.elements[j];
                if (!el.name || el.type === "password" || el.type === "file"
                    || el.type === "hidden") {
                    continue;
                }
                if (el.type === "checkbox" || el.type === "radio") {
                    values[el.name + "\u0000" + el.value] = el.checked;
                } else {
                    values[el.name] = el.value;
                }
            }
            kept[f.id || "form" + i] = values;
        }
        try {
            sessionStorage.setItem(KEEP + location.pathname + location.search,
                                   JSON.stringify(kept));
        } catch (e) { /* storage full or off: nothing to keep */ }
    }

    function restoreForms() {
        var key = KEEP + location.pathname + location.search, kept;
        try {
            kept = JSON.parse(sessionStorage.getItem(key) || "null");
            sessionStorage.removeItem(key);
        } catch (e) {
            kept = null;
        }
        if (!kept) {
            return;
        }
        var forms = document.querySelectorAll("form");
        for (var i = 0; i < forms.length; i++) {
            var f = forms[i], values = kept[f.id || "form" + i];
            if (!values) {
                continue;
            }
            for (var j = 0; j < f.elements.length; j++) {
                var el = f.elements[j];
                if (!el.name) {
                    continue;
                }
                if (el.type === "checkbox" || el.type === "radio") {
                    var k = el.name + "\u0000" + el.value;
                    if (k in values) {
                        el.checked = values[k];
                    }
                } else if (el.name in values && el.type !== "password"
                           && el.type !== "file" && el.type !== "hidden") {
                    el.value = values[el.name];
                }
            }
        }
    }

    function signIn() {
        keepForms();
        location.assign("/login?next="
            + encodeURIComponent(location.pathname + location.search));
    }

    function api(method, path, body) {
        return send(method, path, body).then(function (r) {
            if (r.status !== 401) {
                return r;
            }
            return send("POST", "/api/v1/auth/refresh", {}).then(function (rr) {
                if (rr.status !== 200) {
                    signIn();
                    return r;
                }
                return send(method, path, body).then(function (again) {
                    if (again.status === 401) {
                        signIn();
                    }
                    return again;
                });
            });
        });
    }

    function formBody(form) {
        var body = {};
        for (var i = 0; i < form.elements.length; i++) {
            var el = form.elements[i], name = el.name, v;
            if (!name || el.disabled || el.type === "submit"
                || el.type === "button" || el.type === "file") {
                continue;
            }
            if ((el.type === "checkbox" || el.type === "radio") && !el.checked) {
                if (el.type === "checkbox" && !/\[\]$/.test(name)
                    && el.dataset.type === "bool") {
                    body[name] = false;
                }
                continue;
            }
            v = el.value;
            if (el.dataset.type === "bool") {
                v = true;
            } else if (el.dataset.type === "int") {
                if (v === "") {
                    continue;
                }
                v = Number(v);
            } else if (v === "" && el.dataset.optional !== undefined) {
                continue;
            }
            if (/\[\]$/.test(name)) {
                name = name.slice(0, -2);
                (body[name] = body[name] || []).push(v);
            } else {
                body[name] = v;
            }
        }
        return body;
    }

    function showErrors(form, r) {
        var marks = form.querySelectorAll("[data-error-for]");
        for (var i = 0; i < marks.length; i++) {
            marks[i].textContent = "";
        }
        var msg = form.querySelector("[data-form-message]");
        var err = r.body && r.body.error;
        var text = err && err.message ? err.message
                   : "操作未完成（HTTP " + r.status + "），请稍后重试。";
        var field = err && err.field;
        var mark = field && form.querySelector('[data-error-for="' + field + '"]');
        if (mark) {
            mark.textContent = text;
        }
        if (msg) {
            msg.textContent = text;
            msg.dataset.code = err && err.code ? err.code : "";
            msg.hidden = false;
        }
    }

    function onSubmit(ev) {
        var form = ev.target;
        if (!form.matches || !form.matches("form[data-api]")) {
            return;
        }
        ev.preventDefault();
        var button = form.querySelector("[type=submit]");
        if (button) {
            button.disabled = true;
        }
        api(form.dataset.method || "POST", form.dataset.api, formBody(form))
            .then(function (r) {
                if (button) {
                    button.disabled = false;
                }
                if (r.status >= 200 && r.status < 300) {
                    var ok = new CustomEvent("dgj:done", { detail: r, cancelable: true });
                    if (!form.dispatchEvent(ok)) {
                        return;
                    }
                    var next = form.dataset.next || "reload";
                    if (next === "reload") {
                        location.reload();
                    } else {
                        location.assign(next);
                    }
                    return;
                }
                showErrors(form, r);
                form.dispatchEvent(new CustomEvent("dgj:failed", { detail: r }));
            });
    }

    document.addEventListener("submit", onSubmit);
    document.addEventListener("DOMContentLoaded", restoreForms);

    window.dgjConsole = { api: api, cookie: cookie, formBody: formBody,
                          keepForms: keepForms, signIn: signIn };
}());
