-- description: 15条标志性产业链(全市):企业数、链主企业数、增加值及增速、营业收入、重点项目
-- grain: chain_id(参考数据 chains 中的每条产业链一行,没有企业的链也列出)
-- publish: public
-- column chain_id TEXT: 产业链代码
-- column name TEXT: 产业链名称
-- column cluster TEXT: 所属"232"产业集群
-- column enterprises BIGINT: 规上工业企业数(个)
-- column chain_masters BIGINT: 链主企业数(个)
-- column va_ytd DECIMAL(34,6): 工业增加值(万元,当年价)
-- column va_growth DOUBLE: 工业增加值增速(%,可比价)
-- column va_share DOUBLE: 占全市规上工业增加值比重(%)
-- column revenue_ytd DECIMAL(34,6): 营业收入(万元)
-- column revenue_growth DOUBLE: 营业收入增速(%)
-- column projects BIGINT: 重点项目数(个,JN104 按所属产业链名称匹配)
-- column project_investment DECIMAL(34,6): 重点项目总投资(万元)
-- column suppressed BOOLEAN: 增加值、营业收入因统计数据保密隐去(由 src/disclosure 在发布前填写)

WITH
city_chains AS (
    SELECT * FROM jn101_cells WHERE region_code = '370800' AND breakdown LIKE 'chain:%'
),
chain_projects AS (
    SELECT trim(chain) AS chain_name,
           COUNT(*) AS projects,
           SUM(total_investment) AS project_investment
    FROM jn104
    GROUP BY trim(chain)
)
SELECT ch.chain_id,
       ch.name,
       ch.cluster,
       COALESCE(c.enterprises, 0)   AS enterprises,
       COALESCE(c.chain_masters, 0) AS chain_masters,
       c.va_ytd,
       c.va_growth,
       c.va_share,
       c.revenue_ytd,
       c.revenue_growth,
       COALESCE(p.projects, 0)      AS projects,
       p.project_investment,
       FALSE AS suppressed
FROM chains ch
LEFT JOIN city_chains c ON c.breakdown = 'chain:' || ch.chain_id
LEFT JOIN chain_projects p ON p.chain_name = trim(ch.name)
ORDER BY ch.chain_id
