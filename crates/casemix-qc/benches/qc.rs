//! QC throughput: lists per second on a realistic mix (valid lists with a few mutations), with the
//! CHS-DRG 1.1 dictionaries when `../shared` is present (else a small built-in dictionary).

use casemix_grouper::{Dictionaries, Grouper};
use casemix_model::*;
use casemix_qc::{Qc, QcConfig};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::PathBuf;

fn dicts() -> Dictionaries {
    let shared = std::env::var("CASEMIX_SHARED").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    match Grouper::from_dir(shared.join("schemes/chs_drg_11")) {
        Ok(g) => {
            let d = g.dictionaries();
            Dictionaries {
                diagnosis_names: d.diagnosis_names.clone(),
                procedure_names: d.procedure_names.clone(),
                diagnosis_map: d.diagnosis_map.clone(),
                procedure_map: d.procedure_map.clone(),
                drg_names: Default::default(),
            }
        }
        Err(_) => Dictionaries::default(),
    }
}

fn lists(n: usize) -> Vec<SettlementList> {
    let p = |s: &str| casemix_model::settlement::parse_datetime(Field::AdmitTime, s).unwrap();
    let dx = ["K35.800", "J18.900", "I63.900", "E11.900", "O80.000", "N40.x00", "I10.x00", "K80.100"];
    (0..n)
        .map(|i| {
            let mut l = SettlementList {
                list_id: format!("L{i}"),
                hospital_code: Some(format!("H{:02}", i % 20)),
                hospital_name: Some("医院".into()),
                insured_id: Some(format!("P{}", i / 2)),
                record_no: Some(format!("R{i}")),
                insurance_type: Some(InsuranceType::Employee),
                sex: Some(if i % 3 == 0 { Sex::Male } else { Sex::Female }),
                birth_date: Some(p("1970-01-01").date()),
                age_years: Some(54),
                admit_time: Some(p("2024-03-01 08:00") + chrono::Duration::days((i % 300) as i64 * 2)),
                los_days: Some(5),
                admit_route: Some(AdmitRoute::Outpatient),
                admit_dept: Some("A03".into()),
                dept: Some("A03".into()),
                leaving_type: Some(LeavingType::OrderDischarge),
                readmit_plan_31d: Some(ReadmitPlan::No),
                diagnoses: vec![dx[i % 8].into(), dx[(i + 3) % 8].into(), "I10.x00".into()],
                diagnosis_poa: vec![Some(Poa::Yes); 3],
                procedures: vec!["47.0100".into()],
                payment_method: Some(PaymentMethod::Drg),
                ..Default::default()
            };
            l.discharge_time = l.admit_time.map(|a| a + chrono::Duration::days(5));
            l.procedure_dates = vec![l.admit_time.map(|a| a + chrono::Duration::days(1))];
            for k in 0..9 {
                l.fees[k] = Some(Fen(100_000 + k as i64));
            }
            l.total_cost = Some(Fen(900_036));
            l.fund_pay = Some(Fen(600_000));
            l.personal_pay = Some(Fen(300_036));
            l
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let qc = Qc::new(&dicts(), QcConfig::default());
    let ls = lists(100_000);
    let mut g = c.benchmark_group("qc");
    g.throughput(Throughput::Elements(ls.len() as u64));
    g.sample_size(10);
    g.bench_function("check_all_100k", |b| b.iter(|| qc.check_all(&ls).len()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
