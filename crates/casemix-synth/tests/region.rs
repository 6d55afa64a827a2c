//! Region-level tests: calibration targets on a real `small` region, exact money arithmetic of
//! every row, clinical consistency, every label pointing at a row with the stated property, and
//! byte-identical output by seed.

use casemix_grouper::Grouper;
use casemix_model::{Field, FeeKind, Fen, LeavingType, SettlementList, Sex};
use casemix_synth::write::CsvSink;
use casemix_synth::{Generator, Kind, Profile, SchemeTables, SynthConfig, VecSink};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

fn shared() -> PathBuf {
    std::env::var("CASEMIX_SHARED").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

fn scheme() -> &'static (Grouper, SchemeTables) {
    static S: OnceLock<(Grouper, SchemeTables)> = OnceLock::new();
    S.get_or_init(|| {
        let dir = shared().join("schemes/chs_drg_11");
        let g = Grouper::from_dir(&dir).expect("scheme loads");
        let rd = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap();
        let t = SchemeTables::parse(&rd("mcc.tsv"), &rd("cc.tsv"), &rd("cc_exclusion.tsv"), &rd("or_procedures.tsv")).unwrap();
        (g, t)
    })
}

fn generate(cfg: SynthConfig) -> (VecSink, casemix_synth::Summary) {
    let (g, t) = scheme();
    let gen = Generator::new(g, t, cfg).unwrap();
    let mut sink = VecSink::default();
    let s = gen.run(&mut sink).unwrap();
    (sink, s)
}

fn csv_bytes(cfg: SynthConfig) -> Vec<Vec<u8>> {
    let (g, t) = scheme();
    let gen = Generator::new(g, t, cfg).unwrap();
    let mut sink = CsvSink::with_charges(Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new()).unwrap();
    let s = gen.run(&mut sink).unwrap();
    let (a, b, c, d, e) = sink.into_parts().unwrap();
    vec![a, b, c, d, serde_json::to_vec(&s).unwrap(), e.unwrap()]
}

fn small_region() -> &'static (VecSink, casemix_synth::Summary) {
    static R: OnceLock<(VecSink, casemix_synth::Summary)> = OnceLock::new();
    R.get_or_init(|| {
        let mut cfg = SynthConfig::new(20_240_601, Profile::Small, 2024, 2024);
        cfg.threads = 2;
        generate(cfg)
    })
}

#[test]
fn small_region_meets_the_calibration_targets() {
    let (sink, s) = small_region();
    let t = &s.total;
    // ≈ 20,000 cases (+ injected second stays and duplicate copies)
    assert!((19_000..=21_500).contains(&t.settlement_lists), "{}", t.settlement_lists);
    assert_eq!(sink.lists.len() as u64, t.settlement_lists);
    assert_eq!(sink.hospitals.len(), 10);
    assert!((10_000.0..=13_000.0).contains(&t.mean_cost_yuan), "mean cost {}", t.mean_cost_yuan);
    assert!((8.0..=10.0).contains(&t.mean_los_days), "LOS {}", t.mean_los_days);
    assert!((0.40..=0.50).contains(&t.personal_burden_ratio), "burden {}", t.personal_burden_ratio);
    assert!((0.005..=0.015).contains(&t.mortality), "mortality {}", t.mortality);
    assert!(t.grouped_share >= 0.98, "grouped {}", t.grouped_share);
    assert!(t.distinct_drgs >= 450, "distinct DRGs {}", t.distinct_drgs);
    assert!((0.35..=0.65).contains(&t.top50_share), "top-50 share {}", t.top50_share);
    assert!(s.targets.values().all(|x| x.ok), "{:?}", s.targets);
    // the summary's figures are the rows' figures: recompute the mean cost and burden
    let cost: i64 = sink.lists.iter().map(|l| l.total().0).sum();
    let personal: i64 = sink.lists.iter().map(|l| l.personal_pay.unwrap().0).sum();
    let mean = (cost as f64 / sink.lists.len() as f64 / 100.0 * 100.0).round() / 100.0;
    assert_eq!(mean, t.mean_cost_yuan);
    assert!((personal as f64 / cost as f64 - t.personal_burden_ratio).abs() < 1e-4);
    // a few large tertiary hospitals carry most of the volume
    let mut vol: Vec<u64> = sink.hospitals.iter().map(|h| h.annual_volume).collect();
    vol.sort_unstable_by(|a, b| b.cmp(a));
    assert!(vol[0] + vol[1] > vol.iter().sum::<u64>() / 2);
    // every injected kind is present at roughly its rate (1 % default; bad actors concentrate it)
    for k in Kind::ALL {
        let n = t.injected[k.key()];
        assert!((40..=600).contains(&n), "{} {}", k.key(), n);
    }
    // tier costs: 三级 > 二级 > 一级 on the same DRG mix is approximated by the level means
    let mut by_level: HashMap<String, (i64, i64)> = HashMap::new();
    let level: HashMap<&str, &str> = sink.hospitals.iter().map(|h| (h.code.as_str(), h.level.label_zh())).collect();
    for l in &sink.lists {
        let e = by_level.entry(level[l.hospital_code.as_deref().unwrap()].to_string()).or_default();
        e.0 += l.total().0;
        e.1 += 1;
    }
    let m = |k: &str| by_level[k].0 as f64 / by_level[k].1 as f64;
    assert!(m("三级甲等") > m("二级") && m("二级") > m("一级"));
}

