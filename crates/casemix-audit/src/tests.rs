use super::*;
use casemix_model::*;

fn dt(s: &str) -> NaiveDateTime {
    casemix_model::settlement::parse_datetime(Field::AdmitTime, s).unwrap()
}

struct B {
    lists: Vec<SettlementList>,
    groups: Vec<CaseGroup>,
    claims: Vec<Claim>,
    charges: Vec<ChargeItem>,
}

impl B {
    fn new() -> B {
        B { lists: vec![], groups: vec![], claims: vec![], charges: vec![] }
    }
    /// One stay: `cost` yuan split 20 % surgery, 10 % material, 70 % drugs.
    #[allow(clippy::too_many_arguments)]
    fn stay(&mut self, id: &str, person: &str, hosp: &str, admit: &str, los: i64, cost: i64, drg: &str) -> usize {
        let a = dt(admit);
        let mut l = SettlementList {
            list_id: id.into(),
            hospital_code: Some(hosp.into()),
            insured_id: Some(person.into()),
            admit_time: Some(a),
            discharge_time: Some(a + Duration::days(los)),
            los_days: Some(los.max(1)),
            admit_route: Some(AdmitRoute::Outpatient),
            leaving_type: Some(LeavingType::OrderDischarge),
            readmit_plan_31d: Some(ReadmitPlan::No),
            diagnoses: vec!["K80.100".into()],
            ..Default::default()
        };
        let c = Fen::from_yuan(cost);
        l.fees[FeeKind::Surgery.index()] = Some(Fen(c.0 * 2 / 10));
        l.fees[FeeKind::Material.index()] = Some(Fen(c.0 / 10));
        l.fees[FeeKind::WesternDrug.index()] = Some(Fen(c.0 - c.0 * 2 / 10 - c.0 / 10));
        l.total_cost = Some(c);
        self.lists.push(l);
        self.groups.push(CaseGroup { grouped: true, adrg: drg[..3].into(), drg: drg.into(), drg_without_cc: None, lifting_dx: Vec::new(), drg_without_lifting: None });
        self.lists.len() - 1
    }
    /// `n` background stays in `drg`, costs base, base+100, … (yuan), LOS 5..=9.
    fn population(&mut self, tag: &str, drg: &str, n: usize, base: i64) {
        for k in 0..n {
            let id = format!("{tag}{k}");
            self.stay(&id, &format!("Q{tag}{k}"), "H9", "2024-01-10", 5 + (k % 5) as i64, base + 100 * k as i64, drg);
        }
    }
    fn run(&self) -> AuditOutput {
        self.run_with(&AuditConfig::default())
    }
    fn run_with(&self, cfg: &AuditConfig) -> AuditOutput {
        let tiers = BTreeMap::new();
        audit(AuditInput { lists: &self.lists, groups: &self.groups, claims: &self.claims, charges: &self.charges, hospital_tiers: &tiers }, cfg)
    }
}

fn flags_of(o: &AuditOutput, rule: AuditRule) -> Vec<&Flag> {
    o.flags.iter().filter(|f| f.rule == rule).collect()
}

#[test]
fn duplicate_submission() {
    let mut b = B::new();
    b.stay("A1", "P1", "H1", "2024-03-01 08:00", 5, 8000, "GB15");
    b.stay("A2", "P1", "H1", "2024-03-01 08:00", 5, 8000, "GB15");
    b.stay("A3", "P1", "H1", "2024-03-01 08:00", 6, 8000, "GB15"); // other discharge: not a copy
    let o = b.run();
    let f = flags_of(&o, AuditRule::DuplicateList);
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].list_id.as_str(), f[0].related_ids.clone(), f[0].score), ("A2", vec!["A1".to_string()], 100));
    assert_eq!(f[0].action, Action::NotPaid);
    assert_eq!(f[0].amount, Fen(800_000));
}

