-- 0006_calendar_2027.sql -- owns the provisional 2027 rows of calendar_years
-- and calendar_days, until the admin enters the State Council's official
-- 2027 arrangement (expected late 2026).
--
-- Only the statutory days off of 全国年节及纪念日放假办法 as revised in 2024
-- are listed: 元旦 1 day, 春节 4 days from the eve (除夕 to 初三), 清明节 1,
-- 劳动节 2, 端午节 1, 中秋节 1, 国庆节 3.  Lunar and solar-term dates (see
-- sql/README.md): 除夕 2027-02-05 (腊月廿九: that month has 29 days),
-- 春节 02-06, 清明 04-05, 端午 06-09, 中秋 09-15.
-- No swapped working days and no in-lieu days off (补假) for the holidays
-- that fall on a weekend: both are set only by the official arrangement.
-- Until then 2027 counts 254 working days, more than it will really have.
--
-- Provisional rows never overwrite (no-op ON DUPLICATE KEY UPDATE, not
-- INSERT IGNORE, which would also hide CHECK failures): nothing is inserted
-- once 2027 is in calendar_years as official (provisional = 0).

INSERT INTO calendar_years
       (year, provisional, source)
VALUES (2027, 1,
        '暂定：全国年节及纪念日放假办法（2024年修订）法定假日，'
        '农历日期推算；以国务院办公厅2027年节假日安排通知为准')
    ON DUPLICATE KEY UPDATE
       calendar_years.year = calendar_years.year;

INSERT INTO calendar_days
       (day, kind, name, provisional)
SELECT v.day, 'holiday', v.name, 1
  FROM (SELECT DATE '2027-01-01' AS day, '元旦' AS name
        UNION ALL SELECT DATE '2027-02-05', '春节'
        UNION ALL SELECT DATE '2027-02-06', '春节'
        UNION ALL SELECT DATE '2027-02-07', '春节'
        UNION ALL SELECT DATE '2027-02-08', '春节'
        UNION ALL SELECT DATE '2027-04-05', '清明节'
        UNION ALL SELECT DATE '2027-05-01', '劳动节'
        UNION ALL SELECT DATE '2027-05-02', '劳动节'
        UNION ALL SELECT DATE '2027-06-09', '端午节'
        UNION ALL SELECT DATE '2027-09-15', '中秋节'
        UNION ALL SELECT DATE '2027-10-01', '国庆节'
        UNION ALL SELECT DATE '2027-10-02', '国庆节'
        UNION ALL SELECT DATE '2027-10-03', '国庆节') AS v
 WHERE EXISTS (SELECT 1
                 FROM calendar_years AS y
                WHERE y.year = 2027
                  AND y.provisional = 1)
    ON DUPLICATE KEY UPDATE
       calendar_days.day = calendar_days.day;
