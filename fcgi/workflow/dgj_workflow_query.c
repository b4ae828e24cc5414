
/*
 * Copyright (C) Daguanjia
 *
 * dgj_workflow_query.c: what staff read.  GET /api/v1/inbox, the list
 * each role works from (intake, handler, reviewer, supervisor boxes),
 * filtered and keyset-paged; GET /api/v1/appeals/{no}, one appeal with
 * its assist tasks, attachments, full timeline and the actions the
 * caller may take now, personal data masked for every role; POST
 * /api/v1/appeals/{no}/reveal, the submitter's contact in full for intake
 * and the lead department's handler, recorded as an internal event.
 * Also the helpers both read sides share (dgj_workflow_query.h).
 */


#include "dgj_core.h"
#include "dgj_workflow.h"
#include "dgj_workflow_names.h"
#include "dgj_workflow_query.h"
#include "dgj_calendar.h"
#include "dgj_clock.h"
#include "dgj_db.h"
#include "dgj_ids.h"
#include "dgj_json.h"

#include <errno.h>

#include <openssl/evp.h>


/* the longest cursor text: scope, a DATETIME and an id */
#define DGJ_WFQ_CURSOR_MAX  96

/* bind values of a list query: see the order in dgj_wfq_inbox_bind() */
#define DGJ_WFQ_MAX_ARGS    (2 + 4 * (1 + 20 + 6 + 1) + 1)


typedef struct {
    const char       *name;         /* ?box= and the cursor scope */
    const char       *role;         /* who works this box */
    unsigned          states;       /* states a ?state= may name */
    const dgj_sql_t  *list;
    const dgj_sql_t  *counts;
    const dgj_sql_t  *list_all;     /* no filter: index-only reads, or NULL */
    const dgj_sql_t  *counts_all;
    unsigned          own_dept:1;   /* FROM binds the caller's department */
    unsigned          warned:1;     /* WHERE binds now (warn_at <= now) */
    unsigned          dept_filter:1; /* ?department= allowed */
} dgj_wfq_box_t;


/* the inbox request, parsed */
typedef struct {
    const dgj_wfq_box_t  *box;
    int64_t               dept;     /* the caller's (handler box) */
    const char           *state;
    const char           *channel;
    const char           *overdue;  /* "true", "warned" or NULL */
    int64_t               department;
    dgj_wfq_filter_t      f;
    int64_t               limit;
    dgj_wfq_cursor_t      cursor;
    const char           *now;
    uint32_t              fields;   /* ?fields=: bits of the row fields
                                       kept (dgj_wfq_inbox_fields), 0 all */
    unsigned              rows:1;   /* ?shape=rows or cells: "fields"
                                       and the values, not "items" */
    unsigned              cells:1;  /* ?shape=cells: one flat "cells"
                                       array, row after row */
} dgj_wfq_inbox_t;


static dgj_rc_t dgj_wfq_inbox_args(dgj_req_t *r, const dgj_identity_t *id,
    dgj_wfq_inbox_t *q);
static size_t dgj_wfq_inbox_bind(const dgj_wfq_inbox_t *q, int list,
    dgj_arg_t *args, const dgj_sql_t **sql);
static int dgj_wfq_filtered(const dgj_wfq_inbox_t *q);
static size_t dgj_wfq_branches_bind(const dgj_wfq_inbox_t *q,
    int filtered, dgj_arg_t *args);
static void dgj_wfq_filters_bind(const dgj_wfq_inbox_t *q, dgj_arg_t *args,
    size_t *n);
static dgj_rc_t dgj_wfq_fields_arg(dgj_req_t *r, uint32_t *fields);
static int dgj_wfq_field_index(const char *name, size_t len);
static dgj_rc_t dgj_wfq_shape_arg(dgj_req_t *r, dgj_wfq_inbox_t *q);
static int dgj_wfq_rows(json_t *reply, json_t *items, uint32_t fields,
    int cells);
static dgj_rc_t dgj_wfq_counts(dgj_req_t *r, const dgj_wfq_inbox_t *q,
    json_t **out);
static dgj_rc_t dgj_wfq_submitter(dgj_req_t *r, json_t *row,
    const dgj_identity_t *id, int full);
static dgj_rc_t dgj_wfq_actions(dgj_req_t *r, const dgj_identity_t *id,
    const dgj_wf_appeal_t *a, json_t **out);
static dgj_rc_t dgj_wfq_code_id(dgj_req_t *r, const char *arg,
    const dgj_sql_t *sql, int64_t *id, int64_t *level);
static dgj_rc_t dgj_wfq_date_arg(dgj_req_t *r, const char *arg, int next_day,
    const char **out);
static char *dgj_wfq_b64url(dgj_req_t *r, const char *s, size_t len);
static char *dgj_wfq_unb64url(dgj_req_t *r, const char *s, size_t *len);


/*
 * One text per box: the columns, the box (its states, its department),
 * the filters of every box and the keyset.  Bind order: now, now (warn),
 * [department, department] (handler), [now] (supervisor), 20 filter
 * values, 6 cursor values, limit.  See docs/workflow.md#queries for the
 * index each one uses.
 */

#define DGJ_WFQ_COLS                                                          \
    "SELECT a.id, a.tracking_no, a.title,"                                    \
    "       a.category_id AS _category_id, a.district_id AS _district_id,"   \
    "       a.channel, a.priority, a.state, a.stage,"                         \
    "       a.lead_department_id,"                                            \
    "       a.due_at,"                                                        \
    "       CASE WHEN a.due_at IS NULL THEN NULL"                             \
    "            WHEN a.due_at < ? THEN 'red'"                                \
    "            WHEN a.warn_at <= ? THEN 'yellow'"                           \
    "            ELSE 'green' END AS warn,"                                   \
    "       a.submitted_at, a.version, a.pending_extension_days,"            \
    "       a.supervised, a.urge_count"

/*
 * No lookup joins: category, district and department codes and names
 * come from the worker's cache (dgj_workflow_names.h), three primary-key
 * lookups a row fewer for MariaDB.
 */

/* a.state first: ix_appeals_due (state, due_at) and ix_appeals_state */
#define DGJ_WFQ_BOX_INTAKE                                                    \
    " WHERE (a.state IN ('submitted', 'accepted', 'returned')"                \
    "        OR (a.state = 'handling'"                                        \
    "            AND a.pending_extension_days IS NOT NULL))"

#define DGJ_WFQ_BOX_REVIEWER                                                  \
    " WHERE a.state IN ('replied', 'dissatisfied')"

/* open, but not waiting for the citizen's rating: no unit is late there */
#define DGJ_WFQ_BOX_SUPERVISOR                                                \
    " WHERE a.state IN ('submitted', 'accepted', 'dispatched', 'handling',"   \
    "                   'returned', 'replied', 'dissatisfied', 'reopened')"   \
    "   AND a.warn_at <= ?"

#define DGJ_WFQ_FILTERS_ON(t)                                                 \
    "   AND (? IS NULL OR " t ".state = ?)"                                   \
    "   AND (? IS NULL OR " t ".category_id = ?)"                             \
    "   AND (? IS NULL OR " t ".category_id IN"                               \
    "        (SELECT ct.id FROM categories ct WHERE ct.parent_id = ?))"       \
    "   AND (? IS NULL OR " t ".district_id = ?)"                             \
    "   AND (? IS NULL OR " t ".channel = ?)"                                 \
    "   AND (? IS NULL OR " t ".due_at < ?)"                                  \
    "   AND (? IS NULL OR " t ".warn_at <= ?)"                                \
    "   AND (? IS NULL OR " t ".submitted_at >= ?)"                           \
    "   AND (? IS NULL OR " t ".submitted_at < ?)"                            \
    "   AND (? IS NULL OR " t ".lead_department_id = ?)"

#define DGJ_WFQ_FILTERS  DGJ_WFQ_FILTERS_ON("a")

