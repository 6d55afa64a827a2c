//! The HTML pages. Each handler: who may see it, what it reads (scoped), what it renders.

use super::auth::{self, Auth};
use super::jobs::JobState;
use super::layout::{page, yuan};
use super::{now, require, UiError, Wb};
use axum::extract::rejection::FormRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, Extensions, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use casemix_store::{AuditFilter, DecisionKind, Role, Scope};
use casemix_workbench::{FlagRecord, QcReport, RunRecord};
use maud::{html, Markup};
use serde::Deserialize;
use std::sync::Arc;

type Page = Result<Response, UiError>;

fn render(wb: &Wb, a: &Auth, title: &str, active: &str, body: Markup) -> Response {
    Html(page(title, &wb.region_label(), Some(&a.user), &a.csrf, active, body).into_string()).into_response()
}

pub async fn home(_a: Auth) -> Redirect {
    Redirect::to("/monitor")
}

// ------------------------------------------------------------------ login

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

fn login_page(wb: &Wb, h: &HeaderMap, error: Option<&str>, status: StatusCode) -> Response {
    let insecure = auth::secure_cookie_lost(h, wb.secure_cookies);
    let body = html! {
        div.box style="max-width:380px" {
            @if insecure { div.alert #insecure-transport { (auth::INSECURE_TRANSPORT_ZH) } }
            @if let Some(e) = error { div.alert #login-error { (e) } }
            form method="post" action="/login" #login-form {
                p { label { "用户名 " input type="text" name="login" autocomplete="username" required autofocus; } }
                p { label { "密　码 " input type="password" name="password" autocomplete="current-password" required; } }
                p { button.primary type="submit" #login-submit { "登录" } }
            }
        }
    };
    (status, Html(page("登录", &wb.region_label(), None, "", "", body).into_string())).into_response()
}

pub async fn login_form(State(wb): State<Arc<Wb>>, h: HeaderMap) -> Response {
    login_page(&wb, &h, None, StatusCode::OK)
}

pub async fn login(State(wb): State<Arc<Wb>>, h: HeaderMap, ext: Extensions, f: Result<Form<LoginForm>, FormRejection>) -> Response {
    if let Err(e) = auth::check_origin(&h) {
        return login_page(&wb, &h, Some(&e.message), e.status);
    }
    let Ok(Form(f)) = f else {
        return login_page(&wb, &h, Some("登录表单无法读取：请填写用户名和密码"), StatusCode::BAD_REQUEST);
    };
    let addr = auth::client_addr(&h, auth::peer(&ext), wb.sessions.trust_forwarded());
    match auth::attempt_login(&wb, f.login, f.password, addr).await {
        Ok(auth::LoginOutcome::Ok(token, s)) => {
            if let Some(ctx) = ext.get::<Arc<crate::http::ReqCtx>>() {
                ctx.set_user(&s.user.login);
            }
            let mut r = Redirect::to("/monitor").into_response();
            r.headers_mut().insert(header::SET_COOKIE, auth::cookie_header(auth::set_cookie(&token, wb.secure_cookies)));
            r
        }
        Ok(auth::LoginOutcome::Bad) => login_page(&wb, &h, Some("用户名或密码不正确"), StatusCode::UNAUTHORIZED),
        Ok(auth::LoginOutcome::Refused(r)) => auth::throttled(login_page(&wb, &h, Some(&r.message_zh()), StatusCode::TOO_MANY_REQUESTS), &r),
        Err(e) => e.page().into_response(),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(State(wb): State<Arc<Wb>>, a: Auth, Form(f): Form<CsrfForm>) -> Page {
    a.check_csrf(&f.csrf).map_err(UiError::page)?;
    auth::end_session(&wb, &a).await.map_err(UiError::page)?;
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().insert(header::SET_COOKIE, auth::cookie_header(auth::clear_cookie(wb.secure_cookies)));
    Ok(r)
}

// ------------------------------------------------------------------ monitor and hospital view

pub use super::monitor_pages::{export, hospital, monitor, my_hospital};

// ------------------------------------------------------------------ uploads

pub async fn uploads(State(wb): State<Arc<Wb>>, a: Auth) -> Page {
    let scope = a.user.scope();
    let ups = wb.with_store(move |st| st.uploads(&scope).map_err(|e| e.to_string())).await.map_err(UiError::page)?;
    let can_upload = matches!(a.user.role, Role::BureauAdmin | Role::HospitalUser);
    let hospitals: Vec<(String, String)> = wb.wb.engine.hospitals.iter().map(|h| (h.code.clone(), h.name.clone())).collect();
    let body = html! {
        @if can_upload {
            div.box {
                h2 { "上传结算清单" }
                p.muted { "支持 CSV（UTF-8 / GBK）、JSON Lines、Excel（.xlsx）。同一清单号重复上传时以新版本参与计算，旧版本留档；整批上传要么全部生效，要么全部不生效。" }
                p.muted #upload-limit { "单次上传（文件连同表单）不超过 " (wb.sessions.body_limit_mib()) " MiB；更大的文件请拆分后分批上传。" }
                form method="post" action="/uploads" enctype="multipart/form-data" #upload-form {
                    input type="hidden" name="csrf" value=(a.csrf);
                    @if a.user.role == Role::HospitalUser {
                        input type="hidden" name="hospital" value=(a.user.hospital_code.clone().unwrap_or_default());
                    } @else {
                        label { "医院 " select name="hospital" required {
                            @for (c, n) in &hospitals { option value=(c) { (c) " " (n) } }
                        } }
                    }
                    label { "结算期间 " input type="month" name="period" required pattern="[0-9]{4}-[0-9]{2}" placeholder="2024-01"; }
                    label { "文件 " input type="file" name="file" required accept=".csv,.xlsx,.jsonl,.txt"; }
                    button.primary type="submit" #upload-submit { "上传并质控" }
                }
            }
        }
        h2 { "上传记录" }
        table.sortable #tbl-uploads {
            thead { tr { th { "编号" } th { "医院" } th { "期间" } th { "文件" } th.num { "清单数" } th.num { "新增" } th.num { "更新" } th.num { "未变" } th.num { "拒收" } th { "上传人" } th { "时间" } th { "质控报告" } } }
            tbody {
                @for u in ups.iter().rev() {
                    tr {
                        td { (u.id) } td { (u.hospital_code) } td { (u.period) } td { (u.file_name) }
                        td.num { (u.record_count) } td.num { (u.new_count) } td.num { (u.changed_count) } td.num { (u.unchanged_count) }
                        td.num { (u.rejected_count) } td { (u.uploaded_by) } td { (u.uploaded_at.get(..19).unwrap_or(&u.uploaded_at)) }
                        td { a href={ "/uploads/" (u.id) } { "查看" } }
                    }
                }
            }
        }
    };
    Ok(render(&wb, &a, "数据上传与质控", "/uploads", body))
}

/// Reads the multipart upload form: (csrf, hospital, period, file name, bytes).
async fn read_upload_form(mut mp: Multipart) -> Result<(String, String, String, String, Vec<u8>), UiError> {
    let (mut csrf, mut hospital, mut period, mut name, mut bytes) = (String::new(), String::new(), String::new(), String::new(), None);
    while let Some(field) = mp.next_field().await.map_err(|e| UiError::bad_request(format!("上传表单无法读取：{e}")))? {
        match field.name().unwrap_or("") {
            "csrf" => csrf = field.text().await.map_err(|e| UiError::bad_request(e.to_string()))?,
            "hospital" => hospital = field.text().await.map_err(|e| UiError::bad_request(e.to_string()))?.trim().to_string(),
            "period" => period = field.text().await.map_err(|e| UiError::bad_request(e.to_string()))?.trim().to_string(),
            "file" => {
                name = field.file_name().unwrap_or("upload.csv").to_string();
                bytes = Some(field.bytes().await.map_err(|e| UiError::bad_request(format!("文件无法读取：{e}")))?.to_vec());
            }
            _ => {}
        }
    }
    let bytes = bytes.filter(|b| !b.is_empty()).ok_or_else(|| UiError::bad_request("请选择要上传的文件（file 为空）"))?;
    Ok((csrf, hospital, period, name, bytes))
}

/// Starts an upload job: checks role, hospital scope, period; the job reads, stores and QCs.
pub fn start_upload(wb: &Arc<Wb>, a: &Auth, hospital: String, period: String, name: String, bytes: Vec<u8>) -> Result<u64, UiError> {
    require(&a.user, &[Role::BureauAdmin, Role::HospitalUser], "上传结算清单")?;
    if !a.user.scope().allows(&hospital) {
        return Err(UiError::forbidden(&format!("为医院“{hospital}”上传")));
    }
    if hospital.is_empty() {
        return Err(UiError::bad_request("请选择医院（hospital 为空）"));
    }
    if wb.wb.engine.hospital(&hospital).is_none() && !wb.wb.engine.hospitals.is_empty() {
        return Err(UiError::bad_request(format!("医院编号“{hospital}”不在本统筹区医院名录中")));
    }
    let ok = period.len() == 7 && period.as_bytes()[4] == b'-' && period[..4].bytes().all(|b| b.is_ascii_digit()) && matches!(period[5..].parse::<u32>(), Ok(1..=12));
    if !ok {
        return Err(UiError::bad_request(format!("结算期间 period“{period}”应为 YYYY-MM")));
    }
    let id = wb.jobs.start("上传", &a.user.login, Some(hospital.clone()));
    let me = wb.clone();
    let user = a.user.clone();
    tokio::task::spawn_blocking(move || {
        let report = me.jobs.reporter(id);
        let res = {
            let mut st = match me.store.lock() {
                Ok(s) => s,
                Err(_) => return me.jobs.finish(id, JobState::Failed { message: "数据库连接不可用".into() }),
            };
            me.wb.import(&mut st, &hospital, &period, &name, &bytes, &user, now(), &report)
        };
        me.jobs.finish(
            id,
            match res {
                Ok(o) => JobState::Done {
                    url: format!("/uploads/{}", o.summary.upload_id),
                    message: format!(
                        "上传 #{}：{} 份清单，新增 {}，更新 {}，未变 {}，拒收 {}；质控错误清单 {} 份",
                        o.summary.upload_id, o.summary.records, o.summary.new, o.summary.changed, o.summary.unchanged, o.summary.rejected, o.qc.lists_with_errors
                    ),
                },
                Err(e) => JobState::Failed { message: e },
            },
        );
    });
    Ok(id)
}

pub async fn upload(State(wb): State<Arc<Wb>>, a: Auth, mp: Multipart) -> Page {
    let (csrf, hospital, period, name, bytes) = read_upload_form(mp).await.map_err(UiError::page)?;
    a.check_csrf(&csrf).map_err(UiError::page)?;
    let hospital = if a.user.role == Role::HospitalUser { a.user.hospital_code.clone().unwrap_or_default() } else { hospital };
    let id = start_upload(&wb, &a, hospital, period, name, bytes).map_err(UiError::page)?;
    Ok(Redirect::to(&format!("/jobs/{id}")).into_response())
}

pub async fn job(State(wb): State<Arc<Wb>>, a: Auth, Path(id): Path<u64>) -> Page {
    let j = wb.jobs.get(id).filter(|j| a.user.role != Role::HospitalUser || j.hospital_code == a.user.hospital_code).ok_or_else(|| UiError::not_found("任务").page())?;
    if let JobState::Done { url, .. } = &j.state {
        if j.kind == "上传" {
            return Ok(Redirect::to(url).into_response());
        }
    }
    let pct = if j.total > 0 { j.done * 100 / j.total } else { 0 };
    let body = html! {
        div.box #job data-state=(match &j.state { JobState::Running => "running", JobState::Done { .. } => "done", JobState::Failed { .. } => "failed" }) {
            p { "任务 #" (j.id) "：" (j.kind) "（" (j.owner) "）" }
            @match &j.state {
                JobState::Running => {
                    p { "当前步骤：" strong #job-stage { (j.stage) } "　" (j.done) " / " (j.total) }
                    div.bar { div style={ "width:" (pct) "%" } {} }
                    p.muted { "页面每秒自动刷新。" }
                    meta http-equiv="refresh" content="1";
                }
                JobState::Done { url, message } => { div.notice #job-done { (message) } p { a href=(url) #job-result { "查看结果" } } }
                JobState::Failed { message } => { div.alert #job-failed { "任务失败：" (message) } }
            }
        }
    };
    Ok(render(&wb, &a, "任务进度", "", body))
}

fn qc_body(r: &QcReport) -> Markup {
    let pass = if r.lists > 0 { format!("{:.1}%", (r.lists - r.lists_with_errors) as f64 * 100.0 / r.lists as f64) } else { "—".into() };
    html! {
        div.cards #qc-cards {
            div.card { div.k { "清单数" } div.v #qc-lists { (r.lists) } }
            div.card { div.k { "有错误的清单" } div.v.err #qc-error-lists { (r.lists_with_errors) } }
            div.card { div.k { "首页通过率（无错误清单占比）" } div.v #qc-pass { (pass) } }
            div.card { div.k { "错误 / 警告条数" } div.v { (r.errors()) " / " (r.warnings()) } }
        }
        h2 { "按规则汇总" }
        table.sortable #tbl-qc-rules {
            thead { tr { th { "规则" } th { "类别" } th { "级别" } th.num { "条数" } } }
            tbody { @for (rule, cat, sev, n) in r.by_rule() { tr { td { (rule) } td { (cat) } td class=(if sev == "错误" { "err" } else { "warn" }) { (sev) } td.num { (n) } } } }
        }
        h2 { "质控明细" }
        table.sortable #tbl-qc-findings {
            thead { tr { th { "清单号" } th { "规则" } th { "级别" } th { "字段" } th { "值" } th { "说明" } } }
            tbody {
                @for f in r.findings.iter().take(2000) {
                    tr { td { a href={ "/cases/" (f.list_id) } { (f.list_id) } } td { (f.rule) } td class=(if f.severity == "错误" { "err" } else { "warn" }) { (f.severity) } td { (f.field) } td { (f.value) } td { (f.message) } }
                }
            }
        }
        @if r.findings.len() > 2000 { p.muted { "仅显示前 2000 条，完整明细请导出。" } }
    }
}

pub async fn upload_detail(State(wb): State<Arc<Wb>>, a: Auth, Path(id): Path<i64>) -> Page {
    let scope = a.user.scope();
    let (up, rej) = wb
        .with_store(move |st| {
            let up = st.uploads(&scope).map_err(|e| e.to_string())?.into_iter().find(|u| u.id == id);
            let rej = match &up {
                Some(_) => st.rejections(&scope, id).map_err(|e| e.to_string())?,
                None => Vec::new(),
            };
            Ok((up, rej))
        })
        .await
        .map_err(UiError::page)?;
    let up = up.ok_or_else(|| UiError::not_found("上传记录").page())?;
    let qc = wb.wb.qc_report(id).map_err(|e| UiError::internal(e).page())?;
    let body = html! {
        p { "医院 " strong { (up.hospital_code) } "，期间 " (up.period) "，文件 " (up.file_name) "，" (up.uploaded_by) " 于 " (up.uploaded_at.get(..19).unwrap_or(&up.uploaded_at)) " 上传。" }
        div.cards {
            div.card { div.k { "清单数" } div.v { (up.record_count) } }
            div.card { div.k { "新增 / 更新 / 未变" } div.v { (up.new_count) " / " (up.changed_count) " / " (up.unchanged_count) } }
            div.card { div.k { "拒收行" } div.v.err #upload-rejected { (up.rejected_count) } }
        }
        @if !rej.is_empty() {
            h2 { "拒收行（未入库，须修改后重新上传）" }
            table.sortable #tbl-rejections {
                thead { tr { th.num { "行号" } th { "清单号" } th { "字段" } th { "规则" } th { "说明" } } }
                tbody { @for r in &rej { tr { td.num { (r.line) } td { (r.list_id) } td { (r.field) } td { (r.rule) } td { (r.message) } } } }
            }
        }
        h2 { "前置质控报告" }
        @match &qc { Some(r) => { (qc_body(r)) } None => { p.muted { "该上传没有质控报告（由旧版本导入）。" } } }
    };
    Ok(render(&wb, &a, &format!("上传 #{id} · 质控报告"), "/uploads", body))
}

// ------------------------------------------------------------------ case detail

/// The DIP 病种 of a case (DIP policies), as the case page and the API show it.
#[derive(serde::Serialize)]
pub struct DipDetail {
    pub code: String,
    pub name: String,
    pub status: String,
    pub aux_level: String,
    pub trace: Vec<String>,
}

/// Everything the case page shows, computed on demand for one list in the user's scope.
pub struct CaseDetail {
    pub list: casemix_model::SettlementList,
    pub versions: Vec<(i64, i64, String, bool)>,
    pub group_status: String,
    pub drg: String,
    pub drg_name: String,
    pub trace: Vec<casemix_grouper::TraceLine>,
    /// Under a DIP policy: the case's DIP 病种 (the payment group) and how it was assigned.
    pub dip: Option<DipDetail>,
    pub price_steps: Vec<String>,
    pub final_points: String,
    pub point_value: Option<(String, String)>,
    pub payment_fen: Option<i64>,
    pub cost_fen: i64,
    pub qc: Vec<casemix_workbench::QcRow>,
    pub flags: Vec<FlagRecord>,
}

pub async fn load_case(wb: &Arc<Wb>, a: &Auth, list_id: String) -> Result<CaseDetail, UiError> {
    let scope = a.user.scope();
    let id2 = list_id.clone();
    let hist = wb.with_store(move |st| st.history(&scope, &id2).map_err(|e| e.to_string())).await?;
    let cur = hist.iter().find(|v| v.is_current).or(hist.last()).ok_or_else(|| UiError::not_found("结算清单"))?;
    let l = cur.list.clone();
    let e = &wb.wb.engine;
    let (r, trace) = e.grouper.explain(&l.group_input());
    let groups = e.group_all(std::slice::from_ref(&l));
    let dip = e.dip_assignment(&l).map(|d| DipDetail { status: d.status_zh().to_string(), code: d.dip_code, name: d.name, aux_level: d.aux_level, trace: d.trace });
    let run = wb.wb.run_record().map_err(UiError::internal)?;
    let mut price_steps = Vec::new();
    let (mut final_points, mut point_value, mut payment_fen) = (String::new(), None, None);
    if let Some(ci) = e.case_input(&l, &groups[0]) {
        let pricer = casemix_pricing::Pricer::new(&e.policy, &e.rates, &e.hospitals);
        let p = pricer.price(&ci, casemix_pricing::CaseFlags::default());
        price_steps = p.steps.iter().map(|s| s.zh()).collect();
        final_points = p.final_points.to_string();
        // the month's point value of the case's tier (or the region) from the last run
        let period = format!("{}-{:02}", ci.year, ci.month);
        if let Some(m) = run.as_ref().and_then(|r| r.months.iter().find(|m| m.period == period)) {
            if let Some(st) = m.statements.iter().find(|s| s.hospital_code == ci.hospital_code) {
                if let Ok(pv) = st.point_value.parse::<casemix_pricing::Decimal>() {
                    point_value = Some((period.clone(), st.point_value.clone()));
                    payment_fen = Some(p.payment(pv).0);
                }
            }
        }
    }
    let one = [l.clone()];
    let qc = e.qc_report(0, "", "", &one).findings;
    let flags = run.map(|r| r.flags.into_iter().filter(|f| f.list_id == l.list_id || f.related_ids.contains(&l.list_id)).filter(|f| a.user.scope().allows(&f.hospital_code)).collect()).unwrap_or_default();
    Ok(CaseDetail {
        versions: hist.iter().map(|v| (v.version, v.upload_id, v.uploaded_at.clone(), v.is_current)).collect(),
        group_status: r.status.to_string(),
        drg: r.drg.to_string(),
        drg_name: r.drg_name.to_string(),
        trace: trace.lines,
        dip,
        price_steps,
        final_points,
        point_value,
        payment_fen,
        cost_fen: l.total_cost.unwrap_or_else(|| l.fee_sum()).0,
        qc,
        flags,
        list: l,
    })
}

pub async fn case_detail(State(wb): State<Arc<Wb>>, a: Auth, Path(list_id): Path<String>) -> Page {
    let d = load_case(&wb, &a, list_id).await.map_err(UiError::page)?;
    let l = &d.list;
    let body = html! {
        div.cards #case-cards {
            div.card { div.k { "分组结果" } div.v #case-drg { (if d.drg.is_empty() { "未入组".to_string() } else { d.drg.clone() }) } div.k { (d.drg_name) "（" (d.group_status) "）" } }
            div.card { div.k { "病例点数" } div.v #case-points { (if d.final_points.is_empty() { "—" } else { d.final_points.as_str() }) } }
            div.card { div.k { "医疗总费用（元）" } div.v { (yuan(d.cost_fen)) } }
            div.card { div.k { "预计支付（元）" } div.v #case-payment { (d.payment_fen.map(yuan).unwrap_or_else(|| "未结算".into())) } }
            @if let Some(p) = d.payment_fen { div.card { div.k { "盈亏（支付 − 费用）" } div class=(if p >= d.cost_fen { "v ok" } else { "v err" }) #case-profit { (yuan(p - d.cost_fen)) } } }
        }
        @if let Some(dp) = &d.dip {
            h2 { "DIP 病种（付费分组）" }
            p #case-dip { strong { (if dp.code.is_empty() { "未入组".to_string() } else { dp.code.clone() }) } " " (dp.name) "（" (dp.status) @if !dp.aux_level.is_empty() { "，辅助目录 " (dp.aux_level) } "）" }
            pre.trace #case-dip-trace { @for t in &dp.trace { (t) "\n" } }
        }
        h2 { @if d.dip.is_some() { "DRG 分组过程（供审核规则使用）" } @else { "分组过程" } }
        pre.trace #case-trace { @for t in &d.trace { (" ".repeat(t.depth * 2)) (t.text) "\n" } }
        h2 { "点数与支付计算" }
        ol #case-price-steps { @for s in &d.price_steps { li { (s) } }
            @if let (Some((period, pv)), Some(p)) = (&d.point_value, d.payment_fen) { li { (period) " 月度结算点值 " (pv) " 元/点：支付 = 点数 × 点值 + 按项目/除外支付 = " (yuan(p)) " 元" } }
        }
        h2 { "质控结果" }
        @if d.qc.is_empty() { p.ok #case-qc-ok { "未发现质控问题" } } @else {
            table #tbl-case-qc { thead { tr { th { "规则" } th { "级别" } th { "字段" } th { "值" } th { "说明" } } }
                tbody { @for f in &d.qc { tr { td { (f.rule) } td class=(if f.severity == "错误" { "err" } else { "warn" }) { (f.severity) } td { (f.field) } td { (f.value) } td { (f.message) } } } } }
        }
        h2 { "智能审核" }
        @if d.flags.is_empty() { p.ok #case-flags-none { "无审核标记" } } @else {
            table #tbl-case-flags { thead { tr { th { "标记" } th { "规则" } th.num { "分值" } th { "证据" } th { "处理" } } }
                tbody { @for f in &d.flags { tr { td { (f.flag_id) } td { (f.rule_zh) } td.num { (f.score) } td { (f.evidence) } td { (f.action) " " (f.target) } } } } }
        }
        h2 { "结算清单" }
        table #tbl-case-fields {
            tbody {
                @for f in casemix_model::Field::ALL {
                    @let v = l.field_text(*f);
                    // department codes with their 诊疗科目 name
                    @let v = if matches!(f, casemix_model::Field::Dept | casemix_model::Field::AdmitDept) { casemix_model::dept::dept_label_zh(&v) } else { v };
                    @if !v.is_empty() { tr { th { (f.label_zh()) } td { (v) } } }
                }
            }
        }
        h2 { "版本" }
        table #tbl-case-versions { thead { tr { th.num { "版本" } th.num { "上传" } th { "时间" } th { "当前" } } }
            tbody { @for (v, u, t, c) in &d.versions { tr { td.num { (v) } td.num { a href={ "/uploads/" (u) } { (u) } } td { (t.get(..19).unwrap_or(t)) } td { (if *c { "是" } else { "" }) } } } } }
    };
    Ok(render(&wb, &a, &format!("病例 {}", l.list_id), "", body))
}

// ------------------------------------------------------------------ review

#[derive(Deserialize, Default)]
pub struct ReviewQuery {
    #[serde(default)]
    rule: String,
    #[serde(default)]
    status: String,
}

/// Flags of the last run in the user's scope with their latest decision.
pub async fn flags_with_decisions(wb: &Arc<Wb>, a: &Auth) -> Result<(Option<RunRecord>, Vec<(FlagRecord, Option<casemix_store::ReviewDecision>)>), UiError> {
    let run = wb.wb.run_record().map_err(UiError::internal)?;
    let scope = a.user.scope();
    let decisions = wb.with_store(move |st| st.decisions(&scope, None).map_err(|e| e.to_string())).await?;
    let mut latest: std::collections::BTreeMap<String, casemix_store::ReviewDecision> = Default::default();
    for d in decisions {
        latest.insert(d.flag_id.clone(), d);
    }
    let scope = a.user.scope();
    let flags = run
        .as_ref()
        .map(|r| r.flags.iter().filter(|f| scope.allows(&f.hospital_code)).map(|f| (f.clone(), latest.get(&f.flag_id).cloned())).collect())
        .unwrap_or_default();
    Ok((run, flags))
}

pub async fn review(State(wb): State<Arc<Wb>>, a: Auth, Query(q): Query<ReviewQuery>) -> Page {
    let (run, flags) = flags_with_decisions(&wb, &a).await.map_err(UiError::page)?;
    let can_decide = matches!(a.user.role, Role::BureauAdmin | Role::BureauAuditor);
    let shown: Vec<_> = flags
        .iter()
        .filter(|(f, _)| q.rule.is_empty() || f.rule == q.rule)
        .filter(|(_, d)| match q.status.as_str() {
            "pending" => d.is_none(),
            "confirmed" => d.as_ref().is_some_and(|d| d.decision == DecisionKind::Confirm),
            "dismissed" => d.as_ref().is_some_and(|d| d.decision == DecisionKind::Dismiss),
            _ => true,
        })
        .take(500)
        .collect();
    let pending = flags.iter().filter(|(_, d)| d.is_none()).count();
    let body = html! {
        @if run.is_none() { div.alert { "尚未运行年度计算，没有审核标记。" } }
        div.cards {
            div.card { div.k { "审核标记" } div.v #review-total { (flags.len()) } }
            div.card { div.k { "待复核" } div.v #review-pending { (pending) } }
        }
        form method="get" action="/review" {
            label { "规则 " select name="rule" { option value="" { "全部" }
                @for r in casemix_audit::AuditRule::ALL { option value=(r.key()) selected[q.rule == r.key()] { (r.label_zh()) } } } }
            label { "状态 " select name="status" {
                @for (k, v) in [("", "全部"), ("pending", "待复核"), ("confirmed", "已确认"), ("dismissed", "已排除")] { option value=(k) selected[q.status == k] { (v) } } } }
            button type="submit" { "筛选" }
        }
        table.sortable #tbl-review {
            thead { tr { th.num { "分值" } th { "标记" } th { "医院" } th { "清单" } th { "规则" } th { "证据" } th { "拟处理" } th.num { "涉及金额" } th { "复核" } } }
            tbody {
                @for (f, d) in &shown {
                    tr {
                        td.num { (f.score) } td { (f.flag_id) } td { (f.hospital_code) }
                        td { a href={ "/cases/" (f.list_id) } { (f.list_id) } } td { (f.rule_zh) } td { (f.evidence) }
                        td { (f.action) " " (f.target) } td.num { (yuan(f.amount_fen)) }
                        td {
                            @if let Some(d) = d { span class=(if d.decision == DecisionKind::Confirm { "err" } else { "ok" }) { (if d.decision == DecisionKind::Confirm { "已确认" } else { "已排除" }) } " " span.muted { (d.reviewer) "：" (d.reason) } }
                            @if can_decide {
                                form method="post" action="/review/decide" class="decide" {
                                    input type="hidden" name="csrf" value=(a.csrf);
                                    input type="hidden" name="flag_id" value=(f.flag_id);
                                    input type="text" name="reason" placeholder="理由（必填）" required size="14";
                                    button type="submit" name="decision" value="confirm" { "确认" }
                                    button type="submit" name="decision" value="dismiss" { "排除" }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if shown.len() == 500 { p.muted { "仅显示分值最高的 500 条；请用筛选缩小范围。" } }
    };
    Ok(render(&wb, &a, "审核复核", "/review", body))
}

#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    flag_id: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

pub async fn decide_flag(wb: &Arc<Wb>, a: &Auth, flag_id: String, decision: &str, reason: String) -> Result<i64, UiError> {
    require(&a.user, &[Role::BureauAdmin, Role::BureauAuditor], "记录复核结论")?;
    let kind = match decision {
        "confirm" | "确认" => DecisionKind::Confirm,
        "dismiss" | "排除" => DecisionKind::Dismiss,
        other => return Err(UiError::bad_request(format!("复核结论 decision“{other}”无效（应为 confirm 或 dismiss）"))),
    };
    let me = wb.clone();
    let user = a.user.clone();
    wb.with_store(move |st| me.wb.decide(st, &user, &flag_id, kind, &reason, now())).await
}

pub async fn decide(State(wb): State<Arc<Wb>>, a: Auth, Form(f): Form<DecideForm>) -> Page {
    a.check_csrf(&f.csrf).map_err(UiError::page)?;
    decide_flag(&wb, &a, f.flag_id, &f.decision, f.reason).await.map_err(UiError::page)?;
    Ok(Redirect::to("/review").into_response())
}

// ------------------------------------------------------------------ yearly run

pub fn start_run_job(wb: &Arc<Wb>, a: &Auth) -> Result<u64, UiError> {
    require(&a.user, &[Role::BureauAdmin], "运行年度计算")?;
    let id = wb.jobs.start("年度计算", &a.user.login, None);
    let me = wb.clone();
    let user = a.user.clone();
    tokio::spawn(async move {
        let report = me.jobs.reporter(id);
        let res = async {
            let me2 = me.clone();
            let inputs = tokio::task::spawn_blocking(move || {
                let st = me2.store.lock().map_err(|_| "数据库连接不可用".to_string())?;
                me2.wb.run_inputs(&st)
            })
            .await
            .map_err(|e| e.to_string())??;
            // grouping, settlement and audit are CPU work: on a blocking thread, not a worker
            let me4 = me.clone();
            let report4 = me.jobs.reporter(id);
            let out = tokio::task::spawn_blocking(move || me4.wb.compute(&inputs, &report4)).await.map_err(|e| e.to_string())?;
            let rec = me.wb.write_run(out, &user, now(), &report).await?;
            let me3 = me.clone();
            let rec2 = rec.clone();
            tokio::task::spawn_blocking(move || {
                let mut st = me3.store.lock().map_err(|_| "数据库连接不可用".to_string())?;
                me3.wb.run_logged(&mut st, &user, &rec2, now())
            })
            .await
            .map_err(|e| e.to_string())??;
            Ok::<_, String>(rec)
        }
        .await;
        me.jobs.finish(
            id,
            match res {
                Ok(r) => JobState::Done {
                    url: "/monitor".into(),
                    message: format!("{} 年度计算完成：清单 {} 份，结算病例 {} 例，审核标记 {} 条", r.year, r.summary.lists, r.summary.cases, r.summary.flags),
                },
                Err(e) => JobState::Failed { message: e },
            },
        );
    });
    Ok(id)
}

pub async fn runs(State(wb): State<Arc<Wb>>, a: Auth) -> Page {
    require(&a.user, &[Role::BureauAdmin], "运行年度计算").map_err(UiError::page)?;
    let run = wb.wb.run_record().map_err(|e| UiError::internal(e).page())?;
    let body = html! {
        div.box {
            p { "按政策年度 " strong { (wb.wb.engine.year()) } " 对全部医院的当前版本清单依次运行：分组 → 月度结算 → 智能审核 → 年终清算（计入已确认的复核结论）。复核之后再次运行即按复核结论清算。" }
            form method="post" action="/runs" { input type="hidden" name="csrf" value=(a.csrf); button.primary type="submit" #run-start { "运行年度计算" } }
        }
        @if let Some(r) = &run {
            h2 { "最近一次运行" }
            p #run-last { (r.run_at.get(..19).unwrap_or(&r.run_at)) "，" (r.run_by) "：清单 " (r.summary.lists) " 份，结算病例 " (r.summary.cases) " 例，审核标记 " (r.summary.flags) " 条，未参与结算 " (r.summary.skipped.len()) " 份。" }
            @if !r.summary.skipped.is_empty() {
                table #tbl-run-skipped { thead { tr { th { "清单号" } th { "原因" } } } tbody { @for (id, why) in r.summary.skipped.iter().take(200) { tr { td { (id) } td { (why) } } } } }
            }
        }
    };
    Ok(render(&wb, &a, "年度计算", "/runs", body))
}

pub async fn start_run(State(wb): State<Arc<Wb>>, a: Auth, Form(f): Form<CsrfForm>) -> Page {
    a.check_csrf(&f.csrf).map_err(UiError::page)?;
    let id = start_run_job(&wb, &a).map_err(UiError::page)?;
    Ok(Redirect::to(&format!("/jobs/{id}")).into_response())
}

// ------------------------------------------------------------------ statements

#[derive(Deserialize, Default)]
pub struct StatementQuery {
    #[serde(default)]
    period: String,
    #[serde(default)]
    hospital: String,
}

/// The settlement records of the last run the user may see (statements filtered to scope).
pub fn scoped_settlements(wb: &Wb, a: &Auth) -> Result<Vec<casemix_workbench::SettlementRecord>, UiError> {
    let Some(run) = wb.wb.run_record().map_err(UiError::internal)? else { return Ok(Vec::new()) };
    let scope = a.user.scope();
    let mut all = run.months.clone();
    all.push(run.clearing.clone());
    for s in &mut all {
        s.statements.retain(|st| scope.allows(&st.hospital_code));
        if scope != Scope::All {
            // region totals stay with the bureau
            s.budget = 0;
            s.adjustment_fund = 0;
            s.distributable = 0;
            s.net_payments = 0;
            s.remainder = 0;
            s.cases = s.statements.iter().map(|x| x.cases).sum();
        }
    }
    Ok(all)
}

pub async fn statements(State(wb): State<Arc<Wb>>, a: Auth, Query(q): Query<StatementQuery>) -> Page {
    let all = scoped_settlements(&wb, &a).map_err(UiError::page)?;
    let sel = all.iter().find(|s| s.period == q.period).or(all.last());
    let body = html! {
        @if all.is_empty() { div.alert { "尚未运行年度计算，没有结算单。" } }
        form method="get" action="/statements" {
            label { "期间 " select name="period" { @for s in &all { option value=(s.period) selected[sel.is_some_and(|x| x.period == s.period)] { (s.period) (if s.kind == "year" { " 年终清算" } else { " 月度结算" }) } } } }
            button type="submit" { "查看" }
        }
        @if let Some(s) = sel {
            @if a.user.role != Role::HospitalUser {
                div.cards #stmt-summary {
                    div.card { div.k { "预算（元）" } div.v { (yuan(s.budget)) } }
                    div.card { div.k { "各院应付合计（元）" } div.v { (yuan(s.net_payments)) } }
                    div.card { div.k { "调节金（元）" } div.v { (yuan(s.adjustment_fund)) } }
                    div.card { div.k { "结余（元）" } div.v { (yuan(s.remainder)) } }
                    div.card { div.k { "预算平衡" } div class=(if s.balances { "v ok" } else { "v err" }) #stmt-balances { (if s.balances { "平衡到分" } else { "不平衡" }) } }
                }
                p { "点值：" @for (n, v) in &s.point_values { (n) " " (v) " 元/点　" } }
            }
            p { a href={ "/statements/export.xlsx?period=" (s.period) } #stmt-export { "导出结算单 Excel" } }
            table.sortable #tbl-statements {
                thead { tr { th { "医院" } th { "名称" } th { "等级" } th.num { "病例数" } th.num { "总点数" } th.num { "点值" } th.num { "病组支付" } th.num { "按项目" } th.num { "除外" } th.num { "扣减" } th.num { "预留保证金" } th.num { "应付" } th.num { "统筹支付" } th.num { "实际费用" } th { "" } } }
                tbody { @for st in &s.statements { tr {
                    td { (st.hospital_code) } td { (st.hospital_name) } td { (st.level) } td.num { (st.cases) } td.num { (st.total_points) } td.num { (st.point_value) }
                    td.num { (yuan(st.group_payment)) } td.num { (yuan(st.ffs_payment)) } td.num { (yuan(st.exclusions_payment)) } td.num { (yuan(st.deductions)) }
                    td.num { (yuan(st.deposit_withheld)) } td.num { (yuan(st.net_payment)) } td.num { (yuan(st.fund_payment)) } td.num { (yuan(st.actual_cost)) }
                    td { a href={ "/statements/export.xlsx?period=" (s.period) "&hospital=" (st.hospital_code) } { "Excel" } }
                } } }
            }
        }
    };
    Ok(render(&wb, &a, "结算单", "/statements", body))
}

pub fn xlsx_response(file_name: &str, sheets: &[casemix_io::XlsxSheet]) -> Result<Response, UiError> {
    let dir = tempfile::tempdir().map_err(|e| UiError::internal(e.to_string()))?;
    let p = dir.path().join("export.xlsx");
    casemix_io::write_xlsx(&p, sheets).map_err(|e| UiError::internal(e.to_string()))?;
    let bytes = std::fs::read(&p).map_err(|e| UiError::internal(e.to_string()))?;
    let cd = format!("attachment; filename=\"export.xlsx\"; filename*=UTF-8''{}", pct(file_name));
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()), (header::CONTENT_DISPOSITION, cd)],
        bytes,
    )
        .into_response())
}

fn pct(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-_.".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

pub async fn statement_xlsx(State(wb): State<Arc<Wb>>, a: Auth, Query(q): Query<StatementQuery>) -> Page {
    use casemix_io::{XlsxCell, XlsxSheet};
    let all = scoped_settlements(&wb, &a).map_err(UiError::page)?;
    let s = all.iter().find(|s| s.period == q.period).ok_or_else(|| UiError::not_found(&format!("期间“{}”的结算单", q.period)).page())?;
    if !q.hospital.is_empty() && !s.statements.iter().any(|x| x.hospital_code == q.hospital) {
        return Err(UiError::not_found("该医院的结算单").page());
    }
    let headers: Vec<String> = ["医院编号", "医院名称", "等级", "病例数", "总点数", "点值", "病组支付(元)", "按项目(元)", "除外(元)", "扣减(元)", "预留保证金(元)", "返还保证金(元)", "清算调整(元)", "应付(元)", "其他支付(元)", "统筹支付(元)", "实际费用(元)", "已预拨(元)", "应补拨(元)", "说明"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let y = |f: i64| XlsxCell::Fen(casemix_model::Fen(f));
    let rows = s
        .statements
        .iter()
        .filter(|x| q.hospital.is_empty() || x.hospital_code == q.hospital)
        .map(|x| {
            vec![
                XlsxCell::Text(x.hospital_code.clone()),
                XlsxCell::Text(x.hospital_name.clone()),
                XlsxCell::Text(x.level.clone()),
                XlsxCell::Int(x.cases as i64),
                XlsxCell::Text(x.total_points.clone()),
                XlsxCell::Text(x.point_value.clone()),
                y(x.group_payment),
                y(x.ffs_payment),
                y(x.exclusions_payment),
                y(x.deductions),
                y(x.deposit_withheld),
                y(x.deposit_returned),
                y(x.clearing_adjustment),
                y(x.net_payment),
                y(x.others_paid),
                y(x.fund_payment),
                y(x.actual_cost),
                x.advances_paid.map(y).unwrap_or(XlsxCell::Empty),
                x.balance_due.map(y).unwrap_or(XlsxCell::Empty),
                XlsxCell::Text(x.notes.join("；")),
            ]
        })
        .collect();
    let name = format!("结算单-{}{}.xlsx", s.period, if q.hospital.is_empty() { String::new() } else { format!("-{}", q.hospital) });
    xlsx_response(&name, &[XlsxSheet { name: format!("结算单 {}", s.period), headers, rows }])
}

// ------------------------------------------------------------------ audit log

pub async fn audit_log(State(wb): State<Arc<Wb>>, a: Auth) -> Page {
    require(&a.user, &[Role::BureauAdmin], "查看操作日志").map_err(UiError::page)?;
    let scope = a.user.scope();
    let entries = wb.with_store(move |st| st.audit_log(&scope, &AuditFilter { limit: Some(500), ..Default::default() }).map_err(|e| e.to_string())).await.map_err(UiError::page)?;
    let body = html! {
        table.sortable #tbl-audit-log {
            thead { tr { th { "时间" } th { "操作人" } th { "操作" } th { "对象" } th { "医院" } th { "详情" } } }
            tbody { @for e in entries.iter().rev() { tr { td { (e.at.get(..19).unwrap_or(&e.at)) } td { (e.actor) } td { (e.action) } td { (e.object) } td { (e.hospital_code.clone().unwrap_or_default()) } td { (e.detail.to_string()) } } } }
        }
    };
    Ok(render(&wb, &a, "操作日志", "/audit-log", body))
}
