//! The pricing core: one case in, one [`CasePrice`] out, every step recorded.

use crate::rates::{div_round_half_up, Hospital, RateTable};
use crate::step::{Method, Outlier, Step};
use casemix_model::Fen;
use casemix_policy::{EligibleCost, FallbackMethod, HighPayment, Model, Policy, Reference, ThresholdMode};
use rust_decimal::{Decimal, RoundingStrategy};
use rustc_hash::{FxHashMap, FxHashSet};

/// Decimal places kept in case points (点数保留 4 位小数, rounded half away from zero).
pub const POINTS_DP: u32 = 4;
/// 10^POINTS_DP: points as integer units.
pub const POINTS_UNIT: i64 = 10_000;

/// The slim input of pricing (what a settlement list contributes).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseInput {
    pub list_id: String,
    pub hospital_code: String,
    /// DRG or 病种 code; `None` = ungrouped.
    pub group: Option<String>,
    /// The grouper reported success (`status` ok); `false` → fallback.
    pub grouped_ok: bool,
    /// 金额合计.
    pub total_cost: Fen,
    /// 全自费金额.
    pub selfpay: Fen,
    /// Items declared for exclusion (除外支付): (item code, amount).
    pub excluded_items: Vec<(String, Fen)>,
    pub los_days: i64,
    /// 离院方式 code.
    pub leaving_type: Option<i64>,
    /// Discharge year and month (1–12).
    pub year: i32,
    pub month: u32,
    /// What patients and other payers already paid (个人负担 + 补充保险 + 医疗救助).
    pub others_paid: Fen,
    /// DIP auxiliary-catalogue factor, if the grouper gave one.
    pub aux_factor: Option<Decimal>,
    /// 医保编号 (for the readmission rule; empty = unknown).
    pub insured_id: String,
    /// Admission and discharge as day numbers (any fixed epoch), for the readmission rule.
    pub admit_day: Option<i64>,
    pub discharge_day: Option<i64>,
    /// Number of QC findings of severity 错误 on the list (前置质控); the policy's settlement gate
    /// (`[qc_gate]`) decides whether the list is held (待补正).
    pub qc_errors: u32,
    /// The bureau accepted the list despite its QC errors (经办机构认可): never held.
    pub qc_accepted: bool,
}

/// Largest points one case may earn (10^8): a case above it comes from an absurd weight or
/// amount and is refused, so that Σ points of a region's year stays far inside i64 units.
pub const MAX_CASE_POINTS: i64 = 100_000_000;

/// Why a case was not priced: the field, a stable rule code and the step that explains it.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub field: &'static str,
    pub rule: &'static str,
    pub step: Step,
}

impl Refusal {
    /// The Chinese reason.
    pub fn message_zh(&self) -> String {
        self.step.zh()
    }
}

