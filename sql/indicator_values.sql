-- description: 发布用指标长表(INDICATORS.md):一行一个观测值,供看板使用
-- grain: region_code × breakdown × indicator
-- publish: public
-- column period TEXT: 报告期 YYYY-MM(1—M月累计)
-- column region_code TEXT: 地区代码(370800 为全市)
-- column breakdown TEXT: 分组(_T, section:*, division:*, chain:*, status:<项目状态>, target:<倍增指标>)
-- column indicator TEXT: 指标代码(见 INDICATORS.md)
-- column value DOUBLE: 数值(全精度,不四舍五入;不可计算时为 NULL)
-- column unit TEXT: 计量单位(万元, %, 个, 项, 次, 人, 百分点)
-- column status TEXT: A 正常;E 不完整(有县市区未报送该表或该表有未更正的强制性错误时的全市数,及该县市区自身的该表数据);C 保密(数值为 NULL,由 src/disclosure 在发布前按 config/disclosure.toml 判定)
--
-- Codes and formulas are a published contract: add new codes freely, never rename one.
-- JN101 formulas live in jn101_cells, JN102 sums in jn102_summary, the doublings in doublings.

WITH
-- ── JN101: every cell of jn101_cells, unpivoted ─────────────────────────────────────────────
jn101_catalogue AS (
    SELECT * FROM (VALUES
        ('enterprises',    '个'),
        ('output_ytd',     '万元'),
        ('output_growth',  '%'),
        ('va_ytd',         '万元'),
        ('va_growth',      '%'),
        ('va_share',       '%'),
        ('revenue_ytd',    '万元'),
        ('revenue_growth', '%'),
        ('profit_ytd',     '万元'),
        ('profit_growth',  '%'),
        ('profit_change',  '万元'),
        ('export_ytd',     '万元'),
        ('export_growth',  '%'),
        ('employees',      '人'),
        ('chain_masters',  '个')
    ) AS t(indicator, unit)
),
from_jn101 AS (
    SELECT c.region_code,
           c.breakdown,
           k.indicator,
           CASE k.indicator
               WHEN 'enterprises'    THEN CAST(c.enterprises AS DOUBLE)
               WHEN 'output_ytd'     THEN CAST(c.output_ytd AS DOUBLE)
               WHEN 'output_growth'  THEN c.output_growth
               WHEN 'va_ytd'         THEN CAST(c.va_ytd AS DOUBLE)
               WHEN 'va_growth'      THEN c.va_growth
               WHEN 'va_share'       THEN c.va_share
               WHEN 'revenue_ytd'    THEN CAST(c.revenue_ytd AS DOUBLE)
               WHEN 'revenue_growth' THEN c.revenue_growth
               WHEN 'profit_ytd'     THEN CAST(c.profit_ytd AS DOUBLE)
               WHEN 'profit_growth'  THEN c.profit_growth
               WHEN 'profit_change'  THEN CAST(c.profit_change AS DOUBLE)
               WHEN 'export_ytd'     THEN CAST(c.export_ytd AS DOUBLE)
               WHEN 'export_growth'  THEN c.export_growth
               WHEN 'employees'      THEN CAST(c.employees AS DOUBLE)
               WHEN 'chain_masters'  THEN CAST(c.chain_masters AS DOUBLE)
           END AS value,
           k.unit,
           'JN101' AS form
    -- the small table first: a cross join repeats each row of its first table (sql/README.md)
    FROM jn101_catalogue k
    CROSS JOIN jn101_cells c
    -- chain masters are published for _T and the chain breakdowns only
    WHERE k.indicator <> 'chain_masters'
       OR c.breakdown = '_T'
       OR c.breakdown LIKE 'chain:%'
),

-- ── JN102: each item and its growth, breakdown _T ────────────────────────────────────────────
from_jn102 AS (
    SELECT region_code, '_T' AS breakdown, item AS indicator,
           CAST(value_ytd AS DOUBLE) AS value, unit, 'JN102' AS form
    FROM jn102_summary
    UNION ALL
    SELECT region_code, '_T', item || '_growth', growth, '%', 'JN102'
    FROM jn102_summary
),

