//! Hand-computed settlements: a 3-hospital region, every number worked out in the comments.

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
    vec![
        Hospital { code: "H1".into(), name: "甲医院".into(), level: "三级甲等".into(), tier: 1 },
        Hospital { code: "H2".into(), name: "乙医院".into(), level: "三级".into(), tier: 2 },
        Hospital { code: "H3".into(), name: "丙医院".into(), level: "二级".into(), tier: 2 },
    ]
}

fn case(id: &str, h: &str, g: Option<&str>, cost_fen: i64, month: u32) -> CaseInput {
    CaseInput {
        list_id: id.into(),
        hospital_code: h.into(),
        group: g.map(str::to_string),
        grouped_ok: g.is_some(),
        total_cost: Fen(cost_fen),
        los_days: 5,
        leaving_type: Some(1),
        year: 2025,
        month,
        ..Default::default()
    }
}

const BASE: &str = r#"
[policy]
region = "手算测试区"
year = 2025
model = "drg_points"
[budget]
total_cost = "100000"
adjustment_fund_share = 0.08
quality_deposit_share = 0.05
monthly_advance_share = 0.9
[coefficients]
[coefficients.level]
"三级甲等" = 1.1
"三级" = 1.0
"二级" = 0.9
[[coefficients.bonus]]
name = "重点专科"
value = 0.05
hospitals = ["H3"]
[outliers.high]
threshold = "band"
bands = [{ max_points = 100, multiplier = 3 }, { multiplier = 2 }]
payment = "additional_points"
[exclusions]
items = [{ code = "NEWDRUG1" }]
[special_cases]
approved = ["H1:C10"]
cap_share = 0.5
[clearing.deposit_return]
full_score = 100
min_score = 60
default_score = 100
"#;

fn run(policy: &Policy, cases: &[CaseInput], deductions: &[Deduction], ind: &BTreeMap<String, IndicatorRow>, period: Period) -> Settlement {
    let r = rates();
    let hs = hospitals();
    let pr = Pricer::new(policy, &r, &hs);
    let approved = FxHashSet::default();
    settle(&SettleInput { pricer: &pr, hospitals: &hs, cases, approved: &approved, deductions, indicators: ind }, period)
}

fn region_cases() -> Vec<CaseInput> {
    let mut c10 = case("C10", "H1", Some("G2"), 3_000_000, 3);
    c10.selfpay = Fen(200_000);
    let mut c11 = case("C11", "H3", None, 800_000, 3);
    c11.selfpay = Fen(50_000);
    let mut c13 = case("C13", "H1", Some("G2"), 2_500_000, 3);
    c13.excluded_items = vec![("NEWDRUG1".into(), Fen(500_000))];
    vec![
        case("C01", "H1", Some("G1"), 1_000_000, 3), // 100 × 1.1 = 110 points
        case("C02", "H2", Some("G1"), 1_200_000, 3), // 100 × 1.0 = 100
        case("C03", "H3", Some("G1"), 900_000, 3),   // 100 × (0.9 + 0.05) = 95
        c10,                                          // special: 30000 − 2000 = 28000 yuan by item
        c11,                                          // ungrouped: 8000 − 500 = 7500 yuan by item
        c13,                                          // 5000 by item; 20000/20000 → 200 × 1.1 = 220
    ]
}

fn get<'a>(s: &'a Settlement, h: &str) -> &'a HospitalStatement {
    s.statements.iter().find(|x| x.hospital_code == h).unwrap()
}

