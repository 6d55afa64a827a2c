//! Statistics shared by DRG calibration and the DIP catalogue: trimming rules, price factors,
//! exact year weighting, exact rounding, descriptive statistics, R².
//!
//! ## Exact arithmetic (stated once)
//! Everything that becomes money, a weight or a score is exact: fen sums and case counts are
//! integers ([`CostSum`]), price factors are exact ratios of integers ([`PriceFactor`]), trimming
//! parameters and price indexes are exact decimals, and year weighting, the ratio RW = cost ÷
//! all-case cost and every auxiliary factor are computed as exact rationals ([`BigRational`],
//! `num-rational` over `num-bigint`: three years of sum ÷ count terms need common denominators
//! of ~10^50, far beyond `i128`). Each output is rounded ONCE, half away from zero: a mean cost to
//! the fen ([`round_fen`]), a weight, score or factor to 4 decimals ([`ratio_dec4`]).
//! Trimming decides on exact values too ([`TrimRule::kept_range`]; the SD rule compares squares,
//! so no square root is taken).
//!
//! Only descriptive statistics (mean, SD and CV for display, R²) are `f64`; none feeds payment.

pub use num_bigint::BigInt;
pub use num_rational::BigRational;
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};
use casemix_model::Fen;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Range;

/// How outliers are excluded within a group and year before averaging (payment.md §1 step 3).
/// Parameters are exact decimals; the decision on each cost is exact (see [`TrimRule::kept_range`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum TrimRule {
    /// No trimming.
    None,
    /// Keep `mean − k·SD ≤ cost ≤ mean + k·SD` (sample SD, n − 1). Default k = 3
    /// (payment.md §1.3: common practice, no national figure).
    Sd { k: Decimal },
    /// Keep `P_low ≤ cost ≤ P_high` (percentiles by linear interpolation, as Excel
    /// PERCENTILE.INC). payment.md §1.3 alternative: 2.5 / 97.5.
    Percentile { low: Decimal, high: Decimal },
    /// Keep `Q1 − k·IQR ≤ cost ≤ Q3 + k·IQR`. payment.md §1.3 alternative: k = 1.5.
    Iqr { k: Decimal },
}

/// 3, 1.5, 2.5 and 97.5 as exact decimals (payment.md §1.3 defaults).
const D3: Decimal = Decimal::from_parts(3, 0, 0, false, 0);
const D1_5: Decimal = Decimal::from_parts(15, 0, 0, false, 1);
const D2_5: Decimal = Decimal::from_parts(25, 0, 0, false, 1);
const D97_5: Decimal = Decimal::from_parts(975, 0, 0, false, 1);

impl Default for TrimRule {
    /// payment.md §1 step 3: mean ± 3 SD.
    fn default() -> Self {
        TrimRule::Sd { k: D3 }
    }
}

impl TrimRule {
    /// The three rules of payment.md §1.3 with their default parameters (for the report's
    /// comparison of trimming counts).
    pub const ALTERNATIVES: [TrimRule; 3] =
        [TrimRule::Sd { k: D3 }, TrimRule::Percentile { low: D2_5, high: D97_5 }, TrimRule::Iqr { k: D1_5 }];

    /// Parses `none`, `sd`, `sd:2.5`, `pct`, `pct:5:95`, `iqr`, `iqr:3` (exact decimals; k ≥ 0,
    /// 0 ≤ low ≤ high ≤ 100).
    pub fn parse(s: &str) -> Result<TrimRule, String> {
        let parts: Vec<&str> = s.trim().split(':').collect();
        let num = |i: usize, d: Decimal| -> Result<Decimal, String> {
            match parts.get(i) {
                None => Ok(d),
                Some(t) => t.trim().parse::<Decimal>().map_err(|_| format!("裁剪规则参数“{t}”不是数字")),
            }
        };
        let rule = match parts.first().copied().unwrap_or("") {
            "none" => TrimRule::None,
            "sd" => TrimRule::Sd { k: num(1, D3)? },
            "pct" | "percentile" => TrimRule::Percentile { low: num(1, D2_5)?, high: num(2, D97_5)? },
            "iqr" => TrimRule::Iqr { k: num(1, D1_5)? },
            other => return Err(format!("未知的裁剪规则“{other}”（可选 none / sd[:k] / pct[:低:高] / iqr[:k]）")),
        };
        rule.validate()?;
        Ok(rule)
    }

