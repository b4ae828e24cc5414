
/*
 * Copyright (C) Daguanjia
 *
 * dgj_accounts_login.c: signing in and out.  Staff: username, password and
 * TOTP; organisations: username, password, TOTP when enrolled; citizens:
 * phone and an SMS code, or WeChat web authorisation (code -> openid).
 * Every failure of a credential gets the same answer whether the account
 * exists or not; every attempt is an auth_events row.
 */


#include "dgj_core.h"
#include "dgj_accounts.h"
#include "dgj_clock.h"
#include "dgj_conf.h"
#include "dgj_db.h"
#include "dgj_identity.h"
#include "dgj_ids.h"
#include "dgj_json.h"
#include "dgj_log.h"
#include "dgj_password.h"
#include "dgj_req.h"
#include "dgj_session.h"
#include "dgj_sms.h"
#include "dgj_totp.h"
#include "dgj_wechat.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>


#define DGJ_LOGIN_BAD  "用户名、密码或动态口令错误。" \
                       "Wrong username, password or one-time code."

#define DGJ_SMS_CODE_SECONDS    300
#define DGJ_SMS_RESEND_SECONDS  60
#define DGJ_SMS_DAILY_MAX       10
#define DGJ_SMS_ATTEMPTS_MAX    5


static dgj_rc_t dgj_login_fail(dgj_req_t *r, dgj_accounts_user_t *u,
    const dgj_accounts_policy_t *policy, const char *subject,
    const char *why);
static dgj_rc_t dgj_login_check_secret(dgj_req_t *r, dgj_accounts_user_t *u,
    const char *password, const char *totp, int need_totp, int64_t now,
    int *ok, int64_t *step, const char **why);
static dgj_rc_t dgj_login_locked(dgj_req_t *r, const dgj_accounts_user_t *u,
    int64_t now, const char *subject);
static dgj_rc_t dgj_login_finish(dgj_req_t *r, const dgj_accounts_user_t *u,
    const char *method, int level, int app, int status, const char *next);
static dgj_rc_t dgj_login_citizen(dgj_req_t *r, const char *phone,
    const char *appid, const char *openid, int64_t *user_id);
static dgj_rc_t dgj_login_wechat_user(dgj_req_t *r, const char *code,
    int64_t *user_id);
static dgj_rc_t dgj_login_body(dgj_req_t *r, json_t **body);
static dgj_rc_t dgj_login_redirect(dgj_req_t *r, int status,
    const char *location);
static char *dgj_login_pct(dgj_req_t *r, const char *s);
static void dgj_login_code_hash(const char *phone, const char *code,
    unsigned char *out);
static dgj_password_params_t dgj_login_params(dgj_req_t *r);


static const dgj_sql_t  dgj_login_sql_failed = {
    "login.failed",
    "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ?"
};

static const dgj_sql_t  dgj_login_sql_failed_count = {
    "login.failed_count",
    "SELECT failed_logins FROM users WHERE id = ?"
};

static const dgj_sql_t  dgj_login_sql_lock = {
    "login.lock",
    "UPDATE users SET locked_until = ?, failed_logins = 0"
    " WHERE id = ? AND failed_logins >= ?"
};

static const dgj_sql_t  dgj_login_sql_ok = {
    "login.ok",
    "UPDATE users"
    "   SET failed_logins = 0, locked_until = NULL,"
    "       totp_last_step = GREATEST(totp_last_step, ?),"
    "       password_hash = COALESCE(?, password_hash)"
    " WHERE id = ?"
};

static const dgj_sql_t  dgj_login_sql_sms_recent = {
    "login.sms_recent",
    "SELECT COUNT(*), COALESCE(MAX(UNIX_TIMESTAMP(created_at)), 0)"
    "  FROM sms_codes"
    " WHERE phone = ? AND created_at > ?"
};

static const dgj_sql_t  dgj_login_sql_sms_insert = {
    "login.sms_insert",
    "INSERT INTO sms_codes"
    "       (phone, code_hash, purpose, created_at, expires_at, client_ip)"
    " VALUES (?, ?, 'login', ?, ?, ?)"
};

static const dgj_sql_t  dgj_login_sql_sms_void = {
    "login.sms_void",
    "UPDATE sms_codes SET used_at = ? WHERE id = ?"
};

static const dgj_sql_t  dgj_login_sql_sms_latest = {
    "login.sms_latest",
    "SELECT id, code_hash, attempts, UNIX_TIMESTAMP(expires_at),"
    "       used_at IS NOT NULL"
    "  FROM sms_codes"
    " WHERE phone = ? AND purpose = 'login'"
    " ORDER BY id DESC"
    " LIMIT 1"
};

static const dgj_sql_t  dgj_login_sql_sms_attempt = {
    "login.sms_attempt",
    "UPDATE sms_codes SET attempts = attempts + 1 WHERE id = ?"
};

static const dgj_sql_t  dgj_login_sql_sms_use = {
    "login.sms_use",
    "UPDATE sms_codes SET used_at = ? WHERE id = ? AND used_at IS NULL"
};

static const dgj_sql_t  dgj_login_sql_by_phone = {
    "login.by_phone",
    "SELECT u.id FROM user_personal p JOIN users u ON u.id = p.user_id"
    " WHERE p.phone = ?"
};

static const dgj_sql_t  dgj_login_sql_by_openid = {
    "login.by_openid",
    "SELECT user_id FROM wechat_identities WHERE appid = ? AND openid = ?"
};

static const dgj_sql_t  dgj_login_sql_new_citizen = {
    "login.new_citizen",
    "INSERT INTO users (kind, display_name, created_at, updated_at)"
    " VALUES ('citizen', ?, ?, ?)"
};

static const dgj_sql_t  dgj_login_sql_new_personal = {
    "login.new_personal",
    "INSERT INTO user_personal (user_id, phone) VALUES (?, ?)"
};

static const dgj_sql_t  dgj_login_sql_new_openid = {
    "login.new_openid",
    "INSERT INTO wechat_identities (openid, appid, user_id, created_at)"
    " VALUES (?, ?, ?, ?)"
};

static const dgj_sql_t  dgj_login_sql_grant_system = {
    "login.grant_system",
    "INSERT INTO user_roles (user_id, role_id, granted_at)"
    " SELECT ?, id, ? FROM roles WHERE name = ?"
};

static const dgj_sql_t  dgj_login_sql_me = {
    "login.me",
    "SELECT u.id, u.kind, u.username, u.display_name, u.department_id,"
    "       d.name AS department, p.phone,"
    "       UNIX_TIMESTAMP(u.password_changed_at) AS password_changed,"
    "       u.totp_secret IS NOT NULL AS totp"
    "  FROM users u"
    "  LEFT JOIN departments d ON d.id = u.department_id"
    "  LEFT JOIN user_personal p ON p.user_id = u.id"
    " WHERE u.id = ?"
};

static const dgj_sql_t  dgj_login_sql_history = {
    "login.history",
    "SELECT hash FROM password_history"
    " WHERE user_id = ?"
    " ORDER BY id DESC"
    " LIMIT ?"
};