#[test]
fn every_row_has_exact_money_and_consistent_clinical_data() {
    let (sink, _) = small_region();
    let (g, _) = scheme();
    let mut ids = std::collections::HashSet::new();
    for l in &sink.lists {
        assert!(ids.insert(l.list_id.clone()), "duplicate list_id {}", l.list_id);
        // 14 fee categories sum exactly to total_cost; payers sum exactly to total_cost
        assert!(l.fees.iter().all(|f| f.is_some_and(|x| x.0 >= 0)), "{}", l.list_id);
        assert_eq!(l.fee_sum(), l.total(), "{}", l.list_id);
        assert_eq!(l.payer_sum(), l.total(), "{}", l.list_id);
        for f in [l.fund_pay, l.supplementary_pay, l.assistance_pay, l.personal_pay, l.selfpay_items] {
            assert!(f.unwrap().0 >= 0, "{}", l.list_id);
        }
        assert!(l.selfpay_items.unwrap() <= l.personal_pay.unwrap(), "{}", l.list_id);
        // LOS equals the date difference (same day = 1)
        let a = l.admit_time.unwrap().date();
        let d = l.discharge_time.unwrap().date();
        assert_eq!(l.los_days.unwrap(), (d - a).num_days().max(1), "{}", l.list_id);
        // ages at admission
        let age = l.age_years.unwrap();
        assert!((0..=110).contains(&age));
        if age == 0 {
            assert!(l.age_days.is_some());
            if l.age_days.unwrap() <= 28 {
                assert!(l.birth_weight_g.is_some(), "newborn without birth weight {}", l.list_id);
            }
        }
        assert_eq!(l.diagnoses.len(), l.diagnosis_poa.len());
        assert_eq!(l.procedures.len(), l.procedure_dates.len());
        assert!(l.icu_hours.unwrap() >= l.vent_hours.unwrap());
        // sex- and age-specific groups on the right people
        let r = g.group(&l.group_input());
        match r.mdc {
            "MDCM" => assert_eq!(l.sex, Some(Sex::Male), "{}", l.list_id),
            "MDCN" => assert_eq!(l.sex, Some(Sex::Female), "{}", l.list_id),
            "MDCO" => {
                assert_eq!(l.sex, Some(Sex::Female), "{}", l.list_id);
                assert!((15..=50).contains(&age), "obstetric age {age} {}", l.list_id);
            }
            "MDCP" => assert_eq!(age, 0, "{}", l.list_id),
            _ => {}
        }
        // natural stays never exceed 60 days (longer ones are labelled overlong stays)
    }
    let long: Vec<&str> = sink.lists.iter().filter(|l| l.los_days.unwrap() > 60).map(|l| l.list_id.as_str()).collect();
    let labelled: std::collections::HashSet<&str> =
        sink.labels.iter().filter(|x| x.kind == Kind::OverlongStay).map(|x| x.id.as_str()).collect();
    let dup_of_long: std::collections::HashSet<&str> =
        sink.labels.iter().filter(|x| x.kind == Kind::DuplicateList).map(|x| x.id.as_str()).collect();
    for id in long {
        assert!(labelled.contains(id) || dup_of_long.contains(id), "unlabelled long stay {id}");
    }
    for c in &sink.claims {
        assert_eq!(c.fee_sum(), c.total_cost, "{}", c.claim_id);
        assert!(c.fund_pay <= c.total_cost && c.fund_pay >= Fen::ZERO);
    }
    // itemised charges: every item positive, and per list the items of each category sum
    // exactly to that fee category (so Σ items = total_cost)
    let mut sums: HashMap<&str, [i64; 14]> = HashMap::new();
    for c in &sink.charges {
        assert!(c.amount.0 > 0 && c.quantity.0 > 0, "{} {}", c.list_id, c.item_code);
        sums.entry(c.list_id.as_str()).or_insert([0; 14])[c.category.index()] += c.amount.0;
    }
    for l in &sink.lists {
        let got = sums.get(l.list_id.as_str()).copied().unwrap_or([0; 14]);
        for k in FeeKind::ALL {
            assert_eq!(Fen(got[k.index()]), l.fee(k), "{} {:?}", l.list_id, k);
        }
    }
    assert_eq!(sums.len(), sink.lists.len());
}

