-- 0005_calendar_2026.sql -- owns the 2026 rows of calendar_years and
-- calendar_days: the official arrangement of the State Council General
-- Office notice of 2025-11-04 (国务院办公厅关于2026年部分节假日安排的通知).
-- Every day off of the notice is listed, weekend days included, with its
-- holiday name; the six weekend days worked instead (调休) are 'workday'.
--
-- 2026 then has 248 working days: 261 Mon-Fri days, less the 19 of them that
-- are holidays, plus the 6 swapped weekend days.
--
-- The notice is authoritative: re-running overwrites 2026 rows.

INSERT INTO calendar_years
       (year, provisional, source)
VALUES (2026, 0,
        '国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日）')
    ON DUPLICATE KEY UPDATE
       provisional = VALUE(provisional),
       source = VALUE(source);

INSERT INTO calendar_days
       (day, kind, name, provisional)
VALUES ('2026-01-01', 'holiday', '元旦',         0),
       ('2026-01-02', 'holiday', '元旦',         0),
       ('2026-01-03', 'holiday', '元旦',         0),
       ('2026-01-04', 'workday', '元旦调休',     0),

       ('2026-02-14', 'workday', '春节调休',     0),
       ('2026-02-15', 'holiday', '春节',         0),
       ('2026-02-16', 'holiday', '春节',         0),
       ('2026-02-17', 'holiday', '春节',         0),
       ('2026-02-18', 'holiday', '春节',         0),
       ('2026-02-19', 'holiday', '春节',         0),
       ('2026-02-20', 'holiday', '春节',         0),
       ('2026-02-21', 'holiday', '春节',         0),
       ('2026-02-22', 'holiday', '春节',         0),
       ('2026-02-23', 'holiday', '春节',         0),
       ('2026-02-28', 'workday', '春节调休',     0),

       ('2026-04-04', 'holiday', '清明节',       0),
       ('2026-04-05', 'holiday', '清明节',       0),
       ('2026-04-06', 'holiday', '清明节',       0),

       ('2026-05-01', 'holiday', '劳动节',       0),
       ('2026-05-02', 'holiday', '劳动节',       0),
       ('2026-05-03', 'holiday', '劳动节',       0),
       ('2026-05-04', 'holiday', '劳动节',       0),
       ('2026-05-05', 'holiday', '劳动节',       0),
       ('2026-05-09', 'workday', '劳动节调休',   0),

       ('2026-06-19', 'holiday', '端午节',       0),
       ('2026-06-20', 'holiday', '端午节',       0),
       ('2026-06-21', 'holiday', '端午节',       0),

       ('2026-09-20', 'workday', '国庆节调休',   0),
       ('2026-09-25', 'holiday', '中秋节',       0),
       ('2026-09-26', 'holiday', '中秋节',       0),
       ('2026-09-27', 'holiday', '中秋节',       0),

       ('2026-10-01', 'holiday', '国庆节',       0),
       ('2026-10-02', 'holiday', '国庆节',       0),
       ('2026-10-03', 'holiday', '国庆节',       0),
       ('2026-10-04', 'holiday', '国庆节',       0),
       ('2026-10-05', 'holiday', '国庆节',       0),
       ('2026-10-06', 'holiday', '国庆节',       0),
       ('2026-10-07', 'holiday', '国庆节',       0),
       ('2026-10-10', 'workday', '国庆节调休',   0)
    ON DUPLICATE KEY UPDATE
       kind = VALUE(kind),
       name = VALUE(name),
       provisional = VALUE(provisional);
