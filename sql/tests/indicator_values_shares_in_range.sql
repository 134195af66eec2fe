-- model: indicator_values
-- severity: error
-- description: 比重与比率在 0 到 100 之间(增加值比重 va_share、诉求解决率 appeals_resolution_rate)

SELECT region_code, breakdown, indicator, value
FROM indicator_values
WHERE indicator IN ('va_share', 'appeals_resolution_rate')
  AND (value < 0 OR value > 100 OR isnan(value))
ORDER BY region_code, breakdown, indicator
