
/*
 * Copyright (C) Daguanjia
 *
 * dgj_workflow.c: what every workflow file shares: the route table,
 * loading an appeal, who may see it, appending events, Beijing times,
 * query codes, field validation and the summary returned after an action.
 */


#include "dgj_core.h"
#include "dgj_workflow.h"
#include "dgj_workflow_deadline.h"
#include "dgj_deadline.h"
#include "dgj_db.h"
#include "dgj_json.h"
#include "dgj_conf.h"
#include "dgj_clock.h"
#include "dgj_log.h"
#include "dgj_peer.h"

#include <ctype.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>


const dgj_route_t  dgj_workflow_routes[] = {

    { DGJ_POST, "/api/v1/appeals",                        dgj_wf_submit },
    { DGJ_POST, "/api/v1/appeals/{no}/actions/{action}",  dgj_wf_action },
    { DGJ_GET,  "/api/v1/workflow/transitions",
      dgj_wf_transitions_get },

    { DGJ_POST, "/api/v1/appeals/{no}/attachments",      dgj_wf_attach_upload },
    { DGJ_GET,  "/api/v1/appeals/{no}/attachments",      dgj_wf_attach_list },
    { DGJ_GET,  "/api/v1/appeals/{no}/attachments/{id}", dgj_wf_attach_get },

    /* reads: "mine" before {no}, which would match it */
    { DGJ_GET,  "/api/v1/inbox",                          dgj_wf_inbox },
    { DGJ_GET,  "/api/v1/appeals/mine",                   dgj_wf_mine },
    { DGJ_GET,  "/api/v1/appeals/{no}",                   dgj_wf_detail },
    { DGJ_POST, "/api/v1/appeals/{no}/reveal",            dgj_wf_reveal },
    { DGJ_POST, "/api/v1/appeals/track",                  dgj_wf_track },
    { DGJ_POST, "/api/v1/appeals/track/rate",             dgj_wf_track_rate },
    { DGJ_GET,  "/api/v1/disclosures",                    dgj_wf_disclosures },
    { DGJ_GET,  "/api/v1/disclosures/{no}",               dgj_wf_disclosure },

    dgj_null_route
};


/* one appeal by tracking number, as dgj_wf_appeal_t holds it */
#define DGJ_WF_SQL_LOAD                                                       \
    "SELECT a.id, a.tracking_no, a.channel, a.category_id, a.appeal_type,"    \
    "       c.is_public, a.district_id, a.priority, a.state,"                 \
    "       COALESCE(a.lead_department_id, 0),"                               \
    "       COALESCE(a.submitter_user_id, 0), a.is_anonymous,"                \
    "       a.publish_consent, a.stage,"                                      \
    "       COALESCE(DATE_FORMAT(a.handle_due_at, '%Y-%m-%d %H:%i:%s'), '')," \
    "       COALESCE(DATE_FORMAT(a.due_at, '%Y-%m-%d %H:%i:%s'), ''),"        \
    "       a.returns_count, a.extensions_count, a.reopen_count,"             \
    "       COALESCE(a.pending_extension_days, 0), a.version,"                \
    "       DATE_FORMAT(a.submitted_at, '%Y-%m-%d %H:%i:%s'),"                \
    "       COALESCE(DATE_FORMAT(a.replied_at, '%Y-%m-%d %H:%i:%s'), '')"     \
    "  FROM appeals a JOIN categories c ON c.id = a.category_id"              \
    " WHERE a.tracking_no = ?"

static const dgj_sql_t  dgj_wf_sql_load = {
    "workflow.load",
    DGJ_WF_SQL_LOAD
};

static const dgj_sql_t  dgj_wf_sql_load_lock = {
    "workflow.load_for_update",
    DGJ_WF_SQL_LOAD
    "   FOR UPDATE"
};

static const dgj_sql_t  dgj_wf_sql_task_of_dept = {
    "workflow.task_of_dept",
    "SELECT COUNT(*) FROM appeal_tasks"
    " WHERE appeal_id = ? AND department_id = ? AND state = 'open'"
};

static const dgj_sql_t  dgj_wf_sql_any_task_of_dept = {
    "workflow.any_task_of_dept",
    "SELECT COUNT(*) FROM appeal_tasks"
    " WHERE appeal_id = ? AND department_id = ?"
};

