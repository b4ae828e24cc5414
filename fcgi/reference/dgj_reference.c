
/*
 * Copyright (C) Daguanjia
 *
 * dgj_reference.c: the reference data endpoints (health, districts,
 * departments, categories, overview, calendar/{year}, calendar/due) and
 * the SQL they run.  Nothing else reads districts, departments,
 * categories, calendar_years or calendar_days.
 */


#include "dgj_core.h"
#include "dgj_calendar.h"
#include "dgj_db.h"
#include "dgj_json.h"
#include "dgj_reference.h"
#include "dgj_req.h"
#include "dgj_router.h"

#include <time.h>


/* calendar/due searches this many years past the year of "from" */
#define DGJ_REFERENCE_DUE_YEARS  2
#define DGJ_REFERENCE_DUE_MAX    365
#define DGJ_REFERENCE_YEAR_MIN   1900
#define DGJ_REFERENCE_YEAR_MAX   2999


static dgj_rc_t dgj_reference_health(dgj_req_t *r);
static dgj_rc_t dgj_reference_districts(dgj_req_t *r);
static dgj_rc_t dgj_reference_departments(dgj_req_t *r);
static dgj_rc_t dgj_reference_categories(dgj_req_t *r);
static dgj_rc_t dgj_reference_overview(dgj_req_t *r);
static dgj_rc_t dgj_reference_calendar_year(dgj_req_t *r);
static dgj_rc_t dgj_reference_calendar_due(dgj_req_t *r);

static dgj_rc_t dgj_reference_items(dgj_req_t *r, const dgj_sql_t *sql);
static dgj_rc_t dgj_reference_calendar(dgj_req_t *r, dgj_date_t first,
    dgj_date_t last, json_t **rows, dgj_calendar_t *cal);
static dgj_rc_t dgj_reference_bool(dgj_req_t *r, json_t *obj,
    const char *key);
static dgj_date_t dgj_reference_today(void);


/* tables: routes, then SQL */

const dgj_route_t  dgj_reference_routes[] = {

    { DGJ_GET,  "/api/v1/health",          dgj_reference_health },
    { DGJ_GET,  "/api/v1/districts",       dgj_reference_districts },
    { DGJ_GET,  "/api/v1/departments",     dgj_reference_departments },
    { DGJ_GET,  "/api/v1/categories",      dgj_reference_categories },
    { DGJ_GET,  "/api/v1/overview",        dgj_reference_overview },
    { DGJ_POST, "/api/v1/calendar/due",    dgj_reference_calendar_due },
    { DGJ_GET,  "/api/v1/calendar/{year}", dgj_reference_calendar_year },

      dgj_null_route
};


static const dgj_sql_t  dgj_reference_sql_ping = {
    "reference.ping",
    "SELECT 1"
};

static const dgj_sql_t  dgj_reference_sql_districts = {
    "reference.districts",
    "SELECT id, code, name, kind"
    "  FROM districts"
    " ORDER BY sort_order, id"
};

static const dgj_sql_t  dgj_reference_sql_departments = {
    "reference.departments",
    "SELECT id, code, name, kind, district_id"
    "  FROM departments"
    " WHERE active = 1"
    " ORDER BY sort_order, id"
};

/*
 * One ordered query for the two-level tree: each active top-level row
 * is followed by its active leaves.  Leaves of an inactive parent are
 * left out, like their parent.
 */
static const dgj_sql_t  dgj_reference_sql_categories = {
    "reference.categories",
    "SELECT c.id, c.code, c.name, c.level, c.parent_id, c.appeal_type,"
    "       c.handling_days, c.is_public,"
    "       d.id AS department_id, d.name AS department_name"
    "  FROM categories c"
    "  LEFT JOIN categories p ON p.id = c.parent_id"
    "  LEFT JOIN departments d"
    "         ON d.id = c.default_department_id AND d.active = 1"
    " WHERE c.active = 1"
    "   AND ((c.level = 1 AND c.parent_id IS NULL)"
    "        OR (c.level = 2 AND p.level = 1 AND p.active = 1))"
    " ORDER BY COALESCE(p.sort_order, c.sort_order), COALESCE(p.id, c.id),"
    "          c.level, c.sort_order, c.id"
};

