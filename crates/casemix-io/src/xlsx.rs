//! Reading the first sheet of an `.xlsx` workbook within [`ReadLimits`].
//!
//! Two passes over the zip. First every part is inflated into a counter (nothing kept): the
//! decompressed bytes are counted as they come, whatever the zip headers declare, and the
//! shared-strings table's declared `uniqueCount` (calamine reserves that many entries) and actual
//! entries are checked. Only then does calamine open the workbook, and its cell reader streams the
//! sheet's cells: the sheet's declared dimension is never used, a cell beyond `max_columns`
//! refuses the file at once, and the non-empty cells are kept as one text buffer plus 16 bytes
//! per cell (no rows × columns grid).

use crate::error::IoError;
use crate::limits::{exceeded, name, ReadLimits};
use crate::reader::RawRow;
use std::io::{self, BufReader, Cursor, Read};

/// One non-empty cell: absolute sheet position and its text's end offset in [`SheetRows::text`]
/// (the start is the previous cell's end).
#[derive(Debug, Clone, Copy)]
struct XCell {
    row: u32,
    col: u32,
    start: u32,
    end: u32,
}

/// The data rows of a sheet, compact; [`SheetRows::next_row`] hands them out as [`RawRow`]s.
#[derive(Debug, Default)]
pub(crate) struct SheetRows {
    text: String,
    cells: Vec<XCell>,
    /// Index into `cells` of the next row's first cell.
    next: usize,
    min_col: u32,
    /// The header's width (columns from `min_col` to its last non-empty cell).
    width: usize,
}

/// The first sheet: header row (1-based sheet row and cells) and the data rows.
pub(crate) struct Sheet {
    pub header_line: u64,
    pub header: Vec<String>,
    pub rows: SheetRows,
}

impl SheetRows {
    /// The next data row (sheet row number as line; cells from the leftmost used column, as many
    /// as the header has, or up to the row's last value when it reaches beyond the header).
    pub fn next_row(&mut self, row: &mut RawRow) -> bool {
        let Some(first) = self.cells.get(self.next).copied() else {
            return false;
        };
        let end = self.cells[self.next..].iter().position(|c| c.row != first.row).map_or(self.cells.len(), |n| self.next + n);
        let cells = &self.cells[self.next..end];
        self.next = end;
        row.line = u64::from(first.row) + 1;
        row.bad_encoding = false;
        row.cells.clear();
        let last = cells.last().map_or(0, |c| (c.col - self.min_col) as usize + 1);
        let mut it = cells.iter().peekable();
        for col in 0..self.width.max(last) {
            match it.peek() {
                Some(c) if (c.col - self.min_col) as usize == col => {
                    row.cells.push_field(self.text.get(c.start as usize..c.end as usize).unwrap_or(""));
                    it.next();
                }
                _ => row.cells.push_field(""),
            }
        }
        true
    }
}

/// `A`, `Z`, `AA`, … `XFD` for a 0-based column.
pub(crate) fn column_letters(col: u32) -> String {
    let mut n = u64::from(col) + 1;
    let mut out = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn xlsx_err(e: impl std::fmt::Display) -> IoError {
    IoError::XlsxRead(e.to_string())
}

/// First pass: inflate every part into a counter; check the shared-strings table.
fn check_parts(bytes: &[u8], lim: &ReadLimits) -> Result<(), IoError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(xlsx_err)?;
    if zip.len() as u64 > lim.max_xlsx_parts {
        return Err(exceeded(name::XLSX_PARTS, lim.max_xlsx_parts, format!("压缩包有 {} 个条目", zip.len())));
    }
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let mut part = zip.by_index(i).map_err(xlsx_err)?;
        let part_name = part.name().map(|n| n.into_owned()).unwrap_or_default();
        let left = lim.max_xlsx_decompressed_bytes.saturating_sub(total);
        let lower = part_name.to_ascii_lowercase();
        let n = if lower.ends_with("sharedstrings.xml") {
            let cap = left.min(lim.max_xlsx_shared_strings_bytes);
            let mut counted = CountingReader { inner: (&mut part).take(cap.saturating_add(1)), n: 0 };
            count_xml(&mut counted, lim, XmlCount::SharedStrings, &part_name)?;
            io::copy(&mut counted, &mut io::sink()).map_err(xlsx_err)?;
            if counted.n > lim.max_xlsx_shared_strings_bytes {
                return Err(exceeded(name::XLSX_SST_BYTES, lim.max_xlsx_shared_strings_bytes, format!("部件 {part_name}")));
            }
            counted.n
        } else if !lower.contains("worksheets/") && (lower.ends_with(".xml") || lower.ends_with(".rels")) {
            let mut counted = CountingReader { inner: (&mut part).take(left.saturating_add(1)), n: 0 };
            count_xml(&mut counted, lim, XmlCount::Elements, &part_name)?;
            io::copy(&mut counted, &mut io::sink()).map_err(xlsx_err)?;
            counted.n
        } else {
            io::copy(&mut (&mut part).take(left.saturating_add(1)), &mut io::sink()).map_err(xlsx_err)?
        };
        total = total.saturating_add(n);
        if total > lim.max_xlsx_decompressed_bytes {
            return Err(exceeded(name::XLSX_DECOMPRESSED, lim.max_xlsx_decompressed_bytes, format!("解压到部件 {part_name} 时")));
        }
    }
    Ok(())
}

