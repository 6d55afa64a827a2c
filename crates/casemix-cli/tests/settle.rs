//! `casemix settle` on a small independent scenario (issue 12, finding 7 and the settlement gate):
//! a re-submitted list replaces the earlier one, negative / zero totals are refused, deductions
//! naming an unknown list or another hospital's list are refused, the special-case cap is counted
//! on the year, and a list with QC errors is held. Every figure is worked out by hand below.

use std::path::{Path, PathBuf};
use std::process::Command;

fn casemix() -> Command {
    Command::new(env!("CARGO_BIN_EXE_casemix"))
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("casemix-settle-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn read_csv(p: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut r = csv::ReaderBuilder::new().flexible(true).from_path(p).unwrap();
    let h: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records().map(|x| h.iter().cloned().zip(x.unwrap().iter().map(str::to_string)).collect()).collect()
}

const POLICY: &str = r#"
[policy]
region = "结算测试区"
year = 2025
model = "drg_points"
[budget]
total_cost = "100000"
adjustment_fund_share = 0
quality_deposit_share = 0
[special_cases]
cap_share = 0.25
"#;

// line 1 header; lines 2–9 the lists
const CASES: &str = "list_id,hospital_code,discharge_time,total_cost,drg,status,qc_errors
A1,H1,2025-03-10 10:00:00,10000.00,G1,分组成功,0
A2,H1,2025-05-10 10:00:00,10000.00,G1,分组成功,0
B1,H2,2025-03-10 10:00:00,20000.00,G2,分组成功,0
A1,H1,2025-06-01 10:00:00,20000.00,G2,分组成功,0
NEG,H2,2025-03-01 10:00:00,-500.00,G1,分组成功,0
Z0,H2,2025-03-01 10:00:00,0.00,G1,分组成功,0
BAD,H1,2025-12-01 10:00:00,9000000.00,G1,分组成功,3
S,H2,2025-07-01 10:00:00,30000.00,G2,分组成功,0
HUGE,H1,2025-12-01 10:00:00,900000000000000.00,G1,分组成功,0
";

/// Writes the scenario and runs `casemix settle <what>`; returns the output directory.
fn settle(name: &str, what: &[&str]) -> PathBuf {
    let d = dir().join(name);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("policy.toml"), POLICY).unwrap();
    std::fs::write(d.join("cases.csv"), CASES).unwrap();
    std::fs::write(d.join("weights.csv"), "drg,cost_mean,points\nG1,10000.00,100\nG2,20000.00,200\n").unwrap();
    std::fs::write(d.join("hospitals.csv"), "code,name,level,tier\nH1,甲医院,三级,1\nH2,乙医院,三级,1\n").unwrap();
    std::fs::write(d.join("special.csv"), "hospital_code,list_id\nH2,S\n").unwrap();
    std::fs::write(
        d.join("deductions.csv"),
        "list_id,hospital_code,rule,action,target,amount,reason\nA2,H1,R1,amount,,100.00,核减\nGHOST,H1,R1,amount,,50.00,无此清单\nB1,H1,R1,amount,,70.00,他院清单\n",
    )
    .unwrap();
    let out = d.join("out");
    let o = casemix()
        .args(["settle"])
        .args(what)
        .arg("--policy")
        .arg(d.join("policy.toml"))
        .arg("--cases")
        .arg(d.join("cases.csv"))
        .arg("--weights")
        .arg(d.join("weights.csv"))
        .arg("--hospitals")
        .arg(d.join("hospitals.csv"))
        .arg("--special")
        .arg(d.join("special.csv"))
        .arg("--deductions")
        .arg(d.join("deductions.csv"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    out
}

fn row<'a>(rows: &'a [std::collections::BTreeMap<String, String>], key: &str, val: &str) -> Vec<&'a std::collections::BTreeMap<String, String>> {
    rows.iter().filter(|r| r.get(key).map(String::as_str) == Some(val)).collect()
}

