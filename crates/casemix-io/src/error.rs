//! File-level errors ([`IoError`]) and record-level rejections ([`Rejection`]).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

/// A file-level error: the file as a whole cannot be read (or written). Bad *records* are never
/// an `IoError`; they become [`Rejection`]s and the batch goes on.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    #[error("无法打开文件 {}：{source}", path.display())]
    Open { path: PathBuf, source: std::io::Error },
    #[error("读写失败：{0}")]
    Io(#[from] std::io::Error),
    #[error("文件为空（没有表头行或记录）")]
    Empty,
    /// Two header cells resolve to the same known column (e.g. `sex` and `性别`).
    #[error("表头第 {col} 列“{header}”与第 {first_col} 列“{first_header}”重复，都对应字段 {key}（{label_zh}）")]
    DuplicateColumn {
        /// 1-based column of the later duplicate.
        col: usize,
        header: String,
        /// 1-based column of the first occurrence.
        first_col: usize,
        first_header: String,
        key: String,
        label_zh: String,
    },
    #[error("Excel 文件无法读取：{0}")]
    XlsxRead(String),
    #[error("Excel 文件没有工作表")]
    XlsxNoSheet,
    #[error("Excel 文件无法写入：{0}")]
    XlsxWrite(String),
    #[error("CSV 读写失败：{0}")]
    Csv(String),
    /// A [`crate::ReadLimits`] limit was exceeded; the whole file is refused.
    #[error("文件超出读取上限 {limit}（{label_zh}）= {max}：{at}")]
    Limit {
        /// The limit's field name in [`crate::ReadLimits`] (`max_columns`).
        limit: &'static str,
        /// What it limits, in Chinese (`每行列数`).
        label_zh: &'static str,
        /// The limit's value.
        max: u64,
        /// Where it was hit (`工作表“Sheet1”第 1048576 行第 16384 列（XFD1048576）`).
        at: String,
    },
    /// The file is not a table of the expected kind (binary content, no recognised header);
    /// the whole file is refused.
    #[error("文件不是可导入的数据表：{0}")]
    NotATable(String),
}

impl From<csv::Error> for IoError {
    fn from(e: csv::Error) -> Self {
        match e.into_kind() {
            csv::ErrorKind::Io(io) => IoError::Io(io),
            other => IoError::Csv(format!("{other:?}")),
        }
    }
}

/// Stable rule ids of the structural rules the importer applies itself. Field-text rules come
/// from [`casemix_model::FieldError::rule`] (`integer`, `datetime`, `amount`, `amount_decimals`,
/// `amount_range`, `hours`).
pub mod rules {
    /// A CSV/XLSX row has a different number of cells than the header.
    pub const CELL_COUNT: &str = "cell_count";
    /// `list_id` (清单流水号) is missing or empty.
    pub const LIST_ID_MISSING: &str = "list_id_missing";
    /// `discharge_time` is before `admit_time`.
    pub const DISCHARGE_BEFORE_ADMIT: &str = "discharge_before_admit";
    /// A JSON line is not a JSON object (or not valid JSON at all).
    pub const JSON_NOT_OBJECT: &str = "json_not_object";
    /// A JSON value is a nested object/array that cannot be a cell.
    pub const JSON_VALUE: &str = "json_value";
    /// A JSON object names the same field twice (e.g. `sex` and `性别`).
    pub const JSON_DUPLICATE_FIELD: &str = "json_duplicate_field";
    /// The record's bytes are neither UTF-8 nor GBK.
    pub const ENCODING: &str = "encoding";
    /// `claim_id` (结算流水号) of a claim is missing or empty.
    pub const CLAIM_ID_MISSING: &str = "claim_id_missing";
    /// A claim column's text cannot be read ([`casemix_model::Claim::set_column`]).
    pub const CLAIM_FIELD: &str = "claim_field";
    /// An itemised charge's column cannot be read ([`casemix_model::ChargeItem::set_column`]).
    pub const CHARGE_FIELD: &str = "charge_field";
    /// An itemised charge lacks its item code, category or amount.
    pub const CHARGE_FIELD_MISSING: &str = "charge_field_missing";
    /// A numeric field is outside its [`casemix_model::FieldDomains`] range
    /// ([`casemix_model::DomainViolation::RULE`]).
    pub const OUT_OF_DOMAIN: &str = casemix_model::DomainViolation::RULE;
}

/// One input record that did not become a settlement list (or claim), with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// 1-based physical line (CSV, JSONL) or sheet row (XLSX) where the record starts; the
    /// header is line 1.
    pub line: u64,
    /// The record's id as far as it could be read (`list_id`, or `claim_id` for claims); may be empty.
    pub list_id: String,
    /// English key of the offending field; empty when the whole record is concerned.
    pub field: String,
    /// Stable rule id (see [`rules`]).
    pub rule: String,
    /// Chinese message, `第 N 行 list_id=…：…`.
    pub message: String,
}

impl Rejection {
    /// Builds a rejection of a settlement list; `what` is the Chinese reason.
    pub fn new(line: u64, list_id: &str, field: &str, rule: &str, what: &str) -> Rejection {
        Rejection::with_id_key("list_id", line, list_id, field, rule, what)
    }

    pub(crate) fn with_id_key(id_key: &str, line: u64, id: &str, field: &str, rule: &str, what: &str) -> Rejection {
        Rejection {
            line,
            list_id: id.to_string(),
            field: field.to_string(),
            rule: rule.to_string(),
            message: format!("第 {line} 行 {id_key}={id}：{what}"),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