#[test]
fn split_admission_and_unplanned_readmission() {
    let mut b = B::new();
    b.stay("S1", "P1", "H1", "2024-03-01", 5, 8000, "GB15"); // discharged 03-06
    b.stay("S2", "P1", "H1", "2024-03-11", 4, 7000, "GB13"); // 5 days later, same ADRG GB1
    // transfer out: not a split
    let t = b.stay("T1", "P2", "H1", "2024-03-01", 5, 8000, "GB15");
    b.lists[t].leaving_type = Some(LeavingType::OrderTransfer);
    b.stay("T2", "P2", "H1", "2024-03-11", 4, 7000, "GB15");
    // 20 days later: readmission within 31 days, not a split
    b.stay("R1", "P3", "H1", "2024-03-01", 5, 8000, "GB15");
    b.stay("R2", "P3", "H1", "2024-03-26", 4, 7000, "GB15");
    let o = b.run();
    let s = flags_of(&o, AuditRule::SplitAdmission);
    assert_eq!(s.len(), 1, "{s:?}");
    assert_eq!((s[0].list_id.as_str(), s[0].target.as_str()), ("S2", "S1"));
    assert_eq!(s[0].evidence_json["gap_days"], 5);
    // score: 60 + 25 × (1 − 5/16) = 77.19 → no same-DRG bonus, same principal category +5 → 82
    assert_eq!(s[0].score, 82);
    let mut r: Vec<&str> = flags_of(&o, AuditRule::UnplannedReadmission).iter().map(|f| f.list_id.as_str()).collect();
    r.sort();
    assert_eq!(r, vec!["R2", "S2", "T2"]);
}

#[test]
fn cost_shifting_needs_a_large_claim_in_the_window() {
    let mut b = B::new();
    b.population("p", "FB15", 40, 10_000); // 10,000 … 13,900 yuan
    b.stay("C1", "P1", "H1", "2024-03-10", 5, 6000, "FB15");
    b.stay("C2", "P2", "H1", "2024-03-10", 5, 6000, "FB15");
    b.stay("C3", "P3", "H1", "2024-03-10", 5, 12_000, "FB15"); // not cheap
    let claim = |id: &str, p: &str, t: &str, exam: i64| Claim {
        claim_id: id.into(),
        insured_id: p.into(),
        provider_code: "H1".into(),
        provider_kind: Some(ProviderKind::HospitalOutpatient),
        claim_time: Some(dt(t)),
        fee_exam: Fen::from_yuan(exam),
        total_cost: Fen::from_yuan(exam),
        fund_pay: Fen::from_yuan(exam / 2),
        ..Default::default()
    };
    b.claims.push(claim("K1", "P1", "2024-03-07 09:00", 3000)); // 3 days before admission
    b.claims.push(claim("K2", "P2", "2024-03-01 09:00", 3000)); // 9 days before: outside
    b.claims.push(claim("K3", "P3", "2024-03-08 09:00", 80)); // an ordinary visit
    for k in 0..100 {
        b.claims.push(claim(&format!("B{k}"), &format!("X{k}"), "2024-05-01 09:00", 100));
    }
    // 103 outpatient claims: p95 = rank ⌈0.95 × 103⌉ = 98 → 100 yuan; only 3,000-yuan claims exceed it
    let o = b.run();
    let f = flags_of(&o, AuditRule::CostShifting);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].list_id, "C1");
    assert_eq!(f[0].related_ids, vec!["K1".to_string()]);
    assert_eq!(f[0].amount, Fen::from_yuan(1500)); // the fund's share of the shifted claim
    // 43 cases: 6,000 ×2, 10,000 … 13,900, 12,000; p50 = rank ⌈0.5 × 43⌉ = 22 → 10,000 + 19 × 100
    assert_eq!(f[0].evidence_json["group_cost_at_pct"], "11900.00");
    assert_eq!(f[0].evidence_json["stay_cheap"], true);
}

