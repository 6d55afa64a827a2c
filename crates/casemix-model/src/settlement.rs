//! The inpatient settlement list (医疗保障基金结算清单, inpatient subset) in its canonical form
//! (`shared/docs/settlement-list.md`), its field registry (English key ↔ Chinese label), and the
//! exact text ↔ value conversions the importers and exporters share.

use crate::codes::*;
use crate::money::{AmountError, Centi, Fen};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};

/// The 14 fee categories (医疗收费项目类别) of the settlement list, in canonical column order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FeeKind {
    Bed,
    Consult,
    Exam,
    Lab,
    Treatment,
    Surgery,
    Nursing,
    Material,
    WesternDrug,
    Herbal,
    PatentTcm,
    General,
    Registration,
    Other,
}

impl FeeKind {
    pub const ALL: [FeeKind; 14] = [
        FeeKind::Bed,
        FeeKind::Consult,
        FeeKind::Exam,
        FeeKind::Lab,
        FeeKind::Treatment,
        FeeKind::Surgery,
        FeeKind::Nursing,
        FeeKind::Material,
        FeeKind::WesternDrug,
        FeeKind::Herbal,
        FeeKind::PatentTcm,
        FeeKind::General,
        FeeKind::Registration,
        FeeKind::Other,
    ];
    pub fn index(self) -> usize {
        self as usize
    }
    pub fn field(self) -> Field {
        Field::FEES[self as usize]
    }
    /// The English key of the category's settlement-list column (`fee_western_drug`).
    pub fn key(self) -> &'static str {
        self.field().key()
    }
    /// The Chinese label (`西药费`).
    pub fn label_zh(self) -> &'static str {
        self.field().label_zh()
    }
    /// The two-digit national code of 医疗收费项目类别 (spec-notes.md §3.2: 01 床位费 … 14 其他费).
    pub fn code(self) -> String {
        format!("{:02}", self as usize + 1)
    }
    /// Reads a category from its key, Chinese label or two-digit national code (spaces trimmed).
    pub fn from_text(s: &str) -> Option<FeeKind> {
        let t = s.trim();
        FeeKind::ALL.iter().copied().find(|k| k.key() == t || k.label_zh() == t || k.code() == t)
    }
}

/// One inpatient settlement list. `None` = the cell was empty (missing), which is distinct from 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SettlementList {
    pub list_id: String,
    pub hospital_code: Option<String>,
    pub hospital_name: Option<String>,
    pub insured_id: Option<String>,
    pub record_no: Option<String>,
    pub insurance_type: Option<InsuranceType>,
    pub sex: Option<Sex>,
    pub birth_date: Option<NaiveDate>,
    pub age_years: Option<i64>,
    pub age_days: Option<i64>,
    pub birth_weight_g: Option<i64>,
    pub admit_weight_g: Option<i64>,
    pub admit_time: Option<NaiveDateTime>,
    pub discharge_time: Option<NaiveDateTime>,
    pub los_days: Option<i64>,
    pub admit_route: Option<AdmitRoute>,
    pub admit_dept: Option<String>,
    pub dept: Option<String>,
    pub leaving_type: Option<LeavingType>,
    pub readmit_plan_31d: Option<ReadmitPlan>,
    pub icu_hours: Option<Centi>,
    pub vent_hours: Option<Centi>,
    /// Principal diagnosis first (主要诊断), then the secondary diagnoses in order.
    pub diagnoses: Vec<String>,
    /// Present-on-admission flag per diagnosis (same index as `diagnoses`; may be shorter).
    pub diagnosis_poa: Vec<Option<Poa>>,
    /// Principal procedure first.
    pub procedures: Vec<String>,
    /// Date of each procedure (same index as `procedures`; may be shorter).
    pub procedure_dates: Vec<Option<NaiveDateTime>>,
    /// The 14 fee categories, indexed by [`FeeKind`].
    pub fees: [Option<Fen>; 14],
    pub total_cost: Option<Fen>,
    pub selfpay_items: Option<Fen>,
    pub fund_pay: Option<Fen>,
    pub supplementary_pay: Option<Fen>,
    pub assistance_pay: Option<Fen>,
    pub personal_pay: Option<Fen>,
    pub payment_method: Option<PaymentMethod>,
    /// Columns the canonical form does not know, kept and passed through (header, value).
    pub extra: Vec<(String, String)>,
}

