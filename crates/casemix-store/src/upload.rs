//! Uploads: the pure screening of a file's lists ([`screen_upload`]: one identity, the
//! settlement period), the one-transaction record of an upload with its rejections, its QC
//! report and its audit entry ([`Store::record_batch`]), and the paged reads.

use crate::backend::{params, OptionalExtension, Row};
use crate::{
    audit, check_month, Months, rules, sha256_hex, timestamp, ListVersion, PageRequest, Paged, Result, Role, Scope, Store,
    StoreError, Upload, UploadMeta, UploadStatus, UploadSummary, User,
};
use casemix_io::Rejection;
use casemix_model::SettlementList;
use chrono::{DateTime, Utc};

/// The lists of one upload after [`screen_upload`]: every list here has a non-empty `list_id`
/// and the upload's `hospital_code`, and (without the period override) a discharge month equal
/// to the period; the others are `rejections`, each with its file line.
#[derive(Debug, Clone, PartialEq)]
pub struct Screened {
    pub lists: Vec<SettlementList>,
    /// The file line of each accepted list (0 = unknown).
    pub lines: Vec<u64>,
    /// The lists refused by the screening, in file order.
    pub rejections: Vec<Rejection>,
    /// Accepted lists discharged outside the period (only with the override).
    pub out_of_period: usize,
    hospital_code: String,
    period: String,
    period_override: bool,
}

impl Screened {
    /// Lists received (accepted + refused by the screening).
    pub fn received(&self) -> usize {
        self.lists.len() + self.rejections.len()
    }
}

/// The QC report of an upload's accepted lists, committed in the upload's transaction.
#[derive(Debug, Clone, Copy)]
pub struct QcAttachment<'a> {
    pub lists: usize,
    pub lists_with_errors: usize,
    /// The report as JSON (the workbench's `QcReport`), kept verbatim.
    pub report_json: &'a str,
}

/// One upload to record: the screened lists, the reader's own rejections and the QC report.
#[derive(Debug, Clone, Copy)]
pub struct UploadBatch<'a> {
    pub screened: &'a Screened,
    pub rejections: &'a [Rejection],
    pub qc: Option<QcAttachment<'a>>,
}

/// Screens the lists of one upload (pure; run it, and QC, before the store transaction):
/// - `list_id` is trimmed; an empty one is refused (`list_id_missing`);
/// - a list without `hospital_code` takes the upload's hospital; a list naming another hospital
///   is refused (`hospital_mismatch`) — a hospital can never write another hospital's list;
/// - a list discharged in another month than `meta.period` is refused
///   (`discharge_month_mismatch`) unless `meta.period_override` (a bureau_admin's decision,
///   checked and logged by [`Store::record_batch`]); a list without discharge time counts in
///   the period.
///
/// `lines[i]` is the file line of `lists[i]` (missing = 0, "position unknown"); every rejection
/// names its line, list id, field and rule.
pub fn screen_upload(meta: &UploadMeta, lists: Vec<SettlementList>, lines: &[u64]) -> Screened {
    let hosp = meta.hospital_code.trim();
    let mut out = Screened {
        lists: Vec::with_capacity(lists.len()),
        lines: Vec::with_capacity(lists.len()),
        rejections: Vec::new(),
        out_of_period: 0,
        hospital_code: meta.hospital_code.clone(),
        period: meta.period.clone(),
        period_override: meta.period_override,
    };
    for (i, mut list) in lists.into_iter().enumerate() {
        let line = lines.get(i).copied().unwrap_or(0);
        let id = list.list_id.trim().to_string();
        let at = if line > 0 { format!("第 {line} 行") } else { format!("上传中第 {} 份清单", i + 1) };
        if id.is_empty() {
            let msg = format!("{at}缺少清单流水号(list_id)");
            out.rejections.push(Rejection::new(line, "", "list_id", casemix_io::rules::LIST_ID_MISSING, &msg));
            continue;
        }
        list.list_id = id;
        match list.hospital_code.as_deref().map(str::trim) {
            None | Some("") => list.hospital_code = Some(hosp.to_string()),
            Some(h) if h == hosp => list.hospital_code = Some(h.to_string()),
            Some(h) => {
                let msg = format!("{at}清单“{}”的定点医药机构编号“{h}”与本次上传的医院“{hosp}”不符，未入库", list.list_id);
                out.rejections.push(Rejection::new(line, &list.list_id, "hospital_code", rules::HOSPITAL_MISMATCH, &msg));
                continue;
            }
        }
        if let Some(d) = list.discharge_time {
            let month = d.format("%Y-%m").to_string();
            if month != meta.period {
                if !meta.period_override {
                    let msg = format!(
                        "{at}清单“{}”出院时间 {} 属于 {month}，不在本次上传的结算期间 {} 内，未入库（跨期上传须由医保局管理员确认）",
                        list.list_id,
                        d.format("%Y-%m-%d %H:%M"),
                        meta.period
                    );
                    out.rejections.push(Rejection::new(line, &list.list_id, "discharge_time", rules::DISCHARGE_MONTH_MISMATCH, &msg));
                    continue;
                }
                out.out_of_period += 1;
            }
        }
        out.lists.push(list);
        out.lines.push(line);
    }
    out
}

