//! The DataFusion side: the `cases` listing table over the partitioned Parquet files, scoped
//! filters, ad-hoc read-only SQL and the column extraction every typed query shares.

use crate::period::{validate_code, validate_label};
use crate::{CaseRow, LakeError, Range};
use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use arrow::record_batch::RecordBatch;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::cache::cache_manager::CacheManagerConfig;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The table name every query reads.
pub const TABLE: &str = "cases";

/// An opened case lake: a DataFusion session with the listing table `cases` registered over
/// `root` with hive partitioning (region, year, month). Cheap to clone; every query lists the
/// files afresh, so partitions written after `open` are seen by the next query.
#[derive(Clone)]
pub struct Lake {
    root: PathBuf,
    table: Arc<ListingTable>,
    ctx: SessionContext,
}

impl std::fmt::Debug for Lake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lake").field("root", &self.root).finish()
    }
}

/// A fresh session with every DataFusion cache of file lists, statistics and footers turned off:
/// partitions are replaced in place (same path), and the default list-files cache would keep
/// showing the files of the first listing forever (its default TTL is infinite).
fn session() -> Result<SessionContext, LakeError> {
    let caches = CacheManagerConfig::default()
        .with_list_files_cache(None)
        .with_list_files_cache_limit(0)
        .with_file_statistics_cache(None)
        .with_file_statistics_cache_limit(0)
        .with_metadata_cache_limit(0);
    let runtime = RuntimeEnvBuilder::new()
        .with_cache_manager(caches)
        .build_arc()?;
    // Two target partitions: the machine this runs on has two cores, and each query is small.
    let config = SessionConfig::new()
        .with_target_partitions(2)
        .with_information_schema(false);
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_default_features()
        .build();
    Ok(SessionContext::new_with_state(state))
}

