
/*
 * Copyright (C) Daguanjia
 *
 * dgj_accounts_admin.c: administration of accounts.  System admin: users,
 * roles, departments.  Project manager or system admin: verifying
 * organisations.  Security admin: the password and session policy.
 * Auditor: the auth_events record.  nginx already refuses other roles on
 * /api/v1/admin|security|audit/; each handler checks again.
 *
 * Separation of duties (三权分立): sysadmin, secadmin and auditor are never
 * held together, and nobody changes his own roles.
 */


#include "dgj_core.h"
#include "dgj_accounts.h"
#include "dgj_clock.h"
#include "dgj_conf.h"
#include "dgj_db.h"
#include "dgj_identity.h"
#include "dgj_ids.h"
#include "dgj_json.h"
#include "dgj_password.h"
#include "dgj_req.h"
#include "dgj_session.h"
#include "dgj_totp.h"

#include <openssl/rand.h>


#define DGJ_ADMIN_PAGE_MAX  100


static void dgj_admin_show_password(json_t *reply, char *password,
    size_t size);
static dgj_rc_t dgj_admin_rows(dgj_req_t *r, const char *const *roles,
    const dgj_sql_t *sql, const char *key);
static dgj_rc_t dgj_admin_roles(dgj_req_t *r, const json_t *body,
    int64_t **ids, size_t *n, const char **names);
static dgj_rc_t dgj_admin_dept(dgj_req_t *r, const json_t *body,
    int64_t *dept);
static void dgj_admin_mask_rows(dgj_req_t *r, json_t *rows);


static const char *const  dgj_admin_sysadmin[] = { "sysadmin", NULL };
static const char *const  dgj_admin_secadmin[] = { "secadmin", NULL };
static const char *const  dgj_admin_auditor[] = { "auditor", NULL };
static const char *const  dgj_admin_verifiers[] = {
    "project_manager", "sysadmin", NULL
};


static const dgj_sql_t  dgj_admin_sql_roles = {
    "admin.roles",
    "SELECT id, name, title, kind, duty FROM roles ORDER BY id"
};

static const dgj_sql_t  dgj_admin_sql_role = {
    "admin.role",
    "SELECT id, kind, COALESCE(duty, '') FROM roles WHERE name = ?"
};

#define DGJ_ADMIN_USER_SELECT                                                 \
    "SELECT u.id, u.kind, u.username, u.display_name, u.status,"              \
    "       u.department_id, d.name AS department, p.real_name, p.phone,"     \
    "       (SELECT GROUP_CONCAT(ro.name ORDER BY ro.id SEPARATOR ',')"       \
    "          FROM user_roles ur JOIN roles ro ON ro.id = ur.role_id"        \
    "         WHERE ur.user_id = u.id) AS roles,"                             \
    "       u.locked_until, u.must_change_password,"                          \
    "       u.totp_secret IS NOT NULL AS totp, u.created_at"                  \
    "  FROM users u"                                                          \
    "  LEFT JOIN departments d ON d.id = u.department_id"                     \
    "  LEFT JOIN user_personal p ON p.user_id = u.id"

static const dgj_sql_t  dgj_admin_sql_users = {
    "admin.users",
    DGJ_ADMIN_USER_SELECT
    " WHERE u.id > ?"
    "   AND (? IS NULL OR u.kind = ?)"
    "   AND (? IS NULL OR u.status = ?)"
    "   AND (? IS NULL OR u.username LIKE ? ESCAPE '!'"
    "        OR u.display_name LIKE ? ESCAPE '!')"
    " ORDER BY u.id"
    " LIMIT ?"
};

static const dgj_sql_t  dgj_admin_sql_user = {
    "admin.user",
    DGJ_ADMIN_USER_SELECT
    " WHERE u.id = ?"
};

static const dgj_sql_t  dgj_admin_sql_dept_ok = {
    "admin.dept_ok",
    "SELECT id FROM departments WHERE id = ? AND active = 1"
};

static const dgj_sql_t  dgj_admin_sql_new_staff = {
    "admin.new_staff",
    "INSERT INTO users"
    "       (kind, username, display_name, department_id, password_hash,"
    "        password_changed_at, must_change_password, totp_secret,"
    "        created_at, updated_at)"
    " VALUES ('staff', ?, ?, ?, ?, ?, 1, ?, ?, ?)"
};

static const dgj_sql_t  dgj_admin_sql_new_personal = {
    "admin.new_personal",
    "INSERT INTO user_personal (user_id, real_name, phone) VALUES (?, ?, ?)"
};

static const dgj_sql_t  dgj_admin_sql_grant = {
    "admin.grant",
    "INSERT INTO user_roles (user_id, role_id, granted_by, granted_at)"
    " VALUES (?, ?, ?, ?)"
};

static const dgj_sql_t  dgj_admin_sql_revoke_all = {
    "admin.revoke_all",
    "DELETE FROM user_roles WHERE user_id = ?"
};

static const dgj_sql_t  dgj_admin_sql_update = {
    "admin.update",
    "UPDATE users"
    "   SET display_name = COALESCE(?, display_name),"
    "       department_id = COALESCE(?, department_id),"
    "       status = COALESCE(?, status),"
    "       updated_at = ?"
    " WHERE id = ?"
};

static const dgj_sql_t  dgj_admin_sql_reset = {
    "admin.reset",
    "UPDATE users"
    "   SET password_hash = ?, password_changed_at = ?,"
    "       must_change_password = 1, failed_logins = 0, locked_until = NULL,"
    "       totp_secret = COALESCE(?, totp_secret),"
    "       totp_last_step = IF(? IS NULL, totp_last_step, 0),"
    "       updated_at = ?"
    " WHERE id = ?"
};

static const dgj_sql_t  dgj_admin_sql_depts = {
    "admin.depts",
    "SELECT id, code, name, kind, district_id, active"
    "  FROM departments"
    " ORDER BY sort_order, id"
};

static const dgj_sql_t  dgj_admin_sql_new_dept = {
    "admin.new_dept",
    "INSERT INTO departments (code, name, kind, district_id, sort_order)"
    " VALUES (?, ?, ?, ?, 1000)"
};

static const dgj_sql_t  dgj_admin_sql_update_dept = {
    "admin.update_dept",
    "UPDATE departments"
    "   SET name = COALESCE(?, name), active = COALESCE(?, active)"
    " WHERE id = ?"
};

