
/*
 * Copyright (C) Daguanjia
 *
 * dgj_workflow.h: the appeal workflow (业务流转).  The route table is
 * public; the rest is shared by the files of fcgi/workflow only:
 *
 *   dgj_workflow_machine.c   the state machine: one table of transitions
 *   dgj_workflow.c           routes, loading an appeal, who may see it,
 *                            events, tracking numbers and query codes
 *   dgj_workflow_submit.c    submission from every channel, idempotency
 *   dgj_workflow_actions.c   every action on an appeal
 *   dgj_workflow_query.c     inbox and staff detail
 *   dgj_workflow_public.c    public status, rating by code, disclosures,
 *                            a citizen's own appeals
 *   dgj_workflow_attach.c    attachments
 *   dgj_workflow_sweep.c     time-driven transitions (auto-close)
 *   dgj_deadline.c           deadline arithmetic (pure)
 *   dgj_workflow_deadline.c  deadline rules and the worker's calendar
 */


#ifndef DGJ_WORKFLOW_H
#define DGJ_WORKFLOW_H


#include "dgj_core.h"
#include "dgj_identity.h"
#include "dgj_router.h"
#include <inttypes.h>
#include <jansson.h>


extern const dgj_route_t  dgj_workflow_routes[];


typedef enum {
    DGJ_WF_SUBMITTED = 0,
    DGJ_WF_ACCEPTED,
    DGJ_WF_REJECTED,
    DGJ_WF_MERGED,
    DGJ_WF_DISPATCHED,
    DGJ_WF_HANDLING,
    DGJ_WF_RETURNED,
    DGJ_WF_REPLIED,
    DGJ_WF_AWAITING_FEEDBACK,
    DGJ_WF_DISSATISFIED,
    DGJ_WF_REOPENED,
    DGJ_WF_CLOSED,
    DGJ_WF_NSTATES
} dgj_wf_state_t;

#define DGJ_WF_BIT(s)      (1u << (s))
#define DGJ_WF_SAME        (-1)     /* a side action: the state stays */

/* who, beyond the role, may take an action on this appeal */
typedef enum {
    DGJ_WF_SCOPE_ROLE = 0,          /* the role is enough (city level) */
    DGJ_WF_SCOPE_LEAD,              /* staff of the lead department */
    DGJ_WF_SCOPE_ASSIST,            /* staff of a department with a task */
    DGJ_WF_SCOPE_SUBMITTER,         /* the citizen who submitted it */
    DGJ_WF_SCOPE_VIEWER,            /* any staff who may see it */
    DGJ_WF_SCOPE_SYSTEM             /* the sweeper only, never a request */
} dgj_wf_scope_t;

typedef struct {
    const char      *action;        /* "sign": the URL segment */
    const char      *title;         /* 签收: timelines and messages */
    unsigned         from;          /* DGJ_WF_BIT() set */
    int              to;            /* dgj_wf_state_t or DGJ_WF_SAME */
    const char      *roles[4];      /* NULL-terminated */
    dgj_wf_scope_t   scope;
    const char      *stage;         /* clock started, NULL: unchanged */
    unsigned         public:1;      /* on the citizen's timeline */
} dgj_wf_transition_t;


/* The state's name ("handling"), or NULL out of range. */
const char *dgj_wf_state_name(int state);

/* The state's Chinese label (办理中). */
const char *dgj_wf_state_title(int state);

/* The state of a name, or -1. */
int dgj_wf_state_parse(const char *name);

/* The transition of an action name, or NULL. */
const dgj_wf_transition_t *dgj_wf_transition(const char *action);

/* The whole table, terminated by an entry with action NULL (docs, tests). */
const dgj_wf_transition_t *dgj_wf_transitions(void);

/* 1 when the caller holds one of t's roles. */
int dgj_wf_role_allowed(const dgj_wf_transition_t *t,
    const dgj_identity_t *id);

/* 1 for states no action leaves (rejected, merged, closed). */
int dgj_wf_state_final(int state);


/* an appeal as the actions and queries load it (strings in r->pool) */
typedef struct {
    int64_t      id;
    const char  *tracking_no;
    const char  *channel;
    int64_t      category_id;
    const char  *appeal_type;
    int64_t      category_public;
    int64_t      district_id;
    const char  *priority;
    int          state;
    int64_t      lead_dept;         /* 0: none */
    int64_t      submitter;         /* 0: none */
    int64_t      is_anonymous;
    int64_t      publish_consent;
    const char  *stage;
    int64_t      handle_due;        /* unix seconds, 0: none */
    int64_t      due;
    int64_t      returns_count;
    int64_t      extensions_count;
    int64_t      reopen_count;
    int64_t      pending_extension;
    int64_t      version;
    int64_t      submitted;
    int64_t      replied;
} dgj_wf_appeal_t;


/* limits from domain.md, fixed here and named in docs/workflow.md */
#define DGJ_WF_MAX_RETURNS     2
#define DGJ_WF_MAX_REOPENS     1
#define DGJ_WF_MAX_EXTENSIONS  2
#define DGJ_WF_MAX_EXTENSION_DAYS  30


/*
 * Loads the appeal with this tracking number; with for_update, inside
 * the caller's transaction, locking its row.  DGJ_ERR_NOT_FOUND (with a
 * message) when there is none or the number is malformed.
 */
dgj_rc_t dgj_wf_load(dgj_req_t *r, const char *tracking_no, int for_update,
    dgj_wf_appeal_t *a);

/* 1 when tracking_no has the form DG + 8 digits + 6 digits. */
int dgj_wf_tracking_ok(const char *tracking_no);

