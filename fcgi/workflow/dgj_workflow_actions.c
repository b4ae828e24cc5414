
/*
 * Copyright (C) Daguanjia
 *
 * dgj_workflow_actions.c: POST /api/v1/appeals/{no}/actions/{action}.
 *
 * Every action runs the same steps in one transaction: the transition
 * from the table (unknown: 404), the caller's role (403), the appeal
 * locked FOR UPDATE and visible to the caller (404 otherwise, so numbers
 * cannot be probed), the caller's department when the action needs it
 * (403), the state (409 invalid_state), the version the client saw (409
 * stale_version), then the action's own checks and writes, the appeal's
 * state and deadlines moved with version + 1, and exactly one event row.
 * Any failure rolls everything back: nothing half-done is ever stored.
 */


#include "dgj_core.h"
#include "dgj_workflow.h"
#include "dgj_workflow_deadline.h"
#include "dgj_deadline.h"
#include "dgj_accounts.h"
#include "dgj_clock.h"
#include "dgj_db.h"
#include "dgj_json.h"
#include "dgj_log.h"


/* what an action changes, filled by its step and written by the core */
typedef struct {
    int              to;            /* new state */
    const char      *stage;         /* new stage */
    int64_t          stage_start;
    int64_t          due;           /* 0: NULL */
    int64_t          warn;
    int64_t          handle_due;
    int64_t          closed;        /* 0: unchanged (NULL) */
    dgj_wf_event_t   ev;
} dgj_wf_move_t;

typedef struct {
    dgj_req_t                  *r;
    const dgj_identity_t       *id;
    const dgj_wf_transition_t  *t;
    dgj_wf_appeal_t            *a;
    json_t                     *body;
    const char                 *no;
    int64_t                     now;
    int                         by_code;
    dgj_wf_move_t               m;
} dgj_wf_ctx_t;

typedef dgj_rc_t (*dgj_wf_step_pt)(dgj_wf_ctx_t *c);

typedef struct {
    const char      *action;
    dgj_wf_step_pt   step;
    const char      *keys[8];       /* body fields besides version, comment */
} dgj_wf_step_t;


static dgj_rc_t dgj_wf_step_accept(dgj_wf_ctx_t *c);
static dgj_rc_t dgj_wf_step_reject(dgj_wf_ctx_t *c);
static dgj_rc_t dgj_wf_step_merge(dgj_wf_ctx_t *c);
static dgj_rc_t dgj_wf_step_reclassify(dgj_wf_ctx_t *c);
static dgj_rc_t dgj_wf_step_direct_answer(dgj_wf_ctx_t *c);
static dgj_rc_t dgj_wf_step_dispatch(dgj_wf_ctx_t *c);
static dgj_rc_t dgj_wf_step_sign(dgj_wf_ctx_t *c);
static dgj_rc_t dgj_wf_step_return(dgj_wf_ctx_t *c);
static dgj_rc_t dgj_wf_step_assist_request(dgj_wf_ctx_t *c);
static dgj_rc_t dgj_wf_step_assist_reply(dgj_wf_ctx_t *c);
static dgj_rc_t dgj_wf_step_extension_request(dgj_wf_ctx_t *c);
static dgj_rc_t dgj_wf_step_extension_decide(dgj_wf_ctx_t *c);
static dgj_rc_t dgj_wf_step_reply(dgj_wf_ctx_t *c);
static dgj_rc_t dgj_wf_step_refuse_return(dgj_wf_ctx_t *c);
static dgj_rc_t dgj_wf_step_approve(dgj_wf_ctx_t *c);
static dgj_rc_t dgj_wf_step_send_back(dgj_wf_ctx_t *c);
static dgj_rc_t dgj_wf_step_publish(dgj_wf_ctx_t *c);
static dgj_rc_t dgj_wf_step_rate(dgj_wf_ctx_t *c);
static dgj_rc_t dgj_wf_step_review(dgj_wf_ctx_t *c);
static dgj_rc_t dgj_wf_step_auto_close(dgj_wf_ctx_t *c);
static dgj_rc_t dgj_wf_step_supervise(dgj_wf_ctx_t *c);
static dgj_rc_t dgj_wf_step_note(dgj_wf_ctx_t *c);

static dgj_rc_t dgj_wf_run(dgj_wf_ctx_t *c, const dgj_wf_step_t *step,
    int64_t version);
static dgj_rc_t dgj_wf_clock(dgj_wf_ctx_t *c, const char *stage);
static dgj_rc_t dgj_wf_department(dgj_wf_ctx_t *c, const char *key,
    int required, int64_t *dept);
static dgj_rc_t dgj_wf_code_in(dgj_wf_ctx_t *c, const char *key,
    const char *const *codes, const char **out);
static dgj_rc_t dgj_wf_open_tasks(dgj_wf_ctx_t *c, const json_t *list);


static const dgj_wf_step_t  dgj_wf_steps[] = {
    { "accept",            dgj_wf_step_accept,            { NULL } },
    { "reject",            dgj_wf_step_reject,
      { "reason_code", NULL } },
    { "merge",             dgj_wf_step_merge,             { "into", NULL } },
    { "reclassify",        dgj_wf_step_reclassify,
      { "category_code", "district_code", NULL } },
    { "direct_answer",     dgj_wf_step_direct_answer,
      { "reply", "outcome", NULL } },
    { "dispatch",          dgj_wf_step_dispatch,
      { "department_id", "assist_department_ids", NULL } },
    { "sign",              dgj_wf_step_sign,              { NULL } },
    { "return",            dgj_wf_step_return,
      { "reason_code", "legal_basis", NULL } },
    { "assist_request",    dgj_wf_step_assist_request,
      { "department_ids", NULL } },
    { "assist_reply",      dgj_wf_step_assist_reply,
      { "task_id", "reply", NULL } },
    { "extension_request", dgj_wf_step_extension_request, { "days", NULL } },
    { "extension_approve", dgj_wf_step_extension_decide,  { NULL } },
    { "extension_refuse",  dgj_wf_step_extension_decide,  { NULL } },
    { "reply",             dgj_wf_step_reply,
      { "reply", "outcome", "outcome_owner", NULL } },
    { "redispatch",        dgj_wf_step_dispatch,
      { "department_id", NULL } },
    { "refuse_return",     dgj_wf_step_refuse_return,     { NULL } },
    { "approve",           dgj_wf_step_approve,           { NULL } },
    { "send_back",         dgj_wf_step_send_back,         { NULL } },
    { "publish",           dgj_wf_step_publish,
      { "publish", "public_title", "public_content", NULL } },
    { "rate",              dgj_wf_step_rate,
      { "rating", "resolved", NULL } },
    { "uphold",            dgj_wf_step_review,            { NULL } },
    { "dismiss",           dgj_wf_step_review,            { NULL } },
    { "auto_close",        dgj_wf_step_auto_close,        { NULL } },
    { "urge",              dgj_wf_step_supervise,         { NULL } },
    { "supervise",         dgj_wf_step_supervise,         { NULL } },
    { "note",              dgj_wf_step_note,              { NULL } },
    { NULL, NULL, { NULL } }
};


