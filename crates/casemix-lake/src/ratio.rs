//! Exact ratios of integer sums (fen, ×10⁴ units, counts): what the dashboard shows as 次均费用,
//! CMI, 入组率, 个人负担率 … is a numerator/denominator pair, turned into a decimal only for display.

use rust_decimal::{Decimal, RoundingStrategy};

/// `num / den` over integers; `den == 0` means "no data" (shown as “—”).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ratio {
    pub num: i64,
    pub den: i64,
}

impl Ratio {
    pub const fn new(num: i64, den: i64) -> Ratio {
        Ratio { num, den }
    }

    /// The value rounded half away from zero to `dp` decimals; `None` when the denominator is zero.
    pub fn value(&self, dp: u32) -> Option<Decimal> {
        if self.den == 0 {
            return None;
        }
        let v = Decimal::from(self.num) / Decimal::from(self.den);
        Some(v.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero))
    }

    /// The value × 100 (a percentage) rounded half away from zero to `dp` decimals.
    pub fn percent(&self, dp: u32) -> Option<Decimal> {
        if self.den == 0 {
            return None;
        }
        let v = Decimal::from(self.num) * Decimal::ONE_HUNDRED / Decimal::from(self.den);
        Some(v.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero))
    }

    /// Display text: the value with `dp` decimals, or “—”.
    pub fn text(&self, dp: u32) -> String {
        self.value(dp)
            .map(|d| format!("{d:.prec$}", prec = dp as usize))
            .unwrap_or_else(|| "—".into())
    }

    /// Display text of the percentage with `dp` decimals and a `%`, or “—”.
    pub fn percent_text(&self, dp: u32) -> String {
        self.percent(dp)
            .map(|d| format!("{d:.prec$}%", prec = dp as usize))
            .unwrap_or_else(|| "—".into())
    }

    /// A ratio of fen shown in yuan with 2 decimals and thousands separators (the fen value rounded
    /// half away from zero, then ÷ 100), or “—”.
    pub fn yuan_text(&self) -> String {
        match self
            .value(0)
            .and_then(|d| rust_decimal::prelude::ToPrimitive::to_i64(&d))
        {
            Some(fen) => yuan(fen),
            None => "—".into(),
        }
    }
}

/// Fen as yuan text with 2 decimals and thousands separators: 1234567 → "12,345.67".
pub fn yuan(fen: i64) -> String {
    let neg = fen < 0;
    let a = fen.unsigned_abs();
    let int = (a / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{}{}.{:02}", if neg { "-" } else { "" }, grouped, a % 100)
}

/// ×10⁴ units (weights, points) as a decimal with 4 places: 12345 → "1.2345".
pub fn units_text(units: i64) -> String {
    format!("{:.4}", Decimal::new(units, 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact() {
        // 2/3 = 0.6666… → 0.6667 (half away from zero at 4 dp)
        assert_eq!(Ratio::new(2, 3).value(4).unwrap().to_string(), "0.6667");
        assert_eq!(Ratio::new(1, 8).percent_text(1), "12.5%"); // 12.5 exactly
        assert_eq!(Ratio::new(1, 0).text(2), "—");
        // 1,000,001 fen over 3 stays = 333,333.666… fen → 333,334 fen = 3,333.34 yuan
        assert_eq!(Ratio::new(1_000_001, 3).yuan_text(), "3,333.34");
        assert_eq!(Ratio::new(-5, 2).yuan_text(), "-0.03"); // −2.5 fen → −3 fen (away from zero)
        assert_eq!(yuan(123456789), "1,234,567.89");
        assert_eq!(yuan(-5), "-0.05");
        assert_eq!(units_text(12345), "1.2345");
    }
}
