//! Import tests: encodings, formats, headers, pass-through, every rejection rule, line numbers.

use casemix_io::*;
use casemix_model::{Centi, Fen, Field, LeavingType, Sex};
use chrono::NaiveDate;
use std::path::PathBuf;

fn shared_dir() -> Option<PathBuf> {
    let p = std::env::var_os("CASEMIX_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    p.is_dir().then_some(p)
}

fn csv_opts() -> ReadOptions {
    ReadOptions { format: Some(Format::Csv), ..ReadOptions::default() }
}

fn read_csv(text: &[u8]) -> (Vec<casemix_model::SettlementList>, Vec<Rejection>) {
    read_settlements_from_bytes(text, Some(Format::Csv), &ReadOptions::default()).expect("file-level ok")
}

fn messages(r: &[Rejection]) -> Vec<&str> {
    r.iter().map(|r| r.message.as_str()).collect()
}

const FULL: &str = "list_id,hospital_name,sex,age_years,admit_time,discharge_time,los_days,leaving_type,icu_hours,diagnoses,procedures,fee_bed,fee_western_drug,total_cost\n\
L001,第一人民医院,2,45,2025-03-01 08:30,2025-03-05 10:00,4,1,12.5,K35.800|E11.900,47.0901,120.00,1234.56,1354.56\n\
L002,第一人民医院,1,3,2025-03-02,2025-03-02,1,5,,J18.900,,0,8.1,8.10\n";

fn check_full(lists: &[casemix_model::SettlementList]) {
    assert_eq!(lists.len(), 2);
    let a = &lists[0];
    assert_eq!(a.list_id, "L001");
    assert_eq!(a.hospital_name.as_deref(), Some("第一人民医院"));
    assert_eq!(a.sex, Some(Sex::Female));
    assert_eq!(a.age_years, Some(45));
    assert_eq!(a.admit_time, NaiveDate::from_ymd_opt(2025, 3, 1).unwrap().and_hms_opt(8, 30, 0));
    assert_eq!(a.los_days, Some(4));
    assert_eq!(a.leaving_type, Some(LeavingType::OrderDischarge));
    assert_eq!(a.icu_hours, Some(Centi(1250)));
    assert_eq!(a.diagnoses, vec!["K35.800", "E11.900"]);
    assert_eq!(a.procedures, vec!["47.0901"]);
    assert_eq!(a.fees[0], Some(Fen(12000)));
    assert_eq!(a.fees[8], Some(Fen(123456)));
    assert_eq!(a.total_cost, Some(Fen(135456)));
    assert!(a.extra.is_empty());
    let b = &lists[1];
    assert_eq!(b.list_id, "L002");
    assert_eq!(b.leaving_type, Some(LeavingType::Death));
    assert_eq!(b.icu_hours, None);
    assert!(b.procedures.is_empty());
    assert_eq!(b.fees[8], Some(Fen(810)));
    assert_eq!(b.fees[1], None, "absent column = missing");
}

#[test]
fn utf8_without_bom() {
    let (lists, rej) = read_csv(FULL.as_bytes());
    assert!(rej.is_empty(), "{rej:?}");
    check_full(&lists);
}

#[test]
fn utf8_with_bom() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(FULL.as_bytes());
    let rdr = RecordReader::from_reader(Box::new(std::io::Cursor::new(bytes.clone())), None, &ReadOptions::default())
        .unwrap();
    assert_eq!(rdr.format(), Format::Csv);
    assert_eq!(rdr.encoding(), Encoding::Utf8);
    assert_eq!(&rdr.headers()[0], "list_id", "BOM removed from the first header cell");
    let (lists, rej) = read_csv(&bytes);
    assert!(rej.is_empty());
    check_full(&lists);
}

fn chinese_header_csv() -> String {
    // the same two records as FULL, with the Chinese labels as headers
    let header: Vec<&str> = FULL
        .lines()
        .next()
        .unwrap()
        .split(',')
        .map(|k| Field::ALL.iter().find(|f| f.key() == k).unwrap().label_zh())
        .collect();
    let mut s = header.join(",");
    s.push('\n');
    for l in FULL.lines().skip(1) {
        s.push_str(l);
        s.push('\n');
    }
    s
}

#[test]
fn chinese_headers() {
    let text = chinese_header_csv();
    assert!(text.starts_with("清单流水号,定点医药机构名称,性别,年龄(岁),入院时间,出院时间,"));
    let (lists, rej) = read_csv(text.as_bytes());
    assert!(rej.is_empty());
    check_full(&lists);
}

#[test]
fn gbk_auto_detected_and_explicit() {
    let text = chinese_header_csv();
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&gbk).is_err(), "the fixture really is GBK, not UTF-8");
    let rdr = RecordReader::from_reader(Box::new(std::io::Cursor::new(gbk.to_vec())), None, &ReadOptions::default())
        .unwrap();
    assert_eq!(rdr.encoding(), Encoding::Gbk);
    assert_eq!(&rdr.headers()[0], "清单流水号");
    let (lists, rej) = read_csv(&gbk);
    assert!(rej.is_empty());
    check_full(&lists);
    let explicit = ReadOptions { encoding: Encoding::Gbk, ..csv_opts() };
    let (lists, rej) = read_settlements_from_bytes(&gbk, None, &explicit).unwrap();
    assert!(rej.is_empty());
    check_full(&lists);
    // the encoding option parses common names
    assert_eq!(Encoding::from_name("GB18030"), Some(Encoding::Gbk));
    assert_eq!(Encoding::from_name("utf-8"), Some(Encoding::Utf8));
    assert_eq!(Encoding::from_name("latin1"), None);
}

