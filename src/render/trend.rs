//! Human output of `report trend`.

use std::fmt::Write as _;

use comfy_table::Cell;

use super::{align_right, table};
use crate::domain::calendar::Granularity;
use crate::domain::progress::{Outcome, Projection, MIN_PERIODS};
use crate::ops::trend::Trend;

pub fn trend(t: &Trend) -> String {
    let mut out = String::new();
    let scope = t.batch.as_ref().map_or_else(|| "all items".to_string(), |b| format!("batch {} {}", b.number, super::escape::value(&b.name)));
    let unit = t.by.as_str();
    let _ = writeln!(out, "Trend of {scope}, by {unit}, through {} ({})", t.until, t.rule);
    if t.periods.is_empty() {
        let _ = writeln!(out, "No status changes recorded{}.", t.since.map_or(String::new(), |s| format!(" since {s}")));
        return out;
    }
    let first = match t.by {
        Granularity::Day => "Day",
        Granularity::Week => "Week of",
    };
    let mut tab = table(&[first, "Done", "Verified", "Deferred", "Stub", "Total", "Velocity"]);
    for p in &t.periods {
        tab.add_row(vec![
            Cell::new(p.start),
            Cell::new(p.done),
            Cell::new(p.verified),
            Cell::new(p.deferred),
            Cell::new(p.stub),
            Cell::new(p.total),
            Cell::new(format!("{:+}", p.velocity)),
        ]);
    }
    align_right(&mut tab, &[1, 2, 3, 4, 5, 6]);
    let _ = writeln!(out, "{}", super::text(&tab));
    let _ = writeln!(out, "{}", projection_line(&t.projection, unit));
    let _ = writeln!(out, "  (method: {})", t.projection.method);
    if t.unexplained > 0 {
        let _ = writeln!(
            out,
            "Note: {} item(s) have a status the history does not explain (changed outside porttrack); the trend counts only recorded changes.",
            t.unexplained
        );
    }
    out
}

/// One sentence on the projected finish.
pub fn projection_line(p: &Projection, unit: &str) -> String {
    let velocity = p.velocity.map_or(String::new(), |v| format!("{v:.1} done per {unit} over the last {} {unit}s", p.window));
    match p.outcome {
        Outcome::Finished => "Finished: every item is done.".to_string(),
        Outcome::Projected => format!(
            "Velocity: {velocity}. Projected finish: {}, after {} more {unit}(s) at that pace ({} item(s) left).",
            p.finish.map_or_else(|| "-".to_string(), |d| d.to_string()),
            p.periods_left.unwrap_or_default(),
            p.remaining
        ),
        Outcome::TooFewPeriods => format!("No projection: {} {unit}(s) of history, at least {MIN_PERIODS} needed.", p.window),
        Outcome::NoProgress => format!("Velocity: {velocity}. No projection: no progress recently, {} item(s) left.", p.remaining),
    }
}