static const dgj_sql_t  dgj_admin_sql_dept = {
    "admin.dept",
    "SELECT id, code, name, kind, district_id, active"
    "  FROM departments WHERE id = ?"
};

static const dgj_sql_t  dgj_admin_sql_orgs = {
    "admin.orgs",
    "SELECT u.id, u.username, u.status, o.name, o.uscc, o.org_kind,"
    "       o.verified_at, p.real_name, p.phone"
    "  FROM organisations o"
    "  JOIN users u ON u.id = o.user_id"
    "  LEFT JOIN user_personal p ON p.user_id = u.id"
    " WHERE (? = 'all' OR (? = 'pending') = (o.verified_at IS NULL))"
    "   AND u.id > ?"
    " ORDER BY u.id"
    " LIMIT ?"
};

static const dgj_sql_t  dgj_admin_sql_verify = {
    "admin.verify",
    "UPDATE organisations SET verified_at = ?, verified_by = ?"
    " WHERE user_id = ? AND verified_at IS NULL"
};

static const dgj_sql_t  dgj_admin_sql_org_roles = {
    "admin.org_roles",
    "UPDATE user_roles"
    "   SET role_id = (SELECT id FROM roles WHERE name = 'organisation'),"
    "       granted_by = ?, granted_at = ?"
    " WHERE user_id = ?"
    "   AND role_id = (SELECT id FROM roles WHERE name = 'org_pending')"
};

static const dgj_sql_t  dgj_admin_sql_policy = {
    "admin.policy",
    "SELECT name, value, min_value, max_value, updated_by, updated_at"
    "  FROM security_policy ORDER BY name"
};

static const dgj_sql_t  dgj_admin_sql_policy_set = {
    "admin.policy_set",
    "UPDATE security_policy"
    "   SET value = ?, updated_by = ?, updated_at = ?"
    " WHERE name = ? AND ? BETWEEN min_value AND max_value"
};

static const dgj_sql_t  dgj_admin_sql_policy_range = {
    "admin.policy_range",
    "SELECT min_value, max_value FROM security_policy WHERE name = ?"
};

static const dgj_sql_t  dgj_admin_sql_events = {
    "admin.events",
    "SELECT id, at, event, user_id, actor_id, subject, client_ip,"
    "       request_id, detail"
    "  FROM auth_events"
    " WHERE id < ? AND (? = 0 OR user_id = ?)"
    " ORDER BY id DESC"
    " LIMIT ?"
};


/* GET /api/v1/admin/roles */

dgj_rc_t
dgj_accounts_roles_list(dgj_req_t *r)
{
    return dgj_admin_rows(r, dgj_admin_sysadmin, &dgj_admin_sql_roles,
                          "roles");
}


/* GET /api/v1/admin/users?kind=&status=&q=&after=&limit= */

dgj_rc_t
dgj_accounts_users_list(dgj_req_t *r)
{
    size_t           n;
    json_t          *rows, *reply, *last;
    int64_t          after, limit;
    dgj_rc_t         rc;
    const char      *kind, *status, *q, *like, *prefix;
    dgj_identity_t   id;

    rc = dgj_identity_require(r, &id, dgj_admin_sysadmin);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_req_arg(r, "kind", &kind)) != DGJ_OK
        || (rc = dgj_req_arg(r, "status", &status)) != DGJ_OK
        || (rc = dgj_req_arg(r, "q", &q)) != DGJ_OK
        || (rc = dgj_accounts_arg_int(r, "after", 0, 0, INT64_MAX, &after))
           != DGJ_OK
        || (rc = dgj_accounts_arg_int(r, "limit", 50, 1, DGJ_ADMIN_PAGE_MAX,
                                      &limit)) != DGJ_OK)
    {
        return rc;
    }

    if (q != NULL && (*q == '\0' || strlen(q) > 64)) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"q\" must be 1-64 bytes");
    }

    like = NULL;
    prefix = NULL;

    if (q != NULL) {
        like = dgj_db_like(r->pool, q, strlen(q), 1, 1);
        prefix = dgj_db_like(r->pool, q, strlen(q), 0, 1);
        if (like == NULL || prefix == NULL) {
            return DGJ_ERR_NOMEM;
        }
    }

    rc = dgj_db_rows_json(r, &dgj_admin_sql_users,
                          DGJ_ARGS(DGJ_I64(after),
                                   kind ? DGJ_STR(kind) : DGJ_NULL,
                                   kind ? DGJ_STR(kind) : DGJ_NULL,
                                   status ? DGJ_STR(status) : DGJ_NULL,
                                   status ? DGJ_STR(status) : DGJ_NULL,
                                   q ? DGJ_STR(q) : DGJ_NULL,
                                   prefix ? DGJ_STR(prefix) : DGJ_NULL,
                                   like ? DGJ_STR(like) : DGJ_NULL,
                                   DGJ_I64(limit)),
                          &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    dgj_admin_mask_rows(r, rows);

    n = json_array_size(rows);
    last = (n == (size_t) limit)
           ? json_object_get(json_array_get(rows, n - 1), "id") : NULL;

    reply = dgj_json_own(r, json_pack("{s:O, s:O}", "users", rows,
                                      "next_after",
                                      last ? last : json_null()));

    return reply ? dgj_reply_json(r, 200, reply) : DGJ_ERR_NOMEM;
}


/*
 * POST /api/v1/admin/users
 *   {username, display_name, department_id, roles: [...],
 *    real_name?, phone?}
 * A staff account with a one-time initial password and a TOTP secret,
 * both shown once in the reply.
 */

