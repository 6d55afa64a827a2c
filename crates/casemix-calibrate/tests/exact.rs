//! Exactness of fen means, year weighting, price factors and weights.
//!
//! * Property tests against an independent big-rational reference written here from
//!   payment.md §1 (BigRational arithmetic and its own half-away-from-zero rounding by integer
//!   division), over random three-year groups (counts, fen sums, year weights, price factors)
//!   and over random histories through [`calibrate`].
//! * A hand-computed group where `f64` arithmetic rounds to the wrong fen.

use casemix_calibrate::stats::{ratio_dec4, round_fen, year_weighted_mean, CostSum, Dec4, PriceFactor, YearCost};
use casemix_calibrate::*;
use casemix_model::Fen;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn q(n: impl Into<BigInt>, d: impl Into<BigInt>) -> BigRational {
    BigRational::new(n.into(), d.into())
}

/// Reference rounding, half away from zero: ⌊(2|n| + d) ÷ 2d⌋ with the sign of n (d > 0).
fn ref_round(x: &BigRational) -> BigInt {
    let (n, d) = (x.numer().clone(), x.denom().clone());
    let a = (BigInt::from(2) * n.abs() + &d) / (BigInt::from(2) * &d);
    if n.is_negative() {
        -a
    } else {
        a
    }
}

/// One history year of a reference group.
#[derive(Debug, Clone)]
struct RefYear {
    weight: u32,
    sum: i64,
    count: u64,
    f_num: i64,
    f_den: i64,
}

/// payment.md §1.4: Σ w·f·(sum/count) ÷ Σ w over the years with w > 0 and cases.
fn ref_weighted(ys: &[RefYear]) -> Option<BigRational> {
    let mut num = BigRational::zero();
    let mut den = BigInt::zero();
    for y in ys.iter().filter(|y| y.weight > 0 && y.count > 0) {
        num += q(y.weight, 1) * q(y.f_num, y.f_den) * q(y.sum, y.count);
        den += y.weight;
    }
    (!den.is_zero()).then(|| num / BigRational::from_integer(den))
}

fn to_year_costs(ys: &[RefYear]) -> Vec<YearCost> {
    ys.iter()
        .map(|y| YearCost {
            weight: y.weight,
            cost: CostSum { sum: i128::from(y.sum), count: y.count },
            factor: PriceFactor::from_ratio(&q(y.f_num, y.f_den)).unwrap(),
        })
        .collect()
}

