//! 登录锁定: the bureau_admin's view of locked or waiting accounts and addresses, and lifting a
//! lockout (page `/admin/lockouts`, API `GET /api/v1/admin/lockouts`,
//! `POST /api/v1/admin/lockouts/{login}/lift`, `POST /api/v1/admin/address-lockouts/{addr}/lift`).
//! Every lift is written to the 操作日志 (`lockout_lift`).

use super::auth::Auth;
use super::throttle::Key;
use super::{require, UiError, Wb};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use casemix_store::Role;
use maud::html;
use serde::Deserialize;
use serde_json::json;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

/// Lifts `key` and logs it; `Ok(false)` when it was neither locked nor waiting.
async fn lift(wb: &Arc<Wb>, a: &Auth, key: Key) -> Result<bool, UiError> {
    require(&a.user, &[Role::BureauAdmin], "解除登录锁定")?;
    let was = wb.sessions.throttle.lift(&key, Instant::now());
    let actor = a.user.clone();
    let (kind, object) = match &key {
        Key::Account(l) => ("account", format!("user:{l}")),
        Key::Address(ip) => ("address", format!("address:{ip}")),
    };
    wb.with_store(move |st| st.record_event(&actor, "lockout_lift", &object, None, json!({ "kind": kind, "was_blocked": was }), super::now()).map_err(|e| e.to_string())).await?;
    Ok(was)
}

fn parse_addr(s: &str) -> Result<IpAddr, UiError> {
    s.trim().parse().map_err(|_| UiError::bad_request(format!("“{}”不是有效的 IP 地址", s.chars().take(64).collect::<String>())))
}

fn csrf_header(a: &Auth, h: &HeaderMap) -> Result<(), UiError> {
    a.check_csrf(h.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or(""))
}

fn lifted_json(was: bool, what: String) -> Response {
    let msg = if was { format!("已解除{what}的登录锁定") } else { format!("{what}当前没有登录锁定") };
    super::api::ok(json!({ "lifted": was, "message": msg }))
}

pub async fn api_list(State(wb): State<Arc<Wb>>, a: Auth) -> Result<Response, UiError> {
    require(&a.user, &[Role::BureauAdmin], "查看登录锁定")?;
    Ok(super::api::ok(json!({ "lockouts": wb.sessions.throttle.blocked(Instant::now()) })))
}

pub async fn api_lift_account(State(wb): State<Arc<Wb>>, a: Auth, h: HeaderMap, p: Result<Path<String>, PathRejection>) -> Result<Response, UiError> {
    csrf_header(&a, &h)?;
    let Path(login) = p.map_err(|e| UiError::bad_request(format!("路径参数不正确：{}", e.body_text())))?;
    let label = Key::Account(login.clone()).label_zh();
    Ok(lifted_json(lift(&wb, &a, Key::Account(login)).await?, label))
}

pub async fn api_lift_address(State(wb): State<Arc<Wb>>, a: Auth, h: HeaderMap, p: Result<Path<String>, PathRejection>) -> Result<Response, UiError> {
    csrf_header(&a, &h)?;
    let Path(addr) = p.map_err(|e| UiError::bad_request(format!("路径参数不正确：{}", e.body_text())))?;
    let ip = parse_addr(&addr)?;
    Ok(lifted_json(lift(&wb, &a, Key::Address(ip)).await?, Key::Address(ip).label_zh()))
}

pub async fn page(State(wb): State<Arc<Wb>>, a: Auth) -> Result<Response, UiError> {
    require(&a.user, &[Role::BureauAdmin], "查看登录锁定").map_err(UiError::page)?;
    let rows = wb.sessions.throttle.blocked(Instant::now());
    let p = super::throttle::ACCOUNT;
    let q = super::throttle::ADDRESS;
    let body = html! {
        p.muted {
            "账户连续登录失败 " (p.lock_after) " 次锁定 " (p.lockout.as_secs() / 60) " 分钟（前 " (p.free_failures) " 次失败不等待，之后每次等待时间加倍）；"
            "同一客户端地址失败 " (q.lock_after) " 次锁定 " (q.lockout.as_secs() / 60) " 分钟。锁定状态保存在服务进程内存中，服务重启后清空；每次失败、锁定与解除都记入操作日志。"
        }
        @if rows.is_empty() {
            p #no-lockouts { "当前没有被锁定或等待中的账户与地址。" }
        } @else {
            table #tbl-lockouts {
                thead { tr { th { "类型" } th { "账户 / 地址" } th.num { "失败次数" } th { "状态" } th { "锁定时间" } th.num { "剩余秒数" } th { "操作" } } }
                tbody { @for r in &rows { tr {
                    td { (if r.kind == "account" { "账户" } else { "地址" }) }
                    td { (r.key) }
                    td.num { (r.failures) }
                    td { (if r.locked { "已锁定" } else { "等待中" }) }
                    td { (r.locked_at) }
                    td.num { (r.retry_after) }
                    td { form method="post" action="/admin/lockouts/lift" {
                        input type="hidden" name="csrf" value=(a.csrf);
                        input type="hidden" name="kind" value=(r.kind);
                        input type="hidden" name="key" value=(r.key);
                        button.primary type="submit" { "解除锁定" }
                    } }
                } } }
            }
        }
    };
    Ok(Html(super::layout::page("登录锁定", &wb.region_label(), Some(&a.user), &a.csrf, "/admin/lockouts", body).into_string()).into_response())
}

#[derive(Deserialize)]
pub struct LiftForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    key: String,
}

pub async fn page_lift(State(wb): State<Arc<Wb>>, a: Auth, Form(f): Form<LiftForm>) -> Result<Response, UiError> {
    a.check_csrf(&f.csrf).map_err(UiError::page)?;
    let key = match f.kind.as_str() {
        "account" => Key::Account(f.key),
        "address" => Key::Address(parse_addr(&f.key).map_err(UiError::page)?),
        _ => return Err(UiError::new(StatusCode::BAD_REQUEST, "bad_request", "kind 应为 account 或 address").page()),
    };
    lift(&wb, &a, key).await.map_err(UiError::page)?;
    Ok(Redirect::to("/admin/lockouts").into_response())
}
