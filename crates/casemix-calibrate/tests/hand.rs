//! A hand-made history whose weights are computed by hand below.
//!
//! History (yuan; hospital H1 unless noted):
//! | year | AA11 (ADRG AA1)                 | BB11 (ADRG BB1) | AA13 (ADRG AA1) |
//! | 2022 | 1000, 1000                      | 3000, 3000      | —               |
//! | 2023 | 1210, 1210                      | 3190, 3190      | —               |
//! | 2024 | 10 × 1200 + 1 × 12000 (all H2)  | 3600, 3600      | 2400, 2400      |
//!
//! Untrimmed all-case means: 2022 8000/4 = 2000; 2023 8800/4 = 2200;
//! 2024 (12000 + 12000 + 7200 + 4800)/15 = 36000/15 = 2400.
//! Measured-growth price factors to 2024: 2400/2000 = 1.2; 2400/2200 = 12/11; 1.
//! Trimming mean ± 3 SD: in AA11-2024 (n = 11, ten equal values and one outlier) the outlier's
//! z-score is (n − 1)/√n = 10/√11 = 3.015 > 3 → 12000 is removed; groups of two equal values keep
//! both (SD 0, bounds [m, m]).

use casemix_calibrate::stats::Dec4;
use casemix_calibrate::*;
use casemix_model::Fen;
use std::collections::BTreeMap;

fn history() -> Vec<(i32, &'static str, &'static str, &'static str, i64)> {
    let mut v = Vec::new();
    let mut add = |y, h, d, a, yuan, n| {
        for _ in 0..n {
            v.push((y, h, d, a, yuan));
        }
    };
    add(2022, "H1", "AA11", "AA1", 1000, 2);
    add(2022, "H1", "BB11", "BB1", 3000, 2);
    add(2023, "H1", "AA11", "AA1", 1210, 2);
    add(2023, "H1", "BB11", "BB1", 3190, 2);
    add(2024, "H2", "AA11", "AA1", 1200, 10);
    add(2024, "H2", "AA11", "AA1", 12000, 1);
    add(2024, "H1", "BB11", "BB1", 3600, 2);
    add(2024, "H1", "AA13", "AA1", 2400, 2);
    v
}

