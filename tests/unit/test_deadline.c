
/*
 * Copyright (C) Daguanjia
 *
 * test_deadline.c: the deadline engine (dgj_deadline.h) on the official
 * 2026 calendar, the rows of sql/migrations/0005_calendar_2026.sql (the
 * test checks the file still holds exactly these).  Every expected time
 * below was counted by hand on the 2026 calendar:
 *
 *   Jan  1-3  Thu-Sat  元旦, off          Jan  4  Sun  worked (调休)
 *   Feb 14    Sat      worked (调休)      Feb 15-23  Sun-Mon  春节, off
 *   Feb 28    Sat      worked (调休)      Apr 4-6, May 1-5, Jun 19-21 off
 *   May  9    Sat      worked (调休)      Sep 20  Sun  worked (调休)
 *   Sep 25-27 Fri-Sun  中秋, off          Oct 1-7  Thu-Wed  国庆, off
 *   Oct 10    Sat      worked (调休)
 *
 * All times are Beijing time; "+N wd" is N working days.
 */


#include "dgj_core.h"
#include "dgj_calendar.h"
#include "dgj_deadline.h"

#include "testhelp.h"
#include "test_cal2026.h"


#define D(s)  test_cal_date(s)
#define T(s)  test_cal_time(s)

#define WD    DGJ_DL_WORKING_DAYS
#define HOURS DGJ_DL_HOURS
#define DAYS  DGJ_DL_CALENDAR_DAYS

#define TEST_DEADLINE_MIGRATION  "sql/migrations/0005_calendar_2026.sql"


static dgj_calendar_t  cal;


static int
test_deadline_is(int64_t got, const char *want)
{
    char  buf[32];

    if (got == T(want)) {
        return 1;
    }

    test_cal_format(got, buf);
    printf("#   got %s, want %s\n", buf, want);

    return 0;
}


static int
test_deadline_due_is(const char *start, dgj_dl_unit_t unit, int amount,
    const char *want)
{
    return test_deadline_is(dgj_deadline_due(&cal, T(start), unit, amount),
                            want);
}


/* the warning of a stage from start with unit and amount */
static int
test_deadline_warn_is(const char *start, dgj_dl_unit_t unit, int amount,
    const char *want)
{
    int64_t  s;

    s = T(start);

    return test_deadline_is(dgj_deadline_warn_at(&cal, s,
                                dgj_deadline_due(&cal, s, unit, amount),
                                unit),
                            want);
}


/*
 * The migration must hold exactly the dates of test_cal2026: one row per line
 * "('2026-MM-DD', 'holiday'|'workday', ...".
 */
static int
test_deadline_migration_matches(void)
{
    FILE    *f;
    char     line[256], date[11], kind[8], *p;
    size_t   n;
    int      ok;

    f = fopen(TEST_DEADLINE_MIGRATION, "r");
    if (f == NULL) {
        printf("#   %s: %s\n", TEST_DEADLINE_MIGRATION, strerror(errno));
        return 0;
    }

    n = 0;
    ok = 1;

    while (fgets(line, sizeof(line), f) != NULL) {
        p = strstr(line, "('");

        if (p == NULL
            || sscanf(p, "('%10[0-9-]', '%7[a-z]'", date, kind) != 2
            || strlen(date) != 10)
        {
            continue;
        }

        if (n >= TEST_CAL2026_N
            || strcmp(date, test_cal2026[n].date) != 0
            || strcmp(kind, test_cal2026[n].kind == DGJ_CAL_HOLIDAY
                            ? "holiday" : "workday") != 0)
        {
            printf("#   migration row %zu: %s %s\n", n + 1, date, kind);
            ok = 0;
        }

        n++;
    }

    fclose(f);

    return ok && n == TEST_CAL2026_N;
}