fn year_strategy() -> impl Strategy<Value = RefYear> {
    // count 0–60, mean per case up to 100,000 yuan (10^7 fen) plus a remainder, weight 0–10,
    // factor num/den in 1..=5000 (0.0002–5000)
    (0u64..=60, 1i64..=10_000_000, 0i64..60, 0u32..=10, 1i64..=5000, 1i64..=5000).prop_map(|(count, avg, rem, weight, f_num, f_den)| RefYear {
        weight,
        sum: if count == 0 { 0 } else { avg * count as i64 + rem % count as i64 },
        count,
        f_num,
        f_den,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Fen means, RW (4 decimals) and DIP-style scores (×100, ×1000) of random three-year groups
    /// equal the big-rational reference exactly.
    #[test]
    fn three_year_groups_match_reference(g in prop::collection::vec(year_strategy(), 3), all in prop::collection::vec(year_strategy(), 3)) {
        let exact = year_weighted_mean(&to_year_costs(&g));
        let reference = ref_weighted(&g);
        prop_assert_eq!(&exact, &reference);
        let Some(r) = reference else { return Ok(()) };
        let fen = round_fen(exact.as_ref().unwrap()).unwrap();
        prop_assert_eq!(BigInt::from(fen.0), ref_round(&r));
        let all_mean = year_weighted_mean(&to_year_costs(&all));
        if let Some(a) = ref_weighted(&all).filter(|a| a.is_positive()) {
            for scale in [1i64, 100, 1000] {
                let got = ratio_dec4(exact.as_ref().unwrap(), all_mean.as_ref().unwrap(), scale).unwrap();
                let want = ref_round(&(&r * q(scale * 10_000, 1) / &a));
                prop_assert_eq!(BigInt::from(got.0), want, "scale {}", scale);
            }
        }
    }
}

/// A random history of two DRGs over three years.
#[derive(Debug, Clone)]
struct RandomHistory {
    /// [drg][year] → case costs (fen)
    costs: Vec<Vec<Vec<i64>>>,
    weights: Vec<u32>,
    /// price index per year, in tenths (e.g. 1035 = 103.5)
    index: Vec<i64>,
}

fn history_strategy() -> impl Strategy<Value = RandomHistory> {
    let year = prop::collection::vec(1i64..=50_000_000, 0..6);
    (
        prop::collection::vec(prop::collection::vec(year, 3), 2),
        prop::collection::vec(0u32..=9, 3).prop_filter("a weight", |w| w.iter().any(|&x| x > 0)),
        prop::collection::vec(500i64..=2000, 3),
    )
        .prop_map(|(costs, weights, index)| RandomHistory { costs, weights, index })
}

const YEARS: [i32; 3] = [2022, 2023, 2024];
const DRGS: [&str; 2] = ["AA11", "BB11"];

fn cases_of(h: &RandomHistory) -> Vec<CaseCost<'static>> {
    let mut v = Vec::new();
    for (d, years) in h.costs.iter().enumerate() {
        for (y, costs) in years.iter().enumerate() {
            for &c in costs {
                v.push(CaseCost { year: YEARS[y], hospital: "H1", drg: DRGS[d], adrg: &DRGS[d][..3], cost: Fen(c), los: 3 });
            }
        }
    }
    v
}

/// The reference price factor of year y: index (given) or measured growth of the untrimmed
/// all-case mean (1 when the target or the year has no case).
fn ref_factor(h: &RandomHistory, y: usize, measured: bool) -> (i64, i64) {
    if !measured {
        return (h.index[2], h.index[y]);
    }
    let year_all = |y: usize| -> (i64, i64) {
        let c: Vec<i64> = h.costs.iter().flat_map(|d| d[y].iter().copied()).collect();
        (c.iter().sum(), c.len() as i64)
    };
    let ((st, nt), (sy, ny)) = (year_all(2), year_all(y));
    if nt == 0 || ny == 0 {
        return (1, 1);
    }
    // (st/nt) ÷ (sy/ny)
    (st * ny, nt * sy)
}

fn ref_years(h: &RandomHistory, drgs: &[usize], measured: bool) -> Vec<RefYear> {
    (0..3)
        .map(|y| {
            let c: Vec<i64> = drgs.iter().flat_map(|&d| h.costs[d][y].iter().copied()).collect();
            let (f_num, f_den) = ref_factor(h, y, measured);
            RefYear { weight: h.weights[y], sum: c.iter().sum(), count: c.len() as u64, f_num, f_den }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// `calibrate` (no trimming) gives the reference all-case cost, fen means and 4-decimal RWs,
    /// with configured price indexes and with measured growth.
    #[test]
    fn calibrate_matches_reference(h in history_strategy(), measured in any::<bool>()) {
        let cases = cases_of(&h);
        let inflation = if measured {
            Inflation::MeasuredGrowth
        } else {
            Inflation::parse(&format!("index:2022={}.{},2023={}.{},2024={}.{}", h.index[0] / 10, h.index[0] % 10, h.index[1] / 10, h.index[1] % 10, h.index[2] / 10, h.index[2] % 10)).unwrap()
        };
        let cfg = CalibConfig { years: YEARS.to_vec(), year_weights: h.weights.clone(), trim: TrimRule::None, inflation, min_cases: 0, ..CalibConfig::default() };
        let all = ref_weighted(&ref_years(&h, &[0, 1], measured));
        let got = calibrate(&cases, &[], &BTreeMap::new(), &cfg);
        let Some(all) = all else {
            prop_assert!(got.is_err());
            return Ok(());
        };
        let c = got.unwrap();
        prop_assert_eq!(BigInt::from(c.all_cost.0), ref_round(&all));
        for (d, code) in DRGS.iter().enumerate() {
            let Some(g) = ref_weighted(&ref_years(&h, &[d], measured)) else { continue };
            let w = c.drgs.iter().find(|x| x.drg == *code).unwrap();
            prop_assert_eq!(w.cost_mean.map(|f| BigInt::from(f.0)), Some(ref_round(&g)));
            prop_assert_eq!(w.rw.map(|r| BigInt::from(r.0)), Some(ref_round(&(g * q(10_000, 1) / &all))));
        }
    }
}

/// The group f64 gets wrong. DRG TT11, no price adjustment, weights 1:2:7, three history years:
/// | year | cases (fen)               | sum    | count |
/// | 2022 | 18312                     | 18312  | 1     |
/// | 2023 | 26477, 26477, 26478       | 79432  | 3     |
/// | 2024 | 24968, 24968, 24969       | 74905  | 3     |
/// (No trimming: with 3 cases the largest z-score is (n − 1)/√n = 1.15 < 3.)
/// Exact: (1·18312 + 2·79432/3 + 7·74905/3) ÷ 10 = (54936 + 158864 + 524335) ÷ 30 = 738135/30
/// = 24604.5 fen exactly → half away from zero → 24605 fen = 246.05 yuan.
/// In f64, 79432/3 and 74905/3 are inexact and the weighted sum comes out just below
/// 24604.5, which rounds to 24604 (246.04 yuan): one fen wrong.
/// It is the only DRG, so all-case cost = 24604.5 too and RW = 1.0000.
#[test]
fn f64_rounds_to_the_wrong_fen_exact_does_not() {
    let costs: [(i32, &[i64]); 3] = [(2022, &[18312]), (2023, &[26477, 26477, 26478]), (2024, &[24968, 24968, 24969])];
    // the f64 evaluation of the same formula (as the code did before): 24604, the wrong fen
    let m = |s: f64, n: f64| s / n;
    let f64_value = (1.0 * m(18312.0, 1.0) + 2.0 * m(79432.0, 3.0) + 7.0 * m(74905.0, 3.0)) / 10.0;
    assert!(f64_value < 24604.5);
    assert_eq!(f64_value.round(), 24604.0);

    let cases: Vec<CaseCost<'_>> = costs
        .iter()
        .flat_map(|&(year, cs)| cs.iter().map(move |&c| CaseCost { year, hospital: "H1", drg: "TT11", adrg: "TT1", cost: Fen(c), los: 4 }))
        .collect();
    let cfg = CalibConfig { inflation: Inflation::None, min_cases: 1, ..CalibConfig::default() };
    let c = calibrate(&cases, &[], &BTreeMap::new(), &cfg).unwrap();
    let d = &c.drgs[0];
    assert_eq!(d.cost_mean, Some(Fen(24605)));
    assert_eq!(c.all_cost, Fen(24605));
    assert_eq!(d.rw, Some(Dec4(10_000)));
    assert!(weights_csv(&c).contains("\nTT11,TT1,,7,7,246.05,"));
    // the per-year means at the year's prices: 79432/3 = 26477.33 → 26477; 74905/3 = 24968.33 → 24968
    assert_eq!(d.years.iter().map(|y| y.cost_mean).collect::<Vec<_>>(), vec![Fen(18312), Fen(26477), Fen(24968)]);
    // medians: 26477 and 24968
    assert_eq!(d.years[1].cost_median, Fen(26477));
}

/// Measured growth gives an exact fraction, not a rounded f64. Years 2022, 2023 (target), weights 1:1,
/// no trimming:
/// | year | AA11 (fen)    | BB11 (fen)  | all cases: sum / count = mean |
/// | 2022 | 33, 33, 34    | 800         | 900 / 4 = 225                 |
/// | 2023 | 100           | 1700, 1700  | 3500 / 3                      |
/// Factor 2022 = (3500/3) ÷ 225 = 3500/675 = 140/27 (= 5.185185…); 2023: 1.
/// AA11 = (100/3 · 140/27 + 100)/2 = (14000/81 + 8100/81)/2 = 22100/162 = 136.419753 → 136 fen.
/// BB11 = (800 · 140/27 + 1700)/2 = (112000/27 + 45900/27)/2 = 157900/54 = 2924.074074 → 2924 fen.
/// All = (225 · 140/27 + 3500/3)/2 = (3500/3 + 3500/3)/2 = 3500/3 = 1166.666667 → 1167 fen.
/// RW AA11 = (22100/162) ÷ (3500/3) = 66300/567000 = 0.116931 → 0.1169.
/// RW BB11 = (157900/54) ÷ (3500/3) = 473700/189000 = 2.506349 → 2.5063.
#[test]
fn measured_growth_factor_is_an_exact_fraction() {
    let mut cases = Vec::new();
    for (year, drg, cost) in [(2022, "AA11", 33), (2022, "AA11", 33), (2022, "AA11", 34), (2023, "AA11", 100), (2022, "BB11", 800), (2023, "BB11", 1700), (2023, "BB11", 1700)] {
        cases.push(CaseCost { year, hospital: "H1", drg, adrg: &drg[..3], cost: Fen(cost), los: 1 });
    }
    let cfg = CalibConfig { years: vec![2022, 2023], year_weights: vec![1, 1], trim: TrimRule::None, min_cases: 1, ..CalibConfig::default() };
    let c = calibrate(&cases, &[], &BTreeMap::new(), &cfg).unwrap();
    assert_eq!((c.years[0].factor.num(), c.years[0].factor.den()), (140, 27));
    assert_eq!(c.years[0].factor.fixed6(), "5.185185");
    assert_eq!(c.all_cost, Fen(1167));
    let d = |code: &str| c.drgs.iter().find(|x| x.drg == code).unwrap().clone();
    assert_eq!((d("AA11").cost_mean, d("AA11").rw), (Some(Fen(136)), Some(Dec4(1169))));
    assert_eq!((d("BB11").cost_mean, d("BB11").rw), (Some(Fen(2924)), Some(Dec4(25063))));
}