#[test]
fn gbk_record_in_a_file_detected_as_utf8() {
    // > 64 KiB of ASCII so detection says UTF-8, then one GBK-encoded record.
    let mut bytes = b"list_id,hospital_name\n".to_vec();
    let n = 4000;
    for i in 0..n {
        bytes.extend_from_slice(format!("A{i:05},hospital-{i:05}\n").as_bytes());
    }
    assert!(bytes.len() > 64 * 1024);
    let (gbk, _, _) = encoding_rs::GBK.encode("B00001,人民医院\n");
    bytes.extend_from_slice(&gbk);
    let (lists, rej) = read_csv(&bytes);
    assert!(rej.is_empty(), "{rej:?}");
    assert_eq!(lists.len(), n + 1);
    assert_eq!(lists[n].hospital_name.as_deref(), Some("人民医院"));
}

#[test]
fn invalid_bytes_are_an_encoding_rejection() {
    // explicit UTF-8: no GBK fallback; 0xFF is neither.
    let mut bytes = b"list_id,hospital_name\nL1,ok\nL2,bad\xFF\xFE\nL3,ok\n".to_vec();
    let opts = ReadOptions { encoding: Encoding::Utf8, ..csv_opts() };
    let (lists, rej) = read_settlements_from_bytes(&bytes, None, &opts).unwrap();
    assert_eq!(lists.iter().map(|l| l.list_id.as_str()).collect::<Vec<_>>(), ["L1", "L3"]);
    assert_eq!(rej.len(), 1);
    assert_eq!(rej[0].rule, rules::ENCODING);
    assert_eq!(rej[0].line, 3);
    assert_eq!(rej[0].list_id, "L2");
    assert_eq!(rej[0].message, "第 3 行 list_id=L2：含有无法识别的字符（既不是 UTF-8 也不是 GBK 编码）");
    // auto: a lone 0xFF is not GBK either; the file is detected as GBK and decoding replaces
    // it, but a file that is otherwise fine still yields its good records
    bytes.clear();
    bytes.extend_from_slice(b"list_id,hospital_name\nL1,ok\n");
    let (lists, rej) = read_csv(&bytes);
    assert_eq!((lists.len(), rej.len()), (1, 0));
}

#[test]
fn minimal_form_inline() {
    let text = "id,sex,age_years,age_days,birth_weight_g,dept,los_days,leaving_type,icu_hours,diagnoses,procedures,status,mdc,adrg,drg\n\
P0000001,1,1,,,,4,1,0,D17.700x034|S26.800x031,60.7301|44.9601,分组成功,MDCM,MJ1,MJ19\n\
P0000004,2,0,172,948,,12,1,0,A18.100x032,55.2300x003|17.972S0,分组成功,MDCN,NS1,NS19\n";
    let (lists, rej) = read_csv(text.as_bytes());
    assert!(rej.is_empty());
    assert_eq!(lists.len(), 2);
    let a = &lists[0];
    assert_eq!(a.list_id, "P0000001");
    assert_eq!(a.sex, Some(Sex::Male));
    assert_eq!((a.age_years, a.age_days, a.birth_weight_g), (Some(1), None, None));
    assert_eq!(a.dept, None);
    assert_eq!(a.icu_hours, Some(Centi(0)));
    assert_eq!(a.diagnoses, ["D17.700x034", "S26.800x031"]);
    assert_eq!(
        a.extra,
        vec![
            ("status".to_string(), "分组成功".to_string()),
            ("mdc".into(), "MDCM".into()),
            ("adrg".into(), "MJ1".into()),
            ("drg".into(), "MJ19".into())
        ]
    );
    let b = &lists[1];
    assert_eq!((b.age_years, b.age_days, b.birth_weight_g), (Some(0), Some(172), Some(948)));
    assert_eq!(b.procedures, ["55.2300x003", "17.972S0"]);
}

#[test]
fn minimal_form_reference_file() {
    let Some(shared) = shared_dir() else {
        eprintln!("shared/ not found; skipped");
        return;
    };
    let path = shared.join("grouper-reference/chs_drg_11.csv");
    let (lists, rej) = read_settlements(&path, &ReadOptions::default()).unwrap();
    // 20001 lines = header + 20000 records
    assert_eq!(lists.len(), 20000);
    assert!(rej.is_empty(), "{:?}", &rej[..rej.len().min(3)]);
    assert_eq!(lists[0].list_id, "P0000001");
    assert_eq!(lists[0].diagnoses.len(), 7);
    assert_eq!(lists[0].extra[3], ("drg".to_string(), "MJ19".to_string()));
    assert_eq!(lists[1].dept.as_deref(), Some("13040503"));
    assert_eq!(lists[1].icu_hours, Some(Centi(9600)));
}