#define DGJ_WFQ_PAGE                                                          \
    DGJ_WFQ_SQL_AFTER("a.due_at", "a.id")                                     \
    " ORDER BY a.due_at, a.id"                                                \
    " LIMIT ?"

#define DGJ_WFQ_COUNT                                                         \
    "SELECT a.state, COUNT(*) AS n"

#define DGJ_WFQ_GROUP                                                         \
    " GROUP BY a.state"


static const dgj_sql_t  dgj_wfq_sql_intake = {
    "workflow.inbox_intake",
    DGJ_WFQ_COLS
    "  FROM appeals a"
    DGJ_WFQ_BOX_INTAKE
    DGJ_WFQ_FILTERS
    DGJ_WFQ_PAGE
};

static const dgj_sql_t  dgj_wfq_sql_intake_counts = {
    "workflow.inbox_intake_counts",
    DGJ_WFQ_COUNT
    "  FROM appeals a"
    DGJ_WFQ_BOX_INTAKE
    DGJ_WFQ_FILTERS
    DGJ_WFQ_GROUP
};

/*
 * The handler counts: the department's own appeals counted in
 * ix_appeals_lead (lead_department_id, state, id) -- the index alone when
 * no filter needs the row -- plus the appeals it was asked to assist that
 * it does not lead (the lead cannot assist itself; a redispatch to an
 * assisting unit would otherwise count the appeal twice).  Bind order:
 * department, 20 filter values, department, department, 20 filter values
 * (dgj_wfq_inbox_bind()).
 */
static const dgj_sql_t  dgj_wfq_sql_handler_counts = {
    "workflow.inbox_handler_counts",
    "SELECT u.state, CAST(SUM(u.n) AS SIGNED) AS n"
    "  FROM (SELECT x.state, COUNT(*) AS n FROM appeals x"
    "         WHERE x.lead_department_id = ?"
    "           AND x.state IN ('dispatched', 'handling', 'reopened')"
    DGJ_WFQ_FILTERS_ON("x")
    "         GROUP BY x.state"
    "        UNION ALL"
    "        SELECT x.state, COUNT(*) AS n FROM appeal_tasks t"
    "          JOIN appeals x ON x.id = t.appeal_id"
    "         WHERE t.department_id = ? AND t.state = 'open'"
    "           AND NOT (x.lead_department_id <=> ?)"
    DGJ_WFQ_FILTERS_ON("x")
    "         GROUP BY x.state) u"
    " GROUP BY u.state"
};

static const dgj_sql_t  dgj_wfq_sql_reviewer = {
    "workflow.inbox_reviewer",
    DGJ_WFQ_COLS
    "  FROM appeals a"
    DGJ_WFQ_BOX_REVIEWER
    DGJ_WFQ_FILTERS
    DGJ_WFQ_PAGE
};

static const dgj_sql_t  dgj_wfq_sql_reviewer_counts = {
    "workflow.inbox_reviewer_counts",
    DGJ_WFQ_COUNT
    "  FROM appeals a"
    DGJ_WFQ_BOX_REVIEWER
    DGJ_WFQ_FILTERS
    DGJ_WFQ_GROUP
};

static const dgj_sql_t  dgj_wfq_sql_supervisor = {
    "workflow.inbox_supervisor",
    DGJ_WFQ_COLS
    "  FROM appeals a"
    DGJ_WFQ_BOX_SUPERVISOR
    DGJ_WFQ_FILTERS
    DGJ_WFQ_PAGE
};

static const dgj_sql_t  dgj_wfq_sql_supervisor_counts = {
    "workflow.inbox_supervisor_counts",
    DGJ_WFQ_COUNT
    "  FROM appeals a"
    DGJ_WFQ_BOX_SUPERVISOR
    DGJ_WFQ_FILTERS
    DGJ_WFQ_GROUP
};


/*
 * The intake and handler pages are unions of branches, each already a
 * page: the box's appeals in one state read in order through
 * ix_appeals_due (state, due_at) or ix_appeals_lead_due
 * (lead_department_id, state, due_at, and the id InnoDB appends) and
 * stopped at the limit, and the handler's open sub-tasks.  The union is
 * cut to the page before the appeals' rows are read, so a page costs the
 * rows it shows, not the box's size.
 *
 * The boxes opened without a filter -- how most days start -- have texts
 * of their own: with no "? IS NULL OR col = ?" naming a column outside
 * the index, MariaDB counts and pages in the indexes alone.  Bind order
 * (dgj_wfq_branches_bind()): now, now, per branch (the department for the
 * handler's, 20 filter values when filtered, 6 cursor values, limit),
 * then the limit; the unfiltered counts bind the department twice
 * (handler) or nothing (intake).
 */
#define DGJ_WFQ_BRANCH(where, filters)                                        \
    "  (SELECT x.id, x.due_at FROM appeals x"                                 \
    "    WHERE " where                                                        \
    filters                                                                   \
    DGJ_WFQ_SQL_AFTER("x.due_at", "x.id")                                     \
    "    ORDER BY x.due_at, x.id LIMIT ?)"

#define DGJ_WFQ_BRANCH_PAGE(branches)                                         \
    DGJ_WFQ_COLS                                                              \
    "  FROM (SELECT u.id, u.due_at FROM (" branches ") u"                     \
    "         ORDER BY u.due_at, u.id LIMIT ?) b"                             \
    "  JOIN appeals a ON a.id = b.id"                                         \
    " ORDER BY a.due_at, a.id"

/* led by the department (to sign or in hand), or asked of it (协办) */
#define DGJ_WFQ_HANDLER_BRANCHES(filters)                                     \
    DGJ_WFQ_BRANCH("x.lead_department_id = ? AND x.state = 'dispatched'",    \
                   filters)                                                   \
    "  UNION"                                                                 \
    DGJ_WFQ_BRANCH("x.lead_department_id = ? AND x.state = 'handling'",      \
                   filters)                                                   \
    "  UNION"                                                                 \
    DGJ_WFQ_BRANCH("x.lead_department_id = ? AND x.state = 'reopened'",      \
                   filters)                                                   \
    "  UNION"                                                                 \
    "  (SELECT x.id, x.due_at FROM appeal_tasks t"                            \
    "     JOIN appeals x ON x.id = t.appeal_id"                               \
    "    WHERE t.department_id = ? AND t.state = 'open'"                      \
    filters                                                                   \
    DGJ_WFQ_SQL_AFTER("x.due_at", "x.id")                                     \
    "    ORDER BY x.due_at, x.id LIMIT ?)"

static const dgj_sql_t  dgj_wfq_sql_handler = {
    "workflow.inbox_handler",
    DGJ_WFQ_BRANCH_PAGE(DGJ_WFQ_HANDLER_BRANCHES(DGJ_WFQ_FILTERS_ON("x")))
};

static const dgj_sql_t  dgj_wfq_sql_handler_all = {
    "workflow.inbox_handler_all",
    DGJ_WFQ_BRANCH_PAGE(DGJ_WFQ_HANDLER_BRANCHES(""))
};

/* ix_appeals_pending serves the pending extensions (few: sorted) */
static const dgj_sql_t  dgj_wfq_sql_intake_all = {
    "workflow.inbox_intake_all",
    DGJ_WFQ_BRANCH_PAGE(
        DGJ_WFQ_BRANCH("x.state = 'submitted'", "")
        "  UNION ALL"
        DGJ_WFQ_BRANCH("x.state = 'accepted'", "")
        "  UNION ALL"
        DGJ_WFQ_BRANCH("x.state = 'returned'", "")
        "  UNION ALL"
        DGJ_WFQ_BRANCH("x.state = 'handling'"
                       " AND x.pending_extension_days IS NOT NULL", ""))
};

/* ix_appeals_pending (state, pending_extension_days) alone */
static const dgj_sql_t  dgj_wfq_sql_intake_counts_all = {
    "workflow.inbox_intake_counts_all",
    "SELECT a.state, COUNT(*) AS n"
    "  FROM appeals a"
    DGJ_WFQ_BOX_INTAKE
    DGJ_WFQ_GROUP
};

