//! Options of a synthetic region: profile, years, seed, injection rates and the policy numbers the
//! generator calibrates against. Every number here is a default with its source; nothing else in
//! the crate hides a policy literal.

use serde::Serialize;
use std::collections::BTreeMap;

/// Size of the region (issue 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// ≈ 4 hospitals × 2,000 cases/year: unit tests only.
    Tiny,
    /// ≈ 10 hospitals, 20,000 cases/year: tests and the README demo.
    Small,
    /// ≈ 40 hospitals, 300,000 cases/year.
    City,
    /// ≈ 1,200 hospitals, 10,000,000 cases/year.
    Province,
}

impl Profile {
    pub fn parse(s: &str) -> Result<Profile, String> {
        match s {
            "tiny" => Ok(Profile::Tiny),
            "small" => Ok(Profile::Small),
            "city" => Ok(Profile::City),
            "province" => Ok(Profile::Province),
            _ => Err(format!("未知的规模 '{s}'（应为 tiny、small、city 或 province）")),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Profile::Tiny => "tiny",
            Profile::Small => "small",
            Profile::City => "city",
            Profile::Province => "province",
        }
    }
    /// (hospitals, counties, inpatient cases per year in the first year).
    pub fn size(self) -> (usize, usize, u64) {
        match self {
            Profile::Tiny => (4, 2, 2_000),
            Profile::Small => (10, 3, 20_000),
            Profile::City => (40, 8, 300_000),
            Profile::Province => (1_200, 100, 10_000_000),
        }
    }
}

/// The injected behaviours (audit.md), with their label `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Upcoding,
    SplitAdmission,
    LowStandardAdmission,
    CostShifting,
    UnderProvision,
    OverlongStay,
    DuplicateList,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Upcoding,
        Kind::SplitAdmission,
        Kind::LowStandardAdmission,
        Kind::CostShifting,
        Kind::UnderProvision,
        Kind::OverlongStay,
        Kind::DuplicateList,
    ];
    pub fn key(self) -> &'static str {
        match self {
            Kind::Upcoding => "upcoding",
            Kind::SplitAdmission => "split_admission",
            Kind::LowStandardAdmission => "low_standard_admission",
            Kind::CostShifting => "cost_shifting",
            Kind::UnderProvision => "under_provision",
            Kind::OverlongStay => "overlong_stay",
            Kind::DuplicateList => "duplicate_list",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Kind::Upcoding => "高套编码",
            Kind::SplitAdmission => "分解住院",
            Kind::LowStandardAdmission => "低标入院",
            Kind::CostShifting => "费用转移",
            Kind::UnderProvision => "医疗服务提供不足",
            Kind::OverlongStay => "超长住院",
            Kind::DuplicateList => "重复结算",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.key() == s)
    }
}

/// Payer-split policy (个人负担). Defaults are typical municipal rules: deductible (起付线) and
/// reimbursement ratio by hospital level and insurance type, class-B co-payment (乙类先行自付),
/// critical-illness insurance (大病保险) above a threshold, medical assistance (医疗救助) for a
/// share of residents. Calibrated so the region's personal-burden ratio lands in 40–50 %
/// (regions.md: Liaocheng 42.68 %, Shaoyang 45.77 %).
#[derive(Debug, Clone, Serialize)]
pub struct PayerPolicy {
    /// 起付线 (fen) by level index [三级甲等, 三级, 二级, 一级] for employees (职工).
    pub deductible_employee: [i64; 4],
    /// Same for residents (居民).
    pub deductible_resident: [i64; 4],
    /// Fund reimbursement ratio (‰) of the eligible part after the deductible, employees.
    pub ratio_employee_permille: [u64; 4],
    /// Same for residents.
    pub ratio_resident_permille: [u64; 4],
    /// 乙类先行自付 share (‰) of the in-catalogue amount.
    pub class_b_copay_permille: u64,
    /// 全自费 share (‰) range of the total, by level (low, high).
    pub selfpay_permille: [(u64, u64); 4],
    /// 大病保险 threshold on the in-catalogue personal part (fen) and its payment ratio (‰).
    pub critical_threshold: i64,
    pub critical_ratio_permille: u64,
    /// Share (‰) of residents entitled to 医疗救助, and the share (‰) of their remaining
    /// in-catalogue personal part it pays.
    pub assistance_share_permille: u64,
    pub assistance_ratio_permille: u64,
}

