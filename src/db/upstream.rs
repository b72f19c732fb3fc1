//! Upstream snapshots: `import go DIR --as-of COMMIT` records, for every
//! item present at COMMIT, its line, LOC and body hash there. Items are
//! matched by (module, file, receiver, name, ordinal) and keep their IDs;
//! items new upstream get the next IDs in batches named for their file;
//! nothing is ever removed. Drift between two snapshots (or the plan's own
//! inventory) is read back with [`Database::drift`].

use std::collections::HashSet;

use rusqlite::types::Value;
use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;

use super::load::{self, ItemTable, WriteMode};
use super::read::kind_of;
use super::Database;
use crate::domain::plan::Plan;
use crate::domain::status::{ItemKind, ItemStatus};
use crate::error::Error;
use crate::inventory::Inventory;

/// One recorded upstream commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpstreamCommit {
    pub id: i64,
    pub commit: String,
    /// Path prefix of the items the snapshot covers (`server/`).
    pub root: String,
    pub imported_at: String,
    /// Features and tests present at the commit.
    pub items: u64,
}

/// What recording a snapshot added.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SnapshotReport {
    pub upstream_id: i64,
    pub modules_added: usize,
    pub features_added: usize,
    pub tests_added: usize,
    pub links_added: usize,
    pub batches_added: usize,
    /// Features and tests recorded at the commit.
    pub recorded: usize,
}

/// One item of a drift query: its hash at the two sides (None: not there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriftRow {
    pub kind: ItemKind,
    pub id: i64,
    pub name: String,
    pub file: String,
    /// Line at the newer side, or in the inventory when absent there.
    pub line: i64,
    pub batch: Option<i64>,
    pub status: ItemStatus,
    pub from_hash: Option<String>,
    pub to_hash: Option<String>,
    /// Body hash the port followed when the item last became complete or verified.
    pub proven_hash: Option<String>,
}

impl Database {
    /// Record `inv` as the source at upstream `commit` (again, if it was
    /// recorded before: its rows are replaced), in one transaction.
    pub fn record_upstream(&mut self, inv: &Inventory, commit: &str, at: &str) -> Result<SnapshotReport, Error> {
        self.write(|tx| record_in(tx, inv, commit, at))
    }

