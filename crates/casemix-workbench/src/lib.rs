//! The workbench engine: one region's data directory and the workflow over it.
//!
//! A data directory holds `workbench.toml` (region, scheme, policy, rates, hospitals), the
//! workflow state (`store.sqlite`, or PostgreSQL when configured: users, uploads and list
//! versions, review decisions, audit log), the case data (`lake/`: Parquet partitions
//! region/year/month, queried with DataFusion by casemix-lake) and derived results
//! (`derived/`: QC report per upload, the yearly run's flags and settlements as JSON).
//!
//! Steps, each callable from the CLI and the web UI on the same directory:
//! import (upload → versions → QC report) → run (grouping → monthly settlements → audit →
//! year-end clearing with the confirmed review decisions) → review (confirm/dismiss) → run again
//! to clear with the decisions. Derived data is always recomputable from the store.

pub mod config;
pub mod engine;
pub mod files;
pub mod group;
pub mod records;
pub mod runs;

pub use config::{WorkbenchConfig, CONFIG_FILE};
pub use engine::{Engine, Progress, RunOutput};
pub use records::{CaseSummary, FlagEntry, FlagRecord, QcReport, QcRow, RunRecord, SettlementRecord, SkippedList, StatementRecord};
pub use runs::{RunLock, RunView};

use casemix_io::{Format, ReadLimits, ReadOptions};
use casemix_model::SettlementList;
use casemix_store::{sha256_hex, DecisionKind, Months, NewDecision, Scope, Store, UploadMeta, UploadSummary, User};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

/// What a yearly run reads from the store and the inputs directory.
pub struct RunInputs {
    pub lists: Vec<SettlementList>,
    pub claims: Vec<casemix_model::Claim>,
    pub charges: Vec<casemix_model::ChargeItem>,
    pub decisions: Vec<casemix_audit::Decision>,
}

/// A loaded data directory.
pub struct Workbench {
    pub dir: PathBuf,
    pub config: WorkbenchConfig,
    pub engine: Engine,
}

/// The result of an import: the store's summary and the QC report of the accepted lists
/// (committed with the upload).
#[derive(Debug, Clone)]
pub struct ImportOutcome {
    pub summary: UploadSummary,
    pub qc: QcReport,
}

/// One file to import as one upload.
#[derive(Debug, Clone, Copy)]
pub struct ImportFile<'a> {
    pub hospital: &'a str,
    pub period: &'a str,
    pub file_name: &'a str,
    pub bytes: &'a [u8],
    /// Accept lists discharged outside `period` (bureau_admin only; logged).
    pub period_override: bool,
    /// The background job carrying the import (committed with the upload).
    pub job_id: Option<i64>,
    /// Reader limits: `ReadLimits::for_upload(body limit)` for a web upload (an xlsx bomb or a
    /// 100 MB line is refused before anything is recorded); the defaults for the CLI's files.
    pub limits: &'a ReadLimits,
}

/// An import read, screened and quality-checked, ready to commit ([`Workbench::commit_import`]).
pub struct PreparedImport {
    pub meta: UploadMeta,
    pub screened: casemix_store::Screened,
    pub read_rejections: Vec<casemix_io::Rejection>,
    pub qc: QcReport,
    qc_json: String,
}

/// The lists of a file with the file line of each, and the rejected records.
pub struct ReadLists {
    pub lists: Vec<SettlementList>,
    /// `lines[i]` = the line (CSV/JSONL) or sheet row (XLSX) of `lists[i]`; the header is line 1.
    pub lines: Vec<u64>,
    pub rejections: Vec<casemix_io::Rejection>,
}

