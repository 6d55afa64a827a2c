//! Group rates: DRG weights (`weights.csv`) or the DIP catalogue (`catalogue.csv`), and the
//! hospital register (`hospitals.csv`). Parsed from text handed in by the caller (no file I/O).

use casemix_model::Fen;
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use std::str::FromStr;

/// Where the base points come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateSource {
    /// DRG weights: base points (基准点数) = points column, or RW × scale.
    DrgWeights,
    /// DIP catalogue: score (病种分值).
    DipCatalogue,
}

/// One DRG or 病种 with its base points and region mean cost.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRate {
    pub code: String,
    pub name: String,
    /// 基准点数 / 病种分值.
    pub base_points: Decimal,
    /// Region mean cost of the group (次均费用), the reference of the outlier rules.
    pub mean_cost: Fen,
    /// DIP kind (core / comprehensive / basic); empty for DRG.
    pub kind: String,
}

/// The rate table of a region and year.
#[derive(Debug, Clone)]
pub struct RateTable {
    pub source: RateSource,
    pub groups: Vec<GroupRate>,
    index: FxHashMap<String, u32>,
    /// All-case mean cost (全部病例次均费用), for fee-for-service points.
    pub all_case_mean: Fen,
    /// Groups listed without a weight or score (待定); their cases take the fallback.
    pub unrated: Vec<String>,
}

/// A problem in a rates file: line (1-based, header = 1), column and a Chinese message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateError {
    pub line: u64,
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for RateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "第 {} 行 {}：{}", self.line, self.column, self.message)
    }
}

impl RateTable {
    /// Builds a table from groups; the all-case mean is given (fen).
    pub fn from_groups(source: RateSource, groups: Vec<GroupRate>, all_case_mean: Fen) -> RateTable {
        let index = groups.iter().enumerate().map(|(i, g)| (g.code.clone(), i as u32)).collect();
        RateTable { source, groups, index, all_case_mean, unrated: Vec::new() }
    }

    pub fn get(&self, code: &str) -> Option<u32> {
        self.index.get(code).copied()
    }

    pub fn group(&self, i: u32) -> &GroupRate {
        &self.groups[i as usize]
    }

    /// Reads `weights.csv` (`drg,name,adrg,cases,cost_mean,cost_cv,los_mean,rw,points,source`).
    /// Base points = `points` when present, else `rw × points_scale`. The all-case mean =
    /// Σ cases × cost_mean ÷ Σ cases, rounded half-up to the fen.
    pub fn from_weights_csv(text: &str, points_scale: Decimal) -> Result<RateTable, Vec<RateError>> {
        Self::read(text, RateSource::DrgWeights, points_scale)
    }

    /// Reads a DIP `catalogue.csv` (`dip_code,kind,dx_key,proc_key,name,cases,cost_mean,cost_cv,score`).
    pub fn from_catalogue_csv(text: &str) -> Result<RateTable, Vec<RateError>> {
        Self::read(text, RateSource::DipCatalogue, Decimal::ONE)
    }