fn cases(h: &[(i32, &'static str, &'static str, &'static str, i64)]) -> Vec<CaseCost<'static>> {
    h.iter().map(|&(year, hospital, drg, adrg, yuan)| CaseCost { year, hospital, drg, adrg, cost: Fen::from_yuan(yuan), los: 5 }).collect()
}

fn scheme() -> Vec<DrgInfo> {
    ["AA11", "AA13", "BB11", "YY11", "ZZ11"]
        .iter()
        .map(|d| DrgInfo { drg: d.to_string(), adrg: d[..3].to_string(), name: format!("组{d}") })
        .collect()
}

#[test]
fn weights_by_hand() {
    let h = history();
    let cs = cases(&h);
    let mut expert = BTreeMap::new();
    expert.insert("ZZ11".to_string(), Dec4(25000));
    let cfg = CalibConfig::default(); // 2022–2024, 1:2:7, sd:3, measured growth, min 5
    let c = calibrate(&cs, &scheme(), &expert, &cfg).unwrap();

    // factors
    let f: Vec<(i128, i128)> = c.years.iter().map(|y| (y.factor.num(), y.factor.den())).collect();
    assert_eq!(f, vec![(6, 5), (12, 11), (1, 1)]);
    assert_eq!(c.years[1].factor.fixed6(), "1.090909");
    // untrimmed year means 2000, 2200, 2400 yuan; kept 2024 mean 24000/14 = 1714.2857 → 1714.29
    assert_eq!((c.years[0].mean_raw, c.years[2].mean_raw, c.years[2].mean_kept), (Fen(200_000), Fen(240_000), Fen(171_429)));
    // All-case kept means: 2022 2000 → ×1.2 = 2400; 2023 2200 → ×12/11 = 2400;
    // 2024 (12000 + 7200 + 4800)/14 = 1714.2857 → ×1.
    // Weighted (1·2400 + 2·2400 + 7·24000/14)/10 = (7200 + 12000)/10 = 1920.00 yuan.
    assert_eq!(c.all_cost, Fen(192_000));
    assert_eq!(c.trim_removed[0].removed, 1);
    assert_eq!(c.years[2].kept, 14);

    let d = |code: &str| c.drgs.iter().find(|d| d.drg == code).unwrap();
    // AA11: 2022 1000×1.2 = 1200; 2023 1210×12/11 = 1320; 2024 trimmed 1200.
    // (1·1200 + 2·1320 + 7·1200)/10 = 12240/10 = 1224.00; RW 1224/1920 = 0.6375; points 63.75.
    let a = d("AA11");
    assert_eq!(a.cases, 15);
    assert_eq!(a.kept, 14);
    assert_eq!(a.cost_mean, Some(Fen(122_400)));
    assert_eq!(a.rw, Some(Dec4(6375)));
    assert_eq!(a.rw.unwrap().times100_string(), "63.75");
    assert_eq!(a.source, WeightSource::Computed);
    // BB11: 3000×1.2 = 3600; 3190×12/11 = 3480; 3600 → (3600 + 6960 + 25200)/10 = 3576.00;
    // RW 3576/1920 = 1.8625.
    assert_eq!(d("BB11").cost_mean, Some(Fen(357_600)));
    assert_eq!(d("BB11").rw, Some(Dec4(18625)));
    // AA13: 2 cases < 5 → ADRG AA1 pooled kept cases: 2022 1000 → 1200; 2023 1210 → 1320;
    // 2024 (10·1200 + 2·2400)/12 = 1400. (1200 + 2640 + 9800)/10 = 1364.00;
    // RW 1364/1920 = 0.710417 → 0.7104. Own value 2400/1920 = 1.25 (only 2024, renormalised).
    let c13 = d("AA13");
    assert_eq!(c13.cases, 2);
    assert_eq!(c13.computed_rw, Some(Dec4(12500)));
    assert_eq!(c13.rw, Some(Dec4(7104)));
    assert_eq!(c13.source, WeightSource::AdrgFallback);
    // expert and no data
    assert_eq!(d("ZZ11").rw, Some(Dec4(25000)));
    assert_eq!(d("ZZ11").source, WeightSource::Expert);
    assert_eq!(d("YY11").rw, None);
    assert_eq!(d("YY11").source, WeightSource::NoData);

    // CMI: H2 2024 = 11 × 0.6375 / 11 = 0.6375.
    // H1 2024 = (2 × 1.8625 + 2 × 0.7104)/4 = 5.1458/4 = 1.28645 → 1.2865 (half away from zero).
    let cmi = |h: &str, y: i32| c.cmi.iter().find(|x| x.hospital == h && x.year == y).unwrap().cmi;
    assert_eq!(cmi("H2", 2024), Dec4(6375));
    assert_eq!(cmi("H1", 2024), Dec4(12865));
    // H1 2022: (2 × 0.6375 + 2 × 1.8625)/4 = 1.25
    assert_eq!(cmi("H1", 2022), Dec4(12500));

    assert!(c.r2_trimmed > c.r2_untrimmed);
    let csv = weights_csv(&c);
    assert!(csv.starts_with("drg,adrg,name,cases,kept,cost_mean,cost_cv,los_mean,rw,points,source\n"));
    assert!(csv.contains("\nAA11,AA1,组AA11,15,14,1224.00,"));
    assert!(csv.contains(",0.6375,63.75,computed\n"));
    assert!(csv.contains("\nYY11,YY1,组YY11,0,0,,0.0000,0.00,,,no_data\n"));
    // deterministic
    let again = calibrate(&cs, &scheme(), &expert, &cfg).unwrap();
    assert_eq!(weights_csv(&again), csv);
    assert_eq!(report_md(&again, &ReportContext::default()), report_md(&c, &ReportContext::default()));
}

#[test]
fn no_inflation_and_other_year_weights() {
    let h = history();
    let cs = cases(&h);
    let cfg = CalibConfig { inflation: Inflation::None, ..CalibConfig::default() };
    let c = calibrate(&cs, &[], &BTreeMap::new(), &cfg).unwrap();
    // AA11 without price adjustment: (1000 + 2·1210 + 7·1200)/10 = 11820/10 = 1182.00
    // all: (2000 + 2·2200 + 7·1714.2857)/10 = (6400 + 12000)/10 = 1840.00
    // RW = 1182/1840 = 0.642391 → 0.6424
    assert_eq!(c.all_cost, Fen(184_000));
    let a = c.drgs.iter().find(|d| d.drg == "AA11").unwrap();
    assert_eq!(a.cost_mean, Some(Fen(118_200)));
    assert_eq!(a.rw, Some(Dec4(6424)));

    // Equal year weights 1:1:1 and no trimming:
    // AA11 2024 untrimmed mean = (12000 + 12000)/11 = 2181.818; (1000 + 1210 + 2181.818)/3 = 1463.94
    // all 2024 untrimmed = 2400: (2000 + 2200 + 2400)/3 = 2200.00 → RW 1463.94/2200 = 0.665427 → 0.6654
    let cfg = CalibConfig { inflation: Inflation::None, year_weights: vec![1, 1, 1], trim: TrimRule::None, ..CalibConfig::default() };
    let c = calibrate(&cs, &[], &BTreeMap::new(), &cfg).unwrap();
    assert_eq!(c.all_cost, Fen(220_000));
    let a = c.drgs.iter().find(|d| d.drg == "AA11").unwrap();
    assert_eq!(a.cost_mean, Some(Fen(146_394)));
    assert_eq!(a.rw, Some(Dec4(6654)));
    // price index instead: 2022=100, 2023=110, 2024=120 → factors 1.2, 12/11, 1 (same as measured)
    let cfg = CalibConfig { inflation: Inflation::parse("index:2022=100,2023=110,2024=120").unwrap(), ..CalibConfig::default() };
    let c = calibrate(&cs, &[], &BTreeMap::new(), &cfg).unwrap();
    assert_eq!(c.all_cost, Fen(192_000));
}

#[test]
fn percentile_and_iqr_trimming_counts() {
    let h = history();
    let cs = cases(&h);
    let c = calibrate(&cs, &[], &BTreeMap::new(), &CalibConfig::default()).unwrap();
    // Every rule removes only the 12000 outlier: P97.5 of AA11-2024 = 1200 + 0.75 × 10800 = 9300;
    // IQR fences = 1200 ± 0.
    assert_eq!(c.trim_removed.len(), 3);
    for t in &c.trim_removed {
        assert_eq!(t.removed, 1);
    }
    assert!(CalibConfig { years: vec![2024], year_weights: vec![1, 2], ..CalibConfig::default() }.validate().is_err());
}
