//! The 运行监测 dashboard (Wuxi's four blocks) and the per-unit indicators it shares with the
//! hospital view.
//!
//! Definitions (shared/docs/payment.md §5 unless stated):
//! - 次均费用 = Σ total_cost ÷ cases; 平均住院日 = Σ los_days ÷ cases (all cases of the unit).
//! - 入组率 = grouped ÷ cases (ambiguous QY and ungrouped cases are not grouped).
//! - CMI = Σ RW of grouped cases ÷ grouped cases; 总权重 = Σ RW; DRG 组数 = distinct groups with a
//!   grouped case.
//! - 费用消耗指数 = Σ_g n_g × (unit mean cost of g ÷ regional mean cost of g) ÷ Σ n_g over the unit's
//!   grouped cases; 时间消耗指数 the same with LOS. The regional mean of g is over *all* hospitals of
//!   the case's 统筹区 in the same period (whatever the scope or tier filter: it is the yardstick, and
//!   only the resulting index is returned, never another hospital's figures). Each term is computed
//!   exactly as H_g × N_g ÷ R_g (H_g the unit's cost sum in g, N_g and R_g the region's count and cost
//!   sum in g); a group whose regional sum is 0 has no mean ratio and is left out of both sums. The
//!   index is rounded half away from zero to 4 decimals.
//! - 低风险组死亡率 = deaths in low-risk groups ÷ cases in low-risk groups.
//! - 个人负担率 = Σ personal_pay ÷ Σ total_cost; 全自费占比 = Σ selfpay ÷ Σ total_cost.
//! - 盈亏 (profit) = Σ payment − Σ total_cost: `payment_fen` is the whole DRG/DIP value of the case
//!   (points × point value + money paid at cost, `casemix_pricing::CasePrice::payment`), of which the
//!   fund pays the part the patient and other payers have not (payment.md §3: "Fund payment to a
//!   hospital = Σ case points × point value − Σ what others already paid"). The hospital's revenue
//!   for the case is therefore fund payment + personal pay + other payers = `payment_fen`, and its
//!   result is that minus the cost of the stay — the hospitals' own "病组结余 = 病组支付标准 − 实际
//!   医疗费用". (Subtracting `personal_pay_fen` from the cost as well would count the patient's share
//!   twice, because it is already inside `payment_fen`.)

use crate::lake::{floats, ints, strs, Filter};
use crate::{Lake, LakeError, Period, Range, Ratio};
use arrow::datatypes::DataType;
use datafusion::functions_aggregate::expr_fn::{count, max, sum};
use datafusion::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The group-by dimension of the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Level {
    Region,
    Tier,
    Hospital,
}

impl Level {
    pub fn parse(s: &str) -> Result<Level, LakeError> {
        match s {
            "region" => Ok(Level::Region),
            "tier" => Ok(Level::Tier),
            "hospital" => Ok(Level::Hospital),
            _ => Err(LakeError::Invalid {
                field: "level",
                value: s.chars().take(40).collect(),
                rule: "层级须为 region、tier 或 hospital",
            }),
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Level::Region => "region",
            Level::Tier => "tier",
            Level::Hospital => "hospital",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Level::Region => "统筹区",
            Level::Tier => "医院等级",
            Level::Hospital => "医疗机构",
        }
    }
}