impl Lake {
    /// Opens (creating the directory if needed) the lake at `root`.
    pub async fn open(root: &Path) -> Result<Lake, LakeError> {
        std::fs::create_dir_all(root).map_err(|e| LakeError::io(root, e))?;
        let root = root.canonicalize().map_err(|e| LakeError::io(root, e))?;
        let dir = format!(
            "{}/",
            root.to_str()
                .ok_or_else(|| LakeError::io(&root, std::io::Error::other("路径不是 UTF-8")))?
        );
        let url = ListingTableUrl::parse(&dir)?;
        let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
            .with_file_extension(".parquet")
            .with_table_partition_cols(crate::write::partition_cols());
        let config = ListingTableConfig::new(url)
            .with_listing_options(options)
            .with_schema(crate::write::file_schema());
        let table = Arc::new(ListingTable::try_new(config)?);
        let ctx = session()?;
        ctx.register_table(TABLE, table.clone())?;
        Ok(Lake { root, table, ctx })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Runs one read-only SQL query (`SELECT …` / `WITH …` over the table `cases`) and returns its
    /// record batches. With `scope = Some(hospital)`, `cases` holds only that hospital's rows (the
    /// query runs in a separate session whose `cases` is a filtered view), so no SQL a hospital
    /// user could write reaches another hospital. DDL, DML and other statements are refused.
    pub async fn sql(&self, scope: Option<&str>, sql: &str) -> Result<Vec<RecordBatch>, LakeError> {
        let ctx = match scope {
            None => self.ctx.clone(),
            Some(h) => {
                validate_code("scope", h)?;
                let ctx = session()?;
                let view = self
                    .ctx
                    .read_table(self.table.clone())?
                    .filter(col("hospital_code").eq(lit(h)))?
                    .into_view();
                ctx.register_table(TABLE, view)?;
                ctx
            }
        };
        // planning only (nothing runs before the check): DDL such as CREATE EXTERNAL TABLE, which
        // could point a new table at the files, DML (INSERT, COPY) and SET are refused
        let options = datafusion::execution::context::SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        Ok(ctx.sql_with_options(sql, options).await?.collect().await?)
    }

    /// The table as a DataFrame restricted by `f` (scope first, then the other filters).
    pub(crate) fn frame(&self, f: &Filter) -> Result<DataFrame, LakeError> {
        let mut df = self.ctx.read_table(self.table.clone())?;
        if let Some(pred) = f.predicate()? {
            df = df.filter(pred)?;
        }
        Ok(df)
    }

    /// Reads case rows out of batches that hold every column of the table.
    pub(crate) fn rows_of(batches: &[RecordBatch]) -> Result<Vec<CaseRow>, LakeError> {
        let mut out = Vec::new();
        for b in batches {
            let s = |n: &str| strs(b, n);
            let i = |n: &str| ints(b, n);
            let t = |n: &str| bools(b, n);
            let (region, year, month) = (s("region")?, i("year")?, i("month")?);
            let (list_id, hospital_code, hospital_name, tier, department) = (
                s("list_id")?,
                s("hospital_code")?,
                s("hospital_name")?,
                s("tier")?,
                s("department")?,
            );
            let (sex, age_years, admit_date, discharge_date, los_days, leaving_type, death) = (
                i("sex")?,
                i("age_years")?,
                s("admit_date")?,
                s("discharge_date")?,
                i("los_days")?,
                i("leaving_type")?,
                t("death")?,
            );
            let (group_status, mdc, adrg, drg, drg_name) = (
                s("group_status")?,
                s("mdc")?,
                s("adrg")?,
                s("drg")?,
                s("drg_name")?,
            );
            let (weight_units, points_units, method, outlier) = (
                i("weight_units")?,
                i("points_units")?,
                s("method")?,
                s("outlier")?,
            );
            let (total_cost_fen, selfpay_fen, personal_pay_fen, fund_pay_fen, payment_fen) = (
                i("total_cost_fen")?,
                i("selfpay_fen")?,
                i("personal_pay_fen")?,
                i("fund_pay_fen")?,
                i("payment_fen")?,
            );
            let (qc_errors, qc_warnings, flags, flag_rules, flag_amount_fen, low_risk) = (
                i("qc_errors")?,
                i("qc_warnings")?,
                i("flags")?,
                s("flag_rules")?,
                i("flag_amount_fen")?,
                t("low_risk")?,
            );
            for k in 0..b.num_rows() {
                out.push(CaseRow {
                    region: region[k].clone(),
                    year: year[k] as i32,
                    month: month[k] as u32,
                    list_id: list_id[k].clone(),
                    hospital_code: hospital_code[k].clone(),
                    hospital_name: hospital_name[k].clone(),
                    tier: tier[k].clone(),
                    department: department[k].clone(),
                    sex: sex[k],
                    age_years: age_years[k],
                    admit_date: admit_date[k].clone(),
                    discharge_date: discharge_date[k].clone(),
                    los_days: los_days[k],
                    leaving_type: leaving_type[k],
                    death: death[k],
                    group_status: group_status[k].clone(),
                    mdc: mdc[k].clone(),
                    adrg: adrg[k].clone(),
                    drg: drg[k].clone(),
                    drg_name: drg_name[k].clone(),
                    weight_units: weight_units[k],
                    points_units: points_units[k],
                    method: method[k].clone(),
                    outlier: outlier[k].clone(),
                    total_cost_fen: total_cost_fen[k],
                    selfpay_fen: selfpay_fen[k],
                    personal_pay_fen: personal_pay_fen[k],
                    fund_pay_fen: fund_pay_fen[k],
                    payment_fen: payment_fen[k],
                    qc_errors: qc_errors[k],
                    qc_warnings: qc_warnings[k],
                    flags: flags[k],
                    flag_rules: flag_rules[k].clone(),
                    flag_amount_fen: flag_amount_fen[k],
                    low_risk: low_risk[k],
                });
            }
        }
        Ok(out)
    }
}

/// The row filter of a typed query. Every value is validated and then bound as a literal
/// expression (DataFrame API), never spliced into SQL text.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    /// The user's hospital scope: `Some` restricts every row to that hospital.
    pub scope: Option<String>,
    pub region: Option<String>,
    pub tier: Option<String>,
    pub hospital: Option<String>,
    pub range: Option<Range>,
    pub department: Option<String>,
    pub drg: Option<String>,
    pub flagged_only: bool,
    pub grouped_only: bool,
}

