//! Every rule: one record mutation that triggers it and the valid base batch that does not.

use super::*;
use casemix_model::*;

fn dt(s: &str) -> NaiveDateTime {
    casemix_model::settlement::parse_datetime(Field::AdmitTime, s).unwrap()
}
fn day(s: &str) -> NaiveDate {
    dt(s).date()
}
fn y(v: i64) -> Option<Fen> {
    Some(Fen::from_yuan(v))
}

pub(crate) fn dicts() -> Dictionaries {
    let mut d = Dictionaries::default();
    for c in ["K35.800", "E11.900", "E11.200", "E10.900", "O80.000", "Z37.000", "R10.400"] {
        d.diagnosis_names.insert(c.into(), "名称".into());
    }
    for c in ["47.0100", "96.7100", "96.7200", "73.5900", "68.4100", "60.2100", "74.1x00"] {
        d.procedure_names.insert(c.into(), "名称".into());
    }
    d.diagnosis_map.insert("K35.800x001".into(), "K35.800".into());
    d.diagnosis_map.insert("E11.900x001".into(), "E11.900".into());
    d.diagnosis_map.insert("K35.800".into(), "".into());
    d.procedure_map.insert("47.0100x001".into(), "47.0100".into());
    d
}

/// A valid list: appendectomy, woman of 43, 5 days, 8000 yuan.
pub(crate) fn base() -> SettlementList {
    let mut l = SettlementList {
        list_id: "L1".into(),
        hospital_code: Some("H01".into()),
        hospital_name: Some("第一医院".into()),
        insured_id: Some("P1".into()),
        record_no: Some("R1".into()),
        insurance_type: Some(InsuranceType::Employee),
        sex: Some(Sex::Female),
        birth_date: Some(day("1980-05-10")),
        age_years: Some(43),
        admit_time: Some(dt("2024-03-01 08:00")),
        discharge_time: Some(dt("2024-03-06 10:00")),
        los_days: Some(5),
        admit_route: Some(AdmitRoute::Outpatient),
        admit_dept: Some("A03".into()),
        dept: Some("A03".into()),
        leaving_type: Some(LeavingType::OrderDischarge),
        readmit_plan_31d: Some(ReadmitPlan::No),
        diagnoses: vec!["K35.800".into(), "E11.900".into()],
        diagnosis_poa: vec![Some(Poa::Yes), Some(Poa::Yes)],
        procedures: vec!["47.0100".into()],
        procedure_dates: vec![Some(dt("2024-03-02 09:00"))],
        payment_method: Some(PaymentMethod::Drg),
        ..Default::default()
    };
    // 500+100+800+600+300+2000+400+1500+1800 = 8000 yuan
    let fees = [500, 100, 800, 600, 300, 2000, 400, 1500, 1800, 0, 0, 0, 0, 0];
    for (i, f) in fees.iter().enumerate() {
        l.fees[i] = y(*f);
    }
    l.total_cost = y(8000);
    l.fund_pay = y(5600);
    l.supplementary_pay = y(0);
    l.assistance_pay = y(0);
    l.personal_pay = y(2400); // 5600 + 2400 = 8000
    l.selfpay_items = y(300);
    l
}

fn base_batch() -> Vec<SettlementList> {
    let mut b = base();
    b.list_id = "L2".into();
    b.insured_id = Some("P2".into());
    b.record_no = Some("R2".into());
    vec![base(), b]
}

type Mutation = fn(&mut Vec<SettlementList>);

fn newborn(l: &mut SettlementList) {
    l.age_years = Some(0);
    l.age_days = Some(3);
    l.birth_date = Some(day("2024-02-27"));
    l.birth_weight_g = Some(3200);
    l.admit_weight_g = Some(3100);
}
fn add_px(l: &mut SettlementList, c: &str) {
    l.procedures.push(c.into());
    l.procedure_dates.push(Some(dt("2024-03-03 10:00")));
}
fn male(l: &mut SettlementList) {
    l.sex = Some(Sex::Male);
}