#[test]
fn upcoded_diagnoses_leave_no_treatment_and_genuine_ones_mostly_do() {
    let (sink, _) = small_region();
    let mut items: HashMap<&str, Vec<&str>> = HashMap::new();
    for c in &sink.charges {
        items.entry(c.list_id.as_str()).or_default().push(c.item_code.as_str());
    }
    let lists: HashMap<&str, &SettlementList> = sink.lists.iter().map(|l| (l.list_id.as_str(), l)).collect();
    let has_module = |id: &str, dx: &str| {
        let m = casemix_synth::charges::module_of(dx).unwrap();
        items.get(id).is_some_and(|v| v.iter().any(|c| m.iter().any(|x| x.code == *c)))
    };
    // the MCC added by upcoding: its module's items are absent unless another diagnosis of the
    // stay (or surgical prophylaxis) carries the same item
    let (mut n, mut traced) = (0, 0);
    for lab in sink.labels.iter().filter(|x| x.kind == Kind::Upcoding && x.note.starts_with("加入严重并发症")) {
        let l = lists[lab.id.as_str()];
        let added = l.diagnoses.last().unwrap();
        assert!(lab.note.contains(added.as_str()), "{}", lab.id);
        if casemix_synth::charges::module_of(added).is_none() {
            continue;
        }
        n += 1;
        traced += usize::from(has_module(&lab.id, added));
    }
    assert!(n > 20, "{n}");
    assert!(traced * 3 < n, "upcoded diagnoses with a trace: {traced} of {n}");
    // genuine secondary diagnoses with a module: nearly all show a trace (noise: 1 % untreated,
    // and a one-item module misses its item 10 % of the time)
    let upcoded: std::collections::HashSet<&str> = sink.labels.iter().filter(|x| x.kind == Kind::Upcoding).map(|x| x.id.as_str()).collect();
    let (mut g, mut gt) = (0, 0);
    for l in sink.lists.iter().filter(|l| !upcoded.contains(l.list_id.as_str())) {
        for d in l.diagnoses.iter().skip(1) {
            if casemix_synth::charges::module_of(d).is_some() {
                g += 1;
                gt += usize::from(has_module(&l.list_id, d));
            }
        }
    }
    assert!(g > 1000 && gt * 100 >= g * 95, "{gt} of {g}");
}

#[test]
fn fast_charge_renderer_matches_column_text_and_csv() {
    let (sink, _) = small_region();
    for c in sink.charges.iter().step_by(11) {
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        w.write_record((0..casemix_model::CHARGE_COLUMNS.len()).map(|i| c.column_text(i))).unwrap();
        let mut got = Vec::new();
        casemix_synth::write::render_charge(c, &mut got);
        assert_eq!(String::from_utf8(got).unwrap(), String::from_utf8(w.into_inner().unwrap()).unwrap());
    }
}