-- ── JN103: cumulative counts and amounts, plus the appeals resolution rate ───────────────────
jn103_catalogue AS (
    SELECT * FROM (VALUES
        ('appeals_received',     '项'),
        ('appeals_resolved',     '项'),
        ('chain_events',         '次'),
        ('coop_intents',         '项'),
        ('coop_agreements',      '项'),
        ('coop_amount',          '万元'),
        ('young_talents',        '人'),
        ('tech_problems_solved', '项')
    ) AS t(item, unit)
),
jn103_sums AS (
    SELECT region_code, item, SUM(value_ytd) AS value_ytd
    FROM (
        SELECT region_code, item, value_ytd FROM jn103
        UNION ALL
        SELECT '370800' AS region_code, item, value_ytd FROM jn103
    ) scoped
    GROUP BY region_code, item
),
from_jn103 AS (
    SELECT s.region_code, '_T' AS breakdown, s.item AS indicator,
           CAST(s.value_ytd AS DOUBLE) AS value, k.unit, 'JN103' AS form
    FROM jn103_sums s
    JOIN jn103_catalogue k ON k.item = s.item
    UNION ALL
    -- 诉求解决率 = 办结 / 受理 × 100
    SELECT region_code, '_T', 'appeals_resolution_rate',
           CAST(SUM(CASE WHEN item = 'appeals_resolved' THEN value_ytd END) AS DOUBLE)
             / NULLIF(CAST(SUM(CASE WHEN item = 'appeals_received' THEN value_ytd END) AS DOUBLE), 0)
             * 100,
           '%', 'JN103'
    FROM jn103_sums
    GROUP BY region_code
),

-- ── JN104: project counts (total and by status) and investment ───────────────────────────────
jn104_scoped AS (
    SELECT region_code, status, total_investment, done_this_year, done_cumulative FROM jn104
    UNION ALL
    SELECT '370800' AS region_code, status, total_investment, done_this_year, done_cumulative FROM jn104
),
-- The statuses of FORMS.md are always published (0 when none), plus any other status reported.
project_statuses AS (
    SELECT status FROM (VALUES ('谋划'), ('在建'), ('竣工'), ('投产'), ('达产')) AS t(status)
    UNION
    SELECT DISTINCT status FROM jn104 WHERE status IS NOT NULL
),
from_jn104 AS (
    SELECT region_code, '_T' AS breakdown, 'projects' AS indicator,
           CAST(COUNT(*) AS DOUBLE) AS value, '个' AS unit, 'JN104' AS form
    FROM jn104_scoped
    GROUP BY region_code
    UNION ALL
    SELECT region_code, '_T', 'project_investment_total',
           CAST(SUM(total_investment) AS DOUBLE), '万元', 'JN104'
    FROM jn104_scoped
    GROUP BY region_code
    UNION ALL
    SELECT region_code, '_T', 'project_investment_done_year',
           CAST(SUM(done_this_year) AS DOUBLE), '万元', 'JN104'
    FROM jn104_scoped
    GROUP BY region_code
    UNION ALL
    SELECT region_code, '_T', 'project_investment_done_cumulative',
           CAST(SUM(done_cumulative) AS DOUBLE), '万元', 'JN104'
    FROM jn104_scoped
    GROUP BY region_code
    UNION ALL
    SELECT r.region_code, 'status:' || s.status, 'projects',
           CAST(COUNT(j.status) AS DOUBLE), '个', 'JN104'
    FROM project_statuses s
    CROSS JOIN (SELECT DISTINCT region_code FROM jn104_scoped) r
    LEFT JOIN jn104_scoped j ON j.region_code = r.region_code AND j.status = s.status
    GROUP BY r.region_code, s.status
),

