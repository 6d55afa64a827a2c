//! Property tests: arbitrary input never panics, and every data record ends in exactly one
//! settlement list or one rejection, with its line number.

use casemix_io::*;
use proptest::prelude::*;

const MINIMAL: &[&str] = &[
    "id", "sex", "age_years", "age_days", "birth_weight_g", "dept", "los_days", "leaving_type", "icu_hours",
    "diagnoses", "procedures", "status", "mdc", "adrg", "drg",
];

/// Reads everything; returns (records seen, lists, rejections, line numbers).
fn drain(mut rdr: RecordReader) -> (usize, usize, usize, Vec<u64>) {
    let schema = rdr.schema();
    let claims = rdr.claim_schema();
    let mut batch = Vec::new();
    let (mut seen, mut ok, mut bad, mut lines) = (0, 0, 0, Vec::new());
    while rdr.fill_batch(&mut batch, 5).expect("in-memory reads do not fail") > 0 {
        for row in &batch {
            // rows of a file whose header is not a table are not records (the file is refused)
            seen += schema.is_ok() as usize;
            lines.push(row.line);
            if let Ok(s) = &schema {
                match s.parse(row) {
                    Ok(l) => {
                        assert!(!l.list_id.is_empty());
                        ok += 1
                    }
                    Err(r) => {
                        assert_eq!(r.line, row.line);
                        assert!(r.message.starts_with(&format!("第 {} 行 list_id=", row.line)), "{}", r.message);
                        bad += 1
                    }
                }
            }
            if let Ok(c) = &claims {
                let _ = c.parse(row);
            }
        }
    }
    (seen, ok, bad, lines)
}

fn open(bytes: Vec<u8>, format: Option<Format>, encoding: Encoding) -> Result<RecordReader, IoError> {
    let opts = ReadOptions { encoding, ..ReadOptions::default() };
    RecordReader::from_reader(Box::new(std::io::Cursor::new(bytes)), format, &opts)
}

fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[0-9A-Za-z.|x ]{0,12}",
        2 => "[0-9]{1,4}",
        1 => any::<String>(),
        1 => "[\",\r\n|性别出院诊断 ]{0,6}",
        1 => Just(String::new()),
    ]
}

