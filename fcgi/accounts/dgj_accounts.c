
/*
 * Copyright (C) Daguanjia
 *
 * dgj_accounts.c: the accounts route table, the security policy, the
 * auth_events writer and the small helpers the accounts files share.
 */


#include "dgj_core.h"
#include "dgj_accounts.h"
#include "dgj_db.h"
#include "dgj_json.h"
#include "dgj_log.h"
#include "dgj_req.h"

#include <openssl/evp.h>
#include <openssl/rand.h>


const dgj_route_t  dgj_accounts_routes[] = {

    { DGJ_POST, "/api/v1/auth/login",             dgj_accounts_login },
    { DGJ_POST, "/api/v1/auth/sms/send",          dgj_accounts_sms_send },
    { DGJ_POST, "/api/v1/auth/sms/login",         dgj_accounts_sms_login },
    { DGJ_GET,  "/api/v1/auth/wechat/start",      dgj_accounts_wechat_start },
    { DGJ_GET,  "/api/v1/auth/wechat/callback",
                                              dgj_accounts_wechat_callback },
    { DGJ_POST, "/api/v1/auth/wechat/login",      dgj_accounts_wechat_login },
    { DGJ_POST, "/api/v1/auth/refresh",           dgj_accounts_refresh },
    { DGJ_GET,  "/api/v1/auth/resume",            dgj_accounts_resume },
    { DGJ_POST, "/api/v1/auth/logout",            dgj_accounts_logout },
    { DGJ_GET,  "/api/v1/auth/me",                dgj_accounts_me },
    { DGJ_GET,  "/api/v1/auth/check",             dgj_accounts_check },
    { DGJ_POST, "/api/v1/auth/password",          dgj_accounts_password },
    { DGJ_POST, "/api/v1/auth/register/organisation",
                                              dgj_accounts_register_org },
    { DGJ_POST, "/api/v1/auth/totp/enrol",        dgj_accounts_totp_enrol },
    { DGJ_POST, "/api/v1/auth/totp/confirm",      dgj_accounts_totp_confirm },

    { DGJ_GET,  "/api/v1/admin/roles",            dgj_accounts_roles_list },
    { DGJ_GET,  "/api/v1/admin/users",            dgj_accounts_users_list },
    { DGJ_POST, "/api/v1/admin/users",            dgj_accounts_users_create },
    { DGJ_GET,  "/api/v1/admin/users/{id}",       dgj_accounts_users_get },
    { DGJ_PATCH, "/api/v1/admin/users/{id}",      dgj_accounts_users_update },
    { DGJ_PUT,  "/api/v1/admin/users/{id}/roles", dgj_accounts_users_roles },
    { DGJ_POST, "/api/v1/admin/users/{id}/reset", dgj_accounts_users_reset },
    { DGJ_GET,  "/api/v1/admin/departments",      dgj_accounts_depts_list },
    { DGJ_POST, "/api/v1/admin/departments",      dgj_accounts_depts_create },
    { DGJ_PATCH, "/api/v1/admin/departments/{id}",
                                              dgj_accounts_depts_update },

    { DGJ_GET,  "/api/v1/organisations",          dgj_accounts_orgs_list },
    { DGJ_POST, "/api/v1/organisations/{id}/verify",
                                              dgj_accounts_orgs_verify },

    { DGJ_GET,  "/api/v1/security/policy",        dgj_accounts_policy_get },
    { DGJ_PUT,  "/api/v1/security/policy",        dgj_accounts_policy_put },

    { DGJ_GET,  "/api/v1/audit/auth-events",      dgj_accounts_events_list },

      dgj_null_route
};


static const dgj_sql_t  dgj_accounts_sql_policy = {
    "accounts.policy",
    "SELECT name, value FROM security_policy"
};

static const dgj_sql_t  dgj_accounts_sql_event = {
    "accounts.event",
    "INSERT INTO auth_events"
    "       (at, event, user_id, actor_id, subject, client_ip, request_id,"
    "        detail)"
    " VALUES (NOW(3), ?, ?, ?, ?, ?, ?, ?)"
};

static const dgj_sql_t  dgj_accounts_sql_roles = {
    "accounts.user_roles",
    "SELECT COALESCE(GROUP_CONCAT(ro.name ORDER BY ro.id SEPARATOR ','), '')"
    "  FROM user_roles ur"
    "  JOIN roles ro ON ro.id = ur.role_id"
    " WHERE ur.user_id = ?"
};

