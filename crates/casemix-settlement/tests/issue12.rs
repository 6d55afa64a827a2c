//! Issue 12 (findings 2, 7, 8): the settlement gate, duplicate / non-positive / absurd lists,
//! deductions by (hospital, list id), the special-case cap on the year, and a balance check that
//! can fail. Every expected number is worked out by hand in the comments.

use casemix_model::Fen;
use casemix_policy::{parse, Policy};
use casemix_pricing::*;
use casemix_settlement::*;
use rustc_hash::FxHashSet;
use std::collections::BTreeMap;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn rates() -> RateTable {
    let g = |code: &str, pts: &str, mean: i64| GroupRate { code: code.into(), name: String::new(), base_points: d(pts), mean_cost: Fen::from_yuan(mean), kind: String::new() };
    RateTable::from_groups(RateSource::DrgWeights, vec![g("G1", "100", 10_000), g("G2", "200", 20_000)], Fen::from_yuan(10_000))
}

fn hospitals() -> Vec<Hospital> {
    vec![Hospital { code: "H1".into(), name: "甲医院".into(), level: "三级".into(), tier: 1 }, Hospital { code: "H2".into(), name: "乙医院".into(), level: "三级".into(), tier: 1 }]
}

fn case(id: &str, h: &str, g: &str, cost_fen: i64, month: u32) -> CaseInput {
    CaseInput {
        list_id: id.into(),
        hospital_code: h.into(),
        group: Some(g.into()),
        grouped_ok: true,
        total_cost: Fen(cost_fen),
        los_days: 5,
        leaving_type: Some(1),
        year: 2025,
        month,
        ..Default::default()
    }
}

// budget 100000 yuan, no adjustment fund, no deposit, every level coefficient 1
const POLICY: &str = r#"
[policy]
region = "闸门测试区"
year = 2025
model = "drg_points"
[budget]
total_cost = "100000"
adjustment_fund_share = 0
quality_deposit_share = 0
"#;

fn policy(extra: &str) -> Policy {
    parse(&format!("{POLICY}{extra}")).unwrap()
}

fn run_with(p: &Policy, cases: &[CaseInput], approved: &FxHashSet<CaseKey>, ded: &[Deduction], period: Period) -> Settlement {
    let r = rates();
    let hs = hospitals();
    let pr = Pricer::new(p, &r, &hs);
    settle(&SettleInput { pricer: &pr, hospitals: &hs, cases, approved, deductions: ded, indicators: &BTreeMap::new() }, period)
}

fn run(p: &Policy, cases: &[CaseInput], ded: &[Deduction]) -> Settlement {
    run_with(p, cases, &FxHashSet::default(), ded, Period::Year)
}

fn st<'a>(s: &'a Settlement, h: &str) -> &'a HospitalStatement {
    s.statements.iter().find(|x| x.hospital_code == h).unwrap()
}

fn line<'a>(s: &'a Settlement, cases: &[CaseInput], h: &str, id: &str) -> Option<&'a CaseLine> {
    s.cases.iter().find(|c| cases[c.index].hospital_code == h && cases[c.index].list_id == id)
}

/// H1: two G1 cases (100 points each), H2: one G2 case (200 points) — 400 points for a pool of
/// 100000 yuan → point value 250 yuan; H1 gets 50000.00, H2 50000.00.
fn region() -> Vec<CaseInput> {
    vec![case("A1", "H1", "G1", 1_000_000, 3), case("A2", "H1", "G1", 1_000_000, 5), case("B1", "H2", "G2", 2_000_000, 3)]
}

