//! # casemix-settlement
//!
//! Regional budget → money per hospital, to the fen. Monthly settlement (provisional point value
//! from the month's budget share, advance share, quality deposit withheld) and year-end clearing
//! (final point value = distributable budget ÷ total points, clearing coefficient, floating rate,
//! surplus-retention correction, audit deductions, deposit return).
//!
//! Rounding rules (stated once, applied everywhere):
//! 1. budget from a fund amount: fund ÷ share, rounded half-up to the fen; adjustment fund =
//!    budget × share, half-up; month and tier budgets: largest-remainder split (exact);
//! 2. money paid at cost (fee-for-service, special cases, listed exclusions) is paid first from
//!    the (tier, month) budget; the rest — the points pool — is split over the hospitals in
//!    proportion to their points (4-dp integer units) by the largest-remainder method, then each
//!    hospital's amount over its cases the same way, so Σ case fen = Σ hospital fen = pool exactly
//!    (ties to the earlier hospital code / case); the point value shown is pool ÷ points to 6 dp (display);
//!    with a fixed budget point value instead (monthly), each case is points × value half-up;
//!    with the optimisation band (优化法) at year end, a value outside budget value × (1 ± band)
//!    is bounded and each hospital gets its points × the bounded value, half-up (the difference
//!    to the pool is reported as pool not distributed, negative = overspend);
//! 3. every percentage of a hospital amount (advance share, deposit, clearing coefficient ×
//!    floating rate, 110 % of actual cost, deposit return) is rounded half-up to the fen;
//! 4. budget = Σ net payments + adjustment fund + undistributed remainder, where the remainder is
//!    reported as the sum of its parts (pool not distributed, advance retained, clearing retained,
//!    deductions retained, deposit retained). No fen appears or disappears.

pub mod inputs;

pub use rustc_hash::FxHashSet;
pub use inputs::{deductions_from_csv, indicators_from_csv, Action, Deduction, IndicatorRow, InputError};

use casemix_model::Fen;
use casemix_policy::{Combine, Policy};
use casemix_pricing::{apportion, fen_of_yuan, mul_fen, yuan_of_fen, CaseInput, CasePrice, Decimal, Hospital, Method, Pricer, POINTS_UNIT};
use rust_decimal::RoundingStrategy;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// The settlement period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Month(u32),
    Year,
}

/// One hospital's statement.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HospitalStatement {
    pub hospital_code: String,
    pub hospital_name: String,
    pub level: String,
    pub tier: u8,
    /// Cases settled (held cases not included).
    pub cases: u64,
    /// 待补正: lists held by the policy's settlement gate, and their total cost (not paid).
    pub held_cases: u64,
    pub held_cost: Fen,
    pub total_points: Decimal,
    pub point_value: Decimal,
    pub group_payment: Fen,
    pub ffs_payment: Fen,
    pub exclusions_payment: Fen,
    pub deductions: Fen,
    pub deposit_withheld: Fen,
    pub deposit_returned: Fen,
    pub clearing_adjustment: Fen,
    pub net_payment: Fen,
    /// Paid by patients and other payers on these cases; the fund pays net − others.
    pub others_paid: Fen,
    pub fund_payment: Fen,
    /// Points value before advance share / clearing (Σ case fen).
    pub points_value: Fen,
    pub actual_cost: Fen,
    pub clearing_coefficient: Option<Decimal>,
    pub floating_rate: Decimal,
    pub retention_ratio: Option<Decimal>,
    pub assessment_score: Option<Decimal>,
    /// Year end: Σ of the monthly net payments already made (已预拨), when computed.
    pub advances_paid: Option<Fen>,
    /// Year end: net payment − advances paid (清算应补拨, negative = to recover).
    pub balance_due: Option<Fen>,
    pub methods: BTreeMap<&'static str, u64>,
    pub outliers: BTreeMap<&'static str, u64>,
    /// Chinese notes (clearing steps, deposit rule, missing data).
    pub notes: Vec<String>,
}

/// One tier's (or the whole region's) pool.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TierSummary {
    pub tier: u8,
    pub name: String,
    pub budget: Fen,
    pub paid_at_cost: Fen,
    pub points_pool: Fen,
    pub total_points: Decimal,
    pub point_value: Decimal,
    pub distributed_by_points: Fen,
}

/// The region's totals and the balance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegionSummary {
    pub region: String,
    pub year: i32,
    pub period: String,
    /// Annual total-cost budget (or the month's share of it).
    pub budget: Fen,
    pub adjustment_fund: Fen,
    pub distributable: Fen,
    pub tiers: Vec<TierSummary>,
    pub cases: u64,
    /// 待补正 lists of the period and their total cost (held out of points and payments).
    pub held_cases: u64,
    pub held_cost: Fen,
    pub rejected: u64,
    /// Σ of the statements' net payments.
    pub net_payments: Fen,
    /// Σ of the parts below (never budget − fund − net: the balance check compares them).
    pub remainder: Fen,
    /// = by_value + rounding + not_distributable.
    pub remainder_pool_undistributed: Fen,
    /// Pool not distributed because the point value was fixed (budget point value) or bounded
    /// (optimisation band): pool − exact value of the points (negative = paid above the pool).
    pub remainder_pool_by_value: Fen,
    /// Exact value of the points − the fen paid after rounding each hospital / case.
    pub remainder_pool_rounding: Fen,
    /// A pool with no points to take it (every case held or paid at cost), or at/below zero.
    pub remainder_pool_not_distributable: Fen,
    pub remainder_advance_retained: Fen,
    pub remainder_clearing_retained: Fen,
    pub remainder_deductions: Fen,
    pub remainder_deposit_retained: Fen,
    pub special_cases: u64,
}