    fn read(text: &str, source: RateSource, scale: Decimal) -> Result<RateTable, Vec<RateError>> {
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let headers = rdr.headers().map_err(|e| vec![RateError { line: 1, column: String::new(), message: format!("表头无法读取：{e}") }])?.clone();
        let col = |name: &str| headers.iter().position(|h| h.trim() == name);
        let (code_col, points_col) = match source {
            RateSource::DrgWeights => ("drg", "points"),
            RateSource::DipCatalogue => ("dip_code", "score"),
        };
        let mut errors = Vec::new();
        let need = |name: &str, errors: &mut Vec<RateError>| {
            let c = col(name);
            if c.is_none() {
                errors.push(RateError { line: 1, column: name.into(), message: format!("缺少列 {name}") });
            }
            c
        };
        let c_code = need(code_col, &mut errors);
        let c_mean = need("cost_mean", &mut errors);
        let c_points = col(points_col);
        let c_rw = col("rw");
        if c_points.is_none() && c_rw.is_none() {
            errors.push(RateError { line: 1, column: points_col.into(), message: format!("缺少列 {points_col}（或 rw）") });
        }
        let c_name = col("name");
        let c_cases = col("cases");
        let c_kind = col("kind");
        let (Some(c_code), Some(c_mean)) = (c_code, c_mean) else { return Err(errors) };
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut groups = Vec::new();
        let mut seen = FxHashMap::default();
        let mut unrated = Vec::new();
        let (mut sum_cost, mut sum_cases) = (0i128, 0i128);
        for (i, rec) in rdr.records().enumerate() {
            let line = i as u64 + 2;
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    errors.push(RateError { line, column: String::new(), message: format!("行无法读取：{e}") });
                    continue;
                }
            };
            let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).map(str::trim).unwrap_or("");
            let code = get(Some(c_code)).to_string();
            if code.is_empty() {
                errors.push(RateError { line, column: code_col.into(), message: "分组编码为空".into() });
                continue;
            }
            let mean_text = get(Some(c_mean));
            let mean = match Fen::parse_yuan(mean_text) {
                Ok(f) if f.0 >= 0 && f.0 <= MAX_MEAN_FEN => f,
                // a group without history (e.g. weight taken from its ADRG): mean derived below
                _ if mean_text.is_empty() => Fen(-1),
                _ => {
                    errors.push(RateError {
                    line,
                    column: "cost_mean".into(),
                    message: format!("次均费用“{}”不是有效金额（应在 0–{} 元之间）", get(Some(c_mean)), Fen(MAX_MEAN_FEN)),
                });
                    continue;
                }
            };
            let pts_text = get(c_points);
            if pts_text.is_empty() && get(c_rw).is_empty() {
                // no weight yet (e.g. source = no_data, 待定): cases of this group fall back
                unrated.push(code);
                continue;
            }
            let base = if !pts_text.is_empty() {
                Decimal::from_str(pts_text).ok()
            } else {
                Decimal::from_str(get(c_rw)).ok().and_then(|rw| rw.checked_mul(scale))
            };
            let Some(base) = base.filter(|b| *b >= Decimal::ZERO && *b <= Decimal::from(MAX_BASE_POINTS)) else {
                let shown = if pts_text.is_empty() { get(c_rw) } else { pts_text };
                errors.push(RateError { line, column: points_col.into(), message: format!("点数/分值“{shown}”不是有效数值（应在 0–{MAX_BASE_POINTS} 之间）") });
                continue;
            };
            if seen.insert(code.clone(), line).is_some() {
                errors.push(RateError { line, column: code_col.into(), message: format!("分组 {code} 重复") });
                continue;
            }
            let cases: i128 = match get(c_cases) {
                "" => 0,
                t => match t.parse::<i128>() {
                    Ok(n) if (0..=MAX_GROUP_CASES).contains(&n) => n,
                    _ => {
                        errors.push(RateError { line, column: "cases".into(), message: format!("病例数“{t}”应为 0–{MAX_GROUP_CASES} 的整数") });
                        continue;
                    }
                },
            };
            if mean.0 >= 0 {
                sum_cost += cases * mean.0 as i128;
                sum_cases += cases;
            }
            groups.push(GroupRate {
                code,
                name: get(c_name).to_string(),
                base_points: base,
                mean_cost: mean,
                kind: get(c_kind).to_string(),
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let all_case_mean = if sum_cases > 0 { Fen(div_round_half_up(sum_cost, sum_cases) as i64) } else { Fen::ZERO };
        // groups without a mean cost: mean = base points ÷ scale × all-case mean (the RW
        // definition, payment.md §1.5), rounded half-up to the fen
        let scale = if source == RateSource::DipCatalogue { Decimal::ONE_HUNDRED } else { scale };
        for g in groups.iter_mut().filter(|g| g.mean_cost.0 < 0) {
            // base ≤ 10^6 points, scale > 0 (validated), mean ≤ 10^12 fen: bounded, and checked anyway
            let m = g.base_points.checked_div(scale).and_then(|r| r.checked_mul(crate::price::yuan_of_fen(all_case_mean)));
            g.mean_cost = m.and_then(crate::price::try_fen_of_yuan).unwrap_or(Fen::ZERO);
        }
        let mut t = RateTable::from_groups(source, groups, all_case_mean);
        t.unrated = unrated;
        Ok(t)
    }
}

/// Largest group mean cost a rate table may state: 10^12 fen (10^10 yuan).
pub const MAX_MEAN_FEN: i64 = 1_000_000_000_000;
/// Largest base points (分值) of a group: 10^6 (RW 10,000 at scale 100).
pub const MAX_BASE_POINTS: i64 = 1_000_000;
/// Largest case count of a group in the history: 10^9.
pub const MAX_GROUP_CASES: i128 = 1_000_000_000;

/// Integer division rounded half away from zero (the stated rounding of every fen amount).
pub fn div_round_half_up(n: i128, d: i128) -> i128 {
    assert!(d != 0);
    let (n, d) = if d < 0 { (-n, -d) } else { (n, d) };
    let q = n.div_euclid(d);
    let r = n.rem_euclid(d);
    if n >= 0 {
        if 2 * r >= d {
            q + 1
        } else {
            q
        }
    } else if 2 * r > d {
        q + 1
    } else {
        q
    }
}

