//! The lake over a small hand-made region: 12 cases of 3 hospitals (2 tiers) in January and
//! February 2024, plus 4 cases in November/December 2023 (the previous period, for volume changes).
//! Every expected number below is computed by hand in the comments, never by the code under test.

use casemix_lake::*;
use rust_decimal::Decimal;
use std::str::FromStr;

const R: &str = "320200";

#[allow(clippy::too_many_arguments)]
fn row(
    id: &str,
    h: &str,
    ym: (i32, u32),
    status: &str,
    drg: &str,
    cost_yuan: i64,
    los: i64,
    pay_yuan: i64,
    fund_yuan: i64,
    personal_yuan: i64,
    selfpay_yuan: i64,
    dept: &str,
) -> CaseRow {
    let (name, tier) = match h {
        "HA" => ("甲医院", "三级"),
        "HB" => ("乙医院", "三级"),
        _ => ("丙医院", "二级"),
    };
    let (drg_name, weight, low_risk) = match drg {
        "GB11" => ("胃手术", 20000, false),
        "ES31" => ("呼吸系统感染", 10000, false),
        "XJ15" => ("低风险病组", 5000, true),
        "FM19" => ("冠脉支架", 30000, false),
        _ => ("", 0, false),
    };
    let grouped = status == "grouped";
    CaseRow {
        region: R.into(),
        year: ym.0,
        month: ym.1,
        list_id: id.into(),
        hospital_code: h.into(),
        hospital_name: name.into(),
        tier: tier.into(),
        department: dept.into(),
        sex: 1,
        age_years: 50,
        admit_date: format!("{:04}-{:02}-01", ym.0, ym.1),
        discharge_date: format!("{:04}-{:02}-{:02}", ym.0, ym.1, 1 + los),
        los_days: los,
        leaving_type: 1,
        death: false,
        group_status: status.into(),
        mdc: String::new(),
        adrg: String::new(),
        drg: drg.into(),
        drg_name: drg_name.into(),
        weight_units: if grouped { weight } else { 0 },
        points_units: if grouped { weight * 100 } else { 0 },
        method: "group".into(),
        outlier: "normal".into(),
        total_cost_fen: cost_yuan * 100,
        selfpay_fen: selfpay_yuan * 100,
        personal_pay_fen: personal_yuan * 100,
        fund_pay_fen: fund_yuan * 100,
        payment_fen: pay_yuan * 100,
        qc_errors: 0,
        qc_warnings: 0,
        flags: 0,
        flag_rules: String::new(),
        flag_amount_fen: 0,
        low_risk: grouped && low_risk,
    }
}

const JAN: (i32, u32) = (2024, 1);
const FEB: (i32, u32) = (2024, 2);

/// The 12 cases of the period and the 4 of the previous period.
#[rustfmt::skip]
fn dataset() -> Vec<CaseRow> {
    let mut v = vec![
        //   id    hosp month status     drg     cost  los  pay   fund  pers  self  dept
        row("A1", "HA", JAN, "grouped", "GB11", 20000, 10, 22000, 14000, 6000, 1000, "外科"),
        row("A2", "HA", JAN, "grouped", "ES31", 8000, 6, 9000, 5000, 3000, 500, "内科"),
        row("A3", "HA", JAN, "grouped", "XJ15", 4000, 4, 3000, 2500, 1500, 0, "内科"),
        row("B1", "HB", JAN, "grouped", "GB11", 30000, 14, 22000, 20000, 10000, 2000, "外科"),
        row("B2", "HB", JAN, "grouped", "ES31", 12000, 8, 9000, 8000, 4000, 1000, "内科"),
        row("C1", "HC", JAN, "grouped", "ES31", 6000, 5, 7000, 4000, 2000, 0, "内科"),
        row("A4", "HA", FEB, "grouped", "GB11", 24000, 12, 22000, 16000, 8000, 1500, "外科"),
        row("A5", "HA", FEB, "ungrouped", "", 5000, 3, 5000, 3500, 1500, 0, "内科"),
        row("B3", "HB", FEB, "ambiguous", "GQY", 10000, 7, 10000, 7000, 3000, 500, "外科"),
        row("B4", "HB", FEB, "grouped", "XJ15", 3000, 3, 3000, 2000, 1000, 0, "内科"),
        row("C2", "HC", FEB, "grouped", "GB11", 16000, 9, 18000, 11000, 5000, 800, "外科"),
        row("C3", "HC", FEB, "grouped", "XJ15", 2000, 2, 2500, 1500, 500, 0, "内科"),
        // previous period 2023-11 … 2023-12
        row("P1", "HA", (2023, 12), "grouped", "GB11", 20000, 10, 20000, 14000, 6000, 0, "外科"),
        row("P2", "HA", (2023, 12), "grouped", "ES31", 8000, 6, 8000, 5000, 3000, 0, "内科"),
        row("P3", "HB", (2023, 11), "grouped", "ES31", 8000, 6, 8000, 5000, 3000, 0, "内科"),
        row("P4", "HB", (2023, 12), "grouped", "FM19", 40000, 8, 40000, 30000, 10000, 0, "外科"),
    ];
    // A3 died in a low-risk group and is flagged; B3 and C3 are flagged
    let a3 = v.iter_mut().find(|r| r.list_id == "A3").unwrap();
    a3.death = true;
    a3.leaving_type = 5;
    a3.flags = 1;
    a3.flag_rules = "low_risk_death".into();
    a3.flag_amount_fen = 4000 * 100;
    let a5 = v.iter_mut().find(|r| r.list_id == "A5").unwrap();
    a5.method = "ffs_points".into();
    let b3 = v.iter_mut().find(|r| r.list_id == "B3").unwrap();
    b3.method = "fee_for_service".into();
    b3.flags = 2;
    b3.flag_rules = "upcoding,cost_shifting".into();
    b3.flag_amount_fen = 10000 * 100;
    let c3 = v.iter_mut().find(|r| r.list_id == "C3").unwrap();
    c3.flags = 1;
    c3.flag_rules = "under_provision".into();
    c3.flag_amount_fen = 2000 * 100;
    v
}

