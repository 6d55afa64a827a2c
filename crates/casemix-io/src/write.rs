//! Writers: canonical CSV for settlement lists, claims and rejections, and a generic `.xlsx`
//! table writer for statements and reports. Output is deterministic (same input → same bytes).

use crate::error::{IoError, Rejection};
use casemix_model::{ChargeItem, Claim, Fen, Field, SettlementList, CHARGE_COLUMNS, CLAIM_COLUMNS};
use std::io::Write;
use std::path::Path;

/// Writes settlement lists as canonical CSV (UTF-8, no BOM): the header is every
/// [`Field::ALL`] key, then the extra columns in order of first appearance; a list without a
/// given extra column gets an empty cell.
pub fn write_settlements_csv<W: Write>(w: W, lists: &[SettlementList]) -> Result<(), IoError> {
    let mut extra: Vec<&str> = Vec::new();
    for l in lists {
        for (k, _) in &l.extra {
            if !extra.contains(&k.as_str()) {
                extra.push(k);
            }
        }
    }
    let mut wr = SettlementCsvWriter::new(w, &extra)?;
    for l in lists {
        wr.write(l)?;
    }
    wr.finish()?;
    Ok(())
}

/// A streaming writer of canonical settlement-list CSV, for outputs too large to collect: the
/// header is every [`Field::ALL`] key, then the given extra columns (a list's extra value is
/// looked up by name; missing = empty cell, names not listed are dropped).
pub struct SettlementCsvWriter<W: Write> {
    wr: csv::Writer<W>,
    extra: Vec<String>,
    rec: Vec<String>,
}

impl<W: Write> SettlementCsvWriter<W> {
    pub fn new(w: W, extra_columns: &[&str]) -> Result<Self, IoError> {
        let mut wr = csv::WriterBuilder::new().from_writer(w);
        wr.write_record(Field::ALL.iter().map(|f| f.key()).chain(extra_columns.iter().copied()))?;
        Ok(SettlementCsvWriter { wr, extra: extra_columns.iter().map(|s| s.to_string()).collect(), rec: Vec::new() })
    }

    pub fn write(&mut self, l: &SettlementList) -> Result<(), IoError> {
        self.rec.clear();
        self.rec.extend(Field::ALL.iter().map(|f| l.field_text(*f)));
        for name in &self.extra {
            self.rec.push(l.extra.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default());
        }
        self.wr.write_record(&self.rec)?;
        Ok(())
    }

    /// Flushes and returns the inner writer.
    pub fn finish(self) -> Result<W, IoError> {
        self.wr.into_inner().map_err(|e| IoError::Io(e.into_error()))
    }
}

/// Writes claims as canonical CSV: the [`CLAIM_COLUMNS`] keys.
pub fn write_claims_csv<W: Write>(w: W, claims: &[Claim]) -> Result<(), IoError> {
    let mut wr = csv::WriterBuilder::new().from_writer(w);
    wr.write_record(CLAIM_COLUMNS.iter().map(|(k, _)| *k))?;
    for c in claims {
        wr.write_record((0..CLAIM_COLUMNS.len()).map(|i| c.column_text(i)))?;
    }
    wr.flush()?;
    Ok(())
}

/// Writes itemised charges as canonical CSV: the [`CHARGE_COLUMNS`] keys, the category as its
/// fee key (`fee_western_drug`).
pub fn write_charges_csv<W: Write>(w: W, charges: &[ChargeItem]) -> Result<(), IoError> {
    let mut wr = csv::WriterBuilder::new().from_writer(w);
    wr.write_record(CHARGE_COLUMNS.iter().map(|(k, _)| *k))?;
    for c in charges {
        wr.write_record((0..CHARGE_COLUMNS.len()).map(|i| c.column_text(i)))?;
    }
    wr.flush()?;
    Ok(())
}

/// The header of a rejections file.
pub const REJECTION_COLUMNS: [&str; 5] = ["line", "list_id", "field", "rule", "message"];

/// Writes rejections as CSV with the columns `line,list_id,field,rule,message`.
pub fn write_rejections_csv<W: Write>(w: W, rejections: &[Rejection]) -> Result<(), IoError> {
    let mut wr = csv::WriterBuilder::new().from_writer(w);
    wr.write_record(REJECTION_COLUMNS)?;
    for r in rejections {
        wr.write_record([r.line.to_string().as_str(), &r.list_id, &r.field, &r.rule, &r.message])?;
    }
    wr.flush()?;
    Ok(())
}

