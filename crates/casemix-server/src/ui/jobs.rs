//! Long-running steps (upload, yearly run) as background jobs with progress the UI polls,
//! persisted in the store (table `jobs`: kind, who, hospital, stage, progress, outcome, when).
//!
//! The live state of this server's jobs is kept in memory (progress changes many times a
//! second) and written to the store in order by one journal thread with its own connection:
//! the creation, every change of stage (and the progress at most once a second), the outcome.
//! No handler and no job waits for these writes. After a restart the job URL reads the store:
//! a job that was running when the server stopped is closed at start-up
//! (`Store::interrupt_running_jobs`): `done` if its upload committed (the upload row carries
//! the job id, in the same transaction), otherwise `interrupted` (中断) with the reason.

use casemix_store::{JobRecord, NewJob, Store};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum JobState {
    Running,
    /// Finished: where to look at the result, and a Chinese summary.
    Done { url: String, message: String },
    Failed { message: String },
    /// The server stopped while the job ran (known after the restart).
    Interrupted { message: String },
}

impl JobState {
    pub fn key(&self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Done { .. } => "done",
            JobState::Failed { .. } => "failed",
            JobState::Interrupted { .. } => "interrupted",
        }
    }
    pub fn label_zh(&self) -> &'static str {
        match self {
            JobState::Running => "进行中",
            JobState::Done { .. } => "已完成",
            JobState::Failed { .. } => "失败",
            JobState::Interrupted { .. } => "中断",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub id: u64,
    /// 上传 / 年度计算
    pub kind: String,
    pub owner: String,
    /// The hospital the job concerns (hospital users see only their own jobs).
    pub hospital_code: Option<String>,
    pub stage: String,
    pub done: u64,
    pub total: u64,
    /// When the job started / finished (UTC, `YYYY-MM-DDTHH:MM:SS…Z`).
    pub created_at: String,
    pub finished_at: Option<String>,
    #[serde(flatten)]
    pub state: JobState,
}

impl Job {
    /// The job as the store keeps it (after a restart).
    pub fn from_record(r: JobRecord) -> Job {
        use casemix_store::JobState as S;
        let state = match r.state {
            S::Running => JobState::Running,
            S::Done => JobState::Done { url: r.result_url.unwrap_or_default(), message: r.message },
            S::Failed => JobState::Failed { message: r.message },
            S::Interrupted => JobState::Interrupted { message: r.message },
        };
        Job {
            id: u64::try_from(r.id).unwrap_or(0),
            kind: r.kind,
            owner: r.owner,
            hospital_code: r.hospital_code,
            stage: r.stage,
            done: u64::try_from(r.done).unwrap_or(0),
            total: u64::try_from(r.total).unwrap_or(0),
            created_at: r.created_at,
            finished_at: r.finished_at,
            state,
        }
    }
}

/// A write for the journal thread.
enum Write {
    Create { id: i64, kind: String, owner: String, hospital_code: Option<String> },
    Progress { id: i64, stage: String, done: u64, total: u64 },
    Finish { id: i64, state: JobState },
}

/// Finished jobs kept in memory beyond this number are read from the store instead.
const KEEP_FINISHED: usize = 1000;
/// Progress within one stage is written to the store at most this often.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

pub struct Jobs {
    next: AtomicU64,
    map: Mutex<BTreeMap<u64, (Job, Instant)>>,
    journal: Mutex<Option<mpsc::Sender<Write>>>,
}

impl Default for Jobs {
    /// Jobs kept in memory only (tests without a store).
    fn default() -> Jobs {
        Jobs { next: AtomicU64::new(0), map: Mutex::new(BTreeMap::new()), journal: Mutex::new(None) }
    }
}

fn now() -> chrono::DateTime<chrono::Utc> {
    std::time::SystemTime::now().into()
}

impl Jobs {
    /// Jobs persisted through `store` (a connection of their own, moved to the journal thread).
    /// New ids start above `max_id` (the largest id in the store), so an id is never reused.
    pub fn persistent(store: Store, max_id: i64) -> Jobs {
        let (tx, rx) = mpsc::channel::<Write>();
        std::thread::Builder::new()
            .name("casemix-jobs-journal".into())
            .spawn(move || journal(store, rx))
            .map(|_| ())
            .unwrap_or_else(|e| eprintln!("任务日志线程无法启动，任务只保存在内存中：{e}"));
        Jobs { next: AtomicU64::new(u64::try_from(max_id).unwrap_or(0)), map: Mutex::new(BTreeMap::new()), journal: Mutex::new(Some(tx)) }
    }

