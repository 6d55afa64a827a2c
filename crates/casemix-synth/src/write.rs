//! CSV writers for the canonical files (settlement-list.md): any `io::Write` (the CLI opens the
//! files). settlements.csv uses `Field::ALL` keys and `SettlementList::field_text`, claims.csv
//! `CLAIM_COLUMNS`, so the common importer reads them back.

use crate::generate::Label;
use crate::hospitals::Hospital;
use crate::Sink;
use casemix_model::{ChargeItem, Claim, Fen, Field, SettlementList, CHARGE_COLUMNS, CLAIM_COLUMNS};
use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use std::io::Write;

pub const HOSPITAL_HEADER: [&str; 9] = ["code", "name", "level", "tier", "county", "beds", "tcm", "key_disciplines", "annual_volume"];
pub const LABEL_HEADER: [&str; 4] = ["id", "kind", "related_id", "note"];

/// One hospital-month rendered to CSV bytes (no header), in row order.
#[derive(Debug, Default)]
pub struct Rendered {
    pub settlements: Vec<u8>,
    pub claims: Vec<u8>,
    pub charges: Vec<u8>,
    pub labels: Vec<u8>,
}

/// Renders a chunk exactly as [`CsvSink`] would write it row by row (settlement rows through
/// the fast [`render_list`], checked against `field_text` + csv in the tests).
pub fn render_chunk(c: &crate::Chunk) -> Rendered {
    let mut settlements = Vec::with_capacity(c.rows.len() * 420);
    for r in &c.rows {
        render_list(&r.list, &mut settlements);
    }
    let mut claims = Vec::with_capacity(c.claims.len() * 160);
    for x in &c.claims {
        render_claim(x, &mut claims);
    }
    let mut charges = Vec::with_capacity(c.charges.len() * 64);
    for x in &c.charges {
        render_charge(x, &mut charges);
    }
    let mut lb = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::with_capacity(1 << 12));
    for l in &c.labels {
        lb.write_record([l.id.as_str(), l.kind.key(), l.related_id.as_str(), l.note.as_str()]).expect("writing to memory");
    }
    let f = |w: csv::Writer<Vec<u8>>| w.into_inner().expect("memory writer");
    Rendered { settlements, claims, charges, labels: f(lb) }
}