fn dec(s: &str) -> Option<Decimal> {
    Some(Decimal::from_str(s).unwrap())
}

async fn lake_with_data() -> (tempfile::TempDir, Lake) {
    let dir = tempfile::tempdir().unwrap();
    let written = write_all(dir.path(), &dataset()).await.unwrap();
    // partitions: 2023-11, 2023-12, 2024-01, 2024-02
    assert_eq!(written.len(), 4);
    assert!(dir
        .path()
        .join("region=320200/year=2024/month=1/cases.parquet")
        .is_file());
    let lake = Lake::open(dir.path()).await.unwrap();
    (dir, lake)
}

fn q(level: Level) -> DashboardQuery {
    DashboardQuery {
        level,
        range: Range::parse("2024-01", "2024-02").unwrap(),
        region: Some(R.into()),
        tier: None,
    }
}

#[tokio::test]
async fn dashboard_region_totals() {
    let (_dir, lake) = lake_with_data().await;
    let d = lake
        .dashboard(None, &q(Level::Region), &DashboardConfig::default())
        .await
        .unwrap();
    let t = &d.totals;
    // 12 cases: grouped A1 A2 A3 B1 B2 C1 A4 B4 C2 C3 = 10, ambiguous B3 = 1, ungrouped A5 = 1
    assert_eq!(
        (t.cases, t.grouped, t.ambiguous, t.ungrouped),
        (12, 10, 1, 1)
    );
    // cost: Jan 20000+8000+4000+30000+12000+6000 = 80000, Feb 24000+5000+10000+3000+16000+2000 = 60000 → 140000 yuan
    assert_eq!(t.total_cost_fen, 140_000_00);
    // LOS: Jan 10+6+4+14+8+5 = 47, Feb 12+3+7+3+9+2 = 36 → 83
    assert_eq!(t.los_days, 83);
    // payment: Jan 22000+9000+3000+22000+9000+7000 = 72000, Feb 22000+5000+10000+3000+18000+2500 = 60500 → 132500
    assert_eq!(t.payment_fen, 132_500_00);
    // fund: Jan 14000+5000+2500+20000+8000+4000 = 53500, Feb 16000+3500+7000+2000+11000+1500 = 41000 → 94500
    assert_eq!(t.fund_pay_fen, 94_500_00);
    // personal: Jan 6000+3000+1500+10000+4000+2000 = 26500, Feb 8000+1500+3000+1000+5000+500 = 19000 → 45500
    assert_eq!(t.personal_pay_fen, 45_500_00);
    // selfpay: Jan 1000+500+2000+1000 = 4500, Feb 1500+500+800 = 2800 → 7300
    assert_eq!(t.selfpay_fen, 7_300_00);
    // weight: GB11 4 × 2.0 + ES31 3 × 1.0 + XJ15 3 × 0.5 = 12.5 → 125000 units
    assert_eq!(t.weight_units, 125_000);
    assert_eq!(t.total_weight().text(4), "12.5000");
    // CMI = 12.5 ÷ 10 grouped = 1.25
    assert_eq!(t.cmi().value(4), dec("1.2500"));
    assert_eq!(t.drg_count, 3);
    // 次均费用 = 140000 ÷ 12 = 11666.666… → 11666.67 yuan
    assert_eq!(t.cost_per_case().yuan_text(), "11,666.67");
    // 平均住院日 = 83 ÷ 12 = 6.9166… → 6.92
    assert_eq!(t.mean_los().text(2), "6.92");
    // 入组率 = 10 ÷ 12 = 83.333…%
    assert_eq!(t.grouping_rate().percent_text(2), "83.33%");
    // 低风险组: A3 (died), B4, C3 → 1 ÷ 3 = 33.33 %
    assert_eq!((t.low_risk_cases, t.low_risk_deaths, t.deaths), (3, 1, 1));
    assert_eq!(t.low_risk_mortality().percent_text(2), "33.33%");
    // 个人负担率 = 45500 ÷ 140000 = 32.5 %; 全自费占比 = 7300 ÷ 140000 = 5.2142…%
    assert_eq!(t.personal_burden_rate().percent_text(2), "32.50%");
    assert_eq!(t.selfpay_share().percent_text(2), "5.21%");
    // 盈亏 = 132500 − 140000 = −7500 yuan
    assert_eq!(t.profit_fen(), -7_500_00);
    // flagged A3, B3, C3: 4000 + 10000 + 2000 = 16000 yuan at stake
    assert_eq!((t.flagged_cases, t.flag_amount_fen), (3, 16_000_00));
    // the region against itself: Σ_g N_g × 1 ÷ Σ N_g = 1
    assert_eq!(t.cost_index, dec("1.0000"));
    assert_eq!(t.time_index, dec("1.0000"));
    assert_eq!(d.units.len(), 1);
    assert_eq!(d.units[0].key, R);
    assert_eq!(d.units[0].ind, *t);
    // the drill-down lists are there at region level too
    assert_eq!(
        d.tiers
            .iter()
            .map(|u| (u.key.as_str(), u.ind.cases))
            .collect::<Vec<_>>(),
        [("三级", 9), ("二级", 3)]
    );
    assert_eq!(
        d.hospitals
            .iter()
            .map(|u| (u.key.as_str(), u.ind.cases))
            .collect::<Vec<_>>(),
        [("HA", 5), ("HB", 4), ("HC", 3)]
    );

    // payment by method: group = 132500 − 5000 (A5) − 10000 (B3) = 117500 over 10 cases
    let m: Vec<_> = d
        .by_method
        .iter()
        .map(|m| (m.method.as_str(), m.cases, m.payment_fen))
        .collect();
    assert_eq!(
        m,
        [
            ("group", 10, 117_500_00),
            ("fee_for_service", 1, 10_000_00),
            ("ffs_points", 1, 5_000_00)
        ]
    );

    // trend: January 6 cases, 80000 cost, 72000 payment, 53500 fund, 26500 personal, 47 days,
    // weight A1 2 + A2 1 + A3 0.5 + B1 2 + B2 1 + C1 1 = 7.5; February 6, 60000, 60500, 41000, 19000,
    // 36 days, weight A4 2 + B4 0.5 + C2 2 + C3 0.5 = 5.0 over 4 grouped
    let tr: Vec<_> = d
        .trend
        .iter()
        .map(|m| {
            (
                m.period.to_string(),
                m.cases,
                m.total_cost_fen,
                m.payment_fen,
                m.fund_pay_fen,
                m.personal_pay_fen,
                m.los_days,
                m.weight_units,
                m.grouped,
            )
        })
        .collect();
    assert_eq!(
        tr,
        [
            (
                "2024-01".to_string(),
                6,
                80_000_00,
                72_000_00,
                53_500_00,
                26_500_00,
                47,
                75_000,
                6
            ),
            (
                "2024-02".to_string(),
                6,
                60_000_00,
                60_500_00,
                41_000_00,
                19_000_00,
                36,
                50_000,
                4
            )
        ]
    );
    assert_eq!(d.previous, Range::parse("2023-11", "2023-12").unwrap());

    // top-weight groups: GB11 (2.0; 4 cases, 20000+30000+24000+16000 = 90000, LOS 10+14+12+9 = 45),
    // ES31 (1.0; 3 cases, 8000+12000+6000 = 26000, LOS 19), XJ15 (0.5; 3, 4000+3000+2000 = 9000, LOS 9)
    let top: Vec<_> = d
        .groups
        .top_weight
        .iter()
        .map(|g| {
            (
                g.drg.as_str(),
                g.weight_units,
                g.cases,
                g.total_cost_fen,
                g.los_days,
            )
        })
        .collect();
    assert_eq!(
        top,
        [
            ("GB11", 20000, 4, 90_000_00, 45),
            ("ES31", 10000, 3, 26_000_00, 19),
            ("XJ15", 5000, 3, 9_000_00, 9)
        ]
    );
    assert_eq!(d.groups.top_weight[0].mean_cost().yuan_text(), "22,500.00");
    // CVs (population SD ÷ mean, scale-free):
    // GB11: mean 22500; squares of deviations 2500² + 7500² + 1500² + 6500² = 107e6; var 26.75e6;
    //       SD 5172.04; CV 0.22987
    // ES31: mean 8666.67; Σx² = 244e6; var 244e6/3 − 8666.67² = 6.2222e6; SD 2494.44; CV 0.28782
    // XJ15: mean 3000; var (1e6 + 0 + 1e6)/3 = 666667; SD 816.50; CV 0.27217
    let cv = |g: &str| {
        d.groups
            .top_weight
            .iter()
            .find(|x| x.drg == g)
            .unwrap()
            .cost_cv
            .unwrap()
    };
    assert!((cv("GB11") - 0.22987).abs() < 1e-4, "{}", cv("GB11"));
    assert!((cv("ES31") - 0.28782).abs() < 1e-4, "{}", cv("ES31"));
    assert!((cv("XJ15") - 0.27217).abs() < 1e-4, "{}", cv("XJ15"));
    // default thresholds: no CV above 1; volume changes need ≥ 10 cases → none
    assert!(d.groups.dispersed.is_empty());
    assert!(d.groups.volume_changes.is_empty());
}

