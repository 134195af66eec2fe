-- description: "五个倍增"进展(全市):基期值、目标值、当前值、进度、年均需增长、本期增速
-- grain: indicator
-- column seq BIGINT: 排列顺序
-- column indicator TEXT: 倍增指标代码(industrial_scale, enterprises, high_tech_enterprises, producer_services_revenue, trade_total)
-- column name TEXT: 指标名称
-- column unit TEXT: 计量单位(万元 / 个;targets 参考数据须使用同一单位)
-- column source_form TEXT: 数据来源报表(JN101 / JN102)
-- column annualised BOOLEAN: 当前值是否为年化值(流量指标 × 12 / M)
-- column base_year BIGINT: 基期年份
-- column base_value DOUBLE: 基期值
-- column target_year BIGINT: 目标年份
-- column target_value DOUBLE: 目标值
-- column current_value DOUBLE: 当前值(流量指标年化)
-- column progress DOUBLE: 进度(%) = (当前值 − 基期值) / (目标值 − 基期值) × 100
-- column required_growth DOUBLE: 规划年均增长(%) = ((目标值 / 基期值)^(1 / (目标年 − 基期年)) − 1) × 100:从基期到目标年每年同速增长所需的速度
-- column required_growth_from_now DOUBLE: 自本期起年均需增长(%) = ((目标值 / 当前值)^(1 / (目标年 − 本期年份)) − 1) × 100;目标年不晚于本期年份或当前值 ≤ 0 时 NULL
-- column growth DOUBLE: 本期同比增速(%),与当前值同一来源:规上工业企业数按 JN101 审核通过企业数与上年同期 JN101 企业数相比(上年同期未入库时 NULL)

WITH
-- The five doublings (INDICATORS.md). is_flow: a cumulative flow, annualised as × 12 / M.
definitions AS (
    SELECT * FROM (VALUES
        (1, 'industrial_scale',          '工业经济总量',       '万元', 'JN101', true),
        (2, 'enterprises',               '规上工业企业数量',   '个',   'JN101', false),
        (3, 'high_tech_enterprises',     '高新技术企业数量',   '个',   'JN102', false),
        (4, 'producer_services_revenue', '生产性服务业规模',   '万元', 'JN102', true),
        (5, 'trade_total',               '外贸进出口总额',     '万元', 'JN102', true)
    ) AS t(seq, indicator, name, unit, source_form, is_flow)
),
city_jn101 AS (
    SELECT * FROM jn101_cells WHERE region_code = '370800' AND breakdown = '_T'
),
-- Number of accepted JN101 enterprises a year ago (0 when that period is not in the warehouse,
-- and the growth is then NULL). One source per series: the current value is the JN101 count, so
-- its growth is too, never the counties' JN102 count.
year_ago AS (
    SELECT COUNT(*) AS enterprises
    FROM jn101_all a
    JOIN params p ON CAST(a.period AS VARCHAR) = p.year_ago_period
),
-- This period's value (not yet annualised) and year-on-year growth of each measure.
measures AS (
    -- 工业经济总量: Σ营业收入 of the JN101 enterprises
    SELECT 'industrial_scale' AS indicator,
           CAST(revenue_ytd AS DOUBLE) AS ytd_value,
           revenue_growth AS growth
    FROM city_jn101
    UNION ALL
    -- 规上工业企业数: JN101 count, growth against last year's count of accepted returns
    SELECT 'enterprises',
           CAST(c.enterprises AS DOUBLE),
           (CAST(c.enterprises AS DOUBLE) / NULLIF(CAST(y.enterprises AS DOUBLE), 0) - 1) * 100
    FROM city_jn101 c
    CROSS JOIN year_ago y
    UNION ALL
    SELECT item, CAST(value_ytd AS DOUBLE), growth
    FROM jn102_summary
    WHERE region_code = '370800'
      AND item IN ('high_tech_enterprises', 'producer_services_revenue', 'trade_total')
),
current_values AS (
    SELECT d.seq, d.indicator, d.name, d.unit, d.source_form, d.is_flow,
           m.ytd_value * CASE WHEN d.is_flow THEN p.annualise ELSE 1.0 END AS current_value,
           m.growth,
           p.year
    FROM definitions d
    CROSS JOIN params p
    LEFT JOIN measures m ON m.indicator = d.indicator
)
SELECT v.seq,
       v.indicator,
       v.name,
       v.unit,
       v.source_form,
       v.is_flow AS annualised,
       t.base_year,
       t.base_value,
       t.target_year,
       t.target_value,
       v.current_value,
       (v.current_value - t.base_value) / NULLIF(t.target_value - t.base_value, 0) * 100 AS progress,
       CASE WHEN t.base_value > 0 AND t.target_value > 0 AND t.target_year > t.base_year
            THEN (power(t.target_value / t.base_value,
                        1.0 / CAST(t.target_year - t.base_year AS DOUBLE)) - 1) * 100
       END AS required_growth,
       CASE WHEN v.current_value > 0 AND t.target_value > 0 AND t.target_year > v.year
            THEN (power(t.target_value / v.current_value,
                        1.0 / CAST(t.target_year - v.year AS DOUBLE)) - 1) * 100
       END AS required_growth_from_now,
       v.growth
FROM current_values v
LEFT JOIN targets t ON t.indicator = v.indicator
ORDER BY v.seq
