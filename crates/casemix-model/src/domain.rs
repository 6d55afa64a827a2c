//! Field domains: the range every amount, quantity, day, hour, age and weight of the input must
//! lie in before anything downstream may compute with it. A value outside its domain is not a
//! quality question (that is casemix-qc's plausibility rules) but input that cannot be true and
//! would break the arithmetic of the region (a list of 900,000,000,000,000.00 yuan drives the
//! point value to zero; `i64::MAX` fen overflows every sum). Importers reject such a record at
//! parse; the HTTP API checks JSON cases the same way, with [`SettlementList::domain_violations`].
//!
//! The bounds are wider than casemix-qc's plausibility thresholds (QC still flags a 130-year-old
//! or a 400-day stay); they only refuse the impossible, and they keep every `Fen` sum of up to
//! 10⁹ amounts inside `i64` (see [`crate::money`]).

use crate::charge::ChargeItem;
use crate::claim::Claim;
use crate::money::{Centi, Fen};
use crate::settlement::{Field, SettlementList};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An inclusive range `min..=max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bounds<T> {
    pub min: T,
    pub max: T,
}

impl<T: PartialOrd + Copy> Bounds<T> {
    pub const fn new(min: T, max: T) -> Bounds<T> {
        Bounds { min, max }
    }
    pub fn contains(&self, v: T) -> bool {
        self.min <= v && v <= self.max
    }
}

/// The domains of the numeric fields of settlement lists, claims and itemised charges.
/// Defaults below, each with its reason; a region may widen or narrow them in configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FieldDomains {
    /// Every amount of a settlement list: the 14 fee categories, total_cost, selfpay_items and the
    /// four payer columns. Default 0.00–10,000,000.00 yuan (issue 12: "a list's amounts
    /// 0–10,000,000 yuan"; the costliest inpatient stays — organ transplants, ECMO, CAR-T — cost a
    /// few million yuan; negative amounts are refunds, which are settled as a corrected list, not
    /// as a negative one).
    pub list_amount: Bounds<Fen>,
    /// 年龄(岁). Default 0–150: the conventional bound of the 病案首页 age field (casemix-qc
    /// DOM-10 uses the same maximum).
    pub age_years: Bounds<i64>,
    /// 年龄(天), filled for patients under one year (settlement-list.md: required when
    /// age_years = 0). Default 0–54,900 (150 years in days, the age_years bound): the grouping
    /// reference data (shared/grouper-reference, up to 36,860) and hospital systems fill it for
    /// every age, and the grouper must read those records; a value above 365 for a patient
    /// under one year is a quality-control finding, not an impossible value.
    pub age_days: Bounds<i64>,
    /// 新生儿出生体重 and 新生儿入院体重 in grams. Default 0–20,000 g: casemix-qc's widest
    /// plausibility bound (admission weight 100–20,000 g) with 0 left to QC; heavier is not a
    /// newborn.
    pub newborn_weight_g: Bounds<i64>,
    /// 实际住院天数. Default 0–3,660 days (ten years): stays crossing the fund year are settled at
    /// least yearly, so one list covers about a year at most; ten years leaves room for long
    /// psychiatric and rehabilitation stays settled late, and keeps LOS × daily amounts far from
    /// overflow. Same-day (0/1) rules are QC's.
    pub los_days: Bounds<i64>,
    /// 重症监护时长 and 呼吸机使用时长 in hours (two decimals). Default 0–87,840 h: ten years of
    /// 366 days × 24 h, the same horizon as `los_days`.
    pub hours: Bounds<Centi>,
    /// 数量 of an itemised charge (two decimals). Default 0–1,000,000: the largest real
    /// quantities are units of drugs or consumables counted singly over a long stay (tens of
    /// thousands); negative quantities (冲销) are netted before upload.
    pub charge_quantity: Bounds<Centi>,
    /// 金额 of an itemised charge. Default 0.00–10,000,000.00 yuan: one item cannot cost more than
    /// the list it belongs to.
    pub charge_amount: Bounds<Fen>,
    /// Every amount of an outpatient/pharmacy claim. Default 0.00–10,000,000.00 yuan, the list's
    /// bound (an outpatient claim is far smaller; the bound only refuses the impossible).
    pub claim_amount: Bounds<Fen>,
}

/// 10,000,000.00 yuan in fen.
const TEN_MILLION_YUAN: Fen = Fen(1_000_000_000);

impl Default for FieldDomains {
    fn default() -> Self {
        FieldDomains {
            list_amount: Bounds::new(Fen::ZERO, TEN_MILLION_YUAN),
            age_years: Bounds::new(0, 150),
            age_days: Bounds::new(0, 150 * 366),
            newborn_weight_g: Bounds::new(0, 20_000),
            los_days: Bounds::new(0, 3_660),
            hours: Bounds::new(Centi(0), Centi(87_840 * 100)),
            charge_quantity: Bounds::new(Centi(0), Centi(1_000_000 * 100)),
            charge_amount: Bounds::new(Fen::ZERO, TEN_MILLION_YUAN),
            claim_amount: Bounds::new(Fen::ZERO, TEN_MILLION_YUAN),
        }
    }
}

/// One field value outside its domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainViolation {
    /// English key of the field (`total_cost`).
    pub field: String,
    /// Chinese label (`金额合计`).
    pub label_zh: String,
    /// The value as text (`900000000000000.00`).
    pub value: String,
    /// The allowed range as text, with its unit (`0.00–10000000.00 元`).
    pub allowed: String,
    /// Chinese message: `金额合计(total_cost)取值“900000000000000.00”超出允许范围 0.00–10000000.00 元`.
    pub message: String,
}

impl DomainViolation {
    /// Stable rule id of a value outside its domain.
    pub const RULE: &'static str = "out_of_domain";

    fn new(field: &str, label_zh: &str, value: String, allowed: String) -> DomainViolation {
        let message = format!("{label_zh}({field})取值“{value}”超出允许范围 {allowed}");
        DomainViolation { field: field.to_string(), label_zh: label_zh.to_string(), value, allowed, message }
    }
}

impl fmt::Display for DomainViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Collects violations of one record.
struct Check<'d> {
    out: Vec<DomainViolation>,
    d: &'d FieldDomains,
}

impl Check<'_> {
    fn value<T: PartialOrd + Copy + fmt::Display>(&mut self, key: &str, zh: &str, v: Option<T>, b: Bounds<T>, unit: &str) {
        if let Some(v) = v {
            if !b.contains(v) {
                let allowed = format!("{}–{}{}", b.min, b.max, unit);
                self.out.push(DomainViolation::new(key, zh, v.to_string(), allowed));
            }
        }
    }
    fn list_field<T: PartialOrd + Copy + fmt::Display>(&mut self, f: Field, v: Option<T>, b: Bounds<T>, unit: &str) {
        self.value(f.key(), f.label_zh(), v, b, unit);
    }
}

impl SettlementList {
    /// Every field of this list outside its domain, in canonical column order (empty when all
    /// are inside). Missing values are not violations (completeness is QC's).
    pub fn domain_violations(&self, d: &FieldDomains) -> Vec<DomainViolation> {
        let mut c = Check { out: Vec::new(), d };
        c.list_field(Field::AgeYears, self.age_years, c.d.age_years, " 岁");
        c.list_field(Field::AgeDays, self.age_days, c.d.age_days, " 天");
        c.list_field(Field::BirthWeightG, self.birth_weight_g, c.d.newborn_weight_g, " 克");
        c.list_field(Field::AdmitWeightG, self.admit_weight_g, c.d.newborn_weight_g, " 克");
        c.list_field(Field::LosDays, self.los_days, c.d.los_days, " 天");
        c.list_field(Field::IcuHours, self.icu_hours, c.d.hours, " 小时");
        c.list_field(Field::VentHours, self.vent_hours, c.d.hours, " 小时");
        for (f, v) in Field::FEES.iter().zip(self.fees) {
            c.list_field(*f, v, c.d.list_amount, " 元");
        }
        let amounts = [
            (Field::TotalCost, self.total_cost),
            (Field::SelfpayItems, self.selfpay_items),
            (Field::FundPay, self.fund_pay),
            (Field::SupplementaryPay, self.supplementary_pay),
            (Field::AssistancePay, self.assistance_pay),
            (Field::PersonalPay, self.personal_pay),
        ];
        for (f, v) in amounts {
            c.list_field(f, v, c.d.list_amount, " 元");
        }
        c.out
    }
}

impl Claim {
    /// Every amount of this claim outside [`FieldDomains::claim_amount`], in column order.
    pub fn domain_violations(&self, d: &FieldDomains) -> Vec<DomainViolation> {
        let mut c = Check { out: Vec::new(), d };
        let amounts = [
            ("fee_exam", self.fee_exam),
            ("fee_lab", self.fee_lab),
            ("fee_treatment", self.fee_treatment),
            ("fee_material", self.fee_material),
            ("fee_western_drug", self.fee_western_drug),
            ("fee_herbal", self.fee_herbal),
            ("fee_patent_tcm", self.fee_patent_tcm),
            ("fee_other", self.fee_other),
            ("total_cost", self.total_cost),
            ("fund_pay", self.fund_pay),
        ];
        for (key, v) in amounts {
            let zh = Claim::column_index(key).and_then(|i| crate::claim::CLAIM_COLUMNS.get(i)).map_or(key, |c| c.1);
            c.value(key, zh, Some(v), c.d.claim_amount, " 元");
        }
        c.out
    }
}

impl ChargeItem {
    /// The quantity and amount of this charge item when outside their domains.
    pub fn domain_violations(&self, d: &FieldDomains) -> Vec<DomainViolation> {
        let mut c = Check { out: Vec::new(), d };
        c.value("quantity", "数量", Some(self.quantity), c.d.charge_quantity, "");
        c.value("amount", "金额", Some(self.amount), c.d.charge_amount, " 元");
        c.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list_with(f: Field, text: &str) -> SettlementList {
        let mut l = SettlementList { list_id: "A2".into(), ..SettlementList::default() };
        l.set_field(f, text).unwrap();
        l
    }

    #[test]
    fn hostile_totals_are_out_of_domain() {
        let d = FieldDomains::default();
        for (text, shown) in [
            ("900000000000000.00", "900000000000000.00"),
            ("92233720368547758.07", "92233720368547758.07"),
            ("-0.01", "-0.01"),
            ("10000000.01", "10000000.01"),
        ] {
            let v = list_with(Field::TotalCost, text).domain_violations(&d);
            assert_eq!(v.len(), 1, "{text}");
            assert_eq!(v[0].field, "total_cost");
            assert_eq!(v[0].label_zh, "金额合计");
            assert_eq!(v[0].value, shown);
            assert_eq!(v[0].allowed, "0.00–10000000.00 元");
            assert_eq!(v[0].message, format!("金额合计(total_cost)取值“{shown}”超出允许范围 0.00–10000000.00 元"));
        }
        // the bounds themselves are inside
        assert!(list_with(Field::TotalCost, "10000000.00").domain_violations(&d).is_empty());
        assert!(list_with(Field::TotalCost, "0").domain_violations(&d).is_empty());
        // a fee and a payer column are checked too
        let v = list_with(Field::FeeWesternDrug, "-5").domain_violations(&d);
        assert_eq!(v[0].message, "西药费(fee_western_drug)取值“-5.00”超出允许范围 0.00–10000000.00 元");
        let v = list_with(Field::FundPay, "20000000").domain_violations(&d);
        assert_eq!(v[0].field, "fund_pay");
    }

    #[test]
    fn ages_los_hours_and_weights() {
        let d = FieldDomains::default();
        let msg = |f, t| list_with(f, t).domain_violations(&d).into_iter().map(|v| v.message).collect::<Vec<_>>();
        assert_eq!(msg(Field::AgeYears, "151"), ["年龄(岁)(age_years)取值“151”超出允许范围 0–150 岁"]);
        assert_eq!(msg(Field::AgeYears, "-1"), ["年龄(岁)(age_years)取值“-1”超出允许范围 0–150 岁"]);
        assert!(msg(Field::AgeYears, "150").is_empty());
        assert_eq!(msg(Field::AgeDays, "54901"), ["年龄(天)(age_days)取值“54901”超出允许范围 0–54900 天"]);
        assert!(msg(Field::AgeDays, "36860").is_empty(), "a reference record's age in days");
        assert_eq!(msg(Field::LosDays, "3661"), ["实际住院天数(los_days)取值“3661”超出允许范围 0–3660 天"]);
        assert_eq!(msg(Field::LosDays, "-2"), ["实际住院天数(los_days)取值“-2”超出允许范围 0–3660 天"]);
        assert!(msg(Field::LosDays, "3660").is_empty());
        assert_eq!(
            msg(Field::VentHours, "87840.01"),
            ["呼吸机使用时长(小时)(vent_hours)取值“87840.01”超出允许范围 0–87840 小时"]
        );
        assert_eq!(
            msg(Field::BirthWeightG, "20001"),
            ["新生儿出生体重(克)(birth_weight_g)取值“20001”超出允许范围 0–20000 克"]
        );
        // several violations come in column order
        let mut l = list_with(Field::PersonalPay, "-1");
        l.set_field(Field::AgeYears, "200").unwrap();
        let v = l.domain_violations(&d);
        assert_eq!(v.iter().map(|v| v.field.as_str()).collect::<Vec<_>>(), ["age_years", "personal_pay"]);
        // a narrower configured domain is honoured
        let narrow = FieldDomains { los_days: Bounds::new(1, 60), ..FieldDomains::default() };
        assert_eq!(list_with(Field::LosDays, "61").domain_violations(&narrow)[0].allowed, "1–60 天");
    }

    #[test]
    fn claims_and_charges() {
        let d = FieldDomains::default();
        let c = Claim { claim_id: "C1".into(), total_cost: Fen(-100), fund_pay: Fen(1_000_000_001), ..Claim::default() };
        let v = c.domain_violations(&d);
        assert_eq!(
            v.iter().map(|v| v.message.as_str()).collect::<Vec<_>>(),
            [
                "金额合计(total_cost)取值“-1.00”超出允许范围 0.00–10000000.00 元",
                "医保统筹基金支付(fund_pay)取值“10000000.01”超出允许范围 0.00–10000000.00 元",
            ]
        );
        let item = ChargeItem { quantity: Centi(-250), amount: Fen(1_000_000_001), ..ChargeItem::default() };
        let v = item.domain_violations(&d);
        assert_eq!(
            v.iter().map(|v| v.message.as_str()).collect::<Vec<_>>(),
            ["数量(quantity)取值“-2.50”超出允许范围 0–1000000", "金额(amount)取值“10000000.01”超出允许范围 0.00–10000000.00 元"]
        );
        assert!(ChargeItem { quantity: Centi(100), amount: Fen(3740), ..ChargeItem::default() }.domain_violations(&d).is_empty());
    }

    #[test]
    fn domains_deserialize_with_defaults_for_missing_keys() {
        // serde(default): a configuration naming one domain keeps the others' defaults
        let d: FieldDomains = serde_json::from_str(r#"{"age_years":{"min":0,"max":120}}"#).unwrap();
        assert_eq!(d.age_years, Bounds::new(0, 120));
        assert_eq!(d.los_days, FieldDomains::default().los_days);
    }
}
