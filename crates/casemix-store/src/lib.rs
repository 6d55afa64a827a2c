//! Workflow state of the bureau and hospital workbench in SQLite (issue 7, the store):
//! users and roles, uploads of settlement lists with per-list versions, the structural rejections
//! of each upload, review decisions and the append-only audit log.
//!
//! - One file, no server: [`Store::open`] (WAL journal, foreign keys on, `synchronous=FULL`) or
//!   [`Store::open_in_memory`]. The schema is built by ordered migrations ([`MIGRATIONS`]) recorded
//!   in `schema_version`; opening an up-to-date database changes nothing.
//! - An upload is **one transaction** ([`Store::record_upload`]): the upload row, a new version of
//!   every changed list (previous version kept, no longer current), the rejections and the audit
//!   entry commit together or not at all. A list whose canonical JSON has the same SHA-256 as its
//!   current version is `unchanged` and gets no new version, so re-uploading a file is idempotent.
//! - Lists are keyed by (hospital_code, list_id): an upload for hospital A can never supersede a
//!   list of hospital B.
//! - Every read takes a [`Scope`] (derived from the user: bureau roles see all, a hospital user
//!   only their hospital) and every value reaches SQL as a bound parameter; no SQL text is ever
//!   built from values.
//! - The store never reads the clock: every write takes `now` from the caller.
//! - Passwords are stored as argon2id PHC strings (`argon2` crate defaults, random salt from the
//!   OS); verification is the crate's constant-time comparison.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use casemix_io::Rejection;
use casemix_model::SettlementList;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The schema, as ordered migrations. Migration `i` (0-based) brings the database to version
/// `i + 1`. Never edit a released migration; append a new one.
pub const MIGRATIONS: &[&str] = &[
    // 1: workflow state
    r#"
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE CHECK (length(login) > 0),
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL
                  CHECK (role IN ('bureau_admin', 'bureau_analyst', 'bureau_auditor', 'hospital_user')),
    hospital_code TEXT CHECK (hospital_code IS NULL OR length(hospital_code) > 0),
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    -- a hospital user is bound to exactly one hospital; bureau roles to none
    CHECK ((role = 'hospital_user') = (hospital_code IS NOT NULL))
);

CREATE TABLE uploads (
    id              INTEGER PRIMARY KEY,
    hospital_code   TEXT NOT NULL CHECK (length(hospital_code) > 0),
    period          TEXT NOT NULL CHECK (period GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]'),
    uploaded_by     TEXT NOT NULL,
    uploaded_at     TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    file_hash       TEXT,
    record_count    INTEGER NOT NULL,
    rejected_count  INTEGER NOT NULL,
    new_count       INTEGER NOT NULL,
    changed_count   INTEGER NOT NULL,
    unchanged_count INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('committed', 'unchanged'))
);
CREATE INDEX uploads_hospital_period ON uploads (hospital_code, period);
CREATE INDEX uploads_file_hash ON uploads (hospital_code, file_hash);

CREATE TABLE settlement_versions (
    hospital_code   TEXT NOT NULL,
    list_id         TEXT NOT NULL CHECK (length(list_id) > 0),
    version         INTEGER NOT NULL CHECK (version >= 1),
    upload_id       INTEGER NOT NULL REFERENCES uploads (id),
    discharge_month TEXT NOT NULL CHECK (discharge_month GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]'),
    content_hash    TEXT NOT NULL,
    payload         TEXT NOT NULL,
    is_current      INTEGER NOT NULL CHECK (is_current IN (0, 1)),
    PRIMARY KEY (hospital_code, list_id, version)
);
-- at most one current version per list
CREATE UNIQUE INDEX settlement_versions_current
    ON settlement_versions (hospital_code, list_id) WHERE is_current = 1;
CREATE INDEX settlement_versions_hospital_month
    ON settlement_versions (hospital_code, discharge_month) WHERE is_current = 1;
CREATE INDEX settlement_versions_month
    ON settlement_versions (discharge_month) WHERE is_current = 1;
CREATE INDEX settlement_versions_upload ON settlement_versions (upload_id);
CREATE INDEX settlement_versions_list ON settlement_versions (list_id);

