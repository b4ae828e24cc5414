
/*
 * Copyright (C) Daguanjia
 *
 * dgj_workflow_board.c: the supervisor's board (warned and overdue open
 * appeals by lead department), the department assessment (考核) of a
 * period and the appeals behind each of its figures.  Read only; every
 * figure is computed from appeals and appeal_events, each read through
 * an index (0013_board.sql; tests/sql/board_plans.t).  The definitions
 * are in docs/console-admin.md#assessment.
 */


#include "dgj_core.h"
#include "dgj_accounts.h"
#include "dgj_calendar.h"
#include "dgj_clock.h"
#include "dgj_db.h"
#include "dgj_deadline.h"
#include "dgj_identity.h"
#include "dgj_json.h"
#include "dgj_req.h"
#include "dgj_workflow.h"
#include "dgj_workflow_board.h"
#include "dgj_workflow_deadline.h"


#define DGJ_BOARD_ITEMS       300       /* appeals on the board */
#define DGJ_BOARD_DRILL       200       /* appeals behind one figure */
/*
 * longest assessment period: a quarter.  Each figure walks the events of
 * the period (about 25 000 signs a month on one million appeals), so a
 * year is an aggregate's job, not a request's (docs/console-admin.md).
 */
#define DGJ_BOARD_DAYS_MAX    92
#define DGJ_BOARD_DAYS_DEF    30        /* default: the last 30 days */


typedef struct {
    dgj_req_t              *r;
    json_t                 *depts;      /* "id" -> figures */
    const dgj_calendar_t   *cal;
} dgj_board_walk_t;


static dgj_rc_t dgj_board_get(dgj_req_t *r);
static dgj_rc_t dgj_board_assessment(dgj_req_t *r);
static dgj_rc_t dgj_board_appeals(dgj_req_t *r);

static dgj_rc_t dgj_board_period(dgj_req_t *r, char *from, char *to,
    char *from_t, char *to_t);
static json_t *dgj_board_dept(dgj_req_t *r, json_t *depts, int64_t id);
static dgj_rc_t dgj_board_reply_row(dgj_req_t *r, void *data,
    const dgj_db_col_t *cols, size_t ncols);
static void dgj_board_add(json_t *obj, const char *key, json_int_t n);
static json_int_t dgj_board_int(const json_t *obj, const char *key);
static json_t *dgj_board_rate(json_int_t num, json_int_t den);
static dgj_rc_t dgj_board_finish(dgj_req_t *r, json_t *depts,
    json_t **list);
static dgj_rc_t dgj_board_titles(json_t *rows);


const dgj_route_t  dgj_board_routes[] = {

    { DGJ_GET, "/api/v1/board",             dgj_board_get },
    { DGJ_GET, "/api/v1/board/assessment",  dgj_board_assessment },
    { DGJ_GET, "/api/v1/board/appeals",     dgj_board_appeals },

      dgj_null_route
};


static const char *const  dgj_board_roles[] = {
    "supervisor", "analyst", NULL
};


/* open and waiting on a unit (not on the citizen's rating) */
#define DGJ_BOARD_OPEN                                                        \
    "('submitted', 'accepted', 'dispatched', 'handling', 'returned',"        \
    " 'replied', 'dissatisfied', 'reopened')"

/* the deadline a sign had to meet: set by the action that asked for it */
#define DGJ_BOARD_SIGN_DUE                                                    \
    "(SELECT p.due_at_set FROM appeal_events p"                               \
    "  WHERE p.appeal_id = e.appeal_id AND p.id < e.id"                       \
    "    AND p.action IN ('dispatch', 'redispatch', 'refuse_return',"        \
    "                     'uphold')"                                          \
    "  ORDER BY p.id DESC LIMIT 1)"

/* the handling deadline a reply had to meet, extensions included */
#define DGJ_BOARD_HANDLE_DUE                                                  \
    "(SELECT p.due_at_set FROM appeal_events p"                               \
    "  WHERE p.appeal_id = e.appeal_id AND p.id < e.id"                       \
    "    AND p.action IN ('sign', 'send_back', 'extension_approve')"          \
    "  ORDER BY p.id DESC LIMIT 1)"

#define DGJ_BOARD_SIGNED_AT                                                   \
    "(SELECT p.at FROM appeal_events p"                                       \
    "  WHERE p.appeal_id = e.appeal_id AND p.id < e.id"                       \
    "    AND p.action = 'sign'"                                               \
    "  ORDER BY p.id DESC LIMIT 1)"


