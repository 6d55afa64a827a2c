//! # casemix-dip
//!
//! DIP (按病种分值付费, Big-Data Diagnosis-Intervention Packet) by the national method of
//! `shared/docs/dip.md`: the 病种 catalogue (病种目录库) built from a region's own history —
//! combination key = principal diagnosis at ICD-10 亚目 level × the case's procedures; core
//! 病种 (核心病种) at or above the case-count threshold; the rest aggregated into comprehensive
//! 病种 (综合病种) by diagnosis category × procedure type; basic 病种 (基层病种) from a policy
//! list; an auxiliary catalogue (辅助目录) for disease severity and age; scores (分值) = 病种 mean
//! cost ÷ all-case mean cost × base, year-weighted and price-adjusted as DRG weights
//! (`casemix-calibrate`). [`Catalogue::assign`] puts a new case into its 病种 with a trace.
//!
//! Pure: the caller passes slim [`DipCase`]s, the operating-room procedure list (for 手术) and
//! optional code names; nothing is read from disk.
//!
//! Exact arithmetic (as `casemix_calibrate::stats`): fen sums and counts are integers, price
//! factors exact fractions, year weighting exact rationals, trimming decided on exact values. Each
//! output is rounded once, half away from zero: a mean cost to the fen; score = exact 病种 cost ×
//! base ÷ exact all-case cost, 4 decimals; an auxiliary factor = exact level mean ÷ exact 病种
//! mean (both pooled over the years, price-adjusted), 4 decimals; a case's combined factor =
//! severity factor × age factor, rounded to 4 decimals.

use casemix_calibrate::stats::{self, csv_cell, ratio_dec4, round_fen, year_weighted_mean, BigRational, CostSum, Dec4, YearCost};
pub use casemix_calibrate::{Inflation, PriceFactor, PriceIndex, TrimRule};
use num_traits::{Signed, ToPrimitive, Zero};
use casemix_model::Fen;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// Type of one procedure (dip.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ProcKind {
    /// 手术 (in the operating-room list).
    Surgery,
    /// 治疗性操作.
    Therapeutic,
    /// 诊断性操作.
    Diagnostic,
}

impl ProcKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            ProcKind::Surgery => "手术",
            ProcKind::Therapeutic => "治疗性操作",
            ProcKind::Diagnostic => "诊断性操作",
        }
    }
}

/// Treatment type of a case, in increasing precedence (dip.md §1: 相关手术 > 治疗性操作 >
/// 诊断性操作 > 保守治疗).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TreatType {
    /// 保守治疗 (no procedure).
    Conservative,
    /// 诊断性操作.
    Diagnostic,
    /// 治疗性操作.
    Therapeutic,
    /// 相关手术.
    Surgery,
}

impl TreatType {
    pub fn label_zh(self) -> &'static str {
        match self {
            TreatType::Conservative => "保守治疗",
            TreatType::Diagnostic => "诊断性操作",
            TreatType::Therapeutic => "治疗性操作",
            TreatType::Surgery => "相关手术",
        }
    }
    pub fn key(self) -> &'static str {
        match self {
            TreatType::Conservative => "conservative",
            TreatType::Diagnostic => "diagnostic",
            TreatType::Therapeutic => "therapeutic",
            TreatType::Surgery => "surgery",
        }
    }
}

/// Kind of a 病种.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DipKind {
    /// 核心病种.
    Core,
    /// 基层病种.
    Basic,
    /// 综合病种.
    Comprehensive,
}

impl DipKind {
    pub fn key(self) -> &'static str {
        match self {
            DipKind::Core => "core",
            DipKind::Basic => "basic",
            DipKind::Comprehensive => "comprehensive",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            DipKind::Core => "核心病种",
            DipKind::Basic => "基层病种",
            DipKind::Comprehensive => "综合病种",
        }
    }
    fn prefix(self) -> char {
        match self {
            DipKind::Core => 'C',
            DipKind::Basic => 'B',
            DipKind::Comprehensive => 'Z',
        }
    }
}

/// How procedures are typed. 手术 = the code is in the operating-room list (the DRG scheme's
/// `or_procedures.tsv`, 有效手术); otherwise the ICD-9-CM-3 chapter (the number before the dot)
/// decides: chapters in `diagnostic_chapters` are 诊断性操作 (default 87–91: 87–88 diagnostic
/// radiology/imaging, 89–91 interview, evaluation, diagnostic procedures, microscopic
/// examination), all others 治疗性操作. Rationale: ICD-9-CM-3 groups its diagnostic procedures in
/// these chapters (dip.md §1 names the three types without a code list; this rule is local and
/// configurable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcRule {
    pub diagnostic_chapters: Vec<ChapterRange>,
}

/// An inclusive range of ICD-9-CM-3 chapters, e.g. 87–91.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChapterRange {
    pub first: u32,
    pub last: u32,
}

impl Default for ProcRule {
    fn default() -> Self {
        ProcRule { diagnostic_chapters: vec![ChapterRange { first: 87, last: 91 }] }
    }
}

/// A combination key as text: ICD-10 亚目 × kept procedures joined by `+` (empty = 保守治疗);
/// an entry of the 基层病种 policy list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ComboKey {
    pub dx_key: String,
    pub proc_key: String,
}

/// One history year of the catalogue's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DipYear {
    pub year: i32,
    pub weight: u32,
    pub cases: usize,
    /// Untrimmed mean cost at the year's prices (exact, rounded half away from zero to the fen).
    pub mean: Fen,
    /// Price factor to the target year (exact fraction).
    pub factor: PriceFactor,
}

/// Disease-severity levels (dip.md §1 auxiliary catalogue; spec-notes §2.6: CCI-style bands
/// 0 / 1–2 / 3–4 / ≥5, death a level of its own — third-party defaults, hence parameters).
/// Index of a case = Σ over its distinct secondary diagnoses of `weights[code]` (or
/// `default_weight` when the code is not listed). Level = number of `band_starts` ≤ index;
/// a death (离院方式 5) is level `band_starts.len() + 1` when `death_level` is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityRule {
    pub weights: BTreeMap<String, u32>,
    pub default_weight: u32,
    pub band_starts: Vec<u32>,
    pub death_level: bool,
}

impl Default for SeverityRule {
    /// Without a comorbidity list every distinct secondary diagnosis counts 1.
    fn default() -> Self {
        SeverityRule { weights: BTreeMap::new(), default_weight: 1, band_starts: vec![1, 3, 5], death_level: true }
    }
}

impl SeverityRule {
    /// Level of a case (0 = no relevant secondary diagnosis).
    pub fn level(&self, secondary: &[String], leaving_type: Option<i64>) -> u8 {
        self.level_with(secondary, leaving_type, &|d| self.weights.get(d).copied())
    }

