//! # casemix-qc — 结算清单前置质控 (settlement-list quality control before grouping)
//!
//! [`Qc`] checks settlement lists against a table of rules ([`RULES`], 169 rules in 15
//! categories): completeness, value domains, code validity against the scheme's dictionaries and
//! version maps, principal-diagnosis restrictions, sex and age conflicts, newborn data, dates and
//! LOS, leaving type, ICU/ventilator hours, fee and payment arithmetic, duplicates and overlapping
//! stays, ICD combination rules. Code classes come from the crate's data file
//! `data/code_classes.tsv`; thresholds from [`QcConfig`]. Pure: no I/O.
//!
//! Severity `错误` blocks grouping and payment, `警告` is reported. [`summarize`] gives counts by
//! rule and by hospital with the first-page pass rate (share of lists without errors).

pub mod classes;
pub mod config;
pub mod rules;
mod summary;

pub use classes::{Class, ClassTable};
pub use config::QcConfig;
pub use rules::{Category, Rule, RuleDef, Severity, RULES};
pub use summary::{summarize, HospitalSummary, RuleSummary, Summary};

use casemix_grouper::Dictionaries;
use casemix_model::{
    AdmitRoute, FeeKind, Fen, InsuranceType, LeavingType, PaymentMethod, Poa, ReadmitPlan, SettlementList, Sex,
};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use rustc_hash::FxHashMap;

/// One rule firing on one list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Position of the list in the checked slice.
    pub index: usize,
    pub rule: Rule,
    /// The offending value as text.
    pub value: String,
    /// Extra detail for the message (expected value, related code or list …).
    pub detail: String,
}

impl Finding {
    pub fn def(&self) -> &'static RuleDef {
        self.rule.def()
    }
    pub fn severity(&self) -> Severity {
        self.def().severity
    }
    /// Chinese message naming the field and the value.
    pub fn message(&self) -> String {
        self.def().render(&self.value, &self.detail)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Unknown,
    Known,
    /// A clinical-version code that the version map sends to an insurance-version code.
    Clinical,
}

#[derive(Debug, Clone)]
struct CodeInfo {
    status: Status,
    suggest: Box<str>,
    mask: u64,
}

/// The quality-control engine: rule logic plus the compiled code dictionaries. Immutable, `Sync`.
pub struct Qc {
    cfg: QcConfig,
    classes: ClassTable,
    dx: FxHashMap<Box<str>, CodeInfo>,
    px: FxHashMap<Box<str>, CodeInfo>,
}

fn build(
    names: &FxHashMap<Box<str>, Box<str>>,
    map: &FxHashMap<Box<str>, Box<str>>,
    mask: impl Fn(&str) -> u64,
) -> FxHashMap<Box<str>, CodeInfo> {
    let mut out: FxHashMap<Box<str>, CodeInfo> = FxHashMap::default();
    out.reserve(names.len() + map.len());
    for code in names.keys() {
        out.insert(code.clone(), CodeInfo { status: Status::Known, suggest: "".into(), mask: mask(code) });
    }
    for (from, to) in map {
        if out.contains_key(from) {
            continue;
        }
        let (status, suggest) = if to.is_empty() {
            (Status::Known, "".into()) // maps to itself: valid in the insurance version
        } else if &**to == "-" {
            continue; // dropped by the map: not a valid code
        } else {
            (Status::Clinical, to.clone())
        };
        out.insert(from.clone(), CodeInfo { status, suggest, mask: mask(from) });
    }
    out
}

fn dx_format_ok(c: &str) -> bool {
    let b = c.as_bytes();
    b.len() >= 3
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_digit()
        && (b[2].is_ascii_digit() || b[2].is_ascii_uppercase())
        && b[3..].iter().all(|&x| x.is_ascii_alphanumeric() || matches!(x, b'.' | b'+' | b'*' | b'-'))
}

fn px_format_ok(c: &str) -> bool {
    let b = c.as_bytes();
    b.len() >= 2
        && b[0].is_ascii_digit()
        && b[1].is_ascii_digit()
        && b[2..].iter().all(|&x| x.is_ascii_alphanumeric() || x == b'.')
}

/// `XNN.9…`: an unspecified fourth character (ICD-10 `.9` = 未特指).
fn is_unspecified(c: &str) -> bool {
    let b = c.as_bytes();
    b.len() >= 5 && b[3] == b'.' && b[4] == b'9'
}
fn is_specified(c: &str) -> bool {
    let b = c.as_bytes();
    b.len() >= 5 && b[3] == b'.' && b[4].is_ascii_digit() && b[4] != b'9'
}

fn age_at(birth: NaiveDate, at: NaiveDate) -> i64 {
    let mut y = at.year() as i64 - birth.year() as i64;
    if (at.month(), at.day()) < (birth.month(), birth.day()) {
        y -= 1;
    }
    y
}

fn fmt_dt(d: &NaiveDateTime) -> String {
    casemix_model::settlement::format_datetime(d)
}

fn fen_text(v: i128) -> String {
    match i64::try_from(v) {
        Ok(x) => Fen(x).to_string(),
        Err(_) => v.to_string(),
    }
}

