//! The store on both backends: migrations, users and roles, argon2 passwords, versioned
//! idempotent uploads, scope isolation, the audit log, crash safety (a child process aborts
//! mid-upload), concurrent writers, and use from tokio's spawn_blocking.
//!
//! Every test is a function of a [`TestDb`] and runs twice (`backend_tests!`): `sqlite::NAME` on a
//! fresh file, `postgres::NAME` in a fresh schema of the database named by the environment
//! variable `CASEMIX_TEST_PG_URL` (scripts/pg-test-server.sh starts one). Without that variable
//! the PostgreSQL tests skip locally and FAIL under `CI=true`, so CI really tests PostgreSQL.

use casemix_io::Rejection;
use casemix_model::{Field, SettlementList};
use casemix_store::*;
use chrono::{DateTime, TimeZone, Utc};
use std::process::Command;

/// Where one test's store lives; removed (temp dir) or left for the throw-away server (schema).
enum TestDb {
    Sqlite { _dir: tempfile::TempDir, path: std::path::PathBuf },
    Postgres { url: String },
}

impl TestDb {
    fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("casemix.db");
        TestDb::Sqlite { _dir: dir, path }
    }

    /// A fresh schema `t<pid>_<test>` in the database of `CASEMIX_TEST_PG_URL`, selected through
    /// the connection's `search_path`. `None` = skip (variable unset, not CI).
    fn postgres(test: &str) -> Option<TestDb> {
        let Some(base) = std::env::var("CASEMIX_TEST_PG_URL").ok().filter(|u| !u.is_empty()) else {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("CI=true 但未设置 CASEMIX_TEST_PG_URL：PostgreSQL 存储测试不能跳过（scripts/pg-test-server.sh）");
            }
            eprintln!("跳过 postgres::{test}：未设置 CASEMIX_TEST_PG_URL");
            return None;
        };
        let schema = format!("t{}_{}", std::process::id(), test);
        let mut admin = ::postgres::Client::connect(&base, ::postgres::NoTls).expect("连接 CASEMIX_TEST_PG_URL");
        admin
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
            .unwrap();
        let url = if is_postgres_url(&base) {
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}options=-c%20search_path%3D{schema}")
        } else {
            format!("{base} options='-c search_path={schema}'")
        };
        Some(TestDb::Postgres { url })
    }

    fn open(&self) -> Result<Store> {
        match self {
            TestDb::Sqlite { path, .. } => Store::open(path),
            TestDb::Postgres { url } => Store::open_postgres(url),
        }
    }

    fn store(&self) -> Store {
        self.open().unwrap()
    }

    /// What `Store::open_url` takes: the file path or the URL.
    fn target(&self) -> String {
        match self {
            TestDb::Sqlite { path, .. } => path.to_str().unwrap().to_string(),
            TestDb::Postgres { url } => url.clone(),
        }
    }

    fn is_pg(&self) -> bool {
        matches!(self, TestDb::Postgres { .. })
    }

    /// Runs SQL (fixed test text, no values from outside) on a separate raw connection.
    fn raw(&self, sql: &str) -> std::result::Result<(), String> {
        match self {
            TestDb::Sqlite { path, .. } => {
                rusqlite::Connection::open(path).unwrap().execute_batch(sql).map_err(|e| e.to_string())
            }
            TestDb::Postgres { url } => ::postgres::Client::connect(url, ::postgres::NoTls)
                .unwrap()
                .batch_execute(sql)
                .map_err(|e| format!("{e}: {}", e.as_db_error().map(|d| d.message()).unwrap_or(""))),
        }
    }

    /// The first column of every row, as text.
    fn raw_texts(&self, sql: &str) -> Vec<String> {
        match self {
            TestDb::Sqlite { path, .. } => {
                let c = rusqlite::Connection::open(path).unwrap();
                let mut st = c.prepare(sql).unwrap();
                st.query_map([], |r| r.get::<_, String>(0)).unwrap().map(|r| r.unwrap()).collect()
            }
            TestDb::Postgres { url } => ::postgres::Client::connect(url, ::postgres::NoTls)
                .unwrap()
                .query(sql, &[])
                .unwrap()
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect(),
        }
    }
}

/// A CHECK constraint refused the row (the message differs between the backends).
fn is_check_violation(e: &str) -> bool {
    e.contains("CHECK constraint failed") || e.contains("violates check constraint")
}

/// Instantiates each test function once per backend.
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                super::$name(&super::TestDb::sqlite());
            })*
        }
        mod postgres {
            $(#[test]
            fn $name() {
                if let Some(db) = super::TestDb::postgres(stringify!($name)) {
                    super::$name(&db);
                }
            })*
        }
    };
}

backend_tests!(
    migrations_are_idempotent_and_keep_data,
    users_roles_and_hospital_binding,
    argon2id_passwords_verify,
    uploads_make_versions_and_reuploads_are_idempotent,
    month_ranges_and_period_fallback,
    hospital_scope_isolates_everything,
    every_change_is_in_the_audit_log,
    crash_mid_upload_leaves_nothing_half_written,
    concurrent_writers_serialise,
    works_inside_tokio_spawn_blocking,
    one_identity_per_hospital_and_list,
    period_override_is_the_admins_and_logged,
    qc_report_commits_with_its_upload,
    jobs_persist_and_close_after_a_restart,
    list_reads_are_paged_with_totals,
    pool_reads_while_a_writer_holds_the_lock,
);

fn t(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 4, day, hour, 0, 0).unwrap()
}

/// A settlement list built through the field registry, as an importer would.
fn list(id: &str, hospital: &str, discharge: &str, total: &str) -> SettlementList {
    let mut l = SettlementList::default();
    for (f, v) in [
        (Field::ListId, id),
        (Field::HospitalCode, hospital),
        (Field::Sex, "1"),
        (Field::AgeYears, "63"),
        (Field::AdmitTime, "2025-02-20 09:00"),
        (Field::DischargeTime, discharge),
        (Field::Diagnoses, "I21.000|E11.900|I10.x00"),
        (Field::Procedures, "36.0600"),
        (Field::TotalCost, total),
    ] {
        l.set_field(f, v).unwrap();
    }
    l
}

fn meta(hospital: &str, period: &str, file: &str) -> UploadMeta {
    UploadMeta {
        hospital_code: hospital.into(),
        period: period.into(),
        file_name: file.into(),
        file_hash: Some(sha256_hex(file.as_bytes())),
        period_override: false,
        job_id: None,
    }
}

fn new_user<'a>(login: &'a str, role: Role, hospital: Option<&'a str>) -> NewUser<'a> {
    NewUser { login, display_name: "测试用户", role, hospital_code: hospital, password: "正确的密码 correct horse" }
}

fn admin(store: &mut Store) -> User {
    store.create_user("system", &new_user("admin", Role::BureauAdmin, None), t(1, 8)).unwrap()
}

