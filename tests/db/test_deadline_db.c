
/*
 * Copyright (C) Daguanjia
 *
 * test_deadline_db.c: dgj_workflow_deadline.c against the test stack's
 * database: which deadline rule a stage gets (specificity, priority,
 * versions by the Beijing date the stage starts), the fallback to the
 * category's handling_days, no rule at all, extensions, and the worker's
 * calendar cache (re-checked every 30 s, reloaded on a change, a reload
 * never freeing the days a request still counts on).
 *
 * Every row it adds or deletes is inside one transaction that it rolls
 * back, so the database is left as the migrations made it.  Expected
 * times were counted by hand on the 2026 calendar (see test_deadline.c
 * for its holidays); they are Beijing time.  Category 0804 (户籍与居住证)
 * is a consultation leaf with handling_days 2; 0403 (社会保险) another
 * consultation leaf.
 *
 * Environment (set by tests/run): DGJ_DB_SOCKET, DGJ_VAR.
 */


#include "dgj_core.h"
#include "dgj_calendar.h"
#include "dgj_conf.h"
#include "dgj_db.h"
#include "dgj_deadline.h"
#include "dgj_log.h"
#include "dgj_pool.h"
#include "dgj_req.h"
#include "dgj_workflow_deadline.h"

#include <unistd.h>

#include "testhelp.h"
#include "test_cal2026.h"


#define T(s)  test_cal_time(s)


static dgj_conf_t      test_dl_conf;
static dgj_db_t       *test_dl_db;
static dgj_pool_t     *test_dl_pool;
static dgj_pool_t     *test_dl_pool2;
static dgj_test_io_t   test_dl_io;
static dgj_req_t       test_dl_r;
static dgj_req_t       test_dl_r2;
static char            test_dl_clock[DGJ_CONF_PATH];
static int64_t         test_dl_x;       /* 0804 */
static int64_t         test_dl_y;       /* 0403 */


static const dgj_sql_t  test_dl_sql_category = {
    "dltest.category",
    "SELECT id FROM categories WHERE code = ?"
};

static const dgj_sql_t  test_dl_sql_rule = {
    "dltest.rule",
    "INSERT INTO deadline_rules"
    "       (stage, appeal_type, category_id, priority, unit, amount,"
    "        effective_from, note, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, 'test_deadline_db', NOW())"
};

static const dgj_sql_t  test_dl_sql_drop_stage = {
    "dltest.drop_stage",
    "DELETE FROM deadline_rules WHERE stage = ?"
};

static const dgj_sql_t  test_dl_sql_holiday = {
    "dltest.holiday",
    "INSERT INTO calendar_days (day, kind, name, provisional)"
    " VALUES (?, 'holiday', 'test_deadline_db', 0)"
};


/* a new "request" on pool: the transaction on the handle stays open */
static dgj_req_t *
test_dl_req(dgj_req_t *r, dgj_pool_t *pool)
{
    dgj_pool_reset(pool);
    dgj_req_init(r, pool, &test_dl_io.io, 0);
    r->db = test_dl_db;
    r->conf = &test_dl_conf;

    return r;
}


static void
test_dl_set_clock(long offset)
{
    char  buf[32];

    snprintf(buf, sizeof(buf), "%ld\n", offset);
    dgj_test_write_file(test_dl_clock, buf);
}


/* the due time of key from start is want */
static int
test_dl_due_is(const char *stage, int64_t category, const char *type,
    const char *priority, const char *start, const char *want)
{
    char                    got[32];
    int64_t                 due, warn;
    dgj_rc_t                rc;
    dgj_req_t              *r;
    dgj_wf_deadline_key_t   key;

    key.stage = stage;
    key.category_id = category;
    key.appeal_type = type;
    key.priority = priority;

    r = test_dl_req(&test_dl_r, test_dl_pool);

    rc = dgj_wf_deadline(r, &key, T(start), &due, &warn);
    if (rc != DGJ_OK) {
        printf("#   %s from %s: rc %d: %s\n", stage, start, (int) rc, r->err);
        return 0;
    }

    if (due != T(want) || warn <= T(start) || warn > due) {
        test_cal_format(due, got);
        printf("#   %s from %s: due %s, want %s\n", stage, start, got, want);
        return 0;
    }

    return 1;
}


