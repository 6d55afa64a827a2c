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
    pub cases: u64,
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
    pub rejected: u64,
    pub net_payments: Fen,
    pub remainder: Fen,
    pub remainder_pool_undistributed: Fen,
    pub remainder_advance_retained: Fen,
    pub remainder_clearing_retained: Fen,
    pub remainder_deductions: Fen,
    pub remainder_deposit_retained: Fen,
    pub special_cases: u64,
}

impl RegionSummary {
    /// Budget = Σ net + adjustment fund + remainder, and remainder = Σ its parts.
    pub fn balances(&self) -> bool {
        let parts = self.remainder_pool_undistributed
            + self.remainder_advance_retained
            + self.remainder_clearing_retained
            + self.remainder_deductions
            + self.remainder_deposit_retained;
        self.net_payments + self.adjustment_fund + self.remainder == self.budget && parts == self.remainder
    }
}

/// A case that took part in no settlement, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub list_id: String,
    pub hospital_code: String,
    pub rule: &'static str,
    pub message: String,
}

/// A case and its money.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseLine {
    /// Index into the input cases.
    pub index: usize,
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
    /// Approved special cases (list ids) beyond those in the policy.
    pub approved: &'a FxHashSet<String>,
    pub deductions: &'a [Deduction],
    pub indicators: &'a BTreeMap<String, IndicatorRow>,
}

