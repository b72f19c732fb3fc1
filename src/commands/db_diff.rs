//! `porttrack db diff A B`: item-level differences between two database
//! files (status and evidence), and the changes and gate runs only one of
//! them holds. Exit 1 when they differ, like `diff`.

use std::path::PathBuf;

use clap::Args;

use super::Ctx;
use crate::exit_codes;
use crate::ops::dump::diff;
use crate::render;

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// First database file
    pub a: PathBuf,
    /// Second database file
    pub b: PathBuf,
}

pub fn run(ctx: &Ctx, args: DiffArgs) -> anyhow::Result<i32> {
    let d = diff(&args.a, &args.b)?;
    ctx.emit("db diff", &d, render::dump::diff)?;
    Ok(if d.is_empty() { exit_codes::SUCCESS } else { exit_codes::CHECK_FAILED })
}
