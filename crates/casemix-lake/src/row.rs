//! The one row type of the case lake.

use serde::{Deserialize, Serialize};

/// One current (latest-version) case after QC, grouping, pricing and audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRow {
    pub region: String,        // 统筹区 code, partition key
    pub year: i32,             // discharge year, partition key
    pub month: u32,            // discharge month 1–12, partition key
    pub list_id: String,       // 结算清单号
    pub hospital_code: String, // 定点医药机构编号
    pub hospital_name: String,
    pub tier: String, // hospital tier/level label, e.g. "三级" (comparison group)
    pub department: String, // 出院科别 (dept name or code as submitted)
    pub sex: i64,     // GB/T 2261.1 code, 0 unknown
    pub age_years: i64,
    pub admit_date: String,     // YYYY-MM-DD
    pub discharge_date: String, // YYYY-MM-DD
    pub los_days: i64,
    pub leaving_type: i64, // 离院方式 code (5 = 死亡), 0 unknown
    pub death: bool,
    pub group_status: String, // "grouped" | "ambiguous" (QY 歧义病案) | "ungrouped" (无法入组/0000)
    pub mdc: String,
    pub adrg: String,
    pub drg: String, // DRG code (or DIP 病种 code under a DIP policy); "" when ungrouped
    pub drg_name: String,
    pub weight_units: i64, // relative weight RW (or DIP score ÷ points scale) × 10^4; 0 ungrouped
    pub points_units: i64, // final points × 10^4 after coefficients and outlier rules
    pub method: String,    // pricing method code (casemix_pricing::Method::code)
    pub outlier: String,   // outlier code (casemix_pricing::Outlier::code): normal/high/low…
    pub total_cost_fen: i64, // 医疗总费用
    pub selfpay_fen: i64,  // 全自费金额
    pub personal_pay_fen: i64, // 个人负担 (个人自付+自费, as on the list)
    pub fund_pay_fen: i64, // 统筹基金支付
    pub payment_fen: i64,  // DRG/DIP payment of the case at the current point value
    pub qc_errors: i64,
    pub qc_warnings: i64,
    pub flags: i64,           // audit flags on the case
    pub flag_rules: String,   // comma-separated audit rule keys
    pub flag_amount_fen: i64, // amount at stake in those flags
    pub low_risk: bool,       // case's group is a low-risk group (低风险组)
}
