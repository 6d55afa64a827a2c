//! The steps of a case's pricing: a stable reason code and a Chinese explanation line each.
//! Steps hold numbers only; the text is rendered on demand so pricing stays allocation-light.

use casemix_model::Fen;
use rust_decimal::Decimal;

/// How a case is paid — exactly one per case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// 按病组/病种 (DRG points or DIP score).
    Group,
    /// 按床日.
    PerBedDay,
    /// 日间手术.
    DaySurgery,
    /// 按项目付费 (fallback or high-cost paid by item).
    FeeForService,
    /// 按项目折算点数: fallback paid by points = cost ÷ all-case mean × scale × discount.
    FfsPoints,
    /// 特病单议 approved: fee-for-service at the eligible cost.
    SpecialCase,
    /// 不予支付 (confirmed audit finding or merged split stay).
    NotPaid,
    /// 待补正: held by the policy's settlement gate (QC errors, not accepted by the bureau) — no
    /// points, no money, not in the point value until corrected or accepted.
    Held,
    /// 拒绝计价: an amount outside its domain (≤ 0 total, above the gate's ceiling, or a result
    /// beyond the range of money) — never priced, never paid.
    Refused,
}

impl Method {
    pub fn code(self) -> &'static str {
        match self {
            Method::Group => "group",
            Method::PerBedDay => "per_bed_day",
            Method::DaySurgery => "day_surgery",
            Method::FeeForService => "fee_for_service",
            Method::FfsPoints => "ffs_points",
            Method::SpecialCase => "special_case",
            Method::NotPaid => "not_paid",
            Method::Held => "held",
            Method::Refused => "refused",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Method::Group => "按病组/病种",
            Method::PerBedDay => "按床日",
            Method::DaySurgery => "日间手术",
            Method::FeeForService => "按项目",
            Method::FfsPoints => "按项目折算点数",
            Method::SpecialCase => "特病单议",
            Method::NotPaid => "不予支付",
            Method::Held => "待补正（暂缓结算）",
            Method::Refused => "拒绝计价（金额超出范围）",
        }
    }
    /// Paid by points (the pool), as opposed to money at cost.
    pub fn by_points(self) -> bool {
        matches!(self, Method::Group | Method::PerBedDay | Method::DaySurgery | Method::FfsPoints)
    }
}

/// Outlier class of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outlier {
    None,
    /// 高倍率 / 费用超高.
    High,
    /// 低倍率 / 费用超低.
    Low,
    /// 不完整住院 (transfer, death, short stay).
    Incomplete,
}

impl Outlier {
    pub fn code(self) -> &'static str {
        match self {
            Outlier::None => "normal",
            Outlier::High => "high",
            Outlier::Low => "low",
            Outlier::Incomplete => "incomplete",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Outlier::None => "正常",
            Outlier::High => "高倍率",
            Outlier::Low => "低倍率",
            Outlier::Incomplete => "不完整住院",
        }
    }
}

