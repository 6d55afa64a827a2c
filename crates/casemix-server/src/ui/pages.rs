//! The HTML pages. Each handler: who may see it, what it reads (scoped), what it renders.

use super::auth::{self, Auth};
use super::jobs::{Job, JobState};
use super::layout::{page, yuan};
use super::{now, require, UiError, Wb};
use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, Extensions, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use casemix_store::{AuditFilter, DecisionKind, PageRequest, Paged, Role, Scope};
use casemix_workbench::{FlagEntry, FlagRecord, QcReport, RunRecord, RunView};
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

/// `?page=&page_size=` of every paged list (page from 1; size 1..=`MAX_PAGE_SIZE`, default
/// `DEFAULT_PAGE_SIZE`; out-of-range sizes are cut to the maximum).
#[derive(Deserialize, Default, Clone, Copy)]
pub struct PageQuery {
    #[serde(default)]
    pub page: u32,
    #[serde(default)]
    pub page_size: u32,
}

impl PageQuery {
    pub fn request(&self) -> PageRequest {
        PageRequest::new(self.page, self.page_size)
    }
}

/// The query of a paged page, or a Chinese 400 page naming the parameter.
pub fn page_query(q: Result<Query<PageQuery>, QueryRejection>) -> Result<PageRequest, UiError> {
    q.map(|Query(q)| q.request()).map_err(|e| UiError::bad_request(format!("分页参数 page / page_size 应为正整数：{}", e.body_text())))
}

/// "第 n / m 页，共 t 条" with links to the neighbouring pages (`base` already has its `?`/`&`).
pub fn pager<T>(base: &str, p: &Paged<T>) -> Markup {
    let pages = p.pages();
    html! {
        p.pager {
            "第 " (p.page) " / " (pages) " 页，共 " span.total { (p.total) } " 条（每页至多 " (p.size) " 条）　"
            @if p.page > 1 { a href={ (base) "page=" (p.page - 1) "&page_size=" (p.size) } rel="prev" { "上一页" } "　" }
            @if u64::from(p.page) < pages { a href={ (base) "page=" (p.page + 1) "&page_size=" (p.size) } rel="next" { "下一页" } }
        }
    }
}

pub async fn uploads(State(wb): State<Arc<Wb>>, a: Auth, q: Result<Query<PageQuery>, QueryRejection>) -> Page {
    let page = page_query(q).map_err(UiError::page)?;
    let scope = a.user.scope();
    let ups = wb.with_store(move |st| st.uploads_page(&scope, &page).map_err(|e| e.to_string())).await.map_err(UiError::page)?;
    let can_upload = matches!(a.user.role, Role::BureauAdmin | Role::HospitalUser);
    let hospitals: Vec<(String, String)> = wb.wb.engine.hospitals.iter().map(|h| (h.code.clone(), h.name.clone())).collect();
    let body = html! {
        @if can_upload {
            div.box {
                h2 { "上传结算清单" }
                p.muted { "支持 CSV（UTF-8 / GBK）、JSON Lines、Excel（.xlsx）。同一清单号重复上传时以新版本参与计算，旧版本留档；整批上传连同质控报告要么全部生效，要么全部不生效。"
                    "清单未填定点医药机构编号的，按本次上传的医院入库；填了其他医院编号的、出院月份不在结算期间内的，按行拒收并说明原因。" }
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
                    @if a.user.role == Role::BureauAdmin {
                        label #upload-override { input type="checkbox" name="period_override" value="1"; " 跨期确认：接受出院月份不在结算期间内的清单（记入操作日志）" }
                    }
                    button.primary type="submit" #upload-submit { "上传并质控" }
                }
            }
        }
        h2 { "上传记录" }
        p { a href="/jobs" { "查看上传与计算任务" } }
        table.sortable #tbl-uploads {
            thead { tr { th { "编号" } th { "医院" } th { "期间" } th { "文件" } th.num { "清单数" } th.num { "新增" } th.num { "更新" } th.num { "未变" } th.num { "拒收" } th { "上传人" } th { "时间" } th { "质控报告" } } }
            tbody {
                @for u in &ups.items {
                    tr {
                        td { (u.id) } td { (u.hospital_code) } td { (u.period) @if u.period_override { " （跨期确认）" } } td { (u.file_name) }
                        td.num { (u.record_count) } td.num { (u.new_count) } td.num { (u.changed_count) } td.num { (u.unchanged_count) }
                        td.num { (u.rejected_count) } td { (u.uploaded_by) } td { (u.uploaded_at.get(..19).unwrap_or(&u.uploaded_at)) }
                        td { a href={ "/uploads/" (u.id) } { "查看" } }
                    }
                }
            }
        }
        (pager("/uploads?", &ups))
    };
    Ok(render(&wb, &a, "数据上传与质控", "/uploads", body))
}