#[test]
fn year_end_to_the_fen_with_every_bad_input_refused() {
    let out = settle("year", &["year", "--year", "2025"]);
    // rejections.csv: line, list_id, field, rule, message — one each, nothing silently dropped
    let rej = read_csv(&out.join("rejections.csv"));
    let dup = row(&rej, "list_id", "A1");
    assert_eq!(dup.len(), 1);
    assert_eq!((dup[0]["line"].as_str(), dup[0]["rule"].as_str()), ("2", "duplicate_list_id"));
    assert!(dup[0]["message"].contains("以后提交的为准"), "{:?}", dup[0]);
    // never priced (not a 0-point low outlier): refused with a Chinese message naming the amount
    for id in ["NEG", "Z0"] {
        let r = row(&rej, "list_id", id);
        assert_eq!(r.len(), 1, "{id}: {rej:?}");
        assert_eq!(r[0]["field"], "total_cost", "{:?}", r[0]);
        assert!(r[0]["message"].contains(if id == "NEG" { "-500.00" } else { "0.00" }), "{:?}", r[0]);
    }
    assert_eq!(row(&rej, "list_id", "NEG")[0]["line"], "6");
    assert_eq!(row(&rej, "list_id", "Z0")[0]["line"], "7");
    // 900000000000000.00 yuan is outside the list-amount domain: refused by the reader with its
    // line, never held, never priced
    let huge = row(&rej, "list_id", "HUGE");
    assert_eq!((huge.len(), huge[0]["line"].as_str(), huge[0]["rule"].as_str()), (1, "10", "out_of_domain"), "{huge:?}");
    let ghost = row(&rej, "list_id", "GHOST");
    assert_eq!((ghost.len(), ghost[0]["rule"].as_str()), (1, "deduction_list_unknown"));
    assert!(ghost[0]["message"].contains("GHOST"));
    let other = row(&rej, "list_id", "B1");
    assert_eq!(other.len(), 1);
    assert!(other[0]["message"].contains("属于医院 H2"), "{:?}", other[0]);

    // cases.csv: A1 (the later, G2), A2, B1, S settled; BAD held; NEG, Z0, HUGE and the earlier A1 absent
    let cases = read_csv(&out.join("cases.csv"));
    let ids: Vec<(&str, &str)> = cases.iter().map(|r| (r["list_id"].as_str(), r["status"].as_str())).collect();
    assert_eq!(ids, vec![("A2", "已结算"), ("B1", "已结算"), ("A1", "已结算"), ("BAD", "待补正"), ("S", "已结算")]);
    // budget 100000 yuan, nothing at cost but S: the year cap floor(0.25 × 4 group-paid) = 1
    // admits S → 30000.00 yuan by item. Pool 70000 yuan over A1' 200 + A2 100 + B1 200 = 500
    // points → 140 yuan a point. H1 300 points = 42000.00, − deduction 100.00 = 41900.00;
    // H2 200 points = 28000.00 + S 30000.00 = 58000.00.
    let s = &row(&cases, "list_id", "S")[0];
    assert_eq!((s["method"].as_str(), s["payment"].as_str()), ("special_case", "30000.00"));
    assert_eq!(row(&cases, "list_id", "A1")[0]["payment"], "28000.00");
    assert_eq!(row(&cases, "list_id", "BAD")[0]["payment"], "0.00");
    let st = read_csv(&out.join("statement.csv"));
    let h1 = row(&st, "hospital_code", "H1")[0];
    let h2 = row(&st, "hospital_code", "H2")[0];
    assert_eq!((h1["point_value"].as_str(), h1["group_payment"].as_str(), h1["deductions"].as_str(), h1["net_payment"].as_str()), ("140.000000", "42000.00", "100.00", "41900.00"));
    assert_eq!((h1["cases"].as_str(), h1["held_cases"].as_str(), h1["held_cost"].as_str()), ("2", "1", "9000000.00"));
    assert_eq!((h2["group_payment"].as_str(), h2["ffs_payment"].as_str(), h2["deductions"].as_str(), h2["net_payment"].as_str()), ("28000.00", "30000.00", "0.00", "58000.00"));
    // summary: remainder = the 100.00 deduction; the three-way balance check passes
    let sum = read_csv(&out.join("summary.csv"));
    let v = |k: &str| row(&sum, "key", k)[0]["value"].clone();
    assert_eq!((v("net_payments"), v("remainder"), v("held_cases"), v("held_cost")), ("99900.00".into(), "100.00".into(), "1".into(), "9000000.00".into()));
    assert_eq!((v("check.case_payments"), v("check.statement_net"), v("balanced")), ("100000.00".into(), "99900.00".into(), "是".into()));
    assert_eq!(v("qc_gate"), "已执行");
}

