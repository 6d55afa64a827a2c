//! The HTTP layer around every route: request id, one structured log line per request, security
//! headers, the body limit answered before the body is read, panics turned into a 500 page, and
//! Chinese error pages (browser) or JSON errors (`/api/`) for whatever a route or axum itself
//! answered with an error.
//!
//! The log line (`tracing`, target `casemix_server::http`) carries the request id, the user's
//! login (or `-`), the method, the route *template* (`/cases/{list_id}`, never the raw URL, so no
//! list id or patient datum reaches the log), the status and the duration in milliseconds.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use tracing::Instrument;

/// Error bodies larger than this are not re-read to be localised (a route's own JSON errors
/// are a few hundred bytes).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// What one request is: its id and, once known, its user (set by the `Auth` extractor and the
/// login handlers through the request's extensions).
pub struct ReqCtx {
    pub id: String,
    user: OnceLock<String>,
}

impl ReqCtx {
    pub fn set_user(&self, login: &str) {
        let _ = self.user.set(login.to_string());
    }
}

/// Settings of the layer, built once.
pub struct HttpConfig {
    pub body_limit: usize,
    csp: HeaderValue,
}

impl HttpConfig {
    pub fn new(body_limit: usize) -> HttpConfig {
        HttpConfig { body_limit, csp: csp() }
    }
}

/// The Content-Security-Policy: nothing from elsewhere; the one inline script (the table sorter,
/// `layout::SORT_JS`) allowed by its SHA-256 — an injected script cannot run; inline styles
/// allowed (the pages and charts use `style` attributes; styles cannot run code); forms only to
/// this server; no framing.
pub fn csp() -> HeaderValue {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(crate::ui::layout::SORT_JS.as_bytes()));
    let v = format!(
        "default-src 'none'; script-src 'sha256-{hash}'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    HeaderValue::try_from(v).unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
}

