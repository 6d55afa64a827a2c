//! Coded values of the settlement list. Each enum keeps out-of-domain values (`Invalid`) so that
//! nothing a hospital sent is lost: quality control reports them, the grouper sees the raw code.

use serde::{Deserialize, Serialize};

macro_rules! coded_enum {
    ($(#[$m:meta])* $name:ident { $($var:ident = $code:literal => $zh:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($var,)*
            /// A value outside the national code set, kept as sent.
            Invalid(i64),
        }
        impl $name {
            pub fn from_code(c: i64) -> Self {
                match c { $($code => $name::$var,)* other => $name::Invalid(other) }
            }
            pub fn code(self) -> i64 {
                match self { $($name::$var => $code,)* $name::Invalid(c) => c }
            }
            /// Chinese label of the code (代码含义).
            pub fn label_zh(self) -> &'static str {
                match self { $($name::$var => $zh,)* $name::Invalid(_) => "无效代码" }
            }
            pub fn is_valid(self) -> bool { !matches!(self, $name::Invalid(_)) }
        }
    };
}

coded_enum!(
    /// 性别 (GB/T 2261.1).
    Sex { Unknown = 0 => "未知的性别", Male = 1 => "男", Female = 2 => "女", Unspecified = 9 => "未说明的性别" }
);
coded_enum!(
    /// 离院方式.
    LeavingType {
        OrderDischarge = 1 => "医嘱离院",
        OrderTransfer = 2 => "医嘱转院",
        OrderCommunity = 3 => "医嘱转社区卫生服务机构/乡镇卫生院",
        NonOrder = 4 => "非医嘱离院",
        Death = 5 => "死亡",
        Other = 9 => "其他",
    }
);
coded_enum!(
    /// 险种类型.
    InsuranceType { Employee = 310 => "职工基本医疗保险", Resident = 390 => "城乡居民基本医疗保险" }
);
coded_enum!(
    /// 入院途径.
    AdmitRoute { Emergency = 1 => "急诊", Outpatient = 2 => "门诊", Transfer = 3 => "其他医疗机构转入", Other = 9 => "其他" }
);
coded_enum!(
    /// 出院31天内再住院计划.
    ReadmitPlan { No = 1 => "无", Yes = 2 => "有" }
);
coded_enum!(
    /// 入院病情 (present on admission) of one diagnosis.
    Poa { Yes = 1 => "有", Uncertain = 2 => "临床未确定", Unknown = 3 => "情况不明", No = 4 => "无" }
);
coded_enum!(
    /// 医保支付方式.
    PaymentMethod {
        FeeForService = 1 => "按项目",
        SingleDisease = 2 => "单病种",
        Dip = 3 => "按病种分值",
        Drg = 4 => "疾病诊断相关分组",
        PerBedDay = 5 => "按床日",
        Capitation = 6 => "按人头",
        Other = 9 => "其他",
    }
);
coded_enum!(
    /// 就诊机构类型 of an outpatient/pharmacy claim.
    ProviderKind { HospitalOutpatient = 1 => "医院门诊", Pharmacy = 2 => "定点药店" }
);

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn codes_roundtrip_and_keep_invalid() {
        assert_eq!(Sex::from_code(2), Sex::Female);
        assert_eq!(Sex::from_code(3), Sex::Invalid(3));
        assert_eq!(Sex::Invalid(3).code(), 3);
        assert_eq!(LeavingType::from_code(5).label_zh(), "死亡");
        assert!(!LeavingType::from_code(7).is_valid());
        assert_eq!(InsuranceType::from_code(390), InsuranceType::Resident);
    }
}