#[test]
fn year_end_budget_points_deposit_and_deductions() {
    let p = parse(BASE).unwrap();
    let cases = region_cases();
    let ded = vec![Deduction { list_id: "C02".into(), hospital_code: "H2".into(), rule: "R1".into(), action: Action::Amount, target: String::new(), amount: Fen(10_000), reason: String::new() }];
    let mut ind = BTreeMap::new();
    ind.insert("H1".to_string(), IndicatorRow { values: BTreeMap::new(), assessment_score: Some(d("90")) });
    ind.insert("H2".to_string(), IndicatorRow { values: BTreeMap::new(), assessment_score: Some(d("50")) });
    let s = run(&p, &cases, &ded, &ind, Period::Year);
    // budget 100000 yuan; adjustment fund 8% = 8000; distributable 92000
    assert_eq!((s.summary.budget, s.summary.adjustment_fund, s.summary.distributable), (Fen(10_000_000), Fen(800_000), Fen(9_200_000)));
    // paid at cost: 28000 + 7500 + 5000 = 40500 → points pool 51500 yuan over 525 points
    let t = &s.summary.tiers[0];
    assert_eq!((t.paid_at_cost, t.points_pool, t.total_points), (Fen(4_050_000), Fen(5_150_000), d("525")));
    // point value 51500 / 525 = 98.095238 (display, 6 dp)
    assert_eq!(t.point_value, d("98.095238"));
    // largest remainder over hospitals (H1 330, H2 100, H3 95 points of 525):
    //   H1 3237142.857, H2 980952.381, H3 931904.762 → floors Σ 5149998, 2 fen to H1 and H3
    //   → H1 3237143, H2 980952, H3 931905; within H1 (110 : 220): 1079047.667 / 2158095.333
    //   → 1 fen to C01 → C01 1079048, C13 2158095
    let pay: BTreeMap<&str, Fen> = s.cases.iter().map(|c| (cases[c.index].list_id.as_str(), c.points_payment)).collect();
    assert_eq!(pay["C01"], Fen(1_079_048));
    assert_eq!(pay["C03"], Fen(931_905));
    // H1: group 1079048 + 2158095 = 3237143; ffs 2800000; exclusions 500000;
    //     deposit 5% of 6537143 = 326857.15 → 326857; score 90 → returned 326857 × 0.9 = 294171.3 → 294171
    //     net = 3237143 + 2800000 + 500000 − 326857 + 294171 = 6504457
    let h1 = get(&s, "H1");
    assert_eq!((h1.group_payment, h1.ffs_payment, h1.exclusions_payment), (Fen(3_237_143), Fen(2_800_000), Fen(500_000)));
    assert_eq!((h1.deposit_withheld, h1.deposit_returned, h1.net_payment), (Fen(326_857), Fen(294_171), Fen(6_504_457)));
    assert_eq!(h1.total_points, d("330"));
    // H2: 980952; deposit 49047.6 → 49048; score 50 < 60 → nothing back; deduction 100 yuan
    //     net = 980952 − 10000 − 49048 = 921904
    let h2 = get(&s, "H2");
    assert_eq!((h2.deductions, h2.deposit_withheld, h2.deposit_returned, h2.net_payment), (Fen(10_000), Fen(49_048), Fen::ZERO, Fen(921_904)));
    // H3: 931905 + 750000 = 1681905; deposit 84095.25 → 84095, default score 100 → all back
    assert_eq!(get(&s, "H3").net_payment, Fen(1_681_905));
    // balance: 10000000 − 800000 − (6504457 + 921904 + 1681905) = 91734
    //        = deductions 10000 + deposit kept (326857 − 294171) + 49048 = 91734
    assert_eq!(s.summary.remainder, Fen(91_734));
    assert_eq!(s.summary.remainder_deductions, Fen(10_000));
    assert_eq!(s.summary.remainder_deposit_retained, Fen(81_734));
    assert!(s.summary.balances());
}

