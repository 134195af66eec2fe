//! The `gongbao` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use gongbao::period::Period;
use gongbao::run::{RunControl, RunOptions, RunSummary, exit};

#[derive(Parser)]
#[command(
    name = "gongbao",
    version,
    about = "济宁市工业经济倍增监测: county returns → audited Parquet → SQL indicators → bulletin"
)]
struct Cli {
    /// Log format: human-readable text, or JSON lines for log collectors.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the monthly job: ingest, audit, store, models, bulletin.
    Run {
        /// Folder of county workbooks.
        #[arg(long, default_value = "sample_data/returns")]
        inbox: PathBuf,
        /// Folder of reference CSVs (regions, chains, chain_members, targets, ppi).
        #[arg(long, default_value = "sample_data/reference")]
        reference: PathBuf,
        /// Output folder (warehouse/ and bulletins/).
        #[arg(long, default_value = "output")]
        out: PathBuf,
        /// Period to publish, YYYY-MM (default: the latest in the inbox).
        #[arg(long)]
        period: Option<Period>,
        /// Project folder holding forms/, rules/, sql/ and templates/.
        #[arg(long, default_value = ".")]
        project: PathBuf,
        /// Date printed on the bulletin, YYYY-MM-DD (default: the 15th of the next month).
        #[arg(long)]
        issued_on: Option<chrono::NaiveDate>,
        /// Threads to work with (reading workbooks, query partitions); default: every core the
        /// process may use. The outputs are byte-identical whatever the number.
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
        threads: Option<u16>,
        /// Exit with code 2 when rows were quarantined, a file was refused or a county is missing,
        /// and 3 when there are unexplained warnings only (see the README's exit codes).
        #[arg(long)]
        fail_on_audit_errors: bool,
        /// Backfill: rebuild every period from this one (YYYY-MM) to --to, in order, changed or not.
        #[arg(long, conflicts_with = "period", requires = "to")]
        from: Option<Period>,
        /// Last period of a backfill (YYYY-MM).
        #[arg(long, conflicts_with = "period", requires = "from")]
        to: Option<Period>,
        /// Show the plan (which periods would be rebuilt and why) and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Apply the returns held for a period released as final (YYYY-MM; repeatable): it is
        /// rebuilt with them (and the later periods that read it), and its bulletin's notes list
        /// the revised figures. Without it, a final period is never rebuilt for a new return.
        #[arg(long, conflicts_with_all = ["period", "from", "to"])]
        revise: Vec<Period>,
    },
    /// Schedules (schedules/*.toml): `list` shows the next fire times, `run` fires them until
    /// SIGTERM or SIGINT.
    Schedule {
        #[command(subcommand)]
        action: ScheduleAction,
        /// Folder of schedule files.
        #[arg(long, default_value = "schedules", global = true)]
        dir: PathBuf,
    },
    /// The run ledger: every run with its trigger, counts and outcome (<out>/runs/runs.jsonl).
    Runs {
        #[arg(long, default_value = "output")]
        out: PathBuf,
        /// Print the ledger as JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// The history of returns: every version of each county's form and which one is used.
    Revisions {
        #[arg(long, default_value = "output")]
        out: PathBuf,
        /// Only this period (YYYY-MM).
        #[arg(long)]
        period: Option<Period>,
    },
    /// Regenerate the bundled sample data (deterministic).
    Sample {
        #[arg(long, default_value = "sample_data")]
        out: PathBuf,
        /// Write the same data the untidy ways counties fill the forms (units, column order,
        /// aliases, text numbers, 合计 rows, …): every return must ingest to the same rows.
        #[arg(long)]
        messy: bool,
        /// Instead of the sample, an inbox for benchmarks of one period (2025-09): `city` (14 units,
        /// ~4,000 enterprises), `province` (136, ~40,000) or `national` (2,800, ~500,000), with its
        /// reference data and `expected.csv` (see BENCHMARKS.md).
        #[arg(long, conflicts_with = "messy")]
        scale: Option<String>,
        /// With --scale: this many reporting units instead.
        #[arg(long, requires = "scale")]
        units: Option<usize>,
        /// With --scale: this many JN101 enterprises per unit on average instead.
        #[arg(long, requires = "scale")]
        per_unit: Option<usize>,
        /// With --scale: only these forms in every workbook (e.g. `JN101`: an inbox lacking the others).
        #[arg(long, requires = "scale", value_delimiter = ',')]
        forms: Vec<String>,
    },
    /// List the report definitions (models) in the order they run, with what they read, their
    /// tests and their last build; `models docs` writes the data dictionary.
    Models {
        #[command(subcommand)]
        action: Option<ModelsAction>,
        /// Project folder holding forms/ and sql/.
        #[arg(long, default_value = ".", global = true)]
        project: PathBuf,
        #[arg(long, default_value = "sample_data/reference", global = true)]
        reference: PathBuf,
        /// Output folder: its warehouse/ gives the last builds, docs/ receives the dictionary.
        #[arg(long, default_value = "output", global = true)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum ScheduleAction {
    /// Each schedule's next fire times.
    List {
        /// How many fire times to show.
        #[arg(long, default_value_t = 3)]
        count: usize,
    },
    /// Fire the schedules until SIGTERM/SIGINT (a run in progress finishes and publishes first).
    Run,
}

#[derive(Subcommand)]
enum ModelsAction {
    /// Write <out>/docs/data_dictionary.md: every published table and column, with lineage.
    Docs,
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn,gongbao=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// The held returns and what became of `--revise`, in the summary.
fn print_pending(s: &RunSummary) {
    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = gongbao::stage::plan::write_pending(&mut text, &s.pending_revisions);
    print!("{text}");
    for n in &s.revise_notes {
        println!("  {n}");
    }
}

fn print_summary(s: &RunSummary) {
    if s.nothing_new {
        println!(
            "gongbao 运行摘要  run {}  没有新的或变更的报表({} 个文件均已处理),各报告期已是最新,未改写任何输出。",
            s.run_id, s.files_seen
        );
        print_pending(s);
        return;
    }
    println!("gongbao 运行摘要  run {}  报告期 {} ({})", s.run_id, s.target, s.target.full_label());
    println!(
        "  文件: 共 {} 个, 读入 {} 个, 拒收 {} 项; 涉及报告期 {}",
        s.files_seen,
        s.files_ingested,
        s.refusals.len(),
        s.periods.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ")
    );
    println!(
        "  新文件 {} 个, 打开 {} 个(其余取自解析缓存); 重新生成报告期: {}; 发布 {}",
        s.files_new,
        s.files_opened,
        s.rebuilt.join(", "),
        s.publication.as_deref().unwrap_or("-")
    );
    if s.files_peeked > 0 {
        println!("  其中 {} 个新文件只读取表头以确定报告期(所生成报告期的文件另行完整读入)", s.files_peeked);
    }
    for (file, recorded, read) in &s.period_corrections {
        println!("    注意 {file}: 报告期由 {recorded} 更正为 {read}(下次运行将重建相关报告期)");
    }
    for r in s.refusals.iter().take(5) {
        println!(
            "    拒收 {}{}: {}",
            r.file,
            r.sheet.as_ref().map(|x| format!(" [{x}]")).unwrap_or_default(),
            r.reason
        );
    }
    for x in &s.superseded {
        println!("    {} 已被 {} 替代 ({} {} {})", x.file, x.by, x.form, x.region_code, x.period);
    }
    print_pending(s);
    if !s.released.is_empty() {
        println!("  正式发布(此后冻结, 修订须 --revise): {}", s.released.join(", "));
    }
    println!("  数据行: 读入 {}, 采用 {}, 隔离 {}", s.rows_input, s.rows_accepted, s.rows_quarantined);
    println!("  {}", s.row_tally.line());
    println!("  审核: 强制性错误 {}, 核实性问题 {} (已说明 {})", s.errors, s.warnings, s.warnings_explained);
    for f in &s.findings_sample {
        println!("    {f}");
    }
    if !s.missing.is_empty() {
        println!("  未报送: {}", s.missing.iter().map(|(r, f)| format!("{r}{f}")).collect::<Vec<_>>().join("、"));
    }
    if let Some(first) = s.feedback.first() {
        let dir = first.workbook.parent().map(|d| d.display().to_string()).unwrap_or_default();
        println!("  审核反馈: {} 个县市区 ({dir})", s.feedback.len());
    }
    for fb in s.feedback.iter().filter(|f| f.failed.is_some()) {
        println!("    审核反馈未能生成 {}: {}", fb.region_name, fb.failed.as_deref().unwrap_or_default());
    }
    let failed: Vec<_> = s.models.iter().filter(|m| m.2.is_some()).collect();
    println!("  模型: {} 个, 失败 {}", s.models.len(), failed.len());
    for (name, _, e) in failed {
        println!("    {name}: {}", e.as_deref().unwrap_or_default());
    }
    let failing_tests: Vec<_> = s.model_tests.iter().filter(|t| !t.passed()).collect();
    println!("  模型测试: {} 个, 未通过 {}", s.model_tests.len(), failing_tests.len());
    for t in failing_tests {
        println!("    {}", t.one_line());
    }
    for e in &s.rule_failures {
        println!("    审核规则无法执行: {e}");
    }
    match &s.bulletin {
        Some(p) => println!("  公报: {}", p.display()),
        None => println!("  公报: 未生成"),
    }
    if let Some(e) = &s.bulletin_error {
        println!("  公报未能生成(已发布草稿说明): {e}");
    }
    if let Some(e) = &s.after_publish {
        println!("  已发布 {}, 随后出错: {e}", s.publication.as_deref().unwrap_or("-"));
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let code = match cli.command {
        Command::Run {
            inbox,
            reference,
            out,
            period,
            project,
            issued_on,
            threads,
            fail_on_audit_errors,
            from,
            to,
            dry_run,
            revise,
        } => {
            let threads = threads.map(usize::from);
            let opts = RunOptions { project, inbox, reference, out, period, issued_on, threads };
            let ctl = RunControl { from, to, force: from.is_some(), revise, ..RunControl::default() };
            if dry_run {
                return ExitCode::from(match gongbao::run::dry_run(&opts, &ctl) {
                    Ok(plan) => {
                        print!("{plan}");
                        exit::OK
                    }
                    Err(e) => {
                        eprintln!("gongbao: {e:#}");
                        exit::FAILURE
                    }
                } as u8);
            }
            match gongbao::run::run_with(&opts, &ctl) {
                Ok(summary) => {
                    print_summary(&summary);
                    summary.exit_code(fail_on_audit_errors)
                }
                Err(e) => {
                    eprintln!("gongbao: {e:#}");
                    exit::FAILURE
                }
            }
        }
        Command::Sample { out, scale: Some(scale), units, per_unit, forms, .. } => {
            match gongbao::sample::scale::ScaleSpec::named(&scale).and_then(|named| {
                let spec = gongbao::sample::scale::ScaleSpec {
                    units: units.unwrap_or(named.units),
                    per_unit: per_unit.unwrap_or(named.per_unit),
                    forms: if forms.is_empty() { named.forms } else { forms },
                };
                gongbao::sample::scale::write_scale(&spec, &out)
            }) {
                Ok(s) => {
                    println!("{} workbooks, {} JN101 rows written to {}", s.workbooks, s.jn101_rows, out.display());
                    exit::OK
                }
                Err(e) => {
                    eprintln!("gongbao: {e:#}");
                    exit::FAILURE
                }
            }
        }
        Command::Sample { out, messy, .. } => match if messy {
            gongbao::sample::write_messy(&gongbao::sample::generate(), &out)
        } else {
            gongbao::sample::write_all(&gongbao::sample::generate(), &out)
        } {
            Ok(()) => {
                println!("sample data written to {}", out.display());
                exit::OK
            }
            Err(e) => {
                eprintln!("gongbao: {e:#}");
                exit::FAILURE
            }
        },
        Command::Schedule { action, dir } => match schedule_command(action, &dir) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("gongbao: {e:#}");
                exit::FAILURE
            }
        },
        Command::Runs { out, json } => match gongbao::ledger::read(&out) {
            Ok(records) => {
                if json {
                    for r in &records {
                        println!("{}", serde_json::to_string(r).unwrap_or_default());
                    }
                } else {
                    print!("{}", gongbao::ledger::listing(&records));
                }
                exit::OK
            }
            Err(e) => {
                eprintln!("gongbao: {e:#}");
                exit::FAILURE
            }
        },
        Command::Revisions { out, period } => {
            let current = gongbao::publish::current(&out);
            let subs = current.as_deref().map(gongbao::incremental::load_submissions).unwrap_or_default();
            println!("报告期   县市区代码 表号   状态        首次使用时间              文件 (SHA-256 前 12 位)");
            for x in subs.iter().filter(|x| period.is_none_or(|p| x.period == p.to_string())) {
                let status = match x.status.as_str() {
                    "current" => "现用",
                    "superseded" => "已被替代",
                    "refused" => "拒收",
                    other => other,
                };
                println!(
                    "{}  {:<10} {:<6} {:<10} {:<25} {} ({}){}",
                    x.period,
                    x.region_code,
                    x.form,
                    status,
                    x.first_seen,
                    x.file,
                    &x.sha256[..x.sha256.len().min(12)],
                    x.superseded_by.as_ref().map(|b| format!(" → {b}")).unwrap_or_default()
                );
            }
            for x in gongbao::incremental::load_pending(current.as_deref())
                .iter()
                .filter(|x| period.is_none_or(|p| x.period == p.to_string()))
            {
                let status = if x.change == "withdrawn" { "已移出" } else { "暂存待修订" };
                println!(
                    "{}  {:<10} {:<6} {:<10} {:<25} {} ({})  (gongbao run --revise {})",
                    x.period,
                    x.sender.as_deref().unwrap_or("-"),
                    "-",
                    status,
                    x.first_seen,
                    x.file,
                    &x.sha256[..x.sha256.len().min(12)],
                    x.period
                );
            }
            exit::OK
        }
        Command::Models { action, project, reference, out } => match models_command(action, &project, &reference, &out)
        {
            Ok(()) => exit::OK,
            Err(e) => {
                eprintln!("gongbao: {e:#}");
                exit::FAILURE
            }
        },
    };
    ExitCode::from(code as u8)
}

fn schedule_command(action: ScheduleAction, dir: &std::path::Path) -> anyhow::Result<i32> {
    let defs = gongbao::schedule::load(dir)?;
    match action {
        ScheduleAction::List { count } => {
            let now = chrono::Local::now();
            for d in &defs {
                println!(
                    "{}  [{}]  job={:?} periods={} inbox={} out={}",
                    d.name,
                    d.cron,
                    d.job,
                    d.periods,
                    d.inbox.display(),
                    d.out.display()
                );
                for t in d.next_fires(&now, count)? {
                    println!("    {}", t.format("%Y-%m-%d %H:%M:%S %:z"));
                }
            }
            Ok(exit::OK)
        }
        ScheduleAction::Run => {
            use std::sync::Arc;
            use std::sync::atomic::AtomicBool;
            let stop = Arc::new(AtomicBool::new(false));
            for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
                signal_hook::flag::register(sig, Arc::clone(&stop))?;
            }
            let report = gongbao::schedule::run_scheduler(&defs, &stop)?;
            println!("scheduler stopped after {} run(s), {} failed", report.fired, report.failed);
            Ok(if report.failed > 0 { exit::FAILURE } else { exit::OK })
        }
    }
}

fn models_command(
    action: Option<ModelsAction>,
    project: &std::path::Path,
    reference: &std::path::Path,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    use gongbao::models::docs;
    let forms = gongbao::forms::Forms::load(&project.join("forms"))?;
    let reference = gongbao::reference::Reference::load(reference)?;
    let base = gongbao::models::exec::base_table_names(&forms, &reference.tables);
    let models = gongbao::models::load(&project.join("sql"), &base)?;
    match action {
        None => print!("{}", docs::listing(&models, &out.join("warehouse"))),
        Some(ModelsAction::Docs) => {
            // It writes into the published outputs: under the lock, as a new publication.
            let _lock = gongbao::lock::acquire(out)?;
            gongbao::publish::publish_change(out, "docs", |dir| {
                docs::write_data_dictionary(dir, &forms, &reference.tables, &models).map(|_| ())
            })?;
            println!("data dictionary written to {}", out.join("docs/data_dictionary.md").display());
        }
    }
    Ok(())
}
