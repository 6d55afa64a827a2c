//! Sessions, login, CSRF.
//!
//! A session is a 256-bit random token in a cookie (`HttpOnly; SameSite=Strict; Secure` unless
//! the server runs with insecure cookies for plain-HTTP testing), kept server-side with its
//! user, a per-session CSRF token and an idle expiry. Every state-changing form carries the
//! CSRF token in a hidden field `csrf`; a POST without the session's token is refused.
//!
//! A session ends after [`IDLE`] without requests, [`ABSOLUTE`] after login whatever the
//! activity, and as soon as its user's role, hospital or password changes — also when another
//! process (the `casemix workbench user` command) changed them: every authenticated request
//! compares the fingerprint taken at login ([`casemix_store::Credentials::fingerprint`]) with
//! the user's row (one indexed read).
//!
//! Login: [`client_addr`] and the account are throttled ([`super::throttle`]), the `Origin` (or
//! `Referer`) of the login POST must be this server ([`check_origin`], login CSRF), the argon2
//! check runs on the blocking pool outside the store lock, at most [`ARGON_PERMITS`] at once.

use super::Wb;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use casemix_store::User;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Cookie name of the session.
pub const COOKIE: &str = "casemix_session";
/// Idle time after which a session ends (等保 practice: 30 minutes of inactivity).
pub const IDLE: Duration = Duration::from_secs(30 * 60);
/// Absolute lifetime of a session: one working day (8 h), so that a session left open on a
/// shared office computer, or a stolen cookie kept alive by requests, ends the same day.
pub const ABSOLUTE: Duration = Duration::from_secs(8 * 60 * 60);
/// Concurrent argon2 checks (19 MiB and ~tens of ms each): a login flood cannot take every core
/// and the memory of the blocking pool; further logins queue.
pub const ARGON_PERMITS: usize = 2;

#[derive(Clone)]
pub struct Session {
    pub user: User,
    pub csrf: String,
    /// [`casemix_store::Credentials::fingerprint`] at login.
    pub fingerprint: String,
    created: Instant,
    last_seen: Instant,
}

impl Session {
    fn expired(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_seen) >= IDLE || now.saturating_duration_since(self.created) >= ABSOLUTE
    }
}

/// The server-side session table, the login throttle and the server settings the login and the
/// pages read.
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
    pub throttle: super::throttle::Throttle,
    pub argon: tokio::sync::Semaphore,
    /// Take the client address from the last `X-Forwarded-For` entry (behind a reverse proxy).
    trust_forwarded: AtomicBool,
    /// The request body limit in bytes (stated in the upload form).
    body_limit: AtomicUsize,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions {
            map: Mutex::default(),
            throttle: Default::default(),
            argon: tokio::sync::Semaphore::new(ARGON_PERMITS),
            trust_forwarded: AtomicBool::new(false),
            body_limit: AtomicUsize::new(crate::DEFAULT_BODY_LIMIT),
        }
    }
}

/// 32 random bytes as hex.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("operating-system randomness");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Sessions {
    fn map(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        // plain inserts and removes: a panic elsewhere cannot leave the table half-changed
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn create(&self, user: User, fingerprint: String) -> (String, Session) {
        let token = random_token();
        let now = Instant::now();
        let s = Session { user, csrf: random_token(), fingerprint, created: now, last_seen: now };
        let mut m = self.map();
        m.retain(|_, s| !s.expired(now));
        m.insert(token.clone(), s.clone());
        (token, s)
    }
    pub fn get(&self, token: &str) -> Option<Session> {
        let now = Instant::now();
        let mut m = self.map();
        let s = m.get_mut(token)?;
        if s.expired(now) {
            m.remove(token);
            return None;
        }
        s.last_seen = now;
        Some(s.clone())
    }
    pub fn remove(&self, token: &str) {
        self.map().remove(token);
    }
    pub fn set_trust_forwarded(&self, on: bool) {
        self.trust_forwarded.store(on, Ordering::Relaxed);
    }
    pub fn trust_forwarded(&self) -> bool {
        self.trust_forwarded.load(Ordering::Relaxed)
    }
    pub fn set_body_limit(&self, bytes: usize) {
        self.body_limit.store(bytes, Ordering::Relaxed);
    }
    /// The request body limit in whole MiB (for the upload form's text).
    pub fn body_limit_mib(&self) -> usize {
        self.body_limit.load(Ordering::Relaxed) / (1024 * 1024)
    }
}

