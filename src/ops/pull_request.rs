//! `report markdown`: what a pull-request comment says — totals, the items
//! whose status changed since a git revision or evidence run, the
//! regressions among them (or, without `--since`, the items whose latest
//! change was one), and verified items gone stale.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use super::since::Since;
use super::trend::BatchRef;
use crate::db::{Database, ItemKind, Transition};
use crate::domain::progress::is_regression;
use crate::domain::status::{ItemStatus, StatusCounts, DONE_RULE};
use crate::error::Error;

/// How many items each list shows; the rest are counted.
pub const LIST_LIMIT: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedItem {
    pub kind: ItemKind,
    pub id: i64,
    pub name: String,
    pub batch: Option<i64>,
    pub from: ItemStatus,
    pub to: ItemStatus,
    /// Time of the item's latest change.
    pub at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StaleEntry {
    pub kind: ItemKind,
    pub id: i64,
    pub name: String,
    pub rust_file: String,
    pub evidence_run: Option<i64>,
}

/// Net change of the counts over the moved items.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NetChange {
    pub done: i64,
    pub verified: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PullRequestSummary {
    pub batch: Option<BatchRef>,
    pub rule: &'static str,
    pub counts: StatusCounts,
    pub since: Option<Since>,
    /// Items whose status now differs from their status at `since`.
    pub moved: Vec<ChangedItem>,
    pub moved_total: usize,
    pub net: NetChange,
    pub regressions: Vec<ChangedItem>,
    pub regressions_total: usize,
    pub stale: Vec<StaleEntry>,
}

pub fn summary(db: &Database, root: &Path, batch: Option<i64>, since: Option<Since>) -> Result<PullRequestSummary, Error> {
    let batch_ref = match batch {
        Some(n) => Some(BatchRef { number: n, name: db.batch(n)?.ok_or_else(|| super::batch::no_batch(n))?.name }),
        None => None,
    };
    let counts = match batch {
        Some(n) => db.batch_counts(n)?.all(),
        None => db.count_cells()?.iter().fold(StatusCounts::default(), |mut c, cell| {
            c.add(cell.status, cell.count);
            c
        }),
    };
    let mut moved: Vec<(i64, ChangedItem)> = Vec::new();
    let mut regressions: Vec<(i64, ChangedItem)> = Vec::new();
    let mut net = NetChange::default();
    match &since {
        // Each item changed after the cutoff: its status then (the first
        // change's `from`) against its status now (the last change's `to`).
        // A regression is an item this branch moved backwards overall.
        Some(since) => {
            let mut window: HashMap<(ItemKind, i64), (ItemStatus, ChangedItem, i64)> = HashMap::new();
            db.for_each_transition(batch, |t| {
                if t.at <= since.at.as_str() {
                    return;
                }
                let e = window.entry((t.kind, t.item_id)).or_insert_with(|| (t.from, changed(&t), t.id));
                e.1.batch = t.batch;
                e.1.to = t.to;
                e.1.at.clear();
                e.1.at.push_str(t.at);
                e.2 = t.id;
            })?;
            for (start, mut item, change) in window.into_values().filter(|(start, item, _)| *start != item.to) {
                let now = item.to;
                net.done += now.is_done() as i64 - start.is_done() as i64;
                net.verified += (now == ItemStatus::Verified) as i64 - (start == ItemStatus::Verified) as i64;
                item.from = start;
                if is_regression(start, now) {
                    regressions.push((change, item.clone()));
                }
                moved.push((change, item));
            }
        }
        // Without --since: the items whose latest change undid progress.
        None => {
            let mut latest: HashMap<(ItemKind, i64), (ChangedItem, i64)> = HashMap::new();
            db.for_each_transition(batch, |t| {
                if is_regression(t.from, t.to) {
                    latest.insert((t.kind, t.item_id), (changed(&t), t.id));
                } else {
                    latest.remove(&(t.kind, t.item_id));
                }
            })?;
            regressions.extend(latest.into_values().map(|(item, change)| (change, item)));
        }
    }
    let moved_total = moved.len();
    let regressions_total = regressions.len();
    let moved = named(db, moved)?;
    let regressions = named(db, regressions)?;
    let mut stale = Vec::new();
    for s in super::stale::stale_items(db, root, batch)? {
        let row = db.item(s.kind, s.id)?;
        stale.push(StaleEntry {
            kind: s.kind,
            id: s.id,
            name: row.as_ref().map(|r| r.qualified_name()).unwrap_or_default(),
            rust_file: s.rust_file,
            evidence_run: row.and_then(|r| r.evidence_run),
        });
    }
    Ok(PullRequestSummary { batch: batch_ref, rule: DONE_RULE, counts, since, moved, moved_total, net, regressions, regressions_total, stale })
}

/// The change as a listed item (named later, for the few shown).
fn changed(t: &Transition<'_>) -> ChangedItem {
    ChangedItem { kind: t.kind, id: t.item_id, name: String::new(), batch: t.batch, from: t.from, to: t.to, at: t.at.to_string() }
}

/// The first [`LIST_LIMIT`] items in history order, with their names.
fn named(db: &Database, mut items: Vec<(i64, ChangedItem)>) -> Result<Vec<ChangedItem>, Error> {
    items.sort_by_key(|(change, i)| (*change, i.kind, i.id));
    let mut out = Vec::new();
    for (_, mut i) in items.into_iter().take(LIST_LIMIT) {
        i.name = db.item(i.kind, i.id)?.map(|r| r.qualified_name()).unwrap_or_default();
        out.push(i);
    }
    Ok(out)
}