static const char  *dgj_wf_reject_reasons[] = {
    "out_of_scope",             /* 不属于受理范围 */
    "legal_procedure",          /* 应通过诉讼、仲裁、复议等法定途径 */
    "insufficient_info",        /* 诉求内容不清, 无法联系 */
    "abusive",                  /* 恶意、骚扰、无实质内容 */
    "duplicate",                /* 重复诉求 */
    NULL
};

static const char  *dgj_wf_return_reasons[] = {
    "not_our_duty",             /* 非本单位职责 */
    "wrong_district",           /* 属地错误 */
    "other_level",              /* 属上级或下级事权 */
    "insufficient_info",        /* 信息不全, 无法办理 */
    "legal_procedure",          /* 应通过法定途径解决 */
    NULL
};

static const char  *dgj_wf_reply_outcomes[] = {
    "resolved", "answered", "not_ours", "cannot_handle", NULL
};

static const char  *dgj_wf_direct_outcomes[] = {
    "resolved", "answered", NULL
};


static const dgj_sql_t  dgj_wf_sql_move = {
    "workflow.move",
    "UPDATE appeals"
    "   SET state = ?, stage = ?, stage_started_at = ?, due_at = ?,"
    "       warn_at = ?, handle_due_at = ?,"
    "       closed_at = COALESCE(?, closed_at), updated_at = ?,"
    "       version = version + 1"
    " WHERE id = ? AND version = ?"
};

static const dgj_sql_t  dgj_wf_sql_times = {
    "workflow.times",
    "SELECT DATE_FORMAT(stage_started_at, '%Y-%m-%d %H:%i:%s'),"
    "       COALESCE(DATE_FORMAT(warn_at, '%Y-%m-%d %H:%i:%s'), '')"
    "  FROM appeals WHERE id = ?"
};

static const dgj_sql_t  dgj_wf_sql_set_outcome = {
    "workflow.set_outcome",
    "UPDATE appeals SET outcome = ?, outcome_owner = ?, merged_into_id = ?"
    " WHERE id = ?"
};

static const dgj_sql_t  dgj_wf_sql_set_reply = {
    "workflow.set_reply",
    "UPDATE appeals SET reply = ?, replied_at = ?, outcome = ?,"
    "       outcome_owner = ?"
    " WHERE id = ?"
};

static const dgj_sql_t  dgj_wf_sql_set_lead = {
    "workflow.set_lead",
    "UPDATE appeals SET lead_department_id = ? WHERE id = ?"
};

static const dgj_sql_t  dgj_wf_sql_set_class = {
    "workflow.set_class",
    "UPDATE appeals SET category_id = ?, appeal_type = ?, district_id = ?"
    " WHERE id = ?"
};

static const dgj_sql_t  dgj_wf_sql_counts = {
    "workflow.counts",
    "UPDATE appeals"
    "   SET returns_count = returns_count + ?,"
    "       extensions_count = extensions_count + ?,"
    "       reopen_count = reopen_count + ?,"
    "       urge_count = urge_count + ?,"
    "       supervised = GREATEST(supervised, ?)"
    " WHERE id = ?"
};

static const dgj_sql_t  dgj_wf_sql_pending_extension = {
    "workflow.pending_extension",
    "UPDATE appeals SET pending_extension_days = ? WHERE id = ?"
};

static const dgj_sql_t  dgj_wf_sql_publish = {
    "workflow.publish",
    "UPDATE appeals SET publish_state = ?, public_title = ?,"
    "       public_content = ?, published_at = ?"
    " WHERE id = ?"
};

static const dgj_sql_t  dgj_wf_sql_rate = {
    "workflow.rate",
    "UPDATE appeals SET rating = ?, resolved = ?, rating_comment = ?,"
    "       rated_at = ?"
    " WHERE id = ?"
};

static const dgj_sql_t  dgj_wf_sql_category = {
    "workflow.category",
    "SELECT id, level, COALESCE(appeal_type, ''), active,"
    "       COALESCE(default_department_id, 0)"
    "  FROM categories WHERE code = ?"
};

static const dgj_sql_t  dgj_wf_sql_category_by_id = {
    "workflow.category_by_id",
    "SELECT COALESCE(default_department_id, 0) FROM categories WHERE id = ?"
};

static const dgj_sql_t  dgj_wf_sql_district = {
    "workflow.district",
    "SELECT id FROM districts WHERE code = ?"
};

static const dgj_sql_t  dgj_wf_sql_department = {
    "workflow.department",
    "SELECT active FROM departments WHERE id = ?"
};

static const dgj_sql_t  dgj_wf_sql_task_insert = {
    "workflow.task_insert",
    "INSERT INTO appeal_tasks (appeal_id, department_id, request_note,"
    "       due_at, created_by, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
};

static const dgj_sql_t  dgj_wf_sql_task_open = {
    "workflow.task_open",
    "SELECT COUNT(*) FROM appeal_tasks"
    " WHERE appeal_id = ? AND department_id = ? AND state = 'open'"
};

static const dgj_sql_t  dgj_wf_sql_tasks_open = {
    "workflow.tasks_open",
    "SELECT COUNT(*) FROM appeal_tasks WHERE appeal_id = ? AND state = 'open'"
};

static const dgj_sql_t  dgj_wf_sql_task_reply = {
    "workflow.task_reply",
    "UPDATE appeal_tasks SET state = 'replied', reply = ?, replied_by = ?,"
    "       replied_at = ?"
    " WHERE id = ? AND appeal_id = ? AND department_id = ? AND state = 'open'"
};

static const dgj_sql_t  dgj_wf_sql_tasks_cancel = {
    "workflow.tasks_cancel",
    "UPDATE appeal_tasks SET state = 'cancelled'"
    " WHERE appeal_id = ? AND state = 'open'"
};


dgj_rc_t
dgj_wf_action(dgj_req_t *r)
{
    json_t          *body;
    dgj_rc_t         rc;
    const char      *no, *action;
    dgj_identity_t   id;

    no = dgj_req_capture(r, "no");
    action = dgj_req_capture(r, "action");

    dgj_identity_get(r, &id);

    if (id.user_id == 0) {
        return dgj_req_fail(r, DGJ_ERR_UNAUTH, "sign in first");
    }

    rc = dgj_json_body(r, &body);
    if (rc != DGJ_OK) {
        return rc;
    }

    return dgj_wf_act(r, &id, no, action, body, 0);
}