static const dgj_sql_t  dgj_login_sql_set_password = {
    "login.set_password",
    "UPDATE users"
    "   SET password_hash = ?, password_changed_at = ?,"
    "       must_change_password = 0, failed_logins = 0,"
    "       locked_until = NULL, updated_at = ?"
    " WHERE id = ?"
};

static const dgj_sql_t  dgj_login_sql_add_history = {
    "login.add_history",
    "INSERT INTO password_history (user_id, hash, created_at)"
    " VALUES (?, ?, ?)"
};

static const dgj_sql_t  dgj_login_sql_new_org = {
    "login.new_org",
    "INSERT INTO users"
    "       (kind, username, display_name, password_hash,"
    "        password_changed_at, created_at, updated_at)"
    " VALUES ('organisation', ?, ?, ?, ?, ?, ?)"
};

static const dgj_sql_t  dgj_login_sql_new_org_row = {
    "login.new_org_row",
    "INSERT INTO organisations (user_id, name, uscc, org_kind)"
    " VALUES (?, ?, ?, ?)"
};

static const dgj_sql_t  dgj_login_sql_new_org_contact = {
    "login.new_org_contact",
    "INSERT INTO user_personal (user_id, real_name, phone) VALUES (?, ?, ?)"
};


/* POST /api/v1/auth/login {username, password, totp?, client?} */

dgj_rc_t
dgj_accounts_login(dgj_req_t *r)
{
    int                     app, ok, staff, expired, rehashed;
    char                    hash[DGJ_PASSWORD_ENCODED];
    json_t                 *body;
    int64_t                 now, step;
    dgj_rc_t                rc;
    const char             *username, *password, *totp, *subject, *why;
    dgj_accounts_user_t     u;
    dgj_accounts_policy_t   policy;
    dgj_password_params_t   params;

    static const char *const  keys[] = {
        "username", "password", "totp", "client", NULL
    };

    rc = dgj_json_body(r, &body);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_json_check_keys(r, body, keys)) != DGJ_OK
        || (rc = dgj_accounts_req_str(r, body, "username", 64, &username))
           != DGJ_OK
        || (rc = dgj_accounts_req_str(r, body, "password",
                                      DGJ_PASSWORD_MAX_BYTES, &password))
           != DGJ_OK
        || (rc = dgj_accounts_opt_str(r, body, "totp", 16, &totp)) != DGJ_OK
        || (rc = dgj_accounts_client_is_app(r, body, &app)) != DGJ_OK
        || (rc = dgj_accounts_policy(r, &policy)) != DGJ_OK)
    {
        return rc;
    }

    subject = dgj_accounts_mask_name(r, username);
    now = dgj_clock_now(r->conf);
    params = dgj_login_params(r);

    rc = dgj_accounts_user_by_name(r, username, &u);

    if (rc == DGJ_ERR_NOT_FOUND) {
        dgj_password_verify_dummy(&params, password);
        (void) dgj_accounts_event(r, "login_failed", 0, 0, subject,
                                  "unknown user");
        return dgj_req_fail_code(r, DGJ_ERR_UNAUTH, "invalid_credentials",
                                 DGJ_LOGIN_BAD);
    }

    if (rc != DGJ_OK) {
        return rc;
    }

    if (u.locked_until > now) {
        return dgj_login_locked(r, &u, now, subject);
    }

    staff = (strcmp(u.kind, "staff") == 0);

    rc = dgj_login_check_secret(r, &u, password, totp,
                                staff || u.totp_secret != NULL, now, &ok,
                                &step, &why);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (!ok) {
        return dgj_login_fail(r, &u, &policy, subject, why);
    }

    if (strcmp(u.status, "active") != 0) {
        (void) dgj_accounts_event(r, "login_refused", u.id, 0, subject,
                                  "account disabled");
        return dgj_req_fail_code(r, DGJ_ERR_UNAUTH, "invalid_credentials",
                                 DGJ_LOGIN_BAD);
    }

    /* a hash made with older parameters is upgraded at the next login */
    rehashed = 0;

    if (dgj_password_needs_rehash(u.password_hash, &params)
        && dgj_password_hash(&params, password, hash, sizeof(hash)) == 0)
    {
        rehashed = 1;
    }

    rc = dgj_db_exec(r, &dgj_login_sql_ok,
                     DGJ_ARGS(DGJ_I64(step),
                              rehashed ? DGJ_STR(hash) : DGJ_NULL,
                              DGJ_I64(u.id)),
                     NULL, NULL);
    if (rc != DGJ_OK) {
        return rc;
    }

    expired = u.must_change
              || (staff
                  && u.password_changed + (int64_t) policy.password_max_age_days
                     * 86400 < now);

    if (expired) {
        (void) dgj_accounts_event(r, "login_password_expired", u.id, 0,
                                  subject, "");
        return dgj_req_fail_code(r, DGJ_ERR_FORBIDDEN,
                                 "password_change_required",
                                 "密码已过期或需要修改，请先修改密码。"
                                 "Your password has expired or must be "
                                 "changed: change it, then sign in.");
    }

    return dgj_login_finish(r, &u, u.totp_secret != NULL ? "password_totp"
                                                         : "password",
                            u.totp_secret != NULL ? 2 : 1, app, 200, NULL);
}


/* POST /api/v1/auth/sms/send {phone} */

