//! The `casemix group` / `casemix explain` contract, checked from outside by running the binary.

use std::path::PathBuf;
use std::process::Command;

fn shared() -> PathBuf {
    std::env::var("CASEMIX_SHARED").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

fn casemix() -> Command {
    Command::new(env!("CARGO_BIN_EXE_casemix"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("casemix-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn read_csv(p: &PathBuf) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::ReaderBuilder::new().flexible(true).from_path(p).unwrap();
    let h = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r.records().map(|x| x.unwrap().iter().map(str::to_string).collect()).collect();
    (h, rows)
}

#[test]
fn groups_reference_file_in_order_with_summary() {
    let input = shared().join("grouper-reference/wuxi_2022.csv");
    let out = tmp("wuxi.csv");
    let o = casemix()
        .args(["group", "--scheme", "wuxi_2022", "--schemes-dir"])
        .arg(shared().join("schemes"))
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .args(["--threads", "2"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("入组率"), "{stderr}");
    assert!(stderr.contains("records=20000"), "{stderr}");
    let (h, rows) = read_csv(&out);
    assert_eq!(h, ["id", "status", "mdc", "adrg", "drg", "drg_name", "message"]);
    let (_, refrows) = read_csv(&input);
    assert_eq!(rows.len(), refrows.len());
    for (got, want) in rows.iter().zip(&refrows) {
        // id and the four result columns (reference columns 11..15)
        assert_eq!(got[0], want[0]);
        assert_eq!(&got[1..5], &want[11..15], "{}", want[0]);
    }
}

#[test]
fn bad_records_become_rejection_rows_and_nothing_vanishes() {
    let input = tmp("bad.csv");
    std::fs::write(
        &input,
        "id,sex,age_years,age_days,birth_weight_g,dept,los_days,leaving_type,icu_hours,diagnoses,procedures,extra_col\n\
         A1,1,30,,,,5,1,0,K35.300|J18.900,47.0100,x\n\
         A2,1,abc,,,,5,1,0,K35.300,,y\n\
         ,1,30,,,,5,1,0,K35.300,,z\n\
         A4,2,40,,,,3,1,0,K35.300,,w\n",
    )
    .unwrap();
    let out = tmp("bad.out.csv");
    let o = casemix()
        .args(["group", "--scheme"])
        .arg(shared().join("schemes/chs_drg_11"))
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .arg("--full")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (h, rows) = read_csv(&out);
    assert_eq!(h.len(), 12 + 6);
    assert_eq!(&h[11..], ["extra_col", "status", "mdc", "adrg", "drg", "drg_name", "message"]);
    assert_eq!(rows.len(), 4, "every input record has an output row");
    // A1: appendectomy with CC (derivation in casemix-grouper tests/real_scheme.rs) → GD13
    assert_eq!(rows[0][0], "A1");
    assert_eq!(rows[0][11], "x");
    assert_eq!(&rows[0][12..16], ["分组成功", "MDCG", "GD1", "GD13"]);
    // A2: age "abc" is rejected with line number, id, field and a Chinese message
    assert_eq!(rows[1][12], "输入错误");
    assert!(rows[1][17].starts_with("第 3 行 list_id=A2："), "{}", rows[1][17]);
    assert!(rows[1][17].contains("年龄(岁)"), "{}", rows[1][17]);
    // line 4 has no id
    assert_eq!(rows[2][12], "输入错误");
    assert!(rows[2][17].starts_with("第 4 行"), "{}", rows[2][17]);
    // A4: medical appendicitis → GZ15
    assert_eq!(&rows[3][12..16], ["分组成功", "MDCG", "GZ1", "GZ15"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("rejected=2"), "{stderr}");
}

#[test]
fn explain_column_and_command() {
    let o = casemix()
        .args(["explain", "--scheme", "chs_drg_11", "--schemes-dir"])
        .arg(shared().join("schemes"))
        .args(["--dx", "K35.300|K38.000", "--px", "47.0100", "--sex", "1", "--age", "30", "--output-json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["drg"], "GD15");
    let trace = v["trace"].to_string();
    assert!(trace.contains("其他诊断 K38.000 为CC（排除表 112），但主要诊断 K35.300 的排除表为 112：被排除，不计入"), "{trace}");
}

#[test]
fn unknown_scheme_is_a_clear_error() {
    let o = casemix().args(["group", "--scheme", "nope", "x.csv", "-o", "y.csv"]).output().unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("找不到分组方案 'nope'"));
}
