
/*
 * Copyright (C) Daguanjia
 *
 * test_calendar.c: dgj_calendar: Gregorian validity, strict parsing,
 * day numbers and weekdays, and working days on the official 2026
 * schedule (State Council notice of 2025-11-04, see docs domain.md).
 */


#include "dgj_core.h"
#include "dgj_calendar.h"

#include "testhelp.h"
#include "test_cal2026.h"


#define D(s)  test_cal_date(s)


static int
test_calendar_add_is(const dgj_calendar_t *cal, const char *from, int n,
    const char *want)
{
    char  buf[11];

    dgj_date_format(dgj_calendar_add_working_days(cal, D(from), n), buf);

    if (strcmp(buf, want) != 0) {
        printf("#   %s + %d working days: got %s, want %s\n", from, n, buf,
               want);
        return 0;
    }

    return 1;
}


int
main(void)
{
    int              ok, y, m, d, yy, mm, dd;
    char             buf[11];
    dgj_date_t       date, prev;
    dgj_cal_day_t    days[64];
    dgj_calendar_t   cal, none;

    /* validity */
    test_cond("cal-1.1: 2024-02-29 is a date", dgj_date_valid(2024, 2, 29));
    test_cond("cal-1.2: 2026-02-29 is not a date",
              !dgj_date_valid(2026, 2, 29));
    test_cond("cal-1.3: 1900-02-29 is not a date (century rule)",
              !dgj_date_valid(1900, 2, 29));
    test_cond("cal-1.4: 2000-02-29 is a date (400-year rule)",
              dgj_date_valid(2000, 2, 29));
    test_cond("cal-1.5: April has no 31st", !dgj_date_valid(2026, 4, 31));
    test_cond("cal-1.6: months 0 and 13 and day 0 are refused",
              !dgj_date_valid(2026, 0, 10) && !dgj_date_valid(2026, 13, 1)
              && !dgj_date_valid(2026, 1, 0));

    /* strict parsing */
    test_cond("cal-1.7: parse accepts YYYY-MM-DD",
              dgj_date_parse("2026-09-30", 10, &date) == 0);
    test_cond("cal-1.8: parse refuses 2026-9-30",
              dgj_date_parse("2026-9-30", 9, &date) != 0);
    test_cond("cal-1.9: parse refuses trailing and leading bytes",
              dgj_date_parse("2026-09-30x", 11, &date) != 0
              && dgj_date_parse(" 2026-09-3", 10, &date) != 0);
    test_cond("cal-1.10: parse refuses other separators and signs",
              dgj_date_parse("2026/09/30", 10, &date) != 0
              && dgj_date_parse("2026-+9-30", 10, &date) != 0);
    test_cond("cal-1.11: parse refuses 2026-02-30",
              dgj_date_parse("2026-02-30", 10, &date) != 0);

    /* day numbers */
    test_cond("cal-1.12: 1970-01-01 is day 0",
              dgj_date_from_ymd(1970, 1, 1) == 0);
    test_cond("cal-1.13: 2000-03-01 is day 11017",
              dgj_date_from_ymd(2000, 3, 1) == 11017);

    ok = 1;
    prev = dgj_date_from_ymd(1899, 12, 31);

    for (y = 1900; y <= 2100 && ok; y++) {
        for (m = 1; m <= 12 && ok; m++) {
            for (d = 1; d <= 31; d++) {
                if (!dgj_date_valid(y, m, d)) {
                    continue;
                }

                date = dgj_date_from_ymd(y, m, d);
                dgj_date_to_ymd(date, &yy, &mm, &dd);

                if (date != prev + 1 || yy != y || mm != m || dd != d) {
                    ok = 0;
                    break;
                }

                prev = date;
            }
        }
    }

    test_cond("cal-1.14: 1900..2100 day numbers are consecutive and "
              "round-trip", ok);

    dgj_date_format(dgj_date_from_ymd(2026, 1, 5), buf);
    test_cond("cal-1.15: format writes zero-padded YYYY-MM-DD",
              strcmp(buf, "2026-01-05") == 0);

    test_cond("cal-1.16: 1970-01-01 was a Thursday",
              dgj_date_weekday(0) == 4);
    test_cond("cal-1.17: 2026-10-08 is a Thursday, 2026-10-10 a Saturday",
              dgj_date_weekday(D("2026-10-08")) == 4
              && dgj_date_weekday(D("2026-10-10")) == 6);
    test_cond("cal-1.18: 1969-12-31 was a Wednesday",
              dgj_date_weekday(-1) == 3);

    /* the 2026 calendar */
    test_cal2026_load(days, &cal);
    none.days = NULL;
    none.ndays = 0;

    test_cond("cal-2.1: 2026-10-01 (National Day) is not a working day",
              !dgj_calendar_is_working_day(&cal, D("2026-10-01")));
    test_cond("cal-2.2: 2026-10-08 (Thursday) is a working day",
              dgj_calendar_is_working_day(&cal, D("2026-10-08")));
    test_cond("cal-2.3: 2026-10-10 (Saturday, swapped) is a working day",
              dgj_calendar_is_working_day(&cal, D("2026-10-10")));
    test_cond("cal-2.4: 2026-10-11 (Sunday) is not a working day",
              !dgj_calendar_is_working_day(&cal, D("2026-10-11")));
    test_cond("cal-2.5: 2026-01-04 (Sunday, swapped) is a working day",
              dgj_calendar_is_working_day(&cal, D("2026-01-04")));
    test_cond("cal-2.6: 2026-02-16 (Monday, Spring Festival) is off",
              !dgj_calendar_is_working_day(&cal, D("2026-02-16")));
    test_cond("cal-2.7: without exceptions Saturday is off, Monday works",
              !dgj_calendar_is_working_day(&none, D("2026-10-10"))
              && dgj_calendar_is_working_day(&none, D("2026-10-05")));
    test_cond("cal-2.8: kind lookup finds a holiday and a workday",
              dgj_calendar_kind(&cal, D("2026-05-05")) == DGJ_CAL_HOLIDAY
              && dgj_calendar_kind(&cal, D("2026-05-09")) == DGJ_CAL_WORKDAY
              && dgj_calendar_kind(&cal, D("2026-05-06")) == 0);

    test_cond("cal-3.1: the working day after 2026-09-30 is 2026-10-08",
              test_calendar_add_is(&cal, "2026-09-30", 1, "2026-10-08"));
    test_cond("cal-3.2: 3 working days after 2026-09-30 is 2026-10-10",
              test_calendar_add_is(&cal, "2026-09-30", 3, "2026-10-10"));
    test_cond("cal-3.3: 4 working days after 2026-09-30 is 2026-10-12",
              test_calendar_add_is(&cal, "2026-09-30", 4, "2026-10-12"));
    test_cond("cal-3.4: after Friday 2026-02-13 comes swapped Sat 02-14",
              test_calendar_add_is(&cal, "2026-02-13", 1, "2026-02-14"));
    test_cond("cal-3.5: after 2026-02-14 the festival runs to 02-23",
              test_calendar_add_is(&cal, "2026-02-14", 1, "2026-02-24"));
    test_cond("cal-3.6: after 2025-12-31 comes swapped Sunday 2026-01-04",
              test_calendar_add_is(&cal, "2025-12-31", 1, "2026-01-04"));
    test_cond("cal-3.7: after 2026-09-24 Mid-Autumn skips to 09-28",
              test_calendar_add_is(&cal, "2026-09-24", 1, "2026-09-28"));
    test_cond("cal-3.8: after Friday 2026-09-18 comes swapped Sun 09-20",
              test_calendar_add_is(&cal, "2026-09-18", 1, "2026-09-20"));
    test_cond("cal-3.9: the start day is not counted (Monday + 1)",
              test_calendar_add_is(&cal, "2026-11-30", 1, "2026-12-01"));
    test_cond("cal-3.10: 0 working days is the start day",
              test_calendar_add_is(&cal, "2026-10-01", 0, "2026-10-01"));
    test_cond("cal-3.11: 10 working days from 2026-04-30 is 2026-05-18",
              test_calendar_add_is(&cal, "2026-04-30", 10, "2026-05-18"));

    test_cond("cal-4.1: 2026 has 248 working days",
              dgj_calendar_count_working_days(&cal, D("2026-01-01"),
                                              D("2026-12-31")) == 248);
    test_cond("cal-4.2: 2027 without exceptions has 261 working days",
              dgj_calendar_count_working_days(&cal, D("2027-01-01"),
                                              D("2027-12-31")) == 261);
    test_cond("cal-4.3: October 2026 has 18 working days (Oct 10 swapped)",
              dgj_calendar_count_working_days(&cal, D("2026-10-01"),
                                              D("2026-10-31")) == 18);

    return test_report();
}