const ROWS: &[(&str, Mutation)] = &[
    ("REQ-01", |v| v[0].list_id = String::new()),
    ("REQ-02", |v| v[0].hospital_code = None),
    ("REQ-03", |v| v[0].hospital_name = None),
    ("REQ-04", |v| v[0].insured_id = None),
    ("REQ-05", |v| v[0].record_no = None),
    ("REQ-06", |v| v[0].insurance_type = None),
    ("REQ-07", |v| v[0].sex = None),
    ("REQ-08", |v| v[0].birth_date = None),
    ("REQ-09", |v| {
        v[0].age_years = None;
        v[0].age_days = None
    }),
    ("REQ-10", |v| v[0].age_years = Some(0)),
    ("REQ-11", |v| v[0].admit_time = None),
    ("REQ-12", |v| v[0].discharge_time = None),
    ("REQ-13", |v| v[0].los_days = None),
    ("REQ-14", |v| v[0].admit_route = None),
    ("REQ-15", |v| v[0].admit_dept = None),
    ("REQ-16", |v| v[0].dept = None),
    ("REQ-17", |v| v[0].leaving_type = None),
    ("REQ-18", |v| v[0].readmit_plan_31d = None),
    ("REQ-19", |v| {
        v[0].diagnoses.clear();
        v[0].diagnosis_poa.clear()
    }),
    ("REQ-20", |v| v[0].diagnosis_poa.clear()),
    ("REQ-21", |v| v[0].procedure_dates = vec![None]),
    ("REQ-22", |v| v[0].total_cost = None),
    ("REQ-23", |v| v[0].fees = [None; 14]),
    ("REQ-24", |v| v[0].fund_pay = None),
    ("REQ-25", |v| v[0].personal_pay = None),
    ("REQ-26", |v| v[0].payment_method = None),
    ("DOM-01", |v| v[0].insurance_type = Some(InsuranceType::from_code(311))),
    ("DOM-02", |v| v[0].sex = Some(Sex::from_code(9))),
    ("DOM-03", |v| v[0].admit_route = Some(AdmitRoute::from_code(5))),
    ("DOM-04", |v| v[0].leaving_type = Some(LeavingType::from_code(7))),
    ("DOM-05", |v| v[0].readmit_plan_31d = Some(ReadmitPlan::from_code(3))),
    ("DOM-06", |v| v[0].payment_method = Some(PaymentMethod::from_code(8))),
    ("DOM-07", |v| v[0].diagnosis_poa[1] = Some(Poa::from_code(7))),
    ("DOM-08", |v| v[0].diagnosis_poa.push(Some(Poa::Yes))),
    ("DOM-09", |v| v[0].procedure_dates.push(Some(dt("2024-03-03")))),
    ("DOM-10", |v| v[0].age_years = Some(151)),
    ("DOM-11", |v| {
        v[0].age_years = Some(0);
        v[0].age_days = Some(400)
    }),
    ("DOM-12", |v| v[0].birth_weight_g = Some(50)),
    ("DOM-13", |v| v[0].admit_weight_g = Some(30000)),
    ("DOM-14", |v| v[0].los_days = Some(-1)),
    ("DOM-15", |v| v[0].los_days = Some(0)),
    ("DOM-16", |v| v[0].icu_hours = Some(Centi(-100))),
    ("DOM-17", |v| v[0].vent_hours = Some(Centi(-100))),
    ("DOM-18", |v| v[0].age_years = Some(125)),
    ("DOM-19", |v| v[0].list_id = "L 1".into()),
    ("DX-01", |v| v[0].diagnoses[0] = "k35.800".into()),
    ("DX-02", |v| v[0].diagnoses[1] = "E11,900".into()),
    ("DX-03", |v| v[0].diagnoses[0] = "K99.999".into()),
    ("DX-04", |v| v[0].diagnoses[0] = "K35.800x001".into()),
    ("DX-05", |v| v[0].diagnoses[1] = "E99.999".into()),
    ("DX-06", |v| v[0].diagnoses[1] = "E11.900x001".into()),
    ("DX-07", |v| v[0].diagnoses.push("K35.800".into())),
    ("DX-08", |v| v[0].diagnoses.push("E11.900".into())),
    ("DX-09", |v| v[0].diagnoses.push(String::new())),
    ("PX-01", |v| v[0].procedures[0] = "A7.01".into()),
    ("PX-02", |v| add_px(&mut v[0], "4X.01")),
    ("PX-03", |v| v[0].procedures[0] = "99.9999".into()),
    ("PX-04", |v| v[0].procedures[0] = "47.0100x001".into()),
    ("PX-05", |v| add_px(&mut v[0], "98.9999")),
    ("PX-06", |v| add_px(&mut v[0], "47.0100x001")),
    ("PX-07", |v| {
        v[0].procedures.push("47.0100".into());
        v[0].procedure_dates.push(Some(dt("2024-03-02 09:00")))
    }),
    ("PX-08", |v| v[0].procedures.push(String::new())),
    ("PDX-01", |v| v[0].diagnoses[0] = "W19.000".into()),
    ("PDX-02", |v| v[0].diagnoses[0] = "J17.0*".into()),
    ("PDX-03", |v| v[0].diagnoses[0] = "Z37.000".into()),
    ("PDX-04", |v| v[0].diagnoses[0] = "Z80.000".into()),
    ("PDX-05", |v| v[0].diagnoses[0] = "Z85.000".into()),
    ("PDX-06", |v| v[0].diagnoses[0] = "Z95.000".into()),
    ("PDX-07", |v| v[0].diagnoses[0] = "Z59.000".into()),
    ("PDX-08", |v| v[0].diagnoses[0] = "Z33.x00".into()),
    ("PDX-09", |v| v[0].diagnoses[0] = "R10.400".into()),
    ("PDX-10", |v| v[0].diagnoses[0] = "R99.x00".into()),
    ("PDX-11", |v| v[0].diagnoses[0] = "I69.300".into()),
    ("PDX-12", |v| v[0].diagnoses[0] = "Z51.100".into()),
    ("PDX-13", |v| v[0].diagnosis_poa[0] = Some(Poa::No)),
    ("SEX-01", |v| {
        male(&mut v[0]);
        v[0].diagnoses.push("O26.900".into())
    }),
    ("SEX-02", |v| {
        male(&mut v[0]);
        v[0].diagnoses.push("Z37.000".into())
    }),
    ("SEX-03", |v| {
        male(&mut v[0]);
        v[0].diagnoses.push("N80.000".into())
    }),
    ("SEX-04", |v| {
        male(&mut v[0]);
        v[0].diagnoses.push("C53.900".into())
    }),
    ("SEX-05", |v| {
        male(&mut v[0]);
        v[0].diagnoses.push("E28.200".into())
    }),
    ("SEX-06", |v| {
        male(&mut v[0]);
        add_px(&mut v[0], "68.4100")
    }),
    ("SEX-07", |v| {
        male(&mut v[0]);
        add_px(&mut v[0], "73.5900")
    }),
    ("SEX-08", |v| v[0].diagnoses.push("N40.x00".into())),
    ("SEX-09", |v| v[0].diagnoses.push("C61.x00".into())),
    ("SEX-10", |v| v[0].diagnoses.push("E29.100".into())),
    ("SEX-11", |v| add_px(&mut v[0], "60.2100")),
    ("AGE-01", |v| {
        v[0].age_years = Some(5);
        v[0].diagnoses.push("P07.100".into())
    }),
    ("AGE-02", |v| {
        v[0].age_years = Some(0);
        v[0].age_days = Some(60);
        v[0].diagnoses[0] = "P59.900".into()
    }),
    ("AGE-03", |v| {
        v[0].age_years = Some(8);
        v[0].diagnoses.push("O26.900".into())
    }),
    ("AGE-04", |v| {
        v[0].age_years = Some(65);
        add_px(&mut v[0], "73.5900")
    }),
    ("AGE-05", |v| {
        v[0].age_years = Some(65);
        v[0].diagnoses.push("Z37.000".into())
    }),
    ("AGE-06", |v| v[0].diagnoses.push("Z38.000".into())),
    ("AGE-07", |v| v[0].age_years = Some(30)),
    ("AGE-08", |v| {
        newborn(&mut v[0]);
        v[0].age_days = Some(10);
        v[0].birth_date = Some(day("2024-02-01"))
    }),
    ("AGE-09", |v| v[0].diagnoses.push("R54.x00".into())),
    ("AGE-10", |v| {
        v[0].age_years = Some(25);
        v[0].diagnoses.push("N95.100".into())
    }),
    ("AGE-11", |v| {
        male(&mut v[0]);
        v[0].age_years = Some(25);
        v[0].diagnoses.push("N40.x00".into())
    }),
    ("AGE-12", |v| v[0].age_days = Some(100)),
    ("NB-01", |v| {
        newborn(&mut v[0]);
        v[0].birth_weight_g = None
    }),
    ("NB-02", |v| {
        newborn(&mut v[0]);
        v[0].admit_weight_g = None
    }),
    ("NB-03", |v| v[0].birth_weight_g = Some(3000)),
    ("NB-04", |v| {
        newborn(&mut v[0]);
        v[0].birth_weight_g = Some(7000);
        v[0].admit_weight_g = Some(7000)
    }),
    ("NB-05", |v| {
        newborn(&mut v[0]);
        v[0].birth_weight_g = Some(1500);
        v[0].admit_weight_g = Some(1500);
        v[0].diagnoses.push("P07.000".into())
    }),
    ("NB-06", |v| {
        newborn(&mut v[0]);
        v[0].birth_weight_g = Some(800);
        v[0].admit_weight_g = Some(800);
        v[0].diagnoses.push("P07.100".into())
    }),
    ("NB-07", |v| {
        newborn(&mut v[0]);
        v[0].diagnoses.push("P08.000".into())
    }),
    ("NB-08", |v| {
        newborn(&mut v[0]);
        v[0].birth_weight_g = Some(2000);
        v[0].admit_weight_g = Some(2000)
    }),
    ("NB-09", |v| {
        newborn(&mut v[0]);
        v[0].admit_weight_g = Some(9700)
    }),
    ("DATE-01", |v| v[0].discharge_time = Some(dt("2024-02-28 10:00"))),
    ("DATE-02", |v| v[0].los_days = Some(7)),
    ("DATE-03", |v| v[0].procedure_dates[0] = Some(dt("2024-02-20 10:00"))),
    ("DATE-04", |v| v[0].procedure_dates[0] = Some(dt("2024-03-10 10:00"))),
    ("DATE-05", |v| v[0].birth_date = Some(day("2024-04-01"))),
    ("DATE-06", |v| {
        v[0].discharge_time = v[0].admit_time;
        v[0].los_days = Some(1);
        v[0].procedure_dates[0] = v[0].admit_time
    }),
    ("DATE-07", |v| v[0].los_days = Some(400)),
    ("DATE-08", |v| v[0].admit_time = Some(dt("1999-12-01 08:00"))),
    ("LEAVE-01", |v| v[0].diagnoses.push("R96.x00".into())),
    ("LEAVE-02", |v| {
        v[0].leaving_type = Some(LeavingType::Death);
        v[0].readmit_plan_31d = Some(ReadmitPlan::Yes)
    }),
    ("LEAVE-03", |v| {
        v[0].leaving_type = Some(LeavingType::Death);
        v[0].diagnoses[0] = "Z00.000".into()
    }),
    ("LEAVE-04", |v| v[0].leaving_type = Some(LeavingType::Other)),
    // stay 2024-03-01 08:00 → 03-06 10:00 = 122 h; LOS 5 × 24 = 120 h; limit = 122 h
    ("ICU-01", |v| v[0].icu_hours = Some(Centi::from_whole(123))),
    ("ICU-02", |v| {
        add_px(&mut v[0], "96.7200");
        v[0].vent_hours = Some(Centi::from_whole(123))
    }),
    ("ICU-03", |v| v[0].vent_hours = Some(Centi::from_whole(10))),
    ("ICU-04", |v| add_px(&mut v[0], "96.7100")),
    ("ICU-05", |v| {
        add_px(&mut v[0], "96.7200");
        v[0].vent_hours = Some(Centi::from_whole(50))
    }),
    ("ICU-06", |v| {
        add_px(&mut v[0], "96.7100");
        v[0].vent_hours = Some(Centi::from_whole(100))
    }),
    ("FEE-01", |v| v[0].fees[FeeKind::Other.index()] = y(1)),
    ("FEE-02", |v| v[0].fees[0] = y(-1)),
    ("FEE-03", |v| v[0].fees[1] = y(-1)),
    ("FEE-04", |v| v[0].fees[2] = y(-1)),
    ("FEE-05", |v| v[0].fees[3] = y(-1)),
    ("FEE-06", |v| v[0].fees[4] = y(-1)),
    ("FEE-07", |v| v[0].fees[5] = y(-1)),
    ("FEE-08", |v| v[0].fees[6] = y(-1)),
    ("FEE-09", |v| v[0].fees[7] = y(-1)),
    ("FEE-10", |v| v[0].fees[8] = y(-1)),
    ("FEE-11", |v| v[0].fees[9] = y(-1)),
    ("FEE-12", |v| v[0].fees[10] = y(-1)),
    ("FEE-13", |v| v[0].fees[11] = y(-1)),
    ("FEE-14", |v| v[0].fees[12] = y(-1)),
    ("FEE-15", |v| v[0].fees[13] = y(-1)),
    ("FEE-16", |v| v[0].total_cost = y(-1)),
    ("FEE-17", |v| v[0].total_cost = y(0)),
    ("FEE-18", |v| {
        v[0].procedures.clear();
        v[0].procedure_dates.clear()
    }),
    ("FEE-19", |v| v[0].fees[FeeKind::Bed.index()] = y(0)),
    ("FEE-20", |v| v[0].fees[FeeKind::Nursing.index()] = y(0)),
    // 2,000,000 yuan over 5 days = 400,000 / day > 200,000
    ("FEE-21", |v| v[0].total_cost = y(2_000_000)),
    ("FEE-22", |v| v[0].total_cost = y(6_000_000)),
    ("FEE-23", |v| v[0].selfpay_items = y(9000)),
    ("PAY-01", |v| v[0].fund_pay = y(5000)),
    ("PAY-02", |v| v[0].fund_pay = y(-1)),
    ("PAY-03", |v| v[0].supplementary_pay = y(-1)),
    ("PAY-04", |v| v[0].assistance_pay = y(-1)),
    ("PAY-05", |v| v[0].personal_pay = y(-1)),
    ("PAY-06", |v| v[0].selfpay_items = y(-1)),
    ("PAY-07", |v| v[0].fund_pay = y(9000)),
    ("PAY-08", |v| v[0].selfpay_items = y(2500)),
    ("DUP-01", |v| {
        let c = v[0].clone();
        v.push(c)
    }),
    ("DUP-02", |v| {
        v[1].insured_id = Some("P1".into());
        v[1].admit_time = Some(dt("2024-03-04 08:00"));
        v[1].discharge_time = Some(dt("2024-03-09 08:00"))
    }),
    ("DUP-03", |v| v[1].insured_id = Some("P1".into())),
    ("DUP-04", |v| v[1].record_no = Some("R1".into())),
    ("ICD-01", |v| v[0].diagnoses[0] = "S72.000".into()),
    ("ICD-02", |v| {
        v[0].diagnoses.push("O80.000".into());
        v[0].diagnosis_poa.push(Some(Poa::Yes))
    }),
    ("ICD-03", |v| v[0].diagnoses.push("Z37.000".into())),
    ("ICD-04", |v| v[0].diagnoses.push("E10.900".into())),
    ("ICD-05", |v| {
        v[0].diagnoses.push("B20.000".into());
        v[0].diagnoses.push("Z21.x00".into())
    }),
    ("ICD-06", |v| v[0].diagnoses.push("E11.200".into())),
    ("ICD-07", |v| {
        v[0].diagnoses.push("O80.000".into());
        v[0].diagnoses.push("Z37.000".into());
        add_px(&mut v[0], "74.1x00")
    }),
    ("ICD-08", |v| {
        v[0].diagnoses.push("O80.000".into());
        v[0].diagnoses.push("O82.000".into());
        v[0].diagnoses.push("Z37.000".into())
    }),
    ("ICD-09", |v| add_px(&mut v[0], "73.5900")),
];

