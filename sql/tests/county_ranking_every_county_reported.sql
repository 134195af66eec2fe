-- model: county_ranking
-- severity: warning
-- description: 每个县市区本期都有审核通过的 JN101 企业(否则排名不完整)

SELECT region_code, name
FROM county_ranking
WHERE NOT reported
ORDER BY region_code
