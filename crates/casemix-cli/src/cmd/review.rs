//! `casemix review`: 审核复核与扣款. Applies reviewers' decisions (`decisions.csv`:
//! `flag_id,decision,reason,reviewer`, decision confirm|dismiss) to the flags of `casemix audit`
//! and writes `deductions.csv` (`list_id,hospital_code,rule,action,target,amount,reason`, then
//! `reviewer,flag_id`) for the settlement engine, plus `noted.csv` (confirmed quality findings
//! without payment change), `pending.csv` and `review_rejected.csv`. Dismissed flags produce
//! nothing.

use super::qc::writer;
use casemix_audit::{review, Action, AuditRule, Decision, ReviewFlag};
use casemix_model::Fen;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// casemix audit 输出的 flags.csv (flags)
    #[arg(long)]
    pub flags: PathBuf,
    /// 复核结论 decisions.csv：flag_id,decision(confirm|dismiss),reason,reviewer
    #[arg(long)]
    pub decisions: PathBuf,
    /// 输出目录 (output directory)
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
}

fn csv_err(e: impl std::fmt::Display) -> String {
    format!("写出失败：{e}")
}

fn table(p: &PathBuf) -> Result<(csv::StringRecord, Vec<(u64, csv::StringRecord)>), String> {
    let mut r = csv::ReaderBuilder::new().flexible(true).from_path(p).map_err(|e| format!("无法读取 {}：{e}", p.display()))?;
    let h = r.headers().map_err(|e| format!("{}：{e}", p.display()))?.clone();
    let h: csv::StringRecord = h.iter().map(|x| x.trim_start_matches('\u{feff}').trim()).collect();
    let mut rows = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| format!("{} 第 {} 行：{e}", p.display(), i + 2))?;
        rows.push((rec.position().map(|p| p.line()).unwrap_or(i as u64 + 2), rec));
    }
    Ok((h, rows))
}

pub fn run(a: Args) -> Result<(), String> {
    let (fh, frows) = table(&a.flags)?;
    let col = |h: &csv::StringRecord, n: &str| h.iter().position(|x| x == n);
    let need = ["flag_id", "list_id", "rule", "hospital_code", "action", "target", "amount"];
    let fc: Vec<usize> = need.iter().map(|n| col(&fh, n).ok_or_else(|| format!("flags.csv 缺少列 {n}"))).collect::<Result<_, _>>()?;
    let mut flags = Vec::new();
    let mut bad: Vec<(u64, String, String)> = Vec::new();
    for (line, r) in &frows {
        let g = |k: usize| r.get(fc[k]).unwrap_or("").to_string();
        let Some(rule) = AuditRule::from_key(&g(2)) else {
            bad.push((*line, g(0), format!("flags.csv 第 {line} 行：审核规则“{}”未知", g(2))));
            continue;
        };
        let Some(action) = Action::from_key(&g(4)) else {
            bad.push((*line, g(0), format!("flags.csv 第 {line} 行：处理方式“{}”未知", g(4))));
            continue;
        };
        let amount = if g(6).is_empty() { Ok(Fen::ZERO) } else { Fen::parse_yuan(&g(6)) };
        let Ok(amount) = amount else {
            bad.push((*line, g(0), format!("flags.csv 第 {line} 行：金额“{}”无效", g(6))));
            continue;
        };
        flags.push(ReviewFlag { flag_id: g(0), list_id: g(1), hospital_code: g(3), rule, action, target: g(5), amount });
    }
    let (dh, drows) = table(&a.decisions)?;
    let (Some(ci), Some(cd)) = (col(&dh, "flag_id"), col(&dh, "decision")) else {
        return Err("decisions.csv 缺少列 flag_id 或 decision".into());
    };
    let (cr, cw) = (col(&dh, "reason"), col(&dh, "reviewer"));
    let decisions: Vec<Decision> = drows
        .iter()
        .map(|(line, r)| {
            let g = |c: Option<usize>| c.and_then(|c| r.get(c)).unwrap_or("").to_string();
            Decision { line: *line, flag_id: g(Some(ci)), decision: g(Some(cd)), reason: g(cr), reviewer: g(cw) }
        })
        .collect();
    let mut o = review(&flags, &decisions);
    o.rejected.extend(bad);

    std::fs::create_dir_all(&a.out).map_err(|e| format!("无法创建输出目录 {}：{e}", a.out.display()))?;
    for (name, rows) in [("deductions.csv", &o.deductions), ("noted.csv", &o.noted)] {
        let mut w = writer(&a.out, name)?;
        w.write_record(["list_id", "hospital_code", "rule", "action", "target", "amount", "reason", "reviewer", "flag_id"]).map_err(csv_err)?;
        for d in rows {
            // amount is only a deduction for action `amount`; for the other actions the
            // settlement engine reprices the case itself
            let amount = if d.action == Action::Amount { d.amount.to_string() } else { String::new() };
            w.write_record([&d.list_id, &d.hospital_code, d.rule.key(), d.action.key(), &d.target, &amount, &d.reason, &d.reviewer, &d.flag_id]).map_err(csv_err)?;
        }
        w.flush().map_err(csv_err)?;
    }
    let mut w = writer(&a.out, "pending.csv")?;
    w.write_record(["flag_id"]).map_err(csv_err)?;
    for p in &o.pending {
        w.write_record([p]).map_err(csv_err)?;
    }
    w.flush().map_err(csv_err)?;
    let mut w = writer(&a.out, "review_rejected.csv")?;
    w.write_record(["line", "flag_id", "message"]).map_err(csv_err)?;
    for (l, id, m) in &o.rejected {
        w.write_record([&l.to_string(), id, m]).map_err(csv_err)?;
    }
    w.flush().map_err(csv_err)?;
    let total: Fen = o.deductions.iter().filter(|d| d.action == Action::Amount).map(|d| d.amount).sum();
    println!(
        "复核 (review)：标记 {} 个；确认 {} 个（扣款记录 {} 条，其中扣款金额合计 {} 元；质量记录 {} 条），排除 {} 个，待复核 {} 个，无效复核行 {} 行",
        flags.len(),
        o.deductions.len() + o.noted.len(),
        o.deductions.len(),
        total,
        o.noted.len(),
        o.dismissed.len(),
        o.pending.len(),
        o.rejected.len()
    );
    Ok(())
}
