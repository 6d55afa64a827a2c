//! Pricing throughput on generated cases (target ≥ 1,000,000 cases/s on one core).
//! Data: 600 DRGs, 40 hospitals at four levels, 200,000 cases with the whole rule set on
//! (band outliers, low/incomplete, discipline coefficients, basic groups, exclusions, per-bed-day,
//! day surgery, fallback). Deterministic (fixed-seed LCG).

use casemix_model::Fen;
use casemix_policy::parse;
use casemix_pricing::*;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const POLICY: &str = r#"
[policy]
region = "基准测试"
year = 2025
model = "drg_points"
[budget]
total_cost = "1000000000"
[coefficients]
basic_groups = ["G0001", "G0002", "G0003"]
[coefficients.level]
"三级甲等" = 1.0
"三级" = 0.95
"二级" = 0.85
"一级" = 0.75
[[coefficients.bonus]]
name = "重点专科"
value = 0.02
hospitals = ["H001", "H002"]
[[coefficients.discipline]]
name = "学术系数"
value = 1.04
hospitals = ["H001"]
groups = ["G01*"]
[outliers.high]
threshold = "band"
bands = [{ max_points = 100, multiplier = 3 }, { max_points = 300, multiplier = 2 }, { multiplier = 1.5 }]
payment = "additional_points"
[incomplete]
leaving_types = [2, 5]
[exclusions]
items = [{ code = "NEWDRUG1" }]
[per_bed_day]
groups = [{ code = "G059*", points_per_day = 6.5, max_days = 90 }]
[day_surgery]
groups = [{ code = "G0100", points = 45 }]
"#;

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub fn data(n: usize) -> (RateTable, Vec<Hospital>, Vec<CaseInput>) {
    let mut r = Lcg(42);
    let groups: Vec<GroupRate> = (0..600)
        .map(|i| {
            let pts = 20 + r.below(500) as i64;
            GroupRate { code: format!("G{i:04}"), name: String::new(), base_points: Decimal::new(pts * 100 + r.below(100) as i64, 2), mean_cost: Fen(pts * 10_000), kind: String::new() }
        })
        .collect();
    let levels = ["三级甲等", "三级", "二级", "一级"];
    let hospitals: Vec<Hospital> =
        (0..40).map(|i| Hospital { code: format!("H{:03}", i + 1), name: String::new(), level: levels[(i * 4 / 40) as usize].into(), tier: 1 + (i / 14) as u8 }).collect();
    let cases = (0..n)
        .map(|i| {
            let g = r.below(600) as usize;
            let mean = groups[g].mean_cost.0;
            let cost = mean / 5 + (r.below(1_000) as i64 * mean) / 400;
            let ungrouped = r.below(100) < 2;
            CaseInput {
                list_id: format!("L{i:07}"),
                hospital_code: hospitals[r.below(40) as usize].code.clone(),
                group: if ungrouped { None } else { Some(groups[g].code.clone()) },
                grouped_ok: !ungrouped,
                total_cost: Fen(cost),
                selfpay: Fen(cost / 20),
                excluded_items: if r.below(200) == 0 { vec![("NEWDRUG1".into(), Fen(cost / 10))] } else { Vec::new() },
                los_days: 1 + r.below(20) as i64,
                leaving_type: Some(if r.below(50) == 0 { 5 } else { 1 }),
                year: 2025,
                month: 1 + r.below(12) as u32,
                others_paid: Fen(cost / 3),
                aux_factor: None,
                ..Default::default()
            }
        })
        .collect();
    let rt = RateTable::from_groups(RateSource::DrgWeights, groups, Fen(1_000_000));
    (rt, hospitals, cases)
}

fn bench(c: &mut Criterion) {
    let policy = parse(POLICY).unwrap();
    let (rates, hospitals, cases) = data(200_000);
    let pricer = Pricer::new(&policy, &rates, &hospitals);
    let mut g = c.benchmark_group("pricing");
    g.throughput(Throughput::Elements(cases.len() as u64));
    g.sample_size(10);
    g.bench_function("price_200k_cases", |b| {
        b.iter(|| {
            let mut units = 0i64;
            for case in &cases {
                units += pricer.price(case, CaseFlags::default()).points_units;
            }
            units
        })
    });
    g.bench_function("price_all_200k_cases", |b| b.iter(|| pricer.price_all(&cases, |_| false, |_| false).len()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
