//! DRG weights from 3 years × 300,000 grouped cases (in memory; the target is < 30 s end-to-end
//! with reading and grouping, see `casemix calibrate drg`). Input: a fixed pseudo-random sequence
//! (SplitMix64 of the case index — deterministic) over 600 DRGs and 40 hospitals.

use casemix_calibrate::{calibrate, CalibConfig, CaseCost};
use casemix_model::Fen;
use criterion::{criterion_group, criterion_main, Criterion};
use std::collections::BTreeMap;

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn bench(c: &mut Criterion) {
    let drgs: Vec<String> = (0..600).map(|i| format!("{}{}{:02}", (b'A' + (i / 25) as u8) as char, (b'A' + (i % 25) as u8) as char, i % 100)).collect();
    let adrgs: Vec<String> = drgs.iter().map(|d| d[..3].to_string()).collect();
    let hosps: Vec<String> = (0..40).map(|i| format!("H{i:03}")).collect();
    let mut cases = Vec::with_capacity(900_000);
    for (yi, year) in [2022, 2023, 2024].into_iter().enumerate() {
        for i in 0..300_000usize {
            let r = mix((yi * 300_000 + i) as u64);
            let d = ((r % 600) * ((r >> 10) % 600) / 600) as usize;
            let cost = (100_000 + d as i64 * 5_000) * (90 + (r >> 20) as i64 % 40) / 100 + if (r >> 40) % 100 == 0 { 5_000_000 } else { 0 };
            cases.push(CaseCost { year, hospital: &hosps[(r >> 30) as usize % 40], drg: &drgs[d], adrg: &adrgs[d], cost: Fen(cost), los: 3 + (r >> 50) as i64 % 15 });
        }
    }
    let cfg = CalibConfig::default();
    let mut g = c.benchmark_group("calibrate");
    g.sample_size(10);
    g.bench_function("drg_weights_3x300k", |b| b.iter(|| calibrate(&cases, &[], &BTreeMap::new(), &cfg).unwrap()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