static const dgj_sql_t  dgj_wf_sql_event = {
    "workflow.event",
    "INSERT INTO appeal_events (appeal_id, at, actor_user_id, actor_role,"
    "       actor_department_id, action, from_state, to_state, reason_code,"
    "       comment, visibility, due_at_set, target_department_id, task_id,"
    "       request_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
};

static const dgj_sql_t  dgj_wf_sql_summary = {
    "workflow.summary",
    "SELECT tracking_no, state, stage,"
    "       DATE_FORMAT(due_at, '%Y-%m-%d %H:%i:%s') AS due_at,"
    "       DATE_FORMAT(warn_at, '%Y-%m-%d %H:%i:%s') AS warn_at,"
    "       DATE_FORMAT(handle_due_at, '%Y-%m-%d %H:%i:%s') AS handle_due_at,"
    "       lead_department_id, outcome, version"
    "  FROM appeals WHERE tracking_no = ?"
};


int
dgj_wf_tracking_ok(const char *s)
{
    size_t  i;

    if (s == NULL || strlen(s) != 16 || s[0] != 'D' || s[1] != 'G') {
        return 0;
    }

    for (i = 2; i < 16; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }

    return 1;
}


dgj_rc_t
dgj_wf_load(dgj_req_t *r, const char *tracking_no, int for_update,
    dgj_wf_appeal_t *a)
{
    int64_t      state_ok;
    dgj_rc_t     rc;
    const char  *state, *handle_due, *due, *submitted, *replied;

    memset(a, 0, sizeof(dgj_wf_appeal_t));

    if (!dgj_wf_tracking_ok(tracking_no)) {
        return dgj_req_fail_code(r, DGJ_ERR_NOT_FOUND, "appeal_not_found",
                                 "no appeal has this tracking number");
    }

    rc = dgj_db_row(r, for_update ? &dgj_wf_sql_load_lock : &dgj_wf_sql_load,
                    DGJ_ARGS(DGJ_STR(tracking_no)),
                    DGJ_OUTS(DGJ_OUT_I64(&a->id),
                             DGJ_OUT_STR(&a->tracking_no),
                             DGJ_OUT_STR(&a->channel),
                             DGJ_OUT_I64(&a->category_id),
                             DGJ_OUT_STR(&a->appeal_type),
                             DGJ_OUT_I64(&a->category_public),
                             DGJ_OUT_I64(&a->district_id),
                             DGJ_OUT_STR(&a->priority),
                             DGJ_OUT_STR(&state),
                             DGJ_OUT_I64(&a->lead_dept),
                             DGJ_OUT_I64(&a->submitter),
                             DGJ_OUT_I64(&a->is_anonymous),
                             DGJ_OUT_I64(&a->publish_consent),
                             DGJ_OUT_STR(&a->stage),
                             DGJ_OUT_STR(&handle_due),
                             DGJ_OUT_STR(&due),
                             DGJ_OUT_I64(&a->returns_count),
                             DGJ_OUT_I64(&a->extensions_count),
                             DGJ_OUT_I64(&a->reopen_count),
                             DGJ_OUT_I64(&a->pending_extension),
                             DGJ_OUT_I64(&a->version),
                             DGJ_OUT_STR(&submitted),
                             DGJ_OUT_STR(&replied)));

    if (rc == DGJ_ERR_NOT_FOUND) {
        return dgj_req_fail_code(r, DGJ_ERR_NOT_FOUND, "appeal_not_found",
                                 "no appeal has this tracking number");
    }

    if (rc != DGJ_OK) {
        return rc;
    }

    a->state = dgj_wf_state_parse(state);
    state_ok = a->state >= 0;

    if (!state_ok) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "appeal %s in unknown state",
                            tracking_no);
    }

    a->handle_due = dgj_wf_time_parse(handle_due);
    a->due = dgj_wf_time_parse(due);
    a->submitted = dgj_wf_time_parse(submitted);
    a->replied = dgj_wf_time_parse(replied);

    return DGJ_OK;
}


dgj_rc_t
dgj_wf_has_task(dgj_req_t *r, const dgj_identity_t *id,
    const dgj_wf_appeal_t *a, int *yes)
{
    int64_t   n;
    dgj_rc_t  rc;

    *yes = 0;

    if (id->dept_id == 0) {
        return DGJ_OK;
    }

    rc = dgj_db_row(r, &dgj_wf_sql_task_of_dept,
                    DGJ_ARGS(DGJ_I64(a->id), DGJ_I64((int64_t) id->dept_id)),
                    DGJ_OUTS(DGJ_OUT_I64(&n)));
    if (rc != DGJ_OK) {
        return rc;
    }

    *yes = n > 0;

    return DGJ_OK;
}


