//! `porttrack completions SHELL` and `porttrack man [-o DIR]`: shell
//! completion scripts (clap_complete) and manual pages (clap_mangen), both
//! generated from the same command tree that parses the arguments, so they
//! never drift from it.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::Error;
use crate::exit_codes;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write porttrack.1 and one page per subcommand (porttrack-batch-show.1,
    /// …) into this existing directory instead of printing porttrack.1
    #[arg(short = 'o', long = "out-dir", value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Print the completion script for `args.shell` to stdout.
pub fn completions(args: CompletionsArgs) -> anyhow::Result<i32> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "porttrack", &mut script);
    let mut out = std::io::stdout().lock();
    out.write_all(&script).and_then(|_| out.flush()).context("writing the completion script")?;
    Ok(exit_codes::SUCCESS)
}

/// Print the top-level page, or write every page into a directory.
pub fn man(args: ManArgs) -> anyhow::Result<i32> {
    let cmd = Cli::command();
    match args.out_dir {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut page).context("rendering the manual page")?;
            let mut out = std::io::stdout().lock();
            out.write_all(&page).and_then(|_| out.flush()).context("writing the manual page")?;
        }
        Some(dir) => {
            super::existing_dir(&dir)?;
            clap_mangen::generate_to(cmd, &dir).map_err(|e| Error::CouldNotRun(format!("cannot write manual pages into {}: {e}", dir.display())))?;
            eprintln!("porttrack: wrote manual pages into {}", dir.display());
        }
    }
    Ok(exit_codes::SUCCESS)
}
