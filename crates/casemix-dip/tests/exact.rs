//! Exactness of 病种 costs, scores and auxiliary factors.
//!
//! * A property test against an independent big-rational reference written here from dip.md §2
//!   (BigRational arithmetic and its own half-away-from-zero rounding by integer division), over
//!   random three-year histories of two 病种 with random year weights, price indexes or measured
//!   growth, and severity levels.
//! * A hand-computed 病种 where `f64` arithmetic rounds to the wrong fen.

use casemix_calibrate::stats::Dec4;
use casemix_dip::*;
use casemix_model::Fen;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use proptest::prelude::*;

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

const YEARS: [i32; 3] = [2022, 2023, 2024];
/// Two combinations, each a core 病种 (threshold 1), both 保守治疗.
const DX: [&str; 2] = ["K35.800", "J06.900"];
/// Their 亚目 keys.
const DX_KEY: [&str; 2] = ["K35.8", "J06.9"];

/// One history case: (combination 0/1, year index, cost fen, has a secondary diagnosis).
type Case = (usize, usize, i64, bool);

#[derive(Debug, Clone)]
struct RandomHistory {
    cases: Vec<Case>,
    weights: Vec<u32>,
    /// price index per year in tenths (1035 = 103.5); `None` = measured growth
    index: Option<Vec<i64>>,
}

fn history_strategy() -> impl Strategy<Value = RandomHistory> {
    (
        prop::collection::vec((0usize..2, 0usize..3, 1i64..=50_000_000, any::<bool>()), 1..40),
        prop::collection::vec(0u32..=9, 3),
        prop::option::of(prop::collection::vec(500i64..=2000, 3)),
    )
        .prop_map(|(cases, weights, index)| RandomHistory { cases, weights, index })
}

/// Reference price factor of year y (dip.md §2 → payment.md §1.2).
fn ref_factor(h: &RandomHistory, y: usize) -> BigRational {
    if let Some(ix) = &h.index {
        return q(ix[2], ix[y]);
    }
    let mean = |y: usize| -> Option<BigRational> {
        let c: Vec<i64> = h.cases.iter().filter(|c| c.1 == y).map(|c| c.2).collect();
        (!c.is_empty()).then(|| q(c.iter().sum::<i64>(), c.len() as i64))
    };
    match (mean(2), mean(y)) {
        (Some(t), Some(m)) => t / m,
        _ => q(1, 1),
    }
}

/// Σ w·f·mean ÷ Σ w over years with w > 0 and cases; equal weights if no such year.
fn ref_weighted(h: &RandomHistory, sel: &dyn Fn(&Case) -> bool, weights: &[u32]) -> Option<BigRational> {
    let (mut num, mut den) = (BigRational::zero(), 0u32);
    for (y, &w) in weights.iter().enumerate() {
        let c: Vec<i64> = h.cases.iter().filter(|c| c.1 == y && sel(c)).map(|c| c.2).collect();
        if w > 0 && !c.is_empty() {
            num += q(w, 1) * ref_factor(h, y) * q(c.iter().sum::<i64>(), c.len() as i64);
            den += w;
        }
    }
    (den > 0).then(|| num / q(den, 1))
}

/// Mean of the price-adjusted costs pooled over the years.
fn ref_pooled(h: &RandomHistory, sel: &dyn Fn(&Case) -> bool) -> Option<BigRational> {
    let c: Vec<&Case> = h.cases.iter().filter(|c| sel(c)).collect();
    let total: BigRational = c.iter().map(|c| q(c.2, 1) * ref_factor(h, c.1)).fold(BigRational::zero(), |a, b| a + b);
    (!c.is_empty()).then(|| total / q(c.len() as i64, 1))
}

struct Owned {
    dx: Vec<Vec<String>>,
    px: Vec<String>,
}

fn owned(h: &RandomHistory) -> Owned {
    let dx = h.cases.iter().map(|c| if c.3 { vec![DX[c.0].to_string(), "E11.900".to_string()] } else { vec![DX[c.0].to_string()] }).collect();
    Owned { dx, px: Vec::new() }
}

