//! Treatment modules (诊疗模块): the bureau's clinical rule table behind the 高套编码 rule
//! (regions.md, Wuxi: "each diagnosis has a module of required treatments — surgery, exams,
//! labs, drugs"). The table is this crate's own data, `data/treatment_modules.tsv`, with a
//! rationale per row; it maps ICD-10 code prefixes to item classes (fee category + charge-item
//! code prefix). Longest prefix wins; a one-letter prefix is the chapter fallback.

use casemix_model::{ChargeItem, FeeKind};

/// The compiled-in table.
pub const TREATMENT_MODULES_TSV: &str = include_str!("../data/treatment_modules.tsv");

/// One item class: a charge item of `category` whose code starts with `code_prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemClass {
    pub category: FeeKind,
    pub code_prefix: String,
}

impl ItemClass {
    pub fn matches(&self, c: &ChargeItem) -> bool {
        c.category == self.category && c.item_code.starts_with(&self.code_prefix)
    }
    /// `fee_lab:L-CULT`.
    pub fn text(&self) -> String {
        format!("{}:{}", self.category.key(), self.code_prefix)
    }
}

/// The module of one diagnosis prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    pub dx_prefix: String,
    /// Chinese name (e.g. `肺炎：抗感染+胸部影像`).
    pub name: String,
    pub classes: Vec<ItemClass>,
    /// Items that never count as this module's treatment (written `category:!prefix`, e.g.
    /// perioperative prophylactic antibiotics for an infection module).
    pub exclusions: Vec<ItemClass>,
    /// Where the rule comes from (guideline, chapter rationale).
    pub source: String,
}

impl Module {
    /// Whether `c` is one of the module's excluded items.
    pub fn excludes(&self, c: &ChargeItem) -> bool {
        self.exclusions.iter().any(|k| k.matches(c))
    }
}

/// The table, ordered by prefix length (longest first) for lookup.
#[derive(Debug, Clone, Default)]
pub struct TreatmentModules {
    modules: Vec<Module>,
}

impl TreatmentModules {
    /// The compiled-in table (`data/treatment_modules.tsv`).
    pub fn builtin() -> TreatmentModules {
        TreatmentModules::parse(TREATMENT_MODULES_TSV).expect("data/treatment_modules.tsv is valid")
    }

    /// Parses `dx_prefix<TAB>module<TAB>item_classes<TAB>source` lines (`#` comments). Errors are
    /// Chinese and name the line.
    pub fn parse(text: &str) -> Result<TreatmentModules, String> {
        let mut modules = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() != 4 {
                return Err(format!("诊疗模块表第 {} 行应有 4 列（dx_prefix、module、item_classes、source），实有 {} 列", n + 1, cols.len()));
            }
            let mut classes = Vec::new();
            let mut exclusions = Vec::new();
            for c in cols[2].split('|').map(str::trim).filter(|c| !c.is_empty()) {
                let (cat, prefix) = c.split_once(':').ok_or_else(|| format!("诊疗模块表第 {} 行项目类“{c}”应为 类别:编码前缀", n + 1))?;
                let category = FeeKind::from_text(cat).ok_or_else(|| format!("诊疗模块表第 {} 行“{cat}”不是医疗收费项目类别", n + 1))?;
                match prefix.trim().strip_prefix('!') {
                    Some(x) => exclusions.push(ItemClass { category, code_prefix: x.to_string() }),
                    None => classes.push(ItemClass { category, code_prefix: prefix.trim().to_string() }),
                }
            }
            if cols[0].trim().is_empty() || classes.is_empty() {
                return Err(format!("诊疗模块表第 {} 行缺少诊断前缀或项目类", n + 1));
            }
            modules.push(Module { dx_prefix: cols[0].trim().to_string(), name: cols[1].trim().to_string(), classes, exclusions, source: cols[3].trim().to_string() });
        }
        modules.sort_by(|a, b| b.dx_prefix.len().cmp(&a.dx_prefix.len()).then(a.dx_prefix.cmp(&b.dx_prefix)));
        Ok(TreatmentModules { modules })
    }

    /// The module of a diagnosis code (longest matching prefix), if any.
    pub fn module_of(&self, dx: &str) -> Option<&Module> {
        self.modules.iter().find(|m| dx.starts_with(&m.dx_prefix))
    }

    pub fn len(&self) -> usize {
        self.modules.len()
    }
    pub fn is_empty(&self) -> bool {
        self.modules.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use casemix_model::{Centi, Fen};

    #[test]
    fn builtin_table_parses_and_takes_the_longest_prefix() {
        let t = TreatmentModules::builtin();
        assert!(t.len() >= 40);
        assert_eq!(t.module_of("J18.900").unwrap().dx_prefix, "J18");
        assert_eq!(t.module_of("J06.900").unwrap().dx_prefix, "J");
        assert_eq!(t.module_of("A41.900").unwrap().classes[0].text(), "fee_lab:L-CULT");
        assert!(t.module_of("Z51.100").is_none());
        assert!(t.module_of("R50.900").is_none()); // symptoms: no module, cannot be judged
    }

    #[test]
    fn classes_match_by_category_and_code_prefix() {
        let c = |code: &str, k: FeeKind| ChargeItem { list_id: "L".into(), item_code: code.into(), item_name: String::new(), category: k, quantity: Centi(100), amount: Fen(1) };
        let cls = ItemClass { category: FeeKind::WesternDrug, code_prefix: "D-ANTIBIO".into() };
        assert!(cls.matches(&c("D-ANTIBIO-03", FeeKind::WesternDrug)));
        assert!(!cls.matches(&c("D-ANTIBIO-03", FeeKind::Lab)));
        assert!(!cls.matches(&c("D-ANTIBIO-03", FeeKind::Lab)));
        assert!(!cls.matches(&c("D-ANTIVIR-01", FeeKind::WesternDrug)));
        let t = TreatmentModules::builtin();
        let sepsis = t.module_of("A41.900").unwrap();
        assert!(sepsis.excludes(&c("D-ANTIBIO-PROPH", FeeKind::WesternDrug)));
        assert!(!sepsis.excludes(&c("D-ANTIBIO-03", FeeKind::WesternDrug)));
    }

    #[test]
    fn bad_rows_are_chinese_errors() {
        assert_eq!(TreatmentModules::parse("J18\t肺炎\tfee_drug:D-X\t指南\n").unwrap_err(), "诊疗模块表第 1 行“fee_drug”不是医疗收费项目类别");
        assert!(TreatmentModules::parse("# c\nJ18\t肺炎\n").unwrap_err().contains("第 2 行应有 4 列"));
    }
}