struct CountingReader<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n += k as u64;
        Ok(k)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum XmlCount {
    /// `<si>` entries and the declared `uniqueCount` of the shared-strings table.
    SharedStrings,
    /// Every element (styles, workbook, relationships, theme).
    Elements,
}

/// Streams one XML part and counts what calamine would allocate for when it opens the workbook.
fn count_xml(r: &mut impl Read, lim: &ReadLimits, what: XmlCount, part: &str) -> Result<(), IoError> {
    use quick_xml::events::Event;
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(r));
    let mut buf = Vec::new();
    let mut n: u64 = 0;
    loop {
        buf.clear();
        let e = match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => e,
            Ok(Event::Eof) => return Ok(()),
            // past the byte cap (`take`) the XML ends early: the caller reports the byte limit;
            // XML calamine cannot parse is its error to report
            Err(_) => return Ok(()),
            Ok(_) => continue,
        };
        if what == XmlCount::Elements {
            n += 1;
            if n > lim.max_xlsx_elements {
                return Err(exceeded(name::XLSX_ELEMENTS, lim.max_xlsx_elements, format!("部件 {part}")));
            }
            continue;
        }
        match e.local_name().as_ref() {
            "sst" => {
                if let Ok(Some(a)) = e.try_get_attribute("uniqueCount") {
                    let declared = a.value.trim().parse::<u64>().ok();
                    if !matches!(declared, Some(d) if d <= lim.max_xlsx_shared_strings) {
                        let shown = a.value.chars().take(30).collect::<String>();
                        return Err(exceeded(name::XLSX_SST, lim.max_xlsx_shared_strings, format!("共享字符串表声明 uniqueCount=“{shown}”")));
                    }
                }
            }
            "si" => {
                n += 1;
                if n > lim.max_xlsx_shared_strings {
                    return Err(exceeded(name::XLSX_SST, lim.max_xlsx_shared_strings, "共享字符串表条目过多"));
                }
            }
            _ => {}
        }
    }
}

/// Reads the first sheet of a workbook held in memory.
pub(crate) fn read_first_sheet(bytes: Vec<u8>, lim: &ReadLimits) -> Result<Sheet, IoError> {
    use calamine::Reader;
    if bytes.len() as u64 > lim.max_xlsx_bytes {
        return Err(exceeded(name::XLSX_BYTES, lim.max_xlsx_bytes, format!("文件有 {} 字节", bytes.len())));
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(IoError::NotATable("旧版 Excel 97-2003（.xls）格式不受支持，请在 Excel 中另存为 .xlsx 或 CSV".into()));
    }
    check_parts(&bytes, lim)?;
    let mut wb = calamine::Xlsx::new(Cursor::new(bytes)).map_err(xlsx_err)?;
    let sheet = wb.sheet_names().first().cloned().ok_or(IoError::XlsxNoSheet)?;
    let mut cr = wb.worksheet_cells_reader(&sheet).map_err(xlsx_err)?;
    let mut acc = Accumulator { lim, sheet: &sheet, out: SheetRows::default(), rows: 0, row_bytes: 0, cur_row: None, sorted: true };
    while let Some(cell) = cr.next_cell().map_err(xlsx_err)? {
        let (r, c) = cell.get_position();
        let text = cell_text(calamine::Data::from(cell.get_value().clone()));
        acc.push(r, c, &text)?;
    }
    drop(cr);
    acc.finish()
}

