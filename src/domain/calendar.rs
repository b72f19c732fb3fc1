//! Calendar days and the periods (days, ISO weeks) that trends are counted
//! in. Times in the database are RFC 3339 UTC, so a day is a UTC day.

use std::fmt;

use serde::Serialize;

use crate::error::Error;

/// A UTC calendar day, as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i64);

impl Day {
    /// A strict `YYYY-MM-DD` (a real date: no month 13, no February 30).
    pub fn parse(text: &str) -> Result<Day, Error> {
        Day::parse_prefix(text)
            .filter(|_| text.len() == 10)
            .ok_or_else(|| Error::usage(format!("'{text}' is not a date: expected YYYY-MM-DD, e.g. 2026-11-30")))
    }

    /// The day of an RFC 3339 timestamp (`2026-11-26T18:10:15.123Z`).
    pub fn of_timestamp(at: &str) -> Option<Day> {
        Day::parse_prefix(at).filter(|_| at.len() == 10 || at.as_bytes().get(10) == Some(&b'T'))
    }

    fn parse_prefix(text: &str) -> Option<Day> {
        let b = text.as_bytes();
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let s = text.get(r)?;
            s.bytes().all(|c| c.is_ascii_digit()).then(|| s.parse().ok())?
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if !(1..=12).contains(&m) || d < 1 {
            return None;
        }
        let day = Day(days_from_civil(y, m, d));
        // Day 31 of a 30-day month lands in the next month: not a date.
        (day.civil() == (y, m as u32, d as u32)).then_some(day)
    }

    pub fn civil(self) -> (i64, u32, u32) {
        crate::clock::civil_from_days(self.0)
    }

    /// Monday 0 … Sunday 6 (1970-01-01 was a Thursday).
    pub fn weekday(self) -> i64 {
        (self.0 + 3).rem_euclid(7)
    }

    pub fn plus(self, days: i64) -> Day {
        Day(self.0 + days)
    }

    /// Today in UTC (read at the edge; operations take the day as input).
    pub fn today() -> Day {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        Day(secs.div_euclid(86_400))
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.civil();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm, the inverse of `clock::civil_from_days`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The length of the periods a trend is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Day,
    /// ISO weeks, Monday to Sunday.
    Week,
}

impl Granularity {
    pub fn days(self) -> i64 {
        match self {
            Granularity::Day => 1,
            Granularity::Week => 7,
        }
    }

    /// First day of the period holding `day`.
    pub fn start_of(self, day: Day) -> Day {
        match self {
            Granularity::Day => day,
            Granularity::Week => day.plus(-day.weekday()),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Day => "day",
            Granularity::Week => "week",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_bad_ones_are_refused() {
        for text in ["1970-01-01", "2000-02-29", "2026-11-30", "2027-01-04"] {
            assert_eq!(Day::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Day::parse("1970-01-02").unwrap(), Day(1));
        for bad in ["2026-02-29", "2026-13-01", "2026-04-31", "2026-1-01", "26-01-01", "2026-01-01x", "", "yesterday"] {
            let err = Day::parse(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("'{bad}'")), "{bad}: {err}");
        }
    }

    #[test]
    fn timestamps_give_their_utc_day() {
        assert_eq!(Day::of_timestamp("2026-11-26T18:10:15.123Z"), Some(Day::parse("2026-11-26").unwrap()));
        assert_eq!(Day::of_timestamp("2026-11-26"), Day::parse("2026-11-26").ok());
        assert_eq!(Day::of_timestamp("2026-11-26 18:10"), None);
        assert_eq!(Day::of_timestamp("now"), None);
    }

    #[test]
    fn weeks_start_on_monday() {
        let thursday = Day::parse("2026-11-26").unwrap();
        assert_eq!(thursday.weekday(), 3);
        assert_eq!(Granularity::Week.start_of(thursday).to_string(), "2026-11-23");
        let sunday = Day::parse("2026-11-29").unwrap();
        assert_eq!(Granularity::Week.start_of(sunday).to_string(), "2026-11-23");
        let monday = Day::parse("2026-11-30").unwrap();
        assert_eq!(Granularity::Week.start_of(monday), monday);
        assert_eq!(Granularity::Day.start_of(thursday), thursday);
    }
}
