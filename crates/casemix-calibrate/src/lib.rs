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
//! ## Exact arithmetic and rounding (stated once, used everywhere; see [`stats`])
//! * fen sums and case counts are integers; price factors are exact fractions; year weighting is
//!   exact rational arithmetic; trimming decides on exact values;
//! * each output is rounded ONCE, half away from zero, from the exact value: a mean cost to the
//!   fen; RW = exact DRG cost ÷ exact all-case cost to 4 decimals (so RW may differ in the 4th
//!   decimal from the ratio of the two rounded fen figures shown); points = RW × 100, exact
//!   (2 decimals);
//! * CMI = Σ RW of the cases ÷ cases, exact, rounded half away from zero to 4 decimals.
//!
//! Only descriptive statistics (CV, SD, R², LOS means) are `f64`.

pub mod stats;

use casemix_model::Fen;
use serde::{Deserialize, Serialize};
use num_traits::{Signed, ToPrimitive};
use stats::{cv_i64, percentile_exact, ratio_dec4, round_fen, year_weighted_mean, BigRational, CostSum, Dec4, YearCost};
pub use stats::{Inflation, PriceFactor, PriceIndex, TrimRule};
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
        self.trim.validate()?;
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

/// Statistics of one DRG (or ADRG) in one year at the year's own prices (not price-adjusted).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct YearStat {
    pub year: i32,
    pub cases: usize,
    /// Cases kept after trimming.
    pub kept: usize,
    /// Mean cost of the kept cases, exact, rounded half away from zero to the fen (0 when none kept).
    pub cost_mean: Fen,
    /// Median cost of the kept cases, exact, rounded half away from zero to the fen.
    pub cost_median: Fen,
    /// Descriptive.
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
    /// Year-weighted, price-adjusted mean cost of the kept cases (exact), rounded to the fen.
    pub cost_mean: Option<Fen>,
    /// CV of the kept, price-adjusted costs pooled over the years (descriptive).
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
    /// Untrimmed all-case mean at the year's prices (exact, rounded to the fen).
    pub mean_raw: Fen,
    /// Trimmed all-case mean at the year's prices (exact, rounded to the fen).
    pub mean_kept: Fen,
    /// Price factor to the target year (exact fraction).
    pub factor: PriceFactor,
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

/// How many cases one trimming rule removes from the history.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TrimCount {
    pub rule: TrimRule,
    pub removed: usize,
}

/// The calibration of one hospital tier (level), for tier-level weights.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierCalibration {
    pub tier: String,
    pub calibration: Calibration,
}

/// The result of [`calibrate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    pub config: CalibConfig,
    pub target_year: i32,
    pub years: Vec<YearSummary>,
    /// Year-weighted, price-adjusted all-case mean cost of the kept cases (the RW denominator),
    /// rounded to the fen for display; RW divides by the exact value.
    pub all_cost: Fen,
    /// Sorted by DRG code.
    pub drgs: Vec<DrgWeight>,
    /// Sorted by ADRG code.
    pub adrgs: Vec<AdrgWeight>,
    /// R² of the DRGs over all cases (price-adjusted) and over the kept cases.
    pub r2_untrimmed: f64,
    pub r2_trimmed: f64,
    /// Cases each trimming rule would remove (the configured one first, then the alternatives).
    pub trim_removed: Vec<TrimCount>,
    /// Sorted by hospital, then year.
    pub cmi: Vec<HospitalCmi>,
    /// Cases given whose year is not a history year (ignored).
    pub outside_years: usize,
}

/// The cases of one DRG or ADRG: per history year, (cost fen, los) of the cases.
struct Bucket {
    years: Vec<Vec<(i64, i64)>>,
}

impl Bucket {
    fn new(n: usize) -> Bucket {
        Bucket { years: vec![Vec::new(); n] }
    }
}

/// A bucket after trimming: per year the statistics, the kept cases (sorted by cost) and their
/// exact cost and LOS sums.
struct Trimmed {
    stats: Vec<YearStat>,
    kept: Vec<Vec<(i64, i64)>>,
    cost: Vec<CostSum>,
    los: Vec<CostSum>,
}

