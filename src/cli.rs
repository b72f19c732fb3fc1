//! Command-line interface: global options and the command tree. Each
//! command's arguments and story live in `crate::commands::<name>`.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::commands::{self, Ctx};
use crate::error::exit_code_for;
use crate::exit_codes;
use crate::render::term::ColorChoice;

const ABOUT: &str = "Tracks a large code port in one SQLite file and proves its progress with test evidence.";

const AFTER_HELP: &str = "\
Database: --db PATH (or PORTTRACK_DB); default ./porting.db, which is created
from the built-in plan (nats-server 66e9bbc7f, upstream drift to 8188ea93a) the
first time it is needed.
Items are named by ID or Go name: 1578, monitorCluster, jetStream.monitorCluster,
(*jetStream).monitorCluster, TestNRGSimple.";

#[derive(Debug, Parser)]
#[command(name = "porttrack", version, long_version = crate::builtin::LONG_VERSION.as_str(), about = ABOUT, after_help = format!("{AFTER_HELP}\n\n{}", exit_codes::HELP_TABLE))]
pub struct Cli {
    /// Database file [default: ./porting.db, created from the built-in plan when missing]
    #[arg(long, global = true, env = "PORTTRACK_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Print one JSON object (with a schema_version field) instead of tables
    #[arg(long, global = true)]
    pub json: bool,

    /// Colour statuses: auto (on a terminal, unless NO_COLOR is set), always, never
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

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
    /// Show and list modules (directories of the source, items like features and tests)
    #[command(subcommand)]
    Module(commands::module::ModuleCommand),
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
    /// Upstream drift: what changed in the Go source between the plan's commit and newer ones
    #[command(subcommand)]
    Upstream(commands::upstream::UpstreamCommand),
    /// Progress reports
    #[command(subcommand)]
    Report(commands::report::ReportCommand),
    /// The audit trail of status changes (all, or one batch, module, feature or test)
    History(commands::history::HistoryArgs),
    /// Re-check the database and every verified item's evidence (--rerun: run the evidence again)
    Audit(commands::audit::AuditArgs),
    /// The database file across copies: merge (a git merge driver), dump, diff
    #[command(subcommand)]
    Db(commands::db::DbCommand),
    /// Items a merge of two copies left in conflict, with each side's claim
    Conflicts(commands::conflicts::ConflictsArgs),
    /// Find placeholder code and tests that cannot fail (for CI)
    #[command(subcommand)]
    Stub(commands::stub::StubCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions(commands::completions::CompletionsArgs),
    /// Print the manual page, or write one per command with -o DIR
    Man(commands::completions::ManArgs),
    /// Maintain the built-in data (for porttrack developers)
    #[command(subcommand, hide = true)]
    Builtin(commands::builtin::BuiltinCommand),
}

/// Parse `args`, run the command, print any error once, and return the exit
/// code (see `exit_codes`).
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let args: Vec<OsString> = args.into_iter().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { exit_codes::USAGE } else { exit_codes::SUCCESS };
            if code != exit_codes::SUCCESS && asks_for_json(&args) {
                let message = e.kind().to_string();
                let detail = e.to_string();
                let first = detail.lines().next().map(|l| l.trim_start_matches("error: ").to_string()).unwrap_or(message);
                let _ = std::io::stdout().write_all(crate::error::json_error("usage", &first).as_bytes());
            } else {
                let _ = e.print();
            }
            return code;
        }
    };
    crate::render::term::init(cli.color);
    let ctx = Ctx::new(cli.db, cli.json);
    let result = match cli.command {
        Command::Init(a) => commands::init::run(&ctx, a),
        Command::Import(a) => commands::import::run(&ctx, a),
        Command::Batch(a) => commands::batch::run(&ctx, a),
        Command::Module(a) => commands::module::run(&ctx, a),
        Command::Feature(a) => commands::item::run_feature(&ctx, a),
        Command::Test(a) => commands::item::run_test(&ctx, a),
        Command::Report(a) => commands::report::run(&ctx, a),
        Command::Upstream(a) => commands::upstream::run(&ctx, a),
        Command::Map(a) => commands::map::run(&ctx, a),
        Command::Gate(a) => commands::gate::run(&ctx, a),
        Command::Evidence(a) => commands::evidence::run(&ctx, a),
        Command::Verify(a) => commands::verify::run(&ctx, a),
        Command::BatchUpdate(a) => commands::update::run(&ctx, a),
        Command::History(a) => commands::history::run(&ctx, a),
        Command::Audit(a) => commands::audit::run(&ctx, a),
        Command::Stub(a) => commands::stub::run(&ctx, a),
        Command::Db(a) => commands::db::run(&ctx, a),
        Command::Conflicts(a) => commands::conflicts::run(&ctx, a),
        Command::Builtin(a) => commands::builtin::run(&ctx, a),
        Command::Completions(a) => commands::completions::completions(a),
        Command::Man(a) => commands::completions::man(a),
    };
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => exit_codes::SUCCESS,
        Err(e) => {
            let message = format!("{e:#}");
            if ctx.json && !ctx.emitted() {
                // Scripts read one JSON object from stdout, errors included
                // (a command that printed its result already said why);
                // the person running the script still sees the line below.
                let _ = std::io::stdout().write_all(crate::error::json_error(crate::error::kind_for(&e), &message).as_bytes());
            }
            let _ = writeln!(std::io::stderr(), "porttrack: error: {}", crate::render::escape::text(&message));
            exit_code_for(&e)
        }
    }
}

/// `--json` among the global options (before a `--`), for errors found
/// while the arguments themselves do not parse.
fn asks_for_json(args: &[OsString]) -> bool {
    args.iter().skip(1).take_while(|a| *a != "--").any(|a| a == "--json")
}

/// A reader that stopped reading (`porttrack … | head`) is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}