    /// Checks the parameter domains; Chinese message.
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            TrimRule::None => Ok(()),
            TrimRule::Sd { k } | TrimRule::Iqr { k } if k.is_sign_negative() && !k.is_zero() => {
                Err(format!("裁剪规则倍数 k = {k} 不能为负"))
            }
            TrimRule::Percentile { low, high } if low < Decimal::ZERO || high > Decimal::ONE_HUNDRED || low > high => {
                Err(format!("裁剪百分位数应满足 0 ≤ 低({low}) ≤ 高({high}) ≤ 100"))
            }
            _ => Ok(()),
        }
    }

    /// Chinese description for reports.
    pub fn describe_zh(&self) -> String {
        match self {
            TrimRule::None => "不裁剪".to_string(),
            TrimRule::Sd { k } => format!("均值 ± {k} 倍标准差之外剔除（样本标准差，n−1）"),
            TrimRule::Percentile { low, high } => format!("第 {low} 至第 {high} 百分位数之外剔除（线性插值）"),
            TrimRule::Iqr { k } => format!("Q1 − {k}·IQR 至 Q3 + {k}·IQR 之外剔除（四分位距法）"),
        }
    }

    /// The index range of the kept costs of one group-year; `sorted` ascending. Every rule keeps
    /// a contiguous run of the sorted costs, found by binary search with exact comparisons.
    /// Groups of fewer than 2 cases are never trimmed.
    pub fn kept_range(&self, sorted: &[i64]) -> Range<usize> {
        let n = sorted.len();
        if n < 2 {
            return 0..n;
        }
        let (lo, hi) = match *self {
            TrimRule::None => return 0..n,
            TrimRule::Sd { k } => {
                let sd = SdTest::new(sorted, k);
                (sorted.partition_point(|&x| sd.below_mean(x) && !sd.keeps(x)), sorted.partition_point(|&x| !sd.above_mean(x) || sd.keeps(x)))
            }
            TrimRule::Percentile { low, high } => {
                let (a, b) = (percentile_exact(sorted, &decimal_exact(low)), percentile_exact(sorted, &decimal_exact(high)));
                bound_range(sorted, &a, &b)
            }
            TrimRule::Iqr { k } => {
                let q1 = percentile_exact(sorted, &BigRational::from_integer(25.into()));
                let q3 = percentile_exact(sorted, &BigRational::from_integer(75.into()));
                let reach = (&q3 - &q1) * decimal_exact(k);
                bound_range(sorted, &(&q1 - &reach), &(&q3 + &reach))
            }
        };
        lo..hi.max(lo)
    }

    /// How many of `sorted` this rule removes.
    pub fn removed(&self, sorted: &[i64]) -> usize {
        sorted.len() - self.kept_range(sorted).len()
    }
}

/// `(first index with x ≥ lo, first index with x > hi)` of ascending `sorted`, exact.
fn bound_range(sorted: &[i64], lo: &BigRational, hi: &BigRational) -> (usize, usize) {
    let r = |x: i64| BigRational::from_integer(x.into());
    (sorted.partition_point(|&x| r(x) < *lo), sorted.partition_point(|&x| r(x) <= *hi))
}

/// The exact test of the SD rule: `|x − m| ≤ k·s` with m = S/n and s² = (nQ − S²)/(n(n − 1))
/// (S = Σx, Q = Σx²) ⇔ `(n·x − S)² · (n − 1) · q² ≤ p² · n · (n·Q − S²)` for k = p/q.
struct SdTest {
    n: BigInt,
    s: BigInt,
    lhs_scale: BigInt,
    rhs: BigInt,
}

