//! Money as integer fen (分). Never floating point.
//!
//! ## Overflow
//! The checked operations ([`Fen::checked_add`], [`Fen::checked_sub`], [`Fen::checked_mul`],
//! [`Fen::checked_sum`], [`Fen::checked_from_yuan`]) return `None` instead of wrapping; use them
//! wherever an amount is not yet known to be inside its domain.
//!
//! The operators (`+`, `-`, `Sum`) are kept for the arithmetic of the core crates, and they are
//! safe because of one invariant: **every `Fen` reachable from input is inside its
//! [`crate::FieldDomains`] bound**, which the importers enforce at parse (a list outside its
//! domain is rejected, never returned) and the HTTP API enforces on JSON cases. The widest
//! default bound is 10,000,000.00 yuan = 10⁹ fen per amount, so a sum of up to 10⁹ such amounts
//! stays below 10¹⁸ < `i64::MAX` ≈ 9.22 × 10¹⁸ (test `domain_bound_keeps_sums_of_a_billion_lists_in_range`).
//! A region settles far fewer than 10⁹ lists a year; anything not bounded by the domains (budgets
//! typed by the bureau, products of rates) must use the checked operations.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

/// An amount of money in integer fen (1 yuan = 100 fen).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fen(pub i64);

/// Why a yuan amount could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmountError {
    Empty,
    NotANumber,
    TooManyDecimals,
    Overflow,
}

impl AmountError {
    /// Chinese description for users.
    pub fn message_zh(&self) -> &'static str {
        match self {
            AmountError::Empty => "金额为空",
            AmountError::NotANumber => "金额不是有效数字",
            AmountError::TooManyDecimals => "金额小数位超过2位",
            AmountError::Overflow => "金额超出范围",
        }
    }
}

impl Fen {
    pub const ZERO: Fen = Fen(0);

    /// Whole yuan as fen, for constants (tests, defaults). Overflow (|yuan| > 92,233,720,368,547,758)
    /// is a panic, at compile time in a `const`; amounts from input use [`Fen::checked_from_yuan`].
    pub const fn from_yuan(yuan: i64) -> Fen {
        match Fen::checked_from_yuan(yuan) {
            Some(f) => f,
            None => panic!("Fen::from_yuan: amount out of range"),
        }
    }

    /// Whole yuan as fen; `None` when it does not fit in `i64` fen.
    pub const fn checked_from_yuan(yuan: i64) -> Option<Fen> {
        match yuan.checked_mul(100) {
            Some(v) => Some(Fen(v)),
            None => None,
        }
    }

    /// `self + o`, `None` on overflow.
    pub const fn checked_add(self, o: Fen) -> Option<Fen> {
        match self.0.checked_add(o.0) {
            Some(v) => Some(Fen(v)),
            None => None,
        }
    }

    /// `self - o`, `None` on overflow.
    pub const fn checked_sub(self, o: Fen) -> Option<Fen> {
        match self.0.checked_sub(o.0) {
            Some(v) => Some(Fen(v)),
            None => None,
        }
    }

    /// `self × n`, `None` on overflow.
    pub const fn checked_mul(self, n: i64) -> Option<Fen> {
        match self.0.checked_mul(n) {
            Some(v) => Some(Fen(v)),
            None => None,
        }
    }

    /// `-self`, `None` for `i64::MIN` fen.
    pub const fn checked_neg(self) -> Option<Fen> {
        match self.0.checked_neg() {
            Some(v) => Some(Fen(v)),
            None => None,
        }
    }

    /// Σ of the amounts, `None` as soon as a partial sum overflows.
    pub fn checked_sum<I: IntoIterator<Item = Fen>>(it: I) -> Option<Fen> {
        it.into_iter().try_fold(Fen::ZERO, Fen::checked_add)
    }