CREATE TABLE rejections (
    id        INTEGER PRIMARY KEY,
    upload_id INTEGER NOT NULL REFERENCES uploads (id),
    line      INTEGER NOT NULL,
    list_id   TEXT NOT NULL,
    field     TEXT NOT NULL,
    rule      TEXT NOT NULL,
    message   TEXT NOT NULL
);
CREATE INDEX rejections_upload ON rejections (upload_id);

CREATE TABLE review_decisions (
    id            INTEGER PRIMARY KEY,
    flag_id       TEXT NOT NULL CHECK (length(flag_id) > 0),
    hospital_code TEXT NOT NULL,
    list_id       TEXT NOT NULL,
    decision      TEXT NOT NULL CHECK (decision IN ('confirm', 'dismiss')),
    reason        TEXT NOT NULL,
    reviewer      TEXT NOT NULL,
    decided_at    TEXT NOT NULL
);
CREATE INDEX review_decisions_flag ON review_decisions (flag_id);
CREATE INDEX review_decisions_hospital ON review_decisions (hospital_code);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    object        TEXT NOT NULL,
    hospital_code TEXT,
    detail        TEXT NOT NULL CHECK (json_valid(detail))
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, at);
CREATE INDEX audit_log_hospital ON audit_log (hospital_code, at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
"#,
];

/// Errors of the store; messages are Chinese.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("数据库错误：{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("数据库结构版本 {found} 高于本程序支持的版本 {supported}，请升级 casemix")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("登录名“{0}”已存在")]
    LoginTaken(String),
    #[error("医院用户（hospital_user）必须绑定一家医院（hospital_code）")]
    HospitalRequired,
    #[error("医保局角色（{0}）不能绑定医院")]
    HospitalNotAllowed(&'static str),
    #[error("无权限：{0}")]
    Forbidden(String),
    #[error("参数无效：{0}")]
    Invalid(String),
    #[error("密码哈希失败：{0}")]
    PasswordHash(String),
    #[error("清单 JSON 读写失败：{0}")]
    Json(#[from] serde_json::Error),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A user's role (用户角色).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 医保局管理员: users, uploads for any hospital, review decisions.
    BureauAdmin,
    /// 医保局分析员: reads everything, changes nothing here.
    BureauAnalyst,
    /// 医保局审核员: reads everything, records review decisions.
    BureauAuditor,
    /// 医院用户: reads and uploads for the one hospital bound to the account.
    HospitalUser,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::BureauAdmin, Role::BureauAnalyst, Role::BureauAuditor, Role::HospitalUser];
    pub fn as_str(self) -> &'static str {
        match self {
            Role::BureauAdmin => "bureau_admin",
            Role::BureauAnalyst => "bureau_analyst",
            Role::BureauAuditor => "bureau_auditor",
            Role::HospitalUser => "hospital_user",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::BureauAdmin => "医保局管理员",
            Role::BureauAnalyst => "医保局分析员",
            Role::BureauAuditor => "医保局审核员",
            Role::HospitalUser => "医院用户",
        }
    }
}

/// A stored user (never carries the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub login: String,
    pub display_name: String,
    pub role: Role,
    /// Set exactly for [`Role::HospitalUser`].
    pub hospital_code: Option<String>,
}

impl User {
    /// What this user may see: bureau roles everything, a hospital user their hospital.
    pub fn scope(&self) -> Scope {
        match (&self.role, &self.hospital_code) {
            (Role::HospitalUser, Some(h)) => Scope::Hospital(h.clone()),
            // a hospital user without hospital cannot exist (CHECK); fail closed anyway
            (Role::HospitalUser, None) => Scope::Hospital(String::new()),
            _ => Scope::All,
        }
    }
}

/// The rows a query may return: every hospital, or one hospital's. Applied in SQL as
/// `(?n IS NULL OR hospital_code = ?n)` with the code bound as a parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Hospital(String),
}

impl Scope {
    /// The bound value: `None` = no restriction.
    fn param(&self) -> Option<&str> {
        match self {
            Scope::All => None,
            Scope::Hospital(h) => Some(h),
        }
    }
    pub fn allows(&self, hospital_code: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Hospital(h) => h == hospital_code,
        }
    }
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub login: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub hospital_code: Option<&'a str>,
    pub password: &'a str,
}

