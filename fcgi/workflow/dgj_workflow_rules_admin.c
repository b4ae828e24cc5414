
/*
 * Copyright (C) Daguanjia
 *
 * dgj_workflow_rules_admin.c: the system admin's API for deadline rules
 * (table deadline_rules, 0009_workflow.sql): list them, add a version.
 * Rules are never updated or deleted, only superseded by a newer
 * effective_from, so an appeal already running keeps its deadline.
 * nginx refuses every role but sysadmin on /api/v1/admin/; so does each
 * handler.
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
#include "dgj_workflow_deadline.h"


#define DGJ_RULES_AMOUNT_MAX  720       /* ck_deadline_rules_amount */
#define DGJ_RULES_NOTE_CHARS  200       /* deadline_rules.note */
#define DGJ_RULES_YEAR_MAX    2100      /* as far as calendar_years goes */


static dgj_rc_t dgj_rules_list(dgj_req_t *r);
static dgj_rc_t dgj_rules_add(dgj_req_t *r);

static dgj_rc_t dgj_rules_enum(dgj_req_t *r, const json_t *body,
    const char *key, const char *const *values, const char *allowed,
    int required, const char **out);
static const char *dgj_rules_find(const char *const *values, const char *s);
static dgj_rc_t dgj_rules_category(dgj_req_t *r, const json_t *body,
    int64_t *id);
static dgj_rc_t dgj_rules_note(dgj_req_t *r, const json_t *body,
    const char **out);
static void dgj_rules_today(dgj_req_t *r, char *buf);


const dgj_route_t  dgj_deadline_rules_routes[] = {

    { DGJ_GET,  "/api/v1/admin/deadline-rules", dgj_rules_list },
    { DGJ_POST, "/api/v1/admin/deadline-rules", dgj_rules_add },

      dgj_null_route
};


static const char *const  dgj_rules_roles[] = { "sysadmin", NULL };

static const char *const  dgj_rules_stages[] = {
    "intake", "sign", "handle", "review", "rating", "rehandle", "assist", NULL
};

static const char *const  dgj_rules_types[] = {
    "consultation", "help", "complaint", "report", "suggestion", "praise",
    NULL
};

static const char *const  dgj_rules_priorities[] = {
    "normal", "urgent", NULL
};

static const char *const  dgj_rules_units[] = {
    "working_days", "hours", "calendar_days", NULL
};


/*
 * status: "scheduled" before its effective_from, "superseded" when a
 * later version of the same key (stage, type, category, priority) is in
 * force, else "in_force".  The two ? are today's date.
 */
#define DGJ_RULES_SELECT                                                      \
    "SELECT d.id, d.stage, d.appeal_type, d.category_id,"                     \
    "       c.code AS category_code, c.name AS category_name, d.priority,"    \
    "       d.unit, d.amount, d.effective_from, d.note,"                      \
    "       u.username AS created_by, d.created_at,"                          \
    "       CASE WHEN d.effective_from > ? THEN 'scheduled'"                  \
    "            WHEN EXISTS (SELECT 1 FROM deadline_rules n"                 \
    "                          WHERE n.stage = d.stage"                       \
    "                            AND n.appeal_type <=> d.appeal_type"         \
    "                            AND n.category_id <=> d.category_id"         \
    "                            AND n.priority <=> d.priority"               \
    "                            AND n.effective_from <= ?"                   \
    "                            AND (n.effective_from > d.effective_from"    \
    "                                 OR (n.effective_from = d.effective_from"\
    "                                     AND n.id > d.id)))"                 \
    "            THEN 'superseded'"                                           \
    "            ELSE 'in_force' END AS status"                               \
    "  FROM deadline_rules d"                                                 \
    "  LEFT JOIN categories c ON c.id = d.category_id"                        \
    "  LEFT JOIN users u ON u.id = d.created_by"

static const dgj_sql_t  dgj_rules_sql_list = {
    "rules.list",
    DGJ_RULES_SELECT
    " WHERE (? = '' OR d.stage = ?)"
    " ORDER BY FIELD(d.stage, 'intake', 'sign', 'handle', 'review',"
    "                'rating', 'rehandle', 'assist'),"
    "          d.category_id IS NOT NULL, c.code,"
    "          d.appeal_type IS NOT NULL, d.appeal_type,"
    "          d.priority IS NOT NULL, d.priority,"
    "          d.effective_from DESC, d.id DESC"
};

static const dgj_sql_t  dgj_rules_sql_get = {
    "rules.get",
    DGJ_RULES_SELECT
    " WHERE d.id = ?"
};

static const dgj_sql_t  dgj_rules_sql_category = {
    "rules.category",
    "SELECT level FROM categories WHERE id = ?"
};

