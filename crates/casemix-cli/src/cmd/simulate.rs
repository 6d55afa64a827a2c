//! `casemix simulate`: re-settle the same year under changed policy parameters
//! (`--change coefficients.level.三级甲等=1.05`) and report the per-hospital difference.

use super::settle::{load, Common};
use casemix_settlement::{compare, Period};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub common: Common,
    /// 参数修改（可多次）：点分路径=值，如 coefficients.level.三级甲等=1.05、outliers.high.multiplier=2.5、tiers.0.floating_rate=-0.01
    #[arg(long = "change", required = true)]
    pub changes: Vec<String>,
    /// 差异表输出 CSV（不给则只打印）
    #[arg(short = 'o', long)]
    pub out: Option<PathBuf>,
}

pub fn run(a: Args) -> Result<(), String> {
    let mut changes = Vec::new();
    for c in &a.changes {
        let (k, v) = c.split_once('=').ok_or_else(|| format!("--change “{c}”应为 键=值"))?;
        changes.push((k.trim().to_string(), v.trim().to_string()));
    }
    let base = load(&a.common, &[])?;
    let changed = load(&a.common, &changes)?;
    let s0 = base.settle(Period::Year);
    let s1 = changed.settle(Period::Year);
    let diffs = compare(&s0, &s1);
    println!("政策模拟：{}（{} 年）", base.policy.policy.region, base.policy.policy.year);
    for (k, v) in &changes {
        println!("  修改 {k} = {v}");
    }
    println!(
        "点值：{} → {}",
        s0.summary.tiers.iter().map(|t| format!("{}{:.6}", t.name, t.point_value)).collect::<Vec<_>>().join(" / "),
        s1.summary.tiers.iter().map(|t| format!("{}{:.6}", t.name, t.point_value)).collect::<Vec<_>>().join(" / ")
    );
    println!("{:<12} {:>16} {:>16} {:>14}", "医院", "原应拨付", "模拟应拨付", "差额");
    for d in &diffs {
        println!("{:<12} {:>16} {:>16} {:>14}", d.hospital_code, d.base_net.to_string(), d.changed_net.to_string(), d.diff.to_string());
    }
    println!(
        "合计：{} → {}；未分配余额 {} → {}",
        s0.summary.net_payments, s1.summary.net_payments, s0.summary.remainder, s1.summary.remainder
    );
    if let Some(out) = &a.out {
        let err = |e: csv::Error| format!("写出 {} 失败：{e}", out.display());
        let mut w = csv::Writer::from_path(out).map_err(err)?;
        w.write_record(["hospital_code", "hospital_name", "base_points", "changed_points", "base_net", "changed_net", "diff"]).map_err(err)?;
        for d in &diffs {
            w.write_record([
                d.hospital_code.clone(),
                d.hospital_name.clone(),
                format!("{:.4}", d.base_points),
                format!("{:.4}", d.changed_points),
                d.base_net.to_string(),
                d.changed_net.to_string(),
                d.diff.to_string(),
            ])
            .map_err(err)?;
        }
        w.flush().map_err(|e| format!("写出失败：{e}"))?;
    }
    Ok(())
}
