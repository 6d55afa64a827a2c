//! Security of the served workbench (issue 12, findings 5 and 6), through the real binary and a
//! real server process over raw HTTP/1.1: login throttling and lockout (with 操作日志 entries and
//! an administrator lifting it), login CSRF (foreign Origin), sessions ended by a password change
//! made by the CLI in another process, security headers and `Cache-Control: no-store`, Chinese
//! error pages vs JSON errors, the 413 answer stating the limit, the warning when a Secure cookie
//! cannot be kept over plain HTTP, and the structured request log on stderr.
//!
//! Every test starts its own server (the throttle state is per process) over one shared data
//! directory with a user per purpose, so tests do not disturb each other.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

mod common;
use common::*;


/// Users (login, role, hospital): one per test that logs in or changes something.
const USERS: &[(&str, &str, Option<&str>)] = &[
    ("admin", "bureau_admin", None),
    ("victim", "bureau_analyst", None),
    ("pwuser", "hospital_user", Some("H001")),
    ("reader", "bureau_analyst", None),
];

/// A data directory: config (scheme, the example DRG points policy, a one-group weights table), the users above
/// (password `pw-123456`); no lists — these tests need none.
fn data_dir() -> &'static Path {
    static D: OnceLock<PathBuf> = OnceLock::new();
    D.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("casemix-sec-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let d = root.join("data");
        let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/ankang-drg-points-2025.toml");
        // a one-group rate table: these tests price nothing
        let weights = root.join("weights.csv");
        std::fs::write(&weights, "drg,name,rw,cost_mean,cases\nGB19,测试病组,1.0,10000.00,10\n").unwrap();
        run_ok(bin().args(["workbench", "init", "--region", "test", "--region-name", "测试统筹区", "--data"]).arg(&d).arg("--scheme").arg(shared().join("schemes/chs_drg_11")).arg("--policy").arg(policy).arg("--weights").arg(weights));
        for (login, role, h) in USERS {
            let mut c = bin();
            c.args(["workbench", "user", "--data"]).arg(&d).args(["--login", login, "--password", PW, "--role", role]);
            if let Some(h) = h {
                c.args(["--hospital", h]);
            }
            run_ok(&mut c);
        }
        d
    })
}

struct Server {
    child: Child,
    addr: String,
    log: Arc<Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

/// `casemix serve --data` on a free loopback port; its stderr (the log) is collected.
fn start(extra: &[&str]) -> Server {
    let mut child = bin()
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(data_dir())
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start server");
    let log = Arc::new(Mutex::new(String::new()));
    let err = child.stderr.take().unwrap();
    let l2 = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            let mut g = l2.lock().unwrap();
            g.push_str(&line);
            g.push('\n');
        }
    });
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let addr = line.trim().trim_start_matches("网页工作台已启动：http://").trim_end_matches("/login").to_string();
    assert!(addr.starts_with("127.0.0.1:"), "server said: {line}");
    Server { child, addr, log }
}

fn audit(addr: &str, cookie: &str) -> Vec<serde_json::Value> {
    let r = get(addr, "/api/v1/audit-log", cookie);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["entries"].as_array().unwrap().clone()
}

