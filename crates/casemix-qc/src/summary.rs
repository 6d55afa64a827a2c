//! Counts by rule and by hospital; the first-page pass rate (首页通过率) as the Shaoyang hospital
//! measures it: share of lists without any `错误` finding.

use crate::{Finding, Rule, Severity};
use casemix_model::SettlementList;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleSummary {
    pub findings: usize,
    /// Lists on which the rule fired at least once.
    pub lists: usize,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct HospitalSummary {
    pub lists: usize,
    pub lists_with_errors: usize,
    pub lists_with_warnings_only: usize,
    pub errors: usize,
    pub warnings: usize,
}

impl HospitalSummary {
    /// Share of lists without errors, in basis points (1/10000), rounded down. `None` for 0 lists.
    pub fn pass_rate_bp(&self) -> Option<u64> {
        (self.lists > 0).then(|| ((self.lists - self.lists_with_errors) as u64 * 10000) / self.lists as u64)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub by_rule: BTreeMap<Rule, RuleSummary>,
    /// Hospital code ("" when missing) → counts.
    pub by_hospital: BTreeMap<String, HospitalSummary>,
    pub total: HospitalSummary,
}

/// Summarises findings (as returned by `Qc::check_all`, i.e. sorted by list index).
pub fn summarize(lists: &[SettlementList], findings: &[Finding]) -> Summary {
    let mut s = Summary::default();
    let mut per_list: Vec<(usize, usize)> = vec![(0, 0); lists.len()];
    let mut last: Option<(usize, Rule)> = None;
    for f in findings {
        let r = s.by_rule.entry(f.rule).or_default();
        r.findings += 1;
        if last != Some((f.index, f.rule)) {
            r.lists += 1;
        }
        last = Some((f.index, f.rule));
        if let Some(c) = per_list.get_mut(f.index) {
            match f.severity() {
                Severity::Error => c.0 += 1,
                Severity::Warning => c.1 += 1,
            }
        }
    }
    for (l, (e, w)) in lists.iter().zip(per_list) {
        let h = l.hospital_code.clone().unwrap_or_default();
        for t in [s.by_hospital.entry(h).or_default(), &mut s.total] {
            t.lists += 1;
            t.errors += e;
            t.warnings += w;
            if e > 0 {
                t.lists_with_errors += 1;
            } else if w > 0 {
                t.lists_with_warnings_only += 1;
            }
        }
    }
    s
}