    /// [`SeverityRule::level`] with a faster lookup of the weights (e.g. a hash map of them).
    pub fn level_with(&self, secondary: &[String], leaving_type: Option<i64>, weight: &dyn Fn(&str) -> Option<u32>) -> u8 {
        if self.death_level && leaving_type == Some(5) {
            return self.band_starts.len() as u8 + 1;
        }
        let mut seen: Vec<&str> = Vec::with_capacity(secondary.len());
        let mut index = 0u32;
        for d in secondary {
            let d = d.trim();
            if d.is_empty() || seen.contains(&d) {
                continue;
            }
            seen.push(d);
            index += weight(d).unwrap_or(self.default_weight);
        }
        self.band_starts.iter().filter(|&&b| index >= b).count() as u8
    }
}

/// An age band of the age-characteristics auxiliary catalogue (dip.md §1: e.g. ≤ 17, ≥ 65).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeBand {
    pub label: String,
    pub min_years: i64,
    pub max_years: i64,
}

fn default_age_bands() -> Vec<AgeBand> {
    vec![
        AgeBand { label: "≤17岁".into(), min_years: 0, max_years: 17 },
        AgeBand { label: "18–64岁".into(), min_years: 18, max_years: 64 },
        AgeBand { label: "≥65岁".into(), min_years: 65, max_years: i64::MAX },
    ]
}

/// Every parameter of the DIP catalogue. Defaults and sources in `shared/docs/dip.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DipConfig {
    /// History years, oldest first (dip.md §2).
    pub years: Vec<i32>,
    /// Year weights, oldest first (dip.md §2: 1:2:7).
    pub year_weights: Vec<u32>,
    /// Target price year (default newest).
    pub target_year: Option<i32>,
    /// Price adjustment as for DRG weights (dip.md §2 → payment.md §1.2).
    pub inflation: Inflation,
    /// Trimming (dip.md §2: optional, default none).
    pub trim: TrimRule,
    /// 临界值: combinations with at least this many cases are core 病种 (dip.md §1, default 15).
    pub core_threshold: usize,
    /// Score base (dip.md §2: 100, as Lhasa; 1000 selectable).
    pub score_base: i64,
    pub proc_rule: ProcRule,
    pub severity: SeverityRule,
    pub age_bands: Vec<AgeBand>,
    /// An auxiliary level gets its own factor only with at least this many cases (spec-notes §2.6:
    /// subtype ≥ 5 cases; third-party default).
    pub aux_min_level_cases: usize,
    /// … and only in 病种 with at least this many cases (spec-notes §2.6: 15).
    pub aux_min_group_cases: usize,
    /// … and only in 病种 whose cost CV is at least this (spec-notes §2.6 uses 0.7; default 0 =
    /// always).
    pub aux_min_cv: f64,
    /// Assignment: when the exact combination is not in the catalogue, try the core 病种 of the
    /// same diagnosis matching most procedures (spec-notes §2.1, Tangshan rule) before the
    /// comprehensive 病种.
    pub partial_match: bool,
}

impl Default for DipConfig {
    fn default() -> Self {
        DipConfig {
            years: vec![2022, 2023, 2024],
            year_weights: vec![1, 2, 7],
            target_year: None,
            inflation: Inflation::MeasuredGrowth,
            trim: TrimRule::None,
            core_threshold: 15,
            score_base: 100,
            proc_rule: ProcRule::default(),
            severity: SeverityRule::default(),
            age_bands: default_age_bands(),
            aux_min_level_cases: 5,
            aux_min_group_cases: 15,
            aux_min_cv: 0.0,
            partial_match: true,
        }
    }
}

impl DipConfig {
    pub fn target(&self) -> i32 {
        self.target_year.unwrap_or_else(|| self.years.iter().copied().max().unwrap_or(0))
    }
}

/// One history case or new case, as slim as DIP needs.
#[derive(Debug, Clone, Copy)]
pub struct DipCase<'a> {
    /// Year of discharge.
    pub year: i32,
    /// Principal diagnosis first, then the secondary diagnoses.
    pub diagnoses: &'a [String],
    pub procedures: &'a [String],
    pub cost: Fen,
    pub los: i64,
    pub leaving_type: Option<i64>,
    pub age_years: Option<i64>,
    pub age_days: Option<i64>,
}

/// The combination key of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseKey {
    /// ICD-10 亚目, e.g. `K35.8`.
    pub dx_key: String,
    /// ICD-10 类目, e.g. `K35`.
    pub category: String,
    /// Kept procedures, sorted, without duplicates.
    pub procs: Vec<String>,
    /// `procs` joined by `+` (empty = 保守治疗).
    pub proc_key: String,
    pub treat: TreatType,
}

/// Names of codes (display only).
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub diagnoses: BTreeMap<String, String>,
    pub procedures: BTreeMap<String, String>,
}

impl Names {
    fn dx(&self, key: &str) -> Option<&str> {
        if let Some(n) = self.diagnoses.get(key) {
            return Some(n);
        }
        self.diagnoses.range(key.to_string()..).next().filter(|(k, _)| k.starts_with(key)).map(|(_, v)| v.as_str())
    }
}

/// One auxiliary level of a 病种.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuxLevel {
    /// Severity level (0…) or age band index (0…).
    pub level: u8,
    pub cases: usize,
    /// Mean price-adjusted cost of the level's cases (all years pooled).
    pub cost_mean: Fen,
    /// level mean ÷ 病种 mean (pooled), 4 decimals; 1 when the level is not activated.
    pub factor: Dec4,
    /// Whether the level has its own factor (enough cases, see [`DipConfig`]).
    pub active: bool,
}

/// One 病种 of the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DipEntry {
    pub code: String,
    pub kind: DipKind,
    /// Core/basic: the 亚目; comprehensive: the 类目.
    pub dx_key: String,
    /// Core/basic: kept procedures joined by `+`; comprehensive: empty.
    pub proc_key: String,
    pub treat: TreatType,
    pub name: String,
    /// History cases in the weighted years.
    pub cases: usize,
    pub kept: usize,
    /// Year-weighted, price-adjusted mean cost.
    pub cost_mean: Fen,
    pub cost_cv: f64,
    pub los_mean: f64,
    pub score: Dec4,
    pub severity: Vec<AuxLevel>,
    pub age: Vec<AuxLevel>,
}

/// Summary of the history the catalogue was built from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct BuildSummary {
    /// Cases given.
    pub cases_in: usize,
    pub outside_years: usize,
    /// Cases that could not be keyed (reason → count).
    pub excluded: BTreeMap<String, usize>,
    /// Cases in the catalogue (keyed, in the history years).
    pub catalogued: usize,
    pub core_cases: usize,
    pub basic_cases: usize,
    pub comprehensive_cases: usize,
    /// Distinct combinations seen.
    pub combinations: usize,
    pub years: Vec<DipYear>,
    pub r2_untrimmed: f64,
    pub r2_trimmed: f64,
    /// R² of the kept cases when each case is predicted by 病种 mean × its auxiliary factor
    /// (pooled, price-adjusted): how much the auxiliary catalogue adds.
    #[serde(default)]
    pub r2_aux: f64,
    /// History cases [`Catalogue::assign`] puts into a 病种 / all history cases in the years.
    pub history_grouped: usize,
    pub history_total: usize,
    /// Basic-list entries without any history case.
    pub basic_missing: Vec<ComboKey>,
}

