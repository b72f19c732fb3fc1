//! `porttrack db dump [--since REF]`: the database as canonical, sorted
//! lines (gate runs, then changes, by time and global ID, then every item
//! not at not_started), stable across copies, for `git diff` and review.
//! Also git's textconv for the database (`db install-merge-driver`).

use clap::Args;

use super::Ctx;
use crate::ops::dump::dump;
use crate::render;

#[derive(Debug, Args)]
pub struct DumpArgs {
    /// Only what is new or different since the database as committed at this git revision
    #[arg(long, value_name = "REF")]
    pub since: Option<String>,
}

pub fn run(ctx: &Ctx, args: DumpArgs) -> anyhow::Result<i32> {
    let path = ctx.db_path();
    let d = dump(&path, args.since.as_deref())?;
    ctx.emit("db dump", &d, render::dump::dump)
}
