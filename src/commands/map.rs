//! `porttrack map`: record which Rust or C# code ports a feature or test,
//! and suggest targets by the naming conventions.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::Ctx;
use crate::db::{ItemKind, MapReport, Who};
use crate::domain::{mapping, names};
use crate::error::Error;
use crate::ops;
use crate::ops::suggest::SuggestOptions;
use crate::render;
use crate::targets::Lang;

#[derive(Debug, Subcommand)]
pub enum MapCommand {
    /// Set a feature's target (Rust or C#), and register tests written for it
    Feature(FeatureArgs),
    /// Set a test's ported test (its name as the test runner reports it)
    Test(TestArgs),
    /// Load mapping files (the TSV format of ported/mappings.md), all or nothing
    Import(ImportArgs),
    /// Propose a target for each unmapped feature: the Rust or C# function the
    /// naming conventions (and `Port of …` doc comments) point at, with a
    /// confidence; --apply stores the unambiguous ones, at most 15 per call
    Suggest(SuggestArgs),
}

#[derive(Debug, Args)]
pub struct FeatureArgs {
    /// Feature ID or Go name
    pub feature: String,
    /// PATH::SYMBOL in Rust (ported/src/raft/append.rs::raft::Raft::process_append_entry)
    /// or C# (src/Raft/Raft.cs::NatsNet.Server.Raft.ProcessAppendEntry)
    #[arg(long, visible_alias = "rust", value_name = "PATH::SYMBOL")]
    pub target: String,
    /// Test (as the runner names it) that exercises the feature; repeat for more
    #[arg(long = "test", value_name = "TEST")]
    pub tests: Vec<String>,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Test ID or name
    pub test: String,
    /// The ported test's name as its runner reports it: libtest
    /// (batch33::test_nrg_simple) or a TRX testName (NatsNet.Tests.RaftTests.NRGSimple)
    #[arg(long, visible_alias = "rust", value_name = "TEST_PATH")]
    pub target: String,
    /// File holding the ported test
    #[arg(long, value_name = "PATH")]
    pub file: Option<String>,
}

#[derive(Debug, Args)]
pub struct SuggestArgs {
    /// Only features of this batch
    #[arg(long)]
    pub batch: Option<i64>,
    /// Language of the port
    #[arg(long, default_value = "rust", value_parser = parse_lang)]
    pub lang: Lang,
    /// Directory to scan, relative to the project root; repeat for more
    /// [default: porttrack.toml's target_roots]
    #[arg(long = "root", value_name = "DIR")]
    pub roots: Vec<PathBuf>,
    /// Also features already mapped, to compare the conventions with the
    /// mappings (precision and recall); mapped features are never changed
    #[arg(long)]
    pub all: bool,
    /// Ignore `Port of …` doc comments; only the naming conventions count
    #[arg(long)]
    pub names_only: bool,
    /// Store the unambiguous suggestions of unmapped features (at most 15, one transaction)
    #[arg(long)]
    pub apply: bool,
}

fn parse_lang(s: &str) -> Result<Lang, String> {
    s.parse()
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Mapping files
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Serialize)]
struct Mapped {
    kind: ItemKind,
    id: i64,
    name: String,
    rust_file: Option<String>,
    rust_symbol: String,
    rust_tests: Vec<String>,
}

pub fn run(ctx: &Ctx, cmd: MapCommand) -> anyhow::Result<i32> {
    match cmd {
        MapCommand::Feature(a) => {
            let (file, symbol) = mapping::split_target(&a.target)?;
            names::check_target(&file, symbol.as_deref())?;
            a.tests.iter().try_for_each(|t| names::check_rust_test(t))?;
            let mut db = ctx.open_db()?;
            ops::mapping::check_file(&ctx.project_root_for(&db)?, &file)?;
            let item = ops::resolve(&db, ItemKind::Feature, &a.feature)?;
            db.map_feature(item.id, &file, symbol.as_deref(), &a.tests, &who())?;
            let m = Mapped { kind: ItemKind::Feature, id: item.id, name: item.qualified_name(), rust_file: Some(file), rust_symbol: symbol.unwrap_or_default(), rust_tests: db.feature_rust_tests(item.id)? };
            ctx.emit("map feature", &m, human)
        }
        MapCommand::Test(a) => {
            if a.target.trim().is_empty() {
                return Err(Error::usage("--target needs the ported test's name").into());
            }
            names::check_rust_test(&a.target)?;
            let mut db = ctx.open_db()?;
            if let Some(file) = &a.file {
                names::check_target(file, None)?;
                ops::mapping::check_file(&ctx.project_root_for(&db)?, file)?;
            }
            let item = ops::resolve(&db, ItemKind::Test, &a.test)?;
            db.map_test(item.id, &a.target, a.file.as_deref(), &who())?;
            let m = Mapped { kind: ItemKind::Test, id: item.id, name: item.qualified_name(), rust_file: a.file, rust_symbol: a.target, rust_tests: Vec::new() };
            ctx.emit("map test", &m, human)
        }
        MapCommand::Suggest(a) => {
            let mut db = ctx.open_db()?;
            let project = ctx.project_for(&db)?;
            let roots = if a.roots.is_empty() { project.config.target_roots.iter().map(PathBuf::from).filter(|r| project.root.join(r).is_dir()).collect() } else { a.roots };
            let options = SuggestOptions { batch: a.batch, lang: a.lang, roots, all: a.all, names_only: a.names_only, apply: a.apply };
            let report = ops::suggest::suggest(&mut db, &project.root, &options)?;
            ctx.emit("map suggest", &report, render::suggest::report)
        }
        MapCommand::Import(a) => {
            let mut rows = Vec::new();
            for f in &a.files {
                let text = crate::project_files::read_named(f).map_err(|e| Error::usage(format!("mapping file {} {e}", f.display())))?;
                let source = f.display().to_string();
                rows.extend(mapping::parse(&text, &source)?.into_iter().map(|r| (source.clone(), r)));
            }
            let mut db = ctx.open_db()?;
            ops::mapping::check_row_files(&ctx.project_root_for(&db)?, &rows)?;
            let report = db.apply_mappings(&rows, &who())?;
            ctx.emit("map import", &report, |r: &MapReport| {
                format!(
                    "Mapped {} features ({} registered Rust tests) and {} tests; {} deferrals declared\n",
                    r.features, r.rust_tests, r.tests, r.deferrals
                )
            })
        }
    }
}

/// Who remaps, for the history row of a verified item that loses `verified`.
fn who() -> Who {
    Who { actor: super::update::default_actor(), at: crate::clock::now_rfc3339(), command: super::update::command_line() }
}

fn human(m: &Mapped) -> String {
    let mut out = format!("{} {} {} → {}", m.kind.as_str(), m.id, m.name, m.rust_file.as_deref().map_or(m.rust_symbol.clone(), |f| format!("{f}::{}", m.rust_symbol)));
    if !m.rust_tests.is_empty() {
        out.push_str(&format!(" (tests: {})", m.rust_tests.join(", ")));
    }
    out.push('\n');
    out
}