fn trim_bucket(b: &mut Bucket, years: &[i32], rule: &TrimRule) -> Result<Trimmed, String> {
    let mut t = Trimmed { stats: Vec::new(), kept: Vec::new(), cost: Vec::new(), los: Vec::new() };
    for (v, &year) in b.years.iter_mut().zip(years) {
        v.sort_unstable();
        let costs: Vec<i64> = v.iter().map(|c| c.0).collect();
        let range = rule.kept_range(&costs);
        let kc = &costs[range.clone()];
        let kept: Vec<(i64, i64)> = v[range].to_vec();
        let (mut cost, mut los) = (CostSum::default(), CostSum::default());
        for &(c, l) in &kept {
            cost.add(c);
            los.add(l);
        }
        let median = if kc.is_empty() { Fen(0) } else { round_fen(&percentile_exact(kc, &BigRational::from_integer(50.into())))? };
        t.stats.push(YearStat {
            year,
            cases: v.len(),
            kept: kept.len(),
            cost_mean: cost.mean_fen()?,
            cost_median: median,
            cost_cv: cv_i64(kc),
            los_mean: los.mean().and_then(|m| m.to_f64()).unwrap_or(0.0),
        });
        t.kept.push(kept);
        t.cost.push(cost);
        t.los.push(los);
    }
    Ok(t)
}

/// The inputs of [`year_weighted_mean`] for per-year sums.
fn year_costs(sums: &[CostSum], weights: &[u32], factors: &[PriceFactor]) -> Vec<YearCost> {
    sums.iter().zip(weights).zip(factors).map(|((&cost, &weight), &factor)| YearCost { weight, cost, factor }).collect()
}

/// Exact year-weighted, price-adjusted mean cost of the kept cases and the year-weighted LOS.
fn weighted_cost(t: &Trimmed, cfg: &CalibConfig, factors: &[PriceFactor]) -> (Option<BigRational>, f64) {
    let cost = year_weighted_mean(&year_costs(&t.cost, &cfg.year_weights, factors));
    let ones = vec![PriceFactor::ONE; t.los.len()];
    let los = year_weighted_mean(&year_costs(&t.los, &cfg.year_weights, &ones)).and_then(|m| m.to_f64()).unwrap_or(0.0);
    (cost, los)
}

/// The history bucketed by DRG, with the untrimmed all-case sums per year.
struct History<'a> {
    drg_b: BTreeMap<&'a str, Bucket>,
    drg_adrg: BTreeMap<&'a str, &'a str>,
    all_raw: Vec<CostSum>,
    outside: usize,
}

fn bucket_history<'a>(cases: &[CaseCost<'a>], cfg: &CalibConfig) -> History<'a> {
    let ny = cfg.years.len();
    let mut h = History { drg_b: BTreeMap::new(), drg_adrg: BTreeMap::new(), all_raw: vec![CostSum::default(); ny], outside: 0 };
    for c in cases {
        let Some(yi) = cfg.years.iter().position(|&x| x == c.year) else {
            h.outside += 1;
            continue;
        };
        if let Some(v) = h.drg_b.entry(c.drg).or_insert_with(|| Bucket::new(ny)).years.get_mut(yi) {
            v.push((c.cost.0, c.los));
        }
        h.drg_adrg.entry(c.drg).or_insert(c.adrg);
        h.all_raw[yi].add(c.cost.0);
    }
    h
}

/// Every DRG trimmed, the kept cases pooled per ADRG (trimming happens at DRG level) and the
/// kept all-case sums per year.
struct TrimmedHistory<'a> {
    drgs: BTreeMap<&'a str, Trimmed>,
    adrg_b: BTreeMap<&'a str, Bucket>,
    year_kept: Vec<CostSum>,
}

fn trim_history<'a>(h: &mut History<'a>, cfg: &CalibConfig) -> Result<TrimmedHistory<'a>, String> {
    let ny = cfg.years.len();
    let mut out = TrimmedHistory { drgs: BTreeMap::new(), adrg_b: BTreeMap::new(), year_kept: vec![CostSum::default(); ny] };
    for (drg, b) in h.drg_b.iter_mut() {
        let t = trim_bucket(b, &cfg.years, &cfg.trim)?;
        let adrg = h.drg_adrg.get(drg).copied().unwrap_or("");
        let ab = out.adrg_b.entry(adrg).or_insert_with(|| Bucket::new(ny));
        for (yi, k) in t.kept.iter().enumerate() {
            ab.years[yi].extend_from_slice(k);
            out.year_kept[yi].merge(t.cost[yi]);
        }
        out.drgs.insert(drg, t);
    }
    Ok(out)
}

/// What every weight is computed against: the configuration, the exact price factors and the
/// exact all-case cost (the RW denominator).
struct Basis<'c> {
    cfg: &'c CalibConfig,
    factors: Vec<PriceFactor>,
    all: BigRational,
}

