//! The computation of one region: QC of an upload, and the yearly run — grouping, pricing,
//! monthly settlements, audit, year-end clearing with the confirmed review decisions — over
//! the current version of every settlement list. Plain data in and out; the caller (Workbench)
//! reads the store and writes the results.

use crate::config::WorkbenchConfig;
use crate::records::{CaseSummary, FlagRecord, QcReport, QcRow, SettlementRecord, SkippedList};
use casemix_audit::{audit, AuditConfig, AuditInput, CaseGroup, Decision};
use casemix_grouper::Grouper;
use casemix_lake::CaseRow;
use casemix_model::{ChargeItem, Claim, Fen, LeavingType, SettlementList};
use casemix_policy::{Model, Policy};
use casemix_pricing::{CaseInput, Hospital, Pricer, RateTable};
use casemix_settlement::{apply_advances, settle, Deduction, FxHashSet, Period, SettleInput, Settlement};
use chrono::Datelike;
use rust_decimal::prelude::ToPrimitive;
use std::collections::BTreeMap;
use std::path::Path;

/// Progress of a long step: stage (Chinese), done, total.
pub type Progress<'a> = &'a (dyn Fn(&str, u64, u64) + Sync);

/// Everything a region's computation needs, loaded once.
pub struct Engine {
    pub region: String,
    pub grouper: Grouper,
    pub policy: Policy,
    pub rates: RateTable,
    /// The DIP 病种目录库 when the policy pays by DIP scores (`dip_scores`): cases are priced by
    /// their DIP 病种; the DRG grouping still runs for the audit (high coding, CC lifting).
    pub dip: Option<casemix_dip::Catalogue>,
    pub hospitals: Vec<Hospital>,
    pub qc: casemix_qc::Qc,
    pub audit: AuditConfig,
}

fn read_text(p: &Path, what: &str) -> Result<String, String> {
    std::fs::read_to_string(p).map_err(|e| format!("无法读取{what} {}：{e}", p.display()))
}

impl Engine {
    /// Loads scheme, policy, rates, hospitals and audit thresholds named by the configuration.
    pub fn load(dir: &Path, c: &WorkbenchConfig) -> Result<Engine, String> {
        let r = |p: &Path| WorkbenchConfig::resolve(dir, p);
        let scheme = r(&c.scheme);
        let grouper = Grouper::from_dir(&scheme).map_err(|e| format!("分组方案 {}：{e}", scheme.display()))?;
        let pp = r(&c.policy);
        let policy = casemix_policy::parse(&read_text(&pp, "政策文件")?).map_err(|errs| {
            format!("政策文件 {} 校验未通过：{}", pp.display(), errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("；"))
        })?;
        let (rates, dip) = match policy.policy.model {
            Model::DrgPoints => {
                let w = c.weights.as_ref().ok_or("政策为 DRG 点数法（drg_points）：工作台配置须给出 weights（权重表）")?;
                let w = r(w);
                let rates = RateTable::from_weights_csv(&read_text(&w, "权重表")?, policy.policy.points_scale.0)
                    .map_err(|e| format!("权重表 {}：{}", w.display(), e.iter().take(5).map(|x| x.to_string()).collect::<Vec<_>>().join("；")))?;
                (rates, None)
            }
            Model::DipScores => {
                // the catalogue directory of `casemix calibrate dip`: catalogue.json (assignment)
                // and catalogue.csv (scores)
                let d = c.catalogue.as_ref().ok_or("政策为 DIP 分值付费（dip_scores）：工作台配置须给出 catalogue（病种目录库目录）")?;
                let d = r(d);
                let d = if d.is_dir() { d } else { d.parent().map(Path::to_path_buf).unwrap_or(d) };
                let json = d.join("catalogue.json");
                let data: casemix_dip::CatalogueData = serde_json::from_str(&read_text(&json, "病种目录库")?).map_err(|e| format!("病种目录库 {} 格式错误：{e}", json.display()))?;
                let csv = d.join("catalogue.csv");
                let rates = RateTable::from_catalogue_csv(&read_text(&csv, "病种目录")?)
                    .map_err(|e| format!("病种目录 {}：{}", csv.display(), e.iter().take(5).map(|x| x.to_string()).collect::<Vec<_>>().join("；")))?;
                (rates, Some(casemix_dip::Catalogue::from_data(data)))
            }
        };
        let hospitals = match &c.hospitals {
            Some(h) => {
                let h = r(h);
                casemix_pricing::hospitals_from_csv(&read_text(&h, "医院名录")?)
                    .map_err(|e| format!("医院名录 {}：{}", h.display(), e.iter().take(5).map(|x| x.to_string()).collect::<Vec<_>>().join("；")))?
            }
            None => Vec::new(),
        };
        let audit = match &c.audit {
            Some(a) => {
                let a = r(a);
                let v: serde_json::Value = serde_json::from_str(&read_text(&a, "审核参数")?).map_err(|e| format!("审核参数 {} 不是有效 JSON：{e}", a.display()))?;
                serde_json::from_value(v.get("audit").cloned().unwrap_or(v)).map_err(|e| format!("审核参数 {} 无效：{e}", a.display()))?
            }
            None => AuditConfig::default(),
        };
        let qc = casemix_qc::Qc::new(grouper.dictionaries(), casemix_qc::QcConfig::default());
        Ok(Engine { region: c.region.clone(), grouper, policy, rates, dip, hospitals, qc, audit })
    }

