
/*
 * Copyright (C) Daguanjia
 *
 * dgj_workflow_public.c: what the public reads, without signing in: the
 * status of an appeal by tracking number and query code (and its rating
 * by the same proof), the published appeals (公示) and, signed in, a
 * citizen's own appeals.  Nothing here ever shows a name, a phone or an
 * ID number: free text passes through dgj_wfp_text(), which masks the
 * submitter's name and anything that looks like a phone or ID number.
 */


#include "dgj_core.h"
#include "dgj_workflow.h"
#include "dgj_workflow_names.h"
#include "dgj_workflow_query.h"
#include "dgj_clock.h"
#include "dgj_db.h"
#include "dgj_ids.h"
#include "dgj_json.h"


#define DGJ_WFP_Q_MAX     50        /* characters of a disclosure search */


static dgj_rc_t dgj_wfp_verify(dgj_req_t *r, const char *no,
    const char *code, int64_t *id);
static dgj_rc_t dgj_wfp_code_matches(dgj_req_t *r, const char *hex,
    const char *code);
static dgj_rc_t dgj_wfp_not_found(dgj_req_t *r);
static dgj_rc_t dgj_wfp_code_body(dgj_req_t *r, const char *const *keys,
    json_t **body, const char **no, const char **code);
static dgj_rc_t dgj_wfp_timeline(dgj_req_t *r, int64_t id, const char *name,
    json_t **out);
static void dgj_wfp_fields(dgj_req_t *r, json_t *row, const char *name,
    const char *const *keys);
static const char *dgj_wfp_text(dgj_req_t *r, const char *text,
    const char *name);
static void dgj_wfp_rating(json_t *row);
static dgj_rc_t dgj_wfp_q_arg(dgj_req_t *r, const char **like);


static const char *const  dgj_wfp_submitters[] = {
    "citizen", "organisation", NULL
};


/*
 * The reply is public once review approved it: from awaiting_feedback
 * on.  In replied, and in handling after a send-back, the stored reply
 * is one review has not passed.
 */
#define DGJ_WFP_REPLY_SHOWN                                                   \
    "a.state IN ('awaiting_feedback', 'dissatisfied', 'reopened', 'closed')"

/* what a disclosure search matches: the text as shown, name masked */
#define DGJ_WFP_SHOWN(col)                                                    \
    "CASE WHEN CHAR_LENGTH(p.name) >= 2 THEN REPLACE(" col ", p.name, '*')"  \
    " ELSE " col " END"


static const dgj_sql_t  dgj_wfp_sql_code = {
    "workflow.track_code",
    "SELECT id, HEX(query_code_mac) FROM appeals WHERE tracking_no = ?"
};

/*
 * The status row and its code's MAC in one read by the unique tracking
 * number, then the public timeline: two single-table reads (the names
 * come from the worker's cache, dgj_workflow_names.h), and the MAC is
 * checked in C before anything is shown.  MariaDB plans a prepared
 * statement at every execution: the five-table join this replaced, or a
 * JSON_ARRAYAGG subquery for the timeline, cost it more than two plain
 * reads (tests/bench/workflow).
 */
static const dgj_sql_t  dgj_wfp_sql_track = {
    "workflow.track",
    "SELECT a.id AS _id, HEX(a.query_code_mac) AS _mac,"
    "       a.tracking_no, a.title,"
    "       a.category_id AS _category_id, a.district_id AS _district_id,"
    "       a.channel, a.state, a.submitted_at, a.due_at, a.handle_due_at,"
    "       a.lead_department_id AS _lead_department_id,"
    "       CASE WHEN " DGJ_WFP_REPLY_SHOWN " THEN a.reply END AS reply,"
    "       CASE WHEN " DGJ_WFP_REPLY_SHOWN " THEN a.replied_at END"
    "            AS replied_at,"
    "       CASE WHEN " DGJ_WFP_REPLY_SHOWN
    "              OR a.state IN ('rejected', 'merged') THEN a.outcome END"
    "            AS outcome,"
    "       a.rating, a.resolved, a.rating_comment, a.rated_at, a.closed_at,"
    "       a.state = 'awaiting_feedback'"
    "       AND (a.due_at IS NULL OR a.due_at >= ?) AS rating_open,"
    "       p.name AS _name"
    "  FROM appeals a"
    "  LEFT JOIN appeal_personal p ON p.appeal_id = a.id"
    " WHERE a.tracking_no = ?"
};

