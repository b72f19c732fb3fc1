//! `porttrack stub scan`: find placeholder code and tests that cannot fail.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};

use super::Ctx;
use crate::db::Database;
use crate::error::Error;
use crate::exit_codes;
use crate::render;
use crate::stubscan::{self, baseline, ScanOptions, StubSettings};

const SCAN_HELP: &str = "\
Suppress one finding with a comment on its line or the line before:
  // porttrack: allow(rust/todo-macro) why this is fine     (# in Python)
Files and directories listed in .porttrackignore files (gitignore syntax) are
skipped, as are .gitignore'd and hidden ones.
Exit: 0 no findings, 1 findings remain, 2 usage error.";

#[derive(Debug, Subcommand)]
pub enum StubCommand {
    /// Find placeholder code (todo!, NotImplementedException, …) and tests that cannot fail
    #[command(after_help = SCAN_HELP)]
    Scan(ScanArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories [default: target_roots of porttrack.toml: src, ported, tests]
    pub paths: Vec<PathBuf>,
    /// Output format (--json is the same as --format json)
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Ignore the findings recorded in this baseline file
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record every current finding in this baseline file, then exit 0 (--baseline is not applied)
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, cmd: StubCommand) -> anyhow::Result<i32> {
    match cmd {
        StubCommand::Scan(a) => scan(ctx, a),
    }
}

fn scan(ctx: &Ctx, args: ScanArgs) -> anyhow::Result<i32> {
    let cwd = std::env::current_dir().context("reading the working directory")?;
    let project = crate::config::load(&cwd)?;
    let paths = scan_paths(&cwd, &project, &args.paths)?;
    let settings = StubSettings::from_config(&project.config.stub);
    if let Some(unknown) = settings.enable.iter().find(|id| !stubscan::rules::OPT_IN.iter().any(|r| r.id == id.as_str())) {
        let known: Vec<&str> = stubscan::rules::OPT_IN.iter().map(|r| r.id).collect();
        return Err(Error::usage(format!("[stub] enable names `{unknown}`, which is not an opt-in rule (known: {})", known.join(", "))).into());
    }
    let options = ScanOptions {
        root: project.root.clone(),
        scan_root: scan_root(&project.root, &args.paths, &paths),
        paths,
        settings,
        // A baseline being written records every finding, old ones included.
        baseline: if args.write_baseline.is_some() { None } else { args.baseline.as_deref().map(baseline::read).transpose()? },
    };
    let mut report = stubscan::scan(&options);
    if let Some(db) = tracker(ctx)? {
        let targets = db.rust_targets()?;
        report.link_features(&targets);
        crate::ops::stub_findings::link_csharp_features(&mut report, &targets, &project.root);
    }
    if let Some(file) = &args.write_baseline {
        let written = report.to_baseline();
        baseline::write(file, &written)?;
        eprintln!("porttrack: wrote {} finding(s) to baseline {}", report.findings.len(), file.display());
        report.subtract(&written);
    }
    for w in &report.warnings {
        eprintln!("porttrack: warning: {}", render::escape::value(w));
    }
    let format = if ctx.json { Format::Json } else { args.format };
    let text = match format {
        Format::Human => render::stub::human(&report),
        Format::Json => render::json("stub scan", &report),
        Format::Sarif => render::sarif::sarif(&report),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|_| out.flush()).context("writing output")?;
    Ok(if report.findings.is_empty() { exit_codes::SUCCESS } else { exit_codes::CHECK_FAILED })
}

/// The paths given (relative to the working directory), or the project's
/// target roots that exist.
fn scan_paths(cwd: &Path, project: &crate::config::Project, given: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    if given.is_empty() {
        return Ok(project.config.target_roots.iter().map(|r| project.root.join(r)).filter(|p| p.exists()).collect());
    }
    given
        .iter()
        .map(|p| {
            let full = cwd.join(p);
            // Canonical, so paths under the root display relative to it.
            full.canonicalize().map_err(|e| Error::usage(format!("cannot scan {}: {e}", p.display())))
        })
        .collect()
}

/// The directory baseline paths are relative to: the project root when no
/// path is given, else the one directory given (a file's directory), or the
/// deepest directory holding every path given — all canonical, so
/// `stub scan click-8.5.1` and `stub scan .` inside it agree.
fn scan_root(project_root: &Path, given: &[PathBuf], canonical: &[PathBuf]) -> PathBuf {
    if given.is_empty() {
        return project_root.to_path_buf();
    }
    let dirs: Vec<&Path> = canonical.iter().map(|p| if p.is_dir() { p.as_path() } else { p.parent().unwrap_or(p) }).collect();
    let mut common = dirs[0].to_path_buf();
    for d in &dirs[1..] {
        while !d.starts_with(&common) {
            if !common.pop() {
                break;
            }
        }
    }
    common
}

/// The tracker database, when one was named or the default file exists. A
/// scan never creates one.
fn tracker(ctx: &Ctx) -> anyhow::Result<Option<Database>> {
    let path = ctx.db_path();
    if !path.exists() && !ctx.db_given() {
        return Ok(None);
    }
    Ok(Some(ctx.open_db()?))
}
