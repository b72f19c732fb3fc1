//! `report html`: everything the progress page shows, gathered in one
//! read — totals, the burn-up of all items and of each charted batch (one
//! history replay), every batch with its readiness and overrides, stale
//! and regressed items, and the items of the charted batches with their
//! Rust targets and evidence.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use serde::Serialize;

use super::batch::BatchListRow;
use super::trend::{self, Scope, Series, Window};
use crate::db::{Database, ItemKind};
use crate::domain::calendar::{Day, Granularity};
use crate::domain::progress::Projection;
use crate::domain::status::{BatchStatus, ItemStatus, StatusCounts, DONE_RULE};
use crate::error::Error;

/// Batches charted when the database is not the built-in plan: the first
/// batches in progress, at most this many.
pub const DEFAULT_CHARTED: usize = 12;
/// How many stale or regressed items are listed by name.
pub const LIST_LIMIT: usize = 200;
/// Spans of history up to this many days are drawn by day, longer by week.
pub const DAILY_UP_TO_DAYS: i64 = 60;

pub struct Options {
    /// `None`: pick by the span of the history.
    pub by: Option<Granularity>,
    /// Batches to chart and drill into; `None`: the default choice.
    pub batches: Option<Vec<i64>>,
    pub today: Day,
    pub generated_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProgressReport {
    pub generated_at: String,
    pub database: String,
    /// What the inventory is (`meta`), e.g. the built-in nats-server commit.
    pub inventory: Option<String>,
    pub rule: &'static str,
    pub counts: StatusCounts,
    pub by: Granularity,
    pub overall: Series,
    pub projection: Projection,
    pub batches: Vec<BatchRow>,
    pub charted: Vec<ChartedBatch>,
    /// Why these batches are charted.
    pub charted_rule: String,
    pub stale: Vec<ListedItem>,
    pub stale_total: usize,
    pub regressed: Vec<ListedItem>,
    pub regressed_total: usize,
    /// Mutation score per batch, from recorded mutation evidence. The
    /// schema records none yet (issue 11 adds it); the page shows the
    /// section only when this holds rows.
    pub mutation: Vec<MutationScore>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchRow {
    #[serde(flatten)]
    pub batch: BatchListRow,
    pub overrides: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChartedBatch {
    pub number: i64,
    pub name: String,
    pub status: BatchStatus,
    pub counts: StatusCounts,
    pub series: Series,
    pub projection: Projection,
    pub items: Vec<DrillItem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DrillItem {
    pub kind: ItemKind,
    pub id: i64,
    pub name: String,
    pub status: ItemStatus,
    pub rust_target: Option<String>,
    pub evidence_run: Option<i64>,
    /// Git commit the evidence run recorded.
    pub commit: Option<String>,
    pub stale: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListedItem {
    pub kind: ItemKind,
    pub id: i64,
    pub name: String,
    pub batch: Option<i64>,
    /// For regressions: the change that undid progress.
    pub from: Option<ItemStatus>,
    pub to: ItemStatus,
    pub at: Option<String>,
    pub rust_file: Option<String>,
    pub evidence_run: Option<i64>,
}

/// Mutants of the verified features of one batch.
#[derive(Debug, Clone, Serialize)]
pub struct MutationScore {
    pub batch: i64,
    pub caught: u64,
    pub missed: u64,
    pub timed_out: u64,
    pub unviable: u64,
}

impl MutationScore {
    /// Caught (and timed-out) mutants over the viable ones, in percent.
    pub fn score(&self) -> Option<f64> {
        let viable = self.caught + self.missed + self.timed_out;
        (viable > 0).then(|| crate::domain::status::percent(self.caught + self.timed_out, viable))
    }
}

pub fn gather(db: &Database, root: &Path, opts: Options) -> Result<ProgressReport, Error> {
    let list = super::batch::list(db)?.batches;
    let known: BTreeSet<i64> = list.iter().map(|b| b.number).collect();
    let (chart_numbers, charted_rule) = match opts.batches {
        Some(numbers) => {
            if let Some(missing) = numbers.iter().find(|n| !known.contains(n)) {
                return Err(super::batch::no_batch(*missing));
            }
            (numbers, "the batches asked for with --batches".to_string())
        }
        None => default_charted(db, &list)?,
    };
    let by = match opts.by {
        Some(by) => by,
        None => auto_granularity(db, opts.today)?,
    };
    let mut scopes = vec![Scope::All];
    scopes.extend(chart_numbers.iter().map(|&n| Scope::Batch(n)));
    let window = Window { by, since: None, until: opts.today };
    let mut replay = trend::replay(db, &scopes, window)?;
    let overall = replay.series.remove(0);

    let stale_items = super::stale::stale_items(db, root, None)?;
    let stale_set: BTreeSet<(ItemKind, i64)> = stale_items.iter().map(|s| (s.kind, s.id)).collect();
    let commits: HashMap<i64, Option<String>> = db.gate_runs(i64::MAX)?.into_iter().map(|r| (r.id, r.git_commit)).collect();
    let by_number: HashMap<i64, &BatchListRow> = list.iter().map(|b| (b.number, b)).collect();
    let mut charted = Vec::new();
    for (n, series) in chart_numbers.iter().zip(replay.series) {
        let row = by_number[n];
        let items = db
            .batch_items(*n)?
            .into_iter()
            .map(|i| DrillItem {
                kind: i.kind,
                id: i.id,
                name: i.qualified_name(),
                status: i.status,
                rust_target: i.rust_target(),
                commit: i.evidence_run.and_then(|r| commits.get(&r).cloned().flatten()),
                evidence_run: i.evidence_run,
                stale: stale_set.contains(&(i.kind, i.id)),
            })
            .collect();
        charted.push(ChartedBatch {
            number: *n,
            name: row.name.clone(),
            status: row.status,
            counts: row.features.merged(&row.tests),
            projection: series.projection(by),
            series,
            items,
        });
    }

    let mut stale = Vec::new();
    for s in stale_items.iter().take(LIST_LIMIT) {
        let item = db.item(s.kind, s.id)?;
        stale.push(ListedItem {
            kind: s.kind,
            id: s.id,
            name: item.as_ref().map(|i| i.qualified_name()).unwrap_or_default(),
            batch: item.as_ref().and_then(|i| i.batch),
            from: None,
            to: ItemStatus::Verified,
            at: None,
            rust_file: Some(s.rust_file.clone()),
            evidence_run: item.and_then(|i| i.evidence_run),
        });
    }
    let mut regressed = Vec::new();
    for r in replay.regressed.iter().rev().take(LIST_LIMIT) {
        let item = db.item(r.kind, r.id)?;
        regressed.push(ListedItem {
            kind: r.kind,
            id: r.id,
            name: item.as_ref().map(|i| i.qualified_name()).unwrap_or_default(),
            batch: r.batch,
            from: Some(r.from),
            to: r.to,
            at: Some(r.at.clone()),
            rust_file: item.as_ref().and_then(|i| i.rust_file.clone()),
            evidence_run: item.and_then(|i| i.evidence_run),
        });
    }
    let mut batches = Vec::with_capacity(list.len());
    for b in list {
        let overrides = db.overrides(b.number)?.len();
        batches.push(BatchRow { batch: b, overrides });
    }
    let counts = overall_counts(db)?;
    Ok(ProgressReport {
        generated_at: opts.generated_at,
        database: db.path().display().to_string(),
        inventory: db.meta_value("inventory.source")?,
        rule: DONE_RULE,
        counts,
        by,
        projection: overall.projection(by),
        overall,
        batches,
        charted,
        charted_rule,
        stale_total: stale_items.len(),
        stale,
        regressed_total: replay.regressed.len(),
        regressed,
        mutation: Vec::new(),
    })
}

fn overall_counts(db: &Database) -> Result<StatusCounts, Error> {
    let mut c = StatusCounts::default();
    for cell in db.count_cells()? {
        c.add(cell.status, cell.count);
    }
    Ok(c)
}

/// The built-in plan's named batches; for other databases the first
/// batches in progress.
fn default_charted(db: &Database, list: &[BatchListRow]) -> Result<(Vec<i64>, String), Error> {
    if db.meta_value("plan")?.as_deref() == Some("built-in") {
        let numbers: Vec<i64> = crate::builtin::PLAN_BATCHES.filter(|n| list.iter().any(|b| b.number == *n)).collect();
        let rule = format!("the built-in plan's batches {}–{}", crate::builtin::PLAN_BATCHES.start(), crate::builtin::PLAN_BATCHES.end());
        return Ok((numbers, rule));
    }
    let in_progress: Vec<i64> = list.iter().filter(|b| b.status == BatchStatus::InProgress).map(|b| b.number).collect();
    let rule = if in_progress.len() > DEFAULT_CHARTED {
        format!("the first {DEFAULT_CHARTED} of {} batches in progress (choose others with --batches)", in_progress.len())
    } else {
        "the batches in progress (choose others with --batches)".to_string()
    };
    Ok((in_progress.into_iter().take(DEFAULT_CHARTED).collect(), rule))
}

/// By day when the history spans at most [`DAILY_UP_TO_DAYS`], else by week.
fn auto_granularity(db: &Database, today: Day) -> Result<Granularity, Error> {
    Ok(match db.first_change_at()?.as_deref().and_then(Day::of_timestamp) {
        Some(f) if today.0 - f.0 <= DAILY_UP_TO_DAYS => Granularity::Day,
        _ => Granularity::Week,
    })
}
