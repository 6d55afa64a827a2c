//! Money as integer fen (分). Never floating point.

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

    pub fn from_yuan(yuan: i64) -> Fen {
        Fen(yuan * 100)
    }

    /// Parses a yuan amount with at most two decimals ("123", "123.4", "-0.05", "1,234.50").
    /// Extra decimals are accepted only when they are zeros ("12.300"). Exact: no floating point.
    pub fn parse_yuan(s: &str) -> Result<Fen, AmountError> {
        let t = s.trim();
        if t.is_empty() {
            return Err(AmountError::Empty);
        }
        let (neg, body) = match t.as_bytes()[0] {
            b'-' => (true, &t[1..]),
            b'+' => (false, &t[1..]),
            _ => (false, t),
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
                cents = cents * 10 + d;
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
    pub fn from_whole(n: i64) -> Centi {
        Centi(n * 100)
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
