//! `casemix store import`: a file becomes one upload; importing it again creates no new version.

use std::path::PathBuf;
use std::process::Command;

fn tmp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("casemix-cli-store-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn import(db: &PathBuf, file: &PathBuf) -> (bool, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_casemix"))
        .args(["store", "import", "--db"])
        .arg(db)
        .args(["--hospital", "H1", "--period", "2025-03"])
        .arg(file)
        .output()
        .unwrap();
    (o.status.success(), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn import_twice_is_idempotent_and_keeps_rejections() {
    let d = tmp_dir();
    let db = d.join("casemix.db");
    let _ = std::fs::remove_file(&db);
    let csv = d.join("march.csv");
    // line 3 has a bad admit time → one rejection; line 4 belongs to another hospital → rejected by the store
    std::fs::write(
        &csv,
        "list_id,hospital_code,discharge_time,admit_time,total_cost\n\
         L1,H1,2025-03-05 10:00,2025-03-01 08:00,1000.00\n\
         L2,H1,2025-03-06 10:00,2025-13-01 08:00,2000.00\n\
         L3,H2,2025-03-07 10:00,2025-03-01 08:00,3000.00\n\
         L4,,2025-03-08 10:00,2025-03-01 08:00,4000.00\n",
    )
    .unwrap();
    let (ok, out, err) = import(&db, &csv);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "上传 #1：3 份清单，新增 2，更新 0，未变 0，拒收 2");
    let (ok, out, err) = import(&db, &csv);
    assert!(ok, "{err}");
    assert_eq!(
        out.trim(),
        "上传 #2：3 份清单，新增 0，更新 0，未变 2，拒收 2（内容与现有版本相同，未产生新版本）\n同一文件曾于上传 #1 导入"
    );
    let (ok, _, err) = Command::new(env!("CARGO_BIN_EXE_casemix"))
        .args(["store", "import", "--db"])
        .arg(&db)
        .args(["--hospital", "H1", "--period", "2025-3"])
        .arg(&csv)
        .output()
        .map(|o| (o.status.success(), (), String::from_utf8_lossy(&o.stderr).into_owned()))
        .unwrap();
    assert!(!ok);
    assert!(err.contains("结算期间“2025-3”不是 YYYY-MM 形式的月份"), "{err}");
    std::fs::remove_dir_all(&d).ok();
}
