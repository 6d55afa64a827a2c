//! bytes → RecordReader with the format sniffed (CSV, JSON Lines or a workbook) → parse.
#![no_main]

use casemix_io::{ReadOptions, RecordReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = ReadOptions::default();
    let Ok(mut rdr) = RecordReader::from_reader(Box::new(std::io::Cursor::new(data.to_vec())), None, &opts) else {
        return;
    };
    let schema = rdr.schema();
    let mut batch = Vec::new();
    while rdr.fill_batch(&mut batch, 64).expect("in-memory reads do not fail") > 0 {
        for row in &batch {
            if let Ok(s) = &schema {
                if let Err(r) = s.parse(row) {
                    assert_eq!(r.line, row.line);
                }
            }
        }
    }
});