/* ix_appeals_lead (lead_department_id, state, id) alone */
static const dgj_sql_t  dgj_wfq_sql_handler_counts_all = {
    "workflow.inbox_handler_counts_all",
    "SELECT u.state, CAST(SUM(u.n) AS SIGNED) AS n"
    "  FROM (SELECT x.state, COUNT(*) AS n FROM appeals x"
    "         WHERE x.lead_department_id = ?"
    "           AND x.state IN ('dispatched', 'handling', 'reopened')"
    "         GROUP BY x.state"
    "        UNION ALL"
    "        SELECT x.state, COUNT(*) AS n FROM appeal_tasks t"
    "          JOIN appeals x ON x.id = t.appeal_id"
    "         WHERE t.department_id = ? AND t.state = 'open'"
    "           AND NOT (x.lead_department_id <=> t.department_id)"
    "         GROUP BY x.state) u"
    " GROUP BY u.state"
};


#define S(x)  DGJ_WF_BIT(DGJ_WF_##x)

static const dgj_wfq_box_t  dgj_wfq_boxes[] = {
    { "intake", "intake",
      S(SUBMITTED) | S(ACCEPTED) | S(RETURNED) | S(HANDLING),
      &dgj_wfq_sql_intake, &dgj_wfq_sql_intake_counts,
      &dgj_wfq_sql_intake_all, &dgj_wfq_sql_intake_counts_all, 0, 0, 1 },
    { "handler", "handler",
      S(DISPATCHED) | S(HANDLING) | S(REOPENED),
      &dgj_wfq_sql_handler, &dgj_wfq_sql_handler_counts,
      &dgj_wfq_sql_handler_all, &dgj_wfq_sql_handler_counts_all, 1, 0, 0 },
    { "reviewer", "reviewer",
      S(REPLIED) | S(DISSATISFIED),
      &dgj_wfq_sql_reviewer, &dgj_wfq_sql_reviewer_counts, NULL, NULL,
      0, 0, 0 },
    { "supervisor", "supervisor",
      S(SUBMITTED) | S(ACCEPTED) | S(DISPATCHED) | S(HANDLING) | S(RETURNED)
      | S(REPLIED) | S(DISSATISFIED) | S(REOPENED),
      &dgj_wfq_sql_supervisor, &dgj_wfq_sql_supervisor_counts, NULL, NULL,
      0, 1, 1 },
    { NULL, NULL, 0, NULL, NULL, NULL, NULL, 0, 0, 0 }
};

#undef S


/* the fields of an inbox row, as ?fields= may name them (docs/api.md) */
static const char  *dgj_wfq_inbox_fields[] = {
    "tracking_no", "title", "category_code", "category_name",
    "district_code", "district_name", "channel", "priority", "state",
    "state_title", "stage", "lead_department_id", "lead_department_name",
    "due_at", "warn", "submitted_at", "version", "pending_extension_days",
    "supervised", "urge_count", "part", "to_sign", NULL
};

/* ?fields= keeps them as bits of a uint32_t */
_Static_assert(sizeof(dgj_wfq_inbox_fields) / sizeof(char *) - 1 <= 32,
               "more inbox row fields than bits");


static const char  *dgj_wfq_channels[] = {
    "portal", "wechat", "app", "hotline", "govplatform", NULL
};

static const char  *dgj_wfq_rating_titles[] = {
    NULL, "非常满意", "满意", "基本满意", "不满意", "非常不满意"
};


static const dgj_sql_t  dgj_wfq_sql_category = {
    "workflow.query_category",
    "SELECT id, level FROM categories WHERE code = ?"
};

static const dgj_sql_t  dgj_wfq_sql_district = {
    "workflow.query_district",
    "SELECT id, 0 FROM districts WHERE code = ?"
};

static const dgj_sql_t  dgj_wfq_sql_detail = {
    "workflow.detail",
    "SELECT a.tracking_no, a.channel, a.external_id,"
    "       c.code AS category_code, c.name AS category_name,"
    "       pc.code AS topic_code, pc.name AS topic_name, a.appeal_type,"
    "       d.code AS district_code, d.name AS district_name,"
    "       a.address, a.latitude, a.longitude, a.title, a.content,"
    "       a.is_anonymous, a.publish_consent, a.priority, a.state, a.stage,"
    "       a.lead_department_id, ld.name AS lead_department_name,"
    "       m.tracking_no AS merged_into,"
    "       a.stage_started_at, a.due_at, a.warn_at,"
    "       CASE WHEN a.due_at IS NULL THEN NULL"
    "            WHEN a.due_at < ? THEN 'red'"
    "            WHEN a.warn_at <= ? THEN 'yellow'"
    "            ELSE 'green' END AS warn,"
    "       a.handle_due_at, a.returns_count, a.extensions_count,"
    "       a.reopen_count, a.urge_count, a.supervised,"
    "       a.pending_extension_days, a.outcome, a.outcome_owner, a.reply,"
    "       a.replied_at, a.resolved, a.rating, a.rating_comment, a.rated_at,"
    "       a.publish_state, a.public_title, a.public_content,"
    "       a.published_at, a.version, a.submitted_at, a.closed_at,"
    "       a.updated_at,"
    "       p.name AS _name, p.phone AS _phone, p.id_number AS _id_number"
    "  FROM appeals a"
    "  JOIN categories c ON c.id = a.category_id"
    "  LEFT JOIN categories pc ON pc.id = c.parent_id"
    "  JOIN districts d ON d.id = a.district_id"
    "  LEFT JOIN departments ld ON ld.id = a.lead_department_id"
    "  LEFT JOIN appeals m ON m.id = a.merged_into_id"
    "  LEFT JOIN appeal_personal p ON p.appeal_id = a.id"
    " WHERE a.id = ?"
};

static const dgj_sql_t  dgj_wfq_sql_tasks = {
    "workflow.detail_tasks",
    "SELECT t.id, t.department_id, dp.name AS department_name, t.state,"
    "       t.request_note, t.due_at, t.reply, t.replied_at, t.created_at"
    "  FROM appeal_tasks t"
    "  JOIN departments dp ON dp.id = t.department_id"
    " WHERE t.appeal_id = ?"
    " ORDER BY t.id"
};

static const dgj_sql_t  dgj_wfq_sql_attachments = {
    "workflow.detail_attachments",
    "SELECT id, original_name, media_type, size_bytes, sha256,"
    "       uploaded_role, created_at"
    "  FROM appeal_attachments"
    " WHERE appeal_id = ?"
    " ORDER BY id"
};

/* staff see staff names; a citizen actor's account name is personal */
static const dgj_sql_t  dgj_wfq_sql_events = {
    "workflow.detail_events",
    "SELECT e.id, e.at, e.actor_user_id,"
    "       CASE WHEN u.kind = 'staff' THEN u.display_name END AS actor_name,"
    "       e.actor_role, e.actor_department_id,"
    "       ad.name AS actor_department_name, e.action, e.from_state,"
    "       e.to_state, e.reason_code, e.comment, e.visibility, e.due_at_set,"
    "       e.target_department_id, td.name AS target_department_name,"
    "       e.task_id"
    "  FROM appeal_events e"
    "  LEFT JOIN users u ON u.id = e.actor_user_id"
    "  LEFT JOIN departments ad ON ad.id = e.actor_department_id"
    "  LEFT JOIN departments td ON td.id = e.target_department_id"
    " WHERE e.appeal_id = ?"
    " ORDER BY e.id"
};


/* the submitter's contact, for reveal */
static const dgj_sql_t  dgj_wfq_sql_personal = {
    "workflow.reveal_personal",
    "SELECT p.name AS _name, p.phone AS _phone, p.id_number AS _id_number"
    "  FROM appeal_personal p"
    " WHERE p.appeal_id = ?"
};