dgj_rc_t
dgj_accounts_users_create(dgj_req_t *r)
{
    char                   password[32], hash[DGJ_PASSWORD_ENCODED],
                           now_s[24], phone[DGJ_IDS_PHONE_LEN + 1];
    size_t                 i, n;
    json_t                *body, *reply;
    int64_t                dept, *roles;
    uint64_t               uid;
    dgj_rc_t               rc;
    const char            *username, *display, *real_name, *raw, *names,
                          *secret32;
    dgj_identity_t         id;

    static const char *const  keys[] = {
        "username", "display_name", "department_id", "roles", "real_name",
        "phone", NULL
    };

    rc = dgj_identity_require(r, &id, dgj_admin_sysadmin);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_json_body_keys(r, keys, &body);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_accounts_req_str(r, body, "username", 64, &username))
           != DGJ_OK
        || (rc = dgj_accounts_req_str(r, body, "display_name", 64, &display))
           != DGJ_OK
        || (rc = dgj_accounts_opt_str(r, body, "real_name", 64, &real_name))
           != DGJ_OK
        || (rc = dgj_accounts_opt_str(r, body, "phone", 32, &raw)) != DGJ_OK
        || (rc = dgj_admin_dept(r, body, &dept)) != DGJ_OK
        || (rc = dgj_admin_roles(r, body, &roles, &n, &names)) != DGJ_OK)
    {
        return rc;
    }

    if (!dgj_accounts_username_ok(username)) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "invalid_username",
                                 "\"username\": 3-64 lower-case letters, "
                                 "digits, '_', '.' or '-', starting with a "
                                 "letter");
    }

    if (raw != NULL && dgj_ids_phone_normalize(raw, phone) != 0) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "invalid_phone",
                                 "\"phone\" is not a mainland mobile number");
    }

    if (dept == 0) {
        return dgj_req_fail(r, DGJ_ERR_INPUT,
                            "\"department_id\" is required for staff");
    }

    reply = dgj_json_own(r, json_object());
    if (reply == NULL) {
        return DGJ_ERR_NOMEM;
    }

    if ((rc = dgj_accounts_new_password(r, password, sizeof(password),
                                        hash, sizeof(hash))) != DGJ_OK
        || (rc = dgj_accounts_new_totp(r, username, reply, &secret32))
           != DGJ_OK)
    {
        return rc;
    }

    dgj_clock_format(dgj_clock_now(r->conf), now_s, sizeof(now_s));

    rc = dgj_db_begin(r);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_exec(r, &dgj_admin_sql_new_staff,
                     DGJ_ARGS(DGJ_STR(username), DGJ_STR(display),
                              DGJ_I64(dept), DGJ_STR(hash), DGJ_STR(now_s),
                              DGJ_STR(secret32), DGJ_STR(now_s),
                              DGJ_STR(now_s)),
                     NULL, &uid);

    if (rc == DGJ_OK && (real_name != NULL || raw != NULL)) {
        rc = dgj_db_exec(r, &dgj_admin_sql_new_personal,
                         DGJ_ARGS(DGJ_I64((int64_t) uid),
                                  real_name ? DGJ_STR(real_name) : DGJ_NULL,
                                  raw ? DGJ_STR(phone) : DGJ_NULL),
                         NULL, NULL);
    }

    for (i = 0; rc == DGJ_OK && i < n; i++) {
        rc = dgj_db_exec(r, &dgj_admin_sql_grant,
                         DGJ_ARGS(DGJ_I64((int64_t) uid), DGJ_I64(roles[i]),
                                  DGJ_I64((int64_t) id.user_id),
                                  DGJ_STR(now_s)),
                         NULL, NULL);
    }

    if (rc == DGJ_OK) {
        rc = dgj_accounts_event(r, "user_created", (int64_t) uid,
                                (int64_t) id.user_id,
                                dgj_accounts_mask_name(r, username), names);
    }

    if (rc == DGJ_OK) {
        rc = dgj_db_commit(r);
    }

    if (rc != DGJ_OK) {
        dgj_db_rollback(r);
        explicit_bzero(password, sizeof(password));

        if (rc == DGJ_ERR_CONFLICT) {
            dgj_req_fail_clear(r);
            return dgj_req_fail_code(r, DGJ_ERR_CONFLICT, "already_exists",
                                     "this username or phone number is "
                                     "taken");
        }

        return rc;
    }

    json_object_set_new(reply, "user",
                        json_pack("{s:I, s:s, s:s, s:I, s:s}",
                                  "id", (json_int_t) uid,
                                  "username", username,
                                  "display_name", display,
                                  "department_id", (json_int_t) dept,
                                  "roles", names));
    dgj_admin_show_password(reply, password, sizeof(password));

    return dgj_reply_json(r, 201, reply);
}


/* GET /api/v1/admin/users/{id} */

dgj_rc_t
dgj_accounts_users_get(dgj_req_t *r)
{
    json_t          *rows, *user;
    int64_t          uid;
    dgj_rc_t         rc;
    dgj_identity_t   id;

    rc = dgj_identity_require(r, &id, dgj_admin_sysadmin);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_accounts_capture_id(r, &uid)) != DGJ_OK
        || (rc = dgj_db_rows_json(r, &dgj_admin_sql_user,
                                  DGJ_ARGS(DGJ_I64(uid)), &rows)) != DGJ_OK)
    {
        return rc;
    }

    user = json_array_get(rows, 0);
    if (user == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOT_FOUND, "no user %lld",
                            (long long) uid);
    }

    dgj_admin_mask_rows(r, rows);

    return dgj_reply_json(r, 200, user);
}


/* PATCH /api/v1/admin/users/{id} {display_name?, department_id?, status?} */