impl Basis<'_> {
    fn weighted(&self, i: usize) -> bool {
        self.cfg.year_weights.get(i).is_some_and(|&w| w > 0)
    }
    /// (cost_mean, RW) of an exact cost.
    fn cost_and_rw(&self, cost: Option<&BigRational>) -> Result<(Option<Fen>, Option<Dec4>), String> {
        match cost {
            Some(c) => Ok((Some(round_fen(c)?), Some(ratio_dec4(c, &self.all, 1)?))),
            None => Ok((None, None)),
        }
    }
}

/// ADRG pooled weights (no further trimming: the DRG-level trim already applied).
fn adrg_weights(h: &History<'_>, th: &mut TrimmedHistory<'_>, b: &Basis<'_>) -> Result<Vec<AdrgWeight>, String> {
    let mut cases_by_adrg: BTreeMap<&str, usize> = BTreeMap::new();
    for (drg, bucket) in &h.drg_b {
        let n: usize = bucket.years.iter().enumerate().filter(|(i, _)| b.weighted(*i)).map(|(_, v)| v.len()).sum();
        *cases_by_adrg.entry(h.drg_adrg.get(drg).copied().unwrap_or("")).or_default() += n;
    }
    let mut adrgs = Vec::new();
    for (adrg, bucket) in th.adrg_b.iter_mut() {
        let t = trim_bucket(bucket, &b.cfg.years, &TrimRule::None)?;
        let (cost, _) = weighted_cost(&t, b.cfg, &b.factors);
        let (cost_mean, rw) = b.cost_and_rw(cost.as_ref())?;
        let kept = t.stats.iter().enumerate().filter(|(i, _)| b.weighted(*i)).map(|(_, s)| s.kept).sum();
        adrgs.push(AdrgWeight { adrg: adrg.to_string(), cases: cases_by_adrg.get(adrg).copied().unwrap_or(0), kept, cost_mean, rw });
    }
    Ok(adrgs)
}

/// Pooled CV of the kept, price-adjusted costs of the weighted years (descriptive, f64).
fn pooled_cv(t: &Trimmed, b: &Basis<'_>) -> f64 {
    let adj: Vec<f64> = t
        .kept
        .iter()
        .enumerate()
        .filter(|(i, _)| b.weighted(*i))
        .flat_map(|(i, k)| {
            let f = b.factors[i].to_f64();
            k.iter().map(move |c| c.0 as f64 * f)
        })
        .collect();
    if adj.len() < 2 {
        return 0.0;
    }
    let m = adj.iter().sum::<f64>() / adj.len() as f64;
    let sd = (adj.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (adj.len() - 1) as f64).sqrt();
    if m == 0.0 {
        0.0
    } else {
        sd / m
    }
}

/// The weight of one DRG from its own history (if any), then the fallbacks of payment.md §1.6.
fn drg_weight(drg: &str, adrg: String, name: String, t: Option<&Trimmed>, b: &Basis<'_>, fallback: &Fallback<'_>) -> Result<DrgWeight, String> {
    let mut d = DrgWeight {
        drg: drg.to_string(),
        adrg,
        name,
        cases: 0,
        kept: 0,
        years: Vec::new(),
        cost_mean: None,
        cost_cv: 0.0,
        los_mean: 0.0,
        computed_rw: None,
        rw: None,
        source: WeightSource::NoData,
    };
    if let Some(t) = t {
        let (cost, los) = weighted_cost(t, b.cfg, &b.factors);
        (d.cost_mean, d.computed_rw) = b.cost_and_rw(cost.as_ref())?;
        d.cases = t.stats.iter().enumerate().filter(|(i, _)| b.weighted(*i)).map(|(_, s)| s.cases).sum();
        d.kept = t.stats.iter().enumerate().filter(|(i, _)| b.weighted(*i)).map(|(_, s)| s.kept).sum();
        d.years = t.stats.clone();
        d.cost_cv = pooled_cv(t, b);
        d.los_mean = los;
    }
    (d.rw, d.source) = if let Some(e) = fallback.expert.get(drg) {
        (Some(*e), WeightSource::Expert)
    } else if d.cases >= b.cfg.min_cases && d.computed_rw.is_some() {
        (d.computed_rw, WeightSource::Computed)
    } else if let Some(a) = fallback.adrg_rw(&d.adrg, b.cfg.min_cases) {
        (Some(a), WeightSource::AdrgFallback)
    } else if d.computed_rw.is_some() {
        (d.computed_rw, WeightSource::LowVolume)
    } else {
        (None, WeightSource::NoData)
    };
    Ok(d)
}