/* GET /api/v1/inbox?box=&state=&category=&district=&channel=&overdue=
 *     &from=&to=&department=&limit=&cursor= */

dgj_rc_t
dgj_wf_inbox(dgj_req_t *r)
{
    int               f;
    void             *it;
    size_t            i, n;
    json_t           *rows, *row, *next, *counts, *reply;
    dgj_rc_t          rc;
    dgj_arg_t         args[DGJ_WFQ_MAX_ARGS];
    const char       *name;
    dgj_identity_t    id;
    dgj_wfq_inbox_t   q;
    const dgj_sql_t  *sql;

    dgj_identity_get(r, &id);

    if (id.user_id == 0) {
        return dgj_req_fail(r, DGJ_ERR_UNAUTH, "sign in first");
    }

    rc = dgj_wfq_inbox_args(r, &id, &q);
    if (rc != DGJ_OK) {
        return rc;
    }

    n = dgj_wfq_inbox_bind(&q, 1, args, &sql);

    rc = dgj_db_rows_json(r, sql, args, n, &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    json_array_foreach(rows, i, row) {
        rc = dgj_wf_names_appeal(r, row, "lead_department_id");
        if (rc != DGJ_OK) {
            return rc;
        }

        dgj_wfq_state_title(row, "state", "state_title");
        dgj_wfq_bools(row, (const char *const []) { "supervised", NULL });

        if (q.dept == 0) {
            continue;
        }

        /* which part the caller's department plays, and what to do */
        if (json_integer_value(json_object_get(row, "lead_department_id"))
            == q.dept)
        {
            json_object_set_new(row, "part", json_string("lead"));
            json_object_set_new(row, "to_sign", json_boolean(
                strcmp(json_string_value(json_object_get(row, "state")),
                       "handling") != 0));

        } else {
            json_object_set_new(row, "part", json_string("assist"));
            json_object_set_new(row, "to_sign", json_false());
        }
    }

    rc = dgj_wfq_page(r, rows, q.limit, q.box->name, "due_at", &next);
    if (rc != DGJ_OK) {
        return rc;
    }

    /* a page asks for what it shows: less JSON to write and to read
     * (as rows, dgj_wfq_rows() takes only those) */
    if (q.fields != 0 && !q.rows) {
        json_array_foreach(rows, i, row) {
            it = json_object_iter(row);

            while (it != NULL) {
                name = json_object_iter_key(it);
                it = json_object_iter_next(row, it);

                f = dgj_wfq_field_index(name, strlen(name));

                if (f < 0 || !(q.fields & (UINT32_C(1) << f))) {
                    json_object_del(row, name);
                }
            }
        }
    }

    reply = dgj_json_own(r, json_pack("{s:s, s:o}", "box", q.box->name,
                                      "next", next));
    if (reply == NULL
        || (q.rows ? dgj_wfq_rows(reply, rows, q.fields, q.cells)
                   : json_object_set(reply, "items", rows)) != 0)
    {
        return DGJ_ERR_NOMEM;
    }

    /* the figures above the list: on the first page only */
    if (!q.cursor.present) {
        rc = dgj_wfq_counts(r, &q, &counts);
        if (rc != DGJ_OK) {
            return rc;
        }

        if (json_object_set_new(reply, "counts", counts) != 0) {
            return DGJ_ERR_NOMEM;
        }
    }

    if (dgj_req_audit(r, "appeal.inbox", q.box->name) != DGJ_OK
        || dgj_req_header_add(r, "Cache-Control", "no-store") != DGJ_OK)
    {
        return DGJ_ERR_NOMEM;
    }

    return dgj_reply_json(r, 200, reply);
}


/* GET /api/v1/appeals/{no} */

dgj_rc_t
dgj_wf_detail(dgj_req_t *r)
{
    size_t            i;
    json_t           *rows, *row, *tasks, *files, *events, *ev, *actions;
    dgj_rc_t          rc;
    const char       *no, *now;
    dgj_identity_t    id;
    dgj_wf_appeal_t   a;

    dgj_identity_get(r, &id);

    if (id.user_id == 0) {
        return dgj_req_fail(r, DGJ_ERR_UNAUTH, "sign in first");
    }

    no = dgj_req_capture(r, "no");

    if (dgj_req_audit(r, "appeal.view", no) != DGJ_OK
        || dgj_req_header_add(r, "Cache-Control", "no-store") != DGJ_OK)
    {
        return DGJ_ERR_NOMEM;
    }

    /* not found and not yours answer alike: numbers cannot be probed */
    rc = dgj_wf_load(r, no, 0, &a);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_wf_visible(r, &id, &a);
    if (rc != DGJ_OK) {
        return rc;
    }

    now = dgj_wf_time(r, dgj_clock_now(r->conf));

    rc = dgj_db_rows_json(r, &dgj_wfq_sql_detail,
                          DGJ_ARGS(DGJ_STR(now), DGJ_STR(now),
                                   DGJ_I64(a.id)),
                          &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    row = json_array_get(rows, 0);
    if (row == NULL) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "appeal %s vanished", no);
    }

    dgj_wfq_state_title(row, "state", "state_title");
    dgj_wfq_bools(row, (const char *const []) {
                           "is_anonymous", "publish_consent", "supervised",
                           "resolved", NULL });

    if (json_is_integer(json_object_get(row, "rating"))) {
        json_object_set_new(row, "rating_title", json_string(
            dgj_wfq_rating_title(json_integer_value(
                json_object_get(row, "rating")))));
    }

    rc = dgj_wfq_submitter(r, row, &id, 0);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_rows_json(r, &dgj_wfq_sql_tasks, DGJ_ARGS(DGJ_I64(a.id)),
                          &tasks);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_rows_json(r, &dgj_wfq_sql_attachments,
                          DGJ_ARGS(DGJ_I64(a.id)), &files);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_rows_json(r, &dgj_wfq_sql_events, DGJ_ARGS(DGJ_I64(a.id)),
                          &events);
    if (rc != DGJ_OK) {
        return rc;
    }

    json_array_foreach(events, i, ev) {
        json_object_set_new(ev, "action_title", json_string(
            dgj_wfq_action_title(json_string_value(
                json_object_get(ev, "action")))));
        dgj_wfq_state_title(ev, "to_state", "to_state_title");
    }

    rc = dgj_wfq_actions(r, &id, &a, &actions);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (json_object_set(row, "tasks", tasks) != 0
        || json_object_set(row, "attachments", files) != 0
        || json_object_set(row, "timeline", events) != 0
        || json_object_set_new(row, "actions", actions) != 0)
    {
        return DGJ_ERR_NOMEM;
    }

    return dgj_reply_json(r, 200, row);
}


/*
 * POST /api/v1/appeals/{no}/reveal: the submitter's name, phone and ID
 * number in full, for the two roles that call the citizen: intake (any
 * appeal, anonymous ones too) and a handler of the lead department (not
 * an anonymous submitter).  Every reveal is an internal "reveal" event on
 * the appeal's timeline (who, when) and the audit action appeal.reveal;
 * the appeal itself and its version do not change, so an open action form
 * stays valid.
 */
