//! The serialisable results the workbench keeps (derived data: recomputable from the store).

use casemix_audit::{AuditRule, Flag};
use casemix_settlement::{HospitalStatement, Period, Settlement};
use serde::{Deserialize, Serialize};

/// One QC finding of an uploaded list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QcRow {
    pub list_id: String,
    pub rule: String,
    pub category: String,
    /// 错误 / 警告
    pub severity: String,
    pub field: String,
    pub value: String,
    pub message: String,
}

/// 前置质控 report of one upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QcReport {
    pub upload_id: i64,
    pub hospital_code: String,
    pub period: String,
    pub lists: usize,
    /// Lists with at least one 错误 (first-page pass rate = 1 − this ÷ lists).
    pub lists_with_errors: usize,
    pub findings: Vec<QcRow>,
}

impl QcReport {
    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.severity == "错误").count()
    }
    pub fn warnings(&self) -> usize {
        self.findings.len() - self.errors()
    }
    /// (rule, category, severity, findings) ordered by count, most frequent first.
    pub fn by_rule(&self) -> Vec<(String, String, String, usize)> {
        let mut m: std::collections::BTreeMap<(&str, &str, &str), usize> = Default::default();
        for f in &self.findings {
            *m.entry((f.rule.as_str(), f.category.as_str(), f.severity.as_str())).or_default() += 1;
        }
        let mut v: Vec<_> = m.into_iter().map(|((r, c, s), n)| (r.to_string(), c.to_string(), s.to_string(), n)).collect();
        v.sort_by(|a, b| b.3.cmp(&a.3).then(a.0.cmp(&b.0)));
        v
    }
}

/// One audit flag as kept for the review queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlagRecord {
    pub flag_id: String,
    pub list_id: String,
    pub related_ids: Vec<String>,
    /// Rule key (casemix_audit::AuditRule::key).
    pub rule: String,
    pub rule_zh: String,
    pub score: u32,
    pub hospital_code: String,
    pub evidence: String,
    pub evidence_json: serde_json::Value,
    /// Payment action on confirmation (casemix_audit::Action::key), its target and amount (fen).
    pub action: String,
    pub target: String,
    pub amount_fen: i64,
}

impl From<&Flag> for FlagRecord {
    fn from(f: &Flag) -> Self {
        FlagRecord {
            flag_id: f.flag_id.clone(),
            list_id: f.list_id.clone(),
            related_ids: f.related_ids.clone(),
            rule: f.rule.key().to_string(),
            rule_zh: f.rule.label_zh().to_string(),
            score: f.score,
            hospital_code: f.hospital_code.clone(),
            evidence: f.evidence.clone(),
            evidence_json: f.evidence_json.clone(),
            action: f.action.key().to_string(),
            target: f.target.clone(),
            amount_fen: f.amount.0,
        }
    }
}

impl FlagRecord {
    /// The part review needs.
    pub fn review_flag(&self) -> Option<casemix_audit::ReviewFlag> {
        Some(casemix_audit::ReviewFlag {
            flag_id: self.flag_id.clone(),
            list_id: self.list_id.clone(),
            hospital_code: self.hospital_code.clone(),
            rule: AuditRule::from_key(&self.rule)?,
            action: casemix_audit::Action::from_key(&self.action)?,
            target: self.target.clone(),
            amount: casemix_model::Fen(self.amount_fen),
        })
    }
}

/// One hospital's statement (money in fen, decimals as exact text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementRecord {
    pub hospital_code: String,
    pub hospital_name: String,
    pub level: String,
    pub cases: u64,
    pub total_points: String,
    pub point_value: String,
    pub group_payment: i64,
    pub ffs_payment: i64,
    pub exclusions_payment: i64,
    pub deductions: i64,
    pub deposit_withheld: i64,
    pub deposit_returned: i64,
    pub clearing_adjustment: i64,
    pub net_payment: i64,
    pub others_paid: i64,
    pub fund_payment: i64,
    pub actual_cost: i64,
    pub clearing_coefficient: Option<String>,
    pub advances_paid: Option<i64>,
    pub balance_due: Option<i64>,
    /// Lists held by the policy's [qc_gate] (待补正): not paid, not in the points (fen for cost).
    #[serde(default)]
    pub held_cases: u64,
    #[serde(default)]
    pub held_cost: i64,
    pub notes: Vec<String>,
}

