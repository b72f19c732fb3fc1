//! Progress over time: which status changes count as regressions, and how a
//! finish date is projected from the velocity of recent periods.

use serde::Serialize;

use super::calendar::{Day, Granularity};
use super::status::ItemStatus;

/// A change that undoes progress: a done item (complete, verified, n_a)
/// that is no longer done, or a verified item whose proof was withdrawn
/// (`verify` moves it back to complete when its test fails).
pub fn is_regression(from: ItemStatus, to: ItemStatus) -> bool {
    (from.is_done() && !to.is_done()) || (from == ItemStatus::Verified && to == ItemStatus::Complete)
}

/// Fewest periods a projection is made from.
pub const MIN_PERIODS: usize = 3;
/// How many of the latest periods the velocity is averaged over.
pub const WINDOW: usize = 4;

/// Stated with every projection.
pub const METHOD: &str = "recent velocity = mean change of done over the last 4 periods (at least 3 needed); \
the finish is the end of the first later period in which done reaches total at that velocity";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every item is done.
    Finished,
    Projected,
    /// Fewer than [`MIN_PERIODS`] periods of history.
    TooFewPeriods,
    /// The recent velocity is zero or negative.
    NoProgress,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Projection {
    pub method: &'static str,
    pub outcome: Outcome,
    /// Periods the velocity was averaged over.
    pub window: usize,
    /// Items done per period, on average over the window.
    pub velocity: Option<f64>,
    pub remaining: u64,
    /// Periods after the last one until done reaches total.
    pub periods_left: Option<u64>,
    /// Last day of the period in which done is projected to reach total.
    pub finish: Option<Day>,
}

/// Project when `remaining` items will be done, from the per-period changes
/// of done (`velocities`, oldest first) of periods of `by` whose last one
/// starts on `last_start`.
pub fn project(velocities: &[i64], remaining: u64, by: Granularity, last_start: Day) -> Projection {
    let window = velocities.len().min(WINDOW);
    let base = Projection { method: METHOD, outcome: Outcome::Finished, window, velocity: None, remaining, periods_left: None, finish: None };
    if remaining == 0 {
        return base;
    }
    if velocities.len() < MIN_PERIODS {
        return Projection { outcome: Outcome::TooFewPeriods, ..base };
    }
    let recent = &velocities[velocities.len() - window..];
    let velocity = recent.iter().sum::<i64>() as f64 / window as f64;
    if velocity <= 0.0 {
        return Projection { outcome: Outcome::NoProgress, velocity: Some(velocity), ..base };
    }
    let periods_left = (remaining as f64 / velocity).ceil() as u64;
    let finish = last_start.plus((periods_left as i64 + 1) * by.days() - 1);
    Projection { outcome: Outcome::Projected, velocity: Some(velocity), periods_left: Some(periods_left), finish: Some(finish), ..base }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ItemStatus::*;

    #[test]
    fn regressions_undo_progress() {
        for (from, to) in [(Verified, Complete), (Verified, NotStarted), (Complete, Stub), (NA, Deferred), (Verified, Deferred)] {
            assert!(is_regression(from, to), "{from} -> {to}");
        }
        for (from, to) in [(NotStarted, Stub), (Stub, Complete), (Complete, Verified), (Verified, NA), (Deferred, NotStarted), (Stub, NotStarted)] {
            assert!(!is_regression(from, to), "{from} -> {to}");
        }
    }

    fn day(s: &str) -> Day {
        Day::parse(s).unwrap()
    }

    #[test]
    fn projects_from_the_last_four_periods() {
        // Mean of 4, 6, 8, 10 = 7 a week; 20 left → 3 more weeks after the
        // week of 2026-11-23, which ends on Sunday 2026-12-20.
        let p = project(&[50, 4, 6, 8, 10], 20, Granularity::Week, day("2026-11-23"));
        assert_eq!(p.outcome, Outcome::Projected);
        assert_eq!((p.window, p.velocity, p.periods_left), (4, Some(7.0), Some(3)));
        assert_eq!(p.finish, Some(day("2026-12-20")));
        let d = project(&[1, 2, 3], 4, Granularity::Day, day("2026-11-23"));
        assert_eq!((d.window, d.velocity, d.periods_left, d.finish), (3, Some(2.0), Some(2), Some(day("2026-11-25"))));
    }

    #[test]
    fn no_projection_without_enough_periods_or_progress() {
        assert_eq!(project(&[5, 5], 10, Granularity::Week, day("2026-11-23")).outcome, Outcome::TooFewPeriods);
        let stalled = project(&[5, 0, -1, 0, 1], 10, Granularity::Week, day("2026-11-23"));
        assert_eq!((stalled.outcome, stalled.velocity, stalled.finish), (Outcome::NoProgress, Some(0.0), None));
        let done = project(&[5], 0, Granularity::Week, day("2026-11-23"));
        assert_eq!((done.outcome, done.finish), (Outcome::Finished, None));
    }
}