impl SettlementList {
    pub fn fee(&self, k: FeeKind) -> Fen {
        self.fees[k.index()].unwrap_or(Fen::ZERO)
    }
    /// Σ of the 14 fee categories (missing = 0).
    pub fn fee_sum(&self) -> Fen {
        self.fees.iter().map(|f| f.unwrap_or(Fen::ZERO)).sum()
    }
    /// Σ fund + supplementary + assistance + personal (missing = 0).
    pub fn payer_sum(&self) -> Fen {
        [self.fund_pay, self.supplementary_pay, self.assistance_pay, self.personal_pay]
            .iter()
            .map(|f| f.unwrap_or(Fen::ZERO))
            .sum()
    }
    pub fn total(&self) -> Fen {
        self.total_cost.unwrap_or(Fen::ZERO)
    }
    /// The fields the DRG grouper reads, borrowed.
    pub fn group_input(&self) -> GroupInput<'_> {
        GroupInput {
            sex: self.sex.map(Sex::code),
            age_years: self.age_years,
            age_days: self.age_days,
            birth_weight_g: self.birth_weight_g,
            dept: self.dept.as_deref(),
            los_days: self.los_days,
            leaving_type: self.leaving_type.map(LeavingType::code),
            icu_hours: self.icu_hours,
            diagnoses: &self.diagnoses,
            procedures: &self.procedures,
        }
    }
}

/// What a DRG grouper consumes (FORMAT.md §2). Integer codes are raw so that out-of-domain
/// values reach the grouper's input checks exactly as sent.
#[derive(Debug, Clone, Copy)]
pub struct GroupInput<'a> {
    pub sex: Option<i64>,
    pub age_years: Option<i64>,
    pub age_days: Option<i64>,
    pub birth_weight_g: Option<i64>,
    pub dept: Option<&'a str>,
    pub los_days: Option<i64>,
    pub leaving_type: Option<i64>,
    /// Hours with two decimals; the grouper compares exactly.
    pub icu_hours: Option<Centi>,
    pub diagnoses: &'a [String],
    pub procedures: &'a [String],
}

/// The value type of a field, which decides how its text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Integer,
    Code,
    Date,
    DateTime,
    Hours,
    Amount,
    CodeList,
    PoaList,
    DateTimeList,
}

macro_rules! fields {
    ($($var:ident => $key:literal, $zh:literal, $kind:ident;)*) => {
        /// A column of the canonical settlement list.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Field { $($var,)* }
        impl Field {
            /// Every field, in canonical column order.
            pub const ALL: &'static [Field] = &[$(Field::$var,)*];
            /// English key (canonical header).
            pub fn key(self) -> &'static str { match self { $(Field::$var => $key,)* } }
            /// Chinese label (accepted as header, shown to users).
            pub fn label_zh(self) -> &'static str { match self { $(Field::$var => $zh,)* } }
            pub fn kind(self) -> FieldKind { match self { $(Field::$var => FieldKind::$kind,)* } }
        }
    };
}