impl Filter {
    fn predicate(&self) -> Result<Option<Expr>, LakeError> {
        let mut preds: Vec<Expr> = Vec::new();
        if let Some(h) = &self.scope {
            validate_code("scope", h)?;
            preds.push(col("hospital_code").eq(lit(h.as_str())));
        }
        if let Some(r) = &self.region {
            validate_code("region", r)?;
            preds.push(col("region").eq(lit(r.as_str())));
        }
        if let Some(t) = &self.tier {
            validate_label("tier", t)?;
            preds.push(col("tier").eq(lit(t.as_str())));
        }
        if let Some(h) = &self.hospital {
            validate_code("hospital_code", h)?;
            preds.push(col("hospital_code").eq(lit(h.as_str())));
        }
        if let Some(r) = &self.range {
            // partition-only predicates: DataFusion prunes the month directories before reading
            let key = col("year") * lit(100i32) + col("month");
            preds.push(key.clone().gt_eq(lit(r.from.key())));
            preds.push(key.lt_eq(lit(r.to.key())));
        }
        if let Some(d) = &self.department {
            validate_label("department", d)?;
            preds.push(col("department").eq(lit(d.as_str())));
        }
        if let Some(g) = &self.drg {
            validate_code("drg", g)?;
            preds.push(col("drg").eq(lit(g.as_str())));
        }
        if self.flagged_only {
            preds.push(col("flags").gt(lit(0i64)));
        }
        if self.grouped_only {
            preds.push(col("group_status").eq(lit("grouped")));
        }
        Ok(preds.into_iter().reduce(Expr::and))
    }
}

fn column<'a>(b: &'a RecordBatch, name: &str) -> Result<&'a Arc<dyn Array>, LakeError> {
    b.column_by_name(name)
        .ok_or_else(|| LakeError::Internal(format!("查询结果缺少列 {name}")))
}

/// A column as strings (any string type; null → "").
pub(crate) fn strs(b: &RecordBatch, name: &str) -> Result<Vec<String>, LakeError> {
    let a = arrow::compute::cast(column(b, name)?, &DataType::Utf8)?;
    let a = a.as_string::<i32>();
    Ok((0..a.len())
        .map(|i| {
            if a.is_null(i) {
                String::new()
            } else {
                a.value(i).to_string()
            }
        })
        .collect())
}

/// A column as i64 (any integer type; null — e.g. SUM over no rows — → 0).
pub(crate) fn ints(b: &RecordBatch, name: &str) -> Result<Vec<i64>, LakeError> {
    let a = arrow::compute::cast(column(b, name)?, &DataType::Int64)?;
    let a = a.as_primitive::<Int64Type>();
    Ok((0..a.len())
        .map(|i| if a.is_null(i) { 0 } else { a.value(i) })
        .collect())
}

/// A column as f64 (display-only statistics; null → 0).
pub(crate) fn floats(b: &RecordBatch, name: &str) -> Result<Vec<f64>, LakeError> {
    let a = arrow::compute::cast(column(b, name)?, &DataType::Float64)?;
    let a = a.as_primitive::<Float64Type>();
    Ok((0..a.len())
        .map(|i| if a.is_null(i) { 0.0 } else { a.value(i) })
        .collect())
}

/// A boolean column (null → false).
pub(crate) fn bools(b: &RecordBatch, name: &str) -> Result<Vec<bool>, LakeError> {
    let a = column(b, name)?;
    let a = a
        .as_boolean_opt()
        .ok_or_else(|| LakeError::Internal(format!("列 {name} 不是布尔型")))?;
    Ok((0..a.len()).map(|i| !a.is_null(i) && a.value(i)).collect())
}
