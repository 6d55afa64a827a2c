//! # casemix-calibrate
//!
//! DRG relative weights (权重, RW) and base points (基准点数) from a pooling region's own
//! settlement history, by the method of `shared/docs/payment.md` §1:
//! price adjustment of each year to the target year, trimming within each DRG and year,
//! year weighting (1:2:7 oldest → newest), RW = DRG cost ÷ all-case cost, fallbacks for groups
//! with too few cases (ADRG weight or expert value, flagged, never zero), grouping efficacy R²
//! before and after trimming, and CMI per hospital and year (payment.md §5).
//!
//! Pure: the caller groups the history and passes slim [`CaseCost`]s; [`calibrate`] returns a
//! [`Calibration`]; [`weights_csv`], [`drg_years_csv`], [`cmi_csv`] and [`report_md`] render it.
//!
//! ## Rounding (stated once, used everywhere)
//! * a mean cost is rounded half away from zero to the fen;
//! * RW = cost_mean (fen) ÷ all-case cost (fen), computed exactly in integers and rounded half away
//!   from zero to 4 decimals; points = RW × 100, exact (2 decimals);
//! * CMI = Σ RW of the cases ÷ cases, rounded half away from zero to 4 decimals.

pub mod stats;

use casemix_model::Fen;
use serde::{Deserialize, Serialize};
use stats::{cv_i64, median_sorted, ratio_1e4, round_fen, year_weighted, Dec4};
pub use stats::{Inflation, TrimRule};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One grouped history case, as slim as calibration needs. Strings borrow from the caller
/// (the grouper's codes, the settlement list's hospital code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseCost<'a> {
    /// Year of discharge.
    pub year: i32,
    pub hospital: &'a str,
    pub drg: &'a str,
    pub adrg: &'a str,
    /// 金额合计 (total cost).
    pub cost: Fen,
    /// 实际住院天数.
    pub los: i64,
}

/// A DRG of the scheme (to list groups without history and to name them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrgInfo {
    pub drg: String,
    pub adrg: String,
    pub name: String,
}

/// Every parameter of the calibration. Defaults from `shared/docs/payment.md` §1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibConfig {
    /// History years, oldest first (payment.md §1.1: the last three years).
    pub years: Vec<i32>,
    /// Weight of each year, same order (payment.md §1.4: 1:2:7 oldest → newest; Ankang "7:2:1"
    /// newest first is the same).
    pub year_weights: Vec<u32>,
    /// Price level the costs are brought to (default: the newest year; payment.md §1.2).
    pub target_year: Option<i32>,
    /// payment.md §1.3 (default mean ± 3 SD).
    pub trim: TrimRule,
    /// payment.md §1.2 (default measured growth of the all-case mean).
    pub inflation: Inflation,
    /// payment.md §1.6: groups with fewer cases than this in the weighted history take their
    /// ADRG's weight or an expert value (default 5).
    pub min_cases: usize,
    /// payment.md §3: base points = RW × 100.
    pub points_per_rw: i64,
}

impl Default for CalibConfig {
    fn default() -> Self {
        CalibConfig {
            years: vec![2022, 2023, 2024],
            year_weights: vec![1, 2, 7],
            target_year: None,
            trim: TrimRule::default(),
            inflation: Inflation::default(),
            min_cases: 5,
            points_per_rw: 100,
        }
    }
}

impl CalibConfig {
    pub fn target(&self) -> i32 {
        self.target_year.unwrap_or_else(|| self.years.iter().copied().max().unwrap_or(0))
    }
    /// Checks years and weights; Chinese message.
    pub fn validate(&self) -> Result<(), String> {
        if self.years.is_empty() {
            return Err("未指定历史年度 (--years)".into());
        }
        if self.years.len() != self.year_weights.len() {
            return Err(format!("年度数 {} 与年度权重数 {} 不一致", self.years.len(), self.year_weights.len()));
        }
        if self.year_weights.iter().all(|&w| w == 0) {
            return Err("年度权重不能全为 0".into());
        }
        let mut s = self.years.clone();
        s.sort();
        s.dedup();
        if s.len() != self.years.len() {
            return Err("历史年度有重复".into());
        }
        Ok(())
    }
}

/// Where a DRG's final weight comes from (`source` column of weights.csv).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum WeightSource {
    /// From the DRG's own history (≥ min_cases).
    Computed,
    /// Too few cases: the weight of its ADRG.
    AdrgFallback,
    /// From the expert file.
    Expert,
    /// Too few cases, and neither the ADRG nor an expert value available: the DRG's own
    /// small-sample value, flagged for review.
    LowVolume,
    /// No history case at all and no fallback: no weight (empty cell), flagged.
    NoData,
}

