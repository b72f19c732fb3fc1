//! Read queries. Rows come back as plain structs; the domain layer
//! (`crate::ops`) composes them into what commands show.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use super::Database;
pub use crate::domain::status::ItemKind;
use crate::domain::status::{ItemStatus, KindCounts};
use crate::error::Error;

/// One module, feature or test with the fields lists and tables show. A
/// module's `file` is its directory, its `loc` the lines of its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemRow {
    pub kind: ItemKind,
    pub id: i64,
    pub file: String,
    pub line: i64,
    pub receiver: String,
    pub name: String,
    pub loc: i64,
    pub body_hash: String,
    pub batch: Option<i64>,
    pub status: ItemStatus,
    pub rust_file: Option<String>,
    /// Rust symbol of a feature, or libtest name of a test.
    pub rust_symbol: Option<String>,
    pub evidence_run: Option<i64>,
    pub notes: String,
}

impl ItemRow {
    /// `Receiver.name` or the bare name.
    pub fn qualified_name(&self) -> String {
        crate::inventory::qualified_name(&self.receiver, &self.name)
    }

    /// `file::symbol`, or whichever of them is known.
    pub fn rust_target(&self) -> Option<String> {
        match (&self.rust_file, &self.rust_symbol) {
            (Some(f), Some(s)) => Some(format!("{f}::{s}")),
            (Some(f), None) => Some(f.clone()),
            (None, Some(s)) => Some(s.clone()),
            (None, None) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchRow {
    pub id: i64,
    pub name: String,
    pub description: String,
}

/// Number of items of one kind in one (batch, file, status) cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountCell {
    pub kind: ItemKind,
    pub batch: Option<i64>,
    /// None for modules, which hold files rather than sit in one.
    pub file_id: Option<i64>,
    /// First seen at an upstream commit: not in the plan's inventory.
    pub upstream_new: bool,
    pub status: ItemStatus,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryRow {
    pub id: i64,
    pub item_kind: ItemKind,
    pub item_id: i64,
    pub item_name: String,
    pub batch: Option<i64>,
    pub from_status: ItemStatus,
    pub to_status: ItemStatus,
    pub reason: Option<String>,
    pub override_reason: Option<String>,
    pub evidence_run: Option<i64>,
    pub actor: String,
    pub at: String,
    pub command: String,
    pub change_id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverrideRow {
    pub id: i64,
    pub batch: i64,
    pub reason: String,
    pub blocking: String,
    pub actor: String,
    pub at: String,
    pub command: String,
}

/// A feature mapped to Rust code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RustTarget {
    pub feature_id: i64,
    /// `Receiver.name` of the Go original.
    pub go_name: String,
    pub rust_file: String,
    pub rust_symbol: Option<String>,
}

/// Which history rows to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryFilter {
    All,
    Batch(i64),
    Item(ItemKind, i64),
}

/// Filters of `feature list` / `test list`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    pub batch: Option<i64>,
    pub status: Option<ItemStatus>,
    /// Substring of the source path.
    pub file: Option<String>,
}

const ITEM_COLUMNS_FEATURE: &str = "f.id, s.path, f.line, f.receiver, f.name, f.loc, f.body_hash, f.batch_id, f.status, f.rust_file, f.rust_symbol, f.evidence_run, f.notes FROM features f JOIN source_files s ON s.id = f.file_id";
const ITEM_COLUMNS_TEST: &str = "f.id, s.path, f.line, '', f.name, f.loc, f.body_hash, f.batch_id, f.status, f.rust_file, f.rust_test, f.evidence_run, f.notes FROM tests f JOIN source_files s ON s.id = f.file_id";
/// Modules read as items: `s.path` is the directory, so the same filters
/// apply to all three kinds.
const ITEM_COLUMNS_MODULE: &str = "f.id, s.path, 0, '', f.name, (SELECT coalesce(sum(x.lines), 0) FROM source_files x WHERE x.module_id = f.id), '', f.batch_id, f.status, NULL, NULL, NULL, f.notes FROM modules f JOIN (SELECT id, dir AS path FROM modules) s ON s.id = f.id";

fn item_sql(kind: ItemKind, tail: &str) -> String {
    let cols = match kind {
        ItemKind::Feature => ITEM_COLUMNS_FEATURE,
        ItemKind::Test => ITEM_COLUMNS_TEST,
        ItemKind::Module => ITEM_COLUMNS_MODULE,
    };
    format!("SELECT {cols} {tail}")
}

fn status_of(r: &Row<'_>, idx: usize) -> rusqlite::Result<ItemStatus> {
    let text: String = r.get(idx)?;
    text.parse().map_err(|e: Error| rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e)))
}

