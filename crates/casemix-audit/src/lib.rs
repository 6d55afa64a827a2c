//! # casemix-audit — 智能审核 (intelligent audit) and review into deductions
//!
//! [`audit`] runs the rules of `shared/docs/audit.md` over settlement lists, outpatient/pharmacy
//! claims and the grouping result of each list ([`CaseGroup`], computed by the caller with the
//! grouper): split admission, cost shifting, upcoding, under-provision, low-standard admission,
//! overlong stay, unplanned readmission, duplicate submission and low-risk-group deaths. Group
//! norms (percentiles of cost, LOS and core fees, mortality) are computed from the data itself
//! ([`stats`]). Each [`Flag`] carries a score, a Chinese evidence sentence, a JSON evidence
//! object (linked records, numbers, thresholds) and the payment action a confirmation implies.
//! [`review`] turns reviewers' decisions into deductions; dismissed flags never reduce a payment.
//!
//! Pure: no I/O. **This crate never reads labels**: rules see only what a bureau sees in real
//! settlement lists and claims; synthetic labels are used only by the measurement command.

pub mod config;
pub mod modules;
pub mod review;
pub mod stats;

pub use config::AuditConfig;
pub use modules::{ItemClass, Module, TreatmentModules};
pub use review::{review, Action, Decision, DecisionKind, Deduction, ReviewFlag, ReviewOutcome};
pub use stats::{GroupStats, Stats};

use casemix_model::{AdmitRoute, ChargeItem, Claim, FeeKind, Fen, LeavingType, ReadmitPlan, SettlementList};
use chrono::{Duration, NaiveDateTime};
use rustc_hash::FxHashMap;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

/// The grouping result of one list (same index as the lists).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseGroup {
    pub grouped: bool,
    pub adrg: String,
    pub drg: String,
    /// The DRG the same case reaches without its secondary diagnoses (principal diagnosis and
    /// procedures alone): the group the resources justify when a complication is not supported.
    pub drg_without_cc: Option<String>,
    /// The secondary diagnoses that lift the case into its complication group: each one alone,
    /// with the principal diagnosis and the procedures, reaches the case's own DRG (or, when
    /// none does, any group other than `drg_without_cc`). Computed by the caller with the
    /// grouper. Empty = unknown (all secondaries are checked).
    pub lifting_dx: Vec<String>,
    /// The DRG the case reaches without `lifting_dx` (the regroup target when they are
    /// unsupported; other, supported complications still count). `None` = use `drg_without_cc`.
    pub drg_without_lifting: Option<String>,
}

/// The audit rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum AuditRule {
    DuplicateList,
    SplitAdmission,
    CostShifting,
    Upcoding,
    UnderProvision,
    LowStandardAdmission,
    OverlongStay,
    UnplannedReadmission,
    LowRiskDeath,
}

impl AuditRule {
    pub const ALL: [AuditRule; 9] = [
        AuditRule::DuplicateList,
        AuditRule::SplitAdmission,
        AuditRule::CostShifting,
        AuditRule::Upcoding,
        AuditRule::UnderProvision,
        AuditRule::LowStandardAdmission,
        AuditRule::OverlongStay,
        AuditRule::UnplannedReadmission,
        AuditRule::LowRiskDeath,
    ];
    /// Stable key (also the label kind of synthetic regions where one exists).
    pub fn key(self) -> &'static str {
        match self {
            AuditRule::DuplicateList => "duplicate_list",
            AuditRule::SplitAdmission => "split_admission",
            AuditRule::CostShifting => "cost_shifting",
            AuditRule::Upcoding => "upcoding",
            AuditRule::UnderProvision => "under_provision",
            AuditRule::LowStandardAdmission => "low_standard_admission",
            AuditRule::OverlongStay => "overlong_stay",
            AuditRule::UnplannedReadmission => "unplanned_readmission",
            AuditRule::LowRiskDeath => "low_risk_death",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            AuditRule::DuplicateList => "重复结算",
            AuditRule::SplitAdmission => "分解住院",
            AuditRule::CostShifting => "费用转移",
            AuditRule::Upcoding => "高套编码",
            AuditRule::UnderProvision => "医疗服务不足",
            AuditRule::LowStandardAdmission => "低标入院",
            AuditRule::OverlongStay => "超长住院",
            AuditRule::UnplannedReadmission => "非计划再入院",
            AuditRule::LowRiskDeath => "低风险组死亡",
        }
    }
    pub fn from_key(k: &str) -> Option<AuditRule> {
        AuditRule::ALL.iter().copied().find(|r| r.key() == k)
    }
    fn short(self) -> &'static str {
        match self {
            AuditRule::DuplicateList => "DUP",
            AuditRule::SplitAdmission => "SPL",
            AuditRule::CostShifting => "SHF",
            AuditRule::Upcoding => "UPC",
            AuditRule::UnderProvision => "UND",
            AuditRule::LowStandardAdmission => "LSA",
            AuditRule::OverlongStay => "LOS",
            AuditRule::UnplannedReadmission => "RDM",
            AuditRule::LowRiskDeath => "LRD",
        }
    }
    /// What a confirmation of this rule does to the payment.
    pub fn action(self) -> Action {
        match self {
            AuditRule::DuplicateList | AuditRule::LowStandardAdmission => Action::NotPaid,
            AuditRule::SplitAdmission => Action::MergeInto,
            AuditRule::Upcoding => Action::Regroup,
            AuditRule::CostShifting | AuditRule::UnderProvision => Action::Amount,
            AuditRule::OverlongStay | AuditRule::UnplannedReadmission | AuditRule::LowRiskDeath => Action::Note,
        }
    }
}