dgj_rc_t
dgj_wf_visible(dgj_req_t *r, const dgj_identity_t *id,
    const dgj_wf_appeal_t *a)
{
    int64_t   n;
    dgj_rc_t  rc;

    if (dgj_identity_has_role(id, "intake")
        || dgj_identity_has_role(id, "reviewer")
        || dgj_identity_has_role(id, "supervisor")
        || dgj_identity_has_role(id, "analyst"))
    {
        return DGJ_OK;
    }

    if (dgj_identity_has_role(id, "handler") && id->dept_id != 0) {

        if ((uint64_t) a->lead_dept == id->dept_id) {
            return DGJ_OK;
        }

        /* an assisting department keeps seeing what it answered */
        rc = dgj_db_row(r, &dgj_wf_sql_any_task_of_dept,
                        DGJ_ARGS(DGJ_I64(a->id),
                                 DGJ_I64((int64_t) id->dept_id)),
                        DGJ_OUTS(DGJ_OUT_I64(&n)));
        if (rc != DGJ_OK) {
            return rc;
        }

        if (n > 0) {
            return DGJ_OK;
        }
    }

    return dgj_req_fail_code(r, DGJ_ERR_NOT_FOUND, "appeal_not_found",
                             "no appeal has this tracking number");
}


const char *
dgj_wf_actor_role(const dgj_wf_transition_t *t, const dgj_identity_t *id)
{
    size_t  i;

    if (t->scope == DGJ_WF_SCOPE_SYSTEM) {
        return "system";
    }

    for (i = 0; i < 4 && t->roles[i] != NULL; i++) {
        if (dgj_identity_has_role(id, t->roles[i])) {
            return t->roles[i];
        }
    }

    /* the submitter proving it with the query code */
    return "citizen";
}


dgj_rc_t
dgj_wf_event(dgj_req_t *r, const dgj_wf_event_t *ev, int64_t now)
{
    const char      *from, *due, *at;
    dgj_wf_event_t   e;

    e = *ev;
    from = e.from >= 0 ? dgj_wf_state_name(e.from) : NULL;
    due = e.due_set != 0 ? dgj_wf_time(r, e.due_set) : NULL;
    at = dgj_wf_time(r, now);

    return dgj_db_exec(r, &dgj_wf_sql_event,
        DGJ_ARGS(DGJ_I64(e.appeal_id),
                 DGJ_STR(at),
                 e.actor != 0 ? DGJ_I64(e.actor) : DGJ_NULL,
                 DGJ_STR(e.role),
                 e.dept != 0 ? DGJ_I64(e.dept) : DGJ_NULL,
                 DGJ_STR(e.action),
                 from != NULL ? DGJ_STR(from) : DGJ_NULL,
                 DGJ_STR(dgj_wf_state_name(e.to)),
                 e.reason != NULL ? DGJ_STR(e.reason) : DGJ_NULL,
                 e.comment != NULL ? DGJ_STR(e.comment) : DGJ_NULL,
                 DGJ_STR(e.public ? "public" : "internal"),
                 due != NULL ? DGJ_STR(due) : DGJ_NULL,
                 e.target_dept != 0 ? DGJ_I64(e.target_dept) : DGJ_NULL,
                 e.task_id != 0 ? DGJ_I64(e.task_id) : DGJ_NULL,
                 strcmp(r->request_id, "-") != 0
                     ? DGJ_STR(r->request_id) : DGJ_NULL),
        NULL, NULL);
}


const char *
dgj_wf_time(dgj_req_t *r, int64_t t)
{
    int         y, m, d;
    char       *buf;
    int64_t     local, secs;
    dgj_date_t  date;

    if (t == 0) {
        return NULL;
    }

    buf = dgj_palloc(r->pool, 32);
    if (buf == NULL) {
        return "1970-01-01 00:00:00";
    }

    /* Beijing time is UTC+8 all year: no time zone database needed */
    local = t + DGJ_DEADLINE_TZ_OFFSET;
    date = (dgj_date_t) (local >= 0 ? local / 86400 : (local - 86399) / 86400);
    secs = local - (int64_t) date * 86400;
    dgj_date_to_ymd(date, &y, &m, &d);

    snprintf(buf, 32, "%04d-%02d-%02d %02d:%02d:%02d", y, m, d,
             (int) (secs / 3600), (int) (secs / 60 % 60), (int) (secs % 60));

    return buf;
}