impl WeightSource {
    pub fn key(self) -> &'static str {
        match self {
            WeightSource::Computed => "computed",
            WeightSource::AdrgFallback => "adrg_fallback",
            WeightSource::Expert => "expert",
            WeightSource::LowVolume => "low_volume",
            WeightSource::NoData => "no_data",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            WeightSource::Computed => "历史数据测算",
            WeightSource::AdrgFallback => "病例数不足，取所属 ADRG 权重",
            WeightSource::Expert => "专家值",
            WeightSource::LowVolume => "病例数不足且无 ADRG/专家值，取本组小样本测算值（待复核）",
            WeightSource::NoData => "无历史病例且无替代值（待定）",
        }
    }
}

/// Statistics of one DRG (or ADRG) in one year (untrimmed costs are not price-adjusted here).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct YearStat {
    pub year: i32,
    pub cases: usize,
    /// Cases kept after trimming.
    pub kept: usize,
    /// Mean cost of the kept cases, fen, at the year's own prices.
    pub cost_mean: f64,
    pub cost_median: f64,
    pub cost_cv: f64,
    pub los_mean: f64,
}

/// The weight of one DRG.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DrgWeight {
    pub drg: String,
    pub adrg: String,
    pub name: String,
    /// Cases in the weighted history (years of weight > 0), before trimming.
    pub cases: usize,
    /// Cases kept after trimming.
    pub kept: usize,
    pub years: Vec<YearStat>,
    /// Year-weighted, price-adjusted mean cost of the kept cases, rounded to the fen.
    pub cost_mean: Option<Fen>,
    /// CV of the kept, price-adjusted costs pooled over the years.
    pub cost_cv: f64,
    /// Year-weighted mean LOS of the kept cases.
    pub los_mean: f64,
    /// RW from the DRG's own history (before any fallback).
    pub computed_rw: Option<Dec4>,
    /// The final weight.
    pub rw: Option<Dec4>,
    pub source: WeightSource,
}

/// The pooled weight of an ADRG (used as the fallback of its DRGs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdrgWeight {
    pub adrg: String,
    pub cases: usize,
    pub kept: usize,
    pub cost_mean: Option<Fen>,
    pub rw: Option<Dec4>,
}

/// All-case figures of one history year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct YearSummary {
    pub year: i32,
    pub weight: u32,
    pub cases: usize,
    pub kept: usize,
    /// Untrimmed all-case mean at the year's prices, fen.
    pub mean_raw: f64,
    /// Trimmed all-case mean at the year's prices, fen.
    pub mean_kept: f64,
    /// Price factor to the target year.
    pub factor: f64,
}

/// Case-mix index of one hospital in one year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HospitalCmi {
    pub hospital: String,
    pub year: i32,
    pub cases: usize,
    /// Σ RW.
    pub total_weight: Dec4,
    pub cmi: Dec4,
}

/// The result of [`calibrate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    pub config: CalibConfig,
    pub target_year: i32,
    pub years: Vec<YearSummary>,
    /// Year-weighted, price-adjusted all-case mean cost of the kept cases (the RW denominator).
    pub all_cost: Fen,
    /// Sorted by DRG code.
    pub drgs: Vec<DrgWeight>,
    /// Sorted by ADRG code.
    pub adrgs: Vec<AdrgWeight>,
    /// R² of the DRGs over all cases (price-adjusted) and over the kept cases.
    pub r2_untrimmed: f64,
    pub r2_trimmed: f64,
    /// Cases each trimming rule would remove (the configured one first, then the alternatives).
    pub trim_removed: Vec<(TrimRule, usize)>,
    /// Sorted by hospital, then year.
    pub cmi: Vec<HospitalCmi>,
    /// Cases given whose year is not a history year (ignored).
    pub outside_years: usize,
}

struct Bucket {
    /// Per history year: (cost fen, los) of the cases.
    years: Vec<Vec<(i64, i64)>>,
}

impl Bucket {
    fn new(n: usize) -> Bucket {
        Bucket { years: vec![Vec::new(); n] }
    }
}

struct Trimmed {
    stats: Vec<YearStat>,
    /// Kept costs per year (fen, los).
    kept: Vec<Vec<(i64, i64)>>,
}