fn migrations_are_idempotent_and_keep_data(db: &TestDb) {
    {
        let mut s = db.store();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
        assert_eq!(s.dialect(), if db.is_pg() { Dialect::Postgres } else { Dialect::Sqlite });
        admin(&mut s);
    }
    for _ in 0..2 {
        let s = Store::open_url(&db.target()).unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
        assert_eq!(s.users().unwrap().len(), 1);
        assert!(s.integrity_ok().unwrap());
    }
    let versions = db.raw_texts("SELECT CAST(version AS TEXT) FROM schema_version ORDER BY version");
    let want: Vec<String> = (1..=MIGRATIONS.len()).map(|v| v.to_string()).collect();
    assert_eq!(versions, want, "one row per migration, none applied twice");
    if !db.is_pg() {
        assert_eq!(db.raw_texts("PRAGMA journal_mode"), ["wal"]);
        assert_eq!(Store::open_in_memory().unwrap().schema_version().unwrap(), MIGRATIONS.len() as i64);
    }
    // a database written by a newer casemix is refused, not altered
    db.raw("INSERT INTO schema_version (version, applied_at) VALUES (99, 'x')").unwrap();
    match db.open() {
        Err(StoreError::SchemaTooNew { found: 99, supported }) => assert_eq!(supported, MIGRATIONS.len() as i64),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("a newer schema must be refused"),
    }
}

fn users_roles_and_hospital_binding(db: &TestDb) {
    let mut s = db.store();
    let a = admin(&mut s);
    assert_eq!(a.scope(), Scope::All);
    let h = s.create_user("admin", &new_user("h1", Role::HospitalUser, Some("H1")), t(1, 9)).unwrap();
    assert_eq!(h.hospital_code.as_deref(), Some("H1"));
    assert_eq!(h.scope(), Scope::Hospital("H1".into()));
    for r in [Role::BureauAnalyst, Role::BureauAuditor] {
        let login = r.as_str();
        let u = s.create_user("admin", &new_user(login, r, None), t(1, 9)).unwrap();
        assert_eq!(u.scope(), Scope::All);
    }
    assert!(matches!(
        s.create_user("admin", &new_user("h2", Role::HospitalUser, None), t(1, 9)),
        Err(StoreError::HospitalRequired)
    ));
    assert!(matches!(
        s.create_user("admin", &new_user("h3", Role::HospitalUser, Some("")), t(1, 9)),
        Err(StoreError::HospitalRequired)
    ));
    assert!(matches!(
        s.create_user("admin", &new_user("b2", Role::BureauAnalyst, Some("H1")), t(1, 9)),
        Err(StoreError::HospitalNotAllowed("bureau_analyst"))
    ));
    assert!(matches!(
        s.create_user("admin", &new_user("h1", Role::HospitalUser, Some("H2")), t(1, 9)),
        Err(StoreError::LoginTaken(l)) if l == "h1"
    ));
    assert_eq!(s.users().unwrap().len(), 4);
    assert_eq!(s.user("h1").unwrap(), Some(h));

    // the database itself enforces the binding and the role set (CHECK constraints)
    let insert = |login: &str, role: &str, hospital: &str| {
        db.raw(&format!(
            "INSERT INTO users (login, display_name, role, hospital_code, password_hash, created_at)
             VALUES ('{login}', 'x', '{role}', {hospital}, 'x', 'x')"
        ))
    };
    let e = insert("raw1", "hospital_user", "NULL").unwrap_err();
    assert!(is_check_violation(&e), "{e}");
    let e = insert("raw2", "bureau_admin", "'H1'").unwrap_err();
    assert!(is_check_violation(&e), "{e}");
    let e = insert("raw3", "superuser", "NULL").unwrap_err();
    assert!(is_check_violation(&e), "{e}");
    insert("raw4", "hospital_user", "'H9'").unwrap();
    assert_eq!(s.user("raw4").unwrap().unwrap().hospital_code.as_deref(), Some("H9"));
}

fn argon2id_passwords_verify(db: &TestDb) {
    let mut s = db.store();
    let a = admin(&mut s);
    s.create_user("admin", &new_user("h1", Role::HospitalUser, Some("H1")), t(1, 9)).unwrap();
    assert_eq!(s.verify_password("admin", "正确的密码 correct horse").unwrap(), Some(a.clone()));
    assert_eq!(s.verify_password("admin", "正确的密码 correct hors").unwrap(), None);
    assert_eq!(s.verify_password("admin", "").unwrap(), None);
    assert_eq!(s.verify_password("nobody", "正确的密码 correct horse").unwrap(), None);
    let hashes = db.raw_texts("SELECT password_hash FROM users ORDER BY id");
    assert_eq!(hashes.len(), 2);
    for h in &hashes {
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert!(!h.contains("correct"));
    }
    assert_ne!(hashes[0], hashes[1], "same password, different salts");

    // changing a password: by the user or an admin, logged, never the password itself
    let h1 = s.user("h1").unwrap().unwrap();
    assert!(matches!(s.set_password(&h1, "admin", "x", t(2, 8)), Err(StoreError::Forbidden(_))));
    assert!(s.set_password(&h1, "h1", "新密码 new", t(2, 8)).unwrap());
    assert_eq!(s.verify_password("h1", "正确的密码 correct horse").unwrap(), None);
    assert_eq!(s.verify_password("h1", "新密码 new").unwrap(), Some(h1.clone()));
    assert!(!s.set_password(&a, "nobody", "x", t(2, 9)).unwrap());
    let log = s.audit_log(&h1.scope(), &AuditFilter { action: Some("password_change".into()), ..Default::default() }).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].actor.as_str(), log[0].object.as_str()), ("h1", "user:h1"));
    assert!(!log[0].detail.to_string().contains("新密码"));
}

fn rej(line: u64, id: &str) -> Rejection {
    Rejection::new(line, id, "admit_time", "datetime", "入院时间(admit_time)取值“2025-13-01”不是有效日期时间")
}

