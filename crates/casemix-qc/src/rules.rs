//! The rule table: every quality-control rule as data (id, category, severity, field, source,
//! message template). `{v}` in a template is the offending value, `{d}` the detail the check adds.
//! Ids are stable: never renumber, only append.

use serde::Serialize;

/// 严重程度. `错误` blocks grouping and payment; `警告` is reported only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn label_zh(self) -> &'static str {
        match self {
            Severity::Error => "错误",
            Severity::Warning => "警告",
        }
    }
}

/// 规则类别 (15 categories).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Category {
    Required,
    Domain,
    Diagnosis,
    Procedure,
    Principal,
    Sex,
    Age,
    Newborn,
    Dates,
    Leaving,
    Icu,
    Fees,
    Payments,
    Duplicates,
    CodingRules,
}

impl Category {
    pub const ALL: [Category; 15] = [
        Category::Required,
        Category::Domain,
        Category::Diagnosis,
        Category::Procedure,
        Category::Principal,
        Category::Sex,
        Category::Age,
        Category::Newborn,
        Category::Dates,
        Category::Leaving,
        Category::Icu,
        Category::Fees,
        Category::Payments,
        Category::Duplicates,
        Category::CodingRules,
    ];
    pub fn label_zh(self) -> &'static str {
        match self {
            Category::Required => "必填项完整性",
            Category::Domain => "值域与格式",
            Category::Diagnosis => "诊断编码有效性",
            Category::Procedure => "手术操作编码有效性",
            Category::Principal => "主要诊断选择",
            Category::Sex => "性别冲突",
            Category::Age => "年龄冲突",
            Category::Newborn => "新生儿信息",
            Category::Dates => "日期与住院天数",
            Category::Leaving => "离院方式",
            Category::Icu => "重症监护与呼吸机",
            Category::Fees => "费用逻辑",
            Category::Payments => "支付逻辑",
            Category::Duplicates => "重复与重叠",
            Category::CodingRules => "编码规则",
        }
    }
}

/// One rule of the table.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RuleDef {
    pub id: &'static str,
    pub category: Category,
    pub severity: Severity,
    /// Field key(s) the rule reads; the first is reported in `findings.csv`.
    pub field: &'static str,
    /// Where the rule comes from (national filling rules, ICD rules, arithmetic …).
    pub source: &'static str,
    /// Chinese message template; `{v}` = value, `{d}` = detail.
    pub message: &'static str,
}

impl RuleDef {
    /// The Chinese message with value and detail filled in.
    pub fn render(&self, value: &str, detail: &str) -> String {
        self.message.replace("{v}", value).replace("{d}", detail)
    }
}

const FILL: &str = "《医疗保障基金结算清单填写规范》(2020) / settlement-list.md";
const ICD10: &str = "ICD-10 医保版 2.0 编码规则";
const ICD9: &str = "ICD-9-CM-3 医保版 2.0 编码规则";
const ARITH: &str = "算术校验 (arithmetic), settlement-list.md";
const DICT: &str = "分组方案疾病诊断/手术操作字典及版本映射 (scheme dictionaries)";
const PLAUS: &str = "合理性校验 (plausibility), 阈值见 QcConfig";

macro_rules! rules {
    ($($name:ident = $id:literal, $cat:ident, $sev:ident, $field:literal, $src:expr, $msg:literal;)*) => {
        /// A rule, by name; `Rule::X as usize` indexes [`RULES`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u16)]
        pub enum Rule { $($name,)* }
        /// The rule table, in [`Rule`] order.
        pub static RULES: &[RuleDef] = &[$(RuleDef {
            id: $id, category: Category::$cat, severity: Severity::$sev, field: $field, source: $src, message: $msg,
        },)*];
        impl Rule {
            pub const ALL: &'static [Rule] = &[$(Rule::$name,)*];
        }
    };
}

impl Rule {
    pub fn def(self) -> &'static RuleDef {
        &RULES[self as usize]
    }
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|r| r.def().id == id)
    }
}

