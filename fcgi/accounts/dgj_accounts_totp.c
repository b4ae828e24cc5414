
/*
 * Copyright (C) Daguanjia
 *
 * dgj_accounts_totp.c: self-service TOTP enrolment for accounts that sign
 * in with a password (organisations opt in; staff get theirs from the
 * system admin and may replace it).  Enrol makes a pending secret and
 * shows it once; confirm proves the authenticator has it with one code,
 * and only then does sign-in require it.
 */


#include "dgj_core.h"
#include "dgj_accounts.h"
#include "dgj_clock.h"
#include "dgj_db.h"
#include "dgj_identity.h"
#include "dgj_json.h"
#include "dgj_req.h"
#include "dgj_totp.h"


static const dgj_sql_t  dgj_totp_sql_pending = {
    "totp.pending",
    "UPDATE users SET totp_pending = ?, updated_at = ? WHERE id = ?"
};

static const dgj_sql_t  dgj_totp_sql_get_pending = {
    "totp.get_pending",
    "SELECT totp_pending FROM users WHERE id = ?"
};

static const dgj_sql_t  dgj_totp_sql_confirm = {
    "totp.confirm",
    "UPDATE users"
    "   SET totp_secret = totp_pending, totp_pending = NULL,"
    "       totp_last_step = ?, updated_at = ?"
    " WHERE id = ? AND totp_pending = ?"
};


/* POST /api/v1/auth/totp/enrol: a new pending secret, shown once */

dgj_rc_t
dgj_accounts_totp_enrol(dgj_req_t *r)
{
    char                  now_s[24];
    json_t               *reply;
    dgj_rc_t              rc;
    const char           *secret32;
    dgj_identity_t        id;
    dgj_accounts_user_t   u;

    rc = dgj_identity_require(r, &id, NULL);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_accounts_user_by_id(r, (int64_t) id.user_id, &u);
    if (rc != DGJ_OK) {
        return rc == DGJ_ERR_NOT_FOUND ? DGJ_ERR_UNAUTH : rc;
    }

    if (u.username == NULL || u.password_hash == NULL) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "totp_not_applicable",
                                 "this account signs in by SMS or WeChat, "
                                 "without a password to pair a code with");
    }

    /* replacing a secret in use needs the second factor already */
    if (u.totp_secret != NULL && id.level < 2) {
        return dgj_req_fail_code(r, DGJ_ERR_FORBIDDEN, "level_2_required",
                                 "sign in with your current one-time code "
                                 "to replace it");
    }

    reply = dgj_json_own(r, json_object());
    if (reply == NULL) {
        return DGJ_ERR_NOMEM;
    }

    rc = dgj_accounts_new_totp(r, u.username, reply, &secret32);
    if (rc != DGJ_OK) {
        return rc;
    }

    dgj_clock_format(dgj_clock_now(r->conf), now_s, sizeof(now_s));

    rc = dgj_db_exec(r, &dgj_totp_sql_pending,
                     DGJ_ARGS(DGJ_STR(secret32), DGJ_STR(now_s),
                              DGJ_I64(u.id)),
                     NULL, NULL);
    if (rc != DGJ_OK) {
        return rc;
    }

    (void) dgj_accounts_event(r, "totp_enrol_started", u.id, 0,
                              dgj_accounts_mask_name(r, u.username), "");

    json_object_set_new(reply, "confirm",
                        json_string("POST /api/v1/auth/totp/confirm "
                                    "{\"code\":\"123456\"}"));

    return dgj_reply_json(r, 200, reply);
}


/* POST /api/v1/auth/totp/confirm {code} */

dgj_rc_t
dgj_accounts_totp_confirm(dgj_req_t *r)
{
    char                  now_s[24];
    json_t               *body, *reply;
    int64_t               now, step;
    ssize_t               n;
    uint64_t              affected;
    dgj_rc_t              rc;
    const char           *code, *pending;
    unsigned char         secret[64];
    dgj_identity_t        id;
    dgj_totp_rc_t         trc;

    static const char *const  keys[] = { "code", NULL };

    rc = dgj_identity_require(r, &id, NULL);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_json_body_keys(r, keys, &body)) != DGJ_OK
        || (rc = dgj_accounts_req_str(r, body, "code", 16, &code)) != DGJ_OK)
    {
        return rc;
    }

    rc = dgj_db_row(r, &dgj_totp_sql_get_pending,
                    DGJ_ARGS(DGJ_I64((int64_t) id.user_id)),
                    DGJ_OUTS(DGJ_OUT_STR(&pending)));
    if (rc != DGJ_OK && rc != DGJ_ERR_NOT_FOUND) {
        return rc;
    }

    if (rc == DGJ_ERR_NOT_FOUND || pending == NULL) {
        return dgj_req_fail_code(r, DGJ_ERR_CONFLICT, "no_enrolment",
                                 "start with POST /api/v1/auth/totp/enrol");
    }

    n = dgj_base32_decode(secret, sizeof(secret), pending, strlen(pending));
    if (n <= 0) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "bad pending TOTP secret");
    }

    now = dgj_clock_now(r->conf);
    trc = dgj_totp_verify(secret, (size_t) n, code, (time_t) now,
                          DGJ_TOTP_WINDOW, -1, &step);
    explicit_bzero(secret, sizeof(secret));

    if (trc != DGJ_TOTP_OK) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "totp_invalid",
                                 "动态口令不对，请核对手机时间后重试。"
                                 "The code does not match: check the "
                                 "authenticator's clock and try again.");
    }

    dgj_clock_format(now, now_s, sizeof(now_s));

    rc = dgj_db_exec(r, &dgj_totp_sql_confirm,
                     DGJ_ARGS(DGJ_I64(step), DGJ_STR(now_s),
                              DGJ_I64((int64_t) id.user_id), DGJ_STR(pending)),
                     &affected, NULL);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (affected != 1) {
        return dgj_req_fail_code(r, DGJ_ERR_CONFLICT, "no_enrolment",
                                 "the enrolment changed meanwhile: start "
                                 "again");
    }

    (void) dgj_accounts_event(r, "totp_enrolled", (int64_t) id.user_id, 0,
                              "", "");

    reply = dgj_json_own(r, json_pack("{s:b}", "totp", 1));

    return reply ? dgj_reply_json(r, 200, reply) : DGJ_ERR_NOMEM;
}
