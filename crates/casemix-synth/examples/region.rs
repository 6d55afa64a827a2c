//! Quick look at a region without the CLI: `cargo run --release -p casemix-synth --example region
//! -- <profile> <seed> <years> [out-dir]` prints summary.json (and writes the CSVs when out-dir is
//! given). The real entry point is `casemix synth`.

use casemix_grouper::Grouper;
use casemix_synth::write::CsvSink;
use casemix_synth::{Generator, Profile, SchemeTables, SynthConfig};
use std::path::PathBuf;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let profile = Profile::parse(a.get(1).map(String::as_str).unwrap_or("tiny")).unwrap();
    let seed: u64 = a.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let (y0, y1) = SynthConfig::parse_years(a.get(3).map(String::as_str).unwrap_or("2024")).unwrap();
    let shared = std::env::var("CASEMIX_SHARED").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let dir = shared.join("schemes/chs_drg_11");
    let g = Grouper::from_dir(&dir).unwrap();
    let rd = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap();
    let t = SchemeTables::parse(&rd("mcc.tsv"), &rd("cc.tsv"), &rd("cc_exclusion.tsv"), &rd("or_procedures.tsv")).unwrap();
    let mut cfg = SynthConfig::new(seed, profile, y0, y1);
    cfg.threads = 2;
    let t0 = std::time::Instant::now();
    let gen = Generator::new(&g, &t, cfg).unwrap();
    eprintln!("catalogue {:.2}s, {} recipes", t0.elapsed().as_secs_f64(), gen.catalogue().verified_count());
    let t1 = std::time::Instant::now();
    let summary = match a.get(4) {
        Some(out) => {
            let out = PathBuf::from(out);
            std::fs::create_dir_all(&out).unwrap();
            let f = |n: &str| std::io::BufWriter::new(std::fs::File::create(out.join(n)).unwrap());
            let mut sink = CsvSink::new(f("hospitals.csv"), f("settlements.csv"), f("claims.csv"), f("labels.csv")).unwrap();
            let s = gen.run(&mut sink).unwrap();
            sink.flush().unwrap();
            s
        }
        None => {
            struct Null;
            impl casemix_synth::Sink for Null {
                fn hospital(&mut self, _: &casemix_synth::Hospital) -> Result<(), String> { Ok(()) }
                fn settlement(&mut self, _: &casemix_model::SettlementList) -> Result<(), String> { Ok(()) }
                fn claim(&mut self, _: &casemix_model::Claim) -> Result<(), String> { Ok(()) }
                fn label(&mut self, _: &casemix_synth::Label) -> Result<(), String> { Ok(()) }
            }
            gen.run(&mut Null).unwrap()
        }
    };
    let secs = t1.elapsed().as_secs_f64();
    eprintln!("{} lists in {:.2}s = {:.0}/s", summary.total.settlement_lists, secs, summary.total.settlement_lists as f64 / secs);
    println!("{}", serde_json::to_string_pretty(&summary).unwrap());
}
