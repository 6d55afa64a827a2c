//! `casemix serve`: the pre-grouping HTTP API (`casemix-server`) on one address, with a scheme
//! and, optionally, DRG weights, a points policy and a point value for expected payments.

use super::common::{load_grouper, DEFAULT_SCHEMES_DIR};
use super::settle::load_policy;
use casemix_pricing::Decimal;
use casemix_server::{AppState, Pricing};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    /// 分组方案目录或方案编号 (scheme directory or id, e.g. chs_drg_11)；给出 --data 时取工作台配置
    #[arg(long, required_unless_present = "data")]
    pub scheme: Option<String>,
    /// 工作台数据目录（含 workbench.toml）：同时提供网页工作台与其接口 (serve the web workbench)
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// 工作流状态所在的 PostgreSQL（postgres://…），覆盖 workbench.toml 的 postgres（与 --data 一起用）
    #[arg(long, requires = "data")]
    pub postgres: Option<String>,
    /// 会话 Cookie 不带 Secure 标记（仅用于本机 localhost 的纯 HTTP 测试；其他情况请经 HTTPS 反向代理访问）
    #[arg(long)]
    pub insecure_cookies: bool,
    /// 运行在反向代理之后：登录限流按 X-Forwarded-For 的最后一个地址计（代理须覆盖该头）
    #[arg(long)]
    pub trust_forwarded_for: bool,
    /// 方案库目录 (where scheme ids are looked up)
    #[arg(long, default_value = DEFAULT_SCHEMES_DIR)]
    pub schemes_dir: PathBuf,
    /// 监听地址 (listen address)
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// DRG 权重表 weights.csv：返回 rw 与点数 (relative weights and points)
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// 政策文件（DRG 点数法）：按系数与高低倍率规则计算病例点数；须同时给出 --weights
    #[arg(long, requires = "weights")]
    pub policy: Option<PathBuf>,
    /// 点值（元/点）：与 --policy 一起给出时返回预计支付金额（四舍五入到分）
    #[arg(long, requires = "policy")]
    pub point_value: Option<String>,
    /// 启用编码转换 (FORMAT.md §8 code translation)
    #[arg(long)]
    pub translate_codes: bool,
    /// 请求体上限（MiB）(request body limit)
    #[arg(long, default_value_t = 32)]
    pub body_limit_mib: usize,
}

pub fn run(a: Args) -> Result<(), String> {
    let wb = match &a.data {
        Some(d) => {
            let mut w = casemix_workbench::Workbench::open(d)?;
            if a.postgres.is_some() {
                w.config.postgres.clone_from(&a.postgres);
            }
            Some(w)
        }
        None => None,
    };
    let mut g = match (&wb, &a.scheme) {
        (Some(w), None) => casemix_grouper::Grouper::from_dir(casemix_workbench::WorkbenchConfig::resolve(&w.dir, &w.config.scheme)).map_err(|e| e.to_string())?,
        (_, Some(s)) => load_grouper(s, &a.schemes_dir)?,
        (None, None) => return Err("须给出 --scheme 或 --data".into()),
    };
    g.set_translate_codes(a.translate_codes);
    // Weights and policy: given on the command line, else the workbench's own (so the
    // pre-grouping API prices with the same rate table and policy as the yearly run).
    let (weights, policy) = match (&a.weights, &wb) {
        (Some(w), _) => (Some(w.clone()), a.policy.clone()),
        (None, Some(w)) => (
            w.config.weights.as_ref().map(|p| casemix_workbench::WorkbenchConfig::resolve(&w.dir, p)),
            Some(casemix_workbench::WorkbenchConfig::resolve(&w.dir, &w.config.policy)),
        ),
        (None, None) => (None, None),
    };
    let pricing = match &weights {
        None => None,
        Some(w) => {
            let text = std::fs::read_to_string(w).map_err(|e| format!("无法读取权重表 {}：{e}", w.display()))?;
            let policy = match &policy {
                Some(p) => Some(load_policy(p, &[])?),
                None => None,
            };
            let pv = match &a.point_value {
                Some(s) => Some(Decimal::from_str(s.trim()).map_err(|_| format!("--point-value “{s}”不是有效数值"))?),
                None => None,
            };
            Some(Arc::new(Pricing::new(&text, policy, pv).map_err(|e| format!("{}：{e}", w.display()))?))
        }
    };
    let workbench = match wb {
        Some(w) => {
            let wb = casemix_server::ui::Wb::new(w, !a.insecure_cookies)?;
            wb.sessions.set_trust_forwarded(a.trust_forwarded_for);
            Some(Arc::new(wb))
        }
        None => None,
    };
    init_log()?;
    let state = AppState { grouper: Arc::new(g), pricing, body_limit: a.body_limit_mib.max(1) * 1024 * 1024, workbench };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| format!("无法启动运行时：{e}"))?;
    rt.block_on(async move {
        let l = tokio::net::TcpListener::bind(&a.addr).await.map_err(|e| format!("无法监听 {}：{e}", a.addr))?;
        let addr = l.local_addr().map_err(|e| e.to_string())?;
        if state.workbench.is_some() {
            println!("网页工作台已启动：http://{addr}/login");
        }
        tracing::info!(
            addr = %addr,
            workbench = state.workbench.is_some(),
            secure_cookies = !a.insecure_cookies,
            body_limit_mib = state.body_limit / (1024 * 1024),
            scheme = state.grouper.id(),
            "服务启动"
        );
        eprintln!(
            "预分组服务已启动：http://{addr}/api/v1/group（方案 {} {}；接口说明 http://{addr}/api/openapi.json）",
            state.grouper.id(),
            state.grouper.title()
        );
        casemix_server::serve(l, state).await.map_err(|e| format!("服务异常退出：{e}"))
    })
}

/// Log lines on stderr (`tracing` fmt: time, level, target, fields); the level from
/// `CASEMIX_LOG` (`error`, `warn`, `info` — the default —, `debug`, `trace`, `off`). A panic is
/// logged as an error line too (the request's 500 page names the request id).
fn init_log() -> Result<(), String> {
    let level = match std::env::var("CASEMIX_LOG") {
        Ok(v) => v.trim().parse::<tracing_subscriber::filter::LevelFilter>().map_err(|_| format!("CASEMIX_LOG=“{v}”无效（error / warn / info / debug / trace / off）"))?,
        Err(_) => tracing_subscriber::filter::LevelFilter::INFO,
    };
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_max_level(level).with_ansi(false).try_init().map_err(|e| format!("日志无法初始化：{e}"))?;
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        let msg = info.payload().downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| info.payload().downcast_ref::<String>().cloned()).unwrap_or_default();
        tracing::error!(at = %at, "程序异常 (panic)：{msg}");
    }));
    Ok(())
}