static const dgj_sql_t  dgj_reference_sql_district_kinds = {
    "reference.district_kinds",
    "SELECT kind, COUNT(*) AS n"
    "  FROM districts"
    " GROUP BY kind"
};

static const dgj_sql_t  dgj_reference_sql_department_count = {
    "reference.department_count",
    "SELECT COUNT(*)"
    "  FROM departments"
    " WHERE active = 1"
};

static const dgj_sql_t  dgj_reference_sql_category_count = {
    "reference.category_count",
    "SELECT COUNT(CASE WHEN c.level = 1 THEN 1 END),"
    "       COUNT(CASE WHEN c.level = 2 THEN 1 END)"
    "  FROM categories c"
    "  LEFT JOIN categories p ON p.id = c.parent_id"
    " WHERE c.active = 1"
    "   AND ((c.level = 1 AND c.parent_id IS NULL)"
    "        OR (c.level = 2 AND p.level = 1 AND p.active = 1))"
};

/* this month's appeals by their tracking numbers (DG + YYYYMMDD + seq),
 * a range of the unique index: the portal's live figures */
static const dgj_sql_t  dgj_reference_sql_month = {
    "reference.month_figures",
    "SELECT COUNT(*),"
    "       COUNT(CASE WHEN state = 'closed' THEN 1 END),"
    "       COUNT(rating),"
    "       COUNT(CASE WHEN rating BETWEEN 1 AND 3 THEN 1 END)"
    "  FROM appeals"
    " WHERE tracking_no >= ? AND tracking_no < ?"
};

static const dgj_sql_t  dgj_reference_sql_years = {
    "reference.calendar_years",
    "SELECT year, provisional"
    "  FROM calendar_years"
    " ORDER BY year"
};

static const dgj_sql_t  dgj_reference_sql_year = {
    "reference.calendar_year",
    "SELECT provisional"
    "  FROM calendar_years"
    " WHERE year = ?"
};

static const dgj_sql_t  dgj_reference_sql_days = {
    "reference.calendar_days",
    "SELECT day AS date, kind, name"
    "  FROM calendar_days"
    " WHERE day BETWEEN ? AND ?"
    " ORDER BY day"
};


static dgj_rc_t
dgj_reference_health(dgj_req_t *r)
{
    json_t    *out;
    int64_t    one;
    dgj_rc_t   rc;

    rc = dgj_db_row(r, &dgj_reference_sql_ping, DGJ_NOARGS,
                    DGJ_OUTS(DGJ_OUT_I64(&one)));
    if (rc != DGJ_OK) {
        return rc;
    }

    out = dgj_json_own(r, json_pack("{s:s, s:s, s:s}", "status", "ok",
                                    "db", "ok", "version", DGJ_VERSION));
    if (out == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the reply");
    }

    return dgj_reply_json(r, 200, out);
}


static dgj_rc_t
dgj_reference_districts(dgj_req_t *r)
{
    return dgj_reference_items(r, &dgj_reference_sql_districts);
}


static dgj_rc_t
dgj_reference_departments(dgj_req_t *r)
{
    return dgj_reference_items(r, &dgj_reference_sql_departments);
}


