//! `porttrack db dump` and `porttrack db diff`: a database's history,
//! evidence and item states as data that renders to canonical text (one
//! line per change, run or moved item, sorted by time and global ID, so
//! `git diff` and review show what a branch moved), and the item-level
//! differences between two files. Files are read through copies, so an
//! older schema is upgraded in the copy, never in place.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;

use crate::db::{db_error, Database, ItemState, RunSummary};
use crate::domain::merge::Change;
use crate::error::Error;
use crate::git::Repo;

/// An item whose state is not the initial one (not_started, no evidence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemLine {
    pub kind: String,
    pub id: i64,
    pub status: String,
    pub evidence: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Dump {
    /// With --since: the commit compared against.
    pub since: Option<String>,
    pub runs: Vec<RunSummary>,
    pub changes: Vec<Change>,
    pub items: Vec<ItemLine>,
}

/// Open `path` through a copy in `dir` (upgrading the copy's schema).
fn open_copy(path: &Path, dir: &Path, name: &str) -> Result<Database, Error> {
    let meta = std::fs::metadata(path).map_err(|e| db_error(path, format!("cannot open: {e}")))?;
    if !meta.is_file() {
        return Err(db_error(path, "is not a regular file"));
    }
    let copy = dir.join(format!("{name}.db"));
    std::fs::copy(path, &copy).map_err(|e| db_error(path, format!("cannot copy: {e}")))?;
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    if Path::new(&wal).is_file() {
        std::fs::copy(&wal, dir.join(format!("{name}.db-wal"))).map_err(|e| db_error(path, format!("cannot copy its WAL: {e}")))?;
    }
    Database::open(&copy).map_err(|e| match e {
        Error::Database { message, .. } => db_error(path, message),
        other => other,
    })
}

fn temp_dir() -> Result<tempfile::TempDir, Error> {
    tempfile::Builder::new().prefix("porttrack-dump-").tempdir().map_err(|e| Error::Refused(format!("cannot make a temporary directory: {e}")))
}

fn dump_of(db: &Database) -> Result<Dump, Error> {
    let mut changes: Vec<Change> = db.export_history()?.into_iter().map(|(_, c)| c).collect();
    changes.sort_by(|a, b| crate::domain::merge::order(a).cmp(&crate::domain::merge::order(b)));
    let mut runs = db.run_summaries()?;
    runs.sort_by(|a, b| (&a.started_at, &a.uid).cmp(&(&b.started_at, &b.uid)));
    let items = item_lines(&db.item_states()?);
    Ok(Dump { since: None, runs, changes, items })
}

fn item_lines(states: &std::collections::HashMap<(String, i64), ItemState>) -> Vec<ItemLine> {
    let mut items: Vec<ItemLine> = states
        .iter()
        .filter(|(_, s)| s.status != "not_started" || s.evidence_uid.is_some())
        .map(|((kind, id), s)| ItemLine { kind: kind.clone(), id: *id, status: s.status.clone(), evidence: s.evidence_uid.clone() })
        .collect();
    items.sort_by(|a, b| (&a.kind, a.id).cmp(&(&b.kind, b.id)));
    items
}

/// The database at `db` (read through a copy); with `since`, only what is
/// new or different from the same file at that git commit.
pub fn dump(db: &Path, since: Option<&str>) -> Result<Dump, Error> {
    let dir = temp_dir()?;
    let mut out = dump_of(&open_copy(db, dir.path(), "now")?)?;
    let Some(rev) = since else { return Ok(out) };
    let parent = db.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let repo = Repo::at(parent).ok_or_else(|| Error::usage(format!("--since {rev}: {} is not inside a git work tree", db.display())))?;
    let rel = repo.relative(db).ok_or_else(|| Error::usage(format!("--since {rev}: {} is outside the work tree", db.display())))?;
    let bytes = repo.blob(rev, &rel).map_err(|e| Error::not_found_with_hint("git revision", rev.to_string(), format!(" holding {rel} ({e})")))?;
    let then_path = dir.path().join("then-blob.db");
    std::fs::write(&then_path, bytes).map_err(|e| Error::Refused(format!("cannot write a temporary file: {e}")))?;
    let then = dump_of(&open_copy(&then_path, dir.path(), "then")?)?;
    let old_changes: BTreeSet<&str> = then.changes.iter().map(|c| c.uid.as_str()).collect();
    let old_runs: BTreeSet<&str> = then.runs.iter().map(|r| r.uid.as_str()).collect();
    let old_items: BTreeSet<(&str, i64, &str, Option<&str>)> = then.items.iter().map(|i| (i.kind.as_str(), i.id, i.status.as_str(), i.evidence.as_deref())).collect();
    out.changes.retain(|c| !old_changes.contains(c.uid.as_str()));
    out.runs.retain(|r| !old_runs.contains(r.uid.as_str()));
    // An item moved back to not_started since then shows as such.
    let now_keys: BTreeSet<(String, i64)> = out.items.iter().map(|i| (i.kind.clone(), i.id)).collect();
    let reset: Vec<ItemLine> = then
        .items
        .iter()
        .filter(|i| !now_keys.contains(&(i.kind.clone(), i.id)))
        .map(|i| ItemLine { kind: i.kind.clone(), id: i.id, status: "not_started".into(), evidence: None })
        .collect();
    out.items.retain(|i| !old_items.contains(&(i.kind.as_str(), i.id, i.status.as_str(), i.evidence.as_deref())));
    out.items.extend(reset);
    out.items.sort_by(|a, b| (&a.kind, a.id).cmp(&(&b.kind, b.id)));
    out.since = Some(rev.to_string());
    Ok(out)
}

