-- description: 规上工业分组汇总(按地区、分组):企业数、各项指标本年累计与上年同期合计、增速、占比
-- grain: region_code × breakdown
-- column region_code TEXT: 地区代码(370800 为全市,由全部县市区的审核通过企业直接汇总)
-- column breakdown TEXT: 分组(_T 合计; section:B/C/D 门类; division:NN 大类; chain:<chain_id> 产业链; chain:_ALL 任一产业链,企业只计一次)
-- column enterprises BIGINT: 企业数(个)
-- column output_ytd DECIMAL(34,6): 工业总产值 本年累计(万元)
-- column output_prev DECIMAL(34,6): 工业总产值 上年同期(万元)
-- column va_ytd DECIMAL(34,6): 工业增加值 本年累计(万元,当年价)
-- column va_prev DECIMAL(34,6): 工业增加值 上年同期(万元)
-- column revenue_ytd DECIMAL(34,6): 营业收入 本年累计(万元)
-- column revenue_prev DECIMAL(34,6): 营业收入 上年同期(万元)
-- column profit_ytd DECIMAL(34,6): 利润总额 本年累计(万元)
-- column profit_prev DECIMAL(34,6): 利润总额 上年同期(万元)
-- column export_ytd DECIMAL(34,6): 出口交货值 本年累计(万元)
-- column export_prev DECIMAL(34,6): 出口交货值 上年同期(万元)
-- column employees BIGINT: 期末从业人员(人)
-- column chain_masters BIGINT: 链主企业数(个):_T 与 chain:_ALL 为任一产业链链主(每家只计一次),chain:<id> 为该链链主;门类、大类不适用,为 NULL
-- column ppi DOUBLE: 本格隐含价格指数(上年同期=100):Σ增加值本年累计 / Σ(各企业增加值按其行业大类 PPI 缩减后之和) × 100;有企业缺 PPI 时 NULL
-- column va_ytd_comparable DOUBLE: 工业增加值 本年累计按可比价(万元):Σ 各企业增加值 / (其行业大类 PPI / 100),大类无 PPI 的用全行业(_T)指数;有企业缺 PPI 时 NULL
-- column output_growth DOUBLE: 工业总产值增速(%),上年同期为 0 时 NULL
-- column va_growth DOUBLE: 工业增加值增速(%,可比价:各企业本年累计按其行业大类 PPI 缩减后汇总),上年同期为 0 或有企业缺 PPI 时 NULL
-- column va_share DOUBLE: 增加值占本地区规上工业增加值比重(%,当年价)
-- column revenue_growth DOUBLE: 营业收入增速(%)
-- column profit_growth DOUBLE: 利润总额增速(%):(本年 / 上年 − 1) × 100,仅当上年同期利润总额为正;上年为 0 或亏损时 NULL(公报写扭亏为盈、减亏、增亏)
-- column profit_change DECIMAL(34,6): 利润总额增减额(万元):本年累计 − 上年同期
-- column export_growth DOUBLE: 出口交货值增速(%),上年同期为 0 时 NULL
--
-- The one place where the JN101 formulas of INDICATORS.md live; the long indicator table, the
-- county ranking and the chain summary all read this model.
-- Assumes the runner's jn101 holds exactly one accepted row per (region_code, credit_code) for the
-- period (audit rules E07/E08 quarantine duplicates; a resubmission replaces the earlier return).