    /// Parses a yuan amount with at most two decimals ("123", "123.4", "-0.05", "1,234.50").
    /// Extra decimals are accepted only when they are zeros ("12.300"). Exact: no floating point.
    pub fn parse_yuan(s: &str) -> Result<Fen, AmountError> {
        let t = s.trim();
        if t.is_empty() {
            return Err(AmountError::Empty);
        }
        let (neg, body) = match (t.strip_prefix('-'), t.strip_prefix('+')) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) => (false, rest),
            (None, None) => (false, t),
        };
        let (int_part, frac_part) = match body.find('.') {
            Some(p) => (&body[..p], &body[p + 1..]),
            None => (body, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(AmountError::NotANumber);
        }
        let mut v: i64 = 0;
        let mut digits = 0;
        for b in int_part.bytes() {
            match b {
                b'0'..=b'9' => {
                    v = v
                        .checked_mul(10)
                        .and_then(|x| x.checked_add((b - b'0') as i64))
                        .ok_or(AmountError::Overflow)?;
                    digits += 1;
                }
                b',' if digits > 0 => {}
                _ => return Err(AmountError::NotANumber),
            }
        }
        let mut cents: i64 = 0;
        for (i, b) in frac_part.bytes().enumerate() {
            if !b.is_ascii_digit() {
                return Err(AmountError::NotANumber);
            }
            let d = (b - b'0') as i64;
            if i < 2 {
                cents = cents * 10 + d; // at most 99: two digits
            } else if d != 0 {
                return Err(AmountError::TooManyDecimals);
            }
        }
        if frac_part.len() == 1 {
            cents *= 10;
        }
        let total = v
            .checked_mul(100)
            .and_then(|x| x.checked_add(cents))
            .ok_or(AmountError::Overflow)?;
        Ok(Fen(if neg { -total } else { total }))
    }

    /// Yuan with two decimals, e.g. `1234.50`.
    pub fn to_yuan_string(self) -> String {
        self.to_string()
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{}{}.{:02}", sign, a / 100, a % 100)
    }
}

impl Add for Fen {
    type Output = Fen;
    fn add(self, o: Fen) -> Fen {
        Fen(self.0 + o.0)
    }
}
impl Sub for Fen {
    type Output = Fen;
    fn sub(self, o: Fen) -> Fen {
        Fen(self.0 - o.0)
    }
}
impl Neg for Fen {
    type Output = Fen;
    fn neg(self) -> Fen {
        Fen(-self.0)
    }
}
impl AddAssign for Fen {
    fn add_assign(&mut self, o: Fen) {
        self.0 += o.0
    }
}
impl SubAssign for Fen {
    fn sub_assign(&mut self, o: Fen) {
        self.0 -= o.0
    }
}
impl Sum for Fen {
    fn sum<I: Iterator<Item = Fen>>(it: I) -> Fen {
        Fen(it.map(|f| f.0).sum())
    }
}
impl<'a> Sum<&'a Fen> for Fen {
    fn sum<I: Iterator<Item = &'a Fen>>(it: I) -> Fen {
        Fen(it.map(|f| f.0).sum())
    }
}

/// A non-negative decimal quantity with two decimals held as an integer count of hundredths
/// (used for hours: 重症监护时长, 呼吸机使用时长).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Centi(pub i64);

impl Centi {
    /// Whole units, for constants and generated data (overflow beyond ±92 × 10¹⁵ units is a
    /// panic, never a wrap); input text goes through [`Centi::parse`].
    pub const fn from_whole(n: i64) -> Centi {
        match n.checked_mul(100) {
            Some(v) => Centi(v),
            None => panic!("Centi::from_whole: value out of range"),
        }
    }
    /// Same exact decimal reading as [`Fen::parse_yuan`].
    pub fn parse(s: &str) -> Result<Centi, AmountError> {
        Fen::parse_yuan(s).map(|f| Centi(f.0))
    }
    /// Whole units, rounded towards zero.
    pub fn whole(self) -> i64 {
        self.0 / 100
    }
}