/// One pricing step.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Listed exclusion items paid by item.
    Exclusions { items: u32, amount: Fen },
    /// Excluded items sent with the case but not on the policy list (stay in the case cost).
    ExclusionsNotListed { items: u32, amount: Fen },
    /// Case cost used for the rules (total − paid-by-item exclusions) and the eligible cost.
    Cost { case_cost: Fen, eligible: Fen },
    NotPaid,
    Ungrouped,
    GroupUnknown,
    HospitalUnknown,
    FallbackFfs { eligible: Fen },
    FallbackPoints { case_cost: Fen, all_case_mean: Fen, scale: Decimal, discount: Decimal, points: Decimal },
    SpecialApproved { eligible: Fen },
    SpecialCapExceeded { cap: u64 },
    BaseGroup { points: Decimal, mean_cost: Fen },
    Coefficient { level: Decimal, bonus: Decimal, discipline: Decimal, value: Decimal, basic: bool },
    PerBedDay { points_per_day: Decimal, days: i64, capped: bool, coefficient: Decimal, points: Decimal },
    DaySurgery { points: Decimal, coefficient: Decimal, final_points: Decimal },
    Ratio { case_cost: Fen, reference: Fen, ratio: Decimal },
    HighAdditional { threshold: Decimal, base: Decimal, coefficient: Decimal, ratio: Decimal, points: Decimal },
    HighDeviation { threshold: Decimal, base: Decimal, coefficient: Decimal, ratio: Decimal, points: Decimal },
    HighFfs { threshold: Decimal, eligible: Fen },
    ExpertReview { multiplier: Decimal },
    Incomplete { leaving_type: Option<i64>, los: i64, ratio: Decimal, points: Decimal },
    Low { threshold: Decimal, ratio: Decimal, points: Decimal },
    Normal { base: Decimal, coefficient: Decimal, points: Decimal },
    AuxFactor { factor: Decimal },
    Rounded { points: Decimal },
    Readmission { next: String, days: i64, factor: Decimal, points: Decimal },
    Payment { points: Decimal, point_value: Decimal, amount: Fen },
    /// Held by the settlement gate: `errors` QC errors, `max` tolerated.
    QcHeld { errors: u32, max: u32 },
    /// An amount outside its domain; `field` is the list's field key.
    AmountOutOfRange { field: &'static str, amount: Fen, max: Fen },
    /// A computed value beyond the range of exact money/points (absurd weights or amounts).
    Overflow { what: &'static str },
}

fn n(d: &Decimal) -> String {
    d.normalize().to_string()
}

impl Step {
    /// Stable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            Step::Exclusions { .. } => "EXCL",
            Step::ExclusionsNotListed { .. } => "EXCL_NOT_LISTED",
            Step::Cost { .. } => "COST",
            Step::NotPaid => "NOT_PAID",
            Step::Ungrouped => "UNGROUPED",
            Step::GroupUnknown => "GROUP_UNKNOWN",
            Step::HospitalUnknown => "HOSPITAL_UNKNOWN",
            Step::FallbackFfs { .. } => "FALLBACK_FFS",
            Step::FallbackPoints { .. } => "FALLBACK_POINTS",
            Step::SpecialApproved { .. } => "SPECIAL",
            Step::SpecialCapExceeded { .. } => "SPECIAL_CAP",
            Step::BaseGroup { .. } => "BASE",
            Step::Coefficient { .. } => "COEF",
            Step::PerBedDay { .. } => "BED_DAY",
            Step::DaySurgery { .. } => "DAY_SURGERY",
            Step::Ratio { .. } => "RATIO",
            Step::HighAdditional { .. } => "HIGH_ADD",
            Step::HighDeviation { .. } => "HIGH_DEV",
            Step::HighFfs { .. } => "HIGH_FFS",
            Step::ExpertReview { .. } => "EXPERT_REVIEW",
            Step::Incomplete { .. } => "INCOMPLETE",
            Step::Low { .. } => "LOW",
            Step::Normal { .. } => "NORMAL",
            Step::AuxFactor { .. } => "AUX",
            Step::Rounded { .. } => "ROUND",
            Step::Readmission { .. } => "READMIT",
            Step::Payment { .. } => "PAY",
            Step::QcHeld { .. } => "QC_HELD",
            Step::AmountOutOfRange { .. } => "AMOUNT_RANGE",
            Step::Overflow { .. } => "OVERFLOW",
        }
    }

    /// The Chinese explanation line.
    pub fn zh(&self) -> String {
        match self {
            Step::Exclusions { items, amount } => format!("除外支付：{items} 项目录内除外项目按项目支付 {amount} 元，其余费用按病组"),
            Step::ExclusionsNotListed { items, amount } => {
                format!("{items} 项申报的除外项目不在除外目录内（{amount} 元），仍计入病例费用")
            }
            Step::Cost { case_cost, eligible } => format!("病例费用 {case_cost} 元（用于倍率判定），符合范围费用 {eligible} 元"),
            Step::NotPaid => "审核确认不予支付（或分解住院已并入另一次住院），本次住院不计点数".into(),
            Step::Ungrouped => "未入组或分组失败，转按兜底方式支付".into(),
            Step::GroupUnknown => "分组不在权重/病种目录中或尚无权重（待定），转按兜底方式支付".into(),
            Step::HospitalUnknown => "医院不在医院名录中，采用默认系数".into(),
            Step::FallbackFfs { eligible } => format!("按项目付费：支付符合范围费用 {eligible} 元"),
            Step::FallbackPoints { case_cost, all_case_mean, scale, discount, points } => format!(
                "按项目折算点数 = 病例费用 {case_cost} ÷ 全部病例次均费用 {all_case_mean} × {} × 折扣 {} = {}",
                n(scale),
                n(discount),
                n(points)
            ),
            Step::SpecialApproved { eligible } => format!("特病单议已批准：按项目支付符合范围费用 {eligible} 元"),
            Step::SpecialCapExceeded { cap } => format!("特病单议超出比例上限（最多 {cap} 例），本例仍按病组支付"),
            Step::BaseGroup { points, mean_cost } => format!("基准点数（分值）{}，本组次均费用 {mean_cost} 元", n(points)),
            Step::Coefficient { level, bonus, discipline, value, basic } => {
                if *basic {
                    format!("基层病组（同病同价）系数 1，学科系数 {}，合计系数 {}", n(discipline), n(value))
                } else {
                    format!("系数 = (等级/医院系数 {} + 加成 {}) × 学科系数 {} = {}", n(level), n(bonus), n(discipline), n(value))
                }
            }
            Step::PerBedDay { points_per_day, days, capped, coefficient, points } => format!(
                "按床日：日基准点数 {} × 住院 {days} 天{} × 系数 {} = {}",
                n(points_per_day),
                if *capped { "（已按上限）" } else { "" },
                n(coefficient),
                n(points)
            ),
            Step::DaySurgery { points, coefficient, final_points } => {
                format!("日间手术：定额点数 {} × 系数 {} = {}，不作倍率调整", n(points), n(coefficient), n(final_points))
            }
            Step::Ratio { case_cost, reference, ratio } => {
                format!("费用倍率 = 病例费用 {case_cost} ÷ 参照次均费用 {reference} = {}", n(&ratio.round_dp(4)))
            }
            Step::HighAdditional { threshold, base, coefficient, ratio, points } => format!(
                "高倍率病例（倍率 ≥ {}）：点数 = {} × {} + {} × ({} − {}) = {}",
                n(threshold),
                n(base),
                n(coefficient),
                n(base),
                n(&ratio.round_dp(4)),
                n(threshold),
                n(points)
            ),
            Step::HighDeviation { threshold, base, coefficient, ratio, points } => format!(
                "费用超高病例（倍率 > {}）：分值 = [({} − {}) + 1] × {} × 系数 {} = {}",
                n(threshold),
                n(&ratio.round_dp(4)),
                n(threshold),
                n(base),
                n(coefficient),
                n(points)
            ),
            Step::HighFfs { threshold, eligible } => format!("高倍率病例（倍率 ≥ {}）按项目付费：支付符合范围费用 {eligible} 元", n(threshold)),
            Step::ExpertReview { multiplier } => format!("费用超过次均 {} 倍，需专家评议（仍按公式暂计）", n(multiplier)),
            Step::Incomplete { leaving_type, los, ratio, points } => format!(
                "不完整住院（离院方式 {}，住院 {los} 天）：点数按费用比例 {}（上限 1）折算 = {}",
                leaving_type.map(|l| l.to_string()).unwrap_or_else(|| "-".into()),
                n(&ratio.round_dp(4)),
                n(points)
            ),
            Step::Low { threshold, ratio, points } => {
                format!("低倍率病例（倍率 {} 低于 {}）：点数按费用比例折算 = {}", n(&ratio.round_dp(4)), n(threshold), n(points))
            }
            Step::Normal { base, coefficient, points } => format!("正常病例：点数 = {} × {} = {}", n(base), n(coefficient), n(points)),
            Step::AuxFactor { factor } => format!("辅助目录调整系数 {}", n(factor)),
            Step::Rounded { points } => format!("病例点数四舍五入保留4位小数：{}", n(points)),
            Step::Readmission { next, days, factor, points } => {
                format!("出院后 {days} 天内以同一病组再次住院（{next}），本次点数 × {} = {}", n(factor), n(points))
            }
            Step::Payment { points, point_value, amount } => {
                format!("支付 = 点数 {} × 点值 {} 元 = {amount} 元（四舍五入到分）", n(points), n(point_value))
            }
            Step::QcHeld { errors, max } => format!(
                "结算清单前置质控有 {errors} 个错误（允许 {max} 个），待补正：暂缓结算，不计点数、不参与点值计算、不支付，更正或经办机构认可后再结算"
            ),
            Step::AmountOutOfRange { field, amount, max } => {
                if amount.0 <= 0 && *field == "total_cost" {
                    format!("金额合计 {field} = {amount} 元，应大于 0，拒绝计价（不按低倍率 0 点处理）")
                } else {
                    format!("金额 {field} = {amount} 元，超出允许范围 0–{max} 元，拒绝计价")
                }
            }
            Step::Overflow { what } => format!("{what}超出可计算范围（权重或金额异常），拒绝计价"),
        }
    }
}
