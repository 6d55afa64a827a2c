//! Stage 2 of the import: a [`Schema`] (built once from the header, `Send + Sync`) turns a
//! [`RawRow`] into a [`SettlementList`] or a [`Rejection`]. [`ClaimSchema`] does the same for
//! outpatient/pharmacy claims.
//!
//! Structural rules applied here (content quality control belongs to the QC crate):
//! the record's encoding ([`rules::ENCODING`]), the cell count ([`rules::CELL_COUNT`]), list_id
//! present ([`rules::LIST_ID_MISSING`]), every field's text readable (the `FieldError` rule),
//! every numeric field inside its domain ([`rules::OUT_OF_DOMAIN`], [`FieldDomains`]),
//! discharge not before admission ([`rules::DISCHARGE_BEFORE_ADMIT`]), and for JSON Lines the line
//! being an object ([`rules::JSON_NOT_OBJECT`]) with scalar values ([`rules::JSON_VALUE`]) and no
//! field named twice ([`rules::JSON_DUPLICATE_FIELD`]). One record gives exactly one result; when
//! several rules fail, the first in that order is reported (for unreadable fields, the first
//! column, with a count of the others).

use crate::error::{rules, IoError, Rejection};
use crate::reader::RawRow;
use casemix_model::{
    ChargeItem, Claim, DomainViolation, Field, FieldDomains, FieldError, SettlementList, CHARGE_COLUMNS, CLAIM_COLUMNS,
};
use csv::StringRecord;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Field(Field),
    /// `diagnoses` / `procedures`: split here with an exact capacity (same result as `set_field`).
    CodeList(Field),
    /// Index into `extra_names`.
    Extra(usize),
}

#[derive(Debug, Clone)]
enum Kind {
    Table { cols: Vec<Col>, extra_names: Vec<String>, list_id_col: Option<usize> },
    Json,
}

/// How to read settlement lists from the rows of one file; resolve header → field once, then
/// [`Schema::parse`] each row (from any thread).
#[derive(Debug, Clone)]
pub struct Schema {
    headers: StringRecord,
    kind: Kind,
    keep_extra: bool,
    domains: FieldDomains,
}

/// A header that names none of the record's id columns is not a table of that kind: refused as a
/// whole (otherwise every row would become a rejection and a binary file an "upload").
fn require_id_column(headers: &StringRecord, has_id: bool, what: &str, id: &str) -> Result<(), IoError> {
    if has_id {
        return Ok(());
    }
    let shown: Vec<String> = headers.iter().take(5).map(|h| h.trim().chars().take(20).collect()).collect();
    let shown = if shown.iter().all(|h| h.is_empty()) { "（空）".to_string() } else { shown.join("，") };
    Err(IoError::NotATable(format!("表头没有{id}列，无法识别为{what}；表头前几列为：{shown}")))
}

/// The rejection of the first domain violation of a record (and the count of the others).
fn domain_rejection(id_key: &str, line: u64, id: &str, v: &[DomainViolation]) -> Option<Rejection> {
    let first = v.first()?;
    let what = if v.len() > 1 {
        format!("{}（另有 {} 个字段超出允许范围）", first.message, v.len() - 1)
    } else {
        first.message.clone()
    };
    Some(Rejection::with_id_key(id_key, line, id, &first.field, rules::OUT_OF_DOMAIN, &what))
}

fn resolve_headers<T: Copy + PartialEq>(
    headers: &StringRecord,
    resolve: impl Fn(&str) -> Option<T>,
    describe: impl Fn(T) -> (&'static str, &'static str),
) -> Result<Vec<Option<T>>, IoError> {
    let mut out: Vec<Option<T>> = Vec::with_capacity(headers.len());
    for (i, h) in headers.iter().enumerate() {
        let r = resolve(h);
        if let Some(t) = r {
            if let Some(j) = out.iter().position(|o| *o == Some(t)) {
                let (key, label_zh) = describe(t);
                return Err(IoError::DuplicateColumn {
                    col: i + 1,
                    header: h.trim().to_string(),
                    first_col: j + 1,
                    first_header: headers[j].trim().to_string(),
                    key: key.to_string(),
                    label_zh: label_zh.to_string(),
                });
            }
        }
        out.push(r);
    }
    Ok(out)
}

