//! The data dictionary (`<out>/docs/data_dictionary.md`) and the last build of each table.
//!
//! Every published table with each column, its type and meaning, and the lineage of every model
//! down to the return forms. Built from the form definitions, the model headers and (for the
//! audit tables) the published Parquet schemas; deterministic: no dates in it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Result;
use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Schema};

use super::Model;
use crate::forms::{FormDef, Forms, Layout};

/// One published partition of a table: `period=YYYY-MM` and when its files were last written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    pub period: String,
    pub modified: SystemTime,
}

/// The `period=` partitions of `<warehouse>/<table>`, by period (empty when never built).
pub fn builds(warehouse: &Path, table: &str) -> Vec<Build> {
    let Ok(rd) = std::fs::read_dir(warehouse.join(table)) else { return Vec::new() };
    let mut out: Vec<Build> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let period = name.strip_prefix("period=")?.to_string();
            let modified = newest_file(&e.path())?;
            Some(Build { period, modified })
        })
        .collect();
    out.sort_by(|a, b| a.period.cmp(&b.period));
    out
}

/// Modification time of the newest Parquet file below `dir`.
fn newest_file(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    for e in std::fs::read_dir(dir).ok()?.filter_map(|e| e.ok()) {
        let p = e.path();
        let t = if p.is_dir() {
            newest_file(&p)
        } else if p.extension().is_some_and(|x| x == "parquet") {
            e.metadata().ok().and_then(|m| m.modified().ok())
        } else {
            None
        };
        newest = newest.max(t);
    }
    newest
}

/// The most recently written build of a table (by file time), if any.
pub fn last_build(warehouse: &Path, table: &str) -> Option<Build> {
    builds(warehouse, table).into_iter().max_by_key(|b| b.modified)
}

/// `TEXT`, `BIGINT`, `DOUBLE`, `DECIMAL(p,s)`, `BOOLEAN`: the names model headers use.
pub fn sql_type(dt: &DataType) -> String {
    match dt {
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => "TEXT".into(),
        DataType::Int64 => "BIGINT".into(),
        DataType::Int32 => "INT".into(),
        DataType::Float64 => "DOUBLE".into(),
        DataType::Float32 => "FLOAT".into(),
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Decimal128(p, s) => format!("DECIMAL({p},{s})"),
        other => other.to_string(),
    }
}

/// A column as the dictionary shows it.
struct Col {
    name: String,
    ty: String,
    meaning: String,
}

/// Columns the runner adds to every form table.
fn form_extra_meaning(name: &str) -> Option<&'static str> {
    Some(match name {
        "period" => "报告期 YYYY-MM(1—M月累计);Hive 分区目录 `period=`,不在文件内",
        "region_code" => "县市区代码(FORMS.md);也是分区目录 `region=`",
        "item" => "指标代码(固定行,见下)",
        "division" => "行业大类代码(行业代码前两位)",
        "section" => "门类:B 采矿业 / C 制造业 / D 电力、热力、燃气及水生产和供应业",
        "_source_file" => "来源文件名",
        "_source_sha256" => "来源文件的 SHA-256",
        "_source_sheet" => "来源工作表",
        "_source_row" => "来源 Excel 行号(从 1 起)",
        "_row_key" => "输入行唯一键(文件哈希:工作表:行)",
        _ => return None,
    })
}

/// (table, what it holds, its columns as (name, type, meaning)).
type TableCatalogue = (&'static str, &'static str, &'static [(&'static str, &'static str, &'static str)]);

