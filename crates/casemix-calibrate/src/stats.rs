//! Statistics shared by DRG calibration and the DIP catalogue: trimming rules, year weighting
//! with price adjustment, exact decimal ratios, R².
//!
//! Means, SD, CV, percentiles and R² are `f64` (statistics, not money). Everything that feeds
//! payment is turned into integers here with a stated rounding: a mean cost is rounded half away
//! from zero to the fen ([`round_fen`]); a ratio of two fen amounts is computed exactly in integer
//! arithmetic and rounded half away from zero to 4 decimals ([`ratio_1e4`]).

use serde::{Deserialize, Serialize};
use std::fmt;

/// How outliers are excluded within a group and year before averaging (payment.md §1 step 3).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum TrimRule {
    /// No trimming.
    None,
    /// Keep `mean − k·SD ≤ cost ≤ mean + k·SD` (sample SD, n − 1). Default k = 3
    /// (payment.md §1.3: common practice, no national figure).
    Sd { k: f64 },
    /// Keep `P_low ≤ cost ≤ P_high` (percentiles by linear interpolation, as Excel
    /// PERCENTILE.INC). payment.md §1.3 alternative: 2.5 / 97.5.
    Percentile { low: f64, high: f64 },
    /// Keep `Q1 − k·IQR ≤ cost ≤ Q3 + k·IQR`. payment.md §1.3 alternative: k = 1.5.
    Iqr { k: f64 },
}

impl Default for TrimRule {
    /// payment.md §1 step 3: mean ± 3 SD.
    fn default() -> Self {
        TrimRule::Sd { k: 3.0 }
    }
}

impl TrimRule {
    /// The three rules of payment.md §1.3 with their default parameters (for the report's
    /// comparison of trimming counts).
    pub const ALTERNATIVES: [TrimRule; 3] =
        [TrimRule::Sd { k: 3.0 }, TrimRule::Percentile { low: 2.5, high: 97.5 }, TrimRule::Iqr { k: 1.5 }];

    /// Parses `none`, `sd`, `sd:2.5`, `pct`, `pct:5:95`, `iqr`, `iqr:3`.
    pub fn parse(s: &str) -> Result<TrimRule, String> {
        let parts: Vec<&str> = s.trim().split(':').collect();
        let num = |i: usize, d: f64| -> Result<f64, String> {
            match parts.get(i) {
                None => Ok(d),
                Some(t) => t.parse::<f64>().map_err(|_| format!("裁剪规则参数“{t}”不是数字")),
            }
        };
        match parts[0] {
            "none" => Ok(TrimRule::None),
            "sd" => Ok(TrimRule::Sd { k: num(1, 3.0)? }),
            "pct" | "percentile" => Ok(TrimRule::Percentile { low: num(1, 2.5)?, high: num(2, 97.5)? }),
            "iqr" => Ok(TrimRule::Iqr { k: num(1, 1.5)? }),
            other => Err(format!("未知的裁剪规则“{other}”（可选 none / sd[:k] / pct[:低:高] / iqr[:k]）")),
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

    /// Inclusive bounds `(lo, hi)` of the kept costs of one group-year; `sorted` ascending.
    /// Groups of fewer than 2 cases are never trimmed.
    pub fn bounds(&self, sorted: &[i64]) -> (f64, f64) {
        if sorted.len() < 2 {
            return (f64::NEG_INFINITY, f64::INFINITY);
        }
        match *self {
            TrimRule::None => (f64::NEG_INFINITY, f64::INFINITY),
            TrimRule::Sd { k } => {
                let m = mean_i64(sorted);
                let sd = sd_sample_i64(sorted, m);
                (m - k * sd, m + k * sd)
            }
            TrimRule::Percentile { low, high } => (percentile_sorted(sorted, low), percentile_sorted(sorted, high)),
            TrimRule::Iqr { k } => {
                let q1 = percentile_sorted(sorted, 25.0);
                let q3 = percentile_sorted(sorted, 75.0);
                let iqr = q3 - q1;
                (q1 - k * iqr, q3 + k * iqr)
            }
        }
    }

    /// How many of `sorted` this rule removes.
    pub fn removed(&self, sorted: &[i64]) -> usize {
        let (lo, hi) = self.bounds(sorted);
        sorted.iter().filter(|&&x| (x as f64) < lo || (x as f64) > hi).count()
    }
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

/// How each history year's costs are brought to the target year's price level (payment.md §1.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub enum Inflation {
    /// No adjustment (factor 1).
    None,
    /// Default (payment.md §1.2): factor_y = all-case mean cost of the target year ÷ all-case
    /// mean cost of year y (untrimmed, all cases of the calibration).
    #[default]
    MeasuredGrowth,
    /// A configured price index per year: factor_y = index[target] ÷ index[y].
    Index(Vec<(i32, f64)>),
}

impl Inflation {
    /// Parses `none`, `measured`, or `index:2022=100,2023=103,2024=105`.
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
            let y: i32 = y.trim().parse().map_err(|_| format!("价格指数年份“{y}”无效"))?;
            let x: f64 = x.trim().parse().map_err(|_| format!("价格指数“{x}”无效"))?;
            if x <= 0.0 {
                return Err(format!("{y} 年价格指数必须为正"));
            }
            v.push((y, x));
        }
        Ok(Inflation::Index(v))
    }