/// 16 hex characters from the operating system's randomness.
fn request_id() -> String {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        // no randomness: a time-based id still tells requests apart in the log
        let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        b = (n as u64).to_be_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The client wants an HTML page: not an `/api/` path, and not a client asking for JSON only.
pub fn wants_html(path: &str, h: &HeaderMap) -> bool {
    if path == "/api" || path.starts_with("/api/") {
        return false;
    }
    match h.get(header::ACCEPT).and_then(|v| v.to_str().ok()) {
        Some(a) => a.contains("text/html") || !a.contains("application/json"),
        None => true,
    }
}

/// The middleware (`axum::middleware::from_fn_with_state`).
pub async fn layer(State(cfg): State<Arc<HttpConfig>>, mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let ctx = Arc::new(ReqCtx { id: request_id(), user: OnceLock::new() });
    req.extensions_mut().insert(ctx.clone());
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_else(|| "(未匹配)".to_string());
    let method = req.method().clone();
    let html = wants_html(req.uri().path(), req.headers());
    let span = tracing::info_span!("request", id = %ctx.id);
    let mut resp = match declared_length(req.headers()) {
        Some(n) if n > cfg.body_limit as u64 => too_large(Some(n), cfg.body_limit, html, &ctx.id),
        _ => match tokio::spawn(next.run(req).instrument(span.clone())).await {
            Ok(r) => r,
            Err(e) => {
                let what = if e.is_panic() { "程序异常 (panic)" } else { "任务被取消" };
                tracing::error!(parent: &span, route = %route, "处理请求时{what}；服务继续运行");
                error_response(StatusCode::INTERNAL_SERVER_ERROR, "internal", "服务器内部错误：处理本请求时程序异常，已记录。服务仍在运行，请稍后重试或联系管理员。", html, &ctx.id)
            }
        },
    };
    if resp.status().is_client_error() || resp.status().is_server_error() {
        resp = localise(resp, html, cfg.body_limit, &ctx.id).await;
    }
    security_headers(resp.headers_mut(), &cfg.csp, &ctx.id);
    let status = resp.status().as_u16();
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let user = ctx.user.get().map(String::as_str).unwrap_or("-");
    if status >= 500 {
        tracing::error!(target: "casemix_server::http", request_id = %ctx.id, user, method = %method, route = %route, status, duration_ms = %format!("{ms:.1}"), "request");
    } else {
        tracing::info!(target: "casemix_server::http", request_id = %ctx.id, user, method = %method, route = %route, status, duration_ms = %format!("{ms:.1}"), "request");
    }
    resp
}

fn declared_length(h: &HeaderMap) -> Option<u64> {
    h.get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

fn security_headers(h: &mut HeaderMap, csp: &HeaderValue, id: &str) {
    h.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    // nothing of this server may be kept by the browser or a proxy: after logout, Back shows
    // nothing (pages carry 医保编号 and amounts)
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::try_from(id) {
        h.insert("x-request-id", v);
    }
}

fn mib(n: u64) -> String {
    format!("{:.1}", n as f64 / (1024.0 * 1024.0))
}

/// 413 with the limit stated.
fn too_large(sent: Option<u64>, limit: usize, html: bool, id: &str) -> Response {
    let limit_mib = limit / (1024 * 1024);
    let sent = sent.map(|n| format!("本次请求 {} MiB，", mib(n))).unwrap_or_default();
    let msg = format!("请求体（上传内容）过大：{sent}上限为 {limit_mib} MiB（{limit} 字节，服务启动参数 --body-limit-mib）。请拆分文件后分批上传。");
    error_response(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", &msg, html, id)
}

/// An error as JSON `{code, message}` or as a Chinese HTML page with the request id.
pub fn error_response(status: StatusCode, code: &str, message: &str, html: bool, id: &str) -> Response {
    if html {
        let (title, hint) = match status.as_u16() {
            400 => ("请求有误", "请检查填写的内容或地址后重试。"),
            401 => ("需要登录", "请先登录。"),
            403 => ("无权访问", "当前用户无权进行此操作；如有疑问请联系医保局系统管理员。"),
            404 => ("页面不存在", "地址可能有误，或所查对象不存在、不在您的权限范围内。"),
            405 => ("请求方式不支持", "请从系统页面上的链接和按钮进入。"),
            413 => ("上传内容过大", "请拆分后分批上传。"),
            429 => ("请求过于频繁", "请稍后再试。"),
            s if s >= 500 => ("服务器内部错误", "服务仍在运行；请稍后重试，如仍出错请把请求编号告知管理员。"),
            _ => ("无法完成请求", ""),
        };
        let body = maud::html! {
            (maud::DOCTYPE)
            html lang="zh-CN" {
                head { meta charset="utf-8"; title { (title) "（" (status.as_u16()) "）" } style { (maud::PreEscaped(crate::ui::layout::CSS)) } }
                body { main {
                    h1 { (title) "（" (status.as_u16()) "）" }
                    div.alert #error { (message) }
                    @if !hint.is_empty() { p { (hint) } }
                    p.muted #request-id { "请求编号：" (id) }
                    p { a href="/monitor" { "返回首页" } }
                } }
            }
        };
        (status, Html(body.into_string())).into_response()
    } else {
        let body = serde_json::json!({ "code": code, "message": message, "request_id": id });
        (status, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], body.to_string()).into_response()
    }
}

/// Rewrites an error answer into the client's form and language: axum's own plain-text
/// rejections (bad path or form, body too large, wrong method) become a Chinese page or JSON;
/// a JSON `{code, message}` error reaching a browser becomes a page. HTML error pages of the
/// routes and JSON errors to API clients are kept as they are.
async fn localise(resp: Response, html: bool, limit: usize, id: &str) -> Response {
    let ct = resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let status = resp.status();
    if ct.starts_with("text/html") || (ct.starts_with("application/json") && !html) {
        return resp;
    }
    if resp.headers().contains_key(header::LOCATION) {
        return resp;
    }
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large(None, limit, html, id);
    }
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_ERROR_BODY).await.unwrap_or_default();
    if ct.starts_with("application/json") {
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let code = v.get("code").and_then(|c| c.as_str()).unwrap_or("error");
        let msg = v.get("message").and_then(|c| c.as_str()).unwrap_or("无法完成请求");
        let mut r = error_response(status, code, msg, true, id);
        keep_headers(&parts.headers, r.headers_mut());
        return r;
    }
    let detail = String::from_utf8_lossy(&bytes);
    let (code, msg) = match status.as_u16() {
        400 | 422 => ("bad_request", format!("请求无法读取：地址、参数或表单内容格式不正确（{}）", detail.trim())),
        404 => ("not_found", "页面或接口不存在".to_string()),
        405 => ("method_not_allowed", "该地址不支持此请求方法".to_string()),
        415 => ("content_type", "请求的内容类型不受支持".to_string()),
        s if s >= 500 => ("internal", "服务器内部错误，已记录".to_string()),
        _ => ("error", format!("无法完成请求（{}）", detail.trim())),
    };
    let mut r = error_response(status, code, &msg, html, id);
    keep_headers(&parts.headers, r.headers_mut());
    r
}