#[tokio::test]
async fn dashboard_thresholds_are_configuration() {
    let (_dir, lake) = lake_with_data().await;
    let cfg = DashboardConfig {
        top_groups: 2,
        volume_change_permille: 600,
        volume_min_cases: 2,
        cv_threshold: 0.25,
        cv_min_cases: 3,
    };
    let d = lake.dashboard(None, &q(Level::Region), &cfg).await.unwrap();
    assert_eq!(
        d.groups
            .top_weight
            .iter()
            .map(|g| g.drg.as_str())
            .collect::<Vec<_>>(),
        ["GB11", "ES31"]
    );
    // CV > 0.25 with ≥ 3 cases: ES31 0.2878, XJ15 0.2722 (GB11 0.2299 is below)
    assert_eq!(
        d.groups
            .dispersed
            .iter()
            .map(|g| g.drg.as_str())
            .collect::<Vec<_>>(),
        ["ES31", "XJ15"]
    );
    // previous period (2023-11…12): GB11 1 (P1), ES31 2 (P2, P3), FM19 1 (P4); this period GB11 4,
    // ES31 3, XJ15 3.
    // GB11: |4 − 1| × 1000 = 3000 ≥ 600 × 1 → abnormal, change 3/1
    // ES31: |3 − 2| × 1000 = 1000 < 600 × 2 = 1200 → normal
    // XJ15: new (previous 0) with 3 ≥ 2 cases → abnormal, no ratio
    // FM19: max(0, 1) = 1 < 2 cases → not judged
    // order: |Δ| 3 and 3, then by code: GB11, XJ15
    let v: Vec<_> = d
        .groups
        .volume_changes
        .iter()
        .map(|v| (v.drg.as_str(), v.cases, v.previous_cases, v.change))
        .collect();
    assert_eq!(
        v,
        [("GB11", 4, 1, Some(Ratio::new(3, 1))), ("XJ15", 3, 0, None)]
    );
}