#define DGJ_ACCOUNTS_USER_COLS                                                \
    "SELECT id, kind, username, status, COALESCE(department_id, 0),"          \
    "       display_name, password_hash,"                                     \
    "       COALESCE(UNIX_TIMESTAMP(password_changed_at), 0),"                \
    "       must_change_password, totp_secret, totp_last_step,"               \
    "       failed_logins, COALESCE(UNIX_TIMESTAMP(locked_until), 0)"         \
    "  FROM users"

static const dgj_sql_t  dgj_accounts_sql_user_by_id = {
    "accounts.user_by_id",
    DGJ_ACCOUNTS_USER_COLS
    " WHERE id = ?"
};

static const dgj_sql_t  dgj_accounts_sql_user_by_name = {
    "accounts.user_by_name",
    DGJ_ACCOUNTS_USER_COLS
    " WHERE username = ? AND kind IN ('staff', 'organisation')"
};


dgj_rc_t
dgj_accounts_policy(dgj_req_t *r, dgj_accounts_policy_t *p)
{
    size_t       i, j;
    json_t      *rows, *row;
    dgj_rc_t     rc;
    const char  *name;

    static const struct {
        const char  *name;
        size_t       offset;
    }  fields[] = {
        { "password_max_age_days",
          offsetof(dgj_accounts_policy_t, password_max_age_days) },
        { "password_history",
          offsetof(dgj_accounts_policy_t, password_history) },
        { "lockout_threshold",
          offsetof(dgj_accounts_policy_t, lockout_threshold) },
        { "lockout_minutes",
          offsetof(dgj_accounts_policy_t, lockout_minutes) },
        { "staff_idle_seconds",
          offsetof(dgj_accounts_policy_t, staff_idle_seconds) },
        { "staff_absolute_seconds",
          offsetof(dgj_accounts_policy_t, staff_absolute_seconds) },
        { "public_idle_seconds",
          offsetof(dgj_accounts_policy_t, public_idle_seconds) },
        { "public_absolute_seconds",
          offsetof(dgj_accounts_policy_t, public_absolute_seconds) },
        { "staff_token_seconds",
          offsetof(dgj_accounts_policy_t, staff_token_seconds) },
        { "public_token_seconds",
          offsetof(dgj_accounts_policy_t, public_token_seconds) }
    };

    /* the defaults of 0007_accounts.sql, should a row be missing */
    p->password_max_age_days = 180;
    p->password_history = 5;
    p->lockout_threshold = 5;
    p->lockout_minutes = 15;
    p->staff_idle_seconds = 900;
    p->staff_absolute_seconds = 43200;
    p->public_idle_seconds = 7200;
    p->public_absolute_seconds = 43200;
    p->staff_token_seconds = 120;
    p->public_token_seconds = 600;

    rc = dgj_db_rows_json(r, &dgj_accounts_sql_policy, DGJ_NOARGS, &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    json_array_foreach(rows, i, row) {
        name = json_string_value(json_object_get(row, "name"));
        if (name == NULL) {
            continue;
        }

        for (j = 0; j < dgj_countof(fields); j++) {
            if (strcmp(fields[j].name, name) == 0) {
                *(int *) (void *) ((char *) p + fields[j].offset) =
                    (int) json_integer_value(json_object_get(row, "value"));
            }
        }
    }

    return DGJ_OK;
}


dgj_rc_t
dgj_accounts_event(dgj_req_t *r, const char *event, int64_t user_id,
    int64_t actor_id, const char *subject, const char *detail)
{
    dgj_rc_t  rc;

    rc = dgj_db_exec(r, &dgj_accounts_sql_event,
                     DGJ_ARGS(DGJ_STR(event),
                              user_id ? DGJ_I64(user_id) : DGJ_NULL,
                              actor_id ? DGJ_I64(actor_id) : DGJ_NULL,
                              DGJ_STR(subject ? subject : ""),
                              DGJ_STR(dgj_accounts_client_ip(r)),
                              DGJ_STR(r->request_id),
                              DGJ_STR(detail ? detail : "")),
                     NULL, NULL);

    dgj_log(DGJ_LOG_INFO, "accounts", "event %s user %lld actor %lld %s",
            event, (long long) user_id, (long long) actor_id,
            subject ? subject : "");

    return rc;
}


const char *
dgj_accounts_client_ip(dgj_req_t *r)
{
    const char  *v;

    v = dgj_req_param(r, "REMOTE_ADDR");

    return (v != NULL) ? v : "";
}


dgj_rc_t
dgj_accounts_user_roles(dgj_req_t *r, int64_t user_id, const char **roles)
{
    dgj_rc_t  rc;

    rc = dgj_db_row(r, &dgj_accounts_sql_roles, DGJ_ARGS(DGJ_I64(user_id)),
                    DGJ_OUTS(DGJ_OUT_STR(roles)));

    if (rc == DGJ_OK && *roles == NULL) {
        *roles = "";
    }

    return rc;
}


static dgj_rc_t
dgj_accounts_user_row(dgj_req_t *r, const dgj_sql_t *sql,
    const dgj_arg_t *args, size_t nargs, dgj_accounts_user_t *u)
{
    memset(u, 0, sizeof(dgj_accounts_user_t));

    return dgj_db_row(r, sql, args, nargs,
                      DGJ_OUTS(DGJ_OUT_I64(&u->id),
                               DGJ_OUT_STR(&u->kind),
                               DGJ_OUT_STR(&u->username),
                               DGJ_OUT_STR(&u->status),
                               DGJ_OUT_I64(&u->dept_id),
                               DGJ_OUT_STR(&u->display_name),
                               DGJ_OUT_STR(&u->password_hash),
                               DGJ_OUT_I64(&u->password_changed),
                               DGJ_OUT_I64(&u->must_change),
                               DGJ_OUT_STR(&u->totp_secret),
                               DGJ_OUT_I64(&u->totp_last_step),
                               DGJ_OUT_I64(&u->failed_logins),
                               DGJ_OUT_I64(&u->locked_until)));
}


dgj_rc_t
dgj_accounts_user_by_id(dgj_req_t *r, int64_t id, dgj_accounts_user_t *u)
{
    return dgj_accounts_user_row(r, &dgj_accounts_sql_user_by_id,
                                 DGJ_ARGS(DGJ_I64(id)), u);
}


dgj_rc_t
dgj_accounts_user_by_name(dgj_req_t *r, const char *username,
    dgj_accounts_user_t *u)
{
    return dgj_accounts_user_row(r, &dgj_accounts_sql_user_by_name,
                                 DGJ_ARGS(DGJ_STR(username)), u);
}


dgj_rc_t
dgj_accounts_random_hex(dgj_req_t *r, char *out, size_t n)
{
    size_t          i;
    unsigned char   buf[64];

    static const char  hex[] = "0123456789abcdef";

    if (n > sizeof(buf) || RAND_bytes(buf, (int) n) != 1) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "RAND_bytes failed");
    }

    for (i = 0; i < n; i++) {
        out[2 * i] = hex[buf[i] >> 4];
        out[2 * i + 1] = hex[buf[i] & 0x0f];
    }

    out[2 * n] = '\0';
    explicit_bzero(buf, sizeof(buf));

    return DGJ_OK;
}