impl Schema {
    /// Resolves a header row (English keys, Chinese labels or `id`); unknown columns become
    /// extra columns, kept in [`SettlementList::extra`]. Two cells naming the same field are a
    /// file-level error.
    pub fn from_headers(headers: &StringRecord) -> Result<Schema, IoError> {
        let resolved = resolve_headers(headers, Field::from_header, |f| (f.key(), f.label_zh()))?;
        let mut extra_names = Vec::new();
        let cols = resolved
            .iter()
            .enumerate()
            .map(|(i, r)| match r {
                Some(f @ (Field::Diagnoses | Field::Procedures)) => Col::CodeList(*f),
                Some(f) => Col::Field(*f),
                None => {
                    extra_names.push(headers[i].trim_start_matches('\u{feff}').trim().to_string());
                    Col::Extra(extra_names.len() - 1)
                }
            })
            .collect();
        let list_id_col = resolved.iter().position(|r| *r == Some(Field::ListId));
        require_id_column(headers, list_id_col.is_some(), "结算清单表", "清单流水号(list_id/清单流水号/id)")?;
        Ok(Schema {
            headers: headers.clone(),
            kind: Kind::Table { cols, extra_names, list_id_col },
            keep_extra: true,
            domains: FieldDomains::default(),
        })
    }

    /// The field domains checked at parse (default [`FieldDomains::default`]).
    pub fn with_domains(mut self, domains: FieldDomains) -> Schema {
        self.domains = domains;
        self
    }

    /// Whether unknown columns are copied into [`SettlementList::extra`] (default `true`). A caller
    /// that passes the input columns through from [`RawRow::cells`] itself may turn this off and
    /// save two allocations per extra cell.
    pub fn with_extra(mut self, keep: bool) -> Schema {
        self.keep_extra = keep;
        self
    }

    /// The schema of JSON Lines input: each line is an object whose keys are headers.
    pub fn json() -> Schema {
        Schema { headers: StringRecord::new(), kind: Kind::Json, keep_extra: true, domains: FieldDomains::default() }
    }

    /// The header row this schema was built from (empty for JSON Lines).
    pub fn headers(&self) -> &StringRecord {
        &self.headers
    }

    pub fn is_json(&self) -> bool {
        matches!(self.kind, Kind::Json)
    }

    /// Column index (0-based) of a field in the header, if present.
    pub fn column_of(&self, field: Field) -> Option<usize> {
        match &self.kind {
            Kind::Table { cols, .. } => cols.iter().position(|c| *c == Col::Field(field) || *c == Col::CodeList(field)),
            Kind::Json => None,
        }
    }

    /// The field each header column maps to (`None` = extra column).
    pub fn column_fields(&self) -> Vec<Option<Field>> {
        match &self.kind {
            Kind::Table { cols, .. } => cols
                .iter()
                .map(|c| match c {
                    Col::Field(f) | Col::CodeList(f) => Some(*f),
                    Col::Extra(_) => None,
                })
                .collect(),
            Kind::Json => Vec::new(),
        }
    }