#[test]
fn held_list_of_900_trillion_leaves_point_value_and_other_hospital_unchanged() {
    let p = policy("");
    let base = run(&p, &region(), &[]);
    assert_eq!(base.summary.tiers[0].point_value, d("250"));
    assert_eq!((st(&base, "H1").net_payment, st(&base, "H2").net_payment), (Fen(5_000_000), Fen(5_000_000)));

    // finding 2: H1 uploads a list claiming 900000000000000.00 yuan with QC errors
    let mut cases = region();
    let mut big = case("BIG", "H1", "G1", 90_000_000_000_000_000, 12);
    big.qc_errors = 3;
    cases.push(big);
    let s = run(&p, &cases, &[]);
    // the point value and both hospitals' money are exactly as without it
    assert_eq!(s.summary.tiers[0].point_value, d("250"));
    assert_eq!(s.summary.tiers[0].total_points, d("400"));
    assert_eq!((st(&s, "H1").net_payment, st(&s, "H2").net_payment), (Fen(5_000_000), Fen(5_000_000)));
    // shown as held on its hospital's statement and in the case lines, never paid
    let h1 = st(&s, "H1");
    assert_eq!((h1.cases, h1.held_cases, h1.held_cost), (2, 1, Fen(90_000_000_000_000_000)));
    assert_eq!(h1.held_cost.to_string(), "900000000000000.00");
    assert!(h1.notes.iter().any(|n| n.contains("待补正")));
    let l = line(&s, &cases, "H1", "BIG").unwrap();
    assert_eq!((l.price.method, l.payment(), l.price.points_units), (Method::Held, Fen::ZERO, 0));
    assert!(l.price.explanation_zh().contains("3 个错误"));
    assert_eq!((s.summary.held_cases, s.summary.cases), (1, 3));
    assert!(s.check_balance().ok(), "{:?}", s.check_balance());

    // i64-extreme amounts (finding 2: 92233720368547758.07 yuan = i64::MAX fen), twice: held, no
    // overflow anywhere (the held cost saturates at the largest fen amount)
    let mut ext = cases.clone();
    for id in ["MAX1", "MAX2"] {
        let mut c = case(id, "H2", "G2", i64::MAX, 7);
        c.qc_errors = 1;
        ext.push(c);
    }
    let s = run(&p, &ext, &[]);
    assert_eq!(st(&s, "H2").net_payment, Fen(5_000_000));
    assert_eq!((st(&s, "H2").held_cases, st(&s, "H2").held_cost), (2, Fen(i64::MAX)));
    assert!(s.check_balance().ok(), "{:?}", s.check_balance());
}

#[test]
fn accepted_list_is_settled_and_an_absurd_accepted_amount_is_refused() {
    let p = policy("");
    // the bureau accepted a list with 2 errors: A3 (G1, 10000 yuan) is paid like any other —
    // 500 points → 200 yuan a point; H1 300 points = 60000.00, H2 200 = 40000.00
    let mut cases = region();
    let mut a3 = case("A3", "H1", "G1", 1_000_000, 6);
    a3.qc_errors = 2;
    a3.qc_accepted = true;
    cases.push(a3);
    let s = run(&p, &cases, &[]);
    assert_eq!(s.summary.tiers[0].point_value, d("200"));
    assert_eq!((st(&s, "H1").net_payment, st(&s, "H1").held_cases), (Fen(6_000_000), 0));
    // accepted but claiming 900000000000000.00 yuan: above qc_gate.max_case_cost (10000000
    // yuan) → refused with the reason, never priced; the region is as without it
    let mut cases = region();
    let mut big = case("BIG", "H1", "G1", 90_000_000_000_000_000, 12);
    big.qc_errors = 1;
    big.qc_accepted = true;
    cases.push(big);
    let s = run(&p, &cases, &[]);
    assert_eq!(s.summary.tiers[0].point_value, d("250"));
    let r = s.rejections.iter().find(|r| r.list_id == "BIG").unwrap();
    assert_eq!((r.rule, r.index, r.hospital_code.as_str()), ("amount_out_of_range", Some(3), "H1"));
    assert!(r.message.contains("BIG") && r.message.contains("total_cost") && r.message.contains("10000000.00"), "{}", r.message);
    assert!(line(&s, &cases, "H1", "BIG").is_none());
    // with the gate off, lists with errors are settled like the rest (still within the amounts)
    let off = policy("[qc_gate]\nhold_on_errors = false\n");
    let mut cases = region();
    let mut a3 = case("A3", "H1", "G1", 1_000_000, 6);
    a3.qc_errors = 5;
    cases.push(a3);
    assert_eq!(run(&off, &cases, &[]).summary.tiers[0].point_value, d("200"));
}