/// The multipart upload form.
struct UploadForm {
    csrf: String,
    hospital: String,
    period: String,
    name: String,
    bytes: Vec<u8>,
    period_override: bool,
}

/// Reads the multipart upload form.
async fn read_upload_form(mut mp: Multipart) -> Result<UploadForm, UiError> {
    let mut f = UploadForm { csrf: String::new(), hospital: String::new(), period: String::new(), name: String::new(), bytes: Vec::new(), period_override: false };
    let mut got_file = false;
    while let Some(field) = mp.next_field().await.map_err(|e| UiError::bad_request(format!("上传表单无法读取：{e}")))? {
        match field.name().unwrap_or("") {
            "csrf" => f.csrf = field.text().await.map_err(|e| UiError::bad_request(e.to_string()))?,
            "hospital" => f.hospital = field.text().await.map_err(|e| UiError::bad_request(e.to_string()))?.trim().to_string(),
            "period" => f.period = field.text().await.map_err(|e| UiError::bad_request(e.to_string()))?.trim().to_string(),
            "period_override" => f.period_override = matches!(field.text().await.map_err(|e| UiError::bad_request(e.to_string()))?.trim(), "1" | "on" | "true"),
            "file" => {
                f.name = field.file_name().unwrap_or("upload.csv").to_string();
                f.bytes = field.bytes().await.map_err(|e| UiError::bad_request(format!("文件无法读取：{e}")))?.to_vec();
                got_file = true;
            }
            _ => {}
        }
    }
    if !got_file || f.bytes.is_empty() {
        return Err(UiError::bad_request("请选择要上传的文件（file 为空）"));
    }
    Ok(f)
}

/// What an upload job is given.
pub struct UploadRequest {
    pub hospital: String,
    pub period: String,
    pub name: String,
    pub bytes: Vec<u8>,
    /// Accept lists discharged outside the period (bureau_admin only; logged).
    pub period_override: bool,
}

