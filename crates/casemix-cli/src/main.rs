//! `casemix` — the command line of Casemix. Each subcommand lives in `cmd/<name>.rs`; this file
//! only declares them.

mod cmd;

/// mimalloc: grouping a file allocates a few strings per record on several threads; the
/// system allocator spent a third of the time there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "casemix",
    version,
    about = "Casemix — 医保 DRG/DIP 分组、付费与监管平台 (China DRG/DIP case-based payment)",
    long_about = "Casemix：住院病例 DRG 分组、DIP 病种、权重/分值测算、点数法付费与年终清算、结算清单质控与智能审核。\nCasemix: grouping, calibration, payment, settlement and audit for China's inpatient case-based payment."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// 按 DRG 分组方案对病例分组 (group cases with a DRG scheme)
    Group(cmd::group::Args),
    /// 解释单个病例的分组过程 (explain the grouping of one case)
    Explain(cmd::explain::Args),
    /// 由历史数据测算 DRG 权重与 DIP 病种分值 (calibrate weights and DIP catalogue from history)
    Calibrate(cmd::calibrate::Args),
    /// DIP 病种分组 (DIP grouping)
    Dip(cmd::dip::Args),
    /// 生成合成统筹区数据 (generate a synthetic pooling region)
    Synth(cmd::synth::Args),
    /// 病例计算点数与支付 (price cases)
    Price(cmd::price::Args),
    /// 月度结算与年终清算 (monthly and annual settlement)
    Settle(cmd::settle::Args),
    /// 政策模拟 (policy simulation)
    Simulate(cmd::simulate::Args),
    /// 结算清单前置质控 (settlement-list quality control)
    Qc(cmd::qc::Args),
    /// 智能审核 (intelligent audit)
    Audit(cmd::audit::Args),
    /// 审核复核与扣款 (review flags into deductions)
    Review(cmd::review::Args),
    /// 启动预分组 HTTP 服务 (serve the pre-grouping API)
    Serve(cmd::serve::Args),
    /// 工作台数据库：导入上传、版本与操作日志 (the workbench store: uploads, versions, audit log)
    Store(cmd::store::Args),
    /// 工作台：数据目录、导入与质控、年度计算、复核（与网页同一数据）(the workbench steps)
    Workbench(cmd::workbench::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.command {
        Command::Group(a) => cmd::group::run(a),
        Command::Explain(a) => cmd::explain::run(a),
        Command::Calibrate(a) => cmd::calibrate::run(a),
        Command::Dip(a) => cmd::dip::run(a),
        Command::Synth(a) => cmd::synth::run(a),
        Command::Price(a) => cmd::price::run(a),
        Command::Settle(a) => cmd::settle::run(a),
        Command::Simulate(a) => cmd::simulate::run(a),
        Command::Qc(a) => cmd::qc::run(a),
        Command::Audit(a) => cmd::audit::run(a),
        Command::Review(a) => cmd::review::run(a),
        Command::Serve(a) => cmd::serve::run(a),
        Command::Store(a) => cmd::store::run(a),
        Command::Workbench(a) => cmd::workbench::run(a),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误 (error): {e}");
            ExitCode::from(2)
        }
    }
}