dgj_rc_t
dgj_accounts_users_update(dgj_req_t *r)
{
    char                   now_s[24];
    json_t                *body, *reply;
    int64_t                uid, dept;
    uint64_t               affected;
    dgj_rc_t               rc;
    const char            *display, *status, *event;
    dgj_identity_t         id;
    dgj_session_ended_t    ended;

    static const char *const  keys[] = {
        "display_name", "department_id", "status", NULL
    };

    rc = dgj_identity_require(r, &id, dgj_admin_sysadmin);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_accounts_capture_id(r, &uid)) != DGJ_OK
        || (rc = dgj_json_body_keys(r, keys, &body)) != DGJ_OK
        || (rc = dgj_accounts_opt_str(r, body, "display_name", 64, &display))
           != DGJ_OK
        || (rc = dgj_accounts_opt_str(r, body, "status", 16, &status))
           != DGJ_OK
        || (rc = dgj_admin_dept(r, body, &dept)) != DGJ_OK)
    {
        return rc;
    }

    if (status != NULL && strcmp(status, "active") != 0
        && strcmp(status, "disabled") != 0)
    {
        return dgj_req_fail(r, DGJ_ERR_INPUT,
                            "\"status\" must be \"active\" or \"disabled\"");
    }

    if (display != NULL && *display == '\0') {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"display_name\" is empty");
    }

    if ((uint64_t) uid == id.user_id && status != NULL
        && strcmp(status, "disabled") == 0)
    {
        return dgj_req_fail_code(r, DGJ_ERR_FORBIDDEN, "self_change_refused",
                                 "you cannot disable your own account");
    }

    dgj_clock_format(dgj_clock_now(r->conf), now_s, sizeof(now_s));
    ended.n = 0;

    event = (status == NULL) ? "user_updated"
            : (strcmp(status, "disabled") == 0 ? "user_disabled"
                                                : "user_enabled");

    rc = dgj_db_begin(r);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_exec(r, &dgj_admin_sql_update,
                     DGJ_ARGS(display ? DGJ_STR(display) : DGJ_NULL,
                              dept ? DGJ_I64(dept) : DGJ_NULL,
                              status ? DGJ_STR(status) : DGJ_NULL,
                              DGJ_STR(now_s), DGJ_I64(uid)),
                     &affected, NULL);

    if (rc == DGJ_OK && affected == 0) {
        dgj_db_rollback(r);
        return dgj_req_fail(r, DGJ_ERR_NOT_FOUND, "no user %lld",
                            (long long) uid);
    }

    /* a disabled account or a new department: the old tokens must go */
    if (rc == DGJ_OK
        && ((status != NULL && strcmp(status, "disabled") == 0) || dept))
    {
        rc = dgj_session_end_user(r, uid, status != NULL ? "account_disabled"
                                                         : "department_changed",
                                  &ended);
    }

    if (rc == DGJ_OK) {
        rc = dgj_accounts_event(r, event, uid, (int64_t) id.user_id, "",
                                "");
    }

    if (rc == DGJ_OK) {
        rc = dgj_db_commit(r);
    }

    if (rc != DGJ_OK) {
        dgj_db_rollback(r);
        return rc;
    }

    dgj_session_revoke(r, &ended);

    reply = dgj_json_own(r, json_pack("{s:I, s:I}", "id", (json_int_t) uid,
                                      "sessions_ended",
                                      (json_int_t) ended.n));

    return reply ? dgj_reply_json(r, 200, reply) : DGJ_ERR_NOMEM;
}


/* PUT /api/v1/admin/users/{id}/roles {roles: [...]} */

dgj_rc_t
dgj_accounts_users_roles(dgj_req_t *r)
{
    char                   now_s[24];
    size_t                 i, n;
    json_t                *body, *reply;
    int64_t                uid, *roles;
    dgj_rc_t               rc;
    const char            *names;
    dgj_identity_t         id;
    dgj_session_ended_t    ended;
    dgj_accounts_user_t    u;

    static const char *const  keys[] = { "roles", NULL };

    rc = dgj_identity_require(r, &id, dgj_admin_sysadmin);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_accounts_capture_id(r, &uid)) != DGJ_OK) {
        return rc;
    }

    if ((uint64_t) uid == id.user_id) {
        (void) dgj_accounts_event(r, "role_change_refused", uid, uid, "",
                                  "own account");
        return dgj_req_fail_code(r, DGJ_ERR_FORBIDDEN, "self_grant_refused",
                                 "nobody may change his own roles: ask "
                                 "another system admin");
    }

    rc = dgj_json_body_keys(r, keys, &body);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_accounts_user_by_id(r, uid, &u);
    if (rc == DGJ_ERR_NOT_FOUND) {
        return dgj_req_fail(r, DGJ_ERR_NOT_FOUND, "no user %lld",
                            (long long) uid);
    }

    if (rc != DGJ_OK) {
        return rc;
    }

    if (strcmp(u.kind, "staff") != 0) {
        return dgj_req_fail(r, DGJ_ERR_INPUT,
                            "only staff roles are granted here; citizens "
                            "and organisations get theirs by sign-up and "
                            "verification");
    }

    rc = dgj_admin_roles(r, body, &roles, &n, &names);
    if (rc != DGJ_OK) {
        if (strcmp(r->err_code ? r->err_code : "", "duty_conflict") == 0) {
            (void) dgj_accounts_event(r, "role_change_refused", uid,
                                      (int64_t) id.user_id, "",
                                      "separation of duties");
        }

        return rc;
    }

    dgj_clock_format(dgj_clock_now(r->conf), now_s, sizeof(now_s));

    rc = dgj_db_begin(r);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_exec(r, &dgj_admin_sql_revoke_all, DGJ_ARGS(DGJ_I64(uid)),
                     NULL, NULL);

    for (i = 0; rc == DGJ_OK && i < n; i++) {
        rc = dgj_db_exec(r, &dgj_admin_sql_grant,
                         DGJ_ARGS(DGJ_I64(uid), DGJ_I64(roles[i]),
                                  DGJ_I64((int64_t) id.user_id),
                                  DGJ_STR(now_s)),
                         NULL, NULL);
    }

    if (rc == DGJ_OK) {
        rc = dgj_session_end_user(r, uid, "roles_changed", &ended);
    }

    if (rc == DGJ_OK) {
        rc = dgj_accounts_event(r, "roles_changed", uid, (int64_t) id.user_id,
                                "", names);
    }

    if (rc == DGJ_OK) {
        rc = dgj_db_commit(r);
    }

    if (rc != DGJ_OK) {
        dgj_db_rollback(r);
        return rc;
    }

    dgj_session_revoke(r, &ended);

    reply = dgj_json_own(r, json_pack("{s:I, s:s, s:I}",
                                      "id", (json_int_t) uid,
                                      "roles", names,
                                      "sessions_ended",
                                      (json_int_t) ended.n));

    return reply ? dgj_reply_json(r, 200, reply) : DGJ_ERR_NOMEM;
}


/* POST /api/v1/admin/users/{id}/reset {totp?: true}: a new initial password */

