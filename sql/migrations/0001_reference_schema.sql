-- 0001_reference_schema.sql -- owns the reference tables every other part of
-- Daguanjia reads: districts (镇街), departments (承办单位), categories (诉求
-- 分类 / 派单目录) and the working-day calendar (calendar_years,
-- calendar_days).  Their rows come in 0002..0006.
--
-- Rows here are referenced by appeals and never deleted: a department or a
-- category that goes out of use is set active = 0.  Hence ON DELETE RESTRICT
-- everywhere except calendar_days, which belong to their year.

CREATE TABLE IF NOT EXISTS districts (
    id          SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT,
    code        VARCHAR(12) NOT NULL
                COMMENT 'division code: 441900, or 9 digits 4419001NN',
    name        VARCHAR(32) NOT NULL,
    kind        VARCHAR(16) NOT NULL,
    sort_order  SMALLINT NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    UNIQUE KEY ux_districts_code (code),
    UNIQUE KEY ux_districts_name (name),
    CONSTRAINT ck_districts_kind
        CHECK (kind IN ('municipal', 'subdistrict', 'town')),
    CONSTRAINT ck_districts_code
        CHECK ((kind = 'municipal' AND code REGEXP '^[0-9]{6}$')
               OR (kind <> 'municipal' AND code REGEXP '^[0-9]{9}$'))
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='Dongguan divisions an appeal is located in: one municipal row (市直,
 the city level) and the 4 subdistricts (街道) and 28 towns (镇), coded with
 the official administrative division codes; code and name are unique';