dgj_rc_t
dgj_accounts_opt_str(dgj_req_t *r, const json_t *obj, const char *key,
    size_t max, const char **out)
{
    size_t       len;
    json_t      *v;
    const char  *s;

    *out = NULL;

    v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v)) {
        return DGJ_OK;
    }

    if (!json_is_string(v)) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"%s\" must be a string",
                            key);
    }

    s = json_string_value(v);
    len = json_string_length(v);

    if (len > max) {
        return dgj_req_fail(r, DGJ_ERR_INPUT,
                            "\"%s\" is longer than %zu bytes", key, max);
    }

    if (strlen(s) != len) {
        return dgj_req_fail(r, DGJ_ERR_INPUT,
                            "\"%s\" must not contain NUL", key);
    }

    *out = s;

    return DGJ_OK;
}


dgj_rc_t
dgj_accounts_req_str(dgj_req_t *r, const json_t *obj, const char *key,
    size_t max, const char **out)
{
    dgj_rc_t  rc;

    rc = dgj_accounts_opt_str(r, obj, key, max, out);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (*out == NULL || **out == '\0') {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"%s\" is required", key);
    }

    return DGJ_OK;
}


dgj_rc_t
dgj_accounts_client_is_app(dgj_req_t *r, const json_t *body, int *app)
{
    dgj_rc_t     rc;
    const char  *client;

    *app = 0;

    rc = dgj_accounts_opt_str(r, body, "client", 16, &client);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (client == NULL || strcmp(client, "browser") == 0) {
        return DGJ_OK;
    }

    if (strcmp(client, "app") == 0) {
        *app = 1;
        return DGJ_OK;
    }

    return dgj_req_fail(r, DGJ_ERR_INPUT,
                        "\"client\" must be \"browser\" or \"app\"");
}


