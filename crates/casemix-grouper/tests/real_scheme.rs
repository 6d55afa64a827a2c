//! Hand-made records on the real CHS-DRG 1.1 scheme (`../shared/schemes/chs_drg_11`), each expected
//! group derived by reading the scheme data (derivation in the comments), plus a property test:
//! no input makes the grouper panic.

mod common;

use casemix_grouper::{Grouper, Outcome};
use casemix_model::{Centi, GroupInput};
use proptest::prelude::*;
use std::sync::OnceLock;

fn g() -> &'static Grouper {
    static G: OnceLock<Grouper> = OnceLock::new();
    G.get_or_init(|| Grouper::from_dir(common::shared_dir().join("schemes/chs_drg_11")).unwrap())
}

fn group(dx: &[&str], px: &[&str]) -> (String, String, String, String) {
    let dx: Vec<String> = dx.iter().map(|s| s.to_string()).collect();
    let px: Vec<String> = px.iter().map(|s| s.to_string()).collect();
    let inp = GroupInput {
        sex: Some(1),
        age_years: Some(30),
        age_days: None,
        birth_weight_g: None,
        dept: None,
        los_days: Some(5),
        leaving_type: Some(1),
        icu_hours: Some(Centi(0)),
        diagnoses: &dx,
        procedures: &px,
    };
    let r = g().group(&inp);
    (r.status.into(), r.mdc.into(), r.adrg.into(), r.drg.into())
}

fn ok(mdc: &str, adrg: &str, drg: &str) -> (String, String, String, String) {
    ("分组成功".into(), mdc.into(), adrg.into(), drg.into())
}

#[test]
fn appendectomy_with_cc() {
    // 47.0100 ∈ or_procedures.tsv, so MDCA's entry (procedure count >= 1 and main_proc_in
    // @or_procedures) holds, but no MDCA ADRG lists 47.0100 → next MDC. K35.300 ∈ MDCG.dx →
    // MDCG. Steps GB1…GC2 do not list K35.300; GD1's entry = K35.300 ∈ GD1.dx, ≥ 1 procedure,
    // 47.0100 ∈ GD1.proc. GD13 = "diagnoses > 1 and (has_mcc or has_cc)": J18.900 is in cc.tsv with
    // table 101; K35.300's row in cc_exclusion.tsv is table 112 ≠ 101 → counted → GD13.
    assert_eq!(group(&["K35.300", "J18.900"], &["47.0100"]), ok("MDCG", "GD1", "GD13"));
}

#[test]
fn appendectomy_cc_excluded_by_principal_table() {
    // Same path, but the only secondary K38.000 is a CC of table 112 (cc.tsv), and K35.300's
    // exclusion table is 112 → excluded; not in mcc.tsv → GD13 fails → GD15 (`const true`).
    assert_eq!(group(&["K35.300", "K38.000"], &["47.0100"]), ok("MDCG", "GD1", "GD15"));
}

#[test]
fn appendicitis_without_operation_is_medical() {
    // No procedure: MDCA's entry needs a procedure → skipped. In MDCG every surgical ADRG entry
    // needs "procedures >= 1"; GZ1's entry is only K35.300 ∈ GZ1.dx → GZ1; no secondary → GZ15.
    assert_eq!(group(&["K35.300"], &[]), ok("MDCG", "GZ1", "GZ15"));
    // with the CC J18.900 (table 101 ≠ 112) → GZ13
    assert_eq!(group(&["K35.300", "J18.900"], &[]), ok("MDCG", "GZ1", "GZ13"));
}

#[test]
fn unknown_codes_end_as_no_group_not_error() {
    // "X99.999" is in no MDC list → every MDC entry (main_dx_in …) is false → 0000.
    assert_eq!(group(&["X99.999"], &[]), ("无法入组".into(), "0000".into(), "00".into(), "0000".into()));
}

#[test]
fn newborn_without_weight_fails_input_check() {
    let dx = vec!["P07.100".to_string()];
    let inp = GroupInput {
        sex: Some(2),
        age_years: Some(0),
        age_days: Some(3),
        birth_weight_g: None,
        dept: None,
        los_days: Some(5),
        leaving_type: Some(1),
        icu_hours: Some(Centi(0)),
        diagnoses: &dx,
        procedures: &[],
    };
    // check 5: age_years == 0 and age_days <= 28 and birth weight missing
    let r = g().group(&inp);
    assert_eq!(r.outcome, Outcome::CheckFailed(4));
    assert_eq!(r.message, "新生儿的出生体重必须有值");
}

fn opt_int() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![Just(None), (-5i64..200).prop_map(Some), any::<i64>().prop_map(Some)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
    #[test]
    fn grouper_never_panics(
        sex in opt_int(), age in opt_int(), days in opt_int(), bw in opt_int(), los in opt_int(),
        lt in opt_int(), icu in opt_int(), dept in proptest::option::of("[A-Za-z0-9]{0,6}"),
        dx in proptest::collection::vec(prop_oneof!["[A-Z][0-9]{2}\\.[0-9]{3}", ".{0,8}", Just("K35.300".to_string()), Just("J18.900".to_string())], 0..30),
        px in proptest::collection::vec(prop_oneof!["[0-9]{2}\\.[0-9]{4}", ".{0,8}", Just("47.0100".to_string())], 0..30),
    ) {
        let inp = GroupInput {
            sex, age_years: age, age_days: days, birth_weight_g: bw, dept: dept.as_deref(),
            los_days: los, leaving_type: lt, icu_hours: icu.map(Centi), diagnoses: &dx, procedures: &px,
        };
        let r = g().group(&inp);
        let (r2, trace) = g().explain(&inp);
        // tracing never changes the result
        prop_assert_eq!(r, r2);
        prop_assert!(!trace.lines.is_empty() || r.outcome != Outcome::Grouped);
    }
}
