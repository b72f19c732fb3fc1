//! `module show|list`: modules (directories of the source) as items, with
//! the progress of the features and tests they hold.

use serde::Serialize;

use crate::db::{Database, HistoryFilter, HistoryRow, ItemKind, ItemRow, ListFilter};
use crate::domain::status::{ItemStatus, KindCounts, StatusCounts};
use crate::error::Error;

#[derive(Debug, Clone, Serialize)]
pub struct ModuleSummary {
    pub id: i64,
    pub name: String,
    pub dir: String,
    pub batch: Option<i64>,
    pub status: ItemStatus,
    pub files: usize,
    pub features: StatusCounts,
    pub tests: StatusCounts,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModuleFile {
    pub path: String,
    pub is_test: bool,
    pub lines: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModuleDetail {
    #[serde(flatten)]
    pub module: ModuleSummary,
    /// Its features and tests first seen upstream, outside the plan.
    pub upstream_new: KindCounts,
    pub batch_name: Option<String>,
    pub lines: i64,
    pub source_files: Vec<ModuleFile>,
    pub history: Vec<HistoryRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModuleList {
    pub count: usize,
    pub modules: Vec<ModuleSummary>,
}

fn summary(row: &ItemRow, files: usize, counts: &KindCounts) -> ModuleSummary {
    ModuleSummary {
        id: row.id,
        name: row.name.clone(),
        dir: row.file.clone(),
        batch: row.batch,
        status: row.status,
        files,
        features: counts.features,
        tests: counts.tests,
    }
}

pub fn show(db: &Database, reference: &str) -> Result<ModuleDetail, Error> {
    let row = super::resolve(db, ItemKind::Module, reference)?;
    let files: Vec<ModuleFile> = db.module_files(row.id)?.into_iter().map(|(path, is_test, lines)| ModuleFile { path, is_test, lines }).collect();
    let batch_name = match row.batch {
        Some(n) => db.batch(n)?.map(|b| b.name),
        None => None,
    };
    let (plan, upstream_new) = db.module_counts(row.id)?;
    Ok(ModuleDetail {
        module: summary(&row, files.len(), &plan),
        upstream_new,
        batch_name,
        lines: row.loc,
        source_files: files,
        history: db.history(HistoryFilter::Item(ItemKind::Module, row.id))?,
    })
}

pub fn list(db: &Database, filter: &ListFilter) -> Result<ModuleList, Error> {
    if let Some(b) = filter.batch {
        db.batch(b)?.ok_or_else(|| super::batch::no_batch(b))?;
    }
    let counts = db.all_module_counts()?;
    let files = db.module_file_counts()?;
    let modules: Vec<ModuleSummary> = db
        .list_items(ItemKind::Module, filter)?
        .iter()
        .map(|row| summary(row, files.get(&row.id).copied().unwrap_or(0), &counts.get(&row.id).copied().unwrap_or_default()))
        .collect();
    Ok(ModuleList { count: modules.len(), modules })
}
