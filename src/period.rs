//! Reporting periods: cumulative from January, `YYYY-MM` (2025-09 is 1—9月; 2025-02 is 1—2月).

use std::fmt;
use std::str::FromStr;

use anyhow::{Result, bail};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct Period {
    pub year: i32,
    pub month: u32,
}

impl Period {
    pub fn new(year: i32, month: u32) -> Result<Self> {
        if !(1..=12).contains(&month) {
            bail!("month {month} is not 1–12");
        }
        if !(1990..=2100).contains(&year) {
            bail!("year {year} is out of range");
        }
        Ok(Period { year, month })
    }

    /// `1—9月`, the cumulative label used in bulletins.
    pub fn label(&self) -> String {
        if self.month == 1 { "1月".to_string() } else { format!("1—{}月", self.month) }
    }

    /// `2025年1—9月`.
    pub fn full_label(&self) -> String {
        format!("{}年{}", self.year, self.label())
    }

    /// The previous cumulative period of the same year (none for 1—2月, the year's first return).
    pub fn prev_in_year(&self) -> Option<Period> {
        (self.month > 2).then(|| Period { year: self.year, month: self.month - 1 })
    }

    pub fn year_ago(&self) -> Period {
        Period { year: self.year - 1, month: self.month }
    }

    /// Factor that turns a cumulative flow into a yearly figure.
    pub fn annualise(&self) -> f64 {
        12.0 / self.month as f64
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Period {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        let Some((y, m)) = s.split_once('-') else {
            bail!("period `{s}` is not YYYY-MM");
        };
        if y.len() != 4 || m.len() != 2 {
            bail!("period `{s}` is not YYYY-MM");
        }
        let (Ok(year), Ok(month)) = (y.parse(), m.parse()) else {
            bail!("period `{s}` is not YYYY-MM");
        };
        Period::new(year, month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_labels() {
        let p: Period = "2025-09".parse().unwrap();
        assert_eq!(p.label(), "1—9月");
        assert_eq!(p.full_label(), "2025年1—9月");
        assert_eq!(p.prev_in_year().unwrap().to_string(), "2025-08");
        assert_eq!(p.year_ago().to_string(), "2024-09");
        assert!("2025-02".parse::<Period>().unwrap().prev_in_year().is_none());
        assert!("2025-13".parse::<Period>().is_err());
        assert!("202509".parse::<Period>().is_err());
    }
}
