//! The aggregate figures of a generated region (summary.json), accumulated as rows are emitted.

use crate::config::{Kind, SynthConfig};
use crate::generate::{Chunk, Row};
use casemix_model::LeavingType;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Default, Clone)]
pub struct YearAcc {
    pub lists: u64,
    pub cost_fen: i128,
    pub los_days: i128,
    pub personal_fen: i128,
    pub deaths: u64,
    pub grouped: u64,
    pub drgs: FxHashMap<String, u64>,
    pub claims: u64,
    pub injected: BTreeMap<Kind, u64>,
    pub resampled: u64,
    pub not_injected: u64,
}

impl YearAcc {
    pub fn add_row(&mut self, r: &Row) {
        self.lists += 1;
        self.cost_fen += r.list.total().0 as i128;
        self.los_days += r.list.los_days.unwrap_or(0) as i128;
        self.personal_fen += r.list.personal_pay.map(|f| f.0).unwrap_or(0) as i128;
        if r.list.leaving_type == Some(LeavingType::Death) {
            self.deaths += 1;
        }
        if !r.drg.is_empty() {
            self.grouped += 1;
            match self.drgs.get_mut(r.drg.as_str()) {
                Some(n) => *n += 1,
                None => {
                    self.drgs.insert(r.drg.clone(), 1);
                }
            }
        }
    }
    pub fn add_chunk(&mut self, c: &Chunk) {
        for r in &c.rows {
            self.add_row(r);
        }
        self.claims += c.claims.len() as u64;
        for l in &c.labels {
            *self.injected.entry(l.kind).or_insert(0) += 1;
        }
        self.resampled += c.resampled;
        self.not_injected += c.not_injected;
    }
    pub fn merge(&mut self, o: &YearAcc) {
        self.lists += o.lists;
        self.cost_fen += o.cost_fen;
        self.los_days += o.los_days;
        self.personal_fen += o.personal_fen;
        self.deaths += o.deaths;
        self.grouped += o.grouped;
        for (k, v) in &o.drgs {
            *self.drgs.entry(k.clone()).or_insert(0) += v;
        }
        self.claims += o.claims;
        for (k, v) in &o.injected {
            *self.injected.entry(*k).or_insert(0) += v;
        }
        self.resampled += o.resampled;
        self.not_injected += o.not_injected;
    }
}

/// Figures of one year (or of all years).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Figures {
    pub settlement_lists: u64,
    pub claims: u64,
    /// 次均费用 (yuan, 2 decimals).
    pub mean_cost_yuan: f64,
    /// 平均住院日.
    pub mean_los_days: f64,
    /// 个人负担比例 = Σ personal_pay / Σ total_cost.
    pub personal_burden_ratio: f64,
    /// 住院死亡率.
    pub mortality: f64,
    /// 入组率.
    pub grouped_share: f64,
    pub distinct_drgs: usize,
    /// Share of lists in the 50 most frequent DRGs (of all lists).
    pub top50_share: f64,
    pub injected: BTreeMap<String, u64>,
    /// Cases that did not group and were drawn again (never silently dropped).
    pub resampled_ungrouped: u64,
    /// Behaviour draws that could not be injected (emitted as ordinary stays, unlabelled).
    pub injection_fallbacks: u64,
}

fn round(x: f64, d: i32) -> f64 {
    let p = 10f64.powi(d);
    (x * p).round() / p
}

impl Figures {
    pub fn from(a: &YearAcc) -> Figures {
        let n = a.lists.max(1) as f64;
        let mut counts: Vec<(&String, &u64)> = a.drgs.iter().collect();
        counts.sort_by(|x, y| y.1.cmp(x.1).then(x.0.cmp(y.0)));
        let top50: u64 = counts.iter().take(50).map(|x| *x.1).sum();
        Figures {
            settlement_lists: a.lists,
            claims: a.claims,
            mean_cost_yuan: round(a.cost_fen as f64 / n / 100.0, 2),
            mean_los_days: round(a.los_days as f64 / n, 3),
            personal_burden_ratio: round(if a.cost_fen > 0 { a.personal_fen as f64 / a.cost_fen as f64 } else { 0.0 }, 4),
            mortality: round(a.deaths as f64 / n, 4),
            grouped_share: round(a.grouped as f64 / n, 4),
            distinct_drgs: a.drgs.len(),
            top50_share: round(top50 as f64 / n, 4),
            injected: Kind::ALL.iter().map(|k| (k.key().to_string(), a.injected.get(k).copied().unwrap_or(0))).collect(),
            resampled_ungrouped: a.resampled,
            injection_fallbacks: a.not_injected,
        }
    }
}

/// summary.json.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub generator: &'static str,
    pub seed: u64,
    pub profile: &'static str,
    pub scheme: String,
    pub years: Vec<i32>,
    pub hospitals: usize,
    pub hospitals_by_level: BTreeMap<String, usize>,
    pub bad_actor_hospitals: Vec<String>,
    pub rates: BTreeMap<String, f64>,
    /// Price index per year (yearly inflation).
    pub price_index: Vec<f64>,
    pub recipes: usize,
    pub total: Figures,
    pub by_year: BTreeMap<i32, Figures>,
    /// The calibration targets (issue 3) and whether the whole region meets them.
    pub targets: BTreeMap<String, Target>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub range: (f64, f64),
    pub value: f64,
    pub ok: bool,
}

pub fn summary(cfg: &SynthConfig, scheme: &str, years: &BTreeMap<i32, YearAcc>, extra: SummaryExtra) -> Summary {
    let mut all = YearAcc::default();
    for y in years.values() {
        all.merge(y);
    }
    let total = Figures::from(&all);
    let by_year: BTreeMap<i32, Figures> = years.iter().map(|(y, a)| (*y, Figures::from(a))).collect();
    let mut targets = BTreeMap::new();
    let mut t = |k: &str, lo: f64, hi: f64, v: f64| {
        targets.insert(k.to_string(), Target { range: (lo, hi), value: v, ok: v >= lo && v <= hi });
    };
    // issue 3 calibration targets (regions.md figures)
    t("mean_cost_yuan", 10_000.0, 13_000.0, total.mean_cost_yuan);
    t("mean_los_days", 8.0, 10.0, total.mean_los_days);
    t("personal_burden_ratio", 0.40, 0.50, total.personal_burden_ratio);
    t("mortality", 0.005, 0.015, total.mortality);
    t("grouped_share", 0.98, 1.0, total.grouped_share);
    Summary {
        generator: "casemix-synth",
        seed: cfg.seed,
        profile: cfg.profile.name(),
        scheme: scheme.to_string(),
        years: cfg.years().collect(),
        hospitals: extra.hospitals,
        hospitals_by_level: extra.by_level,
        bad_actor_hospitals: extra.bad_actors,
        rates: cfg.inject.rates.iter().map(|(k, v)| (k.key().to_string(), *v)).collect(),
        price_index: extra.price.iter().map(|p| round(*p, 4)).collect(),
        recipes: extra.recipes,
        total,
        by_year,
        targets,
    }
}

pub struct SummaryExtra {
    pub hospitals: usize,
    pub by_level: BTreeMap<String, usize>,
    pub bad_actors: Vec<String>,
    pub price: Vec<f64>,
    pub recipes: usize,
}
