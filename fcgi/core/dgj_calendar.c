
/*
 * Copyright (C) Daguanjia
 *
 * dgj_calendar.c: civil date <-> day number conversion, strict date
 * parsing and the working-day rule of docs (contract: calendar_days holds
 * only exceptions).  Pure functions, no I/O.
 */


#include "dgj_core.h"
#include "dgj_calendar.h"


static int dgj_date_days_in_month(int y, int m);
static int dgj_calendar_cmp(const void *key, const void *elt);


int
dgj_date_valid(int y, int m, int d)
{
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) {
        return 0;
    }

    return d <= dgj_date_days_in_month(y, m);
}


/*
 * Counting in 400-year eras that start on March 1st puts the leap day
 * at the end of each year, so a day of the year has a closed form.
 */
dgj_date_t
dgj_date_from_ymd(int y, int m, int d)
{
    int  era, yoe, doy, doe;

    y -= (m <= 2);
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;                                /* 0..399 */
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;   /* 0..365 */
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;        /* 0..146096 */

    /* 719468 days from 0000-03-01 to 1970-01-01 */
    return era * 146097 + doe - 719468;
}


void
dgj_date_to_ymd(dgj_date_t date, int *y, int *m, int *d)
{
    int  z, era, doe, yoe, doy, mp;

    z = date + 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;

    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}


int
dgj_date_weekday(dgj_date_t date)
{
    int  w;

    /* 1970-01-01 was a Thursday (4) */
    w = (int) ((date % 7 + 7) % 7);

    return (w + 3) % 7 + 1;
}


int
dgj_date_parse(const char *s, size_t len, dgj_date_t *out)
{
    int     y, m, d;
    size_t  i;

    if (len != 10 || s[4] != '-' || s[7] != '-') {
        return -1;
    }

    for (i = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            continue;
        }

        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
    }

    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10
        + (s[3] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');

    if (!dgj_date_valid(y, m, d)) {
        return -1;
    }

    *out = dgj_date_from_ymd(y, m, d);

    return 0;
}


void
dgj_date_format(dgj_date_t date, char *buf)
{
    int  y, m, d;

    dgj_date_to_ymd(date, &y, &m, &d);

    /* years outside 0..9999 wrap: callers keep dates in range */
    y = ((y % 10000) + 10000) % 10000;

    buf[0] = (char) ('0' + y / 1000);
    buf[1] = (char) ('0' + y / 100 % 10);
    buf[2] = (char) ('0' + y / 10 % 10);
    buf[3] = (char) ('0' + y % 10);
    buf[4] = '-';
    buf[5] = (char) ('0' + m / 10);
    buf[6] = (char) ('0' + m % 10);
    buf[7] = '-';
    buf[8] = (char) ('0' + d / 10);
    buf[9] = (char) ('0' + d % 10);
    buf[10] = '\0';
}


int
dgj_calendar_kind(const dgj_calendar_t *cal, dgj_date_t date)
{
    const dgj_cal_day_t  *day;

    if (cal == NULL || cal->ndays == 0) {
        return 0;
    }

    day = bsearch(&date, cal->days, cal->ndays, sizeof(dgj_cal_day_t),
                  dgj_calendar_cmp);

    return day != NULL ? (int) day->kind : 0;
}


int
dgj_calendar_is_working_day(const dgj_calendar_t *cal, dgj_date_t date)
{
    int  kind;

    kind = dgj_calendar_kind(cal, date);

    if (kind == DGJ_CAL_WORKDAY) {
        return 1;
    }

    if (kind == DGJ_CAL_HOLIDAY) {
        return 0;
    }

    return dgj_date_weekday(date) <= 5;
}


dgj_date_t
dgj_calendar_add_working_days(const dgj_calendar_t *cal, dgj_date_t from,
    int n)
{
    dgj_date_t  date;

    date = from;

    while (n > 0) {
        date++;

        if (dgj_calendar_is_working_day(cal, date)) {
            n--;
        }
    }

    return date;
}


int
dgj_calendar_count_working_days(const dgj_calendar_t *cal, dgj_date_t first,
    dgj_date_t last)
{
    int         n;
    dgj_date_t  date;

    n = 0;

    for (date = first; date <= last; date++) {
        n += dgj_calendar_is_working_day(cal, date);
    }

    return n;
}


static int
dgj_date_days_in_month(int y, int m)
{
    static const int  days[] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        return 29;
    }

    return days[m - 1];
}


static int
dgj_calendar_cmp(const void *key, const void *elt)
{
    dgj_date_t            k;
    const dgj_cal_day_t  *day;

    k = *(const dgj_date_t *) key;
    day = elt;

    return (k > day->date) - (k < day->date);
}