fn item_row(kind: ItemKind, r: &Row<'_>) -> rusqlite::Result<ItemRow> {
    Ok(ItemRow {
        kind,
        id: r.get(0)?,
        file: r.get(1)?,
        line: r.get(2)?,
        receiver: r.get(3)?,
        name: r.get(4)?,
        loc: r.get(5)?,
        body_hash: r.get(6)?,
        batch: r.get(7)?,
        status: status_of(r, 8)?,
        rust_file: r.get(9)?,
        rust_symbol: r.get(10)?,
        evidence_run: r.get(11)?,
        notes: r.get(12)?,
    })
}

/// One item by ID, on any connection or transaction.
pub(crate) fn item_in(conn: &Connection, kind: ItemKind, id: i64) -> rusqlite::Result<Option<ItemRow>> {
    Ok(items(conn, kind, "WHERE f.id = ?1", [id])?.into_iter().next())
}

/// Items with IDs in `first..=last`.
pub(crate) fn items_in_range(conn: &Connection, kind: ItemKind, first: i64, last: i64) -> rusqlite::Result<Vec<ItemRow>> {
    items(conn, kind, "WHERE f.id BETWEEN ?1 AND ?2 ORDER BY f.id", [first, last])
}

/// Items named `name` (and `receiver`, when given).
pub(crate) fn items_named_in(conn: &Connection, kind: ItemKind, receiver: Option<&str>, name: &str) -> rusqlite::Result<Vec<ItemRow>> {
    match receiver {
        // Modules and tests have no receiver, so `X.name` names none of them.
        Some(_) if kind != ItemKind::Feature => Ok(Vec::new()),
        Some(r) => items(conn, kind, "WHERE f.name = ?1 AND f.receiver = ?2 ORDER BY f.id", params![name, r]),
        None => items(conn, kind, "WHERE f.name = ?1 ORDER BY f.id", [name]),
    }
}

fn items(conn: &Connection, kind: ItemKind, tail: &str, p: impl rusqlite::Params) -> rusqlite::Result<Vec<ItemRow>> {
    let mut stmt = conn.prepare_cached(&item_sql(kind, tail))?;
    let rows = stmt.query_map(p, |r| item_row(kind, r))?;
    rows.collect()
}

impl Database {
    pub fn meta_value(&self, key: &str) -> Result<Option<String>, Error> {
        self.read(|c| c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional())
    }

