//! `casemix settle month|year`: monthly settlement and year-end clearing of a region under a
//! policy file; writes per-hospital statements (CSV, XLSX, printable HTML), the region summary,
//! the per-case payments and the rejections. Also the loaders `price` and `simulate` share.

use casemix_model::{Fen, SettlementList};
use casemix_policy::{Model, Policy};
use casemix_pricing::{hospitals_from_csv, CaseInput, Decimal, Hospital, RateTable};
use casemix_settlement::{
    deductions_from_csv, indicators_from_csv, settle, CaseKey, Deduction, FxHashSet, HospitalStatement, IndicatorRow, Period, SettleInput, Settlement,
};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Inputs every payment command reads.
#[derive(clap::Args, Clone)]
pub struct Common {
    /// 政策文件 (policy TOML, e.g. examples/wuxi-drg-2025.toml)
    #[arg(long)]
    pub policy: PathBuf,
    /// 已分组病例文件（casemix group --full / casemix dip group --full 的输出）(grouped cases)
    #[arg(long)]
    pub cases: PathBuf,
    /// DRG 权重表 weights.csv（DRG 点数法）
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// DIP 病种目录所在目录（含 catalogue.csv）（DIP 分值）
    #[arg(long)]
    pub catalogue: Option<PathBuf>,
    /// 医院名录 hospitals.csv（code,name,level,tier,…）
    #[arg(long)]
    pub hospitals: Option<PathBuf>,
    /// 特病单议批准清单（每行 hospital_code,list_id，可有表头）(approved special cases)
    #[arg(long)]
    pub special: Option<PathBuf>,
    /// 前置质控所用分组方案（目录或编号）：给出时先对每份清单做质控，有“错误”级问题的清单按政策
    /// [qc_gate] 暂缓结算（待补正）；不给出时读病例文件中的 qc_errors 列（无此列则不执行闸门）
    #[arg(long)]
    pub qc_scheme: Option<String>,
    /// 方案库目录（--qc-scheme 为编号时在此查找）
    #[arg(long, default_value = super::common::DEFAULT_SCHEMES_DIR)]
    pub qc_schemes_dir: PathBuf,
    /// 经办机构认可的质控有误清单（hospital_code,list_id）：这些清单不暂缓
    #[arg(long)]
    pub qc_accepted: Option<PathBuf>,
    /// 审核扣减 deductions.csv（casemix review 输出）
    #[arg(long)]
    pub deductions: Option<PathBuf>,
    /// 清算指标与考核得分（hospital_code,<指标>…,assessment_score）
    #[arg(long)]
    pub indicators: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(clap::Subcommand)]
pub enum What {
    /// 校验政策文件并打印要点 (validate a policy file)
    Check {
        /// 政策文件 (policy TOML)
        policy: PathBuf,
    },
    /// 月度结算：预算点值、月度预拨、预留质量保证金 (monthly settlement)
    Month {
        #[command(flatten)]
        common: Common,
        /// 结算月份 YYYY-MM
        #[arg(long)]
        month: String,
        /// 输出目录
        #[arg(short = 'o', long)]
        out: PathBuf,
    },
    /// 年终清算：结算点值、清算系数、结余留用、扣减、保证金返还 (year-end clearing)
    Year {
        #[command(flatten)]
        common: Common,
        /// 清算年度
        #[arg(long)]
        year: i32,
        /// 输出目录
        #[arg(short = 'o', long)]
        out: PathBuf,
    },
}

fn read_text(p: &Path, what: &str) -> Result<String, String> {
    std::fs::read_to_string(p).map_err(|e| format!("无法读取{what} {}：{e}", p.display()))
}

/// Reads and validates the policy, with `key=value` changes applied.
pub fn load_policy(path: &Path, changes: &[(String, String)]) -> Result<Policy, String> {
    let text = read_text(path, "政策文件")?;
    casemix_policy::parse_with_changes(&text, changes).map_err(|errs| {
        let mut s = format!("政策文件 {} 校验未通过：", path.display());
        for e in errs {
            s.push_str(&format!("\n  - {e}"));
        }
        s
    })
}

/// Loads the weights (DRG) or the catalogue (DIP) the policy's model needs.
pub fn load_rates(policy: &Policy, weights: Option<&Path>, catalogue: Option<&Path>) -> Result<RateTable, String> {
    let errs = |path: &Path, e: Vec<casemix_pricing::RateError>| {
        let mut s = format!("{} 有错误：", path.display());
        for x in e.iter().take(20) {
            s.push_str(&format!("\n  - {x}"));
        }
        s
    };
    match (policy.policy.model, weights, catalogue) {
        (Model::DrgPoints, Some(w), _) => RateTable::from_weights_csv(&read_text(w, "权重表")?, policy.policy.points_scale.0).map_err(|e| errs(w, e)),
        (Model::DipScores, _, Some(dir)) => {
            let f = if dir.is_dir() { dir.join("catalogue.csv") } else { dir.to_path_buf() };
            RateTable::from_catalogue_csv(&read_text(&f, "病种目录")?).map_err(|e| errs(&f, e))
        }
        (Model::DrgPoints, None, _) => Err("政策 policy.model = drg_points：须用 --weights 给出权重表 weights.csv".into()),
        (Model::DipScores, _, None) => Err("政策 policy.model = dip_scores：须用 --catalogue 给出病种目录目录".into()),
    }
}

