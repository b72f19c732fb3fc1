//! `porttrack report summary`.

use clap::Subcommand;

use super::Ctx;
use crate::ops;
use crate::render;

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Overall progress (done = complete + verified + n_a), counts by status,
    /// by batch, and the files with the most work left
    Summary,
}

pub fn run(ctx: &Ctx, cmd: ReportCommand) -> anyhow::Result<i32> {
    match cmd {
        ReportCommand::Summary => {
            let db = ctx.open_db()?;
            let mut summary = ops::report::summary(&db)?;
            summary.stale = ops::stale::stale_items(&db, &ctx.project_root_for(&db)?, None)?;
            ctx.emit("report summary", &summary, render::report::summary)
        }
    }
}