/// The audit tables: column meanings (the types come from the published files when present).
const AUDIT_TABLES: &[TableCatalogue] = &[
    (
        "quarantine",
        "隔离行:被强制性审核规则(或整表拒收)拦下的输入行,保留原始值",
        &[
            ("region_code", "TEXT", "县市区代码"),
            ("form", "TEXT", "表号(JN101 …)"),
            ("_row_key", "TEXT", "输入行唯一键"),
            ("_source_file", "TEXT", "来源文件名"),
            ("_source_sha256", "TEXT", "来源文件的 SHA-256"),
            ("_source_sheet", "TEXT", "来源工作表"),
            ("_source_row", "BIGINT", "来源 Excel 行号"),
            ("rule_ids", "TEXT", "触发的规则编号(多个以分号分隔)"),
            ("messages", "TEXT", "中文说明"),
            ("row_json", "TEXT", "该行全部原始值(JSON:字段 → 文本)"),
        ],
    ),
    (
        "findings",
        "审核发现:每条规则在每个单元格/行上的结果(强制性与核实性)",
        &[
            ("run_id", "TEXT", "构建编号(该报告期所依赖的全部输入的哈希,同样的输入得到同样的编号)"),
            ("region_code", "TEXT", "县市区代码"),
            ("form", "TEXT", "表号"),
            ("file", "TEXT", "文件名"),
            ("sha256", "TEXT", "文件的 SHA-256"),
            ("sheet", "TEXT", "工作表"),
            ("row", "BIGINT", "Excel 行号"),
            ("cell", "TEXT", "单元格(如 F12)"),
            ("_row_key", "TEXT", "输入行唯一键"),
            ("rule_id", "TEXT", "规则编号(JN101-E01 …,INGEST-*)"),
            ("severity", "TEXT", "error 强制性 / warning 核实性"),
            ("observed", "TEXT", "观测到的值"),
            ("message", "TEXT", "中文说明"),
            ("explained", "BOOLEAN", "核实性问题已在备注中说明"),
        ],
    ),
    (
        "sources",
        "读入的每个工作表:文件、哈希、列对应关系、状态",
        &[
            ("region_code", "TEXT", "县市区代码"),
            ("form", "TEXT", "表号"),
            ("file", "TEXT", "文件名"),
            ("sha256", "TEXT", "文件的 SHA-256"),
            ("sheet", "TEXT", "工作表"),
            ("rows", "BIGINT", "数据行数"),
            ("column_map", "TEXT", "字段所在列(credit_code=A; name=B; …)"),
            ("status", "TEXT", "used 采用 / refused 拒收 / superseded 被替代"),
            ("superseded_by", "TEXT", "替代它的文件"),
        ],
    ),
    (
        "audit_summary",
        "每条审核规则在每个县市区(370800 为全市合计)的执行情况:检查、通过、未通过、无法判断的行数",
        &[
            ("rule_id", "TEXT", "规则编号"),
            ("form", "TEXT", "表号"),
            ("severity", "TEXT", "error / warning"),
            ("region_code", "TEXT", "县市区代码(370800 = 全部县市区)"),
            ("checked", "BIGINT", "检查的行数"),
            ("passed", "BIGINT", "通过的行数"),
            ("failed", "BIGINT", "未通过的行数"),
            ("not_evaluable", "BIGINT", "无法判断的行数(值为空,或规则无法执行)"),
            ("error", "TEXT", "规则无法执行的原因"),
        ],
    ),
    (
        "disclosure_report",
        "统计数据保密的内部报告(不发布):每个隐去的数据格 × 指标,其原因、真实值、保护要求,以及入侵者审计(线性规划)据全部公开表可推算出的区间",
        &[
            ("region_code", "TEXT", "地区代码"),
            ("breakdown", "TEXT", "分组"),
            ("variable", "TEXT", "指标(output, va, revenue, profit, export, employees)"),
            ("reason", "TEXT", "frequency 频数 / dominance 支配 / p_percent p% 规则 / secondary 连带隐去"),
            ("value", "DOUBLE", "真实值(内部)"),
            ("requirement", "DOUBLE", "保护要求:推算区间在真实值两侧须至少留出的数额(连带隐去的格为 NULL)"),
            ("lower", "DOUBLE", "可推算区间下限(NULL 为无下限)"),
            ("upper", "DOUBLE", "可推算区间上限(NULL 为无上限)"),
            ("sufficient", "BOOLEAN", "区间满足保护要求"),
        ],
    ),
    (
        "disclosure_cost",
        "统计数据保密的内部报告(不发布):连带隐去损失的数值。每个指标的每个连通部分(经可加关系相连的隐去数据格)一行:其连带隐去格的数值合计,以及是否已证明为损失最小",
        &[
            ("variable", "TEXT", "指标(output, va, revenue, profit, export, employees)"),
            ("region_code", "TEXT", "该部分首个数据格(按代码排序)的地区代码,用以指称该部分"),
            ("breakdown", "TEXT", "该部分首个数据格的分组"),
            ("hidden_cells", "BIGINT", "该部分隐去的数据格数"),
            ("sensitive_cells", "BIGINT", "其中需保密(首次隐去)的格数"),
            ("complements", "BIGINT", "其中连带隐去的格数"),
            ("value_lost", "DOUBLE", "连带隐去格的数值(绝对值)合计"),
            (
                "optimality",
                "TEXT",
                "proven 已证明损失最小(在其他部分不变时) / irredundant 无一连带隐去格可单独公布 / greedy 按贪心选择原样保留(其中有保护要求为 0 而无法变动的格,未作释放)",
            ),
            ("variable_value_lost", "DOUBLE", "该指标全部连带隐去格的数值合计(各行相同)"),
            ("variable_released_value_lost", "DOUBLE", "逐一试放(释放)之后、精确搜索之前的合计"),
            ("variable_greedy_value_lost", "DOUBLE", "贪心选择(释放之前)的合计"),
        ],
    ),
    (
        "disclosure_basis",
        "统计数据保密的内部依据(不发布):某报告期公开版本所依据的企业行,该期重新发布时据以判断修订是否会暴露个别企业",
        &[
            ("region_code", "TEXT", "县市区代码"),
            ("credit_code", "TEXT", "统一社会信用代码"),
            ("section", "TEXT", "门类"),
            ("division", "TEXT", "行业大类"),
            ("chains", "TEXT", "所属产业链(逗号分隔)"),
            ("output", "DOUBLE", "工业总产值 本年累计(万元)"),
            ("va", "DOUBLE", "工业增加值 本年累计(万元)"),
            ("revenue", "DOUBLE", "营业收入 本年累计(万元)"),
            ("profit", "DOUBLE", "利润总额 本年累计(万元)"),
            ("export", "DOUBLE", "出口交货值 本年累计(万元)"),
            ("employees", "DOUBLE", "期末从业人员(人)"),
        ],
    ),
];