/// Starts an upload job: checks role, hospital scope, period and override; the job reads,
/// screens and QCs the file WITHOUT a store connection, then takes one connection for the one
/// transaction that records the upload with its QC report and its job id.
pub fn start_upload(wb: &Arc<Wb>, a: &Auth, req: UploadRequest) -> Result<u64, UiError> {
    require(&a.user, &[Role::BureauAdmin, Role::HospitalUser], "上传结算清单")?;
    let UploadRequest { hospital, period, name, bytes, period_override } = req;
    if !a.user.scope().allows(&hospital) {
        return Err(UiError::forbidden(&format!("为医院“{hospital}”上传")));
    }
    if period_override && a.user.role != Role::BureauAdmin {
        return Err(UiError::forbidden("跨期确认（出院月份不在结算期间内的清单只能由医保局管理员确认）"));
    }
    if hospital.is_empty() {
        return Err(UiError::bad_request("请选择医院（hospital 为空）"));
    }
    if wb.wb.engine.hospital(&hospital).is_none() && !wb.wb.engine.hospitals.is_empty() {
        return Err(UiError::bad_request(format!("医院编号“{hospital}”不在本统筹区医院名录中")));
    }
    let ok = period.len() == 7 && period.as_bytes()[4] == b'-' && period.get(..4).is_some_and(|y| y.bytes().all(|b| b.is_ascii_digit())) && matches!(period.get(5..).map(str::parse::<u32>), Some(Ok(1..=12)));
    if !ok {
        return Err(UiError::bad_request(format!("结算期间 period“{period}”应为 YYYY-MM")));
    }
    let id = wb.jobs.start("上传", &a.user.login, Some(hospital.clone()));
    let me = wb.clone();
    let user = a.user.clone();
    tokio::task::spawn_blocking(move || {
        let report = me.jobs.reporter(id);
        // reader limits scaled to this upload (its size is already under the body limit)
        let limits = casemix_io::ReadLimits::for_upload(bytes.len() as u64);
        let file = casemix_workbench::ImportFile { hospital: &hospital, period: &period, file_name: &name, bytes: &bytes, period_override, job_id: i64::try_from(id).ok(), limits: &limits };
        let res = me.wb.prepare_import(&file, &user, &report).and_then(|prepared| {
            let mut st = me.store.get().map_err(|e| format!("数据库连接不可用：{e}"))?;
            me.wb.commit_import(&mut st, prepared, &user, now(), &report)
        });
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
    let f = read_upload_form(mp).await.map_err(UiError::page)?;
    a.check_csrf(&f.csrf).map_err(UiError::page)?;
    let hospital = if a.user.role == Role::HospitalUser { a.user.hospital_code.clone().unwrap_or_default() } else { f.hospital };
    let req = UploadRequest { hospital, period: f.period, name: f.name, bytes: f.bytes, period_override: f.period_override };
    let id = start_upload(&wb, &a, req).map_err(UiError::page)?;
    Ok(Redirect::to(&format!("/jobs/{id}")).into_response())
}

/// A job in the user's scope: this server's live state, or the store's record (after a
/// restart). A hospital user sees only their hospital's jobs; others' look missing.
pub async fn find_job(wb: &Arc<Wb>, a: &Auth, id: u64) -> Result<Job, UiError> {
    let visible = |j: &Job| a.user.role != Role::HospitalUser || j.hospital_code == a.user.hospital_code;
    if let Some(j) = wb.jobs.get(id) {
        return if visible(&j) { Ok(j) } else { Err(UiError::not_found("任务")) };
    }
    let Ok(id) = i64::try_from(id) else { return Err(UiError::not_found("任务")) };
    let scope = a.user.scope();
    let rec = wb.with_store(move |st| st.job(&scope, id).map_err(|e| e.to_string())).await?;
    rec.map(Job::from_record).filter(visible).ok_or_else(|| UiError::not_found("任务"))
}

/// The job id of `/jobs/<id>`, or a Chinese 400.
pub fn job_id(p: Result<Path<u64>, PathRejection>) -> Result<u64, UiError> {
    p.map(|Path(id)| id).map_err(|_| UiError::bad_request("任务编号应为正整数（如 /jobs/12）"))
}

pub async fn job(State(wb): State<Arc<Wb>>, a: Auth, id: Result<Path<u64>, PathRejection>) -> Page {
    let id = job_id(id).map_err(UiError::page)?;
    let j = find_job(&wb, &a, id).await.map_err(UiError::page)?;
    if let JobState::Done { url, .. } = &j.state {
        if j.kind == "上传" {
            return Ok(Redirect::to(url).into_response());
        }
    }
    let pct = if j.total > 0 { j.done.min(j.total) * 100 / j.total } else { 0 };
    let body = html! {
        div.box #job data-state=(j.state.key()) {
            p { "任务 #" (j.id) "：" (j.kind) "（" (j.owner) "，" (j.created_at.get(..19).unwrap_or(&j.created_at)) " 开始）" }
            @match &j.state {
                JobState::Running => {
                    p { "当前步骤：" strong #job-stage { (j.stage) } "　" (j.done) " / " (j.total) }
                    div.bar { div style={ "width:" (pct) "%" } {} }
                    p.muted { "页面每秒自动刷新。" }
                    meta http-equiv="refresh" content="1";
                }
                JobState::Done { url, message } => { div.notice #job-done { (message) } p { a href=(url) #job-result { "查看结果" } } }
                JobState::Failed { message } => { div.alert #job-failed { "任务失败：" (message) } }
                JobState::Interrupted { message } => { div.alert #job-interrupted { "任务中断：" (message) } }
            }
            p { a href="/jobs" { "全部任务" } }
        }
    };
    Ok(render(&wb, &a, "任务进度", "", body))
}

/// The jobs in the user's scope (persisted; live progress of this server's jobs), newest first.
pub async fn jobs_page(wb: &Arc<Wb>, a: &Auth, page: PageRequest) -> Result<Paged<Job>, UiError> {
    let scope = a.user.scope();
    let p = wb.with_store(move |st| st.jobs_page(&scope, &page).map_err(|e| e.to_string())).await?;
    let items = p.items.into_iter().map(|r| u64::try_from(r.id).ok().and_then(|id| wb.jobs.get(id)).unwrap_or_else(|| Job::from_record(r))).collect();
    Ok(Paged { total: p.total, page: p.page, size: p.size, items })
}

pub async fn jobs(State(wb): State<Arc<Wb>>, a: Auth, q: Result<Query<PageQuery>, QueryRejection>) -> Page {
    let page = page_query(q).map_err(UiError::page)?;
    let p = jobs_page(&wb, &a, page).await.map_err(UiError::page)?;
    let body = html! {
        table #tbl-jobs {
            thead { tr { th.num { "任务" } th { "类型" } th { "操作人" } th { "医院" } th { "开始" } th { "状态" } th { "步骤" } th { "结果" } } }
            tbody { @for j in &p.items { tr {
                td.num { a href={ "/jobs/" (j.id) } { (j.id) } } td { (j.kind) } td { (j.owner) } td { (j.hospital_code.clone().unwrap_or_default()) }
                td { (j.created_at.get(..19).unwrap_or(&j.created_at)) } td { (j.state.label_zh()) } td { (j.stage) }
                td { @match &j.state {
                    JobState::Done { url, message } => { a href=(url) { (message) } }
                    JobState::Failed { message } | JobState::Interrupted { message } => { (message) }
                    JobState::Running => { (j.done) " / " (j.total) }
                } }
            } } }
        }
        (pager("/jobs?", &p))
    };
    Ok(render(&wb, &a, "任务", "/uploads", body))
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
                    tr { td { a href=(case_href(&r.hospital_code, &f.list_id)) { (f.list_id) } } td { (f.rule) } td class=(if f.severity == "错误" { "err" } else { "warn" }) { (f.severity) } td { (f.field) } td { (f.value) } td { (f.message) } }
                }
            }
        }
        @if r.findings.len() > 2000 { p.muted { "仅显示前 2000 条，完整明细请导出。" } }
    }
}