dgj_rc_t
dgj_accounts_users_reset(dgj_req_t *r)
{
    int                    new_totp;
    char                   password[32], hash[DGJ_PASSWORD_ENCODED],
                           now_s[24];
    json_t                *body, *reply, *v;
    int64_t                uid;
    dgj_rc_t               rc;
    const char            *secret32;
    dgj_identity_t         id;
    dgj_accounts_user_t    u;
    dgj_session_ended_t    ended;

    static const char *const  keys[] = { "totp", NULL };

    rc = dgj_identity_require(r, &id, dgj_admin_sysadmin);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_accounts_capture_id(r, &uid)) != DGJ_OK
        || (rc = dgj_json_body_keys(r, keys, &body)) != DGJ_OK)
    {
        return rc;
    }

    v = json_object_get(body, "totp");
    if (v != NULL && !json_is_boolean(v)) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"totp\" must be true/false");
    }

    new_totp = json_is_true(v);

    if ((uint64_t) uid == id.user_id) {
        return dgj_req_fail_code(r, DGJ_ERR_FORBIDDEN, "self_change_refused",
                                 "change your own password with "
                                 "POST /api/v1/auth/password");
    }

    rc = dgj_accounts_user_by_id(r, uid, &u);
    if (rc == DGJ_ERR_NOT_FOUND) {
        return dgj_req_fail(r, DGJ_ERR_NOT_FOUND, "no user %lld",
                            (long long) uid);
    }

    if (rc != DGJ_OK) {
        return rc;
    }

    if (u.username == NULL) {
        return dgj_req_fail(r, DGJ_ERR_INPUT,
                            "citizens sign in by SMS or WeChat: no password");
    }

    reply = dgj_json_own(r, json_object());
    if (reply == NULL) {
        return DGJ_ERR_NOMEM;
    }

    secret32 = NULL;

    if ((rc = dgj_accounts_new_password(r, password, sizeof(password),
                                        hash, sizeof(hash))) != DGJ_OK
        || (new_totp
            && (rc = dgj_accounts_new_totp(r, u.username, reply, &secret32))
               != DGJ_OK))
    {
        return rc;
    }

    dgj_clock_format(dgj_clock_now(r->conf), now_s, sizeof(now_s));

    rc = dgj_db_begin(r);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_db_exec(r, &dgj_admin_sql_reset,
                          DGJ_ARGS(DGJ_STR(hash), DGJ_STR(now_s),
                                   secret32 ? DGJ_STR(secret32) : DGJ_NULL,
                                   secret32 ? DGJ_STR(secret32) : DGJ_NULL,
                                   DGJ_STR(now_s), DGJ_I64(uid)),
                          NULL, NULL)) != DGJ_OK
        || (rc = dgj_session_end_user(r, uid, "password_reset", &ended))
           != DGJ_OK
        || (rc = dgj_accounts_event(r, "password_reset", uid,
                                    (int64_t) id.user_id, "",
                                    new_totp ? "with new TOTP" : ""))
           != DGJ_OK
        || (rc = dgj_db_commit(r)) != DGJ_OK)
    {
        dgj_db_rollback(r);
        explicit_bzero(password, sizeof(password));
        return rc;
    }

    dgj_session_revoke(r, &ended);

    json_object_set_new(reply, "id", json_integer(uid));
    dgj_admin_show_password(reply, password, sizeof(password));

    return dgj_reply_json(r, 200, reply);
}


/* GET /api/v1/admin/departments */

dgj_rc_t
dgj_accounts_depts_list(dgj_req_t *r)
{
    return dgj_admin_rows(r, dgj_admin_sysadmin, &dgj_admin_sql_depts,
                          "departments");
}


/* POST /api/v1/admin/departments {code, name, kind, district_id?} */

