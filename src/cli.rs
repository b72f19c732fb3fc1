//! Command-line interface: global options and the command tree. Each
//! command's arguments and story live in `crate::commands::<name>`.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::commands::{self, Ctx};
use crate::error::exit_code_for;
use crate::exit_codes;

const ABOUT: &str = "Tracks a large code port in one SQLite file and proves its progress with test evidence.";

const AFTER_HELP: &str = "\
Database: --db PATH (or PORTTRACK_DB); default ./porting.db, which is created
from the built-in plan (nats-server 8188ea93a) the first time it is needed.
Items are named by ID or Go name: 1589, monitorCluster, jetStream.monitorCluster,
(*jetStream).monitorCluster, TestNRGSimple.";

#[derive(Debug, Parser)]
#[command(name = "porttrack", version, about = ABOUT, after_help = format!("{AFTER_HELP}\n\n{}", exit_codes::HELP_TABLE))]
pub struct Cli {
    /// Database file [default: ./porting.db, created from the built-in plan when missing]
    #[arg(long, global = true, env = "PORTTRACK_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Print one JSON object (with a schema_version field) instead of tables
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a database: the built-in plan, or an empty one with --empty
    Init(commands::init::InitArgs),
    /// Import a codebase's features and tests into the database
    #[command(subcommand)]
    Import(commands::import::ImportCommand),
    /// Show, list and update batches
    #[command(subcommand)]
    Batch(commands::batch::BatchCommand),
    /// Same as `batch update` (the spelling of the porting plan)
    BatchUpdate(commands::update::UpdateArgs),
    /// Show and list features (functions and methods of the source)
    #[command(subcommand)]
    Feature(commands::item::FeatureCommand),
    /// Show and list tests of the source
    #[command(subcommand)]
    Test(commands::item::TestCommand),
    /// Run the build or the tests as a gate and record the run as evidence
    #[command(subcommand)]
    Gate(commands::gate::GateCommand),
    /// Recorded gate runs (the evidence behind verified)
    #[command(subcommand)]
    Evidence(commands::evidence::EvidenceCommand),
    /// Run the gates for a batch and move what the tests prove, 15 items at a time
    Verify(commands::verify::VerifyArgs),
    /// Record which Rust code ports a feature or test (or load mapping files)
    #[command(subcommand)]
    Map(commands::map::MapCommand),
    /// Progress reports
    #[command(subcommand)]
    Report(commands::report::ReportCommand),
    /// The audit trail of status changes (all, or one batch, feature or test)
    History(commands::history::HistoryArgs),
    /// Re-check the database and every verified item's evidence (--rerun: run the evidence again)
    Audit(commands::audit::AuditArgs),
    /// Find placeholder code and tests that cannot fail (for CI)
    #[command(subcommand)]
    Stub(commands::stub::StubCommand),
    /// Maintain the built-in data (for porttrack developers)
    #[command(subcommand, hide = true)]
    Builtin(commands::builtin::BuiltinCommand),
}

/// Parse `args`, run the command, print any error once, and return the exit
/// code (see `exit_codes`).
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { exit_codes::USAGE } else { exit_codes::SUCCESS };
            let _ = e.print();
            return code;
        }
    };
    let ctx = Ctx::new(cli.db, cli.json);
    let result = match cli.command {
        Command::Init(a) => commands::init::run(&ctx, a),
        Command::Import(a) => commands::import::run(&ctx, a),
        Command::Batch(a) => commands::batch::run(&ctx, a),
        Command::Feature(a) => commands::item::run_feature(&ctx, a),
        Command::Test(a) => commands::item::run_test(&ctx, a),
        Command::Report(a) => commands::report::run(&ctx, a),
        Command::Map(a) => commands::map::run(&ctx, a),
        Command::Gate(a) => commands::gate::run(&ctx, a),
        Command::Evidence(a) => commands::evidence::run(&ctx, a),
        Command::Verify(a) => commands::verify::run(&ctx, a),
        Command::BatchUpdate(a) => commands::update::run(&ctx, a),
        Command::History(a) => commands::history::run(&ctx, a),
        Command::Audit(a) => commands::audit::run(&ctx, a),
        Command::Stub(a) => commands::stub::run(&ctx, a),
        Command::Builtin(a) => commands::builtin::run(&ctx, a),
    };
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => exit_codes::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "porttrack: error: {e:#}");
            exit_code_for(&e)
        }
    }
}

/// A reader that stopped reading (`porttrack … | head`) is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}