fields! {
    ListId => "list_id", "清单流水号", Text;
    HospitalCode => "hospital_code", "定点医药机构编号", Text;
    HospitalName => "hospital_name", "定点医药机构名称", Text;
    InsuredId => "insured_id", "医保编号", Text;
    RecordNo => "record_no", "病案号", Text;
    InsuranceType => "insurance_type", "险种类型", Code;
    Sex => "sex", "性别", Code;
    BirthDate => "birth_date", "出生日期", Date;
    AgeYears => "age_years", "年龄(岁)", Integer;
    AgeDays => "age_days", "年龄(天)", Integer;
    BirthWeightG => "birth_weight_g", "新生儿出生体重(克)", Integer;
    AdmitWeightG => "admit_weight_g", "新生儿入院体重(克)", Integer;
    AdmitTime => "admit_time", "入院时间", DateTime;
    DischargeTime => "discharge_time", "出院时间", DateTime;
    LosDays => "los_days", "实际住院天数", Integer;
    AdmitRoute => "admit_route", "入院途径", Code;
    AdmitDept => "admit_dept", "入院科别", Text;
    Dept => "dept", "出院科别", Text;
    LeavingType => "leaving_type", "离院方式", Code;
    ReadmitPlan31d => "readmit_plan_31d", "出院31天内再住院计划", Code;
    IcuHours => "icu_hours", "重症监护时长(小时)", Hours;
    VentHours => "vent_hours", "呼吸机使用时长(小时)", Hours;
    Diagnoses => "diagnoses", "出院诊断编码", CodeList;
    DiagnosisPoa => "diagnosis_poa", "入院病情", PoaList;
    Procedures => "procedures", "手术及操作编码", CodeList;
    ProcedureDates => "procedure_dates", "手术及操作日期", DateTimeList;
    FeeBed => "fee_bed", "床位费", Amount;
    FeeConsult => "fee_consult", "诊察费", Amount;
    FeeExam => "fee_exam", "检查费", Amount;
    FeeLab => "fee_lab", "化验费", Amount;
    FeeTreatment => "fee_treatment", "治疗费", Amount;
    FeeSurgery => "fee_surgery", "手术费", Amount;
    FeeNursing => "fee_nursing", "护理费", Amount;
    FeeMaterial => "fee_material", "卫生材料费", Amount;
    FeeWesternDrug => "fee_western_drug", "西药费", Amount;
    FeeHerbal => "fee_herbal", "中药饮片费", Amount;
    FeePatentTcm => "fee_patent_tcm", "中成药费", Amount;
    FeeGeneral => "fee_general", "一般诊疗费", Amount;
    FeeRegistration => "fee_registration", "挂号费", Amount;
    FeeOther => "fee_other", "其他费", Amount;
    TotalCost => "total_cost", "金额合计", Amount;
    SelfpayItems => "selfpay_items", "全自费金额", Amount;
    FundPay => "fund_pay", "医保统筹基金支付", Amount;
    SupplementaryPay => "supplementary_pay", "补充医疗保险支付", Amount;
    AssistancePay => "assistance_pay", "医疗救助支付", Amount;
    PersonalPay => "personal_pay", "个人负担", Amount;
    PaymentMethod => "payment_method", "医保支付方式", Code;
}

impl Field {
    pub const FEES: [Field; 14] = [
        Field::FeeBed,
        Field::FeeConsult,
        Field::FeeExam,
        Field::FeeLab,
        Field::FeeTreatment,
        Field::FeeSurgery,
        Field::FeeNursing,
        Field::FeeMaterial,
        Field::FeeWesternDrug,
        Field::FeeHerbal,
        Field::FeePatentTcm,
        Field::FeeGeneral,
        Field::FeeRegistration,
        Field::FeeOther,
    ];

    /// Resolves a header cell: the English key, the Chinese label, or `id` (the grouping-only
    /// minimal form's name for `list_id`). Surrounding spaces and a BOM are ignored.
    pub fn from_header(h: &str) -> Option<Field> {
        let h = h.trim_start_matches('\u{feff}').trim();
        if h == "id" || h == "病案ID" {
            return Some(Field::ListId);
        }
        Field::ALL.iter().copied().find(|f| f.key() == h || f.label_zh() == h)
    }
}

/// A field whose text could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: Field,
    pub value: String,
    /// Stable rule id, e.g. `integer`, `amount_decimals`.
    pub rule: &'static str,
    /// Chinese message naming the field and the value.
    pub message: String,
}

fn ferr(field: Field, value: &str, rule: &'static str, what: &str) -> FieldError {
    FieldError {
        field,
        value: value.to_string(),
        rule,
        message: format!("{}({})取值“{}”{}", field.label_zh(), field.key(), value, what),
    }
}

/// Reads an integer cell; accepts a trailing `.0` as spreadsheets write it.
pub fn parse_int(field: Field, s: &str) -> Result<i64, FieldError> {
    let t = s.trim();
    let t = t.strip_suffix(".0").unwrap_or(t);
    t.parse::<i64>().map_err(|_| ferr(field, s, "integer", "不是整数"))
}

