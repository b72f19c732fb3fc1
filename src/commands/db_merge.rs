//! `porttrack db merge BASE OURS THEIRS [-o OUT]`: merge two copies of a
//! database by their histories. As a git merge driver (`%O %A %B`) it
//! writes the merge into OURS and exits 1 when items are left in
//! conflict, so git reports the conflict.

use std::path::PathBuf;

use clap::Args;

use super::Ctx;
use crate::exit_codes;
use crate::ops::merge::{merge, MergeOptions};
use crate::render;

#[derive(Debug, Args)]
#[command(after_help = "\
Both copies' changes and gate runs since BASE are united by their global IDs
(a change both hold is one change) and replayed in time order through the
transition rules. An item both sides moved to different statuses keeps both
changes; the merge sets it to the less advanced claim (stub < not_started <
deferred < n_a < complete < verified), lists it in `porttrack conflicts`, and
exits 1. A later `batch update` of the item settles it. Copies at an older
schema are upgraded first. Install as git's driver with
`porttrack db install-merge-driver`.")]
pub struct MergeArgs {
    /// The common ancestor (git's %O; an empty file when both sides added the database)
    pub base: PathBuf,
    /// This side (git's %A); the merge is written here unless -o is given
    pub ours: PathBuf,
    /// The other side (git's %B)
    pub theirs: PathBuf,
    /// Write the merge to OUT instead of OURS
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, args: MergeArgs) -> anyhow::Result<i32> {
    let report = merge(&MergeOptions { base: args.base, ours: args.ours, theirs: args.theirs, out: args.output })?;
    ctx.emit("db merge", &report, render::merge::merge_report)?;
    Ok(if report.conflicts.is_empty() { exit_codes::SUCCESS } else { exit_codes::CHECK_FAILED })
}