fn trim_bucket(b: &mut Bucket, years: &[i32], rule: &TrimRule) -> Trimmed {
    let mut stats = Vec::with_capacity(years.len());
    let mut kept_all = Vec::with_capacity(years.len());
    for (yi, v) in b.years.iter_mut().enumerate() {
        v.sort_unstable();
        let costs: Vec<i64> = v.iter().map(|c| c.0).collect();
        let (lo, hi) = rule.bounds(&costs);
        let kept: Vec<(i64, i64)> = v.iter().copied().filter(|&(c, _)| (c as f64) >= lo && (c as f64) <= hi).collect();
        let kc: Vec<i64> = kept.iter().map(|c| c.0).collect();
        let los_mean = if kept.is_empty() { 0.0 } else { kept.iter().map(|c| c.1 as f64).sum::<f64>() / kept.len() as f64 };
        stats.push(YearStat {
            year: years[yi],
            cases: v.len(),
            kept: kept.len(),
            cost_mean: stats::mean_i64(&kc),
            cost_median: median_sorted(&kc),
            cost_cv: cv_i64(&kc),
            los_mean,
        });
        kept_all.push(kept);
    }
    Trimmed { stats, kept: kept_all }
}

/// Year-weighted, price-adjusted mean of the kept cases (fen, unrounded) and year-weighted LOS.
fn weighted_cost(t: &Trimmed, weights: &[u32], factors: &[f64]) -> (Option<f64>, Option<f64>) {
    let cost: Vec<(u32, Option<f64>)> = t
        .stats
        .iter()
        .enumerate()
        .map(|(i, s)| (weights[i], if s.kept > 0 { Some(s.cost_mean * factors[i]) } else { None }))
        .collect();
    let los: Vec<(u32, Option<f64>)> =
        t.stats.iter().enumerate().map(|(i, s)| (weights[i], if s.kept > 0 { Some(s.los_mean) } else { None })).collect();
    (year_weighted(&cost), year_weighted(&los))
}