/// Headers of the original error that still apply (`Retry-After`, `Set-Cookie`, `Allow`).
fn keep_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for h in [header::RETRY_AFTER, header::SET_COOKIE, header::ALLOW] {
        for v in from.get_all(&h) {
            to.append(h.clone(), v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    async fn boom() -> &'static str {
        panic!("处理中的 bug")
    }

    fn app() -> Router {
        Router::new()
            .route("/boom", get(boom))
            .route("/api/boom", get(boom))
            .route("/ok", get(|| async { "ok" }))
            .route("/n/{id}", get(|axum::extract::Path(id): axum::extract::Path<u64>| async move { id.to_string() }))
            .layer(axum::middleware::from_fn_with_state(Arc::new(HttpConfig::new(1024)), layer))
    }

    async fn call(path: &str, accept: Option<&str>, len: Option<usize>) -> (StatusCode, HeaderMap, String) {
        let mut b = axum::http::Request::builder().uri(path);
        if let Some(a) = accept {
            b = b.header(header::ACCEPT, a);
        }
        if let Some(n) = len {
            b = b.header(header::CONTENT_LENGTH, n);
        }
        let r = app().oneshot(b.body(axum::body::Body::empty()).unwrap()).await.unwrap();
        let (p, body) = r.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
        (p.status, p.headers, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn a_panic_is_a_chinese_500_with_the_request_id_and_the_service_goes_on() {
        let (s, h, body) = call("/boom", Some("text/html"), None).await;
        assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
        let id = h.get("x-request-id").unwrap().to_str().unwrap().to_string();
        assert_eq!(id.len(), 16);
        assert!(body.contains("服务器内部错误") && body.contains(&format!("请求编号：{id}")), "{body}");
        let (s, _, body) = call("/api/boom", None, None).await;
        assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["code"], "internal");
        assert_eq!(call("/ok", None, None).await.2, "ok");
    }

    #[tokio::test]
    async fn plain_text_rejections_become_chinese() {
        let (s, h, body) = call("/n/abc", Some("text/html"), None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(h.get(header::CONTENT_TYPE).unwrap().to_str().unwrap().starts_with("text/html"));
        assert!(body.contains("请求有误") && body.contains("格式不正确"), "{body}");
        // limit 1024 bytes: a declared 2048 is refused before the body, stating both
        let (s, _, body) = call("/ok", Some("text/html"), Some(2048)).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(body.contains("上限为 0 MiB（1024 字节"), "{body}");
        let (_, h, _) = call("/ok", None, None).await;
        for k in ["content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy", "cache-control"] {
            assert!(h.contains_key(k), "{k}");
        }
    }

    #[test]
    fn html_for_pages_json_for_the_api() {
        let mut h = HeaderMap::new();
        assert!(wants_html("/nope", &h));
        assert!(!wants_html("/api/v1/x", &h));
        h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert!(!wants_html("/nope", &h));
        h.insert(header::ACCEPT, HeaderValue::from_static("text/html,application/json;q=0.9"));
        assert!(wants_html("/nope", &h));
    }

    #[test]
    fn the_csp_hash_is_the_sha256_of_the_sort_script() {
        // sha256 of the script text as base64 (44 characters with padding)
        let v = csp();
        let s = v.to_str().unwrap();
        let i = s.find("'sha256-").unwrap() + 8;
        let j = i + s[i..].find('\'').unwrap();
        assert_eq!(s[i..j].len(), 44);
        assert_eq!(base64::engine::general_purpose::STANDARD.decode(&s[i..j]).unwrap(), Sha256::digest(crate::ui::layout::SORT_JS.as_bytes()).to_vec());
    }
}
