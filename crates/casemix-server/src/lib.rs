//! `casemix-server`: the pre-grouping HTTP API for hospital systems (JSON over HTTP, axum).
//!
//! Endpoints (documented in `openapi.json`, served at `GET /api/openapi.json`):
//! - `GET /api/health` — scheme id and title, version, what pricing is loaded;
//! - `POST /api/v1/group[?explain=true]` — one case object, or `{"cases": [...]}` (at most
//!   [`MAX_CASES`]); each case keyed by settlement-list English keys or Chinese labels; answers
//!   the group, its names, and (with weights / a policy loaded) RW, points and expected payment.
//!
//! Errors are JSON `{"code": "<stable_snake_case>", "message": "<中文>"}`. Client input never
//! produces a 5xx: a bad field of one case makes that case `输入错误`, not the whole request.
//! This crate is an edge: it owns the HTTP; grouping and pricing stay in the pure core crates.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use casemix_grouper::{Grouper, TraceLine};
use casemix_model::{Fen, Field, SettlementList};
use casemix_policy::{Model, Policy};
use casemix_pricing::{CaseFlags, CaseInput, Decimal, Pricer, RateTable};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;

pub mod http;
pub mod ui;

/// Most cases one request may carry (issue: "one case (or up to 10,000)").
pub const MAX_CASES: usize = 10_000;
/// Default request body limit: 10,000 full settlement lists fit well inside 32 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 32 * 1024 * 1024;
/// Batches larger than this are grouped on the blocking pool, off the async workers.
pub const BLOCKING_BATCH: usize = 64;
/// The `status` of a case whose fields could not be read.
pub const INPUT_ERROR_STATUS: &str = "输入错误";
/// The OpenAPI 3.0 document of this API.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

/// What pricing the server does, built once at start.
pub struct Pricing {
    /// DRG → RW, from the `rw` column of weights.csv.
    rw: BTreeMap<String, Decimal>,
    rates: &'static RateTable,
    /// With a policy: the compiled pricer (method, coefficient, outliers, final points).
    pricer: Option<Pricer<'static>>,
    point_value: Option<Decimal>,
    region: Option<String>,
}

impl Pricing {
    /// Builds pricing from the text of `weights.csv`, an optional DRG points policy and an
    /// optional point value (yuan per point). Without a policy, base points are the `points`
    /// column or RW × 100 (payment.md §3 default scale) and no payment is computed.
    ///
    /// The rate table and the policy live as long as the process (they are leaked once here so
    /// that the pricer can borrow them from every request).
    pub fn new(weights_csv: &str, policy: Option<Policy>, point_value: Option<Decimal>) -> Result<Pricing, String> {
        let scale = policy.as_ref().map(|p| p.policy.points_scale.0).unwrap_or(Decimal::ONE_HUNDRED);
        if let Some(p) = &policy {
            if p.policy.model != Model::DrgPoints {
                return Err("预分组服务目前只支持 DRG 点数法政策 (policy.model = drg_points)".into());
            }
        }
        let rates = RateTable::from_weights_csv(weights_csv, scale)
            .map_err(|e| format!("权重表有错误：{}", e.iter().take(10).map(|x| x.to_string()).collect::<Vec<_>>().join("；")))?;
        let rw = read_rw(weights_csv)?;
        let rates: &'static RateTable = Box::leak(Box::new(rates));
        let region = policy.as_ref().map(|p| p.policy.region.clone());
        let pricer = policy.map(|p| {
            let p: &'static Policy = Box::leak(Box::new(p));
            Pricer::new(p, rates, &[])
        });
        Ok(Pricing { rw, rates, pricer, point_value, region })
    }
}