/// Reads a date: `YYYY-MM-DD`, `YYYY/MM/DD` or `YYYYMMDD` (a time part is ignored).
pub fn parse_date(field: Field, s: &str) -> Result<NaiveDate, FieldError> {
    parse_datetime(field, s).map(|d| d.date())
}

/// Reads a date-time: `YYYY-MM-DD HH:MM[:SS]`, `YYYY-MM-DDTHH:MM[:SS]`, or a date alone (00:00);
/// `/` may stand for `-`.
pub fn parse_datetime(field: Field, s: &str) -> Result<NaiveDateTime, FieldError> {
    let t = s.trim();
    let norm: String;
    let t = if t.contains('/') {
        norm = t.replace('/', "-");
        norm.as_str()
    } else {
        t
    };
    let bad = || ferr(field, s, "datetime", "不是有效日期时间(应为 YYYY-MM-DD HH:MM)");
    let (d, rest) = match t.find([' ', 'T']) {
        Some(p) => (&t[..p], t[p + 1..].trim()),
        None => (t, ""),
    };
    let date = if d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()) {
        NaiveDate::parse_from_str(d, "%Y%m%d")
    } else {
        NaiveDate::parse_from_str(d, "%Y-%m-%d")
    }
    .map_err(|_| bad())?;
    let time = if rest.is_empty() {
        NaiveTime::MIN
    } else {
        NaiveTime::parse_from_str(rest, "%H:%M:%S")
            .or_else(|_| NaiveTime::parse_from_str(rest, "%H:%M"))
            .map_err(|_| bad())?
    };
    Ok(date.and_time(time))
}

fn parse_amount(field: Field, s: &str) -> Result<Fen, FieldError> {
    Fen::parse_yuan(s).map_err(|e| match e {
        AmountError::TooManyDecimals => ferr(field, s, "amount_decimals", "小数位超过2位"),
        AmountError::Overflow => ferr(field, s, "amount_range", "超出范围"),
        _ => ferr(field, s, "amount", "不是有效金额"),
    })
}

fn split_list(s: &str) -> impl Iterator<Item = &str> {
    s.split('|').map(str::trim)
}

/// Formats a date-time the canonical way (`YYYY-MM-DD HH:MM`).
pub fn format_datetime(d: &NaiveDateTime) -> String {
    d.format("%Y-%m-%d %H:%M").to_string()
}