    pub fn year(&self) -> i32 {
        self.policy.policy.year
    }

    pub fn hospital(&self, code: &str) -> Option<&Hospital> {
        self.hospitals.iter().find(|h| h.code == code)
    }

    /// The tier label used to compare hospitals (level, e.g. 三级; "未分级" when unknown).
    pub fn tier_label(&self, code: &str) -> String {
        match self.hospital(code) {
            Some(h) if !h.level.is_empty() => h.level.clone(),
            _ => "未分级".to_string(),
        }
    }

    /// 前置质控 of a batch of lists.
    pub fn qc_report(&self, upload_id: i64, hospital_code: &str, period: &str, lists: &[SettlementList]) -> QcReport {
        let findings = self.qc.check_all(lists);
        let mut with_errors = vec![false; lists.len()];
        let rows: Vec<QcRow> = findings
            .iter()
            .map(|f| {
                let d = f.def();
                if f.severity() == casemix_qc::Severity::Error {
                    with_errors[f.index] = true;
                }
                QcRow {
                    list_id: lists[f.index].list_id.clone(),
                    rule: d.id.to_string(),
                    category: d.category.label_zh().to_string(),
                    severity: d.severity.label_zh().to_string(),
                    field: d.field.to_string(),
                    value: f.value.clone(),
                    message: f.message(),
                }
            })
            .collect();
        let n_err = with_errors.iter().filter(|x| **x).count();
        QcReport {
            upload_id,
            hospital_code: hospital_code.to_string(),
            period: period.to_string(),
            lists: lists.len(),
            lists_with_errors: n_err,
            findings: rows,
        }
    }

    /// Groups every list (with the regroupings the audit needs).
    pub fn group_all(&self, lists: &[SettlementList]) -> Vec<CaseGroup> {
        crate::group::group_all(&self.grouper, lists)
    }

    /// The DIP 病种 of a list (None under a DRG policy).
    pub fn dip_assignment(&self, l: &SettlementList) -> Option<casemix_dip::DipAssignment> {
        let cat = self.dip.as_ref()?;
        Some(cat.assign(&casemix_dip::DipCase {
            year: l.discharge_time.map(|d| d.year()).unwrap_or(0),
            diagnoses: &l.diagnoses,
            procedures: &l.procedures,
            cost: l.total_cost.unwrap_or_else(|| l.fee_sum()),
            los: l.los_days.unwrap_or(0),
            leaving_type: l.leaving_type.map(|x| x.code()),
            age_years: l.age_years,
            age_days: l.age_days,
        }))
    }

    /// The pricing input of a list given its group: the DRG under a DRG policy, the DIP 病种
    /// (and its auxiliary-catalogue factor) under a DIP policy.
    pub fn case_input(&self, l: &SettlementList, g: &CaseGroup) -> Option<CaseInput> {
        let dip = self.dip_assignment(l);
        self.case_input_with(l, g, dip.as_ref())
    }