    pub fn batches(&self) -> Result<Vec<BatchRow>, Error> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT id, name, description FROM batches ORDER BY id")?;
            let rows = stmt.query_map([], |r| Ok(BatchRow { id: r.get(0)?, name: r.get(1)?, description: r.get(2)? }))?;
            rows.collect()
        })
    }

    pub fn batch(&self, id: i64) -> Result<Option<BatchRow>, Error> {
        self.read(|c| {
            c.query_row("SELECT id, name, description FROM batches WHERE id = ?1", [id], |r| {
                Ok(BatchRow { id: r.get(0)?, name: r.get(1)?, description: r.get(2)? })
            })
            .optional()
        })
    }

    /// Every dependency edge `(batch, depends_on)`.
    pub fn dependencies(&self) -> Result<Vec<(i64, i64)>, Error> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT batch_id, depends_on FROM batch_dependencies ORDER BY batch_id, depends_on")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
    }

    /// Item counts per (kind, batch, file, status): one pass over each
    /// table's covering index, aggregated further by the caller.
    pub fn count_cells(&self) -> Result<Vec<CountCell>, Error> {
        self.read(|c| {
            let mut out = Vec::new();
            for kind in ItemKind::ALL {
                // Table names are our own constants, never user input.
                let file = if kind == ItemKind::Module { "NULL" } else { "x.file_id" };
                let sql = format!(
                    "SELECT x.batch_id, {file}, x.status, x.first_upstream IS NOT NULL, count(*) FROM {} x GROUP BY x.batch_id, {file}, x.status, x.first_upstream",
                    table_of(kind)
                );
                let mut stmt = c.prepare_cached(&sql)?;
                let mut rows = stmt.query([])?;
                while let Some(r) = rows.next()? {
                    out.push(CountCell {
                        kind,
                        batch: r.get(0)?,
                        file_id: r.get(1)?,
                        status: status_of(r, 2)?,
                        upstream_new: r.get(3)?,
                        count: r.get::<_, i64>(4)? as u64,
                    });
                }
            }
            Ok(out)
        })
    }

    /// Counts by status of one batch's modules, features and tests.
    pub fn batch_counts(&self, batch: i64) -> Result<KindCounts, Error> {
        self.read(|c| {
            let mut out = KindCounts::default();
            for kind in ItemKind::ALL {
                let sql = format!("SELECT x.status, count(*) FROM {} x WHERE x.batch_id = ?1 GROUP BY x.status", table_of(kind));
                let mut stmt = c.prepare_cached(&sql)?;
                let mut rows = stmt.query([batch])?;
                while let Some(r) = rows.next()? {
                    out.add(kind, status_of(r, 0)?, r.get::<_, i64>(1)? as u64);
                }
            }
            Ok(out)
        })
    }

    /// A source file's path.
    pub fn file_path(&self, id: i64) -> Result<Option<String>, Error> {
        self.read(|c| c.query_row("SELECT path FROM source_files WHERE id = ?1", [id], |r| r.get(0)).optional())
    }

    /// Features then tests of a batch, by ID (what gates and stub scans
    /// look at; a batch's modules are [`Database::batch_modules`]).
    pub fn batch_items(&self, batch: i64) -> Result<Vec<ItemRow>, Error> {
        self.read(|c| {
            let mut out = items(c, ItemKind::Feature, "WHERE f.batch_id = ?1 ORDER BY f.id", [batch])?;
            out.extend(items(c, ItemKind::Test, "WHERE f.batch_id = ?1 ORDER BY f.id", [batch])?);
            Ok(out)
        })
    }

    /// Modules of a batch, by ID.
    pub fn batch_modules(&self, batch: i64) -> Result<Vec<ItemRow>, Error> {
        self.read(|c| items(c, ItemKind::Module, "WHERE f.batch_id = ?1 ORDER BY f.id", [batch]))
    }

    /// Counts by status of the features and tests of one module: those of
    /// the plan, and those first seen upstream.
    pub fn module_counts(&self, module: i64) -> Result<(KindCounts, KindCounts), Error> {
        self.read(|c| module_counts_in(c, module))
    }

    /// Every module's plan feature and test counts, by module ID.
    pub fn all_module_counts(&self) -> Result<std::collections::BTreeMap<i64, KindCounts>, Error> {
        self.read(|c| {
            let mut out: std::collections::BTreeMap<i64, KindCounts> = std::collections::BTreeMap::new();
            for kind in [ItemKind::Feature, ItemKind::Test] {
                let sql = format!(
                    "SELECT s.module_id, x.status, count(*) FROM {} x JOIN source_files s ON s.id = x.file_id
                     WHERE s.module_id IS NOT NULL AND x.first_upstream IS NULL GROUP BY s.module_id, x.status",
                    table_of(kind)
                );
                let mut stmt = c.prepare_cached(&sql)?;
                let mut rows = stmt.query([])?;
                while let Some(r) = rows.next()? {
                    out.entry(r.get(0)?).or_default().add(kind, status_of(r, 1)?, r.get::<_, i64>(2)? as u64);
                }
            }
            Ok(out)
        })
    }

    /// Number of source files of every module, by module ID.
    pub fn module_file_counts(&self) -> Result<std::collections::BTreeMap<i64, usize>, Error> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT module_id, count(*) FROM source_files WHERE module_id IS NOT NULL GROUP BY module_id")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as usize)))?;
            rows.collect()
        })
    }

    /// Source files of a module: (path, is_test, lines), in numbering order.
    pub fn module_files(&self, module: i64) -> Result<Vec<(String, bool, i64)>, Error> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT path, is_test, lines FROM source_files WHERE module_id = ?1 ORDER BY id")?;
            let rows = stmt.query_map([module], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect()
        })
    }

    pub fn item(&self, kind: ItemKind, id: i64) -> Result<Option<ItemRow>, Error> {
        self.read(|c| item_in(c, kind, id))
    }

    /// Items whose name is `name` (and, when given, whose receiver is `receiver`).
    pub fn items_named(&self, kind: ItemKind, receiver: Option<&str>, name: &str) -> Result<Vec<ItemRow>, Error> {
        self.read(|c| items_named_in(c, kind, receiver, name))
    }

    /// Items whose name matches `name` ignoring case (for "did you mean").
    pub fn items_named_nocase(&self, kind: ItemKind, name: &str, limit: i64) -> Result<Vec<ItemRow>, Error> {
        self.read(|c| items(c, kind, "WHERE f.name = ?1 COLLATE NOCASE ORDER BY f.id LIMIT ?2", params![name, limit]))
    }

    pub fn list_items(&self, kind: ItemKind, filter: &ListFilter) -> Result<Vec<ItemRow>, Error> {
        let status = filter.status.map(|s| s.as_str());
        let file = filter.file.as_deref();
        self.read(|c| {
            items(
                c,
                kind,
                "WHERE (?1 IS NULL OR f.batch_id = ?1) AND (?2 IS NULL OR f.status = ?2) AND (?3 IS NULL OR instr(s.path, ?3) > 0) ORDER BY f.id",
                params![filter.batch, status, file],
            )
        })
    }

    /// Tests linked to a feature, or features linked to a test.
    pub fn linked(&self, kind: ItemKind, id: i64) -> Result<Vec<ItemRow>, Error> {
        self.read(|c| match kind {
            ItemKind::Feature => items(c, ItemKind::Test, "JOIN feature_tests l ON l.test_id = f.id WHERE l.feature_id = ?1 ORDER BY f.id", [id]),
            ItemKind::Test => items(c, ItemKind::Feature, "JOIN feature_tests l ON l.feature_id = f.id WHERE l.test_id = ?1 ORDER BY f.id", [id]),
            // A module's items are counted by `module_counts`, not linked.
            ItemKind::Module => Ok(Vec::new()),
        })
    }

    /// Rust tests registered for a feature beyond its linked source tests.
    pub fn feature_rust_tests(&self, id: i64) -> Result<Vec<String>, Error> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT rust_test FROM feature_rust_tests WHERE feature_id = ?1 ORDER BY rust_test")?;
            let rows = stmt.query_map([id], |r| r.get(0))?;
            rows.collect()
        })
    }

    pub fn history(&self, filter: HistoryFilter) -> Result<Vec<HistoryRow>, Error> {
        let (batch, kind, item) = match filter {
            HistoryFilter::All => (None, None, None),
            HistoryFilter::Batch(b) => (Some(b), None, None),
            HistoryFilter::Item(k, id) => (None, Some(k.as_str()), Some(id)),
        };
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT h.id, h.item_kind, h.item_id,
                        CASE h.item_kind WHEN 'feature' THEN
                            (SELECT CASE WHEN f.receiver = '' THEN f.name ELSE f.receiver || '.' || f.name END FROM features f WHERE f.id = h.item_id)
                        WHEN 'test' THEN (SELECT t.name FROM tests t WHERE t.id = h.item_id)
                        ELSE (SELECT m.name FROM modules m WHERE m.id = h.item_id) END,
                        h.batch_id, h.from_status, h.to_status, h.reason, o.reason, h.evidence_run, h.actor, h.at, h.command, h.change_id
                 FROM status_history h LEFT JOIN overrides o ON o.id = h.override_id
                 WHERE (?1 IS NULL OR h.batch_id = ?1) AND (?2 IS NULL OR (h.item_kind = ?2 AND h.item_id = ?3))
                 ORDER BY h.id",
            )?;
            let rows = stmt.query_map(params![batch, kind, item], |r| {
                Ok(HistoryRow {
                    id: r.get(0)?,
                    item_kind: kind_of(r, 1)?,
                    item_id: r.get(2)?,
                    item_name: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                    batch: r.get(4)?,
                    from_status: status_of(r, 5)?,
                    to_status: status_of(r, 6)?,
                    reason: r.get(7)?,
                    override_reason: r.get(8)?,
                    evidence_run: r.get(9)?,
                    actor: r.get(10)?,
                    at: r.get(11)?,
                    command: r.get(12)?,
                    change_id: r.get(13)?,
                })
            })?;
            rows.collect()
        })
    }

    pub fn overrides(&self, batch: i64) -> Result<Vec<OverrideRow>, Error> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT id, batch_id, reason, blocking, actor, at, command FROM overrides WHERE batch_id = ?1 ORDER BY id")?;
            let rows = stmt.query_map([batch], |r| {
                Ok(OverrideRow {
                    id: r.get(0)?,
                    batch: r.get(1)?,
                    reason: r.get(2)?,
                    blocking: r.get(3)?,
                    actor: r.get(4)?,
                    at: r.get(5)?,
                    command: r.get(6)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Every feature that has a Rust file mapped.
    pub fn rust_targets(&self) -> Result<Vec<RustTarget>, Error> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, CASE WHEN receiver = '' THEN name ELSE receiver || '.' || name END, rust_file, rust_symbol
                 FROM features WHERE rust_file IS NOT NULL ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| Ok(RustTarget { feature_id: r.get(0)?, go_name: r.get(1)?, rust_file: r.get(2)?, rust_symbol: r.get(3)? }))?;
            rows.collect()
        })
    }

}