/// The serialisable part of a catalogue (`catalogue.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogueData {
    pub config: DipConfig,
    /// Operating-room procedures (手术), sorted.
    pub or_codes: Vec<String>,
    /// Year-weighted, price-adjusted all-case mean cost (the score denominator).
    pub all_cost: Fen,
    /// Core, then basic, then comprehensive; codes ascending.
    pub entries: Vec<DipEntry>,
    pub summary: BuildSummary,
}

/// A DIP catalogue ready to assign cases.
#[derive(Debug, Clone)]
pub struct Catalogue {
    data: CatalogueData,
    or_set: FxHashSet<String>,
    /// dx_key → proc_key → entry (core/basic).
    exact: FxHashMap<String, FxHashMap<String, usize>>,
    /// dx_key → core/basic entries.
    by_dx: FxHashMap<String, Vec<usize>>,
    /// category → comprehensive entry per treatment type (index = `TreatType as usize`).
    comp: FxHashMap<String, [Option<usize>; 4]>,
    sev_w: FxHashMap<String, u32>,
}

/// Where a case went.
#[derive(Debug, Clone, PartialEq)]
pub struct DipAssignment {
    /// `None` = 未入组 (see `message`).
    pub entry: Option<usize>,
    pub dip_code: String,
    pub kind: Option<DipKind>,
    pub name: String,
    pub score: Option<Dec4>,
    /// e.g. `S2/A3` (severity level 2, age band 3); empty when not grouped.
    pub aux_level: String,
    pub aux_factor: Dec4,
    pub message: String,
    /// Chinese explanation, one line per decision.
    pub trace: Vec<String>,
}

impl DipAssignment {
    /// Not grouped (未入组), with the reason.
    fn failed(message: String, trace: Vec<String>) -> DipAssignment {
        DipAssignment {
            entry: None,
            dip_code: String::new(),
            kind: None,
            name: String::new(),
            score: None,
            aux_level: String::new(),
            aux_factor: Dec4::ONE,
            message,
            trace,
        }
    }
    pub fn is_grouped(&self) -> bool {
        self.entry.is_some()
    }
    pub fn status_zh(&self) -> &'static str {
        if self.entry.is_some() {
            "入组"
        } else {
            "未入组"
        }
    }
}

/// ICD-9-CM-3 chapter of a procedure code (the number before the dot).
fn chapter(code: &str) -> Option<u32> {
    let head = code.split('.').next().unwrap_or("");
    let head = if code.contains('.') { head } else { head.get(..2).unwrap_or(head) };
    head.parse().ok()
}

/// Computes the combination key of a case; `Err` is the Chinese reason it has none.
pub fn case_key(diagnoses: &[String], procedures: &[String], or_set: &FxHashSet<String>, rule: &ProcRule) -> Result<CaseKey, String> {
    let pdx = diagnoses.first().map(|s| s.trim()).unwrap_or("");
    if pdx.is_empty() {
        return Err("缺少主要诊断".into());
    }
    if !pdx.is_ascii() || pdx.len() < 3 {
        return Err(format!("主要诊断编码“{pdx}”无效"));
    }
    let category = pdx[..3].to_string();
    let rest = &pdx[3..];
    let dx_key = match rest.strip_prefix('.') {
        Some(r) if !r.is_empty() => format!("{category}.{}", &r[..1]),
        Some(_) => category.clone(),
        None if !rest.is_empty() => format!("{category}.{}", &rest[..1]),
        None => category.clone(),
    };
    let mut main: Vec<&str> = Vec::with_capacity(procedures.len());
    let mut diag: Vec<&str> = Vec::new();
    let (mut has_s, mut has_t) = (false, false);
    for p in procedures {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        match classify(p, or_set, rule) {
            ProcKind::Surgery => {
                has_s = true;
                main.push(p);
            }
            ProcKind::Therapeutic => {
                has_t = true;
                main.push(p);
            }
            ProcKind::Diagnostic => {
                diag.push(p);
            }
        }
    }
    let (mut procs, treat) = if has_s {
        (main, TreatType::Surgery)
    } else if has_t {
        (main, TreatType::Therapeutic)
    } else if !diag.is_empty() {
        (diag, TreatType::Diagnostic)
    } else {
        (Vec::new(), TreatType::Conservative)
    };
    procs.sort_unstable();
    procs.dedup();
    let procs: Vec<String> = procs.into_iter().map(str::to_string).collect();
    let proc_key = procs.join("+");
    Ok(CaseKey { dx_key, category, procs, proc_key, treat })
}

/// Types one procedure code (see [`ProcRule`]).
pub fn classify(code: &str, or_set: &FxHashSet<String>, rule: &ProcRule) -> ProcKind {
    if or_set.contains(code) {
        return ProcKind::Surgery;
    }
    match chapter(code) {
        Some(c) if rule.diagnostic_chapters.iter().any(|r| c >= r.first && c <= r.last) => ProcKind::Diagnostic,
        _ => ProcKind::Therapeutic,
    }
}

fn age_band(bands: &[AgeBand], age_years: Option<i64>, age_days: Option<i64>) -> Option<u8> {
    let age = match (age_years, age_days) {
        (Some(y), _) => y,
        (None, Some(d)) => d / 365,
        (None, None) => return None,
    };
    bands.iter().position(|b| age >= b.min_years && age <= b.max_years).map(|i| i as u8)
}

struct Keyed {
    year_ix: usize,
    key: CaseKey,
    cost: i64,
    los: i64,
    sev: u8,
    age: Option<u8>,
}

/// Group key of a 病种: (kind, dx_key or category, proc_key, treat).
type GKey = (DipKind, String, String, TreatType);

