
/*
 * Copyright (C) Daguanjia
 *
 * dgj_reference_admin.c: the system admin's writes to reference data:
 * the holiday calendar (calendar_years, calendar_days) and the dispatch
 * catalogue (categories.default_department_id, active).  Handling times
 * change only through deadline rule versions
 * (dgj_workflow_rules_admin.c), which take effect from a date.  nginx
 * refuses every role but sysadmin on /api/v1/admin/; so does each
 * handler.  The workers' calendar caches see a changed day at their next
 * check (dgj_workflow_deadline.c).
 */


#include "dgj_core.h"
#include "dgj_accounts.h"
#include "dgj_calendar.h"
#include "dgj_db.h"
#include "dgj_identity.h"
#include "dgj_json.h"
#include "dgj_reference_admin.h"
#include "dgj_req.h"


#define DGJ_REFADM_NAME_MAX     32 * 4      /* calendar_days.name, bytes */
#define DGJ_REFADM_SOURCE_MAX   255         /* calendar_years.source */
#define DGJ_REFADM_YEAR_MIN     2000        /* ck_calendar_years_year */
#define DGJ_REFADM_YEAR_MAX     2100


static dgj_rc_t dgj_refadm_day(dgj_req_t *r);
static dgj_rc_t dgj_refadm_day_put(dgj_req_t *r);
static dgj_rc_t dgj_refadm_day_delete(dgj_req_t *r);
static dgj_rc_t dgj_refadm_year_patch(dgj_req_t *r);
static dgj_rc_t dgj_refadm_category_patch(dgj_req_t *r);

static dgj_rc_t dgj_refadm_date(dgj_req_t *r, char *day, int *year,
    int *weekday);


const dgj_route_t  dgj_reference_admin_routes[] = {

    { DGJ_PUT | DGJ_DELETE, "/api/v1/admin/calendar/days/{date}",
      dgj_refadm_day },
    { DGJ_PATCH, "/api/v1/admin/calendar/years/{year}",
      dgj_refadm_year_patch },
    { DGJ_PATCH, "/api/v1/admin/categories/{id}",
      dgj_refadm_category_patch },

      dgj_null_route
};


static const char *const  dgj_refadm_roles[] = { "sysadmin", NULL };


static const dgj_sql_t  dgj_refadm_sql_year_add = {
    "refadm.year_add",
    "INSERT IGNORE INTO calendar_years (year, provisional, source)"
    " VALUES (?, 1, '系统管理员录入')"
};

static const dgj_sql_t  dgj_refadm_sql_day_put = {
    "refadm.day_put",
    "INSERT INTO calendar_days (day, kind, name, provisional)"
    " SELECT ?, ?, ?, y.provisional FROM calendar_years y WHERE y.year = ?"
    " ON DUPLICATE KEY UPDATE kind = VALUES(kind), name = VALUES(name)"
};

static const dgj_sql_t  dgj_refadm_sql_day_delete = {
    "refadm.day_delete",
    "DELETE FROM calendar_days WHERE day = ?"
};

static const dgj_sql_t  dgj_refadm_sql_year_set = {
    "refadm.year_set",
    "UPDATE calendar_years"
    "   SET provisional = ?, source = COALESCE(?, source)"
    " WHERE year = ?"
};

static const dgj_sql_t  dgj_refadm_sql_year_days = {
    "refadm.year_days",
    "UPDATE calendar_days SET provisional = ? WHERE year = ?"
};

static const dgj_sql_t  dgj_refadm_sql_year_get = {
    "refadm.year_get",
    "SELECT year, provisional, source FROM calendar_years WHERE year = ?"
};

static const dgj_sql_t  dgj_refadm_sql_category = {
    "refadm.category",
    "SELECT level FROM categories WHERE id = ?"
};

static const dgj_sql_t  dgj_refadm_sql_department = {
    "refadm.department",
    "SELECT active FROM departments WHERE id = ?"
};

