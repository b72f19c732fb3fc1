//! `report trend`: counts by status over time, rebuilt from the history
//! alone. Every item starts `not_started`; replaying the append-only history
//! in commit order (each row moves one item `from` → `to`) gives the counts
//! at the end of every day or week, so a database from last month shows its
//! trend at once. One pass serves several scopes (all items and any
//! batches) and notes the items whose latest change was a regression.

use std::collections::HashMap;

use serde::Serialize;

use crate::db::{Database, ItemKind};
use crate::domain::calendar::{Day, Granularity};
use crate::domain::progress::{self, Projection};
use crate::domain::status::{ItemStatus, StatusCounts, DONE_RULE};
use crate::error::Error;

/// What a series counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    All,
    Batch(i64),
}

/// Counts at the end of one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodPoint {
    pub start: Day,
    pub end: Day,
    pub done: u64,
    pub verified: u64,
    pub deferred: u64,
    pub stub: u64,
    pub total: u64,
    /// Change of `done` over the period (negative when items regressed).
    pub velocity: i64,
}

/// One scope's counts over the periods.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub total: u64,
    /// The state at the end of the period before the first one (every item
    /// not started, unless `since` left earlier changes out), where a
    /// burn-up line starts.
    pub before: PeriodPoint,
    pub periods: Vec<PeriodPoint>,
    /// Status changes of this scope in the whole history.
    pub changes: u64,
    /// Items whose status in the table differs from the replay (changed
    /// outside porttrack); 0 for a database only porttrack wrote.
    pub unexplained: u64,
}

impl Series {
    pub fn projection(&self, by: Granularity) -> Projection {
        let done = self.periods.last().map_or(0, |p| p.done);
        let velocities: Vec<i64> = self.periods.iter().map(|p| p.velocity).collect();
        let last_start = self.periods.last().map_or(Day(0), |p| p.start);
        progress::project(&velocities, self.total.saturating_sub(done), by, last_start)
    }
}

/// An item whose latest change undid progress ([`progress::is_regression`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Regression {
    pub kind: ItemKind,
    pub id: i64,
    pub batch: Option<i64>,
    pub from: ItemStatus,
    pub to: ItemStatus,
    pub at: String,
    /// The history row of the change.
    pub change: i64,
}

/// The periods to count: from the period holding `since` (or the first
/// change) through the one holding `until`.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub by: Granularity,
    pub since: Option<Day>,
    pub until: Day,
}

pub struct Replay {
    /// In the order of the scopes asked for.
    pub series: Vec<Series>,
    /// Items whose latest change was a regression, oldest change first.
    pub regressed: Vec<Regression>,
}

/// Counts by status (signed, so a history that disagrees with itself
/// shows up as a difference instead of an overflow).
#[derive(Debug, Clone, Copy, Default)]
struct Tally([i64; 6]);

impl Tally {
    fn get(&self, s: ItemStatus) -> u64 {
        self.0[s as usize].max(0) as u64
    }

    fn point(&self, start: Day, by: Granularity, total: u64, before: &Tally) -> PeriodPoint {
        let done = self.done();
        PeriodPoint {
            start,
            end: start.plus(by.days() - 1),
            done: done.max(0) as u64,
            verified: self.get(ItemStatus::Verified),
            deferred: self.get(ItemStatus::Deferred),
            stub: self.get(ItemStatus::Stub),
            total,
            velocity: done - before.done(),
        }
    }

    fn done(&self) -> i64 {
        ItemStatus::ALL.iter().filter(|s| s.is_done()).map(|&s| self.0[s as usize]).sum()
    }
}

struct ScopeState {
    scope: Scope,
    total: u64,
    table: [u64; 6],
    tally: Tally,
    /// Tally at the end of each closed period; `[0]` is the state before
    /// the first period.
    closed: Vec<Tally>,
    changes: u64,
}

