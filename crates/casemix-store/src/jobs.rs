//! Background jobs (an upload, a yearly run) persisted in the store: kind, who, hospital,
//! stage and progress, outcome (result URL and message, or the error), when. A job still
//! `running` when its server stopped is `interrupted` after the restart
//! ([`Store::interrupt_running_jobs`]) — unless its upload committed, then it is `done`.

use crate::backend::{params, OptionalExtension, Row};
use crate::{timestamp, PageRequest, Paged, Result, Scope, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The state of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Running,
    Done,
    Failed,
    /// The server stopped (restart, crash, kill) while the job ran.
    Interrupted,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Interrupted => "interrupted",
        }
    }
    pub fn parse(s: &str) -> Option<JobState> {
        [JobState::Running, JobState::Done, JobState::Failed, JobState::Interrupted].into_iter().find(|j| j.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            JobState::Running => "进行中",
            JobState::Done => "已完成",
            JobState::Failed => "失败",
            JobState::Interrupted => "中断",
        }
    }
}

/// A job to create (the id is the caller's: the server hands it out before the row is written).
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub id: i64,
    /// 上传 / 年度计算
    pub kind: &'a str,
    pub owner: &'a str,
    /// The hospital the job concerns (a hospital user sees only their hospital's jobs).
    pub hospital_code: Option<&'a str>,
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    pub id: i64,
    pub kind: String,
    pub owner: String,
    pub hospital_code: Option<String>,
    pub state: JobState,
    pub stage: String,
    pub done: i64,
    pub total: i64,
    /// Where to see the result (state `done`).
    pub result_url: Option<String>,
    /// The outcome in Chinese (summary, error or why it was interrupted).
    pub message: String,
    pub created_at: String,
    pub updated_at: String,
    pub finished_at: Option<String>,
}

const JOB_COLUMNS: &str =
    "id, kind, owner, hospital_code, state, stage, done, total, result_url, message, created_at, updated_at, finished_at";

fn job_from_row(r: &Row<'_>) -> Result<JobRecord> {
    let state: String = r.get(4)?;
    Ok(JobRecord {
        id: r.get(0)?,
        kind: r.get(1)?,
        owner: r.get(2)?,
        hospital_code: r.get(3)?,
        state: JobState::parse(&state).ok_or_else(|| StoreError::Column(format!("列 state 的值“{state}”不是已知任务状态")))?,
        stage: r.get(5)?,
        done: r.get(6)?,
        total: r.get(7)?,
        result_url: r.get(8)?,
        message: r.get(9)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
        finished_at: r.get(12)?,
    })
}

