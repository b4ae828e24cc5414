
/*
 * Copyright (C) Daguanjia
 *
 * dgj_accounts_demo.c: the demo accounts `make run` creates at first start,
 * one per role, with generated passwords and TOTP secrets written to a
 * file under var/secrets (never to the repository).  An account that
 * exists already is left alone, so the file is only ever appended to.
 * Run as `dgj-fcgi -c CONFIG -D FILE`, outside the pool.
 */


#include "dgj_core.h"
#include "dgj_accounts.h"
#include "dgj_clock.h"
#include "dgj_conf.h"
#include "dgj_db.h"
#include "dgj_json.h"
#include "dgj_offline.h"
#include "dgj_req.h"

#include <fcntl.h>
#include <unistd.h>


typedef struct {
    const char  *role;
    const char  *username;
    const char  *display;
    const char  *dept;              /* departments.code */
} dgj_demo_staff_t;


static const dgj_demo_staff_t  dgj_demo_staff[] = {
    { "sysadmin",        "demo.sysadmin",   "演示系统管理员", "city.gov_service" },
    { "secadmin",        "demo.secadmin",   "演示安全管理员", "city.gov_service" },
    { "auditor",         "demo.auditor",    "演示审计管理员", "city.gov_service" },
    { "intake",          "demo.intake",     "演示受理员",     "city.gov_service" },
    { "handler",         "demo.handler",    "演示承办人",     "city.housing" },
    { "reviewer",        "demo.reviewer",   "演示审核员",     "city.gov_service" },
    { "supervisor",      "demo.supervisor", "演示督办员",     "city.gov_service" },
    { "project_manager", "demo.pm",         "演示项目管理员", "city.civil_affairs" },
    { "analyst",         "demo.analyst",    "演示分析员",     "city.gov_service" },
    { "ops",             "demo.ops",        "演示运维",       "city.gov_service" },
    { NULL, NULL, NULL, NULL }
};

#define DGJ_DEMO_ORG_USER   "demo.org"
#define DGJ_DEMO_ORG_USCC   "914419001234567881"
#define DGJ_DEMO_PHONE      "13800138000"


static const dgj_sql_t  dgj_demo_sql_exists = {
    "demo.exists",
    "SELECT COUNT(*) FROM users WHERE username = ?"
};

static const dgj_sql_t  dgj_demo_sql_staff = {
    "demo.staff",
    "INSERT INTO users"
    "       (kind, username, display_name, department_id, password_hash,"
    "        password_changed_at, totp_secret, created_at, updated_at)"
    " SELECT 'staff', ?, ?, id, ?, ?, ?, ?, ? FROM departments WHERE code = ?"
};

static const dgj_sql_t  dgj_demo_sql_org = {
    "demo.org",
    "INSERT INTO users"
    "       (kind, username, display_name, password_hash,"
    "        password_changed_at, totp_secret, created_at, updated_at)"
    " VALUES ('organisation', ?, ?, ?, ?, ?, ?, ?)"
};

static const dgj_sql_t  dgj_demo_sql_org_row = {
    "demo.org_row",
    "INSERT INTO organisations"
    "       (user_id, name, uscc, org_kind, verified_at)"
    " VALUES (?, ?, ?, 'company', ?)"
};

static const dgj_sql_t  dgj_demo_sql_citizen = {
    "demo.citizen",
    "INSERT INTO users (kind, display_name, created_at, updated_at)"
    " SELECT 'citizen', '138****8000', ?, ?"
    "  FROM DUAL"
    " WHERE NOT EXISTS (SELECT 1 FROM user_personal WHERE phone = ?)"
};

static const dgj_sql_t  dgj_demo_sql_personal = {
    "demo.personal",
    "INSERT INTO user_personal (user_id, real_name, phone) VALUES (?, ?, ?)"
};

static const dgj_sql_t  dgj_demo_sql_grant = {
    "demo.grant",
    "INSERT INTO user_roles (user_id, role_id, granted_at)"
    " SELECT ?, id, ? FROM roles WHERE name = ?"
};


