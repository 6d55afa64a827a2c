//! The workbench JSON API (documented in openapi.json). Same rules as the pages: a session
//! (cookie from `POST /api/v1/login`), the user's scope on every read, the session's CSRF token
//! in the `X-CSRF-Token` header on every state-changing call, JSON errors with a stable code and
//! a Chinese message, never a 5xx for bad input.

use super::auth::{self, Auth};
use super::pages::{decide_flag, find_job, flag_page, job_id, jobs_page, load_case, load_upload, scoped_settlements, start_run_job, start_upload, FlagQuery, PageQuery, UploadRequest};
use super::{UiError, Wb};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, Extensions, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use casemix_store::{AuditFilter, Role};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

type ApiResult = Result<Response, UiError>;

pub fn ok(v: Value) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], v.to_string()).into_response()
}

fn json_err(e: JsonRejection) -> UiError {
    match e {
        JsonRejection::JsonDataError(x) => UiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", format!("字段类型或取值不正确：{}", x.body_text())),
        JsonRejection::JsonSyntaxError(x) => UiError::new(StatusCode::BAD_REQUEST, "malformed_json", format!("请求体不是有效的 JSON：{}", x.body_text())),
        JsonRejection::MissingJsonContentType(_) => UiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "content_type", "请求须带 Content-Type: application/json"),
        other => UiError::new(other.status(), "bad_body", format!("请求体无法读取：{}", other.body_text())),
    }
}

fn path_err(e: PathRejection) -> UiError {
    UiError::bad_request(format!("路径参数不正确：{}", e.body_text()))
}

fn query_err(e: QueryRejection) -> UiError {
    UiError::bad_request(format!("查询参数不正确：{}", e.body_text()))
}

/// State-changing API calls carry the session's CSRF token in `X-CSRF-Token`.
fn csrf(a: &Auth, h: &HeaderMap) -> Result<(), UiError> {
    a.check_csrf(h.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or(""))
}

fn user_json(u: &casemix_store::User, csrf: &str) -> Value {
    json!({"login": u.login, "display_name": u.display_name, "role": u.role.as_str(), "role_zh": u.role.label_zh(), "hospital_code": u.hospital_code, "csrf_token": csrf})
}

#[derive(Deserialize)]
pub struct LoginBody {
    login: String,
    password: String,
}

pub async fn login(State(wb): State<Arc<Wb>>, h: HeaderMap, ext: Extensions, body: Result<Json<LoginBody>, JsonRejection>) -> ApiResult {
    auth::check_origin(&h)?;
    let Json(b) = body.map_err(json_err)?;
    let addr = auth::client_addr(&h, auth::peer(&ext), wb.sessions.trust_forwarded());
    match auth::attempt_login(&wb, b.login, b.password, addr).await? {
        auth::LoginOutcome::Ok(token, s) => {
            if let Some(ctx) = ext.get::<Arc<crate::http::ReqCtx>>() {
                ctx.set_user(&s.user.login);
            }
            let mut r = ok(user_json(&s.user, &s.csrf));
            r.headers_mut().insert(header::SET_COOKIE, auth::cookie_header(auth::set_cookie(&token, wb.secure_cookies)));
            Ok(r)
        }
        auth::LoginOutcome::Bad => Err(UiError::new(StatusCode::UNAUTHORIZED, "bad_credentials", "用户名或密码不正确")),
        auth::LoginOutcome::Refused(r) => {
            let code = if r.locked { "account_locked" } else { "login_throttled" };
            Ok(auth::throttled(UiError::new(StatusCode::TOO_MANY_REQUESTS, code, r.message_zh()).into_response(), &r))
        }
    }
}

pub async fn logout(State(wb): State<Arc<Wb>>, a: Auth, h: HeaderMap) -> ApiResult {
    csrf(&a, &h)?;
    auth::end_session(&wb, &a).await?;
    let mut r = ok(json!({"status": "ok"}));
    r.headers_mut().insert(header::SET_COOKIE, auth::cookie_header(auth::clear_cookie(wb.secure_cookies)));
    Ok(r)
}

pub async fn me(a: Auth) -> ApiResult {
    Ok(ok(user_json(&a.user, &a.csrf)))
}