/// An exact computation left the range of money or points.
#[derive(Debug, Clone, Copy)]
struct Ovf(&'static str);

fn mul(a: Decimal, b: Decimal) -> Result<Decimal, Ovf> {
    a.checked_mul(b).ok_or(Ovf("病例点数"))
}
fn add(a: Decimal, b: Decimal) -> Result<Decimal, Ovf> {
    a.checked_add(b).ok_or(Ovf("病例点数"))
}

/// The priced case.
#[derive(Debug, Clone, PartialEq)]
pub struct CasePrice {
    pub method: Method,
    /// Index into the rate table, when the group is known.
    pub group: Option<u32>,
    pub base_points: Decimal,
    pub coefficient: Decimal,
    pub outlier: Outlier,
    pub cost_ratio: Decimal,
    /// Final points (4 dp) — zero unless paid by points.
    pub final_points: Decimal,
    /// `final_points × 10^4` as an integer.
    pub points_units: i64,
    /// Money paid at cost: fee-for-service or special case (eligible cost).
    pub ffs_amount: Fen,
    /// Listed exclusion items paid by item.
    pub exclusions_amount: Fen,
    /// Case cost used by the rules (total − listed exclusions).
    pub case_cost: Fen,
    /// Eligible cost (total or total − selfpay, minus listed exclusions).
    pub eligible_cost: Fen,
    pub expert_review: bool,
    pub steps: Vec<Step>,
}

impl CasePrice {
    /// Reason codes joined by `|`.
    pub fn reasons(&self) -> String {
        self.steps.iter().map(|s| s.code()).collect::<Vec<_>>().join("|")
    }
    /// Chinese explanation, one line per step joined by `；`.
    pub fn explanation_zh(&self) -> String {
        self.steps.iter().map(|s| s.zh()).collect::<Vec<_>>().join("；")
    }
    /// Value of the points at a point value (yuan per point), rounded half-up to the fen;
    /// `None` when it lies beyond the range of fen.
    pub fn try_points_value(&self, point_value: Decimal) -> Option<Fen> {
        try_fen_of_yuan(self.final_points.checked_mul(point_value)?)
    }
    /// Whole payment at a point value: points value + fee-for-service + exclusions; `None` when
    /// it lies beyond the range of fen.
    pub fn try_payment(&self, point_value: Decimal) -> Option<Fen> {
        let p = self.try_points_value(point_value)?.0;
        Some(Fen(p.checked_add(self.ffs_amount.0)?.checked_add(self.exclusions_amount.0)?))
    }
    /// [`Self::try_points_value`], saturated at the bounds of fen (never panics; callers with an
    /// unbounded point value should use the `try_` form).
    pub fn points_value(&self, point_value: Decimal) -> Fen {
        self.try_points_value(point_value).unwrap_or_else(|| saturated(self.final_points.is_sign_negative() != point_value.is_sign_negative()))
    }
    /// [`Self::try_payment`], saturated at the bounds of fen (never panics).
    pub fn payment(&self, point_value: Decimal) -> Fen {
        self.try_payment(point_value).unwrap_or_else(|| saturated(self.final_points.is_sign_negative() != point_value.is_sign_negative()))
    }
}

fn saturated(negative: bool) -> Fen {
    Fen(if negative { i64::MIN } else { i64::MAX })
}

/// Yuan (exact decimal) → fen, rounded half away from zero; `None` beyond the range of i64 fen.
pub fn try_fen_of_yuan(y: Decimal) -> Option<Fen> {
    let f = y.checked_mul(Decimal::ONE_HUNDRED)?.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    let m = f.mantissa().checked_div(10i128.checked_pow(f.scale())?)?;
    i64::try_from(m).ok().map(Fen)
}

/// Yuan (exact decimal) → fen, rounded half away from zero, saturated at the bounds of i64 fen
/// (never panics; every amount the settlement computes is bounded by the policy's domains, and
/// callers with unbounded input use [`try_fen_of_yuan`]).
pub fn fen_of_yuan(y: Decimal) -> Fen {
    try_fen_of_yuan(y).unwrap_or_else(|| saturated(y.is_sign_negative()))
}

/// Fen → yuan decimal.
pub fn yuan_of_fen(f: Fen) -> Decimal {
    Decimal::new(f.0, 2)
}

fn round_points(p: Decimal) -> Decimal {
    p.round_dp_with_strategy(POINTS_DP, RoundingStrategy::MidpointAwayFromZero)
}

/// Points → integer units of 10^-4; refused above [`MAX_CASE_POINTS`].
fn units(p: Decimal) -> Result<i64, Ovf> {
    let r = round_points(p);
    if r.abs() > Decimal::from(MAX_CASE_POINTS) {
        return Err(Ovf("病例点数（上限 100000000）"));
    }
    let m = r.mantissa();
    let s = r.scale();
    let u = if s <= POINTS_DP { m.checked_mul(10i128.pow(POINTS_DP - s)) } else { Some(m / 10i128.pow(s - POINTS_DP)) };
    u.and_then(|u| i64::try_from(u).ok()).ok_or(Ovf("病例点数"))
}

/// A code list with exact codes and `*` prefixes.
#[derive(Debug, Clone, Default)]
struct CodeSet {
    exact: FxHashSet<String>,
    prefixes: Vec<String>,
}

impl CodeSet {
    fn new<'a>(codes: impl IntoIterator<Item = &'a String>) -> CodeSet {
        let mut s = CodeSet::default();
        for c in codes {
            match c.strip_suffix('*') {
                Some(p) => s.prefixes.push(p.to_string()),
                None => {
                    s.exact.insert(c.clone());
                }
            }
        }
        s
    }
    fn matches(&self, code: &str) -> bool {
        self.exact.contains(code) || self.prefixes.iter().any(|p| code.starts_with(p.as_str()))
    }
    fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.prefixes.is_empty()
    }
}