static const dgj_sql_t  dgj_rules_sql_insert = {
    "rules.insert",
    "INSERT INTO deadline_rules"
    "       (stage, appeal_type, category_id, priority, unit, amount,"
    "        effective_from, note, created_by, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
};


/* GET /api/v1/admin/deadline-rules?stage= */

static dgj_rc_t
dgj_rules_list(dgj_req_t *r)
{
    char             today[11];
    json_t          *rows, *reply;
    dgj_rc_t         rc;
    const char      *stage;
    dgj_identity_t   id;

    rc = dgj_identity_require(r, &id, dgj_rules_roles);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_req_arg(r, "stage", &stage);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (stage != NULL && dgj_rules_find(dgj_rules_stages, stage) == NULL) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"stage\" must be one of "
                            "intake, sign, handle, review, rating, "
                            "rehandle, assist");
    }

    dgj_rules_today(r, today);

    rc = dgj_db_rows_json(r, &dgj_rules_sql_list,
                          DGJ_ARGS(DGJ_STR(today), DGJ_STR(today),
                                   DGJ_STR(stage ? stage : ""),
                                   DGJ_STR(stage ? stage : "")),
                          &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    reply = dgj_json_own(r, json_pack("{s:O, s:I, s:s}", "items", rows,
                                      "count",
                                      (json_int_t) json_array_size(rows),
                                      "today", today));
    if (reply == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the reply");
    }

    return dgj_reply_json(r, 200, reply);
}


/*
 * POST /api/v1/admin/deadline-rules {stage, appeal_type?, category_id?,
 * priority?, unit, amount, effective_from, note?}: a new version.
 */

static dgj_rc_t
dgj_rules_add(dgj_req_t *r)
{
    char             today[11], now_s[24], ids[24];
    json_t          *body, *rows, *v;
    int64_t          category;
    uint64_t         rid;
    dgj_rc_t         rc;
    json_int_t       amount;
    const char      *stage, *type, *priority, *unit, *from, *note;
    dgj_date_t       date;
    dgj_identity_t   id;
    int              y, m, d;

    static const char *const  keys[] = {
        "stage", "appeal_type", "category_id", "priority", "unit", "amount",
        "effective_from", "note", NULL
    };

    rc = dgj_identity_require(r, &id, dgj_rules_roles);
    if (rc != DGJ_OK) {
        return rc;
    }

    if ((rc = dgj_json_body_keys(r, keys, &body)) != DGJ_OK
        || (rc = dgj_rules_enum(r, body, "stage", dgj_rules_stages,
                                "intake, sign, handle, review, rating, "
                                "rehandle or assist", 1, &stage)) != DGJ_OK
        || (rc = dgj_rules_enum(r, body, "appeal_type", dgj_rules_types,
                                "consultation, help, complaint, report, "
                                "suggestion, praise or null", 0, &type))
           != DGJ_OK
        || (rc = dgj_rules_enum(r, body, "priority", dgj_rules_priorities,
                                "normal, urgent or null", 0, &priority))
           != DGJ_OK
        || (rc = dgj_rules_enum(r, body, "unit", dgj_rules_units,
                                "working_days, hours or calendar_days", 1,
                                &unit)) != DGJ_OK
        || (rc = dgj_json_get_int(r, body, "amount", INT64_MIN, INT64_MAX,
                                  &amount)) != DGJ_OK
        || (rc = dgj_json_get_str(r, body, "effective_from", &from))
           != DGJ_OK
        || (rc = dgj_rules_note(r, body, &note)) != DGJ_OK)
    {
        return rc;
    }

    if (amount < 1 || amount > DGJ_RULES_AMOUNT_MAX) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "out_of_range",
                                 "\"amount\" must be within 1..%d",
                                 DGJ_RULES_AMOUNT_MAX);
    }

    if (dgj_date_parse(from, strlen(from), &date) != 0) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"effective_from\" must be "
                            "a real date written YYYY-MM-DD");
    }

    dgj_date_to_ymd(date, &y, &m, &d);

    if (y > DGJ_RULES_YEAR_MAX) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "out_of_range",
                                 "\"effective_from\" must be before %d",
                                 DGJ_RULES_YEAR_MAX + 1);
    }

    /* "YYYY-MM-DD" strings compare as the dates do */
    dgj_rules_today(r, today);

    if (strcmp(from, today) < 0) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "effective_in_past",
                                 "\"effective_from\" %s is in the past: a "
                                 "rule takes effect from today (%s) at the "
                                 "earliest, so running appeals keep their "
                                 "deadlines", from, today);
    }

    v = json_object_get(body, "category_id");

    if (v != NULL && !json_is_null(v) && type != NULL) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "category_and_type",
                                 "give \"category_id\" or \"appeal_type\", "
                                 "not both: a category has its own type");
    }

    rc = dgj_rules_category(r, body, &category);
    if (rc != DGJ_OK) {
        return rc;
    }

    dgj_clock_format(dgj_clock_now(r->conf), now_s, sizeof(now_s));

    rc = dgj_db_exec(r, &dgj_rules_sql_insert,
                     DGJ_ARGS(DGJ_STR(stage),
                              type ? DGJ_STR(type) : DGJ_NULL,
                              category ? DGJ_I64(category) : DGJ_NULL,
                              priority ? DGJ_STR(priority) : DGJ_NULL,
                              DGJ_STR(unit), DGJ_I64(amount), DGJ_STR(from),
                              DGJ_STR(note),
                              DGJ_I64((int64_t) id.user_id),
                              DGJ_STR(now_s)),
                     NULL, &rid);
    if (rc != DGJ_OK) {
        return rc;
    }

    snprintf(ids, sizeof(ids), "%llu", (unsigned long long) rid);

    rc = dgj_req_audit(r, "deadline_rule.add", ids);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_rows_json(r, &dgj_rules_sql_get,
                          DGJ_ARGS(DGJ_STR(today), DGJ_STR(today),
                                   DGJ_I64((int64_t) rid)),
                          &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (json_array_size(rows) != 1) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "deadline rule %s not "
                            "read back", ids);
    }

    return dgj_reply_json(r, 201, json_array_get(rows, 0));
}


