//! Thresholds of the plausibility rules. Every number has its default and source here.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct QcConfig {
    /// DOM-10: highest valid age in years. Source: settlement-list.md (age_years integer); 150 is
    /// the conventional upper bound of the 病案首页 age field.
    pub max_age_years: i64,
    /// DOM-18: age above which a warning asks to verify. Plausibility (oldest verified humans ~122).
    pub warn_age_years: i64,
    /// DOM-12: valid birth weight range in grams (newborn 出生体重; the filling rules require
    /// 100–9999 g with precision to 10 g for 病案首页).
    pub birth_weight_min_g: i64,
    pub birth_weight_max_g: i64,
    /// DOM-13: valid newborn admission weight range in grams (same source, admission may be later).
    pub admit_weight_min_g: i64,
    pub admit_weight_max_g: i64,
    /// NB-04: usual birth weight range in grams (plausibility; below 500 g viability is rare,
    /// above 6000 g exceptional).
    pub birth_weight_usual_min_g: i64,
    pub birth_weight_usual_max_g: i64,
    /// NB-09: admission weight outside [birth × lo / 100, birth × hi / 100] (percent) is a warning.
    pub admit_weight_ratio_lo_pct: i64,
    pub admit_weight_ratio_hi_pct: i64,
    /// Newborn period in days (ICD-10: 新生儿期 = first 28 days). NB-01, NB-02, AGE-02, AGE-06.
    pub newborn_days: i64,
    /// AGE-03/04/05: reproductive age range in years (issue 6: obstetric codes outside 10–60).
    pub obstetric_min_age: i64,
    pub obstetric_max_age: i64,
    /// AGE-09: R54 衰老 below this age (ICD-10 R54 "old age"; WHO older person = 60+).
    pub senility_min_age: i64,
    /// AGE-10: N95.1 绝经期状态 below this age (premature ovarian failure is E28.3).
    pub menopause_min_age: i64,
    /// AGE-11: N40 前列腺增生 below this age (plausibility).
    pub bph_min_age: i64,
    /// DATE-07: LOS above this many days is implausible (one year).
    pub max_plausible_los: i64,
    /// DATE-08: admission before this year is implausible (settlement lists exist since 2020;
    /// records from before 2000 are surely mistyped).
    pub min_admit_year: i32,
    /// FEE-19/20: stays of at least this many days should carry bed and nursing fees.
    pub bed_fee_min_los: i64,
    /// FEE-21: daily cost above this many yuan (plausibility).
    pub max_daily_cost_yuan: i64,
    /// FEE-22: total cost above this many yuan (plausibility).
    pub max_total_cost_yuan: i64,
}

impl Default for QcConfig {
    fn default() -> Self {
        QcConfig {
            max_age_years: 150,
            warn_age_years: 120,
            birth_weight_min_g: 100,
            birth_weight_max_g: 9999,
            admit_weight_min_g: 100,
            admit_weight_max_g: 20000,
            birth_weight_usual_min_g: 500,
            birth_weight_usual_max_g: 6000,
            admit_weight_ratio_lo_pct: 50,
            admit_weight_ratio_hi_pct: 300,
            newborn_days: 28,
            obstetric_min_age: 10,
            obstetric_max_age: 60,
            senility_min_age: 60,
            menopause_min_age: 30,
            bph_min_age: 30,
            max_plausible_los: 365,
            min_admit_year: 2000,
            bed_fee_min_los: 2,
            max_daily_cost_yuan: 200_000,
            max_total_cost_yuan: 5_000_000,
        }
    }
}
