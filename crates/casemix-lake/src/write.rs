//! Writing partitions: `root/region=<r>/year=<y>/month=<m>/cases.parquet`, replaced atomically.
//!
//! A partition is written to a hidden temporary file in its own directory (`.cases.parquet.<pid>.<n>.tmp`),
//! fsynced, renamed over `cases.parquet`, and the directory is fsynced. A reader therefore sees either
//! the old file or the new one, never half of one; a writer that dies leaves only a temporary file,
//! which the reader never lists (the listing table reads `*.parquet` files only).

use crate::{CaseRow, LakeError};
use arrow::array::{ArrayRef, BooleanArray, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The file name of every partition.
pub const FILE_NAME: &str = "cases.parquet";

/// The hive partition columns, in path order, with their table types.
pub fn partition_cols() -> Vec<(String, DataType)> {
    vec![
        ("region".into(), DataType::Utf8),
        ("year".into(), DataType::Int32),
        ("month".into(), DataType::Int32),
    ]
}

/// Columns stored in the Parquet files (everything but the partition keys), in `CaseRow` order.
const FILE_COLUMNS: &[(&str, Kind)] = &[
    ("list_id", Kind::Str),
    ("hospital_code", Kind::Str),
    ("hospital_name", Kind::Str),
    ("tier", Kind::Str),
    ("department", Kind::Str),
    ("sex", Kind::Int),
    ("age_years", Kind::Int),
    ("admit_date", Kind::Str),
    ("discharge_date", Kind::Str),
    ("los_days", Kind::Int),
    ("leaving_type", Kind::Int),
    ("death", Kind::Bool),
    ("group_status", Kind::Str),
    ("mdc", Kind::Str),
    ("adrg", Kind::Str),
    ("drg", Kind::Str),
    ("drg_name", Kind::Str),
    ("weight_units", Kind::Int),
    ("points_units", Kind::Int),
    ("method", Kind::Str),
    ("outlier", Kind::Str),
    ("total_cost_fen", Kind::Int),
    ("selfpay_fen", Kind::Int),
    ("personal_pay_fen", Kind::Int),
    ("fund_pay_fen", Kind::Int),
    ("payment_fen", Kind::Int),
    ("qc_errors", Kind::Int),
    ("qc_warnings", Kind::Int),
    ("flags", Kind::Int),
    ("flag_rules", Kind::Str),
    ("flag_amount_fen", Kind::Int),
    ("low_risk", Kind::Bool),
];

#[derive(Clone, Copy)]
enum Kind {
    Str,
    Int,
    Bool,
}

/// Arrow schema of the Parquet files (no partition columns).
pub fn file_schema() -> SchemaRef {
    Arc::new(Schema::new(
        FILE_COLUMNS
            .iter()
            .map(|(name, kind)| {
                let t = match kind {
                    Kind::Str => DataType::Utf8,
                    Kind::Int => DataType::Int64,
                    Kind::Bool => DataType::Boolean,
                };
                Field::new(*name, t, false)
            })
            .collect::<Vec<_>>(),
    ))
}

/// The group statuses a row may carry.
pub const GROUP_STATUSES: [&str; 3] = ["grouped", "ambiguous", "ungrouped"];

/// Checks one row before it is written; the error names the record, the field and the rule.
fn check_row(r: &CaseRow, region: &str, year: i32, month: u32) -> Result<(), LakeError> {
    let bad = |field: &'static str, value: String, rule: &'static str| LakeError::Row {
        list_id: r.list_id.clone(),
        field,
        value,
        rule,
    };
    if r.region != region {
        return Err(bad(
            "region",
            r.region.clone(),
            "行的统筹区与所写分区不一致",
        ));
    }
    if r.year != year {
        return Err(bad(
            "year",
            r.year.to_string(),
            "行的出院年份与所写分区不一致",
        ));
    }
    if r.month != month {
        return Err(bad(
            "month",
            r.month.to_string(),
            "行的出院月份与所写分区不一致",
        ));
    }
    if r.list_id.is_empty() {
        return Err(bad("list_id", String::new(), "结算清单号不能为空"));
    }
    if r.hospital_code.is_empty() {
        return Err(bad(
            "hospital_code",
            String::new(),
            "定点医药机构编号不能为空",
        ));
    }
    if !GROUP_STATUSES.contains(&r.group_status.as_str()) {
        return Err(bad(
            "group_status",
            r.group_status.clone(),
            "入组状态须为 grouped、ambiguous 或 ungrouped",
        ));
    }
    if r.group_status == "grouped" && r.drg.is_empty() {
        return Err(bad("drg", String::new(), "已入组病例的病组编码不能为空"));
    }
    Ok(())
}

/// The rows as one Arrow record batch with [`file_schema`].
pub fn to_batch(rows: &[CaseRow]) -> Result<RecordBatch, LakeError> {
    let s = |f: fn(&CaseRow) -> &str| {
        Arc::new(StringArray::from_iter_values(rows.iter().map(f))) as ArrayRef
    };
    let i = |f: fn(&CaseRow) -> i64| {
        Arc::new(Int64Array::from_iter_values(rows.iter().map(f))) as ArrayRef
    };
    let b = |f: fn(&CaseRow) -> bool| {
        Arc::new(BooleanArray::from(rows.iter().map(f).collect::<Vec<_>>())) as ArrayRef
    };
    let columns: Vec<ArrayRef> = vec![
        s(|r| &r.list_id),
        s(|r| &r.hospital_code),
        s(|r| &r.hospital_name),
        s(|r| &r.tier),
        s(|r| &r.department),
        i(|r| r.sex),
        i(|r| r.age_years),
        s(|r| &r.admit_date),
        s(|r| &r.discharge_date),
        i(|r| r.los_days),
        i(|r| r.leaving_type),
        b(|r| r.death),
        s(|r| &r.group_status),
        s(|r| &r.mdc),
        s(|r| &r.adrg),
        s(|r| &r.drg),
        s(|r| &r.drg_name),
        i(|r| r.weight_units),
        i(|r| r.points_units),
        s(|r| &r.method),
        s(|r| &r.outlier),
        i(|r| r.total_cost_fen),
        i(|r| r.selfpay_fen),
        i(|r| r.personal_pay_fen),
        i(|r| r.fund_pay_fen),
        i(|r| r.payment_fen),
        i(|r| r.qc_errors),
        i(|r| r.qc_warnings),
        i(|r| r.flags),
        s(|r| &r.flag_rules),
        i(|r| r.flag_amount_fen),
        b(|r| r.low_risk),
    ];
    Ok(RecordBatch::try_new(file_schema(), columns)?)
}

/// The directory of one partition.
pub fn partition_dir(root: &Path, region: &str, year: i32, month: u32) -> PathBuf {
    root.join(format!("region={region}"))
        .join(format!("year={year}"))
        .join(format!("month={month}"))
}

static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// Rows per Parquet row group: large enough for fast scans, small enough to bound writer memory.
const ROW_GROUP_ROWS: usize = 64 * 1024;

/// Synchronous body of [`write_partition`] (runs on the blocking pool).
pub(crate) fn write_partition_blocking(
    root: &Path,
    region: &str,
    year: i32,
    month: u32,
    rows: &[CaseRow],
) -> Result<PathBuf, LakeError> {
    crate::period::validate_code("region", region)?;
    crate::Period::new(year, month)?;
    for r in rows {
        check_row(r, region, year, month)?;
    }
    let dir = partition_dir(root, region, year, month);
    std::fs::create_dir_all(&dir).map_err(|e| LakeError::io(&dir, e))?;
    let seq = TEMP_SEQ.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{FILE_NAME}.{}.{seq}.tmp", std::process::id()));
    let target = dir.join(FILE_NAME);
    let result = (|| {
        let file = std::fs::File::create(&tmp).map_err(|e| LakeError::io(&tmp, e))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .build();
        let mut writer = ArrowWriter::try_new(file, file_schema(), Some(props))?;
        for chunk in rows.chunks(ROW_GROUP_ROWS) {
            writer.write(&to_batch(chunk)?)?;
        }
        let mut file = writer.into_inner()?;
        file.flush().map_err(|e| LakeError::io(&tmp, e))?;
        file.sync_all().map_err(|e| LakeError::io(&tmp, e))?;
        drop(file);
        std::fs::rename(&tmp, &target).map_err(|e| LakeError::io(&target, e))?;
        // make the rename itself durable
        std::fs::File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| LakeError::io(&dir, e))?;
        Ok(target.clone())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Replaces one partition `root/region=<r>/year=<y>/month=<m>/cases.parquet` with `rows`, atomically
/// (temporary file in the same directory, fsync, rename, directory fsync). Every row must belong to
/// the partition; a row that does not is an error naming it, and nothing is written.
pub async fn write_partition(
    root: &Path,
    region: &str,
    year: i32,
    month: u32,
    rows: &[CaseRow],
) -> Result<PathBuf, LakeError> {
    let (root, region, rows) = (root.to_path_buf(), region.to_string(), rows.to_vec());
    tokio::task::spawn_blocking(move || {
        write_partition_blocking(&root, &region, year, month, &rows)
    })
    .await
    .map_err(|e| LakeError::Task(e.to_string()))?
}

/// Writes every partition the rows fall into (grouped by region, year, month), each replaced
/// atomically; partitions are written in (region, year, month) order. Each partition is atomic on
/// its own — a failure part-way leaves the earlier partitions replaced and the later ones untouched.
/// Returns the written files.
pub async fn write_all(root: &Path, rows: &[CaseRow]) -> Result<Vec<PathBuf>, LakeError> {
    let mut parts: BTreeMap<(String, i32, u32), Vec<CaseRow>> = BTreeMap::new();
    for r in rows {
        parts
            .entry((r.region.clone(), r.year, r.month))
            .or_default()
            .push(r.clone());
    }
    // validate every partition key before writing anything
    for (region, year, month) in parts.keys() {
        crate::period::validate_code("region", region)?;
        crate::Period::new(*year, *month)?;
    }
    let root = root.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut written = Vec::with_capacity(parts.len());
        for ((region, year, month), rows) in &parts {
            written.push(write_partition_blocking(
                &root, region, *year, *month, rows,
            )?);
        }
        Ok(written)
    })
    .await
    .map_err(|e| LakeError::Task(e.to_string()))?
}
