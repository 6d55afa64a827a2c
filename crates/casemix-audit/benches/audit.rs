//! Audit of a city-sized year: 300,000 lists and 200,000 claims built in memory (seeded,
//! deterministic), already grouped. Target (issue 6): < 30 s including grouping; the grouping
//! itself is benchmarked in casemix-grouper.

use casemix_audit::{audit, AuditConfig, AuditInput, CaseGroup};
use casemix_model::*;
use chrono::Duration;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::collections::BTreeMap;

fn region(n: usize) -> (Vec<SettlementList>, Vec<CaseGroup>, Vec<Claim>) {
    let t0 = casemix_model::settlement::parse_datetime(Field::AdmitTime, "2024-01-01 08:00").unwrap();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15; // xorshift, fixed seed
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let drgs = ["ES35", "ES31", "GB15", "GB13", "HC35", "BR25", "BR21", "FM35", "IU29", "JR15"];
    let mut lists = Vec::with_capacity(n);
    let mut groups = Vec::with_capacity(n);
    for i in 0..n {
        let d = drgs[(rnd() % 10) as usize];
        let los = 1 + (rnd() % 20) as i64;
        let a = t0 + Duration::days((rnd() % 360) as i64);
        let cost = Fen(200_000 + (rnd() % 3_000_000) as i64);
        let mut l = SettlementList {
            list_id: format!("L{i}"),
            hospital_code: Some(format!("H{:02}", rnd() % 40)),
            insured_id: Some(format!("P{}", rnd() % (n as u64 / 2))),
            admit_time: Some(a),
            discharge_time: Some(a + Duration::days(los)),
            los_days: Some(los),
            admit_route: Some(AdmitRoute::Outpatient),
            leaving_type: Some(if rnd() % 100 == 0 { LeavingType::Death } else { LeavingType::OrderDischarge }),
            readmit_plan_31d: Some(ReadmitPlan::No),
            diagnoses: vec!["K80.100".into(), "I10.x00".into()],
            total_cost: Some(cost),
            ..Default::default()
        };
        l.fees[FeeKind::Surgery.index()] = Some(Fen(cost.0 / 5));
        l.fees[FeeKind::WesternDrug.index()] = Some(Fen(cost.0 - cost.0 / 5));
        lists.push(l);
        let lower = d.ends_with('1').then(|| format!("{}5", &d[..3]));
        groups.push(CaseGroup { grouped: true, adrg: d[..3].into(), drg: d.into(), drg_without_cc: lower, lifting_dx: Vec::new(), drg_without_lifting: None });
    }
    let claims = (0..n * 2 / 3)
        .map(|k| Claim {
            claim_id: format!("C{k}"),
            insured_id: format!("P{}", rnd() % (n as u64 / 2)),
            provider_kind: Some(ProviderKind::from_code(1 + (rnd() % 2) as i64)),
            claim_time: Some(t0 + Duration::days((rnd() % 365) as i64)),
            fee_western_drug: Fen((rnd() % 100_000) as i64),
            ..Default::default()
        })
        .collect();
    (lists, groups, claims)
}

fn bench(c: &mut Criterion) {
    let (lists, groups, claims) = region(300_000);
    let tiers = BTreeMap::new();
    let cfg = AuditConfig::default();
    let mut g = c.benchmark_group("audit");
    g.throughput(Throughput::Elements(lists.len() as u64));
    g.sample_size(10);
    g.bench_function("city_year_300k", |b| {
        b.iter(|| audit(AuditInput { lists: &lists, groups: &groups, claims: &claims, charges: &[], hospital_tiers: &tiers }, &cfg).flags.len())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
