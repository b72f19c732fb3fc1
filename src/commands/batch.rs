//! `porttrack batch show|list`.

use clap::{Args, Subcommand};

use super::Ctx;
use crate::ops;
use crate::render;

#[derive(Debug, Subcommand)]
pub enum BatchCommand {
    /// One batch: derived status, dependencies, counts by status, its items
    Show(ShowArgs),
    /// Every batch with counts, percent done, dependencies and readiness
    List,
    /// Change the status of at most 15 items of the batch, all or nothing
    Update(super::update::UpdateArgs),
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Batch number
    pub number: i64,
}

pub fn run(ctx: &Ctx, cmd: BatchCommand) -> anyhow::Result<i32> {
    match cmd {
        BatchCommand::Show(a) => {
            let db = ctx.open_db()?;
            let mut shown = ops::batch::show(&db, a.number)?;
            ops::batch::mark_stale(&db, &ctx.project_root_for(&db)?, &mut shown)?;
            ops::batch::mark_upstream(&db, &mut shown)?;
            // A porttrack.toml that cannot be read leaves the marks out; the
            // commands that run gates say why.
            if let Ok(project) = ctx.project_for(&db) {
                ops::batch::mark_mutation(&db, &project, &mut shown)?;
            }
            ctx.emit("batch show", &shown, render::batch::show)
        }
        BatchCommand::List => {
            let db = ctx.open_db()?;
            let list = ops::batch::list(&db)?;
            ctx.emit("batch list", &list, render::batch::list)
        }
        BatchCommand::Update(a) => super::update::run(ctx, a),
    }
}
