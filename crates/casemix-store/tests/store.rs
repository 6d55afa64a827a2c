//! The SQLite store: migrations, users and roles, argon2 passwords, versioned idempotent uploads,
//! scope isolation, the audit log, and crash safety (a child process aborts mid-upload).

use casemix_io::Rejection;
use casemix_model::{Field, SettlementList};
use casemix_store::*;
use chrono::{DateTime, TimeZone, Utc};
use std::path::Path;
use std::process::Command;

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

#[test]
fn migrations_are_idempotent_and_keep_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("casemix.db");
    {
        let mut s = Store::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
        admin(&mut s);
    }
    for _ in 0..2 {
        let s = Store::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
        assert_eq!(s.users().unwrap().len(), 1);
        assert!(s.integrity_ok().unwrap());
    }
    let raw = rusqlite::Connection::open(&path).unwrap();
    let rows: i64 = raw.query_row("SELECT COUNT(*) FROM schema_version", [], |r| r.get(0)).unwrap();
    assert_eq!(rows, MIGRATIONS.len() as i64, "one row per migration, none applied twice");
    let mode: String = raw.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    // a database written by a newer casemix is refused, not altered
    raw.execute("INSERT INTO schema_version (version, applied_at) VALUES (99, 'x')", []).unwrap();
    drop(raw);
    match Store::open(&path) {
        Err(StoreError::SchemaTooNew { found: 99, supported }) => assert_eq!(supported, MIGRATIONS.len() as i64),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("a newer schema must be refused"),
    }
}

#[test]
fn users_roles_and_hospital_binding() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("casemix.db");
    let mut s = Store::open(&path).unwrap();
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
    let raw = rusqlite::Connection::open(&path).unwrap();
    let insert = "INSERT INTO users (login, display_name, role, hospital_code, password_hash, created_at)
                  VALUES (?1, 'x', ?2, ?3, 'x', 'x')";
    let e = raw.execute(insert, rusqlite::params!["raw1", "hospital_user", None::<String>]).unwrap_err();
    assert!(e.to_string().contains("CHECK constraint failed"), "{e}");
    let e = raw.execute(insert, rusqlite::params!["raw2", "bureau_admin", Some("H1")]).unwrap_err();
    assert!(e.to_string().contains("CHECK constraint failed"), "{e}");
    let e = raw.execute(insert, rusqlite::params!["raw3", "superuser", None::<String>]).unwrap_err();
    assert!(e.to_string().contains("CHECK constraint failed"), "{e}");
    raw.execute(insert, rusqlite::params!["raw4", "hospital_user", Some("H9")]).unwrap();
}

#[test]
fn argon2id_passwords_verify() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("casemix.db");
    let mut s = Store::open(&path).unwrap();
    let a = admin(&mut s);
    s.create_user("admin", &new_user("h1", Role::HospitalUser, Some("H1")), t(1, 9)).unwrap();
    assert_eq!(s.verify_password("admin", "正确的密码 correct horse").unwrap(), Some(a.clone()));
    assert_eq!(s.verify_password("admin", "正确的密码 correct hors").unwrap(), None);
    assert_eq!(s.verify_password("admin", "").unwrap(), None);
    assert_eq!(s.verify_password("nobody", "正确的密码 correct horse").unwrap(), None);
    let raw = rusqlite::Connection::open(&path).unwrap();
    let hashes: Vec<String> = raw
        .prepare("SELECT password_hash FROM users ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<std::result::Result<_, _>>()
        .unwrap();
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

#[test]
fn uploads_make_versions_and_reuploads_are_idempotent() {
    let mut s = Store::open_in_memory().unwrap();
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

#[test]
fn month_ranges_and_period_fallback() {
    let mut s = Store::open_in_memory().unwrap();
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

#[test]
fn hospital_scope_isolates_everything() {
    let mut s = Store::open_in_memory().unwrap();
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

#[test]
fn every_change_is_in_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("casemix.db");
    let mut s = Store::open(&path).unwrap();
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
    let raw = rusqlite::Connection::open(&path).unwrap();
    let e = raw.execute("UPDATE audit_log SET actor = 'nobody' WHERE id = 1", []).unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
    let e = raw.execute("DELETE FROM audit_log", []).unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
}

// ---------------------------------------------------------------- crash safety

const CHILD_ENV: &str = "CASEMIX_STORE_CRASH_CHILD";
const DB_ENV: &str = "CASEMIX_STORE_CRASH_DB";
const CRASH_LISTS: usize = 4000;
const CRASH_AT: usize = 3500;

/// Only does something when run by `crash_mid_upload_leaves_nothing_half_written` as a child
/// process: starts a big upload and aborts the process in the middle, before the commit.
#[test]
fn crash_child() {
    let Some(path) = std::env::var_os(DB_ENV).filter(|_| std::env::var_os(CHILD_ENV).is_some()) else {
        return;
    };
    let mut s = Store::open(Path::new(&path)).unwrap();
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

#[test]
fn crash_mid_upload_leaves_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("casemix.db");
    let wal = dir.path().join("casemix.db-wal");
    let before = {
        let mut s = Store::open(&path).unwrap();
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
        .env(DB_ENV, &path)
        .current_dir(dir.path()) // a core dump, if the system writes one, lands in the temp dir
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the child must die: {stderr}");
    assert!(stderr.contains(&format!("CRASH_CHILD_ABORTING after {CRASH_AT} lists")), "child did not reach the crash point: {stderr}");
    // the aborted transaction had spilled pages into the WAL: half-written data is on disk
    let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert!(wal_len > 1_000_000, "expected uncommitted frames in the WAL, found {wal_len} bytes");

    let mut s = Store::open(&path).unwrap();
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
    assert_eq!(next.upload_id, 3);
    assert_eq!(s.count_current(&Scope::All, &Months::all()).unwrap(), 3);
}