/// The `drg` and `rw` columns of weights.csv (rw may be empty for 待定 groups).
fn read_rw(text: &str) -> Result<BTreeMap<String, Decimal>, String> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let h = rdr.headers().map_err(|e| format!("权重表表头无法读取：{e}"))?.clone();
    let (Some(cd), Some(cr)) = (h.iter().position(|x| x.trim() == "drg"), h.iter().position(|x| x.trim() == "rw")) else {
        return Ok(BTreeMap::new());
    };
    let mut out = BTreeMap::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| format!("权重表无法读取：{e}"))?;
        if let (Some(d), Some(r)) = (rec.get(cd), rec.get(cr)) {
            if let Ok(v) = Decimal::from_str(r.trim()) {
                out.insert(d.trim().to_string(), v);
            }
        }
    }
    Ok(out)
}

/// Shared state of every request.
#[derive(Clone)]
pub struct AppState {
    pub grouper: Arc<Grouper>,
    pub pricing: Option<Arc<Pricing>>,
    /// Request body limit in bytes (default [`DEFAULT_BODY_LIMIT`]).
    pub body_limit: usize,
    /// The workbench (web UI and its API) when serving a data directory.
    pub workbench: Option<Arc<ui::Wb>>,
}

impl AppState {
    pub fn new(grouper: Grouper) -> AppState {
        AppState { grouper: Arc::new(grouper), pricing: None, body_limit: DEFAULT_BODY_LIMIT, workbench: None }
    }
}

/// The router of the whole API.
pub fn router(state: AppState) -> Router {
    let limit = state.body_limit;
    let wb = state.workbench.clone();
    let mut r = Router::new()
        .route("/api/health", get(health))
        .route("/api/openapi.json", get(openapi))
        .route("/api/v1/group", post(group))
        .with_state(state);
    if let Some(wb) = wb {
        wb.sessions.set_body_limit(limit);
        r = r.merge(ui::router(wb));
    }
    r.fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(Arc::new(http::HttpConfig::new(limit)), http::layer))
}

/// Serves the API on a bound listener until the process ends (the peer address of each
/// connection is kept for login throttling).
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(listener, router(state).into_make_service_with_connect_info::<std::net::SocketAddr>()).await
}

/// A JSON error: stable code, HTTP status and a Chinese message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "code": self.code, "message": self.message });
        (self.status, json_headers(), body.to_string()).into_response()
    }
}

fn json_headers() -> [(header::HeaderName, &'static str); 1] {
    [(header::CONTENT_TYPE, "application/json; charset=utf-8")]
}

fn json_response<T: Serialize>(v: &T) -> Response {
    match serde_json::to_string(v) {
        Ok(s) => (StatusCode::OK, json_headers(), s).into_response(),
        Err(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", format!("结果无法序列化：{e}")).into_response(),
    }
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "接口不存在 (no such endpoint)；接口说明见 /api/openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "该接口不支持此请求方法 (method not allowed)；见 /api/openapi.json")
}

async fn openapi() -> Response {
    (StatusCode::OK, json_headers(), OPENAPI_JSON).into_response()
}

async fn health(State(st): State<AppState>) -> Response {
    let g = &st.grouper;
    let pricing = st.pricing.as_ref().map(|p| {
        serde_json::json!({
            "weights": p.rates.groups.len(),
            "policy": p.region,
            "point_value": p.point_value.map(|v| v.normalize().to_string()),
        })
    });
    json_response(&serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "scheme": { "id": g.id(), "title": g.title() },
        "pricing": pricing,
        "max_cases": MAX_CASES,
    }))
}

#[derive(Debug, Deserialize)]
struct GroupQuery {
    #[serde(default)]
    explain: bool,
}

/// One field error of a case.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CaseError {
    /// English key of the field (or the JSON key as sent, when it names no field).
    pub field: String,
    pub rule: String,
    pub message: String,
}

/// The answer for one case.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CaseResult {
    /// `list_id` of the case (empty when not given).
    pub id: String,
    pub status: String,
    pub mdc: String,
    pub adrg: String,
    pub drg: String,
    pub drg_name: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<CaseError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Vec<TraceLine>>,
    /// Relative weight from weights.csv (decimal string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rw: Option<String>,
    /// Base points of the DRG (decimal string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_points: Option<String>,
    /// Final points of the case (4 decimals; with a policy: after coefficient and outlier rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method_zh: Option<String>,
    /// Expected payment in yuan (2 decimals), with a policy and a point value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing_explanation: Option<String>,
}