/// What the caller knows about an uploaded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadMeta {
    /// The hospital the upload is for (定点医药机构编号).
    pub hospital_code: String,
    /// Settlement period `YYYY-MM` (结算期间); also the discharge month of lists without a
    /// discharge time.
    pub period: String,
    pub file_name: String,
    /// SHA-256 (hex) of the file's bytes, if the caller has it ([`sha256_hex`]).
    pub file_hash: Option<String>,
}

/// `committed` = at least one new version; `unchanged` = every list equal to its current version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadStatus {
    Committed,
    Unchanged,
}

impl UploadStatus {
    fn as_str(self) -> &'static str {
        match self {
            UploadStatus::Committed => "committed",
            UploadStatus::Unchanged => "unchanged",
        }
    }
    fn parse(s: &str) -> UploadStatus {
        if s == "unchanged" {
            UploadStatus::Unchanged
        } else {
            UploadStatus::Committed
        }
    }
}

/// The outcome of one upload. `records = new + changed + unchanged + store_rejected`; `rejected`
/// counts all rejection rows stored (the caller's plus the store's own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadSummary {
    pub upload_id: i64,
    /// Settlement lists received (not counting the caller's rejections).
    pub records: usize,
    /// Lists seen for the first time (version 1).
    pub new: usize,
    /// Lists whose content differs from their current version (version n + 1).
    pub changed: usize,
    /// Lists identical to their current version (no new version).
    pub unchanged: usize,
    /// Rejection rows stored for this upload.
    pub rejected: usize,
    pub status: UploadStatus,
    /// An earlier upload of the same hospital with the same file hash, if any.
    pub same_file_as: Option<i64>,
}

/// A stored upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub id: i64,
    pub hospital_code: String,
    pub period: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
    pub file_name: String,
    pub file_hash: Option<String>,
    pub record_count: i64,
    pub rejected_count: i64,
    pub new_count: i64,
    pub changed_count: i64,
    pub unchanged_count: i64,
    pub status: UploadStatus,
}

/// One version of one settlement list.
#[derive(Debug, Clone, PartialEq)]
pub struct ListVersion {
    pub hospital_code: String,
    pub list_id: String,
    pub version: i64,
    pub upload_id: i64,
    pub uploaded_at: String,
    pub discharge_month: String,
    pub content_hash: String,
    pub is_current: bool,
    pub list: SettlementList,
}

/// An inclusive range of discharge months `YYYY-MM`; `None` = open end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Months {
    pub from: Option<String>,
    pub to: Option<String>,
}

impl Months {
    pub fn all() -> Months {
        Months::default()
    }
    pub fn between(from: &str, to: &str) -> Months {
        Months { from: Some(from.to_string()), to: Some(to.to_string()) }
    }
    pub fn one(month: &str) -> Months {
        Months::between(month, month)
    }
}

/// 审核结论: confirm (确认违规) or dismiss (排除), as in `decisions.csv` of casemix-audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Confirm,
    Dismiss,
}

impl DecisionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Confirm => "confirm",
            DecisionKind::Dismiss => "dismiss",
        }
    }
    fn parse(s: &str) -> DecisionKind {
        if s == "confirm" {
            DecisionKind::Confirm
        } else {
            DecisionKind::Dismiss
        }
    }
}

/// A review decision on one audit flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDecision<'a> {
    pub flag_id: &'a str,
    pub hospital_code: &'a str,
    pub list_id: &'a str,
    pub decision: DecisionKind,
    pub reason: &'a str,
}

/// A stored review decision. Decisions are appended; the latest one per flag counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewDecision {
    pub id: i64,
    pub flag_id: String,
    pub hospital_code: String,
    pub list_id: String,
    pub decision: DecisionKind,
    pub reason: String,
    pub reviewer: String,
    pub decided_at: String,
}

/// One audit-log entry (操作日志): who, when, what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    /// `user_create`, `upload`, `review_decision`, …
    pub action: String,
    /// `user:<login>`, `upload:<id>`, `flag:<flag_id>`, …
    pub object: String,
    pub hospital_code: Option<String>,
    pub detail: serde_json::Value,
}

/// Filters of [`Store::audit_log`]; `None` = any. `since`/`until` are inclusive.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// At most this many entries (newest last); `None` = all.
    pub limit: Option<u32>,
}

