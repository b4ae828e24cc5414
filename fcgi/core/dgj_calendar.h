
/*
 * Copyright (C) Daguanjia
 *
 * dgj_calendar.h: pure date arithmetic for working-day deadlines.  A date
 * is a day number (days since 1970-01-01, proleptic Gregorian).  The
 * calendar is a sorted list of exceptions as stored in calendar_days:
 * a date is a working day iff it is a 'workday' exception, or a Monday
 * to Friday that is not a 'holiday' exception.  No SQL here.
 */


#ifndef DGJ_CALENDAR_H
#define DGJ_CALENDAR_H


#include "dgj_core.h"


typedef int32_t  dgj_date_t;


typedef enum {
    DGJ_CAL_HOLIDAY = 1,            /* a day off, whatever its weekday */
    DGJ_CAL_WORKDAY                 /* a weekend day that is worked */
} dgj_cal_kind_t;


typedef struct {
    dgj_date_t       date;
    dgj_cal_kind_t   kind;
} dgj_cal_day_t;


typedef struct {
    const dgj_cal_day_t  *days;     /* ascending by date, no duplicates */
    size_t                ndays;
} dgj_calendar_t;


/* 1 when y-m-d is a real Gregorian date (year 1..9999), else 0. */
int dgj_date_valid(int y, int m, int d);

/* Day number of a valid y-m-d. */
dgj_date_t dgj_date_from_ymd(int y, int m, int d);

/* Year, month and day of a day number. */
void dgj_date_to_ymd(dgj_date_t date, int *y, int *m, int *d);

/* ISO weekday: 1 = Monday .. 7 = Sunday. */
int dgj_date_weekday(dgj_date_t date);

/*
 * Parses exactly "YYYY-MM-DD" (len bytes) naming a real date.  0 with
 * *out set, or -1.
 */
int dgj_date_parse(const char *s, size_t len, dgj_date_t *out);

/* Writes "YYYY-MM-DD" and a NUL into buf (at least 11 bytes). */
void dgj_date_format(dgj_date_t date, char *buf);

/* The kind of date's exception, or 0 when it has none. */
int dgj_calendar_kind(const dgj_calendar_t *cal, dgj_date_t date);

/* 1 when date is a working day under cal, else 0. */
int dgj_calendar_is_working_day(const dgj_calendar_t *cal, dgj_date_t date);

/*
 * The date of the nth working day after from (from itself not counted);
 * n >= 1.  from itself for n <= 0.
 */
dgj_date_t dgj_calendar_add_working_days(const dgj_calendar_t *cal,
    dgj_date_t from, int n);

/* Working days in [first, last], both included. */
int dgj_calendar_count_working_days(const dgj_calendar_t *cal,
    dgj_date_t first, dgj_date_t last);


#endif /* DGJ_CALENDAR_H */
