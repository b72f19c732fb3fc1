//! `report summary`: overall progress by the stated "done" rule, then
//! counts by status, by batch, and the files with the most work left.

use std::collections::BTreeMap;

use serde::Serialize;

use super::batch::{counts_by_batch, statuses};
use crate::db::{Database, ItemKind};
use crate::domain::status::{percent, BatchStatus, StatusCounts, DONE_RULE};
use crate::error::Error;

/// How many files the "most work left" list shows.
pub const TOP_FILES: usize = 10;

#[derive(Debug, Clone, Serialize)]
pub struct Overall {
    pub done: u64,
    pub total: u64,
    pub percent: f64,
    pub rule: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchProgress {
    pub number: i64,
    pub name: String,
    pub status: BatchStatus,
    pub done: u64,
    pub total: u64,
    pub percent: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileWork {
    pub file: String,
    pub remaining: u64,
    pub total: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub overall: Overall,
    pub features: StatusCounts,
    pub tests: StatusCounts,
    pub by_batch: Vec<BatchProgress>,
    /// Items in no batch (possible after an import into a custom plan).
    pub unbatched: u64,
    pub files_most_work_left: Vec<FileWork>,
    /// Verified items whose Rust file changed since their evidence.
    pub stale: Vec<super::stale::StaleItem>,
}

pub fn summary(db: &Database) -> Result<Summary, Error> {
    let cells = db.count_cells(None)?;
    let mut features = StatusCounts::default();
    let mut tests = StatusCounts::default();
    let mut per_file: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for c in &cells {
        match c.kind {
            ItemKind::Feature => features.add(c.status, c.count),
            ItemKind::Test => tests.add(c.status, c.count),
        }
        let e = per_file.entry(c.file.as_str()).or_default();
        e.1 += c.count;
        if !c.status.is_done() {
            e.0 += c.count;
        }
    }
    let all = features.merged(&tests);
    let by_batch_counts = counts_by_batch(&cells);
    let batches = db.batches()?;
    let status_of = statuses(&batches, &by_batch_counts);
    let by_batch = batches
        .iter()
        .map(|b| {
            let (f, t) = by_batch_counts.get(&Some(b.id)).copied().unwrap_or_default();
            let c = f.merged(&t);
            BatchProgress { number: b.id, name: b.name.clone(), status: status_of[&b.id], done: c.done(), total: c.total(), percent: c.percent_done() }
        })
        .collect();
    let unbatched = by_batch_counts.get(&None).map_or(0, |(f, t)| f.total() + t.total());
    let mut files: Vec<FileWork> = per_file
        .into_iter()
        .filter(|(_, (remaining, _))| *remaining > 0)
        .map(|(file, (remaining, total))| FileWork { file: file.to_string(), remaining, total })
        .collect();
    files.sort_by(|a, b| b.remaining.cmp(&a.remaining).then_with(|| a.file.cmp(&b.file)));
    files.truncate(TOP_FILES);
    Ok(Summary {
        overall: Overall { done: all.done(), total: all.total(), percent: percent(all.done(), all.total()), rule: DONE_RULE },
        features,
        tests,
        by_batch,
        unbatched,
        files_most_work_left: files,
        stale: Vec::new(),
    })
}