/// Dashboard thresholds. None of them is a national rule; each default states its reasoning.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DashboardConfig {
    /// How many of the highest-weight groups the 高权重病组 table lists. Default 10: a screen's worth;
    /// Wuxi's monitoring pages show top-10 lists.
    pub top_groups: usize,
    /// A group's volume change is abnormal when |this − previous| ÷ previous ≥ this many ‰.
    /// Default 300 ‰ (±30 %): no national threshold exists; ±30 % between equal-length periods is
    /// well outside the 3–5 % yearly growth of inpatient volume and the seasonal swing of most groups,
    /// so a flag points at coding drift (高套/分解) or a service change worth a look.
    pub volume_change_permille: i64,
    /// Volume changes are judged only for groups with at least this many cases in one of the two
    /// periods. Default 10: below that, one or two cases already move a group by 30 %.
    pub volume_min_cases: i64,
    /// A group's cost dispersion is large when the coefficient of variation of cost per case
    /// exceeds this. Default 1.0: CV < 1 is the usual homogeneity test of a DRG (shared/docs/
    /// spec-notes.md §4 "CV within group is the usual homogeneity test"; CHS-DRG practice treats a
    /// group with CV ≥ 1 as heterogeneous). A display statistic, hence f64.
    pub cv_threshold: f64,
    /// CV is judged only for groups with at least this many cases. Default 5: the same floor below
    /// which calibration calls a group thin (casemix-calibrate, "thin groups (< 5 cases)").
    pub cv_min_cases: i64,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        DashboardConfig {
            top_groups: 10,
            volume_change_permille: 300,
            volume_min_cases: 10,
            cv_threshold: 1.0,
            cv_min_cases: 5,
        }
    }
}

/// What the dashboard is asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardQuery {
    pub level: Level,
    pub range: Range,
    /// Restrict to one 统筹区 (None: every region in the lake).
    pub region: Option<String>,
    /// Restrict to one tier (comparison group).
    pub tier: Option<String>,
}

/// Integer sums of a unit (a region, a tier, a hospital, a department or the whole selection),
/// with the indicators derived from them as exact ratios.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Indicators {
    pub cases: i64,
    pub grouped: i64,
    pub ambiguous: i64,
    pub ungrouped: i64,
    pub total_cost_fen: i64,
    pub selfpay_fen: i64,
    pub personal_pay_fen: i64,
    pub fund_pay_fen: i64,
    pub payment_fen: i64,
    pub los_days: i64,
    /// Σ RW × 10⁴ of grouped cases.
    pub weight_units: i64,
    /// Σ final points × 10⁴.
    pub points_units: i64,
    /// Distinct groups with at least one grouped case.
    pub drg_count: i64,
    pub deaths: i64,
    pub low_risk_cases: i64,
    pub low_risk_deaths: i64,
    /// Cases with at least one audit flag, and the amount at stake in their flags.
    pub flagged_cases: i64,
    pub flag_amount_fen: i64,
    /// 时间消耗指数 / 费用消耗指数 (4 dp); None when the unit has no comparable grouped case.
    pub time_index: Option<Decimal>,
    pub cost_index: Option<Decimal>,
}

impl Indicators {
    /// 次均费用 in fen.
    pub fn cost_per_case(&self) -> Ratio {
        Ratio::new(self.total_cost_fen, self.cases)
    }
    /// 平均住院日.
    pub fn mean_los(&self) -> Ratio {
        Ratio::new(self.los_days, self.cases)
    }
    /// 入组率.
    pub fn grouping_rate(&self) -> Ratio {
        Ratio::new(self.grouped, self.cases)
    }
    /// CMI = Σ RW ÷ grouped cases (the ratio of ×10⁴ units to grouped cases × 10⁴).
    pub fn cmi(&self) -> Ratio {
        Ratio::new(self.weight_units, self.grouped.saturating_mul(10_000))
    }
    /// 总权重 = Σ RW (units ÷ 10⁴).
    pub fn total_weight(&self) -> Ratio {
        Ratio::new(self.weight_units, 10_000)
    }
    /// 低风险组死亡率.
    pub fn low_risk_mortality(&self) -> Ratio {
        Ratio::new(self.low_risk_deaths, self.low_risk_cases)
    }
    /// 个人负担率.
    pub fn personal_burden_rate(&self) -> Ratio {
        Ratio::new(self.personal_pay_fen, self.total_cost_fen)
    }
    /// 全自费占比.
    pub fn selfpay_share(&self) -> Ratio {
        Ratio::new(self.selfpay_fen, self.total_cost_fen)
    }
    /// 基金支付占比 = fund paid ÷ total cost.
    pub fn fund_share(&self) -> Ratio {
        Ratio::new(self.fund_pay_fen, self.total_cost_fen)
    }
    /// 盈亏 = payment − total cost (see the module documentation), fen.
    pub fn profit_fen(&self) -> i64 {
        self.payment_fen - self.total_cost_fen
    }
    /// 支付与费用比 = payment ÷ total cost.
    pub fn payment_cost_ratio(&self) -> Ratio {
        Ratio::new(self.payment_fen, self.total_cost_fen)
    }
}