/// An upload in the user's scope, one page of its rejections and its QC report.
pub struct UploadDetail {
    pub upload: casemix_store::Upload,
    pub rejections: Paged<casemix_io::Rejection>,
    pub qc: Option<QcReport>,
}

pub async fn load_upload(wb: &Arc<Wb>, a: &Auth, id: i64, page: PageRequest) -> Result<UploadDetail, UiError> {
    let scope = a.user.scope();
    let me = wb.clone();
    let got = wb
        .with_store(move |st| {
            let Some(up) = st.upload(&scope, id).map_err(|e| e.to_string())? else { return Ok(None) };
            let rej = st.rejections_page(&scope, id, &page).map_err(|e| e.to_string())?;
            let qc = me.wb.qc_report(st, &scope, id)?;
            Ok(Some(UploadDetail { upload: up, rejections: rej, qc }))
        })
        .await?;
    got.ok_or_else(|| UiError::not_found("上传记录"))
}

pub async fn upload_detail(State(wb): State<Arc<Wb>>, a: Auth, id: Result<Path<i64>, PathRejection>, q: Result<Query<PageQuery>, QueryRejection>) -> Page {
    let Ok(Path(id)) = id else { return Err(UiError::bad_request("上传编号应为整数（如 /uploads/12）").page()) };
    let page = page_query(q).map_err(UiError::page)?;
    let UploadDetail { upload: up, rejections: rej, qc } = load_upload(&wb, &a, id, page).await.map_err(UiError::page)?;
    let body = html! {
        p { "医院 " strong { (up.hospital_code) } "，期间 " (up.period) "，文件 " (up.file_name) "，" (up.uploaded_by) " 于 " (up.uploaded_at.get(..19).unwrap_or(&up.uploaded_at)) " 上传。" }
        @if up.period_override { div.notice #upload-override { "本次上传经医保局管理员跨期确认：出院月份不在结算期间内的清单也已入库（见操作日志）。" } }
        div.cards {
            div.card { div.k { "清单数" } div.v { (up.record_count) } }
            div.card { div.k { "新增 / 更新 / 未变" } div.v { (up.new_count) " / " (up.changed_count) " / " (up.unchanged_count) } }
            div.card { div.k { "拒收行" } div.v.err #upload-rejected { (up.rejected_count) } }
        }
        @if rej.total > 0 {
            h2 { "拒收行（未入库，须修改后重新上传）" }
            table.sortable #tbl-rejections {
                thead { tr { th.num { "行号" } th { "清单号" } th { "字段" } th { "规则" } th { "说明" } } }
                tbody { @for r in &rej.items { tr { td.num { (r.line) } td { (r.list_id) } td { (r.field) } td { (r.rule) } td { (r.message) } } } }
            }
            (pager(&format!("/uploads/{id}?"), &rej))
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
    /// The hospital of the case (its identity with the list id).
    pub hospital_code: String,
}

/// The page of one case: its identity is (hospital, list id), both in the path.
pub fn case_href(hospital_code: &str, list_id: &str) -> String {
    format!("/cases/{}/{}", super::monitor::enc(hospital_code), super::monitor::enc(list_id))
}

/// Runs a file read of the current run version on the blocking pool.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, String> + Send + 'static) -> Result<T, UiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| UiError::internal(format!("后台任务失败：{e}")))?.map_err(UiError::internal)
}

/// The current run version with its record (one resolution: both from the same run).
async fn current_run(wb: &Arc<Wb>) -> Result<Option<(RunView, Option<RunRecord>)>, UiError> {
    let me = wb.clone();
    blocking(move || {
        let Some(v) = me.wb.current_run()? else { return Ok(None) };
        let rec = v.record()?;
        Ok(Some((v, rec)))
    })
    .await
}

pub async fn load_case(wb: &Arc<Wb>, a: &Auth, hospital: String, list_id: String) -> Result<CaseDetail, UiError> {
    let scope = a.user.scope();
    if !scope.allows(&hospital) {
        return Err(UiError::not_found("结算清单"));
    }
    let id2 = list_id.clone();
    let mut hist = wb.with_store(move |st| st.history(&scope, &id2).map_err(|e| e.to_string())).await?;
    // the identity is (hospital, list id): another hospital's list with the same id is not this case
    hist.retain(|v| v.hospital_code == hospital);
    let cur = hist.iter().find(|v| v.is_current).or(hist.last()).ok_or_else(|| UiError::not_found("结算清单"))?;
    let l = cur.list.clone();
    let e = &wb.wb.engine;
    let (r, trace) = e.grouper.explain(&l.group_input());
    let groups = e.group_all(std::slice::from_ref(&l));
    let dip = e.dip_assignment(&l).map(|d| DipDetail { status: d.status_zh().to_string(), code: d.dip_code, name: d.name, aux_level: d.aux_level, trace: d.trace });
    let view = current_run(wb).await?;
    let run = view.as_ref().and_then(|(_, r)| r.as_ref());
    let mut price_steps = Vec::new();
    let (mut final_points, mut point_value, mut payment_fen) = (String::new(), None, None);
    if let Some(ci) = e.case_input(&l, &groups[0]) {
        let pricer = casemix_pricing::Pricer::new(&e.policy, &e.rates, &e.hospitals);
        let p = pricer.price(&ci, casemix_pricing::CaseFlags::default());
        price_steps = p.steps.iter().map(|s| s.zh()).collect();
        final_points = p.final_points.to_string();
        // the month's point value of the case's tier (or the region) from the last run
        let period = format!("{}-{:02}", ci.year, ci.month);
        if let Some(m) = run.and_then(|r| r.months.iter().find(|m| m.period == period)) {
            if let Some(st) = m.statements.iter().find(|s| s.hospital_code == hospital) {
                if let Ok(pv) = st.point_value.parse::<casemix_pricing::Decimal>() {
                    point_value = Some((period.clone(), st.point_value.clone()));
                    payment_fen = Some(p.payment(pv).0);
                }
            }
        }
    }
    let one = [l.clone()];
    let qc = e.qc_report(0, "", "", &one).findings;
    // only this case's flags (its hospital's, read by offset from the run's flag index)
    let flags = match view {
        Some((v, _)) => {
            let (h, id) = (hospital.clone(), l.list_id.clone());
            blocking(move || v.case_flags(&h, &id)).await?
        }
        None => Vec::new(),
    };
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
        hospital_code: hospital,
    })
}