/* no staff ids or names; comments only where they speak to the citizen */
static const dgj_sql_t  dgj_wfp_sql_timeline = {
    "workflow.track_timeline",
    "SELECT e.at, e.action, e.to_state,"
    "       e.actor_department_id AS _actor_department_id,"
    "       e.target_department_id AS _target_department_id,"
    "       CASE WHEN e.action IN ('reject', 'merge', 'rate') THEN e.comment"
    "       END AS comment,"
    "       e.due_at_set"
    "  FROM appeal_events e"
    " WHERE e.appeal_id = ? AND e.visibility = 'public'"
    " ORDER BY e.id"
};

/* ix_appeals_submitter (submitter_user_id, id), read backwards */
static const dgj_sql_t  dgj_wfp_sql_mine = {
    "workflow.mine",
    "SELECT a.id, a.tracking_no, a.title,"
    "       c.code AS category_code, c.name AS category_name,"
    "       d.code AS district_code, d.name AS district_name,"
    "       a.channel, a.state, a.submitted_at, a.updated_at,"
    "       a.state = 'awaiting_feedback'"
    "       AND (a.due_at IS NULL OR a.due_at >= ?) AS rating_open,"
    "       p.name AS _name"
    "  FROM appeals a"
    "  LEFT JOIN categories c ON c.id = a.category_id"
    "  LEFT JOIN districts d ON d.id = a.district_id"
    "  LEFT JOIN appeal_personal p ON p.appeal_id = a.id"
    " WHERE a.submitter_user_id = ?"
    "   AND (? IS NULL OR a.id < ?)"
    " ORDER BY a.id DESC"
    " LIMIT ?"
};

/*
 * ix_appeals_published (publish_state, published_at, id), backwards; the
 * lookups LEFT so that the appeals drive the join (dgj_workflow_query.c).
 * Reports are never published (the publish action refuses them); the
 * category test here holds even if one were.
 */
static const dgj_sql_t  dgj_wfp_sql_disclosures = {
    "workflow.disclosures",
    "SELECT a.id, a.tracking_no, a.public_title,"
    "       c.code AS category_code, c.name AS category_name,"
    "       d.code AS district_code, d.name AS district_name,"
    "       DATE(a.submitted_at) AS submitted_on, a.published_at, a.rating,"
    "       p.name AS _name"
    "  FROM appeals a"
    "  LEFT JOIN categories c ON c.id = a.category_id"
    "  LEFT JOIN districts d ON d.id = a.district_id"
    "  LEFT JOIN appeal_personal p ON p.appeal_id = a.id"
    " WHERE a.publish_state = 'published'"
    "   AND a.category_id NOT IN"
    "       (SELECT cp.id FROM categories cp WHERE cp.is_public = 0)"
    "   AND (? IS NULL OR a.category_id = ?)"
    "   AND (? IS NULL OR a.category_id IN"
    "        (SELECT ct.id FROM categories ct WHERE ct.parent_id = ?))"
    "   AND (? IS NULL OR a.district_id = ?)"
    "   AND (? IS NULL OR a.published_at >= ?)"
    "   AND (? IS NULL OR a.published_at < ?)"
    "   AND (? IS NULL"
    "        OR " DGJ_WFP_SHOWN("a.public_title") " LIKE ? ESCAPE '!'"
    "        OR " DGJ_WFP_SHOWN("a.public_content") " LIKE ? ESCAPE '!')"
    DGJ_WFQ_SQL_BEFORE("a.published_at", "a.id")
    " ORDER BY a.published_at DESC, a.id DESC"
    " LIMIT ?"
};