/// Reads a settlement-list file (format from its name, [`format_of`]) through casemix-io's
/// reader, keeping each accepted list's line so that later refusals (hospital, period) name it.
pub fn read_lists(bytes: &[u8], file_name: &str, limits: &ReadLimits) -> Result<ReadLists, String> {
    let bad = |e: casemix_io::IoError| format!("无法读取结算清单文件“{file_name}”：{e}");
    let opts = ReadOptions { limits: limits.clone(), ..ReadOptions::default() };
    let mut rdr = casemix_io::RecordReader::from_reader(std::io::Cursor::new(bytes.to_vec()), Some(format_of(file_name)), &opts).map_err(bad)?;
    let schema = rdr.schema().map_err(bad)?;
    let mut out = ReadLists { lists: Vec::new(), lines: Vec::new(), rejections: Vec::new() };
    let mut batch = Vec::new();
    while rdr.fill_batch(&mut batch, 4096).map_err(bad)? > 0 {
        for row in &batch {
            match schema.parse(row) {
                Ok(l) => {
                    out.lists.push(l);
                    out.lines.push(row.line);
                }
                Err(r) => out.rejections.push(r),
            }
        }
    }
    Ok(out)
}

/// The file format from the file name (CSV when unknown).
pub fn format_of(file_name: &str) -> Format {
    let n = file_name.to_ascii_lowercase();
    if n.ends_with(".xlsx") {
        Format::Xlsx
    } else if n.ends_with(".jsonl") || n.ends_with(".ndjson") {
        Format::Jsonl
    } else {
        Format::Csv
    }
}

impl Workbench {
    pub fn open(dir: impl AsRef<Path>) -> Result<Workbench, String> {
        let dir = dir.as_ref().to_path_buf();
        let config = WorkbenchConfig::load(&dir)?;
        let engine = Engine::load(&dir, &config)?;
        let wb = Workbench { dir, config, engine };
        // what a crashed run left behind (staging directories, unreferenced versions, temp
        // files); skipped while another process runs
        runs::cleanup(&wb.runs_dir())?;
        Ok(wb)
    }

    /// Opens the workflow store (created on first use).
    pub fn open_store(&self) -> Result<Store, String> {
        match &self.config.postgres {
            Some(url) => Store::open_url(url).map_err(|e| format!("无法连接 PostgreSQL 工作流数据库：{e}")),
            None => {
                let p = self.dir.join("store.sqlite");
                Store::open(&p).map_err(|e| format!("无法打开数据库 {}：{e}", p.display()))
            }
        }
    }

    /// Where the workflow store lives: the PostgreSQL URL or the SQLite file's path.
    pub fn store_target(&self) -> String {
        match &self.config.postgres {
            Some(url) => url.clone(),
            None => self.dir.join("store.sqlite").to_string_lossy().into_owned(),
        }
    }

    /// A pool of at most `max` store connections (one per concurrent task; the server's).
    pub fn open_store_pool(&self, max: usize) -> Result<casemix_store::StorePool, String> {
        casemix_store::StorePool::open(&self.store_target(), max).map_err(|e| match &self.config.postgres {
            Some(_) => format!("无法连接 PostgreSQL 工作流数据库：{e}"),
            None => format!("无法打开数据库 {}：{e}", self.store_target()),
        })
    }

    /// The run versions (see [`runs`]).
    pub fn runs_dir(&self) -> PathBuf {
        self.dir.join("runs")
    }

    /// The current run version, resolved once: a reader that takes every file of a request from
    /// it sees one run, never a mix of two.
    pub fn current_run(&self) -> Result<Option<RunView>, String> {
        let runs = self.runs_dir();
        Ok(runs::current(&runs)?.map(|v| RunView { dir: runs.join(&v), version: v, year: self.engine.year() }))
    }

    /// The case data of the current run version (an empty directory before the first run).
    pub fn lake_dir(&self) -> Result<PathBuf, String> {
        Ok(match self.current_run()? {
            Some(v) => v.lake_dir(),
            None => self.runs_dir().join("empty").join("lake"),
        })
    }

    /// Takes the run lock: one yearly run at a time, across processes (CLI and server). Refused
    /// with a Chinese message while another run holds it.
    pub fn lock_run(&self) -> Result<RunLock, String> {
        runs::lock(&self.runs_dir())
    }