pub async fn case_detail(State(wb): State<Arc<Wb>>, a: Auth, Path((hospital, list_id)): Path<(String, String)>) -> Page {
    let d = load_case(&wb, &a, hospital, list_id).await.map_err(UiError::page)?;
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
    Ok(render(&wb, &a, &format!("病例 {} · {}", l.list_id, d.hospital_code), "", body))
}

// ------------------------------------------------------------------ review

/// Filters and page of the review queue and of `GET /api/v1/flags` (all optional text, checked
/// here so that a bad value gets a Chinese message naming it).
#[derive(Deserialize, Default, Clone)]
pub struct FlagQuery {
    #[serde(default)]
    pub rule: String,
    /// pending | confirmed | dismissed (empty: all)
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub hospital: String,
    #[serde(default)]
    pub list_id: String,
    #[serde(default)]
    pub page: String,
    #[serde(default)]
    pub page_size: String,
}

/// The default and the largest page of flags.
pub const FLAG_PAGE_SIZE: usize = 100;
pub const MAX_FLAG_PAGE_SIZE: usize = 500;

/// One page of the flags of the last run in the user's scope, highest score first.
pub struct FlagPage {
    /// Whether a run exists.
    pub run: bool,
    /// Flags in scope (before the filters) and how many of them await a decision.
    pub in_scope: usize,
    pub pending: usize,
    /// Flags matching the filters.
    pub total: usize,
    pub page: usize,
    pub page_size: usize,
    pub flags: Vec<(FlagRecord, Option<casemix_store::ReviewDecision>)>,
}

