//! Upstream drift as commands show it: `upstream diff` and `upstream list`,
//! the report of `import go --as-of`, and the drift marks and "upstream
//! changed" flags of `batch show`, `feature show` and `report summary`.

use std::collections::HashMap;

use serde::Serialize;

use crate::db::{find_commit, Database, DriftFilter, DriftRow, ItemKind, UpstreamCommit};
use crate::domain::status::ItemStatus;
use crate::domain::upstream::{classify, upstream_changed, Drift};
use crate::error::Error;

/// Meta key naming the commit the plan's inventory was taken at.
pub const PLAN_COMMIT_KEY: &str = "inventory.commit";

/// One item that drifted.
#[derive(Debug, Clone, Serialize)]
pub struct DriftItem {
    pub kind: ItemKind,
    pub id: i64,
    pub name: String,
    pub file: String,
    pub line: i64,
    pub batch: Option<i64>,
    pub status: ItemStatus,
    pub drift: Drift,
    /// Complete or verified, and the Go it was proven against has changed.
    pub upstream_changed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    /// What the older side is: a commit, or the plan's inventory.
    pub from: String,
    pub to: String,
    pub batch: Option<i64>,
    pub changed: Vec<DriftItem>,
    pub new: Vec<DriftItem>,
    pub gone: Vec<DriftItem>,
}

impl DiffReport {
    pub fn count(&self) -> usize {
        self.changed.len() + self.new.len() + self.gone.len()
    }
}

/// The plan's side of a diff, for humans: its commit when known.
fn plan_label(db: &Database) -> Result<String, Error> {
    Ok(match db.meta_value(PLAN_COMMIT_KEY)? {
        Some(c) => short(&c).to_string(),
        None => "the imported inventory".to_string(),
    })
}

pub fn short(commit: &str) -> &str {
    &commit[..commit.len().min(9)]
}

fn drift_item(r: &DriftRow, drift: Drift) -> DriftItem {
    DriftItem {
        kind: r.kind,
        id: r.id,
        name: r.name.clone(),
        file: r.file.clone(),
        line: r.line,
        batch: r.batch,
        status: r.status,
        drift,
        upstream_changed: upstream_changed(r.status, r.proven_hash.as_deref(), r.to_hash.as_deref()),
    }
}

/// Drift from `from` (a recorded commit; None: the plan's inventory) to
/// `to` (a recorded commit; None: the latest).
pub fn diff(db: &Database, from: Option<&str>, to: Option<&str>, batch: Option<i64>) -> Result<DiffReport, Error> {
    let commits = db.upstream_commits()?;
    let to = match to {
        Some(t) => find_commit(&commits, t)?,
        None => commits.last().cloned().ok_or_else(|| Error::not_found_with_hint("upstream commit", "latest", "; none recorded yet (`porttrack import go DIR --as-of COMMIT`)"))?,
    };
    let from = from.map(|f| find_commit(&commits, f)).transpose()?;
    if let Some(b) = batch {
        db.batch(b)?.ok_or_else(|| super::batch::no_batch(b))?;
    }
    diff_between(db, from.as_ref(), &to, batch)
}

pub(crate) fn diff_between(db: &Database, from: Option<&UpstreamCommit>, to: &UpstreamCommit, batch: Option<i64>) -> Result<DiffReport, Error> {
    let rows = db.drift(from.map(|f| f.id), to.id, &DriftFilter { batch, ..DriftFilter::default() })?;
    let mut report = DiffReport {
        from: match from {
            Some(f) => short(&f.commit).to_string(),
            None => plan_label(db)?,
        },
        to: short(&to.commit).to_string(),
        batch,
        changed: Vec::new(),
        new: Vec::new(),
        gone: Vec::new(),
    };
    for r in &rows {
        match classify(r.from_hash.as_deref(), r.to_hash.as_deref()) {
            Some(Drift::Changed) => report.changed.push(drift_item(r, Drift::Changed)),
            Some(Drift::New) => report.new.push(drift_item(r, Drift::New)),
            Some(Drift::Gone) => report.gone.push(drift_item(r, Drift::Gone)),
            None => {}
        }
    }
    Ok(report)
}

