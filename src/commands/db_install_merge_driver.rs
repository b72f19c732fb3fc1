//! `porttrack db install-merge-driver`: tell git to merge porting.db with
//! `porttrack db merge` and show its differences as `porttrack db dump`
//! text: the repository's git config names the driver, `.gitattributes`
//! (committed, so every clone agrees) assigns it to the database file.

use clap::Args;

use super::Ctx;
use crate::ops::merge_driver::{install, InstallOptions};
use crate::render;

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The porttrack program git runs (default: `porttrack`, found on PATH)
    #[arg(long, value_name = "PROGRAM", default_value = "porttrack")]
    pub program: String,
}

pub fn run(ctx: &Ctx, args: InstallArgs) -> anyhow::Result<i32> {
    let report = install(&InstallOptions { db: ctx.db_path(), program: args.program })?;
    ctx.emit("db install-merge-driver", &report, render::merge::install_report)
}