#[test]
fn monthly_settlement_with_advance_share_and_deposit() {
    let p = parse(BASE).unwrap();
    let mut cases = region_cases();
    cases.push(case("C99", "H2", Some("G1"), 1_000_000, 4)); // April: not in March
    let s = run(&p, &cases, &[], &BTreeMap::new(), Period::Month(3));
    // month budget = 10000000 / 12 = 833333.33 → largest remainder gives March 833333 fen
    // (the 4 leftover fen go to Jan–Apr); adjustment fund 800000 / 12 → 66667 (Jan–Aug get +1)
    assert_eq!((s.summary.budget, s.summary.adjustment_fund), (Fen(833_334), Fen(66_667)));
    assert_eq!(s.summary.cases, 6);
    // distributable 766667; at cost 4050000 > budget → the points pool is negative: no points paid,
    // the overspend is stated as a negative undistributed remainder
    assert_eq!(s.summary.tiers[0].points_pool, Fen(766_667 - 4_050_000));
    assert_eq!(get(&s, "H2").group_payment, Fen::ZERO);
    assert!(s.summary.balances());

    // with a budget point value of 100 yuan: C02 100 points → 10000 yuan; advance 90% = 9000;
    // deposit 5% of 9000 = 450; net 8550
    let p = parse(&BASE.replace("monthly_advance_share = 0.9", "monthly_advance_share = 0.9\nbudget_point_value = 100")).unwrap();
    let s = run(&p, &cases, &[], &BTreeMap::new(), Period::Month(3));
    let h2 = get(&s, "H2");
    assert_eq!((h2.points_value, h2.group_payment, h2.deposit_withheld, h2.net_payment), (Fen(1_000_000), Fen(900_000), Fen(45_000), Fen(855_000)));
    assert_eq!(h2.point_value, d("100"));
    assert!(s.summary.balances());
}

#[test]
fn audit_actions_change_points() {
    let p = parse(BASE).unwrap();
    let cases = region_cases();
    let mk = |id: &str, h: &str, action, target: &str| Deduction { list_id: id.into(), hospital_code: h.into(), rule: "R".into(), action, target: target.into(), amount: Fen::ZERO, reason: String::new() };
    let ded = vec![mk("C03", "H3", Action::NotPaid, ""), mk("C02", "H2", Action::Regroup, "G2"), mk("C01", "H1", Action::MergeInto, "C13")];
    let s = run(&p, &cases, &ded, &BTreeMap::new(), Period::Year);
    let m: BTreeMap<&str, &CaseLine> = s.cases.iter().map(|c| (cases[c.index].list_id.as_str(), c)).collect();
    // C03 not paid: 0 points
    assert_eq!((m["C03"].price.method, m["C03"].price.final_points), (Method::NotPaid, d("0")));
    // C02 regrouped to G2 at H2: 12000/20000 = 0.6 → normal → 200 points
    assert_eq!(m["C02"].price.final_points, d("200"));
    // C01 merged into C13: C13 cost 25000 + 10000 − 5000 excluded = 30000 / 20000 = 1.5 → 200 × 1.1 = 220
    assert_eq!(m["C01"].price.method, Method::NotPaid);
    assert_eq!(m["C13"].price.final_points, d("220"));
    // pool 51500 yuan over 200 + 220 = 420 points → H1 gets 5150000 × 220/420 = 2697619.05 fen
    // (remainders: H1 .048, H2 .952 → the 1 leftover fen goes to H2) → 2697619
    assert_eq!(m["C13"].points_payment + m["C02"].points_payment, Fen(5_150_000));
    assert_eq!(m["C13"].points_payment, Fen(2_697_619));
    assert!(s.summary.balances());
}

