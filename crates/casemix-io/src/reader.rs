//! Stage 1 of the import: a [`RecordReader`] decodes a file (CSV in UTF-8 or GBK, JSON Lines,
//! `.xlsx`) and splits it into batches of [`RawRow`]s on one thread. Stage 2 is
//! [`crate::Schema::parse`], which worker threads may call in parallel.
//!
//! Memory: CSV and JSON Lines are streamed (a bounded read buffer plus the batch the caller asks
//! for), so files larger than memory are fine. An `.xlsx` sheet is loaded whole by `calamine`
//! (the format is a zip of XML; there is no row-streaming reader for it here).

use crate::error::IoError;
use csv::{ByteRecord, StringRecord};
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::Path;

/// The file formats the importer understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    /// JSON Lines: one JSON object per line, keys as CSV headers.
    Jsonl,
    /// Excel 2007+ workbook; the first sheet is read, its first non-empty row is the header.
    Xlsx,
}

impl Format {
    /// Guesses the format from a file extension (`csv`/`txt`/`tsv`, `jsonl`/`ndjson`/`json`,
    /// `xlsx`/`xlsm`/`xls`).
    pub fn from_extension(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "txt" | "tsv" => Some(Format::Csv),
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
            "xlsx" | "xlsm" | "xls" => Some(Format::Xlsx),
            _ => None,
        }
    }

    /// Guesses the format from the first bytes: a zip signature is a workbook, `{` a JSON line.
    pub fn sniff(prefix: &[u8]) -> Format {
        if prefix.starts_with(b"PK\x03\x04") || prefix.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
            return Format::Xlsx;
        }
        let body = prefix.strip_prefix(UTF8_BOM).unwrap_or(prefix);
        match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') | Some(b'[') => Format::Jsonl,
            _ => Format::Csv,
        }
    }
}

/// Text encoding of CSV / JSON Lines input (an `.xlsx` carries its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// A UTF-8 BOM or valid UTF-8 in the first 64 KiB means UTF-8, otherwise GBK. In a file
    /// detected as UTF-8, a single record that is not valid UTF-8 but valid GBK is read as GBK.
    /// A UTF-16 BOM (Excel's "Unicode text" export) is honoured on the GBK path.
    #[default]
    Auto,
    Utf8,
    /// GBK (decoded with the GB18030 decoder, a superset), as exported by many hospital systems.
    Gbk,
}

impl Encoding {
    /// `utf-8`/`utf8`, `gbk`/`gb2312`/`gb18030`/`cp936`, `auto`.
    pub fn from_name(s: &str) -> Option<Encoding> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" | "" => Some(Encoding::Auto),
            "utf-8" | "utf8" | "utf-8-sig" => Some(Encoding::Utf8),
            "gbk" | "gb2312" | "gb18030" | "cp936" => Some(Encoding::Gbk),
            _ => None,
        }
    }
}

/// Options of every reader in this crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// `None`: from the extension, else sniffed from the content.
    pub format: Option<Format>,
    pub encoding: Encoding,
    /// CSV field delimiter (default `,`; `\t` for tab-separated exports).
    pub delimiter: u8,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { format: None, encoding: Encoding::Auto, delimiter: b',' }
    }
}

/// One raw input record, before any field is interpreted.
///
/// For CSV and XLSX, `cells` are the row's cells in header order (their number may differ from
/// the header's: [`crate::Schema::parse`] rejects that). For JSON Lines, `cells` holds exactly
/// one cell: the line's text. Callers that pass input columns through unchanged read `cells`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawRow {
    /// 1-based physical line (sheet row for XLSX) where the record starts; the header is line 1.
    pub line: u64,
    pub cells: StringRecord,
    /// The record's bytes were neither UTF-8 nor GBK; `cells` were decoded lossily (U+FFFD).
    pub bad_encoding: bool,
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
const SNIFF_LEN: u64 = 64 * 1024;
const CSV_BUFFER: usize = 256 * 1024;

enum Source {
    Csv {
        rdr: csv::Reader<Box<dyn Read + Send>>,
        scratch: Vec<u8>,
        /// Reader position (byte, line) after the previous record.
        last: (u64, u64),
    },
    Jsonl { rdr: BufReader<Box<dyn Read + Send>>, line: u64, buf: Vec<u8>, pending: Option<RawRow> },
    Xlsx { rows: std::vec::IntoIter<(u64, Vec<String>)> },
}

/// Splits a file into batches of [`RawRow`]s. Single-threaded; see the module docs.
pub struct RecordReader {
    source: Source,
    format: Format,
    encoding: Encoding,
    /// Auto-detected UTF-8: try GBK on a record that is not valid UTF-8.
    gbk_fallback: bool,
    headers: StringRecord,
    header_line: u64,
}

