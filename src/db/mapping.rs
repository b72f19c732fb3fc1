//! Writing Go ↔ Rust mappings and deferral declarations.

use rusqlite::{params, Transaction};
use serde::Serialize;

use super::Database;
use crate::domain::mapping::{MappingRow, RowKind};
use crate::domain::status::{ItemKind, ItemStatus};
use crate::error::Error;

/// How many unresolvable rows an error lists by name.
const SHOWN_ERRORS: usize = 10;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MapReport {
    pub features: usize,
    pub tests: usize,
    pub rust_tests: usize,
    pub deferrals: usize,
}

/// A status (deferred or n_a) a mapping file declared, for `verify` to
/// record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Declaration {
    pub kind: ItemKind,
    pub id: i64,
    pub status: ItemStatus,
    pub reason: String,
    pub source: String,
}

/// Who changes a mapping, for the history row of a verified item that
/// loses `verified` because it was remapped.
#[derive(Debug, Clone)]
pub struct Who {
    pub actor: String,
    pub at: String,
    pub command: String,
}

impl Database {
    /// Apply mapping rows, all or nothing: a row naming no item (or more
    /// than one) fails the whole import and is reported with its line. A
    /// verified item whose mapping changes moves back to complete.
    pub fn apply_mappings(&mut self, rows: &[(String, MappingRow)], who: &Who) -> Result<MapReport, Error> {
        self.write_checked(|tx| apply_in(tx, rows, who).map_err(|e| match e {
            Apply::Sql(s) => super::sql_error(std::path::Path::new(""), s),
            Apply::Rows(errors) => {
                let n = errors.len();
                let mut msg = format!("{n} mapping row(s) name no single item, nothing was written:");
                for e in errors.iter().take(SHOWN_ERRORS) {
                    msg.push_str(&format!("\n  {e}"));
                }
                if n > SHOWN_ERRORS {
                    msg.push_str(&format!("\n  … and {} more", n - SHOWN_ERRORS));
                }
                Error::usage(msg)
            }
        }))
    }

    /// Set one feature's Rust target, and add Rust tests registered for it.
    pub fn map_feature(&mut self, id: i64, rust_file: &str, rust_symbol: Option<&str>, rust_tests: &[String], who: &Who) -> Result<(), Error> {
        self.write(|tx| {
            let mut change = None;
            remapped(tx, ItemKind::Feature, id, Some(rust_file), rust_symbol, who, &mut change)?;
            tx.execute("UPDATE features SET rust_file = ?2, rust_symbol = ?3 WHERE id = ?1", params![id, rust_file, rust_symbol])?;
            for t in rust_tests {
                tx.execute("INSERT OR IGNORE INTO feature_rust_tests (feature_id, rust_test) VALUES (?1, ?2)", params![id, t])?;
            }
            Ok(())
        })
    }

    /// Give unmapped features a target, in one transaction; a feature mapped
    /// meanwhile keeps its target. Returns the features set.
    pub fn map_targets(&mut self, targets: &[(i64, String, String)]) -> Result<Vec<i64>, Error> {
        self.write(|tx| {
            let mut set = tx.prepare_cached("UPDATE features SET rust_file = ?2, rust_symbol = ?3 WHERE id = ?1 AND rust_file IS NULL")?;
            let mut done = Vec::new();
            for (id, file, symbol) in targets {
                if set.execute(params![id, file, symbol])? == 1 {
                    done.push(*id);
                }
            }
            Ok(done)
        })
    }

    /// Set one test's Rust test (its libtest name) and, optionally, file.
    pub fn map_test(&mut self, id: i64, rust_test: &str, rust_file: Option<&str>, who: &Who) -> Result<(), Error> {
        self.write(|tx| {
            let current: Option<String> = tx.query_row("SELECT rust_file FROM tests WHERE id = ?1", [id], |r| r.get(0))?;
            let mut change = None;
            remapped(tx, ItemKind::Test, id, rust_file.or(current.as_deref()), Some(rust_test), who, &mut change)?;
            tx.execute("UPDATE tests SET rust_test = ?2, rust_file = coalesce(?3, rust_file) WHERE id = ?1", params![id, rust_test, rust_file]).map(|_| ())
        })
    }