static dgj_rc_t
dgj_reference_categories(dgj_req_t *r)
{
    size_t       i, ntop, nleaf;
    json_t      *rows, *row, *items, *top, *children, *leaf, *dept, *out;
    dgj_rc_t     rc;
    json_int_t   top_id;

    rc = dgj_db_rows_json(r, &dgj_reference_sql_categories, DGJ_NOARGS,
                          &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    items = dgj_json_own(r, json_array());
    if (items == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the reply");
    }

    children = NULL;
    top_id = -1;
    ntop = 0;
    nleaf = 0;

    json_array_foreach(rows, i, row) {

        if (json_integer_value(json_object_get(row, "level")) == 1) {
            top_id = json_integer_value(json_object_get(row, "id"));

            top = json_pack("{s:O, s:O, s:O, s:[]}",
                            "id", json_object_get(row, "id"),
                            "code", json_object_get(row, "code"),
                            "name", json_object_get(row, "name"),
                            "children");
            if (top == NULL || json_array_append_new(items, top) != 0) {
                return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for "
                                    "the reply");
            }

            children = json_object_get(top, "children");
            ntop++;
            continue;
        }

        /* the ORDER BY puts every leaf right after its parent */
        if (children == NULL
            || json_integer_value(json_object_get(row, "parent_id"))
               != top_id)
        {
            return dgj_req_fail(r, DGJ_ERR_INTERNAL, "category rows out "
                                "of order");
        }

        if (json_is_null(json_object_get(row, "department_id"))) {
            dept = json_null();

        } else {
            dept = json_pack("{s:O, s:O}",
                             "id", json_object_get(row, "department_id"),
                             "name", json_object_get(row, "department_name"));
        }

        leaf = json_pack("{s:O, s:O, s:O, s:O, s:O, s:b, s:o}",
                         "id", json_object_get(row, "id"),
                         "code", json_object_get(row, "code"),
                         "name", json_object_get(row, "name"),
                         "appeal_type", json_object_get(row, "appeal_type"),
                         "handling_days",
                         json_object_get(row, "handling_days"),
                         "is_public",
                         json_integer_value(json_object_get(row,
                                                            "is_public"))
                         != 0,
                         "default_department", dept);
        if (leaf == NULL || json_array_append_new(children, leaf) != 0) {
            return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the reply");
        }

        nleaf++;
    }

    out = dgj_json_own(r, json_pack("{s:O, s:I, s:I}", "items", items,
                                    "count_top", (json_int_t) ntop,
                                    "count_leaves", (json_int_t) nleaf));
    if (out == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the reply");
    }

    return dgj_reply_json(r, 200, out);
}


static dgj_rc_t
dgj_reference_overview(dgj_req_t *r)
{
    char             date[11];
    size_t           i;
    json_t          *kinds, *years, *row, *out;
    int64_t          depts, tops, leaves, m_total, m_closed, m_rated, m_good;
    char             m_from[11], m_to[11];
    dgj_rc_t         rc;
    json_int_t       municipal, subdistricts, towns, n;
    dgj_date_t       today;
    const char      *kind;
    dgj_calendar_t   cal;

    rc = dgj_db_rows_json(r, &dgj_reference_sql_district_kinds, DGJ_NOARGS,
                          &kinds);
    if (rc != DGJ_OK) {
        return rc;
    }

    municipal = 0;
    subdistricts = 0;
    towns = 0;

    json_array_foreach(kinds, i, row) {
        kind = json_string_value(json_object_get(row, "kind"));
        n = json_integer_value(json_object_get(row, "n"));

        if (kind == NULL) {
            continue;
        }

        if (strcmp(kind, "municipal") == 0) {
            municipal = n;

        } else if (strcmp(kind, "subdistrict") == 0) {
            subdistricts = n;

        } else if (strcmp(kind, "town") == 0) {
            towns = n;
        }
    }

    rc = dgj_db_row(r, &dgj_reference_sql_department_count, DGJ_NOARGS,
                    DGJ_OUTS(DGJ_OUT_I64(&depts)));
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_row(r, &dgj_reference_sql_category_count, DGJ_NOARGS,
                    DGJ_OUTS(DGJ_OUT_I64(&tops), DGJ_OUT_I64(&leaves)));
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_rows_json(r, &dgj_reference_sql_years, DGJ_NOARGS, &years);
    if (rc != DGJ_OK) {
        return rc;
    }

    json_array_foreach(years, i, row) {
        rc = dgj_reference_bool(r, row, "provisional");
        if (rc != DGJ_OK) {
            return rc;
        }
    }

    today = dgj_reference_today();

    rc = dgj_reference_calendar(r, today, today, NULL, &cal);
    if (rc != DGJ_OK) {
        return rc;
    }

    dgj_date_format(today, date);

    /* "DG202611" + "01" up to (not including) "DG202611" + "32" */
    snprintf(m_from, sizeof(m_from), "DG%.4s%.2s01", date, date + 5);
    snprintf(m_to, sizeof(m_to), "DG%.4s%.2s32", date, date + 5);

    rc = dgj_db_row(r, &dgj_reference_sql_month,
                    DGJ_ARGS(DGJ_STR(m_from), DGJ_STR(m_to)),
                    DGJ_OUTS(DGJ_OUT_I64(&m_total), DGJ_OUT_I64(&m_closed),
                             DGJ_OUT_I64(&m_rated), DGJ_OUT_I64(&m_good)));
    if (rc != DGJ_OK) {
        return rc;
    }

    out = dgj_json_own(r, json_pack(
              "{s:{s:I, s:I, s:I}, s:I, s:{s:I, s:I}, s:O,"
              " s:{s:s, s:b}, s:{s:I, s:I, s:I, s:I}}",
              "districts",
                  "municipal", municipal,
                  "subdistricts", subdistricts,
                  "towns", towns,
              "departments", (json_int_t) depts,
              "categories",
                  "top", (json_int_t) tops,
                  "leaves", (json_int_t) leaves,
              "calendar", years,
              "today",
                  "date", date,
                  "working_day", dgj_calendar_is_working_day(&cal, today),
              "month",
                  "appeals", (json_int_t) m_total,
                  "closed", (json_int_t) m_closed,
                  "rated", (json_int_t) m_rated,
                  "satisfied", (json_int_t) m_good));
    if (out == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the reply");
    }

    return dgj_reply_json(r, 200, out);
}