    /// The record id of a raw table row as written (trimmed), before any checks; "" if absent.
    pub fn raw_list_id<'r>(&self, row: &'r RawRow) -> &'r str {
        match &self.kind {
            Kind::Table { list_id_col: Some(i), .. } => row.cells.get(*i).map(str::trim).unwrap_or(""),
            _ => "",
        }
    }

    /// Reads one record. Never panics; exactly one of list or rejection.
    pub fn parse(&self, row: &RawRow) -> Result<SettlementList, Rejection> {
        match &self.kind {
            Kind::Table { cols, extra_names, list_id_col } => {
                let id = list_id_col.and_then(|i| row.cells.get(i)).map(str::trim).unwrap_or("");
                if row.bad_encoding {
                    return Err(encoding_rejection("list_id", row.line, id));
                }
                if row.cells.len() != cols.len() {
                    return Err(Rejection::new(
                        row.line,
                        id,
                        "",
                        rules::CELL_COUNT,
                        &format!("本行有 {} 个单元格，表头有 {} 列", row.cells.len(), cols.len()),
                    ));
                }
                let mut l = SettlementList::default();
                let keep_extra = self.keep_extra && !extra_names.is_empty();
                if keep_extra {
                    l.extra.reserve_exact(extra_names.len());
                }
                let mut errs = FieldErrors::default();
                for (cell, col) in row.cells.iter().zip(cols) {
                    match *col {
                        Col::Field(f) => {
                            if !cell.is_empty() {
                                if let Err(e) = l.set_field(f, cell) {
                                    errs.push(e);
                                }
                            }
                        }
                        Col::CodeList(f) => {
                            let v = if f == Field::Diagnoses { &mut l.diagnoses } else { &mut l.procedures };
                            split_codes(cell, v);
                        }
                        Col::Extra(j) => {
                            if keep_extra {
                                l.extra.push((extra_names[j].clone(), cell.to_string()))
                            }
                        }
                    }
                }
                finish(l, row.line, errs, &self.domains)
            }
            Kind::Json => parse_json_list(row, self.keep_extra, &self.domains),
        }
    }
}

/// `a|b|c` → codes, each trimmed; an empty (all-space) cell is no code at all. Same result as
/// `SettlementList::set_field` for a code list.
fn split_codes(cell: &str, out: &mut Vec<String>) {
    if cell.trim().is_empty() {
        return;
    }
    out.reserve_exact(cell.bytes().filter(|b| *b == b'|').count() + 1);
    out.extend(cell.split('|').map(|c| c.trim().to_string()));
}

#[derive(Default)]
struct FieldErrors {
    first: Option<FieldError>,
    more: usize,
}

impl FieldErrors {
    fn push(&mut self, e: FieldError) {
        if self.first.is_none() {
            self.first = Some(e);
        } else {
            self.more += 1;
        }
    }
}

fn encoding_rejection(id_key: &str, line: u64, id: &str) -> Rejection {
    Rejection::with_id_key(
        id_key,
        line,
        id,
        "",
        rules::ENCODING,
        "含有无法识别的字符（既不是 UTF-8 也不是 GBK 编码）",
    )
}

fn finish(l: SettlementList, line: u64, errs: FieldErrors, domains: &FieldDomains) -> Result<SettlementList, Rejection> {
    if l.list_id.is_empty() {
        return Err(Rejection::new(line, "", Field::ListId.key(), rules::LIST_ID_MISSING, "清单流水号(list_id)为空"));
    }
    if let Some(e) = errs.first {
        let what = if errs.more > 0 {
            Cow::Owned(format!("{}（另有 {} 个字段无法读取）", e.message, errs.more))
        } else {
            Cow::Borrowed(e.message.as_str())
        };
        return Err(Rejection::new(line, &l.list_id, e.field.key(), e.rule, &what));
    }
    if let Some(r) = domain_rejection("list_id", line, &l.list_id, &l.domain_violations(domains)) {
        return Err(r);
    }
    if let (Some(a), Some(d)) = (l.admit_time, l.discharge_time) {
        if d < a {
            return Err(Rejection::new(
                line,
                &l.list_id,
                Field::DischargeTime.key(),
                rules::DISCHARGE_BEFORE_ADMIT,
                "出院时间早于入院时间",
            ));
        }
    }
    Ok(l)
}

/// A JSON object with its keys in file order (serde_json's map would sort them).
struct JsonObject(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for JsonObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = JsonObject;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<JsonObject, A::Error> {
                let mut v = Vec::with_capacity(m.size_hint().unwrap_or(16));
                while let Some(e) = m.next_entry::<String, Value>()? {
                    v.push(e);
                }
                Ok(JsonObject(v))
            }
        }
        d.deserialize_map(V)
    }
}