#[test]
fn every_label_points_at_a_row_with_its_property() {
    let (sink, _) = small_region();
    let (g, _) = scheme();
    let lists: HashMap<&str, &SettlementList> = sink.lists.iter().map(|l| (l.list_id.as_str(), l)).collect();
    let claims: HashMap<&str, &casemix_model::Claim> = sink.claims.iter().map(|c| (c.claim_id.as_str(), c)).collect();
    let adrg = |l: &SettlementList| g.group(&l.group_input()).adrg.to_string();
    let mut seen = std::collections::HashSet::new();
    for lab in &sink.labels {
        assert!(seen.insert((lab.id.clone(), lab.kind)), "label twice {}", lab.id);
        let l = lists.get(lab.id.as_str()).unwrap_or_else(|| panic!("label id {} not in settlements", lab.id));
        match lab.kind {
            Kind::SplitAdmission => {
                let first = lists[lab.related_id.as_str()];
                assert_eq!(first.insured_id, l.insured_id);
                assert_eq!(first.hospital_code, l.hospital_code);
                let gap = (l.admit_time.unwrap().date() - first.discharge_time.unwrap().date()).num_days();
                assert!((1..=14).contains(&gap), "gap {gap} {}", lab.id);
                assert_eq!(adrg(first), adrg(l));
                assert!(g.group(&l.group_input()).is_grouped());
                assert_eq!(first.leaving_type, Some(LeavingType::OrderDischarge));
            }
            Kind::DuplicateList => {
                let orig = lists[lab.related_id.as_str()];
                assert_ne!(orig.list_id, l.list_id);
                assert_eq!(orig.insured_id, l.insured_id);
                assert_eq!(orig.hospital_code, l.hospital_code);
                assert_eq!(orig.admit_time, l.admit_time);
                assert_eq!(orig.discharge_time, l.discharge_time);
                assert_eq!(orig.total_cost, l.total_cost);
            }
            Kind::CostShifting => {
                let c = claims[lab.related_id.as_str()];
                assert_eq!(Some(&c.insured_id), l.insured_id.as_ref());
                let t = c.claim_time.unwrap().date();
                let before = (l.admit_time.unwrap().date() - t).num_days();
                let after = (t - l.discharge_time.unwrap().date()).num_days();
                assert!((1..=7).contains(&before) || (1..=7).contains(&after), "{} {before} {after}", lab.id);
                assert!(c.fee_western_drug + c.fee_exam + c.fee_lab > Fen(10_000));
            }
            Kind::OverlongStay => assert!(l.los_days.unwrap() > 60),
            Kind::LowStandardAdmission => {
                assert!(l.los_days.unwrap() <= 2);
                assert!(g.group(&l.group_input()).is_grouped());
            }
            Kind::UnderProvision => {
                let a = adrg(l);
                assert!(matches!(a.as_bytes()[1], b'A'..=b'J'), "{a}");
                let core = l.fee(FeeKind::Surgery) + l.fee(FeeKind::Material);
                assert!(core.0 * 10 < l.total().0, "{} core {core} total {}", lab.id, l.total());
            }
            Kind::Upcoding => {
                // the note names the DRG the case reaches; the grouper agrees
                let r = g.group(&l.group_input());
                assert!(r.is_grouped());
                let after = lab.note.split('→').nth(1).unwrap().trim().split(['（', ' ']).next().unwrap();
                assert_eq!(r.drg, after, "{}", lab.note);
            }
        }
    }
    // bad actors concentrate the behaviour
    let bad: std::collections::HashSet<String> = sink.hospitals.iter().filter(|h| h.is_bad_actor()).map(|h| h.code.clone()).collect();
    let at_bad = sink.labels.iter().filter(|x| bad.contains(lists[x.id.as_str()].hospital_code.as_deref().unwrap())).count();
    assert!(at_bad * 2 > sink.labels.len(), "{at_bad} of {}", sink.labels.len());
}

#[test]
fn csv_reads_back_through_the_field_registry() {
    let mut cfg = SynthConfig::new(5, Profile::Tiny, 2024, 2024);
    cfg.cases_per_year = Some(300);
    let files = csv_bytes(cfg.clone());
    let (sink, _) = generate(cfg);
    let mut r = csv::Reader::from_reader(&files[1][..]);
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header, Field::ALL.iter().map(|f| f.key()).collect::<Vec<_>>());
    for (rec, want) in r.records().zip(&sink.lists) {
        let rec = rec.unwrap();
        let mut l = SettlementList::default();
        for (f, v) in Field::ALL.iter().zip(rec.iter()) {
            l.set_field(*f, v).unwrap();
        }
        assert_eq!(&l, want);
    }
    let h = String::from_utf8(files[0].clone()).unwrap();
    assert!(h.starts_with("code,name,level,tier,county,beds,tcm,key_disciplines,annual_volume\n"));
    let lab = String::from_utf8(files[3].clone()).unwrap();
    assert!(lab.starts_with("id,kind,related_id,note\n"));
}

