
/* TEMPORARY until h-deadline lands: plain working days, no cache. */

#include "dgj_core.h"
#include "dgj_workflow_deadline.h"
#include "dgj_workflow.h"

dgj_rc_t
dgj_wf_calendar(dgj_req_t *r, const dgj_calendar_t **cal)
{
    static dgj_calendar_t  empty;

    (void) r;
    *cal = &empty;
    return DGJ_OK;
}

dgj_rc_t
dgj_wf_deadline(dgj_req_t *r, const dgj_wf_deadline_key_t *key,
    int64_t start, int64_t *due, int64_t *warn_at)
{
    int64_t  days;

    (void) r;
    days = strcmp(key->stage, "rating") == 0 ? 7
           : strcmp(key->stage, "handle") == 0 ? 5
           : strcmp(key->stage, "rehandle") == 0 ? 15 : 1;
    if (strcmp(key->priority, "urgent") == 0) {
        days = 1;
    }
    *due = start + days * 86400;
    *warn_at = start + days * 86400 * 8 / 10;
    return DGJ_OK;
}

dgj_rc_t
dgj_wf_extend(dgj_req_t *r, int64_t due, int days, int64_t *new_due)
{
    (void) r;
    *new_due = due + (int64_t) days * 86400;
    return DGJ_OK;
}

#include "dgj_deadline.h"
int64_t
dgj_deadline_warn_at(const dgj_calendar_t *cal, int64_t start,
    int64_t due, dgj_dl_unit_t unit)
{
    (void) cal; (void) unit;
    return due - (due - start) / 5;
}
