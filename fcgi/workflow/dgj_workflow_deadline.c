
/*
 * Copyright (C) Daguanjia
 *
 * dgj_workflow_deadline.c: the worker's cached working-day calendar,
 * deadline rule resolution and extensions (dgj_workflow_deadline.h).
 * The arithmetic is dgj_deadline.c's; this file only reads calendar_days,
 * deadline_rules and categories.handling_days.
 */


#include "dgj_core.h"
#include "dgj_calendar.h"
#include "dgj_clock.h"
#include "dgj_db.h"
#include "dgj_deadline.h"
#include "dgj_pool.h"
#include "dgj_req.h"
#include "dgj_workflow_deadline.h"


/*
 * One loaded calendar.  The worker holds one reference to the current
 * snapshot and every request that asked for it another, dropped by a
 * pool cleanup: a reload in the middle of a request never frees the days
 * that request is counting on.
 */
typedef struct {
    dgj_calendar_t   cal;
    dgj_cal_day_t   *days;          /* malloc()ed, ascending */
    unsigned         refs;
} dgj_wf_cal_snap_t;


/* the checksum of calendar_days the snapshot was loaded under */
typedef struct {
    int64_t  rows;
    int64_t  sum;
    int64_t  xor;
} dgj_wf_cal_sig_t;


static dgj_rc_t dgj_wf_calendar_load(dgj_req_t *r, dgj_wf_cal_snap_t **out);
static void dgj_wf_calendar_release(void *data);


/*
 * Worker-scoped, not request-scoped: the calendar outlives requests on
 * purpose (a worker serves one request at a time, so no lock).
 */
static dgj_wf_cal_snap_t  *dgj_wf_cal;
static dgj_wf_cal_sig_t    dgj_wf_cal_sig;
static int64_t             dgj_wf_cal_checked;


/*
 * A change of any day or kind changes the sum or the xor of the rows'
 * CRC32s (or the count); the aggregate over a few hundred rows costs less
 * than reading them.
 */
static const dgj_sql_t  dgj_wf_sql_cal_sig = {
    "workflow.calendar_sig",
    "SELECT COUNT(*),"
    "       COALESCE(SUM(CRC32(CONCAT(day, kind))), 0),"
    "       COALESCE(BIT_XOR(CRC32(CONCAT(day, kind))), 0)"
    "  FROM calendar_days"
};

static const dgj_sql_t  dgj_wf_sql_cal_days = {
    "workflow.calendar_days",
    "SELECT day, kind"
    "  FROM calendar_days"
    " ORDER BY day"
};

/* the order is the resolution rule of dgj_workflow_deadline.h */
static const dgj_sql_t  dgj_wf_sql_rule = {
    "workflow.deadline_rule",
    "SELECT unit, amount"
    "  FROM deadline_rules"
    " WHERE stage = ?"
    "   AND effective_from <= ?"
    "   AND (category_id IS NULL OR category_id = ?)"
    "   AND (appeal_type IS NULL OR appeal_type = ?)"
    "   AND (priority IS NULL OR priority = ?)"
    " ORDER BY priority IS NULL, category_id IS NULL, appeal_type IS NULL,"
    "          effective_from DESC, id DESC"
    " LIMIT 1"
};

static const dgj_sql_t  dgj_wf_sql_handling_days = {
    "workflow.handling_days",
    "SELECT handling_days"
    "  FROM categories"
    " WHERE id = ? AND handling_days IS NOT NULL"
};


dgj_rc_t
dgj_wf_calendar(dgj_req_t *r, const dgj_calendar_t **cal)
{
    int64_t               now;
    dgj_rc_t              rc;
    dgj_wf_cal_sig_t      sig;
    dgj_wf_cal_snap_t    *snap;
    dgj_pool_cleanup_t   *cln;

    snap = NULL;
    now = dgj_clock_now(r->conf);

    /* a clock moved back (tests) checks at once too */
    if (dgj_wf_cal == NULL
        || now - dgj_wf_cal_checked >= DGJ_WF_CALENDAR_CHECK
        || now < dgj_wf_cal_checked)
    {
        /*
         * The checksum is read before the rows: a change between the two
         * reads makes the next check reload again, never miss it.
         */
        rc = dgj_db_row(r, &dgj_wf_sql_cal_sig, DGJ_NOARGS,
                        DGJ_OUTS(DGJ_OUT_I64(&sig.rows),
                                 DGJ_OUT_I64(&sig.sum),
                                 DGJ_OUT_I64(&sig.xor)));
        if (rc != DGJ_OK) {
            return rc;
        }

        if (dgj_wf_cal == NULL
            || memcmp(&sig, &dgj_wf_cal_sig, sizeof(sig)) != 0)
        {
            rc = dgj_wf_calendar_load(r, &snap);
            if (rc != DGJ_OK) {
                return rc;
            }

            if (dgj_wf_cal != NULL) {
                dgj_wf_calendar_release(dgj_wf_cal);
            }

            dgj_wf_cal = snap;
            dgj_wf_cal_sig = sig;
        }

        dgj_wf_cal_checked = now;
    }

    cln = dgj_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the calendar");
    }

    dgj_wf_cal->refs++;
    cln->handler = dgj_wf_calendar_release;
    cln->data = dgj_wf_cal;

    *cal = &dgj_wf_cal->cal;

    return DGJ_OK;
}