/// Computes DRG weights from grouped history cases. `scheme_drgs` lists the scheme's DRGs (names,
/// and groups without history); `expert` holds expert RWs by DRG code (they override).
pub fn calibrate(
    cases: &[CaseCost<'_>],
    scheme_drgs: &[DrgInfo],
    expert: &BTreeMap<String, Dec4>,
    cfg: &CalibConfig,
) -> Result<Calibration, String> {
    cfg.validate()?;
    let target = cfg.target();
    let ny = cfg.years.len();
    let year_ix = |y: i32| cfg.years.iter().position(|&x| x == y);
    // Bucket by DRG and by ADRG.
    let mut drg_b: BTreeMap<&str, Bucket> = BTreeMap::new();
    let mut drg_adrg: BTreeMap<&str, &str> = BTreeMap::new();
    let mut adrg_b: BTreeMap<&str, Bucket> = BTreeMap::new();
    let mut all_raw = vec![(0i128, 0usize); ny];
    let mut outside = 0;
    for c in cases {
        let Some(yi) = year_ix(c.year) else {
            outside += 1;
            continue;
        };
        drg_b.entry(c.drg).or_insert_with(|| Bucket::new(ny)).years[yi].push((c.cost.0, c.los));
        drg_adrg.entry(c.drg).or_insert(c.adrg);
        all_raw[yi].0 += c.cost.0 as i128;
        all_raw[yi].1 += 1;
    }
    let mean_raw: Vec<f64> = all_raw.iter().map(|&(s, n)| if n == 0 { 0.0 } else { s as f64 / n as f64 }).collect();
    let factors_v = cfg.inflation.factors(&cfg.years, target, &mean_raw)?;
    let factors: &[f64] = &factors_v;

    // Trim each DRG-year; collect kept cases per ADRG-year (trimming happens at DRG level).
    let mut trimmed: BTreeMap<&str, Trimmed> = BTreeMap::new();
    let mut year_kept = vec![(0i128, 0usize); ny];
    for (drg, b) in drg_b.iter_mut() {
        let t = trim_bucket(b, &cfg.years, &cfg.trim);
        let adrg = drg_adrg[drg];
        let ab = adrg_b.entry(adrg).or_insert_with(|| Bucket::new(ny));
        for (yi, k) in t.kept.iter().enumerate() {
            ab.years[yi].extend_from_slice(k);
            year_kept[yi].0 += k.iter().map(|c| c.0 as i128).sum::<i128>();
            year_kept[yi].1 += k.len();
        }
        trimmed.insert(drg, t);
    }
    let mean_kept: Vec<f64> = year_kept.iter().map(|&(s, n)| if n == 0 { 0.0 } else { s as f64 / n as f64 }).collect();
    let all_w: Vec<(u32, Option<f64>)> = (0..ny)
        .map(|i| (cfg.year_weights[i], if year_kept[i].1 > 0 { Some(mean_kept[i] * factors[i]) } else { None }))
        .collect();
    let all_cost = year_weighted(&all_w).map(round_fen).ok_or("历史数据中没有可用于测算的病例")?;
    if all_cost <= 0 {
        return Err("全部病例例均费用不为正，无法计算权重".into());
    }

    // ADRG pooled weights (no further trimming: the DRG-level trim already applied).
    let mut adrgs = Vec::new();
    for (adrg, b) in adrg_b.iter_mut() {
        let t = trim_bucket(b, &cfg.years, &TrimRule::None);
        let (c, _) = weighted_cost(&t, &cfg.year_weights, factors);
        let cost_mean = c.map(|x| Fen(round_fen(x)));
        let cases_n: usize = drg_b
            .iter()
            .filter(|(d, _)| drg_adrg[*d] == *adrg)
            .map(|(_, b)| b.years.iter().enumerate().filter(|(i, _)| cfg.year_weights[*i] > 0).map(|(_, v)| v.len()).sum::<usize>())
            .sum();
        let kept: usize = t.stats.iter().enumerate().filter(|(i, _)| cfg.year_weights[*i] > 0).map(|(_, s)| s.kept).sum();
        adrgs.push(AdrgWeight {
            adrg: adrg.to_string(),
            cases: cases_n,
            kept,
            cost_mean,
            rw: cost_mean.map(|f| Dec4(ratio_1e4(f.0, all_cost, 1))),
        });
    }
    let adrg_rw = |adrg: &str| -> Option<Dec4> {
        adrgs.iter().find(|a| a.adrg == adrg).filter(|a| a.kept >= cfg.min_cases).and_then(|a| a.rw)
    };

    // DRG weights, including the scheme's DRGs without history.
    let mut names: BTreeMap<&str, &DrgInfo> = BTreeMap::new();
    for d in scheme_drgs {
        names.insert(&d.drg, d);
    }
    let mut all_drgs: Vec<&str> = drg_b.keys().copied().chain(names.keys().copied()).collect();
    all_drgs.sort_unstable();
    all_drgs.dedup();
    let mut drgs = Vec::with_capacity(all_drgs.len());
    for drg in all_drgs {
        let info = names.get(drg);
        let adrg = drg_adrg.get(drg).copied().or(info.map(|i| i.adrg.as_str())).unwrap_or("").to_string();
        let name = info.map(|i| i.name.clone()).unwrap_or_default();
        let (stats_v, cases_n, kept_n, cost_mean, cost_cv, los_mean) = match trimmed.get(drg) {
            Some(t) => {
                let (c, l) = weighted_cost(t, &cfg.year_weights, factors);
                let w = |i: usize| cfg.year_weights[i] > 0;
                let cases_n: usize = t.stats.iter().enumerate().filter(|(i, _)| w(*i)).map(|(_, s)| s.cases).sum();
                let kept_n: usize = t.stats.iter().enumerate().filter(|(i, _)| w(*i)).map(|(_, s)| s.kept).sum();
                // pooled CV of the kept, price-adjusted costs
                let adj: Vec<f64> = t
                    .kept
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| w(*i))
                    .flat_map(|(i, k)| k.iter().map(move |c| c.0 as f64 * factors[i]))
                    .collect();
                let cv = if adj.len() < 2 {
                    0.0
                } else {
                    let m = adj.iter().sum::<f64>() / adj.len() as f64;
                    let sd = (adj.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (adj.len() - 1) as f64).sqrt();
                    if m == 0.0 { 0.0 } else { sd / m }
                };
                (t.stats.clone(), cases_n, kept_n, c.map(|x| Fen(round_fen(x))), cv, l.unwrap_or(0.0))
            }
            None => (Vec::new(), 0, 0, None, 0.0, 0.0),
        };
        let computed_rw = cost_mean.map(|f| Dec4(ratio_1e4(f.0, all_cost, 1)));
        let (rw, source) = if let Some(e) = expert.get(drg) {
            (Some(*e), WeightSource::Expert)
        } else if cases_n >= cfg.min_cases && computed_rw.is_some() {
            (computed_rw, WeightSource::Computed)
        } else if let Some(a) = adrg_rw(&adrg) {
            (Some(a), WeightSource::AdrgFallback)
        } else if computed_rw.is_some() {
            (computed_rw, WeightSource::LowVolume)
        } else {
            (None, WeightSource::NoData)
        };
        drgs.push(DrgWeight {
            drg: drg.to_string(),
            adrg,
            name,
            cases: cases_n,
            kept: kept_n,
            years: stats_v,
            cost_mean,
            cost_cv,
            los_mean,
            computed_rw,
            rw,
            source,
        });
    }

    // R² on price-adjusted costs, groups = DRG, all history years.
    let mut groups_all: Vec<Vec<f64>> = Vec::with_capacity(drg_b.len());
    let mut groups_kept: Vec<Vec<f64>> = Vec::with_capacity(drg_b.len());
    for (drg, b) in &drg_b {
        groups_all.push(b.years.iter().enumerate().flat_map(|(i, v)| v.iter().map(move |c| c.0 as f64 * factors[i])).collect());
        let t = &trimmed[drg];
        groups_kept.push(t.kept.iter().enumerate().flat_map(|(i, v)| v.iter().map(move |c| c.0 as f64 * factors[i])).collect());
    }
    let r2_untrimmed = stats::r2_of_groups(groups_all.iter().map(|g| g.as_slice()));
    let r2_trimmed = stats::r2_of_groups(groups_kept.iter().map(|g| g.as_slice()));

    // Trimming counts per rule (configured first).
    let mut rules = vec![cfg.trim];
    rules.extend(TrimRule::ALTERNATIVES.iter().copied().filter(|r| *r != cfg.trim));
    let trim_removed = rules
        .iter()
        .map(|r| {
            let n: usize = drg_b
                .values()
                .flat_map(|b| b.years.iter())
                .map(|v| {
                    let c: Vec<i64> = v.iter().map(|x| x.0).collect(); // already sorted by trim_bucket
                    r.removed(&c)
                })
                .sum();
            (*r, n)
        })
        .collect();

    // CMI per hospital and year: all grouped cases, final weights.
    let rw_of: BTreeMap<&str, Dec4> = drgs.iter().filter_map(|d| d.rw.map(|r| (d.drg.as_str(), r))).collect();
    let mut cmi_acc: BTreeMap<(&str, i32), (usize, i64)> = BTreeMap::new();
    for c in cases {
        if year_ix(c.year).is_none() {
            continue;
        }
        if let Some(rw) = rw_of.get(c.drg) {
            let e = cmi_acc.entry((c.hospital, c.year)).or_insert((0, 0));
            e.0 += 1;
            e.1 += rw.0;
        }
    }
    let cmi = cmi_acc
        .into_iter()
        .map(|((h, y), (n, s))| HospitalCmi {
            hospital: h.to_string(),
            year: y,
            cases: n,
            total_weight: Dec4(s),
            cmi: Dec4(ratio_1e4(s, n as i64 * 10_000, 1)),
        })
        .collect();

    let years = (0..ny)
        .map(|i| YearSummary {
            year: cfg.years[i],
            weight: cfg.year_weights[i],
            cases: all_raw[i].1,
            kept: year_kept[i].1,
            mean_raw: mean_raw[i],
            mean_kept: mean_kept[i],
            factor: factors[i],
        })
        .collect();
    Ok(Calibration {
        config: cfg.clone(),
        target_year: target,
        years,
        all_cost: Fen(all_cost),
        drgs,
        adrgs,
        r2_untrimmed,
        r2_trimmed,
        trim_removed,
        cmi,
        outside_years: outside,
    })
}