impl RegionSummary {
    /// Budget = Σ net + adjustment fund + remainder, with the remainder the sum of its parts and
    /// the pool part the sum of its own parts. The remainder is tallied from its parts during the
    /// settlement, never derived from the budget, so this fails when a fen appears or vanishes;
    /// [`Settlement::check_balance`] also re-adds the case lines and the statements.
    pub fn balances(&self) -> bool {
        let pool = self.remainder_pool_by_value.0 as i128 + self.remainder_pool_rounding.0 as i128 + self.remainder_pool_not_distributable.0 as i128;
        let parts = [self.remainder_pool_undistributed, self.remainder_advance_retained, self.remainder_clearing_retained, self.remainder_deductions, self.remainder_deposit_retained]
            .iter()
            .map(|f| f.0 as i128)
            .sum::<i128>();
        pool == self.remainder_pool_undistributed.0 as i128
            && parts == self.remainder.0 as i128
            && self.net_payments.0 as i128 + self.adjustment_fund.0 as i128 + self.remainder.0 as i128 == self.budget.0 as i128
    }
}

/// A case that took part in no settlement, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Index into the input cases, when the rejection concerns one (not for deductions).
    pub index: Option<usize>,
    pub list_id: String,
    pub hospital_code: String,
    /// The field the rule concerns (`list_id`, `total_cost`, `hospital_code`, …).
    pub field: &'static str,
    pub rule: &'static str,
    pub message: String,
}

/// A case and its money.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseLine {
    /// Index into the input cases.
    pub index: usize,
    pub hospital_code: String,
    pub price: CasePrice,
    /// Share of the points pool paid for this case (fen).
    pub points_payment: Fen,
    /// Audit action applied, if any.
    pub audit: Option<String>,
}

impl CaseLine {
    pub fn payment(&self) -> Fen {
        self.points_payment + self.price.ffs_amount + self.price.exclusions_amount
    }
}

/// The result of a settlement run.
#[derive(Debug, Clone)]
pub struct Settlement {
    pub period: Period,
    pub statements: Vec<HospitalStatement>,
    pub summary: RegionSummary,
    pub cases: Vec<CaseLine>,
    pub rejections: Vec<Rejection>,
}

/// Everything a settlement reads.
pub struct SettleInput<'a> {
    pub pricer: &'a Pricer<'a>,
    pub hospitals: &'a [Hospital],
    pub cases: &'a [CaseInput],
    /// Approved special cases beyond those in the policy, by (hospital_code, list_id).
    pub approved: &'a FxHashSet<CaseKey>,
    pub deductions: &'a [Deduction],
    pub indicators: &'a BTreeMap<String, IndicatorRow>,
}

/// The annual total-cost budget in fen (rule 1).
pub fn annual_budget(p: &Policy) -> Fen {
    let b = &p.budget;
    match (b.total_cost, b.fund, b.fund_share_of_cost) {
        (Some(t), _, _) => fen_of_yuan(t.0),
        (None, Some(f), Some(s)) => f.0.checked_div(s.0).map(fen_of_yuan).unwrap_or(Fen::ZERO),
        _ => Fen::ZERO,
    }
}

fn dec_units(ws: &[Decimal]) -> Vec<i64> {
    let scale = ws.iter().map(|w| w.scale()).max().unwrap_or(0);
    ws.iter()
        .map(|w| {
            let mut x = *w;
            x.rescale(scale);
            i64::try_from(x.mantissa()).unwrap_or(i64::MAX)
        })
        .collect()
}

fn pv_display(pool: Fen, units: i128) -> Decimal {
    if units <= 0 {
        return Decimal::ZERO;
    }
    // pool (fen) ÷ points = yuan per point = pool/100 ÷ (units/10^4)
    let v = Decimal::from_i128_with_scale(pool.0 as i128 * 100, 0) / Decimal::from_i128_with_scale(units, 0);
    v.round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero)
}

/// The identity of a settlement list: a list id is unique only within its hospital.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseKey {
    pub hospital_code: String,
    pub list_id: String,
}

fn reject(rejections: &mut Vec<Rejection>, index: Option<usize>, c: (&str, &str), field: &'static str, rule: &'static str, message: String) {
    rejections.push(Rejection { index, list_id: c.1.to_string(), hospital_code: c.0.to_string(), field, rule, message });
}

/// The cases of the policy year that can be settled: in the year, hospital (and tier) known,
/// amounts within their domains, and the last submission of each (hospital, list id) — an
/// earlier one is replaced (settlement-list.md: the later submission replaces the earlier).
/// Rejections are reported for the cases of `period`.
fn select_year(
    input: &SettleInput,
    period: Period,
    hosp: &FxHashMap<&str, &Hospital>,
    tier_budgets: bool,
    tier_ids: &[u8],
    rejections: &mut Vec<Rejection>,
) -> Vec<usize> {
    let year = input.pricer.policy.policy.year;
    let mut last: FxHashMap<(&str, &str), usize> = FxHashMap::default();
    for (i, c) in input.cases.iter().enumerate() {
        last.insert((c.hospital_code.as_str(), c.list_id.as_str()), i);
    }
    let mut sel = Vec::new();
    for (i, c) in input.cases.iter().enumerate() {
        let id = (c.hospital_code.as_str(), c.list_id.as_str());
        if c.year != year {
            reject(rejections, Some(i), id, "discharge_time", "out_of_year", format!("清单 {}：出院年度 {} 不是结算年度 {year}", c.list_id, c.year));
            continue;
        }
        let report = period == Period::Year || period == Period::Month(c.month);
        let why: Option<(&'static str, &'static str, String)> = if last.get(&id) != Some(&i) {
            let later = last.get(&id).copied().unwrap_or(i);
            Some(("list_id", "duplicate_list_id", format!("医院 {} 的清单 {} 被后一次提交（第 {} 条记录）替换，以后提交的为准，本条不参与结算", c.hospital_code, c.list_id, later + 1)))
        } else if !input.hospitals.is_empty() && !hosp.contains_key(c.hospital_code.as_str()) {
            Some(("hospital_code", "hospital_unknown", format!("清单 {}：医院 {} 不在医院名录中，无法结算", c.list_id, c.hospital_code)))
        } else if tier_budgets && !hosp.get(c.hospital_code.as_str()).is_some_and(|h| tier_ids.contains(&h.tier)) {
            Some(("hospital_code", "tier_unknown", format!("清单 {}：医院 {} 的档次不在政策 tiers 中，无法分档结算", c.list_id, c.hospital_code)))
        } else if input.pricer.policy.qc_gate.holds(c.qc_errors, c.qc_accepted) {
            None // held (待补正): shown on the statement whatever it claims, never priced
        } else {
            input.pricer.check_amounts(c).err().map(|r| (r.field, r.rule, format!("清单 {}：{}", c.list_id, r.message_zh())))
        };
        match why {
            Some((field, rule, message)) => {
                if report {
                    reject(rejections, Some(i), id, field, rule, message);
                }
            }
            None => sel.push(i),
        }
    }
    sel
}

