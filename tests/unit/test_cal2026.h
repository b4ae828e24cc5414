
/*
 * Copyright (C) Daguanjia
 *
 * test_cal2026.h: for the calendar and deadline tests, the official 2026
 * calendar as sql/migrations/0005_calendar_2026.sql has it (State Council
 * notice of 2025-11-04: holidays and swapped working days, in date
 * order) and Beijing-time helpers.  Include after testhelp.h.
 */


#ifndef DGJ_TEST_CAL2026_H
#define DGJ_TEST_CAL2026_H


#include "dgj_core.h"
#include "dgj_calendar.h"
#include "dgj_deadline.h"


typedef struct {
    const char      *date;
    dgj_cal_kind_t   kind;
} test_cal_row_t;


static DGJ_TEST_UNUSED const test_cal_row_t  test_cal2026[] = {
    { "2026-01-01", DGJ_CAL_HOLIDAY }, { "2026-01-02", DGJ_CAL_HOLIDAY },
    { "2026-01-03", DGJ_CAL_HOLIDAY }, { "2026-01-04", DGJ_CAL_WORKDAY },
    { "2026-02-14", DGJ_CAL_WORKDAY }, { "2026-02-15", DGJ_CAL_HOLIDAY },
    { "2026-02-16", DGJ_CAL_HOLIDAY }, { "2026-02-17", DGJ_CAL_HOLIDAY },
    { "2026-02-18", DGJ_CAL_HOLIDAY }, { "2026-02-19", DGJ_CAL_HOLIDAY },
    { "2026-02-20", DGJ_CAL_HOLIDAY }, { "2026-02-21", DGJ_CAL_HOLIDAY },
    { "2026-02-22", DGJ_CAL_HOLIDAY }, { "2026-02-23", DGJ_CAL_HOLIDAY },
    { "2026-02-28", DGJ_CAL_WORKDAY }, { "2026-04-04", DGJ_CAL_HOLIDAY },
    { "2026-04-05", DGJ_CAL_HOLIDAY }, { "2026-04-06", DGJ_CAL_HOLIDAY },
    { "2026-05-01", DGJ_CAL_HOLIDAY }, { "2026-05-02", DGJ_CAL_HOLIDAY },
    { "2026-05-03", DGJ_CAL_HOLIDAY }, { "2026-05-04", DGJ_CAL_HOLIDAY },
    { "2026-05-05", DGJ_CAL_HOLIDAY }, { "2026-05-09", DGJ_CAL_WORKDAY },
    { "2026-06-19", DGJ_CAL_HOLIDAY }, { "2026-06-20", DGJ_CAL_HOLIDAY },
    { "2026-06-21", DGJ_CAL_HOLIDAY }, { "2026-09-20", DGJ_CAL_WORKDAY },
    { "2026-09-25", DGJ_CAL_HOLIDAY }, { "2026-09-26", DGJ_CAL_HOLIDAY },
    { "2026-09-27", DGJ_CAL_HOLIDAY }, { "2026-10-01", DGJ_CAL_HOLIDAY },
    { "2026-10-02", DGJ_CAL_HOLIDAY }, { "2026-10-03", DGJ_CAL_HOLIDAY },
    { "2026-10-04", DGJ_CAL_HOLIDAY }, { "2026-10-05", DGJ_CAL_HOLIDAY },
    { "2026-10-06", DGJ_CAL_HOLIDAY }, { "2026-10-07", DGJ_CAL_HOLIDAY },
    { "2026-10-10", DGJ_CAL_WORKDAY }
};

#define TEST_CAL2026_N  dgj_countof(test_cal2026)


/* "YYYY-MM-DD" -> day number; exits 2 on a typo in a test */
static DGJ_TEST_UNUSED dgj_date_t
test_cal_date(const char *s)
{
    dgj_date_t  d;

    if (dgj_date_parse(s, strlen(s), &d) != 0) {
        fprintf(stderr, "bad test date %s\n", s);
        exit(2);
    }

    return d;
}


/* the 2026 calendar into days (TEST_CAL2026_N entries) and cal */
static DGJ_TEST_UNUSED void
test_cal2026_load(dgj_cal_day_t *days, dgj_calendar_t *cal)
{
    size_t  i;

    for (i = 0; i < TEST_CAL2026_N; i++) {
        days[i].date = test_cal_date(test_cal2026[i].date);
        days[i].kind = test_cal2026[i].kind;
    }

    cal->days = days;
    cal->ndays = TEST_CAL2026_N;
}


/* "YYYY-MM-DD HH:MM:SS" Beijing time -> Unix seconds; exits 2 on a typo */
static DGJ_TEST_UNUSED int64_t
test_cal_time(const char *s)
{
    int         h, m, sec;
    dgj_date_t  d;

    if (strlen(s) != 19 || dgj_date_parse(s, 10, &d) != 0
        || sscanf(s + 11, "%2d:%2d:%2d", &h, &m, &sec) != 3)
    {
        fprintf(stderr, "bad test time %s\n", s);
        exit(2);
    }

    return dgj_deadline_midnight(d) + h * 3600 + m * 60 + sec;
}


/* Unix seconds -> "YYYY-MM-DD HH:MM:SS" Beijing time (buf >= 20 bytes) */
static DGJ_TEST_UNUSED void
test_cal_format(int64_t t, char *buf)
{
    int64_t  s;

    dgj_date_format(dgj_deadline_date(t), buf);
    s = t - dgj_deadline_midnight(dgj_deadline_date(t));

    sprintf(buf + 10, " %02d:%02d:%02d", (int) (s / 3600),
            (int) (s / 60 % 60), (int) (s % 60));
}


#endif /* DGJ_TEST_CAL2026_H */