-- ── The five doublings: city only, breakdown target:<code> ───────────────────────────────────
from_doublings AS (
    SELECT '370800' AS region_code, 'target:' || indicator AS breakdown,
           'doubling_current' AS indicator, current_value AS value, unit, source_form AS form
    FROM doublings
    UNION ALL
    SELECT '370800', 'target:' || indicator, 'doubling_base', base_value, unit, source_form
    FROM doublings
    UNION ALL
    SELECT '370800', 'target:' || indicator, 'doubling_target', target_value, unit, source_form
    FROM doublings
    UNION ALL
    SELECT '370800', 'target:' || indicator, 'doubling_progress', progress, '%', source_form
    FROM doublings
    UNION ALL
    SELECT '370800', 'target:' || indicator, 'doubling_required_growth', required_growth, '%', source_form
    FROM doublings
    UNION ALL
    SELECT '370800', 'target:' || indicator, 'doubling_required_growth_from_now', required_growth_from_now, '%',
           source_form
    FROM doublings
    UNION ALL
    SELECT '370800', 'target:' || indicator, 'doubling_growth', growth, '%', source_form
    FROM doublings
),

computed AS (
    SELECT * FROM from_jn101
    UNION ALL SELECT * FROM from_jn102
    UNION ALL SELECT * FROM from_jn103
    UNION ALL SELECT * FROM from_jn104
    UNION ALL SELECT * FROM from_doublings
),

-- ── Every city code every month, even when no county sent its form ───────────────────────────
-- A form missing from every return gives no rows above; its city codes are still published, with
-- a NULL value (and status E below, as no county submitted it), so that the other forms' figures
-- are published as usual.
city_codes AS (
    SELECT indicator, unit, 'JN101' AS form FROM jn101_catalogue
    UNION ALL
    SELECT * FROM (VALUES
        ('reported_enterprises', '个', 'JN102'), ('reported_enterprises_growth', '%', 'JN102'),
        ('high_tech_enterprises', '个', 'JN102'), ('high_tech_enterprises_growth', '%', 'JN102'),
        ('producer_services_revenue', '万元', 'JN102'), ('producer_services_revenue_growth', '%', 'JN102'),
        ('trade_total', '万元', 'JN102'), ('trade_total_growth', '%', 'JN102'),
        ('trade_export', '万元', 'JN102'), ('trade_export_growth', '%', 'JN102'),
        ('trade_import', '万元', 'JN102'), ('trade_import_growth', '%', 'JN102'),
        ('appeals_resolution_rate', '%', 'JN103'),
        ('projects', '个', 'JN104'), ('project_investment_total', '万元', 'JN104'),
        ('project_investment_done_year', '万元', 'JN104'), ('project_investment_done_cumulative', '万元', 'JN104')
    ) AS t(indicator, unit, form)
    UNION ALL
    SELECT item, unit, 'JN103' FROM jn103_catalogue
),
all_values AS (
    SELECT * FROM computed
    UNION ALL
    SELECT '370800', '_T', c.indicator, CAST(NULL AS DOUBLE), c.unit, c.form
    FROM city_codes c
    LEFT JOIN (SELECT DISTINCT indicator FROM computed WHERE region_code = '370800' AND breakdown = '_T') d
           ON d.indicator = c.indicator
    WHERE d.indicator IS NULL
),

-- ── Status: E where a county's return of that form is missing or has unresolved errors ────────
-- A city figure of a form is incomplete when any county did not submit that form or had rows of
-- it quarantined (强制性 errors not yet corrected); that county's own figures of the form too.
missing_forms AS (
    SELECT region_code, upper(form) AS form
    FROM submissions
    WHERE NOT COALESCE(submitted, false) OR quarantined_rows > 0
),
estimated AS (
    SELECT region_code, form FROM missing_forms
    UNION
    SELECT '370800' AS region_code, form FROM missing_forms
)
SELECT p.period,
       v.region_code,
       v.breakdown,
       v.indicator,
       v.value,
       v.unit,
       CASE WHEN e.form IS NULL THEN 'A' ELSE 'E' END AS status
FROM params p
CROSS JOIN all_values v
LEFT JOIN estimated e ON e.region_code = v.region_code AND e.form = v.form
ORDER BY v.region_code, v.breakdown, v.indicator
