
/*
 * Copyright (C) Daguanjia
 *
 * dgj_session.c: sessions, access tokens, cookies and revocation (see
 * dgj_session.h).  The token key ring is loaded once per worker process
 * and again when the key file changes (make rotate-keys).
 */


#include "dgj_core.h"
#include "dgj_accounts.h"
#include "dgj_clock.h"
#include "dgj_conf.h"
#include "dgj_db.h"
#include "dgj_json.h"
#include "dgj_log.h"
#include "dgj_req.h"
#include "dgj_revoke.h"
#include "dgj_session.h"

#include <sys/stat.h>


#define DGJ_SESSION_REFRESH_BYTES  32
#define DGJ_SESSION_TOKEN_LEEWAY   30
/* how long nginx keeps a revoked session: past any token of it */
#define DGJ_SESSION_REVOKE_SECONDS 900


static dgj_rc_t dgj_session_ring(dgj_req_t *r, const dgj_token_ring_t **ring);
static dgj_rc_t dgj_session_issue(dgj_req_t *r, const dgj_session_user_t *u,
    const char *session, int64_t expires, const char *refresh, int app,
    json_t *reply, int idle, const dgj_accounts_policy_t *policy);
static dgj_rc_t dgj_session_cookie(dgj_req_t *r, const char *name,
    const char *value, const char *path, int64_t max_age, int http_only,
    const char *same_site);


static dgj_token_ring_t  dgj_session_keys;
static int               dgj_session_keys_loaded;
static struct timespec   dgj_session_keys_mtime;


static const dgj_sql_t  dgj_session_sql_insert = {
    "session.insert",
    "INSERT INTO sessions"
    "       (id, user_id, refresh_hash, auth_method, auth_level, created_at,"
    "        last_seen_at, idle_seconds, expires_at, client_ip)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
};

static const dgj_sql_t  dgj_session_sql_by_refresh = {
    "session.by_refresh",
    "SELECT s.id, s.user_id, s.auth_method, s.auth_level,"
    "       UNIX_TIMESTAMP(s.last_seen_at), s.idle_seconds,"
    "       UNIX_TIMESTAMP(s.expires_at), s.ended_at IS NOT NULL,"
    "       u.kind, u.status, COALESCE(u.department_id, 0)"
    "  FROM sessions s"
    "  JOIN users u ON u.id = s.user_id"
    " WHERE s.refresh_hash = ?"
};

static const dgj_sql_t  dgj_session_sql_seen = {
    "session.seen",
    "UPDATE sessions SET last_seen_at = ?"
    " WHERE id = ? AND ended_at IS NULL"
};

static const dgj_sql_t  dgj_session_sql_end = {
    "session.end",
    "UPDATE sessions SET ended_at = ?, end_reason = ?"
    " WHERE id = ? AND ended_at IS NULL"
};

static const dgj_sql_t  dgj_session_sql_open_of_user = {
    "session.open_of_user",
    "SELECT id FROM sessions"
    " WHERE user_id = ? AND ended_at IS NULL AND expires_at > ?"
    " FOR UPDATE"
};

static const dgj_sql_t  dgj_session_sql_end_user = {
    "session.end_user",
    "UPDATE sessions SET ended_at = ?, end_reason = ?"
    " WHERE user_id = ? AND ended_at IS NULL"
};

static const dgj_sql_t  dgj_session_sql_open = {
    "session.open",
    "SELECT COUNT(*) FROM sessions"
    " WHERE id = ? AND ended_at IS NULL AND expires_at > ?"
    "   AND last_seen_at > ? - INTERVAL idle_seconds SECOND"
};


