//! porttrack: tracks a large code port in one SQLite file and proves its
//! progress with test evidence.
//!
//! Layout: `cli` and `commands` parse arguments and tell each command's
//! story; `ops` are the operations that return data; `domain` holds the
//! rules; `db` is the only module that speaks SQL; `render` turns data into
//! tables or JSON; `golang` imports Go source; `builtin` is the compiled-in
//! NATS inventory and plan.

pub mod builtin;
pub mod clock;
pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod exit_codes;
pub mod gate;
pub mod git;
pub mod golang;
pub mod inventory;
pub mod ops;
pub mod project_files;
pub mod render;
pub mod stubscan;
pub mod targets;
