//! A hand-made DIP history whose catalogue and scores are computed by hand below.
//!
//! Operating-room list: 47.0900, 47.0100. 88.0100 is chapter 88 → 诊断性操作.
//! | combination                  | 2022      | 2023      | 2024                 |
//! | X  K35.8 | 47.0900 (15 cases) | 5 × 5000  | 5 × 5500  | 5 × 6000 (each with 1 secondary dx) |
//! | Y  K35.8 | 47.0100 (14 cases) | 4 × 4000  | 5 × 4000  | 5 × 4000             |
//! | Z  K35.9 conservative        | —         | —         | 3 × 2000             |
//! | D  K35.9 | 88.0100 diagnostic| —         | —         | 1 × 3000             |
//! | J  J06.9 conservative (basic list) | —   | —         | 2 × 1000             |
//!
//! X has exactly 15 cases = the threshold → core C00001. Y has 14 → comprehensive K35 相关手术.
//! No price adjustment (inflation none), weights 1:2:7.
//! X cost = (5000 + 2·5500 + 7·6000)/10 = 58000/10 = 5800.00
//! comprehensive K35 相关手术 (= Y) = (4000 + 2·4000 + 7·4000)/10 = 4000.00
//! comprehensive K35 保守治疗 = 2000 (2024 only, weights renormalised); K35 诊断性操作 = 3000; J = 1000
//! All-case yearly means: 2022 (25000 + 16000)/9 = 4555.5556; 2023 (27500 + 20000)/10 = 4750;
//! 2024 (30000 + 20000 + 6000 + 3000 + 2000)/16 = 61000/16 = 3812.5.
//! All (exact) = (41000/9 + 2·4750 + 7·3812.5)/10 = (41000 + 9·36187.5)/90 = 366687.5/90
//!   = 3666875/900 yuan = 4074.305556 yuan → shown as 407431 fen; scores divide by the exact value.
//! Scores (×100, computed once from exact values, 4 decimals, half away from zero):
//!   X 5800·100·900/3666875 = 522000000/3666875 = 835200/5867 = 142.355548 → 142.3555
//!     (the old two-step rounding, 580000·100/407431 = 142.355390, gave 142.3554)
//!   K35 相关手术 4000·90000/3666875 = 576000/5867 = 98.176240 → 98.1762
//!   K35 保守治疗 2000·90000/3666875 = 288000/5867 = 49.088120 → 49.0881
//!   K35 诊断性操作 3000·90000/3666875 = 432000/5867 = 73.632180 → 73.6322
//!   J 1000·90000/3666875 = 144000/5867 = 24.544060 → 24.5441
//! Severity (each distinct secondary dx counts 1; bands 1/3/5): X's 2024 cases are level 1.
//!   X pooled mean (82500/15) = 5500; level 1 mean 6000 → 6000/5500 = 1.090909 → 1.0909;
//!   level 0 mean (25000 + 27500)/10 = 5250 → 5250/5500 = 0.954545 → 0.9545.

use casemix_calibrate::stats::Dec4;
use casemix_dip::*;
use casemix_model::Fen;

struct H {
    year: i32,
    dx: Vec<String>,
    px: Vec<String>,
    yuan: i64,
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn history() -> Vec<H> {
    let mut v = Vec::new();
    let mut add = |year, dx: &[&str], px: &[&str], yuan, n| {
        for _ in 0..n {
            v.push(H { year, dx: s(dx), px: s(px), yuan });
        }
    };
    add(2022, &["K35.800"], &["47.0900"], 5000, 5);
    add(2023, &["K35.800x001"], &["47.0900"], 5500, 5);
    add(2024, &["K35.801", "E11.900"], &["47.0900"], 6000, 5);
    add(2022, &["K35.800"], &["47.0100"], 4000, 4);
    add(2023, &["K35.800"], &["47.0100"], 4000, 5);
    add(2024, &["K35.800"], &["47.0100"], 4000, 5);
    add(2024, &["K35.900"], &[], 2000, 3);
    add(2024, &["K35.900"], &["88.0100"], 3000, 1);
    add(2024, &["J06.900"], &[], 1000, 2);
    v
}

fn cases(h: &[H]) -> Vec<DipCase<'_>> {
    h.iter()
        .map(|c| DipCase {
            year: c.year,
            diagnoses: &c.dx,
            procedures: &c.px,
            cost: Fen::from_yuan(c.yuan),
            los: 5,
            leaving_type: Some(1),
            age_years: None,
            age_days: None,
        })
        .collect()
}