dgj_rc_t
dgj_session_start(dgj_req_t *r, const dgj_session_user_t *u, int app,
    json_t *reply)
{
    int                     idle, absolute;
    char                    session[2 * DGJ_TOKEN_SESSION_LEN + 1];
    char                    refresh[2 * DGJ_SESSION_REFRESH_BYTES + 1];
    char                    now_s[24], end_s[24];
    int64_t                 now;
    dgj_rc_t                rc;
    unsigned char           hash[32];
    dgj_accounts_policy_t   policy;

    rc = dgj_accounts_policy(r, &policy);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (strcmp(u->kind, "staff") == 0) {
        idle = policy.staff_idle_seconds;
        absolute = policy.staff_absolute_seconds;

    } else {
        idle = policy.public_idle_seconds;
        absolute = policy.public_absolute_seconds;
    }

    rc = dgj_accounts_random_hex(r, session, DGJ_TOKEN_SESSION_LEN);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_accounts_random_hex(r, refresh, DGJ_SESSION_REFRESH_BYTES);
    if (rc != DGJ_OK) {
        return rc;
    }

    dgj_accounts_sha256(refresh, hash);

    now = dgj_clock_now(r->conf);
    dgj_clock_format(now, now_s, sizeof(now_s));
    dgj_clock_format(now + absolute, end_s, sizeof(end_s));

    rc = dgj_db_exec(r, &dgj_session_sql_insert,
                     DGJ_ARGS(DGJ_STR(session), DGJ_I64(u->user_id),
                              DGJ_STRN((const char *) hash, sizeof(hash)),
                              DGJ_STR(u->method), DGJ_I64(u->level),
                              DGJ_STR(now_s), DGJ_STR(now_s),
                              DGJ_I64(idle), DGJ_STR(end_s),
                              DGJ_STR(dgj_accounts_client_ip(r))),
                     NULL, NULL);
    if (rc != DGJ_OK) {
        return rc;
    }

    return dgj_session_issue(r, u, session, now + absolute, refresh, app,
                             reply, idle, &policy);
}


dgj_rc_t
dgj_session_refresh(dgj_req_t *r, const char *secret, int app,
    json_t *reply)
{
    char                    now_s[24];
    int64_t                 user_id, level, last_seen, idle, expires,
                            ended, dept, now;
    dgj_rc_t                rc;
    const char             *session, *method, *kind, *status, *roles;
    unsigned char           hash[32];
    dgj_session_user_t      u;
    dgj_accounts_policy_t   policy;

    if (secret == NULL || strlen(secret) != 2 * DGJ_SESSION_REFRESH_BYTES) {
        return dgj_req_fail_code(r, DGJ_ERR_UNAUTH, "session_expired",
                                 "your session has ended, please sign in "
                                 "again");
    }

    dgj_accounts_sha256(secret, hash);

    rc = dgj_db_row(r, &dgj_session_sql_by_refresh,
                    DGJ_ARGS(DGJ_STRN((const char *) hash, sizeof(hash))),
                    DGJ_OUTS(DGJ_OUT_STR(&session), DGJ_OUT_I64(&user_id),
                             DGJ_OUT_STR(&method), DGJ_OUT_I64(&level),
                             DGJ_OUT_I64(&last_seen), DGJ_OUT_I64(&idle),
                             DGJ_OUT_I64(&expires), DGJ_OUT_I64(&ended),
                             DGJ_OUT_STR(&kind), DGJ_OUT_STR(&status),
                             DGJ_OUT_I64(&dept)));

    if (rc == DGJ_ERR_NOT_FOUND || (rc == DGJ_OK && ended)) {
        return dgj_req_fail_code(r, DGJ_ERR_UNAUTH, "session_expired",
                                 "your session has ended, please sign in "
                                 "again");
    }

    if (rc != DGJ_OK) {
        return rc;
    }

    now = dgj_clock_now(r->conf);

    if (now >= expires || now - last_seen > idle
        || strcmp(status, "active") != 0)
    {
        rc = dgj_session_end(r, session,
                             strcmp(status, "active") != 0
                             ? "account_disabled"
                             : (now >= expires ? "absolute_timeout"
                                               : "idle_timeout"));
        if (rc != DGJ_OK) {
            return rc;
        }

        return dgj_req_fail_code(r, DGJ_ERR_UNAUTH, "session_expired",
                                 "your session has timed out, please sign "
                                 "in again");
    }

    dgj_clock_format(now, now_s, sizeof(now_s));

    rc = dgj_db_exec(r, &dgj_session_sql_seen,
                     DGJ_ARGS(DGJ_STR(now_s), DGJ_STR(session)), NULL, NULL);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_accounts_user_roles(r, user_id, &roles);
    if (rc != DGJ_OK) {
        return rc;
    }

    u.user_id = user_id;
    u.kind = kind;
    u.dept_id = dept;
    u.roles = roles;
    u.method = method;
    u.level = (int) level;

    rc = dgj_accounts_policy(r, &policy);
    if (rc != DGJ_OK) {
        return rc;
    }

    return dgj_session_issue(r, &u, session, expires, NULL, app, reply,
                             (int) idle, &policy);
}