/// Meanings of the run-provided and reference tables models read.
fn provided_meaning(table: &str, column: &str) -> &'static str {
    match (table, column) {
        ("params", "period") => "本次构建的报告期 YYYY-MM",
        ("params", "year") => "年",
        ("params", "month") => "月(累计到该月)",
        ("params", "period_label") => "累计期标签(1—9月)",
        ("params", "prev_period") => "同年上一报告期(YYYY-02 时为 NULL)",
        ("params", "year_ago_period") => "上年同期报告期",
        ("params", "annualise") => "年化系数 12 / 月",
        ("submissions", "region_code") => "县市区代码",
        ("submissions", "form") => "表号",
        ("submissions", "submitted") => "本期是否报送(且未整表拒收)",
        ("submissions", "quarantined_rows") => "本期该表被隔离(强制性错误未更正)的行数",
        ("regions", "code") => "地区代码(370800 为全市)",
        ("regions", "name") => "地区名称",
        ("regions", "short_name") => "简称",
        ("chains", "chain_id") => "产业链代码",
        ("chains", "name") => "产业链名称",
        ("chains", "cluster") => "所属产业集群",
        ("chain_members", "credit_code") => "企业统一社会信用代码",
        ("chain_members", "chain_id") => "产业链代码",
        ("chain_members", "is_chain_master") => "是否链主企业(1/0)",
        ("targets", "indicator") => "倍增指标代码",
        ("targets", "base_year") => "基期年份",
        ("targets", "base_value") => "基期值",
        ("targets", "target_year") => "目标年份",
        ("targets", "target_value") => "目标值",
        ("targets", "unit") => "计量单位",
        ("ppi", "period") => "报告期 YYYY-MM",
        ("ppi", "division") => "国民经济行业大类代码(GB/T 4754-2017,06—46);_T 为全部工业,用于无本大类指数的行业",
        ("ppi", "index") => "工业生产者出厂价格指数(上年同期=100)",
        _ => "",
    }
}