/// The client's address: the TCP peer, or — when the server is told it runs behind a reverse
/// proxy (`--trust-forwarded-for`) — the last address the proxy appended to `X-Forwarded-For`.
pub fn client_addr(parts_headers: &HeaderMap, peer: Option<SocketAddr>, trust_forwarded: bool) -> Option<IpAddr> {
    if trust_forwarded {
        let last = parts_headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).last();
        if let Some(ip) = last.and_then(|x| x.trim().parse::<IpAddr>().ok()) {
            return Some(ip);
        }
    }
    peer.map(|p| p.ip())
}

/// The request came over HTTPS: a TLS-terminating proxy says so with `X-Forwarded-Proto: https`
/// (this server itself speaks plain HTTP only).
pub fn is_https(h: &HeaderMap) -> bool {
    h.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|v| v.split(',').next().unwrap_or("").trim().eq_ignore_ascii_case("https"))
}

/// The `Host` header without the port, lower case (`[::1]` keeps its brackets).
fn host_name(h: &HeaderMap) -> String {
    let host = h.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("").trim().to_ascii_lowercase();
    if host.starts_with('[') {
        host.split_inclusive(']').next().unwrap_or("").to_string()
    } else {
        host.split(':').next().unwrap_or("").to_string()
    }
}

/// A browser keeps a `Secure` cookie sent over plain HTTP only from localhost (a secure context);
/// from any other host name the login would silently fail. `true` when that is the case.
pub fn secure_cookie_lost(h: &HeaderMap, secure_cookies: bool) -> bool {
    let host = host_name(h);
    let local = host == "localhost" || host.ends_with(".localhost") || host == "[::1]" || host.starts_with("127.");
    secure_cookies && !is_https(h) && !local
}

/// The Chinese explanation shown on the login page when [`secure_cookie_lost`].
pub const INSECURE_TRANSPORT_ZH: &str = "当前通过 HTTP（未加密）访问本系统，浏览器不会保存带 Secure 标记的登录凭证，登录后会回到本页。请通过 HTTPS 访问（由反向代理提供 HTTPS，并设置 X-Forwarded-Proto: https）；仅在本机测试时才可用 --insecure-cookies 启动服务。";

/// Login CSRF: a login POST whose `Origin` (or, without it, `Referer`) names another host than
/// this request's `Host` is refused. Requests with neither header (scripts, API clients) pass:
/// browsers send `Origin` on every POST.
pub fn check_origin(h: &HeaderMap) -> Result<(), super::UiError> {
    let host = h.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("").trim().to_ascii_lowercase();
    let sent = h.get(header::ORIGIN).or_else(|| h.get(header::REFERER)).map(|v| v.to_str().unwrap_or("").trim().to_ascii_lowercase());
    let Some(sent) = sent else { return Ok(()) };
    let authority = sent.split_once("://").map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or("")).unwrap_or("");
    if !host.is_empty() && authority == host {
        Ok(())
    } else {
        Err(super::UiError::new(
            StatusCode::FORBIDDEN,
            "foreign_origin",
            "登录请求来自其他网站（来源与本系统地址不一致），已拒绝。请直接在本系统的登录页登录。",
        ))
    }
}

pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    for v in headers.get_all(header::COOKIE) {
        let Ok(s) = v.to_str() else { continue };
        for part in s.split(';') {
            if let Some((k, v)) = part.trim().split_once('=') {
                if k == COOKIE && v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Some(v.to_string());
                }
            }
        }
    }
    None
}

pub fn set_cookie(token: &str, secure: bool) -> String {
    format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{}", if secure { "; Secure" } else { "" })
}