/// Counts by status of the features and tests of one module: (the plan's,
/// those first seen upstream).
pub(crate) fn module_counts_in(c: &Connection, module: i64) -> rusqlite::Result<(KindCounts, KindCounts)> {
    let (mut plan, mut upstream) = (KindCounts::default(), KindCounts::default());
    for kind in [ItemKind::Feature, ItemKind::Test] {
        let sql = format!(
            "SELECT x.status, x.first_upstream IS NOT NULL, count(*) FROM {} x JOIN source_files s ON s.id = x.file_id
             WHERE s.module_id = ?1 GROUP BY x.status, 2",
            table_of(kind)
        );
        let mut stmt = c.prepare_cached(&sql)?;
        let mut rows = stmt.query([module])?;
        while let Some(r) = rows.next()? {
            let counts = if r.get::<_, bool>(1)? { &mut upstream } else { &mut plan };
            counts.add(kind, status_of(r, 0)?, r.get::<_, i64>(2)? as u64);
        }
    }
    Ok((plan, upstream))
}

/// An item kind stored as text.
pub(crate) fn kind_of(r: &Row<'_>, idx: usize) -> rusqlite::Result<ItemKind> {
    let text: String = r.get(idx)?;
    ItemKind::from_stored(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, format!("unknown item kind '{text}'").into())
    })
}


/// Table holding items of `kind` (our own constant names).
pub(crate) fn table_of(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Feature => "features",
        ItemKind::Test => "tests",
        ItemKind::Module => "modules",
    }
}
