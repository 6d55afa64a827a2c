//! The workbench end to end through the real binary and a real server process: a `tiny`
//! synthetic region is set up with `casemix workbench …`, `casemix serve --data` is started,
//! and every workbench endpoint is called over HTTP — as each role, with bad input, across
//! hospitals (role isolation) — and the server is killed in the middle of an upload and
//! restarted (nothing half-written visible, nothing committed lost).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

mod common;
use common::*;

/// The region: hospitals A and B (first two of the register), 2025 lists of every hospital
/// imported except hospital A's December, kept in `held_back.csv` for the upload tests.
struct Fixture {
    root: PathBuf,
    a: String,
    b: String,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("casemix-wb-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let schemes = shared().join("schemes");
        let r = root.join("region");
        run_ok(bin().args(["synth", "--profile", "tiny", "--seed", "5", "--years", "2022-2025", "--scheme", "chs_drg_11", "--schemes-dir"]).arg(&schemes).arg("-o").arg(&r));
        run_ok(bin().args(["calibrate", "drg", "--scheme", "chs_drg_11", "--schemes-dir"]).arg(&schemes).arg("--history").arg(r.join("settlements.csv")).args(["--years", "2022,2023,2024", "--year-weights", "1,2,7", "-o"]).arg(root.join("cal")));
        let hosp = std::fs::read_to_string(r.join("hospitals.csv")).unwrap();
        let codes: Vec<String> = hosp.lines().skip(1).map(|l| l.split(',').next().unwrap().to_string()).collect();
        let (a, b) = (codes[0].clone(), codes[1].clone());
        // split the 2025 lists: A's December held back
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
            if f[hc] == a && f[dc].starts_with("2025-12") {
                held.push_str(l);
                held.push('\n');
            } else {
                main.push_str(l);
                main.push('\n');
            }
        }
        std::fs::write(root.join("main.csv"), main).unwrap();
        std::fs::write(root.join("held_back.csv"), held).unwrap();
        make_data(&root, &root.join("data"), &a, &b, true);
        Fixture { root, a, b }
    })
}

/// A data directory over the fixture's region: config, one user per role (password
/// `pw-123456`), the 2025 lists but A's December imported per hospital and month, claims and
/// charges attached, and (when `run`) the yearly run done.
fn make_data(root: &Path, d: &Path, a: &str, b: &str, run: bool) {
    make_data_on(root, d, a, b, run, None)
}

