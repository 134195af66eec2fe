-- model: indicator_values
-- severity: error
-- description: 可加总指标的全市数等于各县市区之和(按分组;容差 0.01 + 1e-9 × |全市数|)
--
-- The city figures are computed from all accepted rows together, never by adding up counties;
-- for additive measures the two must agree. Every row returned is a disagreement.

WITH
additive AS (
    SELECT * FROM (VALUES
        ('enterprises'), ('output_ytd'), ('va_ytd'), ('revenue_ytd'), ('profit_ytd'), ('export_ytd'),
        ('employees'), ('chain_masters'),
        ('reported_enterprises'), ('high_tech_enterprises'), ('producer_services_revenue'),
        ('trade_total'), ('trade_export'), ('trade_import'),
        ('appeals_received'), ('appeals_resolved'), ('chain_events'), ('coop_intents'),
        ('coop_agreements'), ('coop_amount'), ('young_talents'), ('tech_problems_solved'),
        ('projects'), ('project_investment_total'), ('project_investment_done_year'),
        ('project_investment_done_cumulative')
    ) AS t(indicator)
),
city AS (
    SELECT v.breakdown, v.indicator, v.value
    FROM indicator_values v
    JOIN additive a ON a.indicator = v.indicator
    WHERE v.region_code = '370800'
),
counties AS (
    SELECT v.breakdown, v.indicator, SUM(v.value) AS value, COUNT(*) AS counties
    FROM indicator_values v
    JOIN additive a ON a.indicator = v.indicator
    WHERE v.region_code <> '370800'
    GROUP BY v.breakdown, v.indicator
)
SELECT COALESCE(c.breakdown, k.breakdown) AS breakdown,
       COALESCE(c.indicator, k.indicator) AS indicator,
       c.value                            AS city_value,
       k.value                            AS counties_sum,
       k.counties                         AS counties
FROM city c
FULL OUTER JOIN counties k ON k.breakdown = c.breakdown AND k.indicator = c.indicator
WHERE abs(COALESCE(c.value, 0) - COALESCE(k.value, 0)) > 0.01 + 1e-9 * abs(COALESCE(c.value, 0))
ORDER BY breakdown, indicator
