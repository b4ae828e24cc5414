
/*
 * Copyright (C) Daguanjia
 *
 * dgj_workflow_deadline.h: the SQL side of the deadline engine: the
 * worker's working-day calendar (calendar_days), the deadline rule of a
 * stage (deadline_rules, docs/workflow.md#deadlines), extensions, and the
 * system admin's API for the rules ("deadline_rules" route table).
 */


#ifndef DGJ_WORKFLOW_DEADLINE_H
#define DGJ_WORKFLOW_DEADLINE_H


#include "dgj_core.h"
#include "dgj_calendar.h"
#include "dgj_router.h"


/* a cached calendar is re-checked against the table this often */
#define DGJ_WF_CALENDAR_CHECK  30
/* an extension adds 1 .. this many working days */
#define DGJ_WF_EXTEND_MAX      720


typedef struct {
    const char  *stage;         /* intake sign handle review rating rehandle
                                   assist */
    int64_t      category_id;   /* the leaf category; 0: none */
    const char  *appeal_type;   /* consultation help complaint report
                                   suggestion praise; NULL: none */
    const char  *priority;      /* normal | urgent */
} dgj_wf_deadline_key_t;


/* GET and POST /api/v1/admin/deadline-rules (dgj_workflow_rules_admin.c) */
extern const dgj_route_t  dgj_deadline_rules_routes[];


/*
 * This worker's calendar: every calendar_days row, loaded once and cached
 * in the worker (not the request).  At most every 30 s (on the clock of
 * dgj_clock.h) a cheap query compares a checksum of the table with the
 * cached one, and the calendar is reloaded when an admin changed it.
 * *cal stays valid until the end of the request, reload or not.
 * DGJ_OK, DGJ_ERR_DB, DGJ_ERR_NOMEM, DGJ_ERR_INTERNAL (a bad row).
 */
dgj_rc_t dgj_wf_calendar(dgj_req_t *r, const dgj_calendar_t **cal);

/*
 * The deadline of a stage of key starting at start (Unix seconds): the
 * rule in force on start's Beijing date is, among the rules of the stage
 * with effective_from on or before that date and whose category,
 * appeal_type and priority are either NULL or key's, the first by
 *
 *   1. priority-specific before priority-any (so the seeded urgent rules
 *      in hours win over the category's working days),
 *   2. category-specific, then type-specific, then any,
 *   3. latest effective_from, then the later-added row.
 *
 * A 'handle' stage that no rule matches falls back to the category's
 * handling_days in working days.  *due and *warn_at get the due time and
 * the 80 % warning (dgj_deadline.h).  DGJ_ERR_INTERNAL, logged, when
 * nothing matches at all; DGJ_ERR_DB, DGJ_ERR_NOMEM.
 */
dgj_rc_t dgj_wf_deadline(dgj_req_t *r, const dgj_wf_deadline_key_t *key,
    int64_t start, int64_t *due, int64_t *warn_at);

/*
 * An approved extension: *new_due is the end (23:59:59) of the days-th
 * working day after due's Beijing date.  DGJ_ERR_INPUT when days is not
 * 1..DGJ_WF_EXTEND_MAX; the errors of dgj_wf_calendar().
 */
dgj_rc_t dgj_wf_extend(dgj_req_t *r, int64_t due, int days,
    int64_t *new_due);


#endif /* DGJ_WORKFLOW_DEADLINE_H */