static int
test_dl_rule(const char *stage, const char *type, int64_t category,
    const char *priority, const char *unit, int amount, const char *from)
{
    dgj_rc_t  rc;

    rc = dgj_db_exec(test_dl_req(&test_dl_r, test_dl_pool),
                     &test_dl_sql_rule,
                     DGJ_ARGS(DGJ_STR(stage),
                              type ? DGJ_STR(type) : DGJ_NULL,
                              category ? DGJ_I64(category) : DGJ_NULL,
                              priority ? DGJ_STR(priority) : DGJ_NULL,
                              DGJ_STR(unit), DGJ_I64(amount), DGJ_STR(from)),
                     NULL, NULL);

    return rc == DGJ_OK;
}


static int
test_dl_exec(const dgj_sql_t *sql, const char *arg)
{
    return dgj_db_exec(test_dl_req(&test_dl_r, test_dl_pool), sql,
                       DGJ_ARGS(DGJ_STR(arg)), NULL, NULL) == DGJ_OK;
}


static int64_t
test_dl_category(const char *code)
{
    int64_t  id;

    if (dgj_db_row(test_dl_req(&test_dl_r, test_dl_pool),
                   &test_dl_sql_category, DGJ_ARGS(DGJ_STR(code)),
                   DGJ_OUTS(DGJ_OUT_I64(&id))) != DGJ_OK)
    {
        return 0;
    }

    return id;
}


