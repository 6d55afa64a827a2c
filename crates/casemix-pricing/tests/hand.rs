//! Hand-computed pricing: one lever per case. Every expected number is worked out in the comment.

use casemix_model::Fen;
use casemix_policy::parse;
use casemix_pricing::*;
use std::str::FromStr;

pub const POLICY: &str = r#"
[policy]
region = "手算测试区"
year = 2025
model = "drg_points"
[budget]
total_cost = "100000"
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
[outliers.low]
multiplier = 0.4
[incomplete]
leaving_types = [5]
[fallback]
method = "fee_for_service"
eligible_cost = "total_minus_selfpay"
[special_cases]
approved = ["H1:C10"]
cap_share = 0.5
[exclusions]
items = [{ code = "NEWDRUG1", name = "某新药" }]
[per_bed_day]
groups = [{ code = "P1", name = "精神长期住院", points_per_day = 10, max_days = 60 }]
[day_surgery]
groups = [{ code = "D1", points = 60 }]
"#;

pub fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub fn rates() -> RateTable {
    let g = |code: &str, pts: &str, mean: i64| GroupRate { code: code.into(), name: String::new(), base_points: d(pts), mean_cost: Fen::from_yuan(mean), kind: String::new() };
    RateTable::from_groups(
        RateSource::DrgWeights,
        vec![g("G1", "100", 10_000), g("G2", "200", 20_000), g("G3", "400", 40_000), g("B1", "50", 5_000), g("D1", "80", 8_000)],
        Fen::from_yuan(10_000),
    )
}

pub fn hospitals() -> Vec<Hospital> {
    vec![
        Hospital { code: "H1".into(), name: "甲医院".into(), level: "三级甲等".into(), tier: 1 },
        Hospital { code: "H2".into(), name: "乙医院".into(), level: "三级".into(), tier: 2 },
        Hospital { code: "H3".into(), name: "丙医院".into(), level: "二级".into(), tier: 2 },
    ]
}

pub fn case(id: &str, h: &str, g: Option<&str>, cost_fen: i64) -> CaseInput {
    CaseInput {
        list_id: id.into(),
        hospital_code: h.into(),
        group: g.map(str::to_string),
        grouped_ok: g.is_some(),
        total_cost: Fen(cost_fen),
        los_days: 5,
        leaving_type: Some(1),
        year: 2025,
        month: 3,
        ..Default::default()
    }
}

fn price(c: CaseInput, special: bool) -> CasePrice {
    let p = parse(POLICY).unwrap();
    let r = rates();
    let hs = hospitals();
    let pr = Pricer::new(&p, &r, &hs);
    pr.price(&c, CaseFlags { special_approved: special, not_paid: false })
}

#[test]
fn normal_cases_take_level_bonus_and_discipline_coefficients() {
    // H1 三级甲等: 100 × 1.1 = 110
    let p = price(case("C01", "H1", Some("G1"), 1_000_000), false);
    assert_eq!((p.method, p.outlier, p.final_points), (Method::Group, Outlier::None, d("110")));
    assert_eq!(p.points_units, 1_100_000);
    // H2 三级: 100 × 1.0 = 100 (ratio 1.2 is neither high nor low)
    assert_eq!(price(case("C02", "H2", Some("G1"), 1_200_000), false).final_points, d("100"));
    // H3 二级 + 重点专科 bonus: (0.9 + 0.05) × 100 = 95
    let p = price(case("C03", "H3", Some("G1"), 900_000), false);
    assert_eq!((p.coefficient, p.final_points), (d("0.95"), d("95")));
    // H1 G3 with 学术系数: 1.1 × 1.04 = 1.144; 400 × 1.144 = 457.6
    let p = price(case("C04", "H1", Some("G3"), 4_000_000), false);
    assert_eq!((p.coefficient, p.final_points), (d("1.144"), d("457.6")));
    // basic group B1 at H3: coefficient 1 (no level, no bonus): 50
    let p = price(case("C14", "H3", Some("B1"), 500_000), false);
    assert_eq!((p.coefficient, p.final_points), (d("1"), d("50")));
}

#[test]
fn high_cost_outliers_by_band() {
    // G1 (100 points, band ≤100 → 3×): cost 35000 / 10000 = 3.5 ≥ 3 → 100×1 + 100×(3.5−3) = 150
    let p = price(case("C05", "H2", Some("G1"), 3_500_000), false);
    assert_eq!((p.outlier, p.final_points), (Outlier::High, d("150")));
    // G2 (200, band 100–300 → 2×): 50000/20000 = 2.5 → 200 + 200×0.5 = 300
    assert_eq!(price(case("C06", "H2", Some("G2"), 5_000_000), false).final_points, d("300"));
    // G3 (400, band >300 → 1.5×) at H3 (k 0.95): 70000/40000 = 1.75 → 400×0.95 + 400×0.25 = 480
    assert_eq!(price(case("C07", "H3", Some("G3"), 7_000_000), false).final_points, d("480"));
    // exactly at the threshold counts as high (≥): 30000/10000 = 3 → 100 + 0 = 100, outlier High
    let p = price(case("C05b", "H2", Some("G1"), 3_000_000), false);
    assert_eq!((p.outlier, p.final_points), (Outlier::High, d("100")));
}