/// The paging fields of a list answer.
fn page_json<T>(p: &casemix_store::Paged<T>) -> Value {
    json!({"total": p.total, "page": p.page, "page_size": p.size, "pages": p.pages()})
}

fn paged_query(q: Result<Query<PageQuery>, QueryRejection>) -> Result<casemix_store::PageRequest, UiError> {
    q.map(|Query(q)| q.request()).map_err(|e| UiError::bad_request(format!("分页参数 page / page_size 应为正整数：{}", e.body_text())))
}

/// Adds the paging fields to `{key: items}`.
fn with_page<T>(mut v: Value, p: &casemix_store::Paged<T>) -> Value {
    if let (Some(o), Value::Object(pj)) = (v.as_object_mut(), page_json(p)) {
        o.extend(pj);
    }
    v
}

pub async fn uploads(State(wb): State<Arc<Wb>>, a: Auth, q: Result<Query<PageQuery>, QueryRejection>) -> ApiResult {
    let page = paged_query(q)?;
    let scope = a.user.scope();
    let ups = wb.with_store(move |st| st.uploads_page(&scope, &page).map_err(|e| e.to_string())).await?;
    Ok(ok(with_page(json!({"uploads": ups.items}), &ups)))
}

#[derive(Deserialize)]
pub struct UploadQuery {
    #[serde(default)]
    hospital: String,
    period: String,
    #[serde(default)]
    file_name: String,
    /// Accept lists discharged outside `period` (bureau_admin only; logged).
    #[serde(default)]
    period_override: bool,
}

/// `POST /api/v1/uploads?hospital=&period=&file_name=[&period_override=true]` with the file as
/// the raw body.
pub async fn upload(State(wb): State<Arc<Wb>>, a: Auth, h: HeaderMap, q: Result<Query<UploadQuery>, QueryRejection>, body: Result<Bytes, BytesRejection>) -> ApiResult {
    csrf(&a, &h)?;
    let Query(q) = q.map_err(query_err)?;
    let body = body.map_err(|e| UiError::new(e.status(), "bad_body", format!("请求体无法读取（过大或中断）：{}", e.body_text())))?;
    if body.is_empty() {
        return Err(UiError::bad_request("请求体为空：请把结算清单文件作为请求体上传"));
    }
    let hospital = if a.user.role == Role::HospitalUser && q.hospital.is_empty() { a.user.hospital_code.clone().unwrap_or_default() } else { q.hospital };
    let name = if q.file_name.is_empty() { "upload.csv".to_string() } else { q.file_name };
    let id = start_upload(&wb, &a, UploadRequest { hospital, period: q.period, name, bytes: body.to_vec(), period_override: q.period_override })?;
    Ok((StatusCode::ACCEPTED, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], json!({"job_id": id, "job_url": format!("/api/v1/jobs/{id}")}).to_string()).into_response())
}

/// `GET /api/v1/uploads/{id}?page=&page_size=`: the upload, one page of its rejections, its QC report.
pub async fn upload_detail(State(wb): State<Arc<Wb>>, a: Auth, id: Result<Path<i64>, PathRejection>, q: Result<Query<PageQuery>, QueryRejection>) -> ApiResult {
    let Path(id) = id.map_err(path_err)?;
    let page = paged_query(q)?;
    let d = load_upload(&wb, &a, id, page).await?;
    let rej: Vec<Value> = d.rejections.items.iter().map(|r| json!({"line": r.line, "list_id": r.list_id, "field": r.field, "rule": r.rule, "message": r.message})).collect();
    Ok(ok(json!({"upload": d.upload, "rejections": rej, "rejections_page": page_json(&d.rejections), "qc": d.qc})))
}

