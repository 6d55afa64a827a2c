//! Shared helpers of the grouper's integration tests: where ../shared is, and reading the
//! reference CSV into owned records.
#![allow(dead_code)]

use std::path::PathBuf;

pub fn shared_dir() -> PathBuf {
    if let Ok(p) = std::env::var("CASEMIX_SHARED") {
        return PathBuf::from(p);
    }
    // crates/casemix-grouper → repo root → ../shared
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.join("../../../shared")
}

pub struct RefRow {
    pub id: String,
    pub sex: Option<i64>,
    pub age_years: Option<i64>,
    pub age_days: Option<i64>,
    pub birth_weight_g: Option<i64>,
    pub dept: Option<String>,
    pub los_days: Option<i64>,
    pub leaving_type: Option<i64>,
    pub icu_hours: Option<i64>,
    pub diagnoses: Vec<String>,
    pub procedures: Vec<String>,
    pub expected: [String; 4],
}

impl RefRow {
    pub fn input(&self) -> casemix_model::GroupInput<'_> {
        casemix_model::GroupInput {
            sex: self.sex,
            age_years: self.age_years,
            age_days: self.age_days,
            birth_weight_g: self.birth_weight_g,
            dept: self.dept.as_deref(),
            los_days: self.los_days,
            leaving_type: self.leaving_type,
            icu_hours: self.icu_hours.map(casemix_model::Centi::from_whole),
            diagnoses: &self.diagnoses,
            procedures: &self.procedures,
        }
    }
}

fn int(s: &str) -> Option<i64> {
    if s.is_empty() {
        None
    } else {
        Some(s.parse().expect("integer in reference file"))
    }
}

fn list(s: &str) -> Vec<String> {
    if s.is_empty() {
        Vec::new()
    } else {
        s.split('|').map(str::to_string).collect()
    }
}

pub fn read_reference(scheme: &str) -> Vec<RefRow> {
    let path = shared_dir().join("grouper-reference").join(format!("{scheme}.csv"));
    let mut r = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let f = |i: usize| rec.get(i).unwrap_or("");
        out.push(RefRow {
            id: f(0).to_string(),
            sex: int(f(1)),
            age_years: int(f(2)),
            age_days: int(f(3)),
            birth_weight_g: int(f(4)),
            dept: if f(5).is_empty() { None } else { Some(f(5).to_string()) },
            los_days: int(f(6)),
            leaving_type: int(f(7)),
            icu_hours: int(f(8)),
            diagnoses: list(f(9)),
            procedures: list(f(10)),
            expected: [f(11).to_string(), f(12).to_string(), f(13).to_string(), f(14).to_string()],
        });
    }
    out
}