/* ix_appeals_warn (state, warn_at): the warned ones of each open state */
static const dgj_sql_t  dgj_board_sql_depts = {
    "board.departments",
    "SELECT a.lead_department_id AS department_id,"
    "       d.name AS department_name,"
    "       CAST(SUM(a.due_at >= ?) AS INT) AS yellow,"
    "       CAST(SUM(a.due_at < ?) AS INT) AS red,"
    "       CAST(SUM(a.supervised) AS INT) AS supervised"
    "  FROM appeals a"
    "  LEFT JOIN departments d ON d.id = a.lead_department_id"
    " WHERE a.state IN " DGJ_BOARD_OPEN
    "   AND a.warn_at <= ?"
    " GROUP BY a.lead_department_id, d.name"
    " ORDER BY red DESC, yellow DESC, a.lead_department_id"
};

static const dgj_sql_t  dgj_board_sql_items = {
    "board.items",
    "SELECT a.tracking_no, a.title, a.state, a.stage, a.priority,"
    "       a.lead_department_id AS department_id,"
    "       d.name AS department_name, a.due_at, a.warn_at,"
    "       IF(a.due_at < ?, 'red', 'yellow') AS warn,"
    "       a.urge_count, a.supervised, a.version, a.submitted_at"
    "  FROM appeals a"
    "  LEFT JOIN departments d ON d.id = a.lead_department_id"
    " WHERE a.state IN " DGJ_BOARD_OPEN
    "   AND a.warn_at <= ?"
    "   AND (? IS NULL OR a.lead_department_id <=> ?)"
    " ORDER BY a.due_at, a.id"
    " LIMIT ?"
};

/* ix_appeal_events_action (action, at) */
static const dgj_sql_t  dgj_board_sql_sign = {
    "board.sign",
    "SELECT e.actor_department_id AS id, COUNT(*) AS total,"
    "       CAST(SUM(e.at <= COALESCE(" DGJ_BOARD_SIGN_DUE ", e.at))"
    "            AS INT) AS on_time"
    "  FROM appeal_events e"
    " WHERE e.action = 'sign' AND e.at >= ? AND e.at < ?"
    "   AND e.actor_department_id IS NOT NULL"
    " GROUP BY e.actor_department_id"
};

/* one row per reply; handling time and lateness are added up in C */
static const dgj_sql_t  dgj_board_sql_replies = {
    "board.replies",
    "SELECT e.actor_department_id,"
    "       DATE_FORMAT(e.at, '%Y-%m-%d %H:%i:%s'),"
    "       DATE_FORMAT(" DGJ_BOARD_HANDLE_DUE ", '%Y-%m-%d %H:%i:%s'),"
    "       DATE_FORMAT(" DGJ_BOARD_SIGNED_AT ", '%Y-%m-%d %H:%i:%s')"
    "  FROM appeal_events e"
    " WHERE e.action = 'reply' AND e.at >= ? AND e.at < ?"
    "   AND e.actor_department_id IS NOT NULL"
};

/* ix_appeals_due (state, due_at): what is overdue now, unsigned or not */
static const dgj_sql_t  dgj_board_sql_overdue = {
    "board.overdue",
    "SELECT a.lead_department_id AS id,"
    "       CAST(SUM(a.state = 'dispatched') AS INT) AS unsigned_n,"
    "       CAST(SUM(a.state <> 'dispatched') AS INT) AS handling_n"
    "  FROM appeals a"
    " WHERE a.state IN ('dispatched', 'handling', 'reopened')"
    "   AND a.due_at < ?"
    "   AND a.lead_department_id IS NOT NULL"
    " GROUP BY a.lead_department_id"
};

/* returns made by a unit against the dispatches it received */
static const dgj_sql_t  dgj_board_sql_returns = {
    "board.returns",
    "SELECT IF(e.action = 'return', e.actor_department_id,"
    "          e.target_department_id) AS id,"
    "       CAST(SUM(e.action = 'return') AS INT) AS returns_n,"
    "       CAST(SUM(e.action <> 'return') AS INT) AS received"
    "  FROM appeal_events e"
    " WHERE e.action IN ('dispatch', 'redispatch', 'refuse_return',"
    "                    'return')"
    "   AND e.at >= ? AND e.at < ?"
    " GROUP BY 1"
    " HAVING id IS NOT NULL"
};

