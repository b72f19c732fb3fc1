//! `porttrack upstream diff|list`: how the Go source moved between the
//! plan's commit and the upstream commits recorded with `import go --as-of`.

use clap::{Args, Subcommand};

use super::Ctx;
use crate::ops;
use crate::render;

#[derive(Debug, Subcommand)]
pub enum UpstreamCommand {
    /// Items whose Go body changed, that are new upstream, or gone upstream,
    /// between the plan (or --from COMMIT) and COMMIT (default: the latest)
    Diff(DiffArgs),
    /// The plan's commit and the upstream commits recorded
    List,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// A recorded upstream commit (or a prefix of it) [default: the latest]
    pub commit: Option<String>,
    /// Compare with this recorded commit instead of the plan's inventory
    #[arg(long, value_name = "COMMIT")]
    pub from: Option<String>,
    /// Only items of this batch
    #[arg(long)]
    pub batch: Option<i64>,
}

pub fn run(ctx: &Ctx, cmd: UpstreamCommand) -> anyhow::Result<i32> {
    match cmd {
        UpstreamCommand::Diff(a) => {
            let db = ctx.open_db()?;
            let report = ops::upstream::diff(&db, a.from.as_deref(), a.commit.as_deref(), a.batch)?;
            ctx.emit("upstream diff", &report, |r| render::upstream::diff(r, 0))
        }
        UpstreamCommand::List => {
            let db = ctx.open_db()?;
            let list = ops::upstream::list(&db)?;
            ctx.emit("upstream list", &list, render::upstream::list)
        }
    }
}