static dgj_rc_t
dgj_reference_calendar_year(dgj_req_t *r)
{
    json_t          *days, *out;
    int64_t          provisional;
    dgj_rc_t         rc;
    const char      *s;
    dgj_date_t       first, last;
    dgj_calendar_t   cal;
    long             year;
    size_t           i;

    s = dgj_req_capture(r, "year");
    if (s == NULL) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "no {year} capture");
    }

    /* a segment that is not a four-digit year names no calendar */
    year = (strlen(s) == 4) ? 0 : -1;

    for (i = 0; year >= 0 && i < 4; i++) {
        year = (s[i] >= '0' && s[i] <= '9') ? year * 10 + (s[i] - '0') : -1;
    }

    if (year < 1) {
        return dgj_req_fail(r, DGJ_ERR_NOT_FOUND, "no calendar year \"%s\"",
                            s);
    }

    rc = dgj_db_row(r, &dgj_reference_sql_year, DGJ_ARGS(DGJ_I64(year)),
                    DGJ_OUTS(DGJ_OUT_I64(&provisional)));
    if (rc == DGJ_ERR_NOT_FOUND) {
        return dgj_req_fail(r, DGJ_ERR_NOT_FOUND,
                            "calendar year %ld is not loaded", year);
    }

    if (rc != DGJ_OK) {
        return rc;
    }

    first = dgj_date_from_ymd((int) year, 1, 1);
    last = dgj_date_from_ymd((int) year, 12, 31);

    rc = dgj_reference_calendar(r, first, last, &days, &cal);
    if (rc != DGJ_OK) {
        return rc;
    }

    out = dgj_json_own(r, json_pack("{s:I, s:b, s:i, s:O}",
                                    "year", (json_int_t) year,
                                    "provisional", provisional != 0,
                                    "working_days",
                                    dgj_calendar_count_working_days(&cal,
                                                                    first,
                                                                    last),
                                    "days", days));
    if (out == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the reply");
    }

    return dgj_reply_json(r, 200, out);
}


static dgj_rc_t
dgj_reference_calendar_due(dgj_req_t *r)
{
    int               y, m, d;
    char              due_s[11];
    json_t           *body, *out;
    dgj_rc_t          rc;
    json_int_t        n;
    const char       *from_s;
    dgj_date_t        from, last, due;
    dgj_calendar_t    cal;

    static const char *const  keys[] = { "from", "working_days", NULL };

    rc = dgj_json_body_keys(r, keys, &body);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_json_get_str(r, body, "from", &from_s);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (dgj_date_parse(from_s, strlen(from_s), &from) != 0) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"from\" must be a real "
                            "date written YYYY-MM-DD");
    }

    dgj_date_to_ymd(from, &y, &m, &d);

    if (y < DGJ_REFERENCE_YEAR_MIN || y > DGJ_REFERENCE_YEAR_MAX) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"from\" must be in the "
                            "years %d to %d", DGJ_REFERENCE_YEAR_MIN,
                            DGJ_REFERENCE_YEAR_MAX);
    }

    rc = dgj_json_get_int(r, body, "working_days", 1,
                          DGJ_REFERENCE_DUE_MAX, &n);
    if (rc != DGJ_OK) {
        return rc;
    }

    /*
     * 365 working days span less than two calendar years even with every
     * holiday of the national rules, so the exceptions from "from" to the
     * end of the second year after it are enough.
     */
    last = dgj_date_from_ymd(y + DGJ_REFERENCE_DUE_YEARS, 12, 31);

    rc = dgj_reference_calendar(r, from + 1, last, NULL, &cal);
    if (rc != DGJ_OK) {
        return rc;
    }

    due = dgj_calendar_add_working_days(&cal, from, (int) n);
    if (due > last) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "due date beyond the "
                            "loaded calendar window");
    }

    dgj_date_format(due, due_s);

    out = dgj_json_own(r, json_pack("{s:s, s:I, s:s}", "from", from_s,
                                    "working_days", n, "due", due_s));
    if (out == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the reply");
    }

    return dgj_reply_json(r, 200, out);
}