fn opt_fen(f: Option<Fen>) -> String {
    f.map(|x| x.to_string()).unwrap_or_default()
}

/// `weights.csv`: `drg,adrg,name,cases,kept,cost_mean,cost_cv,los_mean,rw,points,source`
/// (cost_mean yuan 2 decimals, cost_cv 4 decimals, los_mean 2 decimals, rw 4, points 2).
pub fn weights_csv(c: &Calibration) -> String {
    let mut s = String::from("drg,adrg,name,cases,kept,cost_mean,cost_cv,los_mean,rw,points,source\n");
    for d in &c.drgs {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{:.4},{:.2},{},{},{}",
            stats::csv_cell(&d.drg),
            stats::csv_cell(&d.adrg),
            stats::csv_cell(&d.name),
            d.cases,
            d.kept,
            opt_fen(d.cost_mean),
            d.cost_cv,
            d.los_mean,
            d.rw.map(|r| r.to_string()).unwrap_or_default(),
            d.rw.map(|r| r.times100_string()).unwrap_or_default(),
            d.source.key()
        );
    }
    s
}

/// `drg_years.csv`: one row per DRG and history year with the trimmed statistics at the year's
/// own prices: `drg,year,cases,kept,cost_mean,cost_median,cost_cv,los_mean,price_factor`.
pub fn drg_years_csv(c: &Calibration) -> String {
    let mut s = String::from("drg,year,cases,kept,cost_mean,cost_median,cost_cv,los_mean,price_factor\n");
    for d in &c.drgs {
        for (i, y) in d.years.iter().enumerate() {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{:.4},{:.2},{:.6}",
                stats::csv_cell(&d.drg),
                y.year,
                y.cases,
                y.kept,
                Fen(round_fen(y.cost_mean)),
                Fen(round_fen(y.cost_median)),
                y.cost_cv,
                y.los_mean,
                c.years[i].factor
            );
        }
    }
    s
}

