//! `casemix explain`: group one case given on the command line (or as JSON) and print the
//! Chinese explanation of every decision.

use super::common::{load_grouper, DEFAULT_SCHEMES_DIR};
use casemix_model::{Field, SettlementList};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// 分组方案目录或方案编号 (scheme directory or id, e.g. chs_drg_11)
    #[arg(long)]
    pub scheme: String,
    /// 方案库目录 (where scheme ids are looked up)
    #[arg(long, default_value = DEFAULT_SCHEMES_DIR)]
    pub schemes_dir: PathBuf,
    /// 病例 JSON（键为结算清单英文字段名或中文名）(the case as a JSON object)
    #[arg(long)]
    pub json: Option<String>,
    /// 诊断编码，主诊断在前，以 | 分隔 (diagnoses, principal first, |-separated)
    #[arg(long)]
    pub dx: Option<String>,
    /// 手术操作编码，以 | 分隔 (procedures, |-separated)
    #[arg(long)]
    pub px: Option<String>,
    /// 性别 1 男 2 女
    #[arg(long)]
    pub sex: Option<String>,
    /// 年龄(岁)
    #[arg(long)]
    pub age: Option<String>,
    /// 年龄(天)
    #[arg(long)]
    pub age_days: Option<String>,
    /// 新生儿出生体重(克)
    #[arg(long)]
    pub birth_weight: Option<String>,
    /// 实际住院天数
    #[arg(long, default_value = "5")]
    pub los: String,
    /// 离院方式
    #[arg(long, default_value = "1")]
    pub leaving_type: String,
    /// 重症监护时长(小时)
    #[arg(long, default_value = "0")]
    pub icu_hours: String,
    /// 出院科别
    #[arg(long)]
    pub dept: Option<String>,
    /// 启用编码转换 (FORMAT.md §8 code translation)
    #[arg(long)]
    pub translate_codes: bool,
    /// 以 JSON 输出 (print the result and trace as JSON)
    #[arg(long)]
    pub output_json: bool,
}

/// Builds a settlement list from a JSON object whose keys are field keys or Chinese labels.
pub fn case_from_json(text: &str) -> Result<SettlementList, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("病例 JSON 无法解析：{e}"))?;
    let obj = v.as_object().ok_or("病例 JSON 必须是对象 (object)")?;
    let mut l = SettlementList::default();
    for (k, val) in obj {
        let Some(f) = Field::from_header(k) else { continue };
        let s = match val {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(a) => a.iter().map(|x| x.as_str().map(str::to_string).unwrap_or_else(|| x.to_string())).collect::<Vec<_>>().join("|"),
            other => other.to_string(),
        };
        l.set_field(f, &s).map_err(|e| e.message)?;
    }
    Ok(l)
}

pub fn run(a: Args) -> Result<(), String> {
    let mut g = load_grouper(&a.scheme, &a.schemes_dir)?;
    g.set_translate_codes(a.translate_codes);
    let case = match &a.json {
        Some(j) => case_from_json(j)?,
        None => {
            let mut l = SettlementList::default();
            let mut set = |f: Field, v: &Option<String>| -> Result<(), String> {
                match v {
                    Some(s) => l.set_field(f, s).map_err(|e| e.message),
                    None => Ok(()),
                }
            };
            set(Field::Diagnoses, &a.dx)?;
            set(Field::Procedures, &a.px)?;
            set(Field::Sex, &a.sex)?;
            set(Field::AgeYears, &a.age)?;
            set(Field::AgeDays, &a.age_days)?;
            set(Field::BirthWeightG, &a.birth_weight)?;
            set(Field::LosDays, &Some(a.los.clone()))?;
            set(Field::LeavingType, &Some(a.leaving_type.clone()))?;
            set(Field::IcuHours, &Some(a.icu_hours.clone()))?;
            set(Field::Dept, &a.dept)?;
            l
        }
    };
    let (r, trace) = g.explain(&case.group_input());
    if a.output_json {
        let out = serde_json::json!({
            "scheme": g.id(),
            "status": r.status, "mdc": r.mdc, "adrg": r.adrg, "drg": r.drg,
            "drg_name": r.drg_name, "message": r.message,
            "trace": trace.lines,
        });
        println!("{}", serde_json::to_string_pretty(&out).expect("json"));
    } else {
        println!("分组方案：{} {}", g.id(), g.title());
        println!("结果：{} {} {} {} {}", r.status, r.mdc, r.adrg, r.drg, r.drg_name);
        if !r.message.is_empty() {
            println!("原因：{}", r.message);
        }
        println!("分组过程：");
        print!("{}", trace.to_text());
    }
    Ok(())
}