impl FlagPage {
    pub fn pages(&self) -> usize {
        self.total.div_ceil(self.page_size.max(1)).max(1)
    }
}

fn parse_count(field: &str, v: &str, default: usize, max: usize) -> Result<usize, UiError> {
    if v.trim().is_empty() {
        return Ok(default);
    }
    match v.trim().parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(UiError::bad_request(format!("参数 {field} 的取值“{}”无效：应为 1 到 {max} 的整数", v.chars().take(40).collect::<String>()))),
    }
}

impl FlagQuery {
    /// (page, page_size), checked.
    pub fn paging(&self) -> Result<(usize, usize), UiError> {
        Ok((parse_count("page", &self.page, 1, 1_000_000)?, parse_count("page_size", &self.page_size, FLAG_PAGE_SIZE, MAX_FLAG_PAGE_SIZE)?))
    }

    fn check(&self) -> Result<(), UiError> {
        if !self.rule.is_empty() && casemix_audit::AuditRule::from_key(&self.rule).is_none() {
            return Err(UiError::bad_request(format!("参数 rule 的取值“{}”无效：应为审核规则编码之一", self.rule.chars().take(40).collect::<String>())));
        }
        if !["", "pending", "confirmed", "dismissed"].contains(&self.status.as_str()) {
            return Err(UiError::bad_request(format!("参数 status 的取值“{}”无效：应为 pending、confirmed 或 dismissed", self.status.chars().take(40).collect::<String>())));
        }
        Ok(())
    }

    /// The query string of another page with the same filters.
    pub fn href(&self, base: &str, page: usize, page_size: usize) -> String {
        use super::monitor::enc;
        format!("{base}?rule={}&status={}&hospital={}&list_id={}&page={page}&page_size={page_size}", enc(&self.rule), enc(&self.status), enc(&self.hospital), enc(&self.list_id))
    }
}