fn centi_text(v: i64) -> String {
    casemix_model::Centi(v).to_string()
}

struct Out<'a> {
    index: usize,
    out: &'a mut Vec<Finding>,
}

impl Out<'_> {
    #[inline]
    fn push(&mut self, rule: Rule, value: impl Into<String>, detail: impl Into<String>) {
        self.out.push(Finding { index: self.index, rule, value: value.into(), detail: detail.into() });
    }
}

impl Qc {
    /// Compiles the engine from a scheme's dictionaries (diagnosis/procedure names = valid
    /// insurance-version codes; version maps = clinical → insurance codes).
    pub fn new(dicts: &Dictionaries, cfg: QcConfig) -> Qc {
        let classes = ClassTable::builtin();
        let dx = build(&dicts.diagnosis_names, &dicts.diagnosis_map, |c| classes.dx_mask(c));
        let px = build(&dicts.procedure_names, &dicts.procedure_map, |c| classes.px_mask(c));
        Qc { cfg, classes, dx, px }
    }

    pub fn config(&self) -> &QcConfig {
        &self.cfg
    }

    fn dx_info(&self, code: &str) -> (Status, u64) {
        match self.dx.get(code) {
            Some(i) => (i.status, i.mask),
            None => (Status::Unknown, self.classes.dx_mask(code)),
        }
    }
    fn px_info(&self, code: &str) -> (Status, u64) {
        match self.px.get(code) {
            Some(i) => (i.status, i.mask),
            None => (Status::Unknown, self.classes.px_mask(code)),
        }
    }
    fn first_dx<'l>(&self, l: &'l SettlementList, class: Class) -> &'l str {
        l.diagnoses.iter().find(|c| self.dx_info(c).1 & class.bit() != 0).map(|s| s.as_str()).unwrap_or("")
    }
    fn first_px<'l>(&self, l: &'l SettlementList, class: Class) -> &'l str {
        l.procedures.iter().find(|c| self.px_info(c).1 & class.bit() != 0).map(|s| s.as_str()).unwrap_or("")
    }

    /// All rules on all lists: per-list rules, then the batch rules (duplicates, overlaps).
    /// Findings are ordered by list index, then rule.
    pub fn check_all(&self, lists: &[SettlementList]) -> Vec<Finding> {
        let mut out = Vec::new();
        for (i, l) in lists.iter().enumerate() {
            self.check_list(i, l, &mut out);
        }
        self.check_batch(lists, &mut out);
        out.sort_by_key(|f| (f.index, f.rule));
        out
    }

    /// The per-list rules on one list; `index` is stored in the findings.
    pub fn check_list(&self, index: usize, l: &SettlementList, out: &mut Vec<Finding>) {
        let mut o = Out { index, out };
        let cfg = &self.cfg;

        // ---- completeness ----
        if l.list_id.trim().is_empty() {
            o.push(Rule::ReqListId, "", "");
        } else if l.list_id.len() > 64 || l.list_id.chars().any(|c| c.is_whitespace() || c.is_control()) {
            o.push(Rule::DomListIdFormat, l.list_id.clone(), "");
        }
        if l.hospital_code.is_none() {
            o.push(Rule::ReqHospitalCode, "", "");
        }
        if l.hospital_name.is_none() {
            o.push(Rule::ReqHospitalName, "", "");
        }
        if l.insured_id.is_none() {
            o.push(Rule::ReqInsuredId, "", "");
        }
        if l.record_no.is_none() {
            o.push(Rule::ReqRecordNo, "", "");
        }
        match l.insurance_type {
            None => o.push(Rule::ReqInsuranceType, "", ""),
            Some(InsuranceType::Invalid(c)) => o.push(Rule::DomInsuranceType, c.to_string(), ""),
            _ => {}
        }
        let sex = l.sex;
        match sex {
            None => o.push(Rule::ReqSex, "", ""),
            Some(Sex::Male) | Some(Sex::Female) => {}
            Some(s) => o.push(Rule::DomSex, s.code().to_string(), ""),
        }
        if l.birth_date.is_none() {
            o.push(Rule::ReqBirthDate, "", "");
        }
        let ay = l.age_years;
        let ad = l.age_days;
        match (ay, ad) {
            (None, None) => o.push(Rule::ReqAge, "", ""),
            (Some(0), None) => o.push(Rule::ReqAgeDays, "", ""),
            _ => {}
        }
        if let Some(y) = ay {
            if y < 0 || y > cfg.max_age_years {
                o.push(Rule::DomAgeYears, y.to_string(), cfg.max_age_years.to_string());
            } else if y > cfg.warn_age_years {
                o.push(Rule::DomAgeOld, y.to_string(), cfg.warn_age_years.to_string());
            }
        }
        if let Some(d) = ad {
            if d < 0 || (d > 365 && !matches!(ay, Some(y) if y >= 1)) {
                o.push(Rule::DomAgeDays, d.to_string(), "");
            }
        }
        let (admit, discharge) = (l.admit_time, l.discharge_time);
        if admit.is_none() {
            o.push(Rule::ReqAdmitTime, "", "");
        }
        if discharge.is_none() {
            o.push(Rule::ReqDischargeTime, "", "");
        }
        match l.los_days {
            None => o.push(Rule::ReqLos, "", ""),
            Some(d) if d < 0 => o.push(Rule::DomLosNegative, d.to_string(), ""),
            Some(0) => o.push(Rule::DomLosZero, "0", ""),
            Some(d) if d > cfg.max_plausible_los => o.push(Rule::DateLosImplausible, d.to_string(), cfg.max_plausible_los.to_string()),
            _ => {}
        }
        match l.admit_route {
            None => o.push(Rule::ReqAdmitRoute, "", ""),
            Some(AdmitRoute::Invalid(c)) => o.push(Rule::DomAdmitRoute, c.to_string(), ""),
            _ => {}
        }
        if l.admit_dept.is_none() {
            o.push(Rule::ReqAdmitDept, "", "");
        }
        if l.dept.is_none() {
            o.push(Rule::ReqDept, "", "");
        }
        match l.leaving_type {
            None => o.push(Rule::ReqLeavingType, "", ""),
            Some(LeavingType::Invalid(c)) => o.push(Rule::DomLeavingType, c.to_string(), ""),
            Some(LeavingType::Other) => o.push(Rule::LeaveOther, "9", ""),
            _ => {}
        }
        match l.readmit_plan_31d {
            None => o.push(Rule::ReqReadmitPlan, "", ""),
            Some(ReadmitPlan::Invalid(c)) => o.push(Rule::DomReadmitPlan, c.to_string(), ""),
            _ => {}
        }
        match l.payment_method {
            None => o.push(Rule::ReqPaymentMethod, "", ""),
            Some(PaymentMethod::Invalid(c)) => o.push(Rule::DomPaymentMethod, c.to_string(), ""),
            _ => {}
        }

        // ---- diagnoses: validity, classes ----
        let dxs = &l.diagnoses;
        let mut any_dx = 0u64;
        let mut sec_dx = 0u64;
        let mut pdx = 0u64;
        if dxs.is_empty() {
            o.push(Rule::ReqDiagnoses, "", "");
        }
        for (i, c) in dxs.iter().enumerate() {
            if c.is_empty() {
                o.push(Rule::DxEmptyItem, (i + 1).to_string(), "");
                continue;
            }
            let principal = i == 0;
            if !dx_format_ok(c) {
                o.push(if principal { Rule::DxPrincipalFormat } else { Rule::DxSecondaryFormat }, c.clone(), "");
                continue;
            }
            let (st, m) = match self.dx.get(c.as_str()) {
                Some(info) => {
                    if info.status == Status::Clinical {
                        let r = if principal { Rule::DxPrincipalClinical } else { Rule::DxSecondaryClinical };
                        o.push(r, c.clone(), info.suggest.to_string());
                    }
                    (info.status, info.mask)
                }
                None => {
                    o.push(if principal { Rule::DxPrincipalUnknown } else { Rule::DxSecondaryUnknown }, c.clone(), "");
                    (Status::Unknown, self.classes.dx_mask(c))
                }
            };
            let _ = st;
            any_dx |= m;
            if principal {
                pdx = m;
            } else {
                sec_dx |= m;
                if *c == dxs[0] {
                    o.push(Rule::DxSameAsPrincipal, c.clone(), "");
                } else if dxs[1..i].iter().any(|p| p == c) {
                    o.push(Rule::DxDuplicate, c.clone(), "");
                }
            }
        }
        // POA
        if l.diagnosis_poa.len() > dxs.len() {
            o.push(Rule::DomPoaCount, l.diagnosis_poa.len().to_string(), dxs.len().to_string());
        }
        for p in l.diagnosis_poa.iter().flatten() {
            if let Poa::Invalid(c) = p {
                o.push(Rule::DomPoa, c.to_string(), "");
            }
        }
        if let Some(p0) = dxs.first().filter(|c| !c.is_empty()) {
            match l.diagnosis_poa.first().copied().flatten() {
                None => o.push(Rule::ReqPrincipalPoa, p0.clone(), ""),
                Some(Poa::No) => o.push(Rule::PdxNotPresentOnAdmission, p0.clone(), ""),
                _ => {}
            }
        }

        // ---- procedures ----
        let pxs = &l.procedures;
        let mut any_px = 0u64;
        for (i, c) in pxs.iter().enumerate() {
            if c.is_empty() {
                o.push(Rule::PxEmptyItem, (i + 1).to_string(), "");
                continue;
            }
            let principal = i == 0;
            if !px_format_ok(c) {
                o.push(if principal { Rule::PxPrincipalFormat } else { Rule::PxSecondaryFormat }, c.clone(), "");
                continue;
            }
            match self.px.get(c.as_str()) {
                Some(info) => {
                    if info.status == Status::Clinical {
                        let r = if principal { Rule::PxPrincipalClinical } else { Rule::PxSecondaryClinical };
                        o.push(r, c.clone(), info.suggest.to_string());
                    }
                    any_px |= info.mask;
                }
                None => {
                    o.push(if principal { Rule::PxPrincipalUnknown } else { Rule::PxSecondaryUnknown }, c.clone(), "");
                    any_px |= self.classes.px_mask(c);
                }
            }
            let date = l.procedure_dates.get(i).copied().flatten();
            if date.is_none() {
                o.push(Rule::ReqProcedureDate, c.clone(), "");
            }
            if (0..i).any(|j| pxs[j] == *c && l.procedure_dates.get(j).copied().flatten() == date) {
                o.push(Rule::PxDuplicate, c.clone(), "");
            }
        }
        if l.procedure_dates.len() > pxs.len() {
            o.push(Rule::DomProcDateCount, l.procedure_dates.len().to_string(), pxs.len().to_string());
        }

        // ---- principal diagnosis restrictions ----
        if let Some(p0) = dxs.first().filter(|c| !c.is_empty()) {
            let has = |c: Class| pdx & c.bit() != 0;
            if has(Class::ExternalCause) {
                o.push(Rule::PdxExternalCause, p0.clone(), "");
            }
            if (p0.ends_with('*') || has(Class::Asterisk)) && !p0.contains('+') {
                o.push(Rule::PdxAsterisk, p0.clone(), "");
            }
            if has(Class::DeliveryOutcome) {
                o.push(Rule::PdxOutcomeOfDelivery, p0.clone(), "");
            }
            if has(Class::FamilyHistory) {
                o.push(Rule::PdxFamilyHistory, p0.clone(), "");
            }
            if has(Class::PersonalHistory) {
                o.push(Rule::PdxPersonalHistory, p0.clone(), "");
            }
            if has(Class::Status) {
                o.push(Rule::PdxStatus, p0.clone(), "");
            }
            if has(Class::Psychosocial) {
                o.push(Rule::PdxPsychosocial, p0.clone(), "");
            }
            if has(Class::PregnantIncidental) {
                o.push(Rule::PdxPregnantIncidental, p0.clone(), "");
            }
            if has(Class::Symptom) {
                if let Some(def) = dxs[1..].iter().find(|c| c.as_bytes().first().is_some_and(|b| (b'A'..=b'Q').contains(b))) {
                    o.push(Rule::PdxSymptomWithDefinite, p0.clone(), def.clone());
                }
            }
            if has(Class::IllDefinedDeath) {
                o.push(Rule::PdxIllDefinedDeath, p0.clone(), "");
            }
            if has(Class::Sequela) {
                o.push(Rule::PdxSequela, p0.clone(), "");
            }
            if has(Class::ChemoRadio) && sec_dx & Class::Neoplasm.bit() == 0 {
                o.push(Rule::PdxChemoWithoutNeoplasm, p0.clone(), "");
            }
            if has(Class::Injury) && sec_dx & Class::ExternalCause.bit() == 0 {
                o.push(Rule::IcdInjuryWithoutCause, p0.clone(), "");
            }
        }

        // ---- sex conflicts ----
        let dx_has = |c: Class| any_dx & c.bit() != 0;
        let px_has = |c: Class| any_px & c.bit() != 0;
        match sex {
            Some(Sex::Male) => {
                for (class, rule) in [
                    (Class::Obstetric, Rule::SexMaleObstetric),
                    (Class::PregnancyZ, Rule::SexMalePregnancyZ),
                    (Class::FemaleGenital, Rule::SexMaleFemaleGenital),
                    (Class::FemaleNeoplasm, Rule::SexMaleFemaleNeoplasm),
                    (Class::FemaleOther, Rule::SexMaleFemaleOther),
                ] {
                    if dx_has(class) {
                        o.push(rule, "1", self.first_dx(l, class));
                    }
                }
                if px_has(Class::FemalePx) {
                    o.push(Rule::SexMaleGynProcedure, "1", self.first_px(l, Class::FemalePx));
                }
                if px_has(Class::ObstetricPx) {
                    o.push(Rule::SexMaleObstetricProcedure, "1", self.first_px(l, Class::ObstetricPx));
                }
            }
            Some(Sex::Female) => {
                for (class, rule) in [
                    (Class::MaleGenital, Rule::SexFemaleMaleGenital),
                    (Class::MaleNeoplasm, Rule::SexFemaleMaleNeoplasm),
                    (Class::MaleOther, Rule::SexFemaleMaleOther),
                ] {
                    if dx_has(class) {
                        o.push(rule, "2", self.first_dx(l, class));
                    }
                }
                if px_has(Class::MalePx) {
                    o.push(Rule::SexFemaleMaleProcedure, "2", self.first_px(l, Class::MalePx));
                }
            }
            _ => {}
        }

        // ---- age conflicts ----
        let newborn_days = cfg.newborn_days;
        let under_one = matches!(ay, None | Some(0));
        let is_newborn = under_one && ad.is_some_and(|d| (0..=newborn_days).contains(&d));
        if let Some(y) = ay {
            if y >= 1 && dx_has(Class::Perinatal) {
                o.push(Rule::AgePerinatal, y.to_string(), self.first_dx(l, Class::Perinatal));
            }
            let fertile = (cfg.obstetric_min_age..=cfg.obstetric_max_age).contains(&y);
            if !fertile {
                if dx_has(Class::Obstetric) {
                    o.push(Rule::AgeObstetric, y.to_string(), self.first_dx(l, Class::Obstetric));
                }
                if px_has(Class::ObstetricPx) {
                    o.push(Rule::AgeObstetricProcedure, y.to_string(), self.first_px(l, Class::ObstetricPx));
                }
                if dx_has(Class::PregnancyZ) {
                    o.push(Rule::AgePregnancyZ, y.to_string(), self.first_dx(l, Class::PregnancyZ));
                }
            }
            if y < cfg.senility_min_age && dx_has(Class::Senility) {
                o.push(Rule::AgeSenility, y.to_string(), self.first_dx(l, Class::Senility));
            }
            if y < cfg.menopause_min_age && dx_has(Class::Menopause) {
                o.push(Rule::AgeMenopause, y.to_string(), self.first_dx(l, Class::Menopause));
            }
            if y < cfg.bph_min_age && dx_has(Class::ProstateHyperplasia) {
                o.push(Rule::AgeProstateHyperplasia, y.to_string(), self.first_dx(l, Class::ProstateHyperplasia));
            }
            if y >= 1 {
                if let Some(d) = ad.filter(|d| *d < 365) {
                    o.push(Rule::AgeDaysWithYears, d.to_string(), y.to_string());
                }
            }
        }
        if under_one {
            if let Some(d) = ad.filter(|d| *d > newborn_days && *d <= 365) {
                if pdx & Class::Perinatal.bit() != 0 {
                    o.push(Rule::AgePerinatalPrincipalLate, d.to_string(), dxs[0].clone());
                }
            }
        }
        if dx_has(Class::Liveborn) && (ay.is_some_and(|y| y >= 1) || (under_one && ad.is_some_and(|d| d > newborn_days))) {
            let v = format!("{}岁{}天", ay.map(|y| y.to_string()).unwrap_or_default(), ad.map(|d| d.to_string()).unwrap_or_default());
            o.push(Rule::AgeLiveborn, v, self.first_dx(l, Class::Liveborn));
        }
        if let (Some(b), Some(a)) = (l.birth_date, admit) {
            if b > a.date() {
                o.push(Rule::DateAdmitBeforeBirth, b.format("%Y-%m-%d").to_string(), fmt_dt(&a));
            } else {
                if let Some(y) = ay {
                    let at_admit = age_at(b, a.date());
                    let at_dis = discharge.map(|d| age_at(b, d.date())).unwrap_or(at_admit);
                    if y != at_admit && y != at_dis {
                        o.push(Rule::AgeVsBirthDate, y.to_string(), at_admit.to_string());
                    }
                }
                if let Some(d) = ad.filter(|_| under_one) {
                    let days = (a.date() - b).num_days();
                    if (d - days).abs() > 1 {
                        o.push(Rule::AgeDaysVsBirthDate, d.to_string(), days.to_string());
                    }
                }
            }
        }

        // ---- newborn ----
        let bw = l.birth_weight_g;
        let aw = l.admit_weight_g;
        if is_newborn {
            let d = ad.unwrap_or(0).to_string();
            if bw.is_none() {
                o.push(Rule::NbBirthWeightMissing, d.clone(), "");
            }
            if aw.is_none() {
                o.push(Rule::NbAdmitWeightMissing, d, "");
            }
        }
        if let Some(w) = bw {
            let valid = (cfg.birth_weight_min_g..=cfg.birth_weight_max_g).contains(&w);
            if !valid {
                o.push(Rule::DomBirthWeight, w.to_string(), format!("{}–{} 克", cfg.birth_weight_min_g, cfg.birth_weight_max_g));
            } else {
                if !(cfg.birth_weight_usual_min_g..=cfg.birth_weight_usual_max_g).contains(&w) {
                    o.push(
                        Rule::NbBirthWeightImplausible,
                        w.to_string(),
                        format!("{}–{} 克", cfg.birth_weight_usual_min_g, cfg.birth_weight_usual_max_g),
                    );
                }
                if dx_has(Class::LbwExtreme) && w >= 1000 {
                    o.push(Rule::NbExtremeLbwWeight, w.to_string(), self.first_dx(l, Class::LbwExtreme));
                }
                if dx_has(Class::LbwOther) && !(1000..2500).contains(&w) {
                    o.push(Rule::NbOtherLbwWeight, w.to_string(), self.first_dx(l, Class::LbwOther));
                }
                if dx_has(Class::LargeBaby) && w < 4500 {
                    o.push(Rule::NbLargeBabyWeight, w.to_string(), self.first_dx(l, Class::LargeBaby));
                }
                if is_newborn && w < 2500 && !dx_has(Class::LbwAny) {
                    o.push(Rule::NbLbwUncoded, w.to_string(), "");
                }
            }
            if let Some(y) = ay.filter(|y| *y >= 1) {
                o.push(Rule::NbBirthWeightNotNewborn, w.to_string(), y.to_string());
            }
        }
        if let Some(w) = aw {
            if !(cfg.admit_weight_min_g..=cfg.admit_weight_max_g).contains(&w) {
                o.push(Rule::DomAdmitWeight, w.to_string(), format!("{}–{} 克", cfg.admit_weight_min_g, cfg.admit_weight_max_g));
            } else if let Some(b) = bw.filter(|b| *b > 0) {
                let (lo, hi) = (b.saturating_mul(cfg.admit_weight_ratio_lo_pct) / 100, b.saturating_mul(cfg.admit_weight_ratio_hi_pct) / 100);
                if w < lo || w > hi {
                    o.push(Rule::NbAdmitWeightRatio, w.to_string(), b.to_string());
                }
            }
        }

        // ---- dates & LOS ----
        let mut stay_centi: Option<i64> = None;
        if let (Some(a), Some(d)) = (admit, discharge) {
            if d < a {
                o.push(Rule::DateDischargeBeforeAdmit, fmt_dt(&d), fmt_dt(&a));
            } else {
                if d == a {
                    o.push(Rule::DateSameInstant, fmt_dt(&d), "");
                }
                let expect = (d.date() - a.date()).num_days().max(1);
                if let Some(los) = l.los_days.filter(|x| *x > 0) {
                    if los != expect {
                        o.push(Rule::DateLosMismatch, los.to_string(), expect.to_string());
                    }
                }
                let minutes = (d - a).num_minutes();
                let by_time = (minutes.saturating_mul(100) + 59) / 60;
                let by_days = l.los_days.unwrap_or(expect).max(expect).saturating_mul(2400);
                stay_centi = Some(by_time.max(by_days));
            }
            for (i, pd) in l.procedure_dates.iter().enumerate() {
                let Some(pd) = pd else { continue };
                if i >= pxs.len() {
                    break;
                }
                if pd.date() < a.date() {
                    o.push(Rule::DateProcedureBeforeAdmit, fmt_dt(pd), a.date().format("%Y-%m-%d").to_string());
                } else if pd.date() > d.date() && d >= a {
                    o.push(Rule::DateProcedureAfterDischarge, fmt_dt(pd), d.date().format("%Y-%m-%d").to_string());
                }
            }
        }
        if let Some(a) = admit {
            if a.year() < cfg.min_admit_year {
                o.push(Rule::DateAdmitTooEarly, fmt_dt(&a), cfg.min_admit_year.to_string());
            }
        }

        // ---- leaving type ----
        let lt = l.leaving_type;
        if let Some(t) = lt.filter(|t| t.is_valid() && *t != LeavingType::Death) {
            if dx_has(Class::Death) {
                o.push(Rule::LeaveDeathCodeNotDead, t.code().to_string(), self.first_dx(l, Class::Death));
            }
        }
        if lt == Some(LeavingType::Death) {
            if l.readmit_plan_31d == Some(ReadmitPlan::Yes) {
                o.push(Rule::LeaveDeadWithPlan, "2", "");
            }
            if pdx & Class::Examination.bit() != 0 {
                o.push(Rule::LeaveDeadExamination, "5", dxs[0].clone());
            }
        }

        // ---- ICU / ventilator ----
        if let Some(h) = l.icu_hours {
            if h.0 < 0 {
                o.push(Rule::DomIcuNegative, h.to_string(), "");
            } else if let Some(cap) = stay_centi.filter(|c| h.0 > *c) {
                o.push(Rule::IcuBeyondStay, h.to_string(), centi_text(cap));
            }
        }
        let vent = l.vent_hours;
        if let Some(h) = vent {
            if h.0 < 0 {
                o.push(Rule::DomVentNegative, h.to_string(), "");
            } else {
                if let Some(cap) = stay_centi.filter(|c| h.0 > *c) {
                    o.push(Rule::VentBeyondStay, h.to_string(), centi_text(cap));
                }
                if h.0 > 0 && !px_has(Class::VentAnyPx) {
                    o.push(Rule::VentWithoutProcedure, h.to_string(), "");
                }
            }
        }
        if px_has(Class::VentAnyPx) {
            let v = vent.map(|h| h.0).unwrap_or(0);
            if v <= 0 {
                o.push(Rule::VentProcedureWithoutHours, vent.map(|h| h.to_string()).unwrap_or_default(), self.first_px(l, Class::VentAnyPx));
            } else {
                if px_has(Class::VentLongPx) && v < 9600 {
                    o.push(Rule::VentLongCodeShortHours, centi_text(v), self.first_px(l, Class::VentLongPx));
                }
                if px_has(Class::VentShortPx) && v >= 9600 {
                    o.push(Rule::VentShortCodeLongHours, centi_text(v), self.first_px(l, Class::VentShortPx));
                }
            }
        }

        // ---- coding combinations ----
        if dx_has(Class::Delivery) && !dx_has(Class::DeliveryOutcome) {
            o.push(Rule::IcdDeliveryWithoutOutcome, self.first_dx(l, Class::Delivery), "");
        }
        if dx_has(Class::DeliveryOutcome) && !dx_has(Class::Obstetric) {
            o.push(Rule::IcdOutcomeWithoutObstetric, self.first_dx(l, Class::DeliveryOutcome), "");
        }
        if dx_has(Class::DiabetesT1) && dx_has(Class::DiabetesT2) {
            o.push(Rule::IcdDiabetesBothTypes, self.first_dx(l, Class::DiabetesT1), self.first_dx(l, Class::DiabetesT2));
        }
        if dx_has(Class::Hiv) && dx_has(Class::HivAsymptomatic) {
            o.push(Rule::IcdHivWithAsymptomatic, self.first_dx(l, Class::Hiv), self.first_dx(l, Class::HivAsymptomatic));
        }
        if dxs.len() > 1 {
            'outer: for u in dxs.iter().filter(|c| is_unspecified(c)) {
                for s in dxs.iter().filter(|c| is_specified(c)) {
                    if s.as_bytes()[..3] == u.as_bytes()[..3] {
                        o.push(Rule::IcdUnspecifiedWithSpecific, u.clone(), s.clone());
                        break 'outer;
                    }
                }
            }
        }
        if px_has(Class::CaesareanPx) && dx_has(Class::SpontaneousDelivery) {
            o.push(Rule::IcdCaesareanWithSpontaneous, self.first_px(l, Class::CaesareanPx), self.first_dx(l, Class::SpontaneousDelivery));
        }
        if dx_has(Class::SpontaneousDelivery) && dx_has(Class::CaesareanDelivery) {
            o.push(Rule::IcdSpontaneousAndCaesarean, self.first_dx(l, Class::SpontaneousDelivery), self.first_dx(l, Class::CaesareanDelivery));
        }
        if px_has(Class::ObstetricPx) && !dx_has(Class::Obstetric) {
            o.push(Rule::IcdObstetricProcedureWithoutDx, self.first_px(l, Class::ObstetricPx), "");
        }

        // ---- fees ----
        const NEG: [Rule; 14] = [
            Rule::FeeBedNegative,
            Rule::FeeConsultNegative,
            Rule::FeeExamNegative,
            Rule::FeeLabNegative,
            Rule::FeeTreatmentNegative,
            Rule::FeeSurgeryNegative,
            Rule::FeeNursingNegative,
            Rule::FeeMaterialNegative,
            Rule::FeeWesternDrugNegative,
            Rule::FeeHerbalNegative,
            Rule::FeePatentTcmNegative,
            Rule::FeeGeneralNegative,
            Rule::FeeRegistrationNegative,
            Rule::FeeOtherNegative,
        ];
        let mut fee_sum: i128 = 0;
        let mut any_fee = false;
        for (k, f) in l.fees.iter().enumerate() {
            if let Some(f) = f {
                any_fee = true;
                fee_sum += f.0 as i128;
                if f.0 < 0 {
                    o.push(NEG[k], f.to_string(), "");
                }
            }
        }
        if !any_fee {
            o.push(Rule::ReqFees, "", "");
        }
        let total = l.total_cost;
        match total {
            None => o.push(Rule::ReqTotalCost, "", ""),
            Some(t) => {
                if t.0 < 0 {
                    o.push(Rule::FeeTotalNegative, t.to_string(), "");
                } else if t.0 == 0 {
                    o.push(Rule::FeeTotalZero, t.to_string(), "");
                }
                if any_fee && fee_sum != t.0 as i128 {
                    o.push(Rule::FeeSumMismatch, t.to_string(), fen_text(fee_sum));
                }
                let los = l.los_days.filter(|d| *d > 0).unwrap_or(1) as i128;
                if t.0 > 0 && (t.0 as i128) > (cfg.max_daily_cost_yuan as i128) * 100 * los {
                    o.push(Rule::FeeDailyImplausible, t.to_string(), cfg.max_daily_cost_yuan.to_string());
                }
                if (t.0 as i128) > (cfg.max_total_cost_yuan as i128) * 100 {
                    o.push(Rule::FeeTotalImplausible, t.to_string(), cfg.max_total_cost_yuan.to_string());
                }
            }
        }
        let surgery = l.fees[FeeKind::Surgery.index()];
        if let Some(s) = surgery.filter(|s| s.0 > 0) {
            if pxs.is_empty() {
                o.push(Rule::FeeSurgeryWithoutProcedure, s.to_string(), "");
            }
        }
        if let Some(los) = l.los_days.filter(|d| *d >= cfg.bed_fee_min_los) {
            if any_fee {
                let bed = l.fees[FeeKind::Bed.index()].unwrap_or(Fen::ZERO);
                if bed.0 == 0 {
                    o.push(Rule::FeeBedZero, bed.to_string(), los.to_string());
                }
                let nursing = l.fees[FeeKind::Nursing.index()].unwrap_or(Fen::ZERO);
                if nursing.0 == 0 {
                    o.push(Rule::FeeNursingZero, nursing.to_string(), los.to_string());
                }
            }
        }

        // ---- payments ----
        if l.fund_pay.is_none() {
            o.push(Rule::ReqFundPay, "", "");
        }
        if l.personal_pay.is_none() {
            o.push(Rule::ReqPersonalPay, "", "");
        }
        for (v, r) in [
            (l.fund_pay, Rule::PayFundNegative),
            (l.supplementary_pay, Rule::PaySupplementaryNegative),
            (l.assistance_pay, Rule::PayAssistanceNegative),
            (l.personal_pay, Rule::PayPersonalNegative),
            (l.selfpay_items, Rule::PaySelfpayNegative),
        ] {
            if let Some(v) = v.filter(|v| v.0 < 0) {
                o.push(r, v.to_string(), "");
            }
        }
        let payers = [l.fund_pay, l.supplementary_pay, l.assistance_pay, l.personal_pay];
        if let Some(t) = total {
            if payers.iter().any(Option::is_some) {
                let s: i128 = payers.iter().flatten().map(|f| f.0 as i128).sum();
                if s != t.0 as i128 {
                    o.push(Rule::PaySumMismatch, t.to_string(), fen_text(s));
                }
            }
            if let Some(f) = l.fund_pay.filter(|f| f.0 > t.0) {
                o.push(Rule::PayFundOverTotal, f.to_string(), t.to_string());
            }
            if let Some(s) = l.selfpay_items.filter(|s| s.0 > t.0) {
                o.push(Rule::FeeSelfpayOverTotal, s.to_string(), t.to_string());
            }
        }
        if let (Some(s), Some(p)) = (l.selfpay_items, l.personal_pay) {
            if s.0 > p.0 {
                o.push(Rule::PaySelfpayOverPersonal, s.to_string(), p.to_string());
            }
        }
    }

    /// The batch rules: duplicate list ids (latest wins), identical stays under different ids,
    /// overlapping stays of one person, one record number for several persons.
    pub fn check_batch(&self, lists: &[SettlementList], out: &mut Vec<Finding>) {
        // DUP-01: every earlier version of a re-submitted list id.
        let mut last: FxHashMap<&str, usize> = FxHashMap::default();
        for (i, l) in lists.iter().enumerate() {
            if l.list_id.is_empty() {
                continue;
            }
            if let Some(prev) = last.insert(l.list_id.as_str(), i) {
                out.push(Finding { index: prev, rule: Rule::DupListId, value: l.list_id.clone(), detail: (i + 1).to_string() });
            }
        }
        let current: Vec<usize> =
            (0..lists.len()).filter(|&i| lists[i].list_id.is_empty() || last.get(lists[i].list_id.as_str()) == Some(&i)).collect();
        // DUP-02 / DUP-03: by person, in admission order.
        let mut stays: Vec<(&str, NaiveDateTime, NaiveDateTime, usize)> = current
            .iter()
            .filter_map(|&i| {
                let l = &lists[i];
                let (a, d) = (l.admit_time?, l.discharge_time?);
                (d >= a).then_some((l.insured_id.as_deref()?, a, d, i))
            })
            .collect();
        stays.sort_unstable();
        let mut s = 0;
        while s < stays.len() {
            let mut e = s + 1;
            while e < stays.len() && stays[e].0 == stays[s].0 {
                e += 1;
            }
            let person = &stays[s..e];
            for j in 1..person.len() {
                let (_, a, d, i) = person[j];
                let l = &lists[i];
                // identical stay at the same hospital earlier in the (sorted) run
                let twin = person[..j].iter().find(|p| p.1 == a && p.2 == d && lists[p.3].hospital_code == l.hospital_code);
                if let Some(t) = twin {
                    out.push(Finding { index: i, rule: Rule::DupIdenticalStay, value: l.list_id.clone(), detail: lists[t.3].list_id.clone() });
                    continue;
                }
                if let Some(p) = person[..j].iter().rev().find(|p| p.2 > a && !(p.1 == a && p.2 == d && lists[p.3].hospital_code == l.hospital_code)) {
                    out.push(Finding {
                        index: i,
                        rule: Rule::DupOverlappingStay,
                        value: l.insured_id.clone().unwrap_or_default(),
                        detail: lists[p.3].list_id.clone(),
                    });
                }
            }
            s = e;
        }
        // DUP-04: one (hospital, record number) for several persons.
        let mut rec: FxHashMap<(&str, &str), (usize, &str)> = FxHashMap::default();
        for &i in &current {
            let l = &lists[i];
            let (Some(h), Some(r), Some(p)) = (l.hospital_code.as_deref(), l.record_no.as_deref(), l.insured_id.as_deref()) else {
                continue;
            };
            match rec.get(&(h, r)) {
                Some(&(first, person)) if person != p => out.push(Finding {
                    index: i,
                    rule: Rule::DupRecordNo,
                    value: r.to_string(),
                    detail: lists[first].list_id.clone(),
                }),
                Some(_) => {}
                None => {
                    rec.insert((h, r), (i, p));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
