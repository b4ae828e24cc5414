-- 0002_districts.sql -- owns the rows of districts: the city level and
-- Dongguan's 32 towns and subdistricts (镇街) with their official division
-- codes (统计用区划代码; the city is 441900).  Where the codes come from:
-- sql/README.md.  The four functional zones that also carry codes
-- (441900401..404: 松山湖, 东莞港, 东莞生态园, 滨海湾新区) are not towns and
-- are left out.
--
-- Re-runnable: rows are matched on code.

INSERT INTO districts
       (code, name, kind, sort_order)
VALUES ('441900',    '市直',     'municipal',     0),
       ('441900003', '东城街道', 'subdistrict',  10),
       ('441900004', '南城街道', 'subdistrict',  20),
       ('441900005', '万江街道', 'subdistrict',  30),
       ('441900006', '莞城街道', 'subdistrict',  40),
       ('441900101', '石碣镇',   'town',        110),
       ('441900102', '石龙镇',   'town',        120),
       ('441900103', '茶山镇',   'town',        130),
       ('441900104', '石排镇',   'town',        140),
       ('441900105', '企石镇',   'town',        150),
       ('441900106', '横沥镇',   'town',        160),
       ('441900107', '桥头镇',   'town',        170),
       ('441900108', '谢岗镇',   'town',        180),
       ('441900109', '东坑镇',   'town',        190),
       ('441900110', '常平镇',   'town',        200),
       ('441900111', '寮步镇',   'town',        210),
       ('441900112', '樟木头镇', 'town',        220),
       ('441900113', '大朗镇',   'town',        230),
       ('441900114', '黄江镇',   'town',        240),
       ('441900115', '清溪镇',   'town',        250),
       ('441900116', '塘厦镇',   'town',        260),
       ('441900117', '凤岗镇',   'town',        270),
       ('441900118', '大岭山镇', 'town',        280),
       ('441900119', '长安镇',   'town',        290),
       ('441900121', '虎门镇',   'town',        310),
       ('441900122', '厚街镇',   'town',        320),
       ('441900123', '沙田镇',   'town',        330),
       ('441900124', '道滘镇',   'town',        340),
       ('441900125', '洪梅镇',   'town',        350),
       ('441900126', '麻涌镇',   'town',        360),
       ('441900127', '望牛墩镇', 'town',        370),
       ('441900128', '中堂镇',   'town',        380),
       ('441900129', '高埗镇',   'town',        390)
    ON DUPLICATE KEY UPDATE
       name = VALUE(name),
       kind = VALUE(kind),
       sort_order = VALUE(sort_order);