static void
test_dl_resolution(void)
{
    int64_t  x, y;

    x = test_dl_x;
    y = test_dl_y;

    /* the seeded rules */
    test_cond("dldb-1.1: intake, seeded 1 wd: Thu 09-24 10:00 -> end of "
              "Mon 09-28 (Mid-Autumn off), on the calendar from the table",
              test_dl_due_is("intake", x, "consultation", "normal",
                             "2026-09-24 10:00:00", "2026-09-28 23:59:59"));
    test_cond("dldb-1.2: intake urgent, seeded 2 h: 10:00 -> 12:00",
              test_dl_due_is("intake", x, "consultation", "urgent",
                             "2026-09-24 10:00:00", "2026-09-24 12:00:00"));
    test_cond("dldb-1.3: handle 0804, its seeded 2 wd: Thu 09-24 -> end of "
              "Tue 09-29",
              test_dl_due_is("handle", x, "consultation", "normal",
                             "2026-09-24 10:00:00", "2026-09-29 23:59:59"));
    test_cond("dldb-1.4: handle urgent: the seeded 24 h for any category "
              "beat the category's working days: Thu 22:00 -> Fri 22:00",
              test_dl_due_is("handle", x, "consultation", "urgent",
                             "2026-09-24 22:00:00", "2026-09-25 22:00:00"));
    test_cond("dldb-1.5: rating, seeded 7 calendar days: Fri 09-25 15:30 "
              "-> Fri 10-02 15:30",
              test_dl_due_is("rating", x, "consultation", "normal",
                             "2026-09-25 15:30:00", "2026-10-02 15:30:00"));

    /* versions of 0804's handling: A from 09-01 (5 wd), B from 10-08 */
    test_cond("dldb-2.0: two versions of 0804's handling are added",
              test_dl_rule("handle", NULL, x, NULL, "working_days", 5,
                           "2026-09-01")
              && test_dl_rule("handle", NULL, x, NULL, "working_days", 1,
                              "2026-10-08"));
    test_cond("dldb-2.1: a stage started Mon 08-31 keeps the seeded 2 wd: "
              "end of Wed 09-02",
              test_dl_due_is("handle", x, "consultation", "normal",
                             "2026-08-31 10:00:00", "2026-09-02 23:59:59"));
    test_cond("dldb-2.2: from Tue 09-01 00:00 version A, 5 wd: 2, 3, 4, 7, "
              "8 -> end of Tue 09-08",
              test_dl_due_is("handle", x, "consultation", "normal",
                             "2026-09-01 00:00:00", "2026-09-08 23:59:59"));
    test_cond("dldb-2.3: Wed 09-30 with A: Oct 8, 9, 10 (Sat, worked), "
              "12, 13 -> end of Tue 10-13",
              test_dl_due_is("handle", x, "consultation", "normal",
                             "2026-09-30 10:00:00", "2026-10-13 23:59:59"));
    test_cond("dldb-2.4: Wed 10-07 23:59:59, the last second before B, "
              "still A -> end of Tue 10-13",
              test_dl_due_is("handle", x, "consultation", "normal",
                             "2026-10-07 23:59:59", "2026-10-13 23:59:59"));
    test_cond("dldb-2.5: Thu 10-08 00:00:00 takes B, 1 wd -> end of "
              "Fri 10-09",
              test_dl_due_is("handle", x, "consultation", "normal",
                             "2026-10-08 00:00:00", "2026-10-09 23:59:59"));
    test_cond("dldb-2.6: the date is Beijing's: Thu 10-08 07:00 (still "
              "10-07 in UTC) takes B",
              test_dl_due_is("handle", x, "consultation", "normal",
                             "2026-10-08 07:00:00", "2026-10-09 23:59:59"));
    test_cond("dldb-2.7: another category keeps its own rule: 0403 "
              "(3 wd) from Thu 09-24 -> 28, 29, 30 -> end of Wed 09-30",
              test_dl_due_is("handle", y, "consultation", "normal",
                             "2026-09-24 10:00:00", "2026-09-30 23:59:59"));

    /* specificity */
    test_cond("dldb-3.0: an urgent rule for 0804 (12 h) is added",
              test_dl_rule("handle", NULL, x, "urgent", "hours", 12,
                           "2026-09-01"));
    test_cond("dldb-3.1: category and priority beat priority alone: "
              "Thu 22:00 + 12 h -> Fri 10:00",
              test_dl_due_is("handle", x, "consultation", "urgent",
                             "2026-09-24 22:00:00", "2026-09-25 10:00:00"));
    test_cond("dldb-3.2: another category's urgent appeal keeps 24 h",
              test_dl_due_is("handle", y, "consultation", "urgent",
                             "2026-09-24 22:00:00", "2026-09-25 22:00:00"));

    test_cond("dldb-3.3: review rules for consultations (5 wd) and for "
              "0804 (1 wd) are added",
              test_dl_rule("review", "consultation", 0, NULL,
                           "working_days", 5, "2026-09-01")
              && test_dl_rule("review", NULL, x, NULL, "working_days", 1,
                              "2026-09-01"));
    test_cond("dldb-3.4: a help appeal keeps the seeded review 2 wd: "
              "Thu 09-24 -> 28, 29 -> end of Tue 09-29",
              test_dl_due_is("review", 0, "help", "normal",
                             "2026-09-24 10:00:00", "2026-09-29 23:59:59"));
    test_cond("dldb-3.5: type beats any: a consultation in 0403 gets 5 wd: "
              "28, 29, 30, Oct 8, 9 -> end of Fri 10-09",
              test_dl_due_is("review", y, "consultation", "normal",
                             "2026-09-24 10:00:00", "2026-10-09 23:59:59"));
    test_cond("dldb-3.6: category beats type: 0804 gets 1 wd -> end of "
              "Mon 09-28",
              test_dl_due_is("review", x, "consultation", "normal",
                             "2026-09-24 10:00:00", "2026-09-28 23:59:59"));
    test_cond("dldb-3.7: priority beats category: urgent 0804 review gets "
              "the seeded 4 h -> 14:00",
              test_dl_due_is("review", x, "consultation", "urgent",
                             "2026-09-24 10:00:00", "2026-09-24 14:00:00"));

    test_cond("dldb-3.8: rehandle: any 3 wd then 4 wd the same day, and an "
              "older consultation rule of 1 wd",
              test_dl_rule("rehandle", NULL, 0, NULL, "working_days", 3,
                           "2026-09-01")
              && test_dl_rule("rehandle", NULL, 0, NULL, "working_days", 4,
                              "2026-09-01")
              && test_dl_rule("rehandle", "consultation", 0, NULL,
                              "working_days", 1, "2026-06-01"));
    test_cond("dldb-3.9: the same date: the row added later wins: 4 wd "
              "from Thu 09-24 -> 28, 29, 30, Oct 8 -> end of Thu 10-08",
              test_dl_due_is("rehandle", 0, "help", "normal",
                             "2026-09-24 10:00:00", "2026-10-08 23:59:59"));
    test_cond("dldb-3.10: specificity before recency: the older "
              "consultation rule wins -> end of Mon 09-28",
              test_dl_due_is("rehandle", y, "consultation", "normal",
                             "2026-09-24 10:00:00", "2026-09-28 23:59:59"));
}