int64_t
dgj_wf_time_parse(const char *s)
{
    int         y, m, d, hh, mm, ss;
    dgj_date_t  date;

    if (s == NULL || s[0] == '\0') {
        return 0;
    }

    if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d", &y, &m, &d, &hh, &mm, &ss) != 6
        || !dgj_date_valid(y, m, d))
    {
        return 0;
    }

    date = dgj_date_from_ymd(y, m, d);

    return (int64_t) date * 86400 + hh * 3600 + mm * 60 + ss
           - DGJ_DEADLINE_TZ_OFFSET;
}


dgj_rc_t
dgj_wf_text(dgj_req_t *r, const json_t *obj, const char *key, size_t min,
    size_t max, unsigned flags, const char **out)
{
    size_t                n, chars, blank;
    json_t               *v;
    const unsigned char  *p, *end;

    *out = NULL;
    v = json_object_get(obj, key);

    if (v == NULL || json_is_null(v)) {
        if (min > 0) {
            return dgj_req_fail_code(r, DGJ_ERR_INPUT, "missing_field",
                                     "\"%s\" is required", key);
        }

        return DGJ_OK;
    }

    if (!json_is_string(v)) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "\"%s\" must be a string", key);
    }

    p = (const unsigned char *) json_string_value(v);
    end = p + json_string_length(v);
    chars = 0;
    blank = 1;

    /* Jansson has checked UTF-8; count characters, refuse controls */
    while (p < end) {
        n = dgj_req_utf8_len(p, (size_t) (end - p));
        if (n == 0) {
            return dgj_req_fail(r, DGJ_ERR_INPUT, "\"%s\" is not UTF-8", key);
        }

        if (n == 1 && (*p < 0x20 || *p == 0x7f)) {
            if (!(flags & DGJ_WF_TEXT_MULTILINE)
                || (*p != '\n' && *p != '\r' && *p != '\t'))
            {
                return dgj_req_fail_code(r, DGJ_ERR_INPUT, "invalid_text",
                    "\"%s\" must not contain control characters", key);
            }
        }

        if (!(n == 1 && (*p == ' ' || *p == '\n' || *p == '\r'
                         || *p == '\t')))
        {
            blank = 0;
        }

        p += n;
        chars++;
    }

    if (chars > max) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "too_long",
            "\"%s\" is longer than %zu characters", key, max);
    }

    if (min > 0 && (chars < min || blank)) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "too_short",
            "\"%s\" needs at least %zu characters", key, min);
    }

    *out = json_string_value(v);

    return DGJ_OK;
}


/*
 * The query key, read once per worker process: it is on every track and
 * submission, and a worker lives at most max_requests.  Replacing the
 * key invalidates every code given out, so it is never changed while
 * running.
 */
dgj_rc_t
dgj_wf_query_key(dgj_req_t *r, const char **key)
{
    dgj_rc_t     rc;

    static char  cached[256];
    static int   loaded;

    if (!loaded) {
        if (r->conf == NULL) {
            return dgj_req_fail(r, DGJ_ERR_INTERNAL, "no configuration");
        }

        rc = dgj_peer_secret("workflow", r->conf->query_key_file, cached,
                             sizeof(cached));
        if (rc != DGJ_OK) {
            return dgj_req_fail(r, rc, "query key unavailable");
        }

        loaded = 1;
    }

    *key = cached;

    return DGJ_OK;
}


dgj_rc_t
dgj_wf_query_mac(dgj_req_t *r, const char *code, unsigned char *mac)
{
    int            n;
    char           up[16];
    size_t         i, len;
    unsigned int   maclen;
    dgj_rc_t       rc;
    const char    *key;

    rc = dgj_wf_query_key(r, &key);
    if (rc != DGJ_OK) {
        return rc;
    }

    len = strlen(code);
    if (len >= sizeof(up)) {
        len = sizeof(up) - 1;
    }

    /* codes are read out over the phone: compare without case */
    for (i = 0; i < len; i++) {
        up[i] = (char) toupper((unsigned char) code[i]);
    }

    up[len] = '\0';
    n = (int) strlen(key);

    maclen = 32;
    if (HMAC(EVP_sha256(), key, n, (const unsigned char *) up, len, mac,
             &maclen) == NULL)
    {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "HMAC failed");
    }

    return DGJ_OK;
}


