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
    s.record_upload(&meta("H1", "2025-03", "m.csv"), &lists, &[], &a, t(2, 8)).unwrap();
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