/*
 * A string field that must be one of values (NULL-terminated); absent
 * or null gives NULL unless required.
 */
static dgj_rc_t
dgj_rules_enum(dgj_req_t *r, const json_t *body, const char *key,
    const char *const *values, const char *allowed, int required,
    const char **out)
{
    json_t      *v;
    const char  *s;

    *out = NULL;

    v = json_object_get(body, key);

    if (v == NULL || json_is_null(v)) {
        if (required) {
            return dgj_req_fail(r, DGJ_ERR_INPUT, "\"%s\" is required: %s",
                                key, allowed);
        }

        return DGJ_OK;
    }

    s = json_string_value(v);

    *out = (s != NULL) ? dgj_rules_find(values, s) : NULL;
    if (*out == NULL) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"%s\" must be %s", key,
                            allowed);
    }

    return DGJ_OK;
}


/* the member of values (NULL-terminated) equal to s, or NULL */
static const char *
dgj_rules_find(const char *const *values, const char *s)
{
    size_t  i;

    for (i = 0; values[i] != NULL; i++) {
        if (strcmp(s, values[i]) == 0) {
            return values[i];
        }
    }

    return NULL;
}


/* category_id: absent or null (0), or the id of a leaf category */
static dgj_rc_t
dgj_rules_category(dgj_req_t *r, const json_t *body, int64_t *id)
{
    json_t      *v;
    int64_t      level;
    dgj_rc_t     rc;
    json_int_t   n;

    *id = 0;

    v = json_object_get(body, "category_id");
    if (v == NULL || json_is_null(v)) {
        return DGJ_OK;
    }

    rc = dgj_json_get_int(r, body, "category_id", 1, UINT32_MAX, &n);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_row(r, &dgj_rules_sql_category, DGJ_ARGS(DGJ_I64(n)),
                    DGJ_OUTS(DGJ_OUT_I64(&level)));
    if (rc == DGJ_ERR_NOT_FOUND) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "unknown_category",
                                 "no category %lld", (long long) n);
    }

    if (rc != DGJ_OK) {
        return rc;
    }

    if (level != 2) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "category_not_leaf",
                                 "category %lld is a topic, not a leaf "
                                 "category: appeals are filed under leaves",
                                 (long long) n);
    }

    *id = n;

    return DGJ_OK;
}


/* note: optional, at most 200 characters, no control characters */
static dgj_rc_t
dgj_rules_note(dgj_req_t *r, const json_t *body, const char **out)
{
    size_t          n;
    dgj_rc_t        rc;
    const unsigned char  *p;

    rc = dgj_accounts_opt_str(r, body, "note", 4 * DGJ_RULES_NOTE_CHARS,
                              out);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (*out == NULL) {
        *out = "";
        return DGJ_OK;
    }

    n = 0;

    /* Jansson gives valid UTF-8: count the bytes that start a character */
    for (p = (const unsigned char *) *out; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return dgj_req_fail(r, DGJ_ERR_INPUT, "\"note\" must be one "
                                "line without control characters");
        }

        n += (*p & 0xc0) != 0x80;
    }

    if (n > DGJ_RULES_NOTE_CHARS) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"note\" is longer than %d "
                            "characters", DGJ_RULES_NOTE_CHARS);
    }

    return DGJ_OK;
}


/* today's Beijing date on the workers' clock, "YYYY-MM-DD" */
static void
dgj_rules_today(dgj_req_t *r, char *buf)
{
    dgj_date_format(dgj_deadline_date(dgj_clock_now(r->conf)), buf);
}