dgj_rc_t
dgj_accounts_depts_create(dgj_req_t *r)
{
    json_t          *body, *rows;
    uint64_t         did;
    json_int_t       district;
    dgj_rc_t         rc;
    const char      *code, *name, *kind;
    dgj_identity_t   id;

    static const char *const  keys[] = {
        "code", "name", "kind", "district_id", NULL
    };

    rc = dgj_identity_require(r, &id, dgj_admin_sysadmin);
    if (rc != DGJ_OK) {
        return rc;
    }

    district = 0;

    if ((rc = dgj_json_body_keys(r, keys, &body)) != DGJ_OK
        || (rc = dgj_accounts_req_str(r, body, "code", 32, &code)) != DGJ_OK
        || (rc = dgj_accounts_req_str(r, body, "name", 64, &name)) != DGJ_OK
        || (rc = dgj_accounts_req_str(r, body, "kind", 16, &kind)) != DGJ_OK
        || (json_object_get(body, "district_id") != NULL
            && (rc = dgj_json_get_int(r, body, "district_id", 1, 65535,
                                      &district)) != DGJ_OK))
    {
        return rc;
    }

    if (strcmp(kind, "city") != 0 && strcmp(kind, "town") != 0
        && strcmp(kind, "other") != 0)
    {
        return dgj_req_fail(r, DGJ_ERR_INPUT,
                            "\"kind\" must be city, town or other");
    }

    if (strcmp(kind, "town") == 0 && district == 0) {
        return dgj_req_fail(r, DGJ_ERR_INPUT,
                            "a town department needs \"district_id\"");
    }

    if (strspn(code, "abcdefghijklmnopqrstuvwxyz0123456789_.")
        != strlen(code))
    {
        return dgj_req_fail(r, DGJ_ERR_INPUT,
                            "\"code\" may hold a-z, 0-9, '_' and '.' only");
    }

    rc = dgj_db_exec(r, &dgj_admin_sql_new_dept,
                     DGJ_ARGS(DGJ_STR(code), DGJ_STR(name), DGJ_STR(kind),
                              district ? DGJ_I64(district) : DGJ_NULL),
                     NULL, &did);
    if (rc == DGJ_ERR_CONFLICT) {
        dgj_req_fail_clear(r);
        return dgj_req_fail_code(r, DGJ_ERR_CONFLICT, "already_exists",
                                 "a department with this code or name "
                                 "exists");
    }

    if (rc != DGJ_OK) {
        return rc;
    }

    (void) dgj_accounts_event(r, "department_created", 0,
                              (int64_t) id.user_id, code, name);

    rc = dgj_db_rows_json(r, &dgj_admin_sql_dept,
                          DGJ_ARGS(DGJ_I64((int64_t) did)), &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    return dgj_reply_json(r, 201, json_array_get(rows, 0));
}


/* PATCH /api/v1/admin/departments/{id} {name?, active?} */

dgj_rc_t
dgj_accounts_depts_update(dgj_req_t *r)
{
    json_t          *body, *rows, *active;
    int64_t          did;
    dgj_rc_t         rc;
    const char      *name;
    dgj_identity_t   id;

    static const char *const  keys[] = { "name", "active", NULL };

    rc = dgj_identity_require(r, &id, dgj_admin_sysadmin);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_accounts_capture_id(r, &did)) != DGJ_OK
        || (rc = dgj_json_body_keys(r, keys, &body)) != DGJ_OK
        || (rc = dgj_accounts_opt_str(r, body, "name", 64, &name)) != DGJ_OK)
    {
        return rc;
    }

    active = json_object_get(body, "active");
    if (active != NULL && !json_is_boolean(active)) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"active\" must be true/false");
    }

    if (name != NULL && *name == '\0') {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"name\" is empty");
    }

    rc = dgj_db_rows_json(r, &dgj_admin_sql_dept, DGJ_ARGS(DGJ_I64(did)),
                          &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (json_array_size(rows) == 0) {
        return dgj_req_fail(r, DGJ_ERR_NOT_FOUND, "no department %lld",
                            (long long) did);
    }

    rc = dgj_db_exec(r, &dgj_admin_sql_update_dept,
                     DGJ_ARGS(name ? DGJ_STR(name) : DGJ_NULL,
                              active ? DGJ_I64(json_is_true(active))
                                     : DGJ_NULL,
                              DGJ_I64(did)),
                     NULL, NULL);
    if (rc == DGJ_ERR_CONFLICT) {
        dgj_req_fail_clear(r);
        return dgj_req_fail_code(r, DGJ_ERR_CONFLICT, "already_exists",
                                 "a department with this name exists");
    }

    if (rc != DGJ_OK) {
        return rc;
    }

    (void) dgj_accounts_event(r, "department_updated", 0,
                              (int64_t) id.user_id, "", name ? name : "");

    rc = dgj_db_rows_json(r, &dgj_admin_sql_dept, DGJ_ARGS(DGJ_I64(did)),
                          &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    return dgj_reply_json(r, 200, json_array_get(rows, 0));
}


/* GET /api/v1/organisations?status=pending|verified|all&after=&limit= */

dgj_rc_t
dgj_accounts_orgs_list(dgj_req_t *r)
{
    json_t          *rows, *reply;
    int64_t          after, limit;
    dgj_rc_t         rc;
    const char      *status;
    dgj_identity_t   id;

    rc = dgj_identity_require(r, &id, dgj_admin_verifiers);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_req_arg(r, "status", &status)) != DGJ_OK
        || (rc = dgj_accounts_arg_int(r, "after", 0, 0, INT64_MAX, &after))
           != DGJ_OK
        || (rc = dgj_accounts_arg_int(r, "limit", 50, 1, DGJ_ADMIN_PAGE_MAX,
                                      &limit)) != DGJ_OK)
    {
        return rc;
    }

    if (status == NULL) {
        status = "pending";
    }

    if (strcmp(status, "pending") != 0 && strcmp(status, "verified") != 0
        && strcmp(status, "all") != 0)
    {
        return dgj_req_fail(r, DGJ_ERR_INPUT,
                            "\"status\" must be pending, verified or all");
    }

    rc = dgj_db_rows_json(r, &dgj_admin_sql_orgs,
                          DGJ_ARGS(DGJ_STR(status), DGJ_STR(status),
                                   DGJ_I64(after), DGJ_I64(limit)),
                          &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    dgj_admin_mask_rows(r, rows);

    reply = dgj_json_own(r, json_pack("{s:O}", "organisations", rows));

    return reply ? dgj_reply_json(r, 200, reply) : DGJ_ERR_NOMEM;
}


/* POST /api/v1/organisations/{id}/verify */

dgj_rc_t
dgj_accounts_orgs_verify(dgj_req_t *r)
{
    char                  now_s[24];
    json_t               *reply;
    int64_t               uid;
    uint64_t              affected;
    dgj_rc_t              rc;
    dgj_identity_t        id;
    dgj_session_ended_t   ended;

    rc = dgj_identity_require(r, &id, dgj_admin_verifiers);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_accounts_capture_id(r, &uid);
    if (rc != DGJ_OK) {
        return rc;
    }

    dgj_clock_format(dgj_clock_now(r->conf), now_s, sizeof(now_s));

    rc = dgj_db_begin(r);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_exec(r, &dgj_admin_sql_verify,
                     DGJ_ARGS(DGJ_STR(now_s), DGJ_I64((int64_t) id.user_id),
                              DGJ_I64(uid)),
                     &affected, NULL);

    if (rc == DGJ_OK && affected == 0) {
        dgj_db_rollback(r);
        return dgj_req_fail_code(r, DGJ_ERR_CONFLICT, "not_pending",
                                 "no organisation %lld awaits verification",
                                 (long long) uid);
    }

    if ((rc == DGJ_OK
         && (rc = dgj_db_exec(r, &dgj_admin_sql_org_roles,
                              DGJ_ARGS(DGJ_I64((int64_t) id.user_id),
                                       DGJ_STR(now_s), DGJ_I64(uid)),
                              NULL, NULL)) != DGJ_OK)
        || (rc == DGJ_OK
            && (rc = dgj_session_end_user(r, uid, "roles_changed", &ended))
               != DGJ_OK)
        || (rc == DGJ_OK
            && (rc = dgj_accounts_event(r, "org_verified", uid,
                                        (int64_t) id.user_id, "", ""))
               != DGJ_OK)
        || (rc == DGJ_OK && (rc = dgj_db_commit(r)) != DGJ_OK)
        || rc != DGJ_OK)
    {
        dgj_db_rollback(r);
        return rc;
    }

    dgj_session_revoke(r, &ended);

    reply = dgj_json_own(r, json_pack("{s:I, s:s}", "id", (json_int_t) uid,
                                      "roles", "organisation"));

    return reply ? dgj_reply_json(r, 200, reply) : DGJ_ERR_NOMEM;
}


/* GET /api/v1/security/policy */

dgj_rc_t
dgj_accounts_policy_get(dgj_req_t *r)
{
    return dgj_admin_rows(r, dgj_admin_secadmin, &dgj_admin_sql_policy,
                          "policy");
}


/* PUT /api/v1/security/policy {"name": value, ...} */