#[test]
fn wuxi_clearing_tiers_coefficients_and_surplus_retention() {
    let pol = r#"
[policy]
region = "无锡式清算"
year = 2025
model = "drg_points"
[budget]
total_cost = "40000"
[[tiers]]
id = 1
budget_share = 0.5
[[tiers]]
id = 2
budget_share = 0.5
floating_rate = -0.02
[coefficients.level]
"三级甲等" = 1.1
"三级" = 1.0
"二级" = 0.9
[[coefficients.bonus]]
name = "重点专科"
value = 0.05
hospitals = ["H3"]
[outliers.high]
threshold = "fixed"
multiplier = 3
payment = "additional_points"
[clearing]
enabled = true
min = 0.9
max = 1.1
indicators = [
  { key = "cost_per_weight_index", name = "单位权重医疗总费用增长", lower_is_better = true },
  { key = "list_accuracy", name = "结算清单填写准确率", lower_is_better = false },
]
[clearing.surplus_retention]
enabled = true
"#;
    let p = parse(pol).unwrap();
    let cases = vec![
        case("W1", "H1", Some("G1"), 1_000_000, 1), // 110 points, actual cost 10000
        case("W2", "H2", Some("G1"), 1_200_000, 2), // 100 points, actual 12000
        case("W3", "H3", Some("G1"), 900_000, 3),   // 95 points, actual 9000
    ];
    let row = |a: &str, b: &str| IndicatorRow {
        values: [("cost_per_weight_index".to_string(), d(a)), ("list_accuracy".to_string(), d(b))].into_iter().collect(),
        assessment_score: None,
    };
    let ind: BTreeMap<String, IndicatorRow> =
        [("H1".to_string(), row("1.05", "0.98")), ("H2".to_string(), row("1.10", "0.95")), ("H3".to_string(), row("0.90", "0.95"))].into_iter().collect();
    let s = run(&p, &cases, &[], &ind, Period::Year);
    // tier budgets 20000 / 20000 yuan
    assert_eq!(s.summary.tiers.iter().map(|t| t.budget).collect::<Vec<_>>(), vec![Fen(2_000_000), Fen(2_000_000)]);
    // tier 1: H1 alone → D = 20000; k = 1 (its own tier average); A/D = 10000/20000 = 0.5 < 0.7
    //   → pays actual 10000: clearing −10000 yuan
    let h1 = get(&s, "H1");
    assert_eq!((h1.group_payment, h1.clearing_coefficient, h1.clearing_adjustment, h1.net_payment), (Fen(2_000_000), Some(d("1")), Fen(-1_000_000), Fen(1_000_000)));
    // tier 2: 2000000 fen over 100/95: H2 1025641 (.03), H3 974358 (.97) + 1 = 974359
    // H2: cost index avg (1.10 + 0.90)/2 = 1.00 → 1.00/1.10 = 0.909091; accuracy 0.95/0.95 = 1
    //   → k = 0.909091; D' = 10256.41 × 0.98 × 0.909091 = 9137.525… → 913753 fen;
    //   A/D' = 12000/9137.53 = 1.313 ≥ 0.9 → pay D' → clearing −111888
    let h2 = get(&s, "H2");
    assert_eq!(h2.group_payment, Fen(1_025_641));
    assert_eq!(h2.clearing_coefficient, Some(d("0.909091")));
    assert_eq!((h2.clearing_adjustment, h2.net_payment), (Fen(-111_888), Fen(913_753)));
    // H3: 1.00/0.90 = 1.111111 → bounded to 1.1; D' = 9743.59 × 0.98 × 1.1 = 10503.59 → 1050359;
    //   A/D' = 9000/10503.59 = 0.857 in [0.7, 0.9) → pay 1.10 × 9000 = 9900 → clearing +15641
    let h3 = get(&s, "H3");
    assert_eq!(h3.clearing_coefficient, Some(d("1.1")));
    assert_eq!((h3.group_payment, h3.clearing_adjustment, h3.net_payment), (Fen(974_359), Fen(15_641), Fen(990_000)));
    // remainder 4000000 − 2903753 = 1096247 = clearing retained 1000000 + 111888 − 15641
    assert_eq!((s.summary.remainder, s.summary.remainder_clearing_retained), (Fen(1_096_247), Fen(1_096_247)));
    assert!(s.summary.balances());
}

