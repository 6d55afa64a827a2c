//! 运行监测 dashboard and hospital view: handlers (scope, parameters, exports). Data comes from
//! casemix-lake (DataFusion over the Parquet case data); rendering is monitor.rs.

use super::auth::Auth;
use super::monitor::{dashboard_table, hospital_body, hospital_table, monitor_body, MonitorCtx, DASHBOARD_TABLES, HOSPITAL_TABLES};
use super::pages::xlsx_response;
use super::{api::ok, UiError, Wb};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use casemix_lake::{Dashboard, DashboardConfig, DashboardQuery, HospitalQuery, HospitalView, Level, Range};
use casemix_store::Role;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize, Default, Debug)]
pub struct MonitorParams {
    #[serde(default)]
    level: String,
    #[serde(default)]
    tier: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    hospital: String,
    #[serde(default)]
    dept: String,
    #[serde(default)]
    drg: String,
    #[serde(default)]
    flagged: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    desc: String,
    #[serde(default)]
    page: String,
}

fn lake_err(e: casemix_lake::LakeError) -> UiError {
    UiError::bad_request(e.to_string())
}

/// The period asked for, defaulting to the policy year.
fn range(wb: &Wb, p: &MonitorParams) -> Result<Range, UiError> {
    let y = wb.wb.engine.year();
    let from = if p.from.is_empty() { format!("{y}-01") } else { p.from.clone() };
    let to = if p.to.is_empty() { format!("{y}-12") } else { p.to.clone() };
    Range::parse(&from, &to).map_err(lake_err)
}

fn scope_of(a: &Auth) -> Option<String> {
    match a.user.role {
        Role::HospitalUser => Some(a.user.hospital_code.clone().unwrap_or_default()),
        _ => None,
    }
}

fn ctx(wb: &Wb, a: &Auth) -> MonitorCtx {
    let mut tiers: Vec<String> = wb.wb.engine.hospitals.iter().map(|h| h.level.clone()).filter(|l| !l.is_empty()).collect();
    tiers.sort();
    tiers.dedup();
    // under a hospital user's scope the dashboard lists only their own hospital, which they may open
    let _ = a;
    MonitorCtx { tiers, drill: true }
}

async fn load_dashboard(wb: &Arc<Wb>, a: &Auth, p: &MonitorParams) -> Result<Dashboard, UiError> {
    let level = if p.level.is_empty() { Level::Region } else { Level::parse(&p.level).map_err(lake_err)? };
    let q = DashboardQuery { level, range: range(wb, p)?, region: None, tier: (!p.tier.is_empty()).then(|| p.tier.clone()) };
    let lake = wb.lake().await?;
    let scope = scope_of(a);
    lake.dashboard(scope.as_deref(), &q, &DashboardConfig::default()).await.map_err(lake_err)
}

async fn load_hospital(wb: &Arc<Wb>, a: &Auth, code: &str, p: &MonitorParams) -> Result<HospitalView, UiError> {
    if !a.user.scope().allows(code) {
        return Err(UiError::not_found("医院"));
    }
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let q = HospitalQuery::from_params(
        code,
        range(wb, p)?,
        opt(&p.dept).as_deref(),
        opt(&p.drg).as_deref(),
        opt(&p.flagged).as_deref(),
        opt(&p.sort).as_deref(),
        opt(&p.desc).as_deref(),
        opt(&p.page).as_deref(),
    )
    .map_err(lake_err)?;
    let lake = wb.lake().await?;
    let scope = scope_of(a);
    let v = lake.hospital_view(scope.as_deref(), &q).await.map_err(lake_err)?;
    if v.indicators.cases == 0 && wb.wb.engine.hospital(code).is_none() {
        return Err(UiError::not_found("医院"));
    }
    Ok(v)
}

fn params(q: Result<Query<MonitorParams>, QueryRejection>) -> Result<MonitorParams, UiError> {
    q.map(|Query(p)| p).map_err(|e| UiError::bad_request(format!("查询参数不正确：{}", e.body_text())))
}

