//! The policy file, key by key. Every key has the national-spec (or stated city-practice) default;
//! the example files in `examples/*.toml` document each with its source.

use crate::dec::Dec;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

fn d(s: &str) -> Dec {
    Dec::new(s)
}
fn yes() -> bool {
    true
}

/// The whole policy of one pooling region (统筹区) and year.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub policy: Meta,
    pub budget: Budget,
    #[serde(default)]
    pub tiers: Vec<Tier>,
    #[serde(default)]
    pub coefficients: Coefficients,
    #[serde(default)]
    pub outliers: Outliers,
    #[serde(default)]
    pub incomplete: Incomplete,
    #[serde(default)]
    pub fallback: Fallback,
    #[serde(default)]
    pub special_cases: SpecialCases,
    #[serde(default)]
    pub exclusions: Exclusions,
    #[serde(default)]
    pub per_bed_day: PerBedDay,
    #[serde(default)]
    pub day_surgery: DaySurgery,
    #[serde(default)]
    pub clearing: Clearing,
    #[serde(default)]
    pub readmission: Readmission,
    #[serde(default)]
    pub qc_gate: QcGate,
}

/// 结算闸门 (settlement gate): which lists take part in points, point values and payments at all.
/// A list with QC errors (前置质控“错误”级问题) is held (待补正): it earns no points, takes no money
/// and does not move the point value until it is corrected (re-uploaded clean) or the bureau accepts
/// it despite its errors. Source: regions.md (Lhasa) — settlement lists are quality-checked before
/// grouping; payment.md §3 — failed-QC cases are paid by the fallback *or rejected per policy*;
/// issue 12 — the default holds them.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QcGate {
    /// Hold lists with more than `max_errors` QC errors (default true: hold every list with errors).
    #[serde(default = "yes")]
    pub hold_on_errors: bool,
    /// Errors a list may carry and still be settled (default 0).
    #[serde(default)]
    pub max_errors: u32,
    /// Largest 金额合计 (yuan) one list may claim; a list above it, or with any amount below 0, is
    /// refused, never priced (default 10,000,000 yuan — the QC amount domain of issue 12; the
    /// costliest real inpatient stays are a few million yuan).
    #[serde(default = "ten_million")]
    pub max_case_cost: Dec,
}
fn ten_million() -> Dec {
    d("10000000")
}
impl Default for QcGate {
    fn default() -> Self {
        QcGate { hold_on_errors: true, max_errors: 0, max_case_cost: ten_million() }
    }
}
impl QcGate {
    /// Whether a list with `qc_errors` QC errors (and the bureau's acceptance) is held (待补正).
    pub fn holds(&self, qc_errors: u32, accepted: bool) -> bool {
        self.hold_on_errors && !accepted && qc_errors > self.max_errors
    }
}

/// 再入院: the same insured person back in the same group within the window — the earlier stay's
/// points × factor (payment.md §3: Zhejiang 15 days, halved; a policy option).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Readmission {
    /// Days from the earlier discharge to the next admission; none = rule off.
    #[serde(default)]
    pub window_days: Option<i64>,
    /// Multiplier of the earlier stay's points (Zhejiang 0.5).
    #[serde(default = "half")]
    pub factor: Dec,
    /// Groups exempt (e.g. tumour chemo/radiotherapy); `*` = prefix.
    #[serde(default)]
    pub exempt_groups: Vec<String>,
}
fn half() -> Dec {
    d("0.5")
}
impl Default for Readmission {
    fn default() -> Self {
        Readmission { window_days: None, factor: half(), exempt_groups: Vec::new() }
    }
}

/// 付费模式.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// DRG 点数法: base points from the calibrated weights (payment.md §3).
    DrgPoints,
    /// DIP 分值: scores from the 病种 catalogue (dip.md §2–4).
    DipScores,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// 统筹区名称.
    pub region: String,
    /// 结算年度.
    pub year: i32,
    /// 政策版本号.
    #[serde(default)]
    pub version: String,
    pub model: Model,
    /// Base points = RW × scale when the weights carry no points column (payment.md §3: 100).
    #[serde(default = "hundred")]
    pub points_scale: Dec,
}
fn hundred() -> Dec {
    d("100")
}

