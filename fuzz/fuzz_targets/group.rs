//! Fuzz the grouper: arbitrary bytes become a case (fields split on `,`, codes on `|`) grouped
//! with chs_drg_11, traced and untraced. Run: `CASEMIX_SHARED=../../shared cargo +nightly fuzz run group`.
#![no_main]

use casemix_grouper::Grouper;
use casemix_model::{Centi, GroupInput};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn grouper() -> &'static Grouper {
    static G: OnceLock<Grouper> = OnceLock::new();
    G.get_or_init(|| {
        let shared = std::env::var("CASEMIX_SHARED").unwrap_or_else(|_| "../../shared".into());
        Grouper::from_dir(format!("{shared}/schemes/chs_drg_11")).expect("scheme")
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let f: Vec<&str> = text.split(',').collect();
    let int = |i: usize| f.get(i).and_then(|s| s.trim().parse::<i64>().ok());
    let list = |i: usize| -> Vec<String> {
        f.get(i).map(|s| s.split('|').map(str::to_string).collect()).unwrap_or_default()
    };
    let dx = list(8);
    let px = list(9);
    let inp = GroupInput {
        sex: int(0),
        age_years: int(1),
        age_days: int(2),
        birth_weight_g: int(3),
        dept: f.get(4).copied(),
        los_days: int(5),
        leaving_type: int(6),
        icu_hours: int(7).map(Centi),
        diagnoses: &dx,
        procedures: &px,
    };
    let a = grouper().group(&inp);
    let (b, _) = grouper().explain(&inp);
    assert_eq!(a, b);
});