/// One row of the dashboard's unit table.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UnitRow {
    /// Region code, tier label, hospital code or department, by level.
    pub key: String,
    /// Display name: the hospital name at hospital level, else the key.
    pub label: String,
    /// The unit's tier (hospital level; the key itself at tier level; "" otherwise).
    pub tier: String,
    /// The region(s) of the unit's cases, comma-separated.
    pub region: String,
    pub ind: Indicators,
}

/// Payment by pricing method.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MethodRow {
    pub method: String,
    pub cases: i64,
    pub payment_fen: i64,
    pub total_cost_fen: i64,
}

/// One month of the trend (every month of the range, zeros where there are no cases).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MonthRow {
    pub period: Period,
    pub cases: i64,
    pub total_cost_fen: i64,
    pub payment_fen: i64,
    pub fund_pay_fen: i64,
    pub personal_pay_fen: i64,
    pub los_days: i64,
    pub weight_units: i64,
    pub grouped: i64,
}

/// A group of the selection (grouped cases only).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GroupRow {
    pub drg: String,
    pub drg_name: String,
    /// The group's RW × 10⁴ (the largest `weight_units` seen in it; every case of a group carries the
    /// group's weight).
    pub weight_units: i64,
    pub cases: i64,
    pub total_cost_fen: i64,
    pub los_days: i64,
    /// Coefficient of variation of cost per case (population SD ÷ mean), display only; None with
    /// fewer than two cases or a zero mean.
    pub cost_cv: Option<f64>,
}

impl GroupRow {
    pub fn mean_cost(&self) -> Ratio {
        Ratio::new(self.total_cost_fen, self.cases)
    }
    pub fn mean_los(&self) -> Ratio {
        Ratio::new(self.los_days, self.cases)
    }
}

/// A group whose volume changed abnormally against the previous equal-length period.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VolumeChange {
    pub drg: String,
    pub drg_name: String,
    pub cases: i64,
    pub previous_cases: i64,
    /// (this − previous) ÷ previous; None for a group new in this period.
    pub change: Option<Ratio>,
}

/// Block (b) 分组分析.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GroupAnalysis {
    pub top_weight: Vec<GroupRow>,
    pub volume_changes: Vec<VolumeChange>,
    pub dispersed: Vec<GroupRow>,
}

/// The 运行监测 dashboard.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Dashboard {
    pub level: Level,
    pub range: Range,
    /// The previous equal-length period (for volume changes).
    pub previous: Range,
    pub region: Option<String>,
    pub tier: Option<String>,
    /// The hospital the data is restricted to (hospital users).
    pub scope: Option<String>,
    /// The whole selection.
    pub totals: Indicators,
    /// One row per unit of the level (region / tier / hospital).
    pub units: Vec<UnitRow>,
    /// One row per tier and one per hospital, whatever the level (the drill-down lists).
    pub tiers: Vec<UnitRow>,
    pub hospitals: Vec<UnitRow>,
    /// (a) payment by method, largest payment first.
    pub by_method: Vec<MethodRow>,
    /// (a) monthly trend.
    pub trend: Vec<MonthRow>,
    /// (b) group analysis.
    pub groups: GroupAnalysis,
    pub config: DashboardConfig,
}

/// What a unit table is grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnitBy {
    Region,
    Tier,
    Hospital,
    Department,
}

impl From<Level> for UnitBy {
    fn from(l: Level) -> UnitBy {
        match l {
            Level::Region => UnitBy::Region,
            Level::Tier => UnitBy::Tier,
            Level::Hospital => UnitBy::Hospital,
        }
    }
}