fn cfg() -> DipConfig {
    DipConfig { inflation: Inflation::None, ..DipConfig::default() }
}

fn build_it(h: &[H]) -> Catalogue {
    let or = s(&["47.0900", "47.0100"]);
    let basic = vec![ComboKey { dx_key: "J06.9".to_string(), proc_key: String::new() }];
    build(&cases(h), &or, &basic, &Names::default(), &cfg()).unwrap()
}

#[test]
fn catalogue_by_hand() {
    let h = history();
    let cat = build_it(&h);
    let e = cat.entries();
    let codes: Vec<(&str, DipKind, &str, &str, usize)> =
        e.iter().map(|x| (x.code.as_str(), x.kind, x.dx_key.as_str(), x.proc_key.as_str(), x.cases)).collect();
    assert_eq!(
        codes,
        vec![
            ("C00001", DipKind::Core, "K35.8", "47.0900", 15),
            ("B00001", DipKind::Basic, "J06.9", "", 2),
            ("Z00001", DipKind::Comprehensive, "K35", "", 3),
            ("Z00002", DipKind::Comprehensive, "K35", "", 1),
            ("Z00003", DipKind::Comprehensive, "K35", "", 14),
        ]
    );
    assert_eq!(e[2].treat, TreatType::Conservative);
    assert_eq!(e[3].treat, TreatType::Diagnostic);
    assert_eq!(e[4].treat, TreatType::Surgery);
    assert_eq!(cat.data().all_cost, Fen(407_431));
    assert_eq!(e[0].cost_mean, Fen(580_000));
    assert_eq!(e[0].score, Dec4(1_423_555));
    assert_eq!(e[4].cost_mean, Fen(400_000));
    assert_eq!(e[4].score, Dec4(981_762));
    assert_eq!(e[2].score, Dec4(490_881));
    assert_eq!(e[3].score, Dec4(736_322));
    assert_eq!(e[1].score, Dec4(245_441));
    // severity auxiliary of the core 病种
    let lv: Vec<(u8, usize, Dec4, bool)> = e[0].severity.iter().map(|l| (l.level, l.cases, l.factor, l.active)).collect();
    assert_eq!(lv, vec![(0, 10, Dec4(9545), true), (1, 5, Dec4(10909), true)]);
    // comprehensive with 14 cases < 15: no auxiliary factor
    assert!(e[4].severity.iter().all(|l| !l.active && l.factor == Dec4::ONE));
    let sm = cat.summary();
    assert_eq!((sm.core_cases, sm.basic_cases, sm.comprehensive_cases), (15, 2, 18));
    assert_eq!(sm.history_total, 35);
    assert_eq!(sm.history_grouped, 35);
    let csv = cat.catalogue_csv();
    assert!(csv.starts_with("dip_code,kind,dx_key,proc_key,name,cases,cost_mean,cost_cv,score"));
    assert!(csv.contains("\nC00001,core,K35.8,47.0900,K35.8：47.0900,15,5800.00,"));
    assert!(csv.contains(",142.3555,surgery,"));
    // deterministic
    assert_eq!(build_it(&h).catalogue_csv(), csv);
    assert_eq!(build_it(&h).report_md(&[]), cat.report_md(&[]));
}

#[test]
fn threshold_is_inclusive_and_configurable() {
    let h = history();
    let or = s(&["47.0900", "47.0100"]);
    // threshold 16: X (15) becomes comprehensive as well → no core 病种
    let c16 = build(&cases(&h), &or, &[], &Names::default(), &DipConfig { core_threshold: 16, ..cfg() }).unwrap();
    assert_eq!(c16.entries().iter().filter(|e| e.kind == DipKind::Core).count(), 0);
    // threshold 14: X and Y core
    let c14 = build(&cases(&h), &or, &[], &Names::default(), &DipConfig { core_threshold: 14, ..cfg() }).unwrap();
    assert_eq!(c14.entries().iter().filter(|e| e.kind == DipKind::Core).count(), 2);
    // score base 1000 (no basic list: J06.9 becomes a comprehensive 病种 of the same cost, so the
    // all-case cost is unchanged): X = 8352000/5867 = 1423.555480 → 1423.5555
    let c1000 = build(&cases(&h), &or, &[], &Names::default(), &DipConfig { score_base: 1000, ..cfg() }).unwrap();
    assert_eq!(c1000.entries()[0].score, Dec4(14_235_555));
}

