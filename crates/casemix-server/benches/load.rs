//! Bounded load client for the pre-grouping API (`cargo bench -p casemix-server --bench load`).
//!
//! Starts the server in-process on 127.0.0.1 (an ephemeral port), opens `LOAD_CONNECTIONS`
//! keep-alive HTTP/1.1 connections (default 16) and POSTs one case per request until
//! `LOAD_REQUESTS` requests (default 200,000) are answered or `LOAD_SECONDS` (default 20) have
//! passed, whichever comes first; then prints requests/s and the p50 / p90 / p99 / max latency.
//! `LOAD_EXPLAIN=1` asks for the trace. Only loopback is ever a target, and the run stops by itself.
//! The server and the client share the machine's cores (the server runtime has
//! `LOAD_SERVER_THREADS` workers, default 2 — client on the main thread).
//!
//! Issue target: p99 < 2 ms and ≥ 5,000 requests/s on loopback. Measured on the 2-core machine
//! (2026-11, CHS-DRG 1.1, the appendicitis case, client and server sharing both cores):
//! 16 connections ≈ 108,000–113,000 requests/s, p50 0.13–0.15 ms, p99 0.26–0.27 ms;
//! 64 connections ≈ 125,000 requests/s, p99 0.92 ms; 1 connection ≈ 12,400 requests/s, p99 0.14 ms;
//! explain=true, 16 connections ≈ 61,000 requests/s, p99 0.49 ms.
//! wrk (`-t2 -c16 -d10s`, POST script) against `casemix serve` (release): 95,000 requests/s,
//! p50 0.15 ms, p99 0.61 ms; `-t1 -c64`: 128,000 requests/s, p99 3.7 ms (wrk and server share 2 cores).

use casemix_grouper::Grouper;
use casemix_server::AppState;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn env_num(k: &str, d: u64) -> u64 {
    std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d)
}

fn shared() -> PathBuf {
    match std::env::var_os("CASEMIX_SHARED") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    }
}

/// The appendicitis case of the API tests (→ GD13 under CHS-DRG 1.1).
const CASE: &str = r#"{"list_id":"A001","sex":1,"age_years":30,"diagnoses":["K35.300","J18.900"],"procedures":["47.0100"],"los_days":5,"leaving_type":1}"#;

/// Reads one HTTP/1.1 response with a Content-Length body; returns the status.
async fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<u16> {
    buf.clear();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).map_err(|_| std::io::Error::other("bad head"))?;
            let status: u16 = head.split(' ').nth(1).and_then(|x| x.parse().ok()).ok_or_else(|| std::io::Error::other("bad status"))?;
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse().ok())?
                })
                .ok_or_else(|| std::io::Error::other("no content-length"))?;
            let total = end + 4 + len;
            while buf.len() < total {
                let n = s.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::Error::other("closed"));
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(status);
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::other("closed"));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn worker(addr: SocketAddr, req: Arc<Vec<u8>>, left: Arc<AtomicU64>, deadline: Instant) -> (Vec<u32>, u64) {
    let mut lat = Vec::new();
    let mut errors = 0;
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.set_nodelay(true).ok();
    let mut buf = Vec::with_capacity(16 * 1024);
    while Instant::now() < deadline && left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1)).is_ok() {
        let t = Instant::now();
        if s.write_all(&req).await.is_err() {
            errors += 1;
            break;
        }
        match read_response(&mut s, &mut buf).await {
            Ok(200) => lat.push(t.elapsed().as_micros() as u32),
            Ok(_) => errors += 1,
            Err(_) => {
                errors += 1;
                break;
            }
        }
    }
    (lat, errors)
}

fn main() {
    let conns = env_num("LOAD_CONNECTIONS", 16);
    let requests = env_num("LOAD_REQUESTS", 200_000);
    let seconds = env_num("LOAD_SECONDS", 20);
    let server_threads = env_num("LOAD_SERVER_THREADS", 2) as usize;
    let explain = std::env::var("LOAD_EXPLAIN").is_ok_and(|v| v == "1");
    let g = Grouper::from_dir(shared().join("schemes/chs_drg_11")).expect("scheme chs_drg_11 (set CASEMIX_SHARED)");
    let server_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(server_threads).enable_io().build().unwrap();
    let listener = server_rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    server_rt.spawn(casemix_server::serve(listener, AppState::new(g)));

    let path = if explain { "/api/v1/group?explain=true" } else { "/api/v1/group" };
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{CASE}",
        CASE.len()
    );
    let req = Arc::new(req.into_bytes());
    let client = tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build().unwrap();
    let (lat, errors, wall) = client.block_on(async {
        // warm-up: 1,000 requests on one connection, not measured
        let (_, e) = worker(addr, req.clone(), Arc::new(AtomicU64::new(1_000)), Instant::now() + Duration::from_secs(5)).await;
        assert_eq!(e, 0, "warm-up failed");
        let left = Arc::new(AtomicU64::new(requests));
        let start = Instant::now();
        let deadline = start + Duration::from_secs(seconds);
        let tasks: Vec<_> = (0..conns).map(|_| tokio::spawn(worker(addr, req.clone(), left.clone(), deadline))).collect();
        let mut lat = Vec::new();
        let mut errors = 0;
        for t in tasks {
            let (l, e) = t.await.unwrap();
            lat.extend(l);
            errors += e;
        }
        (lat, errors, start.elapsed())
    });
    let mut lat = lat;
    lat.sort_unstable();
    let q = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
        lat[i] as f64 / 1000.0
    };
    let n = lat.len();
    println!(
        "load: {conns} connections, {n} requests ({errors} errors) in {:.2} s → {:.0} requests/s; latency p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms{}",
        wall.as_secs_f64(),
        n as f64 / wall.as_secs_f64(),
        q(0.50),
        q(0.90),
        q(0.99),
        lat.last().copied().unwrap_or(0) as f64 / 1000.0,
        if explain { " (explain=true)" } else { "" }
    );
    server_rt.shutdown_timeout(Duration::from_secs(1));
}