/// The cell text of a JSON value; `None` for values that cannot be a cell (nested objects).
/// Arrays of scalars are joined with `|`, the list separator of the canonical form.
fn json_text(v: &Value) -> Option<Cow<'_, str>> {
    Some(match v {
        Value::Null => Cow::Borrowed(""),
        Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        Value::Number(n) => Cow::Owned(n.to_string()),
        Value::String(s) => Cow::Borrowed(s.as_str()),
        Value::Array(a) => {
            let mut out = String::new();
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push('|');
                }
                match x {
                    Value::Array(_) | Value::Object(_) => return None,
                    x => out.push_str(&json_text(x)?),
                }
            }
            Cow::Owned(out)
        }
        Value::Object(_) => return None,
    })
}

/// Reads the JSON text of a row as an ordered object, or a rejection naming the problem.
fn json_object(id_key: &str, row: &RawRow) -> Result<JsonObject, Rejection> {
    if row.bad_encoding {
        return Err(encoding_rejection(id_key, row.line, ""));
    }
    let text = row.cells.get(0).unwrap_or("");
    serde_json::from_str::<JsonObject>(text).map_err(|e| {
        let what = if text.trim_start().starts_with('{') {
            format!("不是有效的 JSON 对象（第 {} 列附近语法错误）", e.column())
        } else {
            "不是 JSON 对象".to_string()
        };
        Rejection::with_id_key(id_key, row.line, "", "", rules::JSON_NOT_OBJECT, &what)
    })
}

fn parse_json_list(row: &RawRow, keep_extra: bool, domains: &FieldDomains) -> Result<SettlementList, Rejection> {
    let obj = json_object("list_id", row)?;
    let id_text = obj
        .0
        .iter()
        .find(|(k, _)| Field::from_header(k) == Some(Field::ListId))
        .and_then(|(_, v)| json_text(v))
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let mut l = SettlementList::default();
    let mut seen: u128 = 0;
    let mut errs = FieldErrors::default();
    for (k, v) in &obj.0 {
        let field = Field::from_header(k);
        let Some(text) = json_text(v) else {
            let key = field.map(|f| f.key()).unwrap_or(k.as_str());
            return Err(Rejection::new(
                row.line,
                &id_text,
                key,
                rules::JSON_VALUE,
                &format!("字段“{k}”的取值是嵌套的对象或数组，不能作为单元格"),
            ));
        };
        match field {
            Some(f) => {
                let bit = 1u128 << (f as usize);
                if seen & bit != 0 {
                    return Err(Rejection::new(
                        row.line,
                        &id_text,
                        f.key(),
                        rules::JSON_DUPLICATE_FIELD,
                        &format!("字段 {}（{}）出现多次", f.key(), f.label_zh()),
                    ));
                }
                seen |= bit;
                if !text.is_empty() {
                    if let Err(e) = l.set_field(f, &text) {
                        errs.push(e);
                    }
                }
            }
            None => {
                if keep_extra {
                    l.extra.push((k.clone(), text.into_owned()))
                }
            }
        }
    }
    finish(l, row.line, errs, domains)
}

#[derive(Debug, Clone)]
enum ClaimKind {
    /// Claim column index per header column (`None` = ignored: claims have no extra columns).
    Table { cols: Vec<Option<usize>>, id_col: Option<usize> },
    Json,
}