/// One suspicion for a reviewer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    /// Stable id `<rule>-<list_id>` (the same input gives the same ids, so decisions survive reruns).
    pub flag_id: String,
    pub list_id: String,
    /// Linked lists and claims (first stay, original list, claims …).
    pub related_ids: Vec<String>,
    pub rule: AuditRule,
    /// Strength of the suspicion, 0–100 (higher first).
    pub score: u32,
    pub hospital_code: String,
    /// Chinese sentence with the numbers that triggered the flag.
    pub evidence: String,
    /// The same as data: records, numbers, thresholds and the proposed action.
    pub evidence_json: serde_json::Value,
    /// Payment action on confirmation, its target (DRG or list id) and the amount at stake.
    pub action: Action,
    pub target: String,
    pub amount: Fen,
}

/// What the audit reads.
#[derive(Debug, Clone, Copy)]
pub struct AuditInput<'a> {
    pub lists: &'a [SettlementList],
    /// Same length and order as `lists`.
    pub groups: &'a [CaseGroup],
    pub claims: &'a [Claim],
    /// Itemised charges (费用明细) of the lists, any order, linked by `list_id`. May be empty:
    /// then the upcoding rule falls back to costs alone.
    pub charges: &'a [ChargeItem],
    /// Hospital code → tier (level); hospitals are compared within their tier. May be empty.
    pub hospital_tiers: &'a BTreeMap<String, String>,
}

/// The audit's result: flags ranked strongest first, and the statistics used.
#[derive(Debug, Clone)]
pub struct AuditOutput {
    pub flags: Vec<Flag>,
    pub stats: Stats,
    /// Indices of the lists audited (latest version of each list id).
    pub audited: Vec<usize>,
}

fn yuan(f: Fen) -> String {
    f.to_string()
}

fn days(a: NaiveDateTime, b: NaiveDateTime) -> i64 {
    (b.date() - a.date()).num_days()
}

fn core_fees(l: &SettlementList) -> Fen {
    l.fee(FeeKind::Surgery) + l.fee(FeeKind::Material)
}

/// CHS-DRG ADRG codes: second letter A–J surgical, K–Q non-OR procedures (操作), R–Z medical.
fn is_procedural_adrg(adrg: &str) -> bool {
    adrg.as_bytes().get(1).is_some_and(|b| (b'A'..=b'Q').contains(b))
}

fn clamp_score(x: f64) -> u32 {
    x.round().clamp(0.0, 100.0) as u32
}

struct Ctx<'a> {
    inp: AuditInput<'a>,
    cfg: &'a AuditConfig,
    stats: &'a Stats,
    flags: Vec<Flag>,
    modules: TreatmentModules,
    /// list_id → indices into `inp.charges`.
    charges: FxHashMap<&'a str, Vec<u32>>,
}

impl Ctx<'_> {
    #[allow(clippy::too_many_arguments)]
    fn flag(&mut self, i: usize, rule: AuditRule, related: Vec<String>, score: u32, evidence: String, mut ev: serde_json::Value, target: String, amount: Fen) {
        let l = &self.inp.lists[i];
        let action = rule.action();
        if let Some(o) = ev.as_object_mut() {
            o.insert("proposed".into(), json!({"action": action.key(), "target": target, "amount": yuan(amount)}));
            o.insert("drg".into(), json!(self.inp.groups[i].drg));
        }
        self.flags.push(Flag {
            flag_id: format!("{}-{}", rule.short(), l.list_id),
            list_id: l.list_id.clone(),
            related_ids: related,
            rule,
            score,
            hospital_code: l.hospital_code.clone().unwrap_or_default(),
            evidence,
            evidence_json: ev,
            action,
            target,
            amount,
        });
    }
}

/// Runs every rule. Lists re-submitted under the same `list_id` are audited in their latest
/// version only (settlement-list.md: latest wins).
pub fn audit(inp: AuditInput<'_>, cfg: &AuditConfig) -> AuditOutput {
    assert_eq!(inp.lists.len(), inp.groups.len(), "one CaseGroup per list");
    let mut last: FxHashMap<&str, usize> = FxHashMap::default();
    for (i, l) in inp.lists.iter().enumerate() {
        last.insert(l.list_id.as_str(), i);
    }
    let audited: Vec<usize> = (0..inp.lists.len()).filter(|&i| last.get(inp.lists[i].list_id.as_str()) == Some(&i)).collect();
    let stats = Stats::compute(inp.lists, inp.groups, &audited);
    let mut charges: FxHashMap<&str, Vec<u32>> = FxHashMap::default();
    for (k, c) in inp.charges.iter().enumerate() {
        charges.entry(c.list_id.as_str()).or_default().push(k as u32);
    }
    let mut cx = Ctx { inp, cfg, stats: &stats, flags: Vec::new(), modules: TreatmentModules::builtin(), charges };

    // Stays by person in admission order (valid dates and person only).
    let mut stays: Vec<(&str, NaiveDateTime, NaiveDateTime, usize)> = audited
        .iter()
        .filter_map(|&i| {
            let l = &inp.lists[i];
            let (a, d) = (l.admit_time?, l.discharge_time?);
            (d >= a).then_some((l.insured_id.as_deref().filter(|s| !s.is_empty())?, a, d, i))
        })
        .collect();
    stays.sort_unstable();
    let duplicates = rule_duplicates(&mut cx, &stays);
    let stays: Vec<_> = stays.into_iter().filter(|s| !duplicates[s.3]).collect();
    rule_readmissions(&mut cx, &stays);
    rule_cost_shifting(&mut cx, &stays);
    for &i in &audited {
        if duplicates[i] {
            continue;
        }
        rule_upcoding(&mut cx, i);
        rule_under_provision(&mut cx, i);
        rule_overlong(&mut cx, i);
        rule_low_risk_death(&mut cx, i);
    }
    rule_low_standard(&mut cx, &audited, &duplicates);

    let mut flags = cx.flags;
    flags.sort_by(|a, b| b.score.cmp(&a.score).then(a.rule.cmp(&b.rule)).then(a.list_id.cmp(&b.list_id)));
    AuditOutput { flags, stats, audited }
}