#[derive(Debug, Clone)]
struct HospCtx {
    /// Level or hospital coefficient (before bonus).
    level_coef: Decimal,
    bonus: Decimal,
    high_level_multiplier: Decimal,
    /// Discipline coefficients applying at this hospital: (value, group set; empty = all groups).
    disciplines: Vec<(Decimal, usize)>,
}

/// A policy compiled against a rate table and a hospital register.
pub struct Pricer<'a> {
    pub policy: &'a Policy,
    pub rates: &'a RateTable,
    hospitals: FxHashMap<String, HospCtx>,
    default_ctx: HospCtx,
    discipline_sets: Vec<CodeSet>,
    basic: CodeSet,
    bed_day: Vec<(CodeSet, Decimal, Option<i64>)>,
    day_surgery: Vec<(CodeSet, Option<Decimal>)>,
    exclusions: FxHashSet<String>,
}

/// Marks on a case decided outside pricing (special-case review, audit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaseFlags {
    pub special_approved: bool,
    pub not_paid: bool,
}

impl<'a> Pricer<'a> {
    pub fn new(policy: &'a Policy, rates: &'a RateTable, hospitals: &[Hospital]) -> Pricer<'a> {
        let c = &policy.coefficients;
        let discipline_sets: Vec<CodeSet> = c.discipline.iter().map(|d| CodeSet::new(&d.groups)).collect();
        let high = &policy.outliers.high;
        let ctx_for = |code: &str, level: &str| -> HospCtx {
            let level_coef = c.hospital.get(code).or_else(|| c.level.get(level)).unwrap_or(&c.default).0;
            let bonus = c.bonus.iter().filter(|b| b.hospitals.iter().any(|h| h == code)).map(|b| b.value.0).sum();
            let high_level_multiplier = high.by_level.get(level).unwrap_or(&high.level_default).0;
            let disciplines = c
                .discipline
                .iter()
                .enumerate()
                .filter(|(_, d)| d.hospitals.iter().any(|h| h == code))
                .map(|(i, d)| (d.value.0, i))
                .collect();
            HospCtx { level_coef, bonus, high_level_multiplier, disciplines }
        };
        let hospitals = hospitals.iter().map(|h| (h.code.clone(), ctx_for(&h.code, &h.level))).collect();
        let default_ctx = HospCtx {
            level_coef: c.default.0,
            bonus: Decimal::ZERO,
            high_level_multiplier: high.level_default.0,
            disciplines: Vec::new(),
        };
        Pricer {
            policy,
            rates,
            hospitals,
            default_ctx,
            discipline_sets,
            basic: CodeSet::new(&c.basic_groups),
            bed_day: policy
                .per_bed_day
                .groups
                .iter()
                .map(|g| (CodeSet::new([&g.code]), g.points_per_day.0, g.max_days))
                .collect(),
            day_surgery: policy.day_surgery.groups.iter().map(|g| (CodeSet::new([&g.code]), g.points.map(|p| p.0))).collect(),
            exclusions: policy.exclusions.items.iter().map(|i| i.code.clone()).collect(),
        }
    }

    /// Coefficient of a case of group `code` at hospital `h` (steps: level/bonus/discipline).
    fn coefficient(&self, h: &HospCtx, code: &str) -> Result<(Decimal, Step), Ovf> {
        let basic = !self.basic.is_empty() && self.basic.matches(code);
        let mut disc = Decimal::ONE;
        for (v, i) in &h.disciplines {
            let applies = self.discipline_sets.get(*i).is_some_and(|set| set.is_empty() || set.matches(code));
            if applies {
                disc = mul(disc, *v)?;
            }
        }
        let (level, bonus) = if basic { (Decimal::ONE, Decimal::ZERO) } else { (h.level_coef, h.bonus) };
        let value = mul(add(level, bonus)?, disc)?;
        Ok((value, Step::Coefficient { level, bonus, discipline: disc, value, basic }))
    }

    /// The list's amounts within their domains: 金额合计 in (0, qc_gate.max_case_cost], 全自费,
    /// what others paid and each excluded item in [0, max], and Σ excluded items ≤ max.
    pub fn check_amounts(&self, c: &CaseInput) -> Result<(), Refusal> {
        let max = try_fen_of_yuan(self.policy.qc_gate.max_case_cost.0).unwrap_or(Fen(i64::MAX));
        let out = |field: &'static str, rule: &'static str, amount: Fen| Refusal { field, rule, step: Step::AmountOutOfRange { field, amount, max } };
        if c.total_cost.0 <= 0 {
            return Err(out("total_cost", "total_cost_not_positive", c.total_cost));
        }
        if c.total_cost > max {
            return Err(out("total_cost", "amount_out_of_range", c.total_cost));
        }
        for (field, a) in [("selfpay_items", c.selfpay), ("others_paid", c.others_paid)] {
            if a.0 < 0 || a > max {
                return Err(out(field, "amount_out_of_range", a));
            }
        }
        let mut sum: i128 = 0;
        for (_, a) in &c.excluded_items {
            sum += a.0 as i128;
            if a.0 < 0 || *a > max || sum > max.0 as i128 {
                return Err(out("excluded_items", "amount_out_of_range", *a));
            }
        }
        Ok(())
    }

    /// Prices one case. Never panics: a list the policy's gate holds is [`Method::Held`], a list
    /// outside the amount domains is [`Method::Refused`] (with the reason), and a computation
    /// beyond the range of points or money is refused with an `OVERFLOW` step.
    pub fn price(&self, c: &CaseInput, flags: CaseFlags) -> CasePrice {
        // the gate first: a list with QC errors is held whatever it claims (an absurd amount is
        // itself a QC error), and a held list is never priced
        let gate = &self.policy.qc_gate;
        if gate.holds(c.qc_errors, c.qc_accepted) {
            return unpriced(Method::Held, c.total_cost, vec![Step::QcHeld { errors: c.qc_errors, max: gate.max_errors }]);
        }
        if let Err(r) = self.check_amounts(c) {
            return unpriced(Method::Refused, Fen::ZERO, vec![r.step]);
        }
        match self.price_checked(c, flags) {
            Ok(p) => p,
            Err(Ovf(what)) => unpriced(Method::Refused, Fen::ZERO, vec![Step::Overflow { what }]),
        }
    }

    fn price_checked(&self, c: &CaseInput, flags: CaseFlags) -> Result<CasePrice, Ovf> {
        let p = self.policy;
        let mut steps = Vec::with_capacity(6);
        // exclusions (除外支付)
        let (mut excl, mut excl_n, mut other, mut other_n) = (Fen::ZERO, 0u32, Fen::ZERO, 0u32);
        for (code, amt) in &c.excluded_items {
            if self.exclusions.contains(code.as_str()) {
                excl += *amt;
                excl_n += 1;
            } else {
                other += *amt;
                other_n += 1;
            }
        }
        if excl_n > 0 {
            steps.push(Step::Exclusions { items: excl_n, amount: excl });
        }
        if other_n > 0 {
            steps.push(Step::ExclusionsNotListed { items: other_n, amount: other });
        }
        let case_cost = Fen((c.total_cost - excl).0.max(0));
        let eligible_base = match p.fallback.eligible_cost {
            EligibleCost::TotalMinusSelfpay => c.total_cost - c.selfpay,
            EligibleCost::Total => c.total_cost,
        };
        let eligible = Fen((eligible_base - excl).0.max(0));
        steps.push(Step::Cost { case_cost, eligible });
        // the fields a priced case starts from are those of an unpriced one
        let mut out = CasePrice { exclusions_amount: excl, eligible_cost: eligible, ..unpriced(Method::Group, case_cost, Vec::new()) };
        if flags.not_paid {
            steps.push(Step::NotPaid);
            out.method = Method::NotPaid;
            out.exclusions_amount = Fen::ZERO;
            out.steps = steps;
            return Ok(out);
        }
        let h = match self.hospitals.get(c.hospital_code.as_str()) {
            Some(h) => h,
            None => {
                if !self.hospitals.is_empty() {
                    steps.push(Step::HospitalUnknown);
                }
                &self.default_ctx
            }
        };
        let code = match (&c.group, c.grouped_ok) {
            (Some(g), true) if !g.is_empty() => g.as_str(),
            _ => {
                steps.push(Step::Ungrouped);
                return self.fallback(out, steps);
            }
        };
        // per-bed-day groups (may be absent from the rate table)
        if let Some((_, ppd, max_days)) = self.bed_day.iter().find(|(s, _, _)| s.matches(code)) {
            let days = c.los_days.max(0);
            let (days, capped) = match max_days {
                Some(m) if days > *m => (*m, true),
                _ => (days, false),
            };
            let (k, kstep) = if p.per_bed_day.apply_coefficient { self.coefficient(h, code)? } else { (Decimal::ONE, Step::NotPaid) };
            if p.per_bed_day.apply_coefficient {
                steps.push(kstep);
            }
            let pts = round_points(mul(mul(*ppd, Decimal::from(days))?, k)?);
            steps.push(Step::PerBedDay { points_per_day: *ppd, days, capped, coefficient: k, points: pts });
            out.method = Method::PerBedDay;
            out.group = self.rates.get(code);
            out.base_points = *ppd;
            out.coefficient = k;
            return finish(out, pts, steps);
        }
        let Some(gi) = self.rates.get(code) else {
            steps.push(Step::GroupUnknown);
            return self.fallback(out, steps);
        };
        out.group = Some(gi);
        let g = self.rates.group(gi);
        if flags.special_approved {
            steps.push(Step::SpecialApproved { eligible });
            out.method = Method::SpecialCase;
            out.ffs_amount = eligible;
            out.steps = steps;
            return Ok(out);
        }
        let mut base = g.base_points;
        steps.push(Step::BaseGroup { points: base, mean_cost: g.mean_cost });
        if p.policy.model == Model::DipScores {
            if let Some(f) = c.aux_factor {
                if f > Decimal::ZERO && f != Decimal::ONE {
                    base = mul(base, f)?;
                    steps.push(Step::AuxFactor { factor: f });
                }
            }
        }
        let (k, kstep) = self.coefficient(h, code)?;
        steps.push(kstep);
        out.base_points = base;
        out.coefficient = k;
        // day surgery: fixed points, no outlier rules
        if c.los_days <= p.day_surgery.max_los_days {
            if let Some((_, pts)) = self.day_surgery.iter().find(|(s, _)| s.matches(code)) {
                let dp = pts.unwrap_or(base);
                let kk = if p.day_surgery.apply_coefficient { k } else { Decimal::ONE };
                let fp = round_points(mul(dp, kk)?);
                steps.push(Step::DaySurgery { points: dp, coefficient: kk, final_points: fp });
                out.method = Method::DaySurgery;
                out.base_points = dp;
                out.coefficient = kk;
                return finish(out, fp, steps);
            }
        }
        // reference mean and ratio
        let reference = match p.outliers.reference {
            Reference::GroupMean => g.mean_cost,
            Reference::LevelMean => try_fen_of_yuan(mul(yuan_of_fen(g.mean_cost), h.level_coef)?).ok_or(Ovf("参照次均费用"))?,
        };
        let ratio = if reference.0 > 0 {
            Decimal::from(case_cost.0).checked_div(Decimal::from(reference.0)).ok_or(Ovf("费用倍率"))?
        } else {
            Decimal::ONE
        };
        out.cost_ratio = ratio;
        steps.push(Step::Ratio { case_cost, reference, ratio });
        let high = &p.outliers.high;
        if let Some(x) = high.expert_review_multiplier {
            if ratio > x.0 {
                out.expert_review = true;
                steps.push(Step::ExpertReview { multiplier: x.0 });
            }
        }
        if high.enabled && reference.0 > 0 {
            let t = match high.threshold {
                ThresholdMode::Fixed => high.multiplier.0,
                ThresholdMode::Level => h.high_level_multiplier,
                ThresholdMode::Band => high
                    .bands
                    .iter()
                    .find(|b| b.max_points.is_none_or(|m| base <= m.0))
                    .map(|b| b.multiplier.0)
                    .unwrap_or(high.multiplier.0),
            };
            let is_high = match high.payment {
                HighPayment::DeviationScore => ratio > t,
                _ => ratio >= t,
            };
            if is_high {
                out.outlier = Outlier::High;
                match high.payment {
                    HighPayment::AdditionalPoints => {
                        let pts = round_points(add(mul(base, k)?, mul(base, ratio - t)?)?);
                        steps.push(Step::HighAdditional { threshold: t, base, coefficient: k, ratio, points: pts });
                        return finish(out, pts, steps);
                    }
                    HighPayment::DeviationScore => {
                        let pts = round_points(mul(mul(ratio - t + Decimal::ONE, base)?, k)?);
                        steps.push(Step::HighDeviation { threshold: t, base, coefficient: k, ratio, points: pts });
                        return finish(out, pts, steps);
                    }
                    HighPayment::FeeForService => {
                        steps.push(Step::HighFfs { threshold: t, eligible });
                        out.method = Method::FeeForService;
                        out.ffs_amount = eligible;
                        out.steps = steps;
                        return Ok(out);
                    }
                }
            }
        }
        let inc = &p.incomplete;
        let incomplete = c.leaving_type.is_some_and(|l| inc.leaving_types.contains(&l))
            || inc.short_stay_max_days.is_some_and(|m| c.los_days <= m);
        if incomplete {
            out.outlier = Outlier::Incomplete;
            let r = ratio.min(Decimal::ONE);
            let pts = round_points(mul(mul(base, k)?, r)?);
            steps.push(Step::Incomplete { leaving_type: c.leaving_type, los: c.los_days, ratio, points: pts });
            return finish(out, pts, steps);
        }
        let low = &p.outliers.low;
        let is_low = low.enabled && reference.0 > 0 && if low.strict { ratio < low.multiplier.0 } else { ratio <= low.multiplier.0 };
        if is_low {
            out.outlier = Outlier::Low;
            let kk = if low.apply_coefficient { k } else { Decimal::ONE };
            let pts = round_points(mul(mul(base, ratio)?, kk)?.min(mul(base, k)?));
            steps.push(Step::Low { threshold: low.multiplier.0, ratio, points: pts });
            return finish(out, pts, steps);
        }
        let pts = round_points(mul(base, k)?);
        steps.push(Step::Normal { base, coefficient: k, points: pts });
        finish(out, pts, steps)
    }

    fn fallback(&self, mut out: CasePrice, mut steps: Vec<Step>) -> Result<CasePrice, Ovf> {
        let p = self.policy;
        match p.fallback.method {
            FallbackMethod::FeeForService => {
                steps.push(Step::FallbackFfs { eligible: out.eligible_cost });
                out.method = Method::FeeForService;
                out.ffs_amount = out.eligible_cost;
                out.steps = steps;
                Ok(out)
            }
            FallbackMethod::Points => {
                let mean = self.rates.all_case_mean;
                let pts = if mean.0 > 0 {
                    let r = Decimal::from(out.case_cost.0).checked_div(Decimal::from(mean.0)).ok_or(Ovf("费用倍率"))?;
                    round_points(mul(mul(r, p.policy.points_scale.0)?, p.fallback.points_discount.0)?)
                } else {
                    Decimal::ZERO
                };
                steps.push(Step::FallbackPoints {
                    case_cost: out.case_cost,
                    all_case_mean: mean,
                    scale: p.policy.points_scale.0,
                    discount: p.fallback.points_discount.0,
                    points: pts,
                });
                out.method = Method::FfsPoints;
                finish(out, pts, steps)
            }
        }
    }

    /// Prices a batch, applying the special-case cap (特病单议 ≤ cap_share of group-paid
    /// discharges; the excess, ranked by cost ratio descending then input order, is paid by group).
    /// `approved(i)` and `not_paid(i)` tell the flags of case `i`.
    pub fn price_all(&self, cases: &[CaseInput], approved: impl Fn(usize) -> bool, not_paid: impl Fn(usize) -> bool) -> Vec<CasePrice> {
        let mut out: Vec<CasePrice> =
            cases.iter().enumerate().map(|(i, c)| self.price(c, CaseFlags { special_approved: approved(i), not_paid: not_paid(i) })).collect();
        self.readmissions(cases, &mut out);
        let specials: Vec<usize> = (0..out.len()).filter(|&i| out[i].method == Method::SpecialCase).collect();
        if specials.is_empty() {
            return out;
        }
        let group_paid = out
            .iter()
            .filter(|p| matches!(p.method, Method::Group | Method::PerBedDay | Method::DaySurgery | Method::SpecialCase))
            .count() as i128;
        // cap = floor(cap_share × group-paid discharges)
        let cap_share = self.policy.special_cases.cap_share.0;
        let cap = (cap_share * Decimal::from(group_paid as i64)).floor();
        let cap = u64::try_from(cap.mantissa() / 10i128.pow(cap.scale())).unwrap_or(0) as usize;
        if specials.len() <= cap {
            return out;
        }
        // rank by over-run: eligible cost ÷ group mean cost, descending
        let mut ranked: Vec<(Decimal, usize)> = specials
            .iter()
            .map(|&i| {
                let g = out[i].group.map(|g| self.rates.group(g).mean_cost.0).unwrap_or(0);
                let r = if g > 0 { Decimal::from(out[i].eligible_cost.0) / Decimal::from(g) } else { Decimal::ZERO };
                (r, i)
            })
            .collect();
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, i) in &ranked[cap..] {
            let mut p = self.price(&cases[i], CaseFlags { special_approved: false, not_paid: not_paid(i) });
            p.steps.insert(0, Step::SpecialCapExceeded { cap: cap as u64 });
            out[i] = p;
        }
        out
    }
}

