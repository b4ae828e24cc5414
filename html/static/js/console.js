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
 *   lists, as does a <select multiple>; data-type="int" on a field sends
 *   a number.  data-auth="none"
 *   (the sign-in forms): a 401 is the form's answer, no refresh, no
 *   redirect; data-version="<n>" adds "version": n to the body.
 * - An API error code is shown in Chinese when MESSAGES (extendable by
 *   dgjConsole.messages) knows it, else the API's own message.
 *
 * No inline script anywhere: the page's CSP has no 'unsafe-inline'.
 */
(function () {
    "use strict";

    var KEEP = "dgj.console.kept:";

    /* what an error code means to the person at the desk */
    var MESSAGES = {
        network: "网络连接失败，请检查网络后重试。",
        invalid_credentials: "用户名、密码或动态码不正确。",
        account_locked: "登录失败次数过多，账号已暂时锁定，请稍后再试。",
        password_change_required: "密码已过期或为初始密码，请先修改密码。",
        session_expired: "登录已过期，请重新登录。",
        csrf_failed: "页面已过期，请刷新后重试。",
        forbidden: "您没有执行此操作的权限。",
        role_forbidden: "您的角色不能执行此操作。",
        not_your_department: "该诉求不由您所在部门承办。",
        appeal_not_found: "诉求不存在，或您无权查看。",
        stale_version: "其他人已先处理了这件诉求，您看到的内容已过时。"
            + "请重新加载后再操作。",
        invalid_state: "诉求的状态已经改变，此操作不再可用。请重新加载。",
        return_limit: "退回次数已达上限（2 次）。",
        extension_pending: "已有一个待审批的延期申请。",
        extension_limit: "延期次数已达上限（2 次）。",
        no_extension: "没有待审批的延期申请。",
        assist_pending: "还有协办单位未回复，暂不能答复。",
        assist_open: "该部门已有未完成的协办任务。",
        task_not_open: "该协办任务已结束。",
        reopen_limit: "已重办过一次，不能再次重办。",
        no_consent: "诉求人未同意公开，不能公示。",
        category_private: "举报类诉求不公开。",
        merge_target_closed: "目标诉求已结束，不能合并。",
        merge_into_self: "不能与自身合并。",
        merge_target_unknown: "目标诉求编号不存在。",
        unknown_department: "部门不存在。",
        assist_is_lead: "协办单位不能是承办单位。",
        missing_field: "请填写所有必填项。",
        invalid_code: "请选择列表中的选项。",
        password_too_short: "密码太短：至少 12 个字符。",
        password_too_simple: "密码太简单：须包含大写字母、小写字母、数字、"
            + "符号中的至少三类。",
        password_contains_username: "密码不能包含用户名（含倒序）。",
        password_repeated_chars: "密码不能有 4 个或以上连续相同的字符。",
        password_sequence: "密码不能包含 4 个或以上连续递增或递减的字母或数字"
            + "（如 abcd、4321）。",
        password_keyboard_pattern: "密码不能包含键盘上连续排列的按键"
            + "（如 qwer、asdf、1qaz）。",
        password_common: "这是常见密码，容易被猜中，请换一个。",
        password_reused: "新密码不能与最近 5 次使用过的密码相同。",
        password_too_long: "密码不能超过 128 个字节。",
        password_invalid_chars: "密码含有不允许的字符。",
        totp_invalid: "动态码不正确或已使用过，请等下一个动态码。",
        no_enrolment: "请先生成新的动态码密钥。",
        level_2_required: "请使用密码和动态码重新登录后再更换动态码密钥。"
    };

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

    /* a 401 that answers the form (a wrong password), not a lapsed session */
    var FORM_401 = { invalid_credentials: true, totp_invalid: true,
                     sms_code_invalid: true };

    function api(method, path, body, opts) {
        return send(method, path, body).then(function (r) {
            var code = r.body && r.body.error && r.body.error.code;
            if (r.status !== 401 || (opts && opts.noRefresh)
                || FORM_401[code]) {
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
            if (el.type === "select-multiple") {
                var picked = [];
                for (var o = 0; o < el.options.length; o++) {
                    if (el.options[o].selected) {
                        picked.push(el.dataset.type === "int"
                            ? Number(el.options[o].value) : el.options[o].value);
                    }
                }
                if (picked.length > 0 || el.dataset.optional === undefined) {
                    body[name.replace(/\[\]$/, "")] = picked;
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
        var text = err && MESSAGES[err.code] ? MESSAGES[err.code]
                   : err && err.message ? err.message
                   : "操作未完成（HTTP " + r.status + "），请稍后重试。";
        var field = err && err.field;
        var mark = field && form.querySelector('[data-error-for="' + field + '"]');
        if (mark) {
            mark.textContent = text;
        }
        /* a rule listed in the form (data-code) is marked as the one broken */
        var rules = form.querySelectorAll("[data-code]");
        for (var k = 0; k < rules.length; k++) {
            rules[k].classList.toggle("is-broken",
                !!(err && rules[k].dataset.code === err.code));
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
        var body = formBody(form);
        if (form.dataset.version) {
            body.version = Number(form.dataset.version);
        }
        api(form.dataset.method || "POST", form.dataset.api, body,
            { noRefresh: form.dataset.auth === "none" })
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
                          keepForms: keepForms, signIn: signIn,
                          messages: MESSAGES, showErrors: showErrors };
}());