/* ratings given in the period, by the appeal's lead department */
static const dgj_sql_t  dgj_board_sql_rated = {
    "board.rated",
    "SELECT a.lead_department_id AS id, COUNT(*) AS rated,"
    "       CAST(SUM(a.rating <= 3) AS INT) AS satisfied"
    "  FROM appeal_events e"
    "  JOIN appeals a ON a.id = e.appeal_id"
    " WHERE e.action = 'rate' AND e.at >= ? AND e.at < ?"
    "   AND a.lead_department_id IS NOT NULL AND a.rating IS NOT NULL"
    " GROUP BY a.lead_department_id"
};

static const dgj_sql_t  dgj_board_sql_dept_names = {
    "board.department_names",
    "SELECT id, name, code FROM departments ORDER BY code, id"
};


/*
 * The appeals behind one figure: the unit's events of an action in the
 * period (ix_appeal_events_actor), late ones only when the third ? is 1.
 */
#define DGJ_BOARD_DRILL_COLS                                                  \
    "SELECT a.tracking_no, a.title, a.state,"                                 \
    "       d.name AS department_name, e.at AS at,"

#define DGJ_BOARD_DRILL_FROM                                                  \
    "  FROM appeal_events e"                                                  \
    "  JOIN appeals a ON a.id = e.appeal_id"                                  \
    "  LEFT JOIN departments d ON d.id = a.lead_department_id"

static const dgj_sql_t  dgj_board_sql_drill_sign = {
    "board.drill_sign",
    "SELECT * FROM ("
    DGJ_BOARD_DRILL_COLS
    "       " DGJ_BOARD_SIGN_DUE " AS due_at"
    DGJ_BOARD_DRILL_FROM
    " WHERE e.actor_department_id = ? AND e.action = 'sign'"
    "   AND e.at >= ? AND e.at < ?) x"
    " WHERE ? = 0 OR x.at > x.due_at"
    " ORDER BY x.at DESC LIMIT ?"
};

static const dgj_sql_t  dgj_board_sql_drill_reply = {
    "board.drill_reply",
    "SELECT * FROM ("
    DGJ_BOARD_DRILL_COLS
    "       " DGJ_BOARD_HANDLE_DUE " AS due_at"
    DGJ_BOARD_DRILL_FROM
    " WHERE e.actor_department_id = ? AND e.action = 'reply'"
    "   AND e.at >= ? AND e.at < ?) x"
    " WHERE ? = 0 OR x.at > x.due_at"
    " ORDER BY x.at DESC LIMIT ?"
};

static const dgj_sql_t  dgj_board_sql_drill_return = {
    "board.drill_return",
    DGJ_BOARD_DRILL_COLS
    "       e.due_at_set AS due_at"
    DGJ_BOARD_DRILL_FROM
    " WHERE e.actor_department_id = ? AND e.action = 'return'"
    "   AND e.at >= ? AND e.at < ? AND ? = 0"
    " ORDER BY e.at DESC LIMIT ?"
};

static const dgj_sql_t  dgj_board_sql_drill_received = {
    "board.drill_received",
    DGJ_BOARD_DRILL_COLS
    "       e.due_at_set AS due_at"
    DGJ_BOARD_DRILL_FROM
    " WHERE e.action IN ('dispatch', 'redispatch', 'refuse_return')"
    "   AND e.target_department_id = ?"
    "   AND e.at >= ? AND e.at < ? AND ? = 0"
    " ORDER BY e.at DESC LIMIT ?"
};

/*
 * the third ?: 1 for the dissatisfied ratings (4, 5) only.  The period's
 * ratings drive the join: from the department's appeals the optimizer
 * would read every appeal it ever led (tests/sql/board_plans.t).
 */
static const dgj_sql_t  dgj_board_sql_drill_rated = {
    "board.drill_rated",
    "SELECT STRAIGHT_JOIN a.tracking_no, a.title, a.state,"
    "       d.name AS department_name, e.at AS at,"
    "       NULL AS due_at"
    DGJ_BOARD_DRILL_FROM
    " WHERE e.action = 'rate' AND e.at >= ? AND e.at < ?"
    "   AND a.lead_department_id = ?"
    "   AND (? = 0 OR a.rating > 3)"
    " ORDER BY e.at DESC LIMIT ?"
};

