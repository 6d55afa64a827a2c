//! Review → deductions. Reviewers confirm or dismiss each flag with a reason; a confirmed flag
//! becomes a deduction row the settlement engine consumes; a dismissed flag produces nothing;
//! a flag without a decision stays pending.

use crate::{AuditRule, Flag};
use casemix_model::Fen;
use serde::Serialize;
use std::collections::BTreeMap;

/// The payment consequence of a confirmed flag (`deductions.csv` → `action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Action {
    /// 不予支付: the list is not paid (duplicate submission, low-standard admission).
    NotPaid,
    /// 合并结算: the stay is paid as one with `target` (the first stay's list id).
    MergeInto,
    /// 按核定病组重新结算: repriced at DRG `target` (the group the resources justify).
    Regroup,
    /// 扣款: `amount` yuan deducted (cost shifted to outpatient/pharmacy claims paid by the fund;
    /// the value of the core treatment not provided).
    Amount,
    /// 仅记录: quality finding without payment consequence (overlong stay, readmission, death).
    Note,
}

impl Action {
    pub fn key(self) -> &'static str {
        match self {
            Action::NotPaid => "not_paid",
            Action::MergeInto => "merge_into",
            Action::Regroup => "regroup",
            Action::Amount => "amount",
            Action::Note => "note",
        }
    }
    pub fn from_key(s: &str) -> Option<Action> {
        [Action::NotPaid, Action::MergeInto, Action::Regroup, Action::Amount, Action::Note]
            .into_iter()
            .find(|a| a.key() == s)
    }
}

/// The part of a flag review needs (read back from `flags.csv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewFlag {
    pub flag_id: String,
    pub list_id: String,
    pub hospital_code: String,
    pub rule: AuditRule,
    pub action: Action,
    pub target: String,
    pub amount: Fen,
}

impl From<&Flag> for ReviewFlag {
    fn from(f: &Flag) -> Self {
        ReviewFlag {
            flag_id: f.flag_id.clone(),
            list_id: f.list_id.clone(),
            hospital_code: f.hospital_code.clone(),
            rule: f.rule,
            action: f.action,
            target: f.target.clone(),
            amount: f.amount,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionKind {
    Confirm,
    Dismiss,
}

/// One row of `decisions.csv` (`line` = 1-based file line, for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub line: u64,
    pub flag_id: String,
    pub decision: String,
    pub reason: String,
    pub reviewer: String,
}

/// One row of `deductions.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deduction {
    pub list_id: String,
    pub hospital_code: String,
    pub rule: AuditRule,
    pub action: Action,
    pub target: String,
    pub amount: Fen,
    pub reason: String,
    pub reviewer: String,
    pub flag_id: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReviewOutcome {
    /// Confirmed flags with a payment consequence, in flag order.
    pub deductions: Vec<Deduction>,
    /// Confirmed quality findings (action `note`): recorded, no payment change.
    pub noted: Vec<Deduction>,
    pub dismissed: Vec<String>,
    /// Flags without a decision.
    pub pending: Vec<String>,
    /// Decision rows that could not be applied: (line, flag_id, Chinese message). Never dropped.
    pub rejected: Vec<(u64, String, String)>,
}

/// Applies decisions to flags. A later decision on the same flag replaces an earlier one (and
/// the earlier is reported as rejected).
pub fn review(flags: &[ReviewFlag], decisions: &[Decision]) -> ReviewOutcome {
    let mut out = ReviewOutcome::default();
    let known: BTreeMap<&str, usize> = flags.iter().enumerate().map(|(i, f)| (f.flag_id.as_str(), i)).collect();
    let mut chosen: BTreeMap<usize, (DecisionKind, &Decision)> = BTreeMap::new();
    for d in decisions {
        let Some(&i) = known.get(d.flag_id.trim()) else {
            out.rejected.push((d.line, d.flag_id.clone(), format!("第 {} 行：审核标记 flag_id“{}”不存在", d.line, d.flag_id)));
            continue;
        };
        let kind = match d.decision.trim() {
            "confirm" | "确认" => DecisionKind::Confirm,
            "dismiss" | "排除" => DecisionKind::Dismiss,
            other => {
                out.rejected.push((d.line, d.flag_id.clone(), format!("第 {} 行：复核结论 decision“{}”无效（应为 confirm 或 dismiss）", d.line, other)));
                continue;
            }
        };
        if d.reason.trim().is_empty() {
            out.rejected.push((d.line, d.flag_id.clone(), format!("第 {} 行：复核理由 reason 为空（确认或排除都须说明理由）", d.line)));
            continue;
        }
        if let Some((_, prev)) = chosen.insert(i, (kind, d)) {
            out.rejected.push((prev.line, prev.flag_id.clone(), format!("第 {} 行：同一标记“{}”被第 {} 行的复核结论取代", prev.line, prev.flag_id, d.line)));
        }
    }
    for (i, f) in flags.iter().enumerate() {
        match chosen.get(&i) {
            None => out.pending.push(f.flag_id.clone()),
            Some((DecisionKind::Dismiss, _)) => out.dismissed.push(f.flag_id.clone()),
            Some((DecisionKind::Confirm, d)) => {
                let row = Deduction {
                    list_id: f.list_id.clone(),
                    hospital_code: f.hospital_code.clone(),
                    rule: f.rule,
                    action: f.action,
                    target: f.target.clone(),
                    amount: f.amount,
                    reason: d.reason.trim().to_string(),
                    reviewer: d.reviewer.trim().to_string(),
                    flag_id: f.flag_id.clone(),
                };
                if f.action == Action::Note {
                    out.noted.push(row);
                } else {
                    out.deductions.push(row);
                }
            }
        }
    }
    out.rejected.sort();
    out
}
