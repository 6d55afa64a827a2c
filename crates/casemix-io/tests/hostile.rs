//! Hostile and bad input (issue 12): bounded readers, files that are not tables, and field
//! domains at parse. Every expected message is written out by hand.

use casemix_io::*;
use std::io::{Cursor, Read, Write};

fn read(bytes: &[u8], format: Option<Format>, opts: &ReadOptions) -> Result<(Vec<casemix_model::SettlementList>, Vec<Rejection>), IoError> {
    read_settlements_from_bytes(bytes, format, opts)
}

fn err(bytes: &[u8], format: Option<Format>, opts: &ReadOptions) -> IoError {
    match read(bytes, format, opts) {
        Ok((l, r)) => panic!("expected a file error, got {} lists and {} rejections", l.len(), r.len()),
        Err(e) => e,
    }
}

fn limits(f: impl FnOnce(&mut ReadLimits)) -> ReadOptions {
    let mut o = ReadOptions::default();
    f(&mut o.limits);
    o
}

fn messages(rej: &[Rejection]) -> Vec<&str> {
    rej.iter().map(|r| r.message.as_str()).collect()
}

// ---------------------------------------------------------------- xlsx

/// The workbook of finding 1: cells A1 and XFD1048576 only.
fn far_cells_xlsx() -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "list_id").unwrap();
    ws.write_string(1_048_575, 16_383, "x").unwrap();
    wb.save_to_buffer().unwrap()
}

#[test]
fn xlsx_far_cells_bomb_is_refused_by_its_column() {
    let bytes = far_cells_xlsx();
    assert!(bytes.len() < 10_000, "a few KB: {}", bytes.len());
    let e = err(&bytes, Some(Format::Xlsx), &ReadOptions::default());
    assert!(matches!(e, IoError::Limit { limit: "max_columns", max: 1024, .. }), "{e:?}");
    assert_eq!(e.to_string(), "文件超出读取上限 max_columns（每行列数）= 1024：工作表“Sheet1”第 1048576 行第 16384 列（XFD1048576）");
}

#[test]
fn xlsx_far_cells_within_wider_limits_is_two_cells_not_a_grid() {
    // with the column limit raised past XFD the file is read: the far cell is one row of 16,384
    // cells (rejected for its cell count), never a 1,048,576 × 16,384 grid
    let opts = limits(|l| l.max_columns = 20_000);
    let (lists, rej) = read(&far_cells_xlsx(), Some(Format::Xlsx), &opts).unwrap();
    assert!(lists.is_empty());
    assert_eq!(messages(&rej), ["第 1048576 行 list_id=：本行有 16384 个单元格，表头有 1 列"]);
}