/// The schema of the newest published Parquet file of a table, if any.
fn published_schema(warehouse: &Path, table: &str) -> Option<Schema> {
    let b = builds(warehouse, table)
        .into_iter()
        .filter(|b| b.period != "unknown")
        .max_by(|a, b| a.period.cmp(&b.period))?;
    let file =
        std::fs::File::open(warehouse.join(table).join(format!("period={}", b.period)).join("part-0.parquet")).ok()?;
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).ok()?;
    Some(builder.schema().as_ref().clone())
}

/// Mermaid node id.
fn node(prefix: &str, name: &str) -> String {
    let clean: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    format!("{prefix}_{clean}")
}

/// A Mermaid node label (quotes would end it).
fn label(s: &str) -> String {
    s.replace('"', "#quot;")
}

/// Escapes `|` and line breaks for a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn column_table(out: &mut String, cols: &[Col], with_header: Option<&[String]>) {
    match with_header {
        Some(_) => out.push_str("| column | type | meaning | Excel header (表头) |\n|---|---|---|---|\n"),
        None => out.push_str("| column | type | meaning |\n|---|---|---|\n"),
    }
    for (i, c) in cols.iter().enumerate() {
        let _ = write!(out, "| `{}` | {} | {} |", c.name, c.ty, cell(&c.meaning));
        if let Some(h) = with_header {
            let _ = write!(out, " {} |", cell(h.get(i).map(String::as_str).unwrap_or("")));
        }
        out.push('\n');
    }
    out.push('\n');
}

/// Which form a warehouse table comes from (`jn101`, `jn101_all` → JN101).
fn form_of_table<'a>(forms: &'a Forms, table: &str) -> Option<&'a FormDef> {
    forms.forms.iter().find(|f| f.table == table || format!("{}_all", f.table) == table)
}

/// The forms a model depends on, through the tables it and the models it reads read.
pub fn forms_of(model: &str, models: &[Model], forms: &Forms) -> BTreeSet<String> {
    let by_name: BTreeMap<&str, &Model> = models.iter().map(|m| (m.name.as_str(), m)).collect();
    let mut seen = BTreeSet::new();
    let mut stack = vec![model];
    let mut out = BTreeSet::new();
    while let Some(n) = stack.pop() {
        if !seen.insert(n) {
            continue;
        }
        let Some(m) = by_name.get(n) else { continue };
        for t in &m.reads {
            if let Some(f) = form_of_table(forms, t) {
                out.insert(f.code.clone());
            } else if t == "submissions" {
                out.extend(forms.forms.iter().map(|f| f.code.clone()));
            }
        }
        stack.extend(m.depends_on.iter().map(String::as_str));
    }
    out
}