type Stay<'a> = (&'a str, NaiveDateTime, NaiveDateTime, usize);

/// 重复结算: the same person, hospital, admission and discharge time under another list id.
/// The first in file order is the original; every later one is flagged.
fn rule_duplicates(cx: &mut Ctx<'_>, stays: &[Stay<'_>]) -> Vec<bool> {
    let lists = cx.inp.lists;
    let mut dup = vec![false; lists.len()];
    let mut by_key: BTreeMap<(&str, &str, NaiveDateTime, NaiveDateTime), Vec<usize>> = BTreeMap::new();
    for &(p, a, d, i) in stays {
        by_key.entry((p, lists[i].hospital_code.as_deref().unwrap_or(""), a, d)).or_default().push(i);
    }
    for ((p, h, a, d), mut v) in by_key {
        if v.len() < 2 {
            continue;
        }
        v.sort_unstable();
        let orig = v[0];
        for &i in &v[1..] {
            dup[i] = true;
            let l = &lists[i];
            let o = &lists[orig];
            let same_cost = l.total_cost == o.total_cost;
            let ev = format!(
                "清单{}与清单{}为同一参保人{}在同一机构{}的同一次住院（入院{}，出院{}），金额{}元/{}元，重复提交结算",
                l.list_id, o.list_id, p, h, a.format("%Y-%m-%d %H:%M"), d.format("%Y-%m-%d %H:%M"), yuan(l.total()), yuan(o.total())
            );
            let j = json!({"original": o.list_id, "insured_id": p, "admit_time": a.to_string(), "discharge_time": d.to_string(),
                "total_cost": yuan(l.total()), "original_total_cost": yuan(o.total()), "threshold": "完全相同的参保人、机构、入出院时间"});
            cx.flag(i, AuditRule::DuplicateList, vec![o.list_id.clone()], if same_cost { 100 } else { 95 }, ev, j, o.list_id.clone(), l.total());
        }
    }
    dup
}

/// 分解住院 (same hospital, ≤ 15 days, same ADRG, first stay discharged by order, no plan) and
/// 非计划再入院 (any hospital, ≤ 31 days, no readmission plan).
fn rule_readmissions(cx: &mut Ctx<'_>, stays: &[Stay<'_>]) {
    let (lists, groups, cfg) = (cx.inp.lists, cx.inp.groups, cx.cfg);
    let mut s = 0;
    while s < stays.len() {
        let mut e = s + 1;
        while e < stays.len() && stays[e].0 == stays[s].0 {
            e += 1;
        }
        for j in s + 1..e {
            let (_, a2, _, i2) = stays[j];
            let b = &lists[i2];
            // previous stay of the person (any hospital) and previous stay at the same hospital
            let (_, _, d1, i1) = stays[j - 1];
            let a = &lists[i1];
            let gap = days(d1, a2);
            if gap >= 0 && gap <= cfg.readmit_days && a.readmit_plan_31d == Some(ReadmitPlan::No) && a.leaving_type != Some(LeavingType::Death) {
                let ev = format!(
                    "参保人出院后{}天再次入院（{} → {}），前次住院清单{}填写“出院31天内无再住院计划”",
                    gap, a.list_id, b.list_id, a.list_id
                );
                let j = json!({"first": a.list_id, "gap_days": gap, "threshold_days": cfg.readmit_days,
                    "first_drg": groups[i1].drg, "first_hospital": a.hospital_code, "readmit_plan_31d": 1});
                let score = clamp_score(40.0 + 30.0 * (1.0 - gap as f64 / cfg.readmit_days.max(1) as f64));
                cx.flag(i2, AuditRule::UnplannedReadmission, vec![a.list_id.clone()], score, ev, j, String::new(), Fen::ZERO);
            }
            let Some(k) = (s..j).rev().find(|&k| lists[stays[k].3].hospital_code == b.hospital_code) else { continue };
            let (_, _, d1, i1) = stays[k];
            let a = &lists[i1];
            let gap = days(d1, a2);
            if gap < 0 || gap > cfg.split_max_gap_days {
                continue;
            }
            if a.leaving_type != Some(LeavingType::OrderDischarge) || a.readmit_plan_31d == Some(ReadmitPlan::Yes) {
                continue;
            }
            if cfg.split_exclude_emergency && b.admit_route == Some(AdmitRoute::Emergency) {
                continue;
            }
            let (g1, g2) = (&groups[i1], &groups[i2]);
            let same_adrg = g1.grouped && g2.grouped && g1.adrg == g2.adrg;
            let same_dx = match (a.diagnoses.first(), b.diagnoses.first()) {
                (Some(x), Some(y)) => x.len() >= 3 && y.len() >= 3 && x.as_bytes()[..3] == y.as_bytes()[..3],
                _ => false,
            };
            if !same_adrg && !same_dx {
                continue;
            }
            let mut score = 60.0 + 25.0 * (1.0 - gap as f64 / (cfg.split_max_gap_days + 1) as f64);
            if same_adrg && g1.drg == g2.drg {
                score += 10.0;
            }
            if same_dx {
                score += 5.0;
            }
            let ev = format!(
                "同一参保人在同一机构{}于{}出院（医嘱离院、无再住院计划）后{}天再次入院，两次住院{}（{} / {}），疑似分解住院",
                b.hospital_code.as_deref().unwrap_or(""),
                d1.format("%Y-%m-%d"),
                gap,
                if same_adrg { format!("同属 ADRG {}", g1.adrg) } else { "主要诊断同一类目".to_string() },
                g1.drg,
                g2.drg
            );
            let j = json!({"first": a.list_id, "gap_days": gap, "threshold_days": cfg.split_max_gap_days,
                "first_drg": g1.drg, "second_drg": g2.drg, "same_adrg": same_adrg, "same_principal_category": same_dx,
                "first_leaving_type": 1, "first_total_cost": yuan(a.total()), "second_total_cost": yuan(b.total())});
            cx.flag(i2, AuditRule::SplitAdmission, vec![a.list_id.clone()], clamp_score(score), ev, j, a.list_id.clone(), b.total());
        }
        s = e;
    }
}