static const dgj_sql_t  dgj_wfp_sql_disclosure = {
    "workflow.disclosure",
    "SELECT a.tracking_no, a.public_title, a.public_content,"
    "       c.code AS category_code, c.name AS category_name,"
    "       pc.code AS topic_code, pc.name AS topic_name,"
    "       d.code AS district_code, d.name AS district_name,"
    "       ld.name AS lead_department_name, a.state,"
    "       DATE(a.submitted_at) AS submitted_on,"
    "       CASE WHEN " DGJ_WFP_REPLY_SHOWN " THEN a.reply END AS reply,"
    "       CASE WHEN " DGJ_WFP_REPLY_SHOWN " THEN DATE(a.replied_at) END"
    "            AS replied_on,"
    "       CASE WHEN " DGJ_WFP_REPLY_SHOWN " THEN a.outcome END AS outcome,"
    "       a.published_at, DATE(a.closed_at) AS closed_on,"
    "       a.rating, a.resolved,"
    "       p.name AS _name"
    "  FROM appeals a"
    "  JOIN categories c ON c.id = a.category_id"
    "  LEFT JOIN categories pc ON pc.id = c.parent_id"
    "  JOIN districts d ON d.id = a.district_id"
    "  LEFT JOIN departments ld ON ld.id = a.lead_department_id"
    "  LEFT JOIN appeal_personal p ON p.appeal_id = a.id"
    " WHERE a.tracking_no = ?"
    "   AND a.publish_state = 'published' AND c.is_public = 1"
};


/* POST /api/v1/appeals/track {tracking_no, query_code} */

dgj_rc_t
dgj_wf_track(dgj_req_t *r)
{
    json_t       *body, *rows, *row, *timeline;
    int64_t       id;
    dgj_rc_t      rc;
    const char   *no, *code, *name;

    static const char  *keys[] = { "tracking_no", "query_code", NULL };

    if (dgj_req_header_add(r, "Cache-Control", "no-store") != DGJ_OK) {
        return DGJ_ERR_NOMEM;
    }

    rc = dgj_wfp_code_body(r, keys, &body, &no, &code);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (dgj_req_audit(r, "appeal.track", no) != DGJ_OK) {
        return DGJ_ERR_NOMEM;
    }

    rows = NULL;
    timeline = NULL;

    if (dgj_wf_tracking_ok(no)) {
        rc = dgj_db_rows_json(r, &dgj_wfp_sql_track,
                              DGJ_ARGS(DGJ_STR(dgj_wf_time(r,
                                                   dgj_clock_now(r->conf))),
                                       DGJ_STR(no)),
                              &rows);
        if (rc != DGJ_OK) {
            return rc;
        }
    }

    row = json_array_get(rows, 0);

    /* the HMAC runs for unknown numbers too: both answers take as long */
    rc = dgj_wfp_code_matches(r, row != NULL
                                 ? json_string_value(json_object_get(row,
                                                                     "_mac"))
                                 : NULL,
                              code);
    if (rc != DGJ_OK) {
        return rc;
    }

    id = json_integer_value(json_object_get(row, "_id"));
    name = json_string_value(json_object_get(row, "_name"));

    rc = dgj_wf_names_appeal(r, row, "_lead_department_id");
    if (rc != DGJ_OK) {
        return rc;
    }

    json_object_del(row, "_id");
    json_object_del(row, "_mac");

    dgj_wfq_state_title(row, "state", "state_title");
    dgj_wfq_bools(row, (const char *const []) { "resolved", "rating_open",
                                                NULL });
    dgj_wfp_rating(row);
    dgj_wfp_fields(r, row, name, (const char *const []) {
                       "title", "reply", "rating_comment", NULL });

    rc = dgj_wfp_timeline(r, id, name, &timeline);
    if (rc != DGJ_OK) {
        return rc;
    }

    json_object_del(row, "_name");

    if (json_object_set_new(row, "timeline", timeline) != 0) {
        return DGJ_ERR_NOMEM;
    }

    return dgj_reply_json(r, 200, row);
}