WITH
-- Chain membership, cleaned: one row per enterprise × chain, only the chains of the reference
-- list, master flag 1/0.
member_flags AS (
    SELECT upper(trim(m.credit_code)) AS credit_code,
           m.chain_id,
           MAX(CASE WHEN m.is_chain_master = 1 THEN 1 ELSE 0 END) AS is_master
    FROM chain_members m
    JOIN chains c ON c.chain_id = m.chain_id
    GROUP BY upper(trim(m.credit_code)), m.chain_id
),
-- Per enterprise: in any chain at all, and master of any chain.
member_any AS (
    SELECT credit_code, MAX(is_master) AS is_master_any
    FROM member_flags
    GROUP BY credit_code
),
-- PPI of each division for the reporting period (same period last year = 100); `_T` is the
-- all-industry index.
period_ppi AS (
    SELECT p.division, MAX(p."index") AS ppi
    FROM ppi p
    JOIN params ON p.period = params.period
    GROUP BY p.division
),
-- One row per accepted enterprise with what its cells add up: its own figures, its chain flags,
-- and its value added at comparable prices (INDICATORS.md, va_growth): deflated by its
-- division's PPI, else the all-industry one; NULL when neither exists for the period. The small
-- tables come first in each join, so that the query engine holds them, not the period's rows
-- (national: half a million), in its hash tables.
enterprises AS (
    SELECT j.region_code, j.credit_code, j.section, j.division,
           j.output_ytd, j.output_prev, j.va_ytd, j.va_prev, j.revenue_ytd, j.revenue_prev,
           j.profit_ytd, j.profit_prev, j.export_ytd, j.export_prev, j.employees,
           -- NULL when the enterprise is in no chain
           a.is_master_any,
           -- fixed-point per enterprise, so that the sums below are exact whatever order the
           -- partitions add them in (a float sum is not: outputs must be byte-identical)
           CAST(CAST(j.va_ytd AS DOUBLE) / (COALESCE(d.ppi, t.ppi) / 100) AS DECIMAL(38, 10)) AS va_ytd_comparable
    FROM member_any a
    RIGHT JOIN (
        period_ppi t
        RIGHT JOIN (period_ppi d RIGHT JOIN jn101 j ON d.division = j.division) ON t.division = '_T'
    ) ON a.credit_code = j.credit_code
    -- (a row without either key would match no cell)
    WHERE j.region_code IS NOT NULL AND j.credit_code IS NOT NULL
),
-- Every cell an enterprise belongs to (within its own county), with its figures. master_flag
-- counts towards chain_masters; it is NULL where chain masters are not defined (section,
-- division). The total, section, division and any-chain cells come from one pass over the
-- enterprises (each row once per kind of cell it is in), the chains from their members: the
-- query engine inlines `enterprises` wherever it is named, reading the period's rows again each
-- time.
cell_kinds AS (
    SELECT * FROM (VALUES (0), (1), (2), (3)) AS k(kind)
),
enterprise_cells AS (
    SELECT e.*,
           CASE k.kind WHEN 0 THEN '_T'
                       WHEN 1 THEN 'section:' || e.section
                       WHEN 2 THEN 'division:' || e.division
                       ELSE 'chain:_ALL' END AS breakdown,
           CASE k.kind WHEN 0 THEN COALESCE(e.is_master_any, 0)
                       WHEN 3 THEN CAST(e.is_master_any AS BIGINT) END AS master_flag
    -- the small table first: a cross join repeats each row of its first table (sql/README.md)
    FROM cell_kinds k
    CROSS JOIN enterprises e
    WHERE k.kind = 0
       OR (k.kind = 1 AND e.section IS NOT NULL)
       OR (k.kind = 2 AND e.division IS NOT NULL)
       OR (k.kind = 3 AND e.is_master_any IS NOT NULL)
    UNION ALL
    SELECT e.*, 'chain:' || f.chain_id, CAST(f.is_master AS BIGINT)
    FROM member_flags f
    JOIN enterprises e ON f.credit_code = e.credit_code
),
-- Exact sums (Decimal) per scope × breakdown, in one pass: each county's rows count for the
-- county itself and for the city (370800, the grouping set without the region).
sums AS (
    SELECT CASE WHEN GROUPING(region_code) = 1 THEN '370800' ELSE region_code END AS region_code,
           breakdown, COUNT(*) AS enterprises,
           SUM(output_ytd) AS output_ytd, SUM(output_prev) AS output_prev,
           SUM(va_ytd) AS va_ytd, SUM(va_prev) AS va_prev,
           SUM(revenue_ytd) AS revenue_ytd, SUM(revenue_prev) AS revenue_prev,
           SUM(profit_ytd) AS profit_ytd, SUM(profit_prev) AS profit_prev,
           SUM(export_ytd) AS export_ytd, SUM(export_prev) AS export_prev,
           SUM(employees) AS employees, SUM(master_flag) AS chain_masters,
           SUM(va_ytd_comparable) AS va_ytd_comparable, COUNT(va_ytd_comparable) AS deflated_enterprises
    FROM enterprise_cells
    GROUP BY GROUPING SETS ((region_code, breakdown), (breakdown))
),
-- The comparable value added, only where every enterprise of the cell could be deflated; and the
-- region's total value added (its `_T` cell), for the shares.
cells AS (
    SELECT s.*,
           CAST(CASE WHEN deflated_enterprises = enterprises THEN va_ytd_comparable END AS DOUBLE)
               AS va_ytd_comparable_all,
           MAX(CASE WHEN breakdown = '_T' THEN va_ytd END) OVER (PARTITION BY region_code) AS region_va_ytd
    FROM sums s
)
SELECT s.region_code,
       s.breakdown,
       s.enterprises,
       s.output_ytd, s.output_prev,
       s.va_ytd, s.va_prev,
       s.revenue_ytd, s.revenue_prev,
       s.profit_ytd, s.profit_prev,
       s.export_ytd, s.export_prev,
       s.employees,
       s.chain_masters,
       CAST(s.va_ytd AS DOUBLE) / NULLIF(s.va_ytd_comparable_all, 0) * 100 AS ppi,
       s.va_ytd_comparable_all AS va_ytd_comparable,
       -- growth = (Σ本年累计 / Σ上年同期 − 1) × 100; NULLIF makes a zero denominator NULL
       (CAST(s.output_ytd AS DOUBLE) / NULLIF(CAST(s.output_prev AS DOUBLE), 0) - 1) * 100
           AS output_growth,
       -- comparable prices: this year's value added deflated enterprise by enterprise (see `enterprises`)
       (s.va_ytd_comparable_all / NULLIF(CAST(s.va_prev AS DOUBLE), 0) - 1) * 100
           AS va_growth,
       CAST(s.va_ytd AS DOUBLE) / NULLIF(CAST(s.region_va_ytd AS DOUBLE), 0) * 100
           AS va_share,
       (CAST(s.revenue_ytd AS DOUBLE) / NULLIF(CAST(s.revenue_prev AS DOUBLE), 0) - 1) * 100
           AS revenue_growth,
       -- a rate only on a positive base: on a loss base it misleads (the bulletin words the change)
       CASE WHEN s.profit_prev > 0
            THEN (CAST(s.profit_ytd AS DOUBLE) / CAST(s.profit_prev AS DOUBLE) - 1) * 100
       END AS profit_growth,
       CAST(s.profit_ytd - s.profit_prev AS DECIMAL(34, 6)) AS profit_change,
       (CAST(s.export_ytd AS DOUBLE) / NULLIF(CAST(s.export_prev AS DOUBLE), 0) - 1) * 100
           AS export_growth
FROM cells s
ORDER BY s.region_code, s.breakdown