#[derive(Serialize)]
struct BatchOut<'a> {
    scheme: &'a str,
    count: usize,
    results: Vec<CaseResult>,
}

async fn group(
    State(st): State<AppState>,
    q: Result<Query<GroupQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let explain = match q {
        Ok(Query(q)) => q.explain,
        Err(e) => return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", format!("查询参数无法读取（explain 应为 true 或 false）：{}", e.body_text()))),
    };
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", format!("请求体超过上限 {} 字节 (body too large)", st.body_limit))
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", format!("请求体无法读取：{}", e.body_text()))
        }
    })?;
    // a UTF-8 byte-order mark (sent by some Windows clients) is not part of the JSON
    let text: &[u8] = body.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(&body);
    let v: Value = serde_json::from_slice(text).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", format!("请求体不是合法的 JSON（第 {} 行第 {} 列）：{e}", e.line(), e.column()))
    })?;
    match v {
        Value::Object(mut o) if o.contains_key("cases") => {
            let Some(Value::Array(cases)) = o.remove("cases") else {
                return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_case", "cases 必须是病例对象的数组 (array of case objects)"));
            };
            if cases.len() > MAX_CASES {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "too_many_cases",
                    format!("一次最多 {MAX_CASES} 例，本次 {} 例；请分批提交", cases.len()),
                ));
            }
            let results = if cases.len() > BLOCKING_BATCH {
                let st2 = st.clone();
                tokio::task::spawn_blocking(move || group_all(&st2, &cases, explain))
                    .await
                    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", format!("分组任务异常终止：{e}")))?
            } else {
                group_all(&st, &cases, explain)
            };
            Ok(json_response(&BatchOut { scheme: st.grouper.id(), count: results.len(), results }))
        }
        Value::Object(o) => Ok(json_response(&group_one(&st, &o, explain))),
        _ => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_case",
            "请求体应为一个病例对象，或 {\"cases\": [病例对象, …]} (a case object or {\"cases\": [...]})",
        )),
    }
}

fn group_all(st: &AppState, cases: &[Value], explain: bool) -> Vec<CaseResult> {
    cases
        .iter()
        .enumerate()
        .map(|(i, c)| match c {
            Value::Object(o) => group_one(st, o, explain),
            _ => CaseResult {
                status: INPUT_ERROR_STATUS.into(),
                message: format!("第 {} 例不是 JSON 对象 (case {} is not an object)", i + 1, i + 1),
                errors: vec![CaseError { field: String::new(), rule: "case_object".into(), message: format!("第 {} 例不是 JSON 对象", i + 1) }],
                ..Default::default()
            },
        })
        .collect()
}

/// The text of one JSON value as a settlement-list cell: strings as is, numbers in JSON form,
/// arrays joined with `|` (diagnoses, procedures…), null as empty. Objects and booleans are refused.
fn cell(v: &Value) -> Result<String, &'static str> {
    Ok(match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => {
            let mut parts = Vec::with_capacity(a.len());
            for x in a {
                parts.push(match x {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Null => String::new(),
                    _ => return Err("数组元素须为字符串或数值"),
                });
            }
            parts.join("|")
        }
        Value::Bool(_) => return Err("取值须为字符串、数值、数组或 null，不能是布尔值"),
        Value::Object(_) => return Err("取值须为字符串、数值、数组或 null，不能是对象"),
    })
}

