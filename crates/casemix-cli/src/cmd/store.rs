//! `casemix store`: the workbench's store (casemix-store; SQLite file `--db`, or PostgreSQL
//! `--postgres <URL>`) from the command line.
//! `import` records one file of settlement lists as an upload of one hospital and period: one
//! transaction, new versions only for changed lists, rejections kept, an audit-log entry.
//! The local command line acts with bureau-admin rights under the actor name `--actor`.

use casemix_store::{screen_upload, sha256_hex, Role, Store, UploadBatch, UploadMeta, UploadStatus, User};
use chrono::{DateTime, Utc};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: StoreCommand,
}

#[derive(clap::Subcommand)]
pub enum StoreCommand {
    /// 导入一个结算清单文件为一次上传 (import a settlement-list file as one upload)
    Import(ImportArgs),
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// 数据库文件，不存在则创建 (SQLite database file; created if missing)
    #[arg(long, required_unless_present = "postgres", conflicts_with = "postgres")]
    pub db: Option<PathBuf>,
    /// 改用 PostgreSQL 保存工作流状态 (workflow state on PostgreSQL: postgresql://user@host/db)
    #[arg(long, value_name = "URL")]
    pub postgres: Option<String>,
    /// 医院编号 (定点医药机构编号 of the uploading hospital)
    #[arg(long)]
    pub hospital: String,
    /// 结算期间 YYYY-MM (settlement period)
    #[arg(long)]
    pub period: String,
    /// 操作人，记入操作日志 (actor recorded in the audit log)
    #[arg(long, default_value = "cli")]
    pub actor: String,
    /// 跨期确认：接受出院月份不在 --period 内的清单（记入操作日志）(accept lists discharged outside the period; logged)
    #[arg(long)]
    pub period_override: bool,
    /// 结算清单文件 (settlement lists: CSV, JSON Lines or .xlsx)
    pub settlements: PathBuf,
}

pub fn run(a: Args) -> Result<(), String> {
    match a.command {
        StoreCommand::Import(a) => import(a),
    }
}

fn import(a: ImportArgs) -> Result<(), String> {
    let bytes = std::fs::read(&a.settlements).map_err(|e| format!("无法读取 {}：{e}", a.settlements.display()))?;
    let file_name = a.settlements.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // each list keeps its file line, so that a refusal (another hospital, another month) names it
    let read = casemix_workbench::read_lists(&bytes, &file_name, &casemix_io::ReadLimits::default()).map_err(|e| format!("{e}（{}）", a.settlements.display()))?;
    let mut store = match (&a.postgres, &a.db) {
        // the URL may carry a password: not repeated in the message
        (Some(url), _) => Store::open_postgres(url).map_err(|e| format!("无法连接 PostgreSQL：{e}"))?,
        (None, Some(db)) => Store::open(db).map_err(|e| format!("无法打开数据库 {}：{e}", db.display()))?,
        (None, None) => return Err("需要 --db <文件> 或 --postgres <URL>".into()),
    };
    let actor = User { id: 0, login: a.actor.clone(), display_name: a.actor, role: Role::BureauAdmin, hospital_code: None };
    let meta = UploadMeta {
        file_hash: Some(sha256_hex(&bytes)),
        period_override: a.period_override,
        ..UploadMeta::new(&a.hospital, &a.period, &file_name)
    };
    let screened = screen_upload(&meta, read.lists, &read.lines);
    let now: DateTime<Utc> = std::time::SystemTime::now().into();
    let batch = UploadBatch { screened: &screened, rejections: &read.rejections, qc: None };
    let s = store.record_batch(&meta, &batch, &actor, now, &mut |_| {}).map_err(|e| e.to_string())?;
    println!(
        "上传 #{}：{} 份清单，新增 {}，更新 {}，未变 {}，拒收 {}{}",
        s.upload_id,
        s.records,
        s.new,
        s.changed,
        s.unchanged,
        s.rejected,
        match s.status {
            UploadStatus::Unchanged => "（内容与现有版本相同，未产生新版本）",
            UploadStatus::Committed => "",
        }
    );
    if let Some(prev) = s.same_file_as {
        println!("同一文件曾于上传 #{prev} 导入");
    }
    Ok(())
}