impl SdTest {
    fn new(sorted: &[i64], k: Decimal) -> SdTest {
        let n = BigInt::from(sorted.len());
        let s: BigInt = sorted.iter().map(|&x| BigInt::from(x)).sum();
        let q: BigInt = sorted.iter().map(|&x| BigInt::from(x) * BigInt::from(x)).sum();
        let kq = decimal_exact(k);
        let (p, d) = (kq.numer().clone(), kq.denom().clone());
        let lhs_scale = (&n - 1) * &d * &d;
        let rhs = &p * &p * &n * (&n * q - &s * &s);
        SdTest { n, s, lhs_scale, rhs }
    }
    fn dev(&self, x: i64) -> BigInt {
        &self.n * BigInt::from(x) - &self.s
    }
    fn keeps(&self, x: i64) -> bool {
        let d = self.dev(x);
        &d * &d * &self.lhs_scale <= self.rhs
    }
    fn below_mean(&self, x: i64) -> bool {
        self.dev(x).is_negative()
    }
    fn above_mean(&self, x: i64) -> bool {
        self.dev(x).is_positive()
    }
}

/// Percentile `p` (0–100, exact) of ascending, non-empty `sorted` by linear interpolation
/// between closest ranks (rank = p/100 · (n − 1), 0-based; Excel PERCENTILE.INC), exact.
/// A rank outside the data is clamped to it.
pub fn percentile_exact(sorted: &[i64], p: &BigRational) -> BigRational {
    let Some(&last) = sorted.last() else { return BigRational::zero() };
    let rank = p * BigRational::from_integer(BigInt::from(sorted.len() - 1)) / BigRational::from_integer(100.into());
    let lo = rank.floor().to_integer().to_usize().unwrap_or(0).min(sorted.len() - 1);
    let x_lo = sorted.get(lo).copied().unwrap_or(last);
    let x_hi = sorted.get(lo + 1).copied().unwrap_or(x_lo);
    let frac = rank - BigRational::from_integer(BigInt::from(lo));
    let frac = frac.clamp(BigRational::zero(), BigRational::one());
    BigRational::from_integer(x_lo.into()) + BigRational::from_integer(BigInt::from(x_hi) - BigInt::from(x_lo)) * frac
}

impl fmt::Display for TrimRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrimRule::None => write!(f, "none"),
            TrimRule::Sd { k } => write!(f, "sd:{k}"),
            TrimRule::Percentile { low, high } => write!(f, "pct:{low}:{high}"),
            TrimRule::Iqr { k } => write!(f, "iqr:{k}"),
        }
    }
}

/// An exact decimal as a rational.
pub fn decimal_exact(d: Decimal) -> BigRational {
    BigRational::new(BigInt::from(d.mantissa()), BigInt::from(10u32).pow(d.scale()))
}

/// The fen sum and the count of a set of cases, exact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostSum {
    /// Σ cost, fen.
    pub sum: i128,
    pub count: u64,
}

impl CostSum {
    /// Adds one case of `fen` (i128 cannot overflow: it would take 2^64 cases of i64::MAX).
    pub fn add(&mut self, fen: i64) {
        self.sum += i128::from(fen);
        self.count += 1;
    }
    pub fn merge(&mut self, o: CostSum) {
        self.sum += o.sum;
        self.count += o.count;
    }
    /// sum ÷ count exactly; `None` without cases.
    pub fn mean(&self) -> Option<BigRational> {
        (self.count > 0).then(|| BigRational::new(BigInt::from(self.sum), BigInt::from(self.count)))
    }
    /// The mean rounded half away from zero to the fen (0 without cases).
    pub fn mean_fen(&self) -> Result<Fen, String> {
        self.mean().map(|m| round_fen(&m)).unwrap_or(Ok(Fen(0)))
    }
}

/// A price factor to the target year as an exact, reduced fraction `num / den` (both > 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawFactor")]
pub struct PriceFactor {
    num: i128,
    den: i128,
}

#[derive(Deserialize)]
struct RawFactor {
    num: i128,
    den: i128,
}