#[test]
fn low_cost_and_incomplete_stays() {
    // 3000/10000 = 0.3 ≤ 0.4 → 100 × 0.3 × 1.1 = 33
    let p = price(case("C08", "H1", Some("G1"), 300_000), false);
    assert_eq!((p.outlier, p.final_points), (Outlier::Low, d("33")));
    // rounding: 3333.33/10000 = 0.333333 → 100 × 0.333333 × 1.1 = 36.66663 → 36.6666 (4 dp half-up)
    assert_eq!(price(case("C18", "H1", Some("G1"), 333_333), false).final_points, d("36.6666"));
    // death (离院方式 5) at H2: 10000/20000 = 0.5 → 200 × 1 × 0.5 = 100
    let mut c = case("C09", "H2", Some("G2"), 1_000_000);
    c.leaving_type = Some(5);
    let p = price(c.clone(), false);
    assert_eq!((p.outlier, p.final_points), (Outlier::Incomplete, d("100")));
    // an incomplete stay costing more than the mean is capped at the normal points: 200
    c.total_cost = Fen(3_000_000);
    assert_eq!(price(c, false).final_points, d("200"));
}

#[test]
fn fallback_special_case_and_exclusions() {
    // ungrouped: fee-for-service at eligible cost 8000 − 500 selfpay = 7500 yuan
    let mut c = case("C11", "H3", None, 800_000);
    c.selfpay = Fen(50_000);
    let p = price(c, false);
    assert_eq!((p.method, p.ffs_amount, p.final_points), (Method::FeeForService, Fen(750_000), d("0")));
    // group not in the table: 6000 yuan by item
    let p = price(case("C12", "H2", Some("ZZ99"), 600_000), false);
    assert_eq!((p.method, p.ffs_amount), (Method::FeeForService, Fen(600_000)));
    // special case approved: eligible 30000 − 2000 = 28000 yuan
    let mut c = case("C10", "H1", Some("G2"), 3_000_000);
    c.selfpay = Fen(200_000);
    let p = price(c, true);
    assert_eq!((p.method, p.ffs_amount, p.final_points), (Method::SpecialCase, Fen(2_800_000), d("0")));
    // exclusions: NEWDRUG1 5000 paid by item; OTHER 1000 not listed stays in the case;
    // case cost 25000 − 5000 = 20000 → ratio 1 → 200 × 1.1 = 220
    let mut c = case("C13", "H1", Some("G2"), 2_500_000);
    c.excluded_items = vec![("NEWDRUG1".into(), Fen(500_000)), ("OTHER".into(), Fen(100_000))];
    let p = price(c, false);
    assert_eq!((p.exclusions_amount, p.case_cost, p.final_points), (Fen(500_000), Fen(2_000_000), d("220")));
    assert!(p.reasons().contains("EXCL|EXCL_NOT_LISTED"), "{}", p.reasons());
    assert!(p.explanation_zh().contains("除外支付"));
}

#[test]
fn per_bed_day_and_day_surgery() {
    // P1: 10 points/day × 30 days = 300 (no coefficient)
    let mut c = case("C15", "H3", Some("P1"), 900_000);
    c.los_days = 30;
    let p = price(c.clone(), false);
    assert_eq!((p.method, p.final_points), (Method::PerBedDay, d("300")));
    // 80 days capped at 60: 600
    c.los_days = 80;
    assert_eq!(price(c, false).final_points, d("600"));
    // D1 day surgery (LOS 1): fixed 60 points even though 7000/8000 would be normal 80 × 1
    let mut c = case("C16", "H2", Some("D1"), 700_000);
    c.los_days = 1;
    let p = price(c.clone(), false);
    assert_eq!((p.method, p.final_points), (Method::DaySurgery, d("60")));
    // the same group with LOS 3 is an ordinary stay: 80 × 1.0 = 80
    c.los_days = 3;
    assert_eq!(price(c, false).final_points, d("80"));
}