pub fn clear_cookie(secure: bool) -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}", if secure { "; Secure" } else { "" })
}

/// The logged-in user of a request. Pages without a session redirect to `/login`; `/api/`
/// paths answer 401 JSON.
pub struct Auth {
    pub user: User,
    pub csrf: String,
    pub token: String,
}

impl Auth {
    /// Refuses a state-changing request whose CSRF token is not the session's.
    pub fn check_csrf(&self, sent: &str) -> Result<(), super::UiError> {
        if !sent.is_empty() && constant_eq(sent.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(super::UiError::new(StatusCode::FORBIDDEN, "csrf", "表单已失效或来源不可信（CSRF 校验失败），请刷新页面后重试"))
        }
    }
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub enum AuthRejection {
    Login,
    Api,
    Error(super::UiError),
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        match self {
            AuthRejection::Login => Redirect::to("/login").into_response(),
            AuthRejection::Api => super::UiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "未登录或登录已过期，请先登录 (POST /api/v1/login)").into_response(),
            AuthRejection::Error(e) => e.into_response(),
        }
    }
}

impl FromRequestParts<Arc<Wb>> for Auth {
    type Rejection = AuthRejection;
    async fn from_request_parts(parts: &mut Parts, wb: &Arc<Wb>) -> Result<Self, Self::Rejection> {
        let api = parts.uri.path().starts_with("/api/");
        let rej = || if api { AuthRejection::Api } else { AuthRejection::Login };
        let token = cookie_token(&parts.headers).ok_or_else(rej)?;
        let s = wb.sessions.get(&token).ok_or_else(rej)?;
        // the user's row still has the role, hospital and password of the login?
        let login = s.user.login.clone();
        let now_fp = wb
            .with_store(move |st| Ok(st.credentials(&login).map_err(|e| e.to_string())?.map(|c| c.fingerprint())))
            .await
            .map_err(|e| AuthRejection::Error(if api { e } else { e.page() }))?;
        if now_fp.as_deref() != Some(s.fingerprint.as_str()) {
            wb.sessions.remove(&token);
            tracing::info!(user = %s.user.login, "会话已失效：用户的角色、医院或密码已变更");
            return Err(rej());
        }
        if let Some(ctx) = parts.extensions.get::<Arc<crate::http::ReqCtx>>() {
            ctx.set_user(&s.user.login);
        }
        // API clients send the CSRF token as a header on state-changing requests.
        Ok(Auth { user: s.user, csrf: s.csrf, token })
    }
}

// ------------------------------------------------------------------ login

use super::throttle::{Key, Refusal};
use super::UiError;

/// Longest login name and password a login may send (longer is refused before any work).
pub const MAX_LOGIN_LEN: usize = 200;
pub const MAX_PASSWORD_LEN: usize = 1000;
/// Characters of an attempted login kept in the 操作日志 (an unknown login is attacker text).
const AUDIT_LOGIN_CHARS: usize = 64;

/// What a login attempt gave.
pub enum LoginOutcome {
    /// Logged in: the session token and session.
    Ok(String, Session),
    /// Wrong login or password.
    Bad,
    /// Refused before checking: back-off wait or lockout.
    Refused(Refusal),
}

