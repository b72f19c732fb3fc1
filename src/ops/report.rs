//! `report summary`: overall progress by the stated "done" rule, then
//! counts by status, by batch, and the files with the most work left.

use std::collections::BTreeMap;

use serde::Serialize;

use super::batch::{counts_by_batch, statuses};
use crate::db::Database;
use crate::domain::status::{percent, BatchStatus, KindCounts, StatusCounts, DONE_RULE};
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
    /// Over the plan's items; items new upstream are counted apart.
    pub overall: Overall,
    pub modules: StatusCounts,
    pub features: StatusCounts,
    pub tests: StatusCounts,
    pub by_batch: Vec<BatchProgress>,
    /// Items in no batch (possible after an import into a custom plan).
    pub unbatched: u64,
    /// Items first seen at an upstream commit, not in the plan.
    pub upstream_new: KindCounts,
    /// Drift from the plan to the latest upstream commit, and the finished
    /// items whose Go changed since they were proven.
    pub upstream: Option<super::upstream::DriftSummary>,
    pub files_most_work_left: Vec<FileWork>,
    /// Verified items whose Rust file changed since their evidence.
    pub stale: Vec<super::stale::StaleItem>,
    /// Mutants of the verified features' mutation evidence.
    pub mutation: MutationSummary,
}

/// Over verified features: the mutants of each one's latest trusted
/// mutation run, and the mutation score.
#[derive(Debug, Clone, Serialize)]
pub struct MutationSummary {
    /// Verified features with mutation evidence.
    pub features: u64,
    pub caught: u64,
    pub timeout: u64,
    pub missed: u64,
    pub unviable: u64,
    pub suppressed: u64,
    /// Viable mutants (caught, timed out, missed, suppressed).
    pub total: u64,
    /// (caught + timed out) / (caught + timed out + missed), in percent.
    pub score: Option<f64>,
}

pub fn summary(db: &Database) -> Result<Summary, Error> {
    let cells = db.count_cells()?;
    let mut kinds = KindCounts::default();
    let mut per_file: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
    let mut upstream_new = KindCounts::default();
    for c in &cells {
        if c.upstream_new {
            upstream_new.add(c.kind, c.status, c.count);
        } else {
            kinds.add(c.kind, c.status, c.count);
        }
        let Some(file) = c.file_id else { continue };
        let e = per_file.entry(file).or_default();
        e.1 += c.count;
        if !c.status.is_done() {
            e.0 += c.count;
        }
    }
    let all = kinds.all();
    let by_batch_counts = counts_by_batch(&cells);
    let batches = db.batches()?;
    let status_of = statuses(&batches, &by_batch_counts);
    let by_batch = batches
        .iter()
        .map(|b| {
            let c = by_batch_counts.get(&Some(b.id)).copied().unwrap_or_default().all();
            BatchProgress { number: b.id, name: b.name.clone(), status: status_of[&b.id], done: c.done(), total: c.total(), percent: c.percent_done() }
        })
        .collect();
    let unbatched = by_batch_counts.get(&None).map_or(0, |c| c.all().total());
    // Most remaining first, ties by file ID (import order, i.e. path order).
    let mut ranked: Vec<(i64, u64, u64)> = per_file.into_iter().filter(|(_, (left, _))| *left > 0).map(|(f, (left, total))| (f, left, total)).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut files = Vec::new();
    for (file_id, remaining, total) in ranked.into_iter().take(TOP_FILES) {
        files.push(FileWork { file: db.file_path(file_id)?.unwrap_or_default(), remaining, total });
    }
    Ok(Summary {
        overall: Overall { done: all.done(), total: all.total(), percent: percent(all.done(), all.total()), rule: DONE_RULE },
        modules: kinds.modules,
        features: kinds.features,
        tests: kinds.tests,
        by_batch,
        unbatched,
        upstream_new,
        upstream: super::upstream::marks(db, crate::db::DriftFilter::default())?.summary,
        files_most_work_left: files,
        stale: Vec::new(),
        mutation: mutation_summary(db)?,
    })
}

fn mutation_summary(db: &Database) -> Result<MutationSummary, Error> {
    let (t, features) = db.verified_mutation_totals()?;
    Ok(MutationSummary {
        features,
        caught: t.caught,
        timeout: t.timeout,
        missed: t.missed,
        unviable: t.unviable,
        suppressed: t.suppressed,
        total: t.viable(),
        score: t.score().map(|s| (s * 1000.0).round() / 10.0),
    })
}