/// A hospital of the region register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hospital {
    pub code: String,
    pub name: String,
    /// 三级甲等 / 三级 / 二级 / 一级.
    pub level: String,
    /// 1–3 (0 = none).
    pub tier: u8,
}

/// Reads `hospitals.csv` (`code,name,level,tier,...`).
pub fn hospitals_from_csv(text: &str) -> Result<Vec<Hospital>, Vec<RateError>> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = rdr.headers().map_err(|e| vec![RateError { line: 1, column: String::new(), message: format!("表头无法读取：{e}") }])?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let Some(c_code) = col("code").or_else(|| col("hospital_code")) else {
        return Err(vec![RateError { line: 1, column: "code".into(), message: "缺少列 code".into() }]);
    };
    let (c_name, c_level, c_tier) = (col("name"), col("level"), col("tier"));
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i as u64 + 2;
        let Ok(rec) = rec else {
            errors.push(RateError { line, column: String::new(), message: "行无法读取".into() });
            continue;
        };
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).map(str::trim).unwrap_or("").to_string();
        let tier_text = get(c_tier);
        let tier = if tier_text.is_empty() {
            0
        } else if let Ok(t) = tier_text.parse::<u8>() {
            t
        } else {
            errors.push(RateError { line, column: "tier".into(), message: format!("档次“{tier_text}”不是整数") });
            continue;
        };
        out.push(Hospital { code: get(Some(c_code)), name: get(c_name), level: get(c_level), tier });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_half_up() {
        assert_eq!(div_round_half_up(5, 2), 3);
        assert_eq!(div_round_half_up(4, 3), 1);
        assert_eq!(div_round_half_up(-5, 2), -3);
        assert_eq!(div_round_half_up(-4, 3), -1);
    }

    #[test]
    fn reads_weights() {
        let t = "drg,name,adrg,cases,cost_mean,cost_cv,los_mean,rw,points,source\n\
                 AA11,甲,AA1,10,10000.00,0.3,5,1.0000,100.00,calibrated\n\
                 BB11,乙,BB1,30,5000.00,0.3,5,0.5000,,calibrated\n";
        let r = RateTable::from_weights_csv(t, Decimal::from(100)).unwrap();
        assert_eq!(r.groups[1].base_points, Decimal::from_str("50.0000").unwrap());
        // all-case mean = (10×10000 + 30×5000) ÷ 40 = 6250.00 yuan
        assert_eq!(r.all_case_mean, Fen(625000));
        assert_eq!(r.get("BB11"), Some(1));
        // a group without history takes mean = points ÷ 100 × all-case mean = 0.8 × 6250 = 5000
        let t2 = format!("{t}CC11,丙,CC1,0,,,,0.8000,80.00,adrg_fallback\nDD11,丁,DD1,0,,,,,,no_data\n");
        let r2 = RateTable::from_weights_csv(&t2, Decimal::from(100)).unwrap();
        assert_eq!(r2.groups[2].mean_cost, Fen(500_000));
        // no weight at all: not priced by group (fallback), listed as unrated
        assert_eq!((r2.get("DD11"), r2.unrated.clone()), (None, vec!["DD11".to_string()]));
        let bad = RateTable::from_weights_csv("drg,cost_mean\nX,abc\n", Decimal::ONE).unwrap_err();
        assert!(bad[0].message.contains("缺少列") || bad[0].message.contains("金额"));
    }

    #[test]
    fn absurd_weights_are_refused_with_line_and_column() {
        // rw 10^25 × scale 100 overflows nothing now: it is above 10^6 points and refused (line 2)
        let e = RateTable::from_weights_csv("drg,cost_mean,rw\nX,100.00,10000000000000000000000000\n", Decimal::from(100)).unwrap_err();
        assert_eq!((e[0].line, e[0].column.as_str()), (2, "points"));
        // a mean of 10^10 yuan + 1 fen is above 10^12 fen (line 3); cases must be 0–10^9 (line 4)
        let t = "drg,cost_mean,points,cases\nA,100.00,1,1\nB,10000000000.01,1,1\nC,100.00,1,1000000000000\n";
        let e = RateTable::from_weights_csv(t, Decimal::ONE).unwrap_err();
        assert_eq!(e.iter().map(|x| (x.line, x.column.as_str())).collect::<Vec<_>>(), vec![(3, "cost_mean"), (4, "cases")]);
    }
}
