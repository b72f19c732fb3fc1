//! The history as a stream of transitions in commit order, for replays
//! that rebuild counts over time without holding the whole history.

use rusqlite::types::ValueRef;
use rusqlite::OptionalExtension;

use super::Database;
use crate::domain::status::{ItemKind, ItemStatus};
use crate::error::Error;

/// One status change, borrowed from the row being read.
#[derive(Debug, Clone, Copy)]
pub struct Transition<'a> {
    pub id: i64,
    pub kind: ItemKind,
    pub item_id: i64,
    /// The item's batch when it changed.
    pub batch: Option<i64>,
    pub from: ItemStatus,
    pub to: ItemStatus,
    /// RFC 3339 UTC.
    pub at: &'a str,
}

fn text<'a>(v: ValueRef<'a>, idx: usize) -> rusqlite::Result<&'a str> {
    v.as_str().map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e)))
}

fn status(v: ValueRef<'_>, idx: usize) -> rusqlite::Result<ItemStatus> {
    text(v, idx)?.parse().map_err(|e: Error| rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e)))
}

impl Database {
    /// Every status change (of one batch, or all) in commit order, handed to
    /// `f` one at a time.
    pub fn for_each_transition(&self, batch: Option<i64>, mut f: impl FnMut(Transition<'_>)) -> Result<(), Error> {
        const COLUMNS: &str = "SELECT id, item_kind, item_id, batch_id, from_status, to_status, at FROM status_history";
        self.read(|c| {
            let mut stmt = match batch {
                // The batch index holds rows in id order within a batch.
                Some(_) => c.prepare_cached(&format!("{COLUMNS} WHERE batch_id = ?1 ORDER BY id"))?,
                None => c.prepare_cached(&format!("{COLUMNS} WHERE ?1 IS NULL ORDER BY id"))?,
            };
            let mut rows = stmt.query([batch])?;
            while let Some(r) = rows.next()? {
                let kind = if text(r.get_ref(1)?, 1)? == "feature" { ItemKind::Feature } else { ItemKind::Test };
                f(Transition {
                    id: r.get(0)?,
                    kind,
                    item_id: r.get(2)?,
                    batch: r.get(3)?,
                    from: status(r.get_ref(4)?, 4)?,
                    to: status(r.get_ref(5)?, 5)?,
                    at: text(r.get_ref(6)?, 6)?,
                });
            }
            Ok(())
        })
    }

    /// The time of the first recorded change, if any.
    pub fn first_change_at(&self) -> Result<Option<String>, Error> {
        self.read(|c| c.query_row("SELECT at FROM status_history ORDER BY id LIMIT 1", [], |r| r.get(0)).optional())
    }
}