const UPLOAD_COLUMNS: &str = "id, hospital_code, period, uploaded_by, uploaded_at, file_name, file_hash, record_count,
     rejected_count, new_count, changed_count, unchanged_count, status, period_override, job_id";

fn upload_from_row(r: &Row<'_>) -> Result<Upload> {
    Ok(Upload {
        id: r.get(0)?,
        hospital_code: r.get(1)?,
        period: r.get(2)?,
        uploaded_by: r.get(3)?,
        uploaded_at: r.get(4)?,
        file_name: r.get(5)?,
        file_hash: r.get(6)?,
        record_count: r.get(7)?,
        rejected_count: r.get(8)?,
        new_count: r.get(9)?,
        changed_count: r.get(10)?,
        unchanged_count: r.get(11)?,
        status: UploadStatus::parse(&r.get::<String>(12)?),
        period_override: r.get(13)?,
        job_id: r.get(14)?,
    })
}

fn rejection_from_row(r: &Row<'_>) -> Result<Rejection> {
    Ok(Rejection {
        line: r.get::<i64>(0)?.max(0) as u64,
        list_id: r.get(1)?,
        field: r.get(2)?,
        rule: r.get(3)?,
        message: r.get(4)?,
    })
}

impl Store {
    /// Records one upload atomically; see [`Store::record_upload_with_progress`].
    pub fn record_upload(
        &mut self,
        meta: &UploadMeta,
        lists: &[SettlementList],
        rejections: &[Rejection],
        actor: &User,
        now: DateTime<Utc>,
    ) -> Result<UploadSummary> {
        self.record_upload_with_progress(meta, lists, rejections, actor, now, &mut |_| {})
    }

    /// [`screen_upload`] (lines unknown) then [`Store::record_batch`] without a QC report.
    /// `on_list(i)` is called after accepted list `i` is written (progress; tests use it to
    /// crash mid-upload).
    pub fn record_upload_with_progress(
        &mut self,
        meta: &UploadMeta,
        lists: &[SettlementList],
        rejections: &[Rejection],
        actor: &User,
        now: DateTime<Utc>,
        on_list: &mut dyn FnMut(usize),
    ) -> Result<UploadSummary> {
        let screened = screen_upload(meta, lists.to_vec(), &[]);
        self.record_batch(meta, &UploadBatch { screened: &screened, rejections, qc: None }, actor, now, on_list)
    }

