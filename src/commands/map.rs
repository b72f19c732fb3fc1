//! `porttrack map`: record which Rust code ports a feature or test.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::Ctx;
use crate::db::{ItemKind, MapReport, Who};
use crate::domain::{mapping, names};
use crate::error::Error;
use crate::ops;

#[derive(Debug, Subcommand)]
pub enum MapCommand {
    /// Set a feature's Rust target, and register Rust tests written for it
    Feature(FeatureArgs),
    /// Set a test's Rust test (its name as libtest prints it)
    Test(TestArgs),
    /// Load mapping files (the TSV format of ported/mappings.md), all or nothing
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct FeatureArgs {
    /// Feature ID or Go name
    pub feature: String,
    /// PATH.rs::SYMBOL, e.g. ported/src/raft/append.rs::raft::Raft::process_append_entry
    #[arg(long, value_name = "PATH::SYMBOL")]
    pub rust: String,
    /// Rust test (libtest name) that exercises the feature; repeat for more
    #[arg(long = "test", value_name = "RUST_TEST")]
    pub tests: Vec<String>,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Test ID or name
    pub test: String,
    /// The Rust test's name as libtest prints it, e.g. batch33::test_nrg_simple
    #[arg(long, value_name = "TEST_PATH")]
    pub rust: String,
    /// File holding the Rust test
    #[arg(long, value_name = "PATH")]
    pub file: Option<String>,
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
            let (file, symbol) = mapping::split_target(&a.rust)?;
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
            if a.rust.trim().is_empty() {
                return Err(Error::usage("--rust needs the Rust test's name").into());
            }
            names::check_rust_test(&a.rust)?;
            let mut db = ctx.open_db()?;
            if let Some(file) = &a.file {
                names::check_target(file, None)?;
                ops::mapping::check_file(&ctx.project_root_for(&db)?, file)?;
            }
            let item = ops::resolve(&db, ItemKind::Test, &a.test)?;
            db.map_test(item.id, &a.rust, a.file.as_deref(), &who())?;
            let m = Mapped { kind: ItemKind::Test, id: item.id, name: item.qualified_name(), rust_file: a.file, rust_symbol: a.rust, rust_tests: Vec::new() };
            ctx.emit("map test", &m, human)
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
        out.push_str(&format!(" (Rust tests: {})", m.rust_tests.join(", ")));
    }
    out.push('\n');
    out
}
