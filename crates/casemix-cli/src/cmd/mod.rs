//! One module per subcommand. Each exposes `Args` (clap) and `run(Args) -> Result<(), String>`.

pub mod common;
pub mod calibrate;
pub mod dip;
pub mod explain;
pub mod group;
pub mod price;
pub mod settle;
pub mod simulate;
pub mod synth;
pub mod qc;
pub mod audit;
pub mod review;
pub mod serve;
pub mod store;
pub mod workbench;
