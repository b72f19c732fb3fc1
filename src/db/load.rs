//! Writing an inventory into the database: a fresh load (built-in plan) or
//! a re-import that keeps the IDs, statuses and history of items it finds
//! again.

use std::collections::{HashMap, HashSet};

use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;

use super::Database;
use crate::domain::plan::{per_file_plan, Plan};
use crate::error::Error;
use crate::inventory::Inventory;

/// What an import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LoadReport {
    pub files: usize,
    pub features_added: usize,
    pub features_updated: usize,
    pub features_unchanged: usize,
    /// Features in the database, under the imported directory, that the
    /// source no longer has. They are kept (with their history).
    pub features_missing: usize,
    pub tests_added: usize,
    pub tests_updated: usize,
    pub tests_unchanged: usize,
    pub tests_missing: usize,
    pub links: usize,
    pub batches_added: usize,
}

/// Identity of an item across imports: file, receiver, name, and the
/// ordinal among same-named items of that file (Go allows several `init`).
type Key = (String, String, String, u32);

struct Existing {
    id: i64,
    line: i64,
    loc: i64,
    hash: String,
}

impl Database {
    /// Import `inv`. Items found again keep their ID, status and history;
    /// new items get the next IDs in inventory order. With `plan`, the
    /// database must have no batches yet and the plan places every item;
    /// without, new items go into per-file batches numbered after the last.
    pub fn import_inventory(&mut self, inv: &Inventory, plan: Option<&Plan>, meta: &[(&str, String)]) -> Result<LoadReport, Error> {
        self.write_checked(|tx| {
            if plan.is_some() {
                let batches: i64 = tx.query_row("SELECT count(*) FROM batches", [], |r| r.get(0)).map_err(sql)?;
                if batches > 0 {
                    return Err(Error::usage("a full plan can only be loaded into a database without batches"));
                }
            }
            let report = import_in(tx, inv, plan).map_err(sql)?;
            for (k, v) in meta {
                tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", params![k, v]).map_err(sql)?;
            }
            Ok(report)
        })
    }
}

fn sql(e: rusqlite::Error) -> Error {
    super::sql_error(std::path::Path::new(""), e)
}