#[test]
fn upcoding_when_resources_fit_the_lower_group() {
    let mut b = B::new();
    b.population("l", "ES15", 20, 5000); // lower group: 5,000 … 6,900; p50 = 5,900; LOS p75 = 8
    b.population("u", "ES13", 20, 9000);
    let i = b.stay("U1", "P1", "H1", "2024-03-10", 4, 5500, "ES13");
    b.groups[i].drg_without_cc = Some("ES15".into());
    let j = b.stay("U2", "P2", "H1", "2024-03-10", 4, 9500, "ES13");
    b.groups[j].drg_without_cc = Some("ES15".into());
    let o = b.run();
    let f = flags_of(&o, AuditRule::Upcoding);
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].list_id.as_str(), f[0].target.as_str(), f[0].action), ("U1", "ES15", Action::Regroup));
}

fn charge(list: &str, code: &str, k: FeeKind) -> ChargeItem {
    ChargeItem { list_id: list.into(), item_code: code.into(), item_name: String::new(), category: k, quantity: Centi(100), amount: Fen(100) }
}

#[test]
fn upcoding_by_treatment_modules() {
    let mut b = B::new();
    b.population("l", "ES15", 20, 5000);
    b.population("u", "ES13", 20, 9000); // own group: 9,000 … 10,900 (p80 ≈ 10,500)
    // every case: principal K80.100 (chapter K module), lifted by J18.900 (pneumonia) alone
    let case = |b: &mut B, id: &str, cost: i64, items: &[(&str, FeeKind)]| {
        let i = b.stay(id, &format!("P{id}"), "H1", "2024-03-10", 4, cost, "ES13");
        b.lists[i].diagnoses.push("J18.900".into());
        b.groups[i].drg_without_cc = Some("ES15".into());
        b.groups[i].lifting_dx = vec!["J18.900".into()];
        b.charges.push(charge(id, "B-BED", FeeKind::Bed));
        for (c, k) in items {
            b.charges.push(charge(id, c, *k));
        }
        i
    };
    // M1: only a perioperative prophylactic antibiotic (excluded) and routine labs → flagged
    case(&mut b, "M1", 9500, &[("D-ANTIBIO-PROPH", FeeKind::WesternDrug), ("L-CBC", FeeKind::Lab)]);
    // M2: a therapeutic antibiotic → supported
    case(&mut b, "M2", 9500, &[("D-ANTIBIO-01", FeeKind::WesternDrug)]);
    // M3: the code prefix of a chest CT but charged as a lab item → not a match → flagged
    case(&mut b, "M3", 5200, &[("E-CT-CHEST", FeeKind::Lab)]);
    // M4: no trace, but costing above the own group's 80th percentile → resources match
    case(&mut b, "M4", 20_000, &[]);
    // M5: the lifting diagnosis has no module in the table (symptom code) → cannot be judged
    let i = case(&mut b, "M5", 9500, &[]);
    b.lists[i].diagnoses[1] = "R50.900".into();
    b.groups[i].lifting_dx = vec!["R50.900".into()];
    let o = b.run();
    let f = flags_of(&o, AuditRule::Upcoding);
    let ids: Vec<&str> = f.iter().map(|f| f.list_id.as_str()).collect();
    assert_eq!(ids, vec!["M3", "M1"]); // M3 costs at the lower group's level: higher score
    let m1 = f.iter().find(|f| f.list_id == "M1").unwrap();
    assert_eq!((m1.target.as_str(), m1.action), ("ES15", Action::Regroup));
    assert!(m1.evidence.contains("J18.900（诊疗模块“肺炎：抗感染+胸部影像”"), "{}", m1.evidence);
    let d = &m1.evidence_json["unsupported_diagnoses"][0];
    assert_eq!(d["diagnosis"], "J18.900");
    assert_eq!(d["found"], serde_json::json!(["D-ANTIBIO-PROPH", "L-CBC"]));
    assert_eq!(d["expected"][0], "fee_western_drug:D-ANTIBIO");
    assert_eq!(d["explained_by_other_diagnoses"], serde_json::json!([]));
    // scores: M3 cost 5,200 vs medians own ES13 (p50 of 9,000…10,900 and the cases) and lower
    // ES15 5,900 → gap clamps to 1 → 90; M1 at 9,500 sits near the own median → about 60
    assert_eq!(f[0].score, 90);
    assert!(f[1].score < 70, "{}", f[1].score);
}

