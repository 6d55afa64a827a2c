//! `casemix workbench`: the workbench's steps on a data directory from the command line — the
//! same steps the web UI runs (`casemix serve --data DIR`), on the same store.
//!
//! `init` writes `workbench.toml`; `user` creates accounts; `import` records a file as one
//! upload (or, with `--split`, one upload per hospital and discharge month) and runs QC;
//! `attach` puts claims/charges files in `inputs/` for the audit; `run` runs the yearly
//! computation; `decide` records a review decision. The command line acts with bureau-admin
//! rights under the actor name `--actor`.

use casemix_model::SettlementList;
use casemix_store::{sha256_hex, DecisionKind, NewUser, Role, UploadMeta, User};
use casemix_workbench::{Workbench, WorkbenchConfig};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: WbCommand,
}

#[derive(clap::Args)]
pub struct DataArg {
    /// 工作台数据目录（含 workbench.toml）(workbench data directory)
    #[arg(long)]
    pub data: PathBuf,
    /// 操作人，记入操作日志 (actor recorded in the audit log)
    #[arg(long, default_value = "cli")]
    pub actor: String,
    /// 工作流状态所在的 PostgreSQL（postgres://…），覆盖 workbench.toml 的 postgres
    #[arg(long)]
    pub postgres: Option<String>,
}

impl DataArg {
    /// The data directory's workbench, with `--postgres` overriding its configured store.
    fn open(&self) -> Result<Workbench, String> {
        let mut wb = Workbench::open(&self.data)?;
        if self.postgres.is_some() {
            wb.config.postgres.clone_from(&self.postgres);
        }
        Ok(wb)
    }
}

#[derive(clap::Subcommand)]
pub enum WbCommand {
    /// 新建数据目录与配置 workbench.toml (create a data directory)
    Init {
        #[arg(long)]
        data: PathBuf,
        /// 统筹区编码 (region code)
        #[arg(long)]
        region: String,
        /// 统筹区名称
        #[arg(long, default_value = "")]
        region_name: String,
        /// 分组方案目录 (scheme directory)
        #[arg(long)]
        scheme: PathBuf,
        /// 政策文件 (policy TOML)
        #[arg(long)]
        policy: PathBuf,
        /// DRG 权重表 weights.csv（DRG 点数法政策）
        #[arg(long)]
        weights: Option<PathBuf>,
        /// DIP 病种目录库目录（casemix calibrate dip 的输出，DIP 分值政策）
        #[arg(long)]
        catalogue: Option<PathBuf>,
        /// 医院名录 hospitals.csv
        #[arg(long)]
        hospitals: Option<PathBuf>,
        /// 审核参数 JSON
        #[arg(long)]
        audit: Option<PathBuf>,
        /// 工作流状态存 PostgreSQL（postgres://…）而非内嵌 SQLite
        #[arg(long)]
        postgres: Option<String>,
    },
    /// 新建用户 (create a user)
    User {
        #[command(flatten)]
        d: DataArg,
        #[arg(long)]
        login: String,
        #[arg(long)]
        password: String,
        /// bureau_admin | bureau_analyst | bureau_auditor | hospital_user
        #[arg(long, required_unless_present = "reset_password")]
        role: Option<String>,
        /// 改已有用户的密码（不新建；该用户已登录的会话随即失效）
        #[arg(long)]
        reset_password: bool,
        /// 医院用户所属医院编号
        #[arg(long)]
        hospital: Option<String>,
        /// 显示名
        #[arg(long)]
        name: Option<String>,
    },
    /// 导入结算清单并质控 (import settlement lists as an upload, with QC)
    Import {
        #[command(flatten)]
        d: DataArg,
        /// 医院编号（不用 --split 时必填）
        #[arg(long)]
        hospital: Option<String>,
        /// 结算期间 YYYY-MM（不用 --split 时必填）
        #[arg(long)]
        period: Option<String>,
        /// 按医院与出院月份拆分为多次上传 (one upload per hospital and discharge month)
        #[arg(long)]
        split: bool,
        /// 只导入该年度出院的清单（与 --split 一起用）
        #[arg(long)]
        year: Option<i32>,
        /// 跨期确认：接受出院月份不在 --period 内的清单（记入操作日志；不用 --split 时）
        #[arg(long)]
        period_override: bool,
        /// 结算清单文件 (CSV / JSONL / XLSX)
        file: PathBuf,
    },
    /// 放入门诊/药店结算与费用明细，供智能审核使用 (claims and charges for the audit)
    Attach {
        #[command(flatten)]
        d: DataArg,
        #[arg(long)]
        claims: Option<PathBuf>,
        #[arg(long)]
        charges: Option<PathBuf>,
    },
    /// 年度计算：分组、月度结算、审核、年终清算 (the yearly run)
    Run {
        #[command(flatten)]
        d: DataArg,
    },
    /// 复核审核标记 (confirm or dismiss a flag)
    Decide {
        #[command(flatten)]
        d: DataArg,
        #[arg(long)]
        flag: String,
        /// confirm | dismiss
        #[arg(long)]
        decision: String,
        #[arg(long)]
        reason: String,
    },
}