/*
 * Whether a staff caller may see the appeal at all: intake, reviewer,
 * supervisor and analyst see every appeal; a handler only those led by
 * or asked of their department.  DGJ_OK, DGJ_ERR_NOT_FOUND (never 403,
 * so numbers cannot be probed) or DGJ_ERR_DB.
 */
dgj_rc_t dgj_wf_visible(dgj_req_t *r, const dgj_identity_t *id,
    const dgj_wf_appeal_t *a);

/* 1 when the caller's department holds an open assist task on a. */
dgj_rc_t dgj_wf_has_task(dgj_req_t *r, const dgj_identity_t *id,
    const dgj_wf_appeal_t *a, int *yes);

/*
 * The role an action is recorded as: the first of t's roles the caller
 * holds ("citizen" for the submitter by query code, "system").
 */
const char *dgj_wf_actor_role(const dgj_wf_transition_t *t,
    const dgj_identity_t *id);

/* an event row; NULL strings and 0 ids are stored as NULL */
typedef struct {
    int64_t      appeal_id;
    int64_t      actor;             /* 0: system or anonymous */
    const char  *role;
    int64_t      dept;
    const char  *action;
    int          from;              /* -1: none (submission) */
    int          to;
    const char  *reason;
    const char  *comment;
    int          public;
    int64_t      due_set;           /* 0: none */
    int64_t      target_dept;
    int64_t      task_id;
} dgj_wf_event_t;

/* Appends one appeal_events row at now (inside the caller's transaction). */
dgj_rc_t dgj_wf_event(dgj_req_t *r, const dgj_wf_event_t *ev, int64_t now);

/* "YYYY-MM-DD HH:MM:SS" Beijing time of t in r->pool; NULL for 0. */
const char *dgj_wf_time(dgj_req_t *r, int64_t t);

/* Parses "YYYY-MM-DD HH:MM:SS" (Beijing time) into unix seconds; 0 on NULL. */
int64_t dgj_wf_time_parse(const char *s);

#define DGJ_WF_TEXT_MULTILINE  0x01

/*
 * A text field of min..max characters (min 0: optional, *out NULL when
 * absent or null): a JSON string without control characters (line
 * breaks and tabs only with DGJ_WF_TEXT_MULTILINE), not blank when
 * required.  DGJ_ERR_INPUT naming the field and the limit otherwise.
 */
dgj_rc_t dgj_wf_text(dgj_req_t *r, const json_t *obj, const char *key,
    size_t min, size_t max, unsigned flags, const char **out);

/* The query key (var/secrets/query.key), read once per worker. */
dgj_rc_t dgj_wf_query_key(dgj_req_t *r, const char **key);

/* HMAC-SHA-256 of a query code under the pool's query key into mac. */
dgj_rc_t dgj_wf_query_mac(dgj_req_t *r, const char *code, unsigned char *mac);

/* 1 when code (any case) matches the stored mac, in constant time. */
int dgj_wf_query_code_ok(dgj_req_t *r, const char *code,
    const unsigned char *mac, size_t maclen);

/*
 * Masks in free text what looks like a mobile number or an ID number
 * (published content, public timelines): a safety net under redaction.
 */
char *dgj_wf_redact_text(dgj_req_t *r, const char *text);

/*
 * The appeal's summary after an action: tracking_no, state, state_title,
 * stage, due_at, warn level, version.  Owned by r->pool.
 */
dgj_rc_t dgj_wf_summary(dgj_req_t *r, const char *tracking_no, json_t **out);

/*
 * Takes action on appeal no for id with body (already parsed), in one
 * transaction, and replies with the summary.  by_code: the caller proved
 * the query code (rating from the public page); id NULL: the system
 * (time-driven actions; no reply is sent).
 */
dgj_rc_t dgj_wf_act(dgj_req_t *r, const dgj_identity_t *id, const char *no,
    const char *action, json_t *body, int by_code);

/* handlers */
dgj_rc_t dgj_wf_submit(dgj_req_t *r);
dgj_rc_t dgj_wf_action(dgj_req_t *r);
dgj_rc_t dgj_wf_transitions_get(dgj_req_t *r);

/* handlers: dgj_workflow_attach.c */
dgj_rc_t dgj_wf_attach_upload(dgj_req_t *r);
dgj_rc_t dgj_wf_attach_list(dgj_req_t *r);
dgj_rc_t dgj_wf_attach_get(dgj_req_t *r);

/*
 * dgj_workflow_sweep.c: one run of the time-driven actions (`dgj-fcgi
 * -W`): auto_close of every appeal whose rating window has passed, in
 * batches, each appeal in its own transaction.  Safe to run on several
 * hosts at once.  0, or -1 when a batch failed (printed on stderr).
 */
int dgj_wf_sweep(const dgj_conf_t *conf);

/* dgj_workflow_query.c */
dgj_rc_t dgj_wf_inbox(dgj_req_t *r);
dgj_rc_t dgj_wf_detail(dgj_req_t *r);
dgj_rc_t dgj_wf_reveal(dgj_req_t *r);

/* dgj_workflow_public.c */
dgj_rc_t dgj_wf_track(dgj_req_t *r);
dgj_rc_t dgj_wf_track_rate(dgj_req_t *r);
dgj_rc_t dgj_wf_mine(dgj_req_t *r);
dgj_rc_t dgj_wf_disclosures(dgj_req_t *r);
dgj_rc_t dgj_wf_disclosure(dgj_req_t *r);


#endif /* DGJ_WORKFLOW_H */