impl RecordReader {
    /// Opens a file; the format comes from `opts.format`, else the extension, else the content.
    pub fn open(path: impl AsRef<Path>, opts: &ReadOptions) -> Result<RecordReader, IoError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| IoError::Open { path: path.to_path_buf(), source })?;
        let format = opts.format.or_else(|| Format::from_extension(path));
        RecordReader::from_reader(file, format, opts)
    }

    /// Reads from any byte stream. `format` overrides `opts.format`; `None` with no option sniffs.
    /// An `.xlsx` stream is read into memory first.
    pub fn from_reader<R: Read + Send + 'static>(
        r: R,
        format: Option<Format>,
        opts: &ReadOptions,
    ) -> Result<RecordReader, IoError> {
        let mut r: Box<dyn Read + Send> = Box::new(r);
        let mut prefix = Vec::with_capacity(SNIFF_LEN as usize);
        (&mut r).take(SNIFF_LEN).read_to_end(&mut prefix)?;
        let truncated = prefix.len() as u64 == SNIFF_LEN;
        let format = format.or(opts.format).unwrap_or_else(|| Format::sniff(&prefix));
        if format == Format::Xlsx {
            let mut all = prefix;
            r.read_to_end(&mut all)?;
            return RecordReader::from_xlsx_bytes(all);
        }
        let encoding = match opts.encoding {
            Encoding::Auto => detect_encoding(&prefix, truncated),
            e => e,
        };
        let gbk_fallback = opts.encoding == Encoding::Auto && encoding == Encoding::Utf8;
        let stream: Box<dyn Read + Send> = match encoding {
            Encoding::Gbk => Box::new(
                encoding_rs_io::DecodeReaderBytesBuilder::new()
                    .encoding(Some(encoding_rs::GBK))
                    .bom_override(true)
                    .strip_bom(true)
                    .build(Cursor::new(prefix).chain(r)),
            ),
            _ => {
                if prefix.starts_with(UTF8_BOM) {
                    prefix.drain(..3);
                }
                Box::new(Cursor::new(prefix).chain(r))
            }
        };
        let mut me = match format {
            Format::Csv => {
                // Records end at `\n` only (a `\r` before it is stripped from the last cell), and
                // a final `\n` is appended so that every record, the last one too, is terminated:
                // then the reader's line count after a record tells the record's physical line.
                let stream: Box<dyn Read + Send> = Box::new(stream.chain(Cursor::new(b"\n")));
                let rdr = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    .delimiter(opts.delimiter)
                    .terminator(csv::Terminator::Any(b'\n'))
                    .buffer_capacity(CSV_BUFFER)
                    .from_reader(stream);
                RecordReader {
                    source: Source::Csv { rdr, scratch: Vec::new(), last: (0, 1) },
                    format,
                    encoding,
                    gbk_fallback,
                    headers: StringRecord::new(),
                    header_line: 0,
                }
            }
            Format::Jsonl => RecordReader {
                source: Source::Jsonl {
                    rdr: BufReader::with_capacity(CSV_BUFFER, stream),
                    line: 0,
                    buf: Vec::new(),
                    pending: None,
                },
                format,
                encoding,
                gbk_fallback,
                headers: StringRecord::new(),
                header_line: 0,
            },
            Format::Xlsx => unreachable!("handled above"),
        };
        me.read_header()?;
        Ok(me)
    }

    /// Reads an `.xlsx` (or `.xls`) workbook held in memory: first sheet, first non-empty row is
    /// the header, fully empty rows are skipped.
    pub fn from_xlsx_bytes(bytes: Vec<u8>) -> Result<RecordReader, IoError> {
        use calamine::Reader;
        let mut wb = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
            .map_err(|e| IoError::XlsxRead(e.to_string()))?;
        let range = wb
            .worksheet_range_at(0)
            .ok_or(IoError::XlsxNoSheet)?
            .map_err(|e| IoError::XlsxRead(e.to_string()))?;
        let start_row = range.start().map(|(r, _)| r as u64).unwrap_or(0);
        let mut rows: Vec<(u64, Vec<String>)> = Vec::with_capacity(range.height());
        for (i, row) in range.rows().enumerate() {
            let cells: Vec<String> = row.iter().map(xlsx_cell_text).collect();
            if cells.iter().all(|c| c.is_empty()) {
                continue;
            }
            rows.push((start_row + i as u64 + 1, cells));
        }
        drop(range);
        let mut it = rows.into_iter();
        let (header_line, mut header) = it.next().ok_or(IoError::Empty)?;
        while header.last().is_some_and(|c| c.is_empty()) {
            header.pop();
        }
        let width = header.len();
        // A data row keeps exactly the header's width unless it has values beyond it (then the
        // schema rejects it for its cell count).
        let rows: Vec<(u64, Vec<String>)> = it
            .map(|(l, mut cells)| {
                if cells[width.min(cells.len())..].iter().all(|c| c.is_empty()) {
                    cells.truncate(width);
                    cells.resize(width, String::new());
                } else {
                    while cells.last().is_some_and(|c| c.is_empty()) {
                        cells.pop();
                    }
                }
                (l, cells)
            })
            .collect();
        Ok(RecordReader {
            source: Source::Xlsx { rows: rows.into_iter() },
            format: Format::Xlsx,
            encoding: Encoding::Utf8,
            gbk_fallback: false,
            headers: StringRecord::from(header),
            header_line,
        })
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// The encoding in use (`Auto` resolved to `Utf8` or `Gbk`; `Utf8` for `.xlsx`).
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The header row's cells (a BOM removed); empty for JSON Lines.
    pub fn headers(&self) -> &StringRecord {
        &self.headers
    }

    /// Line of the header row (1 unless blank lines precede it); 0 for JSON Lines.
    pub fn header_line(&self) -> u64 {
        self.header_line
    }

    /// The settlement-list schema for this file's header (JSON Lines: per-record keys).
    pub fn schema(&self) -> Result<crate::Schema, IoError> {
        match self.format {
            Format::Jsonl => Ok(crate::Schema::json()),
            _ => crate::Schema::from_headers(&self.headers),
        }
    }

    /// The claims schema for this file's header.
    pub fn claim_schema(&self) -> Result<crate::ClaimSchema, IoError> {
        match self.format {
            Format::Jsonl => Ok(crate::ClaimSchema::json()),
            _ => crate::ClaimSchema::from_headers(&self.headers),
        }
    }

    /// The itemised-charges schema for this file's header.
    pub fn charge_schema(&self) -> Result<crate::ChargeSchema, IoError> {
        match self.format {
            Format::Jsonl => Ok(crate::ChargeSchema::json()),
            _ => crate::ChargeSchema::from_headers(&self.headers),
        }
    }

    fn read_header(&mut self) -> Result<(), IoError> {
        let mut row = RawRow::default();
        match self.format {
            Format::Csv => {
                if !self.read_row(&mut row)? {
                    return Err(IoError::Empty);
                }
                let mut h = row.cells;
                if h.get(0).is_some_and(|c| c.starts_with('\u{feff}')) {
                    let v: Vec<String> = h
                        .iter()
                        .enumerate()
                        .map(|(i, c)| if i == 0 { c.trim_start_matches('\u{feff}').to_string() } else { c.to_string() })
                        .collect();
                    h = StringRecord::from(v);
                }
                self.headers = h;
                self.header_line = row.line;
            }
            Format::Jsonl => {
                if !self.read_row(&mut row)? {
                    return Err(IoError::Empty);
                }
                if let Source::Jsonl { pending, .. } = &mut self.source {
                    *pending = Some(row);
                }
            }
            Format::Xlsx => {}
        }
        Ok(())
    }

    /// Reads the next record into `row` (reusing its allocations). `false` at the end.
    pub fn read_row(&mut self, row: &mut RawRow) -> Result<bool, IoError> {
        match &mut self.source {
            Source::Csv { rdr, scratch, last } => {
                let mut br: ByteRecord = std::mem::take(&mut row.cells).into_byte_record();
                loop {
                    if !rdr.read_byte_record(&mut br)? {
                        row.cells = StringRecord::from_byte_record(br).unwrap_or_default();
                        return Ok(false);
                    }
                    let pos = rdr.position();
                    let (bytes, lines) = (pos.byte() - last.0, pos.line() - last.1);
                    let line_before = last.1;
                    *last = (pos.byte(), pos.line());
                    let n = br.len();
                    if n > 0 && br[n - 1].last() == Some(&b'\r') {
                        // CRLF line end. (A quoted last cell that itself ends in `\r` in an LF
                        // file loses that `\r` too: a documented corner.)
                        if n == 1 && br[0].len() == 1 && bytes - lines == 1 {
                            continue; // a blank CRLF line: one `\r` besides the `\n`s consumed
                        }
                        scratch.clear();
                        scratch.extend_from_slice(&br[n - 1][..br[n - 1].len() - 1]);
                        br.truncate(n - 1);
                        br.push_field(scratch);
                    }
                    // The reader has consumed the record's terminating `\n`; the lines the
                    // record spans are the `\n`s inside its (quoted) cells.
                    let inner = memchr::memchr_iter(b'\n', br.as_slice()).count() as u64;
                    // (`max`: a quote left open at the end of the file swallows the final `\n`.)
                    row.line = last.1.saturating_sub(1 + inner).max(line_before);
                    break;
                }
                match StringRecord::from_byte_record(br) {
                    Ok(s) => {
                        row.cells = s;
                        row.bad_encoding = false;
                    }
                    Err(e) => {
                        let br = e.into_byte_record();
                        let (cells, bad) = decode_fallback(br.iter(), self.gbk_fallback);
                        row.cells = cells;
                        row.bad_encoding = bad;
                    }
                }
                Ok(true)
            }
            Source::Jsonl { rdr, line, buf, pending } => {
                if let Some(p) = pending.take() {
                    *row = p;
                    return Ok(true);
                }
                loop {
                    buf.clear();
                    if rdr.read_until(b'\n', buf)? == 0 {
                        return Ok(false);
                    }
                    *line += 1;
                    if buf.iter().all(|b| b.is_ascii_whitespace()) {
                        continue;
                    }
                    while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                        buf.pop();
                    }
                    let bytes: &[u8] = if *line == 1 { buf.strip_prefix(UTF8_BOM).unwrap_or(buf) } else { buf };
                    row.line = *line;
                    row.cells.clear();
                    match std::str::from_utf8(bytes) {
                        Ok(s) => {
                            row.cells.push_field(s);
                            row.bad_encoding = false;
                        }
                        Err(_) => {
                            let (cells, bad) = decode_fallback(std::iter::once(bytes), self.gbk_fallback);
                            row.cells = cells;
                            row.bad_encoding = bad;
                        }
                    }
                    return Ok(true);
                }
            }
            Source::Xlsx { rows } => match rows.next() {
                Some((l, cells)) => {
                    row.line = l;
                    row.cells.clear();
                    for c in &cells {
                        row.cells.push_field(c);
                    }
                    row.bad_encoding = false;
                    Ok(true)
                }
                None => Ok(false),
            },
        }
    }

    /// Fills `batch` with up to `max` records, reusing the `RawRow`s already in it. Returns how
    /// many were read (`batch.len()` afterwards); 0 at the end of the file.
    pub fn fill_batch(&mut self, batch: &mut Vec<RawRow>, max: usize) -> Result<usize, IoError> {
        let mut n = 0;
        while n < max {
            if n == batch.len() {
                batch.push(RawRow::default());
            }
            if !self.read_row(&mut batch[n])? {
                break;
            }
            n += 1;
        }
        batch.truncate(n);
        Ok(n)
    }

    /// The next batch of up to `max` records, `None` at the end of the file.
    pub fn next_batch(&mut self, max: usize) -> Result<Option<Vec<RawRow>>, IoError> {
        let mut batch = Vec::with_capacity(max.min(1 << 16));
        let n = self.fill_batch(&mut batch, max.max(1))?;
        Ok(if n == 0 { None } else { Some(batch) })
    }
}