/// A cell of a generic table written to `.xlsx`.
#[derive(Debug, Clone, PartialEq)]
pub enum XlsxCell {
    Empty,
    Text(String),
    Int(i64),
    /// A plain number (ratios, weights shown to users). Not for money: use [`XlsxCell::Fen`].
    Number(f64),
    /// Money: written as a number of yuan with the format `0.00`. The fen value is exact as long
    /// as |amount| < 2^53 fen (about 9×10^13 yuan).
    Fen(Fen),
}

impl From<&str> for XlsxCell {
    fn from(s: &str) -> Self {
        XlsxCell::Text(s.to_string())
    }
}
impl From<String> for XlsxCell {
    fn from(s: String) -> Self {
        XlsxCell::Text(s)
    }
}
impl From<i64> for XlsxCell {
    fn from(v: i64) -> Self {
        XlsxCell::Int(v)
    }
}
impl From<f64> for XlsxCell {
    fn from(v: f64) -> Self {
        XlsxCell::Number(v)
    }
}
impl From<Fen> for XlsxCell {
    fn from(v: Fen) -> Self {
        XlsxCell::Fen(v)
    }
}

/// One worksheet: a bold header row, then rows of cells.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct XlsxSheet {
    /// Sheet name; characters Excel forbids (`[]:*?/\`) become `_`, cut to 31 characters.
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<XlsxCell>>,
}

impl XlsxSheet {
    pub fn new(name: impl Into<String>, headers: &[&str]) -> XlsxSheet {
        XlsxSheet { name: name.into(), headers: headers.iter().map(|h| h.to_string()).collect(), rows: Vec::new() }
    }
    pub fn push_row(&mut self, row: Vec<XlsxCell>) {
        self.rows.push(row);
    }
}

fn xerr(e: rust_xlsxwriter::XlsxError) -> IoError {
    IoError::XlsxWrite(e.to_string())
}

fn sheet_name(name: &str, i: usize) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(31)
        .collect();
    let cleaned = cleaned.trim_matches('\'').to_string();
    if cleaned.is_empty() {
        format!("Sheet{}", i + 1)
    } else {
        cleaned
    }
}

fn build_workbook(sheets: &[XlsxSheet]) -> Result<rust_xlsxwriter::Workbook, IoError> {
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};
    let mut wb = Workbook::new();
    // A fixed creation time keeps the output byte-identical between runs.
    let created = ExcelDateTime::from_ymd(2000, 1, 1).map_err(xerr)?;
    wb.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("0.00");
    let mut used: Vec<String> = Vec::new();
    for (si, s) in sheets.iter().enumerate() {
        let mut name = sheet_name(&s.name, si);
        if used.iter().any(|u| u.eq_ignore_ascii_case(&name)) {
            let base: String = name.chars().take(26).collect();
            name = format!("{base}_{}", si + 1);
        }
        used.push(name.clone());
        let ws = wb.add_worksheet();
        ws.set_name(&name).map_err(xerr)?;
        for (c, h) in s.headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &bold).map_err(xerr)?;
        }
        for (r, row) in s.rows.iter().enumerate() {
            let r = (r + 1) as u32;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    XlsxCell::Empty => {}
                    XlsxCell::Text(t) => {
                        ws.write_string(r, c, t).map_err(xerr)?;
                    }
                    XlsxCell::Int(v) => {
                        ws.write_number(r, c, *v as f64).map_err(xerr)?;
                    }
                    XlsxCell::Number(v) => {
                        ws.write_number(r, c, *v).map_err(xerr)?;
                    }
                    XlsxCell::Fen(f) => {
                        ws.write_number_with_format(r, c, f.0 as f64 / 100.0, &money).map_err(xerr)?;
                    }
                }
            }
        }
    }
    Ok(wb)
}

/// Writes one or more tables as a workbook to `path`.
pub fn write_xlsx(path: impl AsRef<Path>, sheets: &[XlsxSheet]) -> Result<(), IoError> {
    let mut wb = build_workbook(sheets)?;
    wb.save(path.as_ref()).map_err(xerr)
}

/// The workbook bytes of one or more tables.
pub fn xlsx_bytes(sheets: &[XlsxSheet]) -> Result<Vec<u8>, IoError> {
    let mut wb = build_workbook(sheets)?;
    wb.save_to_buffer().map_err(xerr)
}

/// Writes a single table (sheet `Sheet1`) to `path`: header + rows.
pub fn write_table_xlsx(path: impl AsRef<Path>, headers: &[&str], rows: &[Vec<XlsxCell>]) -> Result<(), IoError> {
    let sheet = XlsxSheet {
        name: "Sheet1".into(),
        headers: headers.iter().map(|h| h.to_string()).collect(),
        rows: rows.to_vec(),
    };
    write_xlsx(path, std::slice::from_ref(&sheet))
}