#[test]
fn same_seed_same_bytes_different_seed_different_bytes() {
    let cfg = |seed: u64, threads: usize| {
        let mut c = SynthConfig::new(seed, Profile::Tiny, 2023, 2024);
        c.cases_per_year = Some(600);
        c.threads = threads;
        c
    };
    let a = csv_bytes(cfg(7, 1));
    let b = csv_bytes(cfg(7, 2));
    let c = csv_bytes(cfg(8, 1));
    assert_eq!(a, b, "same seed → byte-identical, whatever the thread count");
    assert_ne!(a[1], c[1]);
    assert_ne!(a[2], c[2]);
    assert_ne!(a[5], c[5]);
    assert!(a[5].starts_with(b"list_id,item_code,item_name,category,quantity,amount\n"));
}

#[test]
fn fast_renderer_matches_field_text_and_csv() {
    let (sink, _) = small_region();
    for l in sink.lists.iter().step_by(7) {
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        w.write_record(Field::ALL.iter().map(|f| l.field_text(*f))).unwrap();
        let want = w.into_inner().unwrap();
        let mut got = Vec::new();
        casemix_synth::write::render_list(l, &mut got);
        assert_eq!(String::from_utf8(got).unwrap(), String::from_utf8(want).unwrap());
    }
    // quoting of a text cell with a comma
    let mut l = SettlementList { list_id: "A,1".into(), hospital_name: Some("x\"y".into()), ..Default::default() };
    l.fees[0] = Some(Fen(-5));
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    w.write_record(Field::ALL.iter().map(|f| l.field_text(*f))).unwrap();
    let mut got = Vec::new();
    casemix_synth::write::render_list(&l, &mut got);
    assert_eq!(got, w.into_inner().unwrap());
}

#[test]
fn fast_claim_renderer_matches_column_text_and_csv() {
    let (sink, _) = small_region();
    for c in sink.claims.iter().step_by(5) {
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        w.write_record((0..casemix_model::CLAIM_COLUMNS.len()).map(|i| c.column_text(i))).unwrap();
        let mut got = Vec::new();
        casemix_synth::write::render_claim(c, &mut got);
        assert_eq!(String::from_utf8(got).unwrap(), String::from_utf8(w.into_inner().unwrap()).unwrap());
    }
}

/// A `city` year (≈ 300,000 cases): ≥ 500 distinct DRGs with a long tail. Heavy in debug mode:
/// `cargo test -p casemix-synth --release -- --ignored`.
#[test]
#[ignore]
fn city_year_has_a_long_tail_of_drgs() {
    let mut cfg = SynthConfig::new(3, Profile::City, 2024, 2024);
    cfg.threads = 2;
    let (g, t) = scheme();
    let gen = Generator::new(g, t, cfg).unwrap();
    struct Count(u64);
    impl casemix_synth::Sink for Count {
        fn hospital(&mut self, _: &casemix_synth::Hospital) -> Result<(), String> {
            Ok(())
        }
        fn settlement(&mut self, _: &SettlementList) -> Result<(), String> {
            self.0 += 1;
            Ok(())
        }
        fn claim(&mut self, _: &casemix_model::Claim) -> Result<(), String> {
            Ok(())
        }
        fn label(&mut self, _: &casemix_synth::Label) -> Result<(), String> {
            Ok(())
        }
    }
    let mut c = Count(0);
    let s = gen.run(&mut c).unwrap();
    assert_eq!(c.0, s.total.settlement_lists);
    assert!(s.total.settlement_lists > 280_000);
    assert!(s.total.distinct_drgs >= 500, "{}", s.total.distinct_drgs);
    assert!((0.4..=0.6).contains(&s.total.top50_share), "{}", s.total.top50_share);
    assert!(s.targets.values().all(|x| x.ok), "{:?}", s.targets);
}
