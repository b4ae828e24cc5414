
/*
 * Copyright (C) Daguanjia
 *
 * dgj_accounts_public.c: the public's own ways in.  Citizens: phone and a
 * one-time SMS code, or WeChat web authorisation (code -> openid); the
 * citizen account is made at the first successful sign-in, never on a
 * failure.  Organisations: self-registration with a unified social credit
 * code, acting on nothing until staff verify them.
 */


#include "dgj_core.h"
#include "dgj_accounts.h"
#include "dgj_clock.h"
#include "dgj_conf.h"
#include "dgj_db.h"
#include "dgj_ids.h"
#include "dgj_json.h"
#include "dgj_log.h"
#include "dgj_password.h"
#include "dgj_req.h"
#include "dgj_sms.h"
#include "dgj_wechat.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>


#define DGJ_SMS_CODE_SECONDS    300
#define DGJ_SMS_RESEND_SECONDS  60
#define DGJ_SMS_DAILY_MAX       10
#define DGJ_SMS_ATTEMPTS_MAX    5


static dgj_rc_t dgj_public_citizen(dgj_req_t *r, const char *phone,
    const char *appid, const char *openid, dgj_accounts_user_t *u);
static dgj_rc_t dgj_public_wechat_user(dgj_req_t *r, const char *code,
    dgj_accounts_user_t *u);
static void dgj_public_code_hash(const char *phone, const char *code,
    unsigned char *out);


static const dgj_sql_t  dgj_public_sql_sms_recent = {
    "public.sms_recent",
    "SELECT COUNT(*), COALESCE(MAX(UNIX_TIMESTAMP(created_at)), 0)"
    "  FROM sms_codes"
    " WHERE phone = ? AND created_at > ?"
};

static const dgj_sql_t  dgj_public_sql_sms_insert = {
    "public.sms_insert",
    "INSERT INTO sms_codes"
    "       (phone, code_hash, purpose, created_at, expires_at, client_ip)"
    " VALUES (?, ?, 'login', ?, ?, ?)"
};

static const dgj_sql_t  dgj_public_sql_sms_void = {
    "public.sms_void",
    "UPDATE sms_codes SET used_at = ? WHERE id = ?"
};

static const dgj_sql_t  dgj_public_sql_sms_latest = {
    "public.sms_latest",
    "SELECT id, code_hash, attempts, UNIX_TIMESTAMP(expires_at),"
    "       used_at IS NOT NULL"
    "  FROM sms_codes"
    " WHERE phone = ? AND purpose = 'login'"
    " ORDER BY id DESC"
    " LIMIT 1"
};

static const dgj_sql_t  dgj_public_sql_sms_attempt = {
    "public.sms_attempt",
    "UPDATE sms_codes SET attempts = attempts + 1"
    " WHERE id = ? AND attempts < ? AND used_at IS NULL"
};

static const dgj_sql_t  dgj_public_sql_sms_use = {
    "public.sms_use",
    "UPDATE sms_codes SET used_at = ? WHERE id = ? AND used_at IS NULL"
};

static const dgj_sql_t  dgj_public_sql_by_phone = {
    "public.by_phone",
    "SELECT u.id FROM user_personal p JOIN users u ON u.id = p.user_id"
    " WHERE p.phone = ?"
};

static const dgj_sql_t  dgj_public_sql_by_openid = {
    "public.by_openid",
    "SELECT user_id FROM wechat_identities WHERE appid = ? AND openid = ?"
};

static const dgj_sql_t  dgj_public_sql_new_citizen = {
    "public.new_citizen",
    "INSERT INTO users (kind, display_name, created_at, updated_at)"
    " VALUES ('citizen', ?, ?, ?)"
};

static const dgj_sql_t  dgj_public_sql_new_personal = {
    "public.new_personal",
    "INSERT INTO user_personal (user_id, phone) VALUES (?, ?)"
};