#[test]
fn upcoding_needs_the_diagnosis_own_treatment() {
    let mut b = B::new();
    b.population("l", "ES15", 20, 5000);
    b.population("u", "ES13", 20, 9000);
    // principal N39.000 (urinary infection: urine culture, urine tests, antibiotics) lifted by
    // J18.900: the antibiotic and the culture are the UTI's; J18's own classes are the chest
    // CT and X-ray (2 ≥ upcoding_min_own_classes), and none is charged → flagged
    let i = b.stay("W1", "PW1", "H1", "2024-03-10", 4, 9500, "ES13");
    b.lists[i].diagnoses = vec!["N39.000".into(), "J18.900".into()];
    b.groups[i].drg_without_cc = Some("ES15".into());
    b.groups[i].lifting_dx = vec!["J18.900".into()];
    b.charges.push(charge("W1", "D-ANTIBIO-01", FeeKind::WesternDrug));
    b.charges.push(charge("W1", "L-CULT-URINE", FeeKind::Lab));
    // the same with a chest X-ray → supported
    let j = b.stay("W2", "PW2", "H1", "2024-03-10", 4, 9500, "ES13");
    b.lists[j].diagnoses = vec!["N39.000".into(), "J18.900".into()];
    b.groups[j].drg_without_cc = Some("ES15".into());
    b.groups[j].lifting_dx = vec!["J18.900".into()];
    b.charges.push(charge("W2", "D-ANTIBIO-01", FeeKind::WesternDrug));
    b.charges.push(charge("W2", "E-XR-CHEST", FeeKind::Exam));
    let o = b.run();
    let f = flags_of(&o, AuditRule::Upcoding);
    assert_eq!(f.iter().map(|f| f.list_id.as_str()).collect::<Vec<_>>(), vec!["W1"]);
    let d = &f[0].evidence_json["unsupported_diagnoses"][0];
    assert_eq!(d["expected"], serde_json::json!(["fee_exam:E-CT-CHEST", "fee_exam:E-XR-CHEST"]));
    assert_eq!(d["explained_by_other_diagnoses"], serde_json::json!(["D-ANTIBIO", "L-CULT"]));
    assert!(f[0].evidence.contains("（D-ANTIBIO、L-CULT 已由其他诊断解释，不计）"), "{}", f[0].evidence);
}

#[test]
fn upcoding_without_charges_keeps_the_cost_rule() {
    let mut b = B::new();
    b.population("l", "ES15", 20, 5000);
    b.population("u", "ES13", 20, 9000);
    let i = b.stay("U1", "P1", "H1", "2024-03-10", 4, 5500, "ES13");
    b.groups[i].drg_without_cc = Some("ES15".into());
    // another list has charges; U1 has none → the cost rule judges U1
    b.charges.push(charge("X", "B-BED", FeeKind::Bed));
    let o = b.run();
    let f = flags_of(&o, AuditRule::Upcoding);
    assert_eq!(f.len(), 1);
    assert!(f[0].evidence_json.get("method").is_none());
}

#[test]
fn under_provision_low_core_fees_in_a_surgical_group() {
    let mut b = B::new();
    b.population("s", "HC35", 40, 20_000);
    let i = b.stay("N1", "P1", "H1", "2024-03-10", 6, 20_000, "HC35");
    b.lists[i].fees[FeeKind::Surgery.index()] = Some(Fen::from_yuan(100));
    b.lists[i].fees[FeeKind::Material.index()] = Some(Fen::ZERO);
    b.lists[i].fees[FeeKind::WesternDrug.index()] = Some(Fen::from_yuan(19_900));
    b.stay("N2", "P2", "H1", "2024-03-10", 6, 20_000, "HC35");
    let o = b.run();
    let f: Vec<&str> = flags_of(&o, AuditRule::UnderProvision).iter().map(|f| f.list_id.as_str()).collect();
    assert_eq!(f, vec!["N1"]);
}