#[test]
fn duplicate_list_id_later_replaces_earlier_and_other_hospitals_keep_theirs() {
    let p = policy("");
    // A1 of H1 submitted twice: the later (G2, 20000 yuan → 200 points) replaces the earlier;
    // B1 at H2 and a list "A1" at H2 are different lists
    let mut cases = region();
    cases.push(case("A1", "H1", "G2", 2_000_000, 3));
    cases.push(case("A1", "H2", "G1", 1_000_000, 4));
    let s = run(&p, &cases, &[]);
    let dups: Vec<&Rejection> = s.rejections.iter().filter(|r| r.rule == "duplicate_list_id").collect();
    assert_eq!(dups.len(), 1);
    assert_eq!((dups[0].index, dups[0].hospital_code.as_str(), dups[0].list_id.as_str()), (Some(0), "H1", "A1"));
    assert!(dups[0].message.contains("以后提交的为准") && dups[0].message.contains("第 4 条"), "{}", dups[0].message);
    // points: H1 A1' 200 + A2 100 = 300; H2 B1 200 + A1 100 = 300 → 600 points, 166.666667 yuan a
    // point; each hospital 10000000 × 300/600 = 5000000 fen
    assert_eq!(s.summary.tiers[0].total_points, d("600"));
    assert_eq!(s.summary.tiers[0].point_value, d("166.666667"));
    assert_eq!((st(&s, "H1").cases, st(&s, "H2").cases), (2, 2));
    assert_eq!((st(&s, "H1").net_payment, st(&s, "H2").net_payment), (Fen(5_000_000), Fen(5_000_000)));
    assert_eq!(line(&s, &cases, "H1", "A1").unwrap().index, 3);
    assert!(s.check_balance().ok());
    // nothing is lost: 5 lines + 1 replaced = 6 records
    assert_eq!(s.cases.len() + s.rejections.len(), cases.len());
}

#[test]
fn non_positive_total_cost_is_refused_not_a_zero_point_low_outlier() {
    let p = policy("");
    let mut cases = region();
    cases.push(case("NEG", "H1", "G1", -100_000, 3));
    cases.push(case("ZERO", "H2", "G1", 0, 3));
    let s = run(&p, &cases, &[]);
    for id in ["NEG", "ZERO"] {
        let r = s.rejections.iter().find(|r| r.list_id == id).unwrap();
        assert_eq!(r.rule, "total_cost_not_positive");
        assert!(r.message.contains("应大于 0") && r.message.contains(id), "{}", r.message);
        assert!(s.cases.iter().all(|c| cases[c.index].list_id != id));
    }
    assert!(s.rejections.iter().any(|r| r.message.contains("-1000.00")));
    // the region is unchanged: 250 yuan a point
    assert_eq!(s.summary.tiers[0].point_value, d("250"));
}

fn ded(id: &str, h: &str, action: Action, amount: i64) -> Deduction {
    Deduction { list_id: id.into(), hospital_code: h.into(), rule: "R1".into(), action, target: String::new(), amount: Fen(amount), reason: String::new() }
}