fn uploads_make_versions_and_reuploads_are_idempotent(db: &TestDb) {
    let mut s = db.store();
    let a = admin(&mut s);
    let v1 = vec![
        list("L1", "H1", "2025-03-05 10:00", "12000.00"),
        list("L2", "H1", "2025-03-06 10:00", "8000.50"),
        list("L3", "H1", "2025-03-07 10:00", "3000.00"),
    ];
    let s1 = s.record_upload(&meta("H1", "2025-03", "march.csv"), &v1, &[rej(5, "L9")], &a, t(2, 8)).unwrap();
    assert_eq!(
        (s1.records, s1.new, s1.changed, s1.unchanged, s1.rejected, s1.status, s1.same_file_as),
        (3, 3, 0, 0, 1, UploadStatus::Committed, None)
    );
    assert_eq!(s.current_lists(&Scope::All, &Months::all()).unwrap(), v1);
    assert_eq!(s.rejections(&Scope::All, s1.upload_id).unwrap(), vec![rej(5, "L9")]);
    let h = s.history(&Scope::All, "L1").unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!((h[0].version, h[0].is_current, h[0].upload_id), (1, true, s1.upload_id));
    assert_eq!(h[0].discharge_month, "2025-03");
    assert_eq!(h[0].uploaded_at, "2025-04-02T08:00:00.000000Z");

    // L1 corrected (total 12000.00 → 12500.00), L2 unchanged, L4 new, L3 not resent
    let mut v2 = vec![
        list("L1", "H1", "2025-03-05 10:00", "12500.00"),
        list("L2", "H1", "2025-03-06 10:00", "8000.50"),
        list("L4", "H1", "2025-03-08 10:00", "4000.00"),
    ];
    let s2 = s.record_upload(&meta("H1", "2025-03", "march-fix.csv"), &v2, &[], &a, t(3, 8)).unwrap();
    assert_eq!((s2.new, s2.changed, s2.unchanged, s2.rejected), (1, 1, 1, 0));
    let h = s.history(&Scope::All, "L1").unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!((h[0].version, h[0].is_current, h[0].list.total_cost.unwrap().0), (1, false, 1_200_000));
    assert_eq!((h[1].version, h[1].is_current, h[1].list.total_cost.unwrap().0), (2, true, 1_250_000));
    assert_eq!(h[1].upload_id, s2.upload_id);
    assert_ne!(h[0].content_hash, h[1].content_hash);
    // current = L1 v2, L2 v1, L3 v1 (kept: an upload replaces lists, never deletes), L4 v1
    let cur = s.current_lists(&Scope::All, &Months::all()).unwrap();
    let ids: Vec<&str> = cur.iter().map(|l| l.list_id.as_str()).collect();
    assert_eq!(ids, ["L1", "L2", "L3", "L4"]);
    assert_eq!(cur[0], v2[0]);
    assert_eq!(s.history(&Scope::All, "L2").unwrap().len(), 1);

    // the same file again: nothing changes but the upload row and its audit entry
    let s3 = s.record_upload(&meta("H1", "2025-03", "march-fix.csv"), &v2, &[], &a, t(4, 8)).unwrap();
    assert_eq!((s3.new, s3.changed, s3.unchanged, s3.status), (0, 0, 3, UploadStatus::Unchanged));
    assert_eq!(s3.same_file_as, Some(s2.upload_id));
    assert_eq!(s.history(&Scope::All, "L1").unwrap().len(), 2);
    assert_eq!(s.current_lists(&Scope::All, &Months::all()).unwrap(), cur);

    // a list_id twice in one file: both contents kept in history, the last one current
    v2[0].set_field(Field::TotalCost, "12600.00").unwrap();
    let twice = vec![v2[0].clone(), list("L1", "H1", "2025-03-05 10:00", "12700.00")];
    let s4 = s.record_upload(&meta("H1", "2025-03", "dup.csv"), &twice, &[], &a, t(5, 8)).unwrap();
    assert_eq!((s4.new, s4.changed, s4.unchanged), (0, 2, 0));
    let h = s.history(&Scope::All, "L1").unwrap();
    let totals: Vec<(i64, bool, i64)> = h.iter().map(|v| (v.version, v.is_current, v.list.total_cost.unwrap().0)).collect();
    assert_eq!(totals, [(1, false, 1_200_000), (2, false, 1_250_000), (3, false, 1_260_000), (4, true, 1_270_000)]);

    let ups = s.uploads(&Scope::All).unwrap();
    assert_eq!(ups.len(), 4);
    assert_eq!(
        (ups[2].record_count, ups[2].unchanged_count, ups[2].status, ups[2].uploaded_by.as_str()),
        (3, 3, UploadStatus::Unchanged, "admin")
    );
}

fn month_ranges_and_period_fallback(db: &TestDb) {
    let mut s = db.store();
    let a = admin(&mut s);
    let mut no_discharge = list("L0", "H1", "", "100.00");
    no_discharge.set_field(Field::DischargeTime, "").unwrap();
    let lists = vec![
        list("L2", "H1", "2025-02-28 23:59", "100.00"),
        list("L3", "H1", "2025-03-01 00:00", "100.00"),
        list("L4", "H1", "2025-04-15 12:00", "100.00"),
        no_discharge, // counted in the upload period 2025-03
    ];
    // lists of February and April in an upload for March: refused without the override …
    let refused = s.record_upload(&meta("H1", "2025-03", "m.csv"), &lists, &[], &a, t(2, 8)).unwrap();
    assert_eq!((refused.new, refused.rejected), (2, 2));
    let r = s.rejections(&Scope::All, refused.upload_id).unwrap();
    let got: Vec<(&str, &str)> = r.iter().map(|r| (r.list_id.as_str(), r.rule.as_str())).collect();
    assert_eq!(got, [("L2", rules::DISCHARGE_MONTH_MISMATCH), ("L4", rules::DISCHARGE_MONTH_MISMATCH)]);
    assert!(r[0].message.contains("2025-02") && r[0].message.contains("2025-03"), "{}", r[0].message);
    // … and accepted with it (a bureau_admin's decision)
    let over = UploadMeta { period_override: true, ..meta("H1", "2025-03", "m2.csv") };
    s.record_upload(&over, &lists, &[], &a, t(2, 9)).unwrap();
    let ids = |m: Months| -> Vec<String> {
        s.current_lists(&Scope::All, &m).unwrap().into_iter().map(|l| l.list_id).collect()
    };
    assert_eq!(ids(Months::one("2025-03")), ["L0", "L3"]);
    assert_eq!(ids(Months::between("2025-03", "2025-04")), ["L0", "L3", "L4"]);
    assert_eq!(ids(Months { from: None, to: Some("2025-02".into()) }), ["L2"]);
    assert_eq!(s.count_current(&Scope::All, &Months::all()).unwrap(), 4);
    assert!(matches!(s.current_lists(&Scope::All, &Months::one("2025-13")), Err(StoreError::Invalid(_))));
    assert!(matches!(
        s.record_upload(&meta("H1", "2025/03", "m.csv"), &[], &[], &a, t(2, 8)),
        Err(StoreError::Invalid(_))
    ));
}