    fn case_input_with(&self, l: &SettlementList, g: &CaseGroup, dip: Option<&casemix_dip::DipAssignment>) -> Option<CaseInput> {
        let dt = l.discharge_time?;
        let total = l.total_cost.unwrap_or_else(|| l.fee_sum());
        let (group, grouped_ok, aux_factor) = match dip {
            Some(d) => (d.is_grouped().then(|| d.dip_code.clone()), d.is_grouped(), d.is_grouped().then(|| casemix_pricing::Decimal::new(d.aux_factor.0, 4))),
            None => ((g.grouped && !g.drg.is_empty()).then(|| g.drg.clone()), g.grouped, None),
        };
        Some(CaseInput {
            list_id: l.list_id.clone(),
            hospital_code: l.hospital_code.clone().unwrap_or_default(),
            group,
            grouped_ok,
            total_cost: total,
            selfpay: l.selfpay_items.unwrap_or(Fen::ZERO),
            excluded_items: Vec::new(),
            los_days: l.los_days.unwrap_or(0),
            leaving_type: l.leaving_type.map(|x| x.code()),
            year: dt.year(),
            month: dt.month(),
            others_paid: [l.personal_pay, l.supplementary_pay, l.assistance_pay].iter().map(|f| f.unwrap_or(Fen::ZERO)).sum(),
            aux_factor,
            insured_id: l.insured_id.clone().unwrap_or_default(),
            admit_day: l.admit_time.map(|t| t.date().num_days_from_ce() as i64),
            discharge_day: Some(dt.date().num_days_from_ce() as i64),
            qc_errors: 0,
            qc_accepted: false,
        })
    }