#[tokio::test]
async fn dashboard_hospital_and_tier_levels() {
    let (_dir, lake) = lake_with_data().await;
    let d = lake
        .dashboard(None, &q(Level::Hospital), &DashboardConfig::default())
        .await
        .unwrap();
    let keys: Vec<_> = d
        .units
        .iter()
        .map(|u| (u.key.as_str(), u.label.as_str(), u.tier.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            ("HA", "甲医院", "三级"),
            ("HB", "乙医院", "三级"),
            ("HC", "丙医院", "二级")
        ]
    );
    let ha = &d.units[0].ind;
    // HA: A1 A2 A3 A4 A5 → 5 cases, 4 grouped, 1 ungrouped; cost 20000+8000+4000+24000+5000 = 61000;
    // LOS 10+6+4+12+3 = 35; payment 22000+9000+3000+22000+5000 = 61000; fund 14000+5000+2500+16000+3500
    // = 41000; personal 6000+3000+1500+8000+1500 = 20000; selfpay 1000+500+1500 = 3000;
    // weight 2+1+0.5+2 = 5.5 → CMI 5.5/4 = 1.375
    assert_eq!(
        (ha.cases, ha.grouped, ha.ambiguous, ha.ungrouped),
        (5, 4, 0, 1)
    );
    assert_eq!(
        (
            ha.total_cost_fen,
            ha.los_days,
            ha.payment_fen,
            ha.fund_pay_fen,
            ha.personal_pay_fen,
            ha.selfpay_fen
        ),
        (61_000_00, 35, 61_000_00, 41_000_00, 20_000_00, 3_000_00)
    );
    assert_eq!(ha.cmi().value(4), dec("1.3750"));
    assert_eq!(ha.profit_fen(), 0);
    assert_eq!(ha.low_risk_mortality().percent_text(1), "100.0%");
    // Regional yardsticks (all three hospitals): GB11 N 4, cost 90000, LOS 45; ES31 N 3, 26000, 19;
    // XJ15 N 3, 9000, 9.
    // HA cost index = (44000×4/90000 + 8000×3/26000 + 4000×3/9000) ÷ 4 = (88/45 + 12/13 + 4/3) ÷ 4
    //   = (2464/585) ÷ 4 = 616/585 = 1.052991… → 1.0530
    // HA time index = (22×4/45 + 6×3/19 + 4×3/9) ÷ 4 = (88/45 + 18/19 + 4/3) ÷ 4 = 3622/3420 = 1.059064… → 1.0591
    assert_eq!(ha.cost_index, dec("1.0530"));
    assert_eq!(ha.time_index, dec("1.0591"));
    let hb = &d.units[1].ind;
    // HB: B1 B2 B3 B4 → 4 cases, 3 grouped, 1 ambiguous; cost 30000+12000+10000+3000 = 55000; payment
    // 22000+9000+10000+3000 = 44000 → 盈亏 −11000; weight 2+1+0.5 = 3.5 → CMI 3.5/3 = 1.1667
    assert_eq!(
        (hb.cases, hb.grouped, hb.ambiguous, hb.ungrouped),
        (4, 3, 1, 0)
    );
    assert_eq!(
        (hb.total_cost_fen, hb.payment_fen, hb.profit_fen()),
        (55_000_00, 44_000_00, -11_000_00)
    );
    assert_eq!(hb.cmi().value(4), dec("1.1667"));
    // HB cost index = (30000×4/90000 + 12000×3/26000 + 3000×3/9000) ÷ 3 = (4/3 + 18/13 + 1) ÷ 3
    //   = (145/39) ÷ 3 = 145/117 = 1.239316… → 1.2393
    // HB time index = (14×4/45 + 8×3/19 + 3×3/9) ÷ 3 = (2999/855) ÷ 3 = 2999/2565 = 1.169200… → 1.1692
    assert_eq!(hb.cost_index, dec("1.2393"));
    assert_eq!(hb.time_index, dec("1.1692"));
    let hc = &d.units[2].ind;
    // HC: C1 C2 C3 → cost 6000+16000+2000 = 24000; payment 7000+18000+2500 = 27500 → 盈亏 +3500
    // cost index = (16000×4/90000 + 6000×3/26000 + 2000×3/9000) ÷ 3 = (32/45 + 9/13 + 2/3) ÷ 3
    //   = (1211/585) ÷ 3 = 1211/1755 = 0.690028… → 0.6900
    // time index = (9×4/45 + 5×3/19 + 2×3/9) ÷ 3 = (4/5 + 15/19 + 2/3) ÷ 3 = 643/855 = 0.752046… → 0.7520
    assert_eq!(
        (hc.total_cost_fen, hc.payment_fen, hc.profit_fen()),
        (24_000_00, 27_500_00, 3_500_00)
    );
    assert_eq!(hc.cost_index, dec("0.6900"));
    assert_eq!(hc.time_index, dec("0.7520"));

    let d = lake
        .dashboard(None, &q(Level::Tier), &DashboardConfig::default())
        .await
        .unwrap();
    assert_eq!(
        d.units.iter().map(|u| u.key.as_str()).collect::<Vec<_>>(),
        ["三级", "二级"]
    );
    let t3 = &d.units[0].ind;
    // 三级 = HA + HB: 9 cases, cost 61000 + 55000 = 116000, CMI (5.5 + 3.5) ÷ 7 = 1.285714… → 1.2857
    // cost index: GB11 n 3 cost 74000, ES31 n 2 cost 20000, XJ15 n 2 cost 7000:
    //   (74000×4/90000 + 20000×3/26000 + 7000×3/9000) ÷ 7 = (148/45 + 30/13 + 7/3) ÷ 7 = 4639/4095 = 1.132844… → 1.1328
    // time index: LOS GB11 36, ES31 14, XJ15 7: (144/45 + 42/19 + 21/9) ÷ 7 = (2207/285) ÷ 7 = 2207/1995 = 1.106265… → 1.1063
    assert_eq!((t3.cases, t3.total_cost_fen), (9, 116_000_00));
    assert_eq!(t3.cmi().value(4), dec("1.2857"));
    assert_eq!(t3.cost_index, dec("1.1328"));
    assert_eq!(t3.time_index, dec("1.1063"));
    assert_eq!(d.units[1].ind.cost_index, dec("0.6900"));

    // the tier filter keeps only 二级 (HC)
    let d = lake
        .dashboard(
            None,
            &DashboardQuery {
                tier: Some("二级".into()),
                ..q(Level::Hospital)
            },
            &DashboardConfig::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        d.units.iter().map(|u| u.key.as_str()).collect::<Vec<_>>(),
        ["HC"]
    );
    assert_eq!(d.totals.cases, 3);
}