/// Keys every history case of the history years; counts the excluded ones in `summary` and
/// returns the keyed cases with the untrimmed fen sum and count of each year.
fn key_history(cases: &[DipCase<'_>], or_set: &FxHashSet<String>, cfg: &DipConfig, summary: &mut BuildSummary) -> (Vec<Keyed>, Vec<CostSum>) {
    let sev_w: FxHashMap<&str, u32> = cfg.severity.weights.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let mut keyed: Vec<Keyed> = Vec::with_capacity(cases.len());
    let mut raw = vec![CostSum::default(); cfg.years.len()];
    for c in cases {
        let Some(yi) = cfg.years.iter().position(|&y| y == c.year) else {
            summary.outside_years += 1;
            continue;
        };
        match case_key(c.diagnoses, c.procedures, or_set, &cfg.proc_rule) {
            Ok(key) => {
                raw[yi].add(c.cost.0);
                let sev = cfg.severity.level_with(c.diagnoses.get(1..).unwrap_or(&[]), c.leaving_type, &|d| sev_w.get(d).copied());
                let age = age_band(&cfg.age_bands, c.age_years, c.age_days);
                keyed.push(Keyed { year_ix: yi, key, cost: c.cost.0, los: c.los, sev, age });
            }
            Err(e) => *summary.excluded.entry(e).or_default() += 1,
        }
    }
    summary.catalogued = keyed.len();
    (keyed, raw)
}

/// Puts every combination into its 病种 (basic list → basic; ≥ threshold → core; otherwise the
/// comprehensive 病种 of its category and treatment type); returns the cases of each 病种.
fn group_cases(keyed: &[Keyed], basic_list: &[ComboKey], cfg: &DipConfig, summary: &mut BuildSummary) -> BTreeMap<GKey, Vec<usize>> {
    let mut combos: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for k in keyed {
        *combos.entry((&k.key.dx_key, &k.key.proc_key)).or_default() += 1;
    }
    summary.combinations = combos.len();
    let basic: BTreeSet<(&str, &str)> = basic_list.iter().map(|b| (b.dx_key.as_str(), b.proc_key.as_str())).collect();
    summary.basic_missing = basic_list.iter().filter(|b| !combos.contains_key(&(b.dx_key.as_str(), b.proc_key.as_str()))).cloned().collect();
    let mut groups: BTreeMap<GKey, Vec<usize>> = BTreeMap::new();
    for (i, k) in keyed.iter().enumerate() {
        let ck = (k.key.dx_key.as_str(), k.key.proc_key.as_str());
        let n = combos.get(&ck).copied().unwrap_or(0);
        let gk = if basic.contains(&ck) {
            (DipKind::Basic, k.key.dx_key.clone(), k.key.proc_key.clone(), k.key.treat)
        } else if n >= cfg.core_threshold {
            (DipKind::Core, k.key.dx_key.clone(), k.key.proc_key.clone(), k.key.treat)
        } else {
            (DipKind::Comprehensive, k.key.category.clone(), String::new(), k.key.treat)
        };
        match gk.0 {
            DipKind::Core => summary.core_cases += 1,
            DipKind::Basic => summary.basic_cases += 1,
            DipKind::Comprehensive => summary.comprehensive_cases += 1,
        }
        groups.entry(gk).or_default().push(i);
    }
    groups
}

/// One 病种 after trimming: per year the kept cases (sorted by cost) and their exact cost and
/// LOS sums; the cases of the weighted years before trimming.
struct Group {
    kept: Vec<Vec<usize>>,
    cost: Vec<CostSum>,
    los: Vec<CostSum>,
    cases_w: usize,
}

fn trim_group(keyed: &[Keyed], idx: &[usize], cfg: &DipConfig) -> Group {
    let ny = cfg.years.len();
    let mut per_year: Vec<Vec<usize>> = vec![Vec::new(); ny];
    for &i in idx {
        per_year[keyed[i].year_ix].push(i);
    }
    let mut g = Group { kept: Vec::with_capacity(ny), cost: Vec::with_capacity(ny), los: Vec::with_capacity(ny), cases_w: 0 };
    for (yi, v) in per_year.iter_mut().enumerate() {
        v.sort_by_key(|&i| (keyed[i].cost, i));
        if cfg.year_weights[yi] > 0 {
            g.cases_w += v.len();
        }
        let costs: Vec<i64> = v.iter().map(|&i| keyed[i].cost).collect();
        let k: Vec<usize> = v[cfg.trim.kept_range(&costs)].to_vec();
        let (mut cost, mut los) = (CostSum::default(), CostSum::default());
        for &i in &k {
            cost.add(keyed[i].cost);
            los.add(keyed[i].los);
        }
        g.kept.push(k);
        g.cost.push(cost);
        g.los.push(los);
    }
    g
}

/// The inputs of [`year_weighted_mean`] for per-year sums; `weights` `None` = equal weights.
fn year_costs(sums: &[CostSum], weights: Option<&[u32]>, factors: &[PriceFactor]) -> Vec<YearCost> {
    sums.iter()
        .enumerate()
        .map(|(i, &cost)| YearCost { weight: weights.map_or(1, |w| w.get(i).copied().unwrap_or(0)), cost, factor: factors.get(i).copied().unwrap_or(PriceFactor::ONE) })
        .collect()
}

/// Σ_y f_y · sum_y ÷ Σ_y count_y: the mean of the price-adjusted costs pooled over the years, exact.
fn pooled_mean(sums: &[CostSum], factors: &[PriceFactor]) -> Option<BigRational> {
    let n: u64 = sums.iter().map(|c| c.count).sum();
    let total: BigRational = sums.iter().zip(factors).map(|(c, f)| BigRational::from_integer(c.sum.into()) * f.exact()).sum();
    (n > 0).then(|| total / BigRational::from_integer(n.into()))
}

/// What every entry is computed against.
struct Basis<'a> {
    keyed: &'a [Keyed],
    cfg: &'a DipConfig,
    factors: &'a [PriceFactor],
    /// The factors as f64, for descriptive statistics only.
    factors_f64: Vec<f64>,
    /// Exact all-case cost (the score denominator).
    all: BigRational,
}

impl Basis<'_> {
    fn adjusted_f64(&self, i: usize) -> f64 {
        let k = &self.keyed[i];
        k.cost as f64 * self.factors_f64[k.year_ix]
    }
    /// Exact year-weighted cost of a group (equal weights when all its cases lie in zero-weight
    /// years) and its year-weighted LOS.
    fn cost_and_los(&self, g: &Group) -> (BigRational, f64) {
        let w = Some(self.cfg.year_weights.as_slice());
        let weighted = |sums: &[CostSum], f: &[PriceFactor]| year_weighted_mean(&year_costs(sums, w, f)).or_else(|| year_weighted_mean(&year_costs(sums, None, f)));
        let ones = vec![PriceFactor::ONE; g.los.len()];
        let los = weighted(&g.los, &ones).and_then(|m| m.to_f64()).unwrap_or(0.0);
        (weighted(&g.cost, self.factors).unwrap_or_else(BigRational::zero), los)
    }
    /// Auxiliary levels over the kept cases of a 病种: level mean (exact, pooled over the years)
    /// ÷ the 病种's pooled mean, one rounding to 4 decimals; 1 when the level is not activated.
    fn aux(&self, kept: &[usize], pooled: Option<&BigRational>, activate: bool, level_of: &dyn Fn(&Keyed) -> Option<u8>) -> Result<Vec<AuxLevel>, String> {
        let mut acc: BTreeMap<u8, Vec<CostSum>> = BTreeMap::new();
        for &i in kept {
            let k = &self.keyed[i];
            if let Some(l) = level_of(k) {
                acc.entry(l).or_insert_with(|| vec![CostSum::default(); self.factors.len()])[k.year_ix].add(k.cost);
            }
        }
        acc.into_iter()
            .map(|(level, sums)| {
                let cases = sums.iter().map(|c| c.count as usize).sum();
                let mean = pooled_mean(&sums, self.factors).unwrap_or_else(BigRational::zero);
                let pm = pooled.filter(|p| p.is_positive());
                let active = activate && cases >= self.cfg.aux_min_level_cases && pm.is_some();
                let factor = match pm {
                    Some(p) if active => ratio_dec4(&mean, p, 1)?,
                    _ => Dec4::ONE,
                };
                Ok(AuxLevel { level, cases, cost_mean: round_fen(&mean)?, factor, active })
            })
            .collect()
    }
}

/// Σ residual², Σx, Σx², n of the kept cases predicted by 病种 mean × auxiliary factor (for R²).
#[derive(Default)]
struct AuxFit {
    ss_res: f64,
    sum: f64,
    sum_sq: f64,
    n: usize,
}