/// The data dictionary as Markdown. `models` in run order; `warehouse` is read only for the
/// columns of the audit tables and of models that declare none.
pub fn data_dictionary(
    forms: &Forms,
    reference: &BTreeMap<String, RecordBatch>,
    models: &[Model],
    warehouse: &Path,
) -> String {
    let mut out = String::new();
    out.push_str("# gongbao 数据字典 (data dictionary)\n\n");
    out.push_str(
        "Every table gongbao writes, with each column's type and meaning, and where each report (model) comes \
         from. **Dashboards and anything that leaves the statistics office read `public/` only**: the models \
         marked *publication: public* below, after disclosure control, under `public/<model>/period=YYYY-MM/`, \
         and the final bulletins under `public/bulletins/`. Everything under `warehouse/` (enterprise rows, \
         quarantine, findings, sources, internal models, the disclosure report) is internal. Generated by `gongbao models docs` (and by every `gongbao run`) from \
         `forms/*.toml`, the headers of `sql/*.sql` and `sql/tests/*.sql`: edit those, not this file.\n\n\
         Tables are Parquet, partitioned Hive-style by `period=YYYY-MM/` (form tables also by `region=CODE/`); \
         partition columns are in the folder names, not in the files. Amounts are 万元.\n\n",
    );

    // Contents.
    out.push_str("## Contents\n\n");
    out.push_str("- [Lineage](#lineage)\n");
    out.push_str("- Form tables (accepted returns): ");
    out.push_str(&forms.forms.iter().map(|f| format!("`{}`", f.table)).collect::<Vec<_>>().join(", "));
    out.push_str("\n- Audit tables: ");
    out.push_str(&AUDIT_TABLES.iter().map(|t| format!("`{}`", t.0)).collect::<Vec<_>>().join(", "));
    out.push_str("\n- Models (`sql/`), in run order: ");
    out.push_str(&models.iter().map(|m| format!("`{}`", m.name)).collect::<Vec<_>>().join(", "));
    out.push_str("\n- [Tables models read besides the warehouse](#tables-models-read-besides-the-warehouse)\n\n");

    lineage(&mut out, forms, models);

    // Form tables.
    out.push_str("## Form tables\n\n");
    for form in &forms.forms {
        let _ = writeln!(out, "### {}\n", form.table);
        let _ = writeln!(
            out,
            "{} {}: the accepted rows of the county returns. `warehouse/{}/period=YYYY-MM/region=CODE/part-0.parquet`; \
             models read `{}` (the period being built) and `{}_all` (every period).\n",
            form.code, form.name, form.table, form.table, form.table
        );
        let schema = crate::ingest::rows::form_schema(form);
        let mut cols = Vec::new();
        let mut headers = Vec::new();
        for f in schema.fields() {
            let (meaning, header) = match form.column(f.name()) {
                Some(c) => {
                    let meaning = if c.description.is_empty() { c.header.clone() } else { c.description.clone() };
                    let header = match c.time {
                        Some(t) => format!("{} / {}", c.header, t.word()),
                        None => c.header.clone(),
                    };
                    (meaning, header)
                }
                None => (form_extra_meaning(f.name()).unwrap_or("").to_string(), String::new()),
            };
            cols.push(Col { name: f.name().clone(), ty: sql_type(f.data_type()), meaning });
            headers.push(header);
        }
        column_table(&mut out, &cols, Some(headers.as_slice()));
        if form.layout == Layout::Items {
            out.push_str("Items (`item`):\n\n| item | 指标名称 | unit |\n|---|---|---|\n");
            for it in &form.items {
                let _ = writeln!(out, "| `{}` | {} | {} |", it.code, cell(&it.label), cell(&it.unit));
            }
            out.push('\n');
        }
    }

    // Audit tables.
    out.push_str("## Audit tables\n\n");
    for (table, what, catalogue) in AUDIT_TABLES {
        let _ = writeln!(out, "### {table}\n\n{what}. `warehouse/{table}/period=YYYY-MM/part-0.parquet`.\n");
        let cols: Vec<Col> = match published_schema(warehouse, table) {
            Some(schema) => schema
                .fields()
                .iter()
                .map(|f| Col {
                    name: f.name().clone(),
                    ty: sql_type(f.data_type()),
                    meaning: catalogue.iter().find(|c| c.0 == f.name().as_str()).map(|c| c.2).unwrap_or("").to_string(),
                })
                .collect(),
            None => catalogue
                .iter()
                .map(|(n, t, m)| Col { name: n.to_string(), ty: t.to_string(), meaning: m.to_string() })
                .collect(),
        };
        column_table(&mut out, &cols, None);
    }

    // Models.
    out.push_str("## Models\n\n");
    for m in models {
        let _ = writeln!(out, "### {}\n", m.name);
        if !m.header.description.is_empty() {
            let _ = writeln!(out, "{}\n", m.header.description);
        }
        let _ = writeln!(
            out,
            "- file: `sql/{}`\n- output: `warehouse/{}/period=YYYY-MM/part-0.parquet`",
            m.path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default(),
            m.name
        );
        let _ = writeln!(out, "{}", publication_line(m));
        if !m.header.grain.is_empty() {
            let _ = writeln!(out, "- grain: {}", m.header.grain);
        }
        let _ = writeln!(out, "- reads: {}", reads_list(m));
        let forms_used = forms_of(&m.name, models, forms);
        let _ = writeln!(
            out,
            "- from forms: {}",
            if forms_used.is_empty() {
                "none (reference data only)".to_string()
            } else {
                forms_used.into_iter().collect::<Vec<_>>().join(", ")
            }
        );
        let readers: Vec<String> =
            models.iter().filter(|o| o.depends_on.contains(&m.name)).map(|o| format!("`{}`", o.name)).collect();
        if !readers.is_empty() {
            let _ = writeln!(out, "- read by: {}", readers.join(", "));
        }
        if !m.tests.is_empty() {
            out.push_str("- tests:\n");
            for t in &m.tests {
                let _ = writeln!(
                    out,
                    "  - `{}` ({}): {}",
                    t.name,
                    t.header.severity,
                    if t.header.description.is_empty() { "—" } else { t.header.description.as_str() }
                );
            }
        }
        out.push('\n');
        if m.header.columns.is_empty() {
            match published_schema(warehouse, &m.name) {
                Some(schema) => {
                    out.push_str("Columns not declared in the header; as last published:\n\n");
                    let cols: Vec<Col> = schema
                        .fields()
                        .iter()
                        .map(|f| Col { name: f.name().clone(), ty: sql_type(f.data_type()), meaning: String::new() })
                        .collect();
                    column_table(&mut out, &cols, None);
                }
                None => out.push_str("Columns not declared in the header, and not built yet.\n\n"),
            }
        } else {
            let cols: Vec<Col> = m
                .header
                .columns
                .iter()
                .map(|c| Col { name: c.name.clone(), ty: c.sql_type.clone(), meaning: c.description.clone() })
                .collect();
            column_table(&mut out, &cols, None);
            if m.header.columns.iter().any(|c| c.name == "period") {
                out.push_str("`period` is the partition column (folder `period=`), not stored in the file.\n\n");
            }
        }
    }

    // What models read besides the warehouse.
    out.push_str("## Tables models read besides the warehouse\n\n");
    out.push_str("Not published: provided to every model (and audit rule) by the run.\n\n");
    let params = super::exec::params_batch("2025-02".parse().expect("period"));
    let submissions = super::exec::submissions_batch(&[]);
    for (name, what, schema) in [
        ("params", "one row: the period being built", params.schema()),
        ("submissions", "one row per county × form: whether the return arrived", submissions.schema()),
    ] {
        let _ = writeln!(out, "### {name}\n\n{what}.\n");
        let cols: Vec<Col> = schema
            .fields()
            .iter()
            .map(|f| Col {
                name: f.name().clone(),
                ty: sql_type(f.data_type()),
                meaning: provided_meaning(name, f.name()).to_string(),
            })
            .collect();
        column_table(&mut out, &cols, None);
    }
    for (name, batch) in reference {
        let _ = writeln!(out, "### {name}\n\nReference data (`{name}.csv` in the reference folder).\n");
        let cols: Vec<Col> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| Col {
                name: f.name().clone(),
                ty: sql_type(f.data_type()),
                meaning: provided_meaning(name, f.name()).to_string(),
            })
            .collect();
        column_table(&mut out, &cols, None);
    }
    out
}

