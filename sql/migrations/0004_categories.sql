-- 0004_categories.sql -- owns the seed rows of categories: 12 livelihood
-- topics (two-digit codes) and 44 leaves (four-digit codes, topic code
-- first), coded in the manner of DB44/T 2479-2024.  Each leaf has its appeal
-- type, its default department (派单目录, looked up by department code) and
-- its handling limit in working days (docs: shared domain rules):
--   consultation 1-3, help 3-5, complaint and suggestion 5-15,
--   report 5-15 (fire hazards fastest), praise 5.
-- report (举报) leaves are never public (is_public = 0).
--
-- A department code or topic that does not resolve leaves a NULL that
-- ck_categories_level rejects, so a typo here fails the migration instead of
-- seeding a leaf nobody receives.
-- Re-runnable: rows are matched on code.

INSERT INTO categories
       (code, parent_id, level, name, appeal_type, default_department_id,
        handling_days, is_public, active, sort_order)
VALUES ('01', NULL, 1, '住房与物业',     NULL, NULL, NULL, 1, 1, 10),
       ('02', NULL, 1, '交通出行',       NULL, NULL, NULL, 1, 1, 20),
       ('03', NULL, 1, '生态环境',       NULL, NULL, NULL, 1, 1, 30),
       ('04', NULL, 1, '劳动与社保',     NULL, NULL, NULL, 1, 1, 40),
       ('05', NULL, 1, '教育',           NULL, NULL, NULL, 1, 1, 50),
       ('06', NULL, 1, '医疗卫生',       NULL, NULL, NULL, 1, 1, 60),
       ('07', NULL, 1, '市场监管与消费', NULL, NULL, NULL, 1, 1, 70),
       ('08', NULL, 1, '公共安全',       NULL, NULL, NULL, 1, 1, 80),
       ('09', NULL, 1, '城市管理',       NULL, NULL, NULL, 1, 1, 90),
       ('10', NULL, 1, '水电气',         NULL, NULL, NULL, 1, 1, 100),
       ('11', NULL, 1, '民政与社会救助', NULL, NULL, NULL, 1, 1, 110),
       ('12', NULL, 1, '咨询与建议',     NULL, NULL, NULL, 1, 1, 120)
    ON DUPLICATE KEY UPDATE
       name = VALUE(name),
       sort_order = VALUE(sort_order);

INSERT INTO categories
       (code, parent_id, level, name, appeal_type, default_department_id,
        handling_days, is_public, active, sort_order)
  WITH leaf (code, name, appeal_type, department_code, handling_days) AS (
VALUES ('0101', '物业服务',         'complaint',    'city.housing',        10),
       ('0102', '房屋质量与维修',   'complaint',    'city.housing',        15),
       ('0103', '商品房交易与交付', 'complaint',    'city.housing',        15),
       ('0104', '住房保障与公积金', 'consultation', 'other.housing_fund',   3),
       ('0105', '违法建设',         'report',       'city.urban_admin',    15),

       ('0201', '公交与地铁服务',   'complaint',    'city.transport',      10),
       ('0202', '出租车与网约车',   'complaint',    'city.transport',      10),
       ('0203', '交通信号与标线',   'help',         'city.traffic_police',  5),
       ('0204', '交通违法',         'report',       'city.traffic_police', 15),

       ('0301', '噪声扰民',         'complaint',    'city.ecology',        10),
       ('0302', '大气污染与异味',   'complaint',    'city.ecology',        10),
       ('0303', '水污染',           'complaint',    'city.ecology',        10),
       ('0304', '企业偷排漏排',     'report',       'city.ecology',        15),

       ('0401', '欠薪求助',         'help',         'city.hr_social',       5),
       ('0402', '劳动合同纠纷',     'complaint',    'city.hr_social',      10),
       ('0403', '社会保险',         'consultation', 'city.hr_social',       3),
       ('0404', '医疗保险',         'consultation', 'city.medicare',        3),

       ('0501', '入学与学位',       'consultation', 'city.education',       3),
       ('0502', '校外培训',         'complaint',    'city.education',      10),
       ('0503', '学校管理与收费',   'complaint',    'city.education',      10),

       ('0601', '医疗服务',         'complaint',    'city.health',         10),
       ('0602', '疫苗与公共卫生',   'consultation', 'city.health',          2),
       ('0603', '医疗机构执业',     'report',       'city.health',         15),

       ('0701', '消费维权',         'complaint',    'city.market',          7),
       ('0702', '食品安全',         'complaint',    'city.market',          7),
       ('0703', '无证无照经营',     'report',       'city.market',         15),
       ('0704', '商业预付卡',       'complaint',    'city.commerce',       10),

       ('0801', '治安问题',         'report',       'city.police',         10),
       ('0802', '消防安全隐患',     'report',       'other.fire',           5),
       ('0803', '安全生产隐患',     'report',       'city.emergency',      10),
       ('0804', '户籍与居住证',     'consultation', 'city.police',          2),

       ('0901', '占道经营与乱摆卖', 'complaint',    'city.urban_admin',     5),
       ('0902', '环卫与垃圾清运',   'complaint',    'city.urban_admin',     5),
       ('0903', '市政道路与路灯',   'help',         'city.urban_admin',     5),

       ('1001', '供水',             'help',         'city.water',           3),
       ('1002', '供电',             'help',         'other.power',          3),
       ('1003', '燃气',             'help',         'city.urban_admin',     3),
       ('1004', '排水与内涝',       'help',         'city.water',           3),

       ('1101', '低保与临时救助',   'help',         'city.civil_affairs',   5),
       ('1102', '养老服务',         'consultation', 'city.civil_affairs',   3),
       ('1103', '残疾人服务',       'help',         'other.disabled',       5),

       ('1201', '政策咨询',         'consultation', 'city.gov_service',     1),
       ('1202', '意见建议',         'suggestion',   'city.gov_service',    15),
       ('1203', '表扬',             'praise',       'city.gov_service',     5)
       )
SELECT leaf.code,
       p.id,
       2,
       leaf.name,
       leaf.appeal_type,
       d.id,
       leaf.handling_days,
       IF(leaf.appeal_type = 'report', 0, 1),
       1,
       CAST(RIGHT(leaf.code, 2) AS UNSIGNED) * 10
  FROM leaf
  LEFT JOIN categories AS p
    ON p.code = LEFT(leaf.code, 2)
   AND p.level = 1
  LEFT JOIN departments AS d
    ON d.code = leaf.department_code
 ORDER BY leaf.code
    ON DUPLICATE KEY UPDATE
       parent_id = VALUE(parent_id),
       name = VALUE(name),
       appeal_type = VALUE(appeal_type),
       default_department_id = VALUE(default_department_id),
       handling_days = VALUE(handling_days),
       is_public = VALUE(is_public),
       sort_order = VALUE(sort_order);
