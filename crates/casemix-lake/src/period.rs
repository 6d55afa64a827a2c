//! Periods (YYYY-MM, inclusive ranges) and the validation of codes before they reach a query or a path.

use crate::LakeError;
use std::fmt;

/// One month, `YYYY-MM`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Period {
    pub year: i32,
    pub month: u32,
}

/// Years accepted in periods and partitions (a discharge year outside is a data error).
const MIN_YEAR: i32 = 1900;
const MAX_YEAR: i32 = 9999;

impl Period {
    pub fn new(year: i32, month: u32) -> Result<Period, LakeError> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) || !(1..=12).contains(&month) {
            return Err(LakeError::Invalid {
                field: "period",
                value: format!("{year}-{month}"),
                rule: "年份须在 1900–9999、月份须在 1–12",
            });
        }
        Ok(Period { year, month })
    }

    /// Parses exactly `YYYY-MM` (also `YYYY-M`), nothing else.
    pub fn parse(s: &str) -> Result<Period, LakeError> {
        let bad = || LakeError::Invalid {
            field: "period",
            value: s.to_string(),
            rule: "期间须为 YYYY-MM 格式，如 2024-03",
        };
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4
            || m.is_empty()
            || m.len() > 2
            || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        Period::new(y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?).map_err(|_| bad())
    }

    /// `year × 100 + month`, the integer the queries compare (`year * 100 + month`).
    pub fn key(self) -> i32 {
        self.year * 100 + self.month as i32
    }

    /// Months since year 0, for period arithmetic.
    fn index(self) -> i64 {
        self.year as i64 * 12 + (self.month as i64 - 1)
    }

    fn from_index(i: i64) -> Period {
        Period {
            year: i.div_euclid(12) as i32,
            month: (i.rem_euclid(12) + 1) as u32,
        }
    }

    /// The month `n` months later (negative: earlier).
    pub fn add_months(self, n: i64) -> Period {
        Period::from_index(self.index() + n)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// An inclusive range of months `from ..= to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Range {
    pub from: Period,
    pub to: Period,
}

/// The longest range a query accepts (10 years): keeps a typo such as 1024-01 from scanning everything.
pub const MAX_RANGE_MONTHS: i64 = 120;

impl Range {
    pub fn new(from: Period, to: Period) -> Result<Range, LakeError> {
        if from > to {
            return Err(LakeError::Invalid {
                field: "period",
                value: format!("{from}~{to}"),
                rule: "起始月份不得晚于截止月份",
            });
        }
        let r = Range { from, to };
        if r.months() > MAX_RANGE_MONTHS {
            return Err(LakeError::Invalid {
                field: "period",
                value: format!("{from}~{to}"),
                rule: "查询期间不得超过 120 个月",
            });
        }
        Ok(r)
    }

    /// Parses `from` and `to` as `YYYY-MM`.
    pub fn parse(from: &str, to: &str) -> Result<Range, LakeError> {
        Range::new(Period::parse(from)?, Period::parse(to)?)
    }

    /// Number of months in the range (≥ 1).
    pub fn months(&self) -> i64 {
        self.to.index() - self.from.index() + 1
    }

    /// The previous range of equal length, ending the month before `from`.
    pub fn previous(&self) -> Range {
        let n = self.months();
        Range {
            from: self.from.add_months(-n),
            to: self.from.add_months(-1),
        }
    }

    /// Every month of the range in order.
    pub fn each_month(&self) -> impl Iterator<Item = Period> + '_ {
        (self.from.index()..=self.to.index()).map(Period::from_index)
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from == self.to {
            write!(f, "{}", self.from)
        } else {
            write!(f, "{} 至 {}", self.from, self.to)
        }
    }
}

/// Maximum length of a region, hospital or group code.
const MAX_CODE_LEN: usize = 64;

/// A code used as a partition directory name or a filter value: 1–64 ASCII letters, digits, `_`,
/// `-` or `.` (not starting with `.`). 统筹区 codes (e.g. `320200`), 定点医药机构编号 (e.g.
/// `H32020000001`) and DRG/DIP codes all fit; anything else is refused before it reaches a path.
pub fn validate_code(field: &'static str, value: &str) -> Result<(), LakeError> {
    let ok = !value.is_empty()
        && value.len() <= MAX_CODE_LEN
        && !value.starts_with('.')
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(LakeError::Invalid {
            field,
            value: value.to_string(),
            rule: "编码只能由 1–64 位字母、数字、下划线、连字符或点组成",
        })
    }
}

/// A free-text filter value (tier label, department): 1–100 characters, no control characters.
/// It is only ever compared as a literal value, never spliced into SQL.
pub fn validate_label(field: &'static str, value: &str) -> Result<(), LakeError> {
    if value.is_empty() || value.chars().count() > 100 || value.chars().any(char::is_control) {
        return Err(LakeError::Invalid {
            field,
            value: value.to_string(),
            rule: "取值须为 1–100 个字符且不含控制字符",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_previous() {
        let r = Range::parse("2024-11", "2025-02").unwrap();
        assert_eq!(r.months(), 4); // Nov, Dec, Jan, Feb
                                   // previous 4 months end in October 2024: July–October
        assert_eq!(r.previous(), Range::parse("2024-07", "2024-10").unwrap());
        assert_eq!(
            r.each_month().map(|p| p.to_string()).collect::<Vec<_>>(),
            ["2024-11", "2024-12", "2025-01", "2025-02"]
        );
        assert_eq!(Period::parse("2024-3").unwrap().key(), 202403);
        for bad in [
            "2024",
            "2024-13",
            "2024-00",
            "24-01",
            "2024-01-01",
            "２０２４-01",
            "2024-1a",
            "' OR 1=1 --",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
        assert!(Range::parse("2024-05", "2024-04").is_err());
        assert!(Range::parse("2000-01", "2024-04").is_err());
    }

    #[test]
    fn codes() {
        assert!(validate_code("region", "320200").is_ok());
        assert!(validate_code("hospital_code", "H32020000001").is_ok());
        for bad in ["", "..", "../x", "a/b", "a b", "x'--", "区"] {
            assert!(validate_code("region", bad).is_err(), "{bad}");
        }
        assert!(validate_label("tier", "三级").is_ok());
        assert!(validate_label("tier", "a\nb").is_err());
    }
}