#[test]
fn jsonl_with_mixed_keys_numbers_arrays_and_extras() {
    let text = concat!(
        "{\"list_id\":\"J1\",\"性别\":2,\"age_years\":30,\"diagnoses\":[\"K35.800\",\"E11.900\"],\"fee_bed\":12.5,\"ward\":\"3A\",\"flag\":true}\n",
        "\n",
        "   \n",
        "{\"id\":1002,\"admit_time\":\"2025-01-01 08:00\",\"discharge_time\":\"2025-01-03 09:00\",\"dept\":null,\"note\":{\"a\":1}}\n",
        "[1,2]\n",
        "{\"list_id\":\"J4\",\"sex\":1,\n",
        "{\"list_id\":\"J5\",\"sex\":1,\"性别\":2}\n",
        "{\"list_id\":\"J6\",\"los_days\":\"x\"}\n",
        "{\"list_id\":\"J7\",\"los_days\":3.0}\n",
    );
    let (lists, rej) = read_settlements_from_bytes(text.as_bytes(), None, &ReadOptions::default()).unwrap();
    assert_eq!(lists.len(), 2);
    assert_eq!(rej.len(), 5);
    let a = &lists[0];
    assert_eq!(a.list_id, "J1");
    assert_eq!(a.sex, Some(Sex::Female));
    assert_eq!(a.age_years, Some(30));
    assert_eq!(a.diagnoses, ["K35.800", "E11.900"]);
    assert_eq!(a.fees[0], Some(Fen(1250)));
    assert_eq!(a.extra, vec![("ward".to_string(), "3A".to_string()), ("flag".into(), "true".into())]);
    assert_eq!(lists[1].list_id, "J7");
    assert_eq!(lists[1].los_days, Some(3));
    assert_eq!(
        messages(&rej),
        [
            "第 4 行 list_id=1002：字段“note”的取值是嵌套的对象或数组，不能作为单元格",
            "第 5 行 list_id=：不是 JSON 对象",
            "第 6 行 list_id=：不是有效的 JSON 对象（第 24 列附近语法错误）",
            "第 7 行 list_id=J5：字段 sex（性别）出现多次",
            "第 8 行 list_id=J6：实际住院天数(los_days)取值“x”不是整数",
        ]
    );
    assert_eq!(
        rej.iter().map(|r| r.rule.as_str()).collect::<Vec<_>>(),
        [rules::JSON_VALUE, rules::JSON_NOT_OBJECT, rules::JSON_NOT_OBJECT, rules::JSON_DUPLICATE_FIELD, "integer"]
    );
    assert_eq!(rej[0].field, "note");
    assert_eq!(rej[3].field, "sex");
    assert_eq!(rej[4].field, "los_days");
}

#[test]
fn jsonl_empty_file_is_an_error() {
    let e = read_settlements_from_bytes(b"\n  \n", Some(Format::Jsonl), &ReadOptions::default()).unwrap_err();
    assert!(matches!(e, IoError::Empty));
    assert_eq!(e.to_string(), "文件为空（没有表头行或记录）");
}