static dgj_rc_t
dgj_demo_one(dgj_req_t *r, FILE *out, const char *role, const char *username,
    const char *display, const char *dept)
{
    char        password[32], hash[256], now_s[24];
    json_t     *secrets;
    int64_t     n;
    uint64_t    id, affected;
    dgj_rc_t    rc;
    const char  *secret32;

    rc = dgj_db_row(r, &dgj_demo_sql_exists, DGJ_ARGS(DGJ_STR(username)),
                    DGJ_OUTS(DGJ_OUT_I64(&n)));
    if (rc != DGJ_OK || n > 0) {
        return rc;
    }

    secrets = dgj_json_own(r, json_object());
    if (secrets == NULL) {
        return DGJ_ERR_NOMEM;
    }

    if ((rc = dgj_accounts_new_password(r, password, sizeof(password), hash,
                                        sizeof(hash))) != DGJ_OK
        || (rc = dgj_accounts_new_totp(r, username, secrets, &secret32))
           != DGJ_OK)
    {
        return rc;
    }

    dgj_clock_format(dgj_clock_now(r->conf), now_s, sizeof(now_s));

    rc = dgj_db_begin(r);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (dept != NULL) {
        rc = dgj_db_exec(r, &dgj_demo_sql_staff,
                         DGJ_ARGS(DGJ_STR(username), DGJ_STR(display),
                                  DGJ_STR(hash), DGJ_STR(now_s),
                                  DGJ_STR(secret32), DGJ_STR(now_s),
                                  DGJ_STR(now_s), DGJ_STR(dept)),
                         &affected, &id);
        if (rc == DGJ_OK && affected != 1) {
            rc = dgj_req_fail(r, DGJ_ERR_INTERNAL, "no department %s", dept);
        }

    } else {
        rc = dgj_db_exec(r, &dgj_demo_sql_org,
                         DGJ_ARGS(DGJ_STR(username), DGJ_STR(display),
                                  DGJ_STR(hash), DGJ_STR(now_s),
                                  DGJ_STR(secret32), DGJ_STR(now_s),
                                  DGJ_STR(now_s)),
                         NULL, &id);
        if (rc == DGJ_OK) {
            rc = dgj_db_exec(r, &dgj_demo_sql_org_row,
                             DGJ_ARGS(DGJ_I64((int64_t) id), DGJ_STR(display),
                                      DGJ_STR(DGJ_DEMO_ORG_USCC),
                                      DGJ_STR(now_s)),
                             NULL, NULL);
        }
    }

    if (rc == DGJ_OK) {
        rc = dgj_db_exec(r, &dgj_demo_sql_grant,
                         DGJ_ARGS(DGJ_I64((int64_t) id), DGJ_STR(now_s),
                                  DGJ_STR(role)),
                         NULL, NULL);
    }

    if (rc == DGJ_OK) {
        rc = dgj_accounts_event(r, "user_created", (int64_t) id, 0, username,
                                "demo data");
    }

    if (rc == DGJ_OK) {
        rc = dgj_db_commit(r);
    }

    if (rc != DGJ_OK) {
        dgj_db_rollback(r);
        explicit_bzero(password, sizeof(password));
        return rc;
    }

    fprintf(out, "%-16s %-16s %-18s %s\n", role, username, password,
            secret32);
    explicit_bzero(password, sizeof(password));

    return DGJ_OK;
}


static dgj_rc_t
dgj_demo_citizen(dgj_req_t *r, FILE *out)
{
    char      now_s[24];
    uint64_t  id, affected;
    dgj_rc_t  rc;

    dgj_clock_format(dgj_clock_now(r->conf), now_s, sizeof(now_s));

    rc = dgj_db_begin(r);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_exec(r, &dgj_demo_sql_citizen,
                     DGJ_ARGS(DGJ_STR(now_s), DGJ_STR(now_s),
                              DGJ_STR(DGJ_DEMO_PHONE)),
                     &affected, &id);

    if (rc == DGJ_OK && affected == 1) {
        rc = dgj_db_exec(r, &dgj_demo_sql_personal,
                         DGJ_ARGS(DGJ_I64((int64_t) id), DGJ_STR("陈小明"),
                                  DGJ_STR(DGJ_DEMO_PHONE)),
                         NULL, NULL);
        if (rc == DGJ_OK) {
            rc = dgj_db_exec(r, &dgj_demo_sql_grant,
                             DGJ_ARGS(DGJ_I64((int64_t) id), DGJ_STR(now_s),
                                      DGJ_STR("citizen")),
                             NULL, NULL);
        }

        if (rc == DGJ_OK) {
            fprintf(out, "%-16s %-16s %-18s %s\n", "citizen", DGJ_DEMO_PHONE,
                    "(SMS code)", "-");
        }
    }

    if (rc == DGJ_OK) {
        rc = dgj_db_commit(r);
    }

    if (rc != DGJ_OK) {
        dgj_db_rollback(r);
    }

    return rc;
}


/* all demo accounts, in one offline request */
static dgj_rc_t
dgj_demo_all(dgj_req_t *r, void *data)
{
    FILE                    *out;
    dgj_rc_t                 rc;
    const dgj_demo_staff_t  *s;

    out = data;

    for (s = dgj_demo_staff; s->role != NULL; s++) {
        rc = dgj_demo_one(r, out, s->role, s->username, s->display, s->dept);
        if (rc != DGJ_OK) {
            return rc;
        }
    }

    rc = dgj_demo_one(r, out, "organisation", DGJ_DEMO_ORG_USER,
                      "东莞市演示科技有限公司", NULL);
    if (rc != DGJ_OK) {
        return rc;
    }

    return dgj_demo_citizen(r, out);
}


int
dgj_accounts_demo(const dgj_conf_t *conf, const char *path)
{
    int        fd, ret;
    FILE      *out;
    dgj_rc_t   rc;

    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd == -1) {
        fprintf(stderr, "dgj-fcgi: %s: %s\n", path, strerror(errno));
        return -1;
    }

    out = fdopen(fd, "a");
    if (out == NULL) {
        fprintf(stderr, "dgj-fcgi: %s: %s\n", path, strerror(errno));
        close(fd);
        return -1;
    }

    rc = dgj_offline_run(conf, dgj_demo_all, out);
    ret = (rc == DGJ_OK) ? 0 : -1;

    if (fclose(out) != 0) {
        fprintf(stderr, "dgj-fcgi: %s: %s\n", path, strerror(errno));
        ret = -1;
    }

    return ret;
}