    /// Deferral declarations of one batch's items.
    pub fn declarations(&self, batch: i64) -> Result<Vec<Declaration>, Error> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT d.item_kind, d.item_id, d.reason, d.source, d.status FROM deferral_declarations d
                 LEFT JOIN features f ON d.item_kind = 'feature' AND f.id = d.item_id
                 LEFT JOIN tests t ON d.item_kind = 'test' AND t.id = d.item_id
                 WHERE coalesce(f.batch_id, t.batch_id) = ?1 ORDER BY d.item_kind, d.item_id",
            )?;
            let rows = stmt.query_map([batch], |r| {
                let kind: String = r.get(0)?;
                let status: String = r.get(4)?;
                Ok(Declaration {
                    kind: if kind == "feature" { ItemKind::Feature } else { ItemKind::Test },
                    id: r.get(1)?,
                    status: if status == "n_a" { ItemStatus::NA } else { ItemStatus::Deferred },
                    reason: r.get(2)?,
                    source: r.get(3)?,
                })
            })?;
            rows.collect()
        })
    }
}

enum Apply {
    Sql(rusqlite::Error),
    Rows(Vec<String>),
}

impl From<rusqlite::Error> for Apply {
    fn from(e: rusqlite::Error) -> Self {
        Apply::Sql(e)
    }
}

