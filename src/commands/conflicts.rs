//! `porttrack conflicts`: items a merge of two copies left in conflict
//! (both sides moved them to different statuses), with each side's claim.
//! `batch update` of an item settles its conflict.

use clap::Args;
use serde::Serialize;

use super::Ctx;
use crate::db::OpenConflict;
use crate::exit_codes;
use crate::render;

#[derive(Debug, Args)]
pub struct ConflictsArgs {
    /// Exit 1 when any conflict is open (for CI)
    #[arg(long)]
    pub check: bool,
}

#[derive(Serialize)]
struct Conflicts {
    count: usize,
    conflicts: Vec<OpenConflict>,
}

pub fn run(ctx: &Ctx, args: ConflictsArgs) -> anyhow::Result<i32> {
    let db = ctx.open_db()?;
    let conflicts = db.open_conflicts()?;
    let out = Conflicts { count: conflicts.len(), conflicts };
    ctx.emit("conflicts", &out, |c| render::merge::conflicts(&c.conflicts))?;
    Ok(if args.check && out.count > 0 { exit_codes::CHECK_FAILED } else { exit_codes::SUCCESS })
}
