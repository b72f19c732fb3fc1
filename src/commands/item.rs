//! `porttrack feature show|list` and `porttrack test show|list`.

use clap::{Args, Subcommand};

use super::Ctx;
use crate::db::{ItemKind, ListFilter};
use crate::domain::status::ItemStatus;
use crate::ops;
use crate::render;

#[derive(Debug, Subcommand)]
pub enum FeatureCommand {
    /// Every field of one feature, its batch, the tests that call it, its history
    Show(ShowArgs),
    /// Features, filtered by batch, status or file
    List(ListArgs),
}

#[derive(Debug, Subcommand)]
pub enum TestCommand {
    /// Every field of one test, its batch, the features it calls, its history
    Show(ShowArgs),
    /// Tests, filtered by batch, status or file
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// ID or Go name (monitorCluster, jetStream.monitorCluster, TestNRGSimple)
    pub item: String,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only items of this batch
    #[arg(long)]
    pub batch: Option<i64>,
    /// Only items with this status (not_started, stub, complete, verified, deferred, n_a)
    #[arg(long, value_parser = parse_status)]
    pub status: Option<ItemStatus>,
    /// Only items whose source path contains this text
    #[arg(long)]
    pub file: Option<String>,
}

fn parse_status(s: &str) -> Result<ItemStatus, String> {
    s.parse().map_err(|e: crate::error::Error| e.to_string())
}

pub fn run_feature(ctx: &Ctx, cmd: FeatureCommand) -> anyhow::Result<i32> {
    match cmd {
        FeatureCommand::Show(a) => show(ctx, ItemKind::Feature, a),
        FeatureCommand::List(a) => list(ctx, ItemKind::Feature, a),
    }
}

pub fn run_test(ctx: &Ctx, cmd: TestCommand) -> anyhow::Result<i32> {
    match cmd {
        TestCommand::Show(a) => show(ctx, ItemKind::Test, a),
        TestCommand::List(a) => list(ctx, ItemKind::Test, a),
    }
}

fn show(ctx: &Ctx, kind: ItemKind, args: ShowArgs) -> anyhow::Result<i32> {
    let db = ctx.open_db()?;
    let mut detail = ops::item::show(&db, kind, &args.item)?;
    detail.stale = ops::stale::stale_items(&db, &ctx.project_root_for(&db)?, detail.item.batch)?.iter().any(|s| s.kind == kind && s.id == detail.item.id);
    if kind == ItemKind::Feature {
        let project = ctx.project_for(&db)?;
        detail.mutation = ops::mutants::shown(&db, &project, &detail.item)?;
    }
    ctx.emit(&format!("{} show", kind.as_str()), &detail, render::item::show)
}

fn list(ctx: &Ctx, kind: ItemKind, args: ListArgs) -> anyhow::Result<i32> {
    let db = ctx.open_db()?;
    let filter = ListFilter { batch: args.batch, status: args.status, file: args.file };
    let items = ops::item::list(&db, kind, &filter)?;
    ctx.emit(&format!("{} list", kind.as_str()), &items, render::item::list)
}
