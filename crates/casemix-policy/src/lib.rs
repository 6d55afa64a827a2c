//! # casemix-policy
//!
//! The payment policy of one pooling region (统筹区) and year as a versioned TOML file: payment model
//! (DRG points or DIP scores, fee-for-service fallback), budget, tiers, coefficients, case rules
//! (outliers, incomplete stays, special cases, exclusions, per-bed-day and day-surgery groups) and
//! year-end clearing. [`parse`] reads and validates; every error is Chinese and names the key.
//! [`parse_with_changes`] applies `dotted.key=value` changes first (policy simulation).
//! Pure: text in, data out.

pub mod dec;
pub mod model;

pub use dec::Dec;
pub use model::*;
pub use rust_decimal::Decimal;

use std::collections::BTreeSet;

/// A policy problem: the dotted key and a Chinese message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "政策参数 {}：{}", self.key, self.message)
    }
}

fn err(key: impl Into<String>, message: impl Into<String>) -> PolicyError {
    PolicyError { key: key.into(), message: message.into() }
}

/// Reads and validates a policy file.
pub fn parse(text: &str) -> Result<Policy, Vec<PolicyError>> {
    parse_with_changes(text, &[])
}

/// Applies `key=value` changes (dotted paths, e.g. `coefficients.level.三级甲等=1.05`) to the
/// TOML, then reads and validates it.
pub fn parse_with_changes(text: &str, changes: &[(String, String)]) -> Result<Policy, Vec<PolicyError>> {
    let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| vec![toml_error(&e, text)])?;
    for (k, v) in changes {
        apply_change(&mut table, k, v).map_err(|m| vec![err(k.clone(), m)])?;
    }
    if changes.is_empty() {
        // spans point into the text: deserialise from it so errors carry the line and section
        let policy: Policy = toml::from_str(text).map_err(|e: toml::de::Error| vec![toml_error(&e, text)])?;
        let errors = validate(&policy);
        return if errors.is_empty() { Ok(policy) } else { Err(errors) };
    }
    let policy: Policy = toml::Value::Table(table).try_into().map_err(|e: toml::de::Error| vec![toml_error(&e, "")])?;
    let errors = validate(&policy);
    if errors.is_empty() {
        Ok(policy)
    } else {
        Err(errors)
    }
}

fn toml_error(e: &toml::de::Error, text: &str) -> PolicyError {
    let msg = e.message().to_string();
    let leaf = msg.split('`').nth(1).map(str::to_string);
    // the section ([table] / [[array]]) the error lies in, and its line
    let (section, line) = match e.span() {
        Some(sp) if sp.start <= text.len() => {
            let before = &text[..sp.start];
            let line = before.matches('\n').count() + 1;
            let section = before
                .lines()
                .rev()
                .map(str::trim)
                .find(|l| l.starts_with('['))
                .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
            (section, Some(line))
        }
        _ => (None, None),
    };
    let key = match (section, leaf) {
        (Some(s), Some(l)) if !l.contains(' ') => format!("{s}.{l}"),
        (_, Some(l)) => l,
        (Some(s), None) => s,
        (None, None) => "(文件)".to_string(),
    };
    let zh = if msg.contains("unknown field") {
        format!("未知的参数名（拼写错误？）：{msg}")
    } else if msg.contains("missing field") {
        format!("缺少必填参数：{msg}")
    } else if msg.contains("unknown variant") {
        format!("取值不在允许范围内：{msg}")
    } else {
        format!("政策文件无法解析：{msg}")
    };
    let span = line.map(|l| format!("（第 {l} 行）")).unwrap_or_default();
    err(key, format!("{zh}{span}"))
}

/// Parses a change value: booleans, integers, decimals (kept exact as a string), TOML arrays, else text.
fn change_value(v: &str) -> toml::Value {
    let t = v.trim();
    if t == "true" || t == "false" {
        return toml::Value::Boolean(t == "true");
    }
    if let Ok(i) = t.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    if t.parse::<Decimal>().is_ok() {
        // a decimal: stored as a string so it stays exact; numeric keys read strings exactly
        return toml::Value::String(t.to_string());
    }
    if t.starts_with('[') {
        if let Ok(tab) = format!("v = {t}").parse::<toml::Table>() {
            if let Some(x) = tab.get("v") {
                return x.clone();
            }
        }
    }
    toml::Value::String(t.trim_matches('"').to_string())
}

