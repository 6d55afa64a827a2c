//! `casemix qc`: 结算清单前置质控. Reads settlement lists, checks them with casemix-qc against the
//! scheme's dictionaries and writes `findings.csv`, `rejected.csv`, `summary_by_rule.csv`,
//! `summary_by_hospital.csv` and `rules.csv`. Rows the importer rejects are reported in
//! `findings.csv` too (rule `READ-<rule>`, severity 错误): never dropped.

use super::common::{load_grouper, DEFAULT_SCHEMES_DIR};
use casemix_io::{ReadOptions, Rejection};
use casemix_model::SettlementList;
use casemix_qc::{summarize, Category, Finding, Qc, QcConfig, Rule, Summary, RULES};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// 结算清单文件 (settlement lists: CSV, JSON Lines or .xlsx)
    pub settlements: PathBuf,
    /// 分组方案目录或方案编号，用其疾病诊断/手术操作字典校验编码 (scheme directory or id)
    #[arg(long, default_value = "chs_drg_11")]
    pub scheme: String,
    /// 方案库目录 (where scheme ids are looked up)
    #[arg(long, default_value = DEFAULT_SCHEMES_DIR)]
    pub schemes_dir: PathBuf,
    /// 输出目录 (output directory)
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
}

fn csv_err(e: impl std::fmt::Display) -> String {
    format!("写出失败：{e}")
}

pub fn writer(dir: &Path, name: &str) -> Result<csv::Writer<std::io::BufWriter<std::fs::File>>, String> {
    let p = dir.join(name);
    let f = std::fs::File::create(&p).map_err(|e| format!("无法创建 {}：{e}", p.display()))?;
    Ok(csv::Writer::from_writer(std::io::BufWriter::new(f)))
}

/// Checks lists and returns findings (also used by `casemix audit`).
pub fn run_qc(qc: &Qc, lists: &[SettlementList]) -> Vec<Finding> {
    qc.check_all(lists)
}

fn pct(bp: Option<u64>) -> String {
    bp.map(|b| format!("{}.{:02}", b / 100, b % 100)).unwrap_or_default()
}

pub fn write_outputs(dir: &Path, lists: &[SettlementList], rejected: &[Rejection], findings: &[Finding], s: &Summary) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("无法创建输出目录 {}：{e}", dir.display()))?;
    let mut w = writer(dir, "findings.csv")?;
    w.write_record(["list_id", "rule", "severity", "category", "field", "value", "message"]).map_err(csv_err)?;
    for r in rejected {
        w.write_record([&r.list_id, &format!("READ-{}", r.rule), "错误", "读入", &r.field, "", &r.message]).map_err(csv_err)?;
    }
    for f in findings {
        let d = f.def();
        let l = &lists[f.index];
        w.write_record([l.list_id.as_str(), d.id, d.severity.label_zh(), d.category.label_zh(), d.field, &f.value, &f.message()]).map_err(csv_err)?;
    }
    w.flush().map_err(csv_err)?;
    let f = std::fs::File::create(dir.join("rejected.csv")).map_err(csv_err)?;
    casemix_io::write_rejections_csv(std::io::BufWriter::new(f), rejected).map_err(|e| e.to_string())?;

    let mut w = writer(dir, "summary_by_rule.csv")?;
    w.write_record(["rule", "category", "severity", "field", "findings", "lists", "message"]).map_err(csv_err)?;
    for (r, c) in &s.by_rule {
        let d = r.def();
        w.write_record([d.id, d.category.label_zh(), d.severity.label_zh(), d.field, &c.findings.to_string(), &c.lists.to_string(), d.message])
            .map_err(csv_err)?;
    }
    w.flush().map_err(csv_err)?;

    let mut w = writer(dir, "summary_by_hospital.csv")?;
    w.write_record(["hospital_code", "lists", "lists_with_errors", "lists_with_warnings_only", "errors", "warnings", "pass_rate_pct"]).map_err(csv_err)?;
    for (h, c) in s.by_hospital.iter().chain(std::iter::once((&"(合计)".to_string(), &s.total))) {
        w.write_record([
            h.as_str(),
            &c.lists.to_string(),
            &c.lists_with_errors.to_string(),
            &c.lists_with_warnings_only.to_string(),
            &c.errors.to_string(),
            &c.warnings.to_string(),
            &pct(c.pass_rate_bp()),
        ])
        .map_err(csv_err)?;
    }
    w.flush().map_err(csv_err)?;

    let mut w = writer(dir, "rules.csv")?;
    w.write_record(["rule", "category", "severity", "field", "source", "message"]).map_err(csv_err)?;
    for d in RULES {
        w.write_record([d.id, d.category.label_zh(), d.severity.label_zh(), d.field, d.source, d.message]).map_err(csv_err)?;
    }
    w.flush().map_err(csv_err)
}

pub fn run(a: Args) -> Result<(), String> {
    let g = load_grouper(&a.scheme, &a.schemes_dir)?;
    let t0 = Instant::now();
    let (lists, rejected) = casemix_io::read_settlements(&a.settlements, &ReadOptions::default())
        .map_err(|e| format!("无法读取结算清单 {}：{e}", a.settlements.display()))?;
    let t_read = t0.elapsed();
    let qc = Qc::new(g.dictionaries(), QcConfig::default());
    let t1 = Instant::now();
    let findings = run_qc(&qc, &lists);
    let t_qc = t1.elapsed();
    let s = summarize(&lists, &findings);
    write_outputs(&a.out, &lists, &rejected, &findings, &s)?;
    println!("前置质控 (quality control)：{} 条清单，{} 行读入被拒 (rejected rows)", lists.len(), rejected.len());
    println!(
        "规则 {} 条，发现问题 {} 个；有错误的清单 {} 条，仅有警告 {} 条；首页通过率 (pass rate) {}%（含被拒行：{}%）",
        RULES.len(),
        findings.len(),
        s.total.lists_with_errors,
        s.total.lists_with_warnings_only,
        pct(s.total.pass_rate_bp()),
        pct(pass_with_rejected(&s, rejected.len())),
    );
    let mut top: Vec<(&Rule, usize)> = s.by_rule.iter().map(|(r, c)| (r, c.lists)).collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (r, n) in top.iter().take(10) {
        let d = r.def();
        println!("  {:<8} {:<4} {:>8} 条  {}", d.id, d.severity.label_zh(), n, d.message);
    }
    let secs = t_qc.as_secs_f64().max(1e-9);
    println!("读入 {:.2} 秒；质控 {:.3} 秒，{:.0} 条/秒 (lists/s)；输出目录 {}", t_read.as_secs_f64(), secs, lists.len() as f64 / secs, a.out.display());
    let _ = Category::ALL;
    Ok(())
}

fn pass_with_rejected(s: &Summary, rejected: usize) -> Option<u64> {
    let n = s.total.lists + rejected;
    (n > 0).then(|| ((s.total.lists - s.total.lists_with_errors) as u64 * 10000) / n as u64)
}
