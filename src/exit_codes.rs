//! Every exit code porttrack can return, in one place. README.md and
//! `porttrack --help` print this same table (see [`HELP_TABLE`]).

/// The command did what was asked.
pub const SUCCESS: i32 = 0;
/// A check ran and failed: stub findings remain, a gate ran and failed, a
/// merge left items in conflict, `db diff` found differences.
pub const CHECK_FAILED: i32 = 1;
/// Bad arguments or values: malformed list, unknown status, too many items,
/// missing `--reason`, an ambiguous name.
pub const USAGE: i32 = 2;
/// Something named on the command line does not exist: batch, module,
/// feature, test, evidence run, upstream commit.
pub const NOT_FOUND: i32 = 3;
/// A rule refused the change: transition table, dependency preflight,
/// missing or insufficient evidence, a stub finding. Nothing was written.
pub const REFUSED: i32 = 4;
/// The database cannot be used: missing, not a regular file, not SQLite,
/// corrupt, altered outside porttrack (schema or hash chain), read-only, or
/// written by a newer porttrack.
pub const DATABASE: i32 = 5;
/// The database stayed locked by another writer past the busy timeout.
/// Nothing was written; retrying is safe.
pub const BUSY: i32 = 6;
/// A gate or an import could not run at all (command not found, unreadable
/// input). Distinct from [`CHECK_FAILED`]: nothing was measured.
pub const COULD_NOT_RUN: i32 = 7;
/// The command did its work on part of its input and says which part it
/// left out: an import skipped files that could not be read or tokenized
/// and imported the rest.
pub const PARTIAL: i32 = 8;
/// A bug in porttrack (a panic). Please report it.
pub const INTERNAL: i32 = 101;

/// The table shown by `--help` and copied into README.md.
pub const HELP_TABLE: &str = "\
Exit codes:
  0    success
  1    a check ran and failed (stub findings remain, a gate failed, a merge left conflicts)
  2    usage error: bad arguments or values, ambiguous name
  3    not found: unknown batch, module, feature, test, evidence run or upstream commit
  4    refused by a rule (transition, dependencies, evidence, stub finding); nothing written
  5    database unusable: missing, not a regular file, not SQLite, corrupt, altered, read-only, or newer schema
  6    database busy past the timeout; nothing written, safe to retry
  7    could not run: a gate command or an import input could not be started or read
  8    partial: an import left out files it could not read or tokenize (listed) and imported the rest
  101  internal error (a bug)";