dgj_rc_t
dgj_wf_reveal(dgj_req_t *r)
{
    int               intake;
    json_t           *rows, *row, *reply;
    dgj_rc_t          rc;
    const char       *no;
    dgj_identity_t    id;
    dgj_wf_appeal_t   a;
    dgj_wf_event_t    ev;

    dgj_identity_get(r, &id);

    if (id.user_id == 0) {
        return dgj_req_fail(r, DGJ_ERR_UNAUTH, "sign in first");
    }

    no = dgj_req_capture(r, "no");

    if (dgj_req_audit(r, "appeal.reveal", no) != DGJ_OK
        || dgj_req_header_add(r, "Cache-Control", "no-store") != DGJ_OK)
    {
        return DGJ_ERR_NOMEM;
    }

    intake = dgj_identity_has_role(&id, "intake");

    if (!intake && !dgj_identity_has_role(&id, "handler")) {
        return dgj_req_fail_code(r, DGJ_ERR_FORBIDDEN, "role_forbidden",
                                 "only intake and the lead department's"
                                 " handler see the submitter's contact");
    }

    rc = dgj_wf_load(r, no, 0, &a);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_wf_visible(r, &id, &a);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (!intake) {
        if (a.lead_dept == 0 || (uint64_t) a.lead_dept != id.dept_id) {
            return dgj_req_fail_code(r, DGJ_ERR_FORBIDDEN,
                                     "not_your_department",
                                     "only the lead department's handler");
        }

        if (a.is_anonymous) {
            return dgj_req_fail_code(r, DGJ_ERR_FORBIDDEN, "anonymous",
                                     "the submitter asked to stay"
                                     " anonymous");
        }
    }

    rc = dgj_db_rows_json(r, &dgj_wfq_sql_personal, DGJ_ARGS(DGJ_I64(a.id)),
                          &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    row = json_array_get(rows, 0);
    if (row == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOT_FOUND, "no contact stored");
    }

    memset(&ev, 0, sizeof(dgj_wf_event_t));

    ev.appeal_id = a.id;
    ev.actor = (int64_t) id.user_id;
    ev.role = intake ? "intake" : "handler";
    ev.dept = (int64_t) id.dept_id;
    ev.action = "reveal";
    ev.from = a.state;
    ev.to = a.state;

    rc = dgj_wf_event(r, &ev, dgj_clock_now(r->conf));
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_wfq_submitter(r, row, &id, 1);
    if (rc != DGJ_OK) {
        return rc;
    }

    reply = dgj_json_own(r, json_pack("{s:s, s:O}", "tracking_no",
                                      a.tracking_no, "submitter",
                                      json_object_get(row, "submitter")));
    if (reply == NULL) {
        return DGJ_ERR_NOMEM;
    }

    return dgj_reply_json(r, 200, reply);
}


/* shared with dgj_workflow_public.c */

dgj_rc_t
dgj_wfq_cursor_arg(dgj_req_t *r, const char *scope, dgj_wfq_cursor_t *c)
{
    int          n;
    char        *text, *key, *idp, *end;
    size_t       len, slen;
    dgj_rc_t     rc;
    long long    v;
    const char  *s;

    memset(c, 0, sizeof(dgj_wfq_cursor_t));

    rc = dgj_req_arg(r, "cursor", &s);
    if (rc != DGJ_OK || s == NULL) {
        return rc;
    }

    text = strlen(s) <= DGJ_WFQ_CURSOR_MAX * 2 ? dgj_wfq_unb64url(r, s, &len)
                                               : NULL;

    /* "<scope>|<key>|<id>", the key empty for a NULL */
    slen = strlen(scope);

    if (text == NULL || len != strlen(text) || len <= slen + 2
        || strncmp(text, scope, slen) != 0 || text[slen] != '|')
    {
        goto invalid;
    }

    key = text + slen + 1;
    idp = strchr(key, '|');
    if (idp == NULL) {
        goto invalid;
    }

    *idp++ = '\0';

    errno = 0;
    v = strtoll(idp, &end, 10);
    if (*idp < '1' || *idp > '9' || *end != '\0' || errno != 0) {
        goto invalid;
    }

    /* a DATETIME as the database prints it, or an integer */
    n = (int) strlen(key);
    if (n > 0 && !(n == 19 && dgj_wf_time_parse(key) != 0)
        && strspn(key, "0123456789") != (size_t) n)
    {
        goto invalid;
    }

    c->present = 1;
    c->key = n > 0 ? key : NULL;
    c->id = v;

    return DGJ_OK;

invalid:

    return dgj_req_fail_code(r, DGJ_ERR_INPUT, "invalid_cursor",
                             "\"cursor\" is not a cursor of this list: start"
                             " again from the first page");
}


dgj_rc_t
dgj_wfq_limit_arg(dgj_req_t *r, int64_t *limit)
{
    char        *end;
    dgj_rc_t     rc;
    long long    v;
    const char  *s;

    rc = dgj_req_arg(r, "limit", &s);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (s == NULL) {
        *limit = DGJ_WFQ_LIMIT_DEFAULT;
        return DGJ_OK;
    }

    errno = 0;
    v = strtoll(s, &end, 10);

    if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v < 1
        || v > DGJ_WFQ_LIMIT_MAX)
    {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"limit\" must be 1..%d",
                            DGJ_WFQ_LIMIT_MAX);
    }

    *limit = v;

    return DGJ_OK;
}


dgj_rc_t
dgj_wfq_filter_args(dgj_req_t *r, dgj_wfq_filter_t *f)
{
    int64_t   id, level;
    dgj_rc_t  rc;

    memset(f, 0, sizeof(dgj_wfq_filter_t));

    rc = dgj_wfq_code_id(r, "category", &dgj_wfq_sql_category, &id, &level);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (level == 1) {
        f->topic = id;

    } else {
        f->leaf = id;
    }

    rc = dgj_wfq_code_id(r, "district", &dgj_wfq_sql_district, &f->district,
                         &level);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_wfq_date_arg(r, "from", 0, &f->from);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_wfq_date_arg(r, "to", 1, &f->to);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (f->from != NULL && f->to != NULL && strcmp(f->from, f->to) >= 0) {
        return dgj_req_fail(r, DGJ_ERR_INPUT,
                            "\"from\" must not be after \"to\"");
    }

    return DGJ_OK;
}


void
dgj_wfq_cursor_bind(const dgj_wfq_cursor_t *c, dgj_arg_t *args, size_t *n)
{
    if (!c->present) {
        args[(*n)++] = DGJ_NULL;
        args[(*n)++] = DGJ_NULL;
        args[(*n)++] = DGJ_NULL;
        args[(*n)++] = DGJ_NULL;
        args[(*n)++] = DGJ_I64(0);
        args[(*n)++] = DGJ_NULL;
        return;
    }

    args[(*n)++] = DGJ_I64(1);
    args[(*n)++] = c->key ? DGJ_STR(c->key) : DGJ_NULL;
    args[(*n)++] = c->key ? DGJ_STR(c->key) : DGJ_NULL;
    args[(*n)++] = DGJ_I64(c->id);
    args[(*n)++] = DGJ_I64(c->key == NULL);
    args[(*n)++] = DGJ_I64(c->id);
}


void
dgj_wfq_bind_pair(dgj_arg_t *args, size_t *n, int present, dgj_arg_t v)
{
    args[(*n)++] = present ? v : DGJ_NULL;
    args[(*n)++] = present ? v : DGJ_NULL;
}


dgj_rc_t
dgj_wfq_page(dgj_req_t *r, json_t *rows, int64_t limit, const char *scope,
    const char *key_col, json_t **next)
{
    char        *text;
    void        *it;
    size_t       i, n;
    json_t      *row, *k;
    const char  *key, *name;

    *next = NULL;
    n = json_array_size(rows);

    if (n > (size_t) limit) {
        json_array_remove(rows, (size_t) limit);

        row = json_array_get(rows, (size_t) limit - 1);
        k = key_col != NULL ? json_object_get(row, key_col) : NULL;

        /* "<scope>|<key>|<id>", the key empty for a NULL */
        key = json_is_string(k) ? json_string_value(k)
              : json_is_integer(k)
                ? dgj_psprintf(r->pool, "%" JSON_INTEGER_FORMAT,
                               json_integer_value(k))
              : "";

        text = key != NULL
               ? dgj_psprintf(r->pool, "%s|%s|%" JSON_INTEGER_FORMAT, scope,
                              key, json_integer_value(json_object_get(row,
                                                                      "id")))
               : NULL;
        text = text != NULL ? dgj_wfq_b64url(r, text, strlen(text)) : NULL;

        *next = text != NULL ? json_string(text) : NULL;
        if (*next == NULL) {
            return DGJ_ERR_NOMEM;
        }
    }

    json_array_foreach(rows, i, row) {
        it = json_object_iter(row);

        while (it != NULL) {
            name = json_object_iter_key(it);
            it = json_object_iter_next(row, it);

            /* internal columns: the id the cursor needs, "_" helpers */
            if (name[0] == '_' || strcmp(name, "id") == 0) {
                json_object_del(row, name);
            }
        }
    }

    if (*next == NULL) {
        *next = json_null();
    }

    return DGJ_OK;
}