pub async fn monitor(State(wb): State<Arc<Wb>>, a: Auth, q: Result<Query<MonitorParams>, QueryRejection>) -> Result<Response, UiError> {
    let p = params(q).map_err(UiError::page)?;
    let d = load_dashboard(&wb, &a, &p).await.map_err(UiError::page)?;
    let body = monitor_body(&d, &ctx(&wb, &a));
    let title = if a.user.role == Role::HospitalUser { "运行监测（本院）" } else { "运行监测" };
    Ok(Html(super::layout::page(title, &wb.region_label(), Some(&a.user), &a.csrf, "/monitor", body).into_string()).into_response())
}

pub async fn my_hospital(a: Auth) -> Redirect {
    match (&a.user.role, &a.user.hospital_code) {
        (Role::HospitalUser, Some(h)) => Redirect::to(&format!("/hospitals/{}", super::monitor::enc(h))),
        _ => Redirect::to("/monitor?level=hospital"),
    }
}

pub async fn hospital(State(wb): State<Arc<Wb>>, a: Auth, Path(code): Path<String>, q: Result<Query<MonitorParams>, QueryRejection>) -> Result<Response, UiError> {
    let p = params(q).map_err(UiError::page)?;
    let v = load_hospital(&wb, &a, &code, &p).await.map_err(UiError::page)?;
    let title = format!("{} {}", v.hospital_code, v.hospital_name);
    let body = hospital_body(&v, &ctx(&wb, &a));
    Ok(Html(super::layout::page(&title, &wb.region_label(), Some(&a.user), &a.csrf, if a.user.role == Role::HospitalUser { "/hospital" } else { "/monitor" }, body).into_string()).into_response())
}

/// `/export/<name>.xlsx?<the page's query>`: any dashboard or hospital-view table as Excel.
pub async fn export(State(wb): State<Arc<Wb>>, a: Auth, Path(file): Path<String>, q: Result<Query<MonitorParams>, QueryRejection>) -> Result<Response, UiError> {
    let p = params(q).map_err(UiError::page)?;
    let name = file.strip_suffix(".xlsx").ok_or_else(|| UiError::not_found("导出文件").page())?;
    let table = if DASHBOARD_TABLES.contains(&name) {
        let d = load_dashboard(&wb, &a, &p).await.map_err(UiError::page)?;
        dashboard_table(&d, name)
    } else if HOSPITAL_TABLES.contains(&name) {
        let code = if p.hospital.is_empty() { a.user.hospital_code.clone().unwrap_or_default() } else { p.hospital.clone() };
        let v = load_hospital(&wb, &a, &code, &p).await.map_err(UiError::page)?;
        hospital_table(&v, name)
    } else {
        None
    };
    let (headers, rows) = table.ok_or_else(|| UiError::not_found(&format!("表格“{name}”")).page())?;
    let rows = rows.into_iter().map(|r| r.into_iter().map(casemix_io::XlsxCell::Text).collect()).collect();
    xlsx_response(&format!("{name}.xlsx"), &[casemix_io::XlsxSheet { name: name.to_string(), headers, rows }])
}

pub async fn api_monitor(State(wb): State<Arc<Wb>>, a: Auth, q: Result<Query<MonitorParams>, QueryRejection>) -> Result<Response, UiError> {
    let p = params(q)?;
    let d = load_dashboard(&wb, &a, &p).await?;
    Ok(ok(serde_json::to_value(&d).map_err(|e| UiError::internal(e.to_string()))?))
}

pub async fn api_hospital(State(wb): State<Arc<Wb>>, a: Auth, Path(code): Path<String>, q: Result<Query<MonitorParams>, QueryRejection>) -> Result<Response, UiError> {
    let p = params(q)?;
    let v = load_hospital(&wb, &a, &code, &p).await?;
    Ok(ok(serde_json::to_value(&v).map_err(|e| UiError::internal(e.to_string()))?))
}