/// A workbook written part by part, deflated: `sheet` is the sheet XML, `sst` the optional
/// shared-strings XML.
fn hand_xlsx(sheet: &[u8], sst: Option<&[u8]>) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut part = |name: &str, body: &[u8]| {
        z.start_file(name, o).unwrap();
        z.write_all(body).unwrap();
    };
    part("[Content_Types].xml", br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>"#);
    part("_rels/.rels", br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#);
    part("xl/workbook.xml", br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#);
    part("xl/_rels/workbook.xml.rels", br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#);
    if let Some(sst) = sst {
        part("xl/sharedStrings.xml", sst);
    }
    part("xl/worksheets/sheet1.xml", sheet);
    z.finish().unwrap().into_inner()
}

const SHEET_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#;
const SHEET_TAIL: &str = "</sheetData></worksheet>";

fn sheet_xml(rows: &str) -> Vec<u8> {
    format!("{SHEET_HEAD}{rows}{SHEET_TAIL}").into_bytes()
}

#[test]
fn hand_written_workbook_reads() {
    // the helper makes a readable workbook: inline strings and a shared string
    let sheet = sheet_xml(r#"<row r="1"><c r="A1" t="inlineStr"><is><t>list_id</t></is></c><c r="B1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>L1</t></is></c><c r="B2"><v>30</v></c></row>"#);
    let sst = br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>age_years</t></si></sst>"#;
    let (lists, rej) = read(&hand_xlsx(&sheet, Some(sst)), Some(Format::Xlsx), &ReadOptions::default()).unwrap();
    assert!(rej.is_empty(), "{rej:?}");
    assert_eq!((lists[0].list_id.as_str(), lists[0].age_years), ("L1", Some(30)));
}

#[test]
fn xlsx_decompressed_bytes_are_counted_whatever_the_zip_declares() {
    // 24 MiB of spaces between two rows (legal XML whitespace) deflate to a few dozen KB
    let mut rows = String::from(r#"<row r="1"><c r="A1" t="inlineStr"><is><t>list_id</t></is></c></row>"#);
    rows.push_str(&" ".repeat(24 << 20));
    rows.push_str(r#"<row r="2"><c r="A2" t="inlineStr"><is><t>L1</t></is></c></row>"#);
    let bytes = hand_xlsx(&sheet_xml(&rows), None);
    assert!(bytes.len() < 200_000, "deflated to {} bytes", bytes.len());
    let opts = limits(|l| l.max_xlsx_decompressed_bytes = 8 << 20);
    let e = err(&bytes, Some(Format::Xlsx), &opts);
    assert_eq!(e.to_string(), "文件超出读取上限 max_xlsx_decompressed_bytes（Excel 解压后字节数）= 8388608：解压到部件 xl/worksheets/sheet1.xml 时");
    // within a wider limit the same file reads: one list
    let opts = limits(|l| l.max_xlsx_decompressed_bytes = 64 << 20);
    let (lists, rej) = read(&bytes, Some(Format::Xlsx), &opts).unwrap();
    assert_eq!((lists.len(), rej.len()), (1, 0));
}

#[test]
fn xlsx_shared_strings_declared_count_is_checked_before_calamine_reserves_it() {
    // calamine reserves `uniqueCount` entries up front: 10¹² × 24 bytes would abort the process
    let sheet = sheet_xml(r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#);
    let sst = br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" uniqueCount="1000000000000"><si><t>list_id</t></si></sst>"#;
    let e = err(&hand_xlsx(&sheet, Some(sst)), Some(Format::Xlsx), &ReadOptions::default());
    assert_eq!(e.to_string(), "文件超出读取上限 max_xlsx_shared_strings（Excel 共享字符串条数）= 4000000：共享字符串表声明 uniqueCount=“1000000000000”");
    // and the actual entries are counted too
    let many: String = (0..5).map(|i| format!("<si><t>s{i}</t></si>")).collect();
    let sst = format!(r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{many}</sst>"#);
    let opts = limits(|l| l.max_xlsx_shared_strings = 4);
    let e = err(&hand_xlsx(&sheet, Some(sst.as_bytes())), Some(Format::Xlsx), &opts);
    assert_eq!(e.to_string(), "文件超出读取上限 max_xlsx_shared_strings（Excel 共享字符串条数）= 4：共享字符串表条目过多");
}

#[test]
fn xlsx_style_table_is_counted_before_calamine_copies_it_per_format() {
    // each <xf> becomes a style holding its own copy of font, fill and border
    let sheet = sheet_xml(r#"<row r="1"><c r="A1" t="inlineStr"><is><t>list_id</t></is></c></row>"#);
    let xfs = "<xf/>".repeat(300_000);
    let styles = format!(r#"<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs>{xfs}</cellXfs></styleSheet>"#);
    let mut z = zip::ZipArchive::new(Cursor::new(hand_xlsx(&sheet, None))).unwrap();
    // the same workbook plus xl/styles.xml
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..z.len() {
        w.raw_copy_file(z.by_index(i).unwrap()).unwrap();
    }
    let o = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    w.start_file("xl/styles.xml", o).unwrap();
    w.write_all(styles.as_bytes()).unwrap();
    let bytes = w.finish().unwrap().into_inner();
    // styleSheet + cellXfs + 300,000 xf: the 200,001st element trips the limit
    let e = err(&bytes, Some(Format::Xlsx), &ReadOptions::default());
    assert_eq!(e.to_string(), "文件超出读取上限 max_xlsx_elements（Excel 部件 XML 元素数）= 200000：部件 xl/styles.xml");
}

#[test]
fn xlsx_cells_rows_and_text_are_limited() {
    let cell = |r: u32, c: &str, t: &str| format!(r#"<c r="{c}{r}" t="inlineStr"><is><t>{t}</t></is></c>"#);
    let mut rows = format!(r#"<row r="1">{}{}</row>"#, cell(1, "A", "list_id"), cell(1, "B", "dept"));
    for r in 2..=6 {
        rows.push_str(&format!(r#"<row r="{r}">{}{}</row>"#, cell(r, "A", &format!("L{r}")), cell(r, "B", "内科")));
    }
    let bytes = hand_xlsx(&sheet_xml(&rows), None);
    // 12 cells, two per row: rows 1–4 hold 8, A5 is the 9th, B5 the 10th
    let e = err(&bytes, Some(Format::Xlsx), &limits(|l| l.max_xlsx_cells = 9));
    assert_eq!(e.to_string(), "文件超出读取上限 max_xlsx_cells（Excel 非空单元格数）= 9：工作表“S”第 5 行第 2 列（B5）");
    // 5 data rows: the 4th data row is sheet row 5
    let e = err(&bytes, Some(Format::Xlsx), &limits(|l| l.max_rows = 3));
    assert_eq!(e.to_string(), "文件超出读取上限 max_rows（数据行数）= 3：工作表“S”第 5 行第 1 列（A5）");
    // text: "list_id" 7 + "dept" 4 + "L2" 2 + "内科" 6 = 19 bytes; A3 makes 21
    let e = err(&bytes, Some(Format::Xlsx), &limits(|l| l.max_xlsx_text_bytes = 20));
    assert_eq!(e.to_string(), "文件超出读取上限 max_xlsx_text_bytes（Excel 单元格文本总字节数）= 20：工作表“S”第 3 行第 1 列（A3）");
    let (lists, _) = read(&bytes, Some(Format::Xlsx), &ReadOptions::default()).unwrap();
    assert_eq!(lists.len(), 5);
}

#[test]
fn xlsx_formatted_empty_cells_far_right_are_ignored() {
    // styled empty cells (`<c r="XFD2" s="1"/>`) hold no value: not a column of the table
    let rows = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>list_id</t></is></c><c r="XFD1" s="1"/></row><row r="2"><c r="A2" t="inlineStr"><is><t>L1</t></is></c><c r="XFD2" s="1"/></row>"#;
    let (lists, rej) = read(&hand_xlsx(&sheet_xml(rows), None), Some(Format::Xlsx), &ReadOptions::default()).unwrap();
    assert_eq!((lists.len(), rej.len()), (1, 0));
    assert_eq!(lists[0].list_id, "L1");
}

#[test]
fn legacy_xls_and_oversized_workbooks_are_refused() {
    let mut cfb = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    cfb.resize(512, 0);
    let e = err(&cfb, None, &ReadOptions::default());
    assert_eq!(e.to_string(), "文件不是可导入的数据表：旧版 Excel 97-2003（.xls）格式不受支持，请在 Excel 中另存为 .xlsx 或 CSV");
    let bytes = far_cells_xlsx();
    let e = err(&bytes, Some(Format::Xlsx), &limits(|l| l.max_xlsx_bytes = 1000));
    assert!(matches!(e, IoError::Limit { limit: "max_xlsx_bytes", max: 1000, .. }), "{e}");
}

// ---------------------------------------------------------------- CSV / JSON Lines

/// A header and then `n` bytes of `a` with no line end, produced lazily (nothing held).
struct EndlessLine {
    head: Cursor<&'static [u8]>,
    left: u64,
}

impl Read for EndlessLine {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.head.read(buf)?;
        if k > 0 {
            return Ok(k);
        }
        let k = (buf.len() as u64).min(self.left) as usize;
        buf[..k].fill(b'a');
        self.left -= k as u64;
        Ok(k)
    }
}

#[test]
fn csv_100_mb_line_is_refused_without_buffering_it() {
    let src = EndlessLine { head: Cursor::new(b"list_id,dept\n"), left: 100 << 20 };
    let mut rdr = RecordReader::from_reader(src, Some(Format::Csv), &ReadOptions::default()).unwrap();
    let mut row = RawRow::default();
    let e = rdr.read_row(&mut row).unwrap_err();
    // tripped by the record meter at 1 MiB + the 256 KiB read-ahead, long before 100 MB
    assert_eq!(e.to_string(), "文件超出读取上限 max_line_bytes（单条记录字节数）= 1048576：第 2 行起的记录");
    // the same for JSON Lines
    let src = EndlessLine { head: Cursor::new(b"{\"list_id\":\"A\"}\n"), left: 100 << 20 };
    let e = match RecordReader::from_reader(src, Some(Format::Jsonl), &ReadOptions::default()) {
        Ok(mut rdr) => {
            let mut row = RawRow::default();
            assert!(rdr.read_row(&mut row).unwrap(), "the first line is fine");
            rdr.read_row(&mut row).unwrap_err()
        }
        Err(e) => e,
    };
    assert_eq!(e.to_string(), "文件超出读取上限 max_line_bytes（单条记录字节数）= 1048576：第 2 行超过 1048576 字节");
}

#[test]
fn csv_line_just_over_the_limit_is_measured_exactly() {
    // 1,100,000 bytes: under the meter's read-ahead slack, caught by the record's own length
    let mut text = b"list_id,dept\nL1,".to_vec();
    text.extend(std::iter::repeat_n(b'x', 1_100_000));
    text.extend(b"\nL2,y\n");
    let e = err(&text, Some(Format::Csv), &ReadOptions::default());
    // "L1," 3 + 1,100,000 + "\n" 1 = 1,100,004 bytes
    assert_eq!(e.to_string(), "文件超出读取上限 max_line_bytes（单条记录字节数）= 1048576：第 2 行起的记录有 1100004 字节");
}

#[test]
fn csv_columns_rows_and_bytes_are_limited() {
    let header: Vec<String> = std::iter::once("list_id".to_string()).chain((1..1025).map(|i| format!("c{i}"))).collect();
    let text = format!("{}\nL1{}\n", header.join(","), ",".repeat(1024));
    let e = err(text.as_bytes(), Some(Format::Csv), &ReadOptions::default());
    assert_eq!(e.to_string(), "文件超出读取上限 max_columns（每行列数）= 1024：第 1 行有 1025 列");
    let e = err(b"list_id,sex\nL1,1\nL2,1,2,3\n", Some(Format::Csv), &limits(|l| l.max_columns = 3));
    assert_eq!(e.to_string(), "文件超出读取上限 max_columns（每行列数）= 3：第 3 行有 4 列");
    let e = err(b"list_id\nL1\nL2\n\nL3\n", Some(Format::Csv), &limits(|l| l.max_rows = 2));
    assert_eq!(e.to_string(), "文件超出读取上限 max_rows（数据行数）= 2：第 5 行");
    let e = err(b"{\"list_id\":\"A\"}\n{\"list_id\":\"B\"}\n", Some(Format::Jsonl), &limits(|l| l.max_rows = 1));
    assert_eq!(e.to_string(), "文件超出读取上限 max_rows（数据行数）= 1：第 2 行");
    let big = format!("list_id\n{}", "L1\n".repeat(100));
    let e = err(big.as_bytes(), Some(Format::Csv), &limits(|l| l.max_input_bytes = 100));
    assert!(matches!(e, IoError::Limit { limit: "max_input_bytes", max: 100, .. }), "{e}");
    // exactly at the limits is fine
    let ok = read(b"list_id,sex\nL1,1\nL2,2\n", Some(Format::Csv), &limits(|l| {
        l.max_rows = 2;
        l.max_columns = 2;
        l.max_input_bytes = 22;
    }));
    assert_eq!(ok.unwrap().0.len(), 2);
}

// ---------------------------------------------------------------- not a table

#[test]
fn nul_bytes_png_elf_and_empty_files_are_not_tables() {
    let zeros = vec![0u8; 4096];
    for format in [None, Some(Format::Csv), Some(Format::Jsonl)] {
        let e = err(&zeros, format, &ReadOptions::default());
        assert_eq!(e.to_string(), "文件不是可导入的数据表：第 1 行含有 NUL 字节（二进制内容），不是文本表格", "{format:?}");
    }
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x02\0\0\0".to_vec();
    png.extend([0x90u8; 64]);
    let e = err(&png, None, &ReadOptions::default());
    assert_eq!(e.to_string(), "文件不是可导入的数据表：文件内容是PNG 图片，不是 CSV 或 JSON Lines 文本");
    let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0";
    let e = err(elf, Some(Format::Csv), &ReadOptions::default());
    assert_eq!(e.to_string(), "文件不是可导入的数据表：文件内容是ELF 可执行文件，不是 CSV 或 JSON Lines 文本");
    // a text file with no id column
    let e = err("性别,年龄(岁)\n1,30\n".as_bytes(), None, &ReadOptions::default());
    assert_eq!(e.to_string(), "文件不是可导入的数据表：表头没有清单流水号(list_id/清单流水号/id)列，无法识别为结算清单表；表头前几列为：性别，年龄(岁)");
    assert!(matches!(err(b"", None, &ReadOptions::default()), IoError::Empty));
    // JSON Lines whose first record is not an object is not a JSON Lines table
    let e = err(b"\n hello\n{\"list_id\":\"A\"}\n", Some(Format::Jsonl), &ReadOptions::default());
    assert_eq!(e.to_string(), "文件不是可导入的数据表：第 2 行不是 JSON 对象，文件不是 JSON Lines 表格");
    // claims and charges need their own id columns
    let e = read_claims_from_bytes(b"list_id,total_cost\nL1,5\n", Some(Format::Csv), &ReadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("表头没有结算流水号(claim_id/结算流水号)列"), "{e}");
    let e = read_charges_from_bytes(b"item_code,amount\nX,5\n", Some(Format::Csv), &ReadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("无法识别为费用明细表"), "{e}");
}

#[test]
fn utf16_and_gbk_text_still_read() {
    // UTF-16LE with BOM has NUL bytes on its first line; the BOM says it is text
    let mut utf16 = vec![0xFF, 0xFE];
    for u in "list_id,dept\nL1,内科\n".encode_utf16() {
        utf16.extend(u.to_le_bytes());
    }
    let (lists, rej) = read(&utf16, None, &ReadOptions::default()).unwrap();
    assert!(rej.is_empty());
    assert_eq!((lists[0].list_id.as_str(), lists[0].dept.as_deref()), ("L1", Some("内科")));
    let gbk = encoding_rs::GBK.encode("清单流水号,出院科别\nL2,外科\n").0.into_owned();
    let (lists, _) = read(&gbk, None, &ReadOptions::default()).unwrap();
    assert_eq!(lists[0].dept.as_deref(), Some("外科"));
}

// ---------------------------------------------------------------- field domains

#[test]
fn out_of_domain_lists_are_rejections_with_their_line() {
    // line 1 is the header, A1 is line 2 … A8 line 9
    let text = "list_id,age_years,los_days,total_cost\n\
A1,30,5,1000.00\n\
A2,30,5,900000000000000.00\n\
A3,30,5,92233720368547758.07\n\
A4,30,5,-100.00\n\
A5,151,5,1000\n\
A6,30,3661,1000\n\
A7,30,5,10000000.00\n\
A8,-1,-1,1000\n";
    let (lists, rej) = read(text.as_bytes(), None, &ReadOptions::default()).unwrap();
    assert_eq!(lists.iter().map(|l| l.list_id.as_str()).collect::<Vec<_>>(), ["A1", "A7"]);
    assert_eq!(
        messages(&rej),
        [
            "第 3 行 list_id=A2：金额合计(total_cost)取值“900000000000000.00”超出允许范围 0.00–10000000.00 元",
            "第 4 行 list_id=A3：金额合计(total_cost)取值“92233720368547758.07”超出允许范围 0.00–10000000.00 元",
            "第 5 行 list_id=A4：金额合计(total_cost)取值“-100.00”超出允许范围 0.00–10000000.00 元",
            "第 6 行 list_id=A5：年龄(岁)(age_years)取值“151”超出允许范围 0–150 岁",
            "第 7 行 list_id=A6：实际住院天数(los_days)取值“3661”超出允许范围 0–3660 天",
            "第 9 行 list_id=A8：年龄(岁)(age_years)取值“-1”超出允许范围 0–150 岁（另有 1 个字段超出允许范围）",
        ]
    );
    assert!(rej.iter().all(|r| r.rule == rules::OUT_OF_DOMAIN && r.rule == "out_of_domain"));
    assert_eq!(
        rej.iter().map(|r| (r.line, r.list_id.as_str(), r.field.as_str())).collect::<Vec<_>>(),
        [
            (3, "A2", "total_cost"),
            (4, "A3", "total_cost"),
            (5, "A4", "total_cost"),
            (6, "A5", "age_years"),
            (7, "A6", "los_days"),
            (9, "A8", "age_years"),
        ]
    );
    // one more fen than i64 holds is unreadable, not out of domain
    let (_, rej) = read(b"list_id,total_cost\nB1,92233720368547758.08\n", None, &ReadOptions::default()).unwrap();
    assert_eq!(messages(&rej), ["第 2 行 list_id=B1：金额合计(total_cost)取值“92233720368547758.08”超出范围"]);
}

#[test]
fn domains_apply_to_json_lines_xlsx_claims_and_charges_and_are_configurable() {
    let jl = b"{\"list_id\":\"J1\",\"fund_pay\":900000000000000}\n{\"list_id\":\"J2\",\"age_days\":60000}\n";
    let (lists, rej) = read(jl, Some(Format::Jsonl), &ReadOptions::default()).unwrap();
    assert!(lists.is_empty());
    assert_eq!(
        messages(&rej),
        [
            "第 1 行 list_id=J1：医保统筹基金支付(fund_pay)取值“900000000000000.00”超出允许范围 0.00–10000000.00 元",
            "第 2 行 list_id=J2：年龄(天)(age_days)取值“60000”超出允许范围 0–54900 天",
        ]
    );
    let mut sheet = XlsxSheet::new("清单", &["list_id", "total_cost"]);
    sheet.push_row(vec!["X1".into(), XlsxCell::Number(9e14)]);
    sheet.push_row(vec!["X2".into(), XlsxCell::Number(1234.5)]);
    let (lists, rej) = read(&xlsx_bytes(&[sheet]).unwrap(), Some(Format::Xlsx), &ReadOptions::default()).unwrap();
    assert_eq!(lists.len(), 1);
    assert_eq!(messages(&rej), ["第 2 行 list_id=X1：金额合计(total_cost)取值“900000000000000.00”超出允许范围 0.00–10000000.00 元"]);

    let (claims, rej) = read_claims_from_bytes(b"claim_id,total_cost\nC1,-5\nC2,5\n", None, &ReadOptions::default()).unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(messages(&rej), ["第 2 行 claim_id=C1：金额合计(total_cost)取值“-5.00”超出允许范围 0.00–10000000.00 元"]);
    let charges = b"list_id,item_code,category,quantity,amount\nL1,X,09,-1,5.00\nL1,Y,09,2,10000000.01\nL1,Z,09,2,3.00\n";
    let (items, rej) = read_charges_from_bytes(charges, None, &ReadOptions::default()).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        messages(&rej),
        [
            "第 2 行 list_id=L1：数量(quantity)取值“-1”超出允许范围 0–1000000",
            "第 3 行 list_id=L1：金额(amount)取值“10000000.01”超出允许范围 0.00–10000000.00 元",
        ]
    );

    let mut opts = ReadOptions::default();
    opts.domains.los_days = casemix_model::Bounds::new(1, 60);
    let (lists, rej) = read(b"list_id,los_days\nL1,61\nL2,60\n", None, &opts).unwrap();
    assert_eq!(lists.len(), 1);
    assert_eq!(messages(&rej), ["第 2 行 list_id=L1：实际住院天数(los_days)取值“61”超出允许范围 1–60 天"]);
}

/// Overwrites the declared uncompressed size of `part` in its local header and its central
/// directory entry (the sizes a zip bomb lies about).
fn declare_size(zip: &mut [u8], part: &str, size: u32) {
    let name = part.as_bytes();
    let mut patched = 0;
    for i in 0..zip.len().saturating_sub(46 + name.len()) {
        if zip[i..].starts_with(b"PK\x03\x04") && zip[i + 30..].starts_with(name) {
            zip[i + 22..i + 26].copy_from_slice(&size.to_le_bytes());
            patched += 1;
        }
        if zip[i..].starts_with(b"PK\x01\x02") && zip[i + 46..].starts_with(name) {
            zip[i + 24..i + 28].copy_from_slice(&size.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 2, "local header and central directory entry");
}

#[test]
fn zip_declared_sizes_are_not_trusted() {
    let rows = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>list_id</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>L1</t></is></c></row>"#;
    // declared 4 GB, actually a few hundred bytes: nothing is allocated from the declaration
    let mut bytes = hand_xlsx(&sheet_xml(rows), None);
    declare_size(&mut bytes, "xl/worksheets/sheet1.xml", u32::MAX - 1);
    let (lists, rej) = read(&bytes, Some(Format::Xlsx), &ReadOptions::default()).unwrap();
    assert_eq!((lists.len(), rej.len()), (1, 0));
    // declared 100 bytes, actually 24 MiB of XML: the inflated bytes are what is counted
    let mut big = String::from(rows);
    big.push_str(&" ".repeat(24 << 20));
    let mut bytes = hand_xlsx(&sheet_xml(&big), None);
    declare_size(&mut bytes, "xl/worksheets/sheet1.xml", 100);
    // (the zip reader stops at the lie; past it the byte limit would)
    let e = err(&bytes, Some(Format::Xlsx), &limits(|l| l.max_xlsx_decompressed_bytes = 8 << 20));
    assert!(matches!(e, IoError::XlsxRead(_)), "{e:?}");
    assert_eq!(e.to_string(), "Excel 文件无法读取：File is larger than its declared uncompressed size");
}

#[test]
fn upload_limits_scale_with_the_body_limit() {
    let u = ReadLimits::for_upload(32 << 20);
    assert_eq!(u.max_input_bytes, 33_554_432);
    assert_eq!(u.max_xlsx_bytes, 33_554_432);
    // 32 × 32 MiB = 1 GiB, the default's cap
    assert_eq!(u.max_xlsx_decompressed_bytes, 1 << 30);
    // 4 × 32 MiB = 128 MiB
    assert_eq!((u.max_xlsx_shared_strings_bytes, u.max_xlsx_text_bytes), (128 << 20, 128 << 20));
    assert_eq!((u.max_rows, u.max_line_bytes, u.max_columns), (300_000, 1 << 20, 1024));
    // a small body keeps the floors: 64 MiB decompressed, 16 MiB of text
    let s = ReadLimits::for_upload(1 << 20);
    assert_eq!((s.max_xlsx_decompressed_bytes, s.max_xlsx_text_bytes), (64 << 20, 16 << 20));
    // applied: the 300,001st data row refuses the file
    let text = format!("list_id\n{}", "L\n".repeat(300_001));
    let opts = ReadOptions { limits: ReadLimits::for_upload(32 << 20), ..ReadOptions::default() };
    let e = err(text.as_bytes(), Some(Format::Csv), &opts);
    assert_eq!(e.to_string(), "文件超出读取上限 max_rows（数据行数）= 300000：第 300002 行");
}

#[test]
fn settlement_list_size_behind_the_upload_row_limit() {
    // for_upload's memory estimate (300,000 rows ≈ 300 MiB) assumes a list of tiny rows costs
    // about 1 KiB: the struct is 848 bytes on x86-64 (2026-12), plus its few short strings
    let size = std::mem::size_of::<casemix_model::SettlementList>();
    assert!(size <= 1024, "SettlementList grew to {size} bytes: revisit ReadLimits::for_upload");
}
