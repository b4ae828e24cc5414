
/*
 * Copyright (C) Daguanjia
 *
 * dgj_workflow_sweep.c: the time-driven transitions, run by `dgj-fcgi -c
 * CONF -W` (once a minute from conf/stack.sh, or from cron).  Today one:
 * auto_close (评价期满自动办结) of appeals in awaiting_feedback whose
 * rating window (due_at) has passed.
 *
 * Each appeal goes through dgj_wf_act() as the system, in its own
 * transaction, so it is closed with its event exactly as any action is.
 * The due appeals are walked oldest first in batches of 200, each batch
 * starting after the last (due_at, id) seen, so a row that keeps failing
 * cannot hold the rest back.  Two runs at once (two hosts, or cron and
 * the loop) are safe: the appeal row is locked by the action, and the
 * loser sees a state that auto_close does not leave (409 invalid_state)
 * and skips it.
 */


#include "dgj_core.h"
#include "dgj_workflow.h"
#include "dgj_clock.h"
#include "dgj_conf.h"
#include "dgj_db.h"
#include "dgj_json.h"
#include "dgj_log.h"
#include "dgj_offline.h"


#define DGJ_WF_SWEEP_BATCH  200
#define DGJ_WF_SWEEP_RUN    50000   /* appeals per run at most: a run ends */


typedef struct {
    int64_t     now;                /* the run's cut-off */
    char        after_due[24];      /* keyset: the last (due_at, id) seen */
    int64_t     after_id;
    unsigned    seen;
    unsigned    closed;
    unsigned    skipped;
    unsigned    failed;
    int         more;
} dgj_wf_sweep_t;


static dgj_rc_t dgj_wf_sweep_batch(dgj_req_t *r, void *data);


static const dgj_sql_t  dgj_wf_sql_sweep_due = {
    "workflow.sweep_due",
    "SELECT id, tracking_no,"
    "       DATE_FORMAT(due_at, '%Y-%m-%d %H:%i:%s') AS due_at"
    "  FROM appeals"
    " WHERE state = 'awaiting_feedback' AND due_at < ?"
    "   AND due_at >= ? AND (due_at > ? OR id > ?)"
    " ORDER BY due_at, id"
    " LIMIT ?"
};


int
dgj_wf_sweep(const dgj_conf_t *conf)
{
    dgj_rc_t        rc;
    dgj_wf_sweep_t  s;

    memset(&s, 0, sizeof(s));
    s.now = dgj_clock_now(conf);
    snprintf(s.after_due, sizeof(s.after_due), "1000-01-01 00:00:00");

    do {
        s.more = 0;
        rc = dgj_offline_run(conf, dgj_wf_sweep_batch, &s);

    } while (rc == DGJ_OK && s.more && s.seen < DGJ_WF_SWEEP_RUN);

    dgj_log(rc == DGJ_OK && s.failed == 0 ? DGJ_LOG_INFO : DGJ_LOG_ERROR,
            "sweep", "auto_close: %u closed, %u skipped, %u failed%s",
            s.closed, s.skipped, s.failed,
            rc != DGJ_OK ? ", run stopped" : "");

    printf("dgj-fcgi: sweep: auto_close %u closed, %u skipped, %u failed\n",
           s.closed, s.skipped, s.failed);

    return (rc == DGJ_OK && s.failed == 0) ? 0 : -1;
}


static dgj_rc_t
dgj_wf_sweep_batch(dgj_req_t *r, void *data)
{
    size_t           i, n;
    json_t          *rows, *row, *body;
    dgj_rc_t         rc;
    const char      *no, *due;
    dgj_wf_sweep_t  *s;

    s = data;

    rc = dgj_db_rows_json(r, &dgj_wf_sql_sweep_due,
                          DGJ_ARGS(DGJ_STR(dgj_wf_time(r, s->now)),
                                   DGJ_STR(s->after_due),
                                   DGJ_STR(s->after_due),
                                   DGJ_I64(s->after_id),
                                   DGJ_I64(DGJ_WF_SWEEP_BATCH)),
                          &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    n = json_array_size(rows);

    for (i = 0; i < n; i++) {
        row = json_array_get(rows, i);
        no = json_string_value(json_object_get(row, "tracking_no"));
        due = json_string_value(json_object_get(row, "due_at"));

        if (no == NULL || due == NULL) {
            return dgj_req_fail(r, DGJ_ERR_INTERNAL, "bad sweep row");
        }

        snprintf(s->after_due, sizeof(s->after_due), "%s", due);
        s->after_id = json_integer_value(json_object_get(row, "id"));
        s->seen++;

        body = dgj_json_own(r, json_object());
        if (body == NULL) {
            return DGJ_ERR_NOMEM;
        }

        rc = dgj_wf_act(r, NULL, no, "auto_close", body, 0);

        switch (rc) {

        case DGJ_OK:
            s->closed++;
            break;

        case DGJ_ERR_CONFLICT:
        case DGJ_ERR_NOT_FOUND:
            /* closed, rated or moved meanwhile (another run, a citizen) */
            s->skipped++;
            dgj_req_fail_clear(r);
            break;

        case DGJ_ERR_DB:
        case DGJ_ERR_NOMEM:
            /* the connection or the process is in trouble: stop here */
            return rc;

        default:
            s->failed++;
            dgj_log(DGJ_LOG_ERROR, "sweep", "%s auto_close: %s: %s", no,
                    dgj_rc_code(rc), r->err);
            dgj_req_fail_clear(r);
            break;
        }
    }

    s->more = (n == DGJ_WF_SWEEP_BATCH);

    return DGJ_OK;
}
