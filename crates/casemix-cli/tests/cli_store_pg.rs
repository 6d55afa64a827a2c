//! `casemix store import --postgres <URL>`: the same import on PostgreSQL (the database named by
//! `CASEMIX_TEST_PG_URL`, which scripts/pg-test-server.sh starts). Skips locally without that
//! variable; fails under `CI=true`, so CI really runs it.

use std::path::Path;
use std::process::Command;

fn pg_url() -> Option<String> {
    match std::env::var("CASEMIX_TEST_PG_URL").ok().filter(|u| !u.is_empty()) {
        Some(u) => Some(u),
        None if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true 但未设置 CASEMIX_TEST_PG_URL：PostgreSQL 测试不能跳过（scripts/pg-test-server.sh）")
        }
        None => {
            eprintln!("跳过：未设置 CASEMIX_TEST_PG_URL");
            None
        }
    }
}

fn import(url: &str, hospital: &str, file: &Path) -> (bool, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_casemix"))
        .args(["store", "import", "--postgres", url, "--hospital", hospital, "--period", "2025-03"])
        .arg(file)
        .output()
        .unwrap();
    (o.status.success(), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// The upload number in "上传 #N：…".
fn upload_no(out: &str) -> i64 {
    out.trim_start_matches("上传 #").split('：').next().unwrap().parse().unwrap()
}

#[test]
fn import_on_postgres_is_idempotent_and_keeps_rejections() {
    let Some(url) = pg_url() else { return };
    // the database may hold earlier runs: a hospital code of this run only
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let h = format!("HPG{}{nanos}", std::process::id());
    let d = std::env::temp_dir().join(format!("casemix-cli-store-pg-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let csv = d.join("march.csv");
    // as in cli_store.rs: line 3 a bad admit time, line 4 another hospital → 2 rejections, 2 new
    std::fs::write(
        &csv,
        format!(
            "list_id,hospital_code,discharge_time,admit_time,total_cost\n\
             L1,{h},2025-03-05 10:00,2025-03-01 08:00,1000.00\n\
             L2,{h},2025-03-06 10:00,2025-13-01 08:00,2000.00\n\
             L3,H2,2025-03-07 10:00,2025-03-01 08:00,3000.00\n\
             L4,,2025-03-08 10:00,2025-03-01 08:00,4000.00\n"
        ),
    )
    .unwrap();
    let (ok, out, err) = import(&url, &h, &csv);
    assert!(ok, "{err}");
    let n = upload_no(&out);
    assert_eq!(out.trim(), format!("上传 #{n}：3 份清单，新增 2，更新 0，未变 0，拒收 2"));
    let (ok, out, err) = import(&url, &h, &csv);
    assert!(ok, "{err}");
    let m = upload_no(&out);
    assert!(m > n);
    assert_eq!(
        out.trim(),
        format!("上传 #{m}：3 份清单，新增 0，更新 0，未变 2，拒收 2（内容与现有版本相同，未产生新版本）\n同一文件曾于上传 #{n} 导入")
    );
    // --db and --postgres together are refused by the argument parser
    let o = Command::new(env!("CARGO_BIN_EXE_casemix"))
        .args(["store", "import", "--postgres", &url, "--db", "x.db", "--hospital", &h, "--period", "2025-03"])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(!o.status.success());
    std::fs::remove_dir_all(&d).ok();
}