/// The whole login: throttle check, credentials read under the store lock, argon2 outside it
/// (blocking pool, at most [`ARGON_PERMITS`] at once), the throttle and the 操作日志 updated
/// (`login`, `login_failure`, `login_lockout`; never the password), the session created.
pub async fn attempt_login(wb: &Arc<Wb>, login: String, password: String, addr: Option<IpAddr>) -> Result<LoginOutcome, UiError> {
    if login.len() > MAX_LOGIN_LEN || password.len() > MAX_PASSWORD_LEN {
        return Err(UiError::bad_request(format!("用户名（最多 {MAX_LOGIN_LEN} 字节）或密码（最多 {MAX_PASSWORD_LEN} 字节）过长")));
    }
    let mut keys = vec![Key::Account(login.clone())];
    keys.extend(addr.map(Key::Address));
    if let Some(r) = wb.sessions.throttle.check(&keys, Instant::now()) {
        return Ok(LoginOutcome::Refused(r));
    }
    let l = login.clone();
    let creds = wb.with_store(move |st| st.credentials(&l).map_err(|e| e.to_string())).await?;
    let user = {
        let _permit = wb.sessions.argon.acquire().await.map_err(|e| UiError::internal(format!("登录校验不可用：{e}")))?;
        let c = creds.clone();
        tokio::task::spawn_blocking(move || casemix_store::check_password(c.as_ref(), &password))
            .await
            .map_err(|e| UiError::internal(format!("登录校验任务失败：{e}")))?
            .map_err(|e| UiError::internal(e.to_string()))?
    };
    let address = addr.map(|a| a.to_string());
    match (user, creds) {
        (Some(u), Some(c)) => {
            wb.sessions.throttle.success(&keys[0]);
            let hospital = u.hospital_code.clone();
            let actor = u.clone();
            let detail = serde_json::json!({ "address": address });
            wb.with_store(move |st| st.record_event(&actor, "login", &format!("user:{}", actor.login), hospital.as_deref(), detail, super::now()).map_err(|e| e.to_string())).await?;
            let (token, s) = wb.sessions.create(u, c.fingerprint());
            Ok(LoginOutcome::Ok(token, s))
        }
        (_, creds) => {
            record_failure(wb, &keys, &login, creds.map(|c| c.user), address).await?;
            // the failure that locked answers with the lockout at once
            match wb.sessions.throttle.check(&keys, Instant::now()) {
                Some(r) if r.locked => Ok(LoginOutcome::Refused(r)),
                _ => Ok(LoginOutcome::Bad),
            }
        }
    }
}

/// Counts a failure on every key and writes `login_failure` (and `login_lockout` for each key
/// the failure locked) to the 操作日志.
async fn record_failure(wb: &Arc<Wb>, keys: &[Key], login: &str, known: Option<User>, address: Option<String>) -> Result<(), UiError> {
    let now = super::now();
    let wall = now.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let outcomes: Vec<(Key, super::throttle::FailureOutcome)> = keys.iter().map(|k| (k.clone(), wb.sessions.throttle.failure(k, Instant::now(), &wall))).collect();
    let shown: String = login.chars().take(AUDIT_LOGIN_CHARS).collect();
    let hospital = known.as_ref().and_then(|u| u.hospital_code.clone());
    let actor = known.unwrap_or_else(|| User { id: 0, login: shown.clone(), display_name: shown.clone(), role: casemix_store::Role::HospitalUser, hospital_code: None });
    wb.with_store(move |st| {
        let account_failures = outcomes.first().map(|(_, o)| o.failures).unwrap_or(0);
        let detail = serde_json::json!({ "address": address, "failures": account_failures, "known_user": actor.id != 0 });
        st.record_event(&actor, "login_failure", &format!("user:{shown}"), hospital.as_deref(), detail, now).map_err(|e| e.to_string())?;
        for (k, o) in outcomes.iter().filter(|(_, o)| o.locked_now) {
            let p = k.policy();
            let (kind, object) = match k {
                Key::Account(_) => ("account", format!("user:{shown}")),
                Key::Address(a) => ("address", format!("address:{a}")),
            };
            let detail = serde_json::json!({ "kind": kind, "failures": o.failures, "minutes": p.lockout.as_secs() / 60, "address": address });
            st.record_event(&actor, "login_lockout", &object, hospital.as_deref(), detail, now).map_err(|e| e.to_string())?;
        }
        Ok(())
    })
    .await
}

/// `Retry-After` and status 429 on a throttled login answer.
pub fn throttled(mut r: Response, refusal: &Refusal) -> Response {
    *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    r.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from(refusal.retry_after));
    r
}

/// The client address of a request from its extensions (the TCP peer recorded by `serve`).
pub fn peer(ext: &axum::http::Extensions) -> Option<SocketAddr> {
    ext.get::<axum::extract::ConnectInfo<SocketAddr>>().map(|c| c.0)
}