#[test]
fn wrong_passwords_lock_the_account_logged_and_lifted_by_the_admin() {
    let s = start(&["--insecure-cookies"]);
    let a = &s.addr;
    // 60 wrong passwords, honouring Retry-After while it is a back-off wait (as a patient
    // guesser would). Policy: failures 1–2 free, the 3rd → wait 1 s, the 4th → wait 2 s, the 5th
    // locks for 15 min. So: attempts 1,2,3 → 401; 4 (at once) → 429 wait 1; after 1 s, 5 → 401
    // (4th failure); 6 → 429 wait 2; after 2 s, 7 → the 5th failure locks: 429 locked; 8–60 → 429
    // locked without any password check.
    let mut seen = Vec::new();
    for i in 1..=60 {
        let r = api_login(a, "victim", &format!("wrong-guess-{i}"));
        let code = if r.status == 401 { "401".to_string() } else { format!("{} {}", r.status, r.json()["code"].as_str().unwrap_or("")) };
        if r.status == 429 {
            let wait: u64 = r.header("retry-after").expect("Retry-After on 429").parse().unwrap();
            if r.json()["code"] == "login_throttled" {
                seen.push(format!("{code} {wait}"));
                std::thread::sleep(Duration::from_secs(wait));
                continue;
            }
            assert!((890..=900).contains(&wait), "lockout Retry-After {wait} (15 min = 900 s)");
            let msg = r.json()["message"].as_str().unwrap().to_string();
            assert!(msg.contains("锁定") && msg.contains("15 分钟") && msg.contains("victim"), "{msg}");
        }
        seen.push(code);
    }
    assert_eq!(seen[..7], ["401", "401", "401", "429 login_throttled 1", "401", "429 login_throttled 2", "429 account_locked"]);
    assert!(seen[7..].iter().all(|c| c == "429 account_locked"), "{seen:?}");
    assert_eq!(seen.len(), 60);
    // the right password is refused too while locked; the login page says so (form POST)
    let r = api_login(a, "victim", PW);
    assert_eq!((r.status, r.json()["code"].as_str()), (429, Some("account_locked")));
    let r = request(a, "POST", "/login", None, &[("Content-Type", "application/x-www-form-urlencoded")], format!("login=victim&password={PW}").as_bytes());
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").is_some());
    assert!(r.body.contains("id=\"login-error\"") && r.body.contains("已被锁定"), "{}", r.body);
    assert!(r.header("set-cookie").is_none(), "no session while locked");

    // 操作日志: 5 failures (one per password check, none for the 55 refused attempts), 1 lockout,
    // no password anywhere
    let (ac, csrf) = login(a, "admin");
    let log = audit(a, &ac);
    let of = |action: &str| log.iter().filter(|e| e["action"] == action && e["object"] == "user:victim").cloned().collect::<Vec<_>>();
    let fails = of("login_failure");
    assert_eq!(fails.len(), 5, "{fails:?}");
    assert_eq!(fails.iter().map(|e| e["detail"]["failures"].as_u64().unwrap()).collect::<Vec<_>>(), [5, 4, 3, 2, 1], "newest first");
    assert!(fails.iter().all(|e| e["detail"]["address"] == "127.0.0.1" && e["actor"] == "victim"));
    let locks = of("login_lockout");
    assert_eq!(locks.len(), 1);
    assert_eq!((locks[0]["detail"]["kind"].as_str(), locks[0]["detail"]["minutes"].as_u64()), (Some("account"), Some(15)));
    let all = serde_json::to_string(&log).unwrap();
    assert!(!all.contains("wrong-guess") && !all.contains(PW), "a password reached the audit log");
    assert!(log.iter().any(|e| e["action"] == "login" && e["object"] == "user:admin"));

    // the administrator sees the lockout and lifts it; a non-admin may not
    let l = get(a, "/api/v1/admin/lockouts", &ac).json();
    let v = l["lockouts"].as_array().unwrap();
    assert_eq!(v.len(), 1, "{l}");
    assert_eq!((v[0]["kind"].as_str(), v[0]["key"].as_str(), v[0]["locked"].as_bool(), v[0]["failures"].as_u64()), (Some("account"), Some("victim"), Some(true), Some(5)));
    let page = get(a, "/admin/lockouts", &ac);
    assert!(page.status == 200 && page.body.contains("tbl-lockouts") && page.body.contains("victim"), "{}", page.body);
    let (rc, rcsrf) = login(a, "reader");
    let r = request(a, "POST", "/api/v1/admin/lockouts/victim/lift", Some(&rc), &[("X-CSRF-Token", &rcsrf)], b"");
    assert_eq!(r.status, 403, "{}", r.body);
    let r = request(a, "POST", "/api/v1/admin/lockouts/victim/lift", Some(&ac), &[], b"");
    assert_eq!(r.status, 403, "lift without the CSRF token: {}", r.body);
    let r = request(a, "POST", "/api/v1/admin/lockouts/victim/lift", Some(&ac), &[("X-CSRF-Token", &csrf)], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["lifted"], true);
    let (_, _) = login(a, "victim");
    let log = audit(a, &ac);
    let lift = log.iter().find(|e| e["action"] == "lockout_lift").expect("lockout_lift entry");
    assert_eq!((lift["actor"].as_str(), lift["object"].as_str()), (Some("admin"), Some("user:victim")));
    assert!(log.iter().any(|e| e["action"] == "login" && e["object"] == "user:victim"));
    assert!(get(a, "/admin/lockouts", &ac).body.contains("id=\"no-lockouts\""));
}