fn hospital_scope_isolates_everything(db: &TestDb) {
    let mut s = db.store();
    admin(&mut s);
    let ua = s.create_user("admin", &new_user("ha", Role::HospitalUser, Some("HA")), t(1, 9)).unwrap();
    let ub = s.create_user("admin", &new_user("hb", Role::HospitalUser, Some("HB")), t(1, 9)).unwrap();
    let auditor = s.create_user("admin", &new_user("aud", Role::BureauAuditor, None), t(1, 9)).unwrap();
    let analyst = s.create_user("admin", &new_user("ana", Role::BureauAnalyst, None), t(1, 9)).unwrap();

    // the same list_id in two hospitals: two independent lists
    let la = vec![list("X1", "HA", "2025-03-05 10:00", "100.00"), list("A2", "HA", "2025-03-05 10:00", "200.00")];
    let lb = vec![list("X1", "HB", "2025-03-05 10:00", "900.00")];
    let sa = s.record_upload(&meta("HA", "2025-03", "a.csv"), &la, &[rej(3, "A9")], &ua, t(2, 8)).unwrap();
    let sb = s.record_upload(&meta("HB", "2025-03", "b.csv"), &lb, &[rej(4, "B9")], &ub, t(2, 9)).unwrap();
    assert_eq!((sa.new, sb.new), (2, 1));

    // a hospital user cannot upload for another hospital, nor smuggle another hospital's list in
    assert!(matches!(
        s.record_upload(&meta("HB", "2025-03", "evil.csv"), &la, &[], &ua, t(2, 10)),
        Err(StoreError::Forbidden(_))
    ));
    let smuggle = vec![list("X1", "HB", "2025-03-05 10:00", "1.00")];
    let ss = s.record_upload(&meta("HA", "2025-03", "evil2.csv"), &smuggle, &[], &ua, t(2, 11)).unwrap();
    assert_eq!((ss.new, ss.changed, ss.rejected), (0, 0, 1));
    let r = s.rejections(&ua.scope(), ss.upload_id).unwrap();
    assert_eq!((r[0].list_id.as_str(), r[0].field.as_str(), r[0].rule.as_str()), ("X1", "hospital_code", rules::HOSPITAL_MISMATCH));
    assert!(r[0].message.contains("“HB”") && r[0].message.contains("“HA”"), "{}", r[0].message);
    // bureau roles other than admin do not upload
    for u in [&auditor, &analyst] {
        assert!(matches!(s.record_upload(&meta("HA", "2025-03", "x.csv"), &la, &[], u, t(2, 12)), Err(StoreError::Forbidden(_))));
    }

    let d = NewDecision { flag_id: "F-HB-1", hospital_code: "HB", list_id: "X1", decision: DecisionKind::Confirm, reason: "低码高编" };
    s.record_decision(&auditor, &d, t(3, 8)).unwrap();
    assert!(matches!(s.record_decision(&ua, &d, t(3, 8)), Err(StoreError::Forbidden(_))));
    assert!(matches!(s.record_decision(&analyst, &d, t(3, 8)), Err(StoreError::Forbidden(_))));

    let (sa_scope, sb_scope) = (ua.scope(), ub.scope());
    let a_lists = s.current_lists(&sa_scope, &Months::all()).unwrap();
    assert_eq!(a_lists, [la[1].clone(), la[0].clone()], "ordered by list_id");
    assert_eq!(s.current_lists(&sb_scope, &Months::all()).unwrap(), lb);
    assert_eq!(s.current_lists(&Scope::All, &Months::all()).unwrap().len(), 3);
    assert_eq!(s.count_current(&sa_scope, &Months::all()).unwrap(), 2);
    let hx = s.history(&sa_scope, "X1").unwrap();
    assert_eq!(hx.len(), 1);
    assert_eq!((hx[0].hospital_code.as_str(), hx[0].list.total_cost.unwrap().0), ("HA", 10_000));
    assert_eq!(s.history(&Scope::All, "X1").unwrap().len(), 2);
    assert!(s.history(&sa_scope, "nonexistent").unwrap().is_empty());
    let ups: Vec<i64> = s.uploads(&sa_scope).unwrap().iter().map(|u| u.id).collect();
    assert_eq!(ups, [sa.upload_id, ss.upload_id]);
    assert!(s.rejections(&sa_scope, sb.upload_id).unwrap().is_empty(), "B's rejections hidden from A");
    assert_eq!(s.rejections(&sb_scope, sb.upload_id).unwrap().len(), 1);
    assert!(s.decisions(&sa_scope, None).unwrap().is_empty());
    assert_eq!(s.decisions(&sb_scope, None).unwrap().len(), 1);
    let audit_a = s.audit_log(&sa_scope, &AuditFilter::default()).unwrap();
    assert!(!audit_a.is_empty());
    assert!(audit_a.iter().all(|e| e.hospital_code.as_deref() == Some("HA")), "{audit_a:?}");
    // a hospital code that looks like SQL is just a value
    let weird = Scope::Hospital("HA' OR '1'='1".into());
    assert!(s.current_lists(&weird, &Months::all()).unwrap().is_empty());
    assert!(s.audit_log(&weird, &AuditFilter::default()).unwrap().is_empty());
}

fn every_change_is_in_the_audit_log(db: &TestDb) {
    let mut s = db.store();
    let a = admin(&mut s); // 1: user_create by system
    let aud = s.create_user("admin", &new_user("aud", Role::BureauAuditor, None), t(1, 9)).unwrap(); // 2
    let lists = vec![list("L1", "H1", "2025-03-05 10:00", "100.00")];
    let up = s.record_upload(&meta("H1", "2025-03", "a.csv"), &lists, &[rej(2, "L0")], &a, t(2, 8)).unwrap(); // 3
    s.record_upload(&meta("H1", "2025-03", "a.csv"), &lists, &[], &a, t(2, 9)).unwrap(); // 4: unchanged, still logged
    let d = NewDecision { flag_id: "F1", hospital_code: "H1", list_id: "L1", decision: DecisionKind::Dismiss, reason: "资料齐全" };
    let did = s.record_decision(&aud, &d, t(3, 8)).unwrap(); // 5
    // a failed (forbidden) change leaves no trace but also changes nothing
    assert!(s.create_user("admin", &new_user("aud", Role::BureauAuditor, None), t(3, 9)).is_err());

    let log = s.audit_log(&Scope::All, &AuditFilter::default()).unwrap();
    let summary: Vec<(&str, &str, &str, &str)> =
        log.iter().map(|e| (e.at.as_str(), e.actor.as_str(), e.action.as_str(), e.object.as_str())).collect();
    let upload_obj = format!("upload:{}", up.upload_id);
    let upload2_obj = format!("upload:{}", up.upload_id + 1);
    assert_eq!(
        summary,
        [
            ("2025-04-01T08:00:00.000000Z", "system", "user_create", "user:admin"),
            ("2025-04-01T09:00:00.000000Z", "admin", "user_create", "user:aud"),
            ("2025-04-02T08:00:00.000000Z", "admin", "upload", upload_obj.as_str()),
            ("2025-04-02T09:00:00.000000Z", "admin", "upload", upload2_obj.as_str()),
            ("2025-04-03T08:00:00.000000Z", "aud", "review_decision", "flag:F1"),
        ]
    );
    assert_eq!(log[1].detail["role"], "bureau_auditor");
    assert!(!log[1].detail.to_string().contains("correct"), "passwords never reach the log");
    assert_eq!(log[2].detail["new"], 1);
    assert_eq!(log[2].detail["rejected"], 1);
    assert_eq!(log[2].detail["file_name"], "a.csv");
    assert_eq!(log[3].detail["unchanged"], 1);
    assert_eq!(log[3].detail["status"], "unchanged");
    assert_eq!(log[4].detail["decision"], "dismiss");
    assert_eq!(log[4].detail["decision_id"], did);
    assert_eq!(log[4].hospital_code.as_deref(), Some("H1"));

    let f = |actor: Option<&str>, action: Option<&str>, since: Option<DateTime<Utc>>, limit: Option<u32>| {
        let filter = AuditFilter {
            actor: actor.map(str::to_string),
            action: action.map(str::to_string),
            since,
            until: None,
            limit,
        };
        s.audit_log(&Scope::All, &filter).unwrap().into_iter().map(|e| e.id).collect::<Vec<_>>()
    };
    assert_eq!(f(Some("admin"), None, None, None), [2, 3, 4]);
    assert_eq!(f(None, Some("upload"), None, None), [3, 4]);
    assert_eq!(f(None, None, Some(t(2, 9)), None), [4, 5]);
    assert_eq!(f(None, None, None, Some(2)), [4, 5]);
    let dec = s.decisions(&Scope::All, Some("F1")).unwrap();
    assert_eq!((dec[0].reviewer.as_str(), dec[0].decision, dec[0].decided_at.as_str()), ("aud", DecisionKind::Dismiss, "2025-04-03T08:00:00.000000Z"));

    // the log is append-only, in the database itself
    let e = db.raw("UPDATE audit_log SET actor = 'nobody' WHERE id = 1").unwrap_err();
    assert!(e.contains("append-only"), "{e}");
    let e = db.raw("DELETE FROM audit_log").unwrap_err();
    assert!(e.contains("append-only"), "{e}");
    assert_eq!(s.audit_log(&Scope::All, &AuditFilter::default()).unwrap().len(), 5);
}