    fn send(&self, w: Write) {
        if let Ok(j) = self.journal.lock() {
            if let Some(tx) = j.as_ref() {
                let _ = tx.send(w);
            }
        }
    }

    pub fn start(&self, kind: &str, owner: &str, hospital_code: Option<String>) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let j = Job {
            id,
            kind: kind.into(),
            owner: owner.into(),
            hospital_code: hospital_code.clone(),
            stage: "排队".into(),
            done: 0,
            total: 0,
            created_at: casemix_store::timestamp(now()),
            finished_at: None,
            state: JobState::Running,
        };
        if let Ok(mut m) = self.map.lock() {
            m.insert(id, (j, Instant::now()));
        }
        self.send(Write::Create { id: id as i64, kind: kind.into(), owner: owner.into(), hospital_code });
        id
    }

    pub fn progress(&self, id: u64, stage: &str, done: u64, total: u64) {
        let mut write = false;
        if let Ok(mut m) = self.map.lock() {
            if let Some((j, last)) = m.get_mut(&id) {
                write = j.stage != stage || last.elapsed() >= PROGRESS_EVERY || (total > 0 && done == total);
                j.stage = stage.to_string();
                j.done = done;
                j.total = total;
                if write {
                    *last = Instant::now();
                }
            }
        }
        if write {
            self.send(Write::Progress { id: id as i64, stage: stage.into(), done, total });
        }
    }

    pub fn finish(&self, id: u64, state: JobState) {
        if let Ok(mut m) = self.map.lock() {
            if let Some((j, _)) = m.get_mut(&id) {
                j.state = state.clone();
                j.finished_at = Some(casemix_store::timestamp(now()));
            }
            let finished: Vec<u64> = m.iter().filter(|(_, (j, _))| j.state != JobState::Running).map(|(k, _)| *k).collect();
            if finished.len() > KEEP_FINISHED {
                for k in &finished[..finished.len() - KEEP_FINISHED] {
                    m.remove(k);
                }
            }
        }
        self.send(Write::Finish { id: id as i64, state });
    }

    /// A job of this server run, from memory (`None`: ask the store, [`casemix_store::Store::job`]).
    pub fn get(&self, id: u64) -> Option<Job> {
        self.map.lock().ok()?.get(&id).map(|(j, _)| j.clone())
    }

    /// A progress callback for the workbench steps.
    pub fn reporter(self: &Arc<Self>, id: u64) -> impl Fn(&str, u64, u64) + Send + Sync + 'static {
        let me = self.clone();
        move |stage, done, total| me.progress(id, stage, done, total)
    }
}

/// The journal thread: applies the writes in order; a failed write is retried (a long upload
/// may hold SQLite's write lock), then reported on stderr and dropped.
fn journal(mut store: Store, rx: mpsc::Receiver<Write>) {
    while let Ok(w) = rx.recv() {
        for attempt in 0..3 {
            let res = match &w {
                Write::Create { id, kind, owner, hospital_code } => {
                    store.create_job(&NewJob { id: *id, kind, owner, hospital_code: hospital_code.as_deref() }, now())
                }
                Write::Progress { id, stage, done, total } => store.update_job_progress(*id, stage, *done, *total, now()),
                Write::Finish { id, state } => {
                    use casemix_store::JobState as S;
                    let (s, url, msg) = match state {
                        JobState::Running => break,
                        JobState::Done { url, message } => (S::Done, Some(url.as_str()), message.as_str()),
                        JobState::Failed { message } => (S::Failed, None, message.as_str()),
                        JobState::Interrupted { message } => (S::Interrupted, None, message.as_str()),
                    };
                    store.finish_job(*id, s, url, msg, now()).map(|_| ())
                }
            };
            match res {
                Ok(()) => break,
                Err(e) if attempt == 2 => eprintln!("任务记录写入数据库失败（已重试 3 次）：{e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(500)),
            }
        }
    }
}