/* overdue now: unsigned (third ? 1) or in handling (0) */
static const dgj_sql_t  dgj_board_sql_drill_overdue = {
    "board.drill_overdue",
    "SELECT a.tracking_no, a.title, a.state,"
    "       d.name AS department_name, NULL AS at, a.due_at"
    "  FROM appeals a"
    "  LEFT JOIN departments d ON d.id = a.lead_department_id"
    " WHERE a.lead_department_id = ?"
    "   AND a.state IN ('dispatched', 'handling', 'reopened')"
    "   AND a.due_at < ?"
    "   AND (a.state = 'dispatched') = ?"
    " ORDER BY a.due_at LIMIT ?"
};


/*
 * GET /api/v1/board?department=: the warned (黄牌) and overdue (红牌) open
 * appeals, counted by lead department, and the first of them by deadline.
 */

static dgj_rc_t
dgj_board_get(dgj_req_t *r)
{
    json_t          *depts, *items, *reply;
    int64_t          dept;
    dgj_rc_t         rc;
    const char      *now;
    dgj_identity_t   id;

    rc = dgj_identity_require(r, &id, dgj_board_roles);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_accounts_arg_int(r, "department", 0, 1, UINT32_MAX, &dept);
    if (rc != DGJ_OK) {
        return rc;
    }

    now = dgj_wf_time(r, dgj_clock_now(r->conf));

    rc = dgj_db_rows_json(r, &dgj_board_sql_depts,
                          DGJ_ARGS(DGJ_STR(now), DGJ_STR(now), DGJ_STR(now)),
                          &depts);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_rows_json(r, &dgj_board_sql_items,
                          DGJ_ARGS(DGJ_STR(now), DGJ_STR(now),
                                   dept ? DGJ_I64(dept) : DGJ_NULL,
                                   dept ? DGJ_I64(dept) : DGJ_NULL,
                                   DGJ_I64(DGJ_BOARD_ITEMS)),
                          &items);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_board_titles(items);
    if (rc != DGJ_OK) {
        return rc;
    }

    reply = dgj_json_own(r, json_pack("{s:s, s:O, s:O, s:i}", "now", now,
                                      "departments", depts, "items", items,
                                      "limit", DGJ_BOARD_ITEMS));
    if (reply == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the reply");
    }

    return dgj_reply_json(r, 200, reply);
}


/*
 * GET /api/v1/board/assessment?from=&to=: the figures of every department
 * that had anything to do in the period (dates, both ends included).
 */