/// Flags of the last run in the user's scope with their latest decision, filtered and paged:
/// the filters run over the run's small flag index; only the page's flags are read in full.
pub async fn flag_page(wb: &Arc<Wb>, a: &Auth, q: &FlagQuery) -> Result<FlagPage, UiError> {
    q.check()?;
    let (page, page_size) = q.paging()?;
    let scope = a.user.scope();
    let decisions = wb.with_store(move |st| st.decisions(&scope, None).map_err(|e| e.to_string())).await?;
    let mut latest: std::collections::HashMap<String, casemix_store::ReviewDecision> = Default::default();
    for d in decisions {
        // decisions recorded before flag ids named the hospital count under the new id
        latest.insert(casemix_workbench::engine::flag_id(&d.flag_id, &d.hospital_code), d);
    }
    let me = wb.clone();
    let (q, scope) = (q.clone(), a.user.scope());
    blocking(move || {
        let Some(view) = me.wb.current_run()? else {
            return Ok(FlagPage { run: false, in_scope: 0, pending: 0, total: 0, page, page_size, flags: Vec::new() });
        };
        let index = view.flag_index()?;
        let mine: Vec<&FlagEntry> = index.iter().filter(|e| scope.allows(&e.hospital_code)).collect();
        let pending = mine.iter().filter(|e| !latest.contains_key(&e.flag_id)).count();
        let mut hits: Vec<&FlagEntry> = mine
            .iter()
            .copied()
            .filter(|e| q.rule.is_empty() || e.rule == q.rule)
            .filter(|e| q.hospital.is_empty() || e.hospital_code == q.hospital)
            .filter(|e| q.list_id.is_empty() || e.list_id == q.list_id)
            .filter(|e| match (q.status.as_str(), latest.get(&e.flag_id)) {
                ("pending", d) => d.is_none(),
                ("confirmed", Some(d)) => d.decision == DecisionKind::Confirm,
                ("dismissed", Some(d)) => d.decision == DecisionKind::Dismiss,
                ("", _) => true,
                _ => false,
            })
            .collect();
        hits.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| (&a.hospital_code, &a.list_id, &a.flag_id).cmp(&(&b.hospital_code, &b.list_id, &b.flag_id))));
        let total = hits.len();
        let from = (page - 1).saturating_mul(page_size).min(total);
        let to = from.saturating_add(page_size).min(total);
        let flags = view.read_flags(&hits[from..to])?;
        let flags = flags
            .into_iter()
            .map(|f| {
                let d = latest.get(&f.flag_id).cloned();
                (f, d)
            })
            .collect();
        Ok(FlagPage { run: true, in_scope: mine.len(), pending, total, page, page_size, flags })
    })
    .await
}

