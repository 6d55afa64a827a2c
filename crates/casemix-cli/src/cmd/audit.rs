//! `casemix audit`: 智能审核. Reads settlement lists, outpatient/pharmacy claims and itemised
//! charges (费用明细, `--charges` or charges.csv beside the lists), groups every
//! list with the scheme (and, for complication groups, regroups it without its secondary
//! diagnoses to know the group its resources would justify), runs casemix-audit and writes
//! `flags.csv`, `by_rule.csv`, `by_hospital.csv` and `groups.csv` (the grouping the audit used). With `--labels` (synthetic regions only) it
//! also measures precision and recall per rule — the labels are read here, never by the audit.

use super::common::{load_grouper, DEFAULT_SCHEMES_DIR};
use super::qc::writer;
use casemix_audit::{audit, summarize, AuditConfig, AuditInput, AuditOutput, AuditRule};
use casemix_io::ReadOptions;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// 结算清单文件 (settlement lists)
    #[arg(long)]
    pub settlements: PathBuf,
    /// 门诊/药店结算文件 (outpatient and pharmacy claims)
    #[arg(long)]
    pub claims: Option<PathBuf>,
    /// 费用明细文件（默认取清单同目录的 charges.csv，如存在）(itemised charges; default: charges.csv beside the settlements)
    #[arg(long)]
    pub charges: Option<PathBuf>,
    /// 分组方案目录或方案编号 (scheme directory or id)
    #[arg(long, default_value = "chs_drg_11")]
    pub scheme: String,
    /// 方案库目录 (where scheme ids are looked up)
    #[arg(long, default_value = DEFAULT_SCHEMES_DIR)]
    pub schemes_dir: PathBuf,
    /// 审核参数 JSON（AuditConfig 字段，或含 "audit" 节的对象）(audit thresholds)
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// 医疗机构表（code, tier），默认取清单同目录的 hospitals.csv (hospital tiers)
    #[arg(long)]
    pub hospitals: Option<PathBuf>,
    /// 输出目录 (output directory)
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
    /// 测评：合成数据的 labels.csv，打印各规则精确率/召回率 (measure precision/recall; synthetic data only)
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// 同时运行前置质控并报告吞吐量 (also run QC and report its throughput)
    #[arg(long)]
    pub with_qc: bool,
}

fn csv_err(e: impl std::fmt::Display) -> String {
    format!("写出失败：{e}")
}

/// Grouping for the audit (shared with the workbench): every list, with the regroupings that
/// tell which secondary diagnoses lift a case.
pub use casemix_workbench::group::group_all;

