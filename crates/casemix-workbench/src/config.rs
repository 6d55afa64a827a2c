//! `workbench.toml`: what a workbench data directory serves — the region, its grouping scheme,
//! payment policy, rate table and hospital register. Paths are relative to the data directory.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The file name of the configuration inside a data directory.
pub const CONFIG_FILE: &str = "workbench.toml";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkbenchConfig {
    /// 统筹区编码 (partition key of the case data).
    pub region: String,
    /// 统筹区名称 (shown in the UI).
    #[serde(default)]
    pub region_name: String,
    /// Grouping scheme directory (FORMAT.md layout, e.g. ../shared/schemes/chs_drg_11).
    pub scheme: PathBuf,
    /// Payment policy (TOML, casemix-policy).
    pub policy: PathBuf,
    /// DRG weights (weights.csv of `casemix calibrate drg`), for `drg_points` policies.
    #[serde(default)]
    pub weights: Option<PathBuf>,
    /// DIP catalogue directory or catalogue.csv, for `dip_scores` policies.
    #[serde(default)]
    pub catalogue: Option<PathBuf>,
    /// Hospital register (hospitals.csv: code,name,level,tier,…).
    #[serde(default)]
    pub hospitals: Option<PathBuf>,
    /// Audit thresholds (JSON of casemix-audit's AuditConfig); defaults when absent.
    #[serde(default)]
    pub audit: Option<PathBuf>,
    /// Workflow state on PostgreSQL instead of the embedded SQLite file (`postgres://…`).
    #[serde(default)]
    pub postgres: Option<String>,
}

impl WorkbenchConfig {
    /// Reads and checks `dir/workbench.toml`.
    pub fn load(dir: &Path) -> Result<WorkbenchConfig, String> {
        let p = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&p).map_err(|e| format!("无法读取工作台配置 {}：{e}", p.display()))?;
        let c: WorkbenchConfig = toml::from_str(&text).map_err(|e| format!("工作台配置 {} 有错误：{e}", p.display()))?;
        if c.region.trim().is_empty() || !c.region.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-') {
            return Err(format!("工作台配置 {}：region“{}”应为字母、数字、- 或 _ 组成的统筹区编码", p.display(), c.region));
        }
        Ok(c)
    }

    /// Writes the configuration (used by `casemix workbench init`).
    pub fn save(&self, dir: &Path) -> Result<(), String> {
        let text = toml::to_string_pretty(self).map_err(|e| e.to_string())?;
        crate::files::write_atomic(&dir.join(CONFIG_FILE), text.as_bytes())
    }

    /// A configured path, relative to the data directory unless absolute.
    pub fn resolve(dir: &Path, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            dir.join(p)
        }
    }
}