// ---------------------------------------------------------------- crash safety

const CHILD_ENV: &str = "CASEMIX_STORE_CRASH_CHILD";
/// The SQLite path or PostgreSQL URL of the store the child crashes in.
const DB_ENV: &str = "CASEMIX_STORE_CRASH_DB";
const CRASH_LISTS: usize = 4000;
const CRASH_AT: usize = 3500;

/// Only does something when run by `crash_mid_upload_leaves_nothing_half_written` as a child
/// process: starts a big upload and aborts the process in the middle, before the commit.
#[test]
fn crash_child() {
    let Some(target) = std::env::var(DB_ENV).ok().filter(|_| std::env::var_os(CHILD_ENV).is_some()) else {
        return;
    };
    let mut s = Store::open_url(&target).unwrap();
    let a = s.user("admin").unwrap().unwrap();
    let mut lists: Vec<SettlementList> =
        (0..CRASH_LISTS).map(|i| list(&format!("CRASH-{i:05}"), "H1", "2025-03-09 10:00", "777.77")).collect();
    // also a new version of a committed list, which would retire its current version
    lists.insert(0, list("L1", "H1", "2025-03-05 10:00", "99999.99"));
    s.record_upload_with_progress(&meta("H1", "2025-03", "crash.csv"), &lists, &[rej(9, "C0")], &a, t(9, 8), &mut |i| {
        if i == CRASH_AT {
            eprintln!("CRASH_CHILD_ABORTING after {i} lists");
            std::process::abort();
        }
    })
    .unwrap();
    unreachable!("the child aborts before the upload commits");
}

fn crash_mid_upload_leaves_nothing_half_written(db: &TestDb) {
    let work = tempfile::tempdir().unwrap();
    let before = {
        let mut s = db.store();
        let a = admin(&mut s);
        let v1 = vec![list("L1", "H1", "2025-03-05 10:00", "100.00"), list("L2", "H1", "2025-03-06 10:00", "200.00")];
        s.record_upload(&meta("H1", "2025-03", "one.csv"), &v1, &[], &a, t(2, 8)).unwrap();
        let v2 = vec![list("L1", "H1", "2025-03-05 10:00", "150.00")];
        s.record_upload(&meta("H1", "2025-03", "two.csv"), &v2, &[], &a, t(3, 8)).unwrap();
        (
            s.uploads(&Scope::All).unwrap(),
            s.current_lists(&Scope::All, &Months::all()).unwrap(),
            s.history(&Scope::All, "L1").unwrap(),
            s.audit_log(&Scope::All, &AuditFilter::default()).unwrap(),
        )
    }; // closing the last connection checkpoints and removes the WAL

    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .env(DB_ENV, db.target())
        .current_dir(work.path()) // a core dump, if the system writes one, lands in the temp dir
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the child must die: {stderr}");
    assert!(stderr.contains(&format!("CRASH_CHILD_ABORTING after {CRASH_AT} lists")), "child did not reach the crash point: {stderr}");
    if let TestDb::Sqlite { path, .. } = db {
        // the aborted transaction had spilled pages into the WAL: half-written data is on disk
        let wal = path.with_file_name("casemix.db-wal");
        let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        assert!(wal_len > 1_000_000, "expected uncommitted frames in the WAL, found {wal_len} bytes");
    }
    // (PostgreSQL: the server rolls back the transaction of the connection that died)

    let mut s = db.store();
    assert!(s.integrity_ok().unwrap());
    assert_eq!(s.uploads(&Scope::All).unwrap(), before.0, "no trace of the aborted upload");
    assert_eq!(s.current_lists(&Scope::All, &Months::all()).unwrap(), before.1);
    assert_eq!(s.history(&Scope::All, "L1").unwrap(), before.2, "L1 still at version 2, 150.00");
    assert_eq!(s.audit_log(&Scope::All, &AuditFilter::default()).unwrap(), before.3);
    assert!(s.history(&Scope::All, "CRASH-00000").unwrap().is_empty());
    assert_eq!(s.count_current(&Scope::All, &Months::all()).unwrap(), 2);
    assert_eq!(before.2[1].list.total_cost.unwrap().0, 15_000);

    // and the store goes on: the next upload gets the next id
    let a = s.user("admin").unwrap().unwrap();
    let next = s.record_upload(&meta("H1", "2025-03", "three.csv"), &[list("L3", "H1", "2025-03-07 10:00", "1.00")], &[], &a, t(4, 8)).unwrap();
    // SQLite reuses the rolled-back rowid; a PostgreSQL identity never hands out a number twice
    // (the aborted upload consumed 3)
    assert_eq!(next.upload_id, if db.is_pg() { 4 } else { 3 });
    assert_eq!(s.count_current(&Scope::All, &Months::all()).unwrap(), 3);
}

// ---------------------------------------------------------------- concurrency

