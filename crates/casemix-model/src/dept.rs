//! 科别: the department codes of the settlement list (入院科别 / 出院科别 / 转科科别), which the
//! 医保结算清单填写规范 has filled in from 《医疗机构诊疗科目名录》 (卫医发〔1994〕第27号):
//! two digits for a 诊疗科目 (03 内科), four for a specialty under it (0403 骨科专业, written
//! without the dot of the catalogue's 04.03). The catalogue is data (`data/departments.csv`),
//! embedded at build time; codes outside it are shown as sent.

use std::collections::HashMap;
use std::sync::OnceLock;

const CSV: &str = include_str!("../data/departments.csv");

fn table() -> &'static HashMap<&'static str, &'static str> {
    static T: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    T.get_or_init(|| CSV.lines().skip(1).filter_map(|l| l.split_once(',')).map(|(c, n)| (c.trim(), n.trim())).collect())
}

/// The name of a department code (`"0403"` → `"骨科专业"`); a four-digit code missing from the
/// catalogue falls back to its two-digit 诊疗科目 (`"0499"` → `"外科"`). The catalogue's dotted
/// form (`"04.03"`) is accepted.
pub fn dept_name_zh(code: &str) -> Option<&'static str> {
    let c: String = code.trim().chars().filter(|ch| *ch != '.').collect();
    let t = table();
    t.get(c.as_str()).copied().or_else(|| (c.len() == 4).then(|| t.get(&c[..2]).copied()).flatten())
}

/// `"0403 骨科专业"`, or the code alone when it is not in the catalogue ("" stays "").
pub fn dept_label_zh(code: &str) -> String {
    match dept_name_zh(code) {
        Some(n) => format!("{} {n}", code.trim()),
        None => code.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_the_catalogue() {
        assert_eq!(dept_name_zh("0403"), Some("骨科专业"));
        assert_eq!(dept_name_zh("04.03"), Some("骨科专业"));
        assert_eq!(dept_name_zh("03"), Some("内科"));
        assert_eq!(dept_name_zh("0701"), Some("新生儿专业"));
        // a specialty the catalogue lacks: its 诊疗科目
        assert_eq!(dept_name_zh("0499"), Some("外科"));
        assert_eq!(dept_name_zh("99"), None);
        assert_eq!(dept_name_zh(""), None);
        assert_eq!(dept_label_zh("50"), "50 中医科");
        assert_eq!(dept_label_zh("X1"), "X1");
        // every row of the data file parses: 68 codes, none twice
        assert_eq!(table().len(), CSV.lines().count() - 1);
        assert_eq!(table().len(), 68);
    }
}