static const dgj_sql_t  dgj_public_sql_new_openid = {
    "public.new_openid",
    "INSERT INTO wechat_identities (openid, appid, user_id, created_at)"
    " VALUES (?, ?, ?, ?)"
};

static const dgj_sql_t  dgj_public_sql_grant_system = {
    "public.grant_system",
    "INSERT INTO user_roles (user_id, role_id, granted_at)"
    " SELECT ?, id, ? FROM roles WHERE name = ?"
};

static const dgj_sql_t  dgj_public_sql_new_org = {
    "public.new_org",
    "INSERT INTO users"
    "       (kind, username, display_name, password_hash,"
    "        password_changed_at, created_at, updated_at)"
    " VALUES ('organisation', ?, ?, ?, ?, ?, ?)"
};

static const dgj_sql_t  dgj_public_sql_new_org_row = {
    "public.new_org_row",
    "INSERT INTO organisations (user_id, name, uscc, org_kind)"
    " VALUES (?, ?, ?, ?)"
};

static const dgj_sql_t  dgj_public_sql_new_org_contact = {
    "public.new_org_contact",
    "INSERT INTO user_personal (user_id, real_name, phone) VALUES (?, ?, ?)"
};



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

    rc = dgj_json_body_keys(r, keys, &body);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_accounts_req_str(r, body, "phone", 32, &raw)) != DGJ_OK)
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

    rc = dgj_db_row(r, &dgj_public_sql_sms_recent,
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
    dgj_public_code_hash(phone, code, hash);

    rc = dgj_db_exec(r, &dgj_public_sql_sms_insert,
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
        (void) dgj_db_exec(r, &dgj_public_sql_sms_void,
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
    int64_t               id, attempts, expires, used, now;
    uint64_t              affected;
    dgj_rc_t              rc;
    const char           *raw, *code, *stored, *subject;
    unsigned char         hash[32];
    dgj_accounts_user_t   u;

    static const char *const  keys[] = { "phone", "code", "client", NULL };

    rc = dgj_json_body_keys(r, keys, &body);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_accounts_req_str(r, body, "phone", 32, &raw)) != DGJ_OK
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

    rc = dgj_db_row(r, &dgj_public_sql_sms_latest, DGJ_ARGS(DGJ_STR(phone)),
                    DGJ_OUTS(DGJ_OUT_I64(&id), DGJ_OUT_STR(&stored),
                             DGJ_OUT_I64(&attempts), DGJ_OUT_I64(&expires),
                             DGJ_OUT_I64(&used)));
    if (rc != DGJ_OK && rc != DGJ_ERR_NOT_FOUND) {
        return rc;
    }

    dgj_public_code_hash(phone, code, hash);

    /*
     * Count the attempt before comparing, atomically: parallel guesses
     * cannot all see "fewer than 5 so far".
     */
    affected = 0;

    if (rc == DGJ_OK && !used && expires > now) {
        rc = dgj_db_exec(r, &dgj_public_sql_sms_attempt,
                         DGJ_ARGS(DGJ_I64(id),
                                  DGJ_I64(DGJ_SMS_ATTEMPTS_MAX)),
                         &affected, NULL);
        if (rc != DGJ_OK) {
            return rc;
        }
    }

    if (affected != 1 || CRYPTO_memcmp(stored, hash, sizeof(hash)) != 0) {
        (void) dgj_accounts_event(r, "login_failed", 0, 0, subject,
                                  "sms code");
        return dgj_req_fail_code(r, DGJ_ERR_UNAUTH, "sms_code_invalid",
                                 "验证码错误或已失效，请重新获取。"
                                 "The code is wrong or no longer valid: "
                                 "ask for a new one.");
    }

    rc = dgj_db_exec(r, &dgj_public_sql_sms_use,
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

    rc = dgj_public_citizen(r, phone, NULL, NULL, &u);
    if (rc != DGJ_OK) {
        return rc;
    }

    return dgj_accounts_finish_login(r, &u, "sms", 1, app, 200, NULL);
}


/* GET /api/v1/auth/wechat/start?next=/path */

dgj_rc_t
dgj_accounts_wechat_start(dgj_req_t *r)
{
    char        state[33], *redirect, *url, *cookie, *escaped;
    dgj_rc_t    rc;
    const char  *next, *https;

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

    /* the cookie binds the answer to this browser: "state.escaped(next)" */
    escaped = dgj_req_escape(r->pool, next);
    if (escaped == NULL) {
        return DGJ_ERR_NOMEM;
    }

    https = dgj_req_param(r, "HTTPS");

    cookie = dgj_psprintf(r->pool,
                          "dgj_wx=%s.%s; Path=/api/v1/auth/wechat/; "
                          "Max-Age=600; HttpOnly; SameSite=Lax%s",
                          state, escaped,
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

    return dgj_accounts_redirect(r, 302, url);
}


/* GET /api/v1/auth/wechat/callback?code=...&state=... */

dgj_rc_t
dgj_accounts_wechat_callback(dgj_req_t *r)
{
    char                 *next;
    size_t                len;
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

    len = strlen(dot + 1);
    next = dgj_palloc(r->pool, len + 1);
    if (next == NULL) {
        return DGJ_ERR_NOMEM;
    }

    /* a cookie that does not decode sends the user home */
    if (dgj_req_unescape(next, dot + 1, len, 0) < 0) {
        next[0] = '\0';
    }

    rc = dgj_public_wechat_user(r, code, &u);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_req_header_add(r, "Set-Cookie",
                            "dgj_wx=; Path=/api/v1/auth/wechat/; Max-Age=0; "
                            "HttpOnly; SameSite=Lax");
    if (rc != DGJ_OK) {
        return rc;
    }

    return dgj_accounts_finish_login(r, &u, "wechat", 1, 0, 303,
                            dgj_accounts_local_next(next));
}


/* POST /api/v1/auth/wechat/login {code, client?}: the JS / app variant */

dgj_rc_t
dgj_accounts_wechat_login(dgj_req_t *r)
{
    int                   app;
    json_t               *body;
    dgj_rc_t              rc;
    const char           *code;
    dgj_accounts_user_t   u;

    static const char *const  keys[] = { "code", "client", NULL };

    rc = dgj_json_body_keys(r, keys, &body);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_accounts_req_str(r, body, "code", 128, &code)) != DGJ_OK
        || (rc = dgj_accounts_client_is_app(r, body, &app)) != DGJ_OK)
    {
        return rc;
    }

    rc = dgj_public_wechat_user(r, code, &u);
    if (rc != DGJ_OK) {
        return rc;
    }

    return dgj_accounts_finish_login(r, &u, "wechat", 1, app, 200, NULL);
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

    rc = dgj_json_body_keys(r, keys, &body);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_accounts_req_str(r, body, "username", 64, &username))
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

    params = dgj_accounts_argon2_params(r);

    if (dgj_password_hash(&params, password, hash, sizeof(hash)) != 0) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "password hash failed");
    }

    dgj_clock_format(dgj_clock_now(r->conf), now_s, sizeof(now_s));

    rc = dgj_db_begin(r);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_db_exec(r, &dgj_public_sql_new_org,
                          DGJ_ARGS(DGJ_STR(username), DGJ_STR(name),
                                   DGJ_STR(hash), DGJ_STR(now_s),
                                   DGJ_STR(now_s), DGJ_STR(now_s)),
                          NULL, &id)) != DGJ_OK
        || (rc = dgj_db_exec(r, &dgj_public_sql_new_org_row,
                             DGJ_ARGS(DGJ_I64((int64_t) id), DGJ_STR(name),
                                      DGJ_STR(code), DGJ_STR(kind)),
                             NULL, NULL)) != DGJ_OK
        || (rc = dgj_db_exec(r, &dgj_public_sql_new_org_contact,
                             DGJ_ARGS(DGJ_I64((int64_t) id), DGJ_STR(contact),
                                      DGJ_STR(phone)),
                             NULL, NULL)) != DGJ_OK
        || (rc = dgj_db_exec(r, &dgj_public_sql_grant_system,
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
            dgj_req_fail_clear(r);
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


/*
 * The citizen account of a phone or a WeChat openid, made on first
 * sign-in (only after the code checked out, so a failure creates
 * nothing).
 */
static dgj_rc_t
dgj_public_citizen(dgj_req_t *r, const char *phone, const char *appid,
    const char *openid, dgj_accounts_user_t *u)
{
    char         now_s[24];
    int64_t      user_id;
    uint64_t     id;
    dgj_rc_t     rc;
    const char  *display;

    if (phone != NULL) {
        rc = dgj_db_row(r, &dgj_public_sql_by_phone, DGJ_ARGS(DGJ_STR(phone)),
                        DGJ_OUTS(DGJ_OUT_I64(&user_id)));

    } else {
        rc = dgj_db_row(r, &dgj_public_sql_by_openid,
                        DGJ_ARGS(DGJ_STR(appid), DGJ_STR(openid)),
                        DGJ_OUTS(DGJ_OUT_I64(&user_id)));
    }

    if (rc == DGJ_OK) {
        rc = dgj_accounts_user_by_id(r, user_id, u);
        if (rc != DGJ_OK) {
            return rc == DGJ_ERR_NOT_FOUND ? DGJ_ERR_INTERNAL : rc;
        }

        if (strcmp(u->kind, "citizen") != 0) {
            return dgj_req_fail_code(r, DGJ_ERR_UNAUTH, "use_password_login",
                                     "该号码属于工作人员或组织账号，请用"
                                     "用户名和密码登录。This number belongs "
                                     "to a staff or organisation account: "
                                     "sign in with its username.");
        }

        if (strcmp(u->status, "active") != 0) {
            (void) dgj_accounts_event(r, "login_refused", u->id, 0, "",
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

    if ((rc = dgj_db_exec(r, &dgj_public_sql_new_citizen,
                          DGJ_ARGS(DGJ_STR(display), DGJ_STR(now_s),
                                   DGJ_STR(now_s)),
                          NULL, &id)) != DGJ_OK
        || (phone != NULL
            && (rc = dgj_db_exec(r, &dgj_public_sql_new_personal,
                                 DGJ_ARGS(DGJ_I64((int64_t) id),
                                          DGJ_STR(phone)),
                                 NULL, NULL)) != DGJ_OK)
        || (openid != NULL
            && (rc = dgj_db_exec(r, &dgj_public_sql_new_openid,
                                 DGJ_ARGS(DGJ_STR(openid), DGJ_STR(appid),
                                          DGJ_I64((int64_t) id),
                                          DGJ_STR(now_s)),
                                 NULL, NULL)) != DGJ_OK)
        || (rc = dgj_db_exec(r, &dgj_public_sql_grant_system,
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

    rc = dgj_accounts_user_by_id(r, (int64_t) id, u);

    return rc == DGJ_ERR_NOT_FOUND ? DGJ_ERR_INTERNAL : rc;
}


static dgj_rc_t
dgj_public_wechat_user(dgj_req_t *r, const char *code,
    dgj_accounts_user_t *u)
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

    return dgj_public_citizen(r, NULL, r->conf->wechat_appid, wx.openid, u);
}


static void
dgj_public_code_hash(const char *phone, const char *code, unsigned char *out)
{
    char  buf[64];

    snprintf(buf, sizeof(buf), "%s|%s", phone, code);
    dgj_accounts_sha256(buf, out);
    explicit_bzero(buf, sizeof(buf));
}
