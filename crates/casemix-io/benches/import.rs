//! Import throughput on the grouping-only minimal form: a 200,000-row CSV built in memory by
//! repeating the rows of `shared/grouper-reference/chs_drg_11.csv` (20,000 rows × 10).
//!
//! `cargo bench -p casemix-io` — reports elements/s = records/s on one thread for
//! `read` (decode + split into RawRows), `parse` (Schema::parse of pre-read rows) and
//! `read+parse` (both, as `casemix group` does them per record), UTF-8 and GBK.

use casemix_io::{Encoding, Format, RawRow, ReadOptions, RecordReader};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::PathBuf;

const ROWS: usize = 200_000;

fn shared_dir() -> PathBuf {
    std::env::var_os("CASEMIX_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

fn build_csv() -> Vec<u8> {
    let path = shared_dir().join("grouper-reference/chs_drg_11.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let rows: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    let mut out = String::with_capacity(text.len() * (ROWS / rows.len() + 1));
    out.push_str(header);
    out.push('\n');
    for i in 0..ROWS {
        out.push_str(rows[i % rows.len()]);
        out.push('\n');
    }
    out.into_bytes()
}

fn reader(bytes: &[u8], enc: Encoding) -> RecordReader {
    let opts = ReadOptions { format: Some(Format::Csv), encoding: enc, ..ReadOptions::default() };
    RecordReader::from_reader(Box::new(std::io::Cursor::new(bytes.to_vec())), None, &opts).unwrap()
}

fn read_parse(bytes: &[u8], enc: Encoding) -> (usize, usize) {
    let mut rdr = reader(bytes, enc);
    let schema = rdr.schema().unwrap();
    let mut batch = Vec::new();
    let (mut ok, mut bad) = (0, 0);
    while rdr.fill_batch(&mut batch, 4096).unwrap() > 0 {
        for row in &batch {
            match schema.parse(row) {
                Ok(l) => {
                    ok += 1;
                    std::hint::black_box(&l);
                }
                Err(_) => bad += 1,
            }
        }
    }
    (ok, bad)
}

fn bench(c: &mut Criterion) {
    let utf8 = build_csv();
    let (gbk, _, _) = encoding_rs::GBK.encode(std::str::from_utf8(&utf8).unwrap());
    let gbk = gbk.into_owned();
    assert_eq!(read_parse(&utf8, Encoding::Auto), (ROWS, 0));
    assert_eq!(read_parse(&gbk, Encoding::Auto), (ROWS, 0));

    let mut g = c.benchmark_group("import_minimal_200k");
    g.sample_size(10);
    g.throughput(Throughput::Elements(ROWS as u64));
    g.bench_function("read", |b| {
        b.iter(|| {
            let mut rdr = reader(&utf8, Encoding::Auto);
            let mut batch = Vec::new();
            let mut n = 0;
            while rdr.fill_batch(&mut batch, 4096).unwrap() > 0 {
                n += batch.len();
            }
            assert_eq!(n, ROWS);
        })
    });
    let rows: Vec<RawRow> = {
        let mut rdr = reader(&utf8, Encoding::Auto);
        let mut all = Vec::new();
        while let Some(b) = rdr.next_batch(4096).unwrap() {
            all.extend(b);
        }
        all
    };
    let schema = reader(&utf8, Encoding::Auto).schema().unwrap();
    g.bench_function("parse", |b| {
        b.iter(|| {
            for row in &rows {
                std::hint::black_box(schema.parse(row).unwrap());
            }
        })
    });
    let lean = schema.clone().with_extra(false);
    g.bench_function("parse without extras", |b| {
        b.iter(|| {
            for row in &rows {
                std::hint::black_box(lean.parse(row).unwrap());
            }
        })
    });
    g.bench_function("read+parse utf8", |b| b.iter(|| read_parse(&utf8, Encoding::Auto)));
    g.bench_function("read+parse gbk", |b| b.iter(|| read_parse(&gbk, Encoding::Auto)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