void
dgj_wfq_bools(json_t *row, const char *const *keys)
{
    size_t   i;
    json_t  *v;

    for (i = 0; keys[i] != NULL; i++) {
        v = json_object_get(row, keys[i]);

        if (json_is_integer(v)) {
            json_object_set_new(row, keys[i],
                                json_boolean(json_integer_value(v) != 0));
        }
    }
}


void
dgj_wfq_state_title(json_t *row, const char *col, const char *title_col)
{
    const char  *title;

    title = dgj_wf_state_title(dgj_wf_state_parse(
                json_string_value(json_object_get(row, col))));

    json_object_set_new(row, title_col,
                        title != NULL ? json_string(title) : json_null());
}


const char *
dgj_wfq_rating_title(int64_t rating)
{
    if (rating < 1 || rating > 5) {
        return NULL;
    }

    return dgj_wfq_rating_titles[rating];
}


const char *
dgj_wfq_action_title(const char *action)
{
    const dgj_wf_transition_t  *t;

    if (action == NULL) {
        return "";
    }

    /* the events no transition makes */
    if (strcmp(action, "submit") == 0) {
        return "提交诉求";
    }

    if (strcmp(action, "reveal") == 0) {
        return "查看完整联系方式";
    }

    t = dgj_wf_transition(action);

    return t != NULL ? t->title : action;
}


static dgj_rc_t
dgj_wfq_inbox_args(dgj_req_t *r, const dgj_identity_t *id,
    dgj_wfq_inbox_t *q)
{
    int                   s;
    size_t                i;
    char                 *end;
    dgj_rc_t              rc;
    long long             v;
    const char           *box, *dept;
    const dgj_wfq_box_t  *b;

    memset(q, 0, sizeof(dgj_wfq_inbox_t));

    rc = dgj_req_arg(r, "box", &box);
    if (rc != DGJ_OK) {
        return rc;
    }

    /* without ?box= the box of the caller's first working role */
    for (b = dgj_wfq_boxes; b->name != NULL; b++) {
        if (box != NULL ? strcmp(b->name, box) == 0
                        : dgj_identity_has_role(id, b->role))
        {
            break;
        }
    }

    if (b->name == NULL) {
        if (box != NULL) {
            return dgj_req_fail_code(r, DGJ_ERR_INPUT, "unknown_box",
                "\"box\" must be intake, handler, reviewer or supervisor");
        }

        return dgj_req_fail_code(r, DGJ_ERR_FORBIDDEN, "role_forbidden",
                                 "your role works from no inbox");
    }

    if (!dgj_identity_has_role(id, b->role)) {
        return dgj_req_fail_code(r, DGJ_ERR_FORBIDDEN, "role_forbidden",
                                 "the %s box needs the %s role", b->name,
                                 b->role);
    }

    if (b->own_dept) {
        if (id->dept_id == 0) {
            return dgj_req_fail_code(r, DGJ_ERR_FORBIDDEN, "no_department",
                                     "your account has no department");
        }

        q->dept = (int64_t) id->dept_id;
    }

    q->box = b;

    if ((rc = dgj_req_arg(r, "state", &q->state)) != DGJ_OK
        || (rc = dgj_req_arg(r, "channel", &q->channel)) != DGJ_OK
        || (rc = dgj_req_arg(r, "overdue", &q->overdue)) != DGJ_OK
        || (rc = dgj_req_arg(r, "department", &dept)) != DGJ_OK)
    {
        return rc;
    }

    if (q->state != NULL) {
        s = dgj_wf_state_parse(q->state);

        if (s < 0) {
            return dgj_req_fail_code(r, DGJ_ERR_INPUT, "unknown_state",
                                     "\"state\" names no state");
        }

        if (!(b->states & DGJ_WF_BIT(s))) {
            return dgj_req_fail_code(r, DGJ_ERR_INPUT, "state_not_in_box",
                                     "appeals that are %s are never in the"
                                     " %s box", q->state, b->name);
        }
    }

    if (q->channel != NULL) {
        for (i = 0; dgj_wfq_channels[i] != NULL; i++) {
            if (strcmp(dgj_wfq_channels[i], q->channel) == 0) {
                break;
            }
        }

        if (dgj_wfq_channels[i] == NULL) {
            return dgj_req_fail(r, DGJ_ERR_INPUT, "\"channel\" must be portal,"
                                " wechat, app, hotline or govplatform");
        }
    }

    if (q->overdue != NULL && strcmp(q->overdue, "true") != 0
        && strcmp(q->overdue, "warned") != 0)
    {
        return dgj_req_fail(r, DGJ_ERR_INPUT,
                            "\"overdue\" must be true or warned");
    }

    if (dept != NULL) {
        if (!b->dept_filter) {
            return dgj_req_fail_code(r, DGJ_ERR_FORBIDDEN,
                                     "department_filter_forbidden",
                                     "only the intake and supervisor boxes"
                                     " filter by department");
        }

        errno = 0;
        v = strtoll(dept, &end, 10);

        if (*dept < '1' || *dept > '9' || *end != '\0' || errno != 0
            || v > UINT32_MAX)
        {
            return dgj_req_fail(r, DGJ_ERR_INPUT,
                                "\"department\" must be a department id");
        }

        q->department = v;
    }

    if ((rc = dgj_wfq_filter_args(r, &q->f)) != DGJ_OK
        || (rc = dgj_wfq_limit_arg(r, &q->limit)) != DGJ_OK
        || (rc = dgj_wfq_cursor_arg(r, b->name, &q->cursor)) != DGJ_OK
        || (rc = dgj_wfq_fields_arg(r, &q->fields)) != DGJ_OK
        || (rc = dgj_wfq_shape_arg(r, q)) != DGJ_OK)
    {
        return rc;
    }

    q->now = dgj_wf_time(r, dgj_clock_now(r->conf));

    return DGJ_OK;
}


/* ?fields=: a comma-separated list of inbox row fields, each known, as
 * the bits of their places in dgj_wfq_inbox_fields */
static dgj_rc_t
dgj_wfq_fields_arg(dgj_req_t *r, uint32_t *fields)
{
    int          f;
    size_t       len;
    dgj_rc_t     rc;
    const char  *s, *p, *comma;

    *fields = 0;

    rc = dgj_req_arg(r, "fields", &s);
    if (rc != DGJ_OK || s == NULL) {
        return rc;
    }

    for (p = s; /* void */; p = comma + 1) {
        comma = strchr(p, ',');
        len = comma != NULL ? (size_t) (comma - p) : strlen(p);

        f = dgj_wfq_field_index(p, len);
        if (f < 0) {
            return dgj_req_fail_code(r, DGJ_ERR_INPUT, "invalid_field",
                                     "\"fields\" must list inbox row fields"
                                     " (docs/api.md), separated by commas");
        }

        *fields |= UINT32_C(1) << f;

        if (comma == NULL) {
            return DGJ_OK;
        }
    }
}


/* ?shape=: "objects" (the default: "items", an object a row), "rows" or
 * "cells" */
static dgj_rc_t
dgj_wfq_shape_arg(dgj_req_t *r, dgj_wfq_inbox_t *q)
{
    dgj_rc_t     rc;
    const char  *s;

    q->rows = 0;
    q->cells = 0;

    rc = dgj_req_arg(r, "shape", &s);
    if (rc != DGJ_OK || s == NULL || strcmp(s, "objects") == 0) {
        return rc;
    }

    if (strcmp(s, "cells") == 0) {
        q->cells = 1;

    } else if (strcmp(s, "rows") != 0) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "invalid_field",
                                 "\"shape\" must be objects, rows or "
                                 "cells");
    }

    q->rows = 1;

    return DGJ_OK;
}