#[test]
fn july_pays_the_approved_special_case_the_year_admits() {
    // July holds only S: a month cap floor(0.25 × 1) = 0 would pay it by group; the year's cap
    // (1 of 4) admits it, as at year end. Month budget 10000000 / 12 → 833333 fen for July; S is
    // paid 30000.00 at cost, the pool 833333 − 3000000 = −2166667 fen is not distributable.
    let out = settle("july", &["month", "--month", "2025-07"]);
    let cases = read_csv(&out.join("cases.csv"));
    assert_eq!(cases.len(), 1);
    assert_eq!((cases[0]["list_id"].as_str(), cases[0]["method"].as_str(), cases[0]["payment"].as_str()), ("S", "special_case", "30000.00"));
    let sum = read_csv(&out.join("summary.csv"));
    let v = |k: &str| row(&sum, "key", k)[0]["value"].clone();
    assert_eq!((v("budget"), v("remainder.pool_not_distributable"), v("balanced")), ("8333.33".into(), "-21666.67".into(), "是".into()));
}

#[test]
fn special_approval_without_hospital_is_refused_with_its_line() {
    let d = dir().join("bad-special");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("policy.toml"), POLICY).unwrap();
    std::fs::write(d.join("cases.csv"), CASES).unwrap();
    std::fs::write(d.join("weights.csv"), "drg,cost_mean,points\nG1,10000.00,100\nG2,20000.00,200\n").unwrap();
    std::fs::write(d.join("special.csv"), "hospital_code,list_id\nS\n").unwrap();
    let o = casemix()
        .args(["settle", "year", "--year", "2025", "--policy"])
        .arg(d.join("policy.toml"))
        .arg("--cases")
        .arg(d.join("cases.csv"))
        .arg("--weights")
        .arg(d.join("weights.csv"))
        .arg("--special")
        .arg(d.join("special.csv"))
        .arg("-o")
        .arg(d.join("out"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("第 2 行") && err.contains("hospital_code,list_id"), "{err}");
}

fn shared() -> PathBuf {
    std::env::var("CASEMIX_SHARED").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

#[test]
fn qc_scheme_holds_lists_with_errors_unless_the_bureau_accepted_them() {
    // The scenario's lists carry only id, hospital, discharge time, total and group: QC finds
    // 错误-level gaps (sex, birth date, diagnoses …) in every one, so with --qc-scheme each list
    // that is not replaced is held (待补正) — 6 of 9: the repeated A1 is replaced, and NEG
    // (−500.00) and HUGE (900000000000000.00) never get that far, the reader refuses their
    // amounts as outside the list-amount domain (0.00–10000000.00); nothing is paid, and the whole 100000.00
    // yuan stays as a pool with no points. The bureau accepts H2's B1: it alone is settled,
    // 200 points take the whole pool (500 yuan a point) → H2 100000.00.
    let d = dir().join("qc");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("policy.toml"), POLICY).unwrap();
    std::fs::write(d.join("cases.csv"), CASES.replace(",qc_errors", ",note").replace(",0\n", ",-\n").replace(",3\n", ",-\n")).unwrap();
    std::fs::write(d.join("weights.csv"), "drg,cost_mean,points\nG1,10000.00,100\nG2,20000.00,200\n").unwrap();
    std::fs::write(d.join("accepted.csv"), "hospital_code,list_id\nH2,B1\n").unwrap();
    let run = |accepted: bool, out: &str| {
        let mut c = casemix();
        c.args(["settle", "year", "--year", "2025", "--qc-scheme", "chs_drg_11", "--qc-schemes-dir"])
            .arg(shared().join("schemes"))
            .arg("--policy")
            .arg(d.join("policy.toml"))
            .arg("--cases")
            .arg(d.join("cases.csv"))
            .arg("--weights")
            .arg(d.join("weights.csv"))
            .arg("-o")
            .arg(d.join(out));
        if accepted {
            c.arg("--qc-accepted").arg(d.join("accepted.csv"));
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let sum = read_csv(&d.join(out).join("summary.csv"));
        let v = |k: &str| row(&sum, "key", k)[0]["value"].clone();
        (v("qc_gate"), v("held_cases"), v("net_payments"), v("remainder.pool_not_distributable"), v("balanced"))
    };
    assert_eq!(run(false, "held"), ("已执行".into(), "6".into(), "0.00".into(), "100000.00".into(), "是".into()));
    assert_eq!(run(true, "accepted"), ("已执行".into(), "5".into(), "100000.00".into(), "0.00".into(), "是".into()));
}