/// 费用转移: claims of the person within ±N days of the stay carrying exam, lab, treatment,
/// material or drug items, while the stay is cheap for its DRG.
fn rule_cost_shifting(cx: &mut Ctx<'_>, stays: &[Stay<'_>]) {
    let (lists, groups, claims, cfg) = (cx.inp.lists, cx.inp.groups, cx.inp.claims, cx.cfg);
    let mut order: Vec<usize> = (0..claims.len()).filter(|&c| claims[c].claim_time.is_some()).collect();
    order.sort_unstable_by(|&x, &y| (claims[x].insured_id.as_str(), claims[x].claim_time).cmp(&(claims[y].insured_id.as_str(), claims[y].claim_time)));
    let mut by_person: FxHashMap<&str, (usize, usize)> = FxHashMap::default();
    let mut s = 0;
    while s < order.len() {
        let p = claims[order[s]].insured_id.as_str();
        let mut e = s + 1;
        while e < order.len() && claims[order[e]].insured_id == p {
            e += 1;
        }
        by_person.insert(p, (s, e));
        s = e;
    }
    // region percentile of claim items per provider kind (data-driven "unusually large claim")
    let items_of = |cl: &Claim| cl.fee_exam + cl.fee_lab + cl.fee_treatment + cl.fee_material + cl.fee_western_drug + cl.fee_herbal + cl.fee_patent_tcm;
    let mut by_kind: BTreeMap<i64, Vec<Fen>> = BTreeMap::new();
    for cl in claims {
        by_kind.entry(cl.provider_kind.map(|k| k.code()).unwrap_or(0)).or_default().push(items_of(cl));
    }
    let cut_of: BTreeMap<i64, Fen> = by_kind
        .into_iter()
        .map(|(k, mut v)| {
            v.sort_unstable();
            let rank = ((cfg.shift_claim_pct.min(100) as usize) * v.len()).div_ceil(100).max(1);
            (k, v[rank - 1])
        })
        .collect();
    let w = Duration::days(cfg.shift_window_days);
    for &(p, a, d, i) in stays {
        let Some(&(s, e)) = by_person.get(p) else { continue };
        let g = &groups[i];
        let Some(gs) = cx.stats.group(&g.drg).filter(|gs| gs.n >= cfg.min_group_cases) else { continue };
        let l = &lists[i];
        let cost = l.total();
        let p_cut = gs.cost_pct(cfg.shift_stay_cost_pct);
        let cheap = cost < p_cut;
        if cfg.shift_require_cheap_stay && !cheap {
            continue;
        }
        let (lo, hi) = (a.date() - w, d.date() + w);
        let person = &order[s..e];
        let start = person.partition_point(|&c| claims[c].claim_time.is_some_and(|t| t.date() < lo));
        let mut related = Vec::new();
        let mut items = Fen::ZERO;
        let mut fund = Fen::ZERO;
        let mut largest = Fen::ZERO;
        for &c in &person[start..] {
            let cl = &claims[c];
            let t = cl.claim_time.expect("filtered");
            if t.date() > hi {
                break;
            }
            let it = items_of(cl);
            let cut = cut_of.get(&cl.provider_kind.map(|k| k.code()).unwrap_or(0)).copied().unwrap_or(Fen::ZERO);
            if it.0 <= 0 || it <= cut {
                continue;
            }
            related.push(cl.claim_id.clone());
            items += it;
            fund += cl.fund_pay;
            largest = largest.max(it);
        }
        if related.is_empty() {
            continue;
        }
        let median = gs.cost_pct(50);
        let share = if median.0 > 0 { items.0 as f64 / median.0 as f64 } else { 0.0 };
        let score = clamp_score(50.0 + 100.0 * share.min(0.3) + if cheap { 15.0 } else { 0.0 });
        let ev = format!(
            "住院{}至{}（{}组，费用{}元，本组中位{}元{}）；入院前后{}天内有{}笔大额门诊/药店结算，检查化验治疗材料药品费合计{}元，单笔超过全市同类结算第{}百分位",
            a.format("%Y-%m-%d"),
            d.format("%Y-%m-%d"),
            g.drg,
            yuan(cost),
            yuan(median),
            if cheap { format!("，低于第{}百分位{}元", cfg.shift_stay_cost_pct, yuan(p_cut)) } else { String::new() },
            cfg.shift_window_days,
            related.len(),
            yuan(items),
            cfg.shift_claim_pct,
        );
        let j = json!({"claims": related, "claims_items": yuan(items), "largest_claim_items": yuan(largest), "claims_fund_pay": yuan(fund),
            "stay_total_cost": yuan(cost), "stay_cheap": cheap, "group_cost_pct": cfg.shift_stay_cost_pct, "group_cost_at_pct": yuan(p_cut),
            "group_median_cost": yuan(median), "window_days": cfg.shift_window_days, "claim_pct": cfg.shift_claim_pct});
        cx.flag(i, AuditRule::CostShifting, related, score, ev, j, String::new(), fund);
    }
}