static const dgj_sql_t  dgj_refadm_sql_category_set = {
    "refadm.category_set",
    "UPDATE categories"
    "   SET default_department_id = IF(?, ?, default_department_id),"
    "       active = COALESCE(?, active)"
    " WHERE id = ?"
};

static const dgj_sql_t  dgj_refadm_sql_category_get = {
    "refadm.category_get",
    "SELECT c.id, c.code, c.name, c.level, c.appeal_type, c.handling_days,"
    "       c.active, c.default_department_id AS department_id,"
    "       d.name AS department_name"
    "  FROM categories c"
    "  LEFT JOIN departments d ON d.id = c.default_department_id"
    " WHERE c.id = ?"
};


/*
 * PUT /api/v1/admin/calendar/days/{date} {kind, name}: a public holiday
 * or a swapped working weekend day (调休); DELETE makes it an ordinary
 * day again.  A year not yet loaded is added, provisional.
 */

static dgj_rc_t
dgj_refadm_day(dgj_req_t *r)
{
    if (strcmp(r->method, "DELETE") == 0) {
        return dgj_refadm_day_delete(r);
    }

    return dgj_refadm_day_put(r);
}


static dgj_rc_t
dgj_refadm_day_put(dgj_req_t *r)
{
    int              year, weekday;
    char             day[11];
    json_t          *body, *reply;
    dgj_rc_t         rc;
    uint64_t         n;
    const char      *kind, *name;
    dgj_identity_t   id;

    static const char *const  keys[] = { "kind", "name", NULL };

    rc = dgj_identity_require(r, &id, dgj_refadm_roles);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_refadm_date(r, day, &year, &weekday)) != DGJ_OK
        || (rc = dgj_json_body_keys(r, keys, &body)) != DGJ_OK
        || (rc = dgj_json_get_str(r, body, "kind", &kind)) != DGJ_OK
        || (rc = dgj_accounts_opt_str(r, body, "name", DGJ_REFADM_NAME_MAX,
                                      &name)) != DGJ_OK)
    {
        return rc;
    }

    if (strcmp(kind, "holiday") != 0 && strcmp(kind, "workday") != 0) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"kind\" must be holiday or "
                            "workday");
    }

    if (name != NULL && (name[0] == '\0' || strpbrk(name, "\r\n\t"))) {
        name = NULL;
    }

    if (kind[0] == 'h' && name == NULL) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "name_required",
                                 "a holiday needs its \"name\" (春节, ...)");
    }

    /* ck_calendar_days_workday_weekend: Monday to Friday work anyway */
    if (kind[0] == 'w' && weekday < 6) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "workday_not_weekend",
                                 "%s is a Monday to Friday: only a weekend "
                                 "day can be a swapped working day", day);
    }

    rc = dgj_db_begin(r);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_exec(r, &dgj_refadm_sql_year_add, DGJ_ARGS(DGJ_I64(year)),
                     NULL, NULL);
    if (rc != DGJ_OK) {
        goto failed;
    }

    rc = dgj_db_exec(r, &dgj_refadm_sql_day_put,
                     DGJ_ARGS(DGJ_STR(day), DGJ_STR(kind),
                              name ? DGJ_STR(name) : DGJ_NULL,
                              DGJ_I64(year)),
                     &n, NULL);
    if (rc != DGJ_OK) {
        goto failed;
    }

    rc = dgj_db_commit(r);
    if (rc != DGJ_OK) {
        goto failed;
    }

    rc = dgj_req_audit(r, "calendar.day_set", day);
    if (rc != DGJ_OK) {
        return rc;
    }

    reply = dgj_json_own(r, json_pack("{s:s, s:s, s:s?}", "date", day,
                                      "kind", kind, "name", name));
    if (reply == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the reply");
    }

    return dgj_reply_json(r, 200, reply);

failed:

    dgj_db_rollback(r);

    return rc;
}