#[test]
fn deductions_match_hospital_and_list_id_and_unknown_ones_are_refused() {
    let p = policy("");
    let cases = region();
    let ds = vec![
        ded("A1", "H1", Action::Amount, 10_000), // applied: H1 − 100.00
        ded("NOPE", "H1", Action::Amount, 20_000), // unknown list: refused
        ded("B1", "H1", Action::Amount, 30_000),  // B1 is H2's list: refused, never applied to H1 or H2
        ded("A2", "", Action::NotPaid, 0),        // no hospital: refused
        ded("A2", "H2", Action::NotPaid, 0),      // A2 of H2 does not exist: refused (not H1's A2)
    ];
    let s = run(&p, &cases, &ds);
    let rules: Vec<(&str, &str)> = s.rejections.iter().map(|r| (r.list_id.as_str(), r.rule)).collect();
    assert_eq!(
        rules,
        vec![("NOPE", "deduction_list_unknown"), ("B1", "deduction_list_unknown"), ("A2", "deduction_hospital_missing"), ("A2", "deduction_list_unknown")]
    );
    assert!(s.rejections[1].message.contains("属于医院 H2"), "{}", s.rejections[1].message);
    assert!(s.rejections[0].message.contains("NOPE"));
    // H1: 5000000 − 10000 = 4990000; H2 untouched 5000000; A2 still paid (100 points)
    assert_eq!((st(&s, "H1").deductions, st(&s, "H1").net_payment), (Fen(10_000), Fen(4_990_000)));
    assert_eq!((st(&s, "H2").deductions, st(&s, "H2").net_payment), (Fen::ZERO, Fen(5_000_000)));
    assert_eq!(line(&s, &cases, "H1", "A2").unwrap().price.method, Method::Group);
    assert_eq!(s.summary.remainder, Fen(10_000));
    assert!(s.check_balance().ok());
}

#[test]
fn special_case_cap_is_counted_on_the_year_not_the_month() {
    // default cap 5 %. The year: 19 G1 cases in March at H1, and in July one approved special
    // case S (G2 at H2, 30000 yuan) alone in its month. Month cap floor(0.05 × 1) = 0 would refuse
    // it; the year's cap floor(0.05 × 20) = 1 admits it — in July and at year end alike.
    let p = policy("");
    let mut cases: Vec<CaseInput> = (0..19).map(|i| case(&format!("M{i}"), "H1", "G1", 1_000_000, 3)).collect();
    cases.push(case("S", "H2", "G2", 3_000_000, 7));
    let mut approved = FxHashSet::default();
    approved.insert(CaseKey { hospital_code: "H2".into(), list_id: "S".into() });
    // approval keyed by hospital: "S" approved at H1 would not make H2's S special
    let mut wrong = FxHashSet::default();
    wrong.insert(CaseKey { hospital_code: "H1".into(), list_id: "S".into() });
    let july = run_with(&p, &cases, &approved, &[], Period::Month(7));
    let year = run_with(&p, &cases, &approved, &[], Period::Year);
    for s in [&july, &year] {
        let l = line(s, &cases, "H2", "S").unwrap();
        // special: fee-for-service at the eligible cost 30000.00 yuan (no selfpay)
        assert_eq!((l.price.method, l.price.ffs_amount), (Method::SpecialCase, Fen(3_000_000)));
        assert_eq!(s.summary.special_cases, 1);
        assert!(s.check_balance().ok());
    }
    let not = run_with(&p, &cases, &wrong, &[], Period::Month(7));
    assert_eq!(line(&not, &cases, "H2", "S").unwrap().price.method, Method::Group);
    // two approved specials in a 20-case year: cap 1; the larger over-run (S2: 60000 / 20000 = 3
    // against S: 1.5) stays special, S is paid by group with the cap step
    let mut cases2 = cases.clone();
    cases2[0] = case("S2", "H1", "G2", 6_000_000, 3);
    approved.insert(CaseKey { hospital_code: "H1".into(), list_id: "S2".into() });
    let s = run_with(&p, &cases2, &approved, &[], Period::Month(7));
    let l = line(&s, &cases2, "H2", "S").unwrap();
    assert_eq!(l.price.method, Method::Group);
    assert!(l.price.reasons().starts_with("SPECIAL_CAP"));
}

#[test]
fn policy_approved_special_cases_name_the_hospital() {
    let p = policy("[special_cases]\napproved = [\"H2:S\"]\ncap_share = 1\n");
    let cases = vec![case("S", "H1", "G1", 1_000_000, 3), case("S", "H2", "G1", 1_000_000, 3)];
    let s = run(&p, &cases, &[]);
    assert_eq!(line(&s, &cases, "H1", "S").unwrap().price.method, Method::Group);
    assert_eq!(line(&s, &cases, "H2", "S").unwrap().price.method, Method::SpecialCase);
}

