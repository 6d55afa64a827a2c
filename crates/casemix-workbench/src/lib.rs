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

pub use config::{WorkbenchConfig, CONFIG_FILE};
pub use engine::{Engine, Progress, RunOutput};
pub use records::{CaseSummary, FlagRecord, QcReport, QcRow, RunRecord, SettlementRecord, StatementRecord};

use casemix_io::{Format, ReadOptions};
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

/// The result of an import: the store's summary and the QC report of the accepted lists.
#[derive(Debug, Clone)]
pub struct ImportOutcome {
    pub summary: UploadSummary,
    pub qc: QcReport,
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
        Ok(Workbench { dir, config, engine })
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

    pub fn lake_dir(&self) -> PathBuf {
        self.dir.join("lake")
    }

    fn qc_path(&self, upload_id: i64) -> PathBuf {
        self.dir.join("derived").join("qc").join(format!("upload-{upload_id}.json"))
    }

    fn run_path(&self, year: i32) -> PathBuf {
        self.dir.join("derived").join("run").join(format!("{year}.json"))
    }

    /// Imports one file of settlement lists as one upload of `hospital` for `period`: reads it
    /// (CSV UTF-8/GBK, JSONL, XLSX; bad rows become rejections), records it atomically in the
    /// store, runs 前置质控 on the accepted lists and keeps the report.
    pub fn import(
        &self,
        store: &mut Store,
        hospital: &str,
        period: &str,
        file_name: &str,
        bytes: &[u8],
        actor: &User,
        now: DateTime<Utc>,
        progress: Progress<'_>,
    ) -> Result<ImportOutcome, String> {
        progress("读取文件", 0, 1);
        let (lists, rejected) = casemix_io::read_settlements_from_bytes(bytes, Some(format_of(file_name)), &ReadOptions::default())
            .map_err(|e| format!("无法读取结算清单文件“{file_name}”：{e}"))?;
        progress("读取文件", 1, 1);
        let meta = UploadMeta {
            hospital_code: hospital.to_string(),
            period: period.to_string(),
            file_name: file_name.to_string(),
            file_hash: Some(sha256_hex(bytes)),
        };
        self.import_lists(store, &meta, lists, &rejected, actor, now, progress)
    }

    /// Imports already-read lists as one upload (the caller's read rejections are stored with
    /// it), runs QC on the lists the store accepted and keeps the report.
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
        let total = lists.len() as u64;
        let summary = store
            .record_upload_with_progress(meta, &lists, rejected, actor, now, &mut |i| {
                if i % 500 == 0 || i + 1 == lists.len() {
                    progress("写入数据库", i as u64 + 1, total)
                }
            })
            .map_err(|e| e.to_string())?;
        progress("前置质控", 0, total);
        let hospital = meta.hospital_code.as_str();
        let mine: Vec<SettlementList> = lists.into_iter().filter(|l| l.hospital_code.as_deref().map_or(true, |h| h == hospital)).collect();
        let qc = self.engine.qc_report(summary.upload_id, hospital, &meta.period, &mine);
        files::write_json(&self.qc_path(summary.upload_id), &qc)?;
        progress("前置质控", total, total);
        Ok(ImportOutcome { summary, qc })
    }

    /// The QC report of an upload, if it was imported through the workbench.
    pub fn qc_report(&self, upload_id: i64) -> Result<Option<QcReport>, String> {
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
                flag_id: d.flag_id,
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
        self.engine.run(&inputs.lists, &inputs.claims, &inputs.charges, &inputs.decisions, progress)
    }

    /// Writes a computed run: the case data (Parquet partitions, replacing the year's months)
    /// and the run record.
    pub async fn write_run(&self, out: RunOutput, actor: &User, now: DateTime<Utc>, progress: Progress<'_>) -> Result<RunRecord, String> {
        let year = self.engine.year();
        progress("写入病例数据", 0, out.rows.len() as u64);
        casemix_lake::write_all(&self.lake_dir(), &out.rows).await.map_err(|e| format!("写入病例数据失败：{e}"))?;
        progress("写入病例数据", out.rows.len() as u64, out.rows.len() as u64);
        let rec = RunRecord {
            year,
            run_at: casemix_store::timestamp(now),
            run_by: actor.login.clone(),
            summary: out.summary,
            flags: out.flags,
            months: out.months,
            clearing: out.clearing,
        };
        files::write_json(&self.run_path(year), &rec)?;
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

    /// The last yearly run of the policy year.
    pub fn run_record(&self) -> Result<Option<RunRecord>, String> {
        files::read_json(&self.run_path(self.engine.year()))
    }

    /// Records a reviewer's decision on a flag of the last run (the flag must exist and be in
    /// the reviewer's scope; the reason must not be empty).
    pub fn decide(&self, store: &mut Store, actor: &User, flag_id: &str, decision: DecisionKind, reason: &str, now: DateTime<Utc>) -> Result<i64, String> {
        let run = self.run_record()?.ok_or("尚未运行年度计算，没有可复核的审核标记")?;
        let f = run.flags.iter().find(|f| f.flag_id == flag_id).ok_or_else(|| format!("审核标记 flag_id“{flag_id}”不存在"))?;
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