/// Regional yardstick of the consumption indexes: (region, group) → (cases, Σ cost, Σ LOS).
pub(crate) type RegionRefs = HashMap<(String, String), (i64, i64, i64)>;

fn count_if(cond: Expr) -> Result<Expr, LakeError> {
    Ok(sum(when(cond, lit(1i64)).otherwise(lit(0i64))?))
}

/// Regional means per group over the period, unscoped (only used inside index computations).
pub(crate) async fn region_refs(
    lake: &Lake,
    region: Option<&str>,
    range: Range,
) -> Result<RegionRefs, LakeError> {
    let f = Filter {
        region: region.map(str::to_string),
        range: Some(range),
        grouped_only: true,
        ..Filter::default()
    };
    let batches = lake
        .frame(&f)?
        .aggregate(
            vec![col("region"), col("drg")],
            vec![
                count(lit(1i64)).alias("n"),
                sum(col("total_cost_fen")).alias("cost"),
                sum(col("los_days")).alias("los"),
            ],
        )?
        .collect()
        .await?;
    let mut refs = RegionRefs::new();
    for b in &batches {
        let (r, g, n, c, l) = (
            strs(b, "region")?,
            strs(b, "drg")?,
            ints(b, "n")?,
            ints(b, "cost")?,
            ints(b, "los")?,
        );
        for k in 0..b.num_rows() {
            refs.insert((r[k].clone(), g[k].clone()), (n[k], c[k], l[k]));
        }
    }
    Ok(refs)
}

/// Accumulates index terms Σ H_g × N_g ÷ R_g and Σ n_g.
#[derive(Default)]
struct IndexAcc {
    cost_terms: Decimal,
    cost_n: i64,
    los_terms: Decimal,
    los_n: i64,
}

impl IndexAcc {
    fn add(&mut self, n: i64, cost: i64, los: i64, reference: Option<&(i64, i64, i64)>) {
        let Some(&(rn, rcost, rlos)) = reference else {
            return;
        };
        if rcost > 0 {
            self.cost_terms += Decimal::from(cost) * Decimal::from(rn) / Decimal::from(rcost);
            self.cost_n += n;
        }
        if rlos > 0 {
            self.los_terms += Decimal::from(los) * Decimal::from(rn) / Decimal::from(rlos);
            self.los_n += n;
        }
    }
    fn finish(&self, ind: &mut Indicators) {
        let idx = |terms: Decimal, n: i64| {
            (n > 0).then(|| {
                (terms / Decimal::from(n))
                    .round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
            })
        };
        ind.cost_index = idx(self.cost_terms, self.cost_n);
        ind.time_index = idx(self.los_terms, self.los_n);
    }
}

#[derive(Default)]
struct UnitAcc {
    ind: Indicators,
    drgs: BTreeSet<String>,
    idx: IndexAcc,
    label: String,
    tier: String,
    regions: BTreeSet<String>,
}

/// Per-group sums over the selection (grouped cases only).
#[derive(Default)]
pub(crate) struct GroupAcc {
    name: String,
    weight_units: i64,
    cases: i64,
    cost: i64,
    cost_sq: f64,
    los: i64,
}

/// Sums of one (hospital, [department,] region, group, status) cell: the finest grain every
/// unit table is rolled up from.
#[derive(Debug, Clone, Default)]
pub(crate) struct AggRow {
    pub hospital: String,
    hospital_name: String,
    tier: String,
    region: String,
    department: String,
    drg: String,
    drg_name: String,
    status: String,
    n: i64,
    cost: i64,
    selfpay: i64,
    personal: i64,
    fund: i64,
    payment: i64,
    los: i64,
    weight: i64,
    points: i64,
    deaths: i64,
    lr_n: i64,
    lr_deaths: i64,
    flagged: i64,
    flag_amount: i64,
    cost_sq: f64,
    weight_max: i64,
}