#[test]
fn assignment_rules() {
    let h = history();
    let cat = build_it(&h);
    let one = |dx: &[&str], px: &[&str], yuan: i64| {
        let dx = s(dx);
        let px = s(px);
        let c = DipCase { year: 2025, diagnoses: &dx, procedures: &px, cost: Fen::from_yuan(yuan), los: 5, leaving_type: Some(1), age_years: Some(70), age_days: None };
        cat.assign(&c)
    };
    let a = one(&["K35.800", "I10.x00"], &["47.0900"], 6000);
    assert_eq!(a.dip_code, "C00001");
    assert_eq!(a.score, Some(Dec4(1_423_555)));
    assert_eq!(a.aux_level, "S1/A3");
    assert_eq!(a.aux_factor, Dec4(10909));
    // diagnostic procedure dropped when an operation is present → exact match
    assert_eq!(one(&["K35.800"], &["88.0100", "47.0900"], 6000).dip_code, "C00001");
    // operation set not in the catalogue: core with most matched procedures
    let a = one(&["K35.800"], &["47.0900", "47.0100"], 6000);
    assert_eq!(a.dip_code, "C00001");
    assert!(a.trace.iter().any(|t| t.contains("匹配最多")), "{:?}", a.trace);
    // Y is not core → comprehensive K35 相关手术
    let a = one(&["K35.800"], &["47.0100"], 4000);
    assert_eq!((a.dip_code.as_str(), a.kind), ("Z00003", Some(DipKind::Comprehensive)));
    assert_eq!(a.aux_factor, Dec4::ONE);
    // no comprehensive 病种 for K36 保守治疗 → 未入组 with the reason
    let a = one(&["K36.x00"], &[], 1000);
    assert!(!a.is_grouped());
    assert_eq!(a.status_zh(), "未入组");
    assert!(a.message.contains("K36"), "{}", a.message);
    let a = one(&[], &[], 1000);
    assert_eq!(a.message, "缺少主要诊断");
}

#[test]
fn procedure_types_and_keys() {
    let or: rustc_hash::FxHashSet<String> = ["47.0900".to_string()].into_iter().collect();
    let r = ProcRule::default();
    assert_eq!(classify("47.0900", &or, &r), ProcKind::Surgery);
    assert_eq!(classify("88.0100", &or, &r), ProcKind::Diagnostic);
    assert_eq!(classify("89.5200", &or, &r), ProcKind::Diagnostic);
    assert_eq!(classify("91.1100", &or, &r), ProcKind::Diagnostic);
    assert_eq!(classify("86.0400", &or, &r), ProcKind::Therapeutic);
    assert_eq!(classify("99.2500", &or, &r), ProcKind::Therapeutic);
    let k = case_key(&s(&["K35.800"]), &s(&["99.2500", "47.0900", "99.2500", "88.0100"]), &or, &r).unwrap();
    assert_eq!((k.dx_key.as_str(), k.proc_key.as_str(), k.treat), ("K35.8", "47.0900+99.2500", TreatType::Surgery));
    let k = case_key(&s(&["K358"]), &s(&["88.0100"]), &or, &r).unwrap();
    assert_eq!((k.dx_key.as_str(), k.category.as_str(), k.proc_key.as_str(), k.treat), ("K35.8", "K35", "88.0100", TreatType::Diagnostic));
    let sev = SeverityRule::default();
    assert_eq!(sev.level(&s(&["A", "B", "C"]), Some(1)), 2);
    assert_eq!(sev.level(&s(&["A", "A"]), Some(1)), 1);
    assert_eq!(sev.level(&[], Some(5)), 4);
}

#[test]
fn catalogue_roundtrips_through_json() {
    let h = history();
    let cat = build_it(&h);
    let json = serde_json::to_string(cat.data()).unwrap();
    let back = Catalogue::from_data(serde_json::from_str(&json).unwrap());
    // descriptive f64 statistics may differ in the last bit through JSON; payment fields do not
    assert_eq!(back.entries().iter().map(|e| (&e.code, e.score, e.cost_mean, &e.severity)).collect::<Vec<_>>(),
        cat.entries().iter().map(|e| (&e.code, e.score, e.cost_mean, &e.severity)).collect::<Vec<_>>());
    let dx = s(&["K35.800", "I10.x00"]);
    let px = s(&["47.0900"]);
    let c = DipCase { year: 2025, diagnoses: &dx, procedures: &px, cost: Fen::from_yuan(6000), los: 5, leaving_type: Some(1), age_years: Some(70), age_days: None };
    assert_eq!(back.assign(&c), cat.assign(&c));
}