dgj_rc_t
dgj_wf_act(dgj_req_t *r, const dgj_identity_t *id, const char *no,
    const char *action, json_t *body, int by_code)
{
    size_t                      i, n;
    json_t                     *summary;
    json_int_t                  version;
    dgj_rc_t                    rc;
    const char                 *keys[12];
    dgj_wf_ctx_t                c;
    dgj_wf_appeal_t             a;
    const dgj_wf_step_t        *step;
    const dgj_wf_transition_t  *t;

    t = dgj_wf_transition(action);

    if (t == NULL || (t->scope == DGJ_WF_SCOPE_SYSTEM && id != NULL
                      && id->user_id != 0))
    {
        return dgj_req_fail_code(r, DGJ_ERR_NOT_FOUND, "unknown_action",
                                 "there is no action \"%s\"", action);
    }

    for (step = dgj_wf_steps; step->action != NULL; step++) {
        if (strcmp(step->action, action) == 0) {
            break;
        }
    }

    if (step->action == NULL) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "action %s has no step",
                            action);
    }

    /* the role first: a citizen learns nothing about staff actions */
    if (t->scope != DGJ_WF_SCOPE_SYSTEM && !by_code
        && !dgj_wf_role_allowed(t, id))
    {
        return dgj_req_fail_code(r, DGJ_ERR_FORBIDDEN, "role_forbidden",
                                 "your role may not %s an appeal", action);
    }

    n = 0;
    keys[n++] = "comment";

    if (!by_code && t->scope != DGJ_WF_SCOPE_SYSTEM) {
        keys[n++] = "version";
    }

    for (i = 0; step->keys[i] != NULL; i++) {
        keys[n++] = step->keys[i];
    }

    keys[n] = NULL;

    rc = dgj_json_check_keys(r, body, keys);
    if (rc != DGJ_OK) {
        return rc;
    }

    version = 0;

    if (!by_code && t->scope != DGJ_WF_SCOPE_SYSTEM) {
        rc = dgj_json_get_int(r, body, "version", 1, INT32_MAX, &version);
        if (rc != DGJ_OK) {
            return rc;
        }
    }

    memset(&c, 0, sizeof(c));
    c.r = r;
    c.id = id;
    c.t = t;
    c.a = &a;
    c.body = body;
    c.no = no;
    c.now = dgj_clock_now(r->conf);
    c.by_code = by_code;

    rc = dgj_db_begin(r);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_wf_run(&c, step, version);
    if (rc != DGJ_OK) {
        dgj_db_rollback(r);
        return rc;
    }

    rc = dgj_db_commit(r);
    if (rc != DGJ_OK) {
        dgj_db_rollback(r);
        return rc;
    }

    dgj_log(DGJ_LOG_INFO, "workflow", "%s %s: %s -> %s", a.tracking_no,
            action, dgj_wf_state_name(a.state), dgj_wf_state_name(c.m.to));

    if (t->scope == DGJ_WF_SCOPE_SYSTEM) {
        return DGJ_OK;
    }

    rc = dgj_wf_summary(r, a.tracking_no, &summary);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (dgj_req_audit(r, dgj_psprintf(r->pool, "appeal.%s", action),
                      a.tracking_no) != DGJ_OK)
    {
        return DGJ_ERR_NOMEM;
    }

    return dgj_reply_json(r, 200, summary);
}


/* inside the transaction: the checks every action shares, then its step */
static dgj_rc_t
dgj_wf_run(dgj_wf_ctx_t *c, const dgj_wf_step_t *step, int64_t version)
{
    int                         yes;
    dgj_rc_t                    rc;
    dgj_req_t                  *r;
    const char                 *started, *warn;
    dgj_wf_appeal_t            *a;
    const dgj_wf_transition_t  *t;

    r = c->r;
    a = c->a;
    t = c->t;

    rc = dgj_wf_load(r, c->no, 1, a);
    if (rc != DGJ_OK) {
        return rc;
    }

    switch (t->scope) {

    case DGJ_WF_SCOPE_SYSTEM:
        break;

    case DGJ_WF_SCOPE_SUBMITTER:
        /* by query code the code is the proof; signed in, the account */
        if (!c->by_code
            && (a->submitter == 0 || (uint64_t) a->submitter != c->id->user_id))
        {
            return dgj_req_fail_code(r, DGJ_ERR_NOT_FOUND, "appeal_not_found",
                                     "no appeal has this tracking number");
        }

        break;

    default:
        rc = dgj_wf_visible(r, c->id, a);
        if (rc != DGJ_OK) {
            return rc;
        }

        if (t->scope == DGJ_WF_SCOPE_LEAD
            && (a->lead_dept == 0 || (uint64_t) a->lead_dept != c->id->dept_id))
        {
            return dgj_req_fail_code(r, DGJ_ERR_FORBIDDEN,
                                     "not_your_department",
                                     "only the lead department may %s this"
                                     " appeal", t->action);
        }

        if (t->scope == DGJ_WF_SCOPE_ASSIST) {
            rc = dgj_wf_has_task(r, c->id, a, &yes);
            if (rc != DGJ_OK) {
                return rc;
            }

            if (!yes) {
                return dgj_req_fail_code(r, DGJ_ERR_FORBIDDEN,
                                         "not_your_department",
                                         "your department has no open"
                                         " assist task on this appeal");
            }
        }
    }

    if (!(t->from & DGJ_WF_BIT(a->state))) {
        return dgj_req_fail_code(r, DGJ_ERR_CONFLICT, "invalid_state",
                                 "cannot %s an appeal that is %s (%s)",
                                 t->action, dgj_wf_state_name(a->state),
                                 dgj_wf_state_title(a->state));
    }

    if (version != 0 && version != a->version) {
        return dgj_req_fail_code(r, DGJ_ERR_CONFLICT, "stale_version",
                                 "the appeal changed since you loaded it"
                                 " (version %" PRId64 " now, yours %" PRId64
                                 "): reload and try again",
                                 a->version, version);
    }

    rc = dgj_db_row(r, &dgj_wf_sql_times, DGJ_ARGS(DGJ_I64(a->id)),
                    DGJ_OUTS(DGJ_OUT_STR(&started), DGJ_OUT_STR(&warn)));
    if (rc != DGJ_OK) {
        return rc;
    }

    /* by default nothing moves: the step changes what it must */
    c->m.to = t->to == DGJ_WF_SAME ? a->state : t->to;
    c->m.stage = a->stage;
    c->m.stage_start = dgj_wf_time_parse(started);
    c->m.due = a->due;
    c->m.warn = dgj_wf_time_parse(warn);
    c->m.handle_due = a->handle_due;

    c->m.ev.appeal_id = a->id;
    c->m.ev.actor = c->id != NULL ? (int64_t) c->id->user_id : 0;
    c->m.ev.role = c->id != NULL ? dgj_wf_actor_role(t, c->id) : "system";
    c->m.ev.dept = c->id != NULL ? (int64_t) c->id->dept_id : 0;
    c->m.ev.action = t->action;
    c->m.ev.from = a->state;
    c->m.ev.public = t->public;

    rc = dgj_wf_text(r, c->body, "comment", 0, 2000, DGJ_WF_TEXT_MULTILINE,
                     &c->m.ev.comment);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (t->stage != NULL) {
        rc = dgj_wf_clock(c, t->stage);
        if (rc != DGJ_OK) {
            return rc;
        }
    }

    rc = step->step(c);
    if (rc != DGJ_OK) {
        return rc;
    }

    c->m.ev.to = c->m.to;

    if (c->m.to == DGJ_WF_CLOSED || c->m.to == DGJ_WF_REJECTED
        || c->m.to == DGJ_WF_MERGED)
    {
        c->m.closed = c->now;
        c->m.stage = "none";
        c->m.due = 0;
        c->m.warn = 0;
    }

    rc = dgj_db_exec(r, &dgj_wf_sql_move,
        DGJ_ARGS(DGJ_STR(dgj_wf_state_name(c->m.to)),
                 DGJ_STR(c->m.stage),
                 DGJ_STR(dgj_wf_time(r, c->m.stage_start)),
                 c->m.due ? DGJ_STR(dgj_wf_time(r, c->m.due)) : DGJ_NULL,
                 c->m.warn ? DGJ_STR(dgj_wf_time(r, c->m.warn)) : DGJ_NULL,
                 c->m.handle_due ? DGJ_STR(dgj_wf_time(r, c->m.handle_due))
                                 : DGJ_NULL,
                 c->m.closed ? DGJ_STR(dgj_wf_time(r, c->m.closed))
                             : DGJ_NULL,
                 DGJ_STR(dgj_wf_time(r, c->now)),
                 DGJ_I64(a->id),
                 DGJ_I64(a->version)),
        NULL, NULL);
    if (rc != DGJ_OK) {
        return rc;
    }

    return dgj_wf_event(r, &c->m.ev, c->now);
}


