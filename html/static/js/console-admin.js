/*
 * console-admin.js: what the board, administration and security pages
 * add to console.js (which sends their forms).
 *
 * - <form data-api-template="/api/v1/.../{date}">: the path is built from
 *   the form's [data-path] fields at submit, and those fields stay out of
 *   the JSON body.
 * - <form data-show-secret>: on success the reply's one-time secrets
 *   (initial password, TOTP secret and URI) are shown in the page's
 *   [data-secret-panel] as text, instead of reloading.
 * - A refused form gets the reason in plain Chinese for the codes an
 *   administrator meets (separation of duties first), before the API's
 *   own message.
 *
 * No inline script anywhere: the page's CSP has no 'unsafe-inline'.
 */
(function () {
    "use strict";

    var REASONS = {
        duty_conflict: "三权分立：系统管理员、安全管理员、审计管理员三项职责"
            + "不能由同一账号兼任，请只保留其中一项。",
        self_grant_refused: "不能给自己的账号授予或收回角色，请由另一位系统管理员操作。",
        self_change_refused: "不能停用或调动自己的账号。",
        already_exists: "已存在同名或同编码的记录。",
        effective_in_past: "生效日期不能早于今天：已在办的诉求保持原时限。",
        category_and_type: "“分类”和“诉求类型”只能选择其一（分类自带类型）。",
        workday_not_weekend: "只有周六、周日可以设为调休上班日。",
        name_required: "节假日需要填写名称（如 春节）。",
        self_ban_refused: "不能封禁自己当前的地址或账号。",
        out_of_range: "数值超出允许范围。",
        not_in_force: "该封禁已解除或已过期。",
        stale_version: "该诉求已被他人处理，请刷新页面后重试。",
        invalid_state: "该诉求当前状态下不能进行此操作，请刷新页面。",
        role_forbidden: "您的角色不能进行此操作。",
        forbidden: "您的角色不能进行此操作。",
        unknown_department: "所选部门不存在或已停用。"
    };

    /* capture: runs before console.js's submit handler (bubbling) */
    function beforeSubmit(ev) {
        var form = ev.target;
        if (!form.matches || !form.matches("form[data-api-template]")) {
            return;
        }
        var api = form.dataset.apiTemplate, missing = false;
        var fields = form.querySelectorAll("[data-path]");
        for (var i = 0; i < fields.length; i++) {
            var el = fields[i];
            if (!el.value) {
                missing = true;
            }
            api = api.replace("{" + el.name + "}", encodeURIComponent(el.value));
            el.disabled = true;
        }
        form.dataset.api = api;
        setTimeout(function () {
            for (var j = 0; j < fields.length; j++) {
                fields[j].disabled = false;
            }
        }, 0);
        if (missing) {
            ev.preventDefault();
            ev.stopImmediatePropagation();
            for (var k = 0; k < fields.length; k++) {
                fields[k].disabled = false;
            }
            fields[0].focus();
        }
    }

    function onDone(ev) {
        var form = ev.target;
        if (!form.matches || !form.matches("form[data-show-secret]")) {
            return;
        }
        var panel = document.querySelector("[data-secret-panel]");
        var body = ev.detail && ev.detail.body;
        if (!panel || !body) {
            return;
        }
        ev.preventDefault();
        var user = body.user || body;
        var values = {
            username: user.username || "",
            initial_password: body.initial_password || "",
            totp_secret: body.totp_secret || "",
            totp_uri: body.totp_uri || ""
        };
        var slots = panel.querySelectorAll("[data-secret]");
        for (var i = 0; i < slots.length; i++) {
            slots[i].textContent = values[slots[i].dataset.secret] || "";
        }
        form.reset();
        var msg = form.querySelector("[data-form-message]");
        if (msg) {
            msg.hidden = true;
        }
        panel.hidden = false;
        panel.focus();
    }

    function onFailed(ev) {
        var form = ev.target, r = ev.detail || {};
        var err = r.body && r.body.error;
        var msg = form.querySelector && form.querySelector("[data-form-message]");
        if (!msg || !err || !REASONS[err.code]) {
            return;
        }
        msg.textContent = REASONS[err.code] + (err.message ? "（" + err.message + "）" : "");
    }

    function onClick(ev) {
        var t = ev.target;
        if (t.matches && t.matches("[data-secret-done]")) {
            location.reload();
        }
    }

    /* console.js fires dgj:done and dgj:failed on the form; they do not
       bubble */
    function bind() {
        var forms = document.querySelectorAll("form[data-api], form[data-api-template]");
        for (var i = 0; i < forms.length; i++) {
            forms[i].addEventListener("dgj:done", onDone);
            forms[i].addEventListener("dgj:failed", onFailed);
        }
    }

    document.addEventListener("submit", beforeSubmit, true);
    document.addEventListener("click", onClick);
    document.addEventListener("DOMContentLoaded", bind);
}());
