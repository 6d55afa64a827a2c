//! Grouping for the audit: every list, plus the regroupings without secondary diagnoses that
//! tell which complications lift a case (the resource-justified group when they are unsupported).

use casemix_audit::CaseGroup;
use casemix_grouper::Grouper;
use casemix_model::SettlementList;

/// The grouping result of every list, plus the group without secondary diagnoses for
/// complication groups (DRG code ending in 1 or 3, CHS-DRG: 1 = MCC, 3 = CC), and the secondary
/// diagnoses that lift the case: each alone (with the principal diagnosis and the procedures)
/// reaches the case's own group (or, when none does, any group above the one without
/// secondaries), with the group the case reaches without them.
pub fn group_all(g: &Grouper, lists: &[SettlementList]) -> Vec<CaseGroup> {
    let one = |l: &SettlementList| {
        let r = g.group(&l.group_input());
        let grouped = r.is_grouped();
        let drg_without_cc = if grouped && l.diagnoses.len() > 1 && (r.drg.ends_with('1') || r.drg.ends_with('3')) {
            let mut inp = l.group_input();
            inp.diagnoses = &l.diagnoses[..1];
            let r2 = g.group(&inp);
            (r2.is_grouped() && r2.drg != r.drg).then(|| r2.drg.to_string())
        } else {
            None
        };
        // the secondaries that each alone reach the case's own group (else: any group above the
        // one without secondaries), and the group the case reaches without them
        let mut lifting_dx = Vec::new();
        let mut drg_without_lifting = None;
        if let Some(lower) = &drg_without_cc {
            let mut pair = [l.diagnoses[0].clone(), String::new()];
            let mut to_own = Vec::new();
            let mut to_any = Vec::new();
            for d in &l.diagnoses[1..] {
                pair[1].clone_from(d);
                let mut inp = l.group_input();
                inp.diagnoses = &pair;
                let r3 = g.group(&inp);
                if r3.is_grouped() && r3.drg != lower.as_str() {
                    to_any.push(d.clone());
                    if r3.drg == r.drg {
                        to_own.push(d.clone());
                    }
                }
            }
            lifting_dx = if to_own.is_empty() { to_any } else { to_own };
            if !lifting_dx.is_empty() {
                let rest: Vec<String> = l.diagnoses.iter().enumerate().filter(|(k, d)| *k == 0 || !lifting_dx.contains(d)).map(|(_, d)| d.clone()).collect();
                let mut inp = l.group_input();
                inp.diagnoses = &rest;
                let r4 = g.group(&inp);
                drg_without_lifting = (r4.is_grouped() && r4.drg != r.drg).then(|| r4.drg.to_string());
            }
        }
        CaseGroup { grouped, adrg: r.adrg.to_string(), drg: r.drg.to_string(), drg_without_cc, lifting_dx, drg_without_lifting }
    };
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(8);
    let chunk = lists.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let hs: Vec<_> = lists.chunks(chunk).map(|c| s.spawn(move || c.iter().map(one).collect::<Vec<_>>())).collect();
        hs.into_iter().flat_map(|h| h.join().expect("grouping thread")).collect()
    })
}