dgj_rc_t
dgj_wf_deadline(dgj_req_t *r, const dgj_wf_deadline_key_t *key,
    int64_t start, int64_t *due, int64_t *warn_at)
{
    char                   date[11];
    int64_t                amount;
    dgj_rc_t               rc;
    const char            *unit_s;
    dgj_dl_unit_t          unit;
    const dgj_calendar_t  *cal;

    if (key->stage == NULL) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "deadline of no stage");
    }

    dgj_date_format(dgj_deadline_date(start), date);

    rc = dgj_db_row(r, &dgj_wf_sql_rule,
                    DGJ_ARGS(DGJ_STR(key->stage), DGJ_STR(date),
                             DGJ_I64(key->category_id),
                             key->appeal_type != NULL
                             ? DGJ_STR(key->appeal_type) : DGJ_NULL,
                             key->priority != NULL
                             ? DGJ_STR(key->priority) : DGJ_NULL),
                    DGJ_OUTS(DGJ_OUT_STR(&unit_s), DGJ_OUT_I64(&amount)));

    if (rc == DGJ_ERR_NOT_FOUND && strcmp(key->stage, "handle") == 0) {
        unit_s = "working_days";

        rc = dgj_db_row(r, &dgj_wf_sql_handling_days,
                        DGJ_ARGS(DGJ_I64(key->category_id)),
                        DGJ_OUTS(DGJ_OUT_I64(&amount)));
    }

    if (rc == DGJ_ERR_NOT_FOUND) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "no deadline rule for "
                            "stage %s, category %lld, type %s, priority %s "
                            "on %s", key->stage,
                            (long long) key->category_id,
                            key->appeal_type ? key->appeal_type : "-",
                            key->priority ? key->priority : "-", date);
    }

    if (rc != DGJ_OK) {
        return rc;
    }

    unit = dgj_deadline_unit(unit_s);

    if (unit == 0 || amount < 1) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "bad deadline rule for "
                            "stage %s: %lld %s", key->stage,
                            (long long) amount, unit_s ? unit_s : "-");
    }

    rc = dgj_wf_calendar(r, &cal);
    if (rc != DGJ_OK) {
        return rc;
    }

    *due = dgj_deadline_due(cal, start, unit, (int) amount);
    *warn_at = dgj_deadline_warn_at(cal, start, *due, unit);

    return DGJ_OK;
}


dgj_rc_t
dgj_wf_extend(dgj_req_t *r, int64_t due, int days, int64_t *new_due)
{
    dgj_rc_t               rc;
    const dgj_calendar_t  *cal;

    if (days < 1 || days > DGJ_WF_EXTEND_MAX) {
        return dgj_req_fail(r, DGJ_ERR_INPUT, "an extension is 1 to %d "
                            "working days", DGJ_WF_EXTEND_MAX);
    }

    rc = dgj_wf_calendar(r, &cal);
    if (rc != DGJ_OK) {
        return rc;
    }

    *new_due = dgj_deadline_due(cal, due, DGJ_DL_WORKING_DAYS, days);

    return DGJ_OK;
}


/* every calendar_days row into a new snapshot holding one reference */
static dgj_rc_t
dgj_wf_calendar_load(dgj_req_t *r, dgj_wf_cal_snap_t **out)
{
    size_t              i, n;
    json_t             *rows, *row;
    dgj_rc_t            rc;
    const char         *day, *kind;
    dgj_wf_cal_snap_t  *snap;

    rc = dgj_db_rows_json(r, &dgj_wf_sql_cal_days, DGJ_NOARGS, &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    n = json_array_size(rows);

    snap = calloc(1, sizeof(dgj_wf_cal_snap_t));
    if (snap == NULL) {
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the calendar");
    }

    snap->days = malloc((n > 0 ? n : 1) * sizeof(dgj_cal_day_t));
    if (snap->days == NULL) {
        free(snap);
        return dgj_req_fail(r, DGJ_ERR_NOMEM, "no memory for the calendar");
    }

    json_array_foreach(rows, i, row) {
        day = json_string_value(json_object_get(row, "day"));
        kind = json_string_value(json_object_get(row, "kind"));

        if (day == NULL || kind == NULL
            || dgj_date_parse(day, strlen(day), &snap->days[i].date) != 0
            || (i > 0 && snap->days[i].date <= snap->days[i - 1].date))
        {
            free(snap->days);
            free(snap);
            return dgj_req_fail(r, DGJ_ERR_INTERNAL, "bad calendar row");
        }

        if (strcmp(kind, "holiday") == 0) {
            snap->days[i].kind = DGJ_CAL_HOLIDAY;

        } else if (strcmp(kind, "workday") == 0) {
            snap->days[i].kind = DGJ_CAL_WORKDAY;

        } else {
            free(snap->days);
            free(snap);
            return dgj_req_fail(r, DGJ_ERR_INTERNAL, "bad calendar kind "
                                "on %s", day);
        }
    }

    snap->cal.days = snap->days;
    snap->cal.ndays = n;
    snap->refs = 1;

    *out = snap;

    return DGJ_OK;
}


/* drops one reference; the last one frees the snapshot */
static void
dgj_wf_calendar_release(void *data)
{
    dgj_wf_cal_snap_t  *snap;

    snap = data;

    if (--snap->refs > 0) {
        return;
    }

    free(snap->days);
    free(snap);
}
