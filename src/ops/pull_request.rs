//! `report markdown`: what a pull-request comment says — totals, the items
//! whose status changed since a git revision or evidence run, the
//! regressions among them (or, without `--since`, the items whose latest
//! change was one), and verified items gone stale.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use super::since::Since;
use super::trend::BatchRef;
use crate::db::{Database, ItemKind};
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
        Some(n) => {
            let (f, t) = db.batch_counts(n)?;
            f.merged(&t)
        }
        None => db.count_cells()?.iter().fold(StatusCounts::default(), |mut c, cell| {
            c.add(cell.status, cell.count);
            c
        }),
    };
    // Per item with a change in the window: (status at its start, batch,
    // status now, time and row of the latest change). Without --since the
    // window is the whole history, and a regression is an item whose latest
    // change was one; with it, an item this branch moved backwards overall.
    let cutoff = since.as_ref().map(|s| s.at.as_str());
    let mut window: HashMap<(ItemKind, i64), (ItemStatus, Option<i64>, ItemStatus, String, i64)> = HashMap::new();
    let mut latest_regressions = HashMap::new();
    db.for_each_transition(batch, |t| {
        if cutoff.is_some_and(|c| t.at <= c) {
            return;
        }
        let e = window.entry((t.kind, t.item_id)).or_insert((t.from, t.batch, t.to, String::new(), 0));
        e.1 = t.batch;
        e.2 = t.to;
        e.3.clear();
        e.3.push_str(t.at);
        e.4 = t.id;
        if is_regression(t.from, t.to) {
            latest_regressions.insert((t.kind, t.item_id), t.from);
        } else {
            latest_regressions.remove(&(t.kind, t.item_id));
        }
    })?;
    let mut moved: Vec<(i64, ChangedItem)> = Vec::new();
    let mut regressions: Vec<(i64, ChangedItem)> = Vec::new();
    let mut net = NetChange::default();
    for ((kind, id), (start, item_batch, now, at, change)) in window {
        let item = |from| ChangedItem { kind, id, name: String::new(), batch: item_batch, from, to: now, at: at.clone() };
        if since.is_some() && start != now {
            net.done += now.is_done() as i64 - start.is_done() as i64;
            net.verified += (now == ItemStatus::Verified) as i64 - (start == ItemStatus::Verified) as i64;
            moved.push((change, item(start)));
            if is_regression(start, now) {
                regressions.push((change, item(start)));
            }
        }
        if let Some(&from) = latest_regressions.get(&(kind, id)).filter(|_| since.is_none()) {
            regressions.push((change, item(from)));
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
