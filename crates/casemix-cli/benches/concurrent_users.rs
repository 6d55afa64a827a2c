//! Concurrency benchmark of the web workbench (issue 12): 16 users browsing the workbench
//! (8 bureau analysts, 8 hospital users, each with their own session) while
//!   1. nothing else happens (baseline),
//!   2. a 30 MB upload and a yearly run proceed,
//!   3. 16 clients flood the login with wrong passwords,
//! measuring every page's latency (p50 / p95 / p99 / max). Not a timed test: it prints the
//! figures and writes them to `target/bench/concurrent_users.json`; the README reports them.
//!
//! ```sh
//! cargo bench -p casemix-cli --bench concurrent_users            # release build of the binary
//! CASEMIX_BIN=target/debug/casemix cargo bench -p casemix-cli --bench concurrent_users
//! ```
//! `CASEMIX_BIN` drives an already built binary instead of the one cargo built for the bench;
//! `BENCH_PROFILE` (default `small`) and `BENCH_SECONDS` (default 10) size the region and the
//! browsing phases. The region is synthetic (seed 1) and deterministic.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BROWSERS: usize = 16;
const FLOODERS: usize = 16;
const UPLOAD_BYTES: usize = 30 * 1024 * 1024;
const PASSWORD: &str = "bench-pw-2025";

fn shared() -> PathBuf {
    std::env::var_os("CASEMIX_SHARED").map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

fn bin() -> Command {
    match std::env::var_os("CASEMIX_BIN") {
        Some(p) => Command::new(p),
        None => Command::new(env!("CARGO_BIN_EXE_casemix")),
    }
}

fn run_ok(c: &mut Command) {
    let o = c.output().expect("run casemix");
    assert!(o.status.success(), "casemix failed: {}", String::from_utf8_lossy(&o.stderr));
}

/// HTTP/1.1 request over a fresh connection: (status, head, body).
fn request(addr: &str, method: &str, path: &str, cookie: Option<&str>, headers: &[(&str, &str)], body: &[u8]) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(300))).ok();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if let Some(c) = cookie {
        req.push_str(&format!("Cookie: {c}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    if s.write_all(req.as_bytes()).and_then(|_| s.write_all(body)).is_err() {
        return (0, String::new(), Vec::new());
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else { return (0, String::new(), raw) };
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head, raw[split + 4..].to_vec())
}

fn login(addr: &str, user: &str) -> (String, String) {
    let body = format!(r#"{{"login":"{user}","password":"{PASSWORD}"}}"#);
    let (st, head, b) = request(addr, "POST", "/api/v1/login", None, &[("Content-Type", "application/json")], body.as_bytes());
    assert_eq!(st, 200, "login {user}: {}", String::from_utf8_lossy(&b));
    let cookie = head.lines().find(|l| l.to_ascii_lowercase().starts_with("set-cookie:")).expect("cookie");
    let cookie = cookie.split_once(':').unwrap().1.trim().split(';').next().unwrap().to_string();
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    (cookie, v["csrf_token"].as_str().unwrap().to_string())
}

/// The region, its data directory (2025 lists imported per hospital × month, claims and
/// charges attached, one yearly run done) and the 30 MB upload file.
struct Region {
    data: PathBuf,
    hospitals: Vec<String>,
    upload: Vec<u8>,
}

fn setup(root: &Path, profile: &str) -> Region {
    let schemes = shared().join("schemes");
    let r = root.join("region");
    eprintln!("准备统筹区（{profile}，种子 1）…");
    run_ok(bin().args(["synth", "--profile", profile, "--seed", "1", "--years", "2022-2025", "--scheme", "chs_drg_11", "--schemes-dir"]).arg(&schemes).arg("-o").arg(&r));
    run_ok(bin().args(["calibrate", "drg", "--scheme", "chs_drg_11", "--schemes-dir"]).arg(&schemes).arg("--history").arg(r.join("settlements.csv")).args(["--years", "2022,2023,2024", "--year-weights", "1,2,7", "-o"]).arg(root.join("cal")));
    let hospitals: Vec<String> = std::fs::read_to_string(r.join("hospitals.csv")).unwrap().lines().skip(1).map(|l| l.split(',').next().unwrap().to_string()).collect();
    let data = root.join("data");
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/ankang-drg-points-2025.toml");
    run_ok(bin().args(["workbench", "init", "--region", "bench", "--data"]).arg(&data).arg("--scheme").arg(schemes.join("chs_drg_11")).arg("--policy").arg(policy).arg("--weights").arg(root.join("cal/weights.csv")).arg("--hospitals").arg(r.join("hospitals.csv")));
    let mut users = vec![("admin".to_string(), "bureau_admin", None)];
    for i in 0..BROWSERS / 2 {
        users.push((format!("analyst{i}"), "bureau_analyst", None));
        users.push((format!("h{i}"), "hospital_user", Some(hospitals[i % hospitals.len()].clone())));
    }
    for (login, role, h) in &users {
        let mut c = bin();
        c.args(["workbench", "user", "--data"]).arg(&data).args(["--login", login, "--password", PASSWORD, "--role", role]);
        if let Some(h) = h {
            c.args(["--hospital", h]);
        }
        run_ok(&mut c);
    }
    let lists = r.join("settlements.csv");
    run_ok(bin().args(["workbench", "import", "--split", "--year", "2025", "--data"]).arg(&data).arg(&lists));
    run_ok(bin().args(["workbench", "attach", "--data"]).arg(&data).arg("--claims").arg(r.join("claims.csv")).arg("--charges").arg(r.join("charges.csv")));
    run_ok(bin().args(["workbench", "run", "--data"]).arg(&data));
    let upload = upload_file(&lists, &hospitals[0]);
    Region { data, hospitals, upload }
}

/// ≥ 30 MB of December 2025 lists for hospital `h`: every hospital's December lists, renamed
/// to `h` with fresh list ids, repeated until the size is reached.
fn upload_file(lists: &Path, h: &str) -> Vec<u8> {
    let mut rd = csv::Reader::from_path(lists).unwrap();
    let header = rd.headers().unwrap().clone();
    let col = |n: &str| header.iter().position(|c| c == n).unwrap();
    let (id, hc, dt) = (col("list_id"), col("hospital_code"), col("discharge_time"));
    let dec: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).filter(|r| r[dt].starts_with("2025-12")).collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header).unwrap();
    let mut round = 0;
    while w.get_ref().len() < UPLOAD_BYTES {
        for rec in &dec {
            let mut r: Vec<String> = rec.iter().map(str::to_string).collect();
            r[id] = format!("BENCH{round}-{}", r[id]);
            r[hc] = h.to_string();
            w.write_record(&r).unwrap();
        }
        round += 1;
        w.flush().unwrap();
    }
    w.into_inner().unwrap()
}