dgj_rc_t
dgj_accounts_sms_send(dgj_req_t *r)
{
    char            phone[DGJ_IDS_PHONE_LEN + 1], code[8], now_s[24], day_s[24],
                    end_s[24], *retry;
    json_t         *body, *reply;
    int64_t         now, count, last;
    uint32_t        n;
    uint64_t        id;
    dgj_rc_t        rc;
    const char     *raw;
    unsigned char   hash[32];

    static const char *const  keys[] = { "phone", NULL };

    rc = dgj_json_body(r, &body);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_json_check_keys(r, body, keys)) != DGJ_OK
        || (rc = dgj_accounts_req_str(r, body, "phone", 32, &raw)) != DGJ_OK)
    {
        return rc;
    }

    if (dgj_ids_phone_normalize(raw, phone) != 0) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "invalid_phone",
                                 "请输入正确的手机号码。"
                                 "Enter a valid mainland mobile number.");
    }

    now = dgj_clock_now(r->conf);
    dgj_clock_format(now, now_s, sizeof(now_s));
    dgj_clock_format(now - 86400, day_s, sizeof(day_s));
    dgj_clock_format(now + DGJ_SMS_CODE_SECONDS, end_s, sizeof(end_s));

    rc = dgj_db_row(r, &dgj_login_sql_sms_recent,
                    DGJ_ARGS(DGJ_STR(phone), DGJ_STR(day_s)),
                    DGJ_OUTS(DGJ_OUT_I64(&count), DGJ_OUT_I64(&last)));
    if (rc != DGJ_OK) {
        return rc;
    }

    if (last + DGJ_SMS_RESEND_SECONDS > now) {
        retry = dgj_psprintf(r->pool, "%lld",
                             (long long) (last + DGJ_SMS_RESEND_SECONDS
                                          - now));
        if (retry == NULL
            || dgj_req_header_add(r, "Retry-After", retry) != DGJ_OK)
        {
            return DGJ_ERR_NOMEM;
        }

        return dgj_req_fail_code(r, DGJ_ERR_RATE, "sms_too_soon",
                                 "验证码已发送，请 %s 秒后再试。"
                                 "A code was just sent: wait %s seconds "
                                 "before asking for another.",
                                 retry, retry);
    }

    if (count >= DGJ_SMS_DAILY_MAX) {
        return dgj_req_fail_code(r, DGJ_ERR_RATE, "sms_daily_limit",
                                 "该号码今日获取验证码次数已达上限。"
                                 "This number has had too many codes "
                                 "today; try again tomorrow.");
    }

    do {
        if (RAND_bytes((unsigned char *) &n, sizeof(n)) != 1) {
            return dgj_req_fail(r, DGJ_ERR_INTERNAL, "RAND_bytes failed");
        }
    } while (n >= 4294000000u);     /* a multiple of 10^6: no bias */

    snprintf(code, sizeof(code), "%06u", (unsigned) (n % 1000000));
    dgj_login_code_hash(phone, code, hash);

    rc = dgj_db_exec(r, &dgj_login_sql_sms_insert,
                     DGJ_ARGS(DGJ_STR(phone),
                              DGJ_STRN((const char *) hash, sizeof(hash)),
                              DGJ_STR(now_s), DGJ_STR(end_s),
                              DGJ_STR(dgj_accounts_client_ip(r))),
                     NULL, &id);
    if (rc != DGJ_OK) {
        explicit_bzero(code, sizeof(code));
        return rc;
    }

    rc = dgj_sms_send(r, phone, "login_code", code);
    explicit_bzero(code, sizeof(code));

    if (rc != DGJ_OK) {
        /* a code the user never got must not stay valid */
        (void) dgj_db_exec(r, &dgj_login_sql_sms_void,
                           DGJ_ARGS(DGJ_STR(now_s), DGJ_I64((int64_t) id)),
                           NULL, NULL);
        (void) dgj_accounts_event(r, "sms_failed", 0, 0,
                                  dgj_ids_mask_phone(r->pool, phone), "");
        return rc;
    }

    (void) dgj_accounts_event(r, "sms_sent", 0, 0,
                              dgj_ids_mask_phone(r->pool, phone), "login");

    reply = dgj_json_own(r, json_pack("{s:b, s:s, s:i, s:i}",
                                      "sent", 1,
                                      "phone",
                                      dgj_ids_mask_phone(r->pool, phone),
                                      "expires_in", DGJ_SMS_CODE_SECONDS,
                                      "resend_after",
                                      DGJ_SMS_RESEND_SECONDS));
    if (reply == NULL) {
        return DGJ_ERR_NOMEM;
    }

    return dgj_reply_json(r, 202, reply);
}


/* POST /api/v1/auth/sms/login {phone, code, client?} */

dgj_rc_t
dgj_accounts_sms_login(dgj_req_t *r)
{
    int                   app;
    char                  phone[DGJ_IDS_PHONE_LEN + 1], now_s[24];
    json_t               *body;
    int64_t               id, attempts, expires, used, now, user_id;
    uint64_t              affected;
    dgj_rc_t              rc;
    const char           *raw, *code, *stored, *subject;
    unsigned char         hash[32];
    dgj_accounts_user_t   u;

    static const char *const  keys[] = { "phone", "code", "client", NULL };

    rc = dgj_json_body(r, &body);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_json_check_keys(r, body, keys)) != DGJ_OK
        || (rc = dgj_accounts_req_str(r, body, "phone", 32, &raw)) != DGJ_OK
        || (rc = dgj_accounts_req_str(r, body, "code", 16, &code)) != DGJ_OK
        || (rc = dgj_accounts_client_is_app(r, body, &app)) != DGJ_OK)
    {
        return rc;
    }

    if (dgj_ids_phone_normalize(raw, phone) != 0) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "invalid_phone",
                                 "请输入正确的手机号码。"
                                 "Enter a valid mainland mobile number.");
    }

    if (strlen(code) != 6 || strspn(code, "0123456789") != 6) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "invalid_code",
                                 "验证码为 6 位数字。"
                                 "The code is 6 digits.");
    }

    subject = dgj_ids_mask_phone(r->pool, phone);
    now = dgj_clock_now(r->conf);
    dgj_clock_format(now, now_s, sizeof(now_s));

    rc = dgj_db_row(r, &dgj_login_sql_sms_latest, DGJ_ARGS(DGJ_STR(phone)),
                    DGJ_OUTS(DGJ_OUT_I64(&id), DGJ_OUT_STR(&stored),
                             DGJ_OUT_I64(&attempts), DGJ_OUT_I64(&expires),
                             DGJ_OUT_I64(&used)));
    if (rc != DGJ_OK && rc != DGJ_ERR_NOT_FOUND) {
        return rc;
    }

    dgj_login_code_hash(phone, code, hash);

    if (rc == DGJ_ERR_NOT_FOUND || used || expires <= now
        || attempts >= DGJ_SMS_ATTEMPTS_MAX
        || CRYPTO_memcmp(stored, hash, sizeof(hash)) != 0)
    {
        if (rc == DGJ_OK && !used) {
            (void) dgj_db_exec(r, &dgj_login_sql_sms_attempt,
                               DGJ_ARGS(DGJ_I64(id)), NULL, NULL);
        }

        (void) dgj_accounts_event(r, "login_failed", 0, 0, subject,
                                  "sms code");
        return dgj_req_fail_code(r, DGJ_ERR_UNAUTH, "sms_code_invalid",
                                 "验证码错误或已失效，请重新获取。"
                                 "The code is wrong or no longer valid: "
                                 "ask for a new one.");
    }

    rc = dgj_db_exec(r, &dgj_login_sql_sms_use,
                     DGJ_ARGS(DGJ_STR(now_s), DGJ_I64(id)), &affected, NULL);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (affected != 1) {
        return dgj_req_fail_code(r, DGJ_ERR_UNAUTH, "sms_code_invalid",
                                 "验证码已使用，请重新获取。"
                                 "The code was used already: ask for a "
                                 "new one.");
    }

    rc = dgj_login_citizen(r, phone, NULL, NULL, &user_id);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_accounts_user_by_id(r, user_id, &u);
    if (rc != DGJ_OK) {
        return rc == DGJ_ERR_NOT_FOUND ? DGJ_ERR_INTERNAL : rc;
    }

    return dgj_login_finish(r, &u, "sms", 1, app, 200, NULL);
}


/* GET /api/v1/auth/wechat/start?next=/path */

