//! Writing an inventory into the database: a fresh load (built-in plan) or
//! a re-import that keeps the IDs, statuses and history of items it finds
//! again.

use std::collections::{HashMap, HashSet};

use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;

use super::Database;
use crate::domain::plan::{per_file_plan, Plan, Skip};
use crate::error::Error;
use crate::inventory::Inventory;

/// What an import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LoadReport {
    pub modules_added: usize,
    /// Modules in the database, under the imported directory, that the
    /// source no longer has (kept, with their history).
    pub modules_missing: usize,
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

/// Identity of an item across imports: file (whose directory is its
/// module), receiver, name, and the ordinal among same-named items of that
/// file (Go allows several `init`).
pub(super) type Key = (String, String, String, u32);

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

impl Database {
    /// Set one `meta` value (e.g. the recorded project root).
    pub fn set_meta_value(&mut self, key: &str, value: &str) -> Result<(), Error> {
        self.write(|tx| tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", params![key, value]).map(|_| ()))
    }
}

fn sql(e: rusqlite::Error) -> Error {
    super::sql_error(std::path::Path::new(""), e)
}

/// The first path components of the inventory's files (`server/`): what an
/// import covers, so items elsewhere are never reported missing.
pub(super) fn roots_of(inv: &Inventory) -> Vec<String> {
    let mut r: Vec<String> = inv.files.iter().filter_map(|f| f.path.split('/').next().map(|s| format!("{s}/"))).collect();
    r.sort();
    r.dedup();
    r
}

fn import_in(tx: &Transaction<'_>, inv: &Inventory, plan: Option<&Plan>) -> rusqlite::Result<LoadReport> {
    let mut report = LoadReport { files: inv.files.len(), ..LoadReport::default() };
    let roots = roots_of(inv);
    let under_roots = |path: &str| roots.iter().any(|r| path.starts_with(r.as_str()));
    let modules = upsert_modules(tx, inv)?;
    report.modules_added = modules.iter().filter(|m| m.is_new).count();
    report.modules_missing = {
        let found: HashSet<&str> = inv.modules.iter().map(|m| m.dir.as_str()).collect();
        let mut stmt = tx.prepare("SELECT dir FROM modules")?;
        let dirs = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
        dirs.iter().filter(|d| !found.contains(d.as_str()) && under_roots(&format!("{d}/"))).count()
    };
    let file_ids = upsert_files(tx, inv, &modules, true)?;

    // Match items to what the database already has, before writing.
    let (features, missing) = match_table(tx, ItemTable::Features, inv)?;
    report.features_missing = missing.iter().filter(|k| under_roots(&k.0)).count();
    let (tests, missing) = match_table(tx, ItemTable::Tests, inv)?;
    report.tests_missing = missing.iter().filter(|k| under_roots(&k.0)).count();

    // Batches: the given plan, or per-file batches for the new items.
    let plan_owned;
    let plan = match plan {
        Some(p) => p,
        None => {
            let new_m: Vec<usize> = (0..modules.len()).filter(|&i| modules[i].is_new).collect();
            let new_f: Vec<usize> = (0..features.len()).filter(|&i| features[i].is_new).collect();
            let new_t: Vec<usize> = (0..tests.len()).filter(|&i| tests[i].is_new).collect();
            plan_owned = plan_for_new(tx, inv, &new_m, &new_f, &new_t)?;
            &plan_owned
        }
    };
    insert_batches(tx, plan, &modules)?;
    report.batches_added = plan.batches.len();

    // Items: new rows in bulk, found-again rows updated only where changed.
    let mode = WriteMode { update_found: true, first_upstream: None };
    (report.features_added, report.features_updated, report.features_unchanged) =
        write_items(tx, ItemTable::Features, feature_fields(inv), &features, &plan.feature_batch, &file_ids, mode)?;
    (report.tests_added, report.tests_updated, report.tests_unchanged) =
        write_items(tx, ItemTable::Tests, test_fields(inv), &tests, &plan.test_batch, &file_ids, mode)?;

    // Links: the imported tests' links are replaced by what their bodies call now.
    {
        let mut clear = tx.prepare_cached("DELETE FROM feature_tests WHERE test_id = ?1")?;
        for m in tests.iter().filter(|m| !m.is_new) {
            clear.execute([m.id])?;
        }
        let links: Vec<Value> = inv.links.iter().flat_map(|&(f, t)| [Value::from(features[f as usize].id), Value::from(tests[t as usize].id)]).collect();
        bulk_insert(tx, "feature_tests (feature_id, test_id)", 2, &links)?;
        report.links = inv.links.len();
    }
    Ok(report)
}

/// Insert the plan's batches and dependencies, and place the modules.
pub(super) fn insert_batches(tx: &Transaction<'_>, plan: &Plan, modules: &[Matched]) -> rusqlite::Result<()> {
    let mut batch_rows = Vec::new();
    let mut dep_rows = Vec::new();
    for b in &plan.batches {
        batch_rows.extend([Value::from(b.number), Value::from(b.name.clone()), Value::from(b.description.clone())]);
        for &d in &b.depends_on {
            dep_rows.extend([Value::from(b.number), Value::from(d)]);
        }
    }
    bulk_insert(tx, "batches (id, name, description)", 3, &batch_rows)?;
    bulk_insert(tx, "batch_dependencies (batch_id, depends_on)", 2, &dep_rows)?;
    let mut set_batch = tx.prepare_cached("UPDATE modules SET batch_id = ?2 WHERE id = ?1")?;
    for (m, &batch) in modules.iter().zip(&plan.module_batch) {
        if batch != 0 {
            set_batch.execute(params![m.id, batch])?;
        }
    }
    Ok(())
}

/// Match the inventory's features or tests with the table's rows: where
/// each lands, and the keys of rows the inventory no longer has.
pub(super) fn match_table(tx: &Transaction<'_>, table: ItemTable, inv: &Inventory) -> rusqlite::Result<(Vec<Matched>, Vec<Key>)> {
    let (sql, next_sql) = match table {
        ItemTable::Features => (
            "SELECT f.id, s.path, f.receiver, f.name, f.line, f.loc, f.body_hash FROM features f JOIN source_files s ON s.id = f.file_id ORDER BY f.id",
            "SELECT coalesce(max(id), 0) + 1 FROM features",
        ),
        ItemTable::Tests => (
            "SELECT t.id, s.path, '', t.name, t.line, t.loc, t.body_hash FROM tests t JOIN source_files s ON s.id = t.file_id ORDER BY t.id",
            "SELECT coalesce(max(id), 0) + 1 FROM tests",
        ),
    };
    let mut existing = existing_items(tx, sql)?;
    let next: i64 = tx.query_row(next_sql, [], |r| r.get(0))?;
    let matched = match table {
        ItemTable::Features => match_items(feature_fields(inv), inv, &mut existing, next),
        ItemTable::Tests => match_items(test_fields(inv), inv, &mut existing, next),
    };
    Ok((matched, existing.into_keys().collect()))
}

/// Modules found again (by directory) keep their ID; new ones get the next
/// IDs in inventory order.
pub(super) fn upsert_modules(tx: &Transaction<'_>, inv: &Inventory) -> rusqlite::Result<Vec<Matched>> {
    let mut out = Vec::with_capacity(inv.modules.len());
    let mut find = tx.prepare_cached("SELECT id FROM modules WHERE dir = ?1")?;
    let mut insert = tx.prepare_cached("INSERT INTO modules (id, name, dir) VALUES (?1, ?2, ?3)")?;
    let mut next: i64 = tx.query_row("SELECT coalesce(max(id), 0) + 1 FROM modules", [], |r| r.get(0))?;
    for m in &inv.modules {
        match find.query_row([&m.dir], |r| r.get::<_, i64>(0)).optional()? {
            Some(id) => out.push(Matched { id, is_new: false, changed: false }),
            None => {
                insert.execute(params![next, m.name, m.dir])?;
                out.push(Matched { id: next, is_new: true, changed: false });
                next += 1;
            }
        }
    }
    Ok(out)
}

/// Files found again keep their ID (and, with `update`, take the
/// inventory's module and line count); new ones are inserted.
pub(super) fn upsert_files(tx: &Transaction<'_>, inv: &Inventory, modules: &[Matched], update_found: bool) -> rusqlite::Result<Vec<i64>> {
    let mut file_ids = Vec::with_capacity(inv.files.len());
    let mut find = tx.prepare_cached("SELECT id FROM source_files WHERE path = ?1")?;
    let mut insert = tx.prepare_cached("INSERT INTO source_files (path, is_test, lines, module_id) VALUES (?1, ?2, ?3, ?4)")?;
    let mut update = tx.prepare_cached("UPDATE source_files SET is_test = ?2, lines = ?3, module_id = ?4 WHERE id = ?1")?;
    for f in &inv.files {
        let module = modules.get(f.module as usize).map(|m| m.id);
        let id = match find.query_row([&f.path], |r| r.get::<_, i64>(0)).optional()? {
            Some(id) => {
                if update_found {
                    update.execute(params![id, f.is_test, f.lines, module])?;
                }
                id
            }
            None => {
                insert.execute(params![f.path, f.is_test, f.lines, module])?;
                tx.last_insert_rowid()
            }
        };
        file_ids.push(id);
    }
    Ok(file_ids)
}

/// Where an inventory item lands: its database ID, and whether it is new or
/// has changed since the last import.
pub(super) struct Matched {
    pub id: i64,
    pub is_new: bool,
    pub changed: bool,
}

/// The columns an inventory item writes (tests have no receiver).
pub(super) struct Fields<'a> {
    file: u32,
    receiver: &'a str,
    name: &'a str,
    line: u32,
    loc: u32,
    hash: &'a str,
}