/// The data dictionary's line saying whether a model leaves the office.
pub fn publication_line(m: &Model) -> String {
    match m.header.publish {
        crate::models::Publish::Public => format!(
            "- publication: **public** (`public/{}/period=YYYY-MM/part-0.parquet`, after disclosure control; final bulletins only)",
            m.name
        ),
        crate::models::Publish::Internal => "- publication: internal (warehouse only)".to_string(),
    }
}

fn reads_list(m: &Model) -> String {
    let mut parts: Vec<String> = m.depends_on.iter().map(|d| format!("model `{d}`")).collect();
    parts.extend(m.reads.iter().map(|t| format!("`{t}`")));
    if parts.is_empty() { "nothing".to_string() } else { parts.join(", ") }
}

/// The lineage section: a list and a Mermaid graph form → table → model → model.
fn lineage(out: &mut String, forms: &Forms, models: &[Model]) {
    out.push_str("## Lineage\n\n");
    for m in models {
        let forms_used = forms_of(&m.name, models, forms);
        let _ = writeln!(
            out,
            "- `{}` ← {}{}",
            m.name,
            reads_list(m),
            if forms_used.is_empty() {
                String::new()
            } else {
                format!(" ⇐ forms {}", forms_used.into_iter().collect::<Vec<_>>().join(", "))
            }
        );
    }
    out.push_str("\n```mermaid\nflowchart LR\n");
    let base_read: BTreeSet<&str> = models.iter().flat_map(|m| m.reads.iter().map(String::as_str)).collect();
    for form in &forms.forms {
        let _ = writeln!(out, "    {}[/\"{} {}\"/]", node("f", &form.code), form.code, label(&form.name));
    }
    for t in &base_read {
        let _ = writeln!(out, "    {}[(\"{t}\")]", node("t", t));
        if let Some(f) = form_of_table(forms, t) {
            let _ = writeln!(out, "    {} --> {}", node("f", &f.code), node("t", t));
        } else if *t == "submissions" {
            for f in &forms.forms {
                let _ = writeln!(out, "    {} -.-> {}", node("f", &f.code), node("t", t));
            }
        }
    }
    for m in models {
        let _ = writeln!(out, "    {}[\"{}\"]", node("m", &m.name), m.name);
        for t in &m.reads {
            let _ = writeln!(out, "    {} --> {}", node("t", t), node("m", &m.name));
        }
        for d in &m.depends_on {
            let _ = writeln!(out, "    {} --> {}", node("m", d), node("m", &m.name));
        }
    }
    out.push_str("```\n\n");
}