dgj_rc_t
dgj_accounts_wechat_start(dgj_req_t *r)
{
    char        state[33], *redirect, *url, *cookie, *hex;
    size_t      i, len;
    dgj_rc_t    rc;
    const char  *next, *https;

    static const char  digits[] = "0123456789abcdef";

    rc = dgj_req_arg(r, "next", &next);
    if (rc != DGJ_OK) {
        return rc;
    }

    next = dgj_accounts_local_next(next);

    if (r->conf->public_url[0] == '\0' || r->conf->wechat_appid[0] == '\0') {
        return dgj_req_fail_code(r, DGJ_ERR_NOT_FOUND, "wechat_disabled",
                                 "微信登录未开通。"
                                 "WeChat sign-in is not set up here.");
    }

    rc = dgj_accounts_random_hex(r, state, 16);
    if (rc != DGJ_OK) {
        return rc;
    }

    /* the cookie binds the answer to this browser: "state.hex(next)" */
    len = strlen(next);
    hex = dgj_palloc(r->pool, 2 * len + 1);
    if (hex == NULL) {
        return DGJ_ERR_NOMEM;
    }

    for (i = 0; i < len; i++) {
        hex[2 * i] = digits[(unsigned char) next[i] >> 4];
        hex[2 * i + 1] = digits[(unsigned char) next[i] & 0x0f];
    }

    hex[2 * len] = '\0';

    https = dgj_req_param(r, "HTTPS");

    cookie = dgj_psprintf(r->pool,
                          "dgj_wx=%s.%s; Path=/api/v1/auth/wechat/; "
                          "Max-Age=600; HttpOnly; SameSite=Lax%s",
                          state, hex,
                          (https != NULL && strcmp(https, "on") == 0)
                          ? "; Secure" : "");

    redirect = dgj_psprintf(r->pool, "%s/api/v1/auth/wechat/callback",
                            r->conf->public_url);
    if (cookie == NULL || redirect == NULL) {
        return DGJ_ERR_NOMEM;
    }

    rc = dgj_wechat_authorize_url(r, redirect, state, &url);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_req_header_add(r, "Set-Cookie", cookie);
    if (rc != DGJ_OK) {
        return rc;
    }

    return dgj_login_redirect(r, 302, url);
}


/* GET /api/v1/auth/wechat/callback?code=...&state=... */

dgj_rc_t
dgj_accounts_wechat_callback(dgj_req_t *r)
{
    int                   hi, lo;
    char                 *next;
    size_t                i, len;
    int64_t               user_id;
    dgj_rc_t              rc;
    const char           *code, *state, *cookie, *dot;
    dgj_accounts_user_t   u;

    if ((rc = dgj_req_arg(r, "code", &code)) != DGJ_OK
        || (rc = dgj_req_arg(r, "state", &state)) != DGJ_OK)
    {
        return rc;
    }

    cookie = dgj_accounts_cookie(r, "dgj_wx");
    dot = (cookie != NULL) ? strchr(cookie, '.') : NULL;

    if (code == NULL || state == NULL || dot == NULL
        || (size_t) (dot - cookie) != strlen(state)
        || strncmp(cookie, state, strlen(state)) != 0)
    {
        (void) dgj_accounts_event(r, "login_failed", 0, 0, "", "wechat state");
        return dgj_req_fail_code(r, DGJ_ERR_UNAUTH, "wechat_state_invalid",
                                 "微信登录已失效，请重新登录。"
                                 "The WeChat sign-in expired or came from "
                                 "another browser: start again.");
    }

    len = strlen(dot + 1) / 2;
    next = dgj_palloc(r->pool, len + 1);
    if (next == NULL) {
        return DGJ_ERR_NOMEM;
    }

    for (i = 0; i < len; i++) {
        hi = dot[1 + 2 * i];
        lo = dot[2 + 2 * i];
        hi = (hi >= 'a') ? hi - 'a' + 10 : hi - '0';
        lo = (lo >= 'a') ? lo - 'a' + 10 : lo - '0';
        next[i] = (char) ((hi << 4) | (lo & 0x0f));
    }

    next[len] = '\0';

    rc = dgj_login_wechat_user(r, code, &user_id);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_accounts_user_by_id(r, user_id, &u);
    if (rc != DGJ_OK) {
        return rc == DGJ_ERR_NOT_FOUND ? DGJ_ERR_INTERNAL : rc;
    }

    rc = dgj_req_header_add(r, "Set-Cookie",
                            "dgj_wx=; Path=/api/v1/auth/wechat/; Max-Age=0; "
                            "HttpOnly; SameSite=Lax");
    if (rc != DGJ_OK) {
        return rc;
    }

    return dgj_login_finish(r, &u, "wechat", 1, 0, 303,
                            dgj_accounts_local_next(next));
}


/* POST /api/v1/auth/wechat/login {code, client?}: the JS / app variant */

dgj_rc_t
dgj_accounts_wechat_login(dgj_req_t *r)
{
    int                   app;
    json_t               *body;
    int64_t               user_id;
    dgj_rc_t              rc;
    const char           *code;
    dgj_accounts_user_t   u;

    static const char *const  keys[] = { "code", "client", NULL };

    rc = dgj_json_body(r, &body);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_json_check_keys(r, body, keys)) != DGJ_OK
        || (rc = dgj_accounts_req_str(r, body, "code", 128, &code)) != DGJ_OK
        || (rc = dgj_accounts_client_is_app(r, body, &app)) != DGJ_OK)
    {
        return rc;
    }

    rc = dgj_login_wechat_user(r, code, &user_id);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_accounts_user_by_id(r, user_id, &u);
    if (rc != DGJ_OK) {
        return rc == DGJ_ERR_NOT_FOUND ? DGJ_ERR_INTERNAL : rc;
    }

    return dgj_login_finish(r, &u, "wechat", 1, app, 200, NULL);
}


/* POST /api/v1/auth/refresh {refresh_token?, client?} or cookie dgj_rt */

dgj_rc_t
dgj_accounts_refresh(dgj_req_t *r)
{
    int          app;
    json_t      *body, *reply;
    dgj_rc_t     rc;
    const char  *secret;

    static const char *const  keys[] = { "refresh_token", "client", NULL };

    rc = dgj_login_body(r, &body);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_json_check_keys(r, body, keys)) != DGJ_OK
        || (rc = dgj_accounts_opt_str(r, body, "refresh_token", 128,
                                      &secret)) != DGJ_OK
        || (rc = dgj_accounts_client_is_app(r, body, &app)) != DGJ_OK)
    {
        return rc;
    }

    if (secret == NULL) {
        secret = dgj_accounts_cookie(r, "dgj_rt");
    }

    reply = dgj_json_own(r, json_object());
    if (reply == NULL) {
        return DGJ_ERR_NOMEM;
    }

    rc = dgj_session_refresh(r, secret, app, reply);
    if (rc != DGJ_OK) {
        if (!app) {
            (void) dgj_session_clear_cookies(r);
        }

        return rc;
    }

    return dgj_reply_json(r, 200, reply);
}


/*
 * GET /api/v1/auth/resume?next=/path: where the auth module sends a page
 * request without a valid access token.  Refreshes from the dgj_rt
 * cookie and goes back, or goes to the login page.
 */

