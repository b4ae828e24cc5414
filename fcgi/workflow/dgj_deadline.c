
/*
 * Copyright (C) Daguanjia
 *
 * dgj_deadline.c: the deadline engine of dgj_deadline.h: due times, the
 * 80 % warning measured in working time, and the green/yellow/red level.
 * Pure arithmetic over a dgj_calendar_t; Beijing time is UTC+8 all year,
 * so a date is a plain division of the Unix time.
 */


#include "dgj_core.h"
#include "dgj_calendar.h"
#include "dgj_deadline.h"


#define DGJ_DEADLINE_DAY  86400


static int64_t dgj_deadline_floor_div(int64_t a, int64_t b);


static const char *const  dgj_deadline_units[] = {
    NULL, "working_days", "hours", "calendar_days"
};


dgj_dl_unit_t
dgj_deadline_unit(const char *name)
{
    size_t  i;

    if (name == NULL) {
        return 0;
    }

    for (i = 1; i < dgj_countof(dgj_deadline_units); i++) {
        if (strcmp(name, dgj_deadline_units[i]) == 0) {
            return (dgj_dl_unit_t) i;
        }
    }

    return 0;
}


const char *
dgj_deadline_unit_name(dgj_dl_unit_t unit)
{
    if (unit < DGJ_DL_WORKING_DAYS || unit > DGJ_DL_CALENDAR_DAYS) {
        return "";
    }

    return dgj_deadline_units[unit];
}


dgj_date_t
dgj_deadline_date(int64_t t)
{
    return (dgj_date_t) dgj_deadline_floor_div(t + DGJ_DEADLINE_TZ_OFFSET,
                                               DGJ_DEADLINE_DAY);
}


int64_t
dgj_deadline_midnight(dgj_date_t date)
{
    return (int64_t) date * DGJ_DEADLINE_DAY - DGJ_DEADLINE_TZ_OFFSET;
}


int64_t
dgj_deadline_due(const dgj_calendar_t *cal, int64_t start,
    dgj_dl_unit_t unit, int amount)
{
    dgj_date_t  last;

    if (amount < 1) {
        amount = 1;
    }

    switch (unit) {

    case DGJ_DL_WORKING_DAYS:
        last = dgj_calendar_add_working_days(cal, dgj_deadline_date(start),
                                             amount);

        /* 23:59:59 of the last day */
        return dgj_deadline_midnight(last + 1) - 1;

    case DGJ_DL_HOURS:
        return start + (int64_t) amount * 3600;

    case DGJ_DL_CALENDAR_DAYS:
        return start + (int64_t) amount * DGJ_DEADLINE_DAY;
    }

    /* no unit: no time at all, so the mistake shows at once as overdue */
    return start;
}


int64_t
dgj_deadline_warn_at(const dgj_calendar_t *cal, int64_t start, int64_t due,
    dgj_dl_unit_t unit)
{
    int64_t     left, from, to;
    dgj_date_t  date;

    if (due <= start) {
        return due;
    }

    if (unit != DGJ_DL_WORKING_DAYS) {
        return start + (due - start) * DGJ_DEADLINE_WARN_PCT / 100;
    }

    /*
     * Walk the days from the start, spending working seconds until 80 %
     * of those up to the due time are used: the warning then falls inside
     * working time (or at the very end of a working day), never in the
     * middle of a holiday that used none of the time.
     */
    left = dgj_deadline_working_seconds(cal, start, due)
           * DGJ_DEADLINE_WARN_PCT / 100;

    for (date = dgj_deadline_date(start); ; date++) {
        from = dgj_deadline_midnight(date);
        to = from + DGJ_DEADLINE_DAY;

        if (from < start) {
            from = start;
        }

        if (to > due) {
            to = due;
        }

        if (from >= to) {
            return due;
        }

        if (!dgj_calendar_is_working_day(cal, date)) {
            continue;
        }

        if (left <= to - from) {
            return from + left;
        }

        left -= to - from;
    }
}


int64_t
dgj_deadline_working_seconds(const dgj_calendar_t *cal, int64_t from,
    int64_t to)
{
    int64_t     n, a, b;
    dgj_date_t  date, last;

    if (to <= from) {
        return 0;
    }

    n = 0;
    last = dgj_deadline_date(to - 1);

    for (date = dgj_deadline_date(from); date <= last; date++) {
        if (!dgj_calendar_is_working_day(cal, date)) {
            continue;
        }

        a = dgj_deadline_midnight(date);
        b = a + DGJ_DEADLINE_DAY;

        n += (b < to ? b : to) - (a > from ? a : from);
    }

    return n;
}


dgj_dl_level_t
dgj_deadline_level(int64_t warn_at, int64_t due, int64_t now)
{
    if (now > due) {
        return DGJ_DL_RED;
    }

    if (now >= warn_at) {
        return DGJ_DL_YELLOW;
    }

    return DGJ_DL_GREEN;
}


/* division rounding towards minus infinity: times before 1970 too */
static int64_t
dgj_deadline_floor_div(int64_t a, int64_t b)
{
    int64_t  q;

    q = a / b;

    if ((a % b != 0) && ((a < 0) != (b < 0))) {
        q--;
    }

    return q;
}