/// What the confirmed audit deductions do to the year's cases.
struct AuditEffects {
    adjusted: FxHashMap<usize, CaseInput>,
    not_paid: FxHashSet<usize>,
    audit_note: FxHashMap<usize, String>,
    amount_deductions: BTreeMap<String, Fen>,
}

/// Finds the case a deduction names, by (hospital_code, list_id); a deduction without a hospital,
/// naming a list the year does not have, or a list of another hospital is refused with a reason.
fn deduction_case(input: &SettleInput, pos: &FxHashMap<(&str, &str), usize>, d: &Deduction) -> Result<usize, (&'static str, String)> {
    if d.hospital_code.trim().is_empty() {
        return Err(("deduction_hospital_missing", format!("扣减记录（清单 {}，规则 {}）未给出 hospital_code，清单流水号只在本院内唯一，无法确定病例，未执行", d.list_id, d.rule)));
    }
    if let Some(&i) = pos.get(&(d.hospital_code.as_str(), d.list_id.as_str())) {
        return Ok(i);
    }
    let owners: Vec<&str> = input.cases.iter().filter(|c| c.list_id == d.list_id).map(|c| c.hospital_code.as_str()).collect();
    Err(if owners.is_empty() {
        ("deduction_list_unknown", format!("扣减记录所指清单 {}（医院 {}）不在本年度结算病例中，未执行", d.list_id, d.hospital_code))
    } else if !owners.contains(&d.hospital_code.as_str()) {
        ("deduction_list_unknown", format!("扣减记录写明医院 {}，但清单 {} 属于医院 {}，不得扣减其他医院，未执行", d.hospital_code, d.list_id, owners.join("、")))
    } else {
        ("deduction_list_unknown", format!("扣减记录所指清单 {}（医院 {}）未参与本年度结算（见其拒绝原因），未执行", d.list_id, d.hospital_code))
    })
}

fn apply_deductions(input: &SettleInput, period: Period, year_sel: &[usize], in_period: &dyn Fn(usize) -> bool, rejections: &mut Vec<Rejection>) -> AuditEffects {
    let p = input.pricer.policy;
    let pos: FxHashMap<(&str, &str), usize> =
        year_sel.iter().map(|&i| ((input.cases[i].hospital_code.as_str(), input.cases[i].list_id.as_str()), i)).collect();
    let mut fx = AuditEffects { adjusted: FxHashMap::default(), not_paid: FxHashSet::default(), audit_note: FxHashMap::default(), amount_deductions: BTreeMap::new() };
    let refuse = |rej: &mut Vec<Rejection>, d: &Deduction, rule: &'static str, message: String| {
        reject(rej, None, (d.hospital_code.as_str(), d.list_id.as_str()), "deduction", rule, message)
    };
    for d in input.deductions {
        let i = match deduction_case(input, &pos, d) {
            Ok(i) => i,
            Err((rule, message)) => {
                refuse(rejections, d, rule, message);
                continue;
            }
        };
        if input.pricer.policy.qc_gate.holds(input.cases[i].qc_errors, input.cases[i].qc_accepted) {
            if in_period(i) {
                refuse(rejections, d, "deduction_case_held", format!("清单 {}（医院 {}）待补正、暂缓结算，扣减待其结算时执行", d.list_id, d.hospital_code));
            }
            continue;
        }
        match d.action {
            Action::NotPaid => {
                fx.not_paid.insert(i);
                fx.audit_note.insert(i, format!("审核不予支付（{}）", d.rule));
            }
            Action::MergeInto => match pos.get(&(d.hospital_code.as_str(), d.target.as_str())) {
                Some(&t) => {
                    fx.not_paid.insert(i);
                    fx.audit_note.insert(i, format!("分解住院，并入 {}（{}）", d.target, d.rule));
                    let src = fx.adjusted.get(&i).cloned().unwrap_or_else(|| input.cases[i].clone());
                    let tgt = fx.adjusted.entry(t).or_insert_with(|| input.cases[t].clone());
                    // both within the amount domain (≤ 10^11 fen each): the sums cannot overflow
                    tgt.total_cost += src.total_cost;
                    tgt.selfpay += src.selfpay;
                    tgt.others_paid += src.others_paid;
                    tgt.los_days = tgt.los_days.saturating_add(src.los_days);
                    tgt.excluded_items.extend(src.excluded_items.iter().cloned());
                    fx.audit_note.entry(t).or_insert_with(|| format!("合并 {} 作为一次住院支付", d.list_id));
                }
                None => refuse(
                    rejections,
                    d,
                    "deduction_target_missing",
                    format!("扣减记录要求将清单 {} 并入 {}，但医院 {} 本年度没有清单 {}，未执行", d.list_id, d.target, d.hospital_code, d.target),
                ),
            },
            Action::Regroup => {
                let c = fx.adjusted.entry(i).or_insert_with(|| input.cases[i].clone());
                c.group = Some(d.target.clone());
                c.grouped_ok = true;
                fx.audit_note.insert(i, format!("审核改按 {} 支付（{}）", d.target, d.rule));
            }
            Action::Amount => {
                if !in_period(i) || (period == Period::Year && !p.clearing.apply_deductions) {
                    continue;
                }
                if d.amount.0 < 0 || d.amount > input.cases[i].total_cost {
                    refuse(rejections, d, "deduction_amount", format!("扣减金额 {} 元应在 0 到清单 {} 的金额合计 {} 元之间，未执行", d.amount, d.list_id, input.cases[i].total_cost));
                    continue;
                }
                *fx.amount_deductions.entry(d.hospital_code.clone()).or_default() += d.amount;
            }
        }
    }
    fx
}