/* {"items":[rows],"count":N} for a plain list query */
static dgj_rc_t
dgj_reference_items(dgj_req_t *r, const dgj_sql_t *sql)
{
    json_t    *rows, *out;
    dgj_rc_t   rc;

    rc = dgj_db_rows_json(r, sql, DGJ_NOARGS, &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    out = dgj_json_own(r, json_pack("{s:O, s:I}", "items", rows, "count",
                                    (json_int_t) json_array_size(rows)));
    if (out == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the reply");
    }

    return dgj_reply_json(r, 200, out);
}


/*
 * Loads the calendar exceptions in [first, last] into cal (pool memory)
 * and, when rows is not NULL, the rows {date, kind, name} themselves
 * (owned by r->pool).
 */
static dgj_rc_t
dgj_reference_calendar(dgj_req_t *r, dgj_date_t first, dgj_date_t last,
    json_t **rows, dgj_calendar_t *cal)
{
    char            first_s[11], last_s[11];
    size_t          i, n;
    json_t         *days, *row;
    dgj_rc_t        rc;
    const char     *date, *kind;
    dgj_cal_day_t  *list;

    dgj_date_format(first, first_s);
    dgj_date_format(last, last_s);

    rc = dgj_db_rows_json(r, &dgj_reference_sql_days,
                          DGJ_ARGS(DGJ_STR(first_s), DGJ_STR(last_s)),
                          &days);
    if (rc != DGJ_OK) {
        return rc;
    }

    n = json_array_size(days);

    list = dgj_palloc(r->pool, (n > 0 ? n : 1) * sizeof(dgj_cal_day_t));
    if (list == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the calendar");
    }

    json_array_foreach(days, i, row) {
        date = json_string_value(json_object_get(row, "date"));
        kind = json_string_value(json_object_get(row, "kind"));

        if (date == NULL || kind == NULL
            || dgj_date_parse(date, strlen(date), &list[i].date) != 0)
        {
            return dgj_req_fail(r, DGJ_ERR_INTERNAL, "bad calendar row");
        }

        if (strcmp(kind, "holiday") == 0) {
            list[i].kind = DGJ_CAL_HOLIDAY;

        } else if (strcmp(kind, "workday") == 0) {
            list[i].kind = DGJ_CAL_WORKDAY;

        } else {
            return dgj_req_fail(r, DGJ_ERR_INTERNAL, "bad calendar kind");
        }
    }

    cal->days = list;
    cal->ndays = n;

    if (rows != NULL) {
        *rows = days;
    }

    return DGJ_OK;
}


/* turns a TINYINT(1) member of obj into a JSON boolean */
static dgj_rc_t
dgj_reference_bool(dgj_req_t *r, json_t *obj, const char *key)
{
    json_t  *v;

    v = json_object_get(obj, key);
    if (v == NULL) {
        return DGJ_OK;
    }

    if (json_object_set_new(obj, key,
                            json_boolean(json_integer_value(v) != 0))
        != 0)
    {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the reply");
    }

    return DGJ_OK;
}


/* local date: the stack runs the workers with TZ=Asia/Shanghai */
static dgj_date_t
dgj_reference_today(void)
{
    time_t     now;
    struct tm  tm;

    now = time(NULL);
    localtime_r(&now, &tm);

    return dgj_date_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}