/// 高套编码: a complication split (DRG ending 1 or 3) that the case's resources do not support.
/// With itemised charges (费用明细) for the list: the treatment-module rule
/// ([`rule_upcoding_modules`]); without: the cost rule — without its secondary diagnoses the case
/// falls into a lower sibling group, and its cost and LOS are typical of that lower group.
fn rule_upcoding(cx: &mut Ctx<'_>, i: usize) {
    let (l, g, cfg) = (&cx.inp.lists[i], &cx.inp.groups[i], cx.cfg);
    if !g.grouped {
        return;
    }
    let Some(lower) = g.drg_without_cc.as_deref().filter(|x| *x != g.drg && !x.is_empty()) else { return };
    if cfg.upcoding_use_charges && cx.charges.contains_key(l.list_id.as_str()) {
        let target = g.drg_without_lifting.as_deref().filter(|x| !x.is_empty()).unwrap_or(lower);
        rule_upcoding_modules(cx, i, target);
        return;
    }
    let Some(ls) = cx.stats.group(lower).filter(|s| s.n >= cfg.min_group_cases) else { return };
    let Some(own) = cx.stats.group(&g.drg) else { return };
    let cost = l.total();
    let los = l.los_days.unwrap_or(0);
    let cost_cut = ls.cost_pct(cfg.upcoding_lower_cost_pct);
    let los_cut = ls.los_pct(cfg.upcoding_lower_los_pct);
    if cost > cost_cut || los > los_cut || cost > own.cost_pct(cfg.upcoding_own_cost_pct) {
        return;
    }
    // the lower group must really be cheaper (else the split carries no money)
    let (own_med, low_med) = (own.cost_pct(50), ls.cost_pct(50));
    if own_med <= low_med {
        return;
    }
    let gap = if own_med.0 > low_med.0 { (own_med.0 - cost.0) as f64 / (own_med.0 - low_med.0) as f64 } else { 0.0 };
    let score = clamp_score(40.0 + 30.0 * gap.clamp(0.0, 2.0));
    let secondaries = l.diagnoses.get(1..).unwrap_or(&[]).join("|");
    let ev = format!(
        "入组{}（伴并发症/合并症），去除其他诊断后应入{}；本例费用{}元、住院{}天，不高于{}的第{}百分位费用{}元和第{}百分位住院日{}天（{}中位费用{}元），其他诊断{}缺少相应资源消耗",
        g.drg, lower, yuan(cost), los, lower, cfg.upcoding_lower_cost_pct, yuan(cost_cut), cfg.upcoding_lower_los_pct, los_cut, g.drg, yuan(own_med), secondaries
    );
    let j = json!({"drg": g.drg, "justified_drg": lower, "total_cost": yuan(cost), "los_days": los,
        "lower_cost_at_pct": yuan(cost_cut), "lower_los_at_pct": los_cut, "own_median_cost": yuan(own_med), "lower_median_cost": yuan(low_med),
        "secondary_diagnoses": secondaries});
    cx.flag(i, AuditRule::Upcoding, Vec::new(), score, ev, j, lower.to_string(), cost);
}