#[test]
fn special_case_cap_keeps_the_largest_overruns() {
    let p = parse(&POLICY.replace("cap_share = 0.5", "cap_share = 0.34")).unwrap();
    let r = rates();
    let hs = hospitals();
    let pr = Pricer::new(&p, &r, &hs);
    // three group-paid cases, all asking for special review; cap = floor(0.34 × 3) = 1;
    // ranked by eligible ÷ mean: S2 (5.0) beats S1 (3.0) and S3 (2.0) → only S2 stays special
    let cases = vec![case("S1", "H1", Some("G1"), 3_000_000), case("S2", "H1", Some("G1"), 5_000_000), case("S3", "H1", Some("G1"), 2_000_000)];
    let out = pr.price_all(&cases, |_| true, |_| false);
    assert_eq!(out.iter().map(|p| p.method).collect::<Vec<_>>(), vec![Method::Group, Method::SpecialCase, Method::Group]);
    assert!(out[0].reasons().starts_with("SPECIAL_CAP"));
}

#[test]
fn dip_deviation_scores() {
    let pol = r#"
[policy]
region = "拉萨式DIP"
year = 2025
model = "dip_scores"
[budget]
total_cost = "100000"
adjustment_fund_share = 0.08
[coefficients]
basic_groups = ["K80.1:51.2300"]
[coefficients.level]
"三级甲等" = 1.05
[[coefficients.bonus]]
name = "功能定位"
value = 0.03
hospitals = ["H1"]
[outliers.high]
threshold = "fixed"
multiplier = 2
payment = "deviation_score"
expert_review_multiplier = 5
[outliers.low]
multiplier = 0.5
strict = true
[fallback]
method = "points"
points_discount = 0.8
eligible_cost = "total"
"#;
    let p = parse(pol).unwrap();
    let g = |code: &str, pts: &str, mean: i64| GroupRate { code: code.into(), name: String::new(), base_points: d(pts), mean_cost: Fen::from_yuan(mean), kind: String::new() };
    let r = RateTable::from_groups(RateSource::DipCatalogue, vec![g("I21.0:36.0600", "150", 15_000), g("K80.1:51.2300", "60", 6_000)], Fen::from_yuan(6_250));
    let hs = hospitals();
    let pr = Pricer::new(&p, &r, &hs);
    let f = CaseFlags::default();
    // k = 1.05 + 0.03 = 1.08; cost 45000 / 15000 = 3 > 2 → [(3 − 2) + 1] × 150 × 1.08 = 324
    let x = pr.price(&case("D1", "H1", Some("I21.0:36.0600"), 4_500_000), f);
    assert_eq!((x.outlier, x.final_points), (Outlier::High, d("324")));
    // exactly 2× is not "超高" (strictly above): 150 × 1.08 = 162
    assert_eq!(pr.price(&case("D2", "H1", Some("I21.0:36.0600"), 3_000_000), f).final_points, d("162"));
    // 6000 / 15000 = 0.4 < 0.5 → 0.4 × 150 × 1.08 = 64.8
    assert_eq!(pr.price(&case("D3", "H1", Some("I21.0:36.0600"), 600_000), f).final_points, d("64.8"));
    // 90000 / 15000 = 6 > 5 → flagged for expert review; score [(6−2)+1] × 150 × 1.08 = 810
    let x = pr.price(&case("D4", "H1", Some("I21.0:36.0600"), 9_000_000), f);
    assert!(x.expert_review);
    assert_eq!(x.final_points, d("810"));
    // basic 病种: one score at every level: 60
    assert_eq!(pr.price(&case("D5", "H1", Some("K80.1:51.2300"), 600_000), f).final_points, d("60"));
    // fallback by points: 5000 / 6250 × 100 × 0.8 = 64
    let x = pr.price(&case("D6", "H1", None, 500_000), f);
    assert_eq!((x.method, x.final_points), (Method::FfsPoints, d("64")));
}

#[test]
fn apportionment_is_exact_and_hand_checked() {
    // 5150000 fen over 110/100/95/220 (Σ 525): floors 1079047, 980952, 931904, 2158095 (Σ 5149998);
    // remainders .619, .381, .762, .238 → the 2 leftover fen go to the 3rd and 1st
    assert_eq!(apportion(5_150_000, &[110, 100, 95, 220]), vec![1_079_048, 980_952, 931_905, 2_158_095]);
    // ties go to the earlier index
    assert_eq!(apportion(1, &[1, 1]), vec![1, 0]);
    assert_eq!(apportion(-3, &[1, 1]), vec![-2, -1]);
    assert_eq!(apportion(7, &[0, 0]), vec![0, 0]);
}