impl SettlementList {
    /// Sets one field from its text. An empty (or all-space) text is "missing" and clears the field.
    /// On error the field is left missing and the error names field, value and rule.
    pub fn set_field(&mut self, field: Field, s: &str) -> Result<(), FieldError> {
        use Field as F;
        let empty = s.trim().is_empty();
        macro_rules! opt {
            ($e:expr) => {
                if empty {
                    None
                } else {
                    Some($e?)
                }
            };
        }
        let text = || if empty { None } else { Some(s.trim().to_string()) };
        let code = |f| parse_int(f, s);
        match field {
            F::ListId => self.list_id = s.trim().to_string(),
            F::HospitalCode => self.hospital_code = text(),
            F::HospitalName => self.hospital_name = text(),
            F::InsuredId => self.insured_id = text(),
            F::RecordNo => self.record_no = text(),
            F::InsuranceType => self.insurance_type = opt!(code(field).map(InsuranceType::from_code)),
            F::Sex => self.sex = opt!(code(field).map(Sex::from_code)),
            F::BirthDate => self.birth_date = opt!(parse_date(field, s)),
            F::AgeYears => self.age_years = opt!(parse_int(field, s)),
            F::AgeDays => self.age_days = opt!(parse_int(field, s)),
            F::BirthWeightG => self.birth_weight_g = opt!(parse_int(field, s)),
            F::AdmitWeightG => self.admit_weight_g = opt!(parse_int(field, s)),
            F::AdmitTime => self.admit_time = opt!(parse_datetime(field, s)),
            F::DischargeTime => self.discharge_time = opt!(parse_datetime(field, s)),
            F::LosDays => self.los_days = opt!(parse_int(field, s)),
            F::AdmitRoute => self.admit_route = opt!(code(field).map(AdmitRoute::from_code)),
            F::AdmitDept => self.admit_dept = text(),
            F::Dept => self.dept = text(),
            F::LeavingType => self.leaving_type = opt!(code(field).map(LeavingType::from_code)),
            F::ReadmitPlan31d => self.readmit_plan_31d = opt!(code(field).map(ReadmitPlan::from_code)),
            F::IcuHours => {
                self.icu_hours = opt!(Centi::parse(s).map_err(|_| ferr(field, s, "hours", "不是有效小时数")))
            }
            F::VentHours => {
                self.vent_hours = opt!(Centi::parse(s).map_err(|_| ferr(field, s, "hours", "不是有效小时数")))
            }
            F::Diagnoses => {
                self.diagnoses = if empty { Vec::new() } else { split_list(s).map(str::to_string).collect() }
            }
            F::Procedures => {
                self.procedures = if empty { Vec::new() } else { split_list(s).map(str::to_string).collect() }
            }
            F::DiagnosisPoa => {
                self.diagnosis_poa = if empty {
                    Vec::new()
                } else {
                    split_list(s)
                        .map(|p| if p.is_empty() { Ok(None) } else { parse_int(field, p).map(|c| Some(Poa::from_code(c))) })
                        .collect::<Result<_, _>>()?
                }
            }
            F::ProcedureDates => {
                self.procedure_dates = if empty {
                    Vec::new()
                } else {
                    split_list(s)
                        .map(|p| if p.is_empty() { Ok(None) } else { parse_datetime(field, p).map(Some) })
                        .collect::<Result<_, _>>()?
                }
            }
            F::TotalCost => self.total_cost = opt!(parse_amount(field, s)),
            F::SelfpayItems => self.selfpay_items = opt!(parse_amount(field, s)),
            F::FundPay => self.fund_pay = opt!(parse_amount(field, s)),
            F::SupplementaryPay => self.supplementary_pay = opt!(parse_amount(field, s)),
            F::AssistancePay => self.assistance_pay = opt!(parse_amount(field, s)),
            F::PersonalPay => self.personal_pay = opt!(parse_amount(field, s)),
            F::PaymentMethod => self.payment_method = opt!(code(field).map(PaymentMethod::from_code)),
            fee => {
                // every remaining field is a fee (the registry is closed)
                let v = opt!(parse_amount(field, s));
                if let Some(slot) = Field::FEES.iter().position(|f| *f == fee).and_then(|i| self.fees.get_mut(i)) {
                    *slot = v;
                }
            }
        }
        Ok(())
    }