fn push_u(out: &mut Vec<u8>, mut v: u64, min_digits: usize) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 && tmp.len() - i >= min_digits {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

fn push_i(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    push_u(out, v.unsigned_abs(), 1);
}

/// Same text as `Fen`'s Display (yuan with two decimals).
fn push_fen(out: &mut Vec<u8>, f: Fen) {
    if f.0 < 0 {
        out.push(b'-');
    }
    let a = f.0.unsigned_abs();
    push_u(out, a / 100, 1);
    out.push(b'.');
    push_u(out, a % 100, 2);
}

fn push_date(out: &mut Vec<u8>, d: NaiveDate) {
    push_u(out, d.year() as u64, 4);
    out.push(b'-');
    push_u(out, d.month() as u64, 2);
    out.push(b'-');
    push_u(out, d.day() as u64, 2);
}

/// Same text as `format_datetime` (`YYYY-MM-DD HH:MM`).
fn push_dt(out: &mut Vec<u8>, d: &NaiveDateTime) {
    push_date(out, d.date());
    out.push(b' ');
    push_u(out, d.hour() as u64, 2);
    out.push(b':');
    push_u(out, d.minute() as u64, 2);
}

/// A text cell, quoted the way the csv crate quotes (only when needed).
fn push_text(out: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

/// One claims.csv record (with line end), byte-identical to writing `CLAIM_COLUMNS` through
/// `Claim::column_text` with the csv crate.
pub fn render_claim(c: &Claim, out: &mut Vec<u8>) {
    push_text(out, &c.claim_id);
    out.push(b',');
    push_text(out, &c.insured_id);
    out.push(b',');
    push_text(out, &c.provider_code);
    out.push(b',');
    if let Some(k) = c.provider_kind {
        push_i(out, k.code());
    }
    out.push(b',');
    if let Some(t) = &c.claim_time {
        push_dt(out, t);
    }
    out.push(b',');
    push_text(out, &c.diagnoses.join("|"));
    for f in [
        c.fee_exam,
        c.fee_lab,
        c.fee_treatment,
        c.fee_material,
        c.fee_western_drug,
        c.fee_herbal,
        c.fee_patent_tcm,
        c.fee_other,
        c.total_cost,
        c.fund_pay,
    ] {
        out.push(b',');
        push_fen(out, f);
    }
    out.push(b'\n');
}

/// One charges.csv record (with line end), byte-identical to writing `CHARGE_COLUMNS` through
/// `ChargeItem::column_text` with the csv crate.
pub fn render_charge(c: &ChargeItem, out: &mut Vec<u8>) {
    push_text(out, &c.list_id);
    out.push(b',');
    push_text(out, &c.item_code);
    out.push(b',');
    push_text(out, &c.item_name);
    out.push(b',');
    out.extend_from_slice(c.category.key().as_bytes());
    out.push(b',');
    let q = c.quantity.0;
    if q % 100 == 0 {
        push_i(out, q / 100);
    } else {
        push_fen(out, Fen(q));
    }
    out.push(b',');
    push_fen(out, c.amount);
    out.push(b'\n');
}

/// One settlement-list CSV record (with line end), byte-identical to writing
/// `Field::ALL.map(field_text)` with the csv crate.
pub fn render_list(l: &SettlementList, out: &mut Vec<u8>) {
    use Field as F;
    let oi = |out: &mut Vec<u8>, v: Option<i64>| {
        if let Some(v) = v {
            push_i(out, v)
        }
    };
    let of = |out: &mut Vec<u8>, v: Option<Fen>| {
        if let Some(v) = v {
            push_fen(out, v)
        }
    };
    for (i, f) in Field::ALL.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match f {
            F::ListId => push_text(out, &l.list_id),
            F::InsuranceType => oi(out, l.insurance_type.map(|x| x.code())),
            F::Sex => oi(out, l.sex.map(|x| x.code())),
            F::BirthDate => {
                if let Some(d) = l.birth_date {
                    push_date(out, d)
                }
            }
            F::AgeYears => oi(out, l.age_years),
            F::AgeDays => oi(out, l.age_days),
            F::BirthWeightG => oi(out, l.birth_weight_g),
            F::AdmitWeightG => oi(out, l.admit_weight_g),
            F::AdmitTime => {
                if let Some(d) = &l.admit_time {
                    push_dt(out, d)
                }
            }
            F::DischargeTime => {
                if let Some(d) = &l.discharge_time {
                    push_dt(out, d)
                }
            }
            F::LosDays => oi(out, l.los_days),
            F::AdmitRoute => oi(out, l.admit_route.map(|x| x.code())),
            F::LeavingType => oi(out, l.leaving_type.map(|x| x.code())),
            F::ReadmitPlan31d => oi(out, l.readmit_plan_31d.map(|x| x.code())),
            F::ProcedureDates => {
                for (k, d) in l.procedure_dates.iter().enumerate() {
                    if k > 0 {
                        out.push(b'|');
                    }
                    if let Some(d) = d {
                        push_dt(out, d)
                    }
                }
            }
            F::TotalCost => of(out, l.total_cost),
            F::SelfpayItems => of(out, l.selfpay_items),
            F::FundPay => of(out, l.fund_pay),
            F::SupplementaryPay => of(out, l.supplementary_pay),
            F::AssistancePay => of(out, l.assistance_pay),
            F::PersonalPay => of(out, l.personal_pay),
            F::PaymentMethod => oi(out, l.payment_method.map(|x| x.code())),
            fee if fee.kind() == casemix_model::FieldKind::Amount => {
                let k = Field::FEES.iter().position(|x| x == fee).expect("fee field");
                of(out, l.fees[k])
            }
            other => push_text(out, &l.field_text(*other)),
        }
    }
    out.push(b'\n');
}

/// Writes the CSV files to their writers (hospitals, settlements, claims, labels and, when
/// given with [`CsvSink::with_charges`], the itemised charges).
pub struct CsvSink<W: Write> {
    pub hospitals: W,
    pub settlements: W,
    pub claims: W,
    pub labels: W,
    pub charges: Option<W>,
    buf: Vec<String>,
}

fn e(x: csv::Error) -> String {
    format!("写入 CSV 失败：{x}")
}
fn io(x: std::io::Error) -> String {
    format!("写入失败：{x}")
}

/// One CSV record as bytes.
fn record<I, T>(fields: I) -> Result<Vec<u8>, String>
where
    I: IntoIterator<Item = T>,
    T: AsRef<[u8]>,
{
    let mut w = csv::WriterBuilder::new().from_writer(Vec::with_capacity(512));
    w.write_record(fields).map_err(e)?;
    w.into_inner().map_err(|x| format!("写入失败：{}", x.error()))
}

impl<W: Write> CsvSink<W> {
    pub fn new(mut hospitals: W, mut settlements: W, mut claims: W, mut labels: W) -> Result<CsvSink<W>, String> {
        hospitals.write_all(&record(HOSPITAL_HEADER)?).map_err(io)?;
        settlements.write_all(&record(Field::ALL.iter().map(|f| f.key()))?).map_err(io)?;
        claims.write_all(&record(CLAIM_COLUMNS.iter().map(|c| c.0))?).map_err(io)?;
        labels.write_all(&record(LABEL_HEADER)?).map_err(io)?;
        Ok(CsvSink { hospitals, settlements, claims, labels, charges: None, buf: Vec::new() })
    }
    /// [`CsvSink::new`] plus charges.csv (`CHARGE_COLUMNS` keys) to `charges`.
    pub fn with_charges(hospitals: W, settlements: W, claims: W, labels: W, mut charges: W) -> Result<CsvSink<W>, String> {
        charges.write_all(&record(CHARGE_COLUMNS.iter().map(|c| c.0))?).map_err(io)?;
        let mut s = CsvSink::new(hospitals, settlements, claims, labels)?;
        s.charges = Some(charges);
        Ok(s)
    }
    pub fn flush(&mut self) -> Result<(), String> {
        for w in [&mut self.hospitals, &mut self.settlements, &mut self.claims, &mut self.labels] {
            w.flush().map_err(io)?;
        }
        if let Some(w) = &mut self.charges {
            w.flush().map_err(io)?;
        }
        Ok(())
    }
    /// Flushes and returns the charges writer too.
    pub fn into_parts(mut self) -> Result<(W, W, W, W, Option<W>), String> {
        self.flush()?;
        Ok((self.hospitals, self.settlements, self.claims, self.labels, self.charges))
    }
    /// Flushes and returns the writers (hospitals, settlements, claims, labels).
    pub fn into_inner(mut self) -> Result<(W, W, W, W), String> {
        self.flush()?;
        Ok((self.hospitals, self.settlements, self.claims, self.labels))
    }
}

impl<W: Write> Sink for CsvSink<W> {
    fn renders_csv(&self) -> bool {
        true
    }
    fn rendered(&mut self, r: &Rendered) -> Result<(), String> {
        self.settlements.write_all(&r.settlements).map_err(io)?;
        self.claims.write_all(&r.claims).map_err(io)?;
        if let Some(w) = &mut self.charges {
            w.write_all(&r.charges).map_err(io)?;
        }
        self.labels.write_all(&r.labels).map_err(io)
    }
    fn hospital(&mut self, h: &Hospital) -> Result<(), String> {
        let b = record([
            h.code.as_str(),
            h.name.as_str(),
            h.level.label_zh(),
            &h.tier.to_string(),
            h.county.as_str(),
            &h.beds.to_string(),
            if h.tcm { "1" } else { "0" },
            &h.key_disciplines.join("|"),
            &h.annual_volume.to_string(),
        ])?;
        self.hospitals.write_all(&b).map_err(io)
    }
    fn settlement(&mut self, l: &SettlementList) -> Result<(), String> {
        self.buf.clear();
        for f in Field::ALL {
            self.buf.push(l.field_text(*f));
        }
        let b = record(&self.buf)?;
        self.settlements.write_all(&b).map_err(io)
    }
    fn claim(&mut self, c: &Claim) -> Result<(), String> {
        self.buf.clear();
        for i in 0..CLAIM_COLUMNS.len() {
            self.buf.push(c.column_text(i));
        }
        let b = record(&self.buf)?;
        self.claims.write_all(&b).map_err(io)
    }
    fn label(&mut self, l: &Label) -> Result<(), String> {
        let b = record([l.id.as_str(), l.kind.key(), l.related_id.as_str(), l.note.as_str()])?;
        self.labels.write_all(&b).map_err(io)
    }
    fn charge(&mut self, c: &ChargeItem) -> Result<(), String> {
        let Some(w) = &mut self.charges else { return Ok(()) };
        let b = record((0..CHARGE_COLUMNS.len()).map(|i| c.column_text(i)))?;
        w.write_all(&b).map_err(io)
    }
}