/*
 * POST /api/v1/appeals/track/rate
 *   {tracking_no, query_code, rating 1..5, resolved, comment?}
 * The code is the proof: the rating is the "rate" action by code.
 */

dgj_rc_t
dgj_wf_track_rate(dgj_req_t *r)
{
    size_t           i;
    json_t          *body, *rate;
    int64_t          id;
    dgj_rc_t         rc;
    const char      *no, *code;
    dgj_identity_t   who;

    static const char  *keys[] = {
        "tracking_no", "query_code", "rating", "resolved", "comment", NULL
    };

    if (dgj_req_header_add(r, "Cache-Control", "no-store") != DGJ_OK) {
        return DGJ_ERR_NOMEM;
    }

    rc = dgj_wfp_code_body(r, keys, &body, &no, &code);
    if (rc == DGJ_OK) {
        rc = dgj_wfp_verify(r, no, code, &id);
    }

    if (rc != DGJ_OK) {
        /* dgj_wf_act() names the action itself when it gets that far */
        if (dgj_req_audit(r, "appeal.rate", no) != DGJ_OK) {
            return DGJ_ERR_NOMEM;
        }

        return rc;
    }

    /* the action sees the rating fields only, never the code */
    rate = dgj_json_own(r, json_object());
    if (rate == NULL) {
        return DGJ_ERR_NOMEM;
    }

    for (i = 2; keys[i] != NULL; i++) {
        if (json_object_get(body, keys[i]) != NULL
            && json_object_set(rate, keys[i], json_object_get(body, keys[i]))
               != 0)
        {
            return DGJ_ERR_NOMEM;
        }
    }

    dgj_identity_get(r, &who);

    rc = dgj_wf_act(r, &who, no, "rate", rate, 1);

    if (rc != DGJ_OK && dgj_req_audit(r, "appeal.rate", no) != DGJ_OK) {
        return DGJ_ERR_NOMEM;
    }

    return rc;
}


/* GET /api/v1/appeals/mine?limit=&cursor= */

dgj_rc_t
dgj_wf_mine(dgj_req_t *r)
{
    size_t             i;
    json_t            *rows, *row, *next, *reply;
    int64_t            limit;
    dgj_rc_t           rc;
    dgj_identity_t     id;
    dgj_wfq_cursor_t   cursor;

    rc = dgj_identity_require(r, &id, dgj_wfp_submitters);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_wfq_limit_arg(r, &limit)) != DGJ_OK
        || (rc = dgj_wfq_cursor_arg(r, "mine", &cursor)) != DGJ_OK)
    {
        return rc;
    }

    rc = dgj_db_rows_json(r, &dgj_wfp_sql_mine,
                          DGJ_ARGS(DGJ_STR(dgj_wf_time(r,
                                               dgj_clock_now(r->conf))),
                                   DGJ_I64((int64_t) id.user_id),
                                   cursor.present ? DGJ_I64(1) : DGJ_NULL,
                                   DGJ_I64(cursor.id),
                                   DGJ_I64(limit + 1)),
                          &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    json_array_foreach(rows, i, row) {
        dgj_wfq_state_title(row, "state", "state_title");
        dgj_wfq_bools(row, (const char *const []) { "rating_open", NULL });
        dgj_wfp_fields(r, row,
                       json_string_value(json_object_get(row, "_name")),
                       (const char *const []) { "title", NULL });
    }

    rc = dgj_wfq_page(r, rows, limit, "mine", NULL, &next);
    if (rc != DGJ_OK) {
        return rc;
    }

    reply = dgj_json_own(r, json_pack("{s:O, s:o}", "items", rows,
                                      "next", next));
    if (reply == NULL) {
        return DGJ_ERR_NOMEM;
    }

    if (dgj_req_audit(r, "appeal.mine", NULL) != DGJ_OK
        || dgj_req_header_add(r, "Cache-Control", "no-store") != DGJ_OK)
    {
        return DGJ_ERR_NOMEM;
    }

    return dgj_reply_json(r, 200, reply);
}


/*
 * GET /api/v1/disclosures?q=&category=&district=&from=&to=&limit=&cursor=
 * from/to are publication dates.
 */