pub(super) fn feature_fields(inv: &Inventory) -> impl Iterator<Item = Fields<'_>> {
    inv.features.iter().map(|f| Fields { file: f.file, receiver: &f.receiver, name: &f.name, line: f.line, loc: f.loc, hash: &f.body_hash })
}

pub(super) fn test_fields(inv: &Inventory) -> impl Iterator<Item = Fields<'_>> {
    inv.tests.iter().map(|t| Fields { file: t.file, receiver: "", name: &t.name, line: t.line, loc: t.loc, hash: &t.body_hash })
}

/// Match items against `existing` (removing what matches); unmatched
/// items get IDs from `next` on.
fn match_items<'a>(items: impl Iterator<Item = Fields<'a>>, inv: &Inventory, existing: &mut HashMap<Key, Existing>, mut next: i64) -> Vec<Matched> {
    // Into a table without rows (a first import) every item is new: no
    // keys to build, three strings and two hash lookups per item.
    if existing.is_empty() {
        return items.zip(next..).map(|(_, id)| Matched { id, is_new: true, changed: false }).collect();
    }
    let mut ordinals: HashMap<(u32, &str, &str), u32> = HashMap::new();
    let mut out = Vec::new();
    for f in items {
        let ord = ordinals.entry((f.file, f.receiver, f.name)).or_insert(0);
        let key = (inv.files[f.file as usize].path.clone(), f.receiver.to_string(), f.name.to_string(), *ord);
        *ord += 1;
        match existing.remove(&key) {
            Some(e) => {
                let changed = e.line != i64::from(f.line) || e.loc != i64::from(f.loc) || e.hash != f.hash;
                out.push(Matched { id: e.id, is_new: false, changed });
            }
            None => {
                out.push(Matched { id: next, is_new: true, changed: false });
                next += 1;
            }
        }
    }
    out
}

