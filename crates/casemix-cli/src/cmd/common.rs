//! Options shared by several subcommands.

use casemix_grouper::Grouper;
use std::path::{Path, PathBuf};

/// Resolves `--scheme`: a directory, or a scheme id looked up in `--schemes-dir`.
pub fn resolve_scheme(scheme: &str, schemes_dir: &Path) -> PathBuf {
    let p = PathBuf::from(scheme);
    if p.join("scheme.json").is_file() {
        return p;
    }
    schemes_dir.join(scheme)
}

/// Loads a scheme by directory or id, with a Chinese error.
pub fn load_grouper(scheme: &str, schemes_dir: &Path) -> Result<Grouper, String> {
    let dir = resolve_scheme(scheme, schemes_dir);
    if !dir.join("scheme.json").is_file() {
        return Err(format!("找不到分组方案 '{scheme}'（既不是方案目录，也不在 {} 中）", schemes_dir.display()));
    }
    Grouper::from_dir(&dir).map_err(|e| e.to_string())
}

pub const DEFAULT_SCHEMES_DIR: &str = "../shared/schemes";
