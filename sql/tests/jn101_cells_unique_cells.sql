-- model: jn101_cells
-- severity: error
-- description: 每个 (region_code, breakdown) 只有一行,且企业数为正

SELECT region_code, breakdown, COUNT(*) AS rows_with_key, MIN(enterprises) AS enterprises
FROM jn101_cells
GROUP BY region_code, breakdown
HAVING COUNT(*) > 1 OR MIN(enterprises) <= 0
ORDER BY region_code, breakdown