rules! {
    // ---- 必填项完整性 (completeness) ----
    ReqListId = "REQ-01", Required, Error, "list_id", FILL, "清单流水号(list_id)为空";
    ReqHospitalCode = "REQ-02", Required, Error, "hospital_code", FILL, "定点医药机构编号(hospital_code)为空";
    ReqHospitalName = "REQ-03", Required, Warning, "hospital_name", FILL, "定点医药机构名称(hospital_name)为空";
    ReqInsuredId = "REQ-04", Required, Error, "insured_id", FILL, "医保编号(insured_id)为空";
    ReqRecordNo = "REQ-05", Required, Warning, "record_no", FILL, "病案号(record_no)为空";
    ReqInsuranceType = "REQ-06", Required, Error, "insurance_type", FILL, "险种类型(insurance_type)为空";
    ReqSex = "REQ-07", Required, Error, "sex", FILL, "性别(sex)为空";
    ReqBirthDate = "REQ-08", Required, Warning, "birth_date", FILL, "出生日期(birth_date)为空";
    ReqAge = "REQ-09", Required, Error, "age_years", FILL, "年龄(岁)(age_years)与年龄(天)(age_days)均为空";
    ReqAgeDays = "REQ-10", Required, Error, "age_days", FILL, "年龄(岁)为0时年龄(天)(age_days)必填，实际为空";
    ReqAdmitTime = "REQ-11", Required, Error, "admit_time", FILL, "入院时间(admit_time)为空";
    ReqDischargeTime = "REQ-12", Required, Error, "discharge_time", FILL, "出院时间(discharge_time)为空";
    ReqLos = "REQ-13", Required, Error, "los_days", FILL, "实际住院天数(los_days)为空";
    ReqAdmitRoute = "REQ-14", Required, Warning, "admit_route", FILL, "入院途径(admit_route)为空";
    ReqAdmitDept = "REQ-15", Required, Warning, "admit_dept", FILL, "入院科别(admit_dept)为空";
    ReqDept = "REQ-16", Required, Error, "dept", FILL, "出院科别(dept)为空";
    ReqLeavingType = "REQ-17", Required, Error, "leaving_type", FILL, "离院方式(leaving_type)为空";
    ReqReadmitPlan = "REQ-18", Required, Warning, "readmit_plan_31d", FILL, "出院31天内再住院计划(readmit_plan_31d)为空";
    ReqDiagnoses = "REQ-19", Required, Error, "diagnoses", FILL, "出院诊断编码(diagnoses)为空，缺少主要诊断";
    ReqPrincipalPoa = "REQ-20", Required, Warning, "diagnosis_poa", FILL, "主要诊断“{v}”的入院病情(diagnosis_poa)为空";
    ReqProcedureDate = "REQ-21", Required, Warning, "procedure_dates", FILL, "手术及操作“{v}”的手术及操作日期(procedure_dates)为空";
    ReqTotalCost = "REQ-22", Required, Error, "total_cost", FILL, "金额合计(total_cost)为空";
    ReqFees = "REQ-23", Required, Error, "fee_bed", FILL, "14项医疗收费项目类别(fee_*)全部为空";
    ReqFundPay = "REQ-24", Required, Warning, "fund_pay", FILL, "医保统筹基金支付(fund_pay)为空";
    ReqPersonalPay = "REQ-25", Required, Warning, "personal_pay", FILL, "个人负担(personal_pay)为空";
    ReqPaymentMethod = "REQ-26", Required, Warning, "payment_method", FILL, "医保支付方式(payment_method)为空";
    // ---- 值域与格式 (value domains) ----
    DomInsuranceType = "DOM-01", Domain, Error, "insurance_type", FILL, "险种类型(insurance_type)取值“{v}”不在值域(310 职工、390 居民)内";
    DomSex = "DOM-02", Domain, Error, "sex", FILL, "性别(sex)取值“{v}”无效（仅 1 男、2 女可分组；0 未知、9 未说明不可）";
    DomAdmitRoute = "DOM-03", Domain, Warning, "admit_route", FILL, "入院途径(admit_route)取值“{v}”不在值域(1、2、3、9)内";
    DomLeavingType = "DOM-04", Domain, Error, "leaving_type", FILL, "离院方式(leaving_type)取值“{v}”不在值域(1、2、3、4、5、9)内";
    DomReadmitPlan = "DOM-05", Domain, Warning, "readmit_plan_31d", FILL, "出院31天内再住院计划(readmit_plan_31d)取值“{v}”不在值域(1 无、2 有)内";
    DomPaymentMethod = "DOM-06", Domain, Warning, "payment_method", FILL, "医保支付方式(payment_method)取值“{v}”不在值域(1–6、9)内";
    DomPoa = "DOM-07", Domain, Warning, "diagnosis_poa", FILL, "入院病情(diagnosis_poa)取值“{v}”不在值域(1 有、2 临床未确定、3 情况不明、4 无)内";
    DomPoaCount = "DOM-08", Domain, Warning, "diagnosis_poa", FILL, "入院病情(diagnosis_poa)个数{v}多于诊断个数{d}";
    DomProcDateCount = "DOM-09", Domain, Warning, "procedure_dates", FILL, "手术及操作日期(procedure_dates)个数{v}多于手术操作个数{d}";
    DomAgeYears = "DOM-10", Domain, Error, "age_years", FILL, "年龄(岁)(age_years)取值“{v}”超出 0–{d}";
    DomAgeDays = "DOM-11", Domain, Error, "age_days", FILL, "年龄(天)(age_days)取值“{v}”超出 0–365";
    DomBirthWeight = "DOM-12", Domain, Error, "birth_weight_g", FILL, "新生儿出生体重(克)(birth_weight_g)取值“{v}”超出 {d}";
    DomAdmitWeight = "DOM-13", Domain, Error, "admit_weight_g", FILL, "新生儿入院体重(克)(admit_weight_g)取值“{v}”超出 {d}";
    DomLosNegative = "DOM-14", Domain, Error, "los_days", FILL, "实际住院天数(los_days)取值“{v}”为负数";
    DomLosZero = "DOM-15", Domain, Error, "los_days", FILL, "实际住院天数(los_days)取值“{v}”为0（当日出入院计1天）";
    DomIcuNegative = "DOM-16", Domain, Error, "icu_hours", FILL, "重症监护时长(icu_hours)取值“{v}”为负数";
    DomVentNegative = "DOM-17", Domain, Error, "vent_hours", FILL, "呼吸机使用时长(vent_hours)取值“{v}”为负数";
    DomAgeOld = "DOM-18", Domain, Warning, "age_years", PLAUS, "年龄(岁)(age_years)取值“{v}”超过{d}岁，请核实";
    DomListIdFormat = "DOM-19", Domain, Warning, "list_id", FILL, "清单流水号(list_id)“{v}”含空白或控制字符，或长度超过64";
    // ---- 诊断编码有效性 (diagnosis codes against the scheme dictionary) ----
    DxPrincipalFormat = "DX-01", Diagnosis, Error, "diagnoses", ICD10, "主要诊断编码“{v}”格式错误（应为字母+两位数字开头的 ICD-10 编码）";
    DxSecondaryFormat = "DX-02", Diagnosis, Error, "diagnoses", ICD10, "其他诊断编码“{v}”格式错误（应为字母+两位数字开头的 ICD-10 编码）";
    DxPrincipalUnknown = "DX-03", Diagnosis, Error, "diagnoses", DICT, "主要诊断编码“{v}”不在医保版疾病诊断字典中";
    DxPrincipalClinical = "DX-04", Diagnosis, Warning, "diagnoses", DICT, "主要诊断编码“{v}”为临床版编码，应使用医保版编码“{d}”";
    DxSecondaryUnknown = "DX-05", Diagnosis, Error, "diagnoses", DICT, "其他诊断编码“{v}”不在医保版疾病诊断字典中";
    DxSecondaryClinical = "DX-06", Diagnosis, Warning, "diagnoses", DICT, "其他诊断编码“{v}”为临床版编码，应使用医保版编码“{d}”";
    DxSameAsPrincipal = "DX-07", Diagnosis, Warning, "diagnoses", ICD10, "其他诊断“{v}”与主要诊断重复";
    DxDuplicate = "DX-08", Diagnosis, Warning, "diagnoses", ICD10, "其他诊断“{v}”重复填写";
    DxEmptyItem = "DX-09", Diagnosis, Warning, "diagnoses", FILL, "出院诊断编码(diagnoses)第{v}项为空";
    // ---- 手术操作编码有效性 ----
    PxPrincipalFormat = "PX-01", Procedure, Error, "procedures", ICD9, "主要手术操作编码“{v}”格式错误（应为两位数字开头的 ICD-9-CM-3 编码）";
    PxSecondaryFormat = "PX-02", Procedure, Error, "procedures", ICD9, "其他手术操作编码“{v}”格式错误（应为两位数字开头的 ICD-9-CM-3 编码）";
    PxPrincipalUnknown = "PX-03", Procedure, Error, "procedures", DICT, "主要手术操作编码“{v}”不在医保版手术操作字典中";
    PxPrincipalClinical = "PX-04", Procedure, Warning, "procedures", DICT, "主要手术操作编码“{v}”为临床版编码，应使用医保版编码“{d}”";
    PxSecondaryUnknown = "PX-05", Procedure, Error, "procedures", DICT, "其他手术操作编码“{v}”不在医保版手术操作字典中";
    PxSecondaryClinical = "PX-06", Procedure, Warning, "procedures", DICT, "其他手术操作编码“{v}”为临床版编码，应使用医保版编码“{d}”";
    PxDuplicate = "PX-07", Procedure, Warning, "procedures", ICD9, "手术操作“{v}”在同一日期重复填写";
    PxEmptyItem = "PX-08", Procedure, Warning, "procedures", FILL, "手术及操作编码(procedures)第{v}项为空";
    // ---- 主要诊断选择 (principal-diagnosis restrictions) ----
    PdxExternalCause = "PDX-01", Principal, Error, "diagnoses", ICD10, "主要诊断“{v}”为外因编码(V01–Y98)，只能作附加编码";
    PdxAsterisk = "PDX-02", Principal, Error, "diagnoses", ICD10, "主要诊断“{v}”为星号编码(临床表现)，不能单独作主要诊断";
    PdxOutcomeOfDelivery = "PDX-03", Principal, Error, "diagnoses", ICD10, "主要诊断“{v}”为分娩结局编码(Z37)，只能作附加编码";
    PdxFamilyHistory = "PDX-04", Principal, Error, "diagnoses", ICD10, "主要诊断“{v}”为家族史编码(Z80–Z84)，不能作主要诊断";
    PdxPersonalHistory = "PDX-05", Principal, Warning, "diagnoses", ICD10, "主要诊断“{v}”为个人史编码(Z85–Z87)，一般不作住院主要诊断";
    PdxStatus = "PDX-06", Principal, Warning, "diagnoses", ICD10, "主要诊断“{v}”为状态编码(Z88–Z99)，一般不作住院主要诊断";
    PdxPsychosocial = "PDX-07", Principal, Warning, "diagnoses", ICD10, "主要诊断“{v}”为社会心理环境因素编码(Z55–Z65)，不宜作住院主要诊断";
    PdxPregnantIncidental = "PDX-08", Principal, Warning, "diagnoses", ICD10, "主要诊断“{v}”为偶然妊娠状态(Z33)，不作主要诊断";
    PdxSymptomWithDefinite = "PDX-09", Principal, Warning, "diagnoses", ICD10, "主要诊断“{v}”为症状体征编码(R00–R99)，而其他诊断中已有明确疾病“{d}”";
    PdxIllDefinedDeath = "PDX-10", Principal, Warning, "diagnoses", ICD10, "主要诊断“{v}”为死亡原因不明编码(R95–R99)，应查明并编码死因";
    PdxSequela = "PDX-11", Principal, Warning, "diagnoses", ICD10, "主要诊断“{v}”为后遗症编码，应以后遗症的具体表现作主要诊断";
    PdxChemoWithoutNeoplasm = "PDX-12", Principal, Warning, "diagnoses", ICD10, "主要诊断“{v}”为放化疗疗程(Z51.0–Z51.2)，但其他诊断中没有肿瘤编码(C00–D48)";
    PdxNotPresentOnAdmission = "PDX-13", Principal, Warning, "diagnosis_poa", FILL, "主要诊断“{v}”的入院病情为“4 无”，主要诊断一般应为入院时已存在的疾病";
    // ---- 性别冲突 ----
    SexMaleObstetric = "SEX-01", Sex, Error, "sex", ICD10, "性别(sex)为“{v}”(男)，与妊娠分娩产褥期诊断“{d}”冲突";
    SexMalePregnancyZ = "SEX-02", Sex, Error, "sex", ICD10, "性别(sex)为“{v}”(男)，与妊娠/分娩结局/产后编码“{d}”冲突";
    SexMaleFemaleGenital = "SEX-03", Sex, Error, "sex", ICD10, "性别(sex)为“{v}”(男)，与女性生殖器官疾病诊断“{d}”冲突";
    SexMaleFemaleNeoplasm = "SEX-04", Sex, Error, "sex", ICD10, "性别(sex)为“{v}”(男)，与女性生殖器官肿瘤诊断“{d}”冲突";
    SexMaleFemaleOther = "SEX-05", Sex, Error, "sex", ICD10, "性别(sex)为“{v}”(男)，与女性专有诊断“{d}”冲突";
    SexMaleGynProcedure = "SEX-06", Sex, Error, "sex", ICD9, "性别(sex)为“{v}”(男)，与女性生殖器官手术“{d}”冲突";
    SexMaleObstetricProcedure = "SEX-07", Sex, Error, "sex", ICD9, "性别(sex)为“{v}”(男)，与产科操作“{d}”冲突";
    SexFemaleMaleGenital = "SEX-08", Sex, Error, "sex", ICD10, "性别(sex)为“{v}”(女)，与男性生殖器官疾病诊断“{d}”冲突";
    SexFemaleMaleNeoplasm = "SEX-09", Sex, Error, "sex", ICD10, "性别(sex)为“{v}”(女)，与男性生殖器官肿瘤诊断“{d}”冲突";
    SexFemaleMaleOther = "SEX-10", Sex, Error, "sex", ICD10, "性别(sex)为“{v}”(女)，与男性专有诊断“{d}”冲突";
    SexFemaleMaleProcedure = "SEX-11", Sex, Error, "sex", ICD9, "性别(sex)为“{v}”(女)，与男性生殖器官手术“{d}”冲突";
    // ---- 年龄冲突 ----
    AgePerinatal = "AGE-01", Age, Error, "age_years", ICD10, "年龄(岁)(age_years)为“{v}”，围生期编码“{d}”只用于1岁以内";
    AgePerinatalPrincipalLate = "AGE-02", Age, Warning, "age_days", ICD10, "年龄(天)(age_days)为“{v}”已超过新生儿期(28天)，主要诊断仍为围生期编码“{d}”";
    AgeObstetric = "AGE-03", Age, Error, "age_years", ICD10, "年龄(岁)(age_years)为“{v}”，超出育龄范围，与产科诊断“{d}”冲突";
    AgeObstetricProcedure = "AGE-04", Age, Error, "age_years", ICD9, "年龄(岁)(age_years)为“{v}”，超出育龄范围，与产科操作“{d}”冲突";
    AgePregnancyZ = "AGE-05", Age, Error, "age_years", ICD10, "年龄(岁)(age_years)为“{v}”，超出育龄范围，与妊娠/分娩编码“{d}”冲突";
    AgeLiveborn = "AGE-06", Age, Error, "age_days", ICD10, "年龄为“{v}”，活产婴儿编码“{d}”只用于新生儿(≤28天)";
    AgeVsBirthDate = "AGE-07", Age, Warning, "age_years", FILL, "年龄(岁)(age_years)为“{v}”，按出生日期与入院时间计算应为{d}岁";
    AgeDaysVsBirthDate = "AGE-08", Age, Warning, "age_days", FILL, "年龄(天)(age_days)为“{v}”，按出生日期与入院时间计算应为{d}天";
    AgeSenility = "AGE-09", Age, Warning, "age_years", PLAUS, "年龄(岁)(age_years)为“{v}”，与衰老编码“{d}”不符";
    AgeMenopause = "AGE-10", Age, Warning, "age_years", PLAUS, "年龄(岁)(age_years)为“{v}”，与绝经期状态编码“{d}”不符";
    AgeProstateHyperplasia = "AGE-11", Age, Warning, "age_years", PLAUS, "年龄(岁)(age_years)为“{v}”，与前列腺增生编码“{d}”不符";
    AgeDaysWithYears = "AGE-12", Age, Warning, "age_days", FILL, "年龄(岁)为{d}（≥1岁）时年龄(天)(age_days)不应为“{v}”（年龄(天)仅用于不满1周岁）";
    // ---- 新生儿 ----
    NbBirthWeightMissing = "NB-01", Newborn, Error, "birth_weight_g", FILL, "新生儿(年龄{v}天)的出生体重(birth_weight_g)为空";
    NbAdmitWeightMissing = "NB-02", Newborn, Warning, "admit_weight_g", FILL, "新生儿(年龄{v}天)的入院体重(admit_weight_g)为空";
    NbBirthWeightNotNewborn = "NB-03", Newborn, Warning, "birth_weight_g", FILL, "年龄(岁)为{d}，非新生儿不应填写出生体重(birth_weight_g)“{v}”";
    NbBirthWeightImplausible = "NB-04", Newborn, Warning, "birth_weight_g", PLAUS, "新生儿出生体重(birth_weight_g)“{v}”克超出常见范围 {d}，请核实";
    NbExtremeLbwWeight = "NB-05", Newborn, Error, "birth_weight_g", ICD10, "出生体重(birth_weight_g)“{v}”克与极低出生体重编码“{d}”(<1000克)不符";
    NbOtherLbwWeight = "NB-06", Newborn, Error, "birth_weight_g", ICD10, "出生体重(birth_weight_g)“{v}”克与低出生体重编码“{d}”(1000–2499克)不符";
    NbLargeBabyWeight = "NB-07", Newborn, Error, "birth_weight_g", ICD10, "出生体重(birth_weight_g)“{v}”克与特大婴儿编码“{d}”(≥4500克)不符";
    NbLbwUncoded = "NB-08", Newborn, Warning, "birth_weight_g", ICD10, "出生体重(birth_weight_g)“{v}”克低于2500克，但诊断中无低出生体重编码(P05/P07)";
    NbAdmitWeightRatio = "NB-09", Newborn, Warning, "admit_weight_g", PLAUS, "新生儿入院体重(admit_weight_g)“{v}”克与出生体重{d}克相差过大";
    // ---- 日期与住院天数 ----
    DateDischargeBeforeAdmit = "DATE-01", Dates, Error, "discharge_time", ARITH, "出院时间(discharge_time)“{v}”早于入院时间“{d}”";
    DateLosMismatch = "DATE-02", Dates, Error, "los_days", ARITH, "实际住院天数(los_days)为“{v}”，按出入院日期应为{d}天（当日出入院计1天）";
    DateProcedureBeforeAdmit = "DATE-03", Dates, Error, "procedure_dates", ARITH, "手术及操作日期(procedure_dates)“{v}”早于入院日期“{d}”";
    DateProcedureAfterDischarge = "DATE-04", Dates, Error, "procedure_dates", ARITH, "手术及操作日期(procedure_dates)“{v}”晚于出院日期“{d}”";
    DateAdmitBeforeBirth = "DATE-05", Dates, Error, "birth_date", ARITH, "出生日期(birth_date)“{v}”晚于入院时间“{d}”";
    DateSameInstant = "DATE-06", Dates, Warning, "discharge_time", PLAUS, "出院时间(discharge_time)“{v}”与入院时间完全相同";
    DateLosImplausible = "DATE-07", Dates, Warning, "los_days", PLAUS, "实际住院天数(los_days)“{v}”超过{d}天，请核实";
    DateAdmitTooEarly = "DATE-08", Dates, Warning, "admit_time", PLAUS, "入院时间(admit_time)“{v}”早于{d}年，请核实";
    // ---- 离院方式 ----
    LeaveDeathCodeNotDead = "LEAVE-01", Leaving, Error, "leaving_type", ICD10, "离院方式(leaving_type)为“{v}”(非死亡)，但诊断中有死亡编码“{d}”";
    LeaveDeadWithPlan = "LEAVE-02", Leaving, Error, "readmit_plan_31d", FILL, "离院方式为死亡，出院31天内再住院计划(readmit_plan_31d)却为“{v}”(有)";
    LeaveDeadExamination = "LEAVE-03", Leaving, Warning, "leaving_type", PLAUS, "离院方式(leaving_type)为“{v}”(死亡)，主要诊断却为健康检查类编码“{d}”";
    LeaveOther = "LEAVE-04", Leaving, Warning, "leaving_type", FILL, "离院方式(leaving_type)为“{v}”(其他)，请核实具体离院方式";
    // ---- 重症监护与呼吸机 ----
    IcuBeyondStay = "ICU-01", Icu, Error, "icu_hours", ARITH, "重症监护时长(icu_hours)“{v}”小时超过住院总时长{d}小时";
    VentBeyondStay = "ICU-02", Icu, Error, "vent_hours", ARITH, "呼吸机使用时长(vent_hours)“{v}”小时超过住院总时长{d}小时";
    VentWithoutProcedure = "ICU-03", Icu, Warning, "vent_hours", ICD9, "呼吸机使用时长(vent_hours)为“{v}”小时，但手术操作中无有创机械通气编码(96.70–96.72)";
    VentProcedureWithoutHours = "ICU-04", Icu, Warning, "vent_hours", ICD9, "手术操作中有机械通气编码“{d}”，呼吸机使用时长(vent_hours)却为“{v}”";
    VentLongCodeShortHours = "ICU-05", Icu, Error, "vent_hours", ICD9, "机械通气编码“{d}”(≥96小时)与呼吸机使用时长(vent_hours)“{v}”小时不符";
    VentShortCodeLongHours = "ICU-06", Icu, Error, "vent_hours", ICD9, "机械通气编码“{d}”(<96小时)与呼吸机使用时长(vent_hours)“{v}”小时不符";
    // ---- 费用逻辑 ----
    FeeSumMismatch = "FEE-01", Fees, Error, "total_cost", ARITH, "金额合计(total_cost)“{v}”不等于各项费用之和{d}";
    FeeBedNegative = "FEE-02", Fees, Error, "fee_bed", ARITH, "床位费(fee_bed)“{v}”为负数";
    FeeConsultNegative = "FEE-03", Fees, Error, "fee_consult", ARITH, "诊察费(fee_consult)“{v}”为负数";
    FeeExamNegative = "FEE-04", Fees, Error, "fee_exam", ARITH, "检查费(fee_exam)“{v}”为负数";
    FeeLabNegative = "FEE-05", Fees, Error, "fee_lab", ARITH, "化验费(fee_lab)“{v}”为负数";
    FeeTreatmentNegative = "FEE-06", Fees, Error, "fee_treatment", ARITH, "治疗费(fee_treatment)“{v}”为负数";
    FeeSurgeryNegative = "FEE-07", Fees, Error, "fee_surgery", ARITH, "手术费(fee_surgery)“{v}”为负数";
    FeeNursingNegative = "FEE-08", Fees, Error, "fee_nursing", ARITH, "护理费(fee_nursing)“{v}”为负数";
    FeeMaterialNegative = "FEE-09", Fees, Error, "fee_material", ARITH, "卫生材料费(fee_material)“{v}”为负数";
    FeeWesternDrugNegative = "FEE-10", Fees, Error, "fee_western_drug", ARITH, "西药费(fee_western_drug)“{v}”为负数";
    FeeHerbalNegative = "FEE-11", Fees, Error, "fee_herbal", ARITH, "中药饮片费(fee_herbal)“{v}”为负数";
    FeePatentTcmNegative = "FEE-12", Fees, Error, "fee_patent_tcm", ARITH, "中成药费(fee_patent_tcm)“{v}”为负数";
    FeeGeneralNegative = "FEE-13", Fees, Error, "fee_general", ARITH, "一般诊疗费(fee_general)“{v}”为负数";
    FeeRegistrationNegative = "FEE-14", Fees, Error, "fee_registration", ARITH, "挂号费(fee_registration)“{v}”为负数";
    FeeOtherNegative = "FEE-15", Fees, Error, "fee_other", ARITH, "其他费(fee_other)“{v}”为负数";
    FeeTotalNegative = "FEE-16", Fees, Error, "total_cost", ARITH, "金额合计(total_cost)“{v}”为负数";
    FeeTotalZero = "FEE-17", Fees, Error, "total_cost", ARITH, "金额合计(total_cost)为0";
    FeeSurgeryWithoutProcedure = "FEE-18", Fees, Warning, "fee_surgery", PLAUS, "手术费(fee_surgery)为“{v}”，但无手术及操作编码";
    FeeBedZero = "FEE-19", Fees, Warning, "fee_bed", PLAUS, "住院{d}天，床位费(fee_bed)为“{v}”";
    FeeNursingZero = "FEE-20", Fees, Warning, "fee_nursing", PLAUS, "住院{d}天，护理费(fee_nursing)为“{v}”";
    FeeDailyImplausible = "FEE-21", Fees, Warning, "total_cost", PLAUS, "金额合计(total_cost)“{v}”，日均费用超过{d}元，请核实";
    FeeTotalImplausible = "FEE-22", Fees, Warning, "total_cost", PLAUS, "金额合计(total_cost)“{v}”超过{d}元，请核实";
    FeeSelfpayOverTotal = "FEE-23", Fees, Error, "selfpay_items", ARITH, "全自费金额(selfpay_items)“{v}”大于金额合计{d}";
    // ---- 支付逻辑 ----
    PaySumMismatch = "PAY-01", Payments, Error, "total_cost", ARITH, "金额合计(total_cost)“{v}”不等于统筹+补充+救助+个人负担之和{d}";
    PayFundNegative = "PAY-02", Payments, Error, "fund_pay", ARITH, "医保统筹基金支付(fund_pay)“{v}”为负数";
    PaySupplementaryNegative = "PAY-03", Payments, Error, "supplementary_pay", ARITH, "补充医疗保险支付(supplementary_pay)“{v}”为负数";
    PayAssistanceNegative = "PAY-04", Payments, Error, "assistance_pay", ARITH, "医疗救助支付(assistance_pay)“{v}”为负数";
    PayPersonalNegative = "PAY-05", Payments, Error, "personal_pay", ARITH, "个人负担(personal_pay)“{v}”为负数";
    PaySelfpayNegative = "PAY-06", Payments, Error, "selfpay_items", ARITH, "全自费金额(selfpay_items)“{v}”为负数";
    PayFundOverTotal = "PAY-07", Payments, Error, "fund_pay", ARITH, "医保统筹基金支付(fund_pay)“{v}”大于金额合计{d}";
    PaySelfpayOverPersonal = "PAY-08", Payments, Error, "selfpay_items", ARITH, "全自费金额(selfpay_items)“{v}”大于个人负担{d}（全自费属于个人负担）";
    // ---- 重复与重叠 (batch rules) ----
    DupListId = "DUP-01", Duplicates, Warning, "list_id", FILL, "清单流水号(list_id)“{v}”重复提交，以最后一条为准（被第{d}条记录替换）";
    DupOverlappingStay = "DUP-02", Duplicates, Error, "admit_time", ARITH, "同一参保人(insured_id)“{v}”的住院时间与清单“{d}”重叠";
    DupIdenticalStay = "DUP-03", Duplicates, Error, "list_id", ARITH, "清单“{v}”与清单“{d}”为同一参保人、同一机构、相同出入院时间的重复住院";
    DupRecordNo = "DUP-04", Duplicates, Warning, "record_no", FILL, "同一机构病案号(record_no)“{v}”对应不同参保人(清单“{d}”)";
    // ---- 编码规则 (ICD combination rules) ----
    IcdInjuryWithoutCause = "ICD-01", CodingRules, Warning, "diagnoses", ICD10, "主要诊断“{v}”为损伤中毒编码，但未附加外因编码(V01–Y98)";
    IcdDeliveryWithoutOutcome = "ICD-02", CodingRules, Warning, "diagnoses", ICD10, "有分娩诊断“{v}”，但未附加分娩结局编码(Z37)";
    IcdOutcomeWithoutObstetric = "ICD-03", CodingRules, Warning, "diagnoses", ICD10, "有分娩结局编码“{v}”，但无妊娠分娩产褥期诊断(O00–O99)";
    IcdDiabetesBothTypes = "ICD-04", CodingRules, Warning, "diagnoses", ICD10, "同时编码1型糖尿病“{v}”与2型糖尿病“{d}”";
    IcdHivWithAsymptomatic = "ICD-05", CodingRules, Error, "diagnoses", ICD10, "HIV病编码“{v}”与无症状HIV感染状态“{d}”(Z21)互斥";
    IcdUnspecifiedWithSpecific = "ICD-06", CodingRules, Warning, "diagnoses", ICD10, "同一类目同时编码未特指“{v}”与特指“{d}”";
    IcdCaesareanWithSpontaneous = "ICD-07", CodingRules, Error, "procedures", ICD9, "剖宫产手术“{v}”与顺产诊断“{d}”(O80)矛盾";
    IcdSpontaneousAndCaesarean = "ICD-08", CodingRules, Error, "diagnoses", ICD10, "顺产诊断“{v}”(O80)与剖宫产分娩诊断“{d}”(O82)矛盾";
    IcdObstetricProcedureWithoutDx = "ICD-09", CodingRules, Warning, "procedures", ICD9, "有产科操作“{v}”，但无妊娠分娩产褥期诊断(O00–O99)";
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn ids_are_unique_and_table_is_big_enough() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n);
        assert!(n >= 150, "only {n} rules");
        assert_eq!(Rule::ALL.len(), n);
        assert_eq!(Rule::from_id("SEX-01"), Some(Rule::SexMaleObstetric));
    }
}
