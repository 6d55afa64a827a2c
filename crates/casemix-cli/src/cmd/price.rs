//! `casemix price`: price grouped cases under a policy — per case the payment method, base
//! points, coefficient, outlier kind, final points and (with a point value) the payment, with the
//! reason codes and a Chinese explanation line per step.

use super::settle::{load_cases, load_hospitals, load_policy, load_rates, load_special};
use casemix_pricing::{fen_of_yuan, Decimal, Pricer};
use std::path::PathBuf;
use std::str::FromStr;

#[derive(clap::Args)]
pub struct Args {
    /// 政策文件 (policy TOML)
    #[arg(long)]
    pub policy: PathBuf,
    /// DRG 权重表 weights.csv（DRG 点数法）
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// DIP 病种目录所在目录（含 catalogue.csv）
    #[arg(long)]
    pub catalogue: Option<PathBuf>,
    /// 医院名录 hospitals.csv
    #[arg(long)]
    pub hospitals: Option<PathBuf>,
    /// 特病单议批准清单（每行一个 list_id）
    #[arg(long)]
    pub special: Option<PathBuf>,
    /// 点值（元/点）；给出时计算每例支付金额（四舍五入到分）
    #[arg(long)]
    pub point_value: Option<String>,
    /// 已分组病例文件 (grouped cases)
    pub cases: PathBuf,
    /// 输出 CSV
    #[arg(short = 'o', long)]
    pub out: PathBuf,
}

pub const PRICE_COLUMNS: [&str; 18] = [
    "list_id",
    "hospital_code",
    "group",
    "method",
    "method_zh",
    "base_points",
    "coefficient",
    "outlier",
    "outlier_zh",
    "cost_ratio",
    "final_points",
    "ffs_amount",
    "exclusions_amount",
    "points_payment",
    "payment",
    "expert_review",
    "reasons",
    "explanation",
];

pub fn run(a: Args) -> Result<(), String> {
    let policy = load_policy(&a.policy, &[])?;
    let rates = load_rates(&policy, a.weights.as_deref(), a.catalogue.as_deref())?;
    let hospitals = load_hospitals(a.hospitals.as_deref())?;
    let approved = load_special(a.special.as_deref())?;
    let pv = match &a.point_value {
        Some(s) => Some(Decimal::from_str(s.trim()).map_err(|_| format!("--point-value “{s}”不是有效数值"))?),
        None => None,
    };
    if hospitals.is_empty() && !policy.coefficients.level.is_empty() {
        eprintln!("提示：未给出医院名录 (--hospitals)，等级系数按默认系数 {}", policy.coefficients.default);
    }
    let (cases, rejects) = load_cases(&a.cases, policy.policy.model)?;
    let pricer = Pricer::new(&policy, &rates, &hospitals);
    // approvals name the hospital: a list id is unique only within its hospital
    let policy_approved: std::collections::BTreeSet<(&str, &str)> = policy.special_cases.approved.iter().filter_map(|a| casemix_policy::special_key(a)).collect();
    let is_approved = |i: usize| {
        let c = &cases[i];
        policy_approved.contains(&(c.hospital_code.as_str(), c.list_id.as_str()))
            || approved.contains(&casemix_settlement::CaseKey { hospital_code: c.hospital_code.clone(), list_id: c.list_id.clone() })
    };
    let prices = pricer.price_all(&cases, is_approved, |_| false);
    let err = |e: csv::Error| format!("写出 {} 失败：{e}", a.out.display());
    let mut w = csv::Writer::from_path(&a.out).map_err(err)?;
    w.write_record(PRICE_COLUMNS).map_err(err)?;
    let mut methods: std::collections::BTreeMap<&str, u64> = Default::default();
    for (c, p) in cases.iter().zip(&prices) {
        *methods.entry(p.method.label_zh()).or_default() += 1;
        let (pp, pay, mut expl) = match pv {
            Some(v) => {
                let x = fen_of_yuan(p.final_points * v);
                let step = casemix_pricing::Step::Payment { points: p.final_points, point_value: v, amount: x };
                (x.to_string(), p.payment(v).to_string(), format!("{}；{}", p.explanation_zh(), step.zh()))
            }
            None => (String::new(), String::new(), p.explanation_zh()),
        };
        if pv.is_none() && !p.method.by_points() && p.method != casemix_pricing::Method::NotPaid {
            expl.push_str(&format!("；本例支付 {} 元", p.ffs_amount + p.exclusions_amount));
        }
        w.write_record([
            c.list_id.as_str(),
            c.hospital_code.as_str(),
            c.group.as_deref().unwrap_or(""),
            p.method.code(),
            p.method.label_zh(),
            &p.base_points.normalize().to_string(),
            &p.coefficient.normalize().to_string(),
            p.outlier.code(),
            p.outlier.label_zh(),
            &p.cost_ratio.round_dp(6).normalize().to_string(),
            &format!("{:.4}", p.final_points),
            &p.ffs_amount.to_string(),
            &p.exclusions_amount.to_string(),
            &pp,
            &pay,
            if p.expert_review { "1" } else { "0" },
            &p.reasons(),
            &expl,
        ])
        .map_err(err)?;
    }
    w.flush().map_err(|e| format!("写出失败：{e}"))?;
    let rej_path = a.out.with_extension("rejections.csv");
    let mut r = csv::Writer::from_path(&rej_path).map_err(err)?;
    r.write_record(casemix_io::REJECTION_COLUMNS).map_err(err)?;
    for x in &rejects {
        r.write_record([x.line.to_string(), x.list_id.clone(), x.field.clone(), x.rule.clone(), x.message.clone()]).map_err(err)?;
    }
    r.flush().map_err(|e| format!("写出失败：{e}"))?;
    println!("已计算 {} 例，未能读取 {} 例（见 {}）", prices.len(), rejects.len(), rej_path.display());
    for (m, n) in methods {
        println!("  {m}：{n} 例");
    }
    Ok(())
}
