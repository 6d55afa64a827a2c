//! A full annual settlement of a `city`-sized region: 300,000 cases, 40 hospitals, three tiers
//! with tier budgets, clearing coefficients, surplus retention, deposits (target < 10 s).
//! Data generated in memory with a fixed-seed LCG.

use casemix_model::Fen;
use casemix_policy::parse;
use casemix_pricing::*;
use casemix_settlement::*;
use criterion::{criterion_group, criterion_main, Criterion};
use std::collections::BTreeMap;

const POLICY: &str = r#"
[policy]
region = "基准测试市"
year = 2025
model = "drg_points"
[budget]
total_cost = "3000000000"
adjustment_fund_share = 0.05
quality_deposit_share = 0.05
[[tiers]]
id = 1
budget_share = 0.5
[[tiers]]
id = 2
budget_share = 0.3
floating_rate = -0.01
[[tiers]]
id = 3
budget_share = 0.2
floating_rate = 0.01
[coefficients.level]
"三级甲等" = 1.0
"三级" = 0.95
"二级" = 0.85
"一级" = 0.75
[outliers.high]
threshold = "band"
bands = [{ max_points = 100, multiplier = 3 }, { max_points = 300, multiplier = 2 }, { multiplier = 1.5 }]
payment = "additional_points"
[incomplete]
leaving_types = [2, 5]
[clearing]
enabled = true
indicators = [{ key = "cost_index" }, { key = "accuracy", lower_is_better = false }]
[clearing.surplus_retention]
enabled = true
"#;

struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn data(n: usize) -> (RateTable, Vec<Hospital>, Vec<CaseInput>, BTreeMap<String, IndicatorRow>) {
    let mut r = Lcg(7);
    let groups: Vec<GroupRate> = (0..600)
        .map(|i| {
            let pts = 20 + r.below(500) as i64;
            GroupRate { code: format!("G{i:04}"), name: String::new(), base_points: Decimal::new(pts * 100, 2), mean_cost: Fen(pts * 10_000), kind: String::new() }
        })
        .collect();
    let levels = ["三级甲等", "三级", "二级", "一级"];
    let hospitals: Vec<Hospital> =
        (0..40).map(|i| Hospital { code: format!("H{:03}", i + 1), name: format!("医院{i}"), level: levels[i * 4 / 40].into(), tier: 1 + (i / 14) as u8 }).collect();
    let cases = (0..n)
        .map(|i| {
            let g = r.below(600) as usize;
            let mean = groups[g].mean_cost.0;
            let cost = mean / 5 + (r.below(1_000) as i64 * mean) / 400;
            CaseInput {
                list_id: format!("L{i:07}"),
                hospital_code: hospitals[r.below(40) as usize].code.clone(),
                group: Some(groups[g].code.clone()),
                grouped_ok: r.below(100) >= 2,
                total_cost: Fen(cost),
                selfpay: Fen(cost / 20),
                los_days: 1 + r.below(20) as i64,
                leaving_type: Some(1),
                year: 2025,
                month: 1 + r.below(12) as u32,
                others_paid: Fen(cost / 3),
                ..Default::default()
            }
        })
        .collect();
    let ind = hospitals
        .iter()
        .map(|h| {
            let row = IndicatorRow {
                values: [("cost_index".to_string(), Decimal::new(95 + r.below(10) as i64, 2)), ("accuracy".to_string(), Decimal::new(90 + r.below(10) as i64, 2))]
                    .into_iter()
                    .collect(),
                assessment_score: Some(Decimal::from(60 + r.below(40))),
            };
            (h.code.clone(), row)
        })
        .collect();
    (RateTable::from_groups(RateSource::DrgWeights, groups, Fen(1_000_000)), hospitals, cases, ind)
}

fn bench(c: &mut Criterion) {
    let policy = parse(POLICY).unwrap();
    let (rates, hospitals, cases, ind) = data(300_000);
    let pricer = Pricer::new(&policy, &rates, &hospitals);
    let approved = FxHashSet::default();
    let input = SettleInput { pricer: &pricer, hospitals: &hospitals, cases: &cases, approved: &approved, deductions: &[], indicators: &ind };
    let mut g = c.benchmark_group("settlement");
    g.sample_size(10);
    g.bench_function("annual_city_300k_cases_40_hospitals", |b| {
        b.iter(|| {
            let s = settle(&input, Period::Year);
            assert!(s.summary.balances());
            s.summary.net_payments
        })
    });
    g.bench_function("month_city_300k_cases_40_hospitals", |b| b.iter(|| settle(&input, Period::Month(3)).summary.net_payments));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