/// `adrg_weights.csv`: `adrg,cases,kept,cost_mean,rw`.
pub fn adrg_csv(c: &Calibration) -> String {
    let mut s = String::from("adrg,cases,kept,cost_mean,rw\n");
    for a in &c.adrgs {
        let _ = writeln!(s, "{},{},{},{},{}", stats::csv_cell(&a.adrg), a.cases, a.kept, opt_fen(a.cost_mean), a.rw.map(|r| r.to_string()).unwrap_or_default());
    }
    s
}

/// `cmi.csv`: `hospital,year,cases,total_weight,cmi`.
pub fn cmi_csv(c: &Calibration) -> String {
    let mut s = String::from("hospital,year,cases,total_weight,cmi\n");
    for h in &c.cmi {
        let _ = writeln!(s, "{},{},{},{},{}", stats::csv_cell(&h.hospital), h.year, h.cases, h.total_weight, h.cmi);
    }
    s
}

/// R² of one scheme on the same history (for the scheme comparison of the report).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemeR2 {
    pub scheme: String,
    pub title: String,
    pub cases: usize,
    pub grouped: usize,
    pub groups: usize,
    pub r2_untrimmed: f64,
    pub r2_trimmed: f64,
}

/// What the report says about the input (filled by the caller).
#[derive(Debug, Clone, Default)]
pub struct ReportContext {
    pub scheme: String,
    pub scheme_title: String,
    /// Lines describing the input files and exclusions (Markdown list items without the dash).
    pub input_notes: Vec<String>,
    /// All schemes compared (the calibration's own scheme first).
    pub schemes: Vec<SchemeR2>,
    /// Tier-level results, if requested: (tier, calibration).
    pub tiers: Vec<(String, Calibration)>,
}

fn pct(a: usize, b: usize) -> String {
    if b == 0 {
        "—".into()
    } else {
        format!("{:.2}%", a as f64 * 100.0 / b as f64)
    }
}

