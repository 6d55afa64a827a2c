//! Building the DIP catalogue from 3 years × 300,000 cases (in memory; the target is < 30 s
//! end-to-end with reading, see `casemix calibrate dip`). Input: a fixed pseudo-random sequence
//! (SplitMix64 of the case index — deterministic, no seed to choose) over 3,000 diagnoses ×
//! 1,500 procedures, so the catalogue has thousands of core and comprehensive 病种.

use casemix_dip::{build, DipCase, DipConfig, Names};
use casemix_model::Fen;
use criterion::{criterion_group, criterion_main, Criterion};

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

struct Case {
    year: i32,
    dx: Vec<String>,
    px: Vec<String>,
    cost: i64,
}

fn history(per_year: usize) -> Vec<Case> {
    let mut v = Vec::with_capacity(per_year * 3);
    for (yi, year) in [2022, 2023, 2024].into_iter().enumerate() {
        for i in 0..per_year {
            let r = mix((yi * per_year + i) as u64);
            // skewed diagnosis choice: a few hundred frequent codes, a long tail
            let d = ((r % 3000) * ((r >> 12) % 3000) / 3000) as u32;
            let dx = format!("{}{:02}.{}", (b'A' + (d % 26) as u8) as char, d / 26 % 100, d % 7);
            let np = (r >> 24) % 3;
            let px: Vec<String> = (0..np).map(|k| format!("{:02}.{:04}", 30 + (r >> (30 + k * 7)) % 62, (d as u64 + k) % 5 * 100)).collect();
            let sec = ((r >> 50) % 4) as usize;
            let mut dxs = vec![dx];
            dxs.extend((0..sec).map(|k| format!("I{:02}.{}", k * 7 % 100, k)));
            let cost = 200_000 + (r >> 8) as i64 % 3_000_000 + d as i64 * 100;
            v.push(Case { year, dx: dxs, px, cost });
        }
    }
    v
}

fn bench(c: &mut Criterion) {
    let h = history(300_000);
    let cases: Vec<DipCase<'_>> = h
        .iter()
        .map(|x| DipCase { year: x.year, diagnoses: &x.dx, procedures: &x.px, cost: Fen(x.cost), los: 7, leaving_type: Some(1), age_years: Some(50), age_days: None })
        .collect();
    let or: Vec<String> = (0..200).map(|i| format!("{:02}.{:04}", 30 + i % 62, i % 5 * 100)).collect();
    let cfg = DipConfig::default();
    let cat = build(&cases, &or, &[], &Names::default(), &cfg).unwrap();
    eprintln!("{} 病种 from {} cases", cat.entries().len(), cases.len());
    let mut g = c.benchmark_group("dip");
    g.sample_size(10);
    g.bench_function("build_3x300k", |b| b.iter(|| build(&cases, &or, &[], &Names::default(), &cfg).unwrap()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