/// `report trend` of all items or one batch.
#[derive(Debug, Clone, Serialize)]
pub struct Trend {
    pub batch: Option<BatchRef>,
    pub by: Granularity,
    pub since: Option<Day>,
    pub until: Day,
    pub rule: &'static str,
    /// Today's number of items: the history does not record imports, so
    /// every period is counted against it.
    pub total: u64,
    pub changes: u64,
    pub unexplained: u64,
    pub periods: Vec<PeriodPoint>,
    pub projection: Projection,
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchRef {
    pub number: i64,
    pub name: String,
}

pub fn trend(db: &Database, batch: Option<i64>, window: Window) -> Result<Trend, Error> {
    let batch = match batch {
        Some(n) => Some(BatchRef { number: n, name: db.batch(n)?.ok_or_else(|| super::batch::no_batch(n))?.name }),
        None => None,
    };
    let scope = batch.as_ref().map_or(Scope::All, |b| Scope::Batch(b.number));
    let mut replayed = replay(db, &[scope], window)?;
    let series = replayed.series.remove(0);
    Ok(Trend {
        projection: series.projection(window.by),
        batch,
        by: window.by,
        since: window.since,
        until: window.until,
        rule: DONE_RULE,
        total: series.total,
        changes: series.changes,
        unexplained: series.unexplained,
        periods: series.periods,
    })
}

/// Replay the history for `scopes` over `window`.
pub fn replay(db: &Database, scopes: &[Scope], window: Window) -> Result<Replay, Error> {
    if let Some(since) = window.since.filter(|&s| s > window.until) {
        return Err(Error::usage(format!("--since {since} is after --until {}", window.until)));
    }
    let by = window.by;
    let mut states = Vec::with_capacity(scopes.len());
    for &scope in scopes {
        let counts = match scope {
            Scope::All => all_counts(db)?,
            Scope::Batch(b) => db.batch_counts(b)?.all(),
        };
        let mut tally = Tally::default();
        tally.0[ItemStatus::NotStarted as usize] = counts.total() as i64;
        states.push(ScopeState { scope, total: counts.total(), table: ItemStatus::ALL.map(|s| counts.get(s)), tally, closed: Vec::new(), changes: 0 });
    }
    let last_start = by.start_of(window.until);
    let mut first: Option<Day> = window.since.map(|d| by.start_of(d));
    // Index of the next period to close; -1 closes the state before period 0.
    let mut next_to_close: i64 = -1;
    let mut last_index: i64 = first.map_or(-1, |f| (last_start.0 - f.0).div_euclid(by.days()));
    let mut regressed: HashMap<(ItemKind, i64), Regression> = HashMap::new();
    let mut bad_time: Option<(i64, String)> = None;
    let only_batch = match scopes {
        [Scope::Batch(b)] => Some(*b),
        _ => None,
    };
    db.for_each_transition(only_batch, |t| {
        let Some(day) = Day::of_timestamp(t.at) else {
            bad_time.get_or_insert_with(|| (t.id, t.at.to_string()));
            return;
        };
        let start = *first.get_or_insert_with(|| {
            let f = by.start_of(day);
            last_index = (last_start.0 - f.0).div_euclid(by.days());
            f
        });
        let index = (by.start_of(day).0 - start.0).div_euclid(by.days());
        // Changes before the window only set the starting state; those after
        // it count for the final state (the table check) and regressions.
        if index >= 0 {
            close_through(&mut states, &mut next_to_close, (index - 1).min(last_index));
        }
        for s in states.iter_mut().filter(|s| s.scope == Scope::All || Some(s.scope) == t.batch.map(Scope::Batch)) {
            s.tally.0[t.from as usize] -= 1;
            s.tally.0[t.to as usize] += 1;
            s.changes += 1;
        }
        if progress::is_regression(t.from, t.to) {
            let r = Regression { kind: t.kind, id: t.item_id, batch: t.batch, from: t.from, to: t.to, at: t.at.to_string(), change: t.id };
            regressed.insert((t.kind, t.item_id), r);
        } else {
            regressed.remove(&(t.kind, t.item_id));
        }
    })?;
    if let Some((id, at)) = bad_time {
        return Err(Error::Database { path: db.path().to_path_buf(), message: format!("history row {id} has an unreadable time '{at}'") });
    }
    // Periods after the last change hold the final state.
    close_through(&mut states, &mut next_to_close, last_index);
    let start = first.unwrap_or(last_start);
    let periods_wanted = (last_index + 1).max(0) as usize;
    let series = states
        .into_iter()
        .map(|s| {
            let unexplained = ItemStatus::ALL.iter().map(|&st| (s.tally.0[st as usize] - s.table[st as usize] as i64).unsigned_abs()).sum::<u64>() / 2;
            let periods = s
                .closed
                .windows(2)
                .take(periods_wanted)
                .enumerate()
                .map(|(i, w)| w[1].point(start.plus(i as i64 * by.days()), by, s.total, &w[0]))
                .collect();
            let initial = s.closed.first().copied().unwrap_or(s.tally);
            let before = initial.point(start.plus(-by.days()), by, s.total, &initial);
            Series { total: s.total, before, periods, changes: s.changes, unexplained }
        })
        .collect();
    let mut regressed: Vec<Regression> = regressed.into_values().collect();
    regressed.sort_by_key(|r| r.change);
    Ok(Replay { series, regressed })
}

/// Close every period up to `through`: each scope's tally at that moment is
/// the state at the end of the period.
fn close_through(states: &mut [ScopeState], next: &mut i64, through: i64) {
    while *next <= through {
        for s in states.iter_mut() {
            s.closed.push(s.tally);
        }
        *next += 1;
    }
}

fn all_counts(db: &Database) -> Result<StatusCounts, Error> {
    let mut c = StatusCounts::default();
    for cell in db.count_cells()? {
        c.add(cell.status, cell.count);
    }
    Ok(c)
}