/// One item whose state differs between the two files.
#[derive(Debug, Clone, Serialize)]
pub struct ItemDifference {
    pub kind: String,
    pub id: i64,
    pub name: String,
    pub a: ItemLine,
    pub b: ItemLine,
}

#[derive(Debug, Clone, Serialize)]
pub struct DbDiff {
    pub a: String,
    pub b: String,
    pub items: Vec<ItemDifference>,
    /// Items only one file has (imported on one side).
    pub only_in_a: Vec<String>,
    pub only_in_b: Vec<String>,
    /// Global IDs of changes and runs only one file holds.
    pub changes_only_in_a: Vec<String>,
    pub changes_only_in_b: Vec<String>,
    pub runs_only_in_a: Vec<String>,
    pub runs_only_in_b: Vec<String>,
}

impl DbDiff {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
            && self.only_in_a.is_empty()
            && self.only_in_b.is_empty()
            && self.changes_only_in_a.is_empty()
            && self.changes_only_in_b.is_empty()
            && self.runs_only_in_a.is_empty()
            && self.runs_only_in_b.is_empty()
    }
}

pub fn diff(a: &Path, b: &Path) -> Result<DbDiff, Error> {
    let dir = temp_dir()?;
    let (da, db) = (open_copy(a, dir.path(), "a")?, open_copy(b, dir.path(), "b")?);
    let (sa, sb) = (da.item_states()?, db.item_states()?);
    let line = |k: &(String, i64), s: &ItemState| ItemLine { kind: k.0.clone(), id: k.1, status: s.status.clone(), evidence: s.evidence_uid.clone() };
    let keys: BTreeSet<&(String, i64)> = sa.keys().chain(sb.keys()).collect();
    let mut items = Vec::new();
    let (mut only_in_a, mut only_in_b) = (Vec::new(), Vec::new());
    for k in keys {
        match (sa.get(k), sb.get(k)) {
            (Some(x), Some(y)) if x.status != y.status || x.evidence_uid != y.evidence_uid => {
                let name = crate::domain::status::ItemKind::from_stored(&k.0).and_then(|kind| da.item(kind, k.1).ok().flatten()).map(|r| r.qualified_name()).unwrap_or_default();
                items.push(ItemDifference { kind: k.0.clone(), id: k.1, name, a: line(k, x), b: line(k, y) });
            }
            (Some(_), None) => only_in_a.push(format!("{} {}", k.0, k.1)),
            (None, Some(_)) => only_in_b.push(format!("{} {}", k.0, k.1)),
            _ => {}
        }
    }
    let set = |v: Vec<String>| v.into_iter().collect::<BTreeSet<String>>();
    let (ca, cb) = (set(da.export_history()?.into_iter().map(|(_, c)| c.uid).collect()), set(db.export_history()?.into_iter().map(|(_, c)| c.uid).collect()));
    let (ra, rb) = (set(da.export_runs()?.into_iter().map(|(_, r)| r.uid).collect()), set(db.export_runs()?.into_iter().map(|(_, r)| r.uid).collect()));
    let minus = |x: &BTreeSet<String>, y: &BTreeSet<String>| x.difference(y).cloned().collect::<Vec<_>>();
    Ok(DbDiff {
        a: a.display().to_string(),
        b: b.display().to_string(),
        items,
        only_in_a,
        only_in_b,
        changes_only_in_a: minus(&ca, &cb),
        changes_only_in_b: minus(&cb, &ca),
        runs_only_in_a: minus(&ra, &rb),
        runs_only_in_b: minus(&rb, &ra),
    })
}