/* starts the clock of stage now (the stage's own rule) */
static dgj_rc_t
dgj_wf_clock(dgj_wf_ctx_t *c, const char *stage)
{
    dgj_rc_t               rc;
    dgj_wf_deadline_key_t  k;

    c->m.stage = stage;
    c->m.stage_start = c->now;
    c->m.due = 0;
    c->m.warn = 0;

    if (strcmp(stage, "none") == 0) {
        return DGJ_OK;
    }

    k.stage = stage;
    k.category_id = c->a->category_id;
    k.appeal_type = c->a->appeal_type;
    k.priority = c->a->priority;

    rc = dgj_wf_deadline(c->r, &k, c->now, &c->m.due, &c->m.warn);
    if (rc != DGJ_OK) {
        return rc;
    }

    c->m.ev.due_set = c->m.due;

    return DGJ_OK;
}


/* the handling deadline, kept from dispatch through review */
static dgj_rc_t
dgj_wf_handle_clock(dgj_wf_ctx_t *c, const char *stage)
{
    int64_t                warn;
    dgj_rc_t               rc;
    dgj_wf_deadline_key_t  k;

    k.stage = stage;
    k.category_id = c->a->category_id;
    k.appeal_type = c->a->appeal_type;
    k.priority = c->a->priority;

    rc = dgj_wf_deadline(c->r, &k, c->now, &c->m.handle_due, &warn);

    return rc;
}


/* the warning time of a stage from start to due, on the calendar */
static dgj_rc_t
dgj_wf_warn(dgj_wf_ctx_t *c, int64_t start, int64_t due, int64_t *warn)
{
    dgj_rc_t               rc;
    const dgj_calendar_t  *cal;

    rc = dgj_wf_calendar(c->r, &cal);
    if (rc != DGJ_OK) {
        return rc;
    }

    *warn = dgj_deadline_warn_at(cal, start, due,
                                 strcmp(c->a->priority, "urgent") == 0
                                 ? DGJ_DL_HOURS : DGJ_DL_WORKING_DAYS);

    return DGJ_OK;
}


/* a stage that starts now and runs toward a deadline set earlier */
static dgj_rc_t
dgj_wf_toward(dgj_wf_ctx_t *c, const char *stage, int64_t due)
{
    c->m.stage = stage;
    c->m.stage_start = c->now;
    c->m.due = due;
    c->m.handle_due = due;
    c->m.ev.due_set = due;

    if (due <= c->now) {
        /* already overdue: red at once */
        c->m.warn = due;
        return DGJ_OK;
    }

    return dgj_wf_warn(c, c->now, due, &c->m.warn);
}


static dgj_rc_t
dgj_wf_step_accept(dgj_wf_ctx_t *c)
{
    (void) c;

    /* the intake clock keeps running until dispatch or a decision */
    return DGJ_OK;
}


static dgj_rc_t
dgj_wf_step_reject(dgj_wf_ctx_t *c)
{
    dgj_rc_t  rc;

    rc = dgj_wf_code_in(c, "reason_code", dgj_wf_reject_reasons,
                        &c->m.ev.reason);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (c->m.ev.comment == NULL) {
        return dgj_req_fail_code(c->r, DGJ_ERR_INPUT, "missing_field",
            "\"comment\" is required: tell the citizen why");
    }

    return dgj_db_exec(c->r, &dgj_wf_sql_set_outcome,
                       DGJ_ARGS(DGJ_STR("not_accepted"), DGJ_NULL, DGJ_NULL,
                                DGJ_I64(c->a->id)),
                       NULL, NULL);
}


static dgj_rc_t
dgj_wf_step_merge(dgj_wf_ctx_t *c)
{
    dgj_rc_t          rc;
    const char       *into;
    dgj_wf_appeal_t   target;

    rc = dgj_accounts_req_str(c->r, c->body, "into", 16, &into);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (strcmp(into, c->a->tracking_no) == 0) {
        return dgj_req_fail_code(c->r, DGJ_ERR_INPUT, "merge_into_self",
                                 "an appeal cannot be merged into itself");
    }

    rc = dgj_wf_load(c->r, into, 0, &target);
    if (rc == DGJ_ERR_NOT_FOUND) {
        dgj_req_fail_clear(c->r);
        return dgj_req_fail_code(c->r, DGJ_ERR_INPUT, "merge_target_unknown",
                                 "\"into\" names no appeal");
    }

    if (rc != DGJ_OK) {
        return rc;
    }

    if (target.state == DGJ_WF_MERGED || target.state == DGJ_WF_REJECTED) {
        return dgj_req_fail_code(c->r, DGJ_ERR_CONFLICT, "merge_target_closed",
                                 "cannot merge into an appeal that is %s",
                                 dgj_wf_state_name(target.state));
    }

    c->m.ev.reason = "duplicate";

    if (c->m.ev.comment == NULL) {
        c->m.ev.comment = dgj_psprintf(c->r->pool, "并入 %s", into);
    }

    return dgj_db_exec(c->r, &dgj_wf_sql_set_outcome,
                       DGJ_ARGS(DGJ_STR("duplicate"), DGJ_NULL,
                                DGJ_I64(target.id), DGJ_I64(c->a->id)),
                       NULL, NULL);
}