pub fn load_hospitals(path: Option<&Path>) -> Result<Vec<Hospital>, String> {
    match path {
        None => Ok(Vec::new()),
        Some(p) => hospitals_from_csv(&read_text(p, "医院名录")?).map_err(|e| {
            format!("医院名录 {} 有错误：{}", p.display(), e.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("；"))
        }),
    }
}

/// A record that did not become a priced case.
#[derive(Debug, Clone)]
pub struct Reject {
    pub line: u64,
    pub list_id: String,
    pub field: String,
    pub rule: String,
    pub message: String,
}

fn extra<'a>(l: &'a SettlementList, key: &str) -> Option<&'a str> {
    l.extra.iter().find(|(h, _)| h.trim() == key).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

/// Whether a grouper status means "grouped" (分组成功, 歧义病案 and DIP statuses other than
/// failures); a missing status column counts as grouped when a code is present.
fn status_ok(status: Option<&str>) -> bool {
    match status {
        None => true,
        Some(s) => {
            let s = s.to_ascii_lowercase();
            !(s.contains("无法") || s.contains("未入组") || s.contains("不通过") || s.contains("失败") || s.contains("error") || s.contains("fail") || s.contains("invalid"))
        }
    }
}

/// Reads `excluded_items` = `code:yuan|code:yuan`.
fn excluded_items(v: &str) -> Result<Vec<(String, Fen)>, String> {
    let mut out = Vec::new();
    for part in v.split('|').map(str::trim).filter(|p| !p.is_empty()) {
        let (code, amt) = part.split_once(':').ok_or_else(|| format!("除外项目“{part}”应为 编码:金额"))?;
        let f = Fen::parse_yuan(amt).map_err(|e| format!("除外项目“{part}”金额{}", e.message_zh()))?;
        out.push((code.trim().to_string(), f));
    }
    Ok(out)
}

/// Converts a grouped settlement list into the pricing input.
pub fn case_input(l: &SettlementList, model: Model) -> Result<CaseInput, (String, String, String)> {
    let code_key = match model {
        Model::DrgPoints => "drg",
        Model::DipScores => "dip_code",
    };
    let group = extra(l, code_key).filter(|c| *c != "0000").map(str::to_string);
    let grouped_ok = group.is_some() && status_ok(extra(l, "status"));
    let Some(dt) = l.discharge_time else {
        return Err(("discharge_time".into(), "discharge_time_missing".into(), "缺少出院时间，无法确定结算月份".into()));
    };
    use chrono::Datelike;
    let excluded = match extra(l, "excluded_items") {
        Some(v) => excluded_items(v).map_err(|m| ("excluded_items".to_string(), "excluded_items".to_string(), m))?,
        None => Vec::new(),
    };
    let aux_factor = match extra(l, "aux_factor") {
        Some(v) => Some(Decimal::from_str(v).map_err(|_| ("aux_factor".to_string(), "aux_factor".to_string(), format!("辅助目录系数“{v}”不是数值")))?),
        None => None,
    };
    let total = l.total_cost.unwrap_or_else(|| l.fee_sum());
    Ok(CaseInput {
        list_id: l.list_id.clone(),
        hospital_code: l.hospital_code.clone().unwrap_or_default(),
        group,
        grouped_ok,
        total_cost: total,
        selfpay: l.selfpay_items.unwrap_or(Fen::ZERO),
        excluded_items: excluded,
        los_days: l.los_days.unwrap_or(0),
        leaving_type: l.leaving_type.map(|x| x.code()),
        year: dt.year(),
        month: dt.month(),
        others_paid: [l.personal_pay, l.supplementary_pay, l.assistance_pay].iter().map(|f| f.unwrap_or(Fen::ZERO)).sum(),
        aux_factor,
        insured_id: l.insured_id.clone().unwrap_or_default(),
        admit_day: l.admit_time.map(|t| t.date().num_days_from_ce() as i64),
        discharge_day: Some(dt.date().num_days_from_ce() as i64),
        qc_errors: qc_errors_column(l)?,
        qc_accepted: matches!(extra(l, "qc_accepted"), Some("true" | "1" | "是")),
    })
}

/// The `qc_errors` column of a case file (e.g. an export of the workbench), when present.
fn qc_errors_column(l: &SettlementList) -> Result<u32, (String, String, String)> {
    match extra(l, "qc_errors") {
        None => Ok(0),
        Some(v) => v.parse::<u32>().map_err(|_| ("qc_errors".into(), "qc_errors".into(), format!("质控错误数“{v}”应为非负整数"))),
    }
}

/// Reads grouped cases through casemix-io; bad records become rejections.
pub fn load_cases(path: &Path, model: Model) -> Result<(Vec<CaseInput>, Vec<Reject>), String> {
    load_cases_qc(path, model, None).map(|c| (c.cases, c.rejects))
}