impl TryFrom<RawFactor> for PriceFactor {
    type Error = String;
    fn try_from(r: RawFactor) -> Result<Self, String> {
        if r.num <= 0 || r.den <= 0 {
            return Err(format!("价格调整系数 {}/{} 必须为正", r.num, r.den));
        }
        PriceFactor::from_ratio(&BigRational::new(r.num.into(), r.den.into()))
    }
}

impl PriceFactor {
    pub const ONE: PriceFactor = PriceFactor { num: 1, den: 1 };
    /// From a positive exact ratio; an error when it is not positive or its reduced terms do not
    /// fit 128 bits.
    pub fn from_ratio(r: &BigRational) -> Result<PriceFactor, String> {
        let (num, den) = (r.numer().to_i128(), r.denom().to_i128());
        match (num, den) {
            (Some(num), Some(den)) if num > 0 && den > 0 => Ok(PriceFactor { num, den }),
            (Some(_), Some(_)) => Err(format!("价格调整系数 {r} 必须为正")),
            _ => Err(format!("价格调整系数 {r} 超出精确计算范围")),
        }
    }
    pub fn num(&self) -> i128 {
        self.num
    }
    pub fn den(&self) -> i128 {
        self.den
    }
    pub fn exact(&self) -> BigRational {
        BigRational::new(self.num.into(), self.den.into())
    }
    /// For descriptive statistics only.
    pub fn to_f64(&self) -> f64 {
        self.exact().to_f64().unwrap_or(f64::NAN)
    }
    /// Rounded half away from zero to 6 decimals, e.g. `1.090909` (reports).
    pub fn fixed6(&self) -> String {
        let micro = round_half_away(&(self.exact() * BigRational::from_integer(1_000_000.into())));
        let (i, f) = micro.div_rem(&BigInt::from(1_000_000));
        format!("{i}.{:06}", f.to_u64().unwrap_or(0))
    }
}

/// How each history year's costs are brought to the target year's price level (payment.md §1.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub enum Inflation {
    /// No adjustment (factor 1).
    None,
    /// Default (payment.md §1.2): factor_y = all-case mean cost of the target year ÷ all-case
    /// mean cost of year y (untrimmed, all cases of the calibration), exact.
    #[default]
    MeasuredGrowth,
    /// A configured price index per year: factor_y = index[target] ÷ index[y], exact.
    Index(Vec<PriceIndex>),
}

/// One year's configured price index (an exact decimal > 0, e.g. 103.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceIndex {
    pub year: i32,
    pub index: Decimal,
}

impl Inflation {
    /// Parses `none`, `measured`, or `index:2022=100,2023=103,2024=105` (exact decimals > 0).
    pub fn parse(s: &str) -> Result<Inflation, String> {
        let s = s.trim();
        match s {
            "none" => return Ok(Inflation::None),
            "measured" => return Ok(Inflation::MeasuredGrowth),
            _ => {}
        }
        let Some(rest) = s.strip_prefix("index:") else {
            return Err(format!("未知的价格调整方式“{s}”（可选 none / measured / index:2022=100,2023=103）"));
        };
        let mut v = Vec::new();
        for item in rest.split(',') {
            let (y, x) = item.split_once('=').ok_or_else(|| format!("价格指数项“{item}”应为 年=指数"))?;
            let year: i32 = y.trim().parse().map_err(|_| format!("价格指数年份“{y}”无效"))?;
            let index: Decimal = x.trim().parse().map_err(|_| format!("价格指数“{x}”无效"))?;
            if index <= Decimal::ZERO {
                return Err(format!("{year} 年价格指数必须为正"));
            }
            v.push(PriceIndex { year, index });
        }
        Ok(Inflation::Index(v))
    }

