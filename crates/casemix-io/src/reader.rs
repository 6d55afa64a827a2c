//! Stage 1 of the import: a [`RecordReader`] decodes a file (CSV in UTF-8 or GBK, JSON Lines,
//! `.xlsx`) and splits it into batches of [`RawRow`]s on one thread. Stage 2 is
//! [`crate::Schema::parse`], which worker threads may call in parallel.
//!
//! Memory: CSV and JSON Lines are streamed (a bounded read buffer plus the batch the caller asks
//! for; one record at most [`ReadLimits::max_line_bytes`]), so files larger than memory are fine.
//! An `.xlsx` workbook is held in memory (at most [`ReadLimits::max_xlsx_bytes`]) and its first
//! sheet's cells are streamed into a compact buffer (see `xlsx.rs`). Every [`ReadLimits`] limit
//! refuses the whole file with [`IoError::Limit`]; a file that is not text or has no
//! recognisable header is refused with [`IoError::NotATable`].

use crate::error::IoError;
use crate::limits::{exceeded, name, Meter, Metered, ReadLimits, Trip};
use casemix_model::FieldDomains;
use csv::{ByteRecord, StringRecord};
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::Path;
use std::sync::Arc;

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
    /// Size limits of the read (default [`ReadLimits::default`]).
    pub limits: ReadLimits,
    /// Domains of the numeric fields, checked at parse: a record outside them is a rejection
    /// with rule [`crate::rules::OUT_OF_DOMAIN`] (default [`FieldDomains::default`]).
    pub domains: FieldDomains,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            format: None,
            encoding: Encoding::Auto,
            delimiter: b',',
            limits: ReadLimits::default(),
            domains: FieldDomains::default(),
        }
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
    Xlsx { rows: crate::xlsx::SheetRows },
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
    limits: ReadLimits,
    domains: FieldDomains,
    /// Bytes of the file as read (cap `max_input_bytes`).
    raw: Option<Arc<Meter>>,
    /// Bytes of the decoded CSV stream since the current record began (cap `max_line_bytes` plus
    /// the parser's read-ahead): stops one endless record before it is buffered.
    record: Option<Arc<Meter>>,
    /// Records read so far, the header included.
    records: u64,
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
        let raw = Meter::new(opts.limits.max_input_bytes, u64::MAX);
        let mut r: Box<dyn Read + Send> = Box::new(Metered { inner: r, meter: raw.clone() });
        let mut prefix = Vec::with_capacity(SNIFF_LEN as usize);
        (&mut r).take(SNIFF_LEN).read_to_end(&mut prefix).map_err(|e| input_error(e, &raw, &opts.limits))?;
        let truncated = prefix.len() as u64 == SNIFF_LEN;
        let format = format.or(opts.format).unwrap_or_else(|| Format::sniff(&prefix));
        if format == Format::Xlsx {
            let mut all = prefix;
            let cap = opts.limits.max_xlsx_bytes;
            (&mut r).take(cap.saturating_add(1)).read_to_end(&mut all).map_err(|e| input_error(e, &raw, &opts.limits))?;
            return RecordReader::from_xlsx_bytes_with(all, opts);
        }
        check_text(&prefix)?;
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
                let record = Meter::new(u64::MAX, opts.limits.max_line_bytes.saturating_add(CSV_BUFFER as u64));
                let stream = Metered { inner: stream, meter: record.clone() };
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
                    limits: opts.limits.clone(),
                    domains: opts.domains.clone(),
                    raw: Some(raw),
                    record: Some(record),
                    records: 0,
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
                limits: opts.limits.clone(),
                domains: opts.domains.clone(),
                raw: Some(raw),
                record: None,
                records: 0,
            },
            Format::Xlsx => return Err(IoError::XlsxNoSheet), // handled above
        };
        me.read_header()?;
        Ok(me)
    }

    /// Reads an `.xlsx` workbook held in memory with the default [`ReadOptions`]: first sheet,
    /// first non-empty row is the header, fully empty rows are skipped.
    pub fn from_xlsx_bytes(bytes: Vec<u8>) -> Result<RecordReader, IoError> {
        RecordReader::from_xlsx_bytes_with(bytes, &ReadOptions::default())
    }

    /// [`RecordReader::from_xlsx_bytes`] within `opts.limits` (the legacy binary `.xls` format is
    /// refused: it cannot be read within limits).
    pub fn from_xlsx_bytes_with(bytes: Vec<u8>, opts: &ReadOptions) -> Result<RecordReader, IoError> {
        let sheet = crate::xlsx::read_first_sheet(bytes, &opts.limits)?;
        Ok(RecordReader {
            source: Source::Xlsx { rows: sheet.rows },
            format: Format::Xlsx,
            encoding: Encoding::Utf8,
            gbk_fallback: false,
            headers: StringRecord::from(sheet.header),
            header_line: sheet.header_line,
            limits: opts.limits.clone(),
            domains: opts.domains.clone(),
            raw: None,
            record: None,
            records: 1,
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
        let s = match self.format {
            Format::Jsonl => crate::Schema::json(),
            _ => crate::Schema::from_headers(&self.headers)?,
        };
        Ok(s.with_domains(self.domains.clone()))
    }

    /// The claims schema for this file's header.
    pub fn claim_schema(&self) -> Result<crate::ClaimSchema, IoError> {
        let s = match self.format {
            Format::Jsonl => crate::ClaimSchema::json(),
            _ => crate::ClaimSchema::from_headers(&self.headers)?,
        };
        Ok(s.with_domains(self.domains.clone()))
    }

    /// The itemised-charges schema for this file's header.
    pub fn charge_schema(&self) -> Result<crate::ChargeSchema, IoError> {
        let s = match self.format {
            Format::Jsonl => crate::ChargeSchema::json(),
            _ => crate::ChargeSchema::from_headers(&self.headers)?,
        };
        Ok(s.with_domains(self.domains.clone()))
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
                // the first record tells a JSON Lines table from other text (a later line that is
                // not an object is that record's rejection)
                if !row.cells.get(0).is_some_and(|t| t.trim_start().starts_with('{')) {
                    return Err(IoError::NotATable(format!("第 {} 行不是 JSON 对象，文件不是 JSON Lines 表格", row.line)));
                }
                if let Source::Jsonl { pending, .. } = &mut self.source {
                    *pending = Some(row);
                }
            }
            Format::Xlsx => {}
        }
        Ok(())
    }

    /// Reads the next record into `row` (reusing its allocations). `false` at the end. A limit
    /// of [`ReadOptions::limits`] exceeded is an [`IoError::Limit`] for the whole file.
    pub fn read_row(&mut self, row: &mut RawRow) -> Result<bool, IoError> {
        let more = match self.read_row_unchecked(row) {
            Ok(more) => more,
            Err(e) => return Err(self.explain(e)),
        };
        if !more {
            return Ok(false);
        }
        self.records += 1;
        let lim = &self.limits;
        // the header is counted once (CSV, XLSX); JSON Lines' first object is counted twice
        // (read ahead as the "header", then handed out)
        let data_rows = self.records.saturating_sub(1);
        if data_rows > lim.max_rows {
            return Err(exceeded(name::ROWS, lim.max_rows, format!("第 {} 行", row.line)));
        }
        if row.cells.len() as u64 > lim.max_columns {
            return Err(exceeded(name::COLUMNS, lim.max_columns, format!("第 {} 行有 {} 列", row.line, row.cells.len())));
        }
        Ok(true)
    }

    /// Turns an I/O error caused by a tripped meter into the limit it stands for.
    fn explain(&self, e: IoError) -> IoError {
        let line = match &self.source {
            Source::Csv { last, .. } => last.1,
            Source::Jsonl { line, .. } => *line + 1,
            Source::Xlsx { .. } => 0,
        };
        if let Some(raw) = &self.raw {
            if raw.tripped().is_some() {
                return exceeded(name::INPUT_BYTES, self.limits.max_input_bytes, format!("读到第 {line} 行时"));
            }
        }
        if let Some(rec) = &self.record {
            if rec.tripped() == Some(Trip::SinceMark) {
                return exceeded(name::LINE_BYTES, self.limits.max_line_bytes, format!("第 {line} 行起的记录"));
            }
        }
        e
    }

    fn read_row_unchecked(&mut self, row: &mut RawRow) -> Result<bool, IoError> {
        let max_line = self.limits.max_line_bytes;
        match &mut self.source {
            Source::Csv { rdr, scratch, last } => {
                let mut br: ByteRecord = std::mem::take(&mut row.cells).into_byte_record();
                loop {
                    if !rdr.read_byte_record(&mut br)? {
                        row.cells = StringRecord::from_byte_record(br).unwrap_or_default();
                        return Ok(false);
                    }
                    let pos = rdr.position();
                    if let Some(m) = &self.record {
                        m.mark(pos.byte());
                    }
                    let (bytes, lines) = (pos.byte() - last.0, pos.line() - last.1);
                    let line_before = last.1;
                    *last = (pos.byte(), pos.line());
                    if bytes > max_line {
                        return Err(exceeded(name::LINE_BYTES, max_line, format!("第 {line_before} 行起的记录有 {bytes} 字节")));
                    }
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
                    match read_line_bounded(rdr, buf, max_line)? {
                        LineRead::Eof => return Ok(false),
                        LineRead::Line => {}
                        LineRead::TooLong => {
                            let at = format!("第 {} 行超过 {max_line} 字节", *line + 1);
                            return Err(exceeded(name::LINE_BYTES, max_line, at));
                        }
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
            Source::Xlsx { rows } => Ok(rows.next_row(row)),
        }
    }

    /// Fills `batch` with up to `max` records, reusing the `RawRow`s already in it. Returns how
    /// many were read (`batch.len()` afterwards); 0 at the end of the file.
    /// A batch also ends early once its cells hold [`BATCH_BYTES`] of text, so that a batch of
    /// long records stays small.
    pub fn fill_batch(&mut self, batch: &mut Vec<RawRow>, max: usize) -> Result<usize, IoError> {
        let mut n = 0;
        let mut bytes = 0usize;
        while n < max && bytes < BATCH_BYTES {
            if n == batch.len() {
                batch.push(RawRow::default());
            }
            let Some(row) = batch.get_mut(n) else { break };
            if !self.read_row(row)? {
                break;
            }
            bytes += row.cells.as_slice().len();
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

/// Bytes of cell text after which [`RecordReader::fill_batch`] ends a batch early (32 MiB): with
/// `max_line_bytes` records, a batch of 4,096 would otherwise hold gigabytes.
pub const BATCH_BYTES: usize = 32 * 1024 * 1024;

/// The I/O error of reading the input: a tripped byte limit, or the error itself.
fn input_error(e: std::io::Error, raw: &Meter, lim: &ReadLimits) -> IoError {
    if raw.tripped().is_some() {
        return exceeded(name::INPUT_BYTES, lim.max_input_bytes, "读取文件开头时");
    }
    IoError::Io(e)
}

enum LineRead {
    Eof,
    Line,
    TooLong,
}

/// `read_until(b'\n')` that stops, without buffering further, once the line exceeds `max` bytes.
fn read_line_bounded(r: &mut impl BufRead, buf: &mut Vec<u8>, max: u64) -> std::io::Result<LineRead> {
    loop {
        let avail = r.fill_buf()?;
        if avail.is_empty() {
            return Ok(if buf.is_empty() { LineRead::Eof } else { LineRead::Line });
        }
        let (take, done) = match memchr::memchr(b'\n', avail) {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        if (buf.len() + take) as u64 > max.saturating_add(2) {
            // (+2: the line end itself is not content)
            return Ok(LineRead::TooLong);
        }
        buf.extend_from_slice(&avail[..take]);
        r.consume(take);
        if done {
            return Ok(LineRead::Line);
        }
    }
}

/// Known binary formats by their first bytes (a renamed file is not a table).
const MAGIC: &[(&[u8], &str)] = &[
    (b"\x89PNG", "PNG 图片"),
    (b"\xFF\xD8\xFF", "JPEG 图片"),
    (b"GIF8", "GIF 图片"),
    (b"%PDF", "PDF 文档"),
    (b"\x7FELF", "ELF 可执行文件"),
    (b"\x1F\x8B", "gzip 压缩包"),
    (b"PK\x03\x04", "zip 压缩包（若为 Excel 文件，请用 .xlsx 扩展名上传）"),
    (b"Rar!", "RAR 压缩包"),
    (b"7z\xBC\xAF", "7z 压缩包"),
    (b"\xD0\xCF\x11\xE0", "旧版 Office 文档（.xls/.doc）"),
];

/// Refuses input that is not text: a known binary signature, or NUL bytes in the first line (a
/// UTF-16 file, which has them, must start with its BOM).
fn check_text(prefix: &[u8]) -> Result<(), IoError> {
    if let Some((_, what)) = MAGIC.iter().find(|(m, _)| prefix.starts_with(m)) {
        return Err(IoError::NotATable(format!("文件内容是{what}，不是 CSV 或 JSON Lines 文本")));
    }
    if prefix.starts_with(b"\xFF\xFE") || prefix.starts_with(b"\xFE\xFF") {
        return Ok(());
    }
    let first_line = memchr::memchr(b'\n', prefix).map_or(prefix, |i| &prefix[..i]);
    if memchr::memchr(0, first_line).is_some() {
        return Err(IoError::NotATable("第 1 行含有 NUL 字节（二进制内容），不是文本表格".into()));
    }
    Ok(())
}