    /// The factor of every year of `years`, given the untrimmed all-case mean cost of each year.
    pub fn factors(&self, years: &[i32], target: i32, all_mean_by_year: &[f64]) -> Result<Vec<f64>, String> {
        match self {
            Inflation::None => Ok(vec![1.0; years.len()]),
            Inflation::MeasuredGrowth => {
                let t = years.iter().position(|&y| y == target).ok_or_else(|| format!("目标年度 {target} 不在历史年度中"))?;
                let mt = all_mean_by_year[t];
                Ok(all_mean_by_year.iter().map(|&m| if m > 0.0 && mt > 0.0 { mt / m } else { 1.0 }).collect())
            }
            Inflation::Index(ix) => {
                let get = |y: i32| ix.iter().find(|(a, _)| *a == y).map(|(_, x)| *x).ok_or_else(|| format!("价格指数缺少 {y} 年"));
                let t = get(target)?;
                years.iter().map(|&y| get(y).map(|x| t / x)).collect()
            }
        }
    }

    pub fn describe_zh(&self) -> String {
        match self {
            Inflation::None => "不做价格调整".to_string(),
            Inflation::MeasuredGrowth => "按全部病例例均费用的实际增长调整到目标年度（系数 = 目标年度例均 ÷ 当年例均）".to_string(),
            Inflation::Index(v) => format!(
                "按配置的价格指数调整（系数 = 目标年度指数 ÷ 当年指数）：{}",
                v.iter().map(|(y, x)| format!("{y}={x}")).collect::<Vec<_>>().join("，")
            ),
        }
    }
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

/// Rounds half away from zero to an integer (used for fen).
pub fn round_half_away(x: f64) -> i64 {
    x.round() as i64 // f64::round rounds half away from zero
}

/// A mean cost in fen, rounded half away from zero.
pub fn round_fen(x: f64) -> i64 {
    round_half_away(x)
}

/// `num × scale ÷ den` as an integer count of 1/10 000, rounded half away from zero, computed
/// exactly in integer arithmetic. E.g. `ratio_1e4(12345, 10000, 1)` = 12345 (1.2345).
pub fn ratio_1e4(num: i64, den: i64, scale: i64) -> i64 {
    assert!(den != 0, "ratio with zero denominator");
    let n = num as i128 * scale as i128 * 10_000;
    let d = den as i128;
    let (n, d) = if d < 0 { (-n, -d) } else { (n, d) };
    let q = n / d;
    let r = n % d;
    let q = if 2 * r.abs() >= d { q + n.signum() } else { q };
    q as i64
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
    /// `self × other`, rounded half away from zero to 4 decimals.
    pub fn mul(self, other: Dec4) -> Dec4 {
        Dec4(ratio_1e4(self.0 * other.0, 10_000 * 10_000, 1))
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

/// Year-weighted mean Σ w_y · v_y ÷ Σ w_y over the years that have a value (weights of the
/// missing years are left out of the denominator: the weights are renormalised).
pub fn year_weighted(values: &[(u32, Option<f64>)]) -> Option<f64> {
    let (mut num, mut den) = (0.0, 0u64);
    for &(w, v) in values {
        if let Some(v) = v {
            if w > 0 {
                num += w as f64 * v;
                den += w as u64;
            }
        }
    }
    if den == 0 {
        None
    } else {
        Some(num / den as f64)
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

    #[test]
    fn ratio_rounds_half_away_from_zero() {
        // 1 ÷ 3 = 0.33333 → 0.3333
        assert_eq!(ratio_1e4(1, 3, 1), 3333);
        // 2 ÷ 3 = 0.66667 → 0.6667
        assert_eq!(ratio_1e4(2, 3, 1), 6667);
        // 1 ÷ 80000 = 0.0000125 → ×10000 = 0.125 → 0; 1 ÷ 20000 = 0.5 → 1 (half away)
        assert_eq!(ratio_1e4(1, 80000, 1), 0);
        assert_eq!(ratio_1e4(1, 20000, 1), 1);
        assert_eq!(ratio_1e4(-1, 20000, 1), -1);
        // score base 100: 15000 ÷ 10000 × 100 = 150.0000
        assert_eq!(ratio_1e4(15000, 10000, 100), 1_500_000);
    }

    #[test]
    fn dec4_formats() {
        assert_eq!(Dec4(12345).to_string(), "1.2345");
        assert_eq!(Dec4(12345).times100_string(), "123.45");
        assert_eq!(Dec4(5).to_string(), "0.0005");
        assert_eq!(Dec4(5).times100_string(), "0.05");
        assert_eq!(Dec4(-5).to_string(), "-0.0005");
        // 1.5 × 1.1 = 1.65
        assert_eq!(Dec4(15000).mul(Dec4(11000)), Dec4(16500));
    }

    #[test]
    fn percentiles_interpolate() {
        let v = [10, 20, 30, 40, 50];
        // rank = 0.25 × 4 = 1 → 20
        assert_eq!(percentile_sorted(&v, 25.0), 20.0);
        // rank = 0.1 × 4 = 0.4 → 10 + 0.4 × 10 = 14
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
        assert_eq!(TrimRule::Sd { k: 3.0 }.removed(&v), 1);
        // IQR: Q1 = Q3 = 100, IQR 0 → fences 100..100 → the 1000 case removed.
        assert_eq!(TrimRule::Iqr { k: 1.5 }.removed(&v), 1);
        // percentile 2.5/97.5: rank 0.975 × 10 = 9.75 → 100 + 0.75 × 900 = 775 → 1000 removed;
        // P2.5 = 100 → none below.
        assert_eq!(TrimRule::Percentile { low: 2.5, high: 97.5 }.removed(&v), 1);
        // ten cases at most: mean + 3 SD can never exceed the maximum (max z = (n−1)/√n = 2.85).
        let mut w = vec![100; 9];
        w.push(1000);
        assert_eq!(TrimRule::Sd { k: 3.0 }.removed(&w), 0);
        assert_eq!(TrimRule::parse("pct:5:95").unwrap(), TrimRule::Percentile { low: 5.0, high: 95.0 });
        assert_eq!(TrimRule::parse("sd").unwrap(), TrimRule::Sd { k: 3.0 });
        assert!(TrimRule::parse("xx").is_err());
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
        // (1·100 + 2·200 + 7·300) / 10 = 260
        assert_eq!(year_weighted(&[(1, Some(100.0)), (2, Some(200.0)), (7, Some(300.0))]), Some(260.0));
        // oldest year missing: (2·200 + 7·300) / 9 = 277.78
        let v = year_weighted(&[(1, None), (2, Some(200.0)), (7, Some(300.0))]).unwrap();
        assert!((v - 2500.0 / 9.0).abs() < 1e-9);
    }
}