/// 年度预算.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// 年度住院总费用预算 (yuan). Either this, or `fund` with `fund_share_of_cost`.
    #[serde(default)]
    pub total_cost: Option<Dec>,
    /// 年度统筹基金预算 (yuan); total = fund ÷ fund_share_of_cost (payment.md §3 point value).
    #[serde(default)]
    pub fund: Option<Dec>,
    #[serde(default)]
    pub fund_share_of_cost: Option<Dec>,
    /// 区域调剂金比例 (payment.md §3: Zhejiang 5%, Lhasa 8%).
    #[serde(default)]
    pub adjustment_fund_share: Dec,
    /// 质量保证金比例, withheld from each payment (payment.md §3: 5–10%).
    #[serde(default)]
    pub quality_deposit_share: Dec,
    /// 月度预付比例 of the computed group value (payment.md §3: Zhejiang ≥ 85%).
    #[serde(default = "one")]
    pub monthly_advance_share: Dec,
    /// Month shares of the annual budget (12 numbers, any positive scale); default equal.
    #[serde(default)]
    pub month_weights: Vec<Dec>,
    /// 预算点值 (yuan per point) for monthly provisional payment; none = month budget ÷ month points.
    #[serde(default)]
    pub budget_point_value: Option<Dec>,
    /// 优化法 (dip.md §4): at year end the settlement point value is kept within
    /// budget_point_value × (1 ± band); none = pure mean method (均值法).
    #[serde(default)]
    pub point_value_band: Option<Dec>,
}
fn one() -> Dec {
    d("1")
}

/// 医院分档 (Wuxi: three tiers with tier budgets).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub id: u8,
    #[serde(default)]
    pub name: String,
    /// Share of the distributable budget; all tiers or none.
    #[serde(default)]
    pub budget_share: Option<Dec>,
    /// 浮动费率 applied at year-end clearing (regions.md Wuxi).
    #[serde(default)]
    pub floating_rate: Dec,
}