/// One aggregate query: sums per (hospital, region, group, status), and per department too when
/// `by_department`.
pub(crate) async fn fetch(
    lake: &Lake,
    filter: &Filter,
    by_department: bool,
) -> Result<Vec<AggRow>, LakeError> {
    let mut keys = vec![
        col("hospital_code"),
        col("region"),
        col("drg"),
        col("group_status"),
    ];
    if by_department {
        keys.push(col("department"));
    }
    let cost_f = cast(col("total_cost_fen"), DataType::Float64);
    let batches = lake
        .frame(filter)?
        .aggregate(
            keys,
            vec![
                count(lit(1i64)).alias("n"),
                sum(col("total_cost_fen")).alias("cost"),
                sum(col("selfpay_fen")).alias("selfpay"),
                sum(col("personal_pay_fen")).alias("personal"),
                sum(col("fund_pay_fen")).alias("fund"),
                sum(col("payment_fen")).alias("payment"),
                sum(col("los_days")).alias("los"),
                sum(col("weight_units")).alias("weight"),
                sum(col("points_units")).alias("points"),
                count_if(col("death").eq(lit(true)))?.alias("deaths"),
                count_if(col("low_risk").eq(lit(true)))?.alias("lr_n"),
                count_if(
                    col("low_risk")
                        .eq(lit(true))
                        .and(col("death").eq(lit(true))),
                )?
                .alias("lr_deaths"),
                count_if(col("flags").gt(lit(0i64)))?.alias("flagged"),
                sum(col("flag_amount_fen")).alias("flag_amount"),
                sum(cost_f.clone() * cost_f).alias("cost_sq"),
                max(col("weight_units")).alias("weight_max"),
                max(col("drg_name")).alias("drg_name"),
                max(col("hospital_name")).alias("hname"),
                max(col("tier")).alias("tname"),
            ],
        )?
        .collect()
        .await?;
    let mut out = Vec::new();
    for b in &batches {
        let (hospital, region, drg, status) = (
            strs(b, "hospital_code")?,
            strs(b, "region")?,
            strs(b, "drg")?,
            strs(b, "group_status")?,
        );
        let department = if by_department {
            strs(b, "department")?
        } else {
            vec![String::new(); b.num_rows()]
        };
        let (n, cost, selfpay, personal, fund, payment) = (
            ints(b, "n")?,
            ints(b, "cost")?,
            ints(b, "selfpay")?,
            ints(b, "personal")?,
            ints(b, "fund")?,
            ints(b, "payment")?,
        );
        let (los, weight, points, deaths, lr_n, lr_deaths) = (
            ints(b, "los")?,
            ints(b, "weight")?,
            ints(b, "points")?,
            ints(b, "deaths")?,
            ints(b, "lr_n")?,
            ints(b, "lr_deaths")?,
        );
        let (flagged, flag_amount, cost_sq, weight_max) = (
            ints(b, "flagged")?,
            ints(b, "flag_amount")?,
            floats(b, "cost_sq")?,
            ints(b, "weight_max")?,
        );
        let (drg_name, hname, tname) = (strs(b, "drg_name")?, strs(b, "hname")?, strs(b, "tname")?);
        for k in 0..b.num_rows() {
            out.push(AggRow {
                hospital: hospital[k].clone(),
                hospital_name: hname[k].clone(),
                tier: tname[k].clone(),
                region: region[k].clone(),
                department: department[k].clone(),
                drg: drg[k].clone(),
                drg_name: drg_name[k].clone(),
                status: status[k].clone(),
                n: n[k],
                cost: cost[k],
                selfpay: selfpay[k],
                personal: personal[k],
                fund: fund[k],
                payment: payment[k],
                los: los[k],
                weight: weight[k],
                points: points[k],
                deaths: deaths[k],
                lr_n: lr_n[k],
                lr_deaths: lr_deaths[k],
                flagged: flagged[k],
                flag_amount: flag_amount[k],
                cost_sq: cost_sq[k],
                weight_max: weight_max[k],
            });
        }
    }
    Ok(out)
}

pub(crate) struct UnitsResult {
    pub units: Vec<UnitRow>,
    pub totals: Indicators,
    pub groups: BTreeMap<String, GroupAcc>,
}