static dgj_rc_t
dgj_board_assessment(dgj_req_t *r)
{
    char                from[11], to[11], from_t[20], to_t[20];
    json_t             *depts, *rows, *row, *d, *reply, *list = NULL;
    size_t              i;
    dgj_rc_t            rc;
    const char         *now;
    dgj_identity_t      id;
    dgj_board_walk_t    w;

    rc = dgj_identity_require(r, &id, dgj_board_roles);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_board_period(r, from, to, from_t, to_t);
    if (rc != DGJ_OK) {
        return rc;
    }

    now = dgj_wf_time(r, dgj_clock_now(r->conf));

    depts = dgj_json_own(r, json_object());
    if (depts == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the figures");
    }

    /* signs in the period */
    rc = dgj_db_rows_json(r, &dgj_board_sql_sign,
                          DGJ_ARGS(DGJ_STR(from_t), DGJ_STR(to_t)), &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    json_array_foreach(rows, i, row) {
        d = dgj_board_dept(r, depts, dgj_board_int(row, "id"));
        if (d == NULL) {
            return DGJ_ERR_NOMEM;
        }

        dgj_board_add(d, "signed", dgj_board_int(row, "total"));
        dgj_board_add(d, "signed_on_time", dgj_board_int(row, "on_time"));
    }

    /* replies, their lateness and handling time in working days */
    w.r = r;
    w.depts = depts;

    rc = dgj_wf_calendar(r, &w.cal);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_rows_each(r, &dgj_board_sql_replies,
                          DGJ_ARGS(DGJ_STR(from_t), DGJ_STR(to_t)),
                          dgj_board_reply_row, &w);
    if (rc != DGJ_OK) {
        return rc;
    }

    /* overdue now */
    rc = dgj_db_rows_json(r, &dgj_board_sql_overdue, DGJ_ARGS(DGJ_STR(now)),
                          &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    json_array_foreach(rows, i, row) {
        d = dgj_board_dept(r, depts, dgj_board_int(row, "id"));
        if (d == NULL) {
            return DGJ_ERR_NOMEM;
        }

        dgj_board_add(d, "sign_overdue", dgj_board_int(row, "unsigned_n"));
        dgj_board_add(d, "handling_overdue",
                      dgj_board_int(row, "handling_n"));
    }

    /* returns against dispatches received */
    rc = dgj_db_rows_json(r, &dgj_board_sql_returns,
                          DGJ_ARGS(DGJ_STR(from_t), DGJ_STR(to_t)), &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    json_array_foreach(rows, i, row) {
        d = dgj_board_dept(r, depts, dgj_board_int(row, "id"));
        if (d == NULL) {
            return DGJ_ERR_NOMEM;
        }

        dgj_board_add(d, "returned", dgj_board_int(row, "returns_n"));
        dgj_board_add(d, "received", dgj_board_int(row, "received"));
    }

    /* ratings */
    rc = dgj_db_rows_json(r, &dgj_board_sql_rated,
                          DGJ_ARGS(DGJ_STR(from_t), DGJ_STR(to_t)), &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    json_array_foreach(rows, i, row) {
        d = dgj_board_dept(r, depts, dgj_board_int(row, "id"));
        if (d == NULL) {
            return DGJ_ERR_NOMEM;
        }

        dgj_board_add(d, "rated", dgj_board_int(row, "rated"));
        dgj_board_add(d, "satisfied", dgj_board_int(row, "satisfied"));
    }

    rc = dgj_board_finish(r, depts, &list);
    if (rc != DGJ_OK) {
        return rc;
    }

    reply = dgj_json_own(r, json_pack("{s:s, s:s, s:s, s:s, s:O}",
                                      "from", from, "to", to, "now", now,
                                      "handling_time_unit", "working_days",
                                      "departments", list));
    if (reply == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the reply");
    }

    return dgj_reply_json(r, 200, reply);
}


/*
 * GET /api/v1/board/appeals?department=&metric=&from=&to=: the appeals
 * behind one figure of the assessment (the newest DGJ_BOARD_DRILL).
 */

static dgj_rc_t
dgj_board_appeals(dgj_req_t *r)
{
    char                from[11], to[11], from_t[20], to_t[20];
    json_t             *rows, *reply;
    int64_t             dept, late;
    dgj_rc_t            rc;
    const char         *metric, *now;
    const dgj_sql_t    *sql;
    dgj_identity_t      id;

    rc = dgj_identity_require(r, &id, dgj_board_roles);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_accounts_arg_int(r, "department", 0, 1, UINT32_MAX, &dept);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (dept == 0) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"department\" is required");
    }

    rc = dgj_req_arg(r, "metric", &metric);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_board_period(r, from, to, from_t, to_t);
    if (rc != DGJ_OK) {
        return rc;
    }

    now = dgj_wf_time(r, dgj_clock_now(r->conf));
    late = 0;

    if (metric == NULL) {
        metric = "";
    }

    if (strcmp(metric, "signed") == 0
        || (late = strcmp(metric, "signed_late") == 0))
    {
        sql = &dgj_board_sql_drill_sign;

    } else if (strcmp(metric, "replied") == 0
               || (late = strcmp(metric, "replied_late") == 0))
    {
        sql = &dgj_board_sql_drill_reply;

    } else if (strcmp(metric, "returned") == 0) {
        sql = &dgj_board_sql_drill_return;

    } else if (strcmp(metric, "received") == 0) {
        sql = &dgj_board_sql_drill_received;

    } else if (strcmp(metric, "rated") == 0
               || (late = strcmp(metric, "dissatisfied") == 0))
    {
        rc = dgj_db_rows_json(r, &dgj_board_sql_drill_rated,
                              DGJ_ARGS(DGJ_STR(from_t), DGJ_STR(to_t),
                                       DGJ_I64(dept), DGJ_I64(late),
                                       DGJ_I64(DGJ_BOARD_DRILL)),
                              &rows);
        goto reply;

    } else if (strcmp(metric, "sign_overdue") == 0
               || strcmp(metric, "handling_overdue") == 0)
    {
        rc = dgj_db_rows_json(r, &dgj_board_sql_drill_overdue,
                              DGJ_ARGS(DGJ_I64(dept), DGJ_STR(now),
                                       DGJ_I64(metric[0] == 's'),
                                       DGJ_I64(DGJ_BOARD_DRILL)),
                              &rows);
        goto reply;

    } else {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "unknown_metric",
                                 "\"metric\" must be signed, signed_late, "
                                 "sign_overdue, replied, replied_late, "
                                 "handling_overdue, returned, received, "
                                 "rated or dissatisfied");
    }

    rc = dgj_db_rows_json(r, sql,
                          DGJ_ARGS(DGJ_I64(dept), DGJ_STR(from_t),
                                   DGJ_STR(to_t), DGJ_I64(late),
                                   DGJ_I64(DGJ_BOARD_DRILL)),
                          &rows);

reply:

    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_board_titles(rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    reply = dgj_json_own(r, json_pack("{s:I, s:s, s:s, s:s, s:O, s:I, s:i}",
                                      "department_id", (json_int_t) dept,
                                      "metric", metric, "from", from,
                                      "to", to, "items", rows,
                                      "count",
                                      (json_int_t) json_array_size(rows),
                                      "limit", DGJ_BOARD_DRILL));
    if (reply == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the reply");
    }

    return dgj_reply_json(r, 200, reply);
}


/*
 * from and to (YYYY-MM-DD, both included; default the last 30 days to
 * today, Beijing) and the half-open times [from_t, to_t) they cover.
 */
static dgj_rc_t
dgj_board_period(dgj_req_t *r, char *from, char *to, char *from_t,
    char *to_t)
{
    const char  *f, *t;
    dgj_rc_t     rc;
    dgj_date_t   df, dt, today;

    if ((rc = dgj_req_arg(r, "from", &f)) != DGJ_OK
        || (rc = dgj_req_arg(r, "to", &t)) != DGJ_OK)
    {
        return rc;
    }

    today = dgj_deadline_date(dgj_clock_now(r->conf));

    dt = today;
    if (t != NULL && t[0] != '\0'
        && dgj_date_parse(t, strlen(t), &dt) != 0)
    {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"to\" must be a date "
                            "YYYY-MM-DD");
    }

    df = dt - (DGJ_BOARD_DAYS_DEF - 1);
    if (f != NULL && f[0] != '\0'
        && dgj_date_parse(f, strlen(f), &df) != 0)
    {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"from\" must be a date "
                            "YYYY-MM-DD");
    }

    if (df > dt || dt - df >= DGJ_BOARD_DAYS_MAX) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "invalid_range",
                                 "\"from\" must not be after \"to\", and "
                                 "the period at most %d days",
                                 DGJ_BOARD_DAYS_MAX);
    }

    dgj_date_format(df, from);
    dgj_date_format(dt, to);
    dgj_date_format(df, from_t);
    dgj_date_format(dt + 1, to_t);
    memcpy(from_t + 10, " 00:00:00", 10);
    memcpy(to_t + 10, " 00:00:00", 10);

    return DGJ_OK;
}