    /// Every recorded upstream commit, oldest first.
    pub fn upstream_commits(&self) -> Result<Vec<UpstreamCommit>, Error> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT u.id, u.commit_id, u.root, u.imported_at, (SELECT count(*) FROM upstream_items i WHERE i.upstream_id = u.id)
                 FROM upstream_commits u ORDER BY u.id",
            )?;
            let rows = stmt.query_map([], |r| Ok(UpstreamCommit { id: r.get(0)?, commit: r.get(1)?, root: r.get(2)?, imported_at: r.get(3)?, items: r.get::<_, i64>(4)? as u64 }))?;
            rows.collect()
        })
    }

    /// Items whose presence or body differs between `from` (None: the
    /// plan's own inventory) and `to`, under `to`'s root, optionally of one
    /// batch or of some items only. Rows that are the same on both sides
    /// are left out unless `all` is set.
    pub fn drift(&self, from: Option<i64>, to: i64, filter: &DriftFilter) -> Result<Vec<DriftRow>, Error> {
        self.read(|c| {
            let root: String = c.query_row("SELECT root FROM upstream_commits WHERE id = ?1", [to], |r| r.get(0))?;
            let mut out = Vec::new();
            for (kind, table, name) in [
                (ItemKind::Feature, "features", "CASE WHEN x.receiver = '' THEN x.name ELSE x.receiver || '.' || x.name END"),
                (ItemKind::Test, "tests", "x.name"),
            ] {
                let id = match filter.item {
                    Some((k, id)) if k == kind => Some(id),
                    Some(_) => continue,
                    None => None,
                };
                // Table and column expressions are our own constants.
                let sql = format!(
                    "SELECT '{kind}', x.id, {name}, s.path, coalesce(t.line, x.line), x.batch_id, x.status,
                            CASE WHEN ?1 IS NULL THEN CASE WHEN x.first_upstream IS NULL THEN x.body_hash END ELSE f.body_hash END,
                            t.body_hash, x.proven_hash
                     FROM {table} x JOIN source_files s ON s.id = x.file_id
                     LEFT JOIN upstream_items f ON f.upstream_id = ?1 AND f.item_kind = '{kind}' AND f.item_id = x.id
                     LEFT JOIN upstream_items t ON t.upstream_id = ?2 AND t.item_kind = '{kind}' AND t.item_id = x.id
                     WHERE substr(s.path, 1, length(?3)) = ?3 AND (?4 IS NULL OR x.batch_id = ?4)
                       AND (?6 IS NULL OR x.id = ?6)
                       AND (NOT ?7 OR x.status IN ('complete', 'verified'))
                       AND (?5 OR ?7 OR coalesce(t.body_hash, '') <> coalesce(CASE WHEN ?1 IS NULL THEN CASE WHEN x.first_upstream IS NULL THEN x.body_hash END ELSE f.body_hash END, ''))
                     ORDER BY x.id",
                    kind = kind.as_str()
                );
                let mut stmt = c.prepare_cached(&sql)?;
                let mut rows = stmt.query(params![from, to, root, filter.batch, filter.all, id, filter.finished_only])?;
                while let Some(r) = rows.next()? {
                    let status: String = r.get(6)?;
                    out.push(DriftRow {
                        kind: kind_of(r, 0)?,
                        id: r.get(1)?,
                        name: r.get(2)?,
                        file: r.get(3)?,
                        line: r.get(4)?,
                        batch: r.get(5)?,
                        status: status.parse().map_err(|e: Error| rusqlite::Error::FromSqlConversionFailure(6, rusqlite::types::Type::Text, Box::new(e)))?,
                        from_hash: r.get(7)?,
                        to_hash: r.get(8)?,
                        proven_hash: r.get(9)?,
                    });
                }
            }
            Ok(out)
        })
    }
}

/// Which items a drift query returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriftFilter {
    pub batch: Option<i64>,
    /// One feature or test only.
    pub item: Option<(ItemKind, i64)>,
    /// Also items that are the same on both sides.
    pub all: bool,
    /// Only complete and verified items, whether they drifted or not (for
    /// the "upstream changed" flag).
    pub finished_only: bool,
}