/// Rolls the cells up into one row per unit (`by`), the totals and the per-group sums.
pub(crate) fn roll_up(rows: &[AggRow], by: UnitBy, refs: &RegionRefs) -> UnitsResult {
    let mut accs: BTreeMap<String, UnitAcc> = BTreeMap::new();
    let mut total = UnitAcc::default();
    let mut groups: BTreeMap<String, GroupAcc> = BTreeMap::new();
    for r in rows {
        let key = match by {
            UnitBy::Region => &r.region,
            UnitBy::Tier => &r.tier,
            UnitBy::Hospital => &r.hospital,
            UnitBy::Department => &r.department,
        };
        let grouped = r.status == "grouped";
        let reference = refs.get(&(r.region.clone(), r.drg.clone()));
        let acc = accs.entry(key.clone()).or_default();
        for a in [&mut *acc, &mut total] {
            let i = &mut a.ind;
            i.cases += r.n;
            match r.status.as_str() {
                "grouped" => i.grouped += r.n,
                "ambiguous" => i.ambiguous += r.n,
                _ => i.ungrouped += r.n,
            }
            i.total_cost_fen += r.cost;
            i.selfpay_fen += r.selfpay;
            i.personal_pay_fen += r.personal;
            i.fund_pay_fen += r.fund;
            i.payment_fen += r.payment;
            i.los_days += r.los;
            if grouped {
                i.weight_units += r.weight;
                a.drgs.insert(r.drg.clone());
                a.idx.add(r.n, r.cost, r.los, reference);
            }
            i.points_units += r.points;
            i.deaths += r.deaths;
            i.low_risk_cases += r.lr_n;
            i.low_risk_deaths += r.lr_deaths;
            i.flagged_cases += r.flagged;
            i.flag_amount_fen += r.flag_amount;
            a.regions.insert(r.region.clone());
        }
        if r.hospital_name > acc.label {
            acc.label = r.hospital_name.clone();
        }
        if r.tier > acc.tier {
            acc.tier = r.tier.clone();
        }
        if grouped {
            let g = groups.entry(r.drg.clone()).or_default();
            if r.drg_name > g.name {
                g.name = r.drg_name.clone();
            }
            g.weight_units = g.weight_units.max(r.weight_max);
            g.cases += r.n;
            g.cost += r.cost;
            g.cost_sq += r.cost_sq;
            g.los += r.los;
        }
    }
    let finish = |a: &mut UnitAcc| {
        a.ind.drg_count = a.drgs.len() as i64;
        a.idx.finish(&mut a.ind);
    };
    finish(&mut total);
    let mut units: Vec<UnitRow> = accs
        .into_iter()
        .map(|(key, mut a)| {
            finish(&mut a);
            let (label, tier) = match by {
                UnitBy::Hospital => (a.label.clone(), a.tier.clone()),
                UnitBy::Tier => (key.clone(), key.clone()),
                UnitBy::Region | UnitBy::Department => (key.clone(), String::new()),
            };
            UnitRow {
                key,
                label,
                tier,
                region: a.regions.iter().cloned().collect::<Vec<_>>().join(","),
                ind: a.ind,
            }
        })
        .collect();
    if by == UnitBy::Department {
        units.sort_by(|a, b| {
            b.ind
                .cases
                .cmp(&a.ind.cases)
                .then_with(|| a.key.cmp(&b.key))
        });
    }
    UnitsResult {
        units,
        totals: total.ind,
        groups,
    }
}

fn group_rows(groups: &BTreeMap<String, GroupAcc>) -> Vec<GroupRow> {
    groups
        .iter()
        .map(|(drg, g)| {
            let cost_cv = (g.cases >= 2 && g.cost > 0).then(|| {
                let n = g.cases as f64;
                let mean = g.cost as f64 / n;
                let var = (g.cost_sq / n - mean * mean).max(0.0);
                var.sqrt() / mean
            });
            GroupRow {
                drg: drg.clone(),
                drg_name: g.name.clone(),
                weight_units: g.weight_units,
                cases: g.cases,
                total_cost_fen: g.cost,
                los_days: g.los,
                cost_cv,
            }
        })
        .collect()
}