#[test]
fn out_of_year_and_unknown_hospital_are_rejected_not_lost() {
    let p = parse(BASE).unwrap();
    let mut cases = region_cases();
    let mut old = case("OLD", "H1", Some("G1"), 1_000_000, 12);
    old.year = 2024;
    cases.push(old);
    cases.push(case("NOH", "H9", Some("G1"), 1_000_000, 5));
    let s = run(&p, &cases, &[], &BTreeMap::new(), Period::Year);
    assert_eq!(s.summary.cases + s.rejections.len() as u64, cases.len() as u64);
    let rules: Vec<&str> = s.rejections.iter().map(|r| r.rule).collect();
    assert_eq!(rules, vec!["out_of_year", "hospital_unknown"]);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn policy(adj: u32, dep: u32, k1: u32, clearing: bool, tiers: bool) -> Policy {
        let mut t = format!(
            r#"
[policy]
region = "随机区"
year = 2025
model = "drg_points"
[budget]
total_cost = "250000.37"
adjustment_fund_share = 0.0{adj}
quality_deposit_share = 0.0{dep}
[coefficients.level]
"三级甲等" = 1.{k1}
"三级" = 1.0
"二级" = 0.9
[outliers.high]
threshold = "band"
bands = [{{ max_points = 100, multiplier = 3 }}, {{ multiplier = 2 }}]
payment = "additional_points"
[special_cases]
cap_share = 0.2
"#
        );
        if tiers {
            t.push_str("[[tiers]]\nid = 1\nbudget_share = 0.6\n[[tiers]]\nid = 2\nbudget_share = 0.4\nfloating_rate = 0.01\n");
        }
        if clearing {
            t.push_str("[clearing]\nenabled = true\nindicators = [{ key = \"x\" }]\n[clearing.surplus_retention]\nenabled = true\n");
        }
        parse(&t).unwrap()
    }

    fn arb_case() -> impl Strategy<Value = (u8, u8, i64, i64, bool, u8)> {
        // hospital, group (0 = ungrouped, 1–2 = G1/G2, 3 = unknown), cost, selfpay, special, month
        (0u8..3, 0u8..4, 1i64..6_000_000, 0i64..200_000, proptest::bool::weighted(0.1), 1u8..13)
    }

    fn build(raw: &[(u8, u8, i64, i64, bool, u8)]) -> (Vec<CaseInput>, FxHashSet<CaseKey>) {
        let mut approved = FxHashSet::default();
        let cases = raw
            .iter()
            .enumerate()
            .map(|(i, &(h, g, cost, sp, special, m))| {
                let id = format!("R{i}");
                let hc = ["H1", "H2", "H3"][h as usize];
                if special {
                    approved.insert(CaseKey { hospital_code: hc.into(), list_id: id.clone() });
                }
                let grp = match g {
                    0 => None,
                    1 => Some("G1"),
                    2 => Some("G2"),
                    _ => Some("XX"),
                };
                let mut c = case(&id, hc, grp, cost, m as u32);
                c.selfpay = Fen(sp.min(cost));
                c.others_paid = Fen(cost / 3);
                c
            })
            .collect();
        (cases, approved)
    }

    fn settle_with(p: &Policy, cases: &[CaseInput], approved: &FxHashSet<CaseKey>, period: Period, ind: &BTreeMap<String, IndicatorRow>) -> Settlement {
        let r = rates();
        let hs = hospitals();
        let pr = Pricer::new(p, &r, &hs);
        settle(&SettleInput { pricer: &pr, hospitals: &hs, cases, approved, deductions: &[], indicators: ind }, period)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn budget_balances_to_the_fen(raw in proptest::collection::vec(arb_case(), 1..60), adj in 1u32..9, dep in 0u32..9,
                                      clearing in any::<bool>(), tiers in any::<bool>(), month in 1u32..13, x in 80u32..120) {
            let p = policy(adj, dep, 1, clearing, tiers);
            let (cases, approved) = build(&raw);
            let ind: BTreeMap<String, IndicatorRow> = ["H1", "H2", "H3"].iter().enumerate().map(|(i, h)| {
                (h.to_string(), IndicatorRow { values: [("x".to_string(), Decimal::from(x + i as u32))].into_iter().collect(), assessment_score: Some(Decimal::from(55 + 20 * i as i64)) })
            }).collect();
            for period in [Period::Year, Period::Month(month)] {
                let s = settle_with(&p, &cases, &approved, period, &ind);
                prop_assert!(s.summary.balances(), "{:?}", s.summary);
                prop_assert!(s.check_balance().ok(), "{:?}", s.check_balance().problems);
                // every case of the period is in exactly one method; none lost
                let in_period = cases.iter().filter(|c| period == Period::Year || Period::Month(c.month) == period).count();
                prop_assert_eq!(s.cases.len(), in_period);
                let counted: u64 = s.statements.iter().map(|h| h.methods.values().sum::<u64>()).sum();
                prop_assert_eq!(counted, in_period as u64);
                // the points pool is distributed exactly when it is positive and there are points
                for t in &s.summary.tiers {
                    if t.points_pool.0 > 0 && t.total_points > Decimal::ZERO {
                        prop_assert_eq!(t.distributed_by_points, t.points_pool);
                    }
                }
                let sum_cases: Fen = s.cases.iter().map(|c| c.points_payment).sum();
                let sum_h: Fen = s.statements.iter().map(|h| h.points_value).sum();
                prop_assert_eq!(sum_cases, sum_h);
                // fee-for-service pays the eligible cost
                for c in &s.cases {
                    if matches!(c.price.method, Method::FeeForService | Method::SpecialCase) {
                        let inp = &cases[c.index];
                        prop_assert_eq!(c.price.ffs_amount, inp.total_cost - inp.selfpay);
                        prop_assert_eq!(c.price.final_points, Decimal::ZERO);
                    } else {
                        prop_assert_eq!(c.price.ffs_amount, Fen::ZERO);
                    }
                }
            }
        }

        #[test]
        fn raising_a_coefficient_never_lowers_payment(raw in proptest::collection::vec(arb_case(), 1..60), dep in 0u32..9, k1 in 0u32..5, up in 1u32..4, tiers in any::<bool>()) {
            let (cases, approved) = build(&raw);
            let ind = BTreeMap::new();
            let a = settle_with(&policy(5, dep, k1, false, tiers), &cases, &approved, Period::Year, &ind);
            let b = settle_with(&policy(5, dep, k1 + up, false, tiers), &cases, &approved, Period::Year, &ind);
            let net = |s: &Settlement| s.statements.iter().find(|h| h.hospital_code == "H1").map(|h| h.net_payment).unwrap_or(Fen::ZERO);
            prop_assert!(net(&b) >= net(&a), "{} < {}", net(&b), net(&a));
        }

        #[test]
        fn approved_special_case_is_never_paid_less_than_by_group(cost in 0i64..8_000_000, sp in 0i64..100_000, pv in 1i64..300) {
            let p = policy(5, 5, 1, false, false);
            let r = rates();
            let hs = hospitals();
            let pr = Pricer::new(&p, &r, &hs);
            let mut c = case("S", "H1", Some("G2"), cost, 3);
            c.selfpay = Fen(sp.min(cost));
            let special = pr.price(&c, CaseFlags { special_approved: true, not_paid: false });
            let group = pr.price(&c, CaseFlags::default());
            let pv = Decimal::from(pv);
            if c.total_cost - c.selfpay > group.payment(pv) {
                prop_assert!(special.payment(pv) >= group.payment(pv));
            }
            prop_assert_eq!(special.payment(pv), c.total_cost - c.selfpay);
        }
    }
}