/// The Chinese Markdown report (method, trimming counts, R², fallbacks, CMI).
pub fn report_md(c: &Calibration, ctx: &ReportContext) -> String {
    let cfg = &c.config;
    let mut s = String::new();
    let _ = writeln!(s, "# DRG 权重测算报告\n");
    let _ = writeln!(s, "分组方案：{} {}；目标年度（价格水平）：{}\n", ctx.scheme, ctx.scheme_title, c.target_year);
    let _ = writeln!(s, "## 1. 数据\n");
    for n in &ctx.input_notes {
        let _ = writeln!(s, "- {n}");
    }
    let _ = writeln!(s, "\n| 年度 | 年度权重 | 入组病例数 | 裁剪后病例数 | 例均费用(元，未裁剪) | 例均费用(元，裁剪后) | 价格调整系数 |");
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    for y in &c.years {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {:.6} |",
            y.year,
            y.weight,
            y.cases,
            y.kept,
            Fen(round_fen(y.mean_raw)),
            Fen(round_fen(y.mean_kept)),
            y.factor
        );
    }
    let _ = writeln!(s, "\n## 2. 方法（payment.md §1）\n");
    let _ = writeln!(s, "1. 历史数据：{} 年的住院结算清单，用分组方案 {} 分组；只用“分组成功”的病例。", cfg.years.iter().map(|y| y.to_string()).collect::<Vec<_>>().join("、"), ctx.scheme);
    let _ = writeln!(s, "2. 价格调整：{}。", cfg.inflation.describe_zh());
    let _ = writeln!(s, "3. 裁剪：在每个 DRG、每个年度内，{}；病例数少于 2 的组年不裁剪。", cfg.trim.describe_zh());
    let _ = writeln!(
        s,
        "4. 年度加权：DRG 费用 = Σ 年度权重 × 当年裁剪后例均费用 × 价格调整系数 ÷ Σ 年度权重（权重 {}，由远及近；某年无病例时该年权重不计入分母）。",
        cfg.year_weights.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(":")
    );
    let _ = writeln!(s, "5. 相对权重 RW = DRG 费用 ÷ 全部病例费用（全部病例费用以同样方法计算：{} 元）；基准点数 = RW × {}。", c.all_cost, cfg.points_per_rw);
    let _ = writeln!(
        s,
        "6. 病例数少于 {} 例（加权年度内、裁剪前）的 DRG：有专家值取专家值，否则取所属 ADRG 的合并权重（ADRG 裁剪后病例数不少于 {} 例时），否则保留本组小样本测算值并标记 low_volume；无任何病例且无替代值的标记 no_data（权重留空，不作 0 处理）。专家值对任何 DRG 都优先。",
        cfg.min_cases, cfg.min_cases
    );
    let _ = writeln!(s, "7. 分组效能 R² = 1 − Σ(费用 − 组均值)² ÷ Σ(费用 − 总均值)²，费用为价格调整后的单病例费用，历史各年合并计算。");
    let _ = writeln!(s, "\n**舍入规则**：例均费用按四舍五入（远离零）保留到分；RW = 例均费用(分) ÷ 全部病例费用(分)，以整数精确计算后四舍五入（远离零）保留 4 位小数；基准点数 = RW × 100，精确保留 2 位小数；CMI = Σ RW ÷ 病例数，四舍五入保留 4 位小数。统计量（标准差、变异系数、百分位数、R²）以双精度浮点计算，仅用于描述，不直接参与付费。\n");
    let _ = writeln!(s, "## 3. 裁剪\n");
    let _ = writeln!(s, "| 裁剪规则 | 剔除病例数 | 占比 |");
    let _ = writeln!(s, "|---|---|---|");
    let total: usize = c.years.iter().map(|y| y.cases).sum();
    for (i, (r, n)) in c.trim_removed.iter().enumerate() {
        let mark = if i == 0 { "（采用）" } else { "" };
        let _ = writeln!(s, "| {}{} | {} | {} |", r.describe_zh(), mark, n, pct(*n, total));
    }
    let _ = writeln!(s, "\n## 4. 分组效能 R²\n");
    let _ = writeln!(s, "| 方案 | 病例数 | 入组病例数 | 入组率 | 出现的组数 | R²（未裁剪） | R²（裁剪后） |");
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    if ctx.schemes.is_empty() {
        let _ = writeln!(s, "| {} | {} | {} | — | {} | {:.4} | {:.4} |", ctx.scheme, total, total, c.drgs.iter().filter(|d| d.cases > 0).count(), c.r2_untrimmed, c.r2_trimmed);
    }
    for sc in &ctx.schemes {
        let _ = writeln!(
            s,
            "| {} {} | {} | {} | {} | {} | {:.4} | {:.4} |",
            sc.scheme,
            sc.title,
            sc.cases,
            sc.grouped,
            pct(sc.grouped, sc.cases),
            sc.groups,
            sc.r2_untrimmed,
            sc.r2_trimmed
        );
    }
    let _ = writeln!(s, "\n## 5. 权重来源\n");
    let mut by_src: BTreeMap<WeightSource, usize> = BTreeMap::new();
    for d in &c.drgs {
        *by_src.entry(d.source).or_default() += 1;
    }
    let _ = writeln!(s, "| 来源 | DRG 数 | 说明 |");
    let _ = writeln!(s, "|---|---|---|");
    for (k, n) in &by_src {
        let _ = writeln!(s, "| {} | {} | {} |", k.key(), n, k.label_zh());
    }
    let flagged: Vec<&DrgWeight> = c.drgs.iter().filter(|d| d.source != WeightSource::Computed && d.cases > 0).collect();
    if !flagged.is_empty() {
        let _ = writeln!(s, "\n病例数不足而采用替代值的 DRG（有历史病例者）：\n");
        let _ = writeln!(s, "| DRG | 名称 | 病例数 | 本组测算 RW | 采用 RW | 来源 |");
        let _ = writeln!(s, "|---|---|---|---|---|---|");
        for d in flagged {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                d.drg,
                d.name,
                d.cases,
                d.computed_rw.map(|r| r.to_string()).unwrap_or_default(),
                d.rw.map(|r| r.to_string()).unwrap_or_default(),
                d.source.key()
            );
        }
    }
    let _ = writeln!(s, "\n## 6. 变异系数最高的 20 个 DRG（测算权重者）\n");
    let mut v: Vec<&DrgWeight> = c.drgs.iter().filter(|d| d.source == WeightSource::Computed).collect();
    v.sort_by(|a, b| b.cost_cv.total_cmp(&a.cost_cv).then(a.drg.cmp(&b.drg)));
    let _ = writeln!(s, "| DRG | 名称 | 病例数 | 例均费用(元) | CV | RW |");
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for d in v.iter().take(20) {
        let _ = writeln!(s, "| {} | {} | {} | {} | {:.4} | {} |", d.drg, d.name, d.cases, opt_fen(d.cost_mean), d.cost_cv, d.rw.map(|r| r.to_string()).unwrap_or_default());
    }
    let _ = writeln!(s, "\n## 7. 各医疗机构 CMI（payment.md §5：CMI = Σ RW ÷ 病例数）\n");
    let mut hosp: BTreeMap<&str, BTreeMap<i32, &HospitalCmi>> = BTreeMap::new();
    for h in &c.cmi {
        hosp.entry(&h.hospital).or_default().insert(h.year, h);
    }
    let _ = write!(s, "| 医疗机构 |");
    for y in &cfg.years {
        let _ = write!(s, " {y} 病例数 | {y} CMI |");
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "|---|{}", "---|---|".repeat(cfg.years.len()));
    for (h, ys) in &hosp {
        let _ = write!(s, "| {h} |");
        for y in &cfg.years {
            match ys.get(y) {
                Some(x) => {
                    let _ = write!(s, " {} | {} |", x.cases, x.cmi);
                }
                None => {
                    let _ = write!(s, " 0 | — |");
                }
            }
        }
        let _ = writeln!(s);
    }
    if !ctx.tiers.is_empty() {
        let _ = writeln!(s, "\n## 8. 分级别测算（tier-level）\n");
        let _ = writeln!(s, "| 级别 | 病例数 | 全部病例费用(元) | 测算 DRG 数 | R²（裁剪后） |");
        let _ = writeln!(s, "|---|---|---|---|---|");
        for (t, tc) in &ctx.tiers {
            let n: usize = tc.years.iter().map(|y| y.cases).sum();
            let k = tc.drgs.iter().filter(|d| d.source == WeightSource::Computed).count();
            let _ = writeln!(s, "| {t} | {n} | {} | {k} | {:.4} |", tc.all_cost, tc.r2_trimmed);
        }
    }
    let computed = c.drgs.iter().filter(|d| d.source == WeightSource::Computed).count();
    let _ = writeln!(s, "\n## 小结\n");
    let _ = writeln!(s, "- 方案 DRG 数：{}；以本地历史测算权重的 DRG：{}；采用替代值：{}；无数据：{}。", c.drgs.len(), computed, c.drgs.iter().filter(|d| matches!(d.source, WeightSource::AdrgFallback | WeightSource::Expert | WeightSource::LowVolume)).count(), by_src.get(&WeightSource::NoData).copied().unwrap_or(0));
    let _ = writeln!(s, "- R²：未裁剪 {:.4}，裁剪后 {:.4}。", c.r2_untrimmed, c.r2_trimmed);
    s
}

/// Tier-level weights (`weights_tier.csv`): `tier,drg,cases,kept,cost_mean,rw,points,source`.
pub fn tier_weights_csv(tiers: &[(String, Calibration)]) -> String {
    let mut s = String::from("tier,drg,cases,kept,cost_mean,rw,points,source\n");
    for (t, c) in tiers {
        for d in c.drgs.iter().filter(|d| d.cases > 0 || d.rw.is_some()) {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{},{}",
                stats::csv_cell(t),
                stats::csv_cell(&d.drg),
                d.cases,
                d.kept,
                opt_fen(d.cost_mean),
                d.rw.map(|r| r.to_string()).unwrap_or_default(),
                d.rw.map(|r| r.times100_string()).unwrap_or_default(),
                d.source.key()
            );
        }
    }
    s
}