pub async fn case_detail(State(wb): State<Arc<Wb>>, a: Auth, id: Result<Path<(String, String)>, PathRejection>) -> ApiResult {
    let Path((hospital, id)) = id.map_err(path_err)?;
    let d = load_case(&wb, &a, hospital, id).await?;
    Ok(ok(json!({
        "list_id": d.list.list_id,
        "hospital_code": d.hospital_code,
        "status": d.group_status,
        "drg": d.drg,
        "drg_name": d.drg_name,
        "trace": d.trace,
        "dip": d.dip,
        "pricing_steps": d.price_steps,
        "final_points": d.final_points,
        "point_value": d.point_value.map(|(p, v)| json!({"period": p, "yuan_per_point": v})),
        "payment_fen": d.payment_fen,
        "cost_fen": d.cost_fen,
        "qc": d.qc,
        "flags": d.flags,
        "versions": d.versions.iter().map(|(v, u, t, c)| json!({"version": v, "upload_id": u, "uploaded_at": t, "current": c})).collect::<Vec<_>>(),
    })))
}

/// `GET /api/v1/flags?rule=&status=&hospital=&list_id=&page=&page_size=`: one page (at most
/// 500) of the flags in scope, highest score first, with the totals.
pub async fn flags(State(wb): State<Arc<Wb>>, a: Auth, q: Result<Query<FlagQuery>, QueryRejection>) -> ApiResult {
    let Query(q) = q.map_err(query_err)?;
    let fp = flag_page(&wb, &a, &q).await?;
    let pages = fp.pages();
    let v: Vec<Value> = fp.flags.into_iter().map(|(f, d)| json!({"flag": f, "decision": d})).collect();
    Ok(ok(json!({"total": fp.total, "in_scope": fp.in_scope, "pending": fp.pending, "page": fp.page, "page_size": fp.page_size, "pages": pages, "flags": v})))
}

#[derive(Deserialize)]
pub struct DecisionBody {
    decision: String,
    reason: String,
}

pub async fn decide(State(wb): State<Arc<Wb>>, a: Auth, h: HeaderMap, id: Result<Path<String>, PathRejection>, body: Result<Json<DecisionBody>, JsonRejection>) -> ApiResult {
    csrf(&a, &h)?;
    let Path(id) = id.map_err(path_err)?;
    let Json(b) = body.map_err(json_err)?;
    let did = decide_flag(&wb, &a, id, &b.decision, b.reason).await?;
    Ok(ok(json!({"decision_id": did})))
}

pub async fn start_run(State(wb): State<Arc<Wb>>, a: Auth, h: HeaderMap) -> ApiResult {
    csrf(&a, &h)?;
    let id = start_run_job(&wb, &a)?;
    Ok((StatusCode::ACCEPTED, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], json!({"job_id": id, "job_url": format!("/api/v1/jobs/{id}")}).to_string()).into_response())
}

pub async fn job(State(wb): State<Arc<Wb>>, a: Auth, id: Result<Path<u64>, PathRejection>) -> ApiResult {
    let id = job_id(id)?;
    let j = find_job(&wb, &a, id).await?;
    Ok(ok(serde_json::to_value(j).map_err(|e| UiError::internal(e.to_string()))?))
}

/// `GET /api/v1/jobs?page=&page_size=`: the jobs in the user's scope, newest first.
pub async fn jobs(State(wb): State<Arc<Wb>>, a: Auth, q: Result<Query<PageQuery>, QueryRejection>) -> ApiResult {
    let page = paged_query(q)?;
    let p = jobs_page(&wb, &a, page).await?;
    let v = serde_json::to_value(&p.items).map_err(|e| UiError::internal(e.to_string()))?;
    Ok(ok(with_page(json!({"jobs": v}), &p)))
}

pub async fn statements(State(wb): State<Arc<Wb>>, a: Auth) -> ApiResult {
    let all = scoped_settlements(&wb, &a)?;
    Ok(ok(json!({"settlements": all})))
}

/// `GET /api/v1/audit-log?page=&page_size=`: newest first.
pub async fn audit_log(State(wb): State<Arc<Wb>>, a: Auth, q: Result<Query<PageQuery>, QueryRejection>) -> ApiResult {
    super::require(&a.user, &[Role::BureauAdmin], "查看操作日志")?;
    let page = paged_query(q)?;
    let scope = a.user.scope();
    let e = wb.with_store(move |st| st.audit_log_page(&scope, &AuditFilter::default(), &page).map_err(|e| e.to_string())).await?;
    Ok(ok(with_page(json!({"entries": e.items}), &e)))
}

pub use super::monitor_pages::{api_hospital as hospital, api_monitor as monitor};
