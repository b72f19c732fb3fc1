//! `feature show|list` and `test show|list`.

use serde::Serialize;

use super::batch::ItemSummary;
use crate::db::{Database, HistoryFilter, HistoryRow, ItemKind, ItemRow, ListFilter};
use crate::error::Error;

#[derive(Debug, Clone, Serialize)]
pub struct BatchRef {
    pub number: i64,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemDetail {
    #[serde(flatten)]
    pub item: ItemRow,
    pub qualified_name: String,
    pub batch: Option<BatchRef>,
    /// Tests linked to a feature, or features linked to a test.
    pub links: Vec<ItemSummary>,
    /// Rust tests registered for a feature beyond its linked tests.
    pub rust_tests: Vec<String>,
    pub history: Vec<HistoryRow>,
    /// Verified, but its Rust file changed since the evidence run.
    pub stale: bool,
    /// The item at the latest upstream commit (None when none is recorded).
    pub upstream: Option<super::upstream::ItemUpstream>,
    /// A Rust feature's mutation evidence (None for other items).
    pub mutation: Option<super::mutants::MutationShown>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemList {
    pub kind: ItemKind,
    pub count: usize,
    pub items: Vec<ItemSummary>,
}

pub fn show(db: &Database, kind: ItemKind, reference: &str) -> Result<ItemDetail, Error> {
    let item = super::resolve(db, kind, reference)?;
    let batch = match item.batch {
        Some(n) => db.batch(n)?.map(|b| BatchRef { number: b.id, name: b.name }),
        None => None,
    };
    let links = db.linked(kind, item.id)?.iter().map(ItemSummary::from).collect();
    let rust_tests = match kind {
        ItemKind::Feature => db.feature_rust_tests(item.id)?,
        ItemKind::Test | ItemKind::Module => Vec::new(),
    };
    let history = db.history(HistoryFilter::Item(kind, item.id))?;
    let upstream = super::upstream::item(db, kind, item.id)?;
    Ok(ItemDetail { qualified_name: item.qualified_name(), item, batch, links, rust_tests, history, stale: false, upstream, mutation: None })
}

pub fn list(db: &Database, kind: ItemKind, filter: &ListFilter) -> Result<ItemList, Error> {
    if let Some(b) = filter.batch {
        db.batch(b)?.ok_or_else(|| super::batch::no_batch(b))?;
    }
    let items: Vec<ItemSummary> = db.list_items(kind, filter)?.iter().map(ItemSummary::from).collect();
    Ok(ItemList { kind, count: items.len(), items })
}