fn build_it(h: &RandomHistory, o: &Owned, base: i64) -> Result<Catalogue, String> {
    let cases: Vec<DipCase<'_>> = h
        .cases
        .iter()
        .zip(&o.dx)
        .map(|(c, dx)| DipCase { year: YEARS[c.1], diagnoses: dx, procedures: &o.px, cost: Fen(c.2), los: 2, leaving_type: Some(1), age_years: None, age_days: None })
        .collect();
    let inflation = match &h.index {
        None => Inflation::MeasuredGrowth,
        Some(ix) => Inflation::parse(&format!("index:2022={}.{},2023={}.{},2024={}.{}", ix[0] / 10, ix[0] % 10, ix[1] / 10, ix[1] % 10, ix[2] / 10, ix[2] % 10)).unwrap(),
    };
    let cfg = DipConfig {
        year_weights: h.weights.clone(),
        inflation,
        core_threshold: 1,
        score_base: base,
        aux_min_level_cases: 1,
        aux_min_group_cases: 1,
        ..DipConfig::default()
    };
    build(&cases, &[], &[], &Names::default(), &cfg)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// all-case cost, 病种 fen means, scores (×100 and ×1000) and severity factors equal the
    /// big-rational reference exactly.
    #[test]
    fn catalogue_matches_reference(h in history_strategy(), base in prop::sample::select(vec![100i64, 1000])) {
        let o = owned(&h);
        let got = build_it(&h, &o, base);
        let Some(all) = ref_weighted(&h, &|_| true, &h.weights) else {
            prop_assert!(got.is_err());
            return Ok(());
        };
        let cat = got.unwrap();
        prop_assert_eq!(BigInt::from(cat.data().all_cost.0), ref_round(&all));
        for (k, key) in DX_KEY.iter().enumerate() {
            let Some(e) = cat.entries().iter().find(|e| e.dx_key == *key) else { continue };
            let sel = move |c: &Case| c.0 == k;
            let cost = ref_weighted(&h, &sel, &h.weights).or_else(|| ref_weighted(&h, &sel, &[1, 1, 1])).unwrap();
            prop_assert_eq!(BigInt::from(e.cost_mean.0), ref_round(&cost));
            prop_assert_eq!(BigInt::from(e.score.0), ref_round(&(&cost * q(base * 10_000, 1) / &all)));
            // severity: level 1 = one secondary diagnosis; factor = level mean ÷ 病种 mean (pooled)
            let pooled = ref_pooled(&h, &sel).unwrap();
            for l in &e.severity {
                let with = l.level == 1;
                let level = ref_pooled(&h, &move |c: &Case| c.0 == k && c.3 == with).unwrap();
                prop_assert_eq!(BigInt::from(l.cost_mean.0), ref_round(&level));
                prop_assert_eq!(BigInt::from(l.factor.0), ref_round(&(level / &pooled * q(10_000, 1))));
            }
        }
    }
}

/// The 病种 f64 gets wrong (the same history as the DRG hand test of casemix-calibrate):
/// K35.8 保守治疗, 7 cases ≥ threshold 7 → core; no price adjustment; weights 1:2:7.
/// | year | cases (fen)           | sum   | count |
/// | 2022 | 18312                 | 18312 | 1     |
/// | 2023 | 26477, 26477, 26478   | 79432 | 3     |
/// | 2024 | 24968, 24968, 24969   | 74905 | 3     |
/// Exact: (18312 + 2·79432/3 + 7·74905/3)/10 = (54936 + 158864 + 524335)/30 = 738135/30 = 24604.5
/// → 24605 fen (f64 gives 24604.4999… → 24604). The only 病种, so score = 100.0000.
/// Severity: level 1 = the 2024 cases (one secondary diagnosis each): pooled 病种 mean =
/// (18312 + 79432 + 74905)/7 = 172649/7; level 1 mean = 74905/3; factor = (74905/3)/(172649/7)
/// = 524335/517947 = 1.012333 → 1.0123; level 0 mean = (18312 + 79432)/4 = 97744/4 = 24436;
/// factor = 24436·7/172649 = 171052/172649 = 0.99075002 → 0.9908.
#[test]
fn f64_rounds_to_the_wrong_fen_exact_does_not() {
    let rows: [(i32, i64, bool); 7] = [
        (2022, 18312, false),
        (2023, 26477, false),
        (2023, 26477, false),
        (2023, 26478, false),
        (2024, 24968, true),
        (2024, 24968, true),
        (2024, 24969, true),
    ];
    let dx: Vec<Vec<String>> = rows.iter().map(|r| if r.2 { vec!["K35.800".into(), "I10.x00".into()] } else { vec!["K35.800".into()] }).collect();
    let px: Vec<String> = Vec::new();
    let cases: Vec<DipCase<'_>> = rows
        .iter()
        .zip(&dx)
        .map(|(r, d)| DipCase { year: r.0, diagnoses: d, procedures: &px, cost: Fen(r.1), los: 3, leaving_type: Some(1), age_years: None, age_days: None })
        .collect();
    let cfg = DipConfig { inflation: Inflation::None, core_threshold: 7, aux_min_group_cases: 7, aux_min_level_cases: 3, ..DipConfig::default() };
    let cat = build(&cases, &[], &[], &Names::default(), &cfg).unwrap();
    let e = &cat.entries()[0];
    assert_eq!((e.code.as_str(), e.kind), ("C00001", DipKind::Core));
    assert_eq!(e.cost_mean, Fen(24605));
    assert_eq!(cat.data().all_cost, Fen(24605));
    assert_eq!(e.score, Dec4(1_000_000));
    let lv: Vec<(u8, usize, Fen, Dec4, bool)> = e.severity.iter().map(|l| (l.level, l.cases, l.cost_mean, l.factor, l.active)).collect();
    // level means: 24436 fen; 74905/3 = 24968.33 → 24968 fen
    assert_eq!(lv, vec![(0, 4, Fen(24436), Dec4(9908), true), (1, 3, Fen(24968), Dec4(10123), true)]);
    assert!(cat.catalogue_csv().contains(",246.05,"));
}