/// Fixed-width UTC timestamp, so that text order is time order.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Lower-case hex SHA-256 of bytes (file hashes, list content hashes).
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn valid_month(m: &str) -> bool {
    let b = m.as_bytes();
    b.len() == 7
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && matches!(&m[5..], "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08" | "09" | "10" | "11" | "12")
}

fn check_month(what: &str, m: &str) -> Result<()> {
    if valid_month(m) {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!("{what}“{m}”不是 YYYY-MM 形式的月份")))
    }
}

/// Fixed salt used only to spend the same work when the login does not exist.
const DUMMY_SALT: &str = "Y2FzZW1peGR1bW15c2FsdA";

/// The store: one SQLite connection.
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (or creates) the database file and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // WAL: readers never block the writer; a crash leaves uncommitted frames that recovery ignores.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        // FULL: a commit is on disk when it returns (committed uploads survive power loss too).
        conn.pragma_update(None, "synchronous", "FULL")?;
        Store::init(conn)
    }

    /// A private in-memory database (tests, one-shot runs).
    pub fn open_in_memory() -> Result<Store> {
        Store::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Store> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut store = Store { conn };
        store.migrate()?;
        Ok(store)
    }

    /// The schema version of the open database (= `MIGRATIONS.len()` after opening).
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_version", [], |r| r.get(0))?)
    }

    fn migrate(&mut self) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
        )?;
        let current: i64 = tx.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_version", [], |r| r.get(0))?;
        let supported = MIGRATIONS.len() as i64;
        if current > supported {
            return Err(StoreError::SchemaTooNew { found: current, supported });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                params![i as i64 + 1],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// `PRAGMA integrity_check` is `ok`.
    pub fn integrity_ok(&self) -> Result<bool> {
        let s: String = self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        Ok(s == "ok")
    }

    // ---------------------------------------------------------------- users

    /// Creates a user with an argon2id password hash; audit-logged (never the password).
    pub fn create_user(&mut self, actor: &str, new: &NewUser<'_>, now: DateTime<Utc>) -> Result<User> {
        match (new.role, new.hospital_code) {
            (Role::HospitalUser, None) | (Role::HospitalUser, Some("")) => return Err(StoreError::HospitalRequired),
            (Role::HospitalUser, Some(_)) | (_, None) => {}
            (r, Some(_)) => return Err(StoreError::HospitalNotAllowed(r.as_str())),
        }
        if new.login.trim().is_empty() {
            return Err(StoreError::Invalid("登录名不能为空".into()));
        }
        if new.password.is_empty() {
            return Err(StoreError::Invalid("密码不能为空".into()));
        }
        let hash = hash_password(new.password)?;
        let at = timestamp(now);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let taken: bool =
            tx.query_row("SELECT EXISTS (SELECT 1 FROM users WHERE login = ?1)", params![new.login], |r| r.get(0))?;
        if taken {
            return Err(StoreError::LoginTaken(new.login.to_string()));
        }
        tx.execute(
            "INSERT INTO users (login, display_name, role, hospital_code, password_hash, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![new.login, new.display_name, new.role.as_str(), new.hospital_code, hash, at],
        )?;
        let id = tx.last_insert_rowid();
        let detail = serde_json::json!({
            "login": new.login, "display_name": new.display_name,
            "role": new.role.as_str(), "hospital_code": new.hospital_code,
        });
        audit(&tx, &at, actor, "user_create", &format!("user:{}", new.login), new.hospital_code, &detail)?;
        tx.commit()?;
        Ok(User {
            id,
            login: new.login.to_string(),
            display_name: new.display_name.to_string(),
            role: new.role,
            hospital_code: new.hospital_code.map(str::to_string),
        })
    }

    /// The user if `password` is right, `None` if the login is unknown or the password wrong
    /// (the same argon2 work is spent either way).
    pub fn verify_password(&self, login: &str, password: &str) -> Result<Option<User>> {
        let row = self
            .conn
            .query_row(
                "SELECT id, login, display_name, role, hospital_code, password_hash FROM users WHERE login = ?1",
                params![login],
                |r| Ok((user_from_row(r)?, r.get::<_, String>(5)?)),
            )
            .optional()?;
        let argon = Argon2::default();
        match row {
            Some((user, phc)) => {
                let parsed = PasswordHash::new(&phc).map_err(|e| StoreError::PasswordHash(e.to_string()))?;
                Ok(argon.verify_password(password.as_bytes(), &parsed).is_ok().then_some(user))
            }
            None => {
                let salt = SaltString::from_b64(DUMMY_SALT).map_err(|e| StoreError::PasswordHash(e.to_string()))?;
                let _ = argon.hash_password(password.as_bytes(), &salt);
                Ok(None)
            }
        }
    }

    /// Replaces a user's password (the user themself or a bureau_admin); audit-logged without
    /// the password. `Ok(false)` if the login does not exist.
    pub fn set_password(&mut self, actor: &User, login: &str, password: &str, now: DateTime<Utc>) -> Result<bool> {
        if actor.login != login && actor.role != Role::BureauAdmin {
            return Err(StoreError::Forbidden(format!("{} 不能修改其他用户的密码", actor.login)));
        }
        if password.is_empty() {
            return Err(StoreError::Invalid("密码不能为空".into()));
        }
        let hash = hash_password(password)?;
        let at = timestamp(now);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let hospital: Option<Option<String>> = tx
            .query_row("SELECT hospital_code FROM users WHERE login = ?1", params![login], |r| r.get(0))
            .optional()?;
        let Some(hospital) = hospital else {
            return Ok(false);
        };
        tx.execute("UPDATE users SET password_hash = ?2 WHERE login = ?1", params![login, hash])?;
        let detail = serde_json::json!({ "login": login });
        audit(&tx, &at, &actor.login, "password_change", &format!("user:{login}"), hospital.as_deref(), &detail)?;
        tx.commit()?;
        Ok(true)
    }

    pub fn user(&self, login: &str) -> Result<Option<User>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, login, display_name, role, hospital_code FROM users WHERE login = ?1",
                params![login],
                user_from_row,
            )
            .optional()?)
    }

    /// Users in id order.
    pub fn users(&self) -> Result<Vec<User>> {
        let mut st = self.conn.prepare("SELECT id, login, display_name, role, hospital_code FROM users ORDER BY id")?;
        let rows = st.query_map([], user_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    // ---------------------------------------------------------------- uploads

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

    /// Records one upload in ONE transaction: the upload row; per list, a new version when its
    /// content hash differs from the current version (the previous one stays, not current) or
    /// nothing when equal; the caller's rejections plus the store's own (a list of another
    /// hospital `hospital_mismatch`, an empty id `list_id_missing`, line 0 = position unknown);
    /// one audit entry. `on_list(i)` is called after list `i` is written (progress; tests use it
    /// to crash mid-upload). Lists of one upload are applied in order, so a list_id repeated in
    /// the same file gets one version per distinct content and the last one is current.
    ///
    /// Allowed: bureau_admin for any hospital, hospital_user for their own.
    pub fn record_upload_with_progress(
        &mut self,
        meta: &UploadMeta,
        lists: &[SettlementList],
        rejections: &[Rejection],
        actor: &User,
        now: DateTime<Utc>,
        on_list: &mut dyn FnMut(usize),
    ) -> Result<UploadSummary> {
        check_month("结算期间", &meta.period)?;
        if meta.hospital_code.trim().is_empty() {
            return Err(StoreError::Invalid("上传必须指定医院编号".into()));
        }
        match actor.role {
            Role::BureauAdmin => {}
            Role::HospitalUser if actor.scope().allows(&meta.hospital_code) => {}
            Role::HospitalUser => {
                return Err(StoreError::Forbidden(format!(
                    "医院用户 {} 不能为其他医院（{}）上传",
                    actor.login, meta.hospital_code
                )))
            }
            r => return Err(StoreError::Forbidden(format!("{}不能上传结算清单", r.label_zh()))),
        }
        let at = timestamp(now);
        let hosp = meta.hospital_code.as_str();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let same_file_as: Option<i64> = match &meta.file_hash {
            Some(h) => tx
                .query_row(
                    "SELECT MIN(id) FROM uploads WHERE hospital_code = ?1 AND file_hash = ?2",
                    params![hosp, h],
                    |r| r.get(0),
                )
                .optional()?
                .flatten(),
            None => None,
        };
        tx.execute(
            "INSERT INTO uploads (hospital_code, period, uploaded_by, uploaded_at, file_name, file_hash,
                                  record_count, rejected_count, new_count, changed_count, unchanged_count, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, 0, 0, 0, 'committed')",
            params![hosp, meta.period, actor.login, at, meta.file_name, meta.file_hash, lists.len() as i64],
        )?;
        let upload_id = tx.last_insert_rowid();
        let (mut new, mut changed, mut unchanged) = (0usize, 0usize, 0usize);
        let mut own_rejections: Vec<Rejection> = Vec::new();
        {
            let mut current = tx.prepare_cached(
                "SELECT version, content_hash FROM settlement_versions
                 WHERE hospital_code = ?1 AND list_id = ?2 AND is_current = 1",
            )?;
            let mut max_version = tx.prepare_cached(
                "SELECT COALESCE(MAX(version), 0) FROM settlement_versions WHERE hospital_code = ?1 AND list_id = ?2",
            )?;
            let mut retire = tx.prepare_cached(
                "UPDATE settlement_versions SET is_current = 0
                 WHERE hospital_code = ?1 AND list_id = ?2 AND is_current = 1",
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO settlement_versions
                     (hospital_code, list_id, version, upload_id, discharge_month, content_hash, payload, is_current)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1)",
            )?;
            for (i, list) in lists.iter().enumerate() {
                let id = list.list_id.trim();
                if id.is_empty() {
                    own_rejections.push(Rejection::new(
                        0,
                        "",
                        "list_id",
                        casemix_io::rules::LIST_ID_MISSING,
                        &format!("上传中第 {} 份清单缺少清单流水号(list_id)", i + 1),
                    ));
                    on_list(i);
                    continue;
                }
                if let Some(h) = list.hospital_code.as_deref() {
                    if h != hosp {
                        own_rejections.push(Rejection::new(
                            0,
                            id,
                            "hospital_code",
                            rules::HOSPITAL_MISMATCH,
                            &format!("定点医药机构编号“{h}”与本次上传的医院“{hosp}”不符"),
                        ));
                        on_list(i);
                        continue;
                    }
                }
                let payload = serde_json::to_string(list)?;
                let hash = sha256_hex(payload.as_bytes());
                let cur: Option<(i64, String)> =
                    current.query_row(params![hosp, id], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
                match cur {
                    Some((_, h)) if h == hash => unchanged += 1,
                    cur => {
                        if cur.is_some() {
                            changed += 1;
                            retire.execute(params![hosp, id])?;
                        } else {
                            new += 1;
                        }
                        let v: i64 = max_version.query_row(params![hosp, id], |r| r.get(0))?;
                        let month = list
                            .discharge_time
                            .map(|d| d.format("%Y-%m").to_string())
                            .unwrap_or_else(|| meta.period.clone());
                        insert.execute(params![hosp, id, v + 1, upload_id, month, hash, payload])?;
                    }
                }
                on_list(i);
            }
            let mut rej = tx.prepare_cached(
                "INSERT INTO rejections (upload_id, line, list_id, field, rule, message)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for r in rejections.iter().chain(&own_rejections) {
                rej.execute(params![upload_id, r.line as i64, r.list_id, r.field, r.rule, r.message])?;
            }
        }
        let rejected = rejections.len() + own_rejections.len();
        let status = if new + changed > 0 { UploadStatus::Committed } else { UploadStatus::Unchanged };
        tx.execute(
            "UPDATE uploads SET rejected_count = ?2, new_count = ?3, changed_count = ?4, unchanged_count = ?5,
                                status = ?6
             WHERE id = ?1",
            params![upload_id, rejected as i64, new as i64, changed as i64, unchanged as i64, status.as_str()],
        )?;
        let detail = serde_json::json!({
            "hospital_code": hosp, "period": meta.period, "file_name": meta.file_name,
            "file_hash": meta.file_hash, "records": lists.len(), "new": new, "changed": changed,
            "unchanged": unchanged, "rejected": rejected, "status": status.as_str(),
        });
        audit(&tx, &at, &actor.login, "upload", &format!("upload:{upload_id}"), Some(hosp), &detail)?;
        tx.commit()?;
        Ok(UploadSummary { upload_id, records: lists.len(), new, changed, unchanged, rejected, status, same_file_as })
    }

    /// Uploads in id order, within the scope.
    pub fn uploads(&self, scope: &Scope) -> Result<Vec<Upload>> {
        let mut st = self.conn.prepare(
            "SELECT id, hospital_code, period, uploaded_by, uploaded_at, file_name, file_hash, record_count,
                    rejected_count, new_count, changed_count, unchanged_count, status
             FROM uploads WHERE (?1 IS NULL OR hospital_code = ?1) ORDER BY id",
        )?;
        let rows = st.query_map(params![scope.param()], |r| {
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
                status: UploadStatus::parse(&r.get::<_, String>(12)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The rejections of one upload (empty if the upload is outside the scope), in stored order.
    pub fn rejections(&self, scope: &Scope, upload_id: i64) -> Result<Vec<Rejection>> {
        let mut st = self.conn.prepare(
            "SELECT r.line, r.list_id, r.field, r.rule, r.message
             FROM rejections r JOIN uploads u ON u.id = r.upload_id
             WHERE r.upload_id = ?1 AND (?2 IS NULL OR u.hospital_code = ?2) ORDER BY r.id",
        )?;
        let rows = st.query_map(params![upload_id, scope.param()], |r| {
            Ok(Rejection {
                line: r.get::<_, i64>(0)? as u64,
                list_id: r.get(1)?,
                field: r.get(2)?,
                rule: r.get(3)?,
                message: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The current version of every list in the scope whose discharge month is in `months`,
    /// ordered by (hospital_code, list_id).
    pub fn current_lists(&self, scope: &Scope, months: &Months) -> Result<Vec<SettlementList>> {
        for m in months.from.iter().chain(&months.to) {
            check_month("出院月份", m)?;
        }
        let mut st = self.conn.prepare(
            "SELECT payload FROM settlement_versions
             WHERE is_current = 1 AND (?1 IS NULL OR hospital_code = ?1)
               AND (?2 IS NULL OR discharge_month >= ?2) AND (?3 IS NULL OR discharge_month <= ?3)
             ORDER BY hospital_code, list_id",
        )?;
        let mut rows = st.query(params![scope.param(), months.from, months.to])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let payload: String = r.get(0)?;
            out.push(serde_json::from_str(&payload)?);
        }
        Ok(out)
    }

    /// Number of current lists in the scope and month range (without decoding them).
    pub fn count_current(&self, scope: &Scope, months: &Months) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM settlement_versions
             WHERE is_current = 1 AND (?1 IS NULL OR hospital_code = ?1)
               AND (?2 IS NULL OR discharge_month >= ?2) AND (?3 IS NULL OR discharge_month <= ?3)",
            params![scope.param(), months.from, months.to],
            |r| r.get(0),
        )?)
    }

    /// Every version of `list_id` in the scope, ordered by (hospital_code, version).
    pub fn history(&self, scope: &Scope, list_id: &str) -> Result<Vec<ListVersion>> {
        let mut st = self.conn.prepare(
            "SELECT v.hospital_code, v.list_id, v.version, v.upload_id, u.uploaded_at, v.discharge_month,
                    v.content_hash, v.is_current, v.payload
             FROM settlement_versions v JOIN uploads u ON u.id = v.upload_id
             WHERE v.list_id = ?1 AND (?2 IS NULL OR v.hospital_code = ?2)
             ORDER BY v.hospital_code, v.version",
        )?;
        let mut rows = st.query(params![list_id, scope.param()])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let payload: String = r.get(8)?;
            out.push(ListVersion {
                hospital_code: r.get(0)?,
                list_id: r.get(1)?,
                version: r.get(2)?,
                upload_id: r.get(3)?,
                uploaded_at: r.get(4)?,
                discharge_month: r.get(5)?,
                content_hash: r.get(6)?,
                is_current: r.get::<_, i64>(7)? == 1,
                list: serde_json::from_str(&payload)?,
            });
        }
        Ok(out)
    }

    // ---------------------------------------------------------------- review decisions

    /// Appends a review decision (bureau_admin or bureau_auditor) and its audit entry, atomically.
    pub fn record_decision(&mut self, actor: &User, d: &NewDecision<'_>, now: DateTime<Utc>) -> Result<i64> {
        if !matches!(actor.role, Role::BureauAdmin | Role::BureauAuditor) {
            return Err(StoreError::Forbidden(format!("{}不能作出审核结论", actor.role.label_zh())));
        }
        if d.flag_id.trim().is_empty() {
            return Err(StoreError::Invalid("审核结论缺少疑点编号(flag_id)".into()));
        }
        let at = timestamp(now);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO review_decisions (flag_id, hospital_code, list_id, decision, reason, reviewer, decided_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![d.flag_id, d.hospital_code, d.list_id, d.decision.as_str(), d.reason, actor.login, at],
        )?;
        let id = tx.last_insert_rowid();
        let detail = serde_json::json!({
            "decision_id": id, "list_id": d.list_id, "decision": d.decision.as_str(), "reason": d.reason,
        });
        audit(&tx, &at, &actor.login, "review_decision", &format!("flag:{}", d.flag_id), Some(d.hospital_code), &detail)?;
        tx.commit()?;
        Ok(id)
    }

    /// Decisions in the scope (optionally of one flag), in the order they were made.
    pub fn decisions(&self, scope: &Scope, flag_id: Option<&str>) -> Result<Vec<ReviewDecision>> {
        let mut st = self.conn.prepare(
            "SELECT id, flag_id, hospital_code, list_id, decision, reason, reviewer, decided_at
             FROM review_decisions
             WHERE (?1 IS NULL OR hospital_code = ?1) AND (?2 IS NULL OR flag_id = ?2) ORDER BY id",
        )?;
        let rows = st.query_map(params![scope.param(), flag_id], |r| {
            Ok(ReviewDecision {
                id: r.get(0)?,
                flag_id: r.get(1)?,
                hospital_code: r.get(2)?,
                list_id: r.get(3)?,
                decision: DecisionKind::parse(&r.get::<_, String>(4)?),
                reason: r.get(5)?,
                reviewer: r.get(6)?,
                decided_at: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    // ---------------------------------------------------------------- audit log

    /// Audit entries in the scope (a hospital user sees the entries about their hospital), oldest
    /// first; with `limit`, the newest `limit` entries, still oldest first.
    pub fn audit_log(&self, scope: &Scope, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let mut st = self.conn.prepare(
            "SELECT * FROM (
                 SELECT id, at, actor, action, object, hospital_code, detail FROM audit_log
                 WHERE (?1 IS NULL OR hospital_code = ?1) AND (?2 IS NULL OR actor = ?2)
                   AND (?3 IS NULL OR action = ?3) AND (?4 IS NULL OR at >= ?4) AND (?5 IS NULL OR at <= ?5)
                 ORDER BY id DESC LIMIT ?6)
             ORDER BY id",
        )?;
        let limit: i64 = filter.limit.map(i64::from).unwrap_or(-1);
        let mut rows = st.query(params![
            scope.param(),
            filter.actor,
            filter.action,
            filter.since.map(timestamp),
            filter.until.map(timestamp),
            limit
        ])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let detail: String = r.get(6)?;
            out.push(AuditEntry {
                id: r.get(0)?,
                at: r.get(1)?,
                actor: r.get(2)?,
                action: r.get(3)?,
                object: r.get(4)?,
                hospital_code: r.get(5)?,
                detail: serde_json::from_str(&detail)?,
            });
        }
        Ok(out)
    }
}

/// Rule ids of the rejections the store adds itself.
pub mod rules {
    /// A list's `hospital_code` differs from the hospital of the upload.
    pub const HOSPITAL_MISMATCH: &str = "hospital_mismatch";
}

/// argon2id (crate defaults: m = 19 MiB, t = 2, p = 1) with a random 16-byte salt, as a PHC string.
fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| StoreError::PasswordHash(e.to_string()))?
        .to_string())
}

fn user_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    let role: String = r.get(3)?;
    Ok(User {
        id: r.get(0)?,
        login: r.get(1)?,
        display_name: r.get(2)?,
        role: Role::parse(&role).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, format!("未知角色 {role}").into())
        })?,
        hospital_code: r.get(4)?,
    })
}

fn audit(
    conn: &Connection,
    at: &str,
    actor: &str,
    action: &str,
    object: &str,
    hospital_code: Option<&str>,
    detail: &serde_json::Value,
) -> Result<()> {
    conn.execute(
        "INSERT INTO audit_log (at, actor, action, object, hospital_code, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![at, actor, action, object, hospital_code, detail.to_string()],
    )?;
    Ok(())
}