static dgj_rc_t
dgj_refadm_day_delete(dgj_req_t *r)
{
    int              year, weekday;
    char             day[11];
    dgj_rc_t         rc;
    uint64_t         n;
    dgj_identity_t   id;

    rc = dgj_identity_require(r, &id, dgj_refadm_roles);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_refadm_date(r, day, &year, &weekday);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_exec(r, &dgj_refadm_sql_day_delete, DGJ_ARGS(DGJ_STR(day)),
                     &n, NULL);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (n == 0) {
        return dgj_req_fail(r, DGJ_ERR_NOT_FOUND, "%s is an ordinary day "
                            "already", day);
    }

    rc = dgj_req_audit(r, "calendar.day_clear", day);
    if (rc != DGJ_OK) {
        return rc;
    }

    return dgj_reply(r, 204, "application/json", "", 0);
}


/*
 * PATCH /api/v1/admin/calendar/years/{year} {provisional, source?}: the
 * official arrangement has been entered (or is being revised).
 */

static dgj_rc_t
dgj_refadm_year_patch(dgj_req_t *r)
{
    json_t          *body, *v, *rows;
    int64_t          year;
    dgj_rc_t         rc;
    const char      *s, *source;
    dgj_identity_t   id;

    static const char *const  keys[] = { "provisional", "source", NULL };

    rc = dgj_identity_require(r, &id, dgj_refadm_roles);
    if (rc != DGJ_OK) {
        return rc;
    }

    s = dgj_req_capture(r, "year");
    year = (s != NULL && strlen(s) == 4) ? strtol(s, NULL, 10) : 0;

    if (year < DGJ_REFADM_YEAR_MIN || year > DGJ_REFADM_YEAR_MAX) {
        return dgj_req_fail(r, DGJ_ERR_NOT_FOUND, "no such calendar year");
    }

    if ((rc = dgj_json_body_keys(r, keys, &body)) != DGJ_OK
        || (rc = dgj_accounts_opt_str(r, body, "source",
                                      DGJ_REFADM_SOURCE_MAX, &source))
           != DGJ_OK)
    {
        return rc;
    }

    v = json_object_get(body, "provisional");
    if (!json_is_boolean(v)) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"provisional\" must be "
                            "true or false");
    }

    rc = dgj_db_begin(r);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_db_exec(r, &dgj_refadm_sql_year_set,
                          DGJ_ARGS(DGJ_I64(json_is_true(v)),
                                   source ? DGJ_STR(source) : DGJ_NULL,
                                   DGJ_I64(year)),
                          NULL, NULL)) != DGJ_OK
        || (rc = dgj_db_exec(r, &dgj_refadm_sql_year_days,
                             DGJ_ARGS(DGJ_I64(json_is_true(v)),
                                      DGJ_I64(year)),
                             NULL, NULL)) != DGJ_OK
        || (rc = dgj_db_commit(r)) != DGJ_OK)
    {
        dgj_db_rollback(r);
        return rc;
    }

    rc = dgj_db_rows_json(r, &dgj_refadm_sql_year_get,
                          DGJ_ARGS(DGJ_I64(year)), &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (json_array_size(rows) != 1) {
        return dgj_req_fail(r, DGJ_ERR_NOT_FOUND, "year %lld is not loaded",
                            (long long) year);
    }

    rc = dgj_req_audit(r, "calendar.year_set", s);
    if (rc != DGJ_OK) {
        return rc;
    }

    return dgj_reply_json(r, 200, json_array_get(rows, 0));
}


/*
 * PATCH /api/v1/admin/categories/{id} {default_department_id?, active?}:
 * the dispatch catalogue (派单目录) of a leaf category.
 */