fn load_config(p: &Option<PathBuf>) -> Result<AuditConfig, String> {
    let Some(p) = p else { return Ok(AuditConfig::default()) };
    let text = std::fs::read_to_string(p).map_err(|e| format!("无法读取审核参数 {}：{e}", p.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("审核参数 {} 不是有效 JSON：{e}", p.display()))?;
    let v = v.get("audit").cloned().unwrap_or(v);
    serde_json::from_value(v).map_err(|e| format!("审核参数 {} 无效：{e}", p.display()))
}

fn load_tiers(p: &Path) -> Result<BTreeMap<String, String>, String> {
    let mut r = csv::Reader::from_path(p).map_err(|e| format!("无法读取医疗机构表 {}：{e}", p.display()))?;
    let h = r.headers().map_err(|e| e.to_string())?.clone();
    let col = |names: &[&str]| h.iter().position(|x| names.contains(&x.trim_start_matches('\u{feff}')));
    let (Some(c), Some(t)) = (col(&["code", "hospital_code", "定点医药机构编号"]), col(&["tier", "level", "等级"])) else {
        return Err(format!("医疗机构表 {} 缺少 code 或 tier 列", p.display()));
    };
    let mut m = BTreeMap::new();
    for row in r.records() {
        let row = row.map_err(|e| format!("医疗机构表 {}：{e}", p.display()))?;
        m.insert(row.get(c).unwrap_or("").to_string(), row.get(t).unwrap_or("").to_string());
    }
    Ok(m)
}

pub fn write_flags(dir: &Path, out: &AuditOutput) -> Result<(), String> {
    let mut w = writer(dir, "flags.csv")?;
    w.write_record(["rank", "flag_id", "list_id", "related_ids", "rule", "rule_zh", "score", "hospital_code", "action", "target", "amount", "evidence", "evidence_json"])
        .map_err(csv_err)?;
    for (k, f) in out.flags.iter().enumerate() {
        w.write_record([
            &(k + 1).to_string(),
            &f.flag_id,
            &f.list_id,
            &f.related_ids.join("|"),
            f.rule.key(),
            f.rule.label_zh(),
            &f.score.to_string(),
            &f.hospital_code,
            f.action.key(),
            &f.target,
            &f.amount.to_string(),
            &f.evidence,
            &f.evidence_json.to_string(),
        ])
        .map_err(csv_err)?;
    }
    w.flush().map_err(csv_err)
}

pub fn run(a: Args) -> Result<(), String> {
    let g = load_grouper(&a.scheme, &a.schemes_dir)?;
    let cfg = load_config(&a.policy)?;
    let t0 = Instant::now();
    let opts = ReadOptions::default();
    let (lists, rej) = casemix_io::read_settlements(&a.settlements, &opts).map_err(|e| format!("无法读取结算清单 {}：{e}", a.settlements.display()))?;
    let (claims, crej) = match &a.claims {
        Some(p) => casemix_io::read_claims(p, &opts).map_err(|e| format!("无法读取门诊/药店结算 {}：{e}", p.display()))?,
        None => (Vec::new(), Vec::new()),
    };
    let charges_path = a.charges.clone().or_else(|| a.settlements.parent().map(|d| d.join("charges.csv")).filter(|p| p.is_file()));
    let (charges, hrej) = match &charges_path {
        Some(p) => casemix_io::read_charges(p, &opts).map_err(|e| format!("无法读取费用明细 {}：{e}", p.display()))?,
        None => (Vec::new(), Vec::new()),
    };
    let t_read = t0.elapsed();
    let hosp_path = a.hospitals.clone().or_else(|| a.settlements.parent().map(|d| d.join("hospitals.csv")).filter(|p| p.is_file()));
    let tiers = match &hosp_path {
        Some(p) => load_tiers(p)?,
        None => BTreeMap::new(),
    };
    std::fs::create_dir_all(&a.out).map_err(|e| format!("无法创建输出目录 {}：{e}", a.out.display()))?;
    {
        let f = std::fs::File::create(a.out.join("rejected.csv")).map_err(csv_err)?;
        let mut all = rej.clone();
        all.extend(crej.iter().cloned());
        all.extend(hrej.iter().cloned());
        casemix_io::write_rejections_csv(std::io::BufWriter::new(f), &all).map_err(|e| e.to_string())?;
    }

    let mut qc_errors = None;
    let mut t_qc = None;
    if a.with_qc {
        let qc = casemix_qc::Qc::new(g.dictionaries(), casemix_qc::QcConfig::default());
        let t = Instant::now();
        let f = qc.check_all(&lists);
        t_qc = Some(t.elapsed());
        let s = casemix_qc::summarize(&lists, &f);
        qc_errors = Some(s.total.lists_with_errors);
    }
    let t1 = Instant::now();
    let groups = group_all(&g, &lists);
    let t_group = t1.elapsed();
    let t2 = Instant::now();
    let inp = AuditInput { lists: &lists, groups: &groups, claims: &claims, charges: &charges, hospital_tiers: &tiers };
    let out = audit(inp, &cfg);
    let t_audit = t2.elapsed();
    write_flags(&a.out, &out)?;
    let mut w = writer(&a.out, "groups.csv")?;
    w.write_record(["list_id", "drg", "adrg", "grouped", "drg_without_cc", "lifting_dx", "drg_without_lifting"]).map_err(csv_err)?;
    for (l, g) in lists.iter().zip(&groups) {
        w.write_record([
            l.list_id.as_str(),
            &g.drg,
            &g.adrg,
            if g.grouped { "1" } else { "0" },
            g.drg_without_cc.as_deref().unwrap_or(""),
            &g.lifting_dx.join("|"),
            g.drg_without_lifting.as_deref().unwrap_or(""),
        ])
        .map_err(csv_err)?;
    }
    w.flush().map_err(csv_err)?;
    let (by_rule, by_hosp) = summarize(&inp, &out);
    let mut w = writer(&a.out, "by_rule.csv")?;
    w.write_record(["rule", "rule_zh", "flags", "mean_score"]).map_err(csv_err)?;
    for (r, (n, sum)) in &by_rule {
        w.write_record([r.key(), r.label_zh(), &n.to_string(), &format!("{:.1}", *sum as f64 / (*n).max(1) as f64)]).map_err(csv_err)?;
    }
    w.flush().map_err(csv_err)?;
    let mut w = writer(&a.out, "by_hospital.csv")?;
    let mut head = vec!["rank_in_tier".to_string(), "hospital_code".into(), "tier".into(), "lists".into(), "flagged_lists".into(), "flag_rate_pct".into(), "score_sum".into()];
    head.extend(AuditRule::ALL.iter().map(|r| r.key().to_string()));
    w.write_record(&head).map_err(csv_err)?;
    // rank hospitals within their tier by flag rate (highest first)
    let mut rows: Vec<(&String, &casemix_audit::HospitalAudit, String)> =
        by_hosp.iter().map(|(h, s)| (h, s, tiers.get(h).cloned().unwrap_or_default())).collect();
    rows.sort_by(|x, y| {
        let rx = x.1.flagged_lists as u128 * y.1.lists.max(1) as u128;
        let ry = y.1.flagged_lists as u128 * x.1.lists.max(1) as u128;
        x.2.cmp(&y.2).then(ry.cmp(&rx)).then(x.0.cmp(y.0))
    });
    let mut rank = 0;
    let mut prev_tier: Option<&str> = None;
    for (h, s, t) in &rows {
        rank = if prev_tier == Some(t.as_str()) { rank + 1 } else { 1 };
        prev_tier = Some(t.as_str());
        let rate = s.flagged_lists as u64 * 10000 / s.lists.max(1) as u64;
        let mut rec = vec![rank.to_string(), h.to_string(), t.clone(), s.lists.to_string(), s.flagged_lists.to_string(), format!("{}.{:02}", rate / 100, rate % 100), s.score_sum.to_string()];
        rec.extend(AuditRule::ALL.iter().map(|r| s.by_rule.get(r).copied().unwrap_or(0).to_string()));
        w.write_record(&rec).map_err(csv_err)?;
    }
    w.flush().map_err(csv_err)?;

    println!(
        "智能审核 (audit)：{} 条清单（审核 {} 条），{} 笔门诊/药店结算，{} 条费用明细，被拒 {} + {} + {} 行",
        lists.len(),
        out.audited.len(),
        claims.len(),
        charges.len(),
        rej.len(),
        crej.len(),
        hrej.len()
    );
    for (r, (n, _)) in &by_rule {
        println!("  {:<24} {:<8} {:>7} 条", r.key(), r.label_zh(), n);
    }
    if let (Some(e), Some(t)) = (qc_errors, t_qc) {
        println!("前置质控：有错误的清单 {} 条；{:.3} 秒，{:.0} 条/秒", e, t.as_secs_f64(), lists.len() as f64 / t.as_secs_f64().max(1e-9));
    }
    println!(
        "读入 {:.2} 秒，分组 {:.2} 秒，审核 {:.2} 秒；审核总耗时(分组+审核) {:.2} 秒；输出目录 {}",
        t_read.as_secs_f64(),
        t_group.as_secs_f64(),
        t_audit.as_secs_f64(),
        (t_group + t_audit).as_secs_f64(),
        a.out.display()
    );
    if let Some(lp) = &a.labels {
        measure(lp, &out, &a.out)?;
    }
    Ok(())
}

/// Precision and recall per rule against `labels.csv` (`id,kind,related_id,note`).
fn measure(path: &Path, out: &AuditOutput, dir: &Path) -> Result<(), String> {
    let mut r = csv::Reader::from_path(path).map_err(|e| format!("无法读取标注 {}：{e}", path.display()))?;
    let h = r.headers().map_err(|e| e.to_string())?.clone();
    let (Some(ci), Some(ck)) = (h.iter().position(|x| x == "id"), h.iter().position(|x| x == "kind")) else {
        return Err("labels.csv 缺少 id 或 kind 列".into());
    };
    let mut labels: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in r.records() {
        let row = row.map_err(|e| e.to_string())?;
        labels.entry(row.get(ck).unwrap_or("").to_string()).or_default().insert(row.get(ci).unwrap_or("").to_string());
    }
    let mut flagged: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for f in &out.flags {
        flagged.entry(f.rule.key()).or_default().insert(f.list_id.as_str());
    }
    let mut w = writer(dir, "measure.csv")?;
    w.write_record(["rule", "flags", "labels", "true_positives", "precision", "recall"]).map_err(csv_err)?;
    println!("测评 (measurement against {})：", path.display());
    println!("  {:<24} {:>7} {:>7} {:>7} {:>9} {:>7}", "rule", "flags", "labels", "tp", "precision", "recall");
    for rule in AuditRule::ALL {
        let k = rule.key();
        let f = flagged.get(k).cloned().unwrap_or_default();
        let empty = BTreeSet::new();
        let l = labels.get(k).unwrap_or(&empty);
        let tp = f.iter().filter(|x| l.contains(**x)).count();
        let p = if f.is_empty() { None } else { Some(tp as f64 / f.len() as f64) };
        let rc = if l.is_empty() { None } else { Some(tp as f64 / l.len() as f64) };
        let s = |x: Option<f64>| x.map(|v| format!("{v:.3}")).unwrap_or_else(|| "-".into());
        println!("  {:<24} {:>7} {:>7} {:>7} {:>9} {:>7}", k, f.len(), l.len(), tp, s(p), s(rc));
        w.write_record([k, &f.len().to_string(), &l.len().to_string(), &tp.to_string(), &s(p), &s(rc)]).map_err(csv_err)?;
    }
    w.flush().map_err(csv_err)
}