#[test]
fn login_from_a_foreign_origin_is_refused() {
    let s = start(&["--insecure-cookies"]);
    let a = &s.addr;
    let form = format!("login=reader&password={PW}");
    let ct = ("Content-Type", "application/x-www-form-urlencoded");
    for h in [("Origin", "http://evil.example"), ("Origin", "null"), ("Referer", "http://evil.example/login")] {
        let r = request(a, "POST", "/login", None, &[ct, h], form.as_bytes());
        assert_eq!(r.status, 403, "{h:?}: {}", r.body);
        assert!(r.body.contains("其他网站") && r.header("set-cookie").is_none(), "{h:?}: {}", r.body);
    }
    let r = request(a, "POST", "/api/v1/login", None, &[("Content-Type", "application/json"), ("Origin", "https://evil.example")], format!(r#"{{"login":"reader","password":"{PW}"}}"#).as_bytes());
    assert_eq!((r.status, r.json()["code"].as_str()), (403, Some("foreign_origin")));
    // the same origin logs in
    let own = format!("http://{a}");
    let r = request(a, "POST", "/login", None, &[ct, ("Origin", &own)], form.as_bytes());
    assert_eq!((r.status, r.header("location").as_deref()), (303, Some("/monitor")), "{}", r.body);
    assert!(r.header("set-cookie").unwrap().starts_with("casemix_session="));
}

#[test]
fn a_password_change_by_the_cli_ends_the_session() {
    let s = start(&["--insecure-cookies"]);
    let a = &s.addr;
    let (c, _) = login(a, "pwuser");
    assert_eq!(get(a, "/api/v1/me", &c).status, 200);
    // another process changes the password
    run_ok(bin().args(["workbench", "user", "--data"]).arg(data_dir()).args(["--login", "pwuser", "--password", "new-pw-7890", "--reset-password"]));
    let r = get(a, "/api/v1/me", &c);
    assert_eq!((r.status, r.json()["code"].as_str()), (401, Some("unauthenticated")));
    let r = get(a, "/monitor", &c);
    assert_eq!((r.status, r.header("location").as_deref()), (303, Some("/login")));
    assert_eq!(api_login(a, "pwuser", PW).status, 401);
    let r = api_login(a, "pwuser", "new-pw-7890");
    assert_eq!(r.status, 200, "{}", r.body);
    // put the password back for reruns of other tests on this data directory
    run_ok(bin().args(["workbench", "user", "--data"]).arg(data_dir()).args(["--login", "pwuser", "--password", PW, "--reset-password"]));
    assert_eq!(get(a, "/api/v1/me", &session_cookie(&r)).status, 401);
}

#[test]
fn security_headers_no_store_and_back_after_logout() {
    use base64::Engine;
    use sha2::Digest;
    let s = start(&["--insecure-cookies"]);
    let a = &s.addr;
    let (c, csrf) = login(a, "admin");
    let r = get(a, "/monitor", &c);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(r.header("referrer-policy").as_deref(), Some("same-origin"));
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let id = r.header("x-request-id").unwrap();
    assert!(id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    // the CSP allows exactly the page's one inline script, by its hash computed here
    let csp = r.header("content-security-policy").unwrap();
    assert_eq!(r.body.matches("<script").count(), 1, "one inline script");
    let start = r.body.find("<script>").unwrap() + "<script>".len();
    let end = start + r.body[start..].find("</script>").unwrap();
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(r.body[start..end].as_bytes()));
    assert!(csp.contains(&format!("script-src 'sha256-{hash}'")), "{csp}");
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'") && csp.contains("form-action 'self'"), "{csp}");
    assert!(!r.body.contains(" onclick=") && !r.body.contains("javascript:"), "inline handlers would be blocked");
    // every other answer carries them too: JSON, the login page, an error
    for r in [get(a, "/api/v1/me", &c), request(a, "GET", "/login", None, &[], b""), request(a, "GET", "/api/health", None, &[], b"")] {
        assert_eq!(r.header("cache-control").as_deref(), Some("no-store"), "{}", r.headers);
        assert!(r.header("content-security-policy").is_some() && r.header("x-request-id").is_some());
    }
    // logout; Back re-requests the page (nothing was stored) and gets the login page
    let r = request(a, "POST", "/logout", Some(&c), &[("Content-Type", "application/x-www-form-urlencoded")], format!("csrf={csrf}").as_bytes());
    assert_eq!(r.status, 303);
    let r = get(a, "/monitor", &c);
    assert_eq!((r.status, r.header("location").as_deref()), (303, Some("/login")));
    assert!(!r.body.contains("运行监测"));
}

#[test]
fn error_pages_in_chinese_html_for_browsers_json_for_the_api() {
    let s = start(&["--insecure-cookies"]);
    let a = &s.addr;
    let (c, _) = login(a, "reader");
    let html = ("Accept", "text/html,application/xhtml+xml,*/*;q=0.8");
    let is_html = |r: &Resp| r.header("content-type").unwrap_or_default().starts_with("text/html");
    // an unknown page in the browser: an HTML 404
    let r = request(a, "GET", "/no-such-page", Some(&c), &[html], b"");
    assert_eq!(r.status, 404);
    assert!(is_html(&r) && r.body.contains("页面不存在") && r.body.contains(&r.header("x-request-id").unwrap()), "{}", r.body);
    // without Accept (a plain client) a non-API path is still a page
    assert!(is_html(&request(a, "GET", "/no-such-page", None, &[], b"")));
    // the API: JSON
    let r = request(a, "GET", "/api/v1/no-such", Some(&c), &[html], b"");
    assert_eq!((r.status, r.json()["code"].as_str()), (404, Some("not_found")));
    // /jobs/abc: a Chinese page (the id is not a number)
    let r = request(a, "GET", "/jobs/abc", Some(&c), &[html], b"");
    assert_eq!(r.status, 400);
    assert!(is_html(&r) && r.body.contains("无法完成请求") && r.body.contains("任务编号应为正整数"), "{}", r.body);
    let r = get(a, "/api/v1/jobs/abc", &c);
    assert_eq!(r.status, 400);
    assert!(r.json()["message"].as_str().unwrap().contains("任务编号应为正整数"), "{}", r.body);
    // a forbidden page: HTML 403 in Chinese (a JSON error from a route becomes a page)
    let r = request(a, "GET", "/audit-log", Some(&c), &[html], b"");
    assert_eq!(r.status, 403);
    assert!(is_html(&r) && r.body.contains("无权"), "{}", r.body);
    let r = get(a, "/api/v1/audit-log", &c);
    assert_eq!((r.status, r.json()["code"].as_str()), (403, Some("forbidden")));
    // a wrong method: 405 page
    let r = request(a, "DELETE", "/monitor", Some(&c), &[html], b"");
    assert_eq!(r.status, 405);
    assert!(is_html(&r) && r.body.contains("不支持此请求方法"), "{}", r.body);
    // a JSON body that cannot be read by the API: JSON 400/415 in Chinese
    let r = request(a, "POST", "/api/v1/login", None, &[("Content-Type", "application/json")], b"{not json");
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("malformed_json")));
}

