//! Read limits: every reader stops at the first limit and refuses the whole file with an
//! [`IoError::Limit`] naming the limit, its value and where it was hit — before any record of the
//! file reaches the caller's store. Memory stays bounded whatever the file declares: CSV and JSON
//! Lines stream (one record at most `max_line_bytes`), `.xlsx` never allocates from a declared
//! dimension or count and caps what it decompresses.

use crate::error::IoError;
use serde::{Deserialize, Serialize};
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// The limits of one read. Defaults are sized for the largest file a region legitimately reads
/// (a year of itemised charges as CSV, hundreds of MB, read by the CLI); an HTTP upload edge
/// should narrow `max_input_bytes`/`max_xlsx_bytes` to its body limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReadLimits {
    /// Bytes of the file as stored (CSV/JSON Lines are streamed, so this bounds time, not memory).
    /// Default 4 GiB: ten times the demo region's year of itemised charges (140 MB).
    pub max_input_bytes: u64,
    /// Bytes of one record: a CSV record (quoted line breaks included), a JSON line, or the cell
    /// text of one sheet row. Default 1 MiB: a full settlement list with 50 diagnoses, 50
    /// procedures and their dates is under 8 KiB; no single record is larger than a megabyte.
    pub max_line_bytes: u64,
    /// Data rows (records) of the file, header excluded. Default 50,000,000: a region of 10
    /// million insured has about 2 million stays a year, each with up to a few dozen charge rows.
    pub max_rows: u64,
    /// Columns (cells) of one row. Default 1,024: the settlement list has 47 fields; exports
    /// with every column of the national list have about 200. An `.xlsx` cell beyond this column
    /// refuses the file (the far-cell bomb puts one cell at XFD1048576, column 16,384).
    pub max_columns: u64,
    /// Bytes of an `.xlsx` workbook, which is held in memory to be unzipped. Default 256 MiB
    /// (Excel itself struggles beyond ~100 MB; a million-row sheet of lists is ~60 MB zipped).
    pub max_xlsx_bytes: u64,
    /// Σ decompressed bytes of all parts of an `.xlsx` (sheet XML, shared strings, styles, …),
    /// counted while inflating, whatever the zip headers declare. Default 1 GiB: a million-row
    /// sheet of 50 columns is ~600 MB of XML; a zip bomb inflating 1000× stops here.
    pub max_xlsx_decompressed_bytes: u64,
    /// Decompressed bytes of the shared-strings part, which is held in memory. Default 128 MiB.
    pub max_xlsx_shared_strings_bytes: u64,
    /// Entries of the shared-strings table (declared `uniqueCount` and actual). Default
    /// 4,000,000: a million rows with four distinct text columns.
    pub max_xlsx_shared_strings: u64,
    /// Non-empty cells of the sheet read (the sheet is held as compact text). Default 20,000,000:
    /// 400,000 lists of 50 columns.
    pub max_xlsx_cells: u64,
    /// Σ bytes of the sheet's cell text once shared strings are resolved (one shared string may
    /// be referenced by every cell). Default 512 MiB.
    pub max_xlsx_text_bytes: u64,
    /// Entries (parts) of the `.xlsx` zip. Default 10,000 (a workbook has a few dozen).
    pub max_xlsx_parts: u64,
    /// XML elements of each part other than worksheets and shared strings (styles, workbook,
    /// relationships, theme), which calamine parses whole when it opens the workbook — each
    /// cell format (`<xf>`) becomes a style with its own copy of font, fill and border. Default
    /// 200,000: Excel allows at most 64,000 cell formats.
    pub max_xlsx_elements: u64,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_input_bytes: 4 * GIB,
            max_line_bytes: MIB,
            max_rows: 50_000_000,
            max_columns: 1_024,
            max_xlsx_bytes: 256 * MIB,
            max_xlsx_decompressed_bytes: GIB,
            max_xlsx_shared_strings_bytes: 128 * MIB,
            max_xlsx_shared_strings: 4_000_000,
            max_xlsx_cells: 20_000_000,
            max_xlsx_text_bytes: 512 * MIB,
            max_xlsx_parts: 10_000,
            max_xlsx_elements: 200_000,
        }
    }
}