fn encodings() -> impl Strategy<Value = Encoding> {
    prop_oneof![Just(Encoding::Auto), Just(Encoding::Utf8), Just(Encoding::Gbk)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        fmt in prop_oneof![Just(None), Just(Some(Format::Csv)), Just(Some(Format::Jsonl)), Just(Some(Format::Xlsx))],
        enc in encodings(),
    ) {
        if let Ok(rdr) = open(bytes, fmt, enc) {
            let (seen, ok, bad, lines) = drain(rdr);
            if !lines.is_empty() {
                prop_assert_eq!(ok + bad, seen);
            }
            prop_assert!(lines.windows(2).all(|w| w[0] < w[1]), "lines increase: {:?}", lines);
        }
    }

    #[test]
    fn arbitrary_bytes_after_a_header_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        enc in encodings(),
    ) {
        let mut all = b"id,sex,age_years,admit_time,discharge_time,diagnoses\n".to_vec();
        all.extend(bytes);
        let rdr = open(all, Some(Format::Csv), enc).expect("a header exists");
        let (seen, ok, bad, lines) = drain(rdr);
        prop_assert_eq!(ok + bad, seen);
        prop_assert!(lines.iter().all(|l| *l >= 2));
    }

    /// Arbitrary cells written by a CSV writer (any number per row, quotes, commas, CR/LF inside
    /// cells): the reader yields exactly the rows written, in order, with their physical lines,
    /// and each becomes exactly one list or one rejection.
    #[test]
    fn every_written_row_is_accounted_for(
        rows in proptest::collection::vec(proptest::collection::vec(cell(), 1..18), 0..30),
        crlf in any::<bool>(),
    ) {
        let mut w = csv::WriterBuilder::new()
            .flexible(true)
            .terminator(if crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') })
            .from_writer(Vec::new());
        w.write_record(MINIMAL).unwrap();
        let mut expected_lines = Vec::new();
        let mut line = 2u64;
        for r in &rows {
            // a lone empty cell would be written as an empty line, which CSV readers skip
            let r: Vec<String> = if r.len() == 1 && r[0].is_empty() { vec!["\"\"".into()] } else { r.clone() };
            w.write_record(&r).unwrap();
            expected_lines.push(line);
            line += 1 + r.iter().map(|c| c.matches('\n').count() as u64).sum::<u64>();
        }
        let bytes = w.into_inner().unwrap();
        let rdr = open(bytes, Some(Format::Csv), Encoding::Utf8).unwrap();
        let (seen, ok, bad, lines) = drain(rdr);
        prop_assert_eq!(seen, rows.len());
        prop_assert_eq!(ok + bad, rows.len());
        prop_assert_eq!(lines, expected_lines);
    }

    /// Well-formed minimal-form rows with valid values always parse; the values come back.
    #[test]
    fn valid_minimal_rows_always_parse(
        rows in proptest::collection::vec(
            ("[A-Z][0-9]{1,8}", 1i64..=2, 0i64..120, 1i64..400, "[A-Z][0-9]{2}\\.[0-9]{3}", proptest::option::of("[0-9]{2}\\.[0-9]{4}")),
            1..40),
        gbk in any::<bool>(),
    ) {
        let mut text = String::from("id,性别,age_years,los_days,diagnoses,procedures,出院科别\n");
        for (id, sex, age, los, dx, px) in &rows {
            text.push_str(&format!("{id},{sex},{age},{los},{dx}|Z99.900,{},内科\n", px.clone().unwrap_or_default()));
        }
        let bytes = if gbk { encoding_rs::GBK.encode(&text).0.into_owned() } else { text.into_bytes() };
        let (lists, rej) = read_settlements_from_bytes(&bytes, None, &ReadOptions::default()).unwrap();
        prop_assert!(rej.is_empty(), "{:?}", rej);
        prop_assert_eq!(lists.len(), rows.len());
        for (l, (id, sex, age, los, dx, px)) in lists.iter().zip(&rows) {
            prop_assert_eq!(&l.list_id, id);
            prop_assert_eq!(l.sex.map(|s| s.code()), Some(*sex));
            prop_assert_eq!(l.age_years, Some(*age));
            prop_assert_eq!(l.los_days, Some(*los));
            prop_assert_eq!(&l.diagnoses, &vec![dx.clone(), "Z99.900".to_string()]);
            prop_assert_eq!(l.procedures.len(), px.is_some() as usize);
            prop_assert_eq!(l.dept.as_deref(), Some("内科"));
        }
    }

    /// JSON Lines: arbitrary lines are each one result; blank lines are skipped but counted.
    #[test]
    fn jsonl_lines_are_accounted_for(lines_in in proptest::collection::vec(
        prop_oneof![
            Just("{\"list_id\":\"A\",\"sex\":1}".to_string()),
            Just("{\"id\":7,\"diagnoses\":[\"X\",null]}".to_string()),
            Just(String::new()),
            "[^\n]{0,20}",
        ], 1..25)) {
        let text = lines_in.join("\n");
        // a BOM at the start of the file is not content
        let blank = |i: usize, l: &str| {
            let l = if i == 0 { l.trim_start_matches('\u{feff}') } else { l };
            l.trim_matches(|c: char| c.is_ascii_whitespace()).is_empty()
        };
        let Ok(rdr) = open(text.clone().into_bytes(), Some(Format::Jsonl), Encoding::Auto) else {
            // refused: empty, binary (a NUL byte or a binary signature on the first line), or
            // the first record is not a JSON object
            let first = &lines_in[0];
            let binary = first.contains('\0') || ["GIF8", "%PDF", "Rar!", "PK\x03\x04"].iter().any(|m| first.starts_with(m));
            let first_record = lines_in.iter().enumerate().find(|(i, l)| !blank(*i, l)).map(|(_, l)| l.trim_start_matches('\u{feff}'));
            let not_object = first_record.is_some_and(|l| !l.trim_start().starts_with('{'));
            prop_assert!(binary || not_object || lines_in.iter().enumerate().all(|(i, l)| blank(i, l)));
            return Ok(());
        };
        let expected: Vec<u64> = lines_in
            .iter()
            .enumerate()
            .filter(|(i, l)| !blank(*i, l))
            .map(|(i, _)| i as u64 + 1)
            .collect();
        let (seen, ok, bad, lines) = drain(rdr);
        prop_assert_eq!(seen, expected.len());
        prop_assert_eq!(ok + bad, seen);
        prop_assert_eq!(lines, expected);
    }
}

#[test]
fn schema_without_extras_drops_only_extras() {
    let text = "id,sex,drg\nP1,1,MJ19\n";
    let rdr = open(text.as_bytes().to_vec(), None, Encoding::Auto).unwrap();
    let full = rdr.schema().unwrap();
    let lean = full.clone().with_extra(false);
    let mut rdr = rdr;
    let rows = rdr.next_batch(10).unwrap().unwrap();
    let a = full.parse(&rows[0]).unwrap();
    let b = lean.parse(&rows[0]).unwrap();
    assert_eq!(a.extra, vec![("drg".to_string(), "MJ19".to_string())]);
    assert!(b.extra.is_empty());
    assert_eq!(casemix_model::SettlementList { extra: Vec::new(), ..a }, b);
}