impl From<&HospitalStatement> for StatementRecord {
    fn from(s: &HospitalStatement) -> Self {
        StatementRecord {
            hospital_code: s.hospital_code.clone(),
            hospital_name: s.hospital_name.clone(),
            level: s.level.clone(),
            cases: s.cases,
            total_points: s.total_points.to_string(),
            point_value: s.point_value.to_string(),
            group_payment: s.group_payment.0,
            ffs_payment: s.ffs_payment.0,
            exclusions_payment: s.exclusions_payment.0,
            deductions: s.deductions.0,
            deposit_withheld: s.deposit_withheld.0,
            deposit_returned: s.deposit_returned.0,
            clearing_adjustment: s.clearing_adjustment.0,
            net_payment: s.net_payment.0,
            others_paid: s.others_paid.0,
            fund_payment: s.fund_payment.0,
            actual_cost: s.actual_cost.0,
            clearing_coefficient: s.clearing_coefficient.map(|d| d.to_string()),
            advances_paid: s.advances_paid.map(|f| f.0),
            balance_due: s.balance_due.map(|f| f.0),
            held_cases: s.held_cases,
            held_cost: s.held_cost.0,
            notes: s.notes.clone(),
        }
    }
}

/// A settlement run: a month's settlement or the year-end clearing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementRecord {
    /// `YYYY-MM` for a month, `YYYY` for the clearing.
    pub period: String,
    /// `month` | `year`
    pub kind: String,
    pub budget: i64,
    pub adjustment_fund: i64,
    pub distributable: i64,
    pub net_payments: i64,
    pub remainder: i64,
    pub cases: u64,
    /// Lists held by the [qc_gate] (待补正): in the case data, not in `cases`, never paid.
    #[serde(default)]
    pub held_cases: u64,
    pub rejected: u64,
    /// Point value(s) by tier name: (name, yuan per point).
    pub point_values: Vec<(String, String)>,
    /// The settlement's independent three-way check (`Settlement::check_balance`: case lines,
    /// statements' own fields, budget with its stated remainder parts) found no problem.
    pub balances: bool,
    /// What the check found, in Chinese (empty when it balances).
    #[serde(default)]
    pub balance_problems: Vec<String>,
    pub statements: Vec<StatementRecord>,
}

impl SettlementRecord {
    pub fn from_settlement(s: &Settlement, year: i32) -> SettlementRecord {
        let (period, kind) = match s.period {
            Period::Month(m) => (format!("{year}-{m:02}"), "month"),
            Period::Year => (year.to_string(), "year"),
        };
        let r = &s.summary;
        let check = s.check_balance();
        SettlementRecord {
            period,
            kind: kind.to_string(),
            budget: r.budget.0,
            adjustment_fund: r.adjustment_fund.0,
            distributable: r.distributable.0,
            net_payments: r.net_payments.0,
            remainder: r.remainder.0,
            cases: r.cases,
            held_cases: r.held_cases,
            rejected: r.rejected,
            point_values: r.tiers.iter().map(|t| (t.name.clone(), t.point_value.to_string())).collect(),
            balances: r.balances() && check.ok(),
            balance_problems: check.problems,
            statements: s.statements.iter().map(StatementRecord::from).collect(),
        }
    }
}

/// A current list that is not in this year's settlement, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedList {
    pub hospital_code: String,
    pub list_id: String,
    pub reason: String,
}

/// Counts of a run; `skipped` = the current lists not in this year's settlement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSummary {
    pub lists: usize,
    pub cases: usize,
    pub skipped: Vec<SkippedList>,
    pub flags: usize,
}

/// What a yearly run leaves for the UI besides its flags (kept apart, see `runs`): settlements,
/// counts, who and when, and the run version it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub year: i32,
    /// The run version (directory under `runs/`) this record belongs to.
    pub version: String,
    pub run_at: String,
    pub run_by: String,
    pub summary: CaseSummary,
    pub months: Vec<SettlementRecord>,
    pub clearing: SettlementRecord,
}

/// A flag's entry in the run's flag index: what the review queue filters, sorts and shows in
/// its counts, and where the full record (with its evidence) lies in `flags-<year>.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagEntry {
    pub flag_id: String,
    pub hospital_code: String,
    pub list_id: String,
    pub related_ids: Vec<String>,
    pub rule: String,
    pub score: u32,
    pub amount_fen: i64,
    /// Byte offset and length of the flag's line in `flags-<year>.jsonl`.
    pub offset: u64,
    pub len: u64,
}

impl FlagEntry {
    pub fn of(f: &FlagRecord, offset: u64, len: u64) -> FlagEntry {
        FlagEntry {
            flag_id: f.flag_id.clone(),
            hospital_code: f.hospital_code.clone(),
            list_id: f.list_id.clone(),
            related_ids: f.related_ids.clone(),
            rule: f.rule.clone(),
            score: f.score,
            amount_fen: f.amount_fen,
            offset,
            len,
        }
    }
}