dgj_rc_t
dgj_accounts_policy_put(dgj_req_t *r)
{
    char             now_s[24], *detail;
    void            *it;
    json_t          *body, *v;
    int64_t          lo, hi;
    uint64_t         affected;
    dgj_rc_t         rc;
    const char      *name;
    dgj_identity_t   id;

    rc = dgj_identity_require(r, &id, dgj_admin_secadmin);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_json_body(r, &body);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (json_object_size(body) == 0) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "no setting given");
    }

    dgj_clock_format(dgj_clock_now(r->conf), now_s, sizeof(now_s));

    /* check every value first: all settings change, or none */
    json_object_foreach(body, name, v) {
        if (!json_is_integer(v)) {
            return dgj_req_fail(r, DGJ_ERR_INPUT, "\"%s\" must be an integer",
                                name);
        }

        rc = dgj_db_row(r, &dgj_admin_sql_policy_range,
                        DGJ_ARGS(DGJ_STR(name)),
                        DGJ_OUTS(DGJ_OUT_I64(&lo), DGJ_OUT_I64(&hi)));
        if (rc == DGJ_ERR_NOT_FOUND) {
            return dgj_req_fail(r, DGJ_ERR_INPUT, "unknown setting \"%s\"",
                                name);
        }

        if (rc != DGJ_OK) {
            return rc;
        }

        if (json_integer_value(v) < lo || json_integer_value(v) > hi) {
            return dgj_req_fail_code(r, DGJ_ERR_INPUT, "out_of_range",
                                     "\"%s\" must be within %lld..%lld",
                                     name, (long long) lo, (long long) hi);
        }
    }

    rc = dgj_db_begin(r);
    if (rc != DGJ_OK) {
        return rc;
    }

    for (it = json_object_iter(body); it != NULL;
         it = json_object_iter_next(body, it))
    {
        name = json_object_iter_key(it);
        v = json_object_iter_value(it);

        rc = dgj_db_exec(r, &dgj_admin_sql_policy_set,
                         DGJ_ARGS(DGJ_I64(json_integer_value(v)),
                                  DGJ_I64((int64_t) id.user_id),
                                  DGJ_STR(now_s), DGJ_STR(name),
                                  DGJ_I64(json_integer_value(v))),
                         &affected, NULL);
        if (rc != DGJ_OK) {
            break;
        }

        detail = dgj_psprintf(r->pool, "%s=%lld", name,
                              (long long) json_integer_value(v));
        rc = dgj_accounts_event(r, "policy_changed", 0, (int64_t) id.user_id,
                                "", detail ? detail : name);
        if (rc != DGJ_OK) {
            break;
        }
    }

    if (rc == DGJ_OK) {
        rc = dgj_db_commit(r);
    }

    if (rc != DGJ_OK) {
        dgj_db_rollback(r);
        return rc;
    }

    return dgj_accounts_policy_get(r);
}


/* GET /api/v1/audit/auth-events?before=&user_id=&limit= */

dgj_rc_t
dgj_accounts_events_list(dgj_req_t *r)
{
    size_t           n;
    json_t          *rows, *reply, *last;
    int64_t          before, user, limit;
    dgj_rc_t         rc;
    dgj_identity_t   id;

    rc = dgj_identity_require(r, &id, dgj_admin_auditor);
    if (rc != DGJ_OK) {
        return rc;
    }

    /* reading the record is itself recorded (docs/audit.md) */
    rc = dgj_req_audit(r, "audit.auth_events", NULL);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_accounts_arg_int(r, "before", INT64_MAX, 1, INT64_MAX,
                                     &before))
        != DGJ_OK
        || (rc = dgj_accounts_arg_int(r, "user_id", 0, 0, INT64_MAX, &user))
           != DGJ_OK
        || (rc = dgj_accounts_arg_int(r, "limit", 100, 1, 500, &limit))
           != DGJ_OK)
    {
        return rc;
    }

    rc = dgj_db_rows_json(r, &dgj_admin_sql_events,
                          DGJ_ARGS(DGJ_I64(before), DGJ_I64(user),
                                   DGJ_I64(user), DGJ_I64(limit)),
                          &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    n = json_array_size(rows);
    last = (n == (size_t) limit)
           ? json_object_get(json_array_get(rows, n - 1), "id") : NULL;

    reply = dgj_json_own(r, json_pack("{s:O, s:O}", "events", rows,
                                      "next_before",
                                      last ? last : json_null()));

    return reply ? dgj_reply_json(r, 200, reply) : DGJ_ERR_NOMEM;
}


/* helpers */


/* The one-time initial password into reply, then wiped from memory. */
static void
dgj_admin_show_password(json_t *reply, char *password, size_t size)
{
    json_object_set_new(reply, "initial_password", json_string(password));
    json_object_set_new(reply, "must_change_password", json_true());
    explicit_bzero(password, size);
}