#[test]
fn a_50_mb_upload_gets_a_chinese_413_stating_the_limit() {
    let s = start(&["--insecure-cookies"]);
    let a = &s.addr;
    let (c, csrf) = login(a, "admin");
    // the upload form states the limit (default 32 MiB)
    let f = get(a, "/uploads", &c);
    assert!(f.body.contains("不超过 32 MiB"), "{}", f.body);
    // a 50 MB multipart form: the answer comes from the declared length, before the body
    let n = 50 * 1000 * 1000;
    let head = format!("--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n\r\n");
    let r = request(
        a,
        "POST",
        "/uploads",
        Some(&c),
        &[("Content-Type", "multipart/form-data; boundary=b"), ("Content-Length", &n.to_string()), ("Accept", "text/html")],
        head.as_bytes(),
    );
    assert_eq!(r.status, 413);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    // 50,000,000 bytes = 47.7 MiB; 32 MiB = 33,554,432 bytes
    assert!(r.body.contains("上传内容过大") && r.body.contains("47.7 MiB") && r.body.contains("上限为 32 MiB") && r.body.contains("33554432"), "{}", r.body);
    assert!(!r.body.contains("multipart/form-data"));
    // the API: JSON with the same statement
    let r = request(a, "POST", "/api/v1/uploads?period=2025-12&hospital=H001", Some(&c), &[("X-CSRF-Token", &csrf), ("Content-Length", &n.to_string())], b"list_id\n");
    assert_eq!((r.status, r.json()["code"].as_str()), (413, Some("body_too_large")));
    assert!(r.json()["message"].as_str().unwrap().contains("32 MiB"));
    // the server is still there
    assert_eq!(get(a, "/api/v1/me", &c).status, 200);
}