/// The annual total-cost budget in fen (rule 1).
pub fn annual_budget(p: &Policy) -> Fen {
    let b = &p.budget;
    match (b.total_cost, b.fund, b.fund_share_of_cost) {
        (Some(t), _, _) => fen_of_yuan(t.0),
        (None, Some(f), Some(s)) => fen_of_yuan(f.0 / s.0),
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

/// Runs a monthly settlement or the year-end clearing.
pub fn settle(input: &SettleInput, period: Period) -> Settlement {
    let p = input.pricer.policy;
    let year = p.policy.year;
    let mut rejections = Vec::new();
    let hosp: FxHashMap<&str, &Hospital> = input.hospitals.iter().map(|h| (h.code.as_str(), h)).collect();
    let tier_budgets = !p.tiers.is_empty() && p.tiers.iter().all(|t| t.budget_share.is_some());
    let tier_ids: Vec<u8> = p.tiers.iter().map(|t| t.id).collect();

    // 1. the cases of the period
    let mut sel: Vec<usize> = Vec::new();
    for (i, c) in input.cases.iter().enumerate() {
        let in_period = c.year == year && (period == Period::Year || period == Period::Month(c.month));
        if !in_period {
            if c.year != year {
                rejections.push(Rejection {
                    list_id: c.list_id.clone(),
                    hospital_code: c.hospital_code.clone(),
                    rule: "out_of_year",
                    message: format!("出院年度 {} 不是结算年度 {year}", c.year),
                });
            }
            continue;
        }
        let h = hosp.get(c.hospital_code.as_str());
        if !input.hospitals.is_empty() && h.is_none() {
            rejections.push(Rejection {
                list_id: c.list_id.clone(),
                hospital_code: c.hospital_code.clone(),
                rule: "hospital_unknown",
                message: format!("医院 {} 不在医院名录中，无法结算", c.hospital_code),
            });
            continue;
        }
        if tier_budgets && !h.is_some_and(|h| tier_ids.contains(&h.tier)) {
            rejections.push(Rejection {
                list_id: c.list_id.clone(),
                hospital_code: c.hospital_code.clone(),
                rule: "tier_unknown",
                message: format!("医院 {} 的档次不在政策 tiers 中，无法分档结算", c.hospital_code),
            });
            continue;
        }
        sel.push(i);
    }

    // 2. audit actions on points (not_paid, merge_into, regroup) and amount deductions
    let pos: FxHashMap<&str, usize> = sel.iter().map(|&i| (input.cases[i].list_id.as_str(), i)).collect();
    let mut adjusted: FxHashMap<usize, CaseInput> = FxHashMap::default();
    let mut not_paid: FxHashSet<usize> = FxHashSet::default();
    let mut audit_note: FxHashMap<usize, String> = FxHashMap::default();
    let mut amount_deductions: BTreeMap<String, Fen> = BTreeMap::new();
    for d in input.deductions {
        let Some(&i) = pos.get(d.list_id.as_str()) else {
            if d.action == Action::Amount && period == Period::Year && !input.cases.iter().any(|c| c.list_id == d.list_id) {
                // an amount against a stay we do not have: still a confirmed deduction of the hospital
                if p.clearing.apply_deductions && !d.hospital_code.is_empty() {
                    *amount_deductions.entry(d.hospital_code.clone()).or_default() += d.amount;
                }
            }
            continue;
        };
        match d.action {
            Action::NotPaid => {
                not_paid.insert(i);
                audit_note.insert(i, format!("审核不予支付（{}）", d.rule));
            }
            Action::MergeInto => match pos.get(d.target.as_str()) {
                Some(&t) => {
                    not_paid.insert(i);
                    audit_note.insert(i, format!("分解住院，并入 {}（{}）", d.target, d.rule));
                    let src = adjusted.get(&i).cloned().unwrap_or_else(|| input.cases[i].clone());
                    let tgt = adjusted.entry(t).or_insert_with(|| input.cases[t].clone());
                    tgt.total_cost += src.total_cost;
                    tgt.selfpay += src.selfpay;
                    tgt.others_paid += src.others_paid;
                    tgt.los_days += src.los_days;
                    tgt.excluded_items.extend(src.excluded_items.iter().cloned());
                    audit_note.entry(t).or_insert_with(|| format!("合并 {} 作为一次住院支付", d.list_id));
                }
                None => rejections.push(Rejection {
                    list_id: d.list_id.clone(),
                    hospital_code: d.hospital_code.clone(),
                    rule: "deduction_target_missing",
                    message: format!("扣减记录要求并入 {}，但该住院不在本期病例中，未执行", d.target),
                }),
            },
            Action::Regroup => {
                let c = adjusted.entry(i).or_insert_with(|| input.cases[i].clone());
                c.group = Some(d.target.clone());
                c.grouped_ok = true;
                audit_note.insert(i, format!("审核改按 {} 支付（{}）", d.target, d.rule));
            }
            Action::Amount => {
                if period == Period::Year && !p.clearing.apply_deductions {
                    continue;
                }
                let hc = if d.hospital_code.is_empty() { input.cases[i].hospital_code.clone() } else { d.hospital_code.clone() };
                *amount_deductions.entry(hc).or_default() += d.amount;
            }
        }
    }

    // 3. price
    let period_cases: Vec<CaseInput> = sel.iter().map(|&i| adjusted.get(&i).cloned().unwrap_or_else(|| input.cases[i].clone())).collect();
    let policy_approved: FxHashSet<&str> = p.special_cases.approved.iter().map(String::as_str).collect();
    let prices = input.pricer.price_all(
        &period_cases,
        |k| {
            let id = period_cases[k].list_id.as_str();
            policy_approved.contains(id) || input.approved.contains(id)
        },
        |k| not_paid.contains(&sel[k]),
    );

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
        p.tiers.iter().map(|t| (t.id, t.name.clone(), t.budget_share.unwrap().0)).collect()
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
    let mut pool_undistributed = Fen::ZERO;
    for (ti, t) in tiers.iter().enumerate() {
        let members: Vec<usize> = (0..period_cases.len()).filter(|&k| case_tier[k] == ti).collect();
        let at_cost: Fen = members.iter().map(|&k| prices[k].ffs_amount + prices[k].exclusions_amount).sum();
        let pool = Fen(tier_budget[ti]) - at_cost;
        let units: i128 = members.iter().map(|&k| prices[k].points_units as i128).sum();
        let (distributed, pv) = match (period, p.budget.budget_point_value) {
            (Period::Month(_), Some(bpv)) => {
                let mut s = Fen::ZERO;
                for &k in &members {
                    points_payment[k] = prices[k].points_value(bpv.0);
                    s += points_payment[k];
                }
                (s, bpv.0)
            }
            _ => {
                // 优化法: the settlement point value kept within the band around the budget value
                let band = match (period, p.budget.budget_point_value, p.budget.point_value_band) {
                    (Period::Year, Some(bpv), Some(band)) if pool.0 > 0 && units > 0 => {
                        let raw = yuan_of_fen(pool) / Decimal::from_i128_with_scale(units, 4);
                        let (lo, hi) = (bpv.0 * (Decimal::ONE - band.0), bpv.0 * (Decimal::ONE + band.0));
                        if raw < lo {
                            Some(lo)
                        } else if raw > hi {
                            Some(hi)
                        } else {
                            None
                        }
                    }
                    _ => None,
                };
                if let Some(pv) = band {
                    // each hospital: its points × the bounded value, half-up; then over its cases
                    let mut by_h: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
                    for &k in &members {
                        by_h.entry(period_cases[k].hospital_code.as_str()).or_default().push(k);
                    }
                    let mut s = Fen::ZERO;
                    for ks in by_h.values() {
                        let hu: i128 = ks.iter().map(|&k| prices[k].points_units as i128).sum();
                        let amount = fen_of_yuan(Decimal::from_i128_with_scale(hu, 4) * pv);
                        let w: Vec<i64> = ks.iter().map(|&k| prices[k].points_units).collect();
                        let shares = apportion(amount.0, &w);
                        for (j, &k) in ks.iter().enumerate() {
                            points_payment[k] = Fen(shares[j]);
                        }
                        s += amount;
                    }
                    (s, pv.round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero))
                } else if pool.0 > 0 && units > 0 {
                    // two levels: the pool over hospitals by their points, then each hospital's
                    // amount over its cases (both largest remainder) — a hospital's money depends
                    // only on its own points total, so raising its points never lowers it
                    let mut by_h: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
                    for &k in &members {
                        by_h.entry(period_cases[k].hospital_code.as_str()).or_default().push(k);
                    }
                    let hw: Vec<i64> = by_h.values().map(|ks| ks.iter().map(|&k| prices[k].points_units).sum()).collect();
                    let hs = apportion(pool.0, &hw);
                    for (hi, ks) in by_h.values().enumerate() {
                        let w: Vec<i64> = ks.iter().map(|&k| prices[k].points_units).collect();
                        let shares = apportion(hs[hi], &w);
                        for (j, &k) in ks.iter().enumerate() {
                            points_payment[k] = Fen(shares[j]);
                        }
                    }
                    (pool, pv_display(pool, units))
                } else {
                    (Fen::ZERO, Decimal::ZERO)
                }
            }
        };
        pool_undistributed += pool - distributed;
        tier_sum.push(TierSummary {
            tier: t.0,
            name: t.1.clone(),
            budget: Fen(tier_budget[ti]),
            paid_at_cost: at_cost,
            points_pool: pool,
            total_points: Decimal::from_i128_with_scale(units, 4),
            point_value: pv,
            distributed_by_points: distributed,
        });
    }

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
        st.entry(code.clone()).or_insert_with(|| HospitalStatement {
            hospital_code: code.clone(),
            hospital_name: hosp.get(code.as_str()).map(|h| h.name.clone()).unwrap_or_default(),
            ..Default::default()
        });
        st.get_mut(code).unwrap().deductions = *d;
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
        cases: period_cases.len() as u64,
        rejected: rejections.len() as u64,
        net_payments: net,
        remainder: budget - adjustment_fund - net,
        remainder_pool_undistributed: pool_undistributed,
        remainder_advance_retained: advance_retained,
        remainder_clearing_retained: clearing_retained,
        remainder_deductions: deductions_total,
        remainder_deposit_retained: deposit_retained,
        special_cases: prices.iter().filter(|p| p.method == Method::SpecialCase).count() as u64,
    };
    debug_assert!(summary.balances(), "budget must balance: {summary:?}");
    let cases = prices
        .into_iter()
        .enumerate()
        .map(|(k, price)| CaseLine { index: sel[k], price, points_payment: points_payment[k], audit: audit_note.remove(&sel[k]) })
        .collect();
    let _ = POINTS_UNIT;
    Settlement { period, statements, summary, cases, rejections }
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