fn qc() -> Qc {
    Qc::new(&dicts(), QcConfig::default())
}

#[test]
fn base_batch_is_clean() {
    let f = qc().check_all(&base_batch());
    assert!(f.is_empty(), "{:?}", f.iter().map(|x| (x.def().id, x.message())).collect::<Vec<_>>());
}

#[test]
fn every_rule_triggers_on_its_mutation_and_not_on_the_base() {
    let qc = qc();
    let base_ids: Vec<&str> = qc.check_all(&base_batch()).iter().map(|f| f.def().id).collect();
    let mut covered = std::collections::BTreeSet::new();
    for (id, m) in ROWS {
        let rule = Rule::from_id(id).unwrap_or_else(|| panic!("unknown rule {id}"));
        assert!(!base_ids.contains(id), "{id} fires on the base");
        let mut v = base_batch();
        m(&mut v);
        let f = qc.check_all(&v);
        let hit = f.iter().find(|x| x.rule == rule);
        assert!(hit.is_some(), "{id} does not fire; got {:?}", f.iter().map(|x| x.message()).collect::<Vec<_>>());
        let msg = hit.unwrap().message();
        assert!(!msg.contains("{v}") && !msg.contains("{d}"), "{id}: {msg}");
        covered.insert(*id);
    }
    let missing: Vec<&str> = RULES.iter().map(|r| r.id).filter(|id| !covered.contains(id)).collect();
    assert!(missing.is_empty(), "rules without a test: {missing:?}");
}

