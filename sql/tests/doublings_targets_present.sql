-- model: doublings
-- severity: warning
-- description: 每个倍增指标都有基期值、目标值和当前值(targets 参考数据齐全)

SELECT indicator, base_value, target_value, current_value
FROM doublings
WHERE base_value IS NULL OR target_value IS NULL OR current_value IS NULL
ORDER BY seq
