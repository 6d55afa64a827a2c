//! Exact decimals from TOML. A TOML float is read through its shortest round-trip text
//! (`1.04` → `1.04` exactly), an integer exactly, a string (`"1500000000.00"`) exactly.

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// An exact decimal read from TOML (number or string).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Dec(pub Decimal);

impl Dec {
    pub fn new(s: &str) -> Dec {
        Dec(Decimal::from_str(s).expect("literal decimal"))
    }
}

impl From<Decimal> for Dec {
    fn from(d: Decimal) -> Dec {
        Dec(d)
    }
}

impl fmt::Display for Dec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.normalize())
    }
}

struct DecVisitor;

impl<'de> Visitor<'de> for DecVisitor {
    type Value = Dec;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("数值或数值字符串 (a number or a numeric string)")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dec, E> {
        Ok(Dec(Decimal::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dec, E> {
        Ok(Dec(Decimal::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dec, E> {
        if !v.is_finite() {
            return Err(E::custom("数值必须是有限数 (finite)"));
        }
        // Rust prints the shortest text that reads back to the same f64: "1.04" stays "1.04".
        let s = format!("{v}");
        Decimal::from_str(&s)
            .or_else(|_| Decimal::from_scientific(&s))
            .map(Dec)
            .map_err(|_| E::custom(format!("数值“{s}”超出十进制范围")))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Dec, E> {
        let t = v.trim().replace(',', "");
        Decimal::from_str(&t).map(Dec).map_err(|_| E::custom(format!("“{v}”不是有效数值")))
    }
}

impl<'de> Deserialize<'de> for Dec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Dec, D::Error> {
        d.deserialize_any(DecVisitor)
    }
}

impl Serialize for Dec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}