impl ClaimKind {
    /// Walks one row of a column-registry record (claims, charges): the table cells or the JSON
    /// object's keys, calling `set(column, text)` for each known column. Applies the structural
    /// rules both share: undecodable bytes, cell count, nested JSON values, duplicate JSON keys;
    /// rejections name the record by `id_key`.
    fn each_cell(
        &self,
        row: &RawRow,
        id_key: &str,
        columns: &[(&str, &str)],
        column_index: fn(&str) -> Option<usize>,
        mut set: impl FnMut(usize, &str),
    ) -> Result<(), Rejection> {
        match self {
            ClaimKind::Table { cols, id_col } => {
                let id = id_col.and_then(|i| row.cells.get(i)).map(str::trim).unwrap_or("");
                if row.bad_encoding {
                    return Err(encoding_rejection(id_key, row.line, id));
                }
                if row.cells.len() != cols.len() {
                    return Err(Rejection::with_id_key(
                        id_key,
                        row.line,
                        id,
                        "",
                        rules::CELL_COUNT,
                        &format!("本行有 {} 个单元格，表头有 {} 列", row.cells.len(), cols.len()),
                    ));
                }
                for (cell, col) in row.cells.iter().zip(cols) {
                    if let Some(i) = col {
                        set(*i, cell);
                    }
                }
            }
            ClaimKind::Json => {
                let obj = json_object(id_key, row)?;
                let mut seen = 0u64;
                for (k, v) in &obj.0 {
                    let Some(i) = column_index(k) else { continue };
                    let Some(text) = json_text(v) else {
                        return Err(Rejection::with_id_key(
                            id_key,
                            row.line,
                            "",
                            columns[i].0,
                            rules::JSON_VALUE,
                            &format!("字段“{k}”的取值是嵌套的对象或数组，不能作为单元格"),
                        ));
                    };
                    if seen & (1 << i) != 0 {
                        return Err(Rejection::with_id_key(
                            id_key,
                            row.line,
                            "",
                            columns[i].0,
                            rules::JSON_DUPLICATE_FIELD,
                            &format!("字段 {}（{}）出现多次", columns[i].0, columns[i].1),
                        ));
                    }
                    seen |= 1 << i;
                    set(i, &text);
                }
            }
        }
        Ok(())
    }
}

/// How to read outpatient/pharmacy claims ([`Claim`]) from the rows of one file. Headers are
/// resolved with [`Claim::column_index`]; unknown columns are ignored (a `Claim` has no extras).
/// Rejection messages name the record as `claim_id=…`.
#[derive(Debug, Clone)]
pub struct ClaimSchema {
    headers: StringRecord,
    kind: ClaimKind,
    domains: FieldDomains,
}

const CLAIM_ID: usize = 0;

impl ClaimSchema {
    pub fn from_headers(headers: &StringRecord) -> Result<ClaimSchema, IoError> {
        let cols = resolve_headers(headers, Claim::column_index, |i| CLAIM_COLUMNS[i])?;
        let id_col = cols.iter().position(|c| *c == Some(CLAIM_ID));
        require_id_column(headers, id_col.is_some(), "门诊/药店结算表", "结算流水号(claim_id/结算流水号)")?;
        Ok(ClaimSchema { headers: headers.clone(), kind: ClaimKind::Table { cols, id_col }, domains: FieldDomains::default() })
    }

    pub fn json() -> ClaimSchema {
        ClaimSchema { headers: StringRecord::new(), kind: ClaimKind::Json, domains: FieldDomains::default() }
    }

    /// The field domains checked at parse (default [`FieldDomains::default`]).
    pub fn with_domains(mut self, domains: FieldDomains) -> ClaimSchema {
        self.domains = domains;
        self
    }

    pub fn headers(&self) -> &StringRecord {
        &self.headers
    }

    /// Reads one claim. Never panics; exactly one of claim or rejection.
    pub fn parse(&self, row: &RawRow) -> Result<Claim, Rejection> {
        let mut c = Claim::default();
        let mut first: Option<(usize, String)> = None;
        let mut more = 0usize;
        self.kind.each_cell(row, "claim_id", CLAIM_COLUMNS, Claim::column_index, |i, s| {
            if s.is_empty() {
                return;
            }
            if let Err(m) = c.set_column(i, s) {
                if first.is_none() {
                    first = Some((i, m));
                } else {
                    more += 1;
                }
            }
        })?;
        if c.claim_id.is_empty() {
            return Err(Rejection::with_id_key(
                "claim_id",
                row.line,
                "",
                "claim_id",
                rules::CLAIM_ID_MISSING,
                "结算流水号(claim_id)为空",
            ));
        }
        if let Some((i, m)) = first {
            let what = if more > 0 { format!("{m}（另有 {more} 个字段无法读取）") } else { m };
            return Err(Rejection::with_id_key(
                "claim_id",
                row.line,
                &c.claim_id,
                CLAIM_COLUMNS.get(i).map_or("", |c| c.0),
                rules::CLAIM_FIELD,
                &what,
            ));
        }
        if let Some(r) = domain_rejection("claim_id", row.line, &c.claim_id, &c.domain_violations(&self.domains)) {
            return Err(r);
        }
        Ok(c)
    }
}