/// Grouped cases with the file line of each and whether QC ran.
pub struct CaseFile {
    pub cases: Vec<CaseInput>,
    /// File line of each case (header = line 1).
    pub lines: Vec<u64>,
    pub rejects: Vec<Reject>,
    /// Whether QC counts are known (a QC run, or a `qc_errors` column).
    pub qc_known: bool,
}

/// Counts the 错误-severity findings of each list (per-list rules; the batch rules — duplicates,
/// overlapping stays — are the settlement's own: a re-submission replaces the earlier list).
fn qc_error_counts(qc: &casemix_qc::Qc, lists: &[SettlementList]) -> Vec<u32> {
    let mut out = Vec::new();
    let mut counts = vec![0u32; lists.len()];
    for (i, l) in lists.iter().enumerate() {
        out.clear();
        qc.check_list(i, l, &mut out);
        counts[i] = out.iter().filter(|f| f.severity() == casemix_qc::Severity::Error).count() as u32;
    }
    counts
}

/// [`load_cases`] with the QC of each list when `qc` is given.
pub fn load_cases_qc(path: &Path, model: Model, qc: Option<&casemix_qc::Qc>) -> Result<CaseFile, String> {
    let mut bytes = std::fs::read(path).map_err(|e| format!("无法读取病例文件 {}：{e}", path.display()))?;
    // `casemix dip group --full` appends an `id` column after `list_id`; both name the list id,
    // which the reader refuses as a duplicate header: the appended one is renamed.
    let end = bytes.iter().position(|&b| b == b'\n').unwrap_or(bytes.len());
    let header = String::from_utf8_lossy(&bytes[..end]).to_string();
    let cols: Vec<&str> = header.trim_end_matches('\r').split(',').collect();
    if cols.iter().any(|c| c.trim_start_matches('\u{feff}') == "list_id") && cols.contains(&"id") {
        let fixed: Vec<&str> = cols.iter().map(|c| if *c == "id" { "group_list_id" } else { c }).collect();
        let mut b = fixed.join(",").into_bytes();
        b.extend_from_slice(&bytes[end..]);
        bytes = b;
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // each list keeps its real file line, so that a refusal names it even after rows the
    // reader refused (e.g. an amount outside its domain)
    let read = casemix_workbench::read_lists(&bytes, &name, &casemix_io::ReadLimits::default()).map_err(|e| format!("{e}（{}）", path.display()))?;
    let (lists, file_lines) = (read.lists, read.lines);
    let mut rejects: Vec<Reject> =
        read.rejections.into_iter().map(|r| Reject { line: r.line, list_id: r.list_id, field: r.field, rule: r.rule, message: r.message }).collect();
    let qc_counts = qc.map(|q| qc_error_counts(q, &lists));
    let qc_known = qc.is_some() || lists.iter().any(|l| extra(l, "qc_errors").is_some());
    let mut cases = Vec::with_capacity(lists.len());
    let mut lines = Vec::with_capacity(lists.len());
    for (i, l) in lists.iter().enumerate() {
        match case_input(l, model) {
            Ok(mut c) => {
                if let Some(n) = qc_counts.as_ref().and_then(|q| q.get(i)) {
                    c.qc_errors = *n;
                }
                cases.push(c);
                lines.push(file_lines[i]);
            }
            Err((field, rule, message)) => rejects.push(Reject { line: file_lines[i], list_id: l.list_id.clone(), field, rule, message: format!("list_id={}：{message}", l.list_id) }),
        }
    }
    Ok(CaseFile { cases, lines, rejects, qc_known })
}

/// Reads a `hospital_code,list_id` file (header optional); a line without both is an error
/// naming the line — an approval or acceptance must say whose list it is.
fn load_keys(path: &Path, what: &str) -> Result<FxHashSet<CaseKey>, String> {
    let mut s = FxHashSet::default();
    for (n, line) in read_text(path, what)?.lines().enumerate() {
        let cols: Vec<&str> = line.split(',').map(|c| c.trim().trim_start_matches('\u{feff}').trim()).collect();
        match cols.as_slice() {
            [] | [""] => continue,
            ["hospital_code", "list_id", ..] => continue,
            [h, l, ..] if !h.is_empty() && !l.is_empty() => {
                s.insert(CaseKey { hospital_code: h.to_string(), list_id: l.to_string() });
            }
            _ => {
                return Err(format!(
                    "{what} {} 第 {} 行“{line}”：每行须为 hospital_code,list_id（清单流水号只在本院内唯一，须写明医院编码）",
                    path.display(),
                    n + 1
                ))
            }
        }
    }
    Ok(s)
}

/// Approved special cases (特病单议): `hospital_code,list_id` per line.
pub fn load_special(path: Option<&Path>) -> Result<FxHashSet<CaseKey>, String> {
    match path {
        None => Ok(FxHashSet::default()),
        Some(p) => load_keys(p, "特病单议清单"),
    }
}

pub fn load_deductions(path: Option<&Path>) -> Result<(Vec<Deduction>, Vec<Reject>), String> {
    let Some(p) = path else { return Ok((Vec::new(), Vec::new())) };
    let (d, e) = deductions_from_csv(&read_text(p, "扣减文件")?);
    let rej = e
        .into_iter()
        .map(|x| Reject { line: x.line, list_id: String::new(), field: x.column, rule: "deduction_row".into(), message: format!("扣减文件：{}", x.message) })
        .collect();
    Ok((d, rej))
}

pub fn load_indicators(path: Option<&Path>) -> Result<BTreeMap<String, IndicatorRow>, String> {
    let Some(p) = path else { return Ok(BTreeMap::new()) };
    let (m, e) = indicators_from_csv(&read_text(p, "清算指标文件")?);
    if let Some(x) = e.first() {
        return Err(format!("清算指标文件 {}：{x}", p.display()));
    }
    Ok(m)
}

/// Everything loaded for a settlement.
pub struct Loaded {
    pub policy: Policy,
    pub rates: RateTable,
    pub hospitals: Vec<Hospital>,
    pub cases: Vec<CaseInput>,
    /// File line of each case.
    pub lines: Vec<u64>,
    pub rejects: Vec<Reject>,
    /// Whether the settlement gate had QC results to act on.
    pub qc_known: bool,
    pub approved: FxHashSet<CaseKey>,
    pub deductions: Vec<Deduction>,
    pub indicators: BTreeMap<String, IndicatorRow>,
}

pub fn load(c: &Common, changes: &[(String, String)]) -> Result<Loaded, String> {
    let policy = load_policy(&c.policy, changes)?;
    let rates = load_rates(&policy, c.weights.as_deref(), c.catalogue.as_deref())?;
    let hospitals = load_hospitals(c.hospitals.as_deref())?;
    if !policy.tiers.is_empty() && hospitals.is_empty() {
        return Err("政策设置了医院分档 (tiers)：须用 --hospitals 给出医院名录（含 tier 列）".into());
    }
    if hospitals.is_empty() && !(policy.coefficients.level.is_empty() && policy.coefficients.hospital.is_empty()) {
        eprintln!("提示：未给出医院名录 (--hospitals)，等级系数无法按医院等级取值，除单家医院系数外均按默认系数 {}", policy.coefficients.default);
    }
    let qc = match &c.qc_scheme {
        Some(scheme) => {
            let g = super::common::load_grouper(scheme, &c.qc_schemes_dir)?;
            Some(casemix_qc::Qc::new(g.dictionaries(), casemix_qc::QcConfig::default()))
        }
        None => None,
    };
    let CaseFile { mut cases, lines, mut rejects, qc_known } = load_cases_qc(&c.cases, policy.policy.model, qc.as_ref())?;
    if let Some(p) = &c.qc_accepted {
        let accepted = load_keys(p, "质控认可清单")?;
        for x in cases.iter_mut() {
            if accepted.contains(&CaseKey { hospital_code: x.hospital_code.clone(), list_id: x.list_id.clone() }) {
                x.qc_accepted = true;
            }
        }
    }
    if !qc_known && policy.qc_gate.hold_on_errors {
        eprintln!("提示：未给出 --qc-scheme，病例文件也没有 qc_errors 列：结算闸门 [qc_gate] 无质控结果可依，本次未暂缓任何清单");
    }
    let approved = load_special(c.special.as_deref())?;
    let (deductions, drej) = load_deductions(c.deductions.as_deref())?;
    rejects.extend(drej);
    let indicators = load_indicators(c.indicators.as_deref())?;
    Ok(Loaded { policy, rates, hospitals, cases, lines, rejects, qc_known, approved, deductions, indicators })
}

impl Loaded {
    pub fn settle(&self, period: Period) -> Settlement {
        let pricer = casemix_pricing::Pricer::new(&self.policy, &self.rates, &self.hospitals);
        settle(
            &SettleInput {
                pricer: &pricer,
                hospitals: &self.hospitals,
                cases: &self.cases,
                approved: &self.approved,
                deductions: &self.deductions,
                indicators: &self.indicators,
            },
            period,
        )
    }
}

pub const STATEMENT_COLUMNS: [&str; 26] = [
    "hospital_code",
    "cases",
    "total_points",
    "point_value",
    "group_payment",
    "ffs_payment",
    "exclusions_payment",
    "deductions",
    "deposit_withheld",
    "deposit_returned",
    "clearing_adjustment",
    "net_payment",
    "hospital_name",
    "level",
    "tier",
    "points_value",
    "actual_cost",
    "clearing_coefficient",
    "floating_rate",
    "others_paid",
    "fund_payment",
    "assessment_score",
    "advances_paid",
    "balance_due",
    "held_cases",
    "held_cost",
];

pub const STATEMENT_LABELS_ZH: [&str; 26] = [
    "医院编码",
    "病例数",
    "总点数",
    "点值(元/点)",
    "病组支付",
    "按项目支付",
    "除外支付",
    "审核扣减",
    "预留质量保证金",
    "返还质量保证金",
    "清算调整",
    "应拨付金额",
    "医院名称",
    "医院等级",
    "档次",
    "点数价值",
    "实际费用",
    "清算系数",
    "浮动费率",
    "个人及其他已付",
    "基金应付",
    "考核得分",
    "已按月预拨",
    "清算应补拨",
    "待补正病例数",
    "待补正金额",
];

fn dec_s(d: &Decimal) -> String {
    d.normalize().to_string()
}
fn opt_s(d: &Option<Decimal>) -> String {
    d.as_ref().map(dec_s).unwrap_or_default()
}

pub fn statement_row(s: &HospitalStatement) -> Vec<String> {
    vec![
        s.hospital_code.clone(),
        s.cases.to_string(),
        format!("{:.4}", s.total_points),
        format!("{:.6}", s.point_value),
        s.group_payment.to_string(),
        s.ffs_payment.to_string(),
        s.exclusions_payment.to_string(),
        s.deductions.to_string(),
        s.deposit_withheld.to_string(),
        s.deposit_returned.to_string(),
        s.clearing_adjustment.to_string(),
        s.net_payment.to_string(),
        s.hospital_name.clone(),
        s.level.clone(),
        s.tier.to_string(),
        s.points_value.to_string(),
        s.actual_cost.to_string(),
        opt_s(&s.clearing_coefficient),
        dec_s(&s.floating_rate),
        s.others_paid.to_string(),
        s.fund_payment.to_string(),
        opt_s(&s.assessment_score),
        s.advances_paid.map(|f| f.to_string()).unwrap_or_default(),
        s.balance_due.map(|f| f.to_string()).unwrap_or_default(),
        s.held_cases.to_string(),
        s.held_cost.to_string(),
    ]
}

fn xlsx_row(s: &HospitalStatement) -> Vec<casemix_io::XlsxCell> {
    use casemix_io::XlsxCell as C;
    let f = C::Fen;
    vec![
        C::Text(s.hospital_code.clone()),
        C::Int(s.cases as i64),
        C::Text(format!("{:.4}", s.total_points)),
        C::Text(format!("{:.6}", s.point_value)),
        f(s.group_payment),
        f(s.ffs_payment),
        f(s.exclusions_payment),
        f(s.deductions),
        f(s.deposit_withheld),
        f(s.deposit_returned),
        f(s.clearing_adjustment),
        f(s.net_payment),
        C::Text(s.hospital_name.clone()),
        C::Text(s.level.clone()),
        C::Int(s.tier as i64),
        f(s.points_value),
        f(s.actual_cost),
        C::Text(opt_s(&s.clearing_coefficient)),
        C::Text(dec_s(&s.floating_rate)),
        f(s.others_paid),
        f(s.fund_payment),
        C::Text(opt_s(&s.assessment_score)),
        s.advances_paid.map(f).unwrap_or(C::Empty),
        s.balance_due.map(f).unwrap_or(C::Empty),
        C::Int(s.held_cases as i64),
        f(s.held_cost),
    ]
}

/// Region summary as (key, Chinese label, value) rows; `qc_known` says whether the settlement
/// gate had QC results to act on.
pub fn summary_rows(s: &Settlement, qc_known: bool) -> Vec<(String, String, String)> {
    let m = &s.summary;
    let mut r: Vec<(String, String, String)> = vec![
        ("region".into(), "统筹区".into(), m.region.clone()),
        ("period".into(), "结算期间".into(), m.period.clone()),
        ("budget".into(), "住院总费用预算".into(), m.budget.to_string()),
        ("adjustment_fund".into(), "区域调剂金".into(), m.adjustment_fund.to_string()),
        ("distributable".into(), "可分配预算".into(), m.distributable.to_string()),
    ];
    for t in &m.tiers {
        let p = format!("tier{}", t.tier);
        r.push((format!("{p}.budget"), format!("{} 预算", t.name), t.budget.to_string()));
        r.push((format!("{p}.paid_at_cost"), format!("{} 按项目/除外先行支付", t.name), t.paid_at_cost.to_string()));
        r.push((format!("{p}.points_pool"), format!("{} 点数分配额", t.name), t.points_pool.to_string()));
        r.push((format!("{p}.total_points"), format!("{} 总点数", t.name), format!("{:.4}", t.total_points)));
        r.push((format!("{p}.point_value"), format!("{} 点值(元/点)", t.name), format!("{:.6}", t.point_value)));
        r.push((format!("{p}.distributed_by_points"), format!("{} 按点数分配", t.name), t.distributed_by_points.to_string()));
    }
    r.extend([
        ("cases".into(), "结算病例数".into(), m.cases.to_string()),
        (
            "qc_gate".into(),
            "结算闸门（前置质控有错误的清单暂缓结算）".into(),
            if qc_known { "已执行".into() } else { "未执行（无质控结果：用 --qc-scheme 或 qc_errors 列）".into() },
        ),
        ("held_cases".into(), "待补正（暂缓结算）病例数".into(), m.held_cases.to_string()),
        ("held_cost".into(), "待补正病例金额合计（未支付）".into(), m.held_cost.to_string()),
        ("special_cases".into(), "特病单议病例数".into(), m.special_cases.to_string()),
        ("rejected".into(), "未参与结算记录数".into(), (m.rejected as usize).to_string()),
        ("net_payments".into(), "各医院应拨付合计".into(), m.net_payments.to_string()),
        ("remainder".into(), "未分配余额".into(), m.remainder.to_string()),
        ("remainder.pool_undistributed".into(), "其中：点数分配额未分配（负数为超支）".into(), m.remainder_pool_undistributed.to_string()),
        ("remainder.pool_by_value".into(), "　其中：按预算点值/点值区间计付的差额".into(), m.remainder_pool_by_value.to_string()),
        ("remainder.pool_rounding".into(), "　其中：四舍五入到分的差额".into(), m.remainder_pool_rounding.to_string()),
        ("remainder.pool_not_distributable".into(), "　其中：无点数可分配或分配额不足（含全部待补正）".into(), m.remainder_pool_not_distributable.to_string()),
        ("remainder.advance_retained".into(), "其中：月度未预拨部分".into(), m.remainder_advance_retained.to_string()),
        ("remainder.clearing_retained".into(), "其中：清算调整留存".into(), m.remainder_clearing_retained.to_string()),
        ("remainder.deductions".into(), "其中：审核扣减".into(), m.remainder_deductions.to_string()),
        ("remainder.deposit_retained".into(), "其中：未返还质量保证金".into(), m.remainder_deposit_retained.to_string()),
    ]);
    let check = s.check_balance();
    r.extend([
        ("check.case_payments".into(), "病例明细支付合计（分项独立加总）".into(), Fen(clamp_i64(check.case_payments)).to_string()),
        ("check.statement_payments".into(), "结算单点数价值+按项目+除外合计".into(), Fen(clamp_i64(check.statement_payments)).to_string()),
        ("check.statement_net".into(), "结算单应拨付合计".into(), Fen(clamp_i64(check.statement_net)).to_string()),
        (
            "balanced".into(),
            "预算平衡校验（病例明细、结算单、预算三方独立加总）".into(),
            if check.ok() { "是".into() } else { format!("否：{}", check.problems.join("；")) },
        ),
    ]);
    r
}

fn clamp_i64(x: i128) -> i64 {
    x.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The printable Chinese statement of one hospital.
pub fn statement_html(st: &Settlement, h: &HospitalStatement) -> String {
    let title = match st.period {
        Period::Year => format!("{} 年度医保住院费用清算单", st.summary.period),
        Period::Month(_) => format!("{} 月度医保住院费用结算单", st.summary.period),
    };
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>body{{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em;}}table{{border-collapse:collapse;min-width:32em}}td,th{{border:1px solid #444;padding:4px 10px}}td.n{{text-align:right}}h1{{font-size:1.4em}}.sign{{margin-top:3em}}@media print{{body{{margin:1cm}}}}</style></head><body>\n",
        esc(&title)
    );
    let _ = writeln!(o, "<h1>{}</h1>", esc(&title));
    let _ = writeln!(
        o,
        "<p>统筹区：{}　医院：{}（{}）　等级：{}　档次：{}</p>",
        esc(&st.summary.region),
        esc(&h.hospital_name),
        esc(&h.hospital_code),
        esc(&h.level),
        h.tier
    );
    let _ = writeln!(o, "<table><tr><th>项目</th><th>金额/数值</th></tr>");
    let row = |o: &mut String, k: &str, v: String| {
        let _ = writeln!(o, "<tr><td>{}</td><td class=\"n\">{}</td></tr>", esc(k), esc(&v));
    };
    row(&mut o, "结算病例数", h.cases.to_string());
    if h.held_cases > 0 {
        row(&mut o, "待补正（暂缓结算）病例数", h.held_cases.to_string());
        row(&mut o, "待补正病例金额合计（未支付）", h.held_cost.to_string());
    }
    row(&mut o, "总点数", format!("{:.4}", h.total_points));
    row(&mut o, "点值（元/点）", format!("{:.6}", h.point_value));
    row(&mut o, "点数价值（元）", h.points_value.to_string());
    row(&mut o, "病组支付（元）", h.group_payment.to_string());
    row(&mut o, "按项目支付（元）", h.ffs_payment.to_string());
    row(&mut o, "除外支付（元）", h.exclusions_payment.to_string());
    row(&mut o, "清算调整（元）", h.clearing_adjustment.to_string());
    row(&mut o, "审核扣减（元）", format!("-{}", h.deductions));
    row(&mut o, "预留质量保证金（元）", format!("-{}", h.deposit_withheld));
    row(&mut o, "返还质量保证金（元）", h.deposit_returned.to_string());
    row(&mut o, "应拨付金额（元）", h.net_payment.to_string());
    row(&mut o, "其中：个人及其他已付（元）", h.others_paid.to_string());
    row(&mut o, "其中：基金应付（元）", h.fund_payment.to_string());
    if let (Some(a), Some(b)) = (h.advances_paid, h.balance_due) {
        row(&mut o, "已按月预拨（元）", a.to_string());
        row(&mut o, "清算应补拨（元，负数为应追回）", b.to_string());
    }
    let _ = writeln!(o, "</table>");
    let _ = writeln!(o, "<h2>支付方式</h2><ul>");
    for (k, v) in &h.methods {
        let zh = match *k {
            "group" => "按病组/病种",
            "per_bed_day" => "按床日",
            "day_surgery" => "日间手术",
            "fee_for_service" => "按项目",
            "ffs_points" => "按项目折算点数",
            "special_case" => "特病单议",
            "not_paid" => "不予支付",
            x => x,
        };
        let _ = writeln!(o, "<li>{}：{} 例</li>", esc(zh), v);
    }
    let _ = writeln!(o, "</ul>");
    if !h.notes.is_empty() {
        let _ = writeln!(o, "<h2>计算说明</h2><ol>");
        for n in &h.notes {
            let _ = writeln!(o, "<li>{}</li>", esc(n));
        }
        let _ = writeln!(o, "</ol>");
    }
    let _ = writeln!(
        o,
        "<p>舍入规则：病例点数四舍五入保留4位小数；点数分配额按最大余数法先分到医院、再分到病例，合计与分配额分毫不差；各项比例金额四舍五入到分。</p>"
    );
    let _ = writeln!(o, "<p class=\"sign\">医保经办机构（盖章）：＿＿＿＿＿＿　　定点医疗机构（盖章）：＿＿＿＿＿＿　　日期：＿＿＿＿</p>");
    o.push_str("</body></html>\n");
    o
}

fn csv_err(e: impl std::fmt::Display) -> String {
    format!("写出 CSV 失败：{e}")
}

/// Writes every output of a settlement into `dir`.
pub fn write_outputs(dir: &Path, st: &Settlement, l: &Loaded) -> Result<(), String> {
    std::fs::create_dir_all(dir.join("statements")).map_err(|e| format!("无法创建输出目录 {}：{e}", dir.display()))?;
    // statement.csv
    let mut w = csv::Writer::from_path(dir.join("statement.csv")).map_err(csv_err)?;
    w.write_record(STATEMENT_COLUMNS).map_err(csv_err)?;
    for s in &st.statements {
        w.write_record(statement_row(s)).map_err(csv_err)?;
    }
    w.flush().map_err(csv_err)?;
    // summary.csv
    let mut w = csv::Writer::from_path(dir.join("summary.csv")).map_err(csv_err)?;
    w.write_record(["key", "item", "value"]).map_err(csv_err)?;
    for (k, z, v) in summary_rows(st, l.qc_known) {
        w.write_record([k, z, v]).map_err(csv_err)?;
    }
    w.flush().map_err(csv_err)?;
    // cases.csv
    let mut w = csv::Writer::from_path(dir.join("cases.csv")).map_err(csv_err)?;
    w.write_record([
        "list_id",
        "hospital_code",
        "group",
        "method",
        "outlier",
        "final_points",
        "points_payment",
        "ffs_payment",
        "exclusions_payment",
        "payment",
        "audit",
        "reasons",
        "status",
    ])
    .map_err(csv_err)?;
    for c in &st.cases {
        let inp = &l.cases[c.index];
        w.write_record([
            inp.list_id.as_str(),
            inp.hospital_code.as_str(),
            inp.group.as_deref().unwrap_or(""),
            c.price.method.code(),
            c.price.outlier.code(),
            &format!("{:.4}", c.price.final_points),
            &c.points_payment.to_string(),
            &c.price.ffs_amount.to_string(),
            &c.price.exclusions_amount.to_string(),
            &c.payment().to_string(),
            c.audit.as_deref().unwrap_or(""),
            &c.price.reasons(),
            if c.price.method == casemix_pricing::Method::Held { "待补正" } else { "已结算" },
        ])
        .map_err(csv_err)?;
    }
    w.flush().map_err(csv_err)?;
    // rejections.csv
    let mut w = csv::Writer::from_path(dir.join("rejections.csv")).map_err(csv_err)?;
    w.write_record(casemix_io::REJECTION_COLUMNS).map_err(csv_err)?;
    for r in &l.rejects {
        w.write_record([r.line.to_string(), r.list_id.clone(), r.field.clone(), r.rule.clone(), r.message.clone()]).map_err(csv_err)?;
    }
    for r in &st.rejections {
        let line = r.index.and_then(|i| l.lines.get(i)).map(|n| n.to_string()).unwrap_or_default();
        w.write_record([line, r.list_id.clone(), r.field.to_string(), r.rule.to_string(), r.message.clone()]).map_err(csv_err)?;
    }
    w.flush().map_err(csv_err)?;
    // statement.xlsx: statements (English keys + Chinese labels row), summary
    let mut sheet = casemix_io::XlsxSheet::new("结算单", &STATEMENT_COLUMNS);
    sheet.push_row(STATEMENT_LABELS_ZH.iter().map(|s| casemix_io::XlsxCell::Text(s.to_string())).collect());
    for s in &st.statements {
        sheet.push_row(xlsx_row(s));
    }
    let mut sum = casemix_io::XlsxSheet::new("区域汇总", &["key", "item", "value"]);
    for (k, z, v) in summary_rows(st, l.qc_known) {
        sum.push_row(vec![casemix_io::XlsxCell::Text(k), casemix_io::XlsxCell::Text(z), casemix_io::XlsxCell::Text(v)]);
    }
    casemix_io::write_xlsx(dir.join("statement.xlsx"), &[sheet, sum]).map_err(|e| format!("写出 statement.xlsx 失败：{e}"))?;
    // printable statements
    for s in &st.statements {
        let name = s.hospital_code.replace(['/', '\\', ':', '*', '?', '"', '<', '>', '|'], "_");
        std::fs::write(dir.join("statements").join(format!("{name}.html")), statement_html(st, s)).map_err(|e| format!("写出结算单失败：{e}"))?;
    }
    Ok(())
}

pub fn print_summary(st: &Settlement, qc_known: bool) {
    for (_, z, v) in summary_rows(st, qc_known) {
        println!("{z}：{v}");
    }
}

/// `casemix settle check <F>`: validates the policy and prints what it sets.
fn check(path: &Path) -> Result<(), String> {
    let p = load_policy(path, &[])?;
    let budget = casemix_settlement::annual_budget(&p);
    println!("政策文件校验通过：{}（{} 年，版本 {}）", p.policy.region, p.policy.year, if p.policy.version.is_empty() { "-" } else { &p.policy.version });
    println!("  付费模式：{}", match p.policy.model { Model::DrgPoints => "DRG 点数法", Model::DipScores => "DIP 分值" });
    println!("  住院总费用预算：{budget} 元；调剂金 {}；质量保证金 {}；月度预拨 {}", p.budget.adjustment_fund_share, p.budget.quality_deposit_share, p.budget.monthly_advance_share);
    println!("  分档：{} 档；等级系数 {} 项；加成 {} 项；学科系数 {} 项；基层病组 {} 个", p.tiers.len(), p.coefficients.level.len(), p.coefficients.bonus.len(), p.coefficients.discipline.len(), p.coefficients.basic_groups.len());
    println!(
        "  除外项目 {} 个；床日病组 {} 个；日间手术 {} 个；特病单议上限 {}；年终清算 {}",
        p.exclusions.items.len(),
        p.per_bed_day.groups.len(),
        p.day_surgery.groups.len(),
        p.special_cases.cap_share,
        if p.clearing.enabled { "启用" } else { "未启用" }
    );
    Ok(())
}

pub fn run(a: Args) -> Result<(), String> {
    let (common, period, out, year) = match a.what {
        What::Check { policy } => return check(&policy),
        What::Month { common, month, out } => {
            let (y, m) = month
                .split_once('-')
                .and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.parse::<u32>().ok()?)))
                .filter(|(_, m)| (1..=12).contains(m))
                .ok_or_else(|| format!("--month “{month}”应为 YYYY-MM"))?;
            (common, Period::Month(m), out, y)
        }
        What::Year { common, year, out } => (common, Period::Year, out, year),
    };
    let l = load(&common, &[])?;
    if l.policy.policy.year != year {
        return Err(format!("结算年度 {year} 与政策文件年度 policy.year = {} 不一致", l.policy.policy.year));
    }
    let mut st = l.settle(period);
    if period == Period::Year {
        // what the twelve monthly settlements already paid, for the balance due
        let months: Vec<Settlement> = (1..=12).map(|m| l.settle(Period::Month(m))).collect();
        casemix_settlement::apply_advances(&mut st, &months);
    }
    write_outputs(&out, &st, &l)?;
    print_summary(&st, l.qc_known);
    println!("输出目录：{}（statement.csv, statement.xlsx, summary.csv, cases.csv, rejections.csv, statements/*.html）", out.display());
    let check = st.check_balance();
    if !check.ok() {
        return Err(format!("预算平衡校验未通过（内部错误）：{}", check.problems.join("；")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouper_statuses() {
        assert!(status_ok(Some("分组成功")));
        assert!(status_ok(Some("歧义病案")));
        assert!(status_ok(Some("入组")));
        assert!(status_ok(None));
        assert!(!status_ok(Some("无法入组")));
        assert!(!status_ok(Some("未入组")));
        assert!(!status_ok(Some("信息校验不通过")));
    }

    #[test]
    fn excluded_items_column() {
        assert_eq!(excluded_items("NEWDRUG1:500.00| DEV2 : 12.5").unwrap(), vec![("NEWDRUG1".into(), Fen(50_000)), ("DEV2".into(), Fen(1_250))]);
        assert!(excluded_items("NEWDRUG1").unwrap_err().contains("编码:金额"));
        assert!(excluded_items("X:1.234").is_err());
    }

    #[test]
    fn case_from_grouped_list() {
        let mut l = SettlementList { list_id: "L1".into(), hospital_code: Some("H1".into()), ..Default::default() };
        l.set_field(casemix_model::Field::DischargeTime, "2025-03-04 10:00").unwrap();
        l.set_field(casemix_model::Field::TotalCost, "1000.00").unwrap();
        l.set_field(casemix_model::Field::PersonalPay, "300.00").unwrap();
        l.extra = vec![("status".into(), "分组成功".into()), ("drg".into(), "GK19".into())];
        let c = case_input(&l, Model::DrgPoints).unwrap();
        assert_eq!((c.group.as_deref(), c.grouped_ok, c.year, c.month, c.total_cost, c.others_paid), (Some("GK19"), true, 2025, 3, Fen(100_000), Fen(30_000)));
        l.extra = vec![("status".into(), "无法入组".into()), ("drg".into(), "0000".into())];
        let c = case_input(&l, Model::DrgPoints).unwrap();
        assert_eq!((c.group, c.grouped_ok), (None, false));
        l.discharge_time = None;
        assert_eq!(case_input(&l, Model::DrgPoints).unwrap_err().1, "discharge_time_missing");
    }
}