impl Pricer<'_> {
    /// 再入院: for each insured person, a stay paid by group followed by an admission in the same
    /// group within `window_days` of its discharge has its points × factor (4 dp, half-up).
    fn readmissions(&self, cases: &[CaseInput], out: &mut [CasePrice]) {
        let r = &self.policy.readmission;
        let Some(window) = r.window_days else { return };
        let exempt = CodeSet::new(&r.exempt_groups);
        let mut by_person: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
        for (i, c) in cases.iter().enumerate() {
            if !c.insured_id.is_empty() && c.admit_day.is_some() && c.discharge_day.is_some() && c.group.is_some() && !matches!(out[i].method, Method::Held | Method::Refused) {
                by_person.entry(c.insured_id.as_str()).or_default().push(i);
            }
        }
        let mut hit: Vec<(usize, usize)> = Vec::new();
        for stays in by_person.values_mut() {
            if stays.len() < 2 {
                continue;
            }
            stays.sort_by_key(|&i| (cases[i].admit_day, i));
            for w in stays.windows(2) {
                let (a, b) = (w[0], w[1]);
                let (ca, cb) = (&cases[a], &cases[b]);
                let (Some(admit), Some(discharged)) = (cb.admit_day, ca.discharge_day) else { continue };
                let Some(gap) = admit.checked_sub(discharged) else { continue };
                if ca.group == cb.group && (0..=window).contains(&gap) && out[a].method == Method::Group {
                    if !exempt.is_empty() && exempt.matches(ca.group.as_deref().unwrap_or("")) {
                        continue;
                    }
                    hit.push((a, b));
                }
            }
        }
        hit.sort_unstable();
        for (a, b) in hit {
            let before = out[a].final_points;
            // factor ∈ [0, 1] (validated) and points ≤ MAX_CASE_POINTS: the product cannot overflow
            let Ok(pts) = mul(before, r.factor.0).map(round_points) else { continue };
            let Ok(u) = units(pts) else { continue };
            let days = cases[b].admit_day.zip(cases[a].discharge_day).map(|(x, y)| x.saturating_sub(y)).unwrap_or(0);
            out[a].steps.push(Step::Readmission { next: cases[b].list_id.clone(), days, factor: r.factor.0, points: pts });
            out[a].final_points = pts;
            out[a].points_units = u;
        }
    }
}