/*
 * ?shape=rows: reply["fields"], the names of the fields kept (all when
 * fields is 0) in the order of dgj_wfq_inbox_fields, and reply["rows"],
 * each item as an array of its values in that order (null where an item
 * has no such field).  The keys are written once, not once a row: half the
 * bytes of a 50-row page.  With cells, reply["cells"] instead: every
 * row's values one after another in one array, as many a row as fields:
 * what the console's page decodes, since a decoder grows one array a few
 * times where it grew every row's (docs/console.md).
 * 0, or -1 without memory.
 */
static int
dgj_wfq_rows(json_t *reply, json_t *items, uint32_t fields, int cells)
{
    int      f, n;
    size_t   i;
    json_t  *names, *rows, *row, *item, *v;
    int      kept[32];

    /* each set steals its array, or releases it when it fails */
    names = json_array();
    if (json_object_set_new(reply, "fields", names) != 0) {
        return -1;
    }

    rows = json_array();
    if (json_object_set_new(reply, cells ? "cells" : "rows", rows) != 0) {
        return -1;
    }

    n = 0;

    for (f = 0; dgj_wfq_inbox_fields[f] != NULL; f++) {
        if (fields == 0 || (fields & (UINT32_C(1) << f))) {
            kept[n++] = f;

            if (json_array_append_new(names,
                                      json_string(dgj_wfq_inbox_fields[f]))
                != 0)
            {
                return -1;
            }
        }
    }

    json_array_foreach(items, i, item) {
        row = rows;

        if (!cells) {
            row = json_array();

            if (json_array_append_new(rows, row) != 0) {
                return -1;
            }
        }

        for (f = 0; f < n; f++) {
            v = json_object_get(item, dgj_wfq_inbox_fields[kept[f]]);

            if (json_array_append(row, v != NULL ? v : json_null()) != 0) {
                return -1;
            }
        }
    }

    return 0;
}


/* the place of the row field name (len bytes) in dgj_wfq_inbox_fields,
 * or -1 */
static int
dgj_wfq_field_index(const char *name, size_t len)
{
    int  i;

    for (i = 0; dgj_wfq_inbox_fields[i] != NULL; i++) {
        if (strlen(dgj_wfq_inbox_fields[i]) == len
            && strncmp(dgj_wfq_inbox_fields[i], name, len) == 0)
        {
            return i;
        }
    }

    return -1;
}


/* the bind values of a box's list (list 1) or counts (list 0) query */
/*
 * The statement of the box's list (list = 1) or counts (0) for q, in
 * *sql, and its bind values in args; returns their number.
 */
static size_t
dgj_wfq_inbox_bind(const dgj_wfq_inbox_t *q, int list, dgj_arg_t *args,
    const dgj_sql_t **sql)
{
    int     filtered;
    size_t  n;

    n = 0;
    filtered = dgj_wfq_filtered(q);

    if (q->box->list_all != NULL && !filtered) {
        /* the unfiltered texts: see dgj_wfq_sql_intake_all */
        *sql = list ? q->box->list_all : q->box->counts_all;

        if (list) {
            return dgj_wfq_branches_bind(q, 0, args);
        }

        if (q->box->own_dept) {
            args[n++] = DGJ_I64(q->dept);
            args[n++] = DGJ_I64(q->dept);
        }

        return n;
    }

    *sql = list ? q->box->list : q->box->counts;

    if (list && q->box->own_dept) {
        return dgj_wfq_branches_bind(q, 1, args);
    }

    if (list) {
        args[n++] = DGJ_STR(q->now);
        args[n++] = DGJ_STR(q->now);
    }

    if (q->box->own_dept) {
        /* the handler counts: see dgj_wfq_sql_handler_counts */
        args[n++] = DGJ_I64(q->dept);
        dgj_wfq_filters_bind(q, args, &n);
        args[n++] = DGJ_I64(q->dept);
        args[n++] = DGJ_I64(q->dept);
        dgj_wfq_filters_bind(q, args, &n);

        return n;
    }

    if (q->box->warned) {
        args[n++] = DGJ_STR(q->now);
    }

    dgj_wfq_filters_bind(q, args, &n);

    if (list) {
        dgj_wfq_cursor_bind(&q->cursor, args, &n);

        /* one more than asked: whether there is a next page */
        args[n++] = DGJ_I64(q->limit + 1);
    }

    return n;
}


/* whether any filter of the query string is set */
static int
dgj_wfq_filtered(const dgj_wfq_inbox_t *q)
{
    return q->state != NULL || q->channel != NULL || q->overdue != NULL
           || q->department != 0 || q->f.leaf != 0 || q->f.topic != 0
           || q->f.district != 0 || q->f.from != NULL || q->f.to != NULL;
}


/*
 * The pages made of four branches (DGJ_WFQ_BRANCH_PAGE): now, now, per
 * branch the department (handler), the filters (when filtered), the
 * cursor and the limit, then the limit.
 */
static size_t
dgj_wfq_branches_bind(const dgj_wfq_inbox_t *q, int filtered,
    dgj_arg_t *args)
{
    int     branch;
    size_t  n;

    n = 0;
    args[n++] = DGJ_STR(q->now);
    args[n++] = DGJ_STR(q->now);

    for (branch = 0; branch < 4; branch++) {
        if (q->box->own_dept) {
            args[n++] = DGJ_I64(q->dept);
        }

        if (filtered) {
            dgj_wfq_filters_bind(q, args, &n);
        }

        dgj_wfq_cursor_bind(&q->cursor, args, &n);
        args[n++] = DGJ_I64(q->limit + 1);
    }

    /* one more than asked: whether there is a next page */
    args[n++] = DGJ_I64(q->limit + 1);

    return n;
}


/* the 20 values of DGJ_WFQ_FILTERS_ON(), appended at *n */
static void
dgj_wfq_filters_bind(const dgj_wfq_inbox_t *q, dgj_arg_t *args, size_t *n)
{
    dgj_wfq_bind_pair(args, n, q->state != NULL,
                      q->state ? DGJ_STR(q->state) : DGJ_NULL);
    dgj_wfq_bind_pair(args, n, q->f.leaf != 0, DGJ_I64(q->f.leaf));
    dgj_wfq_bind_pair(args, n, q->f.topic != 0, DGJ_I64(q->f.topic));
    dgj_wfq_bind_pair(args, n, q->f.district != 0, DGJ_I64(q->f.district));
    dgj_wfq_bind_pair(args, n, q->channel != NULL,
                      q->channel ? DGJ_STR(q->channel) : DGJ_NULL);
    dgj_wfq_bind_pair(args, n,
                      q->overdue != NULL && strcmp(q->overdue, "true") == 0,
                      DGJ_STR(q->now));
    dgj_wfq_bind_pair(args, n,
                      q->overdue != NULL && strcmp(q->overdue, "warned") == 0,
                      DGJ_STR(q->now));
    dgj_wfq_bind_pair(args, n, q->f.from != NULL,
                      q->f.from ? DGJ_STR(q->f.from) : DGJ_NULL);
    dgj_wfq_bind_pair(args, n, q->f.to != NULL,
                      q->f.to ? DGJ_STR(q->f.to) : DGJ_NULL);
    dgj_wfq_bind_pair(args, n, q->department != 0, DGJ_I64(q->department));
}