    /// The exact factor of every year of `years`, given the untrimmed all-case fen sum and count
    /// of each year (same order).
    pub fn factors(&self, years: &[i32], target: i32, all_by_year: &[CostSum]) -> Result<Vec<PriceFactor>, String> {
        match self {
            Inflation::None => Ok(vec![PriceFactor::ONE; years.len()]),
            Inflation::MeasuredGrowth => {
                let t = years.iter().position(|&y| y == target).ok_or_else(|| format!("目标年度 {target} 不在历史年度中"))?;
                let positive = |c: &CostSum| c.mean().filter(|m| m.is_positive());
                let mt = all_by_year.get(t).and_then(positive);
                all_by_year
                    .iter()
                    .map(|c| match (&mt, positive(c)) {
                        (Some(mt), Some(m)) => PriceFactor::from_ratio(&(mt / m)),
                        _ => Ok(PriceFactor::ONE),
                    })
                    .collect()
            }
            Inflation::Index(ix) => {
                let get = |y: i32| -> Result<BigRational, String> {
                    let i = ix.iter().find(|p| p.year == y).ok_or_else(|| format!("价格指数缺少 {y} 年"))?;
                    if i.index <= Decimal::ZERO {
                        return Err(format!("{y} 年价格指数必须为正"));
                    }
                    Ok(decimal_exact(i.index))
                };
                let t = get(target)?;
                years.iter().map(|&y| PriceFactor::from_ratio(&(&t / get(y)?))).collect()
            }
        }
    }

    pub fn describe_zh(&self) -> String {
        match self {
            Inflation::None => "不做价格调整".to_string(),
            Inflation::MeasuredGrowth => "按全部病例例均费用的实际增长调整到目标年度（系数 = 目标年度例均 ÷ 当年例均，精确分数）".to_string(),
            Inflation::Index(v) => format!(
                "按配置的价格指数调整（系数 = 目标年度指数 ÷ 当年指数，精确分数）：{}",
                v.iter().map(|p| format!("{}={}", p.year, p.index)).collect::<Vec<_>>().join("，")
            ),
        }
    }
}

/// One history year of a group for [`year_weighted_mean`]: the year's weight, the kept cases'
/// fen sum and count, and the year's price factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YearCost {
    pub weight: u32,
    pub cost: CostSum,
    pub factor: PriceFactor,
}

/// Year-weighted, price-adjusted mean Σ w_y · f_y · sum_y / count_y ÷ Σ w_y over the years with
/// w_y > 0 and count_y > 0 (the weights of the other years are left out of the denominator: the
/// weights are renormalised), exact. `None` when no year qualifies.
pub fn year_weighted_mean(years: &[YearCost]) -> Option<BigRational> {
    let mut num = BigRational::zero();
    let mut den: u64 = 0;
    for y in years.iter().filter(|y| y.weight > 0) {
        if let Some(m) = y.cost.mean() {
            num += m * y.factor.exact() * BigRational::from_integer(y.weight.into());
            den += u64::from(y.weight);
        }
    }
    (den > 0).then(|| num / BigRational::from_integer(den.into()))
}

/// Rounds half away from zero to an integer, exact.
pub fn round_half_away(x: &BigRational) -> BigInt {
    x.round().to_integer() // Ratio::round rounds half-way cases away from zero
}

/// An exact mean cost rounded half away from zero to the fen; an error when it does not fit.
pub fn round_fen(x: &BigRational) -> Result<Fen, String> {
    round_half_away(x).to_i64().map(Fen).ok_or_else(|| format!("例均费用 {} 分超出金额范围", x.round()))
}

/// `num × scale ÷ den` rounded half away from zero to 4 decimals, exact (RW = cost ÷ all-case
/// cost with scale 1; DIP score with scale 100 or 1000; auxiliary factors). `den` must be > 0.
pub fn ratio_dec4(num: &BigRational, den: &BigRational, scale: i64) -> Result<Dec4, String> {
    if !den.is_positive() {
        return Err("比值的分母必须为正".into());
    }
    let x = num * BigRational::from_integer((i128::from(scale) * 10_000).into()) / den;
    round_half_away(&x).to_i64().map(Dec4).ok_or_else(|| "比值超出 4 位小数的表示范围".to_string())
}

pub fn mean_i64(xs: &[i64]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.iter().map(|&x| x as f64).sum::<f64>() / xs.len() as f64
}

/// Sample standard deviation (n − 1); 0 for fewer than 2 values.
pub fn sd_sample_i64(xs: &[i64], m: f64) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let ss: f64 = xs.iter().map(|&x| (x as f64 - m).powi(2)).sum();
    (ss / (xs.len() - 1) as f64).sqrt()
}

