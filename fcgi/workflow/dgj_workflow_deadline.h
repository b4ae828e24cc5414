
/*
 * Copyright (C) Daguanjia
 *
 * dgj_workflow_deadline.h: deadline rules and the worker's calendar.
 */


#ifndef DGJ_WORKFLOW_DEADLINE_H
#define DGJ_WORKFLOW_DEADLINE_H


#include "dgj_core.h"
#include "dgj_calendar.h"
#include "dgj_router.h"


typedef struct {
    const char  *stage;
    int64_t      category_id;
    const char  *appeal_type;
    const char  *priority;
} dgj_wf_deadline_key_t;


dgj_rc_t dgj_wf_calendar(dgj_req_t *r, const dgj_calendar_t **cal);
dgj_rc_t dgj_wf_deadline(dgj_req_t *r, const dgj_wf_deadline_key_t *key,
    int64_t start, int64_t *due, int64_t *warn_at);
dgj_rc_t dgj_wf_extend(dgj_req_t *r, int64_t due, int days,
    int64_t *new_due);


#endif /* DGJ_WORKFLOW_DEADLINE_H */