impl Default for PayerPolicy {
    fn default() -> Self {
        PayerPolicy {
            deductible_employee: [80_000, 80_000, 50_000, 20_000],
            deductible_resident: [100_000, 100_000, 60_000, 30_000],
            ratio_employee_permille: [850, 850, 880, 900],
            ratio_resident_permille: [580, 600, 680, 780],
            class_b_copay_permille: 80,
            selfpay_permille: [(40, 120), (30, 100), (20, 70), (10, 50)],
            critical_threshold: 1_500_000,
            critical_ratio_permille: 600,
            assistance_share_permille: 40,
            assistance_ratio_permille: 700,
        }
    }
}

/// Cost and length-of-stay model (the calibration knobs). Region targets (issue 3, regions.md):
/// mean cost per stay 10,000–13,000 yuan (Liaocheng 12,000; Shaoyang tertiary 10,500), mean LOS
/// 8–10 days, mortality 0.5–1.5 %.
#[derive(Debug, Clone, Serialize)]
pub struct CostModel {
    /// Median cost (fen) of a medical DRG without complications at a 二级 hospital, first year.
    pub base_median_fen: f64,
    /// Cost multiplier of surgical (2nd letter A–J) and interventional (K–Q) ADRGs over medical.
    pub surgical_factor: f64,
    pub interventional_factor: f64,
    /// Severity multipliers: last digit 1 (MCC), 3 (CC), 5 (none), 9 (not split).
    pub severity_factor: [f64; 4],
    /// Log-normal σ of cost by group type [surgical, interventional, medical].
    pub sigma_cost: [f64; 3],
    /// Log-normal σ of LOS by group type.
    pub sigma_los: [f64; 3],
    /// Correlation of log cost and log LOS.
    pub rho_cost_los: f64,
    /// Median LOS (days) by group type, no complications.
    pub base_los: [f64; 3],
    /// LOS severity multipliers (1, 3, 5, 9).
    pub severity_los: [f64; 4],
    /// σ of the fixed per-ADRG relative cost factor.
    pub adrg_sigma: f64,
    /// Cost multiplier by level [三级甲等, 三级, 二级, 一级] (三级 > 二级 > 一级).
    pub level_cost: [f64; 4],
    /// LOS multiplier by level.
    pub level_los: [f64; 4],
    /// Yearly inflation range (3–5 %).
    pub inflation: (f64, f64),
    /// Natural LOS cap (days); stays beyond it exist only as labelled `overlong_stay`
    /// (audit.md: LOS > 60 days is the national long-stay definition).
    pub natural_los_cap: i64,
    /// In-hospital death probability by severity (1, 3, 5, 9) for medical groups; surgical and
    /// interventional groups use 60 % of it.
    pub death_prob: [f64; 4],
}

impl Default for CostModel {
    fn default() -> Self {
        CostModel {
            base_median_fen: 405_000.0,
            surgical_factor: 2.6,
            interventional_factor: 1.9,
            severity_factor: [1.75, 1.3, 1.0, 1.15],
            sigma_cost: [0.42, 0.45, 0.55],
            sigma_los: [0.45, 0.5, 0.5],
            rho_cost_los: 0.6,
            base_los: [7.9, 5.2, 6.5],
            severity_los: [1.5, 1.2, 1.0, 1.1],
            adrg_sigma: 0.35,
            level_cost: [1.3, 1.12, 0.85, 0.6],
            level_los: [1.05, 1.0, 0.95, 0.9],
            inflation: (0.03, 0.05),
            natural_los_cap: 60,
            death_prob: [0.075, 0.015, 0.0025, 0.005],
        }
    }
}

/// Parameters of the injected behaviours (audit.md defaults).
#[derive(Debug, Clone, Serialize)]
pub struct InjectionModel {
    /// Rate per kind (share of generated cases), default 1 % each (issue 3: 0.5–2 %).
    pub rates: BTreeMap<Kind, f64>,
    /// Share of hospitals that are "bad actors" (drawn with probability ∝ volume, so that they
    /// carry a real part of the region's cases), and how many times a good hospital's rate they
    /// inject. Rates are rescaled so that the region-wide rate stays the configured one.
    pub bad_actor_share: f64,
    pub bad_actor_ratio: f64,
    /// Split admission: readmission interval in days after the first discharge (1–14; audit.md
    /// "interval ≤ 15 days, city practice 14–15").
    pub split_gap_days: (i64, i64),
    /// Cost shifting: claim within this many days before admission / after discharge (audit.md ±7).
    pub shift_window_days: i64,
    /// Overlong stay: LOS range (audit.md: > 60 days).
    pub overlong_days: (i64, i64),
    /// Low-standard admission: LOS range and cost as a share of the group median (audit.md:
    /// LOS ≤ 2 days and cost below the group's 10th percentile).
    pub low_standard_los: (i64, i64),
    pub low_standard_cost_share: (f64, f64),
    /// Under-provision: surgery+material fees kept (share of normal).
    pub under_provision_keep: (f64, f64),
}