#[test]
fn xlsx_written_then_read() {
    // Written with rust_xlsxwriter directly, with Excel-typed cells: numbers, a real date cell.
    use rust_xlsxwriter::{ExcelDateTime, Format as XFormat, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let headers = ["清单流水号", "sex", "年龄(岁)", "admit_time", "discharge_time", "diagnoses", "fee_bed", "ward"];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let datefmt = XFormat::new().set_num_format("yyyy-mm-dd hh:mm");
    ws.write_string(1, 0, "X1").unwrap();
    ws.write_number(1, 1, 2.0).unwrap();
    ws.write_number(1, 2, 67.0).unwrap();
    let t1 = ExcelDateTime::parse_from_str("2025-03-01 08:30").unwrap();
    let t2 = ExcelDateTime::parse_from_str("2025-03-04 16:00").unwrap();
    ws.write_datetime_with_format(1, 3, &t1, &datefmt).unwrap();
    ws.write_datetime_with_format(1, 4, &t2, &datefmt).unwrap();
    ws.write_string(1, 5, "I21.000|I10.x00").unwrap();
    ws.write_number(1, 6, 123.45).unwrap();
    ws.write_string(1, 7, "3A").unwrap();
    // row 3 empty (skipped), row 4: discharge before admission (text cells)
    ws.write_string(3, 0, "X2").unwrap();
    ws.write_string(3, 3, "2025-03-05").unwrap();
    ws.write_string(3, 4, "2025-03-04").unwrap();
    // row 5: a value beyond the header's width
    ws.write_string(4, 0, "X3").unwrap();
    ws.write_string(4, 9, "stray").unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let (lists, rej) = read_settlements_from_bytes(&bytes, None, &ReadOptions::default()).unwrap();
    assert_eq!(lists.len(), 1);
    let a = &lists[0];
    assert_eq!(a.list_id, "X1");
    assert_eq!(a.sex, Some(Sex::Female));
    assert_eq!(a.age_years, Some(67));
    assert_eq!(a.admit_time, NaiveDate::from_ymd_opt(2025, 3, 1).unwrap().and_hms_opt(8, 30, 0));
    assert_eq!(a.discharge_time, NaiveDate::from_ymd_opt(2025, 3, 4).unwrap().and_hms_opt(16, 0, 0));
    assert_eq!(a.diagnoses, ["I21.000", "I10.x00"]);
    assert_eq!(a.fees[0], Some(Fen(12345)));
    assert_eq!(a.extra, vec![("ward".to_string(), "3A".to_string())]);
    assert_eq!(
        messages(&rej),
        ["第 4 行 list_id=X2：出院时间早于入院时间", "第 5 行 list_id=X3：本行有 10 个单元格，表头有 8 列"]
    );
}

#[test]
fn xlsx_table_writer_roundtrip_and_deterministic() {
    let mut sheet = XlsxSheet::new("结算单/汇总", &["list_id", "total_cost", "n"]);
    sheet.push_row(vec!["L1".into(), Fen(123456).into(), 3i64.into()]);
    sheet.push_row(vec!["L2".into(), XlsxCell::Empty, XlsxCell::Number(0.5)]);
    let a = xlsx_bytes(std::slice::from_ref(&sheet)).unwrap();
    let b = xlsx_bytes(std::slice::from_ref(&sheet)).unwrap();
    assert_eq!(a, b, "byte-identical output");
    let mut rdr = RecordReader::from_xlsx_bytes(a).unwrap();
    assert_eq!(rdr.headers().iter().collect::<Vec<_>>(), ["list_id", "total_cost", "n"]);
    let rows = rdr.next_batch(10).unwrap().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].cells.iter().collect::<Vec<_>>(), ["L1", "1234.56", "3"]);
    assert_eq!(rows[1].cells.iter().collect::<Vec<_>>(), ["L2", "", "0.5"]);
    assert_eq!((rows[0].line, rows[1].line), (2, 3));
    assert!(rdr.next_batch(10).unwrap().is_none());
    let dir = std::env::temp_dir().join(format!("casemix-io-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("t.xlsx");
    write_table_xlsx(&p, &["a"], &[vec!["x".into()]]).unwrap();
    // header "a" is not list_id: not a table of settlement lists
    let e = read_settlements(&p, &ReadOptions::default()).unwrap_err();
    assert!(matches!(e, IoError::NotATable(_)), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn extra_columns_pass_through_and_canonical_roundtrip() {
    let text = "ward,list_id,sex,remark,diagnoses,fee_other\nW1,L1,1,\"a, b\",A01.000,1.5\nW2,L2,2,,,\n";
    let (lists, rej) = read_csv(text.as_bytes());
    assert!(rej.is_empty());
    assert_eq!(lists[0].extra, vec![("ward".to_string(), "W1".to_string()), ("remark".into(), "a, b".into())]);
    assert_eq!(lists[1].extra, vec![("ward".to_string(), "W2".to_string()), ("remark".into(), String::new())]);
    let mut out = Vec::new();
    write_settlements_csv(&mut out, &lists).unwrap();
    let out_text = String::from_utf8(out.clone()).unwrap();
    let header = out_text.lines().next().unwrap();
    let keys: Vec<&str> = Field::ALL.iter().map(|f| f.key()).collect();
    assert_eq!(header, format!("{},ward,remark", keys.join(",")));
    let (again, rej) = read_csv(&out);
    assert!(rej.is_empty());
    assert_eq!(again, lists);
}

#[test]
fn raw_cells_are_exposed_for_pass_through() {
    let text = "id,sex,drg\n P1 ,1,MJ19\n";
    let mut rdr = RecordReader::from_reader(Box::new(std::io::Cursor::new(text.as_bytes().to_vec())), None, &csv_opts())
        .unwrap();
    let schema = rdr.schema().unwrap();
    assert_eq!(schema.column_of(Field::ListId), Some(0));
    assert_eq!(schema.column_of(Field::Dept), None);
    assert_eq!(schema.column_fields(), vec![Some(Field::ListId), Some(Field::Sex), None]);
    let rows = rdr.next_batch(100).unwrap().unwrap();
    assert_eq!(rows[0].cells.iter().collect::<Vec<_>>(), [" P1 ", "1", "MJ19"]);
    assert_eq!(schema.raw_list_id(&rows[0]), "P1");
    assert_eq!(schema.parse(&rows[0]).unwrap().list_id, "P1");
}

// ---- every structural rule: a row that triggers it, and one that does not ----

#[test]
fn rule_field_unreadable() {
    let text = "list_id,age_years,fee_bed,admit_time\nL1,abc,1.00,\nL2,3,1.00,2025-01-01\nL3,x,1.234,bad\n";
    let (lists, rej) = read_csv(text.as_bytes());
    assert_eq!(lists.iter().map(|l| l.list_id.as_str()).collect::<Vec<_>>(), ["L2"]);
    assert_eq!(
        messages(&rej),
        [
            "第 2 行 list_id=L1：年龄(岁)(age_years)取值“abc”不是整数",
            "第 4 行 list_id=L3：年龄(岁)(age_years)取值“x”不是整数（另有 2 个字段无法读取）",
        ]
    );
    assert_eq!((rej[0].field.as_str(), rej[0].rule.as_str()), ("age_years", "integer"));
    let (_, rej) = read_csv(b"list_id,fee_bed\nL1,1.234\n");
    assert_eq!(rej[0].rule, "amount_decimals");
    assert_eq!(rej[0].field, "fee_bed");
    assert_eq!(rej[0].message, "第 2 行 list_id=L1：床位费(fee_bed)取值“1.234”小数位超过2位");
}

#[test]
fn rule_list_id_missing() {
    let text = "list_id,sex\nL1,1\n,2\n   ,1\n";
    let (lists, rej) = read_csv(text.as_bytes());
    assert_eq!(lists.len(), 1);
    assert_eq!(
        messages(&rej),
        ["第 3 行 list_id=：清单流水号(list_id)为空", "第 4 行 list_id=：清单流水号(list_id)为空"]
    );
    assert!(rej.iter().all(|r| r.rule == rules::LIST_ID_MISSING && r.field == "list_id"));
    // no list_id column at all: not a table of settlement lists, refused as a whole (issue 12)
    let e = read_settlements_from_bytes(b"sex\n1\n2\n", Some(Format::Csv), &ReadOptions::default()).unwrap_err();
    assert!(matches!(e, IoError::NotATable(_)));
    assert_eq!(e.to_string(), "文件不是可导入的数据表：表头没有清单流水号(list_id/清单流水号/id)列，无法识别为结算清单表；表头前几列为：sex");
}

#[test]
fn rule_cell_count() {
    let text = "list_id,sex,age_years\nL1,1,30\nL2,1\nL3,1,30,extra\nL4,2,40\n";
    let (lists, rej) = read_csv(text.as_bytes());
    assert_eq!(lists.iter().map(|l| l.list_id.as_str()).collect::<Vec<_>>(), ["L1", "L4"]);
    assert_eq!(
        messages(&rej),
        ["第 3 行 list_id=L2：本行有 2 个单元格，表头有 3 列", "第 4 行 list_id=L3：本行有 4 个单元格，表头有 3 列"]
    );
    assert!(rej.iter().all(|r| r.rule == rules::CELL_COUNT && r.field.is_empty()));
}

#[test]
fn rule_discharge_before_admit() {
    let text = "list_id,admit_time,discharge_time\n\
L001,2025-03-05 10:00,2025-03-01 08:00\n\
L002,2025-03-05 10:00,2025-03-05 10:00\n\
L003,2025-03-05,\n";
    let (lists, rej) = read_csv(text.as_bytes());
    assert_eq!(lists.iter().map(|l| l.list_id.as_str()).collect::<Vec<_>>(), ["L002", "L003"]);
    assert_eq!(rej.len(), 1);
    assert_eq!(rej[0].message, "第 2 行 list_id=L001：出院时间早于入院时间");
    assert_eq!(rej[0].to_string(), rej[0].message, "Display is the message");
    assert_eq!((rej[0].field.as_str(), rej[0].rule.as_str()), ("discharge_time", rules::DISCHARGE_BEFORE_ADMIT));
}

#[test]
fn rule_json_not_object() {
    let text = "{\"list_id\":\"A\"}\n\"text\"\n42\n{\"list_id\":\"B\"}\n";
    let (lists, rej) = read_settlements_from_bytes(text.as_bytes(), Some(Format::Jsonl), &ReadOptions::default()).unwrap();
    assert_eq!(lists.iter().map(|l| l.list_id.as_str()).collect::<Vec<_>>(), ["A", "B"]);
    assert_eq!(messages(&rej), ["第 2 行 list_id=：不是 JSON 对象", "第 3 行 list_id=：不是 JSON 对象"]);
}

#[test]
fn header_duplicate_columns_is_a_file_error() {
    let e = read_csv_err(b"list_id,sex,age_years,\xE6\x80\xA7\xE5\x88\xAB\nL1,1,2,1\n");
    assert_eq!(e.to_string(), "表头第 4 列“性别”与第 2 列“sex”重复，都对应字段 sex（性别）");
    let e = read_csv_err(b"id,list_id\nL1,L1\n");
    assert!(matches!(e, IoError::DuplicateColumn { col: 2, first_col: 1, .. }));
    // duplicate unknown columns are fine: both kept
    let (lists, _) = read_csv(b"list_id,x,x\nL1,a,b\n");
    assert_eq!(lists[0].extra, vec![("x".to_string(), "a".to_string()), ("x".into(), "b".into())]);
}

fn read_csv_err(b: &[u8]) -> IoError {
    read_settlements_from_bytes(b, Some(Format::Csv), &ReadOptions::default()).unwrap_err()
}

#[test]
fn empty_file_is_an_error_header_only_is_not() {
    assert!(matches!(read_csv_err(b""), IoError::Empty));
    assert!(matches!(read_csv_err(b"\n\n"), IoError::Empty));
    assert!(matches!(read_csv_err(b"\xEF\xBB\xBF"), IoError::Empty));
    let (lists, rej) = read_csv(b"list_id,sex\n");
    assert!(lists.is_empty() && rej.is_empty());
    let e = read_settlements("/nonexistent/x.csv", &ReadOptions::default()).unwrap_err();
    assert!(e.to_string().starts_with("无法打开文件 /nonexistent/x.csv："), "{e}");
}

#[test]
fn line_numbers_are_physical_lines() {
    // blank lines are skipped but counted; a quoted cell spanning lines starts at its first line;
    // CRLF line ends
    let text = "list_id,remark,age_years\r\nL1,a,1\r\n\r\nL2,\"two\r\nlines\",x\r\nL3,c,y\r\n";
    let (lists, rej) = read_csv(text.as_bytes());
    assert_eq!(lists.len(), 1);
    assert_eq!(rej.iter().map(|r| (r.line, r.list_id.as_str())).collect::<Vec<_>>(), [(4, "L2"), (6, "L3")]);
}

#[test]
fn interleaved_bad_and_good_rows_are_all_accounted_for() {
    let mut text = String::from("list_id,sex,age_years,admit_time,discharge_time\n");
    let mut expected_bad = Vec::new();
    for i in 0..300u64 {
        let line = i + 2;
        let row = match i % 5 {
            0 => format!("G{i},1,30,2025-01-01,2025-01-02"),
            1 => {
                expected_bad.push((line, rules::CELL_COUNT));
                format!("B{i},1,30")
            }
            2 => {
                expected_bad.push((line, "integer"));
                format!("B{i},1,thirty,,")
            }
            3 => {
                expected_bad.push((line, rules::DISCHARGE_BEFORE_ADMIT));
                format!("B{i},2,30,2025-01-02,2025-01-01")
            }
            _ => {
                if i % 10 == 4 {
                    expected_bad.push((line, rules::LIST_ID_MISSING));
                    ",2,30,,".to_string()
                } else {
                    format!("G{i},2,,,")
                }
            }
        };
        text.push_str(&row);
        text.push('\n');
    }
    // read in small batches through the two-stage API
    let mut rdr =
        RecordReader::from_reader(Box::new(std::io::Cursor::new(text.into_bytes())), Some(Format::Csv), &csv_opts())
            .unwrap();
    let schema = std::sync::Arc::new(rdr.schema().unwrap());
    let mut batch = Vec::new();
    let (mut good, mut bad, mut seen) = (Vec::new(), Vec::new(), 0);
    while rdr.fill_batch(&mut batch, 7).unwrap() > 0 {
        assert!(batch.len() <= 7);
        for row in &batch {
            seen += 1;
            match schema.parse(row) {
                Ok(l) => good.push(l.list_id),
                Err(r) => bad.push(r),
            }
        }
    }
    assert_eq!(seen, 300);
    assert_eq!(good.len() + bad.len(), 300);
    assert_eq!(bad.iter().map(|r| (r.line, r.rule.as_str())).collect::<Vec<_>>(), expected_bad);
    assert!(good.iter().all(|id| id.starts_with('G')));
    assert_eq!(good.len(), 90);
}

#[test]
fn parse_from_worker_threads() {
    let mut text = String::from("id,sex,age_years\n");
    for i in 0..1000 {
        // ages 1..=119 (inside the 0–150 domain), "x" (unreadable) for every 100th
        text.push_str(&format!("P{i},{},{}\n", 1 + i % 2, if i % 100 == 0 { "x".to_string() } else { (i % 120).to_string() }));
    }
    let mut rdr =
        RecordReader::from_reader(Box::new(std::io::Cursor::new(text.into_bytes())), None, &csv_opts()).unwrap();
    let schema = std::sync::Arc::new(rdr.schema().unwrap());
    let mut totals = (0usize, 0usize);
    while let Some(batch) = rdr.next_batch(256).unwrap() {
        let batch = std::sync::Arc::new(batch);
        let handles: Vec<_> = (0..2)
            .map(|t| {
                let (s, b) = (schema.clone(), batch.clone());
                std::thread::spawn(move || {
                    let mut n = (0, 0);
                    for row in b.iter().skip(t).step_by(2) {
                        match s.parse(row) {
                            Ok(_) => n.0 += 1,
                            Err(_) => n.1 += 1,
                        }
                    }
                    n
                })
            })
            .collect();
        for h in handles {
            let n = h.join().unwrap();
            totals.0 += n.0;
            totals.1 += n.1;
        }
    }
    assert_eq!(totals, (990, 10));
}

#[test]
fn tab_delimited() {
    let opts = ReadOptions { delimiter: b'\t', ..csv_opts() };
    let (lists, rej) = read_settlements_from_bytes(b"list_id\tsex\nL1\t2\n", None, &opts).unwrap();
    assert!(rej.is_empty());
    assert_eq!(lists[0].sex, Some(Sex::Female));
}

// ---- claims ----

#[test]
fn claims_read_with_rejections_and_roundtrip() {
    let text = "结算流水号,医保编号,机构编号,机构类型,结算时间,诊断编码,西药费,金额合计,医保统筹基金支付,备注\n\
C1,P9,H01,2,2025-03-01 09:00,J06.900,30.50,30.50,20.00,x\n\
C2,P9,H01,9,2025-03-01,,abc,0,0,\n\
,P9,H01,1,,,,,,\n";
    let (claims, rej) = read_claims_from_bytes(text.as_bytes(), None, &ReadOptions::default()).unwrap();
    assert_eq!(claims.len(), 1);
    let c = &claims[0];
    assert_eq!(c.claim_id, "C1");
    assert_eq!(c.insured_id, "P9");
    assert_eq!(c.fee_western_drug, Fen(3050));
    assert_eq!(c.fund_pay, Fen(2000));
    assert_eq!(
        messages(&rej),
        ["第 3 行 claim_id=C2：西药费(fee_western_drug)取值“abc”金额不是有效数字", "第 4 行 claim_id=：结算流水号(claim_id)为空"]
    );
    assert_eq!((rej[0].rule.as_str(), rej[0].field.as_str()), (rules::CLAIM_FIELD, "fee_western_drug"));
    assert_eq!((rej[1].rule.as_str(), rej[1].list_id.as_str()), (rules::CLAIM_ID_MISSING, ""));
    let mut out = Vec::new();
    write_claims_csv(&mut out, &claims).unwrap();
    let out_text = String::from_utf8(out.clone()).unwrap();
    assert_eq!(out_text.lines().next().unwrap(), "claim_id,insured_id,provider_code,provider_kind,claim_time,diagnoses,fee_exam,fee_lab,fee_treatment,fee_material,fee_western_drug,fee_herbal,fee_patent_tcm,fee_other,total_cost,fund_pay");
    assert_eq!(out_text.lines().nth(1).unwrap(), "C1,P9,H01,2,2025-03-01 09:00,J06.900,0.00,0.00,0.00,0.00,30.50,0.00,0.00,0.00,30.50,20.00");
    let (again, rej) = read_claims_from_bytes(&out, None, &ReadOptions::default()).unwrap();
    assert!(rej.is_empty());
    assert_eq!(again, claims);
    // JSONL claims, and a duplicate claims header
    let (claims, rej) =
        read_claims_from_bytes(b"{\"claim_id\":\"C7\",\"fund_pay\":1.5}\n{\"fund_pay\":1}\n", None, &ReadOptions::default())
            .unwrap();
    assert_eq!((claims.len(), claims[0].fund_pay), (1, Fen(150)));
    assert_eq!(rej[0].message, "第 2 行 claim_id=：结算流水号(claim_id)为空");
    let e = read_claims_from_bytes("claim_id,fund_pay,医保统筹基金支付\n".as_bytes(), None, &ReadOptions::default()).unwrap_err();
    assert_eq!(e.to_string(), "表头第 3 列“医保统筹基金支付”与第 2 列“fund_pay”重复，都对应字段 fund_pay（医保统筹基金支付）");
}

#[test]
fn rejections_csv() {
    let (_, rej) = read_csv(b"list_id,age_years\nL1,abc\n");
    let mut out = Vec::new();
    write_rejections_csv(&mut out, &rej).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "line,list_id,field,rule,message\n2,L1,age_years,integer,第 2 行 list_id=L1：年龄(岁)(age_years)取值“abc”不是整数\n"
    );
}

#[test]
fn format_detection() {
    assert_eq!(Format::from_extension(std::path::Path::new("a/B.XLSX")), Some(Format::Xlsx));
    assert_eq!(Format::from_extension(std::path::Path::new("a.ndjson")), Some(Format::Jsonl));
    assert_eq!(Format::from_extension(std::path::Path::new("a.dat")), None);
    assert_eq!(Format::sniff(b"PK\x03\x04rest"), Format::Xlsx);
    assert_eq!(Format::sniff(b"\xEF\xBB\xBF  {\"a\":1}"), Format::Jsonl);
    assert_eq!(Format::sniff(b"list_id,sex"), Format::Csv);
}

#[test]
fn crlf_quoted_last_cell_and_missing_final_newline() {
    let text = "\r\nlist_id,remark\r\nL1,\"quoted, last\"\r\n\r\nL2,plain\r\nL3,\"multi\nline\"\r\nL4,end";
    let mut rdr =
        RecordReader::from_reader(Box::new(std::io::Cursor::new(text.as_bytes().to_vec())), None, &csv_opts()).unwrap();
    assert_eq!(rdr.header_line(), 2);
    assert_eq!(rdr.headers().iter().collect::<Vec<_>>(), ["list_id", "remark"]);
    let rows = rdr.next_batch(100).unwrap().unwrap();
    let got: Vec<(u64, Vec<&str>)> = rows.iter().map(|r| (r.line, r.cells.iter().collect())).collect();
    assert_eq!(
        got,
        vec![
            (3, vec!["L1", "quoted, last"]),
            (5, vec!["L2", "plain"]),
            (6, vec!["L3", "multi\nline"]),
            (8, vec!["L4", "end"]),
        ]
    );
}

#[test]
fn streaming_writer_matches_batch_writer() {
    let (lists, _) = read_csv(b"list_id,ward,sex\nL1,W1,1\nL2,,2\n");
    let mut a = Vec::new();
    write_settlements_csv(&mut a, &lists).unwrap();
    let mut w = SettlementCsvWriter::new(Vec::new(), &["ward"]).unwrap();
    for l in &lists {
        w.write(l).unwrap();
    }
    let b = w.finish().unwrap();
    assert_eq!(a, b);
    let text = String::from_utf8(b).unwrap();
    let second = text.lines().nth(1).unwrap();
    assert!(second.starts_with("L1,,,,,,1,") && second.ends_with(",W1"), "{second}");
}

/// An endless CSV source that counts the bytes handed out.
struct Endless {
    served: std::sync::Arc<std::sync::atomic::AtomicU64>,
    pending: Vec<u8>,
    next: u64,
    limit: u64,
}

impl std::io::Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pending.is_empty() {
            if self.next == 0 {
                self.pending.extend_from_slice(b"id,sex,age_years,diagnoses\n");
            } else if self.next <= self.limit {
                self.pending.extend_from_slice(format!("P{},1,{},A01.000|B02.100\n", self.next, self.next % 90).as_bytes());
            } else {
                return Ok(0);
            }
            self.next += 1;
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        self.served.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

#[test]
fn csv_streams_in_bounded_memory() {
    use std::sync::atomic::Ordering;
    let served = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let src = Endless { served: served.clone(), pending: Vec::new(), next: 0, limit: 100_000 };
    let mut rdr = RecordReader::from_reader(src, Some(Format::Csv), &ReadOptions::default()).unwrap();
    let schema = rdr.schema().unwrap();
    let mut batch = Vec::new();
    assert_eq!(rdr.fill_batch(&mut batch, 10).unwrap(), 10);
    // read-ahead is bounded by the 64 KiB sniff prefix and the 256 KiB CSV buffer, not the file
    let after_first = served.load(Ordering::Relaxed);
    assert!(after_first <= (64 + 256) * 1024 + 4096, "{after_first}");
    let mut n = 10;
    let mut max_batch_cap = 0;
    while rdr.fill_batch(&mut batch, 1000).unwrap() > 0 {
        n += batch.len();
        max_batch_cap = max_batch_cap.max(batch.capacity());
        assert!(schema.parse(&batch[0]).is_ok());
    }
    assert_eq!(n, 100_000);
    assert!(max_batch_cap <= 2048, "the batch is reused, not grown: {max_batch_cap}");
    assert!(served.load(Ordering::Relaxed) > 2_000_000, "the whole ~2.9 MB stream was read");
}

#[test]
fn utf16_with_bom_is_decoded() {
    // Excel's "Unicode text" export: UTF-16LE with a BOM (tab-separated)
    let text = "清单流水号\t性别\nL1\t2\n";
    let mut bytes = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let opts = ReadOptions { delimiter: b'\t', ..csv_opts() };
    let (lists, rej) = read_settlements_from_bytes(&bytes, None, &opts).unwrap();
    assert!(rej.is_empty());
    assert_eq!(lists[0].list_id, "L1");
    assert_eq!(lists[0].sex, Some(Sex::Female));
}

// ---- itemised charges (费用明细) ----

#[test]
fn charges_read_with_rejections_and_roundtrip() {
    use casemix_model::FeeKind;
    let text = "清单流水号,收费项目编码,收费项目名称,收费类别,数量,金额,单价\n\
L1,D-ANTIBIO-01,头孢曲松,西药费,2,37.40,18.70\n\
L1,L-BLOODGAS,血气分析,fee_lab,1.5,60,40\n\
L2,X-1,某项,药费,1,1.00,\n\
,X-2,某项,fee_lab,1,1.00,\n\
L3,,某项,fee_lab,1,1.00,\n\
L4,X-4,某项,fee_lab,1,1.234,\n";
    let (items, rej) = read_charges_from_bytes(text.as_bytes(), None, &ReadOptions::default()).unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!((items[0].category, items[0].quantity, items[0].amount), (FeeKind::WesternDrug, Centi(200), Fen(3740)));
    assert_eq!((items[1].category, items[1].quantity, items[1].amount), (FeeKind::Lab, Centi(150), Fen(6000)));
    assert_eq!(
        messages(&rej),
        [
            "第 4 行 list_id=L2：收费类别(category)取值“药费”不是医疗收费项目类别",
            "第 5 行 list_id=：清单流水号(list_id)为空",
            "第 6 行 list_id=L3：收费项目编码(item_code)为空",
            "第 7 行 list_id=L4：金额(amount)取值“1.234”金额小数位超过2位",
        ]
    );
    let rules_fields: Vec<(&str, &str)> = rej.iter().map(|r| (r.rule.as_str(), r.field.as_str())).collect();
    assert_eq!(
        rules_fields,
        [
            (rules::CHARGE_FIELD, "category"),
            (rules::LIST_ID_MISSING, "list_id"),
            (rules::CHARGE_FIELD_MISSING, "item_code"),
            (rules::CHARGE_FIELD, "amount")
        ]
    );
    let mut out = Vec::new();
    write_charges_csv(&mut out, &items).unwrap();
    let out_text = String::from_utf8(out.clone()).unwrap();
    assert_eq!(
        out_text,
        "list_id,item_code,item_name,category,quantity,amount\nL1,D-ANTIBIO-01,头孢曲松,fee_western_drug,2,37.40\nL1,L-BLOODGAS,血气分析,fee_lab,1.50,60.00\n"
    );
    let (again, rej) = read_charges_from_bytes(&out, None, &ReadOptions::default()).unwrap();
    assert!(rej.is_empty());
    assert_eq!(again, items);
    // JSONL, GBK and a wrong cell count
    let (items, rej) = read_charges_from_bytes(
        "{\"list_id\":\"L9\",\"item_code\":\"E-CT-CHEST\",\"category\":\"检查费\",\"amount\":300}\n{\"list_id\":\"L9\",\"amount\":{\"v\":1}}\n".as_bytes(),
        None,
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!((items.len(), items[0].category, items[0].amount), (1, FeeKind::Exam, Fen(30000)));
    assert_eq!((rej[0].rule.as_str(), rej[0].field.as_str()), (rules::JSON_VALUE, "amount"));
    let (gbk, _, _) = encoding_rs::GBK.encode("清单流水号,收费项目编码,收费类别,金额\nL1,X,化验费,5\nL2,X\n");
    let (items, rej) = read_charges_from_bytes(&gbk, None, &ReadOptions::default()).unwrap();
    assert_eq!((items.len(), items[0].category, items[0].amount), (1, FeeKind::Lab, Fen(500)));
    assert_eq!(rej[0].message, "第 3 行 list_id=L2：本行有 2 个单元格，表头有 4 列");
}