static dgj_rc_t
dgj_wf_step_reclassify(dgj_wf_ctx_t *c)
{
    int64_t      cat, level, active, dept, district;
    dgj_rc_t     rc;
    const char  *code, *dcode, *type;

    rc = dgj_accounts_opt_str(c->r, c->body, "category_code", 16, &code);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_accounts_opt_str(c->r, c->body, "district_code", 12, &dcode);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (code == NULL && dcode == NULL) {
        return dgj_req_fail_code(c->r, DGJ_ERR_INPUT, "missing_field",
            "give \"category_code\", \"district_code\" or both");
    }

    cat = c->a->category_id;
    type = c->a->appeal_type;
    district = c->a->district_id;

    if (code != NULL) {
        rc = dgj_db_row(c->r, &dgj_wf_sql_category, DGJ_ARGS(DGJ_STR(code)),
                        DGJ_OUTS(DGJ_OUT_I64(&cat), DGJ_OUT_I64(&level),
                                 DGJ_OUT_STR(&type), DGJ_OUT_I64(&active),
                                 DGJ_OUT_I64(&dept)));
        if (rc == DGJ_ERR_NOT_FOUND) {
            return dgj_req_fail_code(c->r, DGJ_ERR_INPUT, "unknown_category",
                                     "\"category_code\" names no category");
        }

        if (rc != DGJ_OK) {
            return rc;
        }

        if (level != 2 || !active) {
            return dgj_req_fail_code(c->r, DGJ_ERR_INPUT, "category_not_leaf",
                "\"category_code\" must be an active sub-category");
        }
    }

    if (dcode != NULL) {
        rc = dgj_db_row(c->r, &dgj_wf_sql_district, DGJ_ARGS(DGJ_STR(dcode)),
                        DGJ_OUTS(DGJ_OUT_I64(&district)));
        if (rc == DGJ_ERR_NOT_FOUND) {
            return dgj_req_fail_code(c->r, DGJ_ERR_INPUT, "unknown_district",
                                     "\"district_code\" names no district");
        }

        if (rc != DGJ_OK) {
            return rc;
        }
    }

    c->a->category_id = cat;
    c->a->appeal_type = type;

    return dgj_db_exec(c->r, &dgj_wf_sql_set_class,
                       DGJ_ARGS(DGJ_I64(cat), DGJ_STR(type),
                                DGJ_I64(district), DGJ_I64(c->a->id)),
                       NULL, NULL);
}


static dgj_rc_t
dgj_wf_step_direct_answer(dgj_wf_ctx_t *c)
{
    dgj_rc_t     rc;
    const char  *reply, *outcome;

    rc = dgj_wf_text(c->r, c->body, "reply", 2, 4000, DGJ_WF_TEXT_MULTILINE,
                     &reply);
    if (rc != DGJ_OK) {
        return rc;
    }

    outcome = "answered";

    if (json_object_get(c->body, "outcome") != NULL) {
        rc = dgj_wf_code_in(c, "outcome", dgj_wf_direct_outcomes, &outcome);
        if (rc != DGJ_OK) {
            return rc;
        }
    }

    return dgj_db_exec(c->r, &dgj_wf_sql_set_reply,
                       DGJ_ARGS(DGJ_STR(reply),
                                DGJ_STR(dgj_wf_time(c->r, c->now)),
                                DGJ_STR(outcome), DGJ_NULL,
                                DGJ_I64(c->a->id)),
                       NULL, NULL);
}


/* dispatch and redispatch: a lead department, assisting ones at dispatch */
static dgj_rc_t
dgj_wf_step_dispatch(dgj_wf_ctx_t *c)
{
    int64_t    dept;
    json_t    *assist;
    dgj_rc_t   rc;

    rc = dgj_wf_department(c, "department_id", 0, &dept);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (dept == 0) {
        rc = dgj_db_row(c->r, &dgj_wf_sql_category_by_id,
                        DGJ_ARGS(DGJ_I64(c->a->category_id)),
                        DGJ_OUTS(DGJ_OUT_I64(&dept)));
        if (rc != DGJ_OK) {
            return rc;
        }

        if (dept == 0) {
            return dgj_req_fail_code(c->r, DGJ_ERR_INPUT, "missing_field",
                "the category has no default department: give"
                " \"department_id\"");
        }
    }

    if (strcmp(c->t->action, "redispatch") == 0
        && dept == c->a->lead_dept && c->m.ev.comment == NULL)
    {
        return dgj_req_fail_code(c->r, DGJ_ERR_INPUT, "missing_field",
            "sending it back to the same department needs a \"comment\"");
    }

    /* the handling time runs from dispatch; a new department gets it whole */
    rc = dgj_wf_handle_clock(c, "handle");
    if (rc != DGJ_OK) {
        return rc;
    }

    c->a->lead_dept = dept;
    c->m.ev.target_dept = dept;

    rc = dgj_db_exec(c->r, &dgj_wf_sql_set_lead,
                     DGJ_ARGS(DGJ_I64(dept), DGJ_I64(c->a->id)), NULL, NULL);
    if (rc != DGJ_OK) {
        return rc;
    }

    assist = json_object_get(c->body, "assist_department_ids");
    if (assist == NULL || json_is_null(assist)) {
        return DGJ_OK;
    }

    return dgj_wf_open_tasks(c, assist);
}


static dgj_rc_t
dgj_wf_step_sign(dgj_wf_ctx_t *c)
{
    /*
     * The handling deadline was set at dispatch (re-handling: at the
     * review that upheld the complaint); signing does not reset it, the
     * department works against what is left.
     */
    return dgj_wf_toward(c, c->a->state == DGJ_WF_REOPENED ? "rehandle"
                                                           : "handle",
                         c->a->handle_due);
}


static dgj_rc_t
dgj_wf_step_return(dgj_wf_ctx_t *c)
{
    dgj_rc_t     rc;
    const char  *basis;

    if (c->a->returns_count >= DGJ_WF_MAX_RETURNS) {
        return dgj_req_fail_code(c->r, DGJ_ERR_CONFLICT, "return_limit",
                                 "this appeal was already returned %d times:"
                                 " handle it or ask the supervisor",
                                 DGJ_WF_MAX_RETURNS);
    }

    rc = dgj_wf_code_in(c, "reason_code", dgj_wf_return_reasons,
                        &c->m.ev.reason);
    if (rc != DGJ_OK) {
        return rc;
    }

    /* the legal basis (the duty catalogue, a regulation) is mandatory */
    rc = dgj_wf_text(c->r, c->body, "legal_basis", 4, 1000,
                     DGJ_WF_TEXT_MULTILINE, &basis);
    if (rc != DGJ_OK) {
        return rc;
    }

    c->m.ev.comment = c->m.ev.comment != NULL
                      ? dgj_psprintf(c->r->pool, "%s\n%s", basis,
                                     c->m.ev.comment)
                      : basis;

    rc = dgj_db_exec(c->r, &dgj_wf_sql_tasks_cancel,
                     DGJ_ARGS(DGJ_I64(c->a->id)), NULL, NULL);
    if (rc != DGJ_OK) {
        return rc;
    }

    return dgj_db_exec(c->r, &dgj_wf_sql_counts,
                       DGJ_ARGS(DGJ_I64(1), DGJ_I64(0), DGJ_I64(0),
                                DGJ_I64(0), DGJ_I64(0), DGJ_I64(c->a->id)),
                       NULL, NULL);
}