/// Grouped cases per group in `range` (volume comparison).
async fn group_volumes(
    lake: &Lake,
    base: &Filter,
    range: Range,
) -> Result<BTreeMap<String, (i64, String)>, LakeError> {
    let f = Filter {
        range: Some(range),
        grouped_only: true,
        ..base.clone()
    };
    let batches = lake
        .frame(&f)?
        .aggregate(
            vec![col("drg")],
            vec![
                count(lit(1i64)).alias("n"),
                max(col("drg_name")).alias("drg_name"),
            ],
        )?
        .collect()
        .await?;
    let mut out = BTreeMap::new();
    for b in &batches {
        let (g, n, name) = (strs(b, "drg")?, ints(b, "n")?, strs(b, "drg_name")?);
        for k in 0..b.num_rows() {
            out.insert(g[k].clone(), (n[k], name[k].clone()));
        }
    }
    Ok(out)
}

/// Abnormal volume changes: groups with ≥ `volume_min_cases` in one of the periods whose change is
/// at least `volume_change_permille` (new groups and vanished groups included), largest absolute
/// change first.
fn volume_changes(
    cur: &BTreeMap<String, (i64, String)>,
    prev: &BTreeMap<String, (i64, String)>,
    cfg: &DashboardConfig,
) -> Vec<VolumeChange> {
    let keys: BTreeSet<&String> = cur.keys().chain(prev.keys()).collect();
    let mut out: Vec<VolumeChange> = keys
        .into_iter()
        .filter_map(|g| {
            let (c, cname) = cur.get(g).map(|(n, s)| (*n, s.as_str())).unwrap_or((0, ""));
            let (p, pname) = prev
                .get(g)
                .map(|(n, s)| (*n, s.as_str()))
                .unwrap_or((0, ""));
            if c.max(p) < cfg.volume_min_cases {
                return None;
            }
            let abnormal = p == 0 || (c - p).abs() * 1000 >= cfg.volume_change_permille * p;
            abnormal.then(|| VolumeChange {
                drg: g.clone(),
                drg_name: if cname.is_empty() { pname } else { cname }.to_string(),
                cases: c,
                previous_cases: p,
                change: (p > 0).then(|| Ratio::new(c - p, p)),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (b.cases - b.previous_cases)
            .abs()
            .cmp(&(a.cases - a.previous_cases).abs())
            .then_with(|| a.drg.cmp(&b.drg))
    });
    out
}

impl Lake {
    /// The 运行监测 dashboard for `q`, restricted to the hospital `scope` when given.
    pub async fn dashboard(
        &self,
        scope: Option<&str>,
        q: &DashboardQuery,
        cfg: &DashboardConfig,
    ) -> Result<Dashboard, LakeError> {
        let base = Filter {
            scope: scope.map(str::to_string),
            region: q.region.clone(),
            tier: q.tier.clone(),
            range: Some(q.range),
            ..Filter::default()
        };
        let refs = region_refs(self, q.region.as_deref(), q.range).await?;
        let cells = fetch(self, &base, false).await?;
        let UnitsResult {
            units,
            totals,
            groups,
        } = roll_up(&cells, q.level.into(), &refs);
        let tiers = roll_up(&cells, UnitBy::Tier, &refs).units;
        let hospitals = roll_up(&cells, UnitBy::Hospital, &refs).units;

        // (a) payment by method
        let batches = self
            .frame(&base)?
            .aggregate(
                vec![col("method")],
                vec![
                    count(lit(1i64)).alias("n"),
                    sum(col("payment_fen")).alias("payment"),
                    sum(col("total_cost_fen")).alias("cost"),
                ],
            )?
            .collect()
            .await?;
        let mut by_method = Vec::new();
        for b in &batches {
            let (m, n, p, c) = (
                strs(b, "method")?,
                ints(b, "n")?,
                ints(b, "payment")?,
                ints(b, "cost")?,
            );
            for k in 0..b.num_rows() {
                by_method.push(MethodRow {
                    method: m[k].clone(),
                    cases: n[k],
                    payment_fen: p[k],
                    total_cost_fen: c[k],
                });
            }
        }
        by_method.sort_by(|a, b| {
            b.payment_fen
                .cmp(&a.payment_fen)
                .then_with(|| a.method.cmp(&b.method))
        });

        // (a) monthly trend, every month of the range
        let batches = self
            .frame(&base)?
            .aggregate(
                vec![col("year"), col("month")],
                vec![
                    count(lit(1i64)).alias("n"),
                    sum(col("total_cost_fen")).alias("cost"),
                    sum(col("payment_fen")).alias("payment"),
                    sum(col("fund_pay_fen")).alias("fund"),
                    sum(col("personal_pay_fen")).alias("personal"),
                    sum(col("los_days")).alias("los"),
                    sum(
                        when(col("group_status").eq(lit("grouped")), col("weight_units"))
                            .otherwise(lit(0i64))?,
                    )
                    .alias("weight"),
                    count_if(col("group_status").eq(lit("grouped")))?.alias("grouped"),
                ],
            )?
            .collect()
            .await?;
        let mut months: BTreeMap<Period, MonthRow> = q
            .range
            .each_month()
            .map(|p| {
                (
                    p,
                    MonthRow {
                        period: p,
                        cases: 0,
                        total_cost_fen: 0,
                        payment_fen: 0,
                        fund_pay_fen: 0,
                        personal_pay_fen: 0,
                        los_days: 0,
                        weight_units: 0,
                        grouped: 0,
                    },
                )
            })
            .collect();
        for b in &batches {
            let (y, m) = (ints(b, "year")?, ints(b, "month")?);
            let (n, c, p, f, pp, l, w, g) = (
                ints(b, "n")?,
                ints(b, "cost")?,
                ints(b, "payment")?,
                ints(b, "fund")?,
                ints(b, "personal")?,
                ints(b, "los")?,
                ints(b, "weight")?,
                ints(b, "grouped")?,
            );
            for k in 0..b.num_rows() {
                let period = Period::new(y[k] as i32, m[k] as u32)?;
                if let Some(row) = months.get_mut(&period) {
                    row.cases += n[k];
                    row.total_cost_fen += c[k];
                    row.payment_fen += p[k];
                    row.fund_pay_fen += f[k];
                    row.personal_pay_fen += pp[k];
                    row.los_days += l[k];
                    row.weight_units += w[k];
                    row.grouped += g[k];
                }
            }
        }

        // (b) group analysis
        let rows = group_rows(&groups);
        let mut top_weight = rows.clone();
        top_weight.sort_by(|a, b| {
            b.weight_units
                .cmp(&a.weight_units)
                .then_with(|| b.cases.cmp(&a.cases))
                .then_with(|| a.drg.cmp(&b.drg))
        });
        top_weight.truncate(cfg.top_groups);
        let mut dispersed: Vec<GroupRow> = rows
            .into_iter()
            .filter(|g| {
                g.cases >= cfg.cv_min_cases && g.cost_cv.is_some_and(|cv| cv > cfg.cv_threshold)
            })
            .collect();
        dispersed.sort_by(|a, b| {
            b.cost_cv
                .partial_cmp(&a.cost_cv)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.drg.cmp(&b.drg))
        });
        let previous = q.range.previous();
        let cur: BTreeMap<String, (i64, String)> = groups
            .iter()
            .map(|(g, a)| (g.clone(), (a.cases, a.name.clone())))
            .collect();
        let prev = group_volumes(self, &base, previous).await?;
        let volume_changes = volume_changes(&cur, &prev, cfg);

        Ok(Dashboard {
            level: q.level,
            range: q.range,
            previous,
            region: q.region.clone(),
            tier: q.tier.clone(),
            scope: scope.map(str::to_string),
            totals,
            units,
            tiers,
            hospitals,
            by_method,
            trend: months.into_values().collect(),
            groups: GroupAnalysis {
                top_weight,
                volume_changes,
                dispersed,
            },
            config: cfg.clone(),
        })
    }
}