/* the figures object of department id, made on first use */
static json_t *
dgj_board_dept(dgj_req_t *r, json_t *depts, int64_t id)
{
    char     key[24];
    json_t  *d;

    snprintf(key, sizeof(key), "%lld", (long long) id);

    d = json_object_get(depts, key);
    if (d != NULL) {
        return d;
    }

    d = json_pack("{s:I}", "department_id", (json_int_t) id);
    if (d == NULL || json_object_set_new(depts, key, d) != 0) {
        (void) dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the figures");
        return NULL;
    }

    return d;
}


/* cols: department, replied at, handling due, signed at */
static dgj_rc_t
dgj_board_reply_row(dgj_req_t *r, void *data, const dgj_db_col_t *cols,
    size_t ncols)
{
    json_t            *d;
    int64_t            at, due, signed_at, secs;
    dgj_board_walk_t  *w = data;

    if (ncols != 4 || cols[0].s == NULL || cols[1].s == NULL) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "board: bad reply row");
    }

    d = dgj_board_dept(r, w->depts, strtoll(cols[0].s, NULL, 10));
    if (d == NULL) {
        return DGJ_ERR_NOMEM;
    }

    at = dgj_wf_time_parse(cols[1].s);
    due = dgj_wf_time_parse(cols[2].s);
    signed_at = dgj_wf_time_parse(cols[3].s);

    dgj_board_add(d, "replied", 1);
    dgj_board_add(d, "replied_on_time", due == 0 || at <= due);

    if (signed_at != 0 && signed_at <= at) {
        secs = dgj_deadline_working_seconds(w->cal, signed_at, at);
        dgj_board_add(d, "handled", 1);
        dgj_board_add(d, "handling_seconds", secs);
    }

    return DGJ_OK;
}


