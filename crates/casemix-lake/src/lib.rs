//! Case data as Arrow/Parquet datasets partitioned by region, year and month
//! (`root/region=<r>/year=<y>/month=<m>/cases.parquet`), queried through DataFusion: the analytics
//! behind the 运行监测 dashboard and the hospital view of the workbench.
//!
//! - [`write_partition`] / [`write_all`] replace partitions atomically (temp file, fsync, rename).
//! - [`Lake::open`] registers the listing table `cases` (hive partitions region, year, month);
//!   [`Lake::sql`] runs read-only ad-hoc SQL; [`Lake::dashboard`] and [`Lake::hospital_view`] are the
//!   typed queries, built with the DataFrame API from validated values (no SQL text is ever built
//!   from input).
//! - Every query takes `scope: Option<&str>`: with `Some(hospital)` no row of another hospital is
//!   read into a result. Only the regional yardsticks of the consumption indexes and the tier
//!   comparison of the hospital view read other hospitals' rows, and they return aggregates only.
//! - Money stays integer fen; shown ratios are [`Ratio`]s of integer sums or exact decimals.
//!
//! This is an I/O edge crate (files, async), not part of the pure domain core.

pub mod dashboard;
pub mod hospital;
pub mod lake;
pub mod period;
pub mod ratio;
pub mod row;
pub mod write;

pub use dashboard::{
    Dashboard, DashboardConfig, DashboardQuery, GroupAnalysis, GroupRow, Indicators, Level,
    MethodRow, MonthRow, UnitRow, VolumeChange,
};
pub use hospital::{CasePage, HospitalQuery, HospitalView, SortColumn};
pub use lake::Lake;
pub use period::{Period, Range};
pub use ratio::Ratio;
pub use row::CaseRow;
pub use rust_decimal::Decimal;
pub use write::{write_all, write_partition};

use std::path::Path;

/// Errors of the lake. Messages are Chinese and name the field, the value and the rule.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error("参数 {field} 的取值“{value}”无效：{rule}")]
    Invalid {
        field: &'static str,
        value: String,
        rule: &'static str,
    },
    #[error("结算清单 {list_id} 的字段 {field} 取值“{value}”无效：{rule}")]
    Row {
        list_id: String,
        field: &'static str,
        value: String,
        rule: &'static str,
    },
    #[error("无权查看医疗机构 {hospital} 的数据")]
    OutOfScope { hospital: String },
    #[error("数据集中没有医疗机构 {hospital} 的病例")]
    NotFound { hospital: String },
    #[error("读写 {path} 失败：{source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("Arrow 错误：{0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("Parquet 错误：{0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("查询错误：{0}")]
    Query(#[from] datafusion::error::DataFusionError),
    #[error("后台任务失败：{0}")]
    Task(String),
    #[error("内部错误：{0}")]
    Internal(String),
}

impl LakeError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> LakeError {
        LakeError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    /// A stable machine code for the error (for JSON error bodies).
    pub fn code(&self) -> &'static str {
        match self {
            LakeError::Invalid { .. } => "invalid_parameter",
            LakeError::Row { .. } => "invalid_row",
            LakeError::OutOfScope { .. } => "out_of_scope",
            LakeError::NotFound { .. } => "not_found",
            LakeError::Io { .. } => "io",
            LakeError::Arrow(_) | LakeError::Parquet(_) | LakeError::Query(_) => "query",
            LakeError::Task(_) | LakeError::Internal(_) => "internal",
        }
    }
}