/// Coefficient of variation = sample SD ÷ mean (0 when the mean is 0).
pub fn cv_i64(xs: &[i64]) -> f64 {
    let m = mean_i64(xs);
    if m == 0.0 {
        0.0
    } else {
        sd_sample_i64(xs, m) / m
    }
}

/// Percentile `p` (0–100) of ascending `sorted` by linear interpolation between closest ranks
/// (rank = p/100 · (n − 1), 0-based; Excel PERCENTILE.INC, numpy default).
pub fn percentile_sorted(sorted: &[i64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let r = p / 100.0 * (sorted.len() - 1) as f64;
    let lo = r.floor() as usize;
    let hi = r.ceil() as usize;
    let f = r - lo as f64;
    sorted[lo] as f64 + (sorted[hi] as f64 - sorted[lo] as f64) * f
}

/// Median of ascending `sorted`.
pub fn median_sorted(sorted: &[i64]) -> f64 {
    percentile_sorted(sorted, 50.0)
}

/// An exact decimal with 4 places held as an integer count of 1/10 000 (RW, scores, factors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Dec4(pub i64);

impl Dec4 {
    pub const ONE: Dec4 = Dec4(10_000);
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / 10_000.0
    }
    /// The same value ×100 with 2 decimals (RW → points), exact.
    pub fn times100_string(self) -> String {
        fmt_scaled(self.0, 100)
    }
    /// `self × other`, rounded half away from zero to 4 decimals, exact; `None` when the product
    /// does not fit.
    pub fn checked_mul(self, other: Dec4) -> Option<Dec4> {
        let p = i128::from(self.0) * i128::from(other.0);
        let (q, r) = (p / 10_000, p % 10_000);
        let q = if 2 * r.abs() >= 10_000 { q + p.signum() } else { q };
        i64::try_from(q).ok().map(Dec4)
    }
}

fn fmt_scaled(v: i64, unit: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    let u = unit as u64;
    let width = (unit as f64).log10() as usize;
    format!("{sign}{}.{:0width$}", a / u, a % u, width = width)
}

impl fmt::Display for Dec4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&fmt_scaled(self.0, 10_000))
    }
}

/// Accumulates the sums of squares of R² = 1 − Σ(cost − group mean)² ÷ Σ(cost − grand mean)²
/// (payment.md §1.7). Feed `(group, cost)` pairs with [`R2::add`] after grouping them, or give the
/// per-group slices to [`r2_of_groups`].
pub fn r2_of_groups<'a>(groups: impl Iterator<Item = &'a [f64]> + Clone) -> f64 {
    let (mut n, mut sum) = (0usize, 0.0f64);
    for g in groups.clone() {
        n += g.len();
        sum += g.iter().sum::<f64>();
    }
    if n == 0 {
        return 0.0;
    }
    let grand = sum / n as f64;
    let (mut sst, mut ssw) = (0.0, 0.0);
    for g in groups {
        if g.is_empty() {
            continue;
        }
        let m = g.iter().sum::<f64>() / g.len() as f64;
        for &x in g {
            sst += (x - grand).powi(2);
            ssw += (x - m).powi(2);
        }
    }
    if sst == 0.0 {
        0.0
    } else {
        1.0 - ssw / sst
    }
}

