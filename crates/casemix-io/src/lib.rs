//! # casemix-io
//!
//! Import and export of settlement lists (医疗保障基金结算清单) and outpatient/pharmacy claims
//! at the edge of Casemix: CSV (UTF-8 with or without BOM, or GBK; auto-detected), JSON Lines
//! and Excel `.xlsx`, with English keys or Chinese labels as headers
//! (`shared/docs/settlement-list.md`). The grouping-only minimal form
//! (`id,sex,age_years,…,procedures`) is a valid settlement-list file.
//!
//! Bad input never aborts a batch: every data record ends either as a [`SettlementList`] (or
//! [`Claim`], or [`ChargeItem`]) or as a [`Rejection`] naming line, id, field, rule and a Chinese reason.
//! File-level problems (unreadable file, empty file, duplicate header columns) are [`IoError`]s.
//!
//! ## Two stages, for speed
//! 1. [`RecordReader`] (one thread) decodes and splits a file into batches of [`RawRow`]s
//!    ([`RecordReader::fill_batch`] reuses the batch's allocations).
//! 2. [`Schema`] (built once from the header; `Send + Sync`, share it with `Arc`) turns each
//!    row into a list or a rejection with [`Schema::parse`], from any number of worker threads.
//!
//! ```no_run
//! use casemix_io::{RecordReader, ReadOptions};
//! let mut rdr = RecordReader::open("cases.csv", &ReadOptions::default())?;
//! let schema = rdr.schema()?;
//! let mut batch = Vec::new();
//! while rdr.fill_batch(&mut batch, 4096)? > 0 {
//!     for row in &batch {
//!         match schema.parse(row) {
//!             Ok(list) => { /* group it; row.cells holds the input columns */ }
//!             Err(rejection) => eprintln!("{rejection}"),
//!         }
//!     }
//! }
//! # Ok::<(), casemix_io::IoError>(())
//! ```
//!
//! ## Limits and refusals
//! Every read is bounded by [`ReadLimits`] (in [`ReadOptions::limits`]): bytes, record length,
//! rows, columns, and for `.xlsx` the workbook size, decompressed bytes (counted while inflating,
//! whatever the zip declares), shared strings and cells. CSV and JSON Lines stream in bounded
//! memory; an `.xlsx` is held in memory and its sheet's cells are streamed into a compact buffer
//! (never a rows × columns grid). A limit exceeded refuses the file ([`IoError::Limit`]); a file
//! that is not a table — binary content, NUL bytes, no id column in the header, JSON Lines whose
//! first record is not an object — is refused as
//! [`IoError::NotATable`]; an empty file is [`IoError::Empty`]. Each record's numeric fields are
//! checked against [`ReadOptions::domains`] ([`casemix_model::FieldDomains`]); a record outside
//! them is a [`Rejection`] with rule [`rules::OUT_OF_DOMAIN`].

mod error;
mod limits;
mod reader;
mod schema;
mod write;
mod xlsx;

pub use error::{rules, IoError, Rejection};
pub use limits::ReadLimits;
pub use reader::{Encoding, Format, RawRow, ReadOptions, RecordReader, BATCH_BYTES};
pub use schema::{ChargeSchema, ClaimSchema, Schema};
pub use write::{
    write_charges_csv, write_claims_csv, write_rejections_csv, write_settlements_csv, write_table_xlsx, write_xlsx, xlsx_bytes,
    SettlementCsvWriter, XlsxCell, XlsxSheet, REJECTION_COLUMNS,
};

pub use csv::StringRecord;

use casemix_model::{ChargeItem, Claim, SettlementList};
use std::path::Path;

const BATCH: usize = 4096;

fn collect<T>(
    mut rdr: RecordReader,
    parse: impl Fn(&RawRow) -> Result<T, Rejection>,
) -> Result<(Vec<T>, Vec<Rejection>), IoError> {
    let mut ok = Vec::new();
    let mut rejected = Vec::new();
    let mut batch = Vec::new();
    while rdr.fill_batch(&mut batch, BATCH)? > 0 {
        for row in &batch {
            match parse(row) {
                Ok(v) => ok.push(v),
                Err(r) => rejected.push(r),
            }
        }
    }
    Ok((ok, rejected))
}

/// Reads every settlement list of a file (CSV, JSON Lines or `.xlsx`; see [`ReadOptions`]).
/// Returns the lists in file order and the rejected records in file order.
pub fn read_settlements(
    path: impl AsRef<Path>,
    opts: &ReadOptions,
) -> Result<(Vec<SettlementList>, Vec<Rejection>), IoError> {
    let rdr = RecordReader::open(path, opts)?;
    let schema = rdr.schema()?;
    collect(rdr, |r| schema.parse(r))
}

/// [`read_settlements`] from an in-memory file (`format: None` sniffs the content).
pub fn read_settlements_from_bytes(
    bytes: &[u8],
    format: Option<Format>,
    opts: &ReadOptions,
) -> Result<(Vec<SettlementList>, Vec<Rejection>), IoError> {
    let rdr = RecordReader::from_reader(std::io::Cursor::new(bytes.to_vec()), format, opts)?;
    let schema = rdr.schema()?;
    collect(rdr, |r| schema.parse(r))
}

/// Reads every outpatient/pharmacy claim of a file (same formats and encodings; headers via
/// [`Claim::column_index`], unknown columns ignored).
pub fn read_claims(path: impl AsRef<Path>, opts: &ReadOptions) -> Result<(Vec<Claim>, Vec<Rejection>), IoError> {
    let rdr = RecordReader::open(path, opts)?;
    let schema = rdr.claim_schema()?;
    collect(rdr, |r| schema.parse(r))
}

/// [`read_claims`] from an in-memory file.
pub fn read_claims_from_bytes(
    bytes: &[u8],
    format: Option<Format>,
    opts: &ReadOptions,
) -> Result<(Vec<Claim>, Vec<Rejection>), IoError> {
    let rdr = RecordReader::from_reader(std::io::Cursor::new(bytes.to_vec()), format, opts)?;
    let schema = rdr.claim_schema()?;
    collect(rdr, |r| schema.parse(r))
}

/// Reads every itemised charge (费用明细) of a file (same formats and encodings; headers via
/// [`ChargeItem::column_index`], unknown columns ignored). Items in file order, then rejections.
pub fn read_charges(path: impl AsRef<Path>, opts: &ReadOptions) -> Result<(Vec<ChargeItem>, Vec<Rejection>), IoError> {
    let rdr = RecordReader::open(path, opts)?;
    let schema = rdr.charge_schema()?;
    collect(rdr, |r| schema.parse(r))
}

/// [`read_charges`] from an in-memory file.
pub fn read_charges_from_bytes(
    bytes: &[u8],
    format: Option<Format>,
    opts: &ReadOptions,
) -> Result<(Vec<ChargeItem>, Vec<Rejection>), IoError> {
    let rdr = RecordReader::from_reader(std::io::Cursor::new(bytes.to_vec()), format, opts)?;
    let schema = rdr.charge_schema()?;
    collect(rdr, |r| schema.parse(r))
}

#[cfg(test)]
mod send_sync {
    fn assert_send_sync<T: Send + Sync>() {}
    #[test]
    fn schema_is_send_sync_and_rows_send() {
        assert_send_sync::<crate::Schema>();
        assert_send_sync::<crate::ClaimSchema>();
        assert_send_sync::<crate::ChargeSchema>();
        assert_send_sync::<crate::RawRow>();
        fn assert_send<T: Send>() {}
        assert_send::<crate::RecordReader>();
    }
}