dgj_rc_t
dgj_session_end(dgj_req_t *r, const char *session, const char *reason)
{
    char                  now_s[24];
    uint64_t              affected;
    dgj_rc_t              rc;
    dgj_session_ended_t   ended;

    dgj_clock_format(dgj_clock_now(r->conf), now_s, sizeof(now_s));

    rc = dgj_db_exec(r, &dgj_session_sql_end,
                     DGJ_ARGS(DGJ_STR(now_s), DGJ_STR(reason),
                              DGJ_STR(session)),
                     &affected, NULL);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (affected > 0) {
        ended.ids = &session;
        ended.n = 1;
        dgj_session_revoke(r, &ended);
    }

    return DGJ_OK;
}


dgj_rc_t
dgj_session_end_user(dgj_req_t *r, int64_t user_id, const char *reason,
    dgj_session_ended_t *ended)
{
    char         now_s[24];
    size_t       i;
    json_t      *rows;
    dgj_rc_t     rc;

    ended->ids = NULL;
    ended->n = 0;

    dgj_clock_format(dgj_clock_now(r->conf), now_s, sizeof(now_s));

    rc = dgj_db_rows_json(r, &dgj_session_sql_open_of_user,
                          DGJ_ARGS(DGJ_I64(user_id), DGJ_STR(now_s)),
                          &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_exec(r, &dgj_session_sql_end_user,
                     DGJ_ARGS(DGJ_STR(now_s), DGJ_STR(reason),
                              DGJ_I64(user_id)),
                     NULL, NULL);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (json_array_size(rows) == 0) {
        return DGJ_OK;
    }

    ended->ids = dgj_palloc(r->pool,
                            json_array_size(rows) * sizeof(const char *));
    if (ended->ids == NULL) {
        return DGJ_ERR_NOMEM;
    }

    for (i = 0; i < json_array_size(rows); i++) {
        ended->ids[ended->n] =
            json_string_value(json_object_get(json_array_get(rows, i), "id"));
        if (ended->ids[ended->n] != NULL) {
            ended->n++;
        }
    }

    return DGJ_OK;
}


void
dgj_session_revoke(dgj_req_t *r, const dgj_session_ended_t *ended)
{
    dgj_rc_t  rc;

    if (ended->n == 0) {
        return;
    }

    rc = dgj_revoke_sessions(r->conf, ended->ids, ended->n,
                             dgj_clock_now(r->conf)
                             + DGJ_SESSION_REVOKE_SECONDS);
    if (rc != DGJ_OK) {
        dgj_log(DGJ_LOG_ERROR, "session",
                "nginx was not told about %zu ended session(s): their "
                "tokens lapse within the token lifetime", ended->n);
    }
}


dgj_rc_t
dgj_session_clear_cookies(dgj_req_t *r)
{
    dgj_rc_t  rc;

    rc = dgj_session_cookie(r, "dgj_at", "", "/", 0, 1, "Lax");
    if (rc == DGJ_OK) {
        rc = dgj_session_cookie(r, "dgj_rt", "", "/api/v1/auth/", 0, 1,
                                "Strict");
    }

    if (rc == DGJ_OK) {
        rc = dgj_session_cookie(r, "dgj_csrf", "", "/", 0, 0, "Strict");
    }

    return rc;
}


dgj_rc_t
dgj_session_verify(dgj_req_t *r, const char *token,
    dgj_token_claims_t *claims)
{
    dgj_rc_t                 rc;
    dgj_token_rc_e           trc;
    const dgj_token_ring_t  *ring;

    rc = dgj_session_ring(r, &ring);
    if (rc != DGJ_OK) {
        return rc;
    }

    trc = dgj_token_verify(ring, token, strlen(token),
                           dgj_clock_now(r->conf), DGJ_SESSION_TOKEN_LEEWAY,
                           claims);
    if (trc != DGJ_TOKEN_OK) {
        return dgj_req_fail_code(r, DGJ_ERR_UNAUTH,
                                 trc == DGJ_TOKEN_EXPIRED ? "token_expired"
                                                          : "unauthenticated",
                                 "please sign in first");
    }

    return DGJ_OK;
}


dgj_rc_t
dgj_session_open(dgj_req_t *r, const char *session, int *open)
{
    char      now_s[24];
    int64_t   n;
    dgj_rc_t  rc;

    dgj_clock_format(dgj_clock_now(r->conf), now_s, sizeof(now_s));

    rc = dgj_db_row(r, &dgj_session_sql_open,
                    DGJ_ARGS(DGJ_STR(session), DGJ_STR(now_s),
                             DGJ_STR(now_s)),
                    DGJ_OUTS(DGJ_OUT_I64(&n)));
    if (rc != DGJ_OK) {
        return rc;
    }

    *open = (n > 0);

    return DGJ_OK;
}


/* Mints the access token and sets cookies or reply fields. */
static dgj_rc_t
dgj_session_issue(dgj_req_t *r, const dgj_session_user_t *u,
    const char *session, int64_t expires, const char *refresh, int app,
    json_t *reply, int idle, const dgj_accounts_policy_t *policy)
{
    int                      ttl;
    char                     token[DGJ_TOKEN_MAX_LEN + 1];
    char                     csrf[DGJ_TOKEN_CSRF_LEN + 1], end_s[24];
    char                    *tok;
    size_t                   len;
    int64_t                  now, exp;
    json_t                  *s;
    dgj_rc_t                 rc;
    dgj_token_rc_e           trc;
    dgj_token_claims_t       c;
    const dgj_token_ring_t  *ring;

    rc = dgj_session_ring(r, &ring);
    if (rc != DGJ_OK) {
        return rc;
    }

    ttl = (strcmp(u->kind, "staff") == 0) ? policy->staff_token_seconds
                                          : policy->public_token_seconds;

    now = dgj_clock_now(r->conf);
    exp = now + ttl;
    if (exp > expires) {
        exp = expires;
    }

    memset(&c, 0, sizeof(c));
    c.user_id = (uint64_t) u->user_id;
    c.dept_id = (uint64_t) u->dept_id;
    c.roles_len = strlen(u->roles);

    if (c.roles_len > DGJ_TOKEN_ROLES_MAX) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "roles too long");
    }

    memcpy(c.roles, u->roles, c.roles_len + 1);
    memcpy(c.session, session, sizeof(c.session));
    c.session[sizeof(c.session) - 1] = '\0';
    c.iat = now;
    c.exp = exp;
    c.level = (unsigned) u->level;

    trc = dgj_token_mint(ring, &c, token, sizeof(token), &len);
    if (trc != DGJ_TOKEN_OK) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "token mint failed: %d",
                            (int) trc);
    }

    trc = dgj_token_csrf_make(ring, session, csrf, sizeof(csrf));
    if (trc != DGJ_TOKEN_OK) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "csrf token failed: %d",
                            (int) trc);
    }

    tok = dgj_pstrndup(r->pool, token, len);
    explicit_bzero(token, sizeof(token));
    if (tok == NULL) {
        return DGJ_ERR_NOMEM;
    }

    dgj_clock_format(expires, end_s, sizeof(end_s));

    s = json_pack("{s:I, s:s, s:i, s:s}",
                  "expires_in", (json_int_t) (exp - now),
                  "csrf_token", csrf,
                  "idle_seconds", idle,
                  "expires_at", end_s);
    if (s == NULL || json_object_set_new(reply, "session", s) != 0) {
        return DGJ_ERR_NOMEM;
    }

    if (app) {
        if (json_object_set_new(reply, "access_token", json_string(tok)) != 0
            || (refresh != NULL
                && json_object_set_new(reply, "refresh_token",
                                       json_string(refresh)) != 0))
        {
            return DGJ_ERR_NOMEM;
        }

        return DGJ_OK;
    }

    /*
     * docs/security.md#csrf-and-cookies: only dgj_at is sent along with
     * a link from another site; the refresh secret and the CSRF token not
     */
    rc = dgj_session_cookie(r, "dgj_at", tok, "/", exp - now, 1, "Lax");

    if (rc == DGJ_OK && refresh != NULL) {
        rc = dgj_session_cookie(r, "dgj_rt", refresh, "/api/v1/auth/",
                                expires - now, 1, "Strict");
    }

    if (rc == DGJ_OK) {
        rc = dgj_session_cookie(r, "dgj_csrf", csrf, "/", expires - now, 0,
                                "Strict");
    }

    return rc;
}