CREATE TABLE IF NOT EXISTS departments (
    id          INT UNSIGNED NOT NULL AUTO_INCREMENT,
    code        VARCHAR(32) NOT NULL
                COMMENT 'stable key used by seeds and interfaces',
    name        VARCHAR(64) NOT NULL,
    kind        VARCHAR(16) NOT NULL,
    district_id SMALLINT UNSIGNED NULL
                COMMENT 'the town or subdistrict a town government runs',
    active      TINYINT(1) NOT NULL DEFAULT 1,
    sort_order  SMALLINT NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    UNIQUE KEY ux_departments_code (code),
    UNIQUE KEY ux_departments_name (name),
    KEY ix_departments_district_id (district_id),
    CONSTRAINT fk_departments_district
        FOREIGN KEY (district_id) REFERENCES districts (id)
        ON DELETE RESTRICT
        ON UPDATE RESTRICT,
    CONSTRAINT ck_departments_kind
        CHECK (kind IN ('city', 'town', 'other')),
    CONSTRAINT ck_departments_town_district
        CHECK (kind <> 'town' OR district_id IS NOT NULL),
    CONSTRAINT ck_departments_active
        CHECK (active IN (0, 1))
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='units appeals are dispatched to: city bureaus (city), town
 governments and subdistrict offices (town, district_id set), and units
 outside the city government such as vertically managed offices, utilities
 and people''s organisations (other); never deleted, set active = 0';

CREATE TABLE IF NOT EXISTS categories (
    id          INT UNSIGNED NOT NULL AUTO_INCREMENT,
    code        VARCHAR(16) NOT NULL
                COMMENT 'NN for a topic, NNNN (topic code + NN) for a leaf',
    parent_id   INT UNSIGNED NULL,
    level       TINYINT NOT NULL,
    name        VARCHAR(64) NOT NULL,
    appeal_type VARCHAR(16) NULL,
    default_department_id INT UNSIGNED NULL
                COMMENT 'dispatch catalogue (派单目录): who gets it first',
    handling_days SMALLINT NULL
                COMMENT 'handling time limit in working days',
    is_public   TINYINT(1) NOT NULL DEFAULT 1,
    active      TINYINT(1) NOT NULL DEFAULT 1,
    sort_order  SMALLINT NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    UNIQUE KEY ux_categories_code (code),
    KEY ix_categories_parent_id (parent_id, sort_order),
    KEY ix_categories_default_department_id (default_department_id),
    CONSTRAINT fk_categories_parent
        FOREIGN KEY (parent_id) REFERENCES categories (id)
        ON DELETE RESTRICT
        ON UPDATE RESTRICT,
    CONSTRAINT fk_categories_department
        FOREIGN KEY (default_department_id) REFERENCES departments (id)
        ON DELETE RESTRICT
        ON UPDATE RESTRICT,
    CONSTRAINT ck_categories_appeal_type
        CHECK (appeal_type IS NULL
               OR appeal_type IN ('consultation', 'help', 'complaint',
                                  'report', 'suggestion', 'praise')),
    CONSTRAINT ck_categories_level
        CHECK ((level = 1
                AND code REGEXP '^[0-9]{2}$'
                AND parent_id IS NULL
                AND appeal_type IS NULL
                AND default_department_id IS NULL
                AND handling_days IS NULL)
               OR (level = 2
                AND code REGEXP '^[0-9]{4}$'
                AND parent_id IS NOT NULL
                AND appeal_type IS NOT NULL
                AND default_department_id IS NOT NULL
                AND handling_days BETWEEN 1 AND 60)),
    CONSTRAINT ck_categories_report_private
        CHECK (appeal_type IS NULL OR appeal_type <> 'report'
               OR is_public = 0),
    CONSTRAINT ck_categories_flags
        CHECK (is_public IN (0, 1) AND active IN (0, 1))
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='two-level appeal catalogue after DB44/T 2479-2024: level 1 topics
 carry nothing but a name; every level 2 leaf has an appeal type, a default
 department and a time limit in working days; report (举报) leaves are never
 public; a leaf code starts with its topic code; never deleted, set active = 0';

CREATE TABLE IF NOT EXISTS calendar_years (
    year        SMALLINT NOT NULL,
    provisional TINYINT(1) NOT NULL DEFAULT 1
                COMMENT '1 until the official arrangement is entered',
    source      VARCHAR(255) NOT NULL
                COMMENT 'the notice or rule the days come from',
    PRIMARY KEY (year),
    CONSTRAINT ck_calendar_years_year
        CHECK (year BETWEEN 2000 AND 2100),
    CONSTRAINT ck_calendar_years_provisional
        CHECK (provisional IN (0, 1))
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='years whose public holidays and swapped working days are loaded in
 calendar_days; a year not listed here is counted with the plain Mon-Fri
 rule';

CREATE TABLE IF NOT EXISTS calendar_days (
    day         DATE NOT NULL,
    kind        VARCHAR(8) NOT NULL,
    name        VARCHAR(32) NULL
                COMMENT 'holiday name, e.g. 春节; for a workday: 春节调休',
    provisional TINYINT(1) NOT NULL DEFAULT 1
                COMMENT 'equal to calendar_years.provisional of its year',
    year        SMALLINT AS (YEAR(day)) PERSISTENT
                COMMENT 'derived from day; ties the day to its year',
    PRIMARY KEY (day),
    KEY ix_calendar_days_year (year),
    CONSTRAINT fk_calendar_days_year
        FOREIGN KEY (year) REFERENCES calendar_years (year)
        ON DELETE CASCADE,
    CONSTRAINT ck_calendar_days_kind
        CHECK (kind IN ('holiday', 'workday')),
    CONSTRAINT ck_calendar_days_workday_weekend
        CHECK (kind <> 'workday' OR DAYOFWEEK(day) IN (1, 7)),
    CONSTRAINT ck_calendar_days_holiday_name
        CHECK (kind <> 'holiday' OR name IS NOT NULL),
    CONSTRAINT ck_calendar_days_provisional
        CHECK (provisional IN (0, 1))
) ENGINE=InnoDB
  DEFAULT CHARSET=utf8mb4
  COLLATE=utf8mb4_unicode_ci
  COMMENT='exceptions to the Mon-Fri rule only: holiday = a day off (named,
 weekend days of a holiday may be listed too), workday = a Saturday or Sunday
 that is worked (调休); a date is a working day iff kind = workday, or it is
 Mon-Fri and not a holiday; deleting a year deletes its days';