/// How a tier's points pool was distributed, and why any of it was not: `by_value` — the pool
/// minus the exact value of the points at a fixed (budget) or band-bounded point value (capped;
/// negative = paid above the pool); `rounding` — that exact value minus the fen actually paid
/// after rounding each hospital or case; `not_distributable` — a pool with no points to take it
/// (e.g. every case held) or a pool at or below zero (at-cost payments used the budget up).
#[derive(Debug, Clone, Default)]
struct PoolOut {
    distributed: Fen,
    pv: Decimal,
    by_value: Fen,
    rounding: Fen,
    not_distributable: Fen,
}

/// Cases of `members` grouped by hospital, in hospital-code order.
fn by_hospital<'c>(members: &[usize], cases: &'c [CaseInput]) -> BTreeMap<&'c str, Vec<usize>> {
    let mut by_h: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for &k in members {
        by_h.entry(cases[k].hospital_code.as_str()).or_default().push(k);
    }
    by_h
}

/// Splits a fixed or bounded point value's money: each hospital its points × value (half-up),
/// then over its cases by largest remainder (`per_case` = each case rounded on its own instead).
/// The cases of one tier's pool: their indices into the period's cases and prices.
struct Members<'a> {
    members: &'a [usize],
    cases: &'a [CaseInput],
    prices: &'a [CasePrice],
}

fn at_value(pv: Decimal, pool: Fen, units: i128, m: &Members, pay: &mut [Fen], per_case: bool) -> PoolOut {
    let (members, cases, prices) = (m.members, m.cases, m.prices);
    let mut s = Fen::ZERO;
    if per_case {
        for &k in members {
            pay[k] = prices[k].points_value(pv);
            s += pay[k];
        }
    } else {
        for ks in by_hospital(members, cases).values() {
            let hu: i128 = ks.iter().map(|&k| prices[k].points_units as i128).sum();
            let amount = Decimal::from_i128_with_scale(hu, 4).checked_mul(pv).map(fen_of_yuan).unwrap_or(Fen::ZERO);
            let w: Vec<i64> = ks.iter().map(|&k| prices[k].points_units).collect();
            for (&k, share) in ks.iter().zip(apportion(amount.0, &w)) {
                pay[k] = Fen(share);
            }
            s += amount;
        }
    }
    let exact = Decimal::from_i128_with_scale(units, 4).checked_mul(pv).map(fen_of_yuan).unwrap_or(s);
    PoolOut { distributed: s, pv: pv.round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero), by_value: pool - exact, rounding: exact - s, not_distributable: Fen::ZERO }
}

/// Rule 2: a tier's points pool over its cases.
fn distribute(p: &Policy, period: Period, pool: Fen, units: i128, m: &Members, pay: &mut [Fen]) -> PoolOut {
    if let (Period::Month(_), Some(bpv)) = (period, p.budget.budget_point_value) {
        return at_value(bpv.0, pool, units, m, pay, true);
    }
    let (members, cases, prices) = (m.members, m.cases, m.prices);
    if pool.0 <= 0 || units <= 0 {
        return PoolOut { not_distributable: pool, ..Default::default() };
    }
    // 优化法: the settlement point value kept within the band around the budget value
    if let (Period::Year, Some(bpv), Some(band)) = (period, p.budget.budget_point_value, p.budget.point_value_band) {
        let raw = yuan_of_fen(pool) / Decimal::from_i128_with_scale(units, 4);
        let (lo, hi) = (bpv.0 * (Decimal::ONE - band.0), bpv.0 * (Decimal::ONE + band.0));
        if raw < lo || raw > hi {
            return at_value(if raw < lo { lo } else { hi }, pool, units, m, pay, false);
        }
    }
    // two levels: the pool over hospitals by their points, then each hospital's amount over its
    // cases (both largest remainder) — a hospital's money depends only on its own points total,
    // so raising its points never lowers it
    let by_h = by_hospital(members, cases);
    let hw: Vec<i128> = by_h.values().map(|ks| ks.iter().map(|&k| prices[k].points_units as i128).sum()).collect();
    let hs = apportion(pool.0, &hw);
    for (hi, ks) in by_h.values().enumerate() {
        let w: Vec<i64> = ks.iter().map(|&k| prices[k].points_units).collect();
        let shares = apportion(hs[hi], &w);
        for (j, &k) in ks.iter().enumerate() {
            pay[k] = Fen(shares[j]);
        }
    }
    PoolOut { distributed: pool, pv: pv_display(pool, units), ..Default::default() }
}

