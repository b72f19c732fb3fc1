//! The Go importer: walks a directory of Go source and builds an
//! [`Inventory`](crate::inventory::Inventory) by the rules in README.md
//! ("Go import rules").

mod body;
pub mod types;
pub mod extract;
pub mod lexer;
mod link;
pub mod resolve;
mod walk;

pub use walk::{import_dir, ImportError, ImportOptions, Imported, ScanData, SkippedFile};