/// 系数.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Coefficients {
    /// Coefficient for a level missing from `level` (default 1).
    #[serde(default = "one")]
    pub default: Dec,
    /// 等级系数 / 差异系数 by hospital level (三级甲等, 三级, 二级, 一级).
    #[serde(default)]
    pub level: BTreeMap<String, Dec>,
    /// Per-hospital coefficient replacing the level coefficient.
    #[serde(default)]
    pub hospital: BTreeMap<String, Dec>,
    /// 加成系数 added to the base coefficient (Lhasa: function, technology, key specialty, labour).
    #[serde(default)]
    pub bonus: Vec<Bonus>,
    /// 基层病组/基层病种: coefficient 1 at every level, no bonus ("同病同价").
    #[serde(default)]
    pub basic_groups: Vec<String>,
    /// 学科系数 multiplying listed groups at listed hospitals (Nanjing).
    #[serde(default)]
    pub discipline: Vec<Discipline>,
}
impl Default for Coefficients {
    fn default() -> Self {
        Coefficients {
            default: one(),
            level: BTreeMap::new(),
            hospital: BTreeMap::new(),
            bonus: Vec::new(),
            basic_groups: Vec::new(),
            discipline: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Bonus {
    pub name: String,
    pub value: Dec,
    pub hospitals: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Discipline {
    pub name: String,
    pub value: Dec,
    pub hospitals: Vec<String>,
    /// Group codes (DRG or 病种); a trailing `*` matches a prefix; empty = every group.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// 高/低倍率病例.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Outliers {
    /// Mean cost the case is compared with: `group_mean` (the weights' cost_mean) or
    /// `level_mean` (group mean × level coefficient; dip.md §3 "same hospital level").
    #[serde(default)]
    pub reference: Reference,
    #[serde(default)]
    pub high: High,
    #[serde(default)]
    pub low: Low,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reference {
    #[default]
    GroupMean,
    LevelMean,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdMode {
    /// One multiplier for all (DIP: 2×).
    Fixed,
    /// By hospital level (national: 3× tertiary, 2× secondary and below).
    Level,
    /// By base-points band (points-method cities: ≤100: 3×, 100–300: 2×, >300: 1.5×).
    Band,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HighPayment {
    /// base × coef + base × (ratio − threshold) (payment.md §3).
    AdditionalPoints,
    /// [(ratio − threshold) + 1] × score × coef (dip.md §3).
    DeviationScore,
    /// 按项目: the case is paid its eligible cost (national default).
    FeeForService,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    /// Upper bound of base points (inclusive); the last band has none.
    #[serde(default)]
    pub max_points: Option<Dec>,
    pub multiplier: Dec,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct High {
    #[serde(default = "yes")]
    pub enabled: bool,
    pub threshold: ThresholdMode,
    /// For `fixed`.
    #[serde(default = "two")]
    pub multiplier: Dec,
    /// For `band`.
    #[serde(default)]
    pub bands: Vec<Band>,
    /// For `level`: multiplier by hospital level; `level_default` for levels not listed.
    #[serde(default)]
    pub by_level: BTreeMap<String, Dec>,
    #[serde(default = "two")]
    pub level_default: Dec,
    pub payment: HighPayment,
    /// Cases above this multiple are flagged for expert review (dip.md §3: 5×); none = no flag.
    #[serde(default)]
    pub expert_review_multiplier: Option<Dec>,
}
fn two() -> Dec {
    d("2")
}
impl Default for High {
    fn default() -> Self {
        // national default (payment.md §3): 3× tertiary, 2× others, paid by item
        let mut by_level = BTreeMap::new();
        by_level.insert("三级甲等".to_string(), d("3"));
        by_level.insert("三级".to_string(), d("3"));
        High {
            enabled: true,
            threshold: ThresholdMode::Level,
            multiplier: two(),
            bands: Vec::new(),
            by_level,
            level_default: two(),
            payment: HighPayment::FeeForService,
            expert_review_multiplier: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Low {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// cost ≤ multiplier × mean is low (payment.md §3: 0.4 city practice; dip.md: 0.5, strict <).
    #[serde(default = "zero_four")]
    pub multiplier: Dec,
    /// `true`: cost < threshold (DIP wording); `false`: cost ≤ threshold (DRG wording).
    #[serde(default)]
    pub strict: bool,
    /// Apply the hospital coefficient to the pro-rata points (Zhejiang yes, Jinhua no).
    #[serde(default = "yes")]
    pub apply_coefficient: bool,
}
fn zero_four() -> Dec {
    d("0.4")
}
impl Default for Low {
    fn default() -> Self {
        Low { enabled: true, multiplier: zero_four(), strict: false, apply_coefficient: true }
    }
}

/// 不完整住院 (transfer, death, short stay) — scaled like low-cost cases, capped at normal points
/// (payment.md §3, Jinhua; spec-notes §1.6).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Incomplete {
    /// 离院方式 codes counted as incomplete (2 转院, 3 转社区, 4 非医嘱离院, 5 死亡).
    #[serde(default)]
    pub leaving_types: Vec<i64>,
    /// LOS at or below this is a short stay (none = no short-stay rule).
    #[serde(default)]
    pub short_stay_max_days: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FallbackMethod {
    /// 按项目付费: the case's eligible cost in money.
    FeeForService,
    /// Fee-for-service points = cost ÷ all-case mean × scale × discount (payment.md §3).
    Points,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EligibleCost {
    /// total_cost − selfpay_items (全自费 is not eligible).
    TotalMinusSelfpay,
    Total,
}

/// 未入组/质控失败病例 fallback.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Fallback {
    pub method: FallbackMethod,
    #[serde(default = "one")]
    pub points_discount: Dec,
    pub eligible_cost: EligibleCost,
}
impl Default for Fallback {
    fn default() -> Self {
        Fallback { method: FallbackMethod::FeeForService, points_discount: one(), eligible_cost: EligibleCost::TotalMinusSelfpay }
    }
}

/// 特病单议.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SpecialCases {
    /// Approved cases as `医院编码:清单流水号` (a list id is unique only within its hospital; more
    /// may come from a file on the command line).
    #[serde(default)]
    pub approved: Vec<String>,
    /// Cap as share of group-paid discharges (spec-notes §1.5: DRG 5%, DIP 5‰).
    #[serde(default = "five_percent")]
    pub cap_share: Dec,
}
fn five_percent() -> Dec {
    d("0.05")
}
impl Default for SpecialCases {
    fn default() -> Self {
        SpecialCases { approved: Vec::new(), cap_share: five_percent() }
    }
}

/// 除外支付: items paid by item, the rest of the case by group.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Exclusions {
    #[serde(default)]
    pub items: Vec<ExclusionItem>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExclusionItem {
    pub code: String,
    #[serde(default)]
    pub name: String,
}

/// 按床日付费 groups.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PerBedDay {
    #[serde(default)]
    pub apply_coefficient: bool,
    #[serde(default)]
    pub groups: Vec<BedDayGroup>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BedDayGroup {
    /// Group code; trailing `*` = prefix.
    pub code: String,
    #[serde(default)]
    pub name: String,
    /// 床日基准点数.
    pub points_per_day: Dec,
    /// Days beyond this are not paid (none = no cap).
    #[serde(default)]
    pub max_days: Option<i64>,
}

/// 日间手术 groups: fixed points when LOS ≤ max_los_days, no outlier rules.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DaySurgery {
    #[serde(default = "one_day")]
    pub max_los_days: i64,
    #[serde(default)]
    pub apply_coefficient: bool,
    #[serde(default)]
    pub groups: Vec<DaySurgeryGroup>,
}
fn one_day() -> i64 {
    1
}
impl Default for DaySurgery {
    fn default() -> Self {
        DaySurgery { max_los_days: 1, apply_coefficient: false, groups: Vec::new() }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DaySurgeryGroup {
    pub code: String,
    #[serde(default)]
    pub name: String,
    /// Points of a day-surgery case; none = the group's base points.
    #[serde(default)]
    pub points: Option<Dec>,
}

/// 年终清算 (Wuxi, payment.md §4).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Clearing {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub combine: Combine,
    /// Bounds of the clearing coefficient.
    #[serde(default = "lo_bound")]
    pub min: Dec,
    #[serde(default = "hi_bound")]
    pub max: Dec,
    #[serde(default)]
    pub indicators: Vec<Indicator>,
    #[serde(default)]
    pub surplus_retention: SurplusRetention,
    #[serde(default)]
    pub deposit_return: DepositReturn,
    /// Subtract confirmed audit deductions (action `amount`) at year end.
    #[serde(default = "yes")]
    pub apply_deductions: bool,
}
fn lo_bound() -> Dec {
    d("0.9")
}
fn hi_bound() -> Dec {
    d("1.1")
}
impl Default for Clearing {
    fn default() -> Self {
        Clearing {
            enabled: false,
            combine: Combine::Product,
            min: lo_bound(),
            max: hi_bound(),
            indicators: Vec::new(),
            surplus_retention: SurplusRetention::default(),
            deposit_return: DepositReturn::default(),
            apply_deductions: true,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    #[default]
    Product,
    Mean,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    /// Column of the indicators file.
    pub key: String,
    #[serde(default)]
    pub name: String,
    /// `true`: ratio = tier average ÷ hospital value (growth indices); `false`: hospital ÷ average.
    #[serde(default = "yes")]
    pub lower_is_better: bool,
}

/// 结余留用修正.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SurplusRetention {
    #[serde(default)]
    pub enabled: bool,
    /// A/D below this: pay A (Wuxi 0.7).
    #[serde(default = "seventy")]
    pub low: Dec,
    /// A/D at or above this: pay D (Wuxi 0.9).
    #[serde(default = "ninety")]
    pub high: Dec,
    /// Between: pay factor × A (Wuxi 1.10).
    #[serde(default = "one_ten")]
    pub mid_factor: Dec,
}
fn seventy() -> Dec {
    d("0.7")
}
fn ninety() -> Dec {
    d("0.9")
}
fn one_ten() -> Dec {
    d("1.10")
}
impl Default for SurplusRetention {
    fn default() -> Self {
        SurplusRetention { enabled: false, low: seventy(), high: ninety(), mid_factor: one_ten() }
    }
}

/// 质量保证金返还.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DepositReturn {
    /// Score that returns the whole deposit.
    #[serde(default = "hundred")]
    pub full_score: Dec,
    /// Below this score nothing is returned; between: score ÷ full_score.
    #[serde(default = "sixty")]
    pub min_score: Dec,
    /// Score used for a hospital without one in the indicators file.
    #[serde(default = "hundred")]
    pub default_score: Dec,
}
fn sixty() -> Dec {
    d("60")
}
impl Default for DepositReturn {
    fn default() -> Self {
        DepositReturn { full_score: hundred(), min_score: sixty(), default_score: hundred() }
    }
}