fn now() -> DateTime<Utc> {
    std::time::SystemTime::now().into()
}

fn admin(actor: &str) -> User {
    User { id: 0, login: actor.to_string(), display_name: actor.to_string(), role: Role::BureauAdmin, hospital_code: None }
}

/// Progress on stderr: one line per stage, overwritten in place.
fn progress() -> impl Fn(&str, u64, u64) + Sync {
    let last = std::sync::Mutex::new(String::new());
    move |stage: &str, done: u64, total: u64| {
        let mut l = last.lock().expect("progress");
        if *l != stage {
            if !l.is_empty() {
                eprintln!();
            }
            *l = stage.to_string();
        }
        eprint!("\r  {stage} {done}/{total}   ");
        let _ = std::io::stderr().flush();
    }
}

fn abs(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

pub fn run(a: Args) -> Result<(), String> {
    match a.command {
        WbCommand::Init { data, region, region_name, scheme, policy, weights, catalogue, hospitals, audit, postgres } => {
            std::fs::create_dir_all(&data).map_err(|e| format!("无法创建数据目录 {}：{e}", data.display()))?;
            let c = WorkbenchConfig {
                region,
                region_name,
                scheme: abs(&scheme),
                policy: abs(&policy),
                weights: weights.as_deref().map(abs),
                catalogue: catalogue.as_deref().map(abs),
                hospitals: hospitals.as_deref().map(abs),
                audit: audit.as_deref().map(abs),
                postgres,
            };
            c.save(&data)?;
            let wb = Workbench::open(&data)?;
            wb.open_store()?;
            println!("工作台数据目录 {} 已就绪（统筹区 {}，政策年度 {}）", data.display(), wb.config.region, wb.engine.year());
            Ok(())
        }
        WbCommand::User { d, login, password, role: _, hospital: _, name: _, reset_password: true } => {
            let wb = d.open()?;
            let mut st = wb.open_store()?;
            if !st.set_password(&admin(&d.actor), &login, &password, now()).map_err(|e| e.to_string())? {
                return Err(format!("用户“{login}”不存在"));
            }
            println!("用户 {login} 的密码已修改");
            Ok(())
        }
        WbCommand::User { d, login, password, role, hospital, name, reset_password: false } => {
            let wb = d.open()?;
            let mut st = wb.open_store()?;
            let role = role.unwrap_or_default();
            let role = Role::parse(&role).ok_or_else(|| format!("角色“{role}”无效（bureau_admin / bureau_analyst / bureau_auditor / hospital_user）"))?;
            let name = name.unwrap_or_else(|| login.clone());
            let u = st
                .create_user(&d.actor, &NewUser { login: &login, display_name: &name, role, hospital_code: hospital.as_deref(), password: &password }, now())
                .map_err(|e| e.to_string())?;
            println!("用户 {}（{}{}）已创建", u.login, u.role.label_zh(), u.hospital_code.map(|h| format!("，{h}")).unwrap_or_default());
            Ok(())
        }
        WbCommand::Import { d, hospital, period, split, year, period_override, file } => import(&d, ImportArgs { hospital, period, split, year, period_override }, &file),
        WbCommand::Attach { d, claims, charges } => {
            let wb = d.open()?;
            let dir = wb.dir.join("inputs");
            std::fs::create_dir_all(&dir).map_err(|e| format!("无法创建 {}：{e}", dir.display()))?;
            let mut st = wb.open_store()?;
            for (kind, p) in [("claims", claims), ("charges", charges)] {
                let Some(p) = p else { continue };
                let dest = dir.join(format!("{kind}-{}.csv", sha256_hex(&std::fs::read(&p).map_err(|e| format!("无法读取 {}：{e}", p.display()))?).get(..12).unwrap_or("x")));
                std::fs::copy(&p, &dest).map_err(|e| format!("无法复制 {} → {}：{e}", p.display(), dest.display()))?;
                st.record_event(&admin(&d.actor), "attach_inputs", &format!("inputs:{kind}"), None, serde_json::json!({"file": p.display().to_string()}), now()).map_err(|e| e.to_string())?;
                println!("已放入 {}", dest.display());
            }
            Ok(())
        }
        WbCommand::Run { d } => {
            let wb = d.open()?;
            // one run at a time (the web workbench may be running one on the same directory)
            let lock = wb.lock_run()?;
            let mut st = wb.open_store()?;
            let p = progress();
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
            let t = std::time::Instant::now();
            // the store is used outside the runtime (the PostgreSQL client blocks on its own)
            let actor = admin(&d.actor);
            let inputs = wb.run_inputs(&st)?;
            let out = wb.compute(&inputs, &p);
            let r = rt.block_on(wb.write_run(&lock, out, &actor, now(), &p))?;
            drop(lock);
            wb.run_logged(&mut st, &actor, &r, now())?;
            eprintln!();
            let c = &r.clearing;
            println!(
                "{} 年度计算完成（{:.1} 秒）：清单 {} 份，结算病例 {} 例，未参与结算 {} 份，审核标记 {} 条；年终清算各院应付 {} 元，预算{}",
                r.year,
                t.elapsed().as_secs_f64(),
                r.summary.lists,
                r.summary.cases,
                r.summary.skipped.len(),
                r.summary.flags,
                casemix_model::Fen(c.net_payments),
                if c.balances { "平衡到分" } else { "不平衡！" }
            );
            Ok(())
        }
        WbCommand::Decide { d, flag, decision, reason } => {
            let wb = d.open()?;
            let mut st = wb.open_store()?;
            let kind = match decision.as_str() {
                "confirm" | "确认" => DecisionKind::Confirm,
                "dismiss" | "排除" => DecisionKind::Dismiss,
                other => return Err(format!("复核结论“{other}”无效（confirm 或 dismiss）")),
            };
            let id = wb.decide(&mut st, &admin(&d.actor), &flag, kind, &reason, now())?;
            println!("复核结论 #{id} 已记录：{flag} → {decision}");
            Ok(())
        }
    }
}

struct ImportArgs {
    hospital: Option<String>,
    period: Option<String>,
    split: bool,
    year: Option<i32>,
    period_override: bool,
}

fn import(d: &DataArg, a: ImportArgs, file: &Path) -> Result<(), String> {
    let wb = d.open()?;
    let mut st = wb.open_store()?;
    let actor = admin(&d.actor);
    let p = progress();
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let bytes = std::fs::read(file).map_err(|e| format!("无法读取 {}：{e}", file.display()))?;
    if !a.split {
        let (Some(h), Some(per)) = (a.hospital, a.period) else { return Err("不用 --split 时须给出 --hospital 与 --period".into()) };
        let f = casemix_workbench::ImportFile { hospital: &h, period: &per, file_name: &name, bytes: &bytes, period_override: a.period_override, job_id: None, limits: &casemix_io::ReadLimits::default() };
        let o = wb.import(&mut st, &f, &actor, now(), &p)?;
        eprintln!();
        println!(
            "上传 #{}：{} 份清单，新增 {}，更新 {}，未变 {}，拒收 {}；质控：{} 份清单有错误，{} 条错误，{} 条警告",
            o.summary.upload_id, o.summary.records, o.summary.new, o.summary.changed, o.summary.unchanged, o.summary.rejected, o.qc.lists_with_errors, o.qc.errors(), o.qc.warnings()
        );
        return Ok(());
    }
    if a.period_override {
        return Err("--split 按出院月份拆分，每次上传的清单都在其期间内，不需要 --period-override".into());
    }
    let read = casemix_workbench::read_lists(&bytes, &name, &casemix_io::ReadLimits::default()).map_err(|e| format!("{e}（{}）", file.display()))?;
    use chrono::Datelike;
    // (hospital, month) → (lists, their file lines)
    let mut parts: BTreeMap<(String, String), (Vec<SettlementList>, Vec<u64>)> = BTreeMap::new();
    let mut outside = 0usize;
    for (l, line) in read.lists.into_iter().zip(read.lines) {
        let month = match l.discharge_time {
            Some(dt) if a.year.is_some_and(|y| y != dt.year()) => {
                outside += 1;
                continue;
            }
            Some(dt) => format!("{}-{:02}", dt.year(), dt.month()),
            None => String::new(),
        };
        let part = parts.entry((l.hospital_code.clone().unwrap_or_default(), month)).or_default();
        part.0.push(l);
        part.1.push(line);
    }
    let rejected = read.rejections;
    if !rejected.is_empty() {
        println!("读取时拒收 {} 行（记入第一次上传的拒收清单）", rejected.len());
    }
    let (mut n_up, mut n_lists, mut n_err) = (0, 0, 0);
    let mut first = true;
    for ((h, per), (ls, lines)) in parts {
        if h.is_empty() || per.is_empty() {
            println!("{} 份清单缺少医院编号或出院时间，无法拆分，未导入：请修正后单独导入", ls.len());
            continue;
        }
        let meta = UploadMeta { file_hash: None, ..UploadMeta::new(&h, &per, &format!("{name}#{h}-{per}")) };
        let rej = if first { rejected.clone() } else { Vec::new() };
        first = false;
        let prepared = wb.prepare_lists(meta, ls, &lines, rej, &actor, &|_, _, _| {})?;
        let o = wb.commit_import(&mut st, prepared, &actor, now(), &|_, _, _| {})?;
        n_up += 1;
        n_lists += o.summary.records;
        n_err += o.qc.lists_with_errors;
    }
    println!("导入完成：{n_up} 次上传（按医院 × 月份），{n_lists} 份清单，质控有错误的清单 {n_err} 份{}", if outside > 0 { format!("；{outside} 份不在 {} 年度，未导入", a.year.unwrap_or(0)) } else { String::new() });
    Ok(())
}
