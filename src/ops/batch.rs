//! `batch show` and `batch list`: batches with derived status, dependency
//! readiness, counts and items.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::db::{BatchRow, CountCell, Database, ItemKind, ItemRow, OverrideRow};
use super::upstream::DriftSummary;
use crate::domain::status::{BatchStatus, KindCounts, StatusCounts};
use crate::domain::upstream::Drift;
use crate::error::Error;

/// Counts of one kind of item, with the items themselves when listed.
#[derive(Debug, Clone, Serialize)]
pub struct ItemGroup {
    #[serde(flatten)]
    pub counts: StatusCounts,
    pub items: Vec<ItemSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemSummary {
    pub id: i64,
    pub name: String,
    pub file: String,
    pub line: i64,
    pub status: crate::domain::status::ItemStatus,
    pub rust_target: Option<String>,
    /// Verified, but its Rust file changed since the evidence run.
    pub stale: bool,
    /// How its Go moved from the plan's commit to the latest upstream one.
    pub upstream: Option<Drift>,
    /// Complete or verified, and its Go changed since it was proven.
    pub upstream_changed: bool,
    /// Why a complete or verified Rust feature's mutation evidence does not
    /// allow verified, in a word (missing, stale, missed, …), when
    /// `[verify] mutants = true`.
    pub mutation: Option<&'static str>,
}

impl From<&ItemRow> for ItemSummary {
    fn from(r: &ItemRow) -> Self {
        ItemSummary {
            id: r.id,
            name: r.qualified_name(),
            file: r.file.clone(),
            line: r.line,
            status: r.status,
            rust_target: r.rust_target(),
            stale: false,
            upstream: None,
            upstream_changed: false,
            mutation: None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Dependency {
    pub number: i64,
    pub name: String,
    pub status: BatchStatus,
    /// Done, so it no longer blocks.
    pub satisfied: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchShow {
    pub number: i64,
    pub name: String,
    pub description: String,
    pub status: BatchStatus,
    pub ready: bool,
    pub depends_on: Vec<Dependency>,
    pub source_files: Vec<String>,
    pub modules: ItemGroup,
    pub features: ItemGroup,
    pub tests: ItemGroup,
    pub overrides: Vec<OverrideRow>,
    /// Verified items whose Rust file changed since their evidence.
    pub stale: usize,
    /// Complete or verified Rust features whose mutation evidence is
    /// missing, stale or insufficient.
    pub mutation_marked: usize,
    /// Drift of the batch's items from the plan's commit to the latest
    /// upstream commit (None when no upstream commit is recorded).
    pub upstream: Option<DriftSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchListRow {
    pub number: i64,
    pub name: String,
    pub status: BatchStatus,
    pub modules: StatusCounts,
    pub features: StatusCounts,
    pub tests: StatusCounts,
    pub percent_done: f64,
    pub depends_on: Vec<i64>,
    /// Every dependency is done.
    pub ready: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchList {
    pub batches: Vec<BatchListRow>,
}

/// Counts per batch, by kind.
pub(crate) fn counts_by_batch(cells: &[CountCell]) -> BTreeMap<Option<i64>, KindCounts> {
    let mut out: BTreeMap<Option<i64>, KindCounts> = BTreeMap::new();
    for c in cells {
        out.entry(c.batch).or_default().add(c.kind, c.status, c.count);
    }
    out
}

/// Derived status of every batch.
pub(crate) fn statuses(batches: &[BatchRow], counts: &BTreeMap<Option<i64>, KindCounts>) -> BTreeMap<i64, BatchStatus> {
    batches.iter().map(|b| (b.id, BatchStatus::derive(&counts.get(&Some(b.id)).copied().unwrap_or_default().all()))).collect()
}

pub fn show(db: &Database, number: i64) -> Result<BatchShow, Error> {
    let batch = db.batch(number)?.ok_or_else(|| no_batch(number))?;
    // Only this batch and the batches it depends on are counted.
    let mut depends_on = Vec::new();
    for (_, d) in db.dependencies()?.into_iter().filter(|&(b, _)| b == number) {
        let status = BatchStatus::derive(&db.batch_counts(d)?.all());
        let name = db.batch(d)?.map(|b| b.name).unwrap_or_default();
        depends_on.push(Dependency { number: d, name, status, satisfied: status == BatchStatus::Done });
    }
    let mut items = db.batch_items(number)?;
    let source_files: Vec<String> = items.iter().map(|i| i.file.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    items.extend(db.batch_modules(number)?);
    let counts = db.batch_counts(number)?;
    let group = |kind| ItemGroup { counts: *counts.of(kind), items: items.iter().filter(|i| i.kind == kind).map(ItemSummary::from).collect() };
    Ok(BatchShow {
        number,
        status: BatchStatus::derive(&counts.all()),
        ready: depends_on.iter().all(|d| d.satisfied),
        name: batch.name,
        description: batch.description,
        depends_on,
        source_files,
        modules: group(ItemKind::Module),
        features: group(ItemKind::Feature),
        tests: group(ItemKind::Test),
        overrides: db.overrides(number)?,
        stale: 0,
        mutation_marked: 0,
        upstream: None,
    })
}

/// Mark the batch's items with their upstream drift and flags.
pub fn mark_upstream(db: &Database, shown: &mut BatchShow) -> Result<(), Error> {
    let marks = super::upstream::marks(db, crate::db::DriftFilter { batch: Some(shown.number), ..Default::default() })?;
    for (kind, group) in [(ItemKind::Feature, &mut shown.features), (ItemKind::Test, &mut shown.tests)] {
        for i in &mut group.items {
            if let Some(m) = marks.items.get(&(kind, i.id)) {
                i.upstream = m.drift;
                i.upstream_changed = m.upstream_changed;
            }
        }
    }
    shown.upstream = marks.summary;
    Ok(())
}

/// Flag the batch's verified items whose Rust file changed since their
/// evidence (files resolved against the project `root`).
pub fn mark_stale(db: &Database, root: &std::path::Path, shown: &mut BatchShow) -> Result<(), Error> {
    let stale = super::stale::stale_items(db, root, Some(shown.number))?;
    for s in &stale {
        let group = match s.kind {
            ItemKind::Feature => &mut shown.features,
            ItemKind::Test => &mut shown.tests,
            ItemKind::Module => &mut shown.modules,
        };
        if let Some(i) = group.items.iter_mut().find(|i| i.id == s.id) {
            i.stale = true;
        }
    }
    shown.stale = stale.len();
    Ok(())
}

pub fn list(db: &Database) -> Result<BatchList, Error> {
    let batches = db.batches()?;
    let counts = counts_by_batch(&db.count_cells()?);
    let status_of = statuses(&batches, &counts);
    let mut deps: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (b, d) in db.dependencies()? {
        deps.entry(b).or_default().push(d);
    }
    let rows = batches
        .iter()
        .map(|b| {
            let c = counts.get(&Some(b.id)).copied().unwrap_or_default();
            let depends_on = deps.remove(&b.id).unwrap_or_default();
            let ready = depends_on.iter().all(|d| status_of.get(d) == Some(&BatchStatus::Done));
            BatchListRow {
                number: b.id,
                name: b.name.clone(),
                status: status_of[&b.id],
                percent_done: c.all().percent_done(),
                modules: c.modules,
                features: c.features,
                tests: c.tests,
                depends_on,
                ready,
            }
        })
        .collect();
    Ok(BatchList { batches: rows })
}

pub fn no_batch(number: i64) -> Error {
    Error::not_found_with_hint("batch", number.to_string(), "; `porttrack batch list` shows the batches")
}

/// Mark the batch's complete and verified Rust features whose mutation
/// evidence is missing, stale or insufficient (when it is required).
pub fn mark_mutation(db: &Database, project: &crate::config::Project, shown: &mut BatchShow) -> Result<(), Error> {
    if !project.config.verify.mutants {
        return Ok(());
    }
    let items = db.batch_items(shown.number)?;
    let mut current = super::mutants::Current::new(db, project);
    for i in shown.features.items.iter_mut().filter(|i| matches!(i.status, crate::domain::status::ItemStatus::Complete | crate::domain::status::ItemStatus::Verified)) {
        if let Some(row) = items.iter().find(|r| r.kind == ItemKind::Feature && r.id == i.id) {
            i.mutation = super::mutants::mark_of(&mut current, row)?;
        }
    }
    shown.mutation_marked = shown.features.items.iter().filter(|i| i.mutation.is_some()).count();
    Ok(())
}
