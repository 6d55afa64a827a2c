//! Run versions: every yearly run writes a complete new version of the derived run data in its
//! own directory and switches to it in one atomic step, so a reader sees the old run or the new
//! one, never a mix.
//!
//! Layout under `runs/` of the data directory:
//! - `CURRENT` — the name of the current version (one line), replaced atomically (temp file,
//!   fsync, rename, directory fsync). No `CURRENT` = no run yet.
//! - `v<millis>-<pid>/` — one version: `lake/` (the Parquet case partitions of every year and
//!   region, see casemix-lake), and per policy year `record-<year>.json` (counts, monthly
//!   settlements, clearing: small), `flags-<year>.jsonl` (one flag per line, sorted by hospital,
//!   list, flag) and `flags-<year>.idx.json` (every flag's identity, rule, score and amount with
//!   the byte range of its line: the review queue pages through it, a case page reads only its
//!   own flags). Partitions and records of other years are hard links into the previous version.
//! - `.staging-<name>/` — a version being written; renamed to `<name>` when complete.
//! - `run.lock` — held (an exclusive OS file lock, released by the kernel when the process dies)
//!   by the one run in progress; it holds that run's pid for the refusal message.
//!
//! A crash leaves at worst a staging directory or an unreferenced version: both are removed by
//! [`cleanup`] (called by `Workbench::open` and before every run) when no run holds the lock.

use crate::files;
use crate::records::{FlagEntry, FlagRecord, RunRecord};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The pointer file naming the current version.
pub const CURRENT: &str = "CURRENT";
const LOCK: &str = "run.lock";
const STAGING: &str = ".staging-";

/// Test-only hook: `CASEMIX_TEST_PAUSE_AT=<stage>` makes a run print `CASEMIX_TEST_PAUSED <stage>`
/// to stderr and sleep at the named stage, so that the crash tests can kill it there
/// deterministically. Stages: `inputs` (lock held, inputs read), `partitions` (two partitions
/// written into the staging directory), `staged` (everything written, before the staging
/// directory is renamed), `renamed` (version complete, before `CURRENT` is switched),
/// `switched` (after the switch, before old versions are removed). Never set in production.
pub const PAUSE_ENV: &str = "CASEMIX_TEST_PAUSE_AT";

pub fn pause_at(stage: &str) {
    if std::env::var(PAUSE_ENV).is_ok_and(|s| s == stage) {
        eprintln!("CASEMIX_TEST_PAUSED {stage}");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(60));
        }
    }
}

fn io_err(p: &Path, what: &str, e: std::io::Error) -> String {
    format!("无法{what} {}：{e}", p.display())
}

/// The one run in progress: an exclusive lock on `runs/run.lock`, released on drop (and by the
/// kernel if the process dies).
#[derive(Debug)]
pub struct RunLock {
    _file: std::fs::File,
}

/// Takes the run lock or refuses with a Chinese message naming the holder's pid.
pub fn lock(runs: &Path) -> Result<RunLock, String> {
    std::fs::create_dir_all(runs).map_err(|e| io_err(runs, "创建目录", e))?;
    let p = runs.join(LOCK);
    let mut f = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&p).map_err(|e| io_err(&p, "打开运行锁", e))?;
    match f.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = f.read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.is_empty() { String::new() } else { format!("（进程 {holder}）") };
            return Err(format!("另一个年度计算正在运行{who}：同一时间只能运行一个年度计算，请等待其完成后再试"));
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io_err(&p, "锁定", e)),
    }
    let _ = f.set_len(0).and_then(|_| f.seek(SeekFrom::Start(0)).map(|_| ())).and_then(|_| write!(f, "{}", std::process::id()));
    Ok(RunLock { _file: f })
}

/// The current version's name, if any.
pub fn current(runs: &Path) -> Result<Option<String>, String> {
    let p = runs.join(CURRENT);
    match std::fs::read_to_string(&p) {
        Ok(s) => {
            let name = s.trim().to_string();
            if !is_version_name(&name) {
                return Err(format!("{} 内容无效：“{name}”不是运行版本名", p.display()));
            }
            Ok(Some(name))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(&p, "读取", e)),
    }
}

fn is_version_name(s: &str) -> bool {
    s.len() > 1 && s.starts_with('v') && s[1..].bytes().all(|b| b.is_ascii_digit() || b == b'-')
}

/// A fresh version name: `v<unix millis, 15 digits>-<pid>`, ordered by time.
pub fn new_version_name() -> String {
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    format!("v{ms:015}-{}", std::process::id())
}

