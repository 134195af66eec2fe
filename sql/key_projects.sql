-- description: 重点项目(本期 JN104),按总投资取前 10 个
-- grain: project(前 10 名;项目按状态的个数见发布长表 projects / status:*)
-- publish: public
-- column rank_no BIGINT: 按总投资排序的序号
-- column region_code TEXT: 县市区代码
-- column region_name TEXT: 县市区名称
-- column region_short TEXT: 县市区简称
-- column project_name TEXT: 项目名称(县区填报)
-- column project_code TEXT: 项目代码
-- column chain_name TEXT: 所属产业链(县区填报的名称)
-- column chain_id TEXT: 产业链代码(按名称匹配 chains;匹配不上为 NULL)
-- column cluster TEXT: 所属产业集群
-- column total_investment DECIMAL(24,6): 总投资(万元)
-- column planned_this_year DECIMAL(24,6): 本年计划投资(万元)
-- column done_this_year DECIMAL(24,6): 本年完成投资(万元)
-- column done_cumulative DECIMAL(24,6): 累计完成投资(万元)
-- column year_plan_done_pct DOUBLE: 本年计划完成率(%),计划为 0 时 NULL
-- column progress_pct DOUBLE: 形象进度(%)
-- column status TEXT: 项目状态
-- column planned_start TEXT: 计划投产时间(YYYY-MM)

WITH
ranked AS (
    SELECT j.*,
           ROW_NUMBER() OVER (
               ORDER BY j.total_investment DESC, j.region_code, j.project_name, j.project_code
           ) AS pos_no
    FROM jn104 j
)
SELECT CAST(k.pos_no AS BIGINT) AS rank_no,
       k.region_code,
       r.name        AS region_name,
       r.short_name  AS region_short,
       k.project_name,
       k.project_code,
       k.chain       AS chain_name,
       ch.chain_id,
       ch.cluster,
       k.total_investment,
       k.planned_this_year,
       k.done_this_year,
       k.done_cumulative,
       CAST(k.done_this_year AS DOUBLE) / NULLIF(CAST(k.planned_this_year AS DOUBLE), 0) * 100
           AS year_plan_done_pct,
       k.progress_pct,
       k.status,
       k.planned_start
FROM ranked k
LEFT JOIN regions r ON r.code = k.region_code
LEFT JOIN chains ch ON trim(ch.name) = trim(k.chain)
WHERE k.pos_no <= 10
ORDER BY k.pos_no
