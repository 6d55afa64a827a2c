//! bytes → RecordReader (CSV) → Schema::parse / ClaimSchema::parse.
//! The first byte selects the encoding option and the delimiter; the rest is the file.
//! Invariants: no panic; line numbers strictly increase; every row is one list or one
//! rejection on that row's line; a list always has a list_id.
#![no_main]

use casemix_io::{Encoding, Format, ReadOptions, RecordReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else { return };
    let encoding = match sel % 3 {
        0 => Encoding::Auto,
        1 => Encoding::Utf8,
        _ => Encoding::Gbk,
    };
    let delimiter = if sel & 0x80 != 0 { b'\t' } else { b',' };
    let opts = ReadOptions { format: Some(Format::Csv), encoding, delimiter };
    let Ok(mut rdr) = RecordReader::from_reader(Box::new(std::io::Cursor::new(body.to_vec())), None, &opts) else {
        return;
    };
    let schema = rdr.schema();
    let claims = rdr.claim_schema();
    let mut batch = Vec::new();
    let mut prev = rdr.header_line();
    while rdr.fill_batch(&mut batch, 64).expect("in-memory reads do not fail") > 0 {
        for row in &batch {
            assert!(row.line > prev, "line {} after {}", row.line, prev);
            prev = row.line;
            if let Ok(s) = &schema {
                match s.parse(row) {
                    Ok(l) => assert!(!l.list_id.is_empty()),
                    Err(r) => {
                        assert_eq!(r.line, row.line);
                        assert!(r.message.starts_with(&format!("第 {} 行 list_id=", row.line)));
                    }
                }
            }
            if let Ok(c) = &claims {
                if let Err(r) = c.parse(row) {
                    assert_eq!(r.line, row.line);
                }
            }
        }
    }
});