dgj_rc_t
dgj_accounts_resume(dgj_req_t *r)
{
    char        *login;
    json_t      *reply;
    dgj_rc_t     rc;
    const char  *next, *secret;

    rc = dgj_req_arg(r, "next", &next);
    if (rc != DGJ_OK) {
        return rc;
    }

    next = dgj_accounts_local_next(next);
    secret = dgj_accounts_cookie(r, "dgj_rt");

    reply = dgj_json_own(r, json_object());
    if (reply == NULL) {
        return DGJ_ERR_NOMEM;
    }

    if (secret != NULL) {
        rc = dgj_session_refresh(r, secret, 0, reply);
        if (rc == DGJ_OK) {
            return dgj_login_redirect(r, 303, next);
        }

        if (rc != DGJ_ERR_UNAUTH) {
            return rc;
        }

        /* the session is over: a fresh sign-in, not this error */
        r->err_rc = DGJ_OK;
        r->err_code = NULL;
        r->err[0] = '\0';
    }

    rc = dgj_session_clear_cookies(r);
    if (rc != DGJ_OK) {
        return rc;
    }

    login = dgj_psprintf(r->pool, "/login?next=%s", dgj_login_pct(r, next));
    if (login == NULL) {
        return DGJ_ERR_NOMEM;
    }

    return dgj_login_redirect(r, 303, login);
}


/* POST /api/v1/auth/logout */

dgj_rc_t
dgj_accounts_logout(dgj_req_t *r)
{
    int              ended;
    json_t          *reply;
    dgj_rc_t         rc;
    dgj_identity_t   id;

    dgj_identity_get(r, &id);
    ended = 0;

    if (id.user_id != 0 && id.session[0] != '\0') {
        rc = dgj_session_end(r, id.session, "logout");
        if (rc != DGJ_OK) {
            return rc;
        }

        (void) dgj_accounts_event(r, "logout", (int64_t) id.user_id, 0, "",
                                  "");
        ended = 1;
    }

    rc = dgj_session_clear_cookies(r);
    if (rc != DGJ_OK) {
        return rc;
    }

    reply = dgj_json_own(r, json_pack("{s:b}", "signed_out", ended));
    if (reply == NULL) {
        return DGJ_ERR_NOMEM;
    }

    return dgj_reply_json(r, 200, reply);
}


/* GET /api/v1/auth/me */

dgj_rc_t
dgj_accounts_me(dgj_req_t *r)
{
    json_t          *rows, *me, *phone;
    dgj_rc_t         rc;
    const char      *roles;
    dgj_identity_t   id;

    rc = dgj_identity_require(r, &id, NULL);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_rows_json(r, &dgj_login_sql_me,
                          DGJ_ARGS(DGJ_I64((int64_t) id.user_id)), &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    me = json_array_get(rows, 0);
    if (me == NULL) {
        return dgj_req_fail(r, DGJ_ERR_UNAUTH, "please sign in first");
    }

    rc = dgj_accounts_user_roles(r, (int64_t) id.user_id, &roles);
    if (rc != DGJ_OK) {
        return rc;
    }

    phone = json_object_get(me, "phone");
    if (json_is_string(phone)) {
        json_object_set_new(me, "phone",
                            json_string(dgj_ids_mask_phone(r->pool,
                                            json_string_value(phone))));
    }

    json_object_set_new(me, "roles", json_string(roles));
    json_object_set_new(me, "auth_level", json_integer(id.level));
    json_object_set_new(me, "totp", json_boolean(
                            json_integer_value(json_object_get(me, "totp"))));

    return dgj_reply_json(r, 200, me);
}


/*
 * GET /api/v1/auth/check: the session check an auth_request design would
 * call on every request (token plus a database lookup).  We do not use
 * it -- nginx verifies inline -- but it is the baseline `make bench`
 * measures against, and a way for a peer to ask "is this token live?".
 */

dgj_rc_t
dgj_accounts_check(dgj_req_t *r)
{
    int                  open;
    dgj_rc_t             rc;
    const char          *token, *auth;
    dgj_token_claims_t   c;

    auth = dgj_req_param(r, "HTTP_AUTHORIZATION");

    if (auth != NULL && strncmp(auth, "Bearer ", 7) == 0) {
        token = auth + 7;

    } else {
        token = dgj_accounts_cookie(r, "dgj_at");
    }

    if (token == NULL || *token == '\0') {
        return dgj_req_fail(r, DGJ_ERR_UNAUTH, "please sign in first");
    }

    rc = dgj_session_verify(r, token, &c);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_session_open(r, c.session, &open);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (!open) {
        return dgj_req_fail_code(r, DGJ_ERR_UNAUTH, "session_revoked",
                                 "your session has ended, please sign in "
                                 "again");
    }

    return dgj_reply(r, 204, NULL, NULL, 0);
}


/*
 * POST /api/v1/auth/password
 *   {old_password, new_password}                      signed in
 *   {username, old_password, totp?, new_password}     expired password
 */

dgj_rc_t
dgj_accounts_password(dgj_req_t *r)
{
    int                     ok;
    char                    hash[DGJ_PASSWORD_ENCODED], now_s[24];
    size_t                  i, n;
    json_t                 *body, *rows, *reply;
    int64_t                 now, step;
    unsigned                bad;
    dgj_rc_t                rc;
    const char             *username, *old, *fresh, *totp, *subject, *why;
    const char            **olds;
    dgj_identity_t          id;
    dgj_accounts_user_t     u;
    dgj_session_ended_t     ended;
    dgj_password_policy_t   kind;
    dgj_accounts_policy_t   policy;
    dgj_password_params_t   params;

    static const char *const  keys[] = {
        "username", "old_password", "totp", "new_password", NULL
    };

    rc = dgj_json_body(r, &body);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_json_check_keys(r, body, keys)) != DGJ_OK
        || (rc = dgj_accounts_opt_str(r, body, "username", 64, &username))
           != DGJ_OK
        || (rc = dgj_accounts_req_str(r, body, "old_password",
                                      DGJ_PASSWORD_MAX_BYTES, &old)) != DGJ_OK
        || (rc = dgj_accounts_opt_str(r, body, "totp", 16, &totp)) != DGJ_OK
        || (rc = dgj_accounts_req_str(r, body, "new_password", 1024, &fresh))
           != DGJ_OK
        || (rc = dgj_accounts_policy(r, &policy)) != DGJ_OK)
    {
        return rc;
    }

    dgj_identity_get(r, &id);
    now = dgj_clock_now(r->conf);
    params = dgj_login_params(r);

    if (id.user_id != 0) {
        rc = dgj_accounts_user_by_id(r, (int64_t) id.user_id, &u);

    } else if (username != NULL) {
        rc = dgj_accounts_user_by_name(r, username, &u);

    } else {
        return dgj_req_fail(r, DGJ_ERR_UNAUTH,
                            "sign in, or give your username");
    }

    subject = dgj_accounts_mask_name(r, username != NULL ? username
                                                         : u.username);

    if (rc == DGJ_ERR_NOT_FOUND) {
        dgj_password_verify_dummy(&params, old);
        return dgj_req_fail_code(r, DGJ_ERR_UNAUTH, "invalid_credentials",
                                 DGJ_LOGIN_BAD);
    }

    if (rc != DGJ_OK) {
        return rc;
    }

    if (u.locked_until > now) {
        return dgj_login_locked(r, &u, now, subject);
    }

    /* a signed-in caller has passed the second factor already */
    rc = dgj_login_check_secret(r, &u, old, totp,
                                id.user_id == 0 && u.totp_secret != NULL,
                                now, &ok, &step, &why);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (!ok || strcmp(u.status, "active") != 0) {
        return dgj_login_fail(r, &u, &policy, subject,
                              ok ? "account disabled" : why);
    }

    /* the TOTP code is spent now, whatever the new password turns out */
    if (step > 0) {
        rc = dgj_db_exec(r, &dgj_login_sql_ok,
                         DGJ_ARGS(DGJ_I64(step), DGJ_NULL, DGJ_I64(u.id)),
                         NULL, NULL);
        if (rc != DGJ_OK) {
            return rc;
        }
    }

    kind = (strcmp(u.kind, "staff") == 0) ? DGJ_PASSWORD_STAFF
                                          : DGJ_PASSWORD_BASIC;

    bad = dgj_password_check(kind, fresh, u.username);

    if (bad == 0 && strcmp(fresh, old) == 0) {
        bad = DGJ_PASSWORD_REUSED;
    }

    if (bad == 0) {
        rc = dgj_db_rows_json(r, &dgj_login_sql_history,
                              DGJ_ARGS(DGJ_I64(u.id),
                                       DGJ_I64(policy.password_history - 1)),
                              &rows);
        if (rc != DGJ_OK) {
            return rc;
        }

        n = json_array_size(rows) + 1;
        olds = dgj_palloc(r->pool, n * sizeof(const char *));
        if (olds == NULL) {
            return DGJ_ERR_NOMEM;
        }

        olds[0] = u.password_hash;
        for (i = 1; i < n; i++) {
            olds[i] = json_string_value(
                          json_object_get(json_array_get(rows, i - 1),
                                          "hash"));
        }

        if (dgj_password_reused(fresh, olds, n)) {
            bad = DGJ_PASSWORD_REUSED;
        }
    }

    if (bad != 0) {
        bad = dgj_password_first(bad);
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, dgj_password_code(bad),
                                 "%s", dgj_password_message(bad, kind));
    }

    if (dgj_password_hash(&params, fresh, hash, sizeof(hash)) != 0) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "password hash failed");
    }

    dgj_clock_format(now, now_s, sizeof(now_s));

    rc = dgj_db_begin(r);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_db_exec(r, &dgj_login_sql_set_password,
                          DGJ_ARGS(DGJ_STR(hash), DGJ_STR(now_s),
                                   DGJ_STR(now_s), DGJ_I64(u.id)),
                          NULL, NULL)) != DGJ_OK
        || (u.password_hash != NULL
            && (rc = dgj_db_exec(r, &dgj_login_sql_add_history,
                                 DGJ_ARGS(DGJ_I64(u.id),
                                          DGJ_STR(u.password_hash),
                                          DGJ_STR(now_s)),
                                 NULL, NULL)) != DGJ_OK)
        || (rc = dgj_session_end_user(r, u.id, "password_changed", &ended))
           != DGJ_OK
        || (rc = dgj_accounts_event(r, "password_changed", u.id, 0, subject,
                                    "")) != DGJ_OK
        || (rc = dgj_db_commit(r)) != DGJ_OK)
    {
        dgj_db_rollback(r);
        return rc;
    }

    dgj_session_revoke(r, &ended);

    rc = dgj_session_clear_cookies(r);
    if (rc != DGJ_OK) {
        return rc;
    }

    reply = dgj_json_own(r, json_pack("{s:b, s:I}", "changed", 1,
                                      "sessions_ended",
                                      (json_int_t) ended.n));
    if (reply == NULL) {
        return DGJ_ERR_NOMEM;
    }

    return dgj_reply_json(r, 200, reply);
}