/// The tables holding source items (modules are written apart).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum ItemTable {
    Features,
    Tests,
}

/// How [`write_items`] treats items: found-again rows are updated (a
/// re-import) or left as they are (an upstream snapshot); new rows name the
/// upstream commit they were first seen at.
#[derive(Clone, Copy)]
pub(super) struct WriteMode {
    pub update_found: bool,
    pub first_upstream: Option<i64>,
}

/// Insert new items in bulk, update changed ones, set batches from the
/// plan; returns (added, updated, unchanged).
pub(super) fn write_items<'a>(
    tx: &Transaction<'_>,
    kind: ItemTable,
    items: impl Iterator<Item = Fields<'a>>,
    matched: &[Matched],
    batches: &[u32],
    file_ids: &[i64],
    mode: WriteMode,
) -> rusqlite::Result<(usize, usize, usize)> {
    // Table and column names are our own constants.
    let (table, insert_cols, columns) = match kind {
        ItemTable::Features => ("features", "features (id, file_id, line, receiver, name, loc, body_hash, batch_id, first_upstream)", 9),
        ItemTable::Tests => ("tests", "tests (id, file_id, line, name, loc, body_hash, batch_id, first_upstream)", 8),
    };
    let mut update = tx.prepare_cached(&format!("UPDATE {table} SET file_id = ?2, line = ?3, loc = ?4, body_hash = ?5 WHERE id = ?1"))?;
    let mut set_batch = tx.prepare_cached(&format!("UPDATE {table} SET batch_id = ?2 WHERE id = ?1"))?;
    let (mut added, mut updated, mut unchanged) = (0, 0, 0);
    // New rows borrow the inventory's strings: copying three per item into
    // owned values was a tenth of the database write.
    let mut rows: Vec<ValueRef<'a>> = Vec::new();
    let int = |v: i64| ValueRef::Integer(v);
    for ((f, m), &batch) in items.zip(matched).zip(batches) {
        let file_id = file_ids[f.file as usize];
        if m.is_new {
            rows.extend([int(m.id), int(file_id), int(f.line.into())]);
            if kind == ItemTable::Features {
                rows.push(ValueRef::Text(f.receiver.as_bytes()));
            }
            rows.extend([
                ValueRef::Text(f.name.as_bytes()),
                int(f.loc.into()),
                ValueRef::Text(f.hash.as_bytes()),
                if batch == 0 { ValueRef::Null } else { int(batch.into()) },
                mode.first_upstream.map_or(ValueRef::Null, int),
            ]);
            added += 1;
            continue;
        }
        if !mode.update_found {
            unchanged += 1;
            continue;
        }
        if m.changed {
            update.execute(params![m.id, file_id, f.line, f.loc, f.hash])?;
            updated += 1;
        } else {
            unchanged += 1;
        }
        if batch != 0 {
            set_batch.execute(params![m.id, batch])?;
        }
    }
    if !rows.is_empty() {
        without_insert_guards(tx, table, || bulk_insert(tx, insert_cols, columns, &rows))?;
    }
    Ok((added, updated, unchanged))
}

