//! Outpatient and pharmacy claims (门诊/药店结算), used for cost-shifting and duplicate checks.

use crate::codes::ProviderKind;
use crate::money::Fen;
use crate::settlement::{format_datetime, parse_datetime, parse_int, Field};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    pub claim_id: String,
    pub insured_id: String,
    pub provider_code: String,
    pub provider_kind: Option<ProviderKind>,
    pub claim_time: Option<NaiveDateTime>,
    pub diagnoses: Vec<String>,
    pub fee_exam: Fen,
    pub fee_lab: Fen,
    pub fee_treatment: Fen,
    pub fee_material: Fen,
    pub fee_western_drug: Fen,
    pub fee_herbal: Fen,
    pub fee_patent_tcm: Fen,
    pub fee_other: Fen,
    pub total_cost: Fen,
    pub fund_pay: Fen,
}

/// Column keys of the claims file, in canonical order, with Chinese labels.
pub const CLAIM_COLUMNS: &[(&str, &str)] = &[
    ("claim_id", "结算流水号"),
    ("insured_id", "医保编号"),
    ("provider_code", "机构编号"),
    ("provider_kind", "机构类型"),
    ("claim_time", "结算时间"),
    ("diagnoses", "诊断编码"),
    ("fee_exam", "检查费"),
    ("fee_lab", "化验费"),
    ("fee_treatment", "治疗费"),
    ("fee_material", "卫生材料费"),
    ("fee_western_drug", "西药费"),
    ("fee_herbal", "中药饮片费"),
    ("fee_patent_tcm", "中成药费"),
    ("fee_other", "其他费"),
    ("total_cost", "金额合计"),
    ("fund_pay", "医保统筹基金支付"),
];

impl Claim {
    /// Index into [`CLAIM_COLUMNS`] for an English key or Chinese label.
    pub fn column_index(header: &str) -> Option<usize> {
        let h = header.trim_start_matches('\u{feff}').trim();
        CLAIM_COLUMNS.iter().position(|(k, zh)| *k == h || *zh == h)
    }

    /// Sets column `i` of [`CLAIM_COLUMNS`] from text; errors are Chinese messages.
    pub fn set_column(&mut self, i: usize, s: &str) -> Result<(), String> {
        let t = s.trim();
        let Some(&(key, zh)) = CLAIM_COLUMNS.get(i) else {
            return Err(format!("第 {} 列不是门诊/药店结算的列", i + 1));
        };
        let amount = |v: &str| {
            if v.is_empty() {
                Ok(Fen::ZERO)
            } else {
                Fen::parse_yuan(v).map_err(|e| format!("{}({})取值“{}”{}", zh, key, v, e.message_zh()))
            }
        };
        match key {
            "claim_id" => self.claim_id = t.to_string(),
            "insured_id" => self.insured_id = t.to_string(),
            "provider_code" => self.provider_code = t.to_string(),
            "provider_kind" => {
                self.provider_kind = if t.is_empty() {
                    None
                } else {
                    Some(ProviderKind::from_code(parse_int(Field::ListId, t).map_err(|_| format!("{}({})取值“{}”不是整数", zh, key, t))?))
                }
            }
            "claim_time" => {
                self.claim_time = if t.is_empty() {
                    None
                } else {
                    Some(parse_datetime(Field::AdmitTime, t).map_err(|_| format!("{}({})取值“{}”不是有效日期时间", zh, key, t))?)
                }
            }
            "diagnoses" => {
                self.diagnoses = if t.is_empty() { Vec::new() } else { t.split('|').map(|x| x.trim().to_string()).collect() }
            }
            "fee_exam" => self.fee_exam = amount(t)?,
            "fee_lab" => self.fee_lab = amount(t)?,
            "fee_treatment" => self.fee_treatment = amount(t)?,
            "fee_material" => self.fee_material = amount(t)?,
            "fee_western_drug" => self.fee_western_drug = amount(t)?,
            "fee_herbal" => self.fee_herbal = amount(t)?,
            "fee_patent_tcm" => self.fee_patent_tcm = amount(t)?,
            "fee_other" => self.fee_other = amount(t)?,
            "total_cost" => self.total_cost = amount(t)?,
            "fund_pay" => self.fund_pay = amount(t)?,
            _ => {} // CLAIM_COLUMNS is closed: every key is matched above
        }
        Ok(())
    }

    /// Canonical text of column `i`.
    pub fn column_text(&self, i: usize) -> String {
        match CLAIM_COLUMNS.get(i).map_or("", |c| c.0) {
            "claim_id" => self.claim_id.clone(),
            "insured_id" => self.insured_id.clone(),
            "provider_code" => self.provider_code.clone(),
            "provider_kind" => self.provider_kind.map(|k| k.code().to_string()).unwrap_or_default(),
            "claim_time" => self.claim_time.as_ref().map(format_datetime).unwrap_or_default(),
            "diagnoses" => self.diagnoses.join("|"),
            "fee_exam" => self.fee_exam.to_string(),
            "fee_lab" => self.fee_lab.to_string(),
            "fee_treatment" => self.fee_treatment.to_string(),
            "fee_material" => self.fee_material.to_string(),
            "fee_western_drug" => self.fee_western_drug.to_string(),
            "fee_herbal" => self.fee_herbal.to_string(),
            "fee_patent_tcm" => self.fee_patent_tcm.to_string(),
            "fee_other" => self.fee_other.to_string(),
            "total_cost" => self.total_cost.to_string(),
            "fund_pay" => self.fund_pay.to_string(),
            _ => String::new(),
        }
    }

    /// Σ of the fee columns.
    pub fn fee_sum(&self) -> Fen {
        self.fee_exam
            + self.fee_lab
            + self.fee_treatment
            + self.fee_material
            + self.fee_western_drug
            + self.fee_herbal
            + self.fee_patent_tcm
            + self.fee_other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn claim_columns_roundtrip() {
        let mut c = Claim::default();
        let vals = ["C1", "P9", "H01", "2", "2025-03-01 09:00", "J06.900", "1.00", "2.00", "0.00", "0.00", "30.50", "0.00", "0.00", "0.00", "33.50", "20.00"];
        for (i, v) in vals.iter().enumerate() {
            c.set_column(i, v).unwrap();
        }
        for (i, v) in vals.iter().enumerate() {
            assert_eq!(c.column_text(i), *v);
        }
        assert_eq!(c.fee_sum(), Fen(3350));
        assert_eq!(Claim::column_index("西药费"), Some(10));
        assert!(c.set_column(6, "x").unwrap_err().contains("检查费"));
    }
}
