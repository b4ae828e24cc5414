
/*
 * Copyright (C) Daguanjia
 *
 * dgj_deadline.h: the deadline engine.  Pure time arithmetic over the
 * working-day calendar (dgj_calendar.h); no SQL here.  Times are Unix
 * seconds; deadlines are counted in Beijing time (UTC+8, no daylight
 * saving), which is fixed, so no time zone database is consulted.
 *
 * Working days: "N working days" from a start means the end of the Nth
 * working day after the start's date (the start day itself is not
 * counted, as in 行政许可法 art. 82), i.e. 23:59:59 of that day.
 * Hours and calendar days are plain elapsed time.  The warning (黄牌)
 * comes when 80 % of the stage's time is used, measured in working time
 * for working-day deadlines (weekends and holidays do not use it up).
 */


#ifndef DGJ_DEADLINE_H
#define DGJ_DEADLINE_H


#include "dgj_core.h"
#include "dgj_calendar.h"


#define DGJ_DEADLINE_TZ_OFFSET  (8 * 3600)
#define DGJ_DEADLINE_WARN_PCT   80


typedef enum {
    DGJ_DL_WORKING_DAYS = 1,
    DGJ_DL_HOURS,
    DGJ_DL_CALENDAR_DAYS
} dgj_dl_unit_t;


typedef enum {
    DGJ_DL_GREEN = 0,
    DGJ_DL_YELLOW,                  /* 黄牌: 80 % of the time used */
    DGJ_DL_RED                      /* 红牌: past the due time */
} dgj_dl_level_t;


/* "working_days", "hours", "calendar_days" -> unit; 0 when unknown. */
dgj_dl_unit_t dgj_deadline_unit(const char *name);

/* The unit's name as stored in deadline_rules.unit. */
const char *dgj_deadline_unit_name(dgj_dl_unit_t unit);

/* The Beijing calendar date of t. */
dgj_date_t dgj_deadline_date(int64_t t);

/* Unix time of 00:00:00 Beijing time on date. */
int64_t dgj_deadline_midnight(dgj_date_t date);

/*
 * The due time of a stage that starts at start: 23:59:59 of the amount-th
 * working day after start's date, or start plus amount hours or amount
 * x 24 hours.  An amount below 1 counts as 1; an unknown unit gives start
 * itself (due at once, so the mistake shows).  The extension of a due
 * time by N working days is dgj_deadline_due(cal, due, WORKING_DAYS, N).
 */
int64_t dgj_deadline_due(const dgj_calendar_t *cal, int64_t start,
    dgj_dl_unit_t unit, int amount);

/*
 * When the warning starts for a stage from start to due: the first second
 * at which 80 % (rounded down to the second) of the working time
 * (working-day unit) or of the elapsed time (other units) is used; due
 * itself when due <= start.
 */
int64_t dgj_deadline_warn_at(const dgj_calendar_t *cal, int64_t start,
    int64_t due, dgj_dl_unit_t unit);

/* Seconds of [from, to) that fall on working days. */
int64_t dgj_deadline_working_seconds(const dgj_calendar_t *cal, int64_t from,
    int64_t to);

/* Green, yellow (now >= warn_at, up to due included) or red (now > due). */
dgj_dl_level_t dgj_deadline_level(int64_t warn_at, int64_t due, int64_t now);


#endif /* DGJ_DEADLINE_H */