fn clamp_count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Store {
    /// Writes a new running job (stage 排队). An id already used is an error.
    pub fn create_job(&mut self, job: &NewJob<'_>, now: DateTime<Utc>) -> Result<()> {
        if job.id < 1 || job.kind.trim().is_empty() {
            return Err(StoreError::Invalid("任务编号须为正整数，任务类型不能为空".into()));
        }
        let at = timestamp(now);
        self.conn.execute(
            "INSERT INTO jobs (id, kind, owner, hospital_code, state, stage, done, total, message, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'running', '排队', 0, 0, '', ?5, ?5)",
            params![job.id, job.kind, job.owner, job.hospital_code, at],
        )?;
        Ok(())
    }

    /// The stage and progress of a running job (a finished job is left alone).
    pub fn update_job_progress(&mut self, id: i64, stage: &str, done: u64, total: u64, now: DateTime<Utc>) -> Result<()> {
        self.conn.execute(
            "UPDATE jobs SET stage = ?2, done = ?3, total = ?4, updated_at = ?5 WHERE id = ?1 AND state = 'running'",
            params![id, stage, clamp_count(done), clamp_count(total), timestamp(now)],
        )?;
        Ok(())
    }

    /// Finishes a running job: `done` with its result URL, or `failed`/`interrupted` with the
    /// reason. `Ok(false)` if the job does not exist or has already finished.
    pub fn finish_job(&mut self, id: i64, state: JobState, result_url: Option<&str>, message: &str, now: DateTime<Utc>) -> Result<bool> {
        if state == JobState::Running {
            return Err(StoreError::Invalid("结束任务时状态不能是 running".into()));
        }
        if state == JobState::Done && result_url.is_none() {
            return Err(StoreError::Invalid("已完成的任务须给出结果链接".into()));
        }
        let at = timestamp(now);
        let n = self.conn.execute(
            "UPDATE jobs SET state = ?2, result_url = ?3, message = ?4, updated_at = ?5, finished_at = ?5
             WHERE id = ?1 AND state = 'running'",
            params![id, state.as_str(), result_url, message, at],
        )?;
        Ok(n == 1)
    }

    /// One job, if it exists and is in the scope (a hospital user: jobs of their hospital).
    pub fn job(&self, scope: &Scope, id: i64) -> Result<Option<JobRecord>> {
        self.conn
            .query_row(
                &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1 AND (?2 IS NULL OR hospital_code = ?2)"),
                params![id, scope.param()],
                job_from_row,
            )
            .optional()
    }

    /// One page of the jobs in the scope, newest first, with their number.
    pub fn jobs_page(&self, scope: &Scope, page: &PageRequest) -> Result<Paged<JobRecord>> {
        let total: i64 =
            self.conn.query_row("SELECT COUNT(*) FROM jobs WHERE (?1 IS NULL OR hospital_code = ?1)", params![scope.param()], |r| r.get(0))?;
        let items = self.conn.query_map(
            &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE (?1 IS NULL OR hospital_code = ?1) ORDER BY id DESC LIMIT ?2 OFFSET ?3"),
            params![scope.param(), page.limit_i64(), page.offset_i64()],
            job_from_row,
        )?;
        Ok(page.paged(total, items))
    }

    /// The largest job id ever written (0 if none): a server hands out ids above it.
    pub fn max_job_id(&self) -> Result<i64> {
        self.conn.query_row(
            "SELECT CAST(COALESCE(MAX(m), 0) AS BIGINT) FROM (
                 SELECT MAX(id) AS m FROM jobs UNION ALL SELECT MAX(job_id) AS m FROM uploads) AS ids",
            params![],
            |r| r.get(0),
        )
    }

    /// At server start: every job still `running` was cut off by the previous server's end. A
    /// job whose upload committed is `done` (the upload and its QC report are whole); any other
    /// is `interrupted` with a Chinese explanation. Returns how many jobs were closed. Only one
    /// server may run on a store (it owns the running jobs).
    pub fn interrupt_running_jobs(&mut self, now: DateTime<Utc>) -> Result<usize> {
        let at = timestamp(now);
        let tx = self.conn.transaction()?;
        let running: Vec<(i64, String, String)> = tx.query_map(
            "SELECT id, kind, stage FROM jobs WHERE state = 'running' ORDER BY id",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        for (id, kind, stage) in &running {
            let upload: Option<(i64, i64, i64)> = tx
                .query_row(
                    "SELECT id, record_count, rejected_count FROM uploads WHERE job_id = ?1 ORDER BY id LIMIT 1",
                    params![id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let (state, url, message) = match upload {
                Some((uid, records, rejected)) => (
                    JobState::Done,
                    Some(format!("/uploads/{uid}")),
                    format!("上传 #{uid} 已完整入库（{records} 份清单，拒收 {rejected} 行，质控报告随上传一并保存）；服务随后重启，任务结果按入库记录补记"),
                ),
                None => (
                    JobState::Interrupted,
                    None,
                    format!(
                        "任务中断：服务在“{stage}”步骤时停止（重启、崩溃或被终止），{kind}未完成，{}",
                        if kind == "上传" { "该文件的清单一份也没有入库，请重新上传" } else { "请重新运行" }
                    ),
                ),
            };
            tx.execute(
                "UPDATE jobs SET state = ?2, result_url = ?3, message = ?4, updated_at = ?5, finished_at = ?5 WHERE id = ?1",
                params![*id, state.as_str(), url, message, at],
            )?;
        }
        tx.commit()?;
        Ok(running.len())
    }
}