/* A role check, then every row of sql as {"key": [...]}. */
static dgj_rc_t
dgj_admin_rows(dgj_req_t *r, const char *const *roles, const dgj_sql_t *sql,
    const char *key)
{
    json_t          *rows, *reply;
    dgj_rc_t         rc;
    dgj_identity_t   id;

    rc = dgj_identity_require(r, &id, roles);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_rows_json(r, sql, DGJ_NOARGS, &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    reply = dgj_json_own(r, json_pack("{s:O}", key, rows));

    return reply ? dgj_reply_json(r, 200, reply) : DGJ_ERR_NOMEM;
}


/*
 * body.roles: a non-empty array of distinct staff role names holding at
 * most one duty role.  *ids (r->pool) and *names ("a,b") for the reply.
 */
static dgj_rc_t
dgj_admin_roles(dgj_req_t *r, const json_t *body, int64_t **ids, size_t *n,
    const char **names)
{
    char         *list, *p;
    size_t        i, j, len;
    json_t       *arr, *v;
    int64_t       rid;
    dgj_rc_t      rc;
    const char   *name, *kind, *duty, *first_duty;

    arr = json_object_get(body, "roles");

    if (!json_is_array(arr) || json_array_size(arr) == 0
        || json_array_size(arr) > 12)
    {
        return dgj_req_fail(r, DGJ_ERR_INPUT,
                            "\"roles\" must be a list of 1-12 role names");
    }

    *n = json_array_size(arr);
    *ids = dgj_palloc(r->pool, *n * sizeof(int64_t));
    list = dgj_palloc(r->pool, *n * 33 + 1);
    if (*ids == NULL || list == NULL) {
        return DGJ_ERR_NOMEM;
    }

    p = list;
    first_duty = NULL;

    json_array_foreach(arr, i, v) {
        name = json_string_value(v);
        if (name == NULL || strlen(name) > 32) {
            return dgj_req_fail(r, DGJ_ERR_INPUT,
                                "\"roles\"[%zu] is not a role name", i);
        }

        rc = dgj_db_row(r, &dgj_admin_sql_role, DGJ_ARGS(DGJ_STR(name)),
                        DGJ_OUTS(DGJ_OUT_I64(&rid), DGJ_OUT_STR(&kind),
                                 DGJ_OUT_STR(&duty)));
        if (rc == DGJ_ERR_NOT_FOUND) {
            return dgj_req_fail_code(r, DGJ_ERR_INPUT, "unknown_role",
                                     "\"roles\": unknown role \"%s\"",
                                     name);
        }

        if (rc != DGJ_OK) {
            return rc;
        }

        if (strcmp(kind, "staff") != 0) {
            return dgj_req_fail_code(r, DGJ_ERR_INPUT, "unknown_role",
                                     "\"roles\": \"%s\" is not a staff "
                                     "role", name);
        }

        for (j = 0; j < i; j++) {
            if ((*ids)[j] == rid) {
                return dgj_req_fail(r, DGJ_ERR_INPUT,
                                    "role \"%s\" is listed twice", name);
            }
        }

        if (*duty != '\0') {
            if (first_duty != NULL) {
                return dgj_req_fail_code(r, DGJ_ERR_FORBIDDEN,
                                         "duty_conflict",
                                         "separation of duties: \"%s\" and "
                                         "\"%s\" may not be held by one "
                                         "account", first_duty, name);
            }

            first_duty = name;
        }

        (*ids)[i] = rid;

        len = strlen(name);
        if (p != list) {
            *p++ = ',';
        }

        memcpy(p, name, len);
        p += len;
    }

    *p = '\0';
    *names = list;

    return DGJ_OK;
}


/* body.department_id when present: an active department; else 0 */
static dgj_rc_t
dgj_admin_dept(dgj_req_t *r, const json_t *body, int64_t *dept)
{
    int64_t     found;
    dgj_rc_t    rc;
    json_int_t  v;

    *dept = 0;

    if (json_object_get(body, "department_id") == NULL) {
        return DGJ_OK;
    }

    rc = dgj_json_get_int(r, body, "department_id", 1, UINT32_MAX, &v);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_row(r, &dgj_admin_sql_dept_ok, DGJ_ARGS(DGJ_I64(v)),
                    DGJ_OUTS(DGJ_OUT_I64(&found)));
    if (rc == DGJ_ERR_NOT_FOUND) {
        return dgj_req_fail(r, DGJ_ERR_INPUT,
                            "\"department_id\" %lld is not an active "
                            "department", (long long) v);
    }

    if (rc != DGJ_OK) {
        return rc;
    }

    *dept = v;

    return DGJ_OK;
}


/*
 * A random initial password that passes the staff policy (16 characters
 * from four classes) and its hash.
 */
dgj_rc_t
dgj_accounts_new_password(dgj_req_t *r, char *password, size_t size, char *hash,
    size_t hsize)
{
    size_t                  i;
    unsigned char           rnd[16];
    dgj_password_params_t   params;

    static const char  set[] = "ABCDEFGHJKLMNPQRSTUVWXYZ"
                               "abcdefghijkmnpqrstuvwxyz"
                               "23456789" "!#%+=?@";

    if (size < sizeof(rnd) + 1) {
        return DGJ_ERR_INTERNAL;
    }

    do {
        if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
            return dgj_req_fail(r, DGJ_ERR_INTERNAL, "RAND_bytes failed");
        }

        for (i = 0; i < sizeof(rnd); i++) {
            password[i] = set[rnd[i] % (sizeof(set) - 1)];
        }

        password[sizeof(rnd)] = '\0';

    } while (dgj_password_check(DGJ_PASSWORD_STAFF, password, NULL) != 0);

    explicit_bzero(rnd, sizeof(rnd));

    params = dgj_accounts_argon2_params(r);

    if (dgj_password_hash(&params, password, hash, hsize) != 0) {
        explicit_bzero(password, size);
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "password hash failed");
    }

    return DGJ_OK;
}


/* A new TOTP secret: base32 in *secret32, secret and URI in reply. */
dgj_rc_t
dgj_accounts_new_totp(dgj_req_t *r, const char *username, json_t *reply,
    const char **secret32)
{
    char           *b32, *uri;
    unsigned char   secret[DGJ_TOTP_SECRET_LEN];

    b32 = dgj_palloc(r->pool, dgj_base32_len(sizeof(secret)) + 1);
    if (b32 == NULL) {
        return DGJ_ERR_NOMEM;
    }

    if (dgj_totp_generate_secret(secret, sizeof(secret)) != 0) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "RAND_bytes failed");
    }

    (void) dgj_base32_encode(b32, secret, sizeof(secret));
    uri = dgj_totp_uri(r->pool, NULL, username, secret, sizeof(secret),
                       NULL);
    explicit_bzero(secret, sizeof(secret));

    if (uri == NULL) {
        return DGJ_ERR_NOMEM;
    }

    json_object_set_new(reply, "totp_secret", json_string(b32));
    json_object_set_new(reply, "totp_uri", json_string(uri));
    *secret32 = b32;

    return DGJ_OK;
}


/* Masks phone and real_name in every row: admins see them masked too. */
static void
dgj_admin_mask_rows(dgj_req_t *r, json_t *rows)
{
    size_t   i;
    json_t  *row, *v;

    json_array_foreach(rows, i, row) {
        v = json_object_get(row, "phone");
        if (json_is_string(v)) {
            json_object_set_new(row, "phone",
                                json_string(dgj_ids_mask_phone(r->pool,
                                                json_string_value(v))));
        }

        v = json_object_get(row, "real_name");
        if (json_is_string(v)) {
            json_object_set_new(row, "real_name",
                                json_string(dgj_ids_mask_name(r->pool,
                                                json_string_value(v))));
        }

        v = json_object_get(row, "totp");
        if (v != NULL) {
            json_object_set_new(row, "totp",
                                json_boolean(json_integer_value(v)));
        }
    }
}