/// 高套编码 by treatment modules (regions.md, Wuxi): the secondary diagnoses that lift the case
/// into its complication group must each have a module in the bureau's table; when none of
/// them leaves any trace (an item of one of its module's item classes, not an excluded item,
/// and — when the module has classes of its own — not merely an item the case's other
/// diagnoses account for) in the case's itemised charges, the complication is unsupported. A lifting diagnosis without a module cannot be
/// judged and counts as supported. Optionally (`upcoding_module_own_cost_pct` < 100) a case
/// costing more than that percentile of its own group is not flagged (its resources match).
fn rule_upcoding_modules(cx: &mut Ctx<'_>, i: usize, lower: &str) {
    let (l, g, cfg) = (&cx.inp.lists[i], &cx.inp.groups[i], cx.cfg);
    let items: Vec<&ChargeItem> = cx.charges.get(l.list_id.as_str()).map(|v| v.iter().map(|&k| &cx.inp.charges[k as usize]).collect()).unwrap_or_default();
    let secondaries = l.diagnoses.get(1..).unwrap_or(&[]);
    let lifting: Vec<&String> = if g.lifting_dx.is_empty() { secondaries.iter().collect() } else { g.lifting_dx.iter().collect() };
    // classes already explained by the case's other coded diagnoses (principal, comorbidities):
    // a lifting diagnosis is supported by its *own* treatment — an item of a class no other
    // diagnosis accounts for — when it has enough own classes (`upcoding_min_own_classes`),
    // else by any class of its module
    let others: Vec<&Module> = l.diagnoses.iter().filter(|d| !lifting.contains(d)).filter_map(|d| cx.modules.module_of(d)).collect();
    let mut checked = Vec::new();
    for dx in &lifting {
        let Some(m) = cx.modules.module_of(dx) else { return }; // cannot be judged
        let own: Vec<&ItemClass> = m.classes.iter().filter(|k| !others.iter().any(|o| o.classes.contains(k))).collect();
        let classes: Vec<&ItemClass> = if own.len() < cfg.upcoding_min_own_classes { m.classes.iter().collect() } else { own };
        if items.iter().any(|c| classes.iter().any(|k| k.matches(c)) && !m.excludes(c)) {
            return; // its treatment is there
        }
        // what the case has in the module's categories (for the reviewer)
        let mut found: Vec<&str> = items.iter().filter(|c| m.classes.iter().any(|k| k.category == c.category)).map(|c| c.item_code.as_str()).collect();
        found.sort_unstable();
        found.dedup();
        let shared: Vec<String> = m.classes.iter().filter(|k| !classes.contains(k)).map(|k| k.code_prefix.clone()).collect();
        let required: Vec<&ItemClass> = classes;
        checked.push((dx.as_str(), m, found, required, shared));
    }
    if checked.is_empty() {
        return;
    }
    let cost = l.total();
    let los = l.los_days.unwrap_or(0);
    let own = cx.stats.group(&g.drg);
    let low = cx.stats.group(lower);
    if cfg.upcoding_module_own_cost_pct < 100 {
        if let Some(own) = own.filter(|s| s.n >= cfg.min_group_cases) {
            if cost > own.cost_pct(cfg.upcoding_module_own_cost_pct) {
                return;
            }
        }
    }
    // score: 60 for a missing module, up to +30 when the cost sits at the lower group's level
    let (own_med, low_med) = (own.map(|s| s.cost_pct(50)), low.map(|s| s.cost_pct(50)));
    let gap = match (own_med, low_med) {
        (Some(o), Some(w)) if o.0 > w.0 => ((o.0 - cost.0) as f64 / (o.0 - w.0) as f64).clamp(0.0, 1.0),
        _ => 0.0,
    };
    let score = clamp_score(60.0 + 30.0 * gap + 5.0 * (checked.len() as f64 - 1.0).min(1.0));
    let parts: Vec<String> = checked
        .iter()
        .map(|(dx, m, found, required, shared)| {
            let expected: Vec<String> = required.iter().map(|k| k.code_prefix.clone()).collect();
            format!(
                "{dx}（诊疗模块“{}”，应见{}之一{}，费用明细中同类项目为{}）",
                m.name,
                expected.join("、"),
                if shared.is_empty() { String::new() } else { format!("（{} 已由其他诊断解释，不计）", shared.join("、")) },
                if found.is_empty() { "无".to_string() } else { found.join("、") }
            )
        })
        .collect();
    let ev = format!(
        "入组{}（伴并发症/合并症），去除其他诊断后应入{}；使其入组的其他诊断{}在费用明细（{} 项）中无相应诊疗痕迹；本例费用{}元、住院{}天{}",
        g.drg,
        lower,
        parts.join("；"),
        items.len(),
        yuan(cost),
        los,
        match (own_med, low_med) {
            (Some(o), Some(w)) => format!("（{}中位费用{}元，{}中位费用{}元）", g.drg, yuan(o), lower, yuan(w)),
            _ => String::new(),
        }
    );
    let dj: Vec<serde_json::Value> = checked
        .iter()
        .map(|(dx, m, found, required, shared)| {
            json!({"diagnosis": dx, "module_prefix": m.dx_prefix, "module": m.name, "source": m.source,
                "expected": required.iter().map(|k| k.text()).collect::<Vec<_>>(), "explained_by_other_diagnoses": shared, "found": found})
        })
        .collect();
    let j = json!({"drg": g.drg, "justified_drg": lower, "method": "treatment_module", "total_cost": yuan(cost), "los_days": los,
        "own_median_cost": own_med.map(yuan), "lower_median_cost": low_med.map(yuan), "charge_items": items.len(),
        "unsupported_diagnoses": dj, "secondary_diagnoses": secondaries.join("|")});
    cx.flag(i, AuditRule::Upcoding, Vec::new(), score, ev, j, lower.to_string(), cost);
}

/// 医疗服务不足: in a surgical/interventional group, core fees (surgery + material) below the 5th
/// percentile; or (any group) LOS below the 5th percentile with order discharge.
fn rule_under_provision(cx: &mut Ctx<'_>, i: usize) {
    let (l, g, cfg) = (&cx.inp.lists[i], &cx.inp.groups[i], cx.cfg);
    if !g.grouped {
        return;
    }
    let Some(gs) = cx.stats.group(&g.drg).filter(|s| s.n >= cfg.min_group_cases) else { return };
    let core = core_fees(l);
    let core_cut = gs.core_pct(cfg.under_core_pct);
    let med_core0 = gs.core_pct(50);
    let low_core = is_procedural_adrg(&g.adrg)
        && core < core_cut
        && med_core0.0 > 0
        && (core.0 as i128) * 100 < (med_core0.0 as i128) * cfg.under_core_max_share_pct as i128;
    let los = l.los_days.unwrap_or(0);
    let los_cut = gs.los_pct(cfg.under_los_pct);
    let share = cfg.under_short_max_share_pct as i128;
    let short = l.leaving_type == Some(LeavingType::OrderDischarge)
        && los < los_cut
        && (los as i128) * 100 <= gs.los_pct(50) as i128 * share
        && (l.total().0 as i128) * 100 <= gs.cost_pct(50).0 as i128 * share;
    if !low_core && !short {
        return;
    }
    let med_core = gs.core_pct(50);
    let mut score = 45.0;
    if low_core {
        score += 35.0 * (1.0 - core.0 as f64 / core_cut.0.max(1) as f64);
    }
    if short {
        score += 15.0;
    }
    let ev = format!(
        "{}组：手术费+卫生材料费{}元（本组第{}百分位{}元，中位{}元），住院{}天（本组第{}百分位{}天），{}",
        g.drg,
        yuan(core),
        cfg.under_core_pct,
        yuan(core_cut),
        yuan(med_core),
        los,
        cfg.under_los_pct,
        los_cut,
        if low_core { "核心治疗费用明显不足" } else { "医嘱离院但住院日远低于本组常规" }
    );
    let j = json!({"core_fees": yuan(core), "core_at_pct": yuan(core_cut), "core_median": yuan(med_core), "los_days": los,
        "los_at_pct": los_cut, "low_core": low_core, "short_stay": short, "pct": cfg.under_core_pct});
    // amount at stake: the core treatment not provided (median − case core fees), or for a short
    // stay the shortfall against the group's median cost
    let amount = if low_core { med_core - core } else { Fen((gs.cost_pct(50) - l.total()).0.max(0)) };
    cx.flag(i, AuditRule::UnderProvision, Vec::new(), clamp_score(score), ev, j, String::new(), amount);
}

