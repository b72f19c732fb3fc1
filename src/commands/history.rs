//! `porttrack history`: the audit trail of status changes.

use clap::Args;
use serde::Serialize;

use super::Ctx;
use crate::db::{HistoryFilter, HistoryRow, ItemKind};
use crate::ops;
use crate::render;

#[derive(Debug, Args)]
#[group(multiple = false)]
pub struct HistoryArgs {
    /// Only changes of items in this batch
    #[arg(long)]
    pub batch: Option<i64>,
    /// Only changes of this feature (ID or Go name)
    #[arg(long)]
    pub feature: Option<String>,
    /// Only changes of this test (ID or name)
    #[arg(long)]
    pub test: Option<String>,
    /// Only changes of this module (ID or name)
    #[arg(long)]
    pub module: Option<String>,
}

#[derive(Serialize)]
struct History {
    count: usize,
    changes: Vec<HistoryRow>,
}

pub fn run(ctx: &Ctx, args: HistoryArgs) -> anyhow::Result<i32> {
    let db = ctx.open_db()?;
    let filter = if let Some(b) = args.batch {
        db.batch(b)?.ok_or_else(|| ops::batch::no_batch(b))?;
        HistoryFilter::Batch(b)
    } else if let Some(f) = &args.feature {
        HistoryFilter::Item(ItemKind::Feature, ops::resolve(&db, ItemKind::Feature, f)?.id)
    } else if let Some(t) = &args.test {
        HistoryFilter::Item(ItemKind::Test, ops::resolve(&db, ItemKind::Test, t)?.id)
    } else if let Some(m) = &args.module {
        HistoryFilter::Item(ItemKind::Module, ops::resolve(&db, ItemKind::Module, m)?.id)
    } else {
        HistoryFilter::All
    };
    let changes = db.history(filter)?;
    let out = History { count: changes.len(), changes };
    ctx.emit("history", &out, |h| {
        if h.changes.is_empty() {
            "No status changes recorded.\n".to_string()
        } else {
            format!("{}\n{} change(s)\n", render::report::history_table(&h.changes), h.count)
        }
    })
}