/// The triggers that refuse a feature or test inserted as `verified`. New
/// rows are written without a status column, so they are `not_started`
/// and neither trigger's `WHEN` can hold; yet running each as a trigger
/// program per row was a third of the feature and test inserts (benchmark
/// P3 on nats-server).
const INSERT_GUARDS: [&str; 2] = ["features_verified_needs_evidence_insert", "tests_verified_needs_evidence_insert"];

/// The other triggers of those tables fire on updates only.
const UPDATE_GUARDS: [&str; 4] = [
    "features_verified_needs_trusted_evidence",
    "features_verified_needs_evidence_update",
    "tests_verified_needs_trusted_evidence",
    "tests_verified_needs_evidence_update",
];

/// Run `insert` (new rows of `table`, no status column) with the
/// connection's triggers off, when the table's triggers are all known
/// ([`INSERT_GUARDS`], [`UPDATE_GUARDS`]); any other, say one a later schema
/// adds, keeps them on. Triggers are back on afterwards, also after an
/// error, and SQLite recompiles the statements prepared meanwhile.
fn without_insert_guards(tx: &Transaction<'_>, table: &str, insert: impl FnOnce() -> rusqlite::Result<()>) -> rusqlite::Result<()> {
    use rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER as TRIGGERS;
    let known: Vec<&str> = INSERT_GUARDS.iter().chain(&UPDATE_GUARDS).copied().collect();
    let mut stmt = tx.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?1")?;
    let names = stmt.query_map([table], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
    drop(stmt);
    if names.iter().any(|n| !known.contains(&n.as_str())) {
        return insert();
    }
    tx.set_db_config(TRIGGERS, false)?;
    let out = insert();
    let restored = tx.set_db_config(TRIGGERS, true);
    out.and(restored.map(|_| ()))
}

/// Rows per multi-row INSERT: far fewer statements to run, well under
/// SQLite's limit on bound parameters.
const BULK_ROWS: usize = 200;

/// Insert `values` (row-major, `columns` per row) into `target`, a table
/// and column list of ours, with multi-row statements.
pub(super) fn bulk_insert<V: Bind>(tx: &Transaction<'_>, target: &str, columns: usize, values: &[V]) -> rusqlite::Result<()> {
    for chunk in values.chunks(BULK_ROWS * columns) {
        let row = format!("({})", vec!["?"; columns].join(","));
        let sql = format!("INSERT INTO {target} VALUES {}", vec![row.as_str(); chunk.len() / columns].join(","));
        tx.prepare_cached(&sql)?.execute(rusqlite::params_from_iter(chunk.iter().map(Bind::bind)))?;
    }
    Ok(())
}

/// A value [`bulk_insert`] binds: an owned one, or one borrowed from the
/// inventory.
pub(super) trait Bind {
    fn bind(&self) -> ToSqlOutput<'_>;
}

impl Bind for Value {
    fn bind(&self) -> ToSqlOutput<'_> {
        ToSqlOutput::Borrowed(ValueRef::from(self))
    }
}

impl Bind for ValueRef<'_> {
    fn bind(&self) -> ToSqlOutput<'_> {
        ToSqlOutput::Borrowed(*self)
    }
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
pub(super) fn plan_for_new(tx: &Transaction<'_>, inv: &Inventory, new_modules: &[usize], new_features: &[usize], new_tests: &[usize]) -> rusqlite::Result<Plan> {
    let first: u32 = tx.query_row("SELECT coalesce(max(id), 0) + 1 FROM batches", [], |r| r.get(0))?;
    let new_m: HashSet<usize> = new_modules.iter().copied().collect();
    let new_f: HashSet<usize> = new_features.iter().copied().collect();
    let new_t: HashSet<usize> = new_tests.iter().copied().collect();
    let skip = Skip { module: &|i| !new_m.contains(&i), feature: &|i| !new_f.contains(&i), test: &|i| !new_t.contains(&i) };
    Ok(per_file_plan(inv, first, &skip))
}