    /// Records one screened upload in ONE transaction: the upload row (with its job id and
    /// period override), per list a new version when its content hash differs from the current
    /// version (the previous one stays, not current) or nothing when equal, the rejections
    /// (the reader's and the screening's, by line), the QC report and one audit entry. A crash
    /// at any point leaves either all of it or none of it. Lists are applied in order, so a
    /// list_id repeated in one file gets one version per distinct content and the last is current.
    ///
    /// Allowed: bureau_admin for any hospital, hospital_user for their own; the period override
    /// only for a bureau_admin.
    pub fn record_batch(
        &mut self,
        meta: &UploadMeta,
        batch: &UploadBatch<'_>,
        actor: &User,
        now: DateTime<Utc>,
        on_list: &mut dyn FnMut(usize),
    ) -> Result<UploadSummary> {
        check_upload_allowed(meta, actor)?;
        let sc = batch.screened;
        if sc.hospital_code != meta.hospital_code || sc.period != meta.period || sc.period_override != meta.period_override {
            return Err(StoreError::Invalid("程序错误：清单的筛查与本次上传的医院、期间或跨期确认不一致".into()));
        }
        let at = timestamp(now);
        let hosp = meta.hospital_code.as_str();
        let tx = self.conn.transaction()?;
        let same_file_as: Option<i64> = match &meta.file_hash {
            Some(h) => tx
                .query_row("SELECT MIN(id) FROM uploads WHERE hospital_code = ?1 AND file_hash = ?2", params![hosp, h], |r| r.get(0))
                .optional()?
                .flatten(),
            None => None,
        };
        let upload_id = tx.insert_returning_id(
            "INSERT INTO uploads (hospital_code, period, uploaded_by, uploaded_at, file_name, file_hash, record_count,
                                  rejected_count, new_count, changed_count, unchanged_count, status, period_override, job_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, 0, 0, 0, 'committed', ?8, ?9) RETURNING id",
            params![hosp, meta.period, actor.login, at, meta.file_name, meta.file_hash, sc.received() as i64, meta.period_override, meta.job_id],
        )?;
        let (mut new, mut changed, mut unchanged) = (0usize, 0usize, 0usize);
        // Versions are only appended and the newest one is the current one, so one look-up on
        // the primary key gives both the current content hash and the next version number.
        let latest = "SELECT version, content_hash, is_current FROM settlement_versions
             WHERE hospital_code = ?1 AND list_id = ?2 ORDER BY version DESC LIMIT 1";
        let retire = "UPDATE settlement_versions SET is_current = 0 WHERE hospital_code = ?1 AND list_id = ?2 AND version = ?3";
        let insert = "INSERT INTO settlement_versions
                 (hospital_code, list_id, version, upload_id, discharge_month, content_hash, payload, is_current)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1)";
        for (i, list) in sc.lists.iter().enumerate() {
            let id = list.list_id.as_str();
            let payload = serde_json::to_string(list)?;
            let hash = sha256_hex(payload.as_bytes());
            let last: Option<(i64, String, bool)> =
                tx.query_row(latest, params![hosp, id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()?;
            match last {
                Some((_, h, true)) if h == hash => unchanged += 1,
                last => {
                    let v = match last {
                        Some((v, _, true)) => {
                            changed += 1;
                            tx.execute(retire, params![hosp, id, v])?;
                            v
                        }
                        Some((v, _, false)) => {
                            new += 1;
                            v
                        }
                        None => {
                            new += 1;
                            0
                        }
                    };
                    let month = list.discharge_time.map(|d| d.format("%Y-%m").to_string()).unwrap_or_else(|| meta.period.clone());
                    tx.execute(insert, params![hosp, id, v + 1, upload_id, month, hash, payload])?;
                }
            }
            on_list(i);
        }
        let mut all_rej: Vec<&Rejection> = batch.rejections.iter().chain(&sc.rejections).collect();
        all_rej.sort_by_key(|r| r.line);
        let rej = "INSERT INTO rejections (upload_id, line, list_id, field, rule, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
        for r in &all_rej {
            tx.execute(rej, params![upload_id, i64::try_from(r.line).unwrap_or(i64::MAX), r.list_id, r.field, r.rule, r.message])?;
        }
        if let Some(qc) = &batch.qc {
            tx.execute(
                "INSERT INTO qc_reports (upload_id, lists, lists_with_errors, report) VALUES (?1, ?2, ?3, ?4)",
                params![upload_id, qc.lists as i64, qc.lists_with_errors as i64, qc.report_json],
            )?;
        }
        let rejected = all_rej.len();
        let status = if new + changed > 0 { UploadStatus::Committed } else { UploadStatus::Unchanged };
        tx.execute(
            "UPDATE uploads SET rejected_count = ?2, new_count = ?3, changed_count = ?4, unchanged_count = ?5, status = ?6
             WHERE id = ?1",
            params![upload_id, rejected as i64, new as i64, changed as i64, unchanged as i64, status.as_str()],
        )?;
        let detail = serde_json::json!({
            "hospital_code": hosp, "period": meta.period, "file_name": meta.file_name,
            "file_hash": meta.file_hash, "records": sc.received(), "new": new, "changed": changed,
            "unchanged": unchanged, "rejected": rejected, "status": status.as_str(),
            "period_override": meta.period_override, "out_of_period": sc.out_of_period,
            "job_id": meta.job_id, "qc_lists_with_errors": batch.qc.map(|q| q.lists_with_errors),
        });
        audit(&tx, &at, &actor.login, "upload", &format!("upload:{upload_id}"), Some(hosp), &detail)?;
        tx.commit()?;
        Ok(UploadSummary { upload_id, records: sc.received(), new, changed, unchanged, rejected, status, same_file_as })
    }

    /// Uploads in id order, within the scope (every row: prefer [`Store::uploads_page`]).
    pub fn uploads(&self, scope: &Scope) -> Result<Vec<Upload>> {
        self.conn.query_map(
            &format!("SELECT {UPLOAD_COLUMNS} FROM uploads WHERE (?1 IS NULL OR hospital_code = ?1) ORDER BY id"),
            params![scope.param()],
            upload_from_row,
        )
    }

    /// One page of the uploads in the scope, newest first, with their total number.
    pub fn uploads_page(&self, scope: &Scope, page: &PageRequest) -> Result<Paged<Upload>> {
        let total: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM uploads WHERE (?1 IS NULL OR hospital_code = ?1)",
            params![scope.param()],
            |r| r.get(0),
        )?;
        let items = self.conn.query_map(
            &format!("SELECT {UPLOAD_COLUMNS} FROM uploads WHERE (?1 IS NULL OR hospital_code = ?1) ORDER BY id DESC LIMIT ?2 OFFSET ?3"),
            params![scope.param(), page.limit_i64(), page.offset_i64()],
            upload_from_row,
        )?;
        Ok(page.paged(total, items))
    }

    /// One upload, if it exists and is in the scope.
    pub fn upload(&self, scope: &Scope, upload_id: i64) -> Result<Option<Upload>> {
        self.conn
            .query_row(
                &format!("SELECT {UPLOAD_COLUMNS} FROM uploads WHERE id = ?1 AND (?2 IS NULL OR hospital_code = ?2)"),
                params![upload_id, scope.param()],
                upload_from_row,
            )
            .optional()
    }

    /// The upload a job recorded (committed with it), if any and in the scope.
    pub fn upload_of_job(&self, scope: &Scope, job_id: i64) -> Result<Option<Upload>> {
        self.conn
            .query_row(
                &format!("SELECT {UPLOAD_COLUMNS} FROM uploads WHERE job_id = ?1 AND (?2 IS NULL OR hospital_code = ?2) ORDER BY id LIMIT 1"),
                params![job_id, scope.param()],
                upload_from_row,
            )
            .optional()
    }

    /// The rejections of one upload (empty if the upload is outside the scope), in stored order.
    pub fn rejections(&self, scope: &Scope, upload_id: i64) -> Result<Vec<Rejection>> {
        self.conn.query_map(
            "SELECT r.line, r.list_id, r.field, r.rule, r.message
             FROM rejections r JOIN uploads u ON u.id = r.upload_id
             WHERE r.upload_id = ?1 AND (?2 IS NULL OR u.hospital_code = ?2) ORDER BY r.id",
            params![upload_id, scope.param()],
            rejection_from_row,
        )
    }

    /// One page of an upload's rejections (stored order = file line order), with their number.
    pub fn rejections_page(&self, scope: &Scope, upload_id: i64, page: &PageRequest) -> Result<Paged<Rejection>> {
        let total: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM rejections r JOIN uploads u ON u.id = r.upload_id
             WHERE r.upload_id = ?1 AND (?2 IS NULL OR u.hospital_code = ?2)",
            params![upload_id, scope.param()],
            |r| r.get(0),
        )?;
        let items = self.conn.query_map(
            "SELECT r.line, r.list_id, r.field, r.rule, r.message
             FROM rejections r JOIN uploads u ON u.id = r.upload_id
             WHERE r.upload_id = ?1 AND (?2 IS NULL OR u.hospital_code = ?2) ORDER BY r.id LIMIT ?3 OFFSET ?4",
            params![upload_id, scope.param(), page.limit_i64(), page.offset_i64()],
            rejection_from_row,
        )?;
        Ok(page.paged(total, items))
    }

    /// The QC report committed with an upload (JSON as given), if any and in the scope.
    pub fn qc_report_json(&self, scope: &Scope, upload_id: i64) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT q.report FROM qc_reports q JOIN uploads u ON u.id = q.upload_id
                 WHERE q.upload_id = ?1 AND (?2 IS NULL OR u.hospital_code = ?2)",
                params![upload_id, scope.param()],
                |r| r.get(0),
            )
            .optional()
    }


    /// The current version of every list in the scope whose discharge month is in `months`,
    /// ordered by (hospital_code, list_id).
    pub fn current_lists(&self, scope: &Scope, months: &Months) -> Result<Vec<SettlementList>> {
        for m in months.from.iter().chain(&months.to) {
            check_month("出院月份", m)?;
        }
        self.conn.query_map(
            "SELECT payload FROM settlement_versions
             WHERE is_current = 1 AND (?1 IS NULL OR hospital_code = ?1)
               AND (?2 IS NULL OR discharge_month >= ?2) AND (?3 IS NULL OR discharge_month <= ?3)
             ORDER BY hospital_code, list_id",
            params![scope.param(), months.from, months.to],
            |r| Ok(serde_json::from_str(&r.get::<String>(0)?)?),
        )
    }

    /// Number of current lists in the scope and month range (without decoding them).
    pub fn count_current(&self, scope: &Scope, months: &Months) -> Result<i64> {
        self.conn.query_row(
            "SELECT COUNT(*) FROM settlement_versions
             WHERE is_current = 1 AND (?1 IS NULL OR hospital_code = ?1)
               AND (?2 IS NULL OR discharge_month >= ?2) AND (?3 IS NULL OR discharge_month <= ?3)",
            params![scope.param(), months.from, months.to],
            |r| r.get(0),
        )
    }

    /// Every version of `list_id` in the scope, ordered by (hospital_code, version). Lists are
    /// identified by (hospital_code, list_id): a page about ONE list uses [`Store::history_of`].
    pub fn history(&self, scope: &Scope, list_id: &str) -> Result<Vec<ListVersion>> {
        self.versions(scope, None, list_id)
    }

    /// Every version of the list (hospital_code, list_id), if in the scope, oldest first.
    pub fn history_of(&self, scope: &Scope, hospital_code: &str, list_id: &str) -> Result<Vec<ListVersion>> {
        if !scope.allows(hospital_code) {
            return Ok(Vec::new());
        }
        self.versions(scope, Some(hospital_code), list_id)
    }

    fn versions(&self, scope: &Scope, hospital_code: Option<&str>, list_id: &str) -> Result<Vec<ListVersion>> {
        self.conn.query_map(
            "SELECT v.hospital_code, v.list_id, v.version, v.upload_id, u.uploaded_at, v.discharge_month,
                    v.content_hash, v.is_current, v.payload
             FROM settlement_versions v JOIN uploads u ON u.id = v.upload_id
             WHERE v.list_id = ?1 AND (?2 IS NULL OR v.hospital_code = ?2) AND (?3 IS NULL OR v.hospital_code = ?3)
             ORDER BY v.hospital_code, v.version",
            params![list_id, scope.param(), hospital_code],
            |r| {
                let payload: String = r.get(8)?;
                Ok(ListVersion {
                    hospital_code: r.get(0)?,
                    list_id: r.get(1)?,
                    version: r.get(2)?,
                    upload_id: r.get(3)?,
                    uploaded_at: r.get(4)?,
                    discharge_month: r.get(5)?,
                    content_hash: r.get(6)?,
                    is_current: r.get::<i64>(7)? == 1,
                    list: serde_json::from_str(&payload)?,
                })
            },
        )
    }
}