static void
test_dl_fallback(void)
{
    int64_t                 due, warn;
    dgj_rc_t                rc;
    dgj_req_t              *r;
    dgj_wf_deadline_key_t   key;

    test_cond("dldb-4.0: every handle and assist rule is deleted (in the "
              "transaction)",
              test_dl_exec(&test_dl_sql_drop_stage, "handle")
              && test_dl_exec(&test_dl_sql_drop_stage, "assist"));
    test_cond("dldb-4.1: handle falls back to 0804's handling_days, 2 wd "
              "-> end of Tue 09-29",
              test_dl_due_is("handle", test_dl_x, "consultation", "normal",
                             "2026-09-24 10:00:00", "2026-09-29 23:59:59"));
    test_cond("dldb-4.2: so does an urgent one, with no urgent rule left",
              test_dl_due_is("handle", test_dl_x, "consultation", "urgent",
                             "2026-09-24 10:00:00", "2026-09-29 23:59:59"));

    key.stage = "assist";
    key.category_id = test_dl_x;
    key.appeal_type = "consultation";
    key.priority = "normal";

    r = test_dl_req(&test_dl_r, test_dl_pool);
    rc = dgj_wf_deadline(r, &key, T("2026-09-24 10:00:00"), &due, &warn);
    test_cond("dldb-4.3: no rule at all: DGJ_ERR_INTERNAL naming the stage",
              rc == DGJ_ERR_INTERNAL
              && strstr(r->err, "no deadline rule for stage assist")
                 != NULL);

    key.stage = "handle";
    key.category_id = 0;

    r = test_dl_req(&test_dl_r, test_dl_pool);
    rc = dgj_wf_deadline(r, &key, T("2026-09-24 10:00:00"), &due, &warn);
    test_cond("dldb-4.4: handle without rule or category: DGJ_ERR_INTERNAL",
              rc == DGJ_ERR_INTERNAL);
}


static void
test_dl_extend(void)
{
    int64_t     due;
    dgj_rc_t    rc;
    dgj_req_t  *r;

    r = test_dl_req(&test_dl_r, test_dl_pool);
    rc = dgj_wf_extend(r, T("2026-09-28 23:59:59"), 3, &due);
    test_cond("dldb-5.1: due end of Mon 09-28 extended 3 wd: 29, 30, Oct 8 "
              "-> end of Thu 10-08",
              rc == DGJ_OK && due == T("2026-10-08 23:59:59"));

    r = test_dl_req(&test_dl_r, test_dl_pool);
    rc = dgj_wf_extend(r, T("2026-09-25 22:00:00"), 1, &due);
    test_cond("dldb-5.2: an urgent due on holiday Fri 09-25 22:00 extended "
              "1 wd -> end of Mon 09-28",
              rc == DGJ_OK && due == T("2026-09-28 23:59:59"));

    r = test_dl_req(&test_dl_r, test_dl_pool);
    test_cond("dldb-5.3: 0 and 721 days are refused (DGJ_ERR_INPUT)",
              dgj_wf_extend(r, T("2026-09-28 23:59:59"), 0, &due)
              == DGJ_ERR_INPUT
              && dgj_wf_extend(test_dl_req(&test_dl_r, test_dl_pool),
                               T("2026-09-28 23:59:59"), 721, &due)
                 == DGJ_ERR_INPUT);
}


