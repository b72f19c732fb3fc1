//! Staleness: a `verified` item whose Rust file no longer has the SHA-256
//! recorded with its evidence was changed after it was proven.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;

use crate::db::Database;
use crate::domain::status::ItemKind;
use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct StaleItem {
    pub kind: ItemKind,
    pub id: i64,
    pub rust_file: String,
}

/// Verified items (of one batch, or all) whose Rust file changed since
/// their evidence run, relative to the project `root`.
pub fn stale_items(db: &Database, root: &Path, batch: Option<i64>) -> Result<Vec<StaleItem>, Error> {
    let mut out = BTreeSet::new();
    for (kind, id, file, recorded) in db.verified_file_hashes(batch)? {
        if crate::project_files::sha256(root, &file) != recorded {
            out.insert(StaleItem { kind, id, rust_file: file });
        }
    }
    Ok(out.into_iter().collect())
}