#[test]
fn messages_name_field_and_value() {
    let qc = qc();
    let mut v = base_batch();
    v[0].sex = Some(Sex::Male);
    v[0].diagnoses.push("O26.900".into());
    let f = qc.check_all(&v);
    let m = f.iter().find(|x| x.rule == Rule::SexMaleObstetric).unwrap();
    assert_eq!(m.message(), "性别(sex)为“1”(男)，与妊娠分娩产褥期诊断“O26.900”冲突");
    assert_eq!(m.severity(), Severity::Error);
    let mut v = base_batch();
    v[0].diagnoses[0] = "K35.800x001".into();
    let f = qc.check_all(&v);
    assert_eq!(f[0].message(), "主要诊断编码“K35.800x001”为临床版编码，应使用医保版编码“K35.800”");
    assert_eq!(f[0].severity(), Severity::Warning);
    // LOS: 03-01 → 03-06 = 5 days
    let mut v = base_batch();
    v[0].los_days = Some(7);
    let f = qc.check_all(&v);
    assert_eq!(f[0].message(), "实际住院天数(los_days)为“7”，按出入院日期应为5天（当日出入院计1天）");
}

#[test]
fn summary_counts_pass_rate() {
    let qc = qc();
    let mut v = base_batch();
    v[1].hospital_code = Some("H02".into());
    v[1].los_days = Some(9); // error
    v.push(base());
    v[2].list_id = "L3".into();
    v[2].insured_id = Some("P3".into());
    v[2].record_no = Some("R3".into());
    v[2].hospital_name = None; // warning only
    let f = qc.check_all(&v);
    let s = summarize(&v, &f);
    assert_eq!(s.total.lists, 3);
    assert_eq!(s.total.lists_with_errors, 1);
    assert_eq!(s.total.lists_with_warnings_only, 1);
    // 2 of 3 lists without errors = 6666 bp
    assert_eq!(s.total.pass_rate_bp(), Some(6666));
    assert_eq!(s.by_hospital["H02"].pass_rate_bp(), Some(0));
    assert_eq!(s.by_hospital["H01"].pass_rate_bp(), Some(10000));
    assert_eq!(s.by_rule[&Rule::DateLosMismatch].lists, 1);
}