/// Four connections upload new versions of the same list at the same time. Writers serialise
/// (SQLite `BEGIN IMMEDIATE`, PostgreSQL an advisory lock), so no upload fails and the versions
/// are exactly 1..=20: 4 threads × 5 uploads, each with a different total, so the first upload
/// makes version 1 (new) and the 19 others a new version each (changed).
fn concurrent_writers_serialise(db: &TestDb) {
    let admin_user = admin(&mut db.store());
    let target = db.target();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (target, a) = (target.clone(), admin_user.clone());
            std::thread::spawn(move || {
                let mut s = Store::open_url(&target).unwrap();
                (0..5)
                    .map(|k| {
                        let total = format!("{}.00", 1000 + 10 * t + k);
                        let lists = [list("C1", "H1", "2025-03-05 10:00", &total)];
                        s.record_upload(&meta("H1", "2025-03", &format!("c{t}-{k}.csv")), &lists, &[], &a, t_(k)).unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let summaries: Vec<UploadSummary> = threads.into_iter().flat_map(|h| h.join().unwrap()).collect();
    assert_eq!(summaries.len(), 20);
    assert_eq!(summaries.iter().map(|s| s.new).sum::<usize>(), 1);
    assert_eq!(summaries.iter().map(|s| s.changed).sum::<usize>(), 19);
    let s = db.store();
    let h = s.history(&Scope::All, "C1").unwrap();
    assert_eq!(h.iter().map(|v| v.version).collect::<Vec<_>>(), (1..=20).collect::<Vec<i64>>());
    assert_eq!(h.iter().filter(|v| v.is_current).count(), 1);
    assert!(h[19].is_current);
    assert_eq!(s.uploads(&Scope::All).unwrap().len(), 20);
    assert_eq!(s.audit_log(&Scope::All, &AuditFilter { action: Some("upload".into()), ..Default::default() }).unwrap().len(), 20);
}

fn t_(k: i32) -> DateTime<Utc> {
    t(10, 8 + k as u32)
}

/// The server calls the store from tokio through `spawn_blocking`. The PostgreSQL client drives
/// its own runtime; this checks that it neither panics there nor when the store moves between
/// blocking threads, and that a store shared behind a mutex serves parallel blocking tasks.
fn works_inside_tokio_spawn_blocking(db: &TestDb) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let target = db.target();
    let (summary, counts) = rt.block_on(async move {
        let store = tokio::task::spawn_blocking(move || Store::open_url(&target).unwrap()).await.unwrap();
        let (store, a) = tokio::task::spawn_blocking(move || {
            let mut s = store;
            let a = admin(&mut s);
            (s, a)
        })
        .await
        .unwrap();
        let (store, summary) = tokio::task::spawn_blocking(move || {
            let mut s = store;
            let lists = [list("S1", "H1", "2025-03-05 10:00", "10.00"), list("S2", "H1", "2025-03-06 10:00", "20.00")];
            let r = s.record_upload(&meta("H1", "2025-03", "s.csv"), &lists, &[], &a, t(2, 8)).unwrap();
            (s, r)
        })
        .await
        .unwrap();
        let shared = std::sync::Arc::new(std::sync::Mutex::new(store));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let shared = shared.clone();
                tokio::task::spawn_blocking(move || shared.lock().unwrap().count_current(&Scope::All, &Months::all()).unwrap())
            })
            .collect();
        let mut counts = Vec::new();
        for t in tasks {
            counts.push(t.await.unwrap());
        }
        (summary, counts)
    });
    assert_eq!((summary.new, summary.changed, summary.status), (2, 0, UploadStatus::Committed));
    assert_eq!(counts, [2; 8]);
}

#[test]
fn open_url_picks_the_backend_by_prefix() {
    assert!(is_postgres_url("postgres://u@localhost/db"));
    assert!(is_postgres_url("postgresql:///db?host=/tmp"));
    assert!(!is_postgres_url("/var/lib/casemix/casemix.db"));
    assert!(!is_postgres_url("postgres.db"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("postgres.db");
    let s = Store::open_url(path.to_str().unwrap()).unwrap();
    assert_eq!(s.dialect(), Dialect::Sqlite);
    assert!(path.exists());
    // a PostgreSQL URL goes to the PostgreSQL client (nothing listens on port 1: connection error)
    match Store::open_url("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2") {
        Err(StoreError::Postgres(_)) => {}
        Err(e) => panic!("expected a PostgreSQL error, got {e}"),
        Ok(_) => panic!("nothing listens on port 1"),
    }
}

/// Upload speed on both backends (not a pass/fail test; `cargo test -p casemix-store --test store
/// -- --ignored --nocapture upload_throughput`): 10,000 new lists, then the same 10,000 again
/// (all unchanged), then all 10,000 changed.
#[test]
#[ignore]
fn upload_throughput() {
    let mut dbs = vec![("sqlite", TestDb::sqlite())];
    if let Some(pg) = TestDb::postgres("upload_throughput") {
        dbs.push(("postgres", pg));
    }
    for (name, db) in dbs {
        let mut s = db.store();
        let a = admin(&mut s);
        let make = |total: &str| -> Vec<SettlementList> {
            (0..10_000).map(|i| list(&format!("T{i:05}"), "H1", "2025-03-05 10:00", total)).collect()
        };
        for (round, total) in [("new", "100.00"), ("unchanged", "100.00"), ("changed", "200.00")] {
            let lists = make(total);
            let start = std::time::Instant::now();
            let r = s.record_upload(&meta("H1", "2025-03", round), &lists, &[], &a, t(2, 8)).unwrap();
            let secs = start.elapsed().as_secs_f64();
            println!("{name:8} {round:9} 10000 lists in {secs:.2} s = {:.0} lists/s ({r:?})", 10_000.0 / secs);
        }
        let start = std::time::Instant::now();
        let n = s.current_lists(&Scope::All, &Months::all()).unwrap().len();
        println!("{name:8} current_lists {n} in {:.2} s", start.elapsed().as_secs_f64());
    }
}

// ---------------------------------------------------------------- issue 12: identity, period, QC, jobs, paging, pool

/// Lines as a reader gives them: header line 1, lists from line 2.
fn lines(n: u64) -> Vec<u64> {
    (2..2 + n).collect()
}

fn one_identity_per_hospital_and_list(db: &TestDb) {
    let mut s = db.store();
    admin(&mut s);
    let ua = s.create_user("admin", &new_user("ha", Role::HospitalUser, Some("HA")), t(1, 9)).unwrap();
    let ub = s.create_user("admin", &new_user("hb", Role::HospitalUser, Some("HB")), t(1, 9)).unwrap();
    s.record_upload(&meta("HB", "2025-03", "b.csv"), &[list("FLAGGED-1", "HB", "2025-03-05 10:00", "900.00")], &[], &ub, t(2, 8)).unwrap();
    let b_before = s.history_of(&Scope::All, "HB", "FLAGGED-1").unwrap();

    // A uploads a list with B's list_id (and its own code), one without any hospital code and
    // one naming B: the first two are A's, the third is refused with its real line (4)
    let mut no_code = list("A-NOCODE", "HA", "2025-03-06 10:00", "100.00");
    no_code.hospital_code = None;
    let file = vec![list("FLAGGED-1", "HA", "2025-03-05 10:00", "1.00"), no_code, list("B-OWN", "HB", "2025-03-05 10:00", "5.00")];
    let sc = screen_upload(&meta("HA", "2025-03", "a.csv"), file, &lines(3));
    assert_eq!((sc.lists.len(), sc.lines.clone(), sc.rejections.len()), (2, vec![2, 3], 1));
    assert_eq!(sc.lists[1].hospital_code.as_deref(), Some("HA"), "a list without hospital code takes the uploader's");
    let r = &sc.rejections[0];
    assert_eq!((r.line, r.list_id.as_str(), r.field.as_str(), r.rule.as_str()), (4, "B-OWN", "hospital_code", rules::HOSPITAL_MISMATCH));
    assert!(r.message.contains("第 4 行") && r.message.contains("“HB”") && r.message.contains("“HA”"), "{}", r.message);
    let up = s.record_batch(&meta("HA", "2025-03", "a.csv"), &UploadBatch { screened: &sc, rejections: &[], qc: None }, &ua, t(2, 9), &mut |_| {}).unwrap();
    assert_eq!((up.records, up.new, up.rejected), (3, 2, 1));
    assert_eq!(s.rejections(&Scope::All, up.upload_id).unwrap()[0].line, 4);

    // B's list is untouched; each hospital has exactly one current FLAGGED-1
    assert_eq!(s.history_of(&Scope::All, "HB", "FLAGGED-1").unwrap(), b_before);
    let a_hist = s.history_of(&Scope::All, "HA", "FLAGGED-1").unwrap();
    assert_eq!((a_hist.len(), a_hist[0].list.total_cost.unwrap().0, a_hist[0].is_current), (1, 100, true));
    assert!(s.history_of(&ua.scope(), "HB", "FLAGGED-1").unwrap().is_empty(), "A cannot read B's list by naming it");
    let nocode = s.history_of(&ua.scope(), "HA", "A-NOCODE").unwrap();
    assert_eq!(nocode[0].list.hospital_code.as_deref(), Some("HA"), "stored with the uploader's code");
    assert_eq!(s.current_lists(&ua.scope(), &Months::all()).unwrap().len(), 2, "visible to its own hospital");

    // the database itself: one current version per (hospital, list_id); a version belongs to its
    // upload's hospital and names it in its payload
    let b_upload = s.uploads(&ub.scope()).unwrap()[0].id;
    let payload = |h: &str| format!(r#"{{"list_id":"FLAGGED-1","hospital_code":"{h}"}}"#);
    let ins = |h: &str, v: i64, upload: i64, p: &str| {
        db.raw(&format!(
            "INSERT INTO settlement_versions (hospital_code, list_id, version, upload_id, discharge_month, content_hash, payload, is_current)
             VALUES ('{h}', 'FLAGGED-1', {v}, {upload}, '2025-03', 'x', '{p}', 1)"
        ))
    };
    let e = ins("HB", 2, b_upload, &payload("HB")).unwrap_err();
    assert!(e.contains("UNIQUE") || e.contains("duplicate key"), "a second current row for (HB, FLAGGED-1): {e}");
    let e = ins("HB", 2, up.upload_id, &payload("HB")).unwrap_err();
    assert!(e.contains("differ from its upload"), "HB's version in HA's upload: {e}");
    db.raw("UPDATE settlement_versions SET is_current = 0 WHERE hospital_code = 'HB'").unwrap();
    let e = ins("HB", 2, b_upload, &payload("HA")).unwrap_err();
    assert!(e.contains("differ from its upload"), "payload naming another hospital: {e}");
}

fn period_override_is_the_admins_and_logged(db: &TestDb) {
    let mut s = db.store();
    let a = admin(&mut s);
    let ua = s.create_user("admin", &new_user("ha", Role::HospitalUser, Some("HA")), t(1, 9)).unwrap();
    // the finding: lists discharged 2024-03 and 2031-01 in an upload for 2025-12
    let lists = vec![
        list("P1", "HA", "2025-12-03 10:00", "100.00"),
        list("P2", "HA", "2024-03-03 10:00", "100.00"),
        list("P3", "HA", "2031-01-03 10:00", "100.00"),
    ];
    let plain = s.record_upload(&meta("HA", "2025-12", "p.csv"), &lists, &[], &ua, t(2, 8)).unwrap();
    assert_eq!((plain.new, plain.rejected), (1, 2));
    let rej = s.rejections(&ua.scope(), plain.upload_id).unwrap();
    assert!(rej.iter().all(|r| r.rule == rules::DISCHARGE_MONTH_MISMATCH && r.field == "discharge_time"));
    assert!(rej[1].message.contains("2031-01") && rej[1].message.contains("2025-12"), "{}", rej[1].message);
    // a hospital user may not override
    let over = UploadMeta { period_override: true, ..meta("HA", "2025-12", "p2.csv") };
    assert!(matches!(s.record_upload(&over, &lists, &[], &ua, t(2, 9)), Err(StoreError::Forbidden(_))));
    assert!(matches!(check_upload(&over, &ua), Err(StoreError::Forbidden(_))));
    // the admin may, and the log says so with the number of out-of-period lists (2)
    let ok = s.record_upload(&over, &lists, &[], &a, t(2, 10)).unwrap();
    assert_eq!((ok.new, ok.unchanged, ok.rejected), (2, 1, 0));
    let up = s.upload(&Scope::All, ok.upload_id).unwrap().unwrap();
    assert!(up.period_override);
    assert!(!s.upload(&Scope::All, plain.upload_id).unwrap().unwrap().period_override);
    let log = s.audit_log(&Scope::All, &AuditFilter { action: Some("upload".into()), ..Default::default() }).unwrap();
    let last = log.last().unwrap();
    assert_eq!((last.actor.as_str(), last.detail["period_override"].as_bool(), last.detail["out_of_period"].as_i64()), ("admin", Some(true), Some(2)));
    assert_eq!(log[0].detail["period_override"].as_bool(), Some(false));
}

fn qc_report_commits_with_its_upload(db: &TestDb) {
    let mut s = db.store();
    let a = admin(&mut s);
    let ub = s.create_user("admin", &new_user("hb", Role::HospitalUser, Some("HB")), t(1, 9)).unwrap();
    let m = meta("HA", "2025-03", "q.csv");
    let sc = screen_upload(&m, vec![list("Q1", "HA", "2025-03-05 10:00", "1.00"), list("Q2", "HA", "2025-03-05 10:00", "2.00")], &lines(2));
    let report = r#"{"upload_id":0,"lists":2,"lists_with_errors":1,"findings":[{"list_id":"Q1"}]}"#;
    let qc = QcAttachment { lists: 2, lists_with_errors: 1, report_json: report };
    let up = s.record_batch(&m, &UploadBatch { screened: &sc, rejections: &[], qc: Some(qc) }, &a, t(2, 8), &mut |_| {}).unwrap();
    assert_eq!(s.qc_report_json(&Scope::All, up.upload_id).unwrap().as_deref(), Some(report));
    assert_eq!(s.qc_report_json(&ub.scope(), up.upload_id).unwrap(), None, "another hospital's report is hidden");
    let log = s.audit_log(&Scope::All, &AuditFilter { action: Some("upload".into()), ..Default::default() }).unwrap();
    assert_eq!(log[0].detail["qc_lists_with_errors"].as_i64(), Some(1));
    // a report that is not JSON, or counts more lists with errors than lists, is refused by the
    // database — and the whole upload with it (nothing half-written)
    let before = s.uploads(&Scope::All).unwrap().len();
    let bad = QcAttachment { lists: 1, lists_with_errors: 2, report_json: "{}" };
    assert!(s.record_batch(&m, &UploadBatch { screened: &sc, rejections: &[], qc: Some(bad) }, &a, t(2, 9), &mut |_| {}).is_err());
    let bad = QcAttachment { lists: 2, lists_with_errors: 0, report_json: "{not json" };
    assert!(s.record_batch(&m, &UploadBatch { screened: &sc, rejections: &[], qc: Some(bad) }, &a, t(2, 9), &mut |_| {}).is_err());
    assert_eq!(s.uploads(&Scope::All).unwrap().len(), before);
    // a screening made for another period cannot be recorded under this one
    let other = meta("HA", "2025-04", "q.csv");
    assert!(matches!(s.record_batch(&other, &UploadBatch { screened: &sc, rejections: &[], qc: None }, &a, t(2, 9), &mut |_| {}), Err(StoreError::Invalid(_))));
}

fn jobs_persist_and_close_after_a_restart(db: &TestDb) {
    let a = {
        let mut s = db.store();
        let a = admin(&mut s);
        assert_eq!(s.max_job_id().unwrap(), 0);
        s.create_job(&NewJob { id: 1, kind: "上传", owner: "ha", hospital_code: Some("HA") }, t(2, 8)).unwrap();
        s.create_job(&NewJob { id: 2, kind: "上传", owner: "hb", hospital_code: Some("HB") }, t(2, 8)).unwrap();
        s.create_job(&NewJob { id: 3, kind: "年度计算", owner: "admin", hospital_code: None }, t(2, 8)).unwrap();
        s.create_job(&NewJob { id: 4, kind: "上传", owner: "ha", hospital_code: Some("HA") }, t(2, 8)).unwrap();
        assert!(s.create_job(&NewJob { id: 4, kind: "上传", owner: "x", hospital_code: None }, t(2, 8)).is_err(), "ids are unique");
        s.update_job_progress(1, "前置质控", 10, 40, t(2, 9)).unwrap();
        // job 2's upload committed, then the server died before the job was closed
        let m = UploadMeta { job_id: Some(2), ..meta("HB", "2025-03", "b.csv") };
        s.record_upload(&m, &[list("J1", "HB", "2025-03-05 10:00", "1.00")], &[], &a, t(2, 9)).unwrap();
        assert!(s.finish_job(4, JobState::Failed, None, "无法读取结算清单文件", t(2, 9)).unwrap());
        assert!(!s.finish_job(4, JobState::Done, Some("/x"), "again", t(2, 9)).unwrap(), "a finished job stays finished");
        assert!(s.finish_job(4, JobState::Done, None, "x", t(2, 9)).is_err(), "done needs a result URL");
        a
    }; // the "server" stops with jobs 1, 2 and 3 running

    let mut s = db.store();
    assert_eq!(s.interrupt_running_jobs(t(3, 8)).unwrap(), 3);
    let j1 = s.job(&Scope::All, 1).unwrap().unwrap();
    assert_eq!((j1.state, j1.stage.as_str(), j1.done, j1.total), (JobState::Interrupted, "前置质控", 10, 40));
    assert!(j1.message.contains("中断") && j1.message.contains("前置质控") && j1.message.contains("重新上传"), "{}", j1.message);
    assert_eq!(j1.finished_at.as_deref(), Some("2025-04-03T08:00:00.000000Z"));
    let j2 = s.job(&Scope::All, 2).unwrap().unwrap();
    let up = s.upload_of_job(&Scope::All, 2).unwrap().unwrap();
    assert_eq!((j2.state, j2.result_url.clone()), (JobState::Done, Some(format!("/uploads/{}", up.id))));
    assert_eq!(s.job(&Scope::All, 3).unwrap().unwrap().state, JobState::Interrupted);
    assert_eq!(s.job(&Scope::All, 4).unwrap().unwrap().message, "无法读取结算清单文件");
    assert_eq!(s.interrupt_running_jobs(t(3, 9)).unwrap(), 0, "nothing left running");
    assert_eq!(s.max_job_id().unwrap(), 4);

    // a hospital sees its own jobs only
    let ha = Scope::Hospital("HA".into());
    assert!(s.job(&ha, 2).unwrap().is_none() && s.job(&ha, 3).unwrap().is_none());
    let p = s.jobs_page(&ha, &PageRequest::new(1, 10)).unwrap();
    assert_eq!((p.total, p.items.iter().map(|j| j.id).collect::<Vec<_>>()), (2, vec![4, 1]));
    assert_eq!(s.jobs_page(&Scope::All, &PageRequest::new(2, 3)).unwrap().items.iter().map(|j| j.id).collect::<Vec<_>>(), [1]);
    // the table's own rules
    let e = db.raw("UPDATE jobs SET finished_at = NULL WHERE id = 4").unwrap_err();
    assert!(is_check_violation(&e), "{e}");
    let _ = a;
}

fn list_reads_are_paged_with_totals(db: &TestDb) {
    let mut s = db.store();
    let a = admin(&mut s);
    for k in 0..7 {
        let l = list(&format!("G{k}"), "H1", "2025-03-05 10:00", "1.00");
        let rej: Vec<Rejection> = (0..3).map(|i| rej(10 * k + i, "R")).collect();
        s.record_upload(&meta("H1", "2025-03", &format!("g{k}.csv")), &[l], &rej, &a, t(2, 8)).unwrap();
    }
    let p = s.uploads_page(&Scope::All, &PageRequest::new(1, 3)).unwrap();
    assert_eq!((p.total, p.page, p.size, p.pages()), (7, 1, 3, 3));
    assert_eq!(p.items.iter().map(|u| u.id).collect::<Vec<_>>(), [7, 6, 5], "newest first");
    let p3 = s.uploads_page(&Scope::All, &PageRequest::new(3, 3)).unwrap();
    assert_eq!(p3.items.iter().map(|u| u.id).collect::<Vec<_>>(), [1]);
    assert!(s.uploads_page(&Scope::All, &PageRequest::new(9, 3)).unwrap().items.is_empty());
    // the maximum page size holds whatever is asked
    let big = PageRequest::new(1, u32::MAX);
    assert_eq!(big.size, MAX_PAGE_SIZE);
    assert_eq!(PageRequest::new(0, 0), PageRequest { page: 1, size: DEFAULT_PAGE_SIZE });
    let r = s.rejections_page(&Scope::All, 7, &PageRequest::new(2, 2)).unwrap();
    // upload 7 (k = 6) has rejections at lines 60, 61, 62: page 2 of size 2 = line 62
    assert_eq!((r.total, r.items.iter().map(|r| r.line).collect::<Vec<_>>()), (3, vec![62]));
    assert_eq!(s.rejections_page(&Scope::Hospital("H2".into()), 7, &PageRequest::new(1, 10)).unwrap().total, 0);
    // audit: 1 user_create + 7 uploads = 8 entries, newest first
    let log = s.audit_log_page(&Scope::All, &AuditFilter::default(), &PageRequest::new(1, 5)).unwrap();
    assert_eq!((log.total, log.items.len(), log.items[0].id, log.items[4].id), (8, 5, 8, 4));
    let uploads_only = AuditFilter { action: Some("upload".into()), ..Default::default() };
    assert_eq!(s.audit_log_page(&Scope::All, &uploads_only, &PageRequest::new(2, 5)).unwrap().items.len(), 2);
}

/// Each task has its own connection: while another connection holds the write lock (an upload
/// in its transaction), a pooled connection — including one opened just now — reads at once.
fn pool_reads_while_a_writer_holds_the_lock(db: &TestDb) {
    {
        let mut s = db.store();
        let a = admin(&mut s);
        s.record_upload(&meta("H1", "2025-03", "w.csv"), &[list("W1", "H1", "2025-03-05 10:00", "1.00")], &[], &a, t(2, 8)).unwrap();
    }
    let pool = StorePool::open(&db.target(), 4).unwrap();
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let target = db.target();
    let is_pg = db.is_pg();
    let writer = std::thread::spawn(move || {
        if is_pg {
            let mut c = ::postgres::Client::connect(&target, ::postgres::NoTls).unwrap();
            let mut tx = c.transaction().unwrap();
            tx.batch_execute(&format!("SELECT pg_advisory_xact_lock({}); UPDATE users SET display_name = 'w'", pg::WRITE_LOCK)).unwrap();
            locked_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            tx.commit().unwrap();
        } else {
            let c = rusqlite::Connection::open(&target).unwrap();
            c.execute_batch("BEGIN IMMEDIATE; UPDATE users SET display_name = 'w';").unwrap();
            locked_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            c.execute_batch("COMMIT").unwrap();
        }
    });
    locked_rx.recv().unwrap();
    let start = std::time::Instant::now();
    let c1 = pool.get().unwrap();
    let c2 = pool.get().unwrap(); // a second, newly opened connection (no migration, no lock)
    assert_eq!(c1.count_current(&Scope::All, &Months::all()).unwrap(), 1);
    assert_eq!(c2.uploads_page(&Scope::All, &PageRequest::default()).unwrap().total, 1);
    let waited = start.elapsed();
    assert!(waited < std::time::Duration::from_secs(2), "reads waited {waited:?} for the writer");
    assert_eq!(pool.open_connections(), 2);
    drop((c1, c2));
    release_tx.send(()).unwrap();
    writer.join().unwrap();
    // connections are given back and reused
    let _c = pool.get().unwrap();
    assert_eq!(pool.open_connections(), 2);
}