#[tokio::test]
async fn scope_isolation() {
    let (_dir, lake) = lake_with_data().await;
    for level in [Level::Region, Level::Tier, Level::Hospital] {
        let d = lake
            .dashboard(
                Some("HA"),
                &q(level),
                &DashboardConfig {
                    volume_min_cases: 1,
                    cv_min_cases: 1,
                    cv_threshold: 0.0,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        // only HA's 5 cases, every block
        assert_eq!(d.totals.cases, 5, "{level:?}");
        assert_eq!(d.trend.iter().map(|m| m.cases).sum::<i64>(), 5);
        assert_eq!(d.by_method.iter().map(|m| m.cases).sum::<i64>(), 5);
        assert_eq!(d.groups.top_weight.iter().map(|g| g.cases).sum::<i64>(), 4);
        // the index still compares HA with the whole region (aggregate yardstick): 1.0530 as above
        assert_eq!(d.totals.cost_index, dec("1.0530"));
        let json = serde_json::to_string(&d).unwrap();
        for other in ["HB", "HC", "乙医院", "丙医院", "FM19"] {
            assert!(!json.contains(other), "{level:?} leaks {other}: {json}");
        }
    }
    // the hospital view of another hospital is refused
    let hq = HospitalQuery::new("HB", Range::parse("2024-01", "2024-02").unwrap());
    assert!(matches!(
        lake.hospital_view(Some("HA"), &hq).await,
        Err(LakeError::OutOfScope { .. })
    ));
    // a case of another hospital is not found through the scope
    assert_eq!(lake.case(Some("HA"), "HB", "B1").await.unwrap(), None);
    // the identity is (hospital, list): HB's list B1 is not HA's
    assert_eq!(lake.case(None, "HA", "B1").await.unwrap(), None);
    assert_eq!(
        lake.case(Some("HB"), "HB", "B1")
            .await
            .unwrap()
            .unwrap()
            .hospital_code,
        "HB"
    );
    // ad-hoc SQL under a scope sees only the scoped rows, whatever it asks
    let b = lake
        .sql(
            Some("HA"),
            "SELECT hospital_code, count(*) AS n FROM cases GROUP BY hospital_code",
        )
        .await
        .unwrap();
    let total: usize = b.iter().map(|b| b.num_rows()).sum();
    assert_eq!(total, 1);
    let s = arrow::util::pretty::pretty_format_batches(&b)
        .unwrap()
        .to_string();
    assert!(
        s.contains("HA") && s.contains("7") && !s.contains("HB"),
        "{s}"
    ); // 5 + P1 + P2 = 7 rows of HA
       // DDL (which could point a new table at the files) and DML are refused
    for bad in [
        "CREATE EXTERNAL TABLE x STORED AS PARQUET LOCATION '/tmp'",
        "DROP TABLE cases",
        "INSERT INTO cases VALUES (1)",
        "SET datafusion.execution.batch_size = 1",
    ] {
        assert!(lake.sql(Some("HA"), bad).await.is_err(), "{bad}");
        assert!(lake.sql(None, bad).await.is_err(), "{bad}");
    }
    // hostile values are refused before any query
    assert!(lake.sql(Some("HA' OR '1'='1"), "SELECT 1").await.is_err());
    let mut hq = HospitalQuery::new("HA", Range::parse("2024-01", "2024-02").unwrap());
    hq.drg = Some("x' OR 1=1 --".into());
    assert!(matches!(
        lake.hospital_view(Some("HA"), &hq).await,
        Err(LakeError::Invalid { field: "drg", .. })
    ));
}

#[tokio::test]
async fn hospital_view() {
    let (_dir, lake) = lake_with_data().await;
    let range = Range::parse("2024-01", "2024-02").unwrap();
    let mut hq = HospitalQuery::new("HA", range);
    hq.sort = SortColumn::parse("total_cost").unwrap();
    hq.page_size = 2;
    let v = lake.hospital_view(Some("HA"), &hq).await.unwrap();
    assert_eq!(
        (v.hospital_name.as_str(), v.tier.as_str(), v.region.as_str()),
        ("甲医院", "三级", R)
    );
    // HA by cost descending: A4 24000, A1 20000, A2 8000, A5 5000, A3 4000
    assert_eq!(v.cases.total, 5);
    assert_eq!(v.cases.pages(), 3);
    assert_eq!(
        v.cases
            .rows
            .iter()
            .map(|r| r.list_id.as_str())
            .collect::<Vec<_>>(),
        ["A4", "A1"]
    );
    hq.page = 3;
    let v3 = lake.hospital_view(None, &hq).await.unwrap();
    assert_eq!(
        v3.cases
            .rows
            .iter()
            .map(|r| r.list_id.as_str())
            .collect::<Vec<_>>(),
        ["A3"]
    );
    assert_eq!(
        v3.cases.rows[0],
        dataset().into_iter().find(|r| r.list_id == "A3").unwrap()
    );
    // profit ascending: A1 +2000, A2 +1000, A3 −1000, A4 −2000, A5 0 → A4, A3, A5, A2, A1
    let mut pq = HospitalQuery {
        sort: SortColumn::Profit,
        descending: false,
        page_size: 10,
        ..HospitalQuery::new("HA", range)
    };
    let v = lake.hospital_view(None, &pq).await.unwrap();
    assert_eq!(
        v.cases
            .rows
            .iter()
            .map(|r| r.list_id.as_str())
            .collect::<Vec<_>>(),
        ["A4", "A3", "A5", "A2", "A1"]
    );
    // filters: 内科 → A2 A3 A5; flagged → A3; GB11 → A1 A4
    pq.department = Some("内科".into());
    assert_eq!(lake.hospital_view(None, &pq).await.unwrap().cases.total, 3);
    pq.department = None;
    pq.flagged_only = true;
    assert_eq!(
        lake.hospital_view(None, &pq)
            .await
            .unwrap()
            .cases
            .rows
            .iter()
            .map(|r| r.list_id.as_str())
            .collect::<Vec<_>>(),
        ["A3"]
    );
    pq.flagged_only = false;
    pq.drg = Some("GB11".into());
    assert_eq!(lake.hospital_view(None, &pq).await.unwrap().cases.total, 2);

    // indicators and departments cover the whole hospital whatever the list filters
    assert_eq!(v.indicators.cases, 5);
    assert_eq!(v.indicators.cost_index, dec("1.0530"));
    // 内科 A2 A3 A5: 3 cases, 8000+4000+5000 = 17000; 外科 A1 A4: 2 cases, 44000
    let deps: Vec<_> = v
        .departments
        .iter()
        .map(|d| (d.key.as_str(), d.ind.cases, d.ind.total_cost_fen))
        .collect();
    assert_eq!(deps, [("内科", 3, 17_000_00), ("外科", 2, 44_000_00)]);
    // tier 三级 pooled (HA + HB): 9 cases, CMI 1.2857, cost index 1.1328 (see the tier test), 2 hospitals
    assert_eq!(v.tier_hospitals, 2);
    assert_eq!(v.tier_average.cases, 9);
    assert_eq!(v.tier_average.cmi().value(4), dec("1.2857"));
    assert_eq!(v.tier_average.cost_index, dec("1.1328"));
    // a hospital user's view holds nothing of another hospital
    let json = serde_json::to_string(
        &lake
            .hospital_view(Some("HA"), &HospitalQuery::new("HA", range))
            .await
            .unwrap(),
    )
    .unwrap();
    for other in ["HB", "HC", "乙医院", "丙医院"] {
        assert!(!json.contains(other), "leaks {other}");
    }
    assert!(SortColumn::parse("hospital_code; DROP").is_err());
    let fq = HospitalQuery::from_params(
        "HA",
        range,
        Some(""),
        Some("GB11"),
        Some("1"),
        Some("profit"),
        Some("0"),
        Some("2"),
    )
    .unwrap();
    assert_eq!(
        (
            fq.department,
            fq.drg.as_deref(),
            fq.flagged_only,
            fq.sort,
            fq.descending,
            fq.page
        ),
        (None, Some("GB11"), true, SortColumn::Profit, false, 2)
    );
    assert!(
        HospitalQuery::from_params("HA", range, None, None, None, Some("x"), None, None).is_err()
    );
    assert!(
        HospitalQuery::from_params("HA", range, None, None, None, None, None, Some("-1")).is_err()
    );
    assert!(
        HospitalQuery::from_params("HA", range, None, None, None, None, None, Some("0")).is_err()
    );
    assert!(matches!(
        lake.hospital_view(None, &HospitalQuery::new("HX", range))
            .await,
        Err(LakeError::NotFound { .. })
    ));
}

#[tokio::test]
async fn partition_replacement_is_seen_by_an_open_lake() {
    let dir = tempfile::tempdir().unwrap();
    let data = dataset();
    let jan: Vec<CaseRow> = data
        .iter()
        .filter(|r| (r.year, r.month) == JAN)
        .cloned()
        .collect();
    write_partition(dir.path(), R, 2024, 1, &jan).await.unwrap();
    let lake = Lake::open(dir.path()).await.unwrap();
    let count = |b: Vec<arrow::record_batch::RecordBatch>| {
        arrow::util::pretty::pretty_format_batches(&b)
            .unwrap()
            .to_string()
    };
    assert!(count(
        lake.sql(None, "SELECT count(*) AS n FROM cases")
            .await
            .unwrap()
    )
    .contains("| 6 "));
    // replace January with A1 alone (a new version of A1 with a different cost)
    let mut a1 = jan[0].clone();
    a1.total_cost_fen = 12_345;
    write_partition(dir.path(), R, 2024, 1, std::slice::from_ref(&a1))
        .await
        .unwrap();
    let s = count(
        lake.sql(
            None,
            "SELECT count(*) AS n, sum(total_cost_fen) AS c FROM cases",
        )
        .await
        .unwrap(),
    );
    assert!(s.contains("| 1 ") && s.contains("12345"), "{s}");
    // a new partition written after open is seen too
    let feb: Vec<CaseRow> = data
        .iter()
        .filter(|r| (r.year, r.month) == FEB)
        .cloned()
        .collect();
    write_partition(dir.path(), R, 2024, 2, &feb).await.unwrap();
    assert!(count(
        lake.sql(None, "SELECT count(*) AS n FROM cases")
            .await
            .unwrap()
    )
    .contains("| 7 "));
    // a row of another month is refused, naming it, and the partition is left as it was
    let err = write_partition(dir.path(), R, 2024, 1, &[a1.clone(), feb[0].clone()])
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("A4") && err.to_string().contains("month"),
        "{err}"
    );
    assert!(count(
        lake.sql(None, "SELECT count(*) AS n FROM cases")
            .await
            .unwrap()
    )
    .contains("| 7 "));
    let mut bad = a1.clone();
    bad.group_status = "maybe".into();
    assert!(write_partition(dir.path(), R, 2024, 1, &[bad])
        .await
        .unwrap_err()
        .to_string()
        .contains("group_status"));
    assert!(write_partition(dir.path(), "../evil", 2024, 1, &[])
        .await
        .is_err());
    assert!(!dir.path().join("../evil").exists());
}

#[tokio::test]
async fn abandoned_temp_file_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let data = dataset();
    let jan: Vec<CaseRow> = data
        .iter()
        .filter(|r| (r.year, r.month) == JAN)
        .cloned()
        .collect();
    write_partition(dir.path(), R, 2024, 1, &jan).await.unwrap();
    let part = dir.path().join("region=320200/year=2024/month=1");
    // a writer that died mid-write: a truncated temp file …
    let good = std::fs::read(part.join("cases.parquet")).unwrap();
    std::fs::write(
        part.join(".cases.parquet.4242.0.tmp"),
        &good[..good.len() / 2],
    )
    .unwrap();
    // … and one that died after writing everything but before the rename (a complete file of 12 rows)
    let other = tempfile::tempdir().unwrap();
    let full = write_partition(
        other.path(),
        R,
        2024,
        1,
        &jan.iter().chain(jan.iter()).cloned().collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    std::fs::copy(full, part.join(".cases.parquet.4242.1.tmp")).unwrap();
    let lake = Lake::open(dir.path()).await.unwrap();
    let s = arrow::util::pretty::pretty_format_batches(
        &lake
            .sql(None, "SELECT count(*) AS n FROM cases")
            .await
            .unwrap(),
    )
    .unwrap()
    .to_string();
    assert!(s.contains("| 6 "), "{s}");
    let d = lake
        .dashboard(
            None,
            &DashboardQuery {
                level: Level::Region,
                range: Range::parse("2024-01", "2024-01").unwrap(),
                region: None,
                tier: None,
            },
            &DashboardConfig::default(),
        )
        .await
        .unwrap();
    assert_eq!(d.totals.cases, 6);
    // the next write of the partition still succeeds and leaves no temp file of its own
    write_partition(dir.path(), R, 2024, 1, &jan[..2])
        .await
        .unwrap();
    let names: Vec<String> = std::fs::read_dir(&part)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        names.iter().filter(|n| n.ends_with(".tmp")).count(),
        2,
        "{names:?}"
    );
    assert!(names.contains(&"cases.parquet".to_string()));
    let s = arrow::util::pretty::pretty_format_batches(
        &lake
            .sql(None, "SELECT count(*) AS n FROM cases")
            .await
            .unwrap(),
    )
    .unwrap()
    .to_string();
    assert!(s.contains("| 2 "), "{s}");
}

#[tokio::test]
async fn empty_lake_and_bad_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(&dir.path().join("new")).await.unwrap();
    let d = lake
        .dashboard(None, &q(Level::Hospital), &DashboardConfig::default())
        .await
        .unwrap();
    assert_eq!(d.totals.cases, 0);
    assert!(d.units.is_empty());
    assert_eq!(d.totals.cmi().text(4), "—");
    assert_eq!(d.trend.len(), 2);
    assert!(Level::parse("county").is_err());
    assert!(matches!(
        Range::parse("2024-13", "2024-12"),
        Err(LakeError::Invalid {
            field: "period",
            ..
        })
    ));
}