impl Default for InjectionModel {
    fn default() -> Self {
        InjectionModel {
            rates: Kind::ALL.iter().map(|k| (*k, 0.01)).collect(),
            bad_actor_share: 0.2,
            bad_actor_ratio: 10.0,
            split_gap_days: (1, 14),
            shift_window_days: 7,
            overlong_days: (61, 120),
            low_standard_los: (1, 2),
            low_standard_cost_share: (0.08, 0.2),
            under_provision_keep: (0.0, 0.08),
        }
    }
}

/// Everything that defines one synthetic region.
#[derive(Debug, Clone, Serialize)]
pub struct SynthConfig {
    pub seed: u64,
    pub profile: Profile,
    pub first_year: i32,
    pub last_year: i32,
    /// Overrides the profile's inpatient cases per year (first year).
    pub cases_per_year: Option<u64>,
    /// Yearly volume growth.
    pub volume_growth: f64,
    /// Share of cases coded with a principal diagnosis the scheme cannot place (real regions
    /// group 99.8 %: Ankang, regions.md).
    pub ungroupable_rate: f64,
    pub payer: PayerPolicy,
    pub cost: CostModel,
    pub inject: InjectionModel,
    /// Itemised charges (费用明细): how diagnoses leave a trace in the items.
    pub charges: ChargeModel,
    /// Worker threads for generation (output does not depend on it).
    pub threads: usize,
}

/// How the treatment of each coded diagnosis shows in the itemised charges (regions.md, Wuxi:
/// "each diagnosis has a module of required treatments"). Genuine diagnoses are treated, with
/// noise; the diagnosis added by `upcoding` is not (its stay's charges are the original case's).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChargeModel {
    /// Generate itemised charges at all (`casemix synth --no-charges` turns it off: the lists,
    /// claims and labels are the same either way, since charges have their own random stream).
    pub enabled: bool,
    /// Probability that a genuine diagnosis's treatment is not charged at all (treated outside
    /// the stay, charged under another item, or a coding error). Not 0: real coding is noisy.
    pub treatment_missing_prob: f64,
    /// Probability that each item of a treated diagnosis's module appears (so a module of k
    /// items is charged partly, typically 90 % of its items).
    pub treatment_item_prob: f64,
    /// Probability that a surgical stay carries a prophylactic antibiotic (noise that overlaps
    /// the infection modules).
    pub prophylaxis_prob: f64,
}

impl Default for ChargeModel {
    fn default() -> Self {
        ChargeModel { enabled: true, treatment_missing_prob: 0.01, treatment_item_prob: 0.9, prophylaxis_prob: 0.3 }
    }
}

impl SynthConfig {
    pub fn new(seed: u64, profile: Profile, first_year: i32, last_year: i32) -> SynthConfig {
        SynthConfig {
            seed,
            profile,
            first_year,
            last_year,
            cases_per_year: None,
            volume_growth: 0.03,
            ungroupable_rate: 0.002,
            payer: PayerPolicy::default(),
            cost: CostModel::default(),
            inject: InjectionModel::default(),
            charges: ChargeModel::default(),
            threads: 1,
        }
    }
    pub fn cases_per_year(&self) -> u64 {
        self.cases_per_year.unwrap_or(self.profile.size().2)
    }
    pub fn years(&self) -> impl Iterator<Item = i32> {
        self.first_year..=self.last_year
    }
    /// Parses `2022-2025` or `2024`.
    pub fn parse_years(s: &str) -> Result<(i32, i32), String> {
        let bad = || format!("年份 '{s}' 无效（应为 2024 或 2022-2025）");
        let (a, b) = match s.split_once('-') {
            Some((a, b)) => (a.trim().parse::<i32>().map_err(|_| bad())?, b.trim().parse::<i32>().map_err(|_| bad())?),
            None => {
                let y = s.trim().parse::<i32>().map_err(|_| bad())?;
                (y, y)
            }
        };
        if !(2000..=2100).contains(&a) || b < a || b > 2100 {
            return Err(bad());
        }
        Ok((a, b))
    }
}