/// Removes what a crashed run left: staging directories, temp files of the pointer, versions
/// that are neither current nor the newest one before it. Does nothing while a run holds the
/// lock (the staging directory is then still being written). Returns the removed paths.
pub fn cleanup(runs: &Path) -> Result<Vec<PathBuf>, String> {
    if !runs.exists() {
        return Ok(Vec::new());
    }
    let Ok(_guard) = lock(runs) else { return Ok(Vec::new()) };
    cleanup_locked(runs, None)
}

/// [`cleanup`] with the lock already held; `keep` names a version to keep besides the current one.
pub fn cleanup_locked(runs: &Path, keep: Option<&str>) -> Result<Vec<PathBuf>, String> {
    let cur = current(runs)?;
    let mut versions = Vec::new();
    let mut removed = Vec::new();
    for e in std::fs::read_dir(runs).map_err(|e| io_err(runs, "读取目录", e))? {
        let e = e.map_err(|e| io_err(runs, "读取目录", e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let p = e.path();
        if name.starts_with(STAGING) || (name.starts_with('.') && name.contains(".tmp")) {
            remove(&p)?;
            removed.push(p);
        } else if is_version_name(&name) {
            versions.push(name);
        }
    }
    versions.sort();
    // keep the current version and the newest one before it (a reader that resolved it an
    // instant before the switch still finds its files); everything else goes
    let prev = match (&cur, keep) {
        (_, Some(k)) => Some(k.to_string()),
        (Some(c), None) => versions.iter().rev().find(|v| v.as_str() < c.as_str()).cloned(),
        (None, None) => None,
    };
    for v in versions {
        if Some(&v) == cur.as_ref() || Some(&v) == prev.as_ref() {
            continue;
        }
        let p = runs.join(&v);
        remove(&p)?;
        removed.push(p);
    }
    Ok(removed)
}

fn remove(p: &Path) -> Result<(), String> {
    let r = if p.is_dir() { std::fs::remove_dir_all(p) } else { std::fs::remove_file(p) };
    match r {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(p, "删除", e)),
    }
}

fn sync_dir(p: &Path) -> Result<(), String> {
    std::fs::File::open(p).and_then(|d| d.sync_all()).map_err(|e| io_err(p, "同步目录", e))
}

/// A version being written: `runs/.staging-<name>/`.
pub struct Staging {
    pub name: String,
    pub dir: PathBuf,
}

impl Staging {
    pub fn new(runs: &Path) -> Result<Staging, String> {
        let name = new_version_name();
        let dir = runs.join(format!("{STAGING}{name}"));
        std::fs::create_dir_all(dir.join("lake")).map_err(|e| io_err(&dir, "创建目录", e))?;
        Ok(Staging { name, dir })
    }

    pub fn lake_dir(&self) -> PathBuf {
        self.dir.join("lake")
    }

    /// Hard-links (copies where links are impossible) every file of the previous version that
    /// this run does not replace: lake files `keep_file` accepts (relative path) and the record
    /// files of other years.
    pub fn carry_over(&self, prev: &Path, year: i32, keep_lake_file: &dyn Fn(&Path) -> bool) -> Result<(), String> {
        let own = [format!("record-{year}.json"), format!("flags-{year}.jsonl"), format!("flags-{year}.idx.json")];
        for e in std::fs::read_dir(prev).map_err(|e| io_err(prev, "读取目录", e))? {
            let e = e.map_err(|e| io_err(prev, "读取目录", e))?;
            let name = e.file_name().to_string_lossy().into_owned();
            let is_record = (name.starts_with("record-") || name.starts_with("flags-")) && !name.starts_with('.');
            if is_record && !own.contains(&name) && e.path().is_file() {
                link(&e.path(), &self.dir.join(&name))?;
            }
        }
        let from = prev.join("lake");
        if from.is_dir() {
            link_tree(&from, &self.lake_dir(), Path::new(""), keep_lake_file)?;
        }
        Ok(())
    }

    /// Makes the staging directory a complete version: fsync, rename to its name.
    pub fn finish(self, runs: &Path) -> Result<String, String> {
        sync_dir(&self.dir)?;
        pause_at("staged");
        let to = runs.join(&self.name);
        std::fs::rename(&self.dir, &to).map_err(|e| io_err(&to, "启用运行版本", e))?;
        sync_dir(runs)?;
        Ok(self.name)
    }
}

fn link(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::hard_link(from, to).or_else(|_| std::fs::copy(from, to).map(|_| ())).map_err(|e| io_err(to, "链接文件", e))
}

fn link_tree(from: &Path, to: &Path, rel: &Path, keep: &dyn Fn(&Path) -> bool) -> Result<(), String> {
    for e in std::fs::read_dir(from).map_err(|e| io_err(from, "读取目录", e))? {
        let e = e.map_err(|e| io_err(from, "读取目录", e))?;
        let name = e.file_name();
        let rel = rel.join(&name);
        if name.to_string_lossy().starts_with('.') {
            continue; // a temp file is never carried over
        }
        if e.path().is_dir() {
            link_tree(&e.path(), &to.join(&name), &rel, keep)?;
        } else if keep(&rel) {
            std::fs::create_dir_all(to).map_err(|e| io_err(to, "创建目录", e))?;
            link(&e.path(), &to.join(&name))?;
            sync_dir(to)?;
        }
    }
    Ok(())
}

/// Switches `CURRENT` to `name` (atomic replace).
pub fn switch(runs: &Path, name: &str) -> Result<(), String> {
    files::write_atomic(&runs.join(CURRENT), format!("{name}\n").as_bytes())
}

/// Writes the run record and the flags of `year` into a (staging) version directory.
pub fn write_record(dir: &Path, rec: &RunRecord, flags: &[FlagRecord]) -> Result<(), String> {
    let year = rec.year;
    let mut sorted: Vec<&FlagRecord> = flags.iter().collect();
    sorted.sort_by(|a, b| (&a.hospital_code, &a.list_id, &a.flag_id).cmp(&(&b.hospital_code, &b.list_id, &b.flag_id)));
    let mut body = Vec::new();
    let mut index = Vec::with_capacity(sorted.len());
    for f in sorted {
        let offset = body.len() as u64;
        serde_json::to_writer(&mut body, f).map_err(|e| e.to_string())?;
        index.push(FlagEntry::of(f, offset, body.len() as u64 - offset));
        body.push(b'\n');
    }
    files::write_atomic(&dir.join(format!("flags-{year}.jsonl")), &body)?;
    files::write_json(&dir.join(format!("flags-{year}.idx.json")), &index)?;
    files::write_json(&dir.join(format!("record-{year}.json")), rec)
}

/// One version as a reader sees it: resolved once, so every read of a request comes from the
/// same run.
#[derive(Debug, Clone)]
pub struct RunView {
    pub version: String,
    pub dir: PathBuf,
    pub year: i32,
}

impl RunView {
    pub fn lake_dir(&self) -> PathBuf {
        self.dir.join("lake")
    }

    /// The run record of the year (`None` when this version has no run of it).
    pub fn record(&self) -> Result<Option<RunRecord>, String> {
        files::read_json(&self.dir.join(format!("record-{}.json", self.year)))
    }

    /// The flag index (identity, rule, score, amount and byte range of every flag).
    pub fn flag_index(&self) -> Result<Vec<FlagEntry>, String> {
        Ok(files::read_json(&self.dir.join(format!("flags-{}.idx.json", self.year)))?.unwrap_or_default())
    }

    /// The full records of the given index entries (one seek and read each).
    pub fn read_flags(&self, entries: &[&FlagEntry]) -> Result<Vec<FlagRecord>, String> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let p = self.dir.join(format!("flags-{}.jsonl", self.year));
        let mut f = std::fs::File::open(&p).map_err(|e| io_err(&p, "读取", e))?;
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let len = usize::try_from(e.len).map_err(|_| format!("{} 索引无效", p.display()))?;
            let mut buf = vec![0u8; len];
            f.seek(SeekFrom::Start(e.offset)).and_then(|_| f.read_exact(&mut buf)).map_err(|err| io_err(&p, "读取", err))?;
            out.push(serde_json::from_slice(&buf).map_err(|err| format!("{} 中审核标记 {} 无效：{err}", p.display(), e.flag_id))?);
        }
        Ok(out)
    }

    /// The flags of one case `(hospital_code, list_id)`: its own, and those of the same
    /// hospital's lists that name it as related. Never another hospital's.
    pub fn case_flags(&self, hospital_code: &str, list_id: &str) -> Result<Vec<FlagRecord>, String> {
        let idx = self.flag_index()?;
        let mine: Vec<&FlagEntry> = idx.iter().filter(|e| e.hospital_code == hospital_code && (e.list_id == list_id || e.related_ids.iter().any(|r| r == list_id))).collect();
        self.read_flags(&mine)
    }

    /// One flag by id.
    pub fn flag(&self, flag_id: &str) -> Result<Option<FlagRecord>, String> {
        let idx = self.flag_index()?;
        let Some(e) = idx.iter().find(|e| e.flag_id == flag_id) else { return Ok(None) };
        Ok(self.read_flags(&[e])?.pop())
    }
}