/// Runs a monthly settlement or the year-end clearing.
pub fn settle(input: &SettleInput, period: Period) -> Settlement {
    let p = input.pricer.policy;
    let year = p.policy.year;
    let mut rejections = Vec::new();
    let hosp: FxHashMap<&str, &Hospital> = input.hospitals.iter().map(|h| (h.code.as_str(), h)).collect();
    let tier_budgets = !p.tiers.is_empty() && p.tiers.iter().all(|t| t.budget_share.is_some());
    let tier_ids: Vec<u8> = p.tiers.iter().map(|t| t.id).collect();

    // 1. the cases of the policy year (the special-case cap and readmissions are counted on the
    //    year, spec-notes §1.5), then those of the period
    let year_sel = select_year(input, period, &hosp, tier_budgets, &tier_ids, &mut rejections);
    let in_period = |i: usize| period == Period::Year || period == Period::Month(input.cases[i].month);

    // 2. audit actions on points (not_paid, merge_into, regroup) and amount deductions, matched
    //    by (hospital_code, list_id) over the year's cases
    let audit = apply_deductions(input, period, &year_sel, &in_period, &mut rejections);
    let AuditEffects { adjusted, not_paid, mut audit_note, amount_deductions } = audit;

    // 3. price the year (cap on the year), keep the period
    let year_cases: Vec<CaseInput> = year_sel.iter().map(|&i| adjusted.get(&i).cloned().unwrap_or_else(|| input.cases[i].clone())).collect();
    let approved = |k: usize| {
        let c = &year_cases[k];
        let key = CaseKey { hospital_code: c.hospital_code.clone(), list_id: c.list_id.clone() };
        input.approved.contains(&key)
            || p.special_cases.approved.iter().any(|a| casemix_policy::special_key(a) == Some((c.hospital_code.as_str(), c.list_id.as_str())))
    };
    let year_prices = input.pricer.price_all(&year_cases, approved, |k| not_paid.contains(&year_sel[k]));
    let mut sel: Vec<usize> = Vec::new();
    let mut period_cases: Vec<CaseInput> = Vec::new();
    let mut prices: Vec<CasePrice> = Vec::new();
    for ((&i, c), pr) in year_sel.iter().zip(year_cases).zip(year_prices) {
        if in_period(i) {
            sel.push(i);
            period_cases.push(c);
            prices.push(pr);
        }
    }

    // 4. budgets
    let annual = annual_budget(p);
    let annual_adj = fen_of_yuan(yuan_of_fen(annual) * p.budget.adjustment_fund_share.0);
    let (budget, adjustment_fund) = match period {
        Period::Year => (annual, annual_adj),
        Period::Month(m) => {
            let w: Vec<Decimal> =
                if p.budget.month_weights.len() == 12 { p.budget.month_weights.iter().map(|d| d.0).collect() } else { vec![Decimal::ONE; 12] };
            let units = dec_units(&w);
            let b = apportion(annual.0, &units)[(m as usize).clamp(1, 12) - 1];
            let a = apportion(annual_adj.0, &units)[(m as usize).clamp(1, 12) - 1];
            (Fen(b), Fen(a))
        }
    };
    let distributable = budget - adjustment_fund;
    let tiers: Vec<(u8, String, Decimal)> = if tier_budgets {
        p.tiers.iter().map(|t| (t.id, t.name.clone(), t.budget_share.map(|b| b.0).unwrap_or(Decimal::ZERO))).collect()
    } else {
        vec![(0, "全区".to_string(), Decimal::ONE)]
    };
    let tier_budget = apportion(distributable.0, &dec_units(&tiers.iter().map(|t| t.2).collect::<Vec<_>>()));
    let tier_of = |k: usize| -> usize {
        if !tier_budgets {
            return 0;
        }
        let t = hosp.get(period_cases[k].hospital_code.as_str()).map(|h| h.tier).unwrap_or(0);
        tiers.iter().position(|x| x.0 == t).unwrap_or(0)
    };
    let case_tier: Vec<usize> = (0..period_cases.len()).map(tier_of).collect();

    // 5. pools and case money
    let mut points_payment = vec![Fen::ZERO; period_cases.len()];
    let mut tier_sum = Vec::new();
    let mut pool_parts = PoolOut::default();
    for (ti, t) in tiers.iter().enumerate() {
        let members: Vec<usize> = (0..period_cases.len()).filter(|&k| case_tier[k] == ti).collect();
        let at_cost = Fen(members.iter().map(|&k| prices[k].ffs_amount.0 as i128 + prices[k].exclusions_amount.0 as i128).sum::<i128>().clamp(i64::MIN as i128, i64::MAX as i128) as i64);
        let pool = Fen(tier_budget[ti]) - at_cost;
        let units: i128 = members.iter().map(|&k| prices[k].points_units as i128).sum();
        let out = distribute(p, period, pool, units, &Members { members: &members, cases: &period_cases, prices: &prices }, &mut points_payment);
        pool_parts.by_value += out.by_value;
        pool_parts.rounding += out.rounding;
        pool_parts.not_distributable += out.not_distributable;
        tier_sum.push(TierSummary {
            tier: t.0,
            name: t.1.clone(),
            budget: Fen(tier_budget[ti]),
            paid_at_cost: at_cost,
            points_pool: pool,
            total_points: Decimal::from_i128_with_scale(units, 4),
            point_value: out.pv,
            distributed_by_points: out.distributed,
        });
    }
    let pool_undistributed = pool_parts.by_value + pool_parts.rounding + pool_parts.not_distributable;

    // 6. per hospital
    let mut st: BTreeMap<String, HospitalStatement> = BTreeMap::new();
    let mut units_by_h: BTreeMap<String, i128> = BTreeMap::new();
    for (k, c) in period_cases.iter().enumerate() {
        let pr = &prices[k];
        let s = st.entry(c.hospital_code.clone()).or_insert_with(|| {
            let h = hosp.get(c.hospital_code.as_str());
            HospitalStatement {
                hospital_code: c.hospital_code.clone(),
                hospital_name: h.map(|h| h.name.clone()).unwrap_or_default(),
                level: h.map(|h| h.level.clone()).unwrap_or_default(),
                tier: h.map(|h| h.tier).unwrap_or(0),
                point_value: tier_sum[case_tier[k]].point_value,
                ..Default::default()
            }
        });
        if pr.method == Method::Held {
            // 待补正: shown, never paid, never in points or the point value
            s.held_cases += 1;
            // a held list's amount is outside every domain check: saturate, never overflow
            s.held_cost = Fen(s.held_cost.0.saturating_add(c.total_cost.0));
            continue;
        }
        s.cases += 1;
        *units_by_h.entry(c.hospital_code.clone()).or_default() += pr.points_units as i128;
        s.points_value += points_payment[k];
        s.ffs_payment += pr.ffs_amount;
        s.exclusions_payment += pr.exclusions_amount;
        s.others_paid += c.others_paid;
        if pr.method.by_points() {
            s.actual_cost += pr.case_cost;
        }
        *s.methods.entry(pr.method.code()).or_default() += 1;
        *s.outliers.entry(pr.outlier.code()).or_default() += 1;
    }
    for (code, d) in &amount_deductions {
        st.entry(code.clone())
            .or_insert_with(|| HospitalStatement {
                hospital_code: code.clone(),
                hospital_name: hosp.get(code.as_str()).map(|h| h.name.clone()).unwrap_or_default(),
                ..Default::default()
            })
            .deductions = *d;
    }
    for s in st.values_mut().filter(|s| s.held_cases > 0) {
        s.notes.push(format!(
            "待补正（前置质控有错误、暂缓结算）{} 例，金额合计 {} 元：不计点数、不参与点值计算、不支付，更正或经办机构认可后再结算",
            s.held_cases, s.held_cost
        ));
    }

    // clearing inputs: tier averages of each indicator
    let cl = &p.clearing;
    let tier_of_code = |code: &str| hosp.get(code).map(|h| h.tier).unwrap_or(0);
    let mut averages: BTreeMap<(u8, String), Decimal> = BTreeMap::new();
    if cl.enabled {
        for ind in &cl.indicators {
            let mut acc: BTreeMap<u8, (Decimal, i64)> = BTreeMap::new();
            for (code, row) in input.indicators {
                if let Some(v) = row.values.get(&ind.key) {
                    let e = acc.entry(tier_of_code(code)).or_default();
                    e.0 += *v;
                    e.1 += 1;
                }
            }
            for (t, (s, n)) in acc {
                averages.insert((t, ind.key.clone()), s / Decimal::from(n));
            }
        }
    }

    let (mut advance_retained, mut clearing_retained, mut deductions_total, mut deposit_retained) = (Fen::ZERO, Fen::ZERO, Fen::ZERO, Fen::ZERO);
    for s in st.values_mut() {
        s.total_points = Decimal::from_i128_with_scale(*units_by_h.get(&s.hospital_code).unwrap_or(&0), 4);
        match period {
            Period::Month(_) => {
                s.group_payment = mul_fen(s.points_value, p.budget.monthly_advance_share.0);
                advance_retained += s.points_value - s.group_payment;
                if p.budget.monthly_advance_share.0 < Decimal::ONE {
                    s.notes.push(format!(
                        "月度按 {}% 预拨病组费用：{} × {} = {} 元",
                        (p.budget.monthly_advance_share.0 * Decimal::ONE_HUNDRED).normalize(),
                        s.points_value,
                        p.budget.monthly_advance_share.0.normalize(),
                        s.group_payment
                    ));
                }
                let gross = s.group_payment + s.ffs_payment + s.exclusions_payment;
                s.deposit_withheld = mul_fen(gross, p.budget.quality_deposit_share.0);
                deposit_retained += s.deposit_withheld;
            }
            Period::Year => {
                s.group_payment = s.points_value;
                let d = s.group_payment;
                let mut target = d;
                if cl.enabled {
                    // clearing coefficient
                    let tier = s.tier;
                    let f = p.tiers.iter().find(|t| t.id == tier).map(|t| t.floating_rate.0).unwrap_or(Decimal::ZERO);
                    s.floating_rate = f;
                    let mut k = Decimal::ONE;
                    if !cl.indicators.is_empty() {
                        match input.indicators.get(&s.hospital_code) {
                            None => s.notes.push("无清算指标数据，清算系数按 1".into()),
                            Some(row) => {
                                let mut ratios = Vec::new();
                                for ind in &cl.indicators {
                                    let (Some(v), Some(avg)) = (row.values.get(&ind.key), averages.get(&(tier, ind.key.clone()))) else {
                                        s.notes.push(format!("缺少指标 {}，按 1 计", ind.key));
                                        ratios.push(Decimal::ONE);
                                        continue;
                                    };
                                    let r = if v.is_zero() || avg.is_zero() {
                                        Decimal::ONE
                                    } else if ind.lower_is_better {
                                        *avg / *v
                                    } else {
                                        *v / *avg
                                    };
                                    let r = r.round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero);
                                    let name = if ind.name.is_empty() { &ind.key } else { &ind.name };
                                    s.notes.push(if ind.lower_is_better {
                                        format!("{name}：档内平均 {} ÷ 本院 {} → {}", avg.round_dp(6).normalize(), v.normalize(), r.normalize())
                                    } else {
                                        format!("{name}：本院 {} ÷ 档内平均 {} → {}", v.normalize(), avg.round_dp(6).normalize(), r.normalize())
                                    });
                                    ratios.push(r);
                                }
                                k = match cl.combine {
                                    Combine::Product => ratios.iter().fold(Decimal::ONE, |a, r| a * r),
                                    Combine::Mean => ratios.iter().sum::<Decimal>() / Decimal::from(ratios.len() as i64),
                                };
                                k = k.round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero).clamp(cl.min.0, cl.max.0);
                            }
                        }
                    }
                    s.clearing_coefficient = Some(k);
                    target = mul_fen(d, (Decimal::ONE + f) * k);
                    s.notes.push(format!(
                        "清算：病组费用 {d} × (1 + 浮动费率 {}) × 清算系数 {} = {target} 元",
                        f.normalize(),
                        k.normalize()
                    ));
                    let sr = &cl.surplus_retention;
                    if sr.enabled && target.0 > 0 {
                        let a = s.actual_cost;
                        let ratio = Decimal::from(a.0) / Decimal::from(target.0);
                        s.retention_ratio = Some(ratio.round_dp(6));
                        let paid = if ratio < sr.low.0 {
                            s.notes.push(format!(
                                "结余留用修正：实际费用 {a} ÷ 病组总额 {target} = {} < {}，按实际费用支付 {a} 元",
                                ratio.round_dp(4).normalize(),
                                sr.low.0.normalize()
                            ));
                            a
                        } else if ratio < sr.high.0 {
                            let x = mul_fen(a, sr.mid_factor.0);
                            s.notes.push(format!(
                                "结余留用修正：实际费用 {a} ÷ 病组总额 {target} = {}，在 [{}, {}) 之间，按实际费用 × {} = {x} 元支付",
                                ratio.round_dp(4).normalize(),
                                sr.low.0.normalize(),
                                sr.high.0.normalize(),
                                sr.mid_factor.0.normalize()
                            ));
                            x
                        } else {
                            s.notes.push(format!(
                                "结余留用修正：实际费用 {a} ÷ 病组总额 {target} = {} ≥ {}，按病组总额支付",
                                ratio.round_dp(4).normalize(),
                                sr.high.0.normalize()
                            ));
                            target
                        };
                        target = paid;
                    }
                }
                s.clearing_adjustment = target - d;
                clearing_retained -= s.clearing_adjustment;
                // deposit: withheld on the year's gross before clearing, returned by score
                let gross = s.group_payment + s.ffs_payment + s.exclusions_payment;
                s.deposit_withheld = mul_fen(gross, p.budget.quality_deposit_share.0);
                let dr = &cl.deposit_return;
                let score = input.indicators.get(&s.hospital_code).and_then(|r| r.assessment_score).unwrap_or(dr.default_score.0);
                s.assessment_score = Some(score);
                let rate = if score < dr.min_score.0 { Decimal::ZERO } else { (score / dr.full_score.0).min(Decimal::ONE) };
                s.deposit_returned = mul_fen(s.deposit_withheld, rate);
                if s.deposit_withheld.0 != 0 {
                    s.notes.push(format!(
                        "质量保证金：预留 {}，考核得分 {} → 返还 {}",
                        s.deposit_withheld,
                        score.normalize(),
                        s.deposit_returned
                    ));
                }
                deposit_retained += s.deposit_withheld - s.deposit_returned;
            }
        }
        deductions_total += s.deductions;
        s.net_payment = s.group_payment + s.ffs_payment + s.exclusions_payment + s.clearing_adjustment - s.deductions - s.deposit_withheld
            + s.deposit_returned;
        s.fund_payment = s.net_payment - s.others_paid;
    }

    let statements: Vec<HospitalStatement> = st.into_values().collect();
    let net: Fen = statements.iter().map(|s| s.net_payment).sum();
    let summary = RegionSummary {
        region: p.policy.region.clone(),
        year,
        period: match period {
            Period::Year => format!("{year}"),
            Period::Month(m) => format!("{year}-{m:02}"),
        },
        budget,
        adjustment_fund,
        distributable,
        tiers: tier_sum,
        cases: statements.iter().map(|s| s.cases).sum(),
        held_cases: statements.iter().map(|s| s.held_cases).sum(),
        held_cost: Fen(statements.iter().fold(0i64, |a, s| a.saturating_add(s.held_cost.0))),
        rejected: rejections.len() as u64,
        net_payments: net,
        remainder: pool_undistributed + advance_retained + clearing_retained + deductions_total + deposit_retained,
        remainder_pool_undistributed: pool_undistributed,
        remainder_pool_by_value: pool_parts.by_value,
        remainder_pool_rounding: pool_parts.rounding,
        remainder_pool_not_distributable: pool_parts.not_distributable,
        remainder_advance_retained: advance_retained,
        remainder_clearing_retained: clearing_retained,
        remainder_deductions: deductions_total,
        remainder_deposit_retained: deposit_retained,
        special_cases: prices.iter().filter(|p| p.method == Method::SpecialCase).count() as u64,
    };
    let cases = prices
        .into_iter()
        .enumerate()
        .map(|(k, price)| CaseLine {
            index: sel[k],
            hospital_code: period_cases[k].hospital_code.clone(),
            price,
            points_payment: points_payment[k],
            audit: audit_note.remove(&sel[k]),
        })
        .collect();
    let _ = POINTS_UNIT;
    Settlement { period, statements, summary, cases, rejections }
}

