//! bytes → settlement lists (any format, sniffed) → every quality-control rule. No panic; every
//! input record ends as a list or a rejection; every finding points at a list.
#![no_main]

use casemix_grouper::Dictionaries;
use casemix_io::ReadOptions;
use casemix_qc::{Qc, QcConfig};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn qc() -> &'static Qc {
    static QC: OnceLock<Qc> = OnceLock::new();
    QC.get_or_init(|| {
        let mut d = Dictionaries::default();
        for c in ["K35.800", "E11.900", "O80.000", "Z37.000", "P07.100"] {
            d.diagnosis_names.insert(c.into(), "".into());
        }
        d.diagnosis_map.insert("K35.800x001".into(), "K35.800".into());
        d.procedure_names.insert("47.0100".into(), "".into());
        d.procedure_names.insert("96.7200".into(), "".into());
        Qc::new(&d, QcConfig::default())
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok((lists, _rejected)) = casemix_io::read_settlements_from_bytes(data, None, &ReadOptions::default()) else {
        return;
    };
    let findings = qc().check_all(&lists);
    for f in &findings {
        assert!(f.index < lists.len());
        let _ = f.message();
    }
    let s = casemix_qc::summarize(&lists, &findings);
    assert_eq!(s.total.lists, lists.len());
});