#[test]
fn balance_check_fails_on_a_broken_statement_line_or_remainder() {
    let p = parse(&POLICY.replace("quality_deposit_share = 0", "quality_deposit_share = 0.05")).unwrap();
    let cases = region();
    let s = run(&p, &cases, &[ded("A1", "H1", Action::Amount, 10_000)]);
    let ok = s.check_balance();
    // case lines: 5000000 + 5000000 = 10000000 fen; statements the same; net: H1 5000000 −
    // deposit 250000 + returned (default score 100 → all) 250000 − 10000 = 4990000, H2 5000000
    assert!(ok.ok(), "{ok:?}");
    assert_eq!((ok.case_payments, ok.statement_payments, ok.statement_net), (10_000_000, 10_000_000, 9_990_000));

    // one fen more on H1's net payment: the statement's own fields no longer add up
    let mut bad = s.clone();
    bad.statements[0].net_payment += Fen(1);
    let c = bad.check_balance();
    assert!(!c.ok());
    assert!(c.problems.iter().any(|p| p.contains("医院 H1") && p.contains("应拨付")), "{:?}", c.problems);
    // a statement whose net and parts agree but is one fen richer than its case lines
    let mut bad = s.clone();
    bad.statements[1].points_value += Fen(1);
    bad.statements[1].group_payment += Fen(1);
    bad.statements[1].net_payment += Fen(1);
    bad.summary.net_payments += Fen(1);
    let c = bad.check_balance();
    assert!(!c.ok());
    assert!(c.problems.iter().any(|p| p.contains("医院 H2") && p.contains("病例明细")), "{:?}", c.problems);
    // a case line paid one fen more than the pool gave out
    let mut bad = s.clone();
    bad.cases[0].points_payment += Fen(1);
    assert!(!bad.check_balance().ok());
    // a remainder part stated one fen off (the summary no longer adds up to the budget)
    let mut bad = s.clone();
    bad.summary.remainder_deductions += Fen(1);
    bad.summary.remainder += Fen(1);
    let c = bad.check_balance();
    assert!(c.problems.iter().any(|p| p.contains("审核扣减")), "{:?}", c.problems);
    assert!(!bad.summary.balances());
}

#[test]
fn a_tier_whose_every_case_is_held_states_its_pool_as_not_distributable() {
    let p = policy("");
    let mut cases = region();
    for c in cases.iter_mut() {
        c.qc_errors = 1;
    }
    let s = run(&p, &cases, &[]);
    // nothing settled: the whole 100000 yuan stays, stated as a pool with no points to take it
    assert_eq!((s.summary.cases, s.summary.held_cases, s.summary.held_cost), (0, 3, Fen(4_000_000)));
    assert_eq!((s.summary.remainder_pool_not_distributable, s.summary.remainder), (Fen(10_000_000), Fen(10_000_000)));
    assert_eq!(s.summary.net_payments, Fen::ZERO);
    assert!(s.check_balance().ok());
}

