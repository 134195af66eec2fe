-- description: 本年各月累计增速走势(全市)
-- grain: data_period(本年 1—2月 至本期,每个报告期一行)
-- column data_period TEXT: 该行的报告期 YYYY-MM(输出按构建期分区,故不叫 period)
-- column period_label TEXT: 累计期标签(1—2月 …)
-- column enterprises BIGINT: 规上工业企业数(个)
-- column ppi DOUBLE: 该期全市隐含价格指数(上年同期=100):Σ增加值 / Σ按各企业行业大类 PPI 缩减后的增加值 × 100
-- column output_growth DOUBLE: 工业总产值增速(%)
-- column va_growth DOUBLE: 工业增加值增速(%,可比价:各企业按其行业大类该期 PPI 缩减,无大类指数的用全行业 _T 指数;有企业缺 PPI 时 NULL)
-- column revenue_growth DOUBLE: 营业收入增速(%)
-- column chain_va_growth DOUBLE: 15条标志性产业链增加值增速(%,可比价;任一链企业只计一次,按当前链成员名单)
-- column manufacturing_va_growth DOUBLE: 制造业(门类 C)增加值增速(%,可比价)
--
-- Same formulas as the JN101 cell model, period by period. Earlier periods come from the warehouse
-- (jn101_all); this period from the current accepted rows (jn101), so the series is complete
-- whether or not the warehouse already holds this period.

WITH
year_rows AS (
    SELECT CAST(a.period AS VARCHAR) AS period, a.credit_code, a.section, a.division,
           a.output_ytd, a.output_prev, a.va_ytd, a.va_prev, a.revenue_ytd, a.revenue_prev
    FROM params p
    CROSS JOIN jn101_all a
    WHERE substr(CAST(a.period AS VARCHAR), 1, 4) = substr(p.period, 1, 4)
      AND CAST(a.period AS VARCHAR) < p.period
    UNION ALL
    SELECT period, credit_code, section, division,
           output_ytd, output_prev, va_ytd, va_prev, revenue_ytd, revenue_prev
    FROM jn101
),
ppi_by_division AS (
    SELECT period, division, MAX("index") AS ppi FROM ppi GROUP BY period, division
),
-- Each row's value added at comparable prices: deflated by its division's PPI of that period,
-- else the all-industry (_T) one (as jn101_cells does for the reporting period).
deflated AS (
    SELECT y.*,
           -- fixed-point per enterprise, so that the sums below are exact whatever order the
           -- partitions add them in (a float sum is not: outputs must be byte-identical)
           CAST(CAST(y.va_ytd AS DOUBLE) / (COALESCE(d.ppi, t.ppi) / 100) AS DECIMAL(38, 10)) AS va_ytd_comparable
    FROM year_rows y
    LEFT JOIN ppi_by_division d ON d.period = y.period AND d.division = y.division
    LEFT JOIN ppi_by_division t ON t.period = y.period AND t.division = '_T'
),
chain_enterprises AS (
    SELECT DISTINCT upper(trim(m.credit_code)) AS credit_code
    FROM chain_members m
    JOIN chains c ON c.chain_id = m.chain_id
),
sums AS (
    SELECT y.period,
           COUNT(*)            AS enterprises,
           SUM(y.output_ytd)   AS output_ytd,
           SUM(y.output_prev)  AS output_prev,
           SUM(y.va_ytd)       AS va_ytd,
           SUM(y.va_prev)      AS va_prev,
           CAST(SUM(y.va_ytd_comparable) AS DOUBLE) AS va_cmp,
           COUNT(y.va_ytd_comparable) AS va_cmp_n,
           SUM(y.revenue_ytd)  AS revenue_ytd,
           SUM(y.revenue_prev) AS revenue_prev,
           CAST(SUM(CASE WHEN ce.credit_code IS NOT NULL THEN y.va_ytd_comparable END) AS DOUBLE) AS chain_va_cmp,
           SUM(CASE WHEN ce.credit_code IS NOT NULL THEN y.va_prev END)           AS chain_va_prev,
           CAST(SUM(CASE WHEN y.section = 'C' THEN y.va_ytd_comparable END) AS DOUBLE) AS mfg_va_cmp,
           SUM(CASE WHEN y.section = 'C' THEN y.va_prev END)                      AS mfg_va_prev
    FROM deflated y
    LEFT JOIN chain_enterprises ce ON ce.credit_code = y.credit_code
    GROUP BY y.period
)
SELECT s.period AS data_period,
       '1—' || CAST(CAST(substr(s.period, 6, 2) AS BIGINT) AS VARCHAR) || '月' AS period_label,
       s.enterprises,
       CASE WHEN s.va_cmp_n = s.enterprises
            THEN CAST(s.va_ytd AS DOUBLE) / NULLIF(s.va_cmp, 0) * 100 END AS ppi,
       (CAST(s.output_ytd AS DOUBLE) / NULLIF(CAST(s.output_prev AS DOUBLE), 0) - 1) * 100
           AS output_growth,
       -- an enterprise without any PPI makes every comparable growth of its period NULL
       CASE WHEN s.va_cmp_n = s.enterprises
            THEN (s.va_cmp / NULLIF(CAST(s.va_prev AS DOUBLE), 0) - 1) * 100 END
           AS va_growth,
       (CAST(s.revenue_ytd AS DOUBLE) / NULLIF(CAST(s.revenue_prev AS DOUBLE), 0) - 1) * 100
           AS revenue_growth,
       CASE WHEN s.va_cmp_n = s.enterprises
            THEN (s.chain_va_cmp / NULLIF(CAST(s.chain_va_prev AS DOUBLE), 0) - 1) * 100 END
           AS chain_va_growth,
       CASE WHEN s.va_cmp_n = s.enterprises
            THEN (s.mfg_va_cmp / NULLIF(CAST(s.mfg_va_prev AS DOUBLE), 0) - 1) * 100 END
           AS manufacturing_va_growth
FROM sums s
ORDER BY s.period