int
dgj_wf_query_code_ok(dgj_req_t *r, const char *code, const unsigned char *mac,
    size_t maclen)
{
    unsigned char  want[32];

    if (maclen != sizeof(want) || dgj_wf_query_mac(r, code, want) != DGJ_OK) {
        return 0;
    }

    return CRYPTO_memcmp(want, mac, sizeof(want)) == 0;
}


/*
 * A run of 11 digits starting 1[3-9] or of 17 digits and a digit or X is
 * masked as dgj_ids does; the rest of the text is kept.
 */
char *
dgj_wf_redact_text(dgj_req_t *r, const char *text)
{
    char        *out;
    size_t       i, j, len, run;

    if (text == NULL) {
        return NULL;
    }

    len = strlen(text);
    out = dgj_palloc(r->pool, len + 1);
    if (out == NULL) {
        return NULL;
    }

    memcpy(out, text, len + 1);

    for (i = 0; i < len; i = j) {
        j = i;
        while (j < len && out[j] >= '0' && out[j] <= '9') {
            j++;
        }

        run = j - i;

        if (run == 17 && j < len && (out[j] == 'X' || out[j] == 'x')) {
            j++;
            run++;
        }

        if (run == 11 && out[i] == '1' && out[i + 1] >= '3') {
            memset(out + i + 3, '*', 4);

        } else if (run == 18) {
            memset(out + i + 6, '*', 8);

        } else if (run >= 7) {
            /* landlines and other long numbers: keep the last 4 only */
            memset(out + i, '*', run - 4);
        }

        if (j == i) {
            j++;
        }
    }

    return out;
}


dgj_rc_t
dgj_wf_summary(dgj_req_t *r, const char *tracking_no, json_t **out)
{
    int       state;
    json_t   *rows, *row;
    dgj_rc_t  rc;

    rc = dgj_db_rows_json(r, &dgj_wf_sql_summary,
                          DGJ_ARGS(DGJ_STR(tracking_no)), &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    row = json_array_get(rows, 0);
    if (row == NULL) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "appeal %s vanished",
                            tracking_no);
    }

    state = dgj_wf_state_parse(json_string_value(json_object_get(row,
                                                                  "state")));
    if (json_object_set_new(row, "state_title",
                            json_string(dgj_wf_state_title(state))) != 0)
    {
        return DGJ_ERR_NOMEM;
    }

    *out = row;

    return DGJ_OK;
}


dgj_rc_t
dgj_wf_transitions_get(dgj_req_t *r)
{
    int                         s;
    size_t                      i;
    json_t                     *list, *item, *from, *roles;
    const dgj_wf_transition_t  *t;

    static const char  *scopes[] = {
        "role", "lead_department", "assist_department", "submitter",
        "viewer", "system"
    };

    list = dgj_json_own(r, json_array());
    if (list == NULL) {
        return DGJ_ERR_NOMEM;
    }

    for (t = dgj_wf_transitions(); t->action != NULL; t++) {
        from = json_array();
        roles = json_array();
        item = json_pack("{s:s, s:s, s:o, s:o, s:o, s:s, s:o, s:b}",
                         "action", t->action, "title", t->title,
                         "from", from, "to",
                         t->to == DGJ_WF_SAME
                             ? json_null()
                             : json_string(dgj_wf_state_name(t->to)),
                         "roles", roles, "scope", scopes[t->scope],
                         "stage", t->stage ? json_string(t->stage)
                                           : json_null(),
                         "public", (int) t->public);
        if (item == NULL || json_array_append_new(list, item) != 0) {
            return DGJ_ERR_NOMEM;
        }

        for (s = 0; s < DGJ_WF_NSTATES; s++) {
            if (t->from & DGJ_WF_BIT(s)) {
                json_array_append_new(from,
                                      json_string(dgj_wf_state_name(s)));
            }
        }

        for (i = 0; i < 4 && t->roles[i] != NULL; i++) {
            json_array_append_new(roles, json_string(t->roles[i]));
        }
    }

    item = dgj_json_own(r, json_pack("{s:O}", "transitions", list));
    if (item == NULL) {
        return DGJ_ERR_NOMEM;
    }

    return dgj_reply_json(r, 200, item);
}