/// As `make_data`, with the workflow state on PostgreSQL when `postgres` is given.
fn make_data_on(root: &Path, d: &Path, a: &str, b: &str, run: bool, postgres: Option<&str>) {
    let schemes = shared().join("schemes");
    let r = root.join("region");
    let mut init = bin();
    init.args(["workbench", "init", "--region", "test", "--region-name", "测试统筹区", "--data"]).arg(d).arg("--scheme").arg(schemes.join("chs_drg_11")).arg("--policy").arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/ankang-drg-points-2025.toml")).arg("--weights").arg(root.join("cal/weights.csv")).arg("--hospitals").arg(r.join("hospitals.csv"));
    if let Some(u) = postgres {
        init.args(["--postgres", u]);
    }
    run_ok(&mut init);
    for (login, role, h) in [("admin", "bureau_admin", None), ("analyst", "bureau_analyst", None), ("auditor", "bureau_auditor", None), ("ha", "hospital_user", Some(a)), ("hb", "hospital_user", Some(b))] {
        let mut c = bin();
        c.args(["workbench", "user", "--data"]).arg(d).args(["--login", login, "--password", "pw-123456", "--role", role]);
        if let Some(h) = h {
            c.args(["--hospital", h]);
        }
        run_ok(&mut c);
    }
    run_ok(bin().args(["workbench", "import", "--split", "--year", "2025", "--data"]).arg(d).arg(root.join("main.csv")));
    if run {
        run_ok(bin().args(["workbench", "attach", "--data"]).arg(d).arg("--claims").arg(r.join("claims.csv")).arg("--charges").arg(r.join("charges.csv")));
        run_ok(bin().args(["workbench", "run", "--data"]).arg(d));
    }
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

fn start(data: &Path, extra: &[&str]) -> Server {
    let mut child = bin()
        .args(["serve", "--insecure-cookies", "--addr", "127.0.0.1:0", "--data"])
        .arg(data)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start server");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let addr = line.trim().trim_start_matches("网页工作台已启动：http://").trim_end_matches("/login").to_string();
    assert!(addr.starts_with("127.0.0.1:"), "server said: {line}");
    Server { child, addr }
}

#[test]
fn api_endpoints_roles_and_bad_input() {
    let f = fixture();
    let srv = start(&f.root.join("data"), &["--body-limit-mib", "2"]);
    let addr = srv.addr.as_str();

    // not logged in: API 401 JSON, pages redirect to the login
    let r = request(addr, "GET", "/api/v1/uploads", None, &[], b"");
    assert_eq!(r.status, 401);
    assert_eq!(json(&r)["code"], "unauthenticated");
    let r = request(addr, "GET", "/monitor", None, &[], b"");
    assert_eq!(r.status, 303);
    assert!(r.headers.contains("location: /login") || r.headers.contains("Location: /login"));
    // bad logins
    let r = request(addr, "POST", "/api/v1/login", None, &[("Content-Type", "application/json")], br#"{"login":"admin","password":"wrong"}"#);
    assert_eq!((r.status, json(&r)["code"].as_str().unwrap()), (401, "bad_credentials"));
    let r = request(addr, "POST", "/api/v1/login", None, &[("Content-Type", "application/json")], br#"{"login":"admin","password":"#);
    assert_eq!((r.status, json(&r)["code"].as_str().unwrap()), (400, "malformed_json"));
    let r = request(addr, "POST", "/api/v1/login", None, &[("Content-Type", "application/json")], br#"{"login":5,"password":[]}"#);
    assert_eq!((r.status, json(&r)["code"].as_str().unwrap()), (422, "invalid_field"));
    let big = vec![b'x'; 3 * 1024 * 1024];
    let r = request(addr, "POST", "/api/v1/login", None, &[("Content-Type", "application/json")], &big);
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(json(&r)["message"].as_str().unwrap().contains("请求体"));

    let (admin, admin_csrf) = login(addr, "admin");
    let me = json(&get(addr, "/api/v1/me", &admin));
    assert_eq!(me["role"], "bureau_admin");
    // state changes need the CSRF header
    let r = request(addr, "POST", "/api/v1/runs", Some(&admin), &[], b"");
    assert_eq!((r.status, json(&r)["code"].as_str().unwrap()), (403, "csrf"));

    // the run left flags, statements and case data
    let flags = json(&get(addr, "/api/v1/flags?page_size=500", &admin));
    assert!(flags["total"].as_u64().unwrap() <= 500, "the tiny region's flags fit one page");
    let flags = flags["flags"].as_array().unwrap().clone();
    assert!(!flags.is_empty(), "the audit found nothing on the tiny region");
    let st = json(&get(addr, "/api/v1/statements", &admin));
    let clearing = st["settlements"].as_array().unwrap().iter().find(|s| s["kind"] == "year").unwrap().clone();
    assert_eq!(clearing["balances"], true, "the clearing balances to the fen");
    let mon = json(&get(addr, "/api/v1/monitor?level=hospital", &admin));
    assert!(mon.to_string().contains(&f.a) && mon.to_string().contains(&f.b));

    // a case of B and one of A, as the bureau sees them
    let hb = json(&get(addr, &format!("/api/v1/hospitals/{}", f.b), &admin));
    let b_case = hb["cases"]["rows"][0]["list_id"].as_str().unwrap().to_string();
    let ha = json(&get(addr, &format!("/api/v1/hospitals/{}", f.a), &admin));
    let a_case = ha["cases"]["rows"][0]["list_id"].as_str().unwrap().to_string();
    let c = json(&get(addr, &format!("/api/v1/cases/{}/{a_case}", f.a), &admin));
    assert!(!c["trace"].as_array().unwrap().is_empty());
    assert!(!c["pricing_steps"].as_array().unwrap().is_empty());
    let b_flag = flags.iter().find(|x| x["flag"]["hospital_code"] == f.b.as_str()).map(|x| x["flag"]["flag_id"].as_str().unwrap().to_string());
    let b_upload = json(&get(addr, "/api/v1/uploads", &admin))["uploads"].as_array().unwrap().iter().find(|u| u["hospital_code"] == f.b.as_str()).unwrap()["id"].as_i64().unwrap();

    // hospital A's user: walk every route with A's and B's identifiers
    let (ha_c, ha_csrf) = login(addr, "ha");
    let mut routes: Vec<String> = vec![
        "/monitor".into(),
        "/monitor?level=tier".into(),
        "/monitor?level=hospital".into(),
        "/hospital".into(),
        format!("/hospitals/{}", f.a),
        format!("/hospitals/{}", f.b),
        format!("/cases/{}/{a_case}", f.a),
        format!("/cases/{}/{b_case}", f.b),
        "/uploads".into(),
        format!("/uploads/{b_upload}"),
        "/review".into(),
        "/statements".into(),
        "/export/hospitals.xlsx?level=hospital".into(),
        "/api/v1/me".into(),
        "/api/v1/uploads".into(),
        format!("/api/v1/uploads/{b_upload}"),
        format!("/api/v1/cases/{}/{b_case}", f.b),
        format!("/api/v1/cases/{}/{a_case}", f.a),
        "/api/v1/flags".into(),
        "/api/v1/monitor?level=hospital".into(),
        "/api/v1/monitor?level=tier".into(),
        format!("/api/v1/hospitals/{}", f.a),
        format!("/api/v1/hospitals/{}", f.b),
        "/api/v1/statements".into(),
        "/api/v1/audit-log".into(),
        "/audit-log".into(),
        "/runs".into(),
    ];
    routes.push("/api/v1/jobs/1".into());
    for path in &routes {
        let r = get(addr, path, &ha_c);
        assert!(r.status < 500, "{path}: {} {}", r.status, r.body);
        assert!(!r.body.contains(&f.b), "{path} shows hospital B ({})", f.b);
        assert!(!r.body.contains(&b_case), "{path} shows B's case {b_case}");
        if path.contains(&f.b) || path.contains(&b_case) || path.contains(&format!("/{b_upload}")) {
            assert_eq!(r.status, 404, "{path} must look like a missing object");
        }
    }
    let r = get(addr, &format!("/api/v1/cases/{}/{a_case}", f.a), &ha_c);
    assert_eq!(r.status, 200);
    // hospital users neither decide nor run
    if let Some(fid) = &b_flag {
        let r = request(addr, "POST", &format!("/api/v1/flags/{fid}/decision"), Some(&ha_c), &[("X-CSRF-Token", &ha_csrf), ("Content-Type", "application/json")], br#"{"decision":"confirm","reason":"x"}"#);
        assert_eq!(r.status, 403);
    }
    let r = request(addr, "POST", "/api/v1/runs", Some(&ha_c), &[("X-CSRF-Token", &ha_csrf)], b"");
    assert_eq!(r.status, 403);
    // A may not upload for B
    let held = std::fs::read(f.root.join("held_back.csv")).unwrap();
    let r = request(addr, "POST", &format!("/api/v1/uploads?hospital={}&period=2025-12&file_name=x.csv", f.b), Some(&ha_c), &[("X-CSRF-Token", &ha_csrf)], &held);
    assert_eq!(r.status, 403);
    // A uploads its held-back December: job → upload with QC report
    let r = request(addr, "POST", "/api/v1/uploads?period=2025-12&file_name=dec.csv", Some(&ha_c), &[("X-CSRF-Token", &ha_csrf)], &held);
    assert_eq!(r.status, 202, "{}", r.body);
    let job = json(&r)["job_id"].as_u64().unwrap();
    let j = wait_job(addr, &ha_c, job);
    assert_eq!(j["state"], "done", "{j}");
    let up_id: i64 = j["url"].as_str().unwrap().trim_start_matches("/uploads/").parse().unwrap();
    let up = json(&get(addr, &format!("/api/v1/uploads/{up_id}"), &ha_c));
    let n_held = held.iter().filter(|b| **b == b'\n').count() as i64 - 1;
    assert_eq!(up["upload"]["record_count"].as_i64().unwrap(), n_held);
    assert_eq!(up["upload"]["new_count"].as_i64().unwrap(), n_held);
    assert_eq!(up["qc"]["lists"].as_i64().unwrap(), n_held);
    // B's user cannot see A's upload nor its job
    let (hb_c, _) = login(addr, "hb");
    assert_eq!(get(addr, &format!("/api/v1/uploads/{up_id}"), &hb_c).status, 404);
    assert_eq!(get(addr, &format!("/api/v1/jobs/{job}"), &hb_c).status, 404);
    // bad upload input
    let r = request(addr, "POST", "/api/v1/uploads?period=2025-13&file_name=x.csv", Some(&ha_c), &[("X-CSRF-Token", &ha_csrf)], &held);
    assert_eq!(r.status, 400);
    assert!(json(&r)["message"].as_str().unwrap().contains("period"));
    let r = request(addr, "POST", "/api/v1/uploads?period=2025-12", Some(&ha_c), &[("X-CSRF-Token", &ha_csrf)], b"");
    assert_eq!(r.status, 400);
    let r = request(addr, "GET", "/api/v1/jobs/notanumber", Some(&ha_c), &[], b"");
    assert_eq!(r.status, 400);
    let r = get(addr, "/api/v1/monitor?from=2025-99", &ha_c);
    assert_eq!(r.status, 400);

    // B's December again, as GBK-encoded CSV and as XLSX, uploaded by the admin: both read as
    // the very same lists (every one an unchanged version), so neither the GBK decoding nor
    // the Excel reader alters a field
    let main = std::fs::read_to_string(f.root.join("main.csv")).unwrap();
    let mut ls = main.lines();
    let header = ls.next().unwrap();
    let cols: Vec<&str> = header.split(',').collect();
    let (hc, dc) = (cols.iter().position(|c| *c == "hospital_code").unwrap(), cols.iter().position(|c| *c == "discharge_time").unwrap());
    let b_dec: Vec<&str> = ls.filter(|l| {
        let v: Vec<&str> = l.split(',').collect();
        v[hc] == f.b && v[dc].starts_with("2025-12")
    })
    .collect();
    assert!(!b_dec.is_empty());
    let csv = format!("{header}\n{}\n", b_dec.join("\n"));
    assert!(!csv.is_ascii(), "the lists carry Chinese text, so the encoding matters");
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&csv);
    assert!(!unmappable);
    let sheet = casemix_io::XlsxSheet {
        name: "结算清单".into(),
        headers: cols.iter().map(|c| c.to_string()).collect(),
        rows: b_dec.iter().map(|l| l.split(',').map(|v| casemix_io::XlsxCell::Text(v.to_string())).collect()).collect(),
    };
    let xlsx = casemix_io::xlsx_bytes(&[sheet]).unwrap();
    for (name, bytes) in [("b-dec-gbk.csv", gbk.into_owned()), ("b-dec.xlsx", xlsx)] {
        let r = request(addr, "POST", &format!("/api/v1/uploads?hospital={}&period=2025-12&file_name={name}", f.b), Some(&admin), &[("X-CSRF-Token", &admin_csrf)], &bytes);
        assert_eq!(r.status, 202, "{name}: {}", r.body);
        let j = wait_job(addr, &admin, json(&r)["job_id"].as_u64().unwrap());
        assert_eq!(j["state"], "done", "{name}: {j}");
        let id: i64 = j["url"].as_str().unwrap().trim_start_matches("/uploads/").parse().unwrap();
        let u = &json(&get(addr, &format!("/api/v1/uploads/{id}"), &admin))["upload"];
        let n = b_dec.len() as i64;
        assert_eq!(
            (u["record_count"].as_i64().unwrap(), u["rejected_count"].as_i64().unwrap(), u["unchanged_count"].as_i64().unwrap()),
            (n, 0, n),
            "{name}: {u}"
        );
    }

    // review: the analyst may not decide; the auditor confirms one flag with a reason
    let fid = flags[0]["flag"]["flag_id"].as_str().unwrap().to_string();
    let (an, an_csrf) = login(addr, "analyst");
    let r = request(addr, "POST", &format!("/api/v1/flags/{fid}/decision"), Some(&an), &[("X-CSRF-Token", &an_csrf), ("Content-Type", "application/json")], br#"{"decision":"confirm","reason":"x"}"#);
    assert_eq!(r.status, 403);
    let (au, au_csrf) = login(addr, "auditor");
    let r = request(addr, "POST", &format!("/api/v1/flags/{fid}/decision"), Some(&au), &[("X-CSRF-Token", &au_csrf), ("Content-Type", "application/json")], br#"{"decision":"confirm","reason":""}"#);
    assert_eq!(r.status, 400, "an empty reason is refused");
    for (body, code, want) in [(&br#"{"decision":"confirm","#[..], 400, "malformed_json"), (&br#"{"decision":5,"reason":[]}"#[..], 422, "invalid_field")] {
        let r = request(addr, "POST", &format!("/api/v1/flags/{fid}/decision"), Some(&au), &[("X-CSRF-Token", &au_csrf), ("Content-Type", "application/json")], body);
        assert_eq!((r.status, json(&r)["code"].as_str().unwrap()), (code, want), "{}", r.body);
        assert!(!json(&r)["message"].as_str().unwrap().is_empty());
    }
    let r = request(addr, "POST", "/api/v1/flags/no-such-flag/decision", Some(&au), &[("X-CSRF-Token", &au_csrf), ("Content-Type", "application/json")], "{\"decision\":\"confirm\",\"reason\":\"r\"}".as_bytes());
    assert!(r.status == 404 || r.status == 400, "{} {}", r.status, r.body);
    let r = request(addr, "POST", &format!("/api/v1/flags/{fid}/decision"), Some(&au), &[("X-CSRF-Token", &au_csrf), ("Content-Type", "application/json")], br#"{"decision":"maybe","reason":"r"}"#);
    assert_eq!(r.status, 400);
    let r = request(addr, "POST", &format!("/api/v1/flags/{fid}/decision"), Some(&au), &[("X-CSRF-Token", &au_csrf), ("Content-Type", "application/json")], "{\"decision\":\"confirm\",\"reason\":\"病历核实：无相应治疗记录\"}".as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    let after = json(&get(addr, "/api/v1/flags", &au));
    let dec = after["flags"].as_array().unwrap().iter().find(|x| x["flag"]["flag_id"] == fid.as_str()).unwrap()["decision"].clone();
    assert_eq!(dec["decision"], "confirm");
    assert_eq!(dec["reviewer"], "auditor");

    // the admin reruns the year: the job clears with the decision; the audit log has who/what
    let r = request(addr, "POST", "/api/v1/runs", Some(&admin), &[("X-CSRF-Token", &admin_csrf)], b"");
    assert_eq!(r.status, 202);
    let j = wait_job(addr, &admin, json(&r)["job_id"].as_u64().unwrap());
    assert_eq!(j["state"], "done", "{j}");
    let log = json(&get(addr, "/api/v1/audit-log", &admin));
    let actions: Vec<(String, String)> = log["entries"].as_array().unwrap().iter().map(|e| (e["actor"].as_str().unwrap().to_string(), e["action"].as_str().unwrap().to_string())).collect();
    assert!(actions.contains(&("ha".into(), "upload".into())), "{actions:?}");
    assert!(actions.contains(&("auditor".into(), "review_decision".into())), "{actions:?}");
    assert!(actions.contains(&("admin".into(), "run_year".into())), "{actions:?}");
    // the statement downloads as Excel
    let r = get(addr, "/statements/export.xlsx?period=2025", &admin);
    assert_eq!(r.status, 200);
    assert!(r.headers.contains("spreadsheetml"));
    // logout ends the session
    let r = request(addr, "POST", "/api/v1/logout", Some(&an), &[("X-CSRF-Token", &an_csrf)], b"");
    assert_eq!(r.status, 200);
    assert_eq!(get(addr, "/api/v1/me", &an).status, 401);
}

#[test]
fn server_killed_during_upload_loses_nothing_committed() {
    let f = fixture();
    // its own data directory, so the other test's server is not disturbed
    let d = f.root.join("data-kill");
    let _ = std::fs::remove_dir_all(&d);
    make_data(&f.root, &d, &f.a, &f.b, false);
    // a large upload for A: the held-back month repeated under new list ids (about 20 000 lists)
    let held = std::fs::read_to_string(f.root.join("held_back.csv")).unwrap();
    let mut lines = held.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    let lid = header.split(',').position(|c| c == "list_id").unwrap();
    let mut big = format!("{header}\n");
    let reps = 20_000 / rows.len().max(1) + 1;
    for k in 0..reps {
        for r in &rows {
            let mut f: Vec<String> = r.split(',').map(str::to_string).collect();
            f[lid] = format!("{}-K{k}", f[lid]);
            big.push_str(&f.join(","));
            big.push('\n');
        }
    }
    let n_big = (reps * rows.len()) as i64;
    let open = || casemix_store::Store::open(d.join("store.sqlite")).unwrap();
    let before = open().count_current(&casemix_store::Scope::All, &casemix_store::Months::all()).unwrap();

    let srv = start(&d, &[]);
    let (c, csrf) = login(&srv.addr, "ha");
    let r = request(&srv.addr, "POST", "/api/v1/uploads?period=2025-12&file_name=big.csv", Some(&c), &[("X-CSRF-Token", &csrf)], big.as_bytes());
    assert_eq!(r.status, 202, "{}", r.body);
    let job = json(&r)["job_id"].as_u64().unwrap();
    // kill as soon as the job is writing to the database
    let t = Instant::now();
    let mut killed_while_writing = false;
    let mut srv = srv;
    loop {
        let j = json(&get(&srv.addr, &format!("/api/v1/jobs/{job}"), &c));
        if j["stage"] == "写入数据库" && j["state"] == "running" {
            srv.child.kill().unwrap();
            srv.child.wait().unwrap();
            killed_while_writing = true;
            break;
        }
        if j["state"] != "running" || t.elapsed() > Duration::from_secs(60) {
            srv.child.kill().unwrap();
            srv.child.wait().unwrap();
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    drop(srv);
    // restart: the store is intact, and the upload is all or nothing
    let st = open();
    assert!(st.integrity_ok().unwrap());
    let after = st.count_current(&casemix_store::Scope::All, &casemix_store::Months::all()).unwrap();
    let ups = st.uploads(&casemix_store::Scope::All).unwrap();
    let big_up = ups.iter().find(|u| u.file_name == "big.csv");
    match big_up {
        None => assert_eq!(after, before, "an interrupted upload left lists behind"),
        Some(u) => {
            assert_eq!(u.record_count, n_big, "a committed upload is whole");
            assert_eq!(after, before + n_big);
        }
    }
    drop(st);
    let srv2 = start(&d, &[]);
    let (c2, _) = login(&srv2.addr, "admin");
    let ups = json(&get(&srv2.addr, "/api/v1/uploads", &c2));
    let n_before = ups["uploads"].as_array().unwrap().len();
    assert!(n_before >= 4, "the committed uploads are still served after the restart");
    eprintln!("killed while writing: {killed_while_writing}; lists before {before}, after {after}");
}

/// A DIP region (policy `dip_scores`, Lhasa-like): the workbench prices by DIP 病种 from the
/// catalogue of `casemix calibrate dip`, and the clearing balances to the fen.
#[test]
fn dip_policy_region_runs_and_balances() {
    let f = fixture();
    let schemes = shared().join("schemes");
    let r = f.root.join("region");
    let cat = f.root.join("dip");
    run_ok(bin().args(["calibrate", "dip", "--scheme", "chs_drg_11", "--schemes-dir"]).arg(&schemes).arg("--history").arg(r.join("settlements.csv")).args(["--years", "2022,2023,2024", "--year-weights", "1,2,7", "-o"]).arg(&cat));
    let d = f.root.join("data-dip");
    let _ = std::fs::remove_dir_all(&d);
    run_ok(bin().args(["workbench", "init", "--region", "dip", "--data"]).arg(&d).arg("--scheme").arg(schemes.join("chs_drg_11")).arg("--policy").arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lhasa-dip-2025.toml")).arg("--catalogue").arg(&cat).arg("--hospitals").arg(r.join("hospitals.csv")));
    run_ok(bin().args(["workbench", "import", "--split", "--year", "2025", "--data"]).arg(&d).arg(f.root.join("main.csv")));
    run_ok(bin().args(["workbench", "run", "--data"]).arg(&d));
    let version = std::fs::read_to_string(d.join("runs/CURRENT")).unwrap();
    let rec: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join("runs").join(version.trim()).join("record-2025.json")).unwrap()).unwrap();
    let imported = std::fs::read_to_string(f.root.join("main.csv")).unwrap().lines().count() as u64 - 1;
    // every imported list is a settled case or a skipped one with its reason
    let s = &rec["summary"];
    assert_eq!(s["lists"].as_u64().unwrap(), imported);
    assert_eq!(s["cases"].as_u64().unwrap() + s["skipped"].as_array().unwrap().len() as u64, imported);
    // the clearing: budget = Σ hospital net payments + adjustment fund + remainder, to the fen
    let c = &rec["clearing"];
    assert_eq!(c["kind"], "year");
    let net: i64 = c["statements"].as_array().unwrap().iter().map(|x| x["net_payment"].as_i64().unwrap()).sum();
    assert_eq!(c["budget"].as_i64().unwrap(), net + c["adjustment_fund"].as_i64().unwrap() + c["remainder"].as_i64().unwrap());
    assert_eq!(c["balances"], true);
    // priced by DIP 病种: the points of the statements come from catalogue scores (non-zero)
    assert!(c["statements"].as_array().unwrap().iter().any(|x| x["total_points"].as_str().unwrap() != "0"));
    // the adjustment fund is 8 % of the budget (lhasa-dip-2025.toml adjustment_fund_share = 0.08)
    let budget = c["budget"].as_i64().unwrap();
    assert!((c["adjustment_fund"].as_i64().unwrap() - budget * 8 / 100).abs() <= 1, "{c}");
    // served: a case's payment group is its DIP 病种 (hospital view and case detail agree)
    run_ok(bin().args(["workbench", "user", "--data"]).arg(&d).args(["--login", "admin", "--password", "pw-123456", "--role", "bureau_admin"]));
    let srv = start(&d, &[]);
    let (admin, _) = login(&srv.addr, "admin");
    let hv = json(&get(&srv.addr, &format!("/api/v1/hospitals/{}", f.a), &admin));
    let row = hv["cases"]["rows"].as_array().unwrap().iter().find(|r| r["drg"].as_str().is_some_and(|x| !x.is_empty())).expect("a grouped case").clone();
    let case = json(&get(&srv.addr, &format!("/api/v1/cases/{}/{}", f.a, row["list_id"].as_str().unwrap()), &admin));
    assert_eq!(case["dip"]["code"], row["drg"], "{case}");
    assert!(!case["dip"]["trace"].as_array().unwrap().is_empty());
    let page = get(&srv.addr, &format!("/cases/{}/{}", f.a, row["list_id"].as_str().unwrap()), &admin);
    assert!(page.body.contains(r#"id="case-dip""#));
}

/// The database URL of a fresh schema in the throw-away PostgreSQL server of
/// scripts/pg-test-server.sh (`CASEMIX_TEST_PG_URL`); None = skip (unset, not CI).
fn pg_schema_url(name: &str) -> Option<String> {
    let Some(base) = std::env::var("CASEMIX_TEST_PG_URL").ok().filter(|u| !u.is_empty()) else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true 但未设置 CASEMIX_TEST_PG_URL：PostgreSQL 测试不能跳过（scripts/pg-test-server.sh）");
        }
        eprintln!("跳过：未设置 CASEMIX_TEST_PG_URL");
        return None;
    };
    let schema = format!("wb{}_{name}", std::process::id());
    let mut admin = postgres::Client::connect(&base, postgres::NoTls).expect("连接 CASEMIX_TEST_PG_URL");
    admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")).unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}options=-c%20search_path%3D{schema}"))
}

/// The workbench with its workflow state on PostgreSQL (`workbench init --postgres URL`): the
/// CLI steps, the served UI/API, an upload through the API, and a restart that keeps it.
#[test]
fn workbench_on_postgres() {
    let Some(url) = pg_schema_url("api") else { return };
    let f = fixture();
    let d = f.root.join("data-pg");
    let _ = std::fs::remove_dir_all(&d);
    make_data_on(&f.root, &d, &f.a, &f.b, true, Some(&url));
    assert!(!d.join("store.sqlite").exists(), "the workflow state went to PostgreSQL, not SQLite");
    let srv = start(&d, &[]);
    let (ha, ha_csrf) = login(&srv.addr, "ha");
    let ups = json(&get(&srv.addr, "/api/v1/uploads", &ha));
    let ups = ups["uploads"].as_array().unwrap();
    assert!(!ups.is_empty() && ups.iter().all(|u| u["hospital_code"] == f.a.as_str()), "hospital A sees only its uploads");
    let held = std::fs::read(f.root.join("held_back.csv")).unwrap();
    let n_held = held.iter().filter(|b| **b == b'\n').count() as i64 - 1;
    let r = request(&srv.addr, "POST", "/api/v1/uploads?period=2025-12&file_name=dec.csv", Some(&ha), &[("X-CSRF-Token", &ha_csrf)], &held);
    assert_eq!(r.status, 202, "{}", r.body);
    let j = wait_job(&srv.addr, &ha, json(&r)["job_id"].as_u64().unwrap());
    assert_eq!(j["state"], "done", "{j}");
    let up_id: i64 = j["url"].as_str().unwrap().trim_start_matches("/uploads/").parse().unwrap();
    // the same file again: idempotent (a new upload whose lists are all unchanged)
    let r = request(&srv.addr, "POST", "/api/v1/uploads?period=2025-12&file_name=dec.csv", Some(&ha), &[("X-CSRF-Token", &ha_csrf)], &held);
    let j2 = wait_job(&srv.addr, &ha, json(&r)["job_id"].as_u64().unwrap());
    let up2: i64 = j2["url"].as_str().unwrap().trim_start_matches("/uploads/").parse().unwrap();
    drop(srv);
    // restarted (the store named on the command line this time, `serve --postgres`): both
    // uploads are there, the second changed nothing
    let srv = start(&d, &["--postgres", &url]);
    let (admin, _) = login(&srv.addr, "admin");
    let u1 = json(&get(&srv.addr, &format!("/api/v1/uploads/{up_id}"), &admin));
    assert_eq!(u1["upload"]["new_count"].as_i64().unwrap(), n_held);
    let u2 = json(&get(&srv.addr, &format!("/api/v1/uploads/{up2}"), &admin));
    assert_eq!((u2["upload"]["new_count"].as_i64().unwrap(), u2["upload"]["unchanged_count"].as_i64().unwrap()), (0, n_held), "{u2}");
    let log = json(&get(&srv.addr, "/api/v1/audit-log", &admin));
    assert!(log["entries"].as_array().unwrap().iter().any(|e| e["actor"] == "ha" && e["action"] == "upload"));
}