static void
dgj_board_add(json_t *obj, const char *key, json_int_t n)
{
    json_object_set_new(obj, key,
                        json_integer(dgj_board_int(obj, key) + n));
}


static json_int_t
dgj_board_int(const json_t *obj, const char *key)
{
    return json_integer_value(json_object_get(obj, key));
}


/* num / den as a fraction 0..1 with 4 digits, null without a den */
static json_t *
dgj_board_rate(json_int_t num, json_int_t den)
{
    if (den <= 0) {
        return json_null();
    }

    return json_real((double) (num * 10000 / den) / 10000.0);
}


/*
 * The list of departments, by code, each with its names and rates:
 * sign_rate = on time / (signed + unsigned overdue now), completion_rate
 * = replied on time / (replied + overdue in handling now), return_rate
 * = returned / received, satisfaction = 1-3 ratings / ratings,
 * handling_days = mean working days from sign to reply.
 */
static dgj_rc_t
dgj_board_finish(dgj_req_t *r, json_t *depts, json_t **list)
{
    char         key[24];
    json_t      *names, *row, *d, *out;
    size_t       i;
    dgj_rc_t     rc;
    json_int_t   handled;

    rc = dgj_db_rows_json(r, &dgj_board_sql_dept_names, DGJ_NOARGS, &names);
    if (rc != DGJ_OK) {
        return rc;
    }

    out = dgj_json_own(r, json_array());
    if (out == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the figures");
    }

    json_array_foreach(names, i, row) {
        snprintf(key, sizeof(key), "%lld",
                 (long long) dgj_board_int(row, "id"));

        d = json_object_get(depts, key);
        if (d == NULL) {
            continue;
        }

        json_object_set(d, "department_name", json_object_get(row, "name"));
        json_object_set(d, "department_code", json_object_get(row, "code"));

        dgj_board_add(d, "signed", 0);
        dgj_board_add(d, "signed_on_time", 0);
        dgj_board_add(d, "sign_overdue", 0);
        dgj_board_add(d, "replied", 0);
        dgj_board_add(d, "replied_on_time", 0);
        dgj_board_add(d, "handling_overdue", 0);
        dgj_board_add(d, "returned", 0);
        dgj_board_add(d, "received", 0);
        dgj_board_add(d, "rated", 0);
        dgj_board_add(d, "satisfied", 0);

        json_object_set_new(d, "sign_rate",
            dgj_board_rate(dgj_board_int(d, "signed_on_time"),
                           dgj_board_int(d, "signed")
                           + dgj_board_int(d, "sign_overdue")));
        json_object_set_new(d, "completion_rate",
            dgj_board_rate(dgj_board_int(d, "replied_on_time"),
                           dgj_board_int(d, "replied")
                           + dgj_board_int(d, "handling_overdue")));
        json_object_set_new(d, "return_rate",
            dgj_board_rate(dgj_board_int(d, "returned"),
                           dgj_board_int(d, "received")));
        json_object_set_new(d, "satisfaction",
            dgj_board_rate(dgj_board_int(d, "satisfied"),
                           dgj_board_int(d, "rated")));

        handled = dgj_board_int(d, "handled");
        json_object_set_new(d, "handling_days", handled == 0 ? json_null()
            : json_real((double) (dgj_board_int(d, "handling_seconds")
                                  * 100 / handled / 86400) / 100.0));
        json_object_del(d, "handling_seconds");

        if (json_array_append(out, d) != 0) {
            return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the list");
        }
    }

    *list = out;

    return DGJ_OK;
}


/* adds state_title to every row that has a state */
static dgj_rc_t
dgj_board_titles(json_t *rows)
{
    int          s;
    json_t      *row;
    size_t       i;
    const char  *title;

    json_array_foreach(rows, i, row) {
        s = dgj_wf_state_parse(json_string_value(json_object_get(row,
                                                                 "state")));
        title = s >= 0 ? dgj_wf_state_title(s) : "";

        if (json_object_set_new(row, "state_title", json_string(title))
            != 0)
        {
            return DGJ_ERR_NOMEM;
        }
    }

    return DGJ_OK;
}
