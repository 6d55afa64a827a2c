//! Helpers shared by the served-workbench tests (workbench.rs, upload_hostile.rs,
//! security.rs, run_crash.rs): the `casemix` binary, `../shared`, and a raw HTTP/1.1 client.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The password every test user gets.
pub const PW: &str = "pw-123456";

pub fn shared() -> PathBuf {
    std::env::var_os("CASEMIX_SHARED").map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_casemix"))
}

pub fn run_ok(c: &mut Command) -> String {
    let o = c.output().expect("run casemix");
    assert!(o.status.success(), "casemix failed: {}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub struct Resp {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        let n = format!("{}:", name.to_ascii_lowercase());
        self.headers.lines().find(|l| l.to_ascii_lowercase().starts_with(&n)).map(|l| l[n.len()..].trim().to_string())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

pub fn request(addr: &str, method: &str, path: &str, cookie: Option<&str>, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {addr}\r\n"));
    }
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-length")) {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    if let Some(c) = cookie {
        req.push_str(&format!("Cookie: {c}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let _ = s.write_all(body);
    read_response(&mut s)
}

pub fn read_response(s: &mut TcpStream) -> Resp {
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut b = raw[split + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        let mut out = Vec::new();
        let mut i = 0;
        loop {
            let e = i + b[i..].windows(2).position(|w| w == b"\r\n").unwrap();
            let n = usize::from_str_radix(std::str::from_utf8(&b[i..e]).unwrap().trim(), 16).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&b[e + 2..e + 2 + n]);
            i = e + 2 + n + 2;
        }
        b = out;
    }
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Resp { status, headers: head, body: String::from_utf8_lossy(&b).into_owned() }
}

pub fn api_login(addr: &str, user: &str, pw: &str) -> Resp {
    request(addr, "POST", "/api/v1/login", None, &[("Content-Type", "application/json")], format!(r#"{{"login":"{user}","password":"{pw}"}}"#).as_bytes())
}

pub fn session_cookie(r: &Resp) -> String {
    r.header("set-cookie").expect("set-cookie").split(';').next().unwrap().to_string()
}

pub fn get(addr: &str, path: &str, cookie: &str) -> Resp {
    request(addr, "GET", path, Some(cookie), &[], b"")
}

pub fn json(r: &Resp) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.body))
}

pub fn wait_job(addr: &str, cookie: &str, id: u64) -> serde_json::Value {
    let t = Instant::now();
    loop {
        let j = json(&get(addr, &format!("/api/v1/jobs/{id}"), cookie));
        if j["state"] != "running" {
            return j;
        }
        assert!(t.elapsed() < Duration::from_secs(300), "job {id} did not finish");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Logs in through the API with [`PW`]: (cookie, csrf token).
pub fn login(addr: &str, user: &str) -> (String, String) {
    let r = api_login(addr, user, PW);
    assert_eq!(r.status, 200, "{}", r.body);
    (session_cookie(&r), r.json()["csrf_token"].as_str().unwrap().to_string())
}