fn record_in(tx: &Transaction<'_>, inv: &Inventory, commit: &str, at: &str) -> rusqlite::Result<SnapshotReport> {
    let roots = load::roots_of(inv);
    let root = if roots.len() == 1 { roots[0].clone() } else { String::new() };
    let id: Option<i64> = tx.query_row("SELECT id FROM upstream_commits WHERE commit_id = ?1", [commit], |r| r.get(0)).optional()?;
    let upstream_id = match id {
        Some(id) => {
            tx.execute("DELETE FROM upstream_items WHERE upstream_id = ?1", [id])?;
            tx.execute("UPDATE upstream_commits SET root = ?2, imported_at = ?3 WHERE id = ?1", params![id, root, at])?;
            id
        }
        None => {
            tx.execute("INSERT INTO upstream_commits (commit_id, root, imported_at) VALUES (?1, ?2, ?3)", params![commit, root, at])?;
            tx.last_insert_rowid()
        }
    };
    let mut report = SnapshotReport { upstream_id, ..SnapshotReport::default() };

    // New modules and files are added; those found again are left as the
    // plan's inventory has them.
    let modules = load::upsert_modules(tx, inv)?;
    let file_ids = load::upsert_files(tx, inv, &modules, false)?;
    let (features, _) = load::match_table(tx, ItemTable::Features, inv)?;
    let (tests, _) = load::match_table(tx, ItemTable::Tests, inv)?;

    let new_m: Vec<usize> = (0..modules.len()).filter(|&i| modules[i].is_new).collect();
    let new_f: Vec<usize> = (0..features.len()).filter(|&i| features[i].is_new).collect();
    let new_t: Vec<usize> = (0..tests.len()).filter(|&i| tests[i].is_new).collect();
    let mut plan = load::plan_for_new(tx, inv, &new_m, &new_f, &new_t)?;
    name_new_batches(&mut plan, commit);
    load::insert_batches(tx, &plan, &modules)?;
    report.batches_added = plan.batches.len();
    report.modules_added = new_m.len();
    let mut first_seen = tx.prepare_cached("UPDATE modules SET first_upstream = ?2 WHERE id = ?1")?;
    for &m in &new_m {
        first_seen.execute(params![modules[m].id, upstream_id])?;
    }

    let mode = WriteMode { update_found: false, first_upstream: Some(upstream_id) };
    (report.features_added, _, _) = load::write_items(tx, ItemTable::Features, load::feature_fields(inv), &features, &plan.feature_batch, &file_ids, mode)?;
    (report.tests_added, _, _) = load::write_items(tx, ItemTable::Tests, load::test_fields(inv), &tests, &plan.test_batch, &file_ids, mode)?;

    let mut rows: Vec<Value> = Vec::with_capacity((features.len() + tests.len()) * 6);
    for (m, f) in features.iter().zip(&inv.features) {
        rows.extend([Value::from(upstream_id), Value::from("feature".to_string()), Value::from(m.id), Value::from(f.line), Value::from(f.loc), Value::from(f.body_hash.clone())]);
    }
    for (m, t) in tests.iter().zip(&inv.tests) {
        rows.extend([Value::from(upstream_id), Value::from("test".to_string()), Value::from(m.id), Value::from(t.line), Value::from(t.loc), Value::from(t.body_hash.clone())]);
    }
    load::bulk_insert(tx, "upstream_items (upstream_id, item_kind, item_id, line, loc, body_hash)", 6, &rows)?;
    report.recorded = features.len() + tests.len();

    // The plan's links stay; links upstream adds for its new items join them.
    let new_feature: HashSet<usize> = new_f.into_iter().collect();
    let new_test: HashSet<usize> = new_t.into_iter().collect();
    let mut add = tx.prepare_cached("INSERT OR IGNORE INTO feature_tests (feature_id, test_id) VALUES (?1, ?2)")?;
    for &(f, t) in &inv.links {
        if new_feature.contains(&(f as usize)) || new_test.contains(&(t as usize)) {
            report.links_added += add.execute(params![features[f as usize].id, tests[t as usize].id])?;
        }
    }
    Ok(report)
}

/// Batches of items first seen upstream say so, and at which commit.
fn name_new_batches(plan: &mut Plan, commit: &str) {
    let short = &commit[..commit.len().min(9)];
    for b in &mut plan.batches {
        b.name = format!("{} (new upstream at {short})", b.name);
        b.description = format!("{}, new upstream at {short}", b.description);
    }
}

/// Look up a recorded commit by its name or a prefix of it.
pub(crate) fn find_commit(commits: &[UpstreamCommit], text: &str) -> Result<UpstreamCommit, Error> {
    let matches: Vec<&UpstreamCommit> = commits.iter().filter(|c| c.commit.starts_with(text.trim())).collect();
    match matches.as_slice() {
        [one] if !text.trim().is_empty() => Ok((*one).clone()),
        [] | [_] => {
            let known: Vec<&str> = commits.iter().map(|c| c.commit.as_str()).collect();
            let hint = if known.is_empty() { "; none recorded yet (`porttrack import go DIR --as-of COMMIT`)".to_string() } else { format!("; recorded: {}", known.join(", ")) };
            Err(Error::not_found_with_hint("upstream commit", text.trim(), hint))
        }
        many => Err(Error::usage(format!("'{}' names {} recorded upstream commits; give more of it", text.trim(), many.len()))),
    }
}
