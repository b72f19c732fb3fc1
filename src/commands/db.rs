//! `porttrack db …`: the database file itself, across copies: merging two
//! copies by their histories (a git merge driver), installing that driver,
//! a canonical text form for review, and item-level differences.

use clap::Subcommand;

use super::Ctx;

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Merge two copies of a database by their histories (a git merge driver: %O %A %B)
    Merge(super::db_merge::MergeArgs),
    /// Make git merge porting.db with `porttrack db merge` (git config + .gitattributes)
    InstallMergeDriver(super::db_install_merge_driver::InstallArgs),
    /// Print the database as canonical, sorted lines (items, changes, gate runs) for review
    Dump(super::db_dump::DumpArgs),
    /// Item-level differences between two database files
    Diff(super::db_diff::DiffArgs),
    /// Fold the write-ahead log into the database file (before `git add porting.db`)
    Checkpoint,
}

pub fn run(ctx: &Ctx, cmd: DbCommand) -> anyhow::Result<i32> {
    match cmd {
        DbCommand::Merge(a) => super::db_merge::run(ctx, a),
        DbCommand::InstallMergeDriver(a) => super::db_install_merge_driver::run(ctx, a),
        DbCommand::Dump(a) => super::db_dump::run(ctx, a),
        DbCommand::Diff(a) => super::db_diff::run(ctx, a),
        DbCommand::Checkpoint => super::db_checkpoint::run(ctx),
    }
}
