//! Audit thresholds. Every number is configuration with its default and source
//! (`../shared/docs/audit.md`, `spec-notes.md` §5, `payment.md` §5).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditConfig {
    /// 分解住院: readmission to the same hospital within this many days (audit.md: ≤ 15 days,
    /// city practice 14–15; spec-notes §5: Zhejiang 15, Jinhua 10).
    pub split_max_gap_days: i64,
    /// 分解住院: an emergency readmission (入院途径 1) is not counted (spec-notes §5: the common
    /// definition is "non-emergency" readmission of the same disease).
    pub split_exclude_emergency: bool,
    /// 非计划再入院: readmission within this many days without a plan (audit.md: 31 days,
    /// settlement-list field 出院31天内再住院计划).
    pub readmit_days: i64,
    /// 费用转移: outpatient/pharmacy claims within this many days before admission or after
    /// discharge (audit.md: ±7 days).
    pub shift_window_days: i64,
    /// 费用转移: the stay's cost is below this percentile of its DRG ("cheap for its group",
    /// audit.md; no published number — spec-notes §5). Raises the score; a hard condition only
    /// with `shift_require_cheap_stay`.
    pub shift_stay_cost_pct: u32,
    pub shift_require_cheap_stay: bool,
    /// 费用转移: a claim in the window whose exam, lab, treatment, material and drug items exceed
    /// this percentile of all claims of the same provider kind in the region (an unusually large
    /// outpatient visit or pharmacy purchase next to a stay). No published number (spec-notes §5).
    pub shift_claim_pct: u32,
    /// 高套编码: the case's cost is at most this percentile of the lower sibling group (the group
    /// without the complication) — "costs typical of the lower group" (audit.md).
    pub upcoding_lower_cost_pct: u32,
    /// 高套编码: and its LOS at most this percentile of the lower sibling group.
    pub upcoding_lower_los_pct: u32,
    /// 高套编码: and its cost at most this percentile of its own (complication) group.
    pub upcoding_own_cost_pct: u32,
    /// 高套编码: use the treatment-module rule (诊疗模块, regions.md Wuxi) for lists with itemised
    /// charges (费用明细); the cost rule above applies to lists without them.
    pub upcoding_use_charges: bool,
    /// 高套编码 (treatment modules): a case costing more than this percentile of its own group is
    /// not flagged — its resources match the complication group (audit.md: "costs and LOS typical
    /// of the lower group"). 100 = no cost condition. No published number (spec-notes §5).
    pub upcoding_module_own_cost_pct: u32,
    /// 高套编码 (treatment modules): a lifting diagnosis must show an item of its *own* classes
    /// (those no other coded diagnosis of the case accounts for) when it has at least this many;
    /// with fewer, any class of its module counts. 0 = always any class. No published number.
    pub upcoding_min_own_classes: usize,
    /// 医疗服务不足: core fees (surgery + material) below this percentile of the group (audit.md:
    /// below the 5th percentile).
    pub under_core_pct: u32,
    /// 医疗服务不足: and core fees below this share (percent) of the group's median core fees
    /// ("implausibly low", audit.md; no published number).
    pub under_core_max_share_pct: i64,
    /// 医疗服务不足: LOS below this percentile of the group with order discharge (audit.md 5th).
    pub under_los_pct: u32,
    /// 医疗服务不足: and LOS at most this share (percent) of the group's median LOS and cost at
    /// most this share of its median cost ("far below the group norm").
    pub under_short_max_share_pct: i64,
    /// 低标入院: LOS at most this many days (audit.md: ≤ 2 days).
    pub low_standard_max_los: i64,
    /// 低标入院: cost below this percentile of the DRG's regular stays (audit.md: 10th
    /// percentile). The reference is the group's stays longer than `low_standard_max_los`: a
    /// norm that included the short stays under suspicion would be pulled down by them wherever
    /// the behaviour is common (in a group where half the stays are low-standard admissions the
    /// median is one of them), so the stays under test are left out of their own yardstick.
    pub low_standard_cost_pct: u32,
    /// 低标入院: a stay below this share (percent) of the median cost of the DRG's regular stays
    /// is flagged wherever it occurs (an implausibly cheap admission: less than a third of what
    /// an inpatient stay of the group costs means almost no inpatient care was given). No
    /// published number (spec-notes §5).
    pub low_standard_max_share_pct: i64,
    /// 低标入院: only admissions through the outpatient clinic (入院途径 2 门诊) are considered —
    /// the behaviour is admitting from the clinic a condition the clinic could treat; emergency
    /// admissions (1) and referrals from another institution (3) were decided elsewhere and
    /// "other" (9) is not a clinic decision (audit.md: "conditions usually treated in
    /// outpatients"). `false` = every route except emergency.
    pub low_standard_outpatient_route_only: bool,
    /// 低标入院: major diagnostic categories (first letter of the ADRG) never judged: MDC O
    /// pregnancy, childbirth and puerperium (short antenatal observation admissions — threatened
    /// abortion, false labour, monitoring — are clinically indicated and childbirth is largely
    /// settled under maternity insurance, 生育保险) and MDC P newborns (a newborn's admission is
    /// not a clinic's discretion). CHS-DRG 1.1 MDC letters.
    pub low_standard_excluded_mdc: Vec<String>,
    /// 低标入院: a stay only below the percentile above is flagged when the hospital's share of
    /// such stays exceeds its tier's (or the region's) share by this factor, in percent (audit.md:
    /// "hospital share above the tier's").
    pub low_standard_hospital_ratio_pct: i64,
    /// 超长住院: LOS above this many days (audit.md / spec-notes §5: 60-day convention).
    pub overlong_los: i64,
    /// Percentile rules need at least this many cases in the DRG (statistical floor).
    pub min_group_cases: usize,
    /// 低风险组: DRG mortality below mean − this many SD (in hundredths) of the log-rates
    /// (payment.md §5: below mean − 1 SD).
    pub low_risk_sd_centi: i64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            split_max_gap_days: 15,
            split_exclude_emergency: true,
            readmit_days: 31,
            shift_window_days: 7,
            shift_stay_cost_pct: 50,
            shift_require_cheap_stay: false,
            shift_claim_pct: 95,
            upcoding_lower_cost_pct: 50,
            upcoding_lower_los_pct: 75,
            upcoding_own_cost_pct: 10,
            upcoding_use_charges: true,
            upcoding_module_own_cost_pct: 80,
            upcoding_min_own_classes: 2,
            under_core_pct: 5,
            under_core_max_share_pct: 20,
            under_los_pct: 5,
            under_short_max_share_pct: 25,
            low_standard_max_los: 2,
            low_standard_cost_pct: 10,
            low_standard_max_share_pct: 30,
            low_standard_outpatient_route_only: true,
            low_standard_excluded_mdc: vec!["O".into(), "P".into()],
            low_standard_hospital_ratio_pct: 150,
            overlong_los: 60,
            min_group_cases: 20,
            low_risk_sd_centi: 100,
        }
    }
}
