-- description: "五个倍增"指标(JN102)按地区汇总:本年累计、上年同期、增速
-- grain: region_code × item
-- column region_code TEXT: 地区代码(370800 为全市,由各县市区报表直接加总)
-- column item TEXT: 指标代码(reported_enterprises, high_tech_enterprises, producer_services_revenue, trade_total, trade_export, trade_import)
-- column item_name TEXT: 指标名称(规范名称)
-- column unit TEXT: 计量单位(个 / 万元)
-- column counties BIGINT: 参与汇总的县市区数
-- column value_ytd DECIMAL(34,6): 本年累计(期末数)
-- column value_prev DECIMAL(34,6): 上年同期
-- column growth DOUBLE: 增速(%),按本年累计与上年同期重新计算(县区填报的增速只用于审核),上年同期为 0 时 NULL

WITH
-- The published items of the form, with their canonical names and units. Items not listed here
-- are not published (add them here when the form gains a row).
catalogue AS (
    SELECT * FROM (VALUES
        (1, 'reported_enterprises',      '规模以上工业企业数',   '个'),
        (2, 'high_tech_enterprises',     '高新技术企业数',       '个'),
        (3, 'producer_services_revenue', '生产性服务业营业收入', '万元'),
        (4, 'trade_total',               '外贸进出口总额',       '万元'),
        (5, 'trade_export',              '其中:出口',            '万元'),
        (6, 'trade_import',              '进口',                 '万元')
    ) AS t(seq, item, item_name, unit)
),
-- Each county's rows count for the county itself and for the city (370800).
scoped AS (
    SELECT region_code, item, value_ytd, value_prev FROM jn102
    UNION ALL
    SELECT '370800' AS region_code, item, value_ytd, value_prev FROM jn102
),
sums AS (
    SELECT region_code,
           item,
           COUNT(*)        AS counties,
           SUM(value_ytd)  AS value_ytd,
           SUM(value_prev) AS value_prev
    FROM scoped
    GROUP BY region_code, item
)
SELECT s.region_code,
       s.item,
       k.item_name,
       k.unit,
       s.counties,
       s.value_ytd,
       s.value_prev,
       (CAST(s.value_ytd AS DOUBLE) / NULLIF(CAST(s.value_prev AS DOUBLE), 0) - 1) * 100 AS growth
FROM sums s
JOIN catalogue k ON k.item = s.item
ORDER BY s.region_code, k.seq