static dgj_rc_t
dgj_refadm_category_patch(dgj_req_t *r)
{
    json_t          *body, *v, *rows;
    int64_t          cid, level, active, dept;
    dgj_rc_t         rc;
    json_int_t       n;
    dgj_identity_t   id;

    static const char *const  keys[] = {
        "default_department_id", "active", NULL
    };

    rc = dgj_identity_require(r, &id, dgj_refadm_roles);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_accounts_capture_id(r, &cid)) != DGJ_OK
        || (rc = dgj_json_body_keys(r, keys, &body)) != DGJ_OK)
    {
        return rc;
    }

    rc = dgj_db_row(r, &dgj_refadm_sql_category, DGJ_ARGS(DGJ_I64(cid)),
                    DGJ_OUTS(DGJ_OUT_I64(&level)));
    if (rc == DGJ_ERR_NOT_FOUND) {
        return dgj_req_fail(r, DGJ_ERR_NOT_FOUND, "no category %lld",
                            (long long) cid);
    }

    if (rc != DGJ_OK) {
        return rc;
    }

    dept = 0;

    if (json_object_get(body, "default_department_id") != NULL) {
        rc = dgj_json_get_int(r, body, "default_department_id", 1,
                              UINT32_MAX, &n);
        if (rc != DGJ_OK) {
            return rc;
        }

        if (level != 2) {
            return dgj_req_fail_code(r, DGJ_ERR_INPUT, "category_not_leaf",
                                     "category %lld is a topic: only leaf "
                                     "categories are dispatched",
                                     (long long) cid);
        }

        rc = dgj_db_row(r, &dgj_refadm_sql_department, DGJ_ARGS(DGJ_I64(n)),
                        DGJ_OUTS(DGJ_OUT_I64(&active)));
        if (rc == DGJ_ERR_NOT_FOUND || (rc == DGJ_OK && !active)) {
            dgj_req_fail_clear(r);
            return dgj_req_fail_code(r, DGJ_ERR_INPUT, "unknown_department",
                                     "no active department %lld",
                                     (long long) n);
        }

        if (rc != DGJ_OK) {
            return rc;
        }

        dept = n;
    }

    v = json_object_get(body, "active");
    if (v != NULL && !json_is_boolean(v)) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"active\" must be true or "
                            "false");
    }

    rc = dgj_db_exec(r, &dgj_refadm_sql_category_set,
                     DGJ_ARGS(DGJ_I64(dept != 0), DGJ_I64(dept),
                              v ? DGJ_I64(json_is_true(v)) : DGJ_NULL,
                              DGJ_I64(cid)),
                     NULL, NULL);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_rows_json(r, &dgj_refadm_sql_category_get,
                          DGJ_ARGS(DGJ_I64(cid)), &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (json_array_size(rows) != 1) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "category not read back");
    }

    rc = dgj_req_audit(r, "category.update",
                       json_string_value(json_object_get(
                           json_array_get(rows, 0), "code")));
    if (rc != DGJ_OK) {
        return rc;
    }

    return dgj_reply_json(r, 200, json_array_get(rows, 0));
}


/* the {date} segment: a real date YYYY-MM-DD in 2000..2100 */
static dgj_rc_t
dgj_refadm_date(dgj_req_t *r, char *day, int *year, int *weekday)
{
    int          m, d;
    const char  *s;
    dgj_date_t   date;

    s = dgj_req_capture(r, "date");

    if (s == NULL || dgj_date_parse(s, strlen(s), &date) != 0) {
        return dgj_req_fail(r, DGJ_ERR_NOT_FOUND, "not a date YYYY-MM-DD");
    }

    dgj_date_to_ymd(date, year, &m, &d);

    if (*year < DGJ_REFADM_YEAR_MIN || *year > DGJ_REFADM_YEAR_MAX) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "out_of_range",
                                 "the calendar holds the years %d to %d",
                                 DGJ_REFADM_YEAR_MIN, DGJ_REFADM_YEAR_MAX);
    }

    dgj_date_format(date, day);
    *weekday = dgj_date_weekday(date);

    return DGJ_OK;
}
