//! `porttrack builtin regenerate`: rebuild `data/builtin/` from checkouts
//! of nats-server at the plan's commit and at the upstream commit the port
//! follows (see data/builtin/README.md for the exact commands).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::{existing_dir, Ctx};
use crate::builtin;
use crate::error::Error;
use crate::golang;

#[derive(Debug, Subcommand)]
pub enum BuiltinCommand {
    /// Import nats-server's server/ at the plan's commit (--go-dir) and at the
    /// upstream commit (--upstream-dir) and write the inventory, the NATS batch
    /// plan and the upstream snapshot as TSV files
    Regenerate(RegenerateArgs),
}

#[derive(Debug, Args)]
pub struct RegenerateArgs {
    /// The server/ directory of nats-server at the plan's commit (66e9bbc7f)
    #[arg(long)]
    pub go_dir: PathBuf,
    /// The server/ directory of nats-server at the upstream commit (8188ea93a)
    #[arg(long)]
    pub upstream_dir: PathBuf,
    /// Where to write the TSV files
    #[arg(long, default_value = "data/builtin")]
    pub out: PathBuf,
}

#[derive(Serialize)]
struct Regenerated {
    out: String,
    modules: usize,
    features: usize,
    tests: usize,
    links: usize,
    batches: usize,
    upstream_features: usize,
    upstream_tests: usize,
}

pub fn run(ctx: &Ctx, cmd: BuiltinCommand) -> anyhow::Result<i32> {
    let BuiltinCommand::Regenerate(args) = cmd;
    existing_dir(&args.go_dir)?;
    existing_dir(&args.upstream_dir)?;
    let inv = complete_import(&args.go_dir)?;
    let plan = builtin::nats_plan(&inv).map_err(|e| Error::usage(format!("{} does not look like nats-server {}: {e}", args.go_dir.display(), builtin::SOURCE_COMMIT)))?;
    let upstream = complete_import(&args.upstream_dir)?;
    let write_err = |e: std::io::Error| Error::CouldNotRun(format!("cannot write {}: {e}", args.out.display()));
    builtin::write(&inv, Some(&plan), &args.out).map_err(write_err)?;
    builtin::write(&upstream, None, &args.out.join(builtin::UPSTREAM_DATA_DIR)).map_err(write_err)?;
    let r = Regenerated {
        out: args.out.display().to_string(),
        modules: inv.modules.len(),
        features: inv.features.len(),
        tests: inv.tests.len(),
        links: inv.links.len(),
        batches: plan.batches.len(),
        upstream_features: upstream.features.len(),
        upstream_tests: upstream.tests.len(),
    };
    ctx.emit("builtin regenerate", &r, |r| {
        format!(
            "Wrote {}: {} modules, {} features, {} tests, {} links, {} batches; upstream snapshot: {} features, {} tests\n",
            r.out, r.modules, r.features, r.tests, r.links, r.batches, r.upstream_features, r.upstream_tests
        )
    })
}

/// Import a tree with the default rules; the built-in data must be whole,
/// so a file left out unread is an error here.
fn complete_import(dir: &std::path::Path) -> Result<crate::inventory::Inventory, Error> {
    let imported = golang::import_dir(dir, &golang::ImportOptions::default()).map_err(|e| Error::CouldNotRun(e.to_string()))?;
    match imported.skipped.first() {
        None => Ok(imported.inventory),
        Some(s) => Err(Error::CouldNotRun(format!(
            "{}: {} could not be imported ({}{}); the built-in data must hold every file",
            dir.display(),
            s.path,
            s.line.map(|l| format!("line {l}: ")).unwrap_or_default(),
            s.reason
        ))),
    }
}