#[test]
fn budget_point_value_states_capped_and_rounding_parts() {
    // March, budget point value 33.333334 yuan: month budget 10000000 / 12 → 833334 fen (Jan–Apr
    // get the 4 leftover fen); three G1 cases of 100 points. Each case: 100 × 33.333334 =
    // 3333.3334 yuan = 333333.34 fen → 333333, so 999999 distributed; the exact value of the
    // 300 points is 10000.0002 yuan → 1000000 fen. Parts: by value 833334 − 1000000 = −166666
    // (paid above the month's pool), rounding 1000000 − 999999 = 1; pool left 833334 − 999999.
    let p = policy("budget_point_value = \"33.333334\"\n");
    let cases = vec![case("A1", "H1", "G1", 1_000_000, 3), case("C1", "H2", "G1", 1_000_000, 3), case("C2", "H2", "G1", 1_000_000, 3)];
    let s = run_with(&p, &cases, &FxHashSet::default(), &[], Period::Month(3));
    assert_eq!(s.summary.budget, Fen(833_334));
    assert_eq!(s.summary.tiers[0].distributed_by_points, Fen(999_999));
    assert_eq!((s.summary.remainder_pool_by_value, s.summary.remainder_pool_rounding), (Fen(-166_666), Fen(1)));
    assert_eq!(s.summary.remainder_pool_undistributed, Fen(833_334 - 999_999));
    assert!(s.check_balance().ok(), "{:?}", s.check_balance());
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn random_policy(adj: u32, dep: u32, adv: u32, bpv: Option<u32>, band: bool, cap: u32) -> Policy {
        let mut t = format!(
            "[policy]\nregion = \"随机区\"\nyear = 2025\nmodel = \"drg_points\"\n[budget]\ntotal_cost = \"180000.37\"\nadjustment_fund_share = 0.0{adj}\nquality_deposit_share = 0.0{dep}\nmonthly_advance_share = 0.{adv}\n"
        );
        if let Some(v) = bpv {
            t.push_str(&format!("budget_point_value = {v}\n"));
            if band {
                t.push_str("point_value_band = 0.1\n");
            }
        }
        t.push_str(&format!("[special_cases]\ncap_share = 0.{cap}\n[clearing]\nenabled = true\n[clearing.surplus_retention]\nenabled = true\n"));
        parse(&t).unwrap()
    }

    type Raw = (u8, u8, i64, u8, bool, u8, bool, bool);

    fn arb_case() -> impl Strategy<Value = Raw> {
        // hospital, group (0 G1, 1 G2, 2 unknown), cost (some ≤ 0, some absurd), QC errors, accepted,
        // month, approved special, reuse the previous list id (a re-submission)
        let cost = prop_oneof![8 => 1i64..6_000_000, 1 => -100_000i64..=0, 1 => prop_oneof![Just(90_000_000_000_000_000i64), Just(i64::MAX), Just(i64::MIN)]];
        (0u8..2, 0u8..3, cost, prop_oneof![3 => Just(0u8), 1 => 1u8..4], any::<bool>(), 1u8..13, proptest::bool::weighted(0.1), proptest::bool::weighted(0.1))
    }

    fn build(raw: &[Raw]) -> (Vec<CaseInput>, FxHashSet<CaseKey>) {
        let mut approved = FxHashSet::default();
        let mut cases: Vec<CaseInput> = Vec::new();
        for (i, &(h, g, cost, qc, acc, m, special, again)) in raw.iter().enumerate() {
            let hc = ["H1", "H2"][h as usize];
            let id = match cases.last() {
                Some(prev) if again && prev.hospital_code == hc => prev.list_id.clone(),
                _ => format!("R{i}"),
            };
            let mut c = case(&id, hc, ["G1", "G2", "XX"][g as usize], cost, m as u32);
            c.qc_errors = qc as u32;
            c.qc_accepted = acc;
            c.others_paid = Fen(cost.clamp(0, 6_000_000) / 3);
            if special {
                approved.insert(CaseKey { hospital_code: hc.into(), list_id: id });
            }
            cases.push(c);
        }
        (cases, approved)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// The three independent sums agree for random regions and policies, and held lists move
        /// nothing: removing them leaves every point value and payment as it was.
        #[test]
        fn balance_holds_and_held_lists_move_nothing(raw in proptest::collection::vec(arb_case(), 1..50), adj in 0u32..9, dep in 0u32..9,
                adv in 5u32..10, bpv in proptest::option::of(50u32..300), band in any::<bool>(), cap in 0u32..5, month in 1u32..13,
                nd in 0usize..4) {
            let p = random_policy(adj, dep, adv, bpv, band, cap);
            let (cases, approved) = build(&raw);
            let ds: Vec<Deduction> = cases.iter().take(nd).enumerate().map(|(i, c)| {
                let h = if i == 2 { "H9".to_string() } else { c.hospital_code.clone() };
                ded(&c.list_id, &h, if i == 1 { Action::NotPaid } else { Action::Amount }, 1_000)
            }).collect();
            // the same input without held lists (a held list's last submission is held; an earlier
            // submission it replaced stays replaced, so drop every submission of a held list)
            let held = |c: &CaseInput| p.qc_gate.holds(c.qc_errors, c.qc_accepted);
            let held_ids: FxHashSet<(String, String)> = {
                let mut last: BTreeMap<(String, String), &CaseInput> = BTreeMap::new();
                for c in &cases { last.insert((c.hospital_code.clone(), c.list_id.clone()), c); }
                last.into_iter().filter(|(_, c)| held(c)).map(|(k, _)| k).collect()
            };
            let clean: Vec<CaseInput> = cases.iter().filter(|c| !held_ids.contains(&(c.hospital_code.clone(), c.list_id.clone()))).cloned().collect();
            let ds_clean: Vec<Deduction> = ds.iter().filter(|d| !held_ids.contains(&(d.hospital_code.clone(), d.list_id.clone()))).cloned().collect();
            for period in [Period::Year, Period::Month(month)] {
                let s = run_with(&p, &cases, &approved, &ds, period);
                let c = s.check_balance();
                prop_assert!(c.ok(), "{:?}", c.problems);
                prop_assert_eq!(c.case_payments, c.statement_payments);
                // no line is paid for a held list, and nothing refused is a case line
                for l in &s.cases {
                    prop_assert!(cases[l.index].total_cost.0 > 0 || l.price.method == Method::Held);
                    if l.price.method == Method::Held { prop_assert_eq!(l.payment(), Fen::ZERO); }
                }
                let t = run_with(&p, &clean, &approved, &ds_clean, period);
                prop_assert_eq!(s.summary.tiers.iter().map(|t| t.point_value).collect::<Vec<_>>(), t.summary.tiers.iter().map(|t| t.point_value).collect::<Vec<_>>());
                for h in ["H1", "H2"] {
                    let net = |x: &Settlement| x.statements.iter().find(|s| s.hospital_code == h).map(|s| s.net_payment).unwrap_or(Fen::ZERO);
                    prop_assert_eq!(net(&s), net(&t), "hospital {}", h);
                }
            }
        }

        /// Pricing never panics, whatever the amounts, the weights and the point value.
        #[test]
        fn pricing_never_panics(total in any::<i64>(), selfpay in any::<i64>(), others in any::<i64>(), excl in any::<i64>(),
                pts in 0u64..=1_000_000, mean in 0i64..=1_000_000_000_000, pv in any::<i64>(), pv_scale in 0u32..10, qc in 0u32..2, acc in any::<bool>()) {
            let p = policy("[fallback]\nmethod = \"points\"\neligible_cost = \"total\"\n[exclusions]\nitems = [{ code = \"X\" }]\n");
            let g = GroupRate { code: "G1".into(), name: String::new(), base_points: Decimal::from(pts), mean_cost: Fen(mean), kind: String::new() };
            let r = RateTable::from_groups(RateSource::DrgWeights, vec![g], Fen(mean));
            let hs = hospitals();
            let pr = Pricer::new(&p, &r, &hs);
            for grp in [Some("G1"), None] {
                let mut c = case("Z", "H1", "G1", total, 3);
                c.group = grp.map(str::to_string);
                c.grouped_ok = grp.is_some();
                c.selfpay = Fen(selfpay);
                c.others_paid = Fen(others);
                c.excluded_items = vec![("X".into(), Fen(excl))];
                c.qc_errors = qc;
                c.qc_accepted = acc;
                for flags in [CaseFlags::default(), CaseFlags { special_approved: true, not_paid: false }] {
                    let cp = pr.price(&c, flags);
                    let v = Decimal::new(pv, pv_scale);
                    let _ = (cp.payment(v), cp.try_payment(v), cp.explanation_zh());
                    if !(1..=1_000_000_000).contains(&total) || !(0..=1_000_000_000).contains(&excl) {
                        prop_assert!(matches!(cp.method, Method::Held | Method::Refused), "{:?}", cp.method);
                    }
                    prop_assert!(cp.points_units <= MAX_CASE_POINTS * POINTS_UNIT);
                }
            }
        }
    }
}