impl AuxFit {
    fn add(&mut self, b: &Basis<'_>, kept: &[usize], pooled: f64, severity: &[AuxLevel], age: &[AuxLevel]) {
        let f = |v: &[AuxLevel], l: Option<u8>| l.and_then(|l| v.iter().find(|x| x.level == l)).map(|x| x.factor).unwrap_or(Dec4::ONE);
        for &i in kept {
            let k = &b.keyed[i];
            let x = b.adjusted_f64(i);
            let pred = pooled * f(severity, Some(k.sev)).checked_mul(f(age, k.age)).unwrap_or(Dec4::ONE).to_f64();
            self.ss_res += (x - pred).powi(2);
            self.sum += x;
            self.sum_sq += x * x;
            self.n += 1;
        }
    }
    fn r2(&self) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        let sst = self.sum_sq - self.sum * self.sum / self.n as f64;
        if sst > 0.0 {
            1.0 - self.ss_res / sst
        } else {
            0.0
        }
    }
}

/// One catalogue entry from its group; also feeds the descriptive R² inputs.
fn build_entry(gk: &GKey, code: String, g: &Group, b: &Basis<'_>, names: &Names, fit: &mut AuxFit) -> Result<DipEntry, String> {
    let (kind, dx_key, proc_key, treat) = gk;
    let (cost, los) = b.cost_and_los(g);
    let kept_idx: Vec<usize> = g.kept.iter().flatten().copied().collect();
    let adj_kept: Vec<f64> = kept_idx.iter().map(|&i| b.adjusted_f64(i)).collect();
    let cv = pooled_cv(&adj_kept);
    let pooled = pooled_mean(&g.cost, b.factors);
    let pooled_pos = pooled.as_ref().is_some_and(|p| p.is_positive());
    let activate = kept_idx.len() >= b.cfg.aux_min_group_cases && cv >= b.cfg.aux_min_cv && pooled_pos;
    let severity = b.aux(&kept_idx, pooled.as_ref(), activate, &|k: &Keyed| Some(k.sev))?;
    let age = b.aux(&kept_idx, pooled.as_ref(), activate, &|k: &Keyed| k.age)?;
    fit.add(b, &kept_idx, pooled.as_ref().and_then(|p| p.to_f64()).unwrap_or(0.0), &severity, &age);
    Ok(DipEntry {
        code,
        kind: *kind,
        dx_key: dx_key.clone(),
        proc_key: proc_key.clone(),
        treat: *treat,
        name: entry_name(*kind, dx_key, proc_key, *treat, names),
        cases: g.cases_w,
        kept: kept_idx.len(),
        cost_mean: round_fen(&cost)?,
        cost_cv: cv,
        los_mean: los,
        score: ratio_dec4(&cost, &b.all, b.cfg.score_base)?,
        severity,
        age,
    })
}

