-- description: 县市区规上工业主要指标,按增加值增速(可比价)排序
-- grain: region_code(每个县市区一行,未报送或无审核通过企业的也列出,位次为 NULL)
-- publish: public
-- column rank_no BIGINT: 增加值增速位次(1 为最高;按公布的增速即保留一位小数后排位,公布值相同者并列同位次;无增速为 NULL)
-- column region_code TEXT: 县市区代码
-- column name TEXT: 县市区名称
-- column short_name TEXT: 简称
-- column reported BOOLEAN: 本期有审核通过的 JN101 企业
-- column enterprises BIGINT: 规上工业企业数(个)
-- column va_ytd DECIMAL(34,6): 工业增加值(万元,当年价)
-- column va_growth DOUBLE: 工业增加值增速(%,可比价)
-- column va_share_city DOUBLE: 占全市规上工业增加值比重(%)
-- column output_ytd DECIMAL(34,6): 工业总产值(万元)
-- column output_growth DOUBLE: 工业总产值增速(%)
-- column revenue_ytd DECIMAL(34,6): 营业收入(万元)
-- column revenue_growth DOUBLE: 营业收入增速(%)
-- column profit_ytd DECIMAL(34,6): 利润总额(万元)
-- column profit_growth DOUBLE: 利润总额增速(%)
-- column suppressed BOOLEAN: 增加值因统计数据保密隐去(不排位次;其他指标为 NULL 的亦因保密隐去;由 src/disclosure 在发布前填写)

WITH
county_totals AS (
    SELECT * FROM jn101_cells WHERE breakdown = '_T' AND region_code <> '370800'
),
city_total AS (
    SELECT MAX(CAST(va_ytd AS DOUBLE)) AS va_ytd
    FROM jn101_cells
    WHERE breakdown = '_T' AND region_code = '370800'
),
ranked AS (
    SELECT r.code AS region_code,
           r.name,
           r.short_name,
           c.region_code IS NOT NULL AS reported,
           COALESCE(c.enterprises, 0) AS enterprises,
           c.va_ytd,
           c.va_growth,
           CAST(c.va_ytd AS DOUBLE) / NULLIF(t.va_ytd, 0) * 100 AS va_share_city,
           c.output_ytd,
           c.output_growth,
           c.revenue_ytd,
           c.revenue_growth,
           c.profit_ytd,
           c.profit_growth,
           -- ranked on the published (one decimal) rate, so that counties printed with the same
           -- rate share a position; counties without a growth rate sort last and get no position
           RANK() OVER (ORDER BY round(c.va_growth, 1) DESC NULLS LAST) AS raw_rank
    FROM city_total t
    CROSS JOIN regions r
    LEFT JOIN county_totals c ON c.region_code = r.code
    WHERE r.code <> '370800'
)
SELECT CAST(CASE WHEN va_growth IS NOT NULL THEN raw_rank END AS BIGINT) AS rank_no,
       region_code, name, short_name, reported, enterprises,
       va_ytd, va_growth, va_share_city,
       output_ytd, output_growth,
       revenue_ytd, revenue_growth,
       profit_ytd, profit_growth,
       FALSE AS suppressed
FROM ranked
ORDER BY raw_rank, va_growth DESC, region_code