/// 超长住院: LOS above 60 days.
fn rule_overlong(cx: &mut Ctx<'_>, i: usize) {
    let (l, cfg) = (&cx.inp.lists[i], cx.cfg);
    let Some(los) = l.los_days.filter(|d| *d > cfg.overlong_los) else { return };
    let g = &cx.inp.groups[i];
    let med = cx.stats.group(&g.drg).map(|s| s.los_pct(50)).unwrap_or(0);
    let score = clamp_score(50.0 + 50.0 * ((los - cfg.overlong_los) as f64 / cfg.overlong_los as f64).min(1.0));
    let ev = format!("实际住院{}天，超过{}天（{}组中位住院日{}天）", los, cfg.overlong_los, g.drg, med);
    let j = json!({"los_days": los, "threshold_days": cfg.overlong_los, "group_median_los": med});
    cx.flag(i, AuditRule::OverlongStay, Vec::new(), score, ev, j, String::new(), Fen::ZERO);
}

/// 低风险组死亡: a death in a DRG whose mortality is below mean − 1 SD (log rates across DRGs).
fn rule_low_risk_death(cx: &mut Ctx<'_>, i: usize) {
    let l = &cx.inp.lists[i];
    if l.leaving_type != Some(LeavingType::Death) {
        return;
    }
    let g = &cx.inp.groups[i];
    if !g.grouped || !cx.stats.is_low_risk(&g.drg) {
        return;
    }
    let gs = cx.stats.group(&g.drg).expect("low-risk groups have stats");
    let ev = format!(
        "{}为低风险组（死亡率{}/{}，低于各组均值−1个标准差），本例死亡，需进行医疗质量评审",
        g.drg, gs.deaths, gs.n
    );
    let j = json!({"deaths": gs.deaths, "cases": gs.n, "risk_level": 1});
    cx.flag(i, AuditRule::LowRiskDeath, Vec::new(), 60, ev, j, String::new(), Fen::ZERO);
}