    /// The canonical text of one field (the inverse of [`SettlementList::set_field`]).
    pub fn field_text(&self, field: Field) -> String {
        use Field as F;
        fn o<T: ToString>(v: &Option<T>) -> String {
            v.as_ref().map(|x| x.to_string()).unwrap_or_default()
        }
        fn c(v: Option<i64>) -> String {
            v.map(|x| x.to_string()).unwrap_or_default()
        }
        match field {
            F::ListId => self.list_id.clone(),
            F::HospitalCode => o(&self.hospital_code),
            F::HospitalName => o(&self.hospital_name),
            F::InsuredId => o(&self.insured_id),
            F::RecordNo => o(&self.record_no),
            F::InsuranceType => c(self.insurance_type.map(|x| x.code())),
            F::Sex => c(self.sex.map(|x| x.code())),
            F::BirthDate => self.birth_date.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
            F::AgeYears => c(self.age_years),
            F::AgeDays => c(self.age_days),
            F::BirthWeightG => c(self.birth_weight_g),
            F::AdmitWeightG => c(self.admit_weight_g),
            F::AdmitTime => self.admit_time.as_ref().map(format_datetime).unwrap_or_default(),
            F::DischargeTime => self.discharge_time.as_ref().map(format_datetime).unwrap_or_default(),
            F::LosDays => c(self.los_days),
            F::AdmitRoute => c(self.admit_route.map(|x| x.code())),
            F::AdmitDept => o(&self.admit_dept),
            F::Dept => o(&self.dept),
            F::LeavingType => c(self.leaving_type.map(|x| x.code())),
            F::ReadmitPlan31d => c(self.readmit_plan_31d.map(|x| x.code())),
            F::IcuHours => o(&self.icu_hours),
            F::VentHours => o(&self.vent_hours),
            F::Diagnoses => self.diagnoses.join("|"),
            F::Procedures => self.procedures.join("|"),
            F::DiagnosisPoa => self
                .diagnosis_poa
                .iter()
                .map(|p| p.map(|x| x.code().to_string()).unwrap_or_default())
                .collect::<Vec<_>>()
                .join("|"),
            F::ProcedureDates => self
                .procedure_dates
                .iter()
                .map(|p| p.as_ref().map(format_datetime).unwrap_or_default())
                .collect::<Vec<_>>()
                .join("|"),
            F::TotalCost => o(&self.total_cost),
            F::SelfpayItems => o(&self.selfpay_items),
            F::FundPay => o(&self.fund_pay),
            F::SupplementaryPay => o(&self.supplementary_pay),
            F::AssistancePay => o(&self.assistance_pay),
            F::PersonalPay => o(&self.personal_pay),
            F::PaymentMethod => c(self.payment_method.map(|x| x.code())),
            fee => Field::FEES.iter().position(|f| *f == fee).and_then(|i| self.fees.get(i)).map(o).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_resolve_in_both_languages() {
        assert_eq!(Field::from_header("list_id"), Some(Field::ListId));
        assert_eq!(Field::from_header("\u{feff}id"), Some(Field::ListId));
        assert_eq!(Field::from_header("清单流水号"), Some(Field::ListId));
        assert_eq!(Field::from_header("出院科别"), Some(Field::Dept));
        assert_eq!(Field::from_header("西药费"), Some(Field::FeeWesternDrug));
        assert_eq!(Field::from_header("whatever"), None);
        // keys and labels are unique
        for (i, a) in Field::ALL.iter().enumerate() {
            for b in &Field::ALL[i + 1..] {
                assert_ne!(a.key(), b.key());
                assert_ne!(a.label_zh(), b.label_zh());
            }
        }
    }

    #[test]
    fn every_field_roundtrips_through_text() {
        let samples = [
            (Field::ListId, "L001"),
            (Field::Sex, "2"),
            (Field::BirthDate, "1980-02-29"),
            (Field::AdmitTime, "2025-03-01 08:30"),
            (Field::IcuHours, "120.50"),
            (Field::Diagnoses, "K35.800|E11.900"),
            (Field::DiagnosisPoa, "1||4"),
            (Field::ProcedureDates, "2025-03-02 10:00|"),
            (Field::FeeMaterial, "1234.56"),
            (Field::TotalCost, "0.00"),
            (Field::PaymentMethod, "4"),
        ];
        let mut l = SettlementList::default();
        for (f, s) in samples {
            l.set_field(f, s).unwrap();
            assert_eq!(l.field_text(f), s, "{:?}", f);
        }
        assert_eq!(l.fee(FeeKind::Material), Fen(123456));
    }

    #[test]
    fn errors_name_field_value_and_rule() {
        let mut l = SettlementList::default();
        let e = l.set_field(Field::AgeYears, "abc").unwrap_err();
        assert_eq!(e.rule, "integer");
        assert_eq!(e.message, "年龄(岁)(age_years)取值“abc”不是整数");
        let e = l.set_field(Field::FeeBed, "1.234").unwrap_err();
        assert_eq!(e.rule, "amount_decimals");
        let e = l.set_field(Field::AdmitTime, "2025-13-01").unwrap_err();
        assert_eq!(e.rule, "datetime");
        assert!(l.set_field(Field::AgeYears, "  ").is_ok());
        assert_eq!(l.age_years, None);
        l.set_field(Field::AgeYears, "3.0").unwrap();
        assert_eq!(l.age_years, Some(3));
    }

    #[test]
    fn dates_in_common_spellings() {
        let f = Field::AdmitTime;
        let want = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap().and_hms_opt(8, 30, 0).unwrap();
        assert_eq!(parse_datetime(f, "2025-03-01 08:30").unwrap(), want);
        assert_eq!(parse_datetime(f, "2025/03/01 08:30:00").unwrap(), want);
        assert_eq!(parse_datetime(f, "2025-03-01T08:30").unwrap(), want);
        assert_eq!(parse_date(f, "20250301").unwrap(), want.date());
    }
}