impl fmt::Display for Centi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 % 100 == 0 {
            write!(f, "{}", self.0 / 100)
        } else {
            write!(f, "{}", Fen(self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_yuan_exactly() {
        assert_eq!(Fen::parse_yuan("123.45"), Ok(Fen(12345)));
        assert_eq!(Fen::parse_yuan("123.4"), Ok(Fen(12340)));
        assert_eq!(Fen::parse_yuan("123"), Ok(Fen(12300)));
        assert_eq!(Fen::parse_yuan("-0.05"), Ok(Fen(-5)));
        assert_eq!(Fen::parse_yuan("1,234.50"), Ok(Fen(123450)));
        assert_eq!(Fen::parse_yuan(".5"), Ok(Fen(50)));
        assert_eq!(Fen::parse_yuan("12.300"), Ok(Fen(1230)));
        assert_eq!(Fen::parse_yuan("12.345"), Err(AmountError::TooManyDecimals));
        assert_eq!(Fen::parse_yuan("abc"), Err(AmountError::NotANumber));
        assert_eq!(Fen::parse_yuan(""), Err(AmountError::Empty));
        assert_eq!(Fen::parse_yuan("."), Err(AmountError::NotANumber));
        assert_eq!(Fen::parse_yuan("99999999999999999999"), Err(AmountError::Overflow));
    }

    #[test]
    fn checked_operations_refuse_overflow() {
        let max = Fen(i64::MAX);
        assert_eq!(max.checked_add(Fen(1)), None);
        assert_eq!(Fen(i64::MIN).checked_sub(Fen(1)), None);
        assert_eq!(Fen(12345).checked_add(Fen(55)), Some(Fen(12400)));
        assert_eq!(Fen(100).checked_sub(Fen(250)), Some(Fen(-150)));
        assert_eq!(Fen(250).checked_mul(-3), Some(Fen(-750)));
        // i64::MAX = 9223372036854775807; ÷ 2 = 4611686018427387903 rem 1, so × 2 of one more overflows
        assert_eq!(Fen(4_611_686_018_427_387_903).checked_mul(2), Some(Fen(9_223_372_036_854_775_806)));
        assert_eq!(Fen(4_611_686_018_427_387_904).checked_mul(2), None);
        assert_eq!(Fen(i64::MIN).checked_neg(), None);
        assert_eq!(Fen::checked_from_yuan(92_233_720_368_547_758), Some(Fen(9_223_372_036_854_775_800)));
        assert_eq!(Fen::checked_from_yuan(92_233_720_368_547_759), None);
        assert_eq!(Fen::checked_from_yuan(-7), Some(Fen(-700)));
        assert_eq!(Fen::checked_sum([Fen(1), Fen(2), Fen(3)]), Some(Fen(6)));
        assert_eq!(Fen::checked_sum([max, Fen(1), Fen(-5)]), None, "an overflowing partial sum is refused");
        assert_eq!(Fen::checked_sum(std::iter::empty()), Some(Fen::ZERO));
        // the largest amount a list can carry: "92233720368547758.07" is exactly i64::MAX fen
        assert_eq!(Fen::parse_yuan("92233720368547758.07"), Ok(max));
        assert_eq!(Fen::parse_yuan("92233720368547758.08"), Err(AmountError::Overflow));
        assert_eq!(Fen::parse_yuan("-92233720368547758.07"), Ok(Fen(-i64::MAX)));
        assert_eq!(Fen::parse_yuan("+1.5"), Ok(Fen(150)));
        assert_eq!(Fen::parse_yuan("-"), Err(AmountError::NotANumber));
    }

    #[test]
    fn domain_bound_keeps_sums_of_a_billion_lists_in_range() {
        // The widest default domain of an amount is 10,000,000.00 yuan = 1,000,000,000 fen
        // (FieldDomains::default().list_amount.max). 10⁹ fen × 10⁹ lists = 10¹⁸ fen, and
        // i64::MAX = 9,223,372,036,854,775,807 ≈ 9.22 × 10¹⁸, so the sum fits with room for 9×.
        let d = crate::FieldDomains::default();
        let widest = [d.list_amount.max, d.claim_amount.max, d.charge_amount.max].into_iter().max().unwrap();
        assert_eq!(widest, Fen(1_000_000_000));
        assert_eq!(widest.checked_mul(1_000_000_000), Some(Fen(1_000_000_000_000_000_000)));
        assert!(widest.checked_mul(9_000_000_000).is_some());
        assert!(widest.checked_mul(10_000_000_000).is_none(), "the bound is tight to a factor of ten");
        // a list's 14 fees and 6 further amounts: 20 × 10⁹ fen per list, 10⁸ lists = 2 × 10¹⁸ fen
        assert!(widest.checked_mul(20).and_then(|per_list| per_list.checked_mul(100_000_000)).is_some());
    }

    #[test]
    fn displays_two_decimals() {
        assert_eq!(Fen(12345).to_string(), "123.45");
        assert_eq!(Fen(-5).to_string(), "-0.05");
        assert_eq!(Fen(0).to_string(), "0.00");
        assert_eq!(Centi(12050).to_string(), "120.50");
        assert_eq!(Centi(12000).to_string(), "120");
    }

    proptest::proptest! {
        #[test]
        fn roundtrip(v in -1_000_000_000_000i64..1_000_000_000_000i64) {
            proptest::prop_assert_eq!(Fen::parse_yuan(&Fen(v).to_string()), Ok(Fen(v)));
        }
        #[test]
        fn never_panics(s in ".{0,30}") {
            let _ = Fen::parse_yuan(&s);
        }
    }
}
