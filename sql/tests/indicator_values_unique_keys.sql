-- model: indicator_values
-- severity: error
-- description: 键唯一:每个 (period, region_code, breakdown, indicator) 只有一行

SELECT period, region_code, breakdown, indicator, COUNT(*) AS rows_with_key
FROM indicator_values
GROUP BY period, region_code, breakdown, indicator
HAVING COUNT(*) > 1
ORDER BY period, region_code, breakdown, indicator