#[test]
fn low_standard_admission_concentrated_in_a_hospital() {
    let mut b = B::new();
    // 100 regular stays (LOS 5–9), 3,000 … 12,900 yuan: p10 = rank ⌈0.1 × 100⌉ = 10 = 3,900;
    // median rank 50 = 7,900 → 30 % = 2,370 (the short stays below are not part of the norm)
    b.population("m", "ES35", 100, 3000);
    for k in 0..6 {
        b.stay(&format!("L{k}"), &format!("PL{k}"), "H1", "2024-03-10", 1, 1000, "ES35");
    }
    // below p10 (3,100 < 3,900) but not below 30 % of the median (3,100 ≥ 2,370), at the
    // background hospital: share 1/101 < 1.5 × 7/107 → not flagged; L* cost 1,000 < 2,370
    b.stay("M1", "PM1", "H9", "2024-03-10", 1, 3100, "ES35");
    let o = b.run();
    let f: Vec<&str> = flags_of(&o, AuditRule::LowStandardAdmission).iter().map(|f| f.list_id.as_str()).collect();
    assert_eq!(f, vec!["L0", "L1", "L2", "L3", "L4", "L5"]);
}

#[test]
fn low_standard_admission_measured_against_regular_stays() {
    let mut b = B::new();
    // 30 regular stays of DS19 (LOS 5–9) at H9: 5,000 … 7,900 yuan. Norm from them alone:
    // p10 = rank ⌈0.1 × 30⌉ = 3 → 5,200; median rank 15 → 6,400; 30 % of it = 1,920.
    b.population("r", "DS19", 30, 5000);
    b.population("o", "OS19", 30, 5000); // an obstetric group with the same norm
                                         // 40 one-day stays of 1,500 yuan at H1 through the clinic: 1,500 < 1,920 → implausibly cheap.
                                         // Measured against all 70 stays (the old yardstick) p10 = rank 7 = 1,500 and the median
                                         // rank 35 = 1,500: none of them would be below either.
    for k in 0..40 {
        b.stay(&format!("S{k:02}"), &format!("PS{k}"), "H1", "2024-03-10", 1, 1500, "DS19");
    }
    let x1 = b.stay("X1", "PX1", "H1", "2024-03-10", 1, 1500, "DS19");
    b.lists[x1].admit_route = Some(AdmitRoute::Transfer); // referred by another institution
    let x2 = b.stay("X2", "PX2", "H1", "2024-03-10", 1, 1500, "DS19");
    b.lists[x2].admit_route = Some(AdmitRoute::Emergency);
    let x3 = b.stay("X3", "PX3", "H1", "2024-03-10", 1, 1500, "DS19");
    b.lists[x3].leaving_type = Some(LeavingType::OrderTransfer);
    b.stay("X4", "PX4", "H1", "2024-03-10", 1, 1500, "OS19"); // MDC O: excluded by default
                                                              // a split admission: R1 (DS11, discharged 03-06) and R2 three days later, same principal
                                                              // diagnosis category → reported as 分解住院 only
    b.stay("R1", "PR", "H1", "2024-03-01", 5, 6000, "DS11");
    b.stay("R2", "PR", "H1", "2024-03-09", 1, 1500, "DS19");
    let o = b.run();
    assert_eq!(flags_of(&o, AuditRule::SplitAdmission).iter().map(|f| f.list_id.as_str()).collect::<Vec<_>>(), vec!["R2"]);
    let f = flags_of(&o, AuditRule::LowStandardAdmission);
    let mut ids: Vec<&str> = f.iter().map(|f| f.list_id.as_str()).collect();
    ids.sort_unstable();
    let want: Vec<String> = (0..40).map(|k| format!("S{k:02}")).collect();
    assert_eq!(ids, want);
    let e = &f[0].evidence_json;
    assert_eq!((e["regular_stays"].as_u64(), e["regular_median_cost"].as_str(), e["group_cost_at_pct"].as_str()), (Some(30), Some("6400.00"), Some("5200.00")));
    assert_eq!((e["share_of_median_pct"].as_str(), e["implausibly_cheap"].as_bool()), (Some("23.4"), Some(true))); // 1,500 / 6,400 = 23.4 %
                                                                                                                   // H1 has 46 lists, 40 of them candidates; the region (one tier) 106 lists, 40 candidates:
                                                                                                                   // ratio = (40/46) / (40/106) = 2.304; below = 1 − 1,500/5,200 = 0.712;
                                                                                                                   // score = 40 + 15 × 1.304 + 20 × 0.712 = 73.8 → 74
    assert_eq!(f[0].score, 74);
    // with every route but emergency and no excluded MDC, the referral and the obstetric stay count
    let cfg = AuditConfig { low_standard_outpatient_route_only: false, low_standard_excluded_mdc: Vec::new(), ..AuditConfig::default() };
    let o = b.run_with(&cfg);
    let ids: Vec<&str> = flags_of(&o, AuditRule::LowStandardAdmission).iter().map(|f| f.list_id.as_str()).filter(|id| !id.starts_with('S')).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&"X1") && ids.contains(&"X4"), "{ids:?}");
}

