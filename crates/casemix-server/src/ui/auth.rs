//! Sessions, login, CSRF.
//!
//! A session is a 256-bit random token in a cookie (`HttpOnly; SameSite=Strict; Secure` unless
//! the server runs with insecure cookies for plain-HTTP testing), kept server-side with its
//! user, a per-session CSRF token and an idle expiry. Every state-changing form carries the
//! CSRF token in a hidden field `csrf`; a POST without the session's token is refused.

use super::Wb;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use casemix_store::User;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Cookie name of the session.
pub const COOKIE: &str = "casemix_session";
/// Idle time after which a session ends (等保 practice: 30 minutes of inactivity).
pub const IDLE: Duration = Duration::from_secs(30 * 60);

#[derive(Clone)]
pub struct Session {
    pub user: User,
    pub csrf: String,
    last_seen: Instant,
}

/// The server-side session table.
#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

/// 32 random bytes as hex.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("operating-system randomness");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Sessions {
    pub fn create(&self, user: User) -> (String, Session) {
        let token = random_token();
        let s = Session { user, csrf: random_token(), last_seen: Instant::now() };
        let mut m = self.map.lock().expect("sessions");
        m.retain(|_, s| s.last_seen.elapsed() < IDLE);
        m.insert(token.clone(), s.clone());
        (token, s)
    }
    pub fn get(&self, token: &str) -> Option<Session> {
        let mut m = self.map.lock().expect("sessions");
        let s = m.get_mut(token)?;
        if s.last_seen.elapsed() >= IDLE {
            m.remove(token);
            return None;
        }
        s.last_seen = Instant::now();
        Some(s.clone())
    }
    pub fn remove(&self, token: &str) {
        self.map.lock().expect("sessions").remove(token);
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
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        match self {
            AuthRejection::Login => Redirect::to("/login").into_response(),
            AuthRejection::Api => super::UiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "未登录或登录已过期，请先登录 (POST /api/v1/login)").into_response(),
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
        // API clients send the CSRF token as a header on state-changing requests.
        Ok(Auth { user: s.user, csrf: s.csrf, token })
    }
}
