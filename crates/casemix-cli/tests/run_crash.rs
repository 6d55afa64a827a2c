//! Crash consistency of the yearly run, through the real binary: `casemix workbench run` on a
//! `tiny` synthetic region is killed with SIGKILL at each stage of writing its run version
//! (the test-only hook `CASEMIX_TEST_PAUSE_AT=<stage>` parks it there), the server is started
//! again, and the dashboard (case data), the statements and the run record must agree month by
//! month and be wholly the old run or wholly the new one; no temporary file may remain. A second
//! run while one is in progress is refused, from the CLI and from the web API.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

mod common;
use common::*;

/// A data directory with 2025's lists imported except hospital A's December (returned as CSV
/// text, to be imported between the runs so that the second run differs from the first).
fn setup(root: &Path) -> (PathBuf, String) {
    let schemes = shared().join("schemes");
    let r = root.join("region");
    run_ok(bin().args(["synth", "--profile", "tiny", "--seed", "7", "--years", "2023-2025", "--scheme", "chs_drg_11", "--schemes-dir"]).arg(&schemes).arg("-o").arg(&r));
    run_ok(bin().args(["calibrate", "drg", "--scheme", "chs_drg_11", "--schemes-dir"]).arg(&schemes).arg("--history").arg(r.join("settlements.csv")).args(["--years", "2023,2024", "--year-weights", "1,2", "-o"]).arg(root.join("cal")));
    let hosp = std::fs::read_to_string(r.join("hospitals.csv")).unwrap();
    let a = hosp.lines().nth(1).unwrap().split(',').next().unwrap().to_string();
    let text = std::fs::read_to_string(r.join("settlements.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let cols: Vec<&str> = header.split(',').collect();
    let hc = cols.iter().position(|c| *c == "hospital_code").unwrap();
    let dc = cols.iter().position(|c| *c == "discharge_time").unwrap();
    let (mut main, mut held) = (format!("{header}\n"), format!("{header}\n"));
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        if f.len() <= dc.max(hc) || !f[dc].starts_with("2025") {
            continue;
        }
        let to = if f[hc] == a && f[dc].starts_with("2025-12") { &mut held } else { &mut main };
        to.push_str(l);
        to.push('\n');
    }
    std::fs::write(root.join("main.csv"), main).unwrap();
    let d = root.join("data");
    run_ok(bin().args(["workbench", "init", "--region", "crash", "--data"]).arg(&d).arg("--scheme").arg(schemes.join("chs_drg_11")).arg("--policy").arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/ankang-drg-points-2025.toml")).arg("--weights").arg(root.join("cal/weights.csv")).arg("--hospitals").arg(r.join("hospitals.csv")));
    run_ok(bin().args(["workbench", "user", "--data"]).arg(&d).args(["--login", "admin", "--password", "pw-123456", "--role", "bureau_admin"]));
    run_ok(bin().args(["workbench", "import", "--split", "--year", "2025", "--data"]).arg(&d).arg(root.join("main.csv")));
    (d, held)
}

/// `workbench run` parked at `stage` (it printed the hook's marker): the caller kills it.
fn run_paused_at(d: &Path, stage: &str) -> Child {
    let mut child = bin().args(["workbench", "run", "--data"]).arg(d).env("CASEMIX_TEST_PAUSE_AT", stage).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let marker = format!("CASEMIX_TEST_PAUSED {stage}");
    let mut seen = String::new();
    loop {
        let mut line = Vec::new();
        let n = err.read_until(b'\n', &mut line).unwrap();
        let line = String::from_utf8_lossy(&line);
        assert!(n > 0, "the run ended before stage {stage}: {seen}");
        if line.contains(&marker) {
            break;
        }
        seen.push_str(&line);
    }
    // keep draining stderr so the child never blocks on a full pipe
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut err, &mut std::io::sink());
    });
    child
}

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(d: &Path) -> Server {
    let mut child = bin().args(["serve", "--insecure-cookies", "--addr", "127.0.0.1:0", "--data"]).arg(d).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let addr = line.trim().trim_start_matches("网页工作台已启动：http://").trim_end_matches("/login").to_string();
    assert!(addr.starts_with("127.0.0.1:"), "server said: {line}");
    Server { child, addr }
}

/// (status, head, body) of one HTTP/1.1 request through the shared client (tests/common).
fn request(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String, String) {
    let r = common::request(addr, method, path, None, headers, body);
    (r.status, r.headers, r.body)
}

/// The admin's session (cookie, csrf token).
fn login(addr: &str) -> (String, String) {
    common::login(addr, "admin")
}

