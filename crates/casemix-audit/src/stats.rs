//! Group norms computed from the data itself: per DRG the sorted cost, LOS and core fees
//! (percentiles by nearest rank) and the mortality with the risk level of payment.md §5.

use crate::CaseGroup;
use casemix_model::{FeeKind, Fen, LeavingType, SettlementList};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupStats {
    pub n: usize,
    pub deaths: usize,
    cost: Vec<Fen>,
    los: Vec<i64>,
    core: Vec<Fen>,
}

/// Nearest-rank percentile: the value at rank ⌈p/100 × n⌉ (1-based), p in 0..=100.
fn pct<T: Copy + Default>(v: &[T], p: u32) -> T {
    if v.is_empty() {
        return T::default();
    }
    let n = v.len();
    let rank = ((p.min(100) as usize) * n).div_ceil(100).max(1);
    v[rank - 1]
}

impl GroupStats {
    pub fn cost_pct(&self, p: u32) -> Fen {
        pct(&self.cost, p)
    }
    pub fn los_pct(&self, p: u32) -> i64 {
        pct(&self.los, p)
    }
    /// Core fees = surgery + material.
    pub fn core_pct(&self, p: u32) -> Fen {
        pct(&self.core, p)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub groups: BTreeMap<String, GroupStats>,
    /// DRGs of risk level 1 (低风险): log mortality below mean − 1 SD across DRGs with deaths.
    pub low_risk: std::collections::BTreeSet<String>,
}

impl Stats {
    /// Statistics over the given lists (indices), grouped lists only.
    pub fn compute(lists: &[SettlementList], groups: &[CaseGroup], idx: &[usize]) -> Stats {
        let mut m: BTreeMap<String, GroupStats> = BTreeMap::new();
        for &i in idx {
            let g = &groups[i];
            if !g.grouped {
                continue;
            }
            let l = &lists[i];
            let s = m.entry(g.drg.clone()).or_default();
            s.n += 1;
            if l.leaving_type == Some(LeavingType::Death) {
                s.deaths += 1;
            }
            s.cost.push(l.total());
            s.los.push(l.los_days.unwrap_or(0));
            s.core.push(l.fee(FeeKind::Surgery) + l.fee(FeeKind::Material));
        }
        for s in m.values_mut() {
            s.cost.sort_unstable();
            s.los.sort_unstable();
            s.core.sort_unstable();
        }
        let low_risk = low_risk_groups(&m, 1.0);
        Stats { groups: m, low_risk }
    }

    pub fn group(&self, drg: &str) -> Option<&GroupStats> {
        self.groups.get(drg)
    }
    pub fn is_low_risk(&self, drg: &str) -> bool {
        self.low_risk.contains(drg)
    }
}

/// payment.md §5: standardise each DRG's mortality across groups; groups below mean − k·SD are
/// low-risk (level 1). Rates are log-transformed first (BJ-DRG practice, spec-notes §4 ❓) and
/// only groups with at least one death take part (level 0 = no deaths).
fn low_risk_groups(m: &BTreeMap<String, GroupStats>, k: f64) -> std::collections::BTreeSet<String> {
    let rates: Vec<(&String, f64)> = m.iter().filter(|(_, s)| s.deaths > 0).map(|(d, s)| (d, (s.deaths as f64 / s.n as f64).ln())).collect();
    if rates.len() < 3 {
        return Default::default();
    }
    let n = rates.len() as f64;
    let mean = rates.iter().map(|r| r.1).sum::<f64>() / n;
    let sd = (rates.iter().map(|r| (r.1 - mean).powi(2)).sum::<f64>() / n).sqrt();
    rates.into_iter().filter(|r| r.1 < mean - k * sd).map(|r| r.0.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<i64> = (1..=20).collect();
        assert_eq!(pct(&v, 5), 1); // ⌈0.05 × 20⌉ = 1
        assert_eq!(pct(&v, 10), 2); // ⌈2⌉ = 2
        assert_eq!(pct(&v, 50), 10);
        assert_eq!(pct(&v, 100), 20);
        assert_eq!(pct(&v, 0), 1);
        assert_eq!(pct::<i64>(&[], 50), 0);
    }
}