/// Reads a case object into a settlement list; unknown keys are ignored.
pub fn case_from_object(o: &serde_json::Map<String, Value>) -> (SettlementList, Vec<CaseError>) {
    let mut l = SettlementList::default();
    let mut errors = Vec::new();
    for (k, v) in o {
        let Some(f) = Field::from_header(k) else { continue };
        match cell(v) {
            Ok(s) => {
                if let Err(e) = l.set_field(f, &s) {
                    errors.push(CaseError { field: f.key().into(), rule: e.rule.into(), message: e.message });
                }
            }
            Err(why) => errors.push(CaseError {
                field: f.key().into(),
                rule: "json_type".into(),
                message: format!("{}({}){why}", f.label_zh(), f.key()),
            }),
        }
    }
    // the same domains the file importers apply at parse (casemix-model FieldDomains): an
    // amount such as 92233720368547758.07 is refused here, never priced
    if errors.is_empty() {
        for v in l.domain_violations(&casemix_model::FieldDomains::default()) {
            errors.push(CaseError { field: v.field, rule: casemix_model::DomainViolation::RULE.into(), message: v.message });
        }
    }
    (l, errors)
}

fn group_one(st: &AppState, o: &serde_json::Map<String, Value>, explain: bool) -> CaseResult {
    let (l, errors) = case_from_object(o);
    if !errors.is_empty() {
        return CaseResult {
            id: l.list_id.clone(),
            status: INPUT_ERROR_STATUS.into(),
            message: errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("；"),
            errors,
            ..Default::default()
        };
    }
    let input = l.group_input();
    let (r, trace) = if explain {
        let (r, t) = st.grouper.explain(&input);
        (r, Some(t.lines))
    } else {
        (st.grouper.group(&input), None)
    };
    let mut out = CaseResult {
        id: l.list_id.clone(),
        status: r.status.into(),
        mdc: r.mdc.into(),
        adrg: r.adrg.into(),
        drg: r.drg.into(),
        drg_name: r.drg_name.into(),
        message: r.message.into(),
        errors: Vec::new(),
        trace,
        ..Default::default()
    };
    if let Some(p) = &st.pricing {
        price(p, &l, r.is_grouped(), &mut out, explain);
    }
    out
}

/// Adds RW, points, method and expected payment to a grouped case.
fn price(p: &Pricing, l: &SettlementList, grouped: bool, out: &mut CaseResult, explain: bool) {
    let gi = if grouped { p.rates.get(&out.drg) } else { None };
    if let Some(gi) = gi {
        out.rw = p.rw.get(&out.drg).map(|x| x.normalize().to_string());
        out.base_points = Some(p.rates.group(gi).base_points.normalize().to_string());
    }
    match &p.pricer {
        None => {
            // weights only: the case's points are the group's base points.
            out.points = out.base_points.clone();
        }
        Some(pricer) => {
            let c = case_input(l, grouped.then_some(out.drg.as_str()));
            let cp = pricer.price(&c, CaseFlags::default());
            out.points = Some(format!("{:.4}", cp.final_points));
            out.method = Some(cp.method.code().into());
            out.method_zh = Some(cp.method.label_zh().into());
            if let Some(v) = p.point_value {
                out.payment = Some(cp.payment(v).to_yuan_string());
            }
            if explain {
                out.pricing_explanation = Some(cp.explanation_zh());
            }
        }
    }
}

/// The pricing input of one case (what a settlement list contributes; the group from the grouper).
fn case_input(l: &SettlementList, drg: Option<&str>) -> CaseInput {
    use chrono::Datelike;
    let (year, month) = l.discharge_time.map(|d| (d.year(), d.month())).unwrap_or((0, 0));
    CaseInput {
        list_id: l.list_id.clone(),
        hospital_code: l.hospital_code.clone().unwrap_or_default(),
        group: drg.map(str::to_string),
        grouped_ok: drg.is_some(),
        total_cost: l.total_cost.unwrap_or_else(|| l.fee_sum()),
        selfpay: l.selfpay_items.unwrap_or(Fen::ZERO),
        excluded_items: Vec::new(),
        los_days: l.los_days.unwrap_or(0),
        leaving_type: l.leaving_type.map(|x| x.code()),
        year,
        month,
        others_paid: [l.personal_pay, l.supplementary_pay, l.assistance_pay].iter().map(|f| f.unwrap_or(Fen::ZERO)).sum(),
        aux_factor: None,
        insured_id: l.insured_id.clone().unwrap_or_default(),
        admit_day: None,
        discharge_day: None,
        qc_errors: 0,
        qc_accepted: false,
    }
}