/// Who may record an upload for whom, and the period override's rule (bureau_admin for any
/// hospital, hospital_user for their own; the override only for a bureau_admin), checked before
/// anything is read so a refused upload costs nothing. [`Store::record_batch`] checks it again.
pub fn check_upload(meta: &UploadMeta, actor: &User) -> Result<()> {
    check_upload_allowed(meta, actor)
}

fn check_upload_allowed(meta: &UploadMeta, actor: &User) -> Result<()> {
    check_month("结算期间", &meta.period)?;
    if meta.hospital_code.trim().is_empty() {
        return Err(StoreError::Invalid("上传必须指定医院编号".into()));
    }
    match actor.role {
        Role::BureauAdmin => {}
        Role::HospitalUser if meta.period_override => {
            return Err(StoreError::Forbidden("跨期上传（出院月份不在结算期间内）须由医保局管理员确认".into()))
        }
        Role::HospitalUser if actor.scope().allows(&meta.hospital_code) => {}
        Role::HospitalUser => {
            return Err(StoreError::Forbidden(format!("医院用户 {} 不能为其他医院（{}）上传", actor.login, meta.hospital_code)))
        }
        r => return Err(StoreError::Forbidden(format!("{}不能上传结算清单", r.label_zh()))),
    }
    Ok(())
}