static dgj_rc_t
dgj_wf_step_refuse_return(dgj_wf_ctx_t *c)
{
    if (c->m.ev.comment == NULL) {
        return dgj_req_fail_code(c->r, DGJ_ERR_INPUT, "missing_field",
            "\"comment\" is required: say why the return is not accepted");
    }

    /* back to the same department, whose handling time keeps running */
    c->m.handle_due = c->a->handle_due;
    c->m.ev.target_dept = c->a->lead_dept;

    return DGJ_OK;
}


static dgj_rc_t
dgj_wf_step_assist_request(dgj_wf_ctx_t *c)
{
    json_t  *list;

    list = json_object_get(c->body, "department_ids");
    if (list == NULL) {
        return dgj_req_fail_code(c->r, DGJ_ERR_INPUT, "missing_field",
                                 "\"department_ids\" is required");
    }

    return dgj_wf_open_tasks(c, list);
}


static dgj_rc_t
dgj_wf_open_tasks(dgj_wf_ctx_t *c, const json_t *list)
{
    size_t                 i;
    int64_t                dept, n, due, warn;
    json_t                *v;
    dgj_rc_t               rc;
    uint64_t               task;
    dgj_wf_deadline_key_t  k;

    if (!json_is_array(list) || json_array_size(list) == 0
        || json_array_size(list) > 10)
    {
        return dgj_req_fail(c->r, DGJ_ERR_INPUT,
                            "assisting departments must be a list of 1 to 10"
                            " department ids");
    }

    k.stage = "assist";
    k.category_id = c->a->category_id;
    k.appeal_type = c->a->appeal_type;
    k.priority = c->a->priority;

    rc = dgj_wf_deadline(c->r, &k, c->now, &due, &warn);
    if (rc != DGJ_OK) {
        return rc;
    }

    /* an assist task cannot outlive the handling deadline */
    if (c->m.handle_due != 0 && due > c->m.handle_due) {
        due = c->m.handle_due;
    }

    json_array_foreach(list, i, v) {
        if (!json_is_integer(v) || json_integer_value(v) <= 0) {
            return dgj_req_fail(c->r, DGJ_ERR_INPUT,
                                "department ids must be positive integers");
        }

        dept = json_integer_value(v);

        if (dept == c->a->lead_dept) {
            return dgj_req_fail_code(c->r, DGJ_ERR_INPUT, "assist_is_lead",
                "the lead department cannot assist itself");
        }

        rc = dgj_wf_department(c, NULL, 1, &dept);
        if (rc != DGJ_OK) {
            return rc;
        }

        rc = dgj_db_row(c->r, &dgj_wf_sql_task_open,
                        DGJ_ARGS(DGJ_I64(c->a->id), DGJ_I64(dept)),
                        DGJ_OUTS(DGJ_OUT_I64(&n)));
        if (rc != DGJ_OK) {
            return rc;
        }

        if (n > 0) {
            return dgj_req_fail_code(c->r, DGJ_ERR_CONFLICT, "assist_open",
                                     "department %" PRId64 " already has an"
                                     " open assist task", dept);
        }

        rc = dgj_db_exec(c->r, &dgj_wf_sql_task_insert,
                         DGJ_ARGS(DGJ_I64(c->a->id), DGJ_I64(dept),
                                  DGJ_STR(c->m.ev.comment ? c->m.ev.comment
                                                          : ""),
                                  DGJ_STR(dgj_wf_time(c->r, due)),
                                  c->id ? DGJ_I64((int64_t) c->id->user_id)
                                        : DGJ_NULL,
                                  DGJ_STR(dgj_wf_time(c->r, c->now))),
                         NULL, &task);
        if (rc != DGJ_OK) {
            return rc;
        }

        /* one event per action: the first task and department stand in */
        if (c->m.ev.task_id == 0 && strcmp(c->t->action, "dispatch") != 0) {
            c->m.ev.task_id = (int64_t) task;
            c->m.ev.target_dept = dept;
            c->m.ev.due_set = due;
        }
    }

    return DGJ_OK;
}


static dgj_rc_t
dgj_wf_step_assist_reply(dgj_wf_ctx_t *c)
{
    uint64_t     done;
    json_int_t   task;
    dgj_rc_t     rc;
    const char  *reply;

    rc = dgj_json_get_int(c->r, c->body, "task_id", 1, INT64_MAX, &task);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_wf_text(c->r, c->body, "reply", 2, 4000, DGJ_WF_TEXT_MULTILINE,
                     &reply);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_exec(c->r, &dgj_wf_sql_task_reply,
                     DGJ_ARGS(DGJ_STR(reply),
                              DGJ_I64((int64_t) c->id->user_id),
                              DGJ_STR(dgj_wf_time(c->r, c->now)),
                              DGJ_I64(task), DGJ_I64(c->a->id),
                              DGJ_I64((int64_t) c->id->dept_id)),
                     &done, NULL);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (done == 0) {
        return dgj_req_fail_code(c->r, DGJ_ERR_CONFLICT, "task_not_open",
                                 "task %" PRId64 " is not an open task of"
                                 " your department", (int64_t) task);
    }

    c->m.ev.task_id = task;
    c->m.ev.target_dept = (int64_t) c->id->dept_id;

    if (c->m.ev.comment == NULL) {
        c->m.ev.comment = reply;
    }

    return DGJ_OK;
}


static dgj_rc_t
dgj_wf_step_extension_request(dgj_wf_ctx_t *c)
{
    json_int_t  days;
    dgj_rc_t    rc;

    if (c->a->pending_extension != 0) {
        return dgj_req_fail_code(c->r, DGJ_ERR_CONFLICT, "extension_pending",
                                 "an extension request is already waiting"
                                 " for intake");
    }

    if (c->a->extensions_count >= DGJ_WF_MAX_EXTENSIONS) {
        return dgj_req_fail_code(c->r, DGJ_ERR_CONFLICT, "extension_limit",
                                 "this appeal was already extended %d times",
                                 DGJ_WF_MAX_EXTENSIONS);
    }

    rc = dgj_json_get_int(c->r, c->body, "days", 1,
                          DGJ_WF_MAX_EXTENSION_DAYS, &days);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (c->m.ev.comment == NULL) {
        return dgj_req_fail_code(c->r, DGJ_ERR_INPUT, "missing_field",
                                 "\"comment\" is required: why more time");
    }

    c->m.ev.reason = "extension";

    return dgj_db_exec(c->r, &dgj_wf_sql_pending_extension,
                       DGJ_ARGS(DGJ_I64(days), DGJ_I64(c->a->id)),
                       NULL, NULL);
}