    fn qc_path(&self, upload_id: i64) -> PathBuf {
        self.dir.join("derived").join("qc").join(format!("upload-{upload_id}.json"))
    }

    /// Imports one file of settlement lists as one upload: [`Workbench::prepare_import`] (read,
    /// screen, QC — no store needed) then [`Workbench::commit_import`] (one transaction).
    pub fn import(&self, store: &mut Store, file: &ImportFile<'_>, actor: &User, now: DateTime<Utc>, progress: Progress<'_>) -> Result<ImportOutcome, String> {
        let prepared = self.prepare_import(file, actor, progress)?;
        self.commit_import(store, prepared, actor, now, progress)
    }

    /// Imports already-read lists (file lines unknown) as one upload (the caller's read
    /// rejections are stored with it), with QC, in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub fn import_lists(
        &self,
        store: &mut Store,
        meta: &UploadMeta,
        lists: Vec<SettlementList>,
        rejected: &[casemix_io::Rejection],
        actor: &User,
        now: DateTime<Utc>,
        progress: Progress<'_>,
    ) -> Result<ImportOutcome, String> {
        let prepared = self.prepare_lists(meta.clone(), lists, &[], rejected.to_vec(), actor, progress)?;
        self.commit_import(store, prepared, actor, now, progress)
    }

    /// The pure part of an import, run before any store connection is taken: checks who may
    /// upload for whom, reads the file keeping each list's line ([`read_lists`]; a file that is
    /// not a table is an error and nothing is recorded), screens the lists
    /// ([`casemix_store::screen_upload`]: one identity, the settlement period) and runs 前置质控
    /// on the accepted ones.
    pub fn prepare_import(&self, file: &ImportFile<'_>, actor: &User, progress: Progress<'_>) -> Result<PreparedImport, String> {
        let meta = UploadMeta {
            hospital_code: file.hospital.to_string(),
            period: file.period.to_string(),
            file_name: file.file_name.to_string(),
            file_hash: Some(sha256_hex(file.bytes)),
            period_override: file.period_override,
            job_id: file.job_id,
        };
        casemix_store::check_upload(&meta, actor).map_err(|e| e.to_string())?;
        progress("读取文件", 0, 1);
        let read = read_lists(file.bytes, file.file_name, file.limits)?;
        progress("读取文件", 1, 1);
        self.prepare_lists(meta, read.lists, &read.lines, read.rejections, actor, progress)
    }

    /// Screening and QC of lists already read (see [`Workbench::prepare_import`]).
    pub fn prepare_lists(
        &self,
        meta: UploadMeta,
        lists: Vec<SettlementList>,
        lines: &[u64],
        read_rejections: Vec<casemix_io::Rejection>,
        actor: &User,
        progress: Progress<'_>,
    ) -> Result<PreparedImport, String> {
        casemix_store::check_upload(&meta, actor).map_err(|e| e.to_string())?;
        let screened = casemix_store::screen_upload(&meta, lists, lines);
        let n = screened.lists.len() as u64;
        progress("前置质控", 0, n);
        let qc = self.engine.qc_report(0, &meta.hospital_code, &meta.period, &screened.lists);
        let qc_json = serde_json::to_string(&qc).map_err(|e| format!("质控报告无法保存：{e}"))?;
        progress("前置质控", n, n);
        Ok(PreparedImport { meta, screened, read_rejections, qc, qc_json })
    }

    /// Records a prepared import in ONE store transaction: the upload, its list versions, its
    /// rejections, its QC report and its audit entry commit together or not at all.
    pub fn commit_import(&self, store: &mut Store, p: PreparedImport, actor: &User, now: DateTime<Utc>, progress: Progress<'_>) -> Result<ImportOutcome, String> {
        let total = p.screened.lists.len() as u64;
        let qc = casemix_store::QcAttachment { lists: p.qc.lists, lists_with_errors: p.qc.lists_with_errors, report_json: &p.qc_json };
        let batch = casemix_store::UploadBatch { screened: &p.screened, rejections: &p.read_rejections, qc: Some(qc) };
        let summary = store
            .record_batch(&p.meta, &batch, actor, now, &mut |i| {
                if i % 500 == 0 || i as u64 + 1 == total {
                    progress("写入数据库", i as u64 + 1, total)
                }
            })
            .map_err(|e| e.to_string())?;
        let mut qc = p.qc;
        qc.upload_id = summary.upload_id;
        Ok(ImportOutcome { summary, qc })
    }

    /// The QC report of an upload (in the user's scope): the one committed with it in the
    /// store, or, for uploads imported before the report moved into the store, the file
    /// `derived/qc/upload-<id>.json`.
    pub fn qc_report(&self, store: &Store, scope: &Scope, upload_id: i64) -> Result<Option<QcReport>, String> {
        if let Some(json) = store.qc_report_json(scope, upload_id).map_err(|e| e.to_string())? {
            let mut r: QcReport = serde_json::from_str(&json).map_err(|e| format!("上传 #{upload_id} 的质控报告无法读取：{e}"))?;
            r.upload_id = upload_id;
            return Ok(Some(r));
        }
        if store.upload(scope, upload_id).map_err(|e| e.to_string())?.is_none() {
            return Ok(None);
        }
        files::read_json(&self.qc_path(upload_id))
    }

    /// Claims and charges placed in `inputs/` (claims*.csv, charges*.csv), for the audit.
    fn side_inputs(&self) -> Result<(Vec<casemix_model::Claim>, Vec<casemix_model::ChargeItem>), String> {
        let dir = self.dir.join("inputs");
        let (mut claims, mut charges) = (Vec::new(), Vec::new());
        let Ok(rd) = std::fs::read_dir(&dir) else { return Ok((claims, charges)) };
        let mut names: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        names.sort();
        let opts = ReadOptions::default();
        for p in names {
            let n = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if n.starts_with("claims") {
                let (c, _rej) = casemix_io::read_claims(&p, &opts).map_err(|e| format!("无法读取门诊/药店结算 {}：{e}", p.display()))?;
                claims.extend(c);
            } else if n.starts_with("charges") {
                let (c, _rej) = casemix_io::read_charges(&p, &opts).map_err(|e| format!("无法读取费用明细 {}：{e}", p.display()))?;
                charges.extend(c);
            }
        }
        Ok((claims, charges))
    }

    /// Reads what the yearly run needs from the store (short: the store is free again while
    /// the run computes).
    pub fn run_inputs(&self, store: &Store) -> Result<RunInputs, String> {
        let year = self.engine.year();
        let lists = store.current_lists(&Scope::All, &Months::between(&format!("{year}-01"), &format!("{year}-12"))).map_err(|e| e.to_string())?;
        let decisions: Vec<casemix_audit::Decision> = store
            .decisions(&Scope::All, None)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|d| casemix_audit::Decision {
                line: d.id as u64,
                // decisions recorded before flag ids named the hospital are matched by their
                // (hospital, list) columns
                flag_id: engine::flag_id(&d.flag_id, &d.hospital_code),
                decision: match d.decision {
                    DecisionKind::Confirm => "confirm".into(),
                    DecisionKind::Dismiss => "dismiss".into(),
                },
                reason: d.reason,
                reviewer: d.reviewer,
            })
            .collect();
        let (claims, charges) = self.side_inputs()?;
        Ok(RunInputs { lists, claims, charges, decisions })
    }

    /// The yearly run (policy year) over the current lists of every hospital, in three steps
    /// so that no step holds the store while it computes and no store call runs on an async
    /// worker: `run_inputs` (store) → `compute` (CPU) → `write_run` (case data Parquet
    /// partitions replacing the year's months, run record) → `run_logged` (store).
    /// The computing part of the yearly run: CPU-bound for seconds on a city year, so a server
    /// calls it on a blocking thread, never on an async worker.
    pub fn compute(&self, inputs: &RunInputs, progress: Progress<'_>) -> RunOutput {
        runs::pause_at("inputs");
        self.engine.run(&inputs.lists, &inputs.claims, &inputs.charges, &inputs.decisions, progress)
    }

    /// Writes a computed run as a new run version and switches to it atomically: the case data
    /// (Parquet partitions of the year; other years' partitions carried over from the previous
    /// version), the run record and the flags are written into a staging directory, which is
    /// renamed into place; then `runs/CURRENT` is replaced in one rename. A crash at any point
    /// leaves the previous version current. Needs the run lock (`lock_run`); older versions are
    /// removed after the switch (the one before is kept for readers that just resolved it).
    pub async fn write_run(&self, _lock: &RunLock, out: RunOutput, actor: &User, now: DateTime<Utc>, progress: Progress<'_>) -> Result<RunRecord, String> {
        let year = self.engine.year();
        let runs_dir = self.runs_dir();
        runs::cleanup_locked(&runs_dir, None)?;
        let prev = runs::current(&runs_dir)?;
        let staging = runs::Staging::new(&runs_dir)?;
        let region = self.config.region.clone();
        if let Some(p) = &prev {
            // partitions of other years (and regions) stay as they were
            let own = std::path::Path::new(&format!("region={region}")).join(format!("year={year}"));
            staging.carry_over(&runs_dir.join(p), year, &|rel| !rel.starts_with(&own))?;
        }
        let mut parts: std::collections::BTreeMap<u32, Vec<casemix_lake::CaseRow>> = Default::default();
        let total = out.rows.len() as u64;
        for r in out.rows {
            if r.year != year || r.region != region {
                return Err(format!("结算清单 {} 的病例行不属于 {region} 统筹区 {year} 年度", r.list_id));
            }
            parts.entry(r.month).or_default().push(r);
        }
        let (mut done, lake) = (0u64, staging.lake_dir());
        for (k, (month, rows)) in parts.iter().enumerate() {
            progress("写入病例数据", done, total);
            casemix_lake::write_partition(&lake, &region, year, *month, rows).await.map_err(|e| format!("写入病例数据失败：{e}"))?;
            done += rows.len() as u64;
            if k == 1 {
                runs::pause_at("partitions");
            }
        }
        progress("写入病例数据", total, total);
        let rec = RunRecord {
            year,
            version: staging.name.clone(),
            run_at: casemix_store::timestamp(now),
            run_by: actor.login.clone(),
            summary: out.summary,
            months: out.months,
            clearing: out.clearing,
        };
        runs::write_record(&staging.dir, &rec, &out.flags)?;
        let name = staging.finish(&runs_dir)?;
        runs::pause_at("renamed");
        runs::switch(&runs_dir, &name)?;
        runs::pause_at("switched");
        runs::cleanup_locked(&runs_dir, prev.as_deref())?;
        Ok(rec)
    }

    /// The audit-log entry of a run.
    pub fn run_logged(&self, store: &mut Store, actor: &User, rec: &RunRecord, now: DateTime<Utc>) -> Result<(), String> {
        store
            .record_event(
                actor,
                "run_year",
                &format!("year:{}", rec.year),
                None,
                serde_json::json!({"lists": rec.summary.lists, "cases": rec.summary.cases, "flags": rec.summary.flags, "skipped": rec.summary.skipped.len()}),
                now,
            )
            .map_err(|e| e.to_string())
    }

    /// The last yearly run of the policy year (from the current run version).
    pub fn run_record(&self) -> Result<Option<RunRecord>, String> {
        match self.current_run()? {
            Some(v) => v.record(),
            None => Ok(None),
        }
    }

    /// Records a reviewer's decision on a flag of the last run (the flag must exist and be in
    /// the reviewer's scope; the reason must not be empty).
    pub fn decide(&self, store: &mut Store, actor: &User, flag_id: &str, decision: DecisionKind, reason: &str, now: DateTime<Utc>) -> Result<i64, String> {
        let run = self.current_run()?.ok_or("尚未运行年度计算，没有可复核的审核标记")?;
        let f = run.flag(flag_id)?.ok_or_else(|| format!("审核标记 flag_id“{flag_id}”不存在"))?;
        if !actor.scope().allows(&f.hospital_code) {
            return Err(format!("审核标记 flag_id“{flag_id}”不存在"));
        }
        if reason.trim().is_empty() {
            return Err("复核理由 reason 不能为空（确认或排除都须说明理由）".into());
        }
        store
            .record_decision(actor, &NewDecision { flag_id, hospital_code: &f.hospital_code, list_id: &f.list_id, decision, reason: reason.trim() }, now)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_follows_the_file_name() {
        assert_eq!(format_of("一月.XLSX"), Format::Xlsx);
        assert_eq!(format_of("a.jsonl"), Format::Jsonl);
        assert_eq!(format_of("a.csv"), Format::Csv);
        assert_eq!(format_of("noext"), Format::Csv);
    }

    #[test]
    fn config_rejects_a_bad_region_code_and_resolves_relative_paths() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(CONFIG_FILE), "region = \"a b\"\nscheme = \"s\"\npolicy = \"p.toml\"\n").unwrap();
        let e = WorkbenchConfig::load(d.path()).unwrap_err();
        assert!(e.contains("region") && e.contains("a b"), "{e}");
        std::fs::write(d.path().join(CONFIG_FILE), "region = \"r1\"\nscheme = \"s\"\npolicy = \"/abs/p.toml\"\nunknown = 1\n").unwrap();
        assert!(WorkbenchConfig::load(d.path()).unwrap_err().contains("unknown"));
        std::fs::write(d.path().join(CONFIG_FILE), "region = \"r1\"\nscheme = \"s\"\npolicy = \"/abs/p.toml\"\n").unwrap();
        let c = WorkbenchConfig::load(d.path()).unwrap();
        assert_eq!(WorkbenchConfig::resolve(d.path(), &c.scheme), d.path().join("s"));
        assert_eq!(WorkbenchConfig::resolve(d.path(), &c.policy), PathBuf::from("/abs/p.toml"));
    }

    #[test]
    fn derived_files_are_replaced_whole_and_missing_is_none() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("derived/run/2025.json");
        assert_eq!(files::read_json::<Vec<i32>>(&p).unwrap(), None);
        files::write_json(&p, &vec![1, 2, 3]).unwrap();
        files::write_json(&p, &vec![4]).unwrap();
        assert_eq!(files::read_json::<Vec<i32>>(&p).unwrap(), Some(vec![4]));
        // no temporary file is left beside it
        let names: Vec<String> = std::fs::read_dir(p.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert_eq!(names, vec!["2025.json".to_string()]);
        std::fs::write(&p, b"{not json").unwrap();
        assert!(files::read_json::<Vec<i32>>(&p).unwrap_err().contains("内容无效"));
    }

    #[test]
    fn qc_report_counts_by_rule_most_frequent_first() {
        let row = |rule: &str, sev: &str| QcRow {
            list_id: "L".into(),
            rule: rule.into(),
            category: "c".into(),
            severity: sev.into(),
            field: "f".into(),
            value: "v".into(),
            message: "m".into(),
        };
        let r = QcReport {
            upload_id: 1,
            hospital_code: "H".into(),
            period: "2025-01".into(),
            lists: 10,
            lists_with_errors: 2,
            findings: vec![row("B", "警告"), row("A", "错误"), row("B", "警告"), row("C", "错误")],
        };
        // 2 errors (A, C), 2 warnings (B twice); B first with 2, then A and C with 1 in id order
        assert_eq!(r.errors(), 2);
        assert_eq!(r.warnings(), 2);
        let by: Vec<(String, usize)> = r.by_rule().into_iter().map(|(rule, _, _, n)| (rule, n)).collect();
        assert_eq!(by, vec![("B".to_string(), 2), ("A".to_string(), 1), ("C".to_string(), 1)]);
    }
}
