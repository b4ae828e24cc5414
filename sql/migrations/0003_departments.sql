-- 0003_departments.sql -- owns the seed rows of departments: the Dongguan
-- city bureaus that handle livelihood appeals (kind city), the units outside
-- the city government that appeals are also dispatched to (kind other:
-- vertically managed offices, the power utility, people's organisations),
-- and the 32 town governments and subdistrict offices (kind town), one per
-- district row of 0002.
--
-- Codes are stable keys (city.*, other.*, town.<division code>); seeds and
-- interfaces refer to a department by code, never by id.
-- Re-runnable: rows are matched on code.

INSERT INTO departments
       (code, name, kind, sort_order)
VALUES ('city.gov_service',       '市政务服务和数据管理局',   'city',   10),
       ('city.petition',          '市信访局',                 'city',   20),
       ('city.development',       '市发展和改革局',           'city',   30),
       ('city.education',         '市教育局',                 'city',   40),
       ('city.science',           '市科学技术局',             'city',   50),
       ('city.industry',          '市工业和信息化局',         'city',   60),
       ('city.police',            '市公安局',                 'city',   70),
       ('city.traffic_police',    '市公安局交通警察支队',     'city',   80),
       ('city.civil_affairs',     '市民政局',                 'city',   90),
       ('city.justice',           '市司法局',                 'city',  100),
       ('city.finance',           '市财政局',                 'city',  110),
       ('city.hr_social',         '市人力资源和社会保障局',   'city',  120),
       ('city.natural_resources', '市自然资源局',             'city',  130),
       ('city.ecology',           '市生态环境局',             'city',  140),
       ('city.housing',           '市住房和城乡建设局',       'city',  150),
       ('city.transport',         '市交通运输局',             'city',  160),
       ('city.water',             '市水务局',                 'city',  170),
       ('city.agriculture',       '市农业农村局',             'city',  180),
       ('city.commerce',          '市商务局',                 'city',  190),
       ('city.culture_tourism',   '市文化广电旅游体育局',     'city',  200),
       ('city.health',            '市卫生健康局',             'city',  210),
       ('city.veterans',          '市退役军人事务局',         'city',  220),
       ('city.emergency',         '市应急管理局',             'city',  230),
       ('city.market',            '市市场监督管理局',         'city',  240),
       ('city.urban_admin',       '市城市管理和综合执法局',   'city',  250),
       ('city.forestry',          '市林业局',                 'city',  260),
       ('city.medicare',          '市医疗保障局',             'city',  270),
       ('other.tax',              '国家税务总局东莞市税务局', 'other', 510),
       ('other.housing_fund',     '东莞住房公积金管理中心',   'other', 520),
       ('other.power',            '东莞供电局',               'other', 530),
       ('other.fire',             '市消防救援支队',           'other', 540),
       ('other.trade_union',      '市总工会',                 'other', 550),
       ('other.women',            '市妇女联合会',             'other', 560),
       ('other.disabled',         '市残疾人联合会',           'other', 570)
    ON DUPLICATE KEY UPDATE
       name = VALUE(name),
       kind = VALUE(kind),
       sort_order = VALUE(sort_order);

-- One government per town or subdistrict: 镇人民政府 / 街道办事处.  Built from
-- districts so the two lists cannot drift apart.
INSERT INTO departments
       (code, name, kind, district_id, active, sort_order)
SELECT CONCAT('town.', d.code),
       CONCAT(d.name, IF(d.kind = 'subdistrict', '办事处', '人民政府')),
       'town',
       d.id,
       1,
       1000 + d.sort_order
  FROM districts AS d
 WHERE d.kind IN ('subdistrict', 'town')
 ORDER BY d.sort_order
    ON DUPLICATE KEY UPDATE
       name = VALUE(name),
       kind = VALUE(kind),
       district_id = VALUE(district_id),
       sort_order = VALUE(sort_order);