    /// The yearly run over the current lists of the policy year: group, price, monthly
    /// settlements (months with cases), audit, and the year-end clearing with `deductions`
    /// (confirmed review decisions). Lists outside the policy year or without a discharge time
    /// are reported in `skipped`, never dropped silently.
    pub fn run(&self, lists: &[SettlementList], claims: &[Claim], charges: &[ChargeItem], decisions: &[Decision], progress: Progress<'_>) -> RunOutput {
        let year = self.year();
        progress("分组", 0, lists.len() as u64);
        let groups = self.group_all(lists);
        progress("分组", lists.len() as u64, lists.len() as u64);

        let dips: Vec<Option<casemix_dip::DipAssignment>> = lists.iter().map(|l| self.dip_assignment(l)).collect();

        // QC counts per list: a list with QC errors is held (待补正) by the policy's [qc_gate]
        // and kept out of points, point values and payments until corrected
        let findings = self.qc.check_all(lists);
        let mut qc_counts = vec![(0i64, 0i64); lists.len()];
        for f in &findings {
            match f.severity() {
                casemix_qc::Severity::Error => qc_counts[f.index].0 += 1,
                casemix_qc::Severity::Warning => qc_counts[f.index].1 += 1,
            }
        }

        let mut cases = Vec::with_capacity(lists.len());
        let mut case_of_list = vec![None; lists.len()];
        let mut skipped = Vec::new();
        for (i, l) in lists.iter().enumerate() {
            let input = self.case_input_with(l, &groups[i], dips[i].as_ref()).map(|c| CaseInput { qc_errors: u32::try_from(qc_counts[i].0).unwrap_or(u32::MAX), ..c });
            match input {
                Some(c) if c.year == year => {
                    case_of_list[i] = Some(cases.len());
                    cases.push(c);
                }
                Some(c) => skipped.push(SkippedList { hospital_code: c.hospital_code.clone(), list_id: l.list_id.clone(), reason: format!("出院年度 {} 不是政策年度 {year}，未参与本年度结算", c.year) }),
                None => skipped.push(SkippedList {
                    hospital_code: l.hospital_code.clone().unwrap_or_default(),
                    list_id: l.list_id.clone(),
                    reason: "缺少出院时间 discharge_time，无法确定结算月份".to_string(),
                }),
            }
        }

        progress("审核", 0, lists.len() as u64);
        let tiers: BTreeMap<String, String> = self.hospitals.iter().map(|h| (h.code.clone(), h.level.clone())).collect();
        let mut out = audit(AuditInput { lists, groups: &groups, claims, charges, hospital_tiers: &tiers }, &self.audit);
        // one identity (hospital, list): a flag id names the hospital too, so that two
        // hospitals' lists with the same list_id never share a flag or a review decision
        for f in &mut out.flags {
            f.flag_id = flag_id(&f.flag_id, &f.hospital_code);
        }
        progress("审核", lists.len() as u64, lists.len() as u64);
        // review: confirmed flags with a payment consequence become deductions of the clearing
        let review_flags: Vec<casemix_audit::ReviewFlag> = out.flags.iter().map(casemix_audit::ReviewFlag::from).collect();
        let reviewed = casemix_audit::review(&review_flags, decisions);
        let deductions: Vec<Deduction> = reviewed.deductions.iter().filter_map(settlement_deduction).collect();
        let deductions = &deductions[..];

        let pricer = Pricer::new(&self.policy, &self.rates, &self.hospitals);
        let approved = FxHashSet::default();
        let indicators = BTreeMap::new();
        let months_present: std::collections::BTreeSet<u32> = cases.iter().map(|c| c.month).collect();
        let mut months = Vec::new();
        let mut payment = vec![None::<(Fen, i64, &'static str, &'static str)>; cases.len()];
        for (k, &m) in months_present.iter().enumerate() {
            progress("月度结算", k as u64, months_present.len() as u64);
            let st = settle(
                &SettleInput { pricer: &pricer, hospitals: &self.hospitals, cases: &cases, approved: &approved, deductions: &[], indicators: &indicators },
                Period::Month(m),
            );
            for line in &st.cases {
                payment[line.index] = Some((line.payment(), line.price.points_units, line.price.method.code(), line.price.outlier.code()));
            }
            months.push(st);
        }
        progress("年终清算", 0, 1);
        let mut clearing = settle(
            &SettleInput { pricer: &pricer, hospitals: &self.hospitals, cases: &cases, approved: &approved, deductions, indicators: &indicators },
            Period::Year,
        );
        let all_months: Vec<Settlement> = (1..=12)
            .map(|m| {
                if months_present.contains(&m) {
                    months.iter().find(|s| s.period == Period::Month(m)).cloned().expect("month present")
                } else {
                    settle(
                        &SettleInput { pricer: &pricer, hospitals: &self.hospitals, cases: &cases, approved: &approved, deductions: &[], indicators: &indicators },
                        Period::Month(m),
                    )
                }
            })
            .collect();
        apply_advances(&mut clearing, &all_months);
        progress("年终清算", 1, 1);

        // flags per list
        let mut flags_of: BTreeMap<(&str, &str), (i64, Vec<&'static str>, Fen)> = BTreeMap::new();
        for f in &out.flags {
            let e = flags_of.entry((f.hospital_code.as_str(), f.list_id.as_str())).or_default();
            e.0 += 1;
            if !e.1.contains(&f.rule.key()) {
                e.1.push(f.rule.key());
            }
            e.2 += f.amount;
        }
        let mut rows = Vec::with_capacity(cases.len());
        for (i, l) in lists.iter().enumerate() {
            let Some(ci) = case_of_list[i] else { continue };
            let c = &cases[ci];
            let g = &groups[i];
            let r = self.grouper.group(&l.group_input());
            let status = match (&dips[i], r.outcome) {
                (Some(d), _) if d.is_grouped() => "grouped",
                (Some(_), _) => "ungrouped",
                (None, casemix_grouper::Outcome::Grouped) => "grouped",
                (None, casemix_grouper::Outcome::Ambiguous) => "ambiguous",
                (None, _) => "ungrouped",
            };
            // the payment group: the DIP 病种 under a DIP policy, else the DRG
            let (adrg, drg, drg_name) = match &dips[i] {
                Some(d) => (String::new(), d.dip_code.clone(), d.name.clone()),
                None => (g.adrg.clone(), if g.grouped { g.drg.clone() } else { String::new() }, r.drg_name.to_string()),
            };
            let weight_units = c
                .group
                .as_deref()
                .and_then(|code| self.rates.get(code))
                .map(|gi| {
                    // RW × 10^4 = base points ÷ points scale × 10^4; under DIP the same ratio
                    // of the 病种分值 to the scale is the relative weight the dashboard's CMI uses
                    let bp = self.rates.group(gi).base_points;
                    let scale = self.policy.policy.points_scale.0;
                    if scale.is_zero() {
                        0
                    } else {
                        (bp * casemix_pricing::Decimal::from(10_000) / scale).round().to_i64().unwrap_or(0)
                    }
                })
                .unwrap_or(0);
            let (pay, points_units, method, outlier) = payment[ci].unwrap_or((Fen::ZERO, 0, "", ""));
            let code = l.hospital_code.clone().unwrap_or_default();
            let (nflags, rules, amount) = flags_of.get(&(code.as_str(), l.list_id.as_str())).cloned().unwrap_or_default();
            rows.push(CaseRow {
                region: self.region.clone(),
                year: c.year,
                month: c.month,
                list_id: l.list_id.clone(),
                hospital_name: self.hospital(&code).map(|h| h.name.clone()).or_else(|| l.hospital_name.clone()).unwrap_or_default(),
                tier: self.tier_label(&code),
                hospital_code: code,
                department: l.dept.clone().unwrap_or_default(),
                sex: l.sex.map(|s| s.code()).unwrap_or(0),
                age_years: l.age_years.unwrap_or(0),
                admit_date: l.admit_time.map(|t| t.date().to_string()).unwrap_or_default(),
                discharge_date: l.discharge_time.map(|t| t.date().to_string()).unwrap_or_default(),
                los_days: c.los_days,
                leaving_type: l.leaving_type.map(|x| x.code()).unwrap_or(0),
                death: l.leaving_type == Some(LeavingType::Death),
                group_status: status.to_string(),
                mdc: r.mdc.to_string(),
                adrg,
                drg,
                drg_name,
                weight_units,
                points_units,
                method: method.to_string(),
                outlier: outlier.to_string(),
                total_cost_fen: c.total_cost.0,
                selfpay_fen: c.selfpay.0,
                personal_pay_fen: l.personal_pay.map(|f| f.0).unwrap_or(0),
                fund_pay_fen: l.fund_pay.map(|f| f.0).unwrap_or(0),
                payment_fen: pay.0,
                qc_errors: qc_counts[i].0,
                qc_warnings: qc_counts[i].1,
                flags: nflags,
                flag_rules: rules.join(","),
                flag_amount_fen: amount.0,
                low_risk: g.grouped && out.stats.low_risk.contains(&g.drg),
            });
        }
        let flags: Vec<FlagRecord> = out.flags.iter().map(FlagRecord::from).collect();
        let summary = CaseSummary { lists: lists.len(), cases: cases.len(), skipped, flags: flags.len() };
        RunOutput {
            rows,
            flags,
            months: months.iter().map(|s| SettlementRecord::from_settlement(s, year)).collect(),
            clearing: SettlementRecord::from_settlement(&clearing, year),
            summary,
        }
    }
}

/// The flag id of the workbench: `<rule>-<hospital>:<list_id>` from the audit's
/// `<rule>-<list_id>` (hospital codes hold no `:`, so the id is unique per hospital and list).
/// An id that already names a hospital is returned unchanged.
pub fn flag_id(audit_id: &str, hospital_code: &str) -> String {
    match audit_id.split_once('-') {
        Some((rule, rest)) if !audit_id.contains(':') => format!("{rule}-{hospital_code}:{rest}"),
        _ => audit_id.to_string(),
    }
}

/// A confirmed audit deduction as the settlement engine reads it (`note` actions have no
/// payment consequence and never reach it).
fn settlement_deduction(d: &casemix_audit::Deduction) -> Option<Deduction> {
    use casemix_settlement::Action as S;
    let action = match d.action {
        casemix_audit::Action::NotPaid => S::NotPaid,
        casemix_audit::Action::MergeInto => S::MergeInto,
        casemix_audit::Action::Regroup => S::Regroup,
        casemix_audit::Action::Amount => S::Amount,
        casemix_audit::Action::Note => return None,
    };
    Some(Deduction {
        list_id: d.list_id.clone(),
        hospital_code: d.hospital_code.clone(),
        rule: d.rule.key().to_string(),
        action,
        target: d.target.clone(),
        amount: d.amount,
        reason: d.reason.clone(),
    })
}

/// What the yearly run produces.
pub struct RunOutput {
    pub rows: Vec<CaseRow>,
    pub flags: Vec<FlagRecord>,
    pub months: Vec<SettlementRecord>,
    pub clearing: SettlementRecord,
    pub summary: CaseSummary,
}
