//! Grouper benchmarks: scheme load+compile, and single-thread grouping of pre-parsed records
//! (the 20,000 chs_drg_11 reference rows, grouped over and over).
//! Run: `cargo bench -p casemix-grouper --bench group`.

use casemix_grouper::Grouper;
use casemix_model::{Centi, GroupInput};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::PathBuf;

fn shared() -> PathBuf {
    std::env::var("CASEMIX_SHARED").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

struct Row {
    ints: [Option<i64>; 7],
    dept: Option<String>,
    dx: Vec<String>,
    px: Vec<String>,
}

fn rows(scheme: &str) -> Vec<Row> {
    let mut r = csv::Reader::from_path(shared().join("grouper-reference").join(format!("{scheme}.csv"))).unwrap();
    let int = |s: &str| if s.is_empty() { None } else { s.parse().ok() };
    let list = |s: &str| if s.is_empty() { Vec::new() } else { s.split('|').map(str::to_string).collect() };
    r.records()
        .map(|x| {
            let x = x.unwrap();
            Row {
                ints: [int(&x[1]), int(&x[2]), int(&x[3]), int(&x[4]), int(&x[6]), int(&x[7]), int(&x[8])],
                dept: if x[5].is_empty() { None } else { Some(x[5].to_string()) },
                dx: list(&x[9]),
                px: list(&x[10]),
            }
        })
        .collect()
}

fn input(r: &Row) -> GroupInput<'_> {
    GroupInput {
        sex: r.ints[0],
        age_years: r.ints[1],
        age_days: r.ints[2],
        birth_weight_g: r.ints[3],
        dept: r.dept.as_deref(),
        los_days: r.ints[4],
        leaving_type: r.ints[5],
        icu_hours: r.ints[6].map(Centi::from_whole),
        diagnoses: &r.dx,
        procedures: &r.px,
    }
}

fn bench(c: &mut Criterion) {
    let dir = shared().join("schemes/chs_drg_11");
    let mut g = c.benchmark_group("scheme");
    g.sample_size(10);
    g.bench_function("load_compile_chs_drg_11", |b| b.iter(|| Grouper::from_dir(&dir).unwrap()));
    g.finish();

    for scheme in ["chs_drg_11", "wuxi_2022"] {
        let grouper = Grouper::from_dir(shared().join("schemes").join(scheme)).unwrap();
        let data = rows(scheme);
        let inputs: Vec<GroupInput> = data.iter().map(input).collect();
        let mut g = c.benchmark_group(format!("group_{scheme}"));
        g.throughput(Throughput::Elements(inputs.len() as u64));
        g.sample_size(20);
        g.bench_function("single_thread_records", |b| {
            b.iter(|| {
                let mut n = 0usize;
                for i in &inputs {
                    n += grouper.group(i).drg.len();
                }
                n
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