pub async fn review(State(wb): State<Arc<Wb>>, a: Auth, Query(q): Query<FlagQuery>) -> Page {
    let fp = flag_page(&wb, &a, &q).await.map_err(UiError::page)?;
    let can_decide = matches!(a.user.role, Role::BureauAdmin | Role::BureauAuditor);
    let pages = fp.pages();
    let body = html! {
        @if !fp.run { div.alert { "尚未运行年度计算，没有审核标记。" } }
        div.cards {
            div.card { div.k { "审核标记" } div.v #review-total { (fp.in_scope) } }
            div.card { div.k { "待复核" } div.v #review-pending { (fp.pending) } }
            div.card { div.k { "符合筛选" } div.v #review-matching { (fp.total) } }
        }
        form method="get" action="/review" {
            label { "规则 " select name="rule" { option value="" { "全部" }
                @for r in casemix_audit::AuditRule::ALL { option value=(r.key()) selected[q.rule == r.key()] { (r.label_zh()) } } } }
            label { "状态 " select name="status" {
                @for (k, v) in [("", "全部"), ("pending", "待复核"), ("confirmed", "已确认"), ("dismissed", "已排除")] { option value=(k) selected[q.status == k] { (v) } } } }
            @if a.user.role != Role::HospitalUser { label { "医院 " input type="text" name="hospital" value=(q.hospital) size="10"; } }
            label { "清单号 " input type="text" name="list_id" value=(q.list_id) size="12"; }
            input type="hidden" name="page_size" value=(fp.page_size);
            button type="submit" { "筛选" }
        }
        table.sortable #tbl-review {
            thead { tr { th.num { "分值" } th { "标记" } th { "医院" } th { "清单" } th { "规则" } th { "证据" } th { "拟处理" } th.num { "涉及金额" } th { "复核" } } }
            tbody {
                @for (f, d) in &fp.flags {
                    tr {
                        td.num { (f.score) } td { (f.flag_id) } td { (f.hospital_code) }
                        td { a href=(case_href(&f.hospital_code, &f.list_id)) { (f.list_id) } } td { (f.rule_zh) } td { (f.evidence) }
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
        p.pager #review-pager {
            "第 " (fp.page) " / " (pages) " 页，每页 " (fp.page_size) " 条（按分值从高到低）"
            @if fp.page > 1 { " " a #review-prev href=(q.href("/review", fp.page - 1, fp.page_size)) { "上一页" } }
            @if fp.page < pages { " " a #review-next href=(q.href("/review", fp.page + 1, fp.page_size)) { "下一页" } }
        }
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
    // one run at a time, across processes (the CLI may run one too): refused before a job starts
    let lock = wb.wb.lock_run().map_err(|e| UiError::new(StatusCode::CONFLICT, "run_in_progress", e))?;
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
            let rec = me.wb.write_run(&lock, out, &user, now(), &report).await?;
            drop(lock);
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
                table #tbl-run-skipped { thead { tr { th { "医院" } th { "清单号" } th { "原因" } } } tbody { @for s in r.summary.skipped.iter().take(200) { tr { td { (s.hospital_code) } td { (s.list_id) } td { (s.reason) } } } } }
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
                thead { tr { th { "医院" } th { "名称" } th { "等级" } th.num { "病例数" } th.num title="前置质控有错误、按政策 [qc_gate] 暂缓结算的清单：不计点数、不付费，补正后重新计算" { "待补正" } th.num { "待补正费用" } th.num { "总点数" } th.num { "点值" } th.num { "病组支付" } th.num { "按项目" } th.num { "除外" } th.num { "扣减" } th.num { "预留保证金" } th.num { "应付" } th.num { "统筹支付" } th.num { "实际费用" } th { "" } } }
                tbody { @for st in &s.statements { tr {
                    td { (st.hospital_code) } td { (st.hospital_name) } td { (st.level) } td.num { (st.cases) } td.num { (st.held_cases) } td.num { (yuan(st.held_cost)) } td.num { (st.total_points) } td.num { (st.point_value) }
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
    let headers: Vec<String> = ["医院编号", "医院名称", "等级", "病例数", "待补正清单数", "待补正费用(元)", "总点数", "点值", "病组支付(元)", "按项目(元)", "除外(元)", "扣减(元)", "预留保证金(元)", "返还保证金(元)", "清算调整(元)", "应付(元)", "其他支付(元)", "统筹支付(元)", "实际费用(元)", "已预拨(元)", "应补拨(元)", "说明"]
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
                XlsxCell::Int(x.held_cases as i64),
                y(x.held_cost),
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

pub async fn audit_log(State(wb): State<Arc<Wb>>, a: Auth, q: Result<Query<PageQuery>, QueryRejection>) -> Page {
    require(&a.user, &[Role::BureauAdmin], "查看操作日志").map_err(UiError::page)?;
    let page = page_query(q).map_err(UiError::page)?;
    let scope = a.user.scope();
    let entries = wb.with_store(move |st| st.audit_log_page(&scope, &AuditFilter::default(), &page).map_err(|e| e.to_string())).await.map_err(UiError::page)?;
    let body = html! {
        table.sortable #tbl-audit-log {
            thead { tr { th { "时间" } th { "操作人" } th { "操作" } th { "对象" } th { "医院" } th { "详情" } } }
            tbody { @for e in &entries.items { tr { td { (e.at.get(..19).unwrap_or(&e.at)) } td { (e.actor) } td { (e.action) } td { (e.object) } td { (e.hospital_code.clone().unwrap_or_default()) } td { (e.detail.to_string()) } } } }
        }
        (pager("/audit-log?", &entries))
    };
    Ok(render(&wb, &a, "操作日志", "/audit-log", body))
}