fn apply_in(tx: &Transaction<'_>, rows: &[(String, MappingRow)], who: &Who) -> Result<MapReport, Apply> {
    let mut report = MapReport::default();
    let mut errors = Vec::new();
    let mut resolved = Vec::with_capacity(rows.len());
    for (source, row) in rows {
        let (receiver, name) = row.receiver_and_name();
        let (table_kind, ids): (ItemKind, Vec<i64>) = match row.kind {
            k if k.is_feature() => {
                let mut stmt = tx.prepare_cached(
                    "SELECT f.id FROM features f JOIN source_files s ON s.id = f.file_id WHERE s.path = ?1 AND f.receiver = ?2 AND f.name = ?3",
                )?;
                let ids = stmt.query_map(params![row.go_file, receiver, name], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
                (ItemKind::Feature, ids)
            }
            _ => {
                let mut stmt = tx.prepare_cached("SELECT t.id FROM tests t JOIN source_files s ON s.id = t.file_id WHERE s.path = ?1 AND t.name = ?2")?;
                let ids = stmt.query_map(params![row.go_file, row.go_name], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
                (ItemKind::Test, ids)
            }
        };
        match ids.as_slice() {
            [id] => resolved.push((source, row, table_kind, *id)),
            [] => errors.push(format!("{source}:{}: no {} {} in {}", row.line, table_kind.as_str(), row.go_name, row.go_file)),
            many => errors.push(format!("{source}:{}: {} {} in {} is ambiguous ({} items)", row.line, table_kind.as_str(), row.go_name, row.go_file, many.len())),
        }
    }
    if !errors.is_empty() {
        return Err(Apply::Rows(errors));
    }
    // A feature's registered tests are replaced by what this import lists
    // for it, across all its rows (a feature row and feature-tests rows).
    let mut cleared = std::collections::HashSet::new();
    for (_, row, _, id) in &resolved {
        if matches!(row.kind, RowKind::Feature | RowKind::FeatureTests) && cleared.insert(*id) {
            tx.prepare_cached("DELETE FROM feature_rust_tests WHERE feature_id = ?1")?.execute([id])?;
        }
    }
    let mut change = None;
    for (source, row, _, id) in resolved {
        match row.kind {
            RowKind::Feature => remapped(tx, ItemKind::Feature, id, row.rust_file.as_deref(), row.rust_symbol.as_deref(), who, &mut change)?,
            RowKind::Test => remapped(tx, ItemKind::Test, id, row.rust_file.as_deref(), row.rust_symbol.as_deref(), who, &mut change)?,
            _ => {}
        }
        if matches!(row.kind, RowKind::Feature | RowKind::FeatureTests) {
            for t in &row.rust_tests {
                report.rust_tests += tx.prepare_cached("INSERT OR IGNORE INTO feature_rust_tests (feature_id, rust_test) VALUES (?1, ?2)")?.execute(params![id, t])?;
            }
        }
        match row.kind {
            RowKind::Feature => {
                tx.prepare_cached("UPDATE features SET rust_file = ?2, rust_symbol = ?3 WHERE id = ?1")?.execute(params![id, row.rust_file, row.rust_symbol])?;
                report.features += 1;
            }
            RowKind::FeatureTests => {}
            RowKind::Test => {
                tx.prepare_cached("UPDATE tests SET rust_file = ?2, rust_test = ?3 WHERE id = ?1")?.execute(params![id, row.rust_file, row.rust_symbol])?;
                report.tests += 1;
            }
            declared => {
                let kind = if declared.is_feature() { "feature" } else { "test" };
                let status = if matches!(declared, RowKind::NotApplicableFeature | RowKind::NotApplicableTest) { "n_a" } else { "deferred" };
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO deferral_declarations (item_kind, item_id, reason, source, status) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![kind, id, row.reason, source, status])?;
                report.deferrals += 1;
            }
        }
    }
    Ok(report)
}

/// A verified item whose Rust file or symbol/test changes loses `verified`
/// (its evidence was about the old mapping): it moves to complete with a
/// history row. `change` is the change ID this call's rows share.
fn remapped(tx: &Transaction<'_>, kind: ItemKind, id: i64, file: Option<&str>, symbol: Option<&str>, who: &Who, change: &mut Option<i64>) -> rusqlite::Result<()> {
    let sql = match kind {
        ItemKind::Feature => "SELECT status, rust_file, rust_symbol, batch_id FROM features WHERE id = ?1",
        ItemKind::Test => "SELECT status, rust_file, rust_test, batch_id FROM tests WHERE id = ?1",
        // Modules are never mapped to a target.
        ItemKind::Module => return Ok(()),
    };
    let (status, old_file, old_symbol, batch): (String, Option<String>, Option<String>, Option<i64>) =
        tx.prepare_cached(sql)?.query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    if status != ItemStatus::Verified.as_str() || (old_file.as_deref(), old_symbol.as_deref()) == (file, symbol) {
        return Ok(());
    }
    let change_id = match *change {
        Some(c) => c,
        None => {
            let c: i64 = tx.query_row("SELECT coalesce(max(change_id), 0) + 1 FROM status_history", [], |r| r.get(0))?;
            *change = Some(c);
            c
        }
    };
    let show = |f: Option<&str>, s: Option<&str>| format!("{}::{}", f.unwrap_or("?"), s.unwrap_or("?"));
    let reason = format!("remapped from {} to {}; its evidence was about the old mapping, verify it again", show(old_file.as_deref(), old_symbol.as_deref()), show(file, symbol));
    let update = match kind {
        ItemKind::Feature => "UPDATE features SET status = 'complete', evidence_run = NULL WHERE id = ?1",
        ItemKind::Test => "UPDATE tests SET status = 'complete', evidence_run = NULL WHERE id = ?1",
        ItemKind::Module => return Ok(()),
    };
    tx.prepare_cached(update)?.execute([id])?;
    super::chain::append_history(
        tx,
        &super::chain::NewHistory {
            item_kind: kind.as_str(),
            item_id: id,
            batch_id: batch,
            from_status: ItemStatus::Verified.as_str(),
            to_status: ItemStatus::Complete.as_str(),
            reason: Some(&reason),
            override_id: None,
            evidence_run: None,
            actor: &who.actor,
            at: &who.at,
            command: &who.command,
            change_id,
            ids: Default::default(),
        },
    )?;
    Ok(())
}