#[test]
fn readmission_within_the_window_halves_the_earlier_stay() {
    let p = parse(&format!("{POLICY}\n[readmission]\nwindow_days = 15\nfactor = 0.5\nexempt_groups = [\"G3\"]\n")).unwrap();
    let r = rates();
    let hs = hospitals();
    let pr = Pricer::new(&p, &r, &hs);
    let stay = |id: &str, g: &str, who: &str, admit: i64, discharge: i64| {
        // cost = the group's mean, so every stay is a normal case
        let mean = match g { "G1" => 1_000_000, "G2" => 2_000_000, _ => 4_000_000 };
        let mut c = case(id, "H2", Some(g), mean);
        c.insured_id = who.into();
        c.admit_day = Some(admit);
        c.discharge_day = Some(discharge);
        c
    };
    let cases = vec![
        stay("A1", "G1", "P1", 100, 105), // back in G1 on day 120: 15 days → 100 × 0.5 = 50
        stay("A2", "G1", "P1", 120, 125), // the later stay keeps its 100 points
        stay("B1", "G1", "P2", 100, 105), // back on day 121: 16 days → no change
        stay("B2", "G1", "P2", 121, 125),
        stay("C1", "G2", "P3", 100, 105), // different group next time → no change (200)
        stay("C2", "G1", "P3", 110, 115),
        stay("D1", "G3", "P4", 100, 105), // exempt group: 400 stays 400
        stay("D2", "G3", "P4", 106, 110),
    ];
    let out = pr.price_all(&cases, |_| false, |_| false);
    let pts: Vec<Decimal> = out.iter().map(|p| p.final_points).collect();
    assert_eq!(pts, ["50", "100", "100", "100", "200", "100", "400", "400"].iter().map(|x| d(x)).collect::<Vec<_>>());
    assert!(out[0].reasons().ends_with("READMIT"));
    assert_eq!(out[0].points_units, 500_000);
}

#[test]
fn money_conversions_never_panic() {
    // 92233720368547758.07 yuan is the largest fen amount; one fen more is out of range
    assert_eq!(try_fen_of_yuan(Decimal::from_str("92233720368547758.07").unwrap()), Some(Fen(i64::MAX)));
    assert_eq!(try_fen_of_yuan(Decimal::from_str("92233720368547758.08").unwrap()), None);
    assert_eq!(try_fen_of_yuan(Decimal::MAX), None);
    // the plain form saturates instead of panicking
    assert_eq!(fen_of_yuan(Decimal::MAX), Fen(i64::MAX));
    assert_eq!(fen_of_yuan(Decimal::MIN), Fen(i64::MIN));
    // half away from zero: 0.005 yuan → 1 fen, −0.005 → −1 fen
    assert_eq!((fen_of_yuan(Decimal::from_str("0.005").unwrap()), fen_of_yuan(Decimal::from_str("-0.005").unwrap())), (Fen(1), Fen(-1)));
}

#[test]
fn absurd_amounts_are_refused_with_the_reason_not_a_panic() {
    let (p, r, hs) = (parse(POLICY).unwrap(), rates(), hospitals());
    let pr = Pricer::new(&p, &r, &hs);
    // finding 2: 92233720368547758.07 yuan, no QC errors reported → refused (above the default
    // ceiling of 10000000 yuan), with the field and the ceiling named
    let c = case("MAX", "H1", Some("G1"), i64::MAX);
    let cp = pr.price(&c, CaseFlags::default());
    assert_eq!((cp.method, cp.final_points, cp.payment(Decimal::from(130))), (Method::Refused, Decimal::ZERO, Fen::ZERO));
    assert!(cp.explanation_zh().contains("total_cost") && cp.explanation_zh().contains("10000000.00"), "{}", cp.explanation_zh());
    // a negative total is refused, not a 0-point low outlier
    let cp = pr.price(&case("NEG", "H1", Some("G1"), -50_000), CaseFlags::default());
    assert_eq!((cp.method, cp.reasons().as_str()), (Method::Refused, "AMOUNT_RANGE"));
    assert!(cp.explanation_zh().contains("应大于 0"));
    // with QC errors the gate holds it first: 待补正, no points, no money
    let mut c = case("HELD", "H1", Some("G1"), i64::MAX);
    c.qc_errors = 2;
    let cp = pr.price(&c, CaseFlags::default());
    assert_eq!((cp.method, cp.points_units, cp.payment(Decimal::from(130))), (Method::Held, 0, Fen::ZERO));
    assert_eq!(cp.reasons(), "QC_HELD");
    // a point value of 10^20 yuan: payment beyond the fen range → None, and the plain form saturates
    let cp = pr.price(&case("OK", "H1", Some("G1"), 1_000_000), CaseFlags::default());
    assert!(cp.final_points > Decimal::ZERO);
    let huge = Decimal::from_str("100000000000000000000").unwrap();
    assert_eq!(cp.try_payment(huge), None);
    assert_eq!(cp.payment(huge), Fen(i64::MAX));
}