static dgj_rc_t
dgj_wf_step_extension_decide(dgj_wf_ctx_t *c)
{
    int64_t   due;
    dgj_rc_t  rc;

    if (c->a->pending_extension == 0) {
        return dgj_req_fail_code(c->r, DGJ_ERR_CONFLICT, "no_extension",
                                 "no extension request is waiting");
    }

    rc = dgj_db_exec(c->r, &dgj_wf_sql_pending_extension,
                     DGJ_ARGS(DGJ_NULL, DGJ_I64(c->a->id)), NULL, NULL);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (strcmp(c->t->action, "extension_refuse") == 0) {
        if (c->m.ev.comment == NULL) {
            return dgj_req_fail_code(c->r, DGJ_ERR_INPUT, "missing_field",
                                     "\"comment\" is required: say why not");
        }

        return DGJ_OK;
    }

    rc = dgj_wf_extend(c->r, c->a->handle_due, (int) c->a->pending_extension,
                       &due);
    if (rc != DGJ_OK) {
        return rc;
    }

    c->m.handle_due = due;
    c->m.ev.due_set = due;

    if (strcmp(c->a->stage, "handle") == 0
        || strcmp(c->a->stage, "rehandle") == 0)
    {
        c->m.due = due;
        rc = dgj_wf_warn(c, c->m.stage_start, due, &c->m.warn);
        if (rc != DGJ_OK) {
            return rc;
        }
    }

    return dgj_db_exec(c->r, &dgj_wf_sql_counts,
                       DGJ_ARGS(DGJ_I64(0), DGJ_I64(1), DGJ_I64(0),
                                DGJ_I64(0), DGJ_I64(0), DGJ_I64(c->a->id)),
                       NULL, NULL);
}


static dgj_rc_t
dgj_wf_step_reply(dgj_wf_ctx_t *c)
{
    int64_t      open;
    dgj_rc_t     rc;
    const char  *reply, *outcome, *owner;

    rc = dgj_db_row(c->r, &dgj_wf_sql_tasks_open,
                    DGJ_ARGS(DGJ_I64(c->a->id)), DGJ_OUTS(DGJ_OUT_I64(&open)));
    if (rc != DGJ_OK) {
        return rc;
    }

    if (open > 0) {
        return dgj_req_fail_code(c->r, DGJ_ERR_CONFLICT, "assist_pending",
                                 "%" PRId64 " assisting department(s) have"
                                 " not replied yet", open);
    }

    rc = dgj_wf_text(c->r, c->body, "reply", 2, 4000, DGJ_WF_TEXT_MULTILINE,
                     &reply);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_wf_code_in(c, "outcome", dgj_wf_reply_outcomes, &outcome);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_wf_text(c->r, c->body, "outcome_owner", 0, 100, 0, &owner);
    if (rc != DGJ_OK) {
        return rc;
    }

    /* "not ours" is honest only when it names who it belongs to */
    if (strcmp(outcome, "not_ours") == 0 && owner == NULL) {
        return dgj_req_fail_code(c->r, DGJ_ERR_INPUT, "missing_field",
            "\"outcome_owner\" is required: name the right owner");
    }

    /* the review clock: the handling deadline is met by replying */
    c->m.handle_due = c->a->handle_due;

    return dgj_db_exec(c->r, &dgj_wf_sql_set_reply,
                       DGJ_ARGS(DGJ_STR(reply),
                                DGJ_STR(dgj_wf_time(c->r, c->now)),
                                DGJ_STR(outcome),
                                owner ? DGJ_STR(owner) : DGJ_NULL,
                                DGJ_I64(c->a->id)),
                       NULL, NULL);
}


static dgj_rc_t
dgj_wf_step_approve(dgj_wf_ctx_t *c)
{
    (void) c;

    /* the reply becomes public with this event; the rating clock runs */
    return DGJ_OK;
}


static dgj_rc_t
dgj_wf_step_send_back(dgj_wf_ctx_t *c)
{
    if (c->m.ev.comment == NULL) {
        return dgj_req_fail_code(c->r, DGJ_ERR_INPUT, "missing_field",
            "\"comment\" is required: tell the department what to fix");
    }

    /* back to handling against the deadline already running */
    return dgj_wf_toward(c, c->a->reopen_count > 0 ? "rehandle" : "handle",
                         c->a->handle_due);
}


static dgj_rc_t
dgj_wf_step_publish(dgj_wf_ctx_t *c)
{
    json_t      *v;
    dgj_rc_t     rc;
    const char  *title, *content;

    v = json_object_get(c->body, "publish");
    if (!json_is_boolean(v)) {
        return dgj_req_fail(c->r, DGJ_ERR_INPUT,
                            "\"publish\" must be true or false");
    }

    if (json_is_false(v)) {
        c->m.ev.reason = "withheld";
        return dgj_db_exec(c->r, &dgj_wf_sql_publish,
                           DGJ_ARGS(DGJ_STR("withheld"), DGJ_NULL, DGJ_NULL,
                                    DGJ_NULL, DGJ_I64(c->a->id)),
                           NULL, NULL);
    }

    if (!c->a->publish_consent) {
        return dgj_req_fail_code(c->r, DGJ_ERR_CONFLICT, "no_consent",
                                 "the citizen did not consent to publication");
    }

    if (!c->a->category_public) {
        return dgj_req_fail_code(c->r, DGJ_ERR_CONFLICT, "category_private",
                                 "appeals of this category (reports) are"
                                 " never published");
    }

    rc = dgj_wf_text(c->r, c->body, "public_title", 4, 100, 0, &title);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_wf_text(c->r, c->body, "public_content", 10, 4000,
                     DGJ_WF_TEXT_MULTILINE, &content);
    if (rc != DGJ_OK) {
        return rc;
    }

    c->m.ev.reason = "published";

    /* the reviewer redacts; numbers that slipped through are masked too */
    return dgj_db_exec(c->r, &dgj_wf_sql_publish,
                       DGJ_ARGS(DGJ_STR("published"),
                                DGJ_STR(dgj_wf_redact_text(c->r, title)),
                                DGJ_STR(dgj_wf_redact_text(c->r, content)),
                                DGJ_STR(dgj_wf_time(c->r, c->now)),
                                DGJ_I64(c->a->id)),
                       NULL, NULL);
}