/// Where a thin DRG's weight can come from.
struct Fallback<'f> {
    expert: &'f BTreeMap<String, Dec4>,
    adrgs: &'f [AdrgWeight],
}

impl Fallback<'_> {
    fn adrg_rw(&self, adrg: &str, min_cases: usize) -> Option<Dec4> {
        self.adrgs.iter().find(|a| a.adrg == adrg).filter(|a| a.kept >= min_cases).and_then(|a| a.rw)
    }
}

/// DRG weights, including the scheme's DRGs without history.
fn drg_weights(h: &History<'_>, th: &TrimmedHistory<'_>, scheme_drgs: &[DrgInfo], b: &Basis<'_>, fb: &Fallback<'_>) -> Result<Vec<DrgWeight>, String> {
    let names: BTreeMap<&str, &DrgInfo> = scheme_drgs.iter().map(|d| (d.drg.as_str(), d)).collect();
    let mut all_drgs: Vec<&str> = h.drg_b.keys().copied().chain(names.keys().copied()).collect();
    all_drgs.sort_unstable();
    all_drgs.dedup();
    all_drgs
        .into_iter()
        .map(|drg| {
            let info = names.get(drg);
            let adrg = h.drg_adrg.get(drg).copied().or(info.map(|i| i.adrg.as_str())).unwrap_or("").to_string();
            let name = info.map(|i| i.name.clone()).unwrap_or_default();
            drg_weight(drg, adrg, name, th.drgs.get(drg), b, fb)
        })
        .collect()
}

/// R² on price-adjusted costs (descriptive, f64), groups = DRG, all history years: (untrimmed, trimmed).
fn r2_pair(h: &History<'_>, th: &TrimmedHistory<'_>, factors: &[PriceFactor]) -> (f64, f64) {
    let f: Vec<f64> = factors.iter().map(PriceFactor::to_f64).collect();
    let adj = |years: &[Vec<(i64, i64)>]| -> Vec<f64> {
        years.iter().zip(&f).flat_map(|(v, &fy)| v.iter().map(move |c| c.0 as f64 * fy)).collect()
    };
    let all: Vec<Vec<f64>> = h.drg_b.values().map(|b| adj(&b.years)).collect();
    let kept: Vec<Vec<f64>> = th.drgs.values().map(|t| adj(&t.kept)).collect();
    (stats::r2_of_groups(all.iter().map(|g| g.as_slice())), stats::r2_of_groups(kept.iter().map(|g| g.as_slice())))
}

/// Trimming counts per rule (configured first); the buckets are already sorted by cost.
fn trim_counts(h: &History<'_>, cfg: &CalibConfig) -> Vec<TrimCount> {
    let mut rules = vec![cfg.trim];
    rules.extend(TrimRule::ALTERNATIVES.iter().copied().filter(|r| *r != cfg.trim));
    rules
        .into_iter()
        .map(|rule| {
            let removed = h.drg_b.values().flat_map(|b| b.years.iter()).map(|v| rule.removed(&v.iter().map(|x| x.0).collect::<Vec<_>>())).sum();
            TrimCount { rule, removed }
        })
        .collect()
}

