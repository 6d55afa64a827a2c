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
use casemix_store::{Role, Store, StorePool, User};
use casemix_workbench::Workbench;
use std::sync::Arc;

/// Store connections the server opens at most (pages, uploads and runs each take one for the
/// length of their store work only; with SQLite's WAL readers never wait for the writer).
pub const STORE_CONNECTIONS: usize = 16;

/// The workbench state shared by UI and API handlers.
pub struct Wb {
    pub wb: Workbench,
    /// A pool of store connections: `store.get()` (or `store.lock()`, the name of the mutex it
    /// replaced) gives this task its own connection — there is no global store lock.
    pub store: StorePool,
    pub sessions: auth::Sessions,
    pub jobs: Arc<jobs::Jobs>,
    /// `Secure` on the session cookie (off only for plain-HTTP test setups).
    pub secure_cookies: bool,
}

impl Wb {
    /// Opens the store pool, closes the jobs the previous server left running (interrupted, or
    /// done if their upload committed) and starts the job journal.
    pub fn new(wb: Workbench, secure_cookies: bool) -> Result<Wb, String> {
        let store = wb.open_store_pool(STORE_CONNECTIONS)?;
        let max_id = {
            let mut st = store.get().map_err(|e| e.to_string())?;
            st.interrupt_running_jobs(now()).map_err(|e| format!("无法整理上次未完成的任务：{e}"))?;
            st.max_job_id().map_err(|e| e.to_string())?
        };
        let journal = Store::connect_url(&wb.store_target()).map_err(|e| format!("无法为任务记录打开数据库连接：{e}"))?;
        let jobs = Arc::new(jobs::Jobs::persistent(journal, max_id));
        Ok(Wb { wb, store, sessions: auth::Sessions::default(), jobs, secure_cookies })
    }

    pub fn region_label(&self) -> String {
        let c = &self.wb.config;
        if c.region_name.is_empty() {
            c.region.clone()
        } else {
            c.region_name.clone()
        }
    }

    /// Runs `f` on the blocking pool with a store connection of its own (no other task waits
    /// for it, except a writer for another writer's transaction).
    pub async fn with_store<T: Send + 'static>(self: &Arc<Self>, f: impl FnOnce(&mut Store) -> Result<T, String> + Send + 'static) -> Result<T, UiError> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut st = me.store.get().map_err(|e| format!("数据库连接不可用：{e}"))?;
            f(&mut st)
        })
        .await
        .map_err(|e| UiError::internal(format!("后台任务失败：{e}")))?
        .map_err(UiError::bad_request)
    }

    /// The case data of the current run version, resolved once for the request (a run that
    /// switches versions meanwhile does not mix into it).
    pub async fn lake(&self) -> Result<casemix_lake::Lake, UiError> {
        let dir = self.wb.lake_dir().map_err(UiError::internal)?;
        casemix_lake::Lake::open(&dir).await.map_err(|e| UiError::internal(format!("病例数据无法打开：{e}")))
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
        .route("/cases/{hospital_code}/{list_id}", get(pages::case_detail))
        .route("/uploads", get(pages::uploads).post(pages::upload))
        .route("/uploads/{id}", get(pages::upload_detail))
        .route("/review", get(pages::review))
        .route("/review/decide", post(pages::decide))
        .route("/runs", get(pages::runs).post(pages::start_run))
        .route("/jobs", get(pages::jobs))
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
        .route("/api/v1/cases/{hospital_code}/{list_id}", get(api::case_detail))
        .route("/api/v1/flags", get(api::flags))
        .route("/api/v1/flags/{flag_id}/decision", post(api::decide))
        .route("/api/v1/runs", post(api::start_run))
        .route("/api/v1/jobs", get(api::jobs))
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