#[test]
fn a_secure_cookie_over_plain_http_on_a_lan_name_is_explained() {
    // no --insecure-cookies: the cookie is Secure
    let s = start(&[]);
    let a = &s.addr;
    let lan = request(a, "GET", "/login", None, &[("Host", "casemix.lan:8080")], b"");
    assert!(lan.body.contains("id=\"insecure-transport\"") && lan.body.contains("HTTPS") && lan.body.contains("--insecure-cookies"), "{}", lan.body);
    // localhost is a secure context for browsers; behind an HTTPS proxy all is well
    assert!(!request(a, "GET", "/login", None, &[], b"").body.contains("insecure-transport"));
    assert!(!request(a, "GET", "/login", None, &[("Host", "localhost:8080")], b"").body.contains("insecure-transport"));
    assert!(!request(a, "GET", "/login", None, &[("Host", "casemix.lan"), ("X-Forwarded-Proto", "https")], b"").body.contains("insecure-transport"));
    let r = api_login(a, "reader", PW);
    assert!(r.header("set-cookie").unwrap().contains("; Secure"));
}

#[test]
fn one_structured_log_line_per_request_without_patient_data() {
    let s = start(&["--insecure-cookies"]);
    let a = &s.addr;
    let (c, _) = login(a, "admin");
    let r = get(a, "/cases/H-SECRET-1/ZY-SECRET-4711", &c);
    let id = r.header("x-request-id").unwrap();
    let t = Instant::now();
    let line = loop {
        if let Some(l) = s.log().lines().find(|l| l.contains(&format!("request_id={id}"))) {
            break l.to_string();
        }
        assert!(t.elapsed() < Duration::from_secs(10), "no log line for {id}:\n{}", s.log());
        std::thread::sleep(Duration::from_millis(50));
    };
    // e.g. `2026-12-03T18:00:00.123Z  INFO casemix_server::http: request request_id=… user="admin"
    //       method=GET route=/cases/{hospital_code}/{list_id} status=404 duration_ms=…`
    assert!(line.contains(" INFO ") && line.contains("casemix_server::http"), "{line}");
    assert!(line.contains("user=\"admin\"") || line.contains("user=admin"), "{line}");
    assert!(line.contains("method=GET") && line.contains("route=/cases/{hospital_code}/{list_id}") && line.contains(&format!("status={}", r.status)), "{line}");
    assert!(line.contains("duration_ms="), "{line}");
    let log = s.log();
    assert!(!log.contains("ZY-SECRET-4711") && !log.contains("H-SECRET-1"), "a list id reached the log:\n{log}");
    assert!(!log.contains(PW), "a password reached the log");
    assert!(log.contains("服务启动"), "startup line:\n{log}");
    // an unauthenticated request logs user -
    let r = request(a, "GET", "/api/v1/me", None, &[], b"");
    let id = r.header("x-request-id").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let log = s.log();
    let l = log.lines().find(|l| l.contains(&format!("request_id={id}"))).expect("line");
    assert!(l.contains("status=401") && (l.contains("user=\"-\"") || l.contains("user=-")), "{l}");
}

