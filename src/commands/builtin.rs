//! `porttrack builtin regenerate`: rebuild `data/builtin/` from a checkout
//! of nats-server (see data/builtin/README.md for the exact command).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::{existing_dir, Ctx};
use crate::builtin;
use crate::error::Error;
use crate::golang;

#[derive(Debug, Subcommand)]
pub enum BuiltinCommand {
    /// Import DIR (nats-server's server/ at the built-in commit) and write the
    /// inventory and NATS batch plan as TSV files
    Regenerate(RegenerateArgs),
}

#[derive(Debug, Args)]
pub struct RegenerateArgs {
    /// The server/ directory of nats-server at the built-in commit
    #[arg(long)]
    pub go_dir: PathBuf,
    /// Where to write the TSV files
    #[arg(long, default_value = "data/builtin")]
    pub out: PathBuf,
}

#[derive(Serialize)]
struct Regenerated {
    out: String,
    features: usize,
    tests: usize,
    links: usize,
    batches: usize,
}

pub fn run(ctx: &Ctx, cmd: BuiltinCommand) -> anyhow::Result<i32> {
    let BuiltinCommand::Regenerate(args) = cmd;
    existing_dir(&args.go_dir)?;
    let inv = golang::import_dir(&args.go_dir).map_err(|e| Error::CouldNotRun(e.to_string()))?;
    let plan = builtin::nats_plan(&inv).map_err(|e| Error::usage(format!("{} does not look like nats-server {}: {e}", args.go_dir.display(), builtin::SOURCE_COMMIT)))?;
    builtin::write(&inv, &plan, &args.out).map_err(|e| Error::CouldNotRun(format!("cannot write {}: {e}", args.out.display())))?;
    let r = Regenerated { out: args.out.display().to_string(), features: inv.features.len(), tests: inv.tests.len(), links: inv.links.len(), batches: plan.batches.len() };
    ctx.emit("builtin regenerate", &r, |r| format!("Wrote {}: {} features, {} tests, {} links, {} batches\n", r.out, r.features, r.tests, r.links, r.batches))
}