static dgj_rc_t
dgj_wfq_counts(dgj_req_t *r, const dgj_wfq_inbox_t *q, json_t **out)
{
    size_t            i, n;
    json_t           *rows, *row, *counts;
    int64_t           total;
    dgj_rc_t          rc;
    dgj_arg_t         args[DGJ_WFQ_MAX_ARGS];
    const dgj_sql_t  *sql;

    n = dgj_wfq_inbox_bind(q, 0, args, &sql);

    rc = dgj_db_rows_json(r, sql, args, n, &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    counts = json_object();
    if (counts == NULL) {
        return DGJ_ERR_NOMEM;
    }

    total = 0;

    json_array_foreach(rows, i, row) {
        total += json_integer_value(json_object_get(row, "n"));
        json_object_set(counts,
                        json_string_value(json_object_get(row, "state")),
                        json_object_get(row, "n"));
    }

    json_object_set_new(counts, "total", json_integer(total));
    *out = counts;

    return DGJ_OK;
}


/*
 * Everybody reads masks: the full contact is an explicit, recorded step
 * (POST .../reveal, full = 1).  An anonymous submitter is shown to intake
 * only (masked: intake may still have to call back), to nobody else.
 */
static dgj_rc_t
dgj_wfq_submitter(dgj_req_t *r, json_t *row, const dgj_identity_t *id,
    int full)
{
    json_t      *who;
    const char  *name, *phone, *idno;

    name = json_string_value(json_object_get(row, "_name"));
    phone = json_string_value(json_object_get(row, "_phone"));
    idno = json_string_value(json_object_get(row, "_id_number"));

    if (!full && !dgj_identity_has_role(id, "intake")
        && json_is_true(json_object_get(row, "is_anonymous")))
    {
        who = json_null();

    } else {
        if (!full) {
            name = name != NULL && name[0] != '\0'
                   ? dgj_ids_mask_name(r->pool, name) : name;
            phone = phone != NULL && phone[0] != '\0'
                    ? dgj_ids_mask_phone(r->pool, phone) : phone;
            idno = idno != NULL ? dgj_ids_mask_id(r->pool, idno) : NULL;
        }

        who = json_pack("{s:s?, s:s?, s:s?, s:b}", "name", name, "phone",
                        phone, "id_number", idno, "masked", !full);
        if (who == NULL) {
            return DGJ_ERR_NOMEM;
        }
    }

    /* the strings above belong to these columns: dropped only now */
    json_object_del(row, "_name");
    json_object_del(row, "_phone");
    json_object_del(row, "_id_number");

    return json_object_set_new(row, "submitter", who) == 0
           ? DGJ_OK : DGJ_ERR_NOMEM;
}


/*
 * The actions the machine table lets this caller take on a now: the
 * state, the role and the scope (lead or assisting department).  The
 * extension decisions wait for a request; the rest of each action's
 * checks happen when it is taken.
 */
static dgj_rc_t
dgj_wfq_actions(dgj_req_t *r, const dgj_identity_t *id,
    const dgj_wf_appeal_t *a, json_t **out)
{
    int                         task, task_known;
    json_t                     *list;
    dgj_rc_t                    rc;
    const dgj_wf_transition_t  *t;

    list = json_array();
    if (list == NULL) {
        return DGJ_ERR_NOMEM;
    }

    *out = list;
    task = 0;
    task_known = 0;

    for (t = dgj_wf_transitions(); t->action != NULL; t++) {

        if (t->scope == DGJ_WF_SCOPE_SYSTEM
            || t->scope == DGJ_WF_SCOPE_SUBMITTER
            || !(t->from & DGJ_WF_BIT(a->state))
            || !dgj_wf_role_allowed(t, id))
        {
            continue;
        }

        if (t->scope == DGJ_WF_SCOPE_LEAD
            && (a->lead_dept == 0 || (uint64_t) a->lead_dept != id->dept_id))
        {
            continue;
        }

        if (t->scope == DGJ_WF_SCOPE_ASSIST) {
            if (!task_known) {
                rc = dgj_wf_has_task(r, id, a, &task);
                if (rc != DGJ_OK) {
                    return rc;
                }

                task_known = 1;
            }

            if (!task) {
                continue;
            }
        }

        /* one extension request at a time, decided only once made */
        if (strcmp(t->action, "extension_request") == 0
            ? a->pending_extension != 0
            : strncmp(t->action, "extension_", 10) == 0
              && a->pending_extension == 0)
        {
            continue;
        }

        if (json_array_append_new(list, json_pack("{s:s, s:s}", "action",
                                                  t->action, "title",
                                                  t->title)) != 0)
        {
            return DGJ_ERR_NOMEM;
        }
    }

    return DGJ_OK;
}


/* the id (and level) of the code in query argument arg; 0 when absent */
static dgj_rc_t
dgj_wfq_code_id(dgj_req_t *r, const char *arg, const dgj_sql_t *sql,
    int64_t *id, int64_t *level)
{
    dgj_rc_t     rc;
    const char  *code;

    *id = 0;
    *level = 0;

    rc = dgj_req_arg(r, arg, &code);
    if (rc != DGJ_OK || code == NULL) {
        return rc;
    }

    rc = strlen(code) <= 16
         ? dgj_db_row(r, sql, DGJ_ARGS(DGJ_STR(code)),
                      DGJ_OUTS(DGJ_OUT_I64(id), DGJ_OUT_I64(level)))
         : DGJ_ERR_NOT_FOUND;

    if (rc == DGJ_ERR_NOT_FOUND) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "unknown_code",
                                 "\"%s\" names no %s", arg, arg);
    }

    return rc;
}


/* "YYYY-MM-DD" as the DATETIME that starts it, or the day after */
static dgj_rc_t
dgj_wfq_date_arg(dgj_req_t *r, const char *arg, int next_day,
    const char **out)
{
    char         buf[11];
    dgj_rc_t     rc;
    dgj_date_t   d;
    const char  *s;

    *out = NULL;

    rc = dgj_req_arg(r, arg, &s);
    if (rc != DGJ_OK || s == NULL) {
        return rc;
    }

    if (dgj_date_parse(s, strlen(s), &d) != 0) {
        return dgj_req_fail(r, DGJ_ERR_INPUT,
                            "\"%s\" must be a date YYYY-MM-DD", arg);
    }

    dgj_date_format(d + next_day, buf);

    *out = dgj_psprintf(r->pool, "%s 00:00:00", buf);

    return *out != NULL ? DGJ_OK : DGJ_ERR_NOMEM;
}


/* base64url without padding, owned by r->pool */
static char *
dgj_wfq_b64url(dgj_req_t *r, const char *s, size_t len)
{
    char     *out;
    size_t    i;
    int       n;

    out = dgj_palloc(r->pool, 4 * ((len + 2) / 3) + 1);
    if (out == NULL) {
        return NULL;
    }

    n = EVP_EncodeBlock((unsigned char *) out, (const unsigned char *) s,
                        (int) len);

    while (n > 0 && out[n - 1] == '=') {
        n--;
    }

    out[n] = '\0';

    for (i = 0; i < (size_t) n; i++) {
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    }

    return out;
}


/* the bytes of base64url s (NUL-terminated), or NULL when malformed */
static char *
dgj_wfq_unb64url(dgj_req_t *r, const char *s, size_t *len)
{
    int      n;
    char    *in, *out;
    size_t   i, slen, pad;

    slen = strlen(s);
    if (slen == 0 || slen % 4 == 1
        || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789-_") != slen)
    {
        return NULL;
    }

    pad = (4 - slen % 4) % 4;

    in = dgj_palloc(r->pool, slen + pad + 1);
    out = dgj_palloc(r->pool, (slen + pad) / 4 * 3 + 1);
    if (in == NULL || out == NULL) {
        return NULL;
    }

    for (i = 0; i < slen; i++) {
        in[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    }

    memset(in + slen, '=', pad);
    in[slen + pad] = '\0';

    n = EVP_DecodeBlock((unsigned char *) out, (const unsigned char *) in,
                        (int) (slen + pad));
    if (n < 0 || (size_t) n < pad) {
        return NULL;
    }

    *len = (size_t) n - pad;
    out[*len] = '\0';

    return out;
}