/// Sets `path` (dotted; array elements by index, e.g. `tiers.0.floating_rate`) to `value`.
pub fn apply_change(table: &mut toml::Table, path: &str, value: &str) -> Result<(), String> {
    let parts: Vec<&str> = path.split('.').map(str::trim).collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err("参数路径为空或含空段".into());
    }
    let mut cur: &mut toml::Value = table
        .entry(parts[0].to_string())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    for p in &parts[1..] {
        cur = match cur {
            toml::Value::Table(t) => t.entry(p.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new())),
            toml::Value::Array(a) => {
                let i: usize = p.parse().map_err(|_| format!("“{p}”应为数组下标"))?;
                let n = a.len();
                a.get_mut(i).ok_or_else(|| format!("数组下标 {i} 超出范围（共 {n} 项）"))?
            }
            _ => return Err(format!("“{p}”的上级不是表或数组")),
        };
    }
    *cur = change_value(value);
    Ok(())
}

fn zero() -> Decimal {
    Decimal::ZERO
}
fn onez() -> Decimal {
    Decimal::ONE
}

/// Every rule a policy must satisfy; empty = valid.
pub fn validate(p: &Policy) -> Vec<PolicyError> {
    let mut e = Vec::new();
    let share = |e: &mut Vec<PolicyError>, key: &str, v: Dec| {
        if v.0 < zero() || v.0 >= onez() {
            e.push(err(key, format!("比例应在 [0, 1) 之间，当前为 {v}")));
        }
    };
    let positive = |e: &mut Vec<PolicyError>, key: &str, v: Dec| {
        if v.0 <= zero() {
            e.push(err(key, format!("应大于 0，当前为 {v}")));
        }
    };
    if p.policy.region.trim().is_empty() {
        e.push(err("policy.region", "统筹区名称不能为空"));
    }
    if !(2000..=2100).contains(&p.policy.year) {
        e.push(err("policy.year", format!("年度 {} 不合理", p.policy.year)));
    }
    positive(&mut e, "policy.points_scale", p.policy.points_scale);
    // budget
    let b = &p.budget;
    match (&b.total_cost, &b.fund, &b.fund_share_of_cost) {
        (Some(t), None, None) => positive(&mut e, "budget.total_cost", *t),
        (None, Some(f), Some(s)) => {
            positive(&mut e, "budget.fund", *f);
            if s.0 <= zero() || s.0 > onez() {
                e.push(err("budget.fund_share_of_cost", format!("基金占费用比例应在 (0, 1] 之间，当前为 {s}")));
            }
        }
        _ => e.push(err(
            "budget.total_cost",
            "预算须二选一：给出 budget.total_cost（住院总费用预算），或同时给出 budget.fund 与 budget.fund_share_of_cost",
        )),
    }
    share(&mut e, "budget.adjustment_fund_share", b.adjustment_fund_share);
    share(&mut e, "budget.quality_deposit_share", b.quality_deposit_share);
    if b.monthly_advance_share.0 <= zero() || b.monthly_advance_share.0 > onez() {
        e.push(err("budget.monthly_advance_share", format!("月度预付比例应在 (0, 1] 之间，当前为 {}", b.monthly_advance_share)));
    }
    if !b.month_weights.is_empty() {
        if b.month_weights.len() != 12 {
            e.push(err("budget.month_weights", format!("月度权重须为 12 个数，当前 {} 个", b.month_weights.len())));
        }
        if b.month_weights.iter().any(|w| w.0 <= zero()) {
            e.push(err("budget.month_weights", "月度权重须全部大于 0"));
        }
    }
    if let Some(v) = b.budget_point_value {
        positive(&mut e, "budget.budget_point_value", v);
    }
    if let Some(band) = b.point_value_band {
        if band.0 <= zero() || band.0 >= onez() {
            e.push(err("budget.point_value_band", format!("点值浮动区间应在 (0, 1) 之间，当前为 {band}")));
        }
        if b.budget_point_value.is_none() {
            e.push(err("budget.point_value_band", "设置点值浮动区间须同时给出预算点值 budget.budget_point_value"));
        }
    }
    // tiers
    let mut ids = BTreeSet::new();
    for (i, t) in p.tiers.iter().enumerate() {
        if !ids.insert(t.id) {
            e.push(err(format!("tiers.{i}.id"), format!("档次编号 {} 重复", t.id)));
        }
        if t.floating_rate.0 <= -onez() {
            e.push(err(format!("tiers.{i}.floating_rate"), "浮动费率须大于 -1"));
        }
    }
    let with_share = p.tiers.iter().filter(|t| t.budget_share.is_some()).count();
    if with_share > 0 {
        if with_share != p.tiers.len() {
            e.push(err("tiers.budget_share", "分档预算比例须所有档次都给出，或都不给出"));
        } else {
            let s: Decimal = p.tiers.iter().map(|t| t.budget_share.unwrap().0).sum();
            if s != onez() {
                e.push(err("tiers.budget_share", format!("各档预算比例之和应为 1，当前为 {}", s.normalize())));
            }
            for (i, t) in p.tiers.iter().enumerate() {
                positive(&mut e, &format!("tiers.{i}.budget_share"), t.budget_share.unwrap());
            }
        }
    }
    // coefficients
    let c = &p.coefficients;
    positive(&mut e, "coefficients.default", c.default);
    for (k, v) in &c.level {
        positive(&mut e, &format!("coefficients.level.{k}"), *v);
    }
    for (k, v) in &c.hospital {
        positive(&mut e, &format!("coefficients.hospital.{k}"), *v);
    }
    for (i, x) in c.bonus.iter().enumerate() {
        if x.value.0 <= -onez() || x.value.0 >= onez() {
            e.push(err(format!("coefficients.bonus.{i}.value"), format!("加成系数应在 (-1, 1) 之间，当前为 {}", x.value)));
        }
    }
    for (i, x) in c.discipline.iter().enumerate() {
        positive(&mut e, &format!("coefficients.discipline.{i}.value"), x.value);
        if x.hospitals.is_empty() {
            e.push(err(format!("coefficients.discipline.{i}.hospitals"), "学科系数须列出适用医院"));
        }
    }
    // outliers
    let h = &p.outliers.high;
    match h.threshold {
        ThresholdMode::Fixed => {
            if h.multiplier.0 <= onez() {
                e.push(err("outliers.high.multiplier", format!("高倍率阈值应大于 1，当前为 {}", h.multiplier)));
            }
        }
        ThresholdMode::Band => {
            if h.bands.is_empty() {
                e.push(err("outliers.high.bands", "按点数分段时须给出 bands"));
            }
            let mut prev: Option<Decimal> = None;
            for (i, band) in h.bands.iter().enumerate() {
                if band.multiplier.0 <= onez() {
                    e.push(err(format!("outliers.high.bands.{i}.multiplier"), format!("高倍率阈值应大于 1，当前为 {}", band.multiplier)));
                }
                let last = i + 1 == h.bands.len();
                match (band.max_points, last) {
                    (None, false) => e.push(err(format!("outliers.high.bands.{i}.max_points"), "只有最后一段可以不设上限")),
                    (Some(_), true) => e.push(err(format!("outliers.high.bands.{i}.max_points"), "最后一段不应设上限（须覆盖全部点数）")),
                    (Some(m), false) => {
                        if prev.is_some_and(|p| m.0 <= p) {
                            e.push(err(format!("outliers.high.bands.{i}.max_points"), "分段上限须递增"));
                        }
                        prev = Some(m.0);
                    }
                    (None, true) => {}
                }
            }
        }
        ThresholdMode::Level => {
            if h.level_default.0 <= onez() {
                e.push(err("outliers.high.level_default", "高倍率阈值应大于 1"));
            }
            for (k, v) in &h.by_level {
                if v.0 <= onez() {
                    e.push(err(format!("outliers.high.by_level.{k}"), format!("高倍率阈值应大于 1，当前为 {v}")));
                }
            }
        }
    }
    if let Some(x) = h.expert_review_multiplier {
        if x.0 <= onez() {
            e.push(err("outliers.high.expert_review_multiplier", "专家评议倍数应大于 1"));
        }
    }
    let l = &p.outliers.low;
    if l.multiplier.0 <= zero() || l.multiplier.0 >= onez() {
        e.push(err("outliers.low.multiplier", format!("低倍率阈值应在 (0, 1) 之间，当前为 {}", l.multiplier)));
    }
    for (i, lt) in p.incomplete.leaving_types.iter().enumerate() {
        if ![1, 2, 3, 4, 5, 9].contains(lt) {
            e.push(err(format!("incomplete.leaving_types.{i}"), format!("离院方式代码 {lt} 无效（应为 1/2/3/4/5/9）")));
        }
    }
    if let Some(s) = p.incomplete.short_stay_max_days {
        if s < 0 {
            e.push(err("incomplete.short_stay_max_days", "短住院天数不能为负"));
        }
    }
    positive(&mut e, "fallback.points_discount", p.fallback.points_discount);
    if p.special_cases.cap_share.0 < zero() || p.special_cases.cap_share.0 > onez() {
        e.push(err("special_cases.cap_share", "特病单议上限比例应在 [0, 1] 之间"));
    }
    let mut seen = BTreeSet::new();
    for (i, x) in p.exclusions.items.iter().enumerate() {
        if x.code.trim().is_empty() || !seen.insert(x.code.clone()) {
            e.push(err(format!("exclusions.items.{i}.code"), format!("除外项目编码“{}”为空或重复", x.code)));
        }
    }
    for (i, g) in p.per_bed_day.groups.iter().enumerate() {
        positive(&mut e, &format!("per_bed_day.groups.{i}.points_per_day"), g.points_per_day);
        if g.max_days.is_some_and(|m| m <= 0) {
            e.push(err(format!("per_bed_day.groups.{i}.max_days"), "床日上限应大于 0"));
        }
    }
    if p.day_surgery.max_los_days < 0 {
        e.push(err("day_surgery.max_los_days", "日间手术住院天数上限不能为负"));
    }
    for (i, g) in p.day_surgery.groups.iter().enumerate() {
        if let Some(v) = g.points {
            positive(&mut e, &format!("day_surgery.groups.{i}.points"), v);
        }
    }
    if p.readmission.window_days.is_some_and(|w| w < 0) {
        e.push(err("readmission.window_days", "再入院天数不能为负"));
    }
    if p.readmission.factor.0 < zero() || p.readmission.factor.0 > onez() {
        e.push(err("readmission.factor", format!("再入院点数系数应在 [0, 1] 之间，当前为 {}", p.readmission.factor)));
    }
    validate_gate(p, &mut e);
    let cl = &p.clearing;
    positive(&mut e, "clearing.min", cl.min);
    if cl.max.0 < cl.min.0 {
        e.push(err("clearing.max", format!("清算系数上限 {} 小于下限 {}", cl.max, cl.min)));
    }
    let mut keys = BTreeSet::new();
    for (i, x) in cl.indicators.iter().enumerate() {
        if !keys.insert(x.key.clone()) {
            e.push(err(format!("clearing.indicators.{i}.key"), format!("指标“{}”重复", x.key)));
        }
    }
    let sr = &cl.surplus_retention;
    if !(zero() < sr.low.0 && sr.low.0 <= sr.high.0) {
        e.push(err("clearing.surplus_retention.low", "结余留用分段须满足 0 < low ≤ high"));
    }
    positive(&mut e, "clearing.surplus_retention.mid_factor", sr.mid_factor);
    let dr = &cl.deposit_return;
    positive(&mut e, "clearing.deposit_return.full_score", dr.full_score);
    if dr.min_score.0 > dr.full_score.0 {
        e.push(err("clearing.deposit_return.min_score", "最低返还分数不能高于满分"));
    }
    e
}

