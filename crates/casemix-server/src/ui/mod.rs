//! The workbench web UI (Chinese, server-rendered HTML with SVG charts) and its JSON API.
//!
//! Every handler takes the logged-in user ([`auth::Auth`]) and restricts what it reads to the
//! user's scope: bureau roles see the region, a hospital user only their hospital — in the
//! store (SQL bound `hospital_code`), the case data (casemix-lake `scope`) and the derived
//! results (filtered by `hospital_code`). Unknown and foreign objects answer the same 404.

pub mod api;
pub mod auth;
pub mod charts;
pub mod jobs;
pub mod layout;
pub mod lockouts;
pub mod monitor;
pub mod monitor_pages;
pub mod pages;
pub mod throttle;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use casemix_store::{Role, Store, User};
use casemix_workbench::Workbench;
use std::sync::{Arc, Mutex};

/// The workbench state shared by UI and API handlers.
pub struct Wb {
    pub wb: Workbench,
    pub store: Mutex<Store>,
    pub sessions: auth::Sessions,
    pub jobs: Arc<jobs::Jobs>,
    /// `Secure` on the session cookie (off only for plain-HTTP test setups).
    pub secure_cookies: bool,
}

impl Wb {
    pub fn new(wb: Workbench, secure_cookies: bool) -> Result<Wb, String> {
        let store = wb.open_store()?;
        Ok(Wb { wb, store: Mutex::new(store), sessions: auth::Sessions::default(), jobs: Arc::new(jobs::Jobs::default()), secure_cookies })
    }

    pub fn region_label(&self) -> String {
        let c = &self.wb.config;
        if c.region_name.is_empty() {
            c.region.clone()
        } else {
            c.region_name.clone()
        }
    }

    /// Runs `f` with the store on the blocking pool.
    pub async fn with_store<T: Send + 'static>(self: &Arc<Self>, f: impl FnOnce(&mut Store) -> Result<T, String> + Send + 'static) -> Result<T, UiError> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut st = me.store.lock().map_err(|_| "数据库连接不可用".to_string())?;
            f(&mut st)
        })
        .await
        .map_err(|e| UiError::internal(format!("后台任务失败：{e}")))?
        .map_err(UiError::bad_request)
    }

    pub async fn lake(&self) -> Result<casemix_lake::Lake, UiError> {
        casemix_lake::Lake::open(&self.wb.lake_dir()).await.map_err(|e| UiError::internal(format!("病例数据无法打开：{e}")))
    }
}

/// An error page or JSON error: status, stable code, Chinese message. API paths get JSON.
#[derive(Debug, Clone)]
pub struct UiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub json: bool,
}

impl UiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> UiError {
        UiError { status, code, message: message.into(), json: true }
    }
    pub fn bad_request(message: impl Into<String>) -> UiError {
        UiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    /// 404 for a missing object and for one outside the user's scope alike; the message names
    /// the kind of object only, never the identifier asked for (a hospital user learns nothing
    /// of another hospital's codes or lists from the answer).
    pub fn not_found(what: &str) -> UiError {
        UiError::new(StatusCode::NOT_FOUND, "not_found", format!("{what}不存在或无权查看"))
    }
    pub fn forbidden(what: &str) -> UiError {
        UiError::new(StatusCode::FORBIDDEN, "forbidden", format!("当前角色无权{what}"))
    }
    pub fn internal(message: impl Into<String>) -> UiError {
        UiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
    /// The same error rendered as an HTML page.
    pub fn page(mut self) -> UiError {
        self.json = false;
        self
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        if self.json {
            let body = serde_json::json!({ "code": self.code, "message": self.message });
            (self.status, [(axum::http::header::CONTENT_TYPE, "application/json; charset=utf-8")], body.to_string()).into_response()
        } else {
            let body = maud::html! {
                (maud::DOCTYPE)
                html lang="zh-CN" { head { meta charset="utf-8"; title { "出错了" } style { (maud::PreEscaped(layout::CSS)) } }
                body { main { h1 { "无法完成请求" } div.alert #error { (self.message) } p { a href="/monitor" { "返回首页" } } } } }
            };
            (self.status, Html(body.into_string())).into_response()
        }
    }
}

/// Only these roles may do `what`.
pub fn require(user: &User, roles: &[Role], what: &str) -> Result<(), UiError> {
    if roles.contains(&user.role) {
        Ok(())
    } else {
        Err(UiError::forbidden(what))
    }
}

pub fn now() -> chrono::DateTime<chrono::Utc> {
    std::time::SystemTime::now().into()
}

/// Every UI and workbench-API route.
pub fn router(wb: Arc<Wb>) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/monitor", get(pages::monitor))
        .route("/hospital", get(pages::my_hospital))
        .route("/hospitals/{code}", get(pages::hospital))
        .route("/cases/{list_id}", get(pages::case_detail))
        .route("/uploads", get(pages::uploads).post(pages::upload))
        .route("/uploads/{id}", get(pages::upload_detail))
        .route("/review", get(pages::review))
        .route("/review/decide", post(pages::decide))
        .route("/runs", get(pages::runs).post(pages::start_run))
        .route("/jobs/{id}", get(pages::job))
        .route("/statements", get(pages::statements))
        .route("/statements/export.xlsx", get(pages::statement_xlsx))
        .route("/export/{name}", get(pages::export))
        .route("/audit-log", get(pages::audit_log))
        .route("/admin/lockouts", get(lockouts::page))
        .route("/admin/lockouts/lift", post(lockouts::page_lift))
        .route("/api/v1/login", post(api::login))
        .route("/api/v1/logout", post(api::logout))
        .route("/api/v1/me", get(api::me))
        .route("/api/v1/uploads", get(api::uploads).post(api::upload))
        .route("/api/v1/uploads/{id}", get(api::upload_detail))
        .route("/api/v1/cases/{list_id}", get(api::case_detail))
        .route("/api/v1/flags", get(api::flags))
        .route("/api/v1/flags/{flag_id}/decision", post(api::decide))
        .route("/api/v1/runs", post(api::start_run))
        .route("/api/v1/jobs/{id}", get(api::job))
        .route("/api/v1/monitor", get(api::monitor))
        .route("/api/v1/hospitals/{code}", get(api::hospital))
        .route("/api/v1/statements", get(api::statements))
        .route("/api/v1/audit-log", get(api::audit_log))
        .route("/api/v1/admin/lockouts", get(lockouts::api_list))
        .route("/api/v1/admin/lockouts/{login}/lift", post(lockouts::api_lift_account))
        .route("/api/v1/admin/address-lockouts/{addr}/lift", post(lockouts::api_lift_address))
        .with_state(wb)
}
