//! Long-running steps (upload, yearly run) as background jobs with progress the UI polls.

use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum JobState {
    Running,
    /// Finished: where to look at the result, and a Chinese summary.
    Done { url: String, message: String },
    Failed { message: String },
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
    #[serde(flatten)]
    pub state: JobState,
}

#[derive(Default)]
pub struct Jobs {
    next: AtomicU64,
    map: Mutex<BTreeMap<u64, Job>>,
}

impl Jobs {
    pub fn start(&self, kind: &str, owner: &str, hospital_code: Option<String>) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let j = Job { id, kind: kind.into(), owner: owner.into(), hospital_code, stage: "排队".into(), done: 0, total: 0, state: JobState::Running };
        self.map.lock().expect("jobs").insert(id, j);
        id
    }
    pub fn progress(&self, id: u64, stage: &str, done: u64, total: u64) {
        if let Some(j) = self.map.lock().expect("jobs").get_mut(&id) {
            j.stage = stage.to_string();
            j.done = done;
            j.total = total;
        }
    }
    pub fn finish(&self, id: u64, state: JobState) {
        if let Some(j) = self.map.lock().expect("jobs").get_mut(&id) {
            j.state = state;
        }
    }
    pub fn get(&self, id: u64) -> Option<Job> {
        self.map.lock().expect("jobs").get(&id).cloned()
    }
    /// A progress callback for the workbench steps.
    pub fn reporter(self: &Arc<Self>, id: u64) -> impl Fn(&str, u64, u64) + Send + Sync + 'static {
        let me = self.clone();
        move |stage, done, total| me.progress(id, stage, done, total)
    }
}