struct Accumulator<'a> {
    lim: &'a ReadLimits,
    sheet: &'a str,
    out: SheetRows,
    rows: u64,
    row_bytes: u64,
    cur_row: Option<u32>,
    sorted: bool,
}

impl Accumulator<'_> {
    fn at(&self, r: u32, c: u32) -> String {
        format!("工作表“{}”第 {} 行第 {} 列（{}{}）", self.sheet, u64::from(r) + 1, u64::from(c) + 1, column_letters(c), u64::from(r) + 1)
    }

    fn push(&mut self, r: u32, c: u32, text: &str) -> Result<(), IoError> {
        let lim = self.lim;
        if text.is_empty() {
            // formatted empty cells cost nothing here (and some exports write them far right)
            return Ok(());
        }
        if u64::from(c) >= lim.max_columns {
            return Err(exceeded(name::COLUMNS, lim.max_columns, self.at(r, c)));
        }
        if self.cur_row != Some(r) {
            if self.cur_row.is_some_and(|p| r < p) {
                self.sorted = false;
            }
            self.cur_row = Some(r);
            self.row_bytes = 0;
            self.rows += 1;
            // + 1: the header row is not a data row
            if self.rows > lim.max_rows.saturating_add(1) {
                return Err(exceeded(name::ROWS, lim.max_rows, self.at(r, c)));
            }
        }
        self.row_bytes += text.len() as u64;
        if self.row_bytes > lim.max_line_bytes {
            return Err(exceeded(name::LINE_BYTES, lim.max_line_bytes, self.at(r, c)));
        }
        if self.out.cells.len() as u64 >= lim.max_xlsx_cells {
            return Err(exceeded(name::XLSX_CELLS, lim.max_xlsx_cells, self.at(r, c)));
        }
        let start = self.out.text.len() as u64;
        let end = start + text.len() as u64;
        if end > lim.max_xlsx_text_bytes.min(u64::from(u32::MAX)) {
            return Err(exceeded(name::XLSX_TEXT, lim.max_xlsx_text_bytes, self.at(r, c)));
        }
        self.out.text.push_str(text);
        self.out.cells.push(XCell { row: r, col: c, start: start as u32, end: end as u32 });
        Ok(())
    }

    fn finish(mut self) -> Result<Sheet, IoError> {
        let cells = &mut self.out.cells;
        if !self.sorted || cells.windows(2).any(|w| (w[0].row, w[0].col) > (w[1].row, w[1].col)) {
            cells.sort_by_key(|c| (c.row, c.col));
        }
        // a position written twice keeps its first value
        cells.dedup_by_key(|c| (c.row, c.col));
        self.out.min_col = cells.iter().map(|c| c.col).min().unwrap_or(0);
        let mut header_row = RawRow::default();
        if !self.out.next_row(&mut header_row) {
            return Err(IoError::Empty);
        }
        let header: Vec<String> = header_row.cells.iter().map(str::to_string).collect();
        self.out.width = header.len();
        Ok(Sheet { header_line: header_row.line, header, rows: self.out })
    }
}

/// The text of an Excel cell as the CSV importer would see it.
fn cell_text(d: calamine::Data) -> String {
    use calamine::Data;
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s,
        Data::Int(i) => i.to_string(),
        Data::Float(f) => float_text(f),
        Data::Bool(b) => if b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(dt) => {
            if dt.is_duration() {
                return float_text(dt.as_f64());
            }
            match dt.as_datetime() {
                Some(t) => {
                    use chrono::Timelike;
                    if t.hour() == 0 && t.minute() == 0 && t.second() == 0 {
                        t.format("%Y-%m-%d").to_string()
                    } else if t.second() == 0 {
                        t.format("%Y-%m-%d %H:%M").to_string()
                    } else {
                        t.format("%Y-%m-%d %H:%M:%S").to_string()
                    }
                }
                None => float_text(dt.as_f64()),
            }
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s,
        Data::Error(e) => e.to_string(),
    }
}

/// Integral floats without `.0` (Excel stores every number as a double); others in the shortest
/// round-trip decimal form, never with an exponent.
fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn column_letters_match_excel() {
        assert_eq!(super::column_letters(0), "A");
        assert_eq!(super::column_letters(25), "Z");
        assert_eq!(super::column_letters(26), "AA");
        // XFD = (24·26 + 6)·26 + 4 = 16384 → 0-based 16383
        assert_eq!(super::column_letters(16383), "XFD");
    }
}
