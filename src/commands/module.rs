//! `porttrack module show|list`.

use clap::{Args, Subcommand};

use super::Ctx;
use crate::db::ListFilter;
use crate::domain::status::ItemStatus;
use crate::ops;
use crate::render;

#[derive(Debug, Subcommand)]
pub enum ModuleCommand {
    /// One module: its directory, batch, status, files, the progress of its features and tests, its history
    Show(ShowArgs),
    /// Modules (directories of the source) with the progress of their features and tests
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Module ID or name (server, avl)
    pub module: String,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only modules of this batch
    #[arg(long)]
    pub batch: Option<i64>,
    /// Only modules with this status (not_started, stub, complete, verified, deferred, n_a)
    #[arg(long, value_parser = parse_status)]
    pub status: Option<ItemStatus>,
}

fn parse_status(s: &str) -> Result<ItemStatus, String> {
    s.parse().map_err(|e: crate::error::Error| e.to_string())
}

pub fn run(ctx: &Ctx, cmd: ModuleCommand) -> anyhow::Result<i32> {
    match cmd {
        ModuleCommand::Show(a) => {
            let db = ctx.open_db()?;
            let detail = ops::module::show(&db, &a.module)?;
            ctx.emit("module show", &detail, render::module::show)
        }
        ModuleCommand::List(a) => {
            let db = ctx.open_db()?;
            let filter = ListFilter { batch: a.batch, status: a.status, file: None };
            let list = ops::module::list(&db, &filter)?;
            ctx.emit("module list", &list, render::module::list)
        }
    }
}