/// The outcome of [`Settlement::check_balance`]: the independent sums and every identity that
/// failed (Chinese).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceCheck {
    /// Σ of the case lines' payments (points share + at cost).
    pub case_payments: i128,
    /// Σ over the statements of points value + fee-for-service + exclusions.
    pub statement_payments: i128,
    /// Σ of the statements' net payments, as stated on each statement.
    pub statement_net: i128,
    pub problems: Vec<String>,
}

impl BalanceCheck {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

fn w(f: Fen) -> i128 {
    f.0 as i128
}

impl Settlement {
    /// Checks the money three ways, each sum taken from its own source: the case lines, the
    /// hospital statements' own fields, and the budget with its tiers and stated remainder.
    /// (1) per hospital, Σ its case lines = its statement's points value / fee-for-service /
    /// exclusions, held lines pay nothing and match the held count and cost; (2) each statement's
    /// net = its parts; (3) Σ case lines = Σ tiers' at-cost + distributed; (4) budget = adjustment
    /// fund + Σ tier budgets, and Σ (tier budget − at cost − distributed) = pool remainder; (5)
    /// the retained parts = what the statements withheld; (6) budget = Σ net + fund + remainder.
    pub fn check_balance(&self) -> BalanceCheck {
        let mut problems = Vec::new();
        let mut by_h: BTreeMap<&str, [i128; 5]> = BTreeMap::new();
        for c in &self.cases {
            let e = by_h.entry(c.hospital_code.as_str()).or_default();
            if c.price.method == Method::Held {
                if c.payment() != Fen::ZERO || c.price.points_units != 0 {
                    problems.push(format!("待补正病例（医院 {}）不应有点数或支付，却支付 {} 元", c.hospital_code, c.payment()));
                }
                e[3] += 1;
                e[4] = (e[4] + w(c.price.case_cost)).clamp(i64::MIN as i128, i64::MAX as i128);
                continue;
            }
            e[0] += w(c.points_payment);
            e[1] += w(c.price.ffs_amount);
            e[2] += w(c.price.exclusions_amount);
        }
        let case_payments: i128 = by_h.values().map(|e| e[0] + e[1] + e[2]).sum();
        let (mut statement_payments, mut statement_net) = (0i128, 0i128);
        let (mut adv, mut clr, mut ded, mut dep) = (0i128, 0i128, 0i128, 0i128);
        for s in &self.statements {
            let e = by_h.remove(s.hospital_code.as_str()).unwrap_or_default();
            let stated = [w(s.points_value), w(s.ffs_payment), w(s.exclusions_payment), s.held_cases as i128, w(s.held_cost)];
            if e != stated {
                problems.push(format!("医院 {} 结算单（点数价值/按项目/除外/待补正例数/待补正金额 = {stated:?}）与其病例明细合计 {e:?} 不符", s.hospital_code));
            }
            let net = w(s.group_payment) + w(s.ffs_payment) + w(s.exclusions_payment) + w(s.clearing_adjustment) - w(s.deductions) - w(s.deposit_withheld) + w(s.deposit_returned);
            if net != w(s.net_payment) {
                problems.push(format!("医院 {} 结算单应拨付 {} 元，但各项合计为 {} 元", s.hospital_code, s.net_payment, net));
            }
            statement_payments += stated[0] + stated[1] + stated[2];
            statement_net += w(s.net_payment);
            adv += w(s.points_value) - w(s.group_payment);
            clr -= w(s.clearing_adjustment);
            ded += w(s.deductions);
            dep += w(s.deposit_withheld) - w(s.deposit_returned);
        }
        for (h, e) in by_h {
            problems.push(format!("医院 {h} 有病例明细 {e:?}，却没有结算单"));
        }
        let m = &self.summary;
        let tiers_paid: i128 = m.tiers.iter().map(|t| w(t.paid_at_cost) + w(t.distributed_by_points)).sum();
        if case_payments != tiers_paid {
            problems.push(format!("病例明细支付合计 {case_payments} 分 ≠ 各档按项目先行支付与按点数分配合计 {tiers_paid} 分"));
        }
        let tier_budgets: i128 = m.tiers.iter().map(|t| w(t.budget)).sum();
        if w(m.budget) != w(m.adjustment_fund) + tier_budgets {
            problems.push(format!("预算 {} 元 ≠ 调剂金 {} 元 + 各档预算合计 {tier_budgets} 分", m.budget, m.adjustment_fund));
        }
        let pool_left: i128 = m.tiers.iter().map(|t| w(t.budget) - w(t.paid_at_cost) - w(t.distributed_by_points)).sum();
        if pool_left != w(m.remainder_pool_undistributed) {
            problems.push(format!("各档预算未分配合计 {pool_left} 分 ≠ 余额中的点数分配额未分配 {} 元", m.remainder_pool_undistributed));
        }
        for (name, stated, from_statements) in [
            ("月度未预拨部分", m.remainder_advance_retained, adv),
            ("清算调整留存", m.remainder_clearing_retained, clr),
            ("审核扣减", m.remainder_deductions, ded),
            ("未返还质量保证金", m.remainder_deposit_retained, dep),
        ] {
            if w(stated) != from_statements {
                problems.push(format!("余额中的{name} {stated} 元 ≠ 各结算单合计 {from_statements} 分"));
            }
        }
        if statement_net != w(m.net_payments) {
            problems.push(format!("各结算单应拨付合计 {statement_net} 分 ≠ 汇总的拨付合计 {} 元", m.net_payments));
        }
        if !m.balances() {
            problems.push(format!("预算 {} 元 ≠ 拨付合计 {} 元 + 调剂金 {} 元 + 余额 {} 元（余额按其构成相加）", m.budget, m.net_payments, m.adjustment_fund, m.remainder));
        }
        BalanceCheck { case_payments, statement_payments, statement_net, problems }
    }
}

/// Sets each hospital's advances (Σ net payments of the monthly settlements) and the balance due
/// at year end (net payment − advances), with a note.
pub fn apply_advances(year: &mut Settlement, months: &[Settlement]) {
    let mut paid: BTreeMap<&str, Fen> = BTreeMap::new();
    for m in months {
        for s in &m.statements {
            *paid.entry(s.hospital_code.as_str()).or_default() += s.net_payment;
        }
    }
    for s in &mut year.statements {
        let a = paid.get(s.hospital_code.as_str()).copied().unwrap_or(Fen::ZERO);
        s.advances_paid = Some(a);
        s.balance_due = Some(s.net_payment - a);
        s.notes.push(format!("年度应拨付 {} − 已按月预拨 {a} = 清算应补拨 {}", s.net_payment, s.net_payment - a));
    }
}

/// Per-hospital difference between two settlements (policy simulation).
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    pub hospital_code: String,
    pub hospital_name: String,
    pub base_net: Fen,
    pub changed_net: Fen,
    pub diff: Fen,
    pub base_points: Decimal,
    pub changed_points: Decimal,
}

pub fn compare(base: &Settlement, changed: &Settlement) -> Vec<Difference> {
    let mut m: BTreeMap<String, Difference> = BTreeMap::new();
    for s in &base.statements {
        m.insert(
            s.hospital_code.clone(),
            Difference {
                hospital_code: s.hospital_code.clone(),
                hospital_name: s.hospital_name.clone(),
                base_net: s.net_payment,
                changed_net: Fen::ZERO,
                diff: Fen::ZERO,
                base_points: s.total_points,
                changed_points: Decimal::ZERO,
            },
        );
    }
    for s in &changed.statements {
        let e = m.entry(s.hospital_code.clone()).or_insert_with(|| Difference {
            hospital_code: s.hospital_code.clone(),
            hospital_name: s.hospital_name.clone(),
            base_net: Fen::ZERO,
            changed_net: Fen::ZERO,
            diff: Fen::ZERO,
            base_points: Decimal::ZERO,
            changed_points: Decimal::ZERO,
        });
        e.changed_net = s.net_payment;
        e.changed_points = s.total_points;
    }
    m.into_values()
        .map(|mut d| {
            d.diff = d.changed_net - d.base_net;
            d
        })
        .collect()
}