fn import_in(tx: &Transaction<'_>, inv: &Inventory, plan: Option<&Plan>) -> rusqlite::Result<LoadReport> {
    let mut report = LoadReport { files: inv.files.len(), ..LoadReport::default() };

    // Files: keep existing IDs, add new ones.
    let mut file_ids = Vec::with_capacity(inv.files.len());
    {
        let mut find = tx.prepare_cached("SELECT id FROM source_files WHERE path = ?1")?;
        let mut insert = tx.prepare_cached("INSERT INTO source_files (path, is_test, lines) VALUES (?1, ?2, ?3)")?;
        let mut update = tx.prepare_cached("UPDATE source_files SET is_test = ?2, lines = ?3 WHERE id = ?1")?;
        for f in &inv.files {
            let id = match find.query_row([&f.path], |r| r.get::<_, i64>(0)).optional()? {
                Some(id) => {
                    update.execute(params![id, f.is_test, f.lines])?;
                    id
                }
                None => {
                    insert.execute(params![f.path, f.is_test, f.lines])?;
                    tx.last_insert_rowid()
                }
            };
            file_ids.push(id);
        }
    }

    let roots: Vec<String> = {
        let mut r: Vec<String> = inv.files.iter().filter_map(|f| f.path.split('/').next().map(|s| format!("{s}/"))).collect();
        r.sort();
        r.dedup();
        r
    };

    // Features.
    let mut existing = existing_items(tx, "SELECT f.id, s.path, f.receiver, f.name, f.line, f.loc, f.body_hash FROM features f JOIN source_files s ON s.id = f.file_id ORDER BY f.id")?;
    let mut feature_ids = Vec::with_capacity(inv.features.len());
    let mut new_features = Vec::new();
    {
        let mut next: i64 = tx.query_row("SELECT coalesce(max(id), 0) + 1 FROM features", [], |r| r.get(0))?;
        let mut insert = tx.prepare_cached(
            "INSERT INTO features (id, file_id, line, receiver, name, loc, body_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        let mut update =
            tx.prepare_cached("UPDATE features SET file_id = ?2, line = ?3, loc = ?4, body_hash = ?5 WHERE id = ?1")?;
        let mut ordinals: HashMap<(u32, &str, &str), u32> = HashMap::new();
        for (i, f) in inv.features.iter().enumerate() {
            let ord = ordinals.entry((f.file, &f.receiver, &f.name)).or_insert(0);
            let key = (inv.files[f.file as usize].path.clone(), f.receiver.clone(), f.name.clone(), *ord);
            *ord += 1;
            let file_id = file_ids[f.file as usize];
            match existing.remove(&key) {
                Some(e) => {
                    if e.line != i64::from(f.line) || e.loc != i64::from(f.loc) || e.hash != f.body_hash {
                        update.execute(params![e.id, file_id, f.line, f.loc, f.body_hash])?;
                        report.features_updated += 1;
                    } else {
                        report.features_unchanged += 1;
                    }
                    feature_ids.push(e.id);
                }
                None => {
                    insert.execute(params![next, file_id, f.line, f.receiver, f.name, f.loc, f.body_hash])?;
                    feature_ids.push(next);
                    new_features.push(i);
                    next += 1;
                    report.features_added += 1;
                }
            }
        }
    }
    report.features_missing = existing.keys().filter(|k| roots.iter().any(|r| k.0.starts_with(r.as_str()))).count();

    // Tests.
    existing = existing_items(tx, "SELECT t.id, s.path, '', t.name, t.line, t.loc, t.body_hash FROM tests t JOIN source_files s ON s.id = t.file_id ORDER BY t.id")?;
    let mut test_ids = Vec::with_capacity(inv.tests.len());
    let mut new_tests = Vec::new();
    {
        let mut next: i64 = tx.query_row("SELECT coalesce(max(id), 0) + 1 FROM tests", [], |r| r.get(0))?;
        let mut insert =
            tx.prepare_cached("INSERT INTO tests (id, file_id, line, name, loc, body_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
        let mut update = tx.prepare_cached("UPDATE tests SET file_id = ?2, line = ?3, loc = ?4, body_hash = ?5 WHERE id = ?1")?;
        let mut ordinals: HashMap<(u32, &str), u32> = HashMap::new();
        for (i, t) in inv.tests.iter().enumerate() {
            let ord = ordinals.entry((t.file, &t.name)).or_insert(0);
            let key = (inv.files[t.file as usize].path.clone(), String::new(), t.name.clone(), *ord);
            *ord += 1;
            let file_id = file_ids[t.file as usize];
            match existing.remove(&key) {
                Some(e) => {
                    if e.line != i64::from(t.line) || e.loc != i64::from(t.loc) || e.hash != t.body_hash {
                        update.execute(params![e.id, file_id, t.line, t.loc, t.body_hash])?;
                        report.tests_updated += 1;
                    } else {
                        report.tests_unchanged += 1;
                    }
                    test_ids.push(e.id);
                }
                None => {
                    insert.execute(params![next, file_id, t.line, t.name, t.loc, t.body_hash])?;
                    test_ids.push(next);
                    new_tests.push(i);
                    next += 1;
                    report.tests_added += 1;
                }
            }
        }
    }
    report.tests_missing = existing.keys().filter(|k| roots.iter().any(|r| k.0.starts_with(r.as_str()))).count();

    // Links: the imported tests' links are replaced by what their bodies call now.
    {
        let fresh = report.features_added == inv.features.len() && report.tests_added == inv.tests.len();
        if !fresh {
            let mut clear = tx.prepare_cached("DELETE FROM feature_tests WHERE test_id = ?1")?;
            for &id in &test_ids {
                clear.execute([id])?;
            }
        }
        let mut insert = tx.prepare_cached("INSERT OR IGNORE INTO feature_tests (feature_id, test_id) VALUES (?1, ?2)")?;
        for &(f, t) in &inv.links {
            insert.execute(params![feature_ids[f as usize], test_ids[t as usize]])?;
        }
        report.links = inv.links.len();
    }

    // Batches.
    let plan_owned;
    let plan = match plan {
        Some(p) => p,
        None => {
            plan_owned = plan_for_new(tx, inv, &new_features, &new_tests)?;
            &plan_owned
        }
    };
    {
        let mut insert_batch = tx.prepare_cached("INSERT INTO batches (id, name, description) VALUES (?1, ?2, ?3)")?;
        let mut insert_dep = tx.prepare_cached("INSERT INTO batch_dependencies (batch_id, depends_on) VALUES (?1, ?2)")?;
        for b in &plan.batches {
            insert_batch.execute(params![b.number, b.name, b.description])?;
        }
        for b in &plan.batches {
            for d in &b.depends_on {
                insert_dep.execute(params![b.number, d])?;
            }
        }
        report.batches_added = plan.batches.len();
        let mut set_f = tx.prepare_cached("UPDATE features SET batch_id = ?2 WHERE id = ?1")?;
        for (i, &b) in plan.feature_batch.iter().enumerate() {
            if b != 0 {
                set_f.execute(params![feature_ids[i], b])?;
            }
        }
        let mut set_t = tx.prepare_cached("UPDATE tests SET batch_id = ?2 WHERE id = ?1")?;
        for (i, &b) in plan.test_batch.iter().enumerate() {
            if b != 0 {
                set_t.execute(params![test_ids[i], b])?;
            }
        }
    }
    Ok(report)
}

fn existing_items(tx: &Transaction<'_>, sql: &str) -> rusqlite::Result<HashMap<Key, Existing>> {
    let mut out = HashMap::new();
    let mut ordinals: HashMap<(String, String, String), u32> = HashMap::new();
    let mut stmt = tx.prepare(sql)?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let (path, receiver, name): (String, String, String) = (r.get(1)?, r.get(2)?, r.get(3)?);
        let ord = ordinals.entry((path.clone(), receiver.clone(), name.clone())).or_insert(0);
        let key = (path, receiver, name, *ord);
        *ord += 1;
        out.insert(key, Existing { id: r.get(0)?, line: r.get(4)?, loc: r.get(5)?, hash: r.get(6)? });
    }
    Ok(out)
}

/// Per-file batches for newly added items, numbered after the last batch.
/// Only new items are placed; items found again keep their batch.
fn plan_for_new(tx: &Transaction<'_>, inv: &Inventory, new_features: &[usize], new_tests: &[usize]) -> rusqlite::Result<Plan> {
    let first: u32 = tx.query_row("SELECT coalesce(max(id), 0) + 1 FROM batches", [], |r| r.get(0))?;
    let new_f: HashSet<usize> = new_features.iter().copied().collect();
    let new_t: HashSet<usize> = new_tests.iter().copied().collect();
    Ok(per_file_plan(inv, first, |i| !new_f.contains(&i), |i| !new_t.contains(&i)))
}