struct Server(Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(data: &Path) -> Server {
    let mut child = bin().args(["serve", "--insecure-cookies", "--addr", "127.0.0.1:0", "--data"]).arg(data).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().trim_start_matches("网页工作台已启动：http://").trim_end_matches("/login").to_string();
    Server(child, addr)
}

/// The pages one browsing user walks, in a loop.
fn pages_of(user: &str, hospitals: &[String], i: usize) -> Vec<String> {
    if user.starts_with("analyst") {
        let h = &hospitals[i % hospitals.len()];
        vec!["/monitor".into(), format!("/hospitals/{h}"), "/review".into(), "/statements".into(), "/uploads".into(), "/api/v1/flags?page=1&page_size=50".into()]
    } else {
        // a hospital user's own hospital page (where `/hospital` redirects), bound in `setup`
        let own = &hospitals[(i / 2) % hospitals.len()];
        vec![format!("/hospitals/{own}"), "/uploads".into(), "/statements".into(), "/review".into()]
    }
}

/// One page view: the page, its status and latency in milliseconds.
struct View {
    page: String,
    status: u16,
    ms: f64,
}

/// Browses until `stop`; every page view.
fn browse(addr: String, cookie: String, pages: Vec<String>, stop: Arc<AtomicBool>) -> Vec<View> {
    let mut out = Vec::new();
    let mut k = 0;
    while !stop.load(Ordering::Relaxed) {
        let page = pages[k % pages.len()].clone();
        let t = Instant::now();
        let (status, _, _) = request(&addr, "GET", &page, Some(&cookie), &[], b"");
        out.push(View { page, status, ms: t.elapsed().as_secs_f64() * 1000.0 });
        k += 1;
    }
    out
}

/// The page with its identifiers blanked (per-page figures across users).
fn page_kind(p: &str) -> String {
    let path = p.split('?').next().unwrap_or(p);
    match path.strip_prefix("/hospitals/") {
        Some(_) => "/hospitals/{code}".into(),
        None => path.to_string(),
    }
}

#[derive(serde::Serialize)]
struct Phase {
    phase: String,
    requests: usize,
    non_2xx: usize,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

/// Runs the 16 browsers while `background` runs (it returns when the phase may end).
fn phase(name: &str, addr: &str, sessions: &[(String, String, Vec<String>)], background: impl FnOnce()) -> Phase {
    let stop = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = sessions.iter().map(|(_, c, p)| {
        let (a, c, p, s) = (addr.to_string(), c.clone(), p.clone(), stop.clone());
        std::thread::spawn(move || browse(a, c, p, s))
    }).collect();
    background();
    stop.store(true, Ordering::Relaxed);
    let views: Vec<View> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    let bad = views.iter().filter(|v| !(200..300).contains(&v.status)).count();
    let mut kinds: std::collections::BTreeMap<String, (Vec<f64>, Vec<u16>)> = Default::default();
    for v in &views {
        let e = kinds.entry(page_kind(&v.page)).or_default();
        e.0.push(v.ms);
        if !(200..300).contains(&v.status) && !e.1.contains(&v.status) {
            e.1.push(v.status);
        }
    }
    for (k, (mut l, st)) in kinds {
        l.sort_by(|a, b| a.total_cmp(b));
        eprintln!("    {k}: {} 次，p50 {:.1} ms，p99 {:.1} ms{}", l.len(), quantile(&l, 0.5), quantile(&l, 0.99), if st.is_empty() { String::new() } else { format!("，非 2xx 状态 {st:?}") });
    }
    let mut lat: Vec<f64> = views.iter().map(|v| v.ms).collect();
    lat.sort_by(|a, b| a.total_cmp(b));
    let p = Phase { phase: name.into(), requests: lat.len(), non_2xx: bad, p50_ms: quantile(&lat, 0.5), p95_ms: quantile(&lat, 0.95), p99_ms: quantile(&lat, 0.99), max_ms: lat.last().copied().unwrap_or(0.0) };
    eprintln!("{name}：{} 次请求，非 2xx {}，p50 {:.1} ms，p95 {:.1} ms，p99 {:.1} ms，最大 {:.1} ms", p.requests, p.non_2xx, p.p50_ms, p.p95_ms, p.p99_ms, p.max_ms);
    p
}

fn wait_job(addr: &str, cookie: &str, id: u64) -> String {
    loop {
        let (_, _, b) = request(addr, "GET", &format!("/api/v1/jobs/{id}"), Some(cookie), &[], b"");
        let v: serde_json::Value = serde_json::from_slice(&b).unwrap_or_default();
        if v["state"] != "running" && v["state"] != "queued" {
            return v["state"].as_str().unwrap_or("?").to_string();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn start_job(addr: &str, cookie: &str, csrf: &str, path: &str, body: &[u8]) -> u64 {
    let (st, _, b) = request(addr, "POST", path, Some(cookie), &[("X-CSRF-Token", csrf), ("Content-Type", "application/octet-stream")], body);
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap_or_default();
    assert!((200..300).contains(&st), "{path}: {st} {v}");
    v["job_id"].as_u64().or_else(|| v["job"]["id"].as_u64()).unwrap_or_else(|| panic!("no job id in {v}"))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` / `cargo test --benches` discovery
    }
    let profile = std::env::var("BENCH_PROFILE").unwrap_or_else(|_| "small".into());
    let secs: u64 = std::env::var("BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let root = std::env::temp_dir().join(format!("casemix-bench-concurrent-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let region = setup(&root, &profile);
    let srv = serve(&region.data);
    let addr = srv.1.clone();
    let sessions: Vec<(String, String, Vec<String>)> = (0..BROWSERS)
        .map(|i| {
            let user = if i % 2 == 0 { format!("analyst{}", i / 2) } else { format!("h{}", i / 2) };
            let (cookie, _) = login(&addr, &user);
            let pages = pages_of(&user, &region.hospitals, i);
            (user, cookie, pages)
        })
        .collect();
    let mut out = Vec::new();
    out.push(phase("基线（仅浏览）", &addr, &sessions, || std::thread::sleep(Duration::from_secs(secs))));

    let (admin, csrf) = login(&addr, "admin");
    let upload = region.upload.clone();
    out.push(phase("30 MB 上传与年度运行期间", &addr, &sessions, || {
        let t = Instant::now();
        let path = format!("/api/v1/uploads?hospital={}&period=2025-12&file_name=bench.csv", region.hospitals[0]);
        let up = start_job(&addr, &admin, &csrf, &path, &upload);
        let run = start_job(&addr, &admin, &csrf, "/api/v1/runs", b"");
        let (su, sr) = (wait_job(&addr, &admin, up), wait_job(&addr, &admin, run));
        eprintln!("上传 {} MB：{su}；年度运行：{sr}；共 {:.1} s", upload.len() / (1024 * 1024), t.elapsed().as_secs_f64());
    }));

    let flood_stop = Arc::new(AtomicBool::new(false));
    let attempts = Arc::new(Mutex::new((0usize, 0usize)));
    out.push(phase("登录洪泛期间", &addr, &sessions, || {
        let hs: Vec<_> = (0..FLOODERS).map(|i| {
            let (a, s, n) = (addr.clone(), flood_stop.clone(), attempts.clone());
            std::thread::spawn(move || {
                while !s.load(Ordering::Relaxed) {
                    let body = format!(r#"{{"login":"analyst{}","password":"guess-{i}"}}"#, i % (BROWSERS / 2));
                    let (st, _, _) = request(&a, "POST", "/api/v1/login", None, &[("Content-Type", "application/json")], body.as_bytes());
                    let mut g = n.lock().unwrap();
                    g.0 += 1;
                    if st == 429 || st == 403 {
                        g.1 += 1;
                    }
                }
            })
        }).collect();
        std::thread::sleep(Duration::from_secs(secs));
        flood_stop.store(true, Ordering::Relaxed);
        hs.into_iter().for_each(|h| h.join().unwrap());
        let g = attempts.lock().unwrap();
        eprintln!("登录洪泛：{} 次错误密码尝试，其中 {} 次被限流/锁定拒绝", g.0, g.1);
    }));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("concurrent_users.json"), serde_json::to_string_pretty(&out).unwrap()).unwrap();
    drop(srv);
    let _ = std::fs::remove_dir_all(&root);
}