/// A `Set-Cookie` header value (the token is hex, so the value is always a valid header).
pub fn cookie_header(v: String) -> axum::http::HeaderValue {
    axum::http::HeaderValue::try_from(v).unwrap_or_else(|_| axum::http::HeaderValue::from_static("casemix_session=; Max-Age=0"))
}

/// Logout: the session ends and `logout` is written to the 操作日志.
pub async fn end_session(wb: &Arc<Wb>, a: &Auth) -> Result<(), UiError> {
    wb.sessions.remove(&a.token);
    let u = a.user.clone();
    wb.with_store(move |st| st.record_event(&u, "logout", &format!("user:{}", u.login), u.hospital_code.as_deref(), serde_json::json!({}), super::now()).map_err(|e| e.to_string())).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(*k, HeaderValue::from_static(v));
        }
        m
    }

    #[test]
    fn origin_must_be_this_host() {
        assert!(check_origin(&h(&[("host", "wb.example:8080"), ("origin", "https://wb.example:8080")])).is_ok());
        assert!(check_origin(&h(&[("host", "wb.example:8080"), ("referer", "http://wb.example:8080/login?x=1")])).is_ok());
        assert!(check_origin(&h(&[("host", "wb.example:8080")])).is_ok(), "no Origin/Referer: a script");
        for bad in ["https://evil.example", "null", "https://wb.example:8081", "https://wb.example:8080.evil.example"] {
            let e = check_origin(&h(&[("host", "wb.example:8080"), ("origin", bad)])).unwrap_err();
            assert_eq!((e.status, e.code), (StatusCode::FORBIDDEN, "foreign_origin"), "{bad}");
        }
        assert!(check_origin(&h(&[("host", "wb.example"), ("referer", "https://evil.example/wb.example")])).is_err());
    }

    #[test]
    fn secure_cookie_is_lost_over_http_on_a_lan_name_only() {
        assert!(secure_cookie_lost(&h(&[("host", "10.1.2.3:8080")]), true));
        assert!(secure_cookie_lost(&h(&[("host", "casemix.lan")]), true));
        assert!(!secure_cookie_lost(&h(&[("host", "casemix.lan")]), false), "insecure cookies");
        assert!(!secure_cookie_lost(&h(&[("host", "casemix.lan"), ("x-forwarded-proto", "https")]), true));
        for local in ["localhost:8080", "127.0.0.1:9", "[::1]:8080", "app.localhost"] {
            let mut m = HeaderMap::new();
            m.insert(header::HOST, HeaderValue::from_str(local).unwrap());
            assert!(!secure_cookie_lost(&m, true), "{local}");
        }
    }

    #[test]
    fn client_address_from_the_proxy_only_when_trusted() {
        let peer: SocketAddr = "10.0.0.1:5555".parse().unwrap();
        let m = h(&[("x-forwarded-for", "1.2.3.4, 192.168.7.8")]);
        assert_eq!(client_addr(&m, Some(peer), false), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(client_addr(&m, Some(peer), true), Some("192.168.7.8".parse().unwrap()));
        assert_eq!(client_addr(&h(&[("x-forwarded-for", "garbage")]), Some(peer), true), Some("10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn sessions_end_after_the_absolute_lifetime_even_when_active() {
        let u = User { id: 1, login: "a".into(), display_name: "a".into(), role: casemix_store::Role::BureauAdmin, hospital_code: None };
        let now = Instant::now();
        let s = Session { user: u, csrf: String::new(), fingerprint: String::new(), created: now, last_seen: now };
        assert!(!s.expired(now + Duration::from_secs(29 * 60)));
        assert!(s.expired(now + IDLE));
        let active = Session { last_seen: now + ABSOLUTE - Duration::from_secs(1), ..s.clone() };
        assert!(!active.expired(now + ABSOLUTE - Duration::from_secs(1)));
        assert!(active.expired(now + ABSOLUTE), "8 h after login, however active");
    }
}
