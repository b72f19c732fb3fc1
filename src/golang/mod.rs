//! The Go importer: walks a directory of Go source and builds an
//! [`Inventory`](crate::inventory::Inventory) by the rules in README.md
//! ("Go import rules").

pub mod extract;
pub mod lexer;
mod walk;

pub use walk::{import_dir, ImportError};