/*
 * POST /api/v1/auth/register/organisation
 *   {username, password, name, uscc, org_kind, contact_name, contact_phone}
 * The account can sign in at once but holds only org_pending until staff
 * verify it.
 */

dgj_rc_t
dgj_accounts_register_org(dgj_req_t *r)
{
    char                    hash[DGJ_PASSWORD_ENCODED], now_s[24],
                            phone[DGJ_IDS_PHONE_LEN + 1],
                            code[DGJ_IDS_USCC_LEN + 1];
    json_t                 *body, *reply;
    uint64_t                id;
    unsigned                bad;
    dgj_rc_t                rc;
    const char             *username, *password, *name, *uscc, *kind,
                           *contact, *raw;
    dgj_password_params_t   params;

    static const char *const  keys[] = {
        "username", "password", "name", "uscc", "org_kind", "contact_name",
        "contact_phone", NULL
    };

    rc = dgj_json_body(r, &body);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_json_check_keys(r, body, keys)) != DGJ_OK
        || (rc = dgj_accounts_req_str(r, body, "username", 64, &username))
           != DGJ_OK
        || (rc = dgj_accounts_req_str(r, body, "password", 1024, &password))
           != DGJ_OK
        || (rc = dgj_accounts_req_str(r, body, "name", 128, &name)) != DGJ_OK
        || (rc = dgj_accounts_req_str(r, body, "uscc", 32, &uscc)) != DGJ_OK
        || (rc = dgj_accounts_req_str(r, body, "org_kind", 16, &kind))
           != DGJ_OK
        || (rc = dgj_accounts_req_str(r, body, "contact_name", 64, &contact))
           != DGJ_OK
        || (rc = dgj_accounts_req_str(r, body, "contact_phone", 32, &raw))
           != DGJ_OK)
    {
        return rc;
    }

    if (!dgj_accounts_username_ok(username)) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "invalid_username",
                                 "用户名须以小写字母开头，3-64 位小写字母、"
                                 "数字或 _.-。A username is 3-64 lower-case "
                                 "letters, digits, '_', '.' or '-', "
                                 "starting with a letter.");
    }

    if (strcmp(kind, "social") != 0 && strcmp(kind, "company") != 0) {
        return dgj_req_fail(r, DGJ_ERR_INPUT,
                            "\"org_kind\" must be \"social\" or \"company\"");
    }

    if (dgj_ids_uscc_normalize(uscc, code) != 0) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "invalid_uscc",
                                 "统一社会信用代码无效（请核对校验位）。"
                                 "The unified social credit code is not "
                                 "valid (check character mismatch).");
    }

    if (dgj_ids_phone_normalize(raw, phone) != 0) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "invalid_phone",
                                 "请输入正确的手机号码。"
                                 "Enter a valid mainland mobile number.");
    }

    bad = dgj_password_check(DGJ_PASSWORD_BASIC, password, username);
    if (bad != 0) {
        bad = dgj_password_first(bad);
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, dgj_password_code(bad),
                                 "%s", dgj_password_message(bad,
                                                        DGJ_PASSWORD_BASIC));
    }

    params = dgj_login_params(r);

    if (dgj_password_hash(&params, password, hash, sizeof(hash)) != 0) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "password hash failed");
    }

    dgj_clock_format(dgj_clock_now(r->conf), now_s, sizeof(now_s));

    rc = dgj_db_begin(r);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_db_exec(r, &dgj_login_sql_new_org,
                          DGJ_ARGS(DGJ_STR(username), DGJ_STR(name),
                                   DGJ_STR(hash), DGJ_STR(now_s),
                                   DGJ_STR(now_s), DGJ_STR(now_s)),
                          NULL, &id)) != DGJ_OK
        || (rc = dgj_db_exec(r, &dgj_login_sql_new_org_row,
                             DGJ_ARGS(DGJ_I64((int64_t) id), DGJ_STR(name),
                                      DGJ_STR(code), DGJ_STR(kind)),
                             NULL, NULL)) != DGJ_OK
        || (rc = dgj_db_exec(r, &dgj_login_sql_new_org_contact,
                             DGJ_ARGS(DGJ_I64((int64_t) id), DGJ_STR(contact),
                                      DGJ_STR(phone)),
                             NULL, NULL)) != DGJ_OK
        || (rc = dgj_db_exec(r, &dgj_login_sql_grant_system,
                             DGJ_ARGS(DGJ_I64((int64_t) id), DGJ_STR(now_s),
                                      DGJ_STR("org_pending")),
                             NULL, NULL)) != DGJ_OK
        || (rc = dgj_accounts_event(r, "org_registered", (int64_t) id, 0,
                                    dgj_accounts_mask_name(r, username), ""))
           != DGJ_OK
        || (rc = dgj_db_commit(r)) != DGJ_OK)
    {
        dgj_db_rollback(r);

        if (rc == DGJ_ERR_CONFLICT) {
            r->err_rc = DGJ_OK;
            return dgj_req_fail_code(r, DGJ_ERR_CONFLICT, "already_registered",
                                     "该用户名、统一社会信用代码或手机号已注册。"
                                     "This username, credit code or phone "
                                     "number is registered already.");
        }

        return rc;
    }

    reply = dgj_json_own(r, json_pack("{s:{s:I, s:s, s:s}}", "user",
                                      "id", (json_int_t) id,
                                      "username", username,
                                      "status", "pending_verification"));
    if (reply == NULL) {
        return DGJ_ERR_NOMEM;
    }

    return dgj_reply_json(r, 201, reply);
}