/// Largest amount (yuan) any money key may hold: 10^12 yuan = 10^14 fen, far above a region's
/// annual budget and far below the i64 fen range, so sums of a year's cases cannot overflow.
pub const MAX_YUAN: i64 = 1_000_000_000_000;

/// Splits an approved special case `医院编码:清单流水号` into (hospital code, list id).
pub fn special_key(entry: &str) -> Option<(&str, &str)> {
    let (h, l) = entry.split_once(':')?;
    let (h, l) = (h.trim(), l.trim());
    (!h.is_empty() && !l.is_empty()).then_some((h, l))
}

fn validate_gate(p: &Policy, e: &mut Vec<PolicyError>) {
    let g = &p.qc_gate;
    if !g.hold_on_errors && g.max_errors > 0 {
        e.push(err("qc_gate.max_errors", format!("qc_gate.hold_on_errors = false 时不暂缓任何清单，max_errors = {} 无意义，请删除或启用暂缓", g.max_errors)));
    }
    if g.max_errors > 1000 {
        e.push(err("qc_gate.max_errors", format!("允许的质控错误数 {} 过大（应在 0–1000 之间）", g.max_errors)));
    }
    let max = Decimal::from(MAX_YUAN / 1000);
    if g.max_case_cost.0 <= zero() || g.max_case_cost.0 > max {
        e.push(err("qc_gate.max_case_cost", format!("单份清单金额上限应在 (0, {max}] 元之间，当前为 {}", g.max_case_cost)));
    }
    if g.max_case_cost.0.normalize().scale() > 2 {
        e.push(err("qc_gate.max_case_cost", format!("金额最多两位小数（分），当前为 {}", g.max_case_cost)));
    }
    let b = &p.budget;
    for (key, v) in [("budget.total_cost", b.total_cost), ("budget.fund", b.fund)] {
        if v.is_some_and(|v| v.0 > Decimal::from(MAX_YUAN)) {
            e.push(err(key, format!("预算金额超出上限 {MAX_YUAN} 元")));
        }
    }
    if let (Some(f), Some(sh)) = (b.fund, b.fund_share_of_cost) {
        if sh.0 > zero() && f.0.checked_div(sh.0).is_none_or(|t| t > Decimal::from(MAX_YUAN)) {
            e.push(err("budget.fund_share_of_cost", format!("基金预算 ÷ 基金占费用比例超出预算上限 {MAX_YUAN} 元")));
        }
    }
    for (i, a) in p.special_cases.approved.iter().enumerate() {
        if special_key(a).is_none() {
            e.push(err(
                format!("special_cases.approved.{i}"),
                format!("特病单议批准病例须写成“医院编码:清单流水号”（清单流水号只在本院内唯一），当前为“{a}”"),
            ));
        }
    }
    if b.budget_point_value.is_some_and(|v| v.0 > Decimal::from(1_000_000)) {
        e.push(err("budget.budget_point_value", "预算点值超出上限 1000000 元/点"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = r#"
[policy]
region = "测试"
year = 2025
model = "drg_points"
[budget]
total_cost = "1000000.00"
adjustment_fund_share = 0.05
"#;

    #[test]
    fn minimal_policy_takes_defaults() {
        let p = parse(MIN).unwrap();
        assert_eq!(p.budget.adjustment_fund_share.0, Decimal::new(5, 2));
        assert_eq!(p.outliers.low.multiplier.0, Decimal::new(4, 1));
        assert_eq!(p.outliers.high.threshold, ThresholdMode::Level);
        assert_eq!(p.special_cases.cap_share.0, Decimal::new(5, 2));
        assert_eq!(p.budget.total_cost.unwrap().0, Decimal::new(100000000, 2));
        // the settlement gate holds every list with a QC error unless the bureau accepted it
        assert!(p.qc_gate.hold_on_errors);
        assert_eq!(p.qc_gate.max_errors, 0);
        assert_eq!(p.qc_gate.max_case_cost.0, Decimal::from(10_000_000));
        assert!(p.qc_gate.holds(1, false));
        assert!(!p.qc_gate.holds(1, true));
        assert!(!p.qc_gate.holds(0, false));
    }

    #[test]
    fn qc_gate_is_read_and_validated_with_the_key_named() {
        let p = parse(&format!("{MIN}\n[qc_gate]\nmax_errors = 2\nmax_case_cost = \"5000000.00\"\n")).unwrap();
        // 2 errors tolerated, the third holds
        assert!(!p.qc_gate.holds(2, false) && p.qc_gate.holds(3, false));
        let off = parse(&format!("{MIN}\n[qc_gate]\nhold_on_errors = false\n")).unwrap();
        assert!(!off.qc_gate.holds(50, false));
        let e = parse(&format!("{MIN}\n[qc_gate]\nhold_on_errors = false\nmax_errors = 3\n")).unwrap_err();
        assert_eq!(e[0].key, "qc_gate.max_errors");
        assert!(e[0].message.contains("无意义"), "{}", e[0]);
        let e = parse(&format!("{MIN}\n[qc_gate]\nmax_case_cost = 0\n")).unwrap_err();
        assert_eq!(e[0].key, "qc_gate.max_case_cost");
        let e = parse(&format!("{MIN}\n[qc_gate]\nmax_case_cost = \"100.001\"\n")).unwrap_err();
        assert_eq!(e[0].key, "qc_gate.max_case_cost");
        let e = parse(&format!("{MIN}\n[qc_gate]\nhold = true\n")).unwrap_err();
        assert!(e[0].key.starts_with("qc_gate") && e[0].message.contains("未知的参数名"), "{}", e[0]);
        let e = parse(&format!("{MIN}\n[qc_gate]\nmax_errors = -1\n")).unwrap_err();
        assert!(e[0].key.contains("qc_gate"), "{}", e[0]);
    }

    #[test]
    fn absurd_budgets_and_bare_special_ids_are_refused() {
        // 10^12 yuan is the ceiling; one fen more is refused
        let big = MIN.replace("\"1000000.00\"", "\"1000000000000.01\"");
        assert_eq!(parse(&big).unwrap_err()[0].key, "budget.total_cost");
        let fund = MIN.replace("total_cost = \"1000000.00\"", "fund = \"1000000\"\nfund_share_of_cost = \"0.0000000001\"");
        assert_eq!(parse(&fund).unwrap_err()[0].key, "budget.fund_share_of_cost");
        let e = parse(&format!("{MIN}\n[special_cases]\napproved = [\"H1:L1\", \"L2\"]\n")).unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].key, "special_cases.approved.1");
        assert!(e[0].message.contains("医院编码:清单流水号"));
        assert_eq!(special_key(" H1 : L:1 "), Some(("H1", "L:1")));
    }

    #[test]
    fn floats_are_read_exactly() {
        let p = parse(&format!("{MIN}\n[coefficients.level]\n\"三级甲等\" = 1.04\n")).unwrap();
        assert_eq!(p.coefficients.level["三级甲等"].0.to_string(), "1.04");
    }

    #[test]
    fn errors_name_the_key_in_chinese() {
        let e = parse(&MIN.replace("adjustment_fund_share = 0.05", "adjustment_fund_share = 1.5")).unwrap_err();
        assert_eq!(e[0].key, "budget.adjustment_fund_share");
        assert!(e[0].message.contains("比例"));
        let e = parse(&MIN.replace("adjustment_fund_share", "adjustmnt_fund_share")).unwrap_err();
        assert!(e[0].message.contains("未知的参数名"), "{:?}", e);
        assert_eq!(e[0].key, "budget.adjustmnt_fund_share", "{:?}", e);
        assert!(e[0].message.contains("第 8 行"), "{:?}", e);
    }

    #[test]
    fn changes_by_dotted_path() {
        let ch = vec![
            ("coefficients.level.三级甲等".to_string(), "1.05".to_string()),
            ("outliers.low.multiplier".to_string(), "0.3".to_string()),
            ("budget.adjustment_fund_share".to_string(), "0.08".to_string()),
        ];
        let p = parse_with_changes(MIN, &ch).unwrap();
        assert_eq!(p.coefficients.level["三级甲等"].0.to_string(), "1.05");
        assert_eq!(p.outliers.low.multiplier.0.to_string(), "0.3");
        assert_eq!(p.budget.adjustment_fund_share.0.to_string(), "0.08");
        let bad = vec![("outliers.low.multiplier".to_string(), "2".to_string())];
        let e = parse_with_changes(MIN, &bad).unwrap_err();
        assert_eq!(e[0].key, "outliers.low.multiplier");
    }

    #[test]
    fn tier_shares_must_sum_to_one() {
        let t = format!("{MIN}\n[[tiers]]\nid=1\nbudget_share=0.5\n[[tiers]]\nid=2\nbudget_share=0.4\n");
        let e = parse(&t).unwrap_err();
        assert_eq!(e[0].key, "tiers.budget_share");
    }
}