/// CMI per hospital and year: all grouped cases of the history years, final weights, exact
/// Σ RW ÷ cases rounded half away from zero to 4 decimals.
fn cmi_of(cases: &[CaseCost<'_>], drgs: &[DrgWeight], cfg: &CalibConfig) -> Result<Vec<HospitalCmi>, String> {
    let rw_of: BTreeMap<&str, Dec4> = drgs.iter().filter_map(|d| d.rw.map(|r| (d.drg.as_str(), r))).collect();
    let mut acc: BTreeMap<(&str, i32), (usize, i128)> = BTreeMap::new();
    for c in cases.iter().filter(|c| cfg.years.contains(&c.year)) {
        if let Some(rw) = rw_of.get(c.drg) {
            let e = acc.entry((c.hospital, c.year)).or_insert((0, 0));
            e.0 += 1;
            e.1 += i128::from(rw.0);
        }
    }
    acc.into_iter()
        .map(|((h, y), (n, s))| {
            let total = i64::try_from(s).map_err(|_| format!("医疗机构 {h} {y} 年权重合计超出范围"))?;
            let sum = BigRational::new(s.into(), 10_000.into());
            let cmi = ratio_dec4(&sum, &BigRational::from_integer(n.into()), 1)?;
            Ok(HospitalCmi { hospital: h.to_string(), year: y, cases: n, total_weight: Dec4(total), cmi })
        })
        .collect()
}

fn year_summaries(h: &History<'_>, th: &TrimmedHistory<'_>, b: &Basis<'_>) -> Result<Vec<YearSummary>, String> {
    (0..b.cfg.years.len())
        .map(|i| {
            Ok(YearSummary {
                year: b.cfg.years[i],
                weight: b.cfg.year_weights[i],
                cases: h.all_raw[i].count as usize,
                kept: th.year_kept[i].count as usize,
                mean_raw: h.all_raw[i].mean_fen()?,
                mean_kept: th.year_kept[i].mean_fen()?,
                factor: b.factors[i],
            })
        })
        .collect()
}

/// Computes DRG weights from grouped history cases. `scheme_drgs` lists the scheme's DRGs (names,
/// and groups without history); `expert` holds expert RWs by DRG code (they override).
pub fn calibrate(cases: &[CaseCost<'_>], scheme_drgs: &[DrgInfo], expert: &BTreeMap<String, Dec4>, cfg: &CalibConfig) -> Result<Calibration, String> {
    cfg.validate()?;
    let target = cfg.target();
    let mut h = bucket_history(cases, cfg);
    let factors = cfg.inflation.factors(&cfg.years, target, &h.all_raw)?;
    let mut th = trim_history(&mut h, cfg)?;
    let all = year_weighted_mean(&year_costs(&th.year_kept, &cfg.year_weights, &factors)).ok_or("历史数据中没有可用于测算的病例")?;
    if !all.is_positive() {
        return Err("全部病例例均费用不为正，无法计算权重".into());
    }
    let all_cost = round_fen(&all)?;
    let basis = Basis { cfg, factors, all };
    let adrgs = adrg_weights(&h, &mut th, &basis)?;
    let drgs = drg_weights(&h, &th, scheme_drgs, &basis, &Fallback { expert, adrgs: &adrgs })?;
    let (r2_untrimmed, r2_trimmed) = r2_pair(&h, &th, &basis.factors);
    let cmi = cmi_of(cases, &drgs, cfg)?;
    Ok(Calibration {
        config: cfg.clone(),
        target_year: target,
        years: year_summaries(&h, &th, &basis)?,
        all_cost,
        drgs,
        adrgs,
        r2_untrimmed,
        r2_trimmed,
        trim_removed: trim_counts(&h, cfg),
        cmi,
        outside_years: h.outside,
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
                "{},{},{},{},{},{},{:.4},{:.2},{}",
                stats::csv_cell(&d.drg),
                y.year,
                y.cases,
                y.kept,
                y.cost_mean,
                y.cost_median,
                y.cost_cv,
                y.los_mean,
                c.years.get(i).map(|y| y.factor.fixed6()).unwrap_or_default()
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
    /// Tier-level results, if requested.
    pub tiers: Vec<TierCalibration>,
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
    let mut s = String::new();
    report_data(&mut s, c, ctx);
    report_method(&mut s, c, ctx);
    report_trim(&mut s, c);
    report_r2(&mut s, c, ctx);
    report_sources(&mut s, c);
    report_cv(&mut s, c);
    report_cmi(&mut s, c);
    report_tiers(&mut s, ctx);
    report_summary(&mut s, c);
    s
}

/// Header and §1: the input and the yearly all-case figures.
fn report_data(s: &mut String, c: &Calibration, ctx: &ReportContext) {
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
            "| {} | {} | {} | {} | {} | {} | {} |",
            y.year,
            y.weight,
            y.cases,
            y.kept,
            y.mean_raw,
            y.mean_kept,
            y.factor.fixed6()
        );
    }
}

/// §2: the method and the rounding rules.
fn report_method(s: &mut String, c: &Calibration, ctx: &ReportContext) {
    let cfg = &c.config;
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
    let _ = writeln!(s, "\n**计算与舍入规则**：金额以分为单位的整数累加，价格调整系数为精确分数，年度加权以精确有理数计算，裁剪以精确值判断；每个结果只在最后舍入一次（四舍五入，远离零）：例均费用保留到分；RW = DRG 费用 ÷ 全部病例费用，以未舍入的精确值相除后保留 4 位小数（因此可能与表中两个已舍入到分的金额之比在第 4 位小数上相差 0.0001）；基准点数 = RW × 100，精确保留 2 位小数；CMI = Σ RW ÷ 病例数，四舍五入保留 4 位小数。描述性统计量（标准差、变异系数、R²、平均住院日）以双精度浮点计算，仅用于描述，不直接参与付费。\n");
}

/// §3: cases removed by each trimming rule.
fn report_trim(s: &mut String, c: &Calibration) {
    let _ = writeln!(s, "## 3. 裁剪\n");
    let _ = writeln!(s, "| 裁剪规则 | 剔除病例数 | 占比 |");
    let _ = writeln!(s, "|---|---|---|");
    let total: usize = c.years.iter().map(|y| y.cases).sum();
    for (i, tc) in c.trim_removed.iter().enumerate() {
        let mark = if i == 0 { "（采用）" } else { "" };
        let _ = writeln!(s, "| {}{} | {} | {} |", tc.rule.describe_zh(), mark, tc.removed, pct(tc.removed, total));
    }
}

/// §4: R² of the schemes.
fn report_r2(s: &mut String, c: &Calibration, ctx: &ReportContext) {
    let total: usize = c.years.iter().map(|y| y.cases).sum();
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
}

/// §5: where the weights come from, and the thin DRGs.
fn report_sources(s: &mut String, c: &Calibration) {
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
}

/// §6: the 20 DRGs of highest CV.
fn report_cv(s: &mut String, c: &Calibration) {
    let _ = writeln!(s, "\n## 6. 变异系数最高的 20 个 DRG（测算权重者）\n");
    let mut v: Vec<&DrgWeight> = c.drgs.iter().filter(|d| d.source == WeightSource::Computed).collect();
    v.sort_by(|a, b| b.cost_cv.total_cmp(&a.cost_cv).then(a.drg.cmp(&b.drg)));
    let _ = writeln!(s, "| DRG | 名称 | 病例数 | 例均费用(元) | CV | RW |");
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for d in v.iter().take(20) {
        let _ = writeln!(s, "| {} | {} | {} | {} | {:.4} | {} |", d.drg, d.name, d.cases, opt_fen(d.cost_mean), d.cost_cv, d.rw.map(|r| r.to_string()).unwrap_or_default());
    }
}

/// §7: CMI per hospital and year.
fn report_cmi(s: &mut String, c: &Calibration) {
    let cfg = &c.config;
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
}

/// §8: tier-level calibrations.
fn report_tiers(s: &mut String, ctx: &ReportContext) {
    if !ctx.tiers.is_empty() {
        let _ = writeln!(s, "\n## 8. 分级别测算（tier-level）\n");
        let _ = writeln!(s, "| 级别 | 病例数 | 全部病例费用(元) | 测算 DRG 数 | R²（裁剪后） |");
        let _ = writeln!(s, "|---|---|---|---|---|");
        for TierCalibration { tier: t, calibration: tc } in &ctx.tiers {
            let n: usize = tc.years.iter().map(|y| y.cases).sum();
            let k = tc.drgs.iter().filter(|d| d.source == WeightSource::Computed).count();
            let _ = writeln!(s, "| {t} | {n} | {} | {k} | {:.4} |", tc.all_cost, tc.r2_trimmed);
        }
    }
}

/// Summary.
fn report_summary(s: &mut String, c: &Calibration) {
    let no_data = c.drgs.iter().filter(|d| d.source == WeightSource::NoData).count();
    let computed = c.drgs.iter().filter(|d| d.source == WeightSource::Computed).count();
    let _ = writeln!(s, "\n## 小结\n");
    let _ = writeln!(s, "- 方案 DRG 数：{}；以本地历史测算权重的 DRG：{}；采用替代值：{}；无数据：{}。", c.drgs.len(), computed, c.drgs.iter().filter(|d| matches!(d.source, WeightSource::AdrgFallback | WeightSource::Expert | WeightSource::LowVolume)).count(), no_data);
    let _ = writeln!(s, "- R²：未裁剪 {:.4}，裁剪后 {:.4}。", c.r2_untrimmed, c.r2_trimmed);
}

/// Tier-level weights (`weights_tier.csv`): `tier,drg,cases,kept,cost_mean,rw,points,source`.
pub fn tier_weights_csv(tiers: &[TierCalibration]) -> String {
    let mut s = String::from("tier,drg,cases,kept,cost_mean,rw,points,source\n");
    for TierCalibration { tier: t, calibration: c } in tiers {
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
