//! Settlement side inputs read from text: audit deductions (`deductions.csv` from `casemix review`)
//! and per-hospital clearing indicators with the annual assessment score.

use casemix_model::Fen;
use casemix_pricing::Decimal;
use std::collections::BTreeMap;
use std::str::FromStr;

/// Audit action on a stay (deductions.csv `action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// 不予支付: the case is not paid.
    NotPaid,
    /// 分解住院: this stay's points are not paid; `target` is paid as one stay with it.
    MergeInto,
    /// 改组: reprice at the DRG in `target`.
    Regroup,
    /// 扣款: deduct `amount` yuan.
    Amount,
}

/// One confirmed audit deduction.
#[derive(Debug, Clone, PartialEq)]
pub struct Deduction {
    pub list_id: String,
    pub hospital_code: String,
    pub rule: String,
    pub action: Action,
    pub target: String,
    pub amount: Fen,
    pub reason: String,
}

/// A row that could not be read (line is 1-based, header = 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub line: u64,
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "第 {} 行 {}：{}", self.line, self.column, self.message)
    }
}

fn split_line(l: &str) -> Vec<String> {
    // minimal CSV: quotes allowed around fields, no embedded newlines
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut q = false;
    let mut chars = l.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '"' if q && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => q = !q,
            ',' if !q => out.push(std::mem::take(&mut cur)),
            _ => cur.push(ch),
        }
    }
    out.push(cur);
    out.into_iter().map(|s| s.trim().to_string()).collect()
}

fn table(text: &str) -> (Vec<String>, Vec<(u64, Vec<String>)>) {
    let mut lines = text.trim_start_matches('\u{feff}').lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let header = lines.next().map(|(_, l)| split_line(l)).unwrap_or_default();
    (header, lines.map(|(i, l)| (i as u64 + 1, split_line(l))).collect())
}

/// Reads `deductions.csv` (`list_id,hospital_code,rule,action,target,amount,reason`).
/// Bad rows come back as errors; good rows are kept.
pub fn deductions_from_csv(text: &str) -> (Vec<Deduction>, Vec<InputError>) {
    let (h, rows) = table(text);
    let col = |n: &str| h.iter().position(|x| x == n);
    let mut errs = Vec::new();
    let (Some(ci), Some(ca)) = (col("list_id"), col("action")) else {
        return (Vec::new(), vec![InputError { line: 1, column: "list_id/action".into(), message: "缺少列 list_id 或 action".into() }]);
    };
    let (ch, cr, ct, cm, cre) = (col("hospital_code"), col("rule"), col("target"), col("amount"), col("reason"));
    let mut out = Vec::new();
    for (line, r) in rows {
        let get = |c: Option<usize>| c.and_then(|c| r.get(c)).cloned().unwrap_or_default();
        let action = match get(Some(ca)).as_str() {
            "not_paid" => Action::NotPaid,
            "merge_into" => Action::MergeInto,
            "regroup" => Action::Regroup,
            "amount" => Action::Amount,
            other => {
                errs.push(InputError { line, column: "action".into(), message: format!("处理方式“{other}”无效（应为 not_paid/merge_into/regroup/amount）") });
                continue;
            }
        };
        let amount_text = get(cm);
        let amount = if amount_text.is_empty() {
            Fen::ZERO
        } else {
            match Fen::parse_yuan(&amount_text) {
                Ok(f) => f,
                Err(e) => {
                    errs.push(InputError { line, column: "amount".into(), message: format!("扣减金额“{amount_text}”{}", e.message_zh()) });
                    continue;
                }
            }
        };
        let target = get(ct);
        if matches!(action, Action::MergeInto | Action::Regroup) && target.is_empty() {
            errs.push(InputError { line, column: "target".into(), message: "merge_into/regroup 须给出 target".into() });
            continue;
        }
        out.push(Deduction { list_id: get(Some(ci)), hospital_code: get(ch), rule: get(cr), action, target, amount, reason: get(cre) });
    }
    (out, errs)
}

/// Clearing indicators and assessment score of one hospital.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndicatorRow {
    pub values: BTreeMap<String, Decimal>,
    pub assessment_score: Option<Decimal>,
}

/// Reads an indicators file: `hospital_code,<indicator keys…>,assessment_score`; every column
/// other than `hospital_code`/`assessment_score` is an indicator (exact decimals; empty = missing).
pub fn indicators_from_csv(text: &str) -> (BTreeMap<String, IndicatorRow>, Vec<InputError>) {
    let (h, rows) = table(text);
    let mut errs = Vec::new();
    let Some(hc) = h.iter().position(|x| x == "hospital_code") else {
        return (BTreeMap::new(), vec![InputError { line: 1, column: "hospital_code".into(), message: "缺少列 hospital_code".into() }]);
    };
    let mut out = BTreeMap::new();
    for (line, r) in rows {
        let mut row = IndicatorRow::default();
        for (i, name) in h.iter().enumerate() {
            if i == hc {
                continue;
            }
            let v = r.get(i).map(String::as_str).unwrap_or("");
            if v.is_empty() {
                continue;
            }
            match Decimal::from_str(v) {
                Ok(d) if name == "assessment_score" => row.assessment_score = Some(d),
                Ok(d) => {
                    row.values.insert(name.clone(), d);
                }
                Err(_) => errs.push(InputError { line, column: name.clone(), message: format!("“{v}”不是有效数值") }),
            }
        }
        out.insert(r.get(hc).cloned().unwrap_or_default(), row);
    }
    (out, errs)
}