static dgj_rc_t
dgj_session_cookie(dgj_req_t *r, const char *name, const char *value,
    const char *path, int64_t max_age, int http_only, const char *same_site)
{
    int          n;
    char        *v;
    size_t       len;
    const char  *https;

    https = dgj_req_param(r, "HTTPS");

    len = strlen(name) + strlen(value) + strlen(path) + 128;

    v = dgj_palloc(r->pool, len);
    if (v == NULL) {
        return DGJ_ERR_NOMEM;
    }

    n = snprintf(v, len, "%s=%s; Path=%s; Max-Age=%lld; SameSite=%s%s%s",
                 name, value, path, (long long) max_age, same_site,
                 http_only ? "; HttpOnly" : "",
                 (https != NULL && strcmp(https, "on") == 0)
                 ? "; Secure" : "");
    if (n < 0 || (size_t) n >= len) {
        return DGJ_ERR_INTERNAL;
    }

    return dgj_req_header_add(r, "Set-Cookie", v);
}


static dgj_rc_t
dgj_session_ring(dgj_req_t *r, const dgj_token_ring_t **ring)
{
    char         err[256];
    struct stat  st;

    if (r->conf == NULL || r->conf->token_keys[0] == '\0') {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL,
                            "token_keys is not configured");
    }

    if (stat(r->conf->token_keys, &st) != 0) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "%s: %s",
                            r->conf->token_keys, strerror(errno));
    }

    if (!dgj_session_keys_loaded
        || st.st_mtim.tv_sec != dgj_session_keys_mtime.tv_sec
        || st.st_mtim.tv_nsec != dgj_session_keys_mtime.tv_nsec)
    {
        if (dgj_session_keys_loaded) {
            dgj_token_ring_free(&dgj_session_keys);
            dgj_session_keys_loaded = 0;
        }

        if (dgj_token_ring_load(&dgj_session_keys, r->conf->token_keys,
                                err, sizeof(err)) != 0)
        {
            return dgj_req_fail(r, DGJ_ERR_INTERNAL, "token keys: %s", err);
        }

        dgj_session_keys_loaded = 1;
        dgj_session_keys_mtime = st.st_mtim;
        dgj_log(DGJ_LOG_INFO, "session", "token keys loaded from %s",
                r->conf->token_keys);
    }

    *ring = &dgj_session_keys;

    return DGJ_OK;
}