impl ReadLimits {
    /// Limits for one file uploaded by a hospital over HTTP with a body limit of `max_bytes`:
    /// the file itself at most `max_bytes`; at most 300,000 data rows (the largest hospitals
    /// discharge about 20,000 patients a month: fifteen times that; every row read becomes a
    /// list or a rejection held in memory, about 1 KiB each, so rows bound memory when rows are
    /// tiny); and the workbook's expansions scaled to the upload — decompressed parts 32 ×
    /// `max_bytes` (at least 64 MiB, at most the default), shared strings and cell text 4 ×
    /// `max_bytes` (at least 16 MiB), 1,000,000 shared strings and 5,000,000 cells. For a 32 MiB
    /// body the worst case held at once is about 32 MiB (workbook) + 128 MiB (shared strings
    /// and their 24-byte headers) + 128 MiB (cell text) + 80 MiB (cells) + 300 MiB (lists).
    pub fn for_upload(max_bytes: u64) -> ReadLimits {
        let d = ReadLimits::default();
        let scaled = |k: u64, min: u64, max: u64| max_bytes.saturating_mul(k).clamp(min, max.max(min));
        ReadLimits {
            max_input_bytes: max_bytes,
            max_rows: 300_000,
            max_xlsx_bytes: max_bytes.min(d.max_xlsx_bytes),
            max_xlsx_decompressed_bytes: scaled(32, 64 * MIB, d.max_xlsx_decompressed_bytes),
            max_xlsx_shared_strings_bytes: scaled(4, 16 * MIB, d.max_xlsx_shared_strings_bytes),
            max_xlsx_shared_strings: 1_000_000,
            max_xlsx_cells: 5_000_000,
            max_xlsx_text_bytes: scaled(4, 16 * MIB, d.max_xlsx_text_bytes),
            ..d
        }
    }
}

/// Names of the limits as they appear in errors (key and Chinese description).
pub(crate) mod name {
    pub const INPUT_BYTES: (&str, &str) = ("max_input_bytes", "文件字节数");
    pub const LINE_BYTES: (&str, &str) = ("max_line_bytes", "单条记录字节数");
    pub const ROWS: (&str, &str) = ("max_rows", "数据行数");
    pub const COLUMNS: (&str, &str) = ("max_columns", "每行列数");
    pub const XLSX_BYTES: (&str, &str) = ("max_xlsx_bytes", "Excel 文件字节数");
    pub const XLSX_DECOMPRESSED: (&str, &str) = ("max_xlsx_decompressed_bytes", "Excel 解压后字节数");
    pub const XLSX_SST_BYTES: (&str, &str) = ("max_xlsx_shared_strings_bytes", "Excel 共享字符串解压后字节数");
    pub const XLSX_SST: (&str, &str) = ("max_xlsx_shared_strings", "Excel 共享字符串条数");
    pub const XLSX_CELLS: (&str, &str) = ("max_xlsx_cells", "Excel 非空单元格数");
    pub const XLSX_TEXT: (&str, &str) = ("max_xlsx_text_bytes", "Excel 单元格文本总字节数");
    pub const XLSX_PARTS: (&str, &str) = ("max_xlsx_parts", "Excel 压缩包条目数");
    pub const XLSX_ELEMENTS: (&str, &str) = ("max_xlsx_elements", "Excel 部件 XML 元素数");
}

/// Builds the file-level error of a limit.
pub(crate) fn exceeded(limit: (&'static str, &'static str), max: u64, at: impl Into<String>) -> IoError {
    IoError::Limit { limit: limit.0, label_zh: limit.1, max, at: at.into() }
}

/// Counts the bytes flowing through a [`Metered`] reader and trips when the total, or the bytes
/// since the last [`Meter::mark`], exceed their caps. Shared between the reader (deep inside a
/// CSV parser) and the [`crate::RecordReader`] that marks record ends and reports the trip.
#[derive(Debug)]
pub(crate) struct Meter {
    read: AtomicU64,
    mark: AtomicU64,
    max_total: u64,
    max_since_mark: u64,
    tripped: AtomicU8,
}

/// Which cap a [`Meter`] hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trip {
    Total,
    SinceMark,
}

impl Meter {
    pub fn new(max_total: u64, max_since_mark: u64) -> Arc<Meter> {
        Arc::new(Meter { read: AtomicU64::new(0), mark: AtomicU64::new(0), max_total, max_since_mark, tripped: AtomicU8::new(0) })
    }
    /// Starts a new record at absolute position `at` (bytes consumed by the parser).
    pub fn mark(&self, at: u64) {
        self.mark.store(at, Ordering::Relaxed);
    }
    pub fn tripped(&self) -> Option<Trip> {
        match self.tripped.load(Ordering::Relaxed) {
            1 => Some(Trip::Total),
            2 => Some(Trip::SinceMark),
            _ => None,
        }
    }
    fn count(&self, n: usize) -> io::Result<()> {
        let total = self.read.fetch_add(n as u64, Ordering::Relaxed).saturating_add(n as u64);
        let trip = if total > self.max_total {
            1
        } else if total.saturating_sub(self.mark.load(Ordering::Relaxed)) > self.max_since_mark {
            2
        } else {
            return Ok(());
        };
        self.tripped.store(trip, Ordering::Relaxed);
        Err(io::Error::other("读取上限"))
    }
}

/// A reader that counts its bytes on a [`Meter`].
pub(crate) struct Metered<R> {
    pub inner: R,
    pub meter: Arc<Meter>,
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.meter.tripped().is_some() {
            return Err(io::Error::other("读取上限"));
        }
        let n = self.inner.read(buf)?;
        self.meter.count(n)?;
        Ok(n)
    }
}
