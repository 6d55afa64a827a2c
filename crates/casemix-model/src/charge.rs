//! Itemised charges (费用明细, part 4 of the national settlement list, 医疗收费信息): one row per
//! charge item of a stay, linked to its settlement list by `list_id`. The intelligent audit reads
//! them to find the treatment behind each coded diagnosis (treatment modules, `regions.md` Wuxi).

use crate::money::{Centi, Fen};
use crate::settlement::FeeKind;
use serde::{Deserialize, Serialize};

/// One itemised charge of an inpatient stay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeItem {
    /// The stay's settlement list (清单流水号).
    pub list_id: String,
    /// Charge item code (收费项目编码).
    pub item_code: String,
    /// Charge item name (收费项目名称).
    pub item_name: String,
    /// Fee category (医疗收费项目类别, spec-notes.md §3.2).
    pub category: FeeKind,
    /// Quantity as an exact decimal with two places (数量).
    pub quantity: Centi,
    /// Amount in fen (金额).
    pub amount: Fen,
}

impl Default for ChargeItem {
    fn default() -> Self {
        ChargeItem {
            list_id: String::new(),
            item_code: String::new(),
            item_name: String::new(),
            category: FeeKind::Other,
            quantity: Centi(0),
            amount: Fen::ZERO,
        }
    }
}

/// Column keys of the itemised-charges file, in canonical order, with Chinese labels.
pub const CHARGE_COLUMNS: &[(&str, &str)] = &[
    ("list_id", "清单流水号"),
    ("item_code", "收费项目编码"),
    ("item_name", "收费项目名称"),
    ("category", "收费类别"),
    ("quantity", "数量"),
    ("amount", "金额"),
];

impl ChargeItem {
    /// Index into [`CHARGE_COLUMNS`] for an English key or Chinese label (BOM and spaces ignored).
    pub fn column_index(header: &str) -> Option<usize> {
        let h = header.trim_start_matches('\u{feff}').trim();
        CHARGE_COLUMNS.iter().position(|(k, zh)| *k == h || *zh == h)
    }

    /// Sets column `i` of [`CHARGE_COLUMNS`] from text; errors are Chinese messages.
    /// `category` accepts the fee key (`fee_western_drug`), the Chinese label (`西药费`) or the
    /// two-digit national code (`09`); `quantity` is an exact decimal of at most two places.
    pub fn set_column(&mut self, i: usize, s: &str) -> Result<(), String> {
        let t = s.trim();
        let Some(&(key, zh)) = CHARGE_COLUMNS.get(i) else {
            return Err(format!("第 {} 列不是费用明细的列", i + 1));
        };
        match key {
            "list_id" => self.list_id = t.to_string(),
            "item_code" => self.item_code = t.to_string(),
            "item_name" => self.item_name = t.to_string(),
            "category" => {
                self.category = FeeKind::from_text(t).ok_or_else(|| format!("{zh}({key})取值“{t}”不是医疗收费项目类别"))?
            }
            "quantity" => {
                let q = Centi::parse(t).map_err(|e| format!("{zh}({key})取值“{t}”{}", e.message_zh().replace("金额", "数量")))?;
                self.quantity = q;
            }
            "amount" => {
                self.amount = Fen::parse_yuan(t).map_err(|e| format!("{zh}({key})取值“{t}”{}", e.message_zh()))?
            }
            _ => {} // CHARGE_COLUMNS is closed: every key is matched above
        }
        Ok(())
    }

    /// Canonical text of column `i` (category as its fee key, e.g. `fee_western_drug`).
    pub fn column_text(&self, i: usize) -> String {
        match CHARGE_COLUMNS.get(i).map_or("", |c| c.0) {
            "list_id" => self.list_id.clone(),
            "item_code" => self.item_code.clone(),
            "item_name" => self.item_name.clone(),
            "category" => self.category.key().to_string(),
            "quantity" => self.quantity.to_string(),
            "amount" => self.amount.to_string(),
            _ => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charge_columns_roundtrip() {
        let mut c = ChargeItem::default();
        let vals = ["L1", "D-ANTIBIO-01", "头孢曲松钠注射液", "fee_western_drug", "2.5", "37.40"];
        for (i, v) in vals.iter().enumerate() {
            c.set_column(i, v).unwrap();
        }
        assert_eq!(c.category, FeeKind::WesternDrug);
        assert_eq!(c.quantity, Centi(250));
        assert_eq!(c.amount, Fen(3740));
        let back: Vec<String> = (0..CHARGE_COLUMNS.len()).map(|i| c.column_text(i)).collect();
        assert_eq!(back, ["L1", "D-ANTIBIO-01", "头孢曲松钠注射液", "fee_western_drug", "2.50", "37.40"]);
        // integer quantities print without decimals
        c.set_column(4, "3").unwrap();
        assert_eq!(c.column_text(4), "3");
    }

    #[test]
    fn category_accepts_key_label_and_code() {
        let mut c = ChargeItem::default();
        c.set_column(3, "化验费").unwrap();
        assert_eq!(c.category, FeeKind::Lab);
        c.set_column(3, "09").unwrap();
        assert_eq!(c.category, FeeKind::WesternDrug);
        c.set_column(3, " fee_exam ").unwrap();
        assert_eq!(c.category, FeeKind::Exam);
        let e = c.set_column(3, "药费").unwrap_err();
        assert_eq!(e, "收费类别(category)取值“药费”不是医疗收费项目类别");
    }

    #[test]
    fn bad_cells_are_chinese_errors() {
        let mut c = ChargeItem::default();
        assert_eq!(c.set_column(5, "1.234").unwrap_err(), "金额(amount)取值“1.234”金额小数位超过2位");
        assert_eq!(c.set_column(4, "x").unwrap_err(), "数量(quantity)取值“x”数量不是有效数字");
        assert_eq!(ChargeItem::column_index("收费项目编码"), Some(1));
        assert_eq!(ChargeItem::column_index("\u{feff}list_id"), Some(0));
        assert_eq!(ChargeItem::column_index("单价"), None);
    }
}