/// Record `inv` as upstream `commit` and report its drift from the commit
/// recorded before it (or, for the first, from the plan's inventory).
pub fn record(db: &mut Database, inv: &crate::inventory::Inventory, commit: &str, at: &str) -> Result<(crate::db::SnapshotReport, DiffReport), Error> {
    let before = db.upstream_commits()?;
    let previous = before.iter().rev().find(|c| c.commit != commit).cloned();
    let snapshot = db.record_upstream(inv, commit, at)?;
    let commits = db.upstream_commits()?;
    let this = commits.iter().find(|c| c.id == snapshot.upstream_id).cloned().ok_or_else(|| Error::not_found("upstream commit", commit))?;
    let drift = diff_between(db, previous.as_ref(), &this, None)?;
    Ok((snapshot, drift))
}

#[derive(Debug, Clone, Serialize)]
pub struct CommitList {
    pub plan: Option<String>,
    pub commits: Vec<UpstreamCommit>,
}

pub fn list(db: &Database) -> Result<CommitList, Error> {
    Ok(CommitList { plan: db.meta_value(PLAN_COMMIT_KEY)?, commits: db.upstream_commits()? })
}

/// An item's drift from the plan to the latest upstream commit, and its flag.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Mark {
    pub drift: Option<Drift>,
    pub upstream_changed: bool,
}

/// Drift since the plan and flags, per item, against the latest upstream
/// commit, with their counts (None when no upstream commit is recorded).
pub struct Marks {
    pub items: HashMap<(ItemKind, i64), Mark>,
    pub summary: Option<DriftSummary>,
}

/// The drift counts `batch show` and `report summary` print.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DriftSummary {
    /// The plan's commit (or "the plan's inventory").
    pub plan: String,
    /// The latest upstream commit, which the port follows.
    pub upstream: String,
    pub changed: usize,
    pub new: usize,
    pub gone: usize,
    /// Complete or verified items whose Go changed since they were proven:
    /// `kind id name`.
    pub upstream_changed: Vec<String>,
}

/// Marks for the items a filter selects (one batch, one item, or all).
pub fn marks(db: &Database, filter: DriftFilter) -> Result<Marks, Error> {
    let mut items = HashMap::new();
    let Some(latest) = db.upstream_commits()?.pop() else {
        return Ok(Marks { items, summary: None });
    };
    let mut s = DriftSummary { plan: plan_label(db)?, upstream: short(&latest.commit).to_string(), ..DriftSummary::default() };
    for r in db.drift(None, latest.id, &DriftFilter { all: true, ..filter })? {
        let mark = Mark { drift: classify(r.from_hash.as_deref(), r.to_hash.as_deref()), upstream_changed: upstream_changed(r.status, r.proven_hash.as_deref(), r.to_hash.as_deref()) };
        match mark.drift {
            Some(Drift::Changed) => s.changed += 1,
            Some(Drift::New) => s.new += 1,
            Some(Drift::Gone) => s.gone += 1,
            None => {}
        }
        if mark.upstream_changed {
            s.upstream_changed.push(format!("{} {} {}", r.kind.as_str(), r.id, r.name));
        }
        if mark != Mark::default() {
            items.insert((r.kind, r.id), mark);
        }
    }
    Ok(Marks { items, summary: Some(s) })
}

/// One item at the latest upstream commit, for `feature show`/`test show`.
#[derive(Debug, Clone, Serialize)]
pub struct ItemUpstream {
    pub plan: String,
    pub upstream: String,
    /// Its line at the upstream commit (None: gone there).
    pub line: Option<i64>,
    pub drift: Option<Drift>,
    pub upstream_changed: bool,
}

pub fn item(db: &Database, kind: ItemKind, id: i64) -> Result<Option<ItemUpstream>, Error> {
    if kind == ItemKind::Module {
        return Ok(None);
    }
    let Some(latest) = db.upstream_commits()?.pop() else { return Ok(None) };
    let rows = db.drift(None, latest.id, &DriftFilter { item: Some((kind, id)), all: true, ..DriftFilter::default() })?;
    // An item outside the snapshot's root has no upstream side at all.
    let Some(r) = rows.first() else { return Ok(None) };
    Ok(Some(ItemUpstream {
        plan: plan_label(db)?,
        upstream: short(&latest.commit).to_string(),
        line: r.to_hash.as_ref().map(|_| r.line),
        drift: classify(r.from_hash.as_deref(), r.to_hash.as_deref()),
        upstream_changed: upstream_changed(r.status, r.proven_hash.as_deref(), r.to_hash.as_deref()),
    }))
}
