-- model: trend
-- severity: error
-- description: 走势每个报告期一行,且以本期结束

WITH
dup AS (
    SELECT data_period, COUNT(*) AS n FROM trend GROUP BY data_period HAVING COUNT(*) > 1
),
last_period AS (
    SELECT MAX(data_period) AS data_period FROM trend
)
SELECT d.data_period, 'duplicate period' AS problem FROM dup d
UNION ALL
SELECT l.data_period, 'does not end with the period being built (' || p.period || ')'
FROM last_period l
CROSS JOIN params p
WHERE l.data_period IS DISTINCT FROM p.period