dgj_rc_t
dgj_wf_disclosures(dgj_req_t *r)
{
    size_t             i, n;
    json_t            *rows, *row, *next, *reply;
    int64_t            limit;
    dgj_rc_t           rc;
    dgj_arg_t          args[24];
    const char        *like;
    dgj_wfq_cursor_t   cursor;
    dgj_wfq_filter_t   f;

    if ((rc = dgj_wfq_filter_args(r, &f)) != DGJ_OK
        || (rc = dgj_wfp_q_arg(r, &like)) != DGJ_OK
        || (rc = dgj_wfq_limit_arg(r, &limit)) != DGJ_OK
        || (rc = dgj_wfq_cursor_arg(r, "disclosures", &cursor)) != DGJ_OK)
    {
        return rc;
    }

    n = 0;
    dgj_wfq_bind_pair(args, &n, f.leaf != 0, DGJ_I64(f.leaf));
    dgj_wfq_bind_pair(args, &n, f.topic != 0, DGJ_I64(f.topic));
    dgj_wfq_bind_pair(args, &n, f.district != 0, DGJ_I64(f.district));
    dgj_wfq_bind_pair(args, &n, f.from != NULL,
                      f.from ? DGJ_STR(f.from) : DGJ_NULL);
    dgj_wfq_bind_pair(args, &n, f.to != NULL, f.to ? DGJ_STR(f.to) : DGJ_NULL);
    args[n++] = like ? DGJ_I64(1) : DGJ_NULL;
    dgj_wfq_bind_pair(args, &n, like != NULL,
                      like ? DGJ_STR(like) : DGJ_NULL);
    dgj_wfq_cursor_bind(&cursor, args, &n);
    args[n++] = DGJ_I64(limit + 1);

    rc = dgj_db_rows_json(r, &dgj_wfp_sql_disclosures, args, n, &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    json_array_foreach(rows, i, row) {
        dgj_wfp_rating(row);
        dgj_wfp_fields(r, row,
                       json_string_value(json_object_get(row, "_name")),
                       (const char *const []) { "public_title", NULL });
    }

    rc = dgj_wfq_page(r, rows, limit, "disclosures", "published_at", &next);
    if (rc != DGJ_OK) {
        return rc;
    }

    reply = dgj_json_own(r, json_pack("{s:O, s:o}", "items", rows,
                                      "next", next));
    if (reply == NULL) {
        return DGJ_ERR_NOMEM;
    }

    if (dgj_req_audit(r, "disclosure.list", NULL) != DGJ_OK) {
        return DGJ_ERR_NOMEM;
    }

    return dgj_reply_json(r, 200, reply);
}


/* GET /api/v1/disclosures/{no} */

dgj_rc_t
dgj_wf_disclosure(dgj_req_t *r)
{
    json_t       *rows, *row;
    dgj_rc_t      rc;
    const char   *no;

    no = dgj_req_capture(r, "no");

    if (dgj_req_audit(r, "disclosure.view", no) != DGJ_OK) {
        return DGJ_ERR_NOMEM;
    }

    if (!dgj_wf_tracking_ok(no)) {
        return dgj_req_fail_code(r, DGJ_ERR_NOT_FOUND, "disclosure_not_found",
                                 "no published appeal has this number");
    }

    rc = dgj_db_rows_json(r, &dgj_wfp_sql_disclosure, DGJ_ARGS(DGJ_STR(no)),
                          &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    row = json_array_get(rows, 0);
    if (row == NULL) {
        return dgj_req_fail_code(r, DGJ_ERR_NOT_FOUND, "disclosure_not_found",
                                 "no published appeal has this number");
    }

    dgj_wfq_state_title(row, "state", "state_title");
    dgj_wfq_bools(row, (const char *const []) { "resolved", NULL });
    dgj_wfp_rating(row);
    dgj_wfp_fields(r, row, json_string_value(json_object_get(row, "_name")),
                   (const char *const []) {
                       "public_title", "public_content", "reply", NULL });

    json_object_del(row, "_name");

    return dgj_reply_json(r, 200, row);
}


/*
 * Whether code opens appeal no: *id set and DGJ_OK, or the one 404 that
 * a wrong code, an unknown and a malformed number all get.
 */
static dgj_rc_t
dgj_wfp_verify(dgj_req_t *r, const char *no, const char *code, int64_t *id)
{
    dgj_rc_t     rc;
    const char  *hex;

    hex = NULL;
    *id = 0;

    if (dgj_wf_tracking_ok(no)) {
        rc = dgj_db_row(r, &dgj_wfp_sql_code, DGJ_ARGS(DGJ_STR(no)),
                        DGJ_OUTS(DGJ_OUT_I64(id), DGJ_OUT_STR(&hex)));

        if (rc == DGJ_ERR_NOT_FOUND) {
            hex = NULL;

        } else if (rc != DGJ_OK) {
            return rc;
        }
    }

    return dgj_wfp_code_matches(r, hex, code);
}


/*
 * hex: the stored MAC as HEX() prints it, NULL for no such appeal.  The
 * HMAC runs either way, so that both answers take as long, and both are
 * the same 404.
 */
static dgj_rc_t
dgj_wfp_code_matches(dgj_req_t *r, const char *hex, const char *code)
{
    int            found, ok, hi, lo;
    size_t         i;
    unsigned char  mac[32];

    memset(mac, 0, sizeof(mac));
    found = 0;

    if (hex != NULL && strlen(hex) == 64) {
        found = 1;

        /* HEX() prints upper case */
        for (i = 0; i < sizeof(mac); i++) {
            hi = hex[2 * i];
            lo = hex[2 * i + 1];
            hi = hi <= '9' ? hi - '0' : hi - 'A' + 10;
            lo = lo <= '9' ? lo - '0' : lo - 'A' + 10;
            mac[i] = (unsigned char) (hi << 4 | lo);
        }
    }

    ok = dgj_wf_query_code_ok(r, code, mac, sizeof(mac));

    if (!ok && r->err_rc != DGJ_OK) {
        /* the query key could not be read: a fault, not a wrong code */
        return r->err_rc;
    }

    if (!found || !ok || strlen(code) != 6) {
        return dgj_wfp_not_found(r);
    }

    return DGJ_OK;
}


static dgj_rc_t
dgj_wfp_not_found(dgj_req_t *r)
{
    return dgj_req_fail_code(r, DGJ_ERR_NOT_FOUND, "appeal_not_found",
                             "no appeal matches this tracking number and"
                             " query code");
}


/* a body of exactly keys, with "tracking_no" and "query_code" strings */
static dgj_rc_t
dgj_wfp_code_body(dgj_req_t *r, const char *const *keys, json_t **body,
    const char **no, const char **code)
{
    dgj_rc_t  rc;

    *no = NULL;

    rc = dgj_json_body_keys(r, keys, body);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_json_get_str(r, *body, "tracking_no", no);
    if (rc != DGJ_OK) {
        return rc;
    }

    return dgj_json_get_str(r, *body, "query_code", code);
}


static dgj_rc_t
dgj_wfp_timeline(dgj_req_t *r, int64_t id, const char *name, json_t **out)
{
    size_t     i;
    json_t    *rows, *ev;
    dgj_rc_t   rc;

    rc = dgj_db_rows_json(r, &dgj_wfp_sql_timeline, DGJ_ARGS(DGJ_I64(id)),
                          &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    json_array_foreach(rows, i, ev) {
        rc = dgj_wf_names_set(r, ev, "_actor_department_id",
                              DGJ_WF_NAMES_DEPARTMENT, NULL,
                              "department_name");
        if (rc == DGJ_OK) {
            rc = dgj_wf_names_set(r, ev, "_target_department_id",
                                  DGJ_WF_NAMES_DEPARTMENT, NULL,
                                  "target_department_name");
        }
        if (rc != DGJ_OK) {
            return rc;
        }

        json_object_set_new(ev, "title", json_string(
            dgj_wfq_action_title(json_string_value(
                json_object_get(ev, "action")))));
        dgj_wfq_state_title(ev, "to_state", "to_state_title");
        dgj_wfp_fields(r, ev, name, (const char *const []) { "comment",
                                                             NULL });
    }

    *out = json_incref(rows);

    return DGJ_OK;
}


/* passes the string columns keys of row through dgj_wfp_text() */
static void
dgj_wfp_fields(dgj_req_t *r, json_t *row, const char *name,
    const char *const *keys)
{
    size_t       i;
    const char  *v, *shown;

    for (i = 0; keys[i] != NULL; i++) {
        v = json_string_value(json_object_get(row, keys[i]));
        if (v == NULL) {
            continue;
        }

        shown = dgj_wfp_text(r, v, name);

        /* out of memory: nothing rather than the unmasked text */
        json_object_set_new(row, keys[i],
                            shown != NULL ? json_string(shown) : json_null());
    }
}


/*
 * text as the public may see it: every occurrence of the submitter's
 * name (two characters or more) masked as dgj_ids masks names, then
 * phone and ID numbers masked by dgj_wf_redact_text().  NULL when out of
 * memory.
 */
static const char *
dgj_wfp_text(dgj_req_t *r, const char *text, const char *name)
{
    char         *out, *o, *mask;
    size_t        nlen, mlen, chars, k, n, count;
    const char   *p, *hit;

    nlen = name != NULL ? strlen(name) : 0;
    chars = 0;

    for (k = 0; k < nlen; k += n) {
        n = dgj_req_utf8_len((const unsigned char *) name + k, nlen - k);
        n = n == 0 ? 1 : n;
        chars++;
    }

    if (chars < 2 || strstr(text, name) == NULL) {
        return dgj_wf_redact_text(r, text);
    }

    mask = dgj_ids_mask_name(r->pool, name);
    if (mask == NULL) {
        return NULL;
    }

    mlen = strlen(mask);

    count = 0;
    for (p = text; (hit = strstr(p, name)) != NULL; p = hit + nlen) {
        count++;
    }

    out = dgj_palloc(r->pool, strlen(text) + count * mlen + 1);
    if (out == NULL) {
        return NULL;
    }

    o = out;

    for (p = text; (hit = strstr(p, name)) != NULL; p = hit + nlen) {
        memcpy(o, p, (size_t) (hit - p));
        o += hit - p;
        memcpy(o, mask, mlen);
        o += mlen;
    }

    strcpy(o, p);

    return dgj_wf_redact_text(r, out);
}


static void
dgj_wfp_rating(json_t *row)
{
    json_t  *v;

    v = json_object_get(row, "rating");

    json_object_set_new(row, "rating_title", json_is_integer(v)
        ? json_string(dgj_wfq_rating_title(json_integer_value(v)))
        : json_null());
}


/* ?q=: 1..DGJ_WFP_Q_MAX characters as a LIKE pattern, '!' escaping */
static dgj_rc_t
dgj_wfp_q_arg(dgj_req_t *r, const char **like)
{
    char         *out;
    size_t        len, i, n, chars;
    dgj_rc_t      rc;
    const char   *q;

    *like = NULL;

    rc = dgj_req_arg(r, "q", &q);
    if (rc != DGJ_OK || q == NULL) {
        return rc;
    }

    len = strlen(q);
    chars = 0;

    for (i = 0; i < len; i += n) {
        n = dgj_req_utf8_len((const unsigned char *) q + i, len - i);
        if (n == 0 || (n == 1 && (unsigned char) q[i] < 0x20)) {
            return dgj_req_fail(r, DGJ_ERR_INPUT, "\"q\" must be text");
        }

        chars++;
    }

    if (chars == 0 || chars > DGJ_WFP_Q_MAX
        || strspn(q, " ") == len)
    {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"q\" must be 1..%d"
                            " characters", DGJ_WFP_Q_MAX);
    }

    out = dgj_db_like(r->pool, q, len, 1, 1);
    if (out == NULL) {
        return DGJ_ERR_NOMEM;
    }

    *like = out;

    return DGJ_OK;
}