static void
test_dl_cache(void)
{
    dgj_date_t             mon;
    dgj_req_t             *a, *b;
    const dgj_calendar_t  *ca, *cb, *cc;

    mon = dgj_deadline_date(T("2026-09-28 12:00:00"));

    /*
     * The clock jumps 1000 s first, so the cache is checked at a known
     * time; the steps after it keep clear of the 30 s boundary.  Request
     * a holds its calendar across everything below.
     */
    test_dl_set_clock(1000);
    a = test_dl_req(&test_dl_r2, test_dl_pool2);
    test_cond("dldb-6.1: the calendar: Mon 09-28 works, Sun 09-20 is "
              "swapped",
              dgj_wf_calendar(a, &ca) == DGJ_OK
              && dgj_calendar_is_working_day(ca, mon)
              && dgj_calendar_is_working_day(ca, mon - 8));

    test_cond("dldb-6.2: an admin makes Mon 09-28 a holiday",
              test_dl_exec(&test_dl_sql_holiday, "2026-09-28"));

    test_dl_set_clock(1020);
    b = test_dl_req(&test_dl_r, test_dl_pool);
    test_cond("dldb-6.3: 20 s later the worker still uses its cached "
              "calendar",
              dgj_wf_calendar(b, &cb) == DGJ_OK && cb == ca
              && dgj_calendar_is_working_day(cb, mon));

    test_dl_set_clock(1031);
    b = test_dl_req(&test_dl_r, test_dl_pool);
    test_cond("dldb-6.4: after 30 s it re-checks and reloads: 09-28 is off",
              dgj_wf_calendar(b, &cb) == DGJ_OK && cb != ca
              && !dgj_calendar_is_working_day(cb, mon));
    test_cond("dldb-6.5: the request still holding the old calendar reads "
              "it unchanged (not freed under it)",
              dgj_calendar_is_working_day(ca, mon)
              && dgj_calendar_kind(ca, mon + 3) == DGJ_CAL_HOLIDAY);
    test_cond("dldb-6.6: and the deadlines follow: Thu 09-24 + 1 wd -> end "
              "of Tue 09-29",
              test_dl_due_is("intake", test_dl_x, "consultation", "normal",
                             "2026-09-24 10:00:00", "2026-09-29 23:59:59"));

    test_dl_set_clock(1062);
    b = test_dl_req(&test_dl_r, test_dl_pool);
    test_cond("dldb-6.7: an unchanged table is re-checked, not reloaded",
              dgj_wf_calendar(b, &cc) == DGJ_OK
              && !dgj_calendar_is_working_day(cc, mon));
    test_cond("dldb-6.8: (the same snapshot as before)", cc == cb);

    /* the end of request a drops the last reference to the old calendar */
    dgj_pool_reset(test_dl_pool2);
}


int
main(void)
{
    char         log[DGJ_CONF_PATH];
    int          begun;
    const char  *sock, *var;

    begun = 0;
    sock = getenv("DGJ_DB_SOCKET");
    var = getenv("DGJ_VAR");

    if (sock == NULL || var == NULL
        || strlen(sock) >= sizeof(test_dl_conf.db_socket))
    {
        printf("# DGJ_DB_SOCKET and DGJ_VAR must be set (tests/run sets "
               "them)\n");
        test_cond("dldb-0.1: environment", 0);
        return test_report();
    }

    /* expected failures are logged: keep them out of the TAP stream */
    snprintf(log, sizeof(log), "%s/log/test_deadline_db-%ld.log", var,
             (long) getpid());
    snprintf(test_dl_clock, sizeof(test_dl_clock),
             "%s/clock-test_deadline_db-%ld", var, (long) getpid());

    dgj_conf_defaults(&test_dl_conf);
    strcpy(test_dl_conf.db_socket, sock);
    strcpy(test_dl_conf.db_name, "dgj");
    /* root over the socket: unix_socket authentication, no password */
    strcpy(test_dl_conf.db_user, "root");
    test_dl_conf.db_password[0] = '\0';
    strcpy(test_dl_conf.clock_file, test_dl_clock);
    test_dl_set_clock(0);

    test_dl_pool = dgj_pool_create(4096);
    test_dl_pool2 = dgj_pool_create(4096);
    dgj_test_io_init(&test_dl_io, NULL, NULL);
    test_dl_db = dgj_db_create(&test_dl_conf);

    test_cond("dldb-0.1: log, pools and handle are ready",
              dgj_log_open(log) == 0 && test_dl_pool != NULL
              && test_dl_pool2 != NULL && test_dl_db != NULL);
    if (dgj_test_failed > 0) {
        goto done;
    }

    begun = (dgj_db_begin(test_dl_req(&test_dl_r, test_dl_pool)) == DGJ_OK);
    test_dl_x = test_dl_category("0804");
    test_dl_y = test_dl_category("0403");

    test_cond("dldb-0.2: a transaction is open; categories 0804 and 0403 "
              "are found",
              begun && test_dl_x > 0 && test_dl_y > 0);
    if (dgj_test_failed > 0) {
        goto done;
    }

    test_dl_resolution();
    test_dl_extend();
    test_dl_fallback();
    test_dl_cache();

done:

    if (begun) {
        dgj_db_rollback(test_dl_req(&test_dl_r, test_dl_pool));
    }

    dgj_pool_destroy(test_dl_pool);
    dgj_pool_destroy(test_dl_pool2);
    dgj_db_destroy(test_dl_db);
    unlink(test_dl_clock);

    return test_report();
}