/// Not a timed test: the figures for the README. Store-backed reads (`uploads`, through
/// `Wb::with_store` like every page) timed alone and during a flood of 16 concurrent wrong
/// logins, with the argon2 check inside the store lock (`Store::verify_password`, as before
/// issue 12) and outside it (`auth::attempt_login`). Run with
/// `cargo test -p casemix-cli --test security -- --ignored --nocapture login_flood`.
#[test]
#[ignore]
fn login_flood_store_latency() {
    use casemix_server::ui::{auth, Wb};
    let wb = Arc::new(Wb::new(casemix_workbench::Workbench::open(data_dir()).unwrap(), false).unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let pct = |mut v: Vec<f64>, p: f64| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1]
    };
    let measure = |wb: Arc<Wb>| -> Vec<f64> {
        rt.block_on(async move {
            let mut v = Vec::new();
            for _ in 0..200 {
                let t = Instant::now();
                wb.with_store(|st| st.uploads(&casemix_store::Scope::All).map_err(|e| e.to_string())).await.unwrap();
                v.push(t.elapsed().as_secs_f64() * 1000.0);
                std::thread::sleep(Duration::from_millis(5));
            }
            v
        })
    };
    let base = measure(wb.clone());
    println!("store read alone: p50 {:.2} ms, p99 {:.2} ms", pct(base.clone(), 0.5), pct(base, 0.99));
    for inside in [true, false] {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut flood = Vec::new();
        for t in 0..16 {
            let (wb, stop) = (wb.clone(), stop.clone());
            let h = rt.handle().clone();
            flood.push(std::thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    i += 1;
                    let login = format!("guess-{t}-{i}");
                    if inside {
                        let _ = h.block_on(wb.with_store(move |st| st.verify_password(&login, "wrong").map_err(|e| e.to_string())));
                    } else {
                        // a fresh address per attempt: no throttling, every attempt costs argon2
                        let addr = Some(std::net::IpAddr::from([10, t as u8, (i >> 8) as u8, i as u8]));
                        let _ = h.block_on(auth::attempt_login(&wb, login, "wrong".into(), addr));
                    }
                }
                i
            }));
        }
        std::thread::sleep(Duration::from_millis(300));
        let v = measure(wb.clone());
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let attempts: u64 = flood.into_iter().map(|t| t.join().unwrap()).sum();
        println!(
            "store read during a 16-thread login flood, argon2 {}: p50 {:.2} ms, p99 {:.2} ms ({attempts} login attempts)",
            if inside { "inside the store lock (before)" } else { "outside the lock (now)" },
            pct(v.clone(), 0.5),
            pct(v, 0.99)
        );
    }
}