/// How to read itemised charges ([`ChargeItem`], 费用明细) from the rows of one file. Headers are
/// resolved with [`ChargeItem::column_index`]; unknown columns are ignored. Rejection messages
/// name the record by its `list_id` (a stay has many charge rows; the line tells them apart).
#[derive(Debug, Clone)]
pub struct ChargeSchema {
    headers: StringRecord,
    kind: ClaimKind,
    domains: FieldDomains,
}

const CHARGE_LIST_ID: usize = 0;

impl ChargeSchema {
    pub fn from_headers(headers: &StringRecord) -> Result<ChargeSchema, IoError> {
        let cols = resolve_headers(headers, ChargeItem::column_index, |i| CHARGE_COLUMNS[i])?;
        let id_col = cols.iter().position(|c| *c == Some(CHARGE_LIST_ID));
        require_id_column(headers, id_col.is_some(), "费用明细表", "清单流水号(list_id/清单流水号)")?;
        Ok(ChargeSchema { headers: headers.clone(), kind: ClaimKind::Table { cols, id_col }, domains: FieldDomains::default() })
    }

    pub fn json() -> ChargeSchema {
        ChargeSchema { headers: StringRecord::new(), kind: ClaimKind::Json, domains: FieldDomains::default() }
    }

    /// The field domains checked at parse (default [`FieldDomains::default`]).
    pub fn with_domains(mut self, domains: FieldDomains) -> ChargeSchema {
        self.domains = domains;
        self
    }

    pub fn headers(&self) -> &StringRecord {
        &self.headers
    }

    /// Reads one charge item. Never panics; exactly one of item or rejection. A missing
    /// `list_id`, `item_code`, `category` or `amount` is a rejection (the item cannot be placed).
    pub fn parse(&self, row: &RawRow) -> Result<ChargeItem, Rejection> {
        let mut c = ChargeItem::default();
        let mut present = 0u64;
        let mut first: Option<(usize, String)> = None;
        let mut more = 0usize;
        self.kind.each_cell(row, "list_id", CHARGE_COLUMNS, ChargeItem::column_index, |i, s| {
            if s.trim().is_empty() {
                return;
            }
            present |= 1 << i;
            if let Err(m) = c.set_column(i, s) {
                if first.is_none() {
                    first = Some((i, m));
                } else {
                    more += 1;
                }
            }
        })?;
        if c.list_id.is_empty() {
            return Err(Rejection::new(row.line, "", "list_id", rules::LIST_ID_MISSING, "清单流水号(list_id)为空"));
        }
        if let Some((i, m)) = first {
            let what = if more > 0 { format!("{m}（另有 {more} 个字段无法读取）") } else { m };
            return Err(Rejection::new(row.line, &c.list_id, CHARGE_COLUMNS.get(i).map_or("", |c| c.0), rules::CHARGE_FIELD, &what));
        }
        for i in [1usize, 3, 5] {
            if present & (1 << i) == 0 {
                let (k, zh) = CHARGE_COLUMNS.get(i).copied().unwrap_or(("", ""));
                return Err(Rejection::new(row.line, &c.list_id, k, rules::CHARGE_FIELD_MISSING, &format!("{zh}({k})为空")));
            }
        }
        if let Some(r) = domain_rejection("list_id", row.line, &c.list_id, &c.domain_violations(&self.domains)) {
            return Err(r);
        }
        Ok(c)
    }
}