/* helpers */


static dgj_rc_t
dgj_login_check_secret(dgj_req_t *r, dgj_accounts_user_t *u,
    const char *password, const char *totp, int need_totp, int64_t now,
    int *ok, int64_t *step, const char **why)
{
    int             v;
    ssize_t         n;
    unsigned char   secret[64];

    *ok = 0;
    *step = 0;
    *why = "password";

    if (u->password_hash == NULL) {
        dgj_password_params_t  params = dgj_login_params(r);

        dgj_password_verify_dummy(&params, password);
        return DGJ_OK;
    }

    v = dgj_password_verify(u->password_hash, password);
    if (v < 0) {
        dgj_log(DGJ_LOG_ERROR, "accounts", "user %lld: unusable password "
                "hash", (long long) u->id);
    }

    if (v != 1) {
        return DGJ_OK;
    }

    if (!need_totp) {
        *ok = 1;
        return DGJ_OK;
    }

    *why = "totp";

    if (u->totp_secret == NULL || totp == NULL) {
        return DGJ_OK;
    }

    n = dgj_base32_decode(secret, sizeof(secret), u->totp_secret,
                          strlen(u->totp_secret));
    if (n <= 0) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "user %lld: bad TOTP secret",
                            (long long) u->id);
    }

    if (dgj_totp_verify(secret, (size_t) n, totp, (time_t) now,
                        DGJ_TOTP_WINDOW, u->totp_last_step, step)
        == DGJ_TOTP_OK)
    {
        *ok = 1;

    } else {
        *why = "totp";
    }

    explicit_bzero(secret, sizeof(secret));

    return DGJ_OK;
}


/* Counts a failure, locks at the threshold, answers the same error. */
static dgj_rc_t
dgj_login_fail(dgj_req_t *r, dgj_accounts_user_t *u,
    const dgj_accounts_policy_t *policy, const char *subject,
    const char *why)
{
    char      until_s[24];
    int64_t   count, until;
    uint64_t  locked;
    dgj_rc_t  rc;

    rc = dgj_db_exec(r, &dgj_login_sql_failed, DGJ_ARGS(DGJ_I64(u->id)),
                     NULL, NULL);
    if (rc == DGJ_OK) {
        rc = dgj_db_row(r, &dgj_login_sql_failed_count,
                        DGJ_ARGS(DGJ_I64(u->id)),
                        DGJ_OUTS(DGJ_OUT_I64(&count)));
    }

    if (rc != DGJ_OK) {
        return rc;
    }

    (void) dgj_accounts_event(r, "login_failed", u->id, 0, subject, why);

    if (count >= policy->lockout_threshold) {
        until = dgj_clock_now(r->conf) + policy->lockout_minutes * 60;
        dgj_clock_format(until, until_s, sizeof(until_s));

        rc = dgj_db_exec(r, &dgj_login_sql_lock,
                         DGJ_ARGS(DGJ_STR(until_s), DGJ_I64(u->id),
                                  DGJ_I64(policy->lockout_threshold)),
                         &locked, NULL);
        if (rc != DGJ_OK) {
            return rc;
        }

        if (locked) {
            (void) dgj_accounts_event(r, "account_locked", u->id, 0, subject,
                                      until_s);
        }
    }

    return dgj_req_fail_code(r, DGJ_ERR_UNAUTH, "invalid_credentials",
                             DGJ_LOGIN_BAD);
}


static dgj_rc_t
dgj_login_locked(dgj_req_t *r, const dgj_accounts_user_t *u, int64_t now,
    const char *subject)
{
    char  until_s[24], *retry;

    dgj_clock_format(u->locked_until, until_s, sizeof(until_s));

    (void) dgj_accounts_event(r, "login_locked_out", u->id, 0, subject, "");

    retry = dgj_psprintf(r->pool, "%lld", (long long) (u->locked_until - now));
    if (retry == NULL
        || dgj_req_header_add(r, "Retry-After", retry) != DGJ_OK)
    {
        return DGJ_ERR_NOMEM;
    }

    return dgj_req_fail_code(r, DGJ_ERR_RATE, "account_locked",
                             "登录失败次数过多，账号已锁定至 %s。"
                             "Too many failed sign-ins: the account is "
                             "locked until %s.", until_s + 11, until_s + 11);
}


/* Opens the session and replies (200 JSON, or a 303 to next). */
static dgj_rc_t
dgj_login_finish(dgj_req_t *r, const dgj_accounts_user_t *u,
    const char *method, int level, int app, int status, const char *next)
{
    json_t               *reply, *user;
    dgj_rc_t              rc;
    const char           *roles;
    dgj_session_user_t    su;

    rc = dgj_accounts_user_roles(r, u->id, &roles);
    if (rc != DGJ_OK) {
        return rc;
    }

    su.user_id = u->id;
    su.kind = u->kind;
    su.dept_id = u->dept_id;
    su.roles = roles;
    su.method = method;
    su.level = level;

    reply = dgj_json_own(r, json_object());
    user = json_pack("{s:I, s:s, s:s?, s:s, s:s, s:o}",
                     "id", (json_int_t) u->id,
                     "kind", u->kind,
                     "username", u->username,
                     "display_name", u->display_name,
                     "roles", roles,
                     "department_id", u->dept_id
                                      ? json_integer(u->dept_id)
                                      : json_null());
    if (reply == NULL || user == NULL
        || json_object_set_new(reply, "user", user) != 0)
    {
        json_decref(user);
        return DGJ_ERR_NOMEM;
    }

    rc = dgj_session_start(r, &su, app, reply);
    if (rc != DGJ_OK) {
        return rc;
    }

    (void) dgj_accounts_event(r, "login_ok", u->id, 0,
                              u->username != NULL
                              ? dgj_accounts_mask_name(r, u->username) : "",
                              method);

    if (status == 303) {
        return dgj_login_redirect(r, 303, next);
    }

    return dgj_reply_json(r, status, reply);
}