/// Builds the catalogue from history cases. `or_codes`: the operating-room procedure list;
/// `basic_list`: the combinations of the 基层病种 policy list.
pub fn build(cases: &[DipCase<'_>], or_codes: &[String], basic_list: &[ComboKey], names: &Names, cfg: &DipConfig) -> Result<Catalogue, String> {
    if cfg.years.is_empty() || cfg.years.len() != cfg.year_weights.len() {
        return Err("历史年度与年度权重个数不一致".into());
    }
    cfg.trim.validate()?;
    let or_set: FxHashSet<String> = or_codes.iter().cloned().collect();
    let mut summary = BuildSummary { cases_in: cases.len(), ..Default::default() };
    let (keyed, raw) = key_history(cases, &or_set, cfg, &mut summary);
    let factors = cfg.inflation.factors(&cfg.years, cfg.target(), &raw)?;
    summary.years = year_rows(cfg, &raw, &factors)?;
    let groups = group_cases(&keyed, basic_list, cfg, &mut summary);
    let gs: Vec<Group> = groups.values().map(|idx| trim_group(&keyed, idx, cfg)).collect();
    let mut year_kept = vec![CostSum::default(); cfg.years.len()];
    for g in &gs {
        for (acc, c) in year_kept.iter_mut().zip(&g.cost) {
            acc.merge(*c);
        }
    }
    let all = year_weighted_mean(&year_costs(&year_kept, Some(&cfg.year_weights), &factors)).ok_or("历史数据中没有可用于建立目录的病例")?;
    if !all.is_positive() {
        return Err("全部病例例均费用不为正，无法计算分值".into());
    }
    let all_cost = round_fen(&all)?;
    let b = Basis { keyed: &keyed, cfg, factors: &factors, factors_f64: factors.iter().map(PriceFactor::to_f64).collect(), all };
    let (entries, fit) = build_entries(&groups, &gs, &b, names)?;
    summary.r2_aux = fit.r2();
    let r2_all: Vec<Vec<f64>> = groups.values().map(|idx| idx.iter().map(|&i| b.adjusted_f64(i)).collect()).collect();
    let r2_kept: Vec<Vec<f64>> = gs.iter().map(|g| g.kept.iter().flatten().map(|&i| b.adjusted_f64(i)).collect()).collect();
    summary.r2_untrimmed = stats::r2_of_groups(r2_all.iter().map(|v| v.as_slice()));
    summary.r2_trimmed = stats::r2_of_groups(r2_kept.iter().map(|v| v.as_slice()));
    let mut or_sorted: Vec<String> = or_set.into_iter().collect();
    or_sorted.sort_unstable();
    let data = CatalogueData { config: cfg.clone(), or_codes: or_sorted, all_cost, entries, summary };
    let mut cat = Catalogue::from_data(data);
    // 入组率 of the history through the assignment rules (cases without a key are not grouped).
    let g = keyed.iter().filter(|k| cat.find(&k.key, Fen(k.cost), None).is_ok()).count();
    cat.data.summary.history_grouped = g;
    cat.data.summary.history_total = cases.len() - cat.data.summary.outside_years;
    Ok(cat)
}

fn year_rows(cfg: &DipConfig, raw: &[CostSum], factors: &[PriceFactor]) -> Result<Vec<DipYear>, String> {
    (0..cfg.years.len())
        .map(|i| Ok(DipYear { year: cfg.years[i], weight: cfg.year_weights[i], cases: raw[i].count as usize, mean: raw[i].mean_fen()?, factor: factors[i] }))
        .collect()
}

fn build_entries(groups: &BTreeMap<GKey, Vec<usize>>, gs: &[Group], b: &Basis<'_>, names: &Names) -> Result<(Vec<DipEntry>, AuxFit), String> {
    let mut entries = Vec::with_capacity(groups.len());
    let mut seq: BTreeMap<DipKind, usize> = BTreeMap::new();
    let mut fit = AuxFit::default();
    for (gk, g) in groups.keys().zip(gs) {
        let n = seq.entry(gk.0).or_default();
        *n += 1;
        let code = format!("{}{:05}", gk.0.prefix(), n);
        entries.push(build_entry(gk, code, g, b, names, &mut fit)?);
    }
    Ok((entries, fit))
}

fn pooled_cv(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let m = xs.iter().sum::<f64>() / xs.len() as f64;
    if m == 0.0 {
        return 0.0;
    }
    (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt() / m
}

fn entry_name(kind: DipKind, dx_key: &str, proc_key: &str, treat: TreatType, names: &Names) -> String {
    let dx = names.dx(dx_key).unwrap_or(dx_key);
    match kind {
        DipKind::Comprehensive if dx == dx_key => format!("{dx_key}（综合病种·{}组）", treat.label_zh()),
        DipKind::Comprehensive => format!("{dx_key} {dx}等（综合病种·{}组）", treat.label_zh()),
        _ if proc_key.is_empty() => format!("{dx}：保守治疗"),
        _ => {
            let px: Vec<&str> =
                proc_key.split('+').map(|p| names.procedures.get(p).map(|s| s.as_str()).unwrap_or(p)).collect();
            format!("{dx}：{}", px.join("+"))
        }
    }
}

impl Catalogue {
    /// Builds the lookup indexes of a (deserialised) catalogue.
    pub fn from_data(data: CatalogueData) -> Catalogue {
        let mut exact = FxHashMap::default();
        let mut by_dx: FxHashMap<String, Vec<usize>> = FxHashMap::default();
        let mut comp = FxHashMap::default();
        for (i, e) in data.entries.iter().enumerate() {
            match e.kind {
                DipKind::Core | DipKind::Basic => {
                    exact.entry(e.dx_key.clone()).or_insert_with(FxHashMap::default).insert(e.proc_key.clone(), i);
                    by_dx.entry(e.dx_key.clone()).or_default().push(i);
                }
                DipKind::Comprehensive => {
                    comp.entry(e.dx_key.clone()).or_insert([None; 4])[e.treat as usize] = Some(i);
                }
            }
        }
        let or_set = data.or_codes.iter().cloned().collect();
        let sev_w = data.config.severity.weights.iter().map(|(k, v)| (k.clone(), *v)).collect();
        Catalogue { data, or_set, exact, by_dx, comp, sev_w }
    }

    pub fn data(&self) -> &CatalogueData {
        &self.data
    }
    pub fn entries(&self) -> &[DipEntry] {
        &self.data.entries
    }
    pub fn summary(&self) -> &BuildSummary {
        &self.data.summary
    }
    pub fn config(&self) -> &DipConfig {
        &self.data.config
    }
    /// The combination key of a case under this catalogue's rules.
    pub fn key(&self, diagnoses: &[String], procedures: &[String]) -> Result<CaseKey, String> {
        case_key(diagnoses, procedures, &self.or_set, &self.data.config.proc_rule)
    }
    /// Types one procedure code.
    pub fn classify(&self, code: &str) -> ProcKind {
        classify(code, &self.or_set, &self.data.config.proc_rule)
    }

    fn find(&self, key: &CaseKey, cost: Fen, trace: Option<&mut Vec<String>>) -> Result<usize, String> {
        let mut tr = trace;
        let mut say = |s: &dyn Fn() -> String| {
            if let Some(t) = tr.as_deref_mut() {
                t.push(s())
            }
        };
        if let Some(&i) = self.exact.get(key.dx_key.as_str()).and_then(|m| m.get(key.proc_key.as_str())) {
            let e = &self.data.entries[i];
            say(&|| format!("组合 {}｜{} 与{} {} 完全匹配", key.dx_key, if key.proc_key.is_empty() { "保守治疗" } else { &key.proc_key }, e.kind.label_zh(), e.code));
            return Ok(i);
        }
        say(&|| format!("组合 {}｜{} 不在核心/基层病种中", key.dx_key, if key.proc_key.is_empty() { "保守治疗" } else { &key.proc_key }));
        if self.data.config.partial_match && !key.procs.is_empty() {
            if let Some(cands) = self.by_dx.get(&key.dx_key) {
                let mut best: Option<(usize, i64, Dec4, usize)> = None; // (matched, -|diff|, score, idx)
                for &i in cands {
                    let e = &self.data.entries[i];
                    if e.proc_key.is_empty() {
                        continue;
                    }
                    let ps: Vec<&str> = e.proc_key.split('+').collect();
                    if !ps.iter().all(|p| key.procs.iter().any(|q| q == p)) {
                        continue;
                    }
                    let cand = (ps.len(), -(e.cost_mean.0 - cost.0).abs(), e.score, i);
                    let better = match best {
                        None => true,
                        Some(b) => (cand.0, cand.1, cand.2) > (b.0, b.1, b.2) || ((cand.0, cand.1, cand.2) == (b.0, b.1, b.2) && self.data.entries[i].code < self.data.entries[b.3].code),
                    };
                    if better {
                        best = Some(cand);
                    }
                }
                if let Some((m, _, _, i)) = best {
                    let e = &self.data.entries[i];
                    say(&|| format!("按手术操作匹配最多原则（匹配 {m} 个；并列时取次均费用最接近、分值较高者）入{} {}", e.kind.label_zh(), e.code));
                    return Ok(i);
                }
            }
            say(&|| format!("诊断 {} 下无手术操作组合被本病例包含的核心病种", key.dx_key));
        }
        if let Some(i) = self.comp.get(key.category.as_str()).and_then(|a| a[key.treat as usize]) {
            let e = &self.data.entries[i];
            say(&|| format!("按诊断类目 {} 与治疗方式“{}”入综合病种 {}", key.category, key.treat.label_zh(), e.code));
            return Ok(i);
        }
        let msg = format!("目录中无匹配病种：组合 {}｜{} 非核心病种，诊断类目 {} 下也无“{}”综合病种（新增病种，需专家评议）", key.dx_key, if key.proc_key.is_empty() { "保守治疗" } else { &key.proc_key }, key.category, key.treat.label_zh());
        say(&|| msg.clone());
        Err(msg)
    }

    /// Assigns a case its 病种 (core/basic first, then the core 病种 matching most procedures,
    /// then the comprehensive 病种), with the auxiliary adjustment and a Chinese trace.
    pub fn assign(&self, c: &DipCase<'_>) -> DipAssignment {
        let mut trace = Vec::new();
        let key = match self.key(c.diagnoses, c.procedures) {
            Ok(k) => k,
            Err(e) => {
                trace.push(e.clone());
                return DipAssignment::failed(e, trace);
            }
        };
        trace.push(self.key_line(c, &key));
        match self.find(&key, c.cost, Some(&mut trace)) {
            Ok(i) => self.assigned(i, c, trace),
            Err(m) => DipAssignment::failed(m, trace),
        }
    }

    /// The trace line of a case's combination key.
    fn key_line(&self, c: &DipCase<'_>, key: &CaseKey) -> String {
        let types: Vec<String> = c
            .procedures
            .iter()
            .filter(|p| !p.trim().is_empty())
            .map(|p| format!("{}({})", p.trim(), self.classify(p.trim()).label_zh()))
            .collect();
        format!(
            "主要诊断 {} → 亚目 {}，类目 {}；手术操作：{}；治疗方式：{}",
            c.diagnoses.first().map(|d| d.trim()).unwrap_or(""),
            key.dx_key,
            key.category,
            if types.is_empty() { "无".to_string() } else { types.join("、") },
            key.treat.label_zh()
        )
    }

    /// The assignment of a case to entry `i`, with its auxiliary adjustment.
    fn assigned(&self, i: usize, c: &DipCase<'_>, mut trace: Vec<String>) -> DipAssignment {
        let Some(e) = self.data.entries.get(i) else {
            return DipAssignment::failed(format!("目录中无第 {i} 个病种"), trace);
        };
        let cfg = &self.data.config;
        let sev = cfg.severity.level_with(c.diagnoses.get(1..).unwrap_or(&[]), c.leaving_type, &|d| self.sev_w.get(d).copied());
        let age = age_band(&cfg.age_bands, c.age_years, c.age_days);
        let sf = e.severity.iter().find(|l| l.level == sev && l.active).map(|l| l.factor).unwrap_or(Dec4::ONE);
        let af = age.and_then(|a| e.age.iter().find(|l| l.level == a && l.active)).map(|l| l.factor).unwrap_or(Dec4::ONE);
        let Some(factor) = sf.checked_mul(af) else {
            return DipAssignment::failed(format!("辅助目录调整系数 {sf} × {af} 超出范围"), trace);
        };
        let band = age.and_then(|a| cfg.age_bands.get(a as usize)).map(|b| b.label.clone()).unwrap_or_else(|| "未知".into());
        trace.push(format!("辅助目录：疾病严重程度 {sev} 级（系数 {sf}），年龄段 {band}（系数 {af}）→ 调整系数 {factor}"));
        trace.push(format!("{} {} {}，分值 {}", e.kind.label_zh(), e.code, e.name, e.score));
        DipAssignment {
            entry: Some(i),
            dip_code: e.code.clone(),
            kind: Some(e.kind),
            name: e.name.clone(),
            score: Some(e.score),
            aux_level: format!("S{}/A{}", sev, age.map(|a| (a + 1).to_string()).unwrap_or_else(|| "-".into())),
            aux_factor: factor,
            message: String::new(),
            trace,
        }
    }

    /// `catalogue.csv`: `dip_code,kind,dx_key,proc_key,name,cases,cost_mean,cost_cv,score,treat_type,los_mean`.
    pub fn catalogue_csv(&self) -> String {
        let mut s = String::from("dip_code,kind,dx_key,proc_key,name,cases,cost_mean,cost_cv,score,treat_type,los_mean\n");
        for e in &self.data.entries {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{},{:.4},{},{},{:.2}",
                e.code,
                e.kind.key(),
                csv_cell(&e.dx_key),
                csv_cell(&e.proc_key),
                csv_cell(&e.name),
                e.cases,
                e.cost_mean,
                e.cost_cv,
                e.score,
                e.treat.key(),
                e.los_mean
            );
        }
        s
    }

    /// `aux_severity.csv` / `aux_age.csv`: `dip_code,level,label,cases,cost_mean,factor,active`.
    pub fn aux_csv(&self, age: bool) -> String {
        let mut s = String::from("dip_code,level,label,cases,cost_mean,factor,active\n");
        let cfg = &self.data.config;
        for e in &self.data.entries {
            let levels = if age { &e.age } else { &e.severity };
            for l in levels {
                let label = if age {
                    cfg.age_bands.get(l.level as usize).map(|b| b.label.clone()).unwrap_or_default()
                } else if cfg.severity.death_level && l.level as usize == cfg.severity.band_starts.len() + 1 {
                    "死亡".to_string()
                } else {
                    format!("严重程度{}级", l.level)
                };
                let _ = writeln!(s, "{},{},{},{},{},{},{}", e.code, l.level, csv_cell(&label), l.cases, l.cost_mean, l.factor, if l.active { 1 } else { 0 });
            }
        }
        s
    }

    /// The Chinese Markdown report: counts, coverage, 入组率, R², CV per 病种, method.
    pub fn report_md(&self, input_notes: &[String]) -> String {
        let mut s = String::new();
        report_data(&mut s, &self.data, input_notes);
        report_method(&mut s, &self.data);
        report_size(&mut s, &self.data);
        report_grouping(&mut s, &self.data);
        report_cv(&mut s, &self.data);
        s
    }
}


/// Header and §1: the input and the history years.
fn report_data(s: &mut String, d: &CatalogueData, input_notes: &[String]) {
    let sm = &d.summary;
    let _ = writeln!(s, "# DIP 病种目录库测算报告\n");
    let _ = writeln!(s, "## 1. 数据\n");
    for n in input_notes {
        let _ = writeln!(s, "- {n}");
    }
    let _ = writeln!(s, "- 输入病例 {}；不在历史年度内 {}；无法形成组合而剔除 {}；纳入目录测算 {}。", sm.cases_in, sm.outside_years, sm.excluded.values().sum::<usize>(), sm.catalogued);
    for (r, n) in &sm.excluded {
        let _ = writeln!(s, "  - {r}：{n}");
    }
    let _ = writeln!(s, "\n| 年度 | 年度权重 | 病例数 | 例均费用(元) | 价格调整系数 |");
    let _ = writeln!(s, "|---|---|---|---|---|");
    for y in &sm.years {
        let _ = writeln!(s, "| {} | {} | {} | {} | {} |", y.year, y.weight, y.cases, y.mean, y.factor.fixed6());
    }
}

/// §2: the method and the rounding rules.
fn report_method(s: &mut String, d: &CatalogueData) {
    let cfg = &d.config;
    let _ = writeln!(s, "\n## 2. 方法（dip.md §1–§2）\n");
    let _ = writeln!(s, "1. 组合：主要诊断取 ICD-10 亚目（前 4 位，如 K35.8）；手术操作保留“手术”与“治疗性操作”，仅当无此二类时保留“诊断性操作”，去重并排序后组合；无手术操作为“保守治疗”。");
    let _ = writeln!(
        s,
        "2. 手术操作分类：在分组方案手术室手术表（or_procedures，{} 个编码）中者为“手术”；其余按 ICD-9-CM-3 章节，{} 章为“诊断性操作”（87–88 影像、89–91 诊断性检查），其他为“治疗性操作”。该规则可配置。",
        d.or_codes.len(),
        cfg.proc_rule.diagnostic_chapters.iter().map(|r| format!("{}–{}", r.first, r.last)).collect::<Vec<_>>().join("、")
    );
    let _ = writeln!(s, "3. 核心病种：历史期内病例数 ≥ {}（临界值）的组合；其余病例按诊断类目（前 3 位）与治疗方式（相关手术 / 治疗性操作 / 诊断性操作 / 保守治疗）聚合为综合病种；基层病种取自政策目录，各级医院同一分值。", cfg.core_threshold);
    let _ = writeln!(
        s,
        "4. 分值：病种费用 = Σ 年度权重 × 当年例均费用 × 价格调整系数 ÷ Σ 年度权重（权重 {}，由远及近）；{}；裁剪：{}。分值 = 病种费用 ÷ 全部病例费用（{} 元）× {}。",
        cfg.year_weights.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(":"),
        cfg.inflation.describe_zh(),
        cfg.trim.describe_zh(),
        d.all_cost,
        cfg.score_base
    );
    let _ = writeln!(
        s,
        "5. 辅助目录：疾病严重程度按次要诊断合并症指数分级（分段起点 {}{}），死亡病例单列一级；年龄段 {}。病种病例数 ≥ {}、变异系数 ≥ {} 且该级病例数 ≥ {} 时，该级调整系数 = 该级例均费用 ÷ 病种例均费用（历史各年价格调整后合并），否则为 1；病例的调整系数 = 严重程度系数 × 年龄系数。",
        cfg.severity.band_starts.iter().map(|b| b.to_string()).collect::<Vec<_>>().join("/"),
        if cfg.severity.weights.is_empty() { "；每个不同的次要诊断计 1 分".to_string() } else { format!("；{} 个次要诊断编码有权重（MCC、CC），其余计 {} 分", cfg.severity.weights.len(), cfg.severity.default_weight) },
        cfg.age_bands.iter().map(|b| b.label.clone()).collect::<Vec<_>>().join(" / "),
        cfg.aux_min_group_cases,
        cfg.aux_min_cv,
        cfg.aux_min_level_cases
    );
    let _ = writeln!(s, "6. 新病例入组：先完全匹配核心/基层病种；否则在同一亚目的核心病种中取手术操作被本病例包含且匹配最多者（并列取次均费用最接近、再取分值较高者）；否则入所属类目与治疗方式的综合病种；仍无则“未入组”（新增病种，需专家评议）。");
    let _ = writeln!(s, "\n**计算与舍入规则**：金额以分为单位的整数累加，价格调整系数为精确分数，年度加权以精确有理数计算，裁剪以精确值判断；每个结果只在最后舍入一次（四舍五入，远离零）：例均费用保留到分；分值 = 病种费用 × {} ÷ 全部病例费用，以未舍入的精确值计算后保留 4 位小数；辅助系数 = 该级例均 ÷ 病种例均（精确值）保留 4 位小数。CV、R² 以双精度浮点计算，仅作描述。\n", cfg.score_base);
}

/// §3: the catalogue size and the core coverage.
fn report_size(s: &mut String, d: &CatalogueData) {
    let sm = &d.summary;
    let count = |k: DipKind| d.entries.iter().filter(|e| e.kind == k).count();
    let pct = |a: usize, b: usize| if b == 0 { "—".to_string() } else { format!("{:.2}%", a as f64 * 100.0 / b as f64) };
    let _ = writeln!(s, "## 3. 目录规模\n");
    let _ = writeln!(s, "| 类别 | 病种数 | 历史病例数 | 占比 |");
    let _ = writeln!(s, "|---|---|---|---|");
    let _ = writeln!(s, "| 核心病种 | {} | {} | {} |", count(DipKind::Core), sm.core_cases, pct(sm.core_cases, sm.catalogued));
    let _ = writeln!(s, "| 基层病种 | {} | {} | {} |", count(DipKind::Basic), sm.basic_cases, pct(sm.basic_cases, sm.catalogued));
    let _ = writeln!(s, "| 综合病种 | {} | {} | {} |", count(DipKind::Comprehensive), sm.comprehensive_cases, pct(sm.comprehensive_cases, sm.catalogued));
    let _ = writeln!(s, "| 合计 | {} | {} | 100% |", d.entries.len(), sm.catalogued);
    let cov = sm.core_cases + sm.basic_cases;
    let _ = writeln!(
        s,
        "\n- 不同组合数：{}。核心（含基层）病种覆盖病例 {}，{}（规范要求 > 85%）。",
        sm.combinations,
        pct(cov, sm.catalogued),
        if sm.catalogued > 0 && cov as f64 / sm.catalogued as f64 > 0.85 { "满足" } else { "未满足，可考虑降低临界值" }
    );
    if !sm.basic_missing.is_empty() {
        let _ = writeln!(s, "- 基层病种目录中 {} 个组合在历史数据中无病例，未列入目录：{}", sm.basic_missing.len(), sm.basic_missing.iter().map(|b| format!("{}｜{}", b.dx_key, b.proc_key)).collect::<Vec<_>>().join("，"));
    }
}

/// §4: 入组率 and R².
fn report_grouping(s: &mut String, d: &CatalogueData) {
    let sm = &d.summary;
    let pct = |a: usize, b: usize| if b == 0 { "—".to_string() } else { format!("{:.2}%", a as f64 * 100.0 / b as f64) };
    let _ = writeln!(s, "\n## 4. 入组率与分组效能\n");
    let _ = writeln!(s, "- 历史病例入组率（按新病例入组规则重新入组）：{} / {} = {}。", sm.history_grouped, sm.history_total, pct(sm.history_grouped, sm.history_total));
    let _ = writeln!(s, "- R²（价格调整后费用，组 = 病种）：未裁剪 {:.4}，裁剪后 {:.4}；以“病种例均 × 辅助目录系数”为预测值时 {:.4}。", sm.r2_untrimmed, sm.r2_trimmed, sm.r2_aux);
}

/// §5: CV per 病种 kind and the 20 病种 of highest CV.
fn report_cv(s: &mut String, d: &CatalogueData) {
    let cfg = &d.config;
    let _ = writeln!(s, "\n## 5. 病种费用变异系数（CV）\n");
    for kind in [DipKind::Core, DipKind::Basic, DipKind::Comprehensive] {
        let mut cvs: Vec<f64> = d.entries.iter().filter(|e| e.kind == kind && e.kept >= 2).map(|e| e.cost_cv).collect();
        if cvs.is_empty() {
            continue;
        }
        cvs.sort_by(|a, b| a.total_cmp(b));
        let q = |p: f64| cvs[((cvs.len() - 1) as f64 * p).round() as usize];
        let over = cvs.iter().filter(|&&c| c > 1.0).count();
        let _ = writeln!(s, "- {}：中位数 {:.4}，P90 {:.4}，最大 {:.4}；CV > 1 的病种 {} 个。", kind.label_zh(), q(0.5), q(0.9), q(1.0), over);
    }
    let _ = writeln!(s, "\n变异系数最高的 20 个病种（病例数 ≥ {}）：\n", cfg.core_threshold);
    let mut v: Vec<&DipEntry> = d.entries.iter().filter(|e| e.kept >= cfg.core_threshold).collect();
    v.sort_by(|a, b| b.cost_cv.total_cmp(&a.cost_cv).then(a.code.cmp(&b.code)));
    let _ = writeln!(s, "| 病种 | 类别 | 名称 | 病例数 | 例均费用(元) | CV | 分值 |");
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    for e in v.iter().take(20) {
        let _ = writeln!(s, "| {} | {} | {} | {} | {} | {:.4} | {} |", e.code, e.kind.label_zh(), e.name, e.cases, e.cost_mean, e.cost_cv, e.score);
    }
    let _ = writeln!(s, "\n每个病种的 CV 见 catalogue.csv 的 cost_cv 列；辅助目录见 aux_severity.csv、aux_age.csv。");
}