const char *
dgj_accounts_cookie(dgj_req_t *r, const char *name)
{
    char        *v;
    size_t       n, len;
    const char  *p, *end, *header;

    header = dgj_req_param(r, "HTTP_COOKIE");
    if (header == NULL) {
        return NULL;
    }

    n = strlen(name);

    for (p = header; *p != '\0'; p = (*end == ';') ? end + 1 : end) {
        while (*p == ' ') {
            p++;
        }

        end = strchr(p, ';');
        if (end == NULL) {
            end = p + strlen(p);
        }

        if ((size_t) (end - p) > n && strncmp(p, name, n) == 0
            && p[n] == '=')
        {
            len = (size_t) (end - p) - n - 1;
            v = dgj_palloc(r->pool, len + 1);
            if (v == NULL) {
                return NULL;
            }

            memcpy(v, p + n + 1, len);
            v[len] = '\0';

            return v;
        }
    }

    return NULL;
}


const char *
dgj_accounts_local_next(const char *next)
{
    const char  *p;

    if (next == NULL || next[0] != '/' || next[1] == '/' || next[1] == '\\'
        || strlen(next) > 512)
    {
        return "/";
    }

    for (p = next; *p != '\0'; p++) {
        if ((unsigned char) *p < 0x21 || *p == '\\' || *p == 0x7f) {
            return "/";
        }
    }

    return next;
}


const char *
dgj_accounts_mask_name(dgj_req_t *r, const char *name)
{
    char    *m;
    size_t   len, keep;

    if (name == NULL) {
        return "";
    }

    len = strlen(name);
    keep = (len > 4) ? 2 : (len > 1 ? 1 : 0);

    m = dgj_palloc(r->pool, keep + 4);
    if (m == NULL) {
        return "***";
    }

    memcpy(m, name, keep);
    memcpy(m + keep, "***", 4);

    return m;
}


int
dgj_accounts_username_ok(const char *name)
{
    size_t  len;

    len = strlen(name);

    if (len < 3 || len > 64 || name[0] < 'a' || name[0] > 'z') {
        return 0;
    }

    return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == len;
}


dgj_rc_t
dgj_accounts_arg_int(dgj_req_t *r, const char *name, int64_t def,
    int64_t min, int64_t max, int64_t *out)
{
    char        *end;
    dgj_rc_t     rc;
    long long    v;
    const char  *s;

    rc = dgj_req_arg(r, name, &s);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (s == NULL) {
        *out = def;
        return DGJ_OK;
    }

    errno = 0;
    v = strtoll(s, &end, 10);

    if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v < min
        || v > max)
    {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"%s\" must be %lld..%lld",
                            name, (long long) min, (long long) max);
    }

    *out = v;

    return DGJ_OK;
}


dgj_rc_t
dgj_accounts_capture_id(dgj_req_t *r, int64_t *id)
{
    char        *end;
    const char  *s;

    s = dgj_req_capture(r, "id");

    if (s == NULL || *s < '1' || *s > '9' || strlen(s) > 18) {
        return dgj_req_fail(r, DGJ_ERR_NOT_FOUND, "no such id");
    }

    *id = (int64_t) strtoll(s, &end, 10);

    if (*end != '\0') {
        return dgj_req_fail(r, DGJ_ERR_NOT_FOUND, "no such id");
    }

    return DGJ_OK;
}


void
dgj_accounts_sha256(const char *s, unsigned char *out)
{
    unsigned int  len;

    len = 32;
    (void) EVP_Digest(s, strlen(s), out, &len, EVP_sha256(), NULL);
}