#[test]
fn year_end_balance_due_after_monthly_advances() {
    let p = parse(BASE).unwrap();
    let cases = region_cases();
    let mut year = run(&p, &cases, &[], &BTreeMap::new(), Period::Year);
    let months: Vec<Settlement> = (1..=12).map(|m| run(&p, &cases, &[], &BTreeMap::new(), Period::Month(m))).collect();
    apply_advances(&mut year, &months);
    // all cases are in March; March's budget (833334 − 66667 = 766667 fen distributable) is less
    // than the 4050000 fen paid at cost, so March paid: H1 (2800000 + 500000) less 5% deposit
    // (165000) = 3135000; H3 750000 − 37500 = 712500; H2 nothing.
    let h1 = get(&year, "H1");
    assert_eq!(h1.advances_paid, Some(Fen(3_135_000)));
    // year net H1 (deposit fully returned at default score 100): 3237143 + 2800000 + 500000 = 6537143
    assert_eq!(h1.net_payment, Fen(6_537_143));
    assert_eq!(h1.balance_due, Some(Fen(6_537_143 - 3_135_000)));
    assert_eq!(get(&year, "H2").advances_paid, Some(Fen::ZERO));
}

/// The 18-case, 3-hospital region of the pricing tests (every pricing lever once), settled for
/// the year: points and money by hand.
#[test]
fn full_region_every_lever_once() {
    let pol = r#"
[policy]
region = "手算测试区"
year = 2025
model = "drg_points"
[budget]
total_cost = "400000"
adjustment_fund_share = 0.05
[coefficients]
basic_groups = ["B1"]
[coefficients.level]
"三级甲等" = 1.1
"三级" = 1.0
"二级" = 0.9
[[coefficients.bonus]]
name = "重点专科"
value = 0.05
hospitals = ["H3"]
[[coefficients.discipline]]
name = "学术系数"
value = 1.04
hospitals = ["H1"]
groups = ["G3"]
[outliers.high]
threshold = "band"
bands = [{ max_points = 100, multiplier = 3 }, { max_points = 300, multiplier = 2 }, { multiplier = 1.5 }]
payment = "additional_points"
[incomplete]
leaving_types = [5]
[special_cases]
approved = ["H1:C10"]
cap_share = 0.5
[exclusions]
items = [{ code = "NEWDRUG1" }]
[per_bed_day]
groups = [{ code = "P1", points_per_day = 10, max_days = 60 }]
[day_surgery]
groups = [{ code = "D1", points = 60 }]
"#;
    let p = parse(pol).unwrap();
    let g = |code: &str, pts: &str, mean: i64| GroupRate { code: code.into(), name: String::new(), base_points: d(pts), mean_cost: Fen::from_yuan(mean), kind: String::new() };
    let rates = RateTable::from_groups(
        RateSource::DrgWeights,
        vec![g("G1", "100", 10_000), g("G2", "200", 20_000), g("G3", "400", 40_000), g("B1", "50", 5_000), g("D1", "80", 8_000)],
        Fen::from_yuan(10_000),
    );
    let hs = hospitals();
    let mut cases = vec![
        case("C01", "H1", Some("G1"), 1_000_000, 1), // 100 × 1.1 = 110
        case("C02", "H2", Some("G1"), 1_200_000, 2), // 100
        case("C03", "H3", Some("G1"), 900_000, 3),   // 100 × (0.9 + 0.05) = 95
        case("C04", "H1", Some("G3"), 4_000_000, 4), // 400 × 1.1 × 1.04 = 457.6
        case("C05", "H2", Some("G1"), 3_500_000, 5), // high: 100 + 100 × (3.5 − 3) = 150
        case("C06", "H2", Some("G2"), 5_000_000, 6), // high: 200 + 200 × (2.5 − 2) = 300
        case("C07", "H3", Some("G3"), 7_000_000, 7), // high: 400 × 0.95 + 400 × (1.75 − 1.5) = 480
        case("C08", "H1", Some("G1"), 300_000, 8),   // low: 100 × 0.3 × 1.1 = 33
        case("C09", "H2", Some("G2"), 1_000_000, 9), // death: 200 × 0.5 = 100
        case("C10", "H1", Some("G2"), 3_000_000, 10), // special: 30000 − 2000 = 28000 yuan
        case("C11", "H3", None, 800_000, 11),         // ungrouped: 8000 − 500 = 7500 yuan
        case("C12", "H2", Some("ZZ99"), 600_000, 12), // unknown group: 6000 yuan
        case("C13", "H1", Some("G2"), 2_500_000, 1), // 5000 by item; 200 × 1.1 = 220
        case("C14", "H3", Some("B1"), 500_000, 2),   // basic group: 50
        case("C15", "H3", Some("P1"), 900_000, 3),   // per-bed-day: 10 × 30 = 300
        case("C16", "H2", Some("D1"), 700_000, 4),   // day surgery: 60
        case("C17", "H2", Some("P1"), 2_000_000, 5), // per-bed-day capped: 10 × 60 = 600
        case("C18", "H1", Some("G1"), 333_333, 6),   // low: 100 × 0.333333 × 1.1 = 36.6666
    ];
    cases[8].leaving_type = Some(5);
    cases[9].selfpay = Fen(200_000);
    cases[10].selfpay = Fen(50_000);
    cases[12].excluded_items = vec![("NEWDRUG1".into(), Fen(500_000))];
    cases[14].los_days = 30;
    cases[15].los_days = 1;
    cases[16].los_days = 80;
    let pr = Pricer::new(&p, &rates, &hs);
    let approved = FxHashSet::default();
    let s = settle(&SettleInput { pricer: &pr, hospitals: &hs, cases: &cases, approved: &approved, deductions: &[], indicators: &BTreeMap::new() }, Period::Year);
    let pts: Vec<Decimal> = s.cases.iter().map(|c| c.price.final_points).collect();
    let want = ["110", "100", "95", "457.6", "150", "300", "480", "33", "100", "0", "0", "0", "220", "50", "300", "60", "600", "36.6666"];
    assert_eq!(pts, want.iter().map(|w| d(w)).collect::<Vec<_>>());
    // budget 400000; adjustment fund 5% = 20000; distributable 380000;
    // at cost 28000 + 5000 + 6000 + 7500 = 46500 → pool 333500 yuan = 33350000 fen
    let t = &s.summary.tiers[0];
    assert_eq!((t.paid_at_cost, t.points_pool), (Fen(4_650_000), Fen(33_350_000)));
    // points: H1 110 + 457.6 + 33 + 220 + 36.6666 = 857.2666; H2 100 + 150 + 300 + 100 + 60 + 600
    // = 1310; H3 95 + 480 + 50 + 300 = 925; Σ 3092.2666 → point value 333500 ÷ 3092.2666 = 107.849692
    assert_eq!((t.total_points, t.point_value), (d("3092.2666"), d("107.849692")));
    // 33350000 × (8572666, 13100000, 9250000) ÷ 30922666 = 9245593.87, 14128309.64, 9976096.50
    // floors Σ 33349998 → the 2 fen go to H1 (.87) and H2 (.64)
    let net: Vec<(String, Fen, Fen)> = s.statements.iter().map(|h| (h.hospital_code.clone(), h.group_payment, h.net_payment)).collect();
    assert_eq!(
        net,
        vec![
            // H1: 9245594 + 2800000 special + 500000 exclusion
            ("H1".to_string(), Fen(9_245_594), Fen(12_545_594)),
            // H2: 14128310 + 600000 fee-for-service
            ("H2".to_string(), Fen(14_128_310), Fen(14_728_310)),
            // H3: 9976096 + 750000 fee-for-service
            ("H3".to_string(), Fen(9_976_096), Fen(10_726_096)),
        ]
    );
    // Σ net = 38000000 = distributable; remainder 0
    assert_eq!((s.summary.net_payments, s.summary.remainder), (Fen(38_000_000), Fen::ZERO));
    assert!(s.summary.balances());
    let methods: Vec<&str> = s.cases.iter().map(|c| c.price.method.code()).collect();
    assert_eq!(methods.iter().filter(|m| **m == "special_case").count(), 1);
    assert_eq!(methods.iter().filter(|m| **m == "per_bed_day").count(), 2);
    assert_eq!(methods.iter().filter(|m| **m == "day_surgery").count(), 1);
    assert_eq!(methods.iter().filter(|m| **m == "fee_for_service").count(), 2);
}