#[test]
fn overlong_stay_above_60_days() {
    let mut b = B::new();
    b.stay("O1", "P1", "H1", "2024-01-01", 61, 90_000, "BR25");
    b.stay("O2", "P2", "H1", "2024-01-01", 60, 90_000, "BR25");
    let o = b.run();
    let f: Vec<&str> = flags_of(&o, AuditRule::OverlongStay).iter().map(|f| f.list_id.as_str()).collect();
    assert_eq!(f, vec!["O1"]);
}

#[test]
fn low_risk_death() {
    let mut b = B::new();
    // A: 1 death in 100 (ln 0.01 = −4.61); B, C, D: 10 in 20 (ln 0.5 = −0.69).
    // mean = −1.67, SD = 1.69 → cut −3.36: only A is low-risk.
    b.population("a", "AA15", 100, 1000);
    for (tag, drg) in [("b", "BB15"), ("c", "CC15"), ("d", "DD15")] {
        b.population(tag, drg, 20, 1000);
        for k in 0..10 {
            let i = b.lists.iter().position(|l| l.list_id == format!("{tag}{k}")).unwrap();
            b.lists[i].leaving_type = Some(LeavingType::Death);
        }
    }
    b.lists[0].leaving_type = Some(LeavingType::Death);
    let o = b.run();
    let f: Vec<&str> = flags_of(&o, AuditRule::LowRiskDeath).iter().map(|f| f.list_id.as_str()).collect();
    assert_eq!(f, vec!["a0"]);
}

#[test]
fn review_turns_confirmations_into_deductions() {
    let f = |id: &str, rule: AuditRule, target: &str| ReviewFlag {
        flag_id: id.into(),
        list_id: format!("L-{id}"),
        hospital_code: "H1".into(),
        rule,
        action: rule.action(),
        target: target.into(),
        amount: Fen(100),
    };
    let flags = vec![f("F1", AuditRule::SplitAdmission, "L0"), f("F2", AuditRule::Upcoding, "ES15"), f("F3", AuditRule::DuplicateList, "L9"), f("F4", AuditRule::OverlongStay, "")];
    let d = |line: u64, id: &str, dec: &str, reason: &str| Decision { line, flag_id: id.into(), decision: dec.into(), reason: reason.into(), reviewer: "张三".into() };
    let ds = vec![
        d(2, "F1", "confirm", "同一疾病15天内再入院"),
        d(3, "F2", "dismiss", "病历有相应治疗"),
        d(4, "F9", "confirm", "x"),
        d(5, "F3", "maybe", "x"),
        d(6, "F4", "confirm", "质量评审"),
    ];
    let r = review(&flags, &ds);
    assert_eq!(r.deductions.len(), 1);
    assert_eq!((r.deductions[0].action, r.deductions[0].target.as_str()), (Action::MergeInto, "L0"));
    assert_eq!(r.dismissed, vec!["F2".to_string()]);
    assert_eq!(r.pending, vec!["F3".to_string()]);
    assert_eq!(r.noted.len(), 1);
    assert_eq!(r.rejected.len(), 2);
    assert!(r.rejected[0].2.contains("F9"));
}