/*
 * The citizen account of a phone or a WeChat openid, made on first
 * sign-in (only after the code checked out, so a failure creates
 * nothing).
 */
static dgj_rc_t
dgj_login_citizen(dgj_req_t *r, const char *phone, const char *appid,
    const char *openid, int64_t *user_id)
{
    char                  now_s[24];
    uint64_t              id;
    dgj_rc_t              rc;
    const char           *display;
    dgj_accounts_user_t   u;

    if (phone != NULL) {
        rc = dgj_db_row(r, &dgj_login_sql_by_phone, DGJ_ARGS(DGJ_STR(phone)),
                        DGJ_OUTS(DGJ_OUT_I64(user_id)));

    } else {
        rc = dgj_db_row(r, &dgj_login_sql_by_openid,
                        DGJ_ARGS(DGJ_STR(appid), DGJ_STR(openid)),
                        DGJ_OUTS(DGJ_OUT_I64(user_id)));
    }

    if (rc == DGJ_OK) {
        rc = dgj_accounts_user_by_id(r, *user_id, &u);
        if (rc != DGJ_OK) {
            return rc == DGJ_ERR_NOT_FOUND ? DGJ_ERR_INTERNAL : rc;
        }

        if (strcmp(u.kind, "citizen") != 0) {
            return dgj_req_fail_code(r, DGJ_ERR_UNAUTH, "use_password_login",
                                     "该号码属于工作人员或组织账号，请用"
                                     "用户名和密码登录。This number belongs "
                                     "to a staff or organisation account: "
                                     "sign in with its username.");
        }

        if (strcmp(u.status, "active") != 0) {
            (void) dgj_accounts_event(r, "login_refused", u.id, 0, "",
                                      "account disabled");
            return dgj_req_fail_code(r, DGJ_ERR_UNAUTH, "account_disabled",
                                     "该账号已停用。This account is "
                                     "disabled.");
        }

        return DGJ_OK;
    }

    if (rc != DGJ_ERR_NOT_FOUND) {
        return rc;
    }

    dgj_clock_format(dgj_clock_now(r->conf), now_s, sizeof(now_s));
    display = (phone != NULL) ? dgj_ids_mask_phone(r->pool, phone)
                              : "微信用户";

    rc = dgj_db_begin(r);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_db_exec(r, &dgj_login_sql_new_citizen,
                          DGJ_ARGS(DGJ_STR(display), DGJ_STR(now_s),
                                   DGJ_STR(now_s)),
                          NULL, &id)) != DGJ_OK
        || (phone != NULL
            && (rc = dgj_db_exec(r, &dgj_login_sql_new_personal,
                                 DGJ_ARGS(DGJ_I64((int64_t) id),
                                          DGJ_STR(phone)),
                                 NULL, NULL)) != DGJ_OK)
        || (openid != NULL
            && (rc = dgj_db_exec(r, &dgj_login_sql_new_openid,
                                 DGJ_ARGS(DGJ_STR(openid), DGJ_STR(appid),
                                          DGJ_I64((int64_t) id),
                                          DGJ_STR(now_s)),
                                 NULL, NULL)) != DGJ_OK)
        || (rc = dgj_db_exec(r, &dgj_login_sql_grant_system,
                             DGJ_ARGS(DGJ_I64((int64_t) id), DGJ_STR(now_s),
                                      DGJ_STR("citizen")),
                             NULL, NULL)) != DGJ_OK
        || (rc = dgj_accounts_event(r, "citizen_registered", (int64_t) id, 0,
                                    display, phone != NULL ? "sms"
                                                           : "wechat"))
           != DGJ_OK
        || (rc = dgj_db_commit(r)) != DGJ_OK)
    {
        dgj_db_rollback(r);
        return rc;
    }

    *user_id = (int64_t) id;

    return DGJ_OK;
}


static dgj_rc_t
dgj_login_wechat_user(dgj_req_t *r, const char *code, int64_t *user_id)
{
    dgj_rc_t            rc;
    dgj_wechat_user_t   wx;

    if (r->conf->wechat_appid[0] == '\0') {
        return dgj_req_fail_code(r, DGJ_ERR_NOT_FOUND, "wechat_disabled",
                                 "微信登录未开通。"
                                 "WeChat sign-in is not set up here.");
    }

    rc = dgj_wechat_exchange(r, code, &wx);
    if (rc != DGJ_OK) {
        (void) dgj_accounts_event(r, "login_failed", 0, 0, "", "wechat");
        return rc;
    }

    return dgj_login_citizen(r, NULL, r->conf->wechat_appid, wx.openid,
                             user_id);
}


/* A body that may be empty (browser refresh): {} then. */
static dgj_rc_t
dgj_login_body(dgj_req_t *r, json_t **body)
{
    size_t       len;
    dgj_rc_t     rc;
    const char  *raw;

    rc = dgj_req_body(r, &raw, &len);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (len == 0) {
        *body = dgj_json_own(r, json_object());
        return (*body != NULL) ? DGJ_OK : DGJ_ERR_NOMEM;
    }

    return dgj_json_body(r, body);
}


static dgj_rc_t
dgj_login_redirect(dgj_req_t *r, int status, const char *location)
{
    dgj_rc_t  rc;

    rc = dgj_req_header_add(r, "Location", location);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_req_header_add(r, "Cache-Control", "no-store");
    if (rc != DGJ_OK) {
        return rc;
    }

    return dgj_reply(r, status, "text/plain; charset=utf-8", "", 0);
}


/* Percent-encodes everything but unreserved characters and '/'. */
static char *
dgj_login_pct(dgj_req_t *r, const char *s)
{
    char           *out, *p;
    unsigned char   c;

    static const char  hex[] = "0123456789ABCDEF";

    out = dgj_palloc(r->pool, 3 * strlen(s) + 1);
    if (out == NULL) {
        return (char *) "%2F";
    }

    for (p = out; *s != '\0'; s++) {
        c = (unsigned char) *s;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'
            || c == '~' || c == '/')
        {
            *p++ = (char) c;

        } else {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 0x0f];
        }
    }

    *p = '\0';

    return out;
}


static void
dgj_login_code_hash(const char *phone, const char *code, unsigned char *out)
{
    char          buf[64];
    unsigned int  len;

    snprintf(buf, sizeof(buf), "%s|%s", phone, code);
    len = 32;
    (void) EVP_Digest(buf, strlen(buf), out, &len, EVP_sha256(), NULL);
    explicit_bzero(buf, sizeof(buf));
}


static dgj_password_params_t
dgj_login_params(dgj_req_t *r)
{
    dgj_password_params_t  p;

    p.m_kib = r->conf->argon2_m_kib;
    p.t = r->conf->argon2_t;
    p.p = 1;

    return p;
}