/// 低标入院: a short stay (≤ 2 days) admitted through the outpatient clinic, discharged by
/// order, in a medical group outside the excluded MDCs (obstetrics, newborns), costing below
/// the 10th percentile of the group's *regular* stays (those longer than the short-stay limit —
/// the yardstick leaves out the stays under test, so it holds where the behaviour is common).
/// Flagged when it costs below 30 % of the regular stays' median (implausibly cheap wherever it
/// occurs), or when its hospital's share of such stays exceeds its tier's by the configured
/// factor (audit.md: "hospital share above the tier's"). The readmission of a split admission
/// is left to that rule (the same stay is not reported as two behaviours).
fn rule_low_standard(cx: &mut Ctx<'_>, audited: &[usize], dup: &[bool]) {
    let (lists, groups, cfg) = (cx.inp.lists, cx.inp.groups, cx.cfg);
    let tiers = cx.inp.hospital_tiers;
    let split: rustc_hash::FxHashSet<&str> = cx.flags.iter().filter(|f| f.rule == AuditRule::SplitAdmission).map(|f| f.list_id.as_str()).collect();
    // the regular stays of each DRG (LOS above the short-stay limit): sorted costs
    let mut regular: FxHashMap<&str, Vec<Fen>> = FxHashMap::default();
    for &i in audited {
        let (l, g) = (&lists[i], &groups[i]);
        if !dup[i] && g.grouped && l.los_days.is_some_and(|d| d > cfg.low_standard_max_los) {
            regular.entry(g.drg.as_str()).or_default().push(l.total());
        }
    }
    // (p-cut, median) of the regular stays, for DRGs with enough of them
    let norms: FxHashMap<&str, (Fen, Fen, usize)> = regular
        .into_iter()
        .filter(|(_, v)| v.len() >= cfg.min_group_cases)
        .map(|(d, mut v)| {
            v.sort_unstable();
            let at = |p: u32| v[((p.min(100) as usize) * v.len()).div_ceil(100).max(1) - 1];
            (d, (at(cfg.low_standard_cost_pct), at(50), v.len()))
        })
        .collect();
    // (index, p-cut, regular median, regular stays, implausibly cheap on its own)
    let mut cand: Vec<(usize, Fen, Fen, usize, bool)> = Vec::new();
    let mut hosp: BTreeMap<&str, (usize, usize)> = BTreeMap::new(); // (lists, candidates)
    for &i in audited {
        if dup[i] {
            continue;
        }
        let l = &lists[i];
        let h = l.hospital_code.as_deref().unwrap_or("");
        hosp.entry(h).or_default().0 += 1;
        let g = &groups[i];
        // medical groups (conditions that can be treated in outpatients), outside the excluded
        // MDCs, admitted through the clinic (or at least not as an emergency), discharged by order
        if !g.grouped || is_procedural_adrg(&g.adrg) || cfg.low_standard_excluded_mdc.iter().any(|m| !m.is_empty() && g.adrg.starts_with(m.as_str())) {
            continue;
        }
        let route_ok = if cfg.low_standard_outpatient_route_only { l.admit_route == Some(AdmitRoute::Outpatient) } else { l.admit_route != Some(AdmitRoute::Emergency) };
        if !route_ok || l.leaving_type != Some(LeavingType::OrderDischarge) || split.contains(l.list_id.as_str()) {
            continue;
        }
        if l.los_days.filter(|d| *d >= 0 && *d <= cfg.low_standard_max_los).is_none() {
            continue;
        }
        let Some(&(cut, median, n)) = norms.get(g.drg.as_str()) else {
            continue;
        };
        let very = (l.total().0 as i128) * 100 < (median.0 as i128) * cfg.low_standard_max_share_pct as i128;
        if l.total() < cut || very {
            cand.push((i, cut, median, n, very));
            hosp.entry(h).or_default().1 += 1;
        }
    }
    // tier (or region) shares
    let tier_of = |h: &str| tiers.get(h).map(String::as_str).unwrap_or("");
    let mut tier: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (h, (n, c)) in &hosp {
        let t = tier.entry(tier_of(h)).or_default();
        t.0 += n;
        t.1 += c;
    }
    for (i, cut, median, n_regular, very) in cand {
        let l = &lists[i];
        let h = l.hospital_code.as_deref().unwrap_or("");
        let (n, c) = hosp[h];
        let (tn, tc) = tier[tier_of(h)];
        // hospital share c/n > tier share tc/tn × ratio  ⇔  c·tn·100 > tc·n·ratio
        let concentrated = (c as i128) * (tn as i128) * 100 > (tc as i128) * (n as i128) * cfg.low_standard_hospital_ratio_pct as i128;
        if !very && !concentrated {
            continue;
        }
        let hs = c as f64 / n.max(1) as f64;
        let ts = tc as f64 / tn.max(1) as f64;
        let g = &groups[i];
        let ratio = if ts > 0.0 { hs / ts } else { 1.0 };
        let below = 1.0 - l.total().0 as f64 / cut.0.max(1) as f64;
        let score = clamp_score(40.0 + 15.0 * (ratio - 1.0).min(3.0) + 20.0 * below.max(0.0));
        let share_pct = if median.0 > 0 { l.total().0 as f64 * 100.0 / median.0 as f64 } else { 0.0 };
        let ev = format!(
            "经门诊收治、住院{}天、医嘱离院，费用{}元，为{}组常规住院（住院>{}天，{}例）中位费用{}元的{:.0}%{}，低于其第{}百分位{}元；该机构此类短期低费用住院占{:.1}%，为同级机构{:.1}%的{:.1}倍",
            l.los_days.unwrap_or(0),
            yuan(l.total()),
            g.drg,
            cfg.low_standard_max_los,
            n_regular,
            yuan(median),
            share_pct,
            if very { format!("（不足{}%，费用明显不合常理）", cfg.low_standard_max_share_pct) } else { String::new() },
            cfg.low_standard_cost_pct,
            yuan(cut),
            hs * 100.0,
            ts * 100.0,
            ratio
        );
        let j = json!({"los_days": l.los_days, "total_cost": yuan(l.total()), "admit_route": l.admit_route.map(|r| r.code()),
            "regular_stays": n_regular, "regular_min_los_days": cfg.low_standard_max_los + 1,
            "group_cost_at_pct": yuan(cut), "pct": cfg.low_standard_cost_pct, "regular_median_cost": yuan(median),
            "share_of_median_pct": format!("{:.1}", share_pct), "max_share_pct": cfg.low_standard_max_share_pct, "implausibly_cheap": very,
            "hospital_share": format!("{:.4}", hs), "tier_share": format!("{:.4}", ts), "tier": tier_of(h), "concentrated": concentrated,
            "hospital_ratio_pct": cfg.low_standard_hospital_ratio_pct});
        cx.flag(i, AuditRule::LowStandardAdmission, Vec::new(), score, ev, j, String::new(), l.total());
    }
}

/// Per-rule and per-hospital counts of flags.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HospitalAudit {
    pub lists: usize,
    pub flagged_lists: usize,
    pub by_rule: BTreeMap<AuditRule, usize>,
    pub score_sum: u64,
}

/// Summaries for the reports: per rule (flags, mean score ×100) and per hospital.
pub fn summarize(inp: &AuditInput<'_>, out: &AuditOutput) -> (BTreeMap<AuditRule, (usize, u64)>, BTreeMap<String, HospitalAudit>) {
    let mut rules: BTreeMap<AuditRule, (usize, u64)> = BTreeMap::new();
    let mut hosp: BTreeMap<String, HospitalAudit> = BTreeMap::new();
    for &i in &out.audited {
        hosp.entry(inp.lists[i].hospital_code.clone().unwrap_or_default()).or_default().lists += 1;
    }
    let mut seen: rustc_hash::FxHashSet<&str> = Default::default();
    for f in &out.flags {
        let r = rules.entry(f.rule).or_default();
        r.0 += 1;
        r.1 += f.score as u64;
        let h = hosp.entry(f.hospital_code.clone()).or_default();
        *h.by_rule.entry(f.rule).or_default() += 1;
        h.score_sum += f.score as u64;
        if seen.insert(f.list_id.as_str()) {
            h.flagged_lists += 1;
        }
    }
    (rules, hosp)
}

#[cfg(test)]
mod tests;