fn arb_list() -> impl proptest::strategy::Strategy<Value = SettlementList> {
    use proptest::prelude::*;
    let code = prop_oneof![".{0,12}", "[A-Z][0-9]{2}\\.[0-9x]{1,3}[*+]?", "[0-9]{2}\\.[0-9x]{2,4}"];
    let opt_i = proptest::option::of(any::<i64>());
    let opt_small = proptest::option::of(-400i64..20000);
    let opt_dt = proptest::option::of((-1_000_000_000i64..4_000_000_000i64).prop_map(|s| {
        chrono::DateTime::from_timestamp(s, 0).unwrap().naive_utc()
    }));
    (
        (".{0,8}", proptest::option::of(".{0,4}"), proptest::option::of(-5i64..400), opt_i.clone(), opt_small.clone(), opt_small),
        (opt_dt.clone(), opt_dt.clone(), opt_i.clone(), proptest::option::of(any::<i64>()), proptest::option::of(any::<i64>())),
        (proptest::collection::vec(code.clone(), 0..6), proptest::collection::vec(code, 0..4), proptest::collection::vec(opt_dt, 0..5)),
        (proptest::collection::vec(proptest::option::of(any::<i64>()), 14), opt_i.clone(), opt_i.clone(), opt_i, proptest::option::of(-9i64..12)),
    )
        .prop_map(|((id, ins, sex, ay, ad, bw), (a, d, los, icu, vent), (dx, px, pd), (fees, total, fund, selfpay, lt))| {
            let mut l = SettlementList { list_id: id, insured_id: ins, ..Default::default() };
            l.sex = sex.map(Sex::from_code);
            l.age_years = ay;
            l.age_days = ad;
            l.birth_weight_g = bw;
            l.admit_weight_g = bw.map(|w| w.saturating_mul(3));
            l.birth_date = a.map(|x: NaiveDateTime| x.date());
            l.admit_time = a;
            l.discharge_time = d;
            l.los_days = los;
            l.icu_hours = icu.map(Centi);
            l.vent_hours = vent.map(Centi);
            l.diagnoses = dx;
            l.procedures = px;
            l.procedure_dates = pd;
            for (i, f) in fees.into_iter().enumerate() {
                l.fees[i] = f.map(Fen);
            }
            l.total_cost = total.map(Fen);
            l.fund_pay = fund.map(Fen);
            l.personal_pay = selfpay.map(Fen);
            l.selfpay_items = selfpay.map(Fen);
            l.leaving_type = lt.map(LeavingType::from_code);
            l
        })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
    #[test]
    fn arbitrary_records_never_panic(lists in proptest::collection::vec(arb_list(), 0..6)) {
        let qc = qc();
        let f = qc.check_all(&lists);
        let s = summarize(&lists, &f);
        proptest::prop_assert_eq!(s.total.lists, lists.len());
        for x in &f {
            let _ = x.message();
        }
    }
}
