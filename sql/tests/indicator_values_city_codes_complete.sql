-- model: indicator_values
-- severity: error
-- description: 全市(370800)发布了 INDICATORS.md 的每个指标代码(合计分组 _T,倍增指标按 target:<code>)
--
-- Codes are a public contract: dashboards rely on every one of them being there every month
-- (the value may be NULL when it cannot be computed, but the row is there).

WITH
expected_total AS (
    SELECT * FROM (VALUES
        -- JN101
        ('enterprises'), ('output_ytd'), ('output_growth'), ('va_ytd'), ('va_growth'), ('va_share'),
        ('revenue_ytd'), ('revenue_growth'), ('profit_ytd'), ('profit_growth'), ('profit_change'),
        ('export_ytd'), ('export_growth'), ('employees'), ('chain_masters'),
        -- JN102, each with its growth
        ('reported_enterprises'), ('reported_enterprises_growth'),
        ('high_tech_enterprises'), ('high_tech_enterprises_growth'),
        ('producer_services_revenue'), ('producer_services_revenue_growth'),
        ('trade_total'), ('trade_total_growth'),
        ('trade_export'), ('trade_export_growth'),
        ('trade_import'), ('trade_import_growth'),
        -- JN103
        ('appeals_received'), ('appeals_resolved'), ('appeals_resolution_rate'), ('chain_events'),
        ('coop_intents'), ('coop_agreements'), ('coop_amount'), ('young_talents'),
        ('tech_problems_solved'),
        -- JN104
        ('projects'), ('project_investment_total'), ('project_investment_done_year'),
        ('project_investment_done_cumulative')
    ) AS t(indicator)
),
doubling_targets AS (
    SELECT * FROM (VALUES
        ('industrial_scale'), ('enterprises'), ('high_tech_enterprises'),
        ('producer_services_revenue'), ('trade_total')
    ) AS t(target)
),
doubling_codes AS (
    SELECT * FROM (VALUES
        ('doubling_current'), ('doubling_base'), ('doubling_target'), ('doubling_progress'),
        ('doubling_required_growth'), ('doubling_required_growth_from_now'), ('doubling_growth')
    ) AS t(indicator)
),
expected AS (
    SELECT '_T' AS breakdown, indicator FROM expected_total
    UNION ALL
    SELECT 'target:' || t.target, c.indicator FROM doubling_targets t CROSS JOIN doubling_codes c
),
published AS (
    SELECT DISTINCT breakdown, indicator FROM indicator_values WHERE region_code = '370800'
)
SELECT e.breakdown, e.indicator
FROM expected e
LEFT JOIN published p ON p.breakdown = e.breakdown AND p.indicator = e.indicator
WHERE p.indicator IS NULL
ORDER BY e.breakdown, e.indicator
