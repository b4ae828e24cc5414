
/*
 * Copyright (C) Daguanjia
 *
 * dgj_audit_time.c: times of the auditor's console.  The auditor reads
 * and types the platform's time (UTC+8, docs/audit.md); audit_records.ts
 * is UTC (0011_audit.sql).  Also the keyset cursors of search and
 * export: a record's (ts, id), the order of the table's ts index.
 * Pure arithmetic, no time zone database: China keeps UTC+8 all year.
 */


#include "dgj_core.h"
#include "dgj_audit.h"

#include <ctype.h>
#include <time.h>


static int dgj_audit_digits(const char **p, int n, int *out);
static void dgj_audit_ms_print(int64_t ms, char sep, const char *zone,
    char *buf, size_t len);
static int64_t dgj_audit_days(int y, int m, int d);


int
dgj_audit_ms_parse(const char *s, int64_t *ms)
{
    int          y, mo, d, h, mi, sec, frac, scale, zh, zm, sign, mdays;
    int64_t      zone;
    const char  *p;

    static const int  month_days[] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    p = s;
    h = mi = sec = frac = 0;
    zone = DGJ_AUDIT_ZONE_MS;

    if (dgj_audit_digits(&p, 4, &y) != 0 || *p++ != '-'
        || dgj_audit_digits(&p, 2, &mo) != 0 || *p++ != '-'
        || dgj_audit_digits(&p, 2, &d) != 0)
    {
        return -1;
    }

    if (*p == 'T' || *p == ' ') {
        p++;

        if (dgj_audit_digits(&p, 2, &h) != 0 || *p++ != ':'
            || dgj_audit_digits(&p, 2, &mi) != 0)
        {
            return -1;
        }

        if (*p == ':') {
            p++;

            if (dgj_audit_digits(&p, 2, &sec) != 0) {
                return -1;
            }

            if (*p == '.') {
                p++;

                if (!isdigit((unsigned char) *p)) {
                    return -1;
                }

                /* milliseconds: the first three digits, the rest cut */
                for (scale = 100; isdigit((unsigned char) *p); p++) {
                    frac += (*p - '0') * scale;
                    scale /= 10;
                }
            }
        }

        if (*p == 'Z') {
            p++;
            zone = 0;

        } else if (*p == '+' || *p == '-') {
            sign = (*p++ == '-') ? -1 : 1;

            if (dgj_audit_digits(&p, 2, &zh) != 0) {
                return -1;
            }

            p += (*p == ':');

            if (dgj_audit_digits(&p, 2, &zm) != 0 || zh > 14 || zm > 59) {
                return -1;
            }

            zone = sign * ((int64_t) zh * 3600 + zm * 60) * 1000;
        }
    }

    if (*p != '\0' || y < 1970 || y > 9999 || mo < 1 || mo > 12
        || h > 23 || mi > 59 || sec > 59)
    {
        return -1;
    }

    mdays = month_days[mo - 1];
    if (mo == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) {
        mdays = 29;
    }

    if (d < 1 || d > mdays) {
        return -1;
    }

    *ms = ((dgj_audit_days(y, mo, d) * 24 + h) * 3600
           + (int64_t) mi * 60 + sec) * 1000 + frac - zone;

    return 0;
}


void
dgj_audit_ms_sql(int64_t ms, char *buf, size_t len)
{
    dgj_audit_ms_print(ms, ' ', "", buf, len);
}


void
dgj_audit_ms_local(int64_t ms, char *buf, size_t len)
{
    dgj_audit_ms_print(ms + DGJ_AUDIT_ZONE_MS, 'T', "+08:00", buf, len);
}


void
dgj_audit_cursor_format(const dgj_audit_cursor_t *c, char *buf, size_t len)
{
    snprintf(buf, len, "%lld.%llu", (long long) c->ms,
             (unsigned long long) c->id);
}


int
dgj_audit_cursor_parse(const char *s, dgj_audit_cursor_t *c)
{
    char                *end;
    long long            ms;
    unsigned long long   id;

    if (!isdigit((unsigned char) *s)) {
        return -1;
    }

    errno = 0;
    ms = strtoll(s, &end, 10);
    if (errno != 0 || *end != '.' || !isdigit((unsigned char) end[1])) {
        return -1;
    }

    id = strtoull(end + 1, &end, 10);
    if (errno != 0 || *end != '\0') {
        return -1;
    }

    c->ms = ms;
    c->id = id;

    return 0;
}


/* "YYYY-MM-DD<sep>HH:MM:SS.fff<zone>" of ms read as UTC */
static void
dgj_audit_ms_print(int64_t ms, char sep, const char *zone, char *buf,
    size_t len)
{
    time_t     t;
    struct tm  tm;

    t = (time_t) (ms / 1000);
    gmtime_r(&t, &tm);

    snprintf(buf, len, "%04d-%02d-%02d%c%02d:%02d:%02d.%03d%s",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, sep, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int) (ms % 1000), zone);
}


/* exactly n digits */
static int
dgj_audit_digits(const char **p, int n, int *out)
{
    int  i, v;

    v = 0;

    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char) (*p)[i])) {
            return -1;
        }

        v = v * 10 + ((*p)[i] - '0');
    }

    *p += n;
    *out = v;

    return 0;
}


/* days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant) */
static int64_t
dgj_audit_days(int y, int m, int d)
{
    int64_t  era, yoe, doy, doe;

    y -= (m <= 2);
    era = y / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}