/// Writes `<out>/docs/data_dictionary.md` atomically; returns its path.
pub fn write_data_dictionary(
    out: &Path,
    forms: &Forms,
    reference: &BTreeMap<String, RecordBatch>,
    models: &[Model],
) -> Result<PathBuf> {
    let path = out.join("docs").join("data_dictionary.md");
    let text = data_dictionary(forms, reference, models, &out.join("warehouse"));
    crate::store::write_text(&path, &text)?;
    Ok(path)
}

/// `gongbao models`: each model in run order with what it reads, its tests and its last build.
pub fn listing(models: &[Model], warehouse: &Path) -> String {
    let mut out = String::new();
    let pad = "";
    for m in models {
        let _ = writeln!(out, "{:<24} {}", m.name, m.header.description);
        let _ = writeln!(out, "{pad:<24} reads: {}", reads_list(m));
        if !m.tests.is_empty() {
            let tests: Vec<String> = m.tests.iter().map(|t| format!("{} ({})", t.name, t.header.severity)).collect();
            let _ = writeln!(out, "{pad:<24} tests: {}", tests.join(", "));
        }
        let all = builds(warehouse, &m.name);
        let line = match last_build(warehouse, &m.name) {
            None => "never built".to_string(),
            Some(b) => {
                let when: chrono::DateTime<chrono::Local> = b.modified.into();
                let periods = match (all.first(), all.last()) {
                    (Some(first), Some(last)) if all.len() > 1 => {
                        format!(" ({} periods published: {} … {})", all.len(), first.period, last.period)
                    }
                    _ => String::new(),
                };
                format!("period={} at {}{periods}", b.period, when.format("%Y-%m-%d %H:%M:%S"))
            }
        };
        let _ = writeln!(out, "{pad:<24} last build: {line}");
    }
    out
}