/*
 * rate: 1 非常满意, 2 满意, 3 基本满意 close the appeal; 4 不满意 and
 * 5 非常不满意 open the dissatisfaction review (满意度甄别).
 */
static dgj_rc_t
dgj_wf_step_rate(dgj_wf_ctx_t *c)
{
    json_t      *v;
    json_int_t   rating;
    dgj_rc_t     rc;

    if (c->a->due != 0 && c->now > c->a->due) {
        return dgj_req_fail_code(c->r, DGJ_ERR_CONFLICT, "rating_closed",
                                 "the 7 days for rating are over");
    }

    rc = dgj_json_get_int(c->r, c->body, "rating", 1, 5, &rating);
    if (rc != DGJ_OK) {
        return rc;
    }

    v = json_object_get(c->body, "resolved");
    if (!json_is_boolean(v)) {
        return dgj_req_fail(c->r, DGJ_ERR_INPUT,
                            "\"resolved\" must be true or false");
    }

    if (c->m.ev.comment != NULL
        && (rc = dgj_wf_text(c->r, c->body, "comment", 0, 500,
                             DGJ_WF_TEXT_MULTILINE, &c->m.ev.comment))
           != DGJ_OK)
    {
        return rc;
    }

    if (rating >= 4) {
        c->m.to = DGJ_WF_DISSATISFIED;
        rc = dgj_wf_clock(c, "review");
        if (rc != DGJ_OK) {
            return rc;
        }
    }

    c->m.ev.reason = json_is_true(v) ? "resolved" : "unresolved";

    return dgj_db_exec(c->r, &dgj_wf_sql_rate,
                       DGJ_ARGS(DGJ_I64(rating), DGJ_I64(json_is_true(v)),
                                c->m.ev.comment ? DGJ_STR(c->m.ev.comment)
                                                : DGJ_NULL,
                                DGJ_STR(dgj_wf_time(c->r, c->now)),
                                DGJ_I64(c->a->id)),
                       NULL, NULL);
}


/* uphold (重办, once, the department was at fault) or dismiss */
static dgj_rc_t
dgj_wf_step_review(dgj_wf_ctx_t *c)
{
    if (c->m.ev.comment == NULL) {
        return dgj_req_fail_code(c->r, DGJ_ERR_INPUT, "missing_field",
                                 "\"comment\" is required: record the finding");
    }

    if (strcmp(c->t->action, "dismiss") == 0) {
        return DGJ_OK;
    }

    if (c->a->reopen_count >= DGJ_WF_MAX_REOPENS) {
        return dgj_req_fail_code(c->r, DGJ_ERR_CONFLICT, "reopen_limit",
                                 "an appeal is re-handled at most once");
    }

    /* 15 working days from now: the sign step starts that clock */
    c->m.handle_due = c->m.due;
    c->m.ev.target_dept = c->a->lead_dept;

    return dgj_db_exec(c->r, &dgj_wf_sql_counts,
                       DGJ_ARGS(DGJ_I64(0), DGJ_I64(0), DGJ_I64(1),
                                DGJ_I64(0), DGJ_I64(0), DGJ_I64(c->a->id)),
                       NULL, NULL);
}


static dgj_rc_t
dgj_wf_step_auto_close(dgj_wf_ctx_t *c)
{
    if (c->a->due == 0 || c->now <= c->a->due) {
        return dgj_req_fail_code(c->r, DGJ_ERR_CONFLICT, "rating_open",
                                 "the rating window is still open");
    }

    c->m.ev.reason = "no_rating";

    return DGJ_OK;
}


static dgj_rc_t
dgj_wf_step_supervise(dgj_wf_ctx_t *c)
{
    int  urge;

    urge = strcmp(c->t->action, "urge") == 0;

    if (c->m.ev.comment == NULL) {
        return dgj_req_fail_code(c->r, DGJ_ERR_INPUT, "missing_field",
                                 "\"comment\" is required");
    }

    c->m.ev.target_dept = c->a->lead_dept;

    return dgj_db_exec(c->r, &dgj_wf_sql_counts,
                       DGJ_ARGS(DGJ_I64(0), DGJ_I64(0), DGJ_I64(0),
                                DGJ_I64(urge), DGJ_I64(!urge),
                                DGJ_I64(c->a->id)),
                       NULL, NULL);
}


static dgj_rc_t
dgj_wf_step_note(dgj_wf_ctx_t *c)
{
    if (c->m.ev.comment == NULL) {
        return dgj_req_fail_code(c->r, DGJ_ERR_INPUT, "missing_field",
                                 "\"comment\" is required");
    }

    return DGJ_OK;
}


/*
 * A department id from body[key] (key NULL: *dept is the id to check):
 * it must exist and be active.  Absent and not required: *dept = 0.
 */
static dgj_rc_t
dgj_wf_department(dgj_wf_ctx_t *c, const char *key, int required,
    int64_t *dept)
{
    int64_t     active;
    json_t     *v;
    dgj_rc_t    rc;

    if (key != NULL) {
        *dept = 0;
        v = json_object_get(c->body, key);

        if (v == NULL || json_is_null(v)) {
            if (required) {
                return dgj_req_fail_code(c->r, DGJ_ERR_INPUT, "missing_field",
                                         "\"%s\" is required", key);
            }

            return DGJ_OK;
        }

        if (!json_is_integer(v) || json_integer_value(v) <= 0) {
            return dgj_req_fail(c->r, DGJ_ERR_INPUT,
                                "\"%s\" must be a department id", key);
        }

        *dept = json_integer_value(v);
    }

    rc = dgj_db_row(c->r, &dgj_wf_sql_department, DGJ_ARGS(DGJ_I64(*dept)),
                    DGJ_OUTS(DGJ_OUT_I64(&active)));
    if (rc == DGJ_ERR_NOT_FOUND || (rc == DGJ_OK && !active)) {
        dgj_req_fail_clear(c->r);
        return dgj_req_fail_code(c->r, DGJ_ERR_INPUT, "unknown_department",
                                 "department %" PRId64 " does not exist or is"
                                 " no longer active", *dept);
    }

    return rc;
}


static dgj_rc_t
dgj_wf_code_in(dgj_wf_ctx_t *c, const char *key, const char *const *codes,
    const char **out)
{
    size_t       i;
    dgj_rc_t     rc;
    const char  *v;

    rc = dgj_accounts_req_str(c->r, c->body, key, 32, &v);
    if (rc != DGJ_OK) {
        return rc;
    }

    for (i = 0; codes[i] != NULL; i++) {
        if (strcmp(codes[i], v) == 0) {
            *out = codes[i];
            return DGJ_OK;
        }
    }

    return dgj_req_fail_code(c->r, DGJ_ERR_INPUT, "invalid_code",
                             "\"%s\" is not one of the allowed codes (see"
                             " docs/workflow.md)", key);
}