#[test]
fn dip_optimisation_band_bounds_the_point_value() {
    // the region of year_end_budget_points_deposit_and_deductions: raw value 51500 / 525 = 98.0952
    // budget value 120 ± 10% → [108, 132] → bounded to 108 yuan/point
    let p = parse(&BASE.replace("monthly_advance_share = 0.9", "monthly_advance_share = 0.9\nbudget_point_value = 120\npoint_value_band = 0.1")).unwrap();
    let s = run(&p, &region_cases(), &[], &BTreeMap::new(), Period::Year);
    assert_eq!(s.summary.tiers[0].point_value, d("108"));
    // H1 330 points × 108 = 35640 yuan; H2 100 × 108 = 10800; H3 95 × 108 = 10260; Σ 56700
    // pool 51500 → 5200 yuan overspend reported as a negative undistributed pool
    assert_eq!(get(&s, "H1").group_payment, Fen(3_564_000));
    assert_eq!(get(&s, "H3").group_payment, Fen(1_026_000));
    assert_eq!(s.summary.remainder_pool_undistributed, Fen(-520_000));
    assert!(s.summary.balances());
    // within the band the mean method applies unchanged: 98.095238
    let p = parse(&BASE.replace("monthly_advance_share = 0.9", "monthly_advance_share = 0.9\nbudget_point_value = 100\npoint_value_band = 0.05")).unwrap();
    assert_eq!(run(&p, &region_cases(), &[], &BTreeMap::new(), Period::Year).summary.tiers[0].point_value, d("98.095238"));
}
