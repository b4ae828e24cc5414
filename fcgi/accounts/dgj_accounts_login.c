
/*
 * Copyright (C) Daguanjia
 *
 * dgj_accounts_login.c: signing in with a password and out again.  Staff:
 * username, password and TOTP; organisations: username, password, TOTP
 * when enrolled.  Every failure of a credential gets the same answer
 * whether the account exists or not; every attempt is an auth_events row.
 * Sessions: refresh, resume, logout, me, check; password change.  The
 * public's own paths (SMS, WeChat, sign-up) are in dgj_accounts_public.c.
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
#include "dgj_totp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>


#define DGJ_LOGIN_BAD  "用户名、密码或动态口令错误。" \
                       "Wrong username, password or one-time code."



static dgj_rc_t dgj_login_fail(dgj_req_t *r, dgj_accounts_user_t *u,
    const dgj_accounts_policy_t *policy, const char *subject,
    const char *why);
static dgj_rc_t dgj_login_check_secret(dgj_req_t *r, dgj_accounts_user_t *u,
    const char *password, const char *totp, int need_totp, int64_t now,
    int *ok, int64_t *step, const char **why);
static dgj_rc_t dgj_login_locked(dgj_req_t *r, const dgj_accounts_user_t *u,
    int64_t now, const char *subject);
static dgj_rc_t dgj_login_body(dgj_req_t *r, json_t **body);


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

    rc = dgj_json_body_keys(r, keys, &body);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_accounts_req_str(r, body, "username", 64, &username))
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
    params = dgj_accounts_argon2_params(r);

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

    return dgj_accounts_finish_login(r, &u,
                                     u.totp_secret != NULL ? "password_totp"
                                                           : "password",
                                     u.totp_secret != NULL ? 2 : 1, app, 200,
                                     NULL);
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
    char        *login, *escaped;
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
            return dgj_accounts_redirect(r, 303, next);
        }

        if (rc != DGJ_ERR_UNAUTH) {
            return rc;
        }

        /* the session is over: a fresh sign-in, not this error */
        dgj_req_fail_clear(r);
    }

    rc = dgj_session_clear_cookies(r);
    if (rc != DGJ_OK) {
        return rc;
    }

    escaped = dgj_req_escape(r->pool, next);
    login = escaped ? dgj_psprintf(r->pool, "/login?next=%s", escaped) : NULL;
    if (login == NULL) {
        return DGJ_ERR_NOMEM;
    }

    return dgj_accounts_redirect(r, 303, login);
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

    /*
     * a cookie POST without the CSRF header (nginx passes it on anonymous,
     * status CSRF) may be a forged one: clearing the cookies would sign
     * the browser out all the same
     */
    if (strcmp(id.status, "CSRF") == 0) {
        return dgj_req_fail_code(r, DGJ_ERR_FORBIDDEN, "csrf_failed",
                                 "missing or wrong X-CSRF-Token header");
    }

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

    rc = dgj_json_body_keys(r, keys, &body);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_accounts_opt_str(r, body, "username", 64, &username))
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
    params = dgj_accounts_argon2_params(r);

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
        dgj_password_params_t  params = dgj_accounts_argon2_params(r);

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
dgj_rc_t
dgj_accounts_finish_login(dgj_req_t *r, const dgj_accounts_user_t *u,
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
        return dgj_accounts_redirect(r, 303, next);
    }

    return dgj_reply_json(r, status, reply);
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


dgj_rc_t
dgj_accounts_redirect(dgj_req_t *r, int status, const char *location)
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


dgj_password_params_t
dgj_accounts_argon2_params(dgj_req_t *r)
{
    dgj_password_params_t  p;

    p.m_kib = r->conf->argon2_m_kib;
    p.t = r->conf->argon2_t;
    p.p = 1;

    return p;
}
