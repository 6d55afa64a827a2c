//! CSV writers for the canonical files (settlement-list.md): any `io::Write` (the CLI opens the
//! files). settlements.csv uses `Field::ALL` keys and `SettlementList::field_text`, claims.csv
//! `CLAIM_COLUMNS`, so the common importer reads them back.

use crate::generate::Label;
use crate::hospitals::Hospital;
use crate::Sink;
use casemix_model::{Claim, Field, SettlementList, CLAIM_COLUMNS};
use std::io::Write;

pub const HOSPITAL_HEADER: [&str; 9] = ["code", "name", "level", "tier", "county", "beds", "tcm", "key_disciplines", "annual_volume"];
pub const LABEL_HEADER: [&str; 4] = ["id", "kind", "related_id", "note"];

/// Writes the four CSV files to four writers.
pub struct CsvSink<W: Write> {
    pub hospitals: csv::Writer<W>,
    pub settlements: csv::Writer<W>,
    pub claims: csv::Writer<W>,
    pub labels: csv::Writer<W>,
    buf: Vec<String>,
}

fn e(x: csv::Error) -> String {
    format!("写入 CSV 失败：{x}")
}

impl<W: Write> CsvSink<W> {
    pub fn new(hospitals: W, settlements: W, claims: W, labels: W) -> Result<CsvSink<W>, String> {
        let mk = |w: W| csv::WriterBuilder::new().buffer_capacity(1 << 16).from_writer(w);
        let mut s = CsvSink { hospitals: mk(hospitals), settlements: mk(settlements), claims: mk(claims), labels: mk(labels), buf: Vec::new() };
        s.hospitals.write_record(HOSPITAL_HEADER).map_err(e)?;
        s.settlements.write_record(Field::ALL.iter().map(|f| f.key())).map_err(e)?;
        s.claims.write_record(CLAIM_COLUMNS.iter().map(|c| c.0)).map_err(e)?;
        s.labels.write_record(LABEL_HEADER).map_err(e)?;
        Ok(s)
    }
    pub fn flush(&mut self) -> Result<(), String> {
        for w in [&mut self.hospitals, &mut self.settlements, &mut self.claims, &mut self.labels] {
            w.flush().map_err(|x| format!("写入失败：{x}"))?;
        }
        Ok(())
    }
    /// Flushes and returns the writers (hospitals, settlements, claims, labels).
    pub fn into_inner(self) -> Result<(W, W, W, W), String> {
        let f = |w: csv::Writer<W>| w.into_inner().map_err(|x| format!("写入失败：{}", x.error()));
        Ok((f(self.hospitals)?, f(self.settlements)?, f(self.claims)?, f(self.labels)?))
    }
}

impl<W: Write> Sink for CsvSink<W> {
    fn hospital(&mut self, h: &Hospital) -> Result<(), String> {
        self.hospitals
            .write_record([
                h.code.as_str(),
                h.name.as_str(),
                h.level.label_zh(),
                &h.tier.to_string(),
                h.county.as_str(),
                &h.beds.to_string(),
                if h.tcm { "1" } else { "0" },
                &h.key_disciplines.join("|"),
                &h.annual_volume.to_string(),
            ])
            .map_err(e)
    }
    fn settlement(&mut self, l: &SettlementList) -> Result<(), String> {
        self.buf.clear();
        for f in Field::ALL {
            self.buf.push(l.field_text(*f));
        }
        self.settlements.write_record(&self.buf).map_err(e)
    }
    fn claim(&mut self, c: &Claim) -> Result<(), String> {
        self.buf.clear();
        for i in 0..CLAIM_COLUMNS.len() {
            self.buf.push(c.column_text(i));
        }
        self.claims.write_record(&self.buf).map_err(e)
    }
    fn label(&mut self, l: &Label) -> Result<(), String> {
        self.labels.write_record([l.id.as_str(), l.kind.key(), l.related_id.as_str(), l.note.as_str()]).map_err(e)
    }
}