fn finish(mut out: CasePrice, pts: Decimal, mut steps: Vec<Step>) -> Result<CasePrice, Ovf> {
    let pts = round_points(pts.max(Decimal::ZERO));
    steps.push(Step::Rounded { points: pts });
    out.final_points = pts;
    out.points_units = units(pts)?;
    out.steps = steps;
    Ok(out)
}

/// A case that earns nothing: held by the gate (`held_cost` = its total cost) or refused.
fn unpriced(method: Method, held_cost: Fen, steps: Vec<Step>) -> CasePrice {
    CasePrice {
        method,
        group: None,
        base_points: Decimal::ZERO,
        coefficient: Decimal::ONE,
        outlier: Outlier::None,
        cost_ratio: Decimal::ZERO,
        final_points: Decimal::ZERO,
        points_units: 0,
        ffs_amount: Fen::ZERO,
        exclusions_amount: Fen::ZERO,
        case_cost: held_cost,
        eligible_cost: Fen::ZERO,
        expert_review: false,
        steps,
    }
}

/// Splits `total` fen over `weights` exactly (largest-remainder / Hamilton method): each share is
/// floor(total × w ÷ Σw), and the leftover fen go one each to the largest remainders (ties: lower
/// index first). Σ shares = total when Σw > 0; all zero otherwise (also when a product leaves the
/// range of i128, which the settlement's amount domains rule out). `total` may be negative.
/// Weights may be `i64` (case points) or `i128` (a hospital's points).
pub fn apportion<W: Copy + Into<i128>>(total: i64, weights: &[W]) -> Vec<i64> {
    let ws: Vec<i128> = weights.iter().map(|&w| w.into()).collect();
    let zero = || vec![0; ws.len()];
    let Some(sum) = ws.iter().try_fold(0i128, |a, &w| a.checked_add(w)) else { return zero() };
    if sum <= 0 || ws.iter().any(|&w| w < 0) {
        return zero();
    }
    let neg = total < 0;
    let t = (total as i128).abs();
    let mut shares = Vec::with_capacity(ws.len());
    let mut rems: Vec<(i128, usize)> = Vec::with_capacity(ws.len());
    let mut given: i128 = 0;
    for (i, &w) in ws.iter().enumerate() {
        let Some(num) = t.checked_mul(w) else { return zero() };
        let q = num / sum;
        let r = num % sum;
        given += q;
        shares.push(q);
        if r > 0 {
            rems.push((r, i));
        }
    }
    let left = usize::try_from(t - given).unwrap_or(0);
    if left > 0 {
        // only the top `left` remainders matter
        let cmp = |a: &(i128, usize), b: &(i128, usize)| b.0.cmp(&a.0).then(a.1.cmp(&b.1));
        if left < rems.len() {
            rems.select_nth_unstable_by(left - 1, cmp);
        }
        for &(_, i) in rems.iter().take(left) {
            if let Some(x) = shares.get_mut(i) {
                *x += 1;
            }
        }
    }
    // every share ≤ |total| ≤ i64::MAX
    shares.into_iter().map(|s| i64::try_from(s).map(|s| if neg { -s } else { s }).unwrap_or(0)).collect()
}

/// Half-up rounding of `fen × ratio` to the fen.
pub fn mul_fen(f: Fen, ratio: Decimal) -> Fen {
    fen_of_yuan(yuan_of_fen(f) * ratio)
}

/// Exact integer quotient of fen amounts rounded half-up (used for stated splits).
pub fn fen_div_round(n: i128, d: i128) -> Fen {
    if d == 0 {
        return Fen::ZERO;
    }
    let q = div_round_half_up(n, d);
    Fen(i64::try_from(q).unwrap_or(if q < 0 { i64::MIN } else { i64::MAX }))
}