fn detect_encoding(prefix: &[u8], truncated: bool) -> Encoding {
    if prefix.starts_with(UTF8_BOM) {
        return Encoding::Utf8;
    }
    match std::str::from_utf8(prefix) {
        Ok(_) => Encoding::Utf8,
        // cut in the middle of a character by the 64 KiB limit
        Err(e) if truncated && e.error_len().is_none() => Encoding::Utf8,
        Err(_) => Encoding::Gbk,
    }
}

/// Decodes the fields of a record that is not valid UTF-8: as GBK when allowed and clean, else
/// lossily (then `bad = true`).
fn decode_fallback<'a>(fields: impl Iterator<Item = &'a [u8]> + Clone, try_gbk: bool) -> (StringRecord, bool) {
    if try_gbk {
        let mut out = StringRecord::new();
        let mut clean = true;
        for f in fields.clone() {
            match encoding_rs::GBK.decode_without_bom_handling_and_without_replacement(f) {
                Some(s) => out.push_field(&s),
                None => {
                    clean = false;
                    break;
                }
            }
        }
        if clean {
            return (out, false);
        }
    }
    let mut out = StringRecord::new();
    for f in fields {
        out.push_field(&String::from_utf8_lossy(f));
    }
    (out, true)
}

/// The text of an Excel cell as the CSV importer would see it.
fn xlsx_cell_text(d: &calamine::Data) -> String {
    use calamine::Data;
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => float_text(*f),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
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
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
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
