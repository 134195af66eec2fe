-- description: 全市规上工业分行业大类增加值排名(前十)
-- grain: division
-- publish: public
-- top: 10
-- column rank BIGINT: 位次(按工业增加值从高到低;因保密隐去的行业排在最后,不排位次)
-- column division TEXT: 行业大类代码(GB/T 4754-2017 两位)
-- column enterprises BIGINT: 企业数(个)
-- column va_ytd DOUBLE: 工业增加值 本年累计(万元,当年价)
-- column va_growth DOUBLE: 工业增加值增速(%,可比价)
-- column va_share DOUBLE: 占全市规上工业增加值比重(%)
-- column suppressed BOOLEAN: 因统计数据保密隐去(由 src/disclosure 在发布前填写)
--
-- The worked example of sql/README.md: a report built on another model (jn101_cells). Every
-- division is ranked here; disclosure control hides the sensitive ones and then keeps the first
-- ten published (`-- top: 10`), so a hidden division never takes a place in the top ten.
SELECT
    CAST(ROW_NUMBER() OVER (ORDER BY c.va_ytd DESC, c.breakdown) AS BIGINT) AS rank,
    substr(c.breakdown, 10)                                                 AS division,
    c.enterprises                                                           AS enterprises,
    CAST(c.va_ytd AS DOUBLE)                                                AS va_ytd,
    c.va_growth                                                             AS va_growth,
    c.va_share                                                              AS va_share,
    FALSE                                                                   AS suppressed
FROM jn101_cells c
WHERE c.region_code = '370800'
  AND c.breakdown LIKE 'division:%'
ORDER BY rank