int
main(void)
{
    int64_t         s, w, d;
    dgj_cal_day_t   days[TEST_CAL2026_N];

    test_cal2026_load(days, &cal);

    test_cond("dl-0.1: the test calendar is the 2026 migration's rows",
              test_deadline_migration_matches());

    /* units, dates and midnights */
    test_cond("dl-1.1: unit names round-trip",
              dgj_deadline_unit("working_days") == WD
              && dgj_deadline_unit("hours") == HOURS
              && dgj_deadline_unit("calendar_days") == DAYS
              && strcmp(dgj_deadline_unit_name(WD), "working_days") == 0
              && strcmp(dgj_deadline_unit_name(HOURS), "hours") == 0
              && strcmp(dgj_deadline_unit_name(DAYS), "calendar_days") == 0);
    test_cond("dl-1.2: an unknown unit is 0",
              dgj_deadline_unit("days") == 0 && dgj_deadline_unit("") == 0
              && dgj_deadline_unit(NULL) == 0
              && strcmp(dgj_deadline_unit_name(0), "") == 0);
    test_cond("dl-1.3: 2026-01-01 00:00 Beijing is 1767196800 "
              "(2025-12-31 16:00 UTC)",
              dgj_deadline_midnight(D("2026-01-01")) == 1767196800);
    test_cond("dl-1.4: 15:59:59 UTC is still the Beijing day before, "
              "16:00:00 UTC the next",
              dgj_deadline_date(1767196799) == D("2025-12-31")
              && dgj_deadline_date(1767196800) == D("2026-01-01"));
    test_cond("dl-1.5: 1790000000 is Monday 2026-09-21 22:13:20 Beijing",
              dgj_deadline_date(1790000000) == D("2026-09-21")
              && T("2026-09-21 22:13:20") == 1790000000);
    test_cond("dl-1.6: before 1970 the date still rounds down "
              "(1969-12-31 23:59:59 Beijing)",
              dgj_deadline_date(-28801) == -1
              && dgj_deadline_date(-28800) == 0);

    /* working days: the end of the Nth working day after the start's date */
    test_cond("dl-2.1: ordinary week: Tue 03-10 09:00 +1 wd -> end of "
              "Wed 03-11",
              test_deadline_due_is("2026-03-10 09:00:00", WD, 1,
                                   "2026-03-11 23:59:59"));
    test_cond("dl-2.2: Tue 03-10 09:00 +3 wd -> end of Fri 03-13",
              test_deadline_due_is("2026-03-10 09:00:00", WD, 3,
                                   "2026-03-13 23:59:59"));
    test_cond("dl-2.3: the start day never counts: Tue 03-10 00:00:00 "
              "+1 wd -> end of Wed 03-11",
              test_deadline_due_is("2026-03-10 00:00:00", WD, 1,
                                   "2026-03-11 23:59:59"));
    test_cond("dl-2.4: Mon 03-09 23:59:59 +1 wd -> end of Tue 03-10",
              test_deadline_due_is("2026-03-09 23:59:59", WD, 1,
                                   "2026-03-10 23:59:59"));
    test_cond("dl-2.5: Friday start: Fri 03-13 16:00 +1 wd -> end of "
              "Mon 03-16",
              test_deadline_due_is("2026-03-13 16:00:00", WD, 1,
                                   "2026-03-16 23:59:59"));
    test_cond("dl-2.6: weekend start: Sat 03-14 and Sun 03-15 +1 wd -> "
              "end of Mon 03-16; Sun +2 wd -> end of Tue 03-17",
              test_deadline_due_is("2026-03-14 10:00:00", WD, 1,
                                   "2026-03-16 23:59:59")
              && test_deadline_due_is("2026-03-15 10:00:00", WD, 1,
                                      "2026-03-16 23:59:59")
              && test_deadline_due_is("2026-03-15 10:00:00", WD, 2,
                                      "2026-03-17 23:59:59"));
    test_cond("dl-2.7: before Spring Festival: Thu 02-12 +3 wd -> Fri 13, "
              "Sat 14 (worked), Tue 24 -> end of 02-24",
              test_deadline_due_is("2026-02-12 10:00:00", WD, 3,
                                   "2026-02-24 23:59:59"));
    test_cond("dl-2.8: Fri 02-13 15:00 +1 wd -> end of swapped Sat 02-14",
              test_deadline_due_is("2026-02-13 15:00:00", WD, 1,
                                   "2026-02-14 23:59:59"));
    test_cond("dl-2.9: swapped Sat 02-14 +1 wd -> 02-15..23 off -> end of "
              "Tue 02-24",
              test_deadline_due_is("2026-02-14 10:00:00", WD, 1,
                                   "2026-02-24 23:59:59"));
    test_cond("dl-2.10: during the festival: Wed 02-18 +1 wd -> end of "
              "Tue 02-24",
              test_deadline_due_is("2026-02-18 10:00:00", WD, 1,
                                   "2026-02-24 23:59:59"));
    test_cond("dl-2.11: after it: Tue 02-24 +4 wd -> 25, 26, 27, Sat 28 "
              "(worked) -> end of 02-28; +5 wd -> end of Mon 03-02",
              test_deadline_due_is("2026-02-24 09:00:00", WD, 4,
                                   "2026-02-28 23:59:59")
              && test_deadline_due_is("2026-02-24 09:00:00", WD, 5,
                                      "2026-03-02 23:59:59"));
    test_cond("dl-2.12: Mid-Autumn: Thu 09-24 10:00 +1 wd -> 25-27 off -> "
              "end of Mon 09-28",
              test_deadline_due_is("2026-09-24 10:00:00", WD, 1,
                                   "2026-09-28 23:59:59"));
    test_cond("dl-2.13: National Day: Wed 09-30 +1 wd -> end of Thu 10-08; "
              "+3 wd -> Sat 10-10 (worked); +4 wd -> Mon 10-12",
              test_deadline_due_is("2026-09-30 10:00:00", WD, 1,
                                   "2026-10-08 23:59:59")
              && test_deadline_due_is("2026-09-30 10:00:00", WD, 3,
                                      "2026-10-10 23:59:59")
              && test_deadline_due_is("2026-09-30 10:00:00", WD, 4,
                                      "2026-10-12 23:59:59"));
    test_cond("dl-2.14: swapped Sunday: Fri 09-18 +1 wd -> end of Sun "
              "09-20; Sun 09-20 +1 wd -> end of Mon 09-21",
              test_deadline_due_is("2026-09-18 10:00:00", WD, 1,
                                   "2026-09-20 23:59:59")
              && test_deadline_due_is("2026-09-20 10:00:00", WD, 1,
                                      "2026-09-21 23:59:59"));
    test_cond("dl-2.15: swapped Sunday after New Year: Wed 2025-12-31 and "
              "Sat 2026-01-03 +1 wd -> end of Sun 01-04",
              test_deadline_due_is("2025-12-31 10:00:00", WD, 1,
                                   "2026-01-04 23:59:59")
              && test_deadline_due_is("2026-01-03 10:00:00", WD, 1,
                                      "2026-01-04 23:59:59"));
    /* 22,23,24 | 28,29,30 | 8,9,10(Sat) | 12,13,14,15,16 | 19 */
    test_cond("dl-2.16: 15 wd from Mon 09-21 across both holidays -> end of "
              "Mon 10-19",
              test_deadline_due_is("2026-09-21 10:00:00", WD, 15,
                                   "2026-10-19 23:59:59"));

    /* hours and calendar days: elapsed time, the calendar ignored */
    test_cond("dl-3.1: hours across midnight into a holiday: Thu 09-24 "
              "22:00 +24 h -> Fri 09-25 22:00",
              test_deadline_due_is("2026-09-24 22:00:00", HOURS, 24,
                                   "2026-09-25 22:00:00"));
    test_cond("dl-3.2: Wed 09-30 23:00 +2 h -> Thu 10-01 01:00 "
              "(National Day)",
              test_deadline_due_is("2026-09-30 23:00:00", HOURS, 2,
                                   "2026-10-01 01:00:00"));
    test_cond("dl-3.3: Fri 02-13 20:00 +12 h -> Sat 02-14 08:00",
              test_deadline_due_is("2026-02-13 20:00:00", HOURS, 12,
                                   "2026-02-14 08:00:00"));
    test_cond("dl-3.4: rating, 7 calendar days: Fri 09-25 15:30 -> "
              "Fri 10-02 15:30",
              test_deadline_due_is("2026-09-25 15:30:00", DAYS, 7,
                                   "2026-10-02 15:30:00"));
    test_cond("dl-3.5: Wed 09-30 10:00 +7 days -> Wed 10-07 10:00, a "
              "holiday too",
              test_deadline_due_is("2026-09-30 10:00:00", DAYS, 7,
                                   "2026-10-07 10:00:00"));
    test_cond("dl-3.6: amount 0 counts as 1; no unit is due at once",
              test_deadline_due_is("2026-03-10 09:00:00", WD, 0,
                                   "2026-03-11 23:59:59")
              && dgj_deadline_due(&cal, T("2026-03-10 09:00:00"), 0, 5)
                 == T("2026-03-10 09:00:00"));

    /* working seconds */
    test_cond("dl-4.1: Thu 09-24 10:00 .. Mon 09-28 23:59:59: 14 h of "
              "Thursday + 86399 s of Monday = 136799",
              dgj_deadline_working_seconds(&cal, T("2026-09-24 10:00:00"),
                                           T("2026-09-28 23:59:59"))
              == 136799);
    test_cond("dl-4.2: a weekend uses no working time",
              dgj_deadline_working_seconds(&cal, T("2026-03-14 00:00:00"),
                                           T("2026-03-16 00:00:00")) == 0);
    test_cond("dl-4.3: Fri 02-13 12:00 .. Tue 02-24 12:00: 12 h + Sat 14 "
              "(worked) 24 h + 12 h = 172800",
              dgj_deadline_working_seconds(&cal, T("2026-02-13 12:00:00"),
                                           T("2026-02-24 12:00:00"))
              == 172800);
    test_cond("dl-4.4: an empty or reversed span is 0",
              dgj_deadline_working_seconds(&cal, T("2026-03-10 09:00:00"),
                                           T("2026-03-10 09:00:00")) == 0
              && dgj_deadline_working_seconds(&cal,
                                              T("2026-03-10 09:00:00"),
                                              T("2026-03-09 09:00:00"))
                 == 0);

    /* the warning at 80 % */

    /*
     * 136799 s of working time (dl-4.1); 80 % = 109439 s; Thursday gives
     * 50400, Monday the other 59039 = 16:23:59.  Elapsed time would have
     * warned on Sunday 09-27 01:59:59, in the middle of the holiday.
     */
    test_cond("dl-5.1: Thu 09-24 10:00 +1 wd warns Mon 09-28 16:23:59, "
              "not during Mid-Autumn",
              test_deadline_warn_is("2026-09-24 10:00:00", WD, 1,
                                    "2026-09-28 16:23:59"));
    /* 5 x 86400 + 86399 = 518399; 80 % = 414719 = 4 days + 69119 s */
    test_cond("dl-5.2: ordinary week: Mon 03-09 00:00 +5 wd (due Mon 03-16) "
              "warns Fri 03-13 19:11:59",
              test_deadline_warn_is("2026-03-09 00:00:00", WD, 5,
                                    "2026-03-13 19:11:59"));
    /*
     * Due end of Tue 02-24: Fri 15 h (54000) + Sat 14 86400 + Tue 86399
     * = 226799; 80 % = 181439; 140400 before Tuesday, 41039 = 11:23:59.
     */
    test_cond("dl-5.3: Fri 02-13 09:00 +2 wd warns Tue 02-24 11:23:59, "
              "after the festival",
              test_deadline_warn_is("2026-02-13 09:00:00", WD, 2,
                                    "2026-02-24 11:23:59"));
    s = T("2026-02-13 09:00:00");
    d = dgj_deadline_due(&cal, s, WD, 2);
    w = dgj_deadline_warn_at(&cal, s, d, WD);
    test_cond("dl-5.4: at the warning exactly 80 % of the working time is "
              "used",
              dgj_deadline_working_seconds(&cal, s, w)
              == dgj_deadline_working_seconds(&cal, s, d) * 80 / 100);
    /* 80 % of 24 h = 19 h 12 min */
    test_cond("dl-5.5: hours: Thu 09-24 10:00 +24 h warns Fri 09-25 05:12",
              test_deadline_warn_is("2026-09-24 10:00:00", HOURS, 24,
                                    "2026-09-25 05:12:00"));
    /* 80 % of 7 days = 5 days 14:24 */
    test_cond("dl-5.6: rating: Fri 09-25 15:30 +7 days warns Thu 10-01 "
              "05:54",
              test_deadline_warn_is("2026-09-25 15:30:00", DAYS, 7,
                                    "2026-10-01 05:54:00"));
    test_cond("dl-5.7: a due time not after the start warns at once",
              dgj_deadline_warn_at(&cal, T("2026-03-10 09:00:00"),
                                   T("2026-03-10 08:00:00"), WD)
              == T("2026-03-10 08:00:00"));

    /* levels at the boundaries of dl-5.1 */
    s = T("2026-09-24 10:00:00");
    w = T("2026-09-28 16:23:59");
    d = T("2026-09-28 23:59:59");
    test_cond("dl-6.1: green at the start and one second before the "
              "warning",
              dgj_deadline_level(w, d, s) == DGJ_DL_GREEN
              && dgj_deadline_level(w, d, w - 1) == DGJ_DL_GREEN);
    test_cond("dl-6.2: yellow from the warning up to the due second "
              "itself",
              dgj_deadline_level(w, d, w) == DGJ_DL_YELLOW
              && dgj_deadline_level(w, d, d) == DGJ_DL_YELLOW);
    test_cond("dl-6.3: red one second past due (Tue 09-29 00:00:00)",
              dgj_deadline_level(w, d, d + 1) == DGJ_DL_RED
              && d + 1 == T("2026-09-29 00:00:00"));

    /* extensions: N working days after the due time's date */
    test_cond("dl-7.1: due end of Mon 09-28, extended 3 wd -> 29, 30, "
              "Oct 8 -> end of Thu 10-08",
              test_deadline_due_is("2026-09-28 23:59:59", WD, 3,
                                   "2026-10-08 23:59:59"));
    test_cond("dl-7.2: an urgent due Fri 09-25 22:00 (holiday), extended "
              "1 wd -> end of Mon 09-28",
              test_deadline_due_is("2026-09-25 22:00:00", WD, 1,
                                   "2026-09-28 23:59:59"));
    test_cond("dl-7.3: due end of Fri 02-13, extended 5 wd -> 14, 24, 25, "
              "26, 27 -> end of Fri 02-27",
              test_deadline_due_is("2026-02-13 23:59:59", WD, 5,
                                   "2026-02-27 23:59:59"));

    return test_report();
}