fn get_json(addr: &str, path: &str, cookie: &str) -> serde_json::Value {
    let (st, _, body) = request(addr, "GET", path, &[("Cookie", cookie)], b"");
    assert_eq!(st, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Cases per month (`YYYY-MM`) as the three readers see them after a restart: the dashboard
/// (Parquet case data), the statements (API) and the run record file; they must agree.
fn consistent_months(d: &Path) -> BTreeMap<String, u64> {
    let srv = serve(d);
    let (c, _) = login(&srv.addr);
    let mon = get_json(&srv.addr, "/api/v1/monitor?from=2025-01&to=2025-12", &c);
    let dash: BTreeMap<String, u64> = mon["trend"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["cases"].as_u64().unwrap() > 0)
        .map(|m| (format!("{}-{:02}", m["period"]["year"], m["period"]["month"].as_u64().unwrap()), m["cases"].as_u64().unwrap()))
        .collect();
    let st = get_json(&srv.addr, "/api/v1/statements", &c);
    let stmt: BTreeMap<String, u64> = st["settlements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "month" && s["cases"].as_u64().unwrap() > 0)
        .map(|s| (s["period"].as_str().unwrap().to_string(), s["cases"].as_u64().unwrap() + s["held_cases"].as_u64().unwrap()))
        .collect();
    let v = std::fs::read_to_string(d.join("runs/CURRENT")).unwrap();
    let rec: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join("runs").join(v.trim()).join("record-2025.json")).unwrap()).unwrap();
    let record: BTreeMap<String, u64> =
        rec["months"].as_array().unwrap().iter().filter(|s| s["cases"].as_u64().unwrap() > 0).map(|s| (s["period"].as_str().unwrap().to_string(), s["cases"].as_u64().unwrap() + s["held_cases"].as_u64().unwrap())).collect();
    // the case data holds every case of the year; the record counts the settled ones and the
    // ones the [qc_gate] held (待补正) apart
    assert_eq!(dash, record, "dashboard (case data) and run record disagree");
    assert_eq!(stmt, record, "statements and run record disagree");
    assert!(!record.is_empty());
    record
}

/// Every leftover of an interrupted write: temp files and staging directories.
fn leftovers(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![d.join("runs")];
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            if name.contains(".tmp") || name.starts_with(".staging-") {
                out.push(e.path());
            }
            if e.path().is_dir() {
                stack.push(e.path());
            }
        }
    }
    out
}

fn versions(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d.join("runs")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with('v')).collect();
    v.sort();
    v
}

#[test]
fn killed_runs_leave_the_old_run_or_the_new_one_and_no_temp_files() {
    let root = std::env::temp_dir().join(format!("casemix-run-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let (d, held) = setup(&root);
    let held_lists = held.lines().count() - 1;
    assert!(held_lists > 0, "hospital A has December lists to add");

    // run 1: the old run
    run_ok(bin().args(["workbench", "run", "--data"]).arg(&d));
    let old = consistent_months(&d);
    // A's December arrives: the next run differs from the old one in December only
    let held_csv = root.join("held.csv");
    std::fs::write(&held_csv, &held).unwrap();
    run_ok(bin().args(["workbench", "import", "--split", "--year", "2025", "--data"]).arg(&d).arg(&held_csv));

    // killed before the switch: the old run, whole
    for stage in ["inputs", "partitions", "staged", "renamed"] {
        let mut child = run_paused_at(&d, stage);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        if stage != "inputs" {
            assert!(!leftovers(&d).is_empty() || stage == "renamed", "{stage}: the kill left the half-written version the test means to check");
        }
        let seen = consistent_months(&d);
        assert_eq!(seen, old, "killed at {stage}: not the old run");
        assert_eq!(leftovers(&d), Vec::<PathBuf>::new(), "killed at {stage}: temp files remain after the restart");
        assert!(versions(&d).len() <= 2, "killed at {stage}: unreferenced versions remain: {:?}", versions(&d));
    }
    // killed just after the switch: the new run, whole
    let mut child = run_paused_at(&d, "switched");
    child.kill().unwrap();
    child.wait().unwrap();
    let switched = consistent_months(&d);
    assert_ne!(switched, old, "the switch happened: the new run is current");
    // December grew by A's December lists; no other month changed
    let dec = "2025-12".to_string();
    assert_eq!(switched.get(&dec).copied().unwrap_or(0), old.get(&dec).copied().unwrap_or(0) + held_lists as u64, "{switched:?} vs {old:?}");
    for (m, n) in &old {
        if *m != dec {
            assert_eq!(switched.get(m), Some(n), "month {m}");
        }
    }
    assert_eq!(leftovers(&d), Vec::<PathBuf>::new());
    // a clean run of the same inputs gives the same months
    run_ok(bin().args(["workbench", "run", "--data"]).arg(&d));
    assert_eq!(consistent_months(&d), switched);
    assert!(versions(&d).len() <= 2, "old versions are removed after the switch: {:?}", versions(&d));

    // one run at a time: a parked run holds the lock; the CLI and the web API are refused
    let mut child = run_paused_at(&d, "inputs");
    let o = bin().args(["workbench", "run", "--data"]).arg(&d).output().unwrap();
    assert!(!o.status.success(), "a second concurrent run was not refused");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("另一个年度计算正在运行"), "{err}");
    let srv = serve(&d);
    let (c, csrf) = login(&srv.addr);
    let (st, _, body) = request(&srv.addr, "POST", "/api/v1/runs", &[("Cookie", &c), ("X-CSRF-Token", &csrf)], b"");
    assert_eq!(st, 409, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["code"], "run_in_progress");
    assert!(v["message"].as_str().unwrap().contains("另一个年度计算正在运行"), "{v}");
    drop(srv);
    // the lock dies with its process: the next run proceeds
    child.kill().unwrap();
    child.wait().unwrap();
    run_ok(bin().args(["workbench", "run", "--data"]).arg(&d));
    assert_eq!(consistent_months(&d), switched);
    assert_eq!(leftovers(&d), Vec::<PathBuf>::new());
    let _ = std::fs::remove_dir_all(&root);
}