/// Quotes a CSV cell when needed (RFC 4180).
pub fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(n.into(), d.into())
    }

    #[test]
    fn ratio_rounds_half_away_from_zero() {
        // 1 ÷ 3 = 0.33333 → 0.3333
        assert_eq!(ratio_dec4(&q(1, 1), &q(3, 1), 1), Ok(Dec4(3333)));
        // 2 ÷ 3 = 0.66667 → 0.6667
        assert_eq!(ratio_dec4(&q(2, 1), &q(3, 1), 1), Ok(Dec4(6667)));
        // 1 ÷ 80000 = 0.0000125 → ×10000 = 0.125 → 0; 1 ÷ 20000 = 0.00005 → ×10000 = 0.5 → 1 (half away)
        assert_eq!(ratio_dec4(&q(1, 1), &q(80000, 1), 1), Ok(Dec4(0)));
        assert_eq!(ratio_dec4(&q(1, 1), &q(20000, 1), 1), Ok(Dec4(1)));
        assert_eq!(ratio_dec4(&q(-1, 1), &q(20000, 1), 1), Ok(Dec4(-1)));
        // score base 100: 15000 ÷ 10000 × 100 = 150.0000
        assert_eq!(ratio_dec4(&q(15000, 1), &q(10000, 1), 100), Ok(Dec4(1_500_000)));
        // unrounded operands: (24604.5) ÷ (49209/2) = 1 exactly
        assert_eq!(ratio_dec4(&q(49209, 2), &q(49209, 2), 1), Ok(Dec4(10_000)));
        assert!(ratio_dec4(&q(1, 1), &q(0, 1), 1).is_err());
        // fen: 24604.5 → 24605; −0.5 → −1; 2.4999 → 2
        assert_eq!(round_fen(&q(49209, 2)), Ok(Fen(24605)));
        assert_eq!(round_fen(&q(-1, 2)), Ok(Fen(-1)));
        assert_eq!(round_fen(&q(24999, 10000)), Ok(Fen(2)));
    }

    #[test]
    fn dec4_formats() {
        assert_eq!(Dec4(12345).to_string(), "1.2345");
        assert_eq!(Dec4(12345).times100_string(), "123.45");
        assert_eq!(Dec4(5).to_string(), "0.0005");
        assert_eq!(Dec4(5).times100_string(), "0.05");
        assert_eq!(Dec4(-5).to_string(), "-0.0005");
        // 1.5 × 1.1 = 1.65
        assert_eq!(Dec4(15000).checked_mul(Dec4(11000)), Some(Dec4(16500)));
        // 1.0909 × 0.9545 = 1.04126405 → 1.0413
        assert_eq!(Dec4(10909).checked_mul(Dec4(9545)), Some(Dec4(10413)));
        assert_eq!(Dec4(i64::MAX).checked_mul(Dec4(20_000)), None);
    }

    #[test]
    fn price_factors_are_exact() {
        // measured: 2022 sum 8000 over 4 (mean 2000), 2023 8800/4 (2200), 2024 36000/15 (2400):
        // 2400/2000 = 6/5; 2400/2200 = 12/11; 1
        let all = [CostSum { sum: 8000, count: 4 }, CostSum { sum: 8800, count: 4 }, CostSum { sum: 36000, count: 15 }];
        let f = Inflation::MeasuredGrowth.factors(&[2022, 2023, 2024], 2024, &all).unwrap();
        assert_eq!(f.iter().map(|x| (x.num(), x.den())).collect::<Vec<_>>(), vec![(6, 5), (12, 11), (1, 1)]);
        assert_eq!(f[1].fixed6(), "1.090909");
        // index 2022=100, 2023=103.5: 103.5/100 = 207/200
        let ix = Inflation::parse("index:2022=100,2023=103.5").unwrap();
        let f = ix.factors(&[2022, 2023], 2023, &[CostSum::default(); 2]).unwrap();
        assert_eq!((f[0].num(), f[0].den()), (207, 200));
        assert!(Inflation::parse("index:2022=0").is_err());
        assert!(serde_json::from_str::<PriceFactor>(r#"{"num":1,"den":0}"#).is_err());
    }

    #[test]
    fn percentiles_interpolate() {
        let v = [10, 20, 30, 40, 50];
        // rank = 0.25 × 4 = 1 → 20
        assert_eq!(percentile_exact(&v, &q(25, 1)), q(20, 1));
        // rank = 0.1 × 4 = 0.4 → 10 + 0.4 × 10 = 14
        assert_eq!(percentile_exact(&v, &q(10, 1)), q(14, 1));
        assert!((percentile_sorted(&v, 10.0) - 14.0).abs() < 1e-9);
        assert_eq!(median_sorted(&[1, 2, 3, 4]), 2.5);
    }

    #[test]
    fn trimming_rules() {
        // eleven cases: ten at 100, one at 1000. mean = 2000/11 = 181.82;
        // sample SD = sqrt((10 × 81.82² + 818.18²) / 10) = sqrt((66942 + 669421)/10) = 271.36;
        // mean + 3 SD = 995.9 < 1000 → the 1000 case is removed.
        let mut v = vec![100; 10];
        v.push(1000);
        assert_eq!(TrimRule::Sd { k: D3 }.removed(&v), 1);
        assert_eq!(TrimRule::Sd { k: D3 }.kept_range(&v), 0..10);
        // IQR: Q1 = Q3 = 100, IQR 0 → fences 100..100 → the 1000 case removed.
        assert_eq!(TrimRule::Iqr { k: D1_5 }.removed(&v), 1);
        // percentile 2.5/97.5: rank 0.975 × 10 = 9.75 → 100 + 0.75 × 900 = 775 → 1000 removed;
        // P2.5 = 100 → none below.
        assert_eq!(TrimRule::Percentile { low: D2_5, high: D97_5 }.removed(&v), 1);
        // ten cases at most: mean + 3 SD can never exceed the maximum (max z = (n−1)/√n = 2.85).
        let mut w = vec![100; 9];
        w.push(1000);
        assert_eq!(TrimRule::Sd { k: D3 }.removed(&w), 0);
        assert_eq!(TrimRule::parse("pct:5:95").unwrap(), TrimRule::Percentile { low: Decimal::from(5), high: Decimal::from(95) });
        assert_eq!(TrimRule::parse("sd").unwrap(), TrimRule::Sd { k: D3 });
        assert!(TrimRule::parse("xx").is_err());
        assert!(TrimRule::parse("pct:90:10").is_err());
        assert!(TrimRule::parse("sd:-1").is_err());
    }

    #[test]
    fn sd_trim_on_the_boundary_is_exact() {
        // {0, 0, 0, 3}: n = 4, S = 3, Q = 9; m = 0.75; s² = (4·9 − 9)/(4·3) = 27/12 = 2.25, s = 1.5.
        // k = 1.5: m + k·s = 0.75 + 2.25 = 3 exactly → 3 is kept (≤); k = 1.4999: 2.9998 < 3 → removed.
        let v = [0, 0, 0, 3];
        assert_eq!(TrimRule::parse("sd:1.5").unwrap().removed(&v), 0);
        assert_eq!(TrimRule::parse("sd:1.4999").unwrap().removed(&v), 1);
        // low side: {0, 3, 3, 3} mirrors it: m − k·s = 2.25 − 2.25 = 0 → kept.
        assert_eq!(TrimRule::parse("sd:1.5").unwrap().removed(&[0, 3, 3, 3]), 0);
    }

    #[test]
    fn r2_by_hand() {
        // groups {1,3} and {5,7}: grand mean 4; SST = 9+1+1+9 = 20; SSW = 1+1+1+1 = 4; R² = 0.8
        let a = [1.0, 3.0];
        let b = [5.0, 7.0];
        let r2 = r2_of_groups([&a[..], &b[..]].into_iter());
        assert!((r2 - 0.8).abs() < 1e-12);
    }

    #[test]
    fn year_weights_renormalise() {
        let y = |weight, sum, count| YearCost { weight, cost: CostSum { sum, count }, factor: PriceFactor::ONE };
        // (1·100 + 2·200 + 7·300) / 10 = 260
        assert_eq!(year_weighted_mean(&[y(1, 100, 1), y(2, 400, 2), y(7, 900, 3)]), Some(q(260, 1)));
        // oldest year without cases: (2·200 + 7·300) / 9 = 2500/9
        assert_eq!(year_weighted_mean(&[y(1, 0, 0), y(2, 200, 1), y(7, 300, 1)]), Some(q(2500, 9)));
        // a year of weight 0 does not count
        assert_eq!(year_weighted_mean(&[y(0, 999, 1), y(2, 200, 1)]), Some(q(200, 1)));
        assert_eq!(year_weighted_mean(&[y(0, 999, 1)]), None);
    }
}
